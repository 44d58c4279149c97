#!/bin/bash
# Samba's conventions, checked against Samba's own tools: composeodj in
# the spelling of net offlinejoin composeodj with each of Samba's password
# sources (-P from a client odj joined, PASSWD_FD, the prompt on a pty, -A),
# every composed blob accepted by odj requestodj and by Samba's net
# offlinejoin requestodj and proved with net ads testjoin -P
# --use-kerberos=required; -A and PASSWD_FILE for provision with the
# password in no argv and no -d10 output; --help per subcommand; and
# --json of every subcommand, good and bad, checked against
# docs/json/odj.schema.json.
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
chmod 755 "$S"

. "$(dirname "$0")/dc_env.sh"

JSON_CHECK="/usr/bin/python3 $ODJ_TOP/testsuite/blackbox/json_check.py"
TAG=$(printf '%x' $(($$ % 65536)))
M=cv$TAG		# the machine whose blob is composed again
N=cw$TAG		# provisioned with -A / PASSWD_FILE
ACCOUNTS="$M $N"
CLIENTS=""

cleanup() {
	local cp name
	for cp in $CLIENTS; do
		"$ENVD/client.sh" stop "$cp" >/dev/null 2>&1
	done
	for name in $ACCOUNTS; do
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			--configfile="$ODJ_ADMIN_SMBCONF" -U "$ADMIN" \
			>/dev/null 2>&1
	done
	rm -rf "$S"
}
trap cleanup EXIT

# new_client DIR NETBIOSNAME: prints the smb.conf path (call it in $(...)
# and add "$S/clients/DIR" to CLIENTS)
new_client() {
	"$ENVD/client.sh" new "$S/clients/$1" "$2" 2>/dev/null
}

# blob_password FILE: the machine password a blob carries
blob_password() {
	odj dump --json --show-secrets "$1" | /usr/bin/python3 -c '
import json, sys
print(json.load(sys.stdin)["blobs"][0]["win7blob"]["machine_password"])'
}

# field FILE EXPR: a Python expression over odj dump --json as d
field() {
	odj dump --json "$1" | /usr/bin/python3 -c "import json,sys
d = json.load(sys.stdin)
print($2)"
}

# --- a machine joined with odj, for -P and for the values to compose
testit "provision $M" odj provision domain="$ODJ_DNS_DOMAIN" \
	machine_name="$M" dcname="$ODJ_DC_NAME" savefile="$S/m.odj" \
	-s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN"
C0=$(new_client c0 "${M^^}")
CLIENTS="$CLIENTS $S/clients/c0"
testit "odj requestodj $M" odj requestodj loadfile="$S/m.odj" -s "$C0"
PW=$(blob_password "$S/m.odj")
W='d["blobs"][0]["win7blob"]'
SID=$(field "$S/m.odj" "$W[\"dns_domain_info\"][\"domain_sid\"]")
GUID=$(field "$S/m.odj" "$W[\"dns_domain_info\"][\"domain_guid\"]")
VALUES="domain_sid=$SID domain_guid=$GUID forest_name=$ODJ_DNS_DOMAIN"
SERVER="-S $ODJ_DC_NAME -I $ODJ_DC_IP"

# joins BLOB LABEL: odj requestodj and Samba's net offlinejoin requestodj
# both accept BLOB, and net ads testjoin with Kerberos says it is good
joins() {
	local blob=$1 label=$2 c1 c2
	c1=$(new_client "$label-odj" "${M^^}")
	c2=$(new_client "$label-net" "${M^^}")
	CLIENTS="$CLIENTS $S/clients/$label-odj $S/clients/$label-net"
	testit "$label: odj requestodj accepts it" \
		odj requestodj loadfile="$blob" -s "$c1"
	testit "$label: net ads testjoin -P --use-kerberos=required (odj)" \
		net ads testjoin -P --use-kerberos=required -s "$c1"
	testit "$label: net offlinejoin requestodj accepts it" \
		net offlinejoin requestodj loadfile="$blob" -s "$c2"
	testit "$label: net ads testjoin -P --use-kerberos=required (net)" \
		net ads testjoin -P --use-kerberos=required -s "$c2"
}

# --- 1. -P: the machine account of the client's secrets.tdb; realm,
# workgroup and NetBIOS name from its smb.conf
testit "composeodj -P -s CLIENT (realm, workgroup from smb.conf)" \
	odj composeodj $VALUES $SERVER -P -s "$C0" savefile="$S/p.odj"
check "-P: the blob carries the client's password" \
	'[ "$(blob_password "$S/p.odj")" = "$PW" ]'
testit_grep "-P: domain and machine from smb.conf" "machine name: ${M^^}" \
	odj dump "$S/p.odj"
joins "$S/p.odj" p

# --- 2. -U NAME$ with PASSWD_FD=0, as adcli's --add-samba-data pipes it
printf '%s' "$PW" >"$S/pw"
chmod 600 "$S/pw"
PASSWD_FD=0 "$ODJ" composeodj $VALUES $SERVER -U "$M\$" \
	--realm="$ODJ_REALM" --workgroup="$ODJ_DOMAIN" printblob \
	<"$S/pw" >"$S/fd.b64" 2>"$S/fd.err"
check "PASSWD_FD=0 -U NAME\$: printblob" '[ -s "$S/fd.b64" ]'
check "PASSWD_FD: the password" \
	'[ "$(blob_password "$S/fd.b64")" = "$PW" ]'
testit "PASSWD_FD blob into odj requestodj -i (adcli's pipe)" sh -c \
	"$ODJ requestodj -i -s '$C0' <'$S/fd.b64'"

# --- 3. Samba's prompt on a terminal
prompt_compose() {
	/usr/bin/python3 - "$ODJ" "$PW" "$@" <<-'EOF'
	import os, pty, sys
	odj, pw, args = sys.argv[1], sys.argv[2], sys.argv[3:]
	pid, fd = pty.fork()
	if pid == 0:
	    os.execv(odj, [odj] + args)
	seen = b""
	while b"Password for [" not in seen:
	    chunk = os.read(fd, 1024)
	    if not chunk:
	        sys.exit("no prompt: %r" % seen)
	    seen += chunk
	if b"]:" not in seen:
	    seen += os.read(fd, 1024)
	sys.stderr.write(seen.decode(errors="replace"))
	os.write(fd, pw.encode() + b"\n")
	while True:
	    try:
	        if not os.read(fd, 1024):
	            break
	    except OSError:
	        break
	_, status = os.waitpid(pid, 0)
	sys.exit(os.waitstatus_to_exitcode(status))
	EOF
}
testit_grep "the prompt: Samba's 'Password for [DOMAIN\\NAME\$]:'" \
	"Password for \\[$ODJ_DOMAIN\\\\${M}\\\$\\]:" prompt_compose \
	composeodj $VALUES $SERVER -U "$M\$" --realm="$ODJ_REALM" \
	--workgroup="$ODJ_DOMAIN" savefile="$S/tty.odj"
check "the prompt: the password typed" \
	'[ "$(blob_password "$S/tty.odj")" = "$PW" ]'
joins "$S/tty.odj" tty

# --- 4. -A: an authentication file, as Samba reads it
printf 'username = %s$\npassword = %s\ndomain = %s\n' "$M" "$PW" \
	"$ODJ_DOMAIN" >"$S/auth"
chmod 600 "$S/auth"
testit "composeodj -A FILE" odj composeodj $VALUES $SERVER -A "$S/auth" \
	--realm="$ODJ_REALM" savefile="$S/a.odj"
check "-A: the password of the file" \
	'[ "$(blob_password "$S/a.odj")" = "$PW" ]'
joins "$S/a.odj" auth

# --- provision with -A and with PASSWD_FILE: no password in argv or -d10
printf 'username = %s\npassword = %s\ndomain = %s\n' "$ODJ_ADMIN_USER" \
	"$ODJ_ADMIN_PASS" "$ODJ_DOMAIN" >"$S/admin.auth"
printf '%s\n' "$ODJ_ADMIN_PASS" >"$S/admin.pw"
chmod 600 "$S/admin.auth" "$S/admin.pw"
"$ODJ" provision domain="$ODJ_DNS_DOMAIN" machine_name="$N" \
	dcname="$ODJ_DC_NAME" savefile="$S/n.odj" -s "$ODJ_ADMIN_SMBCONF" \
	-A "$S/admin.auth" -d10 >"$S/n.out" 2>&1 &
pid=$!
cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
wait $pid
check "provision -A FILE" '[ $? = 0 ] && [ -s "$S/n.odj" ]'
check "  ...the password in no argv" \
	'! printf "%s" "$cmdline" | grep -qF "$ODJ_ADMIN_PASS"'
check "  ...nor in the -d10 output" \
	'! grep -qF "$ODJ_ADMIN_PASS" "$S/n.out"'
testit "provision with PASSWD_FILE= and -U USER, reuse" env \
	PASSWD_FILE="$S/admin.pw" "$ODJ" provision domain="$ODJ_DNS_DOMAIN" \
	machine_name="$N" dcname="$ODJ_DC_NAME" savefile="$S/n2.odj" reuse \
	-s "$ODJ_ADMIN_SMBCONF" -U "$ODJ_ADMIN_USER" -d10
testit "  ...its blob's password works" \
	kinit_pw "$N" "$(blob_password "$S/n2.odj")"
PASSWD_FILE="$S/admin.pw" "$ODJ" provision domain="$ODJ_DNS_DOMAIN" \
	machine_name="$N" dcname="$ODJ_DC_NAME" printblob reuse \
	-s "$ODJ_ADMIN_SMBCONF" -U "$ODJ_ADMIN_USER" -d10 >"$S/n3.out" 2>&1
check "  ...PASSWD_FILE: the password in no -d10 output" \
	'! grep -qF "$ODJ_ADMIN_PASS" "$S/n3.out"'

# --- --help: a subcommand's keywords in both spellings
testit_grep "provision --help: Samba's and djoin's spelling" \
	'machine_name=VALUE +/MACHINE VALUE' odj provision --help
testit_grep "composeodj --help: domain_sid=, domain_is_nt4" \
	'domain_is_nt4' odj composeodj --help
testit_grep "requestodj --help: loadfile" 'loadfile=VALUE +/LOADFILE' \
	odj requestodj --help
testit_grep "dump --help" 'Usage: odj dump' odj dump --help
testit_grep "unattend --help" 'arch=VALUE' odj unattend --help
testit_grep "rodc-preload --help" 'savedir=VALUE' odj rodc-preload --help

# --- --json: every subcommand, good and bad, against the schema
# json NAME CHECK-ARGS -- ODJ-ARGS: the document validates (and the
# checks hold: -c COMMAND, -o true|false, -k KEY present)
json_valid() {
	$JSON_CHECK "$@" <"$S/json.out"
}
json() {
	local name=$1 checks=()
	shift
	while [ "$1" != -- ]; do
		checks+=("$1")
		shift
	done
	shift
	"$ODJ" --json "$@" >"$S/json.out" 2>/dev/null
	testit "--json $name" json_valid "${checks[@]}"
}
ADM=(-s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN")
C9=$(new_client c9 "${N^^}")
CLIENTS="$CLIENTS $S/clients/c9"
json "dump" -c dump -o true -- dump "$S/m.odj"
json "dump, a missing file" -c dump -o false -- dump "$S/nope"
json "provision" -c provision -o true -k sid -- provision \
	domain="$ODJ_DNS_DOMAIN" machine_name="$N" dcname="$ODJ_DC_NAME" \
	savefile="$S/j.odj" reuse "${ADM[@]}"
json "provision printblob" -c provision -o true -k blob -- provision \
	domain="$ODJ_DNS_DOMAIN" machine_name="$N" dcname="$ODJ_DC_NAME" \
	printblob reuse "${ADM[@]}"
json "provision, an existing account" -c provision -o false -- provision \
	domain="$ODJ_DNS_DOMAIN" machine_name="$N" dcname="$ODJ_DC_NAME" \
	printblob "${ADM[@]}"
json "provision, a bad keyword" -c provision -o false -- provision \
	bogus=1
printf '%s\n' "$N" >"$S/batch"
json "provision batch" -c provision -o true -k machines -- provision \
	domain="$ODJ_DNS_DOMAIN" batch="$S/batch" savedir="$S" reuse \
	dcname="$ODJ_DC_NAME" "${ADM[@]}"
json "provision batch, a missing batch file" -c provision -o false -- \
	provision domain="$ODJ_DNS_DOMAIN" batch="$S/nope" savedir="$S" \
	dcname="$ODJ_DC_NAME" "${ADM[@]}"
json "requestodj" -c requestodj -o true -k keytab -- requestodj \
	loadfile="$S/j.odj" -s "$C9"
json "requestodj, smb.conf of another machine" -c requestodj -o false \
	-k changes_needed -- requestodj loadfile="$S/m.odj" -s "$C9"
json "composeodj" -c composeodj -o true -- composeodj $VALUES $SERVER \
	-A "$S/auth" --realm="$ODJ_REALM" savefile="$S/jc.odj"
json "composeodj printblob" -c composeodj -o true -k blob -- composeodj \
	$VALUES $SERVER -A "$S/auth" --realm="$ODJ_REALM" printblob
json "composeodj, no values" -c composeodj -o false -- composeodj printblob
json "unattend" -c unattend -o true -k xml -- unattend "$S/m.odj"
json "unattend, garbage" -c unattend -o false -- unattend "$S/auth"
json "rodc-preload, a writable DC's smb.conf" -c rodc-preload -o false -- \
	rodc-preload "$N" -s "$ODJ_DC_SMBCONF"
json "no subcommand" -o false --
json "an unknown subcommand" -o false -- bogus
json "--version" -o true -k odj_version -- --version
testit_grep "--json --show-secrets: the password in dump" '"machine_password"' \
	odj --json --show-secrets dump "$S/m.odj"
check "--json without --show-secrets: redacted" \
	'odj --json dump "$S/m.odj" | grep -q "<redacted>" &&
	 ! odj --json dump "$S/m.odj" | grep -qF "$PW"'

exit $failed
