/*
 * The POLICY part in odj dump: each element list's registry values as
 * the Registry.pol they came from says them, types decoded, the special
 * "**del." names spelled out ([MS-GPREG] 2.2.1, [MS-RRP] types).
 */

#include "codec/codec.h"
#include "codec/dump_json.h"

#include <strings.h>
#include <charset.h>

static const char *reg_type_name(enum winreg_Type t)
{
	switch (t) {
	case REG_NONE: return "REG_NONE";
	case REG_SZ: return "REG_SZ";
	case REG_EXPAND_SZ: return "REG_EXPAND_SZ";
	case REG_BINARY: return "REG_BINARY";
	case REG_DWORD: return "REG_DWORD";
	case REG_DWORD_BIG_ENDIAN: return "REG_DWORD_BIG_ENDIAN";
	case REG_LINK: return "REG_LINK";
	case REG_MULTI_SZ: return "REG_MULTI_SZ";
	case REG_RESOURCE_LIST: return "REG_RESOURCE_LIST";
	case REG_FULL_RESOURCE_DESCRIPTOR:
		return "REG_FULL_RESOURCE_DESCRIPTOR";
	case REG_RESOURCE_REQUIREMENTS_LIST:
		return "REG_RESOURCE_REQUIREMENTS_LIST";
	case REG_QWORD: return "REG_QWORD";
	}
	return "unknown";
}

/* A UTF-16LE string value without its terminating NUL(s). */
json_t *odj_dump_utf16(const uint8_t *p, size_t len)
{
	char *s = NULL;
	size_t n = 0;
	json_t *j = NULL;

	while (len >= 2 && p[len - 2] == 0 && p[len - 1] == 0) {
		len -= 2;
	}
	if (len == 0) {
		return json_string("");
	}
	if (!convert_string_talloc(NULL, CH_UTF16LE, CH_UTF8, p, len, &s,
				   &n)) {
		return NULL;
	}
	j = json_stringn(s, n);
	TALLOC_FREE(s);
	return j;
}

static json_t *jmulti_sz(const uint8_t *p, size_t len)
{
	json_t *a = json_array();
	size_t start = 0, i;

	for (i = 0; i + 1 < len; i += 2) {
		if (p[i] != 0 || p[i + 1] != 0) {
			continue;
		}
		if (i == start) {
			return a;	/* the empty string ends the list */
		}
		json_array_append_new(a, odj_dump_utf16(p + start, i - start));
		start = i + 2;
	}
	/* a last string without its NUL still counts */
	if (start + 1 < len) {
		json_array_append_new(a, odj_dump_utf16(p + start, len - start));
	}
	return a;
}

static uint64_t le_uint(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n-- > 0) {
		v = (v << 8) | p[n];
	}
	return v;
}

static uint32_t be_uint32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

/* The value decoded by its type; NULL where the bytes don't fit it. */
static json_t *jreg_value(enum winreg_Type t, const uint8_t *p, size_t len)
{
	switch (t) {
	case REG_SZ:
	case REG_EXPAND_SZ:
	case REG_LINK:
		return len % 2 == 0 ? odj_dump_utf16(p, len) : NULL;
	case REG_MULTI_SZ:
		return len % 2 == 0 ? jmulti_sz(p, len) : NULL;
	case REG_DWORD:
		return len == 4 ? json_integer(le_uint(p, 4)) : NULL;
	case REG_DWORD_BIG_ENDIAN:
		return len == 4 ? json_integer(be_uint32(p)) : NULL;
	case REG_QWORD:
		if (len != 8) {
			return NULL;
		}
		/* JSON integers are signed: a QWORD above 2^63 shows as hex */
		if (le_uint(p, 8) > INT64_MAX) {
			return jhex(p, len);
		}
		return json_integer((json_int_t)le_uint(p, 8));
	default:
		return jhex(p, len);
	}
}

static const char *root_key_name(uint32_t id)
{
	switch (id) {
	case 0x80000000: return "HKEY_CLASSES_ROOT";
	case 0x80000001: return "HKEY_CURRENT_USER";
	case ODJ_HKEY_LOCAL_MACHINE: return "HKEY_LOCAL_MACHINE";
	case 0x80000003: return "HKEY_USERS";
	}
	return "unknown";
}

/*
 * [MS-GPREG] 2.2.1.1: value names starting with "**" are instructions;
 * they travel as they are, this says what they mean.
 */
static json_t *jspecial(const char *name)
{
	static const struct {
		const char *prefix;
		const char *meaning;
	} specials[] = {
		{ "**delvals.", "delete all values of the key" },
		{ "**del.", "delete the value" },
		{ "**soft.", "set the value only if it does not exist" },
		{ "**deletevalues", "delete the values listed in the data" },
		{ "**deletekeys", "delete the subkeys listed in the data" },
		{ "**securekey", "secure the key (data 1) or not (0)" },
	};
	char *s = NULL;
	json_t *j = NULL;
	size_t i, n;

	if (name == NULL || strncmp(name, "**", 2) != 0) {
		return NULL;
	}
	for (i = 0; i < ARRAY_SIZE(specials); i++) {
		n = strlen(specials[i].prefix);
		if (strncasecmp(name, specials[i].prefix, n) != 0) {
			continue;
		}
		if (name[n] != '\0') {
			s = talloc_asprintf(NULL, "%s: %s", specials[i].meaning,
					    name + n);
		}
		j = s != NULL ? jstr(s) : json_string(specials[i].meaning);
		TALLOC_FREE(s);
		return j;
	}
	return json_string("special instruction (unknown)");
}

static json_t *dump_policy_element(const struct OP_POLICY_ELEMENT *e)
{
	json_t *eo = json_object();
	json_t *special = jspecial(e->pValueName);

	set(eo, "key", jstr(e->pKeyPath));
	set(eo, "value_name", jstr(e->pValueName));
	if (special != NULL) {
		set(eo, "special", special);
	}
	set(eo, "type", json_string(reg_type_name(e->ulValueType)));
	set(eo, "type_id", json_integer(e->ulValueType));
	set(eo, "size", json_integer(e->cbValueData));
	set(eo, "value", jreg_value(e->ulValueType, e->pValueData,
				    e->cbValueData));
	set(eo, "data", jhex(e->pValueData, e->cbValueData));
	return eo;
}

static json_t *dump_policy(const struct OP_POLICY_PART *pp)
{
	json_t *lists = json_array();
	json_t *o = json_object();
	uint32_t i, j;

	for (i = 0; i < pp->cElementLists; i++) {
		const struct OP_POLICY_ELEMENT_LIST *l = &pp->pElementLists[i];
		json_t *lo = json_object();
		json_t *els = json_array();

		set(lo, "source", jstr(l->pSource));
		set(lo, "root_key_id", jhex32(l->ulRootKeyId));
		set(lo, "root_key", json_string(root_key_name(
						     l->ulRootKeyId)));
		for (j = 0; j < l->cElements; j++) {
			json_array_append_new(els, dump_policy_element(
						      &l->pElements[j]));
		}
		set(lo, "elements", els);
		json_array_append_new(lists, lo);
	}
	set(o, "element_lists", lists);
	set(o, "extension_size", json_integer(pp->Extension.cbBlob));
	return o;
}

json_t *odj_dump_policy_json(const struct OP_POLICY_PART *pp)
{
	if (pp == NULL) {
		return NULL;
	}
	return dump_policy(pp);
}

NTSTATUS odj_policy_json_text(TALLOC_CTX *mem_ctx,
			      const struct OP_POLICY_PART *part,
			      char **_text)
{
	json_t *tree = NULL;
	char *text = NULL;
	char *copy = NULL;

	if (part == NULL ||
	    (part->cElementLists > 0 && part->pElementLists == NULL)) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tree = odj_dump_policy_json(part);
	if (tree == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	text = json_dumps(tree, JSON_INDENT(2));
	json_decref(tree);
	if (text == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	copy = talloc_asprintf(mem_ctx, "%s\n", text);
	free(text);
	if (copy == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*_text = copy;
	return NT_STATUS_OK;
}
