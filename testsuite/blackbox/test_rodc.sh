#!/bin/bash
# Branch offices whose only DC is read-only (issue 19).  odj provision
# rodc= allows each machine's password on the RODC's Password
# Replication Policy (its own msDS-RevealOnDemandGroup), and refuses a
# machine the policy denies (no account left) and a rodc= that is a
# writable DC (before any write); odj rodc-preload on the RODC caches the
# passwords there (EXOP_REPL_SECRET, as the RODC's machine account);
# then, with every writable DC stopped, a client joined offline with odj
# requestodj from one of those blobs works against the RODC alone:
# Kerberos with its keytab, net ads testjoin with the DC found through
# the blob's site (which requestodj put into Samba's sitename cache),
# net rpc testjoin and winbindd (wbinfo -t); a machine provisioned
# without rodc= gets no ticket there.  The writable DCs start again,
# every account is deleted, and the RODC's cache forgets them.
#
# needs: dc rodc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
. "$(dirname "$0")/dc_env.sh"

CONF=$ODJ_ADMIN_SMBCONF
BASE=$DOMDN
RODC_SAM=$ODJ_DC_PREFIX/rodc1/private/sam.ldb
DENIED_GROUP="Denied RODC Password Replication Group"

TAG=$(printf '%05d' $(($$ % 100000)))
B1=RBA$TAG		# batch, allowed on the RODC
B2=RBB$TAG
B3=RBC$TAG
RN=RBN$TAG		# no rodc=
RD=RBD$TAG		# denied by the RODC's policy: refused
RW=RBW$TAG		# rodc= names a writable DC: refused
ACCOUNTS="$B1 $B2 $B3 $RN $RD $RW"
CLIENTS=""
DENIED_ADDED=0
started=$SECONDS

dc_sh() { "$ENVD/dc.sh" "$@"; }

ldb_dc() {
	ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF" \
		"$@" 2>/dev/null
}

present() { ldb_dc "(sAMAccountName=$1\$)" dn | grep -q '^dn: '; }

usn() { ldb_dc -b "" -s base highestCommittedUSN | sed -n 's/^highestCommittedUSN: //p'; }

# allowed NAME: in the RODC's own msDS-RevealOnDemandGroup (on dc1)
allowed() {
	ldb_dc "(sAMAccountName=$ODJ_RODC_NETBIOS\$)" msDS-RevealOnDemandGroup |
		tr -d '\n ' | grep -q "CN=$1,CN=Computers,"
}

# cached NAME: the RODC's own database holds NAME's password
cached() {
	ldbsearch -H "$RODC_SAM" "(sAMAccountName=$1\$)" unicodePwd \
		2>/dev/null | grep -q '^unicodePwd::'
}

provision() {
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		-s "$CONF" -U "$ADMIN" "$@"
}

preload() { odj rodc-preload -s "$ODJ_RODC_SMBCONF" "$@"; }

denied_group() {
	samba-tool group "$1" "$DENIED_GROUP" "Domain Computers" \
		-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF"
}

# new_client DIR NAME: a member config, with its own client address
new_client() {
	local cp=$S/clients/$1
	"$ENVD/client.sh" new "$cp" "$2" 2>/dev/null || return 1
	CLIENTS="$CLIENTS $cp"
}

# in_branch CMD...: with /etc/resolv.conf naming the RODC's DNS server
# (a mount namespace of its own): Samba's DC discovery reads that file
in_branch() {
	unshare -m --propagation private -- /bin/bash -c \
		'mount --bind "$0" /etc/resolv.conf && exec "$@"' \
		"$S/resolv.branch" "$@"
}

# kinit_kt KEYTAB NAME: a TGT from the keytab, then a ticket for the
# RODC's LDAP service
kinit_kt() {
	KRB5CCNAME=FILE:$S/$2.cc kinit -k -t "$1" "$2\$@$ODJ_REALM" &&
		KRB5CCNAME=FILE:$S/$2.cc kvno "ldap/$ODJ_RODC_NAME"
}

# kinit_kt_dc KEYTAB NAME: the same at the writable DC
kinit_kt_dc() {
	KRB5CCNAME=FILE:$S/$2.dc.cc kinit -k -t "$1" "$2\$@$ODJ_REALM"
}

# no_ticket_from_rodc KEYTAB NAME: the RODC holds no password for NAME
# and reaches no writable DC.  It answers KDC_ERR_SVC_UNAVAILABLE, which
# MIT's libkrb5 (1.20) drops without a trace line, waiting for another
# answer until its own timeout (~27 s; krb5.conf has no setting for it:
# kdc_timeout and max_retries are Heimdal's), then retries with the
# "primary" KDC and fails with that error.  Run in the background.
no_ticket_from_rodc() {
	local out
	out=$(KRB5CCNAME=FILE:$S/$2.cc kinit -k -t "$1" "$2\$@$ODJ_REALM" 2>&1) && {
		echo "unexpected success"
		return 1
	}
	printf '%s\n' "$out" | grep -q "A service is not available" &&
		! klist -s -c "FILE:$S/$2.cc" 2>/dev/null || {
		printf '%s\n' "$out"
		return 1
	}
}

# report_has FILE PYTHON-CONDITION (on the document d)
report_has() {
	/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"
}

cleanup() {
	local cp name
	for cp in $CLIENTS; do
		"$ENVD/client.sh" stop "$cp" >/dev/null 2>&1
	done
	if ! dc_sh status "$ODJ_DC_PREFIX" dc1 >/dev/null 2>&1; then
		dc_sh start "$ODJ_DC_PREFIX" writable >/dev/null 2>&1
	fi
	[ $DENIED_ADDED = 0 ] || denied_group removemembers >/dev/null 2>&1
	for name in $ACCOUNTS; do
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
	done
	rm -rf "$S"
}
trap cleanup EXIT

printf 'nameserver %s\n' "$ODJ_RODC_IP" >"$S/resolv.branch"

# ---- what provision refuses ----

usn0=$(usn)
testit_exit "rodc= naming a writable DC: refused" 6 \
	"rodc=$ODJ_DC_NETBIOS: .* is a writable domain controller" \
	provision machine_name="$RW" savefile="$S/$RW.odj" rodc="$ODJ_DC_NETBIOS"
testit_exit "rodc= naming no computer: refused" 6 "no computer account" \
	provision machine_name="$RW" savefile="$S/$RW.odj" rodc="NO$TAG"
testit_exit "rodc_group= without rodc=: usage" 2 "rodc_group= needs rodc=" \
	provision machine_name="$RW" savefile="$S/$RW.odj" \
	rodc_group="Allowed RODC Password Replication Group"
testit_exit "rodc_group= a group the RODC denies: refused" 5 \
	"rodc_group=.*$DENIED_GROUP.*denies it" \
	provision machine_name="$RW" savefile="$S/$RW.odj" \
	rodc="$ODJ_RODC_NETBIOS" rodc_group="$DENIED_GROUP"
check "...all before any write (no account, no blob, the DC's USN unchanged)" \
	'! present "$RW" && [ ! -e "$S/$RW.odj" ] && [ "$(usn)" = "$usn0" ]'

# A machine the RODC's policy denies: Domain Computers, its primary
# group, made a member of the RODC's denied group (tokenGroups, nested)
DENIED_ADDED=1
testit "Domain Computers into the $DENIED_GROUP" denied_group addmembers
testit_exit "a machine the RODC denies: refused" 5 \
	"$RD,.* is denied on the RODC $ODJ_RODC_NAME: .*$DENIED_GROUP.*was deleted again" \
	provision machine_name="$RD" savefile="$S/$RD.odj" rodc="$ODJ_RODC_NETBIOS"
check "...no account, no blob, not in the RODC's allowed list" \
	'! present "$RD" && [ ! -e "$S/$RD.odj" ] && ! allowed "$RD"'
testit "Domain Computers out of the $DENIED_GROUP again" \
	denied_group removemembers
DENIED_ADDED=0

# ---- a batch for the branch ----

printf 'name\n%s\n%s\n%s\n' "$B1" "$B2" "$B3" >"$S/branch.csv"
mkdir "$S/blobs"
testit_grep "batch of 3 with rodc=$ODJ_RODC_NETBIOS psite=Branch: pre-populate with the report" \
	"^  odj rodc-preload report=$S/report.json\$" \
	provision batch="$S/branch.csv" savedir="$S/blobs" \
	report="$S/report.json" rodc="$ODJ_RODC_NETBIOS" psite=Branch
for name in "$B1" "$B2" "$B3"; do
	testit "$name in $ODJ_RODC_NAME's msDS-RevealOnDemandGroup" allowed "$name"
done
check "the report names the RODC for each machine" \
	'report_has "$S/report.json" "all(m[\"rodcs\"] == [\"$ODJ_RODC_NAME\"] for m in d[\"machines\"])"'
out=$(odj dump "$S/blobs/$B1.odj")
check "$B1's blob carries the branch site (JOIN_PROVIDER2, persistent)" \
	'printf "%s\n" "$out" | grep -q "site name: Branch\$" &&
	 printf "%s\n" "$out" | grep -q "OP_JP2_FLAG_PERSISTENTSITE"'
testit_grep "the batch again: resumed, all skipped and still allowed" \
	"0 created, 0 reused, 3 skipped, 0 failed" \
	provision batch="$S/branch.csv" savedir="$S/blobs" \
	rodc="$ODJ_RODC_NETBIOS" psite=Branch
testit "provision $RN without rodc=" \
	provision machine_name="$RN" savefile="$S/$RN.odj"
out=$(provision machine_name="$RW" printblob rodc="$ODJ_RODC_NETBIOS" --json)
check "--json: rodcs and rodc_preload, valid by the schema" \
	'printf "%s\n" "$out" | /usr/bin/python3 "$ODJ_TOP/testsuite/blackbox/json_check.py" -c provision -o true -k rodc_preload'
check "...and its blob's site defaults to $ODJ_RODC_NAME's (dynamic)" \
	'printf "%s\n" "$out" | grep -q "the blob.s site is Branch, that of $ODJ_RODC_NAME"'
testit "...account deleted" samba-tool computer delete "$RW" \
	-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF"

# ---- pre-population on the RODC ----

testit_expect_failure "$B1 not cached on the RODC yet" cached "$B1"
t0=$SECONDS
testit_grep "rodc-preload report=: 3 cached" \
	"3 cached, 0 already cached, 0 denied, 0 failed, 0 not started" \
	preload report="$S/report.json" savereport="$S/preload.json"
printf 'rodc-preload of 3 machines: %d s\n' $((SECONDS - t0))
for name in "$B1" "$B2" "$B3"; do
	testit "$name cached on the RODC (unicodePwd in its sam.ldb)" cached "$name"
done
testit_grep "dc1 lists $B1 in the RODC's msDS-RevealedUsers" "CN=$B1,CN=Computers," \
	ldb_dc "(sAMAccountName=$ODJ_RODC_NETBIOS\$)" msDS-RevealedUsers
check "the saved report: 3 cached, as the RODC's machine account" \
	'report_has "$S/preload.json" "d[\"summary\"][\"cached\"] == 3 and d[\"account\"] == \"$ODJ_RODC_NETBIOS\$\""'
testit_grep "rodc-preload savedir=: resumed, all already cached" \
	"0 cached, 3 already cached" preload savedir="$S/blobs"
testit_exit "rodc-preload $RN (not allowed): denied by the policy" 7 \
	"$RN: .*password replication policy does not allow $RN" \
	preload "$RN"
testit_expect_failure "$RN not cached" cached "$RN"
out=$(preload "$B1" --force --json)
check "rodc-preload --force --json: cached again, valid by the schema" \
	'printf "%s\n" "$out" | /usr/bin/python3 "$ODJ_TOP/testsuite/blackbox/json_check.py" -c rodc-preload -o true &&
	 printf "%s\n" "$out" | grep -q "\"status\": \"cached\""'
testit_exit "rodc-preload with credentials: refused (it is the RODC's account)" 2 \
	"takes no credentials" preload "$B1" -U "$ADMIN"
testit_exit "rodc-preload with a writable DC's smb.conf: refused" 4 \
	"is a writable DC's" odj rodc-preload "$B1" -s "$ODJ_DC_SMBCONF"

# ---- the branch clients, joined offline ----

new_client a "$B1" || _fail "client.sh new $B1"
new_client n "$RN" || _fail "client.sh new $RN"
CA=$S/clients/a/etc/smb.conf
CN=$S/clients/n/etc/smb.conf
testit_grep "requestodj $B1: the blob's site stored for Samba's DC locator" \
	"^site Branch stored for Samba's DC locator: $S/clients/a/lock/gencache.tdb\$" \
	odj requestodj loadfile="$S/blobs/$B1.odj" -s "$CA"
testit "...a record Samba's gencache takes (realm)" \
	net cache get "AD_SITENAME/DOMAIN/$ODJ_REALM" -s "$CA"
testit "...and the domain's" net cache get "AD_SITENAME/DOMAIN/$ODJ_DOMAIN" -s "$CA"
out=$(odj requestodj loadfile="$S/$RN.odj" -s "$CN" 2>&1)
check "requestodj $RN (no site in its blob): none stored" \
	'printf "%s\n" "$out" | grep -q "^Joined" &&
	 ! printf "%s\n" "$out" | grep -q "DC locator"'
# DC discovery: no DC named in smb.conf
sed -i '/password server/d' "$CA" "$CN"

# ---- the RODC alone ----

t0=$SECONDS
testit "stop the writable DCs" dc_sh stop "$ODJ_DC_PREFIX" writable
export KRB5_CONFIG=$ODJ_RODC_KRB5_CONFIG
testit "RODC alone: kinit -k -t keytab $B1\$, and a ticket for its LDAP" \
	kinit_kt "$S/clients/a/private/krb5.keytab" "$B1"
( no_ticket_from_rodc "$S/clients/n/private/krb5.keytab" "$RN" \
	>"$S/rn-kinit.log" 2>&1 ) &
rn_kinit=$!
testit_grep "RODC alone: net ads info finds the RODC through the blob's site" \
	"^LDAP server: $ODJ_RODC_IP\$" in_branch net ads info -s "$CA"
testit_grep "RODC alone: net ads testjoin (the DC found the same way)" \
	"Join is OK" in_branch net ads testjoin -s "$CA"
testit_expect_failure "RODC alone: without the site ($RN's blob) no DC is found" \
	in_branch net ads info -s "$CN"
# winbindd: the RODC named (see docs/rodc.md for why, with Samba 4.17),
# and its retry after the online check that wants a writable DC short
sed -i "s/^\[global\]/[global]\n    password server = $ODJ_RODC_NAME\n    winbind reconnect delay = 3/" "$CA"
testit "RODC alone: net rpc testjoin -S $ODJ_RODC_NAME" \
	net rpc testjoin -S "$ODJ_RODC_NAME" -s "$CA"
testit "RODC alone: winbindd ($B1)" "$ENVD/client.sh" start-winbindd "$S/clients/a"
testit "RODC alone: wbinfo -t" "$ENVD/client.sh" run "$S/clients/a" wbinfo -t
testit_grep "RODC alone: wbinfo --ping-dc talks to the RODC" "$ODJ_RODC_NAME" \
	"$ENVD/client.sh" run "$S/clients/a" wbinfo --ping-dc
testit_expect_failure "RODC alone: no machine password change (needs a writable DC)" \
	"$ENVD/client.sh" run "$S/clients/a" wbinfo --change-secret
"$ENVD/client.sh" stop "$S/clients/a" >/dev/null 2>&1
t1=$SECONDS
if wait $rn_kinit; then
	_pass "RODC alone: $RN (no rodc=) gets no ticket (A service is not available)"
else
	_fail "RODC alone: $RN (no rodc=) gets no ticket (A service is not available)" \
		"$(cat "$S/rn-kinit.log")"
fi
printf 'waited %d s more for the failing kinit\n' $((SECONDS - t1))
unset KRB5_CONFIG
testit "start the writable DCs again" dc_sh start "$ODJ_DC_PREFIX" writable
printf 'the RODC alone, writable DCs stopped and started: %d s\n' $((SECONDS - t0))
testit "$RN's keytab works at dc1 (the RODC's refusal was the policy's)" \
	kinit_kt_dc "$S/clients/n/private/krb5.keytab" "$RN"

# ---- clean up, proven ----

for name in "$B1" "$B2" "$B3" "$RN"; do
	testit "delete $name" samba-tool computer delete "$name" \
		-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF"
done
ACCOUNTS=""
testit "replicate the deletions to the RODC" \
	dc_sh replicate "$ODJ_DC_PREFIX" rodc1 dc1 DOMAIN
for name in "$B1" "$B2" "$B3"; do
	testit_expect_failure "$name gone from the RODC's cache" cached "$name"
	testit_expect_failure "$name gone from its allowed list" allowed "$name"
done

printf 'test_rodc: %d s\n' $((SECONDS - started))
exit $failed
