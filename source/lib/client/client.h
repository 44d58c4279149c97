/*
 * samba-odj: the client layer, internal: Samba's join records and
 * secrets.tdb, the keytab, smb.conf, and the extension parts' files, as
 * odj_request() puts them together.
 */

#ifndef _ODJ_CLIENT_PRIVATE_H_
#define _ODJ_CLIENT_PRIVATE_H_

#include "codec/codec.h"
#include "odj/client.h"

/*
 * secrets.tdb (secrets.c, secrets_db.c): Samba's join records, built from plain
 * values, and the database they go into.
 */
struct _krb5_context;
struct loadparm_context;
struct secrets_domain_info1;
struct secrets_domain_info1_password;

/* "host/<name>.<dns domain>@<REALM>", as Samba salts a workstation */
char *odj_secrets_salt_principal(TALLOC_CTX *mem_ctx,
				 const char *account_name,
				 const char *dns_domain);

/*
 * A password as Samba stores it: UTF-16LE cleartext, NT hash and the
 * AES256, AES128 and RC4 keys for @p salt_principal.  Wiped when freed.
 */
NTSTATUS odj_secrets_password(TALLOC_CTX *mem_ctx,
			      struct _krb5_context *k5,
			      const char *password,
			      const char *salt_principal,
			      NTTIME change_time,
			      const char *change_server,
			      struct secrets_domain_info1_password **p,
			      char **why);

/*
 * The record secrets_store_JoinCtx() makes for @p join.  It points into
 * its arguments; Samba sets password_last_change and join_time to now.
 */
NTSTATUS odj_secrets_join_info(TALLOC_CTX *mem_ctx,
			       const struct odj_join *join,
			       struct secrets_domain_info1_password *password,
			       const char *salt_principal,
			       NTTIME join_time,
			       NTTIME last_change,
			       const struct secrets_domain_info1 *previous,
			       struct secrets_domain_info1 **info);

/* secrets_domain_infoB <-> SECRETS/MACHINE_DOMAIN_INFO/<D> bytes */
NTSTATUS odj_secrets_info_pack(TALLOC_CTX *mem_ctx,
			       const struct secrets_domain_info1 *info,
			       DATA_BLOB *blob);
NTSTATUS odj_secrets_info_unpack(TALLOC_CTX *mem_ctx,
				 DATA_BLOB blob,
				 struct secrets_domain_info1 **info,
				 char **why);

/* One record: a key and its value, or a key to delete (value.data NULL) */
struct odj_secrets_record {
	const char *key;
	DATA_BLOB value;
};

/*
 * Every record Samba's join writes (secrets_store_JoinCtx()) for @p info,
 * and the ones it deletes, in the order Samba applies them.
 */
NTSTATUS odj_secrets_join_records(TALLOC_CTX *mem_ctx,
				  const struct secrets_domain_info1 *info,
				  struct odj_secrets_record **records,
				  size_t *num_records);

/* The deletions that remove a join to @p domain (realm may be NULL) */
NTSTATUS odj_secrets_unjoin_records(TALLOC_CTX *mem_ctx,
				    const char *domain,
				    const char *realm,
				    struct odj_secrets_record **records,
				    size_t *num_records);

/* SECRETS/SID/<NAME>: Samba's in-memory struct dom_sid, 68 bytes */
NTSTATUS odj_secrets_sid_value(TALLOC_CTX *mem_ctx,
			       const struct ODJ_SID *sid,
			       DATA_BLOB *value);

/* "SECRETS/<WHAT>/<NAME>", upper case as Samba's keys are */
char *odj_secrets_key(TALLOC_CTX *mem_ctx, const char *what,
		      const char *name);

/* A join found in secrets.tdb */
struct odj_secrets_join {
	const char *domain;		/* the key's <DOMAIN> */
	struct secrets_domain_info1 *info;	/* NULL: legacy keys only */
};

struct odj_secrets_db;

/*
 * Open secrets.tdb for one transaction.  A missing database is built
 * beside @p path and only appears there at odj_secrets_db_commit(); an
 * existing one is changed in a transaction, and put back byte for byte
 * if that fails half-way.  Freeing @p db without a commit aborts.
 */
NTSTATUS odj_secrets_db_open(TALLOC_CTX *mem_ctx,
			     const char *path,
			     struct odj_secrets_db **db,
			     char **why);
bool odj_secrets_db_created(const struct odj_secrets_db *db);
NTSTATUS odj_secrets_db_joins(struct odj_secrets_db *db,
			      TALLOC_CTX *mem_ctx,
			      struct odj_secrets_join **joins,
			      size_t *num_joins,
			      char **why);
/* The same reading on any tdb (@p path only names it in messages) */
struct tdb_context;
NTSTATUS odj_secrets_tdb_joins(struct tdb_context *tdb,
			       const char *path,
			       TALLOC_CTX *mem_ctx,
			       struct odj_secrets_join **joins,
			       size_t *num_joins,
			       char **why);
bool odj_secrets_db_exists(struct odj_secrets_db *db, const char *key);
NTSTATUS odj_secrets_db_apply(struct odj_secrets_db *db,
			      const struct odj_secrets_record *records,
			      size_t num_records,
			      char **why);
/* Everything that can fail, short of making the result visible */
NTSTATUS odj_secrets_db_prepare(struct odj_secrets_db *db, char **why);
NTSTATUS odj_secrets_db_commit(struct odj_secrets_db *db, char **why);
/* Undo everything; false if the old file could not be put back */
bool odj_secrets_db_abort(struct odj_secrets_db *db);

/*
 * A new smb.conf with @p changes in its global section, staged beside
 * @p config_file (or the file it links to); checked by loading it.
 */
NTSTATUS odj_config_stage(TALLOC_CTX *mem_ctx,
			  const char *config_file,
			  const struct odj_join *join,
			  const struct odj_config_change *changes,
			  size_t num_changes,
			  struct odj_staged_file **staged,
			  char **why);

/*
 * keytab.c: a new keytab for @p path holding every entry of
 * the existing one except those of @p principals, plus @p principals
 * with the keys of @p password at @p kvno; written in one go, mode 0600,
 * and read back with MIT's reader before it is returned.
 */
NTSTATUS odj_keytab_stage(TALLOC_CTX *mem_ctx,
			  struct _krb5_context *k5,
			  const char *path,
			  const char * const *principals,
			  const struct secrets_domain_info1_password *password,
			  uint32_t kvno,
			  struct odj_staged_file **staged,
			  char **why);

/*
 * keytabs.c: where the keys of a join go, as paths of this system
 */
struct odj_root;

struct odj_join_keytabs {
	const char *samba;		/* Samba's keytab, or NULL */
	const char *sssd;		/* the system keytab (SSSD), or NULL */
	const char *sssd_image;		/* the same, as the image sees it */
	const char *note;		/* why Samba's is none, or NULL */
};

NTSTATUS odj_join_keytabs(TALLOC_CTX *mem_ctx,
			  struct _krb5_context *k5,
			  struct loadparm_context *lp_ctx,
			  const struct odj_root *root,
			  const struct odj_request *r,
			  struct odj_join_keytabs *kt,
			  char **why);

/*
 * The files of a CERT part (certs_install.c) as text, for whoever writes them.
 */
struct odj_out_file {
	const char *path;
	const char *text;		/* wiped when freed */
	mode_t mode;
	bool trust;			/* a root CA for the trust store */
};

NTSTATUS odj_certs_files(TALLOC_CTX *mem_ctx,
			 const struct OP_CERT_PART *part,
			 const struct odj_certs_install_paths *paths,
			 const char *machine_password,
			 struct odj_out_file **files,
			 size_t *num_files,
			 char **why);

/*
 * root.c: an image root (root=DIR).  NULL stands for the running system
 * everywhere: paths are taken as they are.
 */
struct odj_root;

/* DIR, checked: a writable directory that is not / by another path */
NTSTATUS odj_root_open(TALLOC_CTX *mem_ctx, const char *dir,
		       struct odj_root **root, char **why);
const char *odj_root_dir(const struct odj_root *root);
/*
 * @p path (absolute, as the image sees it) as a path of this system,
 * its symbolic links followed inside the root; NULL with errno set
 */
char *odj_root_path(TALLOC_CTX *mem_ctx, const struct odj_root *root,
		    const char *path);
/*
 * A path given on the command line (@p what names it in messages): it
 * must lie inside the root; *path is then what odj_root_path() makes of
 * it.  Without a root, @p host_path itself.
 */
NTSTATUS odj_root_arg_path(TALLOC_CTX *mem_ctx, const struct odj_root *root,
			   const char *host_path, const char *what,
			   const char **path, char **why);

/*
 * ini.c: sssd.conf (ding-libs INI) and krb5.conf (MIT profile), edited
 * line by line: what is not set stays byte for byte.
 */
enum odj_ini_dialect {
	ODJ_INI_SSSD,
	ODJ_INI_KRB5,
};
struct odj_ini;

/* @p name names the file in messages; a line that does not parse fails */
NTSTATUS odj_ini_parse(TALLOC_CTX *mem_ctx, const char *text,
		       enum odj_ini_dialect dialect, const char *name,
		       struct odj_ini **ini, char **why);
/* A top-level value of @p section, or NULL */
const char *odj_ini_get(const struct odj_ini *ini, const char *section,
			const char *key);
/* Set it: the first one replaced (others removed), else added */
NTSTATUS odj_ini_set(struct odj_ini *ini, const char *section,
		     const char *key, const char *value);
char *odj_ini_text(TALLOC_CTX *mem_ctx, const struct odj_ini *ini);

/*
 * sssd.c: the files of an SSSD member, as "realm join" writes them
 * (sssd.conf, krb5.conf), and the first-contact unit, into @p set.
 * @p keytab: the image path of the keytab written, NULL for the default.
 */
NTSTATUS odj_sssd_stage(TALLOC_CTX *mem_ctx,
			const struct odj_root *root,
			const struct odj_request *r,
			const char *keytab,
			struct odj_staged_set *set,
			struct odj_request_result *res,
			char **why);

/*
 * extensions.c: the 2012 extension parts of odj_request(), staged into
 * @p set with the join's other files.
 */
NTSTATUS odj_extensions_stage(TALLOC_CTX *mem_ctx,
			      struct loadparm_context *lp_ctx,
			      const struct odj_root *root,
			      const struct odj_request *r,
			      struct odj_staged_set *set,
			      struct odj_request_result *res,
			      char **why);
/* after the commit: update-ca-certificates, if asked and useful */
void odj_extensions_update_ca(const struct odj_root *root,
			      const struct odj_request *r,
			      struct odj_request_result *res);

/*
 * policy_apply.c: the POLICY parts applied by Samba's own Group Policy
 * machine extensions (odj-gp-apply, on python3-samba), their writes
 * staged into @p set (and deletions into @p journal) with the join's
 * other files.  After smb.conf is staged: its extension edits the
 * joined one.
 */
struct odj_journal;
/* Will odj_policy_apply() run Samba's extensions for @p r? */
bool odj_policy_applies(const struct odj_request *r);
NTSTATUS odj_policy_apply(TALLOC_CTX *mem_ctx,
			  struct loadparm_context *lp_ctx,
			  const struct odj_root *root,
			  const struct odj_request *r,
			  struct odj_staged_set *set,
			  struct odj_journal *journal,
			  struct odj_request_result *res,
			  char **why);

/*
 * sitename.c: the blob's site into Samba's sitename cache (gencache.tdb
 * in @p dir, smb.conf's lock directory: AD_SITENAME/DOMAIN/<REALM> and
 * /<DOMAIN>), as sitename_store() writes it; @p path: the file written.
 */
NTSTATUS odj_sitename_store(TALLOC_CTX *mem_ctx,
			    const char *dir,
			    const char *realm,
			    const char *netbios_domain,
			    const char *site,
			    char **path,
			    char **why);

/*
 * journal.c: the files of a join change with secrets.tdb, or not at all,
 * across a kill too.  Lock (one join or recovery at a time), recover what
 * an earlier run left, add the staged set and the secrets.tdb record
 * that commits the join, write the journal (finish the set then: its
 * files are the journal's), commit secrets.tdb, finish (the files into
 * place, the journal away); or abandon a written journal whose join did
 * not commit.
 */
struct odj_journal;

/* Where the journal of a join lives: smb.conf's state dir, or ours */
#define ODJ_JOURNAL_NAME "odj-join.journal"
#define ODJ_JOURNAL_SSSD_DIR "/var/lib/samba-odj"

NTSTATUS odj_journal_lock(TALLOC_CTX *mem_ctx, const char *path,
			  struct odj_journal **j, char **why);
/* *done: NULL (no journal), "completed" or "rolled back" */
NTSTATUS odj_journal_recover(struct odj_journal *j, const char **done,
			     char **why);
/* The intent, from now until the commit (see journal.c) */
NTSTATUS odj_journal_begin(struct odj_journal *j, char **why);
/* odj_staged_announce_fn: "stage" TARGET or "dir" PATH into the intent */
NTSTATUS odj_journal_intent(void *journal, const char *kind,
			    const char *path, char **why);
/* A file the join deletes when it commits (journal.c: "remove") */
NTSTATUS odj_journal_remove(struct odj_journal *j, const char *target,
			    char **why);
/* The lock's descriptor: a helper that inherits it holds the lock too */
int odj_journal_lock_fd(const struct odj_journal *j);
NTSTATUS odj_journal_add_set(struct odj_journal *j,
			     const struct odj_staged_set *set, char **why);
NTSTATUS odj_journal_record(struct odj_journal *j, const char *tdb_path,
			    const char *key, DATA_BLOB value);
NTSTATUS odj_journal_write(struct odj_journal *j, char **why);
NTSTATUS odj_journal_finish(struct odj_journal *j, char **why);
NTSTATUS odj_journal_abandon(struct odj_journal *j, char **why);

#endif /* _ODJ_CLIENT_PRIVATE_H_ */
