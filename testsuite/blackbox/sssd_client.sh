# Sourced by test_sssd_env.sh and test_requestodj_sssd.sh (after env.sh,
# with SSSD, DOM and ADMIN set): an account's attribute and kvno on dc1,
# a keytab's kvno, and what a user sees through a client's sssd in its
# sandbox (testsuite/env/sssd.sh run).

# attr NAME ATTRIBUTE: the account's value, from the DC
attr() {
	ldbsearch -H "ldap://$ODJ_DC_NAME" --configfile="$ODJ_ADMIN_SMBCONF" \
		-U "$ADMIN" "(sAMAccountName=$1\$)" "$2" 2>/dev/null |
		sed -n "s/^$2: //p"
}

# the keytab's kvno for NAME$
keytab_kvno() {
	klist -k "$1" | sed -n "s/^ *\([0-9]*\) $2\\\$@.*/\1/p" | sort -n | tail -n1
}

kvno_is() {
	[ "$(attr "$1" msDS-KeyVersionNumber)" = "$2" ]
}

in_sandbox() {
	local root=$1
	shift
	"$SSSD" run "$root" "$@"
}

getent_admin() {
	in_sandbox "$1" getent passwd "administrator@$DOM" |
		grep -q "^administrator@$DOM:\*:[0-9]*:[0-9]*:Administrator:/home/administrator@$DOM:/bin/bash$"
}

# pam_authenticate as Administrator through pam_sss: sssd's krb5_child
# gets the user's TGT and validates it with the keytab (krb5_validate is
# on for id_provider = ad), the one step that needs the keytab's kvno to
# be the account's
pam_auth() {
	printf '%s\n' "$ODJ_ADMIN_PASS" |
		in_sandbox "$1" sssctl user-checks -a auth -s login \
		"administrator@$DOM" 2>&1 |
		grep -q "pam_authenticate for user \[administrator@$DOM\]: Success"
}

# pam_acct_mgmt through pam_sss: the AD access provider's GPO check (LDAP,
# then gpo_child reads GPT.INI from SYSVOL over SMB as the machine, which
# the DC's smbd does as the machine account's uid: "System error" and
# EACCES in gpo_child.log when the DC's prefix is not traversable).  On
# failure, sssd's GPO log lines.
pam_acct() {
	local out log
	out=$(in_sandbox "$1" sssctl user-checks -s login \
		"administrator@$DOM" 2>&1)
	case $out in *"pam_acct_mgmt: Success"*) return 0 ;; esac
	log=$("$SSSD" logdir "$1")
	printf '%s\n' "$out"
	grep -h -i 'gpo' "$log/sssd_$DOM.log" | grep -v 'dp_.*options' | tail -n 20
	grep -h '(0x00[1-4]0)' "$log/gpo_child.log" 2>/dev/null | tail -n 10
	return 1
}
