/*
 * odj provision's Windows Server 2012 arguments: rootcacerts
 * (/ROOTCACERTS), certtemplate (/CERTTEMPLATE) issued by AD CS (ca=) or
 * a local CA (ca_cert, ca_key, ca_key_password_file), policynames
 * (/POLICYNAMES) and policypaths (/POLICYPATHS), turned into the
 * request's extra package parts.
 */

#include "odj_cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* longer than any key password or PIN */
#define SECRET_FILE_MAX 1024

/* "A;B; C" -> {"A", "B", "C"}; an empty item is an error. */
static bool split_list(TALLOC_CTX *ctx, const char *arg,
		       const char ***_list, size_t *_n)
{
	const char **list = NULL;
	size_t n = 0;
	const char *p = arg;

	while (p != NULL) {
		const char *end = strchr(p, ';');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

		while (len > 0 && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		while (len > 0 && isspace((unsigned char)p[len - 1])) {
			len--;
		}
		if (len == 0) {
			return false;
		}
		list = talloc_realloc(ctx, list, const char *, n + 1);
		if (list == NULL) {
			return false;
		}
		list[n] = talloc_strndup(list, p, len);
		if (list[n] == NULL) {
			return false;
		}
		n++;
		p = end != NULL ? end + 1 : NULL;
	}
	*_list = list;
	*_n = n;
	return true;
}

static bool check_extensions(struct odj_cli *cli, const struct odj_args *args)
{
	const char *tmpl = odj_args_get(args, "certtemplate");
	bool ca = odj_args_get(args, "ca") != NULL;
	bool ca_cert = odj_args_get(args, "ca_cert") != NULL;
	bool ca_key = odj_args_get(args, "ca_key") != NULL;
	bool pw_file = odj_args_get(args, "ca_key_password_file") != NULL;

	if ((ca || ca_cert || ca_key || pw_file) && tmpl == NULL) {
		odj_cli_error(cli, "ca=, ca_cert=, ca_key= and "
			      "ca_key_password_file= go with certtemplate= "
			      "(/CERTTEMPLATE)");
		return false;
	}
	if (ca_cert != ca_key) {
		odj_cli_error(cli, "the local CA needs both ca_cert= and "
			      "ca_key=");
		return false;
	}
	if (ca && ca_key) {
		odj_cli_error(cli, "ca= names an enterprise CA of AD CS; "
			      "ca_cert= and ca_key= a local CA: not both");
		return false;
	}
	if (pw_file && !ca_key) {
		odj_cli_error(cli, "ca_key_password_file= goes with ca_key=");
		return false;
	}
	return true;
}

/* The CA key's password or the token's PIN: the file's, or the prompt */
struct key_secret {
	struct odj_cli *cli;
	char *from_file;
};

static char *key_secret_get(TALLOC_CTX *mem_ctx, const char *what,
			    void *private_data)
{
	struct key_secret *k = private_data;
	char *prompt = NULL;
	char *secret = NULL;

	if (k->from_file != NULL) {
		secret = talloc_strdup(mem_ctx, k->from_file);
		odj_wipe_on_free(secret);
		return secret;
	}
	/* Samba's way: a prompt on a terminal, unless -N */
	if (k->cli->no_pass || !isatty(STDIN_FILENO)) {
		return NULL;
	}
	prompt = talloc_asprintf(mem_ctx, "Password for [%s]:", what);
	if (prompt != NULL) {
		secret = odj_cli_read_tty_secret(mem_ctx, prompt);
	}
	TALLOC_FREE(prompt);
	return secret;
}

/* The first line of @p path; the file's trailing line end is no part of it */
static int read_secret_file(struct odj_cli *cli, const char *path,
			    char **secret)
{
	char buf[SECRET_FILE_MAX + 2];
	FILE *f = fopen(path, "re");
	size_t len;

	if (f == NULL) {
		odj_cli_error(cli, "ca_key_password_file=%s: %s", path,
			      strerror(errno));
		return ODJ_EXIT_LOCAL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL) {
		buf[0] = '\0';
		if (ferror(f)) {
			int err = errno;

			fclose(f);
			odj_cli_error(cli, "ca_key_password_file=%s: %s",
				      path, strerror(err));
			return ODJ_EXIT_LOCAL;
		}
	}
	fclose(f);
	len = strcspn(buf, "\r\n");
	if (len > SECRET_FILE_MAX) {
		explicit_bzero(buf, sizeof(buf));
		odj_cli_error(cli, "ca_key_password_file=%s: a line of more "
			      "than %d characters", path, SECRET_FILE_MAX);
		return ODJ_EXIT_INPUT;
	}
	buf[len] = '\0';
	*secret = talloc_strdup(cli->mem_ctx, buf);
	explicit_bzero(buf, sizeof(buf));
	odj_wipe_on_free(*secret);
	return *secret != NULL ? ODJ_EXIT_OK : ODJ_EXIT_INTERNAL;
}

/* ca_cert= and ca_key=: the local CA */
static int local_ca(struct odj_cli *cli, const struct odj_args *args,
		    struct odj_ca_backend **backend)
{
	const char *pw_file = odj_args_get(args, "ca_key_password_file");
	struct key_secret *k = NULL;
	struct odj_secret_source *source = NULL;
	char *why = NULL;
	NTSTATUS status;
	int ret;

	k = talloc_zero(cli->mem_ctx, struct key_secret);
	source = talloc_zero(cli->mem_ctx, struct odj_secret_source);
	if (k == NULL || source == NULL) {
		return ODJ_EXIT_INTERNAL;
	}
	k->cli = cli;
	if (pw_file != NULL) {
		ret = read_secret_file(cli, pw_file, &k->from_file);
		if (ret != ODJ_EXIT_OK) {
			return ret;
		}
	}
	*source = (struct odj_secret_source) {
		.get = key_secret_get, .private_data = k,
	};
	status = odj_ca_backend_local(cli->mem_ctx,
				      odj_args_get(args, "ca_cert"),
				      odj_args_get(args, "ca_key"), source,
				      backend, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	return ODJ_EXIT_OK;
}

int odj_cli_extensions(struct odj_cli *cli, struct odj_dc *dc,
		   const struct odj_args *args,
		   struct odj_provision_request *r)
{
	TALLOC_CTX *ctx = cli->mem_ctx;
	const char *names = odj_args_get(args, "policynames");
	const char *paths = odj_args_get(args, "policypaths");
	struct odj_extensions_request x = {
		.root_ca_certs = odj_args_flag(args, "rootcacerts"),
		.cert_template = odj_args_get(args, "certtemplate"),
	};
	const char **name_list = NULL;
	const char **path_list = NULL;
	struct odj_extensions *extensions = NULL;
	char *why = NULL;
	NTSTATUS status;

	r->extensions = NULL;
	if (!check_extensions(cli, args)) {
		return ODJ_EXIT_USAGE;
	}
	if (!x.root_ca_certs && x.cert_template == NULL && names == NULL &&
	    paths == NULL) {
		return ODJ_EXIT_OK;
	}
	if ((names != NULL && !split_list(ctx, names, &name_list,
					  &x.num_policy_names)) ||
	    (paths != NULL && !split_list(ctx, paths, &path_list,
					  &x.num_policy_paths))) {
		odj_cli_error(cli, "policynames= and policypaths= take "
			      "non-empty names separated by ';'");
		return ODJ_EXIT_USAGE;
	}
	x.policy_names = name_list;
	x.policy_paths = path_list;
	/* no local CA: AD CS, the enterprise CA that offers the template */
	x.ca_name = odj_args_get(args, "ca");
	if (odj_args_get(args, "ca_key") != NULL) {
		int ret = local_ca(cli, args, &x.ca);

		if (ret != ODJ_EXIT_OK) {
			return ret;
		}
	}
	status = odj_extensions_prepare(ctx, dc, &x, &extensions, &why);
	if (!NT_STATUS_IS_OK(status)) {
		return odj_cli_fail(cli, status, why);
	}
	r->extensions = extensions;
	return ODJ_EXIT_OK;
}

void odj_cli_dc_choice(const struct odj_cli *cli, const struct odj_dc *dc,
		       bool located)
{
	if (cli->json) {
		odj_cli_doc_append(cli, "dc_choices", odj_dc_info(dc)->choice);
	} else if (located) {
		fprintf(stderr, "Using DC %s\n", odj_dc_info(dc)->choice);
	}
}
