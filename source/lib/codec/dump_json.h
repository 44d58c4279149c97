/*
 * The small JSON builders odj dump's renderers share (dump.c,
 * dump_policy.c): internal to the codec layer.
 */

#ifndef _ODJ_CODEC_DUMP_JSON_H_
#define _ODJ_CODEC_DUMP_JSON_H_

#include <inttypes.h>
#include <stdio.h>
#include <jansson.h>

static inline json_t *jstr(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

static inline void set(json_t *obj, const char *key, json_t *value)
{
	json_object_set_new(obj, key, value != NULL ? value : json_null());
}

static inline json_t *jhex32(uint32_t v)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "0x%08" PRIx32, v);
	return json_string(buf);
}

static inline json_t *jhex(const uint8_t *p, size_t len)
{
	char *s = NULL;
	json_t *j = NULL;
	size_t i;

	s = talloc_array(NULL, char, len * 2 + 1);
	if (s == NULL) {
		return NULL;
	}
	for (i = 0; i < len; i++) {
		snprintf(s + 2 * i, 3, "%02x", p[i]);
	}
	s[len * 2] = '\0';
	j = json_string(s);
	TALLOC_FREE(s);
	return j;
}

/* UTF-16LE (a registry string, an SST name) as a JSON string */
json_t *odj_dump_utf16(const uint8_t *p, size_t len);

#endif /* _ODJ_CODEC_DUMP_JSON_H_ */
