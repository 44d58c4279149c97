/*
 * The DC's raw rate: N computer accounts with passwords created by the
 * calls "odj provision batch=" makes (odj_dc_connect() once, then
 * odj_provision_send() with up to P requests in flight on that one LDAP
 * session), but no blob is encoded or written.  bench/batch.sh builds and
 * runs it; it is not part of odj.
 *
 *   rawrate -s SMBCONF -U USER%PASSWORD -d DOMAIN -S DC -n N -p P -x PREFIX
 *
 * Prints one line: "created N failed F seconds S rate R".
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <tevent.h>
#include <credentials.h>
#include <param.h>
#include "odj.h"

struct bench {
	struct tevent_context *ev;
	struct odj_dc *dc;
	struct odj_provision_request *reqs;
	unsigned int n, parallel, next, in_flight, done, failed;
};

static void launch(struct bench *b);

static void provisioned(struct tevent_req *req)
{
	struct bench *b = tevent_req_callback_data(req, struct bench);
	struct odj_provision_result *res = NULL;
	char *why = NULL;
	NTSTATUS status;

	status = odj_provision_recv(req, b, &res, &why);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "rawrate: %s\n", why != NULL ? why :
			nt_errstr(status));
		b->failed++;
	}
	/* no blob: the provisioning data is dropped unencoded */
	TALLOC_FREE(res);
	TALLOC_FREE(why);
	TALLOC_FREE(req);
	b->in_flight--;
	b->done++;
	launch(b);
}

static void launch(struct bench *b)
{
	while (b->in_flight < b->parallel && b->next < b->n) {
		struct tevent_req *req = odj_provision_send(
			b, b->ev, b->dc, &b->reqs[b->next++]);

		if (req == NULL) {
			fprintf(stderr, "rawrate: out of memory\n");
			exit(1);
		}
		tevent_req_set_callback(req, provisioned, b);
		b->in_flight++;
	}
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: rawrate -s SMBCONF -U USER%%PASSWORD "
		"-d DOMAIN -S DC -n N -p PARALLEL -x PREFIX\n");
	exit(2);
}

int main(int argc, char **argv)
{
	TALLOC_CTX *ctx = talloc_new(NULL);
	struct bench *b = talloc_zero(ctx, struct bench);
	struct loadparm_context *lp = NULL;
	struct cli_credentials *creds = NULL;
	const char *conf = NULL, *user = NULL, *domain = NULL, *dc = NULL;
	const char *prefix = NULL;
	char *why = NULL;
	double t0;
	unsigned int i;
	NTSTATUS status;
	int opt;

	b->parallel = ODJ_BATCH_DEFAULT_PARALLEL;
	while ((opt = getopt(argc, argv, "s:U:d:S:n:p:x:")) != -1) {
		switch (opt) {
		case 's':
			conf = optarg;
			break;
		case 'U':
			user = optarg;
			break;
		case 'd':
			domain = optarg;
			break;
		case 'S':
			dc = optarg;
			break;
		case 'n':
			b->n = atoi(optarg);
			break;
		case 'p':
			b->parallel = atoi(optarg);
			break;
		case 'x':
			prefix = optarg;
			break;
		default:
			usage();
		}
	}
	if (conf == NULL || user == NULL || domain == NULL || dc == NULL ||
	    prefix == NULL || b->n == 0 || b->parallel == 0) {
		usage();
	}
	lp = loadparm_init_global(false);
	if (lp == NULL || !lpcfg_load(lp, conf)) {
		fprintf(stderr, "rawrate: cannot load %s\n", conf);
		return 1;
	}
	creds = cli_credentials_init(ctx);
	cli_credentials_guess(creds, lp);
	cli_credentials_parse_string(creds, user, CRED_SPECIFIED);
	b->ev = tevent_context_init(ctx);
	b->reqs = talloc_zero_array(b, struct odj_provision_request, b->n);
	for (i = 0; i < b->n; i++) {
		b->reqs[i].machine_name = talloc_asprintf(b->reqs, "%s-%u",
							  prefix, i + 1);
	}
	status = odj_dc_connect(ctx, b->ev, lp, creds,
				&(struct odj_dc_spec) {
					.domain = domain, .dcname = dc,
				}, &b->dc, &why);
	if (!NT_STATUS_IS_OK(status)) {
		fprintf(stderr, "rawrate: %s\n", why != NULL ? why :
			nt_errstr(status));
		return 1;
	}
	t0 = now();
	launch(b);
	while (b->done < b->n) {
		if (tevent_loop_once(b->ev) != 0) {
			fprintf(stderr, "rawrate: event loop failed\n");
			return 1;
		}
	}
	t0 = now() - t0;
	printf("created %u failed %u seconds %.3f rate %.2f\n",
	       b->n - b->failed, b->failed, t0, (b->n - b->failed) / t0);
	i = b->failed;
	TALLOC_FREE(ctx);
	return i == 0 ? 0 : 1;
}
