#!/bin/bash
# valgrind memcheck on the subcommands: no errors, no definite leaks.
# (Samba's libraries keep process-wide caches, "possibly lost" on exit.)
#
# needs: dc
# sanitizer: skip (valgrind cannot run an ASan build)

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
. "$ODJ_TOP/testsuite/env/env.sh" "$ODJ_DC_PREFIX"

# provision runs odj-dc: follow the exec
VG="valgrind -q --error-exitcode=99 --leak-check=full --trace-children=yes \
--errors-for-leak-kinds=definite --show-leak-kinds=definite"
ADMIN="$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
N=vg$$
TAG=$(printf '%05d' $(($$ % 100000)))
BATCH="vgb$TAG-1 vgb$TAG-2 vgb$TAG-3 vgb$TAG-4 vgb$TAG-5"

cleanup() {
	local name
	"$ODJ_TOP/testsuite/env/client.sh" stop "$S/client" >/dev/null 2>&1
	for name in "$N" $BATCH; do
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			-U "$ADMIN" --configfile="$ODJ_ADMIN_SMBCONF" \
			>/dev/null 2>&1
	done
	rm -rf "$S"
}
trap cleanup EXIT

testit "valgrind: dump (text)" \
	$VG "$ODJ" dump "$ODJ_DATA/windows-2019-provision.odj"
testit "valgrind: dump --json --show-secrets" \
	$VG "$ODJ" dump --json --show-secrets "$ODJ_DATA/samba-4.17-provision.odj"
testit_exit "valgrind: dump of a bad file" 3 'truncated' \
	sh -c "head -c 700 '$ODJ_DATA/windows-2019-provision.ndr' | base64 |
	$VG '$ODJ' dump -"
testit "valgrind: provision" $VG "$ODJ" provision domain="$ODJ_DNS_DOMAIN" \
	machine_name="$N" dcname="$ODJ_DC_NAME" savefile="$S/$N.odj" \
	-s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN"
testit_exit "valgrind: provision refused (exists)" 6 'already exists' \
	$VG "$ODJ" provision domain="$ODJ_DNS_DOMAIN" machine_name="$N" \
	dcname="$ODJ_DC_NAME" savefile="$S/$N-2.odj" \
	-s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN"

# requestodj: a full join into a scratch client (secrets.tdb and keytab)
CONF=$("$ODJ_TOP/testsuite/env/client.sh" new "$S/client" "$N" 2>/dev/null)
testit "valgrind: requestodj (a first join)" \
	$VG "$ODJ" requestodj loadfile="$S/$N.odj" -s "$CONF"
check "valgrind: requestodj wrote secrets.tdb and the keytab" \
	'[ -s "$S/client/private/secrets.tdb" ] &&
	 [ -s "$S/client/private/krb5.keytab" ]'
testit "valgrind: requestodj (again, over the join)" \
	$VG "$ODJ" requestodj loadfile="$S/$N.odj" -s "$CONF"
testit_exit "valgrind: requestodj of a truncated blob" 3 'truncated' \
	sh -c "head -c 700 '$ODJ_DATA/windows-2019-provision.ndr' | base64 |
	$VG '$ODJ' requestodj - -s '$CONF'"

# a small batch: five machines, pipelined
mkdir "$S/blobs"
printf '%s\n' $BATCH >"$S/batch.txt"
testit "valgrind: provision batch (5 machines)" $VG "$ODJ" provision \
	domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" batch="$S/batch.txt" \
	savedir="$S/blobs" -s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN"
check "valgrind: the batch wrote five blobs" \
	'[ "$(ls "$S/blobs" | grep -c "\.odj$")" = 5 ]'

exit $failed
