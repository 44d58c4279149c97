#!/bin/bash
# Batch provisioning speed, four ways against the same DC, N machines each:
#
#   (a) net:   a loop of Samba's `net offlinejoin provision`
#   (b) odj:   a loop of `odj provision`
#   (c) batch: one `odj provision batch=` (one LDAP session, pipelined)
#   (d) raw:   the DC's raw rate: bench/rawrate.c, the same library calls
#              as (c) (odj_dc_connect + odj_provision_send, pipelined) with
#              no blob encoded or written
#
# They run in the order a, b, d, c.  A Samba DC slows down as its
# directory grows, so each method meets a bigger one than the last:
# (d) before (c) and (a) first make c/d and c/a conservative.
#
#   bench/batch.sh [--quick] [N ...]     (default N=200; --quick: N=20)
#   ODJ_DC_PREFIX=... bench/batch.sh ... (use a running DC; else one is
#                                         started on ODJ_DC_IP, default
#                                         127.0.0.10, and stopped after)
#
# Times are wall clock of whole commands (process start, connect and bind
# included, as an admin would see them).  Prints machines/second, the
# ratios (c)/(d) and (c)/(a), and the load average: the numbers only mean
# something next to the machine's load.  Every account is deleted after.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${ODJ_BUILD:-$top/bin/default}
odj=$build/odj
env_dir=$top/testsuite/env
parallel=${ODJ_BENCH_PARALLEL:-8}

sizes=()
for a in "$@"; do
	case $a in
	--quick) sizes+=(20) ;;
	*[!0-9]* | '' | 0) echo "usage: $0 [--quick] [N ...]" >&2; exit 2 ;;
	*) sizes+=("$a") ;;
	esac
done
[ ${#sizes[@]} -gt 0 ] || sizes=(200)

out=$(mktemp -d "${TMPDIR:-/tmp}/odj-bench-batch.XXXXXX")
own_dc=
if [ -z "${ODJ_DC_PREFIX:-}" ]; then
	ODJ_DC_PREFIX=$out/dc
	own_dc=1
	"$env_dir/dc.sh" start "$ODJ_DC_PREFIX" >/dev/null 2>&1
fi
. "$env_dir/env.sh" "$ODJ_DC_PREFIX"
admin="$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
conf=$ODJ_ADMIN_SMBCONF
tag=$(printf '%x' $$)

cleanup() {
	local dns
	# every account of this run, in one LDAP session
	dns=$(ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$admin" \
		--configfile="$conf" "(&(objectClass=computer)(sAMAccountName=*$tag-*))" dn 2>/dev/null |
		sed -n 's/^dn: //p' | grep -iE "^CN=.[0-9]$tag-" || true)
	if [ -n "$dns" ]; then
		printf '%s\n' "$dns" | tr '\n' '\0' | xargs -0 -n 500 \
			ldbdel -H "ldap://$ODJ_DC_NAME" -U "$admin" \
			--configfile="$conf" >/dev/null 2>&1 || true
	fi
	if [ -n "$own_dc" ]; then
		"$env_dir/dc.sh" stop "$ODJ_DC_PREFIX" >/dev/null 2>&1 || true
	fi
	rm -rf "$out"
}
trap cleanup EXIT

# the DC's raw rate needs a program of its own, on the library
cc -std=gnu11 -O2 -o "$out/rawrate" "$top/bench/rawrate.c" \
	-I"$top/source/include" -I"$top/source/lib" -I"$build/gen" \
	$(pkg-config --cflags talloc tevent ldb samba-util ndr \
		samba-credentials samba-hostconfig) \
	"$build/libodj_dc.a" "$build/libodj_client.a" \
	"$build/libodj_codec.a" "$build/libodj_util.a" \
	$(pkg-config --libs talloc tevent tdb ldb samba-util ndr \
		ndr_standard ndr_nbt dcerpc samba-credentials \
		samba-hostconfig smbclient mit-krb5 gnutls jansson) \
	-ltevent-util -lsamba-errors -lresolv

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# rate N MS: machines per second, two decimals
rate() { echo "scale=2; $1 * 1000 / $2" | bc; }
ratio() { echo "scale=2; $1 / $2" | bc; }

# name METHOD N-INDEX I: at most 13 characters, unique per run
name() { printf '%s%s%s-%s' "$1" "$2" "$tag" "$3"; }

bench_one() {
	local n=$1 k=$2 i t0 ms_a ms_b ms_c ms_d line
	mkdir -p "$out/$k/a" "$out/$k/b" "$out/$k/c"
	for i in $(seq 1 "$n"); do
		name c "$k" "$i"
		echo
	done >"$out/$k/batch.txt"

	t0=$(now_ms)
	for i in $(seq 1 "$n"); do
		net offlinejoin provision domain="$ODJ_DNS_DOMAIN" \
			machine_name="$(name a "$k" "$i")" \
			dcname="$ODJ_DC_NAME" savefile="$out/$k/a/$i.odj" \
			-s "$conf" -U "$admin" >/dev/null
	done
	ms_a=$(($(now_ms) - t0))

	t0=$(now_ms)
	for i in $(seq 1 "$n"); do
		"$odj" provision domain="$ODJ_DNS_DOMAIN" \
			machine_name="$(name b "$k" "$i")" \
			dcname="$ODJ_DC_NAME" savefile="$out/$k/b/$i.odj" \
			-s "$conf" -U "$admin" >/dev/null
	done
	ms_b=$(($(now_ms) - t0))

	t0=$(now_ms)
	line=$("$out/rawrate" -s "$conf" -U "$admin" -d "$ODJ_DNS_DOMAIN" \
		-S "$ODJ_DC_NAME" -n "$n" -p "$parallel" -x "d$k$tag")
	ms_d=$(($(now_ms) - t0))

	t0=$(now_ms)
	"$odj" provision batch="$out/$k/batch.txt" savedir="$out/$k/c" \
		domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		parallel="$parallel" -s "$conf" -U "$admin" >"$out/$k/c.log"
	ms_c=$(($(now_ms) - t0))

	printf '\nN=%d  (load before %s, after %s; %d cores; parallel=%d)\n' \
		"$n" "$load_before" "$(load)" "$(nproc)" "$parallel"
	printf '  %-34s %8s %12s\n' method seconds machines/s
	printf '  %-34s %8s %12s\n' "(a) net offlinejoin provision loop" \
		"$(ratio "$ms_a" 1000)" "$(rate "$n" "$ms_a")"
	printf '  %-34s %8s %12s\n' "(b) odj provision loop" \
		"$(ratio "$ms_b" 1000)" "$(rate "$n" "$ms_b")"
	printf '  %-34s %8s %12s\n' "(c) odj provision batch=" \
		"$(ratio "$ms_c" 1000)" "$(rate "$n" "$ms_c")"
	printf '  %-34s %8s %12s\n' "(d) DC raw rate (no blobs)" \
		"$(ratio "$ms_d" 1000)" "$(rate "$n" "$ms_d")"
	printf '  (d) in-process: %s\n' "$line"
	printf '  ratios: c/d %s (target >= 0.80), c/a %s (target >= 8), b/a %s\n' \
		"$(ratio "$ms_d" "$ms_c")" "$(ratio "$ms_a" "$ms_c")" \
		"$(ratio "$ms_a" "$ms_b")"
}

printf 'samba-odj batch benchmark against %s (%s)\n' "$ODJ_DC_NAME" \
	"$ODJ_DC_PREFIX"
k=0
for n in "${sizes[@]}"; do
	load_before=$(load)
	bench_one "$n" "$k"
	k=$((k + 1))
done
