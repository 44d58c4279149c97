/*
 * The machine password a provision sets: random, 120 characters as
 * Windows' machine passwords are, and as LDAP's unicodePwd carries it.
 */

#include "dc/dc.h"

#include <charset.h>
#include <ldb.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

/* Windows machine passwords: 120 UTF-16 characters */
#define MACHINE_PASSWORD_LENGTH 120

/* Printable ASCII from the CSPRNG: 120 characters, ~780 bits. */
char *odj_machine_password_new(TALLOC_CTX *mem_ctx)
{
	uint8_t rnd[MACHINE_PASSWORD_LENGTH];
	char *pw = NULL;
	size_t i;

	pw = talloc_zero_array(mem_ctx, char, MACHINE_PASSWORD_LENGTH + 1);
	if (pw == NULL) {
		return NULL;
	}
	odj_wipe_on_free(pw);
	for (i = 0; i < MACHINE_PASSWORD_LENGTH; i++) {
		/* rejection sampling keeps the 94 characters uniform */
		do {
			if (gnutls_rnd(GNUTLS_RND_KEY, &rnd[i], 1) != 0) {
				TALLOC_FREE(pw);
				return NULL;
			}
		} while (rnd[i] >= 188);
		pw[i] = 0x21 + rnd[i] % 94;
	}
	explicit_bzero(rnd, sizeof(rnd));
	return pw;
}

/* unicodePwd: the password in double quotes, UTF-16LE ([MS-ADTS] 3.1.1.3.1.5) */
bool odj_unicode_pwd(TALLOC_CTX *mem_ctx, const char *password,
		     struct ldb_val *val)
{
	char *quoted = talloc_asprintf(mem_ctx, "\"%s\"", password);
	void *utf16 = NULL;
	size_t len = 0;
	bool ok;

	if (quoted == NULL) {
		return false;
	}
	odj_wipe_on_free(quoted);
	ok = convert_string_talloc(mem_ctx, CH_UTF8, CH_UTF16LE, quoted,
				   strlen(quoted), &utf16, &len);
	TALLOC_FREE(quoted);
	if (!ok) {
		return false;
	}
	odj_wipe_on_free(utf16);
	*val = data_blob_const(utf16, len);
	return true;
}
