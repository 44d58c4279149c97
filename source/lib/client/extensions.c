/*
 * odj_request(): the Windows Server 2012 extension parts on Linux.
 *
 * CERT parts: root CAs as PEM files into the trust directory (Debian's
 * ca-certificates layout), the machine certificate and key as PEM into
 * the certificate directory.  POLICY parts: the settings as JSON.  Every
 * file is staged beside its target and goes into the join's journal with
 * its other files (journal.c): in place with the join, or not at all.
 *
 * Samba has no place for HKLM policy values: registry.tdb holds only
 * what smbd serves over winreg and the smbconf key, and nothing reads
 * Software\Policies from it (samba-gpupdate fetches GPOs itself and keeps
 * its state in gp.tdb).  So the values go to the JSON file only.
 */

#include "client/client.h"

#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <param.h>

/* The machine certificate and key in the certificate directory */
#define ODJ_EXT_CERT_NAME "machine.pem"
#define ODJ_EXT_KEY_NAME "machine.key"
#define ODJ_EXT_CERT_DIR "odj"			/* in the private dir */
#define ODJ_EXT_POLICY_NAME "odj-policy.json"	/* in the state dir */
#define ODJ_EXT_UPDATE_CA "update-ca-certificates"

extern char **environ;

/* Stage @p files; on failure the ones of this call are dropped again */
static NTSTATUS stage_files(TALLOC_CTX *ctx, struct odj_staged_set *set,
			    const struct odj_out_file *files, size_t n,
			    const char ***trust, const char ***certs,
			    char **why)
{
	NTSTATUS status = NT_STATUS_OK;
	struct odj_staged_mark mark;
	size_t i;

	odj_staged_set_mark(set, &mark);
	for (i = 0; NT_STATUS_IS_OK(status) && i < n; i++) {
		const struct odj_out_file *f = &files[i];

		if (f->trust && odj_staged_set_has(set, f->path)) {
			continue;	/* the same CA twice: one file */
		}
		if (odj_staged_set_has(set, f->path)) {
			odj_why(ctx, why, "%s: an earlier part writes it "
				"already", f->path);
			status = NT_STATUS_OBJECT_NAME_COLLISION;
			break;
		}
		status = odj_staged_set_text(set, f->path, f->mode, f->text,
					     why);
		if (NT_STATUS_IS_OK(status) &&
		    !odj_str_list_add(ctx, f->trust ? trust : certs,
				      f->path)) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	odj_why_move(ctx, why);
	if (!NT_STATUS_IS_OK(status)) {
		odj_staged_set_back(set, &mark);
	}
	return status;
}

struct ext_paths {
	const char *trust_dir;
	const char *cert_dir;
	const char *policy_file;
};

static NTSTATUS stage_cert(TALLOC_CTX *ctx, struct odj_staged_set *set,
			   const struct odj_request *r,
			   const struct ext_paths *p,
			   const struct OP_CERT_PART *cert,
			   struct odj_request_result *res, char **why)
{
	struct odj_certs_install_paths paths = {
		.trust_dir = p->trust_dir,
		.cert_file = talloc_asprintf(ctx, "%s/%s", p->cert_dir,
					     ODJ_EXT_CERT_NAME),
		.key_file = talloc_asprintf(ctx, "%s/%s", p->cert_dir,
					    ODJ_EXT_KEY_NAME),
	};
	struct odj_out_file *files = NULL;
	struct odj_staged_mark mark;
	const char **trust = NULL, **certs = NULL;
	size_t n = 0, i;
	NTSTATUS status;

	if (paths.cert_file == NULL || paths.key_file == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_staged_set_mark(set, &mark);
	status = odj_certs_files(ctx, cert, &paths, r->join->machine_password,
				 &files, &n, why);
	if (NT_STATUS_IS_OK(status) && cert->cPfxStores > 0) {
		/* made (0755) if missing */
		status = odj_staged_set_mkdir(set, p->cert_dir, 0755, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = stage_files(ctx, set, files, n, &trust, &certs, why);
	}
	for (i = 0; NT_STATUS_IS_OK(status) && trust != NULL &&
		    trust[i] != NULL; i++) {
		if (!odj_str_list_add(res, &res->trust_files, trust[i])) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	for (i = 0; NT_STATUS_IS_OK(status) && certs != NULL &&
		    certs[i] != NULL; i++) {
		if (!odj_str_list_add(res, &res->cert_files, certs[i])) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_staged_set_back(set, &mark);
	}
	TALLOC_FREE(files);
	return status;
}

static NTSTATUS stage_policy(TALLOC_CTX *ctx, struct odj_staged_set *set,
			     const struct ext_paths *p,
			     const struct OP_POLICY_PART *policy,
			     struct odj_request_result *res, char **why)
{
	struct odj_out_file f = { .path = p->policy_file, .mode = 0644 };
	char *text = NULL;
	NTSTATUS status;

	status = odj_policy_json_text(ctx, policy, &text);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	f.text = text;
	if (odj_staged_set_has(set, f.path)) {
		odj_why(ctx, why, "%s: an earlier part writes it already",
			f.path);
		TALLOC_FREE(text);
		return NT_STATUS_OBJECT_NAME_COLLISION;
	}
	status = odj_staged_set_text(set, f.path, f.mode, f.text, why);
	TALLOC_FREE(text);
	if (NT_STATUS_IS_OK(status)) {
		res->policy_file = talloc_strdup(res, f.path);
		if (res->policy_file == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	return status;
}

/* @p given (a path of this system), else @p image_default; in the root */
static NTSTATUS ext_path(TALLOC_CTX *ctx, const struct odj_root *root,
			 const char *given, const char *what,
			 const char *image_default, const char **path,
			 char **why)
{
	if (given != NULL) {
		return odj_root_arg_path(ctx, root, given, what, path, why);
	}
	if (image_default == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	*path = odj_root_path(ctx, root, image_default);
	if (*path == NULL) {
		odj_why(ctx, why, "%s: %s", image_default, strerror(errno));
		return map_nt_error_from_unix_common(errno);
	}
	return NT_STATUS_OK;
}

static NTSTATUS default_paths(TALLOC_CTX *ctx,
			      struct loadparm_context *lp_ctx,
			      const struct odj_root *root,
			      const struct odj_request *r,
			      struct ext_paths *p,
			      char **why)
{
	const char *state = odj_lp_get(ctx, lp_ctx, "state directory");
	NTSTATUS status;

	status = ext_path(ctx, root, r->trust_dir, "trustdir",
			  ODJ_CERTS_TRUST_DIR, &p->trust_dir, why);
	if (NT_STATUS_IS_OK(status)) {
		status = ext_path(ctx, root, r->cert_dir, "certdir",
				  lpcfg_private_path(ctx, lp_ctx,
						     ODJ_EXT_CERT_DIR),
				  &p->cert_dir, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = ext_path(ctx, root, r->policy_file, "policyfile",
				  state == NULL ? NULL :
				  talloc_asprintf(ctx, "%s/%s", state,
						  ODJ_EXT_POLICY_NAME),
				  &p->policy_file, why);
	}
	return status;
}

/* One part: skipped, staged, or left out with a warning; or refused */
static NTSTATUS stage_one(TALLOC_CTX *ctx, struct odj_staged_set *set,
			  const struct odj_request *r,
			  const struct ext_paths *p,
			  const struct odj_join_extension *e,
			  struct odj_request_result *res, char **why)
{
	bool cert = e->kind == ODJ_PART_CERT;
	bool skip = cert ? r->skip_certs : r->skip_policy;
	char *msg = NULL;
	NTSTATUS status;

	if (skip && e->essential) {
		odj_why(ctx, why, "%s is ESSENTIAL, and %s would skip it: "
			"nothing was written", e->where,
			cert ? "nocerts" : "nopolicy");
		return NT_STATUS_INVALID_PARAMETER_MIX;
	}
	if (skip) {
		msg = talloc_asprintf(ctx, "%s not applied (%s)", e->where,
				      cert ? "nocerts" : "nopolicy");
		return odj_str_list_add(res, &res->warnings, msg) ?
			NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	status = cert ? stage_cert(ctx, set, r, p, e->cert, res, &msg) :
			stage_policy(ctx, set, p, e->policy, res, &msg);
	if (NT_STATUS_IS_OK(status) ||
	    NT_STATUS_EQUAL(status, NT_STATUS_NO_MEMORY)) {
		return status;
	}
	if (e->essential) {
		odj_why(ctx, why, "%s is ESSENTIAL and cannot be applied: %s",
			e->where, msg != NULL ? msg : nt_errstr(status));
		return status;
	}
	msg = talloc_asprintf(ctx, "%s not applied: %s", e->where,
			      msg != NULL ? msg : nt_errstr(status));
	return odj_str_list_add(res, &res->warnings, msg) ?
		NT_STATUS_OK : NT_STATUS_NO_MEMORY;
}

NTSTATUS odj_extensions_stage(TALLOC_CTX *mem_ctx,
			      struct loadparm_context *lp_ctx,
			      const struct odj_root *root,
			      const struct odj_request *r,
			      struct odj_staged_set *set,
			      struct odj_request_result *res,
			      char **why)
{
	const struct odj_join *j = r->join;
	TALLOC_CTX *tmp_ctx = NULL;
	struct ext_paths p = { .trust_dir = NULL };
	NTSTATUS status;
	size_t i;

	if (j->num_extensions == 0) {
		return NT_STATUS_OK;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = default_paths(tmp_ctx, lp_ctx, root, r, &p, why);
	for (i = 0; NT_STATUS_IS_OK(status) && i < j->num_extensions; i++) {
		status = stage_one(tmp_ctx, set, r, &p, &j->extensions[i], res,
				   why);
	}
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(tmp_ctx);
	return status;
}

/* Run update-ca-certificates, its chatter on stderr; NULL or why not */
static char *run_update_ca(TALLOC_CTX *ctx)
{
	char *argv[] = { discard_const_p(char, ODJ_EXT_UPDATE_CA), NULL };
	posix_spawn_file_actions_t fa;
	pid_t pid = -1;
	int ret, wstatus = 0;

	if (posix_spawn_file_actions_init(&fa) != 0) {
		return talloc_strdup(ctx, "out of memory");
	}
	/* stdout is odj's report */
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	ret = posix_spawnp(&pid, ODJ_EXT_UPDATE_CA, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0) {
		return talloc_asprintf(ctx, "cannot run %s: %s",
				       ODJ_EXT_UPDATE_CA, strerror(ret));
	}
	while (waitpid(pid, &wstatus, 0) == -1) {
		if (errno != EINTR) {
			return talloc_asprintf(ctx, "%s: %s",
					       ODJ_EXT_UPDATE_CA,
					       strerror(errno));
		}
	}
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		return talloc_asprintf(ctx, "%s failed (wait status %d)",
				       ODJ_EXT_UPDATE_CA, wstatus);
	}
	return NULL;
}

void odj_extensions_update_ca(const struct odj_root *root,
			      const struct odj_request *r,
			      struct odj_request_result *res)
{
	char *msg = NULL;

	if (!r->update_ca_certificates) {
		return;
	}
	if (res->trust_files == NULL) {
		odj_str_list_add(res, &res->warnings, "no root CA installed: "
				 ODJ_EXT_UPDATE_CA " not run");
		return;
	}
	if (root != NULL) {
		/* its links would name this system's paths, not the image's */
		odj_str_list_add(res, &res->warnings, ODJ_EXT_UPDATE_CA " not "
				 "run in an image root: the image runs it at "
				 "its first boot (see odj-firstboot.service)");
		return;
	}
	msg = run_update_ca(res);
	if (msg != NULL) {
		odj_str_list_add(res, &res->warnings, msg);
		TALLOC_FREE(msg);
		return;
	}
	res->ca_certificates_updated = true;
}
