#!/bin/bash
# odj status over many blobs against a loop of odj verify, one process per
# machine (what an admin's script without status would run):
#
#   (p) provision N machines with one batch (setup, timed for scale)
#   (s) odj status savedir=DIR: one process, one LDAP session, N blobs
#   (v) odj verify savedir=DIR: the same plus a Kerberos check per blob
#   (l) a loop of `odj verify loadfile=F` over M of the blobs (default 50;
#       --full: all N), its time per machine times N
#   (e) odj expire days=0 --apply: deletes them all again (the cleanup)
#
#   bench/status.sh [--full] [N [M]]      (default N=1000, M=50)
#   ODJ_DC_PREFIX=... bench/status.sh ... (use a running DC; else one is
#                                          started on ODJ_DC_IP, default
#                                          127.0.0.10, and stopped after)
#
# Times are wall clock of whole commands (process start, connect and bind
# included).  Prints each, the ratio l/s (the target: 10 or more) and the
# load average: the numbers only mean something next to the machine's
# load.  A benchmark, not a test: nothing fails.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ODJ_BUILD:-$top/bin/default}
odj=$build/odj
env_dir=$top/testsuite/env

full=0
args=()
for a in "$@"; do
	case $a in
	--full) full=1 ;;
	*[!0-9]* | '' | 0) echo "usage: $0 [--full] [N [M]]" >&2; exit 2 ;;
	*) args+=("$a") ;;
	esac
done
n=${args[0]:-1000}
m=${args[1]:-50}
[ $full = 0 ] || m=$n
[ "$m" -le "$n" ] || m=$n

own_dc=
if [ -z "${ODJ_DC_PREFIX:-}" ]; then
	ODJ_DC_PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/odj-bench.XXXXXX")
	own_dc=1
	"$env_dir/dc.sh" start "$ODJ_DC_PREFIX" >/dev/null 2>&1
fi
. "$env_dir/env.sh" "$ODJ_DC_PREFIX"
admin="$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
out=$(mktemp -d "${TMPDIR:-/tmp}/odj-bench-status.XXXXXX")
tag=$(printf '%05d' $(($$ % 100000)))

dc_odj() {
	"$odj" "$@" dcname="$ODJ_DC_NAME" -s "$ODJ_ADMIN_SMBCONF" -U "$admin"
}

cleanup() {
	local left
	if [ -d "$out/blobs" ]; then
		dc_odj expire days=0 savedir="$out/blobs" --apply \
			>"$out/expire.log" 2>&1 || true
	fi
	# anything expire left (a failed run): by name
	left=$(ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$admin" \
		--configfile="$ODJ_ADMIN_SMBCONF" "(sAMAccountName=bs${tag}x*)" \
		sAMAccountName 2>/dev/null |
		sed -n 's/^sAMAccountName: \(.*\)\$$/\1/p')
	for name in $left; do
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			-U "$admin" --configfile="$ODJ_ADMIN_SMBCONF" \
			>/dev/null 2>&1 || true
	done
	rm -rf "$out"
	if [ -n "$own_dc" ]; then
		"$env_dir/dc.sh" stop "$ODJ_DC_PREFIX" >/dev/null 2>&1
		rm -rf "$ODJ_DC_PREFIX"
	fi
}
trap cleanup EXIT

now() { date +%s.%N; }
# calc EXPR: awk's arithmetic, two decimals
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
secs() { calc "$2 - $1"; }

# the best of three runs of a command (seconds)
best_of_3() {
	local i t0 t best=
	for i in 1 2 3; do
		t0=$(now)
		"$@" >"$out/last.out" 2>&1 || true
		t=$(secs "$t0" "$(now)")
		if [ -z "$best" ] || [ "$(calc "$t < $best")" = 1.00 ]; then
			best=$t
		fi
	done
	printf '%s\n' "$best"
}

printf 'bs%sx%s\n' $(for i in $(seq 1 "$n"); do echo "$tag $i"; done) \
	>"$out/batch.txt"
mkdir "$out/blobs"
t0=$(now)
dc_odj provision domain="$ODJ_DNS_DOMAIN" batch="$out/batch.txt" \
	savedir="$out/blobs" >"$out/batch.log" 2>&1
tp=$(secs "$t0" "$(now)")
echo "(p) provision batch of $n: ${tp} s"

ts=$(best_of_3 dc_odj status savedir="$out/blobs")
tail -n 1 "$out/last.out"
echo "(s) odj status over $n blobs: ${ts} s (best of 3)"

t0=$(now)
dc_odj verify savedir="$out/blobs" >"$out/verify.log" 2>&1 || true
tv=$(secs "$t0" "$(now)")
tail -n 1 "$out/verify.log"
echo "(v) odj verify over $n blobs, one process: ${tv} s"

t0=$(now)
for f in $(ls "$out/blobs"/*.odj | head -n "$m"); do
	dc_odj verify loadfile="$f" >/dev/null 2>&1 || true
done
tl=$(secs "$t0" "$(now)")
per=$(awk "BEGIN { printf \"%.3f\", $tl / $m }")
tln=$(calc "$per * $n")
echo "(l) a loop of odj verify loadfile=: $tl s for $m, $per s each: $tln s for $n"
echo "l/s: $(calc "$tln / $ts") (target >= 10); l/v: $(calc "$tln / $tv")"

t0=$(now)
dc_odj expire days=0 savedir="$out/blobs" --apply >"$out/expire.log" 2>&1 ||
	true
te=$(secs "$t0" "$(now)")
tail -n 1 "$out/expire.log"
echo "(e) odj expire days=0 --apply over $n blobs: ${te} s"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
