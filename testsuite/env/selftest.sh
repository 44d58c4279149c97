#!/bin/bash
# End-to-end proof of the test environment with Samba's own tools:
#
#   selftest.sh PREFIX
#
# starts the DC of PREFIX, offline-joins a client ENVTEST1 with
# `net offlinejoin provision/requestodj`, proves the join with Kerberos
# (password and keytab), netlogon and winbind, deletes the account, stops
# everything and checks that no process of PREFIX survives.
# One line per step on stderr; exit status 0 only if every step passed.
# ODJ_SELFTEST_KEEP=1 leaves the DC and winbindd running after a failure.
set -eu

ODJ_PROG=selftest.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MACHINE=envtest1
NETBIOS=ENVTEST1
STEP=0
DONE=

step() {
	local desc=$1 log t0 rc=0
	shift
	STEP=$((STEP + 1))
	log=$WORK/$(printf '%02d' "$STEP").log
	t0=$(odj_now_ms)
	# Run as an asynchronous job: in a `cmd || ...` context bash would ignore
	# set -e inside the step functions.
	"$@" >"$log" 2>&1 </dev/null &
	wait $! || rc=$?
	if [ $rc = 0 ]; then
		printf '%s: ok   %2d %-58s %6s s\n' "$ODJ_PROG" "$STEP" "$desc" "$(odj_elapsed "$t0")" >&2
		return 0
	fi
	printf '%s: FAIL %2d %-58s %6s s (exit %s)\n' "$ODJ_PROG" "$STEP" "$desc" "$(odj_elapsed "$t0")" "$rc" >&2
	sed 's/^/    /' "$log" | tail -n 40 >&2
	exit 1
}

admin_creds() { printf '%s%%%s' "$ODJ_ADMIN_USER" "$ODJ_ADMIN_PASS"; }

start_dc() {
	"$ODJ_ENV_DIR/dc.sh" start "$PREFIX"
}

# Trap 11: provision refuses an existing savefile only after creating the
# account, so a previous run's account, blob and client are removed first.
clean_previous() {
	"$ODJ_ENV_DIR/client.sh" stop "$CP" 2>/dev/null || true
	rm -rf -- "$CP" "$BLOB"
	if ldbsearch -H "ldap://$ODJ_DC_NAME" --configfile="$ODJ_ADMIN_SMBCONF" \
		-U "$(admin_creds)" "(sAMAccountName=$MACHINE\$)" dn | grep -q '^dn: '; then
		echo "removing $MACHINE left over from a previous run"
		samba-tool computer delete "$MACHINE" -H "ldap://$ODJ_DC_NAME" \
			--configfile="$ODJ_ADMIN_SMBCONF" -U "$(admin_creds)"
	fi
}

# Trap 7: the DC is named, never discovered.
odj_provision() {
	net offlinejoin provision domain="$ODJ_DNS_DOMAIN" machine_name="$MACHINE" \
		dcname="$ODJ_DC_NAME" savefile="$BLOB" \
		-U "$(admin_creds)" -s "$ODJ_ADMIN_SMBCONF"
	[ -s "$BLOB" ]
}

new_client() {
	CLIENT_CONF=$("$ODJ_ENV_DIR/client.sh" new "$CP" "$NETBIOS")
	echo "$CLIENT_CONF"
	[ -s "$CLIENT_CONF" ]
}

odj_request() {
	net offlinejoin requestodj loadfile="$BLOB" -s "$CLIENT_CONF"
	tdbdump -k "SECRETS/MACHINE_PASSWORD/$ODJ_DOMAIN" "$CP/private/secrets.tdb" >/dev/null
}

# Trap 13: only Kerberos, netlogon and winbind prove the password; net ads
# testjoin would fall back to NTLM.
kinit_password() {
	local cc=FILE:$WORK/machine-pw.ccache
	"$ODJ_ENV_DIR/client.sh" machine-password "$CP" |
		KRB5CCNAME=$cc kinit "$NETBIOS\$@$ODJ_REALM"
	KRB5CCNAME=$cc klist | grep -F "Default principal: $NETBIOS\$@$ODJ_REALM"
}

kinit_keytab() {
	local cc=FILE:$WORK/machine-kt.ccache
	KEYTAB=$("$ODJ_ENV_DIR/client.sh" keytab "$CP")
	klist -k "$KEYTAB"
	KRB5CCNAME=$cc kinit -k -t "$KEYTAB" "$NETBIOS\$@$ODJ_REALM"
	KRB5CCNAME=$cc klist | grep -F "Default principal: $NETBIOS\$@$ODJ_REALM"
	KRB5CCNAME=$cc kvno "ldap/$ODJ_DC_NAME"
}

rpc_testjoin() {
	net rpc testjoin -S "$ODJ_DC_NAME" -s "$CLIENT_CONF"
}

start_winbindd() {
	"$ODJ_ENV_DIR/client.sh" start-winbindd "$CP"
}

wbinfo_t() {
	"$ODJ_ENV_DIR/client.sh" run "$CP" wbinfo -t
}

wbinfo_u() {
	local out
	out=$("$ODJ_ENV_DIR/client.sh" run "$CP" wbinfo -u)
	printf '%s\n' "$out"
	printf '%s\n' "$out" | grep -qix "$ODJ_DOMAIN\\\\administrator"
}

# Trap 6: outside `client.sh run` the env's socket dir holds no winbindd, so a
# wbinfo that answered here would be talking to some other winbindd.
wbinfo_isolated() {
	if wbinfo -p; then
		echo "wbinfo reached a winbindd outside the client env"
		return 1
	fi
	return 0
}

delete_account() {
	samba-tool computer delete "$MACHINE" -H "ldap://$ODJ_DC_NAME" \
		--configfile="$ODJ_ADMIN_SMBCONF" -U "$(admin_creds)"
}

account_gone() {
	if KRB5CCNAME="FILE:$WORK/gone.ccache" kinit -k -t "$KEYTAB" "$NETBIOS\$@$ODJ_REALM"; then
		echo "kinit still works after deleting the account"
		return 1
	fi
	return 0
}

stop_winbindd() {
	"$ODJ_ENV_DIR/client.sh" stop "$CP"
}

stop_dc() {
	"$ODJ_ENV_DIR/dc.sh" stop "$PREFIX"
}

# The shell running this script (and its ancestors and subshells) mention
# PREFIX too; everything else that does is a leftover.
no_leftovers() {
	local pid p ancestors=" " left=0 cmd
	p=$BASHPID
	while [ -n "$p" ] && [ "$p" != 0 ]; do
		ancestors="$ancestors$p "
		p=$(odj_proc_field "$p" ppid) || break
	done
	for pid in $(odj_all_pids); do
		case $ancestors in *" $pid "*) continue ;; esac
		cmd=$(odj_cmdline "$pid") || continue
		case $cmd in *"$PREFIX/"*) ;; *) continue ;; esac
		p=$(odj_proc_field "$pid" ppid) || continue
		case $ancestors in *" $p "*) [ "$(odj_exe "$pid")" = "$(odj_exe $$)" ] && continue ;; esac
		odj_alive "$pid" || continue
		echo "left over: $pid $cmd"
		left=1
	done
	return $left
}

on_exit() {
	local rc=$?
	[ -z "$DONE" ] || return 0
	if [ "${ODJ_SELFTEST_KEEP:-0}" = 1 ]; then
		odj_say "failed; ODJ_SELFTEST_KEEP=1: leaving the DC and winbindd running"
		return 0
	fi
	odj_say "failed (exit $rc); stopping what was started"
	"$ODJ_ENV_DIR/client.sh" stop "$CP" >/dev/null 2>&1 || true
	"$ODJ_ENV_DIR/dc.sh" stop "$PREFIX" >/dev/null 2>&1 || true
}

main() {
	local t0
	[ $# = 1 ] || { printf 'usage: %s PREFIX\n' "$0" >&2; exit 2; }
	PREFIX=$(odj_abspath "$1")
	WORK=$PREFIX/selftest
	CP=$PREFIX/clients/$MACHINE
	BLOB=$WORK/$MACHINE.odj
	rm -rf -- "$WORK"
	mkdir -p "$WORK"
	t0=$(odj_now_ms)
	trap on_exit EXIT

	step "dc.sh start (provision once, start, wait)" start_dc
	. "$ODJ_ENV_DIR/env.sh" "$PREFIX"
	step "clean up a previous run's account and client" clean_previous
	step "net offlinejoin provision $MACHINE (admin)" odj_provision
	step "client.sh new $NETBIOS" new_client
	CLIENT_CONF=$("$ODJ_ENV_DIR/client.sh" smbconf "$CP")
	step "net offlinejoin requestodj (client)" odj_request
	step "kinit $NETBIOS\$ with the password from secrets.tdb" kinit_password
	step "net ads keytab create; kinit -k -t; kvno ldap/DC" kinit_keytab
	KEYTAB=$CP/private/krb5.keytab
	step "net rpc testjoin -S $ODJ_DC_NAME" rpc_testjoin
	step "client.sh start-winbindd" start_winbindd
	step "wbinfo -t (client's winbindd)" wbinfo_t
	step "wbinfo -u lists $ODJ_DOMAIN\\administrator" wbinfo_u
	step "wbinfo outside the client env reaches no winbindd" wbinfo_isolated
	step "samba-tool computer delete $MACHINE" delete_account
	step "kinit -k now fails (account gone)" account_gone
	step "client.sh stop" stop_winbindd
	step "dc.sh stop" stop_dc
	step "no process of $PREFIX left" no_leftovers
	DONE=1
	odj_say "all $STEP steps passed in $(odj_elapsed "$t0") s"
}

main "$@"
