/*
 * samba-odj unit tests: the join a blob describes (codec/join.c): ESSENTIAL parts,
 * encrypted packages, parts that disagree, JOIN_PROVIDER2.
 */

#include "client_test.h"

static NTSTATUS join_status(TALLOC_CTX *ctx, struct odj_provision_data *pd,
			    char **why)
{
	struct odj_join *j = NULL;
	NTSTATUS status = odj_join_from_provision_data(ctx, pd, &j, why);

	TALLOC_FREE(j);
	return status;
}

/* djoin: an ESSENTIAL part that cannot be processed fails the join */
static void test_essential_unknown_part(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_provision_data *pd = req_pd(ctx);
	struct odj_join *j = NULL;
	char *why = NULL;

	add_part(pd, ODJ_PART_UNKNOWN, OPSPI_PACKAGE_PART_ESSENTIAL);
	assert_nt_equal(join_status(ctx, pd, &why),
			NT_STATUS_INVALID_PARAMETER);
	assert_why(why, "part 3 (unknown type 0d15ea5e");
	assert_why(why, "ESSENTIAL");
	TALLOC_FREE(why);

	/* the same part, not essential: ignored, and said so */
	pd->blobs[1].package->parts[2].flags = 0;
	j = join_of(ctx, pd);
	assert_non_null(j->notes);
	assert_non_null(strstr(j->notes[0], "part 3"));
	assert_null(j->notes[1]);
	TALLOC_FREE(ctx);
}

/* CERT and POLICY parts, essential or not, are odj_request()'s business */
static void test_essential_cert_part(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_provision_data *pd = req_pd(ctx);
	struct odj_part *p = add_part(pd, ODJ_PART_CERT,
				      OPSPI_PACKAGE_PART_ESSENTIAL);
	struct odj_join *j = NULL;

	p->u.cert = talloc_zero(pd, struct OP_CERT_PART);
	j = join_of(ctx, pd);
	assert_null(j->notes);
	assert_int_equal(j->num_extensions, 1);
	assert_int_equal(j->extensions[0].kind, ODJ_PART_CERT);
	assert_true(j->extensions[0].essential);
	assert_non_null(j->extensions[0].cert);
	assert_ptr_not_equal(j->extensions[0].cert, p->u.cert);
	assert_string_equal(j->extensions[0].where,
			    "blob 2 part 3 (CERT_PROVIDER)");
	/* the join owns its copy */
	TALLOC_FREE(pd);
	assert_int_equal(j->extensions[0].cert->cPfxStores, 0);
	TALLOC_FREE(ctx);
}

static void test_encrypted_package(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_provision_data *pd = req_pd(ctx);
	char *why = NULL;

	pd->blobs[1].package->encryption_type.time_low = 1;
	assert_nt_equal(join_status(ctx, pd, &why),
			NT_STATUS_INVALID_PARAMETER);
	assert_why(why, "encrypted");
	TALLOC_FREE(ctx);
}

/* JOIN_PROVIDER3's SID must be its RID in the blob's domain */
static void test_jp3_inconsistent(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_provision_data *pd = req_pd(ctx);
	const struct odj_part *p = odj_provision_data_part(
		pd, ODJ_PART_JOIN_PROVIDER3);
	char *why = NULL;

	assert_non_null(p);
	p->u.jp3->Rid += 1;
	assert_nt_equal(join_status(ctx, pd, &why),
			NT_STATUS_INVALID_PARAMETER);
	assert_why(why, "JOIN_PROVIDER3");
	TALLOC_FREE(why);

	p->u.jp3->Rid -= 1;
	p->u.jp3->lpSid = "S-1-5-21-1-2-3-1105";
	assert_nt_equal(join_status(ctx, pd, &why),
			NT_STATUS_INVALID_PARAMETER);
	assert_why(why, "is not RID 1105 of the domain");
	TALLOC_FREE(ctx);
}

/*
 * RID 0: a composed blob that does not know its account (Samba's
 * composeodj writes the domain SID with -0, ours no SID); a join with no
 * account SID, not an error
 */
static void test_jp3_rid_zero(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_provision_data *pd = req_pd(ctx);
	const struct odj_part *p = odj_provision_data_part(
		pd, ODJ_PART_JOIN_PROVIDER3);
	const struct ODJ_WIN7BLOB *w = odj_provision_data_win7(pd);
	struct odj_join *j = NULL;

	assert_non_null(p);
	p->u.jp3->Rid = 0;
	p->u.jp3->lpSid = NULL;
	j = join_of(ctx, pd);
	assert_null(j->machine_sid);
	assert_int_equal(j->rid, 0);

	p->u.jp3->lpSid = talloc_asprintf(ctx, "%s-0", odj_sid_string(
		ctx, w->DnsDomainInfo.Sid));
	j = join_of(ctx, pd);
	assert_null(j->machine_sid);
	assert_int_equal(j->rid, 0);
	TALLOC_FREE(ctx);
}

/* A WIN7 blob alone, and an OP_PACKAGE alone, are joins too */
static void test_win7_only_and_package_only(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_provision_data *pd = req_pd(ctx);
	struct odj_join *j = NULL;

	pd->num_blobs = 1;
	j = join_of(ctx, pd);
	assert_string_equal(j->netbios_domain, "ODJ");
	assert_string_equal(j->account_name, "sambareq$");
	assert_null(j->machine_sid);

	pd = req_pd(ctx);
	pd->blobs[0] = pd->blobs[1];
	pd->num_blobs = 1;
	j = join_of(ctx, pd);
	assert_string_equal(j->dns_domain, "odj.test");
	assert_int_equal(j->rid, 1105);
	assert_non_null(j->machine_sid);
	assert_string_equal(j->dc_address, "127.0.0.40");
	TALLOC_FREE(ctx);
}

/* JOIN_PROVIDER2: the NetBIOS name, site and DNS suffix to use */
static void test_jp2(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_provision_data *pd = req_pd(ctx);
	struct odj_part *p = add_part(pd, ODJ_PART_JOIN_PROVIDER2, 0);
	struct OP_JOINPROV2_PART *jp2 = talloc_zero(pd,
						    struct OP_JOINPROV2_PART);
	struct odj_join *j = NULL;

	jp2->dwFlags = OP_JP2_FLAG_PERSISTENTSITE;
	jp2->lpNetbiosName = "SAMBAREQ";
	jp2->lpSiteName = "Branch";
	jp2->lpPrimaryDNSDomain = "corp.odj.test";
	p->u.jp2 = jp2;
	j = join_of(ctx, pd);
	assert_string_equal(j->netbios_name, "SAMBAREQ");
	assert_string_equal(j->account_name, "SAMBAREQ$");
	assert_string_equal(j->site, "Branch");
	assert_true(j->site_persistent);
	assert_string_equal(j->dns_host_name, "sambareq.corp.odj.test");
	TALLOC_FREE(ctx);
}

static void test_netbios_name_too_long(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct odj_provision_data *pd = req_pd(ctx);
	char *why = NULL;

	pd->blobs[0].win7->lpMachineName = "a-very-long-hostname";
	pd->num_blobs = 1;
	assert_nt_equal(join_status(ctx, pd, &why),
			NT_STATUS_INVALID_COMPUTER_NAME);
	assert_why(why, "JOIN_PROVIDER2");
	TALLOC_FREE(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_essential_unknown_part),
		odj_test(test_essential_cert_part),
		odj_test(test_encrypted_package),
		odj_test(test_jp3_inconsistent),
		odj_test(test_jp3_rid_zero),
		odj_test(test_win7_only_and_package_only),
		odj_test(test_jp2),
		odj_test(test_netbios_name_too_long),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
