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

/** Which DC to talk to, and how. */
struct odj_dc_spec {
	const char *domain;		/* DNS (or, with dcname, NetBIOS) */
	const char *dcname;		/* NULL: from the SRV records */
	/*
	 * The credentials cache the credentials use (--use-krb5-ccache),
	 * if any: libsmbclient (the GPO fetch) takes Kerberos tickets
	 * from the KRB5CCNAME environment only, and the library points
	 * it there for the time it needs them.
	 */
	const char *krb5_ccache;
};

/**
 * @brief Connect to a DC of @p spec->domain and learn about it.
 *
 * Uses @p spec->dcname if given, else the DNS SRV records of the
 * domain.  The LDAP connection binds with @p creds (Kerberos or NTLM, as
 * the credentials say) and is signed and sealed.  Connecting is
 * synchronous (ldb's ldap backend binds inside ldb_connect());
 * everything done over the connection afterwards is asynchronous on
 * @p ev.
 */
ODJ_PUBLIC NTSTATUS odj_dc_connect(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct loadparm_context *lp_ctx,
				   struct cli_credentials *creds,
				   const struct odj_dc_spec *spec,
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
ODJ_PUBLIC NTSTATUS odj_machine_name_check(TALLOC_CTX *mem_ctx,
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
ODJ_PUBLIC NTSTATUS odj_compose_dc_info(TALLOC_CTX *mem_ctx,
					const struct odj_compose_domain *d,
					struct odj_dc_info **info,
					char **why);

/**
 * @brief Compose provisioning data as Windows Server 2019's djoin does.
 *
 * Refuses (NT_STATUS_INVALID_COMPUTER_NAME) a machine name that
 * odj_machine_name_check() refuses.
 */
ODJ_PUBLIC NTSTATUS odj_compose(TALLOC_CTX *mem_ctx,
				const struct odj_compose *c,
				struct odj_provision_data **pd);

/** @} */

/**
 * @defgroup odj_provision Creating an account and its blob on a DC
 * @{
 */

struct odj_extras;

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
	/*
	 * The 2012 extensions from odj_extras_prepare(): this machine's
	 * parts are made once its account exists, so that its certificate
	 * carries the account's SID; a failure then deletes the account.
	 */
	const struct odj_extras *extras;
	/*
	 * Where the blob goes before the request completes: @p savefile
	 * (odj_file_save(): 0600, atomic, an existing file only with
	 * @p overwrite), else @p deliver (e.g. to print it).  If that
	 * fails, an account this request created is deleted again: there
	 * is no account without its blob.  Neither: the caller takes the
	 * blob from the result, and the rule with it.
	 */
	const char *savefile;
	bool overwrite;
	NTSTATUS (*deliver)(DATA_BLOB ndr, void *private_data, char **why);
	void *deliver_data;
};

/**
 * @brief Check what can be checked of @p r before the DC is asked: the
 * machine name (odj_machine_name_check()) and that the savefile can be
 * written.  odj_provision_send() checks the same; a caller checks first
 * to fail before it connects.
 */
ODJ_PUBLIC NTSTATUS odj_provision_check(TALLOC_CTX *mem_ctx,
					const struct odj_provision_request *r,
					char **why);

/** What provisioning made. */
struct odj_provision_result {
	struct odj_provision_data *pd;
	DATA_BLOB ndr;			/* pd encoded, wiped when freed */
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
 * created is deleted again if a later step fails, saving or delivering
 * the blob included.
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

/** @brief Delete an account (by DN). */
ODJ_PUBLIC NTSTATUS odj_account_delete(TALLOC_CTX *mem_ctx,
				       struct odj_dc *dc,
				       const char *dn,
				       char **why);

/** @} */

/**
 * @defgroup odj_batch Provisioning many machines
 * @{
 */

/** Requests in flight when the caller does not say. */
#define ODJ_BATCH_DEFAULT_PARALLEL 8
/** More gains nothing on one LDAP connection per DC. */
#define ODJ_BATCH_MAX_PARALLEL 256

/** One machine of a batch file; NULL fields take the batch's defaults. */
struct odj_batch_entry {
	unsigned int line;		/* in the batch file, for messages */
	const char *name;
	const char *ou;
	const char *netbios;		/* JOIN_PROVIDER2 */
	const char *site;		/* JOIN_PROVIDER2 */
	bool site_persistent;		/* the site came from a psite column */
	const char *primary_dns;	/* JOIN_PROVIDER2 */
};

/**
 * @brief Parse a batch file: one machine per line, or CSV.
 *
 * Lines are "NAME" or "NAME,OU,NETBIOS,SITE,PRIMARYDNS" (trailing
 * columns may be left out, empty ones take the defaults).  A first line
 * with a "name" column is a header naming the columns, in any order:
 * name, ou, netbios, site (= psite), psite, dsite, primarydns; the site
 * is persistent (djoin /PSITE) unless the column is dsite.  Fields may
 * be double-quoted as in
 * RFC 4180 (an OU DN holds commas); blank lines and lines starting
 * with # are ignored.  A malformed line fails the whole file, naming
 * the line; whether a name is a valid computer name is left to
 * provisioning, so a bad name fails only its machine.
 *
 * @param[in] name  What to call the text in messages (its path).
 */
ODJ_PUBLIC NTSTATUS odj_batch_parse(TALLOC_CTX *mem_ctx,
				    DATA_BLOB text,
				    const char *name,
				    struct odj_batch_entry **entries,
				    size_t *num_entries,
				    char **why);

/** @brief Read and parse a batch file ("-": standard input). */
ODJ_PUBLIC NTSTATUS odj_batch_load(TALLOC_CTX *mem_ctx,
				   const char *path,
				   struct odj_batch_entry **entries,
				   size_t *num_entries,
				   char **why);

enum odj_batch_status {
	ODJ_BATCH_PENDING = 0,		/* not started: the batch was stopped */
	ODJ_BATCH_CREATED,		/* new account, new blob */
	ODJ_BATCH_REUSED,		/* existing account reset, new blob */
	ODJ_BATCH_SKIPPED,		/* blob and account already match */
	ODJ_BATCH_FAILED,
};

/** @brief "created", "reused", "skipped", "failed", "pending". */
ODJ_PUBLIC const char *odj_batch_status_name(enum odj_batch_status s);

/** What became of one machine. */
struct odj_batch_result {
	const struct odj_batch_entry *entry;
	enum odj_batch_status status;
	NTSTATUS error;			/* FAILED: why, as a status */
	const char *message;		/* FAILED: why, for a human */
	const char *account_dn;
	const char *sid;		/* the account's objectSid */
	uint32_t rid;
	const char *dc_name;		/* the DC that made or checked it */
	/* set when the file is in place (also for some failures) */
	const char *blob_path;
	const char *unattend_path;
};

/** How to run a batch. */
struct odj_batch_options {
	/* connected DCs of one domain; machines are spread over them */
	struct odj_dc * const *dcs;
	size_t num_dcs;
	const char *savedir;		/* blobs go to SAVEDIR/NAME.odj */
	const char *unattend_dir;	/* NULL, or UNATTEND/NAME.xml */
	unsigned int parallel;		/* 0: ODJ_BATCH_DEFAULT_PARALLEL */
	/*
	 * What every machine gets (machine_name is ignored; the batch
	 * file's columns override ou and the JOIN_PROVIDER2 fields).
	 * With reuse an existing account is reset and its blob replaced
	 * instead of being skipped or refused.  With defaults.extras each
	 * machine gets its own certificate.
	 */
	struct odj_provision_request defaults;
	/* called after each machine, from the event loop */
	void (*progress)(const struct odj_batch_result *result,
			 size_t done, size_t total, void *private_data);
	void *private_data;
};

/**
 * @brief Provision the machines of a batch, pipelined.
 *
 * Keeps up to @p o->parallel odj_provision_send() requests in flight,
 * handed round-robin to the DCs.  Each machine gets the account and blob
 * a single provisioning would give it; its blob is written with
 * odj_file_save() (0600, atomic) before the machine counts as done, and
 * an account created for a blob that cannot be written is deleted again.
 *
 * A machine whose blob exists in @p o->savedir and whose account on the
 * DC has the objectSid the blob's JOIN_PROVIDER3 part names is skipped,
 * with no write on the DC: re-running a batch resumes it.  The password
 * inside the blob cannot be checked over LDAP; the SID is the contract.
 * A failing machine does not stop the others.
 */
ODJ_PUBLIC struct tevent_req *odj_batch_send(
	TALLOC_CTX *mem_ctx,
	struct tevent_context *ev,
	const struct odj_batch_options *o,
	const struct odj_batch_entry *entries,
	size_t num_entries);

/**
 * @brief Stop a batch cleanly: launch no more machines, let the ones in
 * flight finish (or roll back), then complete the request.
 *
 * @return How many machines are still in flight.
 */
ODJ_PUBLIC size_t odj_batch_stop(struct tevent_req *req);

/**
 * @brief The results of a batch, one per entry, in the file's order.
 *
 * @return NT_STATUS_OK when every machine was attempted (some may have
 * failed: see the results), NT_STATUS_CANCELLED when odj_batch_stop()
 * left some pending; results are returned in both cases.
 */
ODJ_PUBLIC NTSTATUS odj_batch_recv(struct tevent_req *req,
				   TALLOC_CTX *mem_ctx,
				   struct odj_batch_result **results,
				   size_t *num_results,
				   char **why);

/** Counts of a batch's results by status. */
struct odj_batch_summary {
	size_t total;
	size_t created;
	size_t reused;
	size_t skipped;
	size_t failed;
	size_t pending;
};

ODJ_PUBLIC void odj_batch_summarize(const struct odj_batch_result *results,
				    size_t num_results,
				    struct odj_batch_summary *summary);

/** What a batch report says about the run as a whole. */
struct odj_batch_run {
	const char *domain;
	const char *batch_file;
	const char *savedir;
	bool interrupted;
	double seconds;			/* wall clock */
};

/**
 * @brief The JSON report of a batch: the run, the counts and, per
 * machine, status, DN, SID, RID, DC, blob path and error.
 */
ODJ_PUBLIC NTSTATUS odj_batch_report_json(TALLOC_CTX *mem_ctx,
					  const struct odj_batch_run *run,
					  const struct odj_batch_result *results,
					  size_t num_results,
					  char **json);

/**
 * @brief odj_batch_report_json() written to @p path, atomically, mode
 * 0600 (a report lists every account it made).
 */
ODJ_PUBLIC NTSTATUS odj_batch_report_save(TALLOC_CTX *mem_ctx,
					  const char *path,
					  const struct odj_batch_run *run,
					  const struct odj_batch_result *results,
					  size_t num_results,
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
ODJ_PUBLIC NTSTATUS odj_unattend_xml(TALLOC_CTX *mem_ctx,
				     DATA_BLOB ndr,
				     const char *arch,
				     char **xml,
				     char **why);

/**
 * @brief Write odj_unattend_xml() to @p path: mode 0600 (it holds the
 * machine password), atomically; an existing file only if @p overwrite.
 */
ODJ_PUBLIC NTSTATUS odj_unattend_save(TALLOC_CTX *mem_ctx,
				      const char *path,
				      DATA_BLOB ndr,
				      const char *arch,
				      bool overwrite,
				      char **why);

/** @} */

/**
 * @defgroup odj_request Joining this machine with a blob (requestodj)
 *
 * What "djoin /REQUESTODJ" does on Windows and "net offlinejoin
 * requestodj" on Samba: no network, no credentials; the blob's machine
 * password and domain data go into secrets.tdb in Samba's own format,
 * the machine's keys into a keytab, and smb.conf is checked (or, if
 * asked, adjusted) to match.
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
ODJ_PUBLIC NTSTATUS odj_join_from_provision_data(
	TALLOC_CTX *mem_ctx,
	const struct odj_provision_data *pd,
	struct odj_join **join,
	char **why);

/** An smb.conf [global] parameter that must change for a join. */
struct odj_config_change {
	const char *name;		/* "realm" */
	const char *value;		/* "ODJ.TEST" */
	const char *current;		/* the value now, "" if unset */
};

/**
 * @brief What smb.conf must change before Samba can use @p join.
 *
 * Checks netbios name, workgroup, realm, security (ads) and server
 * role.  Fails (NT_STATUS_INVALID_DOMAIN_ROLE) for a configuration no
 * change can fix: a domain controller's.
 *
 * @param[out] changes  The changes, none (NULL, 0) if it matches.
 */
ODJ_PUBLIC NTSTATUS odj_config_check(TALLOC_CTX *mem_ctx,
				     struct loadparm_context *lp_ctx,
				     const struct odj_join *join,
				     struct odj_config_change **changes,
				     size_t *num_changes,
				     char **why);

/**
 * The password change time odj_request() records, in unix seconds.
 *
 * Winbindd changes the machine password once MACHINE_LAST_CHANGE_TIME
 * plus "machine password timeout" has passed.  The start of the epoch
 * makes that its first contact with a DC, as on Windows, where a blob's
 * password is replaced then too.  (0 would mean "no password" to
 * Samba's secrets_fetch_or_upgrade_domain_info().)
 */
#define ODJ_FIRST_CONTACT_LAST_CHANGE 1

/** What odj_request() does. */
struct odj_request {
	const struct odj_join *join;
	/*
	 * The keytab to write.  NULL: as "kerberos method" says: the
	 * "dedicated keytab file", the default keytab (KRB5_KTNAME or
	 * /etc/krb5.keytab) for "system keytab" and "secrets and keytab",
	 * none for "secrets only", where Samba uses no keytab.
	 */
	const char *keytab;
	uint32_t kvno;			/* 0: 1, a new account's */
	bool force;			/* replace a join to elsewhere */
	bool update_config;		/* edit smb.conf where needed */
	/*
	 * The 2012 extensions (join->extensions).  A part that is skipped
	 * or cannot be applied is a warning, and refuses the whole join
	 * if it is ESSENTIAL.
	 */
	bool skip_certs;		/* leave CERT parts alone */
	bool skip_policy;		/* leave POLICY parts alone */
	const char *trust_dir;		/* NULL: ODJ_CERTS_TRUST_DIR */
	const char *cert_dir;		/* NULL: <private dir>/odj */
	const char *policy_file;	/* NULL: <state dir>/odj-policy.json */
	bool update_ca_certificates;	/* run it after new root CAs */
};

/** What odj_request() did. */
struct odj_request_result {
	const char *secrets_tdb;
	const char *keytab;		/* NULL: none written */
	size_t num_keytab_entries;
	const char *keytab_note;	/* why none, or what to mind */
	const char *config_file;	/* NULL: smb.conf left alone */
	struct odj_config_change *changes;	/* what was changed */
	size_t num_changes;
	const char *replaced;		/* the join replaced, or NULL */
	bool rotates_at_first_contact;	/* winbindd will change it */
	const char *rotation_note;	/* else what to run */
	/* the extensions: files written, NULL-terminated (or NULL) */
	const char **trust_files;	/* root CAs, PEM */
	const char **cert_files;	/* machine certificates and keys */
	const char *policy_file;	/* NULL: none written */
	/* parts not applied, and update-ca-certificates trouble */
	const char **warnings;		/* NULL-terminated, or NULL */
	bool ca_certificates_updated;	/* update-ca-certificates ran */
};

/**
 * @brief Make this machine a member of the blob's domain, offline.
 *
 * Writes, all or nothing: Samba's join records into secrets.tdb in one
 * transaction (SECRETS/MACHINE_DOMAIN_INFO/<DOMAIN> and the legacy keys
 * Samba 4.17 writes beside it), a keytab (see odj_request.keytab) and,
 * with @p r->update_config, the [global] parameters smb.conf needs.
 * Files are replaced atomically; on failure secrets.tdb, keytab and
 * smb.conf are as they were, byte for byte.
 *
 * The CERT parts' root CAs go as PEM files into @p r->trust_dir (for
 * update-ca-certificates), their machine certificates and keys into
 * @p r->cert_dir (machine.pem 0644, machine.key 0600; "-2", "-3" ...
 * for further PFX stores), the POLICY parts' settings as JSON into
 * @p r->policy_file.  These files are staged with the others and
 * published in the same commit: if the join fails none remains, and if
 * an ESSENTIAL part cannot be applied (or is to be skipped) nothing is
 * written at all.  A part that is not essential and cannot be staged is
 * left out, with a warning in the result.
 *
 * Refuses (NT_STATUS_OBJECT_NAME_COLLISION) to replace a join to another
 * domain or of another account unless @p r->force, and
 * (NT_STATUS_INVALID_PARAMETER_MIX) a configuration that does not match
 * the blob unless @p r->update_config.
 */
ODJ_PUBLIC NTSTATUS odj_request(TALLOC_CTX *mem_ctx,
				struct loadparm_context *lp_ctx,
				const struct odj_request *r,
				struct odj_request_result **result,
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

/**
 * @defgroup odj_certs Certificates: the CERT part (djoin /ROOTCACERTS,
 * /CERTTEMPLATE)
 *
 * Root CAs travel as a serialized certificate store (SST, what
 * CertSaveStore(CERT_STORE_SAVE_AS_STORE) writes) in an OP_CERT_SST_STORE
 * for LocalMachine\\ROOT; a machine certificate as a PKCS#12 (PFX) file
 * with its key and chain in an OP_CERT_PFX_STORE.  Certificates are
 * issued through an issuing backend (struct odj_ca_backend); the built-in
 * one is a local CA whose certificate and key the admin supplies.
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
ODJ_PUBLIC NTSTATUS odj_sst_parse(TALLOC_CTX *mem_ctx,
				  DATA_BLOB bytes,
				  struct odj_sst **sst,
				  char **why);

/** @brief Serialize @p sst, end marker included. */
ODJ_PUBLIC NTSTATUS odj_sst_push(TALLOC_CTX *mem_ctx,
				 const struct odj_sst *sst,
				 DATA_BLOB *bytes);

/**
 * @brief Add a certificate to @p sst (allocated on @p sst) as Windows
 * writes one: its SHA-1 hash property, an optional friendly name
 * property, then the certificate.
 */
ODJ_PUBLIC NTSTATUS odj_sst_add_cert(struct odj_sst *sst,
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
ODJ_PUBLIC NTSTATUS odj_cert_info(TALLOC_CTX *mem_ctx,
				  DATA_BLOB der,
				  struct odj_cert_info **info,
				  char **why);

/** @brief The usual name of an extended key usage OID, or NULL. */
ODJ_PUBLIC const char *odj_cert_eku_name(const char *oid);

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
ODJ_PUBLIC NTSTATUS odj_pfx_build(TALLOC_CTX *mem_ctx,
				  const struct odj_pfx *pfx,
				  const char *password,
				  DATA_BLOB *bytes,
				  char **why);

/** @brief Open a PFX with @p password ("" for an empty one). */
ODJ_PUBLIC NTSTATUS odj_pfx_parse(TALLOC_CTX *mem_ctx,
				  DATA_BLOB bytes,
				  const char *password,
				  struct odj_pfx **pfx,
				  char **why);

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

/**
 * @brief Find a certificate template by cn or displayName under
 * CN=Certificate Templates,CN=Public Key Services,CN=Services,\<config\>.
 *
 * NT_STATUS_NOT_FOUND with a message when there is none.
 */
ODJ_PUBLIC NTSTATUS odj_certs_find_template(TALLOC_CTX *mem_ctx,
					    struct odj_dc *dc,
					    const char *name,
					    struct odj_cert_template **tmpl,
					    char **why);

/**
 * @brief The enterprise root CAs published in AD: cACertificate of every
 * certificationAuthority under CN=Certification Authorities, and the
 * self-signed ones of CN=NTAuthCertificates (the others there are
 * issuing CAs, not roots).  DER, each once, in directory order.
 */
ODJ_PUBLIC NTSTATUS odj_certs_root_cas(TALLOC_CTX *mem_ctx,
				       struct odj_dc *dc,
				       DATA_BLOB **certs,
				       size_t *num_certs,
				       char **why);

/** @brief An OP_CERT_SST_STORE for LocalMachine\\ROOT with @p certs. */
ODJ_PUBLIC NTSTATUS odj_certs_root_store(TALLOC_CTX *mem_ctx,
					 const DATA_BLOB *certs,
					 size_t num_certs,
					 struct OP_CERT_SST_STORE *store,
					 char **why);

struct odj_ca_backend;

/**
 * An issuing backend: anything that turns a certificate request into a
 * certificate.  The built-in one is odj_ca_backend_local(); AD CS
 * enrollment ([MS-WCCE]) would be another implementation of @p issue.
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
	 * NULL: none.  Returns the certificate and its chain (issuer first,
	 * root last), DER.
	 */
	NTSTATUS (*issue)(struct odj_ca_backend *backend,
			  TALLOC_CTX *mem_ctx,
			  const struct odj_cert_template *tmpl,
			  DATA_BLOB csr,
			  const char *dns_name,
			  const char *sid,
			  DATA_BLOB *cert,
			  DATA_BLOB **chain,
			  size_t *num_chain,
			  char **why);
};

struct odj_ca_backend {
	const struct odj_ca_backend_ops *ops;
	void *private_data;
};

/**
 * @brief The local CA backend: a CA certificate (PEM; more certificates
 * after it are its chain) and its unencrypted private key (PEM).
 *
 * Refuses, with a message, files it cannot read, a key that does not
 * belong to the certificate, a certificate that is no CA, and one that
 * is not valid now.
 */
ODJ_PUBLIC NTSTATUS odj_ca_backend_local(TALLOC_CTX *mem_ctx,
					 const char *ca_cert_file,
					 const char *ca_key_file,
					 struct odj_ca_backend **backend,
					 char **why);

/**
 * @brief Issue a machine certificate per @p tmpl through @p backend and
 * package it as djoin does: a new RSA key (the template's minimum size,
 * at least 2048 bits), the certificate for @p dns_name (and the account
 * @p sid, NULL if not known: see odj_ca_backend_ops.issue), and the PFX
 * of both plus the chain, with an empty password, in @p store.
 */
ODJ_PUBLIC NTSTATUS odj_certs_enroll(TALLOC_CTX *mem_ctx,
				     struct odj_ca_backend *backend,
				     const struct odj_cert_template *tmpl,
				     const char *dns_name,
				     const char *sid,
				     struct OP_CERT_PFX_STORE *store,
				     char **why);

/* Where odj_certs_install() writes by default (Debian's layout) */
#define ODJ_CERTS_TRUST_DIR "/usr/local/share/ca-certificates"
#define ODJ_CERTS_MACHINE_CERT "/etc/ssl/certs/odj-machine.pem"
#define ODJ_CERTS_MACHINE_KEY "/etc/ssl/private/odj-machine.key"

/** Where the certificates of a CERT part go; NULL members: defaults. */
struct odj_certs_install_paths {
	const char *trust_dir;		/* <dir>/odj-<CN>-<sha1>.crt */
	const char *cert_file;		/* machine certificate + chain, PEM */
	const char *key_file;		/* its key, PEM, mode 0600 */
};

/**
 * @brief Apply a CERT part on a Linux client: every certificate of its
 * ROOT stores as PEM into the trust directory (run update-ca-certificates
 * afterwards), and the first PFX's certificate (with the issuers that
 * are not self-signed after it) and key as PEM.  Further PFX stores get
 * "-2", "-3", ... before the file name extension.  The PFX is opened with
 * an empty password, then with @p machine_password (may be NULL).  Files
 * are replaced atomically.
 *
 * @param[out] written  Optional: the files written, NULL-terminated.
 */
ODJ_PUBLIC NTSTATUS odj_certs_install(
	TALLOC_CTX *mem_ctx,
	const struct OP_CERT_PART *part,
	const struct odj_certs_install_paths *paths,
	const char *machine_password,
	const char ***written,
	char **why);

/** @} */

/**
 * @defgroup odj_policy Policies: the POLICY part (djoin /POLICYNAMES,
 * /POLICYPATHS)
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
ODJ_PUBLIC NTSTATUS odj_preg_parse(TALLOC_CTX *mem_ctx,
				   DATA_BLOB bytes,
				   struct odj_preg **preg,
				   char **why);

/** @brief Write a Registry.pol file (for tests and tools). */
ODJ_PUBLIC NTSTATUS odj_preg_push(TALLOC_CTX *mem_ctx,
				  const struct odj_preg *preg,
				  DATA_BLOB *bytes);

/** @brief The element list of @p preg, source @p source, HKLM. */
ODJ_PUBLIC NTSTATUS odj_policy_element_list(
	TALLOC_CTX *mem_ctx,
	const struct odj_preg *preg,
	const char *source,
	struct OP_POLICY_ELEMENT_LIST *list);

/** A group policy object. */
struct odj_gpo {
	const char *guid;		/* cn: "{31B2F340-...}" */
	const char *display_name;
	const char *file_sys_path;	/* gPCFileSysPath (UNC) */
};

/**
 * @brief Find a GPO under CN=Policies,CN=System,\<domain\> by displayName
 * (or by its {GUID}).  NT_STATUS_NOT_FOUND if none, and an error if the
 * name is ambiguous.
 */
ODJ_PUBLIC NTSTATUS odj_policy_find_gpo(TALLOC_CTX *mem_ctx,
					struct odj_dc *dc,
					const char *name,
					struct odj_gpo **gpo,
					char **why);

/**
 * @brief Read Machine\\Registry.pol of @p gpo from SYSVOL with
 * libsmbclient, on the DC @p dc is connected to, with the credentials of
 * its LDAP connection (Kerberos from the ccache, or user and password).
 *
 * A GPO without machine registry settings has no Registry.pol: then
 * @p bytes is empty and the result NT_STATUS_OK.  A GPO folder that is
 * missing or unreadable is an error.
 */
ODJ_PUBLIC NTSTATUS odj_policy_fetch_gpo(TALLOC_CTX *mem_ctx,
					 struct odj_dc *dc,
					 const struct odj_gpo *gpo,
					 DATA_BLOB *bytes,
					 char **why);

/**
 * @brief Write the settings of a POLICY part as JSON (the "content" of
 * the part in odj dump --json), atomically, mode 0644.
 */
ODJ_PUBLIC NTSTATUS odj_policy_write_json(TALLOC_CTX *mem_ctx,
					  const struct OP_POLICY_PART *part,
					  const char *path,
					  char **why);

/** @} */

/**
 * @defgroup odj_extras The 2012 extensions of a provisioning, together
 * @{
 */

/** What to add to a machine's package besides the join. */
struct odj_extras_request {
	bool root_ca_certs;		/* djoin /ROOTCACERTS */
	const char *cert_template;	/* djoin /CERTTEMPLATE; implies roots */
	struct odj_ca_backend *ca;	/* issues for cert_template */
	const char * const *policy_names;	/* GPO display names */
	size_t num_policy_names;
	const char * const *policy_paths;	/* local Registry.pol files */
	size_t num_policy_paths;
};

/** The extensions of a provisioning, read once for many machines. */
struct odj_extras;

/**
 * @brief Read what every machine shares from the DC: the root CAs, the
 * certificate template, the policies (SYSVOL or local files), before any
 * account exists, so that a failure leaves nothing on the DC.  The CERT
 * and POLICY parts are not ESSENTIAL, as Windows marks every part but the
 * join's.  @p req->ca must outlive @p extras.
 */
ODJ_PUBLIC NTSTATUS odj_extras_prepare(TALLOC_CTX *mem_ctx,
				       struct odj_dc *dc,
				       const struct odj_extras_request *req,
				       struct odj_extras **extras,
				       char **why);

/**
 * @brief One machine's parts: copies of the shared ones and, with a
 * template, its own key and certificate (for "machine.suffix", @p
 * dns_suffix NULL: the domain's; for the account @p sid, if known),
 * issued by the CA backend.  No DC contact.
 */
ODJ_PUBLIC NTSTATUS odj_extras_for_machine(TALLOC_CTX *mem_ctx,
					   const struct odj_extras *extras,
					   const char *machine_name,
					   const char *dns_suffix,
					   const char *sid,
					   struct odj_part **parts,
					   uint32_t *num_parts,
					   bool *root_ca_certs,
					   char **why);

/** @} */

#endif /* _ODJ_H_ */
