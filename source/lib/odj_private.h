/*
 * samba-odj: declarations shared inside the library only.
 */

#ifndef _ODJ_PRIVATE_H_
#define _ODJ_PRIVATE_H_

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>
#include <ndr.h>
#include <core/ntstatus.h>
#include <util/data_blob.h>
#include "gen_ndr/ndr_odj.h"
#include "odj.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

#ifndef discard_const_p
#define discard_const_p(type, ptr) ((type *)((intptr_t)(ptr)))
#endif

/* libsamba-errors: public, declared in no installed header */
NTSTATUS map_nt_error_from_unix_common(int unix_error);

/*
 * The "why" channel: a message for a human, on @p ctx, replacing any
 * earlier one.  NULL @p why means the caller does not want it.
 */
void odj_why(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "<prefix>: " in front of the message in *why, if any. */
void odj_why_prefix(TALLOC_CTX *ctx, char **why, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Hand the message over to @p mem_ctx before a temporary context dies. */
void odj_why_move(TALLOC_CTX *mem_ctx, char **why);

/* A talloc copy of a UTF-8 string that is wiped when freed. */
char *odj_secret_strdup(TALLOC_CTX *mem_ctx, const char *s);

struct ldb_context;
struct ldb_context *odj_dc_ldb(const struct odj_dc *dc);
struct tevent_context *odj_dc_ev(const struct odj_dc *dc);

#endif /* _ODJ_PRIVATE_H_ */
