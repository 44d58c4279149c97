#!/bin/bash
# odj provision's Windows Server 2012 extensions against the throwaway DC:
# root CAs (rootcacerts), a machine certificate per template from a local
# CA (certtemplate, ca_cert, ca_key), GPO settings from SYSVOL and local
# Registry.pol files (policynames, policypaths); odj dump of all of it;
# Samba's requestodj on such a blob; bad input with nothing left behind.
#
# The test publishes a root CA as AD CS does (certificationAuthority under
# CN=Certification Authorities, and CN=NTAuthCertificates), a
# pKICertificateTemplate, and GPOs whose Registry.pol Samba's own Python
# (samba.dcerpc.preg) writes; it deletes all of it at the end.
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
chmod 755 "$S"

. "$(dirname "$0")/dc_env.sh"

CONF=$ODJ_ADMIN_SMBCONF
RUN=$$
# Debian's python3 with Samba's modules (a pyenv one first on PATH lacks them)
PY=/usr/bin/python3

# name VAR TAG: a unique computer name in VAR, deleted at the end (no
# command substitution: NAMES must grow in this shell, not a subshell)
NAMES=()
name() {
	local -n _name=$1
	_name=$(printf 'x%s%s' "$2" "$RUN" | cut -c1-15)
	NAMES+=("$_name")
}

H=(-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF")

# sid NAME: the account's objectSid
sid() {
	ldbsearch "${H[@]}" "(sAMAccountName=${1^^}\$)" objectSid \
		2>/dev/null | sed -n 's/^objectSid: //p'
}

# sid_ext CERT SID: the certificate carries SID in the
# szOID_NTDS_CA_SECURITY_EXT extension (strong certificate mapping)
sid_ext() {
	local hex

	hex=$(openssl x509 -in "$1" -outform DER | xxd -p | tr -d '\n')
	# the extension's OID, then its otherName type's, then the SID
	[ -n "$2" ] && case $hex in
	*06092b0601040182371902*060a2b060104018237190201*"$(printf %s "$2" |
		xxd -p | tr -d '\n')"*) true ;;
	*) false ;;
	esac
}

exists() {
	[ -n "$(ldbsearch "${H[@]}" "(sAMAccountName=${1^^}\$)" dn \
		2>/dev/null | sed -n 's/^dn: //p')" ]
}

provision() {
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		-s "$CONF" "$@"
}

# json FILE EXPR: a Python expression over the dump's JSON (d)
json() {
	odj dump --json --show-secrets "$1" | $PY -c "import json,sys
d=json.load(sys.stdin)
parts={p['type']: p['content'] for p in d['blobs'][1]['op_package']['parts']}
v=($2)
print(v if isinstance(v, str) else json.dumps(v))"
}

. "$(dirname "$0")/extensions_env.sh"
NTAUTH="CN=NTAuthCertificates,$PKS"

# --- a CA as AD CS publishes it, and an issuing CA below it for NTAuth
CA_CN="ODJ Ext Test CA $RUN"
ext_ca "$S/ca-key.pem" "$S/ca.pem" "$CA_CN" || exit 1
ext_ca "$S/sub-key.pem" "$S/sub.pem" "ODJ Ext Issuing CA $RUN" \
	"$S/ca-key.pem" "$S/ca.pem" || exit 1
certtool --generate-privkey --key-type=rsa --bits=2048 \
	--outfile "$S/other-key.pem" >/dev/null 2>&1 || exit 1
CA_SHA1=$(ext_sha1 "$S/ca.pem")
SUB_SHA1=$(ext_sha1 "$S/sub.pem")

CA_DN="CN=OdjTestCA$RUN,CN=Certification Authorities,$PKS"
ext_ca_ldif "$CA_DN" "OdjTestCA$RUN" "$S/ca.pem" >"$S/ca.ldif"
NTAUTH_CREATED=0
if ldbsearch "${H[@]}" -b "$NTAUTH" -s base dn 2>/dev/null |
	grep -q '^dn: '; then
	cat >"$S/ntauth.ldif" <<EOF
dn: $NTAUTH
changetype: modify
add: cACertificate
cACertificate:: $(b64der "$S/ca.pem")
cACertificate:: $(b64der "$S/sub.pem")
EOF
else
	NTAUTH_CREATED=1
	cat >"$S/ntauth.ldif" <<EOF
dn: $NTAUTH
changetype: add
objectClass: top
objectClass: certificationAuthority
cn: NTAuthCertificates
cACertificate:: $(b64der "$S/ca.pem")
cACertificate:: $(b64der "$S/sub.pem")
authorityRevocationList:: AA==
certificateRevocationList:: AA==
EOF
fi

# --- a certificate template like AD CS's "Computer"
TPL=OdjTpl$RUN
TPL_DISPLAY="ODJ Test Machine $RUN"
TPL_DN="CN=$TPL,CN=Certificate Templates,$PKS"
TPL_OID=1.3.6.1.4.1.311.21.8.4242.$RUN.1.100
ext_template_ldif "$TPL_DN" "$TPL" "$TPL_DISPLAY" "$TPL_OID" >"$S/tpl.ldif"

# --- Registry.pol written by Samba's own code, every value type
ext_registry_pol "$S/Registry.pol" "$S/expected.json" \
	'Software\Policies\OdjTest' || exit 1
# a damaged one: cut inside the second entry
head -c 200 "$S/Registry.pol" >"$S/corrupt.pol"

GPO_PATH_MOVED=
cleanup() {
	local n g
	for n in "${NAMES[@]}"; do
		samba-tool computer delete "$n" "${H[@]}" >/dev/null 2>&1
	done
	if [ -n "$GPO_PATH_MOVED" ]; then
		ldbmodify "${H[@]}" "$S/gpo-path-back.ldif" >/dev/null 2>&1
	fi
	for g in "${GPOS[@]}"; do
		samba-tool gpo del "$g" "${H[@]}" >/dev/null 2>&1
	done
	ldbdel "${H[@]}" "$CA_DN" "$TPL_DN" >/dev/null 2>&1
	if [ "$NTAUTH_CREATED" = 1 ]; then
		ldbdel "${H[@]}" "$NTAUTH" >/dev/null 2>&1
	else
		ldbmodify "${H[@]}" "$S/ntauth-back.ldif" >/dev/null 2>&1
	fi
	if [ -n "${CP:-}" ]; then
		"$ENVD/client.sh" stop "$CP" >/dev/null 2>&1
		rm -rf "$CP"
	fi
	rm -rf "$S"
}
trap cleanup EXIT

cat >"$S/ntauth-back.ldif" <<EOF
dn: $NTAUTH
changetype: modify
delete: cACertificate
cACertificate:: $(b64der "$S/ca.pem")
cACertificate:: $(b64der "$S/sub.pem")
EOF

testit "publish the root CA (certificationAuthority)" \
	ldbadd "${H[@]}" "$S/ca.ldif"
testit "publish the CAs in NTAuthCertificates" \
	ldbmodify "${H[@]}" "$S/ntauth.ldif"
testit "publish the certificate template" ldbadd "${H[@]}" "$S/tpl.ldif"
GPO_NAME="ODJ Ext GPO $RUN"
gpo_create GUID "$GPO_NAME"
check "samba-tool gpo create" '[ -n "$GUID" ]'
testit "Registry.pol into SYSVOL (smbclient)" gpo_put "$GUID" "$S/Registry.pol"
gpo_create GUID_EMPTY "ODJ Ext Empty $RUN"
gpo_create GUID_BAD "ODJ Ext Corrupt $RUN"
testit "a corrupt Registry.pol into SYSVOL" gpo_put "$GUID_BAD" "$S/corrupt.pol"
gpo_create GUID_GONE "ODJ Ext Gone $RUN"
check "more GPOs" '[ -n "$GUID_EMPTY" ] && [ -n "$GUID_BAD" ] && [ -n "$GUID_GONE" ]'

# --- everything at once
name N1 a
testit_grep "provision with rootcacerts certtemplate policynames" \
	"Provisioned ${N1^^}\\$" provision machine_name="$N1" rootcacerts \
	certtemplate="$TPL" ca_cert="$S/ca.pem" ca_key="$S/ca-key.pem" \
	policynames="$GPO_NAME" savefile="$S/$N1.odj" -U "$ADMIN"
F=$S/$N1.odj
dump=$(odj dump "$F")
check "Options record NETSETUP_PROVISION_ROOT_CA_CERTS" \
	'printf "%s\n" "$dump" | grep -q "options names:.*NETSETUP_PROVISION_ROOT_CA_CERTS"'
check "CERT_PROVIDER and POLICY_PROVIDER parts, not ESSENTIAL" \
	'[ "$(json "$F" "[p[\"flags\"] for p in d[\"blobs\"][1][\"op_package\"][\"parts\"] if p[\"type\"] in (\"CERT_PROVIDER\",\"POLICY_PROVIDER\")]")" = "[\"0x00000000\", \"0x00000000\"]" ]'

# root CAs: an SST for LocalMachine\ROOT with our CA, not the issuing CA
check "SST store: LocalMachine (0x20000) ROOT" \
	'[ "$(json "$F" "(parts[\"CERT_PROVIDER\"][\"sst_stores\"][0][\"store_location\"], parts[\"CERT_PROVIDER\"][\"sst_stores\"][0][\"store_name\"])")" = "[131072, \"ROOT\"]" ]'
check "SST holds the root CA (thumbprint as openssl's)" \
	'json "$F" "[c[\"sha1_thumbprint\"] for c in parts[\"CERT_PROVIDER\"][\"sst_stores\"][0][\"certificates\"]]" | grep -q "$CA_SHA1"'
check "SST leaves out NTAuth's issuing (not self-signed) CA" \
	'! json "$F" "[c[\"sha1_thumbprint\"] for c in parts[\"CERT_PROVIDER\"][\"sst_stores\"][0][\"certificates\"]]" | grep -q "$SUB_SHA1"'
for re in "subject: CN=$CA_CN,O=samba-odj test" 'properties: CERT_SHA1_HASH_PROP_ID \(3\)' \
	'store location name: CERT_SYSTEM_STORE_LOCAL_MACHINE'; do
	check "dump SST: /$re/" 'printf "%s\n" "$dump" | grep -Eq -- "$re"'
done

# the machine certificate
pfx=$(printf '%s\n' "$dump" | sed -n '/pfx store 1:/,/sst store 1:/p')
for re in "template name: $TPL\$" 'pfx: <redacted>' 'private key: <redacted>' \
	'pfx password: empty' "subject: CN=$N1\\.odj\\.test\$" \
	"issuer: CN=$CA_CN,O=samba-odj test" "dns names: $N1\\.odj\\.test\$" \
	'ekus: serverAuth \(1\.3\.6\.1\.5\.5\.7\.3\.1\), clientAuth \(1\.3\.6\.1\.5\.5\.7\.3\.2\)' \
	'public key: RSA 2048' "template: $TPL_OID" \
	'private key export policy: 0x00000001' 'serial: [0-9A-F]{32}$' \
	'sha1 thumbprint: [0-9A-F]{40}$' 'not before: 20[0-9-]+T' \
	'not after: 20[0-9-]+T'; do
	check "dump PFX: /$re/" 'printf "%s\n" "$pfx" | grep -Eq -- "$re"'
done
testit_grep "dump --show-secrets shows the key" 'BEGIN PRIVATE KEY' \
	odj dump --show-secrets "$F"
json "$F" "parts['CERT_PROVIDER']['pfx_stores'][0]['pfx']" |
	xxd -r -p >"$S/$N1.pfx"
testit "openssl pkcs12 opens the PFX (empty password)" \
	openssl pkcs12 -in "$S/$N1.pfx" -passin pass: -nokeys -clcerts \
	-out "$S/$N1.crt"
testit "openssl verify: the machine certificate chains to the CA" \
	openssl verify -CAfile "$S/ca.pem" "$S/$N1.crt"
testit_grep "certtool --verify against the CA" 'Chain verification output: Verified' \
	certtool --verify --load-ca-certificate "$S/ca.pem" \
	--infile "$S/$N1.crt"
check "the account's SID in szOID_NTDS_CA_SECURITY_EXT" \
	'sid_ext "$S/$N1.crt" "$(sid "$N1")"'
check "dump shows the certificate's account SID" \
	'odj dump "$F" | grep -q "account sid: $(sid "$N1")\$"'
testit_grep "SAN dNSName is the machine's DNS name" "DNS:$N1\\.odj\\.test" \
	openssl x509 -in "$S/$N1.crt" -noout -ext subjectAltName
testit_grep "key usage per the template (critical)" \
	'Digital Signature, Key Encipherment' \
	openssl x509 -in "$S/$N1.crt" -noout -ext keyUsage
testit "the PFX's key belongs to the certificate" sh -c \
	"openssl pkcs12 -in '$S/$N1.pfx' -passin pass: -nocerts -nodes |
	openssl pkey -pubout >'$S/k.pub' &&
	openssl x509 -in '$S/$N1.crt' -noout -pubkey | cmp -s - '$S/k.pub'"
testit_grep "the PFX carries the root CA too" "subject=O = samba-odj test, CN = $CA_CN" \
	openssl pkcs12 -in "$S/$N1.pfx" -passin pass: -nokeys -cacerts

# the policy: every value as Samba wrote it
cmp_policy() {
	json "$1" "json.dumps([l for l in parts['POLICY_PROVIDER']['element_lists'] if '$2' in (l['source'] or '')])" |
		$PY -c '
import json, sys
lists = json.loads(sys.stdin.read())
want = json.load(open(sys.argv[1]))
assert len(lists) == 1, "%d element lists" % len(lists)
l = lists[0]
assert l["root_key"] == "HKEY_LOCAL_MACHINE", l["root_key"]
got = [[e["key"], e["value_name"], e["type_id"], e["value"]] for e in l["elements"]]
assert got == want, "\n%s\n!=\n%s" % (got, want)
' "$S/expected.json"
}
testit "POLICY part: every value from SYSVOL exactly" cmp_policy "$F" "$GUID"
want_source=$(printf '\\\\%s\\sysvol\\%s\\policies\\%s' "$ODJ_DNS_DOMAIN" \
	"$ODJ_DNS_DOMAIN" "${GUID,,}")
check "POLICY source is the GPO's SYSVOL path" \
	'[ "$(json "$F" "parts[\"POLICY_PROVIDER\"][\"element_lists\"][0][\"source\"].lower()")" = "$want_source" ]'
for re in 'special: delete the value: Obsolete' \
	'special: delete all values of the key' 'root key: HKEY_LOCAL_MACHINE' \
	'type: REG_EXPAND_SZ' 'value: one, two, three' 'value: 1234605616436508552'; do
	check "dump POLICY: /$re/" 'printf "%s\n" "$dump" | grep -Eq -- "$re"'
done

# --- our PReg reader agrees with Samba's ndrdump on the same file
name N2 b
testit "policypaths= a local Registry.pol" provision machine_name="$N2" \
	policypaths="$S/Registry.pol" savefile="$S/$N2.odj" -U "$ADMIN"
testit "policypaths: every value exactly" cmp_policy "$S/$N2.odj" "Registry.pol"
ndrdump preg preg_file struct "$S/Registry.pol" >"$S/ndrdump.txt" 2>&1
cmp_ndrdump() {
	json "$S/$N2.odj" "json.dumps(parts['POLICY_PROVIDER']['element_lists'][0]['elements'])" |
		$PY -c '
import json, re, sys
ours = json.loads(sys.stdin.read())
text = open(sys.argv[1]).read()
assert "dump OK" in text
theirs = []
for block in text.split("entries: struct preg_entry")[1:]:
    f = dict(re.findall(r"^\s+(keyname|valuename|size|string|value|qword)\s+: (.*)$", block, re.M))
    e = {"key": f["keyname"].strip("\x27"), "name": f["valuename"].strip("\x27"),
         "type": int(re.search(r"type\s+: \S+ \((0x[0-9A-F]+)\)", block).group(1), 16),
         "size": int(re.search(r"\((\d+)\)", f["size"]).group(1))}
    # hex dump lines: "[0000] " then 16 bytes in 50 columns, then ASCII
    hexd = "".join("".join(l[7:57].split())
                   for l in re.findall(r"^\[[0-9a-f]{4}\] .*$", block, re.M)).lower()
    if "string" in f:
        e["value"] = f["string"][1:-1]
    elif "value" in f or "qword" in f:
        e["value"] = int(re.search(r"\((\d+)\)", f.get("value", f.get("qword"))).group(1))
    else:
        e["value"] = hexd
    theirs.append(e)
assert len(theirs) == len(ours), (len(theirs), len(ours))
for t, o in zip(theirs, ours):
    assert t["key"] == o["key"] and t["name"] == o["value_name"], (t, o)
    assert t["type"] == o["type_id"] and t["size"] == o["size"], (t, o)
    if isinstance(t["value"], int) or o["type"] in ("REG_SZ", "REG_EXPAND_SZ"):
        assert t["value"] == o["value"], (t, o)
    else:
        assert t["value"] == o["data"], (t, o)
print(len(theirs), "entries agree")
' "$S/ndrdump.txt"
}
testit_grep "our PReg reader agrees with Samba's ndrdump preg" \
	'^8 entries agree' cmp_ndrdump

# --- a GPO without machine settings: an empty element list
name N3 c
testit "GPO without Registry.pol" provision machine_name="$N3" \
	policynames="ODJ Ext Empty $RUN;$GPO_NAME" savefile="$S/$N3.odj" \
	-U "$ADMIN"
check "GPO without Registry.pol: no elements, then the other GPO" \
	'[ "$(json "$S/$N3.odj" "[len(l[\"elements\"]) for l in parts[\"POLICY_PROVIDER\"][\"element_lists\"]]")" = "[0, 8]" ]'

# --- djoin spelling, display name of the template, Kerberos for SYSVOL,
# printblob with libsmbclient's debug output kept off stdout
name N4 d
export KRB5CCNAME=FILE:$S/admin.ccache
printf '%s\n' "$ODJ_ADMIN_PASS" | kinit "$ODJ_ADMIN_USER@$ODJ_REALM" \
	>/dev/null 2>&1
odj /PROVISION /DOMAIN "$ODJ_DNS_DOMAIN" /MACHINE "$N4" \
	/DCNAME "$ODJ_DC_NAME" /CERTTEMPLATE "$TPL_DISPLAY" \
	ca_cert="$S/ca.pem" ca_key="$S/ca-key.pem" /POLICYNAMES "$GPO_NAME" \
	/PRINTBLOB -s "$CONF" -k -d 5 >"$S/$N4.b64" 2>"$S/$N4.err"
check "djoin spelling, -k, printblob -d 5: account made" 'exists "$N4"'
testit_grep "printblob stdout is only the blob" "template name: $TPL\$" \
	odj dump "$S/$N4.b64"
check "/CERTTEMPLATE implies the root CAs" \
	'odj dump "$S/$N4.b64" | grep -q "options names:.*NETSETUP_PROVISION_ROOT_CA_CERTS"'
testit "-k: every value from SYSVOL exactly" cmp_policy "$S/$N4.b64" "$GUID"
unset KRB5CCNAME
. "$ENVD/env.sh" "$ODJ_DC_PREFIX"

# --- bad input: clear errors, and no account on the DC
name N9 i
testit_exit "unknown GPO" 6 "no GPO named 'No Such GPO $RUN'" \
	provision machine_name="$N9" policynames="No Such GPO $RUN" \
	savefile="$S/$N9.odj" -U "$ADMIN"
testit_exit "corrupt Registry.pol in SYSVOL" 3 \
	"GPO \"ODJ Ext Corrupt $RUN\" .*: Machine.Registry\\.pol: Registry\\.pol entry 2 at byte" \
	provision machine_name="$N9" policynames="ODJ Ext Corrupt $RUN" \
	savefile="$S/$N9.odj" -U "$ADMIN"
testit_exit "corrupt local Registry.pol" 3 "corrupt\\.pol: Registry\\.pol entry 2" \
	provision machine_name="$N9" policypaths="$S/corrupt.pol" \
	savefile="$S/$N9.odj" -U "$ADMIN"
testit_exit "Registry.pol that is no PReg file" 3 'no "PReg" signature' \
	provision machine_name="$N9" policypaths="$S/ca.pem" \
	savefile="$S/$N9.odj" -U "$ADMIN"
testit_exit "missing local Registry.pol" 4 'No such file' \
	provision machine_name="$N9" policypaths="$S/nothere.pol" \
	savefile="$S/$N9.odj" -U "$ADMIN"
testit_exit "unknown template" 6 "no certificate template 'NoSuchTemplate$RUN'" \
	provision machine_name="$N9" certtemplate="NoSuchTemplate$RUN" \
	ca_cert="$S/ca.pem" ca_key="$S/ca-key.pem" savefile="$S/$N9.odj" \
	-U "$ADMIN"
testit_exit "CA key not matching the CA certificate" 3 \
	'does not belong to the CA certificate' \
	provision machine_name="$N9" certtemplate="$TPL" ca_cert="$S/ca.pem" \
	ca_key="$S/other-key.pem" savefile="$S/$N9.odj" -U "$ADMIN"
testit_exit "unreadable CA certificate file" 4 'CA certificate: .*No such file' \
	provision machine_name="$N9" certtemplate="$TPL" \
	ca_cert="$S/nothere.pem" ca_key="$S/ca-key.pem" savefile="$S/$N9.odj" \
	-U "$ADMIN"
testit_exit "CA key file that holds no key" 3 'no private key in it' \
	provision machine_name="$N9" certtemplate="$TPL" ca_cert="$S/ca.pem" \
	ca_key="$S/ca.tmpl" savefile="$S/$N9.odj" -U "$ADMIN"
testit_exit "certtemplate alone: AD CS, and no enterprise CA offers it" 6 \
	"no enterprise CA in CN=Enrollment Services,.* offers certificate template '$TPL'" \
	provision machine_name="$N9" certtemplate="$TPL" \
	savefile="$S/$N9.odj" -U "$ADMIN"
testit_exit "ca_cert without ca_key" 2 'needs both ca_cert= and ca_key=' \
	provision machine_name="$N9" certtemplate="$TPL" ca_cert="$S/ca.pem" \
	savefile="$S/$N9.odj" -U "$ADMIN"
testit_exit "empty name in policynames" 2 "separated by ';'" \
	provision machine_name="$N9" policynames="$GPO_NAME;;" \
	savefile="$S/$N9.odj" -U "$ADMIN"
# unreadable SYSVOL: the GPO's folder is not where AD says
# (LDIF folds long lines: unfold before picking the value)
gpath=$(ldbsearch "${H[@]}" -b "CN=$GUID_GONE,CN=Policies,CN=System,$DOMDN" \
	-s base gPCFileSysPath | sed -e ':a;N;$!ba;s/\n //g' |
	sed -n 's/^gPCFileSysPath: //p')
printf 'dn: CN=%s,CN=Policies,CN=System,%s\nchangetype: modify\nreplace: gPCFileSysPath\ngPCFileSysPath: %s\n' \
	"$GUID_GONE" "$DOMDN" "$gpath" >"$S/gpo-path-back.ldif"
printf 'dn: CN=%s,CN=Policies,CN=System,%s\nchangetype: modify\nreplace: gPCFileSysPath\ngPCFileSysPath: %s-gone\n' \
	"$GUID_GONE" "$DOMDN" "$gpath" >"$S/gpo-path-gone.ldif"
check "the GPO's gPCFileSysPath" '[ "${gpath,,}" = "$(printf "\\\\\\\\%s\\\\sysvol\\\\%s\\\\policies\\\\%s" odj.test odj.test "${GUID_GONE,,}")" ]'
testit "point a GPO at a missing SYSVOL folder" \
	ldbmodify "${H[@]}" "$S/gpo-path-gone.ldif"
GPO_PATH_MOVED=1
testit_exit "unreadable SYSVOL folder" 6 \
	"cannot read its SYSVOL folder smb://$ODJ_DC_NAME/.*-gone: No such file" \
	provision machine_name="$N9" policynames="ODJ Ext Gone $RUN" \
	savefile="$S/$N9.odj" -U "$ADMIN"
testit "restore the GPO's path" ldbmodify "${H[@]}" "$S/gpo-path-back.ldif"
GPO_PATH_MOVED=
check "bad input: no account on the DC" '! exists "$N9"'
check "bad input: no blob" '[ ! -e "$S/$N9.odj" ]'

# --- a batch: root CAs and policies read once, a certificate per machine
name NB1 b1
name NB2 b2
name NB3 b3
printf '%s\n' "$NB1" "$NB2" "$NB3,,,,branch.odj.test" >"$S/batch.csv"
mkdir "$S/batch"
testit_grep "batch with rootcacerts certtemplate policynames" \
	"^Batch of 3 machines.*: 3 created, 0 reused, 0 skipped, 0 failed" \
	provision batch="$S/batch.csv" savedir="$S/batch" rootcacerts \
	certtemplate="$TPL" ca_cert="$S/ca.pem" ca_key="$S/ca-key.pem" \
	policynames="$GPO_NAME" -U "$ADMIN"
for n in "$NB1" "$NB2" "$NB3"; do
	F=$S/batch/$n.odj
	check "batch $n: CERT part with the root CA" \
		'odj dump "$F" | grep -q "subject: CN=$CA_CN,O=samba-odj test"'
	check "batch $n: POLICY part, every value from SYSVOL" \
		'cmp_policy "$F" "$GUID"'
	json "$F" "parts['CERT_PROVIDER']['pfx_stores'][0]['pfx']" |
		xxd -r -p >"$S/$n.pfx"
	openssl pkcs12 -in "$S/$n.pfx" -passin pass: -nokeys -clcerts \
		-out "$S/$n.crt" 2>/dev/null
	check "batch $n: its own certificate chains to the CA" \
		'openssl verify -CAfile "$S/ca.pem" "$S/$n.crt" >/dev/null'
	check "batch $n: its account's SID in the certificate" \
		'sid_ext "$S/$n.crt" "$(sid "$n")"'
done
check "batch: each certificate names its machine (and the batch's DNS suffix)" \
	'openssl x509 -in "$S/$NB1.crt" -noout -ext subjectAltName |
	 grep -q "DNS:$NB1\.odj\.test" &&
	 openssl x509 -in "$S/$NB3.crt" -noout -ext subjectAltName |
	 grep -q "DNS:$NB3\.branch\.odj\.test"'
check "batch: three different keys" \
	'[ "$(for n in "$NB1" "$NB2" "$NB3"; do
	      openssl x509 -in "$S/$n.crt" -noout -pubkey | sha256sum
	  done | sort -u | wc -l)" = 3 ]'
name NB9 b9
printf '%s\n' "$NB9" >"$S/batch9.csv"
mkdir "$S/batch9"
testit_exit "batch with an unknown template: exit 6, before any account" 6 \
	"no certificate template 'NoSuchTemplate$RUN'" \
	provision batch="$S/batch9.csv" savedir="$S/batch9" \
	certtemplate="NoSuchTemplate$RUN" ca_cert="$S/ca.pem" \
	ca_key="$S/ca-key.pem" -U "$ADMIN"
check "batch with an unknown template: no account, no blob" \
	'! exists "$NB9" && [ -z "$(ls "$S/batch9")" ]'

# --- Samba's requestodj accepts a blob with CERT and POLICY parts
name NJ q
provision machine_name="$NJ" rootcacerts certtemplate="$TPL" \
	ca_cert="$S/ca.pem" ca_key="$S/ca-key.pem" policynames="$GPO_NAME" \
	savefile="$S/$NJ.odj" -U "$ADMIN" >/dev/null
check "interop blob has CERT and POLICY parts" \
	'odj dump "$S/$NJ.odj" | grep -q "type: CERT_PROVIDER" &&
	 odj dump "$S/$NJ.odj" | grep -q "type: POLICY_PROVIDER"'
testit_grep "ndrdump (peer decoder) reads the CERT and POLICY parts" \
	"pTemplateName +: '$TPL'" sh -c "iconv -f UTF-16 -t ASCII \
	'$S/$NJ.odj' | tr -d '\\000' > '$S/$NJ.b64' && ndrdump \
	--base64-input ODJ ODJ_PROVISION_DATA_serialized_ptr struct \
	'$S/$NJ.b64'"
CP=$ODJ_DC_PREFIX/clients/$NJ
CCONF=$("$ENVD/client.sh" new "$CP" "${NJ^^}" 2>/dev/null)
testit "Samba's net offlinejoin requestodj accepts the blob" \
	net offlinejoin requestodj loadfile="$S/$NJ.odj" -s "$CCONF"
testit "kinit ${NJ^^}\$ with the password Samba stored" \
	kinit_pw "$NJ" "$("$ENVD/client.sh" machine-password "$CP")"
testit "net rpc testjoin" net rpc testjoin -S "$ODJ_DC_NAME" -s "$CCONF"
"$ENVD/client.sh" stop "$CP" >/dev/null 2>&1

exit $failed
