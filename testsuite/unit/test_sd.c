/*
 * samba-odj unit tests: security descriptors (source/lib/dc/sd.c), the
 * owner the reuse guard reads and the owner-only descriptor
 * owner=domain_admins writes.  Vectors captured from a Samba 4.17 DC: see
 * testsuite/data/README.md.  Hostile bytes must fail cleanly.
 */

#include "odj_test.h"

#define SD_FULL ODJ_TEST_DATA("samba-4.17-computer-sd.bin")
#define SD_OWNER ODJ_TEST_DATA("samba-4.17-computer-sd-owner.bin")

/* the delegated user who created the account */
#define VECTOR_OWNER "S-1-5-21-441624990-2964034127-3189143406-1103"
#define DOMAIN_ADMINS "S-1-5-21-441624990-2964034127-3189143406-512"

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static char *owner_string(TALLOC_CTX *ctx, DATA_BLOB sd, NTSTATUS *status,
			  char **why)
{
	struct ODJ_SID *owner = NULL;

	*status = odj_sd_owner(ctx, sd, &owner, why);
	if (!NT_STATUS_IS_OK(*status)) {
		return NULL;
	}
	return odj_sid_string(ctx, owner);
}

/* A descriptor as a DC returns it to an administrator: owner, group,
 * SACL and DACL. */
static void test_full_descriptor(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	DATA_BLOB sd = odj_test_read(t, SD_FULL);
	NTSTATUS status;
	char *s = owner_string(t, sd, &status, NULL);

	assert_nt_ok(status);
	assert_string_equal(s, VECTOR_OWNER);
	TALLOC_FREE(t);
}

/* What the SD flags control (owner only) gives a delegated non-admin. */
static void test_owner_only_descriptor(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	DATA_BLOB sd = odj_test_read(t, SD_OWNER);
	NTSTATUS status;
	char *s = owner_string(t, sd, &status, NULL);

	assert_nt_ok(status);
	assert_string_equal(s, VECTOR_OWNER);
	TALLOC_FREE(t);
}

/* Ours is byte for byte what the DC writes for an owner alone. */
static void test_build_matches_dc(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	DATA_BLOB want = odj_test_read(t, SD_OWNER);
	struct ODJ_SID sid;
	DATA_BLOB got = data_blob_null;

	assert_true(odj_sid_parse(VECTOR_OWNER, &sid, t));
	assert_nt_ok(odj_sd_owner_only(t, &sid, &got));
	assert_blob_equal(got, want);
	TALLOC_FREE(t);
}

static void test_round_trip(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	struct ODJ_SID sid;
	DATA_BLOB sd = data_blob_null;
	NTSTATUS status;
	char *s = NULL;

	assert_true(odj_sid_parse(DOMAIN_ADMINS, &sid, t));
	assert_nt_ok(odj_sd_owner_only(t, &sid, &sd));
	assert_int_equal(sd.length, 20 + 8 + 4 * 5);
	s = owner_string(t, sd, &status, NULL);
	assert_nt_ok(status);
	assert_string_equal(s, DOMAIN_ADMINS);
	/* a SID without subauthorities is a SID too */
	assert_true(odj_sid_parse("S-1-5", &sid, t));
	assert_nt_ok(odj_sd_owner_only(t, &sid, &sd));
	s = owner_string(t, sd, &status, NULL);
	assert_nt_ok(status);
	assert_string_equal(s, "S-1-5");
	assert_nt_equal(odj_sd_owner_only(t, NULL, &sd),
			NT_STATUS_INVALID_PARAMETER);
	TALLOC_FREE(t);
}

/* Every prefix of a real descriptor fails cleanly: its DACL ends it. */
static void test_truncated(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	DATA_BLOB sd = odj_test_read(t, SD_FULL);
	struct ODJ_SID *owner = NULL;
	size_t len;

	for (len = 0; len < sd.length; len++) {
		char *why = NULL;
		NTSTATUS status = odj_sd_owner(t, data_blob_const(sd.data,
								  len),
					       &owner, &why);

		if (NT_STATUS_IS_OK(status)) {
			fail_msg("a descriptor cut at %zu of %zu bytes "
				 "parsed", len, sd.length);
		}
		assert_nt_equal(status, NT_STATUS_INVALID_SECURITY_DESCR);
		assert_why(why, "not a self-relative security descriptor");
		TALLOC_FREE(why);
	}
	TALLOC_FREE(t);
}

/* Offsets out of range, bad counts and revisions: errors, no crash. */
static void test_hostile(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	DATA_BLOB good = odj_test_read(t, SD_OWNER);
	DATA_BLOB sd = data_blob_talloc(t, good.data, good.length);
	struct ODJ_SID *owner = NULL;
	char *why = NULL;

	/* owner far beyond the end */
	put_le32(sd.data + 4, 0xfffffff0);
	assert_nt_equal(odj_sd_owner(t, sd, &owner, &why),
			NT_STATUS_INVALID_SECURITY_DESCR);
	assert_why(why, "48 bytes");
	/* owner at the very end: a SID with no bytes */
	put_le32(sd.data + 4, sd.length);
	assert_nt_equal(odj_sd_owner(t, sd, &owner, NULL),
			NT_STATUS_INVALID_SECURITY_DESCR);
	memcpy(sd.data, good.data, good.length);
	/* a SID cut short: 5 subauthorities, 4 present */
	assert_nt_equal(odj_sd_owner(t, data_blob_const(sd.data, 44), &owner,
				     NULL),
			NT_STATUS_INVALID_SECURITY_DESCR);
	/* more subauthorities than a SID may have */
	sd.data[21] = 16;
	assert_nt_equal(odj_sd_owner(t, sd, &owner, NULL),
			NT_STATUS_INVALID_SECURITY_DESCR);
	/* 15, the most: but only 5 are there */
	sd.data[21] = 15;
	assert_nt_equal(odj_sd_owner(t, sd, &owner, NULL),
			NT_STATUS_INVALID_SECURITY_DESCR);
	memcpy(sd.data, good.data, good.length);
	/* a DACL beyond the end, and one shorter than its own header */
	put_le32(sd.data + 16, 0x7fffffff);
	assert_nt_equal(odj_sd_owner(t, sd, &owner, NULL),
			NT_STATUS_INVALID_SECURITY_DESCR);
	put_le32(sd.data + 16, 20);
	sd.data[22] = 4;	/* the "ACL" at 20 claims 4 bytes */
	sd.data[23] = 0;
	assert_nt_equal(odj_sd_owner(t, sd, &owner, NULL),
			NT_STATUS_INVALID_SECURITY_DESCR);
	memcpy(sd.data, good.data, good.length);
	/* revision 2, and an absolute (not self-relative) descriptor */
	sd.data[0] = 2;
	assert_nt_equal(odj_sd_owner(t, sd, &owner, NULL),
			NT_STATUS_INVALID_SECURITY_DESCR);
	sd.data[0] = 1;
	sd.data[3] = 0;
	assert_nt_equal(odj_sd_owner(t, sd, &owner, NULL),
			NT_STATUS_INVALID_SECURITY_DESCR);
	memcpy(sd.data, good.data, good.length);
	/* no owner: not found, and said so */
	put_le32(sd.data + 4, 0);
	TALLOC_FREE(why);
	assert_nt_equal(odj_sd_owner(t, sd, &owner, &why),
			NT_STATUS_NOT_FOUND);
	assert_why(why, "no owner");
	memcpy(sd.data, good.data, good.length);
	/* an owner SID of revision 0 */
	sd.data[20] = 0;
	assert_nt_equal(odj_sd_owner(t, sd, &owner, NULL),
			NT_STATUS_INVALID_SID);
	assert_null(owner);
	TALLOC_FREE(t);
}

/* Every byte of the header and the SID set to every value: never a crash,
 * and an owner only where the bytes still hold one. */
static void test_every_byte(void **state)
{
	TALLOC_CTX *t = talloc_new(*state);
	DATA_BLOB good = odj_test_read(t, SD_OWNER);
	DATA_BLOB sd = data_blob_talloc(t, good.data, good.length);
	size_t i;
	unsigned v;

	for (i = 0; i < sd.length; i++) {
		for (v = 0; v < 256; v++) {
			struct ODJ_SID *owner = NULL;
			NTSTATUS status;

			sd.data[i] = v;
			status = odj_sd_owner(t, sd, &owner, NULL);
			if (NT_STATUS_IS_OK(status)) {
				assert_non_null(owner);
				assert_true(owner->SubAuthorityCount <= 15);
				TALLOC_FREE(owner);
			}
		}
		sd.data[i] = good.data[i];
	}
	TALLOC_FREE(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_full_descriptor),
		odj_test(test_owner_only_descriptor),
		odj_test(test_build_matches_dc),
		odj_test(test_round_trip),
		odj_test(test_truncated),
		odj_test(test_hostile),
		odj_test(test_every_byte),
	};

	return odj_test_run(tests);
}
