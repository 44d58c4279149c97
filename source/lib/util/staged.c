/*
 * Staged files: the new version of a file written beside it and swapped
 * in with renameat2(RENAME_EXCHANGE), so that until odj_staged_finish()
 * the swap can be undone and the old file comes back unchanged.  The
 * join's files (smb.conf, keytab, certificates) go this way, published
 * together just before secrets.tdb commits.
 */

#include "util/util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct odj_staged_file {
	const char *path;
	char *tmp;		/* after an exchange: the old file */
	int fd;
	bool published;
	bool exchanged;		/* tmp holds the old file */
	bool replaced;		/* the old file is gone */
	bool finished;
};

static int staged_destructor(struct odj_staged_file *s)
{
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	if (s->finished) {
		return 0;
	}
	if (s->published) {
		odj_staged_undo(s);
	}
	if (s->tmp != NULL) {
		unlink(s->tmp);
	}
	return 0;
}

NTSTATUS odj_staged_create(TALLOC_CTX *mem_ctx,
			   const char *path,
			   mode_t mode,
			   struct odj_staged_file **staged,
			   char **why)
{
	struct odj_staged_file *s = talloc_zero(mem_ctx,
						struct odj_staged_file);

	if (s == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	s->fd = -1;
	s->path = talloc_strdup(s, path);
	if (s->path == NULL) {
		TALLOC_FREE(s);
		return NT_STATUS_NO_MEMORY;
	}
	s->fd = odj_tmp_create(s, path, &s->tmp);
	if (s->fd == -1) {
		int err = errno;

		odj_why(mem_ctx, why, "cannot create a file beside %s: %s",
			path, strerror(err));
		TALLOC_FREE(s);
		return map_nt_error_from_unix_common(err);
	}
	talloc_set_destructor(s, staged_destructor);
	if (fchmod(s->fd, mode) != 0) {
		int err = errno;

		odj_why(mem_ctx, why, "cannot chmod %s: %s", s->tmp,
			strerror(err));
		TALLOC_FREE(s);
		return map_nt_error_from_unix_common(err);
	}
	*staged = s;
	return NT_STATUS_OK;
}

const char *odj_staged_tmp_path(const struct odj_staged_file *staged)
{
	return staged->tmp;
}

int odj_staged_fd(const struct odj_staged_file *staged)
{
	return staged->fd;
}

NTSTATUS odj_staged_write_text(struct odj_staged_file *s, const char *text,
			       char **why)
{
	if (!odj_write_all(s->fd, (const uint8_t *)text, strlen(text))) {
		int err = errno;

		odj_why(s, why, "cannot write %s: %s", s->tmp, strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_staged_close(struct odj_staged_file *s, char **why)
{
	int ret = fsync(s->fd);
	int err = errno;

	if (close(s->fd) != 0 && ret == 0) {
		ret = -1;
		err = errno;
	}
	s->fd = -1;
	if (ret != 0) {
		odj_why(s, why, "cannot write %s: %s", s->tmp, strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_staged_publish(struct odj_staged_file *s, char **why)
{
	int ret;
	int err;

	ret = renameat2(AT_FDCWD, s->tmp, AT_FDCWD, s->path,
			RENAME_EXCHANGE);
	if (ret == 0) {
		s->exchanged = true;
		s->published = true;
		odj_fsync_dir(s->path);
		return NT_STATUS_OK;
	}
	err = errno;
	if (err == ENOENT && access(s->tmp, F_OK) == 0) {
		/* nothing to exchange with: a new file */
		ret = renameat2(AT_FDCWD, s->tmp, AT_FDCWD, s->path,
				RENAME_NOREPLACE);
	} else if (err == EINVAL) {
		/* no RENAME_EXCHANGE here: replace without a way back */
		ret = rename(s->tmp, s->path);
		s->replaced = ret == 0;
	}
	if (ret != 0) {
		err = errno;
		odj_why(s, why, "cannot replace %s: %s", s->path,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	TALLOC_FREE(s->tmp);
	s->published = true;
	odj_fsync_dir(s->path);
	return NT_STATUS_OK;
}

bool odj_staged_undo(struct odj_staged_file *s)
{
	bool ok = true;

	if (!s->published) {
		return true;
	}
	s->published = false;
	if (s->exchanged) {
		ok = renameat2(AT_FDCWD, s->tmp, AT_FDCWD, s->path,
			       RENAME_EXCHANGE) == 0;
		s->exchanged = false;
	} else if (s->replaced) {
		ok = false;	/* rename() without exchange: no way back */
	} else {
		ok = unlink(s->path) == 0;
	}
	odj_fsync_dir(s->path);
	return ok;
}

void odj_staged_finish(struct odj_staged_file *s)
{
	if (s->exchanged && s->tmp != NULL) {
		unlink(s->tmp);
	}
	s->finished = true;
}
