/*
 * odj verify: is each blob still good?  The account checks come from the
 * status lookup (one LDAP session for all blobs); the password is proven
 * by a Kerberos AS exchange with the blob's password at the KDC of the
 * same DC, several in flight.
 */

#include "dc/dc.h"

#include <inttypes.h>
#include <tevent.h>
#include <util/tevent_ntstatus.h>

#define LIFE_UF_ACCOUNTDISABLE 0x00000002
#define LIFE_UF_WORKSTATION_TRUST 0x00001000

/* AS exchanges in flight (the KDC answers them in parallel) */
#define VERIFY_IN_FLIGHT 8

static const char * const check_names[] = {
	[ODJ_CHECK_PASS] = "pass",
	[ODJ_CHECK_FAIL] = "fail",
	[ODJ_CHECK_SKIPPED] = "skipped",
	[ODJ_CHECK_UNCHECKED] = "unchecked",
};

static const char * const item_names[] = {
	[ODJ_VERIFY_ACCOUNT] = "account",
	[ODJ_VERIFY_SID] = "sid",
	[ODJ_VERIFY_GUID] = "guid",
	[ODJ_VERIFY_WORKSTATION] = "workstation",
	[ODJ_VERIFY_ENABLED] = "enabled",
	[ODJ_VERIFY_PASSWORD] = "password",
};

const char *odj_check_name(enum odj_check c)
{
	return (size_t)c < ARRAY_SIZE(check_names) ? check_names[c] :
						     "unknown";
}

const char *odj_verify_item_name(enum odj_verify_item i)
{
	return (size_t)i < ARRAY_SIZE(item_names) ? item_names[i] :
						    "unknown";
}

struct verify_state {
	struct tevent_context *ev;
	struct odj_dc *dc;
	const struct odj_life_blob *blobs;
	size_t num;
	struct odj_verify_result *results;
	struct odj_kdc *kdc;
	size_t next;			/* the next blob for the KDC */
	unsigned int in_flight;
};

struct verify_one {
	struct tevent_req *req;
	size_t i;
};

static void verify_looked_up(struct tevent_req *subreq);
static void verify_launch(struct tevent_req *req);
static void verify_checked(struct tevent_req *subreq);

struct tevent_req *odj_verify_send(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct odj_dc *dc,
				   const struct odj_life_blob *blobs,
				   size_t num_blobs)
{
	struct tevent_req *req = NULL, *subreq = NULL;
	struct verify_state *state = NULL;

	req = tevent_req_create(mem_ctx, &state, struct verify_state);
	if (req == NULL) {
		return NULL;
	}
	*state = (struct verify_state) {
		.ev = ev, .dc = dc, .blobs = blobs, .num = num_blobs,
	};
	state->results = talloc_zero_array(state, struct odj_verify_result,
					   num_blobs);
	if (num_blobs > 0 && tevent_req_nomem(state->results, req)) {
		return tevent_req_post(req, ev);
	}
	subreq = odj_status_send(state, ev, dc, blobs, num_blobs);
	if (tevent_req_nomem(subreq, req)) {
		return tevent_req_post(req, ev);
	}
	tevent_req_set_callback(subreq, verify_looked_up, req);
	return req;
}

static void set(struct odj_verify_result *r, enum odj_verify_item item,
		enum odj_check c, const char *detail)
{
	r->check[item] = c;
	r->detail[item] = detail;
}

static void identity_checks(TALLOC_CTX *mem_ctx, struct odj_verify_result *r)
{
	const struct odj_life_blob *b = r->status.blob;
	const struct odj_life_account *a = &r->status.account;
	bool sid_ok = b->sid != NULL && a->sid != NULL &&
		      strcasecmp(b->sid, a->sid) == 0;
	bool guid_ok = b->have_guid && a->have_guid &&
		       GUID_equal(&b->guid, &a->guid);
	struct GUID_txt_buf buf;

	if (b->sid == NULL) {
		set(r, ODJ_VERIFY_SID, ODJ_CHECK_SKIPPED,
		    "the blob names no account SID (no JOIN_PROVIDER3, or "
		    "RID 0)");
	} else {
		set(r, ODJ_VERIFY_SID, sid_ok ? ODJ_CHECK_PASS : ODJ_CHECK_FAIL,
		    sid_ok ? talloc_asprintf(mem_ctx, "objectSid %s", a->sid) :
		    talloc_asprintf(mem_ctx, "objectSid %s, the blob's %s",
				    a->sid != NULL ? a->sid : "(none)",
				    b->sid));
	}
	if (!b->have_guid) {
		set(r, ODJ_VERIFY_GUID, ODJ_CHECK_SKIPPED,
		    "the blob names no objectGUID (no JOIN_PROVIDER4)");
	} else {
		const char *ag = talloc_strdup(
			mem_ctx, GUID_buf_string(&a->guid, &buf));

		set(r, ODJ_VERIFY_GUID,
		    guid_ok ? ODJ_CHECK_PASS : ODJ_CHECK_FAIL,
		    guid_ok ? talloc_asprintf(mem_ctx, "objectGUID %s", ag) :
		    talloc_asprintf(mem_ctx, "objectGUID %s, the blob's %s",
				    ag, GUID_buf_string(&b->guid, &buf)));
	}
}

/* Everything but the password, from the directory */
static void account_checks(TALLOC_CTX *mem_ctx, struct odj_verify_result *r)
{
	const struct odj_life_status *s = &r->status;
	const struct odj_life_account *a = &s->account;
	size_t i;

	for (i = 0; i < ODJ_VERIFY_NUM_ITEMS; i++) {
		set(r, i, ODJ_CHECK_UNCHECKED, "not checked");
	}
	if (s->state == ODJ_LIFE_ERROR || !s->found) {
		set(r, ODJ_VERIFY_ACCOUNT, s->state == ODJ_LIFE_ERROR ?
		    ODJ_CHECK_UNCHECKED : ODJ_CHECK_FAIL, s->reason);
		return;
	}
	set(r, ODJ_VERIFY_ACCOUNT, ODJ_CHECK_PASS, a->dn);
	identity_checks(mem_ctx, r);
	set(r, ODJ_VERIFY_WORKSTATION,
	    (a->uac & LIFE_UF_WORKSTATION_TRUST) ? ODJ_CHECK_PASS :
						   ODJ_CHECK_FAIL,
	    talloc_asprintf(mem_ctx, "userAccountControl 0x%08" PRIx32 "%s",
			    a->uac, (a->uac & LIFE_UF_WORKSTATION_TRUST) ?
			    ": a workstation trust account" :
			    ": not a workstation trust account"));
	set(r, ODJ_VERIFY_ENABLED,
	    (a->uac & LIFE_UF_ACCOUNTDISABLE) ? ODJ_CHECK_FAIL :
						ODJ_CHECK_PASS,
	    (a->uac & LIFE_UF_ACCOUNTDISABLE) ? "the account is disabled" :
						"enabled");
	if (s->state == ODJ_LIFE_REPLACED) {
		set(r, ODJ_VERIFY_PASSWORD, ODJ_CHECK_UNCHECKED,
		    "not checked: the account is not the blob's");
	} else if (a->uac & LIFE_UF_ACCOUNTDISABLE) {
		set(r, ODJ_VERIFY_PASSWORD, ODJ_CHECK_UNCHECKED,
		    "not checked: the KDC refuses a disabled account");
	}
}

/* Whether the KDC is to be asked about @p r */
static bool wants_kdc(const struct odj_verify_result *r)
{
	const struct odj_life_status *s = &r->status;

	return s->found && s->state != ODJ_LIFE_REPLACED &&
	       s->state != ODJ_LIFE_DISABLED && s->state != ODJ_LIFE_ERROR;
}

static void verify_looked_up(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct verify_state *state = tevent_req_data(req,
						     struct verify_state);
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
		account_checks(state->results, &state->results[i]);
	}
	talloc_steal(state->results, st);
	status = odj_kdc_new(state, info->dc_address, NULL,
			     info->dns_domain, &state->kdc, &why);
	for (i = 0; !NT_STATUS_IS_OK(status) && i < state->num; i++) {
		if (wants_kdc(&state->results[i])) {
			set(&state->results[i], ODJ_VERIFY_PASSWORD,
			    ODJ_CHECK_UNCHECKED, talloc_asprintf(
				    state->results, "cannot check the "
				    "password: %s", why != NULL ? why :
				    nt_errstr(status)));
		}
	}
	if (!NT_STATUS_IS_OK(status)) {
		state->next = state->num;
	}
	verify_launch(req);
}

static void verify_launch(struct tevent_req *req)
{
	struct verify_state *state = tevent_req_data(req,
						     struct verify_state);

	while (state->in_flight < VERIFY_IN_FLIGHT &&
	       state->next < state->num) {
		struct odj_verify_result *r = &state->results[state->next];
		struct verify_one *one = NULL;
		struct tevent_req *subreq = NULL;

		if (!wants_kdc(r)) {
			state->next++;
			continue;
		}
		one = talloc_zero(state, struct verify_one);
		if (tevent_req_nomem(one, req)) {
			return;
		}
		one->req = req;
		one->i = state->next++;
		subreq = odj_kdc_check_send(one, state->ev, state->kdc,
					    r->status.blob->account_name,
					    r->status.blob->password);
		if (tevent_req_nomem(subreq, req)) {
			return;
		}
		tevent_req_set_callback(subreq, verify_checked, one);
		state->in_flight++;
	}
	if (state->in_flight == 0 && state->next == state->num) {
		size_t i, j;

		for (i = 0; i < state->num; i++) {
			struct odj_verify_result *r = &state->results[i];

			r->valid = true;
			for (j = 0; j < ODJ_VERIFY_NUM_ITEMS; j++) {
				r->valid &= r->check[j] == ODJ_CHECK_PASS ||
					    r->check[j] == ODJ_CHECK_SKIPPED;
			}
		}
		tevent_req_done(req);
	}
}

/* The KDC's answer as a check, in words that say what it means */
static void password_check(TALLOC_CTX *mem_ctx, struct odj_verify_result *r,
			   const char *dc, enum odj_kdc_answer answer,
			   const char *detail)
{
	const char *account = r->status.blob->account_name;
	const char *meaning = NULL;

	switch (answer) {
	case ODJ_KDC_ACCEPTED:
		set(r, ODJ_VERIFY_PASSWORD, ODJ_CHECK_PASS, talloc_asprintf(
			    mem_ctx, "the KDC of %s accepts the blob's "
			    "password (%s)", dc, detail));
		return;
	case ODJ_KDC_WRONG_PASSWORD:
		meaning = r->status.state == ODJ_LIFE_JOINED ?
			"the blob is spent: the machine joined and changed "
			"its password" :
			r->status.state == ODJ_LIFE_CHANGED ?
			"the password changed since the blob was made" :
			"the blob's password is not the account's";
		set(r, ODJ_VERIFY_PASSWORD, ODJ_CHECK_FAIL, talloc_asprintf(
			    mem_ctx, "the KDC of %s refuses the blob's "
			    "password (%s): %s", dc, detail, meaning));
		return;
	case ODJ_KDC_NO_PRINCIPAL:
		set(r, ODJ_VERIFY_PASSWORD, ODJ_CHECK_FAIL, talloc_asprintf(
			    mem_ctx, "the KDC of %s does not know %s (%s)", dc,
			    account, detail));
		return;
	case ODJ_KDC_REVOKED:
		set(r, ODJ_VERIFY_PASSWORD, ODJ_CHECK_FAIL, talloc_asprintf(
			    mem_ctx, "the KDC of %s refuses %s: disabled, "
			    "locked out or expired (%s)", dc, account, detail));
		return;
	case ODJ_KDC_UNAVAILABLE:
	case ODJ_KDC_OTHER:
		break;
	}
	set(r, ODJ_VERIFY_PASSWORD, ODJ_CHECK_UNCHECKED, talloc_asprintf(
		    mem_ctx, "cannot check the password with the KDC of %s: "
		    "%s", dc, detail));
}

static void verify_checked(struct tevent_req *subreq)
{
	struct verify_one *one = tevent_req_callback_data(
		subreq, struct verify_one);
	struct tevent_req *req = one->req;
	struct verify_state *state = tevent_req_data(req,
						     struct verify_state);
	struct odj_verify_result *r = &state->results[one->i];
	enum odj_kdc_answer answer = ODJ_KDC_OTHER;
	char *detail = NULL;
	NTSTATUS status;

	status = odj_kdc_check_recv(subreq, state->results, &answer, &detail);
	TALLOC_FREE(subreq);
	TALLOC_FREE(one);
	state->in_flight--;
	if (tevent_req_nterror(req, status)) {
		return;
	}
	password_check(state->results, r, odj_dc_info(state->dc)->dc_name,
		       answer, detail);
	verify_launch(req);
}

NTSTATUS odj_verify_recv(struct tevent_req *req,
			 TALLOC_CTX *mem_ctx,
			 struct odj_verify_result **results,
			 char **why)
{
	struct verify_state *state = tevent_req_data(req,
						     struct verify_state);
	NTSTATUS status;

	if (tevent_req_is_nterror(req, &status)) {
		tevent_req_received(req);
		return status;
	}
	*results = talloc_move(mem_ctx, &state->results);
	tevent_req_received(req);
	return NT_STATUS_OK;
}

NTSTATUS odj_verify(TALLOC_CTX *mem_ctx,
		    struct odj_dc *dc,
		    const struct odj_life_blob *blobs,
		    size_t num_blobs,
		    struct odj_verify_result **results,
		    char **why)
{
	struct tevent_context *ev = odj_dc_ev(dc);
	struct tevent_req *req = NULL;
	NTSTATUS status;

	req = odj_verify_send(mem_ctx, ev, dc, blobs, num_blobs);
	if (req == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!tevent_req_poll(req, ev)) {
		TALLOC_FREE(req);
		return NT_STATUS_INTERNAL_ERROR;
	}
	status = odj_verify_recv(req, mem_ctx, results, why);
	TALLOC_FREE(req);
	return status;
}
