/*
 * samba-odj: branch offices whose only DC is read-only (an RODC).
 *
 * A machine for such a branch can log on there with the WAN down only if
 * the RODC may cache its password (the RODC's Password Replication
 * Policy, PRP) and already does.  Provisioning allows it (rodc=, the
 * policy below); pre-population caches it: on a Samba RODC with
 * odj_rodc_preload_send() (odj rodc-preload), on a Windows one with
 * repadmin /rodcpwdrepl.
 */

#ifndef _ODJ_RODC_H_
#define _ODJ_RODC_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include "odj/dc.h"

struct tevent_context;
struct tevent_req;
struct json_t;

/**
 * @defgroup odj_rodc The RODCs a provisioning allows machines on (rodc=)
 * @{
 */

struct odj_rodc_sids;

/** An RODC named by rodc=, as its computer object says. */
struct odj_rodc {
	const char *name;		/* dNSHostName: "rodc1.odj.test" */
	const char *netbios_name;	/* sAMAccountName without "$" */
	const char *dn;			/* its computer object */
	const char *site;		/* its server object's site */
	bool windows;			/* operatingSystem "Windows ..." */
	struct odj_rodc_sids *sids;	/* its PRP, for the checks */
};

/** The RODCs a provisioning allows its machines' passwords on. */
struct odj_rodc_policy {
	struct odj_rodc *rodcs;
	size_t num_rodcs;
	/*
	 * rodc_group=: machines join this group, which the RODCs' PRP
	 * allows; NULL: each machine goes into each RODC's own
	 * msDS-RevealOnDemandGroup
	 */
	const char *group_dn;
};

/**
 * @brief Read and check the RODCs of @p rodcs ("rodc1,rodc2": NetBIOS or
 * DNS names) and the group @p group (NULL, a name or a DN), before any
 * write.
 *
 * Each must be a read-only DC: its computer account has
 * UF_PARTIAL_SECRETS_ACCOUNT and its NTDS Settings msDS-isRODC TRUE; a
 * writable DC is refused (NT_STATUS_INVALID_SERVER_STATE), an unknown
 * name too (NT_STATUS_NOT_FOUND).  A group must be allowed by every
 * RODC's msDS-RevealOnDemandGroup and denied by none's
 * msDS-NeverRevealGroup (directly or nested), else
 * NT_STATUS_ACCESS_DENIED.
 */
NTSTATUS odj_rodc_policy_prepare(TALLOC_CTX *mem_ctx,
				 struct odj_dc *dc,
				 const char *rodcs,
				 const char *group,
				 struct odj_rodc_policy **policy,
				 char **why);

/** @} */

/**
 * @defgroup odj_rodc_preload Caching machines' passwords on a Samba RODC
 *
 * What `samba-tool rodc preload` does, for many machines over one
 * connection: on the RODC, for each machine, the DRS extended operation
 * EXOP_REPL_SECRET ([MS-DRSR] 4.1.10.2.8) against a writable DC, and the
 * reply committed into the RODC's own database.  That needs Samba's
 * replication code, which only python3-samba offers: the work is done by
 * the helper odj-rodc-preload (source/rodc/), which this drives.  It
 * authenticates as the RODC's own machine account, so that the writable
 * DC applies the RODC's PRP (an administrator would bypass it).
 * @{
 */

enum odj_preload_status {
	ODJ_PRELOAD_PENDING = 0,	/* not started (stopped, an error) */
	ODJ_PRELOAD_CACHED,		/* its password is cached now */
	ODJ_PRELOAD_SKIPPED,		/* it was already (no force) */
	ODJ_PRELOAD_DENIED,		/* its PRP does not allow it */
	ODJ_PRELOAD_FAILED,
};

/** @brief "cached", "skipped", "denied", "failed", "pending". */
const char *odj_preload_status_name(enum odj_preload_status s);

/** One machine to pre-populate, and what became of it. */
struct odj_preload_machine {
	const char *name;		/* NetBIOS name, without "$" */
	const char *sid;		/* the blob's account SID, or NULL */
	enum odj_preload_status status;
	const char *dn;			/* on the writable DC */
	const char *error;		/* WERR_DS_DRA_SECRETS_DENIED... */
	const char *message;
};

/**
 * @brief The machines of the blobs (*.odj) in @p dir: name and account
 * SID (JOIN_PROVIDER3), in name order.  A file that is not a blob fails
 * all (NT_STATUS_INVALID_PARAMETER, naming it).
 */
NTSTATUS odj_preload_from_savedir(TALLOC_CTX *mem_ctx,
				  const char *dir,
				  struct odj_preload_machine **machines,
				  size_t *num,
				  char **why);

/**
 * @brief The machines of a provision batch report (odj provision
 * batch= report=FILE) that have an account: status created, reused or
 * skipped.  @p left_out counts the others (failed, not started).
 */
NTSTATUS odj_preload_from_report(TALLOC_CTX *mem_ctx,
				 const char *path,
				 struct odj_preload_machine **machines,
				 size_t *num,
				 size_t *left_out,
				 char **why);

/** How to run the helper. */
struct odj_preload_options {
	const char *helper;		/* path of odj-rodc-preload */
	const char *smbconf;		/* the RODC's */
	const char *dcname;		/* NULL: its replication partner */
	bool force;			/* re-request cached ones too */
	int debuglevel;			/* -1: none given */
	/* after each machine, from the event loop */
	void (*progress)(const struct odj_preload_machine *m, size_t done,
			 size_t total, void *private_data);
	void *private_data;
};

/** What a run says about itself. */
struct odj_preload_run {
	const char *rodc;		/* this RODC's dNSHostName */
	const char *dc;			/* the writable DC asked */
	const char *choice;		/* why that DC */
	const char *account;		/* authenticated as ("RODC1$") */
	bool interrupted;
	double seconds;
};

/**
 * @brief Pre-populate @p machines (updated in place, in order; the
 * strings of the results on @p mem_ctx) on the RODC of @p o->smbconf.
 *
 * Machines whose password the RODC holds already are skipped unless
 * @p o->force: running the same list again resumes it.  A machine the
 * PRP denies, or that has no account, fails alone.
 */
struct tevent_req *odj_preload_send(TALLOC_CTX *mem_ctx,
				    struct tevent_context *ev,
				    const struct odj_preload_options *o,
				    struct odj_preload_machine *machines,
				    size_t num);

/**
 * @brief Stop cleanly: the helper finishes the machine in hand and
 * starts no other; the rest stay pending.
 */
void odj_preload_stop(struct tevent_req *req);

/**
 * @brief NT_STATUS_OK when every machine was attempted (see each one's
 * status), NT_STATUS_CANCELLED after odj_preload_stop(); other errors
 * (the helper could not start, this is no RODC, the DC did not answer)
 * with @p why.  @p run is filled in every case the helper started.
 */
NTSTATUS odj_preload_recv(struct tevent_req *req,
			  TALLOC_CTX *mem_ctx,
			  struct odj_preload_run *run,
			  char **why);

/** Counts by status. */
struct odj_preload_summary {
	size_t total;
	size_t cached;
	size_t skipped;
	size_t denied;
	size_t failed;
	size_t pending;
};

void odj_preload_summarize(const struct odj_preload_machine *machines,
			   size_t num,
			   struct odj_preload_summary *summary);

/** @brief The run and its machines as JSON (the caller's to free). */
struct json_t *odj_preload_report_tree(const struct odj_preload_run *run,
				       const struct odj_preload_machine *m,
				       size_t num);

/** @brief The same, written to @p path atomically (0600). */
NTSTATUS odj_preload_report_save(TALLOC_CTX *mem_ctx,
				 const char *path,
				 const struct odj_preload_run *run,
				 const struct odj_preload_machine *m,
				 size_t num,
				 char **why);

/** @} */

#endif /* _ODJ_RODC_H_ */
