/*
 * Drive the AD CS client (source/lib/dc/ca_adcs.c) alone from the
 * blackbox tests (test_icpr.sh: its answers, and the bytes it sends for
 * the independent codec check; `odj provision` uses it through
 * dc/ca_adcs_backend.c, test_adcs.sh):
 *
 *   icpr_enroll find-ca -s CONF --dc DC --domain DOMAIN -U ADMIN%PASS
 *               --template T [--ca NAME]
 *       prints "name", "host" and "templates" of the CA found in AD
 *
 *   icpr_enroll enroll -s CONF --ca-host HOST --ca-name NAME --template T
 *               --account NAME$ --password-file F --realm R --domain D
 *               [--csr-name DNSNAME] [--binding B] [--wait SECS]
 *               [--out DIR]
 *       makes an RSA key and a PKCS #10 for DNSNAME (the CA must ignore
 *       it: AD CS builds the names from AD), enrolls, prints the CA's
 *       answer and the certificate's fields, checks the certificate is
 *       for the key; writes DIR/csr.der, and DIR/cert.pem, DIR/chain.pem,
 *       DIR/pkcs7.der when issued.
 *
 * Exit: 0 issued (or CA found), 2 pending, 3 denied, 1 anything else.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <popt.h>
#include <talloc.h>
#include <tevent.h>
#include <credentials.h>
#include <param.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gnutls/abstract.h>

#include "dc/dc.h"
#include "dc/ca_adcs.h"

struct opts {
	const char *conf, *dc, *domain, *user, *tmpl, *ca;
	const char *ca_host, *account, *password_file, *realm;
	const char *csr_name, *binding, *out;
	int wait;
};

static int fail(const char *what, NTSTATUS status, const char *why)
{
	fprintf(stderr, "icpr_enroll: %s: %s\n", what,
		why != NULL ? why : nt_errstr(status));
	fprintf(stderr, "icpr_enroll: status %s\n", nt_errstr(status));
	if (NT_STATUS_EQUAL(status, NT_STATUS_PENDING)) {
		return 2;
	}
	return NT_STATUS_EQUAL(status, NT_STATUS_REQUEST_NOT_ACCEPTED) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_ACCESS_DENIED) ? 3 : 1;
}

static int find_ca(TALLOC_CTX *ctx, struct loadparm_context *lp,
		   const struct opts *o)
{
	struct tevent_context *ev = tevent_context_init(ctx);
	struct cli_credentials *creds = cli_credentials_init(ctx);
	struct odj_dc *dc = NULL;
	struct odj_adcs_ca *ca = NULL;
	char *why = NULL;
	NTSTATUS status;
	size_t i;

	if (ev == NULL || creds == NULL || o->user == NULL) {
		fprintf(stderr, "icpr_enroll: find-ca needs -U\n");
		return 1;
	}
	cli_credentials_guess(creds, lp);
	cli_credentials_parse_string(creds, o->user, CRED_SPECIFIED);
	status = odj_dc_connect(ctx, ev, lp, creds,
				&(struct odj_dc_spec) {
					.domain = o->domain, .dcname = o->dc,
				}, &dc, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return fail("connecting to the DC", status, why);
	}
	status = odj_adcs_find_ca(ctx, dc, o->ca, o->tmpl, &ca, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return fail("finding the CA", status, why);
	}
	printf("name: %s\nhost: %s\ndn: %s\nca-cert: %zu bytes\n", ca->name,
	       ca->dns_host, ca->dn, ca->ca_cert.length);
	for (i = 0; ca->templates[i] != NULL; i++) {
		printf("template: %s\n", ca->templates[i]);
	}
	return 0;
}

/* An RSA key and a PKCS #10 for @p name, signed by it. */
static int make_request(gnutls_x509_privkey_t key, const char *name,
			gnutls_datum_t *der)
{
	gnutls_x509_crq_t crq = NULL;
	int ret;

	ret = gnutls_x509_privkey_generate(key, GNUTLS_PK_RSA, 2048, 0);
	if (ret == 0) {
		ret = gnutls_x509_crq_init(&crq);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_set_dn_by_oid(
			crq, GNUTLS_OID_X520_COMMON_NAME, 0, name,
			strlen(name));
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_set_subject_alt_name(
			crq, GNUTLS_SAN_DNSNAME, name, strlen(name),
			GNUTLS_FSAN_SET);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_set_key(crq, key);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_sign2(crq, key, GNUTLS_DIG_SHA256, 0);
	}
	if (ret == 0) {
		ret = gnutls_x509_crq_export2(crq, GNUTLS_X509_FMT_DER, der);
	}
	gnutls_x509_crq_deinit(crq);
	return ret;
}

static bool same_key(DATA_BLOB cert, gnutls_x509_privkey_t key)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = { .data = cert.data, .size = cert.length };
	uint8_t a[64], b[64];
	size_t alen = sizeof(a), blen = sizeof(b);
	bool same = false;

	if (gnutls_x509_crt_init(&crt) < 0) {
		return false;
	}
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, a,
				       &alen) == 0 &&
	    gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, b,
					   &blen) == 0) {
		same = alen == blen && memcmp(a, b, alen) == 0;
	}
	gnutls_x509_crt_deinit(crt);
	return same;
}

static bool write_pem(const char *dir, const char *name, const DATA_BLOB *c,
		      size_t n, bool raw)
{
	char path[4096];
	FILE *f = NULL;
	size_t i;
	bool ok = true;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL) {
		return false;
	}
	for (i = 0; i < n && ok; i++) {
		gnutls_datum_t d = { .data = c[i].data, .size = c[i].length };
		gnutls_datum_t pem = { .data = NULL };

		if (raw) {
			ok = fwrite(c[i].data, 1, c[i].length, f) ==
			     c[i].length;
			continue;
		}
		ok = gnutls_pem_base64_encode2("CERTIFICATE", &d, &pem) == 0 &&
		     fwrite(pem.data, 1, pem.size, f) == pem.size;
		gnutls_free(pem.data);
	}
	return fclose(f) == 0 && ok;
}

static void print_answer(TALLOC_CTX *ctx, const struct odj_adcs_response *r)
{
	struct odj_cert_info *info = NULL;
	size_t i;

	printf("disposition: %" PRIu32 "\nrequest-id: %" PRIu32 "\n"
	       "message: %s\nchain: %zu\n", r->disposition, r->request_id,
	       r->message, r->num_chain);
	if (r->cert.length == 0 ||
	    !NT_STATUS_IS_OK(odj_cert_info(ctx, r->cert, &info, NULL))) {
		return;
	}
	printf("subject: %s\nissuer: %s\nsid: %s\ntemplate: %s\n",
	       info->subject, info->issuer,
	       info->account_sid != NULL ? info->account_sid : "",
	       info->template_name != NULL ? info->template_name : "");
	for (i = 0; info->dns_names != NULL && info->dns_names[i]; i++) {
		printf("dns: %s\n", info->dns_names[i]);
	}
	for (i = 0; i < r->num_chain; i++) {
		struct odj_cert_info *ci = NULL;

		if (NT_STATUS_IS_OK(odj_cert_info(ctx, r->chain[i], &ci,
						  NULL))) {
			printf("chain-subject: %s\n", ci->subject);
		}
	}
}

static int enroll(TALLOC_CTX *ctx, struct loadparm_context *lp,
		  const struct opts *o)
{
	struct odj_adcs_request r = {
		.ca_host = o->ca_host, .ca_name = o->ca,
		.template_name = o->tmpl, .account = o->account,
		.realm = o->realm, .domain = o->domain,
		.binding = o->binding, .wait_seconds = o->wait,
	};
	struct odj_adcs_response *resp = NULL;
	gnutls_x509_privkey_t key = NULL;
	gnutls_datum_t csr = { .data = NULL };
	DATA_BLOB password = data_blob_null;
	char *why = NULL;
	NTSTATUS status;
	int rc = 0;

	if (o->password_file == NULL) {
		fprintf(stderr, "icpr_enroll: --password-file missing\n");
		return 1;
	}
	status = odj_file_read(ctx, o->password_file, 1024, "a password file",
			       ODJ_READ_REGULAR, &password, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return fail("reading the password", status, why);
	}
	r.password = (const char *)password.data;
	if (gnutls_x509_privkey_init(&key) < 0 ||
	    make_request(key, o->csr_name != NULL ? o->csr_name :
			 "not-from-the-request.invalid", &csr) < 0) {
		fprintf(stderr, "icpr_enroll: cannot make a request\n");
		return 1;
	}
	r.csr = data_blob_const(csr.data, csr.size);
	if (o->out != NULL && !write_pem(o->out, "csr.der", &r.csr, 1, true)) {
		fprintf(stderr, "icpr_enroll: cannot write to %s\n", o->out);
		gnutls_free(csr.data);
		gnutls_x509_privkey_deinit(key);
		return 1;
	}
	status = odj_adcs_enroll(ctx, lp, &r, &resp, &why);
	gnutls_free(csr.data);
	if (resp != NULL) {
		print_answer(ctx, resp);
	}
	if (!NT_STATUS_IS_OK(status)) {
		gnutls_x509_privkey_deinit(key);
		return fail("enrolling", status, why);
	}
	if (!same_key(resp->cert, key)) {
		fprintf(stderr, "icpr_enroll: not our key's certificate\n");
		rc = 1;
	}
	gnutls_x509_privkey_deinit(key);
	if (rc == 0 && o->out != NULL &&
	    (!write_pem(o->out, "cert.pem", &resp->cert, 1, false) ||
	     !write_pem(o->out, "chain.pem", resp->chain, resp->num_chain,
			false) ||
	     !write_pem(o->out, "pkcs7.der", &resp->pkcs7, 1, true))) {
		fprintf(stderr, "icpr_enroll: cannot write to %s\n", o->out);
		rc = 1;
	}
	return rc;
}

/* popt hands out malloc()ed copies for POPT_ARG_STRING */
static void free_opts(struct opts *o)
{
	const char **s[] = {
		&o->conf, &o->dc, &o->domain, &o->user, &o->tmpl, &o->ca,
		&o->ca_host, &o->account, &o->password_file, &o->realm,
		&o->csr_name, &o->binding, &o->out,
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(s); i++) {
		free(discard_const_p(char, *s[i]));
		*s[i] = NULL;
	}
}

int main(int argc, const char **argv)
{
	struct opts o = { .wait = 0 };
	struct poptOption options[] = {
		POPT_AUTOHELP
		{ "configfile", 's', POPT_ARG_STRING, &o.conf, 0, "smb.conf" },
		{ "dc", 0, POPT_ARG_STRING, &o.dc, 0, "DC name" },
		{ "domain", 0, POPT_ARG_STRING, &o.domain, 0, "domain" },
		{ "user", 'U', POPT_ARG_STRING, &o.user, 0, "USER%PASS" },
		{ "template", 0, POPT_ARG_STRING, &o.tmpl, 0, "template" },
		{ "ca", 0, POPT_ARG_STRING, &o.ca, 0, "CA name" },
		{ "ca-name", 0, POPT_ARG_STRING, &o.ca, 0, "CA name" },
		{ "ca-host", 0, POPT_ARG_STRING, &o.ca_host, 0, "CA host" },
		{ "account", 0, POPT_ARG_STRING, &o.account, 0, "NAME$" },
		{ "password-file", 0, POPT_ARG_STRING, &o.password_file, 0,
		  "machine password file" },
		{ "realm", 0, POPT_ARG_STRING, &o.realm, 0, "realm" },
		{ "csr-name", 0, POPT_ARG_STRING, &o.csr_name, 0,
		  "name in the request" },
		{ "binding", 0, POPT_ARG_STRING, &o.binding, 0, "binding" },
		{ "wait", 0, POPT_ARG_INT, &o.wait, 0, "retry seconds" },
		{ "out", 0, POPT_ARG_STRING, &o.out, 0, "output directory" },
		POPT_TABLEEND
	};
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct loadparm_context *lp = NULL;
	poptContext pc = poptGetContext("icpr_enroll", argc, argv, options,
					0);
	const char *cmd = NULL;
	int c, rc;

	while ((c = poptGetNextOpt(pc)) >= 0) {
	}
	cmd = poptGetArg(pc);
	lp = loadparm_init_global(false);
	if (c < -1 || cmd == NULL || o.conf == NULL || lp == NULL ||
	    !lpcfg_load(lp, o.conf)) {
		fprintf(stderr, "usage: icpr_enroll find-ca|enroll -s CONF "
			"...\n");
		poptFreeContext(pc);
		free_opts(&o);
		return 1;
	}
	if (strcmp(cmd, "find-ca") == 0) {
		rc = find_ca(ctx, lp, &o);
	} else if (strcmp(cmd, "enroll") == 0) {
		rc = enroll(ctx, lp, &o);
	} else {
		fprintf(stderr, "icpr_enroll: unknown command %s\n", cmd);
		rc = 1;
	}
	poptFreeContext(pc);
	talloc_free(ctx);
	free_opts(&o);
	return rc;
}
