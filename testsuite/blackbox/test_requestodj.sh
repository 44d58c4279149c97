#!/bin/bash
# odj requestodj: a blob and no DC in reach make a working domain member.
#
# needs: dc
#
# Against the throwaway DC of testsuite/env (ODJ_DC_PREFIX, set by
# testsuite/run): blobs from odj provision and from Samba's
# "net offlinejoin provision", joined offline and then proven with
# Kerberos (keytab and password), netlogon and winbind; the records
# compared with what Samba's own requestodj writes; winbindd's
# first-contact password change; bad input and failing disks leaving
# secrets.tdb byte for byte as it was.  Every account made here is
# deleted and every winbindd started here stopped at the end.

. "$(dirname "$0")/common.sh"
odj_scratch

. "$(dirname "$0")/dc_env.sh"

S=$ODJ_SCRATCH
# python3 of Debian, with the tdb module (python3-tdb)
PY=/usr/bin/python3

# unique per run: at most 15 characters
TAG=$(printf '%05d' $(($$ % 100000)))
A=RQA$TAG		# odj provision, odj requestodj, dedicated keytab
B=RQB$TAG		# Samba's provision, odj requestodj, secrets only

ACCOUNTS=""
CLIENTS=""
MOUNTS=""

cleanup() {
	local cp m name
	for m in $MOUNTS; do
		umount "$m" 2>/dev/null
	done
	for cp in $CLIENTS; do
		"$ENVD/client.sh" stop "$cp" >/dev/null 2>&1
	done
	for name in $ACCOUNTS; do
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			--configfile="$ODJ_ADMIN_SMBCONF" -U "$ADMIN" \
			>/dev/null 2>&1 ||
			echo "could not delete the account $name" >&2
	done
	rm -rf "$ODJ_SCRATCH"
}
trap cleanup EXIT

# new_client DIR NETBIOSNAME [kerberos method]: prints the smb.conf path
new_client() {
	local cp=$S/clients/$1 conf
	conf=$("$ENVD/client.sh" new "$cp" "$2" 2>/dev/null) || return 1
	CLIENTS="$CLIENTS $cp"
	if [ -n "${3:-}" ]; then
		sed -i "s/^\([[:space:]]*kerberos method = \).*/\1$3/" "$conf"
	fi
	printf '%s\n' "$conf"
}

cp_of() { printf '%s\n' "$S/clients/$1"; }

# tdb_get TDB KEY: the raw value
tdb_get() {
	$PY - "$1" "$2" <<-'EOF'
	import os, sys, tdb
	t = tdb.Tdb(sys.argv[1], 0, tdb.DEFAULT, os.O_RDONLY)
	v = t.get(sys.argv[2].encode())
	if v is None:
	    sys.exit(1)
	sys.stdout.buffer.write(v)
	EOF
}

tdb_keys() {
	tdbdump "$1" | sed -n 's/^key([0-9]*) = "\(.*\)"$/\1/p' | sort
}

kinit_keytab() {
	KRB5CCNAME=FILE:$S/kt.$1.cc kinit -k -t "$2" "$1\$@$ODJ_REALM" &&
		KRB5CCNAME=FILE:$S/kt.$1.cc kvno "ldap/$ODJ_DC_NAME"
}

# kinit_password NAME CLIENTDIR: with the password in secrets.tdb
kinit_password() {
	"$ENVD/client.sh" machine-password "$2" |
		KRB5CCNAME=FILE:$S/pw.$1.cc kinit "$1\$@$ODJ_REALM" >/dev/null
}

wbinfo_u() {
	"$ENVD/client.sh" run "$1" wbinfo -u |
		grep -qix "$ODJ_DOMAIN\\\\administrator"
}

# same TDB COPY: byte for byte (and no temporary files left beside)
same() {
	cmp -s "$1" "$2" && ! ls "$(dirname "$1")" | grep -q '\.odj-'
}

# --- A: odj provision -> odj requestodj, dedicated keytab
CA=$(new_client a "$A") || { _fail "client.sh new $A"; exit $failed; }
CPA=$(cp_of a)
BLOB_A=$S/$A.odj
testit "provision $A (odj)" \
	odj provision domain="$ODJ_DNS_DOMAIN" machine_name="$A" \
	dcname="$ODJ_DC_NAME" savefile="$BLOB_A" -s "$ODJ_ADMIN_SMBCONF" \
	-U "$ADMIN"
ACCOUNTS="$ACCOUNTS $A"
testit_grep "requestodj $A" "^Joined $ODJ_DOMAIN \\($ODJ_DNS_DOMAIN\\)" \
	odj requestodj loadfile="$BLOB_A" -s "$CA"
check "secrets.tdb is 0600" '[ "$(file_mode "$CPA/private/secrets.tdb")" = 600 ]'
check "keytab is 0600" '[ "$(file_mode "$CPA/private/krb5.keytab")" = 600 ]'
testit_grep "keytab: 15 entries, five principals" "RestrictedKrbHost/$A@" \
	klist -k "$CPA/private/krb5.keytab"
testit "kinit -k -t keytab $A\$" kinit_keytab "$A" "$CPA/private/krb5.keytab"
testit "kinit $A\$ with the stored password" kinit_password "$A" "$CPA"
testit "net rpc testjoin ($A)" net rpc testjoin -S "$ODJ_DC_NAME" -s "$CA"
testit "winbindd ($A)" "$ENVD/client.sh" start-winbindd "$CPA"
testit "wbinfo -t ($A)" "$ENVD/client.sh" run "$CPA" wbinfo -t
testit "wbinfo -u ($A)" wbinfo_u "$CPA"
"$ENVD/client.sh" stop "$CPA" >/dev/null 2>&1

# --- B: Samba's provision -> odj requestodj (djoin spelling), secrets
#     only: winbindd changes the password at first contact
CB=$(new_client b "$B" "secrets only") || { _fail "client.sh new $B"; exit $failed; }
CPB=$(cp_of b)
BLOB_B=$S/$B.odj
testit "provision $B (net offlinejoin)" \
	net offlinejoin provision domain="$ODJ_DNS_DOMAIN" machine_name="$B" \
	dcname="$ODJ_DC_NAME" savefile="$BLOB_B" -s "$ODJ_ADMIN_SMBCONF" \
	-U "$ADMIN"
ACCOUNTS="$ACCOUNTS $B"
testit_grep "requestodj $B (/REQUESTODJ /LOADFILE /WINDOWSPATH /LOCALOS)" \
	'winbindd changes the machine password at its first contact' \
	odj /REQUESTODJ /LOADFILE "$BLOB_B" /WINDOWSPATH 'C:\Windows' \
	/LOCALOS keytab="$CPB/private/b.keytab" -s "$CB"
check "MACHINE_LAST_CHANGE_TIME says: expired" \
	'[ "$(tdb_get "$CPB/private/secrets.tdb" \
	   "SECRETS/MACHINE_LAST_CHANGE_TIME/$ODJ_DOMAIN" | od -An -tu4 |
	   tr -d " ")" = 1 ]'
testit "kinit -k -t keytab $B\$" kinit_keytab "$B" "$CPB/private/b.keytab"
testit "kinit $B\$ with the stored password" kinit_password "$B" "$CPB"
testit "net rpc testjoin ($B)" net rpc testjoin -S "$ODJ_DC_NAME" -s "$CB"
OLD_PW=$S/b.oldpw
"$ENVD/client.sh" machine-password "$CPB" >"$OLD_PW"
testit "winbindd ($B)" "$ENVD/client.sh" start-winbindd "$CPB"
testit "wbinfo -t ($B)" "$ENVD/client.sh" run "$CPB" wbinfo -t
testit "wbinfo -u ($B)" wbinfo_u "$CPB"

# winbindd's child changes the password as soon as it runs
rotated() {
	local i
	for i in $(seq 1 60); do
		"$ENVD/client.sh" machine-password "$CPB" >"$S/b.newpw"
		if ! cmp -s "$OLD_PW" "$S/b.newpw"; then
			return 0
		fi
		sleep 0.5
	done
	return 1
}
# OLD_PW: what requestodj stored, the blob's (kinit above proved it)
testit "first contact: winbindd changed the blob's password" rotated
testit "kinit $B\$ with the new password" kinit_password "$B" "$CPB"
old_kinit() {
	KRB5CCNAME=FILE:$S/old.cc kinit "$B\$@$ODJ_REALM" <"$OLD_PW" >/dev/null
}
testit_expect_failure "kinit $B\$ with the blob's password fails" old_kinit
testit "wbinfo -t after the change ($B)" \
	"$ENVD/client.sh" run "$CPB" wbinfo -t
testit "net rpc testjoin after the change ($B)" \
	net rpc testjoin -S "$ODJ_DC_NAME" -s "$CB"
"$ENVD/client.sh" stop "$CPB" >/dev/null 2>&1
cp -p "$CPB/private/secrets.tdb" "$S/b.tdb"
testit_exit "the blob again, after the change: refused, exit 4" 4 \
	'a password changed since that join' \
	odj requestodj loadfile="$BLOB_B" -s "$CB"
check "the blob again: secrets.tdb unchanged" \
	'same "$CPB/private/secrets.tdb" "$S/b.tdb"'

# --- C: the same blob through Samba's requestodj and ours
CS=$(new_client c-samba "$A") && CO=$(new_client c-odj "$A")
CPS=$(cp_of c-samba)
CPO=$(cp_of c-odj)
testit "net offlinejoin requestodj ($A, Samba's)" \
	net offlinejoin requestodj loadfile="$BLOB_A" -s "$CS"
testit "odj requestodj - ($A, from stdin)" \
	sh -c "$ODJ requestodj - -s '$CO' < '$BLOB_A'"
tdb_keys "$CPS/private/secrets.tdb" >"$S/keys.samba"
tdb_keys "$CPO/private/secrets.tdb" >"$S/keys.odj"
testit "secrets.tdb keys are Samba's" diff "$S/keys.samba" "$S/keys.odj"
info_dump() {
	tdb_get "$1" "SECRETS/MACHINE_DOMAIN_INFO/$ODJ_DOMAIN" >"$2.ndr" &&
		ndrdump secrets secrets_domain_infoB struct "$2.ndr" |
		grep -Ev 'join_time|password_last_change|change_time' >"$2"
}
info_dump "$CPS/private/secrets.tdb" "$S/info.samba"
info_dump "$CPO/private/secrets.tdb" "$S/info.odj"
testit "ndrdump of MACHINE_DOMAIN_INFO is Samba's but for times" \
	diff "$S/info.samba" "$S/info.odj"
for k in MACHINE_PASSWORD SID DOMGUID MACHINE_SEC_CHANNEL_TYPE PROTECT/IDS; do
	check "SECRETS/$k/$ODJ_DOMAIN is Samba's" \
		'cmp -s <(tdb_get "$CPS/private/secrets.tdb" "SECRETS/$k/$ODJ_DOMAIN") \
		        <(tdb_get "$CPO/private/secrets.tdb" "SECRETS/$k/$ODJ_DOMAIN")'
done

# --- D: smb.conf that does not match the blob
CD=$(new_client d "RQD$TAG")
CPD=$(cp_of d)
cp "$CD" "$S/d.conf"
testit_exit "mismatching smb.conf: exit 4, nothing written" 4 \
	"set 'netbios name = $A' in \\[global\\] of $CD" \
	odj requestodj loadfile="$BLOB_A" -s "$CD"
check "mismatching smb.conf: no secrets.tdb made" \
	'[ ! -e "$CPD/private/secrets.tdb" ] && cmp -s "$CD" "$S/d.conf"'
sed -i -e "s/^\([[:space:]]*realm = \).*/\1WRONG.TEST/" \
	-e "s/^\([[:space:]]*security = \).*/\1user/" "$CD"
cp "$CD" "$S/d.conf"
out=$(odj requestodj loadfile="$BLOB_A" -s "$CD" 2>&1)
check "one line per parameter" \
	'[ "$(printf "%s\n" "$out" | grep -c "^set .* in \[global\] of ")" = 3 ]'
testit_grep "--update-config" "smb.conf: set 'realm = $ODJ_REALM'" \
	odj requestodj loadfile="$BLOB_A" --update-config -s "$CD"
testit_grep "--update-config: smb.conf now matches" "^$A\$" \
	testparm -s --parameter-name="netbios name" "$CD"
check "--update-config: only those lines changed" \
	'[ "$(diff "$S/d.conf" "$CD" | grep -c "^>")" = 3 ]'

# --- E: bad input: a clear error, exit != 0, secrets.tdb as it was
T=$CPO/private/secrets.tdb
cp -p "$T" "$S/before.tdb"
cp -p "$CPO/private/krb5.keytab" "$S/before.keytab"
head -c 2000 "$BLOB_A" >"$S/trunc.odj"
testit_exit "truncated blob: exit 3" 3 'base64|truncated' \
	odj requestodj loadfile="$S/trunc.odj" -s "$CO"
check "truncated blob: secrets.tdb unchanged" 'same "$T" "$S/before.tdb"'
testit_exit "blob of another domain: smb.conf mismatch, exit 4" 4 \
	"set 'realm = W2K19DOM.BER.REDHAT.COM'" \
	odj requestodj loadfile="$ODJ_DATA/windows-2019-provision.odj" -s "$CO"
cp -p "$CO" "$S/co.conf"
testit_exit "blob of another domain vs existing join: exit 4" 4 \
	'already holds the join of .* to ODJ .*--force' \
	odj requestodj loadfile="$ODJ_DATA/windows-2019-provision.odj" \
	--update-config -s "$CO"
check "another domain: secrets.tdb, keytab, smb.conf unchanged" \
	'same "$T" "$S/before.tdb" &&
	 cmp -s "$CPO/private/krb5.keytab" "$S/before.keytab" &&
	 cmp -s "$CO" "$S/co.conf"'

# the JOIN_PROVIDER3 part turned into an unknown type, ESSENTIAL or not
patch_part() {
	$PY - "$BLOB_A" "$1" "$2" <<-'EOF'
	import base64, struct, sys, uuid
	src, dst, flags = sys.argv[1], sys.argv[2], int(sys.argv[3])
	raw = open(src, 'rb').read()
	text = raw[2:].decode('utf-16-le').rstrip('\0')
	ndr = bytearray(base64.b64decode(text))
	jp3 = uuid.UUID('fc0ccf25-7ffa-474a-8611-69ffe269645f').bytes_le
	i = ndr.find(jp3)
	assert i > 0 and ndr.find(jp3, i + 1) == -1
	ndr[i:i + 16] = uuid.UUID('0d15ea5e-0bad-4bad-8bad-000000000001').bytes_le
	ndr[i + 16:i + 20] = struct.pack('<I', flags)
	out = base64.b64encode(bytes(ndr)).decode()
	open(dst, 'wb').write(b'\xff\xfe' + (out + '\0').encode('utf-16-le'))
	EOF
}
patch_part "$S/essential.odj" 1
patch_part "$S/optional.odj" 0
testit_exit "unknown ESSENTIAL part: exit 3" 3 \
	'part [0-9]+ \(unknown type .*ESSENTIAL' \
	odj requestodj loadfile="$S/essential.odj" -s "$CO"
check "unknown ESSENTIAL part: secrets.tdb unchanged" 'same "$T" "$S/before.tdb"'
testit_grep "unknown part, not essential: joined, with a note" \
	'note: ignored blob 2 part [0-9]+ \(unknown type' \
	odj requestodj loadfile="$S/optional.odj" -s "$CO"

# failing disks: a client whose secrets.tdb is the only file written
CF=$(new_client f "$A" "secrets only")
CPF=$(cp_of f)
testit "requestodj ($A, secrets only: no keytab)" \
	odj requestodj loadfile="$BLOB_A" -s "$CF"
TF=$CPF/private/secrets.tdb
cp -p "$TF" "$S/f.tdb"
# a small secrets.tdb that the join has to grow (tdb writes through
# mmap where the file is big enough, which no limit stops)
$PY -c 'import os, sys, tdb
t = tdb.Tdb(sys.argv[1], 0, tdb.DEFAULT, os.O_RDWR | os.O_CREAT, 0o600)
t[b"SECRETS/ODJ-TEST/KEEP"] = b"me\0"' "$S/small.tdb"
cp -p "$S/small.tdb" "$TF"
testit_exit "RLIMIT_FSIZE: exit 4" 4 'cannot write .*: File too large' \
	sh -c "ulimit -f 1; exec $ODJ requestodj loadfile='$BLOB_A' -s '$CF'"
check "RLIMIT_FSIZE: secrets.tdb unchanged" 'same "$TF" "$S/small.tdb"'

if mount -t tmpfs -o size=8m odj-test "$CPF/private" 2>/dev/null; then
	MOUNTS="$CPF/private $MOUNTS"
	# a full disk, the small secrets.tdb present
	cp -p "$S/small.tdb" "$TF"
	dd if=/dev/zero of="$CPF/private/filler" bs=4k 2>/dev/null
	testit_exit "disk full: exit 4" 4 'cannot write .*: No space left' \
		odj requestodj loadfile="$BLOB_A" -s "$CF"
	check "disk full: secrets.tdb unchanged" 'same "$TF" "$S/small.tdb"'
	# a full disk, no secrets.tdb yet
	rm -f "$TF" "$CPF/private/filler"
	dd if=/dev/zero of="$CPF/private/filler" bs=4k 2>/dev/null
	testit_expect_failure "disk full, new secrets.tdb: fails" \
		odj requestodj loadfile="$BLOB_A" -s "$CF"
	check "disk full: no secrets.tdb made, nothing left" \
		'[ "$(ls -A "$CPF/private")" = filler ]'
	# read-only, with and without secrets.tdb
	rm -f "$CPF/private/filler"
	cp -p "$S/f.tdb" "$TF"
	mount -o remount,ro "$CPF/private"
	testit_exit "read-only private dir: exit 4" 4 'Read-only' \
		odj requestodj loadfile="$BLOB_A" -s "$CF"
	check "read-only private dir: secrets.tdb unchanged" 'same "$TF" "$S/f.tdb"'
	umount "$CPF/private"
	mount -t tmpfs -o size=1m,ro odj-test "$CPF/private"
	testit_exit "read-only private dir, new secrets.tdb: exit 4" 4 \
		'Read-only' odj requestodj loadfile="$BLOB_A" -s "$CF"
	check "read-only private dir: no secrets.tdb made" \
		'[ -z "$(ls -A "$CPF/private")" ]'
	umount "$CPF/private"
	MOUNTS=
else
	echo "SKIP: no tmpfs mounts here: disk-full and read-only cases"
fi

exit $failed
