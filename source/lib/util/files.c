/*
 * Local files, one way for the whole library: read a file (or standard
 * input) whole, with a size limit; write one atomically (a temporary
 * file beside it, fsync, rename, fsync of the directory) so that a
 * reader or a crash sees the old file or the new one, never half; and
 * the temporary names that share one pattern, "<path>.odj-XXXXXX", so
 * that what a killed run left can be found and removed.
 */

#include "util/util.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_SUFFIX ".odj-"
#define TMP_TEMPLATE TMP_SUFFIX "XXXXXX"

bool odj_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			if (n == 0) {
				errno = ENOSPC;
			}
			return false;
		}
		p += n;
		len -= n;
	}
	return true;
}

int odj_tmp_create(TALLOC_CTX *mem_ctx, const char *path, char **tmp_path)
{
	char *tmp = talloc_asprintf(mem_ctx, "%s" TMP_TEMPLATE, path);
	int fd;

	if (tmp == NULL) {
		errno = ENOMEM;
		return -1;
	}
	/* mkostemp: 0600 whatever the umask */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		int err = errno;

		TALLOC_FREE(tmp);
		errno = err;
		return -1;
	}
	*tmp_path = tmp;
	return fd;
}

void odj_fsync_dir(const char *path)
{
	char *dir = talloc_strdup(NULL, path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	int fd;

	if (dir == NULL) {
		return;
	}
	if (slash == NULL) {
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		*(slash == dir ? slash + 1 : slash) = '\0';
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd != -1) {
		fsync(fd);
		close(fd);
	}
	TALLOC_FREE(dir);
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP) {
		rmdir(path);
	} else {
		unlink(path);
	}
	return 0;	/* on: remove what can be removed */
}

void odj_remove_tree(const char *dir)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		unlink(dir);
		return;
	}
	nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void odj_remove_stale_tmp(const char *path)
{
	char *copy = talloc_strdup(NULL, path);
	char *slash = copy != NULL ? strrchr(copy, '/') : NULL;
	const char *base = slash != NULL ? slash + 1 : copy;
	size_t blen;
	struct dirent *de = NULL;
	DIR *d = NULL;

	if (copy == NULL) {
		return;
	}
	if (slash == copy) {
		d = opendir("/");
	} else if (slash != NULL) {
		*slash = '\0';
		d = opendir(copy);
	} else {
		d = opendir(".");
	}
	if (d == NULL) {
		TALLOC_FREE(copy);
		return;
	}
	blen = strlen(base);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, base, blen) == 0 &&
		    strncmp(de->d_name + blen, TMP_SUFFIX,
			    strlen(TMP_SUFFIX)) == 0 &&
		    strlen(de->d_name + blen + strlen(TMP_SUFFIX)) == 6) {
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
	TALLOC_FREE(copy);
}

NTSTATUS odj_read_fd(TALLOC_CTX *mem_ctx,
		     int fd,
		     const char *name,
		     size_t max_size,
		     const char *what,
		     DATA_BLOB *out,
		     char **why)
{
	uint8_t *buf = NULL;
	size_t used = 0;
	size_t alloc = 8192;

	buf = talloc_array(mem_ctx, uint8_t, alloc);
	if (buf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(buf);

	for (;;) {
		ssize_t n;

		if (used == alloc - 1) {
			uint8_t *bigger = NULL;

			if (alloc > max_size) {
				odj_why(mem_ctx, why, "%s: larger than the "
					"%zu byte limit for %s", name,
					max_size, what);
				TALLOC_FREE(buf);
				return NT_STATUS_FILE_TOO_LARGE;
			}
			/* grow by hand so the old copy is wiped */
			bigger = talloc_array(mem_ctx, uint8_t, alloc * 2);
			if (bigger == NULL) {
				TALLOC_FREE(buf);
				return NT_STATUS_NO_MEMORY;
			}
			odj_wipe_on_free(bigger);
			memcpy(bigger, buf, used);
			TALLOC_FREE(buf);
			buf = bigger;
			alloc *= 2;
		}
		n = read(fd, buf + used, alloc - 1 - used);
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1) {
			int err = errno;

			odj_why(mem_ctx, why, "%s: %s", name, strerror(err));
			TALLOC_FREE(buf);
			return map_nt_error_from_unix_common(err);
		}
		if (n == 0) {
			break;
		}
		used += n;
	}
	if (used > max_size) {
		odj_why(mem_ctx, why, "%s: larger than the %zu byte limit "
			"for %s", name, max_size, what);
		TALLOC_FREE(buf);
		return NT_STATUS_FILE_TOO_LARGE;
	}
	buf[used] = '\0';
	*out = data_blob_const(buf, used);
	return NT_STATUS_OK;
}


static NTSTATUS errno_why(TALLOC_CTX *mem_ctx, char **why, const char *name,
			  int err)
{
	odj_why(mem_ctx, why, "%s: %s", name, strerror(err));
	return map_nt_error_from_unix_common(err);
}

/* What may be read from @p fd (a file, or a pipe with no size) */
static NTSTATUS check_readable(TALLOC_CTX *mem_ctx, int fd, const char *name,
			       size_t max_size, const char *what,
			       unsigned flags, char **why)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		return errno_why(mem_ctx, why, name, errno);
	}
	if ((flags & ODJ_READ_REGULAR) && !S_ISREG(st.st_mode)) {
		odj_why(mem_ctx, why, "%s: not a regular file", name);
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (S_ISDIR(st.st_mode)) {
		odj_why(mem_ctx, why, "%s: is a directory", name);
		return NT_STATUS_FILE_IS_A_DIRECTORY;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max_size) {
		odj_why(mem_ctx, why, "%s: %jd bytes is larger than the %zu "
			"byte limit for %s", name, (intmax_t)st.st_size,
			max_size, what);
		return NT_STATUS_FILE_TOO_LARGE;
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_file_read(TALLOC_CTX *mem_ctx,
		       const char *path,
		       size_t max_size,
		       const char *what,
		       unsigned flags,
		       DATA_BLOB *out,
		       char **why)
{
	const char *name = path;
	NTSTATUS status;
	int fd = STDIN_FILENO;

	if (path == NULL || out == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if ((flags & ODJ_READ_STDIN) && strcmp(path, "-") == 0) {
		name = "standard input";
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd == -1) {
			return errno_why(mem_ctx, why, path, errno);
		}
	}
	status = check_readable(mem_ctx, fd, name, max_size, what, flags,
				why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_read_fd(mem_ctx, fd, name, max_size, what, out,
				     why);
	}
	if (fd != STDIN_FILENO) {
		close(fd);
	}
	return status;
}

/* Move @p tmp into place; with ODJ_WRITE_NO_REPLACE never replace */
static int install_file(const char *tmp, const char *path, bool replace)
{
	if (replace) {
		return rename(tmp, path);
	}
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0) {
		return 0;
	}
	if (errno != EINVAL && errno != ENOSYS) {
		return -1;
	}
	/* file systems without RENAME_NOREPLACE: link() refuses too */
	if (link(tmp, path) != 0) {
		return -1;
	}
	unlink(tmp);
	return 0;
}

NTSTATUS odj_file_write(TALLOC_CTX *mem_ctx,
			const char *path,
			DATA_BLOB data,
			mode_t mode,
			unsigned flags,
			char **why)
{
	char *tmp = NULL;
	int fd, err = 0;

	if (path == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	fd = odj_tmp_create(NULL, path, &tmp);
	if (fd == -1) {
		return errno_why(mem_ctx, why, path, errno);
	}
	if ((mode != 0600 && fchmod(fd, mode) != 0) ||
	    !odj_write_all(fd, data.data, data.length) || fsync(fd) != 0) {
		err = errno;
	}
	if (close(fd) != 0 && err == 0) {
		err = errno;
	}
	if (err == 0 && install_file(tmp, path,
				     !(flags & ODJ_WRITE_NO_REPLACE)) != 0) {
		err = errno;
	}
	if (err != 0) {
		unlink(tmp);
		TALLOC_FREE(tmp);
		if (err == EEXIST) {
			odj_why(mem_ctx, why, "%s: file exists (refusing to "
				"overwrite it)", path);
			return NT_STATUS_OBJECT_NAME_COLLISION;
		}
		return errno_why(mem_ctx, why, path, err);
	}
	TALLOC_FREE(tmp);
	/* the rename itself must survive a crash, too */
	odj_fsync_dir(path);
	return NT_STATUS_OK;
}
