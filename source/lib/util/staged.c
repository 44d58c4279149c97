/*
 * Staged files: the new version of a file written beside its target
 * ("<target>.odj-XXXXXX"), fsynced, and handed to the join's journal,
 * which renames it into place once the join commits (client/journal.c).
 * Freed before that, the staged file is removed.
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
	char *tmp;
	int fd;
	bool finished;		/* the journal's now */
};

static int staged_destructor(struct odj_staged_file *s)
{
	if (s->fd != -1) {
		close(s->fd);
		s->fd = -1;
	}
	if (!s->finished && s->tmp != NULL) {
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
	/* what a killed join left here (under the join's lock: no live one) */
	odj_remove_stale_tmp(path);
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

const char *odj_staged_target(const struct odj_staged_file *staged)
{
	return staged->path;
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

void odj_staged_finish(struct odj_staged_file *s)
{
	s->finished = true;
}

/*
 * A staged set: the files of one join, staged together, and the
 * directories made for them (parents first).  Freed unfinished, its
 * files are removed, then the directories it made (if empty).
 */
struct odj_staged_set {
	struct odj_staged_file **files;
	size_t num_files;
	const char **dirs;
	size_t num_dirs;
	bool finished;
	odj_staged_announce_fn announce;
	void *announce_private;
};

/* Back to @p files files and @p dirs directories: the rest removed */
static void set_truncate(struct odj_staged_set *set, size_t files,
			 size_t dirs)
{
	while (set->num_files > files) {
		set->num_files--;
		TALLOC_FREE(set->files[set->num_files]);
	}
	while (set->num_dirs > dirs) {
		set->num_dirs--;
		rmdir(set->dirs[set->num_dirs]);	/* only if empty */
	}
}

static int set_destructor(struct odj_staged_set *set)
{
	size_t i;

	if (!set->finished) {
		set_truncate(set, 0, 0);
	}
	for (i = 0; i < set->num_files; i++) {
		TALLOC_FREE(set->files[i]);
	}
	return 0;
}

struct odj_staged_set *odj_staged_set_new(TALLOC_CTX *mem_ctx)
{
	struct odj_staged_set *set = talloc_zero(mem_ctx,
						 struct odj_staged_set);

	if (set != NULL) {
		talloc_set_destructor(set, set_destructor);
	}
	return set;
}

void odj_staged_set_announce(struct odj_staged_set *set,
			     odj_staged_announce_fn fn, void *private_data)
{
	set->announce = fn;
	set->announce_private = private_data;
}

static NTSTATUS announce(struct odj_staged_set *set, const char *kind,
			 const char *path, char **why)
{
	if (set->announce == NULL) {
		return NT_STATUS_OK;
	}
	return set->announce(set->announce_private, kind, path, why);
}

NTSTATUS odj_staged_set_adopt(struct odj_staged_set *set,
			      struct odj_staged_file *staged)
{
	set->files = talloc_realloc(set, set->files, struct odj_staged_file *,
				    set->num_files + 1);
	if (set->files == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	set->files[set->num_files++] = talloc_steal(set, staged);
	return NT_STATUS_OK;
}

/*
 * The end of staging one file of @p set: closed (synced) and adopted if
 * all went well so far, dropped with @p why kept on the set if not.
 */
static NTSTATUS close_and_adopt(struct odj_staged_set *set,
				struct odj_staged_file *s, NTSTATUS status,
				char **why)
{
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_close(s, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_set_adopt(set, s);
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(set, why);
		TALLOC_FREE(s);
	}
	return status;
}

NTSTATUS odj_staged_set_text(struct odj_staged_set *set, const char *path,
			     mode_t mode, const char *text, char **why)
{
	struct odj_staged_file *s = NULL;
	NTSTATUS status;

	status = announce(set, "stage", path, why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_create(set, path, mode, &s, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_write_text(s, text, why);
	}
	return close_and_adopt(set, s, status, why);
}

bool odj_staged_set_has(const struct odj_staged_set *set, const char *path)
{
	return odj_staged_set_find(set, path) != NULL;
}

/* Copy the regular file @p src into @p s */
static NTSTATUS copy_into(struct odj_staged_file *s, const char *src,
			  char **why)
{
	uint8_t buf[65536];
	int fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	ssize_t n = 0;
	int err = 0;

	if (fd == -1 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		err = fd == -1 ? errno : EINVAL;
		odj_why(s, why, "cannot read %s: %s", src, strerror(err));
		if (fd != -1) {
			close(fd);
		}
		return map_nt_error_from_unix_common(err);
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n == -1 || !odj_write_all(s->fd, buf, n)) {
			err = errno;
			break;
		}
	}
	close(fd);
	if (err != 0) {
		odj_why(s, why, "cannot copy %s to %s: %s", src, s->tmp,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_staged_set_copy(struct odj_staged_set *set, const char *path,
			     const char *src, mode_t mode, uid_t uid,
			     gid_t gid, char **why)
{
	struct odj_staged_file *s = NULL;
	NTSTATUS status;

	status = announce(set, "stage", path, why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_create(set, path, mode, &s, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = copy_into(s, src, why);
	}
	/* the owner first: chown clears the set-id bits of the mode */
	if (NT_STATUS_IS_OK(status) &&
	    (fchown(s->fd, uid, gid) != 0 || fchmod(s->fd, mode) != 0)) {
		int err = errno;

		odj_why(set, why, "cannot set the owner or mode of %s: %s",
			s->tmp, strerror(err));
		status = map_nt_error_from_unix_common(err);
	}
	return close_and_adopt(set, s, status, why);
}

const struct odj_staged_file *odj_staged_set_find(
	const struct odj_staged_set *set, const char *path)
{
	size_t i;

	for (i = 0; i < set->num_files; i++) {
		if (strcmp(set->files[i]->path, path) == 0) {
			return set->files[i];
		}
	}
	return NULL;
}

bool odj_staged_set_drop(struct odj_staged_set *set, const char *path)
{
	size_t i;

	for (i = 0; i < set->num_files; i++) {
		if (strcmp(set->files[i]->path, path) != 0) {
			continue;
		}
		TALLOC_FREE(set->files[i]);	/* and its staged file */
		memmove(&set->files[i], &set->files[i + 1],
			(set->num_files - i - 1) * sizeof(set->files[0]));
		set->num_files--;
		return true;
	}
	return false;
}

static NTSTATUS set_add_dir(struct odj_staged_set *set, const char *dir)
{
	set->dirs = talloc_realloc(set, set->dirs, const char *,
				   set->num_dirs + 1);
	if (set->dirs == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	set->dirs[set->num_dirs] = talloc_strdup(set->dirs, dir);
	if (set->dirs[set->num_dirs] == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	set->num_dirs++;
	return NT_STATUS_OK;
}

NTSTATUS odj_staged_set_mkdir(struct odj_staged_set *set, const char *dir,
			      mode_t mode, char **why)
{
	char *parent = NULL, *slash = NULL;
	struct stat st;
	NTSTATUS status;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			return NT_STATUS_OK;
		}
		odj_why(set, why, "%s is not a directory", dir);
		return NT_STATUS_NOT_A_DIRECTORY;
	}
	parent = talloc_strdup(set, dir);
	slash = parent != NULL ? strrchr(parent, '/') : NULL;
	if (slash == NULL || slash == parent) {
		TALLOC_FREE(parent);
		odj_why(set, why, "cannot make %s", dir);
		return NT_STATUS_OBJECT_PATH_NOT_FOUND;
	}
	*slash = '\0';
	/* the parents first, 0755 as a package makes them */
	status = odj_staged_set_mkdir(set, parent, 0755, why);
	TALLOC_FREE(parent);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = announce(set, "dir", dir, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* chmod: the umask must not decide (0711 for /etc/sssd) */
	if (mkdir(dir, mode) != 0 || chmod(dir, mode) != 0) {
		int err = errno;

		odj_why(set, why, "cannot make %s: %s", dir, strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	odj_fsync_dir(dir);
	return set_add_dir(set, dir);
}

void odj_staged_set_mark(const struct odj_staged_set *set,
			 struct odj_staged_mark *mark)
{
	mark->files = set->num_files;
	mark->dirs = set->num_dirs;
}

void odj_staged_set_back(struct odj_staged_set *set,
			 const struct odj_staged_mark *mark)
{
	set_truncate(set, mark->files, mark->dirs);
}

size_t odj_staged_set_count(const struct odj_staged_set *set)
{
	return set->num_files;
}

const struct odj_staged_file *odj_staged_set_file(
	const struct odj_staged_set *set, size_t i)
{
	return i < set->num_files ? set->files[i] : NULL;
}

const char **odj_staged_set_dirs(const struct odj_staged_set *set)
{
	return set->dirs;	/* NULL or num_dirs entries, not terminated */
}

size_t odj_staged_set_num_dirs(const struct odj_staged_set *set)
{
	return set->num_dirs;
}

void odj_staged_set_finish(struct odj_staged_set *set)
{
	size_t i;

	for (i = 0; i < set->num_files; i++) {
		odj_staged_finish(set->files[i]);
	}
	set->finished = true;
}
