#!/bin/bash
# needs: dc
# AD CS enrollment over [MS-ICPR] (source/lib/odj_ca_adcs.c), driven by
# testsuite/icpr_enroll, against the test CA of testsuite/env/ca.sh: a
# loopback ICertPassage endpoint that authenticates callers with Samba's
# gensec (Kerberos tickets from the throwaway DC), answers from AD as AD
# CS does and signs with a test CA.  The request and response bytes are
# checked field by field with impacket's NDR (icpr_codec_check.py).
#
# ODJ_CA_IP (default 127.0.0.9) is the CA's address.

. "$(dirname "$0")/common.sh"
odj_scratch
. "$ODJ_TOP/testsuite/env/env.sh" "$ODJ_DC_PREFIX" || exit 1

S=$ODJ_SCRATCH
PY=/usr/bin/python3
CA_SH=$ODJ_TOP/testsuite/env/ca.sh
# the ASan pass of testsuite/run sets ODJ to bin/asan/odj: its build
ENROLL=$(dirname "$ODJ")/testsuite/icpr_enroll
CHECK=$ODJ_TOP/testsuite/blackbox/icpr_codec_check.py
CA_DIR=$ODJ_DC_PREFIX/ca
CA_NAME="ODJ Test CA"
RUN=$$
M1=ICPA$RUN
M2=ICPB$RUN
USER1=icpru$RUN
H=(-H "ldap://$ODJ_DC_NAME" -U "$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
	--configfile="$ODJ_ADMIN_SMBCONF")
DOMAIN_DN="DC=${ODJ_DNS_DOMAIN//./,DC=}"

cleanup() {
	samba-tool computer delete "$M1" "${H[@]}" >/dev/null 2>&1
	samba-tool computer delete "$M2" "${H[@]}" >/dev/null 2>&1
	samba-tool user delete "$USER1" "${H[@]}" >/dev/null 2>&1
	"$CA_SH" destroy "$ODJ_DC_PREFIX" >/dev/null 2>&1
	rm -rf "$S"
}
trap cleanup EXIT

# new_machine NAME: a computer account with a password and dNSHostName,
# as odj provision makes one; the password in $S/NAME.pw
new_machine() {
	local name=$1 pw
	pw="Icpr-$(head -c 12 /dev/urandom | base64 | tr -d '/+=')1"
	printf '%s' "$pw" >"$S/$name.pw"
	samba-tool computer create "$name" "${H[@]}" >/dev/null &&
	samba-tool user setpassword "$name\$" --newpassword="$pw" \
		"${H[@]}" >/dev/null &&
	ldbmodify "${H[@]}" >/dev/null <<-EOF
	dn: CN=$name,CN=Computers,$DOMAIN_DN
	changetype: modify
	replace: dNSHostName
	dNSHostName: ${name,,}.$ODJ_DNS_DOMAIN
	EOF
}

sid_of() {
	ldbsearch "${H[@]}" -b "$DOMAIN_DN" "(sAMAccountName=$1)" objectSid |
		sed -n 's/^objectSid: //p'
}

enroll() {
	"$ENROLL" enroll -s "$ODJ_ADMIN_SMBCONF" --ca-host "ca1.$ODJ_DNS_DOMAIN" \
		--ca-name "$CA_NAME" --realm "$ODJ_REALM" --domain "$ODJ_DOMAIN" "$@"
}

find_ca() {
	"$ENROLL" find-ca -s "$ODJ_ADMIN_SMBCONF" --dc "$ODJ_DC_NAME" \
		--domain "$ODJ_DNS_DOMAIN" -U "$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS" "$@"
}

# last_capture KIND: the newest req-N.ndr / rsp-N.ndr of the endpoint
last_capture() {
	ls -t "$CA_DIR/capture/$1"-*.ndr 2>/dev/null | head -n 1
}

testit "CA endpoint starts" "$CA_SH" start "$ODJ_DC_PREFIX"
testit "machine account $M1" new_machine "$M1"
FQDN=${M1,,}.$ODJ_DNS_DOMAIN
SID=$(sid_of "$M1\$")

# --- the CA in AD ------------------------------------------------------
testit_grep "find-ca: the CA offering Machine" \
	"^host: ca1\\.$ODJ_DNS_DOMAIN\$" find_ca --template Machine
testit_grep "find-ca: named CA" "^name: $CA_NAME\$" \
	find_ca --template Machine --ca "odj test ca"
testit_exit "find-ca: a template no CA offers" 1 \
	"no enterprise CA in CN=Enrollment Services,.* offers certificate template 'OdjNotOffered'" \
	find_ca --template OdjNotOffered
testit_exit "find-ca: a CA that does not offer the template" 1 \
	"enterprise CA '$CA_NAME' does not offer certificate template 'OdjNotOffered'" \
	find_ca --template OdjNotOffered --ca "$CA_NAME"
testit_exit "find-ca: no such CA" 1 "no enterprise CA named 'Nope'" \
	find_ca --template Machine --ca Nope

# --- issued ------------------------------------------------------------
mkdir -p "$S/issued"
enroll --template Machine --account "$M1\$" --password-file "$S/$M1.pw" \
	--csr-name "not-this-name.example.invalid" --out "$S/issued" \
	>"$S/issued/out" 2>"$S/issued/err"
rc=$?
check "issued: Machine as $M1\$ (Kerberos, SPNEGO, privacy): exit 0" \
	"[ $rc = 0 ] || { cat $S/issued/err; false; }"
check "issued: disposition 3, message Issued" \
	"grep -qx 'disposition: 3' $S/issued/out &&
	 grep -qx 'message: Issued' $S/issued/out"
check "issued: subject CN is the account's dNSHostName" \
	"grep -qx 'subject: CN=$FQDN' $S/issued/out"
check "issued: SAN dNSName is the dNSHostName, not the request's" \
	"grep -qx 'dns: $FQDN' $S/issued/out &&
	 ! grep -q not-this-name $S/issued/out"
check "issued: SID extension is the account's objectSid ($SID)" \
	"[ -n '$SID' ] && grep -qx 'sid: $SID' $S/issued/out"
check "issued: issuer is the test CA" \
	"grep -qx 'issuer: CN=$CA_NAME,O=samba-odj test' $S/issued/out"
check "issued: template extension names Machine" \
	"grep -qx 'template: Machine' $S/issued/out"
check "issued: the chain from the PKCS #7 is the CA" \
	"grep -qx 'chain: 1' $S/issued/out &&
	 grep -qx 'chain-subject: CN=$CA_NAME,O=samba-odj test' $S/issued/out"
testit "issued: openssl verifies the certificate against the CA" \
	openssl verify -CAfile "$CA_DIR/ca.pem" "$S/issued/cert.pem"
testit "issued: the chain PEM is the CA certificate" \
	cmp <(openssl x509 -in "$S/issued/chain.pem" -outform DER) \
	<(openssl x509 -in "$CA_DIR/ca.pem" -outform DER)

# the bytes of that call, through impacket's NDR
REQ=$(last_capture req)
RSP=$(last_capture rsp)
testit "codec: request decoded by impacket, field by field" \
	$PY "$CHECK" request "$REQ" "$S/issued/csr.der" "$CA_NAME" Machine
testit "codec: response (impacket) as pidl decoded it, field by field" \
	$PY "$CHECK" response "$RSP" "$S/issued/out" "$S/issued"

# --- answers no policy here gives, encoded by impacket -------------------
printf '{"request_id": 4294967294, "disposition": 2148089860,
 "message": "Verweigert \\u2013 Zugriff \\u00fc \\u62d2\\u5426\\r\\n"}\n' \
	>"$CA_DIR/override.json"
enroll --template Machine --account "$M1\$" --password-file "$S/$M1.pw" \
	>"$S/override.out" 2>"$S/override.err"
rc=$?
check "codec: HRESULT disposition 0x80094004 is a refusal (exit 3)" \
	"[ $rc = 3 ]"
testit "codec: request id, HRESULT, UTF-16 message decoded" \
	$PY "$CHECK" response "$(last_capture rsp)" "$S/override.out"
check "codec: the refusal names the CA, request and disposition" \
	"grep -q \"CA '$CA_NAME' did not issue request 4294967294 (disposition 0x80094004): Verweigert\" $S/override.err"
# 6000 UTF-16 characters: a response of three sealed fragments
$PY -c 'import json; print(json.dumps({"request_id": 77, "disposition": 2,
    "message": "".join(chr(0x41 + i % 26) for i in range(6000))}))' \
	>"$CA_DIR/override.json"
enroll --template Machine --account "$M1\$" --password-file "$S/$M1.pw" \
	>"$S/long.out" 2>"$S/long.err"
rc=$?
check "codec: CR_DISP_DENIED with a 12 kB message (fragments) (exit 3)" \
	"[ $rc = 3 ] && grep -q 'denied request 77: ABCDEFG' $S/long.err"
testit "codec: fragmented response reassembled, field by field" \
	$PY "$CHECK" response "$(last_capture rsp)" "$S/long.out"
printf '{"request_id": 0, "disposition": 0, "error": 2147942487}\n' \
	>"$CA_DIR/override.json"
testit_exit "codec: a non-zero return value (E_INVALIDARG) is a refusal" 3 \
	"CA '$CA_NAME' refused the request: error 0x80070057" \
	enroll --template Machine --account "$M1\$" --password-file "$S/$M1.pw"

# --- pending, denied, refused ------------------------------------------
testit_exit "pending: CT_FLAG_PEND_ALL_REQUESTS template (exit 2)" 2 \
	"CA '$CA_NAME' took request [0-9]+ under submission .*: Taken Under Submission" \
	enroll --template OdjPendingMachine --account "$M1\$" \
	--password-file "$S/$M1.pw"
testit_exit "denied: template the CA does not offer (0x80094800)" 3 \
	"did not issue request [0-9]+ \\(disposition 0x80094800\\): Denied by Policy Module  0x80094800" \
	enroll --template OdjNotOffered --account "$M1\$" \
	--password-file "$S/$M1.pw"
samba-tool user create "$USER1" 'Icpr-User-Pass-1' "${H[@]}" >/dev/null
printf 'Icpr-User-Pass-1' >"$S/user.pw"
testit_exit "denied: a user, not a machine, gets 0x80094012" 3 \
	"disposition 0x80094012\\): Denied by Policy Module  0x80094012, The permissions on the certificate template" \
	enroll --template Machine --account "$USER1" --password-file "$S/user.pw"
check "denied: the endpoint saw the user's own identity" \
	"grep -q 'request [0-9]* denied: not in Domain Computers' $CA_DIR/log/icpr_server.log"
testit_exit "refused: integrity without privacy" 3 \
	"CertServerRequest to CA '$CA_NAME' failed: NT_STATUS_ACCESS_DENIED" \
	enroll --template Machine --account "$M1\$" --password-file "$S/$M1.pw" \
	--binding "ncacn_ip_tcp:ca1.$ODJ_DNS_DOMAIN[spnego,sign]"
testit_exit "refused: a ticket for another service (the DC's)" 1 \
	"cannot reach CA '$CA_NAME'" \
	enroll --template Machine --account "$M1\$" --password-file "$S/$M1.pw" \
	--binding "ncacn_ip_tcp:ca1.$ODJ_DNS_DOMAIN[spnego,seal,target_principal=host/$ODJ_DC_NAME@$ODJ_REALM]"
check "refused: the endpoint could not decrypt that ticket" \
	"grep -q 'refused: authentication failed' $CA_DIR/log/icpr_server.log"
printf 'Wrong-Password-1' >"$S/wrong.pw"
testit_exit "refused: wrong machine password (Kerberos, no NTLM fallback)" 1 \
	"as $M1\\\$: The attempted logon is invalid" \
	enroll --template Machine --account "$M1\$" --password-file "$S/wrong.pw"

# --- an account the KDC does not know yet: retried until it exists ---------
printf 'Icpr-Later-Pass-1' >"$S/$M2.pw"
enroll --template Machine --account "$M2\$" --password-file "$S/$M2.pw" \
	--wait 30 >"$S/later.out" 2>&1 &
later=$!
sleep 2
# created as odj provision creates one: password and names in one add
ldbadd "${H[@]}" >/dev/null <<EOF
dn: CN=$M2,CN=Computers,$DOMAIN_DN
objectClass: computer
sAMAccountName: $M2\$
userAccountControl: 4096
dNSHostName: ${M2,,}.$ODJ_DNS_DOMAIN
unicodePwd:: $(printf '"Icpr-Later-Pass-1"' | iconv -t UTF-16LE | base64 -w0)
EOF
wait $later
rc=$?
check "retry: issued once the account exists (exit 0)" \
	"[ $rc = 0 ] || { cat $S/later.out; false; }"
check "retry: it failed to log on first" \
	"grep -q 'NT_STATUS_LOGON_FAILURE\\|NT_STATUS_NO_SUCH_USER' $S/later.out"
check "retry: certificate for the new machine" \
	"grep -qx 'dns: ${M2,,}.$ODJ_DNS_DOMAIN' $S/later.out"

# --- no CA -------------------------------------------------------------
testit "CA endpoint stops" "$CA_SH" stop "$ODJ_DC_PREFIX"
testit_exit "unreachable: nothing on the endpoint mapper" 1 \
	"cannot reach CA '$CA_NAME' at ncacn_ip_tcp:ca1\\.$ODJ_DNS_DOMAIN\\[spnego,seal\\] as $M1\\\$: " \
	enroll --template Machine --account "$M1\$" --password-file "$S/$M1.pw"
"$CA_SH" destroy "$ODJ_DC_PREFIX" >/dev/null 2>&1
testit_exit "no enrollment service in AD" 1 \
	"no enterprise CA in CN=Enrollment Services,.* offers certificate template 'Machine'" \
	find_ca --template Machine

exit $failed
