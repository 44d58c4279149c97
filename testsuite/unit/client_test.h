/*
 * samba-odj unit tests: what the client-side tests share: the vectors of
 * Samba's own join (testsuite/data/README.md: samba-4.17-requestodj.odj
 * is a blob Samba's "net offlinejoin provision" wrote;
 * samba-4.17-requestodj-1 and -2.tdbdump are the secrets.tdb Samba's "net
 * offlinejoin requestodj" made of it, after one and after a second run),
 * the join of that blob, and scratch directories.
 */

#ifndef _ODJ_CLIENT_TEST_H_
#define _ODJ_CLIENT_TEST_H_

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
static inline DATA_BLOB unescape(TALLOC_CTX *ctx, const char *s, size_t len)
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

static inline const char *quoted(const char *line, size_t *len)
{
	const char *start = strchr(line, '"');
	const char *end = start != NULL ? strrchr(line, '"') : NULL;

	assert_non_null(start);
	assert_true(end > start);
	*len = end - start - 1;
	return start + 1;
}

static inline struct dump *read_dump(TALLOC_CTX *ctx, const char *path)
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

static inline const DATA_BLOB *dump_get(const struct dump *d, const char *key)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		if (strcmp(d->keys[i], key) == 0) {
			return &d->values[i];
		}
	}
	return NULL;
}

static inline struct odj_provision_data *req_pd(TALLOC_CTX *ctx)
{
	DATA_BLOB ndr = data_blob_null;
	struct odj_provision_data *pd = NULL;

	assert_nt_ok(odj_file_load(ctx, REQ_ODJ, &ndr, NULL));
	pd = odj_test_decode(ctx, ndr);
	TALLOC_FREE(ndr.data);
	return pd;
}

static inline struct odj_join *join_of(TALLOC_CTX *ctx,
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

static inline struct secrets_domain_info1 *samba_info(TALLOC_CTX *ctx,
					       const struct dump *d)
{
	struct secrets_domain_info1 *info = NULL;
	const DATA_BLOB *v = dump_get(d, INFO_KEY);

	assert_non_null(v);
	assert_nt_ok(odj_secrets_info_unpack(ctx, *v, &info, NULL));
	return info;
}

/* A part appended to the vector's package */
static inline struct odj_part *add_part(struct odj_provision_data *pd,
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

/*
 * Files: a scratch directory per test
 */

static inline int rm_fn(const char *path, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	return remove(path);
}

static inline char *scratch(TALLOC_CTX *ctx)
{
	char *dir = talloc_asprintf(ctx, "%s/odj-test-secrets.XXXXXX",
				    getenv("TMPDIR") != NULL ?
				    getenv("TMPDIR") : "/tmp");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static inline void scratch_done(const char *dir)
{
	nftw(dir, rm_fn, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int count_files(const char *dir)
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

static inline DATA_BLOB file_bytes(TALLOC_CTX *ctx, const char *path)
{
	return odj_test_read(ctx, path);
}

#endif /* _ODJ_CLIENT_TEST_H_ */
