/*
 * samba-odj: the codec layer, internal: what the codec files share
 * beyond the public odj/codec.h and odj/formats.h.
 */

#ifndef _ODJ_CODEC_PRIVATE_H_
#define _ODJ_CODEC_PRIVATE_H_

#include "util/util.h"
#include "odj/codec.h"
#include "odj/formats.h"
#include "gen_ndr/ndr_odj.h"

/* blob.c: a deep copy of a decoded part's structure (known kinds) */
NTSTATUS odj_part_copy(TALLOC_CTX *mem_ctx,
		       const struct odj_part *part,
		       void **copy,
		       char **why);

/*
 * Microsoft's certificate extensions, written by the local CA
 * (dc/ca_local.c) and read for display (cert_info.c): the template
 * (v2: OID and version; v1: name), and the account's SID for strong
 * certificate mapping ([MS-WCCE] 2.2.2.7.7.4) with its otherName type.
 */
#define OID_CERT_TEMPLATE_V2 "1.3.6.1.4.1.311.21.7"
#define OID_CERT_TEMPLATE_V1 "1.3.6.1.4.1.311.20.2"
#define OID_NTDS_CA_SECURITY_EXT "1.3.6.1.4.1.311.25.2"
#define OID_NTDS_OBJECTSID "1.3.6.1.4.1.311.25.2.1"

/* dump.c: a POLICY part as odj dump --json shows it, and as text */
struct json_t;
struct json_t *odj_dump_policy_json(const struct OP_POLICY_PART *pp);
NTSTATUS odj_policy_json_text(TALLOC_CTX *mem_ctx,
			      const struct OP_POLICY_PART *part,
			      char **text);

/* dump_text.c: a JSON tree as odj dump's text ("key: value" lines) */
char *odj_json_text(TALLOC_CTX *mem_ctx, struct json_t *tree);

#endif /* _ODJ_CODEC_PRIVATE_H_ */
