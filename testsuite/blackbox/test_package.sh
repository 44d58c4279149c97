#!/bin/bash
# Installable like a Samba tool: the release tarball (buildtools/dist)
# builds on Debian's binary packages alone, with no Samba source cache;
# its Debian packages build, pass lintian and work from a throwaway root;
# `waf install` and `waf uninstall` put and take our files; the example
# first-boot unit passes systemd-analyze verify.
# sanitizer: skip (builds and packages the plain programs)

. "$(dirname "$0")/common.sh"
odj_scratch
S=$ODJ_SCRATCH
started=$SECONDS

version=$(sed -n "s/^VERSION = '\(.*\)'$/\1/p" "$ODJ_TOP/wscript")
pkgname=samba-odj-$version
samba_upstream=$(dpkg-query -W -f '${Version}' samba-libs | sed 's/^[0-9]*://; s/[+-].*//')

# --- the tarball, from the tree
tarball=$("$ODJ_TOP/buildtools/dist" -o "$S" 2>"$S/dist.log")
check "buildtools/dist writes $pkgname.tar.xz" \
	'[ "$tarball" = "$S/$pkgname.tar.xz" ] && [ -s "$tarball" ]'
if [ ! -s "$S/$pkgname.tar.xz" ]; then
	_fail "no tarball, nothing more to test" "$(cat "$S/dist.log")"
	exit $failed
fi
tar -tJf "$tarball" | sed "s|^$pkgname/||" >"$S/list"
check "tarball carries pidl, its modules, waflib and the Samba IDLs" \
	'grep -qx third_party/samba/pidl/pidl "$S/list" &&
	 grep -qx third_party/samba/pidl/lib/Parse/Pidl/IDL.pm "$S/list" &&
	 grep -qx third_party/samba/third_party/waf/waflib/Scripting.py "$S/list" &&
	 grep -qx third_party/samba/librpc/idl/misc.idl "$S/list" &&
	 grep -qx third_party/samba/librpc/idl/idl_types.h "$S/list"'
check "tarball carries their licences" \
	'grep -qx third_party/samba/COPYING "$S/list" &&
	 grep -qx third_party/samba/third_party/waf/LICENSE "$S/list"'
check "tarball carries debian/, the man page source, the example unit" \
	'grep -qx debian/rules "$S/list" && grep -qx docs/odj.8.xml "$S/list" &&
	 grep -qx docs/examples/odj-firstboot.service "$S/list"'
check "tarball carries no build output, git or CI files" \
	'! grep -Eq "^(bin|\.git|\.ci)/|gen_ndr/|__pycache__" "$S/list"'
tar -C "$S" -xJf "$tarball" "$pkgname/THIRD-PARTY"
check "THIRD-PARTY names pidl, waf and Samba with versions and licences" \
	'grep -q "waf 2\.[0-9.]*," "$S/$pkgname/THIRD-PARTY" &&
	 grep -q "pidl [0-9.]*," "$S/$pkgname/THIRD-PARTY" &&
	 grep -q "Samba $samba_upstream" "$S/$pkgname/THIRD-PARTY" &&
	 grep -q "GPL-3.0-or-later" "$S/$pkgname/THIRD-PARTY" &&
	 grep -q "BSD-3-Clause" "$S/$pkgname/THIRD-PARTY"'
rm -rf "${S:?}/$pkgname"

# --- a machine that never fetched Samba's source: empty HOME and cache
mkdir -p "$S/home" "$S/cache" "$S/deb"
clean_env() {
	env -u XDG_CACHE_HOME -u ODJ_TOP HOME="$S/home" ODJ_CACHE="$S/cache" \
		"$@"
}
tar -C "$S/deb" -xJf "$tarball"
T=$S/deb/$pkgname
check "the unpacked tarball has no bin/samba-src" '[ ! -e "$T/bin" ]'

# the bundled pidl is what configure uses: without it, a clear failure
mv "$T/third_party/samba/pidl/pidl" "$S/pidl.saved"
testit_expect_failure "configure without the bundled pidl fails" \
	clean_env sh -c "cd '$T' && ./waf configure"
testit_grep "  ...saying the bundled copy is incomplete" \
	'third_party/samba is incomplete' cat "$T/bin/default/config.log"
mv "$S/pidl.saved" "$T/third_party/samba/pidl/pidl"
rm -rf "$T/bin"

# --- the Debian packages, from the unpacked tarball: configure, build,
# unit tests (dh_auto_test), install, package
jobs=$(nproc)
( cd "$T" && clean_env DEB_BUILD_OPTIONS="parallel=$jobs" \
	dpkg-buildpackage -us -uc -b ) >"$S/deb.log" 2>&1
rc=$?
check "dpkg-buildpackage -us -uc -b from the tarball (log: exit $rc)" \
	'[ $rc = 0 ]' || true
[ $rc = 0 ] || tail -n 40 "$S/deb.log"
check "  ...configured with the bundled pidl, not a cache" \
	'grep -qx "SAMBA_SRC = .$T/third_party/samba." \
		"$T/bin/default/c4che/_cache.py"'
check "  ...and no Samba source was fetched into HOME or ODJ_CACHE" \
	'[ -z "$(ls -A "$S/cache")" ] && [ ! -e "$S/home/.cache/samba-odj" ] &&
	 [ ! -e "$T/bin/samba-src" ]'
nunit=$(ls "$ODJ_TOP"/testsuite/unit/test_*.c | wc -l)
npassed=$(grep -c '^\[  PASSED  \]' "$S/deb.log")
check "  ...ran the tarball's unit tests: $npassed of $nunit programs passed" \
	'[ "$npassed" = "$nunit" ] && ! grep -q "^\[  FAILED  \]" "$S/deb.log"'

deb=$S/deb/samba-odj_${version}-1_$(dpkg --print-architecture).deb
deb_dc=$S/deb/samba-odj-dc_${version}-1_$(dpkg --print-architecture).deb
check "two packages: samba-odj and samba-odj-dc" \
	'[ -s "$deb" ] && [ -s "$deb_dc" ]'

# Depends: the client's odj must not pull in the DC side's libraries
dep=$(dpkg-deb -f "$deb" Depends 2>&1)
dep_dc=$(dpkg-deb -f "$deb_dc" Depends 2>&1)
# has_dep DEPENDS REGEX: one of the comma-separated entries starts so
has_dep() { printf '%s\n' "$1" | tr ',' '\n' | grep -Eq "^ *$2"; }
samba_next=$(echo "$samba_upstream" | awk -F. '{ print $1 "." $2 + 1 }')
check "samba-odj depends on samba-libs of Samba $samba_upstream.. << $samba_next" \
	'has_dep "$dep" "samba-libs \(>>? [0-9]+:$samba_upstream" &&
	 has_dep "$dep" "samba-libs \(<< [0-9]+:$samba_next~\)"'
check "samba-odj depends on libkrb5-3, libgnutls30, libjansson4, libpopt0" \
	'has_dep "$dep" "libkrb5-3( |$)" && has_dep "$dep" "libgnutls30( |$)" &&
	 has_dep "$dep" "libjansson4( |$)" && has_dep "$dep" "libpopt0( |$)"'
check "samba-odj does not depend on the DC side (ldb, smbclient, dsdb modules)" \
	'! has_dep "$dep" "libldb2( |$)" && ! has_dep "$dep" "libsmbclient( |$)" &&
	 ! has_dep "$dep" "samba-dsdb-modules( |$)" && ! has_dep "$dep" "samba-odj-dc( |$)"'
check "samba-odj-dc depends on samba-odj, samba-dsdb-modules, libldb2, libsmbclient" \
	'has_dep "$dep_dc" "samba-odj \(= $version-1\)" &&
	 has_dep "$dep_dc" "samba-dsdb-modules( |$)" && has_dep "$dep_dc" "libldb2( |$)" &&
	 has_dep "$dep_dc" "libsmbclient( |$)" &&
	 has_dep "$dep_dc" "samba-libs \(<< [0-9]+:$samba_next~\)"'

# lintian: no errors
changes=$S/deb/samba-odj_${version}-1_$(dpkg --print-architecture).changes
lintian "$changes" >"$S/lintian.log" 2>&1
nerr=$(grep -c '^E:' "$S/lintian.log")
check "lintian: errors: $nerr" '[ "$nerr" = 0 ] && [ -s "$changes" ]'
sed -n 's/^\([EW]\): /    lintian \1: /p' "$S/lintian.log"

# --- installed into a throwaway root: the programs, the man page
R=$S/root
dpkg -x "$deb" "$R" && dpkg -x "$deb_dc" "$R"
testit_grep "installed odj --version: ours and the Samba built against" \
	"^odj \(samba-odj\) $version\$" "$R/usr/bin/odj" --version
testit_grep "  ...built against Samba $samba_upstream" \
	"^built against Samba $samba_upstream" "$R/usr/bin/odj" --version
check "installed odj and odj-dc link only system libraries" \
	'! { ldd "$R/usr/bin/odj"; ldd "$R/usr/libexec/samba-odj/odj-dc"; } |
		grep -Eq "not found|$S"'
check "installed odj finds odj-dc in /usr/libexec/samba-odj" \
	'grep -q /usr/libexec/samba-odj "$R/usr/bin/odj"'
testit_grep "man -l on the installed page" 'FIRST BOOT OF A LINUX IMAGE' \
	env MANWIDTH=80 MANPAGER=cat man -l "$R/usr/share/man/man8/odj.8.gz"
testit_grep "installed odj dump of Windows' blob" \
	'machine name: wurst2' \
	"$R/usr/bin/odj" dump "$ODJ_DATA/windows-2019-provision.odj"

# --- the first-boot unit, verified as installed (systemd-analyze needs
# the system's units and the commands inside the root it is given)
unit=$R/usr/share/doc/samba-odj/examples/odj-firstboot.service
check "the example unit is installed" '[ -s "$unit" ]'
mkdir -p "$R/etc/systemd/system" "$R/usr/lib/systemd"
cp -a /usr/lib/systemd/system "$R/usr/lib/systemd/"
cp /usr/bin/rm "$R/usr/bin/"
ln -sfn usr/bin "$R/bin"
cp "$unit" "$R/etc/systemd/system/"
out=$(systemd-analyze verify --man=no --root="$R" \
	"$R/etc/systemd/system/odj-firstboot.service" 2>&1)
rc=$?
check "systemd-analyze verify odj-firstboot.service: clean" \
	'[ $rc = 0 ] && [ -z "$out" ]'
[ -z "$out" ] || printf '    | %s\n' "$out"
check "  ...a oneshot before winbind, sssd, smbd, on the blob's presence" \
	'grep -qx "Type=oneshot" "$unit" &&
	 grep -Eq "^Before=.*winbind.service.*sssd.service.*smbd.service" "$unit" &&
	 grep -qx "ConditionPathExists=/var/lib/samba-odj/join.odj" "$unit" &&
	 grep -Eq "^ExecStart=/usr/bin/odj requestodj loadfile=/var/lib/samba-odj/join.odj --update-config$" "$unit" &&
	 grep -qx "ExecStartPost=/bin/rm -f /var/lib/samba-odj/join.odj" "$unit"'
rm -f "$R/usr/bin/odj"
out=$(systemd-analyze verify --man=no --root="$R" \
	"$R/etc/systemd/system/odj-firstboot.service" 2>&1)
check "  ...and verify fails when odj is missing" \
	'printf "%s\n" "$out" | grep -q "/usr/bin/odj is not executable"'

# --- waf install / uninstall, with the package build's configuration
X=$S/destdir
mkdir -p "$X/usr/share/man/man8"
echo someone-else >"$X/usr/share/man/man8/other.8"
( cd "$T" && clean_env ./waf install --destdir="$X" ) >"$S/install.log" 2>&1
find "$X" -type f | sed "s|^$X||" | sort >"$S/installed"
check "waf install --destdir: both programs, the man page, docs, the unit" \
	'grep -qx /usr/bin/odj "$S/installed" &&
	 grep -qx /usr/libexec/samba-odj/odj-dc "$S/installed" &&
	 grep -qx /usr/libexec/samba-odj/odj-rodc-preload "$S/installed" &&
	 grep -qx /usr/share/man/man8/odj.8 "$S/installed" &&
	 grep -qx /usr/share/doc/samba-odj/README "$S/installed" &&
	 grep -qx /usr/share/doc/samba-odj/design.md "$S/installed" &&
	 grep -qx /usr/share/doc/samba-odj/examples/odj-firstboot.service "$S/installed"'
( cd "$T" && clean_env ./waf uninstall --destdir="$X" ) >>"$S/install.log" 2>&1
left=$(cd "$X" && find . -mindepth 1 | sort | tr '\n' ' ')
check "waf uninstall --destdir: none of our files left, others' kept" \
	'[ "$left" = "./usr ./usr/share ./usr/share/man ./usr/share/man/man8 ./usr/share/man/man8/other.8 " ]'
[ "$left" = "./usr ./usr/share ./usr/share/man ./usr/share/man/man8 ./usr/share/man/man8/other.8 " ] ||
	echo "    | left: $left"

echo "test_package: $((SECONDS - started)) s"
exit $failed
