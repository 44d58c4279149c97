/*
 * libFuzzer harness: what odj requestodj reads from an existing
 * secrets.tdb before it joins: odj_secrets_db_joins() walks the keys
 * (SECRETS/MACHINE_DOMAIN_INFO/<D>, SECRETS/MACHINE_PASSWORD/<D>) and
 * decodes every MACHINE_DOMAIN_INFO record (secrets_domain_infoB NDR).
 *
 * Input: the text tdbdump prints ({ key(N) = "..." data(N) = "..." },
 * with \XX escapes), as the testsuite/data tdbdump files; every record
 * found goes into an in-memory tdb, which is then read as secrets.tdb
 * is (odj_secrets_tdb_joins()); and every value is decoded on its own.
 * Bytes that hold no record are decoded whole as a MACHINE_DOMAIN_INFO
 * value.  What decodes must encode, and decode again.
 */

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <tdb.h>
#include "client/client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* one quoted tdbdump string at *p: "..." with \XX escapes */
static bool dump_string(TALLOC_CTX *ctx, const uint8_t **p,
			const uint8_t *end, DATA_BLOB *out)
{
	const uint8_t *s = *p;
	uint8_t *buf = NULL;
	size_t n = 0;

	while (s < end && *s != '"') {
		s++;
	}
	if (s == end) {
		return false;
	}
	s++;
	buf = talloc_size(ctx, end - s + 1);
	if (buf == NULL) {
		return false;
	}
	while (s < end && *s != '"') {
		if (*s == '\\' && end - s >= 3) {
			char hex[3] = { (char)s[1], (char)s[2], 0 };

			buf[n++] = (uint8_t)strtoul(hex, NULL, 16);
			s += 3;
			continue;
		}
		buf[n++] = *s++;
	}
	if (s == end) {
		return false;
	}
	*p = s + 1;
	*out = data_blob_const(buf, n);
	return true;
}

static void unpack(TALLOC_CTX *ctx, DATA_BLOB v)
{
	struct secrets_domain_info1 *info = NULL;
	struct secrets_domain_info1 *again = NULL;
	DATA_BLOB packed = data_blob_null;

	if (!NT_STATUS_IS_OK(odj_secrets_info_unpack(ctx, v, &info, NULL))) {
		return;
	}
	/* what we read, we must write and read back */
	if (NT_STATUS_IS_OK(odj_secrets_info_pack(ctx, info, &packed)) &&
	    !NT_STATUS_IS_OK(odj_secrets_info_unpack(ctx, packed, &again,
						     NULL))) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	const uint8_t *p = data, *end = data + size;
	struct tdb_context *tdb = NULL;
	struct odj_secrets_join *joins = NULL;
	size_t nrec = 0, njoins = 0;
	DATA_BLOB key, val;

	unpack(ctx, data_blob_const(data, size));

	/*
	 * An in-memory tdb: the records are what is hostile, and a file
	 * per input (tdb's own format, which libtdb parses) made this
	 * harness twenty times slower.  Opening, locking and snapshotting
	 * the file are covered by the unit and blackbox tests.
	 */
	tdb = tdb_open("fuzz_secrets", 0, TDB_INTERNAL, O_RDWR | O_CREAT,
		       0600);
	if (tdb == NULL) {
		abort();
	}
	while (nrec < 64 && dump_string(ctx, &p, end, &key) &&
	       dump_string(ctx, &p, end, &val)) {
		TDB_DATA k = { .dptr = key.data, .dsize = key.length };
		TDB_DATA v = { .dptr = val.data, .dsize = val.length };

		if (key.length > 0) {
			tdb_store(tdb, k, v, TDB_REPLACE);
		}
		unpack(ctx, val);
		nrec++;
	}
	odj_secrets_tdb_joins(tdb, "fuzz_secrets", ctx, &joins, &njoins,
			      NULL);
	tdb_close(tdb);
	talloc_free(ctx);
	return 0;
}
