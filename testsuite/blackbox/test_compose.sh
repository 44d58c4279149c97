#!/bin/bash
# odj composeodj (a blob from known values, no DC contact) and odj
# unattend (the Windows answer file of a blob).
#
# A machine is provisioned with a known password (defpwd); composeodj
# rebuilds its blob from the values alone, and the composed blob must
# equal the provisioned one field by field (Samba 4.17 has no composeodj,
# so there is no peer to compare bytes with) and must join a client
# through Samba's requestodj, proved by kinit and net rpc testjoin.
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH

. "$(dirname "$0")/dc_env.sh"

# How a client joins from a blob (see test_batch.sh)
REQUESTODJ=${REQUESTODJ:-net offlinejoin requestodj}

CONF=$ODJ_ADMIN_SMBCONF
TAG=$(printf '%x' $$)
M=bc$TAG
CLIENTS=()

# field FILE EXPR: a Python expression over odj dump --json as d
field() {
	odj dump --json "$1" | python3 -c "import json,sys
d = json.load(sys.stdin)
print($2)"
}

# new_client NAME DIR: a client prefix for NAME; prints its smb.conf
# (runs in $(...): the caller records DIR in CLIENTS)
new_client() {
	"$ENVD/client.sh" new "$ODJ_DC_PREFIX/clients/$2" "${1^^}" 2>/dev/null
}

cleanup() {
	local list=$ODJ_DC_PREFIX/env/clients.list d
	samba-tool computer delete "$M" -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
		--configfile="$CONF" >/dev/null 2>&1
	for d in "${CLIENTS[@]}"; do
		"$ENVD/client.sh" stop "$ODJ_DC_PREFIX/clients/$d" \
			>/dev/null 2>&1
		rm -rf "$ODJ_DC_PREFIX/clients/$d"
	done
	# a long-lived prefix has only 244 client addresses
	(
		exec 9>>"$ODJ_DC_PREFIX/env/.lock"
		flock 9
		awk -v n="${M^^}" 'toupper($2) != n' "$list" >"$list.tmp.$$" &&
			mv -f "$list.tmp.$$" "$list"
	)
	rm -f "$ODJ_DC_PREFIX/env/hosts"
	rm -rf "$S"
}
trap cleanup EXIT

# --- a machine with a known password: defpwd (the lower case name)
testit "provision $M with defpwd" odj provision domain="$ODJ_DNS_DOMAIN" \
	dcname="$ODJ_DC_NAME" machine_name="$M" defpwd savefile="$S/p.odj" \
	-s "$CONF" -U "$ADMIN"
W='d["blobs"][0]["win7blob"]'
P='d["blobs"][1]["op_package"]["parts"]'
domain_sid=$(field "$S/p.odj" "$W[\"dns_domain_info\"][\"domain_sid\"]")
domain_guid=$(field "$S/p.odj" "$W[\"dns_domain_info\"][\"domain_guid\"]")
forest=$(field "$S/p.odj" "$W[\"dns_domain_info\"][\"dns_forest\"]")
dc_name=$(field "$S/p.odj" "$W[\"dc_info\"][\"dc_name\"].lstrip(\"\\\\\")")
dc_addr=$(field "$S/p.odj" "$W[\"dc_info\"][\"dc_address\"].lstrip(\"\\\\\")")
dc_flags=$(field "$S/p.odj" "$W[\"dc_info\"][\"flags\"]")
dc_site=$(field "$S/p.odj" "$W[\"dc_info\"][\"dc_site\"]")
client_site=$(field "$S/p.odj" "$W[\"dc_info\"][\"client_site\"]")
rid=$(field "$S/p.odj" "$P[1][\"content\"][\"rid\"]")
object_guid=$(field "$S/p.odj" "$P[2][\"content\"][\"object_guid\"]")
check "values read from the provisioned blob" \
	'[ -n "$domain_sid" ] && [ -n "$rid" ] && [ "$dc_name" = "$ODJ_DC_NAME" ] && [ "$dc_addr" = "$ODJ_DC_IP" ]'
printf '%s\n' "$M" >"$S/pw"
chmod 600 "$S/pw"

compose() {
	odj composeodj --realm="$ODJ_REALM" --workgroup="$ODJ_DOMAIN" \
		domain_sid="$domain_sid" domain_guid="$domain_guid" \
		forest_name="$forest" machine_name="$M" dcname="$dc_name" \
		dcaddress="$dc_addr" "$@"
}

# --- compose it again from the values alone; no network at all
if unshare -n true 2>/dev/null; then
	NONET="unshare -n"
else
	NONET=
fi
testit_grep "composeodj ${NONET:+(in a network namespace with no interface) }" \
	"Composed the blob of $M" \
	$NONET "$ODJ" composeodj --realm="$ODJ_REALM" \
	--workgroup="$ODJ_DOMAIN" domain_sid="$domain_sid" \
	domain_guid="$domain_guid" forest_name="$forest" machine_name="$M" \
	dcname="$dc_name" dcaddress="$dc_addr" rid="$rid" \
	object_guid="$object_guid" dc_flags="$dc_flags" \
	dc_site="$dc_site" client_site="$client_site" \
	machine_password_file="$S/pw" savefile="$S/c.odj"
check "composed blob is mode 0600" '[ "$(file_mode "$S/c.odj")" = 600 ]'

# field by field: everything equal but Options (defpwd records
# NETSETUP_PROVISION_USE_DEFAULT_PASSWORD; composeodj provisions nothing)
odj dump --json --show-secrets "$S/p.odj" >"$S/p.json"
odj dump --json --show-secrets "$S/c.odj" >"$S/c.json"
testit_grep "composed = provisioned, field by field, but Options" \
	'^differ: blobs.0.win7blob.options blobs.0.win7blob.options_names blobs.1.op_package.parts.0.content.options blobs.1.op_package.parts.0.content.options_names$' \
	python3 -c '
import json, sys
def leaves(x, path=""):
    if isinstance(x, dict):
        for k, v in x.items():
            yield from leaves(v, path + "." + k if path else k)
    elif isinstance(x, list) and not all(isinstance(v, str) for v in x):
        for i, v in enumerate(x):
            yield from leaves(v, "%s.%d" % (path, i))
    else:
        yield path, x
a = dict(leaves(json.load(open(sys.argv[1]))))
b = dict(leaves(json.load(open(sys.argv[2]))))
assert a.keys() == b.keys(), set(a) ^ set(b)
print("differ: " + " ".join(sorted(k for k in a if a[k] != b[k])))
' "$S/p.json" "$S/c.json"
testit_grep "the composed blob carries the password" "machine password: $M\$" \
	odj dump --show-secrets "$S/c.odj"

# --- the composed blob joins: Samba's requestodj, kinit, net rpc testjoin
CLIENTS+=("$M")
CCONF=$(new_client "$M" "$M")
testit "requestodj accepts the composed blob" \
	$REQUESTODJ loadfile="$S/c.odj" -s "$CCONF"
testit "kinit with the password the client stored" \
	kinit_pw "$M" "$("$ENVD/client.sh" machine-password \
	"$ODJ_DC_PREFIX/clients/$M")"
testit "net rpc testjoin" net rpc testjoin -S "$ODJ_DC_NAME" -s "$CCONF"
"$ENVD/client.sh" stop "$ODJ_DC_PREFIX/clients/$M" >/dev/null 2>&1

# Samba's own composeodj leaves the RID 0 and writes no JOIN_PROVIDER4;
# such a blob (Samba spelling: -U NAME$, -S, password on stdin) joins too
printf '%s\n' "$M" | "$ODJ" composeodj --realm="$ODJ_REALM" \
	--workgroup="$ODJ_DOMAIN" domain_sid="$domain_sid" \
	domain_guid="$domain_guid" forest_name="$forest" -U "$M\$" \
	-S "$dc_name" dcaddress="$dc_addr" -i printblob \
	>"$S/min.b64" 2>"$S/min.err"
check "minimal compose: -U NAME\$, -S, -i, printblob" '[ -s "$S/min.b64" ]'
testit_grep "minimal compose: RID 0, no JOIN_PROVIDER4" '^0 \[.JOIN_PROVIDER., .JOIN_PROVIDER3.\]$' \
	field "$S/min.b64" "$P[1][\"content\"][\"rid\"], [p[\"type\"] for p in $P]"
CLIENTS+=("${M}b")
CCONF2=$(new_client "$M" "${M}b")
testit "requestodj accepts a blob without RID" \
	$REQUESTODJ loadfile="$S/min.b64" -s "$CCONF2"
testit "and the join holds (net rpc testjoin)" \
	net rpc testjoin -S "$ODJ_DC_NAME" -s "$CCONF2"

# --- options and defaults
compose machine_password_file="$S/pw" printblob dc_site=Branch \
	netbios="${M^^}" psite=Branch primarydns=odj.test >"$S/opt.b64"
testit_grep "dc_site=, client site defaults to it" \
	'client site: Branch' odj dump "$S/opt.b64"
testit_grep "JOIN_PROVIDER2 from netbios/psite/primarydns" \
	'OP_JP2_FLAG_PERSISTENTSITE' odj dump "$S/opt.b64"
testit_grep "default DC flags: no PDC/GC claimed" 'flags: 0xe00011b8' \
	odj dump "$S/opt.b64"
testit_grep "--realm is lower-cased to the DNS domain" "^    domain: odj.test" \
	odj dump "$S/opt.b64"
testit_grep "domain= works as --realm" "machine name: $M" sh -c \
	"$ODJ composeodj domain=odj.test --workgroup=ODJ \
	domain_sid=$domain_sid domain_guid=$domain_guid machine_name=$M \
	dcname=$dc_name dcaddress=$dc_addr machine_password_file=$S/pw \
	printblob | $ODJ dump -"
testit_grep "--password: allowed, with a note about ps" 'visible to other users' \
	compose --password=secret printblob
testit_exit "password file and -i: one way only" 2 'one way' \
	compose machine_password_file="$S/pw" -i printblob
testit_exit "no password source off a terminal" 2 'no machine password' \
	sh -c "$ODJ composeodj --realm=odj.test --workgroup=ODJ \
	domain_sid=$domain_sid domain_guid=$domain_guid machine_name=$M \
	dcname=$dc_name dcaddress=$dc_addr printblob </dev/null"
testit_exit "-U without \$ is no machine account" 2 'machine account' \
	compose -U Administrator machine_password_file="$S/pw" printblob
head -c 1100 /dev/zero | tr '\0' x >"$S/long"
testit_exit "password longer than 1024 characters" 3 'longer than 1024' \
	compose machine_password_file="$S/long" printblob
: >"$S/empty"
testit_exit "empty password file" 3 'empty' \
	compose machine_password_file="$S/empty" printblob
testit_exit "missing password file" 3 'No such file' \
	compose machine_password_file="$S/nope" printblob
testit_exit "missing arguments" 2 'needed' \
	odj composeodj --realm=odj.test machine_name=x printblob
testit_exit "bad domain SID" 2 'not a SID' \
	odj composeodj --realm=odj.test --workgroup=ODJ domain_sid=S-1-x \
	domain_guid="$domain_guid" machine_name=x dcname=a dcaddress=1.2.3.4 \
	printblob
testit_exit "bad domain GUID" 2 'not a GUID' \
	odj composeodj --realm=odj.test --workgroup=ODJ \
	domain_sid="$domain_sid" domain_guid=nope machine_name=x dcname=a \
	dcaddress=1.2.3.4 printblob
testit_exit "bad DC address" 2 'IPv4 or IPv6' \
	odj composeodj --realm=odj.test --workgroup=ODJ \
	domain_sid="$domain_sid" domain_guid="$domain_guid" machine_name=x \
	dcname=a dcaddress=dc1 printblob
testit_exit "bad RID" 2 '32-bit' \
	compose rid=-1 machine_password_file="$S/pw" printblob
testit_exit "machine name too long" 2 '1 to 15' \
	odj composeodj --realm=odj.test --workgroup=ODJ \
	domain_sid="$domain_sid" domain_guid="$domain_guid" \
	machine_name=abcdefghijklmnop dcname=a dcaddress=1.2.3.4 printblob
testit_exit "savefile and printblob" 2 'exactly one' \
	compose machine_password_file="$S/pw" printblob savefile="$S/x"
testit_exit "existing savefile" 4 'exists' \
	compose machine_password_file="$S/pw" savefile="$S/c.odj"

# --- odj unattend: the answer file of a blob
testit_grep "unattend loadfile= savefile=" 'mode 0600' \
	odj unattend loadfile="$S/c.odj" savefile="$S/u.xml"
check "answer file is mode 0600" '[ "$(file_mode "$S/u.xml")" = 600 ]'
testit "xmllint --noout accepts it" xmllint --noout "$S/u.xml"
testit "AccountData of both passes is the blob's base64" python3 -c '
import re, sys
b64 = open(sys.argv[1], "rb").read().decode("utf-16").strip("\ufeff\x00").strip()
xml = open(sys.argv[2]).read()
assert re.findall(r"<AccountData>([^<]*)</AccountData>", xml) == [b64, b64]
for want in ("<settings pass=\"offlineServicing\">",
             "<settings pass=\"specialize\">", "<OfflineIdentification>",
             "<Identification>", "name=\"Microsoft-Windows-UnattendedJoin\"",
             "processorArchitecture=\"amd64\"",
             "publicKeyToken=\"31bf3856ad364e35\"", "language=\"neutral\"",
             "versionScope=\"nonSxS\"",
             "xmlns:wcm=\"http://schemas.microsoft.com/WMIConfig/2002/State\"",
             "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"",
             "<unattend xmlns=\"urn:schemas-microsoft-com:unattend\">"):
    assert want in xml, want
' "$S/c.odj" "$S/u.xml"
testit "xmllint: AccountData by XPath" sh -c "xmllint --xpath \
	'string(//*[local-name()=\"Identification\"]//*[local-name()=\"AccountData\"])' \
	'$S/u.xml' | grep -q '^[A-Za-z0-9+/=]\\{100,\\}\$'"
testit_grep "unattend to stdout, blob from stdin (-i)" '<AccountData>' \
	sh -c "$ODJ unattend -i <'$S/c.odj'"
testit_grep "arch=x86" 'processorArchitecture="x86"' \
	odj unattend "$S/c.odj" arch=x86
testit_exit "existing answer file refused" 4 'exists' \
	odj unattend loadfile="$S/c.odj" savefile="$S/u.xml"
testit "--force replaces it" odj unattend loadfile="$S/c.odj" \
	savefile="$S/u.xml" --force
testit_exit "unknown arch" 3 'unknown processor architecture' \
	odj unattend "$S/c.odj" arch=mips
printf 'not a blob' >"$S/garbage"
testit_exit "garbage is no blob" 3 '.' odj unattend "$S/garbage"
check "no answer file for garbage" '[ ! -e "$S/garbage.xml" ]'

exit $failed
