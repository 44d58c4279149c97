#!/bin/bash
# Provisioning speed: N machines with `odj provision` and with Samba's
# `net offlinejoin provision`, against the same throwaway DC, one process
# per machine (as an admin's loop would run them).
#
#   bench/provision.sh [N]            (default 20; starts its own DC)
#   ODJ_DC_PREFIX=... bench/provision.sh [N]   (use a running DC)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-20}
env_dir=$top/testsuite/env
odj=$top/bin/default/odj

own_dc=
if [ -z "${ODJ_DC_PREFIX:-}" ]; then
	ODJ_DC_PREFIX=$(mktemp -d "${TMPDIR:-/tmp}/odj-bench.XXXXXX")
	own_dc=1
	"$env_dir/dc.sh" start "$ODJ_DC_PREFIX" >/dev/null 2>&1
fi
. "$env_dir/env.sh" "$ODJ_DC_PREFIX"
admin="$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
out=$(mktemp -d "${TMPDIR:-/tmp}/odj-bench-out.XXXXXX")
tag=$$

cleanup() {
	local i
	for i in $(seq 1 "$n"); do
		for t in o s; do
			samba-tool computer delete "b$t$tag-$i" \
				-H "ldap://$ODJ_DC_NAME" -U "$admin" \
				--configfile="$ODJ_ADMIN_SMBCONF" >/dev/null 2>&1 || true
		done
	done
	rm -rf "$out"
	if [ -n "$own_dc" ]; then
		"$env_dir/dc.sh" stop "$ODJ_DC_PREFIX" >/dev/null 2>&1
		rm -rf "$ODJ_DC_PREFIX"
	fi
}
trap cleanup EXIT

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

t0=$(now_ms)
for i in $(seq 1 "$n"); do
	"$odj" provision domain="$ODJ_DNS_DOMAIN" machine_name="bo$tag-$i" \
		dcname="$ODJ_DC_NAME" savefile="$out/o$i.odj" \
		-s "$ODJ_ADMIN_SMBCONF" -U "$admin" >/dev/null
done
t1=$(now_ms)
for i in $(seq 1 "$n"); do
	net offlinejoin provision domain="$ODJ_DNS_DOMAIN" \
		machine_name="bs$tag-$i" dcname="$ODJ_DC_NAME" \
		savefile="$out/s$i.odj" -s "$ODJ_ADMIN_SMBCONF" \
		-U "$admin" >/dev/null
done
t2=$(now_ms)

odj_ms=$(( (t1 - t0) / n ))
net_ms=$(( (t2 - t1) / n ))
printf 'machines:                        %d\n' "$n"
printf 'odj provision:                   %d ms per machine\n' "$odj_ms"
printf 'net offlinejoin provision:       %d ms per machine\n' "$net_ms"
printf 'odj / net:                       %d.%02d\n' \
	$((odj_ms / net_ms)) $(( (odj_ms * 100 / net_ms) % 100 ))
