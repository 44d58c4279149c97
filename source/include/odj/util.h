/*
 * samba-odj: small helpers the library shares with its tools: SIDs as
 * text, and buffers wiped when freed.
 */

#ifndef _ODJ_UTIL_PUBLIC_H_
#define _ODJ_UTIL_PUBLIC_H_

#include <stdbool.h>
#include <stdint.h>
#include <talloc.h>
#include <ndr.h>
#include "gen_ndr/odj.h"

/**
 * @defgroup odj_util Small helpers shared by the library and its tools
 * @{
 */

/** @brief "S-1-5-21-…" for a SID, on @p mem_ctx. */
char *odj_sid_string(TALLOC_CTX *mem_ctx, const struct ODJ_SID *sid);

/** @brief A SID in its binary form (objectSid), 8 + 4n bytes. */
bool odj_sid_from_blob(TALLOC_CTX *mem_ctx, const uint8_t *p,
		       size_t len, struct ODJ_SID *sid);

/** @brief Whether two SIDs are the same. */
bool odj_sid_equal(const struct ODJ_SID *a, const struct ODJ_SID *b);

/** @brief Parse "S-1-…" into a SID. */
bool odj_sid_parse(const char *str, struct ODJ_SID *sid,
		   TALLOC_CTX *mem_ctx);

/**
 * @brief Make @p ptr (a talloc chunk) be wiped with zeros when freed.
 *
 * For every buffer that ever held a password, key or blob.
 */
void odj_wipe_on_free(const void *ptr);

/** @} */

#endif /* _ODJ_UTIL_PUBLIC_H_ */
