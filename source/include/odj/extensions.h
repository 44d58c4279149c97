/*
 * samba-odj: the Windows Server 2012 extensions on the DC side: what
 * djoin's /ROOTCACERTS, /CERTTEMPLATE, /POLICYNAMES and /POLICYPATHS
 * add to a machine's package, and the certificate issuing behind them.
 */

#ifndef _ODJ_EXTENSIONS_H_
#define _ODJ_EXTENSIONS_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include "odj/dc.h"
#include "odj/formats.h"

/**
 * @defgroup odj_ca Issuing machine certificates (djoin /CERTTEMPLATE)
 *
 * Certificates are issued through an issuing backend (struct
 * odj_ca_backend): the enterprise CA of AD CS, enrolled at as the new
 * machine over [MS-ICPR] (the default), or a local CA whose certificate
 * and key the admin supplies.
 * @{
 */

/** A pKICertificateTemplate, as far as issuing needs it ([MS-CRTD]). */
struct odj_cert_template {
	const char *name;		/* cn: what enrollment names */
	const char *display_name;
	const char *oid;		/* msPKI-Cert-Template-OID, or NULL */
	uint32_t major_version;		/* revision */
	uint32_t minor_version;		/* msPKI-Template-Minor-Revision */
	const char **ekus;		/* pKIExtendedKeyUsage, NULL-ended */
	uint16_t key_usage;		/* pKIKeyUsage as GNUTLS_KEY_* bits */
	uint32_t min_key_bits;		/* msPKI-Minimal-Key-Size */
	uint64_t validity;		/* pKIExpirationPeriod, seconds */
	uint32_t private_key_flags;	/* msPKI-Private-Key-Flag */
	uint32_t enrollment_flags;	/* msPKI-Enrollment-Flag */
};

/** @brief An OP_CERT_SST_STORE for LocalMachine\\ROOT with @p certs. */
NTSTATUS odj_certs_root_store(TALLOC_CTX *mem_ctx,
			      const DATA_BLOB *certs,
			      size_t num_certs,
			      struct OP_CERT_SST_STORE *store,
			      char **why);

struct odj_ca_backend;

/**
 * The account a certificate is for, for a backend that enrolls as the
 * machine itself (AD CS: Kerberos as NAME$ with the password just set).
 */
struct odj_ca_machine {
	const char *account;		/* "NAME$" */
	const char *password;
	const char *realm;		/* Kerberos realm */
	const char *domain;		/* NetBIOS domain name */
};

/**
 * An issuing backend: anything that turns a certificate request into a
 * certificate: odj_ca_backend_local(), and the AD CS enterprise CA that
 * odj_extensions_prepare() sets up when it is given no backend.
 */
struct odj_ca_backend_ops {
	const char *name;
	/**
	 * Issue a certificate per @p tmpl for the key of @p csr (PKCS#10
	 * DER, signed by that key) and the machine @p dns_name, which the
	 * backend puts in the subject CN and the SAN itself.  @p sid, the
	 * account's ("S-1-5-21-..."), goes in the szOID_NTDS_CA_SECURITY_EXT
	 * extension that strong certificate mapping (KB5014754) wants, as
	 * AD CS does unless the template sets CT_FLAG_NO_SECURITY_EXTENSION;
	 * NULL: none.  @p machine: the account, for a backend that enrolls
	 * as it (NULL: not known; such a backend then fails).  Returns the
	 * certificate and its chain (issuer first, root last), DER.
	 */
	NTSTATUS (*issue)(struct odj_ca_backend *backend,
			  TALLOC_CTX *mem_ctx,
			  const struct odj_cert_template *tmpl,
			  DATA_BLOB csr,
			  const char *dns_name,
			  const char *sid,
			  const struct odj_ca_machine *machine,
			  DATA_BLOB *cert,
			  DATA_BLOB **chain,
			  size_t *num_chain,
			  char **why);
};

struct odj_ca_backend {
	const struct odj_ca_backend_ops *ops;
	void *private_data;
	/*
	 * The enrollment policy server the certificates come from, as the
	 * PFX store names it (OP_CERT_PFX_STORE): its URL, PolicyServerUrl
	 * flags and ID; NULL URL and ID: none (a local CA).
	 */
	const char *policy_server_url;
	uint32_t policy_server_flags;
	const char *policy_server_id;
};

/**
 * Where a secret comes from when one is needed: the password of an
 * encrypted CA key, a PKCS #11 token's PIN.  @p get returns it on
 * @p mem_ctx (wiped when freed), or NULL when there is none to be had;
 * @p what names the key or token, for a prompt.
 */
struct odj_secret_source {
	char *(*get)(TALLOC_CTX *mem_ctx, const char *what,
		     void *private_data);
	void *private_data;
};

/**
 * @brief The local CA backend: a CA certificate (PEM or DER; more
 * certificates after it are its chain) and its private key: a file
 * (PEM or DER; PKCS #1, or PKCS #8 plain or encrypted) or a PKCS #11
 * URL ("pkcs11:token=...;object=...", through GnuTLS and p11-kit's
 * modules).  The password of an encrypted key and the token's PIN come
 * from @p secret (NULL: none), asked only when needed.
 *
 * Refuses, with a message, files it cannot read, an encrypted key
 * without its password or with a wrong one, a token it cannot log in
 * to, a key that does not belong to the certificate (it must sign what
 * the certificate's public key verifies), a certificate that is no CA,
 * and one that is not valid now.
 */
NTSTATUS odj_ca_backend_local(TALLOC_CTX *mem_ctx,
			      const char *ca_cert_file,
			      const char *ca_key,
			      const struct odj_secret_source *secret,
			      struct odj_ca_backend **backend,
			      char **why);

/**
 * @brief Issue a machine certificate per @p tmpl through @p backend and
 * package it as djoin does: a new RSA key (the template's minimum size,
 * at least 2048 bits), the certificate for @p dns_name (and the account
 * @p sid, NULL if not known; @p machine for a backend that enrolls as
 * the account: see odj_ca_backend_ops.issue), and the PFX of both plus
 * the chain, with an empty password, in @p store, with the backend's
 * policy server.
 */
NTSTATUS odj_certs_enroll(TALLOC_CTX *mem_ctx,
			  struct odj_ca_backend *backend,
			  const struct odj_cert_template *tmpl,
			  const char *dns_name,
			  const char *sid,
			  const struct odj_ca_machine *machine,
			  struct OP_CERT_PFX_STORE *store,
			  char **why);

/** @} */

/**
 * @defgroup odj_extensions The 2012 extensions of a provisioning, together
 * @{
 */

/** What to add to a machine's package besides the join. */
struct odj_extensions_request {
	bool root_ca_certs;		/* djoin /ROOTCACERTS */
	const char *cert_template;	/* djoin /CERTTEMPLATE; implies roots */
	/*
	 * Issues for cert_template.  NULL: AD CS, the enterprise CA named
	 * @p ca_name (its cn; NULL: the first that offers the template),
	 * at which each machine enrolls as itself over [MS-ICPR] once its
	 * account exists.
	 */
	struct odj_ca_backend *ca;
	const char *ca_name;
	const char * const *policy_names;	/* GPO display names */
	size_t num_policy_names;
	const char * const *policy_paths;	/* local Registry.pol files */
	size_t num_policy_paths;
};

/** The extensions of a provisioning, read once for many machines. */
struct odj_extensions;

/**
 * @brief Read what every machine shares from the DC: the root CAs, the
 * certificate template and (AD CS) the enterprise CA that offers it, the
 * policies (SYSVOL or local files), before any account exists, so that a
 * failure leaves nothing on the DC: no enterprise CA is
 * NT_STATUS_NOT_FOUND.  The CERT and POLICY parts are not ESSENTIAL, as
 * Windows marks every part but the join's.  @p req->ca must outlive
 * @p extensions.
 */
NTSTATUS odj_extensions_prepare(TALLOC_CTX *mem_ctx,
			    struct odj_dc *dc,
			    const struct odj_extensions_request *req,
			    struct odj_extensions **extensions,
			    char **why);

/** @} */

#endif /* _ODJ_EXTENSIONS_H_ */
