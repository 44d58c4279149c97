#!/bin/bash
# Time "odj requestodj" against Samba's "net offlinejoin requestodj" on the
# same blob, offline: both join a scratch client of their own, again and
# again (a re-join of the same account), runs interleaved.
#
#   bench/requestodj.sh [BLOB] [RUNS]
#
# BLOB defaults to testsuite/data/samba-4.17-requestodj.odj (no DC is
# contacted, so any blob will do); RUNS to 20.  Uses hyperfine if it is
# installed, else a python3 loop.  $ODJ picks the odj binary.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
ODJ=${ODJ:-$top/bin/default/odj}
BLOB=$(realpath "${1:-$top/testsuite/data/samba-4.17-requestodj.odj}")
RUNS=${2:-20}
W=$(mktemp -d "${TMPDIR:-/tmp}/odj-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

field() { "$ODJ" dump "$BLOB" | sed -n "s/^ *$1: //p" | head -n1; }
name=$(field "machine name")
domain=$(field "netbios domain")
realm=$(field "dns domain" | tr a-z A-Z)

# Samba's requestodj wants netbios name, workgroup, realm and security
# set, and a dedicated keytab (it crashes syncing a system keytab offline)
client() {
	local d=$W/$1
	mkdir -p "$d/private" "$d/lock" "$d/state" "$d/cache" "$d/run"
	cat >"$d/smb.conf" <<-EOC
	[global]
	    netbios name = $name
	    workgroup = $domain
	    realm = $realm
	    security = ads
	    kerberos method = dedicated keytab
	    dedicated keytab file = $d/private/krb5.keytab
	    private dir = $d/private
	    lock directory = $d/lock
	    state directory = $d/state
	    cache directory = $d/cache
	    pid directory = $d/run
	    ncalrpc dir = $d/run
	    log file = $d/log.%m
	    disable netbios = yes
	EOC
	printf '%s\n' "$d/smb.conf"
}
ODJ_CONF=$(client odj)
NET_CONF=$(client net)
odj_cmd="$ODJ requestodj loadfile=$BLOB -s $ODJ_CONF"
net_cmd="net offlinejoin requestodj loadfile=$BLOB -s $NET_CONF"

# the first join creates secrets.tdb; time the ones after it
$odj_cmd >/dev/null
$net_cmd >/dev/null

if command -v hyperfine >/dev/null 2>&1; then
	hyperfine -N -w 2 -r "$RUNS" --export-json "$W/h.json" \
		-n "odj requestodj" "$odj_cmd" \
		-n "net offlinejoin requestodj" "$net_cmd" >&2
	python3 - "$W/h.json" <<-'EOP'
	import json, sys
	r = json.load(open(sys.argv[1]))["results"]
	o, n = r[0]["median"] * 1000, r[1]["median"] * 1000
	print("odj requestodj:             median %6.1f ms" % o)
	print("net offlinejoin requestodj: median %6.1f ms" % n)
	print("ratio odj/net:              %.2f" % (o / n))
	EOP
	exit 0
fi

# Without hyperfine: one python3 loop, so that no fork of date(1) or of
# a shell is inside the timed interval (it would add the same constant
# to both and pull the ratio towards 1).
python3 - "$RUNS" "$odj_cmd" "$net_cmd" <<-'EOP'
import statistics, subprocess, sys, time
runs, cmds = int(sys.argv[1]), sys.argv[2:]
times = [[], []]
for _ in range(runs):
    for i, c in enumerate(cmds):
        t = time.perf_counter()
        subprocess.run(c.split(), stdout=subprocess.DEVNULL, check=True)
        times[i].append((time.perf_counter() - t) * 1000)
o, n = (statistics.median(t) for t in times)
print("odj requestodj:             median %6.1f ms (mean %.1f ms, %d runs)"
      % (o, statistics.mean(times[0]), runs))
print("net offlinejoin requestodj: median %6.1f ms (mean %.1f ms, %d runs)"
      % (n, statistics.mean(times[1]), runs))
print("ratio odj/net:              %.2f" % (o / n))
EOP
