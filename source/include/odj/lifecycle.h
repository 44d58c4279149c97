/*
 * samba-odj: a blob's life after provisioning, seen from the directory:
 * is it still good (verify), which machines have joined (status), and
 * revoking blobs nobody used (expire).  DC side: one LDAP session for
 * all blobs, Kerberos AS exchanges with the blobs' passwords where the
 * password itself must be proven.
 */

#ifndef _ODJ_LIFECYCLE_H_
#define _ODJ_LIFECYCLE_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include "odj/dc.h"

/**
 * @defgroup odj_life What became of provisioned blobs
 *
 * A blob's password works until the account's password changes, and a
 * machine changes it at its first contact with a DC (odj requestodj sets
 * MACHINE_LAST_CHANGE_TIME so that winbindd does), so the account tells
 * whether its blob was used.  A blob carries no time of its own; what
 * says whether the password changed since the blob was made is, in this
 * order (odj_life_status.basis):
 *
 * - "kvno": msDS-KeyVersionNumber 1, the password was set once and never
 *   again (an account created with its password, as provisioning does);
 * - "creation": pwdLastSet within ODJ_LIFE_WINDOW of whenCreated, the
 *   password is the one the account was created with;
 * - "blob-options": the blob created the account (no
 *   NETSETUP_PROVISION_REUSE_ACCOUNT in its options) and the password
 *   was set again later: it changed;
 * - "file-time": a blob that reset an existing account (or says so, as
 *   Samba's constant options do): pwdLastSet after the blob file's
 *   modification time means changed (the admin host's clock against the
 *   DC's).
 *
 * A machine's first contact is a logon: lastLogon (on the DC it asked)
 * and lastLogonTimestamp (replicated, then updated only every 9-14
 * days).  "joined" is a logon later than ODJ_LIFE_WINDOW after the
 * blob's password was set (Samba's net offlinejoin provision logs on as
 * the machine right away), password changed or not (Samba's winbindd
 * changes it at once, Windows keeps the provisioned one until its first
 * scheduled change); "changed" a changed password and no such logon (an
 * administrator's reset).
 *
 * Only a Kerberos AS exchange with the blob's password proves that it
 * still works (odj_verify_send()); odj_expire_send() proves it so before
 * it deletes anything.  That check logs nothing on: it stops at the
 * KDC's KRB_AP_ERR_SKEW, which a KDC can only give after decrypting the
 * pre-authentication with the account's key (dc/life_kdc.c).
 * @{
 */

/** Seconds: "at the same time" for whenCreated (1 s steps) and logons. */
#define ODJ_LIFE_WINDOW 3

/** Where blobs come from. */
enum odj_life_input_kind {
	ODJ_LIFE_FILE = 0,		/* one blob file */
	ODJ_LIFE_DIR,			/* every *.odj in a directory */
	ODJ_LIFE_REPORT,		/* the blobs a batch report lists */
};

struct odj_life_input {
	enum odj_life_input_kind kind;
	const char *path;
};

/** One blob, as read from its file. */
struct odj_life_blob {
	const char *path;		/* the file, or the input that failed */
	/* not OK: unreadable; message says why, nothing else is set */
	NTSTATUS error;
	const char *message;
	const char *machine_name;	/* lpMachineName */
	const char *account_name;	/* NAME$ (JOIN_PROVIDER2's NetBIOS) */
	const char *dns_domain;
	const char *netbios_domain;
	const char *dc_name;		/* DOMAIN_CONTROLLER_INFO: its maker */
	const char *sid;		/* machine SID, NULL if none is named */
	bool have_guid;
	struct GUID guid;		/* JOIN_PROVIDER4 */
	uint32_t options;		/* NETSETUP_PROVISION_* */
	const char *password;		/* wiped when freed */
	uint64_t file_time;		/* the file's mtime, NTTIME */
};

/**
 * @brief Read the blobs of @p inputs: files, directories (every regular
 * "*.odj" file, by name) and batch reports (the "blob" of each machine;
 * a relative path that does not exist is also tried in the report's
 * directory).  A file read twice is listed once.
 *
 * A blob that cannot be read, a directory that cannot be listed or holds
 * no blob, a report that cannot be parsed: each is one entry with
 * @p error set and a message naming the file; the others are read.
 * Fails only when memory runs out.
 */
NTSTATUS odj_life_load(TALLOC_CTX *mem_ctx,
		       const struct odj_life_input *inputs,
		       size_t num_inputs,
		       struct odj_life_blob **blobs,
		       size_t *num_blobs,
		       char **why);

/** What the directory says about a blob's account. */
enum odj_life_state {
	ODJ_LIFE_ERROR = 0,		/* unreadable, other domain, LDAP */
	ODJ_LIFE_PENDING,		/* unchanged, unused since the blob */
	ODJ_LIFE_JOINED,		/* a logon since the blob */
	ODJ_LIFE_CHANGED,		/* changed, no logon seen (a reset?) */
	ODJ_LIFE_MISSING,		/* no account of that name */
	ODJ_LIFE_REPLACED,		/* another object under that name */
	ODJ_LIFE_DISABLED,
};

/** @brief "error", "pending", "joined", "changed", "missing", ... */
const char *odj_life_state_name(enum odj_life_state s);

/** The account's attributes that matter here (0 or NULL: absent). */
struct odj_life_account {
	const char *dn;
	const char *sid;
	bool have_guid;
	struct GUID guid;
	uint32_t uac;			/* userAccountControl */
	uint64_t pwd_last_set;		/* NTTIME, as all times here */
	uint64_t when_created;
	uint64_t last_logon;		/* this DC's only (not replicated) */
	uint64_t last_logon_timestamp;	/* replicated, updated lazily */
	bool have_kvno;
	uint32_t kvno;			/* msDS-KeyVersionNumber */
};

/** One blob's state. */
struct odj_life_status {
	const struct odj_life_blob *blob;
	enum odj_life_state state;
	const char *reason;		/* one line, for people */
	/* how pending/joined/changed was decided (see above), or NULL */
	const char *basis;
	/* when the blob's password was set, as well as it is known */
	uint64_t blob_time;
	const char *dc_name;		/* the DC asked */
	bool found;
	struct odj_life_account account;
};

/**
 * @brief Decide the state of @p b from its account @p a (NULL: not
 * found) on @p dc_name, by the rules above; @p s->blob, state, reason,
 * basis, blob_time and account are set, strings on @p mem_ctx.  No I/O.
 */
void odj_life_classify(TALLOC_CTX *mem_ctx,
		       const struct odj_life_blob *b,
		       const struct odj_life_account *a,
		       const char *dc_name,
		       const char *dc_domain,
		       struct odj_life_status *s);

/**
 * @brief The state of every blob: their accounts read over @p dc's one
 * LDAP session, many names per search (OR filters), several searches in
 * flight.  Unreadable blobs, blobs of another domain and searches that
 * fail become ODJ_LIFE_ERROR results; the request fails only when memory
 * runs out.  Nothing is written.  The results are in @p blobs' order.
 */
struct tevent_req *odj_status_send(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct odj_dc *dc,
				   const struct odj_life_blob *blobs,
				   size_t num_blobs);

NTSTATUS odj_status_recv(struct tevent_req *req,
			 TALLOC_CTX *mem_ctx,
			 struct odj_life_status **results,
			 char **why);

/** @brief Synchronous odj_status_send()/odj_status_recv(). */
NTSTATUS odj_status(TALLOC_CTX *mem_ctx,
		    struct odj_dc *dc,
		    const struct odj_life_blob *blobs,
		    size_t num_blobs,
		    struct odj_life_status **results,
		    char **why);

/** The outcome of one check. */
enum odj_check {
	ODJ_CHECK_PASS = 0,
	ODJ_CHECK_FAIL,
	ODJ_CHECK_SKIPPED,		/* nothing to check (no SID in blob) */
	ODJ_CHECK_UNCHECKED,		/* could not be checked: not a pass */
};

/** @brief "pass", "fail", "skipped", "unchecked". */
const char *odj_check_name(enum odj_check c);

/** The checks of verify, in the order they run. */
enum odj_verify_item {
	ODJ_VERIFY_ACCOUNT = 0,		/* exists */
	ODJ_VERIFY_SID,			/* objectSid = the blob's */
	ODJ_VERIFY_GUID,		/* objectGUID = JOIN_PROVIDER4's */
	ODJ_VERIFY_WORKSTATION,		/* a workstation trust account */
	ODJ_VERIFY_ENABLED,
	ODJ_VERIFY_PASSWORD,		/* the KDC takes the blob's password */
	ODJ_VERIFY_NUM_ITEMS,
};

/** @brief "account", "sid", "guid", "workstation", "enabled", "password". */
const char *odj_verify_item_name(enum odj_verify_item i);

/** Whether one blob is still good. */
struct odj_verify_result {
	struct odj_life_status status;
	bool valid;			/* every check passed or was skipped */
	enum odj_check check[ODJ_VERIFY_NUM_ITEMS];
	const char *detail[ODJ_VERIFY_NUM_ITEMS];
};

/**
 * @brief Verify blobs: the odj_status_send() lookup, the account checks,
 * then for each blob whose account is its own and enabled a Kerberos AS
 * exchange as the machine with the blob's password, against the KDC of
 * the DC @p dc talks to (MIT krb5 with a profile of its own: the host's
 * krb5.conf plays no part).  No password change, no LDAP write, and no
 * logon recorded (see above).  Where the KDC cannot be reached the
 * password check is UNCHECKED ("cannot check the password"), which is
 * not valid.
 */
struct tevent_req *odj_verify_send(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct odj_dc *dc,
				   const struct odj_life_blob *blobs,
				   size_t num_blobs);

NTSTATUS odj_verify_recv(struct tevent_req *req,
			 TALLOC_CTX *mem_ctx,
			 struct odj_verify_result **results,
			 char **why);

NTSTATUS odj_verify(TALLOC_CTX *mem_ctx,
		    struct odj_dc *dc,
		    const struct odj_life_blob *blobs,
		    size_t num_blobs,
		    struct odj_verify_result **results,
		    char **why);

/** What expire did, or would do, with one blob's account. */
enum odj_expire_action {
	ODJ_EXPIRE_KEPT = 0,		/* not pending, or not old enough */
	ODJ_EXPIRE_WOULD_DELETE,	/* dry run */
	ODJ_EXPIRE_DELETED,
	ODJ_EXPIRE_FAILED,		/* meant to delete, could not */
	ODJ_EXPIRE_NOT_STARTED,		/* odj_expire_stop() came first */
};

/** @brief "kept", "would-delete", "deleted", "failed", "not-started". */
const char *odj_expire_action_name(enum odj_expire_action a);

struct odj_expire_result {
	struct odj_life_status status;
	enum odj_expire_action action;
	const char *reason;
};

struct odj_expire_options {
	unsigned int days;		/* pending for at least this long */
	bool apply;			/* false: a dry run */
	uint64_t now;			/* NTTIME; 0: the clock's */
	/* called after each deletion (or failure), from the event loop */
	void (*progress)(const struct odj_expire_result *r,
			 void *private_data);
	void *private_data;
};

/**
 * @brief Expire blobs: delete the accounts that are pending (as
 * odj_status_send() decides) since at least @p o->days days, and no
 * other.  With @p o->apply each one is first proven pending with a
 * Kerberos AS exchange with the blob's password (an account whose
 * password changed, or whose password cannot be checked, is kept), then
 * deleted at once.  Without, nothing is written: the accounts that would be
 * deleted are listed.  Running it again finds the deleted accounts
 * missing and does nothing more: an interrupted run is resumed by the
 * same command.
 */
struct tevent_req *odj_expire_send(TALLOC_CTX *mem_ctx,
				   struct tevent_context *ev,
				   struct odj_dc *dc,
				   const struct odj_life_blob *blobs,
				   size_t num_blobs,
				   const struct odj_expire_options *o);

/**
 * @brief Launch no more deletions; the one in flight completes.  The
 * rest end as ODJ_EXPIRE_NOT_STARTED.
 */
void odj_expire_stop(struct tevent_req *req);

/**
 * @return NT_STATUS_OK, or NT_STATUS_CANCELLED after odj_expire_stop()
 * left some not started; results in both cases.
 */
NTSTATUS odj_expire_recv(struct tevent_req *req,
			 TALLOC_CTX *mem_ctx,
			 struct odj_expire_result **results,
			 char **why);

/** @brief NTTIME now. */
uint64_t odj_life_now(void);

/** @brief "2026-12-05T20:26:39Z" for an NTTIME, NULL for 0. */
char *odj_life_time_string(TALLOC_CTX *mem_ctx, uint64_t nttime);

/** @} */

#endif /* _ODJ_LIFECYCLE_H_ */
