/*
 * Finding the domain controllers of a domain, in the order a client
 * tries them, as Windows' DC locator and Samba's dsgetdcname() do
 * ([MS-ADTS] 6.3.6): the SRV records of the client's site first
 * (_ldap._tcp.SITE._sites.dc._msdcs.DOMAIN), then the domain's
 * (_ldap._tcp.dc._msdcs.DOMAIN); within each, by priority, and within a
 * priority by weight, at random (RFC 2782).  Which of them is writable
 * only the netlogon ping says (connect.c).
 *
 * libnetapi's DsGetDcName() does the same and more, but its resolver
 * reads /etc/resolv.conf directly: a test cannot point it at a
 * throwaway domain's DNS (resolv_wrapper does not reach it), so odj
 * keeps its own locator, on libresolv, which tests can redirect.
 */

#include "dc/dc.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <strings.h>
#include <gnutls/crypto.h>

/* RFC 2782: order records of one priority by weight, at random */
static void order_by_weight(struct odj_dc_candidate *c, size_t n,
			    uint32_t (*rnd)(void *), void *rnd_data)
{
	size_t done, i;

	/* zero weights first: they get the smallest chance */
	for (done = 0; done < n; done++) {
		uint64_t total = 0, pick, sum = 0;
		struct odj_dc_candidate t;

		for (i = done; i < n; i++) {
			if (c[i].weight == 0 && i != done) {
				t = c[i];
				memmove(&c[done + 1], &c[done],
					(i - done) * sizeof(c[0]));
				c[done] = t;
			}
		}
		for (i = done; i < n; i++) {
			total += c[i].weight;
		}
		pick = total == 0 ? 0 : rnd(rnd_data) % (total + 1);
		for (i = done; i < n; i++) {
			sum += c[i].weight;
			if (sum >= pick) {
				break;
			}
		}
		if (i == n) {
			i = n - 1;
		}
		t = c[i];
		memmove(&c[done + 1], &c[done], (i - done) * sizeof(c[0]));
		c[done] = t;
	}
}

static int by_priority(const void *a, const void *b)
{
	const struct odj_dc_candidate *x = a, *y = b;

	return (int)x->priority - (int)y->priority;
}

void odj_srv_order(struct odj_dc_candidate *c, size_t n,
		   uint32_t (*rnd)(void *), void *rnd_data)
{
	size_t start = 0, end;

	qsort(c, n, sizeof(c[0]), by_priority);
	while (start < n) {
		for (end = start + 1; end < n &&
		     c[end].priority == c[start].priority; end++) {
		}
		order_by_weight(c + start, end - start, rnd, rnd_data);
		start = end;
	}
}

static uint32_t key_rnd(void *private_data)
{
	uint32_t r = 0;

	if (gnutls_rnd(GNUTLS_RND_NONCE, &r, sizeof(r)) != 0) {
		r = 0;
	}
	return r;
}

/* The SRV records of @p qname, appended to @p c (duplicates left out) */
static NTSTATUS query_srv(TALLOC_CTX *mem_ctx, const char *qname,
			  const char *source, struct odj_dc_candidate **c,
			  size_t *n)
{
	struct __res_state rs;
	unsigned char answer[8192];
	struct odj_dc_candidate *found = NULL;
	size_t num = 0, first = *n, i, j;
	ns_msg msg;
	int len, k, count;

	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0) {
		return NT_STATUS_NO_LOGON_SERVERS;
	}
	len = res_nquery(&rs, qname, ns_c_in, ns_t_srv, answer,
			 sizeof(answer));
	res_nclose(&rs);
	if (len < 0 || ns_initparse(answer, len, &msg) != 0) {
		return NT_STATUS_OK;	/* no such records: none found */
	}
	count = ns_msg_count(msg, ns_s_an);
	found = talloc_zero_array(mem_ctx, struct odj_dc_candidate, count);
	if (found == NULL && count > 0) {
		return NT_STATUS_NO_MEMORY;
	}
	for (k = 0; k < count; k++) {
		char target[NS_MAXDNAME];
		const unsigned char *rd = NULL;
		ns_rr rr;

		if (ns_parserr(&msg, ns_s_an, k, &rr) != 0 ||
		    ns_rr_type(rr) != ns_t_srv || ns_rr_rdlen(rr) < 7) {
			continue;
		}
		rd = ns_rr_rdata(rr);
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 6,
			      target, sizeof(target)) < 0) {
			continue;
		}
		found[num++] = (struct odj_dc_candidate) {
			.name = talloc_strdup(found, target),
			.priority = ns_get16(rd),
			.weight = ns_get16(rd + 2),
			.source = source,
		};
	}
	odj_srv_order(found, num, key_rnd, NULL);
	*c = talloc_realloc(mem_ctx, *c, struct odj_dc_candidate, *n + num);
	if (*c == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; i < num; i++) {
		bool seen = false;

		for (j = 0; j < first; j++) {
			seen |= strcasecmp((*c)[j].name, found[i].name) == 0;
		}
		if (!seen && found[i].name != NULL) {
			(*c)[(*n)++] = found[i];
			talloc_steal(*c, found[i].name);
		}
	}
	TALLOC_FREE(found);
	return NT_STATUS_OK;
}

NTSTATUS odj_locate_dcs(TALLOC_CTX *mem_ctx,
			const char *domain,
			const char *site,
			struct odj_dc_candidate **_c,
			size_t *_n,
			char **why)
{
	struct odj_dc_candidate *c = NULL;
	char *qname = NULL, *source = NULL;
	NTSTATUS status = NT_STATUS_OK;
	size_t n = 0;

	if (site != NULL) {
		qname = talloc_asprintf(mem_ctx, "_ldap._tcp.%s._sites.dc."
					"_msdcs.%s", site, domain);
		source = talloc_asprintf(mem_ctx, "site %s's SRV record",
					 site);
		status = qname == NULL || source == NULL ?
			NT_STATUS_NO_MEMORY :
			query_srv(mem_ctx, qname, source, &c, &n);
	}
	qname = talloc_asprintf(mem_ctx, "_ldap._tcp.dc._msdcs.%s", domain);
	if (NT_STATUS_IS_OK(status)) {
		status = qname == NULL ? NT_STATUS_NO_MEMORY :
			query_srv(mem_ctx, qname, "the domain's SRV record",
				  &c, &n);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (n == 0) {
		odj_why(mem_ctx, why, "no domain controller for %s in DNS "
			"(no SRV record %s); give one with dcname=", domain,
			qname);
		return NT_STATUS_NO_LOGON_SERVERS;
	}
	*_c = c;
	*_n = n;
	return NT_STATUS_OK;
}
