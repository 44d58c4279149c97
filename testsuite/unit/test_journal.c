/*
 * samba-odj unit tests: what makes every file of a join commit together
 * (client/journal.c: the intent, the journal, recovery), how sssd.conf
 * and krb5.conf are edited (client/ini.c), and the image root's paths
 * (client/root.c).
 */

#include "client_test.h"

static char *slurp(TALLOC_CTX *ctx, const char *path)
{
	DATA_BLOB b = odj_test_read(ctx, path);

	return talloc_strndup(ctx, (const char *)b.data, b.length);
}

static void spit(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* A staged set of two files for @p dir, journaled, not yet committed */
static struct odj_journal *journaled(TALLOC_CTX *ctx, const char *dir,
				     struct odj_staged_set **set)
{
	char *jpath = talloc_asprintf(ctx, "%s/" ODJ_JOURNAL_NAME, dir);
	char *sub = talloc_asprintf(ctx, "%s/sub", dir);
	struct odj_journal *j = NULL;
	const char *done = NULL;

	assert_nt_ok(odj_journal_lock(ctx, jpath, &j, NULL));
	assert_nt_ok(odj_journal_recover(j, &done, NULL));
	assert_null(done);
	assert_nt_ok(odj_journal_begin(j, NULL));
	*set = odj_staged_set_new(ctx);
	odj_staged_set_announce(*set, odj_journal_intent, j);
	assert_nt_ok(odj_staged_set_mkdir(*set, sub, 0711, NULL));
	assert_nt_ok(odj_staged_set_text(*set, talloc_asprintf(ctx, "%s/a",
							       dir),
					 0600, "new a\n", NULL));
	assert_nt_ok(odj_staged_set_text(*set, talloc_asprintf(ctx, "%s/b",
							       sub),
					 0644, "new b\n", NULL));
	return j;
}

/* A kill while staging: the next lock's recovery sweeps it all */
static void test_intent_rolls_back(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	struct odj_staged_set *set = NULL;
	struct odj_journal *j = NULL;
	const char *done = NULL;
	struct stat st;

	spit(talloc_asprintf(ctx, "%s/a", dir), "old a\n");
	j = journaled(ctx, dir, &set);
	/* the kill: nobody cleans up, the files stay as they are */
	odj_staged_set_finish(set);
	TALLOC_FREE(j);
	assert_true(count_files(dir) > 2);

	assert_nt_ok(odj_journal_lock(ctx, talloc_asprintf(
		ctx, "%s/" ODJ_JOURNAL_NAME, dir), &j, NULL));
	assert_nt_ok(odj_journal_recover(j, &done, NULL));
	assert_string_equal(done, "rolled back");
	assert_string_equal(slurp(ctx, talloc_asprintf(ctx, "%s/a", dir)),
			    "old a\n");
	assert_int_equal(stat(talloc_asprintf(ctx, "%s/sub", dir), &st), -1);
	assert_int_equal(count_files(dir), 1);	/* a, nothing else */
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

/* Killed after the journal, before secrets.tdb: rolled back */
static void test_uncommitted_rolls_back(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *tdb_path = talloc_asprintf(ctx, "%s/secrets.tdb", dir);
	struct odj_staged_set *set = NULL;
	struct odj_journal *j = NULL;
	struct tdb_context *tdb = tdb_open(tdb_path, 0, TDB_DEFAULT,
					   O_RDWR | O_CREAT, 0600);
	const char *done = NULL;

	assert_non_null(tdb);
	tdb_close(tdb);
	j = journaled(ctx, dir, &set);
	assert_nt_ok(odj_journal_add_set(j, set, NULL));
	assert_nt_ok(odj_journal_record(j, tdb_path, INFO_KEY,
					data_blob_string_const("the join")));
	assert_nt_ok(odj_journal_write(j, NULL));
	odj_staged_set_finish(set);
	TALLOC_FREE(j);		/* killed: secrets.tdb never committed */

	assert_nt_ok(odj_journal_lock(ctx, talloc_asprintf(
		ctx, "%s/" ODJ_JOURNAL_NAME, dir), &j, NULL));
	assert_nt_ok(odj_journal_recover(j, &done, NULL));
	assert_string_equal(done, "rolled back");
	assert_int_equal(count_files(dir), 1);	/* secrets.tdb */
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

/* Killed after secrets.tdb committed: the files are put in place */
static void test_committed_rolls_forward(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *tdb_path = talloc_asprintf(ctx, "%s/secrets.tdb", dir);
	struct odj_staged_set *set = NULL;
	struct odj_journal *j = NULL;
	struct tdb_context *tdb = NULL;
	const char *done = NULL;
	TDB_DATA key = {
		.dptr = discard_const_p(uint8_t, INFO_KEY),
		.dsize = strlen(INFO_KEY),
	};
	struct stat st;

	spit(talloc_asprintf(ctx, "%s/a", dir), "old a\n");
	j = journaled(ctx, dir, &set);
	assert_nt_ok(odj_journal_add_set(j, set, NULL));
	assert_nt_ok(odj_journal_record(j, tdb_path, INFO_KEY,
					data_blob_string_const("the join")));
	assert_nt_ok(odj_journal_write(j, NULL));
	odj_staged_set_finish(set);
	TALLOC_FREE(j);
	/* the commit point, then the kill */
	tdb = tdb_open(tdb_path, 0, TDB_DEFAULT, O_RDWR | O_CREAT, 0600);
	assert_non_null(tdb);
	assert_int_equal(tdb_store(tdb, key, (TDB_DATA) {
		.dptr = discard_const_p(uint8_t, "the join"), .dsize = 8 },
		TDB_REPLACE), 0);
	tdb_close(tdb);

	assert_nt_ok(odj_journal_lock(ctx, talloc_asprintf(
		ctx, "%s/" ODJ_JOURNAL_NAME, dir), &j, NULL));
	assert_nt_ok(odj_journal_recover(j, &done, NULL));
	assert_string_equal(done, "completed");
	assert_string_equal(slurp(ctx, talloc_asprintf(ctx, "%s/a", dir)),
			    "new a\n");
	assert_string_equal(slurp(ctx, talloc_asprintf(ctx, "%s/sub/b",
						       dir)), "new b\n");
	assert_int_equal(stat(talloc_asprintf(ctx, "%s/sub/b", dir), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(stat(talloc_asprintf(ctx, "%s/sub", dir), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0711);
	/* a, secrets.tdb, sub (with b): no journal, no staged file */
	assert_int_equal(count_files(dir), 3);
	assert_int_equal(count_files(talloc_asprintf(ctx, "%s/sub", dir)), 1);
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

/* A journal whose files were changed behind its back stays for a look */
static void test_tampered_stays(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *jpath = talloc_asprintf(ctx, "%s/" ODJ_JOURNAL_NAME, dir);
	struct odj_staged_set *set = NULL;
	struct odj_journal *j = journaled(ctx, dir, &set);
	const char *done = NULL;
	char *why = NULL;
	struct stat st;
	size_t i;

	assert_nt_ok(odj_journal_add_set(j, set, NULL));
	assert_nt_ok(odj_journal_write(j, NULL));	/* no record */
	odj_staged_set_finish(set);
	for (i = 0; i < odj_staged_set_count(set); i++) {
		spit(odj_staged_tmp_path(odj_staged_set_file(set, i)),
		     "tampered\n");
	}
	TALLOC_FREE(j);
	assert_nt_ok(odj_journal_lock(ctx, jpath, &j, NULL));
	assert_nt_equal(odj_journal_recover(j, &done, &why),
			NT_STATUS_DATA_ERROR);
	assert_non_null(strstr(why, "stays for a look"));
	assert_int_equal(stat(jpath, &st), 0);
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

/* sssd.conf: the join's keys set, everything else byte for byte */
static void test_ini_sssd(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_ini *ini = NULL;
	const char *in =
		"# mine\n"
		"[sssd]\n"
		"domains = files\n"
		"services = nss\n"
		"\n"
		"[domain/files]\n"
		"id_provider = files ; comment kept\n"
		"# before the next section, its own\n"
		"[nss]\n";

	assert_nt_ok(odj_ini_parse(ctx, in, ODJ_INI_SSSD, "sssd.conf", &ini,
				   NULL));
	assert_string_equal(odj_ini_get(ini, "sssd", "domains"), "files");
	assert_nt_ok(odj_ini_set(ini, "sssd", "domains", "files, odj.test"));
	assert_nt_ok(odj_ini_set(ini, "domain/odj.test", "id_provider",
				 "ad"));
	assert_string_equal(odj_ini_text(ctx, ini),
		"# mine\n"
		"[sssd]\n"
		"domains = files, odj.test\n"
		"services = nss\n"
		"\n"
		"[domain/files]\n"
		"id_provider = files ; comment kept\n"
		"# before the next section, its own\n"
		"[nss]\n"
		"\n"
		"[domain/odj.test]\n"
		"id_provider = ad\n");
	assert_nt_ok(odj_ini_set(ini, "domain/files", "enumerate", "true"));
	assert_non_null(strstr(odj_ini_text(ctx, ini),
		"id_provider = files ; comment kept\nenumerate = true\n"
		"# before the next section"));
	/* a second one of a key would win in ding-libs: it goes */
	assert_nt_ok(odj_ini_parse(ctx, "[a]\nk = 1\nk = 2\n", ODJ_INI_SSSD,
				   "x", &ini, NULL));
	assert_nt_ok(odj_ini_set(ini, "a", "k", "3"));
	assert_string_equal(odj_ini_text(ctx, ini), "[a]\nk = 3\n");
	assert_nt_equal(odj_ini_parse(ctx, "[a]\nno equals sign\n",
				      ODJ_INI_SSSD, "x", &ini, NULL),
			NT_STATUS_DATA_ERROR);
	assert_nt_equal(odj_ini_parse(ctx, "k = before any section\n",
				      ODJ_INI_SSSD, "x", &ini, NULL),
			NT_STATUS_DATA_ERROR);
	TALLOC_FREE(ctx);
}

/* krb5.conf: subsections and directives kept, only top-level keys set */
static void test_ini_krb5(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_ini *ini = NULL;
	char *why = NULL;
	const char *in =
		"includedir /etc/krb5.conf.d/\n"
		"[libdefaults]\n"
		"\tdefault_realm = OTHER.TEST\n"
		"\tforwardable = true\n"
		"[realms]\n"
		"\tOTHER.TEST = {\n"
		"\t\tkdc = kdc.other.test\n"
		"\t\tdefault_realm = not-top-level\n"
		"\t}\n";

	assert_nt_ok(odj_ini_parse(ctx, in, ODJ_INI_KRB5, "krb5.conf", &ini,
				   NULL));
	assert_nt_ok(odj_ini_set(ini, "libdefaults", "default_realm",
				 "ODJ.TEST"));
	assert_nt_ok(odj_ini_set(ini, "libdefaults", "rdns", "false"));
	assert_nt_ok(odj_ini_set(ini, "realms", "kdc", "top"));
	assert_string_equal(odj_ini_text(ctx, ini),
		"includedir /etc/krb5.conf.d/\n"
		"[libdefaults]\n"
		"\tdefault_realm = ODJ.TEST\n"
		"\tforwardable = true\n"
		"    rdns = false\n"
		"[realms]\n"
		"\tOTHER.TEST = {\n"
		"\t\tkdc = kdc.other.test\n"
		"\t\tdefault_realm = not-top-level\n"
		"\t}\n"
		"    kdc = top\n");
	assert_nt_equal(odj_ini_parse(ctx, "[realms]\n\tX = {\n", ODJ_INI_KRB5,
				      "krb5.conf", &ini, &why),
			NT_STATUS_DATA_ERROR);
	assert_non_null(strstr(why, "without its '}'"));
	assert_nt_equal(odj_ini_parse(ctx, "[realms]\n}\n", ODJ_INI_KRB5,
				      "krb5.conf", &ini, NULL),
			NT_STATUS_DATA_ERROR);
	TALLOC_FREE(ctx);
}

/* An image root: its symbolic links followed inside it, never out */
static void test_root_paths(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *real = NULL;
	struct odj_root *root = NULL;
	const char *path = NULL;
	char *why = NULL;

	assert_int_equal(mkdir(talloc_asprintf(ctx, "%s/etc", dir), 0755), 0);
	assert_int_equal(mkdir(talloc_asprintf(ctx, "%s/srv", dir), 0755), 0);
	/* absolute: from the root; climbing: stops at the root */
	assert_int_equal(symlink("/srv/kt", talloc_asprintf(
		ctx, "%s/etc/krb5.keytab", dir)), 0);
	assert_int_equal(symlink("../../../../etc/passwd", talloc_asprintf(
		ctx, "%s/etc/up", dir)), 0);
	assert_int_equal(symlink("loop", talloc_asprintf(ctx, "%s/etc/loop",
							 dir)), 0);
	assert_nt_ok(odj_root_open(ctx, dir, &root, NULL));
	real = talloc_strdup(ctx, odj_root_dir(root));
	assert_string_equal(odj_root_path(ctx, root, "/etc/krb5.keytab"),
			    talloc_asprintf(ctx, "%s/srv/kt", real));
	assert_string_equal(odj_root_path(ctx, root, "/etc/up"),
			    talloc_asprintf(ctx, "%s/etc/passwd", real));
	assert_string_equal(odj_root_path(ctx, root, "/new/dir/file"),
			    talloc_asprintf(ctx, "%s/new/dir/file", real));
	assert_null(odj_root_path(ctx, root, "/etc/loop"));
	assert_int_equal(errno, ELOOP);
	/* a path given on the command line must lie inside */
	assert_nt_ok(odj_root_arg_path(ctx, root, talloc_asprintf(
		ctx, "%s/etc/krb5.keytab", dir), "keytab", &path, NULL));
	assert_string_equal(path, talloc_asprintf(ctx, "%s/srv/kt", real));
	assert_nt_equal(odj_root_arg_path(ctx, root, "/etc/krb5.keytab",
					  "keytab", &path, &why),
			NT_STATUS_OBJECT_PATH_INVALID);
	assert_non_null(strstr(why, "outside the image root"));
	assert_nt_equal(odj_root_arg_path(ctx, root, talloc_asprintf(
		ctx, "%s/../x", dir), "keytab", &path, NULL),
			NT_STATUS_OBJECT_PATH_INVALID);
	/* not a directory, and / by another name */
	assert_nt_equal(odj_root_open(ctx, talloc_asprintf(ctx, "%s/etc/up",
							   dir),
				      &root, NULL), NT_STATUS_NOT_A_DIRECTORY);
	assert_nt_equal(odj_root_open(ctx, "/etc/..", &root, &why),
			NT_STATUS_INVALID_PARAMETER);
	assert_non_null(strstr(why, "this system's /"));
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_intent_rolls_back),
		odj_test(test_uncommitted_rolls_back),
		odj_test(test_committed_rolls_forward),
		odj_test(test_tampered_stays),
		odj_test(test_ini_sssd),
		odj_test(test_ini_krb5),
		odj_test(test_root_paths),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
