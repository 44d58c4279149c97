/*
 * smb.conf for a join: what must change, and a new smb.conf with the
 * changes, staged (util/staged.c) to be published with the join.
 */

#include "client/client.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <charset.h>
#include <param.h>

/* enum server_role of lib/param/loadparm.h, not installed */
#define ODJ_ROLE_DOMAIN_MEMBER 1

/* Largest smb.conf we rewrite */
#define ODJ_CONFIG_MAX_SIZE (4 * 1024 * 1024)

static bool add_change(TALLOC_CTX *mem_ctx,
		       struct odj_config_change **changes,
		       size_t *n,
		       const char *name,
		       const char *value,
		       const char *current)
{
	if (value == NULL) {
		return false;
	}
	*changes = talloc_realloc(mem_ctx, *changes, struct odj_config_change,
				  *n + 1);
	if (*changes == NULL) {
		return false;
	}
	(*changes)[*n] = (struct odj_config_change) {
		.name = name,
		.value = talloc_strdup(*changes, value),
		.current = talloc_strdup(*changes,
					 current != NULL ? current : ""),
	};
	(*n)++;
	return (*changes)[*n - 1].value != NULL &&
	       (*changes)[*n - 1].current != NULL;
}

NTSTATUS odj_config_check(TALLOC_CTX *mem_ctx,
			  struct loadparm_context *lp_ctx,
			  const struct odj_join *join,
			  struct odj_config_change **_changes,
			  size_t *_num_changes,
			  char **why)
{
	TALLOC_CTX *tmp_ctx = talloc_new(mem_ctx);
	struct odj_config_change *changes = NULL;
	size_t n = 0;
	const char *role = NULL, *security = NULL, *workgroup = NULL;
	char *realm = NULL;
	bool ok = true;

	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	role = odj_lp_get(tmp_ctx, lp_ctx, "server role");
	security = odj_lp_get(tmp_ctx, lp_ctx, "security");
	workgroup = odj_lp_get(tmp_ctx, lp_ctx, "workgroup");
	realm = strupper_talloc(tmp_ctx, join->dns_domain);
	if (role == NULL || security == NULL || workgroup == NULL ||
	    realm == NULL) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	if (lpcfg_server_role(lp_ctx) > ODJ_ROLE_DOMAIN_MEMBER) {
		odj_why(mem_ctx, why, "this smb.conf is a domain controller's "
			"(server role = %s); only a member can be joined",
			role);
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_INVALID_DOMAIN_ROLE;
	}
	if (strcasecmp(lpcfg_netbios_name(lp_ctx), join->netbios_name) != 0) {
		ok &= add_change(tmp_ctx, &changes, &n, "netbios name",
				 strupper_talloc(tmp_ctx, join->netbios_name),
				 lpcfg_netbios_name(lp_ctx));
	}
	if (strcasecmp(workgroup, join->netbios_domain) != 0) {
		ok &= add_change(tmp_ctx, &changes, &n, "workgroup",
				 join->netbios_domain, workgroup);
	}
	if (strcasecmp(lpcfg_realm(lp_ctx), realm) != 0) {
		ok &= add_change(tmp_ctx, &changes, &n, "realm", realm,
				 lpcfg_realm(lp_ctx));
	}
	if (strcasecmp(security, "ads") != 0) {
		ok &= add_change(tmp_ctx, &changes, &n, "security", "ads",
				 security);
	}
	/* "auto" follows security; anything else must say member */
	if (strcasecmp(role, "auto") != 0 &&
	    strcasecmp(role, "member server") != 0) {
		ok &= add_change(tmp_ctx, &changes, &n, "server role",
				 "member server", role);
	}
	if (!ok) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	*_changes = talloc_steal(mem_ctx, changes);
	*_num_changes = n;
	TALLOC_FREE(tmp_ctx);
	return NT_STATUS_OK;
}

NTSTATUS odj_request_config_check(TALLOC_CTX *mem_ctx,
				  struct loadparm_context *lp_ctx,
				  const struct odj_request *r,
				  struct odj_config_change **changes,
				  size_t *num_changes,
				  char **why)
{
	char *timeout = NULL;
	NTSTATUS status;

	*changes = NULL;
	*num_changes = 0;
	if (r->client == ODJ_CLIENT_SSSD) {
		return NT_STATUS_OK;	/* Samba is not part of it */
	}
	status = odj_config_check(mem_ctx, lp_ctx, r->join, changes,
				  num_changes, why);
	if (!NT_STATUS_IS_OK(status) || r->client != ODJ_CLIENT_BOTH) {
		return status;
	}
	/*
	 * Beside SSSD, adcli changes the password (and tells secrets.tdb,
	 * --add-samba-data): winbindd must not change it behind sssd's back
	 */
	timeout = odj_lp_get(mem_ctx, lp_ctx, "machine password timeout");
	if (timeout == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (strcmp(timeout, "0") != 0 &&
	    !add_change(mem_ctx, changes, num_changes,
			"machine password timeout", "0", timeout)) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

/* smb.conf names: case and white space do not matter (strwicmp()) */
static bool param_name_equal(const char *a, size_t alen, const char *b)
{
	size_t i = 0;

	while (true) {
		while (i < alen && (a[i] == ' ' || a[i] == '\t')) {
			i++;
		}
		while (*b == ' ' || *b == '\t') {
			b++;
		}
		if (i == alen || *b == '\0') {
			return i == alen && *b == '\0';
		}
		if (tolower((unsigned char)a[i]) !=
		    tolower((unsigned char)*b)) {
			return false;
		}
		i++;
		b++;
	}
}

struct conf_line {
	const char *start;
	size_t len;		/* with continuation lines and newline */
	size_t text_len;	/* of the first line, without newline */
};

/* The next logical line: "\" at a line's end continues it */
static struct conf_line next_line(const char *p, const char *end)
{
	struct conf_line l = { .start = p };
	const char *q = p;

	while (q < end) {
		const char *nl = memchr(q, '\n', end - q);
		const char *eol = nl != NULL ? nl : end;
		const char *last = eol;

		if (l.text_len == 0 && q == p) {
			l.text_len = eol - p;
		}
		q = nl != NULL ? nl + 1 : end;
		while (last > p && (last[-1] == '\r' || last[-1] == ' ' ||
				    last[-1] == '\t')) {
			last--;
		}
		if (last == p || last[-1] != '\\') {
			break;
		}
	}
	if (l.text_len > 0 && p[l.text_len - 1] == '\r') {
		l.text_len--;
	}
	l.len = q - p;
	return l;
}

/* "[name]": is it a global section?  -1: not a section header */
static int section_kind(const char *s, size_t len)
{
	const char *close = NULL;
	size_t i = 0, nlen;

	while (i < len && (s[i] == ' ' || s[i] == '\t')) {
		i++;
	}
	if (i == len || s[i] != '[') {
		return -1;
	}
	close = memchr(s + i, ']', len - i);
	if (close == NULL) {
		return -1;
	}
	nlen = close - (s + i + 1);
	return (param_name_equal(s + i + 1, nlen, "global") ||
		param_name_equal(s + i + 1, nlen, "globals")) ? 1 : 0;
}

/* The change a parameter line sets, or NULL */
static const struct odj_config_change *line_change(
	const char *s, size_t len,
	const struct odj_config_change *changes, size_t n)
{
	const char *eq = memchr(s, '=', len);
	size_t i = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t')) {
		i++;
	}
	if (eq == NULL || i == len || s[i] == '#' || s[i] == ';') {
		return NULL;
	}
	for (i = 0; i < n; i++) {
		if (param_name_equal(s, eq - s, changes[i].name)) {
			return &changes[i];
		}
	}
	return NULL;
}


/*
 * The new text: every setting of a changed parameter in the global part
 * (before any section, or in [global]) gets the new value; a parameter
 * set nowhere goes at the end of the first [global] section, or into a
 * new one at the top.
 */
static void mark_found(const char *text, size_t size,
		       const struct odj_config_change *changes, size_t n,
		       bool *found, const char **insert_at)
{
	const char *p = text, *end = text + size;
	bool global = true, in_first = false, seen = false;

	*insert_at = NULL;
	while (p < end) {
		struct conf_line l = next_line(p, end);
		int kind = section_kind(l.start, l.text_len);
		const struct odj_config_change *c = NULL;

		if (kind != -1) {
			if (in_first) {
				*insert_at = p;
				in_first = false;
			}
			global = kind == 1;
			if (global && !seen) {
				seen = in_first = true;
			}
		} else if (global) {
			c = line_change(l.start, l.text_len, changes, n);
		}
		if (c != NULL) {
			found[c - changes] = true;
		}
		p += l.len;
	}
	if (in_first) {
		*insert_at = end;
	}
}

static char *rewrite_config(TALLOC_CTX *mem_ctx, const char *text,
			    size_t size,
			    const struct odj_config_change *changes,
			    size_t n)
{
	const char *p = text, *end = text + size, *insert_at = NULL;
	bool *found = talloc_zero_array(mem_ctx, bool, n);
	char *extra = talloc_strdup(mem_ctx, "");
	char *out = talloc_strdup(mem_ctx, "");
	bool global = true;
	size_t i;

	if (found == NULL || extra == NULL || out == NULL) {
		return NULL;
	}
	mark_found(text, size, changes, n, found, &insert_at);
	for (i = 0; i < n && extra != NULL; i++) {
		if (!found[i]) {
			extra = talloc_asprintf_append_buffer(
				extra, "\t%s = %s\n", changes[i].name,
				changes[i].value);
		}
	}
	if (extra != NULL && extra[0] != '\0' && insert_at == NULL) {
		out = talloc_asprintf_append_buffer(out, "[global]\n%s",
						    extra);
	}
	while (p <= end && out != NULL && extra != NULL) {
		struct conf_line l = { .len = 0 };
		const struct odj_config_change *c = NULL;
		int kind;

		if (p == insert_at && extra[0] != '\0') {
			if (p > text && p[-1] != '\n') {
				out = talloc_strdup_append_buffer(out, "\n");
			}
			out = talloc_strdup_append_buffer(out, extra);
		}
		if (p == end) {
			break;
		}
		l = next_line(p, end);
		kind = section_kind(l.start, l.text_len);
		if (kind != -1) {
			global = kind == 1;
		} else if (global) {
			c = line_change(l.start, l.text_len, changes, n);
		}
		if (c == NULL) {
			out = talloc_strndup_append_buffer(out, l.start, l.len);
		} else {
			out = talloc_asprintf_append_buffer(
				out, "%.*s%s = %s\n",
				(int)strspn(l.start, " \t"), l.start,
				c->name, c->value);
		}
		p += l.len;
	}
	TALLOC_FREE(found);
	TALLOC_FREE(extra);
	return out;
}

static NTSTATUS read_config(TALLOC_CTX *mem_ctx, const char *path,
			    char **text, size_t *size, struct stat *st,
			    char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t done = 0;
	char *buf = NULL;

	if (fd == -1 || fstat(fd, st) != 0) {
		int err = errno;

		odj_why(mem_ctx, why, "cannot read %s: %s", path,
			strerror(err));
		if (fd != -1) {
			close(fd);
		}
		return map_nt_error_from_unix_common(err);
	}
	if (!S_ISREG(st->st_mode) || st->st_size > ODJ_CONFIG_MAX_SIZE) {
		odj_why(mem_ctx, why, "%s is not a regular file of at most "
			"%d bytes", path, ODJ_CONFIG_MAX_SIZE);
		close(fd);
		return NT_STATUS_INVALID_PARAMETER_MIX;
	}
	buf = talloc_array(mem_ctx, char, st->st_size + 1);
	while (buf != NULL && done < (size_t)st->st_size) {
		ssize_t n = read(fd, buf + done, st->st_size - done);

		if (n <= 0) {
			int err = n == 0 ? EIO : errno;

			odj_why(mem_ctx, why, "cannot read %s: %s", path,
				strerror(err));
			close(fd);
			TALLOC_FREE(buf);
			return map_nt_error_from_unix_common(err);
		}
		done += n;
	}
	close(fd);
	if (buf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	buf[done] = '\0';
	*text = buf;
	*size = done;
	return NT_STATUS_OK;
}

/* What loadparm reads from the new file must match the join */
static NTSTATUS check_new_config(TALLOC_CTX *mem_ctx, const char *tmp_path,
				 const char *path, const struct odj_join *j,
				 char **why)
{
	struct loadparm_context *lp = loadparm_init(mem_ctx);
	struct odj_config_change *left = NULL;
	size_t n = 0;
	NTSTATUS status;

	if (lp == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!lpcfg_load(lp, tmp_path)) {
		odj_why(mem_ctx, why, "the edited %s does not load", path);
		return NT_STATUS_INVALID_PARAMETER_MIX;
	}
	status = odj_config_check(lp, lp, j, &left, &n, why);
	if (NT_STATUS_IS_OK(status) && n > 0) {
		odj_why(mem_ctx, why, "cannot set '%s = %s' in %s: an "
			"include or a later setting overrides it", left[0].name,
			left[0].value, path);
		status = NT_STATUS_INVALID_PARAMETER_MIX;
	}
	odj_why_move(mem_ctx, why);
	return status;
}

#define VERIFY_MSG_MAX 4096

/*
 * loadparm has one global context, and lpcfg_load() makes the context it
 * loads the global one (lpcfg_load_no_global() has no installed header):
 * loading the new file here would put a short-lived context in the place
 * of the caller's, to dangle once freed.  So a child process loads and
 * checks it, and sends back what is wrong.
 */
static NTSTATUS verify_config(TALLOC_CTX *mem_ctx, const char *tmp_path,
			      const char *path, const struct odj_join *j,
			      char **why)
{
	char msg[VERIFY_MSG_MAX];
	size_t used = 0;
	int fds[2], wstatus = 0;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) != 0) {
		return map_nt_error_from_unix_common(errno);
	}
	pid = fork();
	if (pid == -1) {
		int err = errno;

		close(fds[0]);
		close(fds[1]);
		return map_nt_error_from_unix_common(err);
	}
	if (pid == 0) {
		TALLOC_CTX *ctx = talloc_new(NULL);
		char *child_why = NULL;
		NTSTATUS status;

		close(fds[0]);
		status = check_new_config(ctx, tmp_path, path, j, &child_why);
		if (child_why != NULL) {
			odj_write_all(fds[1], (const uint8_t *)child_why,
				      strlen(child_why));
		}
		/* no atexit handlers, no stdio flushed twice */
		_exit(NT_STATUS_IS_OK(status) ? 0 :
		      NT_STATUS_EQUAL(status, NT_STATUS_INVALID_PARAMETER_MIX) ?
		      1 : 2);
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], msg + used, sizeof(msg) - 1 - used);

		if (n == -1 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			break;
		}
		used += n;
	}
	close(fds[0]);
	msg[used] = '\0';
	while (waitpid(pid, &wstatus, 0) == -1 && errno == EINTR) {
	}
	if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
		return NT_STATUS_OK;
	}
	if (used > 0) {
		odj_why(mem_ctx, why, "%s", msg);
	} else {
		odj_why(mem_ctx, why, "cannot check the edited %s", path);
	}
	return WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 1 ?
	       NT_STATUS_INVALID_PARAMETER_MIX : NT_STATUS_INTERNAL_ERROR;
}

NTSTATUS odj_config_stage(TALLOC_CTX *mem_ctx,
			  const char *config_file,
			  const struct odj_join *j,
			  const struct odj_config_change *changes,
			  size_t n,
			  struct odj_staged_file **staged,
			  char **why)
{
	char *path = realpath(config_file, NULL);
	struct odj_staged_file *s = NULL;
	char *text = NULL, *new_text = NULL;
	size_t size = 0;
	struct stat st;
	NTSTATUS status;

	if (path == NULL) {
		int err = errno;

		odj_why(mem_ctx, why, "cannot find %s: %s", config_file,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	status = read_config(mem_ctx, path, &text, &size, &st, why);
	if (NT_STATUS_IS_OK(status)) {
		new_text = rewrite_config(mem_ctx, text, size, changes, n);
		status = new_text != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_create(mem_ctx, path, st.st_mode & 07777,
					   &s, why);
	}
	free(path);
	if (NT_STATUS_IS_OK(status)) {
		/* as root, keep the owner; as anyone else we are it */
		if (fchown(odj_staged_fd(s), st.st_uid, st.st_gid) != 0) {
			/* not root: the file is ours, as the old one was */
		}
		status = odj_staged_write_text(s, new_text, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_close(s, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = verify_config(mem_ctx, odj_staged_tmp_path(s),
				       config_file, j, why);
	}
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(text);
	TALLOC_FREE(new_text);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(s);
		return status;
	}
	*staged = s;
	return NT_STATUS_OK;
}

