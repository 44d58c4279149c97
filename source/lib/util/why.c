/*
 * The "why" channel: a message for a human beside the NTSTATUS (the
 * rule is written down in odj.h).
 */

#include "util/util.h"

#include <stdarg.h>

void odj_why(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (why == NULL) {
		return;
	}
	va_start(ap, fmt);
	msg = talloc_vasprintf(ctx, fmt, ap);
	va_end(ap);
	TALLOC_FREE(*why);
	*why = msg;
}

void odj_why_prefix(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
{
	va_list ap;
	char *prefix = NULL;
	char *msg = NULL;

	if (why == NULL || *why == NULL) {
		return;
	}
	va_start(ap, fmt);
	prefix = talloc_vasprintf(ctx, fmt, ap);
	va_end(ap);
	if (prefix == NULL) {
		return;
	}
	msg = talloc_asprintf(ctx, "%s: %s", prefix, *why);
	TALLOC_FREE(prefix);
	if (msg == NULL) {
		return;
	}
	TALLOC_FREE(*why);
	*why = msg;
}

void odj_why_move(TALLOC_CTX *mem_ctx, char **why)
{
	if (why != NULL && *why != NULL) {
		talloc_steal(mem_ctx, *why);
	}
}

