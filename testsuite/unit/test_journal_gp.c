/*
 * samba-odj unit tests: what the Group Policy step of a join
 * (client/policy_apply.c) adds to the staged set and the journal: a copy
 * of another program's staged file (mode, owner, bytes), one staged file
 * per target (drop), a scratch tree removed by a rollback and a
 * roll-forward, and the "remove" entries a roll-forward applies.
 */

#include "client_test.h"

static void write_text(const char *path, const char *text, mode_t mode)
{
	DATA_BLOB b = data_blob_const(text, strlen(text));

	assert_nt_ok(odj_file_write(NULL, path, b, mode, 0, NULL));
}

static bool has_text(TALLOC_CTX *ctx, const char *path, const char *text)
{
	DATA_BLOB b = file_bytes(ctx, path);

	return b.length == strlen(text) && memcmp(b.data, text, b.length) == 0;
}

/* A copy keeps the bytes (binary too), gets the mode and the owner */
static void test_set_copy(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *src = talloc_asprintf(ctx, "%s/src", dir);
	char *dst = talloc_asprintf(ctx, "%s/gpo.tdb", dir);
	static const uint8_t bytes[] = { 'T', 'D', 'B', 0, 1, 0xff, 0, 7 };
	struct odj_staged_set *set = odj_staged_set_new(ctx);
	const struct odj_staged_file *f = NULL;
	struct stat st;

	assert_nt_ok(odj_file_write(NULL, src,
				    data_blob_const(bytes, sizeof(bytes)),
				    0600, 0, NULL));
	assert_nt_ok(odj_staged_set_copy(set, dst, src, 0440, 0, 0, NULL));
	f = odj_staged_set_find(set, dst);
	assert_non_null(f);
	assert_int_equal(stat(odj_staged_tmp_path(f), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0440);
	assert_int_equal(st.st_uid, 0);
	odj_test_bytes_equal(file_bytes(ctx, odj_staged_tmp_path(f)).data,
			     sizeof(bytes), bytes, sizeof(bytes));
	assert_int_equal(access(dst, F_OK), -1);	/* not yet */

	/* not a regular file: refused, nothing staged */
	assert_int_equal(NT_STATUS_V(odj_staged_set_copy(set, dst, dir, 0644,
							 0, 0, NULL)),
			 NT_STATUS_V(NT_STATUS_INVALID_PARAMETER));
	assert_int_equal(odj_staged_set_count(set), 1);

	/* dropped: the staged file is gone, the set has none for dst */
	assert_true(odj_staged_set_drop(set, dst));
	assert_false(odj_staged_set_drop(set, dst));
	assert_null(odj_staged_set_find(set, dst));
	assert_int_equal(count_files(dir), 1);	/* src alone */
	TALLOC_FREE(set);
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

static void test_remove_tree(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *t = talloc_asprintf(ctx, "%s/stage", dir);
	char *cmd = talloc_asprintf(ctx, "mkdir -p %s/tree/etc/x %s/work && "
				    "touch %s/tree/etc/x/a && "
				    "ln -s / %s/tree/root && chmod 0 %s/work",
				    t, t, t, t, t);

	assert_int_equal(system(cmd), 0);
	odj_remove_tree(t);
	assert_int_equal(access(t, F_OK), -1);
	assert_int_equal(access("/etc/passwd", F_OK), 0);	/* not followed */
	odj_remove_tree(t);	/* nothing there: nothing done */
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

/*
 * A journal with a staged file, a scratch tree and a removal: rolled
 * forward, the file is in place, the removed one gone, the tree gone
 */
static void test_journal_forward(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *jpath = talloc_asprintf(ctx, "%s/odj-join.journal", dir);
	char *motd = talloc_asprintf(ctx, "%s/motd", dir);
	char *old = talloc_asprintf(ctx, "%s/gp_old", dir);
	char *tree = talloc_asprintf(ctx, "%s/odj-gp-stage", dir);
	char *inner = talloc_asprintf(ctx, "%s/tree", tree);
	struct odj_journal *j = NULL;
	struct odj_staged_set *set = odj_staged_set_new(ctx);
	const char *done = NULL;

	write_text(motd, "old motd\n", 0644);
	write_text(old, "old rule\n", 0600);
	assert_nt_ok(odj_journal_lock(ctx, jpath, &j, NULL));
	assert_true(odj_journal_lock_fd(j) >= 0);
	assert_nt_ok(odj_journal_begin(j, NULL));
	odj_staged_set_announce(set, odj_journal_intent, j);
	assert_nt_ok(odj_journal_intent(j, "tree", tree, NULL));
	assert_int_equal(mkdir(tree, 0700), 0);
	assert_int_equal(mkdir(inner, 0700), 0);
	assert_nt_ok(odj_staged_set_text(set, motd, 0644, "new motd\n", NULL));
	assert_nt_ok(odj_journal_remove(j, old, NULL));
	assert_nt_ok(odj_journal_add_set(j, set, NULL));
	assert_nt_ok(odj_journal_write(j, NULL));
	odj_staged_set_finish(set);

	/* as if killed now: the next run finds the journal (no tdb record) */
	TALLOC_FREE(j);
	assert_nt_ok(odj_journal_lock(ctx, jpath, &j, NULL));
	assert_nt_ok(odj_journal_recover(j, &done, NULL));
	assert_string_equal(done, "completed");
	assert_true(has_text(ctx, motd, "new motd\n"));
	assert_int_equal(access(old, F_OK), -1);
	assert_int_equal(access(tree, F_OK), -1);
	assert_int_equal(access(jpath, F_OK), -1);
	assert_int_equal(count_files(dir), 1);
	TALLOC_FREE(j);
	TALLOC_FREE(set);
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

/* An intent with a scratch tree: rolled back, nothing of it stays */
static void test_journal_back(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *jpath = talloc_asprintf(ctx, "%s/odj-join.journal", dir);
	char *motd = talloc_asprintf(ctx, "%s/motd", dir);
	char *tree = talloc_asprintf(ctx, "%s/odj-gp-stage", dir);
	char *file = talloc_asprintf(ctx, "%s/report.json", tree);
	struct odj_journal *j = NULL;
	struct odj_staged_set *set = odj_staged_set_new(ctx);
	const char *done = NULL;

	write_text(motd, "old motd\n", 0644);
	assert_nt_ok(odj_journal_lock(ctx, jpath, &j, NULL));
	assert_nt_ok(odj_journal_begin(j, NULL));
	odj_staged_set_announce(set, odj_journal_intent, j);
	assert_nt_ok(odj_journal_intent(j, "tree", tree, NULL));
	assert_int_equal(mkdir(tree, 0700), 0);
	write_text(file, "{}", 0600);
	assert_nt_ok(odj_staged_set_text(set, motd, 0644, "new motd\n", NULL));
	odj_staged_set_finish(set);	/* as a kill leaves them */
	TALLOC_FREE(set);
	TALLOC_FREE(j);

	assert_nt_ok(odj_journal_lock(ctx, jpath, &j, NULL));
	assert_nt_ok(odj_journal_recover(j, &done, NULL));
	assert_string_equal(done, "rolled back");
	assert_true(has_text(ctx, motd, "old motd\n"));
	assert_int_equal(access(tree, F_OK), -1);
	assert_int_equal(count_files(dir), 1);
	TALLOC_FREE(j);
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_set_copy),
		odj_test(test_remove_tree),
		odj_test(test_journal_forward),
		odj_test(test_journal_back),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
