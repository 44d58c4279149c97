/*
 * A certificate's fields for display (dump, requestodj's report): subject,
 * issuer, validity, key usages, the certificate template it was issued
 * from.  Local only: it links no DC-side code.
 */

#include "codec/codec.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <charset.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/x509-ext.h>

static char *hex_upper(TALLOC_CTX *ctx, const uint8_t *p, size_t len)
{
	char *s = talloc_array(ctx, char, len * 2 + 1);
	size_t i;

	if (s == NULL) {
		return NULL;
	}
	for (i = 0; i < len; i++) {
		snprintf(s + 2 * i, 3, "%02X", p[i]);
	}
	s[len * 2] = '\0';
	return s;
}

/* A DER OBJECT IDENTIFIER's content octets as dotted text. */
static char *oid_text(TALLOC_CTX *ctx, const uint8_t *p, size_t len)
{
	char *s = NULL;
	uint64_t v = 0;
	size_t i;

	if (len == 0 || (p[len - 1] & 0x80) != 0) {
		return NULL;
	}
	for (i = 0; i < len; i++) {
		if (v > (UINT64_MAX >> 7)) {
			return NULL;
		}
		v = (v << 7) | (p[i] & 0x7f);
		if (p[i] & 0x80) {
			continue;
		}
		if (s == NULL) {
			unsigned a = v < 80 ? v / 40 : 2;

			s = talloc_asprintf(ctx, "%u.%" PRIu64, a, v - 40 * a);
		} else {
			s = talloc_asprintf_append_buffer(s, ".%" PRIu64, v);
		}
		if (s == NULL) {
			return NULL;
		}
		v = 0;
	}
	return s;
}

/* A DER TLV at p: tag, then the content's position and length. */
static bool der_tlv(const uint8_t *p, size_t len, uint8_t tag,
		    const uint8_t **content, size_t *clen)
{
	size_t n, i, hdr = 2;

	if (len < 2 || p[0] != tag) {
		return false;
	}
	n = p[1];
	if (n & 0x80) {
		size_t k = n & 0x7f;

		if (k == 0 || k > 3 || len < 2 + k) {
			return false;
		}
		for (n = 0, i = 0; i < k; i++) {
			n = (n << 8) | p[2 + i];
		}
		hdr += k;
	}
	if (n > len - hdr) {
		return false;
	}
	*content = p + hdr;
	*clen = n;
	return true;
}

/* The template a certificate names: v2 OID or v1 name. */
static const char *cert_template_name(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	gnutls_datum_t ext = { .data = NULL };
	const uint8_t *c = NULL, *o = NULL;
	size_t clen = 0, olen = 0;
	char *name = NULL;
	unsigned critical = 0;
	size_t n;

	if (gnutls_x509_crt_get_extension_by_oid2(crt, OID_CERT_TEMPLATE_V2,
						  0, &ext, &critical) == 0) {
		if (der_tlv(ext.data, ext.size, 0x30, &c, &clen) &&
		    der_tlv(c, clen, 0x06, &o, &olen)) {
			name = oid_text(ctx, o, olen);
		}
	} else if (gnutls_x509_crt_get_extension_by_oid2(
			   crt, OID_CERT_TEMPLATE_V1, 0, &ext,
			   &critical) == 0) {
		if (der_tlv(ext.data, ext.size, 0x1e, &c, &clen) &&
		    clen % 2 == 0 &&
		    !convert_string_talloc(ctx, CH_UTF16BE, CH_UTF8, c, clen,
					   &name, &n)) {
			name = NULL;
		}
	}
	gnutls_free(ext.data);
	return name;
}

static char *crt_dn(TALLOC_CTX *ctx, gnutls_x509_crt_t crt, bool issuer)
{
	gnutls_datum_t d = { .data = NULL };
	char *s = NULL;
	int ret;

	ret = issuer ? gnutls_x509_crt_get_issuer_dn3(crt, &d, 0) :
		       gnutls_x509_crt_get_dn3(crt, &d, 0);
	if (ret == 0) {
		s = talloc_strndup(ctx, (const char *)d.data, d.size);
	}
	gnutls_free(d.data);
	return s;
}

static char *crt_common_name(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	char buf[256];
	size_t size = sizeof(buf);

	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
					  0, buf, &size) != 0) {
		return NULL;
	}
	return talloc_strndup(ctx, buf, size);
}

static bool fill_lists(struct odj_cert_info *info, gnutls_x509_crt_t crt)
{
	char buf[1024];
	size_t size;
	unsigned i, critical;
	int ret;

	for (i = 0; i < 64; i++) {
		size = sizeof(buf);
		ret = gnutls_x509_crt_get_key_purpose_oid(crt, i, buf, &size,
							  &critical);
		if (ret < 0) {
			break;
		}
		if (!odj_str_list_add(info, &info->ekus, buf)) {
			return false;
		}
	}
	for (i = 0; i < 64; i++) {
		size = sizeof(buf) - 1;
		ret = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &size,
							   &critical);
		if (ret == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
			break;
		}
		if (ret != GNUTLS_SAN_DNSNAME) {
			continue;
		}
		buf[size] = '\0';
		if (!odj_str_list_add(info, &info->dns_names, buf)) {
			return false;
		}
	}
	return true;
}

/*
 * The account SID in szOID_NTDS_CA_SECURITY_EXT (strong certificate
 * mapping): an otherName of a GeneralNames, whose value is the SID's
 * text as an OCTET STRING.
 */
static const char *cert_account_sid(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	gnutls_datum_t ext = { .data = NULL };
	gnutls_datum_t san = { .data = NULL }, oid = { .data = NULL };
	gnutls_subject_alt_names_t sans = NULL;
	unsigned int critical = 0, type = 0, i;
	const uint8_t *c = NULL;
	size_t clen = 0;
	char *sid = NULL;

	if (gnutls_x509_crt_get_extension_by_oid2(
		    crt, OID_NTDS_CA_SECURITY_EXT, 0, &ext, &critical) != 0) {
		return NULL;
	}
	if (gnutls_subject_alt_names_init(&sans) != 0) {
		gnutls_free(ext.data);
		return NULL;
	}
	if (gnutls_x509_ext_import_subject_alt_names(&ext, sans, 0) == 0) {
		for (i = 0; sid == NULL &&
			    gnutls_subject_alt_names_get(sans, i, &type, &san,
							 &oid) == 0;
		     i++) {
			if (type == GNUTLS_SAN_OTHERNAME && oid.data != NULL &&
			    strcmp((char *)oid.data, OID_NTDS_OBJECTSID) == 0 &&
			    der_tlv(san.data, san.size, 0x04, &c, &clen)) {
				sid = talloc_strndup(ctx, (const char *)c,
						     clen);
			}
		}
	}
	gnutls_subject_alt_names_deinit(sans);
	gnutls_free(ext.data);
	return sid;
}

static bool fill_info(struct odj_cert_info *info, gnutls_x509_crt_t crt)
{
	uint8_t buf[64];
	size_t size = sizeof(buf);
	unsigned bits = 0, critical = 0, ca = 0;
	int alg, pathlen;

	info->subject = crt_dn(info, crt, false);
	info->issuer = crt_dn(info, crt, true);
	info->common_name = crt_common_name(info, crt);
	if (info->subject == NULL || info->issuer == NULL ||
	    gnutls_x509_crt_get_serial(crt, buf, &size) != 0) {
		return false;
	}
	info->serial = hex_upper(info, buf, size);
	size = sizeof(buf);
	if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1, buf,
					    &size) != 0) {
		return false;
	}
	info->sha1 = hex_upper(info, buf, size);
	info->not_before = gnutls_x509_crt_get_activation_time(crt);
	info->not_after = gnutls_x509_crt_get_expiration_time(crt);
	if (gnutls_x509_crt_get_basic_constraints(crt, &critical, &ca,
						  &pathlen) >= 0) {
		info->is_ca = ca != 0;
	}
	alg = gnutls_x509_crt_get_pk_algorithm(crt, &bits);
	info->public_key = talloc_asprintf(
		info, "%s %u", alg >= 0 ? gnutls_pk_algorithm_get_name(alg) :
		"unknown", bits);
	info->template_name = cert_template_name(info, crt);
	info->account_sid = cert_account_sid(info, crt);
	return info->serial != NULL && info->sha1 != NULL &&
	       info->public_key != NULL && fill_lists(info, crt);
}

NTSTATUS odj_cert_info(TALLOC_CTX *mem_ctx,
		       DATA_BLOB der,
		       struct odj_cert_info **_info,
		       char **why)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = odj_datum(der);
	struct odj_cert_info *info = NULL;
	int ret;

	if (_info == NULL || der.data == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	ret = gnutls_x509_crt_init(&crt);
	if (ret < 0) {
		return NT_STATUS_NO_MEMORY;
	}
	ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (ret < 0) {
		gnutls_x509_crt_deinit(crt);
		odj_why(mem_ctx, why, "not an X.509 certificate: %s",
			gnutls_strerror(ret));
		return NT_STATUS_INVALID_PARAMETER;
	}
	info = talloc_zero(mem_ctx, struct odj_cert_info);
	if (info == NULL || !fill_info(info, crt)) {
		gnutls_x509_crt_deinit(crt);
		TALLOC_FREE(info);
		return NT_STATUS_NO_MEMORY;
	}
	gnutls_x509_crt_deinit(crt);
	*_info = info;
	return NT_STATUS_OK;
}

const char *odj_cert_eku_name(const char *oid)
{
	static const struct {
		const char *oid;
		const char *name;
	} names[] = {
		{ "1.3.6.1.5.5.7.3.1", "serverAuth" },
		{ "1.3.6.1.5.5.7.3.2", "clientAuth" },
		{ "1.3.6.1.5.5.7.3.3", "codeSigning" },
		{ "1.3.6.1.5.5.7.3.4", "emailProtection" },
		{ "1.3.6.1.5.5.7.3.5", "ipsecEndSystem" },
		{ "1.3.6.1.5.5.7.3.6", "ipsecTunnel" },
		{ "1.3.6.1.5.5.7.3.7", "ipsecUser" },
		{ "1.3.6.1.5.5.7.3.8", "timeStamping" },
		{ "1.3.6.1.5.5.7.3.9", "OCSPSigning" },
		{ "1.3.6.1.5.5.8.2.2", "iKEIntermediate" },
		{ "1.3.6.1.5.2.3.5", "pkinitKDC" },
		{ "1.3.6.1.4.1.311.20.2.2", "smartcardLogon" },
		{ "1.3.6.1.4.1.311.10.3.4", "encryptedFileSystem" },
		{ "1.3.6.1.4.1.311.10.3.12", "documentSigning" },
		{ "2.5.29.37.0", "anyExtendedKeyUsage" },
	};
	size_t i;

	if (oid == NULL) {
		return NULL;
	}
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(oid, names[i].oid) == 0) {
			return names[i].name;
		}
	}
	return NULL;
}
