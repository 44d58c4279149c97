#!/bin/bash
# needs: dc
# odj provision certtemplate= with its two CA backends, end to end:
#   * AD CS (the default): the test enterprise CA of testsuite/env/ca.sh
#     (an MS-ICPR endpoint that authenticates callers with Samba's gensec
#     against the throwaway DC and decides from AD as AD CS does): issued,
#     pending, denied, unreachable, no enrollment service, a batch; the
#     PFX, odj dump of it, odj requestodj installing it;
#   * the local CA with real CA keys: an encrypted PKCS #8 key (password
#     file, prompt on a terminal) and a key on a SoftHSM token (pkcs11:),
#     against the same CA certificate as the plain key;
# every failure with its message, its exit code and no account left;
# --json of these runs against docs/json/odj.schema.json.
#
# ODJ_CA_IP (default 127.0.0.9) is the CA's address.  SoftHSM keeps its
# token in this script's scratch directory (SOFTHSM2_CONF).

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
chmod 755 "$S"
. "$(dirname "$0")/dc_env.sh"

PY=/usr/bin/python3
JSON_CHECK="$PY $ODJ_TOP/testsuite/blackbox/json_check.py"
CA_SH=$ENVD/ca.sh
CA_DIR=$ODJ_DC_PREFIX/ca
CA_NAME="ODJ Test CA"
CONF=$ODJ_ADMIN_SMBCONF
RUN=$$
H=(-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF")
ES_BASE="CN=Enrollment Services,CN=Public Key Services,CN=Services,CN=Configuration,$DOMDN"

# name VAR TAG: a unique computer name in VAR, deleted at the end
NAMES=()
name() {
	local -n _name=$1
	_name=$(printf 'a%s%s' "$2" "$RUN" | cut -c1-15)
	NAMES+=("$_name")
}

CLIENTS=()
cleanup() {
	local x
	for x in "${CLIENTS[@]}"; do
		"$ENVD/client.sh" stop "$x" >/dev/null 2>&1
	done
	for x in "${NAMES[@]}"; do
		samba-tool computer delete "$x" "${H[@]}" >/dev/null 2>&1
	done
	"$CA_SH" destroy "$ODJ_DC_PREFIX" >/dev/null 2>&1
	rm -rf "$S"
}
trap cleanup EXIT

provision() {
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		-s "$CONF" -U "$ADMIN" "$@"
}

exists() {
	[ -n "$(ldbsearch "${H[@]}" "(sAMAccountName=${1^^}\$)" dn \
		2>/dev/null | sed -n 's/^dn: //p')" ]
}

sid() {
	ldbsearch "${H[@]}" "(sAMAccountName=${1^^}\$)" objectSid \
		2>/dev/null | sed -n 's/^objectSid: //p'
}

# sid_ext CERT SID: SID in szOID_NTDS_CA_SECURITY_EXT (as an otherName
# of type 1.3.6.1.4.1.311.25.2.1)
sid_ext() {
	local hex

	hex=$(openssl x509 -in "$1" -outform DER | xxd -p | tr -d '\n')
	[ -n "$2" ] && case $hex in
	*06092b0601040182371902*060a2b060104018237190201*"$(printf %s "$2" |
		xxd -p | tr -d '\n')"*) true ;;
	*) false ;;
	esac
}

# pfx_cert BLOB OUT: the machine certificate of the blob's PFX, as PEM
# (openssl opens the PFX with the empty password)
pfx_cert() {
	odj dump --json --show-secrets "$1" | $PY -c 'import json, sys
d = json.load(sys.stdin)
for p in d["blobs"][1]["op_package"]["parts"]:
    if p["type"] == "CERT_PROVIDER":
        print(p["content"]["pfx_stores"][0]["pfx"])' | xxd -r -p >"$2.pfx" &&
	openssl pkcs12 -in "$2.pfx" -passin pass: -nokeys -clcerts \
		-out "$2" 2>/dev/null
}

# ca_saw NAME: the CA authenticated NAME$ (SPNEGO, packet privacy) and
# took a request from it
ca_saw() {
	grep -qF "authenticated $ODJ_DOMAIN\\${1^^}\$ (auth type 9, level 6)" \
		"$CA_DIR/log/icpr_server.log" &&
	grep -qF "from $ODJ_DOMAIN\\${1^^}\$ (" "$CA_DIR/log/icpr_server.log"
}

# json_run FILE CMD...: CMD's --json document into FILE, its exit code
# in JRC; true
json_run() {
	local out=$1
	shift
	"$@" --json >"$out" 2>"$out.err" && JRC=0 || JRC=$?
	return 0
}

# json_error FILE REGEX: the document's error message matches REGEX
json_error() {
	$PY -c 'import json, re, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if re.search(sys.argv[2], d["error"]["message"]) else 1)' "$1" "$2"
}

# no_trace NAME BLOB: neither the account nor the blob
no_trace() {
	! exists "$1" && [ ! -e "$2" ]
}

testit "the test enterprise CA starts" "$CA_SH" start "$ODJ_DC_PREFIX"
FOREST_GUID=$(ldbsearch "${H[@]}" -b "$DOMDN" -s base objectGUID 2>/dev/null |
	sed -n 's/^objectGUID: //p')

# --- AD CS: issued ----------------------------------------------------
name N1 i
F=$S/$N1.odj
testit_grep "certtemplate=Machine alone: enrolled at the enterprise CA" \
	"^Provisioned ${N1^^}\\$" \
	provision machine_name="$N1" certtemplate=Machine savefile="$F"
dump=$(odj dump "$F" 2>&1)
pfx=$(printf '%s\n' "$dump" | sed -n '/pfx store 1:/,/certificate 2:/p')
for re in "template name: Machine\$" "subject: CN=${N1,,}\\.odj\\.test\$" \
	"issuer: CN=$CA_NAME,O=samba-odj test\$" "template: Machine\$" \
	"account sid: $(sid "$N1")\$" "dns names: ${N1,,}\\.odj\\.test\$" \
	'policy server url: LDAP:$' 'policy server url flags: 0x00000000$' \
	"policy server id: \\{${FOREST_GUID^^}\\}\$" \
	'ekus: clientAuth \(1\.3\.6\.1\.5\.5\.7\.3\.2\), serverAuth'; do
	check "dump: /$re/" 'printf "%s\n" "$pfx" | grep -Eq -- "$re"'
done
check "dump: the PFX carries the CA's certificate as the chain" \
	'printf "%s\n" "$dump" | sed -n "/pfx store 1:/,/sst store 1:/p" |
	 sed -n "/certificate 2:/,\$p" | grep -q "subject: CN=$CA_NAME,O=samba-odj test"'
testit "the PFX opens with the empty password" pfx_cert "$F" "$S/$N1.crt"
testit "openssl verify: issued by the test CA" \
	openssl verify -CAfile "$CA_DIR/ca.pem" "$S/$N1.crt"
check "the account's SID in szOID_NTDS_CA_SECURITY_EXT" \
	'sid_ext "$S/$N1.crt" "$(sid "$N1")"'
check "the CA saw ${N1^^}\$ itself, SPNEGO at packet privacy" 'ca_saw "$N1"'
check "CERT part: the enterprise root CA in the ROOT store" \
	'printf "%s\n" "$dump" | sed -n "/sst store 1:/,\$p" |
	 grep -q "subject: CN=$CA_NAME,O=samba-odj test"'

# ca= names the CA (its cn, any case); --json
name N2 n
json_run "$S/n2.json" provision machine_name="$N2" certtemplate=Machine \
	ca="odj test CA" savefile="$S/$N2.odj"
testit "ca=NAME, --json: valid, ok" $JSON_CHECK -c provision -o true \
	-k account <"$S/n2.json"
check "ca=NAME: issued by that CA" \
	'odj dump "$S/$N2.odj" | grep -q "issuer: CN=$CA_NAME,O=samba-odj test"'

# --- requestodj installs the certificate --------------------------------
CP=$S/clients/c1
mkdir -p "$S/trust"
CC=$("$ENVD/client.sh" new "$CP" "${N1^^}" 2>/dev/null)
CLIENTS+=("$CP")
testit_grep "requestodj: joined, the machine certificate installed" \
	"^machine certificate: $S/certs/machine.pem" \
	odj requestodj loadfile="$F" trustdir="$S/trust" certdir="$S/certs" \
	policyfile="$S/policy.json" -s "$CC"
testit "the installed certificate is the PFX's" \
	cmp <(openssl x509 -in "$S/certs/machine.pem" -outform DER) \
	<(openssl x509 -in "$S/$N1.crt" -outform DER)
check "the installed key belongs to it" \
	'[ -n "$(openssl pkey -in "$S/certs/machine.key" -pubout)" ] &&
	 [ "$(openssl x509 -in "$S/certs/machine.pem" -noout -pubkey)" = \
	   "$(openssl pkey -in "$S/certs/machine.key" -pubout)" ]'
testit "the installed root CA verifies it" sh -c \
	"openssl verify -CAfile $S/trust/*.crt $S/certs/machine.pem"
"$ENVD/client.sh" stop "$CP" >/dev/null 2>&1

# --- pending, denied, unreachable: exit 6, the message, no account ------
# (one run each, with --json: its exit code, message and document)
name N3 p
json_run "$S/p.json" provision machine_name="$N3" \
	certtemplate=OdjPendingMachine savefile="$S/$N3.odj"
check "pending (CT_FLAG_PEND_ALL_REQUESTS): exit 6" '[ "$JRC" = 6 ]'
check "pending: the CA's message, the account deleted again" \
	'json_error "$S/p.json" "^certificate template OdjPendingMachine: CA .$CA_NAME. took request [0-9]+ under submission \(pending a CA manager.s approval\): Taken Under Submission; CN=${N3^^},CN=Computers,$DOMDN was deleted again\$"'
testit "pending --json: valid, not ok, NT_STATUS_PENDING" \
	$JSON_CHECK -c provision -o false <"$S/p.json"
check "pending --json: NT_STATUS_PENDING" \
	'grep -q "\"status\": \"NT_STATUS_PENDING\"" "$S/p.json"'
check "pending: no account, no blob" 'no_trace "$N3" "$S/$N3.odj"'

name N4 d
printf '{"request_id": 4711, "disposition": 2, "message": "Denied by the test of %s"}\n' \
	"$RUN" >"$CA_DIR/override.json"
testit_exit "denied (CR_DISP_DENIED): exit 6" 6 \
	"CA '$CA_NAME' denied request 4711: Denied by the test of $RUN; CN=${N4^^},.* was deleted again" \
	provision machine_name="$N4" certtemplate=Machine savefile="$S/$N4.odj"
check "denied: no account, no blob" 'no_trace "$N4" "$S/$N4.odj"'
printf '{"request_id": 4712, "disposition": 2148089874, "message": "Denied by Policy Module"}\n' \
	>"$CA_DIR/override.json"
json_run "$S/d.json" provision machine_name="$N4" certtemplate=Machine \
	savefile="$S/$N4.odj"
testit "denied with an HRESULT, --json: valid, not ok" \
	$JSON_CHECK -c provision -o false <"$S/d.json"
check "denied with an HRESULT: the disposition in the message, exit 6" \
	'grep -q "did not issue request 4712 (disposition 0x80094012): Denied by Policy Module" "$S/d.json" &&
	 grep -q "\"exit\": 6" "$S/d.json"'
check "denied with an HRESULT: no account, no blob" \
	'no_trace "$N4" "$S/$N4.odj"'

testit "the CA stops" "$CA_SH" stop "$ODJ_DC_PREFIX"
name N5 u
json_run "$S/u.json" provision machine_name="$N5" certtemplate=Machine \
	savefile="$S/$N5.odj"
check "CA unreachable: exit 6" '[ "$JRC" = 6 ]'
check "CA unreachable: the message, the account deleted again" \
	'json_error "$S/u.json" "cannot reach CA .$CA_NAME. at ncacn_ip_tcp:ca1\.$ODJ_DNS_DOMAIN\[spnego,seal\] as ${N5^^}\\\$: .*; CN=${N5^^},.* was deleted again\$"'
testit "CA unreachable --json: valid, not ok" \
	$JSON_CHECK -c provision -o false <"$S/u.json"
check "CA unreachable: no account, no blob" 'no_trace "$N5" "$S/$N5.odj"'
testit "the CA starts again" "$CA_SH" start "$ODJ_DC_PREFIX"

# --- before any account: the CA is looked up first ------------------------
name N6 x
testit_exit "ca= names no CA: exit 6" 6 \
	"no enterprise CA named 'No CA $RUN' in $ES_BASE" \
	provision machine_name="$N6" certtemplate=Machine ca="No CA $RUN" \
	savefile="$S/$N6.odj"
testit_exit "a template the CA does not offer: exit 6" 6 \
	"enterprise CA '$CA_NAME' does not offer certificate template 'OdjNotOffered'" \
	provision machine_name="$N6" certtemplate=OdjNotOffered \
	ca="$CA_NAME" savefile="$S/$N6.odj"
check "no CA: no account, no blob" 'no_trace "$N6" "$S/$N6.odj"'
testit_exit "ca= with a local CA: usage" 2 "ca= names an enterprise CA" \
	provision machine_name="$N6" certtemplate=Machine ca="$CA_NAME" \
	ca_cert="$CA_DIR/ca.pem" ca_key="$CA_DIR/ca-key.pem" \
	savefile="$S/$N6.odj"
testit_exit "ca_key_password_file= without ca_key=: usage" 2 \
	"ca_key_password_file= goes with ca_key=" \
	provision machine_name="$N6" certtemplate=Machine \
	ca_key_password_file="$S/nothere" savefile="$S/$N6.odj"
testit_exit "ca= without certtemplate=: usage" 2 "go with certtemplate=" \
	provision machine_name="$N6" ca="$CA_NAME" savefile="$S/$N6.odj"

# --- a batch: each machine enrolls as itself ------------------------------
name B1 b1
name B2 b2
name B3 b3
printf '%s\n' "$B1" "$B2" "$B3" >"$S/batch.csv"
mkdir "$S/batch"
testit_grep "batch of 3, certtemplate=Machine (AD CS)" \
	"^Batch of 3 machines.*: 3 created, 0 reused, 0 skipped, 0 failed" \
	provision batch="$S/batch.csv" savedir="$S/batch" \
	certtemplate=Machine
for n in "$B1" "$B2" "$B3"; do
	pfx_cert "$S/batch/$n.odj" "$S/$n.crt"
	check "batch $n: its certificate from the CA, for its name and SID" \
		'openssl verify -CAfile "$CA_DIR/ca.pem" "$S/$n.crt" >/dev/null &&
		 openssl x509 -in "$S/$n.crt" -noout -ext subjectAltName |
		 grep -q "DNS:${n,,}\.odj\.test" && sid_ext "$S/$n.crt" "$(sid "$n")"'
	check "batch $n: enrolled as ${n^^}\$" 'ca_saw "$n"'
done
# one request denied: that machine fails alone, its account deleted
name B4 b4
name B5 b5
printf '%s\n' "$B4" "$B5" >"$S/batch2.csv"
mkdir "$S/batch2"
printf '{"request_id": 99, "disposition": 2, "message": "Denied in a batch"}\n' \
	>"$CA_DIR/override.json"
provision batch="$S/batch2.csv" savedir="$S/batch2" parallel=1 \
	certtemplate=Machine report="$S/batch2.json" --json \
	>"$S/batch2.out" 2>"$S/batch2.err"
rc=$?
check "batch with one denied request: exit 7" '[ $rc = 7 ]'
testit "batch --json: valid" $JSON_CHECK -c provision <"$S/batch2.out"
check "batch: the denied machine failed with the CA's message" \
	'grep -q "denied request 99: Denied in a batch" "$S/batch2.out"'
check "batch: the denied machine has no account, no blob; the other both" \
	'no_trace "$B4" "$S/batch2/$B4.odj" && exists "$B5" &&
	 [ -s "$S/batch2/$B5.odj" ]'

# --- the local CA with real CA keys ---------------------------------------
# the plain key, as before: what the others must match
same_kind() {
	# issuer, key usage, EKUs, template and SID extensions, verified
	local a=$1 b=$2
	openssl verify -CAfile "$CA_DIR/ca.pem" "$b" >/dev/null &&
	[ "$(openssl x509 -in "$a" -noout -issuer -ext keyUsage,extendedKeyUsage)" = \
	  "$(openssl x509 -in "$b" -noout -issuer -ext keyUsage,extendedKeyUsage)" ] &&
	[ "$(openssl x509 -in "$a" -noout -text | grep -c '1\.3\.6\.1\.4\.1\.311\.\(21\.7\|25\.2\)')" = \
	  "$(openssl x509 -in "$b" -noout -text | grep -c '1\.3\.6\.1\.4\.1\.311\.\(21\.7\|25\.2\)')" ]
}
name L1 l1
testit "local CA, plain key" provision machine_name="$L1" \
	certtemplate=Machine ca_cert="$CA_DIR/ca.pem" \
	ca_key="$CA_DIR/ca-key.pem" savefile="$S/$L1.odj"
pfx_cert "$S/$L1.odj" "$S/$L1.crt"
check "local CA, plain key: the SID extension" \
	'sid_ext "$S/$L1.crt" "$(sid "$L1")"'
check "local CA: no policy server in the PFX store" \
	'odj dump "$S/$L1.odj" | grep -q "policy server url: (none)"'

# encrypted PKCS #8
openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$CA_DIR/ca-key.pem" \
	-out "$S/ca-key.p8" -passout "pass:Ca key pw $RUN" 2>/dev/null
printf 'Ca key pw %s\n' "$RUN" >"$S/ca-key.pw"
printf 'not it\n' >"$S/wrong.pw"
check "the PKCS #8 key is encrypted" \
	'grep -q "BEGIN ENCRYPTED PRIVATE KEY" "$S/ca-key.p8"'
name L2 l2
json_run "$S/l2.json" provision machine_name="$L2" certtemplate=Machine \
	ca_cert="$CA_DIR/ca.pem" ca_key="$S/ca-key.p8" \
	ca_key_password_file="$S/ca-key.pw" savefile="$S/$L2.odj"
testit "encrypted PKCS #8, ca_key_password_file, --json: valid, ok" \
	$JSON_CHECK -c provision -o true <"$S/l2.json"
pfx_cert "$S/$L2.odj" "$S/$L2.crt"
check "encrypted PKCS #8: the same kind of certificate as the plain key" \
	'same_kind "$S/$L1.crt" "$S/$L2.crt" && sid_ext "$S/$L2.crt" "$(sid "$L2")"'
name L3 l3
testit_exit "encrypted PKCS #8, wrong password: exit 5" 5 \
	"CA key $S/ca-key.p8: wrong password" \
	provision machine_name="$L3" certtemplate=Machine \
	ca_cert="$CA_DIR/ca.pem" ca_key="$S/ca-key.p8" \
	ca_key_password_file="$S/wrong.pw" savefile="$S/$L3.odj"
testit_exit "encrypted PKCS #8, no password, no terminal: exit 5" 5 \
	"CA key $S/ca-key.p8 is encrypted, and no password for it was given" \
	provision machine_name="$L3" certtemplate=Machine \
	ca_cert="$CA_DIR/ca.pem" ca_key="$S/ca-key.p8" \
	savefile="$S/$L3.odj" </dev/null
testit_exit "ca_key_password_file= that cannot be read: exit 4" 4 \
	"ca_key_password_file=$S/nothere.pw: No such file" \
	provision machine_name="$L3" certtemplate=Machine \
	ca_cert="$CA_DIR/ca.pem" ca_key="$S/ca-key.p8" \
	ca_key_password_file="$S/nothere.pw" savefile="$S/$L3.odj"
check "bad keys: no account, no blob" 'no_trace "$L3" "$S/$L3.odj"'

# the prompt on a terminal, Samba's way
prompt_provision() {
	$PY - "$ODJ" "Ca key pw $RUN" "$@" <<-'EOF'
	import os, pty, sys
	odj, pw, args = sys.argv[1], sys.argv[2], sys.argv[3:]
	pid, fd = pty.fork()
	if pid == 0:
	    os.execv(odj, [odj] + args)
	seen = b""
	while b"]:" not in seen:
	    chunk = os.read(fd, 1024)
	    if not chunk:
	        sys.exit("no prompt: %r" % seen)
	    seen += chunk
	sys.stderr.write(seen.decode(errors="replace"))
	os.write(fd, pw.encode() + b"\n")
	while True:
	    try:
	        chunk = os.read(fd, 1024)
	    except OSError:
	        break
	    if not chunk:
	        break
	    sys.stderr.write(chunk.decode(errors="replace"))
	_, status = os.waitpid(pid, 0)
	sys.exit(os.waitstatus_to_exitcode(status))
	EOF
}
name L4 l4
testit_grep "encrypted PKCS #8, the prompt: 'Password for [KEY]:'" \
	"Password for \\[$S/ca-key\\.p8\\]:" prompt_provision provision \
	domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" -s "$CONF" -U "$ADMIN" \
	machine_name="$L4" certtemplate=Machine ca_cert="$CA_DIR/ca.pem" \
	ca_key="$S/ca-key.p8" savefile="$S/$L4.odj"
pfx_cert "$S/$L4.odj" "$S/$L4.crt"
check "the prompt: the key decrypted, a certificate issued" \
	'same_kind "$S/$L1.crt" "$S/$L4.crt"'

# a SoftHSM token, in this script's scratch directory only; and another
# CA's certificate, which its key must not pass for
printf 'cn = "Another CA"\nca\ncert_signing_key\nexpiration_days = 30\n' \
	>"$S/other-ca.tmpl"
certtool --generate-privkey --key-type=rsa --bits=2048 \
	--outfile "$S/other-ca-key.pem" >/dev/null 2>&1
certtool --generate-self-signed --load-privkey "$S/other-ca-key.pem" \
	--template "$S/other-ca.tmpl" --outfile "$S/other-ca.pem" >/dev/null 2>&1
export SOFTHSM2_CONF=$S/softhsm2.conf
mkdir -p "$S/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n' \
	"$S" >"$SOFTHSM2_CONF"
openssl pkcs8 -topk8 -nocrypt -in "$CA_DIR/ca-key.pem" -out "$S/ca-key.plain.p8"
testit "SoftHSM: a token" softhsm2-util --init-token --free \
	--label "odjca$RUN" --pin 4321 --so-pin 87654321
testit "SoftHSM: the CA key onto it" softhsm2-util --import \
	"$S/ca-key.plain.p8" --token "odjca$RUN" --label cakey --id 01 \
	--pin 4321
rm -f "$S/ca-key.plain.p8"
printf '4321\n' >"$S/pin"
URL="pkcs11:token=odjca$RUN;object=cakey;type=private"
name L5 l5
json_run "$S/l5.json" provision machine_name="$L5" certtemplate=Machine \
	ca_cert="$CA_DIR/ca.pem" ca_key="$URL" ca_key_password_file="$S/pin" \
	savefile="$S/$L5.odj"
testit "pkcs11: URL (SoftHSM), PIN from the file, --json: valid, ok" \
	$JSON_CHECK -c provision -o true <"$S/l5.json"
pfx_cert "$S/$L5.odj" "$S/$L5.crt"
check "pkcs11: the same kind of certificate as the plain key" \
	'same_kind "$S/$L1.crt" "$S/$L5.crt" && sid_ext "$S/$L5.crt" "$(sid "$L5")"'
name L6 l6
testit_exit "pkcs11: a wrong PIN: exit 5" 5 \
	"CA key $URL: the token refused the PIN" \
	provision machine_name="$L6" certtemplate=Machine \
	ca_cert="$CA_DIR/ca.pem" ca_key="$URL" \
	ca_key_password_file="$S/wrong.pw" savefile="$S/$L6.odj"
testit_exit "pkcs11: no PIN, no terminal: exit 5" 5 \
	"CA key $URL: the token wants its PIN and none was given" \
	provision machine_name="$L6" certtemplate=Machine \
	ca_cert="$CA_DIR/ca.pem" ca_key="$URL" savefile="$S/$L6.odj" </dev/null
testit_exit "pkcs11: no such object: exit 4" 4 \
	"no private key there" \
	provision machine_name="$L6" certtemplate=Machine \
	ca_cert="$CA_DIR/ca.pem" \
	ca_key="pkcs11:token=odjca$RUN;object=nokey;type=private" \
	ca_key_password_file="$S/pin" savefile="$S/$L6.odj"
testit_exit "pkcs11: a key of another CA: exit 3" 3 \
	"does not belong to the CA certificate" \
	provision machine_name="$L6" certtemplate=Machine \
	ca_cert="$S/other-ca.pem" ca_key="$URL" \
	ca_key_password_file="$S/pin" savefile="$S/$L6.odj"
check "pkcs11 failures: no account, no blob" 'no_trace "$L6" "$S/$L6.odj"'
unset SOFTHSM2_CONF

# --- no enrollment service in AD: an error before the account add --------
ldbdel "${H[@]}" "CN=$CA_NAME,$ES_BASE" >/dev/null 2>&1
name N7 e
json_run "$S/e.json" provision machine_name="$N7" certtemplate=Machine \
	savefile="$S/$N7.odj"
check "no enrollment service in AD: exit 6" '[ "$JRC" = 6 ]'
check "no enrollment service: the message" \
	'json_error "$S/e.json" "^no enterprise CA in $ES_BASE offers certificate template .Machine.\$"'
testit "no enrollment service --json: valid, not ok" \
	$JSON_CHECK -c provision -o false <"$S/e.json"
check "no enrollment service: nothing was added (no rollback message)" \
	'no_trace "$N7" "$S/$N7.odj" && ! grep -q "deleted again" "$S/e.json"'

exit $failed
