/*
 * Small helpers: the "why" message channel, wiping secrets, SID text,
 * string lists, reading and atomically writing local files, the NDR
 * pull budget.
 */

#include "odj_private.h"

#include <inttypes.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

void odj_why(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (why == NULL) {
		return;
	}
	va_start(ap, fmt);
	msg = talloc_vasprintf(ctx, fmt, ap);
	va_end(ap);
	TALLOC_FREE(*why);
	*why = msg;
}

void odj_why_prefix(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
{
	va_list ap;
	char *prefix = NULL;
	char *msg = NULL;

	if (why == NULL || *why == NULL) {
		return;
	}
	va_start(ap, fmt);
	prefix = talloc_vasprintf(ctx, fmt, ap);
	va_end(ap);
	if (prefix == NULL) {
		return;
	}
	msg = talloc_asprintf(ctx, "%s: %s", prefix, *why);
	TALLOC_FREE(prefix);
	if (msg == NULL) {
		return;
	}
	TALLOC_FREE(*why);
	*why = msg;
}

void odj_why_move(TALLOC_CTX *mem_ctx, char **why)
{
	if (why != NULL && *why != NULL) {
		talloc_steal(mem_ctx, *why);
	}
}

static int wipe_destructor(void *ptr)
{
	explicit_bzero(ptr, talloc_get_size(ptr));
	return 0;
}

void odj_wipe_on_free(const void *ptr)
{
	if (ptr == NULL) {
		return;
	}
	talloc_set_destructor(discard_const_p(void, ptr), wipe_destructor);
}

char *odj_secret_strdup(TALLOC_CTX *mem_ctx, const char *s)
{
	char *copy = talloc_strdup(mem_ctx, s);

	odj_wipe_on_free(copy);
	return copy;
}

char *odj_sid_string(TALLOC_CTX *mem_ctx, const struct ODJ_SID *sid)
{
	uint64_t ia = 0;
	char *s = NULL;
	int i;

	if (sid == NULL) {
		return talloc_strdup(mem_ctx, "(NULL SID)");
	}
	for (i = 0; i < 6; i++) {
		ia = (ia << 8) | sid->IdentifierAuthority[i];
	}
	s = talloc_asprintf(mem_ctx, "S-%" PRIu8 "-%" PRIu64,
			    sid->Revision, ia);
	for (i = 0; s != NULL && i < sid->SubAuthorityCount; i++) {
		s = talloc_asprintf_append_buffer(s, "-%" PRIu32,
						  sid->SubAuthority[i]);
	}
	return s;
}

static bool parse_uint(const char **p, uint64_t max, uint64_t *v)
{
	char *end = NULL;
	unsigned long long n;

	if (**p < '0' || **p > '9') {
		return false;
	}
	errno = 0;
	n = strtoull(*p, &end, 10);
	if (errno != 0 || n > max) {
		return false;
	}
	*v = n;
	*p = end;
	return true;
}

bool odj_sid_parse(const char *str, struct ODJ_SID *sid, TALLOC_CTX *mem_ctx)
{
	const char *p = str;
	uint32_t subs[15];
	uint64_t v = 0;
	uint8_t n = 0;
	int i;

	if (str == NULL || (p[0] != 'S' && p[0] != 's') || p[1] != '-') {
		return false;
	}
	p += 2;
	if (!parse_uint(&p, 255, &v) || *p != '-') {
		return false;
	}
	sid->Revision = v;
	p++;
	if (!parse_uint(&p, 0xffffffffffffULL, &v)) {
		return false;
	}
	for (i = 5; i >= 0; i--) {
		sid->IdentifierAuthority[i] = v & 0xff;
		v >>= 8;
	}
	while (*p == '-') {
		p++;
		if (n == 15 || !parse_uint(&p, UINT32_MAX, &v)) {
			return false;
		}
		subs[n++] = v;
	}
	if (*p != '\0') {
		return false;
	}
	sid->SubAuthorityCount = n;
	sid->SubAuthority = talloc_memdup(mem_ctx, subs, n * sizeof(subs[0]));
	if (n > 0 && sid->SubAuthority == NULL) {
		return false;
	}
	return true;
}

bool odj_sid_from_blob(TALLOC_CTX *mem_ctx, const uint8_t *p, size_t len,
		       struct ODJ_SID *sid)
{
	uint8_t n;
	int i;

	if (len < 8) {
		return false;
	}
	n = p[1];
	if (n > 15 || len != 8 + 4 * (size_t)n) {
		return false;
	}
	sid->Revision = p[0];
	sid->SubAuthorityCount = n;
	memcpy(sid->IdentifierAuthority, p + 2, 6);
	sid->SubAuthority = talloc_array(mem_ctx, uint32_t, n);
	if (n > 0 && sid->SubAuthority == NULL) {
		return false;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *q = p + 8 + 4 * i;

		sid->SubAuthority[i] = (uint32_t)q[0] | (uint32_t)q[1] << 8 |
				       (uint32_t)q[2] << 16 |
				       (uint32_t)q[3] << 24;
	}
	return true;
}

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

bool odj_str_list_add(TALLOC_CTX *mem_ctx, const char ***list,
		      const char *s)
{
	const char **l = *list;
	size_t n = 0;

	while (l != NULL && l[n] != NULL) {
		n++;
	}
	l = talloc_realloc(mem_ctx, l, const char *, n + 2);
	if (l == NULL) {
		return false;
	}
	l[n] = talloc_strdup(l, s);
	l[n + 1] = NULL;
	*list = l;
	return l[n] != NULL;
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
		    strncmp(de->d_name + blen, ".odj-", 5) == 0 &&
		    strlen(de->d_name + blen + 5) == 6) {
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

NTSTATUS odj_local_read(TALLOC_CTX *mem_ctx,
			const char *path,
			size_t max_size,
			DATA_BLOB *bytes,
			char **why)
{
	struct stat st;
	NTSTATUS status;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		err = errno;
		odj_why(mem_ctx, why, "%s: %s", path, strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		odj_why(mem_ctx, why, "%s: not a regular file", path);
		return NT_STATUS_INVALID_PARAMETER;
	}
	if ((uint64_t)st.st_size > max_size) {
		close(fd);
		odj_why(mem_ctx, why, "%s: %jd bytes is too large (at most "
			"%zu)", path, (intmax_t)st.st_size, max_size);
		return NT_STATUS_FILE_TOO_LARGE;
	}
	status = odj_read_fd(mem_ctx, fd, path, max_size, "this file", bytes,
			     why);
	close(fd);
	return status;
}

/* Move @p tmp into place; without @p replace never replace a file */
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

int odj_write_file_atomic(const char *path, const uint8_t *data, size_t len,
			  mode_t mode, bool replace)
{
	char *tmp = talloc_asprintf(NULL, "%s.XXXXXX", path);
	int fd, err = 0;

	if (tmp == NULL) {
		return ENOMEM;
	}
	/* mkstemp: 0600 whatever the umask; widened below if wanted */
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd == -1) {
		err = errno;
		TALLOC_FREE(tmp);
		return err;
	}
	if ((mode != 0600 && fchmod(fd, mode) != 0) ||
	    !odj_write_all(fd, data, len) || fsync(fd) != 0) {
		err = errno;
	}
	if (close(fd) != 0 && err == 0) {
		err = errno;
	}
	if (err == 0 && install_file(tmp, path, replace) != 0) {
		err = errno;
	}
	if (err != 0) {
		unlink(tmp);
	}
	TALLOC_FREE(tmp);
	return err;
}

NTSTATUS odj_local_write(TALLOC_CTX *mem_ctx,
			 const char *path,
			 DATA_BLOB data,
			 mode_t mode,
			 char **why)
{
	int err = odj_write_file_atomic(path, data.data, data.length, mode,
					true);

	if (err != 0) {
		odj_why(mem_ctx, why, "%s: %s", path, strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}

/*
 * libndr allocates a conformant array from the size on the wire before
 * it checks that the elements are there: a 20-byte stream could make us
 * zero 256 MiB.  No element decodes to more than PULL_EXPANSION times
 * its wire size, so a trial pull runs under that budget first.  (talloc
 * calls memlimits deprecated in favour of cgroups, which cannot bound
 * one parse.)  Nothing may outlive the budget: a chunk moved out of a
 * limited context keeps a pointer to its limit, so the trial's result
 * is only looked at, then wiped and freed with odj_pull_budget_free().
 */
#define PULL_EXPANSION 128
#define PULL_SLACK (256 * 1024)

TALLOC_CTX *odj_pull_budget_new(size_t wire)
{
	/*
	 * Top level, not under the caller's context: that may be a talloc
	 * pool (a tevent_req's state is one), and talloc then never frees
	 * the memlimit it keeps for a pool member.
	 */
	TALLOC_CTX *budget = talloc_new(NULL);

	if (budget == NULL) {
		return NULL;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	talloc_set_memlimit(budget, wire * PULL_EXPANSION + PULL_SLACK);
#pragma GCC diagnostic pop
	return budget;
}

static void wipe_chunk(const void *ptr, int depth, int max_depth,
		       int is_ref, void *private_data)
{
	if (!is_ref) {
		explicit_bzero(discard_const_p(void, ptr),
			       talloc_get_size(ptr));
	}
}

void odj_pull_budget_free(TALLOC_CTX *budget)
{
	if (budget == NULL) {
		return;
	}
	/* the trial may hold a password: wipe every chunk it allocated */
	talloc_report_depth_cb(budget, 0, -1, wipe_chunk, NULL);
	talloc_free(budget);
}
