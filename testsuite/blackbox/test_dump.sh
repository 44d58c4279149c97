#!/bin/bash
# odj dump: the peers' vectors, both output forms, secrets, bad input.
#
# Vectors (testsuite/data/README.md): Windows Server 2019 djoin /provision
# and Samba 4.17.12 net offlinejoin provision.

. "$(dirname "$0")/common.sh"
odj_scratch

WIN=$ODJ_DATA/windows-2019-provision.odj
WIN_NDR=$ODJ_DATA/windows-2019-provision.ndr
SMB=$ODJ_DATA/samba-4.17-provision.odj
S=$ODJ_SCRATCH

# --- Windows Server 2019 vector: every field the issue names
out=$(odj dump "$WIN" 2>&1)
for re in 'domain: w2k19dom\.ber\.redhat\.com' 'netbios domain: W2K19DOM' \
	'machine name: wurst2' \
	'domain sid: S-1-5-21-306967272-1096148586-1957995587$' \
	'domain guid: c0761a96-e242-4ec2-9160-7a66a4ac4929' \
	'dc name: \\\\gdw2k19dc\.w2k19dom\.ber\.redhat\.com' \
	'dc address: \\\\192\.168\.56\.108' \
	'dc site: Default-First-Site-Name' \
	'client site: Default-First-Site-Name' \
	'format name: ODJ_WIN7_FORMAT' 'format name: ODJ_WIN8_FORMAT' \
	'rid: 1605' \
	'machine sid: S-1-5-21-306967272-1096148586-1957995587-1605' \
	'options names: NETSETUP_PROVISION_USE_DEFAULT_PASSWORD'; do
	check "dump windows-2019: /$re/" \
		'printf "%s\n" "$out" | grep -Eq -- "$re"'
done
check "dump windows-2019: two blobs" \
	'[ "$(printf "%s\n" "$out" | grep -c "^blob [0-9]*:")" = 2 ]'
check "dump windows-2019: JOIN_PROVIDER part is ESSENTIAL" \
	'printf "%s\n" "$out" | grep -A3 "type: JOIN_PROVIDER$" |
	 grep -q "flags names: ESSENTIAL"'
check "dump windows-2019: JOIN_PROVIDER3 is part 2" \
	'printf "%s\n" "$out" | grep -A1 "part 2:" | grep -q JOIN_PROVIDER3'
testit_exit "dump of raw NDR (not a file) is refused" 3 'base64' \
	sh -c "$ODJ dump - < '$WIN_NDR'"

# --- Samba 4.17 vector
out=$(odj dump "$SMB" 2>&1)
for re in 'domain: odj\.test' 'netbios domain: ODJ' 'machine name: odjclient' \
	'dc name: \\\\dc1\.odj\.test' 'dc address: \\\\127\.0\.0\.10' \
	'domain guid: 45b40f78-0e7e-4532-8faf-bccfe910e529' \
	'dns forest: odj\.test' 'type: JOIN_PROVIDER3' 'rid: 1103'; do
	check "dump samba-4.17: /$re/" 'printf "%s\n" "$out" | grep -Eq -- "$re"'
done

# --- JSON
testit "dump --json is valid JSON" \
	sh -c "$ODJ dump --json '$WIN' | python3 -m json.tool >/dev/null"
testit_grep "dump --json: JOIN_PROVIDER3 RID" '^1605$' \
	sh -c "$ODJ dump --json '$WIN' | python3 -c 'import json,sys;
d=json.load(sys.stdin); print(d[\"blobs\"][1][\"op_package\"][\"parts\"][1][\"content\"][\"rid\"])'"

# --- secrets
testit_grep "dump redacts the password" 'machine password: <redacted>' \
	odj dump "$WIN"
check "dump never prints the password unasked" \
	'! odj dump "$WIN" | grep -q "password: wurst2"'
testit_grep "dump --json redacts the password" \
	'"machine_password": "<redacted>"' odj dump --json "$WIN"
check "dump --json never prints the password unasked" \
	'! odj dump --json "$WIN" | grep -q "machine_password\": \"wurst2\""'
testit_grep "dump --show-secrets shows it" 'machine password: wurst2' \
	odj dump --show-secrets "$WIN"

# --- input forms and spellings
testit_grep "dump from stdin (-)" 'machine name: wurst2' \
	sh -c "$ODJ dump - < '$WIN'"
testit_grep "dump -i reads stdin" 'machine name: wurst2' \
	sh -c "$ODJ dump -i < '$WIN'"
testit_grep "dump loadfile=" 'machine name: odjclient' odj dump loadfile="$SMB"
testit_grep "dump /LOADFILE" 'machine name: odjclient' odj dump /LOADFILE "$SMB"
base64 -w 76 "$WIN_NDR" >"$S/ascii.b64"
testit_grep "dump ASCII base64 with line breaks" 'machine name: wurst2' \
	odj dump "$S/ascii.b64"
iconv -f ASCII -t UTF-16LE "$S/ascii.b64" >"$S/nobom.txt"
testit_grep "dump UTF-16LE without BOM" 'machine name: wurst2' \
	odj dump "$S/nobom.txt"

# --- bad input: exit codes and messages
: >"$S/empty"
testit_exit "dump empty file" 3 'empty' odj dump "$S/empty"
printf '   \n\t' >"$S/blank"
testit_exit "dump whitespace only" 3 'base64' odj dump "$S/blank"
testit_exit "dump missing file" 4 'No such file' odj dump "$S/nonexistent"
testit_exit "dump a directory" 4 'directory' odj dump "$S"
printf 'AQAAAA*=garbage' >"$S/garbage"
testit_exit "dump base64 garbage" 3 'base64: invalid character' \
	odj dump "$S/garbage"
head -c 1000 "$WIN_NDR" | base64 -w0 >"$S/trunc"
testit_exit "dump truncated blob" 3 'ODJ_PROVISION_DATA.*truncated' \
	odj dump "$S/trunc"
head -c 4096 /dev/urandom >"$S/junk"
testit_exit "dump binary junk" 3 '.' odj dump "$S/junk"
truncate -s 100M "$S/huge"
testit_exit "dump 100 MB file" 3 'larger than' odj dump "$S/huge"
rm -f "$S/huge"

# --- usage
testit_exit "dump without a file" 2 'give one provisioning file' odj dump
testit_exit "dump with two files" 2 'unexpected argument' \
	odj dump "$WIN" "$SMB"
testit_exit "dump unknown argument" 2 'unknown argument' \
	odj dump "$WIN" bogus=1
testit_exit "unknown subcommand" 2 'unknown subcommand' odj frobnicate
testit_exit "unknown option" 2 'unknown option' odj dump --frobnicate "$WIN"

exit $failed
