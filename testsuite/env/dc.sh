#!/bin/bash
# Throwaway Samba AD DCs for realm ODJ.TEST on loopback.
#
#   dc.sh start PREFIX [DC...]   provision dc1 once into PREFIX/dc, start it,
#                                wait; with DC names: start those (joined) DCs
#   dc.sh stop PREFIX [DC...]    stop every DC and every other Samba process
#                                of PREFIX (client winbindds too), by pid;
#                                with DC names: stop only those DCs
#   dc.sh status PREFIX [DC]     exit 0 if that DC (default dc1) is running
#   dc.sh destroy PREFIX         stop everything, then remove PREFIX
#   dc.sh add-dc PREFIX          a second writable DC dc2 in site Site2:
#                                join once into PREFIX/dc2, start, wait,
#                                replicate
#   dc.sh add-rodc PREFIX        a read-only DC rodc1 in site Branch, the same
#                                way, in PREFIX/rodc1
#   dc.sh replicate PREFIX [DEST SRC [NC...]]
#                                force replication (samba-tool drs replicate)
#                                of the NCs (default DOMAIN CONFIG; also
#                                DomainDnsZones ForestDnsZones, or a DN):
#                                DEST pulls from SRC, by default both ways
#                                between the writable DCs and dc1 -> rodc1
#   dc.sh dns PREFIX add|delete NAME TYPE DATA
#                                add or delete a record in the domain's DNS
#                                (on dc1; NAME fully qualified)
#   dc.sh dns PREFIX locator|locator-delete
#                                the records of site Locator (DC choice):
#                                rodc1, nodc, dc2 and dc1 with priorities
#                                and weights
#
# DC names: dc1, dc2, rodc1, writable (dc1 and, if joined, dc2) and all.
# ODJ_DC_IP (default 127.0.0.10) is read when PREFIX is first created;
# ODJ_DC2_IP, ODJ_RODC_IP and ODJ_NODC_IP (an address where no DC answers)
# when add-dc / add-rodc first give those an address (default: the first
# free 127.0.0.x above ODJ_DC_IP). ODJ_DC_TIMEOUT (default 60) bounds each
# readiness wait, in seconds.
#
# With several DCs, `stop PREFIX writable` leaves the RODC alone (its KDC
# then answers only for accounts whose secrets it caches) and
# `start PREFIX writable` brings the writable DCs back.
set -eu

ODJ_PROG=dc.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
	sed -n '3,/^set -eu/{/^#/s/^# \{0,1\}//p}' "$0" >&2
	exit 2
}

# dc_select ID: the DC that the functions below act on. dc1 is the first DC
# (provisioned, PREFIX/dc); dc2 a second writable DC (PREFIX/dc2, site
# Site2) and rodc1 a read-only DC (PREFIX/rodc1, site Branch), both joined
# by add-dc / add-rodc.
dc_select() {
	DC_ID=$1
	case $DC_ID in
	dc1)
		DC=$ODJ_DC_PREFIX/dc DC_NAME=$ODJ_DC_NAME
		DC_NETBIOS=$ODJ_DC_NETBIOS DC_IP=$ODJ_DC_IP
		DC_SITE=$ODJ_DC_SITE DC_ROLE=first DC_KRB5_CONFIG=$KRB5_CONFIG
		;;
	dc2)
		DC=$ODJ_DC_PREFIX/dc2 DC_NAME=$ODJ_DC2_NAME
		DC_NETBIOS=$ODJ_DC2_NETBIOS DC_IP=$ODJ_DC2_IP
		DC_SITE=$ODJ_DC2_SITE DC_ROLE=DC
		DC_KRB5_CONFIG=$ODJ_DC2_KRB5_CONFIG
		;;
	rodc1)
		DC=$ODJ_DC_PREFIX/rodc1 DC_NAME=$ODJ_RODC_NAME
		DC_NETBIOS=$ODJ_RODC_NETBIOS DC_IP=$ODJ_RODC_IP
		DC_SITE=$ODJ_RODC_SITE DC_ROLE=RODC
		DC_KRB5_CONFIG=$ODJ_RODC_KRB5_CONFIG
		;;
	*) odj_die "no DC '$DC_ID' (dc1, dc2 or rodc1)" ;;
	esac
	DC_CONF=$DC/etc/smb.conf
	DC_PIDFILE=$DC/run/samba.pid
	DC_LOG=$DC/log
}

dc_joined() {
	[ "$DC_ID" = dc1 ] || [ -e "$DC/.joined" ]
}

# Trap 2: an existing non-empty smb.conf is used as is by provision (and
# join), so it is written first, with every path under the prefix and no dns
# forwarder.
# Trap 3: the /8 suffix is what makes samba bind exactly this address.
# The dnsupdate service's samba_dnsupdate asks the nameserver of
# /etc/resolv.conf (non-loopback here) unless RESOLV_CONF is set, and
# provision (or add-dc) already wrote the DNS records; the KCC would build
# replication connections on its own schedule, while dc.sh replicate does
# it when a test asks. Both are off. nbt, wrepl and ntp_signd are not needed
# on loopback and save processes on 2-core machines.
# Trap 15: the ntp_signd socket directory must be 0750 on a joined DC even
# so.
write_dc_smbconf() {
	mkdir -p "$DC/etc" "$DC/private" "$DC/bind-dns" "$DC/state/sysvol" \
		"$DC/cache" "$DC/lock" "$DC/run/ncalrpc" "$DC/run/winbindd" \
		"$DC/run/ntp_signd" "$DC_LOG"
	chmod 0750 "$DC/run/ntp_signd"
	cat >"$DC_CONF" <<-EOF
	[global]
	    netbios name = $DC_NETBIOS
	    workgroup = $ODJ_DOMAIN
	    realm = $ODJ_REALM
	    server role = active directory domain controller
	    interfaces = $DC_IP/8
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
	$(dc_role_options)

	[sysvol]
	    path = $DC/state/sysvol
	    read only = no

	[netlogon]
	    path = $DC/state/sysvol/$ODJ_DNS_DOMAIN/scripts
	    read only = no
	EOF
}

# Trap 7: an RODC's winbindd forwards NTLM logons to a writable DC, which
# it would look for with /etc/resolv.conf's nameserver. Its KDC forwards
# what it cannot answer (accounts not cached, wrong passwords) to the
# writable DCs of its repsFrom and waits "kdc:proxy timeout" (5 s) for each
# try: with the writable DCs stopped a failing kinit took 27 s.
dc_role_options() {
	[ "$DC_ROLE" = RODC ] || return 0
	printf '    password server = %s\n' "$ODJ_DC_NAME"
	printf '    kdc:proxy timeout = 1\n'
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
	cn = "samba-odj test CA for $ODJ_REALM ($DC_ID)"
	ca
	cert_signing_key
	expiration_days = 3650
	EOF
	cat >"$tmp/host.tmpl" <<-EOF
	organization = "samba-odj test"
	cn = "$DC_NAME"
	dns_name = "$DC_NAME"
	dns_name = "$DC_NETBIOS.$ODJ_DNS_DOMAIN"
	ip_address = "$DC_IP"
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
# "$DC/" never matches another DC's directory (PREFIX/dc/ vs PREFIX/dc2/).
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
	odj_say "stopping $DC_ID processes:" $pids
	odj_stop_pids 10 $pids
}

# The DC runs under the same wrappers as the clients, plus its own winbindd
# socket for its smbd (trap 6), its own hostname and its own KDC, and it
# resolves the replication partners' GUID names (dns-hosts-dcs).
dc_exec_env() {
	env NSS_WRAPPER_HOSTNAME="$DC_NAME" \
		RESOLV_WRAPPER_HOSTS="$ODJ_DC_PREFIX/env/dns-hosts-dcs" \
		SELFTEST_WINBINDD_SOCKET_DIR="$DC/run/winbindd" \
		KRB5_CONFIG="$DC_KRB5_CONFIG" \
		KRB5CCNAME="FILE:$DC/krb5cc" \
		KRB5_KTNAME="FILE:$DC/private/krb5.keytab" \
		"$@"
}

admin_creds() { printf '%s%%%s' "$ODJ_ADMIN_USER" "$ODJ_ADMIN_PASS"; }

check_ldap() {
	ldbsearch -H "ldap://$DC_NAME" --configfile="$ODJ_ADMIN_SMBCONF" \
		-U "$(admin_creds)" -s base -b '' dnsHostName |
		grep -qi "^dnsHostName: $DC_NAME"
}

# Against this DC's KDC alone. An RODC answers for the administrator by
# forwarding to a writable DC (the administrator's secrets are never cached
# on an RODC), which is up whenever a DC is started.
check_kerberos() {
	printf '%s\n' "$ODJ_ADMIN_PASS" |
		KRB5_CONFIG=$DC_KRB5_CONFIG KRB5CCNAME="FILE:$DC/check-krb5cc" \
			kinit "$ODJ_ADMIN_USER@$ODJ_REALM" &&
		KRB5CCNAME="FILE:$DC/check-krb5cc" kdestroy
}

# A stdlib-only query straight to the DC (resolv_wrapper would answer from its
# hosts file instead). /usr/bin/python3: the python3 first on PATH may be a
# pyenv one without Debian's modules. Every DC holds dc1's records (a joined
# DC has them from the join; its own appear after replication).
check_dns() {
	/usr/bin/python3 - "$DC_IP" "$ODJ_DC_NAME" "$ODJ_DC_IP" "_ldap._tcp.$ODJ_DNS_DOMAIN" <<-'EOF'
	import socket, struct, sys
	ip, a_name, a_ip, srv_name = sys.argv[1:5]
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
	if socket.inet_aton(a_ip) not in query(a_name, 1):
	    sys.exit("%s does not resolve to %s" % (a_name, a_ip))
	query(srv_name, 33)
	EOF
}

check_smb() {
	smbclient "//$DC_NAME/netlogon" --configfile="$ODJ_ADMIN_SMBCONF" \
		-U "$(admin_creds)" -c ls
}

wait_ready() {
	local t=${ODJ_DC_TIMEOUT:-60} log=$DC/check.log what
	for what in ldap kerberos dns smb; do
		odj_wait_for "$DC_ID $what" "$t" "$log" "check_$what" || return 1
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
		if odj_tcp_listening "$DC_IP" "$port"; then
			odj_die "$DC_IP:$port is already in use (another prefix's DC?); create this prefix with another ODJ_DC_IP (ODJ_DC2_IP, ODJ_RODC_IP)"
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

# launch_one: starts samba for the selected DC (dc1 is provisioned first if
# need be) and returns once it wrote its pid file; ready_one waits until it
# answers. Several DCs start at once: launch each, then wait for each.
launch_one() {
	local pid i
	DC_T0=$(odj_now_ms)
	if pid=$(dc_master_pid); then
		odj_say "$DC_ID already running for $ODJ_DC_PREFIX (pid $pid)"
		ensure_admin_conf
		DC_T0=
		return 0
	fi
	dc_joined || odj_die "$DC_ID is not joined in $ODJ_DC_PREFIX (dc.sh add-dc / add-rodc first)"
	dc_stop_processes
	check_address_free
	[ "$DC_ID" != dc1 ] || provision
	ensure_admin_conf
	# smbd reads SYSVOL as the connecting account's uid: a member's
	# machine account (sssd's gpo_child) must traverse a mktemp -d prefix
	chmod go+x "$ODJ_DC_PREFIX" "$DC"
	DC_T0=$(odj_now_ms)
	dc_exec_env samba -D --configfile="$DC_CONF" --log-basename="$DC_LOG" \
		</dev/null >>"$DC_LOG/samba.stdout" 2>&1 || dc_fail "samba -D failed"
	for ((i = 0; i < 200; i++)); do
		pid=$(dc_master_pid) && return 0
		sleep 0.05
	done
	dc_fail "samba wrote no pid file $DC_PIDFILE"
}

ready_one() {
	local t0=$1 pid
	wait_ready || dc_fail "$DC_ID did not become ready"
	[ -n "$t0" ] || return 0
	pid=$(dc_master_pid) || dc_fail "$DC_ID exited"
	odj_say "$DC_ID $DC_NAME ($DC_IP) ready, pid $pid, in $(odj_elapsed "$t0") s"
}

start_one() {
	launch_one
	ready_one "$DC_T0"
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

# DC names on the command line to DC ids, in start order (stop reverses it).
expand_dcs() {
	local a id
	DC_IDS=
	for a in "$@"; do
		case $a in
		dc1 | dc2 | rodc1) DC_IDS="$DC_IDS $a" ;;
		writable) DC_IDS="$DC_IDS dc1 dc2" ;;
		all) DC_IDS="$DC_IDS dc1 dc2 rodc1" ;;
		*) odj_die "no DC '$a' (dc1, dc2, rodc1, writable, all)" ;;
		esac
	done
	# "writable" and "all" name dc2 and rodc1 only if they were joined
	local out=
	for id in dc1 dc2 rodc1; do
		case " $DC_IDS " in *" $id "*) ;; *) continue ;; esac
		if [ "$id" != dc1 ] && ! [ -e "$ODJ_DC_PREFIX/$id/.joined" ]; then
			case " $* " in *" $id "*) ;; *) continue ;; esac
		fi
		out="$out $id"
	done
	DC_IDS=$out
}

cmd_start() {
	local id
	local -A t0
	require_tools
	[ $# -gt 0 ] || set -- dc1
	expand_dcs "$@"
	for id in $DC_IDS; do
		dc_select "$id"
		launch_one
		t0[$id]=$DC_T0
	done
	for id in $DC_IDS; do
		dc_select "$id"
		ready_one "${t0[$id]}"
	done
}

cmd_stop() {
	local t0 pids id
	t0=$(odj_now_ms)
	if [ $# -gt 0 ]; then
		expand_dcs "$@"
		pids=$(for id in $DC_IDS; do
			dc_select "$id"
			dc_all_pids
			rm -f "$DC_PIDFILE"
		done | sort -un)
		if [ -n "$pids" ]; then
			odj_say "stopping$DC_IDS processes:" $pids
			odj_stop_pids 10 $pids
		fi
		odj_say "stopped$DC_IDS of $ODJ_DC_PREFIX in $(odj_elapsed "$t0") s"
		return 0
	fi
	for id in rodc1 dc2 dc1; do
		dc_select "$id"
		dc_stop_processes
	done
	pids=$(prefix_other_pids)
	if [ -n "$pids" ]; then
		odj_say "stopping client processes of $ODJ_DC_PREFIX:" $pids
		odj_stop_pids 10 $pids
	fi
	odj_say "DCs of $ODJ_DC_PREFIX stopped in $(odj_elapsed "$t0") s"
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
	dc_select "${1:-dc1}"
	if pid=$(dc_master_pid); then
		odj_say "$DC_ID running for $ODJ_DC_PREFIX (pid $pid)"
		return 0
	fi
	odj_say "$DC_ID not running for $ODJ_DC_PREFIX"
	return 1
}

# ---- more DCs: dc2 (writable, Site2) and rodc1 (read-only, Branch) ----

samba_tool_dc1() {
	samba-tool "$@" -H "ldap://$ODJ_DC_NAME" -U "$(admin_creds)" \
		--configfile="$ODJ_ADMIN_SMBCONF"
}

# Is anything listening on IP's DC ports (or on 389 for the no-DC address)?
ip_in_use() {
	local port
	for port in 389 88 445 53 3268; do
		odj_tcp_listening "$1" "$port" && return 0
	done
	return 1
}

# alloc_ip HOST WANTED: the address of HOST (dc2, rodc1, nodc) in
# env/dcs.list; given one first if need be: WANTED, or the first free
# 127.0.0.x above dc1's address (not dc1's, a client's or another DC's, and
# nothing listening on it). Then env.sh rewrites the hosts files.
alloc_ip() {
	local host=$1 want=$2 dir=$ODJ_DC_PREFIX/env ip
	ip=$(
		exec 9>>"$dir/.lock"
		flock 9
		list=$dir/dcs.list
		touch "$list"
		ip=$(awk -v h="$host" '$2 == h {print $1}' "$list")
		if [ -n "$ip" ] && [ -n "$want" ] && [ "$want" != "$ip" ]; then
			odj_say "note: $host has the address $ip in $ODJ_DC_PREFIX; ignoring $want"
		fi
		if [ -z "$ip" ]; then
			used=$(
				printf '%s\n' "$ODJ_DC_IP"
				cut -d' ' -f1 "$dir/clients.list" "$list" 2>/dev/null
			)
			if [ -n "$want" ]; then
				case $want in 127.*.*.*) ;; *) odj_die "$want is not in 127.0.0.0/8" ;; esac
				printf '%s\n' "$used" | grep -qx "$want" &&
					odj_die "$want is already used in $ODJ_DC_PREFIX"
				ip=$want
			else
				n=${ODJ_DC_IP##*.}
				while [ $((n += 1)) -le 254 ]; do
					cand=${ODJ_DC_IP%.*}.$n
					printf '%s\n' "$used" | grep -qx "$cand" && continue
					ip_in_use "$cand" && continue
					ip=$cand
					break
				done
				[ -n "$ip" ] || odj_die "no free address for $host"
			fi
			printf '%s %s\n' "$ip" "$host" >>"$list"
			rm -f "$dir/hosts"
		fi
		printf '%s\n' "$ip"
	) || exit 1
	. "$ODJ_ENV_DIR/env.sh" "$ODJ_DC_PREFIX"
}

# A site with a subnet (the DC's own address, /32), made once.
ensure_site() {
	local site=$1 subnet=$2
	if ! ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$(admin_creds)" \
		--configfile="$ODJ_ADMIN_SMBCONF" \
		-b "CN=Sites,CN=Configuration,$ODJ_BASE_DN" -s one \
		"(&(objectClass=site)(cn=$site))" dn 2>/dev/null | grep -q '^dn: '; then
		samba_tool_dc1 sites create "$site" >>"$DC_LOG/join.log" 2>&1 ||
			odj_die "samba-tool sites create $site failed (see $DC_LOG/join.log)"
	fi
	[ -n "$subnet" ] || return 0
	if ! ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$(admin_creds)" \
		--configfile="$ODJ_ADMIN_SMBCONF" \
		-b "CN=Subnets,CN=Sites,CN=Configuration,$ODJ_BASE_DN" -s one \
		"(cn=$subnet)" dn 2>/dev/null | grep -q '^dn: '; then
		samba_tool_dc1 sites subnet create "$subnet" "$site" \
			>>"$DC_LOG/join.log" 2>&1 ||
			odj_die "samba-tool sites subnet create $subnet failed (see $DC_LOG/join.log)"
	fi
}

# Trap 15: samba_dnsupdate skips loopback addresses, at the join and at
# start. For a writable DC, with --current-ip it registers everything
# Samba's dns_update_list names for it (A, the NTDS Settings GUID CNAME
# replication needs, the SRV records) on dc1, over RPC (--use-samba-tool,
# as the DC's machine account). An RODC's machine account may not
# (WERR_ACCESS_DENIED; a real RODC asks its writable DC through netlogon's
# DsrUpdateReadOnlyServerDnsRecords), so the administrator adds what
# dns_update_list names for an RODC: A, CNAME and its site's SRV records.
register_dns() {
	local guid srv out=$DC_LOG/join.log
	if [ "$DC_ROLE" = DC ]; then
		DC_KRB5_CONFIG=$KRB5_CONFIG dc_exec_env \
			samba_dnsupdate --configfile="$DC_CONF" \
			--current-ip="$DC_IP" --use-samba-tool \
			--rpc-server-ip="$ODJ_DC_IP" >>"$out" 2>&1 && return 0
		odj_say "samba_dnsupdate failed; $out:"
		tail -n 30 "$out" >&2
		exit 1
	fi
	guid=$(awk -v h="$DC_ID" '$2 == h {print $1}' "$ODJ_DC_PREFIX/env/dsa-guids")
	[ -n "$guid" ] || odj_die "no NTDS Settings GUID of $DC_ID in env/dsa-guids"
	rodc_dns_records "$guid" >>"$out" 2>&1 && return 0
	odj_say "adding $DC_ID's DNS records failed; $out:"
	tail -n 30 "$out" >&2
	exit 1
}

# Samba's spn_update_list (/usr/share/samba/setup), for the selected DC.
rodc_spns() {
	local guid host=$DC_NAME nb=$DC_NETBIOS spn
	guid=$(awk -v h="$DC_ID" '$2 == h {print $1}' "$ODJ_DC_PREFIX/env/dsa-guids")
	[ -n "$guid" ] || return 1
	{
		printf 'dn: CN=%s,OU=Domain Controllers,%s\n' "$nb" "$ODJ_BASE_DN"
		printf 'changetype: modify\nreplace: servicePrincipalName\n'
		for spn in "HOST/$host" "HOST/$host/$ODJ_DOMAIN" \
			"ldap/$host/$ODJ_DOMAIN" "GC/$host/$ODJ_DNS_DOMAIN" \
			"ldap/$host" "HOST/$host/$ODJ_DNS_DOMAIN" \
			"ldap/$host/$ODJ_DNS_DOMAIN" "HOST/$nb" \
			"E3514235-4B06-11D1-AB04-00C04FC2DCD2/$guid/$ODJ_DNS_DOMAIN" \
			"ldap/$guid._msdcs.$ODJ_DNS_DOMAIN" "ldap/$nb" \
			"RestrictedKrbHost/$nb" "RestrictedKrbHost/$host" \
			"ldap/$host/DomainDnsZones.$ODJ_DNS_DOMAIN" \
			"ldap/$host/ForestDnsZones.$ODJ_DNS_DOMAIN"; do
			printf 'servicePrincipalName: %s\n' "$spn"
		done
	} | ldbmodify -H "ldap://$ODJ_DC_NAME" -U "$(admin_creds)" \
		--configfile="$ODJ_ADMIN_SMBCONF"
}

rodc_dns_records() {
	local guid=$1 srv
	dns_record add "$DC_NAME" A "$DC_IP" || return 1
	dns_record add "$guid._msdcs.$ODJ_DNS_DOMAIN" CNAME "$DC_NAME" || return 1
	for srv in "_ldap._tcp.$DC_SITE._sites 389" \
		"_ldap._tcp.$DC_SITE._sites.dc._msdcs 389" \
		"_kerberos._tcp.$DC_SITE._sites 88" \
		"_kerberos._tcp.$DC_SITE._sites.dc._msdcs 88" \
		"_gc._tcp.$DC_SITE._sites 3268" \
		"_ldap._tcp.$DC_SITE._sites.gc._msdcs 3268"; do
		set -- $srv
		dns_record add "$1.$ODJ_DNS_DOMAIN" SRV "$DC_NAME $2 0 100" ||
			return 1
	done
}

# Joins the selected DC once (PREFIX/ID/.joined), as provision does for dc1.
join_dc() {
	local t0 out
	[ -e "$DC/.joined" ] && return 0
	dc_stop_processes
	rm -rf -- "$DC"
	write_dc_smbconf
	out=$DC_LOG/join.log
	ensure_site "$DC_SITE" "$DC_IP/32"
	odj_say "joining $DC_NAME ($DC_IP) as $DC_ROLE in site $DC_SITE"
	t0=$(odj_now_ms)
	# dc1's KDC: this DC's own does not run yet
	if ! DC_KRB5_CONFIG=$KRB5_CONFIG dc_exec_env \
		samba-tool domain join "$ODJ_DNS_DOMAIN" "$DC_ROLE" \
		--server="$ODJ_DC_NAME" --site="$DC_SITE" \
		--dns-backend=SAMBA_INTERNAL -U "$(admin_creds)" \
		--configfile="$DC_CONF" >>"$out" 2>&1; then
		odj_say "join failed; $out:"
		tail -n 30 "$out" >&2
		exit 1
	fi
	odj_say "joined in $(odj_elapsed "$t0") s"
	record_dsa_guids
	# the join gives a DC only HOST/, GC/ (and RestrictedKrbHost/) SPNs;
	# ldap/ and the rest come from samba_spnupdate. On a writable DC it
	# works on the DC's own sam.ldb; an RODC's would ask a writable DC
	# through DRS (DsWriteAccountSpn) and needs the RODC running, so the
	# administrator writes the RODC's on dc1 instead.
	if [ "$DC_ROLE" = DC ]; then
		DC_KRB5_CONFIG=$KRB5_CONFIG dc_exec_env \
			samba_spnupdate --configfile="$DC_CONF" >>"$out" 2>&1
	else
		rodc_spns >>"$out" 2>&1
	fi || {
		odj_say "setting $DC_ID's SPNs failed; $out:"
		tail -n 30 "$out" >&2
		exit 1
	}
	t0=$(odj_now_ms)
	register_dns
	odj_say "DNS records registered in $(odj_elapsed "$t0") s"
	make_tls_certs
	: >"$DC/.joined"
}

# env/dsa-guids: the objectGUID of every DC's NTDS Settings, for the
# <GUID>._msdcs CNAMEs the DCs resolve their replication partners by.
record_dsa_guids() {
	local dir=$ODJ_DC_PREFIX/env
	ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$(admin_creds)" \
		--configfile="$ODJ_ADMIN_SMBCONF" \
		-b "CN=Sites,CN=Configuration,$ODJ_BASE_DN" \
		'(objectClass=nTDSDSA)' objectGUID 2>/dev/null |
		awk '/^dn: CN=NTDS Settings,CN=/ {
			split($0, a, ","); h = tolower(substr(a[2], 4))
		}
		/^objectGUID: / { print $2, h }' >"$dir/dsa-guids.tmp.$$"
	grep -q . "$dir/dsa-guids.tmp.$$" ||
		odj_die "no NTDS Settings objects found on $ODJ_DC_NAME"
	mv -f "$dir/dsa-guids.tmp.$$" "$dir/dsa-guids"
	rm -f "$dir/hosts"
	. "$ODJ_ENV_DIR/env.sh" "$ODJ_DC_PREFIX"
}

add_one() {
	local id=$1 want=$2 t0 t1 nc
	local -a jobs
	t0=$(odj_now_ms)
	require_tools
	dc_select dc1
	start_one
	alloc_ip nodc "${ODJ_NODC_IP_WANTED:-}" >/dev/null
	alloc_ip "$id" "$want" >/dev/null
	dc_select "$id"
	if ! [ -e "$DC/.joined" ]; then
		dc_master_pid >/dev/null && odj_die "$DC_ID runs but is not marked joined"
		check_address_free
		join_dc
		start_one
		# with dc1, and the DNS zones too: the new DC's own records
		# were added on dc1
		t1=$(odj_now_ms)
		jobs=()
		for nc in $NCS_ALL; do
			jobs+=("$id dc1 $nc")
			[ "$id" = rodc1 ] || jobs+=("dc1 $id $nc")
		done
		replicate_jobs "${jobs[@]}" || exit 1
		odj_say "replicated with dc1 in $(odj_elapsed "$t1") s"
	else
		awk -v h="$id" '$2 == h {f = 1} END {exit !f}' \
			"$ODJ_DC_PREFIX/env/dsa-guids" 2>/dev/null || record_dsa_guids
		start_one
	fi
	odj_say "$id ready in $(odj_elapsed "$t0") s"
}

cmd_add_dc() { add_one dc2 "${ODJ_DC2_IP_WANTED:-}"; }
cmd_add_rodc() { add_one rodc1 "${ODJ_RODC_IP_WANTED:-}"; }

NCS_DEFAULT="DOMAIN CONFIG"
NCS_ALL="DOMAIN CONFIG DomainDnsZones ForestDnsZones"

nc_dn() {
	case $1 in
	DOMAIN) printf '%s\n' "$ODJ_BASE_DN" ;;
	CONFIG) printf 'CN=Configuration,%s\n' "$ODJ_BASE_DN" ;;
	DomainDnsZones | ForestDnsZones) printf 'DC=%s,%s\n' "$1" "$ODJ_BASE_DN" ;;
	*) printf '%s\n' "$1" ;;
	esac
}

# replicate_jobs "DEST SRC NC"...: DEST pulls NC from SRC (DsReplicaSync,
# forced), all at once: each samba-tool call mostly waits for the DCs.
replicate_jobs() {
	local job dest src nc dn dname sname log n=0 rc=0
	local -a pids logs what
	for job in "$@"; do
		set -- $job
		dest=$1 src=$2 nc=$3
		dc_select "$src"
		sname=$DC_NAME
		dc_select "$dest"
		dname=$DC_NAME
		dn=$(nc_dn "$nc")
		log=$DC_LOG/replicate.$src.$nc.log
		samba-tool drs replicate "$dname" "$sname" "$dn" --sync-forced \
			-U "$(admin_creds)" --configfile="$ODJ_ADMIN_SMBCONF" \
			>"$log" 2>&1 &
		pids[n]=$! logs[n]=$log what[n]="$dn from $src to $dest"
		n=$((n + 1))
	done
	for ((n = 0; n < ${#pids[@]}; n++)); do
		wait "${pids[n]}" && continue
		rc=1
		odj_say "replicating ${what[n]} failed; ${logs[n]}:"
		tail -n 10 "${logs[n]}" >&2
	done
	return $rc
}

# replicate_pair DEST SRC [NC...]
replicate_pair() {
	local dest=$1 src=$2 nc
	local -a jobs=()
	shift 2
	[ $# -gt 0 ] || set -- $NCS_DEFAULT
	for nc in "$@"; do
		jobs+=("$dest $src $nc")
	done
	replicate_jobs "${jobs[@]}"
}

# replicate_all [NC...]: both ways between the writable DCs, then into the
# RODC, for each joined and running DC. An RODC is never a source.
replicate_all() {
	local t0 have='' id nc
	local -a jobs=()
	t0=$(odj_now_ms)
	[ $# -gt 0 ] || set -- $NCS_DEFAULT
	for id in dc1 dc2 rodc1; do
		dc_select "$id"
		dc_joined && dc_master_pid >/dev/null && have="$have $id"
	done
	for nc in "$@"; do
		case $have in *dc1*dc2*) jobs+=("dc2 dc1 $nc" "dc1 dc2 $nc") ;; esac
		case $have in *dc1*rodc1*) jobs+=("rodc1 dc1 $nc") ;; esac
	done
	[ ${#jobs[@]} = 0 ] || replicate_jobs "${jobs[@]}" || exit 1
	odj_say "replicated ($have ) in $(odj_elapsed "$t0") s"
}

cmd_replicate() {
	local t0 id
	if [ $# = 0 ]; then
		replicate_all
		return 0
	fi
	[ $# -ge 2 ] || usage
	[ "$2" != rodc1 ] || odj_die "an RODC is never a replication source"
	for id in "$1" "$2"; do
		dc_select "$id"
		dc_joined || odj_die "$id is not joined in $ODJ_DC_PREFIX"
	done
	t0=$(odj_now_ms)
	replicate_pair "$@" || exit 1
	odj_say "replicated $2 -> $1 in $(odj_elapsed "$t0") s"
}

# The DNS zone of NAME: Samba keeps _msdcs.DOMAIN as a zone of its own.
dns_zone_of() {
	local name=${1%.}
	case $name in
	*"._msdcs.$ODJ_DNS_DOMAIN") DNS_ZONE=_msdcs.$ODJ_DNS_DOMAIN ;;
	*".$ODJ_DNS_DOMAIN") DNS_ZONE=$ODJ_DNS_DOMAIN ;;
	*) odj_die "$name is not in $ODJ_DNS_DOMAIN" ;;
	esac
	DNS_REL=${name%."$DNS_ZONE"}
}

# dns_record add|delete NAME TYPE DATA; adding a record that exists is no
# error (add-rodc after a failed first attempt).
dns_record() {
	local op=$1 name=$2 type=$3 data=$4 out
	dns_zone_of "$name"
	if out=$(samba-tool dns "$op" "$ODJ_DC_IP" "$DNS_ZONE" "$DNS_REL" \
		"$type" "$data" -U "$(admin_creds)" \
		--configfile="$ODJ_ADMIN_SMBCONF" 2>&1); then
		printf '%s\n' "$out" >&2
		return 0
	fi
	printf '%s\n' "$out" >&2
	[ "$op" = add ] && case $out in *RECORD_ALREADY_EXISTS* | *"Record already exists"*) return 0 ;; esac
	return 1
}

# Site Locator, for DC choice: its DC locator records, lowest priority
# first: the RODC (not writable), the address where no DC answers, then
# dc2 and dc1 by weight 90:10. Only DCs that were added are named.
# One job per name (samba-tool's start-up is most of the time).
locator_records() {
	local op=$1 svc rc=0 log=$ODJ_DC_PREFIX/dc/log/dns-locator.log
	local -a pids=()
	[ "$op" = delete ] || ensure_site Locator ""
	for svc in "_ldap._tcp.Locator._sites.dc._msdcs 389" \
		"_ldap._tcp.Locator._sites 389" \
		"_kerberos._tcp.Locator._sites.dc._msdcs 88" \
		"_kerberos._tcp.Locator._sites 88"; do
		locator_name "$op" $svc >>"$log" 2>&1 &
		pids+=($!)
	done
	# nodc.DOMAIN's address lives in the zone too
	if [ -n "$ODJ_NODC_IP" ]; then
		dns_record "$op" "$ODJ_NODC_NAME" A "$ODJ_NODC_IP" >>"$log" 2>&1 &
		pids+=($!)
	fi
	for pid in "${pids[@]}"; do
		wait "$pid" || rc=1
	done
	[ $rc = 0 ] || [ "$op" = delete ] || {
		odj_say "dns locator failed; $log:"
		tail -n 20 "$log" >&2
		return 1
	}
}

locator_name() {
	local op=$1 name=$2.$ODJ_DNS_DOMAIN port=$3 target rc=0
	for target in "rodc1 0 100" "nodc 10 100" "dc2 20 90" "dc1 20 10"; do
		set -- $target
		case $1 in
		rodc1) [ -n "$ODJ_RODC_IP" ] || continue ;;
		dc2) [ -n "$ODJ_DC2_IP" ] || continue ;;
		nodc) [ -n "$ODJ_NODC_IP" ] || continue ;;
		esac
		dns_record "$op" "$name" SRV "$1.$ODJ_DNS_DOMAIN $port $2 $3" ||
			rc=1
	done
	return $rc
}

cmd_dns() {
	dc_select dc1
	case ${1:-} in
	add | delete)
		[ $# = 4 ] || usage
		dns_record "$@"
		;;
	locator) [ $# = 1 ] || usage; locator_records add ;;
	locator-delete) [ $# = 1 ] || usage; locator_records delete ;;
	*) usage ;;
	esac
}

main() {
	[ $# -ge 2 ] || usage
	local cmd=$1 prefix
	shift
	case $cmd in
	start | stop | status | destroy | add-dc | add-rodc | replicate | dns) ;;
	*) usage ;;
	esac
	case $cmd in
	start | add-dc | add-rodc) ;;
	*)
		if ! [ -d "$1/env" ]; then
			odj_say "no prefix $1"
			[ "$cmd" = status ] && exit 1
			[ "$cmd" = stop ] || [ "$cmd" = destroy ] || exit 1
			exit 0
		fi
		;;
	esac
	# ODJ_DC2_IP etc. are read only when the address is first given; env.sh
	# exports the stored ones under the same names.
	ODJ_DC2_IP_WANTED=${ODJ_DC2_IP:-}
	ODJ_RODC_IP_WANTED=${ODJ_RODC_IP:-}
	ODJ_NODC_IP_WANTED=${ODJ_NODC_IP:-}
	prefix=$(odj_abspath "$1")
	shift
	. "$ODJ_ENV_DIR/env.sh" "$prefix"
	ODJ_BASE_DN=DC=${ODJ_DNS_DOMAIN//./,DC=}
	case $cmd in
	start) cmd_start "$@" ;;
	stop) cmd_stop "$@" ;;
	status) [ $# -le 1 ] || usage; cmd_status "$@" ;;
	destroy) [ $# = 0 ] || usage; cmd_destroy ;;
	add-dc) [ $# = 0 ] || usage; cmd_add_dc ;;
	add-rodc) [ $# = 0 ] || usage; cmd_add_rodc ;;
	replicate) cmd_replicate "$@" ;;
	dns) cmd_dns "$@" ;;
	esac
}

main "$@"
