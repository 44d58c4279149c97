/*
 * odj_request(): a blob becomes a domain membership, offline.
 *
 * The steps, all before anything becomes visible:
 *   1. the blob's join data, its ESSENTIAL parts, and its consistency
 *      (codec/join.c, before odj_request() is called)
 *   2. the join's lock, and what a killed join left finished (journal.c)
 *   3. smb.conf against the blob (config.c; if asked, a new one)
 *   4. the password's hashes and keys, Samba's join records
 *   5. secrets.tdb in a transaction, refusing to replace a foreign join
 *   6. the new keytab(s) (keytab.c), SSSD's files (sssd.c), the CERT and
 *      POLICY parts' files (extensions.c, staged first: an ESSENTIAL part
 *      that cannot be applied stops all), each staged beside its target
 *   7. the POLICY parts through Samba's Group Policy extensions, their
 *      writes staged too (policy_apply.c)
 * and then: secrets.tdb prepared to commit, the journal written (every
 * staged file, and the secrets.tdb record that commits the join),
 * secrets.tdb committed, the files renamed into place, the journal
 * removed.  A kill anywhere leaves the old join, or a journal that the
 * next odj run completes into the new one.
 *
 * The client kinds differ only in what they stage: winbind (secrets.tdb,
 * smb.conf, Samba's keytab), sssd (the system keytab, sssd.conf,
 * krb5.conf, the first-contact unit; the journal is the commit point),
 * both.  An image root maps every path (root.c).
 */

#include "client/client.h"
#include "gen_ndr/ndr_secrets.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <charset.h>
#include <param.h>
#include <util/time.h>
#include <krb5/krb5.h>
#include <gnutls/crypto.h>

struct request_state {
	struct loadparm_context *lp_ctx;
	const struct odj_request *r;
	const struct odj_join *j;
	const struct odj_root *root;
	krb5_context k5;
	struct odj_request_result *res;
	struct odj_config_change *changes;
	size_t num_changes;
	NTTIME now;
	const char *salt;
	struct odj_join_keytabs kt;	/* where the keys go */
	struct secrets_domain_info1_password *pw;
	struct odj_secrets_db *db;
	struct secrets_domain_info1 *previous;
	struct odj_secrets_record *unjoin;
	size_t num_unjoin;
	struct odj_secrets_record commit;	/* the record of the join */
	struct odj_staged_set *set;
	struct odj_journal *journal;
	const char *journal_path;
	size_t journal_dirs;		/* the set's directories, for it */
	const char *config_path;	/* smb.conf as checked, if a file */
	struct stat config_seen;
	bool committed;
	char **why;
};

static bool samba_side(const struct request_state *st)
{
	return st->r->client != ODJ_CLIENT_SSSD;
}

static bool sssd_side(const struct request_state *st)
{
	return st->r->client != ODJ_CLIENT_WINBIND;
}

/* smb.conf's @p path (as the image sees it), here */
static NTSTATUS lp_path(struct request_state *st, TALLOC_CTX *ctx,
			const char *path, const char **here)
{
	if (path == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*here = odj_root_path(ctx, st->root, path);
	if (*here == NULL) {
		int err = errno;

		odj_why(ctx, st->why, "%s: %s", path, strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}

static const char *join_text(TALLOC_CTX *ctx, const char *domain,
			     const struct secrets_domain_info1 *info)
{
	if (info == NULL) {
		return talloc_asprintf(ctx, "a join to %s", domain);
	}
	return talloc_asprintf(ctx, "the join of %s to %s (%s)",
			       info->account_name, domain,
			       info->domain_info.DnsDomainName.Buffer);
}

/* Why a join already stored may not simply be replaced, or NULL */
static const char *conflict(TALLOC_CTX *ctx, struct request_state *st,
			    const struct odj_secrets_join *e)
{
	const struct odj_join *j = st->j;
	const struct secrets_domain_info1 *i = e->info;

	if (strcasecmp(e->domain, j->netbios_domain) != 0) {
		return "another domain";
	}
	if (i == NULL) {
		return "an unreadable or pre-4.7 record";
	}
	if (i->domain_info.Sid == NULL ||
	    !odj_sid_equal(i->domain_info.Sid, j->domain_sid) ||
	    i->domain_info.DnsDomainName.Buffer == NULL ||
	    strcasecmp(i->domain_info.DnsDomainName.Buffer,
		       j->dns_domain) != 0) {
		return "another domain of the same NetBIOS name";
	}
	if (strcasecmp(i->account_name, j->account_name) != 0) {
		return "another machine account";
	}
	if (i->password_changes > 1 &&
	    memcmp(i->password->nt_hash, st->pw->nt_hash, 16) != 0) {
		return talloc_asprintf(ctx, "a password changed since that "
				       "join; this blob's is likely out of "
				       "date");
	}
	return NULL;
}

/* The deletions that remove the join @p e (to another domain) */
static NTSTATUS add_unjoin(struct request_state *st, TALLOC_CTX *ctx,
			   const struct odj_secrets_join *e)
{
	const char *realm = e->info != NULL ?
		e->info->domain_info.DnsDomainName.Buffer : NULL;
	struct odj_secrets_record *r = NULL;
	size_t n = 0;
	NTSTATUS status;

	status = odj_secrets_unjoin_records(ctx, e->domain, realm, &r, &n);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	st->unjoin = talloc_realloc(ctx, st->unjoin,
				    struct odj_secrets_record,
				    st->num_unjoin + n);
	if (st->unjoin == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	memcpy(st->unjoin + st->num_unjoin, r, n * sizeof(*r));
	st->num_unjoin += n;
	talloc_steal(st->unjoin, r);	/* the keys stay where they are */
	return NT_STATUS_OK;
}

static NTSTATUS check_existing(struct request_state *st, TALLOC_CTX *ctx)
{
	struct odj_secrets_join *joins = NULL;
	size_t i, n = 0;
	NTSTATUS status;

	status = odj_secrets_db_joins(st->db, ctx, &joins, &n, st->why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	for (i = 0; i < n; i++) {
		const struct odj_secrets_join *e = &joins[i];
		const char *c = conflict(ctx, st, e);
		const char *what = join_text(ctx, e->domain, e->info);
		bool same = strcasecmp(e->domain, st->j->netbios_domain) == 0;

		if (c != NULL && !st->r->force) {
			odj_why(ctx, st->why, "secrets.tdb already holds %s: "
				"%s (--force replaces it)", what, c);
			return NT_STATUS_OBJECT_NAME_COLLISION;
		}
		if (c != NULL) {
			st->res->replaced = talloc_strdup(st->res, what);
		}
		if (!same) {
			status = add_unjoin(st, ctx, e);
			if (!NT_STATUS_IS_OK(status)) {
				return status;
			}
		} else if (c == NULL) {
			/* as Samba: older keys stay valid for tickets */
			st->previous = e->info;
		}
	}
	return NT_STATUS_OK;
}

/* Samba's machine SID, SECRETS/SID/<NETBIOS NAME>, made on first use */
static NTSTATUS local_sid_record(TALLOC_CTX *ctx, struct request_state *st,
				 struct odj_secrets_record *rec)
{
	uint32_t subs[4] = { 21 };
	struct ODJ_SID sid = {
		.Revision = 1,
		.SubAuthorityCount = 4,
		.IdentifierAuthority = { 0, 0, 0, 0, 0, 5 },
		.SubAuthority = subs,
	};

	rec->key = odj_secrets_key(ctx, "SID", st->j->netbios_name);
	if (rec->key == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (strcasecmp(st->j->netbios_name, st->j->netbios_domain) == 0 ||
	    odj_secrets_db_exists(st->db, rec->key)) {
		rec->key = NULL;
		return NT_STATUS_OK;
	}
	/* generate_random_sid(); libgenrand is private, GnuTLS is not */
	if (gnutls_rnd(GNUTLS_RND_RANDOM, &subs[1], 12) != 0) {
		return NT_STATUS_INTERNAL_ERROR;
	}
	return odj_secrets_sid_value(ctx, &sid, &rec->value);
}

/*
 * The join's own record, SECRETS/MACHINE_DOMAIN_INFO/<DOMAIN>: its value
 * (with this join's time and password) in secrets.tdb is what makes the
 * join committed for the journal
 */
static NTSTATUS commit_record(struct request_state *st,
			      const struct odj_secrets_record *records,
			      size_t n)
{
	static const char prefix[] = "SECRETS/MACHINE_DOMAIN_INFO/";
	size_t i;

	for (i = 0; i < n; i++) {
		if (strncmp(records[i].key, prefix, sizeof(prefix) - 1) == 0 &&
		    records[i].value.data != NULL) {
			st->commit = records[i];
			return NT_STATUS_OK;
		}
	}
	return NT_STATUS_INTERNAL_ERROR;
}

static NTSTATUS write_secrets(struct request_state *st, TALLOC_CTX *ctx)
{
	struct secrets_domain_info1 *info = NULL;
	struct odj_secrets_record *records = NULL;
	struct odj_secrets_record local = { .key = NULL };
	NTTIME last_change = 0;
	size_t n = 0;
	NTSTATUS status;

	unix_to_nt_time(&last_change, ODJ_FIRST_CONTACT_LAST_CHANGE);
	status = odj_secrets_join_info(ctx, st->j, st->pw, st->salt, st->now,
				       last_change, st->previous, &info);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_secrets_join_records(ctx, info, &records, &n);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = commit_record(st, records, n);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = local_sid_record(ctx, st, &local);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_secrets_db_apply(st->db, st->unjoin,
					      st->num_unjoin, st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_secrets_db_apply(st->db, records, n, st->why);
	}
	if (NT_STATUS_IS_OK(status) && local.key != NULL) {
		status = odj_secrets_db_apply(st->db, &local, 1, st->why);
	}
	return status;
}

static NTSTATUS stage_keytab(struct request_state *st, TALLOC_CTX *ctx,
			     const char *path)
{
	struct odj_staged_file *staged = NULL;
	NTSTATUS status;
	const struct odj_join *j = st->j;
	char *nb = strupper_talloc(ctx, j->netbios_name);
	char *realm = strupper_talloc(ctx, j->dns_domain);
	const char *principals[6] = { NULL };
	uint32_t kvno = st->r->kvno != 0 ? st->r->kvno : 1;

	if (nb == NULL || realm == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* the names "net ads keytab create" writes, SPNs as AD spells them */
	principals[0] = talloc_asprintf(ctx, "%s$@%s", nb, realm);
	principals[1] = talloc_asprintf(ctx, "host/%s@%s", nb, realm);
	principals[2] = talloc_asprintf(ctx, "host/%s@%s", j->dns_host_name,
					realm);
	principals[3] = talloc_asprintf(ctx, "RestrictedKrbHost/%s@%s", nb,
					realm);
	principals[4] = talloc_asprintf(ctx, "RestrictedKrbHost/%s@%s",
					j->dns_host_name, realm);
	if (principals[0] == NULL || principals[1] == NULL ||
	    principals[2] == NULL || principals[3] == NULL ||
	    principals[4] == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	st->res->num_keytab_entries = 5 * (size_t)st->pw->num_keys;
	status = odj_journal_intent(st->journal, "stage", path, st->why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_keytab_stage(ctx, st->k5, path, principals,
					  st->pw, kvno, &staged, st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_set_adopt(st->set, staged);
	}
	return status;
}

/*
 * The commit: secrets.tdb prepared (all that can fail, done), the journal
 * written, secrets.tdb committed (the join is made), the files in place.
 */
static NTSTATUS commit_all(struct request_state *st)
{
	NTSTATUS status = NT_STATUS_OK;

	if (st->db != NULL) {
		status = odj_secrets_db_prepare(st->db, st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_journal_add_set(st->journal, st->set, st->why);
	}
	if (NT_STATUS_IS_OK(status) && st->db != NULL) {
		status = odj_journal_record(st->journal, st->res->secrets_tdb,
					    st->commit.key, st->commit.value);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_journal_write(st->journal, st->why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* the staged files are the journal's now */
	odj_staged_set_finish(st->set);
	if (st->db != NULL) {
		status = odj_secrets_db_commit(st->db, st->why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		char *msg = NULL;

		if (!NT_STATUS_IS_OK(odj_journal_abandon(st->journal, &msg))) {
			odj_why(st->res, st->why, "%s; and %s", *st->why, msg);
		}
		return status;
	}
	st->committed = true;
	return odj_journal_finish(st->journal, st->why);
}

static void rotation(struct request_state *st, TALLOC_CTX *ctx)
{
	if (sssd_side(st)) {
		/* the first-contact unit does it (sssd.c) */
		st->res->rotates_at_first_contact = true;
		return;
	}
	const char *method = odj_lp_get(ctx, st->lp_ctx, "kerberos method");
	const char *timeout = odj_lp_get(ctx, st->lp_ctx,
				     "machine password timeout");

	if (method == NULL || timeout == NULL) {
		return;
	}
	if (strcmp(method, "default") != 0) {
		/* winbindd_dual.c: no change with USE_KERBEROS_KEYTAB */
		st->res->rotation_note = talloc_asprintf(
			st->res, "with 'kerberos method = %s' winbindd never "
			"changes the machine password; after the first "
			"contact with a DC run 'net ads changetrustpw'%s",
			method, strcmp(method, "dedicated keytab") == 0 ?
			" and 'net ads keytab create'" : "");
		return;
	}
	if (strcmp(timeout, "0") == 0) {
		st->res->rotation_note = "with 'machine password timeout = 0' "
			"winbindd never changes the machine password; after "
			"the first contact with a DC run 'net ads "
			"changetrustpw'";
		return;
	}
	st->res->rotates_at_first_contact = true;
	if (st->kt.samba != NULL) {
		st->res->keytab_note = "winbindd's first-contact password "
			"change does not update this keytab ('kerberos "
			"method = secrets only')";
	}
}

/*
 * Before the commit: nothing of the join is visible; secrets.tdb back.
 * The staged files go before the intent that names them, the directory
 * made for the journal after it (it held the journal).
 */
static void rollback(struct request_state *st, TALLOC_CTX *mem_ctx)
{
	if (st->set != NULL) {
		struct odj_staged_mark keep = { .dirs = st->journal_dirs };

		odj_staged_set_back(st->set, &keep);
	}
	if (st->journal != NULL && !st->committed) {
		odj_journal_abandon(st->journal, NULL);	/* the intent */
	}
	TALLOC_FREE(st->set);	/* the journal's directories, if made */
	if (st->db != NULL && !st->committed &&
	    !odj_secrets_db_abort(st->db) && st->why != NULL &&
	    *st->why != NULL) {
		odj_why(mem_ctx, st->why, "%s; and %s could not be put back "
			"as it was", *st->why, st->res->secrets_tdb);
	}
}

/*
 * smb.conf was checked against the blob before the secrets.tdb lock was
 * taken.  Another join that got the lock first may have rewritten it
 * since (a rename: a new inode); going on would pair our secrets.tdb
 * with its settings.
 */
static NTSTATUS config_unchanged(struct request_state *st, TALLOC_CTX *ctx)
{
	struct stat now;

	if (st->config_path == NULL) {
		return NT_STATUS_OK;
	}
	if (stat(st->config_path, &now) == 0 &&
	    now.st_dev == st->config_seen.st_dev &&
	    now.st_ino == st->config_seen.st_ino &&
	    now.st_size == st->config_seen.st_size &&
	    now.st_mtim.tv_sec == st->config_seen.st_mtim.tv_sec &&
	    now.st_mtim.tv_nsec == st->config_seen.st_mtim.tv_nsec) {
		return NT_STATUS_OK;
	}
	odj_why(ctx, st->why, "%s changed while this join waited for %s "
		"(another join at the same time?); nothing was written, run "
		"it again", st->config_path, st->res->secrets_tdb);
	return NT_STATUS_OBJECT_NAME_COLLISION;
}

/* The join's lock, and what a killed join left, finished first */
static NTSTATUS lock_and_recover(struct request_state *st, TALLOC_CTX *ctx)
{
	const char *done = NULL;
	size_t i;
	char *dir = talloc_strdup(ctx, st->journal_path);
	char *slash = dir != NULL ? strrchr(dir, '/') : NULL;
	NTSTATUS status;

	if (slash == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*slash = '\0';
	/* the state directory, made (0755) as smbd would make it */
	status = odj_staged_set_mkdir(st->set, dir, 0755, st->why);
	st->journal_dirs = odj_staged_set_num_dirs(st->set);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_journal_lock(ctx, st->journal_path, &st->journal,
					  st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_journal_recover(st->journal, &done, st->why);
	}
	if (NT_STATUS_IS_OK(status) && done != NULL) {
		st->res->recovered = talloc_asprintf(
			st->res, "an interrupted join (%s): %s",
			st->journal_path, done);
	}
	/* from here on, what this join stages is announced first */
	if (NT_STATUS_IS_OK(status)) {
		status = odj_journal_begin(st->journal, st->why);
	}
	/* and the journal's directory (and parents), if this join made it */
	for (i = 0; NT_STATUS_IS_OK(status) &&
		    i < odj_staged_set_num_dirs(st->set); i++) {
		status = odj_journal_intent(st->journal, "dir",
					    odj_staged_set_dirs(st->set)[i],
					    st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		odj_staged_set_announce(st->set, odj_journal_intent,
					st->journal);
	}
	return status;
}

/* The keys, and where they go */
static NTSTATUS prepare_keys(struct request_state *st, TALLOC_CTX *ctx)
{
	const struct odj_join *j = st->j;
	const char *server = j->dc_address != NULL ? j->dc_address :
			     j->dc_name != NULL ? j->dc_name : j->dns_domain;
	struct timeval tv = timeval_current();
	NTSTATUS status = NT_STATUS_OK;

	st->now = timeval_to_nttime(&tv);
	st->salt = odj_secrets_salt_principal(ctx, j->account_name,
					      j->dns_domain);
	if (st->salt == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* change_server: Samba's offline join takes the DC's address */
	status = odj_secrets_password(ctx, st->k5, j->machine_password,
				      st->salt, st->now, server, &st->pw,
				      st->why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_join_keytabs(ctx, st->k5, st->lp_ctx, st->root,
					  st->r, &st->kt, st->why);
		st->res->keytab_note = st->kt.note;
	}
	return status;
}

/* secrets.tdb: Samba's join records, in a transaction */
static NTSTATUS samba_records(struct request_state *st, TALLOC_CTX *ctx)
{
	NTSTATUS status;

	/* a new secrets.tdb is built beside it, too */
	status = odj_journal_intent(st->journal, "stage",
				    st->res->secrets_tdb, st->why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_secrets_db_open(ctx, st->res->secrets_tdb,
					     &st->db, st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = config_unchanged(st, ctx);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = check_existing(st, ctx);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = write_secrets(st, ctx);
	}
	return status;
}

/* smb.conf (if it must change) */
static NTSTATUS stage_config(struct request_state *st, TALLOC_CTX *ctx)
{
	struct odj_staged_file *staged = NULL;
	NTSTATUS status;

	status = odj_journal_intent(st->journal, "stage",
				    st->res->config_file, st->why);
	if (NT_STATUS_IS_OK(status)) {
		status = odj_config_stage(ctx, st->res->config_file, st->j,
					  st->changes, st->num_changes,
					  &staged, st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_set_adopt(st->set, staged);
	}
	return status;
}

static NTSTATUS request_run(struct request_state *st, TALLOC_CTX *ctx)
{
	NTSTATUS status;

	status = lock_and_recover(st, ctx);
	if (NT_STATUS_IS_OK(status)) {
		status = prepare_keys(st, ctx);
	}
	/* first: an ESSENTIAL part that cannot be applied stops all */
	if (NT_STATUS_IS_OK(status)) {
		status = odj_extensions_stage(ctx, st->lp_ctx, st->root, st->r,
					      st->set, st->res, st->why);
	}
	if (NT_STATUS_IS_OK(status) && sssd_side(st)) {
		status = odj_sssd_stage(ctx, st->root, st->r,
					st->kt.sssd_image, st->set,
					st->res, st->why);
	}
	if (NT_STATUS_IS_OK(status) && samba_side(st)) {
		status = samba_records(st, ctx);
	}
	if (NT_STATUS_IS_OK(status) && st->num_changes > 0) {
		status = stage_config(st, ctx);
	}
	if (NT_STATUS_IS_OK(status) && st->kt.sssd != NULL) {
		status = stage_keytab(st, ctx, st->kt.sssd);
	}
	if (NT_STATUS_IS_OK(status) && st->kt.samba != NULL) {
		status = stage_keytab(st, ctx, st->kt.samba);
	}
	/* Samba's Group Policy extensions, on the joined smb.conf */
	if (NT_STATUS_IS_OK(status)) {
		status = odj_policy_apply(ctx, st->lp_ctx, st->root, st->r,
					  st->set, st->journal, st->res,
					  st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = commit_all(st);
	}
	return status;
}

/* Where the journal of this join lives (see odj_recover()) */
static NTSTATUS journal_path(struct request_state *st, TALLOC_CTX *ctx)
{
	const char *dir = ODJ_JOURNAL_SSSD_DIR;
	NTSTATUS status;

	if (samba_side(st)) {
		dir = odj_lp_get(ctx, st->lp_ctx, "state directory");
	}
	status = lp_path(st, ctx, dir, &dir);
	if (NT_STATUS_IS_OK(status)) {
		st->journal_path = talloc_asprintf(ctx, "%s/%s", dir,
						   ODJ_JOURNAL_NAME);
		if (st->journal_path == NULL) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	return status;
}

/* smb.conf: a file we can rewrite, inside the root if there is one */
static NTSTATUS config_file(struct request_state *st, TALLOC_CTX *ctx)
{
	const char *backend = odj_lp_get(ctx, st->lp_ctx, "config backend");
	const char *file = lpcfg_configfile(st->lp_ctx);
	const char *here = NULL;
	NTSTATUS status;

	if (backend == NULL || strcmp(backend, "file") != 0 || file == NULL) {
		odj_why(ctx, st->why, "smb.conf is not a file here ('config "
			"backend = %s'): set the values with 'net conf "
			"setparm global ...'", backend != NULL ? backend : "");
		return NT_STATUS_INVALID_PARAMETER_MIX;
	}
	status = odj_root_arg_path(ctx, st->root, file, "smb.conf", &here,
				   st->why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	st->res->config_file = talloc_strdup(st->res, here);
	return st->res->config_file != NULL ? NT_STATUS_OK
					    : NT_STATUS_NO_MEMORY;
}

static NTSTATUS samba_setup(struct request_state *st, TALLOC_CTX *ctx)
{
	const char *config = lpcfg_configfile(st->lp_ctx);
	const char *here = NULL;
	NTSTATUS status;

	if (config != NULL && stat(config, &st->config_seen) == 0) {
		st->config_path = config;
	}
	if (st->root != NULL && config != NULL) {
		/* the image's smb.conf, not this system's */
		status = odj_root_arg_path(ctx, st->root, config, "smb.conf",
					   &here, st->why);
		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}
	status = lp_path(st, ctx, lpcfg_private_path(ctx, st->lp_ctx,
						     "secrets.tdb"), &here);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	st->res->secrets_tdb = talloc_strdup(st->res, here);
	if (st->res->secrets_tdb == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_request_config_check(ctx, st->lp_ctx, st->r,
					  &st->changes, &st->num_changes,
					  st->why);
	if (!NT_STATUS_IS_OK(status) || st->num_changes == 0) {
		return status;
	}
	if (!st->r->update_config) {
		odj_why(ctx, st->why, "smb.conf does not match the blob "
			"('%s' should be '%s')", st->changes[0].name,
			st->changes[0].value);
		return NT_STATUS_INVALID_PARAMETER_MIX;
	}
	status = config_file(st, ctx);
	if (NT_STATUS_IS_OK(status)) {
		st->res->changes = talloc_move(st->res, &st->changes);
		st->res->num_changes = st->num_changes;
		st->changes = st->res->changes;
	}
	return status;
}

static NTSTATUS request_setup(struct request_state *st, TALLOC_CTX *ctx)
{
	struct odj_root *root = NULL;
	NTSTATUS status = NT_STATUS_OK;

	if (st->r->root != NULL) {
		status = odj_root_open(ctx, st->r->root, &root, st->why);
		st->root = root;
	}
	if (NT_STATUS_IS_OK(status) && root != NULL) {
		st->res->root = talloc_strdup(st->res, odj_root_dir(root));
	}
	if (NT_STATUS_IS_OK(status) && samba_side(st)) {
		status = samba_setup(st, ctx);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = journal_path(st, ctx);
	}
	if (NT_STATUS_IS_OK(status)) {
		st->set = odj_staged_set_new(ctx);
		if (st->set == NULL) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	return status;
}

/* After the commit: the blob's site for Samba's DC locator (sitename.c) */
static void store_site(struct request_state *st, TALLOC_CTX *ctx)
{
	char *path = NULL, *why = NULL, *w = NULL;
	const char *dir = NULL;
	NTSTATUS status;

	/* SSSD takes the site from sssd.conf's ad_site (sssd.c) */
	if (!st->j->site_given || !samba_side(st)) {
		return;
	}
	/* the image's lock directory, under root= */
	dir = odj_root_path(ctx, st->root,
			    odj_lp_get(ctx, st->lp_ctx, "lock directory"));
	if (dir == NULL) {
		status = map_nt_error_from_unix_common(errno);
		why = talloc_asprintf(ctx, "the lock directory: %s",
				      strerror(errno));
	} else {
		status = odj_sitename_store(st->res, dir, st->j->dns_domain,
					    st->j->netbios_domain,
					    st->j->site, &path, &why);
	}
	if (NT_STATUS_IS_OK(status)) {
		st->res->site_cache = path;
		return;
	}
	w = talloc_asprintf(ctx, "the site %s was not stored for Samba's DC "
			    "locator (%s): with no DC of the domain in reach, "
			    "winbindd finds the site's DCs only if smb.conf "
			    "names them (password server)", st->j->site,
			    why != NULL ? why : nt_errstr(status));
	if (w != NULL) {
		/* without memory for it, the join stands all the same */
		(void)odj_str_list_add(st->res, &st->res->warnings, w);
	}
}

NTSTATUS odj_request(TALLOC_CTX *mem_ctx,
		     struct loadparm_context *lp_ctx,
		     const struct odj_request *r,
		     struct odj_request_result **result,
		     char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	struct request_state st = {
		.lp_ctx = lp_ctx,
		.r = r,
		.why = why,
	};
	krb5_error_code ret;
	NTSTATUS status;

	if (lp_ctx == NULL || r == NULL || r->join == NULL ||
	    r->client > ODJ_CLIENT_BOTH) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	st.j = r->join;
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	st.res = talloc_zero(tmp_ctx, struct odj_request_result);
	if (st.res == NULL) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	ret = krb5_init_context(&st.k5);
	if (ret != 0) {
		odj_why(mem_ctx, why, "cannot initialise Kerberos: %s",
			error_message(ret));
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_INTERNAL_ERROR;
	}
	status = request_setup(&st, tmp_ctx);
	if (NT_STATUS_IS_OK(status)) {
		status = request_run(&st, tmp_ctx);
	}
	if (NT_STATUS_IS_OK(status)) {
		rotation(&st, tmp_ctx);
		st.res->keytab = talloc_strdup(st.res, st.kt.sssd != NULL ?
					       st.kt.sssd : st.kt.samba);
		odj_extensions_update_ca(st.root, r, st.res);
		store_site(&st, tmp_ctx);
	}
	odj_why_move(mem_ctx, why);
	if (!NT_STATUS_IS_OK(status)) {
		rollback(&st, mem_ctx);
		TALLOC_FREE(tmp_ctx);
		krb5_free_context(st.k5);
		return status;
	}
	*result = talloc_move(mem_ctx, &st.res);
	TALLOC_FREE(tmp_ctx);
	krb5_free_context(st.k5);
	return NT_STATUS_OK;
}
