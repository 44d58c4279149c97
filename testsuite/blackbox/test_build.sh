#!/bin/bash
# The build: only Samba's public libraries are linked, and our generated
# NDR symbols cannot collide with Samba's private libndr-samba4.
# sanitizer: skip (checks the plain build's linking)

. "$(dirname "$0")/common.sh"

ODJ_DC_BIN=$(dirname "$ODJ")/odj-dc
needed_of() { readelf -d "$1" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p'; }
has() { printf "%s\n" $1 | grep -q "^$2"; }

for bin in "$ODJ" "$ODJ_DC_BIN"; do
	name=${bin##*/}
	private=""
	for lib in $(needed_of "$bin"); do
		path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
		case $path in */samba/*) private="$private $lib" ;; esac
	done
	check "$name links no private Samba library directly" \
		'[ -z "$private" ]'
	check "$name exports no ndr_*_ODJ_* symbol" \
		'! nm -D --defined-only "$bin" | grep -q " ndr_.*ODJ"'
	check "$name exports no generated NDR symbol at all" \
		'! nm -D --defined-only "$bin" | grep -Eq " ndr_(push|pull|print)_"'
done

# The joining machine's binary stays light: the DC-side libraries load
# some 120 shared objects (see docs/design.md, "Two binaries")
needed=$(needed_of "$ODJ")
dc_needed=$(needed_of "$ODJ_DC_BIN")
check "odj-dc links libndr, libldb, libsamba-credentials, libsmbclient" \
	'has "$dc_needed" libndr.so && has "$dc_needed" libldb.so &&
	 has "$dc_needed" libsamba-credentials.so &&
	 has "$dc_needed" libsmbclient.so'
check "odj links libndr, libtdb, libkrb5" \
	'has "$needed" libndr.so && has "$needed" libtdb.so &&
	 has "$needed" libkrb5.so'
check "odj links no DC-side library (ldb, credentials, smbclient, dcerpc)" \
	'! has "$needed" libldb.so && ! has "$needed" libsamba-credentials &&
	 ! has "$needed" libsmbclient && ! has "$needed" libdcerpc'
check "odj loads at most 60 shared objects" \
	'[ "$(ldd "$ODJ" | wc -l)" -le 60 ]'

# odj hands provision to odj-dc; without it, a clear error
lone=$(mktemp -d "${TMPDIR:-/tmp}/odj-lone.XXXXXX")
cp "$ODJ" "$lone/odj"
testit_exit "odj provision without odj-dc: clear error" 1 \
	'cannot run .*odj-dc.*install the samba-odj-dc package' \
	"$lone/odj" provision domain=example.test machine_name=x \
	savefile="$lone/x.odj"
check "  ...and no blob written" '[ ! -e "$lone/x.odj" ]'
rm -rf "$lone"
# The layers are static libraries, linked whole: odj gets util, codec and
# client only.  A client-side file that calls DC code must break the
# build, not wait for the first command that reaches it.
probe=$(mktemp -d "${TMPDIR:-/tmp}/odj-layers.XXXXXX")
(cd "$ODJ_TOP" && git ls-files -z | xargs -0 cp --parents -t "$probe")
mkdir -p "$probe/bin"
ln -s "$(readlink -f "$ODJ_TOP/bin/samba-src")" "$probe/bin/samba-src"
cat >>"$probe/source/lib/client/keytab.c" <<'EOF'

/* a deliberate call from the client side into the DC side */
#include "odj/dc.h"
NTSTATUS odj_layer_probe(void);
NTSTATUS odj_layer_probe(void)
{
	return odj_account_delete(NULL, NULL, NULL, NULL);
}
EOF
layer_build() {
	cd "$probe" && WAFLOCK=.lock-probe ./waf configure -o bin/probe &&
		WAFLOCK=.lock-probe ./waf build \
			--targets=pidl-odj,pidl-secrets,odj
}
testit_exit "a client-side call into DC code fails to link odj" 1 \
	"undefined reference to .odj_account_delete" layer_build
rm -rf "$probe"

check "no generated code or third-party code is tracked by git" \
	'! git -C "$ODJ_TOP" ls-files | grep -Eq "(^|/)(pidl|waflib|third_party)/|gen_ndr/"'
testit_grep "odj --version" '^odj \(samba-odj\) ' odj --version

exit $failed
