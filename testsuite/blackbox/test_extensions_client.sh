#!/bin/bash
# odj requestodj applies the Windows Server 2012 extensions on the client:
# a blob made with rootcacerts, certtemplate and policynames against the
# throwaway DC becomes, besides the join, the root CA as a .crt in the
# trust directory, the machine certificate and key as PEM, and the GPO's
# settings as JSON; skip options, update-ca-certificates, and the
# ESSENTIAL rules (refused: secrets.tdb byte for byte, no file left).
#
# The test publishes a root CA as AD CS does (certificationAuthority
# under CN=Certification Authorities), a pKICertificateTemplate and a GPO
# with a Registry.pol written by Samba's own Python; it deletes all of it,
# and the accounts, at the end.
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
chmod 755 "$S"

. "$(dirname "$0")/dc_env.sh"

CONF=$ODJ_ADMIN_SMBCONF
RUN=$$
PY=/usr/bin/python3
H=(-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF")
. "$(dirname "$0")/extensions_env.sh"

NAMES=()
CLIENTS=()
MOUNTS=()
CA_DN="CN=OdjCliCA$RUN,CN=Certification Authorities,$PKS"
TPL=OdjCliTpl$RUN
TPL_DN="CN=$TPL,CN=Certificate Templates,$PKS"

cleanup() {
	local x
	for x in "${MOUNTS[@]}"; do
		umount "$x" 2>/dev/null
	done
	for x in "${CLIENTS[@]}"; do
		"$ENVD/client.sh" stop "$x" >/dev/null 2>&1
	done
	for x in "${NAMES[@]}"; do
		samba-tool computer delete "$x" "${H[@]}" >/dev/null 2>&1 ||
			echo "could not delete the account $x" >&2
	done
	for x in "${GPOS[@]}"; do
		samba-tool gpo del "$x" "${H[@]}" >/dev/null 2>&1 ||
			echo "could not delete the GPO $x" >&2
	done
	ldbdel "${H[@]}" "$CA_DN" >/dev/null 2>&1
	ldbdel "${H[@]}" "$TPL_DN" >/dev/null 2>&1
	rm -rf "$S"
}
trap cleanup EXIT

# --- a root CA, its certificationAuthority object, a template, a GPO
CA_CN="ODJ Client Test CA $RUN"
ext_ca "$S/ca-key.pem" "$S/ca.pem" "$CA_CN" || exit 1
CA_SHA1=$(ext_sha1 "$S/ca.pem")
ext_ca_ldif "$CA_DN" "OdjCliCA$RUN" "$S/ca.pem" >"$S/ca.ldif"
ext_template_ldif "$TPL_DN" "$TPL" "ODJ Client Test Machine $RUN" \
	"1.3.6.1.4.1.311.21.8.4243.$RUN.1.100" >"$S/tpl.ldif"
ext_registry_pol "$S/Registry.pol" "$S/expected.json" \
	'Software\Policies\OdjClientTest' || exit 1

testit "publish the root CA" ldbadd "${H[@]}" "$S/ca.ldif"
testit "publish the certificate template" ldbadd "${H[@]}" "$S/tpl.ldif"
GPO_NAME="ODJ Client GPO $RUN"
gpo_create GUID "$GPO_NAME"
check "samba-tool gpo create" '[ -n "$GUID" ]'
testit "Registry.pol into SYSVOL" gpo_put "$GUID" "$S/Registry.pol"

# --- the blob, and a client
N=$(printf 'xc%s' "$RUN" | cut -c1-15)
NAMES+=("$N")
BLOB=$S/$N.odj
testit "provision rootcacerts certtemplate policynames" \
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
	machine_name="$N" rootcacerts certtemplate="$TPL" \
	ca_cert="$S/ca.pem" ca_key="$S/ca-key.pem" policynames="$GPO_NAME" \
	savefile="$BLOB" -s "$CONF" -U "$ADMIN"

new_client() {
	local cp=$S/clients/$1
	"$ENVD/client.sh" new "$cp" "${N^^}" 2>/dev/null || return 1
	CLIENTS+=("$cp")
}
CC=$(new_client c) || { _fail "client.sh new"; exit $failed; }
CP=$S/clients/c
T=$CP/private/secrets.tdb

# no file of the extensions under DIR... (temporary ones neither)
no_files() {
	local d
	for d in "$@"; do
		[ ! -e "$d" ] || [ -z "$(ls -A "$d")" ] || return 1
	done
}

# --- everything applied
mkdir -p "$S/trust"
out=$(odj requestodj loadfile="$BLOB" trustdir="$S/trust" \
	certdir="$S/certs" policyfile="$S/policy.json" -s "$CC" 2>&1)
rc=$?
printf '%s\n' "$out" >"$S/out1"
check "requestodj with certificates and policies: exit 0" '[ $rc = 0 ]'
check "report names the files" \
	'grep -q "^root CA: $S/trust/odj-" "$S/out1" &&
	 grep -q "^machine certificate: $S/certs/machine.key" "$S/out1" &&
	 grep -q "^machine certificate: $S/certs/machine.pem" "$S/out1" &&
	 grep -q "^policy settings: $S/policy.json" "$S/out1"'
check "no warning" '! grep -q "^warning" "$S/out1"'
ROOT=$(ls "$S"/trust/*.crt 2>/dev/null)
check "one root CA, named after its CN and thumbprint" \
	'[ "$ROOT" = "$S/trust/odj-ODJ_Client_Test_CA_$RUN-${CA_SHA1:0:8}.crt" ]'
ldbsearch "${H[@]}" -b "$CA_DN" -s base cACertificate 2>/dev/null |
	sed -e ':a;N;$!ba;s/\n //g' | sed -n 's/^cACertificate:: //p' |
	base64 -d >"$S/ad-ca.der"
check "the root CA file is the CA published in AD" \
	'openssl x509 -in "$ROOT" -outform DER | cmp -s - "$S/ad-ca.der"'
check "the root CA file is PEM, one certificate" \
	'[ "$(grep -c "BEGIN CERTIFICATE" "$ROOT")" = 1 ]'
testit "openssl verify: machine certificate against the installed root" \
	openssl verify -CAfile "$ROOT" "$S/certs/machine.pem"
testit_grep "SAN dNSName is the machine's DNS name" \
	"DNS:${N,,}\\.$ODJ_DNS_DOMAIN\$" \
	openssl x509 -in "$S/certs/machine.pem" -noout -ext subjectAltName
check "the key belongs to the certificate" \
	'[ "$(openssl x509 -in "$S/certs/machine.pem" -noout -pubkey)" = \
	   "$(openssl pkey -in "$S/certs/machine.key" -pubout)" ] &&
	 [ -n "$(openssl pkey -in "$S/certs/machine.key" -pubout)" ]'
check "modes: key 0600, certificate 0644, root CA 0644" \
	'[ "$(file_mode "$S/certs/machine.key")" = 600 ] &&
	 [ "$(file_mode "$S/certs/machine.pem")" = 644 ] &&
	 [ "$(file_mode "$ROOT")" = 644 ]'
cmp_json() {
	$PY - "$1" "$S/expected.json" "$GUID" <<-'EOF'
	import json, sys
	d = json.load(open(sys.argv[1]))
	want = json.load(open(sys.argv[2]))
	lists = d["element_lists"]
	assert len(lists) == 1, lists
	l = lists[0]
	assert l["root_key"] == "HKEY_LOCAL_MACHINE", l["root_key"]
	assert sys.argv[3].lower() in l["source"].lower(), l["source"]
	got = [[e["key"], e["value_name"], e["type_id"], e["value"]]
	       for e in l["elements"]]
	assert got == want, "\n%s\n!=\n%s" % (got, want)
	EOF
}
testit "policy JSON: every value of the GPO's Registry.pol" \
	cmp_json "$S/policy.json"
check "no temporary files left" \
	'! ls -A "$S/trust" "$S/certs" "$S" | grep -q "\.odj-\|XXXXXX"'
KT=$(sed -n 's/^keytab: \(\/[^ ]*\) (.*/\1/p' "$S/out1")
testit "kinit -k with the keytab" sh -c \
	"KRB5CCNAME=FILE:$S/kt.cc kinit -k -t '$KT' '${N^^}\$@$ODJ_REALM'"
testit "net rpc testjoin" net rpc testjoin -S "$ODJ_DC_NAME" -s "$CC"

# --- skip options: joined, warnings, no files
testit_grep "nocerts nopolicy: warnings" \
	'warning: blob 2 part [0-9]+ \(CERT_PROVIDER\) not applied \(nocerts\)' \
	odj requestodj loadfile="$BLOB" trustdir="$S/trust2" \
	certdir="$S/certs2" policyfile="$S/policy2.json" nocerts nopolicy \
	-s "$CC"
check "nocerts nopolicy: no files" \
	'no_files "$S/trust2" "$S/certs2" && [ ! -e "$S/policy2.json" ]'
testit_grep "nocerts alone: the policy still applied" \
	"^policy settings: $S/policy3.json" \
	odj requestodj loadfile="$BLOB" trustdir="$S/trust2" \
	certdir="$S/certs2" policyfile="$S/policy3.json" nocerts -s "$CC"
check "nocerts: no certificate files" 'no_files "$S/trust2" "$S/certs2"'

# --- update-ca-certificates only when asked (a stand-in records the call)
mkdir -p "$S/bin" "$S/trust4"
printf '#!/bin/sh\necho called >"%s/update-ca.called"\necho chatter\n' \
	"$S" >"$S/bin/update-ca-certificates"
chmod 755 "$S/bin/update-ca-certificates"
PATH=$S/bin:$PATH odj requestodj loadfile="$BLOB" trustdir="$S/trust4" \
	certdir="$S/certs4" policyfile="$S/policy4.json" -s "$CC" >/dev/null 2>&1
check "update-ca-certificates not run unless asked" '[ ! -e "$S/update-ca.called" ]'
PATH=$S/bin:$PATH odj requestodj loadfile="$BLOB" trustdir="$S/trust4" \
	certdir="$S/certs4" policyfile="$S/policy4.json" \
	--update-ca-certificates -s "$CC" >"$S/out4" 2>"$S/err4"
check "--update-ca-certificates runs it, its output off stdout" \
	'[ -e "$S/update-ca.called" ] &&
	 grep -q "^update-ca-certificates: done" "$S/out4" &&
	 ! grep -q chatter "$S/out4" && grep -q chatter "$S/err4"'

# --- a part that is not essential and cannot be applied: a warning
testit_grep "missing trust directory, not essential: joined, warning" \
	'warning: blob 2 part [0-9]+ \(CERT_PROVIDER\) not applied: .*No such file' \
	odj requestodj loadfile="$BLOB" trustdir="$S/nothere" \
	certdir="$S/certs5" policyfile="$S/policy5.json" -s "$CC"
check "not essential: no certificate files, the policy written" \
	'no_files "$S/certs5" && [ -e "$S/policy5.json" ]'

# --- ESSENTIAL parts: refused, nothing written
patch_flags() {
	$PY - "$BLOB" "$1" "$2" <<-'EOF'
	import base64, struct, sys, uuid
	src, dst, kind = sys.argv[1], sys.argv[2], sys.argv[3]
	guid = {'cert': '9c0971e9-832f-4873-8e87-ef1419d4781e',
	        'policy': '68fb602a-0c09-48ce-b75f-07b7bd58f7ec'}[kind]
	raw = open(src, 'rb').read()
	ndr = bytearray(base64.b64decode(
	    raw[2:].decode('utf-16-le').rstrip('\0')))
	g = uuid.UUID(guid).bytes_le
	i = ndr.find(g)
	assert i > 0 and ndr.find(g, i + 1) == -1
	ndr[i + 16:i + 20] = struct.pack('<I', 1)
	out = base64.b64encode(bytes(ndr)).decode()
	open(dst, 'wb').write(b'\xff\xfe' + (out + '\0').encode('utf-16-le'))
	EOF
}
patch_flags "$S/ecert.odj" cert
patch_flags "$S/epol.odj" policy
check "the patched blob says ESSENTIAL" \
	'odj dump "$S/ecert.odj" | grep -A3 "type: CERT_PROVIDER" | grep -q "flags names: ESSENTIAL"'
cp -p "$T" "$S/before.tdb"
cp -p "$CP/private/krb5.keytab" "$S/before.keytab" 2>/dev/null
unchanged() {
	cmp -s "$T" "$S/before.tdb" &&
		! ls -A "$CP/private" | grep -q '\.odj-' &&
		{ [ ! -e "$S/before.keytab" ] ||
		  cmp -s "$CP/private/krb5.keytab" "$S/before.keytab"; }
}
mkdir -p "$S/trust6"
testit_exit "ESSENTIAL CERT part + nocerts: refused, exit 3" 3 \
	'CERT_PROVIDER\) is ESSENTIAL, and nocerts would skip it' \
	odj requestodj loadfile="$S/ecert.odj" trustdir="$S/trust6" \
	certdir="$S/certs6" policyfile="$S/policy6.json" nocerts -s "$CC"
check "refused: secrets.tdb byte for byte, no files" \
	'unchanged && no_files "$S/trust6" "$S/certs6" && [ ! -e "$S/policy6.json" ]'
testit_exit "ESSENTIAL POLICY part + nopolicy: refused, exit 3" 3 \
	'POLICY_PROVIDER\) is ESSENTIAL, and nopolicy would skip it' \
	odj requestodj loadfile="$S/epol.odj" trustdir="$S/trust6" \
	certdir="$S/certs6" policyfile="$S/policy6.json" nopolicy -s "$CC"
check "refused: secrets.tdb byte for byte, no files" \
	'unchanged && no_files "$S/trust6" "$S/certs6" && [ ! -e "$S/policy6.json" ]'
testit_exit "ESSENTIAL CERT part that cannot be written: exit 4" 4 \
	'ESSENTIAL and cannot be applied: .*No such file' \
	odj requestodj loadfile="$S/ecert.odj" trustdir="$S/nothere" \
	certdir="$S/certs6" policyfile="$S/policy6.json" -s "$CC"
check "cannot be written: secrets.tdb byte for byte, no files" \
	'unchanged && no_files "$S/trust6" "$S/certs6" && [ ! -e "$S/policy6.json" ]'
testit_grep "ESSENTIAL CERT part that can be applied: joined" \
	"^root CA: $S/trust6/" \
	odj requestodj loadfile="$S/ecert.odj" trustdir="$S/trust6" \
	certdir="$S/certs6" policyfile="$S/policy6.json" -s "$CC"

# --- the join fails after the files were staged: none of them remains
if mount -t tmpfs -o size=1m odj-test "$CP/private" 2>/dev/null; then
	MOUNTS+=("$CP/private")
	dd if=/dev/zero of="$CP/private/filler" bs=4k 2>/dev/null
	mkdir -p "$S/trust7"
	testit_exit "disk full for secrets.tdb: exit 4" 4 'No space left' \
		odj requestodj loadfile="$BLOB" trustdir="$S/trust7" \
		certdir="$S/certs7" policyfile="$S/policy7.json" -s "$CC"
	check "failed join: no certificate, key or policy file" \
		'no_files "$S/trust7" "$S/certs7" && [ ! -e "$S/policy7.json" ] &&
		 [ "$(ls -A "$CP/private")" = filler ]'
	umount "$CP/private"
	MOUNTS=()
else
	echo "SKIP: no tmpfs mounts here: the failing-join case"
fi

# --- odj dump shows what was applied
testit_grep "dump: the machine certificate's DNS name" \
	"dns names: ${N,,}\\.$ODJ_DNS_DOMAIN\$" odj dump "$BLOB"
testit_grep "dump: the policy values" 'value: one, two' odj dump "$BLOB"

exit $failed
