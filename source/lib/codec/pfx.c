/*
 * PFX (PKCS#12, RFC 7292) files: OP_CERT_PFX_STORE.pPfx.
 *
 * Written with the algorithms Windows itself used for PFX export before
 * PBES2 (and that older releases can import): the key in a
 * pkcs8ShroudedKeyBag with pbeWithSHAAnd3-KeyTripleDES-CBC, the
 * certificates in an encrypted bag with the same scheme, localKeyId and
 * friendlyName on key and certificate, and an HMAC-SHA1 MAC.  OpenSSL 3's
 * default, PBES2 with AES, needs Windows 10 1709 or later.  GnuTLS 3.7
 * fixes the iteration count at 600000 (no API sets it), which costs
 * about 0.2 s per PFX here.
 */

#include "codec/codec.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/pkcs12.h>

#define PFX_SCHEME GNUTLS_PKCS_PKCS12_3DES
#define KEY_ID_SIZE 20

static void pfx_why(TALLOC_CTX *ctx, char **why, const char *what, int ret)
{
	odj_why(ctx, why, "PFX: %s: %s", what, gnutls_strerror(ret));
}

/* The key bag: shrouded key, localKeyId, friendly name. */
static int key_bag(gnutls_pkcs12_bag_t bag, DATA_BLOB key_der,
		   const gnutls_datum_t *key_id, const char *friendly_name,
		   const char *password)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t d = odj_datum(key_der);
	int ret, idx;

	ret = gnutls_x509_privkey_init(&key);
	if (ret < 0) {
		return ret;
	}
	ret = gnutls_x509_privkey_import_pkcs8(key, &d, GNUTLS_X509_FMT_DER,
					       NULL, GNUTLS_PKCS_PLAIN);
	if (ret < 0) {
		gnutls_x509_privkey_deinit(key);
		return ret;
	}
	idx = gnutls_pkcs12_bag_set_privkey(bag, key, password, PFX_SCHEME);
	gnutls_x509_privkey_deinit(key);
	if (idx < 0) {
		return idx;
	}
	ret = gnutls_pkcs12_bag_set_key_id(bag, idx, key_id);
	if (ret == 0 && friendly_name != NULL) {
		ret = gnutls_pkcs12_bag_set_friendly_name(bag, idx,
							  friendly_name);
	}
	return ret;
}

static int add_cert(gnutls_pkcs12_bag_t bag, DATA_BLOB der,
		    const gnutls_datum_t *key_id, const char *friendly_name)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = odj_datum(der);
	int ret, idx;

	ret = gnutls_x509_crt_init(&crt);
	if (ret < 0) {
		return ret;
	}
	ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (ret < 0) {
		gnutls_x509_crt_deinit(crt);
		return ret;
	}
	idx = gnutls_pkcs12_bag_set_crt(bag, crt);
	gnutls_x509_crt_deinit(crt);
	if (idx < 0 || key_id == NULL) {
		return idx < 0 ? idx : 0;
	}
	ret = gnutls_pkcs12_bag_set_key_id(bag, idx, key_id);
	if (ret == 0 && friendly_name != NULL) {
		ret = gnutls_pkcs12_bag_set_friendly_name(bag, idx,
							  friendly_name);
	}
	return ret;
}

/* localKeyId: SHA-1 of the certificate's public key, as OpenSSL does */
static int cert_key_id(DATA_BLOB der, uint8_t *buf, gnutls_datum_t *id)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = odj_datum(der);
	size_t size = KEY_ID_SIZE;
	int ret;

	ret = gnutls_x509_crt_init(&crt);
	if (ret < 0) {
		return ret;
	}
	ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (ret == 0) {
		ret = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1,
						 buf, &size);
	}
	gnutls_x509_crt_deinit(crt);
	*id = (gnutls_datum_t) { .data = buf, .size = size };
	return ret;
}

static int fill_bags(gnutls_pkcs12_bag_t kbag, gnutls_pkcs12_bag_t cbag,
		     const struct odj_pfx *in, const char *password,
		     const char **what)
{
	uint8_t id_buf[KEY_ID_SIZE];
	gnutls_datum_t key_id;
	size_t i;
	int ret;

	*what = "certificate";
	ret = cert_key_id(in->cert, id_buf, &key_id);
	if (ret < 0) {
		return ret;
	}
	*what = "private key";
	ret = key_bag(kbag, in->key, &key_id, in->friendly_name, password);
	if (ret < 0) {
		return ret;
	}
	*what = "certificate";
	ret = add_cert(cbag, in->cert, &key_id, in->friendly_name);
	for (i = 0; ret >= 0 && i < in->num_chain; i++) {
		*what = "chain certificate";
		ret = add_cert(cbag, in->chain[i], NULL, NULL);
	}
	if (ret < 0) {
		return ret;
	}
	*what = "encrypting the certificates";
	return gnutls_pkcs12_bag_encrypt(cbag, password, PFX_SCHEME);
}

NTSTATUS odj_pfx_build(TALLOC_CTX *mem_ctx,
		       const struct odj_pfx *in,
		       const char *password,
		       DATA_BLOB *bytes,
		       char **why)
{
	gnutls_pkcs12_t p12 = NULL;
	gnutls_pkcs12_bag_t kbag = NULL;
	gnutls_pkcs12_bag_t cbag = NULL;
	gnutls_datum_t out = { .data = NULL };
	const char *what = "initialising";
	uint8_t *buf = NULL;
	int ret;

	if (in == NULL || bytes == NULL || password == NULL ||
	    in->key.data == NULL || in->cert.data == NULL ||
	    (in->num_chain > 0 && in->chain == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	ret = gnutls_pkcs12_init(&p12);
	if (ret == 0) {
		ret = gnutls_pkcs12_bag_init(&kbag);
	}
	if (ret == 0) {
		ret = gnutls_pkcs12_bag_init(&cbag);
	}
	if (ret == 0) {
		ret = fill_bags(kbag, cbag, in, password, &what);
	}
	if (ret >= 0) {
		what = "assembling";
		ret = gnutls_pkcs12_set_bag(p12, cbag);
	}
	if (ret >= 0) {
		ret = gnutls_pkcs12_set_bag(p12, kbag);
	}
	if (ret >= 0) {
		what = "MAC";
		ret = gnutls_pkcs12_generate_mac2(p12, GNUTLS_MAC_SHA1,
						  password);
	}
	if (ret >= 0) {
		what = "export";
		ret = gnutls_pkcs12_export2(p12, GNUTLS_X509_FMT_DER, &out);
	}
	if (ret >= 0) {
		buf = talloc_memdup(mem_ctx, out.data, out.size);
	}
	gnutls_free(out.data);
	gnutls_pkcs12_bag_deinit(cbag);
	gnutls_pkcs12_bag_deinit(kbag);
	gnutls_pkcs12_deinit(p12);
	if (ret < 0) {
		pfx_why(mem_ctx, why, what, ret);
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (buf == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(buf);
	*bytes = data_blob_const(buf, out.size);
	return NT_STATUS_OK;
}

static bool crt_der(TALLOC_CTX *ctx, gnutls_x509_crt_t crt, DATA_BLOB *b)
{
	gnutls_datum_t d = { .data = NULL };
	uint8_t *copy = NULL;

	if (gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &d) < 0) {
		return false;
	}
	copy = talloc_memdup(ctx, d.data, d.size);
	*b = data_blob_const(copy, d.size);
	gnutls_free(d.data);
	return copy != NULL;
}

/* The friendly name of the first key bag, if any. */
static const char *key_friendly_name(TALLOC_CTX *ctx, gnutls_pkcs12_t p12,
				     const char *password)
{
	gnutls_pkcs12_bag_t bag = NULL;
	const char *name = NULL;
	char *fname = NULL;
	int i, j, n;

	for (i = 0; name == NULL && i < 64; i++) {
		if (gnutls_pkcs12_bag_init(&bag) < 0) {
			return NULL;
		}
		if (gnutls_pkcs12_get_bag(p12, i, bag) < 0) {
			gnutls_pkcs12_bag_deinit(bag);
			break;
		}
		if (gnutls_pkcs12_bag_get_type(bag, 0) ==
		    GNUTLS_BAG_ENCRYPTED) {
			gnutls_pkcs12_bag_decrypt(bag, password);
		}
		n = gnutls_pkcs12_bag_get_count(bag);
		for (j = 0; name == NULL && j < n; j++) {
			int t = gnutls_pkcs12_bag_get_type(bag, j);

			if ((t == GNUTLS_BAG_PKCS8_ENCRYPTED_KEY ||
			     t == GNUTLS_BAG_PKCS8_KEY) &&
			    gnutls_pkcs12_bag_get_friendly_name(
				    bag, j, &fname) == 0 && fname != NULL) {
				name = talloc_strdup(ctx, fname);
			}
		}
		gnutls_pkcs12_bag_deinit(bag);
	}
	return name;
}

static NTSTATUS take_apart(struct odj_pfx *pfx, gnutls_pkcs12_t p12,
			   const char *password, TALLOC_CTX *why_ctx,
			   char **why)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t *chain = NULL;
	gnutls_x509_crt_t *extra = NULL;
	unsigned int nchain = 0, nextra = 0, i;
	bool ok;
	int ret;

	ret = gnutls_pkcs12_simple_parse(p12, password, &key, &chain, &nchain,
					 &extra, &nextra, NULL,
					 GNUTLS_PKCS12_SP_INCLUDE_SELF_SIGNED);
	if (ret < 0) {
		pfx_why(why_ctx, why, "no key with its certificate", ret);
		return NT_STATUS_INVALID_PARAMETER;
	}
	ok = nchain > 0 && odj_key_pkcs8(pfx, key, &pfx->key) &&
	     crt_der(pfx, chain[0], &pfx->cert);
	pfx->num_chain = ok ? nchain - 1 + nextra : 0;
	pfx->chain = talloc_zero_array(pfx, DATA_BLOB, pfx->num_chain + 1);
	ok = ok && pfx->chain != NULL;
	for (i = 1; ok && i < nchain; i++) {
		ok = crt_der(pfx, chain[i], &pfx->chain[i - 1]);
	}
	for (i = 0; ok && i < nextra; i++) {
		ok = crt_der(pfx, extra[i], &pfx->chain[nchain - 1 + i]);
	}
	for (i = 0; i < nchain; i++) {
		gnutls_x509_crt_deinit(chain[i]);
	}
	for (i = 0; i < nextra; i++) {
		gnutls_x509_crt_deinit(extra[i]);
	}
	gnutls_free(chain);
	gnutls_free(extra);
	gnutls_x509_privkey_deinit(key);
	return ok ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS odj_pfx_parse(TALLOC_CTX *mem_ctx,
		       DATA_BLOB bytes,
		       const char *password,
		       struct odj_pfx **_pfx,
		       char **why)
{
	gnutls_pkcs12_t p12 = NULL;
	gnutls_datum_t d = odj_datum(bytes);
	struct odj_pfx *pfx = NULL;
	NTSTATUS status;
	int ret;

	if (_pfx == NULL || bytes.data == NULL || password == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (bytes.length > ODJ_CERT_STORE_MAX_SIZE) {
		odj_why(mem_ctx, why, "PFX: %zu bytes is too large",
			bytes.length);
		return NT_STATUS_FILE_TOO_LARGE;
	}
	ret = gnutls_pkcs12_init(&p12);
	if (ret < 0) {
		return NT_STATUS_NO_MEMORY;
	}
	ret = gnutls_pkcs12_import(p12, &d, GNUTLS_X509_FMT_DER, 0);
	if (ret < 0) {
		gnutls_pkcs12_deinit(p12);
		pfx_why(mem_ctx, why, "not a PKCS#12 file", ret);
		return NT_STATUS_INVALID_PARAMETER;
	}
	ret = gnutls_pkcs12_verify_mac(p12, password);
	if (ret < 0) {
		gnutls_pkcs12_deinit(p12);
		pfx_why(mem_ctx, why, "wrong password or damaged", ret);
		return NT_STATUS_WRONG_PASSWORD;
	}
	pfx = talloc_zero(mem_ctx, struct odj_pfx);
	if (pfx == NULL) {
		gnutls_pkcs12_deinit(p12);
		return NT_STATUS_NO_MEMORY;
	}
	status = take_apart(pfx, p12, password, mem_ctx, why);
	if (NT_STATUS_IS_OK(status)) {
		pfx->friendly_name = key_friendly_name(pfx, p12, password);
	}
	gnutls_pkcs12_deinit(p12);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(pfx);
		return status;
	}
	*_pfx = pfx;
	return NT_STATUS_OK;
}
