/*
 * The domain controller: find it, connect to its LDAP service with the
 * admin's credentials (signed and sealed: "client ldap sasl wrapping"
 * defaults to seal), and learn what a provisioning blob says about the
 * domain and the DC.
 *
 * DOMAIN_CONTROLLER_INFO comes from a netlogon ping answered over LDAP
 * (MS-ADTS 6.3.3: a rootDSE search for the "netlogon" attribute), the
 * same reply DsGetDcName builds it from on Windows.
 */

#include "dc/dc.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <ldb.h>
#include <tevent.h>
#include <credentials.h>
#include <param.h>
#include <gen_ndr/nbt.h>
#include <ndr/ndr_nbt.h>

/* MS-ADTS 6.3.1.4: NETLOGON_NT_VERSION_5 | NETLOGON_NT_VERSION_5EX */
#define NETLOGON_PING_NTVER "\\06\\00\\00\\00"

/* dsgetdc.h: the names in the reply are DNS names */
#define DS_DNS_FLAGS 0xe0000000

/* MS-ADTS 6.1.1.4: GUID_COMPUTERS_CONTAINER_W in wellKnownObjects */
#define WKGUID_COMPUTERS "AA312825768811D1ADED00C04FD8D5CD"

struct odj_dc {
	struct tevent_context *ev;
	struct ldb_context *ldb;
	int ldb_log_level;
	const char *krb5_ccache;
	struct odj_dc_info info;
};

const struct odj_dc_info *odj_dc_info(const struct odj_dc *dc)
{
	return &dc->info;
}

struct ldb_context *odj_dc_ldb(const struct odj_dc *dc)
{
	return dc->ldb;
}

struct tevent_context *odj_dc_ev(const struct odj_dc *dc)
{
	return dc->ev;
}

const char *odj_dc_krb5_ccache(const struct odj_dc *dc)
{
	return dc->krb5_ccache;
}

struct loadparm_context *odj_dc_lp_ctx(const struct odj_dc *dc)
{
	return ldb_get_opaque(dc->ldb, "loadparm");
}

static const char *msg_string(const struct ldb_message *msg,
			      const char *attr)
{
	return ldb_msg_find_attr_as_string(msg, attr, NULL);
}

/* The netlogon ping: DC flags, sites, domain and forest names, GUID. */
static NTSTATUS netlogon_ping(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			      const char *dns_domain,
			      struct NETLOGON_SAM_LOGON_RESPONSE_EX *reply,
			      char **why)
{
	const char * const attrs[] = { "netlogon", NULL };
	struct netlogon_samlogon_response r = { .ntver = 0 };
	struct ldb_message *msg = NULL;
	const struct ldb_val *val = NULL;
	struct ndr_pull *ndr = NULL;
	enum ndr_err_code err;
	char *filter = NULL;
	DATA_BLOB blob;
	NTSTATUS status;

	filter = talloc_asprintf(mem_ctx, "(&(DnsDomain=%s)(NtVer=%s))",
				 dns_domain, NETLOGON_PING_NTVER);
	if (filter == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_ldb_search_one(mem_ctx, dc->ev, dc->ldb,
				    ldb_dn_new(mem_ctx, dc->ldb, ""),
				    LDB_SCOPE_BASE, attrs, filter, &msg, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_prefix(mem_ctx, why, "netlogon ping");
		return status;
	}
	val = ldb_msg_find_ldb_val(msg, "netlogon");
	if (val == NULL) {
		odj_why(mem_ctx, why, "netlogon ping: %s does not serve "
			"domain %s", dc->info.dc_name, dns_domain);
		return NT_STATUS_NO_SUCH_DOMAIN;
	}
	blob = data_blob_const(val->data, val->length);
	ndr = ndr_pull_init_blob(&blob, mem_ctx);
	if (ndr == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	err = ndr_pull_netlogon_samlogon_response(ndr, NDR_SCALARS, &r);
	TALLOC_FREE(ndr);
	if (!NDR_ERR_CODE_IS_SUCCESS(err) ||
	    !(r.ntver & NETLOGON_NT_VERSION_5EX)) {
		odj_why(mem_ctx, why, "netlogon ping: cannot decode the "
			"reply of %s", dc->info.dc_name);
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	*reply = r.data.nt5_ex;
	return NT_STATUS_OK;
}

/* The DC's IPv4 address if it has one, else IPv6, as text. */
static const char *dc_address(TALLOC_CTX *mem_ctx, const char *name)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL, *ai = NULL, *pick = NULL;
	char buf[INET6_ADDRSTRLEN];
	const void *addr = NULL;

	if (getaddrinfo(name, NULL, &hints, &res) != 0) {
		return NULL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			pick = ai;
			break;
		}
		if (pick == NULL && ai->ai_family == AF_INET6) {
			pick = ai;
		}
	}
	if (pick == NULL) {
		freeaddrinfo(res);
		return NULL;
	}
	if (pick->ai_family == AF_INET) {
		addr = &((struct sockaddr_in *)pick->ai_addr)->sin_addr;
	} else {
		addr = &((struct sockaddr_in6 *)pick->ai_addr)->sin6_addr;
	}
	inet_ntop(pick->ai_family, addr, buf, sizeof(buf));
	freeaddrinfo(res);
	return talloc_strdup(mem_ctx, buf);
}

/* "B:32:<GUID>:<DN>" values of wellKnownObjects */
static const char *wellknown_dn(TALLOC_CTX *mem_ctx,
				const struct ldb_message *msg,
				const char *wkguid)
{
	struct ldb_message_element *el = NULL;
	unsigned int i;
	size_t glen = strlen(wkguid);

	el = ldb_msg_find_element(msg, "wellKnownObjects");
	for (i = 0; el != NULL && i < el->num_values; i++) {
		const char *v = (const char *)el->values[i].data;
		size_t len = el->values[i].length;

		if (len > 5 + glen + 1 && strncmp(v, "B:32:", 5) == 0 &&
		    strncasecmp(v + 5, wkguid, glen) == 0 &&
		    v[5 + glen] == ':') {
			return talloc_strndup(mem_ctx, v + 6 + glen,
					      len - 6 - glen);
		}
	}
	return NULL;
}

static NTSTATUS read_domain(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			    char **why)
{
	const char * const rootdse_attrs[] = {
		"defaultNamingContext", "configurationNamingContext",
		"dnsHostName", NULL
	};
	const char * const domain_attrs[] = {
		"objectSid", "objectGUID", "wellKnownObjects", NULL
	};
	struct odj_dc_info *info = &dc->info;
	struct ldb_message *msg = NULL;
	const struct ldb_val *sid = NULL;
	const char *host = NULL;
	NTSTATUS status;

	status = odj_ldb_search_one(mem_ctx, dc->ev, dc->ldb,
				    ldb_dn_new(mem_ctx, dc->ldb, ""),
				    LDB_SCOPE_BASE, rootdse_attrs,
				    "(objectClass=*)", &msg, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	info->domain_dn = talloc_strdup(dc, msg_string(
					       msg, "defaultNamingContext"));
	info->config_dn = talloc_strdup(dc, msg_string(
					       msg, "configurationNamingContext"));
	host = msg_string(msg, "dnsHostName");
	if (info->domain_dn == NULL || info->config_dn == NULL) {
		odj_why(mem_ctx, why, "%s: rootDSE lacks the naming contexts "
			"(not an Active Directory DC?)", info->dc_name);
		return NT_STATUS_NO_SUCH_DOMAIN;
	}
	if (host != NULL) {
		info->dc_name = talloc_strdup(dc, host);
	}

	status = odj_ldb_search_one(mem_ctx, dc->ev, dc->ldb,
				    ldb_dn_new(mem_ctx, dc->ldb,
					       info->domain_dn),
				    LDB_SCOPE_BASE, domain_attrs,
				    "(objectClass=*)", &msg, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	sid = ldb_msg_find_ldb_val(msg, "objectSid");
	info->domain_sid = talloc_zero(dc, struct ODJ_SID);
	if (info->domain_sid == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (sid == NULL || !odj_sid_from_blob(dc, sid->data, sid->length,
					     info->domain_sid)) {
		odj_why(mem_ctx, why, "%s: the domain object has no valid "
			"objectSid", info->domain_dn);
		return NT_STATUS_INVALID_SID;
	}
	info->computers_dn = wellknown_dn(dc, msg, WKGUID_COMPUTERS);
	if (info->computers_dn == NULL) {
		info->computers_dn = talloc_asprintf(dc, "CN=Computers,%s",
						     info->domain_dn);
	}
	return NT_STATUS_OK;
}

/* DC=odj,DC=test -> odj.test */
static char *dns_domain_of(TALLOC_CTX *mem_ctx, struct ldb_context *ldb,
			   const char *domain_dn)
{
	struct ldb_dn *dn = ldb_dn_new(mem_ctx, ldb, domain_dn);
	char *canonical = NULL;
	char *slash = NULL;

	canonical = ldb_dn_canonical_string(mem_ctx, dn);
	if (canonical == NULL) {
		return NULL;
	}
	slash = strchr(canonical, '/');
	if (slash != NULL) {
		*slash = '\0';
	}
	return canonical;
}

static NTSTATUS fill_from_ping(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			       const char *domain, char **why)
{
	struct odj_dc_info *info = &dc->info;
	struct NETLOGON_SAM_LOGON_RESPONSE_EX r;
	NTSTATUS status;

	status = netlogon_ping(mem_ctx, dc, domain, &r, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	info->dns_domain = talloc_strdup(dc, r.dns_domain);
	info->netbios_domain = talloc_strdup(dc, r.domain_name);
	info->forest = talloc_strdup(dc, r.forest);
	info->domain_guid = r.domain_uuid;
	info->dc_flags = r.server_type | DS_DNS_FLAGS;
	info->dc_site = talloc_strdup(dc, r.server_site);
	/* no subnet maps this client: it is in the DC's site, as far as the
	 * DC can tell (djoin writes the same) */
	info->client_site = talloc_strdup(dc, (r.client_site != NULL &&
					      r.client_site[0] != '\0') ?
					  r.client_site : r.server_site);
	if (r.pdc_dns_name != NULL && r.pdc_dns_name[0] != '\0') {
		info->dc_name = talloc_strdup(dc, r.pdc_dns_name);
	}
	if (info->dns_domain == NULL || info->netbios_domain == NULL ||
	    info->forest == NULL) {
		odj_why(mem_ctx, why, "netlogon ping: incomplete reply");
		return NT_STATUS_INVALID_NETWORK_RESPONSE;
	}
	return NT_STATUS_OK;
}

/*
 * ldb and its ldap backend report a failed connect or bind on stderr
 * themselves, before our one-line message says the same.  Their lines
 * are for -d 3 and up (warnings from 5, traces from 10), as Samba's
 * tools show them only when asked.
 */
static int ldb_log_level(TALLOC_CTX *mem_ctx, struct loadparm_context *lp_ctx)
{
	char *s = odj_lp_get(mem_ctx, lp_ctx, "log level");
	int level = s != NULL ? atoi(s) : 0;

	TALLOC_FREE(s);
	return level;
}

static void ldb_log(void *context, enum ldb_debug_level level,
		    const char *fmt, va_list ap)
{
	const struct odj_dc *dc = context;
	int from = level <= LDB_DEBUG_ERROR ? 3 :
		   level == LDB_DEBUG_WARNING ? 5 : 10;

	if (dc->ldb_log_level < from) {
		return;
	}
	fputs("ldb: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static NTSTATUS connect_one(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			    struct loadparm_context *lp_ctx,
			    struct cli_credentials *creds,
			    const char *dcname, char **why)
{
	char *url = NULL;
	int ret;

	dc->ldb = ldb_init(dc, dc->ev);
	if (dc->ldb == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	dc->ldb_log_level = ldb_log_level(mem_ctx, lp_ctx);
	ldb_set_debug(dc->ldb, ldb_log, dc);
	if (ldb_set_opaque(dc->ldb, "credentials", creds) != LDB_SUCCESS ||
	    ldb_set_opaque(dc->ldb, "loadparm", lp_ctx) != LDB_SUCCESS) {
		return NT_STATUS_NO_MEMORY;
	}
	url = talloc_asprintf(mem_ctx, "ldap://%s", dcname);
	if (url == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ret = ldb_connect(dc->ldb, url, 0, NULL);
	if (ret != LDB_SUCCESS) {
		const char *msg = ldb_errstring(dc->ldb);
		NTSTATUS status = odj_ldb_error_to_ntstatus(ret);

		/* ldb's ldap module reports bind failures as text */
		if (msg != NULL && (strstr(msg, "LOGON_FAILURE") != NULL ||
				    strstr(msg, "WRONG_PASSWORD") != NULL ||
				    strstr(msg, "NO_SUCH_USER") != NULL)) {
			status = NT_STATUS_LOGON_FAILURE;
		} else if (NT_STATUS_EQUAL(status, NT_STATUS_UNSUCCESSFUL)) {
			status = NT_STATUS_NO_LOGON_SERVERS;
		}
		odj_why(mem_ctx, why, "cannot connect to %s: %s", url,
			msg != NULL ? msg : ldb_strerror(ret));
		TALLOC_FREE(dc->ldb);
		return status;
	}
	dc->info.dc_name = talloc_strdup(dc, dcname);
	return NT_STATUS_OK;
}

/*
 * Connect to @p name and learn what it says about itself and its domain;
 * a DC of another domain is refused.
 */
static NTSTATUS learn_dc(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			 struct loadparm_context *lp_ctx,
			 struct cli_credentials *creds,
			 const char *domain, const char *name, char **why)
{
	const char *ping_domain = NULL;
	NTSTATUS status;

	status = connect_one(mem_ctx, dc, lp_ctx, creds, name, why);
	if (NT_STATUS_IS_OK(status)) {
		status = read_domain(mem_ctx, dc, why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* ping for the DC's own domain; then check it is the one asked */
	ping_domain = dns_domain_of(mem_ctx, dc->ldb, dc->info.domain_dn);
	if (ping_domain == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = fill_from_ping(mem_ctx, dc, ping_domain, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (strcasecmp(domain, dc->info.dns_domain) != 0 &&
	    strcasecmp(domain, dc->info.netbios_domain) != 0) {
		odj_why(mem_ctx, why, "%s serves domain %s (%s), not %s",
			dc->info.dc_name, dc->info.dns_domain,
			dc->info.netbios_domain, domain);
		return NT_STATUS_NO_SUCH_DOMAIN;
	}
	dc->info.dc_address = dc_address(dc, dc->info.dc_name);
	if (dc->info.dc_address == NULL) {
		odj_why(mem_ctx, why, "cannot resolve the address of %s",
			dc->info.dc_name);
		return NT_STATUS_HOST_UNREACHABLE;
	}
	return NT_STATUS_OK;
}

/* A DC that takes writes: the netlogon reply's WRITABLE and DS flags */
static bool dc_writable(const struct odj_dc *dc)
{
	uint32_t want = NBT_SERVER_WRITABLE | NBT_SERVER_DS;

	return (dc->info.dc_flags & want) == want;
}

static struct odj_dc *new_dc(TALLOC_CTX *mem_ctx, struct tevent_context *ev,
			     const struct odj_dc_spec *spec)
{
	struct odj_dc *dc = talloc_zero(mem_ctx, struct odj_dc);

	if (dc == NULL) {
		return NULL;
	}
	dc->ev = ev;
	if (spec->krb5_ccache != NULL) {
		dc->krb5_ccache = talloc_strdup(dc, spec->krb5_ccache);
		if (dc->krb5_ccache == NULL) {
			TALLOC_FREE(dc);
		}
	}
	return dc;
}

/* dcname=: that DC, and a read-only one refused before any write */
static NTSTATUS connect_named(TALLOC_CTX *mem_ctx, struct odj_dc *dc,
			      struct loadparm_context *lp_ctx,
			      struct cli_credentials *creds,
			      const struct odj_dc_spec *spec, char **why)
{
	NTSTATUS status;

	status = learn_dc(mem_ctx, dc, lp_ctx, creds, spec->domain,
			  spec->dcname, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (!spec->allow_read_only && !dc_writable(dc)) {
		odj_why(mem_ctx, why, "%s is a read-only domain controller "
			"(its netlogon reply has no DS_WRITABLE_FLAG): an "
			"account is created on a writable DC; name one with "
			"dcname=, or leave dcname= out", spec->dcname);
		return NT_STATUS_INVALID_SERVER_STATE;
	}
	dc->info.choice = talloc_asprintf(dc, "%s, named by dcname=",
					  dc->info.dc_name);
	return dc->info.choice != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/*
 * No dcname=: the DCs the locator finds, in its order, until one
 * connects and (unless read-only ones will do) is writable; the choice
 * and what was skipped, and why, in dc->info.choice.
 */
static NTSTATUS connect_located(TALLOC_CTX *mem_ctx, struct odj_dc **_dc,
				struct tevent_context *ev,
				struct loadparm_context *lp_ctx,
				struct cli_credentials *creds,
				const struct odj_dc_spec *spec, char **why)
{
	struct odj_dc_candidate *c = NULL;
	char *skipped = talloc_strdup(mem_ctx, "");
	NTSTATUS status;
	size_t n = 0, i;

	status = odj_locate_dcs(mem_ctx, spec->domain, spec->site, &c, &n,
				why);
	for (i = 0; NT_STATUS_IS_OK(status) && i < n; i++) {
		struct odj_dc *dc = new_dc(mem_ctx, ev, spec);
		char *reason = NULL;

		if (dc == NULL || skipped == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		status = learn_dc(mem_ctx, dc, lp_ctx, creds, spec->domain,
				  c[i].name, &reason);
		if (NT_STATUS_EQUAL(status, NT_STATUS_LOGON_FAILURE)) {
			/* the credentials: another DC would say the same */
			odj_why(mem_ctx, why, "%s", reason);
			return status;
		}
		if (NT_STATUS_IS_OK(status) && !spec->allow_read_only &&
		    !dc_writable(dc)) {
			reason = talloc_strdup(mem_ctx, "read-only (an RODC: "
					       "no DS_WRITABLE_FLAG)");
			status = NT_STATUS_INVALID_SERVER_STATE;
		}
		if (!NT_STATUS_IS_OK(status)) {
			skipped = talloc_asprintf_append_buffer(
				skipped, "; skipped %s: %s", c[i].name,
				reason != NULL ? reason : nt_errstr(status));
			TALLOC_FREE(dc);
			status = NT_STATUS_OK;
			continue;
		}
		dc->info.choice = talloc_asprintf(
			dc, "%s, from %s (priority %u, weight %u)%s",
			dc->info.dc_name, c[i].source, c[i].priority,
			c[i].weight, skipped);
		*_dc = dc;
		return dc->info.choice != NULL ? NT_STATUS_OK :
						 NT_STATUS_NO_MEMORY;
	}
	if (NT_STATUS_IS_OK(status)) {
		odj_why(mem_ctx, why, "no %sdomain controller of %s answered%s",
			spec->allow_read_only ? "" : "writable ",
			spec->domain, skipped != NULL ? skipped : "");
		status = NT_STATUS_NO_LOGON_SERVERS;
	}
	return status;
}

NTSTATUS odj_dc_connect(TALLOC_CTX *mem_ctx,
			struct tevent_context *ev,
			struct loadparm_context *lp_ctx,
			struct cli_credentials *creds,
			const struct odj_dc_spec *spec,
			struct odj_dc **_dc,
			char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	struct odj_dc *dc = NULL;
	NTSTATUS status;

	if (ev == NULL || lp_ctx == NULL || creds == NULL || spec == NULL ||
	    spec->domain == NULL || spec->domain[0] == '\0') {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (spec->dcname != NULL) {
		dc = new_dc(tmp_ctx, ev, spec);
		status = dc == NULL ? NT_STATUS_NO_MEMORY :
			connect_named(tmp_ctx, dc, lp_ctx, creds, spec, why);
	} else {
		status = connect_located(tmp_ctx, &dc, ev, lp_ctx, creds,
					 spec, why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	*_dc = talloc_steal(mem_ctx, dc);
	TALLOC_FREE(tmp_ctx);
	return NT_STATUS_OK;
}
