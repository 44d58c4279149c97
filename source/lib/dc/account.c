/*
 * A computer account as LDAP sees it: the attributes a provision adds
 * (those djoin and Samba's join set), the password reset of a reused
 * one, and what a provision reads back from an existing one.
 */

#include "dc/dc.h"

#include <string.h>
#include <strings.h>
#include <ldb.h>

/* [MS-SAMR] 2.2.1.12: UF_WORKSTATION_TRUST_ACCOUNT */
#define UF_WORKSTATION_TRUST_ACCOUNT 0x00001000
/* RC4-HMAC | AES128 | AES256, what a joined Windows client sets */
#define MACHINE_ENCTYPES "28"

struct ldb_message *odj_account_add_msg(TALLOC_CTX *mem_ctx,
					struct ldb_dn *dn,
					const char *machine,
					const char *dns_host,
					const char *sam,
					const char *password)
{
	struct ldb_message *msg = NULL;
	struct ldb_val pwd;
	char *spn[4];
	int ret = LDB_SUCCESS;
	int i;

	msg = ldb_msg_new(mem_ctx);
	if (msg == NULL) {
		return NULL;
	}
	msg->dn = dn;
	spn[0] = talloc_asprintf(msg, "HOST/%s", machine);
	spn[1] = talloc_asprintf(msg, "HOST/%s", dns_host);
	spn[2] = talloc_asprintf(msg, "RestrictedKrbHost/%s", machine);
	spn[3] = talloc_asprintf(msg, "RestrictedKrbHost/%s", dns_host);
	if (!odj_unicode_pwd(msg, password, &pwd)) {
		TALLOC_FREE(msg);
		return NULL;
	}
	ret |= ldb_msg_add_string(msg, "objectClass", "computer");
	ret |= ldb_msg_add_string(msg, "sAMAccountName", sam);
	ret |= ldb_msg_add_fmt(msg, "userAccountControl", "%u",
			       UF_WORKSTATION_TRUST_ACCOUNT);
	ret |= ldb_msg_add_string(msg, "dNSHostName", dns_host);
	for (i = 0; i < 4; i++) {
		ret |= spn[i] == NULL ? LDB_ERR_OPERATIONS_ERROR :
			ldb_msg_add_string(msg, "servicePrincipalName",
					   spn[i]);
	}
	ret |= ldb_msg_add_string(msg, "msDS-SupportedEncryptionTypes",
				  MACHINE_ENCTYPES);
	ret |= ldb_msg_add_value(msg, "unicodePwd", &pwd, NULL);
	if (ret != LDB_SUCCESS) {
		TALLOC_FREE(msg);
		return NULL;
	}
	return msg;
}

struct ldb_message *odj_account_password_msg(TALLOC_CTX *mem_ctx,
					     struct ldb_dn *dn,
					     const char *password)
{
	struct ldb_message *msg = NULL;
	struct ldb_val pwd;

	msg = ldb_msg_new(mem_ctx);
	if (msg == NULL) {
		return NULL;
	}
	msg->dn = dn;
	if (!odj_unicode_pwd(msg, password, &pwd) ||
	    ldb_msg_add_value(msg, "unicodePwd", &pwd, NULL) != LDB_SUCCESS) {
		TALLOC_FREE(msg);
		return NULL;
	}
	msg->elements[0].flags = LDB_FLAG_MOD_REPLACE;
	return msg;
}

bool odj_account_is_workstation(const struct ldb_message *msg)
{
	struct ldb_message_element *oc = NULL;
	unsigned int i;
	unsigned int uac;

	oc = ldb_msg_find_element(msg, "objectClass");
	uac = ldb_msg_find_attr_as_uint(msg, "userAccountControl", 0);
	for (i = 0; oc != NULL && i < oc->num_values; i++) {
		if (strcasecmp((const char *)oc->values[i].data,
			       "computer") == 0) {
			return (uac & UF_WORKSTATION_TRUST_ACCOUNT) != 0;
		}
	}
	return false;
}

bool odj_account_identity(TALLOC_CTX *mem_ctx,
			  const struct ldb_message *msg,
			  struct ODJ_SID **psid, uint32_t *rid,
			  struct GUID *guid)
{
	const struct ldb_val *s = ldb_msg_find_ldb_val(msg, "objectSid");
	const struct ldb_val *g = ldb_msg_find_ldb_val(msg, "objectGUID");
	struct ODJ_SID *sid = NULL;
	DATA_BLOB b;

	if (s == NULL || g == NULL) {
		return false;
	}
	sid = talloc_zero(mem_ctx, struct ODJ_SID);
	if (sid == NULL) {
		return false;
	}
	if (!odj_sid_from_blob(sid, s->data, s->length, sid) ||
	    sid->SubAuthorityCount == 0) {
		TALLOC_FREE(sid);
		return false;
	}
	b = data_blob_const(g->data, g->length);
	if (!NT_STATUS_IS_OK(GUID_from_data_blob(&b, guid))) {
		TALLOC_FREE(sid);
		return false;
	}
	*rid = sid->SubAuthority[sid->SubAuthorityCount - 1];
	*psid = sid;
	return true;
}
