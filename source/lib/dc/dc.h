/*
 * samba-odj: the DC layer, internal: the connection's parts, LDAP as
 * tevent requests (ldap.c), and what the extension code shares.
 */

#ifndef _ODJ_DC_PRIVATE_H_
#define _ODJ_DC_PRIVATE_H_

#include "codec/codec.h"
#include "odj/dc.h"
#include "odj/batch.h"
#include "odj/extensions.h"
#include "odj/lifecycle.h"
#include "odj/rodc.h"

#include <ldb.h>
#include <tevent.h>

/* connect.c: the parts of a connection */
struct ldb_context *odj_dc_ldb(const struct odj_dc *dc);
struct tevent_context *odj_dc_ev(const struct odj_dc *dc);
const char *odj_dc_krb5_ccache(const struct odj_dc *dc);
/* the smb.conf the connection was made with (the ldb's "loadparm") */
struct loadparm_context *odj_dc_lp_ctx(const struct odj_dc *dc);

/*
 * locator.c: the DCs of a domain, in the order a client tries them: the
 * SRV records of @p site (NULL: none) first, then the domain's; by
 * priority, and by weight at random within a priority (RFC 2782).
 */
struct odj_dc_candidate {
	const char *name;
	uint16_t priority;
	uint16_t weight;
	const char *source;		/* "site Branch's SRV record" */
};

NTSTATUS odj_locate_dcs(TALLOC_CTX *mem_ctx,
			const char *domain,
			const char *site,
			struct odj_dc_candidate **candidates,
			size_t *num,
			char **why);
/* RFC 2782 order of @p c, with @p rnd as the random source */
void odj_srv_order(struct odj_dc_candidate *c, size_t n,
		   uint32_t (*rnd)(void *), void *rnd_data);

/*
 * ldap.c: asynchronous LDAP operations over an ldb connection.
 */

/* One mapping from LDAP result codes to NTSTATUS, used everywhere. */
NTSTATUS odj_ldb_error_to_ntstatus(int ldb_err);

struct tevent_req *odj_ldb_search_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct ldb_context *ldb,
				       struct ldb_dn *base,
				       enum ldb_scope scope,
				       const char * const *attrs,
				       const char *filter);
/* The same with LDAP controls (an array ending in NULL, or NULL). */
struct tevent_req *odj_ldb_search_ctrl_send(TALLOC_CTX *mem_ctx,
					    struct tevent_context *ev,
					    struct ldb_context *ldb,
					    struct ldb_dn *base,
					    enum ldb_scope scope,
					    const char * const *attrs,
					    const char *filter,
					    struct ldb_control **controls);
struct tevent_req *odj_ldb_modify_ctrl_send(TALLOC_CTX *mem_ctx,
					    struct tevent_context *ev,
					    struct ldb_context *ldb,
					    const struct ldb_message *msg,
					    struct ldb_control **controls);
struct tevent_req *odj_ldb_add_send(TALLOC_CTX *mem_ctx,
				    struct tevent_context *ev,
				    struct ldb_context *ldb,
				    const struct ldb_message *msg);
struct tevent_req *odj_ldb_modify_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct ldb_context *ldb,
				       const struct ldb_message *msg);
struct tevent_req *odj_ldb_delete_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct ldb_context *ldb,
				       struct ldb_dn *dn);

/*
 * Result of any of the above: the entries of a search (NULL for the
 * others is fine), the LDAP result code and the server's message.
 */
NTSTATUS odj_ldb_recv(struct tevent_req *req,
		      TALLOC_CTX *mem_ctx,
		      struct ldb_result **res,
		      int *ldb_err,
		      char **ldb_msg);

/*
 * The same, waiting on @p ev: a search's entries; a search that must
 * find exactly one (NT_STATUS_NOT_FOUND otherwise); a delete.  Failures
 * say what failed in @p why.
 */
NTSTATUS odj_ldb_search_sync(TALLOC_CTX *mem_ctx,
			     struct tevent_context *ev,
			     struct ldb_context *ldb,
			     struct ldb_dn *base,
			     enum ldb_scope scope,
			     const char * const *attrs,
			     const char *filter,
			     struct ldb_result **res,
			     char **why);
NTSTATUS odj_ldb_search_one(TALLOC_CTX *mem_ctx,
			    struct tevent_context *ev,
			    struct ldb_context *ldb,
			    struct ldb_dn *base,
			    enum ldb_scope scope,
			    const char * const *attrs,
			    const char *filter,
			    struct ldb_message **msg,
			    char **why);
NTSTATUS odj_ldb_delete_sync(TALLOC_CTX *mem_ctx,
			     struct tevent_context *ev,
			     struct ldb_context *ldb,
			     struct ldb_dn *dn,
			     char **why);

/*
 * sd.c: the SD flags control ([MS-ADTS] 3.1.1.3.4.1.11): which parts of
 * nTSecurityDescriptor a search returns or a modify writes.  A modify
 * must make it critical: a DC that ignored it would take an owner-only
 * descriptor for the whole one.
 */
#define ODJ_SECINFO_OWNER 0x1
struct ldb_control **odj_sd_flags_controls(TALLOC_CTX *mem_ctx,
					   uint32_t secinfo,
					   bool critical);

/*
 * reuse.c: the account-reuse guard of KB5020276 (CVE-2022-38042).
 */

/* NERR_AccountReuseBlockedByPolicy */
#define ODJ_NERR_ACCOUNT_REUSE_BLOCKED 0xAAC

struct odj_reuse_verdict {
	bool allowed;
	const char *because;		/* allowed: which rule */
	char *facts;			/* refused: owner, creator, caller */
	char *refusal;			/* refused: the whole message */
};

/*
 * Whether the caller may reset @p account, an entry read with its
 * nTSecurityDescriptor (under the SD flags control, owner only) and
 * mS-DS-CreatorSID.  Who the caller is, and the forest root's SID, are
 * looked up once per connection.  A verdict either way; an error only
 * for no memory.
 */
struct tevent_req *odj_reuse_check_send(TALLOC_CTX *mem_ctx,
					struct tevent_context *ev,
					struct odj_dc *dc,
					const struct ldb_message *account);
NTSTATUS odj_reuse_check_recv(struct tevent_req *req,
			      TALLOC_CTX *mem_ctx,
			      struct odj_reuse_verdict **verdict);

/*
 * rodc.c: allow an account's password on the RODCs of a policy
 * (odj_rodc_policy_prepare()): refused (NT_STATUS_ACCESS_DENIED) if an
 * RODC's msDS-NeverRevealGroup holds the account or a group it is in
 * (tokenGroups, as the DC decides), else the account goes into each
 * RODC's msDS-RevealOnDemandGroup, or into the policy's group.  @p site
 * (the blob's, or NULL) only adds a warning when an RODC is elsewhere.
 * The result: the RODCs' names, and warnings added to @p warnings;
 * NULL-terminated lists.
 */
struct tevent_req *odj_rodc_allow_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct odj_dc *dc,
				       const struct odj_rodc_policy *policy,
				       struct ldb_dn *account,
				       const char *site);
NTSTATUS odj_rodc_allow_recv(struct tevent_req *req,
			     TALLOC_CTX *mem_ctx,
			     const char ***rodcs,
			     const char ***warnings,
			     char **why);

/*
 * certs.c and gpo.c: what the extensions read from the directory.
 */

/**
 * @brief Find a certificate template by cn or displayName under
 * CN=Certificate Templates,CN=Public Key Services,CN=Services,\<config\>.
 *
 * NT_STATUS_NOT_FOUND with a message when there is none.
 */
NTSTATUS odj_certs_find_template(TALLOC_CTX *mem_ctx,
				 struct odj_dc *dc,
				 const char *name,
				 struct odj_cert_template **tmpl,
				 char **why);

/**
 * @brief The enterprise root CAs published in AD: cACertificate of every
 * certificationAuthority under CN=Certification Authorities, and the
 * self-signed ones of CN=NTAuthCertificates (the others there are
 * issuing CAs, not roots).  DER, each once, in directory order.
 */
NTSTATUS odj_certs_root_cas(TALLOC_CTX *mem_ctx,
			    struct odj_dc *dc,
			    DATA_BLOB **certs,
			    size_t *num_certs,
			    char **why);

/**
 * @brief One machine's parts: copies of the shared ones and, with a
 * template, its own key and certificate (for "machine.suffix", @p
 * dns_suffix NULL: the domain's; for the account @p sid, if known),
 * issued by the CA backend.  No DC contact; AD CS is enrolled at as
 * @p account ("NAME$") with @p password.
 */
NTSTATUS odj_extensions_for_machine(TALLOC_CTX *mem_ctx,
				    const struct odj_extensions *extensions,
				    const char *machine_name,
				    const char *dns_suffix,
				    const char *sid,
				    const char *account,
				    const char *password,
				    struct odj_part **parts,
				    uint32_t *num_parts,
				    bool *root_ca_certs,
				    char **why);

/** A group policy object. */
struct odj_gpo {
	const char *guid;		/* cn: "{31B2F340-...}" */
	const char *display_name;
	const char *file_sys_path;	/* gPCFileSysPath (UNC) */
};

/**
 * @brief Find a GPO under CN=Policies,CN=System,\<domain\> by displayName
 * (or by its {GUID}).  NT_STATUS_NOT_FOUND if none, and an error if the
 * name is ambiguous.
 */
NTSTATUS odj_policy_find_gpo(TALLOC_CTX *mem_ctx,
			     struct odj_dc *dc,
			     const char *name,
			     struct odj_gpo **gpo,
			     char **why);

/**
 * @brief Read Machine\\Registry.pol of @p gpo from SYSVOL with
 * libsmbclient, on the DC @p dc is connected to, with the credentials of
 * its LDAP connection (Kerberos from the ccache, or user and password).
 *
 * A GPO without machine registry settings has no Registry.pol: then
 * @p bytes is empty and the result NT_STATUS_OK.  A GPO folder that is
 * missing or unreadable is an error.
 */
NTSTATUS odj_policy_fetch_gpo(TALLOC_CTX *mem_ctx,
			      struct odj_dc *dc,
			      const struct odj_gpo *gpo,
			      DATA_BLOB *bytes,
			      char **why);

/*
 * life_kdc.c: whether a password works, by a Kerberos AS exchange with
 * the KDC at @p address (numeric) and @p port (NULL: 88) for @p realm,
 * with MIT krb5 and a profile of its own (the host's krb5.conf is not
 * read), without a logon.
 */
struct odj_kdc;

enum odj_kdc_answer {
	ODJ_KDC_ACCEPTED = 0,		/* the password works */
	ODJ_KDC_WRONG_PASSWORD,		/* preauthentication failed */
	ODJ_KDC_NO_PRINCIPAL,		/* the KDC knows no such account */
	ODJ_KDC_REVOKED,		/* disabled, locked out, expired */
	ODJ_KDC_UNAVAILABLE,		/* no answer, or cannot answer */
	ODJ_KDC_OTHER,			/* any other error */
};

NTSTATUS odj_kdc_new(TALLOC_CTX *mem_ctx, const char *address,
		     const char *port, const char *realm,
		     struct odj_kdc **kdc, char **why);
/* An AS exchange as @p account (NAME$); no ticket is kept */
struct tevent_req *odj_kdc_check_send(TALLOC_CTX *mem_ctx,
				      struct tevent_context *ev,
				      struct odj_kdc *kdc,
				      const char *account,
				      const char *password);
/* @p detail: the KDC's (or the transport's) words */
NTSTATUS odj_kdc_check_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
			    enum odj_kdc_answer *answer, char **detail);

/*
 * password.c: a new machine password (printable ASCII from the CSPRNG,
 * wiped when freed), and a password as unicodePwd's value ([MS-ADTS]
 * 3.1.1.3.1.5: in double quotes, UTF-16LE, wiped when freed)
 */
struct ldb_val;
char *odj_machine_password_new(TALLOC_CTX *mem_ctx);
bool odj_unicode_pwd(TALLOC_CTX *mem_ctx, const char *password,
		     struct ldb_val *val);

/*
 * account.c: a computer account as LDAP sees it.  The add message of a
 * new one (objectClass computer, workstation trust, dNSHostName, HOST/
 * and RestrictedKrbHost/ SPNs, AES and RC4 enctypes, the password), the
 * password reset of a reused one; whether an entry is a workstation
 * account, and its SID, RID and objectGUID (false if any is missing).
 */
struct ldb_message *odj_account_add_msg(TALLOC_CTX *mem_ctx,
					struct ldb_dn *dn,
					const char *machine,
					const char *dns_host,
					const char *sam,
					const char *password);
struct ldb_message *odj_account_password_msg(TALLOC_CTX *mem_ctx,
					     struct ldb_dn *dn,
					     const char *password);
bool odj_account_is_workstation(const struct ldb_message *msg);
bool odj_account_identity(TALLOC_CTX *mem_ctx,
			  const struct ldb_message *msg,
			  struct ODJ_SID **sid, uint32_t *rid,
			  struct GUID *guid);

#endif /* _ODJ_DC_PRIVATE_H_ */
