/*
 * samba-odj unit tests: Registry.pol (odj_preg.c) and the POLICY part
 * (element lists, NDR round trip, the JSON a client gets).
 */

#include "odj_test.h"
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#define KEY "Software\\Policies\\OdjTest"

/*
 * One entry as Samba's gp_pol.py (ndr_pack(preg.file)) writes it:
 * [Software\Policies\OdjTest;DwordValue;REG_DWORD;4;0x12345678]
 */
static const uint8_t samba_dword_pol[] = {
	'P', 'R', 'e', 'g', 0x01, 0x00, 0x00, 0x00,
	'[', 0, 'S', 0, 'o', 0, 'f', 0, 't', 0, 'w', 0, 'a', 0, 'r', 0,
	'e', 0, '\\', 0, 'P', 0, 'o', 0, 'l', 0, 'i', 0, 'c', 0, 'i', 0,
	'e', 0, 's', 0, '\\', 0, 'O', 0, 'd', 0, 'j', 0, 'T', 0, 'e', 0,
	's', 0, 't', 0, 0, 0, ';', 0,
	'D', 0, 'w', 0, 'o', 0, 'r', 0, 'd', 0, 'V', 0, 'a', 0, 'l', 0,
	'u', 0, 'e', 0, 0, 0, ';', 0,
	0x04, 0x00, 0x00, 0x00, ';', 0,
	0x04, 0x00, 0x00, 0x00, ';', 0,
	0x78, 0x56, 0x34, 0x12, ']', 0,
};

static uint8_t utf16_hello[] = { 'H', 0, 'i', 0, 0xfc, 0, 0, 0 };
static uint8_t qword[] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
static uint8_t multi[] = { 'a', 0, 0, 0, 'b', 0, 'c', 0, 0, 0, 0, 0 };
static uint8_t expand[] = { '%', 0, 'X', 0, '%', 0, 0, 0 };
static uint8_t binary[] = { 0x00, 0x01, 0xfe, 0xff };
static uint8_t dword[] = { 0x78, 0x56, 0x34, 0x12 };
static uint8_t space[] = { ' ', 0, 0, 0 };

static struct odj_preg_entry all_entries[] = {
	{ KEY, "String", 1, { utf16_hello, sizeof(utf16_hello) } },
	{ KEY, "Dword", 4, { dword, sizeof(dword) } },
	{ KEY, "Qword", 11, { qword, sizeof(qword) } },
	{ KEY, "Multi", 7, { multi, sizeof(multi) } },
	{ KEY, "Expand", 2, { expand, sizeof(expand) } },
	{ KEY, "Binary", 3, { binary, sizeof(binary) } },
	{ KEY "\\Sub", "**del.Old", 1, { space, sizeof(space) } },
	{ KEY "\\Sub", "**delvals.", 1, { space, sizeof(space) } },
	{ KEY "\\Empty", "", 0, { NULL, 0 } },
};

static const struct odj_preg all_pol = {
	.num_entries = sizeof(all_entries) / sizeof(all_entries[0]),
	.entries = all_entries,
};

static void assert_entries_equal(const struct odj_preg *a,
				 const struct odj_preg *b)
{
	uint32_t i;

	assert_int_equal(a->num_entries, b->num_entries);
	for (i = 0; i < a->num_entries; i++) {
		assert_string_equal(a->entries[i].key, b->entries[i].key);
		assert_string_equal(a->entries[i].value_name,
				    b->entries[i].value_name);
		assert_int_equal(a->entries[i].type, b->entries[i].type);
		assert_blob_equal(a->entries[i].data, b->entries[i].data);
	}
}

static void test_preg_samba_vector(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct odj_preg *preg = NULL;
	DATA_BLOB again;
	char *why = NULL;

	assert_nt_ok(odj_preg_parse(ctx, data_blob_const(
					    samba_dword_pol,
					    sizeof(samba_dword_pol)),
				    &preg, &why));
	assert_null(why);
	assert_int_equal(preg->num_entries, 1);
	assert_string_equal(preg->entries[0].key, KEY);
	assert_string_equal(preg->entries[0].value_name, "DwordValue");
	assert_int_equal(preg->entries[0].type, 4);
	odj_test_bytes_equal(preg->entries[0].data.data,
			     preg->entries[0].data.length, dword,
			     sizeof(dword));
	/* our writer agrees with Samba's byte for byte */
	assert_nt_ok(odj_preg_push(ctx, preg, &again));
	odj_test_bytes_equal(again.data, again.length, samba_dword_pol,
			     sizeof(samba_dword_pol));
	TALLOC_FREE(again.data);
	TALLOC_FREE(preg);
}

static void test_preg_round_trip(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct odj_preg *preg = NULL;
	DATA_BLOB bytes, again;

	assert_nt_ok(odj_preg_push(ctx, &all_pol, &bytes));
	assert_nt_ok(odj_preg_parse(ctx, bytes, &preg, NULL));
	assert_entries_equal(&all_pol, preg);
	assert_nt_ok(odj_preg_push(ctx, preg, &again));
	assert_blob_equal(bytes, again);
	TALLOC_FREE(again.data);
	TALLOC_FREE(preg);
	TALLOC_FREE(bytes.data);

	/* a header alone is an empty policy */
	assert_nt_ok(odj_preg_parse(ctx, data_blob_const(samba_dword_pol, 8),
				    &preg, NULL));
	assert_int_equal(preg->num_entries, 0);
	TALLOC_FREE(preg);
}

/* Take the Samba vector and break it at @p offset in @p len bytes. */
static DATA_BLOB patched(TALLOC_CTX *ctx, size_t offset, const void *p,
			 size_t len)
{
	DATA_BLOB b = data_blob_talloc(ctx, samba_dword_pol,
				       sizeof(samba_dword_pol));

	memcpy(b.data + offset, p, len);
	return b;
}

static DATA_BLOB cut(TALLOC_CTX *ctx, size_t len)
{
	return data_blob_talloc(ctx, samba_dword_pol, len);
}

struct bad_pol {
	const char *name;
	DATA_BLOB bytes;
	const char *msg;
};

static void test_preg_malformed(void **state)
{
	TALLOC_CTX *ctx = *state;
	/* offsets in samba_dword_pol */
	const size_t key_end = 8 + 2 + 25 * 2;		/* the key's NUL */
	const size_t type_at = key_end + 4 + 11 * 2 + 2;
	const size_t size_at = type_at + 6;
	const size_t len = sizeof(samba_dword_pol);
	struct bad_pol bad[] = {
		{ "empty", data_blob_null, "shorter than the header" },
		{ "header cut", cut(ctx, 7),
		  "shorter than the header" },
		{ "signature", patched(ctx, 0, "PRex", 4), "signature" },
		{ "version", patched(ctx, 4, "\2", 1), "version 2" },
		{ "no opening bracket", patched(ctx, 8, "(", 1),
		  "opening bracket" },
		{ "odd byte after header",
		  cut(ctx, 9), "truncated" },
		{ "key without NUL", cut(ctx, 40),
		  "key name has no terminating NUL" },
		{ "empty key", patched(ctx, 10, "\0\0", 2),
		  "empty key name" },
		{ "separator", patched(ctx, key_end + 2, ",", 1),
		  "expected separator" },
		{ "truncated in type",
		  cut(ctx, type_at + 2),
		  "truncated in type" },
		{ "huge size", patched(ctx, size_at, "\xff\xff\xff\xff", 4),
		  "runs past the end" },
		{ "size two too many", patched(ctx, size_at, "\x07", 1),
		  "runs past the end" },
		{ "size one too few", patched(ctx, size_at, "\x03", 1),
		  "closing bracket" },
		{ "no closing bracket", patched(ctx, len - 2, ")", 1),
		  "closing bracket" },
		{ "closing bracket cut", cut(ctx, len - 1),
		  "truncated before closing bracket" },
		{ "junk after an entry", data_blob_talloc(
			  ctx, "PReg\1\0\0\0x", 9), "truncated" },
		{ "bad UTF-16", patched(ctx, 10, "\x00\xd8\x00\xd8", 4),
		  "UTF-16" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct odj_preg *preg = NULL;
		char *why = NULL;
		NTSTATUS status;

		status = odj_preg_parse(ctx, bad[i].bytes, &preg, &why);
		if (NT_STATUS_IS_OK(status)) {
			fail_msg("accepted: %s", bad[i].name);
		}
		assert_null(preg);
		if (why == NULL || strstr(why, bad[i].msg) == NULL) {
			fail_msg("%s: message \"%s\" lacks \"%s\"",
				 bad[i].name, why != NULL ? why : "(none)",
				 bad[i].msg);
		}
		TALLOC_FREE(why);
		TALLOC_FREE(bad[i].bytes.data);
	}
}

/* A big size must fail before anything is read or allocated */
static void test_preg_too_large(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct odj_preg *preg = NULL;
	char *why = NULL;
	DATA_BLOB huge = data_blob_const(samba_dword_pol,
					 ODJ_PREG_MAX_SIZE + 1);

	assert_nt_equal(odj_preg_parse(ctx, huge, &preg, &why),
			NT_STATUS_FILE_TOO_LARGE);
	assert_why(why, "too large");
	TALLOC_FREE(why);
}

static struct OP_POLICY_PART *make_policy_part(TALLOC_CTX *ctx)
{
	struct OP_POLICY_PART *part = talloc_zero(ctx, struct OP_POLICY_PART);

	part->cElementLists = 2;
	part->pElementLists = talloc_zero_array(
		part, struct OP_POLICY_ELEMENT_LIST, 2);
	assert_nt_ok(odj_policy_element_list(
			     part->pElementLists, &all_pol,
			     "\\\\odj.test\\sysvol\\odj.test\\Policies\\"
			     "{95A7C084-54A6-4319-A71B-400C6A050175}",
			     &part->pElementLists[0]));
	assert_nt_ok(odj_policy_element_list(
			     part->pElementLists, &all_pol, "/tmp/x.pol",
			     &part->pElementLists[1]));
	return part;
}

static void test_element_list(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct OP_POLICY_PART *part = make_policy_part(ctx);
	const struct OP_POLICY_ELEMENT_LIST *l = &part->pElementLists[0];
	uint32_t i;

	assert_int_equal(l->ulRootKeyId, 0x80000002);
	assert_int_equal(l->cElements, all_pol.num_entries);
	assert_non_null(strstr(l->pSource, "{95A7C084"));
	for (i = 0; i < l->cElements; i++) {
		assert_string_equal(l->pElements[i].pKeyPath,
				    all_entries[i].key);
		assert_string_equal(l->pElements[i].pValueName,
				    all_entries[i].value_name);
		assert_int_equal(l->pElements[i].ulValueType,
				 all_entries[i].type);
		odj_test_bytes_equal(l->pElements[i].pValueData,
				     l->pElements[i].cbValueData,
				     all_entries[i].data.data,
				     all_entries[i].data.length);
	}
	TALLOC_FREE(part);
}

static void test_policy_part_ndr(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct OP_POLICY_PART *part = make_policy_part(ctx);
	struct odj_part p = {
		.kind = ODJ_PART_POLICY,
		.type = odj_part_kind_guid(ODJ_PART_POLICY),
		.u.policy = part,
	};
	struct odj_package pkg = { .num_parts = 1, .parts = &p };
	struct odj_blob blob = { .format = ODJ_WIN8_FORMAT, .package = &pkg };
	struct odj_provision_data pd = {
		.version = 1, .num_blobs = 1, .blobs = &blob,
	};
	struct odj_provision_data *back = NULL;
	const struct OP_POLICY_PART *pp = NULL;
	DATA_BLOB enc, again;

	enc = odj_test_encode(ctx, &pd);
	back = odj_test_decode(ctx, enc);
	pp = back->blobs[0].package->parts[0].u.policy;
	assert_int_equal(pp->cElementLists, 2);
	assert_string_equal(pp->pElementLists[1].pSource, "/tmp/x.pol");
	assert_int_equal(pp->pElementLists[0].cElements, all_pol.num_entries);
	assert_string_equal(pp->pElementLists[0].pElements[6].pValueName,
			    "**del.Old");
	again = odj_test_encode(ctx, back);
	assert_blob_equal(enc, again);
	TALLOC_FREE(again.data);
	TALLOC_FREE(back);
	TALLOC_FREE(enc.data);
	TALLOC_FREE(part);
}

static json_t *element(json_t *root, size_t list, size_t i)
{
	json_t *l = json_array_get(json_object_get(root, "element_lists"),
				   list);

	return json_array_get(json_object_get(l, "elements"), i);
}

static void test_write_json(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct OP_POLICY_PART *part = make_policy_part(ctx);
	char dir[] = "/tmp/odj-policy-XXXXXX";
	char *path = NULL;
	json_t *root = NULL;
	json_t *e = NULL;
	json_error_t err;
	struct stat st;
	char *why = NULL;

	assert_non_null(mkdtemp(dir));
	path = talloc_asprintf(ctx, "%s/policy.json", dir);
	assert_nt_ok(odj_policy_write_json(ctx, part, path, &why));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	root = json_load_file(path, 0, &err);
	assert_non_null(root);

	assert_string_equal(json_string_value(json_object_get(
			json_array_get(json_object_get(root, "element_lists"),
				       0), "root_key")), "HKEY_LOCAL_MACHINE");
	e = element(root, 0, 0);
	assert_string_equal(json_string_value(json_object_get(e, "type")),
			    "REG_SZ");
	assert_string_equal(json_string_value(json_object_get(e, "value")),
			    "Hi\xc3\xbc");
	e = element(root, 0, 1);
	assert_int_equal(json_integer_value(json_object_get(e, "value")),
			 0x12345678);
	e = element(root, 0, 2);
	assert_int_equal(json_integer_value(json_object_get(e, "value")),
			 0x1122334455667788LL);
	e = element(root, 0, 3);
	assert_int_equal(json_array_size(json_object_get(e, "value")), 2);
	assert_string_equal(json_string_value(json_array_get(
			json_object_get(e, "value"), 1)), "bc");
	e = element(root, 0, 4);
	assert_string_equal(json_string_value(json_object_get(e, "type")),
			    "REG_EXPAND_SZ");
	assert_string_equal(json_string_value(json_object_get(e, "value")),
			    "%X%");
	e = element(root, 0, 5);
	assert_string_equal(json_string_value(json_object_get(e, "value")),
			    "0001feff");
	e = element(root, 0, 6);
	assert_string_equal(json_string_value(json_object_get(e, "special")),
			    "delete the value: Old");
	e = element(root, 0, 7);
	assert_string_equal(json_string_value(json_object_get(e, "special")),
			    "delete all values of the key");
	json_decref(root);

	/* a directory that is not there */
	assert_nt_not_ok(odj_policy_write_json(ctx, part, "/nonexistent/p.json",
					       &why));
	assert_why(why, "/nonexistent/p.json");
	TALLOC_FREE(why);

	unlink(path);
	rmdir(dir);
	TALLOC_FREE(path);
	TALLOC_FREE(part);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_preg_samba_vector),
		odj_test(test_preg_round_trip),
		odj_test(test_preg_malformed),
		odj_test(test_preg_too_large),
		odj_test(test_element_list),
		odj_test(test_policy_part_ndr),
		odj_test(test_write_json),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
