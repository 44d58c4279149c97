/*
 * odj status: what became of each blob's account, read over one LDAP
 * session, many accounts per search (an OR filter of sAMAccountNames),
 * several searches in flight; then decided by odj_life_classify(), which
 * does no I/O (lifecycle.h says by which rules).
 */

#include "dc/dc.h"

#include <inttypes.h>
#include <strings.h>
#include <time.h>
#include <ldb.h>
#include <tevent.h>
#include <util/tevent_ntstatus.h>

/* [MS-ADTS] 2.2.16 userAccountControl */
#define LIFE_UF_ACCOUNTDISABLE 0x00000002
#define LIFE_UF_WORKSTATION_TRUST 0x00001000

/* accounts per search: an OR filter of this many names */
#define STATUS_CHUNK 100
/* searches in flight on the one session */
#define STATUS_IN_FLIGHT 4

#define NTTIME_PER_SEC 10000000ULL
#define NTTIME_EPOCH 11644473600ULL

static const char * const state_names[] = {
	[ODJ_LIFE_ERROR] = "error",
	[ODJ_LIFE_PENDING] = "pending",
	[ODJ_LIFE_JOINED] = "joined",
	[ODJ_LIFE_CHANGED] = "changed",
	[ODJ_LIFE_MISSING] = "missing",
	[ODJ_LIFE_REPLACED] = "replaced",
	[ODJ_LIFE_DISABLED] = "disabled",
};

const char *odj_life_state_name(enum odj_life_state s)
{
	if ((size_t)s >= ARRAY_SIZE(state_names)) {
		return "unknown";
	}
	return state_names[s];
}

uint64_t odj_life_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec + NTTIME_EPOCH) * NTTIME_PER_SEC +
	       ts.tv_nsec / 100;
}

char *odj_life_time_string(TALLOC_CTX *mem_ctx, uint64_t nttime)
{
	time_t t;
	struct tm tm;
	char buf[32];

	if (nttime == 0 || nttime == UINT64_MAX ||
	    nttime / NTTIME_PER_SEC < NTTIME_EPOCH) {
		return NULL;
	}
	t = nttime / NTTIME_PER_SEC - NTTIME_EPOCH;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		return NULL;
	}
	return talloc_strdup(mem_ctx, buf);
}

/* "dc1" and "dc1.odj.test" are the same DC */
static bool same_dc(const char *a, const char *b)
{
	size_t la = strcspn(a, "."), lb = strcspn(b, ".");

	if (strcasecmp(a, b) == 0) {
		return true;
	}
	if ((a[la] == '\0') == (b[lb] == '\0')) {
		return false;
	}
	return la == lb && strncasecmp(a, b, la) == 0;
}

static const char *when(TALLOC_CTX *mem_ctx, uint64_t t)
{
	const char *s = odj_life_time_string(mem_ctx, t);

	return s != NULL ? s : "(unknown)";
}

static void missing(TALLOC_CTX *mem_ctx, const struct odj_life_blob *b,
		    struct odj_life_status *s)
{
	s->state = ODJ_LIFE_MISSING;
	if (b->dc_name != NULL && s->dc_name != NULL &&
	    !same_dc(b->dc_name, s->dc_name)) {
		s->reason = talloc_asprintf(mem_ctx, "not found on %s (made "
					    "on %s: not replicated yet?)",
					    s->dc_name, b->dc_name);
		return;
	}
	s->reason = talloc_asprintf(mem_ctx, "no account %s on %s",
				    b->account_name, s->dc_name != NULL ?
				    s->dc_name : "the DC");
}

/* Not the blob's object: its SID or GUID differ */
static bool replaced(TALLOC_CTX *mem_ctx, const struct odj_life_blob *b,
		     const struct odj_life_account *a,
		     struct odj_life_status *s)
{
	struct GUID_txt_buf b1, b2;

	if (b->sid != NULL && (a->sid == NULL ||
			       strcasecmp(b->sid, a->sid) != 0)) {
		s->reason = talloc_asprintf(mem_ctx, "%s on %s is another "
					    "object: objectSid %s, the blob's "
					    "%s", b->account_name, s->dc_name,
					    a->sid != NULL ? a->sid : "(none)",
					    b->sid);
	} else if (b->have_guid && (!a->have_guid ||
				    !GUID_equal(&b->guid, &a->guid))) {
		s->reason = talloc_asprintf(mem_ctx, "%s on %s is another "
					    "object: objectGUID %s, the blob's "
					    "%s", b->account_name, s->dc_name,
					    GUID_buf_string(&a->guid, &b1),
					    GUID_buf_string(&b->guid, &b2));
	} else {
		return false;
	}
	s->state = ODJ_LIFE_REPLACED;
	return true;
}

/*
 * Whether the password changed since the blob was made, and when the
 * blob's password was set (lifecycle.h: the rules, in order).
 */
static bool password_changed(const struct odj_life_blob *b,
			     const struct odj_life_account *a,
			     struct odj_life_status *s)
{
	uint64_t window = ODJ_LIFE_WINDOW * NTTIME_PER_SEC;

	s->blob_time = a->pwd_last_set;
	if (a->have_kvno && a->kvno == 1) {
		s->basis = "kvno";
		return false;
	}
	if (a->when_created != 0 &&
	    a->pwd_last_set < a->when_created + window) {
		s->basis = "creation";
		return false;
	}
	if (!(b->options & NETSETUP_PROVISION_REUSE_ACCOUNT)) {
		s->basis = "blob-options";
		s->blob_time = a->when_created;
		return true;
	}
	s->basis = "file-time";
	if (b->file_time != 0 && a->pwd_last_set <= b->file_time) {
		return false;
	}
	s->blob_time = b->file_time;
	return true;
}

static const char * const basis_text[][2] = {
	{ "kvno", "set once (msDS-KeyVersionNumber 1)" },
	{ "creation", "set when the account was created" },
	{ "blob-options", "the blob created the account" },
	{ "file-time", "the blob file's time" },
};

static const char *basis_explained(const char *basis)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(basis_text); i++) {
		if (strcmp(basis_text[i][0], basis) == 0) {
			return basis_text[i][1];
		}
	}
	return basis;
}

static void password_state(TALLOC_CTX *mem_ctx,
			   const struct odj_life_blob *b,
			   const struct odj_life_account *a,
			   struct odj_life_status *s)
{
	uint64_t window = ODJ_LIFE_WINDOW * NTTIME_PER_SEC;
	uint64_t logon = a->last_logon > a->last_logon_timestamp ?
			 a->last_logon : a->last_logon_timestamp;
	bool changed, used;

	if (a->pwd_last_set == 0) {
		s->state = ODJ_LIFE_CHANGED;
		s->basis = "pwdLastSet";
		s->reason = talloc_strdup(mem_ctx, "pwdLastSet is 0: an "
					  "administrator reset the account "
					  "(must change the password)");
		return;
	}
	changed = password_changed(b, a, s);
	/* not the provisioning tool's own check (Samba's net logs on) */
	used = logon > s->blob_time + window;
	if (!changed && !used) {
		s->state = ODJ_LIFE_PENDING;
		s->reason = talloc_asprintf(mem_ctx, "password unchanged since "
					    "the blob was made (%s; %s)",
					    when(mem_ctx, a->pwd_last_set),
					    basis_explained(s->basis));
	} else if (!changed) {
		s->state = ODJ_LIFE_JOINED;
		s->reason = talloc_asprintf(mem_ctx, "logon %s with the blob's "
					    "password, not changed yet (%s; "
					    "%s)", when(mem_ctx, logon),
					    when(mem_ctx, a->pwd_last_set),
					    basis_explained(s->basis));
	} else if (used) {
		s->state = ODJ_LIFE_JOINED;
		s->reason = talloc_asprintf(mem_ctx, "password changed %s, "
					    "logon %s (%s)",
					    when(mem_ctx, a->pwd_last_set),
					    when(mem_ctx, logon),
					    basis_explained(s->basis));
	} else {
		s->state = ODJ_LIFE_CHANGED;
		s->reason = talloc_asprintf(mem_ctx, "password changed %s, no "
					    "logon since the blob (reset by an "
					    "administrator?) (%s)",
					    when(mem_ctx, a->pwd_last_set),
					    basis_explained(s->basis));
	}
}

void odj_life_classify(TALLOC_CTX *mem_ctx,
		       const struct odj_life_blob *b,
		       const struct odj_life_account *a,
		       const char *dc_name,
		       const char *dc_domain,
		       struct odj_life_status *s)
{
	*s = (struct odj_life_status) { .blob = b, .dc_name = dc_name };
	if (!NT_STATUS_IS_OK(b->error)) {
		s->state = ODJ_LIFE_ERROR;
		s->reason = b->message;
		return;
	}
	if (dc_domain != NULL && strcasecmp(b->dns_domain, dc_domain) != 0) {
		s->state = ODJ_LIFE_ERROR;
		s->reason = talloc_asprintf(mem_ctx, "%s: a blob of domain %s, "
					    "not %s (the domain of %s)",
					    b->path, b->dns_domain, dc_domain,
					    dc_name != NULL ? dc_name :
					    "the DC");
		return;
	}
	if (a == NULL) {
		missing(mem_ctx, b, s);
		return;
	}
	s->found = true;
	s->account = *a;
	if (replaced(mem_ctx, b, a, s)) {
		return;
	}
	if (a->uac & LIFE_UF_ACCOUNTDISABLE) {
		s->state = ODJ_LIFE_DISABLED;
		s->reason = talloc_asprintf(mem_ctx, "the account %s is "
					    "disabled", a->dn);
		return;
	}
	password_state(mem_ctx, b, a, s);
	if (!(a->uac & LIFE_UF_WORKSTATION_TRUST)) {
		s->state = ODJ_LIFE_CHANGED;
		s->reason = talloc_asprintf(mem_ctx, "no longer a workstation "
					    "trust account (userAccountControl "
					    "0x%08" PRIx32 ")", a->uac);
	}
}

/*
 * Reading the accounts
 */

struct status_state {
	struct tevent_context *ev;
	struct odj_dc *dc;
	const struct odj_life_blob *blobs;
	size_t num;
	struct odj_life_status *results;
	struct odj_life_account *accounts;
	bool *found;
	const char **failed;		/* per blob: the search's error */
	size_t *todo;			/* blobs to look up, by index */
	size_t num_todo;
	size_t next;
	unsigned int in_flight;
};

struct status_chunk {
	struct tevent_req *req;
	size_t first;			/* into todo */
	size_t count;
};

static const char * const account_attrs[] = {
	"sAMAccountName", "objectSid", "objectGUID", "userAccountControl",
	"pwdLastSet", "whenCreated", "lastLogon", "lastLogonTimestamp",
	"msDS-KeyVersionNumber", NULL
};

static void status_launch(struct tevent_req *req);
static void status_searched(struct tevent_req *subreq);
static void status_finish(struct tevent_req *req);

struct tevent_req *odj_status_send(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct odj_dc *dc,
				   const struct odj_life_blob *blobs,
				   size_t num_blobs)
{
	struct tevent_req *req = NULL;
	struct status_state *state = NULL;
	const struct odj_dc_info *info = odj_dc_info(dc);
	size_t i;

	req = tevent_req_create(mem_ctx, &state, struct status_state);
	if (req == NULL) {
		return NULL;
	}
	*state = (struct status_state) {
		.ev = ev, .dc = dc, .blobs = blobs, .num = num_blobs,
	};
	state->results = talloc_zero_array(state, struct odj_life_status,
					   num_blobs);
	state->accounts = talloc_zero_array(state, struct odj_life_account,
					    num_blobs);
	state->found = talloc_zero_array(state, bool, num_blobs);
	state->failed = talloc_zero_array(state, const char *, num_blobs);
	state->todo = talloc_zero_array(state, size_t, num_blobs);
	if (num_blobs > 0 &&
	    (tevent_req_nomem(state->results, req) ||
	     tevent_req_nomem(state->accounts, req) ||
	     tevent_req_nomem(state->found, req) ||
	     tevent_req_nomem(state->failed, req) ||
	     tevent_req_nomem(state->todo, req))) {
		return tevent_req_post(req, ev);
	}
	for (i = 0; i < num_blobs; i++) {
		if (NT_STATUS_IS_OK(blobs[i].error) &&
		    strcasecmp(blobs[i].dns_domain, info->dns_domain) == 0) {
			state->todo[state->num_todo++] = i;
		}
	}
	status_launch(req);
	if (!tevent_req_is_in_progress(req)) {
		return tevent_req_post(req, ev);
	}
	return req;
}

/* (|(sAMAccountName=A$)(sAMAccountName=B$)...) */
static char *chunk_filter(TALLOC_CTX *mem_ctx, struct status_state *state,
			  size_t first, size_t count)
{
	char *f = talloc_strdup(mem_ctx, "(|");
	size_t i;

	for (i = first; f != NULL && i < first + count; i++) {
		const char *name = state->blobs[state->todo[i]].account_name;
		char *esc = ldb_binary_encode_string(f, name);

		f = esc == NULL ? NULL : talloc_asprintf_append_buffer(
			f, "(sAMAccountName=%s)", esc);
	}
	return f == NULL ? NULL : talloc_asprintf_append_buffer(f, ")");
}

static void status_launch(struct tevent_req *req)
{
	struct status_state *state = tevent_req_data(req,
						     struct status_state);
	struct ldb_context *ldb = odj_dc_ldb(state->dc);
	const char *base = odj_dc_info(state->dc)->domain_dn;

	while (state->in_flight < STATUS_IN_FLIGHT &&
	       state->next < state->num_todo) {
		struct status_chunk *c = talloc_zero(state,
						     struct status_chunk);
		struct tevent_req *subreq = NULL;
		char *filter = NULL;

		if (tevent_req_nomem(c, req)) {
			return;
		}
		c->req = req;
		c->first = state->next;
		c->count = state->num_todo - state->next;
		if (c->count > STATUS_CHUNK) {
			c->count = STATUS_CHUNK;
		}
		filter = chunk_filter(c, state, c->first, c->count);
		if (tevent_req_nomem(filter, req)) {
			return;
		}
		subreq = odj_ldb_search_send(c, state->ev, ldb,
					     ldb_dn_new(c, ldb, base),
					     LDB_SCOPE_SUBTREE, account_attrs,
					     filter);
		if (tevent_req_nomem(subreq, req)) {
			return;
		}
		tevent_req_set_callback(subreq, status_searched, c);
		state->next += c->count;
		state->in_flight++;
	}
	if (state->in_flight == 0) {
		status_finish(req);
	}
}

static char *msg_sid(TALLOC_CTX *mem_ctx, const struct ldb_message *msg)
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

static uint64_t msg_generalized_time(const struct ldb_message *msg,
				     const char *attr)
{
	const char *s = ldb_msg_find_attr_as_string(msg, attr, NULL);
	time_t t = s != NULL ? ldb_string_to_time(s) : 0;

	return t > 0 ? ((uint64_t)t + NTTIME_EPOCH) * NTTIME_PER_SEC : 0;
}

static void take_account(TALLOC_CTX *mem_ctx, const struct ldb_message *msg,
			 struct odj_life_account *a)
{
	const struct ldb_val *g = ldb_msg_find_ldb_val(msg, "objectGUID");
	DATA_BLOB gb;

	a->dn = talloc_strdup(mem_ctx, ldb_dn_get_linearized(msg->dn));
	a->sid = msg_sid(mem_ctx, msg);
	if (g != NULL) {
		gb = data_blob_const(g->data, g->length);
		a->have_guid = NT_STATUS_IS_OK(GUID_from_data_blob(&gb,
								   &a->guid));
	}
	a->uac = ldb_msg_find_attr_as_uint(msg, "userAccountControl", 0);
	a->pwd_last_set = ldb_msg_find_attr_as_uint64(msg, "pwdLastSet", 0);
	a->when_created = msg_generalized_time(msg, "whenCreated");
	a->last_logon = ldb_msg_find_attr_as_uint64(msg, "lastLogon", 0);
	a->last_logon_timestamp = ldb_msg_find_attr_as_uint64(
		msg, "lastLogonTimestamp", 0);
	a->have_kvno = ldb_msg_find_element(msg, "msDS-KeyVersionNumber") !=
		       NULL;
	a->kvno = ldb_msg_find_attr_as_uint(msg, "msDS-KeyVersionNumber", 0);
}

static void status_searched(struct tevent_req *subreq)
{
	struct status_chunk *c = tevent_req_callback_data(
		subreq, struct status_chunk);
	struct tevent_req *req = c->req;
	struct status_state *state = tevent_req_data(req,
						     struct status_state);
	struct ldb_result *res = NULL;
	char *msg = NULL;
	NTSTATUS status;
	size_t i, j;

	status = odj_ldb_recv(subreq, c, &res, NULL, &msg);
	TALLOC_FREE(subreq);
	state->in_flight--;
	for (i = c->first; i < c->first + c->count; i++) {
		size_t k = state->todo[i];
		const char *name = state->blobs[k].account_name;

		if (!NT_STATUS_IS_OK(status)) {
			state->failed[k] = talloc_asprintf(
				state, "LDAP search on %s failed: %s",
				odj_dc_info(state->dc)->dc_name,
				msg != NULL ? msg : nt_errstr(status));
			continue;
		}
		for (j = 0; j < res->count; j++) {
			const char *sam = ldb_msg_find_attr_as_string(
				res->msgs[j], "sAMAccountName", NULL);

			if (sam != NULL && strcasecmp(sam, name) == 0) {
				take_account(state->accounts, res->msgs[j],
					     &state->accounts[k]);
				state->found[k] = true;
				break;
			}
		}
	}
	TALLOC_FREE(c);
	status_launch(req);
}

static void status_finish(struct tevent_req *req)
{
	struct status_state *state = tevent_req_data(req,
						     struct status_state);
	const struct odj_dc_info *info = odj_dc_info(state->dc);
	size_t i;

	for (i = 0; i < state->num; i++) {
		struct odj_life_status *s = &state->results[i];

		odj_life_classify(state->results, &state->blobs[i],
				  state->found[i] ? &state->accounts[i] : NULL,
				  info->dc_name, info->dns_domain, s);
		if (state->failed[i] != NULL) {
			s->state = ODJ_LIFE_ERROR;
			s->reason = talloc_steal(state->results,
						 state->failed[i]);
		}
		if (s->reason == NULL) {
			tevent_req_oom(req);
			return;
		}
	}
	/* the accounts' strings live on, for the results */
	talloc_steal(state->results, state->accounts);
	tevent_req_done(req);
}

NTSTATUS odj_status_recv(struct tevent_req *req,
			 TALLOC_CTX *mem_ctx,
			 struct odj_life_status **results,
			 char **why)
{
	struct status_state *state = tevent_req_data(req,
						     struct status_state);
	NTSTATUS status;

	if (tevent_req_is_nterror(req, &status)) {
		tevent_req_received(req);
		return status;
	}
	*results = talloc_move(mem_ctx, &state->results);
	tevent_req_received(req);
	return NT_STATUS_OK;
}

NTSTATUS odj_status(TALLOC_CTX *mem_ctx,
		    struct odj_dc *dc,
		    const struct odj_life_blob *blobs,
		    size_t num_blobs,
		    struct odj_life_status **results,
		    char **why)
{
	struct tevent_context *ev = odj_dc_ev(dc);
	struct tevent_req *req = NULL;
	NTSTATUS status;

	req = odj_status_send(mem_ctx, ev, dc, blobs, num_blobs);
	if (req == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!tevent_req_poll(req, ev)) {
		TALLOC_FREE(req);
		return NT_STATUS_INTERNAL_ERROR;
	}
	status = odj_status_recv(req, mem_ctx, results, why);
	TALLOC_FREE(req);
	return status;
}
