#!/bin/bash
# Throwaway Samba AD DC for realm ODJ.TEST on loopback.
#
#   dc.sh start PREFIX    provision once into PREFIX/dc, start samba, wait
#   dc.sh stop PREFIX     stop the DC and every other Samba process of PREFIX
#                         (client winbindds too), by pid
#   dc.sh status PREFIX   exit 0 if the DC of PREFIX is running
#   dc.sh destroy PREFIX  stop, then remove PREFIX
#
# ODJ_DC_IP (default 127.0.0.10) is read when PREFIX is first created.
# ODJ_DC_TIMEOUT (default 60) bounds each readiness wait, in seconds.
set -eu

ODJ_PROG=dc.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	printf 'usage: %s start|stop|status|destroy PREFIX\n' "$0" >&2
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
# The dnsupdate service's samba_dnsupdate asks the nameserver of
# /etc/resolv.conf (non-loopback here) unless RESOLV_CONF is set, and
# provision already wrote the DNS records; kcc only matters with several DCs.
# Both are off. nbt, wrepl and ntp_signd are
# not needed on loopback and save processes on 2-core machines.
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
	    prefork children = 2
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
	# provision gives the DC only HOST/ SPNs; the rest (ldap/, GC/, ...) come
	# from samba_spnupdate, which the dnsupdate service would run at every
	# start. It works on the local sam.ldb, so it runs once, here.
	if ! samba_spnupdate --configfile="$DC_CONF" >>"$out" 2>&1; then
		odj_say "samba_spnupdate failed; $out:"
		tail -n 30 "$out" >&2
		exit 1
	fi
	make_tls_certs
	: >"$ODJ_DC_PREFIX/.provisioned"
	odj_say "provisioned in $(odj_elapsed "$t0") s"
}

# samba's own first-start key generation (RSA 4096) costs about 3 s on these
# machines; a 2048-bit CA and host certificate from certtool take 0.3 s.
make_tls_certs() {
	local tls=$DC/private/tls tmp
	command -v certtool >/dev/null 2>&1 || return 0
	mkdir -p "$tls"
	tmp=$(mktemp -d "$DC/tls.XXXXXX")
	cat >"$tmp/ca.tmpl" <<-EOF
	organization = "samba-odj test"
	cn = "samba-odj test CA for $ODJ_REALM"
	ca
	cert_signing_key
	expiration_days = 3650
	EOF
	cat >"$tmp/host.tmpl" <<-EOF
	organization = "samba-odj test"
	cn = "$ODJ_DC_NAME"
	dns_name = "$ODJ_DC_NAME"
	dns_name = "$ODJ_DC_NETBIOS.$ODJ_DNS_DOMAIN"
	ip_address = "$ODJ_DC_IP"
	tls_www_server
	tls_www_client
	signing_key
	encryption_key
	expiration_days = 3650
	EOF
	if {
		certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$tmp/ca-key.pem" &&
			certtool --generate-self-signed --load-privkey "$tmp/ca-key.pem" \
				--template "$tmp/ca.tmpl" --outfile "$tmp/ca.pem" &&
			certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$tmp/key.pem" &&
			certtool --generate-certificate --load-privkey "$tmp/key.pem" \
				--load-ca-certificate "$tmp/ca.pem" --load-ca-privkey "$tmp/ca-key.pem" \
				--template "$tmp/host.tmpl" --outfile "$tmp/cert.pem"
	} >>"$DC_LOG/provision.log" 2>&1; then
		chmod 600 "$tmp/key.pem"
		mv -f "$tmp/ca.pem" "$tmp/cert.pem" "$tmp/key.pem" "$tls/"
	else
		odj_say "certtool failed (see $DC_LOG/provision.log); samba will make its own TLS keys"
	fi
	rm -rf -- "$tmp"
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
	rm -f "$DC_PIDFILE"
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
		KRB5CCNAME="FILE:$DC/check-krb5cc" kinit "$ODJ_ADMIN_USER@$ODJ_REALM" &&
		KRB5CCNAME="FILE:$DC/check-krb5cc" kdestroy
}

# A stdlib-only query straight to the DC (resolv_wrapper would answer from its
# hosts file instead). /usr/bin/python3: the python3 first on PATH may be a
# pyenv one without Debian's modules.
check_dns() {
	/usr/bin/python3 - "$ODJ_DC_IP" "$ODJ_DC_NAME" "_ldap._tcp.$ODJ_DNS_DOMAIN" <<-'EOF'
	import socket, struct, sys
	ip, a_name, srv_name = sys.argv[1:4]
	def query(name, qtype):
	    q = struct.pack(">HHHHHH", 0x4f44, 0x0100, 1, 0, 0, 0)
	    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split("."))
	    q += b"\0" + struct.pack(">HH", qtype, 1)
	    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	    s.settimeout(1)
	    s.sendto(q, (ip, 53))
	    r = s.recv(4096)
	    tid, flags, _, ancount = struct.unpack(">HHHH", r[:8])
	    if tid != 0x4f44 or flags & 0xf != 0 or ancount == 0:
	        sys.exit("%s type %d: rcode %d, %d answers" % (name, qtype, flags & 0xf, ancount))
	    return r
	if socket.inet_aton(ip) not in query(a_name, 1):
	    sys.exit("%s does not resolve to %s" % (a_name, ip))
	query(srv_name, 33)
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

# Several prefixes may run at once; a second DC on the same address would
# fail to bind and its clients would silently talk to the first one.
check_address_free() {
	local port
	for port in 389 88 445 53; do
		if odj_tcp_listening "$ODJ_DC_IP" "$port"; then
			odj_die "$ODJ_DC_IP:$port is already in use (another prefix's DC?); create this prefix with another ODJ_DC_IP"
		fi
	done
}

require_tools() {
	local t pkg missing=
	for t in samba:samba samba-tool:samba-common-bin samba_spnupdate:samba \
		ldbsearch:ldb-tools kinit:krb5-user smbclient:smbclient \
		net:samba-common-bin tdbdump:tdb-tools; do
		command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
	done
	[ -z "$missing" ] || odj_die "missing tools; install the packages:$missing"
	[ -e /usr/share/samba/setup/provision.ldif ] ||
		odj_die "samba-ad-provision is not installed (trap 1)"
}

cmd_start() {
	local t0 pid i
	require_tools
	if pid=$(dc_master_pid); then
		odj_say "DC already running for $ODJ_DC_PREFIX (pid $pid)"
		ensure_admin_conf
		wait_ready || dc_fail "running DC does not answer"
		return 0
	fi
	dc_stop_processes
	check_address_free
	provision
	ensure_admin_conf
	# smbd reads SYSVOL as the connecting account's uid: a member's
	# machine account (sssd's gpo_child) must traverse a mktemp -d prefix
	chmod go+x "$ODJ_DC_PREFIX" "$DC"
	t0=$(odj_now_ms)
	dc_exec_env samba -D --configfile="$DC_CONF" --log-basename="$DC_LOG" \
		</dev/null >>"$DC_LOG/samba.stdout" 2>&1 || dc_fail "samba -D failed"
	for ((i = 0; i < 200; i++)); do
		pid=$(dc_master_pid) && break
		sleep 0.05
	done
	[ -n "${pid:-}" ] || dc_fail "samba wrote no pid file $DC_PIDFILE"
	wait_ready || dc_fail "DC did not become ready"
	odj_say "DC $ODJ_DC_NAME ($ODJ_DC_IP) ready, pid $pid, in $(odj_elapsed "$t0") s"
}

# Client winbindds of the prefix (client.sh start-winbindd) and any other
# Samba process whose command line names the prefix.
prefix_other_pids() {
	local f pid
	{
		for f in "$ODJ_DC_PREFIX"/admin/run/winbindd.pid "$ODJ_DC_PREFIX"/clients/*/run/winbindd.pid; do
			[ -e "$f" ] || continue
			pid=$(odj_read_pidfile "$f") || continue
			odj_alive "$pid" || continue
			[ "$(odj_exe "$pid")" = /usr/sbin/winbindd ] || continue
			odj_pids_related "$pid"
		done
		odj_pids_matching "$ODJ_DC_PREFIX/"
	} | sort -un
}

cmd_stop() {
	local t0 pids
	t0=$(odj_now_ms)
	dc_stop_processes
	pids=$(prefix_other_pids)
	if [ -n "$pids" ]; then
		odj_say "stopping client processes of $ODJ_DC_PREFIX:" $pids
		odj_stop_pids 10 $pids
	fi
	odj_say "DC of $ODJ_DC_PREFIX stopped in $(odj_elapsed "$t0") s"
}

# Trap 12: everything is stopped before the prefix is removed.
cmd_destroy() {
	[ -e "$ODJ_DC_PREFIX/env/dc-ip" ] ||
		odj_die "$ODJ_DC_PREFIX does not look like a dc.sh prefix; not removing it"
	cmd_stop
	rm -rf -- "$ODJ_DC_PREFIX"
	odj_say "removed $ODJ_DC_PREFIX"
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
	case $cmd in start | stop | status | destroy) ;; *) usage ;; esac
	if [ "$cmd" != start ] && ! [ -d "$2/env" ]; then
		odj_say "no prefix $2"
		[ "$cmd" = status ] && exit 1
		exit 0
	fi
	prefix=$(odj_abspath "$2")
	. "$ODJ_ENV_DIR/env.sh" "$prefix"
	dc_paths
	"cmd_$cmd"
}

main "$@"
