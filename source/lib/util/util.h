/*
 * samba-odj: the util layer, below everything else: messages, secrets
 * in memory, local files, staged files, string lists, smb.conf values.
 * Internal to the library.
 */

#ifndef _ODJ_UTIL_H_
#define _ODJ_UTIL_H_

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <talloc.h>
#include <ndr.h>
#include <core/ntstatus.h>
#include <util/data_blob.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include "odj/util.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#ifndef discard_const_p
#define discard_const_p(type, ptr) ((type *)((intptr_t)(ptr)))
#endif

/* libsamba-errors: public, declared in no installed header */
NTSTATUS map_nt_error_from_unix_common(int unix_error);

/*
 * why.c: the "why" channel (see odj.h): a message for a human, on
 * @p ctx, replacing any earlier one.  NULL @p why means the caller does
 * not want it.
 */
void odj_why(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Put "<prefix>: " in front of the message in *why, if any. */
void odj_why_prefix(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Hand the message over to @p mem_ctx before a temporary context dies. */
void odj_why_move(TALLOC_CTX *mem_ctx, char **why);

/* wipe.c: a talloc copy of a UTF-8 string that is wiped when freed. */
char *odj_secret_strdup(TALLOC_CTX *mem_ctx, const char *s);

/*
 * wipe.c: a context for a trial pull of @p wire bytes of hostile NDR:
 * allocations that could not have come from that many bytes fail
 * (NDR_ERR_ALLOC).  Nothing may be moved out of it;
 * odj_pull_budget_free() wipes and frees all of it.
 */
TALLOC_CTX *odj_pull_budget_new(size_t wire);
void odj_pull_budget_free(TALLOC_CTX *budget);

/* GnuTLS's view of a DATA_BLOB (no copy) */
static inline gnutls_datum_t odj_datum(DATA_BLOB b)
{
	return (gnutls_datum_t) { .data = b.data, .size = b.length };
}

/* A little-endian 32-bit number (SST and PReg files) */
static inline uint32_t odj_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* keys.c: @p key as unencrypted PKCS#8 DER, wiped when freed */
bool odj_key_pkcs8(TALLOC_CTX *mem_ctx, gnutls_x509_privkey_t key,
		   DATA_BLOB *der);

/* strlist.c: append a copy of @p s to a NULL-terminated list */
bool odj_str_list_add(TALLOC_CTX *mem_ctx, const char ***list,
		      const char *s);

/*
 * files.c: local files.
 */

/* write() all of it, retrying on EINTR; false with errno set */
bool odj_write_all(int fd, const uint8_t *p, size_t len);

/*
 * A new temporary file beside @p path, "<path>.odj-XXXXXX", mode 0600;
 * its name on @p mem_ctx in @p tmp_path.  Returns the descriptor, or -1
 * with errno set.
 */
int odj_tmp_create(TALLOC_CTX *mem_ctx, const char *path, char **tmp_path);

/*
 * Remove the temporary files odj_tmp_create() made beside @p path: what
 * a killed odj left of a file it was replacing (a staged copy: it can
 * hold keys).  Only under the lock of whoever creates them (the join's
 * journal, secrets.tdb's directory), where no live run owns one.
 */
void odj_remove_stale_tmp(const char *path);

/*
 * dirlock.c: an exclusive flock() on @p dir until @p lock is freed; a
 * directory this process has locked already is not locked again (a
 * reference to the first lock: see dirlock.c)
 */
struct odj_dir_lock;
NTSTATUS odj_dir_lock(TALLOC_CTX *mem_ctx, const char *dir,
		      struct odj_dir_lock **lock, char **why);

/* fsync() the directory that holds @p path: a rename in it is durable */
void odj_fsync_dir(const char *path);

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

/* odj_file_read() flags */
#define ODJ_READ_STDIN		0x1	/* "-" is standard input */
#define ODJ_READ_REGULAR	0x2	/* nothing but a regular file */

/*
 * All of @p path as odj_read_fd() reads it; @p what names the kind of
 * file in messages ("a provisioning file").  A directory is refused,
 * and a regular file above @p max_size before it is read.
 */
NTSTATUS odj_file_read(TALLOC_CTX *mem_ctx,
		       const char *path,
		       size_t max_size,
		       const char *what,
		       unsigned flags,
		       DATA_BLOB *out,
		       char **why);

/* odj_file_write() flags */
#define ODJ_WRITE_NO_REPLACE	0x1	/* an existing file stays */

/*
 * @p data as the whole of @p path, or nothing: a temporary file beside
 * it (0600 until @p mode is set), fsynced, renamed into place, the
 * directory fsynced.  With ODJ_WRITE_NO_REPLACE an existing file stays
 * (NT_STATUS_OBJECT_NAME_COLLISION).  No temporary file is left.
 */
NTSTATUS odj_file_write(TALLOC_CTX *mem_ctx,
			const char *path,
			DATA_BLOB data,
			mode_t mode,
			unsigned flags,
			char **why);

/*
 * staged.c: a file's new content written beside it, "<path>.odj-XXXXXX"
 * (what a killed join left there is removed first: create them only
 * under the join's lock), for the journal to rename into place.  Freed
 * unfinished, the staged file is removed.
 */
struct odj_staged_file;

NTSTATUS odj_staged_create(TALLOC_CTX *mem_ctx,
			   const char *path,
			   mode_t mode,
			   struct odj_staged_file **staged,
			   char **why);
const char *odj_staged_tmp_path(const struct odj_staged_file *staged);
const char *odj_staged_target(const struct odj_staged_file *staged);
int odj_staged_fd(const struct odj_staged_file *staged);
/* all of @p text into the staged file */
NTSTATUS odj_staged_write_text(struct odj_staged_file *staged,
			       const char *text, char **why);
/* fsync and close the temporary file */
NTSTATUS odj_staged_close(struct odj_staged_file *staged, char **why);
/* the temporary file belongs to the journal now: it stays when freed */
void odj_staged_finish(struct odj_staged_file *staged);

/*
 * staged.c: a staged set, the files of one join staged together and the
 * directories made for them.  Freed unfinished, the staged files go, and
 * then the directories it made, if empty.  odj_staged_set_finish() hands
 * them over (to the journal, which puts them in place).
 */
struct odj_staged_set;
struct odj_staged_mark {
	size_t files;
	size_t dirs;
};

struct odj_staged_set *odj_staged_set_new(TALLOC_CTX *mem_ctx);
/*
 * @p fn is told ("stage", target) before a staged file is created beside
 * a target, ("dir", path) before a directory is made: so that whoever
 * finds what a kill left knows where to look (the journal's intent)
 */
typedef NTSTATUS (*odj_staged_announce_fn)(void *private_data,
					   const char *kind,
					   const char *path,
					   char **why);
void odj_staged_set_announce(struct odj_staged_set *set,
			     odj_staged_announce_fn fn, void *private_data);
/* @p staged (closed) into the set, which becomes its owner */
NTSTATUS odj_staged_set_adopt(struct odj_staged_set *set,
			      struct odj_staged_file *staged);
/* @p text as the new @p path, mode @p mode */
NTSTATUS odj_staged_set_text(struct odj_staged_set *set, const char *path,
			     mode_t mode, const char *text, char **why);
bool odj_staged_set_has(const struct odj_staged_set *set, const char *path);
/* @p dir and its missing parents (0755), recorded as made */
NTSTATUS odj_staged_set_mkdir(struct odj_staged_set *set, const char *dir,
			      mode_t mode, char **why);
/* what the set holds now; back to it, dropping what came after */
void odj_staged_set_mark(const struct odj_staged_set *set,
			 struct odj_staged_mark *mark);
void odj_staged_set_back(struct odj_staged_set *set,
			 const struct odj_staged_mark *mark);
size_t odj_staged_set_count(const struct odj_staged_set *set);
const struct odj_staged_file *odj_staged_set_file(
	const struct odj_staged_set *set, size_t i);
size_t odj_staged_set_num_dirs(const struct odj_staged_set *set);
const char **odj_staged_set_dirs(const struct odj_staged_set *set);
void odj_staged_set_finish(struct odj_staged_set *set);

/* loadparm.c: a global smb.conf parameter as text ("kerberos method") */
struct loadparm_context;
char *odj_lp_get(TALLOC_CTX *mem_ctx, struct loadparm_context *lp_ctx,
		 const char *name);

#endif /* _ODJ_UTIL_H_ */
