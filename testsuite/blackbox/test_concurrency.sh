#!/bin/bash
# Four `odj provision` loops at once over overlapping name lists: every
# name is provisioned exactly once, the others get a clear "already
# exists", and every account on the DC has exactly one blob whose
# password works.
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
. "$(dirname "$0")/dc_env.sh"
T=c$$
NAMES=$(seq -f "$T-%g" 1 12)

cleanup() {
	local n
	for n in $NAMES; do
		samba-tool computer delete "$n" -H "ldap://$ODJ_DC_NAME" \
			-U "$ADMIN" --configfile="$ODJ_ADMIN_SMBCONF" \
			>/dev/null 2>&1
	done
	rm -rf "$S"
}
trap cleanup EXIT

# worker K provisions names K..K+8 (wrapping): each name is wanted by
# three or four workers
worker() {
	local k=$1 i n
	mkdir -p "$S/w$k"
	for i in $(seq 0 8); do
		n=$T-$(( (k * 3 + i) % 12 + 1 ))
		"$ODJ" provision domain="$ODJ_DNS_DOMAIN" machine_name="$n" \
			dcname="$ODJ_DC_NAME" savefile="$S/w$k/$n.odj" \
			-s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN" \
			>>"$S/w$k.log" 2>&1
		echo "$n $?" >>"$S/w$k.rc"
	done
}

for k in 0 1 2 3; do
	worker $k &
done
wait

for n in $NAMES; do
	blobs=$(ls "$S"/w*/"$n.odj" 2>/dev/null | wc -l)
	check "$n: exactly one blob" '[ "$blobs" = 1 ]'
	f=$(ls "$S"/w*/"$n.odj" 2>/dev/null | head -1)
	[ -n "$f" ] || continue
	pw=$("$ODJ" dump --json --show-secrets "$f" | python3 -c 'import json,sys
print(json.load(sys.stdin)["blobs"][0]["win7blob"]["machine_password"])')
	testit "$n: the blob's password is the account's" kinit_pw "$n" "$pw"
done
ok=$(cat "$S"/w*.rc | awk '$2 == 0' | wc -l)
exists=$(cat "$S"/w*.rc | awk '$2 == 6' | wc -l)
other=$(cat "$S"/w*.rc | awk '$2 != 0 && $2 != 6' | wc -l)
check "12 successes in all" '[ "$ok" = 12 ]'
check "every other attempt: exit 6" '[ "$exists" = 24 ] && [ "$other" = 0 ]'
check "refusals say why" \
	'[ "$(cat "$S"/w*.log | grep -c "already exists")" = 24 ]'
accounts=$(ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
	--configfile="$ODJ_ADMIN_SMBCONF" "(sAMAccountName=${T^^}-*)" dn |
	grep -c '^dn: ')
check "12 accounts on the DC, no orphans" '[ "$accounts" = 12 ]'

exit $failed
