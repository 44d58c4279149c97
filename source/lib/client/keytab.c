/*
 * The machine account's keytab, written with MIT krb5.
 *
 * The new keytab is built beside the old one and swapped in by the
 * caller, so a reader sees either keytab whole.  Entries of other
 * principals (a web server's HTTP/ keys, say) are carried over; entries
 * of the machine's own principals are replaced, since they belong to an
 * earlier account or password.
 */

#include "client/client.h"
#include "gen_ndr/ndr_secrets.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <krb5/krb5.h>

/*
 * MIT's FILE keytab writer opens, locks, appends to and fsyncs the file
 * once per entry: 15 fsyncs, about 9 ms here, for a join whose whole
 * budget is a few dozen.  So the entries are serialized here, in the
 * documented FILE keytab format (MIT's "Keytab file format", version
 * 0x0502: big-endian, counted strings), written with one write and one
 * fsync, and read back with MIT's reader before they count.  Principals
 * are parsed, and the old keytab is read, by MIT.
 */
#define KEYTAB_FORMAT_VERSION 0x0502

struct keytab_state {
	TALLOC_CTX *mem_ctx;
	krb5_context k5;
	krb5_principal *ours;
	size_t num_ours;
	uint8_t *buf;			/* the entries, wiped when freed */
	size_t len;
	size_t cap;
	size_t num_entries;
	bool ok;
	char **why;
};

static NTSTATUS k5_fail(struct keytab_state *s, krb5_error_code ret,
			const char *fmt, const char *arg)
{
	const char *msg = krb5_get_error_message(s->k5, ret);
	char *what = talloc_asprintf(s->mem_ctx, fmt, arg);

	odj_why(s->mem_ctx, s->why, "%s: %s", what != NULL ? what : fmt, msg);
	krb5_free_error_message(s->k5, msg);
	return ret == ENOMEM ? NT_STATUS_NO_MEMORY : NT_STATUS_INTERNAL_ERROR;
}

/* Grow by copying, so that no freed block keeps a key */
static void put(struct keytab_state *s, const void *p, size_t n)
{
	uint8_t *b = NULL;
	size_t cap;

	if (!s->ok) {
		return;
	}
	if (s->len + n > s->cap) {
		cap = 2 * (s->len + n) + 1024;
		b = talloc_array(s->mem_ctx, uint8_t, cap);
		if (b == NULL) {
			s->ok = false;
			return;
		}
		odj_wipe_on_free(b);
		if (s->len > 0) {
			memcpy(b, s->buf, s->len);
		}
		TALLOC_FREE(s->buf);
		s->buf = b;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static void put_u16(struct keytab_state *s, uint16_t v)
{
	uint8_t b[2] = { v >> 8, v & 0xff };

	put(s, b, sizeof(b));
}

static void put_u32(struct keytab_state *s, uint32_t v)
{
	uint8_t b[4] = { v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff,
			 v & 0xff };

	put(s, b, sizeof(b));
}

static void put_counted(struct keytab_state *s, const void *p, size_t n)
{
	if (n > UINT16_MAX) {
		s->ok = false;
		return;
	}
	put_u16(s, n);
	put(s, p, n);
}

/* One keytab_entry: int32 size, then the principal, time, key, kvno */
static void put_entry(struct keytab_state *s, krb5_const_principal p,
		      krb5_timestamp timestamp, krb5_kvno kvno,
		      krb5_enctype enctype, const void *key, size_t keylen)
{
	size_t start = s->len;
	krb5_int32 i;

	put_u32(s, 0);
	put_u16(s, p->length);
	put_counted(s, p->realm.data, p->realm.length);
	for (i = 0; i < p->length; i++) {
		put_counted(s, p->data[i].data, p->data[i].length);
	}
	put_u32(s, p->type);
	put_u32(s, timestamp);
	put(s, &(uint8_t){ kvno & 0xff }, 1);
	put_u16(s, enctype);
	put_counted(s, key, keylen);
	/* the 32-bit kvno that follows the entry since MIT 1.9 */
	put_u32(s, kvno);
	if (s->ok) {
		size_t size = s->len - start - 4;
		uint8_t *b = s->buf + start;

		b[0] = size >> 24;
		b[1] = (size >> 16) & 0xff;
		b[2] = (size >> 8) & 0xff;
		b[3] = size & 0xff;
		s->num_entries++;
	}
}

static bool is_ours(struct keytab_state *s, krb5_const_principal p)
{
	size_t i;

	for (i = 0; i < s->num_ours; i++) {
		if (krb5_principal_compare(s->k5, s->ours[i], p)) {
			return true;
		}
	}
	return false;
}

/* The existing keytab's entries of other principals, read by MIT */
static NTSTATUS carry_over(struct keytab_state *s, const char *path)
{
	krb5_keytab old = NULL;
	krb5_kt_cursor cursor;
	krb5_keytab_entry e;
	krb5_error_code ret;
	char *name = NULL;
	NTSTATUS status = NT_STATUS_OK;

	if (access(path, F_OK) != 0 && errno == ENOENT) {
		return NT_STATUS_OK;
	}
	name = talloc_asprintf(s->mem_ctx, "FILE:%s", path);
	if (name == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ret = krb5_kt_resolve(s->k5, name, &old);
	if (ret == 0) {
		ret = krb5_kt_start_seq_get(s->k5, old, &cursor);
	}
	if (ret != 0) {
		status = k5_fail(s, ret, "cannot read the keytab %s", path);
		if (old != NULL) {
			krb5_kt_close(s->k5, old);
		}
		return status;
	}
	while ((ret = krb5_kt_next_entry(s->k5, old, &e, &cursor)) == 0) {
		if (!is_ours(s, e.principal)) {
			put_entry(s, e.principal, e.timestamp, e.vno,
				  e.key.enctype, e.key.contents, e.key.length);
		}
		krb5_free_keytab_entry_contents(s->k5, &e);
	}
	krb5_kt_end_seq_get(s->k5, old, &cursor);
	krb5_kt_close(s->k5, old);
	if (ret != KRB5_KT_END) {
		return k5_fail(s, ret, "cannot read the keytab %s", path);
	}
	return NT_STATUS_OK;
}

static void put_ours(struct keytab_state *s,
		     const struct secrets_domain_info1_password *pw,
		     uint32_t kvno)
{
	krb5_timestamp now = time(NULL);
	size_t i;
	uint16_t k;

	for (i = 0; i < s->num_ours; i++) {
		for (k = 0; k < pw->num_keys; k++) {
			put_entry(s, s->ours[i], now, kvno,
				  pw->keys[k].keytype,
				  pw->keys[k].value.data,
				  pw->keys[k].value.length);
		}
	}
}

static NTSTATUS parse_principals(struct keytab_state *s,
				 const char * const *principals)
{
	size_t n = 0;
	krb5_error_code ret;

	while (principals[n] != NULL) {
		n++;
	}
	s->ours = talloc_zero_array(s->mem_ctx, krb5_principal, n);
	if (s->ours == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (s->num_ours = 0; s->num_ours < n; s->num_ours++) {
		ret = krb5_parse_name(s->k5, principals[s->num_ours],
				      &s->ours[s->num_ours]);
		if (ret != 0) {
			return k5_fail(s, ret, "principal %s",
				       principals[s->num_ours]);
		}
	}
	return NT_STATUS_OK;
}

static void free_principals(struct keytab_state *s)
{
	size_t i;

	for (i = 0; i < s->num_ours; i++) {
		krb5_free_principal(s->k5, s->ours[i]);
	}
	s->num_ours = 0;
}

static NTSTATUS write_keytab(struct keytab_state *s,
			     struct odj_staged_file *staged)
{
	const char *tmp = odj_staged_tmp_path(staged);
	int fd = odj_staged_fd(staged);
	size_t done = 0;

	while (done < s->len) {
		ssize_t n = write(fd, s->buf + done, s->len - done);

		if (n < 0) {
			int err = errno;

			odj_why(s->mem_ctx, s->why, "cannot write %s: %s", tmp,
				strerror(err));
			return map_nt_error_from_unix_common(err);
		}
		done += n;
	}
	return NT_STATUS_OK;
}

/* MIT must read back exactly the entries written */
static NTSTATUS verify_keytab(struct keytab_state *s, const char *tmp)
{
	char *name = talloc_asprintf(s->mem_ctx, "FILE:%s", tmp);
	krb5_keytab kt = NULL;
	krb5_kt_cursor cursor;
	krb5_keytab_entry e;
	krb5_error_code ret;
	size_t n = 0;

	if (name == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ret = krb5_kt_resolve(s->k5, name, &kt);
	if (ret == 0) {
		ret = krb5_kt_start_seq_get(s->k5, kt, &cursor);
	}
	if (ret != 0) {
		if (kt != NULL) {
			krb5_kt_close(s->k5, kt);
		}
		return k5_fail(s, ret, "cannot read back %s", tmp);
	}
	while ((ret = krb5_kt_next_entry(s->k5, kt, &e, &cursor)) == 0) {
		krb5_free_keytab_entry_contents(s->k5, &e);
		n++;
	}
	krb5_kt_end_seq_get(s->k5, kt, &cursor);
	krb5_kt_close(s->k5, kt);
	if (ret != KRB5_KT_END || n != s->num_entries) {
		odj_why(s->mem_ctx, s->why, "the keytab written to %s reads "
			"back as %zu entries, not %zu", tmp, n,
			s->num_entries);
		return NT_STATUS_INTERNAL_ERROR;
	}
	return NT_STATUS_OK;
}

static NTSTATUS fill_keytab(struct keytab_state *s,
			    struct odj_staged_file *staged,
			    const char *path,
			    const char * const *principals,
			    const struct secrets_domain_info1_password *pw,
			    uint32_t kvno)
{
	NTSTATUS status;

	put_u16(s, KEYTAB_FORMAT_VERSION);
	status = parse_principals(s, principals);
	if (NT_STATUS_IS_OK(status)) {
		status = carry_over(s, path);
	}
	if (NT_STATUS_IS_OK(status)) {
		put_ours(s, pw, kvno);
		status = s->ok ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	free_principals(s);
	if (NT_STATUS_IS_OK(status)) {
		status = write_keytab(s, staged);
	}
	return status;
}

NTSTATUS odj_keytab_stage(TALLOC_CTX *mem_ctx,
			  struct _krb5_context *k5,
			  const char *path,
			  const char * const *principals,
			  const struct secrets_domain_info1_password *password,
			  uint32_t kvno,
			  struct odj_staged_file **_staged,
			  char **why)
{
	TALLOC_CTX *tmp_ctx = talloc_new(mem_ctx);
	struct odj_staged_file *staged = NULL;
	struct keytab_state s = { .k5 = k5, .why = why, .ok = true };
	NTSTATUS status;

	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	s.mem_ctx = tmp_ctx;

	status = odj_staged_create(tmp_ctx, path, 0600, &staged, why);
	if (NT_STATUS_IS_OK(status)) {
		status = fill_keytab(&s, staged, path, principals, password,
				     kvno);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_close(staged, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = verify_keytab(&s, odj_staged_tmp_path(staged));
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	*_staged = talloc_move(mem_ctx, &staged);
	TALLOC_FREE(tmp_ctx);
	return NT_STATUS_OK;
}
