/*
 * What odj verify, status and expire share: the blobs the arguments
 * name, the DC to ask, and how a machine looks in the JSON document.
 */

#include "life.h"

#include <strings.h>
#include <sys/stat.h>
#include <tevent.h>
#include <jansson.h>

static bool add_input(TALLOC_CTX *mem_ctx, struct odj_life_input **inputs,
		      size_t *n, enum odj_life_input_kind kind,
		      const char *path)
{
	struct odj_life_input *in = talloc_realloc(mem_ctx, *inputs,
						   struct odj_life_input,
						   *n + 1);

	if (in == NULL) {
		return false;
	}
	in[(*n)++] = (struct odj_life_input) { .kind = kind, .path = path };
	*inputs = in;
	return true;
}

/* loadfile=, savedir=, report=, then the words: files or directories */
static int collect_inputs(struct odj_cli *cli, const struct odj_args *args,
			  struct odj_life_input **inputs, size_t *n)
{
	static const struct {
		const char *name;
		enum odj_life_input_kind kind;
	} named[] = {
		{ "loadfile", ODJ_LIFE_FILE },
		{ "savedir", ODJ_LIFE_DIR },
		{ "report", ODJ_LIFE_REPORT },
	};
	const char *p = NULL;
	size_t i;
	int k;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		p = odj_args_get(args, named[i].name);
		if (p != NULL &&
		    !add_input(cli->mem_ctx, inputs, n, named[i].kind, p)) {
			return ODJ_EXIT_INTERNAL;
		}
	}
	for (k = 0; (p = odj_args_positional(args, k)) != NULL; k++) {
		struct stat st;
		bool dir = stat(p, &st) == 0 && S_ISDIR(st.st_mode);

		if (!add_input(cli->mem_ctx, inputs, n,
			       dir ? ODJ_LIFE_DIR : ODJ_LIFE_FILE, p)) {
			return ODJ_EXIT_INTERNAL;
		}
	}
	if (*n == 0) {
		odj_cli_error(cli, "name the blobs: loadfile=FILE (/LOADFILE), "
			      "savedir=DIR (/SAVEDIR), report=FILE (/REPORT) "
			      "of a batch, or files as words");
		return ODJ_EXIT_USAGE;
	}
	return ODJ_EXIT_OK;
}

int odj_cli_life_load(struct odj_cli *cli, const struct odj_args *args,
		      struct odj_life_run *run)
{
	struct odj_life_input *inputs = NULL;
	size_t n = 0;
	char *why = NULL;
	NTSTATUS status;
	int ret;

	ret = collect_inputs(cli, args, &inputs, &n);
	if (ret != ODJ_EXIT_OK) {
		return ret;
	}
	status = odj_life_load(cli->mem_ctx, inputs, n, &run->blobs,
			       &run->num_blobs, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	return ODJ_EXIT_OK;
}

/* The domain most readable blobs join (the first of equals) */
static const char *blobs_domain(const struct odj_life_run *run)
{
	const char *best = NULL;
	size_t best_n = 0, i, j;

	for (i = 0; i < run->num_blobs; i++) {
		const char *d = run->blobs[i].dns_domain;
		size_t n = 0;

		if (!NT_STATUS_IS_OK(run->blobs[i].error)) {
			continue;
		}
		for (j = i; j < run->num_blobs; j++) {
			n += NT_STATUS_IS_OK(run->blobs[j].error) &&
			     strcasecmp(run->blobs[j].dns_domain, d) == 0;
		}
		if (n > best_n) {
			best = d;
			best_n = n;
		}
	}
	return best;
}

/* dcname= or -S, and with gc the global catalog's port */
static const char *dc_to_ask(struct odj_cli *cli, const struct odj_args *args,
			     bool gc_ok, bool *gc)
{
	const char *dcname = odj_args_get(args, "dcname");

	if (dcname == NULL) {
		dcname = cli->server;
	}
	*gc = gc_ok && odj_args_flag(args, "gc");
	if (!*gc) {
		return dcname;
	}
	if (dcname == NULL) {
		odj_cli_error(cli, "gc asks the global catalog of dcname= "
			      "(/DCNAME): name the DC");
		return NULL;
	}
	return talloc_asprintf(cli->mem_ctx, "%s:3268", dcname);
}

int odj_cli_life_connect(struct odj_cli *cli, const struct odj_args *args,
			 bool read_only_ok, bool gc_ok,
			 struct odj_life_run *run)
{
	struct odj_dc_spec spec = {
		.domain = odj_args_get(args, "domain"),
		.allow_read_only = read_only_ok,
		.krb5_ccache = cli->krb5_ccache,
	};
	struct loadparm_context *lp_ctx = NULL;
	struct cli_credentials *creds = NULL;
	char *why = NULL;
	NTSTATUS status;
	bool gc = false;

	if (spec.domain == NULL) {
		spec.domain = blobs_domain(run);
	}
	if (spec.domain == NULL) {
		return ODJ_EXIT_OK;	/* nothing readable: nothing to ask */
	}
	spec.dcname = dc_to_ask(cli, args, gc_ok, &gc);
	if (gc && spec.dcname == NULL) {
		return ODJ_EXIT_USAGE;
	}
	spec.allow_read_only |= gc;
	lp_ctx = odj_cli_loadparm(cli);
	if (lp_ctx == NULL) {
		return ODJ_EXIT_LOCAL;
	}
	creds = odj_cli_credentials(cli, lp_ctx);
	if (creds == NULL) {
		return ODJ_EXIT_CREDENTIALS;
	}
	run->ev = tevent_context_init(cli->mem_ctx);
	if (run->ev == NULL) {
		return ODJ_EXIT_INTERNAL;
	}
	status = odj_dc_connect(cli->mem_ctx, run->ev, lp_ctx, creds, &spec,
				&run->dc, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	odj_cli_dc_choice(cli, run->dc, spec.dcname == NULL);
	return ODJ_EXIT_OK;
}

const char *odj_cli_life_name(const struct odj_life_status *s)
{
	return s->blob->machine_name != NULL ? s->blob->machine_name :
					       s->blob->path;
}

static json_t *jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static void set(json_t *obj, const char *key, json_t *value)
{
	json_object_set_new(obj, key, value != NULL ? value : json_null());
}

static json_t *jtime(uint64_t t)
{
	char *s = odj_life_time_string(NULL, t);
	json_t *j = jstr(s);

	TALLOC_FREE(s);
	return j;
}

/* What the DC holds, for the machines it has an account for */
static void account_json(json_t *m, const struct odj_life_status *s)
{
	const struct odj_life_account *a = &s->account;
	struct GUID_txt_buf buf;

	set(m, "dn", jstr(a->dn));
	set(m, "sid", jstr(a->sid));
	set(m, "object_guid", a->have_guid ?
	    json_string(GUID_buf_string(&a->guid, &buf)) : json_null());
	set(m, "user_account_control", json_integer(a->uac));
	set(m, "pwd_last_set", jtime(a->pwd_last_set));
	set(m, "when_created", jtime(a->when_created));
	set(m, "last_logon", jtime(a->last_logon));
	set(m, "last_logon_timestamp", jtime(a->last_logon_timestamp));
	set(m, "kvno", a->have_kvno ? json_integer(a->kvno) : json_null());
}

struct json_t *odj_cli_life_machine(const struct odj_life_status *s)
{
	const struct odj_life_blob *b = s->blob;
	json_t *m = json_object();

	if (m == NULL) {
		return NULL;
	}
	set(m, "name", jstr(b->machine_name));
	set(m, "account", jstr(b->account_name));
	set(m, "blob", jstr(b->path));
	set(m, "made_on", jstr(b->dc_name));
	set(m, "state", json_string(odj_life_state_name(s->state)));
	set(m, "reason", jstr(s->reason));
	set(m, "basis", jstr(s->basis));
	set(m, "blob_time", jtime(s->blob_time));
	set(m, "dc", jstr(s->dc_name));
	if (s->found) {
		account_json(m, s);
	}
	return m;
}

void odj_cli_life_doc(struct odj_cli *cli, const struct odj_life_run *run)
{
	const struct odj_dc_info *info = run->dc != NULL ?
		odj_dc_info(run->dc) : NULL;

	odj_cli_doc_str(cli, "domain", info != NULL ? info->dns_domain :
			NULL);
	odj_cli_doc_str(cli, "dc", info != NULL ? info->dc_name : NULL);
}
