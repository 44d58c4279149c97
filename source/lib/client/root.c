/*
 * The image root (requestodj root=DIR): a machine's file system mounted
 * somewhere, not yet booted, joined as djoin /WINDOWSPATH joins an
 * offline Windows image.
 *
 * Every path of a join is a path as the image sees it ("/etc/krb5.keytab",
 * smb.conf's "private dir"), taken inside DIR.  Symbolic links in the
 * image are followed as the booted image will follow them: an absolute
 * link starts again at DIR, ".." never climbs above it.  So nothing
 * outside DIR is read for a target or written, whatever the image holds.
 * Paths the admin gives on the command line are paths of this system
 * and must lie inside DIR.
 */

#include "client/client.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* as the kernel's limit on links followed in one lookup */
#define ROOT_MAX_LINKS 40

struct odj_root {
	const char *dir;		/* absolute, no symbolic link */
};

NTSTATUS odj_root_open(TALLOC_CTX *mem_ctx, const char *dir,
		       struct odj_root **_root, char **why)
{
	struct odj_root *root = NULL;
	struct stat st, slash;
	struct statvfs vfs;
	char real[PATH_MAX];

	if (dir == NULL || dir[0] == '\0') {
		odj_why(mem_ctx, why, "root=: give the directory of the "
			"image");
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (stat(dir, &st) != 0) {
		int err = errno;

		odj_why(mem_ctx, why, "root=%s: %s", dir, strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	if (!S_ISDIR(st.st_mode)) {
		odj_why(mem_ctx, why, "root=%s is not a directory", dir);
		return NT_STATUS_NOT_A_DIRECTORY;
	}
	if (stat("/", &slash) == 0 && st.st_dev == slash.st_dev &&
	    st.st_ino == slash.st_ino) {
		odj_why(mem_ctx, why, "root=%s is this system's / itself; "
			"leave root= out to join the running system", dir);
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (realpath(dir, real) == NULL) {
		int err = errno;

		odj_why(mem_ctx, why, "root=%s: %s", dir, strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	if ((statvfs(real, &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0) ||
	    access(real, W_OK) != 0) {
		odj_why(mem_ctx, why, "root=%s is read-only (mount the "
			"image read-write)", dir);
		return NT_STATUS_MEDIA_WRITE_PROTECTED;
	}
	root = talloc_zero(mem_ctx, struct odj_root);
	if (root == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	root->dir = talloc_strdup(root, real);
	if (root->dir == NULL) {
		TALLOC_FREE(root);
		return NT_STATUS_NO_MEMORY;
	}
	*_root = root;
	return NT_STATUS_OK;
}

const char *odj_root_dir(const struct odj_root *root)
{
	return root != NULL ? root->dir : NULL;
}

/* The components of @p path before those still in @p rest */
static char *join_rest(TALLOC_CTX *ctx, const char *path, const char *rest)
{
	if (rest == NULL || rest[0] == '\0') {
		return talloc_strdup(ctx, path);
	}
	return talloc_asprintf(ctx, "%s/%s", path, rest);
}

/*
 * Resolve @p path (absolute, as the image sees it) inside the root, one
 * component at a time.  Components that do not exist are kept as they
 * are: the file may be one the join creates.
 */
static char *resolve(TALLOC_CTX *mem_ctx, const char *top, const char *path)
{
	TALLOC_CTX *ctx = talloc_new(mem_ctx);
	char *done = talloc_strdup(ctx, top);
	char *todo = talloc_strdup(ctx, path);
	char *result = NULL;
	int links = 0;

	while (done != NULL && todo != NULL) {
		char *c = todo, *next = NULL, *cand = NULL, link[PATH_MAX];
		struct stat st;
		ssize_t n;

		while (*c == '/') {
			c++;
		}
		if (*c == '\0') {
			result = talloc_steal(mem_ctx, done);
			break;
		}
		next = strchr(c, '/');
		if (next != NULL) {
			*next++ = '\0';
		}
		if (strcmp(c, ".") == 0) {
			todo = talloc_strdup(ctx, next != NULL ? next : "");
			continue;
		}
		if (strcmp(c, "..") == 0) {
			char *slash = strrchr(done, '/');

			if (strlen(done) > strlen(top) && slash != NULL) {
				*slash = '\0';
			}
			todo = talloc_strdup(ctx, next != NULL ? next : "");
			continue;
		}
		cand = talloc_asprintf(ctx, "%s/%s", done, c);
		if (cand == NULL || lstat(cand, &st) != 0 ||
		    !S_ISLNK(st.st_mode)) {
			done = cand;
			todo = talloc_strdup(ctx, next != NULL ? next : "");
			continue;
		}
		n = readlink(cand, link, sizeof(link) - 1);
		if (n < 0 || ++links > ROOT_MAX_LINKS) {
			errno = n < 0 ? errno : ELOOP;
			break;
		}
		link[n] = '\0';
		if (link[0] == '/') {
			done = talloc_strdup(ctx, top);
		}
		todo = join_rest(ctx, link, next);
	}
	if (result == NULL && errno == 0) {
		errno = ENOMEM;
	}
	TALLOC_FREE(ctx);
	return result;
}

char *odj_root_path(TALLOC_CTX *mem_ctx, const struct odj_root *root,
		    const char *path)
{
	if (path == NULL) {
		errno = EINVAL;
		return NULL;
	}
	if (root == NULL) {
		return talloc_strdup(mem_ctx, path);
	}
	if (path[0] != '/') {
		errno = EINVAL;
		return NULL;
	}
	errno = 0;
	return resolve(mem_ctx, root->dir, path);
}

/* The deepest directory of @p path that exists, resolved */
static char *existing_prefix(TALLOC_CTX *ctx, const char *path,
			     const char **tail)
{
	char *copy = talloc_strdup(ctx, path), real[PATH_MAX];
	size_t len = copy != NULL ? strlen(copy) : 0;

	while (copy != NULL) {
		if (realpath(copy, real) != NULL) {
			*tail = path + len;
			return talloc_strdup(ctx, real);
		}
		char *slash = strrchr(copy, '/');

		if (slash == NULL || slash == copy) {
			break;
		}
		*slash = '\0';
		len = slash - copy;
	}
	return NULL;
}

static NTSTATUS image_path(TALLOC_CTX *mem_ctx,
			     const struct odj_root *root,
			     const char *host_path,
			     const char *what,
			     char **image_path,
			     char **why)
{
	TALLOC_CTX *ctx = NULL;
	const char *tail = NULL;
	char *abs = NULL, *prefix = NULL, *cwd = NULL;
	size_t n;

	if (root == NULL) {
		*image_path = talloc_strdup(mem_ctx, host_path);
		return *image_path != NULL ? NT_STATUS_OK :
					     NT_STATUS_NO_MEMORY;
	}
	ctx = talloc_new(mem_ctx);
	if (ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (host_path[0] == '/') {
		abs = talloc_strdup(ctx, host_path);
	} else {
		cwd = getcwd(NULL, 0);
		abs = cwd != NULL ? talloc_asprintf(ctx, "%s/%s", cwd,
						    host_path) : NULL;
		free(cwd);
	}
	prefix = abs != NULL ? existing_prefix(ctx, abs, &tail) : NULL;
	n = strlen(root->dir);
	if (prefix == NULL || strncmp(prefix, root->dir, n) != 0 ||
	    (prefix[n] != '/' && prefix[n] != '\0')) {
		odj_why(mem_ctx, why, "%s %s is outside the image root %s",
			what, host_path, root->dir);
		TALLOC_FREE(ctx);
		return NT_STATUS_OBJECT_PATH_INVALID;
	}
	*image_path = talloc_asprintf(mem_ctx, "/%s%s", prefix + n +
				      (prefix[n] == '/'), tail);
	TALLOC_FREE(ctx);
	return *image_path != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS odj_root_arg_path(TALLOC_CTX *mem_ctx, const struct odj_root *root,
			   const char *host_path, const char *what,
			   const char **path, char **why)
{
	char *img = NULL;
	NTSTATUS status;

	if (root == NULL) {
		*path = host_path;
		return NT_STATUS_OK;
	}
	status = image_path(mem_ctx, root, host_path, what, &img, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	*path = odj_root_path(mem_ctx, root, img);
	if (*path == NULL) {
		int err = errno;

		odj_why(mem_ctx, why, "%s %s: %s", what, host_path,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}
