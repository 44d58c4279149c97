#!/bin/bash
# Blobs and two writable DCs: what `odj provision batch= dcname=dc1,dc2`
# promises, and verify / status on either DC.
#
# needs: dc dc2
#
# A batch of 40 over dcname=dc1,dc2: about half the accounts made on each
# (as the blobs' DOMAIN_CONTROLLER_INFO and the report say), every one on
# both DCs after replication, status and verify giving the same answers
# on dc1 and dc2.  Then with dc1's outbound replication switched off: an
# account made on dc1 is "not found on dc2 (made on dc1: not replicated
# yet?)" on dc2, a password reset on dc1 shows as changed on dc1 and
# still pending on dc2, each answer naming the DC it asked; replication
# on again, the DCs agree.  expire --apply on dc1, stopped by SIGTERM
# after its first deletion, then run again, deletes every pending account
# once and keeps the reset one.  Every account is deleted (by odj expire,
# the rest by samba-tool) and dc1's replication options are restored.

. "$(dirname "$0")/common.sh"
odj_scratch
. "$(dirname "$0")/dc_env.sh"

S=$ODJ_SCRATCH
CONF=$ODJ_ADMIN_SMBCONF
PY=/usr/bin/python3
DC1=$ODJ_DC_NAME
DC2=$ODJ_DC2_NAME
N=40

TAG=$(printf '%05d' $(($$ % 100000)))
PREFIX=LM$TAG		# LM<tag>01 .. LM<tag>40
LATE=LN$TAG		# made on dc1 while it does not replicate
REPL_OFF=0

drs_option() {
	samba-tool drs options "$DC1" --dsa-option="$1" -U "$ADMIN" \
		--configfile="$CONF" >/dev/null 2>&1
}

# names LIKE on HOST
names_on() {
	ldbsearch -H "ldap://$1" -U "$ADMIN" --configfile="$CONF" \
		"(sAMAccountName=$2*)" sAMAccountName 2>/dev/null |
		sed -n 's/^sAMAccountName: \(.*\)\$$/\1/p' | sort
}

cleanup() {
	local name
	[ $REPL_OFF = 0 ] || drs_option -DISABLE_OUTBOUND_REPL
	if [ -n "$(names_on "$DC1" "$PREFIX")" ]; then
		odj expire days=0 savedir="$S/blobs" --apply dcname="$DC1" \
			-s "$CONF" -U "$ADMIN" >/dev/null 2>&1
	fi
	for name in $(names_on "$DC1" "$PREFIX") $(names_on "$DC1" "$LATE"); do
		samba-tool computer delete "$name" -H "ldap://$DC1" \
			--configfile="$CONF" -U "$ADMIN" >/dev/null 2>&1 ||
			echo "could not delete the account $name" >&2
	done
	"$ENVD/dc.sh" replicate "$ODJ_DC_PREFIX" >/dev/null 2>&1
	rm -rf "$S"
}
trap cleanup EXIT

# on HOST ODJ-ARGS...: odj against that DC
on() {
	local host=$1
	shift
	odj "$@" dcname="$host" -s "$CONF" -U "$ADMIN"
}

# states FILE: "NAME STATE" per machine of a --json document, sorted
states() {
	$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
for m in sorted(d["machines"], key=lambda m: m["name"] or ""):
    print(m["name"], m["state"], m.get("valid", ""))
' "$1"
}

# --- the batch over both DCs
for i in $(seq -w 1 $N); do
	printf '%s%s\n' "$PREFIX" "$i"
done >"$S/batch.txt"
mkdir "$S/blobs"
testit "batch of $N over dcname=dc1,dc2" on "$DC1,$DC2" provision \
	domain="$ODJ_DNS_DOMAIN" batch="$S/batch.txt" savedir="$S/blobs" \
	report="$S/report.json"

# the DC each blob names: DOMAIN_CONTROLLER_INFO's "\\dc1.odj.test", read
# from the NDR bytes (not through odj), beside the report's
$PY - "$S/blobs" "$DC1" "$DC2" <<-'EOF' | sort >"$S/made_on"
	import base64, os, sys
	d, dcs = sys.argv[1], sys.argv[2:]
	for f in os.listdir(d):
	    raw = open(os.path.join(d, f), 'rb').read()
	    ndr = base64.b64decode(raw[2:].decode('utf-16-le').rstrip('\0'))
	    named = [dc for dc in dcs if ('\\\\' + dc).encode('utf-16-le') in ndr]
	    print(f[:-4], named[0] if len(named) == 1 else 'unclear')
	EOF
n1=$(grep -c " $DC1\$" "$S/made_on")
n2=$(grep -c " $DC2\$" "$S/made_on")
check "blobs: $n1 made on dc1, $n2 on dc2, about half each" \
	'[ $((n1 + n2)) = $N ] && [ $n1 -ge $((N / 2 - 5)) ] && [ $n2 -ge $((N / 2 - 5)) ]'
$PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
for m in d["machines"]:
    print(m["name"], m["dc"])
' "$S/report.json" | sort >"$S/report_dc"
testit "the report names the same DC as each blob" diff "$S/made_on" "$S/report_dc"

testit "replicate" "$ENVD/dc.sh" replicate "$ODJ_DC_PREFIX"
check "all $N on dc1" '[ "$(names_on "$DC1" "$PREFIX" | wc -l)" = $N ]'
check "all $N on dc2" '[ "$(names_on "$DC2" "$PREFIX" | wc -l)" = $N ]'

# --- the same answers on either DC
on "$DC1" status savedir="$S/blobs" --json >"$S/s1.json" 2>/dev/null
on "$DC2" status savedir="$S/blobs" --json >"$S/s2.json" 2>/dev/null
check "status on dc1: $N pending" \
	'[ "$(states "$S/s1.json" | grep -c " pending")" = $N ]'
testit "status: the same on dc1 and dc2" diff <(states "$S/s1.json") \
	<(states "$S/s2.json")
check "status --json names the DC asked" \
	'grep -q "\"dc\": \"$DC2\"" "$S/s2.json" && grep -q "\"dc\": \"$DC1\"" "$S/s1.json"'
on "$DC1" verify savedir="$S/blobs" --json >"$S/v1.json" 2>/dev/null
on "$DC2" verify savedir="$S/blobs" --json >"$S/v2.json" 2>/dev/null
check "verify on dc2, accounts made on dc1 too: all valid" \
	'[ "$(states "$S/v2.json" | grep -c " True\$")" = $N ] &&
	 grep -q "\"valid\": $N," "$S/v2.json"'
testit "verify: the same on dc1 and dc2" diff <(states "$S/v1.json") \
	<(states "$S/v2.json")

# --- before replication: dc1 keeps its changes to itself
if drs_option +DISABLE_OUTBOUND_REPL; then
	REPL_OFF=1
	_pass "dc1: outbound replication off"
else
	_fail "dc1: outbound replication off"
fi
testit "provision $LATE on dc1" on "$DC1" provision \
	domain="$ODJ_DNS_DOMAIN" machine_name="$LATE" \
	savefile="$S/$LATE.odj"
R=${PREFIX}01
testit "reset $R's password on dc1" samba-tool user setpassword "$R\$" \
	--newpassword="Odj-Reset-$TAG-Pw1!" -H "ldap://$DC1" \
	--configfile="$CONF" -U "$ADMIN"
out1=$(on "$DC1" status "$S/$LATE.odj" "$S/blobs/$R.odj" 2>&1)
out2=$(on "$DC2" status "$S/$LATE.odj" "$S/blobs/$R.odj" 2>&1)
check "status on dc2: $LATE not replicated yet" \
	'printf "%s\n" "$out2" | grep -q "^$LATE: missing: not found on $DC2 (made on $DC1: not replicated yet?)"'
check "status on dc1: $LATE there, pending" \
	'printf "%s\n" "$out1" | grep -q "^$LATE: pending"'
check "status on dc1: $R changed, asked dc1" \
	'printf "%s\n" "$out1" | grep -q "^$R: changed: " &&
	 printf "%s\n" "$out1" | grep -q "^2 blobs, asked $DC1: "'
check "status on dc2: $R still pending, asked dc2" \
	'printf "%s\n" "$out2" | grep -q "^$R: pending: " &&
	 printf "%s\n" "$out2" | grep -q "^2 blobs, asked $DC2: "'
testit_exit "verify on dc2: $LATE not valid, not replicated yet" 7 \
	"^$LATE: NOT valid on $DC2: account: not found on $DC2 \\(made on $DC1: not replicated yet\\?\\)" \
	on "$DC2" verify loadfile="$S/$LATE.odj"

drs_option -DISABLE_OUTBOUND_REPL && REPL_OFF=0
check "dc1: outbound replication on again" '[ $REPL_OFF = 0 ]'
testit "replicate" "$ENVD/dc.sh" replicate "$ODJ_DC_PREFIX"
out2=$(on "$DC2" status "$S/$LATE.odj" "$S/blobs/$R.odj" 2>&1)
check "status on dc2 after replication: $LATE pending, $R changed" \
	'printf "%s\n" "$out2" | grep -q "^$LATE: pending" &&
	 printf "%s\n" "$out2" | grep -q "^$R: changed"'

# --- expire on dc1 takes all but the reset one: stopped by SIGTERM after
#     its first deletion (a background job ignores SIGINT), then resumed
"$ODJ" expire days=0 savedir="$S/blobs" "$S/$LATE.odj" --apply \
	dcname="$DC1" -s "$CONF" -U "$ADMIN" >"$S/e1.out" 2>&1 &
epid=$!
for i in $(seq 1 600); do
	grep -q ": deleted: " "$S/e1.out" && break
	sleep 0.05
done
kill -TERM $epid
wait $epid && rc=0 || rc=$?
k=$(grep -c ": deleted: " "$S/e1.out")
check "expire --apply stopped by SIGTERM: exit 8, $k deleted, the rest not started" \
	'[ $rc = 8 ] && [ $k -ge 1 ] && [ $k -lt $N ] &&
	 grep -q ": $k deleted, .* $((N - k)) not started" "$S/e1.out"'
out=$(on "$DC1" expire days=0 savedir="$S/blobs" "$S/$LATE.odj" --apply 2>&1)
check "expire --apply again: the other $((N - k)) deleted, $R kept" \
	'printf "%s\n" "$out" | grep -q "^$((N + 1)) blobs, asked $DC1: $((N - k)) deleted, $((k + 1)) kept, 0 failed, 0 not started"'
testit "replicate" "$ENVD/dc.sh" replicate "$ODJ_DC_PREFIX"
check "on dc2 after replication: only $R is left" \
	'[ "$(names_on "$DC2" "$PREFIX"; names_on "$DC2" "$LATE")" = "$R" ]'

exit $failed
