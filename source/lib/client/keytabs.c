/*
 * Where the keys of a join go: Samba's keytab as "kerberos method" says
 * (none for "secrets only"), SSSD's the system keytab, each as a path of
 * this system (inside the image root) and FILE: only.
 */

#include "client/client.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <param.h>
#include <krb5/krb5.h>

struct keytabs_state {
	krb5_context k5;
	struct loadparm_context *lp_ctx;
	const struct odj_root *root;
	const struct odj_request *r;
	struct odj_join_keytabs *kt;
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

/*
 * The system keytab: KRB5_KTNAME or krb5.conf's default; in an image
 * root, /etc/krb5.keytab (this system's settings are not the image's)
 */
static NTSTATUS system_keytab(struct keytabs_state *st, TALLOC_CTX *ctx,
			      const char **kt)
{
	char name[PATH_MAX];
	krb5_error_code ret;

	if (st->root != NULL) {
		*kt = "/etc/krb5.keytab";
		return NT_STATUS_OK;
	}
	ret = krb5_kt_default_name(st->k5, name, sizeof(name));
	if (ret != 0) {
		const char *msg = krb5_get_error_message(st->k5, ret);

		odj_why(ctx, st->why, "no default keytab: %s", msg);
		krb5_free_error_message(st->k5, msg);
		return NT_STATUS_INTERNAL_ERROR;
	}
	*kt = talloc_strdup(ctx, name);
	return *kt != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/*
 * A keytab name as a path here: FILE: only, absolute; a symbolic link
 * is replaced where it points to (inside the root)
 */
static NTSTATUS keytab_path(struct keytabs_state *st, TALLOC_CTX *ctx,
			    const char *kt, bool given, const char **here)
{
	char name[PATH_MAX];

	kt = strip_file_prefix(kt);
	if (kt[0] != '/' || strchr(kt, ':') != NULL) {
		odj_why(ctx, st->why, "keytab '%s': give an absolute path of "
			"a FILE keytab", kt);
		return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
	}
	if (given) {
		return odj_root_arg_path(ctx, st->root, kt, "keytab", here,
					 st->why);
	}
	if (st->root != NULL) {
		*here = odj_root_path(ctx, st->root, kt);
		if (*here == NULL) {
			int err = errno;

			odj_why(ctx, st->why, "%s: %s", kt, strerror(err));
			return map_nt_error_from_unix_common(err);
		}
		return NT_STATUS_OK;
	}
	*here = talloc_strdup(ctx, realpath(kt, name) != NULL ? name : kt);
	return *here != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

/* SSSD's keytab: keytab= or the system keytab */
static NTSTATUS choose_sssd_keytab(struct keytabs_state *st, TALLOC_CTX *ctx)
{
	const char *kt = st->r->keytab;
	NTSTATUS status = NT_STATUS_OK;

	if (kt == NULL) {
		status = system_keytab(st, ctx, &kt);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = keytab_path(st, ctx, kt, st->r->keytab != NULL,
				     &st->kt->sssd);
	}
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	/* sssd.conf names it as the image sees it */
	st->kt->sssd_image = st->kt->sssd;
	if (st->root != NULL) {
		size_t n = strlen(odj_root_dir(st->root));

		st->kt->sssd_image = st->kt->sssd + n;
	}
	return NT_STATUS_OK;
}

/* Where "kerberos method" says Samba looks for its keys */
static NTSTATUS choose_keytab(struct keytabs_state *st, TALLOC_CTX *ctx)
{
	const char *method = odj_lp_get(ctx, st->lp_ctx, "kerberos method");
	const char *kt = st->r->client == ODJ_CLIENT_BOTH ? NULL :
			 st->r->keytab;
	NTSTATUS status = NT_STATUS_OK;

	if (method == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	if (kt == NULL && strcmp(method, "dedicated keytab") == 0) {
		kt = odj_lp_get(ctx, st->lp_ctx, "dedicated keytab file");
		if (kt == NULL || kt[0] == '\0') {
			st->kt->note = "none written: 'kerberos method = "
				"dedicated keytab' but no 'dedicated keytab "
				"file'";
			return NT_STATUS_OK;
		}
	} else if (kt == NULL && (strcmp(method, "system keytab") == 0 ||
				  strcmp(method, "secrets and keytab") == 0)) {
		status = system_keytab(st, ctx, &kt);
	} else if (kt == NULL && st->r->client == ODJ_CLIENT_BOTH) {
		return NT_STATUS_OK;	/* SSSD's keytab is written */
	} else if (kt == NULL) {
		st->kt->note = "none written: with 'kerberos method = "
			"secrets only' Samba takes its keys from secrets.tdb; "
			"keytab=PATH writes one";
		return NT_STATUS_OK;
	}
	if (NT_STATUS_IS_OK(status)) {
		status = keytab_path(st, ctx, kt, kt == st->r->keytab,
				     &st->kt->samba);
	}
	if (NT_STATUS_IS_OK(status) && st->kt->sssd != NULL &&
	    strcmp(st->kt->samba, st->kt->sssd) == 0) {
		st->kt->samba = NULL;	/* one keytab for both */
	}
	return status;
}

NTSTATUS odj_join_keytabs(TALLOC_CTX *mem_ctx,
			  struct _krb5_context *k5,
			  struct loadparm_context *lp_ctx,
			  const struct odj_root *root,
			  const struct odj_request *r,
			  struct odj_join_keytabs *kt,
			  char **why)
{
	struct keytabs_state st = {
		.k5 = k5, .lp_ctx = lp_ctx, .root = root, .r = r, .kt = kt,
		.why = why,
	};
	NTSTATUS status = NT_STATUS_OK;

	*kt = (struct odj_join_keytabs) { .samba = NULL };
	if (r->client != ODJ_CLIENT_WINBIND) {
		status = choose_sssd_keytab(&st, mem_ctx);
	}
	if (NT_STATUS_IS_OK(status) && r->client != ODJ_CLIENT_SSSD) {
		status = choose_keytab(&st, mem_ctx);
	}
	return status;
}
