/*
 * The built-in issuing backend: a local CA whose certificate and private
 * key the admin supplies (odj provision ca_cert=... ca_key=...).  The key
 * is a file (PKCS #1, or PKCS #8 plain or encrypted, PEM or DER) or a
 * PKCS #11 URL: GnuTLS reaches the token through the modules p11-kit
 * lists, and signs there; the key never leaves it.
 *
 * It issues what AD CS issues for a template: subject CN and SAN dNSName
 * the machine's DNS name, the template's key usage and EKUs, validity
 * from pKIExpirationPeriod (cut at the CA's own end, backdated by the 10
 * minutes of AD CS's clock skew allowance), subject and authority key
 * ids, and Microsoft's certificate template extension: the template OID
 * and version for version 2+ templates (1.3.6.1.4.1.311.21.7), the
 * template name for version 1 ones (1.3.6.1.4.1.311.20.2).
 */

#include "dc/dc.h"

#include <inttypes.h>
#include <time.h>
#include <charset.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/pkcs11.h>

#define CA_FILE_MAX_SIZE (1024 * 1024)
#define CLOCK_SKEW (10 * 60)
#define SERIAL_SIZE 16
#define PKCS11_PREFIX "pkcs11:"
/* msPKI-Enrollment-Flag: leave that extension out ([MS-CRTD] 2.26) */
#define CT_FLAG_NO_SECURITY_EXTENSION 0x00080000
/* a template without key usage: what "Machine" has */
#define DEFAULT_KEY_USAGE (GNUTLS_KEY_DIGITAL_SIGNATURE | \
			   GNUTLS_KEY_KEY_ENCIPHERMENT)

struct local_ca {
	gnutls_x509_crt_t *certs;	/* [0] the CA, then its chain */
	unsigned int num_certs;
	gnutls_privkey_t key;
	DATA_BLOB *chain;		/* DER of certs[] */
	/* the key's password or the token's PIN, asked once */
	const struct odj_secret_source *source;
	const char *what;		/* the key, for the prompt */
	char *secret;
	bool no_secret;			/* needed, and none to be had */
	bool wrong_secret;		/* the token refused it */
};

static int local_ca_destructor(struct local_ca *ca)
{
	unsigned int i;

	for (i = 0; i < ca->num_certs; i++) {
		gnutls_x509_crt_deinit(ca->certs[i]);
	}
	gnutls_free(ca->certs);
	gnutls_privkey_deinit(ca->key);
	return 0;
}

static NTSTATUS load_certs(struct local_ca *ca, const char *path,
			   TALLOC_CTX *why_ctx, char **why)
{
	DATA_BLOB bytes = data_blob_null;
	gnutls_datum_t d;
	NTSTATUS status;
	unsigned int i;
	int ret;

	status = odj_file_read(ca, path, CA_FILE_MAX_SIZE, "a CA file",
			       ODJ_READ_REGULAR, &bytes, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(why_ctx, why, "CA certificate");
		return status;
	}
	d = odj_datum(bytes);
	ret = gnutls_x509_crt_list_import2(&ca->certs, &ca->num_certs, &d,
					   GNUTLS_X509_FMT_PEM, 0);
	if (ret < 0) {
		ret = gnutls_x509_crt_list_import2(&ca->certs,
						   &ca->num_certs, &d,
						   GNUTLS_X509_FMT_DER, 0);
	}
	if (ret < 0 || ca->num_certs == 0) {
		odj_why(why_ctx, why, "CA certificate %s: no X.509 "
			"certificate in it (PEM or DER): %s", path,
			gnutls_strerror(ret));
		return NT_STATUS_INVALID_PARAMETER;
	}
	ca->chain = talloc_zero_array(ca, DATA_BLOB, ca->num_certs);
	if (ca->chain == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < ca->num_certs; i++) {
		gnutls_datum_t der = { .data = NULL };

		if (gnutls_x509_crt_export2(ca->certs[i], GNUTLS_X509_FMT_DER,
					    &der) < 0) {
			return NT_STATUS_INTERNAL_ERROR;
		}
		ca->chain[i] = data_blob_talloc(ca->chain, der.data, der.size);
		gnutls_free(der.data);
		if (ca->chain[i].data == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	return NT_STATUS_OK;
}

/* The password or PIN, from the caller's source, asked once. */
static const char *ca_secret(struct local_ca *ca)
{
	if (ca->secret == NULL && !ca->no_secret && ca->source != NULL &&
	    ca->source->get != NULL) {
		ca->secret = ca->source->get(ca, ca->what,
					     ca->source->private_data);
		odj_wipe_on_free(ca->secret);
	}
	ca->no_secret = ca->secret == NULL;
	return ca->secret;
}

/* GnuTLS asks for the token's PIN; a wrong one is not tried again */
static int pin_callback(void *userdata, int attempt, const char *token_url,
			const char *token_label, unsigned int flags,
			char *pin, size_t pin_max)
{
	struct local_ca *ca = talloc_get_type_abort(userdata,
						    struct local_ca);
	const char *secret = NULL;

	if (attempt > 0 || (flags & GNUTLS_PIN_WRONG) != 0) {
		ca->wrong_secret = true;
		return GNUTLS_E_PKCS11_PIN_ERROR;
	}
	secret = ca_secret(ca);
	if (secret == NULL || strlen(secret) >= pin_max) {
		return GNUTLS_E_PKCS11_PIN_ERROR;
	}
	memcpy(pin, secret, strlen(secret) + 1);
	return 0;
}

static NTSTATUS load_pkcs11_key(struct local_ca *ca, const char *url,
				TALLOC_CTX *why_ctx, char **why)
{
	int ret;

	ret = gnutls_privkey_init(&ca->key);
	if (ret < 0) {
		return NT_STATUS_NO_MEMORY;
	}
	/* before the import, so that every login the key makes asks it */
	gnutls_privkey_set_pin_function(ca->key, pin_callback, ca);
	ret = gnutls_privkey_import_url(ca->key, url, 0);
	if (ret == 0) {
		return NT_STATUS_OK;
	}
	if (ca->no_secret) {
		odj_why(why_ctx, why, "CA key %s: the token wants its PIN "
			"and none was given", url);
		return NT_STATUS_WRONG_PASSWORD;
	}
	if (ca->wrong_secret || ret == GNUTLS_E_PKCS11_PIN_ERROR) {
		odj_why(why_ctx, why, "CA key %s: the token refused the PIN: "
			"%s", url, gnutls_strerror(ret));
		return NT_STATUS_WRONG_PASSWORD;
	}
	odj_why(why_ctx, why, "CA key %s: no private key there: %s", url,
		gnutls_strerror(ret));
	return NT_STATUS_OBJECT_NAME_NOT_FOUND;
}

/* PKCS #8 with encryption (PEM or DER), or OpenSSL's encrypted PEM */
static bool key_encrypted(gnutls_datum_t d)
{
	unsigned int schema = 0, cipher = 0;

	return gnutls_pkcs8_info(&d, GNUTLS_X509_FMT_PEM, &schema, &cipher,
				 NULL, NULL, NULL, NULL) >= 0 ||
	       gnutls_pkcs8_info(&d, GNUTLS_X509_FMT_DER, &schema, &cipher,
				 NULL, NULL, NULL, NULL) >= 0 ||
	       memmem(d.data, d.size, "Proc-Type: 4,ENCRYPTED", 22) != NULL;
}

static int import_key(gnutls_x509_privkey_t key, gnutls_datum_t d,
		      const char *password)
{
	unsigned int flags = password == NULL ? GNUTLS_PKCS_PLAIN : 0;
	int ret;

	ret = gnutls_x509_privkey_import2(key, &d, GNUTLS_X509_FMT_PEM,
					  password, flags);
	if (ret < 0 && ret != GNUTLS_E_DECRYPTION_FAILED) {
		ret = gnutls_x509_privkey_import2(key, &d,
						  GNUTLS_X509_FMT_DER,
						  password, flags);
	}
	return ret;
}

static NTSTATUS file_key(struct local_ca *ca, const char *path,
			 gnutls_x509_privkey_t key, gnutls_datum_t d,
			 TALLOC_CTX *why_ctx, char **why)
{
	const char *password = NULL;
	int ret;

	if (!key_encrypted(d)) {
		ret = import_key(key, d, NULL);
		if (ret < 0) {
			odj_why(why_ctx, why, "CA key %s: no private key in "
				"it (PEM or DER, PKCS #1 or #8): %s", path,
				gnutls_strerror(ret));
			return NT_STATUS_INVALID_PARAMETER;
		}
		return NT_STATUS_OK;
	}
	password = ca_secret(ca);
	if (password == NULL) {
		odj_why(why_ctx, why, "CA key %s is encrypted, and no "
			"password for it was given", path);
		return NT_STATUS_WRONG_PASSWORD;
	}
	ret = import_key(key, d, password);
	if (ret == GNUTLS_E_DECRYPTION_FAILED) {
		odj_why(why_ctx, why, "CA key %s: wrong password", path);
		return NT_STATUS_WRONG_PASSWORD;
	}
	if (ret < 0) {
		odj_why(why_ctx, why, "CA key %s: cannot decrypt it: %s",
			path, gnutls_strerror(ret));
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

static NTSTATUS load_file_key(struct local_ca *ca, const char *path,
			      TALLOC_CTX *why_ctx, char **why)
{
	gnutls_x509_privkey_t key = NULL;
	DATA_BLOB bytes = data_blob_null;
	NTSTATUS status;
	int ret;

	status = odj_file_read(ca, path, CA_FILE_MAX_SIZE, "a CA file",
			       ODJ_READ_REGULAR, &bytes, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(why_ctx, why, "CA key");
		return status;
	}
	odj_wipe_on_free(bytes.data);
	ret = gnutls_x509_privkey_init(&key);
	if (ret < 0) {
		TALLOC_FREE(bytes.data);
		return NT_STATUS_NO_MEMORY;
	}
	status = file_key(ca, path, key, odj_datum(bytes), why_ctx, why);
	TALLOC_FREE(bytes.data);
	if (NT_STATUS_IS_OK(status)) {
		ret = gnutls_privkey_init(&ca->key);
		if (ret == 0) {
			ret = gnutls_privkey_import_x509(
				ca->key, key, GNUTLS_PRIVKEY_IMPORT_COPY);
		}
		status = ret == 0 ? NT_STATUS_OK : NT_STATUS_INTERNAL_ERROR;
	}
	gnutls_x509_privkey_deinit(key);
	return status;
}

/* Whether @p key signs what the certificate's public key verifies. */
static bool key_matches(gnutls_privkey_t key, gnutls_x509_crt_t crt)
{
	static const char probe[] = "samba-odj: is this the CA's key?";
	gnutls_datum_t data = {
		.data = discard_const_p(unsigned char, probe),
		.size = sizeof(probe) - 1,
	};
	gnutls_datum_t sig = { .data = NULL };
	gnutls_pubkey_t pub = NULL;
	gnutls_sign_algorithm_t algo;
	int ret;

	ret = gnutls_pubkey_init(&pub);
	if (ret == 0) {
		ret = gnutls_pubkey_import_x509(pub, crt, 0);
	}
	if (ret == 0) {
		algo = gnutls_pk_to_sign(
			gnutls_pubkey_get_pk_algorithm(pub, NULL),
			GNUTLS_DIG_SHA256);
		ret = gnutls_privkey_sign_data(key, GNUTLS_DIG_SHA256, 0,
					       &data, &sig);
	}
	if (ret == 0) {
		ret = gnutls_pubkey_verify_data2(pub, algo, 0, &data, &sig);
	}
	gnutls_free(sig.data);
	gnutls_pubkey_deinit(pub);
	return ret >= 0;
}

/* The key is the certificate's, the certificate a CA's, valid now. */
static NTSTATUS check_ca(struct local_ca *ca, const char *cert_file,
			 const char *key_file, TALLOC_CTX *why_ctx,
			 char **why)
{
	gnutls_x509_crt_t crt = ca->certs[0];
	unsigned int critical = 0, is_ca = 0, usage = 0;
	time_t now = time(NULL);
	int pathlen, ret;

	if (!key_matches(ca->key, crt)) {
		odj_why(why_ctx, why, "CA key %s does not belong to the CA "
			"certificate %s%s", key_file, cert_file,
			ca->wrong_secret ? " (or the token refused the PIN)" :
			"");
		return NT_STATUS_INVALID_PARAMETER_MIX;
	}
	ret = gnutls_x509_crt_get_basic_constraints(crt, &critical, &is_ca,
						    &pathlen);
	if (ret < 0 || !is_ca) {
		odj_why(why_ctx, why, "CA certificate %s is not a CA "
			"certificate (basicConstraints CA:TRUE)", cert_file);
		return NT_STATUS_INVALID_PARAMETER;
	}
	ret = gnutls_x509_crt_get_key_usage(crt, &usage, &critical);
	if (ret >= 0 && !(usage & GNUTLS_KEY_KEY_CERT_SIGN)) {
		odj_why(why_ctx, why, "CA certificate %s may not sign "
			"certificates (keyUsage lacks keyCertSign)",
			cert_file);
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (now < gnutls_x509_crt_get_activation_time(crt) ||
	    now >= gnutls_x509_crt_get_expiration_time(crt)) {
		odj_why(why_ctx, why, "CA certificate %s is not valid now",
			cert_file);
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

/*
 * Certificate template extensions, DER by hand: GnuTLS only writes the
 * extensions it knows.
 */
static size_t der_len(uint8_t *p, size_t n)
{
	if (n < 0x80) {
		p[0] = n;
		return 1;
	}
	if (n < 0x100) {
		p[0] = 0x81;
		p[1] = n;
		return 2;
	}
	p[0] = 0x82;
	p[1] = n >> 8;
	p[2] = n & 0xff;
	return 3;
}

/* OID content octets of dotted text; 0 if it is no OID that fits. */
static size_t der_oid(const char *s, uint8_t *out, size_t max)
{
	uint64_t arcs[64];
	size_t n = 0, len = 0, i;
	char *end = NULL;

	while (n < ARRAY_SIZE(arcs)) {
		arcs[n++] = strtoull(s, &end, 10);
		if (end == s || (*end != '.' && *end != '\0')) {
			return 0;
		}
		if (*end == '\0') {
			break;
		}
		s = end + 1;
	}
	if (n < 2 || arcs[0] > 2 || (arcs[0] < 2 && arcs[1] > 39)) {
		return 0;
	}
	arcs[1] += 40 * arcs[0];
	for (i = 1; i < n; i++) {
		uint8_t tmp[10];
		size_t k = 0;
		uint64_t v = arcs[i];

		do {
			tmp[k++] = v & 0x7f;
			v >>= 7;
		} while (v != 0);
		if (len + k > max) {
			return 0;
		}
		while (k > 0) {
			k--;
			out[len++] = tmp[k] | (k > 0 ? 0x80 : 0);
		}
	}
	return len;
}

static size_t der_uint(uint8_t *p, uint32_t v)
{
	uint8_t b[5] = { 0, v >> 24, v >> 16, v >> 8, v };
	size_t i = 0;

	/* minimal two's complement: drop leading zeros, keep the sign */
	while (i < 4 && b[i] == 0 && (b[i + 1] & 0x80) == 0) {
		i++;
	}
	p[0] = 0x02;
	p[1] = 5 - i;
	memcpy(p + 2, b + i, 5 - i);
	return 2 + 5 - i;
}

/* SEQUENCE { templateID OID, majorVersion INTEGER, minorVersion INTEGER } */
static bool template_v2_ext(const struct odj_cert_template *t,
			    uint8_t *out, size_t *len)
{
	uint8_t body[200];
	size_t n = 0, oid_len;

	oid_len = der_oid(t->oid, body + 2, 120);
	if (oid_len == 0) {
		return false;
	}
	body[0] = 0x06;
	body[1] = oid_len;
	n = 2 + oid_len;
	n += der_uint(body + n, t->major_version);
	n += der_uint(body + n, t->minor_version);
	out[0] = 0x30;
	*len = 1 + der_len(out + 1, n);
	memcpy(out + *len, body, n);
	*len += n;
	return true;
}

/* BMPString of the template's name */
static bool template_v1_ext(TALLOC_CTX *ctx,
			    const struct odj_cert_template *t,
			    uint8_t *out, size_t *len)
{
	void *utf16 = NULL;
	size_t n = 0;

	if (!convert_string_talloc(ctx, CH_UTF8, CH_UTF16BE, t->name,
				   strlen(t->name), &utf16, &n) ||
	    n > 400) {
		return false;
	}
	out[0] = 0x1e;
	*len = 1 + der_len(out + 1, n);
	memcpy(out + *len, utf16, n);
	*len += n;
	TALLOC_FREE(utf16);
	return true;
}

static int set_template_ext(TALLOC_CTX *ctx, gnutls_x509_crt_t crt,
			    const struct odj_cert_template *t)
{
	uint8_t ext[512];
	size_t len = 0;

	if (t->oid != NULL && template_v2_ext(t, ext, &len)) {
		return gnutls_x509_crt_set_extension_by_oid(
			crt, OID_CERT_TEMPLATE_V2, ext, len, 0);
	}
	if (template_v1_ext(ctx, t, ext, &len)) {
		return gnutls_x509_crt_set_extension_by_oid(
			crt, OID_CERT_TEMPLATE_V1, ext, len, 0);
	}
	return 0;
}

/* @p tag, the length of @p body and @p body at @p out */
static size_t der_wrap(uint8_t tag, const uint8_t *body, size_t n,
		       uint8_t *out)
{
	size_t k;

	out[0] = tag;
	k = 1 + der_len(out + 1, n);
	memmove(out + k, body, n);
	return k + n;
}

/*
 * szOID_NTDS_CA_SECURITY_EXT ([MS-WCCE] 2.2.2.7.7.4): the account's SID
 * as an otherName in a SEQUENCE,
 *   SEQUENCE { [0] { OID 1.3.6.1.4.1.311.25.2.1, [0] { OCTET STRING sid } } }
 * which DCs use for strong certificate mapping (KB5014754).  @p out has
 * room for 256 bytes.
 */
static bool security_ext(const char *sid, uint8_t *out, size_t *len)
{
	uint8_t oid[20], a[256], b[256];
	size_t n, m, oid_len, sid_len = strlen(sid);

	/* every piece below then fits 256 bytes */
	if (sid_len > 200) {
		return false;
	}
	oid_len = der_oid(OID_NTDS_OBJECTSID, oid, sizeof(oid));
	if (oid_len == 0 || oid_len > sizeof(oid)) {
		return false;
	}
	n = der_wrap(0x04, (const uint8_t *)sid, sid_len, a);
	n = der_wrap(0xa0, a, n, b);		/* value [0] */
	m = der_wrap(0x06, oid, oid_len, a);	/* type-id */
	if (m + n > sizeof(a) - 4) {
		return false;
	}
	memcpy(a + m, b, n);
	n = der_wrap(0xa0, a, m + n, b);	/* otherName [0] */
	*len = der_wrap(0x30, b, n, out);
	return true;
}

static int set_security_ext(gnutls_x509_crt_t crt,
			    const struct odj_cert_template *t, const char *sid)
{
	uint8_t ext[256];
	size_t len = 0;

	if (sid == NULL ||
	    (t->enrollment_flags & CT_FLAG_NO_SECURITY_EXTENSION) != 0) {
		return 0;
	}
	if (!security_ext(sid, ext, &len)) {
		return GNUTLS_E_INVALID_REQUEST;
	}
	return gnutls_x509_crt_set_extension_by_oid(
		crt, OID_NTDS_CA_SECURITY_EXT, ext, len, 0);
}

static int set_validity(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca,
			const struct odj_cert_template *t)
{
	time_t now = time(NULL);
	time_t ca_start = gnutls_x509_crt_get_activation_time(ca);
	time_t ca_end = gnutls_x509_crt_get_expiration_time(ca);
	time_t start = now - CLOCK_SKEW;
	time_t end = now + (time_t)t->validity;
	int ret;

	/* within the CA's own validity, as AD CS issues */
	if (start < ca_start) {
		start = ca_start;
	}
	if (t->validity > (uint64_t)100 * 366 * 24 * 3600 || end > ca_end) {
		end = ca_end;
	}
	ret = gnutls_x509_crt_set_activation_time(crt, start);
	if (ret == 0) {
		ret = gnutls_x509_crt_set_expiration_time(crt, end);
	}
	return ret;
}

static int set_serial(gnutls_x509_crt_t crt)
{
	uint8_t serial[SERIAL_SIZE];
	int ret;

	ret = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	if (ret < 0) {
		return ret;
	}
	serial[0] = (serial[0] & 0x7f) | 0x40;	/* positive, full length */
	return gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
}

static int set_key_ids(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca,
		       gnutls_pubkey_t pub)
{
	uint8_t id[64];
	size_t size = sizeof(id);
	unsigned int critical = 0;
	int ret;

	ret = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA1, id, &size);
	if (ret == 0) {
		ret = gnutls_x509_crt_set_subject_key_id(crt, id, size);
	}
	if (ret < 0) {
		return ret;
	}
	/*
	 * The authority key id names the CA's subject key id; a CA without
	 * one gets none (verifiers would match it against nothing).
	 */
	size = sizeof(id);
	ret = gnutls_x509_crt_get_subject_key_id(ca, id, &size, &critical);
	if (ret < 0) {
		return 0;
	}
	return gnutls_x509_crt_set_authority_key_id(crt, id, size);
}

static int set_usage(gnutls_x509_crt_t crt, const struct odj_cert_template *t)
{
	size_t i;
	int ret;

	ret = gnutls_x509_crt_set_basic_constraints(crt, 0, -1);
	if (ret == 0) {
		ret = gnutls_x509_crt_set_key_usage(crt, t->key_usage != 0 ?
						    t->key_usage :
						    DEFAULT_KEY_USAGE);
	}
	for (i = 0; ret == 0 && t->ekus != NULL && t->ekus[i] != NULL; i++) {
		ret = gnutls_x509_crt_set_key_purpose_oid(crt, t->ekus[i], 0);
	}
	return ret;
}

static int build_cert(TALLOC_CTX *ctx, struct local_ca *ca,
		      gnutls_x509_crt_t crt, gnutls_pubkey_t pub,
		      const struct odj_cert_template *t, const char *dns_name,
		      const char *sid)
{
	int ret;

	ret = gnutls_x509_crt_set_version(crt, 3);
	if (ret == 0) {
		ret = set_serial(crt);
	}
	if (ret == 0) {
		ret = set_validity(crt, ca->certs[0], t);
	}
	if (ret == 0) {
		ret = gnutls_x509_crt_set_pubkey(crt, pub);
	}
	if (ret == 0) {
		ret = gnutls_x509_crt_set_dn_by_oid(
			crt, GNUTLS_OID_X520_COMMON_NAME, 0, dns_name,
			strlen(dns_name));
	}
	if (ret == 0) {
		ret = gnutls_x509_crt_set_subject_alt_name(
			crt, GNUTLS_SAN_DNSNAME, dns_name, strlen(dns_name),
			GNUTLS_FSAN_SET);
	}
	if (ret == 0) {
		ret = set_usage(crt, t);
	}
	if (ret == 0) {
		ret = set_key_ids(crt, ca->certs[0], pub);
	}
	if (ret == 0) {
		ret = set_template_ext(ctx, crt, t);
	}
	if (ret == 0) {
		ret = set_security_ext(crt, t, sid);
	}
	if (ret == 0) {
		ret = gnutls_x509_crt_privkey_sign(crt, ca->certs[0], ca->key,
						   GNUTLS_DIG_SHA256, 0);
	}
	return ret;
}

/* The request's public key, if the request is signed by it. */
static int request_key(DATA_BLOB csr, gnutls_pubkey_t *pub)
{
	gnutls_x509_crq_t crq = NULL;
	gnutls_datum_t d = odj_datum(csr);
	int ret;

	ret = gnutls_x509_crq_init(&crq);
	if (ret == 0) {
		ret = gnutls_x509_crq_import(crq, &d, GNUTLS_X509_FMT_DER);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_verify(crq, 0);
	}
	if (ret == 0) {
		ret = gnutls_pubkey_init(pub);
	}
	if (ret == 0) {
		ret = gnutls_pubkey_import_x509_crq(*pub, crq, 0);
	}
	gnutls_x509_crq_deinit(crq);
	return ret;
}

static NTSTATUS local_issue(struct odj_ca_backend *backend,
			    TALLOC_CTX *mem_ctx,
			    const struct odj_cert_template *tmpl,
			    DATA_BLOB csr,
			    const char *dns_name,
			    const char *sid,
			    const struct odj_ca_machine *machine,
			    DATA_BLOB *cert,
			    DATA_BLOB **chain,
			    size_t *num_chain,
			    char **why)
{
	struct local_ca *ca = talloc_get_type_abort(backend->private_data,
						    struct local_ca);
	gnutls_pubkey_t pub = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t der = { .data = NULL };
	DATA_BLOB *c = NULL;
	unsigned int i;
	int ret;

	ret = request_key(csr, &pub);
	if (ret < 0) {
		gnutls_pubkey_deinit(pub);
		odj_why(mem_ctx, why, "local CA: bad certificate request: %s",
			gnutls_strerror(ret));
		return NT_STATUS_INVALID_PARAMETER;
	}
	ret = gnutls_x509_crt_init(&crt);
	if (ret == 0) {
		ret = build_cert(mem_ctx, ca, crt, pub, tmpl, dns_name, sid);
	}
	if (ret == 0) {
		ret = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der);
	}
	gnutls_x509_crt_deinit(crt);
	gnutls_pubkey_deinit(pub);
	if (ret < 0) {
		odj_why(mem_ctx, why, "local CA: cannot issue: %s",
			gnutls_strerror(ret));
		return NT_STATUS_INTERNAL_ERROR;
	}
	*cert = data_blob_talloc(mem_ctx, der.data, der.size);
	gnutls_free(der.data);
	c = talloc_zero_array(mem_ctx, DATA_BLOB, ca->num_certs);
	if (cert->data == NULL || c == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < ca->num_certs; i++) {
		c[i] = data_blob_talloc(c, ca->chain[i].data,
					ca->chain[i].length);
		if (c[i].data == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	*chain = c;
	*num_chain = ca->num_certs;
	return NT_STATUS_OK;
}

static const struct odj_ca_backend_ops local_ops = {
	.name = "local CA",
	.issue = local_issue,
};

NTSTATUS odj_ca_backend_local(TALLOC_CTX *mem_ctx,
			      const char *ca_cert_file,
			      const char *ca_key,
			      const struct odj_secret_source *secret,
			      struct odj_ca_backend **_backend,
			      char **why)
{
	struct odj_ca_backend *backend = NULL;
	struct local_ca *ca = NULL;
	NTSTATUS status;

	if (ca_cert_file == NULL || ca_key == NULL || _backend == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	backend = talloc_zero(mem_ctx, struct odj_ca_backend);
	ca = talloc_zero(backend, struct local_ca);
	if (backend == NULL || ca == NULL) {
		TALLOC_FREE(backend);
		return NT_STATUS_NO_MEMORY;
	}
	talloc_set_destructor(ca, local_ca_destructor);
	ca->source = secret;
	ca->what = talloc_strdup(ca, ca_key);
	status = ca->what != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	if (NT_STATUS_IS_OK(status)) {
		status = load_certs(ca, ca_cert_file, mem_ctx, why);
	}
	if (NT_STATUS_IS_OK(status) &&
	    strncasecmp(ca_key, PKCS11_PREFIX, strlen(PKCS11_PREFIX)) == 0) {
		status = load_pkcs11_key(ca, ca_key, mem_ctx, why);
	} else if (NT_STATUS_IS_OK(status)) {
		status = load_file_key(ca, ca_key, mem_ctx, why);
		/* a token may ask again; a decrypted key never does */
		TALLOC_FREE(ca->secret);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = check_ca(ca, ca_cert_file, ca_key, mem_ctx, why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(backend);
		return status;
	}
	backend->ops = &local_ops;
	backend->private_data = ca;
	*_backend = backend;
	return NT_STATUS_OK;
}
