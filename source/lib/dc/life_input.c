/*
 * The blobs verify, status and expire look at: files, the *.odj files of
 * a directory, the blobs a batch report lists.  Each unreadable one is an
 * entry of its own that says why; the others are read.
 */

#include "dc/dc.h"

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <jansson.h>

/* A batch report lists every machine of a batch: a few MB at most */
#define REPORT_MAX_SIZE (64 * 1024 * 1024)

/* seconds from 1601 to 1970 */
#define NTTIME_EPOCH 11644473600ULL

struct life_list {
	struct odj_life_blob *blobs;
	size_t num;
	char **real;			/* realpath of each, to list it once */
};

static struct odj_life_blob *list_add(TALLOC_CTX *mem_ctx,
				      struct life_list *l, const char *path)
{
	struct odj_life_blob *b = NULL;

	l->blobs = talloc_realloc(mem_ctx, l->blobs, struct odj_life_blob,
				  l->num + 1);
	l->real = talloc_realloc(mem_ctx, l->real, char *, l->num + 1);
	if (l->blobs == NULL || l->real == NULL) {
		return NULL;
	}
	b = &l->blobs[l->num];
	*b = (struct odj_life_blob) { .error = NT_STATUS_OK };
	l->real[l->num] = NULL;
	b->path = talloc_strdup(l->blobs, path);
	if (b->path == NULL) {
		return NULL;
	}
	l->num++;
	return b;
}

/* The input itself failed: an entry that says so */
static bool list_error(TALLOC_CTX *mem_ctx, struct life_list *l,
		       const char *path, NTSTATUS status,
		       const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static bool list_error(TALLOC_CTX *mem_ctx, struct life_list *l,
		       const char *path, NTSTATUS status,
		       const char *fmt, ...)
{
	struct odj_life_blob *b = list_add(mem_ctx, l, path);
	va_list ap;

	if (b == NULL) {
		return false;
	}
	b->error = status;
	va_start(ap, fmt);
	b->message = talloc_vasprintf(l->blobs, fmt, ap);
	va_end(ap);
	return b->message != NULL;
}

static uint64_t nttime_of(const struct timespec *ts)
{
	return ((uint64_t)ts->tv_sec + NTTIME_EPOCH) * 10000000ULL +
	       ts->tv_nsec / 100;
}

/* What the join says, into @p b; the password wiped when freed */
static NTSTATUS take_join(TALLOC_CTX *mem_ctx, struct odj_life_blob *b,
			  const struct odj_join *j)
{
	b->machine_name = talloc_strdup(mem_ctx, j->machine_name);
	b->account_name = talloc_strdup(mem_ctx, j->account_name);
	b->dns_domain = talloc_strdup(mem_ctx, j->dns_domain);
	b->netbios_domain = talloc_strdup(mem_ctx, j->netbios_domain);
	b->dc_name = talloc_strdup(mem_ctx, j->dc_name);
	if (j->machine_sid != NULL) {
		b->sid = odj_sid_string(mem_ctx, j->machine_sid);
		if (b->sid == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	b->have_guid = j->have_object_guid;
	b->guid = j->object_guid;
	b->options = j->options;
	b->password = odj_secret_strdup(mem_ctx, j->machine_password);
	if (b->machine_name == NULL || b->account_name == NULL ||
	    b->dns_domain == NULL || b->password == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

static NTSTATUS read_blob(TALLOC_CTX *mem_ctx, struct odj_life_blob *b,
			  char **why)
{
	TALLOC_CTX *tmp = talloc_new(mem_ctx);
	struct odj_provision_data *pd = NULL;
	struct odj_join *join = NULL;
	DATA_BLOB ndr = data_blob_null;
	struct stat st;
	NTSTATUS status;

	if (tmp == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_file_load(tmp, b->path, &ndr, why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_provision_data_decode(tmp, ndr, &pd, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_join_from_provision_data(tmp, pd, &join, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = take_join(mem_ctx, b, join);
	}
	if (NT_STATUS_IS_OK(status) && stat(b->path, &st) == 0) {
		b->file_time = nttime_of(&st.st_mtim);
	}
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(tmp);
	return status;
}

/* One blob file: an entry, readable or saying why not */
static bool add_file(TALLOC_CTX *mem_ctx, struct life_list *l,
		     const char *path)
{
	char *real = realpath(path, NULL);
	struct odj_life_blob *b = NULL;
	char *why = NULL;
	size_t i;

	for (i = 0; real != NULL && i < l->num; i++) {
		if (l->real[i] != NULL && strcmp(l->real[i], real) == 0) {
			free(real);
			return true;
		}
	}
	b = list_add(mem_ctx, l, path);
	if (b == NULL) {
		free(real);
		return false;
	}
	if (real != NULL) {
		l->real[l->num - 1] = talloc_strdup(l->real, real);
		free(real);
	}
	b->error = read_blob(l->blobs, b, &why);
	if (NT_STATUS_EQUAL(b->error, NT_STATUS_NO_MEMORY)) {
		return false;
	}
	if (!NT_STATUS_IS_OK(b->error)) {
		/* the codec's messages may not name the file */
		b->message = (why != NULL && strstr(why, path) == NULL) ?
			talloc_asprintf(l->blobs, "%s: %s", path, why) :
			talloc_asprintf(l->blobs, "%s", why != NULL ? why :
					nt_errstr(b->error));
		return b->message != NULL;
	}
	return true;
}

static bool has_odj_suffix(const char *name)
{
	size_t len = strlen(name);

	return len > 4 && strcasecmp(name + len - 4, ".odj") == 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

/* The regular *.odj files of @p dir, sorted by name */
static bool add_dir(TALLOC_CTX *mem_ctx, struct life_list *l,
		    const char *dir)
{
	TALLOC_CTX *tmp = talloc_new(mem_ctx);
	struct dirent *de = NULL;
	char **names = NULL;
	size_t n = 0, i;
	DIR *d = NULL;
	bool ok = true;

	d = opendir(dir);
	if (d == NULL || tmp == NULL) {
		int err = errno;

		TALLOC_FREE(tmp);
		return list_error(mem_ctx, l, dir,
				  map_nt_error_from_unix_common(err),
				  "cannot read the directory %s: %s", dir,
				  strerror(err));
	}
	while ((de = readdir(d)) != NULL) {
		char *p = NULL;
		struct stat st;

		if (!has_odj_suffix(de->d_name)) {
			continue;
		}
		p = talloc_asprintf(tmp, "%s/%s", dir, de->d_name);
		names = talloc_realloc(tmp, names, char *, n + 1);
		if (p == NULL || names == NULL) {
			ok = false;
			break;
		}
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			names[n++] = p;
		}
	}
	closedir(d);
	if (ok && n == 0) {
		ok = list_error(mem_ctx, l, dir, NT_STATUS_NOT_FOUND,
				"%s holds no provisioning file (*.odj)", dir);
	}
	if (n > 0) {
		qsort(names, n, sizeof(names[0]), cmp_str);
	}
	for (i = 0; ok && i < n; i++) {
		ok = add_file(mem_ctx, l, names[i]);
	}
	TALLOC_FREE(tmp);
	return ok;
}

/* A report's blob path: as written, else beside the report */
static char *report_blob_path(TALLOC_CTX *mem_ctx, const char *report,
			      const char *blob)
{
	char *rcopy = NULL, *bcopy = NULL, *alt = NULL;
	struct stat st;

	if (blob[0] == '/' || lstat(blob, &st) == 0) {
		return talloc_strdup(mem_ctx, blob);
	}
	rcopy = talloc_strdup(mem_ctx, report);
	bcopy = talloc_strdup(mem_ctx, blob);
	if (rcopy == NULL || bcopy == NULL) {
		return NULL;
	}
	alt = talloc_asprintf(mem_ctx, "%s/%s", dirname(rcopy),
			      basename(bcopy));
	if (alt != NULL && lstat(alt, &st) != 0) {
		TALLOC_FREE(alt);
		alt = talloc_strdup(mem_ctx, blob);
	}
	return alt;
}

static json_t *parse_report(TALLOC_CTX *mem_ctx, const char *path,
			    char **message)
{
	DATA_BLOB text = data_blob_null;
	json_error_t jerr;
	json_t *root = NULL;
	char *why = NULL;
	NTSTATUS status;

	status = odj_file_read(mem_ctx, path, REPORT_MAX_SIZE,
			       "a batch report", 0, &text, &why);
	if (!NT_STATUS_IS_OK(status)) {
		*message = why != NULL ? why : talloc_asprintf(
			mem_ctx, "%s: %s", path, nt_errstr(status));
		return NULL;
	}
	root = json_loadb((const char *)text.data, text.length, 0, &jerr);
	if (root == NULL) {
		*message = talloc_asprintf(mem_ctx, "%s: not a batch report "
					   "(line %d: %s)", path, jerr.line,
					   jerr.text);
		return NULL;
	}
	if (!json_is_array(json_object_get(root, "machines"))) {
		*message = talloc_asprintf(mem_ctx, "%s: not a batch report "
					   "(no \"machines\" list)", path);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* The blobs of a batch report: machines with a "blob" */
static bool add_report(TALLOC_CTX *mem_ctx, struct life_list *l,
		       const char *path)
{
	TALLOC_CTX *tmp = talloc_new(mem_ctx);
	char *message = NULL;
	json_t *root = NULL, *m = NULL;
	size_t i, before = l->num;
	bool ok = true;

	if (tmp == NULL) {
		return false;
	}
	root = parse_report(tmp, path, &message);
	if (root == NULL) {
		ok = list_error(mem_ctx, l, path, NT_STATUS_INVALID_PARAMETER,
				"%s", message != NULL ? message : path);
		TALLOC_FREE(tmp);
		return ok;
	}
	json_array_foreach(json_object_get(root, "machines"), i, m) {
		const char *blob = json_string_value(json_object_get(m,
								     "blob"));
		char *p = NULL;

		if (blob == NULL) {
			continue;	/* failed or not started: no blob */
		}
		p = report_blob_path(tmp, path, blob);
		ok = p != NULL && add_file(mem_ctx, l, p);
		if (!ok) {
			break;
		}
	}
	json_decref(root);
	if (ok && l->num == before) {
		ok = list_error(mem_ctx, l, path, NT_STATUS_NOT_FOUND,
				"%s lists no blob", path);
	}
	TALLOC_FREE(tmp);
	return ok;
}

NTSTATUS odj_life_load(TALLOC_CTX *mem_ctx,
		       const struct odj_life_input *inputs,
		       size_t num_inputs,
		       struct odj_life_blob **blobs,
		       size_t *num_blobs,
		       char **why)
{
	TALLOC_CTX *tmp = talloc_new(mem_ctx);
	struct life_list l = { .blobs = NULL };
	bool ok = tmp != NULL;
	size_t i;

	for (i = 0; ok && i < num_inputs; i++) {
		switch (inputs[i].kind) {
		case ODJ_LIFE_FILE:
			ok = add_file(tmp, &l, inputs[i].path);
			break;
		case ODJ_LIFE_DIR:
			ok = add_dir(tmp, &l, inputs[i].path);
			break;
		case ODJ_LIFE_REPORT:
			ok = add_report(tmp, &l, inputs[i].path);
			break;
		}
	}
	if (!ok) {
		TALLOC_FREE(tmp);
		return NT_STATUS_NO_MEMORY;
	}
	*blobs = talloc_steal(mem_ctx, l.blobs);
	*num_blobs = l.num;
	TALLOC_FREE(tmp);
	return NT_STATUS_OK;
}
