/*
 * Does a blob's password still work?  A Kerberos AS exchange as the
 * machine, with MIT krb5's step-by-step API (krb5_init_creds_step): the
 * library builds the requests and reads the replies, we carry them over
 * TCP to port 88 of the DC the LDAP session talks to, on the event loop.
 * The krb5 context has an empty profile of its own, so the host's
 * krb5.conf (its realms, its KDCs, DNS lookups) plays no part.
 *
 * No ticket and no logon either.  MIT takes the time of its encrypted
 * timestamp from the KDC's PREAUTH_REQUIRED error (its stime); we hand
 * it that error with the stime KDC_PROBE_SKEW ahead, so the
 * pre-authentication's timestamp is far outside the KDC's window.  A KDC
 * can only read that timestamp by decrypting it with the account's key
 * (RFC 4120 5.2.7.2), so it answers KRB_AP_ERR_SKEW when the blob's
 * password is right and KDC_ERR_PREAUTH_FAILED when it is wrong
 * (Heimdal's pa_enc_ts_validate, as Samba runs it: decrypt, then check
 * the time), and records neither a logon (lastLogon, lastLogonTimestamp)
 * nor a bad password for the former: the check does not look like a
 * machine's first contact to odj status.  We stop at that answer instead
 * of letting the library correct its clock and try again.  A KDC that
 * ignored the time would issue a ticket: the password works all the
 * same, and that one is a logon (the answer says so).
 */

#include "dc/dc.h"

#include <errno.h>
#include <netdb.h>
#include <unistd.h>
#include <sys/socket.h>
#include <krb5/krb5.h>
#include <profile.h>
#include <tevent.h>
#include <util/tevent_ntstatus.h>

/* a KDC reply is a few KB; a PAC-laden one some tens */
#define KDC_REPLY_MAX (1024 * 1024)
/* per exchange; MIT's own default */
#define KDC_TIMEOUT_SEC 10
/* an AS exchange is 2 or 3 round trips */
#define KDC_MAX_ROUNDS 8
/* far outside any KDC's clock skew (5 minutes by default) */
#define KDC_PROBE_SKEW (7 * 24 * 3600)
/* the codes as KRB-ERROR carries them (RFC 4120 7.5.9) */
#define KRB_PROTO_AP_ERR_SKEW (KRB5KRB_AP_ERR_SKEW - ERROR_TABLE_BASE_krb5)
#define KRB_PROTO_PREAUTH_REQUIRED \
	(KRB5KDC_ERR_PREAUTH_REQUIRED - ERROR_TABLE_BASE_krb5)

struct odj_kdc {
	krb5_context ctx;
	const char *address;		/* numeric, as the DC resolved */
	const char *port;
	const char *realm;
};

static int kdc_destructor(struct odj_kdc *kdc)
{
	krb5_free_context(kdc->ctx);
	return 0;
}

NTSTATUS odj_kdc_new(TALLOC_CTX *mem_ctx, const char *address,
		     const char *port, const char *realm,
		     struct odj_kdc **_kdc, char **why)
{
	struct odj_kdc *kdc = talloc_zero(mem_ctx, struct odj_kdc);
	profile_t profile = NULL;
	krb5_error_code ret;

	if (kdc == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	kdc->address = talloc_strdup(kdc, address);
	kdc->port = talloc_strdup(kdc, port != NULL ? port : "88");
	kdc->realm = talloc_strdup_upper(kdc, realm);
	if (kdc->address == NULL || kdc->port == NULL || kdc->realm == NULL) {
		TALLOC_FREE(kdc);
		return NT_STATUS_NO_MEMORY;
	}
	/* no file: an empty profile, krb5.conf is not read */
	ret = profile_init(NULL, &profile);
	if (ret == 0) {
		ret = krb5_init_context_profile(profile, 0, &kdc->ctx);
		profile_release(profile);
	}
	if (ret != 0) {
		odj_why(mem_ctx, why, "cannot set up Kerberos (error %d)", ret);
		TALLOC_FREE(kdc);
		return NT_STATUS_INTERNAL_ERROR;
	}
	talloc_set_destructor(kdc, kdc_destructor);
	*_kdc = kdc;
	return NT_STATUS_OK;
}

/*
 * One request and its reply over TCP (RFC 4120 7.2.2: a 4-byte length
 * in network order, then the message).
 */

struct kdc_tcp_state {
	int fd;
	struct tevent_fd *fde;
	bool connected;
	uint8_t *out;
	size_t out_len, out_done;
	uint8_t len_buf[4];
	size_t len_done;
	uint8_t *in;
	size_t in_len, in_done;
};

static void kdc_tcp_cleanup(struct tevent_req *req,
			    enum tevent_req_state req_state)
{
	struct kdc_tcp_state *state = tevent_req_data(req,
						      struct kdc_tcp_state);

	TALLOC_FREE(state->fde);
	if (state->fd != -1) {
		close(state->fd);
		state->fd = -1;
	}
}

static void kdc_tcp_io(struct tevent_context *ev, struct tevent_fd *fde,
		       uint16_t flags, void *private_data);

static int kdc_tcp_connect(const char *address, const char *port, int *err)
{
	struct addrinfo hints = {
		.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST,
	};
	struct addrinfo *ai = NULL;
	int fd;

	if (getaddrinfo(address, port, &hints, &ai) != 0) {
		*err = EINVAL;
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd != -1 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 &&
	    errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		fd = -1;
	} else if (fd == -1) {
		*err = errno;
	}
	freeaddrinfo(ai);
	return fd;
}

static struct tevent_req *kdc_tcp_send(TALLOC_CTX *mem_ctx,
				       struct tevent_context *ev,
				       const struct odj_kdc *kdc,
				       const krb5_data *msg)
{
	struct tevent_req *req = NULL;
	struct kdc_tcp_state *state = NULL;
	int err = 0;

	req = tevent_req_create(mem_ctx, &state, struct kdc_tcp_state);
	if (req == NULL) {
		return NULL;
	}
	state->fd = -1;
	tevent_req_set_cleanup_fn(req, kdc_tcp_cleanup);
	state->out_len = 4 + msg->length;
	state->out = talloc_array(state, uint8_t, state->out_len);
	if (tevent_req_nomem(state->out, req)) {
		return tevent_req_post(req, ev);
	}
	state->out[0] = (msg->length >> 24) & 0xff;
	state->out[1] = (msg->length >> 16) & 0xff;
	state->out[2] = (msg->length >> 8) & 0xff;
	state->out[3] = msg->length & 0xff;
	memcpy(state->out + 4, msg->data, msg->length);

	state->fd = kdc_tcp_connect(kdc->address, kdc->port, &err);
	if (state->fd == -1) {
		tevent_req_nterror(req, map_nt_error_from_unix_common(err));
		return tevent_req_post(req, ev);
	}
	state->fde = tevent_add_fd(ev, state, state->fd, TEVENT_FD_WRITE,
				   kdc_tcp_io, req);
	if (tevent_req_nomem(state->fde, req) ||
	    !tevent_req_set_endtime(req, ev, tevent_timeval_current_ofs(
						    KDC_TIMEOUT_SEC, 0))) {
		return tevent_req_post(req, ev);
	}
	return req;
}

static bool kdc_tcp_write(struct tevent_req *req,
			  struct kdc_tcp_state *state)
{
	ssize_t n;

	if (!state->connected) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(state->fd, SOL_SOCKET, SO_ERROR, &err,
			       &len) != 0) {
			err = errno;
		}
		if (err != 0) {
			tevent_req_nterror(req,
					   map_nt_error_from_unix_common(err));
			return false;
		}
		state->connected = true;
	}
	n = write(state->fd, state->out + state->out_done,
		  state->out_len - state->out_done);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return true;
	}
	if (n == -1) {
		tevent_req_nterror(req, map_nt_error_from_unix_common(errno));
		return false;
	}
	state->out_done += n;
	if (state->out_done == state->out_len) {
		TEVENT_FD_NOT_WRITEABLE(state->fde);
		TEVENT_FD_READABLE(state->fde);
	}
	return true;
}

static void kdc_tcp_read(struct tevent_req *req,
			 struct kdc_tcp_state *state)
{
	uint8_t *p = state->len_buf + state->len_done;
	size_t want = sizeof(state->len_buf) - state->len_done;
	ssize_t n;

	if (state->in != NULL) {
		p = state->in + state->in_done;
		want = state->in_len - state->in_done;
	}
	n = read(state->fd, p, want);
	if (n == -1 && (errno == EAGAIN || errno == EINTR)) {
		return;
	}
	if (n <= 0) {
		tevent_req_nterror(req, n == 0 ? NT_STATUS_CONNECTION_RESET :
				   map_nt_error_from_unix_common(errno));
		return;
	}
	if (state->in != NULL) {
		state->in_done += n;
		if (state->in_done == state->in_len) {
			tevent_req_done(req);
		}
		return;
	}
	state->len_done += n;
	if (state->len_done < sizeof(state->len_buf)) {
		return;
	}
	state->in_len = (uint32_t)state->len_buf[0] << 24 |
			(uint32_t)state->len_buf[1] << 16 |
			(uint32_t)state->len_buf[2] << 8 | state->len_buf[3];
	if (state->in_len == 0 || state->in_len > KDC_REPLY_MAX) {
		tevent_req_nterror(req, NT_STATUS_INVALID_NETWORK_RESPONSE);
		return;
	}
	state->in = talloc_array(state, uint8_t, state->in_len);
	tevent_req_nomem(state->in, req);
}

static void kdc_tcp_io(struct tevent_context *ev, struct tevent_fd *fde,
		       uint16_t flags, void *private_data)
{
	struct tevent_req *req = talloc_get_type_abort(private_data,
						       struct tevent_req);
	struct kdc_tcp_state *state = tevent_req_data(req,
						      struct kdc_tcp_state);

	if ((flags & TEVENT_FD_WRITE) && !kdc_tcp_write(req, state)) {
		return;
	}
	if (flags & TEVENT_FD_READ) {
		kdc_tcp_read(req, state);
	}
}

static NTSTATUS kdc_tcp_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
			     DATA_BLOB *reply)
{
	struct kdc_tcp_state *state = tevent_req_data(req,
						      struct kdc_tcp_state);
	NTSTATUS status;

	if (tevent_req_is_nterror(req, &status)) {
		tevent_req_received(req);
		return status;
	}
	*reply = data_blob_const(talloc_move(mem_ctx, &state->in),
				 state->in_len);
	tevent_req_received(req);
	return NT_STATUS_OK;
}

/*
 * The AS exchange
 */

struct kdc_check_state {
	struct tevent_context *ev;
	struct odj_kdc *kdc;
	krb5_principal client;
	krb5_get_init_creds_opt *opt;
	krb5_init_creds_context icc;
	unsigned int rounds;
	enum odj_kdc_answer answer;
	char *detail;
};

static void kdc_check_cleanup(struct tevent_req *req,
			      enum tevent_req_state req_state)
{
	struct kdc_check_state *state = tevent_req_data(
		req, struct kdc_check_state);
	krb5_context ctx = state->kdc->ctx;

	if (state->icc != NULL) {
		krb5_init_creds_free(ctx, state->icc);
		state->icc = NULL;
	}
	if (state->opt != NULL) {
		krb5_get_init_creds_opt_free(ctx, state->opt);
		state->opt = NULL;
	}
	if (state->client != NULL) {
		krb5_free_principal(ctx, state->client);
		state->client = NULL;
	}
}

static void kdc_check_step(struct tevent_req *req, DATA_BLOB *reply);
static void kdc_check_replied(struct tevent_req *subreq);

/* What the KDC (or the library) said, in words and as an answer */
static void kdc_check_answer(struct tevent_req *req, krb5_error_code code)
{
	struct kdc_check_state *state = tevent_req_data(
		req, struct kdc_check_state);
	const char *msg = krb5_get_error_message(state->kdc->ctx, code);

	state->detail = talloc_strdup(state, msg != NULL ? msg : "?");
	krb5_free_error_message(state->kdc->ctx, msg);
	switch (code) {
	case 0:
		state->answer = ODJ_KDC_ACCEPTED;
		TALLOC_FREE(state->detail);
		state->detail = talloc_strdup(state, "a ticket was issued: the "
					      "KDC recorded a logon");
		break;
	case KRB5KDC_ERR_PREAUTH_FAILED:
	case KRB5KRB_AP_ERR_BAD_INTEGRITY:
		state->answer = ODJ_KDC_WRONG_PASSWORD;
		break;
	case KRB5KDC_ERR_C_PRINCIPAL_UNKNOWN:
		state->answer = ODJ_KDC_NO_PRINCIPAL;
		break;
	case KRB5KDC_ERR_CLIENT_REVOKED:
	case KRB5KDC_ERR_KEY_EXP:
	case KRB5KDC_ERR_POLICY:
		state->answer = ODJ_KDC_REVOKED;
		break;
	case KRB5KDC_ERR_SVC_UNAVAILABLE:
		state->answer = ODJ_KDC_UNAVAILABLE;
		break;
	default:
		state->answer = ODJ_KDC_OTHER;
		break;
	}
	tevent_req_done(req);
}

struct tevent_req *odj_kdc_check_send(TALLOC_CTX *mem_ctx,
				      struct tevent_context *ev,
				      struct odj_kdc *kdc,
				      const char *account,
				      const char *password)
{
	struct tevent_req *req = NULL;
	struct kdc_check_state *state = NULL;
	krb5_context ctx = kdc->ctx;
	krb5_error_code ret;

	req = tevent_req_create(mem_ctx, &state, struct kdc_check_state);
	if (req == NULL) {
		return NULL;
	}
	state->ev = ev;
	state->kdc = kdc;
	tevent_req_set_cleanup_fn(req, kdc_check_cleanup);
	ret = krb5_build_principal(ctx, &state->client, strlen(kdc->realm),
				   kdc->realm, account, NULL);
	if (ret == 0) {
		ret = krb5_get_init_creds_opt_alloc(ctx, &state->opt);
	}
	if (ret == 0) {
		/* a ticket nobody uses: short, not forwardable */
		krb5_get_init_creds_opt_set_tkt_life(state->opt, 300);
		krb5_get_init_creds_opt_set_forwardable(state->opt, 0);
		krb5_get_init_creds_opt_set_proxiable(state->opt, 0);
		ret = krb5_init_creds_init(ctx, state->client, NULL, NULL, 0,
					   state->opt, &state->icc);
	}
	if (ret == 0) {
		ret = krb5_init_creds_set_password(ctx, state->icc, password);
	}
	if (ret != 0) {
		state->answer = ODJ_KDC_OTHER;
		kdc_check_answer(req, ret);
		return tevent_req_post(req, ev);
	}
	kdc_check_step(req, NULL);
	if (!tevent_req_is_in_progress(req)) {
		return tevent_req_post(req, ev);
	}
	return req;
}

/*
 * Feed the KDC's @p reply (NULL: none yet) to the library, freeing it;
 * send what the library wants sent, or end with its answer.
 */
static void kdc_check_step(struct tevent_req *req, DATA_BLOB *reply)
{
	struct kdc_check_state *state = tevent_req_data(
		req, struct kdc_check_state);
	krb5_context ctx = state->kdc->ctx;
	krb5_data in = { .length = 0 };
	krb5_data out = { .length = 0 }, realm = { .length = 0 };
	struct tevent_req *subreq = NULL;
	unsigned int flags = 0;
	krb5_error_code ret;

	if (reply != NULL) {
		in.length = reply->length;
		in.data = (char *)reply->data;
	}
	ret = krb5_init_creds_step(ctx, state->icc, &in, &out, &realm,
				   &flags);
	if (reply != NULL) {
		TALLOC_FREE(reply->data);
	}
	krb5_free_data_contents(ctx, &realm);
	if (ret != 0 || !(flags & KRB5_INIT_CREDS_STEP_FLAG_CONTINUE)) {
		krb5_free_data_contents(ctx, &out);
		kdc_check_answer(req, ret);
		return;
	}
	if (++state->rounds > KDC_MAX_ROUNDS) {
		krb5_free_data_contents(ctx, &out);
		kdc_check_answer(req, KRB5_KDC_UNREACH);
		return;
	}
	subreq = kdc_tcp_send(state, state->ev, state->kdc, &out);
	krb5_free_data_contents(ctx, &out);
	if (tevent_req_nomem(subreq, req)) {
		return;
	}
	tevent_req_set_callback(subreq, kdc_check_replied, req);
}

/* A KRB-ERROR ([APPLICATION 30]) reply, decoded; NULL for anything else */
static krb5_error *kdc_error_reply(struct kdc_check_state *state,
				   DATA_BLOB reply)
{
	krb5_data d = { .length = reply.length, .data = (char *)reply.data };
	krb5_error *err = NULL;

	if (reply.length == 0 || reply.data[0] != 0x7e ||
	    krb5_rd_error(state->kdc->ctx, &d, &err) != 0) {
		return NULL;
	}
	return err;
}

/*
 * The reply as the library is to see it: PREAUTH_REQUIRED with the KDC's
 * time moved KDC_PROBE_SKEW ahead (see the top of this file); true when
 * it is KRB_AP_ERR_SKEW after our pre-authentication: the password is
 * right.  The first request carries no encrypted timestamp.
 */
static bool kdc_probe_reply(struct kdc_check_state *state, DATA_BLOB *reply)
{
	krb5_context ctx = state->kdc->ctx;
	krb5_error *err = kdc_error_reply(state, *reply);
	krb5_data shifted = { .length = 0 };
	bool skew = false;

	if (err == NULL) {
		return false;
	}
	if (err->error == KRB_PROTO_PREAUTH_REQUIRED) {
		err->stime += KDC_PROBE_SKEW;
		if (krb5_mk_error(ctx, err, &shifted) == 0) {
			TALLOC_FREE(reply->data);
			reply->data = talloc_memdup(state, shifted.data,
						    shifted.length);
			reply->length = reply->data != NULL ?
					shifted.length : 0;
			krb5_free_data_contents(ctx, &shifted);
		}
	}
	skew = state->rounds >= 2 && err->error == KRB_PROTO_AP_ERR_SKEW;
	krb5_free_error(ctx, err);
	return skew;
}

static void kdc_check_replied(struct tevent_req *subreq)
{
	struct tevent_req *req = tevent_req_callback_data(
		subreq, struct tevent_req);
	struct kdc_check_state *state = tevent_req_data(
		req, struct kdc_check_state);
	DATA_BLOB reply = data_blob_null;
	NTSTATUS status;

	status = kdc_tcp_recv(subreq, state, &reply);
	TALLOC_FREE(subreq);
	if (!NT_STATUS_IS_OK(status)) {
		state->answer = ODJ_KDC_UNAVAILABLE;
		state->detail = talloc_asprintf(
			state, "no answer from the KDC at %s port %s: %s",
			state->kdc->address, state->kdc->port,
			get_friendly_nt_error_msg(status));
		tevent_req_done(req);
		return;
	}
	if (kdc_probe_reply(state, &reply)) {
		TALLOC_FREE(reply.data);
		state->answer = ODJ_KDC_ACCEPTED;
		state->detail = talloc_strdup(state, "key proven by the "
					      "pre-authentication, no logon");
		tevent_req_done(req);
		return;
	}
	kdc_check_step(req, &reply);
}

NTSTATUS odj_kdc_check_recv(struct tevent_req *req, TALLOC_CTX *mem_ctx,
			    enum odj_kdc_answer *answer, char **detail)
{
	struct kdc_check_state *state = tevent_req_data(
		req, struct kdc_check_state);
	NTSTATUS status;

	if (tevent_req_is_nterror(req, &status)) {
		tevent_req_received(req);
		return status;
	}
	*answer = state->answer;
	*detail = talloc_move(mem_ctx, &state->detail);
	tevent_req_received(req);
	return NT_STATUS_OK;
}
