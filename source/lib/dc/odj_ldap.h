/*
 * Asynchronous LDAP operations over an ldb connection (library-internal).
 */

#ifndef _ODJ_LDAP_H_
#define _ODJ_LDAP_H_

#include <ldb.h>
#include <tevent.h>

/* One mapping from LDAP result codes to NTSTATUS, used everywhere. */
NTSTATUS odj_ldb_error_to_ntstatus(int ldb_err);

struct tevent_req *odj_ldb_search_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct ldb_context *ldb,
				       struct ldb_dn *base,
				       enum ldb_scope scope,
				       const char * const *attrs,
				       const char *filter);
struct tevent_req *odj_ldb_add_send(TALLOC_CTX *mem_ctx,
				    struct tevent_context *ev,
				    struct ldb_context *ldb,
				    const struct ldb_message *msg);
struct tevent_req *odj_ldb_modify_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct ldb_context *ldb,
				       const struct ldb_message *msg);
struct tevent_req *odj_ldb_delete_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       struct ldb_context *ldb,
				       struct ldb_dn *dn);

/*
 * Result of any of the above: the entries of a search (NULL for the
 * others is fine), the LDAP result code and the server's message.
 */
NTSTATUS odj_ldb_recv(struct tevent_req *req,
		      TALLOC_CTX *mem_ctx,
		      struct ldb_result **res,
		      int *ldb_err,
		      char **ldb_msg);

/*
 * The same, waiting on @p ev: a search's entries; a search that must
 * find exactly one (NT_STATUS_NOT_FOUND otherwise); a delete.  Failures
 * say what failed in @p why.
 */
NTSTATUS odj_ldb_search_sync(TALLOC_CTX *mem_ctx,
			     struct tevent_context *ev,
			     struct ldb_context *ldb,
			     struct ldb_dn *base,
			     enum ldb_scope scope,
			     const char * const *attrs,
			     const char *filter,
			     struct ldb_result **res,
			     char **why);
NTSTATUS odj_ldb_search_one(TALLOC_CTX *mem_ctx,
			    struct tevent_context *ev,
			    struct ldb_context *ldb,
			    struct ldb_dn *base,
			    enum ldb_scope scope,
			    const char * const *attrs,
			    const char *filter,
			    struct ldb_message **msg,
			    char **why);
NTSTATUS odj_ldb_delete_sync(TALLOC_CTX *mem_ctx,
			     struct tevent_context *ev,
			     struct ldb_context *ldb,
			     struct ldb_dn *dn,
			     char **why);

#endif /* _ODJ_LDAP_H_ */
