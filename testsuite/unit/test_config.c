/*
 * samba-odj unit tests: smb.conf for a join (client/config.c).
 */

#include "client_test.h"

/* What odj_config_stage() makes of @p text */
static char *rewritten(TALLOC_CTX *ctx, const char *dir, const char *text,
		       const struct odj_join *j)
{
	char *path = talloc_asprintf(ctx, "%s/smb.conf", dir);
	struct loadparm_context *lp = NULL;
	struct odj_config_change *changes = NULL;
	struct odj_staged_file *staged = NULL;
	DATA_BLOB out = data_blob_null;
	size_t n = 0;
	char *why = NULL;
	char *result = NULL;
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	lp = loadparm_init(ctx);
	assert_non_null(lp);
	assert_true(lpcfg_load(lp, path));
	assert_nt_ok(odj_config_check(ctx, lp, j, &changes, &n, &why));
	if (!NT_STATUS_IS_OK(odj_config_stage(ctx, path, j, changes, n,
					      &staged, &why))) {
		fail_msg("%s", why);
	}
	out = file_bytes(ctx, odj_staged_tmp_path(staged));
	result = talloc_strndup(ctx, (char *)out.data, out.length);
	TALLOC_FREE(staged);		/* not published: removed */
	assert_int_equal(count_files(dir), 1);
	TALLOC_FREE(lp);
	return result;
}

static void test_config_rewrite(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_join *j = join_of(ctx, req_pd(ctx));
	char *dir = scratch(ctx);
	char *s = NULL;

	/* odd spelling and spacing replaced in place; shares untouched */
	s = rewritten(ctx, dir,
		      "# a comment\n"
		      "[global]\n"
		      "  NetBIOSName=old\n"
		      "\tworkgroup = \\\n"
		      "\t\tOLD\n"
		      "[share]\n"
		      "\tpath = /srv\n"
		      "\trealm = untouched\n", j);
	assert_string_equal(s,
		"# a comment\n"
		"[global]\n"
		"  netbios name = SAMBAREQ\n"
		"\tworkgroup = ODJ\n"
		"\trealm = ODJ.TEST\n"
		"\tsecurity = ads\n"
		"[share]\n"
		"\tpath = /srv\n"
		"\trealm = untouched\n");

	/* every global setting, also in a second [global] */
	s = rewritten(ctx, dir,
		      "realm = A.TEST\n"
		      "[global]\n"
		      "security = user\n"
		      "[homes]\n"
		      "[global]\n"
		      "realm = B.TEST\n"
		      "netbios name = sambareq\n"
		      "workgroup = odj\n", j);
	assert_string_equal(s,
		"realm = ODJ.TEST\n"
		"[global]\n"
		"security = ads\n"
		"[homes]\n"
		"[global]\n"
		"realm = ODJ.TEST\n"
		"netbios name = sambareq\n"
		"workgroup = odj\n");

	/* no [global]: one at the top; no final newline kept as it was */
	s = rewritten(ctx, dir, "[data]\n\tpath = /d", j);
	assert_string_equal(s,
		"[global]\n"
		"\tnetbios name = SAMBAREQ\n"
		"\tworkgroup = ODJ\n"
		"\trealm = ODJ.TEST\n"
		"\tsecurity = ads\n"
		"[data]\n\tpath = /d");
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_config_rewrite),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
