/*
 * samba-odj unit tests: the provisioning file (odj_file.c).
 *
 * Vectors (testsuite/data/README.md): windows-2019-provision.odj is what
 * djoin /SAVEFILE wrote on Windows Server 2019, samba-4.17-provision.odj
 * what Samba 4.17.12 "net offlinejoin provision savefile=" wrote.
 */

#include "odj_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

/* ASCII -> UTF-16LE, optionally with BOM and trailing NUL */
static DATA_BLOB widen(TALLOC_CTX *mem_ctx, const char *s, bool bom,
		       bool nul)
{
	size_t len = strlen(s);
	size_t size = 2 * len + (bom ? 2 : 0) + (nul ? 2 : 0);
	DATA_BLOB b = data_blob_talloc_zero(mem_ctx, size);
	uint8_t *p = b.data;
	size_t i;

	assert_non_null(p);
	if (bom) {
		*p++ = 0xff;
		*p++ = 0xfe;
	}
	for (i = 0; i < len; i++) {
		p[2 * i] = s[i];
	}
	return b;
}

static char *base64_of(TALLOC_CTX *mem_ctx, DATA_BLOB ndr)
{
	char *b64 = NULL;

	assert_nt_ok(odj_file_base64(mem_ctx, ndr, &b64));
	assert_non_null(b64);
	return b64;
}

/* @p text decodes to exactly @p ndr */
static void check_decodes_to(TALLOC_CTX *ctx, DATA_BLOB text, DATA_BLOB ndr)
{
	DATA_BLOB out = data_blob_null;
	char *why = NULL;

	assert_nt_ok(odj_file_decode(ctx, text, &out, &why));
	assert_null(why);
	assert_blob_equal(out, ndr);
	TALLOC_FREE(out.data);
}

static bool is_base64(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* FF FE, base64 as UTF-16LE, 00 00 */
static void test_encode_framing(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	DATA_BLOB text = data_blob_null;
	char *b64 = base64_of(ctx, ndr);
	size_t i, n;

	assert_nt_ok(odj_file_encode(ctx, ndr, &text));
	n = (text.length - 4) / 2;
	assert_int_equal(text.length, 2 * strlen(b64) + 4);
	assert_int_equal(text.data[0], 0xff);
	assert_int_equal(text.data[1], 0xfe);
	assert_int_equal(text.data[text.length - 2], 0);
	assert_int_equal(text.data[text.length - 1], 0);
	for (i = 0; i < n; i++) {
		assert_true(is_base64(text.data[2 + 2 * i]));
		assert_int_equal(text.data[3 + 2 * i], 0);
		assert_int_equal(text.data[2 + 2 * i], b64[i]);
	}
	check_decodes_to(ctx, text, ndr);
	TALLOC_FREE(b64);
	TALLOC_FREE(text.data);
	TALLOC_FREE(ndr.data);
}

/* printblob form: one line, no white space, decodes back */
static void test_base64_one_line(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	char *b64 = base64_of(ctx, ndr);
	size_t i;

	assert_int_equal(strlen(b64), (ndr.length + 2) / 3 * 4);
	for (i = 0; b64[i] != '\0'; i++) {
		assert_true(is_base64(b64[i]));
	}
	check_decodes_to(ctx, data_blob_const(b64, strlen(b64)), ndr);
	TALLOC_FREE(b64);
	TALLOC_FREE(ndr.data);
}

static void test_encode_empty(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB text = data_blob_null;
	char *b64 = NULL;

	assert_nt_not_ok(odj_file_encode(ctx, data_blob_null, &text));
	assert_nt_not_ok(odj_file_base64(ctx, data_blob_null, &b64));
}

/*
 * Re-encoding a file's NDR gives the file back byte for byte: both djoin
 * and Samba write FF FE, the base64 in UTF-16LE without line breaks, and
 * one UTF-16 NUL, as odj_file_encode() does.
 */
static void check_file_identical(TALLOC_CTX *ctx, const char *path)
{
	DATA_BLOB file = odj_test_read(ctx, path);
	DATA_BLOB ndr = data_blob_null;
	DATA_BLOB text = data_blob_null;

	assert_int_equal(file.data[file.length - 2], 0);
	assert_int_equal(file.data[file.length - 1], 0);
	assert_nt_ok(odj_file_decode(ctx, file, &ndr, NULL));
	assert_nt_ok(odj_file_encode(ctx, ndr, &text));
	assert_blob_equal(text, file);
	TALLOC_FREE(text.data);
	TALLOC_FREE(ndr.data);
	TALLOC_FREE(file.data);
}

static void test_encode_matches_windows(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB raw = odj_test_read(ctx, WINDOWS_NDR);
	DATA_BLOB file = odj_test_read(ctx, WINDOWS_ODJ);
	DATA_BLOB text = data_blob_null;

	check_file_identical(ctx, WINDOWS_ODJ);
	/* and the .ndr vector is the same data */
	assert_nt_ok(odj_file_encode(ctx, raw, &text));
	assert_blob_equal(text, file);
	TALLOC_FREE(text.data);
	TALLOC_FREE(file.data);
	TALLOC_FREE(raw.data);
}

static void test_encode_matches_samba(void **state)
{
	check_file_identical(*state, SAMBA_ODJ);
}

/* Every framing a reader meets decodes to the same NDR */
static void test_decode_forms(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	char *b64 = base64_of(ctx, ndr);
	DATA_BLOB forms[5];
	size_t i;

	forms[0] = widen(ctx, b64, true, true);		/* djoin */
	forms[1] = widen(ctx, b64, true, false);	/* BOM, no NUL */
	forms[2] = widen(ctx, b64, false, false);	/* no BOM */
	forms[3] = widen(ctx, b64, false, true);	/* no BOM, NUL */
	forms[4] = data_blob_const(b64, strlen(b64));	/* printblob */
	for (i = 0; i < 5; i++) {
		check_decodes_to(ctx, forms[i], ndr);
		if (i < 4) {
			TALLOC_FREE(forms[i].data);
		}
	}
	/* ASCII with a trailing NUL */
	check_decodes_to(ctx, data_blob_const(b64, strlen(b64) + 1), ndr);
	TALLOC_FREE(b64);
	TALLOC_FREE(ndr.data);
}

/* base64 wrapped at 76 columns with CRLF, plus spaces and tabs */
static char *wrapped_base64(TALLOC_CTX *mem_ctx, const char *b64)
{
	char *s = talloc_strdup(mem_ctx, "  ");
	size_t i, len = strlen(b64);

	for (i = 0; s != NULL && i < len; i += 76) {
		s = talloc_asprintf_append_buffer(s, "%.76s\r\n", b64 + i);
	}
	assert_non_null(s);
	s = talloc_strdup_append_buffer(s, " \t\r\n");
	assert_non_null(s);
	return s;
}

static void test_decode_line_breaks(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	char *b64 = base64_of(ctx, ndr);
	char *lines = wrapped_base64(ctx, b64);
	DATA_BLOB utf16 = widen(ctx, lines, true, true);

	assert_non_null(strstr(lines, "\r\n"));
	check_decodes_to(ctx, data_blob_const(lines, strlen(lines)), ndr);
	check_decodes_to(ctx, utf16, ndr);
	TALLOC_FREE(utf16.data);
	TALLOC_FREE(lines);
	TALLOC_FREE(b64);
	TALLOC_FREE(ndr.data);
}

/*
 * Saving and loading
 */

struct tmpdir {
	char path[64];
};

static void make_tmpdir(struct tmpdir *d)
{
	snprintf(d->path, sizeof(d->path), "/tmp/odj-test-XXXXXX");
	assert_non_null(mkdtemp(d->path));
}

/* Number of entries in the directory besides . and .. */
static int count_entries(const char *dir)
{
	DIR *dh = opendir(dir);
	struct dirent *de = NULL;
	int n = 0;

	assert_non_null(dh);
	while ((de = readdir(dh)) != NULL) {
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0) {
			n++;
		}
	}
	closedir(dh);
	return n;
}

static void remove_tmpdir(TALLOC_CTX *ctx, struct tmpdir *d,
			  const char *name)
{
	if (name != NULL) {
		char *p = talloc_asprintf(ctx, "%s/%s", d->path, name);

		assert_non_null(p);
		unlink(p);
		TALLOC_FREE(p);
	}
	assert_int_equal(count_entries(d->path), 0);
	assert_int_equal(rmdir(d->path), 0);
}

static void check_file_holds(TALLOC_CTX *ctx, const char *path,
			     DATA_BLOB ndr)
{
	DATA_BLOB text = data_blob_null;
	DATA_BLOB file = odj_test_read(ctx, path);

	assert_nt_ok(odj_file_encode(ctx, ndr, &text));
	assert_blob_equal(file, text);
	TALLOC_FREE(text.data);
	TALLOC_FREE(file.data);
}

static void test_save_mode_0600(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	struct tmpdir d;
	char *path = NULL;
	struct stat st;
	mode_t old;
	NTSTATUS status;

	make_tmpdir(&d);
	path = talloc_asprintf(ctx, "%s/x.odj", d.path);
	old = umask(0);
	status = odj_file_save(ctx, path, ndr, false, NULL);
	umask(old);
	assert_nt_ok(status);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	check_file_holds(ctx, path, ndr);
	assert_int_equal(count_entries(d.path), 1);	/* no temp file */
	remove_tmpdir(ctx, &d, "x.odj");
	TALLOC_FREE(path);
	TALLOC_FREE(ndr.data);
}

static void test_save_overwrite(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB win = odj_test_read(ctx, WINDOWS_NDR);
	DATA_BLOB sam = data_blob_null;
	struct tmpdir d;
	char *path = NULL;
	char *why = NULL;

	assert_nt_ok(odj_file_load(ctx, SAMBA_ODJ, &sam, NULL));
	make_tmpdir(&d);
	path = talloc_asprintf(ctx, "%s/x.odj", d.path);
	assert_nt_ok(odj_file_save(ctx, path, win, false, NULL));

	assert_nt_equal(odj_file_save(ctx, path, sam, false, &why),
			NT_STATUS_OBJECT_NAME_COLLISION);
	assert_why(why, "file exists");
	assert_why(why, path);
	TALLOC_FREE(why);
	check_file_holds(ctx, path, win);
	assert_int_equal(count_entries(d.path), 1);

	assert_nt_ok(odj_file_save(ctx, path, sam, true, &why));
	assert_null(why);
	check_file_holds(ctx, path, sam);
	assert_int_equal(count_entries(d.path), 1);
	remove_tmpdir(ctx, &d, "x.odj");
	TALLOC_FREE(path);
	TALLOC_FREE(sam.data);
	TALLOC_FREE(win.data);
}

static void test_save_bad_paths(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	struct tmpdir d;
	char *missing = NULL;
	char *why = NULL;

	make_tmpdir(&d);
	missing = talloc_asprintf(ctx, "%s/no/such/dir/x.odj", d.path);
	assert_nt_not_ok(odj_file_save(ctx, missing, ndr, true, &why));
	assert_why(why, "directory");
	TALLOC_FREE(why);

	assert_nt_equal(odj_file_save(ctx, d.path, ndr, true, &why),
			NT_STATUS_FILE_IS_A_DIRECTORY);
	assert_why(why, "is a directory");
	TALLOC_FREE(why);

	assert_nt_not_ok(odj_file_save(ctx, "", ndr, true, &why));
	assert_why(why, "no file name");
	TALLOC_FREE(why);
	remove_tmpdir(ctx, &d, NULL);
	TALLOC_FREE(missing);
	TALLOC_FREE(ndr.data);
}

/*
 * A write that fails half way (file size limit) leaves nothing behind:
 * neither the target nor the temporary file.
 */
static void test_save_failure_atomic(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	struct rlimit old, small;
	struct tmpdir d;
	char *path = NULL;
	char *why = NULL;
	void (*old_handler)(int);
	NTSTATUS status;

	make_tmpdir(&d);
	path = talloc_asprintf(ctx, "%s/x.odj", d.path);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 100;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	status = odj_file_save(ctx, path, ndr, false, &why);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);

	assert_nt_not_ok(status);
	assert_why(why, path);
	TALLOC_FREE(why);
	assert_int_equal(count_entries(d.path), 0);
	remove_tmpdir(ctx, &d, NULL);
	TALLOC_FREE(path);
	TALLOC_FREE(ndr.data);
}

static void test_check_target(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct tmpdir d;
	char *file = NULL, *under_file = NULL, *missing = NULL;
	char *why = NULL;
	int fd;

	make_tmpdir(&d);
	file = talloc_asprintf(ctx, "%s/x.odj", d.path);
	missing = talloc_asprintf(ctx, "%s/no/x.odj", d.path);
	under_file = talloc_asprintf(ctx, "%s/x.odj/y.odj", d.path);

	assert_nt_ok(odj_file_check_target(ctx, file, false, &why));
	assert_null(why);
	assert_int_equal(count_entries(d.path), 0);	/* creates nothing */

	fd = open(file, O_CREAT | O_WRONLY | O_EXCL, 0600);
	assert_true(fd != -1);
	close(fd);
	assert_nt_equal(odj_file_check_target(ctx, file, false, &why),
			NT_STATUS_OBJECT_NAME_COLLISION);
	assert_why(why, "file exists");
	TALLOC_FREE(why);
	assert_nt_ok(odj_file_check_target(ctx, file, true, NULL));

	assert_nt_equal(odj_file_check_target(ctx, d.path, true, &why),
			NT_STATUS_FILE_IS_A_DIRECTORY);
	assert_why(why, "is a directory");
	TALLOC_FREE(why);

	assert_nt_not_ok(odj_file_check_target(ctx, missing, false, &why));
	assert_why(why, "directory");
	TALLOC_FREE(why);

	assert_nt_not_ok(odj_file_check_target(ctx, under_file, false, &why));
	assert_why(why, "not a directory");
	TALLOC_FREE(why);

	assert_nt_not_ok(odj_file_check_target(ctx, NULL, false, &why));
	assert_why(why, "no file name");
	TALLOC_FREE(why);

	remove_tmpdir(ctx, &d, "x.odj");
	TALLOC_FREE(under_file);
	TALLOC_FREE(missing);
	TALLOC_FREE(file);
}

static void test_load(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB raw = odj_test_read(ctx, WINDOWS_NDR);
	DATA_BLOB ndr = data_blob_null;
	char *why = NULL;

	assert_nt_ok(odj_file_load(ctx, WINDOWS_ODJ, &ndr, &why));
	assert_null(why);
	assert_blob_equal(ndr, raw);
	TALLOC_FREE(ndr.data);

	assert_nt_not_ok(odj_file_load(ctx, "/nonexistent/x.odj", &ndr,
				       &why));
	assert_why(why, "/nonexistent/x.odj");
	TALLOC_FREE(why);

	assert_nt_equal(odj_file_load(ctx, "/tmp", &ndr, &why),
			NT_STATUS_FILE_IS_A_DIRECTORY);
	assert_why(why, "is a directory");
	TALLOC_FREE(why);

	assert_nt_equal(odj_file_load(ctx, NULL, &ndr, &why),
			NT_STATUS_INVALID_PARAMETER);
	TALLOC_FREE(raw.data);
}

/* "-" reads standard input */
static void test_load_stdin(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB raw = odj_test_read(ctx, WINDOWS_NDR);
	DATA_BLOB ndr = data_blob_null;
	int saved = dup(0);
	int fd = open(WINDOWS_ODJ, O_RDONLY);
	NTSTATUS status;

	assert_true(saved != -1);
	assert_true(fd != -1);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	status = odj_file_load(ctx, "-", &ndr, NULL);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	assert_nt_ok(status);
	assert_blob_equal(ndr, raw);
	TALLOC_FREE(ndr.data);
	TALLOC_FREE(raw.data);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A sparse file of @p size bytes: refused from its size, unread */
static void check_too_large(TALLOC_CTX *ctx, off_t size)
{
	char path[] = "/tmp/odj-test-big-XXXXXX";
	DATA_BLOB ndr = data_blob_null;
	char *why = NULL;
	double start;
	NTSTATUS status;
	int fd = mkstemp(path);

	assert_true(fd != -1);
	assert_int_equal(ftruncate(fd, size), 0);
	close(fd);
	start = now();
	status = odj_file_load(ctx, path, &ndr, &why);
	assert_true(now() - start < 2.0);
	unlink(path);
	assert_nt_equal(status, NT_STATUS_FILE_TOO_LARGE);
	assert_why(why, "larger than");
	assert_why(why, path);
	TALLOC_FREE(why);
}

static void test_load_too_large(void **state)
{
	check_too_large(*state, 100 * 1024 * 1024);
	check_too_large(*state, ODJ_FILE_MAX_SIZE + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_encode_framing),
		odj_test(test_base64_one_line),
		odj_test(test_encode_empty),
		odj_test(test_encode_matches_windows),
		odj_test(test_encode_matches_samba),
		odj_test(test_decode_forms),
		odj_test(test_decode_line_breaks),
		odj_test(test_save_mode_0600),
		odj_test(test_save_overwrite),
		odj_test(test_save_bad_paths),
		odj_test(test_save_failure_atomic),
		odj_test(test_check_target),
		odj_test(test_load),
		odj_test(test_load_stdin),
		odj_test(test_load_too_large),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
