/*
 * odj_request(): the blob's POLICY parts take effect through Samba's own
 * Group Policy machine extensions, as samba-gpupdate applies a GPO from
 * the DC, but offline and as part of the join.
 *
 * odj-gp-apply (source/gp, docs/odj-gp-apply.md; python3-samba's
 * samba.gp) takes the element lists as GPOs (the GPO's GUID from a
 * list's source; a synthetic one for a policypaths= file), checks each
 * setting as its extension would (visudo -c for a sudo rule, loadparm
 * for an smb.conf value), runs the extensions in a private mount
 * namespace whose /etc, /usr, cache directory and smb.conf directory are
 * overlays with their upper layers in a stage, and records what they did
 * in gpo.tdb as samba-gpupdate does.  Every write lands in the stage;
 * here each staged file becomes a staged file of the join (beside its
 * target), each deletion a "remove" of the journal, each new directory
 * a directory of the join, and the stage goes.  So the sudoers files,
 * motd, cron scripts, smb.conf settings, gpo.tdb and the GPO cache
 * commit with secrets.tdb, or not at all.
 *
 * The stage, <state directory>/odj-gp-stage, is a "tree" of the
 * journal's intent: after a kill the next odj run removes it.  The
 * helper inherits the join's lock, so no odj run sweeps the stage while
 * the helper of a killed join still writes into it.  The joined smb.conf
 * (if the join changes it) goes into the stage first, so that the
 * smb.conf extension edits it, not the old one.
 *
 * A setting an extension rejects refuses the join if its part is
 * ESSENTIAL; in another part it is skipped, with a warning.  Settings
 * only a DC-bound extension reads (firewalld, certificate
 * auto-enrollment) are left to samba-gpupdate, with a warning.  If the
 * helper cannot do its work (not root, no overlayfs, no python3-samba),
 * an ESSENTIAL part refuses the join, and other parts are left out with
 * a warning, as extensions.c does with a part that cannot be applied.
 * client=sssd has no Samba: its POLICY parts go to the JSON file only.
 */

#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <charset.h>
#include <jansson.h>
#include <param.h>

#ifndef ODJ_LIBEXECDIR
#define ODJ_LIBEXECDIR "/usr/local/libexec/samba-odj"
#endif

#define GP_HELPER "odj-gp-apply"
#define GP_PYTHON "/usr/bin/python3"
#define GP_STAGE_NAME "odj-gp-stage"
/* odj-gp-apply's exit codes (docs/odj-gp-apply.md) */
#define GP_EXIT_INPUT 3
#define GP_EXIT_FILES 4
/* compared byte for byte: smb.conf at most */
#define GP_COMPARE_MAX (16 * 1024 * 1024)

extern char **environ;

struct gp_run {
	TALLOC_CTX *ctx;
	const struct odj_request *r;
	const struct odj_root *root;
	struct odj_staged_set *set;
	struct odj_journal *journal;
	struct odj_request_result *res;
	const char **where;		/* each element list's part */
	size_t num_lists;
	bool essential;			/* some POLICY part is ESSENTIAL */
	const char *conf;		/* smb.conf, here */
	const char *conf_image;		/* the same, as the image sees it */
	const char *stage;		/* the stage directory, here */
	json_t *report;
	char **why;
};

bool odj_policy_applies(const struct odj_request *r)
{
	size_t i;

	if (r->skip_policy || r->client == ODJ_CLIENT_SSSD) {
		return false;
	}
	for (i = 0; i < r->join->num_extensions; i++) {
		if (r->join->extensions[i].kind == ODJ_PART_POLICY) {
			return true;
		}
	}
	return false;
}

/*
 * odj-gp-apply: the one asked for, else beside odj (a build tree), else
 * where it is installed
 */
static const char *helper_path(TALLOC_CTX *ctx, const char *given)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *beside = NULL;

	if (given != NULL) {
		return given;
	}
	if (n > 0) {
		self[n] = '\0';
		beside = talloc_asprintf(ctx, "%s/" GP_HELPER, dirname(self));
		if (beside != NULL && access(beside, R_OK) == 0) {
			return beside;
		}
	}
	return ODJ_LIBEXECDIR "/" GP_HELPER;
}

static bool add_list(struct gp_run *g, json_t *lists, json_t *l,
		     const struct odj_join_extension *e)
{
	g->where = talloc_realloc(g->ctx, g->where, const char *,
				  g->num_lists + 1);
	if (g->where == NULL ||
	    json_object_set_new(l, "essential",
				json_boolean(e->essential)) != 0 ||
	    json_array_append(lists, l) != 0) {
		return false;
	}
	g->where[g->num_lists++] = e->where;
	return true;
}

/*
 * odj-gp-apply's input: the element lists of every POLICY part, as odj
 * dump --json shows them, each with its part's ESSENTIAL flag
 */
static NTSTATUS input_json(struct gp_run *g, char **text)
{
	const struct odj_join *j = g->r->join;
	json_t *doc = json_object();
	json_t *lists = json_array();
	char *s = NULL;
	bool ok = doc != NULL && lists != NULL &&
		  json_object_set(doc, "element_lists", lists) == 0;
	size_t i, k;

	for (i = 0; ok && i < j->num_extensions; i++) {
		const struct odj_join_extension *e = &j->extensions[i];
		json_t *part = NULL, *l = NULL;

		if (e->kind != ODJ_PART_POLICY) {
			continue;
		}
		part = odj_dump_policy_json(e->policy);
		ok = part != NULL;
		json_array_foreach(json_object_get(part, "element_lists"),
				   k, l) {
			ok = ok && add_list(g, lists, l, e);
		}
		g->essential = g->essential || e->essential;
		json_decref(part);
	}
	s = ok ? json_dumps(doc, JSON_INDENT(1)) : NULL;
	json_decref(lists);
	json_decref(doc);
	*text = s != NULL ? talloc_strdup(g->ctx, s) : NULL;
	free(s);
	return *text != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/* @p path (as the image sees it) here */
static NTSTATUS here(struct gp_run *g, const char *path, const char **out)
{
	if (path == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*out = odj_root_path(g->ctx, g->root, path);
	if (*out == NULL) {
		int err = errno;

		odj_why(g->ctx, g->why, "%s: %s", path, strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}

/* Is one of @p a and @p b (absolute) the other or inside it? */
static bool overlap(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b), n = na < nb ? na : nb;

	return strncmp(a, b, n) == 0 &&
	       (a[n] == '\0' || a[n] == '/') && (b[n] == '\0' || b[n] == '/');
}

/*
 * The stage's place: the state directory, or the private directory if
 * that one is a directory the helper overlays (smb.conf's, the cache
 * directory, /etc, /usr: the stage may not lie in one)
 */
static NTSTATUS stage_place(struct gp_run *g, struct loadparm_context *lp_ctx,
			    const char *cache)
{
	const char *where[2] = {
		odj_lp_get(g->ctx, lp_ctx, "state directory"),
		odj_lp_get(g->ctx, lp_ctx, "private dir"),
	};
	char *conf_dir = talloc_strdup(g->ctx, g->conf_image);
	char *slash = conf_dir != NULL ? strrchr(conf_dir, '/') : NULL;
	size_t i;

	if (slash == NULL || where[0] == NULL || where[1] == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*slash = '\0';
	for (i = 0; i < ARRAY_SIZE(where); i++) {
		if (!overlap(where[i], "/etc") && !overlap(where[i], "/usr") &&
		    !overlap(where[i], cache) && !overlap(where[i], conf_dir)) {
			break;
		}
	}
	if (i == ARRAY_SIZE(where)) {
		odj_why(g->ctx, g->why, "no place for the Group Policy stage: "
			"the state directory %s and the private directory %s "
			"lie in a directory the extensions write (smb.conf's "
			"%s, the cache directory %s, /etc or /usr)", where[0],
			where[1], conf_dir, cache);
		return NT_STATUS_OBJECT_PATH_INVALID;
	}
	return here(g, talloc_asprintf(g->ctx, "%s/" GP_STAGE_NAME, where[i]),
		    &g->stage);
}

/*
 * smb.conf, the cache directory (gpo.tdb, the GPO cache: made now, so
 * that the helper overlays it and not a parent that holds the stage),
 * and the stage's place
 */
static NTSTATUS gp_paths(struct gp_run *g, struct loadparm_context *lp_ctx)
{
	const char *file = lpcfg_configfile(lp_ctx);
	const char *cache_image = NULL, *cache = NULL;
	NTSTATUS status;

	if (file == NULL) {
		odj_why(g->ctx, g->why, "no smb.conf: Samba's Group Policy "
			"extensions need one");
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (g->root == NULL) {
		/*
		 * the file itself, absolute: the extension rewrites it,
		 * and a link out of the staged directories would be
		 * followed out of the stage
		 */
		char real[PATH_MAX];

		if (realpath(file, real) == NULL) {
			int err = errno;

			odj_why(g->ctx, g->why, "%s: %s", file, strerror(err));
			return map_nt_error_from_unix_common(err);
		}
		file = talloc_strdup(g->ctx, real);
	}
	status = file == NULL ? NT_STATUS_NO_MEMORY :
		 odj_root_arg_path(g->ctx, g->root, file, "smb.conf",
				   &g->conf, g->why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	g->conf_image = g->conf;
	if (g->root != NULL) {
		g->conf_image += strlen(odj_root_dir(g->root));
	}
	cache_image = odj_lp_get(g->ctx, lp_ctx, "cache directory");
	status = here(g, cache_image, &cache);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_set_mkdir(g->set, cache, 0755, g->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = stage_place(g, lp_ctx, cache_image);
	}
	return status;
}

struct gp_stage {
	const char *path;
};

static int stage_destructor(struct gp_stage *s)
{
	odj_remove_tree(s->path);
	return 0;
}

/* The stage: announced, then made; removed when g->ctx goes */
static NTSTATUS stage_make(struct gp_run *g, const char *input)
{
	struct gp_stage *s = talloc_zero(g->ctx, struct gp_stage);
	const char *in = talloc_asprintf(g->ctx, "%s/input.json", g->stage);
	NTSTATUS status;

	if (s == NULL || in == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_journal_intent(g->journal, "tree", g->stage, g->why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	odj_remove_tree(g->stage);	/* a killed join's (under the lock) */
	if (mkdir(g->stage, 0700) != 0) {
		int err = errno;

		odj_why(g->ctx, g->why, "cannot make %s: %s", g->stage,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	s->path = g->stage;
	talloc_set_destructor(s, stage_destructor);
	return odj_file_write(g->ctx, in, data_blob_const(input,
							  strlen(input)),
			      0600, 0, g->why);
}

/* The directories above @p image_path in the stage's tree, as here */
static NTSTATUS tree_parents(struct gp_run *g, const char *image_path)
{
	char *p = talloc_strdup(g->ctx, image_path);
	char *tree = talloc_asprintf(g->ctx, "%s/tree", g->stage);
	char *slash = p;
	NTSTATUS status = NT_STATUS_OK;

	if (tree == NULL || (mkdir(tree, 0755) != 0 && errno != EEXIST)) {
		odj_why(g->ctx, g->why, "cannot make %s: %s", tree,
			strerror(tree == NULL ? ENOMEM : errno));
		return NT_STATUS_UNEXPECTED_IO_ERROR;
	}
	while (p != NULL && NT_STATUS_IS_OK(status) &&
	       (slash = strchr(slash + 1, '/')) != NULL) {
		char *dir = NULL;
		const char *real = NULL;
		struct stat st = { .st_mode = 0755 };

		*slash = '\0';
		dir = talloc_asprintf(g->ctx, "%s/tree%s", g->stage, p);
		status = here(g, p, &real);
		*slash = '/';
		if (!NT_STATUS_IS_OK(status) || dir == NULL) {
			return NT_STATUS_IS_OK(status) ? NT_STATUS_NO_MEMORY
						       : status;
		}
		if (stat(real, &st) != 0) {
			st.st_mode = 0755;
		}
		if ((mkdir(dir, 0700) != 0 && errno != EEXIST) ||
		    chmod(dir, st.st_mode & 07777) != 0 ||
		    chown(dir, st.st_uid, st.st_gid) != 0) {
			int err = errno;

			odj_why(g->ctx, g->why, "cannot make %s: %s", dir,
				strerror(err));
			status = map_nt_error_from_unix_common(err);
		}
	}
	return p != NULL ? status : NT_STATUS_NO_MEMORY;
}

/* The joined smb.conf, if the join changes it, into the stage's tree */
static NTSTATUS preplace_config(struct gp_run *g)
{
	const struct odj_staged_file *f = odj_staged_set_find(g->set,
							      g->conf);
	DATA_BLOB text = data_blob_null;
	struct stat st;
	char *dst = NULL;
	NTSTATUS status;

	if (f == NULL) {
		return NT_STATUS_OK;	/* the helper sees the current one */
	}
	dst = talloc_asprintf(g->ctx, "%s/tree%s", g->stage, g->conf_image);
	if (dst == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (stat(odj_staged_tmp_path(f), &st) != 0) {
		st.st_mode = 0644;
	}
	status = tree_parents(g, g->conf_image);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_file_read(g->ctx, odj_staged_tmp_path(f),
				       GP_COMPARE_MAX, "smb.conf",
				       ODJ_READ_REGULAR, &text, g->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_file_write(g->ctx, dst, text, st.st_mode & 07777,
					0, g->why);
	}
	return status;
}

/* The last line the helper said (its error), or a generic text */
static const char *helper_said(struct gp_run *g, const char *log)
{
	DATA_BLOB b = data_blob_null;
	char *s = NULL, *nl = NULL;

	if (!NT_STATUS_IS_OK(odj_file_read(g->ctx, log, GP_COMPARE_MAX,
					   "a log", ODJ_READ_REGULAR, &b,
					   NULL)) || b.length == 0) {
		return "it said nothing";
	}
	s = (char *)b.data;
	while ((nl = strrchr(s, '\n')) != NULL && nl[1] == '\0') {
		*nl = '\0';
	}
	nl = strrchr(s, '\n');
	return nl != NULL ? nl + 1 : s;
}

static NTSTATUS spawn_helper(struct gp_run *g, char **argv, const char *log,
			     int *code)
{
	posix_spawn_file_actions_t fa;
	int lock = odj_journal_lock_fd(g->journal);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	pid_t pid = -1;
	int ret, wstatus = 0;

	if (fd == -1 || posix_spawn_file_actions_init(&fa) != 0) {
		ret = errno;
		if (fd != -1) {
			close(fd);
		}
		odj_why(g->ctx, g->why, "cannot run %s: %s", argv[3],
			strerror(ret));
		return map_nt_error_from_unix_common(ret);
	}
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
					 O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, fd, STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, fd, STDERR_FILENO);
	/* the join's lock, kept open (not close-on-exec) in the helper */
	posix_spawn_file_actions_adddup2(&fa, lock, lock);
	ret = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd);
	if (ret != 0) {
		odj_why(g->ctx, g->why, "cannot run %s: %s", argv[0],
			strerror(ret));
		return map_nt_error_from_unix_common(ret);
	}
	while (waitpid(pid, &wstatus, 0) == -1) {
		if (errno != EINTR) {
			ret = errno;
			odj_why(g->ctx, g->why, "%s: %s", argv[3],
				strerror(ret));
			return map_nt_error_from_unix_common(ret);
		}
	}
	*code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) :
		128 + WTERMSIG(wstatus);
	return NT_STATUS_OK;
}

/*
 * odj-gp-apply apply, staged; its exit code in @p code.  gpo.tdb's key
 * is what samba-gpupdate's machine credentials say: "NETBIOSNAME$"
 */
static NTSTATUS run_helper(struct gp_run *g, int *code)
{
	const char *helper = helper_path(g->ctx, g->r->gp_apply);
	char *nb = strupper_talloc(g->ctx, g->r->join->netbios_name);
	const char *argv[20] = {
		GP_PYTHON, "-I", "-B", helper, "apply",
		"-s", g->conf_image,
		"-i", talloc_asprintf(g->ctx, "%s/input.json", g->stage),
		"--machine", talloc_asprintf(g->ctx, "%s$", nb),
		"--stage", g->stage,
		"--report", talloc_asprintf(g->ctx, "%s/report.json",
					    g->stage),
	};
	size_t n = 15;
	char *log = talloc_asprintf(g->ctx, "%s/helper.log", g->stage);

	if (nb == NULL || argv[8] == NULL || argv[10] == NULL ||
	    argv[14] == NULL || log == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (access(helper, R_OK) != 0) {
		odj_why(g->ctx, g->why, "cannot read %s: %s (it applies the "
			"policy; is samba-odj fully installed?)", helper,
			strerror(errno));
		return NT_STATUS_OBJECT_NAME_NOT_FOUND;
	}
	if (g->root != NULL) {
		argv[n++] = "--root";
		argv[n++] = odj_root_dir(g->root);
	}
	argv[n] = NULL;
	return spawn_helper(g, discard_const_p(char *, argv), log, code);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

/* The helper's report, and why it refused (its "reason" list) */
static NTSTATUS read_report(struct gp_run *g, const char **reason)
{
	const char *path = talloc_asprintf(g->ctx, "%s/report.json",
					   g->stage);
	json_error_t err;
	json_t *r = NULL;
	size_t i;
	char *s = NULL;

	if (path == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	g->report = json_load_file(path, JSON_ALLOW_NUL, &err);
	if (g->report == NULL) {
		odj_why(g->ctx, g->why, "odj-gp-apply wrote no report %s: %s",
			path, err.text);
		return NT_STATUS_INTERNAL_ERROR;
	}
	json_array_foreach(json_object_get(g->report, "reason"), i, r) {
		s = s == NULL ? talloc_strdup(g->ctx, json_string_value(r)) :
			talloc_asprintf_append(s, "; %s",
					       json_string_value(r));
	}
	*reason = s;
	return NT_STATUS_OK;
}

/* Not applied, and no part is ESSENTIAL: a warning, the join goes on */
static NTSTATUS leave_out(struct gp_run *g, const char *msg)
{
	char *w = talloc_asprintf(g->res, "the blob's Group Policy was not "
				  "applied by Samba's extensions: %s", msg);

	return w != NULL && odj_str_list_add(g->res, &g->res->warnings, w) ?
		NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/* What became of a run that did not succeed (exit @p code) */
static NTSTATUS helper_failed(struct gp_run *g, int code)
{
	const char *log = talloc_asprintf(g->ctx, "%s/helper.log", g->stage);
	const char *reason = NULL;
	const char *msg = NULL;

	if (log == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if ((code == GP_EXIT_INPUT || code == GP_EXIT_FILES) &&
	    NT_STATUS_IS_OK(read_report(g, &reason)) && reason != NULL) {
		msg = reason;
	} else {
		msg = talloc_asprintf(g->ctx, "odj-gp-apply failed (exit %d): "
				      "%s", code, helper_said(g, log));
	}
	if (msg == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (g->essential) {
		odj_why(g->ctx, g->why, "the blob's Group Policy cannot be "
			"applied, and a POLICY part is ESSENTIAL: %s", msg);
		return code == GP_EXIT_INPUT ? NT_STATUS_INVALID_PARAMETER :
		       code == GP_EXIT_FILES ? NT_STATUS_UNEXPECTED_IO_ERROR :
		       NT_STATUS_INTERNAL_ERROR;
	}
	return leave_out(g, msg);
}

/* Are @p a and @p b the same bytes? */
static bool same_content(TALLOC_CTX *ctx, const char *a, const char *b)
{
	DATA_BLOB x = data_blob_null, y = data_blob_null;
	bool same;

	same = NT_STATUS_IS_OK(odj_file_read(ctx, a, GP_COMPARE_MAX, "a file",
					     ODJ_READ_REGULAR, &x, NULL)) &&
	       NT_STATUS_IS_OK(odj_file_read(ctx, b, GP_COMPARE_MAX, "a file",
					     ODJ_READ_REGULAR, &y, NULL)) &&
	       x.length == y.length &&
	       memcmp(x.data, y.data, x.length) == 0;
	TALLOC_FREE(x.data);
	TALLOC_FREE(y.data);
	return same;
}

/* One staged file: staged for the join (smb.conf: instead of its own) */
static NTSTATUS take_file(struct gp_run *g, json_t *e, const char *target,
			  const char *src)
{
	const struct odj_staged_file *own = odj_staged_set_find(g->set,
								target);
	mode_t mode = strtoul(jstr(e, "mode"), NULL, 8) & 07777;
	uid_t uid = json_integer_value(json_object_get(e, "uid"));
	gid_t gid = json_integer_value(json_object_get(e, "gid"));
	NTSTATUS status;

	if (own != NULL &&
	    same_content(g->ctx, odj_staged_tmp_path(own), src)) {
		return NT_STATUS_OK;	/* smb.conf, as the join made it */
	}
	odj_staged_set_drop(g->set, target);	/* one staged file a target */
	status = odj_staged_set_copy(g->set, target, src, mode, uid, gid,
				     g->why);
	if (NT_STATUS_IS_OK(status) &&
	    !odj_str_list_add(g->res, &g->res->policy_written, target)) {
		status = NT_STATUS_NO_MEMORY;
	}
	return status;
}

/* A deletion: the journal removes the file when the join commits */
static NTSTATUS take_whiteout(struct gp_run *g, const char *target)
{
	struct stat st;
	NTSTATUS status;

	if (lstat(target, &st) != 0) {
		return NT_STATUS_OK;	/* nothing to remove */
	}
	if (S_ISDIR(st.st_mode)) {
		odj_why(g->ctx, g->why, "a Group Policy extension removed the "
			"directory %s: not supported", target);
		return NT_STATUS_FILE_IS_A_DIRECTORY;
	}
	status = odj_journal_remove(g->journal, target, g->why);
	if (NT_STATUS_IS_OK(status) &&
	    !odj_str_list_add(g->res, &g->res->policy_removed, target)) {
		status = NT_STATUS_NO_MEMORY;
	}
	return status;
}

/* One entry of the stage's manifest into the join */
static NTSTATUS take_entry(struct gp_run *g, json_t *e)
{
	const char *path = jstr(e, "path");
	const char *kind = jstr(e, "kind");
	const char *target = NULL;
	char *src = talloc_asprintf(g->ctx, "%s/tree%s", g->stage, path);
	NTSTATUS status;
	struct stat st;

	if (src == NULL || path[0] != '/') {
		return src == NULL ? NT_STATUS_NO_MEMORY
				   : NT_STATUS_INTERNAL_ERROR;
	}
	status = here(g, path, &target);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (strcmp(kind, "dir") == 0) {
		if (json_is_true(json_object_get(e, "opaque")) &&
		    stat(target, &st) == 0) {
			odj_why(g->ctx, g->why, "a Group Policy extension "
				"replaced the directory %s: not supported",
				target);
			return NT_STATUS_OBJECT_NAME_COLLISION;
		}
		return odj_staged_set_mkdir(g->set, target,
					    strtoul(jstr(e, "mode"), NULL, 8) &
					    07777, g->why);
	}
	if (strcmp(kind, "file") == 0) {
		return take_file(g, e, target, src);
	}
	if (strcmp(kind, "whiteout") == 0) {
		return take_whiteout(g, target);
	}
	odj_why(g->ctx, g->why, "a Group Policy extension made %s, a %s: not "
		"supported", target, kind);
	return NT_STATUS_OBJECT_PATH_INVALID;
}

static NTSTATUS take_manifest(struct gp_run *g)
{
	json_t *man = json_object_get(json_object_get(g->report, "stage"),
				      "manifest");
	NTSTATUS status = NT_STATUS_OK;
	json_t *e = NULL;
	size_t i;

	if (!json_is_array(man)) {
		odj_why(g->ctx, g->why, "odj-gp-apply's report has no "
			"manifest of its stage");
		return NT_STATUS_INTERNAL_ERROR;
	}
	json_array_foreach(man, i, e) {
		status = take_entry(g, e);
		if (!NT_STATUS_IS_OK(status)) {
			break;
		}
	}
	return status;
}

/* A setting not applied now: a warning */
static bool setting_warning(struct gp_run *g, const struct odj_policy_gpo *o,
			    json_t *s, const char *what)
{
	char *msg = talloc_asprintf(g->ctx, "%s: GPO %s (%s): %s\\%s %s: %s",
				    o->where,
				    o->guid, o->name, jstr(s, "key"),
				    jstr(s, "value_name"), what,
				    jstr(s, "message"));

	return msg != NULL && odj_str_list_add(g->res, &g->res->warnings,
					       msg);
}

static bool take_gpo(struct gp_run *g, json_t *gp, size_t i,
		     struct odj_policy_gpo *o)
{
	json_t *s = NULL;
	size_t k;
	bool ok = true;

	o->guid = talloc_strdup(g->res, jstr(gp, "guid"));
	o->name = talloc_strdup(g->res, jstr(gp, "display_name"));
	o->where = talloc_strdup(g->res, i < g->num_lists ? g->where[i] :
				 "POLICY");
	o->essential = json_is_true(json_object_get(gp, "essential"));
	o->synthetic = json_is_true(json_object_get(gp, "synthetic"));
	if (o->guid == NULL || o->name == NULL || o->where == NULL) {
		return false;
	}
	json_array_foreach(json_object_get(gp, "settings"), k, s) {
		const char *st = jstr(s, "status");

		if (strcmp(st, "applied") == 0) {
			o->applied++;
		} else if (strcmp(st, "skipped") == 0) {
			o->skipped++;
			ok = ok && setting_warning(g, o, s, "skipped");
		} else if (strcmp(st, "deferred") == 0) {
			o->deferred++;
			ok = ok && setting_warning(
				g, o, s, "left to samba-gpupdate online");
		} else if (strcmp(st, "failed") == 0) {
			o->failed++;
			ok = ok && setting_warning(g, o, s, "failed");
		} else {
			o->ignored++;	/* no Samba extension reads it */
		}
	}
	return ok;
}

static NTSTATUS take_gpos(struct gp_run *g)
{
	json_t *gpos = json_object_get(g->report, "gpos");
	json_t *gp = NULL;
	size_t i;

	g->res->num_policy_gpos = json_array_size(gpos);
	g->res->policy_gpos = talloc_zero_array(g->res, struct odj_policy_gpo,
						g->res->num_policy_gpos);
	if (g->res->policy_gpos == NULL && g->res->num_policy_gpos > 0) {
		return NT_STATUS_NO_MEMORY;
	}
	json_array_foreach(gpos, i, gp) {
		if (!take_gpo(g, gp, i, &g->res->policy_gpos[i])) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	return NT_STATUS_OK;
}

static NTSTATUS policy_run(struct gp_run *g, struct loadparm_context *lp_ctx)
{
	char *input = NULL;
	int code = 0;
	NTSTATUS status;

	status = input_json(g, &input);
	if (!NT_STATUS_IS_OK(status) || g->num_lists == 0) {
		return status;
	}
	status = gp_paths(g, lp_ctx);
	if (NT_STATUS_IS_OK(status)) {
		status = stage_make(g, input);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = preplace_config(g);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = run_helper(g, &code);
	}
	if (!NT_STATUS_IS_OK(status) && !g->essential &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_NO_MEMORY)) {
		/* left out, as extensions.c leaves out a part */
		status = leave_out(g, g->why != NULL && *g->why != NULL ?
				   *g->why : nt_errstr(status));
		if (g->why != NULL) {
			*g->why = NULL;	/* on g->ctx: going */
		}
		return status;
	}
	if (NT_STATUS_IS_OK(status) && code != 0) {
		return helper_failed(g, code);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = read_report(g, &(const char *){ NULL });
	}
	if (NT_STATUS_IS_OK(status)) {
		status = take_manifest(g);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = take_gpos(g);
	}
	return status;
}

NTSTATUS odj_policy_apply(TALLOC_CTX *mem_ctx,
			  struct loadparm_context *lp_ctx,
			  const struct odj_root *root,
			  const struct odj_request *r,
			  struct odj_staged_set *set,
			  struct odj_journal *journal,
			  struct odj_request_result *res,
			  char **why)
{
	struct gp_run g = {
		.r = r, .root = root, .set = set, .journal = journal,
		.res = res, .why = why,
	};
	NTSTATUS status;

	if (r->skip_policy) {
		return NT_STATUS_OK;	/* extensions.c said so, or refused */
	}
	if (r->client == ODJ_CLIENT_SSSD && res->policy_file != NULL) {
		char *w = talloc_asprintf(res, "the blob's Group Policy "
					  "settings are only in %s: Samba's "
					  "extensions apply them, and "
					  "client=sssd has no Samba",
					  res->policy_file);

		return w != NULL && odj_str_list_add(res, &res->warnings, w) ?
			NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	if (!odj_policy_applies(r)) {
		return NT_STATUS_OK;
	}
	g.ctx = talloc_new(mem_ctx);
	if (g.ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = policy_run(&g, lp_ctx);
	json_decref(g.report);
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(g.ctx);	/* the stage with it */
	return status;
}
