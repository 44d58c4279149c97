/*
 * Provisioning many machines: odj_provision_send() pipelined over one
 * LDAP connection per DC, each machine's blob written before it counts
 * as done.
 *
 * A machine is one tevent request (batch_machine_*): check whether an
 * earlier run already provisioned it, else provision it with its blob
 * saved (odj_provision_send() deletes a new account again if the blob
 * cannot be written), and write its answer file.  The batch request (odj_batch_*) keeps N machines in flight and
 * can be stopped: it then launches no more and waits for those in flight,
 * so that no account it created is left without its blob.
 */

#include "dc/dc.h"

#include <inttypes.h>
#include <strings.h>
#include <sys/stat.h>
#include <ldb.h>
#include <tevent.h>
#include <util/tevent_ntstatus.h>

/*
 * One machine
 */

struct batch_machine_state {
	struct tevent_context *ev;
	const struct odj_batch_options *o;
	struct odj_dc *dc;
	const struct odj_batch_entry *e;
	struct odj_batch_result *res;
	TALLOC_CTX *res_ctx;		/* where the result's strings live */
	struct odj_provision_request r;
	char *blob_path;
	char *unattend_path;		/* NULL: no answer file */
	char *blob_sid;			/* resume: what the blob says */
	struct ldb_message *account;	/* resume: the account found */
	DATA_BLOB ndr;			/* the blob, wiped when freed */
};

static void machine_provision(struct tevent_req *req);
static void machine_resume(struct tevent_req *req);
static void machine_searched(struct tevent_req *subreq);
static void machine_provisioned(struct tevent_req *subreq);
static void machine_skip_allowed(struct tevent_req *subreq);

/* Record a failure; the request itself succeeds (the batch goes on). */
static void machine_fail(struct tevent_req *req, NTSTATUS status,
			 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void machine_fail(struct tevent_req *req, NTSTATUS status,
			 const char *fmt, ...)
{
	struct batch_machine_state *state = tevent_req_data(
		req, struct batch_machine_state);
	va_list ap;

	state->res->status = ODJ_BATCH_FAILED;
	state->res->error = status;
	va_start(ap, fmt);
	state->res->message = talloc_vasprintf(state->res_ctx, fmt, ap);
	va_end(ap);
	tevent_req_done(req);
}

/* The provisioning request: the batch's defaults, then the columns. */
static void fill_request(struct batch_machine_state *state)
{
	const struct odj_batch_entry *e = state->e;
	struct odj_provision_request *r = &state->r;

	*r = state->o->defaults;
	r->machine_name = e->name;
	if (e->ou != NULL) {
		r->ou = e->ou;
	}
	if (e->netbios != NULL) {
		r->jp2.netbios_name = e->netbios;
	}
	if (e->site != NULL) {
		r->jp2.site = e->site;
		r->jp2.site_persistent = e->site_persistent;
	}
	if (e->primary_dns != NULL) {
		r->jp2.primary_dns = e->primary_dns;
	}
}

static struct tevent_req *batch_machine_send(TALLOC_CTX *mem_ctx,
					     struct tevent_context *ev,
					     const struct odj_batch_options *o,
					     struct odj_dc *dc,
					     const struct odj_batch_entry *e,
					     struct odj_batch_result *res,
					     TALLOC_CTX *res_ctx)
{
	struct tevent_req *req = NULL;
	struct batch_machine_state *state = NULL;
	struct stat st;

	req = tevent_req_create(mem_ctx, &state, struct batch_machine_state);
	if (req == NULL) {
		return NULL;
	}
	state->ev = ev;
	state->o = o;
	state->dc = dc;
	state->e = e;
	state->res = res;
	state->res_ctx = res_ctx;
	fill_request(state);

	/* the result names the files once they are in place */
	state->blob_path = talloc_asprintf(res_ctx, "%s/%s.odj", o->savedir,
					   e->name);
	if (tevent_req_nomem(state->blob_path, req)) {
		return tevent_req_post(req, ev);
	}
	if (o->unattend_dir != NULL) {
		state->unattend_path = talloc_asprintf(
			res_ctx, "%s/%s.xml", o->unattend_dir, e->name);
		if (tevent_req_nomem(state->unattend_path, req)) {
			return tevent_req_post(req, ev);
		}
	}
	if (!o->defaults.reuse && !o->defaults.reuse_unsafe &&
	    lstat(state->blob_path, &st) == 0) {
		machine_resume(req);
	} else {
		machine_provision(req);
	}
	if (!tevent_req_is_in_progress(req)) {
		return tevent_req_post(req, ev);
	}
	return req;
}

static void machine_provision(struct tevent_req *req)
{
	struct batch_machine_state *state = tevent_req_data(
		req, struct batch_machine_state);
	struct tevent_req *subreq = NULL;

	/* the blob is saved before the machine counts as done */
	state->r.savefile = state->blob_path;
	state->r.overwrite = state->r.reuse || state->r.reuse_unsafe;
	state->res->dc_name = odj_dc_info(state->dc)->dc_name;
	subreq = odj_provision_send(state, state->ev, state->dc, &state->r);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, machine_provisioned, req);
}

/* The machine SID a blob names: JOIN_PROVIDER3's, or domain SID + RID. */
static char *blob_machine_sid(TALLOC_CTX *mem_ctx,
			      const struct odj_provision_data *pd)
{
	const struct odj_part *p = odj_provision_data_part(
		pd, ODJ_PART_JOIN_PROVIDER3);
	const struct ODJ_WIN7BLOB *w = odj_provision_data_win7(pd);
	char *dom = NULL;

	if (p == NULL || p->u.jp3 == NULL) {
		return NULL;
	}
	if (p->u.jp3->lpSid != NULL) {
		return talloc_strdup(mem_ctx, p->u.jp3->lpSid);
	}
	if (p->u.jp3->Rid == 0 || w == NULL ||
	    w->DnsDomainInfo.Sid == NULL) {
		return NULL;
	}
	dom = odj_sid_string(mem_ctx, w->DnsDomainInfo.Sid);
	if (dom == NULL) {
		return NULL;
	}
	return talloc_asprintf(mem_ctx, "%s-%" PRIu32, dom, p->u.jp3->Rid);
}

/*
 * Ask the DC that made the blob, if we are connected to it: another DC
 * may not have the account yet (replication).
 */
static struct odj_dc *blob_dc(struct batch_machine_state *state,
			      const struct ODJ_WIN7BLOB *w)
{
	const char *name = w->DcInfo.DomainControllerName;
	size_t i;

	while (name != NULL && *name == '\\') {
		name++;
	}
	for (i = 0; name != NULL && i < state->o->num_dcs; i++) {
		struct odj_dc *dc = state->o->dcs[i];

		if (strcasecmp(odj_dc_info(dc)->dc_name, name) == 0) {
			return dc;
		}
	}
	return state->dc;
}

/* Checks of a blob found in the save directory, without the DC. */
static bool resume_check_blob(struct tevent_req *req,
			      const struct odj_provision_data *pd)
{
	struct batch_machine_state *state = tevent_req_data(
		req, struct batch_machine_state);
	const struct ODJ_WIN7BLOB *w = odj_provision_data_win7(pd);
	const struct odj_dc_info *info = odj_dc_info(state->dc);
	const char *path = state->blob_path;

	if (w == NULL || w->lpMachineName == NULL ||
	    strcasecmp(w->lpMachineName, state->e->name) != 0) {
		machine_fail(req, NT_STATUS_INVALID_PARAMETER, "%s exists "
			     "but is not the blob of %s; move it away or use "
			     "reuse", path, state->e->name);
		return false;
	}
	if (w->lpDomain == NULL ||
	    strcasecmp(w->lpDomain, info->dns_domain) != 0) {
		machine_fail(req, NT_STATUS_INVALID_PARAMETER, "%s exists "
			     "but joins domain %s, not %s; move it away or use "
			     "reuse", path, w->lpDomain != NULL ? w->lpDomain :
			     "(none)", info->dns_domain);
		return false;
	}
	state->blob_sid = blob_machine_sid(state, pd);
	if (state->blob_sid == NULL) {
		machine_fail(req, NT_STATUS_INVALID_SID, "%s exists but names "
			     "no account SID (no JOIN_PROVIDER3); use reuse to "
			     "provision %s again", path, state->e->name);
		return false;
	}
	state->dc = blob_dc(state, w);
	return true;
}

/* The blob exists: skip the machine if its account is the blob's. */
static void machine_resume(struct tevent_req *req)
{
	struct batch_machine_state *state = tevent_req_data(
		req, struct batch_machine_state);
	const char * const attrs[] = { "objectSid", NULL };
	struct odj_provision_data *pd = NULL;
	struct tevent_req *subreq = NULL;
	struct ldb_context *ldb = NULL;
	char *filter = NULL;
	char *why = NULL;
	NTSTATUS status;

	status = odj_file_load(state, state->blob_path, &state->ndr,
			       &why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_provision_data_decode(state, state->ndr, &pd,
						   &why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		machine_fail(req, status, "%s exists but cannot be read (%s); "
			     "move it away or use reuse",
			     state->blob_path, why != NULL ? why :
			     nt_errstr(status));
		return;
	}
	if (!resume_check_blob(req, pd)) {
		return;
	}
	TALLOC_FREE(pd);

	ldb = odj_dc_ldb(state->dc);
	filter = talloc_asprintf(state, "(sAMAccountName=%s$)",
				 ldb_binary_encode_string(state,
							  state->e->name));
	if (tevent_req_nomem(filter, req)) {
		return;
	}
	state->res->dc_name = odj_dc_info(state->dc)->dc_name;
	subreq = odj_ldb_search_send(
		state, state->ev, ldb,
		ldb_dn_new(state, ldb, odj_dc_info(state->dc)->domain_dn),
		LDB_SCOPE_SUBTREE, attrs, filter);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, machine_searched, req);
}

/* objectSid of a search result as text, or NULL */
static char *account_sid(TALLOC_CTX *mem_ctx, const struct ldb_message *msg)
{
	const struct ldb_val *v = ldb_msg_find_ldb_val(msg, "objectSid");
	struct ODJ_SID sid;
	char *s = NULL;

	if (v == NULL || !odj_sid_from_blob(mem_ctx, v->data, v->length,
					    &sid)) {
		return NULL;
	}
	s = odj_sid_string(mem_ctx, &sid);
	TALLOC_FREE(sid.SubAuthority);
	return s;
}

/* The account exists with the blob's SID: done, unless a file is due. */
static void machine_skip(struct tevent_req *req, const struct ldb_message *m,
			 const char *sid)
{
	struct batch_machine_state *state = tevent_req_data(
		req, struct batch_machine_state);
	struct odj_batch_result *res = state->res;
	const char *rid = strrchr(sid, '-');
	struct stat st;
	char *why = NULL;
	NTSTATUS status;

	res->status = ODJ_BATCH_SKIPPED;
	res->account_dn = talloc_strdup(state->res_ctx,
					ldb_dn_get_linearized(m->dn));
	res->sid = talloc_strdup(state->res_ctx, sid);
	res->rid = rid != NULL ? strtoul(rid + 1, NULL, 10) : 0;
	res->blob_path = state->blob_path;

	/* an answer file asked for now, or lost: the blob has what it needs */
	if (state->unattend_path != NULL &&
	    lstat(state->unattend_path, &st) != 0) {
		status = odj_unattend_save(state, state->unattend_path,
					   state->ndr, NULL,
					   false, &why);
		if (!NT_STATUS_IS_OK(status)) {
			machine_fail(req, status, "account and blob exist, "
				     "but the answer file failed: %s", why);
			return;
		}
	}
	res->unattend_path = state->unattend_path;
	tevent_req_done(req);
}

static void machine_searched(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct batch_machine_state *state = tevent_req_data(
		req, struct batch_machine_state);
	struct ldb_result *lres = NULL;
	char *msg = NULL;
	char *sid = NULL;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, &lres, NULL, &msg);
	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		machine_fail(req, status, "searching for %s$ failed: %s",
			     state->e->name, msg != NULL ? msg :
			     nt_errstr(status));
		return;
	}
	if (lres->count == 0) {
		machine_fail(req, NT_STATUS_NO_SUCH_USER, "%s exists but the "
			     "account %s$ does not (deleted since?); use reuse "
			     "to provision it again", state->blob_path,
			     state->e->name);
		return;
	}
	sid = account_sid(state, lres->msgs[0]);
	if (sid == NULL || strcasecmp(sid, state->blob_sid) != 0) {
		machine_fail(req, NT_STATUS_USER_EXISTS, "%s exists but the "
			     "account %s has SID %s, the blob says %s "
			     "(re-created since?); use reuse to provision it "
			     "again", state->blob_path,
			     ldb_dn_get_linearized(lres->msgs[0]->dn),
			     sid != NULL ? sid : "(none)", state->blob_sid);
		return;
	}
	if (state->r.rodc == NULL) {
		machine_skip(req, lres->msgs[0], sid);
		return;
	}
	/* rodc=: resumed or not, the account is allowed there */
	state->account = talloc_steal(state, lres->msgs[0]);
	state->blob_sid = talloc_steal(state, sid);
	subreq = odj_rodc_allow_send(state, state->ev, state->dc,
				     state->r.rodc, state->account->dn,
				     state->r.jp2.site);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, machine_skip_allowed, req);
}

static void machine_skip_allowed(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct batch_machine_state *state = tevent_req_data(
		req, struct batch_machine_state);
	char *why = NULL;
	NTSTATUS status;

	status = odj_rodc_allow_recv(subreq, state->res_ctx,
				     &state->res->rodcs, &state->res->warnings,
				     &why);
	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		machine_fail(req, status, "account and blob exist, but: %s",
			     why != NULL ? why : nt_errstr(status));
		return;
	}
	machine_skip(req, state->account, state->blob_sid);
}

static void machine_provisioned(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct batch_machine_state *state = tevent_req_data(
		req, struct batch_machine_state);
	struct odj_batch_result *res = state->res;
	struct odj_provision_result *pr = NULL;
	char *why = NULL;
	NTSTATUS status;
	size_t i;

	status = odj_provision_recv(subreq, state, &pr, &why);
	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		machine_fail(req, status, "%s", why != NULL ? why :
			     nt_errstr(status));
		return;
	}
	res->status = pr->created ? ODJ_BATCH_CREATED : ODJ_BATCH_REUSED;
	res->account_dn = talloc_strdup(state->res_ctx, pr->account_dn);
	res->rodcs = talloc_move(state->res_ctx, &pr->rodcs);
	for (i = 0; pr->warnings != NULL && pr->warnings[i] != NULL; i++) {
		if (!odj_str_list_add(state->res_ctx, &res->warnings,
				      pr->warnings[i])) {
			TALLOC_FREE(pr);
			tevent_req_oom(req);
			return;
		}
	}
	res->sid = odj_sid_string(state->res_ctx, pr->machine_sid);
	res->rid = pr->rid;
	res->blob_path = state->blob_path;
	if (state->unattend_path == NULL) {
		TALLOC_FREE(pr);
		tevent_req_done(req);
		return;
	}
	/* the answer file follows its new blob */
	status = odj_unattend_save(state, state->unattend_path, pr->ndr, NULL,
				   true, &why);
	/* the password is in the files now; drop our copies */
	TALLOC_FREE(pr);
	if (!NT_STATUS_IS_OK(status)) {
		machine_fail(req, status, "account and blob made, but the "
			     "answer file failed: %s; run the batch again to "
			     "write it", why);
		return;
	}
	res->unattend_path = state->unattend_path;
	tevent_req_done(req);
}

static void batch_machine_recv(struct tevent_req *req)
{
	struct batch_machine_state *state = tevent_req_data(
		req, struct batch_machine_state);
	NTSTATUS status;

	/* only "no memory" and the like end the request itself in error */
	if (tevent_req_is_nterror(req, &status)) {
		state->res->status = ODJ_BATCH_FAILED;
		state->res->error = status;
		state->res->message = talloc_strdup(state->res_ctx,
						    nt_errstr(status));
	}
	tevent_req_received(req);
}

/*
 * The batch
 */

struct odj_batch_state {
	struct tevent_context *ev;
	struct odj_batch_options o;
	const struct odj_batch_entry *entries;
	size_t num;
	struct odj_batch_result *results;
	size_t next;			/* the next entry to launch */
	size_t in_flight;
	size_t done;
	size_t next_dc;
	bool stopping;
};

static void batch_launch(struct tevent_req *req);
static void batch_machine_done(struct tevent_req *subreq);

static int cmp_names(const void *a, const void *b, void *priv)
{
	const struct odj_batch_entry *e = priv;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcasecmp(e[i].name, e[j].name);

	if (c != 0) {
		return c;
	}
	return i < j ? -1 : (i > j);
}

/* A name listed twice fails the second time, before anything runs. */
static bool mark_duplicates(struct odj_batch_state *state)
{
	size_t *idx = talloc_array(state, size_t, state->num);
	size_t i, first = 0;

	if (idx == NULL) {
		return false;
	}
	for (i = 0; i < state->num; i++) {
		idx[i] = i;
	}
	/* by name, then by position: a group starts with its first line */
	qsort_r(idx, state->num, sizeof(idx[0]), cmp_names,
		discard_const_p(void, state->entries));
	for (i = 1; i < state->num; i++) {
		const struct odj_batch_entry *e = &state->entries[idx[i]];
		struct odj_batch_result *res = &state->results[idx[i]];

		if (strcasecmp(state->entries[idx[first]].name,
			       e->name) != 0) {
			first = i;
			continue;
		}
		res->status = ODJ_BATCH_FAILED;
		res->error = NT_STATUS_INVALID_PARAMETER;
		res->message = talloc_asprintf(
			state->results, "%s is listed more than once (first "
			"at line %u)", e->name,
			state->entries[idx[first]].line);
		if (res->message == NULL) {
			TALLOC_FREE(idx);
			return false;
		}
	}
	TALLOC_FREE(idx);
	return true;
}

struct tevent_req *odj_batch_send(TALLOC_CTX *mem_ctx,
				  struct tevent_context *ev,
				  const struct odj_batch_options *o,
				  const struct odj_batch_entry *entries,
				  size_t num_entries)
{
	struct tevent_req *req = NULL;
	struct odj_batch_state *state = NULL;
	size_t i;

	req = tevent_req_create(mem_ctx, &state, struct odj_batch_state);
	if (req == NULL) {
		return NULL;
	}
	if (o == NULL || o->dcs == NULL || o->num_dcs == 0 ||
	    o->savedir == NULL || entries == NULL || num_entries == 0 ||
	    o->parallel > ODJ_BATCH_MAX_PARALLEL) {
		tevent_req_nterror(req, NT_STATUS_INVALID_PARAMETER);
		return tevent_req_post(req, ev);
	}
	state->ev = ev;
	state->o = *o;
	if (state->o.parallel == 0) {
		state->o.parallel = ODJ_BATCH_DEFAULT_PARALLEL;
	}
	state->entries = entries;
	state->num = num_entries;
	state->results = talloc_zero_array(state, struct odj_batch_result,
					   num_entries);
	if (tevent_req_nomem(state->results, req)) {
		return tevent_req_post(req, ev);
	}
	for (i = 0; i < num_entries; i++) {
		state->results[i].entry = &entries[i];
	}
	if (tevent_req_nomem(mark_duplicates(state) ? state : NULL, req)) {
		return tevent_req_post(req, ev);
	}
	batch_launch(req);
	if (!tevent_req_is_in_progress(req)) {
		return tevent_req_post(req, ev);
	}
	return req;
}

static void batch_report(struct odj_batch_state *state, size_t i)
{
	state->done++;
	if (state->o.progress != NULL) {
		state->o.progress(&state->results[i], state->done, state->num,
				  state->o.private_data);
	}
}

static void batch_finish(struct tevent_req *req)
{
	struct odj_batch_state *state = tevent_req_data(
		req, struct odj_batch_state);

	if (state->done < state->num) {
		tevent_req_nterror(req, NT_STATUS_CANCELLED);
		return;
	}
	tevent_req_done(req);
}

/* Keep o.parallel machines in flight, spread over the DCs. */
static void batch_launch(struct tevent_req *req)
{
	struct odj_batch_state *state = tevent_req_data(
		req, struct odj_batch_state);

	while (!state->stopping && state->in_flight < state->o.parallel &&
	       state->next < state->num) {
		size_t i = state->next++;
		struct odj_dc *dc = state->o.dcs[state->next_dc++ %
						 state->o.num_dcs];
		struct tevent_req *subreq = NULL;

		if (state->results[i].status == ODJ_BATCH_FAILED) {
			batch_report(state, i);
			continue;
		}
		subreq = batch_machine_send(state, state->ev, &state->o, dc,
					    &state->entries[i],
					    &state->results[i],
					    state->results);
		if (tevent_req_nomem(subreq, req)) {
			return;
		}
		tevent_req_set_callback(subreq, batch_machine_done, req);
		state->in_flight++;
	}
	if (state->in_flight == 0 &&
	    (state->stopping || state->next == state->num)) {
		batch_finish(req);
	}
}

static void batch_machine_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_batch_state *state = tevent_req_data(
		req, struct odj_batch_state);
	struct batch_machine_state *mstate = tevent_req_data(
		subreq, struct batch_machine_state);
	size_t i = mstate->res - state->results;

	batch_machine_recv(subreq);
	TALLOC_FREE(subreq);
	state->in_flight--;
	batch_report(state, i);
	batch_launch(req);
}

size_t odj_batch_stop(struct tevent_req *req)
{
	struct odj_batch_state *state = tevent_req_data(
		req, struct odj_batch_state);

	if (!tevent_req_is_in_progress(req)) {
		return 0;
	}
	state->stopping = true;
	if (state->in_flight == 0) {
		/* the caller is in the middle of something: call back later */
		tevent_req_defer_callback(req, state->ev);
		batch_finish(req);
	}
	return state->in_flight;
}

NTSTATUS odj_batch_recv(struct tevent_req *req,
			TALLOC_CTX *mem_ctx,
			struct odj_batch_result **results,
			size_t *num_results,
			char **why)
{
	struct odj_batch_state *state = tevent_req_data(
		req, struct odj_batch_state);
	NTSTATUS status = NT_STATUS_OK;

	if (tevent_req_is_nterror(req, &status) &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_CANCELLED)) {
		odj_why(mem_ctx, why, "the batch failed: %s",
			nt_errstr(status));
		tevent_req_received(req);
		return status;
	}
	*results = talloc_move(mem_ctx, &state->results);
	*num_results = state->num;
	tevent_req_received(req);
	return status;
}
