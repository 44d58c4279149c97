#!/bin/bash
# A real sssd (Debian's sssd-ad) on the files of an image-like root, in a
# private mount namespace pointed at the throwaway DC of a dc.sh prefix.
#
#   sssd.sh start ROOT PREFIX [IP]  start sssd on ROOT/etc/sssd/sssd.conf,
#                                   ROOT/etc/krb5.keytab, ROOT/etc/krb5.conf;
#                                   wait until it answers (not until online)
#   sssd.sh wait-online ROOT [DOM]  wait until sssd's domain DOM (default:
#                                   the first of domains =) is online
#   sssd.sh run ROOT CMD [ARG...]   run CMD in the sandbox: getent, sssctl,
#                                   adcli, kinit, klist see the sandbox's /etc
#   sssd.sh pid ROOT                print sssd's pid
#   sssd.sh logdir ROOT             print the directory of sssd's logs
#   sssd.sh status ROOT             exit 0 if sssd of ROOT runs, 3 if only
#                                   its sandbox does, 1 if neither
#   sssd.sh stop ROOT               stop sssd, winbindd and their children
#                                   by pid, end the sandbox (logs stay)
#   sssd.sh start-winbindd ROOT PREFIX [IP]
#                                   start Samba's winbindd in the sandbox
#                                   (made if need be) on ROOT's smb.conf
#   sssd.sh stop-winbindd ROOT      stop that winbindd by pid
#
# The sandbox (unshare -m -u, private propagation): an overlay over /etc
# whose upper layer is a tmpfs, so files can be added or replaced there
# without touching the machine's /etc; ROOT's etc/sssd, etc/krb5.keytab and
# etc/krb5.conf bound over it (sssd and adcli write through to ROOT);
# hosts, resolv.conf (the DC's own DNS server) and nsswitch.conf (sss for
# passwd and group) of the sandbox; tmpfs over /var/lib/sss (with its
# subdirectories), /run, /var/lib/samba and /var/cache/samba (gpo_child's
# libsmbclient); the host name is the client's FQDN (UTS namespace).
# Nothing of the machine's own state is read or written by sssd.
#
# An image with Samba (ROOT/etc/samba/smb.conf, its paths the defaults or
# image paths): ROOT's var/lib/samba and var/cache/samba, where ROOT has
# them, are bound over /var/lib/samba and /var/cache/samba instead of the
# tmpfs, ROOT.sssd/samba-log over /var/log/samba, ROOT's etc/samba over
# /etc/samba; winbindd (start-winbindd, -F, by pid) then runs on the
# image's secrets.tdb, and wbinfo, net and adcli --add-samba-data in `run`
# use it.  ROOT's var/lib/samba-odj (odj's first-contact marker), where
# ROOT has one, is bound over /var/lib/samba-odj, on an overlay over
# /var/lib (upper layer on the tmpfs) as the machine has no such
# directory.  ROOT's etc/krb5.keytab and etc/sssd are bound only if they
# exist (a winbind-only image); the machine's are hidden all the same.
#
# State lives beside ROOT, in ROOT.sssd/: log/ (sssd's logs, bound over
# /var/log/sssd, kept after stop; an earlier start's in log/previous/),
# run/ (pids), etc/ (the sandbox's files), sandbox.log.
#
# IP (default 127.0.0.1) is the client's address in the sandbox's
# /etc/hosts; nothing listens on it.  ODJ_SSSD_DEBUG (default 6) is sssd's
# debug level; at 7 or more sssd also logs adcli's output.
# ODJ_SSSD_TIMEOUT (default 60) bounds each wait, in seconds.
set -eu

ODJ_PROG=sssd.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SSSD_BIN=/usr/sbin/sssd
WINBINDD_BIN=/usr/sbin/winbindd
HOLDER_BIN=/usr/bin/sleep

usage() {
	sed -n '5,21s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

# Sets ROOT (absolute) and H, the state directory beside it.
root_paths() {
	[ -d "$1" ] || odj_die "no root directory $1"
	ROOT=$(cd -- "$1" && pwd -P)
	[ "$ROOT" != / ] || odj_die "the root must not be / itself"
	H=$ROOT.sssd
	RUN=$H/run
	LOG=$H/log
}

require_tools() {
	local t missing=
	for t in sssd:sssd-ad sssctl:sssd-tools adcli:adcli \
		unshare:util-linux nsenter:util-linux kinit:krb5-user \
		getent:libc-bin; do
		command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
	done
	[ -e /usr/lib/x86_64-linux-gnu/libnss_sss.so.2 ] ||
		[ -n "$(ls /usr/lib/*/libnss_sss.so.2 2>/dev/null)" ] ||
		missing="$missing libnss-sss"
	[ -z "$missing" ] || odj_die "missing tools; install the packages:$missing"
	[ "$(id -u)" = 0 ] || odj_die "must run as root (mount namespace)"
	grep -qw overlay /proc/filesystems ||
		odj_die "the kernel has no overlay file system"
	[ -d /var/log/sssd ] && [ -d /var/lib/sss ] && [ -d /etc/sssd ] ||
		odj_die "/var/log/sssd, /var/lib/sss or /etc/sssd missing (sssd-common)"
}

# smb.conf's [global] PARAMETER of ROOT, as written (no includes)
smbconf_param() {
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\\([^[:space:]]*\\).*/\\1/Ip" \
		"$ROOT/etc/samba/smb.conf" 2>/dev/null | head -n1
}

# The client's FQDN: ad_hostname of sssd.conf, else the keytab's host/FQDN,
# else smb.conf's netbios name and realm.
client_fqdn() {
	local fqdn nb realm
	fqdn=$(sed -n 's/^[[:space:]]*ad_hostname[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p' \
		"$ROOT/etc/sssd/sssd.conf" 2>/dev/null | head -n1)
	if [ -z "$fqdn" ]; then
		fqdn=$(klist -k "$ROOT/etc/krb5.keytab" 2>/dev/null |
			sed -n 's/^ *[0-9]* host\/\([^@]*\.[^@]*\)@.*/\1/p' | head -n1)
	fi
	if [ -z "$fqdn" ]; then
		nb=$(smbconf_param "netbios name")
		realm=$(smbconf_param realm)
		[ -z "$nb" ] || [ -z "$realm" ] || fqdn=$nb.$realm
	fi
	[ -n "$fqdn" ] ||
		odj_die "cannot tell the client's FQDN: no ad_hostname in sssd.conf, no host/FQDN in the keytab, no netbios name and realm in smb.conf"
	printf '%s\n' "${fqdn,,}"
}

# Trap (nss_wrapper rule kept): no comment lines in hosts.
write_sandbox_files() {
	local ip=$1 fqdn=$2 short=${2%%.*}
	mkdir -p "$H/etc" "$RUN" "$LOG" "$H/mnt"
	chmod 0700 "$H"
	{
		printf '127.0.0.1 localhost\n'
		printf '%s %s %s\n' "$ODJ_DC_IP" "$ODJ_DC_NAME" "${ODJ_DC_NAME%%.*}"
		printf '%s %s %s\n' "$ip" "$fqdn" "$short"
	} >"$H/etc/hosts"
	printf 'search %s\nnameserver %s\n' "$ODJ_DNS_DOMAIN" "$ODJ_DC_IP" \
		>"$H/etc/resolv.conf"
	cat >"$H/etc/nsswitch.conf" <<-EOF
	passwd:         files sss
	group:          files sss
	shadow:         files sss
	gshadow:        files
	hosts:          files dns
	networks:       files
	protocols:      files
	services:       files sss
	ethers:         files
	rpc:            files
	netgroup:       files sss
	EOF
	printf '%s\n' "$fqdn" >"$H/etc/hostname"
}

# Runs as root in the new mount and UTS namespaces; ends as the holder.
# Any failure exits before "ready" is written.
cmd__sandbox() {
	local root=$1 h=$2 m d
	m=$h/mnt
	mount -t tmpfs -o mode=0700,size=64m odj-sssd "$m"
	mkdir "$m/upper" "$m/work"
	mount -t overlay odj-sssd-etc \
		-o "lowerdir=/etc,upperdir=$m/upper,workdir=$m/work" /etc

	# in the overlay: regular files, whatever the host has (symlinks)
	for f in hosts resolv.conf nsswitch.conf hostname; do
		rm -f "/etc/$f"
		cp "$h/etc/$f" "/etc/$f"
		chmod 0644 "/etc/$f"
	done
	# PAM service "login" (mapped to a GPO right by sssd's AD access
	# provider) through pam_sss alone, whatever the host's pam-auth-update
	# made of common-*
	rm -f /etc/pam.d/login
	printf '%s\n' 'auth required pam_sss.so' 'account required pam_sss.so' \
		'password required pam_deny.so' 'session required pam_permit.so' \
		>/etc/pam.d/login
	rm -f /etc/krb5.keytab /etc/krb5.conf
	if [ -e "$root/etc/krb5.keytab" ]; then
		touch /etc/krb5.keytab
		mount --bind "$root/etc/krb5.keytab" /etc/krb5.keytab
	fi
	if [ -e "$root/etc/krb5.conf" ]; then
		touch /etc/krb5.conf
		mount --bind "$root/etc/krb5.conf" /etc/krb5.conf
	fi
	if [ -d "$root/etc/sssd" ]; then
		mkdir -p /etc/sssd
		mount --bind "$root/etc/sssd" /etc/sssd
	else
		rm -rf /etc/sssd/*
	fi
	# gpo_child's libsmbclient reads smb.conf: ROOT's, or none
	if [ -e "$root/etc/samba/smb.conf" ]; then
		mkdir -p /etc/samba
		mount --bind "$root/etc/samba" /etc/samba
	else
		rm -f /etc/samba/smb.conf
	fi

	# first, so that the mounts below land on it
	if [ -d "$root/var/lib/samba-odj" ]; then
		mkdir "$m/upper-lib" "$m/work-lib"
		mount -t overlay odj-sssd-varlib \
			-o "lowerdir=/var/lib,upperdir=$m/upper-lib,workdir=$m/work-lib" \
			/var/lib
		mkdir -p /var/lib/samba-odj
		mount --bind "$root/var/lib/samba-odj" /var/lib/samba-odj
	fi
	mount -t tmpfs -o mode=0755,size=64m odj-sssd-lib /var/lib/sss
	for d in db:0700 pipes:0755 pipes/private:0700 mc:0775 \
		pubconf:0755 pubconf/krb5.include.d:0755 gpo_cache:0755 \
		secrets:0700 deskprofile:0751 keytabs:0700; do
		mkdir -m "${d#*:}" "/var/lib/sss/${d%%:*}"
	done
	mount -t tmpfs -o mode=0755,size=16m odj-sssd-run /run
	# Samba's state: the image's where it has it (winbindd, net)
	for d in /var/lib/samba /var/cache/samba; do
		if [ -d "$root$d" ]; then
			# a mount point of the machine's (nothing is made there)
			[ -d "$d" ] || odj_die "no $d here to bind $root$d over"
			mount --bind "$root$d" "$d"
		elif [ -d "$d" ]; then
			mount -t tmpfs -o mode=0755,size=16m odj-sssd-samba "$d"
		fi
	done
	if [ -d /var/log/samba ]; then
		mkdir -p "$h/samba-log"
		mount --bind "$h/samba-log" /var/log/samba
	fi
	mount --bind "$h/log" /var/log/sssd

	hostname "$(cat "$h/etc/hostname")"
	readlink /proc/self/ns/mnt >"$h/run/ns.tmp"
	mv "$h/run/ns.tmp" "$h/run/ready"
	cd /
	exec "$HOLDER_BIN" infinity
}

holder_pid() {
	local pid ns
	pid=$(odj_read_pidfile "$RUN/holder.pid") || return 1
	odj_alive "$pid" || return 1
	[ "$(odj_exe "$pid")" = "$HOLDER_BIN" ] || return 1
	[ -s "$RUN/ready" ] || return 1
	read -r ns <"$RUN/ready"
	[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$ns" ] || return 1
	printf '%s\n' "$pid"
}

sssd_pid() {
	local pid ns
	pid=$(odj_read_pidfile "$RUN/sssd.pid") || return 1
	odj_alive "$pid" || return 1
	[ "$(odj_exe "$pid")" = "$SSSD_BIN" ] || return 1
	read -r ns <"$RUN/ready" || return 1
	[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$ns" ] || return 1
	printf '%s\n' "$pid"
}

# The environment of everything run in the sandbox: none of env.sh's
# wrappers or redirections (the sandbox's /etc is the configuration).
in_sandbox() {
	local holder=$1
	shift
	nsenter --target "$holder" --mount --uts --wd=/ -- \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		HOME=/root KRB5CCNAME="FILE:$RUN/krb5cc" "$@"
}

start_sandbox() {
	local ip=$1 fqdn=$2 pid i
	rm -f "$RUN/ready" "$RUN/holder.pid" "$RUN/sssd.pid"
	write_sandbox_files "$ip" "$fqdn"
	# setsid: the sandbox outlives this script and its process group;
	# setsid and unshare exec, so $! is the holder.
	setsid unshare --mount --uts --propagation private -- \
		/bin/bash "$ODJ_ENV_DIR/sssd.sh" _sandbox "$ROOT" "$H" \
		</dev/null >"$H/sandbox.log" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$RUN/holder.pid"
	for ((i = 0; i < 200; i++)); do
		[ -s "$RUN/ready" ] && holder_pid >/dev/null && return 0
		odj_alive "$pid" || break
		sleep 0.05
	done
	sed 's/^/    /' "$H/sandbox.log" >&2
	odj_alive "$pid" && odj_stop_pids 5 "$pid"
	odj_die "the sandbox did not come up"
}

winbindd_pid() {
	local pid ns
	pid=$(odj_read_pidfile "$RUN/winbindd.pid") || return 1
	odj_alive "$pid" || return 1
	[ "$(odj_exe "$pid")" = "$WINBINDD_BIN" ] || return 1
	read -r ns <"$RUN/ready" || return 1
	[ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$ns" ] || return 1
	printf '%s\n' "$pid"
}

sssd_answers() {
	[ -S "/proc/$1/root/var/lib/sss/pipes/nss" ] &&
		[ -S "/proc/$1/root/var/lib/sss/pipes/pam" ]
}

cmd_start() {
	local ip=${1:-127.0.0.1} holder pid fqdn i t0 f
	require_tools
	case $ip in
	127.*.*.*) ;;
	*) odj_die "IP $ip is not in 127.0.0.0/8" ;;
	esac
	if pid=$(sssd_pid); then
		odj_say "sssd already running for $ROOT (pid $pid)"
		return 0
	fi
	for f in etc/sssd/sssd.conf etc/krb5.keytab; do
		[ -f "$ROOT/$f" ] || odj_die "no $ROOT/$f"
	done
	fqdn=$(client_fqdn)
	t0=$(odj_now_ms)
	if ! holder=$(holder_pid); then
		start_sandbox "$ip" "$fqdn"
		holder=$(holder_pid)
	fi
	# the logs of an earlier run go aside: wait-online reads this run's
	rm -rf "$LOG/previous"
	mkdir "$LOG/previous"
	for f in "$LOG"/*; do
		[ -f "$f" ] && mv "$f" "$LOG/previous/"
	done
	# -i: no fork, so the pid is sssd's (nsenter and env exec); sssd makes
	# itself a process group leader (not with setsid: it would log
	# "Failed setting process group").
	nsenter --target "$holder" --mount --uts --wd=/ -- \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		"$SSSD_BIN" -i --logger=files -d "${ODJ_SSSD_DEBUG:-6}" \
		</dev/null >>"$LOG/sssd.stdout" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$RUN/sssd.pid"
	for ((i = 0; i < ${ODJ_SSSD_TIMEOUT:-60} * 20; i++)); do
		if ! odj_alive "$pid"; then
			tail -n 20 "$LOG/sssd.stdout" | sed 's/^/    /' >&2
			cmd_stop >/dev/null 2>&1
			odj_die "sssd exited at start (logs in $LOG)"
		fi
		[ "$(odj_exe "$pid")" = "$SSSD_BIN" ] && sssd_answers "$holder" && break
		sleep 0.05
	done
	if ! sssd_answers "$holder"; then
		cmd_stop >/dev/null 2>&1
		odj_die "sssd (pid $pid) did not open its sockets (logs in $LOG)"
	fi
	odj_say "sssd for $fqdn on $ROOT: pid $pid, in $(odj_elapsed "$t0") s"
}

# winbindd -F --no-process-group: no fork, no process group of its own,
# so the pid is winbindd's (nsenter and env exec); ready when wbinfo -p
# answers.  Logs: ROOT.sssd/samba-log (/var/log/samba), winbindd.stdout.
cmd_start_winbindd() {
	local ip=${1:-127.0.0.1} holder pid t0
	require_tools
	command -v "$WINBINDD_BIN" >/dev/null && command -v wbinfo >/dev/null ||
		odj_die "missing tools; install the packages: winbind"
	case $ip in
	127.*.*.*) ;;
	*) odj_die "IP $ip is not in 127.0.0.0/8" ;;
	esac
	if pid=$(winbindd_pid); then
		odj_say "winbindd already running for $ROOT (pid $pid)"
		return 0
	fi
	[ -f "$ROOT/etc/samba/smb.conf" ] || odj_die "no $ROOT/etc/samba/smb.conf"
	t0=$(odj_now_ms)
	if ! holder=$(holder_pid); then
		start_sandbox "$ip" "$(client_fqdn)"
		holder=$(holder_pid)
	fi
	nsenter --target "$holder" --mount --uts --wd=/ -- \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		"$WINBINDD_BIN" -F --no-process-group \
		</dev/null >>"$H/winbindd.stdout" 2>&1 &
	pid=$!
	printf '%s\n' "$pid" >"$RUN/winbindd.pid"
	if ! odj_wait_for "winbindd of $ROOT" "${ODJ_SSSD_TIMEOUT:-60}" \
		"$RUN/winbindd.log" in_sandbox "$holder" wbinfo -p; then
		tail -n 20 "$H/winbindd.stdout" | sed 's/^/    /' >&2
		odj_alive "$pid" && odj_stop_pids 10 "$pid"
		odj_die "winbindd (pid $pid) did not answer (logs in $H/samba-log)"
	fi
	odj_say "winbindd on $ROOT: pid $pid, in $(odj_elapsed "$t0") s"
}

cmd_stop_winbindd() {
	local pid
	if pid=$(winbindd_pid); then
		odj_say "stopping winbindd of $ROOT (pid $pid)"
		odj_stop_pids 10 "$pid"
	fi
	rm -f "$RUN/winbindd.pid"
}

# Trap: sssctl domain-status (and user-checks' InfoPipe part) needs the
# system D-Bus, which the sandbox does not have.  Online means: the
# backend got a TGT with the keytab (ldap_child's ccache) and logged that
# it went online (sssd's debug level 3 or more).
domain_online() {
	local holder=$1 realm=$2 domain=$3
	[ -s "/proc/$holder/root/var/lib/sss/db/ccache_$realm" ] || return 1
	[ "${ODJ_SSSD_DEBUG:-6}" -lt 3 ] && return 0
	grep -q 'Going online' "$LOG/sssd_$domain.log"
}

# The domain DOMAIN (if set) or the first domain of sssd.conf, and its realm
conf_domain() {
	local conf=$ROOT/etc/sssd/sssd.conf
	[ -n "${DOMAIN:-}" ] ||
	DOMAIN=$(sed -n 's/^[[:space:]]*domains[[:space:]]*=[[:space:]]*\([^,[:space:]]*\).*/\1/p' \
		"$conf" | head -n1)
	[ -n "$DOMAIN" ] || odj_die "no domains = in $conf"
	REALM=$(sed -n "/^\[domain\/$DOMAIN\]/,/^\[/s/^[[:space:]]*krb5_realm[[:space:]]*=[[:space:]]*\([^[:space:]]*\).*/\1/p" \
		"$conf" | head -n1)
	REALM=${REALM:-${DOMAIN^^}}
}

cmd_wait_online() {
	local holder t0 DOMAIN=${1:-} REALM
	holder=$(holder_pid) || odj_die "no sandbox for $ROOT"
	sssd_pid >/dev/null || odj_die "sssd of $ROOT is not running"
	conf_domain
	t0=$(odj_now_ms)
	odj_wait_for "sssd domain $DOMAIN online" "${ODJ_SSSD_TIMEOUT:-60}" \
		"$RUN/online.log" domain_online "$holder" "$REALM" "$DOMAIN" ||
		odj_die "sssd's domain $DOMAIN is not online (logs in $LOG)"
	odj_say "domain $DOMAIN online in $(odj_elapsed "$t0") s"
}

cmd_run() {
	local holder
	[ $# -ge 1 ] || usage
	holder=$(holder_pid) || odj_die "no sandbox for $ROOT (sssd.sh start first)"
	in_sandbox "$holder" "$@"
}

# Every process in the sandbox's mount namespace but the holder: the
# sandbox is ours, so they all are (sssd's children, commands of `run`).
# REF is a file of that namespace (-ef compares it without a fork).
sandbox_pids() {
	local ref=$1 holder=$2 d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = "$$" ] || [ "$pid" = "$holder" ] && continue
		[ "$d/ns/mnt" -ef "$ref" ] || continue
		odj_alive "$pid" && printf '%s\n' "$pid"
	done
	return 0
}

# sssd's monitor stops its children (sssd_be, sssd_nss, ...) on TERM;
# whatever is left in the namespace goes next, the holder last, which ends
# the namespace and every mount in it.
cmd_stop() {
	local pid holder pids t0 ns d
	t0=$(odj_now_ms)
	if pid=$(sssd_pid); then
		odj_say "stopping sssd of $ROOT (pid $pid)"
		odj_stop_pids 10 "$pid"
	fi
	cmd_stop_winbindd
	if holder=$(holder_pid); then
		pids=$(sandbox_pids "/proc/$holder/ns/mnt" "$holder")
		if [ -n "$pids" ]; then
			odj_say "stopping what is left in the sandbox:" $pids
			odj_stop_pids 5 $pids
		fi
		odj_stop_pids 5 "$holder"
	elif [ -s "$RUN/ready" ]; then
		read -r ns <"$RUN/ready"
		for d in /proc/[0-9]*; do
			[ "$(readlink "$d/ns/mnt" 2>/dev/null)" = "$ns" ] || continue
			odj_say "stopping ${d#/proc/}, left in the sandbox"
			odj_stop_pids 5 "${d#/proc/}"
		done
	fi
	rm -f "$RUN/ready" "$RUN/holder.pid" "$RUN/sssd.pid" "$RUN/krb5cc" \
		"$RUN/winbindd.pid"
	odj_say "sssd of $ROOT stopped in $(odj_elapsed "$t0") s"
}

# 0: sssd runs; 1: neither sssd nor the sandbox; 3: the sandbox without sssd
cmd_status() {
	local pid
	if pid=$(sssd_pid); then
		odj_say "sssd running for $ROOT (pid $pid)"
		return 0
	fi
	if pid=$(holder_pid); then
		odj_say "sssd not running for $ROOT; its sandbox is (holder $pid)"
		return 3
	fi
	odj_say "sssd not running for $ROOT"
	return 1
}

main() {
	[ $# -ge 2 ] || usage
	local cmd=$1
	shift
	case $cmd in
	_sandbox)
		[ $# = 2 ] || usage
		cmd__sandbox "$@"
		;;
	start | start-winbindd)
		[ $# = 2 ] || [ $# = 3 ] || usage
		root_paths "$1"
		[ -d "$2/env" ] || odj_die "no dc.sh prefix $2"
		. "$ODJ_ENV_DIR/env.sh" "$(cd -- "$2" && pwd -P)" ||
			odj_die "env.sh $2 failed"
		shift 2
		if [ "$cmd" = start ]; then
			cmd_start "$@"
		else
			cmd_start_winbindd "$@"
		fi
		;;
	stop-winbindd)
		[ $# = 1 ] || usage
		[ -d "$1" ] || return 0
		root_paths "$1"
		[ -s "$RUN/ready" ] || return 0
		cmd_stop_winbindd
		;;
	stop)
		[ $# = 1 ] || usage
		[ -d "$1" ] || return 0
		root_paths "$1"
		cmd_stop
		;;
	logdir)
		[ $# = 1 ] || usage
		root_paths "$1"
		printf '%s\n' "$LOG"
		;;
	wait-online | run | pid | status)
		root_paths "$1"
		shift
		case $cmd in
		wait-online) [ $# -le 1 ] || usage; cmd_wait_online "$@" ;;
		run) cmd_run "$@" ;;
		pid) [ $# = 0 ] || usage; sssd_pid || odj_die "sssd of $ROOT is not running" ;;
		status) [ $# = 0 ] || usage; cmd_status ;;
		esac
		;;
	*) usage ;;
	esac
}

main "$@"
