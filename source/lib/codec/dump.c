/*
 * Rendering provisioning data for people (text) and scripts (JSON).
 *
 * Both come from one JSON tree, so they cannot drift apart: the text form
 * walks the tree and prints "key: value" lines, indenting for objects.
 */

#include "codec/codec.h"
#include "codec/dump_json.h"

#include <inttypes.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>
#include <charset.h>
#include <jansson.h>
#include <gnutls/gnutls.h>

#define REDACTED "<redacted>"

struct flag_name {
	uint32_t bit;
	const char *name;
};

/* dsgetdc.h DOMAIN_CONTROLLER_INFO Flags */
static const struct flag_name dc_flags[] = {
	{ 0x00000001, "DS_PDC_FLAG" },
	{ 0x00000004, "DS_GC_FLAG" },
	{ 0x00000008, "DS_LDAP_FLAG" },
	{ 0x00000010, "DS_DS_FLAG" },
	{ 0x00000020, "DS_KDC_FLAG" },
	{ 0x00000040, "DS_TIMESERV_FLAG" },
	{ 0x00000080, "DS_CLOSEST_FLAG" },
	{ 0x00000100, "DS_WRITABLE_FLAG" },
	{ 0x00000200, "DS_GOOD_TIMESERV_FLAG" },
	{ 0x00000400, "DS_NDNC_FLAG" },
	{ 0x00000800, "DS_SELECT_SECRET_DOMAIN_6_FLAG" },
	{ 0x00001000, "DS_FULL_SECRET_DOMAIN_6_FLAG" },
	{ 0x00002000, "DS_WS_FLAG" },
	{ 0x00004000, "DS_DS_8_FLAG" },
	{ 0x00008000, "DS_DS_9_FLAG" },
	{ 0x00010000, "DS_DS_10_FLAG" },
	{ 0x00020000, "DS_KEY_LIST_FLAG" },
	{ 0x20000000, "DS_DNS_CONTROLLER_FLAG" },
	{ 0x40000000, "DS_DNS_DOMAIN_FLAG" },
	{ 0x80000000, "DS_DNS_FOREST_FLAG" },
};

static const struct flag_name part_flags[] = {
	{ OPSPI_PACKAGE_PART_ESSENTIAL, "ESSENTIAL" },
};

static const struct flag_name jp2_flags[] = {
	{ OP_JP2_FLAG_PERSISTENTSITE, "OP_JP2_FLAG_PERSISTENTSITE" },
};

static const struct flag_name provision_options[] = {
	{ NETSETUP_PROVISION_DOWNLEVEL_PRIV_SUPPORT,
	  "NETSETUP_PROVISION_DOWNLEVEL_PRIV_SUPPORT" },
	{ NETSETUP_PROVISION_REUSE_ACCOUNT,
	  "NETSETUP_PROVISION_REUSE_ACCOUNT" },
	{ NETSETUP_PROVISION_USE_DEFAULT_PASSWORD,
	  "NETSETUP_PROVISION_USE_DEFAULT_PASSWORD" },
	{ NETSETUP_PROVISION_SKIP_ACCOUNT_SEARCH,
	  "NETSETUP_PROVISION_SKIP_ACCOUNT_SEARCH" },
	{ NETSETUP_PROVISION_ROOT_CA_CERTS,
	  "NETSETUP_PROVISION_ROOT_CA_CERTS" },
};

struct dump_state {
	TALLOC_CTX *mem_ctx;
	bool show_secrets;
	const char *machine_password;	/* to open a PFX protected by it */
};

static json_t *jguid(const struct GUID *g)
{
	struct GUID_txt_buf buf;

	return json_string(GUID_buf_string(g, &buf));
}

static json_t *jflag_names(uint32_t v, const struct flag_name *names,
			   size_t n)
{
	json_t *a = json_array();
	uint32_t known = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (v & names[i].bit) {
			json_array_append_new(a, json_string(names[i].name));
			known |= names[i].bit;
		}
	}
	if ((v & ~known) != 0) {
		json_array_append_new(a, jhex32(v & ~known));
	}
	return a;
}

static void set_flags(json_t *obj, const char *key, uint32_t v,
		      const struct flag_name *names, size_t n)
{
	char *names_key = talloc_asprintf(NULL, "%s_names", key);

	set(obj, key, jhex32(v));
	set(obj, names_key, jflag_names(v, names, n));
	TALLOC_FREE(names_key);
}


static json_t *jsecret_hex(struct dump_state *st, const uint8_t *p,
			   size_t len)
{
	if (!st->show_secrets) {
		return json_string(REDACTED);
	}
	return jhex(p, len);
}

static json_t *jsid(const struct ODJ_SID *sid)
{
	char *s = NULL;
	json_t *j = NULL;

	if (sid == NULL) {
		return json_null();
	}
	s = odj_sid_string(NULL, sid);
	j = jstr(s);
	TALLOC_FREE(s);
	return j;
}

static json_t *dump_dns_domain_info(const struct ODJ_POLICY_DNS_DOMAIN_INFO *d)
{
	json_t *o = json_object();

	set(o, "netbios_domain", jstr(d->Name.Buffer));
	set(o, "dns_domain", jstr(d->DnsDomainName.Buffer));
	set(o, "dns_forest", jstr(d->DnsForestName.Buffer));
	set(o, "domain_guid", jguid(&d->DomainGuid));
	set(o, "domain_sid", jsid(d->Sid));
	return o;
}

static json_t *dump_dc_info(const struct DOMAIN_CONTROLLER_INFO *dc)
{
	json_t *o = json_object();
	const char *type = "unknown";

	if (dc->DomainControllerAddressType == DS_INET_ADDRESS) {
		type = "DS_INET_ADDRESS";
	} else if (dc->DomainControllerAddressType == DS_NETBIOS_ADDRESS) {
		type = "DS_NETBIOS_ADDRESS";
	}
	set(o, "dc_name", jstr(dc->DomainControllerName));
	set(o, "dc_address", jstr(dc->DomainControllerAddress));
	set(o, "dc_address_type", json_integer(
		    dc->DomainControllerAddressType));
	set(o, "dc_address_type_name", json_string(type));
	set(o, "domain_guid", jguid(&dc->DomainGuid));
	set(o, "domain_name", jstr(dc->DomainName));
	set(o, "dns_forest", jstr(dc->DnsForestName));
	set_flags(o, "flags", dc->Flags, dc_flags, ARRAY_SIZE(dc_flags));
	set(o, "dc_site", jstr(dc->DcSiteName));
	set(o, "client_site", jstr(dc->ClientSiteName));
	return o;
}

static json_t *dump_win7(struct dump_state *st, const struct ODJ_WIN7BLOB *w)
{
	json_t *o = json_object();
	const char *pw = w->lpMachinePassword;

	set(o, "domain", jstr(w->lpDomain));
	set(o, "machine_name", jstr(w->lpMachineName));
	if (pw != NULL && !st->show_secrets) {
		pw = REDACTED;
	}
	set(o, "machine_password", jstr(pw));
	set(o, "dns_domain_info", dump_dns_domain_info(&w->DnsDomainInfo));
	set(o, "dc_info", dump_dc_info(&w->DcInfo));
	set_flags(o, "options", w->Options, provision_options,
		  ARRAY_SIZE(provision_options));
	return o;
}

static json_t *dump_jp2(const struct OP_JOINPROV2_PART *p)
{
	json_t *o = json_object();

	set_flags(o, "flags", p->dwFlags, jp2_flags, ARRAY_SIZE(jp2_flags));
	set(o, "netbios_name", jstr(p->lpNetbiosName));
	set(o, "site_name", jstr(p->lpSiteName));
	set(o, "primary_dns_domain", jstr(p->lpPrimaryDNSDomain));
	set(o, "reserved", json_integer(p->dwReserved));
	set(o, "reserved_string", jstr(p->lpReserved));
	return o;
}

static json_t *dump_jp3(const struct OP_JOINPROV3_PART *p)
{
	json_t *o = json_object();

	set(o, "rid", json_integer(p->Rid));
	set(o, "machine_sid", jstr(p->lpSid));
	return o;
}

static json_t *dump_jp4(const struct OP_JOINPROV4_PART *p)
{
	json_t *o = json_object();

	set(o, "rid", json_integer(p->Rid));
	set(o, "machine_sid", jstr(p->lpSid));
	set(o, "object_guid", jguid(&p->ObjectGuid));
	return o;
}

/* seconds since 1970 as ISO 8601 UTC */
static json_t *jtime(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[32];

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		return json_integer(t);
	}
	return json_string(buf);
}

static json_t *jstr_list(const char **list)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		json_array_append_new(a, json_string(list[i]));
	}
	return a;
}

/* "serverAuth (1.3.6.1.5.5.7.3.1)", or the bare OID */
static json_t *jekus(const char **ekus)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; ekus != NULL && ekus[i] != NULL; i++) {
		const char *name = odj_cert_eku_name(ekus[i]);
		char *s = NULL;

		if (name == NULL) {
			json_array_append_new(a, json_string(ekus[i]));
			continue;
		}
		s = talloc_asprintf(NULL, "%s (%s)", name, ekus[i]);
		json_array_append_new(a, jstr(s));
		TALLOC_FREE(s);
	}
	return a;
}

/* What a certificate says; "error" if it is none */
static json_t *dump_cert_info(DATA_BLOB der)
{
	struct odj_cert_info *info = NULL;
	json_t *o = json_object();
	char *why = NULL;
	NTSTATUS status;

	status = odj_cert_info(NULL, der, &info, &why);
	if (!NT_STATUS_IS_OK(status)) {
		set(o, "error", json_string(why != NULL ? why :
					    nt_errstr(status)));
		TALLOC_FREE(why);
		return o;
	}
	set(o, "subject", jstr(info->subject));
	set(o, "issuer", jstr(info->issuer));
	set(o, "serial", jstr(info->serial));
	set(o, "sha1_thumbprint", jstr(info->sha1));
	set(o, "not_before", jtime(info->not_before));
	set(o, "not_after", jtime(info->not_after));
	set(o, "ekus", jekus(info->ekus));
	set(o, "dns_names", jstr_list(info->dns_names));
	set(o, "public_key", jstr(info->public_key));
	set(o, "ca", json_boolean(info->is_ca));
	if (info->template_name != NULL) {
		set(o, "template", jstr(info->template_name));
	}
	if (info->account_sid != NULL) {
		set(o, "account_sid", jstr(info->account_sid));
	}
	TALLOC_FREE(info);
	return o;
}

static const char *sst_prop_name(uint32_t id)
{
	switch (id) {
	case 2: return "CERT_KEY_PROV_INFO_PROP_ID";
	case ODJ_SST_PROP_SHA1_HASH: return "CERT_SHA1_HASH_PROP_ID";
	case 4: return "CERT_MD5_HASH_PROP_ID";
	case 9: return "CERT_ENHKEY_USAGE_PROP_ID";
	case ODJ_SST_PROP_FRIENDLY_NAME: return "CERT_FRIENDLY_NAME_PROP_ID";
	case 15: return "CERT_SIGNATURE_HASH_PROP_ID";
	case 20: return "CERT_KEY_IDENTIFIER_PROP_ID";
	case 25: return "CERT_SUBJECT_PUBLIC_KEY_MD5_HASH_PROP_ID";
	}
	return NULL;
}

static json_t *dump_sst_element(const struct odj_sst_element *el)
{
	json_t *o = NULL;
	json_t *props = json_array();
	uint32_t i;

	o = el->id == ODJ_SST_ELEMENT_CERT ? dump_cert_info(el->data) :
					      json_object();
	set(o, "element", json_string(el->id == ODJ_SST_ELEMENT_CERT ?
				       "certificate" :
				       el->id == ODJ_SST_ELEMENT_CRL ?
				       "CRL" : "CTL"));
	for (i = 0; i < el->num_props; i++) {
		const struct odj_sst_property *p = &el->props[i];
		const char *name = sst_prop_name(p->id);
		char *s = name != NULL ?
			talloc_asprintf(NULL, "%s (%" PRIu32 ")", name, p->id) :
			talloc_asprintf(NULL, "%" PRIu32, p->id);

		json_array_append_new(props, jstr(s));
		TALLOC_FREE(s);
		if (p->id == ODJ_SST_PROP_FRIENDLY_NAME &&
		    p->value.length % 2 == 0) {
			set(o, "friendly_name",
			    odj_dump_utf16(p->value.data, p->value.length));
		}
	}
	set(o, "properties", props);
	return o;
}

/* The certificates of a serialized store, or why there are none */
static void dump_sst(json_t *e, const uint8_t *p, size_t len)
{
	struct odj_sst *sst = NULL;
	json_t *certs = json_array();
	char *why = NULL;
	uint32_t i;

	if (!NT_STATUS_IS_OK(odj_sst_parse(NULL, data_blob_const(p, len),
					   &sst, &why))) {
		set(e, "sst_error", jstr(why));
		TALLOC_FREE(why);
		json_decref(certs);
		return;
	}
	for (i = 0; i < sst->num_elements; i++) {
		json_array_append_new(certs,
				      dump_sst_element(&sst->elements[i]));
	}
	set(e, "certificates", certs);
	TALLOC_FREE(sst);
}

static json_t *jkey(struct dump_state *st, DATA_BLOB key)
{
	gnutls_datum_t in = { .data = key.data, .size = key.length };
	gnutls_datum_t out = { .data = NULL };
	json_t *j = NULL;

	if (!st->show_secrets) {
		return json_string(REDACTED);
	}
	if (gnutls_pem_base64_encode2("PRIVATE KEY", &in, &out) < 0) {
		return json_null();
	}
	j = json_stringn((const char *)out.data, out.size);
	gnutls_memset(out.data, 0, out.size);
	gnutls_free(out.data);
	return j;
}

/*
 * A PFX opened with an empty password (what odj writes), else with the
 * blob's machine password; its certificates, and the key only with
 * show_secrets.
 */
static void dump_pfx(struct dump_state *st, json_t *e,
		     const struct OP_CERT_PFX_STORE *s)
{
	DATA_BLOB b = data_blob_const(s->pPfx, s->cbPfx);
	struct odj_pfx *pfx = NULL;
	json_t *certs = json_array();
	const char *how = "empty";
	char *why = NULL;
	NTSTATUS status;
	size_t i;

	status = odj_pfx_parse(NULL, b, "", &pfx, &why);
	if (NT_STATUS_EQUAL(status, NT_STATUS_WRONG_PASSWORD) &&
	    st->machine_password != NULL) {
		TALLOC_FREE(why);
		how = "machine password";
		status = odj_pfx_parse(NULL, b, st->machine_password, &pfx,
				       &why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		set(e, "pfx_error", jstr(why));
		TALLOC_FREE(why);
		json_decref(certs);
		return;
	}
	set(e, "pfx_password", json_string(how));
	set(e, "friendly_name", jstr(pfx->friendly_name));
	set(e, "private_key", jkey(st, pfx->key));
	json_array_append_new(certs, dump_cert_info(pfx->cert));
	for (i = 0; i < pfx->num_chain; i++) {
		json_array_append_new(certs, dump_cert_info(pfx->chain[i]));
	}
	set(e, "certificates", certs);
	TALLOC_FREE(pfx);
}

static json_t *dump_cert(struct dump_state *st, const struct OP_CERT_PART *c)
{
	json_t *o = json_object();
	json_t *pfx = json_array();
	json_t *sst = json_array();
	uint32_t i;

	for (i = 0; i < c->cPfxStores; i++) {
		const struct OP_CERT_PFX_STORE *s = &c->pPfxStores[i];
		json_t *e = json_object();

		set(e, "template_name", jstr(s->pTemplateName));
		set(e, "private_key_export_policy",
		    jhex32(s->ulPrivateKeyExportPolicy));
		set(e, "policy_server_url", jstr(s->pPolicyServerUrl));
		set(e, "policy_server_url_flags",
		    jhex32(s->ulPolicyServerUrlFlags));
		set(e, "policy_server_id", jstr(s->pPolicyServerId));
		set(e, "pfx_size", json_integer(s->cbPfx));
		set(e, "pfx", jsecret_hex(st, s->pPfx, s->cbPfx));
		dump_pfx(st, e, s);
		json_array_append_new(pfx, e);
	}
	for (i = 0; i < c->cSstStores; i++) {
		const struct OP_CERT_SST_STORE *s = &c->pSstStores[i];
		json_t *e = json_object();

		set(e, "store_location", json_integer(s->StoreLocation));
		set(e, "store_location_name", json_string(
			    s->StoreLocation ==
			    ODJ_CERT_SYSTEM_STORE_LOCAL_MACHINE ?
			    "CERT_SYSTEM_STORE_LOCAL_MACHINE" : "other"));
		set(e, "store_name", jstr(s->pStoreName));
		set(e, "sst_size", json_integer(s->cbSst));
		set(e, "sst", jhex(s->pSst, s->cbSst));
		dump_sst(e, s->pSst, s->cbSst);
		json_array_append_new(sst, e);
	}
	set(o, "pfx_stores", pfx);
	set(o, "sst_stores", sst);
	set(o, "extension_size", json_integer(c->Extension.cbBlob));
	return o;
}

static json_t *dump_part(struct dump_state *st, const struct odj_part *p)
{
	json_t *o = json_object();
	json_t *body = NULL;

	set(o, "type", json_string(odj_part_kind_name(p->kind)));
	set(o, "type_guid", jguid(&p->type));
	set_flags(o, "flags", p->flags, part_flags, ARRAY_SIZE(part_flags));
	switch (p->kind) {
	case ODJ_PART_JOIN_PROVIDER:
		body = dump_win7(st, p->u.win7);
		break;
	case ODJ_PART_JOIN_PROVIDER2:
		body = dump_jp2(p->u.jp2);
		break;
	case ODJ_PART_JOIN_PROVIDER3:
		body = dump_jp3(p->u.jp3);
		break;
	case ODJ_PART_JOIN_PROVIDER4:
		body = dump_jp4(p->u.jp4);
		break;
	case ODJ_PART_CERT:
		body = dump_cert(st, p->u.cert);
		break;
	case ODJ_PART_POLICY:
		body = odj_dump_policy_json(p->u.policy);
		break;
	case ODJ_PART_UNKNOWN:
		body = json_object();
		set(body, "size", json_integer(p->raw.length));
		/* we cannot know whether an unknown part holds secrets */
		set(body, "data", jsecret_hex(st, p->raw.data, p->raw.length));
		break;
	}
	set(o, "content", body);
	set(o, "extension_size", json_integer(p->extension.length));
	return o;
}

static json_t *dump_package(struct dump_state *st,
			    const struct odj_package *pkg)
{
	json_t *o = json_object();
	json_t *parts = json_array();
	uint32_t i;

	set(o, "encryption_type", jguid(&pkg->encryption_type));
	set(o, "encrypted", json_boolean(!GUID_all_zero(
					      &pkg->encryption_type)));
	set(o, "decrypted_size", json_integer(pkg->decrypted_size));
	for (i = 0; i < pkg->num_parts; i++) {
		json_array_append_new(parts, dump_part(st, &pkg->parts[i]));
	}
	set(o, "parts", parts);
	set(o, "extension_size", json_integer(pkg->extension.length));
	return o;
}

static json_t *dump_tree(struct dump_state *st,
			 const struct odj_provision_data *pd)
{
	json_t *root = json_object();
	json_t *blobs = json_array();
	uint32_t i;

	set(root, "version", json_integer(pd->version));
	for (i = 0; i < pd->num_blobs; i++) {
		const struct odj_blob *b = &pd->blobs[i];
		json_t *bo = json_object();

		set(bo, "format", json_integer(b->format));
		if (b->win7 != NULL) {
			set(bo, "format_name", json_string("ODJ_WIN7_FORMAT"));
			set(bo, "win7blob", dump_win7(st, b->win7));
		} else if (b->package != NULL) {
			set(bo, "format_name", json_string("ODJ_WIN8_FORMAT"));
			set(bo, "op_package", dump_package(st, b->package));
		} else {
			set(bo, "format_name", json_string("unknown"));
			set(bo, "size", json_integer(b->raw.length));
			set(bo, "data", jsecret_hex(st, b->raw.data,
						    b->raw.length));
		}
		json_array_append_new(blobs, bo);
	}
	set(root, "blobs", blobs);
	return root;
}

NTSTATUS odj_dump_json(TALLOC_CTX *mem_ctx,
		       const struct odj_provision_data *pd,
		       bool show_secrets,
		       struct json_t **tree)
{
	struct dump_state st = {
		.mem_ctx = mem_ctx,
		.show_secrets = show_secrets,
	};
	const struct ODJ_WIN7BLOB *win7 = NULL;

	if (pd == NULL || tree == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	win7 = odj_provision_data_win7(pd);
	if (win7 != NULL) {
		st.machine_password = win7->lpMachinePassword;
	}
	*tree = dump_tree(&st, pd);
	return *tree != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS odj_dump(TALLOC_CTX *mem_ctx,
		  const struct odj_provision_data *pd,
		  enum odj_dump_format format,
		  bool show_secrets,
		  char **text)
{
	json_t *tree = NULL;
	char *out = NULL;
	NTSTATUS status;

	if (text == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	status = odj_dump_json(mem_ctx, pd, show_secrets, &tree);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (format == ODJ_DUMP_JSON) {
		char *s = json_dumps(tree, JSON_INDENT(2));

		if (s != NULL) {
			out = talloc_asprintf(mem_ctx, "%s\n", s);
			explicit_bzero(s, strlen(s));
			free(s);
		}
	} else {
		out = odj_json_text(mem_ctx, tree);
	}
	json_decref(tree);
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(out);
	*text = out;
	return NT_STATUS_OK;
}
