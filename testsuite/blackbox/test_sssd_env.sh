#!/bin/bash
# A real sssd on an image root: testsuite/env/sssd.sh against the DC.
#
# needs: dc
# sanitizer: skip
#
# Accounts come from odj provision; the SSSD member's files are made here
# by hand, as `realm join` (realmd 0.17, adcli 0.9) writes them:
# etc/krb5.keytab (MIT ktutil, from the blob's password, with the AD salt
# and the account's kvno), etc/sssd/sssd.conf, etc/krb5.conf.  make_root
# is the one piece that `odj requestodj client=sssd root=DIR` replaces.
# Then Debian's sssd-ad runs on those files in a sandbox (sssd.sh) and must
# answer NSS and PAM for domain users, adcli testjoin must pass with the
# keytab, and the first-contact password change is shown both ways that
# work: adcli update with lifetime 0 (client side) and sssd's own renewal
# of an account whose pwdLastSet is 0 (DC side).  Every sssd is stopped by
# pid and every account deleted at the end.  The sandbox's client address
# is ODJ_SSSD_CLIENT_IP (127.0.0.1 if unset; nothing listens on it).

. "$(dirname "$0")/common.sh"
odj_scratch

if [ -z "${ODJ_DC_PREFIX:-}" ]; then
	_fail "sssd env: ODJ_DC_PREFIX not set (run through testsuite/run)"
	exit $failed
fi
. "$ODJ_TOP/testsuite/env/env.sh" "$ODJ_DC_PREFIX" || exit 1

SSSD=$ODJ_TOP/testsuite/env/sssd.sh
S=$ODJ_SCRATCH
ADMIN="$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
PY=/usr/bin/python3
IP=${ODJ_SSSD_CLIENT_IP:-127.0.0.1}
DOM=$ODJ_DNS_DOMAIN
export KRB5CCNAME=FILE:$S/krb5cc

TAG=$(printf '%05d' $(($$ % 100000)))
A=SSA$TAG	# fresh account: adcli update --computer-password-lifetime=0
B=SSB$TAG	# pwdLastSet = 0: sssd's own renewal changes it

ACCOUNTS=""
ROOTS=""

cleanup() {
	local r name
	for r in $ROOTS; do
		"$SSSD" stop "$r" >/dev/null 2>&1 ||
			echo "could not stop the sssd of $r" >&2
	done
	for name in $ACCOUNTS; do
		[ -n "$(attr "$name" dn)" ] || continue
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			--configfile="$ODJ_ADMIN_SMBCONF" -U "$ADMIN" \
			>/dev/null 2>&1 ||
			echo "could not delete the account $name" >&2
	done
	rm -rf "$ODJ_SCRATCH"
}
trap cleanup EXIT

. "$(dirname "$0")/sssd_client.sh"

blob_password() {
	odj dump --json --show-secrets "$1" | $PY -c '
import json, sys
d = json.load(sys.stdin)
print(d["blobs"][0]["win7blob"]["machine_password"], end="")'
}

# make_root NAME ROOT BLOB [sssd.conf lines]: the files of an SSSD member.
# The keytab: NAME$, host/ and RestrictedKrbHost/ with the NetBIOS name and
# the FQDN, AES256, AES128 and RC4 keys from the password, all with the
# account's salt (REALM + "host" + lower-case name + "." + DNS domain) and
# its kvno (msDS-KeyVersionNumber; $KVNO instead if set).
make_root() {
	local name=$1 root=$2 blob=$3 lc=${1,,} pw kvno p e
	shift 3
	pw=$(blob_password "$blob") || return 1
	kvno=${KVNO:-$(attr "$name" msDS-KeyVersionNumber)}
	[ -n "$pw" ] && [ -n "$kvno" ] || return 1
	mkdir -p "$root/etc/sssd/conf.d" || return 1
	chmod 0711 "$root/etc/sssd"
	for p in "$name\$" "host/$name" "host/$lc.$DOM" \
		"RestrictedKrbHost/$name" "RestrictedKrbHost/$lc.$DOM"; do
		for e in aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 \
			arcfour-hmac; do
			printf 'addent -password -p %s@%s -k %s -e %s -s %s\n%s\n' \
				"$p" "$ODJ_REALM" "$kvno" "$e" \
				"${ODJ_REALM}host$lc.$DOM" "$pw"
		done
	done >"$S/ktutil.in"
	printf 'wkt %s\nquit\n' "$root/etc/krb5.keytab" >>"$S/ktutil.in"
	(umask 077 && ktutil <"$S/ktutil.in" >/dev/null) || return 1
	rm -f "$S/ktutil.in"
	chmod 0600 "$root/etc/krb5.keytab"
	# realmd's configure_sssd_for_domain (realm-sssd-ad.c) and
	# realm_sssd_config_add_domain; ad_hostname because an image's host
	# name is not known yet; ad_site as odj requestodj writes it from a
	# blob: with rodc1 running (kept for a later script), the DCs may
	# place this client in its site Branch, and Samba replicates no
	# SYSVOL to an RODC (the GPO access check would fail there)
	(
		umask 077
		cat >"$root/etc/sssd/sssd.conf" <<-EOF
		[sssd]
		domains = $DOM
		config_file_version = 2
		services = nss, pam

		[domain/$DOM]
		default_shell = /bin/bash
		krb5_store_password_if_offline = True
		cache_credentials = True
		krb5_realm = $ODJ_REALM
		realmd_tags = manages-system joined-with-adcli
		id_provider = ad
		fallback_homedir = /home/%u@%d
		ad_domain = $DOM
		use_fully_qualified_names = True
		ldap_id_mapping = True
		access_provider = ad
		ad_hostname = $lc.$DOM
		ad_site = Default-First-Site-Name
		EOF
		for p in "$@"; do
			printf '%s\n' "$p"
		done >>"$root/etc/sssd/sssd.conf"
	) || return 1
	# realmd's configure_krb5_conf_for_domain (realm-kerberos-config.c)
	cat >"$root/etc/krb5.conf" <<-EOF
	[libdefaults]
	    default_realm = $ODJ_REALM
	    udp_preference_limit = 0
	EOF
}

provision() {
	odj provision domain="$DOM" machine_name="$1" dcname="$ODJ_DC_NAME" \
		savefile="$2" -s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN"
}

kinit_keytab() {
	kinit -k -t "$2" "$1\$@$ODJ_REALM" &&
		kvno "host/${1,,}.$DOM" "RestrictedKrbHost/$1" >/dev/null
}

# wait_for SECONDS CMD...: until CMD succeeds
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt "$deadline" ] || return 1
		sleep 0.5
	done
}

synced_kvno_is() {
	sync_dcs && kvno_is "$@"
}

host_state() {
	ls -la --time-style=+%s /etc/krb5.keytab /etc/krb5.conf /etc/sssd \
		/var/lib/sss/db /var/lib/sss/pipes /var/log/sssd 2>&1
	cat /etc/resolv.conf /etc/hosts /etc/nsswitch.conf
}
host_state >"$S/host.before"

# --- A: the member's files, proven with Kerberos, then with sssd
RA=$S/a/root
ROOTS="$ROOTS $RA"
ACCOUNTS="$ACCOUNTS $A"
testit "provision $A" provision "$A" "$S/$A.odj"
testit "make the SSSD files of $A by hand" make_root "$A" "$RA" "$S/$A.odj" \
	'ad_machine_account_password_renewal_opts = 86400:2:0'
check "keytab is 0600" '[ "$(file_mode "$RA/etc/krb5.keytab")" = 600 ]'
check "sssd.conf is 0600" '[ "$(file_mode "$RA/etc/sssd/sssd.conf")" = 600 ]'
testit "kinit -k -t ROOT/etc/krb5.keytab $A\$, kvno host/ RestrictedKrbHost/" \
	kinit_keytab "$A" "$RA/etc/krb5.keytab"
cp "$RA/etc/krb5.keytab" "$S/$A.kvno1.keytab"

# debug level 7: sssd logs adcli's output
testit "sssd starts on $RA" env ODJ_SSSD_DEBUG=7 \
	"$SSSD" start "$RA" "$ODJ_DC_PREFIX" "$IP"
testit "sssd's domain goes online" "$SSSD" wait-online "$RA"
testit "getent passwd administrator@$DOM (nss_sss)" getent_admin "$RA"
testit_grep "getent group 'domain users@$DOM'" "^domain users@$DOM:" \
	in_sandbox "$RA" getent group "domain users@$DOM"
testit_grep "id administrator@$DOM" "domain admins@$DOM" \
	in_sandbox "$RA" id "administrator@$DOM"
testit_expect_failure "getent passwd of an unknown user" \
	in_sandbox "$RA" getent passwd "nosuchuser$TAG@$DOM"
# PAM account management through pam_sss: the AD access provider reads
# the GPOs from SYSVOL over SMB (gpo_child) with the machine's ticket
testit "sssctl user-checks -s login (pam_sss, GPO access)" pam_acct "$RA"
testit "pam_authenticate administrator@$DOM (TGT validated with the keytab)" \
	pam_auth "$RA"
testit_grep "adcli testjoin with the keytab" "Sucessfully validated join" \
	in_sandbox "$RA" adcli testjoin --domain="$DOM"
testit "kinit -k in the sandbox (krb5.conf, DNS SRV)" \
	in_sandbox "$RA" kinit -k "$A\$"
check "the host's /etc, /var/lib/sss untouched" \
	'host_state | cmp -s - "$S/host.before"'

# sssd's renewal task (2 s after start here) runs adcli update with
# --computer-password-lifetime=30: a fresh password stays
testit "sssd's renewal task ran" wait_for 30 grep -q \
	'Task \[AD machine account password renewal\]: finished' \
	"$("$SSSD" logdir "$RA")/sssd_$DOM.log"
testit_grep "adcli (run by sssd): fresh password kept" \
	"Password not too old, no change needed" \
	cat "$("$SSSD" logdir "$RA")/sssd_$DOM.log"
check "kvno still 1 on the DC" 'kvno_is "$A" 1'

# first contact, client side: what a first-boot unit would run
PLS=$(attr "$A" pwdLastSet)
testit_grep "adcli update --computer-password-lifetime=0" \
	"Changed computer password" \
	in_sandbox "$RA" adcli update --verbose --computer-password-lifetime=0 \
	--domain="$DOM" --host-fqdn="${A,,}.$DOM"
testit "the DCs agree (the change may be on another)" sync_dcs
check "pwdLastSet moved" '[ "$(attr "$A" pwdLastSet)" -gt "$PLS" ]'
check "kvno 2 on the DC" 'kvno_is "$A" 2'
check "kvno 2 in ROOT's keytab" '[ "$(keytab_kvno "$RA/etc/krb5.keytab" "$A")" = 2 ]'
testit "kinit -k -t ROOT/etc/krb5.keytab after the change" \
	kinit_keytab "$A" "$RA/etc/krb5.keytab"
testit_expect_failure "the blob's password (kvno 1 keytab) is gone" \
	kinit -k -t "$S/$A.kvno1.keytab" "$A\$@$ODJ_REALM"
testit "sssd stops" "$SSSD" stop "$RA"
testit_expect_failure "sssd.sh status after stop" "$SSSD" status "$RA"
testit "sssd starts again (a new TGT from the new keys)" \
	"$SSSD" start "$RA" "$ODJ_DC_PREFIX" "$IP"
testit "online again" "$SSSD" wait-online "$RA"
testit "getent passwd after the change" getent_admin "$RA"
testit "pam_authenticate after the change" pam_auth "$RA"
testit "sssd stops again" "$SSSD" stop "$RA"

# --- B: pwdLastSet = 0 on the DC: sssd's first renewal run changes it
RB=$S/b/root
ROOTS="$ROOTS $RB"
ACCOUNTS="$ACCOUNTS $B"
testit "provision $B" provision "$B" "$S/$B.odj"
cat >"$S/pls0.ldif" <<EOF
dn: $(ldbsearch -H "ldap://$ODJ_DC_NAME" --configfile="$ODJ_ADMIN_SMBCONF" \
	-U "$ADMIN" "(sAMAccountName=$B\$)" dn 2>/dev/null | sed -n 's/^dn: //p')
changetype: modify
replace: pwdLastSet
pwdLastSet: 0
EOF
testit "pwdLastSet = 0 on $B" ldbmodify -H "ldap://$ODJ_DC_NAME" \
	--configfile="$ODJ_ADMIN_SMBCONF" -U "$ADMIN" "$S/pls0.ldif"
testit "the DCs agree (sssd may ask another)" sync_dcs
check "no password expiry for a computer account with pwdLastSet = 0" \
	'[ "$(attr "$B" msDS-UserPasswordExpiryTimeComputed)" = 9223372036854775807 ]'
testit "make the SSSD files of $B by hand" make_root "$B" "$RB" "$S/$B.odj" \
	'ad_machine_account_password_renewal_opts = 86400:5'
testit "kinit -k -t ROOT/etc/krb5.keytab $B\$ (pwdLastSet = 0)" \
	kinit_keytab "$B" "$RB/etc/krb5.keytab"
testit "sssd starts on $RB" env ODJ_SSSD_DEBUG=7 \
	"$SSSD" start "$RB" "$ODJ_DC_PREFIX" "$IP"
testit "online" "$SSSD" wait-online "$RB"
testit "sssd's first renewal run changed the password (kvno 2)" \
	wait_for 40 synced_kvno_is "$B" 2
check "pwdLastSet set" '[ "$(attr "$B" pwdLastSet)" -gt 0 ]'
testit "kvno 2 in ROOT's keytab" wait_for 10 \
	eval '[ "$(keytab_kvno "$RB/etc/krb5.keytab" "$B")" = 2 ]'
testit "kinit -k -t ROOT/etc/krb5.keytab after sssd's change" \
	kinit_keytab "$B" "$RB/etc/krb5.keytab"
testit "getent passwd (sssd on, after its change)" getent_admin "$RB"
testit "pam_authenticate (after sssd's change)" pam_auth "$RB"
testit "sssd stops ($B)" "$SSSD" stop "$RB"

# --- bad files: real sssd refuses them
RC=$S/c/root
ROOTS="$ROOTS $RC"
mkdir -p "$RC/etc"
cp -a "$RB/etc/sssd" "$RB/etc/krb5.conf" "$RC/etc/"
cp "$S/$A.kvno1.keytab" "$RC/etc/krb5.keytab"	# another account's keys
sed -i -e "s/^ad_hostname = .*/ad_hostname = ${A,,}.$DOM/" \
	-e '/renewal_opts/d' "$RC/etc/sssd/sssd.conf"
chmod 0644 "$RC/etc/sssd/sssd.conf"
testit_expect_failure "sssd refuses a sssd.conf of mode 0644" \
	"$SSSD" start "$RC" "$ODJ_DC_PREFIX" "$IP"
chmod 0600 "$RC/etc/sssd/sssd.conf"
testit "sssd starts with an outdated keytab" \
	"$SSSD" start "$RC" "$ODJ_DC_PREFIX" "$IP"
testit_expect_failure "an outdated keytab: never online" \
	env ODJ_SSSD_TIMEOUT=5 "$SSSD" wait-online "$RC"
testit_expect_failure "an outdated keytab: no users" getent_admin "$RC"
testit "sssd stops ($RC)" "$SSSD" stop "$RC"

# --- the right keys under a wrong kvno: everything but logins works
D=SSD$TAG
RD=$S/d/root
ROOTS="$ROOTS $RD"
ACCOUNTS="$ACCOUNTS $D"
testit "provision $D" provision "$D" "$S/$D.odj"
KVNO=7
testit "make the SSSD files of $D, kvno 7 in the keytab" \
	make_root "$D" "$RD" "$S/$D.odj"
unset KVNO
testit "kinit -k -t: works (no kvno in an AS exchange)" \
	kinit_keytab "$D" "$RD/etc/krb5.keytab"
testit "sssd starts ($D)" "$SSSD" start "$RD" "$ODJ_DC_PREFIX" "$IP"
testit "online ($D)" "$SSSD" wait-online "$RD"
testit "getent passwd ($D)" getent_admin "$RD"
testit_expect_failure "pam_authenticate fails: no key of the account's kvno" \
	pam_auth "$RD"
testit_grep "krb5_child: cannot find the key of kvno 1" \
	"Cannot find key for $D\\\$@$ODJ_REALM kvno 1 in keytab" \
	cat "$("$SSSD" logdir "$RD")/krb5_child.log"
testit "sssd stops ($D)" "$SSSD" stop "$RD"

# status 1: neither sssd nor its sandbox (holder) runs
stopped() {
	local rc
	"$SSSD" status "$1" 2>/dev/null && rc=0 || rc=$?
	[ $rc = 1 ]
}
check "no sssd and no sandbox left" \
	'stopped "$RA" && stopped "$RB" && stopped "$RC" && stopped "$RD"'
check "the host's /etc, /var/lib/sss untouched at the end" \
	'host_state | cmp -s - "$S/host.before"'

exit $failed
