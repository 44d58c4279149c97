/*
 * Group policy for the POLICY part: GPOs by display name in AD and their
 * Machine\Registry.pol from SYSVOL over SMB (libsmbclient).  (The client
 * side, the settings written as JSON: odj_policy_install.c.)
 *
 * A GPO is a groupPolicyContainer under CN=Policies,CN=System,<domain>
 * ([MS-GPOL] 2.3): cn is its {GUID}, gPCFileSysPath its folder, e.g.
 * \\odj.test\SysVol\odj.test\Policies\{31B2F340-...}.  The folder is read
 * from the DC the LDAP connection goes to, as the Group Policy client
 * does: \\<domain> is a DFS name for the domain's DCs, and the DC we
 * talk to is one of them and the one whose SPNs we know.
 */

#include "dc/dc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <ldb.h>
#include <credentials.h>
#include <param.h>
#include <libsmbclient.h>

#define SMB_TIMEOUT_MS 30000
#define SMB_READ_CHUNK 65536

NTSTATUS odj_policy_find_gpo(TALLOC_CTX *mem_ctx,
			     struct odj_dc *dc,
			     const char *name,
			     struct odj_gpo **_gpo,
			     char **why)
{
	const char * const attrs[] = {
		"cn", "displayName", "gPCFileSysPath", NULL
	};
	TALLOC_CTX *tmp_ctx = NULL;
	struct ldb_result *res = NULL;
	struct odj_gpo *gpo = NULL;
	const char *domain_dn = NULL;
	char *filter = NULL;
	char *esc = NULL;
	NTSTATUS status;

	if (dc == NULL || name == NULL || name[0] == '\0' || _gpo == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	domain_dn = odj_dc_info(dc)->domain_dn;
	tmp_ctx = talloc_new(mem_ctx);
	esc = ldb_binary_encode_string(tmp_ctx, name);
	filter = talloc_asprintf(tmp_ctx, "(&(objectClass=groupPolicyContainer)"
				 "(|(displayName=%s)(cn=%s)))", esc, esc);
	if (tmp_ctx == NULL || filter == NULL) {
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_ldb_search_sync(tmp_ctx, odj_dc_ev(dc), odj_dc_ldb(dc),
				     ldb_dn_new_fmt(tmp_ctx, odj_dc_ldb(dc),
						    "CN=Policies,CN=System,%s",
						    domain_dn),
				     LDB_SCOPE_ONELEVEL, attrs, filter, &res,
				     why);
	if (NT_STATUS_IS_OK(status) && res->count != 1) {
		odj_why(tmp_ctx, why, res->count == 0 ?
			"no GPO named '%s' in CN=Policies,CN=System,%s" :
			"GPO name '%s' is ambiguous in CN=Policies,CN=System,"
			"%s; give its {GUID}", name, domain_dn);
		status = res->count == 0 ? NT_STATUS_NOT_FOUND :
					   NT_STATUS_INVALID_PARAMETER;
	}
	if (NT_STATUS_IS_OK(status)) {
		const struct ldb_message *msg = res->msgs[0];

		gpo = talloc_zero(tmp_ctx, struct odj_gpo);
		if (gpo == NULL) {
			status = NT_STATUS_NO_MEMORY;
		} else {
			gpo->guid = talloc_strdup(gpo,
				ldb_msg_find_attr_as_string(msg, "cn", ""));
			gpo->display_name = talloc_strdup(gpo,
				ldb_msg_find_attr_as_string(msg, "displayName",
							    ""));
			gpo->file_sys_path = talloc_strdup(gpo,
				ldb_msg_find_attr_as_string(msg,
							    "gPCFileSysPath",
							    NULL));
		}
	}
	if (NT_STATUS_IS_OK(status) && gpo->file_sys_path == NULL) {
		odj_why(tmp_ctx, why, "GPO '%s' (%s) has no gPCFileSysPath",
			name, gpo->guid);
		status = NT_STATUS_NOT_FOUND;
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why_move(mem_ctx, why);
		TALLOC_FREE(tmp_ctx);
		return status;
	}
	*_gpo = talloc_steal(mem_ctx, gpo);
	TALLOC_FREE(tmp_ctx);
	return NT_STATUS_OK;
}

/* Percent-encode what an smb:// URL path cannot hold as it is. */
static bool url_append(char **url, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char ch = *s;

		if (ch == '\\') {
			ch = '/';
		}
		if (isalnum(ch) || strchr("/-._~{}$", ch) != NULL) {
			*url = talloc_asprintf_append_buffer(*url, "%c", ch);
		} else {
			*url = talloc_asprintf_append_buffer(*url, "%%%02X",
							     ch);
		}
		if (*url == NULL) {
			return false;
		}
	}
	return true;
}

/*
 * smb://<dc>/<share>/<path>[/<rel>] for gPCFileSysPath
 * \\<server>\<share>\<path>: the server part is replaced by our DC.
 */
static char *sysvol_url(TALLOC_CTX *ctx, const char *dc_name,
			const char *unc, const char *rel)
{
	const char *p = unc;
	char *url = NULL;

	while (*p == '\\') {
		p++;
	}
	p = strchr(p, '\\');
	if (p == NULL || p[1] == '\0') {
		return NULL;
	}
	url = talloc_asprintf(ctx, "smb://%s", dc_name);
	if (url == NULL || !url_append(&url, p) ||
	    (rel != NULL && (!url_append(&url, "/") ||
			     !url_append(&url, rel)))) {
		TALLOC_FREE(url);
	}
	return url;
}

static NTSTATUS smb_status(int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return NT_STATUS_NOT_FOUND;
	case EACCES:
	case EPERM:
		return NT_STATUS_ACCESS_DENIED;
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ETIMEDOUT:
		return NT_STATUS_NO_LOGON_SERVERS;
	case ENOMEM:
		return NT_STATUS_NO_MEMORY;
	default:
		return NT_STATUS_UNSUCCESSFUL;
	}
}

static void smb_auth(SMBCCTX *c, const char *srv, const char *shr,
		     char *wg, int wglen, char *un, int unlen,
		     char *pw, int pwlen)
{
	struct cli_credentials *creds = smbc_getOptionUserData(c);
	const char *domain = cli_credentials_get_domain(creds);
	const char *user = cli_credentials_get_username(creds);
	const char *password = cli_credentials_get_password(creds);

	snprintf(wg, wglen, "%s", domain != NULL ? domain : "");
	snprintf(un, unlen, "%s", user != NULL ? user : "");
	snprintf(pw, pwlen, "%s", password != NULL ? password : "");
}

/*
 * libsmbclient's first context sends Samba's debug output to stdout until
 * smbc_setOptionDebugToStderr(), and stdout may carry a blob (printblob):
 * stdout points at stderr meanwhile.
 */
static SMBCCTX *new_smb_context(void)
{
	SMBCCTX *ctx = NULL;
	int saved;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	if (saved != -1) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
	}
	ctx = smbc_new_context();
	if (ctx != NULL) {
		smbc_setOptionDebugToStderr(ctx, true);
	}
	if (saved != -1) {
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	return ctx;
}

/* The credentials of the LDAP bind: a password, or Kerberos tickets. */
static SMBCCTX *smb_connect(struct odj_dc *dc)
{
	struct ldb_context *ldb = odj_dc_ldb(dc);
	struct cli_credentials *creds = ldb_get_opaque(ldb, "credentials");
	struct loadparm_context *lp_ctx = ldb_get_opaque(ldb, "loadparm");
	enum credentials_use_kerberos krb = CRED_USE_KERBEROS_DESIRED;
	bool have_password = false;
	SMBCCTX *ctx = NULL;

	if (creds == NULL) {
		return NULL;
	}
	krb = cli_credentials_get_kerberos_state(creds);
	have_password = cli_credentials_get_password(creds) != NULL;
	ctx = new_smb_context();
	if (ctx == NULL) {
		return NULL;
	}
	if (lp_ctx != NULL && lpcfg_configfile(lp_ctx) != NULL) {
		smbc_setConfiguration(ctx, lpcfg_configfile(lp_ctx));
	}
	smbc_setOptionUserData(ctx, creds);
	smbc_setFunctionAuthDataWithContext(ctx, smb_auth);
	smbc_setOptionNoAutoAnonymousLogin(ctx, true);
	smbc_setTimeout(ctx, SMB_TIMEOUT_MS);
	smbc_setOptionUseKerberos(ctx, krb != CRED_USE_KERBEROS_DISABLED ||
				  !have_password);
	smbc_setOptionFallbackAfterKerberos(ctx, have_password &&
					    krb != CRED_USE_KERBEROS_REQUIRED);
	smbc_setOptionUseCCache(ctx, !have_password);
	/* libsmbclient takes Kerberos tickets from the default ccache */
	if (!have_password && odj_dc_krb5_ccache(dc) != NULL) {
		setenv("KRB5CCNAME", odj_dc_krb5_ccache(dc), 1);
	}
	if (smbc_init_context(ctx) == NULL) {
		smbc_free_context(ctx, 1);
		return NULL;
	}
	return ctx;
}

static NTSTATUS smb_read(TALLOC_CTX *mem_ctx, SMBCCTX *ctx, const char *url,
			 DATA_BLOB *bytes, int *err)
{
	SMBCFILE *f = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	ssize_t n;

	f = smbc_getFunctionOpen(ctx)(ctx, url, O_RDONLY, 0);
	if (f == NULL) {
		*err = errno;
		return smb_status(*err);
	}
	do {
		if (len > ODJ_PREG_MAX_SIZE) {
			smbc_getFunctionClose(ctx)(ctx, f);
			TALLOC_FREE(buf);
			*err = EFBIG;
			return NT_STATUS_FILE_TOO_LARGE;
		}
		buf = talloc_realloc(mem_ctx, buf, uint8_t,
				     len + SMB_READ_CHUNK);
		if (buf == NULL) {
			smbc_getFunctionClose(ctx)(ctx, f);
			*err = ENOMEM;
			return NT_STATUS_NO_MEMORY;
		}
		n = smbc_getFunctionRead(ctx)(ctx, f, buf + len,
					       SMB_READ_CHUNK);
		if (n > 0) {
			len += n;
		}
	} while (n > 0);
	*err = n < 0 ? errno : 0;
	smbc_getFunctionClose(ctx)(ctx, f);
	if (n < 0) {
		TALLOC_FREE(buf);
		return smb_status(*err);
	}
	*bytes = data_blob_const(buf, len);
	return NT_STATUS_OK;
}

static NTSTATUS fetch(TALLOC_CTX *mem_ctx, SMBCCTX *ctx, const char *dc_name,
		      const struct odj_gpo *gpo, DATA_BLOB *bytes, char **why)
{
	const char *folder = sysvol_url(mem_ctx, dc_name, gpo->file_sys_path,
					NULL);
	const char *file = sysvol_url(mem_ctx, dc_name, gpo->file_sys_path,
				      "Machine/Registry.pol");
	struct stat st;
	NTSTATUS status;
	int err = 0;

	if (folder == NULL || file == NULL) {
		odj_why(mem_ctx, why, "GPO %s: gPCFileSysPath '%s' is not a "
			"UNC path", gpo->guid, gpo->file_sys_path);
		return NT_STATUS_OBJECT_PATH_SYNTAX_BAD;
	}
	if (smbc_getFunctionStat(ctx)(ctx, folder, &st) != 0) {
		err = errno;
		odj_why(mem_ctx, why, "GPO '%s' (%s): cannot read its SYSVOL "
			"folder %s: %s", gpo->display_name, gpo->guid, folder,
			strerror(err));
		return smb_status(err);
	}
	status = smb_read(mem_ctx, ctx, file, bytes, &err);
	if (NT_STATUS_EQUAL(status, NT_STATUS_NOT_FOUND)) {
		/* no machine registry settings in this GPO */
		*bytes = data_blob_null;
		return NT_STATUS_OK;
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why(mem_ctx, why, "GPO '%s' (%s): cannot read %s: %s",
			gpo->display_name, gpo->guid, file, strerror(err));
	}
	return status;
}

NTSTATUS odj_policy_fetch_gpo(TALLOC_CTX *mem_ctx,
			      struct odj_dc *dc,
			      const struct odj_gpo *gpo,
			      DATA_BLOB *bytes,
			      char **why)
{
	TALLOC_CTX *tmp_ctx = NULL;
	SMBCCTX *ctx = NULL;
	NTSTATUS status;

	if (dc == NULL || gpo == NULL || gpo->file_sys_path == NULL ||
	    bytes == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	ctx = smb_connect(dc);
	if (ctx == NULL) {
		odj_why(mem_ctx, why, "cannot set up an SMB client for "
			"SYSVOL: %s", strerror(errno));
		TALLOC_FREE(tmp_ctx);
		return NT_STATUS_INTERNAL_ERROR;
	}
	status = fetch(tmp_ctx, ctx, odj_dc_info(dc)->dc_name, gpo, bytes,
		       why);
	smbc_free_context(ctx, 1);
	if (NT_STATUS_IS_OK(status)) {
		talloc_steal(mem_ctx, bytes->data);
	}
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(tmp_ctx);
	return status;
}
