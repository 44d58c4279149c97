/*
 * samba-odj: the codec, what both sides share.  The provisioning file and
 * the NDR structures inside it (djoin /SAVEFILE, Samba's printblob),
 * rendering, composing a blob from known values, the join a blob
 * describes, and Windows answer files.  No network, no local state
 * but the files named.
 */

#ifndef _ODJ_CODEC_H_
#define _ODJ_CODEC_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include <ndr.h>
#include "gen_ndr/odj.h"

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
NTSTATUS odj_file_decode(TALLOC_CTX *mem_ctx,
			 DATA_BLOB text,
			 DATA_BLOB *ndr,
			 char **why);

/**
 * @brief Encode NDR bytes exactly as djoin /SAVEFILE writes them.
 *
 * The result is FF FE, the base64 text in UTF-16LE, and a UTF-16 NUL.
 */
NTSTATUS odj_file_encode(TALLOC_CTX *mem_ctx,
			 DATA_BLOB ndr,
			 DATA_BLOB *text);

/**
 * @brief Base64 of the NDR bytes as one ASCII line (printblob).
 */
NTSTATUS odj_file_base64(TALLOC_CTX *mem_ctx,
			 DATA_BLOB ndr,
			 char **base64);

/**
 * @brief Read and decode a provisioning file.
 *
 * @param[in]  path  A file name, or "-" for standard input.
 */
NTSTATUS odj_file_load(TALLOC_CTX *mem_ctx,
		       const char *path,
		       DATA_BLOB *ndr,
		       char **why);

/**
 * @brief Check that odj_file_save() could create @p path.
 *
 * Lets a caller refuse a bad path before it changes anything on a DC.
 */
NTSTATUS odj_file_check_target(TALLOC_CTX *mem_ctx,
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
NTSTATUS odj_file_save(TALLOC_CTX *mem_ctx,
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
NTSTATUS odj_provision_data_decode(TALLOC_CTX *mem_ctx,
				   DATA_BLOB ndr,
				   struct odj_provision_data **pd,
				   char **why);

/**
 * @brief Encode provisioning data as NDR bytes.
 *
 * Known parts are serialized from their structures, unknown ones are
 * written back byte for byte.
 */
NTSTATUS odj_provision_data_encode(TALLOC_CTX *mem_ctx,
				   const struct odj_provision_data *pd,
				   DATA_BLOB *ndr,
				   char **why);

/** @brief The part kind a part type GUID stands for. */
enum odj_part_kind odj_part_kind_from_guid(const struct GUID *g);

/** @brief The part type GUID of a known kind. */
struct GUID odj_part_kind_guid(enum odj_part_kind kind);

/** @brief Short name of a part kind ("JOIN_PROVIDER3", "unknown"). */
const char *odj_part_kind_name(enum odj_part_kind kind);

/**
 * @brief The first decoded part of @p kind in any package, or NULL.
 */
const struct odj_part *odj_provision_data_part(
	const struct odj_provision_data *pd, enum odj_part_kind kind);

/**
 * @brief The join data: the WIN7 blob, or the JOIN_PROVIDER part.
 */
const struct ODJ_WIN7BLOB *odj_provision_data_win7(
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
NTSTATUS odj_dump(TALLOC_CTX *mem_ctx,
		  const struct odj_provision_data *pd,
		  enum odj_dump_format format,
		  bool show_secrets,
		  char **text);

struct json_t;

/**
 * @brief The tree odj_dump() renders, as a jansson object (the
 * caller's to json_decref()); the same redaction.
 */
NTSTATUS odj_dump_json(TALLOC_CTX *mem_ctx,
		       const struct odj_provision_data *pd,
		       bool show_secrets,
		       struct json_t **tree);

/** @} */

/**
 * @defgroup odj_compose Building provisioning data from known values
 * @{
 */

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
	const char *choice;		/* how the DC was chosen, for people */
};


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

/**
 * JOIN_PROVIDER2 (djoin /NETBIOS, /PSITE or /DSITE, /PRIMARYDNS): where a
 * machine's NetBIOS name, site and DNS suffix are not the defaults.
 */
struct odj_jp2 {
	const char *netbios_name;
	const char *site;
	bool site_persistent;		/* /PSITE: OP_JP2_FLAG_PERSISTENTSITE */
	const char *primary_dns;
};

/** Everything a blob says, as plain values. */
struct odj_compose {
	const struct odj_dc_info *dc;	/* domain and DC */
	const char *machine_name;
	const char *machine_password;
	uint32_t rid;			/* 0: unknown */
	const struct GUID *object_guid;	/* NULL: no JOIN_PROVIDER4 */
	uint32_t options;		/* NETSETUP_PROVISION_* */
	struct odj_jp2 jp2;		/* written when any field is set */
	/*
	 * More parts for the package, copied in after the join parts:
	 * CERT_PROVIDER and POLICY_PROVIDER (djoin /ROOTCACERTS,
	 * /CERTTEMPLATE, /POLICYNAMES, /POLICYPATHS), or anything else.
	 */
	const struct odj_part *extra_parts;
	uint32_t num_extra_parts;
};

/*
 * What a new computer's name may not hold (NetProvisionComputerAccount's
 * rules, as djoin enforces them), and the same for messages.
 */
#define ODJ_MACHINE_NAME_FORBIDDEN "\\/:*?\"<>|.,;=+[] "
#define ODJ_MACHINE_NAME_FORBIDDEN_TEXT "\\/:*?\"<>|.,;=+[] or space"

/**
 * @brief Whether @p name may name a new computer account: 1 to 15
 * characters, not all digits, no control character and none of
 * ODJ_MACHINE_NAME_FORBIDDEN.  NT_STATUS_INVALID_COMPUTER_NAME with a
 * message if not.  Provisioning and composing refuse the same names.
 */
NTSTATUS odj_machine_name_check(TALLOC_CTX *mem_ctx,
				const char *name,
				char **why);

/**
 * What composeodj is told instead of asking a DC; the defaults are what
 * a writable DC of a one-site domain would say.
 */
struct odj_compose_domain {
	const char *dns_domain;		/* the realm, any case */
	const char *netbios_domain;	/* the workgroup, any case */
	const char *domain_sid;		/* "S-1-5-21-..." */
	const char *domain_guid;
	const char *forest;		/* NULL: the domain */
	const char *dc_name;		/* DNS name of the DC */
	const char *dc_address;		/* IPv4 or IPv6 */
	bool have_dc_flags;		/* else a writable 2008+ DC's */
	uint32_t dc_flags;
	const char *dc_site;		/* NULL: Default-First-Site-Name */
	const char *client_site;	/* NULL: the DC's site */
};

/**
 * @brief The DOMAIN_CONTROLLER_INFO and domain data of @p d, checked
 * (the SID and GUID parse, the address is one) and completed with the
 * defaults; the DNS names lower case, the NetBIOS name upper case, as a
 * DC reports them.
 */
NTSTATUS odj_compose_dc_info(TALLOC_CTX *mem_ctx,
			     const struct odj_compose_domain *d,
			     struct odj_dc_info **info,
			     char **why);

/**
 * @brief Compose provisioning data as Windows Server 2019's djoin does.
 *
 * Refuses (NT_STATUS_INVALID_COMPUTER_NAME) a machine name that
 * odj_machine_name_check() refuses.
 */
NTSTATUS odj_compose(TALLOC_CTX *mem_ctx,
		     const struct odj_compose *c,
		     struct odj_provision_data **pd);

/** @} */

/**
 * @defgroup odj_join The join a blob describes
 *
 * What a joining machine takes from a blob: its domain, account and
 * password, checked for consistency, and the 2012 extension parts to
 * apply.  The client applies it (odj_request()); the DC side checks
 * it against the directory.
 * @{
 */

/** A CERT or POLICY part of a blob, copied out of it. */
struct odj_join_extension {
	enum odj_part_kind kind;	/* ODJ_PART_CERT or ODJ_PART_POLICY */
	bool essential;			/* OPSPI_PACKAGE_PART_ESSENTIAL */
	const char *where;		/* "blob 2 part 5 (CERT_PROVIDER)" */
	struct OP_CERT_PART *cert;	/* ODJ_PART_CERT */
	struct OP_POLICY_PART *policy;	/* ODJ_PART_POLICY */
};

/** The join a blob describes, checked for consistency. */
struct odj_join {
	const char *netbios_domain;	/* "ODJ" */
	const char *dns_domain;		/* "odj.test" */
	const char *forest;		/* may be NULL */
	struct GUID domain_guid;
	struct ODJ_SID *domain_sid;
	const char *machine_name;	/* lpMachineName, as in the blob */
	const char *netbios_name;	/* JOIN_PROVIDER2's, else machine */
	const char *account_name;	/* netbios_name + "$" */
	const char *dns_host_name;	/* machine.primary-dns-domain */
	const char *dc_name;		/* without the leading "\\" */
	const char *dc_address;		/* without the leading "\\" */
	const char *site;		/* JOIN_PROVIDER2's or client site */
	bool site_persistent;		/* OP_JP2_FLAG_PERSISTENTSITE */
	bool site_given;		/* JOIN_PROVIDER2's (psite=, dsite=) */
	uint32_t rid;			/* 0: no JOIN_PROVIDER3/4 */
	struct ODJ_SID *machine_sid;	/* NULL: no JOIN_PROVIDER3/4 */
	bool have_object_guid;
	struct GUID object_guid;	/* JOIN_PROVIDER4 */
	uint32_t options;		/* NETSETUP_PROVISION_* */
	const char *machine_password;	/* wiped when freed */
	const char **notes;		/* NULL-terminated: parts ignored */
	/* the CERT and POLICY parts, in blob order, for odj_request() */
	struct odj_join_extension *extensions;
	size_t num_extensions;
};

/**
 * @brief Take the join out of provisioning data and check it.
 *
 * Finds the join data in a WIN7 blob or a JOIN_PROVIDER part, and uses
 * JOIN_PROVIDER2 (NetBIOS name, site, DNS suffix), JOIN_PROVIDER3 and
 * JOIN_PROVIDER4 (account RID, SID and GUID) where present.
 *
 * CERT and POLICY parts (the 2012 extensions), essential or not, are
 * copied into @p join->extensions: odj_request() applies them, or
 * refuses the join when an ESSENTIAL one is to be skipped or fails.
 *
 * Refuses (NT_STATUS_INVALID_PARAMETER) a blob with an ESSENTIAL part it
 * cannot process (of unknown type), an encrypted package, and parts that
 * disagree with each other.  Parts that are neither essential nor used
 * are listed in @p join->notes.
 */
NTSTATUS odj_join_from_provision_data(
	TALLOC_CTX *mem_ctx,
	const struct odj_provision_data *pd,
	struct odj_join **join,
	char **why);

/** @} */

/**
 * @defgroup odj_unattend Windows answer files (unattend.xml)
 * @{
 */

/**
 * @brief The unattend.xml that joins Windows Setup from a blob.
 *
 * A Microsoft-Windows-UnattendedJoin component for the offlineServicing
 * pass (OfflineIdentification/Provisioning/AccountData) and for the
 * specialize pass (Identification/Provisioning/AccountData), both
 * holding the blob's base64 as djoin /PRINTBLOB prints it.
 *
 * @param[in] arch  processorArchitecture: "amd64" (NULL), "x86", "arm64".
 */
NTSTATUS odj_unattend_xml(TALLOC_CTX *mem_ctx,
			  DATA_BLOB ndr,
			  const char *arch,
			  char **xml,
			  char **why);

/**
 * @brief Write odj_unattend_xml() to @p path: mode 0600 (it holds the
 * machine password), atomically; an existing file only if @p overwrite.
 */
NTSTATUS odj_unattend_save(TALLOC_CTX *mem_ctx,
			   const char *path,
			   DATA_BLOB ndr,
			   const char *arch,
			   bool overwrite,
			   char **why);

/** @} */

#endif /* _ODJ_CODEC_H_ */
