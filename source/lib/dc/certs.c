/*
 * Certificates for the CERT part: the enterprise root CAs and the
 * certificate templates AD publishes, a machine certificate issued through
 * an issuing backend and packed as a PFX.  (A certificate's fields for
 * display: odj_cert_info.c.)
 *
 * Where AD CS keeps things ([MS-ADTS] 6.1.1.2.10, [MS-CRTD]):
 *   CN=Public Key Services,CN=Services,<configuration NC>
 *     CN=Certification Authorities   certificationAuthority per root CA
 *     CN=NTAuthCertificates          CAs trusted for smart card logon
 *     CN=Certificate Templates       pKICertificateTemplate objects
 */

#include "dc/dc.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <charset.h>
#include <ldb.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>

#define PKS_DN "CN=Public Key Services,CN=Services"
/* msPKI-Private-Key-Flag CT_FLAG_EXPORTABLE_KEY ([MS-CRTD] 2.27) */
#define CT_FLAG_EXPORTABLE_KEY 0x00000010
/* a template without pKIExpirationPeriod: one year, as "Machine" */
#define DEFAULT_VALIDITY (365 * 24 * 3600)
#define MIN_KEY_BITS 2048
#define MAX_KEY_BITS 8192
/*
 * Root CAs from AD
 */

static struct ldb_dn *pks_dn(TALLOC_CTX *ctx, struct odj_dc *dc,
			     const char *child)
{
	return ldb_dn_new_fmt(ctx, odj_dc_ldb(dc), "%s," PKS_DN ",%s", child,
			      odj_dc_info(dc)->config_dn);
}

static bool self_signed(DATA_BLOB der)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = odj_datum(der);
	bool yes = false;

	if (gnutls_x509_crt_init(&crt) < 0) {
		return false;
	}
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0) {
		yes = gnutls_x509_crt_check_issuer(crt, crt) != 0;
	}
	gnutls_x509_crt_deinit(crt);
	return yes;
}

static bool valid_der(DATA_BLOB der)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = odj_datum(der);
	bool ok;

	if (gnutls_x509_crt_init(&crt) < 0) {
		return false;
	}
	ok = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

struct cert_list {
	DATA_BLOB *certs;
	size_t num;
};

static NTSTATUS add_ca_values(TALLOC_CTX *ctx, struct cert_list *list,
			      const struct ldb_message *msg, bool roots_only,
			      char **why)
{
	struct ldb_message_element *el = ldb_msg_find_element(msg,
							      "cACertificate");
	unsigned i;
	size_t j;

	for (i = 0; el != NULL && i < el->num_values; i++) {
		DATA_BLOB der = data_blob_const(el->values[i].data,
						el->values[i].length);
		bool dup = false;

		if (!valid_der(der)) {
			odj_why(ctx, why, "%s: cACertificate value %u is not "
				"an X.509 certificate",
				ldb_dn_get_linearized(msg->dn), i + 1);
			return NT_STATUS_INVALID_NETWORK_RESPONSE;
		}
		if (roots_only && !self_signed(der)) {
			continue;
		}
		for (j = 0; !dup && j < list->num; j++) {
			dup = data_blob_cmp(&list->certs[j], &der) == 0;
		}
		if (dup) {
			continue;
		}
		list->certs = talloc_realloc(ctx, list->certs, DATA_BLOB,
					     list->num + 1);
		if (list->certs == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		list->certs[list->num] = data_blob_talloc(list->certs,
							  der.data,
							  der.length);
		if (list->certs[list->num].data == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		list->num++;
	}
	return NT_STATUS_OK;
}

static NTSTATUS read_cas(TALLOC_CTX *ctx, struct odj_dc *dc,
			 const char *child, enum ldb_scope scope,
			 bool roots_only, struct cert_list *list, char **why)
{
	const char * const attrs[] = { "cACertificate", NULL };
	struct ldb_result *res = NULL;
	NTSTATUS status;
	unsigned i;

	status = odj_ldb_search_sync(ctx, odj_dc_ev(dc), odj_dc_ldb(dc),
				     pks_dn(ctx, dc, child), scope, attrs,
				     "(objectClass=certificationAuthority)",
				     &res, why);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		TALLOC_FREE(*why);
		return NT_STATUS_OK;	/* no AD CS has published yet */
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < res->count; i++) {
		status = add_ca_values(ctx, list, res->msgs[i], roots_only,
				       why);
	}
	return status;
}

NTSTATUS odj_certs_root_cas(TALLOC_CTX *mem_ctx,
			    struct odj_dc *dc,
			    DATA_BLOB **certs,
			    size_t *num_certs,
			    char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	struct cert_list list = { .num = 0 };
	char *msg = NULL;
	NTSTATUS status;

	if (dc == NULL || certs == NULL || num_certs == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = read_cas(tmp_ctx, dc, "CN=Certification Authorities",
			  LDB_SCOPE_ONELEVEL, false, &list,
			  why != NULL ? why : &msg);
	if (NT_STATUS_IS_OK(status)) {
		status = read_cas(tmp_ctx, dc, "CN=NTAuthCertificates",
				  LDB_SCOPE_BASE, true, &list,
				  why != NULL ? why : &msg);
	}
	if (NT_STATUS_IS_OK(status) && list.num == 0) {
		odj_why(tmp_ctx, why, "no root CA certificates are published "
			"in AD (CN=Certification Authorities and "
			"CN=NTAuthCertificates under " PKS_DN ",%s)",
			odj_dc_info(dc)->config_dn);
		status = NT_STATUS_NOT_FOUND;
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	*certs = talloc_steal(mem_ctx, list.certs);
	*num_certs = list.num;
	TALLOC_FREE(tmp_ctx);
	return NT_STATUS_OK;
}

NTSTATUS odj_certs_root_store(TALLOC_CTX *mem_ctx,
			      const DATA_BLOB *certs,
			      size_t num_certs,
			      struct OP_CERT_SST_STORE *store,
			      char **why)
{
	struct odj_sst *sst = NULL;
	DATA_BLOB bytes = data_blob_null;
	NTSTATUS status = NT_STATUS_OK;
	size_t i;

	if (store == NULL || (num_certs > 0 && certs == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	sst = talloc_zero(mem_ctx, struct odj_sst);
	if (sst == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < num_certs; i++) {
		status = odj_sst_add_cert(sst, certs[i], NULL);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_sst_push(mem_ctx, sst, &bytes);
	}
	TALLOC_FREE(sst);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why(mem_ctx, why, "cannot build the ROOT store: %s",
			nt_errstr(status));
		return status;
	}
	*store = (struct OP_CERT_SST_STORE) {
		.StoreLocation = ODJ_CERT_SYSTEM_STORE_LOCAL_MACHINE,
		.pStoreName = talloc_strdup(mem_ctx, ODJ_CERT_STORE_ROOT),
		.cbSst = bytes.length,
		.pSst = bytes.data,
	};
	if (store->pStoreName == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	talloc_steal(store->pStoreName, bytes.data);
	return NT_STATUS_OK;
}

/*
 * Certificate templates
 */

static bool valid_oid(const char *s)
{
	bool digit = false;

	for (; *s != '\0'; s++) {
		if (isdigit((unsigned char)*s)) {
			digit = true;
		} else if (*s == '.' && digit) {
			digit = false;
		} else {
			return false;
		}
	}
	return digit;
}

static NTSTATUS template_ekus(struct odj_cert_template *t,
			      const struct ldb_message *msg, char **why)
{
	struct ldb_message_element *el = NULL;
	unsigned i;

	el = ldb_msg_find_element(msg, "pKIExtendedKeyUsage");
	if (el == NULL) {
		el = ldb_msg_find_element(
			msg, "msPKI-Certificate-Application-Policy");
	}
	for (i = 0; el != NULL && i < el->num_values; i++) {
		char *oid = talloc_strndup(t, (const char *)el->values[i].data,
					   el->values[i].length);

		if (oid == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		if (!valid_oid(oid)) {
			odj_why(t, why, "certificate template %s: extended key "
				"usage '%s' is not an OID", t->name, oid);
			return NT_STATUS_INVALID_NETWORK_RESPONSE;
		}
		if (!odj_str_list_add(t, &t->ekus, oid)) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	return NT_STATUS_OK;
}

/* pKIExpirationPeriod: a negative FILETIME interval, 100 ns units */
static NTSTATUS template_validity(struct odj_cert_template *t,
				  const struct ldb_message *msg, char **why)
{
	const struct ldb_val *v = ldb_msg_find_ldb_val(msg,
						       "pKIExpirationPeriod");
	int64_t ticks = 0;
	int i;

	if (v == NULL) {
		t->validity = DEFAULT_VALIDITY;
		return NT_STATUS_OK;
	}
	if (v->length != 8) {
		odj_why(t, why, "certificate template %s: pKIExpirationPeriod "
			"has %zu bytes, not 8", t->name, v->length);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	for (i = 7; i >= 0; i--) {
		ticks = (int64_t)((uint64_t)ticks << 8 | v->data[i]);
	}
	if (ticks == INT64_MIN || ticks == 0) {
		odj_why(t, why, "certificate template %s: bad "
			"pKIExpirationPeriod", t->name);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	t->validity = (uint64_t)(ticks < 0 ? -ticks : ticks) / 10000000;
	return NT_STATUS_OK;
}

static NTSTATUS fill_template(struct odj_cert_template *t,
			      const struct ldb_message *msg, char **why)
{
	const struct ldb_val *ku = ldb_msg_find_ldb_val(msg, "pKIKeyUsage");
	NTSTATUS status;

	t->name = talloc_strdup(t, ldb_msg_find_attr_as_string(msg, "cn",
								 ""));
	t->display_name = talloc_strdup(
		t, ldb_msg_find_attr_as_string(msg, "displayName", t->name));
	t->oid = talloc_strdup(t, ldb_msg_find_attr_as_string(
				       msg, "msPKI-Cert-Template-OID", NULL));
	if (t->name == NULL || t->display_name == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (t->oid != NULL && !valid_oid(t->oid)) {
		t->oid = NULL;
	}
	t->major_version = ldb_msg_find_attr_as_int64(msg, "revision", 0);
	t->minor_version = ldb_msg_find_attr_as_int64(
		msg, "msPKI-Template-Minor-Revision", 0);
	t->min_key_bits = ldb_msg_find_attr_as_int64(
		msg, "msPKI-Minimal-Key-Size", 0);
	t->private_key_flags = ldb_msg_find_attr_as_int64(
		msg, "msPKI-Private-Key-Flag", 0);
	t->enrollment_flags = ldb_msg_find_attr_as_int64(
		msg, "msPKI-Enrollment-Flag", 0);
	/* the KeyUsage bit string's octets; GNUTLS_KEY_* are the same bits */
	if (ku != NULL && ku->length >= 1) {
		t->key_usage = ku->data[0];
		if (ku->length >= 2 && (ku->data[1] & 0x80)) {
			t->key_usage |= GNUTLS_KEY_DECIPHER_ONLY;
		}
	}
	status = template_ekus(t, msg, why);
	if (NT_STATUS_IS_OK(status)) {
		status = template_validity(t, msg, why);
	}
	return status;
}

/* Exactly one template: a cn match wins over displayName matches. */
static const struct ldb_message *pick_template(const struct ldb_result *res,
					       const char *name)
{
	const struct ldb_message *found = NULL;
	unsigned i, n = 0;

	for (i = 0; i < res->count; i++) {
		const char *cn = ldb_msg_find_attr_as_string(res->msgs[i],
							     "cn", "");

		if (strcasecmp(cn, name) == 0) {
			return res->msgs[i];
		}
		found = res->msgs[i];
		n++;
	}
	return n == 1 ? found : NULL;
}

NTSTATUS odj_certs_find_template(TALLOC_CTX *mem_ctx,
				 struct odj_dc *dc,
				 const char *name,
				 struct odj_cert_template **_tmpl,
				 char **why)
{
	const char * const attrs[] = {
		"cn", "displayName", "msPKI-Cert-Template-OID", "revision",
		"msPKI-Template-Minor-Revision", "pKIExtendedKeyUsage",
		"msPKI-Certificate-Application-Policy", "pKIKeyUsage",
		"msPKI-Minimal-Key-Size", "pKIExpirationPeriod",
		"msPKI-Private-Key-Flag", "msPKI-Enrollment-Flag", NULL
	};
	TALLOC_CTX *tmp_ctx = NULL;
	struct ldb_result *res = NULL;
	const struct ldb_message *msg = NULL;
	struct odj_cert_template *t = NULL;
	char *filter = NULL;
	char *esc = NULL;
	NTSTATUS status;

	if (dc == NULL || name == NULL || name[0] == '\0' || _tmpl == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	esc = ldb_binary_encode_string(tmp_ctx, name);
	filter = talloc_asprintf(tmp_ctx,
				 "(&(objectClass=pKICertificateTemplate)"
				 "(|(cn=%s)(displayName=%s)))", esc, esc);
	if (tmp_ctx == NULL || filter == NULL) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_ldb_search_sync(tmp_ctx, odj_dc_ev(dc), odj_dc_ldb(dc),
				     pks_dn(tmp_ctx, dc,
					    "CN=Certificate Templates"),
				     LDB_SCOPE_ONELEVEL, attrs, filter, &res,
				     why);
	if (NT_STATUS_IS_OK(status)) {
		msg = pick_template(res, name);
	}
	if (NT_STATUS_IS_OK(status) && msg == NULL) {
		odj_why(tmp_ctx, why, res->count == 0 ?
			"no certificate template '%s' (cn or displayName) in "
			"CN=Certificate Templates," PKS_DN ",%s" :
			"certificate template name '%s' is ambiguous in "
			"CN=Certificate Templates," PKS_DN ",%s",
			name, odj_dc_info(dc)->config_dn);
		status = res->count == 0 ? NT_STATUS_NOT_FOUND :
					   NT_STATUS_INVALID_PARAMETER;
	}
	if (NT_STATUS_IS_OK(status)) {
		t = talloc_zero(tmp_ctx, struct odj_cert_template);
		status = t == NULL ? NT_STATUS_NO_MEMORY :
				     fill_template(t, msg, why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	*_tmpl = talloc_steal(mem_ctx, t);
	TALLOC_FREE(tmp_ctx);
	return NT_STATUS_OK;
}

/*
 * Enrollment: key, request, certificate, PFX
 */

/* A host name: dot-separated LDH labels of 1 to 63 characters. */
static bool valid_dns_name(const char *name)
{
	size_t label = 0;
	const char *p = NULL;

	if (name == NULL || name[0] == '\0' || strlen(name) > 253) {
		return false;
	}
	for (p = name; *p != '\0'; p++) {
		if (*p == '.') {
			if (label == 0 || p[-1] == '-') {
				return false;
			}
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*p) && (*p != '-' || label == 0)) {
			return false;
		}
		if (++label > 63) {
			return false;
		}
	}
	return label > 0 && p[-1] != '-';
}

static int make_csr(gnutls_x509_privkey_t key, const char *dns_name,
		    gnutls_datum_t *der)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_privkey_t pkey = NULL;
	int ret;

	ret = gnutls_x509_crq_init(&crq);
	if (ret == 0) {
		ret = gnutls_privkey_init(&pkey);
	}
	if (ret == 0) {
		ret = gnutls_privkey_import_x509(pkey, key, 0);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_set_version(crq, 1);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_set_dn_by_oid(
			crq, GNUTLS_OID_X520_COMMON_NAME, 0, dns_name,
			strlen(dns_name));
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_set_subject_alt_name(
			crq, GNUTLS_SAN_DNSNAME, dns_name, strlen(dns_name),
			GNUTLS_FSAN_SET);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_set_key(crq, key);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_privkey_sign(crq, pkey, GNUTLS_DIG_SHA256,
						   0);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, der);
	}
	gnutls_privkey_deinit(pkey);
	gnutls_x509_crq_deinit(crq);
	return ret;
}

/* The issued certificate must carry our key, whatever the backend did. */
static bool cert_has_key(DATA_BLOB cert, gnutls_x509_privkey_t key)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = odj_datum(cert);
	uint8_t a[64], b[64];
	size_t alen = sizeof(a), blen = sizeof(b);
	bool same = false;

	if (gnutls_x509_crt_init(&crt) < 0) {
		return false;
	}
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a,
				       &alen) == 0 &&
	    gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b,
					   &blen) == 0) {
		same = alen == blen && memcmp(a, b, alen) == 0;
	}
	gnutls_x509_crt_deinit(crt);
	return same;
}

static NTSTATUS new_key(TALLOC_CTX *ctx, const struct odj_cert_template *t,
			gnutls_x509_privkey_t *key, char **why)
{
	unsigned bits = t->min_key_bits > MIN_KEY_BITS ? t->min_key_bits :
			MIN_KEY_BITS;
	int ret;

	if (bits > MAX_KEY_BITS) {
		odj_why(ctx, why, "certificate template %s asks for keys of "
			"at least %u bits; at most %u are supported", t->name,
			bits, MAX_KEY_BITS);
		return NT_STATUS_NOT_SUPPORTED;
	}
	ret = gnutls_x509_privkey_init(key);
	if (ret == 0) {
		ret = gnutls_x509_privkey_generate(*key, GNUTLS_PK_RSA, bits,
						   0);
	}
	if (ret < 0) {
		odj_why(ctx, why, "cannot generate an RSA key of %u bits: %s",
			bits, gnutls_strerror(ret));
		return NT_STATUS_INTERNAL_ERROR;
	}
	return NT_STATUS_OK;
}

/* Key and request, the backend's certificate, and the PFX of it all. */
static NTSTATUS enroll_pfx(TALLOC_CTX *ctx, struct odj_ca_backend *backend,
			   const struct odj_cert_template *t,
			   const char *dns_name, const char *sid,
			   const struct odj_ca_machine *machine,
			   DATA_BLOB *pfx_bytes, char **why)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t csr = { .data = NULL };
	struct odj_pfx pfx = { .friendly_name = t->name };
	NTSTATUS status;
	int ret;

	status = new_key(ctx, t, &key, why);
	if (!NT_STATUS_IS_OK(status)) {
		gnutls_x509_privkey_deinit(key);
		return status;
	}
	ret = make_csr(key, dns_name, &csr);
	if (ret < 0) {
		gnutls_x509_privkey_deinit(key);
		odj_why(ctx, why, "cannot build the certificate request: %s",
			gnutls_strerror(ret));
		return NT_STATUS_INTERNAL_ERROR;
	}
	status = backend->ops->issue(backend, ctx, t,
				     data_blob_const(csr.data, csr.size),
				     dns_name, sid, machine, &pfx.cert,
				     &pfx.chain, &pfx.num_chain, why);
	gnutls_free(csr.data);
	if (NT_STATUS_IS_OK(status) && !cert_has_key(pfx.cert, key)) {
		odj_why(ctx, why, "the %s backend returned a certificate for "
			"another key", backend->ops->name);
		status = NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	if (NT_STATUS_IS_OK(status) && !odj_key_pkcs8(ctx, key, &pfx.key)) {
		status = NT_STATUS_NO_MEMORY;
	}
	gnutls_x509_privkey_deinit(key);
	if (NT_STATUS_IS_OK(status)) {
		/* an empty password: the blob is the secret (odj_pfx_build()) */
		status = odj_pfx_build(ctx, &pfx, "", pfx_bytes, why);
	}
	return status;
}

NTSTATUS odj_certs_enroll(TALLOC_CTX *mem_ctx,
			  struct odj_ca_backend *backend,
			  const struct odj_cert_template *tmpl,
			  const char *dns_name,
			  const char *sid,
			  const struct odj_ca_machine *machine,
			  struct OP_CERT_PFX_STORE *store,
			  char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	DATA_BLOB pfx = data_blob_null;
	NTSTATUS status;

	if (backend == NULL || backend->ops == NULL ||
	    backend->ops->issue == NULL || tmpl == NULL || store == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (!valid_dns_name(dns_name)) {
		odj_why(mem_ctx, why, "'%s' is not a valid DNS host name for "
			"a certificate", dns_name != NULL ? dns_name : "");
		return NT_STATUS_INVALID_COMPUTER_NAME;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = enroll_pfx(tmp_ctx, backend, tmpl, dns_name, sid, machine,
			    &pfx, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(tmp_ctx, why, "certificate template %s",
			       tmpl->name);
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	*store = (struct OP_CERT_PFX_STORE) {
		.pTemplateName = talloc_strdup(mem_ctx, tmpl->name),
		.ulPrivateKeyExportPolicy =
			(tmpl->private_key_flags & CT_FLAG_EXPORTABLE_KEY) ?
			ODJ_XCN_NCRYPT_ALLOW_EXPORT_FLAG :
			ODJ_XCN_NCRYPT_ALLOW_EXPORT_NONE,
		/* the policy server, as the backend names it (or none) */
		.pPolicyServerUrl = talloc_strdup(mem_ctx,
						  backend->policy_server_url),
		.ulPolicyServerUrlFlags = backend->policy_server_flags,
		.pPolicyServerId = talloc_strdup(mem_ctx,
						 backend->policy_server_id),
		.cbPfx = pfx.length,
		.pPfx = talloc_steal(mem_ctx, pfx.data),
	};
	TALLOC_FREE(tmp_ctx);
	if (store->pTemplateName == NULL ||
	    (backend->policy_server_url != NULL &&
	     store->pPolicyServerUrl == NULL) ||
	    (backend->policy_server_id != NULL &&
	     store->pPolicyServerId == NULL)) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}
