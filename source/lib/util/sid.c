/*
 * SIDs as text ("S-1-5-21-...") and in their binary form (objectSid).
 */

#include "util/util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

char *odj_sid_string(TALLOC_CTX *mem_ctx, const struct ODJ_SID *sid)
{
	uint64_t ia = 0;
	char *s = NULL;
	int i;

	if (sid == NULL) {
		return talloc_strdup(mem_ctx, "(NULL SID)");
	}
	for (i = 0; i < 6; i++) {
		ia = (ia << 8) | sid->IdentifierAuthority[i];
	}
	s = talloc_asprintf(mem_ctx, "S-%" PRIu8 "-%" PRIu64,
			    sid->Revision, ia);
	for (i = 0; s != NULL && i < sid->SubAuthorityCount; i++) {
		s = talloc_asprintf_append_buffer(s, "-%" PRIu32,
						  sid->SubAuthority[i]);
	}
	return s;
}

static bool parse_uint(const char **p, uint64_t max, uint64_t *v)
{
	char *end = NULL;
	unsigned long long n;

	if (**p < '0' || **p > '9') {
		return false;
	}
	errno = 0;
	n = strtoull(*p, &end, 10);
	if (errno != 0 || n > max) {
		return false;
	}
	*v = n;
	*p = end;
	return true;
}

bool odj_sid_parse(const char *str, struct ODJ_SID *sid, TALLOC_CTX *mem_ctx)
{
	const char *p = str;
	uint32_t subs[15];
	uint64_t v = 0;
	uint8_t n = 0;
	int i;

	if (str == NULL || (p[0] != 'S' && p[0] != 's') || p[1] != '-') {
		return false;
	}
	p += 2;
	if (!parse_uint(&p, 255, &v) || *p != '-') {
		return false;
	}
	sid->Revision = v;
	p++;
	if (!parse_uint(&p, 0xffffffffffffULL, &v)) {
		return false;
	}
	for (i = 5; i >= 0; i--) {
		sid->IdentifierAuthority[i] = v & 0xff;
		v >>= 8;
	}
	while (*p == '-') {
		p++;
		if (n == 15 || !parse_uint(&p, UINT32_MAX, &v)) {
			return false;
		}
		subs[n++] = v;
	}
	if (*p != '\0') {
		return false;
	}
	sid->SubAuthorityCount = n;
	sid->SubAuthority = talloc_memdup(mem_ctx, subs, n * sizeof(subs[0]));
	if (n > 0 && sid->SubAuthority == NULL) {
		return false;
	}
	return true;
}

bool odj_sid_from_blob(TALLOC_CTX *mem_ctx, const uint8_t *p, size_t len,
		       struct ODJ_SID *sid)
{
	uint8_t n;
	int i;

	if (len < 8) {
		return false;
	}
	n = p[1];
	if (n > 15 || len != 8 + 4 * (size_t)n) {
		return false;
	}
	sid->Revision = p[0];
	sid->SubAuthorityCount = n;
	memcpy(sid->IdentifierAuthority, p + 2, 6);
	sid->SubAuthority = talloc_array(mem_ctx, uint32_t, n);
	if (n > 0 && sid->SubAuthority == NULL) {
		return false;
	}
	for (i = 0; i < n; i++) {
		const uint8_t *q = p + 8 + 4 * i;

		sid->SubAuthority[i] = (uint32_t)q[0] | (uint32_t)q[1] << 8 |
				       (uint32_t)q[2] << 16 |
				       (uint32_t)q[3] << 24;
	}
	return true;
}


bool odj_sid_equal(const struct ODJ_SID *a, const struct ODJ_SID *b)
{
	/* a SID without subauthorities may have no array at all */
	return a->Revision == b->Revision &&
	       a->SubAuthorityCount == b->SubAuthorityCount &&
	       memcmp(a->IdentifierAuthority, b->IdentifierAuthority, 6) == 0 &&
	       (a->SubAuthorityCount == 0 ||
		memcmp(a->SubAuthority, b->SubAuthority,
		       4 * (size_t)a->SubAuthorityCount) == 0);
}
