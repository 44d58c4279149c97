#!/bin/bash
# The multi-DC test environment (testsuite/env/dc.sh add-dc, add-rodc):
# a second writable DC dc2 in site Site2 and a read-only DC rodc1 in site
# Branch, next to dc1.  Proves replication both ways, the sites, what
# marks an RODC (LDAP and the netlogon ping), the opt-in DNS records for
# DC choice, and the RODC alone: with every writable DC stopped, its KDC
# answers for a machine whose secrets it caches (preloaded with
# `samba-tool rodc preload`, or fetched by the RODC itself after an AS-REQ)
# and for no other.  The writable DCs are started again and every account
# made here is deleted on every DC.
#
# needs: dc dc2 rodc
# sanitizer: skip

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
. "$(dirname "$0")/dc_env.sh"

CONF=$ODJ_ADMIN_SMBCONF
BASE=$DOMDN
CONFIG="CN=Configuration,$BASE"
PY=/usr/bin/python3
RODC_SAM=$ODJ_DC_PREFIX/rodc1/private/sam.ldb

# unique per run: at most 15 characters
TAG=$(printf '%05d' $(($$ % 100000)))
M1=MDA$TAG	# made on dc1
M2=MDB$TAG	# made on dc2
MP=MDP$TAG	# allowed on the RODC, samba-tool rodc preload
MT=MDT$TAG	# allowed on the RODC, cached after an AS-REQ to the RODC
MN=MDN$TAG	# not allowed on the RODC
ACCOUNTS=""
ALLOWED=""
LOCATOR=0

dc_sh() { "$ENVD/dc.sh" "$@"; }

ldb_on() {
	local host=$1
	shift
	ldbsearch -H "ldap://$host" -U "$ADMIN" --configfile="$CONF" "$@"
}

# present HOST NAME: computer NAME exists on that DC
present() {
	ldb_on "$1" "(sAMAccountName=$2\$)" dn 2>/dev/null | grep -q '^dn: '
}

# mkcomputer HOST NAME (remember NAME in ACCOUNTS first: testit runs this in
# a subshell)
mkcomputer() {
	local host=$1 name=$2
	samba-tool computer create "$name" -H "ldap://$host" -U "$ADMIN" \
		--configfile="$CONF" &&
		samba-tool user setpassword "$name\$" --newpassword="$(pw "$name")" \
			-H "ldap://$host" -U "$ADMIN" --configfile="$CONF"
}

pw() { printf 'Odj-%s-Pw1' "$1"; }

ms() { printf '%s\n' $((${EPOCHREALTIME/./} / 1000)); }

since() {
	local d=$(($(ms) - $1))
	printf '%d.%03d' $((d / 1000)) $((d % 1000))
}

admin_kinit() {
	printf '%s\n' "$ODJ_ADMIN_PASS" | KRB5_CONFIG=$1 \
		KRB5CCNAME="FILE:$S/admin.cc" kinit "$ODJ_ADMIN_USER@$ODJ_REALM"
}

# reveal add|delete NAME: NAME in the RODC's own msDS-RevealOnDemandGroup
reveal() {
	printf 'dn: CN=%s,OU=Domain Controllers,%s\nchangetype: modify\n%s: msDS-RevealOnDemandGroup\nmsDS-RevealOnDemandGroup: CN=%s,CN=Computers,%s\n' \
		"$ODJ_RODC_NETBIOS" "$BASE" "$1" "$2" "$BASE" |
		ldbmodify -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF"
}

# cached NAME: the RODC's own database holds NAME's secrets
cached() {
	ldbsearch -H "$RODC_SAM" "(sAMAccountName=$1\$)" unicodePwd \
		supplementalCredentials 2>/dev/null | grep -q '^unicodePwd::'
}

# wait_cached NAME [CMD...]: NAME cached on rodc1 within 30 s; the RODC
# fetches a secret in the background (its drepl service) and, busy with
# its own replication under load, can take more than 10 s; CMD (the
# request that makes it fetch) is sent again every 10 s
wait_cached() {
	local name=$1 i
	shift
	for ((i = 1; i <= 300; i++)); do
		cached "$name" && return 0
		sleep 0.1
		if [ $# -gt 0 ] && [ $((i % 100)) = 0 ]; then
			"$@" >/dev/null 2>&1
		fi
	done
	return 1
}

# kinit_with KRB5CONF NAME PASSWORD
kinit_with() {
	printf '%s\n' "$3" | KRB5_CONFIG=$1 KRB5CCNAME="FILE:$S/$2.cc" \
		kinit "$2\$@$ODJ_REALM"
}

# kinit_fails_with KRB5CONF NAME PASSWORD REGEX: kinit fails, saying REGEX
kinit_fails_with() {
	local out
	out=$(kinit_with "$1" "$2" "$3" 2>&1) && {
		printf 'unexpected success\n'
		return 1
	}
	printf '%s\n' "$out" | grep -Eq -- "$4" || {
		printf 'wanted /%s/: %s\n' "$4" "$out"
		return 1
	}
}

# srv NAME: "PRIO WEIGHT PORT TARGET" lines, as res_query() through
# resolv_wrapper answers (what odj's DC discovery sees)
srv() {
	"$PY" - "$1" <<-'EOF'
	import ctypes, sys
	import dns.message, dns.rdatatype
	libc = ctypes.CDLL(None)
	buf = ctypes.create_string_buffer(4096)
	n = libc.res_query(sys.argv[1].encode(), 1, 33, buf, 4096)
	if n < 0:
	    sys.exit(0)
	m = dns.message.from_wire(buf.raw[:n], ignore_trailing=True)
	for rrset in m.answer:
	    if rrset.rdtype == dns.rdatatype.SRV:
	        for r in rrset:
	            print(r.priority, r.weight, r.port,
	                  str(r.target).rstrip("."))
	EOF
}

cleanup() {
	local name
	if ! dc_sh status "$ODJ_DC_PREFIX" dc1 >/dev/null 2>&1 ||
		! dc_sh status "$ODJ_DC_PREFIX" dc2 >/dev/null 2>&1; then
		dc_sh start "$ODJ_DC_PREFIX" writable >/dev/null 2>&1
	fi
	[ $LOCATOR = 0 ] || dc_sh dns "$ODJ_DC_PREFIX" locator-delete >/dev/null 2>&1
	for name in $ALLOWED; do
		reveal delete "$name" >/dev/null 2>&1
	done
	for name in $ACCOUNTS; do
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
	done
	dc_sh replicate "$ODJ_DC_PREFIX" >/dev/null 2>&1
	rm -rf "$S"
}
trap cleanup EXIT

# ---- the environment ----

check "dc2 and rodc1 have addresses" \
	'[ -n "$ODJ_DC2_IP" ] && [ -n "$ODJ_RODC_IP" ] && [ -n "$ODJ_NODC_IP" ]'
testit "dc1 runs" dc_sh status "$ODJ_DC_PREFIX" dc1
testit "dc2 runs" dc_sh status "$ODJ_DC_PREFIX" dc2
testit "rodc1 runs" dc_sh status "$ODJ_DC_PREFIX" rodc1
testit_grep "dc2 answers LDAP as itself" "^dnsHostName: $ODJ_DC2_NAME" \
	ldb_on "$ODJ_DC2_NAME" -s base -b '' dnsHostName
testit "dc2's own KDC issues the administrator a ticket" admin_kinit \
	"$ODJ_DC2_KRB5_CONFIG"

# ---- replication both ways ----

ACCOUNTS="$M1 $M2 $MP $MT $MN"
testit "computer $M1 made on dc1" mkcomputer "$ODJ_DC_NAME" "$M1"
testit "computer $M2 made on dc2" mkcomputer "$ODJ_DC2_NAME" "$M2"
t0=$(ms)
testit "replicate dc1 -> dc2" dc_sh replicate "$ODJ_DC_PREFIX" dc2 dc1 DOMAIN
testit "replicate dc2 -> dc1" dc_sh replicate "$ODJ_DC_PREFIX" dc1 dc2 DOMAIN
printf 'replication of the domain NC both ways: %s s\n' "$(since "$t0")"
testit "$M1 (made on dc1) is on dc2" present "$ODJ_DC2_NAME" "$M1"
testit "$M2 (made on dc2) is on dc1" present "$ODJ_DC_NAME" "$M2"
testit_expect_failure "an RODC is no replication source" \
	dc_sh replicate "$ODJ_DC_PREFIX" dc1 rodc1

# ---- sites ----

testit_grep "dc2's server object is in Site2" \
	"^dn: CN=$ODJ_DC2_NETBIOS,CN=Servers,CN=Site2,CN=Sites," \
	ldb_on "$ODJ_DC_NAME" -b "$CONFIG" "(&(objectClass=server)(cn=$ODJ_DC2_NETBIOS))" serverReference
testit_grep "rodc1's server object is in Branch" \
	"^dn: CN=$ODJ_RODC_NETBIOS,CN=Servers,CN=Branch,CN=Sites," \
	ldb_on "$ODJ_DC_NAME" -b "$CONFIG" "(&(objectClass=server)(cn=$ODJ_RODC_NETBIOS))" serverReference
testit_grep "Site2 has the subnet $ODJ_DC2_IP/32" "^siteObject: CN=Site2," \
	ldb_on "$ODJ_DC_NAME" -b "CN=Subnets,CN=Sites,$CONFIG" "(cn=$ODJ_DC2_IP/32)" siteObject
testit_grep "Branch has the subnet $ODJ_RODC_IP/32" "^siteObject: CN=Branch," \
	ldb_on "$ODJ_DC_NAME" -b "CN=Subnets,CN=Sites,$CONFIG" "(cn=$ODJ_RODC_IP/32)" siteObject
testit_grep "netlogon ping: dc1 is in Default-First-Site-Name" \
	"Server Site Name: +Default-First-Site-Name" \
	net ads lookup -S "$ODJ_DC_NAME" -s "$CONF"
testit_grep "netlogon ping: dc2 is in Site2" "Server Site Name: +Site2" \
	net ads lookup -S "$ODJ_DC2_NAME" -s "$CONF"
testit_grep "netlogon ping: rodc1 is in Branch" "Server Site Name: +Branch" \
	net ads lookup -S "$ODJ_RODC_NAME" -s "$CONF"

# ---- what marks an RODC ----

testit_grep "rodc1's NTDS Settings: msDS-isRODC TRUE" "^msDS-isRODC: TRUE" \
	ldb_on "$ODJ_DC_NAME" -b "CN=NTDS Settings,CN=$ODJ_RODC_NETBIOS,CN=Servers,CN=Branch,CN=Sites,$CONFIG" -s base msDS-isRODC
testit_grep "dc2's NTDS Settings: msDS-isRODC FALSE" "^msDS-isRODC: FALSE" \
	ldb_on "$ODJ_DC_NAME" -b "CN=NTDS Settings,CN=$ODJ_DC2_NETBIOS,CN=Servers,CN=Site2,CN=Sites,$CONFIG" -s base msDS-isRODC
uac=$(ldb_on "$ODJ_DC_NAME" "(sAMAccountName=$ODJ_RODC_NETBIOS\$)" userAccountControl 2>/dev/null |
	sed -n 's/^userAccountControl: //p')
check "rodc1's account: UF_PARTIAL_SECRETS_ACCOUNT | UF_WORKSTATION_TRUST_ACCOUNT" \
	'[ -n "$uac" ] && [ $((uac & 0x04001000)) = $((0x04001000)) ]'
testit_grep "rodc1's account: primary group 521 (Read-only Domain Controllers)" \
	"^primaryGroupID: 521" \
	ldb_on "$ODJ_DC_NAME" "(sAMAccountName=$ODJ_RODC_NETBIOS\$)" primaryGroupID
testit_grep "rodc1's account has its own krbtgt (msDS-KrbTgtLink)" \
	"^msDS-KrbTgtLink: CN=krbtgt_[0-9]+," \
	ldb_on "$ODJ_DC_NAME" "(sAMAccountName=$ODJ_RODC_NETBIOS\$)" msDS-KrbTgtLink
testit_grep "netlogon ping: rodc1 is not writable" "Is writable: +no" \
	net ads lookup -S "$ODJ_RODC_NAME" -s "$CONF"
testit_grep "netlogon ping: rodc1 has some secrets (SELECT_SECRET_DOMAIN_6)" \
	"has some secrets: +yes" net ads lookup -S "$ODJ_RODC_NAME" -s "$CONF"
testit_grep "netlogon ping: dc2 is writable" "Is writable: +yes" \
	net ads lookup -S "$ODJ_DC2_NAME" -s "$CONF"

# ---- DNS for DC choice ----

generic=_ldap._tcp.dc._msdcs.$ODJ_DNS_DOMAIN
site2=_ldap._tcp.Site2._sites.dc._msdcs.$ODJ_DNS_DOMAIN
branch=_ldap._tcp.Branch._sites.dc._msdcs.$ODJ_DNS_DOMAIN
locator=_ldap._tcp.Locator._sites.dc._msdcs.$ODJ_DNS_DOMAIN

out=$(srv "$generic")
check "default resolver: the generic record names dc1 only" \
	'[ "$out" = "1 100 389 $ODJ_DC_NAME" ]'
out=$(srv "$site2")
check "default resolver: no Site2 record (existing tests unchanged)" \
	'[ -z "$out" ]'
odj_env_dns sites
out=$(srv "$site2")
check "odj_env_dns sites: Site2 -> dc2" '[ "$out" = "1 100 389 $ODJ_DC2_NAME" ]'
out=$(srv "$branch")
check "odj_env_dns sites: Branch -> rodc1" '[ "$out" = "1 100 389 $ODJ_RODC_NAME" ]'
odj_env_dns dc
out=$(srv "$generic" | sort)
check "odj_env_dns dc: the generic record names dc1 and dc2, not the RODC" \
	'[ "$out" = "0 100 389 $ODJ_DC_NAME
0 100 389 $ODJ_DC2_NAME" ]'
out=$(srv "$branch")
check "odj_env_dns dc: Branch -> rodc1" '[ "$out" = "0 100 389 $ODJ_RODC_NAME" ]'
LOCATOR=1
testit "dc.sh dns locator" dc_sh dns "$ODJ_DC_PREFIX" locator
out=$(srv "$locator" | sort -n -k1,1 -k2,2r)
check "site Locator: RODC first, then no DC, then dc2:dc1 weighted 90:10" \
	'[ "$out" = "0 100 389 $ODJ_RODC_NAME
10 100 389 $ODJ_NODC_NAME
20 90 389 $ODJ_DC2_NAME
20 10 389 $ODJ_DC_NAME" ]'
testit_grep "$ODJ_NODC_NAME resolves to $ODJ_NODC_IP" "^$ODJ_NODC_IP\$" \
	"$PY" -c "import socket; print(socket.gethostbyname('$ODJ_NODC_NAME'))"
testit_expect_failure "no DC answers at $ODJ_NODC_NAME" \
	ldb_on "$ODJ_NODC_NAME" -s base -b '' dnsHostName
testit "dc.sh dns locator-delete" dc_sh dns "$ODJ_DC_PREFIX" locator-delete
LOCATOR=0
out=$(srv "$locator")
check "site Locator records gone" '[ -z "$out" ]'
odj_env_dns hosts

# ---- the RODC's password replication policy ----

testit "computer $MP made on dc1" mkcomputer "$ODJ_DC_NAME" "$MP"
testit "computer $MT made on dc1" mkcomputer "$ODJ_DC_NAME" "$MT"
testit "computer $MN made on dc1" mkcomputer "$ODJ_DC_NAME" "$MN"
for name in "$MP" "$MT"; do
	ALLOWED="$ALLOWED $name"
	testit "$name allowed on rodc1 (msDS-RevealOnDemandGroup)" \
		reveal add "$name"
done
testit_expect_failure "$MP not cached on rodc1 yet" cached "$MP"
t0=$(ms)
testit_grep "samba-tool rodc preload $MP\$" "Replicating DN CN=$MP," \
	samba-tool rodc preload "$MP\$" --server="$ODJ_DC_NAME" \
	-s "$ODJ_RODC_SMBCONF"
printf 'samba-tool rodc preload: %s s\n' "$(since "$t0")"
testit "$MP cached on rodc1 (unicodePwd in its sam.ldb)" cached "$MP"
testit_grep "dc1 lists $MP in rodc1's msDS-RevealedUsers" "CN=$MP,CN=Computers," \
	ldb_on "$ODJ_DC_NAME" "(sAMAccountName=$ODJ_RODC_NETBIOS\$)" \
	msDS-RevealedUsers
# A Samba RODC's KDC asks its drepl service for the secrets of any account
# it has none for (source4/kdc/db-glue.c): a wrong password is enough.
testit_expect_failure "AS-REQ for $MT to rodc1 with a wrong password" \
	kinit_with "$ODJ_RODC_KRB5_CONFIG" "$MT" wrong-password
testit "$MT cached on rodc1 after that AS-REQ" wait_cached "$MT" \
	kinit_with "$ODJ_RODC_KRB5_CONFIG" "$MT" wrong-password
# the RODC's KDC must know the account to forward its AS-REQ: the object
# replicates on the RODC's schedule, so pull it now (dc1 -> rodc1)
testit "rodc1 has $MN (dc.sh replicate rodc1 dc1)" \
	dc_sh replicate "$ODJ_DC_PREFIX" rodc1 dc1
testit "kinit $MN through rodc1 (forwarded to a writable DC)" \
	kinit_with "$ODJ_RODC_KRB5_CONFIG" "$MN" "$(pw "$MN")"
sleep 2
testit_expect_failure "$MN not cached on rodc1 (not allowed)" cached "$MN"

# ---- the RODC alone ----

t0=$(ms)
testit "stop the writable DCs" dc_sh stop "$ODJ_DC_PREFIX" writable
testit_expect_failure "dc1 is down" dc_sh status "$ODJ_DC_PREFIX" dc1
testit_expect_failure "dc2 is down" dc_sh status "$ODJ_DC_PREFIX" dc2
testit_expect_failure "no kinit through dc1's KDC" \
	kinit_with "$KRB5_CONFIG" "$MP" "$(pw "$MP")"
# MIT's kinit takes ~27 s to fail against an RODC alone: the RODC answers
# KDC_ERR_SVC_UNAVAILABLE at once (it cannot forward), and libkrb5 takes
# that answer as "try another KDC" and retries until its own timeout.  So
# the two failing kinits run in the background meanwhile.  A wrong password
# is not final on an RODC either: it asks a writable DC (whose password may
# be newer), and there is none.
( kinit_fails_with "$ODJ_RODC_KRB5_CONFIG" "$MN" "$(pw "$MN")" \
	"service is not available" >"$S/fail-mn.log" 2>&1 ) &
fail_mn=$!
( kinit_fails_with "$ODJ_RODC_KRB5_CONFIG" "$MP" wrong-password \
	"service is not available" >"$S/fail-wrong.log" 2>&1 ) &
fail_wrong=$!
testit "rodc1 alone: kinit $MP (preloaded)" \
	kinit_with "$ODJ_RODC_KRB5_CONFIG" "$MP" "$(pw "$MP")"
testit "rodc1 alone: kinit $MT (cached after an AS-REQ)" \
	kinit_with "$ODJ_RODC_KRB5_CONFIG" "$MT" "$(pw "$MT")"
t1=$(ms)
if wait $fail_mn; then
	_pass "rodc1 alone: kinit $MN (not cached) fails"
else
	_fail "rodc1 alone: kinit $MN (not cached) fails" "$(cat "$S/fail-mn.log")"
fi
if wait $fail_wrong; then
	_pass "rodc1 alone: kinit $MP with a wrong password fails"
else
	_fail "rodc1 alone: kinit $MP with a wrong password fails" \
		"$(cat "$S/fail-wrong.log")"
fi
printf 'waited %s s more for the failing kinits\n' "$(since "$t1")"
testit "start the writable DCs again" dc_sh start "$ODJ_DC_PREFIX" writable
printf 'writable DCs stopped and started again: %s s\n' "$(since "$t0")"
testit "kinit $MN through dc1 again" kinit_with "$KRB5_CONFIG" "$MN" "$(pw "$MN")"

# ---- clean up, proven ----

for name in $ALLOWED; do
	testit "$name no longer allowed on rodc1" reveal delete "$name"
done
ALLOWED=""
for name in $ACCOUNTS; do
	testit "delete $name" samba-tool computer delete "$name" \
		-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF"
done
testit "replicate the deletions" dc_sh replicate "$ODJ_DC_PREFIX"
for name in $ACCOUNTS; do
	testit_expect_failure "$name gone from dc2" present "$ODJ_DC2_NAME" "$name"
	testit_expect_failure "$name gone from rodc1's cache" cached "$name"
done
ACCOUNTS=""

exit $failed
