/*
 * Private keys as bytes: the one export every key takes (PFX bags, the
 * machine key file), wiped when freed.
 */

#include "util/util.h"

#include <gnutls/x509.h>

bool odj_key_pkcs8(TALLOC_CTX *mem_ctx, gnutls_x509_privkey_t key,
		   DATA_BLOB *der)
{
	gnutls_datum_t d = { .data = NULL };
	uint8_t *copy = NULL;

	if (gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_DER, NULL,
					      GNUTLS_PKCS_PLAIN, &d) < 0) {
		return false;
	}
	copy = talloc_memdup(mem_ctx, d.data, d.size);
	odj_wipe_on_free(copy);
	*der = data_blob_const(copy, d.size);
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	return copy != NULL;
}
