/*
 * samba-odj unit tests: the keytab of a join (client/keytab.c), read back with MIT's
 * reader.
 */

#include "client_test.h"

/* What the journal does once the join commits */
static void put_in_place(struct odj_staged_file *staged)
{
	assert_int_equal(rename(odj_staged_tmp_path(staged),
				odj_staged_target(staged)), 0);
	odj_staged_finish(staged);
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
	put_in_place(staged);
	TALLOC_FREE(staged);

	assert_nt_ok(odj_keytab_stage(ctx, k5, path, mine, s->password, 1,
				      &staged, NULL));
	put_in_place(staged);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_keytab),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
