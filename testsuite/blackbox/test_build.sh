#!/bin/bash
# The build: only Samba's public libraries are linked, and our generated
# NDR symbols cannot collide with Samba's private libndr-samba4.

. "$(dirname "$0")/common.sh"

needed=$(readelf -d "$ODJ" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
private=""
for lib in $needed; do
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
	case $path in */samba/*) private="$private $lib" ;; esac
done
check "odj links no private Samba library directly" '[ -z "$private" ]'
check "odj links libndr, libldb, libsamba-credentials" \
	'printf "%s\n" $needed | grep -q "^libndr.so" &&
	 printf "%s\n" $needed | grep -q "^libldb.so" &&
	 printf "%s\n" $needed | grep -q "^libsamba-credentials.so"'
check "no ndr_*_ODJ_* symbol is exported" \
	'! nm -D --defined-only "$ODJ" | grep -q " ndr_.*ODJ"'
check "no generated NDR symbol is exported at all" \
	'! nm -D --defined-only "$ODJ" | grep -Eq " ndr_(push|pull|print)_"'
check "no generated code or third-party code is tracked by git" \
	'! git -C "$ODJ_TOP" ls-files | grep -Eq "(^|/)(pidl|waflib|third_party)/|gen_ndr/"'
testit_grep "odj --version" '^odj \(samba-odj\) ' odj --version

exit $failed
