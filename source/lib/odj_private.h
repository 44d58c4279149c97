/*
 * samba-odj: declarations shared inside the library only.
 */

#ifndef _ODJ_PRIVATE_H_
#define _ODJ_PRIVATE_H_

#include <stdarg.h>
#include <sys/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <ndr.h>
#include <core/ntstatus.h>
#include <util/data_blob.h>
#include "gen_ndr/ndr_odj.h"
#include "odj.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#ifndef discard_const_p
#define discard_const_p(type, ptr) ((type *)((intptr_t)(ptr)))
#endif

/* libsamba-errors: public, declared in no installed header */
NTSTATUS map_nt_error_from_unix_common(int unix_error);

/*
 * The "why" channel: a message for a human, on @p ctx, replacing any
 * earlier one.  NULL @p why means the caller does not want it.
 */
void odj_why(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "<prefix>: " in front of the message in *why, if any. */
void odj_why_prefix(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Hand the message over to @p mem_ctx before a temporary context dies. */
void odj_why_move(TALLOC_CTX *mem_ctx, char **why);

/*
 * Read @p fd to its end (a pipe too) into a buffer wiped when freed,
 * with a NUL after the data (not counted; PEM readers want one); more
 * than @p max_size bytes is NT_STATUS_FILE_TOO_LARGE, "NAME: larger than
 * the N byte limit for WHAT".
 */
NTSTATUS odj_read_fd(TALLOC_CTX *mem_ctx,
		     int fd,
		     const char *name,
		     size_t max_size,
		     const char *what,
		     DATA_BLOB *out,
		     char **why);

/*
 * Remove "<path>.odj-XXXXXX": what a killed odj left of a file it was
 * replacing (a staged copy, or after the swap the old one; either can
 * hold keys).  Only under the secrets.tdb lock, where no live join owns
 * one.
 */
void odj_remove_stale_tmp(const char *path);

/* write() all of it, retrying on EINTR; false with errno set */
bool odj_write_all(int fd, const uint8_t *p, size_t len);

/*
 * A context for a trial pull of @p wire bytes of hostile NDR: allocations
 * that could not have come from that many bytes fail (NDR_ERR_ALLOC).
 * Nothing may be moved out of it; odj_pull_budget_free() wipes and frees
 * all of it.
 */
TALLOC_CTX *odj_pull_budget_new(size_t wire);
void odj_pull_budget_free(TALLOC_CTX *budget);

/* A talloc copy of a UTF-8 string that is wiped when freed. */
char *odj_secret_strdup(TALLOC_CTX *mem_ctx, const char *s);

struct ldb_context;
struct ldb_context *odj_dc_ldb(const struct odj_dc *dc);
struct tevent_context *odj_dc_ev(const struct odj_dc *dc);

/*
 * secrets.tdb (odj_secrets.c): Samba's join records, built from plain
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
 * Files replaced atomically (odj_config.c): written beside their
 * target, then swapped in; until odj_staged_finish() a swap can be
 * undone.  Freeing an unfinished one removes the temporary file.
 */
struct odj_staged_file;

NTSTATUS odj_staged_create(TALLOC_CTX *mem_ctx,
			   const char *path,
			   mode_t mode,
			   struct odj_staged_file **staged,
			   char **why);
const char *odj_staged_tmp_path(const struct odj_staged_file *staged);
int odj_staged_fd(const struct odj_staged_file *staged);
/* all of @p text into the staged file */
NTSTATUS odj_staged_write_text(struct odj_staged_file *staged,
			       const char *text, char **why);
/* fsync and close the temporary file */
NTSTATUS odj_staged_close(struct odj_staged_file *staged, char **why);
NTSTATUS odj_staged_publish(struct odj_staged_file *staged, char **why);
bool odj_staged_undo(struct odj_staged_file *staged);
void odj_staged_finish(struct odj_staged_file *staged);

/* A global smb.conf parameter as text ("kerberos method" -> "default") */
char *odj_lp_get(TALLOC_CTX *mem_ctx, struct loadparm_context *lp_ctx,
		 const char *name);

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
 * Keytab (odj_keytab.c): a new keytab for @p path holding every entry of
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
 * Certificates and policies (odj_extras.c): a synchronous search on the
 * DC connection, and local files read whole or replaced atomically.
 */
struct ldb_dn;
struct ldb_result;

NTSTATUS odj_search_sync(TALLOC_CTX *mem_ctx,
			 struct odj_dc *dc,
			 struct ldb_dn *base,
			 int scope,
			 const char * const *attrs,
			 const char *filter,
			 struct ldb_result **res,
			 char **why);
/*
 * A local regular file of at most @p max_size bytes (CA files, PReg
 * files), as odj_read_fd() reads it.
 */
NTSTATUS odj_local_read(TALLOC_CTX *mem_ctx,
			const char *path,
			size_t max_size,
			DATA_BLOB *bytes,
			char **why);
/*
 * @p data as the whole of @p path, or nothing: a temporary file beside
 * it (0600 until @p mode is set), fsynced, renamed into place.  Without
 * @p replace an existing file stays, and the result is EEXIST.  Returns
 * 0 or an errno; no temporary file is left.
 */
int odj_write_file_atomic(const char *path, const uint8_t *data, size_t len,
			  mode_t mode, bool replace);
/* odj_write_file_atomic(), replacing, with "PATH: error" in @p why */
NTSTATUS odj_local_write(TALLOC_CTX *mem_ctx,
			 const char *path,
			 DATA_BLOB data,
			 mode_t mode,
			 char **why);
/* Append a copy of @p s to a NULL-terminated list (made on mem_ctx). */
bool odj_str_list_add(TALLOC_CTX *mem_ctx, const char ***list,
		      const char *s);

/* odj_blob.c: a deep copy of a decoded part's structure (known kinds) */
NTSTATUS odj_part_copy(TALLOC_CTX *mem_ctx,
		       const struct odj_part *part,
		       void **copy,
		       char **why);

/*
 * Microsoft's certificate extensions, written by the local CA
 * (odj_ca_local.c) and read for display (odj_cert_info.c): the template
 * (v2: OID and version; v1: name), and the account's SID for strong
 * certificate mapping ([MS-WCCE] 2.2.2.7.7.4) with its otherName type.
 */
#define OID_CERT_TEMPLATE_V2 "1.3.6.1.4.1.311.21.7"
#define OID_CERT_TEMPLATE_V1 "1.3.6.1.4.1.311.20.2"
#define OID_NTDS_CA_SECURITY_EXT "1.3.6.1.4.1.311.25.2"
#define OID_NTDS_OBJECTSID "1.3.6.1.4.1.311.25.2.1"

/*
 * The files of a CERT part (odj_certs_install.c) and of a POLICY part
 * (odj_policy.c), as text, for whoever writes them.
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
NTSTATUS odj_policy_json_text(TALLOC_CTX *mem_ctx,
			      const struct OP_POLICY_PART *part,
			      char **text);

/*
 * odj_request_ext.c: the extensions of odj_request(), staged with the
 * join's other files and published in the same commit.
 */
struct odj_ext_staging;

NTSTATUS odj_ext_stage(TALLOC_CTX *mem_ctx,
		       struct loadparm_context *lp_ctx,
		       const struct odj_request *r,
		       struct odj_request_result *res,
		       struct odj_ext_staging **staging,
		       char **why);
NTSTATUS odj_ext_publish(struct odj_ext_staging *staging, char **why);
/* false if an old file could not be put back */
bool odj_ext_undo(struct odj_ext_staging *staging);
void odj_ext_finish(struct odj_ext_staging *staging);
/* after the commit: update-ca-certificates, if asked and useful */
void odj_ext_update_ca(struct odj_ext_staging *staging,
		       const struct odj_request *r,
		       struct odj_request_result *res);

/* odj_dump.c: a POLICY part as odj dump --json shows it */
struct json_t;
struct json_t *odj_dump_policy_json(const struct OP_POLICY_PART *pp);

#endif /* _ODJ_PRIVATE_H_ */
