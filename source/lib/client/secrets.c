/*
 * Samba's secrets.tdb as a domain member's join leaves it.
 *
 * Samba 4.17 stores a join with secrets_store_JoinCtx() and
 * secrets_store_domain_info() (source3/passdb/machine_account_secrets.c),
 * for "net ads join" and "net offlinejoin requestodj" alike:
 *
 *   SECRETS/MACHINE_DOMAIN_INFO/<D>	secrets_domain_infoB, NDR
 *   SECRETS/MACHINE_PASSWORD/<D>	the password, unix charset, NUL
 *   SECRETS/MACHINE_PASSWORD.PREV/<D>	the previous one (re-join only)
 *   SECRETS/MACHINE_SEC_CHANNEL_TYPE/<D>	uint32 LE, 2 (workstation)
 *   SECRETS/MACHINE_LAST_CHANGE_TIME/<D>	uint32 LE, unix seconds
 *   SECRETS/SID/<D>			struct dom_sid, 68 bytes
 *   SECRETS/SALTING_PRINCIPAL/DES/<REALM>	the salt principal, NUL
 *   SECRETS/DOMGUID/<D>		struct GUID, 16 bytes
 *   SECRETS/PROTECT/IDS/<D>		"TRUE", NUL
 *
 * <D> is the NetBIOS domain; keys are upper case.  The SID and GUID are
 * Samba's C structs copied as they are in memory (host byte order).
 */

#include "client/client.h"
#include "gen_ndr/ndr_secrets.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <charset.h>
#include <util/time.h>
#include <krb5/krb5.h>

/* Samba keeps the salt, the keys and the s2k iteration count with each */
#define SECRETS_ITERATION_COUNT 4096

/* sizeof(struct dom_sid): revision, count, authority, 15 sub-authorities */
#define SECRETS_DOM_SID_SIZE 68
#define SECRETS_DOM_SID_MAX_AUTHS 15

char *odj_secrets_key(TALLOC_CTX *mem_ctx, const char *what,
		      const char *name)
{
	char *key = talloc_asprintf(mem_ctx, "SECRETS/%s/%s", what, name);

	if (key == NULL) {
		return NULL;
	}
	return strupper_talloc(mem_ctx, key);
}

char *odj_secrets_salt_principal(TALLOC_CTX *mem_ctx,
				 const char *account_name,
				 const char *dns_domain)
{
	TALLOC_CTX *tmp_ctx = talloc_new(mem_ctx);
	size_t len = strlen(account_name);
	char *host = NULL;
	char *realm = NULL;
	char *salt = NULL;

	if (tmp_ctx == NULL) {
		return NULL;
	}
	/* smb_krb5_salt_principal(): the account name without its '$' */
	if (len > 0 && account_name[len - 1] == '$') {
		len--;
	}
	host = talloc_asprintf(tmp_ctx, "%.*s.%s", (int)len, account_name,
			       dns_domain);
	if (host != NULL) {
		host = strlower_talloc(tmp_ctx, host);
	}
	realm = strupper_talloc(tmp_ctx, dns_domain);
	if (host != NULL && realm != NULL) {
		salt = talloc_asprintf(mem_ctx, "host/%s@%s", host, realm);
	}
	TALLOC_FREE(tmp_ctx);
	return salt;
}

static NTSTATUS k5_fail(TALLOC_CTX *ctx, krb5_context k5,
			krb5_error_code ret, char **why, const char *what)
{
	const char *msg = krb5_get_error_message(k5, ret);

	odj_why(ctx, why, "%s: %s", what, msg);
	krb5_free_error_message(k5, msg);
	return ret == ENOMEM ? NT_STATUS_NO_MEMORY : NT_STATUS_INTERNAL_ERROR;
}

static NTSTATUS string_to_key(TALLOC_CTX *mem_ctx,
			      krb5_context k5,
			      krb5_enctype enctype,
			      const krb5_data *password,
			      const krb5_data *salt,
			      DATA_BLOB *key,
			      char **why)
{
	krb5_keyblock kb = { .contents = NULL };
	krb5_error_code ret;

	ret = krb5_c_string_to_key(k5, enctype, password, salt, &kb);
	if (ret != 0) {
		return k5_fail(mem_ctx, k5, ret, why, "string to key");
	}
	*key = data_blob_talloc(mem_ctx, kb.contents, kb.length);
	krb5_free_keyblock_contents(k5, &kb);
	if (key->data == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(key->data);
	return NT_STATUS_OK;
}

/* The krb5 salt string of a principal: "REALMhostname.realm" */
static NTSTATUS salt_data(TALLOC_CTX *mem_ctx,
			  krb5_context k5,
			  const char *salt_principal,
			  char **salt,
			  char **why)
{
	krb5_principal princ = NULL;
	krb5_data data = { .data = NULL };
	krb5_error_code ret;

	ret = krb5_parse_name(k5, salt_principal, &princ);
	if (ret != 0) {
		return k5_fail(mem_ctx, k5, ret, why, salt_principal);
	}
	ret = krb5_principal2salt(k5, princ, &data);
	krb5_free_principal(k5, princ);
	if (ret != 0) {
		return k5_fail(mem_ctx, k5, ret, why, salt_principal);
	}
	*salt = talloc_strndup(mem_ctx, data.data, data.length);
	krb5_free_data_contents(k5, &data);
	return *salt != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/*
 * The keys Samba stores (secrets_domain_info_kerberos_keys()): AES256,
 * AES128 and RC4, all from MIT's string-to-key.  RC4's is MD4 of the
 * UTF-16LE password, i.e. the NT hash (RFC 4757).
 */
static NTSTATUS password_keys(struct secrets_domain_info1_password *p,
			      krb5_context k5,
			      const char *password,
			      const char *salt_principal,
			      char **why)
{
	static const krb5_enctype enctypes[] = {
		ENCTYPE_AES256_CTS_HMAC_SHA1_96,
		ENCTYPE_AES128_CTS_HMAC_SHA1_96,
		ENCTYPE_ARCFOUR_HMAC,
	};
	krb5_data pw = {
		.data = discard_const_p(char, password),
		.length = strlen(password),
	};
	krb5_data salt = { .data = NULL };
	char *sdata = NULL;
	NTSTATUS status;
	size_t i;

	status = salt_data(p, k5, salt_principal, &sdata, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	salt.data = sdata;
	salt.length = strlen(sdata);

	p->keys = talloc_zero_array(p, struct secrets_domain_info1_kerberos_key,
				    ARRAY_SIZE(enctypes));
	if (p->keys == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < ARRAY_SIZE(enctypes); i++) {
		struct secrets_domain_info1_kerberos_key *k = &p->keys[i];

		k->keytype = enctypes[i];
		k->iteration_count = SECRETS_ITERATION_COUNT;
		status = string_to_key(p->keys, k5, enctypes[i], &pw, &salt,
				       &k->value, why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}
	/* enctypes[] ends with RC4, whose key is the NT hash */
	if (p->keys[i - 1].value.length != sizeof(p->nt_hash)) {
		odj_why(p, why, "RC4 key of %zu bytes",
			p->keys[i - 1].value.length);
		return NT_STATUS_INTERNAL_ERROR;
	}
	memcpy(p->nt_hash, p->keys[i - 1].value.data, sizeof(p->nt_hash));
	p->salt_data = sdata;
	p->default_iteration_count = SECRETS_ITERATION_COUNT;
	p->num_keys = ARRAY_SIZE(enctypes);
	return NT_STATUS_OK;
}

NTSTATUS odj_secrets_password(TALLOC_CTX *mem_ctx,
			      struct _krb5_context *k5,
			      const char *password,
			      const char *salt_principal,
			      NTTIME change_time,
			      const char *change_server,
			      struct secrets_domain_info1_password **_p,
			      char **why)
{
	struct secrets_domain_info1_password *p = NULL;
	void *utf16 = NULL;
	size_t len = 0;
	NTSTATUS status;
	bool ok;

	if (password == NULL || password[0] == '\0' ||
	    salt_principal == NULL || change_server == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	p = talloc_zero(mem_ctx, struct secrets_domain_info1_password);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(p);		/* the NT hash is inside */
	p->change_time = change_time;
	p->change_server = talloc_strdup(p, change_server);
	if (p->change_server == NULL) {
		TALLOC_FREE(p);
		return NT_STATUS_NO_MEMORY;
	}
	ok = convert_string_talloc(p, CH_UTF8, CH_UTF16LE, password,
				   strlen(password), &utf16, &len);
	if (!ok) {
		odj_why(mem_ctx, why, "the machine password is not valid "
			"UTF-8");
		TALLOC_FREE(p);
		return NT_STATUS_ILLEGAL_CHARACTER;
	}
	odj_wipe_on_free(utf16);
	p->cleartext_blob = data_blob_const(utf16, len);

	status = password_keys(p, k5, password, salt_principal, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(p);
		return status;
	}
	*_p = p;
	return NT_STATUS_OK;
}

NTSTATUS odj_secrets_info_pack(TALLOC_CTX *mem_ctx,
			       const struct secrets_domain_info1 *info,
			       DATA_BLOB *blob)
{
	struct secrets_domain_infoB b = {
		.version = SECRETS_DOMAIN_INFO_VERSION_1,
		.info.info1 = discard_const_p(struct secrets_domain_info1,
					      info),
	};
	enum ndr_err_code err;

	err = ndr_push_struct_blob(blob, mem_ctx, &b,
				   (ndr_push_flags_fn_t)
				   ndr_push_secrets_domain_infoB);
	if (!NDR_ERR_CODE_IS_SUCCESS(err)) {
		return ndr_map_error2ntstatus(err);
	}
	odj_wipe_on_free(blob->data);
	return NT_STATUS_OK;
}

static void wipe_password(const struct secrets_domain_info1_password *p)
{
	uint16_t i;

	if (p == NULL) {
		return;
	}
	odj_wipe_on_free(p);
	odj_wipe_on_free(p->cleartext_blob.data);
	for (i = 0; p->keys != NULL && i < p->num_keys; i++) {
		odj_wipe_on_free(p->keys[i].value.data);
	}
}

NTSTATUS odj_secrets_info_unpack(TALLOC_CTX *mem_ctx,
				 DATA_BLOB blob,
				 struct secrets_domain_info1 **info,
				 char **why)
{
	struct secrets_domain_infoB b = { .version = 0 };
	struct secrets_domain_info1 *i1 = NULL;
	struct secrets_domain_infoB trial = { .version = 0 };
	TALLOC_CTX *budget = NULL;
	enum ndr_err_code err;

	/* a trial under a budget first: see odj_pull_budget_new() */
	budget = odj_pull_budget_new(blob.length);
	if (budget == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	err = ndr_pull_struct_blob(&blob, budget, &trial,
				   (ndr_pull_flags_fn_t)
				   ndr_pull_secrets_domain_infoB);
	odj_pull_budget_free(budget);
	if (NDR_ERR_CODE_IS_SUCCESS(err)) {
		err = ndr_pull_struct_blob(&blob, mem_ctx, &b,
					   (ndr_pull_flags_fn_t)
					   ndr_pull_secrets_domain_infoB);
	}
	if (!NDR_ERR_CODE_IS_SUCCESS(err)) {
		odj_why(mem_ctx, why, "cannot decode: %s",
			ndr_map_error2string(err));
		return ndr_map_error2ntstatus(err);
	}
	i1 = b.info.info1;
	if (b.version != SECRETS_DOMAIN_INFO_VERSION_1 || i1 == NULL) {
		odj_why(mem_ctx, why, "unknown record version %u",
			(unsigned)b.version);
		return NT_STATUS_REVISION_MISMATCH;
	}
	wipe_password(i1->password);
	wipe_password(i1->old_password);
	wipe_password(i1->older_password);
	if (i1->next_change != NULL) {
		wipe_password(i1->next_change->password);
	}
	*info = i1;
	return NT_STATUS_OK;
}

NTSTATUS odj_secrets_sid_value(TALLOC_CTX *mem_ctx,
			       const struct ODJ_SID *sid,
			       DATA_BLOB *value)
{
	uint8_t *p = NULL;
	uint8_t i;

	if (sid == NULL ||
	    sid->SubAuthorityCount > SECRETS_DOM_SID_MAX_AUTHS) {
		return NT_STATUS_INVALID_SID;
	}
	p = talloc_zero_array(mem_ctx, uint8_t, SECRETS_DOM_SID_SIZE);
	if (p == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	p[0] = sid->Revision;
	p[1] = sid->SubAuthorityCount;
	memcpy(p + 2, sid->IdentifierAuthority, 6);
	for (i = 0; i < sid->SubAuthorityCount; i++) {
		memcpy(p + 8 + 4 * i, &sid->SubAuthority[i], 4);
	}
	*value = data_blob_const(p, SECRETS_DOM_SID_SIZE);
	return NT_STATUS_OK;
}

static void lsa_string(const char *s, struct ODJ_UNICODE_STRING *out)
{
	size_t n = s != NULL ? strlen_m(s) : 0;

	/* lsa_StringLarge: length without, size with the NUL */
	*out = (struct ODJ_UNICODE_STRING) {
		.Length = 2 * n,
		.MaximumLength = s != NULL ? 2 * (n + 1) : 0,
		.Buffer = s,
	};
}

NTSTATUS odj_secrets_join_info(TALLOC_CTX *mem_ctx,
			       const struct odj_join *j,
			       struct secrets_domain_info1_password *password,
			       const char *salt_principal,
			       NTTIME join_time,
			       NTTIME last_change,
			       const struct secrets_domain_info1 *previous,
			       struct secrets_domain_info1 **_info)
{
	struct secrets_domain_info1 *info = NULL;

	info = talloc_zero(mem_ctx, struct secrets_domain_info1);
	if (info == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	info->join_time = join_time;
	info->computer_name = j->netbios_name;
	info->account_name = j->account_name;
	info->secure_channel_type = SECRETS_SEC_CHAN_WKSTA;
	lsa_string(j->netbios_domain, &info->domain_info.Name);
	lsa_string(j->dns_domain, &info->domain_info.DnsDomainName);
	lsa_string(j->forest, &info->domain_info.DnsForestName);
	info->domain_info.DomainGuid = j->domain_guid;
	info->domain_info.Sid = j->domain_sid;
	/* secrets_store_JoinCtx() for an AD domain */
	info->trust_flags = SECRETS_TRUST_FLAG_PRIMARY |
			    SECRETS_TRUST_FLAG_OUTBOUND |
			    SECRETS_TRUST_FLAG_NATIVE;
	info->trust_type = SECRETS_TRUST_TYPE_UPLEVEL;
	info->trust_attributes = SECRETS_TRUST_ATTRIBUTE_TREAT_AS_EXTERNAL;
	/* Samba's offline join leaves this 0: a blob does not say */
	info->supported_enc_types = 0;
	info->salt_principal = salt_principal;
	info->password_last_change = last_change;
	info->password_changes = 1;
	info->password = password;
	/* as Samba: a re-join keeps the old keys for issued tickets */
	if (previous != NULL) {
		info->old_password = previous->password;
		info->older_password = previous->old_password;
	}
	*_info = info;
	return NT_STATUS_OK;
}

static DATA_BLOB uint32_le(TALLOC_CTX *mem_ctx, uint32_t v)
{
	uint8_t *p = talloc_array(mem_ctx, uint8_t, 4);

	if (p == NULL) {
		return data_blob_null;
	}
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
	return data_blob_const(p, 4);
}

/* A C string with its NUL, as secrets_store(key, s, strlen(s) + 1) */
static DATA_BLOB cstring(TALLOC_CTX *mem_ctx, const char *s)
{
	char *copy = talloc_strdup(mem_ctx, s);

	if (copy == NULL) {
		return data_blob_null;
	}
	return data_blob_const(copy, strlen(copy) + 1);
}

/* The password in the unix charset, from its UTF-16 (Samba's way) */
static DATA_BLOB unix_password(TALLOC_CTX *mem_ctx,
			       const struct secrets_domain_info1_password *p)
{
	void *out = NULL;
	size_t len = 0;
	uint8_t *s = NULL;
	bool ok;

	ok = convert_string_talloc(mem_ctx, CH_UTF16MUNGED, CH_UNIX,
				   p->cleartext_blob.data,
				   p->cleartext_blob.length, &out, &len);
	if (!ok) {
		return data_blob_null;
	}
	odj_wipe_on_free(out);
	s = talloc_realloc(mem_ctx, out, uint8_t, len + 1);
	if (s == NULL) {
		return data_blob_null;
	}
	s[len] = '\0';
	return data_blob_const(s, len + 1);
}

struct records {
	TALLOC_CTX *ctx;
	struct odj_secrets_record *r;
	size_t n;
	bool ok;
};

static void add_record(struct records *rs, const char *what,
		       const char *name, DATA_BLOB value, bool store)
{
	const char *key = NULL;

	if (!rs->ok) {
		return;
	}
	key = odj_secrets_key(rs->ctx, what, name);
	rs->r = talloc_realloc(rs->ctx, rs->r, struct odj_secrets_record,
			       rs->n + 1);
	if (key == NULL || rs->r == NULL || (store && value.data == NULL)) {
		rs->ok = false;
		return;
	}
	rs->r[rs->n++] = (struct odj_secrets_record) {
		.key = key,
		.value = store ? value : data_blob_null,
	};
}

static void rs_store(struct records *rs, const char *what, const char *name,
		     DATA_BLOB value)
{
	add_record(rs, what, name, value, true);
}

static void rs_delete(struct records *rs, const char *what, const char *name)
{
	add_record(rs, what, name, data_blob_null, false);
}

/*
 * Samba deletes the whole old join (secrets_delete_machine_password_ex()
 * and the PROTECT/IDS marker) and then stores the new one; what is left
 * is the new records plus the deletions of the keys it does not store.
 */
NTSTATUS odj_secrets_join_records(TALLOC_CTX *mem_ctx,
				  const struct secrets_domain_info1 *info,
				  struct odj_secrets_record **records,
				  size_t *num_records)
{
	const char *domain = info->domain_info.Name.Buffer;
	const char *realm = info->domain_info.DnsDomainName.Buffer;
	struct records rs = { .ok = true };
	DATA_BLOB value = data_blob_null;
	struct timeval last_change;
	NTSTATUS status;

	if (domain == NULL || realm == NULL || info->password == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	rs.ctx = talloc_new(mem_ctx);
	if (rs.ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* seconds cut off as Samba does, not rounded (nt_time_to_unix()) */
	nttime_to_timeval(&last_change, info->password_last_change);

	status = odj_secrets_info_pack(rs.ctx, info, &value);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(rs.ctx);
		return status;
	}
	rs_store(&rs, "MACHINE_DOMAIN_INFO", domain, value);
	rs_store(&rs, "MACHINE_PASSWORD", domain,
	      unix_password(rs.ctx, info->password));
	if (info->old_password != NULL) {
		rs_store(&rs, "MACHINE_PASSWORD.PREV", domain,
		      unix_password(rs.ctx, info->old_password));
	} else {
		rs_delete(&rs, "MACHINE_PASSWORD.PREV", domain);
	}
	rs_store(&rs, "MACHINE_SEC_CHANNEL_TYPE", domain,
	      uint32_le(rs.ctx, info->secure_channel_type));
	rs_store(&rs, "MACHINE_LAST_CHANGE_TIME", domain,
	      uint32_le(rs.ctx, (uint32_t)last_change.tv_sec));

	status = odj_secrets_sid_value(rs.ctx, info->domain_info.Sid, &value);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(rs.ctx);
		return status;
	}
	rs_store(&rs, "SID", domain, value);
	if (info->salt_principal != NULL) {
		rs_store(&rs, "SALTING_PRINCIPAL/DES", realm,
		      cstring(rs.ctx, info->salt_principal));
	} else {
		rs_delete(&rs, "SALTING_PRINCIPAL/DES", realm);
	}
	/* secrets_delete_machine_password_ex() keys this one by domain */
	if (strcasecmp(domain, realm) != 0) {
		rs_delete(&rs, "SALTING_PRINCIPAL/DES", domain);
	}
	if (!GUID_all_zero(&info->domain_info.DomainGuid)) {
		rs_store(&rs, "DOMGUID", domain,
		      data_blob_talloc(rs.ctx, &info->domain_info.DomainGuid,
				       sizeof(struct GUID)));
	} else {
		rs_delete(&rs, "DOMGUID", domain);
	}
	rs_store(&rs, "PROTECT/IDS", domain, cstring(rs.ctx, "TRUE"));

	if (!rs.ok) {
		TALLOC_FREE(rs.ctx);
		return NT_STATUS_NO_MEMORY;
	}
	*records = talloc_move(mem_ctx, &rs.r);
	*num_records = rs.n;
	talloc_steal(*records, rs.ctx);
	return NT_STATUS_OK;
}

NTSTATUS odj_secrets_unjoin_records(TALLOC_CTX *mem_ctx,
				    const char *domain,
				    const char *realm,
				    struct odj_secrets_record **records,
				    size_t *num_records)
{
	static const char *what[] = {
		"MACHINE_DOMAIN_INFO", "MACHINE_PASSWORD",
		"MACHINE_PASSWORD.PREV", "MACHINE_SEC_CHANNEL_TYPE",
		"MACHINE_LAST_CHANGE_TIME", "SID", "DOMGUID", "PROTECT/IDS",
		"SALTING_PRINCIPAL/DES", "MACHINE_ACCT_PASS",
	};
	struct records rs = { .ok = true };
	size_t i;

	rs.ctx = talloc_new(mem_ctx);
	if (rs.ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < ARRAY_SIZE(what); i++) {
		rs_delete(&rs, what[i], domain);
	}
	if (realm != NULL) {
		rs_delete(&rs, "SALTING_PRINCIPAL/DES", realm);
	}
	if (!rs.ok) {
		TALLOC_FREE(rs.ctx);
		return NT_STATUS_NO_MEMORY;
	}
	*records = talloc_move(mem_ctx, &rs.r);
	*num_records = rs.n;
	talloc_steal(*records, rs.ctx);
	return NT_STATUS_OK;
}
