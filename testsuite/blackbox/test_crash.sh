#!/bin/bash
# Crash safety and concurrency of the client side, with no change to the
# code: odj requestodj is killed (SIGKILL) by strace's syscall fault
# injection at every point of a run, and two joins run at once.
#
# needs: dc
#
# requestodj, for each client kind (winbind on a client prefix, sssd and
# both on an image root): a reference run is traced (strace -f -o); every
# syscall from its first touch of the journal's directory (its mkdir or
# lock) to its end is a kill point, but for those that change nothing on
# disk and take no lock (memory, time, reads, stat): so every state the
# files pass through is reached.  Each kill runs on a copy of the old
# state bound over the client's path in a private mount namespace
# (unshare -m), two at a time.  After each kill:
#   - one later odj run ("odj recover", or "odj dump" for the first
#     winbind scenario: every odj command finishes what the journal
#     says); then the whole tree (every file's SHA-256, secrets.tdb by its
#     tdbdump after tdbtool check, modes, directories) must be exactly the
#     old state or the new one: a mix ("split", e.g. a new keytab beside
#     the old secrets.tdb) is a failure, and counted;
#   - no journal and no temporary file is left (they can hold keys);
#   - a rerun of the join succeeds and leaves none either (after every
#     third kill or so: the time it takes).
# Time and randomness are pinned (an LD_PRELOAD shim built here: time(),
# gettimeofday(), CLOCK_REALTIME, gnutls_rnd()), so that every run writes
# the same bytes and "the new state" is one tree.  Scenarios: winbind
# first join (with an smb.conf change), winbind re-join (the same account
# re-provisioned: a new password), sssd first join, sssd re-join, both
# first join (with an smb.conf change).  The counts are printed.
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
# ODJ_CRASH_EVERY=N kills at every Nth point only (default 1: all; 6
# under ASan).

. "$(dirname "$0")/common.sh"
odj_scratch

. "$(dirname "$0")/dc_env.sh"

S=$ODJ_SCRATCH
# under ASan (the second pass) every 6th point: it looks for memory
# errors on the paths a kill leaves, the plain pass for every state
if [ -n "${ASAN_OPTIONS:-}" ]; then
	EVERY=${ODJ_CRASH_EVERY:-6}
else
	EVERY=${ODJ_CRASH_EVERY:-1}
fi
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

for tool in strace tdbtool tdbdump cc unshare sha256sum; do
	if ! command -v $tool >/dev/null; then
		_fail "crash: $tool missing (buildtools/bootstrap installs it)"
		exit $failed
	fi
done

# --- the shim that pins time and randomness
if ! pin_shim "$S/pin.so"; then
	_fail "crash: build the time/random shim" "$(cat "$S/pin.so.log")"
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

# kill_points TRACE: "SYSCALL OCCURRENCE" for every syscall of a trace
# from the first that touches the journal's directory (its mkdir or lock)
# on, but for those that change nothing on disk and take no lock
kill_points() {
	awk -v every="$EVERY" '
	match($0, /^[0-9]+ +[a-z_0-9]+\(/) {
		s = substr($0, RSTART, RLENGTH - 1)
		sub(/^[0-9]+ +/, "", s)
		occ[s]++
		if (!on && (index($0, "odj-join.journal") ||
			    (s ~ /^mkdir/ && index($0, "samba-odj")))) {
			on = 1
		}
		if (!on || s ~ /^(mmap|munmap|mprotect|brk|madvise|futex|getrandom|lseek|read|pread64|readv|newfstatat|fstat|statx|statfs|fstatfs|readlink|readlinkat|access|faccessat2?|getdents64|getpid|gettid|getuid|geteuid|getgid|getegid|clock_gettime|gettimeofday|time|rt_sigaction|rt_sigprocmask|sigaltstack|uname|sysinfo|prlimit64|getcwd|ioctl|poll|set_robust_list|rseq|arch_prctl|set_tid_address|sched_getaffinity|prctl)$/) {
			next
		}
		if (++n % every == 0) {
			print s, occ[s]
		}
	}
	END { exit on ? 0 : 1 }' "$1"
}

# manifest DIR: the state of the tree (tree_state.py)
manifest() {
	/usr/bin/python3 "$ODJ_TOP/testsuite/blackbox/tree_state.py" "$1"
}

# in_ns TREE TARGET CMD...: CMD with TREE bound over TARGET, in a private
# mount namespace (the join's paths are TARGET's; its files go to TREE)
in_ns() {
	local tree=$1 target=$2
	shift 2
	unshare -m --propagation private -- /bin/sh -c \
		'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
		_ "$tree" "$target" "$@"
}

# leftovers TREE: the journal and temporary files found there
leftovers() {
	find "$1" \( -name '*.odj-??????' -o -name 'odj-join.journal' \) -print
}

# kill_one TARGET OLD NEW SC N RECOVERY... -- ARGS...: one kill, on a
# copy of tree OLD, then one odj run (odj RECOVERY...), then a rerun;
# prints "SC N RESULT" (old or new, then what is wrong, if anything)
kill_one() {
	local target=$1 old=$2 new=$3 sc=$4 n=$5 w rc res
	local -a recovery=()
	shift 5
	while [ "$1" != -- ]; do
		recovery+=("$1")
		shift
	done
	shift
	w=$S/w.$BASHPID
	rm -rf "$w"
	cp -a "$S/tree.$old" "$w"
	in_ns "$w" "$target" env LD_PRELOAD="$PIN" strace -f -qq -o /dev/null \
		-e trace="$sc" -e inject="$sc:signal=KILL:when=$n" \
		"$ODJ" requestodj "$@" >/dev/null 2>&1
	rc=$?
	if [ $rc = 0 ]; then
		# the run ended before that point (a child's syscalls interleave
		# differently): it must have made the new state, cleanly
		manifest "$w" >"$w.after"
		if cmp -s "$w.after" "$S/manifest.$new" &&
			[ -z "$(leftovers "$w")" ]; then
			echo "$sc $n new ran-to-end"
		else
			echo "$sc $n no-kill, and not the new state"
		fi
		rm -rf "$w" "$w".*
		return
	elif [ $rc != 137 ]; then
		echo "$sc $n no-kill(exit $rc)"
		rm -rf "$w" "$w".*
		return
	fi
	# the kill left a journal or staged files: the recovery run's work
	[ -z "$(leftovers "$w")" ] && res=" clean-kill" || res=
	if ! in_ns "$w" "$target" env LD_PRELOAD="$PIN" "$ODJ" \
		"${recovery[@]}" >"$w.rec" 2>&1; then
		echo "$sc $n recovery-failed: $(head -c 300 "$w.rec" | tr '\n' '|')"
		rm -rf "$w" "$w".*
		return
	fi
	manifest "$w" >"$w.after"
	if cmp -s "$w.after" "$S/manifest.$old"; then
		res="old$res"
	elif cmp -s "$w.after" "$S/manifest.$new"; then
		res="new$res"
	else
		res="split: $(diff "$S/manifest.$old" "$w.after" | head -c 400 | tr '\n' '|')"
	fi
	if [ -n "$(leftovers "$w")" ]; then
		res="$res LEFT: $(leftovers "$w" | tr '\n' ' ')"
	fi
	# a rerun of the join, after every third kill (the time it takes)
	if [ $((RANDOM % 3)) != 0 ]; then
		:
	elif ! in_ns "$w" "$target" env LD_PRELOAD="$PIN" "$ODJ" requestodj \
		"$@" >"$w.re" 2>&1; then
		res="$res RERUN-FAILED: $(head -c 300 "$w.re" | tr '\n' '|')"
	elif [ -n "$(leftovers "$w")" ]; then
		res="$res LEFT-AFTER-RERUN"
	fi
	echo "$sc $n $res"
	rm -rf "$w" "$w".*
}

# crash_scenario LABEL TARGET OLD NEW RECOVERY... -- ARGS...: kill
# requestodj ARGS at every kill point of a traced run from tree OLD (a
# copy of it bound over TARGET), whose result becomes tree NEW
crash_scenario() {
	local label=$1 target=$2 old=$3 new=$4 w=$S/ref out t0=$SECONDS
	local total killed oldc newc split left bad mixed k
	local -a rest
	shift 4
	rest=("$@")
	while [ "$1" != -- ]; do shift; done
	shift
	rm -rf "$w"
	cp -a "$S/tree.$old" "$w"
	manifest "$w" >"$S/manifest.$old"
	out=$(in_ns "$w" "$target" env LD_PRELOAD="$PIN" strace -f -qq \
		-o "$S/trace.$new" "$ODJ" requestodj "$@" 2>&1) ||
		{ _fail "$label: reference run" "$out"; return; }
	rm -rf "$S/tree.$new"
	cp -a "$w" "$S/tree.$new"
	manifest "$w" >"$S/manifest.$new"
	rm -rf "$w"
	if [ -n "$(leftovers "$S/tree.$new")" ]; then
		_fail "$label: the reference run left files" \
			"$(leftovers "$S/tree.$new")"
	fi
	kill_points "$S/trace.$new" >"$S/points.$new" ||
		{ _fail "$label: the trace never touches the journal"; return; }
	total=$(wc -l <"$S/points.$new")
	# two at a time: every other point each
	for k in 0 1; do
		awk -v k=$k 'NR % 2 == k' "$S/points.$new" |
			while read -r sc n; do
				kill_one "$target" "$old" "$new" "$sc" "$n" \
					"${rest[@]}"
			done >"$S/results.$new.$k" &
	done
	wait
	cat "$S/results.$new".[01] >"$S/results.$new"
	killed=$(grep -c -v -E ' no-kill|ran-to-end' "$S/results.$new")
	oldc=$(grep -c -E '^[^ ]+ [0-9]+ old' "$S/results.$new")
	newc=$(grep -c -E '^[^ ]+ [0-9]+ new' "$S/results.$new")
	split=$(grep -c ' split' "$S/results.$new")
	left=$(grep -c 'LEFT' "$S/results.$new")
	mixed=$(grep -v -c -E 'clean-kill|ran-to-end' "$S/results.$new")
	bad=$(grep -v -c -E '^[^ ]+ [0-9]+ (old|new)( clean-kill| ran-to-end)?$' \
		"$S/results.$new")
	printf '%s: %d syscalls traced, %d kill points, %d kills in %d s: old %d, new %d; split %d; journal or temporary files left %d; states the recovery run had to finish or undo %d\n' \
		"$label" "$(grep -c '^[0-9]' "$S/trace.$new")" "$total" \
		"$killed" $((SECONDS - t0)) "$oldc" "$newc" "$split" "$left" \
		"$mixed"
	grep -v -E '^[^ ]+ [0-9]+ (old|new)( clean-kill| ran-to-end)?$' "$S/results.$new" |
		head -n 5 | sed 's/^/    /'
	check "$label: every kill leaves the old or the new state after one odj run, nothing left, a rerun succeeds" \
		"[ $bad = 0 ] && [ $killed -ge $((total * 9 / 10)) ] && [ $total -gt 0 ]"
	check "$label: kills landed on both sides of the commit" \
		"[ $oldc -gt 0 ] && [ $newc -gt 0 ]"
}

# --- 1. requestodj killed, for every client kind
# winbind, on the client prefix: a first join that also changes smb.conf
# (its realm line removed), then a re-join of the re-provisioned account
CPD=$S/client
rm -rf "${PRIV:?}"/*
sed -i '/^[[:space:]]*realm = /d' "$CONF"
rm -rf "$S/tree.w0"
cp -a "$CPD" "$S/tree.w0"
crash_scenario "winbind first join" "$CPD" w0 w1 dump "$S/a1.odj" \
	-s "$CONF" -- loadfile="$S/a1.odj" --update-config -s "$CONF"
crash_scenario "winbind re-join (reuse)" "$CPD" w1 w2 recover -s "$CONF" \
	-- loadfile="$S/a2.odj" -s "$CONF"

# sssd and both, on an image root (with Samba's smb.conf for both)
IMG=$S/img
mkdir -p "$IMG/etc/samba" "$IMG/var/lib/samba/private" \
	"$IMG/var/cache/samba" "$IMG/var/lib/samba-odj"
chmod 0700 "$IMG/var/lib/samba/private"
printf '[global]\n\tnetbios name = %s\n\tworkgroup = %s\n\trealm = %s\n\tsecurity = ads\n\tkerberos method = secrets and keytab\n' \
	"$A" "$ODJ_DOMAIN" "$ODJ_REALM" >"$IMG/etc/samba/smb.conf"
rm -rf "$S/tree.i0" "$S/tree.b0"
cp -a "$IMG" "$S/tree.b0"
rm -rf "${IMG:?}/etc/samba"
cp -a "$IMG" "$S/tree.i0"
crash_scenario "sssd first join" "$IMG" i0 i1 recover root="$IMG" \
	-- loadfile="$S/a1.odj" client=sssd root="$IMG"
crash_scenario "sssd re-join (reuse)" "$IMG" i1 i2 recover root="$IMG" \
	-- loadfile="$S/a2.odj" client=sssd root="$IMG"
crash_scenario "both first join" "$IMG" b0 b1 recover root="$IMG" \
	-- loadfile="$S/a1.odj" client=both root="$IMG" --update-config
# the client prefix as the later sections expect it
rm -rf "$CPD"
cp -a "$S/tree.w0" "$CPD"
sed -i "/^[[:space:]]*workgroup = /a\\    realm = $ODJ_REALM" "$CONF"
# the states the concurrency tests start from and compare with
rm -rf "${PRIV:?}"/*
save_state empty
pinned "$ODJ" requestodj loadfile="$S/a1.odj" -s "$CONF" >/dev/null 2>&1
save_state join1
pinned "$ODJ" requestodj loadfile="$S/a2.odj" -s "$CONF" >/dev/null 2>&1
save_state join2

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
