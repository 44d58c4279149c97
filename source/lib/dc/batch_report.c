/*
 * What a batch did: counts, and the JSON report a deployment keeps (one
 * object per machine: status, DN, SID, RID, DC, blob, error).
 */

#include "dc/dc.h"

#include <jansson.h>

static const char * const status_names[] = {
	[ODJ_BATCH_PENDING] = "pending",
	[ODJ_BATCH_CREATED] = "created",
	[ODJ_BATCH_REUSED] = "reused",
	[ODJ_BATCH_SKIPPED] = "skipped",
	[ODJ_BATCH_FAILED] = "failed",
};

const char *odj_batch_status_name(enum odj_batch_status s)
{
	if ((size_t)s >= ARRAY_SIZE(status_names)) {
		return "unknown";
	}
	return status_names[s];
}

void odj_batch_summarize(const struct odj_batch_result *results,
			 size_t num_results,
			 struct odj_batch_summary *s)
{
	size_t i;

	*s = (struct odj_batch_summary) { .total = num_results };
	for (i = 0; i < num_results; i++) {
		switch (results[i].status) {
		case ODJ_BATCH_PENDING:
			s->pending++;
			break;
		case ODJ_BATCH_CREATED:
			s->created++;
			break;
		case ODJ_BATCH_REUSED:
			s->reused++;
			break;
		case ODJ_BATCH_SKIPPED:
			s->skipped++;
			break;
		case ODJ_BATCH_FAILED:
			s->failed++;
			break;
		}
	}
}

static json_t *jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static void set(json_t *obj, const char *key, json_t *value)
{
	json_object_set_new(obj, key, value != NULL ? value : json_null());
}

/* a NULL-terminated list of strings (warnings, RODCs) as an array */
static json_t *strings_json(const char * const *list)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && list != NULL && list[i] != NULL; i++) {
		if (json_array_append_new(a, json_string(list[i])) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *machine_json(const struct odj_batch_result *r)
{
	json_t *m = json_object();
	bool failed = r->status == ODJ_BATCH_FAILED;

	if (m == NULL) {
		return NULL;
	}
	set(m, "name", jstr(r->entry->name));
	set(m, "line", json_integer(r->entry->line));
	set(m, "status", json_string(odj_batch_status_name(r->status)));
	set(m, "dn", jstr(r->account_dn));
	set(m, "sid", jstr(r->sid));
	set(m, "rid", r->rid != 0 ? json_integer(r->rid) : json_null());
	set(m, "dc", jstr(r->dc_name));
	/* paths only of files that are in place */
	set(m, "blob", jstr(r->blob_path));
	set(m, "unattend", jstr(r->unattend_path));
	set(m, "error", failed ? json_string(nt_errstr(r->error)) :
	    json_null());
	set(m, "message", jstr(r->message));
	set(m, "warnings", strings_json(r->warnings));
	set(m, "rodcs", r->rodcs != NULL ? strings_json(r->rodcs) :
	    json_null());
	return m;
}

static json_t *summary_json(const struct odj_batch_summary *s)
{
	json_t *j = json_object();

	if (j == NULL) {
		return NULL;
	}
	set(j, "total", json_integer(s->total));
	set(j, "created", json_integer(s->created));
	set(j, "reused", json_integer(s->reused));
	set(j, "skipped", json_integer(s->skipped));
	set(j, "failed", json_integer(s->failed));
	set(j, "pending", json_integer(s->pending));
	return j;
}

struct json_t *odj_batch_report_tree(const struct odj_batch_run *run,
				     const struct odj_batch_result *results,
				     size_t num_results)
{
	struct odj_batch_summary s;
	json_t *root = json_object();
	json_t *machines = json_array();
	size_t i;
	bool ok = root != NULL && machines != NULL;

	odj_batch_summarize(results, num_results, &s);
	if (ok) {
		set(root, "domain", jstr(run->domain));
		set(root, "batch_file", jstr(run->batch_file));
		set(root, "savedir", jstr(run->savedir));
		set(root, "interrupted", json_boolean(run->interrupted));
		set(root, "seconds", json_real(run->seconds));
		set(root, "summary", summary_json(&s));
	}
	for (i = 0; ok && i < num_results; i++) {
		json_t *m = machine_json(&results[i]);

		ok = m != NULL && json_array_append_new(machines, m) == 0;
	}
	if (ok) {
		ok = json_object_set(root, "machines", machines) == 0;
	}
	json_decref(machines);
	if (!ok) {
		json_decref(root);
		return NULL;
	}
	return root;
}

NTSTATUS odj_batch_report_json(TALLOC_CTX *mem_ctx,
			       const struct odj_batch_run *run,
			       const struct odj_batch_result *results,
			       size_t num_results,
			       char **_json)
{
	json_t *root = odj_batch_report_tree(run, results, num_results);
	char *text = NULL;

	if (root != NULL) {
		text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	}
	json_decref(root);
	if (text == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*_json = talloc_asprintf(mem_ctx, "%s\n", text);
	free(text);
	return *_json != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS odj_batch_report_save(TALLOC_CTX *mem_ctx,
			       const char *path,
			       const struct odj_batch_run *run,
			       const struct odj_batch_result *results,
			       size_t num_results,
			       char **why)
{
	char *json = NULL;
	NTSTATUS status;

	status = odj_file_check_target(mem_ctx, path, true, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = odj_batch_report_json(mem_ctx, run, results, num_results,
				       &json);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = odj_file_write(mem_ctx, path,
				data_blob_const(json, strlen(json)), 0600, 0,
				why);
	TALLOC_FREE(json);
	return status;
}
