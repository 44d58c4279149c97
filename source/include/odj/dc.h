/*
 * samba-odj: the DC side: a connection to a domain controller (LDAP,
 * signed and sealed), and provisioning a machine on it.  Anything that
 * talks to a DC is a tevent _send/_recv pair; the outermost calls have
 * a synchronous form.
 */

#ifndef _ODJ_DC_H_
#define _ODJ_DC_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include "odj/codec.h"

struct tevent_context;
struct tevent_req;
struct loadparm_context;
struct cli_credentials;
struct odj_dc;
struct odj_extensions;
struct odj_rodc_policy;		/* odj/rodc.h */

/**
 * @defgroup odj_dc The domain controller a provisioning talks to
 * @{
 */

/** Which DC to talk to, and how. */
struct odj_dc_spec {
	const char *domain;		/* DNS (or, with dcname, NetBIOS) */
	const char *dcname;		/* NULL: from the SRV records */
	const char *site;		/* the client's: its DCs first */
	bool allow_read_only;		/* an RODC will do (no writes) */
	/*
	 * The credentials cache the credentials use (--use-krb5-ccache),
	 * if any: libsmbclient (the GPO fetch) takes Kerberos tickets
	 * from the KRB5CCNAME environment only, and the library points
	 * it there for the time it needs them.
	 */
	const char *krb5_ccache;
};

/**
 * @brief Connect to a DC of @p spec->domain and learn about it.
 *
 * Uses @p spec->dcname if given, else the DC the locator finds as
 * Windows' and Samba's do: the SRV records of @p spec->site first, then
 * the domain's, by priority and weight (RFC 2782), trying the next when
 * one does not answer and, unless @p spec->allow_read_only, skipping
 * read-only DCs (RODCs; the netlogon reply's DS_WRITABLE_FLAG).  A
 * dcname= that names a read-only DC fails (NT_STATUS_INVALID_SERVER_STATE)
 * before anything is written.  odj_dc_info()->choice says which DC and
 * why.  The LDAP connection binds with @p creds (Kerberos or NTLM, as
 * the credentials say) and is signed and sealed.  Connecting is
 * synchronous (ldb's ldap backend binds inside ldb_connect());
 * everything done over the connection afterwards is asynchronous on
 * @p ev.
 */
NTSTATUS odj_dc_connect(TALLOC_CTX *mem_ctx,
			struct tevent_context *ev,
			struct loadparm_context *lp_ctx,
			struct cli_credentials *creds,
			const struct odj_dc_spec *spec,
			struct odj_dc **dc,
			char **why);

const struct odj_dc_info *odj_dc_info(const struct odj_dc *dc);

/** @} */

/**
 * @defgroup odj_provision Creating an account and its blob on a DC
 * @{
 */

struct odj_extensions;

/** What to provision: one machine. */
struct odj_provision_request {
	const char *machine_name;	/* NetBIOS name, 1-15 characters */
	const char *ou;			/* DN; NULL: the Computers container */
	/*
	 * Reset an existing account, if the reuse guard allows it: the
	 * caller created it (mS-DS-CreatorSID) or owns it, or its owner
	 * is Domain Admins, Enterprise Admins or BUILTIN\Administrators
	 * (the rules of KB5020276, CVE-2022-38042).  Otherwise
	 * NT_STATUS_ACCESS_DENIED, naming NERR_AccountReuseBlockedByPolicy,
	 * and the account is untouched.
	 */
	bool reuse;
	/* reuse even where the guard refuses, with a warning in the result */
	bool reuse_unsafe;
	/*
	 * Make Domain Admins the owner of the account (a modify of its
	 * nTSecurityDescriptor under the SD flags control, owner only), so
	 * that the provisioning account keeps no owner rights.  If the DC
	 * refuses, a new account is deleted again and an existing one is
	 * left as it was.
	 */
	bool owner_domain_admins;
	bool defpwd;			/* password = lower case name */
	bool nosearch;			/* skip the conflict search */
	bool downlevel;			/* recorded in Options only */
	struct odj_jp2 jp2;
	/*
	 * The 2012 extensions from odj_extensions_prepare(): this machine's
	 * parts are made once its account exists, so that its certificate
	 * carries the account's SID; a failure then deletes the account.
	 */
	const struct odj_extensions *extensions;
	/*
	 * rodc=: once the account exists (before a reused one's password
	 * is reset), allow its password on these RODCs; an account their
	 * msDS-NeverRevealGroup denies (through its groups too) fails
	 * with NT_STATUS_ACCESS_DENIED, and a new one is deleted again.
	 */
	const struct odj_rodc_policy *rodc;
	/*
	 * Where the blob goes before the request completes: @p savefile
	 * (odj_file_save(): 0600, atomic, an existing file only with
	 * @p overwrite), else @p deliver (e.g. to print it).  If that
	 * fails, an account this request created is deleted again: there
	 * is no account without its blob.  Neither: the caller takes the
	 * blob from the result, and the rule with it.
	 */
	const char *savefile;
	bool overwrite;
	NTSTATUS (*deliver)(DATA_BLOB ndr, void *private_data, char **why);
	void *deliver_data;
};

/**
 * @brief Check what can be checked of @p r before the DC is asked: the
 * machine name (odj_machine_name_check()) and that the savefile can be
 * written.  odj_provision_send() checks the same; a caller checks first
 * to fail before it connects.
 */
NTSTATUS odj_provision_check(TALLOC_CTX *mem_ctx,
			     const struct odj_provision_request *r,
			     char **why);

/** What provisioning made. */
struct odj_provision_result {
	struct odj_provision_data *pd;
	DATA_BLOB ndr;			/* pd encoded, wiped when freed */
	const char *account_dn;
	const char *sam_account_name;
	struct ODJ_SID *machine_sid;
	uint32_t rid;
	struct GUID object_guid;
	bool created;			/* false: an existing account reused */
	/*
	 * What the caller should know though nothing failed (reuse_unsafe
	 * overrode the guard; the account reused is in another OU than
	 * the one asked for): one line each, NULL-terminated, or NULL.
	 */
	const char **warnings;
	/*
	 * rodc=: the RODCs (dNSHostName) that may cache its password now,
	 * where it must be pre-populated; NULL-terminated, or NULL
	 */
	const char **rodcs;
};

/**
 * @brief Create (or with reuse, reset) a computer account and compose
 * its provisioning data.
 *
 * Fails with NT_STATUS_USER_EXISTS, leaving the account untouched, when
 * the account exists and @p r->reuse is false.  An account this request
 * created is deleted again if a later step fails, saving or delivering
 * the blob included.
 */
struct tevent_req *odj_provision_send(
	TALLOC_CTX *mem_ctx,
	struct tevent_context *ev,
	struct odj_dc *dc,
	const struct odj_provision_request *r);

NTSTATUS odj_provision_recv(struct tevent_req *req,
			    TALLOC_CTX *mem_ctx,
			    struct odj_provision_result **result,
			    char **why);

/** @brief Synchronous odj_provision_send()/odj_provision_recv(). */
NTSTATUS odj_provision(TALLOC_CTX *mem_ctx,
		       struct odj_dc *dc,
		       const struct odj_provision_request *r,
		       struct odj_provision_result **result,
		       char **why);

/**
 * @brief The owner of a self-relative security descriptor, as
 * nTSecurityDescriptor holds it ([MS-DTYP] 2.4.6).
 *
 * NT_STATUS_INVALID_SECURITY_DESCR (with a message) for bytes that are
 * not one, NT_STATUS_NOT_FOUND for one without an owner.
 */
NTSTATUS odj_sd_owner(TALLOC_CTX *mem_ctx,
		      DATA_BLOB sd,
		      struct ODJ_SID **owner,
		      char **why);

/**
 * @brief A self-relative security descriptor that holds only @p owner:
 * what a modify of nTSecurityDescriptor under the SD flags control
 * (OWNER_SECURITY_INFORMATION) writes.
 */
NTSTATUS odj_sd_owner_only(TALLOC_CTX *mem_ctx,
			   const struct ODJ_SID *owner,
			   DATA_BLOB *sd);

/** @brief Delete an account (by DN). */
NTSTATUS odj_account_delete(TALLOC_CTX *mem_ctx,
			    struct odj_dc *dc,
			    const char *dn,
			    char **why);

/** @} */

#endif /* _ODJ_DC_H_ */
