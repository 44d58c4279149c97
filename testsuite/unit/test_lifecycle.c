/*
 * samba-odj unit tests: what became of blobs (dc/life_*.c) without a DC:
 * the rules that decide pending / joined / changed / missing / replaced /
 * disabled, reading blobs from files, directories and batch reports,
 * and a KDC that does not answer.
 */

#include "odj_test.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <unistd.h>
#include <tevent.h>
#include "dc/dc.h"

#define SEC 10000000ULL
/* 2026-12-05T20:00:00Z as NTTIME */
#define T0 ((1796500800ULL + 11644473600ULL) * SEC)
#define DOMAIN_SID "S-1-5-21-1-2-3"
#define MACHINE_SID DOMAIN_SID "-1105"

/* A blob of odj.test that created its account on dc1 */
static struct odj_life_blob blob(void)
{
	struct odj_life_blob b = {
		.path = "/x/WS1.odj",
		.error = NT_STATUS_OK,
		.machine_name = "WS1",
		.account_name = "WS1$",
		.dns_domain = "odj.test",
		.netbios_domain = "ODJ",
		.dc_name = "dc1.odj.test",
		.sid = MACHINE_SID,
		.have_guid = true,
		.password = "x",
		.file_time = T0 + 1 * SEC,
	};

	b.guid.time_low = 0x1234;
	return b;
}

/* Its account as provisioning left it: created with the password */
static struct odj_life_account account(void)
{
	struct odj_life_account a = {
		.dn = "CN=WS1,CN=Computers,DC=odj,DC=test",
		.sid = MACHINE_SID,
		.have_guid = true,
		.uac = 0x1000,
		.pwd_last_set = T0 + 4 * SEC / 10,
		.when_created = T0,
		.have_kvno = true,
		.kvno = 1,
	};

	a.guid.time_low = 0x1234;
	return a;
}

static struct odj_life_status classify(TALLOC_CTX *t,
				       const struct odj_life_blob *b,
				       const struct odj_life_account *a,
				       const char *dc)
{
	struct odj_life_status s;

	odj_life_classify(t, b, a, dc, "odj.test", &s);
	assert_non_null(s.reason);
	return s;
}

static void test_pending(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_life_blob b = blob();
	struct odj_life_account a = account();
	struct odj_life_status s;

	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_PENDING);
	assert_string_equal(s.basis, "kvno");
	assert_true(s.blob_time == a.pwd_last_set);
	assert_true(s.found);
	assert_string_equal(s.dc_name, "dc1.odj.test");

	/* no kvno (a GC, say): the password set with the account */
	a.have_kvno = false;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_PENDING);
	assert_string_equal(s.basis, "creation");

	/* Samba's net offlinejoin provision logs on right away */
	a.last_logon_timestamp = a.pwd_last_set + 2 * SEC / 10;
	b.options = NETSETUP_PROVISION_REUSE_ACCOUNT |
		    NETSETUP_PROVISION_USE_DEFAULT_PASSWORD;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_PENDING);
	TALLOC_FREE(t);
}

static void test_joined(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_life_blob b = blob();
	struct odj_life_account a = account();
	struct odj_life_status s;

	/* winbindd: a logon with the blob's password, then the change */
	a.kvno = 2;
	a.last_logon = T0 + 600 * SEC;
	a.last_logon_timestamp = a.last_logon;
	a.pwd_last_set = T0 + 601 * SEC;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_JOINED);
	assert_string_equal(s.basis, "blob-options");
	assert_true(s.blob_time == a.when_created);
	assert_non_null(strstr(s.reason, "password changed"));

	/* a machine that keeps the provisioned password for now */
	a = account();
	a.last_logon_timestamp = T0 + 3600 * SEC;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_JOINED);
	assert_non_null(strstr(s.reason, "not changed yet"));
	TALLOC_FREE(t);
}

static void test_changed(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_life_blob b = blob();
	struct odj_life_account a = account();
	struct odj_life_status s;

	/* an administrator's reset: no logon */
	a.kvno = 2;
	a.pwd_last_set = T0 + 3600 * SEC;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_CHANGED);
	assert_non_null(strstr(s.reason, "no logon"));

	a.pwd_last_set = 0;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_CHANGED);
	assert_string_equal(s.basis, "pwdLastSet");

	/* no longer a workstation trust account */
	a = account();
	a.uac = 0x2000;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_CHANGED);
	assert_non_null(strstr(s.reason, "workstation"));
	TALLOC_FREE(t);
}

/* A blob that reset an existing account: the file's time decides */
static void test_reuse_file_time(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_life_blob b = blob();
	struct odj_life_account a = account();
	struct odj_life_status s;

	b.options = NETSETUP_PROVISION_REUSE_ACCOUNT;
	a.kvno = 3;
	a.when_created = T0 - 86400 * SEC;
	a.pwd_last_set = T0;
	b.file_time = T0 + SEC / 10;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_PENDING);
	assert_string_equal(s.basis, "file-time");

	a.pwd_last_set = T0 + 60 * SEC;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_CHANGED);
	assert_true(s.blob_time == b.file_time);
	TALLOC_FREE(t);
}

static void test_missing_replaced_disabled(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_life_blob b = blob();
	struct odj_life_account a = account();
	struct odj_life_status s;

	s = classify(t, &b, NULL, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_MISSING);
	assert_false(s.found);
	assert_non_null(strstr(s.reason, "no account WS1$ on dc1.odj.test"));

	/* asked another DC than the blob's maker: say so */
	s = classify(t, &b, NULL, "dc2.odj.test");
	assert_string_equal(s.reason, "not found on dc2.odj.test (made on "
			    "dc1.odj.test: not replicated yet?)");
	b.dc_name = "dc1";
	s = classify(t, &b, NULL, "DC1.odj.test");
	assert_non_null(strstr(s.reason, "no account"));

	b = blob();
	a.sid = DOMAIN_SID "-1200";
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_REPLACED);
	assert_non_null(strstr(s.reason, "objectSid " DOMAIN_SID "-1200"));

	a = account();
	a.guid.time_low = 0x9999;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_REPLACED);
	assert_non_null(strstr(s.reason, "objectGUID"));

	/* no SID or GUID in the blob: nothing to compare */
	b.sid = NULL;
	b.have_guid = false;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_PENDING);

	a = account();
	a.uac |= 0x2;
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_DISABLED);
	TALLOC_FREE(t);
}

static void test_errors(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_life_blob b = blob();
	struct odj_life_account a = account();
	struct odj_life_status s;

	b.dns_domain = "other.test";
	s = classify(t, &b, &a, "dc1.odj.test");
	assert_int_equal(s.state, ODJ_LIFE_ERROR);
	assert_string_equal(s.reason, "/x/WS1.odj: a blob of domain "
			    "other.test, not odj.test (the domain of "
			    "dc1.odj.test)");

	b = (struct odj_life_blob) {
		.path = "/x/bad.odj",
		.error = NT_STATUS_INVALID_PARAMETER,
		.message = "/x/bad.odj: truncated",
	};
	s = classify(t, &b, NULL, NULL);
	assert_int_equal(s.state, ODJ_LIFE_ERROR);
	assert_string_equal(s.reason, "/x/bad.odj: truncated");
	TALLOC_FREE(t);
}

static void test_names(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	char *when = odj_life_time_string(t, T0 + 59 * SEC);

	assert_string_equal(when, "2026-12-05T20:00:59Z");
	assert_null(odj_life_time_string(t, 0));
	assert_string_equal(odj_life_state_name(ODJ_LIFE_JOINED), "joined");
	assert_string_equal(odj_life_state_name(ODJ_LIFE_ERROR), "error");
	assert_string_equal(odj_check_name(ODJ_CHECK_UNCHECKED), "unchecked");
	assert_string_equal(odj_verify_item_name(ODJ_VERIFY_PASSWORD),
			    "password");
	assert_string_equal(odj_expire_action_name(ODJ_EXPIRE_WOULD_DELETE),
			    "would-delete");
	assert_true(odj_life_now() > T0);
	TALLOC_FREE(t);
}

/*
 * Reading blobs
 */

struct scratch {
	char dir[64];
};

static void scratch_new(struct scratch *sc)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(sc->dir, sizeof(sc->dir), "%s/odj-life.XXXXXX",
		 tmp != NULL ? tmp : "/tmp");
	assert_non_null(mkdtemp(sc->dir));
}

static void scratch_file(TALLOC_CTX *t, const struct scratch *sc,
			 const char *name, DATA_BLOB data)
{
	char *p = talloc_asprintf(t, "%s/%s", sc->dir, name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data.data, 1, data.length, f), data.length);
	assert_int_equal(fclose(f), 0);
}

static void scratch_done(TALLOC_CTX *t, const struct scratch *sc)
{
	char *cmd = talloc_asprintf(t, "rm -rf '%s'", sc->dir);

	assert_int_equal(system(cmd), 0);
}

static void test_load_files(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct odj_life_input in[] = {
		{ ODJ_LIFE_FILE, WINDOWS_ODJ },
		{ ODJ_LIFE_FILE, SAMBA_ODJ },
		{ ODJ_LIFE_FILE, WINDOWS_ODJ },		/* listed once */
		{ ODJ_LIFE_FILE, "/nonexistent/x.odj" },
	};
	struct odj_life_blob *b = NULL;
	size_t n = 0;

	assert_nt_ok(odj_life_load(t, in, ARRAY_SIZE(in), &b, &n, NULL));
	assert_int_equal(n, 3);
	assert_nt_ok(b[0].error);
	assert_string_equal(b[0].machine_name, "wurst2");
	assert_string_equal(b[0].account_name, "wurst2$");
	assert_string_equal(b[0].dns_domain, "w2k19dom.ber.redhat.com");
	assert_string_equal(b[0].dc_name,
			    "gdw2k19dc.w2k19dom.ber.redhat.com");
	assert_string_equal(b[0].sid, "S-1-5-21-306967272-1096148586-"
			    "1957995587-1605");
	assert_false(b[0].have_guid);
	assert_int_equal(b[0].options, NETSETUP_PROVISION_USE_DEFAULT_PASSWORD);
	assert_string_equal(b[0].password, "wurst2");
	assert_true(b[0].file_time > T0 / 2);
	assert_nt_ok(b[1].error);
	assert_nt_not_ok(b[2].error);
	assert_why(b[2].message, "/nonexistent/x.odj");
	TALLOC_FREE(t);
}

static void test_load_dir(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	DATA_BLOB win = odj_test_read(t, WINDOWS_ODJ);
	struct odj_life_input in = { ODJ_LIFE_DIR, NULL };
	struct odj_life_blob *b = NULL;
	struct scratch sc;
	size_t n = 0;

	scratch_new(&sc);
	in.path = talloc_asprintf(t, "%s/none", sc.dir);
	/* a directory that is not there: one entry that says so */
	assert_nt_ok(odj_life_load(t, &in, 1, &b, &n, NULL));
	assert_int_equal(n, 1);
	assert_why(b[0].message, "cannot read the directory");
	assert_int_equal(mkdir(in.path, 0700), 0);
	assert_nt_ok(odj_life_load(t, &in, 1, &b, &n, NULL));
	assert_int_equal(n, 1);
	assert_why(b[0].message, "holds no provisioning file");

	scratch_file(t, &sc, "none/b.ODJ", win);
	scratch_file(t, &sc, "none/a.odj", data_blob_const("AAAA", 3));
	scratch_file(t, &sc, "none/c.odj-x1y2z3", win);	/* a temporary */
	scratch_file(t, &sc, "none/notes.txt", win);
	assert_nt_ok(odj_life_load(t, &in, 1, &b, &n, NULL));
	assert_int_equal(n, 2);
	assert_nt_not_ok(b[0].error);		/* a.odj: by name, first */
	assert_why(b[0].message, "/a.odj");
	assert_nt_ok(b[1].error);
	assert_string_equal(b[1].machine_name, "wurst2");
	scratch_done(t, &sc);
	TALLOC_FREE(t);
}

static void test_load_report(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	DATA_BLOB win = odj_test_read(t, WINDOWS_ODJ);
	struct odj_life_input in = { ODJ_LIFE_REPORT, NULL };
	struct odj_life_blob *b = NULL;
	struct scratch sc;
	const char *report = NULL;
	size_t n = 0;

	scratch_new(&sc);
	/* blob paths as the batch wrote them, relative to another cwd */
	report = "{\"domain\": \"x\", \"machines\": ["
		 "{\"name\": \"w\", \"status\": \"created\", "
		 "\"blob\": \"elsewhere/w.odj\"},"
		 "{\"name\": \"f\", \"status\": \"failed\", \"blob\": null}"
		 "]}";
	scratch_file(t, &sc, "report.json",
		     data_blob_const(report, strlen(report)));
	scratch_file(t, &sc, "w.odj", win);
	in.path = talloc_asprintf(t, "%s/report.json", sc.dir);
	assert_nt_ok(odj_life_load(t, &in, 1, &b, &n, NULL));
	assert_int_equal(n, 1);
	assert_nt_ok(b[0].error);
	assert_why(b[0].path, "/w.odj");

	scratch_file(t, &sc, "report.json", data_blob_const("[1,", 3));
	assert_nt_ok(odj_life_load(t, &in, 1, &b, &n, NULL));
	assert_int_equal(n, 1);
	assert_why(b[0].message, "not a batch report");
	scratch_done(t, &sc);
	TALLOC_FREE(t);
}

/*
 * A KDC that does not answer: "cannot check", not "wrong password"
 */

static void test_kdc_unreachable(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct tevent_context *ev = tevent_context_init(t);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	enum odj_kdc_answer answer = ODJ_KDC_ACCEPTED;
	struct odj_kdc *kdc = NULL;
	struct tevent_req *req = NULL;
	char *detail = NULL;
	char port[16];
	int fd;

	/* a port on loopback that nothing listens on (any more) */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(port, sizeof(port), "%u", ntohs(sin.sin_port));
	close(fd);

	assert_nt_ok(odj_kdc_new(t, "127.0.0.1", port, "odj.test", &kdc,
				 NULL));
	req = odj_kdc_check_send(t, ev, kdc, "WS1$", "secret");
	assert_non_null(req);
	assert_true(tevent_req_poll(req, ev));
	assert_nt_ok(odj_kdc_check_recv(req, t, &answer, &detail));
	assert_int_equal(answer, ODJ_KDC_UNAVAILABLE);
	assert_why(detail, "no answer from the KDC at 127.0.0.1 port");
	TALLOC_FREE(req);
	TALLOC_FREE(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_pending),
		odj_test(test_joined),
		odj_test(test_changed),
		odj_test(test_reuse_file_time),
		odj_test(test_missing_replaced_disabled),
		odj_test(test_errors),
		odj_test(test_names),
		odj_test(test_load_files),
		odj_test(test_load_dir),
		odj_test(test_load_report),
		odj_test(test_kdc_unreachable),
	};

	return odj_test_run(tests);
}
