/*
 * samba-odj: Offline Domain Join for Samba
 *
 * Public API of the library.  Every function that allocates takes a talloc
 * context and hangs its results there only on success.  Errors are
 * NTSTATUS; where a caller wants to tell a user *where* something went
 * wrong, functions take an optional "char **why" that receives a message
 * on the same talloc context.
 */

#ifndef _ODJ_H_
#define _ODJ_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include <ndr.h>
#include "gen_ndr/odj.h"

#define ODJ_PUBLIC __attribute__((visibility("default")))

/**
 * @defgroup odj_file The provisioning file (djoin /SAVEFILE format)
 * @{
 */

/** Largest file odj_file_load() accepts; djoin blobs are a few KiB. */
#define ODJ_FILE_MAX_SIZE (16 * 1024 * 1024)

/**
 * @brief Turn the text of a provisioning file into NDR bytes.
 *
 * Accepts UTF-16LE with a byte order mark (with or without a trailing
 * UTF-16 NUL, as djoin and Samba write), UTF-16LE without BOM, and plain
 * ASCII base64 (as printblob writes).  White space and line breaks inside
 * the base64 are ignored.
 *
 * @param[in]  mem_ctx  Where the NDR bytes go (wiped when freed).
 * @param[in]  text     The file's bytes.
 * @param[out] ndr      The decoded NDR bytes.
 * @param[out] why      Optional: what is wrong with the text.
 */
ODJ_PUBLIC NTSTATUS odj_file_decode(TALLOC_CTX *mem_ctx,
				    DATA_BLOB text,
				    DATA_BLOB *ndr,
				    char **why);

/**
 * @brief Encode NDR bytes exactly as djoin /SAVEFILE writes them.
 *
 * The result is FF FE, the base64 text in UTF-16LE, and a UTF-16 NUL.
 */
ODJ_PUBLIC NTSTATUS odj_file_encode(TALLOC_CTX *mem_ctx,
				    DATA_BLOB ndr,
				    DATA_BLOB *text);

/**
 * @brief Base64 of the NDR bytes as one ASCII line (printblob).
 */
ODJ_PUBLIC NTSTATUS odj_file_base64(TALLOC_CTX *mem_ctx,
				    DATA_BLOB ndr,
				    char **base64);

/**
 * @brief Read and decode a provisioning file.
 *
 * @param[in]  path  A file name, or "-" for standard input.
 */
ODJ_PUBLIC NTSTATUS odj_file_load(TALLOC_CTX *mem_ctx,
				  const char *path,
				  DATA_BLOB *ndr,
				  char **why);

/**
 * @brief Check that odj_file_save() could create @p path.
 *
 * Lets a caller refuse a bad path before it changes anything on a DC.
 */
ODJ_PUBLIC NTSTATUS odj_file_check_target(TALLOC_CTX *mem_ctx,
					  const char *path,
					  bool overwrite,
					  char **why);

/**
 * @brief Write a provisioning file atomically, mode 0600.
 *
 * Writes a temporary file beside @p path and renames it into place, so
 * readers never see half a blob.  Refuses an existing file unless
 * @p overwrite.
 */
ODJ_PUBLIC NTSTATUS odj_file_save(TALLOC_CTX *mem_ctx,
				  const char *path,
				  DATA_BLOB ndr,
				  bool overwrite,
				  char **why);

/** @} */

/**
 * @defgroup odj_blob The decoded provisioning data
 * @{
 */

enum odj_part_kind {
	ODJ_PART_UNKNOWN = 0,
	ODJ_PART_JOIN_PROVIDER,		/* ODJ_WIN7BLOB */
	ODJ_PART_JOIN_PROVIDER2,	/* OP_JOINPROV2_PART */
	ODJ_PART_JOIN_PROVIDER3,	/* OP_JOINPROV3_PART */
	ODJ_PART_JOIN_PROVIDER4,	/* OP_JOINPROV4_PART */
	ODJ_PART_CERT,			/* OP_CERT_PART */
	ODJ_PART_POLICY,		/* OP_POLICY_PART */
};

/** One OP_PACKAGE_PART, decoded where its type is known. */
struct odj_part {
	struct GUID type;
	uint32_t flags;			/* OPSPI_PACKAGE_PART_ESSENTIAL */
	enum odj_part_kind kind;
	union {
		void *ptr;
		struct ODJ_WIN7BLOB *win7;
		struct OP_JOINPROV2_PART *jp2;
		struct OP_JOINPROV3_PART *jp3;
		struct OP_JOINPROV4_PART *jp4;
		struct OP_CERT_PART *cert;
		struct OP_POLICY_PART *policy;
	} u;
	DATA_BLOB raw;			/* unknown kind: bytes as read */
	DATA_BLOB extension;
};

/** An OP_PACKAGE (ODJ_WIN8_FORMAT). */
struct odj_package {
	struct GUID encryption_type;
	DATA_BLOB encryption_context;
	/*
	 * An encrypted collection (encryption_type not GUID_NULL) stays
	 * in wrapped, with no parts decoded.
	 */
	DATA_BLOB wrapped;
	uint32_t decrypted_size;
	uint32_t num_parts;
	struct odj_part *parts;
	DATA_BLOB collection_extension;
	DATA_BLOB extension;
};

/** One ODJ_BLOB. */
struct odj_blob {
	uint32_t format;		/* ODJ_WIN7_FORMAT, ODJ_WIN8_FORMAT */
	struct ODJ_WIN7BLOB *win7;
	struct odj_package *package;
	DATA_BLOB raw;			/* unknown format: bytes as read */
};

/** ODJ_PROVISION_DATA: what a provisioning file holds. */
struct odj_provision_data {
	uint32_t version;
	uint32_t num_blobs;
	struct odj_blob *blobs;
};

/**
 * @brief Decode NDR bytes into provisioning data.
 *
 * Every nested stream is taken apart; a part of unknown type is kept as
 * bytes.  On failure @p why names the layer and the byte offset, e.g.
 * "blob 2 (OP_PACKAGE): part 2 (JOIN_PROVIDER3): truncated at byte 48".
 * The machine password and the buffers that held it are wiped when
 * freed.
 */
ODJ_PUBLIC NTSTATUS odj_provision_data_decode(TALLOC_CTX *mem_ctx,
					      DATA_BLOB ndr,
					      struct odj_provision_data **pd,
					      char **why);

/**
 * @brief Encode provisioning data as NDR bytes.
 *
 * Known parts are serialized from their structures, unknown ones are
 * written back byte for byte.
 */
ODJ_PUBLIC NTSTATUS odj_provision_data_encode(TALLOC_CTX *mem_ctx,
					      const struct odj_provision_data *pd,
					      DATA_BLOB *ndr,
					      char **why);

/** @brief The part kind a part type GUID stands for. */
ODJ_PUBLIC enum odj_part_kind odj_part_kind_from_guid(const struct GUID *g);

/** @brief The part type GUID of a known kind. */
ODJ_PUBLIC struct GUID odj_part_kind_guid(enum odj_part_kind kind);

/** @brief Short name of a part kind ("JOIN_PROVIDER3", "unknown"). */
ODJ_PUBLIC const char *odj_part_kind_name(enum odj_part_kind kind);

/**
 * @brief The first decoded part of @p kind in any package, or NULL.
 */
ODJ_PUBLIC const struct odj_part *odj_provision_data_part(
	const struct odj_provision_data *pd, enum odj_part_kind kind);

/**
 * @brief The join data: the WIN7 blob, or the JOIN_PROVIDER part.
 */
ODJ_PUBLIC const struct ODJ_WIN7BLOB *odj_provision_data_win7(
	const struct odj_provision_data *pd);

/** @} */

/**
 * @defgroup odj_dump Human- and machine-readable rendering
 * @{
 */

enum odj_dump_format {
	ODJ_DUMP_TEXT = 0,
	ODJ_DUMP_JSON,
};

/**
 * @brief Render every field of provisioning data.
 *
 * The machine password shows as "<redacted>" unless @p show_secrets.
 */
ODJ_PUBLIC NTSTATUS odj_dump(TALLOC_CTX *mem_ctx,
			     const struct odj_provision_data *pd,
			     enum odj_dump_format format,
			     bool show_secrets,
			     char **text);

/** @} */

/**
 * @defgroup odj_dc The domain controller a provisioning talks to
 * @{
 */

struct tevent_context;
struct loadparm_context;
struct cli_credentials;
struct odj_dc;

/** What the DC told us about itself and its domain. */
struct odj_dc_info {
	const char *dc_name;		/* DNS name of the DC */
	const char *dc_address;		/* its IP address, as text */
	uint32_t dc_flags;		/* DS_*_FLAG, dsgetdc.h */
	const char *dc_site;
	const char *client_site;
	const char *dns_domain;
	const char *netbios_domain;
	const char *forest;
	struct GUID domain_guid;
	struct ODJ_SID *domain_sid;
	const char *domain_dn;
	const char *config_dn;
	const char *computers_dn;	/* the well-known Computers container */
};

/**
 * @brief Connect to a DC of @p domain and learn about it.
 *
 * Uses @p dcname if given, else the DNS SRV records of @p domain.  The
 * LDAP connection binds with @p creds (Kerberos or NTLM, as the
 * credentials say) and is signed and sealed.  Connecting is synchronous
 * (ldb's ldap backend binds inside ldb_connect()); everything done over
 * the connection afterwards is asynchronous on @p ev.
 *
 * @param[in] domain  DNS (or NetBIOS, with @p dcname) domain name.
 */
ODJ_PUBLIC NTSTATUS odj_dc_connect(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct loadparm_context *lp_ctx,
				   struct cli_credentials *creds,
				   const char *domain,
				   const char *dcname,
				   struct odj_dc **dc,
				   char **why);

ODJ_PUBLIC const struct odj_dc_info *odj_dc_info(const struct odj_dc *dc);

/** @} */

/**
 * @defgroup odj_compose Building provisioning data from known values
 * @{
 */

/*
 * NetProvisionComputerAccount's dwOptions.  Windows records them in
 * ODJ_WIN7BLOB.Options (the Windows Server 2019 vector, made with
 * /DEFPWD, carries 0x4), though Microsoft's page says "must be zero".
 */
#define NETSETUP_PROVISION_DOWNLEVEL_PRIV_SUPPORT	0x00000001
#define NETSETUP_PROVISION_REUSE_ACCOUNT		0x00000002
#define NETSETUP_PROVISION_USE_DEFAULT_PASSWORD		0x00000004
#define NETSETUP_PROVISION_SKIP_ACCOUNT_SEARCH		0x00000008
#define NETSETUP_PROVISION_ROOT_CA_CERTS		0x00000010

/** Everything a blob says, as plain values. */
struct odj_compose {
	const struct odj_dc_info *dc;	/* domain and DC */
	const char *machine_name;
	const char *machine_password;
	uint32_t rid;			/* 0: unknown */
	const struct GUID *object_guid;	/* NULL: no JOIN_PROVIDER4 */
	uint32_t options;		/* NETSETUP_PROVISION_* */
	/* JOIN_PROVIDER2, written when any of these is set */
	const char *jp2_netbios_name;
	const char *jp2_site;
	bool jp2_site_persistent;
	const char *jp2_primary_dns;
	/*
	 * More parts for the package, copied in after the join parts:
	 * CERT_PROVIDER and POLICY_PROVIDER (djoin /ROOTCACERTS,
	 * /CERTTEMPLATE, /POLICYNAMES, /POLICYPATHS), or anything else.
	 */
	const struct odj_part *extra_parts;
	uint32_t num_extra_parts;
};

/**
 * @brief Compose provisioning data as Windows Server 2019's djoin does.
 */
ODJ_PUBLIC NTSTATUS odj_compose(TALLOC_CTX *mem_ctx,
				const struct odj_compose *c,
				struct odj_provision_data **pd);

/** @} */

/**
 * @defgroup odj_provision Creating an account and its blob on a DC
 * @{
 */

/** What to provision: one machine. */
struct odj_provision_request {
	const char *machine_name;	/* NetBIOS name, 1-15 characters */
	const char *ou;			/* DN; NULL: the Computers container */
	bool reuse;			/* reset an existing account */
	bool defpwd;			/* password = lower case name */
	bool nosearch;			/* skip the conflict search */
	bool downlevel;			/* recorded in Options only */
	const char *jp2_netbios_name;
	const char *jp2_site;
	bool jp2_site_persistent;
	const char *jp2_primary_dns;
	/* more package parts (certificates, policies): see odj_compose */
	const struct odj_part *extra_parts;
	uint32_t num_extra_parts;
	/* recorded in Options: NETSETUP_PROVISION_ROOT_CA_CERTS */
	bool root_ca_certs;
};

/** What provisioning made. */
struct odj_provision_result {
	struct odj_provision_data *pd;
	const char *account_dn;
	const char *sam_account_name;
	struct ODJ_SID *machine_sid;
	uint32_t rid;
	struct GUID object_guid;
	bool created;			/* false: an existing account reused */
};

/**
 * @brief Create (or with reuse, reset) a computer account and compose
 * its provisioning data.
 *
 * Fails with NT_STATUS_USER_EXISTS, leaving the account untouched, when
 * the account exists and @p r->reuse is false.  An account this request
 * created is deleted again if a later step fails.
 */
ODJ_PUBLIC struct tevent_req *odj_provision_send(
	TALLOC_CTX *mem_ctx,
	struct tevent_context *ev,
	struct odj_dc *dc,
	const struct odj_provision_request *r);

ODJ_PUBLIC NTSTATUS odj_provision_recv(struct tevent_req *req,
				       TALLOC_CTX *mem_ctx,
				       struct odj_provision_result **result,
				       char **why);

/** @brief Synchronous odj_provision_send()/odj_provision_recv(). */
ODJ_PUBLIC NTSTATUS odj_provision(TALLOC_CTX *mem_ctx,
				  struct odj_dc *dc,
				  const struct odj_provision_request *r,
				  struct odj_provision_result **result,
				  char **why);

/**
 * @brief Delete an account again, e.g. when its blob could not be saved.
 */
ODJ_PUBLIC NTSTATUS odj_account_delete(TALLOC_CTX *mem_ctx,
				       struct odj_dc *dc,
				       const char *dn,
				       char **why);

/** @} */

/**
 * @defgroup odj_util Small helpers shared by the library and its tools
 * @{
 */

/** @brief "S-1-5-21-…" for a SID, on @p mem_ctx. */
ODJ_PUBLIC char *odj_sid_string(TALLOC_CTX *mem_ctx, const struct ODJ_SID *sid);

/** @brief A SID in its binary form (objectSid), 8 + 4n bytes. */
ODJ_PUBLIC bool odj_sid_from_blob(TALLOC_CTX *mem_ctx, const uint8_t *p,
				  size_t len, struct ODJ_SID *sid);

/** @brief Parse "S-1-…" into a SID. */
ODJ_PUBLIC bool odj_sid_parse(const char *str, struct ODJ_SID *sid,
			      TALLOC_CTX *mem_ctx);

/**
 * @brief Make @p ptr (a talloc chunk) be wiped with zeros when freed.
 *
 * For every buffer that ever held a password, key or blob.
 */
ODJ_PUBLIC void odj_wipe_on_free(const void *ptr);

/** @} */

#endif /* _ODJ_H_ */
