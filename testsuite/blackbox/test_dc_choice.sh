#!/bin/bash
# Which DC odj provision writes to when no dcname= is given, as Windows'
# and Samba's locator choose one: the SRV records of the machine's site
# (psite=/dsite=) first, then the domain's, by priority and weight; DCs
# that do not answer and read-only DCs (the netlogon reply's
# DS_WRITABLE_FLAG) skipped, with the reason said; dcname= naming an RODC
# refused before any write.
#
# The DNS is the domain's own, on the DCs (odj_env_dns dc): site Site2's
# records name dc2; site Locator's (dc.sh dns locator) name, in order,
# rodc1 (priority 0), nodc.odj.test (priority 10; an address where no DC
# answers), then dc2 (priority 20, weight 90) and dc1 (20, 10).
#
# needs: dc dc2 rodc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
. "$(dirname "$0")/dc_env.sh"

CONF=$ODJ_ADMIN_SMBCONF
TAG=$(printf '%05d' $(($$ % 100000)))
ACCOUNTS=""
LOCATOR=0

cleanup() {
	local name host
	[ $LOCATOR = 0 ] ||
		"$ENVD/dc.sh" dns "$ODJ_DC_PREFIX" locator-delete >/dev/null 2>&1
	for name in $ACCOUNTS; do
		for host in "$ODJ_DC_NAME" "$ODJ_DC2_NAME"; do
			samba-tool computer delete "$name" -H "ldap://$host" \
				-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
		done
	done
	rm -rf "$S"
}
trap cleanup EXIT

# prov NAME [ARGS]: odj provision without dcname=, stderr kept in $S/NAME.err
prov() {
	local name=$1
	shift
	"$ODJ" provision domain="$ODJ_DNS_DOMAIN" machine_name="$name" \
		savefile="$S/$name.odj" -s "$CONF" -U "$ADMIN" "$@" \
		2>"$S/$name.err"
}

# blob_dc FILE: the DC a blob names
blob_dc() {
	odj dump --json "$1" | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)["blobs"][0]["win7blob"]["dc_info"]["dc_name"].lstrip("\\"))'
}

# present HOST NAME: computer NAME exists on that DC
present() {
	ldbsearch -H "ldap://$1" -U "$ADMIN" --configfile="$CONF" \
		"(sAMAccountName=$2\$)" dn 2>/dev/null | grep -q '^dn: '
}

odj_env_dns dc

# --- the site's DC first: Site2's records name dc2 only
A=DCA$TAG
ACCOUNTS="$ACCOUNTS $A"
testit "psite=Site2, no dcname=" prov "$A" psite=Site2
check "  ...dc2, the site's DC, made the account" \
	'[ "$(blob_dc "$S/$A.odj")" = "$ODJ_DC2_NAME" ]'
testit_grep "  ...and says why" "site Site2's SRV record" cat "$S/$A.err"

# --- site Locator: an RODC and a dead address come first
testit "dc.sh dns locator" "$ENVD/dc.sh" dns "$ODJ_DC_PREFIX" locator
LOCATOR=1
B=DCB$TAG
ACCOUNTS="$ACCOUNTS $B"
testit "psite=Locator: rodc1 (priority 0) and nodc (10) come first" \
	prov "$B" psite=Locator
check "  ...a writable DC made the account (dc1 or dc2)" \
	'case $(blob_dc "$S/$B.odj") in
	 "$ODJ_DC_NAME"|"$ODJ_DC2_NAME") true ;; *) false ;; esac'
testit_grep "  ...the RODC skipped: read-only" \
	"skipped $ODJ_RODC_NAME: read-only" cat "$S/$B.err"
testit_grep "  ...the dead address skipped: no answer" \
	"skipped $ODJ_NODC_NAME: cannot connect" cat "$S/$B.err"
check "  ...the RODC was skipped before the dead address" \
	'grep -q "skipped $ODJ_RODC_NAME.*skipped $ODJ_NODC_NAME" "$S/$B.err"'
check "  ...the account is not on the RODC's side of things" \
	'present "$(blob_dc "$S/$B.odj")" "$B"'

# weights 90 and 10: over several runs dc2 is chosen most, never an RODC
n1=0
n2=0
for i in 1 2 3 4 5 6; do
	W=DW$i$TAG
	ACCOUNTS="$ACCOUNTS $W"
	prov "$W" psite=Locator || continue
	case $(blob_dc "$S/$W.odj") in
	"$ODJ_DC_NAME") n1=$((n1 + 1)) ;;
	"$ODJ_DC2_NAME") n2=$((n2 + 1)) ;;
	esac
done
check "weights 90/10: six runs, all on dc1 or dc2 ($n2 on dc2, $n1 on dc1)" \
	'[ $((n1 + n2)) = 6 ]'

# --- the domain's records alone: a writable DC, never the RODC
C=DCC$TAG
ACCOUNTS="$ACCOUNTS $C"
testit "no site: the domain's SRV records" prov "$C"
check "  ...dc1 or dc2" \
	'case $(blob_dc "$S/$C.odj") in
	 "$ODJ_DC_NAME"|"$ODJ_DC2_NAME") true ;; *) false ;; esac'
testit_grep "  ...says it took the domain's record" \
	"the domain's SRV record" cat "$S/$C.err"

# --- dcname= naming the RODC: refused before anything is written
D=DCD$TAG
ACCOUNTS="$ACCOUNTS $D"
testit_exit "dcname=<the RODC>: refused, exit 6" 6 'read-only domain controller' \
	odj provision domain="$ODJ_DNS_DOMAIN" machine_name="$D" \
	dcname="$ODJ_RODC_NAME" savefile="$S/$D.odj" -s "$CONF" -U "$ADMIN"
check "  ...no account on dc1" '! present "$ODJ_DC_NAME" "$D"'
check "  ...no blob" '[ ! -e "$S/$D.odj" ]'

# --- --json says which DC and why
E=DCE$TAG
ACCOUNTS="$ACCOUNTS $E"
testit_grep "--json: dc_choices" '"dc_choices"' \
	odj --json provision domain="$ODJ_DNS_DOMAIN" machine_name="$E" \
	psite=Site2 savefile="$S/$E.odj" -s "$CONF" -U "$ADMIN"

odj_env_dns hosts
exit $failed
