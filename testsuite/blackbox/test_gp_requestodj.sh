#!/bin/bash
# odj requestodj applies the blob's POLICY part through Samba's own Group
# Policy machine extensions (odj-gp-apply), all or nothing with the join
# (issue 15):
#   - a GPO made with samba-tool on the throwaway DC, linked to the
#     domain, whose MACHINE/Registry.pol holds a sudo rule, a motd text
#     and an smb.conf setting; odj provision policynames=...; odj
#     requestodj --update-config: the sudoers file holds the rule and
#     passes visudo -c -f, motd holds the text, smb.conf has the setting
#     (and "apply group policies = yes"), samba-gpupdate --rsop lists the
#     GPO, gpo.tdb records it; --json valid against the schema;
#   - the DC reachable: samba-gpupdate --force leaves one sudoers file
#     and one motd; the GPO unlinked, samba-gpupdate removes what the
#     join wrote;
#   - a sudo rule visudo rejects in an ESSENTIAL POLICY part: the join is
#     refused (exit 3), nothing written (secrets.tdb byte for byte, no
#     file under the redirected paths); in a part that is not essential:
#     joined, the rule skipped and reported;
#   - an image root (root=DIR): every file the extensions write is in
#     DIR; requestodj killed (SIGKILL, strace fault injection as in
#     test_crash.sh) at a sample of points from the policy's stage on:
#     after one "odj recover" the image is the old or the new one (the
#     sudoers file's random name aside), nothing left behind.
#
# Nothing touches the machine's own /etc: the script runs in a private
# mount namespace whose /etc and /usr are overlays on scratch
# directories, and whose /etc/resolv.conf names only the throwaway DC
# (samba-gpupdate finds its DC through it).
#
# ODJ_GP_CLIENT_IPS (optional): loopback addresses for the clients.
# ODJ_GP_KILLS (default 24): how many kill points the kill test samples.
# ODJ_GP_KEEP: keep the scratch directory.
#
# needs: dc

if [ -z "${ODJ_GP_SANDBOX:-}" ]; then
	exec unshare -m --propagation private env ODJ_GP_SANDBOX=1 \
		bash "$0" "$@"
fi

. "$(dirname "$0")/common.sh"
odj_scratch
trap - EXIT
S=$ODJ_SCRATCH
chmod 755 "$S"

. "$(dirname "$0")/dc_env.sh"
. "$(dirname "$0")/gp_env.sh"
KILLS=${ODJ_GP_KILLS:-24}
JSON_CHECK="$PY $ODJ_TOP/testsuite/blackbox/json_check.py"
trap gp_cleanup EXIT

for tool in visudo strace tdbdump samba-gpupdate; do
	if ! command -v $tool >/dev/null; then
		_fail "gp requestodj: $tool missing (buildtools/bootstrap installs it)"
		exit $failed
	fi
done

# --- the sandbox
gp_sandbox || exit $failed
printf 'motd before the join %s\n' "$RUN" >/etc/motd
cp /etc/motd "$S/motd.orig"
mkdir -p /etc/sudoers.d

# essential SRC DST: the blob with its POLICY part flagged ESSENTIAL
# (test_extensions_client.sh's patch)
essential() {
	$PY - "$1" "$2" <<-'EOF'
	import base64, struct, sys, uuid
	raw = open(sys.argv[1], 'rb').read()
	ndr = bytearray(base64.b64decode(
	    raw[2:].decode('utf-16-le').rstrip('\0')))
	g = uuid.UUID('68fb602a-0c09-48ce-b75f-07b7bd58f7ec').bytes_le
	i = ndr.find(g)
	assert i > 0 and ndr.find(g, i + 1) == -1
	ndr[i + 16:i + 20] = struct.pack('<I', 1)
	out = base64.b64encode(bytes(ndr)).decode()
	open(sys.argv[2], 'wb').write(b'\xff\xfe' + (out + '\0').encode('utf-16-le'))
	EOF
}

# stray: temporary files, journals or stages a join left
stray() {
	find "$@" \( -name '*.odj-??????' -o -name 'odj-join.journal' \
		-o -name 'odj-gp-stage' \) -print 2>/dev/null
}

# new_client NAME: a client prefix (testit runs it in a subshell: the
# caller adds it to CLIENTS)
new_client() {
	"$ENVD/client.sh" new "$S/clients/$1" "$1" \
		${IPS[${#CLIENTS[@]} - 1]:-} >/dev/null 2>&1
}

provision() {
	odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		-s "$CONF" -U "$ADMIN" "$@"
}

MOTD="ODJ requestodj policy $RUN"
RULE="odjrq$RUN ALL=(ALL) NOPASSWD: /usr/bin/true"
BAD_RULE="odjrq$RUN ALL=(ALL NOPASSWD /usr/bin/true"
gp_pol "$S/good.pol" "$RULE" "$MOTD" || { _fail "Registry.pol"; exit $failed; }
gp_pol "$S/bad.pol" "$BAD_RULE" "$MOTD bad" firewalld

GPO_NAME="ODJ GP requestodj $RUN"
gpo_create GUID "$GPO_NAME"
check "samba-tool gpo create" '[ -n "$GUID" ]'
testit "Registry.pol into SYSVOL" gpo_put "$GUID" "$S/good.pol"
testit "GPO linked to the domain" \
	samba-tool gpo setlink "$DOMDN" "$GUID" "${H[@]}"
BAD_NAME="ODJ GP requestodj bad $RUN"
gpo_create BAD "$BAD_NAME"
testit "the bad GPO's Registry.pol into SYSVOL" gpo_put "$BAD" "$S/bad.pol"

# --- the join applies the GPO
A=$(printf 'gqa%s' "$RUN" | cut -c1-15)
NAMES+=("$A")
testit "provision with the GPO" provision machine_name="$A" \
	policynames="$GPO_NAME" savefile="$S/a.odj"
CLIENTS+=("$S/clients/$A")
testit "client.sh new ($A)" new_client "$A"
CA=$S/clients/$A
CCA=$CA/etc/smb.conf
cp -p "$CCA" "$S/a.smb.conf.orig"
t0=$SECONDS
out=$(odj requestodj loadfile="$S/a.odj" policyfile="$S/a.policy.json" \
	--update-config --json -s "$CCA" 2>"$S/a.err")
rc=$?
printf '%s\n' "$out" >"$S/a.json"
check "requestodj with the GPO: exit 0 ($((SECONDS - t0)) s)" '[ $rc = 0 ]'
testit "--json valid against the schema" \
	sh -c "$JSON_CHECK -c requestodj -o true <'$S/a.json'"
check "--json: the GPO, 3 settings applied" \
	'[ "$(jget "$S/a.json" "[(g[\"guid\"], g[\"applied\"], g[\"skipped\"]) for g in r[\"group_policy\"][\"gpos\"]]")" = "[('"'"'$GUID'"'"', 3, 0)]" ]'
SUDO_A=$(ls /etc/sudoers.d/gp_* 2>/dev/null)
check "--json: the files written" \
	'jget "$S/a.json" "r[\"group_policy\"][\"written\"]" | grep -qF "$SUDO_A" &&
	 jget "$S/a.json" "r[\"group_policy\"][\"written\"]" | grep -qF "/etc/motd" &&
	 jget "$S/a.json" "r[\"group_policy\"][\"written\"]" | grep -qF "$CA/cache/gpo.tdb"'
check "one sudoers file with the rule" \
	'[ "$(gp_files)" = 1 ] && grep -qxF "$RULE" "$SUDO_A"'
testit "visudo -c -f accepts it" visudo -c -f "$SUDO_A"
check "motd holds the text" '[ "$(cat /etc/motd)" = "$MOTD" ]'
check "smb.conf has the setting and apply group policies" \
	'grep -q "log level = 2" "$CCA" &&
	 grep -qi "apply group policies = yes" "$CCA"'
testit_grep "smb.conf loads, with log level 2" '^2 True$' $PY -c \
	'import sys; from samba.param import LoadParm; lp = LoadParm(); lp.load(sys.argv[1]); print(lp.get("log level"), lp.get("apply group policies"))' \
	"$CCA"
check "the policy JSON file stays" '[ -s "$S/a.policy.json" ]'
check "gpo.tdb: the machine's log names the GPO and the sudoers file" \
	'tdbdump -k "${A^^}\$" "$CA/cache/gpo.tdb" | grep -qF "$GUID" &&
	 tdbdump -k "${A^^}\$" "$CA/cache/gpo.tdb" | grep -qF "$SUDO_A"'
check "the GPO cache holds its Registry.pol, byte for byte" \
	'cmp -s "$S/good.pol" "$CA/cache/gpo_cache/ODJ.TEST/POLICIES/$GUID/MACHINE/REGISTRY.POL"'
check "nothing left: no stage, journal or temporary file" \
	'[ -z "$(stray "$CA" /etc)" ]'
testit "samba-gpupdate --rsop" gpupdate "$CA" --rsop
check "samba-gpupdate --rsop lists the GPO and the rule" \
	'grep -qxF "GPO: $GPO_NAME" "$S/gpupdate.out" &&
	 grep -qF "$RULE" "$S/gpupdate.out"'

# --- the DC reachable: the same settings, not twice; then unlinked
testit "samba-gpupdate --force" gpupdate "$CA" --force
check "after --force: one sudoers file, the same; motd once" \
	'[ "$(gp_files)" = 1 ] && [ "$(ls /etc/sudoers.d/gp_*)" = "$SUDO_A" ] &&
	 [ "$(cat /etc/motd)" = "$MOTD" ]'
testit "GPO unlinked" samba-tool gpo dellink "$DOMDN" "$GUID" "${H[@]}"
testit "samba-gpupdate after the unlink" gpupdate "$CA"
check "the offline apply undone: no sudoers file, motd as before" \
	'[ "$(gp_files)" = 0 ] && cmp -s /etc/motd "$S/motd.orig"'
check "smb.conf setting removed" '! grep -q "log level = 2" "$CCA"'

# --- a sudo rule visudo rejects: ESSENTIAL refused, else skipped
B=$(printf 'gqb%s' "$RUN" | cut -c1-15)
NAMES+=("$B")
testit "provision with the bad GPO" provision machine_name="$B" \
	policynames="$BAD_NAME" savefile="$S/b.odj"
essential "$S/b.odj" "$S/eb.odj"
check "the patched blob says ESSENTIAL" \
	'odj dump "$S/eb.odj" | grep -A3 "type: POLICY_PROVIDER" | grep -q "flags names: ESSENTIAL"'
CLIENTS+=("$S/clients/$B")
testit "client.sh new ($B)" new_client "$B"
CB=$S/clients/$B
nothing_written() {
	[ "$(gp_files)" = 0 ] && cmp -s /etc/motd "$S/motd.orig" &&
		[ ! -e "$CB/cache/gpo.tdb" ] && [ ! -e "$CB/cache/gpo_cache" ] &&
		[ -z "$(stray "$CB" /etc)" ]
}
testit_exit "ESSENTIAL bad rule: refused, exit 3" 3 \
	'ESSENTIAL: .*visudo -c rejects the rule' \
	odj requestodj loadfile="$S/eb.odj" -s "$CB/etc/smb.conf"
check "refused: no secrets.tdb, nothing under the redirected paths" \
	'[ ! -e "$CB/private/secrets.tdb" ] && nothing_written'
out=$(odj requestodj loadfile="$S/b.odj" -s "$CB/etc/smb.conf" 2>&1)
rc=$?
printf '%s\n' "$out" >"$S/b.out"
check "not essential: joined" '[ $rc = 0 ]'
check "not essential: the rule skipped, reported" \
	'grep -qF "Sudo Rights\\rule1 skipped: visudo -c rejects the rule" "$S/b.out" &&
	 grep "^group policy: GPO $BAD (" "$S/b.out" |
		grep -q "): 2 applied, 1 skipped, 1 left to samba-gpupdate, 0 not for Samba\$"'
check "not essential: the firewalld zone left to samba-gpupdate, reported" \
	'grep -qF "Firewalld\\Zones\\zone1 left to samba-gpupdate online" "$S/b.out"'
check "not essential: no sudoers file, motd and smb.conf applied" \
	'[ "$(gp_files)" = 0 ] && [ "$(cat /etc/motd)" = "$MOTD bad" ] &&
	 grep -q "log level = 2" "$CB/etc/smb.conf"'
cp -p "$CB/private/secrets.tdb" "$S/b.secrets.tdb"
cp -p /etc/motd "$S/b.motd"
cp -p "$CB/etc/smb.conf" "$S/b.smb.conf"
cp -p "$CB/cache/gpo.tdb" "$S/b.gpo.tdb"
testit_exit "ESSENTIAL bad rule over that join: refused, exit 3" 3 \
	'visudo -c rejects the rule' \
	odj requestodj loadfile="$S/eb.odj" -s "$CB/etc/smb.conf"
check "refused: secrets.tdb, gpo.tdb, smb.conf and motd byte for byte" \
	'cmp -s "$CB/private/secrets.tdb" "$S/b.secrets.tdb" &&
	 cmp -s "$CB/cache/gpo.tdb" "$S/b.gpo.tdb" &&
	 cmp -s "$CB/etc/smb.conf" "$S/b.smb.conf" &&
	 cmp -s /etc/motd "$S/b.motd" && [ "$(gp_files)" = 0 ] &&
	 [ -z "$(stray "$CB" /etc)" ]'
testit_grep "nopolicy: joined, the policy left alone" \
	"^Joined" odj requestodj loadfile="$S/b.odj" nopolicy \
	-s "$CB/etc/smb.conf"

# --- an image root: every path inside it; killed at every sampled point
IMG=$S/img
mkdir -p "$IMG/etc/samba" "$IMG/etc/sudoers.d" "$IMG/var/lib/samba/private" \
	"$IMG/var/cache/samba"
chmod 0700 "$IMG/var/lib/samba/private"
cp /etc/passwd /etc/group "$IMG/etc/"	# visudo needs root in passwd
printf 'image motd\n' >"$IMG/etc/motd"
printf '[global]\n\tnetbios name = %s\n\tworkgroup = %s\n\trealm = %s\n\tsecurity = ads\n' \
	"$A" "$ODJ_DOMAIN" "$ODJ_REALM" >"$IMG/etc/samba/smb.conf"
testit "GPO linked again" samba-tool gpo setlink "$DOMDN" "$GUID" "${H[@]}"
cp -a "$IMG" "$S/img.old"
testit "image root: joined" odj requestodj loadfile="$S/a.odj" root="$IMG" \
	--update-config
IMG_SUDO=$(ls "$IMG"/etc/sudoers.d/gp_* 2>/dev/null)
check "image root: the sudoers file, motd, smb.conf, gpo.tdb inside it" \
	'[ -n "$IMG_SUDO" ] && grep -qxF "$RULE" "$IMG_SUDO" &&
	 [ "$(cat "$IMG/etc/motd")" = "$MOTD" ] &&
	 grep -q "log level = 2" "$IMG/etc/samba/smb.conf" &&
	 tdbdump -k "${A^^}\$" "$IMG/var/cache/samba/gpo.tdb" |
		grep -qF "/etc/sudoers.d/${IMG_SUDO##*/}"'
check "image root: nothing outside it" \
	'[ "$(gp_files)" = 0 ] && cmp -s /etc/motd "$S/b.motd" &&
	 [ "$(stat -c %Y.%s /var/cache/samba/gpo.tdb 2>&1)" = "$HOST_GPO_TDB" ] &&
	 [ -z "$(stray "$IMG" /etc)" ]'

# The kill test: requestodj root=IMG killed (strace's fault injection,
# odj's own syscalls: the helper runs on, holding the join's lock) at
# KILLS points sampled from the first touch of the policy's stage to the
# end, each on a copy of the old image bound over IMG in a private mount
# namespace; then one "odj recover"; the image must be the old or the new
# one.  Time and randomness pinned as in test_crash.sh; the sudoers
# file's name (Python's random) is normalised.
pin_shim "$S/pin.so" ||
	{ _fail "the time/random shim" "$(cat "$S/pin.so.log")"; exit $failed; }
PIN="$LD_PRELOAD${LD_PRELOAD:+:}$S/pin.so"
# LeakSanitizer cannot work under ptrace
if [ -n "${ASAN_OPTIONS:-}" ]; then
	export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
fi

# image_state DIR: every entry, files by SHA-256, tdbs by their records
# (after tdbtool check), gp_XXXXXXXX names as gp_X
cat >"$S/state.py" <<'EOF'
import hashlib, os, re, stat, subprocess, sys
top = sys.argv[1]
norm = re.compile(rb'gp_[A-Za-z0-9_]{8}')
for d, dirs, files in os.walk(top):
    for n in sorted(dirs + files):
        p = os.path.join(d, n)
        rel = norm.sub(b'gp_X', os.path.relpath(p, top).encode()).decode()
        st = os.lstat(p)
        mode = '%o' % stat.S_IMODE(st.st_mode)
        if stat.S_ISDIR(st.st_mode):
            print(rel, 'D', mode)
        elif p.endswith('.tdb'):
            c = subprocess.run(['tdbtool', p, 'check'], capture_output=True)
            dump = subprocess.run(['tdbdump', p], capture_output=True).stdout
            ok = b'integrity is OK' in c.stdout + c.stderr
            print(rel, 'T' if ok else 'TDB-BROKEN',
                  hashlib.sha256(norm.sub(b'gp_X', dump)).hexdigest()[:16],
                  mode)
        else:
            with open(p, 'rb') as f:
                h = hashlib.sha256(f.read()).hexdigest()[:16]
            print(rel, 'F', h, mode)
EOF
image_state() {
	$PY "$S/state.py" "$1" | sort
}
in_ns() {
	local tree=$1
	shift
	unshare -m --propagation private -- /bin/sh -c \
		'mount --bind "$1" "$2" && shift 2 && exec "$@"' \
		_ "$tree" "$IMG" "$@"
}
JOIN=(requestodj loadfile="$S/a.odj" root="$IMG" --update-config)

W=$S/kw
rm -rf "$W"
cp -a "$S/img.old" "$W"
image_state "$W" >"$S/state.old"
in_ns "$W" env LD_PRELOAD="$PIN" strace -qq -s 200 -o "$S/trace" \
	"$ODJ" "${JOIN[@]}" >"$S/ref.out" 2>&1
rc=$?
check "kill test: the traced reference run" '[ $rc = 0 ]'
[ $rc = 0 ] || cat "$S/ref.out"
image_state "$W" >"$S/state.new"
check "kill test: the reference run left nothing" '[ -z "$(stray "$W")" ]'
# "SYSCALL OCCURRENCE" of each syscall from the first that names the
# stage on, but those that change nothing and take no lock
awk '
match($0, /^[a-z_0-9]+\(/) {
	s = substr($0, RSTART, RLENGTH - 1)
	occ[s]++
	if (!on && index($0, "odj-gp-stage")) {
		on = 1
	}
	if (!on || s ~ /^(mmap|munmap|mprotect|brk|madvise|futex|getrandom|lseek|read|pread64|readv|newfstatat|fstat|statx|statfs|fstatfs|readlink|readlinkat|access|faccessat2?|getdents64|getpid|gettid|getuid|geteuid|getgid|getegid|clock_gettime|gettimeofday|time|rt_sigaction|rt_sigprocmask|sigaltstack|uname|sysinfo|prlimit64|getcwd|ioctl|poll|set_robust_list|rseq|arch_prctl|set_tid_address|sched_getaffinity|prctl)$/) {
		next
	}
	print s, occ[s]
}' "$S/trace" >"$S/points.all"
TOTAL=$(wc -l <"$S/points.all")
STEP=$((TOTAL / KILLS))
[ "$STEP" -ge 1 ] || STEP=1
awk -v step="$STEP" '(NR - 1) % step == 0' "$S/points.all" |
	head -n "$KILLS" >"$S/points"
# and the helper's run: the point before it, its wait, the point after
l=$(grep -m1 -n '^wait4 ' "$S/points.all" | cut -d: -f1)
[ -n "$l" ] && sed -n "$((l - 1)),$((l + 1))p" "$S/points.all" >>"$S/points"
# and more from secrets.tdb's commit on (the files into place)
l=$(grep -m1 -n '^renameat2 ' "$S/points.all" | cut -d: -f1)
[ -n "$l" ] && awk -v l="$l" 'NR >= l && (NR - l) % 6 == 0' \
	"$S/points.all" >>"$S/points"
sort -u "$S/points" -o "$S/points"

KT0=$SECONDS
kills=0
oldc=0
newc=0
bad=0
while read -r sc n; do
	rm -rf "$W"
	cp -a "$S/img.old" "$W"
	in_ns "$W" env LD_PRELOAD="$PIN" strace -qq -o /dev/null \
		-e trace="$sc" -e inject="$sc:signal=KILL:when=$n" \
		"$ODJ" "${JOIN[@]}" >/dev/null 2>&1
	rc=$?
	if [ $rc != 137 ]; then
		_fail "kill at $sc #$n: not killed (exit $rc)"
		bad=$((bad + 1))
		continue
	fi
	kills=$((kills + 1))
	if ! in_ns "$W" env LD_PRELOAD="$PIN" "$ODJ" recover root="$IMG" \
		>"$S/rec.out" 2>&1; then
		_fail "kill at $sc #$n: odj recover failed" "$(cat "$S/rec.out")"
		bad=$((bad + 1))
		continue
	fi
	image_state "$W" >"$S/state.now"
	if cmp -s "$S/state.now" "$S/state.old"; then
		oldc=$((oldc + 1))
	elif cmp -s "$S/state.now" "$S/state.new"; then
		newc=$((newc + 1))
	else
		_fail "kill at $sc #$n: neither old nor new" \
			"$(diff "$S/state.old" "$S/state.now" | head -20)"
		bad=$((bad + 1))
	fi
	if [ -n "$(stray "$W")" ]; then
		_fail "kill at $sc #$n: left $(stray "$W" | tr '\n' ' ')"
		bad=$((bad + 1))
	fi
done <"$S/points"
echo "kill test: $TOTAL kill points from the stage on, $kills kills in $((SECONDS - KT0)) s: old $oldc, new $newc, bad $bad"
check "kill test: every kill leaves the old or the new image after one odj recover" \
	'[ $bad = 0 ] && [ $kills -ge 10 ]'
check "kill test: kills landed on both sides of the commit" \
	'[ $oldc -gt 0 ] && [ $newc -gt 0 ]'
rm -rf "$W"

exit $failed
