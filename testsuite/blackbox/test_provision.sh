#!/bin/bash
# odj provision against the throwaway Samba AD DC: every option, every
# error, rollback on the DC, delegation, and interop with Samba's own
# `net offlinejoin requestodj` (proved with Kerberos, netlogon, winbind).
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
chmod 755 "$S"

. "$(dirname "$0")/dc_env.sh"

CONF=$ODJ_ADMIN_SMBCONF
RUN=$$
# unique names per run: bash's $$ keeps them within 15 characters.
# name VAR LETTER: sets VAR, and remembers the name for the cleanup (so
# never call it in a subshell)
NAMES=()
name() {
	local n
	n=$(printf 'p%s%s' "$2" "$RUN" | cut -c1-15)
	NAMES+=("$n")
	printf -v "$1" '%s' "$n"
}

ldb() {
	ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF" "$@"
}

# attr NAME ATTR: one attribute of computer NAME, from the DC
attr() {
	ldb "(sAMAccountName=${1^^}\$)" "$2" 2>/dev/null |
		sed -n "s/^$2: //p"
}

exists() {
	[ -n "$(ldb "(sAMAccountName=${1^^}\$)" dn 2>/dev/null |
		sed -n 's/^dn: //p')" ]
}

provision() {
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		-s "$CONF" "$@"
}

# password NAME FILE: the machine password inside a blob
blob_password() {
	odj dump --json --show-secrets "$1" | python3 -c 'import json,sys
print(json.load(sys.stdin)["blobs"][0]["win7blob"]["machine_password"])'
}

blob_field() {
	odj dump --json "$1" | python3 -c "import json,sys
d=json.load(sys.stdin); print($2)"
}

cleanup() {
	local n
	for n in "${NAMES[@]}"; do
		samba-tool computer delete "$n" -H "ldap://$ODJ_DC_NAME" \
			-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
	done
	samba-tool user delete "dlg$RUN" -H "ldap://$ODJ_DC_NAME" \
		-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
	for ou in "OU=Deleg$RUN,$DOMDN" "OU=Kiosk$RUN,$DOMDN"; do
		samba-tool ou delete "$ou" --force-subtree-delete \
			-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
			--configfile="$CONF" >/dev/null 2>&1
	done
	if [ -n "${CP:-}" ]; then
		"$ENVD/client.sh" stop "$CP" >/dev/null 2>&1
	fi
	rm -rf "$S"
}
trap cleanup EXIT

# --- a plain provision, net offlinejoin spelling
name N1 a
testit_grep "provision $N1" "Provisioned ${N1^^}\\$" \
	provision machine_name="$N1" savefile="$S/$N1.odj" -U "$ADMIN"
check "blob is mode 0600" '[ "$(file_mode "$S/$N1.odj")" = 600 ]'
check "sAMAccountName" '[ "$(attr "$N1" sAMAccountName)" = "${N1^^}\$" ]'
check "userAccountControl WORKSTATION_TRUST_ACCOUNT" \
	'[ "$(attr "$N1" userAccountControl)" = 4096 ]'
check "dNSHostName" '[ "$(attr "$N1" dNSHostName)" = "$N1.odj.test" ]'
check "msDS-SupportedEncryptionTypes" \
	'[ "$(attr "$N1" msDS-SupportedEncryptionTypes)" = 28 ]'
spns=$(attr "$N1" servicePrincipalName | sort | tr '\n' ' ')
want=$(printf '%s\n' "HOST/${N1^^}" "HOST/$N1.odj.test" \
	"RestrictedKrbHost/${N1^^}" "RestrictedKrbHost/$N1.odj.test" |
	sort | tr '\n' ' ')
check "servicePrincipalName HOST/ and RestrictedKrbHost/" \
	'[ "$spns" = "$want" ]'
check "account is in CN=Computers" \
	'ldb "(sAMAccountName=${N1^^}\$)" dn | grep -q "^dn: CN=${N1^^},CN=Computers,$DOMDN"'

sid=$(attr "$N1" objectSid)
guid=$(attr "$N1" objectGUID)
check "JOIN_PROVIDER3 RID and SID match the DC" \
	'[ "$(blob_field "$S/$N1.odj" "d[\"blobs\"][1][\"op_package\"][\"parts\"][1][\"content\"][\"machine_sid\"]")" = "$sid" ]'
check "JOIN_PROVIDER4 objectGUID matches the DC" \
	'[ "$(blob_field "$S/$N1.odj" "d[\"blobs\"][1][\"op_package\"][\"parts\"][2][\"content\"][\"object_guid\"]")" = "$guid" ]'
check "JOIN_PROVIDER part is ESSENTIAL" \
	'[ "$(blob_field "$S/$N1.odj" "\",\".join(d[\"blobs\"][1][\"op_package\"][\"parts\"][0][\"flags_names\"])")" = ESSENTIAL ]'
dump=$(odj dump "$S/$N1.odj")
# the client site is the DC's answer for the provisioner's address: the
# default site in a one-site forest; in one with more (dc.sh add-dc,
# add-rodc make Site2 and Branch), no subnet holds that address
nsites=$(ldb -b "CN=Sites,CN=Configuration,$DOMDN" \
	'(objectClass=site)' dn 2>/dev/null | grep -c '^dn: ')
client_site='client site: Default-First-Site-Name'
[ "$nsites" = 1 ] || client_site='client site:'
for re in "dc name: \\\\\\\\$ODJ_DC_NAME" "dc address: \\\\\\\\$ODJ_DC_IP\$" \
	'dc site: Default-First-Site-Name' "$client_site" \
	'netbios domain: ODJ' 'dns forest: odj.test' "machine name: $N1" \
	'DS_DNS_CONTROLLER_FLAG' 'DS_KDC_FLAG' 'DS_WRITABLE_FLAG'; do
	check "dump: /$re/" 'printf "%s\n" "$dump" | grep -Eq -- "$re"'
done
domsid=$(ldb -b "$DOMDN" -s base objectSid | sed -n 's/^objectSid: //p')
check "dump: domain SID from the DC" \
	'printf "%s\n" "$dump" | grep -q "domain sid: $domsid\$"'
check "random password: 120 characters" \
	'[ "$(blob_password "$S/$N1.odj" | tr -d "\n" | wc -c)" = 120 ]'
testit "kinit ${N1^^}\$ with the blob's password" \
	kinit_pw "$N1" "$(blob_password "$S/$N1.odj")"
testit_grep "ndrdump (peer decoder) reads our blob" \
	"lpMachineName +: '$N1'" sh -c "iconv -f UTF-16 -t ASCII \
	'$S/$N1.odj' | tr -d '\\000' > '$S/$N1.b64' && ndrdump --base64-input \
	ODJ ODJ_PROVISION_DATA_serialized_ptr struct '$S/$N1.b64'"

# --- existing account: refused and untouched, unless reuse
pwdset=$(attr "$N1" pwdLastSet)
testit_exit "existing account without reuse" 6 'already exists.*reuse' \
	provision machine_name="$N1" savefile="$S/$N1-again.odj" -U "$ADMIN"
check "refused: account untouched" '[ "$(attr "$N1" pwdLastSet)" = "$pwdset" ]'
check "refused: no blob written" '[ ! -e "$S/$N1-again.odj" ]'
testit "refused: old blob's password still works" \
	kinit_pw "$N1" "$(blob_password "$S/$N1.odj")"
testit_grep "reuse resets the password" "Provisioned" \
	provision machine_name="$N1" reuse savefile="$S/$N1-reuse.odj" \
	-U "$ADMIN"
testit "reuse: new password works" \
	kinit_pw "$N1" "$(blob_password "$S/$N1-reuse.odj")"
testit_expect_failure "reuse: old password is gone" \
	kinit_pw "$N1" "$(blob_password "$S/$N1.odj")"
check "reuse: same account (objectGUID)" '[ "$(attr "$N1" objectGUID)" = "$guid" ]'
testit_grep "reuse: Options record NETSETUP_PROVISION_REUSE_ACCOUNT" \
	NETSETUP_PROVISION_REUSE_ACCOUNT odj dump "$S/$N1-reuse.odj"

# --- djoin spelling, printblob, defpwd
name N2 b
testit_grep "djoin spelling /PROVISION" "Provisioned" \
	odj /PROVISION /DOMAIN "$ODJ_DNS_DOMAIN" /MACHINE "$N2" \
	/DCNAME "$ODJ_DC_NAME" /DEFPWD /SAVEFILE "$S/$N2.odj" \
	-s "$CONF" -U "$ADMIN"
testit_grep "defpwd: password is the lower case name" "^$N2\$" \
	blob_password "$S/$N2.odj"
testit "defpwd: kinit with it" kinit_pw "$N2" "$N2"
name N3 c
provision machine_name="$N3" printblob -U "$ADMIN" >"$S/$N3.b64" \
	2>"$S/$N3.err"
check "printblob: base64 on stdout, report on stderr" \
	'grep -q Provisioned "$S/$N3.err" && ! grep -q Provisioned "$S/$N3.b64"'
testit_grep "printblob output decodes" "machine name: $N3" \
	odj dump "$S/$N3.b64"

name N17 t
testit "downlevel (/DOWNLEVEL)" odj /PROVISION /DOMAIN "$ODJ_DNS_DOMAIN" \
	/MACHINE "$N17" /DCNAME "$ODJ_DC_NAME" /DOWNLEVEL \
	/SAVEFILE "$S/$N17.odj" -s "$CONF" -U "$ADMIN"
testit_grep "downlevel: recorded in Options, nothing else changes" \
	'options names: NETSETUP_PROVISION_DOWNLEVEL_PRIV_SUPPORT$' \
	odj dump "$S/$N17.odj"
testit_exit "psite and dsite together" 2 'exclude each other' \
	provision machine_name="$N17" psite=A dsite=B savefile="$S/x.odj" \
	-U "$ADMIN"
: >"$S/force.odj"
testit "savefile exists, --force overwrites" provision machine_name="$N17" \
	reuse savefile="$S/force.odj" --force -U "$ADMIN"
testit_grep "--force: the new blob is there" "machine name: $N17" \
	odj dump "$S/force.odj"

# --- OU, nosearch, JOIN_PROVIDER2
samba-tool ou create "OU=Kiosk$RUN,$DOMDN" -H "ldap://$ODJ_DC_NAME" \
	-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
name N4 d
testit "provision into an OU" provision machine_name="$N4" \
	machine_account_ou="OU=Kiosk$RUN,$DOMDN" savefile="$S/$N4.odj" \
	-U "$ADMIN"
check "account is in the OU" \
	'ldb "(sAMAccountName=${N4^^}\$)" dn | grep -q "^dn: CN=${N4^^},OU=Kiosk$RUN,$DOMDN"'
name N5 e
testit_exit "OU that does not exist" 6 'does not exist' \
	provision machine_name="$N5" machine_account_ou="OU=Nowhere,$DOMDN" \
	savefile="$S/$N5.odj" -U "$ADMIN"
check "missing OU: no account, no blob" '! exists "$N5" && [ ! -e "$S/$N5.odj" ]'
testit_exit "bad OU DN" 3 'not a valid' provision machine_name="$N5" \
	machine_account_ou="not a dn" savefile="$S/$N5.odj" -U "$ADMIN"
name N6 f
testit "nosearch with dcname" provision machine_name="$N6" nosearch \
	savefile="$S/$N6.odj" -U "$ADMIN"
testit_exit "nosearch on an existing account" 6 'already exists' \
	provision machine_name="$N6" nosearch savefile="$S/$N6-2.odj" \
	-U "$ADMIN"
testit_exit "nosearch without dcname" 2 'needs dcname' \
	odj provision domain=odj.test machine_name="$N6" nosearch \
	savefile="$S/x.odj" -s "$CONF" -U "$ADMIN"
name N7 g
testit "JOIN_PROVIDER2 options" provision machine_name="$N7" \
	netbios="${N7^^}" psite=Default-First-Site-Name primarydns=odj.test \
	savefile="$S/$N7.odj" -U "$ADMIN"
jp2=$(odj dump "$S/$N7.odj" | grep -A12 'type: JOIN_PROVIDER2')
for re in "netbios name: ${N7^^}" 'site name: Default-First-Site-Name' \
	'primary dns domain: odj.test' 'OP_JP2_FLAG_PERSISTENTSITE'; do
	check "JOIN_PROVIDER2: /$re/" 'printf "%s\n" "$jp2" | grep -q -- "$re"'
done
name N8 h
testit "dsite: JOIN_PROVIDER2 without the persistent flag" \
	provision machine_name="$N8" dsite=Default-First-Site-Name \
	savefile="$S/$N8.odj" -U "$ADMIN"
check "dsite: no OP_JP2_FLAG_PERSISTENTSITE" \
	'! odj dump "$S/$N8.odj" | grep -q OP_JP2_FLAG_PERSISTENTSITE'

# --- errors, and nothing left behind
name N9 i
testit_exit "wrong password" 5 '.' provision machine_name="$N9" \
	savefile="$S/$N9.odj" -U "$ODJ_ADMIN_USER%wrong-password"
testit_exit "DC unreachable" 6 'cannot connect' \
	odj provision domain=odj.test machine_name="$N9" dcname=127.0.0.99 \
	savefile="$S/$N9.odj" -s "$CONF" -U "$ADMIN"
testit_exit "savefile in a missing directory" 4 'No such file' \
	provision machine_name="$N9" savefile="$S/nodir/$N9.odj" -U "$ADMIN"
: >"$S/exists.odj"
testit_exit "savefile exists" 4 'exists' \
	provision machine_name="$N9" savefile="$S/exists.odj" -U "$ADMIN"
check "bad savefile: checked before the DC (no account)" '! exists "$N9"'
testit_exit "invalid computer name" 3 'not a valid computer name' \
	provision machine_name="bad*name" savefile="$S/bad.odj" -U "$ADMIN"
testit_exit "name too long" 3 'not a valid computer name' \
	provision machine_name="abcdefghijklmnop" savefile="$S/bad.odj" \
	-U "$ADMIN"
testit_exit "no credentials" 5 'no credentials' \
	provision machine_name="$N9" savefile="$S/$N9.odj"
testit_exit "missing machine_name" 2 'required' \
	odj provision domain=odj.test savefile="$S/x.odj"
testit_exit "neither savefile nor printblob" 2 'exactly one' \
	odj provision domain=odj.test machine_name=x
testit_exit "wrong domain for the DC" 6 'serves domain' \
	odj provision domain=other.test machine_name="$N9" \
	dcname="$ODJ_DC_NAME" savefile="$S/$N9.odj" -s "$CONF" -U "$ADMIN"
check "errors: no account left" '! exists "$N9"'

# rollback: the blob cannot be written after the account exists
# (a 1 KiB file size limit; SIGXFSZ ignored so write() fails)
name N10 j
testit_exit "blob write fails after creation" 4 'deleted again' \
	bash -c "trap '' XFSZ; ulimit -f 1; exec $ODJ provision \
	domain=$ODJ_DNS_DOMAIN dcname=$ODJ_DC_NAME machine_name=$N10 \
	savefile='$S/$N10.odj' -s '$CONF' -U '$ADMIN'"
check "rollback: the account is gone from the DC" '! exists "$N10"'
check "rollback: no blob, no temp file" \
	'[ -z "$(ls "$S" | grep "$N10")" ]'

# --- DC discovery through DNS SRV records (no dcname)
name N15 r
testit_grep "provision finds the DC by SRV lookup" "on $ODJ_DC_NAME" \
	odj provision domain="$ODJ_DNS_DOMAIN" machine_name="$N15" \
	savefile="$S/$N15.odj" -s "$CONF" -U "$ADMIN"
testit_exit "no SRV records for a domain" 6 'no domain controller' \
	odj provision domain=nowhere.invalid machine_name="$N15" \
	savefile="$S/x.odj" -s "$CONF" -U "$ADMIN"

# --- -d 10 and friends: the password appears nowhere
name N16 s
provision machine_name="$N16" savefile="$S/$N16.odj" -U "$ADMIN" \
	-d 10 --realm="$ODJ_REALM" --workgroup="$ODJ_DOMAIN" \
	>"$S/$N16.log" 2>&1
pw16=$(blob_password "$S/$N16.odj")
check "provision -d 10 --realm --workgroup works" '[ -n "$pw16" ]'
check "provision -d 10 never prints the machine password" \
	'! grep -qF -- "$pw16" "$S/$N16.log"'

# --- Kerberos credentials (-k with a ccache)
export KRB5CCNAME=FILE:$S/admin.ccache
printf '%s\n' "$ODJ_ADMIN_PASS" | kinit "$ODJ_ADMIN_USER@$ODJ_REALM" \
	>/dev/null 2>&1
name N11 k
testit "provision -k with a ticket" provision machine_name="$N11" \
	savefile="$S/$N11.odj" -k
unset KRB5CCNAME
. "$ENVD/env.sh" "$ODJ_DC_PREFIX"

# --- a non-root admin
name N12 l
chmod o+rx "$ODJ_DC_PREFIX" "$ODJ_DC_PREFIX/env" 2>/dev/null
mkdir "$S/nobody" && chown 65534:65534 "$S/nobody"
testit "provision as a non-root user" setpriv --reuid=65534 \
	--regid=65534 --clear-groups env HOME=/ "$ODJ" provision \
	domain=odj.test dcname="$ODJ_DC_NAME" machine_name="$N12" \
	savefile="$S/nobody/$N12.odj" -s "$CONF" -U "$ADMIN"
check "non-root: blob owned by the user, 0600" \
	'[ "$(stat -c %u:%a "$S/nobody/$N12.odj")" = 65534:600 ]'

# --- delegation: create/delete computers + reset password on one OU
DOU="OU=Deleg$RUN,$DOMDN"
samba-tool ou create "$DOU" -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
	--configfile="$CONF" >/dev/null 2>&1
samba-tool user create "dlg$RUN" 'Dlg-Pass-1234' -H "ldap://$ODJ_DC_NAME" \
	-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
dsid=$(ldb "(sAMAccountName=dlg$RUN)" objectSid | sed -n 's/^objectSid: //p')
# CC/DC on computer objects, reset password (00299570-246d-11d0-a768-
# 00aa006e0529) and write on descendant computers (bf967a86-...)
samba-tool dsacl set --objectdn="$DOU" \
	--sddl="(OA;CI;CCDC;bf967a86-0de6-11d0-a285-00aa003049e2;;$dsid)(OA;CIIO;CR;00299570-246d-11d0-a768-00aa006e0529;bf967a86-0de6-11d0-a285-00aa003049e2;$dsid)(A;CIIO;RPWPLCLO;;;$dsid)" \
	-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF" \
	>/dev/null 2>&1
name N13 m
testit_grep "delegated user provisions into its OU" "Provisioned" \
	provision machine_name="$N13" machine_account_ou="$DOU" \
	savefile="$S/$N13.odj" -U "dlg$RUN%Dlg-Pass-1234"
testit "delegated: the account works" \
	kinit_pw "$N13" "$(blob_password "$S/$N13.odj")"
name N14 n
testit_exit "delegated user refused in CN=Computers" 5 'no right' \
	provision machine_name="$N14" savefile="$S/$N14.odj" \
	-U "dlg$RUN%Dlg-Pass-1234"
check "delegated refusal: no account" '! exists "$N14"'

# --- interop: Samba's requestodj accepts our blob, and the join works
name NJ q
provision machine_name="$NJ" savefile="$S/$NJ.odj" -U "$ADMIN" >/dev/null
CP=$ODJ_DC_PREFIX/clients/$NJ
CCONF=$("$ENVD/client.sh" new "$CP" "${NJ^^}" 2>/dev/null)
testit "Samba's net offlinejoin requestodj accepts our blob" \
	net offlinejoin requestodj loadfile="$S/$NJ.odj" -s "$CCONF"
testit "kinit ${NJ^^}\$ with the password Samba stored" \
	kinit_pw "$NJ" "$("$ENVD/client.sh" machine-password "$CP")"
testit "net rpc testjoin" \
	net rpc testjoin -S "$ODJ_DC_NAME" -s "$CCONF"
testit "winbindd starts on the client" "$ENVD/client.sh" start-winbindd "$CP"
testit "wbinfo -t" "$ENVD/client.sh" run "$CP" wbinfo -t
testit_grep "wbinfo -u" 'administrator' "$ENVD/client.sh" run "$CP" wbinfo -u
"$ENVD/client.sh" stop "$CP" >/dev/null 2>&1

exit $failed
