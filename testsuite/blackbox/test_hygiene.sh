#!/bin/bash
# Secrets hygiene: the process can't be dumped or traced, argv shows no
# password, blobs are 0600 whatever the umask, output never carries the
# password unless asked.
#
# needs: dc

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
chmod 755 "$S"
. "$ODJ_TOP/testsuite/env/env.sh" "$ODJ_DC_PREFIX"
ADMIN="$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
N=h$$

cleanup() {
	samba-tool computer delete "$N" -H "ldap://$ODJ_DC_NAME" -U "$ADMIN" \
		--configfile="$ODJ_ADMIN_SMBCONF" >/dev/null 2>&1
	exec 7>&- 2>/dev/null
	rm -rf "$S"
}
trap cleanup EXIT

# odj dump, run by an ordinary user, blocked reading a FIFO: a
# non-dumpable process' /proc entries belong to root, not to the user
mkfifo "$S/fifo"
chmod 666 "$S/fifo"
setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$ODJ" dump - <"$S/fifo" >/dev/null 2>&1 &
pid=$!
exec 7>"$S/fifo"
for _ in $(seq 1 50); do
	[ "$(stat -c %u "/proc/$pid/exe" 2>/dev/null)" != "" ] && break
	sleep 0.1
done
sleep 0.2
check "odj is not dumpable (its /proc entries are root's)" \
	'[ "$(stat -c %u "/proc/$pid/environ")" = 0 ]'
exec 7>&-
wait $pid

# umask 000: the blob is still 0600
(umask 000; "$ODJ" provision domain="$ODJ_DNS_DOMAIN" machine_name="$N" \
	dcname="$ODJ_DC_NAME" savefile="$S/$N.odj" -s "$ODJ_ADMIN_SMBCONF" \
	-U "$ADMIN" >/dev/null 2>&1)
check "blob is 0600 under umask 000" '[ "$(file_mode "$S/$N.odj")" = 600 ]'

# what ps shows while odj runs: no admin password
"$ODJ" provision domain="$ODJ_DNS_DOMAIN" machine_name="$N" reuse \
	dcname="$ODJ_DC_NAME" printblob -s "$ODJ_ADMIN_SMBCONF" \
	-U "$ADMIN" >"$S/blob.b64" 2>"$S/err" &
pid=$!
# popt parses before odj connects to the DC: wait for its first socket
# (a fixed sleep raced the start-up of a loaded machine)
for _ in $(seq 1 100); do
	ls -l "/proc/$pid/fd" 2>/dev/null | grep -q 'socket:' && break
	sleep 0.02
done
cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
wait $pid
check "the run was observed" '[ -n "$cmdline" ]'
check "argv shows no admin password once running" \
	'case $cmdline in *"$ODJ_ADMIN_PASS"*) false ;; *) true ;; esac'
check "printblob's report (stderr) holds no blob" \
	'! grep -qf "$S/blob.b64" "$S/err"'
pw=$("$ODJ" dump --json --show-secrets "$S/blob.b64" | python3 -c \
	'import json,sys
print(json.load(sys.stdin)["blobs"][0]["win7blob"]["machine_password"])')
for level in 0 3 10; do
	"$ODJ" dump -d $level "$S/blob.b64" >"$S/dump.$level" 2>&1
	check "dump -d $level: no password" '! grep -qF -- "$pw" "$S/dump.$level"'
done

exit $failed
