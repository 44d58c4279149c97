/*
 * samba-odj unit tests: branch offices with an RODC: the site record for
 * Samba's DC locator (client/sitename.c), the input and the report of
 * odj rodc-preload (dc/preload_io.c), and how odj_preload_send() takes
 * what its helper says (dc/preload.c), bad answers included.
 */

#include "client_test.h"

#include <endian.h>
#include <tevent.h>
#include <jansson.h>

/*
 * What Samba 4.17 itself stores after a CLDAP reply naming the client
 * site "Branch" (net ads info against the test RODC, then tdbdump of
 * gencache.tdb; amd64: a 64-bit little-endian time_t): the expiry
 * get_time_t_max(), the value with its NUL, zlib's CRC-32.
 */
static const uint8_t SAMBA_REALM_RECORD[] = {
	0x7f, 0xa9, 'T', '|', 0xab, 0xc2, 0xf0, 0x00,
	'B', 'r', 'a', 'n', 'c', 'h', 0x00, 0xdf, 0xb4, 0x05, 0xce
};
static const uint8_t SAMBA_DOMAIN_RECORD[] = {
	0x7f, 0xa9, 'T', '|', 0xab, 0xc2, 0xf0, 0x00,
	'B', 'r', 'a', 'n', 'c', 'h', 0x00, 0xdc, 0xfa, 0xea, 0xd9
};

static TDB_DATA fetch(struct tdb_context *tdb, const char *key)
{
	TDB_DATA k = {
		.dptr = discard_const_p(uint8_t, key),
		.dsize = strlen(key) + 1,
	};

	return tdb_fetch(tdb, k);
}

static void test_sitename_record(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	char *dir = scratch(t);
	char *lock = talloc_asprintf(t, "%s/lock", dir);
	struct tdb_context *tdb = NULL;
	char *path = NULL, *why = NULL;
	TDB_DATA v;

	/* the lock directory is made if missing, as winbindd would */
	assert_nt_ok(odj_sitename_store(t, lock, "odj.test", "odj", "Branch",
					&path, &why));
	assert_string_equal(path, talloc_asprintf(t, "%s/gencache.tdb",
						  lock));
	tdb = tdb_open(path, 0, 0, O_RDONLY, 0);
	assert_non_null(tdb);
	v = fetch(tdb, "AD_SITENAME/DOMAIN/ODJ.TEST");
	if (sizeof(time_t) == 8 && htole32(1) == 1) {
		odj_test_bytes_equal(v.dptr, v.dsize, SAMBA_REALM_RECORD,
				     sizeof(SAMBA_REALM_RECORD));
	}
	free(v.dptr);
	v = fetch(tdb, "AD_SITENAME/DOMAIN/ODJ");
	if (sizeof(time_t) == 8 && htole32(1) == 1) {
		odj_test_bytes_equal(v.dptr, v.dsize, SAMBA_DOMAIN_RECORD,
				     sizeof(SAMBA_DOMAIN_RECORD));
	}
	free(v.dptr);
	tdb_close(tdb);

	/* again: replaced, not added */
	assert_nt_ok(odj_sitename_store(t, lock, "ODJ.TEST", "ODJ", "Site2",
					&path, &why));
	tdb = tdb_open(path, 0, 0, O_RDONLY, 0);
	assert_non_null(tdb);
	v = fetch(tdb, "AD_SITENAME/DOMAIN/ODJ.TEST");
	assert_int_equal(v.dsize, 8 + 6 + 4);
	assert_memory_equal(v.dptr + 8, "Site2", 6);
	free(v.dptr);
	tdb_close(tdb);
	scratch_done(dir);
	TALLOC_FREE(t);
}

static void test_sitename_unwritable(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	char *path = NULL, *why = NULL;

	assert_false(NT_STATUS_IS_OK(odj_sitename_store(
		t, "/proc/odj-no-such/lock", "odj.test", "ODJ", "Branch",
		&path, &why)));
	assert_non_null(why);
	assert_null(path);
	TALLOC_FREE(t);
}

static char *write_file(TALLOC_CTX *ctx, const char *dir, const char *name,
			const char *text)
{
	char *path = talloc_asprintf(ctx, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_preload_from_report(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	char *dir = scratch(t);
	struct odj_preload_machine *m = NULL;
	size_t n = 0, left = 0;
	char *why = NULL;
	char *path = write_file(t, dir, "r.json",
		"{\"domain\": \"odj.test\", \"machines\": ["
		"{\"name\": \"WS1\", \"status\": \"created\","
		" \"sid\": \"S-1-5-21-1-2-3-1105\"},"
		"{\"name\": \"WS2\", \"status\": \"failed\", \"sid\": null},"
		"{\"name\": \"WS3\", \"status\": \"skipped\","
		" \"sid\": \"S-1-5-21-1-2-3-1107\"},"
		"{\"name\": \"WS4\", \"status\": \"pending\"},"
		"{\"name\": \"WS5\", \"status\": \"reused\"}]}");

	assert_nt_ok(odj_preload_from_report(t, path, &m, &n, &left, &why));
	assert_int_equal(n, 3);
	assert_int_equal(left, 2);
	assert_string_equal(m[0].name, "WS1");
	assert_string_equal(m[0].sid, "S-1-5-21-1-2-3-1105");
	assert_string_equal(m[1].name, "WS3");
	assert_string_equal(m[2].name, "WS5");
	assert_null(m[2].sid);
	assert_int_equal(m[0].status, ODJ_PRELOAD_PENDING);
	TALLOC_FREE(m);

	path = write_file(t, dir, "bad.json", "{\"machines\": 1}");
	assert_nt_equal(odj_preload_from_report(t, path, &m, &n, &left, &why),
			NT_STATUS_INVALID_PARAMETER);
	path = write_file(t, dir, "broken.json", "{\"machines\": [");
	assert_nt_equal(odj_preload_from_report(t, path, &m, &n, &left, &why),
			NT_STATUS_INVALID_PARAMETER);
	path = write_file(t, dir, "none.json",
			  "{\"machines\": [{\"name\": \"X\", \"status\": "
			  "\"failed\"}]}");
	assert_nt_equal(odj_preload_from_report(t, path, &m, &n, &left, &why),
			NT_STATUS_NOT_FOUND);
	path = write_file(t, dir, "noname.json",
			  "{\"machines\": [{\"status\": \"created\"}]}");
	assert_nt_equal(odj_preload_from_report(t, path, &m, &n, &left, &why),
			NT_STATUS_INVALID_PARAMETER);
	scratch_done(dir);
	TALLOC_FREE(t);
}

static void copy_file(TALLOC_CTX *ctx, const char *from, const char *to)
{
	DATA_BLOB b = odj_test_read(ctx, from);
	FILE *f = fopen(to, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(b.data, 1, b.length, f), b.length);
	fclose(f);
	TALLOC_FREE(b.data);
}

static void test_preload_from_savedir(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	char *dir = scratch(t);
	struct odj_preload_machine *m = NULL;
	size_t n = 0;
	char *why = NULL;

	assert_nt_equal(odj_preload_from_savedir(t, dir, &m, &n, &why),
			NT_STATUS_NOT_FOUND);
	TALLOC_FREE(why);
	copy_file(t, WINDOWS_ODJ, talloc_asprintf(t, "%s/b.odj", dir));
	copy_file(t, REQ_ODJ, talloc_asprintf(t, "%s/a.odj", dir));
	write_file(t, dir, "notes.txt", "not a blob, not read");
	assert_nt_ok(odj_preload_from_savedir(t, dir, &m, &n, &why));
	assert_int_equal(n, 2);
	/* in name order, each with the account SID its blob names */
	assert_true(strcasecmp(m[0].name, m[1].name) < 0);
	assert_non_null(m[0].sid);
	assert_true(strncmp(m[0].sid, "S-1-5-21-", 9) == 0);
	TALLOC_FREE(m);
	write_file(t, dir, "c.odj", "garbage");
	assert_false(NT_STATUS_IS_OK(odj_preload_from_savedir(t, dir, &m, &n,
							       &why)));
	assert_non_null(strstr(why, "c.odj"));
	scratch_done(dir);
	TALLOC_FREE(t);
}

static void test_preload_report(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_preload_machine m[] = {
		{ .name = "A", .status = ODJ_PRELOAD_CACHED, .dn = "CN=A" },
		{ .name = "B", .status = ODJ_PRELOAD_DENIED,
		  .error = "WERR_DS_DRA_SECRETS_DENIED", .message = "no" },
		{ .name = "C", .status = ODJ_PRELOAD_SKIPPED },
		{ .name = "D" },
	};
	struct odj_preload_run run = { .rodc = "rodc1.odj.test",
				       .dc = "dc1.odj.test" };
	struct odj_preload_summary s;
	json_t *tree = NULL;

	odj_preload_summarize(m, 4, &s);
	assert_int_equal(s.total, 4);
	assert_int_equal(s.cached, 1);
	assert_int_equal(s.denied, 1);
	assert_int_equal(s.skipped, 1);
	assert_int_equal(s.pending, 1);
	tree = odj_preload_report_tree(&run, m, 4);
	assert_non_null(tree);
	assert_string_equal(json_string_value(json_object_get(
		json_array_get(json_object_get(tree, "machines"), 1),
		"status")), "denied");
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(tree, "summary"), "pending")), 1);
	json_decref(tree);
	assert_string_equal(odj_preload_status_name(99), "unknown");
	TALLOC_FREE(t);
}

/* odj_preload_send() with @p script as its helper: what does it make of it */
static NTSTATUS run_helper(TALLOC_CTX *ctx, const char *dir,
			   const char *script, struct odj_preload_machine *m,
			   size_t n, char **why)
{
	char *helper = write_file(ctx, dir, "helper", script);
	struct tevent_context *ev = tevent_context_init(ctx);
	struct odj_preload_options o = {
		.helper = helper, .smbconf = "/dev/null", .debuglevel = -1,
	};
	struct odj_preload_run run;
	struct tevent_req *req = NULL;
	NTSTATUS status;

	assert_int_equal(chmod(helper, 0700), 0);
	assert_non_null(ev);
	req = odj_preload_send(ctx, ev, &o, m, n);
	assert_non_null(req);
	assert_true(tevent_req_poll(req, ev));
	status = odj_preload_recv(req, ctx, &run, why);
	TALLOC_FREE(req);
	TALLOC_FREE(ev);
	return status;
}

/* a helper that says LINES (shell echo arguments, one line each) */
static char *says(TALLOC_CTX *ctx, const char *check, const char *lines[])
{
	char *script = talloc_asprintf(ctx, "#!/bin/sh\n%s", check);
	size_t i;

	for (i = 0; script != NULL && lines[i] != NULL; i++) {
		script = talloc_asprintf_append(script, "echo '%s'\n",
						lines[i]);
	}
	assert_non_null(script);
	return script;
}

#define EV(x) "{\"event\": " x "}"

static void test_preload_helper_answers(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	char *dir = scratch(t);
	struct odj_preload_machine m[2] = {
		{ .name = "WS1", .sid = "S-1-5-21-1-2-3-4" }, { .name = "WS2" },
	};
	const char *good[] = {
		EV("\"start\", \"rodc\": \"r\", \"dc\": \"d\""),
		EV("\"machine\", \"name\": \"WS1\", \"status\": \"cached\","
		   " \"dn\": \"CN=WS1\""),
		EV("\"machine\", \"name\": \"ws2\", \"status\": \"denied\","
		   " \"error\": \"E\", \"message\": \"M\""),
		EV("\"end\", \"interrupted\": false"),
		NULL
	};
	const char *fatal[] = {
		EV("\"fatal\", \"kind\": \"local\","
		   " \"message\": \"not an RODC\""),
		NULL
	};
	const char *disorder[] = {
		EV("\"machine\", \"name\": \"WS2\", \"status\": \"cached\""),
		NULL
	};
	const char *garbage[] = { "Traceback", NULL };
	const char *stopped[] = {
		EV("\"machine\", \"name\": \"WS1\", \"status\": \"cached\""),
		EV("\"end\", \"interrupted\": true"),
		NULL
	};
	const char *nothing[] = { NULL };
	char *why = NULL;

	/* it reads the machines on its standard input, as JSON lines */
	assert_nt_ok(run_helper(t, dir, says(t, "grep -q "
		"'{\"name\":\"WS1\",\"sid\":\"S-1-5-21-1-2-3-4\"}' || exit 3\n",
		good), m, 2, &why));
	assert_int_equal(m[0].status, ODJ_PRELOAD_CACHED);
	assert_string_equal(m[0].dn, "CN=WS1");
	assert_int_equal(m[1].status, ODJ_PRELOAD_DENIED);
	assert_string_equal(m[1].message, "M");

	/* a fatal error, with its kind */
	assert_nt_equal(run_helper(t, dir, says(t, "", fatal), m, 2, &why),
			NT_STATUS_INVALID_DOMAIN_ROLE);
	assert_string_equal(why, "not an RODC");

	/* answers out of order, garbage, a helper that dies */
	assert_nt_equal(run_helper(t, dir, says(t, "", disorder), m, 2,
				   &why),
			NT_STATUS_INVALID_NETWORK_RESPONSE);
	assert_nt_equal(run_helper(t, dir, says(t, "", garbage), m, 2, &why),
			NT_STATUS_INVALID_NETWORK_RESPONSE);
	assert_nt_equal(run_helper(t, dir, says(t, "exit 9\n", nothing), m,
				   2, &why),
			NT_STATUS_INTERNAL_ERROR);
	assert_non_null(strstr(why, "exit status 9"));
	/* stopped before all: the rest pending, cancelled */
	m[1].status = ODJ_PRELOAD_PENDING;
	assert_nt_equal(run_helper(t, dir, says(t, "", stopped), m, 2, &why),
			NT_STATUS_CANCELLED);
	assert_int_equal(m[1].status, ODJ_PRELOAD_PENDING);
	scratch_done(dir);
	TALLOC_FREE(t);
}

struct stop_after_first {
	struct tevent_req *req;
	size_t calls;
};

static void stop_after_first(const struct odj_preload_machine *m,
			     size_t done, size_t total, void *private_data)
{
	struct stop_after_first *s = private_data;

	s->calls++;
	odj_preload_stop(s->req);
}

/* odj_preload_stop(): SIGTERM to the helper, which ends as it sees fit */
static void test_preload_stop(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	char *dir = scratch(t);
	struct odj_preload_machine m[2] = {
		{ .name = "WS1" }, { .name = "WS2" },
	};
	/* after its first answer it waits, until the signal */
	char *helper = write_file(t, dir, "helper", "#!/bin/sh\n"
		"trap 'kill $p 2>/dev/null; echo \"{\\\"event\\\": \\\"end\\\", "
		"\\\"interrupted\\\": true}\"; exit 0' TERM\n"
		"echo '{\"event\": \"machine\", \"name\": \"WS1\", "
		"\"status\": \"cached\"}'\n"
		"sleep 30 & p=$!\n"
		"wait\n");
	struct tevent_context *ev = tevent_context_init(t);
	struct stop_after_first s = { .req = NULL };
	struct odj_preload_options o = {
		.helper = helper, .smbconf = "/dev/null", .debuglevel = -1,
		.progress = stop_after_first, .private_data = &s,
	};
	struct odj_preload_run run;
	char *why = NULL;

	assert_int_equal(chmod(helper, 0700), 0);
	s.req = odj_preload_send(t, ev, &o, m, 2);
	assert_non_null(s.req);
	assert_true(tevent_req_poll(s.req, ev));
	assert_nt_equal(odj_preload_recv(s.req, t, &run, &why),
			NT_STATUS_CANCELLED);
	assert_true(run.interrupted);
	assert_int_equal(s.calls, 1);
	assert_int_equal(m[0].status, ODJ_PRELOAD_CACHED);
	assert_int_equal(m[1].status, ODJ_PRELOAD_PENDING);
	TALLOC_FREE(s.req);
	TALLOC_FREE(ev);
	scratch_done(dir);
	TALLOC_FREE(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_sitename_record),
		odj_test(test_sitename_unwritable),
		odj_test(test_preload_from_report),
		odj_test(test_preload_from_savedir),
		odj_test(test_preload_report),
		odj_test(test_preload_helper_answers),
		odj_test(test_preload_stop),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
