/*
 * samba-odj unit tests: bad input fails cleanly, with a message naming
 * the layer, and leaves nothing behind.
 *
 * The corrupt blobs are made from the Windows Server 2019 vector
 * (testsuite/data/README.md).  Its six type serialization streams are
 * found by their 8 byte common header 01 10 08 00 CC CC CC CC:
 *
 *   byte    0  ODJ_PROVISION_DATA (the outer stream)
 *   byte   64  blob 1: ODJ_WIN7BLOB
 *   byte  860  blob 2: OP_PACKAGE
 *   byte  928  its wrapped OP_PACKAGE_PART_COLLECTION
 *   byte 1044  part 1: JOIN_PROVIDER (an ODJ_WIN7BLOB)
 *   byte 1840  part 2: JOIN_PROVIDER3
 *
 * A corrupt inner stream is put back together with the generated NDR
 * push functions, so that every layer around it is intact and the error
 * must come from that stream.
 */

#include "odj_test.h"
#include "gen_ndr/ndr_odj.h"

enum { S_OUTER, S_WIN7, S_PACKAGE, S_COLLECTION, S_PART1, S_PART2, S_NUM };

/*
 * Offsets inside the streams (from the stream's first byte); the body
 * starts at 16 with the top-level pointer's referent.
 */
#define OUTER_VERSION 20	/* ulVersion */
#define OUTER_COUNT 24		/* ulcBlobs */
#define OUTER_CONFORMANT 32	/* size_is(ulcBlobs) */
#define OUTER_BLOB1_CB 40	/* pBlobs[0].cbBlob */
#define OUTER_BLOB1_SIZE 60	/* size_is(cbBlob) of pBlobs[0].pBlob */
#define COLL_CPARTS 20		/* cParts */
#define COLL_PART1_CB 60	/* pParts[0].Part.cbBlob */
#define JP3_SID_LENGTH 36	/* lpSid's varying array length */

static const uint8_t ts1_header[8] = {
	0x01, 0x10, 0x08, 0x00, 0xcc, 0xcc, 0xcc, 0xcc
};

struct vec {
	DATA_BLOB ndr;
	DATA_BLOB s[S_NUM];	/* the streams, inside ndr */
};

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void set32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static struct vec *vec_load(TALLOC_CTX *ctx)
{
	struct vec *v = talloc_zero(ctx, struct vec);
	size_t off;
	int n = 0;

	assert_non_null(v);
	v->ndr = odj_test_read(v, WINDOWS_NDR);
	for (off = 0; off + 16 <= v->ndr.length && n < S_NUM; off++) {
		uint8_t *p = v->ndr.data + off;
		size_t len;

		if (memcmp(p, ts1_header, sizeof(ts1_header)) != 0) {
			continue;
		}
		len = 16 + get32(p + 8);
		assert_true(off + len <= v->ndr.length);
		v->s[n++] = data_blob_const(p, len);
	}
	assert_int_equal(n, S_NUM);
	assert_int_equal(v->s[S_PART2].data - v->ndr.data, 1840);
	return v;
}

/* A copy of stream @p n to edit, on @p v */
static DATA_BLOB copy_stream(struct vec *v, int n)
{
	DATA_BLOB b = data_blob_talloc(v, v->s[n].data, v->s[n].length);

	assert_non_null(b.data);
	return b;
}

/* A copy of stream @p n cut to @p len bytes; the header can say so */
static DATA_BLOB cut_stream(struct vec *v, int n, size_t len, bool fix)
{
	DATA_BLOB b = copy_stream(v, n);

	assert_true(len >= 16 && len < b.length);
	b.length = len;
	if (fix) {
		set32(b.data + 8, len - 16);
	}
	return b;
}

static DATA_BLOB pushed(struct vec *v, const void *r, ndr_push_flags_fn_t fn)
{
	DATA_BLOB b = data_blob_null;
	enum ndr_err_code err;

	err = ndr_push_struct_blob(&b, v, r, fn);
	assert_true(NDR_ERR_CODE_IS_SUCCESS(err));
	return b;
}

static struct OP_BLOB op_blob(DATA_BLOB b)
{
	return (struct OP_BLOB) { .cbBlob = b.length, .pBlob = b.data };
}

/* ODJ_PROVISION_DATA around a WIN7 blob and a package */
static DATA_BLOB with_blobs(struct vec *v, DATA_BLOB win7, DATA_BLOB pkg)
{
	struct ODJ_BLOB b[2] = {
		{ ODJ_WIN7_FORMAT, win7.length, win7.data },
		{ ODJ_WIN8_FORMAT, pkg.length, pkg.data },
	};
	struct ODJ_PROVISION_DATA pd = {
		.ulVersion = 1, .ulcBlobs = 2, .pBlobs = b,
	};
	struct ODJ_PROVISION_DATA_serialized s = { .s.p = &pd };

	return pushed(v, &s, (ndr_push_flags_fn_t)
		      ndr_push_ODJ_PROVISION_DATA_serialized);
}

static DATA_BLOB with_package(struct vec *v, DATA_BLOB pkg)
{
	return with_blobs(v, v->s[S_WIN7], pkg);
}

static DATA_BLOB with_collection(struct vec *v, DATA_BLOB coll)
{
	struct OP_PACKAGE p = { .WrappedPartCollection = op_blob(coll) };
	struct OP_PACKAGE_serialized s = { .s.p = &p };

	return with_package(v, pushed(v, &s, (ndr_push_flags_fn_t)
				      ndr_push_OP_PACKAGE_serialized));
}

static DATA_BLOB with_parts(struct vec *v, DATA_BLOB part1, DATA_BLOB part2)
{
	struct OP_PACKAGE_PART parts[2] = {
		{
			.PartType = odj_part_kind_guid(ODJ_PART_JOIN_PROVIDER),
			.ulFlags = OPSPI_PACKAGE_PART_ESSENTIAL,
			.Part = op_blob(part1),
		},
		{
			.PartType = odj_part_kind_guid(ODJ_PART_JOIN_PROVIDER3),
			.Part = op_blob(part2),
		},
	};
	struct OP_PACKAGE_PART_COLLECTION c = { .cParts = 2, .pParts = parts };
	struct OP_PACKAGE_PART_COLLECTION_serialized s = { .s.p = &c };

	return with_collection(v, pushed(v, &s, (ndr_push_flags_fn_t)
		ndr_push_OP_PACKAGE_PART_COLLECTION_serialized));
}

static DATA_BLOB with_part2(struct vec *v, DATA_BLOB part2)
{
	return with_parts(v, v->s[S_PART1], part2);
}

/*
 * @p ndr must not decode: not OK, no result, a message holding @p layer
 * and @p detail, and nothing else left on @p ctx.
 */
static void expect_fail(TALLOC_CTX *ctx, DATA_BLOB ndr, const char *layer,
			const char *detail)
{
	struct odj_provision_data *pd = NULL;
	size_t blocks = talloc_total_blocks(ctx);
	char *why = NULL;

	assert_nt_not_ok(odj_provision_data_decode(ctx, ndr, &pd, &why));
	assert_null(pd);
	print_message("      %s\n", why != NULL ? why : "(no message)");
	assert_why(why, layer);
	assert_why(why, detail);
	TALLOC_FREE(why);
	assert_int_equal(talloc_total_blocks(ctx), blocks);
	/* and the same without a message channel */
	assert_nt_not_ok(odj_provision_data_decode(ctx, ndr, &pd, NULL));
	assert_int_equal(talloc_total_blocks(ctx), blocks);
}

/* The same for the text of a file */
static void expect_file_fail(TALLOC_CTX *ctx, DATA_BLOB text,
			     const char *detail)
{
	DATA_BLOB ndr = data_blob_null;
	size_t blocks = talloc_total_blocks(ctx);
	char *why = NULL;

	assert_nt_not_ok(odj_file_decode(ctx, text, &ndr, &why));
	assert_null(ndr.data);
	print_message("      %s\n", why != NULL ? why : "(no message)");
	assert_why(why, detail);
	TALLOC_FREE(why);
	assert_int_equal(talloc_total_blocks(ctx), blocks);
}

#define OUTER "ODJ_PROVISION_DATA"
#define BLOB1 "blob 1 (WIN7 blob)"
#define BLOB2 "blob 2 (OP_PACKAGE)"
#define COLL "blob 2 (OP_PACKAGE): part collection"
#define PART1 "blob 2 (OP_PACKAGE): part 1 (JOIN_PROVIDER)"
#define PART2 "blob 2 (OP_PACKAGE): part 2 (JOIN_PROVIDER3)"

/* The reassembly alone is fine, so the cases below test what they say */
static void test_reassembled_vector_decodes(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct vec *v = vec_load(ctx);
	DATA_BLOB ndr = with_part2(v, v->s[S_PART2]);
	struct odj_provision_data *pd = odj_test_decode(ctx, ndr);

	assert_int_equal(pd->blobs[1].package->parts[1].u.jp3->Rid, 1605);
	TALLOC_FREE(pd);
	TALLOC_FREE(v);
}

/*
 * The outer stream
 */

static void test_outer_truncated(void **state)
{
	struct vec *v = vec_load(*state);

	/* the header still claims 1968 bytes */
	expect_fail(*state, data_blob_const(v->ndr.data, 1000), OUTER,
		    "truncated at byte 1000");
	/* header and data agree, the NDR runs out */
	expect_fail(*state, cut_stream(v, S_OUTER, 1000, true), OUTER,
		    "truncated at byte");
	expect_fail(*state, data_blob_const(v->ndr.data, 10), OUTER,
		    "truncated: 10 bytes");
	expect_fail(*state, data_blob_null, OUTER, "truncated: 0 bytes");
	TALLOC_FREE(v);
}

static void test_outer_header_version(void **state)
{
	struct vec *v = vec_load(*state);

	v->ndr.data[0] = 2;
	expect_fail(*state, v->ndr, OUTER, "not a type serialization stream");
	TALLOC_FREE(v);
}

static void test_outer_header_drep(void **state)
{
	struct vec *v = vec_load(*state);

	v->ndr.data[1] = 0x00;
	expect_fail(*state, v->ndr, OUTER, "data representation 0x00");
	TALLOC_FREE(v);
}

static void test_outer_header_length(void **state)
{
	struct vec *v = vec_load(*state);

	v->ndr.data[2] = 9;
	expect_fail(*state, v->ndr, OUTER, "not a type serialization stream");
	TALLOC_FREE(v);
}

static void test_outer_content_too_large(void **state)
{
	struct vec *v = vec_load(*state);

	set32(v->ndr.data + 8, 0x10000);
	expect_fail(*state, v->ndr, OUTER, "header claims 65536 bytes");
	set32(v->ndr.data + 8, 0xffffffff);
	expect_fail(*state, v->ndr, OUTER, "header claims 4294967295 bytes");
	TALLOC_FREE(v);
}

static void test_outer_null_pointer(void **state)
{
	struct vec *v = vec_load(*state);

	set32(v->ndr.data + 16, 0);
	expect_fail(*state, v->ndr, OUTER, "NULL top-level pointer");
	TALLOC_FREE(v);
}

static void test_outer_version(void **state)
{
	struct vec *v = vec_load(*state);

	set32(v->ndr.data + OUTER_VERSION, 2);
	expect_fail(*state, v->ndr, OUTER, "version 2, expected 1");
	TALLOC_FREE(v);
}

static void test_outer_count_huge(void **state)
{
	struct vec *v = vec_load(*state);

	set32(v->ndr.data + OUTER_COUNT, 0xffffffff);
	expect_fail(*state, v->ndr, OUTER, "Range Error");
	set32(v->ndr.data + OUTER_COUNT, 0x10001);
	expect_fail(*state, v->ndr, OUTER, "Range Error");
	TALLOC_FREE(v);
}

static void test_outer_cbblob_huge(void **state)
{
	struct vec *v = vec_load(*state);

	set32(v->ndr.data + OUTER_BLOB1_CB, 0xffffffff);
	expect_fail(*state, v->ndr, OUTER, "Range Error");
	TALLOC_FREE(v);
}

/*
 * Within the IDL's 64 MiB limit, but far more than the data holds:
 * refused before libndr allocates it
 */
static void test_outer_cbblob_beyond_data(void **state)
{
	struct vec *v = vec_load(*state);

	set32(v->ndr.data + OUTER_BLOB1_CB, ODJ_MAX_BYTES);
	set32(v->ndr.data + OUTER_BLOB1_SIZE, ODJ_MAX_BYTES);
	expect_fail(*state, v->ndr, OUTER,
		    "array size at byte 64 is larger than the stream");
	TALLOC_FREE(v);
}

/* size_is() on the wire disagrees with the count it belongs to */
static void test_outer_conformant_mismatch(void **state)
{
	struct vec *v = vec_load(*state);

	set32(v->ndr.data + OUTER_CONFORMANT, 3);
	expect_fail(*state, v->ndr, OUTER, "at byte");
	set32(v->ndr.data + OUTER_CONFORMANT, 2);
	set32(v->ndr.data + OUTER_BLOB1_SIZE,
	      get32(v->ndr.data + OUTER_BLOB1_SIZE) + 1);
	expect_fail(*state, v->ndr, OUTER, "at byte");
	TALLOC_FREE(v);
}

static void test_outer_trailing_garbage(void **state)
{
	struct vec *v = vec_load(*state);
	DATA_BLOB b = data_blob_talloc_zero(v, v->ndr.length + 8);

	memcpy(b.data, v->ndr.data, v->ndr.length);
	memcpy(b.data + v->ndr.length, "garbage!", 8);
	expect_fail(*state, b, OUTER, "8 bytes of garbage after");
	TALLOC_FREE(v);
}

/* The header counts 8 more bytes than the structure uses */
static void test_outer_unused_bytes(void **state)
{
	struct vec *v = vec_load(*state);
	DATA_BLOB b = data_blob_talloc_zero(v, v->ndr.length + 8);

	memcpy(b.data, v->ndr.data, v->ndr.length);
	set32(b.data + 8, get32(b.data + 8) + 8);
	expect_fail(*state, b, OUTER, "unused bytes");
	TALLOC_FREE(v);
}

/* Random bytes, fixed seed */
static void test_outer_junk(void **state)
{
	struct vec *v = vec_load(*state);
	uint32_t x = 0x0d1c0ffe;
	size_t i;

	for (i = 0; i < v->ndr.length; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		v->ndr.data[i] = x;
	}
	expect_fail(*state, v->ndr, OUTER, "not a type serialization stream");
	/* junk behind a valid header */
	memcpy(v->ndr.data, ts1_header, sizeof(ts1_header));
	set32(v->ndr.data + 8, v->ndr.length - 16);
	expect_fail(*state, v->ndr, OUTER, "at byte");
	TALLOC_FREE(v);
}

/*
 * NULL pointers with a count: nothing may read through them
 */

static void test_null_blob_array(void **state)
{
	struct vec *v = vec_load(*state);
	struct ODJ_PROVISION_DATA pd = { .ulVersion = 1, .ulcBlobs = 2 };
	struct ODJ_PROVISION_DATA_serialized s = { .s.p = &pd };

	expect_fail(*state, pushed(v, &s, (ndr_push_flags_fn_t)
				   ndr_push_ODJ_PROVISION_DATA_serialized),
		    OUTER, "NULL");
	TALLOC_FREE(v);
}

static void test_null_blob_bytes(void **state)
{
	struct vec *v = vec_load(*state);
	DATA_BLOB win7 = data_blob_const(NULL, v->s[S_WIN7].length);

	expect_fail(*state, with_blobs(v, win7, v->s[S_PACKAGE]), BLOB1,
		    "NULL");
	TALLOC_FREE(v);
}

static void test_null_wrapped_collection(void **state)
{
	struct vec *v = vec_load(*state);
	DATA_BLOB coll = data_blob_const(NULL, v->s[S_COLLECTION].length);

	expect_fail(*state, with_collection(v, coll), BLOB2, "NULL");
	TALLOC_FREE(v);
}

static void test_null_part_array(void **state)
{
	struct vec *v = vec_load(*state);
	struct OP_PACKAGE_PART_COLLECTION c = { .cParts = 2 };
	struct OP_PACKAGE_PART_COLLECTION_serialized s = { .s.p = &c };
	DATA_BLOB coll = pushed(v, &s, (ndr_push_flags_fn_t)
			ndr_push_OP_PACKAGE_PART_COLLECTION_serialized);

	expect_fail(*state, with_collection(v, coll), COLL, "NULL");
	TALLOC_FREE(v);
}

static void test_null_part_bytes(void **state)
{
	struct vec *v = vec_load(*state);
	DATA_BLOB part2 = data_blob_const(NULL, v->s[S_PART2].length);

	expect_fail(*state, with_part2(v, part2), PART2, "NULL");
	TALLOC_FREE(v);
}

/*
 * Blob 1: the WIN7 blob
 */

static void test_win7_truncated(void **state)
{
	struct vec *v = vec_load(*state);
	DATA_BLOB w = cut_stream(v, S_WIN7, 400, true);

	expect_fail(*state, with_blobs(v, w, v->s[S_PACKAGE]), BLOB1,
		    "truncated at byte");
	w = cut_stream(v, S_WIN7, 400, false);
	expect_fail(*state, with_blobs(v, w, v->s[S_PACKAGE]), BLOB1,
		    "header claims");
	TALLOC_FREE(v);
}

static void test_win7_header(void **state)
{
	struct vec *v = vec_load(*state);

	v->s[S_WIN7].data[0] = 2;
	expect_fail(*state, v->ndr, BLOB1, "not a type serialization stream");
	TALLOC_FREE(v);
}

/* "wurst2" with a lone high surrogate for the "u" */
static void test_win7_bad_utf16(void **state)
{
	struct vec *v = vec_load(*state);
	const uint8_t name[] = { 'w', 0, 'u', 0, 'r', 0, 's', 0, 't', 0 };
	uint8_t *p = memmem(v->s[S_WIN7].data, v->s[S_WIN7].length,
			    name, sizeof(name));

	assert_non_null(p);
	p[2] = 0x00;
	p[3] = 0xd8;
	expect_fail(*state, v->ndr, BLOB1, "invalid UTF-16 string");
	TALLOC_FREE(v);
}

/*
 * Blob 2: the package, its part collection and its parts
 */

static void test_package_truncated(void **state)
{
	struct vec *v = vec_load(*state);
	DATA_BLOB p = cut_stream(v, S_PACKAGE, 48, true);

	expect_fail(*state, with_package(v, p), BLOB2, "truncated at byte");
	p = cut_stream(v, S_PACKAGE, 200, false);
	expect_fail(*state, with_package(v, p), BLOB2, "header claims");
	TALLOC_FREE(v);
}

static void test_collection_truncated(void **state)
{
	struct vec *v = vec_load(*state);
	DATA_BLOB c = cut_stream(v, S_COLLECTION, 600, true);

	expect_fail(*state, with_collection(v, c), COLL, "truncated at byte");
	TALLOC_FREE(v);
}

static void test_collection_counts_huge(void **state)
{
	struct vec *v = vec_load(*state);
	uint8_t *c = v->s[S_COLLECTION].data;

	set32(c + COLL_CPARTS, 0x7fffffff);
	expect_fail(*state, v->ndr, COLL, "Range Error");
	set32(c + COLL_CPARTS, 2);
	set32(c + COLL_PART1_CB, 0xfffffff0);
	expect_fail(*state, v->ndr, COLL, "Range Error");
	TALLOC_FREE(v);
}

static void test_part1_header(void **state)
{
	struct vec *v = vec_load(*state);

	v->s[S_PART1].data[1] = 0x00;
	expect_fail(*state, v->ndr, PART1, "data representation");
	TALLOC_FREE(v);
}

static void test_part2_truncated(void **state)
{
	struct vec *v = vec_load(*state);
	DATA_BLOB p = cut_stream(v, S_PART2, 48, true);

	expect_fail(*state, with_part2(v, p), PART2, "truncated at byte");
	p = cut_stream(v, S_PART2, 48, false);
	expect_fail(*state, with_part2(v, p), PART2, "header claims");
	TALLOC_FREE(v);
}

static void test_part2_null_pointer(void **state)
{
	struct vec *v = vec_load(*state);

	set32(v->s[S_PART2].data + 16, 0);
	expect_fail(*state, v->ndr, PART2, "NULL top-level pointer");
	TALLOC_FREE(v);
}

/* length_is() of the SID string larger than its size_is() */
static void test_part2_string_length(void **state)
{
	struct vec *v = vec_load(*state);
	uint8_t *p = v->s[S_PART2].data + JP3_SID_LENGTH;

	set32(p, get32(p) + 1);
	expect_fail(*state, v->ndr, PART2, "at byte");
	TALLOC_FREE(v);
}

/*
 * Known parts whose arrays are NULL but counted, made with the encoder:
 * a reader of the decoded part would walk off a NULL pointer.
 */
static void expect_part_fail(TALLOC_CTX *ctx, enum odj_part_kind kind,
			     void *data, const char *layer)
{
	struct odj_part part = {
		.type = odj_part_kind_guid(kind),
		.kind = kind,
		.u.ptr = data,
	};
	struct odj_package pkg = { .num_parts = 1, .parts = &part };
	struct odj_blob blob = { .format = ODJ_WIN8_FORMAT, .package = &pkg };
	struct odj_provision_data pd = {
		.version = 1, .num_blobs = 1, .blobs = &blob,
	};
	DATA_BLOB ndr = odj_test_encode(ctx, &pd);

	expect_fail(ctx, ndr, layer, "NULL");
	TALLOC_FREE(ndr.data);
}

static void test_cert_null_arrays(void **state)
{
	const char *layer = "blob 1 (OP_PACKAGE): part 1 (CERT_PROVIDER)";
	struct OP_CERT_PFX_STORE pfx = { .cbPfx = 8 };
	struct OP_CERT_SST_STORE sst = { .cbSst = 8 };
	struct OP_CERT_PART c1 = { .cPfxStores = 1 };
	struct OP_CERT_PART c2 = { .cSstStores = 3 };
	struct OP_CERT_PART c3 = { .cPfxStores = 1, .pPfxStores = &pfx };
	struct OP_CERT_PART c4 = { .cSstStores = 1, .pSstStores = &sst };
	struct OP_CERT_PART c5 = { .Extension.cbBlob = 4 };

	expect_part_fail(*state, ODJ_PART_CERT, &c1, layer);
	expect_part_fail(*state, ODJ_PART_CERT, &c2, layer);
	expect_part_fail(*state, ODJ_PART_CERT, &c3, layer);
	expect_part_fail(*state, ODJ_PART_CERT, &c4, layer);
	expect_part_fail(*state, ODJ_PART_CERT, &c5, layer);
}

static void test_policy_null_arrays(void **state)
{
	const char *layer = "blob 1 (OP_PACKAGE): part 1 (POLICY_PROVIDER)";
	struct OP_POLICY_ELEMENT e = { .ulValueType = REG_BINARY,
				       .cbValueData = 4 };
	struct OP_POLICY_ELEMENT_LIST l1 = { .cElements = 2 };
	struct OP_POLICY_ELEMENT_LIST l2 = { .cElements = 1, .pElements = &e };
	struct OP_POLICY_PART p1 = { .cElementLists = 1 };
	struct OP_POLICY_PART p2 = { .cElementLists = 1, .pElementLists = &l1 };
	struct OP_POLICY_PART p3 = { .cElementLists = 1, .pElementLists = &l2 };

	expect_part_fail(*state, ODJ_PART_POLICY, &p1, layer);
	expect_part_fail(*state, ODJ_PART_POLICY, &p2, layer);
	expect_part_fail(*state, ODJ_PART_POLICY, &p3, layer);
}

/*
 * The file layer: base64 and its framing
 */

static DATA_BLOB windows_file(TALLOC_CTX *ctx)
{
	return odj_test_read(ctx, WINDOWS_ODJ);
}

static void test_file_empty(void **state)
{
	expect_file_fail(*state, data_blob_null, "file is empty");
	expect_file_fail(*state, data_blob_const("\xff\xfe", 2),
			 "file holds no text");
	expect_file_fail(*state, data_blob_const("\xff\xfe\0\0", 4),
			 "file holds no text");
}

static void test_file_whitespace(void **state)
{
	const char *ws = " \r\n\t \r\n";

	expect_file_fail(*state, data_blob_const(ws, strlen(ws)),
			 "base64: no data");
	expect_file_fail(*state, data_blob_const("\xff\xfe \0\r\0\n\0", 8),
			 "base64: no data");
}

/* A "*" in the middle of djoin's UTF-16 text */
static void test_file_base64_garbage(void **state)
{
	DATA_BLOB f = windows_file(*state);
	size_t mid = (f.length / 4) * 2;

	f.data[mid] = '*';
	f.data[mid + 1] = 0;
	expect_file_fail(*state, f, "base64: invalid character 0x2a");
	TALLOC_FREE(f.data);
}

static void test_file_base64_length(void **state)
{
	DATA_BLOB f = windows_file(*state);

	/* drop the last character before the NUL: "...==" -> "...=" */
	memmove(f.data + f.length - 4, f.data + f.length - 2, 2);
	f.length -= 2;
	expect_file_fail(*state, f, "not a multiple of 4");
	expect_file_fail(*state, data_blob_const("QUJD=", 5),
			 "not a multiple of 4");
	TALLOC_FREE(f.data);
}

/* Right alphabet and length, but not base64 */
static void test_file_base64_padding(void **state)
{
	expect_file_fail(*state, data_blob_const("====", 4), "base64");
	expect_file_fail(*state, data_blob_const("QQ==QUJD", 8), "base64");
}

static void test_file_utf16_framing(void **state)
{
	expect_file_fail(*state, data_blob_const("\xff\xfe" "A\0B", 5),
			 "odd number of bytes");
	expect_file_fail(*state, data_blob_const("\xfe\xff\0A\0B", 6),
			 "big-endian");
	/* UTF-16 that is not ASCII: the base64 check refuses it */
	expect_file_fail(*state, data_blob_const("\xff\xfe\xfc\0", 4),
			 "base64: invalid character");
	/* a lone surrogate */
	expect_file_fail(*state, data_blob_const("\xff\xfe" "A\0\0\xd8", 6),
			 "not valid UTF-16LE");
}

static void test_file_junk(void **state)
{
	uint8_t junk[512];
	uint32_t x = 2024;
	size_t i;

	for (i = 0; i < sizeof(junk); i++) {
		x = x * 1103515245 + 12345;
		junk[i] = x >> 16;
	}
	junk[0] = 0x9c;		/* not a BOM, whatever the generator says */
	expect_file_fail(*state, data_blob_const(junk, sizeof(junk)),
			 "base64: invalid character");
}

/* Valid base64 of something that is not provisioning data */
static void test_file_not_ndr(void **state)
{
	TALLOC_CTX *ctx = *state;
	const char *text = "SGVsbG8sIHdvcmxkIQ==";
	DATA_BLOB ndr = data_blob_null;

	assert_nt_ok(odj_file_decode(ctx, data_blob_const(text, strlen(text)),
				     &ndr, NULL));
	expect_fail(ctx, ndr, OUTER, "truncated: 13 bytes");
	TALLOC_FREE(ndr.data);
}

/*
 * Encoding refuses data it cannot write
 */

static void expect_encode_fail(TALLOC_CTX *ctx,
			       const struct odj_provision_data *pd,
			       const char *detail)
{
	DATA_BLOB ndr = data_blob_null;
	size_t blocks = talloc_total_blocks(ctx);
	char *why = NULL;

	assert_nt_not_ok(odj_provision_data_encode(ctx, pd, &ndr, &why));
	assert_null(ndr.data);
	print_message("      %s\n", why != NULL ? why : "(no message)");
	assert_why(why, detail);
	TALLOC_FREE(why);
	assert_int_equal(talloc_total_blocks(ctx), blocks);
}

static void test_encode_refuses(void **state)
{
	struct odj_blob b[2] = {
		{ .format = ODJ_WIN7_FORMAT },
		{ .format = ODJ_WIN8_FORMAT },
	};
	struct odj_provision_data pd = { .version = 1, .blobs = b };

	expect_encode_fail(*state, NULL, "no ODJ_BLOB");
	expect_encode_fail(*state, &pd, "no ODJ_BLOB");
	pd.num_blobs = 1;
	expect_encode_fail(*state, &pd, "blob 1 (WIN7 blob)");
	pd.blobs = &b[1];
	expect_encode_fail(*state, &pd, "blob 1 (OP_PACKAGE)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_reassembled_vector_decodes),
		odj_test(test_outer_truncated),
		odj_test(test_outer_header_version),
		odj_test(test_outer_header_drep),
		odj_test(test_outer_header_length),
		odj_test(test_outer_content_too_large),
		odj_test(test_outer_null_pointer),
		odj_test(test_outer_version),
		odj_test(test_outer_count_huge),
		odj_test(test_outer_cbblob_huge),
		odj_test(test_outer_cbblob_beyond_data),
		odj_test(test_outer_conformant_mismatch),
		odj_test(test_outer_trailing_garbage),
		odj_test(test_outer_unused_bytes),
		odj_test(test_outer_junk),
		odj_test(test_null_blob_array),
		odj_test(test_null_blob_bytes),
		odj_test(test_null_wrapped_collection),
		odj_test(test_null_part_array),
		odj_test(test_null_part_bytes),
		odj_test(test_win7_truncated),
		odj_test(test_win7_header),
		odj_test(test_win7_bad_utf16),
		odj_test(test_package_truncated),
		odj_test(test_collection_truncated),
		odj_test(test_collection_counts_huge),
		odj_test(test_part1_header),
		odj_test(test_part2_truncated),
		odj_test(test_part2_null_pointer),
		odj_test(test_part2_string_length),
		odj_test(test_cert_null_arrays),
		odj_test(test_policy_null_arrays),
		odj_test(test_file_empty),
		odj_test(test_file_whitespace),
		odj_test(test_file_base64_garbage),
		odj_test(test_file_base64_length),
		odj_test(test_file_base64_padding),
		odj_test(test_file_utf16_framing),
		odj_test(test_file_junk),
		odj_test(test_file_not_ndr),
		odj_test(test_encode_refuses),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
