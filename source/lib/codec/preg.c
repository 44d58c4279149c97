/*
 * Registry.pol, the registry policy file format ([MS-GPREG] 2.2.1):
 *
 *   uint32 signature "PReg" (0x67655250), uint32 version 1
 *   then instructions, all text UTF-16LE:
 *     "[" key NUL ";" value NUL ";" uint32 type ";" uint32 size ";"
 *     data[size] "]"
 *
 * The reader trusts nothing: every count is checked against what is
 * left, strings must end in their NUL, and sizes are capped.
 */

#include "codec/codec.h"

#include <inttypes.h>
#include <charset.h>

#define PREG_SIGNATURE 0x67655250	/* "PReg" */
#define PREG_VERSION 1
#define PREG_MAX_ENTRIES 0x100000
/* registry limits: key paths of 255 characters per key, value names 16383 */
#define PREG_MAX_STRING (32 * 1024)

struct preg_reader {
	const uint8_t *p;
	size_t len;
	size_t offset;
	uint32_t entry;			/* 1-based, for messages */
	TALLOC_CTX *why_ctx;
	char **why;
};

static NTSTATUS preg_fail(struct preg_reader *r, NTSTATUS status,
			  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static NTSTATUS preg_fail(struct preg_reader *r, NTSTATUS status,
			  const char *fmt, ...)
{
	char *what = NULL;
	va_list ap;

	if (r->why == NULL) {
		return status;
	}
	va_start(ap, fmt);
	what = talloc_vasprintf(r->why_ctx, fmt, ap);
	va_end(ap);
	odj_why(r->why_ctx, r->why, "Registry.pol entry %" PRIu32 " at byte "
		"%zu: %s", r->entry, r->offset, what != NULL ? what : fmt);
	TALLOC_FREE(what);
	return status;
}

/* One UTF-16 character, which must be @p ch. */
static NTSTATUS expect(struct preg_reader *r, char ch, const char *what)
{
	if (r->len - r->offset < 2) {
		return preg_fail(r, NT_STATUS_BUFFER_TOO_SMALL,
				 "truncated before %s", what);
	}
	if (r->p[r->offset] != (uint8_t)ch || r->p[r->offset + 1] != 0) {
		return preg_fail(r, NT_STATUS_INVALID_PARAMETER,
				 "expected %s '%c'", what, ch);
	}
	r->offset += 2;
	return NT_STATUS_OK;
}

static NTSTATUS read_u32(struct preg_reader *r, uint32_t *v,
			 const char *what)
{
	if (r->len - r->offset < 4) {
		return preg_fail(r, NT_STATUS_BUFFER_TOO_SMALL,
				 "truncated in %s", what);
	}
	*v = odj_le32(r->p + r->offset);
	r->offset += 4;
	return NT_STATUS_OK;
}

/* A NUL-terminated UTF-16LE string, as UTF-8. */
static NTSTATUS read_string(struct preg_reader *r, TALLOC_CTX *ctx,
			    const char **s, const char *what)
{
	size_t start = r->offset;
	size_t i;
	char *out = NULL;
	size_t n = 0;

	for (i = start; i + 1 < r->len; i += 2) {
		if (r->p[i] == 0 && r->p[i + 1] == 0) {
			break;
		}
		if (i - start >= PREG_MAX_STRING) {
			return preg_fail(r, NT_STATUS_ARRAY_BOUNDS_EXCEEDED,
					 "%s is too long", what);
		}
	}
	if (i + 1 >= r->len) {
		return preg_fail(r, NT_STATUS_BUFFER_TOO_SMALL,
				 "%s has no terminating NUL", what);
	}
	if (i == start) {
		out = talloc_strdup(ctx, "");
	} else if (!convert_string_talloc(ctx, CH_UTF16LE, CH_UTF8,
					  r->p + start, i - start, &out, &n)) {
		return preg_fail(r, NT_STATUS_ILLEGAL_CHARACTER,
				 "%s is not valid UTF-16", what);
	}
	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*s = out;
	r->offset = i + 2;
	return NT_STATUS_OK;
}

static NTSTATUS read_entry(struct preg_reader *r, TALLOC_CTX *ctx,
			   struct odj_preg_entry *e)
{
	uint32_t size = 0;
	NTSTATUS status;

	status = expect(r, '[', "opening bracket");
	if (NT_STATUS_IS_OK(status)) {
		status = read_string(r, ctx, &e->key, "key name");
	}
	if (NT_STATUS_IS_OK(status) && e->key[0] == '\0') {
		status = preg_fail(r, NT_STATUS_INVALID_PARAMETER,
				   "empty key name");
	}
	if (NT_STATUS_IS_OK(status)) {
		status = expect(r, ';', "separator");
	}
	if (NT_STATUS_IS_OK(status)) {
		status = read_string(r, ctx, &e->value_name, "value name");
	}
	if (NT_STATUS_IS_OK(status)) {
		status = expect(r, ';', "separator");
	}
	if (NT_STATUS_IS_OK(status)) {
		status = read_u32(r, &e->type, "type");
	}
	if (NT_STATUS_IS_OK(status)) {
		status = expect(r, ';', "separator");
	}
	if (NT_STATUS_IS_OK(status)) {
		status = read_u32(r, &size, "size");
	}
	if (NT_STATUS_IS_OK(status)) {
		status = expect(r, ';', "separator");
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (size > r->len - r->offset) {
		return preg_fail(r, NT_STATUS_BUFFER_TOO_SMALL,
				 "data size %" PRIu32 " runs past the end "
				 "(%zu bytes left)", size,
				 r->len - r->offset);
	}
	e->data = data_blob_talloc(ctx, r->p + r->offset, size);
	if (size > 0 && e->data.data == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	r->offset += size;
	return expect(r, ']', "closing bracket");
}

static NTSTATUS read_header(struct preg_reader *r)
{
	if (r->len < 8) {
		odj_why(r->why_ctx, r->why, "Registry.pol: %zu bytes, shorter "
			"than the header", r->len);
		return NT_STATUS_BUFFER_TOO_SMALL;
	}
	if (odj_le32(r->p) != PREG_SIGNATURE) {
		odj_why(r->why_ctx, r->why, "Registry.pol: no \"PReg\" "
			"signature");
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (odj_le32(r->p + 4) != PREG_VERSION) {
		odj_why(r->why_ctx, r->why, "Registry.pol: version %" PRIu32
			", not 1", odj_le32(r->p + 4));
		return NT_STATUS_REVISION_MISMATCH;
	}
	r->offset = 8;
	return NT_STATUS_OK;
}

NTSTATUS odj_preg_parse(TALLOC_CTX *mem_ctx,
			DATA_BLOB bytes,
			struct odj_preg **_preg,
			char **why)
{
	struct preg_reader r = {
		.p = bytes.data,
		.len = bytes.length,
		.why_ctx = mem_ctx,
		.why = why,
	};
	struct odj_preg *preg = NULL;
	struct odj_preg_entry *entries = NULL;
	NTSTATUS status;

	if (_preg == NULL || (bytes.length > 0 && bytes.data == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (bytes.length > ODJ_PREG_MAX_SIZE) {
		odj_why(mem_ctx, why, "Registry.pol: %zu bytes is too large",
			bytes.length);
		return NT_STATUS_FILE_TOO_LARGE;
	}
	status = read_header(&r);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	preg = talloc_zero(mem_ctx, struct odj_preg);
	if (preg == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	while (NT_STATUS_IS_OK(status) && r.offset < r.len) {
		r.entry = preg->num_entries + 1;
		if (preg->num_entries >= PREG_MAX_ENTRIES) {
			status = preg_fail(&r, NT_STATUS_ARRAY_BOUNDS_EXCEEDED,
					   "too many entries");
			break;
		}
		entries = talloc_realloc(preg, preg->entries,
					 struct odj_preg_entry,
					 preg->num_entries + 1);
		if (entries == NULL) {
			status = NT_STATUS_NO_MEMORY;
			break;
		}
		preg->entries = entries;
		entries[preg->num_entries] = (struct odj_preg_entry) {
			.key = NULL,
		};
		status = read_entry(&r, entries,
				    &entries[preg->num_entries]);
		preg->num_entries++;
	}
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(preg);
		return status;
	}
	*_preg = preg;
	return NT_STATUS_OK;
}

static bool preg_put_bytes(DATA_BLOB *b, const void *p, size_t n)
{
	uint8_t *d = talloc_realloc(NULL, b->data, uint8_t, b->length + n);

	if (d == NULL) {
		return false;
	}
	if (n > 0) {
		memcpy(d + b->length, p, n);
	}
	b->data = d;
	b->length += n;
	return true;
}

static bool preg_put_char(DATA_BLOB *b, char ch)
{
	uint8_t c[2] = { (uint8_t)ch, 0 };

	return preg_put_bytes(b, c, 2);
}

static bool preg_put_u32(DATA_BLOB *b, uint32_t v)
{
	uint8_t c[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff,
			 (v >> 24) & 0xff };

	return preg_put_bytes(b, c, 4);
}

static bool preg_put_string(DATA_BLOB *b, const char *s)
{
	void *utf16 = NULL;
	size_t n = 0;
	bool ok;

	if (!convert_string_talloc(NULL, CH_UTF8, CH_UTF16LE, s,
				   strlen(s) + 1, &utf16, &n)) {
		return false;
	}
	ok = preg_put_bytes(b, utf16, n);
	TALLOC_FREE(utf16);
	return ok;
}

static bool preg_put_entry(DATA_BLOB *b, const struct odj_preg_entry *e)
{
	return e->key != NULL && e->value_name != NULL &&
	       preg_put_char(b, '[') && preg_put_string(b, e->key) &&
	       preg_put_char(b, ';') && preg_put_string(b, e->value_name) &&
	       preg_put_char(b, ';') && preg_put_u32(b, e->type) &&
	       preg_put_char(b, ';') && preg_put_u32(b, e->data.length) &&
	       preg_put_char(b, ';') &&
	       preg_put_bytes(b, e->data.data, e->data.length) &&
	       preg_put_char(b, ']');
}

NTSTATUS odj_preg_push(TALLOC_CTX *mem_ctx,
		       const struct odj_preg *preg,
		       DATA_BLOB *bytes)
{
	DATA_BLOB b = data_blob_null;
	uint32_t i;
	bool ok;

	if (preg == NULL || bytes == NULL ||
	    (preg->num_entries > 0 && preg->entries == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	ok = preg_put_u32(&b, PREG_SIGNATURE) && preg_put_u32(&b, PREG_VERSION);
	for (i = 0; ok && i < preg->num_entries; i++) {
		ok = preg_put_entry(&b, &preg->entries[i]);
	}
	if (!ok) {
		TALLOC_FREE(b.data);
		return NT_STATUS_INVALID_PARAMETER;
	}
	bytes->data = talloc_steal(mem_ctx, b.data);
	bytes->length = b.length;
	return NT_STATUS_OK;
}

NTSTATUS odj_policy_element_list(TALLOC_CTX *mem_ctx,
				 const struct odj_preg *preg,
				 const char *source,
				 struct OP_POLICY_ELEMENT_LIST *list)
{
	struct OP_POLICY_ELEMENT *els = NULL;
	uint32_t i;

	if (preg == NULL || list == NULL ||
	    (preg->num_entries > 0 && preg->entries == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	els = talloc_zero_array(mem_ctx, struct OP_POLICY_ELEMENT,
				preg->num_entries);
	if (preg->num_entries > 0 && els == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < preg->num_entries; i++) {
		const struct odj_preg_entry *e = &preg->entries[i];

		els[i] = (struct OP_POLICY_ELEMENT) {
			.pKeyPath = talloc_strdup(els, e->key),
			.pValueName = talloc_strdup(els, e->value_name),
			.ulValueType = e->type,
			.cbValueData = e->data.length,
			.pValueData = e->data.length == 0 ? NULL :
				talloc_memdup(els, e->data.data,
					      e->data.length),
		};
		if (els[i].pKeyPath == NULL || els[i].pValueName == NULL ||
		    (e->data.length > 0 && els[i].pValueData == NULL)) {
			TALLOC_FREE(els);
			return NT_STATUS_NO_MEMORY;
		}
	}
	*list = (struct OP_POLICY_ELEMENT_LIST) {
		.pSource = source != NULL ? talloc_strdup(mem_ctx, source) :
			   NULL,
		.ulRootKeyId = ODJ_HKEY_LOCAL_MACHINE,
		.cElements = preg->num_entries,
		.pElements = els,
	};
	if (source != NULL && list->pSource == NULL) {
		TALLOC_FREE(els);
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}
