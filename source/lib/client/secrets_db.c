/*
 * secrets.tdb itself: one transaction that either commits or leaves the
 * file exactly as it was.
 *
 * tdb's transactions keep the database consistent, not the file's bytes:
 * a commit that fails half-way (disk full, RLIMIT_FSIZE) may have grown
 * the file and written its recovery area before tdb gave up.  So the
 * file is copied first, under the transaction lock, and written back
 * where it differs if the transaction does not commit.
 *
 * The kernel makes the copy (sendfile) into an anonymous memory file
 * (memfd: never on disk, gone when closed, its pages zeroed before any
 * other process gets them, like those of the page cache that holds
 * secrets.tdb itself).  Reading half a megabyte into our own memory,
 * then wiping and freeing it, cost ten times as much: 2.5 ms, a tenth
 * of a whole join here.  Where the kernel will not (RLIMIT_FSIZE applies
 * to a memfd too), the copy is read into memory, and wiped.
 *
 * A database that does not exist yet is built under a temporary name and
 * linked into place at commit, so that a failed run never leaves an
 * (empty) secrets.tdb.
 *
 * Two joins at once are serialized by an exclusive flock() on the
 * directory that holds secrets.tdb, taken before the database is opened
 * and held until it is closed.  tdb's transaction lock alone would not
 * do: a database that does not exist yet has no lock to take, and what
 * a join publishes beside secrets.tdb (the keytab) is not under it: one
 * of two first joins racing could undo the winner's keytab.
 */

#include "client/client.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <tdb.h>

/*
 * Samba opens secrets.tdb with TDB_DEFAULT, O_RDWR|O_CREAT and mode 0600
 * (secrets_init_path()); so do we, but for the temporary name.
 */
struct odj_secrets_db {
	const char *path;
	const char *tmp_path;		/* a new database until commit */
	struct tdb_context *tdb;
	/* the existing file as it was: a memfd, else in memory */
	int snapshot_fd;
	DATA_BLOB snapshot;
	size_t snapshot_len;
	bool in_transaction;
	bool committed;
	/* the directory, locked (a child: released after the destructor) */
	struct odj_dir_lock *lock;
};

static NTSTATUS errno_fail(TALLOC_CTX *ctx, char **why, int err,
			   const char *what, const char *path)
{
	odj_why(ctx, why, "%s %s: %s", what, path, strerror(err));
	return map_nt_error_from_unix_common(err);
}

/* The kernel copies @p len bytes of @p fd into a new memfd */
static int copy_to_memfd(int fd, size_t len)
{
	int mfd = memfd_create("odj-secrets-snapshot", MFD_CLOEXEC);
	off_t off = 0;

	if (mfd == -1) {
		return -1;
	}
	while ((size_t)off < len) {
		ssize_t n = sendfile(mfd, fd, &off, len - off);

		if (n <= 0) {
			close(mfd);
			return -1;
		}
	}
	return mfd;
}

static NTSTATUS read_to_memory(struct odj_secrets_db *db, int fd, char **why)
{
	size_t done = 0;

	db->snapshot = data_blob_talloc(db, NULL, db->snapshot_len);
	if (db->snapshot_len > 0 && db->snapshot.data == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(db->snapshot.data);
	while (done < db->snapshot_len) {
		ssize_t n = pread(fd, db->snapshot.data + done,
				  db->snapshot_len - done, done);

		if (n <= 0) {
			return errno_fail(db, why, n == 0 ? EIO : errno,
					  "cannot read", db->path);
		}
		done += n;
	}
	return NT_STATUS_OK;
}

/* The whole file, copied under the transaction lock */
static NTSTATUS take_snapshot(struct odj_secrets_db *db, char **why)
{
	int fd = tdb_fd(db->tdb);
	struct stat st;

	if (fstat(fd, &st) != 0) {
		return errno_fail(db, why, errno, "cannot stat", db->path);
	}
	db->snapshot_len = st.st_size;
	db->snapshot_fd = copy_to_memfd(fd, db->snapshot_len);
	if (db->snapshot_fd != -1) {
		return NT_STATUS_OK;
	}
	return read_to_memory(db, fd, why);
}

/* @p n bytes of the snapshot at @p off */
static bool snapshot_read(struct odj_secrets_db *db, uint8_t *buf,
			  size_t n, size_t off)
{
	if (db->snapshot_fd == -1) {
		memcpy(buf, db->snapshot.data + off, n);
		return true;
	}
	return pread(db->snapshot_fd, buf, n, off) == (ssize_t)n;
}

/*
 * Put the file back as it was: a failed tdb commit may have grown it or
 * written its recovery area.  Only blocks that differ are written, so
 * this works on a full disk and under RLIMIT_FSIZE, where the failing
 * writes changed nothing.
 */
static bool restore_snapshot(struct odj_secrets_db *db)
{
	int fd = tdb_fd(db->tdb);
	uint8_t want[4096], have[4096];
	size_t off;
	struct stat st;
	bool wrote = false, ok = true;

	for (off = 0; off < db->snapshot_len; off += sizeof(want)) {
		size_t n = db->snapshot_len - off;

		if (n > sizeof(want)) {
			n = sizeof(want);
		}
		if (!snapshot_read(db, want, n, off)) {
			explicit_bzero(want, sizeof(want));
			return false;
		}
		if (pread(fd, have, n, off) == (ssize_t)n &&
		    memcmp(have, want, n) == 0) {
			continue;
		}
		wrote = true;
		ok &= pwrite(fd, want, n, off) == (ssize_t)n;
	}
	explicit_bzero(want, sizeof(want));
	explicit_bzero(have, sizeof(have));
	if (fstat(fd, &st) != 0) {
		return false;
	}
	if ((size_t)st.st_size != db->snapshot_len) {
		wrote = true;
		ok &= ftruncate(fd, db->snapshot_len) == 0;
	}
	if (wrote) {
		ok &= fsync(fd) == 0;
	}
	return ok;
}

bool odj_secrets_db_abort(struct odj_secrets_db *db)
{
	bool ok = true;

	if (db->committed) {
		return true;
	}
	if (db->tdb != NULL && db->in_transaction) {
		tdb_transaction_cancel(db->tdb);
		db->in_transaction = false;
	}
	if (db->tmp_path != NULL) {
		if (db->tdb != NULL) {
			tdb_close(db->tdb);
			db->tdb = NULL;
		}
		unlink(db->tmp_path);
		db->tmp_path = NULL;
		return true;
	}
	if (db->tdb == NULL) {
		return true;
	}
	/* keep other writers out while the old bytes go back */
	if (tdb_lockall(db->tdb) == 0) {
		ok = restore_snapshot(db);
		tdb_unlockall(db->tdb);
	} else {
		ok = restore_snapshot(db);
	}
	tdb_close(db->tdb);
	db->tdb = NULL;
	return ok;
}

static int db_destructor(struct odj_secrets_db *db)
{
	if (!db->committed) {
		odj_secrets_db_abort(db);
	} else if (db->tdb != NULL) {
		tdb_close(db->tdb);
	}
	if (db->snapshot_fd != -1) {
		close(db->snapshot_fd);
		db->snapshot_fd = -1;
	}
	return 0;
}

/* Wait for any other join of this directory's secrets.tdb to finish */
static NTSTATUS lock_dir(struct odj_secrets_db *db, char **why)
{
	char *dir = talloc_strdup(db, db->path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;

	if (dir == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (slash == NULL) {
		dir = talloc_strdup(db, ".");
	} else {
		*(slash == dir ? slash + 1 : slash) = '\0';
	}
	if (dir == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	return odj_dir_lock(db, dir, &db->lock, why);
}

static NTSTATUS create_tmp_db(struct odj_secrets_db *db, char **why)
{
	char *tmp = NULL;
	int fd;

	fd = odj_tmp_create(db, db->path, &tmp);
	if (fd == -1) {
		return errno_fail(db, why, errno, "cannot create a file beside",
				  db->path);
	}
	close(fd);
	db->tmp_path = tmp;
	/* an empty file with O_CREAT becomes a new database */
	db->tdb = tdb_open(tmp, 0, TDB_DEFAULT, O_RDWR | O_CREAT, 0600);
	if (db->tdb == NULL) {
		int err = errno != 0 ? errno : EIO;

		unlink(tmp);
		db->tmp_path = NULL;
		return errno_fail(db, why, err, "cannot create", db->path);
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_secrets_db_open(TALLOC_CTX *mem_ctx,
			     const char *path,
			     struct odj_secrets_db **_db,
			     char **why)
{
	struct odj_secrets_db *db = NULL;
	NTSTATUS status;

	db = talloc_zero(mem_ctx, struct odj_secrets_db);
	if (db == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	db->snapshot_fd = -1;
	talloc_set_destructor(db, db_destructor);
	db->path = talloc_strdup(db, path);
	if (db->path == NULL) {
		TALLOC_FREE(db);
		return NT_STATUS_NO_MEMORY;
	}
	status = lock_dir(db, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(db);
		return status;
	}
	/* under the lock no other join can own one */
	odj_remove_stale_tmp(db->path);

	errno = 0;
	db->tdb = tdb_open(path, 0, TDB_DEFAULT, O_RDWR, 0600);
	if (db->tdb == NULL && errno == ENOENT) {
		status = create_tmp_db(db, why);
	} else if (db->tdb == NULL) {
		status = errno_fail(db, why, errno != 0 ? errno : EIO,
				    "cannot open", path);
	} else {
		status = NT_STATUS_OK;
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(db);
		return status;
	}

	if (tdb_transaction_start(db->tdb) != 0) {
		odj_why(mem_ctx, why, "cannot start a transaction on %s: %s",
			path, tdb_errorstr(db->tdb));
		TALLOC_FREE(db);
		return NT_STATUS_INTERNAL_DB_ERROR;
	}
	db->in_transaction = true;

	if (db->tmp_path == NULL) {
		status = take_snapshot(db, why);
		if (!NT_STATUS_IS_OK(status)) {
			odj_why_move(mem_ctx, why);
			TALLOC_FREE(db);
			return status;
		}
	}
	*_db = db;
	return NT_STATUS_OK;
}

bool odj_secrets_db_created(const struct odj_secrets_db *db)
{
	return db->tmp_path != NULL;
}

bool odj_secrets_db_exists(struct odj_secrets_db *db, const char *key)
{
	TDB_DATA k = {
		.dptr = discard_const_p(uint8_t, key),
		.dsize = strlen(key),
	};

	return tdb_exists(db->tdb, k) == 1;
}

struct joins_state {
	TALLOC_CTX *mem_ctx;
	struct odj_secrets_join *joins;
	size_t num;
	bool ok;
};

static void add_join(struct joins_state *s, const char *domain, size_t len)
{
	size_t i;

	for (i = 0; i < s->num; i++) {
		if (strlen(s->joins[i].domain) == len &&
		    strncmp(s->joins[i].domain, domain, len) == 0) {
			return;
		}
	}
	s->joins = talloc_realloc(s->mem_ctx, s->joins,
				  struct odj_secrets_join, s->num + 1);
	if (s->joins == NULL) {
		s->ok = false;
		return;
	}
	s->joins[s->num] = (struct odj_secrets_join) {
		.domain = talloc_strndup(s->joins, domain, len),
	};
	if (s->joins[s->num].domain == NULL) {
		s->ok = false;
		return;
	}
	s->num++;
}

static int joins_fn(struct tdb_context *tdb, TDB_DATA key, TDB_DATA data,
		    void *private_data)
{
	static const char *prefixes[] = {
		"SECRETS/MACHINE_DOMAIN_INFO/",
		"SECRETS/MACHINE_PASSWORD/",
	};
	struct joins_state *s = private_data;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(prefixes); i++) {
		size_t plen = strlen(prefixes[i]);
		size_t len = key.dsize;

		if (key.dsize <= plen ||
		    memcmp(key.dptr, prefixes[i], plen) != 0) {
			continue;
		}
		/* Samba's keys carry no NUL, but be lenient */
		if (key.dptr[len - 1] == '\0') {
			len--;
		}
		add_join(s, (const char *)key.dptr + plen, len - plen);
	}
	return s->ok ? 0 : -1;
}

NTSTATUS odj_secrets_tdb_joins(struct tdb_context *tdb,
			       const char *path,
			       TALLOC_CTX *mem_ctx,
			       struct odj_secrets_join **joins,
			       size_t *num_joins,
			       char **why)
{
	struct joins_state s = { .mem_ctx = mem_ctx, .ok = true };
	size_t i;

	if (tdb_traverse_read(tdb, joins_fn, &s) < 0 || !s.ok) {
		TALLOC_FREE(s.joins);
		odj_why(mem_ctx, why, "cannot read %s: %s", path,
			tdb_errorstr(tdb));
		return s.ok ? NT_STATUS_INTERNAL_DB_CORRUPTION
			    : NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < s.num; i++) {
		char *key = odj_secrets_key(s.joins, "MACHINE_DOMAIN_INFO",
					    s.joins[i].domain);
		TDB_DATA k, v;

		if (key == NULL) {
			TALLOC_FREE(s.joins);
			return NT_STATUS_NO_MEMORY;
		}
		k = (TDB_DATA) { .dptr = (uint8_t *)key,
				 .dsize = strlen(key) };
		v = tdb_fetch(tdb, k);
		if (v.dptr == NULL) {
			continue;
		}
		/* undecodable: the caller treats it as an unknown join */
		odj_secrets_info_unpack(s.joins,
					data_blob_const(v.dptr, v.dsize),
					&s.joins[i].info, NULL);
		explicit_bzero(v.dptr, v.dsize);
		free(v.dptr);
	}
	*joins = s.joins;
	*num_joins = s.num;
	return NT_STATUS_OK;
}

NTSTATUS odj_secrets_db_joins(struct odj_secrets_db *db,
			      TALLOC_CTX *mem_ctx,
			      struct odj_secrets_join **joins,
			      size_t *num_joins,
			      char **why)
{
	return odj_secrets_tdb_joins(db->tdb, db->path, mem_ctx, joins,
				     num_joins, why);
}

/*
 * tdb 1.4 loses the reason when it cannot grow the file: errno is unset
 * after posix_fallocate() fails (it returns the error instead), and
 * tdb_error() still holds an earlier lookup's TDB_ERR_NOEXIST.  Little
 * room left on the file system is then the likely cause.
 */
#define TDB_GROWTH_ROOM (1024 * 1024)

static NTSTATUS tdb_fail(struct odj_secrets_db *db, int err, char **why,
			 const char *what)
{
	struct statvfs vfs;

	if (err == 0 && db->tdb != NULL &&
	    fstatvfs(tdb_fd(db->tdb), &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < TDB_GROWTH_ROOM) {
		err = ENOSPC;
	}
	if (err != 0) {
		odj_why(db, why, "cannot %s %s: %s", what, db->path,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	odj_why(db, why, "cannot %s %s: %s", what, db->path,
		tdb_errorstr(db->tdb));
	return NT_STATUS_INTERNAL_DB_ERROR;
}

NTSTATUS odj_secrets_db_apply(struct odj_secrets_db *db,
			      const struct odj_secrets_record *records,
			      size_t num_records,
			      char **why)
{
	size_t i;

	for (i = 0; i < num_records; i++) {
		const struct odj_secrets_record *r = &records[i];
		TDB_DATA k = {
			.dptr = discard_const_p(uint8_t, r->key),
			.dsize = strlen(r->key),
		};
		int ret;

		/* a full disk shows in errno; tdb's own code may be stale */
		errno = 0;
		if (r->value.data != NULL) {
			TDB_DATA v = {
				.dptr = r->value.data,
				.dsize = r->value.length,
			};

			ret = tdb_store(db->tdb, k, v, TDB_REPLACE);
		} else if (tdb_exists(db->tdb, k) == 1) {
			ret = tdb_delete(db->tdb, k);
		} else {
			ret = 0;
		}
		if (ret != 0) {
			return tdb_fail(db, errno, why, "write");
		}
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_secrets_db_prepare(struct odj_secrets_db *db, char **why)
{
	if (db->tmp_path == NULL) {
		errno = 0;
		if (tdb_transaction_prepare_commit(db->tdb) != 0) {
			/* tdb has cancelled the transaction */
			db->in_transaction = false;
			return tdb_fail(db, errno, why, "write");
		}
		return NT_STATUS_OK;
	}
	/* a new database is complete once its transaction is committed */
	errno = 0;
	if (tdb_transaction_commit(db->tdb) != 0) {
		db->in_transaction = false;	/* tdb cancelled it */
		return tdb_fail(db, errno, why, "write");
	}
	db->in_transaction = false;
	if (tdb_close(db->tdb) != 0) {
		db->tdb = NULL;
		return errno_fail(db, why, errno, "cannot write", db->path);
	}
	db->tdb = NULL;
	return NT_STATUS_OK;
}

NTSTATUS odj_secrets_db_commit(struct odj_secrets_db *db, char **why)
{
	if (db->tmp_path == NULL) {
		errno = 0;
		if (tdb_transaction_commit(db->tdb) != 0) {
			/* tdb has cancelled the transaction */
			db->in_transaction = false;
			return tdb_fail(db, errno, why, "write");
		}
		db->in_transaction = false;
		db->committed = true;
		return NT_STATUS_OK;
	}
	if (db->tdb != NULL) {
		return NT_STATUS_INTERNAL_ERROR;	/* not prepared */
	}
	/* never replace a secrets.tdb that appeared meanwhile */
	if (renameat2(AT_FDCWD, db->tmp_path, AT_FDCWD, db->path,
		      RENAME_NOREPLACE) != 0) {
		int err = errno;

		if (err != EINVAL || link(db->tmp_path, db->path) != 0) {
			return errno_fail(db, why, err == EINVAL ? errno : err,
					  "cannot create", db->path);
		}
		unlink(db->tmp_path);
	}
	odj_fsync_dir(db->path);
	db->tmp_path = NULL;
	db->committed = true;
	return NT_STATUS_OK;
}
