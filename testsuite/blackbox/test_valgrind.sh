#!/bin/bash
# valgrind memcheck on the subcommands: no errors, no definite leaks.
# (Samba's libraries keep process-wide caches, "possibly lost" on exit.)
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
. "$ODJ_TOP/testsuite/env/env.sh" "$ODJ_DC_PREFIX"

VG="valgrind -q --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite"
ADMIN="$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
N=vg$$

cleanup() {
	samba-tool computer delete "$N" -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
		--configfile="$ODJ_ADMIN_SMBCONF" >/dev/null 2>&1
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

exit $failed
