#!/bin/bash
# odj provision batch= against the throwaway Samba AD DC: 200 machines
# (accounts, blobs, answer files, a sample joined with Samba's
# requestodj), resuming with zero DC writes, failing machines that do not
# stop the others, a clean stop on SIGINT/SIGTERM, and the benchmark's
# quick mode.
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH

. "$(dirname "$0")/dc_env.sh"

# How a client joins from a blob: Samba's tool, a peer check of our blobs
# (REQUESTODJ="$ODJ requestodj" runs the same with ours).  Called with
# loadfile= and -s.
REQUESTODJ=${REQUESTODJ:-net offlinejoin requestodj}

CONF=$ODJ_ADMIN_SMBCONF
DOMDN="DC=odj,DC=test"
# names: two letters, the pid in hex, "-N": at most 15 characters
TAG=$(printf '%x' $$)
N=${ODJ_TEST_BATCH_N:-200}
CLIENTS=()

ldb() {
	ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF" \
		"$@" 2>/dev/null
}

# accounts PREFIX: sAMAccountNames (upper case, no $) starting with PREFIX
accounts() {
	ldb "(sAMAccountName=$1*)" sAMAccountName |
		sed -n 's/^sAMAccountName: \(.*\)\$$/\1/p' | tr a-z A-Z | sort
}

# blobs DIR: the machine names of the blobs in DIR, as accounts prints
blobs() {
	ls "$1" | sed -n 's/\.odj$//p' | tr a-z A-Z | sort
}

# state PREFIX: what the DC holds for those accounts, one line each
dc_state() {
	ldb "(sAMAccountName=$1*)" sAMAccountName pwdLastSet uSNChanged \
		objectSid | grep -E '^(sAMAccountName|pwdLastSet|uSNChanged|objectSid):' |
		paste - - - - | sort
}

usn() {
	ldb -b "" -s base highestCommittedUSN |
		sed -n 's/^highestCommittedUSN: //p'
}

batch() {
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		-s "$CONF" -U "$ADMIN" "$@"
}

# report FILE EXPR: a Python expression over the report as r
report() {
	python3 -c "import json,sys
r = json.load(open(sys.argv[1]))
print($2)" "$1"
}

# Drop our clients from the prefix's client list: a long-lived DC
# prefix has only 244 client addresses.
forget_clients() {
	local list=$ODJ_DC_PREFIX/env/clients.list n
	[ ${#CLIENTS[@]} -gt 0 ] || return 0
	(
		exec 9>>"$ODJ_DC_PREFIX/env/.lock"
		flock 9
		for n in "${CLIENTS[@]}"; do
			awk -v n="${n^^}" 'toupper($2) != n' "$list" \
				>"$list.tmp.$$" && mv -f "$list.tmp.$$" "$list"
		done
	)
	# the wrappers' hosts files are regenerated from the list
	rm -f "$ODJ_DC_PREFIX/env/hosts"
	. "$ENVD/env.sh" "$ODJ_DC_PREFIX"
}

cleanup() {
	local n dns
	local f=
	# every account this script made: two letters, then the tag
	for n in bt bf bs bu bo; do
		f="$f(sAMAccountName=$n$TAG*)"
	done
	dns=$(ldb "(&(objectClass=computer)(|$f))" dn | sed -n 's/^dn: //p')
	if [ -n "$dns" ]; then
		printf '%s\n' "$dns" | tr '\n' '\0' | xargs -0 -n 500 \
			ldbdel -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
			--configfile="$CONF" >/dev/null 2>&1
	fi
	for n in "${CLIENTS[@]}"; do
		"$ENVD/client.sh" stop "$ODJ_DC_PREFIX/clients/$n" \
			>/dev/null 2>&1
		rm -rf "$ODJ_DC_PREFIX/clients/$n"
	done
	forget_clients
	rm -rf "$S"
}
trap cleanup EXIT

# --- the batch file: comments, blank lines, a header, quoting
{
	printf '# %s machines for test_batch.sh\n\n' "$N"
	printf 'name,ou,netbios\n'
	for i in $(seq 1 "$N"); do
		case $i in
		1) printf '"bt%s-%s","CN=Computers,%s"\n' "$TAG" "$i" "$DOMDN" ;;
		2) printf 'bt%s-%s , , BT%s-%s\n' "$TAG" "$i" "$TAG" "$i" ;;
		*) printf 'bt%s-%s\n' "$TAG" "$i" ;;
		esac
		[ $((i % 50)) = 0 ] && printf '\n# next fifty\n'
	done
} >"$S/machines.csv"
mkdir "$S/blobs" "$S/xml"

# --- 200 machines, one batch
testit_grep "batch of $N machines" "^Batch of $N machines.*: $N created, 0 reused, 0 skipped, 0 failed" \
	batch batch="$S/machines.csv" savedir="$S/blobs" unattend="$S/xml" \
	report="$S/report.json"
check "$N accounts on the DC" '[ "$(accounts "BT$TAG-" | wc -l)" = "$N" ]'
check "$N blobs, every one mode 0600" \
	'[ "$(find "$S/blobs" -name "*.odj" -perm 600 | wc -l)" = "$N" ]'
check "no temporary files left" '[ "$(ls "$S/blobs" | wc -l)" = "$N" ]'
check "the accounts are exactly the blobs" \
	'[ -n "$(blobs "$S/blobs")" ] && [ "$(accounts "BT$TAG-")" = "$(blobs "$S/blobs")" ]'
check "report: $N created" \
	'[ "$(report "$S/report.json" "r[\"summary\"][\"created\"]")" = "$N" ]'
check "report: not interrupted" \
	'[ "$(report "$S/report.json" "r[\"interrupted\"]")" = False ]'

# every blob decodes, names its machine, and its JOIN_PROVIDER3 SID is
# the account's objectSid on the DC (and the report's)
ldb "(sAMAccountName=BT$TAG-*)" sAMAccountName objectSid >"$S/dc.ldif"
bad=0
for f in "$S"/blobs/*.odj; do
	odj dump --json "$f" >"$f.json" 2>&1 || bad=$((bad + 1))
done
check "odj dump decodes all $N blobs" '[ $bad = 0 ]'
testit "blob SIDs = DC objectSids = report SIDs" python3 -c '
import json, os, sys
d, rep, dc = sys.argv[1], json.load(open(sys.argv[2])), {}
for rec in open(sys.argv[3]).read().split("\n\n"):
    a = dict(l.split(": ", 1) for l in rec.splitlines() if ": " in l)
    if "sAMAccountName" in a:
        dc[a["sAMAccountName"].rstrip("$").upper()] = a["objectSid"]
by_name = {m["name"].upper(): m for m in rep["machines"]}
assert len(dc) == len(by_name) == int(sys.argv[4]), (len(dc), len(by_name))
for f in os.listdir(d):
    if not f.endswith(".json"):
        continue
    j = json.load(open(os.path.join(d, f)))
    name = j["blobs"][0]["win7blob"]["machine_name"].upper()
    assert name + ".ODJ.JSON" == f.upper(), (name, f)
    parts = j["blobs"][1]["op_package"]["parts"]
    sid = [p for p in parts if p["type"] == "JOIN_PROVIDER3"][0]["content"]["machine_sid"]
    assert sid == dc[name] == by_name[name]["sid"], (name, sid, dc[name])
    assert by_name[name]["blob"].endswith(f[:-5]), by_name[name]
' "$S/blobs" "$S/report.json" "$S/dc.ldif" "$N"
rm -f "$S"/blobs/*.json
testit_grep "quoted OU column: CN=Computers" "^dn: CN=BT${TAG^^}-1,CN=Computers,$DOMDN" \
	ldb "(sAMAccountName=BT$TAG-1\$)" dn
testit_grep "netbios column: JOIN_PROVIDER2" "netbios name: BT$TAG-2" \
	odj dump "$S/blobs/bt$TAG-2.odj"

# --- answer files: one per machine, well-formed, 0600, AccountData = blob
check "$N answer files, mode 0600" \
	'[ "$(find "$S/xml" -name "*.xml" -perm 600 | wc -l)" = "$N" ]'
testit "xmllint --noout accepts every answer file" \
	xmllint --noout "$S"/xml/*.xml
testit "AccountData (both passes) is the blob's base64" python3 -c '
import os, re, sys
d, x = sys.argv[1], sys.argv[2]
assert len(os.listdir(d)) == int(sys.argv[3])
for f in os.listdir(d):
    b64 = open(os.path.join(d, f), "rb").read().decode("utf-16").strip("\ufeff\x00").strip()
    xml = open(os.path.join(x, f[:-4] + ".xml")).read()
    data = re.findall(r"<AccountData>([^<]*)</AccountData>", xml)
    assert data == [b64, b64], f
    assert "<OfflineIdentification>" in xml and "<Identification>" in xml
' "$S/blobs" "$S/xml" "$N"

# --- a sample of 10 joined by Samba's requestodj, proved by Kerberos and
# netlogon
step=$((N / 10))
[ $step -gt 0 ] || step=1
for i in $(seq 1 "$step" "$N" | head -n 10); do
	n=bt$TAG-$i
	CP=$ODJ_DC_PREFIX/clients/$n
	CLIENTS+=("$n")
	CCONF=$("$ENVD/client.sh" new "$CP" "${n^^}" 2>/dev/null)
	testit "$n: requestodj accepts its batch blob" \
		$REQUESTODJ loadfile="$S/blobs/$n.odj" -s "$CCONF"
	testit "$n: kinit with the password the client stored" \
		kinit_pw "$n" "$("$ENVD/client.sh" machine-password "$CP")"
	testit "$n: net rpc testjoin" \
		net rpc testjoin -S "$ODJ_DC_NAME" -s "$CCONF"
done

# --- the same batch again: everything skipped, nothing written anywhere
before=$(dc_state "BT$TAG-")
usn_before=$(usn)
sums_before=$(cd "$S/blobs" && sha256sum * | sha256sum)
testit_grep "re-run resumes: all $N skipped" "0 created, 0 reused, $N skipped, 0 failed" \
	batch batch="$S/machines.csv" savedir="$S/blobs" unattend="$S/xml" \
	report="$S/report2.json"
check "re-run: report says $N skipped" \
	'[ "$(report "$S/report2.json" "r[\"summary\"][\"skipped\"]")" = "$N" ]'
check "re-run: the DC's highestCommittedUSN did not move (no writes)" \
	'[ "$(usn)" = "$usn_before" ]'
check "re-run: accounts, pwdLastSet, uSNChanged unchanged" \
	'[ "$(dc_state "BT$TAG-")" = "$before" ]'
check "re-run: blobs unchanged" \
	'[ "$(cd "$S/blobs" && sha256sum * | sha256sum)" = "$sums_before" ]'
rm "$S/xml/bt$TAG-5.xml"
testit "re-run writes a lost answer file from the blob" \
	batch batch="$S/machines.csv" savedir="$S/blobs" unattend="$S/xml"
check "lost answer file is back, 0600" \
	'[ "$(file_mode "$S/xml/bt$TAG-5.xml")" = 600 ]'

# a stale blob (its account deleted) is not skipped, and reuse repairs it
ldbdel -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF" \
	"CN=BT$TAG-7,CN=Computers,$DOMDN" >/dev/null 2>&1
printf 'bt%s-7\n' "$TAG" >"$S/one.txt"
testit_exit "stale blob: refused, exit 7" 7 'does not .*use reuse' \
	batch batch="$S/one.txt" savedir="$S/blobs"
testit_grep "reuse re-provisions it" "1 created" \
	batch batch="$S/one.txt" savedir="$S/blobs" reuse
testit "the new blob works" kinit_pw "bt$TAG-7" \
	"$(odj dump --json --show-secrets "$S/blobs/bt$TAG-7.odj" |
	python3 -c 'import json,sys
print(json.load(sys.stdin)["blobs"][0]["win7blob"]["machine_password"])')"

# --- failures do not stop the batch: an existing account, an invalid
# name, a missing OU (and a duplicate), among new machines
mkdir "$S/mixed"
cat >"$S/mixed.csv" <<EOF
bf$TAG-1
bt$TAG-3
bf$TAG-2
bad*$TAG
bo$TAG,"OU=Nowhere$TAG,$DOMDN"
bf$TAG-3
BF$TAG-1
EOF
pw3=$(ldb "(sAMAccountName=BT$TAG-3\$)" pwdLastSet | sed -n 's/^pwdLastSet: //p')
testit_exit "mixed batch completes the rest, exit 7" 7 \
	"3 created, 0 reused, 0 skipped, 4 failed" \
	batch batch="$S/mixed.csv" savedir="$S/mixed" report="$S/mixed.json"
check "mixed: the three new machines exist with blobs" \
	'[ "$(accounts "BF$TAG-" | tr "\n" " ")" = "BF${TAG^^}-1 BF${TAG^^}-2 BF${TAG^^}-3 " ] && [ "$(ls "$S/mixed" | wc -l)" = 3 ]'
report "$S/mixed.json" '"\n".join("%s %s %s" % (m["name"], m["status"],
	m["message"]) for m in r["machines"] if m["status"] != "created")' \
	>"$S/mixed.failed"
for want in "bt$TAG-3:already exists" "bad\\*$TAG:not a valid computer name" \
	"bo$TAG:does not exist" "BF$TAG-1:listed more than once"; do
	check "mixed: report names ${want%%:*} as failed (${want#*:})" \
		'grep -q "^${want%%:*} failed .*${want#*:}" "$S/mixed.failed"'
done
check "mixed: exactly four failed" '[ "$(wc -l <"$S/mixed.failed")" = 4 ]'
check "mixed: the existing account is untouched" \
	'[ "$(ldb "(sAMAccountName=BT$TAG-3\$)" pwdLastSet | sed -n "s/^pwdLastSet: //p")" = "$pw3" ]'
check "mixed: no account for the missing OU" '[ -z "$(accounts "BO$TAG")" ]'

# a blob that cannot be written: the new account is deleted again
# (a 1 KiB file size limit; SIGXFSZ ignored so write() fails)
printf 'bf%s-8\nbf%s-9\n' "$TAG" "$TAG" >"$S/rollback.txt"
mkdir "$S/rollback"
testit_exit "blob write fails: both roll back, exit 7" 7 'deleted again' \
	bash -c "trap '' XFSZ; ulimit -f 1; exec $ODJ provision \
	domain=$ODJ_DNS_DOMAIN dcname=$ODJ_DC_NAME batch='$S/rollback.txt' \
	savedir='$S/rollback' -s '$CONF' -U '$ADMIN'"
check "rollback: no account, no blob, no temp file" \
	'[ -z "$(accounts "BF$TAG-8")$(accounts "BF$TAG-9")" ] && [ -z "$(ls "$S/rollback")" ]'

# on a terminal: a progress bar on stderr, failures above it
printf 'bf%s-10\nbf%s-11\nbad*%s\n' "$TAG" "$TAG" "$TAG" >"$S/tty.txt"
mkdir "$S/tty"
script -qec "$ODJ provision domain=$ODJ_DNS_DOMAIN dcname=$ODJ_DC_NAME \
	batch='$S/tty.txt' savedir='$S/tty' -s '$CONF' -U '$ADMIN'" \
	/dev/null >"$S/tty.out" 2>&1
check "terminal: a progress bar with rate and ETA" \
	'grep -aq "\[#*\.*\] 3/3 100% .*/s ETA 0:00  1 failed" "$S/tty.out"'
check "terminal: no per-machine lines, the failure shown" \
	'! grep -aq "^bf$TAG-10: created" "$S/tty.out" && grep -aq "bad\*$TAG (line 3): .*not a valid" "$S/tty.out"'

# --- usage and input errors, all before the DC
testit_exit "batch without savedir" 2 'savedir' \
	odj provision batch="$S/mixed.csv" domain=odj.test
testit_exit "batch with machine_name" 2 'one machine' \
	odj provision batch="$S/mixed.csv" savedir="$S" domain=odj.test \
	machine_name=x
testit_exit "parallel=0" 2 'parallel' odj provision batch="$S/mixed.csv" \
	savedir="$S" domain=odj.test parallel=0
printf 'ok1\n"broken,\n' >"$S/broken.csv"
testit_exit "malformed batch file: exit 3, names the line" 3 'line 2: unterminated quote' \
	batch batch="$S/broken.csv" savedir="$S/mixed"
testit_exit "savedir missing: exit 4" 4 'No such file' \
	batch batch="$S/mixed.csv" savedir="$S/nowhere"
testit_exit "djoin spelling /BATCH /SAVEDIR" 7 '4 failed' \
	odj /PROVISION /BATCH "$S/mixed.csv" /SAVEDIR "$S/mixed" \
	/DOMAIN "$ODJ_DNS_DOMAIN" /DCNAME "$ODJ_DC_NAME" -s "$CONF" -U "$ADMIN"

# --- SIGINT halfway: every account made has its blob; a re-run finishes
for i in $(seq 1 "$N"); do printf 'bs%s-%s\n' "$TAG" "$i"; done >"$S/sig.txt"
mkdir "$S/sig"
# job control: a script's background job ignores SIGINT otherwise, and
# odj (like any well-behaved tool) keeps an ignored SIGINT ignored.  If
# the suite itself was started in the background, SIGINT is ignored from
# the start and cannot be reset by the shell: env(1) resets it.  odj
# itself is the job (env execs it), so $! is its pid.
set -m
env --default-signal=INT "$ODJ" provision domain="$ODJ_DNS_DOMAIN" \
	dcname="$ODJ_DC_NAME" batch="$S/sig.txt" savedir="$S/sig" \
	report="$S/sig.json" parallel=4 \
	-s "$CONF" -U "$ADMIN" >"$S/sig.out" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
	[ "$(ls "$S/sig" | wc -l)" -ge $((N / 3)) ] && break
	sleep 0.1
done
kill -INT "$pid"
wait "$pid" && rc=0 || rc=$?
set +m
check "SIGINT: exit 8 (interrupted)" '[ "$rc" = 8 ]'
check "SIGINT: said it was stopping" 'grep -q "Interrupt.*launching no more" "$S/sig.out"'
check "SIGINT: report says interrupted, some pending" \
	'[ "$(report "$S/sig.json" "r[\"interrupted\"] and r[\"summary\"][\"pending\"] > 0")" = True ]'
made=$(accounts "BS$TAG-" | wc -l)
check "SIGINT: stopped part way ($made of $N made)" '[ "$made" -gt 0 ] && [ "$made" -lt "$N" ]'
check "SIGINT: every account on the DC has its blob, and no more" \
	'[ "$(accounts "BS$TAG-")" = "$(blobs "$S/sig")" ]'
check "SIGINT: report counts match the DC" \
	'[ "$(report "$S/sig.json" "r[\"summary\"][\"created\"]")" = "$made" ]'
testit_grep "after SIGINT, a re-run completes the batch" \
	"$((N - made)) created, 0 reused, $made skipped, 0 failed" \
	batch batch="$S/sig.txt" savedir="$S/sig"
check "after the re-run: $N accounts = $N blobs" \
	'[ "$(accounts "BS$TAG-" | wc -l)" = "$N" ] && [ "$(accounts "BS$TAG-")" = "$(blobs "$S/sig")" ]'

# SIGTERM the same way, on a batch spread over two sessions (dcname list)
for i in $(seq 1 "$N"); do printf 'bu%s-%s\n' "$TAG" "$i"; done >"$S/term.txt"
mkdir "$S/term"
"$ODJ" provision domain="$ODJ_DNS_DOMAIN" \
	dcname="$ODJ_DC_NAME,$ODJ_DC_NAME" batch="$S/term.txt" \
	savedir="$S/term" -s "$CONF" -U "$ADMIN" >"$S/term.out" 2>&1 &
pid=$!
for _ in $(seq 1 600); do
	[ "$(ls "$S/term" | wc -l)" -ge $((N / 3)) ] && break
	sleep 0.1
done
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
check "SIGTERM: exit 8" '[ "$rc" = 8 ]'
check "SIGTERM: every account on the DC has its blob" \
	'[ "$(accounts "BU$TAG-")" = "$(blobs "$S/term")" ]'

# --- the benchmark runs (quick mode; numbers, no timing assertion).
# Not under ASan: its numbers would mean nothing.
if [ -z "${ASAN_OPTIONS:-}" ]; then
	testit_grep "bench/batch.sh --quick prints rates" \
		'ratios: c/d [.0-9]+ .*c/a [.0-9]+' \
		env ODJ_DC_PREFIX="$ODJ_DC_PREFIX" \
		"$ODJ_TOP/bench/batch.sh" --quick
fi

exit $failed
