/*
 * The join's journal: every file of a join (keytab, smb.conf, sssd.conf,
 * krb5.conf, certificates, policy) changes together with secrets.tdb, or
 * not at all, even across a kill.
 *
 * Two files cannot be renamed at once, so the join rolls forward: each
 * new file is staged beside its target, then the journal names them all
 * with the SHA-256 of their new content, and of the secrets.tdb record
 * that makes the join, and is put in place (fsync, rename, fsync of the
 * directory).  Then secrets.tdb commits: that is the join's commit
 * point (without secrets.tdb, an SSSD client's, the journal itself is).
 * Then the staged files are renamed into place and the journal removed.
 *
 * Whoever finds a journal (the next odj run, whatever it does) finishes
 * what it says: if secrets.tdb holds the record (or there is none to
 * hold), every staged file still beside its target is renamed into
 * place; if not, the join never happened and the staged files go.
 * Either way the machine has the old join or the new one, never parts
 * of both.
 *
 * Before that, while the join stages its files, the journal is its
 * intent, appended to as it goes (no fsync: it serves after a kill, not
 * a power cut, which the staged files would not survive either):
 *
 *   odj-journal 1 staging
 *   stage <target>        a staged file is about to be made beside it
 *   dir <directory>       a directory is about to be made
 *
 * Whoever finds that knows the join never committed: the staged files
 * (which hold keys) and the directories go.  So nothing a killed join
 * wrote outlives the next odj run.
 *
 * The journal is text, one entry a line, its fields separated by tabs
 * (paths with a tab or a line break are refused):
 *
 *   odj-journal 1
 *   record <secrets.tdb path> <key> <sha256 of the value>
 *   dir <directory the join made>
 *   stage <target>        (from the intent: swept on a rollback)
 *   file <target> <staged> <sha256 of the new content>
 *   end
 *
 * Directories the join made for its files (an image without /etc/sssd)
 * stay with a completed join and go, if still empty, with one rolled
 * back.
 */

#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <tdb.h>
#include <gnutls/crypto.h>

#define JOURNAL_MAGIC "odj-journal 1"
#define JOURNAL_STAGING JOURNAL_MAGIC " staging"
#define JOURNAL_MAX_SIZE (1024 * 1024)
#define SHA256_HEX 64
/* the largest file of a join (smb.conf, a keytab, a certificate) */
#define ODJ_JOURNAL_FILE_MAX (16 * 1024 * 1024)

struct journal_file {
	const char *target;
	const char *staged;
	char sha[SHA256_HEX + 1];
};

struct odj_journal {
	const char *path;
	struct journal_file *files;
	size_t num_files;
	const char *tdb_path;		/* NULL: no secrets.tdb record */
	const char *tdb_key;
	char tdb_sha[SHA256_HEX + 1];
	const char **dirs;		/* made, parents first */
	const char **staged;		/* the intent's targets */
	bool staging;			/* an intent, not a journal */
	bool written;
	struct odj_dir_lock *lock;	/* the journal's directory */
	int intent_fd;
};

static void sha256_hex(const uint8_t *p, size_t len, char *hex)
{
	uint8_t digest[32];
	size_t i;

	gnutls_hash_fast(GNUTLS_DIG_SHA256, p, len, digest);
	for (i = 0; i < sizeof(digest); i++) {
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	}
	explicit_bzero(digest, sizeof(digest));
}

/* The SHA-256 of a file's content; false if it cannot be read */
static bool file_sha256(TALLOC_CTX *mem_ctx, const char *path, char *hex)
{
	DATA_BLOB b = data_blob_null;
	NTSTATUS status;

	status = odj_file_read(mem_ctx, path, ODJ_JOURNAL_FILE_MAX,
			       "a file of a join", ODJ_READ_REGULAR, &b, NULL);
	if (!NT_STATUS_IS_OK(status)) {
		return false;
	}
	sha256_hex(b.data, b.length, hex);
	TALLOC_FREE(b.data);
	return true;
}

static int journal_destructor(struct odj_journal *j)
{
	if (j->intent_fd != -1) {
		close(j->intent_fd);
	}
	return 0;
}

NTSTATUS odj_journal_lock(TALLOC_CTX *mem_ctx, const char *path,
			  struct odj_journal **_j, char **why)
{
	struct odj_journal *j = talloc_zero(mem_ctx, struct odj_journal);
	char *dir = NULL, *slash = NULL;
	NTSTATUS status;

	if (j == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	j->intent_fd = -1;
	talloc_set_destructor(j, journal_destructor);
	j->path = talloc_strdup(j, path);
	dir = talloc_strdup(j, path);
	slash = dir != NULL ? strrchr(dir, '/') : NULL;
	if (j->path == NULL || slash == NULL) {
		TALLOC_FREE(j);
		return NT_STATUS_NO_MEMORY;
	}
	*(slash == dir ? slash + 1 : slash) = '\0';
	/* one join (or recovery) at a time per journal */
	status = odj_dir_lock(j, dir, &j->lock, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(j);
		return status;
	}
	/* a journal a kill left half written (never in place) */
	odj_remove_stale_tmp(j->path);
	*_j = j;
	return NT_STATUS_OK;
}

static NTSTATUS journal_add(struct odj_journal *j,
			    const struct odj_staged_file *staged, char **why)
{
	struct journal_file *f = NULL;

	j->files = talloc_realloc(j, j->files, struct journal_file,
				  j->num_files + 1);
	if (j->files == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	f = &j->files[j->num_files];
	*f = (struct journal_file) {
		.target = talloc_strdup(j->files,
					odj_staged_target(staged)),
		.staged = talloc_strdup(j->files,
					odj_staged_tmp_path(staged)),
	};
	if (f->target == NULL || f->staged == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (strpbrk(f->target, "\t\n") != NULL ||
	    strpbrk(f->staged, "\t\n") != NULL) {
		odj_why(j, why, "%s: a tab or line break in the path",
			f->target);
		return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
	}
	if (!file_sha256(j, f->staged, f->sha)) {
		odj_why(j, why, "cannot read back %s", f->staged);
		return NT_STATUS_UNEXPECTED_IO_ERROR;
	}
	j->num_files++;
	return NT_STATUS_OK;
}

static bool str_list_has(const char **list, const char *s)
{
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		if (strcmp(list[i], s) == 0) {
			return true;
		}
	}
	return false;
}

static NTSTATUS intent_line(struct odj_journal *j, const char *kind,
			    const char *path, char **why)
{
	char *line = NULL;
	bool ok;

	if (strpbrk(path, "\t\n") != NULL) {
		odj_why(j, why, "%s: a tab or line break in the path", path);
		return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
	}
	line = talloc_asprintf(j, "%s\t%s\n", kind, path);
	if (line == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ok = odj_write_all(j->intent_fd, (const uint8_t *)line,
			   strlen(line));
	TALLOC_FREE(line);
	if (!ok) {
		int err = errno;

		odj_why(j, why, "cannot write the journal %s: %s", j->path,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_journal_begin(struct odj_journal *j, char **why)
{
	NTSTATUS status;

	/* in place with its first line, or not at all */
	status = odj_file_write(j, j->path,
				data_blob_const(JOURNAL_STAGING "\n",
						strlen(JOURNAL_STAGING) + 1),
				0600, 0, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	j->staging = true;
	j->intent_fd = open(j->path, O_WRONLY | O_APPEND | O_CLOEXEC |
			    O_NOFOLLOW);
	if (j->intent_fd == -1) {
		int err = errno;

		odj_why(j, why, "cannot open the journal %s: %s", j->path,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_journal_intent(void *private_data, const char *kind,
			    const char *path, char **why)
{
	struct odj_journal *j = talloc_get_type_abort(private_data,
						      struct odj_journal);

	NTSTATUS status;

	if (j->intent_fd == -1) {
		return NT_STATUS_INTERNAL_ERROR;	/* not begun */
	}
	status = intent_line(j, kind, path, why);
	/* the journal names them too: a rollback sweeps beside them */
	if (NT_STATUS_IS_OK(status) &&
	    !odj_str_list_add(j, strcmp(kind, "stage") == 0 ? &j->staged :
			      &j->dirs, path)) {
		status = NT_STATUS_NO_MEMORY;
	}
	return status;
}

NTSTATUS odj_journal_add_set(struct odj_journal *j,
			     const struct odj_staged_set *set, char **why)
{
	const char **dirs = odj_staged_set_dirs(set);
	size_t i, n = odj_staged_set_num_dirs(set);
	NTSTATUS status = NT_STATUS_OK;

	for (i = 0; i < n; i++) {
		if (strpbrk(dirs[i], "\t\n") != NULL) {
			odj_why(j, why, "%s: a tab or line break in the path",
				dirs[i]);
			return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
		}
		if (!str_list_has(j->dirs, dirs[i]) &&
		    !odj_str_list_add(j, &j->dirs, dirs[i])) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	n = odj_staged_set_count(set);
	for (i = 0; NT_STATUS_IS_OK(status) && i < n; i++) {
		status = journal_add(j, odj_staged_set_file(set, i), why);
	}
	return status;
}

NTSTATUS odj_journal_record(struct odj_journal *j, const char *tdb_path,
			    const char *key, DATA_BLOB value)
{
	j->tdb_path = talloc_strdup(j, tdb_path);
	j->tdb_key = talloc_strdup(j, key);
	if (j->tdb_path == NULL || j->tdb_key == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	sha256_hex(value.data, value.length, j->tdb_sha);
	return NT_STATUS_OK;
}

NTSTATUS odj_journal_write(struct odj_journal *j, char **why)
{
	char *text = talloc_asprintf(j, JOURNAL_MAGIC "\n");
	NTSTATUS status;
	size_t i;

	if (text != NULL && j->tdb_path != NULL) {
		text = talloc_asprintf_append_buffer(text,
						     "record\t%s\t%s\t%s\n",
						     j->tdb_path, j->tdb_key,
						     j->tdb_sha);
	}
	for (i = 0; text != NULL && j->dirs != NULL && j->dirs[i] != NULL;
	     i++) {
		text = talloc_asprintf_append_buffer(text, "dir\t%s\n",
						     j->dirs[i]);
	}
	for (i = 0; text != NULL && j->staged != NULL &&
		    j->staged[i] != NULL; i++) {
		text = talloc_asprintf_append_buffer(text, "stage\t%s\n",
						     j->staged[i]);
	}
	for (i = 0; text != NULL && i < j->num_files; i++) {
		const struct journal_file *f = &j->files[i];

		text = talloc_asprintf_append_buffer(text,
						     "file\t%s\t%s\t%s\n",
						     f->target, f->staged,
						     f->sha);
	}
	if (text != NULL) {
		text = talloc_asprintf_append_buffer(text, "end\n");
	}
	if (text == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_file_write(j, j->path, data_blob_const(text, strlen(text)),
				0600, 0, why);
	TALLOC_FREE(text);
	j->written = NT_STATUS_IS_OK(status);
	if (j->written && j->intent_fd != -1) {
		close(j->intent_fd);	/* replaced: the intent is done */
		j->intent_fd = -1;
		j->staging = false;
	}
	return status;
}

/* Every staged file into place, then the journal away */
static NTSTATUS roll_forward(struct odj_journal *j, char **why)
{
	char sha[SHA256_HEX + 1];
	size_t i;

	for (i = 0; i < j->num_files; i++) {
		const struct journal_file *f = &j->files[i];

		if (file_sha256(j, f->target, sha) &&
		    strcmp(sha, f->sha) == 0) {
			unlink(f->staged);	/* done already */
			continue;
		}
		if (!file_sha256(j, f->staged, sha) ||
		    strcmp(sha, f->sha) != 0) {
			odj_why(j, why, "%s: neither it nor %s holds what the "
				"join wrote; the journal %s stays for a look",
				f->target, f->staged, j->path);
			return NT_STATUS_DATA_ERROR;
		}
		if (rename(f->staged, f->target) != 0) {
			int err = errno;

			odj_why(j, why, "cannot put %s in place: %s (the join "
				"is committed; run odj again to finish it)",
				f->target, strerror(err));
			return map_nt_error_from_unix_common(err);
		}
		odj_fsync_dir(f->target);
	}
	return NT_STATUS_OK;
}

/* Directories the join made, deepest first, if empty */
static void rmdirs(const char **dirs)
{
	size_t n = 0;

	while (dirs != NULL && dirs[n] != NULL) {
		n++;
	}
	while (n > 0) {
		rmdir(dirs[--n]);
	}
}

/* The join never committed: the staged files go, then its directories */
static void roll_back(struct odj_journal *j)
{
	size_t i;

	for (i = 0; i < j->num_files; i++) {
		unlink(j->files[i].staged);
	}
	for (i = 0; j->staged != NULL && j->staged[i] != NULL; i++) {
		odj_remove_stale_tmp(j->staged[i]);
	}
	rmdirs(j->dirs);
}

static NTSTATUS remove_journal(struct odj_journal *j, char **why)
{
	if (unlink(j->path) != 0 && errno != ENOENT) {
		int err = errno;

		odj_why(j, why, "cannot remove the journal %s: %s", j->path,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	j->written = false;
	j->staging = false;
	odj_fsync_dir(j->path);
	return NT_STATUS_OK;
}

NTSTATUS odj_journal_finish(struct odj_journal *j, char **why)
{
	NTSTATUS status = roll_forward(j, why);

	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	return remove_journal(j, why);
}

NTSTATUS odj_journal_abandon(struct odj_journal *j, char **why)
{
	NTSTATUS status;

	if (j->written) {
		roll_back(j);
	}
	if (!j->written && !j->staging) {
		return NT_STATUS_OK;
	}
	/* an intent: the staged set has removed what it names */
	status = remove_journal(j, why);
	rmdirs(j->dirs);	/* the journal's own, now empty */
	return status;
}

/* "a\tb\tc": the @p n fields of a line, NULL if it has another count */
static char **split_fields(TALLOC_CTX *mem_ctx, char *line, size_t n)
{
	char **f = talloc_zero_array(mem_ctx, char *, n);
	size_t i = 0;
	char *save = NULL, *tok = NULL;

	for (tok = strtok_r(line, "\t", &save); f != NULL && tok != NULL;
	     tok = strtok_r(NULL, "\t", &save)) {
		if (i == n) {
			return NULL;
		}
		f[i++] = tok;
	}
	return i == n ? f : NULL;
}

static bool valid_sha(const char *s)
{
	return strlen(s) == SHA256_HEX &&
	       strspn(s, "0123456789abcdef") == SHA256_HEX;
}

/* One line of a journal into @p j; false if it is not one */
static bool parse_line(struct odj_journal *j, char *line)
{
	char **f = NULL;

	if (strncmp(line, "record\t", 7) == 0) {
		f = split_fields(j, line, 4);
		if (f == NULL || !valid_sha(f[3])) {
			return false;
		}
		j->tdb_path = f[1];
		j->tdb_key = f[2];
		memcpy(j->tdb_sha, f[3], SHA256_HEX + 1);
		return true;
	}
	if (strncmp(line, "stage\t", 6) == 0) {
		f = split_fields(j, line, 2);
		return f != NULL && odj_str_list_add(j, &j->staged, f[1]);
	}
	if (strncmp(line, "dir\t", 4) == 0) {
		f = split_fields(j, line, 2);
		return f != NULL && odj_str_list_add(j, &j->dirs, f[1]);
	}
	if (strncmp(line, "file\t", 5) == 0) {
		f = split_fields(j, line, 4);
		if (f == NULL || !valid_sha(f[3])) {
			return false;
		}
		j->files = talloc_realloc(j, j->files, struct journal_file,
					  j->num_files + 1);
		if (j->files == NULL) {
			return false;
		}
		j->files[j->num_files] = (struct journal_file) {
			.target = f[1], .staged = f[2],
		};
		memcpy(j->files[j->num_files].sha, f[3], SHA256_HEX + 1);
		j->num_files++;
		return true;
	}
	return false;
}

static NTSTATUS parse_journal(struct odj_journal *j, char *text, char **why)
{
	char *save = NULL, *line = NULL;
	bool end = false;

	line = strtok_r(text, "\n", &save);
	if (line != NULL && strcmp(line, JOURNAL_STAGING) == 0) {
		j->staging = true;
		end = true;	/* appended to as it went: no end */
	} else if (line == NULL || strcmp(line, JOURNAL_MAGIC) != 0) {
		odj_why(j, why, "%s is not a journal of odj's", j->path);
		return NT_STATUS_DATA_ERROR;
	}
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (strcmp(line, "end") == 0) {
			end = true;
			break;
		}
		if (j->staging && strchr(line, '\t') == NULL) {
			continue;	/* a line cut by the kill */
		}
		if (!parse_line(j, line)) {
			odj_why(j, why, "%s: a line odj does not know", j->path);
			return NT_STATUS_DATA_ERROR;
		}
	}
	if (!end) {
		odj_why(j, why, "%s: no end", j->path);
		return NT_STATUS_DATA_ERROR;
	}
	return NT_STATUS_OK;
}

/* Has secrets.tdb the record the journal names (the commit point)? */
static bool record_committed(struct odj_journal *j)
{
	struct tdb_context *tdb = NULL;
	TDB_DATA key, value;
	char sha[SHA256_HEX + 1];
	bool same = false;

	if (access(j->tdb_path, F_OK) != 0) {
		return false;
	}
	/* read-write, as Samba opens it: tdb rolls back a cut transaction */
	tdb = tdb_open(j->tdb_path, 0, TDB_DEFAULT, O_RDWR, 0600);
	if (tdb == NULL) {
		return false;
	}
	key = (TDB_DATA) {
		.dptr = discard_const_p(uint8_t, j->tdb_key),
		.dsize = strlen(j->tdb_key),
	};
	value = tdb_fetch(tdb, key);
	if (value.dptr != NULL) {
		sha256_hex(value.dptr, value.dsize, sha);
		same = strcmp(sha, j->tdb_sha) == 0;
		explicit_bzero(value.dptr, value.dsize);
		free(value.dptr);
	}
	tdb_close(tdb);
	return same;
}

NTSTATUS odj_journal_recover(struct odj_journal *j, const char **done,
			     char **why)
{
	DATA_BLOB text = data_blob_null;
	NTSTATUS status;

	*done = NULL;
	if (access(j->path, F_OK) != 0) {
		return NT_STATUS_OK;
	}
	status = odj_file_read(j, j->path, JOURNAL_MAX_SIZE, "a journal",
			       ODJ_READ_REGULAR, &text, why);
	if (NT_STATUS_IS_OK(status)) {
		status = parse_journal(j, (char *)text.data, why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	j->written = true;
	if (j->staging || (j->tdb_path != NULL && !record_committed(j))) {
		roll_back(j);
		*done = "rolled back";
	} else {
		status = roll_forward(j, why);
		*done = "completed";
	}
	if (NT_STATUS_IS_OK(status)) {
		status = remove_journal(j, why);
	}
	if (NT_STATUS_IS_OK(status) && strcmp(*done, "rolled back") == 0) {
		rmdirs(j->dirs);	/* the journal's own, now empty */
	}
	/* the journal object serves the next join now */
	TALLOC_FREE(j->files);
	TALLOC_FREE(j->dirs);
	TALLOC_FREE(j->staged);
	j->staging = false;
	j->num_files = 0;
	j->tdb_path = NULL;
	j->tdb_key = NULL;
	return status;
}

/*
 * The journal at @p path, if there is one, finished or rolled back; and
 * a journal a kill left half written (a temporary file) removed
 */
static NTSTATUS recover_at(TALLOC_CTX *mem_ctx, const char *path,
			   const char ***done, char **why)
{
	struct odj_journal *j = NULL;
	const char *what = NULL;
	char *dir = talloc_strdup(mem_ctx, path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	struct stat st;
	NTSTATUS status;

	if (slash == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*slash = '\0';
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
	    (access(path, F_OK) != 0 && access(dir, W_OK) != 0)) {
		/* no join journaled here, or nothing this user could do */
		TALLOC_FREE(dir);
		return NT_STATUS_OK;
	}
	TALLOC_FREE(dir);
	status = odj_journal_lock(mem_ctx, path, &j, why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_journal_recover(j, &what, why);
		odj_why_move(mem_ctx, why);
	}
	if (NT_STATUS_IS_OK(status) && what != NULL &&
	    !odj_str_list_add(mem_ctx, done, talloc_asprintf(
			j, "an interrupted join (%s): %s", path, what))) {
		status = NT_STATUS_NO_MEMORY;
	}
	TALLOC_FREE(j);
	return status;
}

NTSTATUS odj_recover(TALLOC_CTX *mem_ctx,
		     struct loadparm_context *lp_ctx,
		     const char *root_dir,
		     const char ***done,
		     char **why)
{
	TALLOC_CTX *ctx = talloc_new(mem_ctx);
	struct odj_root *root = NULL;
	const char *dirs[2] = { NULL };
	NTSTATUS status = NT_STATUS_OK;
	size_t i;

	*done = NULL;
	if (ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (root_dir != NULL) {
		status = odj_root_open(ctx, root_dir, &root, why);
	}
	if (NT_STATUS_IS_OK(status) && lp_ctx != NULL) {
		dirs[0] = odj_lp_get(ctx, lp_ctx, "state directory");
	}
	dirs[1] = ODJ_JOURNAL_SSSD_DIR;
	for (i = 0; NT_STATUS_IS_OK(status) && i < ARRAY_SIZE(dirs); i++) {
		char *dir = dirs[i] != NULL ?
			    odj_root_path(ctx, root, dirs[i]) : NULL;

		if (dir == NULL) {
			continue;
		}
		status = recover_at(mem_ctx, talloc_asprintf(
				ctx, "%s/" ODJ_JOURNAL_NAME, dir), done, why);
	}
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(ctx);
	return status;
}
