/*
 * Machine certificates from an AD CS enterprise CA.
 *
 * The CA: a pKIEnrollmentService under CN=Enrollment Services,CN=Public
 * Key Services,CN=Services,<configuration NC> ([MS-ADTS] 6.1.1.2.10,
 * [MS-WCCE] 3.1.1.4.1): cn is the CA's name, dNSHostName its host,
 * certificateTemplates what it issues.
 *
 * The request: [MS-ICPR] 3.2.4.1.1 CertServerRequest over ncacn_ip_tcp
 * (the port from the CA's endpoint mapper) or ncacn_np:\pipe\cert,
 * authenticated with SPNEGO (RPC_C_AUTHN_GSS_NEGOTIATE, as [MS-WCCE] 2.1
 * has Windows clients do) at packet privacy, which a CA with
 * IF_ENFORCEENCRYPTICERTREQUEST (the default since the 2021 updates)
 * demands.  The caller is the machine account itself, by Kerberos, so
 * the CA builds subject, SAN and SID extension from the account in AD.
 */

/*
 * For tevent_loop_allow_nesting(): Samba's client side of Kerberos runs
 * nested loops on the connection's event context (see odj_adcs_enroll)
 */
#define TEVENT_DEPRECATED 1

#include "dc/dc.h"
#include "dc/ca_adcs.h"

#include <errno.h>
#include <inttypes.h>
#include <strings.h>
#include <time.h>
#include <ldb.h>
#include <tevent.h>
#include <charset.h>
#include <credentials.h>
#include <param.h>
#include <util/tevent_ntstatus.h>
#include <dcerpc.h>
#include "gen_ndr/ndr_icpr.h"
#include "gen_ndr/ndr_icpr_c.h"
#include <gnutls/gnutls.h>
#include <gnutls/pkcs7.h>
#include <gnutls/x509.h>

#define ENROLLMENT_SERVICES \
	"CN=Enrollment Services,CN=Public Key Services,CN=Services"
#define TEMPLATE_ATTRIBUTE "CertificateTemplate:"
/* what a CA sends back is bounded: no certificate chain is this large */
#define MAX_ANSWER_BYTES (4 * 1024 * 1024)
#define MAX_PKCS7_CERTS 32
/* first retry after this, doubling, while wait_seconds last */
#define RETRY_FIRST_MS 250

/*
 * The CA in AD
 */

struct find_ca_state {
	const char *ca_name;
	const char *template_name;
	struct ldb_dn *base;
	struct odj_adcs_ca *ca;
	char *why;
};

static void find_ca_done(struct tevent_req *subreq);

struct tevent_req *odj_adcs_find_ca_send(TALLOC_CTX *mem_ctx,
					 struct tevent_context *ev,
					 struct odj_dc *dc,
					 const char *ca_name,
					 const char *template_name)
{
	static const char * const attrs[] = {
		"cn", "dNSHostName", "certificateTemplates", "cACertificate",
		NULL
	};
	struct tevent_req *req = NULL;
	struct tevent_req *subreq = NULL;
	struct find_ca_state *state = NULL;

	req = tevent_req_create(mem_ctx, &state, struct find_ca_state);
	if (req == NULL) {
		return NULL;
	}
	if (dc == NULL || template_name == NULL || template_name[0] == '\0') {
		tevent_req_nterror(req, NT_STATUS_INVALID_PARAMETER);
		return tevent_req_post(req, ev);
	}
	state->ca_name = ca_name;
	state->template_name = template_name;
	state->base = ldb_dn_new_fmt(state, odj_dc_ldb(dc),
				     ENROLLMENT_SERVICES ",%s",
				     odj_dc_info(dc)->config_dn);
	if (tevent_req_nomem(state->base, req)) {
		return tevent_req_post(req, ev);
	}
	subreq = odj_ldb_search_send(state, ev, odj_dc_ldb(dc), state->base,
				     LDB_SCOPE_ONELEVEL, attrs,
				     "(objectClass=pKIEnrollmentService)");
	if (tevent_req_nomem(subreq, req)) {
		return tevent_req_post(req, ev);
	}
	tevent_req_set_callback(subreq, find_ca_done, req);
	return req;
}

static const char **ca_templates(TALLOC_CTX *mem_ctx,
				 const struct ldb_message *msg)
{
	struct ldb_message_element *el = ldb_msg_find_element(
		msg, "certificateTemplates");
	unsigned int n = el != NULL ? el->num_values : 0, i;
	const char **t = talloc_zero_array(mem_ctx, const char *, n + 1);

	for (i = 0; t != NULL && i < n; i++) {
		t[i] = talloc_strndup(t, (const char *)el->values[i].data,
				      el->values[i].length);
		if (t[i] == NULL) {
			TALLOC_FREE(t);
		}
	}
	return t;
}

static bool offers(const char * const *templates, const char *name)
{
	size_t i;

	for (i = 0; templates != NULL && templates[i] != NULL; i++) {
		if (strcasecmp(templates[i], name) == 0) {
			return true;
		}
	}
	return false;
}

static struct odj_adcs_ca *ca_from_msg(TALLOC_CTX *mem_ctx,
				       const struct ldb_message *msg)
{
	struct odj_adcs_ca *ca = talloc_zero(mem_ctx, struct odj_adcs_ca);
	const struct ldb_val *cert = NULL;

	if (ca == NULL) {
		return NULL;
	}
	ca->dn = talloc_strdup(ca, ldb_dn_get_linearized(msg->dn));
	ca->name = talloc_strdup(ca, ldb_msg_find_attr_as_string(msg, "cn",
								 ""));
	ca->dns_host = talloc_strdup(
		ca, ldb_msg_find_attr_as_string(msg, "dNSHostName", ""));
	ca->templates = ca_templates(ca, msg);
	cert = ldb_msg_find_ldb_val(msg, "cACertificate");
	if (cert != NULL) {
		ca->ca_cert = data_blob_talloc(ca, cert->data, cert->length);
	}
	if (ca->dn == NULL || ca->name == NULL || ca->dns_host == NULL ||
	    ca->templates == NULL ||
	    (cert != NULL && ca->ca_cert.data == NULL)) {
		TALLOC_FREE(ca);
	}
	return ca;
}

/* The CA asked for, or the first offering the template; NULL if none. */
static const struct ldb_message *pick_ca(struct find_ca_state *state,
					 const struct ldb_result *res,
					 NTSTATUS *status)
{
	const struct ldb_message *named = NULL;
	unsigned int i;

	for (i = 0; res != NULL && i < res->count; i++) {
		const struct ldb_message *msg = res->msgs[i];
		const char *cn = ldb_msg_find_attr_as_string(msg, "cn", "");
		const char **t = NULL;
		bool ok;

		if (state->ca_name != NULL &&
		    strcasecmp(cn, state->ca_name) != 0) {
			continue;
		}
		named = msg;
		t = ca_templates(state, msg);
		if (t == NULL) {
			*status = NT_STATUS_NO_MEMORY;
			return NULL;
		}
		ok = offers(t, state->template_name);
		TALLOC_FREE(t);
		if (ok) {
			return msg;
		}
	}
	*status = NT_STATUS_NOT_FOUND;
	if (state->ca_name != NULL && named == NULL) {
		state->why = talloc_asprintf(
			state, "no enterprise CA named '%s' in %s",
			state->ca_name, ldb_dn_get_linearized(state->base));
	} else if (state->ca_name != NULL) {
		state->why = talloc_asprintf(
			state, "enterprise CA '%s' does not offer certificate "
			"template '%s' (its certificateTemplates)",
			state->ca_name, state->template_name);
	} else {
		state->why = talloc_asprintf(
			state, "no enterprise CA in %s offers certificate "
			"template '%s'", ldb_dn_get_linearized(state->base),
			state->template_name);
	}
	return NULL;
}

static void find_ca_done(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct find_ca_state *state = tevent_req_data(
		req, struct find_ca_state);
	const struct ldb_message *msg = NULL;
	struct ldb_result *res = NULL;
	char *msg_text = NULL;
	int ldb_err = LDB_SUCCESS;
	NTSTATUS status;

	status = odj_ldb_recv(subreq, state, &res, &ldb_err, &msg_text);
	TALLOC_FREE(subreq);
	if (ldb_err == LDB_ERR_NO_SUCH_OBJECT) {
		/* AD CS was never installed in this forest */
		res = NULL;
		status = NT_STATUS_OK;
	}
	if (!NT_STATUS_IS_OK(status)) {
		state->why = talloc_asprintf(
			state, "searching %s failed: %s",
			ldb_dn_get_linearized(state->base),
			msg_text != NULL ? msg_text : nt_errstr(status));
		tevent_req_nterror(req, status);
		return;
	}
	msg = pick_ca(state, res, &status);
	if (msg == NULL) {
		tevent_req_nterror(req, status);
		return;
	}
	state->ca = ca_from_msg(state, msg);
	if (tevent_req_nomem(state->ca, req)) {
		return;
	}
	if (state->ca->dns_host[0] == '\0') {
		state->why = talloc_asprintf(state, "enterprise CA '%s' has no "
					     "dNSHostName", state->ca->name);
		tevent_req_nterror(req, NT_STATUS_INVALID_NETWORK_RESPONSE);
		return;
	}
	tevent_req_done(req);
}

NTSTATUS odj_adcs_find_ca_recv(struct tevent_req *req,
			       TALLOC_CTX *mem_ctx,
			       struct odj_adcs_ca **ca,
			       char **why)
{
	struct find_ca_state *state = tevent_req_data(
		req, struct find_ca_state);
	NTSTATUS status;

	if (tevent_req_is_nterror(req, &status)) {
		if (why != NULL && state->why != NULL) {
			TALLOC_FREE(*why);
			*why = talloc_move(mem_ctx, &state->why);
		}
		tevent_req_received(req);
		return status;
	}
	*ca = talloc_move(mem_ctx, &state->ca);
	tevent_req_received(req);
	return NT_STATUS_OK;
}

NTSTATUS odj_adcs_find_ca(TALLOC_CTX *mem_ctx,
			  struct odj_dc *dc,
			  const char *ca_name,
			  const char *template_name,
			  struct odj_adcs_ca **ca,
			  char **why)
{
	struct tevent_req *req = NULL;
	NTSTATUS status;

	if (dc == NULL || ca == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	req = odj_adcs_find_ca_send(mem_ctx, odj_dc_ev(dc), dc, ca_name,
				    template_name);
	if (req == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!tevent_req_poll(req, odj_dc_ev(dc))) {
		TALLOC_FREE(req);
		return map_nt_error_from_unix_common(errno);
	}
	status = odj_adcs_find_ca_recv(req, mem_ctx, ca, why);
	TALLOC_FREE(req);
	return status;
}

/*
 * The request
 */

static gnutls_datum_t datum(DATA_BLOB b)
{
	return (gnutls_datum_t) { .data = b.data, .size = b.length };
}

/* "CertificateTemplate:<name>" as UTF-16LE with its NUL, cb counting it */
static bool template_attribute(TALLOC_CTX *mem_ctx, const char *name,
			       struct CERTTRANSBLOB *blob)
{
	char *text = talloc_asprintf(mem_ctx, TEMPLATE_ATTRIBUTE "%s", name);
	void *utf16 = NULL;
	size_t len = 0;

	if (text == NULL ||
	    !convert_string_talloc(mem_ctx, CH_UTF8, CH_UTF16LE, text,
				   strlen(text) + 1, &utf16, &len)) {
		return false;
	}
	*blob = (struct CERTTRANSBLOB) { .cb = len, .pb = utf16 };
	return true;
}

static struct cli_credentials *machine_creds(TALLOC_CTX *mem_ctx,
					     struct loadparm_context *lp_ctx,
					     const struct odj_adcs_request *r)
{
	struct cli_credentials *creds = cli_credentials_init(mem_ctx);
	bool ok;

	if (creds == NULL) {
		return NULL;
	}
	ok = cli_credentials_set_conf(creds, lp_ctx);
	ok = ok && cli_credentials_set_username(creds, r->account,
						CRED_SPECIFIED);
	ok = ok && cli_credentials_set_domain(creds, r->domain,
					      CRED_SPECIFIED);
	ok = ok && cli_credentials_set_realm(creds, r->realm, CRED_SPECIFIED);
	ok = ok && cli_credentials_set_password(creds, r->password,
						CRED_SPECIFIED);
	/* the CA maps the caller to its AD account: no NTLM fallback */
	ok = ok && cli_credentials_set_kerberos_state(
		creds, CRED_USE_KERBEROS_REQUIRED, CRED_SPECIFIED);
	if (!ok) {
		TALLOC_FREE(creds);
	}
	return creds;
}

/* Failures that may pass once the account has replicated. */
static bool retry_logon(NTSTATUS status)
{
	return NT_STATUS_EQUAL(status, NT_STATUS_LOGON_FAILURE) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_NO_SUCH_USER) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_WRONG_PASSWORD) ||
	       NT_STATUS_EQUAL(status, NT_STATUS_INVALID_ACCOUNT_NAME);
}

static void sleep_ms(struct tevent_context *ev, unsigned int ms)
{
	struct tevent_req *req = NULL;

	req = tevent_wakeup_send(ev, ev,
				 tevent_timeval_current_ofs(ms / 1000,
							    (ms % 1000) *
							    1000));
	if (req != NULL) {
		(void)tevent_req_poll(req, ev);
	}
	TALLOC_FREE(req);
}

static NTSTATUS connect_ca(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
			   struct loadparm_context *lp_ctx,
			   const struct odj_adcs_request *r,
			   struct dcerpc_pipe **pipe, char **why)
{
	struct cli_credentials *creds = NULL;
	const char *binding = r->binding;
	unsigned int delay = RETRY_FIRST_MS;
	time_t deadline = time(NULL) + r->wait_seconds;
	NTSTATUS status;

	if (binding == NULL) {
		binding = talloc_asprintf(mem_ctx,
					  "ncacn_ip_tcp:%s[spnego,seal]",
					  r->ca_host);
	}
	creds = machine_creds(mem_ctx, lp_ctx, r);
	if (binding == NULL || creds == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (;;) {
		status = dcerpc_pipe_connect(mem_ctx, pipe, binding,
					     &ndr_table_icpr, creds, ev,
					     lp_ctx);
		if (NT_STATUS_IS_OK(status) || !retry_logon(status) ||
		    time(NULL) >= deadline) {
			break;
		}
		sleep_ms(ev, delay);
		delay = delay * 2;
		/*
		 * A fresh credentials object: the failed one may have
		 * cached the failure
		 */
		TALLOC_FREE(creds);
		creds = machine_creds(mem_ctx, lp_ctx, r);
		if (creds == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	if (NT_STATUS_EQUAL(status, NT_STATUS_OBJECT_NAME_NOT_FOUND)) {
		/* Samba's resolver found no address for the name */
		odj_why(mem_ctx, why, "cannot reach CA '%s': no address for "
			"its host name %s", r->ca_name, r->ca_host);
		return NT_STATUS_HOST_UNREACHABLE;
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why(mem_ctx, why, "cannot reach CA '%s' at %s as %s: %s",
			r->ca_name, binding, r->account,
			get_friendly_nt_error_msg(status));
	}
	return status;
}

static bool blob_copy(TALLOC_CTX *mem_ctx, const struct CERTTRANSBLOB *b,
		      DATA_BLOB *out)
{
	*out = data_blob_null;
	if (b == NULL || b->cb == 0 || b->pb == NULL) {
		return true;
	}
	if (b->cb > MAX_ANSWER_BYTES) {
		return false;
	}
	*out = data_blob_talloc(mem_ctx, b->pb, b->cb);
	return out->data != NULL;
}

/* UTF-16LE, with or without its NUL, to UTF-8; "" when empty */
static char *message_text(TALLOC_CTX *mem_ctx, const struct CERTTRANSBLOB *b)
{
	size_t n = b != NULL && b->pb != NULL ? b->cb & ~(size_t)1 : 0;
	char *text = NULL;
	size_t len = 0;

	while (n >= 2 && b->pb[n - 2] == 0 && b->pb[n - 1] == 0) {
		n -= 2;
	}
	if (n == 0 || n > MAX_ANSWER_BYTES) {
		return talloc_strdup(mem_ctx, "");
	}
	if (!convert_string_talloc(mem_ctx, CH_UTF16LE, CH_UTF8, b->pb, n,
				   &text, &len)) {
		return talloc_strdup(mem_ctx, "(not UTF-16)");
	}
	/* a line end or blanks at the end are no part of the message */
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
			   text[len - 1] == ' ')) {
		text[--len] = '\0';
	}
	return text;
}

static NTSTATUS call_ca(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
			struct dcerpc_pipe *pipe,
			const struct odj_adcs_request *r,
			struct odj_adcs_response *resp, char **why)
{
	struct CERTTRANSBLOB attribs = { .cb = 0 };
	struct CERTTRANSBLOB request = {
		.cb = r->csr.length, .pb = r->csr.data,
	};
	struct CERTTRANSBLOB cert = { .cb = 0 }, encoded = { .cb = 0 };
	struct CERTTRANSBLOB message = { .cb = 0 };
	uint32_t request_id = 0, disposition = 0, result = 0;
	struct tevent_req *req = NULL;
	NTSTATUS status;

	if (!template_attribute(mem_ctx, r->template_name, &attribs)) {
		return NT_STATUS_NO_MEMORY;
	}
	req = dcerpc_icpr_CertServerRequest_send(
		mem_ctx, ev, pipe->binding_handle,
		CR_IN_BINARY | CR_IN_PKCS10, r->ca_name, &request_id,
		&disposition, &attribs, &request, &cert, &encoded, &message);
	if (req == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!tevent_req_poll(req, ev)) {
		TALLOC_FREE(req);
		return map_nt_error_from_unix_common(errno);
	}
	status = dcerpc_icpr_CertServerRequest_recv(req, mem_ctx, &result);
	TALLOC_FREE(req);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why(mem_ctx, why, "CertServerRequest to CA '%s' failed: "
			"%s", r->ca_name, nt_errstr(status));
		return status;
	}
	resp->disposition = disposition;
	resp->request_id = request_id;
	resp->message = message_text(resp, &message);
	if (resp->message == NULL || !blob_copy(resp, &encoded, &resp->cert) ||
	    !blob_copy(resp, &cert, &resp->pkcs7)) {
		odj_why(mem_ctx, why, "CA '%s' sent an answer of more than %d "
			"bytes", r->ca_name, MAX_ANSWER_BYTES);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	if (result != 0) {
		odj_why(mem_ctx, why, "CA '%s' refused the request: error "
			"0x%08" PRIx32 "%s%s", r->ca_name, result,
			resp->message[0] != '\0' ? ": " : "",
			resp->message);
		return NT_STATUS_REQUEST_NOT_ACCEPTED;
	}
	return NT_STATUS_OK;
}

/* The issued certificate, checked, and its chain from pctbCert. */
static NTSTATUS take_issued(TALLOC_CTX *mem_ctx,
			    const struct odj_adcs_request *r,
			    struct odj_adcs_response *resp, char **why)
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d = datum(resp->cert);
	int ret;

	ret = gnutls_x509_crt_init(&crt);
	if (ret == 0) {
		ret = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	}
	gnutls_x509_crt_deinit(crt);
	if (resp->cert.length == 0 || ret < 0) {
		odj_why(mem_ctx, why, "CA '%s' issued request %" PRIu32
			" but sent no valid certificate (pctbEncodedCert)",
			r->ca_name, resp->request_id);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	if (resp->pkcs7.length == 0) {
		return NT_STATUS_OK;
	}
	return odj_adcs_pkcs7_chain(resp, resp->pkcs7, resp->cert,
				    &resp->chain, &resp->num_chain, why);
}

static NTSTATUS judge(TALLOC_CTX *mem_ctx, const struct odj_adcs_request *r,
		      struct odj_adcs_response *resp, char **why)
{
	const char *sep = resp->message[0] != '\0' ? ": " : "";

	switch (resp->disposition) {
	case CR_DISP_ISSUED:
		return take_issued(mem_ctx, r, resp, why);
	case CR_DISP_UNDER_SUBMISSION:
		odj_why(mem_ctx, why, "CA '%s' took request %" PRIu32 " under "
			"submission (pending a CA manager's approval)%s%s",
			r->ca_name, resp->request_id, sep, resp->message);
		return NT_STATUS_PENDING;
	case CR_DISP_DENIED:
		odj_why(mem_ctx, why, "CA '%s' denied request %" PRIu32 "%s%s",
			r->ca_name, resp->request_id, sep, resp->message);
		return NT_STATUS_REQUEST_NOT_ACCEPTED;
	default:
		break;
	}
	/* a refusal's HRESULT in the disposition, as Windows CAs send */
	odj_why(mem_ctx, why, "CA '%s' did not issue request %" PRIu32
		" (disposition 0x%08" PRIx32 ")%s%s", r->ca_name,
		resp->request_id, resp->disposition, sep, resp->message);
	return NT_STATUS_REQUEST_NOT_ACCEPTED;
}

static bool request_valid(const struct odj_adcs_request *r)
{
	return r != NULL && r->ca_host != NULL && r->ca_host[0] != '\0' &&
	       r->ca_name != NULL && r->template_name != NULL &&
	       r->template_name[0] != '\0' && r->csr.length > 0 &&
	       r->account != NULL && r->password != NULL &&
	       r->realm != NULL && r->domain != NULL;
}

NTSTATUS odj_adcs_enroll(TALLOC_CTX *mem_ctx,
			 struct loadparm_context *lp_ctx,
			 const struct odj_adcs_request *r,
			 struct odj_adcs_response **response,
			 char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	struct tevent_context *ev = NULL;
	struct dcerpc_pipe *pipe = NULL;
	struct odj_adcs_response *resp = NULL;
	NTSTATUS status;

	if (lp_ctx == NULL || !request_valid(r) || response == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/*
	 * Registers the GENSEC backends (gensec_init()); without it SPNEGO
	 * is "not found" (NT_STATUS_INVALID_PARAMETER) before any packet
	 */
	status = dcerpc_init();
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* its own event context: see odj_ca_adcs.h */
	ev = tevent_context_init(tmp_ctx);
	resp = talloc_zero(tmp_ctx, struct odj_adcs_response);
	if (ev == NULL || resp == NULL) {
		status = NT_STATUS_NO_MEMORY;
		goto done;
	}
	/*
	 * gensec's Kerberos fetches tickets from inside the connect's
	 * callbacks, with composite_wait() on this same context (Samba's
	 * smb_krb5_send_and_recv_func): tevent aborts such nesting unless
	 * allowed, as Samba's own s4_event_context_init() allows it.  This
	 * context is ours alone, so nothing else runs re-entered.
	 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	tevent_loop_allow_nesting(ev);
#pragma GCC diagnostic pop
	status = connect_ca(tmp_ctx, ev, lp_ctx, r, &pipe, why);
	if (NT_STATUS_IS_OK(status)) {
		status = call_ca(tmp_ctx, ev, pipe, r, resp, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = judge(tmp_ctx, r, resp, why);
		*response = talloc_move(mem_ctx, &resp);
	}
done:
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(tmp_ctx);
	return status;
}

/*
 * The PKCS #7 of an issued request
 */

struct cert_list {
	gnutls_x509_crt_t crts[MAX_PKCS7_CERTS];
	DATA_BLOB der[MAX_PKCS7_CERTS];
	bool taken[MAX_PKCS7_CERTS];
	unsigned int num;
};

static void cert_list_free(struct cert_list *l)
{
	unsigned int i;

	for (i = 0; i < l->num; i++) {
		gnutls_x509_crt_deinit(l->crts[i]);
	}
	l->num = 0;
}

static int cert_list_load(TALLOC_CTX *mem_ctx, gnutls_pkcs7_t p7,
			  struct cert_list *l)
{
	int count = gnutls_pkcs7_get_crt_count(p7), i, ret = 0;

	if (count < 0) {
		return count;
	}
	if (count > MAX_PKCS7_CERTS) {
		return GNUTLS_E_TOO_MANY_EMPTY_PACKETS;
	}
	for (i = 0; i < count && ret >= 0; i++) {
		gnutls_datum_t d = { .data = NULL };

		ret = gnutls_pkcs7_get_crt_raw2(p7, i, &d);
		if (ret < 0) {
			break;
		}
		l->der[i] = data_blob_talloc(mem_ctx, d.data, d.size);
		gnutls_free(d.data);
		if (l->der[i].data == NULL) {
			return GNUTLS_E_MEMORY_ERROR;
		}
		ret = gnutls_x509_crt_init(&l->crts[i]);
		if (ret < 0) {
			break;
		}
		l->num = i + 1;
		d = datum(l->der[i]);
		ret = gnutls_x509_crt_import(l->crts[i], &d,
					     GNUTLS_X509_FMT_DER);
	}
	return ret;
}

/* The untaken certificate that issued @p crt, or -1. */
static int find_issuer(const struct cert_list *l, gnutls_x509_crt_t crt)
{
	unsigned int i;

	for (i = 0; i < l->num; i++) {
		if (!l->taken[i] &&
		    gnutls_x509_crt_check_issuer(crt, l->crts[i]) != 0) {
			return i;
		}
	}
	return -1;
}

static NTSTATUS order_chain(TALLOC_CTX *mem_ctx, struct cert_list *l,
			    DATA_BLOB cert, gnutls_x509_crt_t leaf,
			    DATA_BLOB **chain, size_t *num_chain)
{
	DATA_BLOB *out = talloc_zero_array(mem_ctx, DATA_BLOB, l->num + 1);
	gnutls_x509_crt_t cur = leaf;
	size_t n = 0;
	unsigned int i;
	int k;

	if (out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* the certificate itself is not part of its chain */
	for (i = 0; i < l->num; i++) {
		l->taken[i] = data_blob_cmp(&l->der[i], &cert) == 0;
	}
	while ((k = find_issuer(l, cur)) >= 0) {
		l->taken[k] = true;
		out[n++] = l->der[k];
		if (gnutls_x509_crt_check_issuer(l->crts[k], l->crts[k])) {
			break;	/* a root */
		}
		cur = l->crts[k];
	}
	for (i = 0; i < l->num; i++) {
		if (!l->taken[i]) {
			out[n++] = l->der[i];
		}
	}
	for (i = 0; i < n; i++) {
		talloc_steal(out, out[i].data);
	}
	*chain = out;
	*num_chain = n;
	return NT_STATUS_OK;
}

NTSTATUS odj_adcs_pkcs7_chain(TALLOC_CTX *mem_ctx,
			      DATA_BLOB pkcs7,
			      DATA_BLOB cert,
			      DATA_BLOB **chain,
			      size_t *num_chain,
			      char **why)
{
	TALLOC_CTX *tmp_ctx = talloc_new(mem_ctx);
	struct cert_list l = { .num = 0 };
	gnutls_pkcs7_t p7 = NULL;
	gnutls_x509_crt_t leaf = NULL;
	gnutls_datum_t d = datum(pkcs7);
	NTSTATUS status = NT_STATUS_INVALID_NETWORK_RESPONSE;
	int ret;

	if (tmp_ctx == NULL || chain == NULL || num_chain == NULL) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_INVALID_PARAMETER;
	}
	ret = gnutls_pkcs7_init(&p7);
	if (ret == 0) {
		ret = gnutls_pkcs7_import(p7, &d, GNUTLS_X509_FMT_DER);
	}
	if (ret == 0) {
		ret = cert_list_load(tmp_ctx, p7, &l);
	}
	if (ret == 0) {
		ret = gnutls_x509_crt_init(&leaf);
	}
	if (ret == 0) {
		d = datum(cert);
		ret = gnutls_x509_crt_import(leaf, &d, GNUTLS_X509_FMT_DER);
	}
	if (ret == 0) {
		status = order_chain(tmp_ctx, &l, cert, leaf, chain, num_chain);
		if (NT_STATUS_IS_OK(status)) {
			talloc_steal(mem_ctx, *chain);
		}
	} else {
		odj_why(mem_ctx, why, "the CA's certificate chain (PKCS #7) "
			"cannot be read: %s", gnutls_strerror(ret));
	}
	gnutls_x509_crt_deinit(leaf);
	cert_list_free(&l);
	gnutls_pkcs7_deinit(p7);
	TALLOC_FREE(tmp_ctx);
	return status;
}
