/*
 * samba-odj unit tests: the join as Samba stores it (odj_secrets.c), the
 * blob checks before it (odj_request.c), smb.conf edits (odj_config.c)
 * and the keytab (odj_keytab.c).
 *
 * Vectors (testsuite/data/README.md): samba-4.17-requestodj.odj is a blob
 * Samba's "net offlinejoin provision" wrote; samba-4.17-requestodj-1 and
 * -2.tdbdump are the secrets.tdb Samba's "net offlinejoin requestodj"
 * made of it, after one and after a second run.  With Samba's times, the
 * records built here must be Samba's byte for byte, keys and all.
 */

#include "odj_test.h"
#include "client/client.h"
#include "gen_ndr/ndr_secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <param.h>
#include <tdb.h>
#include <krb5/krb5.h>

#define REQ_ODJ ODJ_TEST_DATA("samba-4.17-requestodj.odj")
#define REQ_DUMP1 ODJ_TEST_DATA("samba-4.17-requestodj-1.tdbdump")
#define REQ_DUMP2 ODJ_TEST_DATA("samba-4.17-requestodj-2.tdbdump")
#define INFO_KEY "SECRETS/MACHINE_DOMAIN_INFO/ODJ"
/* Samba's machine SID, made on first use: random, not part of the join */
#define LOCAL_SID_KEY "SECRETS/SID/SAMBAREQ"

struct dump {
	size_t n;
	char **keys;
	DATA_BLOB *values;
};

/* tdbdump's "\XX" escapes back to bytes */
static DATA_BLOB unescape(TALLOC_CTX *ctx, const char *s, size_t len)
{
	DATA_BLOB b = data_blob_talloc(ctx, NULL, len);
	size_t i, n = 0;

	assert_non_null(b.data);
	for (i = 0; i < len; i++) {
		unsigned v = 0;

		if (s[i] == '\\') {
			assert_int_equal(sscanf(s + i + 1, "%2x", &v), 1);
			b.data[n++] = v;
			i += 2;
		} else {
			b.data[n++] = s[i];
		}
	}
	b.length = n;
	return b;
}

static const char *quoted(const char *line, size_t *len)
{
	const char *start = strchr(line, '"');
	const char *end = start != NULL ? strrchr(line, '"') : NULL;

	assert_non_null(start);
	assert_true(end > start);
	*len = end - start - 1;
	return start + 1;
}

static struct dump *read_dump(TALLOC_CTX *ctx, const char *path)
{
	DATA_BLOB text = odj_test_read(ctx, path);
	struct dump *d = talloc_zero(ctx, struct dump);
	char *s = talloc_strndup(d, (char *)text.data, text.length);
	char *line = NULL, *save = NULL;

	assert_non_null(s);
	TALLOC_FREE(text.data);
	for (line = strtok_r(s, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *q = NULL;
		size_t len = 0;

		if (strncmp(line, "key(", 4) == 0) {
			DATA_BLOB k;

			q = quoted(line, &len);
			k = unescape(d, q, len);
			d->keys = talloc_realloc(d, d->keys, char *, d->n + 1);
			d->values = talloc_realloc(d, d->values, DATA_BLOB,
						   d->n + 1);
			assert_non_null(d->keys);
			assert_non_null(d->values);
			d->keys[d->n] = talloc_strndup(d, (char *)k.data,
						       k.length);
			d->values[d->n] = data_blob_null;
			d->n++;
		} else if (strncmp(line, "data(", 5) == 0) {
			assert_true(d->n > 0);
			q = quoted(line, &len);
			d->values[d->n - 1] = unescape(d, q, len);
		}
	}
	TALLOC_FREE(s);
	assert_true(d->n > 0);
	return d;
}

static const DATA_BLOB *dump_get(const struct dump *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		if (strcmp(d->keys[i], key) == 0) {
			return &d->values[i];
		}
	}
	return NULL;
}

static struct odj_provision_data *req_pd(TALLOC_CTX *ctx)
{
	DATA_BLOB ndr = data_blob_null;
	struct odj_provision_data *pd = NULL;

	assert_nt_ok(odj_file_load(ctx, REQ_ODJ, &ndr, NULL));
	pd = odj_test_decode(ctx, ndr);
	TALLOC_FREE(ndr.data);
	return pd;
}

static struct odj_join *join_of(TALLOC_CTX *ctx,
				const struct odj_provision_data *pd)
{
	struct odj_join *j = NULL;
	char *why = NULL;
	NTSTATUS status;

	status = odj_join_from_provision_data(ctx, pd, &j, &why);
	if (!NT_STATUS_IS_OK(status)) {
		fail_msg("%s: %s", nt_errstr(status), why);
	}
	return j;
}

static struct secrets_domain_info1 *samba_info(TALLOC_CTX *ctx,
					       const struct dump *d)
{
	struct secrets_domain_info1 *info = NULL;
	const DATA_BLOB *v = dump_get(d, INFO_KEY);

	assert_non_null(v);
	assert_nt_ok(odj_secrets_info_unpack(ctx, *v, &info, NULL));
	return info;
}

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

/* A part appended to the vector's package */
static struct odj_part *add_part(struct odj_provision_data *pd,
				 enum odj_part_kind kind, uint32_t flags)
{
	struct odj_package *pkg = pd->blobs[1].package;
	struct odj_part *p = NULL;

	assert_non_null(pkg);
	pkg->parts = talloc_realloc(pd, pkg->parts, struct odj_part,
				    pkg->num_parts + 1);
	assert_non_null(pkg->parts);
	p = &pkg->parts[pkg->num_parts++];
	*p = (struct odj_part) { .kind = kind, .flags = flags };
	if (kind == ODJ_PART_UNKNOWN) {
		assert_nt_ok(GUID_from_string(
			"0d15ea5e-0bad-4bad-8bad-000000000001", &p->type));
		p->raw = data_blob_talloc(pd, "\x01\x02\x03\x04", 4);
	} else {
		p->type = odj_part_kind_guid(kind);
	}
	return p;
}

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

/*
 * Files: a scratch directory per test
 */

static int rm_fn(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	return remove(path);
}

static char *scratch(TALLOC_CTX *ctx)
{
	char *dir = talloc_asprintf(ctx, "%s/odj-test-secrets.XXXXXX",
				    getenv("TMPDIR") != NULL ?
				    getenv("TMPDIR") : "/tmp");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void scratch_done(const char *dir)
{
	nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

static int count_files(const char *dir)
{
	char *cmd = talloc_asprintf(NULL, "ls -A '%s' | wc -l", dir);
	FILE *f = popen(cmd, "r");
	int n = -1;

	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	TALLOC_FREE(cmd);
	return n;
}

static DATA_BLOB file_bytes(TALLOC_CTX *ctx, const char *path)
{
	return odj_test_read(ctx, path);
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

/* Keep other principals' entries, replace the machine's */
static void test_keytab(void **state)
{
	TALLOC_CTX *ctx = talloc_new(*state);
	krb5_context k5 = NULL;
	char *dir = scratch(ctx);
	char *path = talloc_asprintf(ctx, "%s/krb5.keytab", dir);
	struct dump *d = read_dump(ctx, REQ_DUMP1);
	struct secrets_domain_info1 *s = samba_info(ctx, d);
	const char *mine[] = { "SAMBAREQ$@ODJ.TEST", "host/x@ODJ.TEST",
			       NULL };
	const char *other[] = { "HTTP/web@ODJ.TEST", "SAMBAREQ$@ODJ.TEST",
				NULL };
	struct odj_staged_file *staged = NULL;
	char *name = talloc_asprintf(ctx, "FILE:%s", path);
	krb5_keytab kt = NULL;
	krb5_kt_cursor cur;
	krb5_keytab_entry e;
	int http = 0, machine = 0, host = 0, ours = 0;
	struct stat st;

	assert_int_equal(krb5_init_context(&k5), 0);
	/* an existing keytab with a web server's key and an old one */
	assert_nt_ok(odj_keytab_stage(ctx, k5, path, other, s->password, 7,
				      &staged, NULL));
	assert_nt_ok(odj_staged_publish(staged, NULL));
	odj_staged_finish(staged);
	TALLOC_FREE(staged);

	assert_nt_ok(odj_keytab_stage(ctx, k5, path, mine, s->password, 1,
				      &staged, NULL));
	assert_nt_ok(odj_staged_publish(staged, NULL));
	odj_staged_finish(staged);
	TALLOC_FREE(staged);
	assert_int_equal(count_files(dir), 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	assert_int_equal(krb5_kt_resolve(k5, name, &kt), 0);
	assert_int_equal(krb5_kt_start_seq_get(k5, kt, &cur), 0);
	while (krb5_kt_next_entry(k5, kt, &e, &cur) == 0) {
		char *p = NULL;

		assert_int_equal(krb5_unparse_name(k5, e.principal, &p), 0);
		if (strcmp(p, "HTTP/web@ODJ.TEST") == 0) {
			assert_int_equal(e.vno, 7);
			http++;
		} else {
			const struct secrets_domain_info1_kerberos_key *k =
				&s->password->keys[ours++ % 3];

			assert_int_equal(e.vno, 1);
			assert_int_equal(e.key.enctype, k->keytype);
			odj_test_bytes_equal(e.key.contents, e.key.length,
					     k->value.data, k->value.length);
			machine += strcmp(p, "SAMBAREQ$@ODJ.TEST") == 0;
			host += strcmp(p, "host/x@ODJ.TEST") == 0;
		}
		krb5_free_unparsed_name(k5, p);
		krb5_free_keytab_entry_contents(k5, &e);
	}
	krb5_kt_end_seq_get(k5, kt, &cur);
	krb5_kt_close(k5, kt);
	assert_int_equal(http, 3);
	assert_int_equal(machine, 3);
	assert_int_equal(host, 3);
	krb5_free_context(k5);
	scratch_done(dir);
	TALLOC_FREE(ctx);
}

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
		"\tkerberos method = dedicated keytab\n"
		"\tdedicated keytab file = %s/krb5.keytab\n%s",
		dir, dir, dir, extra);
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
		odj_test(test_info_round_trip),
		odj_test(test_info_as_samba),
		odj_test(test_rejoin_as_samba),
		odj_test(test_records_as_samba),
		odj_test(test_rejoin_records_as_samba),
		odj_test(test_salt_principal),
		odj_test(test_sid_value),
		odj_test(test_essential_unknown_part),
		odj_test(test_essential_cert_part),
		odj_test(test_encrypted_package),
		odj_test(test_jp3_inconsistent),
		odj_test(test_win7_only_and_package_only),
		odj_test(test_jp2),
		odj_test(test_netbios_name_too_long),
		odj_test(test_db_new),
		odj_test(test_db_existing_restored),
		odj_test(test_config_rewrite),
		odj_test(test_keytab),
		odj_test(test_request),
		odj_test(test_request_policy),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
