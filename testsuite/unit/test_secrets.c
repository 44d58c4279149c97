/*
 * samba-odj unit tests: the join as Samba stores it: the secrets.tdb records (secrets.c),
 * byte for byte those of Samba's own join, and the database they go
 * into (secrets_db.c).  With Samba's times, the records built here must
 * be Samba's byte for byte, keys and all.
 */

#include "client_test.h"

/* Our record for the vector's blob, with the times Samba's record has */
static struct secrets_domain_info1 *our_info(
	TALLOC_CTX *ctx, krb5_context k5, const struct secrets_domain_info1 *s,
	const struct secrets_domain_info1 *previous)
{
	struct odj_join *j = join_of(ctx, req_pd(ctx));
	struct secrets_domain_info1_password *pw = NULL;
	struct secrets_domain_info1 *info = NULL;
	const char *salt = odj_secrets_salt_principal(ctx, j->account_name,
						      j->dns_domain);
	char *why = NULL;

	assert_non_null(salt);
	assert_nt_ok(odj_secrets_password(ctx, k5, j->machine_password, salt,
					  s->password->change_time,
					  j->dc_address, &pw, &why));
	assert_nt_ok(odj_secrets_join_info(ctx, j, pw, salt, s->join_time,
					   s->password_last_change, previous,
					   &info));
	return info;
}

static void check_info_bytes(const char *dump_path, bool rejoin)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	krb5_context k5 = NULL;
	struct dump *d = read_dump(ctx, dump_path);
	struct dump *d1 = read_dump(ctx, REQ_DUMP1);
	struct secrets_domain_info1 *s = samba_info(ctx, d);
	struct secrets_domain_info1 *prev = rejoin ? samba_info(ctx, d1) : NULL;
	struct secrets_domain_info1 *ours = NULL;
	DATA_BLOB blob = data_blob_null;

	assert_int_equal(krb5_init_context(&k5), 0);
	ours = our_info(ctx, k5, s, prev);
	assert_nt_ok(odj_secrets_info_pack(ctx, ours, &blob));
	assert_blob_equal(blob, *dump_get(d, INFO_KEY));
	krb5_free_context(k5);
	TALLOC_FREE(ctx);
}

/* Samba's record decodes and encodes back to the same bytes */
static void test_info_round_trip(void **state)
{
	TALLOC_CTX *ctx = *state;
	const char *dumps[] = { REQ_DUMP1, REQ_DUMP2 };
	size_t i;

	for (i = 0; i < 2; i++) {
		struct dump *d = read_dump(ctx, dumps[i]);
		struct secrets_domain_info1 *info = samba_info(d, d);
		DATA_BLOB blob = data_blob_null;

		assert_string_equal(info->account_name, "sambareq$");
		assert_int_equal(info->password->num_keys, 3);
		assert_nt_ok(odj_secrets_info_pack(d, info, &blob));
		assert_blob_equal(blob, *dump_get(d, INFO_KEY));
		TALLOC_FREE(d);
	}
}

/* Built from the blob: Samba's record, keys and NT hash included */
static void test_info_as_samba(void **state)
{
	check_info_bytes(REQ_DUMP1, false);
}

/* A second join of the same account keeps the old password, as Samba */
static void test_rejoin_as_samba(void **state)
{
	check_info_bytes(REQ_DUMP2, true);
}

/* Every other record, byte for byte; the key set is Samba's */
static void check_records(const char *dump_path, bool rejoin)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	krb5_context k5 = NULL;
	struct dump *d = read_dump(ctx, dump_path);
	struct secrets_domain_info1 *s = samba_info(ctx, d);
	struct secrets_domain_info1 *prev = NULL;
	struct odj_secrets_record *r = NULL;
	size_t i, n = 0, stored = 0;

	if (rejoin) {
		prev = samba_info(ctx, read_dump(ctx, REQ_DUMP1));
	}
	assert_int_equal(krb5_init_context(&k5), 0);
	assert_nt_ok(odj_secrets_join_records(ctx, our_info(ctx, k5, s, prev),
					      &r, &n));
	for (i = 0; i < n; i++) {
		const DATA_BLOB *v = dump_get(d, r[i].key);

		if (r[i].value.data == NULL) {
			if (v != NULL) {
				fail_msg("%s deleted, Samba has it", r[i].key);
			}
			continue;
		}
		if (v == NULL) {
			fail_msg("%s is not Samba's", r[i].key);
		}
		assert_blob_equal(r[i].value, *v);
		stored++;
	}
	/* Samba's keys: ours, and its machine SID */
	assert_int_equal(stored + 1, d->n);
	assert_non_null(dump_get(d, LOCAL_SID_KEY));
	krb5_free_context(k5);
	TALLOC_FREE(ctx);
}

static void test_records_as_samba(void **state)
{
	check_records(REQ_DUMP1, false);
}

static void test_rejoin_records_as_samba(void **state)
{
	check_records(REQ_DUMP2, true);
}

static void test_salt_principal(void **state)
{
	TALLOC_CTX *ctx = *state;
	char *s = NULL;

	s = odj_secrets_salt_principal(ctx, "sambareq$", "odj.test");
	assert_string_equal(s, "host/sambareq.odj.test@ODJ.TEST");
	TALLOC_FREE(s);
	s = odj_secrets_salt_principal(ctx, "WS1$", "Example.COM");
	assert_string_equal(s, "host/ws1.example.com@EXAMPLE.COM");
	TALLOC_FREE(s);
	s = odj_secrets_salt_principal(ctx, "WS1", "example.com");
	assert_string_equal(s, "host/ws1.example.com@EXAMPLE.COM");
	TALLOC_FREE(s);
}

/* SECRETS/SID/<D>: Samba's struct dom_sid, 68 bytes */
static void test_sid_value(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	struct dump *d = read_dump(ctx, REQ_DUMP1);
	struct secrets_domain_info1 *s = samba_info(ctx, d);
	DATA_BLOB v = data_blob_null;

	assert_nt_ok(odj_secrets_sid_value(ctx, s->domain_info.Sid, &v));
	assert_int_equal(v.length, 68);
	assert_blob_equal(v, *dump_get(d, "SECRETS/SID/ODJ"));
	TALLOC_FREE(ctx);
}

static struct odj_secrets_record rec(const char *key, const char *value)
{
	return (struct odj_secrets_record) {
		.key = key,
		.value = data_blob_const(value, strlen(value) + 1),
	};
}

/* A new secrets.tdb appears only at commit, mode 0600 */
static void test_db_new(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *path = talloc_asprintf(ctx, "%s/secrets.tdb", dir);
	struct odj_secrets_record r = rec("SECRETS/TEST/ODJ", "value");
	struct odj_secrets_db *db = NULL;
	struct tdb_context *tdb = NULL;
	struct stat st;
	TDB_DATA v;

	/* abandoned: nothing left, not even an empty database */
	assert_nt_ok(odj_secrets_db_open(ctx, path, &db, NULL));
	assert_true(odj_secrets_db_created(db));
	assert_nt_ok(odj_secrets_db_apply(db, &r, 1, NULL));
	TALLOC_FREE(db);
	assert_int_equal(count_files(dir), 0);

	assert_nt_ok(odj_secrets_db_open(ctx, path, &db, NULL));
	assert_nt_ok(odj_secrets_db_apply(db, &r, 1, NULL));
	assert_nt_ok(odj_secrets_db_prepare(db, NULL));
	assert_int_equal(stat(path, &st), -1);
	assert_nt_ok(odj_secrets_db_commit(db, NULL));
	TALLOC_FREE(db);
	assert_int_equal(count_files(dir), 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	tdb = tdb_open(path, 0, TDB_DEFAULT, O_RDONLY, 0);
	assert_non_null(tdb);
	v = tdb_fetch(tdb, (TDB_DATA) { .dptr = (uint8_t *)r.key,
					.dsize = strlen(r.key) });
	assert_non_null(v.dptr);
	assert_int_equal(v.dsize, 6);
	free(v.dptr);
	tdb_close(tdb);
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

/* Whether this process holds the memfd of a secrets.tdb snapshot */
static bool have_snapshot_memfd(void)
{
	char link[64], target[256];
	bool found = false;
	int fd;

	for (fd = 0; fd < 1024 && !found; fd++) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			found = strstr(target, "memfd:odj-secrets-snapshot") !=
				NULL;
		}
	}
	return found;
}

/*
 * Open under an RLIMIT_FSIZE below the file's size: the kernel will not
 * copy it into a memfd, the snapshot is taken into memory instead.
 */
static void open_in_memory(TALLOC_CTX *ctx, const char *path,
			   struct odj_secrets_db **db)
{
	struct rlimit old, small;
	void (*old_handler)(int);
	NTSTATUS status;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 512;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	status = odj_secrets_db_open(ctx, path, db, NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_nt_ok(status);
}

/*
 * An existing secrets.tdb comes back byte for byte, also after tdb has
 * written its recovery area (prepare) and the commit never came; from
 * either kind of snapshot.
 */
static void test_db_existing_restored(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	char *dir = scratch(ctx);
	char *path = talloc_asprintf(ctx, "%s/secrets.tdb", dir);
	struct odj_secrets_record r1 = rec("SECRETS/ONE/ODJ", "one");
	struct odj_secrets_record r2 = rec("SECRETS/TWO/ODJ", "two");
	struct odj_secrets_db *db = NULL;
	DATA_BLOB before = data_blob_null, after = data_blob_null;
	int round;

	assert_nt_ok(odj_secrets_db_open(ctx, path, &db, NULL));
	assert_nt_ok(odj_secrets_db_apply(db, &r1, 1, NULL));
	assert_nt_ok(odj_secrets_db_prepare(db, NULL));
	assert_nt_ok(odj_secrets_db_commit(db, NULL));
	TALLOC_FREE(db);
	before = file_bytes(ctx, path);

	for (round = 0; round < 4; round++) {
		if (round < 2) {
			assert_nt_ok(odj_secrets_db_open(ctx, path, &db,
							 NULL));
		} else {
			open_in_memory(ctx, path, &db);
		}
		assert_false(odj_secrets_db_created(db));
		assert_int_equal(have_snapshot_memfd(), round < 2);
		assert_true(odj_secrets_db_exists(db, r1.key));
		assert_nt_ok(odj_secrets_db_apply(db, &r2, 1, NULL));
		if (round % 2 == 1) {
			assert_nt_ok(odj_secrets_db_prepare(db, NULL));
			after = file_bytes(ctx, path);
			/* tdb has written: the point of the snapshot */
			assert_false(after.length == before.length &&
				     memcmp(after.data, before.data,
					    after.length) == 0);
			TALLOC_FREE(after.data);
		}
		assert_true(odj_secrets_db_abort(db));
		TALLOC_FREE(db);
		after = file_bytes(ctx, path);
		assert_blob_equal(after, before);
		TALLOC_FREE(after.data);
	}
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_info_round_trip),
		odj_test(test_info_as_samba),
		odj_test(test_rejoin_as_samba),
		odj_test(test_records_as_samba),
		odj_test(test_rejoin_records_as_samba),
		odj_test(test_salt_principal),
		odj_test(test_sid_value),
		odj_test(test_db_new),
		odj_test(test_db_existing_restored),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
