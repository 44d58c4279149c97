/*
 * The join a blob describes: the WIN7 blob or JOIN_PROVIDER part, with
 * JOIN_PROVIDER2/3/4 where present, checked for consistency, and the
 * CERT and POLICY parts copied out for the client to apply.  djoin
 * processes every part and fails the join if an ESSENTIAL one fails; a
 * part that cannot be processed here is such a failure.
 */

#include "codec/codec.h"

#include <inttypes.h>
#include <stdio.h>
#include <strings.h>
#include <charset.h>

static const char *strip_unc(const char *s)
{
	while (s != NULL && *s == '\\') {
		s++;
	}
	return (s != NULL && *s != '\0') ? s : NULL;
}

static bool empty(const char *s)
{
	return s == NULL || s[0] == '\0';
}

static bool add_note(TALLOC_CTX *mem_ctx, const char ***notes,
		     const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static bool add_note(TALLOC_CTX *mem_ctx, const char ***notes,
		     const char *fmt, ...)
{
	size_t n = 0;
	va_list ap;
	char *note = NULL;

	while (*notes != NULL && (*notes)[n] != NULL) {
		n++;
	}
	*notes = talloc_realloc(mem_ctx, *notes, const char *, n + 2);
	if (*notes == NULL) {
		return false;
	}
	va_start(ap, fmt);
	note = talloc_vasprintf(*notes, fmt, ap);
	va_end(ap);
	(*notes)[n] = note;
	(*notes)[n + 1] = NULL;
	return note != NULL;
}

static const char *part_name(TALLOC_CTX *mem_ctx, const struct odj_part *p)
{
	struct GUID_txt_buf buf;

	if (p->kind != ODJ_PART_UNKNOWN) {
		return odj_part_kind_name(p->kind);
	}
	return talloc_asprintf(mem_ctx, "unknown type %s",
			       GUID_buf_string(&p->type, &buf));
}

/*
 * djoin processes every part and fails the join if an ESSENTIAL one
 * fails; a part we cannot process is such a failure.
 */
static NTSTATUS check_parts(TALLOC_CTX *mem_ctx,
			    const struct odj_provision_data *pd,
			    const char ***notes,
			    char **why)
{
	uint32_t b, i;

	for (b = 0; b < pd->num_blobs; b++) {
		const struct odj_blob *blob = &pd->blobs[b];
		const struct odj_package *pkg = blob->package;

		if (blob->format == ODJ_WIN7_FORMAT) {
			continue;
		}
		if (blob->format != ODJ_WIN8_FORMAT || pkg == NULL) {
			if (!add_note(mem_ctx, notes, "ignored blob %" PRIu32
				      " of unknown format %" PRIu32, b + 1,
				      blob->format)) {
				return NT_STATUS_NO_MEMORY;
			}
			continue;
		}
		if (!GUID_all_zero(&pkg->encryption_type)) {
			odj_why(mem_ctx, why, "blob %" PRIu32 ": the package "
				"is encrypted, its parts (essential or not) "
				"cannot be read", b + 1);
			return NT_STATUS_INVALID_PARAMETER;
		}
		for (i = 0; i < pkg->num_parts; i++) {
			const struct odj_part *p = &pkg->parts[i];
			bool essential = p->flags &
				OPSPI_PACKAGE_PART_ESSENTIAL;

			switch (p->kind) {
			case ODJ_PART_JOIN_PROVIDER:
			case ODJ_PART_JOIN_PROVIDER2:
			case ODJ_PART_JOIN_PROVIDER3:
			case ODJ_PART_JOIN_PROVIDER4:
			case ODJ_PART_CERT:	/* odj_request() applies */
			case ODJ_PART_POLICY:
				continue;
			default:
				break;
			}
			if (essential) {
				odj_why(mem_ctx, why, "blob %" PRIu32 " part %"
					PRIu32 " (%s) is ESSENTIAL and cannot "
					"be processed here", b + 1, i + 1,
					part_name(mem_ctx, p));
				return NT_STATUS_INVALID_PARAMETER;
			}
			if (!add_note(mem_ctx, notes, "ignored blob %" PRIu32
				      " part %" PRIu32 " (%s), not essential",
				      b + 1, i + 1, part_name(mem_ctx, p))) {
				return NT_STATUS_NO_MEMORY;
			}
		}
	}
	return NT_STATUS_OK;
}

/* Copies of the CERT and POLICY parts, for odj_request() */
static NTSTATUS copy_extensions(struct odj_join *j,
				const struct odj_provision_data *pd,
				char **why)
{
	uint32_t b, i;

	for (b = 0; b < pd->num_blobs; b++) {
		const struct odj_package *pkg = pd->blobs[b].package;

		for (i = 0; pkg != NULL && i < pkg->num_parts; i++) {
			const struct odj_part *p = &pkg->parts[i];
			struct odj_join_extension *e = NULL;
			void *copy = NULL;
			NTSTATUS status;

			if (p->kind != ODJ_PART_CERT &&
			    p->kind != ODJ_PART_POLICY) {
				continue;
			}
			j->extensions = talloc_realloc(
				j, j->extensions, struct odj_join_extension,
				j->num_extensions + 1);
			if (j->extensions == NULL) {
				return NT_STATUS_NO_MEMORY;
			}
			status = odj_part_copy(j->extensions, p, &copy, why);
			if (!NT_STATUS_IS_OK(status)) {
				return status;
			}
			e = &j->extensions[j->num_extensions++];
			*e = (struct odj_join_extension) {
				.kind = p->kind,
				.essential = p->flags &
					OPSPI_PACKAGE_PART_ESSENTIAL,
				.where = talloc_asprintf(
					j->extensions, "blob %" PRIu32
					" part %" PRIu32 " (%s)", b + 1,
					i + 1, odj_part_kind_name(p->kind)),
			};
			if (p->kind == ODJ_PART_CERT) {
				e->cert = copy;
			} else {
				e->policy = copy;
			}
			if (e->where == NULL) {
				return NT_STATUS_NO_MEMORY;
			}
		}
	}
	return NT_STATUS_OK;
}

static bool same_str(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		return a == b;
	}
	return strcmp(a, b) == 0;
}

/* A WIN7 blob and a JOIN_PROVIDER part must describe the same join */
static NTSTATUS check_join_copies(TALLOC_CTX *mem_ctx,
				  const struct odj_provision_data *pd,
				  const struct ODJ_WIN7BLOB *w,
				  char **why)
{
	uint32_t b, i;

	for (b = 0; b < pd->num_blobs; b++) {
		const struct odj_package *pkg = pd->blobs[b].package;
		const struct ODJ_WIN7BLOB *o = pd->blobs[b].win7;

		for (i = 0; o == NULL && pkg != NULL && i < pkg->num_parts;
		     i++) {
			if (pkg->parts[i].kind == ODJ_PART_JOIN_PROVIDER) {
				o = pkg->parts[i].u.win7;
			}
		}
		if (o == NULL || o == w) {
			continue;
		}
		if (!same_str(o->lpMachineName, w->lpMachineName) ||
		    !same_str(o->lpMachinePassword, w->lpMachinePassword) ||
		    !same_str(o->DnsDomainInfo.Name.Buffer,
			      w->DnsDomainInfo.Name.Buffer)) {
			odj_why(mem_ctx, why, "blob %" PRIu32 " holds join "
				"data for another machine, domain or "
				"password than blob 1", b + 1);
			return NT_STATUS_INVALID_PARAMETER;
		}
	}
	return NT_STATUS_OK;
}

/* JOIN_PROVIDER3/4: "S-<domain>-<rid>" with the RID they give */
static NTSTATUS check_account_sid(TALLOC_CTX *mem_ctx,
				  struct odj_join *j,
				  const char *part,
				  uint32_t rid,
				  const char *sid_str,
				  char **why)
{
	struct ODJ_SID *sid = talloc_zero(mem_ctx, struct ODJ_SID);
	struct ODJ_SID dom;

	if (sid == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (!odj_sid_parse(sid_str, sid, sid) ||
	    sid->SubAuthorityCount < 1) {
		odj_why(mem_ctx, why, "%s: bad account SID '%s'", part,
			sid_str != NULL ? sid_str : "(none)");
		return NT_STATUS_INVALID_PARAMETER;
	}
	dom = *sid;
	dom.SubAuthorityCount--;
	if (!odj_sid_equal(&dom, j->domain_sid) ||
	    sid->SubAuthority[dom.SubAuthorityCount] != rid) {
		odj_why(mem_ctx, why, "%s: account SID %s is not RID %" PRIu32
			" of the domain %s", part, sid_str, rid,
			odj_sid_string(mem_ctx, j->domain_sid));
		return NT_STATUS_INVALID_PARAMETER;
	}
	if (j->machine_sid != NULL && !odj_sid_equal(j->machine_sid, sid)) {
		odj_why(mem_ctx, why, "%s: account SID %s differs from "
			"JOIN_PROVIDER3's %s", part, sid_str,
			odj_sid_string(mem_ctx, j->machine_sid));
		return NT_STATUS_INVALID_PARAMETER;
	}
	j->machine_sid = sid;
	j->rid = rid;
	return NT_STATUS_OK;
}

static NTSTATUS use_provider_parts(TALLOC_CTX *mem_ctx,
				   const struct odj_provision_data *pd,
				   struct odj_join *j,
				   char **why)
{
	const struct odj_part *p2 = NULL, *p3 = NULL, *p4 = NULL;
	NTSTATUS status;

	p2 = odj_provision_data_part(pd, ODJ_PART_JOIN_PROVIDER2);
	p3 = odj_provision_data_part(pd, ODJ_PART_JOIN_PROVIDER3);
	p4 = odj_provision_data_part(pd, ODJ_PART_JOIN_PROVIDER4);

	if (p2 != NULL) {
		const struct OP_JOINPROV2_PART *jp2 = p2->u.jp2;

		if (!empty(jp2->lpNetbiosName)) {
			j->netbios_name = jp2->lpNetbiosName;
		}
		if (!empty(jp2->lpSiteName)) {
			j->site = jp2->lpSiteName;
			j->site_given = true;
			j->site_persistent = jp2->dwFlags &
				OP_JP2_FLAG_PERSISTENTSITE;
		}
		if (!empty(jp2->lpPrimaryDNSDomain)) {
			j->dns_host_name = jp2->lpPrimaryDNSDomain;
		}
	}
	/*
	 * RID 0: a composed blob (Samba's composeodj, ours without rid=)
	 * that does not know the account's RID; its SID, if any, is the
	 * domain's with -0.  Nothing to check, nothing to take.
	 */
	if (p3 != NULL && p3->u.jp3->Rid != 0) {
		status = check_account_sid(mem_ctx, j, "JOIN_PROVIDER3",
					   p3->u.jp3->Rid, p3->u.jp3->lpSid,
					   why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}
	if (p4 != NULL) {
		status = check_account_sid(mem_ctx, j, "JOIN_PROVIDER4",
					   p4->u.jp4->Rid, p4->u.jp4->lpSid,
					   why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
		j->object_guid = p4->u.jp4->ObjectGuid;
		j->have_object_guid = true;
	}
	return NT_STATUS_OK;
}

/* What Samba accepts as a NetBIOS machine name */
static bool netbios_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 15) {
		return false;
	}
	return strpbrk(name, "\\/:*?\"<>|.@ \t") == NULL;
}

static NTSTATUS fill_join(TALLOC_CTX *mem_ctx,
			  const struct ODJ_WIN7BLOB *w,
			  struct odj_join *j,
			  char **why)
{
	const struct ODJ_POLICY_DNS_DOMAIN_INFO *d = &w->DnsDomainInfo;

	if (empty(w->lpMachineName) || empty(w->lpMachinePassword) ||
	    empty(d->Name.Buffer) || empty(d->DnsDomainName.Buffer) ||
	    d->Sid == NULL || d->Sid->SubAuthorityCount == 0) {
		odj_why(mem_ctx, why, "the join data lacks the %s",
			empty(w->lpMachineName) ? "machine name" :
			empty(w->lpMachinePassword) ? "machine password" :
			empty(d->Name.Buffer) ? "NetBIOS domain name" :
			empty(d->DnsDomainName.Buffer) ? "DNS domain name" :
			"domain SID");
		return NT_STATUS_INVALID_PARAMETER;
	}
	j->netbios_domain = d->Name.Buffer;
	j->dns_domain = d->DnsDomainName.Buffer;
	j->forest = d->DnsForestName.Buffer;
	j->domain_guid = d->DomainGuid;
	j->domain_sid = d->Sid;
	j->machine_name = w->lpMachineName;
	j->netbios_name = w->lpMachineName;
	j->machine_password = w->lpMachinePassword;
	j->dc_name = strip_unc(w->DcInfo.DomainControllerName);
	j->dc_address = strip_unc(w->DcInfo.DomainControllerAddress);
	j->site = w->DcInfo.ClientSiteName;
	j->options = w->Options;
	return NT_STATUS_OK;
}

static NTSTATUS finish_join(TALLOC_CTX *mem_ctx, struct odj_join *j,
			    char **why)
{
	const char *suffix = j->dns_host_name != NULL ? j->dns_host_name
						       : j->dns_domain;

	if (!netbios_name_ok(j->netbios_name)) {
		odj_why(mem_ctx, why, "'%s' is no NetBIOS name (1 to 15 "
			"characters); a longer machine name needs a "
			"JOIN_PROVIDER2 NetBIOS name", j->netbios_name);
		return NT_STATUS_INVALID_COMPUTER_NAME;
	}
	j->netbios_name = talloc_strdup(j, j->netbios_name);
	j->account_name = talloc_asprintf(j, "%s$", j->netbios_name);
	j->dns_host_name = talloc_asprintf(j, "%s.%s", j->machine_name,
					   suffix);
	if (j->dns_host_name != NULL) {
		j->dns_host_name = strlower_talloc(j, j->dns_host_name);
	}
	j->machine_password = odj_secret_strdup(j, j->machine_password);
	if (j->netbios_name == NULL || j->account_name == NULL ||
	    j->dns_host_name == NULL || j->machine_password == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

NTSTATUS odj_join_from_provision_data(TALLOC_CTX *mem_ctx,
				      const struct odj_provision_data *pd,
				      struct odj_join **_join,
				      char **why)
{
	const struct ODJ_WIN7BLOB *w = odj_provision_data_win7(pd);
	struct odj_join *j = NULL;
	NTSTATUS status;

	if (w == NULL) {
		odj_why(mem_ctx, why, "the blob holds no join data (neither "
			"a WIN7 blob nor a JOIN_PROVIDER part)");
		return NT_STATUS_INVALID_PARAMETER;
	}
	j = talloc_zero(mem_ctx, struct odj_join);
	if (j == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = check_parts(j, pd, &j->notes, why);
	if (NT_STATUS_IS_OK(status)) {
		status = check_join_copies(j, pd, w, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = fill_join(j, w, j, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = use_provider_parts(j, pd, j, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = finish_join(j, j, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = copy_extensions(j, pd, why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(j);
		return status;
	}
	/* the strings above point into @p pd: make the join self-contained */
	j->netbios_domain = talloc_strdup(j, j->netbios_domain);
	j->dns_domain = talloc_strdup(j, j->dns_domain);
	j->forest = talloc_strdup(j, j->forest);
	j->machine_name = talloc_strdup(j, j->machine_name);
	j->dc_name = talloc_strdup(j, j->dc_name);
	j->dc_address = talloc_strdup(j, j->dc_address);
	j->site = talloc_strdup(j, j->site);
	j->domain_sid = talloc_memdup(j, j->domain_sid, sizeof(*j->domain_sid));
	if (j->domain_sid != NULL) {
		j->domain_sid->SubAuthority = talloc_memdup(
			j, j->domain_sid->SubAuthority,
			4 * (size_t)j->domain_sid->SubAuthorityCount);
	}
	if (j->netbios_domain == NULL || j->dns_domain == NULL ||
	    j->machine_name == NULL || j->domain_sid == NULL ||
	    j->domain_sid->SubAuthority == NULL) {
		TALLOC_FREE(j);
		return NT_STATUS_NO_MEMORY;
	}
	*_join = j;
	return NT_STATUS_OK;
}
