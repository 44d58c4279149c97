# Sourced by test_extensions.sh and test_extensions_client.sh: what AD CS
# and Group Policy would have put on the DC, made here with certtool,
# LDIF and Samba's own Python (samba.dcerpc.preg).  The callers set S
# (scratch), H (ldb tool arguments), ADMIN, CONF, RUN and PY, and delete
# what they published (GPOS holds the GPOs made here).

PKS="CN=Public Key Services,CN=Services,CN=Configuration,DC=odj,DC=test"

# ext_ca KEY CERT CN [ISSUER_KEY ISSUER_CERT]: a new RSA-2048 CA,
# self-signed, or issued by the given CA (then valid for a year)
ext_ca() {
	local key=$1 cert=$2 cn=$3 ikey=${4:-} icert=${5:-}
	local tmpl=${cert%.pem}.tmpl

	cat >"$tmpl" <<-EOF
	organization = "samba-odj test"
	cn = "$cn"
	ca
	cert_signing_key
	crl_signing_key
	expiration_days = $([ -n "$ikey" ] && echo 365 || echo 3650)
	EOF
	{
		certtool --generate-privkey --key-type=rsa --bits=2048 \
			--outfile "$key" &&
		if [ -z "$ikey" ]; then
			certtool --generate-self-signed --load-privkey "$key" \
				--template "$tmpl" --outfile "$cert"
		else
			certtool --generate-certificate --load-privkey "$key" \
				--load-ca-certificate "$icert" \
				--load-ca-privkey "$ikey" \
				--template "$tmpl" --outfile "$cert"
		fi
	} >"$cert.log" 2>&1 || { cat "$cert.log"; return 1; }
}

# ext_sha1 CERT: the SHA-1 fingerprint, upper-case hex
ext_sha1() {
	openssl x509 -in "$1" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g'
}

# b64der CERT: the certificate as DER, base64 (an LDIF value)
b64der() {
	openssl x509 -in "$1" -outform DER | base64 -w0
}

# ext_ca_ldif DN CN CERT: a certificationAuthority, as AD CS publishes
# an enterprise root under CN=Certification Authorities
ext_ca_ldif() {
	cat <<-EOF
	dn: $1
	objectClass: top
	objectClass: certificationAuthority
	cn: $2
	cACertificate:: $(b64der "$3")
	authorityRevocationList:: AA==
	certificateRevocationList:: AA==
	EOF
}

# ext_template_ldif DN CN DISPLAYNAME OID: a pKICertificateTemplate like
# AD CS's "Computer": server and client authentication, digital
# signature + key encipherment (critical), 2048 bits, one year
ext_template_ldif() {
	cat <<-EOF
	dn: $1
	objectClass: top
	objectClass: pKICertificateTemplate
	cn: $2
	displayName: $3
	flags: 131680
	revision: 100
	pKIDefaultKeySpec: 1
	pKIKeyUsage:: oAA=
	pKIMaxIssuingDepth: 0
	pKICriticalExtensions: 2.5.29.15
	pKIExpirationPeriod:: AEA5hy7h/v8=
	pKIOverlapPeriod:: AICmCv/e//8=
	pKIExtendedKeyUsage: 1.3.6.1.5.5.7.3.1
	pKIExtendedKeyUsage: 1.3.6.1.5.5.7.3.2
	msPKI-RA-Signature: 0
	msPKI-Enrollment-Flag: 32
	msPKI-Private-Key-Flag: 16
	msPKI-Certificate-Name-Flag: 402653184
	msPKI-Minimal-Key-Size: 2048
	msPKI-Template-Schema-Version: 2
	msPKI-Template-Minor-Revision: 2
	msPKI-Cert-Template-OID: $4
	msPKI-Certificate-Application-Policy: 1.3.6.1.5.5.7.3.1
	msPKI-Certificate-Application-Policy: 1.3.6.1.5.5.7.3.2
	EOF
}

# ext_registry_pol POL JSON KEY: a Registry.pol written by Samba's own
# code with every value type under KEY, and in JSON the [key, value name,
# type, value] each should decode to
ext_registry_pol() {
	$PY - "$1" "$2" "$3" <<-'EOF'
	import json, sys
	from samba.dcerpc import preg, misc
	from samba.ndr import ndr_pack
	K = sys.argv[3]
	vals = [
	    (K, 'StringValue', misc.REG_SZ, 'Hello, ODJ \u00fc',
	     'Hello, ODJ \u00fc'),
	    (K, 'DwordValue', misc.REG_DWORD, 0x12345678, 0x12345678),
	    (K, 'QwordValue', misc.REG_QWORD, 0x1122334455667788,
	     0x1122334455667788),
	    (K, 'MultiValue', misc.REG_MULTI_SZ,
	     'one\x00two\x00three\x00\x00'.encode('utf-16le'),
	     ['one', 'two', 'three']),
	    (K, 'ExpandValue', misc.REG_EXPAND_SZ, '%SystemRoot%\\odj',
	     '%SystemRoot%\\odj'),
	    (K, 'BinaryValue', misc.REG_BINARY, bytes([0, 1, 2, 0xfe, 0xff]),
	     '000102feff'),
	    (K + '\\Sub', '**del.Obsolete', misc.REG_SZ, ' ', ' '),
	    (K + '\\Sub', '**delvals.', misc.REG_SZ, ' ', ' '),
	]
	f = preg.file()
	f.header.signature = 'PReg'
	f.header.version = 1
	entries = []
	for k, v, t, d, _ in vals:
	    e = preg.entry()
	    e.keyname, e.valuename, e.type, e.data = k, v, t, d
	    entries.append(e)
	f.num_entries = len(entries)
	f.entries = entries
	open(sys.argv[1], 'wb').write(ndr_pack(f))
	json.dump([[k, v, t, x] for k, v, t, _, x in vals],
	          open(sys.argv[2], 'w'))
	EOF
}

# gpo_create VAR NAME: a new GPO's {GUID} in VAR, added to GPOS (no
# command substitution: GPOS must grow in the caller's shell)
GPOS=()
gpo_create() {
	local -n _guid=$1
	_guid=$(samba-tool gpo create "$2" "${H[@]}" 2>&1 |
		sed -n "s/^GPO '.*' created as \({.*}\)$/\1/p")
	[ -n "$_guid" ] && GPOS+=("$_guid")
}

# gpo_put GUID FILE: FILE as the GPO's Machine/Registry.pol in SYSVOL
gpo_put() {
	smbclient "//$ODJ_DC_NAME/sysvol" -U "$ADMIN" --configfile="$CONF" \
		-c "put $2 $ODJ_DNS_DOMAIN/Policies/$1/Machine/Registry.pol" \
		>/dev/null 2>&1
}
