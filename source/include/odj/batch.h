/*
 * samba-odj: provisioning many machines (batch files, pipelined
 * provisioning over one LDAP session per DC, reports).
 */

#ifndef _ODJ_BATCH_H_
#define _ODJ_BATCH_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include "odj/dc.h"

/**
 * @defgroup odj_batch Provisioning many machines
 * @{
 */

/** Requests in flight when the caller does not say. */
#define ODJ_BATCH_DEFAULT_PARALLEL 8
/** More gains nothing on one LDAP connection per DC. */
#define ODJ_BATCH_MAX_PARALLEL 256

/** One machine of a batch file; NULL fields take the batch's defaults. */
struct odj_batch_entry {
	unsigned int line;		/* in the batch file, for messages */
	const char *name;
	const char *ou;
	const char *netbios;		/* JOIN_PROVIDER2 */
	const char *site;		/* JOIN_PROVIDER2 */
	bool site_persistent;		/* the site came from a psite column */
	const char *primary_dns;	/* JOIN_PROVIDER2 */
};

/**
 * @brief Parse a batch file: one machine per line, or CSV.
 *
 * Lines are "NAME" or "NAME,OU,NETBIOS,SITE,PRIMARYDNS" (trailing
 * columns may be left out, empty ones take the defaults).  A first line
 * with a "name" column is a header naming the columns, in any order:
 * name, ou, netbios, site (= psite), psite, dsite, primarydns; the site
 * is persistent (djoin /PSITE) unless the column is dsite.  Fields may
 * be double-quoted as in
 * RFC 4180 (an OU DN holds commas); blank lines and lines starting
 * with # are ignored.  A malformed line fails the whole file, naming
 * the line; whether a name is a valid computer name is left to
 * provisioning, so a bad name fails only its machine.
 *
 * @param[in] name  What to call the text in messages (its path).
 */
NTSTATUS odj_batch_parse(TALLOC_CTX *mem_ctx,
			 DATA_BLOB text,
			 const char *name,
			 struct odj_batch_entry **entries,
			 size_t *num_entries,
			 char **why);

/** @brief Read and parse a batch file ("-": standard input). */
NTSTATUS odj_batch_load(TALLOC_CTX *mem_ctx,
			const char *path,
			struct odj_batch_entry **entries,
			size_t *num_entries,
			char **why);

enum odj_batch_status {
	ODJ_BATCH_PENDING = 0,		/* not started: the batch was stopped */
	ODJ_BATCH_CREATED,		/* new account, new blob */
	ODJ_BATCH_REUSED,		/* existing account reset, new blob */
	ODJ_BATCH_SKIPPED,		/* blob and account already match */
	ODJ_BATCH_FAILED,
};

/** @brief "created", "reused", "skipped", "failed", "pending". */
const char *odj_batch_status_name(enum odj_batch_status s);

/** What became of one machine. */
struct odj_batch_result {
	const struct odj_batch_entry *entry;
	enum odj_batch_status status;
	NTSTATUS error;			/* FAILED: why, as a status */
	const char *message;		/* FAILED: why, for a human */
	const char *account_dn;
	const char *sid;		/* the account's objectSid */
	uint32_t rid;
	const char *dc_name;		/* the DC that made or checked it */
	/* set when the file is in place (also for some failures) */
	const char *blob_path;
	const char *unattend_path;
	/* the provisioning's warnings (odj_provision_result), or NULL */
	const char **warnings;
	/* rodc=: the RODCs that may cache its password, or NULL */
	const char **rodcs;
};

/** How to run a batch. */
struct odj_batch_options {
	/* connected DCs of one domain; machines are spread over them */
	struct odj_dc * const *dcs;
	size_t num_dcs;
	const char *savedir;		/* blobs go to SAVEDIR/NAME.odj */
	const char *unattend_dir;	/* NULL, or UNATTEND/NAME.xml */
	unsigned int parallel;		/* 0: ODJ_BATCH_DEFAULT_PARALLEL */
	/*
	 * What every machine gets (machine_name is ignored; the batch
	 * file's columns override ou and the JOIN_PROVIDER2 fields).
	 * With reuse an existing account is reset and its blob replaced
	 * instead of being skipped or refused.  With defaults.extensions each
	 * machine gets its own certificate.
	 */
	struct odj_provision_request defaults;
	/* called after each machine, from the event loop */
	void (*progress)(const struct odj_batch_result *result,
			 size_t done, size_t total, void *private_data);
	void *private_data;
};

/**
 * @brief Provision the machines of a batch, pipelined.
 *
 * Keeps up to @p o->parallel odj_provision_send() requests in flight,
 * handed round-robin to the DCs.  Each machine gets the account and blob
 * a single provisioning would give it; its blob is written with
 * odj_file_save() (0600, atomic) before the machine counts as done, and
 * an account created for a blob that cannot be written is deleted again.
 *
 * A machine whose blob exists in @p o->savedir and whose account on the
 * DC has the objectSid the blob's JOIN_PROVIDER3 part names is skipped,
 * with no write on the DC: re-running a batch resumes it.  The password
 * inside the blob cannot be checked over LDAP; the SID is the contract.
 * A failing machine does not stop the others.
 */
struct tevent_req *odj_batch_send(
	TALLOC_CTX *mem_ctx,
	struct tevent_context *ev,
	const struct odj_batch_options *o,
	const struct odj_batch_entry *entries,
	size_t num_entries);

/**
 * @brief Stop a batch cleanly: launch no more machines, let the ones in
 * flight finish (or roll back), then complete the request.
 *
 * @return How many machines are still in flight.
 */
size_t odj_batch_stop(struct tevent_req *req);

/**
 * @brief The results of a batch, one per entry, in the file's order.
 *
 * @return NT_STATUS_OK when every machine was attempted (some may have
 * failed: see the results), NT_STATUS_CANCELLED when odj_batch_stop()
 * left some pending; results are returned in both cases.
 */
NTSTATUS odj_batch_recv(struct tevent_req *req,
			TALLOC_CTX *mem_ctx,
			struct odj_batch_result **results,
			size_t *num_results,
			char **why);

/** Counts of a batch's results by status. */
struct odj_batch_summary {
	size_t total;
	size_t created;
	size_t reused;
	size_t skipped;
	size_t failed;
	size_t pending;
};

void odj_batch_summarize(const struct odj_batch_result *results,
			 size_t num_results,
			 struct odj_batch_summary *summary);

/** What a batch report says about the run as a whole. */
struct odj_batch_run {
	const char *domain;
	const char *batch_file;
	const char *savedir;
	bool interrupted;
	double seconds;			/* wall clock */
};

/**
 * @brief The JSON report of a batch: the run, the counts and, per
 * machine, status, DN, SID, RID, DC, blob path and error.
 */
NTSTATUS odj_batch_report_json(TALLOC_CTX *mem_ctx,
			       const struct odj_batch_run *run,
			       const struct odj_batch_result *results,
			       size_t num_results,
			       char **json);

struct json_t;

/** @brief The same report as a jansson object (the caller's to free). */
struct json_t *odj_batch_report_tree(const struct odj_batch_run *run,
				     const struct odj_batch_result *results,
				     size_t num_results);

/**
 * @brief odj_batch_report_json() written to @p path, atomically, mode
 * 0600 (a report lists every account it made).
 */
NTSTATUS odj_batch_report_save(TALLOC_CTX *mem_ctx,
			       const char *path,
			       const struct odj_batch_run *run,
			       const struct odj_batch_result *results,
			       size_t num_results,
			       char **why);

/** @} */

#endif /* _ODJ_BATCH_H_ */
