/*
 * An SSSD member's files (requestodj client=sssd|both), as "realm join"
 * (realmd with adcli) leaves them, so that sssd-ad, adcli and realmd take
 * the machine for one of theirs:
 *
 *   /etc/sssd/sssd.conf  [sssd] domains += ours; [domain/<dns domain>]
 *                        as realmd's configure_sssd_for_domain() writes
 *                        it, ad_hostname and ad_site from the blob (an
 *                        image's host name is not known yet); 0600, or
 *                        sssd refuses it; other domains stay
 *   /etc/krb5.conf       [libdefaults] default_realm, dns_lookup_realm =
 *                        false, rdns = false, as realmd sets them; the
 *                        rest stays
 *   a first-contact unit adcli update --computer-password-lifetime=0:
 *                        the blob's password is replaced as soon as a
 *                        DC is reached, as Windows and winbindd do.
 *
 * The first contact needs its own unit: nothing in sssd.conf makes
 * sssd's renewal task change a password younger than
 * ad_maximum_machine_account_password_age (adcli compares the DC's
 * pwdLastSet).  sssd.service pulls the unit in (a drop-in, a plain file,
 * so no symbolic link to enable it); it retries until a DC answers,
 * then removes its marker and never runs again.  With client=both,
 * adcli --add-samba-data keeps secrets.tdb in step, and sssd.conf's
 * ad_update_samba_machine_account_password does for later renewals.
 */

#include "client/client.h"

#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <sys/stat.h>
#include <charset.h>

#define SSSD_CONF "/etc/sssd/sssd.conf"
#define SSSD_CONF_DIR "/etc/sssd"
#define KRB5_CONF "/etc/krb5.conf"
#define SYSTEM_KEYTAB "/etc/krb5.keytab"
#define UNIT_NAME "samba-odj-first-contact.service"
#define UNIT_PATH "/etc/systemd/system/" UNIT_NAME
#define DROPIN_DIR "/etc/systemd/system/sssd.service.d"
#define DROPIN_PATH DROPIN_DIR "/samba-odj-first-contact.conf"
#define MARKER_PATH ODJ_JOURNAL_SSSD_DIR "/first-contact"
#define ADCLI "/usr/sbin/adcli"
#define CONF_MAX_SIZE (1024 * 1024)

struct sssd_state {
	TALLOC_CTX *ctx;
	const struct odj_root *root;
	const struct odj_request *r;
	struct odj_staged_set *set;
	char *domain;			/* lower-case DNS domain */
	char *realm;
	char *fqdn;
	char **why;
};

/* The image's file, parsed; an empty one if there is none */
static NTSTATUS read_conf(struct sssd_state *st, const char *path,
			  enum odj_ini_dialect dialect, struct odj_ini **ini,
			  mode_t *mode)
{
	DATA_BLOB text = data_blob_null;
	struct stat sb;
	NTSTATUS status;

	if (lstat(path, &sb) != 0 && errno == ENOENT) {
		return odj_ini_parse(st->ctx, "", dialect, path, ini, st->why);
	}
	status = odj_file_read(st->ctx, path, CONF_MAX_SIZE, "a configuration "
			       "file", ODJ_READ_REGULAR, &text, st->why);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	if (memchr(text.data, '\0', text.length) != NULL) {
		odj_why(st->ctx, st->why, "%s: not a text file", path);
		return NT_STATUS_DATA_ERROR;
	}
	if (stat(path, &sb) == 0 && mode != NULL) {
		*mode = sb.st_mode & 07777;
	}
	return odj_ini_parse(st->ctx, (const char *)text.data, dialect, path,
			     ini, st->why);
}

static NTSTATUS set_all(struct odj_ini *ini, const char *section,
			const char *const *kv)
{
	NTSTATUS status = NT_STATUS_OK;

	for (; NT_STATUS_IS_OK(status) && kv[0] != NULL; kv += 2) {
		if (kv[1] != NULL) {
			status = odj_ini_set(ini, section, kv[0], kv[1]);
		}
	}
	return status;
}

/* Set only what the admin has not set: a preference, not the join's */
static NTSTATUS add_missing(struct odj_ini *ini, const char *section,
			    const char *const *kv)
{
	NTSTATUS status = NT_STATUS_OK;

	for (; NT_STATUS_IS_OK(status) && kv[0] != NULL; kv += 2) {
		if (odj_ini_get(ini, section, kv[0]) == NULL) {
			status = odj_ini_set(ini, section, kv[0], kv[1]);
		}
	}
	return status;
}

/* "a, b": @p list with @p item, if not in it already */
static char *list_with(TALLOC_CTX *ctx, const char *list, const char *item)
{
	char *copy = talloc_strdup(ctx, list != NULL ? list : "");
	char *save = NULL, *tok = NULL;

	if (copy == NULL) {
		return NULL;
	}
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
	     tok = strtok_r(NULL, ", \t", &save)) {
		if (strcasecmp(tok, item) == 0) {
			return talloc_strdup(ctx, list);
		}
	}
	if (list == NULL || list[strspn(list, " \t,")] == '\0') {
		return talloc_strdup(ctx, item);
	}
	return talloc_asprintf(ctx, "%s, %s", list, item);
}

static NTSTATUS edit_sssd_conf(struct sssd_state *st, struct odj_ini *ini,
			       const char *keytab)
{
	const char *section = talloc_asprintf(st->ctx, "domain/%s",
					      st->domain);
	const char *domains = list_with(st->ctx, odj_ini_get(ini, "sssd",
							     "domains"),
					st->domain);
	bool both = st->r->client == ODJ_CLIENT_BOTH;
	/* the join's: always as the blob says */
	const char *const owned[] = {
		"id_provider", "ad",
		"access_provider", "ad",
		"ad_domain", st->domain,
		"krb5_realm", st->realm,
		"realmd_tags", "manages-system joined-with-adcli",
		"ad_hostname", st->fqdn,
		"ad_site", st->r->join->site,
		"ad_server", st->r->ad_server,
		"krb5_keytab", keytab,
		"ad_update_samba_machine_account_password",
		both ? "True" : NULL,
		NULL,
	};
	/* realmd's defaults for a new domain section */
	const char *const defaults[] = {
		"cache_credentials", "True",
		"krb5_store_password_if_offline", "True",
		"default_shell", "/bin/bash",
		"ldap_id_mapping", "True",
		"use_fully_qualified_names", "True",
		"fallback_homedir", "/home/%u@%d",
		NULL,
	};
	const char *const sssd_defaults[] = {
		"config_file_version", "2",
		"services", "nss, pam",
		NULL,
	};
	const char *host = NULL;
	NTSTATUS status;

	if (section == NULL || domains == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	/* as realm join: another machine's join is not replaced unasked */
	host = odj_ini_get(ini, section, "ad_hostname");
	if (host != NULL && strcasecmp(host, st->fqdn) != 0 &&
	    !st->r->force) {
		odj_why(st->ctx, st->why, "sssd.conf already holds a join of "
			"%s to %s (--force replaces it)", host, st->domain);
		return NT_STATUS_OBJECT_NAME_COLLISION;
	}
	status = odj_ini_set(ini, "sssd", "domains", domains);
	if (NT_STATUS_IS_OK(status)) {
		status = add_missing(ini, "sssd", sssd_defaults);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = set_all(ini, section, owned);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = add_missing(ini, section, defaults);
	}
	return status;
}

static NTSTATUS stage_ini(struct sssd_state *st, const char *path,
			  struct odj_ini *ini, mode_t mode)
{
	char *text = odj_ini_text(st->ctx, ini);

	if (text == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	return odj_staged_set_text(st->set, path, mode, text, st->why);
}

/* @p image_path inside the root, or the error */
static NTSTATUS here(struct sssd_state *st, const char *image_path,
		     char **path)
{
	*path = odj_root_path(st->ctx, st->root, image_path);
	if (*path == NULL) {
		int err = errno;

		odj_why(st->ctx, st->why, "%s: %s", image_path,
			strerror(err));
		return map_nt_error_from_unix_common(err);
	}
	return NT_STATUS_OK;
}

static NTSTATUS stage_sssd_conf(struct sssd_state *st, const char *keytab,
				struct odj_request_result *res)
{
	struct odj_ini *ini = NULL;
	char *dir = NULL, *path = NULL;
	NTSTATUS status;

	status = here(st, SSSD_CONF_DIR, &dir);
	if (NT_STATUS_IS_OK(status)) {
		status = here(st, SSSD_CONF, &path);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = read_conf(st, path, ODJ_INI_SSSD, &ini, NULL);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = edit_sssd_conf(st, ini, keytab);
	}
	/* sssd-common makes /etc/sssd 0711 */
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_set_mkdir(st->set, dir, 0711, st->why);
	}
	/* sssd refuses an sssd.conf that is not 0600 (or 0400) */
	if (NT_STATUS_IS_OK(status)) {
		status = stage_ini(st, path, ini, 0600);
	}
	if (NT_STATUS_IS_OK(status)) {
		res->sssd_conf = talloc_strdup(res, path);
	}
	return status;
}

static NTSTATUS stage_krb5_conf(struct sssd_state *st,
				struct odj_request_result *res)
{
	const char *const libdefaults[] = {
		"default_realm", st->realm,
		"dns_lookup_realm", "false",
		"rdns", "false",
		NULL,
	};
	struct odj_ini *ini = NULL;
	char *path = NULL;
	mode_t mode = 0644;
	NTSTATUS status;

	status = here(st, KRB5_CONF, &path);
	if (NT_STATUS_IS_OK(status)) {
		status = read_conf(st, path, ODJ_INI_KRB5, &ini, &mode);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = set_all(ini, "libdefaults", libdefaults);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = stage_ini(st, path, ini, mode);
	}
	if (NT_STATUS_IS_OK(status)) {
		res->krb5_conf = talloc_strdup(res, path);
	}
	return status;
}

static char *unit_text(struct sssd_state *st)
{
	return talloc_asprintf(st->ctx,
		"# Written by samba-odj (odj requestodj): replaces the "
		"machine password of\n"
		"# the offline join at the first contact with a DC, as "
		"Windows does, then\n"
		"# removes its marker and never runs again.\n"
		"[Unit]\n"
		"Description=Replace the offline join's machine password at "
		"the first contact with a DC\n"
		"ConditionPathExists=%s\n"
		"Wants=network-online.target\n"
		"After=network-online.target sssd.service\n"
		"StartLimitIntervalSec=0\n"
		"\n"
		"[Service]\n"
		"Type=oneshot\n"
		"ExecStart=" ADCLI " update --domain=%s --host-fqdn=%s "
		"--computer-password-lifetime=0%s\n"
		"ExecStartPost=/bin/rm -f %s\n"
		"Restart=on-failure\n"
		"RestartSec=60\n",
		MARKER_PATH, st->domain, st->fqdn,
		st->r->client == ODJ_CLIENT_BOTH ? " --add-samba-data" : "",
		MARKER_PATH);
}

static NTSTATUS stage_first_contact(struct sssd_state *st,
				    struct odj_request_result *res)
{
	const char *dropin = "# Written by samba-odj: the first contact "
		"after an offline join\n[Unit]\nWants=" UNIT_NAME "\n";
	char *unit = NULL, *dir = NULL, *path = NULL, *marker = NULL;
	char *marker_dir = NULL, *text = unit_text(st);
	NTSTATUS status;

	if (text == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = here(st, UNIT_PATH, &unit);
	if (NT_STATUS_IS_OK(status)) {
		status = here(st, DROPIN_DIR, &dir);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = here(st, DROPIN_PATH, &path);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = here(st, ODJ_JOURNAL_SSSD_DIR, &marker_dir);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = here(st, MARKER_PATH, &marker);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_set_mkdir(st->set, dir, 0755, st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_set_mkdir(st->set, marker_dir, 0755,
					      st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_set_text(st->set, unit, 0644, text,
					     st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = odj_staged_set_text(st->set, path, 0644, dropin,
					     st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		/* what it is for, for whoever finds it */
		text = talloc_asprintf(st->ctx, "%s\n%s\n", st->domain,
				       st->r->join->account_name);
		status = text == NULL ? NT_STATUS_NO_MEMORY :
			 odj_staged_set_text(st->set, marker, 0644, text,
					     st->why);
	}
	if (NT_STATUS_IS_OK(status)) {
		res->first_contact_unit = talloc_strdup(res, unit);
	}
	return status;
}

NTSTATUS odj_sssd_stage(TALLOC_CTX *mem_ctx,
			const struct odj_root *root,
			const struct odj_request *r,
			const char *keytab,
			struct odj_staged_set *set,
			struct odj_request_result *res,
			char **why)
{
	struct sssd_state st = {
		.root = root,
		.r = r,
		.set = set,
		.why = why,
	};
	NTSTATUS status;

	st.ctx = talloc_new(mem_ctx);
	if (st.ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	st.domain = strlower_talloc(st.ctx, r->join->dns_domain);
	st.realm = strupper_talloc(st.ctx, r->join->dns_domain);
	st.fqdn = strlower_talloc(st.ctx, r->join->dns_host_name);
	if (st.domain == NULL || st.realm == NULL || st.fqdn == NULL) {
		TALLOC_FREE(st.ctx);
		return NT_STATUS_NO_MEMORY;
	}
	if (keytab != NULL && strcmp(keytab, SYSTEM_KEYTAB) == 0) {
		keytab = NULL;	/* sssd's default: not spelled out */
	}
	status = stage_sssd_conf(&st, keytab, res);
	if (NT_STATUS_IS_OK(status)) {
		status = stage_krb5_conf(&st, res);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = stage_first_contact(&st, res);
	}
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(st.ctx);
	return status;
}
