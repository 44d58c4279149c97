/*
 * samba-odj unit tests: what every test program shares.
 *
 * Each test gets a fresh talloc context in *state.  Teardown checks that
 * the test (and the library under it) left nothing behind on it: a test
 * frees what it asked for, so anything still hanging there is a leak.
 */

#ifndef _ODJ_TEST_H_
#define _ODJ_TEST_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <talloc.h>
#include <core/ntstatus.h>
#include <util/data_blob.h>
#include <charset.h>
#include "odj.h"

/* Reference vectors: see testsuite/data/README.md */
#define ODJ_TEST_DATA(name) SRCDIR "/testsuite/data/" name
#define WINDOWS_NDR ODJ_TEST_DATA("windows-2019-provision.ndr")
#define WINDOWS_ODJ ODJ_TEST_DATA("windows-2019-provision.odj")
#define SAMBA_ODJ ODJ_TEST_DATA("samba-4.17-provision.odj")

#define assert_nt_equal(got, want) do { \
	NTSTATUS _got = (got); \
	NTSTATUS _want = (want); \
	if (!NT_STATUS_EQUAL(_got, _want)) { \
		fail_msg("%s, expected %s", nt_errstr(_got), \
			 nt_errstr(_want)); \
	} \
} while (0)

#define assert_nt_ok(got) assert_nt_equal(got, NT_STATUS_OK)

#define assert_nt_not_ok(got) do { \
	NTSTATUS _got = (got); \
	if (NT_STATUS_IS_OK(_got)) { \
		fail_msg("unexpected NT_STATUS_OK"); \
	} \
} while (0)

/* The "why" message is there and names @p part. */
#define assert_why(why, part) do { \
	const char *_w = (why); \
	assert_non_null(_w); \
	if (strstr(_w, (part)) == NULL) { \
		fail_msg("message \"%s\" lacks \"%s\"", _w, (part)); \
	} \
} while (0)

static inline int odj_test_setup(void **state)
{
	TALLOC_CTX *ctx = talloc_named_const(NULL, 0, "odj test");

	if (ctx == NULL) {
		return -1;
	}
	*state = ctx;
	return 0;
}

static inline int odj_test_teardown(void **state)
{
	TALLOC_CTX *ctx = *state;
	size_t blocks = talloc_total_blocks(ctx);
	size_t bytes = talloc_total_size(ctx);

	if (blocks != 1 || bytes != 0) {
		fprintf(stderr, "leak: %zu blocks, %zu bytes left on the "
			"test context\n", blocks - 1, bytes);
		talloc_report_full(ctx, stderr);
	}
	talloc_free(ctx);
	*state = NULL;
	return (blocks == 1 && bytes == 0) ? 0 : -1;
}

#define odj_test(f) \
	cmocka_unit_test_setup_teardown(f, odj_test_setup, odj_test_teardown)

/*
 * Samba caches its iconv handle for the life of the process; free it so
 * valgrind --leak-check=full sees no "possibly lost" blocks.
 */
static inline int odj_test_group_teardown(void **state)
{
	free_iconv_handle();
	return 0;
}

#define odj_test_run(tests) \
	cmocka_run_group_tests(tests, NULL, odj_test_group_teardown)

/* A file's bytes, on @p mem_ctx. */
static inline DATA_BLOB odj_test_read(TALLOC_CTX *mem_ctx, const char *path)
{
	DATA_BLOB b = data_blob_null;
	FILE *f = fopen(path, "rb");
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	b = data_blob_talloc(mem_ctx, NULL, len);
	assert_non_null(b.data);
	assert_int_equal(fread(b.data, 1, len, f), (size_t)len);
	fclose(f);
	return b;
}

/* Two byte strings are equal. */
static inline void odj_test_bytes_equal(const uint8_t *a, size_t alen,
					const uint8_t *b, size_t blen)
{
	assert_int_equal(alen, blen);
	if (alen > 0) {
		assert_non_null(a);
		assert_non_null(b);
		assert_memory_equal(a, b, alen);
	}
}

#define assert_blob_equal(a, b) \
	odj_test_bytes_equal((a).data, (a).length, (b).data, (b).length)

/* Decode NDR that must be valid. */
static inline struct odj_provision_data *odj_test_decode(TALLOC_CTX *mem_ctx,
							 DATA_BLOB ndr)
{
	struct odj_provision_data *pd = NULL;
	char *why = NULL;
	NTSTATUS status;

	status = odj_provision_data_decode(mem_ctx, ndr, &pd, &why);
	if (!NT_STATUS_IS_OK(status)) {
		fail_msg("decode: %s: %s", nt_errstr(status),
			 why != NULL ? why : "(no message)");
	}
	assert_null(why);
	assert_non_null(pd);
	return pd;
}

/* Encode data that must be valid. */
static inline DATA_BLOB odj_test_encode(TALLOC_CTX *mem_ctx,
					const struct odj_provision_data *pd)
{
	DATA_BLOB ndr = data_blob_null;
	char *why = NULL;
	NTSTATUS status;

	status = odj_provision_data_encode(mem_ctx, pd, &ndr, &why);
	if (!NT_STATUS_IS_OK(status)) {
		fail_msg("encode: %s: %s", nt_errstr(status),
			 why != NULL ? why : "(no message)");
	}
	assert_null(why);
	assert_non_null(ndr.data);
	return ndr;
}

#endif /* _ODJ_TEST_H_ */
