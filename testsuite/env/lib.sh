# Shared helpers for dc.sh, client.sh and selftest.sh (sourced, not run).
# Callers set ODJ_PROG to their own name before sourcing.

ODJ_ENV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

odj_say() { printf '%s: %s\n' "${ODJ_PROG:-odj-env}" "$*" >&2; }
odj_die() { odj_say "error: $*"; exit 1; }

odj_abspath() {
	mkdir -p -- "$1" && (cd -- "$1" && pwd -P)
}

odj_now_ms() { date +%s%3N; }

odj_elapsed() {
	local start=$1 end
	end=$(odj_now_ms)
	printf '%d.%03d' $(((end - start) / 1000)) $(((end - start) % 1000))
}

# Fields of /proc/PID/stat are read after the last ')' because comm may
# contain spaces and parentheses.
odj_proc_field() {
	local pid=$1 idx=$2 stat
	local -a f
	{ read -r stat <"/proc/$pid/stat"; } 2>/dev/null || return 1
	read -r -a f <<<"${stat##*) }"
	case $idx in
	state) printf '%s\n' "${f[0]}" ;;
	ppid) printf '%s\n' "${f[1]}" ;;
	pgid) printf '%s\n' "${f[2]}" ;;
	sid) printf '%s\n' "${f[3]}" ;;
	esac
}

odj_alive() {
	local state
	state=$(odj_proc_field "$1" state) || return 1
	[ "$state" != Z ] && [ "$state" != X ]
}

odj_cmdline() {
	local -a a
	{ mapfile -d '' a <"/proc/$1/cmdline"; } 2>/dev/null || return 1
	printf '%s\n' "${a[*]}"
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
		case $(odj_cmdline "$1") in *samba*) return 0 ;; esac
		return 1 ;;
	*) return 1 ;;
	esac
}

odj_all_pids() {
	local d
	for d in /proc/[0-9]*; do
		printf '%s\n' "${d#/proc/}"
	done
}

# Samba processes whose command line mentions PATTERN (a prefix path):
# samba-dcerpcd, rpcd_* and winbindd get --configfile/-s from their parent.
odj_pids_matching() {
	local pattern=$1 pid
	for pid in $(odj_all_pids); do
		[ "$pid" = "$$" ] && continue
		case $(odj_cmdline "$pid") in *"$pattern"*) ;; *) continue ;; esac
		odj_is_samba_exe "$pid" && odj_alive "$pid" && printf '%s\n' "$pid"
	done
	return 0
}

# Descendants and session members of ROOT: forked samba tasks rewrite their
# command line (process titles), so the prefix no longer appears in it.
odj_pids_related() {
	local root=$1 pid stat ppid sid changed=1 set=" $1 "
	local -a f
	odj_alive "$root" || return 0
	while [ $changed = 1 ]; do
		changed=0
		for pid in $(odj_all_pids); do
			case $set in *" $pid "*) continue ;; esac
			{ read -r stat <"/proc/$pid/stat"; } 2>/dev/null || continue
			read -r -a f <<<"${stat##*) }"
			ppid=${f[1]} sid=${f[3]}
			case $set in
			*" $ppid "*) ;;
			*) [ "$sid" = "$root" ] || continue ;;
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

# Signal PIDS with TERM, wait up to TIMEOUT seconds, then KILL what is left.
odj_stop_pids() {
	local timeout=$1 pid left i
	shift
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null || true
	for i in $(seq $((timeout * 10))); do
		left=
		for pid in "$@"; do
			odj_alive "$pid" && left="$left $pid"
		done
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	odj_say "still alive after ${timeout}s, sending KILL to:$left"
	kill -KILL $left 2>/dev/null || true
	for i in $(seq 50); do
		left=
		for pid in "$@"; do
			odj_alive "$pid" && left="$left $pid"
		done
		[ -n "$left" ] || return 0
		sleep 0.1
	done
	odj_say "processes did not exit:$left"
	return 1
}

# Run CMD... until it succeeds or TIMEOUT seconds pass; its output is kept in
# LOG and shown on failure.
odj_wait_for() {
	local what=$1 timeout=$2 log=$3 deadline
	shift 3
	deadline=$(($(date +%s) + timeout))
	while :; do
		if "$@" >"$log" 2>&1; then
			return 0
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			odj_say "$what: no answer after ${timeout}s; last attempt: $*"
			sed 's/^/    /' "$log" | tail -n 20 >&2
			return 1
		fi
		sleep 0.2
	done
}

odj_read_pidfile() {
	local f=$1 pid
	[ -s "$f" ] || return 1
	read -r pid <"$f" || true
	case $pid in '' | *[!0-9]*) return 1 ;; esac
	printf '%s\n' "$pid"
}
