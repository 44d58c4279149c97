/*
 * The account-reuse guard Windows enforces since KB5020276
 * (CVE-2022-38042): an existing computer account is reset for a new
 * join only when
 *
 *   (a) the caller created it (mS-DS-CreatorSID), or
 *   (b) the caller owns it (the owner of its nTSecurityDescriptor), or
 *   (c) its owner is Domain Admins, Enterprise Admins or
 *       BUILTIN\Administrators, or
 *   (d) its owner is on the DCs' ComputerAccountReuseAllowList.
 *
 * Otherwise the join fails with NERR_AccountReuseBlockedByPolicy.
 * Whoever owns an account can rewrite its ACL (owners have WRITE_DAC
 * implicitly) and so keeps control over the machine that joins with it,
 * e.g. through resource-based delegation.
 *
 * (d) is not checked: the list is a DC registry value set by a GPO
 * security option, read by Windows DCs only to answer
 * SamrValidateComputerAccountReuseAttempt ([MS-SAMR] opnum 74); it is not
 * in the directory, and Samba implements neither the value nor the call.
 *
 * Who "the caller" is: the account the LDAP connection is bound as.
 * Samba 4.17's ldb ldap backend cannot send extended operations (so no
 * RFC 4532 "Who am I?"; it came with 4.19, and answers a name, not a
 * SID), so the account is found by the credentials' name
 * (sAMAccountName, or userPrincipalName for another realm), which works
 * against any DC, and checked against the rootDSE's tokenGroups, the
 * SIDs of the connection's own token, where the DC returns them (Samba
 * does).  The Enterprise Admins SID comes from the forest root's SID,
 * which the rootDSE gives with the extended DN control.  Both are looked
 * up once per connection.
 */

#include "dc/dc.h"

#include <ctype.h>
#include <inttypes.h>
#include <credentials.h>
#include <tevent.h>
#include <util/tevent_ntstatus.h>

/* [MS-DTYP] 2.4.2.4 */
#define RID_DOMAIN_ADMINS 512
#define RID_ENTERPRISE_ADMINS 519
#define BUILTIN_ADMINISTRATORS "S-1-5-32-544"
#define BUILTIN_PREFIX "S-1-5-32-"

/* ldb_set_opaque() name of the per-connection facts */
#define REUSE_DOMAIN_OPAQUE "odj_reuse_domain"

/* What every reuse check on one connection shares. */
struct reuse_domain {
	struct ODJ_SID *caller;
	const char *caller_name;	/* DOMAIN\account */
	const char *caller_problem;	/* why caller is NULL */
	struct ODJ_SID *forest_sid;	/* the forest root domain's */
};

struct odj_reuse_check_state {
	struct tevent_context *ev;
	struct ldb_context *ldb;
	const struct odj_dc_info *info;
	const char *account_dn;
	struct ODJ_SID *owner;
	char *owner_problem;		/* why owner is NULL */
	struct ODJ_SID *creator;
	struct reuse_domain *dom;
	struct ODJ_SID *token;		/* rootDSE tokenGroups */
	size_t num_token;
	char *owner_name;
	char *creator_name;
	struct odj_reuse_verdict *v;
};

static void reuse_rootdse_done(struct tevent_req *subreq);
static void reuse_caller_done(struct tevent_req *subreq);
static void reuse_evaluate(struct tevent_req *req);
static void reuse_names_done(struct tevent_req *subreq);
static void reuse_refuse(struct tevent_req *req,
			 const struct ldb_result *res);

/* The SID of a single-valued binary attribute, or NULL. */
static struct ODJ_SID *msg_sid(TALLOC_CTX *mem_ctx,
			       const struct ldb_message *msg,
			       const char *attr)
{
	const struct ldb_val *v = ldb_msg_find_ldb_val(msg, attr);
	struct ODJ_SID *sid = NULL;

	if (v == NULL) {
		return NULL;
	}
	sid = talloc_zero(mem_ctx, struct ODJ_SID);
	if (sid == NULL) {
		return NULL;
	}
	if (!odj_sid_from_blob(sid, v->data, v->length, sid)) {
		TALLOC_FREE(sid);
	}
	return sid;
}

/* @p base with one more subauthority, @p rid */
static struct ODJ_SID *sid_append(TALLOC_CTX *mem_ctx,
				  const struct ODJ_SID *base, uint32_t rid)
{
	struct ODJ_SID *sid = NULL;

	if (base == NULL || base->SubAuthorityCount >= 15) {
		return NULL;
	}
	sid = talloc_zero(mem_ctx, struct ODJ_SID);
	if (sid == NULL) {
		return NULL;
	}
	*sid = *base;
	sid->SubAuthority = talloc_array(sid, uint32_t,
					 base->SubAuthorityCount + 1);
	if (sid->SubAuthority == NULL) {
		TALLOC_FREE(sid);
		return NULL;
	}
	if (base->SubAuthorityCount > 0) {
		memcpy(sid->SubAuthority, base->SubAuthority,
		       4 * (size_t)base->SubAuthorityCount);
	}
	sid->SubAuthority[sid->SubAuthorityCount++] = rid;
	return sid;
}

static bool sid_is(const struct ODJ_SID *a, const struct ODJ_SID *b)
{
	return a != NULL && b != NULL && odj_sid_equal(a, b);
}

/* objectSid=<escaped binary SID>, for a filter */
static char *sid_filter_value(TALLOC_CTX *mem_ctx, const struct ODJ_SID *sid)
{
	uint8_t buf[8 + 4 * 15];
	struct ldb_val v = { .data = buf };
	int i;

	buf[0] = sid->Revision;
	buf[1] = sid->SubAuthorityCount;
	memcpy(buf + 2, sid->IdentifierAuthority, 6);
	for (i = 0; i < sid->SubAuthorityCount && i < 15; i++) {
		uint8_t *q = buf + 8 + 4 * i;
		uint32_t s = sid->SubAuthority[i];

		q[0] = s & 0xff;
		q[1] = (s >> 8) & 0xff;
		q[2] = (s >> 16) & 0xff;
		q[3] = (s >> 24) & 0xff;
	}
	v.length = 8 + 4 * (size_t)i;
	return ldb_binary_encode(mem_ctx, v);
}

/* The owner and creator of the account, from the search that found it. */
static bool account_facts(struct odj_reuse_check_state *state,
			  const struct ldb_message *account)
{
	const struct ldb_val *sd = NULL;
	NTSTATUS status;

	state->creator = msg_sid(state, account, "mS-DS-CreatorSID");
	sd = ldb_msg_find_ldb_val(account, "nTSecurityDescriptor");
	if (sd == NULL) {
		state->owner_problem = talloc_strdup(
			state, "nTSecurityDescriptor not readable");
		return state->owner_problem != NULL;
	}
	status = odj_sd_owner(state, data_blob_const(sd->data, sd->length),
			      &state->owner, &state->owner_problem);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NO_MEMORY)) {
		return false;
	}
	if (!NT_STATUS_IS_OK(status) && state->owner_problem == NULL) {
		state->owner_problem = talloc_strdup(state, nt_errstr(status));
	}
	return NT_STATUS_IS_OK(status) || state->owner_problem != NULL;
}

struct tevent_req *odj_reuse_check_send(TALLOC_CTX *mem_ctx,
					struct tevent_context *ev,
					struct odj_dc *dc,
					const struct ldb_message *account)
{
	const char * const attrs[] = {
		"tokenGroups", "rootDomainNamingContext", NULL
	};
	struct tevent_req *req = NULL, *subreq = NULL;
	struct odj_reuse_check_state *state = NULL;
	struct ldb_extended_dn_control *edn = NULL;
	struct ldb_control **ctrls = NULL;

	req = tevent_req_create(mem_ctx, &state,
				struct odj_reuse_check_state);
	if (req == NULL) {
		return NULL;
	}
	state->ev = ev;
	state->ldb = odj_dc_ldb(dc);
	state->info = odj_dc_info(dc);
	state->account_dn = ldb_dn_get_linearized(account->dn);
	state->v = talloc_zero(state, struct odj_reuse_verdict);
	if (tevent_req_nomem(state->v, req) ||
	    tevent_req_nomem(account_facts(state, account) ? state : NULL,
			     req)) {
		return tevent_req_post(req, ev);
	}
	state->dom = ldb_get_opaque(state->ldb, REUSE_DOMAIN_OPAQUE);
	if (state->dom != NULL) {
		reuse_evaluate(req);
		return tevent_req_is_in_progress(req) ? req :
			tevent_req_post(req, ev);
	}

	/* the forest root's SID: the extended form of its DN */
	ctrls = talloc_zero_array(state, struct ldb_control *, 2);
	edn = talloc_zero(state, struct ldb_extended_dn_control);
	if (tevent_req_nomem(ctrls, req) || tevent_req_nomem(edn, req)) {
		return tevent_req_post(req, ev);
	}
	ctrls[0] = talloc_zero(ctrls, struct ldb_control);
	if (tevent_req_nomem(ctrls[0], req)) {
		return tevent_req_post(req, ev);
	}
	edn->type = 1;			/* string GUID and SID */
	ctrls[0]->oid = LDB_CONTROL_EXTENDED_DN_OID;
	ctrls[0]->critical = false;
	ctrls[0]->data = edn;
	subreq = odj_ldb_search_ctrl_send(state, ev, state->ldb,
					  ldb_dn_new(state, state->ldb, ""),
					  LDB_SCOPE_BASE, attrs,
					  "(objectClass=*)", ctrls);
	if (tevent_req_nomem(subreq, req)) {
		return tevent_req_post(req, ev);
	}
	tevent_req_set_callback(subreq, reuse_rootdse_done, req);
	return req;
}

/* "<GUID=...>;<SID=S-1-5-21-...>;DC=..." -> the SID */
static struct ODJ_SID *extended_dn_sid(TALLOC_CTX *mem_ctx, const char *dn)
{
	const char *p = dn != NULL ? strstr(dn, "<SID=") : NULL;
	const char *end = NULL;
	struct ODJ_SID *sid = NULL;
	char *s = NULL;

	if (p == NULL) {
		return NULL;
	}
	p += 5;
	end = strchr(p, '>');
	if (end == NULL) {
		return NULL;
	}
	s = talloc_strndup(mem_ctx, p, end - p);
	sid = talloc_zero(mem_ctx, struct ODJ_SID);
	if (s == NULL || sid == NULL || !odj_sid_parse(s, sid, sid)) {
		TALLOC_FREE(sid);
	}
	TALLOC_FREE(s);
	return sid;
}

/* The plain DN of an extended one: what follows the last "<...>;" */
static const char *extended_dn_plain(const char *dn)
{
	const char *p = dn;

	while (p != NULL && *p == '<') {
		p = strchr(p, '>');
		if (p != NULL && p[1] == ';') {
			p += 2;
		} else if (p != NULL) {
			p++;
		}
	}
	return p;
}

static bool take_token(struct odj_reuse_check_state *state,
		       const struct ldb_message *msg)
{
	struct ldb_message_element *el = ldb_msg_find_element(msg,
							      "tokenGroups");
	unsigned int i;

	if (el == NULL || el->num_values == 0) {
		return true;
	}
	state->token = talloc_zero_array(state, struct ODJ_SID,
					 el->num_values);
	if (state->token == NULL) {
		return false;
	}
	for (i = 0; i < el->num_values; i++) {
		if (odj_sid_from_blob(state->token, el->values[i].data,
				      el->values[i].length,
				      &state->token[state->num_token])) {
			state->num_token++;
		}
	}
	return true;
}

/*
 * The filter that finds the bound account by the credentials' name: its
 * sAMAccountName when the name is of this domain, else the principal as
 * userPrincipalName.  NULL and @p problem when the credentials name no
 * account (a ccache not yet read, anonymous).
 */
static char *caller_filter(struct odj_reuse_check_state *state,
			   const char **problem)
{
	struct cli_credentials *creds = ldb_get_opaque(state->ldb,
						       "credentials");
	const char *user = NULL;
	char *principal = NULL;
	char *account = NULL;
	char *at = NULL;
	bool ours = true;

	if (creds == NULL) {
		*problem = "the connection has no credentials";
		return NULL;
	}
	user = cli_credentials_get_username(creds);
	principal = cli_credentials_get_principal(creds, state);
	if (principal != NULL && (at = strrchr(principal, '@')) != NULL) {
		ours = strcasecmp(at + 1, state->info->dns_domain) == 0 ||
		       strcasecmp(at + 1, state->info->netbios_domain) == 0;
	}
	if (user != NULL && user[0] != '\0' && strchr(user, '@') == NULL) {
		account = talloc_strdup(state, user);
	} else if (principal != NULL && at != NULL && at > principal) {
		account = talloc_strndup(state, principal, at - principal);
	}
	if (account != NULL && ours) {
		return talloc_asprintf(
			state, "(|(sAMAccountName=%s)(userPrincipalName=%s))",
			ldb_binary_encode_string(state, account),
			ldb_binary_encode_string(state, principal != NULL ?
						 principal : account));
	}
	if (principal != NULL && at != NULL) {
		return talloc_asprintf(state, "(userPrincipalName=%s)",
				       ldb_binary_encode_string(state,
								principal));
	}
	*problem = "the credentials name no account";
	return NULL;
}

static void reuse_rootdse_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_reuse_check_state *state = tevent_req_data(
		req, struct odj_reuse_check_state);
	const char * const attrs[] = {
		"objectSid", "sAMAccountName", NULL
	};
	struct ldb_result *res = NULL;
	const char *root = NULL;
	const char *problem = NULL;
	char *filter = NULL;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, &res, NULL, NULL);
	TALLOC_FREE(subreq);
	state->dom = talloc_zero(state, struct reuse_domain);
	if (tevent_req_nomem(state->dom, req)) {
		return;
	}
	if (NT_STATUS_IS_OK(status) && res->count == 1) {
		if (tevent_req_nomem(take_token(state, res->msgs[0]) ?
				     state : NULL, req)) {
			return;
		}
		root = ldb_msg_find_attr_as_string(res->msgs[0],
						   "rootDomainNamingContext",
						   NULL);
		state->dom->forest_sid = extended_dn_sid(state->dom, root);
	}
	/* a single-domain forest needs no SID from the DC */
	if (state->dom->forest_sid == NULL && root != NULL &&
	    strcasecmp(extended_dn_plain(root), state->info->domain_dn) == 0) {
		state->dom->forest_sid = talloc_zero(state->dom,
						     struct ODJ_SID);
		if (tevent_req_nomem(state->dom->forest_sid, req)) {
			return;
		}
		*state->dom->forest_sid = *state->info->domain_sid;
	}

	filter = caller_filter(state, &problem);
	if (filter == NULL) {
		state->dom->caller_problem = problem;
		reuse_evaluate(req);
		return;
	}
	subreq = odj_ldb_search_send(state, state->ev, state->ldb,
				     ldb_dn_new(state, state->ldb,
						state->info->domain_dn),
				     LDB_SCOPE_SUBTREE, attrs, filter);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, reuse_caller_done, req);
}

static bool in_token(const struct odj_reuse_check_state *state,
		     const struct ODJ_SID *sid)
{
	size_t i;

	for (i = 0; i < state->num_token; i++) {
		if (odj_sid_equal(&state->token[i], sid)) {
			return true;
		}
	}
	return false;
}

/*
 * The one account the name search found (the one in the connection's
 * token, if the DC says which SIDs that holds).
 */
static void pick_caller(struct odj_reuse_check_state *state,
			const struct ldb_result *res)
{
	struct reuse_domain *dom = state->dom;
	const struct ldb_message *found = NULL;
	struct ODJ_SID *sid = NULL;
	unsigned int i, n = 0;

	for (i = 0; i < res->count; i++) {
		struct ODJ_SID *s = msg_sid(dom, res->msgs[i], "objectSid");

		if (s == NULL || (state->num_token > 0 && !in_token(state, s))) {
			TALLOC_FREE(s);
			continue;
		}
		TALLOC_FREE(sid);
		sid = s;
		found = res->msgs[i];
		n++;
	}
	if (n != 1) {
		TALLOC_FREE(sid);
		dom->caller_problem = n == 0 ?
			"no account of the credentials' name in the domain"
			" (and in the connection's token)" :
			"the credentials' name matches several accounts";
		return;
	}
	dom->caller = sid;
	dom->caller_name = talloc_asprintf(
		dom, "%s\\%s", state->info->netbios_domain,
		ldb_msg_find_attr_as_string(found, "sAMAccountName", "?"));
}

static void reuse_caller_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_reuse_check_state *state = tevent_req_data(
		req, struct odj_reuse_check_state);
	struct reuse_domain *cached = NULL;
	struct ldb_result *res = NULL;
	char *msg = NULL;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, &res, NULL, &msg);
	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		state->dom->caller_problem = talloc_asprintf(
			state->dom, "searching for the bound account failed: "
			"%s", msg != NULL ? msg : nt_errstr(status));
	} else {
		pick_caller(state, res);
	}
	/* keep it for the connection, unless a parallel check was faster */
	cached = ldb_get_opaque(state->ldb, REUSE_DOMAIN_OPAQUE);
	if (cached == NULL &&
	    ldb_set_opaque(state->ldb, REUSE_DOMAIN_OPAQUE,
			   state->dom) == LDB_SUCCESS) {
		talloc_steal(state->ldb, state->dom);
	}
	reuse_evaluate(req);
}

/* Which rule allows the reuse, or NULL. */
static const char *allowed_by(struct odj_reuse_check_state *state,
			      bool *nomem)
{
	const struct reuse_domain *dom = state->dom;
	const struct ODJ_SID *owner = state->owner;
	struct ODJ_SID ba = { .Revision = 0 };
	struct ODJ_SID *da = NULL, *ea = NULL;
	const char *rule = NULL;

	*nomem = false;
	if (sid_is(state->creator, dom->caller)) {
		return "you created it (mS-DS-CreatorSID)";
	}
	if (sid_is(owner, dom->caller)) {
		return "you own it";
	}
	if (owner == NULL) {
		return NULL;
	}
	da = sid_append(state, state->info->domain_sid, RID_DOMAIN_ADMINS);
	ea = dom->forest_sid != NULL ?
		sid_append(state, dom->forest_sid, RID_ENTERPRISE_ADMINS) :
		NULL;
	if (da == NULL || (dom->forest_sid != NULL && ea == NULL) ||
	    !odj_sid_parse(BUILTIN_ADMINISTRATORS, &ba, state)) {
		*nomem = true;
		return NULL;
	}
	if (sid_is(owner, da)) {
		rule = "its owner is Domain Admins";
	} else if (sid_is(owner, ea)) {
		rule = "its owner is Enterprise Admins";
	} else if (sid_is(owner, &ba)) {
		rule = "its owner is BUILTIN\\Administrators";
	}
	TALLOC_FREE(da);
	TALLOC_FREE(ea);
	TALLOC_FREE(ba.SubAuthority);
	return rule;
}

static void reuse_evaluate(struct tevent_req *req)
{
	struct odj_reuse_check_state *state = tevent_req_data(
		req, struct odj_reuse_check_state);
	const char * const attrs[] = {
		"objectSid", "sAMAccountName", NULL
	};
	struct tevent_req *subreq = NULL;
	const char *rule = NULL;
	char *filter = NULL;
	bool nomem = false;

	rule = allowed_by(state, &nomem);
	if (nomem) {
		tevent_req_oom(req);
		return;
	}
	if (rule != NULL) {
		state->v->allowed = true;
		state->v->because = rule;
		tevent_req_done(req);
		return;
	}
	/* refused: name the owner and the creator, if the DC knows them */
	if (state->owner == NULL && state->creator == NULL) {
		reuse_refuse(req, NULL);
		return;
	}
	filter = talloc_strdup(state, "(|");
	if (state->owner != NULL) {
		filter = talloc_asprintf_append_buffer(
			filter, "(objectSid=%s)",
			sid_filter_value(state, state->owner));
	}
	if (state->creator != NULL && filter != NULL) {
		filter = talloc_asprintf_append_buffer(
			filter, "(objectSid=%s)",
			sid_filter_value(state, state->creator));
	}
	filter = talloc_asprintf_append_buffer(filter, ")");
	if (tevent_req_nomem(filter, req)) {
		return;
	}
	subreq = odj_ldb_search_send(state, state->ev, state->ldb,
				     ldb_dn_new(state, state->ldb,
						state->info->domain_dn),
				     LDB_SCOPE_SUBTREE, attrs, filter);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, reuse_names_done, req);
}

/* "ODJ\exp1 (S-1-5-21-...)", "S-1-5-21-..." or what is missing */
static char *describe(TALLOC_CTX *mem_ctx, const struct ODJ_SID *sid,
		      const char *name, const char *missing)
{
	char *s = NULL;

	if (sid == NULL) {
		return talloc_strdup(mem_ctx, missing);
	}
	s = odj_sid_string(mem_ctx, sid);
	if (s == NULL || name == NULL) {
		return s;
	}
	return talloc_asprintf(mem_ctx, "%s (%s)", name, s);
}

static char *sid_name(struct odj_reuse_check_state *state,
		      const struct ldb_result *res, const struct ODJ_SID *sid)
{
	char *str = NULL;
	unsigned int i;

	for (i = 0; sid != NULL && res != NULL && i < res->count; i++) {
		struct ODJ_SID *s = msg_sid(state, res->msgs[i], "objectSid");
		const char *acct = ldb_msg_find_attr_as_string(
			res->msgs[i], "sAMAccountName", NULL);

		if (!sid_is(s, sid) || acct == NULL) {
			TALLOC_FREE(s);
			continue;
		}
		TALLOC_FREE(s);
		str = odj_sid_string(state, sid);
		if (str == NULL) {
			return NULL;
		}
		return talloc_asprintf(state, "%s\\%s",
				       strncmp(str, BUILTIN_PREFIX,
					       strlen(BUILTIN_PREFIX)) == 0 ?
				       "BUILTIN" : state->info->netbios_domain,
				       acct);
	}
	return NULL;
}

static bool refusal(struct odj_reuse_check_state *state)
{
	const struct reuse_domain *dom = state->dom;
	struct odj_reuse_verdict *v = state->v;
	const char *who = state->owner_name != NULL ? state->owner_name :
		state->creator_name;
	char *owner = NULL, *creator = NULL, *caller = NULL;
	char *unknown = NULL;

	unknown = talloc_asprintf(state, "unknown (%s)",
				  state->owner_problem != NULL ?
				  state->owner_problem : "?");
	owner = describe(state, state->owner, state->owner_name, unknown);
	creator = describe(state, state->creator, state->creator_name,
			   "not recorded");
	caller = dom->caller != NULL ?
		describe(state, dom->caller, dom->caller_name, NULL) :
		talloc_asprintf(state, "unknown (%s)", dom->caller_problem);
	if (owner == NULL || creator == NULL || caller == NULL) {
		return false;
	}
	v->facts = talloc_asprintf(v, "its owner is %s, its creator "
				   "(mS-DS-CreatorSID) %s, and you are %s",
				   owner, creator, caller);
	v->refusal = talloc_asprintf(
		v, "NERR_AccountReuseBlockedByPolicy (0x%X, %u): reuse of %s "
		"refused: %s; an account may be reused only by its creator "
		"or owner, or when its owner is Domain Admins, Enterprise "
		"Admins or BUILTIN\\Administrators (KB5020276; the DCs' "
		"ComputerAccountReuseAllowList is not readable over LDAP); "
		"to allow it, %s%s%shave an administrator take it over "
		"(reuse_unsafe owner=domain_admins) or delete it and "
		"provision anew, or accept the risk with reuse_unsafe",
		ODJ_NERR_ACCOUNT_REUSE_BLOCKED, ODJ_NERR_ACCOUNT_REUSE_BLOCKED,
		state->account_dn, v->facts, who != NULL ? "run it as " : "",
		who != NULL ? who : "", who != NULL ? ", " : "");
	return v->facts != NULL && v->refusal != NULL;
}

/* Refused: the verdict's message, with names where @p res has them. */
static void reuse_refuse(struct tevent_req *req, const struct ldb_result *res)
{
	struct odj_reuse_check_state *state = tevent_req_data(
		req, struct odj_reuse_check_state);

	state->owner_name = sid_name(state, res, state->owner);
	state->creator_name = sid_name(state, res, state->creator);
	if (tevent_req_nomem(refusal(state) ? state : NULL, req)) {
		return;
	}
	tevent_req_done(req);
}

static void reuse_names_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct odj_reuse_check_state *state = tevent_req_data(
		req, struct odj_reuse_check_state);
	struct ldb_result *res = NULL;
	NTSTATUS status;

	/* names are a courtesy: a failed search leaves the SIDs */
	status = odj_ldb_recv(subreq, state, &res, NULL, NULL);
	TALLOC_FREE(subreq);
	reuse_refuse(req, NT_STATUS_IS_OK(status) ? res : NULL);
}

NTSTATUS odj_reuse_check_recv(struct tevent_req *req,
			      TALLOC_CTX *mem_ctx,
			      struct odj_reuse_verdict **verdict)
{
	struct odj_reuse_check_state *state = tevent_req_data(
		req, struct odj_reuse_check_state);
	NTSTATUS status;

	if (tevent_req_is_nterror(req, &status)) {
		tevent_req_received(req);
		return status;
	}
	*verdict = talloc_move(mem_ctx, &state->v);
	tevent_req_received(req);
	return NT_STATUS_OK;
}
