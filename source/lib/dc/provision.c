/*
 * Provisioning one machine on a DC: the computer account with a fresh
 * password, and the provisioning data that carries both to the client.
 *
 * The account is created with its password in one LDAP add, so there is
 * never an account without a password; anything that fails after the add
 * deletes the account again.  An existing account is only touched with
 * "reuse" (djoin /REUSE), and only if the reuse guard (reuse.c) allows
 * it; then only its password changes (and, if asked, its owner).
 */

#include "dc/dc.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <charset.h>
#include <ldb.h>
#include <tevent.h>
#include <util/tevent_ntstatus.h>

/* [MS-DTYP] 2.4.2.4: DOMAIN_GROUP_RID_ADMINS */
#define DOMAIN_RID_ADMINS 512

/* what the conflict search reads: what reuse needs to decide */
static const char * const account_attrs[] = {
	"objectClass", "userAccountControl", "objectSid", "objectGUID",
	"nTSecurityDescriptor", "mS-DS-CreatorSID", NULL
};

struct odj_provision_state {
	struct tevent_context *ev;
	struct odj_dc *dc;
	struct ldb_context *ldb;
	const struct odj_provision_request *r;
	char *machine;			/* upper case NetBIOS name */
	char *sam;			/* NAME$ */
	char *dns_host;
	char *password;
	struct ldb_dn *dn;
	uint32_t options;
	struct odj_provision_result *result;
	char *why;
	NTSTATUS failure;		/* the error a rollback reports */
	bool searched_after_add;	/* nosearch + reuse found a conflict */
};

static void provision_add(struct tevent_req *req);
static void provision_search(struct tevent_req *req);
static void provision_searched(struct tevent_req *subreq);
static void provision_reuse_checked(struct tevent_req *subreq);
static void provision_added(struct tevent_req *subreq);
static void provision_set_owner(struct tevent_req *req);
static void provision_owner_set(struct tevent_req *subreq);
static void provision_set_password(struct tevent_req *req);
static void provision_password_set(struct tevent_req *subreq);
static void provision_read_back(struct tevent_req *subreq);
static void provision_rolled_back(struct tevent_req *subreq);
static void provision_rodc(struct tevent_req *req);
static void provision_rodc_done(struct tevent_req *subreq);
static void provision_account_next(struct tevent_req *req);
static void provision_compose(struct tevent_req *req);
static void provision_deliver(struct tevent_req *req);

NTSTATUS odj_provision_check(TALLOC_CTX *mem_ctx,
			     const struct odj_provision_request *r,
			     char **why)
{
	NTSTATUS status;

	if (r == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = odj_machine_name_check(mem_ctx, r->machine_name, why);
	if (!NT_STATUS_IS_OK(status) || r->savefile == NULL) {
		return status;
	}
	/* a blob that cannot be written must fail before the DC changes */
	return odj_file_check_target(mem_ctx, r->savefile, r->overwrite, why);
}

static bool fill_names(struct odj_provision_state *state)
{
	const struct odj_dc_info *info = odj_dc_info(state->dc);
	const char *suffix = state->r->jp2.primary_dns != NULL ?
		state->r->jp2.primary_dns : info->dns_domain;
	const char *parent = state->r->ou != NULL ? state->r->ou :
		info->computers_dn;
	char *p = NULL;

	state->machine = talloc_strdup(state, state->r->machine_name);
	if (state->machine == NULL) {
		return false;
	}
	for (p = state->machine; *p != '\0'; p++) {
		*p = toupper((unsigned char)*p);
	}
	state->sam = talloc_asprintf(state, "%s$", state->machine);
	state->dns_host = talloc_asprintf(state, "%s.%s",
					  state->r->machine_name, suffix);
	for (p = state->dns_host; p != NULL && *p != '\0'; p++) {
		*p = tolower((unsigned char)*p);
	}
	state->dn = ldb_dn_new_fmt(state, state->ldb, "CN=%s,%s",
				   state->machine, parent);
	return state->sam != NULL && state->dns_host != NULL &&
	       state->dn != NULL && ldb_dn_validate(state->dn);
}

static void provision_fail(struct tevent_req *req, NTSTATUS status,
			   const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void provision_fail(struct tevent_req *req, NTSTATUS status,
			   const char *fmt, ...)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	va_list ap;

	TALLOC_FREE(state->why);
	va_start(ap, fmt);
	state->why = talloc_vasprintf(state, fmt, ap);
	va_end(ap);
	tevent_req_nterror(req, status);
}

struct tevent_req *odj_provision_send(TALLOC_CTX *mem_ctx,
				      struct tevent_context *ev,
				      struct odj_dc *dc,
				      const struct odj_provision_request *r)
{
	struct tevent_req *req = NULL;
	struct odj_provision_state *state = NULL;
	const struct odj_dc_info *info = odj_dc_info(dc);
	NTSTATUS status;

	req = tevent_req_create(mem_ctx, &state, struct odj_provision_state);
	if (req == NULL) {
		return NULL;
	}
	state->ev = ev;
	state->dc = dc;
	state->ldb = odj_dc_ldb(dc);
	state->r = r;
	state->result = talloc_zero(state, struct odj_provision_result);
	if (tevent_req_nomem(state->result, req)) {
		return tevent_req_post(req, ev);
	}

	status = odj_provision_check(state, r, &state->why);
	if (tevent_req_nterror(req, status)) {
		return tevent_req_post(req, ev);
	}
	if (!fill_names(state)) {
		provision_fail(req, NT_STATUS_OBJECT_PATH_SYNTAX_BAD,
			       "'%s' is not a valid OU DN",
			       r->ou != NULL ? r->ou : info->computers_dn);
		return tevent_req_post(req, ev);
	}
	state->options = (r->reuse || r->reuse_unsafe ?
			  NETSETUP_PROVISION_REUSE_ACCOUNT : 0) |
		(r->defpwd ? NETSETUP_PROVISION_USE_DEFAULT_PASSWORD : 0) |
		(r->nosearch ? NETSETUP_PROVISION_SKIP_ACCOUNT_SEARCH : 0) |
		(r->downlevel ? NETSETUP_PROVISION_DOWNLEVEL_PRIV_SUPPORT : 0);

	/* djoin /DEFPWD: the lower case machine name, as Windows resets */
	if (r->defpwd) {
		char *p = NULL;

		state->password = odj_secret_strdup(state, r->machine_name);
		for (p = state->password; p != NULL && *p != '\0'; p++) {
			*p = tolower((unsigned char)*p);
		}
	} else {
		state->password = odj_machine_password_new(state);
	}
	if (tevent_req_nomem(state->password, req)) {
		return tevent_req_post(req, ev);
	}

	/* djoin /NOSEARCH: the add itself detects a conflict */
	if (r->nosearch) {
		provision_add(req);
	} else {
		provision_search(req);
	}
	return tevent_req_is_in_progress(req) ? req : tevent_req_post(req, ev);
}

static bool reusing(const struct odj_provision_state *state)
{
	return state->r->reuse || state->r->reuse_unsafe;
}

/*
 * The account of this name anywhere in the domain, with what the reuse
 * guard needs: the owner (the SD flags control asks for it alone, which
 * a delegated non-admin may read; not critical: a DC that ignores it
 * gives no descriptor, and the guard then refuses) and the creator.
 */
static void provision_search(struct tevent_req *req)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	const struct odj_dc_info *info = odj_dc_info(state->dc);
	struct tevent_req *subreq = NULL;
	struct ldb_control **ctrls = NULL;
	char *filter = NULL;

	filter = talloc_asprintf(state, "(sAMAccountName=%s)",
				 ldb_binary_encode_string(state, state->sam));
	ctrls = odj_sd_flags_controls(state, ODJ_SECINFO_OWNER, false);
	if (tevent_req_nomem(filter, req) || tevent_req_nomem(ctrls, req)) {
		return;
	}
	subreq = odj_ldb_search_ctrl_send(state, state->ev, state->ldb,
					  ldb_dn_new(state, state->ldb,
						     info->domain_dn),
					  LDB_SCOPE_SUBTREE, account_attrs,
					  filter, ctrls);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, provision_searched, req);
}

static void provision_add(struct tevent_req *req)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	struct tevent_req *subreq = NULL;
	struct ldb_message *msg = NULL;

	msg = odj_account_add_msg(state, state->dn, state->machine,
				  state->dns_host, state->sam,
				  state->password);
	if (tevent_req_nomem(msg, req)) {
		return;
	}
	subreq = odj_ldb_add_send(state, state->ev, state->ldb, msg);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, provision_added, req);
}

/* Reset the password of an existing account (djoin /REUSE). */
static void provision_set_password(struct tevent_req *req)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	struct tevent_req *subreq = NULL;
	struct ldb_message *msg = NULL;

	msg = odj_account_password_msg(state, state->dn, state->password);
	if (tevent_req_nomem(msg, req)) {
		return;
	}
	subreq = odj_ldb_modify_send(state, state->ev, state->ldb, msg);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, provision_password_set, req);
}

/* objectSid and objectGUID of the account into the result */
static bool take_identity(struct odj_provision_state *state,
			  const struct ldb_message *msg)
{
	struct odj_provision_result *res = state->result;

	return odj_account_identity(res, msg, &res->machine_sid, &res->rid,
				    &res->object_guid);
}

/* Add a line to the result's warnings. */
static bool provision_warn(struct odj_provision_state *state,
			   const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool provision_warn(struct odj_provision_state *state,
			   const char *fmt, ...)
{
	struct odj_provision_result *res = state->result;
	char *w = NULL;
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	w = talloc_vasprintf(res, fmt, ap);
	va_end(ap);
	ok = w != NULL && odj_str_list_add(res, &res->warnings, w);
	TALLOC_FREE(w);
	return ok;
}

/* reuse never moves an account: say so if it is not where it was asked */
static bool check_ou(struct odj_provision_state *state)
{
	struct ldb_dn *want = NULL, *parent = NULL;
	bool same;

	if (state->r->ou == NULL) {
		return true;
	}
	want = ldb_dn_new(state, state->ldb, state->r->ou);
	parent = ldb_dn_get_parent(state, state->dn);
	if (want == NULL || parent == NULL) {
		return false;
	}
	same = ldb_dn_compare(want, parent) == 0;
	TALLOC_FREE(want);
	TALLOC_FREE(parent);
	if (same) {
		return true;
	}
	return provision_warn(state, "%s is not in machine_account_ou=%s: "
			      "reused where it is, not moved (move it with "
			      "samba-tool computer move, or delete it and "
			      "provision anew)",
			      ldb_dn_get_linearized(state->dn),
			      state->r->ou);
}

static void provision_searched(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	struct ldb_result *res = NULL;
	char *msg = NULL;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, &res, NULL, &msg);
	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		provision_fail(req, status, "searching for %s failed: %s",
			       state->sam, msg != NULL ? msg :
			       nt_errstr(status));
		return;
	}
	if (res->count == 0 && state->searched_after_add) {
		provision_fail(req, NT_STATUS_USER_EXISTS, "%s conflicts with "
			       "an existing object, but no account %s exists "
			       "to reuse", ldb_dn_get_linearized(state->dn),
			       state->sam);
		return;
	}
	if (res->count == 0) {
		provision_add(req);
		return;
	}
	state->dn = talloc_steal(state, res->msgs[0]->dn);
	if (!reusing(state)) {
		/* djoin refuses too: a reset would break a handed-out blob */
		provision_fail(req, NT_STATUS_USER_EXISTS,
			       "the account %s already exists (%s); use "
			       "reuse (/REUSE) to reset its password",
			       state->sam, ldb_dn_get_linearized(state->dn));
		return;
	}
	if (!odj_account_is_workstation(res->msgs[0])) {
		provision_fail(req, NT_STATUS_USER_EXISTS,
			       "%s (%s) exists but is not a workstation "
			       "account; refusing to reuse it", state->sam,
			       ldb_dn_get_linearized(state->dn));
		return;
	}
	if (!take_identity(state, res->msgs[0])) {
		provision_fail(req, NT_STATUS_INVALID_SID,
			       "%s has no valid objectSid/objectGUID",
			       ldb_dn_get_linearized(state->dn));
		return;
	}
	if (tevent_req_nomem(check_ou(state) ? state : NULL, req)) {
		return;
	}
	subreq = odj_reuse_check_send(state, state->ev, state->dc,
				      res->msgs[0]);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, provision_reuse_checked, req);
}

/* The guard has spoken: reset the account, or leave it untouched. */
static void provision_reuse_checked(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	struct odj_reuse_verdict *v = NULL;
	NTSTATUS status;

	status = odj_reuse_check_recv(subreq, state, &v);
	TALLOC_FREE(subreq);
	if (tevent_req_nterror(req, status)) {
		return;
	}
	if (!v->allowed && !state->r->reuse_unsafe) {
		provision_fail(req, NT_STATUS_ACCESS_DENIED, "%s; the account "
			       "was not changed", v->refusal);
		return;
	}
	if (!v->allowed &&
	    !provision_warn(state, "reuse_unsafe: resetting %s although "
			    "NERR_AccountReuseBlockedByPolicy (0x%X) refuses "
			    "it: %s; %s", ldb_dn_get_linearized(state->dn),
			    ODJ_NERR_ACCOUNT_REUSE_BLOCKED, v->facts,
			    state->r->owner_domain_admins ?
			    "Domain Admins become its owner, but what its "
			    "owner or creator granted in its ACL stays: "
			    "review it (samba-tool dsacl get)" :
			    "whoever owns or created the account keeps "
			    "control over it (its ACL, delegation) after the "
			    "machine joins")) {
		tevent_req_oom(req);
		return;
	}
	provision_rodc(req);
}

static void provision_added(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	const char * const attrs[] = { "objectSid", "objectGUID", NULL };
	const char *dn = ldb_dn_get_linearized(state->dn);
	char *msg = NULL;
	int err = 0;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, NULL, &err, &msg);
	TALLOC_FREE(subreq);
	if (err == LDB_ERR_ENTRY_ALREADY_EXISTS && reusing(state) &&
	    !state->searched_after_add) {
		/* nosearch + reuse: find it, and let the guard decide */
		state->searched_after_add = true;
		provision_search(req);
		return;
	}
	if (err == LDB_ERR_ENTRY_ALREADY_EXISTS) {
		provision_fail(req, NT_STATUS_USER_EXISTS,
			       "%s already exists; use reuse (/REUSE) to "
			       "reset its password", dn);
		return;
	}
	if (err == LDB_ERR_NO_SUCH_OBJECT) {
		provision_fail(req, NT_STATUS_NOT_FOUND,
			       "the container for %s does not exist (wrong "
			       "OU?): %s", dn, msg != NULL ? msg : "");
		return;
	}
	if (err == LDB_ERR_INSUFFICIENT_ACCESS_RIGHTS) {
		provision_fail(req, NT_STATUS_ACCESS_DENIED,
			       "no right to create %s: %s", dn,
			       msg != NULL ? msg : "");
		return;
	}
	if (!NT_STATUS_IS_OK(status)) {
		provision_fail(req, status, "creating %s failed: %s", dn,
			       msg != NULL ? msg : nt_errstr(status));
		return;
	}
	state->result->created = true;
	subreq = odj_ldb_search_send(state, state->ev, state->ldb, state->dn,
				     LDB_SCOPE_BASE, attrs,
				     "(objectClass=*)");
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, provision_read_back, req);
}

static void provision_password_set(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	char *msg = NULL;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, NULL, NULL, &msg);
	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		provision_fail(req, status, "resetting the password of %s "
			       "failed: %s", ldb_dn_get_linearized(state->dn),
			       msg != NULL ? msg : nt_errstr(status));
		return;
	}
	provision_compose(req);
}

/* Delete the account this request created, then fail with @p status. */
static void provision_rollback(struct tevent_req *req, NTSTATUS status)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	struct tevent_req *subreq = NULL;

	state->failure = status;
	subreq = odj_ldb_delete_send(state, state->ev, state->ldb, state->dn);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, provision_rolled_back, req);
}

static void provision_rolled_back(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	char *msg = NULL;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, NULL, NULL, &msg);
	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		state->why = talloc_asprintf_append(
			state->why, "; and deleting %s again failed: %s "
			"(delete it by hand)", ldb_dn_get_linearized(state->dn),
			msg != NULL ? msg : nt_errstr(status));
	} else {
		state->why = talloc_asprintf_append(
			state->why, "; %s was deleted again",
			ldb_dn_get_linearized(state->dn));
	}
	tevent_req_nterror(req, state->failure);
}

static void provision_read_back(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	struct ldb_result *res = NULL;
	char *msg = NULL;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, &res, NULL, &msg);
	TALLOC_FREE(subreq);
	if (NT_STATUS_IS_OK(status) &&
	    (res->count != 1 || !take_identity(state, res->msgs[0]))) {
		status = NT_STATUS_INVALID_SID;
		msg = talloc_strdup(state, "no valid objectSid/objectGUID");
	}
	if (!NT_STATUS_IS_OK(status)) {
		state->why = talloc_asprintf(state, "reading back %s failed: "
					     "%s",
					     ldb_dn_get_linearized(state->dn),
					     msg != NULL ? msg :
					     nt_errstr(status));
		provision_rollback(req, status);
		return;
	}
	provision_rodc(req);
}

/*
 * rodc=: the account exists, new or reused (not yet reset): allow its
 * password on the RODCs (rodc.c), or refuse it there.  Then the owner,
 * the password of a reused account, the blob of a new one.
 */
static void provision_rodc(struct tevent_req *req)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	struct tevent_req *subreq = NULL;

	if (state->r->rodc == NULL) {
		provision_account_next(req);
		return;
	}
	subreq = odj_rodc_allow_send(state, state->ev, state->dc,
				     state->r->rodc, state->dn,
				     state->r->jp2.site);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, provision_rodc_done, req);
}

static void provision_rodc_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	struct odj_provision_result *res = state->result;
	NTSTATUS status;

	status = odj_rodc_allow_recv(subreq, res, &res->rodcs,
				     &res->warnings, &state->why);
	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status) && res->created) {
		provision_rollback(req, status);
		return;
	}
	if (!NT_STATUS_IS_OK(status)) {
		state->why = talloc_asprintf_append(state->why, "; the "
						    "account was not changed");
		tevent_req_nterror(req, status);
		return;
	}
	provision_account_next(req);
}

/* The account is there: its owner, then a reused one's password */
static void provision_account_next(struct tevent_req *req)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);

	if (state->r->owner_domain_admins) {
		provision_set_owner(req);
	} else if (state->result->created) {
		provision_compose(req);
	} else {
		provision_set_password(req);
	}
}

/*
 * Make Domain Admins the owner: a modify of nTSecurityDescriptor with an
 * owner-only descriptor under the SD flags control, critical (a DC that
 * ignored the control would take it for the whole descriptor).
 */
static void provision_set_owner(struct tevent_req *req)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	const struct odj_dc_info *info = odj_dc_info(state->dc);
	struct tevent_req *subreq = NULL;
	struct ldb_control **ctrls = NULL;
	struct ldb_message *msg = NULL;
	struct ODJ_SID da;
	uint32_t subs[15];
	DATA_BLOB sd;
	NTSTATUS status;
	int ret;

	if (info->domain_sid->SubAuthorityCount >= 15) {
		tevent_req_nterror(req, NT_STATUS_INVALID_SID);
		return;
	}
	da = *info->domain_sid;
	memcpy(subs, da.SubAuthority, 4 * (size_t)da.SubAuthorityCount);
	subs[da.SubAuthorityCount++] = DOMAIN_RID_ADMINS;
	da.SubAuthority = subs;
	msg = ldb_msg_new(state);
	if (tevent_req_nomem(msg, req)) {
		return;
	}
	status = odj_sd_owner_only(msg, &da, &sd);
	if (tevent_req_nterror(req, status)) {
		return;
	}
	msg->dn = state->dn;
	ret = ldb_msg_add_value(msg, "nTSecurityDescriptor", &sd, NULL);
	if (ret != LDB_SUCCESS) {
		tevent_req_oom(req);
		return;
	}
	msg->elements[0].flags = LDB_FLAG_MOD_REPLACE;
	ctrls = odj_sd_flags_controls(msg, ODJ_SECINFO_OWNER, true);
	if (tevent_req_nomem(ctrls, req)) {
		return;
	}
	subreq = odj_ldb_modify_ctrl_send(state, state->ev, state->ldb, msg,
					  ctrls);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, provision_owner_set, req);
}

static void provision_owner_set(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	const char *dn = ldb_dn_get_linearized(state->dn);
	char *msg = NULL, *p = NULL;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, NULL, NULL, &msg);
	TALLOC_FREE(subreq);
	if (NT_STATUS_IS_OK(status)) {
		if (state->result->created) {
			provision_compose(req);
		} else {
			provision_set_password(req);
		}
		return;
	}
	/*
	 * Windows (and Samba from 4.18) let only members of the group, or
	 * holders of SeRestorePrivilege, make it the owner; any DC needs
	 * WRITE_OWNER on the object.  The account was asked to end up
	 * owned by Domain Admins: a new one goes again, before its blob
	 * exists, and an existing one keeps its password.
	 */
	for (p = msg; p != NULL && *p != '\0'; p++) {
		/* the DC's text may hold line breaks */
		if (*p == '\n' || *p == '\r') {
			*p = ' ';
		}
	}
	state->why = talloc_asprintf(
		state, "the DC refused to make Domain Admins the owner of %s "
		"(owner=domain_admins): %s (that takes WRITE_OWNER on the "
		"account and, on Windows and Samba 4.18 or later, membership "
		"of Domain Admins or SeRestorePrivilege)%s", dn,
		msg != NULL && msg[0] != '\0' ? msg : nt_errstr(status),
		state->result->created ? "" : "; the account was not changed");
	if (state->result->created) {
		provision_rollback(req, status);
		return;
	}
	tevent_req_nterror(req, status);
}

/*
 * The 2012 extensions of this machine, now that its account exists: its
 * certificate carries the account's SID (AD CS: enrolled as the account).
 */
static NTSTATUS machine_extensions(struct odj_provision_state *state,
			       struct odj_compose *c)
{
	const struct odj_provision_request *r = state->r;
	struct odj_part *parts = NULL;
	char *sid = NULL;
	bool roots = false;
	NTSTATUS status;

	sid = state->result->machine_sid != NULL ?
	      odj_sid_string(state, state->result->machine_sid) : NULL;
	status = odj_extensions_for_machine(state, r->extensions, r->machine_name,
					r->jp2.primary_dns, sid, state->sam,
					state->password, &parts,
					&c->num_extra_parts, &roots,
					&state->why);
	c->extra_parts = parts;
	if (roots) {
		c->options |= NETSETUP_PROVISION_ROOT_CA_CERTS;
	}
	return status;
}

static void provision_compose(struct tevent_req *req)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	const struct odj_provision_request *r = state->r;
	struct odj_provision_result *res = state->result;
	struct odj_compose c = {
		.dc = odj_dc_info(state->dc),
		.machine_name = r->machine_name,
		.machine_password = state->password,
		.rid = res->rid,
		.object_guid = &res->object_guid,
		.options = state->options,
		.jp2 = r->jp2,
	};
	NTSTATUS status;

	res->account_dn = talloc_strdup(res, ldb_dn_get_linearized(state->dn));
	res->sam_account_name = talloc_strdup(res, state->sam);
	status = r->extensions != NULL ? machine_extensions(state, &c) : NT_STATUS_OK;
	if (NT_STATUS_IS_OK(status)) {
		status = odj_compose(res, &c, &res->pd);
		if (!NT_STATUS_IS_OK(status)) {
			state->why = talloc_strdup(state, "composing the blob "
						   "failed");
		}
	}
	if (NT_STATUS_IS_OK(status) && res->account_dn == NULL) {
		status = NT_STATUS_NO_MEMORY;
	}
	if (!NT_STATUS_IS_OK(status) && res->created) {
		provision_rollback(req, status);
		return;
	}
	if (!NT_STATUS_IS_OK(status)) {
		state->why = talloc_asprintf_append(
			state->why, "; the password of %s was reset: provision "
			"it again with reuse", res->account_dn);
		tevent_req_nterror(req, status);
		return;
	}
	provision_deliver(req);
}

/* The blob to its file (or the caller); no new account without it. */
static void provision_deliver(struct tevent_req *req)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	const struct odj_provision_request *r = state->r;
	struct odj_provision_result *res = state->result;
	char *why = NULL;
	NTSTATUS status;

	status = odj_provision_data_encode(res, res->pd, &res->ndr, &why);
	if (NT_STATUS_IS_OK(status) && r->savefile != NULL) {
		status = odj_file_save(state, r->savefile, res->ndr,
				       r->overwrite, &why);
	} else if (NT_STATUS_IS_OK(status) && r->deliver != NULL) {
		status = r->deliver(res->ndr, r->deliver_data, &why);
	}
	if (NT_STATUS_IS_OK(status)) {
		tevent_req_done(req);
		return;
	}
	if (res->created) {
		state->why = talloc_strdup(state, why != NULL ? why :
					   nt_errstr(status));
		provision_rollback(req, status);
		return;
	}
	provision_fail(req, status, "the password of %s was reset but its "
		       "blob could not be written (%s); provision it again "
		       "with reuse", res->account_dn,
		       why != NULL ? why : nt_errstr(status));
}

NTSTATUS odj_provision_recv(struct tevent_req *req,
			    TALLOC_CTX *mem_ctx,
			    struct odj_provision_result **result,
			    char **why)
{
	struct odj_provision_state *state = tevent_req_data(
		req, struct odj_provision_state);
	NTSTATUS status;

	if (tevent_req_is_nterror(req, &status)) {
		if (why != NULL && state->why != NULL) {
			*why = talloc_move(mem_ctx, &state->why);
		}
		tevent_req_received(req);
		return status;
	}
	*result = talloc_move(mem_ctx, &state->result);
	tevent_req_received(req);
	return NT_STATUS_OK;
}

NTSTATUS odj_provision(TALLOC_CTX *mem_ctx,
		       struct odj_dc *dc,
		       const struct odj_provision_request *r,
		       struct odj_provision_result **result,
		       char **why)
{
	struct tevent_context *ev = odj_dc_ev(dc);
	struct tevent_req *req = NULL;
	NTSTATUS status;

	req = odj_provision_send(mem_ctx, ev, dc, r);
	if (req == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!tevent_req_poll(req, ev)) {
		TALLOC_FREE(req);
		return NT_STATUS_INTERNAL_ERROR;
	}
	status = odj_provision_recv(req, mem_ctx, result, why);
	TALLOC_FREE(req);
	return status;
}
