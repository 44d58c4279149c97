/*
 * The provisioning file: what djoin /SAVEFILE and Samba's
 * "net offlinejoin provision savefile=" write, and what printblob prints.
 *
 * On disk the NDR bytes are base64 text; djoin stores that text as
 * UTF-16LE with a byte order mark and a trailing UTF-16 NUL.  Reading is
 * lenient about the framing (BOM or not, NUL or not, line breaks), writing
 * is exact.
 */

#include "codec/codec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <charset.h>
#include <gnutls/gnutls.h>

static bool is_base64_char(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Strip white space, check the alphabet and hand the rest to GnuTLS.
 * "offset" is where the text started in the file, for messages.
 */
static NTSTATUS base64_to_ndr(TALLOC_CTX *mem_ctx,
			      const uint8_t *text,
			      size_t len,
			      DATA_BLOB *ndr,
			      char **why)
{
	gnutls_datum_t in = { .data = NULL };
	gnutls_datum_t out = { .data = NULL };
	uint8_t *clean = NULL;
	size_t i, n = 0;
	int ret;

	clean = talloc_array(mem_ctx, uint8_t, len + 1);
	if (clean == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(clean);

	for (i = 0; i < len; i++) {
		if (is_space(text[i])) {
			continue;
		}
		if (!is_base64_char(text[i])) {
			odj_why(mem_ctx, why, "base64: invalid character "
				"0x%02x at text offset %zu", text[i], i);
			TALLOC_FREE(clean);
			return NT_STATUS_INVALID_PARAMETER;
		}
		clean[n++] = text[i];
	}
	if (n == 0) {
		odj_why(mem_ctx, why, "base64: no data");
		TALLOC_FREE(clean);
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (n % 4 != 0) {
		odj_why(mem_ctx, why, "base64: %zu characters, not a multiple "
			"of 4 (truncated?)", n);
		TALLOC_FREE(clean);
		return NT_STATUS_INVALID_PARAMETER;
	}

	in.data = clean;
	in.size = n;
	ret = gnutls_base64_decode2(&in, &out);
	TALLOC_FREE(clean);
	if (ret < 0) {
		odj_why(mem_ctx, why, "base64: %s", gnutls_strerror(ret));
		return NT_STATUS_INVALID_PARAMETER;
	}

	*ndr = data_blob_talloc(mem_ctx, out.data, out.size);
	explicit_bzero(out.data, out.size);
	gnutls_free(out.data);
	if (ndr->data == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(ndr->data);
	return NT_STATUS_OK;
}

/* UTF-16LE base64 text -> ASCII, refusing anything outside ASCII */
static NTSTATUS utf16_to_ascii(TALLOC_CTX *mem_ctx,
			       const uint8_t *p,
			       size_t len,
			       uint8_t **ascii,
			       size_t *ascii_len,
			       char **why)
{
	char *utf8 = NULL;
	size_t n = 0;
	bool ok;

	if (len % 2 != 0) {
		odj_why(mem_ctx, why, "UTF-16 text has an odd number of "
			"bytes (%zu)", len);
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* djoin ends the text with a UTF-16 NUL: drop any trailing ones */
	while (len >= 2 && p[len - 2] == 0 && p[len - 1] == 0) {
		len -= 2;
	}
	if (len == 0) {
		odj_why(mem_ctx, why, "file holds no text");
		return NT_STATUS_INVALID_PARAMETER;
	}
	ok = convert_string_talloc(mem_ctx, CH_UTF16LE, CH_UTF8, p, len,
				   &utf8, &n);
	if (!ok) {
		odj_why(mem_ctx, why, "text is not valid UTF-16LE");
		return NT_STATUS_ILLEGAL_CHARACTER;
	}
	odj_wipe_on_free(utf8);
	*ascii = (uint8_t *)utf8;
	*ascii_len = n;
	return NT_STATUS_OK;
}

/* Text without BOM is UTF-16LE when every odd byte is zero. */
static bool looks_like_utf16le(const uint8_t *p, size_t len)
{
	size_t i;

	if (len < 2 || len % 2 != 0) {
		return false;
	}
	for (i = 1; i < len; i += 2) {
		if (p[i] != 0) {
			return false;
		}
	}
	return p[0] != 0;
}

NTSTATUS odj_file_decode(TALLOC_CTX *mem_ctx,
			 DATA_BLOB text,
			 DATA_BLOB *ndr,
			 char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	const uint8_t *p = text.data;
	size_t len = text.length;
	uint8_t *ascii = NULL;
	size_t ascii_len = 0;
	DATA_BLOB out = data_blob_null;
	NTSTATUS status;

	if (len == 0) {
		odj_why(mem_ctx, why, "file is empty");
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (len > ODJ_FILE_MAX_SIZE) {
		odj_why(mem_ctx, why, "file is larger than %d bytes",
			ODJ_FILE_MAX_SIZE);
		return NT_STATUS_FILE_TOO_LARGE;
	}

	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}

	if (len >= 2 && p[0] == 0xff && p[1] == 0xfe) {
		status = utf16_to_ascii(tmp_ctx, p + 2, len - 2,
					&ascii, &ascii_len, why);
	} else if (len >= 2 && p[0] == 0xfe && p[1] == 0xff) {
		odj_why(tmp_ctx, why, "UTF-16 big-endian text is not a "
			"provisioning file");
		status = NT_STATUS_INVALID_PARAMETER;
	} else if (looks_like_utf16le(p, len)) {
		status = utf16_to_ascii(tmp_ctx, p, len,
					&ascii, &ascii_len, why);
	} else {
		/* ASCII, as printblob writes; tolerate a trailing NUL */
		while (len > 0 && p[len - 1] == 0) {
			len--;
		}
		ascii = discard_const_p(uint8_t, p);
		ascii_len = len;
		status = NT_STATUS_OK;
	}
	if (NT_STATUS_IS_OK(status)) {
		status = base64_to_ndr(tmp_ctx, ascii, ascii_len, &out, why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(tmp_ctx);
		return status;
	}

	talloc_steal(mem_ctx, out.data);
	TALLOC_FREE(tmp_ctx);
	*ndr = out;
	return NT_STATUS_OK;
}

NTSTATUS odj_file_base64(TALLOC_CTX *mem_ctx, DATA_BLOB ndr, char **base64)
{
	gnutls_datum_t in = { .data = ndr.data, .size = ndr.length };
	gnutls_datum_t out = { .data = NULL };
	char *s = NULL;
	int ret;

	if (ndr.length == 0) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	ret = gnutls_base64_encode2(&in, &out);
	if (ret < 0) {
		return NT_STATUS_NO_MEMORY;
	}
	s = talloc_strndup(mem_ctx, (const char *)out.data, out.size);
	explicit_bzero(out.data, out.size);
	gnutls_free(out.data);
	if (s == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(s);
	*base64 = s;
	return NT_STATUS_OK;
}

NTSTATUS odj_file_encode(TALLOC_CTX *mem_ctx, DATA_BLOB ndr, DATA_BLOB *text)
{
	TALLOC_CTX *tmp_ctx = NULL;
	char *b64 = NULL;
	uint8_t *utf16 = NULL;
	size_t utf16_len = 0;
	uint8_t *file = NULL;
	NTSTATUS status;
	bool ok;

	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_file_base64(tmp_ctx, ndr, &b64);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	ok = convert_string_talloc(tmp_ctx, CH_UTF8, CH_UTF16LE, b64,
				   strlen(b64), &utf16, &utf16_len);
	if (!ok) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(utf16);

	file = talloc_array(mem_ctx, uint8_t, utf16_len + 4);
	if (file == NULL) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(file);
	file[0] = 0xff;
	file[1] = 0xfe;
	memcpy(file + 2, utf16, utf16_len);
	file[utf16_len + 2] = 0;
	file[utf16_len + 3] = 0;
	TALLOC_FREE(tmp_ctx);

	*text = data_blob_const(file, utf16_len + 4);
	return NT_STATUS_OK;
}

NTSTATUS odj_file_load(TALLOC_CTX *mem_ctx,
		       const char *path,
		       DATA_BLOB *ndr,
		       char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	DATA_BLOB text = data_blob_null;
	NTSTATUS status;

	if (path == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_file_read(tmp_ctx, path, ODJ_FILE_MAX_SIZE,
			       "a provisioning file", ODJ_READ_STDIN, &text,
			       why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_file_decode(tmp_ctx, text, ndr, why);
		if (!NT_STATUS_IS_OK(status)) {
			odj_why_prefix(tmp_ctx, why, "%s",
				       strcmp(path, "-") == 0 ?
				       "standard input" : path);
		}
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	talloc_steal(mem_ctx, ndr->data);
	TALLOC_FREE(tmp_ctx);
	return NT_STATUS_OK;
}

NTSTATUS odj_file_check_target(TALLOC_CTX *mem_ctx,
			       const char *path,
			       bool overwrite,
			       char **why)
{
	char *dir = NULL;
	char *slash = NULL;
	struct stat st;
	int err;

	if (path == NULL || path[0] == '\0') {
		odj_why(mem_ctx, why, "no file name given");
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (lstat(path, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			odj_why(mem_ctx, why, "%s: is a directory", path);
			return NT_STATUS_FILE_IS_A_DIRECTORY;
		}
		if (!overwrite) {
			odj_why(mem_ctx, why, "%s: file exists (refusing to "
				"overwrite a provisioning file)", path);
			return NT_STATUS_OBJECT_NAME_COLLISION;
		}
	}

	dir = talloc_strdup(mem_ctx, path);
	if (dir == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	slash = strrchr(dir, '/');
	if (slash == NULL) {
		TALLOC_FREE(dir);
		dir = talloc_strdup(mem_ctx, ".");
	} else if (slash == dir) {
		slash[1] = '\0';
	} else {
		*slash = '\0';
	}
	if (dir == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (stat(dir, &st) != 0) {
		err = errno;
		odj_why(mem_ctx, why, "%s: directory %s: %s", path, dir,
			strerror(err));
		TALLOC_FREE(dir);
		return map_nt_error_from_unix_common(err);
	}
	if (!S_ISDIR(st.st_mode)) {
		odj_why(mem_ctx, why, "%s: %s is not a directory", path, dir);
		TALLOC_FREE(dir);
		return NT_STATUS_NOT_A_DIRECTORY;
	}
	if (access(dir, W_OK | X_OK) != 0) {
		err = errno;
		odj_why(mem_ctx, why, "%s: cannot create files in %s: %s",
			path, dir, strerror(err));
		TALLOC_FREE(dir);
		return map_nt_error_from_unix_common(err);
	}
	TALLOC_FREE(dir);
	return NT_STATUS_OK;
}

NTSTATUS odj_file_save(TALLOC_CTX *mem_ctx,
		       const char *path,
		       DATA_BLOB ndr,
		       bool overwrite,
		       char **why)
{
	DATA_BLOB text = data_blob_null;
	NTSTATUS status;

	status = odj_file_check_target(mem_ctx, path, overwrite, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = odj_file_encode(mem_ctx, ndr, &text);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	status = odj_file_write(mem_ctx, path, text, 0600,
				overwrite ? 0 : ODJ_WRITE_NO_REPLACE, why);
	TALLOC_FREE(text.data);
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_COLLISION)) {
		/* it appeared since odj_file_check_target() */
		odj_why(mem_ctx, why, "%s: file exists (refusing to "
			"overwrite a provisioning file)", path);
	}
	return status;
}
