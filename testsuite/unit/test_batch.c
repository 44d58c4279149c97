/*
 * samba-odj unit tests: the batch file (odj_batch_file.c), the batch
 * report (odj_batch_report.c) and answer files (odj_unattend.c).
 */

#include "odj_test.h"

#include <unistd.h>
#include <jansson.h>

static NTSTATUS parse(TALLOC_CTX *ctx, const char *text,
		      struct odj_batch_entry **e, size_t *n, char **why)
{
	return odj_batch_parse(ctx, data_blob_const(text, strlen(text)),
			       "t.csv", e, n, why);
}

static void test_plain_names(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_batch_entry *e = NULL;
	size_t n = 0;

	assert_nt_ok(parse(t, "# kiosks\n\nws1\n  ws2  \r\n\n# end\nws3",
			   &e, &n, NULL));
	assert_int_equal(n, 3);
	assert_string_equal(e[0].name, "ws1");
	assert_int_equal(e[0].line, 3);
	assert_string_equal(e[1].name, "ws2");
	assert_int_equal(e[1].line, 4);
	assert_string_equal(e[2].name, "ws3");
	assert_int_equal(e[2].line, 7);
	assert_null(e[0].ou);
	assert_null(e[2].site);
	TALLOC_FREE(t);
}

static void test_default_columns(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_batch_entry *e = NULL;
	size_t n = 0;

	assert_nt_ok(parse(t, "ws1,\"OU=Kiosks,DC=x,DC=y\",WS1NB,Site1,"
			   "corp.example\nws2,,,,\n", &e, &n, NULL));
	assert_int_equal(n, 2);
	assert_string_equal(e[0].ou, "OU=Kiosks,DC=x,DC=y");
	assert_string_equal(e[0].netbios, "WS1NB");
	assert_string_equal(e[0].site, "Site1");
	assert_true(e[0].site_persistent);
	assert_string_equal(e[0].primary_dns, "corp.example");
	/* empty fields take the defaults */
	assert_null(e[1].ou);
	assert_null(e[1].netbios);
	assert_null(e[1].site);
	assert_null(e[1].primary_dns);
	TALLOC_FREE(t);
}

static void test_header(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_batch_entry *e = NULL;
	size_t n = 0;

	/* a UTF-8 BOM, a header in any order and case, a dynamic site */
	assert_nt_ok(parse(t, "\xef\xbb\xbf" "DSite, NAME ,ou\n"
			   "Branch,ws1,\"OU=a \"\"b\"\",DC=x\"\n", &e, &n,
			   NULL));
	assert_int_equal(n, 1);
	assert_string_equal(e[0].name, "ws1");
	assert_string_equal(e[0].ou, "OU=a \"b\",DC=x");
	assert_string_equal(e[0].site, "Branch");
	assert_false(e[0].site_persistent);
	assert_int_equal(e[0].line, 2);
	TALLOC_FREE(t);
}

static void test_header_first_column_name(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_batch_entry *e = NULL;
	size_t n = 0;

	assert_nt_ok(parse(t, "name,site\nws1,S\n", &e, &n, NULL));
	assert_int_equal(n, 1);
	assert_string_equal(e[0].site, "S");
	assert_true(e[0].site_persistent);
	TALLOC_FREE(t);
}

static void test_bad_files(void **state)
{
	static const struct {
		const char *text;
		const char *why;
	} cases[] = {
		{ "ws1\n\"ws2\n", "t.csv, line 2: unterminated quote" },
		{ "\"ws1\"x\n", "line 1: text after a closing quote" },
		{ "ws\"1\n", "a quote inside an unquoted field" },
		{ "ws1,a,b,c,d,e\n", "6 columns, the file has 5" },
		{ "name,owner\nws1,x\n", "unknown column 'owner'" },
		{ "name,ou,OU\n", "column 'OU' given twice" },
		{ "ou,machine_name,x\n", "unknown column 'x'" },
		{ "name,psite,dsite\n", "either persistent" },
		{ ",OU=x\n", "line 1: no machine name" },
		{ "a/b\n", "cannot be a computer name" },
		{ "..\n", "cannot be a computer name" },
		{ "# nothing\n\n", "no machines" },
		{ "name,ou\n", "no machines" },
		{ "a,b,c,d,e,f,g,h,i\n", "more than 8 columns" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TALLOC_CTX *t = talloc_new(*state);
		struct odj_batch_entry *e = NULL;
		size_t n = 0;
		char *why = NULL;

		assert_nt_equal(parse(t, cases[i].text, &e, &n, &why),
				NT_STATUS_INVALID_PARAMETER);
		assert_why(why, cases[i].why);
		assert_null(e);
		TALLOC_FREE(t);
	}
}

static void test_not_text(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_batch_entry *e = NULL;
	size_t n = 0;
	char *why = NULL;
	const uint8_t utf16[] = { 0xff, 0xfe, 'w', 0, 's', 0 };
	const uint8_t nul[] = { 'w', 0, 's' };

	assert_nt_equal(odj_batch_parse(t, data_blob_const(utf16,
							   sizeof(utf16)),
					"t", &e, &n, &why),
			NT_STATUS_ILLEGAL_CHARACTER);
	assert_why(why, "UTF-16");
	assert_nt_equal(odj_batch_parse(t, data_blob_const(nul, sizeof(nul)),
					"t", &e, &n, &why),
			NT_STATUS_ILLEGAL_CHARACTER);
	assert_why(why, "NUL");
	TALLOC_FREE(t);
}

static void test_load(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_batch_entry *e = NULL;
	char path[] = "/tmp/odj-test-batch.XXXXXX";
	size_t n = 0;
	char *why = NULL;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "ws1\nws2\n", 8), 8);
	close(fd);
	assert_nt_ok(odj_batch_load(t, path, &e, &n, &why));
	assert_int_equal(n, 2);
	unlink(path);
	assert_nt_equal(odj_batch_load(t, path, &e, &n, &why),
			NT_STATUS_OBJECT_NAME_NOT_FOUND);
	assert_why(why, path);
	TALLOC_FREE(t);
}

static void test_report(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_batch_entry e[] = {
		{ .line = 1, .name = "ws1" },
		{ .line = 2, .name = "ws2" },
		{ .line = 3, .name = "ws3" },
	};
	struct odj_batch_result r[] = {
		{ .entry = &e[0], .status = ODJ_BATCH_CREATED,
		  .account_dn = "CN=WS1,CN=Computers,DC=x", .rid = 1105,
		  .sid = "S-1-5-21-1-2-3-1105", .blob_path = "d/ws1.odj" },
		{ .entry = &e[1], .status = ODJ_BATCH_FAILED,
		  .error = NT_STATUS_USER_EXISTS, .message = "exists" },
		{ .entry = &e[2], .status = ODJ_BATCH_PENDING },
	};
	struct odj_batch_run run = {
		.domain = "x", .interrupted = true, .seconds = 1.5,
	};
	struct odj_batch_summary s;
	json_t *j = NULL, *m = NULL;
	char *text = NULL;

	odj_batch_summarize(r, 3, &s);
	assert_int_equal(s.total, 3);
	assert_int_equal(s.created, 1);
	assert_int_equal(s.failed, 1);
	assert_int_equal(s.pending, 1);
	assert_string_equal(odj_batch_status_name(ODJ_BATCH_SKIPPED),
			    "skipped");

	assert_nt_ok(odj_batch_report_json(t, &run, r, 3, &text));
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "interrupted")));
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(j, "summary"), "pending")), 1);
	m = json_array_get(json_object_get(j, "machines"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "status")),
			    "created");
	assert_int_equal(json_integer_value(json_object_get(m, "rid")), 1105);
	assert_string_equal(json_string_value(json_object_get(m, "blob")),
			    "d/ws1.odj");
	m = json_array_get(json_object_get(j, "machines"), 1);
	assert_string_equal(json_string_value(json_object_get(m, "error")),
			    "NT_STATUS_USER_EXISTS");
	assert_true(json_is_null(json_object_get(m, "blob")));
	assert_true(json_is_null(json_object_get(m, "rid")));
	json_decref(j);
	TALLOC_FREE(t);
}

static void test_unattend(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	DATA_BLOB ndr = odj_test_read(t, WINDOWS_NDR);
	char *b64 = NULL, *xml = NULL, *why = NULL;
	char *element = NULL;
	const char *p = NULL;

	assert_nt_ok(odj_file_base64(t, ndr, &b64));
	assert_nt_ok(odj_unattend_xml(t, ndr, NULL, &xml, &why));
	element = talloc_asprintf(t, "<AccountData>%s</AccountData>", b64);
	/* the blob in both passes, in that order */
	p = strstr(xml, "<settings pass=\"offlineServicing\">");
	assert_non_null(p);
	p = strstr(p, "<OfflineIdentification>");
	assert_non_null(p);
	p = strstr(p, element);
	assert_non_null(p);
	p = strstr(p, "<settings pass=\"specialize\">");
	assert_non_null(p);
	p = strstr(p, "<Identification>");
	assert_non_null(p);
	assert_non_null(strstr(p, element));
	assert_non_null(strstr(xml, "processorArchitecture=\"amd64\""));
	TALLOC_FREE(xml);

	assert_nt_ok(odj_unattend_xml(t, ndr, "arm64", &xml, &why));
	assert_non_null(strstr(xml, "processorArchitecture=\"arm64\""));
	assert_nt_equal(odj_unattend_xml(t, ndr, "amd64\"", &xml, &why),
			NT_STATUS_INVALID_PARAMETER);
	assert_why(why, "unknown processor architecture");
	assert_nt_equal(odj_unattend_xml(t, data_blob_null, NULL, &xml, &why),
			NT_STATUS_INVALID_PARAMETER);
	TALLOC_FREE(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_plain_names),
		odj_test(test_default_columns),
		odj_test(test_header),
		odj_test(test_header_first_column_name),
		odj_test(test_bad_files),
		odj_test(test_not_text),
		odj_test(test_load),
		odj_test(test_report),
		odj_test(test_unattend),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
