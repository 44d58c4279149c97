/*
 * The text form of odj dump (and of any JSON document the tools print):
 * "key: value" with keys made readable; arrays of objects get numbered
 * headings ("part 1:"), arrays of strings one comma list.
 */

#include "codec/codec.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

static char *text_key(TALLOC_CTX *ctx, const char *key)
{
	char *s = talloc_strdup(ctx, key);
	char *p = NULL;

	for (p = s; p != NULL && *p != '\0'; p++) {
		if (*p == '_') {
			*p = ' ';
		}
	}
	return s;
}

static void text_value(char **out, json_t *v)
{
	char *s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		talloc_asprintf_addbuf(out, "%s", json_string_value(v));
		return;
	case JSON_NULL:
		talloc_asprintf_addbuf(out, "(none)");
		return;
	default:
		s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
		talloc_asprintf_addbuf(out, "%s", s != NULL ? s : "?");
		free(s);
		return;
	}
}

static bool all_strings(json_t *a)
{
	size_t i;
	json_t *v = NULL;

	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			return false;
		}
	}
	return true;
}

static const char *singular(const char *key)
{
	if (strcmp(key, "blobs") == 0) {
		return "blob";
	}
	if (strcmp(key, "parts") == 0) {
		return "part";
	}
	if (strcmp(key, "elements") == 0) {
		return "element";
	}
	if (strcmp(key, "element_lists") == 0) {
		return "element list";
	}
	if (strcmp(key, "pfx_stores") == 0) {
		return "pfx store";
	}
	if (strcmp(key, "sst_stores") == 0) {
		return "sst store";
	}
	if (strcmp(key, "certificates") == 0) {
		return "certificate";
	}
	return key;
}

static void text_object(char **out, json_t *obj, int depth);

static void text_member(char **out, const char *key, json_t *v, int depth)
{
	char *label = text_key(*out, key);
	size_t i;
	json_t *e = NULL;

	if (json_is_object(v)) {
		talloc_asprintf_addbuf(out, "%*s%s:\n", depth * 2, "", label);
		text_object(out, v, depth + 1);
	} else if (json_is_array(v) && !all_strings(v)) {
		if (json_array_size(v) == 0) {
			talloc_asprintf_addbuf(out, "%*s%s: (none)\n",
					       depth * 2, "", label);
		}
		json_array_foreach(v, i, e) {
			talloc_asprintf_addbuf(out, "%*s%s %zu:", depth * 2,
					       "", singular(key), i + 1);
			if (json_is_object(e)) {
				talloc_asprintf_addbuf(out, "\n");
				text_object(out, e, depth + 1);
			} else {
				talloc_asprintf_addbuf(out, " ");
				text_value(out, e);
				talloc_asprintf_addbuf(out, "\n");
			}
		}
	} else if (json_is_array(v)) {
		talloc_asprintf_addbuf(out, "%*s%s:", depth * 2, "", label);
		json_array_foreach(v, i, e) {
			talloc_asprintf_addbuf(out, "%s%s", i == 0 ? " " : ", ",
					       json_string_value(e));
		}
		talloc_asprintf_addbuf(out, "%s\n",
				       json_array_size(v) == 0 ? " (none)" : "");
	} else {
		talloc_asprintf_addbuf(out, "%*s%s: ", depth * 2, "", label);
		text_value(out, v);
		talloc_asprintf_addbuf(out, "\n");
	}
	TALLOC_FREE(label);
}

static void text_object(char **out, json_t *obj, int depth)
{
	const char *key = NULL;
	json_t *v = NULL;

	json_object_foreach(obj, key, v) {
		text_member(out, key, v, depth);
	}
}

char *odj_json_text(TALLOC_CTX *mem_ctx, struct json_t *tree)
{
	char *out = talloc_strdup(mem_ctx, "");

	if (out == NULL) {
		return NULL;
	}
	text_object(&out, tree, 0);
	return out;
}
