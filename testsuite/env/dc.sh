#!/bin/bash
# Throwaway Samba AD DC for realm ODJ.TEST on loopback.
#
#   dc.sh start PREFIX    provision once into PREFIX/dc, start samba, wait
#   dc.sh stop PREFIX     stop every Samba process of PREFIX, by pid
#   dc.sh status PREFIX   exit 0 if the DC of PREFIX is running
#
# ODJ_DC_IP (default 127.0.0.10) is read when PREFIX is first created.
# ODJ_DC_TIMEOUT (default 60) bounds each readiness wait, in seconds.
set -eu

ODJ_PROG=dc.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	printf 'usage: %s start|stop|status PREFIX\n' "$0" >&2
	exit 2
}

dc_paths() {
	DC=$ODJ_DC_PREFIX/dc
	DC_CONF=$ODJ_DC_SMBCONF
	DC_PIDFILE=$DC/run/samba.pid
	DC_LOG=$DC/log
}

# Trap 2: an existing non-empty smb.conf is used as is by provision, so it is
# written first, with every path under the prefix and no dns forwarder.
# Trap 3: the /8 suffix is what makes samba bind exactly this address.
write_dc_smbconf() {
	mkdir -p "$DC/etc" "$DC/private" "$DC/bind-dns" "$DC/state/sysvol" \
		"$DC/cache" "$DC/lock" "$DC/run/ncalrpc" "$DC/run/winbindd" \
		"$DC/run/ntp_signd" "$DC_LOG"
	cat >"$DC_CONF" <<-EOF
	[global]
	    netbios name = $ODJ_DC_NETBIOS
	    workgroup = $ODJ_DOMAIN
	    realm = $ODJ_REALM
	    server role = active directory domain controller
	    interfaces = $ODJ_DC_IP/8
	    bind interfaces only = yes
	    disable netbios = yes
	    dns forwarder =
	    server services = -nbt -wrepl -kcc -dnsupdate -ntp_signd
	    dns update command = /bin/false
	    spn update command = /bin/false
	    samba kcc command = /bin/false
	    private dir = $DC/private
	    binddns dir = $DC/bind-dns
	    state directory = $DC/state
	    cache directory = $DC/cache
	    lock directory = $DC/lock
	    pid directory = $DC/run
	    ncalrpc dir = $DC/run/ncalrpc
	    winbindd socket directory = $DC/run/winbindd
	    ntp signd socket directory = $DC/run/ntp_signd
	    smb passwd file = $DC/private/smbpasswd
	    usershare path = $DC/state/usershares
	    log file = $DC_LOG/log.%m
	    max log size = 0
	    log level = 1
	    load printers = no
	    printing = bsd
	    printcap name = /dev/null
	    disable spoolss = yes
	    template homedir = $DC/home/%D/%U
	    idmap_ldb:use rfc2307 = yes

	[sysvol]
	    path = $DC/state/sysvol
	    read only = no

	[netlogon]
	    path = $DC/state/sysvol/$ODJ_DNS_DOMAIN/scripts
	    read only = no
	EOF
}

provision() {
	local t0 out=$DC_LOG/provision.log
	if [ -e "$ODJ_DC_PREFIX/.provisioned" ]; then
		return 0
	fi
	dc_stop_processes
	rm -rf -- "$DC"
	write_dc_smbconf
	odj_say "provisioning $ODJ_REALM into $DC"
	t0=$(odj_now_ms)
	if ! samba-tool domain provision \
		--configfile="$DC_CONF" \
		--server-role=dc \
		--realm="$ODJ_REALM" \
		--domain="$ODJ_DOMAIN" \
		--host-name=dc1 \
		--host-ip="$ODJ_DC_IP" \
		--adminpass="$ODJ_ADMIN_PASS" \
		--dns-backend=SAMBA_INTERNAL \
		--use-rfc2307 \
		>"$out" 2>&1; then
		odj_say "provision failed; $out:"
		tail -n 30 "$out" >&2
		exit 1
	fi
	: >"$ODJ_DC_PREFIX/.provisioned"
	odj_say "provisioned in $(odj_elapsed "$t0") s"
}

dc_master_pid() {
	local pid
	pid=$(odj_read_pidfile "$DC_PIDFILE") || return 1
	odj_alive "$pid" || return 1
	[ "$(odj_exe "$pid")" = /usr/sbin/samba ] || return 1
	printf '%s\n' "$pid"
}

# Trap 12: helpers (samba-dcerpcd, rpcd_*, winbindd) carry --configfile under
# the prefix; forked samba tasks rename themselves, hence the process tree.
dc_all_pids() {
	local master
	{
		if master=$(dc_master_pid); then
			odj_pids_related "$master"
		fi
		odj_pids_matching "$DC/"
	} | sort -un
}

dc_stop_processes() {
	local pids
	pids=$(dc_all_pids)
	[ -n "$pids" ] || return 0
	odj_say "stopping DC processes:" $pids
	odj_stop_pids 10 $pids
}

# The DC runs under the same wrappers as the clients, plus its own winbindd
# socket for its smbd (trap 6) and its own hostname.
dc_exec_env() {
	env NSS_WRAPPER_HOSTNAME="$ODJ_DC_NAME" \
		SELFTEST_WINBINDD_SOCKET_DIR="$DC/run/winbindd" \
		KRB5CCNAME="FILE:$DC/krb5cc" \
		KRB5_KTNAME="FILE:$DC/private/krb5.keytab" \
		"$@"
}

check_ldap() {
	ldbsearch -H "ldap://$ODJ_DC_NAME" --configfile="$ODJ_ADMIN_SMBCONF" \
		-U "$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS" -s base -b '' dnsHostName |
		grep -qi "^dnsHostName: $ODJ_DC_NAME"
}

check_kerberos() {
	printf '%s\n' "$ODJ_ADMIN_PASS" |
		KRB5CCNAME="FILE:$DC/check-krb5cc" kinit "$ODJ_ADMIN_USER@$ODJ_REALM"
	KRB5CCNAME="FILE:$DC/check-krb5cc" kdestroy
}

check_dns() {
	python3 - "$ODJ_DC_IP" "$ODJ_DC_NAME" "$ODJ_DNS_DOMAIN" <<-'EOF'
	import sys, dns.resolver
	ip, name, domain = sys.argv[1:4]
	r = dns.resolver.Resolver(configure=False)
	r.nameservers = [ip]
	r.lifetime = 2
	a = [x.address for x in r.resolve(name, "A")]
	assert ip in a, a
	srv = [str(x.target).rstrip(".").lower() for x in
	       r.resolve("_ldap._tcp." + domain, "SRV")]
	assert name in srv, srv
	EOF
}

check_smb() {
	smbclient "//$ODJ_DC_NAME/netlogon" --configfile="$ODJ_ADMIN_SMBCONF" \
		-U "$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS" -c ls
}

wait_ready() {
	local t=${ODJ_DC_TIMEOUT:-60} log=$DC/check.log what
	for what in ldap kerberos dns smb; do
		odj_wait_for "$what" "$t" "$log" "check_$what" || return 1
	done
}

ensure_admin_conf() {
	[ -s "$ODJ_ADMIN_SMBCONF" ] && return 0
	"$ODJ_ENV_DIR/client.sh" new "$ODJ_DC_PREFIX/admin" ODJADMIN >/dev/null
}

dc_fail() {
	odj_say "$1; last lines of $DC_LOG/log.samba:"
	tail -n 30 "$DC_LOG/log.samba" >&2 2>/dev/null || true
	dc_stop_processes || true
	exit 1
}

cmd_start() {
	local t0 pid i
	provision
	ensure_admin_conf
	if pid=$(dc_master_pid); then
		odj_say "DC already running for $ODJ_DC_PREFIX (pid $pid)"
		wait_ready || dc_fail "running DC does not answer"
		return 0
	fi
	dc_stop_processes
	rm -f "$DC_PIDFILE"
	t0=$(odj_now_ms)
	dc_exec_env samba -D --configfile="$DC_CONF" </dev/null >>"$DC_LOG/samba.stdout" 2>&1 ||
		dc_fail "samba -D failed"
	for i in $(seq 100); do
		pid=$(dc_master_pid) && break
		sleep 0.1
	done
	[ -n "${pid:-}" ] || dc_fail "samba wrote no pid file $DC_PIDFILE"
	wait_ready || dc_fail "DC did not become ready"
	odj_say "DC $ODJ_DC_NAME ($ODJ_DC_IP) ready, pid $pid, in $(odj_elapsed "$t0") s"
}

cmd_stop() {
	local t0
	t0=$(odj_now_ms)
	dc_stop_processes
	rm -f "$DC_PIDFILE"
	odj_say "DC of $ODJ_DC_PREFIX stopped in $(odj_elapsed "$t0") s"
}

cmd_status() {
	local pid
	if pid=$(dc_master_pid); then
		odj_say "DC running for $ODJ_DC_PREFIX (pid $pid)"
		return 0
	fi
	odj_say "DC not running for $ODJ_DC_PREFIX"
	return 1
}

main() {
	[ $# = 2 ] || usage
	local cmd=$1 prefix
	case $cmd in start | stop | status) ;; *) usage ;; esac
	prefix=$(odj_abspath "$2")
	. "$ODJ_ENV_DIR/env.sh" "$prefix"
	dc_paths
	"cmd_$cmd"
}

main "$@"
