/*
 * --json: every run prints one JSON document on standard output, and
 * nothing else there.  It is built up by the subcommand and printed by
 * main() once the exit code is known:
 *
 *   { "schema": 1, "command": "requestodj", ...the subcommand's fields...,
 *     "warnings": [ ... ], "ok": true, "exit": 0 }
 *
 * and on failure "ok": false, the exit code and
 *   "error": { "message": "...", "status": "NT_STATUS_..." }.
 * The shapes are in odj(8), JSON OUTPUT, and docs/json/.
 */

#include "odj_cli.h"

#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#define ODJ_JSON_SCHEMA 1

/* The document lives in cli->out, which a const cli can still fill */
struct odj_cli_out {
	json_t *doc;
};

bool odj_cli_out_init(struct odj_cli *cli)
{
	cli->out = talloc_zero(cli->mem_ctx, struct odj_cli_out);
	return cli->out != NULL;
}

struct json_t *odj_cli_doc(const struct odj_cli *cli)
{
	json_t *doc = NULL;

	if (cli->out == NULL) {
		return NULL;
	}
	if (cli->out->doc != NULL) {
		return cli->out->doc;
	}
	doc = json_object();
	if (doc == NULL) {
		return NULL;
	}
	json_object_set_new(doc, "schema", json_integer(ODJ_JSON_SCHEMA));
	json_object_set_new(doc, "command", cli->subcommand != NULL ?
			    json_string(cli->subcommand) : json_null());
	cli->out->doc = doc;
	return doc;
}

void odj_cli_doc_set(const struct odj_cli *cli, const char *key, struct json_t *v)
{
	json_t *doc = odj_cli_doc(cli);

	if (doc == NULL || v == NULL) {
		json_decref(v);
		return;
	}
	json_object_set_new(doc, key, v);
}

void odj_cli_doc_str(const struct odj_cli *cli, const char *key, const char *s)
{
	odj_cli_doc_set(cli, key, s != NULL ? json_string(s) : json_null());
}

/* Append @p s to the array @p key of the document */
void odj_cli_doc_append(const struct odj_cli *cli, const char *key, const char *s)
{
	json_t *doc = odj_cli_doc(cli);
	json_t *a = NULL;

	if (doc == NULL || s == NULL) {
		return;
	}
	a = json_object_get(doc, key);
	if (a == NULL) {
		a = json_array();
		if (a == NULL || json_object_set_new(doc, key, a) != 0) {
			return;
		}
	}
	json_array_append_new(a, json_string(s));
}

/* The first error of a run is the document's; later ones add lines */
void odj_cli_doc_error(const struct odj_cli *cli, const char *message,
		       const char *status)
{
	json_t *doc = odj_cli_doc(cli);
	json_t *err = NULL;

	if (doc == NULL) {
		return;
	}
	err = json_object_get(doc, "error");
	if (err == NULL) {
		err = json_pack("{s:s}", "message", message);
		if (err == NULL) {
			return;
		}
		json_object_set_new(doc, "error", err);
	} else if (message != NULL) {
		odj_cli_doc_append(cli, "messages", message);
	}
	if (status != NULL && json_object_get(err, "status") == NULL) {
		json_object_set_new(err, "status", json_string(status));
	}
}

void odj_cli_doc_print(const struct odj_cli *cli, int exit_code)
{
	json_t *doc = odj_cli_doc(cli);
	char *text = NULL;

	if (doc == NULL) {
		return;
	}
	json_object_set_new(doc, "ok", json_boolean(exit_code == 0));
	json_object_set_new(doc, "exit", json_integer(exit_code));
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text != NULL) {
		printf("%s\n", text);
		/* it may carry a blob or, with --show-secrets, a password */
		explicit_bzero(text, strlen(text));
		free(text);
	}
	fflush(stdout);
	json_decref(doc);
	cli->out->doc = NULL;
}
