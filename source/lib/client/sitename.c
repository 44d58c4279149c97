/*
 * The blob's site (JOIN_PROVIDER2: psite=/dsite=) for Samba's DC
 * locator.
 *
 * Windows keeps a blob's site for Netlogon, whose DC lookups then ask
 * the site's DNS records first.  Samba has no smb.conf parameter for
 * it: winbindd, net and smbd take the site from the "sitename cache",
 * the gencache.tdb record AD_SITENAME/DOMAIN/<REALM> that every CLDAP
 * reply rewrites (source3/libads/sitename_cache.c) and that
 * get_sorted_dc_list()/dsgetdcname() read before the SRV lookups.  A
 * branch machine joining with the WAN down reaches no DC that could
 * tell it its site; an RODC registers only its site's records, so
 * without the site the machine never finds it.  This writes the record
 * as sitename_store() does: the key with its NUL, the expiry (never,
 * as Samba stores it) as a native time_t, the value with its NUL, and a
 * CRC-32 (zlib's) over the three; byte for byte what a CLDAP reply
 * leaves there (test_rodc.sh compares).
 */

#include "client/client.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <tdb.h>
#include <charset.h>
#include <util/time.h>

/* gencache_init()'s tdb, as Samba opens it */
#define GENCACHE_HASH_SIZE 10000
#define SITENAME_KEY "AD_SITENAME/DOMAIN/%s"

/* zlib's crc32(), continued over several buffers */
static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	size_t i;
	int k;

	crc = ~crc;
	for (i = 0; i < len; i++) {
		crc ^= p[i];
		for (k = 0; k < 8; k++) {
			crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1)));
		}
	}
	return ~crc;
}

/* One record: the key with its NUL, expiry, value with its NUL, CRC */
static NTSTATUS store_one(TALLOC_CTX *mem_ctx, struct tdb_context *tdb,
			  const char *key, const char *site)
{
	/* "store indefinitely": Samba's own largest time */
	time_t expire = get_time_t_max();
	size_t klen = strlen(key) + 1, slen = strlen(site) + 1;
	size_t len = sizeof(expire) + slen + sizeof(uint32_t);
	uint8_t *data = talloc_size(mem_ctx, len);
	TDB_DATA k = { .dptr = discard_const_p(uint8_t, key), .dsize = klen };
	uint32_t crc;
	int ret;

	if (data == NULL) {
		return NT_STATUS_NO_MEMORY;
	}
	memcpy(data, &expire, sizeof(expire));
	memcpy(data + sizeof(expire), site, slen);
	crc = crc32_update(0, (const uint8_t *)key, klen);
	crc = crc32_update(crc, data, sizeof(expire) + slen);
	memcpy(data + sizeof(expire) + slen, &crc, sizeof(crc));
	ret = tdb_store(tdb, k, (TDB_DATA) { .dptr = data, .dsize = len },
			TDB_REPLACE);
	TALLOC_FREE(data);
	return ret == 0 ? NT_STATUS_OK : NT_STATUS_DISK_FULL;
}

/*
 * As a CLDAP reply stores it (ads_try_connect()): under the realm and
 * under the NetBIOS domain name, which dsgetdcname() is asked with too
 */
static NTSTATUS store(TALLOC_CTX *mem_ctx, const char *path,
		      const char * const keys[2], const char *site,
		      char **why)
{
	int flags = TDB_INCOMPATIBLE_HASH | TDB_NOSYNC;
	struct tdb_context *tdb = NULL;
	NTSTATUS status = NT_STATUS_OK;
	size_t i;

	if (tdb_runtime_check_for_robust_mutexes()) {
		flags |= TDB_MUTEX_LOCKING;
	}
	tdb = tdb_open(path, GENCACHE_HASH_SIZE, flags, O_RDWR | O_CREAT,
		       0644);
	if (tdb == NULL) {
		odj_why(mem_ctx, why, "%s: %s", path, strerror(errno));
		return map_nt_error_from_unix_common(errno);
	}
	for (i = 0; i < 2 && NT_STATUS_IS_OK(status); i++) {
		status = store_one(mem_ctx, tdb, keys[i], site);
	}
	if (!NT_STATUS_IS_OK(status)) {
		odj_why(mem_ctx, why, "%s: %s", path, tdb_errorstr(tdb));
	}
	tdb_close(tdb);
	return status;
}

NTSTATUS odj_sitename_store(TALLOC_CTX *mem_ctx,
			    const char *dir,
			    const char *realm,
			    const char *netbios_domain,
			    const char *site,
			    char **path,
			    char **why)
{
	TALLOC_CTX *tmp = talloc_new(mem_ctx);
	const char *keys[2] = { NULL, NULL };
	char *p = NULL;
	NTSTATUS status;

	if (tmp == NULL || dir == NULL) {
		TALLOC_FREE(tmp);
		return NT_STATUS_NO_MEMORY;
	}
	keys[0] = talloc_asprintf(tmp, SITENAME_KEY,
				  strupper_talloc(tmp, realm));
	keys[1] = talloc_asprintf(tmp, SITENAME_KEY,
				  strupper_talloc(tmp, netbios_domain));
	p = talloc_asprintf(tmp, "%s/gencache.tdb", dir);
	if (keys[0] == NULL || keys[1] == NULL || p == NULL) {
		TALLOC_FREE(tmp);
		return NT_STATUS_NO_MEMORY;
	}
	/* winbindd makes it at its first start, as Samba's daemons do */
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		odj_why(mem_ctx, why, "%s: %s", dir, strerror(errno));
		TALLOC_FREE(tmp);
		return map_nt_error_from_unix_common(errno);
	}
	status = store(tmp, p, keys, site, why);
	odj_why_move(mem_ctx, why);
	if (NT_STATUS_IS_OK(status)) {
		*path = talloc_move(mem_ctx, &p);
	}
	TALLOC_FREE(tmp);
	return status;
}
