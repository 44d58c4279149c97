/*
 * Installing a CERT part on a Linux client (the apply side of djoin
 * /ROOTCACERTS and /CERTTEMPLATE): root CAs as PEM files for Debian's
 * ca-certificates (update-ca-certificates picks up the .crt files in
 * /usr/local/share/ca-certificates), the machine certificate and its key
 * as PEM.
 */

#include "client/client.h"

#include <ctype.h>
#include <inttypes.h>
#include <strings.h>
#include <sys/stat.h>
#include <gnutls/gnutls.h>

static NTSTATUS pem(TALLOC_CTX *ctx, const char *label, DATA_BLOB der,
		    char **out)
{
	gnutls_datum_t in = odj_datum(der);
	gnutls_datum_t d = { .data = NULL };
	int ret;

	ret = gnutls_pem_base64_encode2(label, &in, &d);
	if (ret < 0) {
		return NT_STATUS_NO_MEMORY;
	}
	*out = talloc_strndup(ctx, (const char *)d.data, d.size);
	gnutls_memset(d.data, 0, d.size);
	gnutls_free(d.data);
	if (*out == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(*out);
	return NT_STATUS_OK;
}

/* The list of files to write, grown by one */
struct file_list {
	struct odj_out_file *files;
	size_t num;
};

static NTSTATUS add_file(TALLOC_CTX *ctx, struct file_list *l,
			 const char *path, const char *text, mode_t mode,
			 bool trust)
{
	struct odj_out_file *f = NULL;

	if (path == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	l->files = talloc_realloc(ctx, l->files, struct odj_out_file,
				  l->num + 1);
	if (l->files == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	f = &l->files[l->num];
	*f = (struct odj_out_file) {
		.path = talloc_strdup(l->files, path),
		.text = talloc_strdup(l->files, text),
		.mode = mode,
		.trust = trust,
	};
	if (f->path == NULL || f->text == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	odj_wipe_on_free(f->text);
	l->num++;
	return NT_STATUS_OK;
}

/* odj-<CN>-<8 hex of SHA-1>.crt, the CN cut to file name characters */
static char *trust_file(TALLOC_CTX *ctx, const char *dir,
			const struct odj_cert_info *info)
{
	const char *cn = info->common_name != NULL ? info->common_name : "ca";
	char name[65];
	size_t i;

	for (i = 0; i < sizeof(name) - 1 && cn[i] != '\0'; i++) {
		name[i] = (isalnum((unsigned char)cn[i]) || cn[i] == '.' ||
			   cn[i] == '-') ? cn[i] : '_';
	}
	name[i] = '\0';
	return talloc_asprintf(ctx, "%s/odj-%s-%.8s.crt", dir, name,
			       info->sha1);
}

static NTSTATUS install_roots(TALLOC_CTX *ctx,
			      const struct OP_CERT_SST_STORE *store,
			      const char *dir, struct file_list *out,
			      char **why)
{
	struct odj_sst *sst = NULL;
	struct odj_cert_info *info = NULL;
	char *text = NULL;
	NTSTATUS status;
	uint32_t i;

	status = odj_sst_parse(ctx, data_blob_const(store->pSst,
						    store->cbSst), &sst, why);
	for (i = 0; NT_STATUS_IS_OK(status) && i < sst->num_elements; i++) {
		const struct odj_sst_element *el = &sst->elements[i];

		if (el->id != ODJ_SST_ELEMENT_CERT) {
			continue;
		}
		status = odj_cert_info(ctx, el->data, &info, why);
		if (NT_STATUS_IS_OK(status)) {
			status = pem(ctx, "CERTIFICATE", el->data, &text);
		}
		if (NT_STATUS_IS_OK(status)) {
			status = add_file(ctx, out, trust_file(ctx, dir, info),
					  text, 0644, true);
		}
	}
	return status;
}

/* "/a/b.pem" and 2 -> "/a/b-2.pem" */
static char *nth_path(TALLOC_CTX *ctx, const char *path, uint32_t n)
{
	const char *slash = strrchr(path, '/');
	const char *dot = strrchr(path, '.');

	if (n == 1) {
		return talloc_strdup(ctx, path);
	}
	if (dot == NULL || (slash != NULL && dot < slash)) {
		return talloc_asprintf(ctx, "%s-%" PRIu32, path, n);
	}
	return talloc_asprintf(ctx, "%.*s-%" PRIu32 "%s", (int)(dot - path),
			       path, n, dot);
}

static NTSTATUS open_pfx(TALLOC_CTX *ctx, const struct OP_CERT_PFX_STORE *s,
			 const char *machine_password, struct odj_pfx **pfx,
			 char **why)
{
	DATA_BLOB b = data_blob_const(s->pPfx, s->cbPfx);
	NTSTATUS status;

	status = odj_pfx_parse(ctx, b, "", pfx, why);
	if (NT_STATUS_EQUAL(status, NT_STATUS_WRONG_PASSWORD) &&
	    machine_password != NULL) {
		status = odj_pfx_parse(ctx, b, machine_password, pfx, why);
	}
	return status;
}

static NTSTATUS install_pfx(TALLOC_CTX *ctx,
			    const struct OP_CERT_PFX_STORE *store,
			    const char *cert_file, const char *key_file,
			    const char *machine_password,
			    struct file_list *out, char **why)
{
	struct odj_pfx *pfx = NULL;
	char *certs = NULL;
	char *key = NULL;
	char *one = NULL;
	NTSTATUS status;
	size_t i;

	status = open_pfx(ctx, store, machine_password, &pfx, why);
	if (NT_STATUS_IS_OK(status)) {
		status = pem(ctx, "CERTIFICATE", pfx->cert, &certs);
	}
	/* the certificate, then the issuers a TLS peer may lack */
	for (i = 0; NT_STATUS_IS_OK(status) && i < pfx->num_chain; i++) {
		struct odj_cert_info *info = NULL;

		status = odj_cert_info(ctx, pfx->chain[i], &info, why);
		if (!NT_STATUS_IS_OK(status) ||
		    strcmp(info->subject, info->issuer) == 0) {
			continue;
		}
		status = pem(ctx, "CERTIFICATE", pfx->chain[i], &one);
		if (NT_STATUS_IS_OK(status)) {
			certs = talloc_strdup_append(certs, one);
			status = certs != NULL ? NT_STATUS_OK :
						 NT_STATUS_NO_MEMORY;
		}
	}
	if (NT_STATUS_IS_OK(status)) {
		status = pem(ctx, "PRIVATE KEY", pfx->key, &key);
	}
	/* the key first: a certificate without its key is no use */
	if (NT_STATUS_IS_OK(status)) {
		status = add_file(ctx, out, key_file, key, 0600, false);
	}
	if (NT_STATUS_IS_OK(status)) {
		status = add_file(ctx, out, cert_file, certs, 0644, false);
	}
	return status;
}

NTSTATUS odj_certs_files(TALLOC_CTX *mem_ctx,
			 const struct OP_CERT_PART *part,
			 const struct odj_certs_install_paths *paths,
			 const char *machine_password,
			 struct odj_out_file **files,
			 size_t *num_files,
			 char **why)
{
	const struct odj_certs_install_paths none = { .trust_dir = NULL };
	const struct odj_certs_install_paths *p = paths != NULL ? paths :
						  &none;
	const char *dir = p->trust_dir != NULL ? p->trust_dir :
			  ODJ_CERTS_TRUST_DIR;
	const char *cert = p->cert_file != NULL ? p->cert_file :
			   ODJ_CERTS_MACHINE_CERT;
	const char *key = p->key_file != NULL ? p->key_file :
			  ODJ_CERTS_MACHINE_KEY;
	TALLOC_CTX *tmp_ctx = NULL;
	struct file_list out = { .files = NULL };
	NTSTATUS status = NT_STATUS_OK;
	uint32_t i;

	if (part == NULL) {
		return NT_STATUS_INVALID_PARAMETER;
	}
	tmp_ctx = talloc_new(mem_ctx);
	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < part->cSstStores; i++) {
		const struct OP_CERT_SST_STORE *s = &part->pSstStores[i];

		if (s->pStoreName == NULL ||
		    strcasecmp(s->pStoreName, ODJ_CERT_STORE_ROOT) != 0) {
			continue;	/* only ROOT holds trust anchors */
		}
		status = install_roots(tmp_ctx, s, dir, &out, why);
	}
	for (i = 0; NT_STATUS_IS_OK(status) && i < part->cPfxStores; i++) {
		status = install_pfx(tmp_ctx, &part->pPfxStores[i],
				     nth_path(tmp_ctx, cert, i + 1),
				     nth_path(tmp_ctx, key, i + 1),
				     machine_password, &out, why);
	}
	odj_why_move(mem_ctx, why);
	if (NT_STATUS_IS_OK(status)) {
		*files = talloc_steal(mem_ctx, out.files);
		*num_files = out.num;
	}
	TALLOC_FREE(tmp_ctx);
	return status;
}

NTSTATUS odj_certs_install(TALLOC_CTX *mem_ctx,
			   const struct OP_CERT_PART *part,
			   const struct odj_certs_install_paths *paths,
			   const char *machine_password,
			   const char ***written,
			   char **why)
{
	TALLOC_CTX *tmp_ctx = talloc_new(mem_ctx);
	struct odj_out_file *files = NULL;
	const char **list = NULL;
	size_t i, n = 0;
	NTSTATUS status;

	if (tmp_ctx == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	status = odj_certs_files(tmp_ctx, part, paths, machine_password,
				 &files, &n, why);
	for (i = 0; NT_STATUS_IS_OK(status) && i < n; i++) {
		const struct odj_out_file *f = &files[i];

		status = odj_file_write(tmp_ctx, f->path,
					data_blob_const(f->text,
							strlen(f->text)),
					f->mode, 0, why);
		if (NT_STATUS_IS_OK(status) &&
		    !odj_str_list_add(tmp_ctx, &list, f->path)) {
			status = NT_STATUS_NO_MEMORY;
		}
	}
	odj_why_move(mem_ctx, why);
	if (NT_STATUS_IS_OK(status) && written != NULL) {
		*written = list != NULL ? talloc_steal(mem_ctx, list) :
			   talloc_zero_array(mem_ctx, const char *, 1);
	}
	TALLOC_FREE(tmp_ctx);
	return status;
}
