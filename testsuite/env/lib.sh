# Shared helpers for dc.sh, client.sh and selftest.sh (sourced, not run).
# Callers set ODJ_PROG to their own name before sourcing.
#
# A fork costs about 5 ms on these machines, so the /proc scans below use
# bash builtins only and return results in global variables.

ODJ_ENV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

odj_say() { printf '%s: %s\n' "${ODJ_PROG:-odj-env}" "$*" >&2; }
odj_die() { odj_say "error: $*"; exit 1; }

odj_abspath() {
	mkdir -p -- "$1" && (cd -- "$1" && pwd -P)
}

odj_now_ms() { printf '%s\n' $((${EPOCHREALTIME/./} / 1000)); }

odj_elapsed() {
	local start=$1 end
	end=$((${EPOCHREALTIME/./} / 1000))
	printf '%d.%03d' $(((end - start) / 1000)) $(((end - start) % 1000))
}

# Sets ODJ_STATE, ODJ_PPID, ODJ_PGID, ODJ_SID from /proc/PID/stat, read after
# the last ')' because comm may contain spaces and parentheses.
odj_stat() {
	local stat
	local -a fields
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	read -r -a fields <<<"${stat##*) }"
	ODJ_STATE=${fields[0]} ODJ_PPID=${fields[1]} ODJ_PGID=${fields[2]} ODJ_SID=${fields[3]}
}

odj_proc_field() {
	odj_stat "$1" || return 1
	case $2 in
	state) printf '%s\n' "$ODJ_STATE" ;;
	ppid) printf '%s\n' "$ODJ_PPID" ;;
	pgid) printf '%s\n' "$ODJ_PGID" ;;
	sid) printf '%s\n' "$ODJ_SID" ;;
	esac
}

odj_alive() {
	odj_stat "$1" || return 1
	[ "$ODJ_STATE" != Z ] && [ "$ODJ_STATE" != X ]
}

# Sets ODJ_CMDLINE (arguments joined by spaces).
odj_get_cmdline() {
	local -a a
	{ mapfile -d '' a <"/proc/$1/cmdline"; } 2>/dev/null || return 1
	ODJ_CMDLINE=${a[*]}
}

odj_cmdline() {
	odj_get_cmdline "$1" || return 1
	printf '%s\n' "$ODJ_CMDLINE"
}

odj_exe() { readlink "/proc/$1/exe" 2>/dev/null; }

# Only Samba's own executables (and the python helpers samba spawns) are ever
# signalled: a shell or test script whose command line mentions the prefix
# must survive.
odj_is_samba_exe() {
	local exe
	exe=$(odj_exe "$1") || return 1
	exe=${exe% (deleted)}
	case $exe in
	/usr/sbin/samba | /usr/sbin/smbd | /usr/sbin/nmbd | /usr/sbin/winbindd) return 0 ;;
	/usr/libexec/samba/*) return 0 ;;
	/usr/bin/python3*)
		odj_get_cmdline "$1" || return 1
		case $ODJ_CMDLINE in *samba*) return 0 ;; esac
		return 1
		;;
	*) return 1 ;;
	esac
}

# Samba processes whose command line mentions PATTERN (a prefix path):
# samba-dcerpcd, rpcd_* and winbindd get --configfile/-s from their parent.
odj_pids_matching() {
	local pattern=$1 d pid
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[ "$pid" = "$$" ] && continue
		odj_get_cmdline "$pid" || continue
		case $ODJ_CMDLINE in *"$pattern"*) ;; *) continue ;; esac
		odj_is_samba_exe "$pid" && odj_alive "$pid" && printf '%s\n' "$pid"
	done
	return 0
}

# Descendants and session members of ROOT: forked samba tasks rewrite their
# command line (process titles), so the prefix no longer appears in it.
odj_pids_related() {
	local root=$1 d pid changed=1 set=" $1 "
	odj_alive "$root" || return 0
	while [ $changed = 1 ]; do
		changed=0
		for d in /proc/[0-9]*; do
			pid=${d#/proc/}
			case $set in *" $pid "*) continue ;; esac
			odj_stat "$pid" || continue
			case $set in
			*" $ODJ_PPID "*) ;;
			*) [ "$ODJ_SID" = "$root" ] || continue ;;
			esac
			set="$set$pid "
			changed=1
		done
	done
	for pid in $set; do
		odj_alive "$pid" && printf '%s\n' "$pid"
	done
	return 0
}

odj_left_alive() {
	local pid
	ODJ_LEFT=
	for pid in "$@"; do
		odj_alive "$pid" && ODJ_LEFT="$ODJ_LEFT $pid"
	done
	[ -n "$ODJ_LEFT" ]
}

# Signal PIDS with TERM, wait up to TIMEOUT seconds, then KILL what is left.
odj_stop_pids() {
	local timeout=$1 i
	shift
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for ((i = 0; i < timeout * 20; i++)); do
		odj_left_alive "$@" || return 0
		sleep 0.05
	done
	odj_say "still alive after ${timeout}s, sending KILL to:$ODJ_LEFT"
	kill -KILL $ODJ_LEFT 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		odj_left_alive "$@" || return 0
		sleep 0.05
	done
	odj_say "processes did not exit:$ODJ_LEFT"
	return 1
}

# Run CMD... until it succeeds or TIMEOUT seconds pass; its output is kept in
# LOG and shown on failure.
odj_wait_for() {
	local what=$1 timeout=$2 log=$3 deadline
	shift 3
	deadline=$((SECONDS + timeout))
	while :; do
		if "$@" >"$log" 2>&1; then
			return 0
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			odj_say "$what: no answer after ${timeout}s; last attempt: $*"
			sed 's/^/    /' "$log" | tail -n 20 >&2
			return 1
		fi
		sleep 0.1
	done
}

odj_ip_hex() {
	local IFS=.
	set -- $1
	printf '%02X%02X%02X%02X' "$4" "$3" "$2" "$1"
}

# Is anything listening on TCP IP:PORT (or on the wildcard address)?
odj_tcp_listening() {
	local port want laddr st _
	printf -v port '%04X' "$2"
	want=$(odj_ip_hex "$1"):$port
	while read -r _ laddr _ st _; do
		[ "$st" = 0A ] || continue
		case $laddr in "$want" | "00000000:$port") return 0 ;; esac
	done </proc/net/tcp
	return 1
}

odj_read_pidfile() {
	local f=$1 pid=
	[ -s "$f" ] || return 1
	read -r pid <"$f" || true
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	printf '%s\n' "$pid"
}
