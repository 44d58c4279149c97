/*
 * samba-odj: the Windows formats inside the 2012 extension parts:
 * serialized certificate stores (SST), PKCS#12 (PFX), certificate
 * fields for display, and Registry.pol (PReg).
 */

#ifndef _ODJ_FORMATS_H_
#define _ODJ_FORMATS_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include <ndr.h>
#include "gen_ndr/odj.h"

/**
 * @defgroup odj_formats_certs Certificate stores and certificates (the CERT part)
 *
 * Root CAs travel as a serialized certificate store (SST, what
 * CertSaveStore(CERT_STORE_SAVE_AS_STORE) writes) in an OP_CERT_SST_STORE
 * for LocalMachine\\ROOT; a machine certificate as a PKCS#12 (PFX) file
 * with its key and chain in an OP_CERT_PFX_STORE.
 * @{
 */

/* wincrypt.h: CERT_SYSTEM_STORE_LOCAL_MACHINE_ID (2) << 16 */
#define ODJ_CERT_SYSTEM_STORE_LOCAL_MACHINE	0x00020000
#define ODJ_CERT_STORE_ROOT			"ROOT"

/* X509PrivateKeyExportFlags (certenroll.h), OP_CERT_PFX_STORE */
#define ODJ_XCN_NCRYPT_ALLOW_EXPORT_NONE	0x00000000
#define ODJ_XCN_NCRYPT_ALLOW_EXPORT_FLAG	0x00000001

/* SST element ids: wincrypt.h property ids, and the reserved context ids */
#define ODJ_SST_PROP_SHA1_HASH		3	/* CERT_SHA1_HASH_PROP_ID */
#define ODJ_SST_PROP_FRIENDLY_NAME	11	/* CERT_FRIENDLY_NAME_PROP_ID */
#define ODJ_SST_ELEMENT_CERT		0x20	/* CERT_CERT_PROP_ID */
#define ODJ_SST_ELEMENT_CRL		0x21	/* CERT_CRL_PROP_ID */
#define ODJ_SST_ELEMENT_CTL		0x22	/* CERT_CTL_PROP_ID */

/** Largest SST or PFX the readers accept. */
#define ODJ_CERT_STORE_MAX_SIZE (16 * 1024 * 1024)

/** One property of an SST element ([MS-OSHARED] SerializedPropertyEntry). */
struct odj_sst_property {
	uint32_t id;
	uint32_t encoding;		/* 1 (X509_ASN_ENCODING) */
	DATA_BLOB value;
};

/** A certificate (or CRL, CTL) in an SST, with the properties before it. */
struct odj_sst_element {
	uint32_t id;			/* ODJ_SST_ELEMENT_* */
	uint32_t encoding;
	DATA_BLOB data;			/* DER */
	uint32_t num_props;
	struct odj_sst_property *props;
};

/** A serialized certificate store, element by element. */
struct odj_sst {
	uint32_t num_elements;
	struct odj_sst_element *elements;
};

/**
 * @brief Parse a serialized certificate store.
 *
 * The layout is: version 0, "CERT", then elements of (id, encoding,
 * length, bytes): each certificate's properties, the certificate
 * (id 0x20), and an end marker of 12 zero bytes.  Every property is kept,
 * so odj_sst_push() writes a parsed store back byte for byte.
 */
NTSTATUS odj_sst_parse(TALLOC_CTX *mem_ctx,
		       DATA_BLOB bytes,
		       struct odj_sst **sst,
		       char **why);

/** @brief Serialize @p sst, end marker included. */
NTSTATUS odj_sst_push(TALLOC_CTX *mem_ctx,
		      const struct odj_sst *sst,
		      DATA_BLOB *bytes);

/**
 * @brief Add a certificate to @p sst (allocated on @p sst) as Windows
 * writes one: its SHA-1 hash property, an optional friendly name
 * property, then the certificate.
 */
NTSTATUS odj_sst_add_cert(struct odj_sst *sst,
			  DATA_BLOB der,
			  const char *friendly_name);

/** What a certificate says, for people. */
struct odj_cert_info {
	const char *subject;		/* RFC 4514 */
	const char *common_name;	/* the subject's CN, or NULL */
	const char *issuer;
	const char *serial;		/* upper case hex */
	const char *sha1;		/* thumbprint, upper case hex */
	int64_t not_before;		/* seconds since 1970 */
	int64_t not_after;
	const char **ekus;		/* OIDs, NULL-terminated */
	const char **dns_names;		/* SAN dNSName, NULL-terminated */
	const char *template_name;	/* Microsoft template extension */
	const char *account_sid;	/* szOID_NTDS_CA_SECURITY_EXT's */
	const char *public_key;		/* "RSA 2048" */
	bool is_ca;
};

/** @brief Take a DER certificate apart for display. */
NTSTATUS odj_cert_info(TALLOC_CTX *mem_ctx,
		       DATA_BLOB der,
		       struct odj_cert_info **info,
		       char **why);

/** @brief The usual name of an extended key usage OID, or NULL. */
const char *odj_cert_eku_name(const char *oid);

/** The parts of a PFX. */
struct odj_pfx {
	DATA_BLOB key;			/* PKCS#8 DER, wiped when freed */
	DATA_BLOB cert;			/* the key's certificate */
	DATA_BLOB *chain;		/* the other certificates */
	size_t num_chain;
	const char *friendly_name;
};

/**
 * @brief Build a PFX (PKCS#12) of a key, its certificate and chain.
 *
 * The key goes in a pkcs8ShroudedKeyBag (PBE-SHA1-3DES), the
 * certificates in a plain bag; key and certificate share a localKeyId
 * and the friendly name; the MAC is HMAC-SHA1: algorithms Windows
 * releases before PBES2 support (Windows 10 1709) import too.  An empty
 * @p password ("") is the empty BMPString (two zero bytes), as
 * "openssl pkcs12 -export -passout pass:" writes it.
 *
 * @param[in] key  PKCS#8 DER of the private key.
 */
NTSTATUS odj_pfx_build(TALLOC_CTX *mem_ctx,
		       const struct odj_pfx *pfx,
		       const char *password,
		       DATA_BLOB *bytes,
		       char **why);

/** @brief Open a PFX with @p password ("" for an empty one). */
NTSTATUS odj_pfx_parse(TALLOC_CTX *mem_ctx,
		       DATA_BLOB bytes,
		       const char *password,
		       struct odj_pfx **pfx,
		       char **why);

/** @} */

/**
 * @defgroup odj_formats_preg Registry.pol (the POLICY part)
 *
 * Registry.pol files ([MS-GPREG] 2.2.1, "PReg") become one
 * OP_POLICY_ELEMENT_LIST each, rooted at HKEY_LOCAL_MACHINE, every entry
 * one OP_POLICY_ELEMENT.  Special entries ("**del.X", "**delvals.",
 * "**DeleteValues", "**DeleteKeys", "**SecureKey", "**soft.X") are kept
 * as elements with their value names, as the file has them: applying
 * them is the client's business.
 * @{
 */

/* winreg.h: HKEY_LOCAL_MACHINE, OP_POLICY_ELEMENT_LIST.ulRootKeyId */
#define ODJ_HKEY_LOCAL_MACHINE 0x80000002

/** Largest Registry.pol accepted. */
#define ODJ_PREG_MAX_SIZE (16 * 1024 * 1024)

/** One [key;value;type;size;data] instruction. */
struct odj_preg_entry {
	const char *key;
	const char *value_name;
	uint32_t type;			/* REG_* */
	DATA_BLOB data;
};

/** A Registry.pol file. */
struct odj_preg {
	uint32_t num_entries;
	struct odj_preg_entry *entries;
};

/**
 * @brief Parse a Registry.pol file.
 *
 * Refuses, naming the entry and byte offset, a wrong signature or
 * version, a missing bracket or separator, a string without its NUL, a
 * size that runs past the end, and files above ODJ_PREG_MAX_SIZE.
 */
NTSTATUS odj_preg_parse(TALLOC_CTX *mem_ctx,
			DATA_BLOB bytes,
			struct odj_preg **preg,
			char **why);

/** @brief Write a Registry.pol file (for tests and tools). */
NTSTATUS odj_preg_push(TALLOC_CTX *mem_ctx,
		       const struct odj_preg *preg,
		       DATA_BLOB *bytes);

/** @brief The element list of @p preg, source @p source, HKLM. */
NTSTATUS odj_policy_element_list(
	TALLOC_CTX *mem_ctx,
	const struct odj_preg *preg,
	const char *source,
	struct OP_POLICY_ELEMENT_LIST *list);

/** @} */

#endif /* _ODJ_FORMATS_H_ */
