/*
 * odj rodc-preload's input and output: the machines of a save directory
 * (their blobs) or of a provision batch report, and the JSON report of a
 * pre-population run.
 */

#include "dc/dc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

static const char * const status_names[] = {
	[ODJ_PRELOAD_PENDING] = "pending",
	[ODJ_PRELOAD_CACHED] = "cached",
	[ODJ_PRELOAD_SKIPPED] = "skipped",
	[ODJ_PRELOAD_DENIED] = "denied",
	[ODJ_PRELOAD_FAILED] = "failed",
};

const char *odj_preload_status_name(enum odj_preload_status s)
{
	if ((size_t)s >= ARRAY_SIZE(status_names)) {
		return "unknown";
	}
	return status_names[s];
}

static bool add_machine(TALLOC_CTX *mem_ctx,
			struct odj_preload_machine **machines, size_t *num,
			const char *name, const char *sid)
{
	struct odj_preload_machine *m = NULL;

	*machines = talloc_realloc(mem_ctx, *machines,
				   struct odj_preload_machine, *num + 1);
	if (*machines == NULL) {
		return false;
	}
	m = &(*machines)[(*num)++];
	*m = (struct odj_preload_machine) {
		.name = talloc_strdup(*machines, name),
		.sid = sid != NULL ? talloc_strdup(*machines, sid) : NULL,
	};
	return m->name != NULL && (sid == NULL || m->sid != NULL);
}

/* The machine a blob joins, and its account SID if the blob says */
static NTSTATUS blob_machine(TALLOC_CTX *mem_ctx, const char *path,
			     char **name, char **sid, char **why)
{
	struct odj_provision_data *pd = NULL;
	struct odj_join *j = NULL;
	DATA_BLOB ndr = data_blob_null;
	NTSTATUS status;

	status = odj_file_load(mem_ctx, path, &ndr, why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_provision_data_decode(mem_ctx, ndr, &pd, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_join_from_provision_data(mem_ctx, pd, &j, why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(mem_ctx, why, "%s", path);
		return status;
	}
	*name = talloc_strdup(mem_ctx, j->netbios_name);
	*sid = j->machine_sid != NULL ?
	       odj_sid_string(mem_ctx, j->machine_sid) : NULL;
	/* the password goes with the blob */
	TALLOC_FREE(j);
	TALLOC_FREE(pd);
	data_blob_free(&ndr);
	return *name != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

static int cmp_names(const void *a, const void *b)
{
	const struct odj_preload_machine *x = a, *y = b;

	return strcasecmp(x->name, y->name);
}

NTSTATUS odj_preload_from_savedir(TALLOC_CTX *mem_ctx,
				  const char *dir,
				  struct odj_preload_machine **machines,
				  size_t *num,
				  char **why)
{
	TALLOC_CTX *tmp = talloc_new(mem_ctx);
	struct odj_preload_machine *list = NULL;
	struct dirent *de = NULL;
	NTSTATUS status = NT_STATUS_OK;
	size_t n = 0;
	DIR *d = NULL;

	d = tmp != NULL ? opendir(dir) : NULL;
	if (d == NULL) {
		status = tmp == NULL ? NT_STATUS_NO_MEMORY :
			map_nt_error_from_unix_common(errno);
		odj_why(mem_ctx, why, "%s: %s", dir, strerror(errno));
		TALLOC_FREE(tmp);
		return status;
	}
	while (NT_STATUS_IS_OK(status) && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *path = NULL, *name = NULL, *sid = NULL;

		if (len <= 4 || strcmp(de->d_name + len - 4, ".odj") != 0) {
			continue;
		}
		path = talloc_asprintf(tmp, "%s/%s", dir, de->d_name);
		status = path == NULL ? NT_STATUS_NO_MEMORY :
			blob_machine(tmp, path, &name, &sid, why);
		if (NT_STATUS_IS_OK(status) &&
		    !add_machine(tmp, &list, &n, name, sid)) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	closedir(d);
	if (NT_STATUS_IS_OK(status) && n == 0) {
		odj_why(tmp, why, "%s holds no blob (*.odj)", dir);
		status = NT_STATUS_NOT_FOUND;
	}
	odj_why_move(mem_ctx, why);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(tmp);
		return status;
	}
	qsort(list, n, sizeof(list[0]), cmp_names);
	*machines = talloc_steal(mem_ctx, list);
	*num = n;
	TALLOC_FREE(tmp);
	return NT_STATUS_OK;
}

/* A machine of the report with an account: made, reset, or resumed */
static bool has_account(const char *status)
{
	return status != NULL && (strcmp(status, "created") == 0 ||
				  strcmp(status, "reused") == 0 ||
				  strcmp(status, "skipped") == 0);
}

static NTSTATUS report_machines(TALLOC_CTX *mem_ctx, const char *path,
				json_t *a,
				struct odj_preload_machine **machines,
				size_t *num, size_t *left_out, char **why)
{
	size_t i;

	for (i = 0; i < json_array_size(a); i++) {
		json_t *m = json_array_get(a, i);
		const char *name = json_string_value(json_object_get(m,
								     "name"));
		const char *sid = json_string_value(json_object_get(m, "sid"));
		const char *st = json_string_value(json_object_get(m,
								   "status"));

		if (name == NULL) {
			odj_why(mem_ctx, why, "%s: machine %zu has no name",
				path, i + 1);
			return NT_STATUS_INVALID_PARAMETER;
		}
		if (!has_account(st)) {
			(*left_out)++;
			continue;
		}
		if (!add_machine(mem_ctx, machines, num, name, sid)) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_preload_from_report(TALLOC_CTX *mem_ctx,
				 const char *path,
				 struct odj_preload_machine **machines,
				 size_t *num,
				 size_t *left_out,
				 char **why)
{
	struct odj_preload_machine *list = NULL;
	json_error_t err;
	json_t *root = NULL, *a = NULL;
	size_t n = 0;
	NTSTATUS status;

	*left_out = 0;
	root = json_load_file(path, 0, &err);
	if (root == NULL) {
		odj_why(mem_ctx, why, "%s: %s (line %d)", path, err.text,
			err.line);
		return NT_STATUS_INVALID_PARAMETER;
	}
	a = json_object_get(root, "machines");
	if (!json_is_array(a)) {
		odj_why(mem_ctx, why, "%s is not a provision batch report (no "
			"\"machines\")", path);
		json_decref(root);
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = report_machines(mem_ctx, path, a, &list, &n, left_out, why);
	json_decref(root);
	if (NT_STATUS_IS_OK(status) && n == 0) {
		odj_why(mem_ctx, why, "%s names no machine with an account",
			path);
		status = NT_STATUS_NOT_FOUND;
	}
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(list);
		return status;
	}
	*machines = list;
	*num = n;
	return NT_STATUS_OK;
}

void odj_preload_summarize(const struct odj_preload_machine *machines,
			   size_t num,
			   struct odj_preload_summary *s)
{
	size_t i;

	*s = (struct odj_preload_summary) { .total = num };
	for (i = 0; i < num; i++) {
		switch (machines[i].status) {
		case ODJ_PRELOAD_PENDING:
			s->pending++;
			break;
		case ODJ_PRELOAD_CACHED:
			s->cached++;
			break;
		case ODJ_PRELOAD_SKIPPED:
			s->skipped++;
			break;
		case ODJ_PRELOAD_DENIED:
			s->denied++;
			break;
		case ODJ_PRELOAD_FAILED:
			s->failed++;
			break;
		}
	}
}

static json_t *jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static json_t *machine_json(const struct odj_preload_machine *m)
{
	json_t *o = json_object();

	if (o == NULL) {
		return NULL;
	}
	json_object_set_new(o, "name", jstr(m->name));
	json_object_set_new(o, "sid", jstr(m->sid));
	json_object_set_new(o, "status",
			    json_string(odj_preload_status_name(m->status)));
	json_object_set_new(o, "dn", jstr(m->dn));
	json_object_set_new(o, "error", jstr(m->error));
	json_object_set_new(o, "message", jstr(m->message));
	return o;
}

static json_t *summary_json(const struct odj_preload_summary *s)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}",
			 "total", (json_int_t)s->total,
			 "cached", (json_int_t)s->cached,
			 "skipped", (json_int_t)s->skipped,
			 "denied", (json_int_t)s->denied,
			 "failed", (json_int_t)s->failed,
			 "pending", (json_int_t)s->pending);
}

struct json_t *odj_preload_report_tree(const struct odj_preload_run *run,
				       const struct odj_preload_machine *m,
				       size_t num)
{
	struct odj_preload_summary s;
	json_t *root = json_object();
	json_t *a = json_array();
	bool ok = root != NULL && a != NULL;
	size_t i;

	odj_preload_summarize(m, num, &s);
	for (i = 0; ok && i < num; i++) {
		json_t *o = machine_json(&m[i]);

		ok = o != NULL && json_array_append_new(a, o) == 0;
	}
	if (ok) {
		json_object_set_new(root, "rodc", jstr(run->rodc));
		json_object_set_new(root, "dc", jstr(run->dc));
		json_object_set_new(root, "dc_choice", jstr(run->choice));
		json_object_set_new(root, "account", jstr(run->account));
		json_object_set_new(root, "interrupted",
				    json_boolean(run->interrupted));
		json_object_set_new(root, "seconds", json_real(run->seconds));
		json_object_set_new(root, "summary", summary_json(&s));
		ok = json_object_set(root, "machines", a) == 0;
	}
	json_decref(a);
	if (!ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}

NTSTATUS odj_preload_report_save(TALLOC_CTX *mem_ctx,
				 const char *path,
				 const struct odj_preload_run *run,
				 const struct odj_preload_machine *m,
				 size_t num,
				 char **why)
{
	json_t *root = odj_preload_report_tree(run, m, num);
	char *text = NULL, *line = NULL;
	NTSTATUS status;

	if (root != NULL) {
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	}
	json_decref(root);
	line = text != NULL ? talloc_asprintf(mem_ctx, "%s\n", text) : NULL;
	free(text);
	if (line == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_file_write(mem_ctx, path,
				data_blob_const(line, strlen(line)), 0600, 0,
				why);
	TALLOC_FREE(line);
	return status;
}
