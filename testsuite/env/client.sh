#!/bin/bash
# Domain member ("client") prefixes for the throwaway ODJ.TEST domain.
#
#   client.sh new CLIENTPREFIX NETBIOSNAME [IP]   write CLIENTPREFIX/etc/smb.conf,
#                                                 print its path
#   client.sh start-winbindd CLIENTPREFIX         start winbindd on that config
#   client.sh stop CLIENTPREFIX                   stop it (and any Samba helper
#                                                 of that prefix), by pid
#   client.sh run CLIENTPREFIX CMD [ARG...]       run CMD in the env, with
#                                                 wbinfo etc. talking to this
#                                                 client's winbindd
#   client.sh smbconf CLIENTPREFIX                print the smb.conf path
#   client.sh machine-password CLIENTPREFIX       print the machine password
#                                                 stored in secrets.tdb (no newline)
#   client.sh keytab CLIENTPREFIX                 write the dedicated keytab from
#                                                 secrets.tdb (net ads keytab
#                                                 create), print its path
#
# The DC prefix is $ODJ_DC_PREFIX when env.sh is sourced, otherwise the
# grandparent of CLIENTPREFIX (layout PREFIX/clients/NAME).
set -eu

ODJ_PROG=client.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '4,20s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

load_env() {
	local cp=$1 dcprefix=
	if [ -s "$cp/dc-prefix" ]; then
		read -r dcprefix <"$cp/dc-prefix"
	fi
	dcprefix=${dcprefix:-${ODJ_DC_PREFIX:-}}
	if [ -z "$dcprefix" ]; then
		[ "$(basename "$(dirname "$cp")")" = clients ] ||
			odj_die "cannot tell the DC prefix of $cp: source env.sh first or use PREFIX/clients/NAME"
		dcprefix=$(dirname "$(dirname "$cp")")
	fi
	. "$ODJ_ENV_DIR/env.sh" "$dcprefix"
	CP=$cp
	CONF=$CP/etc/smb.conf
	WB_PIDFILE=$CP/run/winbindd.pid
	WB_SOCKDIR=$CP/run/winbindd
}

# dc1, the clients, and the other DCs and the no-DC address (dc.sh add-dc).
used_ips() {
	printf '%s\n' "$ODJ_DC_IP"
	cut -d' ' -f1 "$ODJ_DC_PREFIX/env/clients.list"
	if [ -s "$ODJ_DC_PREFIX/env/dcs.list" ]; then
		cut -d' ' -f1 "$ODJ_DC_PREFIX/env/dcs.list"
	fi
}

# ODJ_CLIENT_IP_MIN (default 11): where the search starts, so that
# sessions sharing the machine can keep to their own addresses
pick_ip() {
	local used n
	used=$(used_ips)
	for n in $(seq "${ODJ_CLIENT_IP_MIN:-11}" 254); do
		if ! printf '%s\n' "$used" | grep -qx "127.0.0.$n"; then
			printf '127.0.0.%s\n' "$n"
			return 0
		fi
	done
	odj_die "no free 127.0.0.x address left"
}

# Registers NAME -> IP for nss_wrapper and resolv_wrapper; re-sourcing env.sh
# regenerates both files from clients.list.
register_client() {
	local name=$1 ip=$2 list=$ODJ_DC_PREFIX/env/clients.list other
	other=$(awk -v ip="$ip" -v n="$name" '$1 == ip && toupper($2) != n {print $2}' "$list")
	[ -z "$other" ] || odj_die "IP $ip is already used by client $other"
	[ "$ip" != "$ODJ_DC_IP" ] || odj_die "IP $ip is the DC's"
	! awk -v ip="$ip" '$1 == ip {f = 1} END {exit !f}' \
		"$ODJ_DC_PREFIX/env/dcs.list" 2>/dev/null ||
		odj_die "IP $ip is taken by another DC (env/dcs.list)"
	awk -v n="$name" 'toupper($2) != n' "$list" >"$list.tmp.$$"
	printf '%s %s\n' "$ip" "$name" >>"$list.tmp.$$"
	mv -f "$list.tmp.$$" "$list"
	rm -f "$ODJ_DC_PREFIX/env/hosts"
	. "$ODJ_ENV_DIR/env.sh" "$ODJ_DC_PREFIX"
}

# Trap 3: /8 suffix for the interface; trap 7: never let Samba discover the
# DC (password server, name resolve order, no netbios); trap 8: dedicated
# keytab, because requestodj crashes with "secrets and keytab"/"system keytab";
# trap 10: netbios name, security, workgroup and realm are set up front.
write_client_smbconf() {
	local name=$1 ip=$2
	mkdir -p "$CP/etc" "$CP/private" "$CP/state" "$CP/cache" "$CP/lock" \
		"$CP/run/ncalrpc" "$WB_SOCKDIR" "$CP/run/ntp_signd" "$CP/log" \
		"$CP/bind-dns"
	cat >"$CONF.tmp.$$" <<-EOF
	[global]
	    netbios name = $name
	    workgroup = $ODJ_DOMAIN
	    realm = $ODJ_REALM
	    security = ads
	    interfaces = $ip/8
	    bind interfaces only = yes
	    password server = $ODJ_DC_NAME
	    name resolve order = host
	    disable netbios = yes
	    kerberos method = dedicated keytab
	    dedicated keytab file = $CP/private/krb5.keytab
	    private dir = $CP/private
	    binddns dir = $CP/bind-dns
	    state directory = $CP/state
	    cache directory = $CP/cache
	    lock directory = $CP/lock
	    pid directory = $CP/run
	    ncalrpc dir = $CP/run/ncalrpc
	    winbindd socket directory = $WB_SOCKDIR
	    ntp signd socket directory = $CP/run/ntp_signd
	    smb passwd file = $CP/private/smbpasswd
	    usershare path = $CP/state/usershares
	    log file = $CP/log/log.%m
	    max log size = 0
	    load printers = no
	    printing = bsd
	    printcap name = /dev/null
	    disable spoolss = yes
	    template homedir = $CP/home/%D/%U
	    template shell = /bin/false
	    idmap config * : backend = tdb
	    idmap config * : range = 1000000-1999999
	    idmap config $ODJ_DOMAIN : backend = rid
	    idmap config $ODJ_DOMAIN : range = 2000000-2999999
	    winbind use default domain = no
	    winbind offline logon = no
	    winbind scan trusted domains = no
	EOF
	mv -f "$CONF.tmp.$$" "$CONF"
}

client_name() {
	sed -n 's/^[[:space:]]*netbios name = //p' "$CONF" | head -n1
}

client_ip() {
	sed -n 's/^[[:space:]]*interfaces = \(.*\)\/8$/\1/p' "$CONF" | head -n1
}

cmd_new() {
	[ $# = 2 ] || [ $# = 3 ] || usage
	local name ip=${3:-}
	name=${2^^}
	case $name in
	'' | *[!A-Z0-9-]* | ???????????????*) odj_die "bad NETBIOSNAME '$2' (A-Z 0-9 -, at most 15)" ;;
	esac
	case $ip in
	'') ;;
	127.*.*.*) ;;
	*) odj_die "IP $ip is not in 127.0.0.0/8" ;;
	esac
	(
		exec 9>>"$ODJ_DC_PREFIX/env/.lock"
		flock 9
		export _ODJ_ENV_LOCK_HELD=1
		if [ -s "$CONF" ]; then
			[ "$(client_name)" = "$name" ] ||
				odj_die "$CONF exists with netbios name $(client_name), not $name"
			[ -z "$ip" ] || [ "$(client_ip)" = "$ip" ] ||
				odj_die "$CONF exists with IP $(client_ip), not $ip"
			ip=$(client_ip)
		elif [ -z "$ip" ]; then
			ip=$(pick_ip)
		fi
		register_client "$name" "$ip"
		[ -s "$CONF" ] || write_client_smbconf "$name" "$ip"
		printf '%s\n' "$ODJ_DC_PREFIX" >"$CP/dc-prefix"
	)
	odj_say "client $name ($(client_ip)) in $CP"
	printf '%s\n' "$CONF"
}

require_conf() {
	[ -s "$CONF" ] || odj_die "no client config $CONF (client.sh new first)"
}

# Trap 6: libwbclient users find this winbindd only through
# SELFTEST_WINBINDD_SOCKET_DIR, with nss_wrapper active (env.sh sets that up).
client_exec_env() {
	local lc
	lc=$(client_name)
	lc=${lc,,}
	env SELFTEST_WINBINDD_SOCKET_DIR="$WB_SOCKDIR" \
		NSS_WRAPPER_HOSTNAME="$lc.$ODJ_DNS_DOMAIN" \
		KRB5CCNAME="FILE:$CP/krb5cc" \
		KRB5_KTNAME="FILE:$CP/private/krb5.keytab" \
		ODJ_CLIENT_PREFIX="$CP" \
		ODJ_CLIENT_SMBCONF="$CONF" \
		"$@"
}

wb_master_pid() {
	local pid
	pid=$(odj_read_pidfile "$WB_PIDFILE") || return 1
	odj_alive "$pid" || return 1
	[ "$(odj_exe "$pid")" = /usr/sbin/winbindd ] || return 1
	printf '%s\n' "$pid"
}

client_all_pids() {
	local master
	{
		if master=$(wb_master_pid); then
			odj_pids_related "$master"
		fi
		odj_pids_matching "$CP/"
	} | sort -un
}

check_winbindd() {
	client_exec_env wbinfo -p && client_exec_env wbinfo -P
}

cmd_start_winbindd() {
	local pid i t0
	require_conf
	if pid=$(wb_master_pid); then
		odj_say "winbindd already running for $CP (pid $pid)"
		return 0
	fi
	t0=$(odj_now_ms)
	rm -f "$WB_PIDFILE"
	client_exec_env winbindd -D --configfile="$CONF" --log-basename="$CP/log" </dev/null >>"$CP/log/winbindd.stdout" 2>&1 ||
		odj_die "winbindd -D failed"
	for ((i = 0; i < 200; i++)); do
		pid=$(wb_master_pid) && break
		sleep 0.05
	done
	if [ -z "${pid:-}" ]; then
		tail -n 20 "$CP/log/log.winbindd" >&2 2>/dev/null || true
		odj_die "winbindd wrote no pid file $WB_PIDFILE"
	fi
	if ! odj_wait_for "winbindd ping" "${ODJ_DC_TIMEOUT:-60}" "$CP/log/check.log" check_winbindd; then
		tail -n 20 "$CP/log/log.winbindd" >&2 2>/dev/null || true
		cmd_stop
		exit 1
	fi
	odj_say "winbindd for $(client_name) ready, pid $pid, in $(odj_elapsed "$t0") s"
}

cmd_stop() {
	local pids
	pids=$(client_all_pids)
	if [ -n "$pids" ]; then
		odj_say "stopping client processes of $CP:" $pids
		odj_stop_pids 10 $pids
	fi
	rm -f "$WB_PIDFILE"
}

# tdbdump prints every byte outside printable ASCII (and backslash, quote) as
# \XX; the stored password is NUL-terminated UTF-8.
cmd_machine_password() {
	local raw
	require_conf
	raw=$(tdbdump -k "SECRETS/MACHINE_PASSWORD/$ODJ_DOMAIN" "$CP/private/secrets.tdb") ||
		odj_die "no machine password in $CP/private/secrets.tdb (not joined?)"
	raw=${raw%\\00}
	printf '%b' "$(printf '%s' "$raw" | sed 's/\\\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')"
}

cmd_keytab() {
	require_conf
	client_exec_env net ads keytab create -P --configfile="$CONF" >&2 ||
		odj_die "net ads keytab create failed"
	printf '%s\n' "$CP/private/krb5.keytab"
}

cmd_run() {
	[ $# -ge 1 ] || usage
	require_conf
	client_exec_env "$@"
}

main() {
	[ $# -ge 2 ] || usage
	local cmd=$1 cp
	shift
	case $cmd in
	new | start-winbindd | stop | run | smbconf | machine-password | keytab) ;;
	*) usage ;;
	esac
	if [ "$cmd" = new ]; then
		cp=$(odj_abspath "$1")
	elif [ -d "$1" ]; then
		cp=$(cd -- "$1" && pwd -P)
	elif [ "$cmd" = stop ]; then
		return 0
	else
		odj_die "no client prefix $1 (client.sh new first)"
	fi
	shift
	load_env "$cp"
	case $cmd in
	new) cmd_new "$cp" "$@" ;;
	start-winbindd) [ $# = 0 ] || usage; cmd_start_winbindd ;;
	stop) [ $# = 0 ] || usage; cmd_stop ;;
	run) cmd_run "$@" ;;
	smbconf) [ $# = 0 ] || usage; require_conf; printf '%s\n' "$CONF" ;;
	machine-password) [ $# = 0 ] || usage; cmd_machine_password ;;
	keytab) [ $# = 0 ] || usage; cmd_keytab ;;
	esac
}

main "$@"
