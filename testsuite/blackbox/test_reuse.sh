#!/bin/bash
# odj provision reuse against the throwaway Samba AD DC: the account-reuse
# guard of KB5020276 (CVE-2022-38042) with two delegated non-admin users
# on one OU, reuse_unsafe, owner=domain_admins, the creator rule, an
# account in another OU, and all of it in batches.
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH

. "$(dirname "$0")/dc_env.sh"

CONF=$ODJ_ADMIN_SMBCONF
RUN=$$
OU="OU=Reuse$RUN,$DOMDN"
OU2="OU=ReuseOther$RUN,$DOMDN"
PW='Reuse-Pass-1234'
U1=rua$RUN			# delegated user 1
U2=rub$RUN			# delegated user 2
U3=ruc$RUN			# delegated, and WRITE_OWNER on the computers
NERR='NERR_AccountReuseBlockedByPolicy \(0xAAC, 2732\)'

# name VAR LETTER: a unique computer name, remembered for the cleanup
# (never call it in a subshell)
NAMES=()
name() {
	local n
	n=$(printf 'r%s%s' "$2" "$RUN" | cut -c1-15)
	NAMES+=("$n")
	printf -v "$1" '%s' "$n"
}

ldb() {
	ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF" \
		"$@" 2>/dev/null
}

# attr NAME ATTR: one attribute of computer NAME
attr() {
	ldb "(sAMAccountName=${1^^}\$)" "$2" | sed -n "s/^$2: //p"
}

# owner NAME: the owner of computer NAME ("DA" or a SID)
owner() {
	ldb "(sAMAccountName=${1^^}\$)" nTSecurityDescriptor \
		--controls=sd_flags:1:1 |
		sed -n 's/^nTSecurityDescriptor: O:\([^G]*\).*/\1/p'
}

exists() {
	[ -n "$(attr "$1" sAMAccountName)" ]
}

user_sid() {
	ldb "(sAMAccountName=$1)" objectSid | sed -n 's/^objectSid: //p'
}

# as USER ARGS...: odj provision as a delegated user
as() {
	local u=$1
	shift
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		-s "$CONF" -U "$u%$PW" "$@"
}

admin() {
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		-s "$CONF" -U "$ADMIN" "$@"
}

blob_password() {
	odj dump --json --show-secrets "$1" | python3 -c 'import json,sys
print(json.load(sys.stdin)["blobs"][0]["win7blob"]["machine_password"])'
}

# report FILE EXPR: a Python expression over the batch report as r, with
# m(NAME) the machine NAME's entry
report() {
	python3 -c "import json,sys
r = json.load(open(sys.argv[1]))
m = lambda n: [x for x in r['machines'] if x['name'] == n][0]
print($2)" "$1"
}

cleanup() {
	local n
	for n in "${NAMES[@]}"; do
		samba-tool computer delete "$n" -H "ldap://$ODJ_DC_NAME" \
			-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
	done
	for n in "$U1" "$U2" "$U3"; do
		samba-tool user delete "$n" -H "ldap://$ODJ_DC_NAME" \
			-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
	done
	for n in "$OU" "$OU2"; do
		samba-tool ou delete "$n" --force-subtree-delete \
			-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
			--configfile="$CONF" >/dev/null 2>&1
	done
	rm -rf "$S"
}
trap cleanup EXIT

# --- two OUs; three users with "create computer objects" and "reset
# password" on the first (CC/DC on computers, the reset password right,
# read/write on descendant computers); the third also WRITE_OWNER
for o in "$OU" "$OU2"; do
	samba-tool ou create "$o" -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
		--configfile="$CONF" >/dev/null 2>&1
done
COMPUTER=bf967a86-0de6-11d0-a285-00aa003049e2
RESET_PASSWORD=00299570-246d-11d0-a768-00aa006e0529
for u in "$U1" "$U2" "$U3"; do
	samba-tool user create "$u" "$PW" -H "ldap://$ODJ_DC_NAME" \
		-U "$ADMIN" --configfile="$CONF" >/dev/null 2>&1
	sid=$(user_sid "$u")
	sddl="(OA;CI;CCDC;$COMPUTER;;$sid)(OA;CIIO;CR;$RESET_PASSWORD;$COMPUTER;$sid)(A;CIIO;RPWPLCLO;;;$sid)"
	if [ "$u" = "$U3" ]; then
		sddl="$sddl(OA;CIIO;WO;;$COMPUTER;$sid)"
	fi
	samba-tool dsacl set --objectdn="$OU" --sddl="$sddl" \
		-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF" \
		>/dev/null 2>&1
done
SID1=$(user_sid "$U1")
SID2=$(user_sid "$U2")
check "three delegated users" '[ -n "$SID1" ] && [ -n "$SID2" ] && [ -n "$(user_sid "$U3")" ]'

# --- user 1 provisions M: Samba makes the creator the owner and records
# no mS-DS-CreatorSID
name M a
testit_grep "user 1 provisions $M" "Provisioned" \
	as "$U1" machine_name="$M" machine_account_ou="$OU" \
	savefile="$S/$M-1.odj"
check "the owner of $M is user 1" '[ "$(owner "$M")" = "$SID1" ]'
check "Samba records no mS-DS-CreatorSID" \
	'[ -z "$(attr "$M" mS-DS-CreatorSID)" ]'
pw1=$(blob_password "$S/$M-1.odj")
pwdset=$(attr "$M" pwdLastSet)

# --- user 2 may not reuse it
testit_exit "user 2: reuse of user 1's account refused" 5 "$NERR" \
	as "$U2" machine_name="$M" reuse savefile="$S/$M-2.odj"
out=$(as "$U2" machine_name="$M" reuse savefile="$S/$M-2.odj" 2>&1)
for re in "its owner is ODJ\\\\$U1 \\($SID1\\)" \
	'its creator \(mS-DS-CreatorSID\) not recorded' \
	"you are ODJ\\\\$U2 \\($SID2\\)" "run it as ODJ\\\\$U1" \
	'reuse_unsafe' 'the account was not changed'; do
	check "refusal names /$re/" 'printf "%s\n" "$out" | grep -Eq -- "$re"'
done
check "refused: pwdLastSet unchanged" '[ "$(attr "$M" pwdLastSet)" = "$pwdset" ]'
check "refused: no blob written" '[ ! -e "$S/$M-2.odj" ]'
testit "refused: the first blob's password still works" kinit_pw "$M" "$pw1"
testit_exit "nosearch reuse: refused the same way" 5 "$NERR" \
	as "$U2" machine_name="$M" machine_account_ou="$OU" nosearch reuse \
	savefile="$S/$M-2.odj"
check "nosearch refused: pwdLastSet unchanged" \
	'[ "$(attr "$M" pwdLastSet)" = "$pwdset" ]'
testit_exit "an administrator is refused too (the owner is user 1)" 5 \
	"$NERR.*you are ODJ.Administrator" \
	admin machine_name="$M" reuse savefile="$S/$M-2.odj"
check "admin refused: pwdLastSet unchanged" \
	'[ "$(attr "$M" pwdLastSet)" = "$pwdset" ]'

# --- its owner may, by password or by Kerberos ticket
testit_grep "user 1 (the owner): reuse OK" "Provisioned" \
	as "$U1" machine_name="$M" reuse savefile="$S/$M-3.odj"
testit "user 1's reuse: the new password works" \
	kinit_pw "$M" "$(blob_password "$S/$M-3.odj")"
testit_expect_failure "user 1's reuse: the old password is gone" \
	kinit_pw "$M" "$pw1"
export KRB5CCNAME=FILE:$S/u1.ccache
printf '%s\n' "$PW" | kinit "$U1@$ODJ_REALM" >/dev/null 2>&1
testit_grep "user 1 with -k (identity from the ticket): reuse OK" \
	"Provisioned" odj provision domain="$ODJ_DNS_DOMAIN" \
	dcname="$ODJ_DC_NAME" -s "$CONF" -k machine_name="$M" reuse \
	savefile="$S/$M-4.odj"
export KRB5CCNAME=FILE:$S/u2.ccache
printf '%s\n' "$PW" | kinit "$U2@$ODJ_REALM" >/dev/null 2>&1
testit_exit "user 2 with -k: refused" 5 "$NERR.*you are ODJ.$U2" \
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
	-s "$CONF" -k machine_name="$M" reuse savefile="$S/$M-5.odj"
unset KRB5CCNAME
. "$ENVD/env.sh" "$ODJ_DC_PREFIX"

# --- reuse_unsafe: the override, with a warning
pwdset=$(attr "$M" pwdLastSet)
testit_grep "user 2: reuse_unsafe resets it, with a warning" \
	"warning: reuse_unsafe: resetting CN=${M^^},$OU although NERR_AccountReuseBlockedByPolicy \\(0xAAC\\)" \
	as "$U2" machine_name="$M" reuse_unsafe savefile="$S/$M-6.odj"
testit "reuse_unsafe: the new password works" \
	kinit_pw "$M" "$(blob_password "$S/$M-6.odj")"
check "reuse_unsafe: the owner is still user 1" '[ "$(owner "$M")" = "$SID1" ]'
testit_grep "reuse_unsafe implies reuse (Options)" \
	NETSETUP_PROVISION_REUSE_ACCOUNT odj dump "$S/$M-6.odj"

# --- owner=domain_admins: a creator has no WRITE_OWNER; the DC refuses,
# and the new account goes again
name M2 b
testit_exit "user 1: owner=domain_admins refused by the DC" 5 \
	'refused to make Domain Admins the owner.*was deleted again' \
	as "$U1" machine_name="$M2" machine_account_ou="$OU" \
	owner=domain_admins savefile="$S/$M2.odj"
check "refused owner change: no account" '! exists "$M2"'
check "refused owner change: no blob" '[ ! -e "$S/$M2.odj" ]'
pwdset=$(attr "$M" pwdLastSet)
testit_exit "user 1: reuse owner=domain_admins refused, account kept" 5 \
	'refused to make Domain Admins the owner.*the account was not changed' \
	as "$U1" machine_name="$M" reuse owner=domain_admins \
	savefile="$S/$M-7.odj"
check "refused owner change on reuse: pwdLastSet unchanged" \
	'[ "$(attr "$M" pwdLastSet)" = "$pwdset" ]'
check "refused owner change on reuse: owner unchanged" \
	'[ "$(owner "$M")" = "$SID1" ]'

# Samba 4.17 checks only WRITE_OWNER, so a user granted it may name any
# owner; 4.18 and later (CVE-2020-25720), like Windows, also want
# membership of the group or SeRestorePrivilege.
name M3 c
if samba -V | grep -q '^Version 4\.17\.'; then
	testit_grep "user 3 (WRITE_OWNER) on Samba 4.17: owner=domain_admins OK" \
		"Provisioned" as "$U3" machine_name="$M3" \
		machine_account_ou="$OU" owner=domain_admins \
		savefile="$S/$M3.odj"
	check "user 3's account is owned by Domain Admins" \
		'[ "$(owner "$M3")" = DA ]'
else
	testit_exit "user 3 (WRITE_OWNER) on Samba 4.18+: refused, deleted" 5 \
		'was deleted again' as "$U3" machine_name="$M3" \
		machine_account_ou="$OU" owner=domain_admins \
		savefile="$S/$M3.odj"
fi

# --- an administrator takes M over: reuse_unsafe owner=domain_admins
testit_grep "admin: reuse_unsafe owner=domain_admins takes it over" \
	'warning: reuse_unsafe.*Domain Admins become its owner' \
	admin machine_name="$M" reuse_unsafe owner=domain_admins \
	savefile="$S/$M-8.odj"
check "taken over: owned by Domain Admins" '[ "$(owner "$M")" = DA ]'
# now rule (c): any caller with the rights may reuse it, no warning
out=$(admin machine_name="$M" reuse savefile="$S/$M-9.odj" 2>&1)
check "owner Domain Admins: an admin's reuse OK, no warning" \
	'printf "%s\n" "$out" | grep -q Provisioned && ! printf "%s\n" "$out" | grep -q warning'
testit "owner Domain Admins: the admin's blob works" \
	kinit_pw "$M" "$(blob_password "$S/$M-9.odj")"
# user 1 is no longer the owner, and Samba recorded no creator: user 1
# passes by rule (c) only, like anyone else
testit_grep "owner Domain Admins: user 1's reuse OK (rule c)" "Provisioned" \
	as "$U1" machine_name="$M" reuse savefile="$S/$M-10.odj"
testit_grep "owner Domain Admins: user 2's reuse OK (rule c)" "Provisioned" \
	as "$U2" machine_name="$M" reuse savefile="$S/$M-11.odj"
name M4 d
testit_grep "admin: a new account's owner is Domain Admins already" \
	"Provisioned" admin machine_name="$M4" machine_account_ou="$OU" \
	owner=domain_admins savefile="$S/$M4.odj"
check "admin's account: owned by Domain Admins" '[ "$(owner "$M4")" = DA ]'

# --- rule (a), the creator: Samba never writes mS-DS-CreatorSID (only
# the system may), so the test writes it into the DC's own database as
# Windows does for an account made through the machine account quota
name M5 e
as "$U1" machine_name="$M5" machine_account_ou="$OU" \
	savefile="$S/$M5.odj" >/dev/null 2>&1
printf 'dn: CN=%s,%s\nchangetype: modify\nreplace: mS-DS-CreatorSID\nmS-DS-CreatorSID: %s\n' \
	"${M5^^}" "$OU" "$SID2" >"$S/creator.ldif"
ldbmodify -H "$ODJ_DC_PREFIX/dc/private/sam.ldb" \
	--configfile="$ODJ_DC_SMBCONF" --controls=relax:0 "$S/creator.ldif" \
	>/dev/null 2>&1
check "$M5: owner user 1, creator user 2" \
	'[ "$(owner "$M5")" = "$SID1" ] && [ "$(attr "$M5" mS-DS-CreatorSID)" = "$SID2" ]'
testit_grep "user 2, the creator: reuse OK (rule a)" "Provisioned" \
	as "$U2" machine_name="$M5" reuse savefile="$S/$M5-2.odj"
testit_exit "user 3, neither: refused, the creator named" 5 \
	"its creator \\(mS-DS-CreatorSID\\) ODJ.$U2 \\($SID2\\)" \
	as "$U3" machine_name="$M5" reuse savefile="$S/$M5-3.odj"

# --- an account in another OU: reused where it is, and reported
testit_grep "reuse with another machine_account_ou: reported" \
	"warning: CN=${M^^},$OU is not in machine_account_ou=$OU2: reused where it is, not moved" \
	admin machine_name="$M" machine_account_ou="$OU2" reuse \
	savefile="$S/$M-12.odj"
check "not moved" '[ -n "$(ldb -b "CN=${M^^},$OU" -s base dn | grep "^dn:")" ]'

# --- the same in batches
name B1 f
name B2 g
name B3 h
name B4 i
printf '%s\n%s\n' "$B1" "$B2" >"$S/b12.txt"
printf '%s\n%s\n%s\n' "$B1" "$B2" "$B3" >"$S/b123.txt"
mkdir "$S/d1" "$S/d2" "$S/d3" "$S/d4" "$S/d5" "$S/d6"
testit_grep "batch: user 1 creates two" "2 created" \
	as "$U1" batch="$S/b12.txt" savedir="$S/d1" machine_account_ou="$OU"
pwd_b1=$(attr "$B1" pwdLastSet)
testit_exit "batch: user 2's reuse fails those two, creates the third" 7 \
	"1 created, 0 reused, 0 skipped, 2 failed" \
	as "$U2" batch="$S/b123.txt" savedir="$S/d2" \
	machine_account_ou="$OU" reuse report="$S/r2.json"
check "batch refused: the report says why" \
	'[ "$(report "$S/r2.json" "m(\"$B1\")[\"error\"]")" = NT_STATUS_ACCESS_DENIED ] && report "$S/r2.json" "m(\"$B1\")[\"message\"]" | grep -Eq "$NERR"'
check "batch refused: pwdLastSet unchanged, no blob" \
	'[ "$(attr "$B1" pwdLastSet)" = "$pwd_b1" ] && [ ! -e "$S/d2/$B1.odj" ]'
testit "batch refused: the first blob still works" \
	kinit_pw "$B1" "$(blob_password "$S/d1/$B1.odj")"
check "batch: the new machine made, no warnings" \
	'[ "$(report "$S/r2.json" "m(\"$B3\")[\"status\"], m(\"$B3\")[\"warnings\"]")" = "created []" ]'
testit_grep "batch: user 1 (the owner) reuses both" "0 created, 2 reused" \
	as "$U1" batch="$S/b12.txt" savedir="$S/d1" reuse
testit "batch reuse: the new blob works" \
	kinit_pw "$B1" "$(blob_password "$S/d1/$B1.odj")"
testit_grep "batch: user 2's reuse_unsafe, with warnings" \
	"warning: reuse_unsafe: resetting CN=${B2^^}" \
	as "$U2" batch="$S/b12.txt" savedir="$S/d3" reuse_unsafe \
	report="$S/r3.json"
check "batch reuse_unsafe: the report carries the warnings" \
	'report "$S/r3.json" "m(\"$B1\")[\"status\"], m(\"$B1\")[\"warnings\"][0]" | grep -Eq "^reused reuse_unsafe: .*0xAAC"'
testit "batch reuse_unsafe: the new blob works" \
	kinit_pw "$B2" "$(blob_password "$S/d3/$B2.odj")"
testit_grep "batch: admin takes both over" "2 reused" \
	admin batch="$S/b12.txt" savedir="$S/d4" reuse_unsafe \
	owner=domain_admins
check "batch take-over: owned by Domain Admins" \
	'[ "$(owner "$B1")" = DA ] && [ "$(owner "$B2")" = DA ]'
printf '%s,"%s"\n' "$B1" "$OU2" >"$S/other.csv"
testit_grep "batch: an account in another OU is reported" \
	"warning: CN=${B1^^},$OU is not in machine_account_ou=$OU2" \
	admin batch="$S/other.csv" savedir="$S/d5" reuse report="$S/r5.json"
check "batch other OU: in the report, not moved" \
	'report "$S/r5.json" "m(\"$B1\")[\"warnings\"][0]" | grep -q "reused where it is, not moved" && [ "$(attr "$B1" distinguishedName)" = "CN=${B1^^},$OU" ]'
printf '%s\n' "$B4" >"$S/b4.txt"
testit_exit "batch: user 1's owner=domain_admins fails the machine" 7 \
	"refused to make Domain Admins the owner.*was deleted again" \
	as "$U1" batch="$S/b4.txt" savedir="$S/d6" machine_account_ou="$OU" \
	owner=domain_admins
check "batch owner refused: no account, no blob" \
	'! exists "$B4" && [ ! -e "$S/d6/$B4.odj" ]'

exit $failed
