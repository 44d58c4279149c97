/*
 * odj_request(): the Windows Server 2012 extension parts on Linux.
 *
 * CERT parts: root CAs as PEM files into the trust directory (Debian's
 * ca-certificates layout), the machine certificate and key as PEM into
 * the certificate directory.  POLICY parts: the settings as JSON.  Every
 * file is staged beside its target and published with the join's other
 * files, just before secrets.tdb commits; a failed join takes them back.
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

struct ext_file {
	struct odj_staged_file *staged;
	const char *path;
	bool trust;
};

struct odj_extensions_staging {
	struct ext_file *files;
	size_t num_files;
	char *made_dir;			/* the cert dir, made by us */
	bool finished;
};

/* Staged files first (talloc frees children after this), then the dir */
static int ext_destructor(struct odj_extensions_staging *x)
{
	size_t i;

	for (i = 0; i < x->num_files; i++) {
		TALLOC_FREE(x->files[i].staged);
	}
	if (!x->finished && x->made_dir != NULL) {
		rmdir(x->made_dir);
	}
	return 0;
}

static bool path_taken(const struct odj_extensions_staging *x, const char *path)
{
	size_t i;

	for (i = 0; i < x->num_files; i++) {
		if (strcmp(x->files[i].path, path) == 0) {
			return true;
		}
	}
	return false;
}

/* Stage @p files; on failure the ones of this call are dropped again */
static NTSTATUS stage_files(TALLOC_CTX *ctx, struct odj_extensions_staging *x,
			    const struct odj_out_file *files, size_t n,
			    char **why)
{
	size_t first = x->num_files, i;
	NTSTATUS status = NT_STATUS_OK;

	for (i = 0; NT_STATUS_IS_OK(status) && i < n; i++) {
		struct ext_file *f = NULL;

		if (files[i].trust && path_taken(x, files[i].path)) {
			continue;	/* the same CA twice: one file */
		}
		if (path_taken(x, files[i].path)) {
			odj_why(ctx, why, "%s: an earlier part writes it "
				"already", files[i].path);
			status = NT_STATUS_OBJECT_NAME_COLLISION;
			break;
		}
		x->files = talloc_realloc(x, x->files, struct ext_file,
					  x->num_files + 1);
		if (x->files == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		f = &x->files[x->num_files];
		*f = (struct ext_file) {
			.path = talloc_strdup(x->files, files[i].path),
			.trust = files[i].trust,
		};
		if (f->path == NULL) {
			return NT_STATUS_NO_MEMORY;
		}
		x->num_files++;
		status = odj_staged_create(x, f->path, files[i].mode,
					   &f->staged, why);
		if (NT_STATUS_IS_OK(status)) {
			status = odj_staged_write_text(f->staged, files[i].text,
						       why);
		}
		if (NT_STATUS_IS_OK(status)) {
			status = odj_staged_close(f->staged, why);
		}
	}
	odj_why_move(ctx, why);
	if (!NT_STATUS_IS_OK(status)) {
		while (x->num_files > first) {
			x->num_files--;
			TALLOC_FREE(x->files[x->num_files].staged);
		}
	}
	return status;
}

/* The certificate directory, made (one level, 0755) if missing */
static NTSTATUS cert_dir(TALLOC_CTX *ctx, struct odj_extensions_staging *x,
			 const char *dir, char **why)
{
	int err;

	if (mkdir(dir, 0755) == 0) {
		x->made_dir = talloc_strdup(x, dir);
		return x->made_dir != NULL ? NT_STATUS_OK : NT_STATUS_NO_MEMORY;
	}
	err = errno;
	if (err == EEXIST) {
		return NT_STATUS_OK;
	}
	odj_why(ctx, why, "cannot make the certificate directory %s: %s",
		dir, strerror(err));
	return map_nt_error_from_unix_common(err);
}

struct ext_paths {
	const char *trust_dir;
	const char *cert_dir;
	const char *policy_file;
};

static NTSTATUS stage_cert(TALLOC_CTX *ctx, struct odj_extensions_staging *x,
			   const struct odj_request *r,
			   const struct ext_paths *p,
			   const struct OP_CERT_PART *cert, char **why)
{
	struct odj_certs_install_paths paths = {
		.trust_dir = p->trust_dir,
		.cert_file = talloc_asprintf(ctx, "%s/%s", p->cert_dir,
					     ODJ_EXT_CERT_NAME),
		.key_file = talloc_asprintf(ctx, "%s/%s", p->cert_dir,
					    ODJ_EXT_KEY_NAME),
	};
	struct odj_out_file *files = NULL;
	bool made = x->made_dir != NULL;
	size_t n = 0;
	NTSTATUS status;

	if (paths.cert_file == NULL || paths.key_file == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_certs_files(ctx, cert, &paths, r->join->machine_password,
				 &files, &n, why);
	if (NT_STATUS_IS_OK(status) && cert->cPfxStores > 0) {
		status = cert_dir(ctx, x, p->cert_dir, why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = stage_files(ctx, x, files, n, why);
	}
	if (!NT_STATUS_IS_OK(status) && !made && x->made_dir != NULL) {
		rmdir(x->made_dir);
		TALLOC_FREE(x->made_dir);
	}
	TALLOC_FREE(files);
	return status;
}

static NTSTATUS stage_policy(TALLOC_CTX *ctx, struct odj_extensions_staging *x,
			     const struct ext_paths *p,
			     const struct OP_POLICY_PART *policy, char **why)
{
	struct odj_out_file f = { .path = p->policy_file, .mode = 0644 };
	char *text = NULL;
	NTSTATUS status;

	status = odj_policy_json_text(ctx, policy, &text);
	if (!NT_STATUS_IS_OK(status)) {
		return status;
	}
	f.text = text;
	status = stage_files(ctx, x, &f, 1, why);
	TALLOC_FREE(text);
	return status;
}

static NTSTATUS default_paths(TALLOC_CTX *ctx,
			      struct loadparm_context *lp_ctx,
			      const struct odj_request *r,
			      struct ext_paths *p)
{
	const char *state = NULL;

	p->trust_dir = r->trust_dir != NULL ? r->trust_dir :
		       ODJ_CERTS_TRUST_DIR;
	p->cert_dir = r->cert_dir != NULL ? r->cert_dir :
		      lpcfg_private_path(ctx, lp_ctx, ODJ_EXT_CERT_DIR);
	p->policy_file = r->policy_file;
	if (p->policy_file == NULL) {
		state = odj_lp_get(ctx, lp_ctx, "state directory");
		p->policy_file = state == NULL ? NULL :
			talloc_asprintf(ctx, "%s/%s", state,
					ODJ_EXT_POLICY_NAME);
	}
	if (p->cert_dir == NULL || p->policy_file == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	return NT_STATUS_OK;
}

/* What was staged for the result: files by kind */
static NTSTATUS record_files(struct odj_extensions_staging *x,
			     struct odj_request_result *res,
			     const char *policy_file)
{
	size_t i;

	for (i = 0; i < x->num_files; i++) {
		const struct ext_file *f = &x->files[i];
		bool ok = true;

		if (f->trust) {
			ok = odj_str_list_add(res, &res->trust_files, f->path);
		} else if (strcmp(f->path, policy_file) == 0) {
			res->policy_file = talloc_strdup(res, f->path);
			ok = res->policy_file != NULL;
		} else {
			ok = odj_str_list_add(res, &res->cert_files, f->path);
		}
		if (!ok) {
			return NT_STATUS_NO_MEMORY;
		}
	}
	return NT_STATUS_OK;
}

/* One part: skipped, staged, or left out with a warning; or refused */
static NTSTATUS stage_one(TALLOC_CTX *ctx, struct odj_extensions_staging *x,
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
	status = cert ? stage_cert(ctx, x, r, p, e->cert, &msg) :
			stage_policy(ctx, x, p, e->policy, &msg);
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
		       const struct odj_request *r,
		       struct odj_request_result *res,
		       struct odj_extensions_staging **staging,
		       char **why)
{
	const struct odj_join *j = r->join;
	TALLOC_CTX *tmp_ctx = NULL;
	struct odj_extensions_staging *x = NULL;
	struct ext_paths p = { .trust_dir = NULL };
	NTSTATUS status;
	size_t i;

	if (j->num_extensions == 0) {
		*staging = NULL;
		return NT_STATUS_OK;
	}
	tmp_ctx = talloc_new(mem_ctx);
	x = talloc_zero(mem_ctx, struct odj_extensions_staging);
	if (tmp_ctx == NULL || x == NULL) {
		TALLOC_FREE(tmp_ctx);
		TALLOC_FREE(x);
		return NT_STATUS_NO_MEMORY;
	}
	talloc_set_destructor(x, ext_destructor);
	status = default_paths(tmp_ctx, lp_ctx, r, &p);
	for (i = 0; NT_STATUS_IS_OK(status) && i < j->num_extensions; i++) {
		status = stage_one(tmp_ctx, x, r, &p, &j->extensions[i], res,
				   why);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = record_files(x, res, p.policy_file);
	}
	odj_why_move(mem_ctx, why);
	TALLOC_FREE(tmp_ctx);
	if (!NT_STATUS_IS_OK(status)) {
		TALLOC_FREE(x);
		return status;
	}
	*staging = x;
	return NT_STATUS_OK;
}

NTSTATUS odj_extensions_publish(struct odj_extensions_staging *x, char **why)
{
	size_t i;

	for (i = 0; i < x->num_files; i++) {
		NTSTATUS status = odj_staged_publish(x->files[i].staged, why);

		if (!NT_STATUS_IS_OK(status)) {
			return status;
		}
	}
	return NT_STATUS_OK;
}

bool odj_extensions_undo(struct odj_extensions_staging *x)
{
	bool ok = true;
	size_t i;

	for (i = x->num_files; i > 0; i--) {
		ok &= odj_staged_undo(x->files[i - 1].staged);
	}
	return ok;
}

void odj_extensions_finish(struct odj_extensions_staging *x)
{
	size_t i;

	for (i = 0; i < x->num_files; i++) {
		odj_staged_finish(x->files[i].staged);
	}
	x->finished = true;
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

void odj_extensions_update_ca(struct odj_extensions_staging *x,
		       const struct odj_request *r,
		       struct odj_request_result *res)
{
	char *msg = NULL;

	if (!r->update_ca_certificates) {
		return;
	}
	if (x == NULL || res->trust_files == NULL) {
		odj_str_list_add(res, &res->warnings, "no root CA installed: "
				 ODJ_EXT_UPDATE_CA " not run");
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
