/*
 * samba-odj unit tests: the blob codec (odj_blob.c) and SID helpers.
 *
 * Vectors (testsuite/data/README.md):
 *  - windows-2019-provision.{ndr,odj}: Windows Server 2019
 *    "djoin /provision", the public vector of Samba's NDR torture test
 *    (source4/torture/ndr/ndr.c, libnet_join_offline).
 *  - samba-4.17-provision.odj: Samba 4.17.12 "net offlinejoin provision"
 *    against a throwaway DC.
 */

#include "odj_test.h"
#include <unistd.h>
#include <gen_ndr/misc.h>

/* Expected WIN7 blob contents; the password is only checked for presence */
struct win7_expect {
	const char *domain;
	const char *machine;
	const char *netbios;
	const char *dns_domain;
	const char *forest;
	const char *guid;
	const char *sid;
	const char *dc_name;
	const char *dc_address;
	uint32_t dc_flags;
	const char *site;
	uint32_t options;
};

/*
 * Windows: everything below matches the vectors README (DC gdw2k19dc at
 * 192.168.56.108, site Default-First-Site-Name); the SID, GUID, flags
 * and options are as read from the blob.
 */
static const struct win7_expect windows_win7 = {
	.domain = "w2k19dom.ber.redhat.com",
	.machine = "wurst2",
	.netbios = "W2K19DOM",
	.dns_domain = "w2k19dom.ber.redhat.com",
	.forest = "w2k19dom.ber.redhat.com",
	.guid = "c0761a96-e242-4ec2-9160-7a66a4ac4929",
	.sid = "S-1-5-21-306967272-1096148586-1957995587",
	.dc_name = "\\\\gdw2k19dc.w2k19dom.ber.redhat.com",
	.dc_address = "\\\\192.168.56.108",
	.dc_flags = 0xe003f3fd,
	.site = "Default-First-Site-Name",
	.options = 0x4,
};
#define WINDOWS_RID 1605

/* Samba: as listed in the vectors README; SID, flags, options as read */
static const struct win7_expect samba_win7 = {
	.domain = "odj.test",
	.machine = "odjclient",
	.netbios = "ODJ",
	.dns_domain = "odj.test",
	.forest = "odj.test",
	.guid = "45b40f78-0e7e-4532-8faf-bccfe910e529",
	.sid = "S-1-5-21-166344958-3601621092-18766746",
	.dc_name = "\\\\dc1.odj.test",
	.dc_address = "\\\\127.0.0.10",
	.dc_flags = 0xe00013fd,
	.site = "Default-First-Site-Name",
	.options = 0x6,
};
#define SAMBA_RID 1103

/*
 * Deep comparison
 */

static void assert_nstr_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_string_equal(a, b);
}

/* Bytes, and whether the pointer was NULL (that is on the wire too) */
static void assert_array_equal(const void *a, size_t alen,
			       const void *b, size_t blen)
{
	assert_int_equal(a == NULL, b == NULL);
	odj_test_bytes_equal(a, alen, b, blen);
}

#define assert_data_equal(a, b) \
	assert_array_equal((a).data, (a).length, (b).data, (b).length)
#define assert_op_blob_equal(a, b) \
	assert_array_equal((a).pBlob, (a).cbBlob, (b).pBlob, (b).cbBlob)

static void assert_guid_equal(const struct GUID *a, const struct GUID *b)
{
	struct GUID_txt_buf ba, bb;

	if (!GUID_equal(a, b)) {
		fail_msg("GUID %s != %s", GUID_buf_string(a, &ba),
			 GUID_buf_string(b, &bb));
	}
}

static void assert_sid_equal(const struct ODJ_SID *a, const struct ODJ_SID *b)
{
	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_int_equal(a->Revision, b->Revision);
	assert_memory_equal(a->IdentifierAuthority, b->IdentifierAuthority,
			    6);
	odj_test_bytes_equal((const uint8_t *)a->SubAuthority,
			     a->SubAuthorityCount * sizeof(uint32_t),
			     (const uint8_t *)b->SubAuthority,
			     b->SubAuthorityCount * sizeof(uint32_t));
}

static void assert_ustr_equal(const struct ODJ_UNICODE_STRING *a,
			      const struct ODJ_UNICODE_STRING *b)
{
	assert_int_equal(a->Length, b->Length);
	assert_int_equal(a->MaximumLength, b->MaximumLength);
	assert_nstr_equal(a->Buffer, b->Buffer);
}

static void assert_dcinfo_equal(const struct DOMAIN_CONTROLLER_INFO *a,
				const struct DOMAIN_CONTROLLER_INFO *b)
{
	assert_nstr_equal(a->DomainControllerName, b->DomainControllerName);
	assert_nstr_equal(a->DomainControllerAddress,
			  b->DomainControllerAddress);
	assert_int_equal(a->DomainControllerAddressType,
			 b->DomainControllerAddressType);
	assert_guid_equal(&a->DomainGuid, &b->DomainGuid);
	assert_nstr_equal(a->DomainName, b->DomainName);
	assert_nstr_equal(a->DnsForestName, b->DnsForestName);
	assert_int_equal(a->Flags, b->Flags);
	assert_nstr_equal(a->DcSiteName, b->DcSiteName);
	assert_nstr_equal(a->ClientSiteName, b->ClientSiteName);
}

static void assert_win7_equal(const struct ODJ_WIN7BLOB *a,
			      const struct ODJ_WIN7BLOB *b)
{
	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_nstr_equal(a->lpDomain, b->lpDomain);
	assert_nstr_equal(a->lpMachineName, b->lpMachineName);
	assert_nstr_equal(a->lpMachinePassword, b->lpMachinePassword);
	assert_ustr_equal(&a->DnsDomainInfo.Name, &b->DnsDomainInfo.Name);
	assert_ustr_equal(&a->DnsDomainInfo.DnsDomainName,
			  &b->DnsDomainInfo.DnsDomainName);
	assert_ustr_equal(&a->DnsDomainInfo.DnsForestName,
			  &b->DnsDomainInfo.DnsForestName);
	assert_guid_equal(&a->DnsDomainInfo.DomainGuid,
			  &b->DnsDomainInfo.DomainGuid);
	assert_sid_equal(a->DnsDomainInfo.Sid, b->DnsDomainInfo.Sid);
	assert_dcinfo_equal(&a->DcInfo, &b->DcInfo);
	assert_int_equal(a->Options, b->Options);
}

static void assert_jp2_equal(const struct OP_JOINPROV2_PART *a,
			     const struct OP_JOINPROV2_PART *b)
{
	assert_int_equal(a->dwFlags, b->dwFlags);
	assert_nstr_equal(a->lpNetbiosName, b->lpNetbiosName);
	assert_nstr_equal(a->lpSiteName, b->lpSiteName);
	assert_nstr_equal(a->lpPrimaryDNSDomain, b->lpPrimaryDNSDomain);
	assert_int_equal(a->dwReserved, b->dwReserved);
	assert_nstr_equal(a->lpReserved, b->lpReserved);
}

static void assert_jp3_equal(const struct OP_JOINPROV3_PART *a,
			     const struct OP_JOINPROV3_PART *b)
{
	assert_int_equal(a->Rid, b->Rid);
	assert_nstr_equal(a->lpSid, b->lpSid);
}

static void assert_jp4_equal(const struct OP_JOINPROV4_PART *a,
			     const struct OP_JOINPROV4_PART *b)
{
	assert_int_equal(a->Rid, b->Rid);
	assert_nstr_equal(a->lpSid, b->lpSid);
	assert_guid_equal(&a->ObjectGuid, &b->ObjectGuid);
}

static void assert_pfx_equal(const struct OP_CERT_PFX_STORE *a,
			     const struct OP_CERT_PFX_STORE *b)
{
	assert_nstr_equal(a->pTemplateName, b->pTemplateName);
	assert_int_equal(a->ulPrivateKeyExportPolicy,
			 b->ulPrivateKeyExportPolicy);
	assert_nstr_equal(a->pPolicyServerUrl, b->pPolicyServerUrl);
	assert_int_equal(a->ulPolicyServerUrlFlags, b->ulPolicyServerUrlFlags);
	assert_nstr_equal(a->pPolicyServerId, b->pPolicyServerId);
	assert_array_equal(a->pPfx, a->cbPfx, b->pPfx, b->cbPfx);
}

static void assert_sst_equal(const struct OP_CERT_SST_STORE *a,
			     const struct OP_CERT_SST_STORE *b)
{
	assert_int_equal(a->StoreLocation, b->StoreLocation);
	assert_nstr_equal(a->pStoreName, b->pStoreName);
	assert_array_equal(a->pSst, a->cbSst, b->pSst, b->cbSst);
}

static void assert_cert_equal(const struct OP_CERT_PART *a,
			      const struct OP_CERT_PART *b)
{
	uint32_t i;

	assert_int_equal(a->cPfxStores, b->cPfxStores);
	for (i = 0; i < a->cPfxStores; i++) {
		assert_pfx_equal(&a->pPfxStores[i], &b->pPfxStores[i]);
	}
	assert_int_equal(a->cSstStores, b->cSstStores);
	for (i = 0; i < a->cSstStores; i++) {
		assert_sst_equal(&a->pSstStores[i], &b->pSstStores[i]);
	}
	assert_op_blob_equal(a->Extension, b->Extension);
}

static void assert_element_equal(const struct OP_POLICY_ELEMENT *a,
				 const struct OP_POLICY_ELEMENT *b)
{
	assert_nstr_equal(a->pKeyPath, b->pKeyPath);
	assert_nstr_equal(a->pValueName, b->pValueName);
	assert_int_equal(a->ulValueType, b->ulValueType);
	assert_array_equal(a->pValueData, a->cbValueData,
			   b->pValueData, b->cbValueData);
}

static void assert_policy_equal(const struct OP_POLICY_PART *a,
				const struct OP_POLICY_PART *b)
{
	uint32_t i, j;

	assert_int_equal(a->cElementLists, b->cElementLists);
	for (i = 0; i < a->cElementLists; i++) {
		const struct OP_POLICY_ELEMENT_LIST *la = &a->pElementLists[i];
		const struct OP_POLICY_ELEMENT_LIST *lb = &b->pElementLists[i];

		assert_nstr_equal(la->pSource, lb->pSource);
		assert_int_equal(la->ulRootKeyId, lb->ulRootKeyId);
		assert_int_equal(la->cElements, lb->cElements);
		for (j = 0; j < la->cElements; j++) {
			assert_element_equal(&la->pElements[j],
					     &lb->pElements[j]);
		}
	}
	assert_op_blob_equal(a->Extension, b->Extension);
}

static void assert_part_equal(const struct odj_part *a,
			      const struct odj_part *b)
{
	assert_guid_equal(&a->type, &b->type);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->kind, b->kind);
	assert_data_equal(a->raw, b->raw);
	assert_data_equal(a->extension, b->extension);
	if (a->kind == ODJ_PART_UNKNOWN) {
		assert_null(a->u.ptr);
		assert_null(b->u.ptr);
		return;
	}
	assert_non_null(a->u.ptr);
	assert_non_null(b->u.ptr);
	switch (a->kind) {
	case ODJ_PART_JOIN_PROVIDER:
		assert_win7_equal(a->u.win7, b->u.win7);
		break;
	case ODJ_PART_JOIN_PROVIDER2:
		assert_jp2_equal(a->u.jp2, b->u.jp2);
		break;
	case ODJ_PART_JOIN_PROVIDER3:
		assert_jp3_equal(a->u.jp3, b->u.jp3);
		break;
	case ODJ_PART_JOIN_PROVIDER4:
		assert_jp4_equal(a->u.jp4, b->u.jp4);
		break;
	case ODJ_PART_CERT:
		assert_cert_equal(a->u.cert, b->u.cert);
		break;
	case ODJ_PART_POLICY:
		assert_policy_equal(a->u.policy, b->u.policy);
		break;
	case ODJ_PART_UNKNOWN:
		break;
	}
}

static void assert_package_equal(const struct odj_package *a,
				 const struct odj_package *b)
{
	uint32_t i;

	if (a == NULL || b == NULL) {
		assert_ptr_equal(a, b);
		return;
	}
	assert_guid_equal(&a->encryption_type, &b->encryption_type);
	assert_data_equal(a->encryption_context, b->encryption_context);
	assert_data_equal(a->wrapped, b->wrapped);
	assert_int_equal(a->decrypted_size, b->decrypted_size);
	assert_int_equal(a->num_parts, b->num_parts);
	for (i = 0; i < a->num_parts; i++) {
		assert_part_equal(&a->parts[i], &b->parts[i]);
	}
	assert_data_equal(a->collection_extension, b->collection_extension);
	assert_data_equal(a->extension, b->extension);
}

static void assert_pd_equal(const struct odj_provision_data *a,
			    const struct odj_provision_data *b)
{
	uint32_t i;

	assert_int_equal(a->version, b->version);
	assert_int_equal(a->num_blobs, b->num_blobs);
	for (i = 0; i < a->num_blobs; i++) {
		const struct odj_blob *ba = &a->blobs[i];
		const struct odj_blob *bb = &b->blobs[i];

		assert_int_equal(ba->format, bb->format);
		assert_win7_equal(ba->win7, bb->win7);
		assert_package_equal(ba->package, bb->package);
		assert_data_equal(ba->raw, bb->raw);
	}
}

/*
 * decode(encode(decode(ndr))) == decode(ndr), and encoding that again
 * gives the same bytes.  Returns the first encoding.
 */
static DATA_BLOB round_trip_pd(TALLOC_CTX *ctx,
			       const struct odj_provision_data *pd)
{
	struct odj_provision_data *pd2 = NULL;
	DATA_BLOB enc1, enc2;

	enc1 = odj_test_encode(ctx, pd);
	pd2 = odj_test_decode(ctx, enc1);
	assert_pd_equal(pd, pd2);
	enc2 = odj_test_encode(ctx, pd2);
	assert_blob_equal(enc1, enc2);
	TALLOC_FREE(enc2.data);
	TALLOC_FREE(pd2);
	return enc1;
}

static void round_trip_ndr(TALLOC_CTX *ctx, DATA_BLOB ndr)
{
	struct odj_provision_data *pd = odj_test_decode(ctx, ndr);
	DATA_BLOB enc = round_trip_pd(ctx, pd);

	TALLOC_FREE(enc.data);
	TALLOC_FREE(pd);
}

/*
 * The vectors
 */

static DATA_BLOB load_odj(TALLOC_CTX *ctx, const char *path)
{
	DATA_BLOB ndr = data_blob_null;
	char *why = NULL;

	assert_nt_ok(odj_file_load(ctx, path, &ndr, &why));
	assert_null(why);
	return ndr;
}

static void check_guid_string(TALLOC_CTX *ctx, const struct GUID *g,
			      const char *want)
{
	char *s = GUID_string(ctx, g);

	assert_string_equal(s, want);
	TALLOC_FREE(s);
}

static void check_ustr(const struct ODJ_UNICODE_STRING *u, const char *want)
{
	assert_string_equal(u->Buffer, want);
	/* bytes of UTF-16 without NUL; both vectors use ASCII names */
	assert_int_equal(u->Length, 2 * strlen(want));
	assert_true(u->MaximumLength >= u->Length);
}

static void check_win7(TALLOC_CTX *ctx, const struct ODJ_WIN7BLOB *w,
		       const struct win7_expect *x)
{
	const struct DOMAIN_CONTROLLER_INFO *dc = &w->DcInfo;
	char *sid = NULL;

	assert_non_null(w);
	assert_string_equal(w->lpDomain, x->domain);
	assert_string_equal(w->lpMachineName, x->machine);
	assert_non_null(w->lpMachinePassword);
	assert_true(strlen(w->lpMachinePassword) > 0);
	check_ustr(&w->DnsDomainInfo.Name, x->netbios);
	check_ustr(&w->DnsDomainInfo.DnsDomainName, x->dns_domain);
	check_ustr(&w->DnsDomainInfo.DnsForestName, x->forest);
	check_guid_string(ctx, &w->DnsDomainInfo.DomainGuid, x->guid);
	sid = odj_sid_string(ctx, w->DnsDomainInfo.Sid);
	assert_string_equal(sid, x->sid);
	TALLOC_FREE(sid);

	assert_string_equal(dc->DomainControllerName, x->dc_name);
	assert_string_equal(dc->DomainControllerAddress, x->dc_address);
	assert_int_equal(dc->DomainControllerAddressType, DS_INET_ADDRESS);
	check_guid_string(ctx, &dc->DomainGuid, x->guid);
	assert_string_equal(dc->DomainName, x->dns_domain);
	assert_string_equal(dc->DnsForestName, x->forest);
	assert_int_equal(dc->Flags, x->dc_flags);
	assert_string_equal(dc->DcSiteName, x->site);
	assert_string_equal(dc->ClientSiteName, x->site);
	assert_int_equal(w->Options, x->options);
}

/*
 * Two ODJ_BLOBs (WIN7, then WIN8) whose package holds JOIN_PROVIDER
 * (ESSENTIAL, same data as the WIN7 blob) and JOIN_PROVIDER3 with the
 * machine SID, which is the domain SID plus the RID.
 */
static void check_vector(TALLOC_CTX *ctx, const struct odj_provision_data *pd,
			 const struct win7_expect *x, uint32_t rid)
{
	const struct odj_package *pkg = NULL;
	const struct odj_part *p1 = NULL, *p2 = NULL;
	char *machine_sid = NULL;

	assert_int_equal(pd->version, 1);
	assert_int_equal(pd->num_blobs, 2);
	assert_int_equal(pd->blobs[0].format, ODJ_WIN7_FORMAT);
	assert_int_equal(pd->blobs[1].format, ODJ_WIN8_FORMAT);
	check_win7(ctx, pd->blobs[0].win7, x);

	pkg = pd->blobs[1].package;
	assert_non_null(pkg);
	assert_true(GUID_all_zero(&pkg->encryption_type));
	assert_int_equal(pkg->num_parts, 2);
	p1 = &pkg->parts[0];
	p2 = &pkg->parts[1];

	assert_int_equal(p1->kind, ODJ_PART_JOIN_PROVIDER);
	assert_true(p1->flags & OPSPI_PACKAGE_PART_ESSENTIAL);
	assert_win7_equal(p1->u.win7, pd->blobs[0].win7);

	assert_int_equal(p2->kind, ODJ_PART_JOIN_PROVIDER3);
	assert_int_equal(p2->flags, 0);
	assert_int_equal(p2->u.jp3->Rid, rid);
	machine_sid = talloc_asprintf(ctx, "%s-%u", x->sid, rid);
	assert_string_equal(p2->u.jp3->lpSid, machine_sid);
	TALLOC_FREE(machine_sid);
}

static void test_windows_ndr_fields(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	struct odj_provision_data *pd = odj_test_decode(ctx, ndr);

	assert_int_equal(ndr.length, 1984);
	check_vector(ctx, pd, &windows_win7, WINDOWS_RID);
	TALLOC_FREE(pd);
	TALLOC_FREE(ndr.data);
}

static void test_windows_odj_fields(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB raw = odj_test_read(ctx, WINDOWS_NDR);
	DATA_BLOB file = odj_test_read(ctx, WINDOWS_ODJ);
	DATA_BLOB ndr = load_odj(ctx, WINDOWS_ODJ);
	DATA_BLOB decoded = data_blob_null;
	struct odj_provision_data *pd = odj_test_decode(ctx, ndr);

	assert_blob_equal(ndr, raw);
	assert_nt_ok(odj_file_decode(ctx, file, &decoded, NULL));
	assert_blob_equal(decoded, raw);
	check_vector(ctx, pd, &windows_win7, WINDOWS_RID);
	TALLOC_FREE(pd);
	TALLOC_FREE(decoded.data);
	TALLOC_FREE(ndr.data);
	TALLOC_FREE(file.data);
	TALLOC_FREE(raw.data);
}

/* The library's shortcuts find the same things */
static void test_windows_accessors(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	struct odj_provision_data *pd = odj_test_decode(ctx, ndr);
	const struct odj_package *pkg = pd->blobs[1].package;

	assert_ptr_equal(odj_provision_data_win7(pd), pd->blobs[0].win7);
	assert_ptr_equal(odj_provision_data_part(pd, ODJ_PART_JOIN_PROVIDER),
			 &pkg->parts[0]);
	assert_ptr_equal(odj_provision_data_part(pd, ODJ_PART_JOIN_PROVIDER3),
			 &pkg->parts[1]);
	assert_null(odj_provision_data_part(pd, ODJ_PART_CERT));
	assert_null(odj_provision_data_part(NULL, ODJ_PART_CERT));
	assert_null(odj_provision_data_win7(NULL));

	/* without the WIN7 blob, the JOIN_PROVIDER part stands in */
	pd->blobs[0].format = 7;
	pd->blobs[0].win7 = NULL;
	assert_ptr_equal(odj_provision_data_win7(pd), pkg->parts[0].u.win7);
	TALLOC_FREE(pd);
	TALLOC_FREE(ndr.data);
}

static void test_windows_round_trip(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);

	round_trip_ndr(ctx, ndr);
	TALLOC_FREE(ndr.data);
}

static void test_samba_fields(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = load_odj(ctx, SAMBA_ODJ);
	struct odj_provision_data *pd = odj_test_decode(ctx, ndr);

	assert_int_equal(ndr.length, 2040);
	check_vector(ctx, pd, &samba_win7, SAMBA_RID);
	TALLOC_FREE(pd);
	TALLOC_FREE(ndr.data);
}

static void test_samba_round_trip(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = load_odj(ctx, SAMBA_ODJ);

	round_trip_ndr(ctx, ndr);
	TALLOC_FREE(ndr.data);
}

/*
 * Provisioning data built in C, with every part type
 */

/* ASCII only: Length is bytes of UTF-16 without the NUL */
static void set_ustr(struct ODJ_UNICODE_STRING *u, const char *s)
{
	u->Buffer = s;
	u->Length = 2 * strlen(s);
	u->MaximumLength = u->Length + 2;
}

static struct ODJ_WIN7BLOB *make_win7(TALLOC_CTX *mem_ctx)
{
	struct ODJ_WIN7BLOB *w = talloc_zero(mem_ctx, struct ODJ_WIN7BLOB);
	struct ODJ_POLICY_DNS_DOMAIN_INFO *d = &w->DnsDomainInfo;
	struct DOMAIN_CONTROLLER_INFO *dc = &w->DcInfo;

	assert_non_null(w);
	w->lpDomain = "example.test";
	w->lpMachineName = "CLIENT\xc3\x9c";	/* U+00DC */
	w->lpMachinePassword = "not a real password";
	set_ustr(&d->Name, "EXAMPLE");
	set_ustr(&d->DnsDomainName, "example.test");
	set_ustr(&d->DnsForestName, "example.test");
	assert_nt_ok(GUID_from_string("01234567-89ab-cdef-0123-456789abcdef",
				      &d->DomainGuid));
	d->Sid = talloc_zero(w, struct ODJ_SID);
	assert_non_null(d->Sid);
	assert_true(odj_sid_parse("S-1-5-21-1-2-3", d->Sid, w));
	dc->DomainControllerName = "\\\\dc.example.test";
	dc->DomainControllerAddress = "\\\\192.0.2.1";
	dc->DomainControllerAddressType = DS_INET_ADDRESS;
	dc->DomainGuid = d->DomainGuid;
	dc->DomainName = "example.test";
	dc->DnsForestName = "example.test";
	dc->Flags = 0xe00013fd;
	dc->DcSiteName = "Default-First-Site-Name";
	dc->ClientSiteName = NULL;
	w->Options = 0x6;
	return w;
}

static struct OP_JOINPROV2_PART *make_jp2(TALLOC_CTX *mem_ctx)
{
	struct OP_JOINPROV2_PART *p = talloc_zero(mem_ctx,
						  struct OP_JOINPROV2_PART);

	assert_non_null(p);
	p->dwFlags = OP_JP2_FLAG_PERSISTENTSITE;
	p->lpNetbiosName = "CLIENT";
	p->lpSiteName = "Z\xc3\xbcrich";	/* not ASCII on purpose */
	p->lpPrimaryDNSDomain = "example.test";
	return p;
}

static struct OP_JOINPROV3_PART *make_jp3(TALLOC_CTX *mem_ctx)
{
	struct OP_JOINPROV3_PART *p = talloc_zero(mem_ctx,
						  struct OP_JOINPROV3_PART);

	assert_non_null(p);
	p->Rid = 1605;
	p->lpSid = "S-1-5-21-1-2-3-1605";
	return p;
}

static struct OP_JOINPROV4_PART *make_jp4(TALLOC_CTX *mem_ctx)
{
	struct OP_JOINPROV4_PART *p = talloc_zero(mem_ctx,
						  struct OP_JOINPROV4_PART);

	assert_non_null(p);
	p->Rid = 1606;
	p->lpSid = "S-1-5-21-1-2-3-1606";
	assert_nt_ok(GUID_from_string("fedcba98-7654-3210-fedc-ba9876543210",
				      &p->ObjectGuid));
	return p;
}

static uint8_t pfx_bytes[] = { 0x30, 0x82, 0x01, 0x02, 0x03, 0x04, 0x05 };
static uint8_t sst_bytes[] = { 0x00, 0x00, 0x00, 0x00, 0x43, 0x45, 0x52 };

static struct OP_CERT_PART *make_cert(TALLOC_CTX *mem_ctx)
{
	struct OP_CERT_PART *c = talloc_zero(mem_ctx, struct OP_CERT_PART);
	struct OP_CERT_PFX_STORE *pfx = NULL;
	struct OP_CERT_SST_STORE *sst = NULL;

	assert_non_null(c);
	pfx = talloc_zero(c, struct OP_CERT_PFX_STORE);
	sst = talloc_zero(c, struct OP_CERT_SST_STORE);
	assert_non_null(pfx);
	assert_non_null(sst);
	pfx->pTemplateName = "Machine";
	pfx->ulPrivateKeyExportPolicy = 1;
	pfx->pPolicyServerUrl = "https://ca.example.test/policy";
	pfx->ulPolicyServerUrlFlags = 2;
	pfx->pPolicyServerId = "{00000000-0000-0000-0000-000000000001}";
	pfx->cbPfx = sizeof(pfx_bytes);
	pfx->pPfx = pfx_bytes;
	sst->StoreLocation = 0x20000;	/* CERT_SYSTEM_STORE_LOCAL_MACHINE */
	sst->pStoreName = "ROOT";
	sst->cbSst = sizeof(sst_bytes);
	sst->pSst = sst_bytes;
	c->cPfxStores = 1;
	c->pPfxStores = pfx;
	c->cSstStores = 1;
	c->pSstStores = sst;
	return c;
}

/* Registry values as Windows stores them */
static uint8_t reg_sz[] = { 'o', 0, 'd', 0, 'j', 0, 0, 0 };
static uint8_t reg_dword[] = { 0x04, 0x03, 0x02, 0x01 };
static uint8_t reg_qword[] = { 1, 2, 3, 4, 5, 6, 7, 0x80 };
static uint8_t reg_binary[] = { 0xde, 0xad, 0xbe, 0xef, 0x00 };
static uint8_t reg_multi_sz[] = { 'a', 0, 0, 0, 'b', 0, 0, 0, 0, 0 };

static void set_element(struct OP_POLICY_ELEMENT *e, const char *name,
			enum winreg_Type type, uint8_t *data, uint32_t len)
{
	e->pKeyPath = "Software\\Policies\\Example";
	e->pValueName = name;
	e->ulValueType = type;
	e->cbValueData = len;
	e->pValueData = data;
}

static struct OP_POLICY_PART *make_policy(TALLOC_CTX *mem_ctx)
{
	struct OP_POLICY_PART *p = talloc_zero(mem_ctx, struct OP_POLICY_PART);
	struct OP_POLICY_ELEMENT_LIST *l = NULL;
	struct OP_POLICY_ELEMENT *e = NULL;

	assert_non_null(p);
	l = talloc_zero(p, struct OP_POLICY_ELEMENT_LIST);
	e = talloc_zero_array(p, struct OP_POLICY_ELEMENT, 5);
	assert_non_null(l);
	assert_non_null(e);
	set_element(&e[0], "Sz", REG_SZ, reg_sz, sizeof(reg_sz));
	set_element(&e[1], "Dword", REG_DWORD, reg_dword, sizeof(reg_dword));
	set_element(&e[2], "Qword", REG_QWORD, reg_qword, sizeof(reg_qword));
	set_element(&e[3], "Binary", REG_BINARY, reg_binary,
		    sizeof(reg_binary));
	set_element(&e[4], "MultiSz", REG_MULTI_SZ, reg_multi_sz,
		    sizeof(reg_multi_sz));
	l->pSource = "{31B2F340-016D-11D2-945F-00C04FB984F9}";
	l->ulRootKeyId = 0x80000002;	/* HKEY_LOCAL_MACHINE */
	l->cElements = 5;
	l->pElements = e;
	p->cElementLists = 1;
	p->pElementLists = l;
	return p;
}

static void set_part(struct odj_part *p, enum odj_part_kind kind,
		     uint32_t flags, void *data)
{
	p->type = odj_part_kind_guid(kind);
	p->kind = kind;
	p->flags = flags;
	p->u.ptr = data;
	assert_non_null(data);
}

/* Not a serialized stream: 7 bytes, no header */
static uint8_t unknown_part[] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x10, 0x08 };
static uint8_t some_extension[] = { 'e', 'x', 't' };

static struct odj_package *make_package(TALLOC_CTX *mem_ctx)
{
	struct odj_package *pkg = talloc_zero(mem_ctx, struct odj_package);
	struct odj_part *p = NULL;

	assert_non_null(pkg);
	p = talloc_zero_array(pkg, struct odj_part, 7);
	assert_non_null(p);
	set_part(&p[0], ODJ_PART_JOIN_PROVIDER, OPSPI_PACKAGE_PART_ESSENTIAL,
		 make_win7(p));
	set_part(&p[1], ODJ_PART_JOIN_PROVIDER2, 0, make_jp2(p));
	set_part(&p[2], ODJ_PART_JOIN_PROVIDER3, 0, make_jp3(p));
	set_part(&p[3], ODJ_PART_JOIN_PROVIDER4, 0, make_jp4(p));
	set_part(&p[4], ODJ_PART_CERT, 0, make_cert(p));
	set_part(&p[5], ODJ_PART_POLICY, 0, make_policy(p));
	p[6].type = GUID_random();
	p[6].kind = ODJ_PART_UNKNOWN;
	p[6].raw = data_blob_const(unknown_part, sizeof(unknown_part));
	p[6].extension = data_blob_const(some_extension,
					 sizeof(some_extension));
	assert_int_equal(odj_part_kind_from_guid(&p[6].type),
			 ODJ_PART_UNKNOWN);
	pkg->num_parts = 7;
	pkg->parts = p;
	pkg->collection_extension = data_blob_const(some_extension, 2);
	pkg->extension = data_blob_const(some_extension, 1);
	return pkg;
}

static struct odj_provision_data *make_pd(TALLOC_CTX *mem_ctx,
					  uint32_t num_blobs)
{
	struct odj_provision_data *pd = NULL;

	pd = talloc_zero(mem_ctx, struct odj_provision_data);
	assert_non_null(pd);
	pd->version = 1;
	pd->num_blobs = num_blobs;
	pd->blobs = talloc_zero_array(pd, struct odj_blob, num_blobs);
	assert_non_null(pd->blobs);
	return pd;
}

static void test_all_parts_round_trip(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct odj_provision_data *pd = make_pd(ctx, 2);
	struct odj_provision_data *pd2 = NULL;
	DATA_BLOB enc;

	pd->blobs[0].format = ODJ_WIN7_FORMAT;
	pd->blobs[0].win7 = make_win7(pd);
	pd->blobs[1].format = ODJ_WIN8_FORMAT;
	pd->blobs[1].package = make_package(pd);

	enc = round_trip_pd(ctx, pd);

	/* the unknown part is byte for byte what went in */
	pd2 = odj_test_decode(ctx, enc);
	assert_int_equal(pd2->blobs[1].package->parts[6].kind,
			 ODJ_PART_UNKNOWN);
	odj_test_bytes_equal(pd2->blobs[1].package->parts[6].raw.data,
			     pd2->blobs[1].package->parts[6].raw.length,
			     unknown_part, sizeof(unknown_part));
	assert_string_equal(pd2->blobs[1].package->parts[1].u.jp2->lpSiteName,
			    "Z\xc3\xbcrich");
	TALLOC_FREE(pd2);
	TALLOC_FREE(enc.data);
	TALLOC_FREE(pd);
}

/*
 * A peer decoder: Samba's ndrdump (package samba-testsuite) reads what we
 * encode, every part type included, and sees the same values.
 */
static void test_peer_ndrdump(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct odj_provision_data *pd = make_pd(ctx, 2);
	const char *want[] = {
		"pull returned Success",
		"lpMachineName            : 'CLIENT\xc3\x9c'",
		"Rid                      : 0x00000645 (1605)",
		"lpSid                    : 'S-1-5-21-1-2-3-1605'",
		"lpNetbiosName            : 'CLIENT'",
		"lpSiteName               : 'Z\xc3\xbcrich'",
		"pTemplateName            : 'Machine'",
		"pStoreName               : 'ROOT'",
		"pKeyPath                 : 'Software\\Policies\\Example'",
		("pSource                  : "
		 "'{31B2F340-016D-11D2-945F-00C04FB984F9}'"),
		"ulFlags                  : 0x00000001 (1)",
	};
	char path[] = "/tmp/odj-peer-XXXXXX";
	char *cmd = NULL;
	char *out = NULL;
	char buf[4096];
	DATA_BLOB enc;
	FILE *f = NULL;
	size_t i, n;
	int fd;

	if (system("command -v ndrdump >/dev/null 2>&1") != 0) {
		skip();
	}
	pd->blobs[0].format = ODJ_WIN7_FORMAT;
	pd->blobs[0].win7 = make_win7(pd);
	pd->blobs[1].format = ODJ_WIN8_FORMAT;
	pd->blobs[1].package = make_package(pd);
	assert_nt_ok(odj_provision_data_encode(ctx, pd, &enc, NULL));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, enc.data, enc.length), enc.length);
	close(fd);
	cmd = talloc_asprintf(ctx, "ndrdump ODJ "
			      "ODJ_PROVISION_DATA_serialized_ptr struct %s "
			      "2>&1", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	out = talloc_strdup(ctx, "");
	while ((n = fread(buf, 1, sizeof(buf) - 1, f)) > 0) {
		buf[n] = '\0';
		out = talloc_strdup_append(out, buf);
	}
	pclose(f);
	unlink(path);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (strstr(out, want[i]) == NULL) {
			fail_msg("ndrdump output lacks \"%s\"", want[i]);
		}
	}
	TALLOC_FREE(out);
	TALLOC_FREE(cmd);
	TALLOC_FREE(enc.data);
	TALLOC_FREE(pd);
}

/* Every kind alone in a package, so a failure points at one type */
static void test_each_part_round_trip(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct odj_package *all = make_package(ctx);
	uint32_t i;

	for (i = 0; i < all->num_parts; i++) {
		struct odj_provision_data *pd = make_pd(ctx, 1);
		struct odj_package pkg = { .num_parts = 1 };
		DATA_BLOB enc;

		pkg.parts = &all->parts[i];
		pd->blobs[0].format = ODJ_WIN8_FORMAT;
		pd->blobs[0].package = &pkg;
		enc = round_trip_pd(ctx, pd);
		TALLOC_FREE(enc.data);
		TALLOC_FREE(pd);
	}
	TALLOC_FREE(all);
}

static uint8_t format7_bytes[] = { 'n', 'o', 't', ' ', 'N', 'D', 'R' };

static void test_unknown_format_built(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct odj_provision_data *pd = make_pd(ctx, 2);
	struct odj_provision_data *pd2 = NULL;
	DATA_BLOB enc;

	pd->blobs[0].format = 7;
	pd->blobs[0].raw = data_blob_const(format7_bytes,
					   sizeof(format7_bytes));
	pd->blobs[1].format = ODJ_WIN7_FORMAT;
	pd->blobs[1].win7 = make_win7(pd);

	enc = round_trip_pd(ctx, pd);
	pd2 = odj_test_decode(ctx, enc);
	assert_int_equal(pd2->blobs[0].format, 7);
	assert_null(pd2->blobs[0].win7);
	assert_null(pd2->blobs[0].package);
	assert_blob_equal(pd2->blobs[0].raw, pd->blobs[0].raw);
	TALLOC_FREE(pd2);
	TALLOC_FREE(enc.data);
	TALLOC_FREE(pd);
}

/*
 * The Windows vector with blob 2's ulODJFormat (byte 48 of the outer
 * stream) set to 7: the package stream comes back as bytes, unchanged.
 */
static void test_unknown_format_vector(void **state)
{
	TALLOC_CTX *ctx = *state;
	DATA_BLOB ndr = odj_test_read(ctx, WINDOWS_NDR);
	const uint8_t hdr[] = { 0x01, 0x10, 0x08, 0x00,
				0xcc, 0xcc, 0xcc, 0xcc };
	struct odj_provision_data *pd = NULL;
	const struct odj_blob *b = NULL;

	assert_int_equal(ndr.data[48], ODJ_WIN8_FORMAT);
	ndr.data[48] = 7;
	pd = odj_test_decode(ctx, ndr);
	b = &pd->blobs[1];
	assert_int_equal(b->format, 7);
	assert_null(b->package);
	/* the OP_PACKAGE stream: starts at byte 860, 1120 bytes */
	assert_int_equal(b->raw.length, 1120);
	assert_memory_equal(b->raw.data, ndr.data + 860, 1120);
	assert_memory_equal(b->raw.data, hdr, sizeof(hdr));

	round_trip_ndr(ctx, ndr);
	TALLOC_FREE(pd);
	TALLOC_FREE(ndr.data);
}

/*
 * Part kinds
 */

static const struct {
	enum odj_part_kind kind;
	const char *guid;	/* as the vectors README spells them */
	const char *name;
} kinds[] = {
	{ ODJ_PART_JOIN_PROVIDER, "631c7621-5289-4321-bc9e-80f843f868c3",
	  "JOIN_PROVIDER" },
	{ ODJ_PART_JOIN_PROVIDER2, "57BFC56B-52F9-480C-ADCB-91B3F8A82317",
	  "JOIN_PROVIDER2" },
	{ ODJ_PART_JOIN_PROVIDER3, "FC0CCF25-7FFA-474A-8611-69FFE269645F",
	  "JOIN_PROVIDER3" },
	{ ODJ_PART_JOIN_PROVIDER4, "4A08716A-6710-4647-8211-FDBB0B03F60B",
	  "JOIN_PROVIDER4" },
	{ ODJ_PART_CERT, "9c0971e9-832f-4873-8e87-ef1419d4781e",
	  "CERT_PROVIDER" },
	{ ODJ_PART_POLICY, "68fb602a-0c09-48ce-b75f-07b7bd58f7ec",
	  "POLICY_PROVIDER" },
};

static void test_part_kinds(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct GUID g, k;

		assert_nt_ok(GUID_from_string(kinds[i].guid, &g));
		assert_int_equal(odj_part_kind_from_guid(&g), kinds[i].kind);
		k = odj_part_kind_guid(kinds[i].kind);
		assert_guid_equal(&k, &g);
		assert_string_equal(odj_part_kind_name(kinds[i].kind),
				    kinds[i].name);
	}
}

static void test_part_kind_unknown(void **state)
{
	struct GUID zero = { .time_low = 0 };
	struct GUID g = odj_part_kind_guid(ODJ_PART_UNKNOWN);
	struct GUID r = GUID_random();

	assert_true(GUID_all_zero(&g));
	assert_int_equal(odj_part_kind_from_guid(&zero), ODJ_PART_UNKNOWN);
	assert_int_equal(odj_part_kind_from_guid(&r), ODJ_PART_UNKNOWN);
	assert_string_equal(odj_part_kind_name(ODJ_PART_UNKNOWN), "unknown");
	assert_string_equal(odj_part_kind_name((enum odj_part_kind)99),
			    "unknown");
	g = odj_part_kind_guid((enum odj_part_kind)99);
	assert_true(GUID_all_zero(&g));
}

/*
 * SIDs
 */

static void test_sid_round_trip(void **state)
{
	TALLOC_CTX *ctx = *state;
	const char *sids[] = {
		"S-1-5-21-306967272-1096148586-1957995587-1605",
		"S-1-5-32-544",
		"S-1-1-0",
		"S-1-0",
		"S-1-5-4294967295",
		"S-1-281474976710655-7",
		"S-255-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15",
	};
	size_t i;

	for (i = 0; i < sizeof(sids) / sizeof(sids[0]); i++) {
		struct ODJ_SID sid = { .Revision = 0 };
		char *s = NULL;

		assert_true(odj_sid_parse(sids[i], &sid, ctx));
		s = odj_sid_string(ctx, &sid);
		assert_string_equal(s, sids[i]);
		TALLOC_FREE(s);
		TALLOC_FREE(sid.SubAuthority);
	}
}

static void test_sid_fields(void **state)
{
	TALLOC_CTX *ctx = *state;
	struct ODJ_SID sid = { .Revision = 0 };
	const uint8_t nt_authority[6] = { 0, 0, 0, 0, 0, 5 };
	char *s = NULL;

	assert_true(odj_sid_parse("s-1-5-21-7-4294967295", &sid, ctx));
	assert_int_equal(sid.Revision, 1);
	assert_memory_equal(sid.IdentifierAuthority, nt_authority, 6);
	assert_int_equal(sid.SubAuthorityCount, 3);
	assert_int_equal(sid.SubAuthority[0], 21);
	assert_int_equal(sid.SubAuthority[1], 7);
	assert_int_equal(sid.SubAuthority[2], 4294967295U);
	s = odj_sid_string(ctx, &sid);
	assert_string_equal(s, "S-1-5-21-7-4294967295");
	TALLOC_FREE(s);
	TALLOC_FREE(sid.SubAuthority);

	s = odj_sid_string(ctx, NULL);
	assert_string_equal(s, "(NULL SID)");
	TALLOC_FREE(s);
}

static void test_sid_reject(void **state)
{
	TALLOC_CTX *ctx = *state;
	const char *bad[] = {
		"", "S", "S-", "S-1", "S-1-", "S-1-5-", "S-1-5-21-",
		"X-1-5-21", "S1-5-21", "S-1-5--21", "S-1-5-21-abc",
		"S-1-5-21 ", " S-1-5-21", "S-1-5-+3", "S-1-5- 3",
		"S-1-5-0x10", "S-1-5-21-1.5",
		"S-256-5-21",				/* revision > 255 */
		"S-1-281474976710656-1",		/* authority > 2^48-1 */
		"S-1-5-4294967296",			/* sub > 2^32-1 */
		"S-1-5-18446744073709551616",		/* > 2^64-1 */
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16",	/* 16 */
		"S-1-5-1-2-3-4-5-6-7-8-9-10-11-12-13-14-15-16-17-18-19-20",
	};
	size_t i;

	assert_false(odj_sid_parse(NULL, &(struct ODJ_SID) { 0 }, ctx));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ODJ_SID sid = { .Revision = 0 };

		if (odj_sid_parse(bad[i], &sid, ctx)) {
			fail_msg("accepted \"%s\"", bad[i]);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		odj_test(test_windows_ndr_fields),
		odj_test(test_windows_odj_fields),
		odj_test(test_windows_accessors),
		odj_test(test_windows_round_trip),
		odj_test(test_samba_fields),
		odj_test(test_samba_round_trip),
		odj_test(test_all_parts_round_trip),
		odj_test(test_each_part_round_trip),
		odj_test(test_peer_ndrdump),
		odj_test(test_unknown_format_built),
		odj_test(test_unknown_format_vector),
		odj_test(test_part_kinds),
		odj_test(test_part_kind_unknown),
		odj_test(test_sid_round_trip),
		odj_test(test_sid_fields),
		odj_test(test_sid_reject),
	};

	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	return odj_test_run(tests);
}
