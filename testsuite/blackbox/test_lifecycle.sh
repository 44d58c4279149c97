#!/bin/bash
# odj verify, status and expire: a blob's life after provisioning.
#
# needs: dc
#
# Four machines provisioned in one batch: A joins (odj requestodj, then
# its winbindd's first contact rotates the password), B's password is
# reset with samba-tool, C's account is deleted, D is left alone.  status
# says joined / changed / missing / pending; verify fails for A, B and C
# with the right reason and passes for D; expire days=0 lists D alone,
# --apply deletes D alone, and again changes nothing.  Bad input (a blob
# of another domain, a truncated blob, an unreadable savedir) is named
# file by file while the rest is processed.  --json documents are
# checked against the schema.  Every account made here is deleted, the
# winbindd started here stopped.

. "$(dirname "$0")/common.sh"
odj_scratch
. "$(dirname "$0")/dc_env.sh"

S=$ODJ_SCRATCH
CONF=$ODJ_ADMIN_SMBCONF
JSON_CHECK="/usr/bin/python3 $ODJ_TOP/testsuite/blackbox/json_check.py"

TAG=$(printf '%05d' $(($$ % 100000)))
A=LFA$TAG	# joins
B=LFB$TAG	# password reset by an administrator
C=LFC$TAG	# account deleted
D=LFD$TAG	# left alone: pending
ACCOUNTS="$A $B $C $D"
CLIENT=$S/clients/a

cleanup() {
	local name
	"$ENVD/client.sh" stop "$CLIENT" >/dev/null 2>&1
	for name in $ACCOUNTS; do
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			--configfile="$CONF" -U "$ADMIN" >/dev/null 2>&1
	done
	chmod -R u+rwx "$S" 2>/dev/null
	rm -rf "$S"
}
trap cleanup EXIT

dc_odj() {
	odj "$@" dcname="$ODJ_DC_NAME" -s "$CONF" -U "$ADMIN"
}

exists() {
	ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF" \
		"(sAMAccountName=$1\$)" dn 2>/dev/null | grep -q '^dn: '
}

# line OUTPUT NAME REGEX: NAME's line of OUTPUT matches REGEX
line() {
	printf '%s\n' "$1" | grep -E "^$2: " | grep -Eq -- "$3"
}

# --- provision the four in one batch, with a report
BLOBS=$S/blobs
mkdir -p "$BLOBS"
printf '%s\n' "$A" "$B" "$C" "$D" >"$S/batch.txt"
testit "batch of four" dc_odj provision domain="$ODJ_DNS_DOMAIN" \
	batch="$S/batch.txt" savedir="$BLOBS" report="$S/report.json"
PROVISIONED=$SECONDS

out=$(dc_odj status savedir="$BLOBS" 2>&1)
check "status right after provisioning: four pending" \
	'printf "%s\n" "$out" | grep -q "4 pending, 0 joined"'
testit "verify right after provisioning: all valid" \
	dc_odj verify savedir="$BLOBS"

# --- A joins: requestodj, then winbindd's first contact
CA=$("$ENVD/client.sh" new "$CLIENT" "$A" ${ODJ_LIFE_CLIENT_IP:-} \
	2>/dev/null) || { _fail "client.sh new $A"; exit $failed; }
sed -i "s/^\([[:space:]]*kerberos method = \).*/\1secrets only/" "$CA"
testit "requestodj $A" odj requestodj loadfile="$BLOBS/$A.odj" -s "$CA"
"$ENVD/client.sh" machine-password "$CLIENT" >"$S/a.old"
# a logon within 3 s of the password's setting is not a join (Samba's
# provision logs on as the machine itself): a real join comes later
while [ $((SECONDS - PROVISIONED)) -lt 5 ]; do
	sleep 0.5
done
testit "winbindd $A" "$ENVD/client.sh" start-winbindd "$CLIENT"
rotated() {
	local i
	for i in $(seq 1 60); do
		"$ENVD/client.sh" machine-password "$CLIENT" >"$S/a.new"
		cmp -s "$S/a.old" "$S/a.new" || return 0
		sleep 0.5
	done
	return 1
}
testit "first contact: winbindd changed $A's password" rotated
testit "wbinfo -t ($A, the new password)" \
	"$ENVD/client.sh" run "$CLIENT" wbinfo -t
"$ENVD/client.sh" stop "$CLIENT" >/dev/null 2>&1

# --- B reset by an administrator, C deleted
testit "samba-tool resets $B's password" samba-tool user setpassword \
	"$B\$" --newpassword="Odj-Reset-$TAG-Pw1!" -H "ldap://$ODJ_DC_NAME" \
	--configfile="$CONF" -U "$ADMIN"
testit "samba-tool deletes $C" samba-tool computer delete "$C" \
	-H "ldap://$ODJ_DC_NAME" --configfile="$CONF" -U "$ADMIN"

# --- status
out=$(dc_odj status savedir="$BLOBS" 2>&1) && rc=0 || rc=$?
check "status: exit 0" '[ $rc = 0 ]'
check "status: $A joined" 'line "$out" "$A" "^$A: joined: password changed .* logon "'
check "status: $B changed (no logon since)" \
	'line "$out" "$B" "^$B: changed: password changed .*no logon"'
check "status: $C missing" 'line "$out" "$C" "^$C: missing: no account $C\\$"'
check "status: $D pending" 'line "$out" "$D" "^$D: pending: password unchanged"'
check "status: summary" 'printf "%s\n" "$out" |
	grep -q "^4 blobs, asked $ODJ_DC_NAME: 1 pending, 1 joined, 1 changed, 1 missing, 0 replaced, 0 disabled, 0 unreadable$"'
out2=$(dc_odj status report="$S/report.json" 2>&1)
check "status report=: the same machines, the same answers" \
	'[ "$(printf "%s\n" "$out" | sort)" = "$(printf "%s\n" "$out2" | sort)" ]'
out2=$(dc_odj status savedir="$BLOBS" gc 2>&1)
check "status gc (the global catalog): the same answers" \
	'[ "$out" = "$out2" ]'
out2=$(script -qec "$ODJ status savedir='$BLOBS' dcname='$ODJ_DC_NAME' \
	-s '$CONF' -U '$ADMIN'" /dev/null 2>&1 | tr -d '\r')
check "status on a terminal: a table" \
	'printf "%s\n" "$out2" | grep -q "^MACHINE  *STATE  *PASSWORD SET  *LAST LOGON  *DETAIL" &&
	 printf "%s\n" "$out2" | grep -Eq "^$A +joined +20[0-9-]+ [0-9:]+Z +20"'
out2=$(cd "$S" && dc_odj status "blobs/$A.odj" "blobs/$D.odj" 2>&1)
check "status FILE FILE" 'line "$out2" "$A" joined && line "$out2" "$D" pending &&
	printf "%s\n" "$out2" | grep -q "^2 blobs"'
dc_odj status savedir="$BLOBS" --json >"$S/status.json" 2>/dev/null
testit "status --json: schema" sh -c "$JSON_CHECK -c status -o true <'$S/status.json'"
check "status --json: states" '[ "$(/usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
print(\" \".join(m[\"state\"] for m in sorted(d[\"machines\"], key=lambda m: m[\"name\"])))
" "$S/status.json")" = "joined changed missing pending" ]'
check "status --json: $A has a lastLogonTimestamp" '/usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
m = [m for m in d[\"machines\"] if m[\"name\"] == sys.argv[2]][0]
sys.exit(0 if m[\"last_logon_timestamp\"] and m[\"dc\"] == sys.argv[3] else 1)
" "$S/status.json" "$A" "$ODJ_DC_NAME"'

# --- verify
out=$(dc_odj verify savedir="$BLOBS" 2>&1) && rc=0 || rc=$?
check "verify: exit 7 (some not valid)" '[ $rc = 7 ]'
check "verify: $A spent (joined)" \
	'line "$out" "$A" "NOT valid.*password: the KDC of $ODJ_DC_NAME refuses the blob.s password.*the machine joined"'
check "verify: $B password changed" \
	'line "$out" "$B" "NOT valid.*password: .*refuses the blob.s password.*changed since the blob was made"'
check "verify: $C no account" 'line "$out" "$C" "NOT valid.*account: no account $C"'
check "verify: $D valid" 'line "$out" "$D" "^$D: valid on $ODJ_DC_NAME: the KDC .* accepts"'
check "verify: $A, $B, $C name exactly one failing check" \
	'[ "$(printf "%s\n" "$out" | grep -E "^($A|$B|$C): NOT valid" | grep -c ";")" = 0 ]'
testit "verify $D alone: exit 0" dc_odj verify loadfile="$BLOBS/$D.odj"
testit_exit "verify $A alone: exit 7" 7 "NOT valid" \
	dc_odj verify loadfile="$BLOBS/$A.odj"
dc_odj verify savedir="$BLOBS" --json >"$S/verify.json" 2>/dev/null
testit "verify --json: schema" sh -c "$JSON_CHECK -c verify -o false <'$S/verify.json'"
check "verify --json: failing checks" '[ "$(/usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
for m in sorted(d[\"machines\"], key=lambda m: m[\"name\"]):
    bad = [k for k, v in m[\"checks\"].items() if v[\"result\"] == \"fail\"]
    print(m[\"name\"][:3], m[\"valid\"], \",\".join(bad))
" "$S/verify.json" | tr "\n" " ")" = "LFA False password LFB False password LFC False account LFD True  " ]'

# --- expire
out=$(dc_odj expire days=0 savedir="$BLOBS" 2>&1) && rc=0 || rc=$?
check "expire days=0 (dry run): exit 0" '[ $rc = 0 ]'
check "expire dry run: $D alone would be deleted" \
	'line "$out" "$D" "would-delete" &&
	 [ "$(printf "%s\n" "$out" | grep -c ": would-delete: ")" = 1 ]'
check "expire dry run: nothing deleted" 'exists "$D" && exists "$A" && exists "$B"'
out=$(dc_odj expire days=1 savedir="$BLOBS" 2>&1)
check "expire days=1: nothing that young" \
	'line "$out" "$D" "kept: pending since .*less than 1 days"'
dc_odj expire days=0 savedir="$BLOBS" --json >"$S/expire.json" 2>/dev/null
testit "expire --json: schema" sh -c "$JSON_CHECK -c expire -o true <'$S/expire.json'"
out=$(dc_odj expire days=0 savedir="$BLOBS" --apply 2>&1) && rc=0 || rc=$?
check "expire --apply: exit 0" '[ $rc = 0 ]'
check "expire --apply: $D deleted" 'line "$out" "$D" "deleted" && ! exists "$D"'
check "expire --apply: $A and $B kept" 'exists "$A" && exists "$B" &&
	line "$out" "$A" "kept: joined" && line "$out" "$B" "kept: changed"'
check "expire --apply: summary" \
	'printf "%s\n" "$out" | grep -q "4 blobs, asked .*: 1 deleted, 3 kept, 0 failed"'
out=$(dc_odj expire days=0 savedir="$BLOBS" apply 2>&1) && rc=0 || rc=$?
check "expire again: nothing more, exit 0" '[ $rc = 0 ] &&
	printf "%s\n" "$out" | grep -q ": 0 deleted, 4 kept, 0 failed" &&
	line "$out" "$D" "kept: missing" && exists "$A" && exists "$B"'
testit_exit "expire without days=: usage, exit 2" 2 "days=N" \
	dc_odj expire savedir="$BLOBS"

# --- bad input: another domain, truncated, unreadable savedir
head -c 1500 "$BLOBS/$A.odj" >"$S/trunc.odj"
mkdir "$S/locked" && cp "$BLOBS/$A.odj" "$S/locked/" && chmod 000 "$S/locked"
bad() {
	setpriv --bounding-set=-dac_override,-dac_read_search "$ODJ" "$@" \
		dcname="$ODJ_DC_NAME" -s "$CONF" -U "$ADMIN" \
		savedir="$BLOBS" loadfile="$ODJ_DATA/windows-2019-provision.odj" \
		"$S/trunc.odj" "$S/locked"
}
for cmd in status verify "expire days=0"; do
	out=$(bad $cmd 2>&1) && rc=0 || rc=$?
	check "bad input, $cmd: exit 7" '[ $rc = 7 ]'
	check "bad input, $cmd: the other domain named" \
		'printf "%s\n" "$out" | grep -q "windows-2019-provision.odj: a blob of domain w2k19dom.ber.redhat.com, not odj.test"'
	check "bad input, $cmd: the truncated blob named" \
		'printf "%s\n" "$out" | grep -Eq "trunc.odj: .*(truncated|base64)"'
	check "bad input, $cmd: the unreadable savedir named" \
		'printf "%s\n" "$out" | grep -q "cannot read the directory $S/locked: Permission denied"'
	check "bad input, $cmd: the rest processed" \
		'line "$out" "$A" "." && line "$out" "$B" "." && line "$out" "$C" "."'
done
bad status --json >"$S/bad.json" 2>/dev/null
testit "bad input --json: schema, ok false" \
	sh -c "$JSON_CHECK -c status -o false <'$S/bad.json'"
out=$(odj status "$S/trunc.odj" -s "$CONF" -U "$ADMIN" 2>&1) && rc=0 || rc=$?
check "nothing readable: exit 7, no DC asked" '[ $rc = 7 ] &&
	printf "%s\n" "$out" | grep -q "1 blobs, asked no DC"'
testit_exit "no input: usage, exit 2" 2 "name the blobs" \
	odj status -s "$CONF" -U "$ADMIN"
testit_grep "odj status --help (odj execs odj-dc)" "savedir=VALUE" \
	odj status --help

exit $failed
