/*
 * Machine certificates from an AD CS enterprise CA: the CA's entry in AD
 * and enrollment over [MS-ICPR] ICertPassage::CertServerRequest,
 * authenticated as the machine account itself.
 */

#ifndef _ODJ_CA_ADCS_H_
#define _ODJ_CA_ADCS_H_

#include "dc/dc.h"

struct tevent_context;
struct tevent_req;
struct loadparm_context;

/** An enterprise CA as AD publishes it (a pKIEnrollmentService). */
struct odj_adcs_ca {
	const char *dn;
	const char *name;		/* cn: what pwszAuthority names */
	const char *dns_host;		/* dNSHostName: where it listens */
	const char **templates;	/* certificateTemplates, NULL-ended */
	DATA_BLOB ca_cert;		/* cACertificate (DER), or empty */
};

/**
 * @brief Find the enterprise CA that issues @p template_name: the
 * pKIEnrollmentService objects under CN=Enrollment Services,CN=Public
 * Key Services,CN=Services,\<configuration NC\>.
 *
 * With @p ca_name (a CA's cn, case-insensitive) that CA, which must
 * offer the template; else the first one in directory order that offers
 * it.  NT_STATUS_NOT_FOUND with a message when there is none.
 */
struct tevent_req *odj_adcs_find_ca_send(TALLOC_CTX *mem_ctx,
					 struct tevent_context *ev,
					 struct odj_dc *dc,
					 const char *ca_name,
					 const char *template_name);
NTSTATUS odj_adcs_find_ca_recv(struct tevent_req *req,
			       TALLOC_CTX *mem_ctx,
			       struct odj_adcs_ca **ca,
			       char **why);
/** @brief Synchronous odj_adcs_find_ca_send(), on the DC's event context. */
NTSTATUS odj_adcs_find_ca(TALLOC_CTX *mem_ctx,
			  struct odj_dc *dc,
			  const char *ca_name,
			  const char *template_name,
			  struct odj_adcs_ca **ca,
			  char **why);

/** One CertServerRequest, made as the machine account. */
struct odj_adcs_request {
	const char *ca_host;		/* the CA's dNSHostName */
	const char *ca_name;		/* its cn (pwszAuthority) */
	const char *template_name;	/* "CertificateTemplate:<name>" */
	DATA_BLOB csr;			/* PKCS #10, DER */
	const char *account;		/* "NAME$" */
	const char *password;		/* the one just set */
	const char *realm;		/* Kerberos realm */
	const char *domain;		/* NetBIOS domain name */
	/*
	 * NULL: "ncacn_ip_tcp:<ca_host>[spnego,seal]", the endpoint from
	 * the CA's endpoint mapper; "ncacn_np:<ca_host>[spnego,seal]" uses
	 * \\pipe\\cert over SMB instead.  A caller's own must ask for seal.
	 */
	const char *binding;
	/*
	 * Authentication failures (the account or its password not yet
	 * replicated to the DC the KDC lookup reached) are retried this
	 * many seconds; 0: once.
	 */
	unsigned int wait_seconds;
};

/** What the CA answered. */
struct odj_adcs_response {
	uint32_t disposition;		/* CR_DISP_*, or an HRESULT */
	uint32_t request_id;
	char *message;			/* the disposition message */
	DATA_BLOB cert;			/* pctbEncodedCert, DER */
	DATA_BLOB pkcs7;		/* pctbCert as received */
	DATA_BLOB *chain;		/* from pctbCert, without the */
	size_t num_chain;		/* certificate: issuer first */
};

/**
 * @brief Enroll: connect to the CA as @p r->account (Kerberos only,
 * SPNEGO, packet privacy), call CertServerRequest with CR_IN_BINARY |
 * CR_IN_PKCS10 and "CertificateTemplate:<name>", and take the answer
 * apart.
 *
 * Runs to completion on an event context of its own, so it can be
 * called from anywhere, also from inside a tevent callback: Samba's
 * public dcerpc_pipe_connect*() API is composite-based and offers no
 * public way to be called back when the connection is up.
 *
 * Returns NT_STATUS_OK when the certificate was issued; a message that
 * names the CA, the request id and the CA's disposition message for
 * NT_STATUS_PENDING (taken under submission) and
 * NT_STATUS_REQUEST_NOT_ACCEPTED (denied, or refused with an HRESULT).
 * Other errors: the CA could not be reached (NT_STATUS_HOST_UNREACHABLE,
 * NT_STATUS_CONNECTION_REFUSED, ...), the machine account could not log
 * on (NT_STATUS_LOGON_FAILURE, ...), or the answer is malformed
 * (NT_STATUS_INVALID_NETWORK_RESPONSE).
 */
NTSTATUS odj_adcs_enroll(TALLOC_CTX *mem_ctx,
			 struct loadparm_context *lp_ctx,
			 const struct odj_adcs_request *r,
			 struct odj_adcs_response **response,
			 char **why);

/**
 * @brief The certificates of a PKCS #7 (the pctbCert of an issued
 * request), without @p cert, ordered as a chain from @p cert's issuer
 * up, the ones not on that chain last.  DER, allocated on @p mem_ctx.
 */
NTSTATUS odj_adcs_pkcs7_chain(TALLOC_CTX *mem_ctx,
			      DATA_BLOB pkcs7,
			      DATA_BLOB cert,
			      DATA_BLOB **chain,
			      size_t *num_chain,
			      char **why);

/*
 * Seconds an enrollment retries a machine account's failed logon: the
 * KDC the Kerberos library reaches may be a DC the new account has not
 * replicated to yet.
 */
#define ODJ_ADCS_WAIT_SECONDS 30

/**
 * @brief The AD CS issuing backend (odj_ca_backend_ops): the enterprise
 * CA that offers @p template_name (odj_adcs_find_ca(): the one named
 * @p ca_name, or the first), at which each machine enrolls as itself
 * (odj_ca_machine; logon failures retried for @p wait_seconds), with
 * the Active Directory Enrollment Policy as its policy server.  Looked
 * up now, before any account exists: no such CA is NT_STATUS_NOT_FOUND.
 */
NTSTATUS odj_ca_backend_adcs(TALLOC_CTX *mem_ctx,
			     struct odj_dc *dc,
			     const char *ca_name,
			     const char *template_name,
			     unsigned int wait_seconds,
			     struct odj_ca_backend **backend,
			     char **why);

#endif /* _ODJ_CA_ADCS_H_ */
