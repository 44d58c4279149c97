/*
 * Composing provisioning data from known values, with no DC in sight:
 * the blob a provisioning run writes, and (given the secrets) what
 * "composeodj" writes.  The layout follows Windows Server 2019's djoin:
 * a WIN7 blob, then an OP_PACKAGE with the JOIN_PROVIDER part (flagged
 * ESSENTIAL) and JOIN_PROVIDER3; we add JOIN_PROVIDER4 when the account's
 * objectGUID is known and JOIN_PROVIDER2 when its options are given.
 */

#include "codec/codec.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <arpa/inet.h>
#include <charset.h>

/*
 * What a writable Windows Server 2008+ DC answers, short of the roles
 * (PDC, GC, time server) a composer cannot know: DS_LDAP_FLAG,
 * DS_DS_FLAG, DS_KDC_FLAG, DS_CLOSEST_FLAG, DS_WRITABLE_FLAG,
 * DS_FULL_SECRET_DOMAIN_6_FLAG and the three DNS flags.
 */
#define COMPOSE_DC_FLAGS 0xe00011b8
#define COMPOSE_SITE "Default-First-Site-Name"

NTSTATUS odj_machine_name_check(TALLOC_CTX *mem_ctx, const char *name,
				char **why)
{
	size_t len = name != NULL ? strlen(name) : 0;
	bool all_digits = true;
	size_t i;

	for (i = 0; i < len && len <= 15; i++) {
		unsigned char ch = name[i];

		if (ch < 0x20 || ch >= 0x7f ||
		    strchr(ODJ_MACHINE_NAME_FORBIDDEN, ch) != NULL) {
			break;
		}
		if (!isdigit(ch)) {
			all_digits = false;
		}
	}
	if (len == 0 || len > 15 || i < len || all_digits) {
		odj_why(mem_ctx, why, "'%s' is not a valid computer name (1 to "
			"15 characters, not all digits, none of "
			ODJ_MACHINE_NAME_FORBIDDEN_TEXT ")",
			name != NULL ? name : "");
		return NT_STATUS_INVALID_COMPUTER_NAME;
	}
	return NT_STATUS_OK;
}

/* What a DC reports: the DNS domain in lower case, NetBIOS upper */
static char *change_case(TALLOC_CTX *ctx, const char *s, bool upper)
{
	char *copy = talloc_strdup(ctx, s);
	char *p = NULL;

	for (p = copy; p != NULL && *p != '\0'; p++) {
		*p = upper ? toupper((unsigned char)*p) :
			tolower((unsigned char)*p);
	}
	return copy;
}

static NTSTATUS compose_check_values(TALLOC_CTX *mem_ctx,
				     const struct odj_compose_domain *d,
				     char **why)
{
	uint8_t buf[sizeof(struct in6_addr)];

	if (d->dns_domain == NULL || d->netbios_domain == NULL ||
	    d->domain_sid == NULL || d->domain_guid == NULL ||
	    d->dc_name == NULL || d->dc_address == NULL) {
		odj_why(mem_ctx, why, "needed: the DNS domain, the NetBIOS "
			"domain, the domain SID and GUID, the DC's name and "
			"address");
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (inet_pton(AF_INET, d->dc_address, buf) != 1 &&
	    inet_pton(AF_INET6, d->dc_address, buf) != 1) {
		odj_why(mem_ctx, why, "the DC address takes an IPv4 or IPv6 "
			"address, not '%s'", d->dc_address);
		return NT_STATUS_INVALID_PARAMETER;
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_compose_dc_info(TALLOC_CTX *mem_ctx,
			     const struct odj_compose_domain *d,
			     struct odj_dc_info **_info,
			     char **why)
{
	struct odj_dc_info *info = NULL;
	NTSTATUS status;

	status = compose_check_values(mem_ctx, d, why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	info = talloc_zero(mem_ctx, struct odj_dc_info);
	if (info == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	info->dc_name = talloc_strdup(info, d->dc_name);
	info->dc_address = talloc_strdup(info, d->dc_address);
	info->dns_domain = change_case(info, d->dns_domain, false);
	info->netbios_domain = change_case(info, d->netbios_domain, true);
	info->forest = change_case(info, d->forest != NULL ? d->forest :
				   d->dns_domain, false);
	info->dc_site = talloc_strdup(info, d->dc_site != NULL ? d->dc_site :
				      COMPOSE_SITE);
	info->client_site = talloc_strdup(info, d->client_site != NULL ?
					  d->client_site : info->dc_site);
	info->dc_flags = d->have_dc_flags ? d->dc_flags : COMPOSE_DC_FLAGS;
	info->domain_sid = talloc_zero(info, struct ODJ_SID);
	if (info->dc_name == NULL || info->dc_address == NULL ||
	    info->dns_domain == NULL || info->netbios_domain == NULL ||
	    info->forest == NULL || info->dc_site == NULL ||
	    info->client_site == NULL || info->domain_sid == NULL) {
		TALLOC_FREE(info);
		return NT_STATUS_NO_MEMORY;
	}
	if (!odj_sid_parse(d->domain_sid, info->domain_sid, info) ||
	    info->domain_sid->SubAuthorityCount == 0) {
		odj_why(mem_ctx, why, "the domain SID '%s' is not a SID",
			d->domain_sid);
		TALLOC_FREE(info);
		return NT_STATUS_INVALID_SID;
	}
	if (!NT_STATUS_IS_OK(GUID_from_string(d->domain_guid,
					      &info->domain_guid))) {
		odj_why(mem_ctx, why, "the domain GUID '%s' is not a GUID",
			d->domain_guid);
		TALLOC_FREE(info);
		return NT_STATUS_INVALID_PARAMETER;
	}
	*_info = info;
	return NT_STATUS_OK;
}

static bool set_unicode_string(TALLOC_CTX *mem_ctx,
			       struct ODJ_UNICODE_STRING *u,
			       const char *s)
{
	size_t units = 0;
	void *utf16 = NULL;

	if (s == NULL) {
		*u = (struct ODJ_UNICODE_STRING) { .Buffer = NULL };
		return true;
	}
	/* Length counts UTF-16 bytes, which differ from UTF-8 bytes */
	if (!convert_string_talloc(mem_ctx, CH_UTF8, CH_UTF16LE, s,
				   strlen(s), &utf16, &units)) {
		return false;
	}
	TALLOC_FREE(utf16);
	if (units > UINT16_MAX - 2) {
		return false;
	}
	/* Windows counts room for the NUL in MaximumLength (the page
	 * says it doesn't); we write what Windows writes */
	u->Length = units;
	u->MaximumLength = units + 2;
	u->Buffer = talloc_strdup(mem_ctx, s);
	return u->Buffer != NULL;
}

static char *unc(TALLOC_CTX *mem_ctx, const char *name)
{
	if (name == NULL) {
		return NULL;
	}
	if (name[0] == '\\' && name[1] == '\\') {
		return talloc_strdup(mem_ctx, name);
	}
	return talloc_asprintf(mem_ctx, "\\\\%s", name);
}

static struct ODJ_WIN7BLOB *compose_win7(TALLOC_CTX *mem_ctx,
					 const struct odj_compose *c)
{
	const struct odj_dc_info *dc = c->dc;
	struct ODJ_WIN7BLOB *w = talloc_zero(mem_ctx, struct ODJ_WIN7BLOB);
	struct ODJ_POLICY_DNS_DOMAIN_INFO *d = NULL;
	struct DOMAIN_CONTROLLER_INFO *i = NULL;
	bool ok = true;

	if (w == NULL) {
		return NULL;
	}
	w->lpDomain = talloc_strdup(w, dc->dns_domain);
	w->lpMachineName = talloc_strdup(w, c->machine_name);
	w->lpMachinePassword = odj_secret_strdup(w, c->machine_password);
	w->Options = c->options;

	d = &w->DnsDomainInfo;
	ok &= set_unicode_string(w, &d->Name, dc->netbios_domain);
	ok &= set_unicode_string(w, &d->DnsDomainName, dc->dns_domain);
	ok &= set_unicode_string(w, &d->DnsForestName, dc->forest);
	d->DomainGuid = dc->domain_guid;
	d->Sid = talloc_zero(w, struct ODJ_SID);
	if (d->Sid != NULL && dc->domain_sid != NULL) {
		*d->Sid = *dc->domain_sid;
		d->Sid->SubAuthority = talloc_memdup(
			d->Sid, dc->domain_sid->SubAuthority,
			dc->domain_sid->SubAuthorityCount * sizeof(uint32_t));
	}

	i = &w->DcInfo;
	i->DomainControllerName = unc(w, dc->dc_name);
	i->DomainControllerAddress = unc(w, dc->dc_address);
	i->DomainControllerAddressType = DS_INET_ADDRESS;
	i->DomainGuid = dc->domain_guid;
	i->DomainName = talloc_strdup(w, dc->dns_domain);
	i->DnsForestName = talloc_strdup(w, dc->forest);
	i->Flags = dc->dc_flags;
	i->DcSiteName = talloc_strdup(w, dc->dc_site);
	i->ClientSiteName = talloc_strdup(w, dc->client_site);

	if (!ok || w->lpDomain == NULL || w->lpMachineName == NULL ||
	    w->lpMachinePassword == NULL || d->Sid == NULL ||
	    i->DomainControllerName == NULL) {
		TALLOC_FREE(w);
	}
	return w;
}

static bool add_part(struct odj_package *pkg, enum odj_part_kind kind,
		     uint32_t flags, void *content)
{
	struct odj_part *parts = NULL;

	if (content == NULL) {
		return false;
	}
	parts = talloc_realloc(pkg, pkg->parts, struct odj_part,
			       pkg->num_parts + 1);
	if (parts == NULL) {
		return false;
	}
	pkg->parts = parts;
	parts[pkg->num_parts++] = (struct odj_part) {
		.type = odj_part_kind_guid(kind),
		.flags = flags,
		.kind = kind,
		.u.ptr = talloc_steal(parts, content),
	};
	return true;
}

/*
 * Extra parts go in as copies made by encoding and decoding them: the
 * caller keeps its parts, and the package owns a tree of its own.
 */
static bool add_extra_parts(struct odj_package *pkg,
			    const struct odj_compose *c)
{
	struct odj_package tmp = {
		.num_parts = c->num_extra_parts,
		.parts = discard_const_p(struct odj_part, c->extra_parts),
	};
	struct odj_provision_data in = { .version = 1, .num_blobs = 1 };
	struct odj_provision_data *out = NULL;
	struct odj_blob b = { .format = ODJ_WIN8_FORMAT, .package = &tmp };
	struct odj_part *parts = NULL;
	DATA_BLOB ndr = data_blob_null;
	NTSTATUS status;
	uint32_t i;

	if (c->num_extra_parts == 0) {
		return true;
	}
	in.blobs = &b;
	status = odj_provision_data_encode(pkg, &in, &ndr, NULL);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_provision_data_decode(pkg, ndr, &out, NULL);
	}
	TALLOC_FREE(ndr.data);
	if (!NT_STATUS_IS_OK(status)) {
		return false;
	}
	parts = talloc_realloc(pkg, pkg->parts, struct odj_part,
			       pkg->num_parts + c->num_extra_parts);
	if (parts == NULL) {
		TALLOC_FREE(out);
		return false;
	}
	pkg->parts = parts;
	for (i = 0; i < c->num_extra_parts; i++) {
		struct odj_part *p = &out->blobs[0].package->parts[i];

		parts[pkg->num_parts] = *p;
		talloc_steal(parts, p->u.ptr);
		talloc_steal(parts, p->raw.data);
		talloc_steal(parts, p->extension.data);
		pkg->num_parts++;
	}
	TALLOC_FREE(out);
	return true;
}

static char *machine_sid_string(TALLOC_CTX *mem_ctx,
				const struct odj_compose *c)
{
	char *dom = odj_sid_string(mem_ctx, c->dc->domain_sid);

	if (dom == NULL || c->rid == 0) {
		return NULL;
	}
	return talloc_asprintf(mem_ctx, "%s-%" PRIu32, dom, c->rid);
}

static bool want_jp2(const struct odj_compose *c)
{
	return c->jp2.netbios_name != NULL || c->jp2.site != NULL ||
	       c->jp2.primary_dns != NULL;
}

static bool compose_package(struct odj_package *pkg,
			    const struct odj_compose *c,
			    const struct ODJ_WIN7BLOB *win7)
{
	struct ODJ_WIN7BLOB *w = NULL;
	struct OP_JOINPROV3_PART *jp3 = NULL;
	char *sid = NULL;

	/* the part carries its own copy: parts are freed one by one */
	w = compose_win7(pkg, c);
	if (w == NULL || win7 == NULL ||
	    !add_part(pkg, ODJ_PART_JOIN_PROVIDER,
		      OPSPI_PACKAGE_PART_ESSENTIAL, w)) {
		return false;
	}
	if (want_jp2(c)) {
		struct OP_JOINPROV2_PART *jp2 = talloc_zero(
			pkg, struct OP_JOINPROV2_PART);

		if (jp2 == NULL) {
			return false;
		}
		jp2->dwFlags = c->jp2.site_persistent ?
			OP_JP2_FLAG_PERSISTENTSITE : 0;
		jp2->lpNetbiosName = talloc_strdup(jp2, c->jp2.netbios_name);
		jp2->lpSiteName = talloc_strdup(jp2, c->jp2.site);
		jp2->lpPrimaryDNSDomain = talloc_strdup(jp2,
							c->jp2.primary_dns);
		if (!add_part(pkg, ODJ_PART_JOIN_PROVIDER2, 0, jp2)) {
			return false;
		}
	}
	sid = machine_sid_string(pkg, c);
	jp3 = talloc_zero(pkg, struct OP_JOINPROV3_PART);
	if (jp3 == NULL) {
		return false;
	}
	jp3->Rid = c->rid;
	jp3->lpSid = sid;
	if (!add_part(pkg, ODJ_PART_JOIN_PROVIDER3, 0, jp3)) {
		return false;
	}
	if (c->object_guid != NULL) {
		struct OP_JOINPROV4_PART *jp4 = talloc_zero(
			pkg, struct OP_JOINPROV4_PART);

		if (jp4 == NULL) {
			return false;
		}
		jp4->Rid = c->rid;
		jp4->lpSid = talloc_strdup(jp4, sid);
		jp4->ObjectGuid = *c->object_guid;
		if (!add_part(pkg, ODJ_PART_JOIN_PROVIDER4, 0, jp4)) {
			return false;
		}
	}
	return add_extra_parts(pkg, c);
}

NTSTATUS odj_compose(TALLOC_CTX *mem_ctx,
		     const struct odj_compose *c,
		     struct odj_provision_data **_pd)
{
	struct odj_provision_data *pd = NULL;
	struct odj_package *pkg = NULL;

	if (c == NULL || c->dc == NULL || c->machine_name == NULL ||
	    c->machine_password == NULL || c->dc->dns_domain == NULL ||
	    c->dc->netbios_domain == NULL || c->dc->domain_sid == NULL ||
	    c->dc->dc_name == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	/* the names provisioning would refuse, a blob must not carry */
	if (!NT_STATUS_IS_OK(odj_machine_name_check(NULL, c->machine_name,
						    NULL))) {
		return NT_STATUS_INVALID_COMPUTER_NAME;
	}
	pd = talloc_zero(mem_ctx, struct odj_provision_data);
	if (pd == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	pd->version = 1;
	pd->num_blobs = 2;
	pd->blobs = talloc_zero_array(pd, struct odj_blob, 2);
	pkg = talloc_zero(pd, struct odj_package);
	if (pd->blobs == NULL || pkg == NULL) {
		TALLOC_FREE(pd);
		return NT_STATUS_NO_MEMORY;
	}
	pd->blobs[0].format = ODJ_WIN7_FORMAT;
	pd->blobs[0].win7 = compose_win7(pd->blobs, c);
	pd->blobs[1].format = ODJ_WIN8_FORMAT;
	pd->blobs[1].package = pkg;
	if (!compose_package(pkg, c, pd->blobs[0].win7)) {
		TALLOC_FREE(pd);
		return NT_STATUS_NO_MEMORY;
	}
	*_pd = pd;
	return NT_STATUS_OK;
}
