/*
 * odj_request(): a blob becomes a domain membership, offline.
 *
 * The steps, all before anything becomes visible:
 *   1. the blob's join data, its ESSENTIAL parts, and its consistency
 *      (codec/join.c, before odj_request() is called)
 *   2. smb.conf against the blob (config.c; if asked, a new one)
 *   3. the password's hashes and keys, Samba's join records
 *   4. secrets.tdb in a transaction, refusing to replace a foreign join
 *   5. a new keytab beside the old one (keytab.c)
 *   6. the CERT and POLICY parts' files (extensions.c), staged before
 *      3.: an ESSENTIAL part that cannot be applied stops all
 * and then: secrets.tdb prepared to commit, files swapped in, secrets.tdb
 * committed; a failure on the way undoes the swaps.
 */

#include "client/client.h"
#include "gen_ndr/ndr_secrets.h"

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
	krb5_context k5;
	struct odj_request_result *res;
	struct odj_config_change *changes;
	size_t num_changes;
	NTTIME now;
	const char *salt;
	const char *keytab;
	struct secrets_domain_info1_password *pw;
	struct odj_secrets_db *db;
	struct secrets_domain_info1 *previous;
	struct odj_secrets_record *unjoin;
	size_t num_unjoin;
	struct odj_staged_file *config;
	struct odj_staged_file *keytab_file;
	struct odj_extensions_staging *ext;
	const char *config_path;	/* smb.conf as checked, if a file */
	struct stat config_seen;
	char **why;
};

static const char *strip_file_prefix(const char *name)
{
	if (strncmp(name, "FILE:", 5) == 0) {
		return name + 5;
	}
	if (strncmp(name, "WRFILE:", 7) == 0) {
		return name + 7;
	}
	return name;
}

/* Where "kerberos method" says Samba looks for its keys */
static NTSTATUS choose_keytab(struct request_state *st, TALLOC_CTX *ctx)
{
	struct odj_request_result *res = st->res;
	const char *method = odj_lp_get(ctx, st->lp_ctx, "kerberos method");
	const char *kt = st->r->keytab;
	char name[PATH_MAX];

	if (method == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (kt == NULL && strcmp(method, "dedicated keytab") == 0) {
		kt = odj_lp_get(ctx, st->lp_ctx, "dedicated keytab file");
		if (kt == NULL || kt[0] == '\0') {
			res->keytab_note = "none written: 'kerberos method = "
				"dedicated keytab' but no 'dedicated keytab "
				"file'";
			return NT_STATUS_OK;
		}
	} else if (kt == NULL && (strcmp(method, "system keytab") == 0 ||
				  strcmp(method, "secrets and keytab") == 0)) {
		krb5_error_code ret = krb5_kt_default_name(st->k5, name,
							   sizeof(name));

		if (ret != 0) {
			const char *msg = krb5_get_error_message(st->k5, ret);

			odj_why(ctx, st->why, "no default keytab: %s", msg);
			krb5_free_error_message(st->k5, msg);
			return NT_STATUS_INTERNAL_ERROR;
		}
		kt = name;
	} else if (kt == NULL) {
		res->keytab_note = "none written: with 'kerberos method = "
			"secrets only' Samba takes its keys from secrets.tdb; "
			"keytab=PATH writes one";
		return NT_STATUS_OK;
	}
	kt = strip_file_prefix(kt);
	if (kt[0] != '/' || strchr(kt, ':') != NULL) {
		odj_why(ctx, st->why, "keytab '%s': give an absolute path of "
			"a FILE keytab", kt);
		return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
	}
	/* a symlinked keytab is replaced where it points to */
	if (realpath(kt, name) != NULL) {
		kt = name;
	}
	st->keytab = talloc_strdup(ctx, kt);
	return st->keytab != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
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

static NTSTATUS stage_keytab(struct request_state *st, TALLOC_CTX *ctx)
{
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
	return odj_keytab_stage(ctx, st->k5, st->keytab, principals, st->pw,
				kvno, &st->keytab_file, st->why);
}

/* prepare, swap the files in, commit; any failure puts all back */
static NTSTATUS commit_all(struct request_state *st)
{
	NTSTATUS status;

	status = odj_secrets_db_prepare(st->db, st->why);
	if (NT_STATUS_IS_OK(status) && st->config != NULL) {
		status = odj_staged_publish(st->config, st->why);
	}
	if (NT_STATUS_IS_OK(status) && st->keytab_file != NULL) {
		status = odj_staged_publish(st->keytab_file, st->why);
	}
	if (NT_STATUS_IS_OK(status) && st->ext != NULL) {
		status = odj_extensions_publish(st->ext, st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_secrets_db_commit(st->db, st->why);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (st->config != NULL) {
		odj_staged_finish(st->config);
	}
	if (st->keytab_file != NULL) {
		odj_staged_finish(st->keytab_file);
	}
	if (st->ext != NULL) {
		odj_extensions_finish(st->ext);
	}
	return NT_STATUS_OK;
}

static void rotation(struct request_state *st, TALLOC_CTX *ctx)
{
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
	if (st->keytab != NULL) {
		st->res->keytab_note = "winbindd's first-contact password "
			"change does not update this keytab ('kerberos "
			"method = secrets only')";
	}
}

/*
 * Put back what was swapped in, and secrets.tdb, in reverse order (the
 * destructors would, too, but could not say when they fail).
 */
static void rollback(struct request_state *st, TALLOC_CTX *mem_ctx)
{
	const char *failed = NULL;

	if (st->ext != NULL && !odj_extensions_undo(st->ext)) {
		failed = "a certificate or policy file";
	}
	if (st->keytab_file != NULL && !odj_staged_undo(st->keytab_file)) {
		failed = st->keytab;
	}
	if (st->config != NULL && !odj_staged_undo(st->config)) {
		failed = st->res->config_file;
	}
	if (st->db != NULL && !odj_secrets_db_abort(st->db)) {
		failed = st->res->secrets_tdb;
	}
	if (failed != NULL && st->why != NULL && *st->why != NULL) {
		odj_why(mem_ctx, st->why, "%s; and %s could not be put back "
			"as it was", *st->why, failed);
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

static NTSTATUS request_run(struct request_state *st, TALLOC_CTX *ctx)
{
	const struct odj_join *j = st->j;
	const char *server = j->dc_address != NULL ? j->dc_address :
			     j->dc_name != NULL ? j->dc_name : j->dns_domain;
	struct timeval tv = timeval_current();
	NTSTATUS status;

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
		status = choose_keytab(st, ctx);
	}
	/* first: an ESSENTIAL part that cannot be applied stops all */
	if (NT_STATUS_IS_OK(status)) {
		status = odj_extensions_stage(ctx, st->lp_ctx, st->r, st->res,
				       &st->ext, st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_secrets_db_open(ctx, st->res->secrets_tdb,
					     &st->db, st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = config_unchanged(st, ctx);
	}
	if (NT_STATUS_IS_OK(status)) {
		/* what a killed join left beside the files we replace */
		char *config = st->config_path != NULL ?
			       realpath(st->config_path, NULL) : NULL;

		if (config != NULL) {
			odj_remove_stale_tmp(config);
			free(config);
		}
		if (st->keytab != NULL) {
			odj_remove_stale_tmp(st->keytab);
		}
	}
	if (NT_STATUS_IS_OK(status)) {
		status = check_existing(st, ctx);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = write_secrets(st, ctx);
	}
	if (NT_STATUS_IS_OK(status) && st->num_changes > 0) {
		status = odj_config_stage(ctx, st->res->config_file, j,
				      st->changes, st->num_changes,
				      &st->config, st->why);
	}
	if (NT_STATUS_IS_OK(status) && st->keytab != NULL) {
		status = stage_keytab(st, ctx);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = commit_all(st);
	}
	return status;
}

static NTSTATUS request_setup(struct request_state *st, TALLOC_CTX *ctx)
{
	const char *backend = NULL;
	const char *config = lpcfg_configfile(st->lp_ctx);
	NTSTATUS status;

	if (config != NULL && stat(config, &st->config_seen) == 0) {
		st->config_path = config;
	}

	st->res->secrets_tdb = lpcfg_private_path(st->res, st->lp_ctx,
						  "secrets.tdb");
	if (st->res->secrets_tdb == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_config_check(ctx, st->lp_ctx, st->j, &st->changes,
				  &st->num_changes, st->why);
	if (!NT_STATUS_IS_OK(status) || st->num_changes == 0) {
		return status;
	}
	if (!st->r->update_config) {
		odj_why(ctx, st->why, "smb.conf does not match the blob "
			"('%s' should be '%s')", st->changes[0].name,
			st->changes[0].value);
		return NT_STATUS_INVALID_PARAMETER_MIX;
	}
	backend = odj_lp_get(ctx, st->lp_ctx, "config backend");
	if (backend == NULL || strcmp(backend, "file") != 0 ||
	    lpcfg_configfile(st->lp_ctx) == NULL) {
		odj_why(ctx, st->why, "smb.conf is not a file here ('config "
			"backend = %s'): set the values with 'net conf "
			"setparm global ...'", backend != NULL ? backend : "");
		return NT_STATUS_INVALID_PARAMETER_MIX;
	}
	st->res->config_file = talloc_strdup(st->res,
					     lpcfg_configfile(st->lp_ctx));
	st->res->changes = talloc_move(st->res, &st->changes);
	st->res->num_changes = st->num_changes;
	st->changes = st->res->changes;
	return st->res->config_file != NULL ? NT_STATUS_OK
					    : NT_STATUS_NO_MEMORY;
}

/* After the commit: the blob's site for Samba's DC locator (sitename.c) */
static void store_site(struct request_state *st, TALLOC_CTX *ctx)
{
	char *path = NULL, *why = NULL, *w = NULL;
	const char *dir = NULL;
	NTSTATUS status;

	if (!st->j->site_given) {
		return;
	}
	dir = odj_lp_get(ctx, st->lp_ctx, "lock directory");
	status = odj_sitename_store(st->res, dir, st->j->dns_domain,
				    st->j->netbios_domain, st->j->site, &path,
				    &why);
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

	if (lp_ctx == NULL || r == NULL || r->join == NULL) {
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
		st.res->keytab = talloc_strdup(st.res, st.keytab);
		odj_extensions_update_ca(st.ext, r, st.res);
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
