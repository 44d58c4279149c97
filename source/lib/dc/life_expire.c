/*
 * odj expire: a blob's only expiry is the deletion of its account, and
 * only an account nobody used may go.  The status lookup picks the
 * pending ones old enough; with apply each is then proven pending by the
 * KDC (the blob's password still works) and deleted right after, one
 * after the other, so that a stop leaves no deletion half-known.  (ldb
 * refuses a "<GUID=...>" DN on the client side: the DN it is.)
 */

#include "dc/dc.h"

#include <tevent.h>
#include <util/tevent_ntstatus.h>

#define NTTIME_PER_SEC 10000000ULL
#define SECONDS_PER_DAY 86400ULL

static const char * const action_names[] = {
	[ODJ_EXPIRE_KEPT] = "kept",
	[ODJ_EXPIRE_WOULD_DELETE] = "would-delete",
	[ODJ_EXPIRE_DELETED] = "deleted",
	[ODJ_EXPIRE_FAILED] = "failed",
	[ODJ_EXPIRE_NOT_STARTED] = "not-started",
};

const char *odj_expire_action_name(enum odj_expire_action a)
{
	return (size_t)a < ARRAY_SIZE(action_names) ? action_names[a] :
						      "unknown";
}

struct expire_state {
	struct tevent_context *ev;
	struct odj_dc *dc;
	const struct odj_life_blob *blobs;
	size_t num;
	struct odj_expire_options o;
	struct odj_expire_result *results;
	struct odj_kdc *kdc;
	size_t next;			/* the next candidate to look at */
	struct odj_expire_result *current;
	bool stopped;
	size_t not_started;
};

static void expire_looked_up(struct tevent_req *subreq);
static void expire_next(struct tevent_req *req);
static void expire_checked(struct tevent_req *subreq);
static void expire_deleted(struct tevent_req *subreq);

struct tevent_req *odj_expire_send(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct odj_dc *dc,
				   const struct odj_life_blob *blobs,
				   size_t num_blobs,
				   const struct odj_expire_options *o)
{
	struct tevent_req *req = NULL, *subreq = NULL;
	struct expire_state *state = NULL;

	req = tevent_req_create(mem_ctx, &state, struct expire_state);
	if (req == NULL) {
		return NULL;
	}
	*state = (struct expire_state) {
		.ev = ev, .dc = dc, .blobs = blobs, .num = num_blobs,
		.o = *o,
	};
	if (state->o.now == 0) {
		state->o.now = odj_life_now();
	}
	state->results = talloc_zero_array(state, struct odj_expire_result,
					   num_blobs);
	if (num_blobs > 0 && tevent_req_nomem(state->results, req)) {
		return tevent_req_post(req, ev);
	}
	subreq = odj_status_send(state, ev, dc, blobs, num_blobs);
	if (tevent_req_nomem(subreq, req)) {
		return tevent_req_post(req, ev);
	}
	tevent_req_set_callback(subreq, expire_looked_up, req);
	return req;
}

/* Pending for at least the days asked: a candidate */
static void expire_decide(TALLOC_CTX *mem_ctx, struct expire_state *state,
			  struct odj_expire_result *r)
{
	const struct odj_life_status *s = &r->status;
	uint64_t age = state->o.now > s->blob_time ?
		       state->o.now - s->blob_time : 0;
	uint64_t need = state->o.days * SECONDS_PER_DAY * NTTIME_PER_SEC;
	const char *since = odj_life_time_string(mem_ctx, s->blob_time);

	r->action = ODJ_EXPIRE_KEPT;
	if (s->state != ODJ_LIFE_PENDING) {
		r->reason = talloc_asprintf(mem_ctx, "%s: %s",
					    odj_life_state_name(s->state),
					    s->reason);
		return;
	}
	if (age < need) {
		r->reason = talloc_asprintf(mem_ctx, "pending since %s, less "
					    "than %u days", since,
					    state->o.days);
		return;
	}
	r->action = ODJ_EXPIRE_WOULD_DELETE;
	r->reason = talloc_asprintf(mem_ctx, "pending since %s (%llu days)",
				    since, (unsigned long long)(
					    age / NTTIME_PER_SEC /
					    SECONDS_PER_DAY));
}

static void expire_looked_up(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct expire_state *state = tevent_req_data(req,
						     struct expire_state);
	const struct odj_dc_info *info = odj_dc_info(state->dc);
	struct odj_life_status *st = NULL;
	char *why = NULL;
	NTSTATUS status;
	size_t i;

	status = odj_status_recv(subreq, state, &st, &why);
	TALLOC_FREE(subreq);
	if (tevent_req_nterror(req, status)) {
		return;
	}
	for (i = 0; i < state->num; i++) {
		state->results[i].status = st[i];
		expire_decide(state->results, state, &state->results[i]);
	}
	talloc_steal(state->results, st);
	if (!state->o.apply) {
		tevent_req_done(req);
		return;
	}
	status = odj_kdc_new(state, info->dc_address, NULL,
			     info->dns_domain, &state->kdc, &why);
	for (i = 0; !NT_STATUS_IS_OK(status) && i < state->num; i++) {
		struct odj_expire_result *r = &state->results[i];

		if (r->action == ODJ_EXPIRE_WOULD_DELETE) {
			r->action = ODJ_EXPIRE_FAILED;
			r->reason = talloc_asprintf(
				state->results, "not deleted: cannot check "
				"the password: %s", why != NULL ? why :
				nt_errstr(status));
		}
	}
	expire_next(req);
}

static void expire_report(struct expire_state *state,
			  struct odj_expire_result *r)
{
	if (state->o.progress != NULL) {
		state->o.progress(r, state->o.private_data);
	}
}

/* The next candidate: prove it pending with the KDC */
static void expire_next(struct tevent_req *req)
{
	struct expire_state *state = tevent_req_data(req,
						     struct expire_state);
	struct tevent_req *subreq = NULL;

	state->current = NULL;
	while (state->next < state->num) {
		struct odj_expire_result *r = &state->results[state->next++];

		if (r->action != ODJ_EXPIRE_WOULD_DELETE) {
			continue;
		}
		if (state->stopped) {
			r->action = ODJ_EXPIRE_NOT_STARTED;
			r->reason = talloc_strdup(state->results, "not "
						  "started: stopped");
			state->not_started++;
			continue;
		}
		state->current = r;
		subreq = odj_kdc_check_send(state, state->ev, state->kdc,
					    r->status.blob->account_name,
					    r->status.blob->password);
		if (tevent_req_nomem(subreq, req)) {
			return;
		}
		tevent_req_set_callback(subreq, expire_checked, req);
		return;
	}
	if (state->not_started > 0) {
		tevent_req_nterror(req, NT_STATUS_CANCELLED);
		return;
	}
	tevent_req_done(req);
}

static void expire_fail(struct tevent_req *req, enum odj_expire_action a,
			const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void expire_fail(struct tevent_req *req, enum odj_expire_action a,
			const char *fmt, ...)
{
	struct expire_state *state = tevent_req_data(req,
						     struct expire_state);
	struct odj_expire_result *r = state->current;
	va_list ap;

	r->action = a;
	va_start(ap, fmt);
	r->reason = talloc_vasprintf(state->results, fmt, ap);
	va_end(ap);
	expire_report(state, r);
	expire_next(req);
}

static void expire_checked(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct expire_state *state = tevent_req_data(req,
						     struct expire_state);
	struct odj_expire_result *r = state->current;
	struct ldb_context *ldb = odj_dc_ldb(state->dc);
	const char *dc = odj_dc_info(state->dc)->dc_name;
	enum odj_kdc_answer answer = ODJ_KDC_OTHER;
	char *detail = NULL;
	NTSTATUS status;

	status = odj_kdc_check_recv(subreq, state, &answer, &detail);
	TALLOC_FREE(subreq);
	if (tevent_req_nterror(req, status)) {
		return;
	}
	if (answer == ODJ_KDC_WRONG_PASSWORD) {
		expire_fail(req, ODJ_EXPIRE_KEPT, "not deleted: the KDC of %s "
			    "refuses the blob's password (%s), so it changed: "
			    "the machine may have joined", dc, detail);
		return;
	}
	if (answer != ODJ_KDC_ACCEPTED) {
		expire_fail(req, ODJ_EXPIRE_FAILED, "not deleted: cannot prove "
			    "with the KDC of %s that the blob's password still "
			    "works: %s", dc, detail);
		return;
	}
	subreq = odj_ldb_delete_send(
		state, state->ev, ldb,
		ldb_dn_new(state, ldb, r->status.account.dn));
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, expire_deleted, req);
}

static void expire_deleted(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct expire_state *state = tevent_req_data(req,
						     struct expire_state);
	struct odj_expire_result *r = state->current;
	char *msg = NULL;
	int err = 0;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, NULL, &err, &msg);
	TALLOC_FREE(subreq);
	if (err == LDB_ERR_NO_SUCH_OBJECT) {
		expire_fail(req, ODJ_EXPIRE_KEPT, "gone already: %s was "
			    "deleted meanwhile", r->status.account.dn);
		return;
	}
	if (!NT_STATUS_IS_OK(status)) {
		expire_fail(req, ODJ_EXPIRE_FAILED, "deleting %s failed: %s",
			    r->status.account.dn, msg != NULL ? msg :
			    nt_errstr(status));
		return;
	}
	r->action = ODJ_EXPIRE_DELETED;
	r->reason = talloc_asprintf(state->results, "deleted %s (pending "
				    "since %s); the blob is worthless now",
				    r->status.account.dn,
				    odj_life_time_string(state->results,
							 r->status.blob_time));
	expire_report(state, r);
	expire_next(req);
}

void odj_expire_stop(struct tevent_req *req)
{
	struct expire_state *state = tevent_req_data(req,
						     struct expire_state);

	state->stopped = true;
}

NTSTATUS odj_expire_recv(struct tevent_req *req,
			 TALLOC_CTX *mem_ctx,
			 struct odj_expire_result **results,
			 char **why)
{
	struct expire_state *state = tevent_req_data(req,
						     struct expire_state);
	NTSTATUS status = NT_STATUS_OK;

	if (tevent_req_is_nterror(req, &status) &&
	    !NT_STATUS_EQUAL(status, NT_STATUS_CANCELLED)) {
		tevent_req_received(req);
		return status;
	}
	*results = talloc_move(mem_ctx, &state->results);
	tevent_req_received(req);
	return status;
}
