#!/bin/bash
# Crash safety and concurrency of the client side, with no change to the
# code: odj requestodj is killed (SIGKILL) by strace's syscall fault
# injection at many points of a run, and two joins run at once.
#
# needs: dc
#
# requestodj: a reference run is traced (strace -f -o), and kill points
# are picked from its syscalls as (syscall, n-th call): a few spread
# over the start-up, and most from the first touch of secrets.tdb on:
# the tdb transaction (fcntl locks, pwrite, fallocate, msync,
# fdatasync), the keytab's temporary file, fsync and every rename.
# "strace -e inject=SYSCALL:signal=KILL:when=N" then kills a run there.
# After each kill:
#   - secrets.tdb passes "tdbtool check" (which, opening it read-write
#     as Samba does, runs tdb's recovery), or is absent if it was;
#   - its tdbdump equals the saved dump before or after the join, in
#     full; the keytab is byte for byte the old one (or absent) or the
#     new one;
#   - a rerun succeeds, and leaves a consistent secrets.tdb.
# Time and randomness are pinned (an LD_PRELOAD shim built here: time(),
# gettimeofday(), CLOCK_REALTIME, gnutls_rnd()), so that every run writes
# the same bytes and "the new state" is one dump.  Two scenarios: a
# first join (no secrets.tdb before) and a re-join over a join, with the
# same account re-provisioned (reuse: a new password).
#
# The kill between the keytab's rename and secrets.tdb's commit leaves
# a new keytab beside the old secrets.tdb (two files cannot change
# atomically together); such points are counted and printed ("split").
# A rerun brings both to the new join.  Temporary files a kill leaves
# (secrets.tdb.odj-*, krb5.keytab.odj-*) are counted too; a rerun
# removes them (under the secrets.tdb lock).
#
# odj provision killed while talking to the DC or writing the blob: the
# blob is never half written; a rerun either completes or says "already
# exists" (exit 6), and then "reuse" recovers the account (resets its
# password and writes a blob): no account is left without a way to
# clean it up.
#
# Concurrency: two requestodj at once on one secrets.tdb, for a first
# join (the same blob twice) and over an existing join (two accounts,
# --force): each ends as one complete serial order.
#
# ODJ_CRASH_POINTS (default 26) kill points per requestodj scenario.

. "$(dirname "$0")/common.sh"
odj_scratch

. "$(dirname "$0")/dc_env.sh"

S=$ODJ_SCRATCH
POINTS=${ODJ_CRASH_POINTS:-26}
TAG=$(printf '%05d' $(($$ % 100000)))
A=CRA$TAG		# the client of both requestodj scenarios
B=CRB$TAG		# a second account, for the concurrency test
P=CRP$TAG		# odj provision killed
ACCOUNTS=""
CLIENTS=""

cleanup() {
	local cp name
	for cp in $CLIENTS; do
		"$ENVD/client.sh" stop "$cp" >/dev/null 2>&1
	done
	for name in $ACCOUNTS; do
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			--configfile="$ODJ_ADMIN_SMBCONF" -U "$ADMIN" \
			>/dev/null 2>&1
	done
	rm -rf "$ODJ_SCRATCH"
}
trap cleanup EXIT

# LeakSanitizer cannot work under ptrace (strace): under the runner's
# ASan pass this script checks memory errors, the others leaks too
if [ -n "${ASAN_OPTIONS:-}" ]; then
	export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
fi

for tool in strace tdbtool tdbdump cc; do
	if ! command -v $tool >/dev/null; then
		_fail "crash: $tool missing (buildtools/bootstrap installs it)"
		exit $failed
	fi
done

# --- the shim that pins time and randomness
cat >"$S/pin.c" <<'EOF'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#define PINNED 1767225600	/* 2026-01-01 00:00:00 UTC */
time_t time(time_t *t)
{
	if (t != NULL) {
		*t = PINNED;
	}
	return PINNED;
}
int gettimeofday(struct timeval *tv, void *tz)
{
	(void)tz;
	if (tv != NULL) {
		tv->tv_sec = PINNED;
		tv->tv_usec = 0;
	}
	return 0;
}
int clock_gettime(clockid_t c, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);

	if (c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE) {
		ts->tv_sec = PINNED;
		ts->tv_nsec = 0;
		return 0;
	}
	if (real == NULL) {
		real = (int (*)(clockid_t, struct timespec *))
			dlsym(RTLD_NEXT, "clock_gettime");
	}
	return real(c, ts);
}
int gnutls_rnd(int level, void *data, size_t len)
{
	(void)level;
	memset(data, 0x5a, len);
	return 0;
}
EOF
if ! cc -shared -fPIC -O2 -o "$S/pin.so" "$S/pin.c" -ldl 2>"$S/cc.log"; then
	_fail "crash: build the time/random shim" "$(cat "$S/cc.log")"
	exit $failed
fi
PIN="$LD_PRELOAD${LD_PRELOAD:+:}$S/pin.so"

# pinned CMD...: run with time and randomness pinned
pinned() {
	LD_PRELOAD=$PIN "$@"
}

provision() {
	"$ODJ" provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		-s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN" "$@"
}

# --- accounts and the client
testit "provision $A" provision machine_name="$A" savefile="$S/a1.odj"
ACCOUNTS="$ACCOUNTS $A"
testit "provision $A again (reuse: a new password)" \
	provision machine_name="$A" savefile="$S/a2.odj" reuse
testit "provision $B" provision machine_name="$B" savefile="$S/b.odj"
ACCOUNTS="$ACCOUNTS $B"
CONF=$("$ENVD/client.sh" new "$S/client" "$A" 2>/dev/null) ||
	{ _fail "client.sh new $A"; exit $failed; }
CLIENTS="$S/client"
PRIV=$S/client/private
TDB=$PRIV/secrets.tdb
KT=$PRIV/krb5.keytab
if [ ! -f "$S/a1.odj" ] || [ ! -f "$S/a2.odj" ] || [ ! -f "$S/b.odj" ]; then
	exit $failed
fi

# save_state NAME / load_state NAME: the client's private directory
save_state() {
	rm -rf "$S/state.$1"
	mkdir "$S/state.$1"
	cp -p "$PRIV"/. "$S/state.$1/" -r
	if [ -f "$S/state.$1/secrets.tdb" ]; then
		tdbdump "$S/state.$1/secrets.tdb" >"$S/dump.$1"
	else
		rm -f "$S/dump.$1"
	fi
}
load_state() {
	rm -rf "$PRIV"
	mkdir -m 0700 "$PRIV"
	cp -p -r "$S/state.$1"/. "$PRIV/"
}

# tdb_state OLD NEW: "old", "new", "absent" or what is wrong
tdb_state() {
	local out
	if [ ! -e "$TDB" ]; then
		[ -e "$S/dump.$1" ] && echo "secrets.tdb gone" || echo absent
		return
	fi
	out=$(tdbtool "$TDB" check 2>&1)
	if ! printf '%s\n' "$out" | grep -q 'Database integrity is OK'; then
		echo "tdbtool check: $out"
		return
	fi
	tdbdump "$TDB" >"$S/dump.now" 2>&1
	if [ -e "$S/dump.$1" ] && cmp -s "$S/dump.now" "$S/dump.$1"; then
		echo old
	elif cmp -s "$S/dump.now" "$S/dump.$2"; then
		echo new
	else
		echo "secrets.tdb is neither: $(diff "$S/dump.$1" "$S/dump.now" 2>&1 | head -c 600)"
	fi
}

# kt_state OLD NEW
kt_state() {
	if [ ! -e "$KT" ]; then
		[ -e "$S/state.$1/krb5.keytab" ] && echo "keytab gone" ||
			echo absent
	elif [ -e "$S/state.$1/krb5.keytab" ] &&
		cmp -s "$KT" "$S/state.$1/krb5.keytab"; then
		echo old
	elif cmp -s "$KT" "$S/state.$2/krb5.keytab"; then
		echo new
	else
		echo "keytab is neither old nor new"
	fi
}

# kill_points TRACE N: N kill points "SYSCALL OCCURRENCE" from a trace:
# a quarter spread over the start, the rest over the syscalls from the
# first touch of secrets.tdb on (memory management and the keytab's
# repeated lseek left out), always with every fsync, fdatasync, msync
# and rename.
kill_points() {
	awk -v n="$2" '
	match($0, /^[0-9]+ +[a-z_0-9]+\(/) {
		s = substr($0, RSTART, RLENGTH - 1)
		sub(/^[0-9]+ +/, "", s)
		occ[s]++
		g++
		name[g] = s
		num[g] = occ[s]
		if (!win && index($0, "secrets.tdb")) {
			win = g
		}
	}
	END {
		if (!win) {
			exit 1
		}
		pre = int(n / 4)
		for (i = 1; i <= pre; i++) {
			# not the execve strace starts the program with
			k = int(2 + (i - 1) * (win - 2) / pre)
			print name[k], num[k]
		}
		m = 0
		for (k = win; k <= g; k++) {
			if (name[k] ~ /^(mmap|munmap|mprotect|brk|lseek|newfstatat|readlink|getrandom|futex)$/) {
				continue
			}
			cand[++m] = k
		}
		want = n - pre
		for (i = 1; i <= m; i++) {
			k = cand[i]
			must = name[k] ~ /^(fsync|fdatasync|msync|rename|renameat2?|link|unlink|ftruncate|fallocate|pwrite64)$/
			if (must || m <= want ||
			    int((i - 1) * want / m) != int(i * want / m)) {
				print name[k], num[k]
			}
		}
	}' "$1"
}

# crash_scenario LABEL OLD NEW ARGS...: kill requestodj ARGS at the kill
# points of a traced run from state OLD, whose result is state NEW
crash_scenario() {
	local label=$1 old=$2 new=$3 sc n rc st kt bad=0 split=0 left=0
	local killed=0 oldc=0 newc=0 out
	shift 3
	load_state "$old"
	out=$(pinned strace -f -qq -o "$S/trace.$new" "$ODJ" requestodj \
		"$@" -s "$CONF" 2>&1) ||
		{ _fail "$label: reference run" "$out"; return; }
	save_state "$new"
	kill_points "$S/trace.$new" "$POINTS" >"$S/points.$new" ||
		{ _fail "$label: no secrets.tdb in the trace"; return; }
	printf '%s: %d syscalls traced, %d kill points\n' "$label" \
		"$(grep -c '^[0-9]' "$S/trace.$new")" \
		"$(wc -l <"$S/points.$new")"
	while read -r sc n; do
		load_state "$old"
		pinned strace -f -qq -o /dev/null -e trace="$sc" \
			-e inject="$sc:signal=KILL:when=$n" \
			"$ODJ" requestodj "$@" -s "$CONF" >/dev/null 2>&1
		rc=$?
		if [ $rc != 137 ]; then
			_fail "$label: kill at $sc #$n (exit $rc, no kill)"
			bad=$((bad + 1))
			continue
		fi
		killed=$((killed + 1))
		st=$(tdb_state "$old" "$new")
		kt=$(kt_state "$old" "$new")
		case $st in old | absent) oldc=$((oldc + 1)) ;;
		new) newc=$((newc + 1)) ;; esac
		case "$st/$kt" in
		old/old | absent/absent | absent/old | old/absent | new/new) ;;
		old/new | absent/new) split=$((split + 1)) ;;
		*)
			_fail "$label: kill at $sc #$n" "secrets.tdb: $st; keytab: $kt"
			bad=$((bad + 1))
			continue ;;
		esac
		ls -a "$PRIV" | grep -q '\.odj-' && left=$((left + 1))
		out=$(pinned "$ODJ" requestodj "$@" -s "$CONF" 2>&1)
		rc=$?
		if [ $rc != 0 ]; then
			_fail "$label: rerun after a kill at $sc #$n" "exit $rc: $out"
			bad=$((bad + 1))
			continue
		fi
		if ! tdbtool "$TDB" check 2>&1 | grep -q 'integrity is OK'; then
			_fail "$label: secrets.tdb after the rerun ($sc #$n)"
			bad=$((bad + 1))
		fi
		# the rerun removes what the killed run left (it can hold keys)
		if ls -a "$PRIV" | grep -q '\.odj-'; then
			_fail "$label: temporary files after the rerun ($sc #$n)" \
				"$(ls -a "$PRIV")"
			bad=$((bad + 1))
		fi
	done <"$S/points.$new"
	printf '%s: %d kills: secrets.tdb old %d, new %d; split (new keytab, old secrets.tdb) %d; temporary files left %d\n' \
		"$label" "$killed" "$oldc" "$newc" "$split" "$left"
	check "$label: $killed kills, each leaves old or new state, and a rerun succeeds" \
		"[ $bad = 0 ] && [ $killed -ge $((POINTS * 9 / 10)) ]"
	check "$label: kills landed on both sides of the commit" \
		"[ $oldc -gt 0 ] && [ $newc -gt 0 ]"
}

# --- 1. requestodj killed: a first join, then a re-join over it
rm -rf "$PRIV"/*
save_state empty
crash_scenario "first join" empty join1 loadfile="$S/a1.odj"
crash_scenario "re-join (reuse)" join1 join2 loadfile="$S/a2.odj"

# --- 2. odj provision killed while it talks to the DC or writes the blob
ldb() {
	ldbsearch -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
		--configfile="$ODJ_ADMIN_SMBCONF" "$@" 2>/dev/null
}
computers() {
	ldb "(objectClass=computer)" dn | grep -c '^dn: '
}
account_exists() {
	ldb "(sAMAccountName=$P\$)" dn | grep -q '^dn: '
}
delete_p() {
	local dn
	dn=$(ldb "(sAMAccountName=$P\$)" dn | sed -n 's/^dn: //p')
	[ -z "$dn" ] || ldbdel -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
		--configfile="$ODJ_ADMIN_SMBCONF" "$dn" >/dev/null 2>&1
}

ACCOUNTS="$ACCOUNTS $P"
out=$(strace -f -qq -o "$S/trace.prov" "$ODJ" provision \
	domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" machine_name="$P" \
	savefile="$S/p.odj" -s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN" 2>&1) ||
	_fail "provision: reference run" "$out"
delete_p
rm -f "$S/p.odj"
# the last sends (the LDAP add, password set, checks), the blob's writes
awk '
match($0, /^[0-9]+ +[a-z_0-9]+\(/) {
	s = substr($0, RSTART, RLENGTH - 1); sub(/^[0-9]+ +/, "", s)
	occ[s]++
	if (s ~ /^(sendmsg|sendto|writev)$/) { last = s; sends[++ns] = occ[s] }
	if (index($0, "p.odj") && s ~ /^(renameat2|rename|link)$/)
		print s, occ[s]
	if (s == "fsync") print s, occ[s]
}
END { for (i = 0; i < 3; i++) if (ns - i * 3 > 0) print last, sends[ns - i * 3] }
' "$S/trace.prov" | sort -u >"$S/points.prov"
before=$(computers)
pbad=0
pkills=0
while read -r sc n; do
	(strace -f -qq -o /dev/null -e trace="$sc" \
		-e inject="$sc:signal=KILL:when=$n" "$ODJ" provision \
		domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" machine_name="$P" \
		savefile="$S/p.odj" -s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN" \
		>/dev/null 2>&1; echo $? >"$S/rc") 2>/dev/null
	rc=$(cat "$S/rc")
	[ $rc = 137 ] && pkills=$((pkills + 1))
	existed=no
	account_exists && existed=yes
	if [ -e "$S/p.odj" ] && ! "$ODJ" dump "$S/p.odj" >/dev/null 2>&1; then
		_fail "provision killed at $sc #$n: a broken blob"
		pbad=$((pbad + 1))
	fi
	rm -f "$S/p.odj"
	# the rerun: completes, or "already exists" and reuse recovers
	out=$("$ODJ" provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		machine_name="$P" savefile="$S/p.odj" -s "$ODJ_ADMIN_SMBCONF" \
		-U "$ADMIN" 2>&1)
	rc=$?
	if [ $rc = 6 ] && printf '%s' "$out" | grep -q 'already exists'; then
		out=$("$ODJ" provision domain="$ODJ_DNS_DOMAIN" \
			dcname="$ODJ_DC_NAME" machine_name="$P" \
			savefile="$S/p.odj" -s "$ODJ_ADMIN_SMBCONF" \
			-U "$ADMIN" reuse 2>&1)
		rc=$?
		recovered="reuse"
	else
		recovered="rerun"
	fi
	printf 'provision killed at %s #%s: account left: %s; recovered by %s (exit %s)\n' \
		"$sc" "$n" "$existed" "$recovered" "$rc"
	if [ $rc != 0 ] || ! "$ODJ" dump "$S/p.odj" >/dev/null 2>&1 ||
		! account_exists; then
		_fail "provision killed at $sc #$n: no recovery" "exit $rc: $out"
		pbad=$((pbad + 1))
	fi
	rm -f "$S/p.odj" "$S"/p.odj.odj-* 2>/dev/null
	delete_p
done <"$S/points.prov"
check "provision: $pkills kills, each recovered by a rerun or reuse" \
	"[ $pbad = 0 ] && [ $pkills -ge 4 ]"
check "provision: no account left behind" "[ \$(computers) = $before ]"

# --- 3. two requestodj at once on one secrets.tdb
# The same blob twice, for a first join and over an existing join: one
# run creates (or changes) secrets.tdb, the other waits for it and joins
# again over it, or gives up cleanly.  (Two accounts at once would also
# need two smb.conf edits, which are read before any lock is taken.)
load_state empty
pinned "$ODJ" requestodj loadfile="$S/a1.odj" -s "$CONF" >/dev/null 2>&1
pinned "$ODJ" requestodj loadfile="$S/a1.odj" -s "$CONF" >/dev/null 2>&1
save_state join11
conc_bad=0
for i in 1 2 3 4 5; do
	load_state empty
	pinned "$ODJ" requestodj loadfile="$S/a1.odj" -s "$CONF" \
		>"$S/c1.out" 2>&1 &
	pinned "$ODJ" requestodj loadfile="$S/a1.odj" -s "$CONF" \
		>"$S/c2.out" 2>&1 &
	wait
	st=$(tdb_state join1 join11)
	kt=$(kt_state join1 join11)
	case "$st/$kt" in
	old/old | new/old | old/new | new/new) ;;
	*)
		_fail "concurrent first joins ($i): $st / $kt" \
			"$(cat "$S/c1.out" "$S/c2.out")"
		conc_bad=$((conc_bad + 1)) ;;
	esac
	if ls -a "$PRIV" | grep -q '\.odj-'; then
		_fail "concurrent first joins ($i): temporary files left"
		conc_bad=$((conc_bad + 1))
	fi
done
check "two first joins at once: one complete state, 5 times" "[ $conc_bad = 0 ]"

# over an existing join: the re-provisioned blob twice at once
load_state join1
pinned "$ODJ" requestodj loadfile="$S/a2.odj" -s "$CONF" >/dev/null 2>&1
pinned "$ODJ" requestodj loadfile="$S/a2.odj" -s "$CONF" >/dev/null 2>&1
save_state join22
conc_bad=0
for i in 1 2 3 4 5; do
	load_state join1
	pinned "$ODJ" requestodj loadfile="$S/a2.odj" -s "$CONF" \
		>"$S/c1.out" 2>&1 &
	pinned "$ODJ" requestodj loadfile="$S/a2.odj" -s "$CONF" \
		>"$S/c2.out" 2>&1 &
	wait
	st=$(tdb_state join2 join22)
	if [ "$st" != old ] && [ "$st" != new ]; then
		_fail "concurrent re-joins ($i): $st" \
			"$(cat "$S/c1.out" "$S/c2.out")"
		conc_bad=$((conc_bad + 1))
	fi
done
check "two re-joins at once: one serial order, 5 times" "[ $conc_bad = 0 ]"

# --- 4. smb.conf replaced while a join waits for the secrets.tdb lock
# (as a concurrent --update-config join does): the waiting join must not
# pair its secrets.tdb with settings it did not check.  The lock is held
# by flock(1) until the join is seen waiting in /proc/locks.
load_state empty
cp -p "$CONF" "$S/conf.saved"
sed -i 's/^\([[:space:]]*netbios name = \).*/\1WAITER/' "$CONF"
flock -o "$PRIV" sleep 30 &
holder=$!
for _ in $(seq 1 50); do
	grep -q FLOCK /proc/locks && break
	sleep 0.1
done
"$ODJ" requestodj loadfile="$S/a1.odj" -s "$CONF" --update-config \
	>"$S/w.out" 2>&1 &
waiter=$!
for _ in $(seq 1 100); do
	grep -q -- '-> FLOCK' /proc/locks && break
	sleep 0.1
done
check "config race: the join waits for the lock" \
	"grep -q -- '-> FLOCK' /proc/locks"
cp -p "$CONF" "$S/conf.other" &&
	sed -i 's/WAITER/OTHER/' "$S/conf.other" &&
	mv "$S/conf.other" "$CONF"
pkill -P "$holder" sleep	# flock(1) then exits and lets go
wait "$waiter" && rc=0 || rc=$?
wait "$holder"
check "config race: refused (exit 4)" '[ "$rc" = 4 ]'
check "config race: says smb.conf changed" \
	'grep -q "changed while this join waited" "$S/w.out"'
check "config race: no secrets.tdb written" \
	'[ "$(tdb_state empty join1)" = absent ]'
check "config race: smb.conf as the other writer left it" \
	'grep -q "netbios name = OTHER" "$CONF"'
check "config race: no temporary file left" \
	'! ls -a "$PRIV" "$(dirname "$CONF")" | grep -q "\.odj-"'
cp -p "$S/conf.saved" "$CONF"

exit $failed
