/*
 * Asynchronous LDAP operations on an ldb connection (Samba's ldap
 * backend), as tevent requests.  ldb's ldap module sends a request at
 * once and calls back from the ldb's event context, so several requests
 * can be in flight on one authenticated connection.
 */

#include "dc/dc.h"

#include <tevent.h>
#include <util/tevent_ntstatus.h>

NTSTATUS odj_ldb_error_to_ntstatus(int ldb_err)
{
	switch (ldb_err) {
	case LDB_SUCCESS:
		return NT_STATUS_OK;
	case LDB_ERR_ENTRY_ALREADY_EXISTS:
		return NT_STATUS_USER_EXISTS;
	case LDB_ERR_NO_SUCH_OBJECT:
		return NT_STATUS_NOT_FOUND;
	case LDB_ERR_INSUFFICIENT_ACCESS_RIGHTS:
		return NT_STATUS_ACCESS_DENIED;
	case LDB_ERR_INVALID_CREDENTIALS:
	case LDB_ERR_INAPPROPRIATE_AUTHENTICATION:
	case LDB_ERR_STRONG_AUTH_REQUIRED:
		return NT_STATUS_LOGON_FAILURE;
	case LDB_ERR_UNAVAILABLE:
	case LDB_ERR_BUSY:
		return NT_STATUS_NO_LOGON_SERVERS;
	case LDB_ERR_TIME_LIMIT_EXCEEDED:
		return NT_STATUS_IO_TIMEOUT;
	case LDB_ERR_CONSTRAINT_VIOLATION:
	case LDB_ERR_UNWILLING_TO_PERFORM:
		return NT_STATUS_PASSWORD_RESTRICTION;
	case LDB_ERR_INVALID_DN_SYNTAX:
	case LDB_ERR_NAMING_VIOLATION:
		return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
	default:
		return NT_STATUS_UNSUCCESSFUL;
	}
}

struct odj_ldb_state {
	struct ldb_context *ldb;
	struct ldb_result *res;
	int ldb_err;
	char *ldb_msg;
};

static int odj_ldb_callback(struct ldb_request *lreq, struct ldb_reply *ares);

static struct tevent_req *odj_ldb_request(TALLOC_CTX *mem_ctx,
					  struct tevent_context *ev,
					  struct ldb_context *ldb,
					  struct odj_ldb_state **pstate)
{
	struct tevent_req *req = NULL;
	struct odj_ldb_state *state = NULL;

	req = tevent_req_create(mem_ctx, &state, struct odj_ldb_state);
	if (req == NULL) {
		return NULL;
	}
	state->ldb = ldb;
	state->res = talloc_zero(state, struct ldb_result);
	if (tevent_req_nomem(state->res, req)) {
		return tevent_req_post(req, ev);
	}
	*pstate = state;
	return req;
}

/* Start @p lreq, or end @p req with the error that stopped it. */
static struct tevent_req *odj_ldb_start(struct tevent_req *req,
					struct tevent_context *ev,
					struct odj_ldb_state *state,
					struct ldb_request *lreq,
					int ret)
{
	if (ret == LDB_SUCCESS) {
		ret = ldb_request(state->ldb, lreq);
	}
	if (ret != LDB_SUCCESS) {
		state->ldb_err = ret;
		state->ldb_msg = talloc_strdup(state,
					       ldb_errstring(state->ldb));
		tevent_req_nterror(req, odj_ldb_error_to_ntstatus(ret));
		return tevent_req_post(req, ev);
	}
	return req;
}

static int odj_ldb_callback(struct ldb_request *lreq, struct ldb_reply *ares)
{
	struct tevent_req *req = talloc_get_type_abort(
		lreq->context, struct tevent_req);
	struct odj_ldb_state *state = tevent_req_data(
		req, struct odj_ldb_state);
	struct ldb_message **msgs = NULL;

	if (ares == NULL) {
		state->ldb_err = LDB_ERR_OPERATIONS_ERROR;
		tevent_req_nterror(req, NT_STATUS_UNSUCCESSFUL);
		return LDB_ERR_OPERATIONS_ERROR;
	}
	if (ares->error != LDB_SUCCESS) {
		state->ldb_err = ares->error;
		state->ldb_msg = talloc_strdup(state,
					       ldb_errstring(state->ldb));
		talloc_free(ares);
		tevent_req_nterror(req,
				   odj_ldb_error_to_ntstatus(state->ldb_err));
		return LDB_SUCCESS;
	}
	switch (ares->type) {
	case LDB_REPLY_ENTRY:
		msgs = talloc_realloc(state->res, state->res->msgs,
				      struct ldb_message *,
				      state->res->count + 2);
		if (msgs == NULL) {
			talloc_free(ares);
			tevent_req_oom(req);
			return LDB_ERR_OPERATIONS_ERROR;
		}
		state->res->msgs = msgs;
		msgs[state->res->count++] = talloc_move(msgs, &ares->message);
		msgs[state->res->count] = NULL;
		break;
	case LDB_REPLY_REFERRAL:
		break;
	case LDB_REPLY_DONE:
		talloc_free(ares);
		tevent_req_done(req);
		return LDB_SUCCESS;
	}
	talloc_free(ares);
	return LDB_SUCCESS;
}

struct tevent_req *odj_ldb_search_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct ldb_context *ldb,
				       struct ldb_dn *base,
				       enum ldb_scope scope,
				       const char * const *attrs,
				       const char *filter)
{
	return odj_ldb_search_ctrl_send(mem_ctx, ev, ldb, base, scope, attrs,
					filter, NULL);
}

struct tevent_req *odj_ldb_search_ctrl_send(TALLOC_CTX *mem_ctx,
					    struct tevent_context *ev,
					    struct ldb_context *ldb,
					    struct ldb_dn *base,
					    enum ldb_scope scope,
					    const char * const *attrs,
					    const char *filter,
					    struct ldb_control **controls)
{
	struct tevent_req *req = NULL;
	struct odj_ldb_state *state = NULL;
	struct ldb_request *lreq = NULL;
	int ret;

	req = odj_ldb_request(mem_ctx, ev, ldb, &state);
	if (req == NULL || !tevent_req_is_in_progress(req)) {
		return req;
	}
	ret = ldb_build_search_req(&lreq, ldb, state, base, scope, filter,
				   attrs, controls, req, odj_ldb_callback,
				   NULL);
	return odj_ldb_start(req, ev, state, lreq, ret);
}

struct tevent_req *odj_ldb_add_send(TALLOC_CTX *mem_ctx,
				    struct tevent_context *ev,
				    struct ldb_context *ldb,
				    const struct ldb_message *msg)
{
	struct tevent_req *req = NULL;
	struct odj_ldb_state *state = NULL;
	struct ldb_request *lreq = NULL;
	int ret;

	req = odj_ldb_request(mem_ctx, ev, ldb, &state);
	if (req == NULL || !tevent_req_is_in_progress(req)) {
		return req;
	}
	ret = ldb_build_add_req(&lreq, ldb, state, msg, NULL, req,
				odj_ldb_callback, NULL);
	return odj_ldb_start(req, ev, state, lreq, ret);
}

struct tevent_req *odj_ldb_modify_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct ldb_context *ldb,
				       const struct ldb_message *msg)
{
	return odj_ldb_modify_ctrl_send(mem_ctx, ev, ldb, msg, NULL);
}

struct tevent_req *odj_ldb_modify_ctrl_send(TALLOC_CTX *mem_ctx,
					    struct tevent_context *ev,
					    struct ldb_context *ldb,
					    const struct ldb_message *msg,
					    struct ldb_control **controls)
{
	struct tevent_req *req = NULL;
	struct odj_ldb_state *state = NULL;
	struct ldb_request *lreq = NULL;
	int ret;

	req = odj_ldb_request(mem_ctx, ev, ldb, &state);
	if (req == NULL || !tevent_req_is_in_progress(req)) {
		return req;
	}
	ret = ldb_build_mod_req(&lreq, ldb, state, msg, controls, req,
				odj_ldb_callback, NULL);
	return odj_ldb_start(req, ev, state, lreq, ret);
}

struct tevent_req *odj_ldb_delete_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct ldb_context *ldb,
				       struct ldb_dn *dn)
{
	struct tevent_req *req = NULL;
	struct odj_ldb_state *state = NULL;
	struct ldb_request *lreq = NULL;
	int ret;

	req = odj_ldb_request(mem_ctx, ev, ldb, &state);
	if (req == NULL || !tevent_req_is_in_progress(req)) {
		return req;
	}
	ret = ldb_build_del_req(&lreq, ldb, state, dn, NULL, req,
				odj_ldb_callback, NULL);
	return odj_ldb_start(req, ev, state, lreq, ret);
}

NTSTATUS odj_ldb_recv(struct tevent_req *req,
		      TALLOC_CTX *mem_ctx,
		      struct ldb_result **res,
		      int *ldb_err,
		      char **ldb_msg)
{
	struct odj_ldb_state *state = tevent_req_data(
		req, struct odj_ldb_state);
	NTSTATUS status;

	if (ldb_err != NULL) {
		*ldb_err = state->ldb_err;
	}
	if (tevent_req_is_nterror(req, &status)) {
		if (ldb_msg != NULL) {
			*ldb_msg = talloc_move(mem_ctx, &state->ldb_msg);
		}
		tevent_req_received(req);
		return status;
	}
	if (res != NULL) {
		*res = talloc_move(mem_ctx, &state->res);
	}
	tevent_req_received(req);
	return NT_STATUS_OK;
}

/*
 * The synchronous forms, for the few steps that wait for one answer
 * before going on (connecting, reading templates and GPOs once).
 */

static NTSTATUS odj_ldb_wait(TALLOC_CTX *mem_ctx,
			 struct tevent_context *ev,
			 struct tevent_req *req,
			 struct ldb_result **res,
			 int *ldb_err,
			 char **ldb_msg)
{
	NTSTATUS status;

	if (req == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!tevent_req_poll(req, ev)) {
		TALLOC_FREE(req);
		return NT_STATUS_INTERNAL_ERROR;
	}
	status = odj_ldb_recv(req, mem_ctx, res, ldb_err, ldb_msg);
	TALLOC_FREE(req);
	return status;
}

NTSTATUS odj_ldb_search_sync(TALLOC_CTX *mem_ctx,
			     struct tevent_context *ev,
			     struct ldb_context *ldb,
			     struct ldb_dn *base,
			     enum ldb_scope scope,
			     const char * const *attrs,
			     const char *filter,
			     struct ldb_result **res,
			     char **why)
{
	char *ldb_msg = NULL;
	int ldb_err = 0;
	NTSTATUS status;

	if (base == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_ldb_wait(mem_ctx, ev,
			  odj_ldb_search_send(mem_ctx, ev, ldb, base, scope,
					      attrs, filter),
			  res, &ldb_err, &ldb_msg);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why(mem_ctx, why, "LDAP search of %s failed: %s",
			ldb_dn_get_linearized(base),
			ldb_msg != NULL && ldb_msg[0] != '\0' ? ldb_msg :
			ldb_err != 0 ? ldb_strerror(ldb_err) :
			nt_errstr(status));
		TALLOC_FREE(ldb_msg);
	}
	return status;
}

NTSTATUS odj_ldb_search_one(TALLOC_CTX *mem_ctx,
			    struct tevent_context *ev,
			    struct ldb_context *ldb,
			    struct ldb_dn *base,
			    enum ldb_scope scope,
			    const char * const *attrs,
			    const char *filter,
			    struct ldb_message **msg,
			    char **why)
{
	struct ldb_result *res = NULL;
	NTSTATUS status;

	status = odj_ldb_search_sync(mem_ctx, ev, ldb, base, scope, attrs,
				     filter, &res, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (res->count != 1) {
		odj_why(mem_ctx, why, "LDAP search of %s: %u entries",
			ldb_dn_get_linearized(base), res->count);
		TALLOC_FREE(res);
		return NT_STATUS_NOT_FOUND;
	}
	*msg = talloc_steal(mem_ctx, res->msgs[0]);
	TALLOC_FREE(res);
	return NT_STATUS_OK;
}

NTSTATUS odj_ldb_delete_sync(TALLOC_CTX *mem_ctx,
			     struct tevent_context *ev,
			     struct ldb_context *ldb,
			     struct ldb_dn *dn,
			     char **why)
{
	char *ldb_msg = NULL;
	NTSTATUS status;

	if (dn == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_ldb_wait(mem_ctx, ev, odj_ldb_delete_send(mem_ctx, ev, ldb,
							  dn),
			  NULL, NULL, &ldb_msg);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why(mem_ctx, why, "deleting %s failed: %s",
			ldb_dn_get_linearized(dn),
			ldb_msg != NULL ? ldb_msg : nt_errstr(status));
		TALLOC_FREE(ldb_msg);
	}
	return status;
}

/* A machine account, by its DN (provision.c's and lifecycle's) */
NTSTATUS odj_account_delete(TALLOC_CTX *mem_ctx,
			    struct odj_dc *dc,
			    const char *dn,
			    char **why)
{
	struct ldb_context *ldb = odj_dc_ldb(dc);

	return odj_ldb_delete_sync(mem_ctx, odj_dc_ev(dc), ldb,
				   ldb_dn_new(mem_ctx, ldb, dn), why);
}
