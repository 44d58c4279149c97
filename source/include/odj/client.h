/*
 * samba-odj: the client side, the machine that joins.  No network, no
 * credentials: a blob becomes Samba's secrets.tdb records, a keytab, an
 * smb.conf that matches, and the files of its extension parts.
 */

#ifndef _ODJ_CLIENT_H_
#define _ODJ_CLIENT_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include "odj/codec.h"
#include "odj/formats.h"

struct loadparm_context;

/**
 * @defgroup odj_request Joining this machine with a blob (requestodj)
 *
 * What "djoin /REQUESTODJ" does on Windows and "net offlinejoin
 * requestodj" on Samba: no network, no credentials; the blob's machine
 * password and domain data go into secrets.tdb in Samba's own format,
 * the machine's keys into a keytab, and smb.conf is checked (or, if
 * asked, adjusted) to match.
 * @{
 */

/** An smb.conf [global] parameter that must change for a join. */
struct odj_config_change {
	const char *name;		/* "realm" */
	const char *value;		/* "ODJ.TEST" */
	const char *current;		/* the value now, "" if unset */
};

/**
 * @brief What smb.conf must change before Samba can use @p join.
 *
 * Checks netbios name, workgroup, realm, security (ads) and server
 * role.  Fails (NT_STATUS_INVALID_DOMAIN_ROLE) for a configuration no
 * change can fix: a domain controller's.
 *
 * @param[out] changes  The changes, none (NULL, 0) if it matches.
 */
NTSTATUS odj_config_check(TALLOC_CTX *mem_ctx,
			  struct loadparm_context *lp_ctx,
			  const struct odj_join *join,
			  struct odj_config_change **changes,
			  size_t *num_changes,
			  char **why);

struct odj_request;

/**
 * @brief What smb.conf must change for the join @p r asks for: as
 * odj_config_check(), and for ODJ_CLIENT_BOTH "machine password timeout
 * = 0" (adcli changes the password, not winbindd); nothing for
 * ODJ_CLIENT_SSSD.
 */
NTSTATUS odj_request_config_check(TALLOC_CTX *mem_ctx,
				  struct loadparm_context *lp_ctx,
				  const struct odj_request *r,
				  struct odj_config_change **changes,
				  size_t *num_changes,
				  char **why);

/**
 * The password change time odj_request() records, in unix seconds.
 *
 * Winbindd changes the machine password once MACHINE_LAST_CHANGE_TIME
 * plus "machine password timeout" has passed.  The start of the epoch
 * makes that its first contact with a DC, as on Windows, where a blob's
 * password is replaced then too.  (0 would mean "no password" to
 * Samba's secrets_fetch_or_upgrade_domain_info().)
 */
#define ODJ_FIRST_CONTACT_LAST_CHANGE 1

/** The Linux client a join makes (requestodj client=). */
enum odj_client_kind {
	/* Samba's winbind: secrets.tdb, its keytab, smb.conf */
	ODJ_CLIENT_WINBIND = 0,
	/*
	 * SSSD as "realm join" makes it: the system keytab, sssd.conf,
	 * krb5.conf's defaults, and a first-contact password change
	 */
	ODJ_CLIENT_SSSD,
	/* both: SSSD, and Samba's files for smbd beside it */
	ODJ_CLIENT_BOTH,
};

/** What odj_request() does. */
struct odj_request {
	const struct odj_join *join;
	enum odj_client_kind client;
	/*
	 * An image root (a mounted file system not booted yet), or NULL
	 * for the running system.  Every path of the join is taken inside
	 * it, as the image sees it; paths given here (keytab, trust_dir,
	 * cert_dir, policy_file) and smb.conf's must lie inside it.  No
	 * program of the image is run and no daemon signalled; Samba's
	 * Group Policy extensions run from this system on its files.
	 */
	const char *root;
	/* SSSD: ad_server in sssd.conf; NULL: none (DNS SRV, sites) */
	const char *ad_server;
	/*
	 * The keytab to write.  NULL: as "kerberos method" says: the
	 * "dedicated keytab file", the default keytab (KRB5_KTNAME or
	 * /etc/krb5.keytab) for "system keytab" and "secrets and keytab",
	 * none for "secrets only", where Samba uses no keytab.  For SSSD:
	 * the system keytab (KRB5_KTNAME or /etc/krb5.keytab; in an
	 * image root /etc/krb5.keytab), named in sssd.conf if not that.
	 */
	const char *keytab;
	uint32_t kvno;			/* 0: 1, a new account's */
	bool force;			/* replace a join to elsewhere */
	bool update_config;		/* edit smb.conf where needed */
	/*
	 * The 2012 extensions (join->extensions).  A part that is skipped
	 * or cannot be applied is a warning, and refuses the whole join
	 * if it is ESSENTIAL.
	 */
	bool skip_certs;		/* leave CERT parts alone */
	bool skip_policy;		/* leave POLICY parts alone */
	const char *trust_dir;		/* NULL: ODJ_CERTS_TRUST_DIR */
	const char *cert_dir;		/* NULL: <private dir>/odj */
	const char *policy_file;	/* NULL: <state dir>/odj-policy.json */
	bool update_ca_certificates;	/* run it after new root CAs */
	/*
	 * odj-gp-apply, which applies the POLICY parts through Samba's
	 * Group Policy extensions; NULL: beside the running program, else
	 * the installed one (<libexecdir>/samba-odj)
	 */
	const char *gp_apply;
};

/**
 * A GPO of the blob's POLICY parts, as Samba's Group Policy extensions
 * took it (odj-gp-apply): how many of its settings each became.
 */
struct odj_policy_gpo {
	const char *guid;		/* "{31B2F340-016D-11D2-945F-...}" */
	const char *name;		/* its element list's source */
	const char *where;		/* "blob 1 part 6 (POLICY_PROVIDER)" */
	bool essential;			/* its part is ESSENTIAL */
	bool synthetic;			/* a policypaths= file's: no GPO */
	size_t applied;			/* by an extension, offline */
	size_t skipped;			/* rejected, in a part not ESSENTIAL */
	size_t deferred;		/* a DC-bound extension's: online */
	size_t ignored;			/* read by no Samba extension */
	size_t failed;			/* its extension failed */
};

/** What odj_request() did. */
struct odj_request_result {
	const char *root;		/* the image root, or NULL */
	const char *recovered;		/* an interrupted join finished */
	const char *secrets_tdb;	/* NULL: none (SSSD alone) */
	const char *keytab;		/* NULL: none written */
	size_t num_keytab_entries;
	const char *keytab_note;	/* why none, or what to mind */
	const char *config_file;	/* NULL: smb.conf left alone */
	struct odj_config_change *changes;	/* what was changed */
	size_t num_changes;
	const char *replaced;		/* the join replaced, or NULL */
	bool rotates_at_first_contact;	/* winbindd will change it */
	const char *rotation_note;	/* else what to run */
	/* the extensions: files written, NULL-terminated (or NULL) */
	const char **trust_files;	/* root CAs, PEM */
	const char **cert_files;	/* machine certificates and keys */
	const char *policy_file;	/* NULL: none written */
	/*
	 * The POLICY parts applied by Samba's Group Policy extensions
	 * (client=winbind or both, not nopolicy): each GPO, and the files
	 * the extensions wrote (sudoers.d, motd, cron, smb.conf, gpo.tdb,
	 * the GPO cache) and removed, committed with the join
	 */
	struct odj_policy_gpo *policy_gpos;
	size_t num_policy_gpos;
	const char **policy_written;	/* NULL-terminated, or NULL */
	const char **policy_removed;	/* NULL-terminated, or NULL */
	/* parts not applied, and update-ca-certificates trouble */
	const char **warnings;		/* NULL-terminated, or NULL */
	bool ca_certificates_updated;	/* update-ca-certificates ran */
	/* SSSD: its files, and the unit that changes the password */
	const char *sssd_conf;
	const char *krb5_conf;
	const char *first_contact_unit;
	/*
	 * The blob's site (JOIN_PROVIDER2) stored for Samba's DC locator
	 * (winbindd, net): the gencache.tdb written, or NULL
	 */
	const char *site_cache;
};

/**
 * @brief Make this machine a member of the blob's domain, offline.
 *
 * A site the blob names (JOIN_PROVIDER2: djoin /PSITE, /DSITE) goes,
 * once the join is committed, into Samba's sitename cache (gencache.tdb
 * of the lock directory), where a CLDAP reply would put it: Samba's DC
 * locator then asks the site's DNS records first, which is how a branch
 * machine finds its RODC with the WAN down.  A failure there is a
 * warning, not a failed join.
 *
 * Writes, all or nothing: Samba's join records into secrets.tdb in one
 * transaction (SECRETS/MACHINE_DOMAIN_INFO/<DOMAIN> and the legacy keys
 * Samba 4.17 writes beside it), a keytab (see odj_request.keytab) and,
 * with @p r->update_config, the [global] parameters smb.conf needs.
 * Files are replaced atomically; on failure secrets.tdb, keytab and
 * smb.conf are as they were, byte for byte.
 *
 * The CERT parts' root CAs go as PEM files into @p r->trust_dir (for
 * update-ca-certificates), their machine certificates and keys into
 * @p r->cert_dir (machine.pem 0644, machine.key 0600; "-2", "-3" ...
 * for further PFX stores), the POLICY parts' settings as JSON into
 * @p r->policy_file.  These files are staged with the others and
 * published in the same commit: if the join fails none remains, and if
 * an ESSENTIAL part cannot be applied (or is to be skipped) nothing is
 * written at all.  A part that is not essential and cannot be staged is
 * left out, with a warning in the result.
 *
 * For client=winbind and both, the POLICY parts' settings also take
 * effect through Samba's own Group Policy machine extensions (sudo
 * rules, motd and issue, cron scripts, smb.conf settings, ...), run
 * offline by odj-gp-apply and recorded in Samba's gpo.tdb as
 * samba-gpupdate records them; their files are staged and committed
 * with the join too.  A setting an extension rejects refuses the join
 * (NT_STATUS_INVALID_PARAMETER) if its part is ESSENTIAL and is skipped,
 * with a warning, if not.  With @p r->update_config, "apply group
 * policies = yes" is set too.
 *
 * Refuses (NT_STATUS_OBJECT_NAME_COLLISION) to replace a join to another
 * domain or of another account unless @p r->force, and
 * (NT_STATUS_INVALID_PARAMETER_MIX) a configuration that does not match
 * the blob unless @p r->update_config.
 */
NTSTATUS odj_request(TALLOC_CTX *mem_ctx,
		     struct loadparm_context *lp_ctx,
		     const struct odj_request *r,
		     struct odj_request_result **result,
		     char **why);

/**
 * @brief Finish, or roll back, a join a kill interrupted.
 *
 * odj_request() puts its files in place through a journal (in
 * smb.conf's state directory, or /var/lib/samba-odj for SSSD alone):
 * whoever finds one completes the join it names if secrets.tdb holds
 * that join (or there is no secrets.tdb in it), else removes what it
 * staged.  odj_request() does this first; every odj command does it
 * for the journals of its smb.conf and of /var/lib/samba-odj.
 *
 * @param lp_ctx  smb.conf (its state directory), or NULL.
 * @param root    An image root, or NULL.
 * @param[out] done  What was done, one line each, NULL-terminated; NULL
 *                   if there was no journal.
 */
NTSTATUS odj_recover(TALLOC_CTX *mem_ctx,
		     struct loadparm_context *lp_ctx,
		     const char *root,
		     const char ***done,
		     char **why);

/** @} */

/**
 * @defgroup odj_client_extensions Applying the 2012 extension parts on their own
 * @{
 */

/* Where odj_certs_install() writes by default (Debian's layout) */
#define ODJ_CERTS_TRUST_DIR "/usr/local/share/ca-certificates"
#define ODJ_CERTS_MACHINE_CERT "/etc/ssl/certs/odj-machine.pem"
#define ODJ_CERTS_MACHINE_KEY "/etc/ssl/private/odj-machine.key"

/** Where the certificates of a CERT part go; NULL members: defaults. */
struct odj_certs_install_paths {
	const char *trust_dir;		/* <dir>/odj-<CN>-<sha1>.crt */
	const char *cert_file;		/* machine certificate + chain, PEM */
	const char *key_file;		/* its key, PEM, mode 0600 */
};

/**
 * @brief Apply a CERT part on a Linux client: every certificate of its
 * ROOT stores as PEM into the trust directory (run update-ca-certificates
 * afterwards), and the first PFX's certificate (with the issuers that
 * are not self-signed after it) and key as PEM.  Further PFX stores get
 * "-2", "-3", ... before the file name extension.  The PFX is opened with
 * an empty password, then with @p machine_password (may be NULL).  Files
 * are replaced atomically.
 *
 * @param[out] written  Optional: the files written, NULL-terminated.
 */
NTSTATUS odj_certs_install(
	TALLOC_CTX *mem_ctx,
	const struct OP_CERT_PART *part,
	const struct odj_certs_install_paths *paths,
	const char *machine_password,
	const char ***written,
	char **why);


/**
 * @brief Write the settings of a POLICY part as JSON (the "content" of
 * the part in odj dump --json), atomically, mode 0644.
 */
NTSTATUS odj_policy_write_json(TALLOC_CTX *mem_ctx,
			       const struct OP_POLICY_PART *part,
			       const char *path,
			       char **why);

/** @} */

#endif /* _ODJ_CLIENT_H_ */
