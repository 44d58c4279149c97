/*
 * Branch offices: the read-only DCs (RODCs) a provisioning allows its
 * machines' passwords on (rodc=, rodc_group=).
 *
 * An RODC caches a password only if its Password Replication Policy
 * (PRP) allows it ([MS-DRSR] 4.1.10.5.14 GetRevealSecretsPolicyForUser;
 * Samba: samdb_confirm_rodc_allowed_to_repl_to()): the account's SID and
 * tokenGroups against the SIDs of the RODC's msDS-NeverRevealGroup
 * (denied first) and msDS-RevealOnDemandGroup (allowed).  The checks
 * here are that rule, read over LDAP from the writable DC that
 * provisions: the RODCs and their lists once (odj_rodc_policy_prepare),
 * then each account's tokenGroups once it exists (odj_rodc_allow_send).
 */

#include "dc/dc.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <ldb.h>
#include <tevent.h>
#include <util/tevent_ntstatus.h>

/* [MS-ADTS] 2.2.16 userAccountControl */
#define UF_SERVER_TRUST_ACCOUNT 0x00002000
#define UF_PARTIAL_SECRETS_ACCOUNT 0x04000000
/* LDAP_MATCHING_RULE_IN_CHAIN ([MS-ADTS] 3.1.1.3.4.4.3) */
#define IN_CHAIN "1.2.840.113556.1.4.1941"

/* One list of the PRP: the principals' DNs and SIDs (objectSid bytes) */
struct prp_list {
	const char **dns;
	DATA_BLOB *sids;
	size_t num;
};

struct odj_rodc_sids {
	struct prp_list never;		/* msDS-NeverRevealGroup */
	struct prp_list reveal;		/* msDS-RevealOnDemandGroup */
};

static const char * const rodc_attrs[] = {
	"sAMAccountName", "dNSHostName", "userAccountControl",
	"serverReferenceBL", "operatingSystem", "msDS-NeverRevealGroup",
	"msDS-RevealOnDemandGroup", NULL
};

/* The objectSid of @p dn, for a list entry; false if it has none */
static NTSTATUS entry_sid(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			  const char *dn, DATA_BLOB *sid, char **why)
{
	const char * const attrs[] = { "objectSid", NULL };
	struct ldb_context *ldb = odj_dc_ldb(dc);
	struct ldb_result *res = NULL;
	const struct ldb_val *v = NULL;
	NTSTATUS status;

	*sid = data_blob_null;
	status = odj_ldb_search_sync(mem_ctx, odj_dc_ev(dc), ldb,
				     ldb_dn_new(mem_ctx, ldb, dn),
				     LDB_SCOPE_BASE, attrs, "(objectClass=*)",
				     &res, why);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		/* a principal deleted since: it matches no one */
		TALLOC_FREE(*why);
		return NT_STATUS_OK;
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	v = res->count == 1 ? ldb_msg_find_ldb_val(res->msgs[0], "objectSid")
			    : NULL;
	if (v != NULL) {
		*sid = data_blob_talloc(mem_ctx, v->data, v->length);
		if (sid->data == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	return NT_STATUS_OK;
}

/* The principals of a PRP attribute, with their SIDs */
static NTSTATUS read_list(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			  const struct ldb_message *msg, const char *attr,
			  struct prp_list *list, char **why)
{
	struct ldb_message_element *el = ldb_msg_find_element(msg, attr);
	unsigned int i;

	*list = (struct prp_list) { .num = 0 };
	if (el == NULL) {
		return NT_STATUS_OK;
	}
	list->dns = talloc_zero_array(mem_ctx, const char *, el->num_values);
	list->sids = talloc_zero_array(mem_ctx, DATA_BLOB, el->num_values);
	if (list->dns == NULL || list->sids == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < el->num_values; i++) {
		const char *dn = talloc_strndup(list->dns,
			(const char *)el->values[i].data,
			el->values[i].length);
		DATA_BLOB sid;
		NTSTATUS status;

		if (dn == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		status = entry_sid(list->sids, dc, dn, &sid, why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		if (sid.length == 0) {
			continue;
		}
		list->dns[list->num] = dn;
		list->sids[list->num++] = sid;
	}
	return NT_STATUS_OK;
}

/* The first SID of @p token in @p list, or -1 */
static ssize_t list_match(const struct prp_list *list,
			  const DATA_BLOB *token, size_t num_token)
{
	size_t i, j;

	for (i = 0; i < list->num; i++) {
		for (j = 0; j < num_token; j++) {
			if (data_blob_cmp(&list->sids[i], &token[j]) == 0) {
				return i;
			}
		}
	}
	return -1;
}

/* "CN=RODC1,CN=Servers,CN=Branch,CN=Sites,..." -> "Branch" */
static const char *server_site(TALLOC_CTX *mem_ctx, struct ldb_context *ldb,
			       const char *server)
{
	struct ldb_dn *dn = ldb_dn_new(mem_ctx, ldb, server);
	const struct ldb_val *v = NULL;

	if (dn == NULL || ldb_dn_get_comp_num(dn) < 4) {
		return NULL;
	}
	v = ldb_dn_get_component_val(dn, 2);
	return v != NULL ? talloc_strndup(mem_ctx, (const char *)v->data,
					  v->length) : NULL;
}

/* Its NTDS Settings: msDS-isRODC must say TRUE */
static NTSTATUS check_ntds(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			   const char *name, const char *server, char **why)
{
	const char * const attrs[] = { "msDS-isRODC", NULL };
	struct ldb_context *ldb = odj_dc_ldb(dc);
	struct ldb_message *msg = NULL;
	const char *is_rodc = NULL;
	NTSTATUS status;

	status = odj_ldb_search_one(mem_ctx, odj_dc_ev(dc), ldb,
				    ldb_dn_new_fmt(mem_ctx, ldb,
						   "CN=NTDS Settings,%s",
						   server),
				    LDB_SCOPE_BASE, attrs, "(objectClass=*)",
				    &msg, why);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		odj_why(mem_ctx, why, "rodc=%s: %s has no NTDS Settings: it "
			"is not a domain controller (any more?)", name,
			server);
		return NT_STATUS_INVALID_SERVER_STATE;
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(mem_ctx, why, "rodc=%s", name);
		return status;
	}
	is_rodc = ldb_msg_find_attr_as_string(msg, "msDS-isRODC", NULL);
	if (is_rodc == NULL || strcasecmp(is_rodc, "TRUE") != 0) {
		odj_why(mem_ctx, why, "rodc=%s: its NTDS Settings (%s) say "
			"msDS-isRODC: %s; not a read-only DC", name,
			ldb_dn_get_linearized(msg->dn),
			is_rodc != NULL ? is_rodc : "(none)");
		return NT_STATUS_INVALID_SERVER_STATE;
	}
	return NT_STATUS_OK;
}

/* The computer object of rodc=NAME (NetBIOS or DNS name) */
static NTSTATUS find_rodc(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			  const char *name, struct ldb_message **msg,
			  char **why)
{
	const struct odj_dc_info *info = odj_dc_info(dc);
	struct ldb_context *ldb = odj_dc_ldb(dc);
	size_t len = strlen(name);
	char *filter = NULL;
	NTSTATUS status;

	if (strchr(name, '.') != NULL) {
		filter = talloc_asprintf(mem_ctx, "(&(objectClass=computer)"
					 "(dNSHostName=%s))",
					 ldb_binary_encode_string(mem_ctx,
								  name));
	} else {
		filter = talloc_asprintf(mem_ctx, "(&(objectClass=computer)"
					 "(sAMAccountName=%.*s$))",
					 (int)(len > 0 && name[len - 1] == '$' ?
					       len - 1 : len),
					 ldb_binary_encode_string(mem_ctx,
								  name));
	}
	if (filter == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_ldb_search_one(mem_ctx, odj_dc_ev(dc), ldb,
				    ldb_dn_new(mem_ctx, ldb, info->domain_dn),
				    LDB_SCOPE_SUBTREE, rodc_attrs, filter,
				    msg, why);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		odj_why(mem_ctx, why, "rodc=%s: no computer account of that "
			"name in %s", name, info->dns_domain);
	} else if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(mem_ctx, why, "rodc=%s", name);
	}
	return status;
}

/* Is the computer object @p msg an RODC's?  Then fill @p rodc. */
static NTSTATUS read_rodc(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			  const char *name, const struct ldb_message *msg,
			  struct odj_rodc *rodc, char **why)
{
	uint32_t uac = ldb_msg_find_attr_as_uint(msg, "userAccountControl",
						 0);
	const char *sam = ldb_msg_find_attr_as_string(msg, "sAMAccountName",
						      "");
	const char *server = ldb_msg_find_attr_as_string(
		msg, "serverReferenceBL", NULL);
	const char *os = ldb_msg_find_attr_as_string(msg, "operatingSystem",
						     "");
	NTSTATUS status;

	if ((uac & UF_SERVER_TRUST_ACCOUNT) != 0 &&
	    (uac & UF_PARTIAL_SECRETS_ACCOUNT) == 0) {
		odj_why(mem_ctx, why, "rodc=%s: %s is a writable domain "
			"controller (userAccountControl 0x%08x: "
			"SERVER_TRUST_ACCOUNT, not PARTIAL_SECRETS_ACCOUNT); "
			"it holds every password already and has no password "
			"replication policy: rodc= names read-only DCs", name,
			ldb_dn_get_linearized(msg->dn), uac);
		return NT_STATUS_INVALID_SERVER_STATE;
	}
	if ((uac & UF_PARTIAL_SECRETS_ACCOUNT) == 0 || server == NULL) {
		odj_why(mem_ctx, why, "rodc=%s: %s is not a read-only domain "
			"controller (userAccountControl 0x%08x has no "
			"PARTIAL_SECRETS_ACCOUNT%s)", name,
			ldb_dn_get_linearized(msg->dn), uac,
			server == NULL ? ", no server object" : "");
		return NT_STATUS_INVALID_SERVER_STATE;
	}
	status = check_ntds(mem_ctx, dc, name, server, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	rodc->dn = talloc_strdup(mem_ctx, ldb_dn_get_linearized(msg->dn));
	rodc->name = talloc_strdup(mem_ctx, ldb_msg_find_attr_as_string(
					   msg, "dNSHostName", name));
	rodc->netbios_name = talloc_strndup(mem_ctx, sam,
					    strlen(sam) > 0 ?
					    strlen(sam) - 1 : 0);
	rodc->site = server_site(mem_ctx, odj_dc_ldb(dc), server);
	rodc->windows = strncasecmp(os, "Windows", 7) == 0;
	rodc->sids = talloc_zero(mem_ctx, struct odj_rodc_sids);
	if (rodc->dn == NULL || rodc->name == NULL ||
	    rodc->netbios_name == NULL || rodc->site == NULL ||
	    rodc->sids == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = read_list(rodc->sids, dc, msg, "msDS-NeverRevealGroup",
			   &rodc->sids->never, why);
	if (NT_STATUS_IS_OK(status)) {
		status = read_list(rodc->sids, dc, msg,
				   "msDS-RevealOnDemandGroup",
				   &rodc->sids->reveal, why);
	}
	return status;
}

/* Is @p group (or a group it is nested in) one of @p list's? */
static NTSTATUS group_in_list(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			      const struct ldb_message *group,
			      const struct prp_list *list, const char **hit,
			      char **why)
{
	const struct ldb_val *sid = ldb_msg_find_ldb_val(group, "objectSid");
	struct ldb_context *ldb = odj_dc_ldb(dc);
	struct ldb_result *res = NULL;
	DATA_BLOB token = sid != NULL ? *sid : data_blob_null;
	ssize_t m = list_match(list, &token, 1);
	size_t i;

	*hit = m >= 0 ? list->dns[m] : NULL;
	for (i = 0; *hit == NULL && i < list->num; i++) {
		char *filter = talloc_asprintf(
			mem_ctx, "(memberOf:" IN_CHAIN ":=%s)",
			ldb_binary_encode_string(mem_ctx, list->dns[i]));
		NTSTATUS status;

		if (filter == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		status = odj_ldb_search_sync(mem_ctx, odj_dc_ev(dc), ldb,
					     group->dn, LDB_SCOPE_BASE, NULL,
					     filter, &res, why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		if (res->count > 0) {
			*hit = list->dns[i];
		}
	}
	return NT_STATUS_OK;
}

/* rodc_group=: a group that every RODC allows and none denies */
static NTSTATUS check_group(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			    const struct odj_rodc_policy *p,
			    const struct ldb_message *group, char **why)
{
	const char *dn = ldb_dn_get_linearized(group->dn);
	const char *hit = NULL;
	NTSTATUS status;
	size_t i;

	for (i = 0; i < p->num_rodcs; i++) {
		const struct odj_rodc *r = &p->rodcs[i];

		status = group_in_list(mem_ctx, dc, group, &r->sids->never,
				       &hit, why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		if (hit != NULL) {
			odj_why(mem_ctx, why, "rodc_group=%s: %s denies it: "
				"%s is in its msDS-NeverRevealGroup (directly "
				"or nested); its members are never cached "
				"there", dn, r->name, hit);
			return NT_STATUS_ACCESS_DENIED;
		}
		status = group_in_list(mem_ctx, dc, group, &r->sids->reveal,
				       &hit, why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		if (hit == NULL) {
			odj_why(mem_ctx, why, "rodc_group=%s: %s does not "
				"allow it: neither it nor a group it is in is "
				"in that RODC's msDS-RevealOnDemandGroup; add "
				"it there, or leave rodc_group= out to allow "
				"each machine by itself", dn, r->name);
			return NT_STATUS_ACCESS_DENIED;
		}
	}
	return NT_STATUS_OK;
}

static NTSTATUS find_group(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			   const char *name, struct ldb_message **msg,
			   char **why)
{
	const char * const attrs[] = { "objectSid", NULL };
	const struct odj_dc_info *info = odj_dc_info(dc);
	struct ldb_context *ldb = odj_dc_ldb(dc);
	bool is_dn = strchr(name, '=') != NULL;
	const char *enc = ldb_binary_encode_string(mem_ctx, name);
	char *filter = talloc_asprintf(mem_ctx, is_dn ? "(objectClass=group)"
				       : "(&(objectClass=group)"
				       "(|(sAMAccountName=%s)(cn=%s)))",
				       enc, enc);
	NTSTATUS status;

	if (filter == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_ldb_search_one(mem_ctx, odj_dc_ev(dc), ldb,
				    ldb_dn_new(mem_ctx, ldb, is_dn ? name :
					       info->domain_dn),
				    is_dn ? LDB_SCOPE_BASE : LDB_SCOPE_SUBTREE,
				    attrs, filter, msg, why);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		odj_why(mem_ctx, why, "rodc_group=%s: no such group in %s",
			name, info->dns_domain);
	} else if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(mem_ctx, why, "rodc_group=%s", name);
	}
	return status;
}

static NTSTATUS add_rodc(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			 struct odj_rodc_policy *p, const char *name,
			 char **why)
{
	struct ldb_message *msg = NULL;
	NTSTATUS status;
	size_t i;

	status = find_rodc(mem_ctx, dc, name, &msg, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	for (i = 0; i < p->num_rodcs; i++) {
		if (strcasecmp(p->rodcs[i].dn,
			       ldb_dn_get_linearized(msg->dn)) == 0) {
			odj_why(mem_ctx, why, "rodc=%s: named twice", name);
			return NT_STATUS_INVALID_PARAMETER;
		}
	}
	p->rodcs = talloc_realloc(p, p->rodcs, struct odj_rodc,
				  p->num_rodcs + 1);
	if (p->rodcs == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	p->rodcs[p->num_rodcs] = (struct odj_rodc) { .name = NULL };
	status = read_rodc(p->rodcs, dc, name, msg,
			   &p->rodcs[p->num_rodcs], why);
	if (NT_STATUS_IS_OK(status)) {
		p->num_rodcs++;
	}
	return status;
}

NTSTATUS odj_rodc_policy_prepare(TALLOC_CTX *mem_ctx,
				 struct odj_dc *dc,
				 const char *rodcs,
				 const char *group,
				 struct odj_rodc_policy **policy,
				 char **why)
{
	TALLOC_CTX *tmp = talloc_new(mem_ctx);
	struct odj_rodc_policy *p = NULL;
	struct ldb_message *gmsg = NULL;
	char *names = NULL, *name = NULL, *save = NULL;
	NTSTATUS status = NT_STATUS_OK;

	p = talloc_zero(tmp, struct odj_rodc_policy);
	names = talloc_strdup(tmp, rodcs != NULL ? rodcs : "");
	if (p == NULL || names == NULL) {
		TALLOC_FREE(tmp);
		return NT_STATUS_NO_MEMORY;
	}
	for (name = strtok_r(names, ",", &save);
	     name != NULL && NT_STATUS_IS_OK(status);
	     name = strtok_r(NULL, ",", &save)) {
		status = add_rodc(tmp, dc, p, name, why);
	}
	if (NT_STATUS_IS_OK(status) && p->num_rodcs == 0) {
		odj_why(mem_ctx, why, "rodc= names no RODC");
		status = NT_STATUS_INVALID_PARAMETER;
	}
	if (NT_STATUS_IS_OK(status) && group != NULL) {
		status = find_group(tmp, dc, group, &gmsg, why);
		if (NT_STATUS_IS_OK(status)) {
			status = check_group(tmp, dc, p, gmsg, why);
		}
		if (NT_STATUS_IS_OK(status)) {
			p->group_dn = talloc_strdup(
				p, ldb_dn_get_linearized(gmsg->dn));
			status = p->group_dn != NULL ? NT_STATUS_OK :
				NT_STATUS_NO_MEMORY;
		}
	}
	odj_why_move(mem_ctx, why);
	if (NT_STATUS_IS_OK(status)) {
		*policy = talloc_steal(mem_ctx, p);
	}
	TALLOC_FREE(tmp);
	return status;
}

/*
 * One account: the checks against each RODC's lists, and the writes
 */

struct rodc_allow_state {
	struct tevent_context *ev;
	struct odj_dc *dc;
	const struct odj_rodc_policy *p;
	struct ldb_dn *account;
	const char *who;		/* the account's DN, for messages */
	size_t writes;			/* modifies in flight */
	bool checked_after;		/* tokenGroups read again */
	const char **rodcs;
	const char **warnings;
	char *why;
};

static void allow_read(struct tevent_req *req);
static void allow_token(struct tevent_req *subreq);
static void allow_write(struct tevent_req *req);
static void allow_written(struct tevent_req *subreq);

struct tevent_req *odj_rodc_allow_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct odj_dc *dc,
				       const struct odj_rodc_policy *policy,
				       struct ldb_dn *account,
				       const char *site)
{
	struct tevent_req *req = NULL;
	struct rodc_allow_state *state = NULL;
	size_t i;

	req = tevent_req_create(mem_ctx, &state, struct rodc_allow_state);
	if (req == NULL) {
		return NULL;
	}
	*state = (struct rodc_allow_state) {
		.ev = ev, .dc = dc, .p = policy, .account = account,
		.who = ldb_dn_get_linearized(account),
	};
	for (i = 0; i < policy->num_rodcs; i++) {
		const struct odj_rodc *r = &policy->rodcs[i];
		char *w = NULL;

		if (site == NULL || strcasecmp(site, r->site) == 0) {
			continue;
		}
		w = talloc_asprintf(state, "the blob's site %s is not that of "
				    "%s (%s): the machine looks for its DCs in "
				    "%s first", site, r->name, r->site, site);
		if (w == NULL ||
		    !odj_str_list_add(state, &state->warnings, w)) {
			tevent_req_oom(req);
			return tevent_req_post(req, ev);
		}
	}
	allow_read(req);
	if (!tevent_req_is_in_progress(req)) {
		return tevent_req_post(req, ev);
	}
	return req;
}

/* The account's SID and tokenGroups: what the DC checks the lists with */
static void allow_read(struct tevent_req *req)
{
	struct rodc_allow_state *state = tevent_req_data(
		req, struct rodc_allow_state);
	const char * const attrs[] = { "objectSid", "tokenGroups", NULL };
	struct tevent_req *subreq = NULL;

	subreq = odj_ldb_search_send(state, state->ev,
				     odj_dc_ldb(state->dc), state->account,
				     LDB_SCOPE_BASE, attrs, "(objectClass=*)");
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, allow_token, req);
}

static void allow_fail(struct tevent_req *req, NTSTATUS status,
		       const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void allow_fail(struct tevent_req *req, NTSTATUS status,
		       const char *fmt, ...)
{
	struct rodc_allow_state *state = tevent_req_data(
		req, struct rodc_allow_state);
	va_list ap;

	va_start(ap, fmt);
	state->why = talloc_vasprintf(state, fmt, ap);
	va_end(ap);
	tevent_req_nterror(req, status);
}

/*
 * The PRP's rule for the account's token (its SID and tokenGroups):
 * denied if one is in an RODC's msDS-NeverRevealGroup; after the
 * account joined rodc_group=, one must be in its
 * msDS-RevealOnDemandGroup.  False after saying why.
 */
static bool token_ok(struct tevent_req *req, const struct ldb_message *msg)
{
	struct rodc_allow_state *state = tevent_req_data(
		req, struct rodc_allow_state);
	struct ldb_message_element *tg = ldb_msg_find_element(msg,
							      "tokenGroups");
	const struct ldb_val *sid = ldb_msg_find_ldb_val(msg, "objectSid");
	size_t n = tg != NULL ? tg->num_values : 0, i;
	DATA_BLOB *token = talloc_array(state, DATA_BLOB, n + 1);

	if (token == NULL || sid == NULL) {
		allow_fail(req, token == NULL ? NT_STATUS_NO_MEMORY :
			   NT_STATUS_INVALID_SID, "%s has no objectSid",
			   state->who);
		return false;
	}
	token[0] = *sid;
	for (i = 0; i < n; i++) {
		token[i + 1] = tg->values[i];
	}
	for (i = 0; i < state->p->num_rodcs; i++) {
		const struct odj_rodc *r = &state->p->rodcs[i];
		ssize_t m = list_match(&r->sids->never, token, n + 1);

		if (m >= 0) {
			allow_fail(req, NT_STATUS_ACCESS_DENIED, "%s is denied "
				   "on the RODC %s: %s is in its "
				   "msDS-NeverRevealGroup and the account is "
				   "in it (directly or through its groups); "
				   "its password is never cached there",
				   state->who, r->name, r->sids->never.dns[m]);
			return false;
		}
		if (state->checked_after &&
		    list_match(&r->sids->reveal, token, n + 1) < 0) {
			allow_fail(req, NT_STATUS_ACCESS_DENIED, "%s is in %s "
				   "now, but the RODC %s still does not allow "
				   "it (its msDS-RevealOnDemandGroup changed?)",
				   state->who, state->p->group_dn, r->name);
			return false;
		}
	}
	TALLOC_FREE(token);
	return true;
}

/* Allowed on every RODC: their names for the result */
static void allow_done(struct tevent_req *req)
{
	struct rodc_allow_state *state = tevent_req_data(
		req, struct rodc_allow_state);
	size_t i;

	for (i = 0; i < state->p->num_rodcs; i++) {
		if (!odj_str_list_add(state, &state->rodcs,
				      state->p->rodcs[i].name)) {
			tevent_req_oom(req);
			return;
		}
	}
	tevent_req_done(req);
}

static void allow_token(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct rodc_allow_state *state = tevent_req_data(
		req, struct rodc_allow_state);
	struct ldb_result *res = NULL;
	char *msg = NULL;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, &res, NULL, &msg);
	TALLOC_FREE(subreq);
	if (NT_STATUS_IS_OK(status) && res->count != 1) {
		status = NT_STATUS_NOT_FOUND;
	}
	if (!NT_STATUS_IS_OK(status)) {
		allow_fail(req, status, "reading the groups of %s "
			   "(tokenGroups) failed: %s", state->who,
			   msg != NULL ? msg : nt_errstr(status));
		return;
	}
	if (!token_ok(req, res->msgs[0])) {
		return;
	}
	if (state->checked_after) {
		allow_done(req);
		return;
	}
	allow_write(req);
}

/* A modify adding @p value to @p attr of @p dn */
static struct tevent_req *add_value_send(struct rodc_allow_state *state,
					 const char *dn, const char *attr)
{
	struct ldb_context *ldb = odj_dc_ldb(state->dc);
	struct ldb_message *msg = ldb_msg_new(state);

	if (msg == NULL) {
		return NULL;
	}
	msg->dn = ldb_dn_new(msg, ldb, dn);
	if (msg->dn == NULL ||
	    ldb_msg_add_string(msg, attr, state->who) != LDB_SUCCESS) {
		return NULL;
	}
	msg->elements[0].flags = LDB_FLAG_MOD_ADD;
	return odj_ldb_modify_send(state, state->ev, ldb, msg);
}

/*
 * The account into rodc_group=, or into each RODC's own
 * msDS-RevealOnDemandGroup (as repadmin /prp add RODC allow does): all
 * modifies at once on the connection.
 */
static void allow_write(struct tevent_req *req)
{
	struct rodc_allow_state *state = tevent_req_data(
		req, struct rodc_allow_state);
	size_t n = state->p->group_dn != NULL ? 1 : state->p->num_rodcs;
	size_t i;

	for (i = 0; i < n; i++) {
		struct tevent_req *subreq = NULL;

		if (state->p->group_dn != NULL) {
			subreq = add_value_send(state, state->p->group_dn,
						"member");
		} else {
			subreq = add_value_send(state, state->p->rodcs[i].dn,
						"msDS-RevealOnDemandGroup");
		}
		if (tevent_req_nomem(subreq, req)) {
			return;
		}
		tevent_req_set_callback(subreq, allow_written, req);
		state->writes++;
	}
}

static void allow_written(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct rodc_allow_state *state = tevent_req_data(
		req, struct rodc_allow_state);
	char *msg = NULL;
	int err = LDB_SUCCESS;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, NULL, &err, &msg);
	TALLOC_FREE(subreq);
	state->writes--;
	if (!tevent_req_is_in_progress(req)) {
		return;		/* an earlier one failed */
	}
	/* there already (a reused account): allowed all the same */
	if (!NT_STATUS_IS_OK(status) &&
	    err != LDB_ERR_ATTRIBUTE_OR_VALUE_EXISTS) {
		allow_fail(req, status, "allowing %s on %s failed: %s",
			   state->who, state->p->group_dn != NULL ?
			   state->p->group_dn : "the RODC",
			   msg != NULL ? msg : nt_errstr(status));
		return;
	}
	if (state->writes > 0) {
		return;
	}
	if (state->p->group_dn == NULL) {
		/* its own SID is listed now: nothing more to read */
		allow_done(req);
		return;
	}
	/* the group's effect, as the DC sees it */
	state->checked_after = true;
	allow_read(req);
}

NTSTATUS odj_rodc_allow_recv(struct tevent_req *req,
			     TALLOC_CTX *mem_ctx,
			     const char ***rodcs,
			     const char ***warnings,
			     char **why)
{
	struct rodc_allow_state *state = tevent_req_data(
		req, struct rodc_allow_state);
	NTSTATUS status;
	size_t i;

	if (tevent_req_is_nterror(req, &status)) {
		if (why != NULL && state->why != NULL) {
			*why = talloc_move(mem_ctx, &state->why);
		}
		tevent_req_received(req);
		return status;
	}
	for (i = 0; state->warnings != NULL && state->warnings[i] != NULL;
	     i++) {
		if (!odj_str_list_add(mem_ctx, warnings, state->warnings[i])) {
			tevent_req_received(req);
			return NT_STATUS_NO_MEMORY;
		}
	}
	*rodcs = talloc_move(mem_ctx, &state->rodcs);
	tevent_req_received(req);
	return NT_STATUS_OK;
}
