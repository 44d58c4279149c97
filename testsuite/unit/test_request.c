/*
 * samba-odj unit tests: odj_request() end to end on a scratch smb.conf
 * (client/request.c, client/extensions.c).
 */

#include "client_test.h"

/*
 * odj_request() end to end on a scratch smb.conf: join, join again,
 * refuse another domain, replace it with force.
 */
static struct loadparm_context *client_conf(TALLOC_CTX *ctx, const char *dir,
					    const char *extra)
{
	char *path = talloc_asprintf(ctx, "%s/smb.conf", dir);
	struct loadparm_context *lp = loadparm_init(ctx);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fprintf(f, "[global]\n"
		"\tnetbios name = SAMBAREQ\n\tworkgroup = ODJ\n"
		"\trealm = ODJ.TEST\n\tsecurity = ads\n"
		"\tprivate dir = %s\n\tlock directory = %s\n"
		/* the journal's: the same directory as secrets.tdb's */
		"\tstate directory = %s\n"
		"\tkerberos method = dedicated keytab\n"
		"\tdedicated keytab file = %s/krb5.keytab\n%s",
		dir, dir, dir, dir, extra);
	fclose(f);
	assert_non_null(lp);
	assert_true(lpcfg_load(lp, path));
	return lp;
}

static NTSTATUS request(TALLOC_CTX *ctx, struct loadparm_context *lp,
			const struct odj_provision_data *pd, bool force,
			bool update, char **why)
{
	struct odj_request r = { .force = force, .update_config = update };
	struct odj_request_result *res = NULL;
	struct odj_join *j = join_of(ctx, pd);
	NTSTATUS status;

	r.join = j;
	status = odj_request(ctx, lp, &r, &res, why);
	if (NT_STATUS_IS_OK(status)) {
		assert_non_null(res->keytab);
		assert_int_equal(res->num_keytab_entries, 15);
		assert_false(res->rotates_at_first_contact);
	}
	TALLOC_FREE(res);
	TALLOC_FREE(j);
	return status;
}

static void test_request(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	struct loadparm_context *lp = client_conf(ctx, dir, "");
	char *tdb_path = talloc_asprintf(ctx, "%s/secrets.tdb", dir);
	char *conf_path = talloc_asprintf(ctx, "%s/smb.conf", dir);
	DATA_BLOB ndr = data_blob_null, tdb1, conf1, tdb2, conf2;
	struct odj_provision_data *win = NULL;
	char *why = NULL;

	assert_nt_ok(request(ctx, lp, req_pd(ctx), false, false, &why));
	/* the same blob again: the same account, allowed */
	assert_nt_ok(request(ctx, lp, req_pd(ctx), false, false, &why));

	/* a blob of another domain: smb.conf says no */
	ndr = odj_test_read(ctx, WINDOWS_NDR);
	win = odj_test_decode(ctx, ndr);
	tdb1 = file_bytes(ctx, tdb_path);
	conf1 = file_bytes(ctx, conf_path);
	assert_nt_equal(request(ctx, lp, win, false, false, &why),
			NT_STATUS_INVALID_PARAMETER_MIX);
	TALLOC_FREE(why);
	/* with --update-config: the existing join says no */
	assert_nt_equal(request(ctx, lp, win, false, true, &why),
			NT_STATUS_OBJECT_NAME_COLLISION);
	assert_why(why, "sambareq$ to ODJ");
	TALLOC_FREE(why);
	tdb2 = file_bytes(ctx, tdb_path);
	conf2 = file_bytes(ctx, conf_path);
	assert_blob_equal(tdb1, tdb2);
	assert_blob_equal(conf1, conf2);
	assert_int_equal(count_files(dir), 3);

	/* --force --update-config: replaced, smb.conf follows */
	assert_nt_ok(request(ctx, lp, win, true, true, &why));
	TALLOC_FREE(lp);
	lp = loadparm_init(ctx);
	assert_true(lpcfg_load(lp, conf_path));
	assert_string_equal(lpcfg_realm(lp), "W2K19DOM.BER.REDHAT.COM");
	assert_string_equal(lpcfg_netbios_name(lp), "WURST2");
	assert_int_equal(count_files(dir), 3);
	TALLOC_FREE(lp);
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

/* A POLICY part of one DWORD value, ESSENTIAL or not */
static void add_policy(struct odj_provision_data *pd, bool essential)
{
	struct odj_part *p = add_part(pd, ODJ_PART_POLICY, essential ?
				      OPSPI_PACKAGE_PART_ESSENTIAL : 0);
	struct odj_preg_entry e = {
		.key = "Software\\Policies\\OdjUnit",
		.value_name = "Answer",
		.type = 4,	/* REG_DWORD */
		.data = data_blob_talloc(pd, "\x2a\0\0\0", 4),
	};
	struct odj_preg preg = { .num_entries = 1, .entries = &e };
	struct OP_POLICY_PART *pp = talloc_zero(pd, struct OP_POLICY_PART);

	assert_non_null(pp);
	pp->cElementLists = 1;
	pp->pElementLists = talloc_zero(pp, struct OP_POLICY_ELEMENT_LIST);
	assert_non_null(pp->pElementLists);
	assert_nt_ok(odj_policy_element_list(pp, &preg, "unit.pol",
					     pp->pElementLists));
	p->u.policy = pp;
}

static NTSTATUS request_ext(TALLOC_CTX *ctx, struct loadparm_context *lp,
			    const struct odj_provision_data *pd,
			    const struct odj_request *opts,
			    struct odj_request_result **res, char **why)
{
	struct odj_request r = *opts;
	struct odj_join *j = join_of(ctx, pd);

	r.join = j;
	return odj_request(ctx, lp, &r, res, why);
}

/*
 * The POLICY part: JSON in the state directory by default; skipped only
 * when not essential; a part that cannot be written is a warning, or
 * with ESSENTIAL the end of the join, secrets.tdb untouched.
 */
static void test_request_policy(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *extra = talloc_asprintf(ctx, "\tstate directory = %s\n", dir);
	struct loadparm_context *lp = client_conf(ctx, dir, extra);
	char *tdb_path = talloc_asprintf(ctx, "%s/secrets.tdb", dir);
	char *json = talloc_asprintf(ctx, "%s/odj-policy.json", dir);
	struct odj_provision_data *pd = req_pd(ctx);
	struct odj_request opts = { .skip_policy = true };
	struct odj_request_result *res = NULL;
	DATA_BLOB tdb1, text;
	char *why = NULL;

	add_policy(pd, true);
	assert_nt_equal(request_ext(ctx, lp, pd, &opts, &res, &why),
			NT_STATUS_INVALID_PARAMETER_MIX);
	assert_why(why, "part 3 (POLICY_PROVIDER) is ESSENTIAL");
	assert_int_equal(count_files(dir), 1);	/* smb.conf */
	TALLOC_FREE(why);

	opts.skip_policy = false;
	assert_nt_ok(request_ext(ctx, lp, pd, &opts, &res, &why));
	assert_string_equal(res->policy_file, json);
	assert_null(res->warnings);
	text = file_bytes(ctx, json);
	assert_non_null(memmem(text.data, text.length, "\"Answer\"", 8));
	assert_non_null(memmem(text.data, text.length, "\"value\": 42", 11));
	TALLOC_FREE(res);

	/* essential, and the file cannot be written: nothing changes */
	tdb1 = file_bytes(ctx, tdb_path);
	opts.policy_file = talloc_asprintf(ctx, "%s/none/p.json", dir);
	assert_nt_not_ok(request_ext(ctx, lp, pd, &opts, &res, &why));
	assert_why(why, "ESSENTIAL and cannot be applied");
	assert_blob_equal(tdb1, file_bytes(ctx, tdb_path));
	TALLOC_FREE(why);

	/* not essential: joined, with a warning */
	pd->blobs[1].package->parts[2].flags = 0;
	assert_nt_ok(request_ext(ctx, lp, pd, &opts, &res, &why));
	assert_null(res->policy_file);
	assert_non_null(res->warnings);
	assert_non_null(strstr(res->warnings[0], "not applied"));
	assert_null(res->warnings[1]);
	TALLOC_FREE(res);
	opts.skip_policy = true;
	assert_nt_ok(request_ext(ctx, lp, pd, &opts, &res, &why));
	assert_non_null(strstr(res->warnings[0], "not applied (nopolicy)"));
	TALLOC_FREE(res);
	/* smb.conf, secrets.tdb, keytab, the first JSON; no temporary files */
	assert_int_equal(count_files(dir), 4);
	TALLOC_FREE(lp);
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_request),
		odj_test(test_request_policy),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
