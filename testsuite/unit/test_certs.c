/*
 * samba-odj unit tests: certificates (odj_sst.c, odj_pfx.c, odj_certs.c,
 * odj_ca_local.c): the serialized store format, PFX files, issuing with
 * the local CA backend, installing a CERT part, and the CERT part's NDR.
 *
 * Keys and CAs are made here with GnuTLS, in a temporary directory.
 */

#include "odj_test.h"
#include <ftw.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>
#include <gnutls/x509-ext.h>

#ifndef discard_const_p
#define discard_const_p(type, ptr) ((type *)((intptr_t)(ptr)))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define TEMPLATE_OID "1.3.6.1.4.1.311.21.8.1234567.7654321.1.1.1.100"
#define SERVER_AUTH "1.3.6.1.5.5.7.3.1"
#define CLIENT_AUTH "1.3.6.1.5.5.7.3.2"

/*
 * Keys and certificates
 */

static gnutls_x509_privkey_t new_key(unsigned bits)
{
	gnutls_x509_privkey_t key = NULL;

	assert_int_equal(gnutls_x509_privkey_init(&key), 0);
	assert_int_equal(gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA,
						      bits, 0), 0);
	return key;
}

/*
 * A certificate GnuTLS has just signed keeps stale cached fields (its
 * raw subject DN), and verification against it then finds no signer:
 * export and import it again.
 */
static gnutls_x509_crt_t reimported(gnutls_x509_crt_t crt)
{
	gnutls_x509_crt_t fresh = NULL;
	gnutls_datum_t d = { .data = NULL };

	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
						 &d), 0);
	assert_int_equal(gnutls_x509_crt_init(&fresh), 0);
	assert_int_equal(gnutls_x509_crt_import(fresh, &d,
						GNUTLS_X509_FMT_DER), 0);
	gnutls_free(d.data);
	gnutls_x509_crt_deinit(crt);
	return fresh;
}

/* A self-signed certificate; a CA's when @p ca. */
static gnutls_x509_crt_t self_signed(gnutls_x509_privkey_t key,
				     const char *cn, bool ca, time_t start,
				     time_t end)
{
	gnutls_x509_crt_t crt = NULL;
	uint8_t serial[8] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07 };

	serial[7] = cn[0];
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_set_version(crt, 3), 0);
	assert_int_equal(gnutls_x509_crt_set_serial(crt, serial,
						    sizeof(serial)), 0);
	assert_int_equal(gnutls_x509_crt_set_activation_time(crt, start), 0);
	assert_int_equal(gnutls_x509_crt_set_expiration_time(crt, end), 0);
	assert_int_equal(gnutls_x509_crt_set_dn_by_oid(
				 crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
				 strlen(cn)), 0);
	assert_int_equal(gnutls_x509_crt_set_key(crt, key), 0);
	assert_int_equal(gnutls_x509_crt_set_basic_constraints(crt, ca, -1),
			 0);
	if (ca) {
		assert_int_equal(gnutls_x509_crt_set_key_usage(
					 crt, GNUTLS_KEY_KEY_CERT_SIGN |
					 GNUTLS_KEY_CRL_SIGN), 0);
	}
	assert_int_equal(gnutls_x509_crt_sign2(crt, crt, key,
					       GNUTLS_DIG_SHA256, 0), 0);
	return reimported(crt);
}

static DATA_BLOB crt_der(TALLOC_CTX *ctx, gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = { .data = NULL };
	DATA_BLOB b;

	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER,
						 &d), 0);
	b = data_blob_talloc(ctx, d.data, d.size);
	gnutls_free(d.data);
	return b;
}

static DATA_BLOB key_der(TALLOC_CTX *ctx, gnutls_x509_privkey_t key)
{
	gnutls_datum_t d = { .data = NULL };
	DATA_BLOB b;

	assert_int_equal(gnutls_x509_privkey_export2_pkcs8(
				 key, GNUTLS_X509_FMT_DER, NULL,
				 GNUTLS_PKCS_PLAIN, &d), 0);
	b = data_blob_talloc(ctx, d.data, d.size);
	gnutls_free(d.data);
	return b;
}

static void write_file(const char *path, const void *p, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_crt(const char *path, gnutls_x509_crt_t crt)
{
	gnutls_datum_t d = { .data = NULL };

	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM,
						 &d), 0);
	write_file(path, d.data, d.size);
	gnutls_free(d.data);
}

static void write_key(const char *path, gnutls_x509_privkey_t key)
{
	gnutls_datum_t d = { .data = NULL };

	assert_int_equal(gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM,
						     &d), 0);
	write_file(path, d.data, d.size);
	gnutls_free(d.data);
}

/* A directory for one test, removed with everything in it. */
struct scratch {
	char dir[64];
};

static void scratch_init(struct scratch *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/odj-certs-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void scratch_free(struct scratch *s)
{
	nftw(s->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static char *in_scratch(TALLOC_CTX *ctx, struct scratch *s, const char *name)
{
	return talloc_asprintf(ctx, "%s/%s", s->dir, name);
}

/* A CA, written as ca.pem and ca-key.pem */
struct test_ca {
	gnutls_x509_privkey_t key;
	gnutls_x509_crt_t crt;
	char *cert_file;
	char *key_file;
};

static void make_ca(TALLOC_CTX *ctx, struct scratch *s, struct test_ca *ca)
{
	time_t now = time(NULL);

	ca->key = new_key(2048);
	ca->crt = self_signed(ca->key, "ODJ Unit Test CA", true, now - 3600,
			      now + 10 * 365 * 86400);
	ca->cert_file = in_scratch(ctx, s, "ca.pem");
	ca->key_file = in_scratch(ctx, s, "ca-key.pem");
	write_crt(ca->cert_file, ca->crt);
	write_key(ca->key_file, ca->key);
}

static void free_ca(struct test_ca *ca)
{
	gnutls_x509_crt_deinit(ca->crt);
	gnutls_x509_privkey_deinit(ca->key);
	TALLOC_FREE(ca->cert_file);
	TALLOC_FREE(ca->key_file);
}

static const char *template_ekus[] = { SERVER_AUTH, CLIENT_AUTH, NULL };

static struct odj_cert_template machine_template = {
	.name = "OdjMachine",
	.display_name = "ODJ Machine",
	.oid = TEMPLATE_OID,
	.major_version = 100,
	.minor_version = 3,
	.ekus = template_ekus,
	.key_usage = GNUTLS_KEY_DIGITAL_SIGNATURE |
		     GNUTLS_KEY_KEY_ENCIPHERMENT,
	.min_key_bits = 2048,
	.validity = 365 * 86400,
	.private_key_flags = 0x10,
};

/*
 * SST
 */

static void test_sst_layout(void **state)
{
	TALLOC_CTX *ctx = *state;
	gnutls_x509_privkey_t key = new_key(2048);
	gnutls_x509_crt_t crt = self_signed(key, "Root", true, time(NULL),
					    time(NULL) + 86400);
	DATA_BLOB der = crt_der(ctx, crt);
	struct odj_sst *sst = talloc_zero(ctx, struct odj_sst);
	DATA_BLOB bytes;
	uint8_t sha1[20];
	size_t size = sizeof(sha1);
	const uint8_t *p = NULL;

	assert_int_equal(gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA1,
							 sha1, &size), 0);
	assert_nt_ok(odj_sst_add_cert(sst, der, NULL));
	assert_nt_ok(odj_sst_push(ctx, sst, &bytes));

	/* header, SHA-1 property, certificate, end marker */
	assert_int_equal(bytes.length, 8 + 12 + 20 + 12 + der.length + 12);
	p = bytes.data;
	assert_memory_equal(p, "\0\0\0\0CERT", 8);
	assert_memory_equal(p + 8, "\x03\0\0\0\x01\0\0\0\x14\0\0\0", 12);
	assert_memory_equal(p + 20, sha1, 20);
	assert_memory_equal(p + 40, "\x20\0\0\0\x01\0\0\0", 8);
	assert_int_equal(p[48] | p[49] << 8 | p[50] << 16, der.length);
	assert_memory_equal(p + 52, der.data, der.length);
	assert_memory_equal(p + 52 + der.length,
			    "\0\0\0\0\0\0\0\0\0\0\0\0", 12);

	TALLOC_FREE(bytes.data);
	TALLOC_FREE(sst);
	TALLOC_FREE(der.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static void test_sst_round_trip(void **state)
{
	TALLOC_CTX *ctx = *state;
	gnutls_x509_privkey_t key = new_key(2048);
	gnutls_x509_crt_t a = self_signed(key, "Root A", true, time(NULL),
					  time(NULL) + 86400);
	gnutls_x509_crt_t b = self_signed(key, "Root B", true, time(NULL),
					  time(NULL) + 86400);
	DATA_BLOB da = crt_der(ctx, a), db = crt_der(ctx, b);
	struct odj_sst *sst = talloc_zero(ctx, struct odj_sst);
	struct odj_sst *back = NULL;
	DATA_BLOB bytes, again;
	char *why = NULL;

	assert_nt_ok(odj_sst_add_cert(sst, da, "Root \xc3\x84"));
	assert_nt_ok(odj_sst_add_cert(sst, db, NULL));
	assert_nt_ok(odj_sst_push(ctx, sst, &bytes));
	assert_nt_ok(odj_sst_parse(ctx, bytes, &back, &why));
	assert_null(why);

	assert_int_equal(back->num_elements, 2);
	assert_int_equal(back->elements[0].id, ODJ_SST_ELEMENT_CERT);
	assert_blob_equal(back->elements[0].data, da);
	assert_blob_equal(back->elements[1].data, db);
	assert_int_equal(back->elements[0].num_props, 2);
	assert_int_equal(back->elements[0].props[0].id,
			 ODJ_SST_PROP_SHA1_HASH);
	assert_int_equal(back->elements[0].props[1].id,
			 ODJ_SST_PROP_FRIENDLY_NAME);
	/* UTF-16LE "Root Ä" and its NUL */
	assert_int_equal(back->elements[0].props[1].value.length, 14);
	assert_memory_equal(back->elements[0].props[1].value.data + 10,
			    "\xc4\0\0\0", 4);
	assert_int_equal(back->elements[1].num_props, 1);

	/* and back to the same bytes */
	assert_nt_ok(odj_sst_push(ctx, back, &again));
	assert_blob_equal(bytes, again);

	TALLOC_FREE(again.data);
	TALLOC_FREE(back);
	TALLOC_FREE(bytes.data);
	TALLOC_FREE(sst);
	TALLOC_FREE(da.data);
	TALLOC_FREE(db.data);
	gnutls_x509_crt_deinit(a);
	gnutls_x509_crt_deinit(b);
	gnutls_x509_privkey_deinit(key);
}

/*
 * A store as Windows' CertSaveStore() writes one from a memory store
 * (Wine's crypt32 test serializedStoreWithCert, checked against
 * Windows): the certificate alone, no properties, the end marker.
 */
static void test_sst_without_properties(void **state)
{
	TALLOC_CTX *ctx = *state;
	static const uint8_t fake_cert[124] = { 0x30, 0x7a };
	DATA_BLOB cert = data_blob_const(fake_cert, sizeof(fake_cert));
	DATA_BLOB bytes = data_blob_talloc_zero(ctx, 20 + 124 + 12);
	struct odj_sst *sst = NULL;
	DATA_BLOB again;

	memcpy(bytes.data, "\0\0\0\0CERT\x20\0\0\0\x01\0\0\0\x7c\0\0\0", 20);
	memcpy(bytes.data + 20, fake_cert, sizeof(fake_cert));
	assert_nt_ok(odj_sst_parse(ctx, bytes, &sst, NULL));
	assert_int_equal(sst->num_elements, 1);
	assert_int_equal(sst->elements[0].num_props, 0);
	assert_blob_equal(sst->elements[0].data, cert);
	assert_nt_ok(odj_sst_push(ctx, sst, &again));
	assert_blob_equal(bytes, again);
	TALLOC_FREE(again.data);
	TALLOC_FREE(sst);

	/* Wine's own writer may stop without the end marker */
	bytes.length -= 12;
	assert_nt_ok(odj_sst_parse(ctx, bytes, &sst, NULL));
	assert_int_equal(sst->num_elements, 1);
	TALLOC_FREE(sst);
	TALLOC_FREE(bytes.data);
}

static void test_sst_bad(void **state)
{
	TALLOC_CTX *ctx = *state;
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} bad[] = {
		{ "empty", "", 0 },
		{ "short header", "\0\0\0\0CER", 7 },
		{ "wrong magic", "\0\0\0\0CERX", 8 },
		{ "version 1", "\1\0\0\0CERT", 8 },
		{ "element header cut", "\0\0\0\0CERT\x20\0\0\0\1\0", 14 },
		{ "length past the end",
		  "\0\0\0\0CERT\x20\0\0\0\1\0\0\0\xff\xff\xff\xff\x30", 21 },
		{ "property without certificate",
		  "\0\0\0\0CERT\x03\0\0\0\1\0\0\0\0\0\0\0", 20 },
		{ "end marker with a length",
		  "\0\0\0\0CERT\0\0\0\0\0\0\0\0\1\0\0\0\0", 21 },
		{ "end marker with an encoding",
		  "\0\0\0\0CERT\0\0\0\0\0\0\4\0\0\0\0\0", 20 },
		{ "data after the end marker",
		  "\0\0\0\0CERT\0\0\0\0\0\0\0\0\0\0\0\0\0", 21 },
		{ "dangling property before end",
		  "\0\0\0\0CERT\x03\0\0\0\1\0\0\0\0\0\0\0"
		  "\0\0\0\0\0\0\0\0\0\0\0\0", 32 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct odj_sst *sst = NULL;
		char *why = NULL;
		NTSTATUS status;

		status = odj_sst_parse(ctx, data_blob_const(bad[i].bytes,
							    bad[i].len),
				       &sst, &why);
		if (NT_STATUS_IS_OK(status)) {
			fail_msg("accepted: %s", bad[i].name);
		}
		assert_null(sst);
		assert_why(why, "SST");
		TALLOC_FREE(why);
	}
}

/*
 * Certificates and PFX
 */

static void test_cert_info(void **state)
{
	TALLOC_CTX *ctx = *state;
	gnutls_x509_privkey_t key = new_key(2048);
	gnutls_x509_crt_t crt = self_signed(key, "Info CA", true, 1700000000,
					    1800000000);
	DATA_BLOB der = crt_der(ctx, crt);
	struct odj_cert_info *info = NULL;
	char *why = NULL;

	assert_nt_ok(odj_cert_info(ctx, der, &info, &why));
	assert_string_equal(info->subject, "CN=Info CA");
	assert_string_equal(info->issuer, "CN=Info CA");
	assert_string_equal(info->common_name, "Info CA");
	assert_string_equal(info->serial, "0102030405060749");
	assert_int_equal(strlen(info->sha1), 40);
	assert_int_equal(info->not_before, 1700000000);
	assert_int_equal(info->not_after, 1800000000);
	assert_true(info->is_ca);
	assert_string_equal(info->public_key, "RSA 2048");
	assert_null(info->ekus);
	TALLOC_FREE(info);

	der.data[0] = 0x31;
	assert_nt_equal(odj_cert_info(ctx, der, &info, &why),
			NT_STATUS_INVALID_PARAMETER);
	assert_why(why, "not an X.509 certificate");
	TALLOC_FREE(why);
	assert_string_equal(odj_cert_eku_name(SERVER_AUTH), "serverAuth");
	assert_null(odj_cert_eku_name("1.2.3"));

	TALLOC_FREE(der.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

static void test_pfx_round_trip(void **state)
{
	TALLOC_CTX *ctx = *state;
	gnutls_x509_privkey_t key = new_key(2048);
	gnutls_x509_privkey_t ca_key = new_key(2048);
	gnutls_x509_crt_t crt = self_signed(key, "Leaf", false, time(NULL),
					    time(NULL) + 86400);
	gnutls_x509_crt_t ca = self_signed(ca_key, "CA", true, time(NULL),
					   time(NULL) + 86400);
	DATA_BLOB chain[1];
	struct odj_pfx in = {
		.friendly_name = "Machine",
		.chain = chain,
		.num_chain = 1,
	};
	struct odj_pfx *out = NULL;
	DATA_BLOB bytes;
	char *why = NULL;
	const char *passwords[] = { "", "s3cret \xc3\xa9" };
	size_t i;

	in.key = key_der(ctx, key);
	in.cert = crt_der(ctx, crt);
	chain[0] = crt_der(ctx, ca);

	for (i = 0; i < ARRAY_SIZE(passwords); i++) {
		assert_nt_ok(odj_pfx_build(ctx, &in, passwords[i], &bytes,
					   &why));
		assert_nt_ok(odj_pfx_parse(ctx, bytes, passwords[i], &out,
					   &why));
		assert_null(why);
		assert_blob_equal(out->key, in.key);
		assert_blob_equal(out->cert, in.cert);
		assert_int_equal(out->num_chain, 1);
		assert_blob_equal(out->chain[0], chain[0]);
		assert_string_equal(out->friendly_name, "Machine");
		TALLOC_FREE(out);

		assert_nt_equal(odj_pfx_parse(ctx, bytes, "wrong", &out,
					      &why),
				NT_STATUS_WRONG_PASSWORD);
		assert_why(why, "wrong password");
		TALLOC_FREE(why);
		assert_null(out);
		TALLOC_FREE(bytes.data);
	}

	/* not PKCS#12 at all */
	assert_nt_equal(odj_pfx_parse(ctx, in.cert, "", &out, &why),
			NT_STATUS_INVALID_PARAMETER);
	assert_why(why, "PKCS#12");
	TALLOC_FREE(why);

	TALLOC_FREE(in.key.data);
	TALLOC_FREE(in.cert.data);
	TALLOC_FREE(chain[0].data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(ca_key);
}

/* Verify @p der against the CA, as a TLS peer would. */
static void assert_issued_by(DATA_BLOB der, gnutls_x509_crt_t ca)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { .data = der.data, .size = der.length };
	unsigned int verify = 0;

	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER),
			 0);
	assert_int_equal(gnutls_x509_crt_verify(crt, &ca, 1, 0, &verify), 0);
	assert_int_equal(verify, 0);
	assert_true(gnutls_x509_crt_check_hostname(crt, "ws1.odj.test"));
	gnutls_x509_crt_deinit(crt);
}

static void test_enroll_local_ca(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct scratch s;
	struct test_ca ca;
	struct odj_ca_backend *backend = NULL;
	struct OP_CERT_PFX_STORE store = { .cbPfx = 0 };
	struct odj_pfx *pfx = NULL;
	struct odj_cert_info *info = NULL;
	char *why = NULL;
	time_t now = time(NULL);

	scratch_init(&s);
	make_ca(ctx, &s, &ca);
	assert_nt_ok(odj_ca_backend_local(ctx, ca.cert_file, ca.key_file,
					  NULL, &backend, &why));
	assert_string_equal(backend->ops->name, "local CA");
	assert_nt_ok(odj_certs_enroll(ctx, backend, &machine_template,
				      "ws1.odj.test", NULL, NULL, &store, &why));
	assert_null(why);
	assert_string_equal(store.pTemplateName, "OdjMachine");
	assert_int_equal(store.ulPrivateKeyExportPolicy,
			 ODJ_XCN_NCRYPT_ALLOW_EXPORT_FLAG);
	assert_null(store.pPolicyServerUrl);

	/* the PFX: an empty password, key, certificate, CA */
	assert_nt_ok(odj_pfx_parse(ctx, data_blob_const(store.pPfx,
							store.cbPfx),
				   "", &pfx, &why));
	assert_int_equal(pfx->num_chain, 1);
	assert_issued_by(pfx->cert, ca.crt);

	assert_nt_ok(odj_cert_info(ctx, pfx->cert, &info, &why));
	assert_string_equal(info->subject, "CN=ws1.odj.test");
	assert_string_equal(info->issuer, "CN=ODJ Unit Test CA");
	assert_non_null(info->dns_names);
	assert_string_equal(info->dns_names[0], "ws1.odj.test");
	assert_null(info->dns_names[1]);
	assert_non_null(info->ekus);
	assert_string_equal(info->ekus[0], SERVER_AUTH);
	assert_string_equal(info->ekus[1], CLIENT_AUTH);
	assert_false(info->is_ca);
	assert_string_equal(info->public_key, "RSA 2048");
	assert_string_equal(info->template_name, TEMPLATE_OID);
	assert_int_equal(strlen(info->serial), 32);
	/* a year from now, backdated by the clock skew allowance */
	assert_true(info->not_before >= now - 601 &&
		    info->not_before <= now);
	assert_true(info->not_after >= now + 365 * 86400 - 5 &&
		    info->not_after <= now + 365 * 86400 + 5);

	TALLOC_FREE(info);
	TALLOC_FREE(pfx);
	talloc_free(discard_const_p(char, store.pTemplateName));
	TALLOC_FREE(store.pPfx);
	TALLOC_FREE(backend);
	free_ca(&ca);
	scratch_free(&s);
}

/*
 * The account's SID in szOID_NTDS_CA_SECURITY_EXT ([MS-WCCE]
 * 2.2.2.7.7.4), read back with GnuTLS's GeneralNames parser; none when
 * the template sets CT_FLAG_NO_SECURITY_EXTENSION, or without a SID.
 */
static bool sid_extension(TALLOC_CTX *ctx, DATA_BLOB pfx_bytes,
			  char **sid)
{
	struct odj_pfx *pfx = NULL;
	struct odj_cert_info *info = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t der, ext = { .data = NULL };
	gnutls_subject_alt_names_t sans = NULL;
	gnutls_datum_t san = { .data = NULL }, oid = { .data = NULL };
	unsigned int type = 0, critical = 1;
	bool found = false;

	*sid = NULL;
	assert_nt_ok(odj_pfx_parse(ctx, pfx_bytes, "", &pfx, NULL));
	der = (gnutls_datum_t) { .data = pfx->cert.data,
				 .size = pfx->cert.length };
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	assert_int_equal(gnutls_x509_crt_import(crt, &der,
						GNUTLS_X509_FMT_DER), 0);
	if (gnutls_x509_crt_get_extension_by_oid2(
		    crt, "1.3.6.1.4.1.311.25.2", 0, &ext, &critical) == 0) {
		found = true;
		assert_int_equal(critical, 0);
		assert_int_equal(gnutls_subject_alt_names_init(&sans), 0);
		assert_int_equal(gnutls_x509_ext_import_subject_alt_names(
					 &ext, sans, 0), 0);
		assert_int_equal(gnutls_subject_alt_names_get(
					 sans, 0, &type, &san, &oid), 0);
		assert_int_equal(type, GNUTLS_SAN_OTHERNAME);
		assert_string_equal((char *)oid.data,
				    "1.3.6.1.4.1.311.25.2.1");
		/* the value: an OCTET STRING of the SID's text */
		assert_true(san.size > 2 && san.data[0] == 0x04 &&
			    san.data[1] == san.size - 2);
		*sid = talloc_strndup(ctx, (char *)san.data + 2,
				      san.size - 2);
		assert_int_equal(gnutls_subject_alt_names_get(
					 sans, 1, &type, &san, &oid),
				 GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
		gnutls_subject_alt_names_deinit(sans);
		gnutls_free(ext.data);
	}
	gnutls_x509_crt_deinit(crt);
	/* and what odj dump shows */
	assert_nt_ok(odj_cert_info(ctx, pfx->cert, &info, NULL));
	if (found) {
		assert_string_equal(info->account_sid, *sid);
	} else {
		assert_null(info->account_sid);
	}
	TALLOC_FREE(info);
	TALLOC_FREE(pfx);
	return found;
}

static void test_enroll_sid_extension(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	const char *machine_sid =
		"S-1-5-21-3623811015-3361044348-30300820-1105";
	struct scratch s;
	struct test_ca ca;
	struct odj_ca_backend *backend = NULL;
	struct odj_cert_template t = machine_template;
	struct OP_CERT_PFX_STORE store = { .cbPfx = 0 };
	char *sid = NULL;

	scratch_init(&s);
	make_ca(ctx, &s, &ca);
	assert_nt_ok(odj_ca_backend_local(ctx, ca.cert_file, ca.key_file,
					  NULL, &backend, NULL));

	assert_nt_ok(odj_certs_enroll(ctx, backend, &t, "ws1.odj.test",
				      machine_sid, NULL, &store, NULL));
	assert_true(sid_extension(ctx, data_blob_const(store.pPfx,
						       store.cbPfx), &sid));
	assert_string_equal(sid, machine_sid);

	/* CT_FLAG_NO_SECURITY_EXTENSION, as AD CS honours it */
	t.enrollment_flags = 0x00080000;
	assert_nt_ok(odj_certs_enroll(ctx, backend, &t, "ws1.odj.test",
				      machine_sid, NULL, &store, NULL));
	assert_false(sid_extension(ctx, data_blob_const(store.pPfx,
							store.cbPfx), &sid));

	/* no SID known: none either */
	t.enrollment_flags = 0;
	assert_nt_ok(odj_certs_enroll(ctx, backend, &t, "ws1.odj.test",
				      NULL, NULL, &store, NULL));
	assert_false(sid_extension(ctx, data_blob_const(store.pPfx,
							store.cbPfx), &sid));

	TALLOC_FREE(backend);
	free_ca(&ca);
	scratch_free(&s);
	TALLOC_FREE(ctx);
}

/* A v1 template (no OID), a bigger minimum key, short CA life */
static void test_enroll_template_variants(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct odj_cert_template t = machine_template;
	struct scratch s;
	struct test_ca ca;
	struct odj_ca_backend *backend = NULL;
	struct OP_CERT_PFX_STORE store = { .cbPfx = 0 };
	struct odj_pfx *pfx = NULL;
	struct odj_cert_info *info = NULL;
	char *why = NULL;
	time_t now = time(NULL);

	scratch_init(&s);
	ca.key = new_key(2048);
	ca.crt = self_signed(ca.key, "Short CA", true, now - 60,
			     now + 30 * 86400);
	ca.cert_file = in_scratch(ctx, &s, "ca.pem");
	ca.key_file = in_scratch(ctx, &s, "ca-key.pem");
	write_crt(ca.cert_file, ca.crt);
	write_key(ca.key_file, ca.key);

	t.oid = NULL;
	t.min_key_bits = 3072;
	t.key_usage = 0;
	t.private_key_flags = 0;
	assert_nt_ok(odj_ca_backend_local(ctx, ca.cert_file, ca.key_file,
					  NULL, &backend, &why));
	assert_nt_ok(odj_certs_enroll(ctx, backend, &t, "ws1.odj.test", NULL,
				      NULL, &store, &why));
	assert_int_equal(store.ulPrivateKeyExportPolicy,
			 ODJ_XCN_NCRYPT_ALLOW_EXPORT_NONE);
	assert_nt_ok(odj_pfx_parse(ctx, data_blob_const(store.pPfx,
							store.cbPfx),
				   "", &pfx, &why));
	assert_nt_ok(odj_cert_info(ctx, pfx->cert, &info, &why));
	assert_string_equal(info->template_name, "OdjMachine");
	assert_string_equal(info->public_key, "RSA 3072");
	/* never past the CA, never before it */
	assert_int_equal(info->not_after,
			 gnutls_x509_crt_get_expiration_time(ca.crt));
	assert_int_equal(info->not_before,
			 gnutls_x509_crt_get_activation_time(ca.crt));

	/* a name that is no host name */
	assert_nt_equal(odj_certs_enroll(ctx, backend, &t, "bad*name.odj.test",
					 NULL, NULL, &store, &why),
			NT_STATUS_INVALID_COMPUTER_NAME);
	assert_why(why, "not a valid DNS host name");
	TALLOC_FREE(why);

	TALLOC_FREE(info);
	TALLOC_FREE(pfx);
	talloc_free(discard_const_p(char, store.pTemplateName));
	TALLOC_FREE(store.pPfx);
	TALLOC_FREE(backend);
	free_ca(&ca);
	scratch_free(&s);
}

static void expect_backend_error(TALLOC_CTX *ctx, const char *cert,
				 const char *key, NTSTATUS want,
				 const char *msg)
{
	struct odj_ca_backend *backend = NULL;
	char *why = NULL;

	assert_nt_equal(odj_ca_backend_local(ctx, cert, key, NULL, &backend,
					     &why),
			want);
	assert_null(backend);
	assert_why(why, msg);
	TALLOC_FREE(why);
}

static void test_local_ca_refuses(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct scratch s;
	struct test_ca ca;
	gnutls_x509_privkey_t other = new_key(2048);
	gnutls_x509_crt_t leaf = self_signed(other, "Not a CA", false,
					     time(NULL) - 60,
					     time(NULL) + 86400);
	gnutls_x509_crt_t old = self_signed(other, "Old CA", true,
					    time(NULL) - 2 * 86400,
					    time(NULL) - 86400);
	char *other_key = NULL, *leaf_pem = NULL, *old_pem = NULL;
	char *garbage = NULL, *missing = NULL;

	scratch_init(&s);
	make_ca(ctx, &s, &ca);
	other_key = in_scratch(ctx, &s, "other-key.pem");
	leaf_pem = in_scratch(ctx, &s, "leaf.pem");
	old_pem = in_scratch(ctx, &s, "old.pem");
	garbage = in_scratch(ctx, &s, "garbage.pem");
	missing = in_scratch(ctx, &s, "missing.pem");
	write_key(other_key, other);
	write_crt(leaf_pem, leaf);
	write_crt(old_pem, old);
	write_file(garbage, "-----BEGIN CERTIFICATE-----\nxx\n", 31);

	expect_backend_error(ctx, ca.cert_file, other_key,
			     NT_STATUS_INVALID_PARAMETER_MIX,
			     "does not belong to the CA certificate");
	expect_backend_error(ctx, leaf_pem, other_key,
			     NT_STATUS_INVALID_PARAMETER, "is not a CA");
	expect_backend_error(ctx, old_pem, other_key,
			     NT_STATUS_INVALID_PARAMETER, "not valid now");
	expect_backend_error(ctx, missing, ca.key_file,
			     NT_STATUS_OBJECT_NAME_NOT_FOUND,
			     "No such file");
	expect_backend_error(ctx, ca.cert_file, missing,
			     NT_STATUS_OBJECT_NAME_NOT_FOUND,
			     "CA key");
	expect_backend_error(ctx, garbage, ca.key_file,
			     NT_STATUS_INVALID_PARAMETER,
			     "no X.509 certificate");
	expect_backend_error(ctx, ca.cert_file, garbage,
			     NT_STATUS_INVALID_PARAMETER,
			     "no private key in it");
	expect_backend_error(ctx, ca.cert_file, s.dir,
			     NT_STATUS_INVALID_PARAMETER,
			     "not a regular file");

	TALLOC_FREE(other_key);
	TALLOC_FREE(leaf_pem);
	TALLOC_FREE(old_pem);
	TALLOC_FREE(garbage);
	TALLOC_FREE(missing);
	gnutls_x509_crt_deinit(leaf);
	gnutls_x509_crt_deinit(old);
	gnutls_x509_privkey_deinit(other);
	free_ca(&ca);
	scratch_free(&s);
}

/*
 * The CERT part: ROOT store, NDR round trip, install
 */

static struct OP_CERT_PART *make_cert_part(TALLOC_CTX *ctx, struct scratch *s,
					   struct test_ca *ca)
{
	struct OP_CERT_PART *part = talloc_zero(ctx, struct OP_CERT_PART);
	struct odj_ca_backend *backend = NULL;
	DATA_BLOB root = crt_der(part, ca->crt);

	part->cSstStores = 1;
	part->pSstStores = talloc_zero(part, struct OP_CERT_SST_STORE);
	assert_nt_ok(odj_certs_root_store(part, &root, 1, part->pSstStores,
					  NULL));
	part->cPfxStores = 1;
	part->pPfxStores = talloc_zero(part, struct OP_CERT_PFX_STORE);
	assert_nt_ok(odj_ca_backend_local(part, ca->cert_file, ca->key_file,
					  NULL, &backend, NULL));
	assert_nt_ok(odj_certs_enroll(part, backend, &machine_template,
				      "ws1.odj.test", NULL, NULL,
				      part->pPfxStores, NULL));
	TALLOC_FREE(backend);
	return part;
}

static void test_root_store(void **state)
{
	TALLOC_CTX *ctx = *state;
	gnutls_x509_privkey_t key = new_key(2048);
	gnutls_x509_crt_t crt = self_signed(key, "Root", true, time(NULL),
					    time(NULL) + 86400);
	DATA_BLOB der = crt_der(ctx, crt);
	struct OP_CERT_SST_STORE store;
	struct odj_sst *sst = NULL;

	assert_nt_ok(odj_certs_root_store(ctx, &der, 1, &store, NULL));
	assert_int_equal(store.StoreLocation, 0x20000);
	assert_string_equal(store.pStoreName, "ROOT");
	assert_nt_ok(odj_sst_parse(ctx, data_blob_const(store.pSst,
							store.cbSst),
				   &sst, NULL));
	assert_int_equal(sst->num_elements, 1);
	assert_blob_equal(sst->elements[0].data, der);
	TALLOC_FREE(sst);
	talloc_free(discard_const_p(char, store.pStoreName));
	TALLOC_FREE(der.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
}

/* A package holding @p part, encoded; decoded and encoded again. */
static void test_cert_part_ndr(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct scratch s;
	struct test_ca ca;
	struct OP_CERT_PART *part = NULL;
	struct odj_part p = { .kind = ODJ_PART_CERT };
	struct odj_package pkg = { .num_parts = 1, .parts = &p };
	struct odj_blob blob = { .format = ODJ_WIN8_FORMAT, .package = &pkg };
	struct odj_provision_data pd = {
		.version = 1, .num_blobs = 1, .blobs = &blob,
	};
	struct odj_provision_data *back = NULL;
	const struct OP_CERT_PART *c = NULL;
	DATA_BLOB enc, again;

	scratch_init(&s);
	make_ca(ctx, &s, &ca);
	part = make_cert_part(ctx, &s, &ca);
	p.type = odj_part_kind_guid(ODJ_PART_CERT);
	p.u.cert = part;

	enc = odj_test_encode(ctx, &pd);
	back = odj_test_decode(ctx, enc);
	c = back->blobs[0].package->parts[0].u.cert;
	assert_int_equal(back->blobs[0].package->parts[0].kind,
			 ODJ_PART_CERT);
	assert_int_equal(c->cPfxStores, 1);
	assert_string_equal(c->pPfxStores[0].pTemplateName, "OdjMachine");
	odj_test_bytes_equal(c->pPfxStores[0].pPfx, c->pPfxStores[0].cbPfx,
			     part->pPfxStores[0].pPfx,
			     part->pPfxStores[0].cbPfx);
	odj_test_bytes_equal(c->pSstStores[0].pSst, c->pSstStores[0].cbSst,
			     part->pSstStores[0].pSst,
			     part->pSstStores[0].cbSst);
	again = odj_test_encode(ctx, back);
	assert_blob_equal(enc, again);

	TALLOC_FREE(again.data);
	TALLOC_FREE(back);
	TALLOC_FREE(enc.data);
	TALLOC_FREE(part);
	free_ca(&ca);
	scratch_free(&s);
}

static char *read_text(TALLOC_CTX *ctx, const char *path)
{
	DATA_BLOB b = odj_test_read(ctx, path);
	char *s = talloc_strndup(ctx, (const char *)b.data, b.length);

	TALLOC_FREE(b.data);
	return s;
}

static void test_install(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct scratch s;
	struct test_ca ca;
	struct OP_CERT_PART *part = NULL;
	struct odj_certs_install_paths paths = { .trust_dir = NULL };
	char *cert_file = NULL;
	char *key_file = NULL;
	const char **written = NULL;
	char *text = NULL;
	char *want = NULL;
	gnutls_datum_t d = { .data = NULL };
	struct stat st;
	char *why = NULL;
	char sha1[41];
	size_t size = 20;
	uint8_t raw[20];
	size_t i;

	scratch_init(&s);
	make_ca(ctx, &s, &ca);
	part = make_cert_part(ctx, &s, &ca);
	paths.trust_dir = s.dir;
	cert_file = in_scratch(ctx, &s, "machine.pem");
	key_file = in_scratch(ctx, &s, "machine.key");
	paths.cert_file = cert_file;
	paths.key_file = key_file;

	assert_nt_ok(odj_certs_install(ctx, part, &paths, NULL, &written,
				       &why));
	assert_null(why);
	assert_non_null(written);

	/* the root CA, named after its CN and thumbprint, PEM */
	assert_int_equal(gnutls_x509_crt_get_fingerprint(ca.crt,
							 GNUTLS_DIG_SHA1, raw,
							 &size), 0);
	for (i = 0; i < 4; i++) {
		snprintf(sha1 + 2 * i, 3, "%02X", raw[i]);
	}
	want = talloc_asprintf(ctx, "%s/odj-ODJ_Unit_Test_CA-%s.crt", s.dir,
			       sha1);
	assert_string_equal(written[0], want);
	text = read_text(ctx, want);
	assert_int_equal(gnutls_x509_crt_export2(ca.crt, GNUTLS_X509_FMT_PEM,
						 &d), 0);
	assert_string_equal(text, (const char *)d.data);
	gnutls_free(d.data);
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	TALLOC_FREE(text);

	/* key (0600) first, then the certificate; the root stays out */
	assert_string_equal(written[1], paths.key_file);
	assert_string_equal(written[2], paths.cert_file);
	assert_null(written[3]);
	assert_int_equal(stat(paths.key_file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = read_text(ctx, paths.key_file);
	assert_non_null(strstr(text, "-----BEGIN PRIVATE KEY-----"));
	TALLOC_FREE(text);
	text = read_text(ctx, paths.cert_file);
	assert_non_null(strstr(text, "-----BEGIN CERTIFICATE-----"));
	assert_null(strstr(strstr(text, "-----END CERTIFICATE-----"),
			   "BEGIN"));
	TALLOC_FREE(text);

	/* a trust directory that is not there */
	paths.trust_dir = "/nonexistent/odj";
	assert_nt_not_ok(odj_certs_install(ctx, part, &paths, NULL, NULL,
					   &why));
	assert_why(why, "/nonexistent/odj/odj-");
	TALLOC_FREE(why);

	TALLOC_FREE(want);
	TALLOC_FREE(written);
	TALLOC_FREE(cert_file);
	TALLOC_FREE(key_file);
	TALLOC_FREE(part);
	free_ca(&ca);
	scratch_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_sst_layout),
		odj_test(test_sst_round_trip),
		odj_test(test_sst_without_properties),
		odj_test(test_sst_bad),
		odj_test(test_cert_info),
		odj_test(test_pfx_round_trip),
		odj_test(test_enroll_local_ca),
		odj_test(test_enroll_sid_extension),
		odj_test(test_enroll_template_variants),
		odj_test(test_local_ca_refuses),
		odj_test(test_root_store),
		odj_test(test_cert_part_ndr),
		odj_test(test_install),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
