#!/bin/bash
# odj requestodj client=sssd|both|winbind root=DIR: offline images joined
# and proven with the real daemons (issue 14's acceptance, but for the
# crash test, test_crash.sh).
#
# needs: dc
#
# Each image is a directory (etc/passwd and etc/group of this machine; for
# Samba an smb.conf of Debian's default paths), joined with a blob of odj
# provision, then checked: the files, their modes and contents (keytab
# principals and kvno, sssd.conf as realm join writes it, krb5.conf, the
# first-contact unit and its drop-in), Kerberos with the keytab, sssctl
# config-check, systemd-analyze verify; then Debian's sssd-ad (and
# Samba's winbindd) run on the image's files in the sandbox of
# testsuite/env/sssd.sh: NSS, PAM, adcli testjoin, wbinfo -t, net ads
# testjoin, net rpc testjoin; then the first-contact unit's own ExecStart
# and ExecStartPost lines (read from the unit file) run in the sandbox and
# must change the password everywhere (DC, keytab, secrets.tdb for both)
# and remove the marker.  Bad input (root= missing, a file, read-only, /
# by any path; an sssd.conf or krb5.conf that does not parse; keytab= and
# -s outside the root; a mismatching smb.conf) must fail clearly and leave
# the image as it was (a listing with checksums).  Nothing of this
# machine's /etc, /var/lib/sss or Samba state may change.
#
# The daemons prove nothing more about odj's memory safety: in the ASan
# pass (ODJ_TEST_PREFIX set) their part is left out unless
# ODJ_SSSD_DAEMONS=1.  The sandbox's client address is ODJ_SSSD_CLIENT_IP
# (127.0.0.1 if unset; nothing listens on it).

. "$(dirname "$0")/common.sh"
odj_scratch
. "$(dirname "$0")/dc_env.sh"

SSSD=$ENVD/sssd.sh
S=$ODJ_SCRATCH
PY=/usr/bin/python3
IP=${ODJ_SSSD_CLIENT_IP:-127.0.0.1}
DOM=$ODJ_DNS_DOMAIN
REALM=$ODJ_REALM
export KRB5CCNAME=FILE:$S/krb5cc
if [ -n "$ODJ_TEST_PREFIX" ]; then
	DAEMONS=${ODJ_SSSD_DAEMONS:-0}
else
	DAEMONS=${ODJ_SSSD_DAEMONS:-1}
fi

TAG=$(printf '%05d' $(($$ % 100000)))
A=RSA$TAG	# client=sssd: a fresh image, and one with files of its own
B=RSB$TAG	# client=both
C=RSC$TAG	# client=winbind

UNIT_REL=etc/systemd/system/samba-odj-first-contact.service
DROPIN_REL=etc/systemd/system/sssd.service.d/samba-odj-first-contact.conf

ACCOUNTS=""
ROOTS=""
MOUNTS=""

cleanup() {
	local r name m
	for m in $MOUNTS; do
		umount "$m" 2>/dev/null
	done
	for r in $ROOTS; do
		"$SSSD" stop "$r" >/dev/null 2>&1 ||
			echo "could not stop the sandbox of $r" >&2
	done
	for name in $ACCOUNTS; do
		[ -n "$(attr "$name" dn)" ] || continue
		samba-tool computer delete "$name" -H "ldap://$ODJ_DC_NAME" \
			--configfile="$ODJ_ADMIN_SMBCONF" -U "$ADMIN" \
			>/dev/null 2>&1 ||
			echo "could not delete the account $name" >&2
	done
	rm -rf "$ODJ_SCRATCH"
}
trap cleanup EXIT

T_START=$SECONDS
T_PHASE=$SECONDS
timing() {
	printf 'TIME: %s: %d s (total %d s)\n' "$1" $((SECONDS - T_PHASE)) \
		$((SECONDS - T_START))
	T_PHASE=$SECONDS
}

. "$(dirname "$0")/sssd_client.sh"

# The machines' site is dc1's (psite=, persistent): with an RODC in the
# environment (site Branch), sssd would find it by its site's SRV records,
# and Samba does not replicate SYSVOL, so the RODC has no GPO files for
# the AD access provider's check.
SITE=Default-First-Site-Name
provision() {
	odj provision domain="$DOM" machine_name="$1" dcname="$ODJ_DC_NAME" \
		psite="$SITE" savefile="$2" -s "$ODJ_ADMIN_SMBCONF" -U "$ADMIN"
}

# new_image DIR: what a freshly installed machine has, for this test
new_image() {
	mkdir -p "$1/etc" && cp /etc/passwd /etc/group "$1/etc/"
	ROOTS="$ROOTS $1"
}

# samba_image DIR [smb.conf lines]: Debian's Samba packages installed
new_samba_image() {
	local r=$1 l
	shift
	new_image "$r"
	mkdir -p "$r/etc/samba" "$r/var/lib/samba/private" \
		"$r/var/cache/samba" "$r/run/samba"
	chmod 0700 "$r/var/lib/samba/private"	# samba-common-bin's
	{
		printf '[global]\n'
		printf '   workgroup = WORKGROUP\n'
		printf '   server role = standalone server\n'
		printf '   log file = /var/log/samba/log.%%m\n'
		printf '   max log size = 1000\n'
		printf '   logging = file\n'
		for l in "$@"; do
			printf '   %s\n' "$l"
		done
		printf '   idmap config * : backend = tdb\n'
		printf '   idmap config * : range = 3000-7999\n'
		printf '   idmap config ODJ : backend = rid\n'
		printf '   idmap config ODJ : range = 100000-199999\n'
		printf '\n[homes]\n   browseable = no\n'
	} >"$r/etc/samba/smb.conf"
}

# ini_get FILE SECTION KEY: the value (sssd.conf, krb5.conf's relations)
ini_get() {
	awk -v sec="[$2]" -v key="$3" '
		/^[[:space:]]*\[/ { s = $0; gsub(/[[:space:]]/, "", s); next }
		s == sec {
			i = index($0, "=")
			if (i == 0) next
			k = substr($0, 1, i - 1); v = substr($0, i + 1)
			gsub(/^[[:space:]]+|[[:space:]]+$/, "", k)
			gsub(/^[[:space:]]+|[[:space:]]+$/, "", v)
			if (k == key) { print v; exit }
		}' "$1"
}

ini_is() {
	[ "$(ini_get "$1" "$2" "$3")" = "$4" ]
}

# keytab_list KEYTAB: "kvno principal (enctype)", sorted
keytab_list() {
	klist -ke "$1" | awk 'NR > 3 { print $1, $2, $3 }' | sort
}

# keytab_expect NAME KVNO: the 15 entries a join writes
keytab_expect() {
	local p e lc=${1,,}
	for p in "$1\$" "host/$1" "host/$lc.$DOM" "RestrictedKrbHost/$1" \
		"RestrictedKrbHost/$lc.$DOM"; do
		for e in aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 \
			DEPRECATED:arcfour-hmac; do
			printf '%s %s@%s (%s)\n' "$2" "$p" "$REALM" "$e"
		done
	done | sort
}

# kinit_keytab NAME KEYTAB: a TGT with the keys, and service tickets for
# the host's names that the keytab decrypts (so the kvno is the DC's)
kinit_keytab() {
	kinit -k -t "$2" "$1\$@$REALM" &&
		kvno -k "$2" "host/${1,,}.$DOM@$REALM" "host/$1@$REALM" \
			"RestrictedKrbHost/${1,,}.$DOM@$REALM" >/dev/null
}

# secrets_password TDB: Samba's machine password, as client.sh reads it
secrets_password() {
	local raw
	raw=$(tdbdump -k "SECRETS/MACHINE_PASSWORD/$ODJ_DOMAIN" "$1") || return 1
	raw=${raw%\\00}
	printf '%b' "$(printf '%s' "$raw" | sed 's/\\\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')"
}

kinit_password() {
	printf '%s\n' "$2" | KRB5CCNAME=FILE:$S/pw.cc kinit "$1\$@$REALM" \
		>/dev/null
}

# tree_state DIR: every entry with type, mode, size, link target, file
# mtime, and every file's checksum
tree_state() {
	(
		cd "$1" 2>/dev/null || { echo "no $1"; exit 0; }
		find . -printf '%p %y %m %U:%G %s %l\n' | sort
		find . -type f -printf '%p %T@\n' | sort
		find . -type f -exec sha256sum {} + | sort -k2
	)
}

host_state() {
	ls -la --time-style=+%s /etc/krb5.keytab /etc/krb5.conf /etc/sssd \
		/etc/sssd/conf.d /var/lib/sss/db /var/lib/sss/pipes \
		/var/log/sssd /etc/samba /etc/systemd/system \
		/etc/systemd/system/sssd.service.d /var/lib/samba-odj 2>&1
	# entries, and files' times (a directory's own time is left out:
	# the unit test test_request uses /var/lib/samba as its state
	# directory and leaves it as it was but for that)
	find /var/lib/samba /var/cache/samba -printf '%p %y %m %s\n' 2>&1 | sort
	find /var/lib/samba /var/cache/samba -type f -printf '%p %T@\n' 2>&1 |
		sort
	sha256sum /etc/krb5.conf /etc/krb5.keytab /etc/sssd/sssd.conf 2>&1
	cat /etc/resolv.conf /etc/hosts /etc/nsswitch.conf
}
host_state >"$S/host.before"

# bad NAME CODE REGEX DIR CMD...: CMD fails with exit CODE (3: bad input,
# 4: local files) saying REGEX, and DIR (an image, or a path that must
# stay missing) is as it was
bad() {
	local name=$1 want=$2 re=$3 dir=$4 out rc
	shift 4
	tree_state "$dir" >"$S/bad.before"
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" != "$want" ] || ! printf '%s\n' "$out" | grep -Eq -- "$re"; then
		_fail "$name" "exit $rc (wanted $want), wanted /$re/: $out"
		return 0
	fi
	if ! tree_state "$dir" | diff "$S/bad.before" - >"$S/bad.diff"; then
		_fail "$name: $dir changed" "$(cat "$S/bad.diff")"
		return 0
	fi
	_pass "$name (exit $rc: $(printf '%s\n' "$out" | head -n1))"
}

# unit_value FILE KEY: the value of KEY= (exactly one such line)
unit_value() {
	[ "$(grep -c "^$2=" "$1")" = 1 ] || return 1
	sed -n "s/^$2=//p" "$1"
}

# run_unit_line ROOT KEY: the first-contact unit's KEY= command line, as
# systemd would split it (no quotes in it), run in ROOT's sandbox
run_unit_line() {
	local line argv
	line=$(unit_value "$1/$UNIT_REL" "$2") || return 1
	case $line in *[\"\'\\\$\;%]*) echo "quoting not handled: $line"; return 1 ;; esac
	read -ra argv <<<"$line"
	printf 'running %s\n' "$line"
	"$SSSD" run "$1" "${argv[@]}"
}

# config_check SSSD.CONF: sssctl's validators; the snippet directory is
# the image's conf.d if it has one (sssctl fails on a missing one)
config_check() {
	local d=${1%/*}/conf.d
	[ -d "$d" ] || d=$S/empty-conf.d
	mkdir -p "$S/empty-conf.d"
	sssctl config-check -c "$1" -s "$d" 2>&1 |
		tee "$S/config-check.out" | grep -q '^Issues identified by validators: 0$' &&
		grep -q '^Messages generated during configuration merging: 0$' \
			"$S/config-check.out"
}

# analyze_verify ROOT: the unit, and sssd.service with the image's
# drop-in (copied beside the unit: systemd-analyze reads drop-ins from
# the directory of the unit it verifies); silent and exit 0
analyze_verify() {
	local u=$S/units out
	rm -rf "$u"
	mkdir -p "$u"
	cp "$1/$UNIT_REL" "$u/"
	cp /lib/systemd/system/sssd.service "$u/"
	cp -r "$1/${DROPIN_REL%/*}" "$u/"
	out=$(cd "$S" && systemd-analyze verify "$u/${UNIT_REL##*/}" 2>&1 &&
		systemd-analyze verify "$u/sssd.service" 2>&1) || {
		echo "$out"
		return 1
	}
	[ -z "$out" ] || { echo "$out"; return 1; }
	# a drop-in systemd cannot read would have said so: prove it reads it
	echo 'NoSuchKey=1' >>"$u/${DROPIN_REL#etc/systemd/system/}"
	(cd "$S" && systemd-analyze verify "$u/sssd.service" 2>&1) |
		grep -q "NoSuchKey"
}

# sssd_files NAME ROOT: what client=sssd writes, checked
sssd_files() {
	local n=$1 r=$2 lc=${1,,} conf=$2/etc/sssd/sssd.conf
	check "$n: keytab 0600" '[ "$(file_mode "$r/etc/krb5.keytab")" = 600 ]'
	check "$n: keytab: NAME\$, host/, RestrictedKrbHost/, 3 enctypes, kvno 1" \
		'keytab_list "$r/etc/krb5.keytab" | cmp -s - <(keytab_expect "$n" 1)'
	check "$n: /etc/sssd 0711, sssd.conf 0600, root's" \
		'[ "$(stat -c %a "$r/etc/sssd")" = 711 ] &&
		 [ "$(stat -c %a:%U:%G "$conf")" = 600:root:root ]'
	check "$n: [sssd] domains, services, config_file_version" \
		'ini_get "$conf" sssd domains | grep -Eq "(^|[ ,])$DOM(,|$)" &&
		 ini_get "$conf" sssd services | grep -q nss &&
		 ini_is "$conf" sssd config_file_version 2'
	check "$n: [domain/$DOM] as realm join writes it" \
		'ini_is "$conf" "domain/$DOM" id_provider ad &&
		 ini_is "$conf" "domain/$DOM" access_provider ad &&
		 ini_is "$conf" "domain/$DOM" ad_domain "$DOM" &&
		 ini_is "$conf" "domain/$DOM" krb5_realm "$REALM" &&
		 ini_is "$conf" "domain/$DOM" realmd_tags \
			"manages-system joined-with-adcli" &&
		 ini_is "$conf" "domain/$DOM" cache_credentials True &&
		 ini_is "$conf" "domain/$DOM" ad_hostname "$lc.$DOM" &&
		 ini_is "$conf" "domain/$DOM" ad_site "$SITE" &&
		 [ -z "$(ini_get "$conf" "domain/$DOM" krb5_keytab)" ]'
	check "$n: krb5.conf [libdefaults] as realmd sets them" \
		'ini_is "$r/etc/krb5.conf" libdefaults default_realm "$REALM" &&
		 ini_is "$r/etc/krb5.conf" libdefaults dns_lookup_realm false &&
		 ini_is "$r/etc/krb5.conf" libdefaults rdns false'
	check "$n: the first-contact unit, its drop-in, the marker" \
		'[ "$(file_mode "$r/$UNIT_REL")" = 644 ] &&
		 grep -qx "Wants=${UNIT_REL##*/}" "$r/$DROPIN_REL" &&
		 unit_value "$r/$UNIT_REL" ExecStart |
			grep -q -- "^/usr/sbin/adcli update .*--domain=$DOM .*--host-fqdn=$lc.$DOM .*--computer-password-lifetime=0" &&
		 [ -f "$r$(unit_value "$r/$UNIT_REL" ConditionPathExists)" ]'
	testit "$n: sssctl config-check" config_check "$conf"
	testit "$n: kinit -k -t ROOT/etc/krb5.keytab, kvno -k host/ (kvno 1)" \
		kinit_keytab "$n" "$r/etc/krb5.keytab"
}

# first_contact NAME ROOT [both]: the unit's ExecStart in the sandbox
# (sssd running), then its ExecStartPost
first_contact() {
	local n=$1 r=$2 pls marker old_pw=
	marker=$r$(unit_value "$r/$UNIT_REL" ConditionPathExists)
	pls=$(attr "$n" pwdLastSet)
	cp "$r/etc/krb5.keytab" "$S/$n.kvno1.keytab"
	if [ -n "${3:-}" ]; then
		old_pw=$(secrets_password "$r/var/lib/samba/private/secrets.tdb")
	fi
	testit "$n: first contact: the unit's ExecStart in the sandbox" \
		run_unit_line "$r" ExecStart
	testit "$n: the DCs agree (the change may be on another)" sync_dcs
	check "$n: pwdLastSet moved" '[ "$(attr "$n" pwdLastSet)" -gt "$pls" ]'
	check "$n: kvno 2 on the DC" 'kvno_is "$n" 2'
	check "$n: kvno 2 in ROOT's keytab" \
		'[ "$(keytab_kvno "$r/etc/krb5.keytab" "$n")" = 2 ]'
	testit "$n: kinit -k -t, kvno -k with the new keys" \
		kinit_keytab "$n" "$r/etc/krb5.keytab"
	testit_expect_failure "$n: the blob's keys (kvno 1) are gone" \
		kinit -k -t "$S/$n.kvno1.keytab" "$n\$@$REALM"
	testit "$n: pam_authenticate with the new keytab (sssd on)" pam_auth "$r"
	if [ -n "${3:-}" ]; then
		local new_pw
		new_pw=$(secrets_password "$r/var/lib/samba/private/secrets.tdb")
		check "$n: secrets.tdb has the new password (--add-samba-data)" \
			'[ -n "$new_pw" ] && [ "$new_pw" != "$old_pw" ]'
		testit "$n: kinit with secrets.tdb's new password" \
			kinit_password "$n" "$new_pw"
		testit_expect_failure "$n: kinit with the blob's password fails" \
			kinit_password "$n" "$old_pw"
	fi
	check "$n: the marker is still there" '[ -f "$marker" ]'
	testit "$n: the unit's ExecStartPost in the sandbox" \
		run_unit_line "$r" ExecStartPost
	check "$n: the marker is gone: the unit never runs again" \
		'[ ! -e "$marker" ]'
}

for n in $A $B $C; do
	ACCOUNTS="$ACCOUNTS $n"
	testit "provision $n" provision "$n" "$S/$n.odj"
done
timing "provisioning"

# --- 1. client=sssd root=DIR, a fresh image
R1=$S/img1
new_image "$R1"
testit_grep "requestodj client=sssd root=DIR ($A)" \
	"^Joined $ODJ_DOMAIN \\($DOM\\) as $A\\\$, offline, for SSSD, in the image $R1\$" \
	odj requestodj loadfile="$S/$A.odj" client=sssd root="$R1"
sssd_files "$A" "$R1"
check "$A: no ad_server unless asked, no Samba files" \
	'[ -z "$(ini_get "$R1/etc/sssd/sssd.conf" "domain/$DOM" ad_server)" ] &&
	 [ ! -e "$R1/etc/samba" ] && [ ! -e "$R1/var/lib/samba" ]'
check "$A: the image's own files untouched" \
	'cmp -s /etc/passwd "$R1/etc/passwd" && cmp -s /etc/group "$R1/etc/group"'
if command -v systemd-analyze >/dev/null && [ -f /lib/systemd/system/sssd.service ]; then
	testit "$A: systemd-analyze verify the unit and sssd.service + drop-in" \
		analyze_verify "$R1"
else
	echo "SKIP: systemd-analyze verify (no systemd-analyze or sssd.service here)"
fi
testit_grep "odj recover root=DIR: no interrupted join" "^no interrupted join$" \
	odj recover root="$R1"

# --- 2. an image with an sssd.conf of another domain and a krb5.conf of
#     its own: kept, but for the keys the join sets
R2=$S/img2
new_image "$R2"
mkdir -p "$R2/etc/sssd/conf.d"
chmod 0711 "$R2/etc/sssd"
cat >"$R2/etc/sssd/sssd.conf" <<-'EOF'
	# the image's own SSSD settings; this comment stays
	[sssd]
	domains = local
	services = nss, pam
	; another comment

	[nss]
	filter_users = root
	reconnection_retries = 3

	[domain/local]
	id_provider = files
	  cache_credentials   =   False
EOF
chmod 0600 "$R2/etc/sssd/sssd.conf"
cat >"$R2/etc/krb5.conf" <<-'EOF'
	# the image's Kerberos settings; this comment stays
	[libdefaults]
		default_realm = OTHER.EXAMPLE
		forwardable = true
		dns_lookup_realm = true
		ticket_lifetime = 24h

	[realms]
		OTHER.EXAMPLE = {
			kdc = kdc.other.example
			admin_server = kdc.other.example
		}

	[domain_realm]
		.other.example = OTHER.EXAMPLE
EOF
cp -p "$R2/etc/sssd/sssd.conf" "$S/sssd.conf.orig"
cp -p "$R2/etc/krb5.conf" "$S/krb5.conf.orig"
testit "requestodj client=sssd root=DIR ad_server= --json (existing files, $A)" \
	eval 'odj requestodj --json loadfile="$S/$A.odj" client=sssd \
		root="$R2" ad_server="$ODJ_DC_NAME" >"$S/json.out"'
if $PY "$ODJ_TOP/testsuite/blackbox/json_check.py" -c requestodj -o true \
	<"$S/json.out" >"$S/json.check" 2>&1; then
	_pass "--json of client=sssd root=DIR validates"
else
	# until docs/json/odj.schema.json has issue 14's fields: those alone?
	$PY - "$ODJ_TOP/docs/json/odj.schema.json" "$S/schema.json" <<-'EOF'
	import json, sys
	s = json.load(open(sys.argv[1]))
	p = s["$defs"]["requestodj"]["properties"]
	for k in ("client", "root", "recovered", "sssd_conf", "krb5_conf",
	          "first_contact_unit", "secrets_tdb"):
	    p[k] = {"type": ["string", "null"]}
	json.dump(s, open(sys.argv[2], "w"))
	EOF
	if $PY - "$S/schema.json" "$S/json.out" <<-'EOF'
	import json, sys, jsonschema
	jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(
	    json.load(open(sys.argv[2])))
	EOF
	then
		echo "SKIP: --json of client=sssd: docs/json/odj.schema.json" \
			"lacks client, root, recovered, sssd_conf, krb5_conf," \
			"first_contact_unit (or a null secrets_tdb); valid with them"
	else
		_fail "--json of client=sssd root=DIR validates" \
			"$(cat "$S/json.check")"
	fi
fi
check "--json: client, root, sssd_conf, krb5_conf, first_contact_unit" \
	'$PY -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert d[\"ok\"] and d[\"client\"] == \"sssd\" and d[\"root\"] == sys.argv[2]
assert d[\"sssd_conf\"] == sys.argv[2] + \"/etc/sssd/sssd.conf\"
assert d[\"krb5_conf\"] == sys.argv[2] + \"/etc/krb5.conf\"
assert d[\"first_contact_unit\"] == sys.argv[2] + \"/$UNIT_REL\"
assert d[\"keytab\"][\"path\"] == sys.argv[2] + \"/etc/krb5.keytab\"
assert d[\"keytab\"][\"entries\"] == 15 and d[\"rotates_at_first_contact\"]
" "$S/json.out" "$R2"'
sssd_files "$A" "$R2"
check "$A: ad_server as asked" \
	'ini_is "$R2/etc/sssd/sssd.conf" "domain/$DOM" ad_server "$ODJ_DC_NAME"'
# What may differ in sssd.conf: [sssd] domains (ours added),
# config_file_version (realmd's default; the image had none) after the
# section's last setting (a comment before the next section stays with
# it), then a blank line and our section, at the end.
norig=$(wc -l <"$S/sssd.conf.orig")
sed -e "3s/.*/domains = local, $DOM/" -e '4a config_file_version = 2' \
	"$S/sssd.conf.orig" >"$S/sssd.conf.want"
check "sssd.conf: the image's lines kept byte for byte" \
	'head -n $((norig + 1)) "$R2/etc/sssd/sssd.conf" |
		diff "$S/sssd.conf.want" -'
check "sssd.conf: then [domain/$DOM] alone, appended" \
	'[ "$(tail -n +$((norig + 2)) "$R2/etc/sssd/sssd.conf" |
	     grep -n "^\[" )" = "2:[domain/$DOM]" ] &&
	 [ -z "$(sed -n "$((norig + 2))p" "$R2/etc/sssd/sssd.conf")" ] &&
	 ini_is "$R2/etc/sssd/sssd.conf" domain/local cache_credentials False'
# krb5.conf: the three keys of [libdefaults], nothing else (indentation
# of the lines the join writes aside)
cat >"$S/krb5.diff.want" <<EOF
3c3
< default_realm = OTHER.EXAMPLE
---
> default_realm = $REALM
5c5
< dns_lookup_realm = true
---
> dns_lookup_realm = false
6a7
> rdns = false
EOF
diff "$S/krb5.conf.orig" "$R2/etc/krb5.conf" |
	sed 's/^\([<>]\)[[:space:]]*/\1 /' >"$S/krb5.diff"
check "krb5.conf: only default_realm, dns_lookup_realm, rdns changed" \
	'diff "$S/krb5.diff.want" "$S/krb5.diff"'
check "krb5.conf: its mode kept (0644)" \
	'[ "$(file_mode "$R2/etc/krb5.conf")" = "$(file_mode "$S/krb5.conf.orig")" ]'
testit "sssd.conf with two domains: sssctl config-check" \
	config_check "$R2/etc/sssd/sssd.conf"
timing "client=sssd: files"

if [ "$DAEMONS" = 1 ]; then
	# a real sssd on the two-domain image: ours works beside the other
	testit "$A (two domains): sssd starts" \
		"$SSSD" start "$R2" "$ODJ_DC_PREFIX" "$IP"
	testit "$A (two domains): $DOM online" "$SSSD" wait-online "$R2" "$DOM"
	testit "$A (two domains): getent passwd administrator@$DOM" \
		getent_admin "$R2"
	testit "$A (two domains): kinit -k in the sandbox (its krb5.conf)" \
		in_sandbox "$R2" kinit -k "$A\$"
	testit "$A (two domains): sssd stops" "$SSSD" stop "$R2"
	timing "client=sssd: sssd on the two-domain image"

	testit "$A: sssd starts on the fresh image" env ODJ_SSSD_DEBUG=7 \
		"$SSSD" start "$R1" "$ODJ_DC_PREFIX" "$IP"
	testit "$A: sssd's domain goes online" "$SSSD" wait-online "$R1"
	testit "$A: getent passwd administrator@$DOM (nss_sss)" \
		getent_admin "$R1"
	testit "$A: sssctl user-checks -s login (pam_acct_mgmt, GPO)" \
		pam_acct "$R1"
	testit "$A: sssctl user-checks -a auth (pam_authenticate)" \
		pam_auth "$R1"
	testit_grep "$A: adcli testjoin" "Sucessfully validated join" \
		in_sandbox "$R1" adcli testjoin --domain="$DOM"
	first_contact "$A" "$R1"
	testit "$A: sssd stops" "$SSSD" stop "$R1"
	timing "client=sssd: sssd, first contact"
else
	echo "SKIP: the daemons (ASan pass; ODJ_SSSD_DAEMONS=1 runs them)"
fi

# --- 3. client=both: SSSD's files and Samba's, one machine
R3=$S/img3
new_samba_image "$R3" "kerberos method = secrets and keytab"
cp -p "$R3/etc/samba/smb.conf" "$S/smb3.orig"
testit_exit "client=both, smb.conf not the blob's: refused, exit 4" 4 \
	"set 'machine password timeout = 0'" \
	odj requestodj loadfile="$S/$B.odj" client=both root="$R3"
check "client=both refused: nothing written" \
	'cmp -s "$R3/etc/samba/smb.conf" "$S/smb3.orig" &&
	 [ ! -e "$R3/etc/sssd" ] && [ -z "$(ls -A "$R3/var/lib/samba/private")" ]'
testit_grep "requestodj client=both root=DIR --update-config ($B)" \
	"^Joined $ODJ_DOMAIN \\($DOM\\) as $B\\\$, offline, for SSSD and Samba, in the image $R3\$" \
	odj requestodj loadfile="$S/$B.odj" client=both root="$R3" \
	--update-config
sssd_files "$B" "$R3"
check "$B: secrets.tdb in the image's private dir, 0600" \
	'[ "$(file_mode "$R3/var/lib/samba/private/secrets.tdb")" = 600 ]'
check "$B: one keytab for both (kerberos method = secrets and keytab)" \
	'[ "$(find "$R3" -name "*keytab*" | wc -l)" = 1 ]'
for p in "netbios name:$B" "workgroup:$ODJ_DOMAIN" "realm:$REALM" \
	"security:ADS" "machine password timeout:0"; do
	check "$B: smb.conf: ${p%%:*} = ${p#*:}" \
		'[ "$(testparm -s --parameter-name="${p%%:*}" \
		    "$R3/etc/samba/smb.conf" 2>/dev/null)" = "${p#*:}" ]'
done
check "$B: sssd.conf: ad_update_samba_machine_account_password = True" \
	'ini_is "$R3/etc/sssd/sssd.conf" "domain/$DOM" \
		ad_update_samba_machine_account_password True'
check "$B: the unit's adcli update has --add-samba-data" \
	'unit_value "$R3/$UNIT_REL" ExecStart | grep -q -- " --add-samba-data"'
testit "$B: kinit with secrets.tdb's password (the blob's)" kinit_password \
	"$B" "$(secrets_password "$R3/var/lib/samba/private/secrets.tdb")"
timing "client=both: files"

if [ "$DAEMONS" = 1 ]; then
	testit "$B: sssd starts" "$SSSD" start "$R3" "$ODJ_DC_PREFIX" "$IP"
	testit "$B: online" "$SSSD" wait-online "$R3"
	testit "$B: winbindd starts in the same sandbox" \
		"$SSSD" start-winbindd "$R3" "$ODJ_DC_PREFIX" "$IP"
	testit "$B: getent passwd administrator@$DOM (sssd)" getent_admin "$R3"
	testit "$B: pam_authenticate (sssd)" pam_auth "$R3"
	testit_grep "$B: adcli testjoin" "Sucessfully validated join" \
		in_sandbox "$R3" adcli testjoin --domain="$DOM"
	testit "$B: wbinfo -t" in_sandbox "$R3" wbinfo -t
	testit_grep "$B: net ads testjoin" "Join is OK" \
		in_sandbox "$R3" net ads testjoin
	testit "$B: net rpc testjoin" \
		in_sandbox "$R3" net rpc testjoin -S "$ODJ_DC_NAME"
	first_contact "$B" "$R3" both
	testit "$B: wbinfo -t after the change (winbindd running)" \
		in_sandbox "$R3" wbinfo -t
	testit "$B: winbindd restarts on the new secrets.tdb" eval \
		'"$SSSD" stop-winbindd "$R3" &&
		 "$SSSD" start-winbindd "$R3" "$ODJ_DC_PREFIX" "$IP"'
	testit "$B: wbinfo -t after the change (winbindd restarted)" \
		in_sandbox "$R3" wbinfo -t
	testit_grep "$B: net ads testjoin after the change" "Join is OK" \
		in_sandbox "$R3" net ads testjoin
	testit "$B: net rpc testjoin after the change" \
		in_sandbox "$R3" net rpc testjoin -S "$ODJ_DC_NAME"
	testit "$B: sssd and winbindd stop" "$SSSD" stop "$R3"
	timing "client=both: sssd, winbindd, first contact"
fi

# --- 4. client=winbind root=DIR: an image with Samba alone
R4=$S/img4
new_samba_image "$R4" "kerberos method = dedicated keytab" \
	"dedicated keytab file = /var/lib/samba/private/krb5.keytab"
testit_grep "requestodj client=winbind root=DIR -s DIR/etc/samba/smb.conf ($C)" \
	"^Joined $ODJ_DOMAIN \\($DOM\\) as $C\\\$, offline, for Samba, in the image $R4\$" \
	odj requestodj loadfile="$S/$C.odj" root="$R4" --update-config \
	-s "$R4/etc/samba/smb.conf"
check "$C: secrets.tdb in the image's private dir, 0600" \
	'[ "$(file_mode "$R4/var/lib/samba/private/secrets.tdb")" = 600 ]'
check "$C: the dedicated keytab (an image path) inside the image, 0600" \
	'[ "$(file_mode "$R4/var/lib/samba/private/krb5.keytab")" = 600 ] &&
	 keytab_list "$R4/var/lib/samba/private/krb5.keytab" |
		cmp -s - <(keytab_expect "$C" 1)'
check "$C: nothing of SSSD's, no system keytab" \
	'[ ! -e "$R4/etc/sssd" ] && [ ! -e "$R4/etc/krb5.keytab" ] &&
	 [ ! -e "$R4/etc/systemd" ] && [ ! -e "$R4/etc/krb5.conf" ]'
testit "$C: kinit -k -t, kvno -k (the dedicated keytab)" \
	kinit_keytab "$C" "$R4/var/lib/samba/private/krb5.keytab"
testit "$C: kinit with secrets.tdb's password" kinit_password \
	"$C" "$(secrets_password "$R4/var/lib/samba/private/secrets.tdb")"
testit_grep "odj recover root=DIR (Samba image): no interrupted join" \
	"^no interrupted join$" odj recover root="$R4"
if [ "$DAEMONS" = 1 ]; then
	testit "$C: winbindd on the image's files (sandbox, no sssd)" \
		"$SSSD" start-winbindd "$R4" "$ODJ_DC_PREFIX" "$IP"
	testit "$C: wbinfo -t" in_sandbox "$R4" wbinfo -t
	testit_grep "$C: wbinfo -u" "^$ODJ_DOMAIN\\\\administrator$" \
		in_sandbox "$R4" wbinfo -u
	testit_grep "$C: net ads testjoin" "Join is OK" \
		in_sandbox "$R4" net ads testjoin
	testit "$C: net rpc testjoin" \
		in_sandbox "$R4" net rpc testjoin -S "$ODJ_DC_NAME"
	testit "$C: winbindd and the sandbox stop" "$SSSD" stop "$R4"
fi
timing "client=winbind"

# --- 5. bad input: a clear error, exit != 0, the image as it was
E=$S/bad
new_samba_image "$E"
bad "root= a directory that does not exist" 4 "No such file" "$S/nosuch" \
	odj requestodj loadfile="$S/$A.odj" client=sssd root="$S/nosuch"
mkdir -p "$S/filedir"
: >"$S/filedir/afile"
bad "root= a file" 4 "not a directory" "$S/filedir" \
	odj requestodj loadfile="$S/$A.odj" client=sssd root="$S/filedir/afile"
bad "root= a read-only bind mount" 4 "read-only" "$E" \
	unshare -m --propagation private -- sh -c \
	'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" &&
	 exec "$2" requestodj loadfile="$3" client=sssd root="$1"' \
	sh "$E" "$ODJ" "$S/$A.odj"
mkdir -p "$S/rotmp"
bad "root= a read-only tmpfs" 4 "read-only" "$S/rotmp" \
	unshare -m --propagation private -- sh -c \
	'mount -t tmpfs -o ro,size=1m odj-ro "$1" &&
	 exec "$2" requestodj loadfile="$3" client=sssd root="$1"' \
	sh "$S/rotmp" "$ODJ" "$S/$A.odj"
# a writable root whose etc/ is read-only: the join fails in the middle
# and must take back all it made (the journal's directory too)
bad "root= writable, its etc/ read-only: all taken back" 4 "Read-only|read-only" "$E" \
	unshare -m --propagation private -- sh -c \
	'mount --bind "$1/etc" "$1/etc" && mount -o remount,bind,ro "$1/etc" &&
	 exec "$2" requestodj loadfile="$3" client=both root="$1" --update-config' \
	sh "$E" "$ODJ" "$S/$B.odj"
# / by any path: run where this machine's /etc, /var/lib, /var/cache and
# the bind mount of / are read-only, so that an odj that took it for an
# image could not write there (it would say "read-only" instead)
guarded() {
	unshare -m --propagation private -- sh -c '
		for d in /etc /var/lib /var/cache; do
			mount --bind "$d" "$d" &&
				mount -o remount,bind,ro "$d" || exit 125
		done
		if [ "$1" = --bind-slash ]; then
			mount --bind / "$2" &&
				mount -o remount,bind,ro "$2" || exit 125
			shift 2
		fi
		exec "$@"' sh "$@"
}
ln -s / "$S/slash"
mkdir -p "$S/slashbind"
for spec in "/:/" "$S/slash:a symbolic link to /" \
	"$S/slash/.:a symbolic link to /, with /."; do
	bad "root= ${spec#*:}: refused as / itself" 3 "/ itself" "$E" \
		guarded $VALGRIND "$ODJ" requestodj loadfile="$S/$A.odj" \
		client=sssd root="${spec%%:*}"
done
bad "root= a bind mount of /: refused as / itself" 3 "/ itself" "$E" \
	guarded --bind-slash "$S/slashbind" $VALGRIND "$ODJ" requestodj \
	loadfile="$S/$A.odj" client=sssd root="$S/slashbind"
bad "root= empty: refused" 2 "empty value" "$E" \
	guarded $VALGRIND "$ODJ" requestodj loadfile="$S/$A.odj" client=sssd \
	root=
bad "root= / with client=both: refused" 3 "/ itself" "$E" \
	guarded $VALGRIND "$ODJ" requestodj loadfile="$S/$B.odj" root=/ \
	client=both --update-config -s "$E/etc/samba/smb.conf"
testit_grep "odj recover root=/: refused" "/ itself" \
	eval '! guarded $VALGRIND "$ODJ" recover root=/'

E2=$S/bad2
new_image "$E2"
mkdir -p "$E2/etc/sssd"
printf '[sssd]\ndomains = x\nthis line has no equals sign\n' \
	>"$E2/etc/sssd/sssd.conf"
chmod 0600 "$E2/etc/sssd/sssd.conf"
bad "an sssd.conf that does not parse" 4 "sssd.conf, line 3" "$E2" \
	odj requestodj loadfile="$S/$A.odj" client=sssd root="$E2"
printf '[sssd\ndomains = x\n' >"$E2/etc/sssd/sssd.conf"
bad "an sssd.conf with a broken section line" 4 "sssd.conf, line 1" "$E2" \
	odj requestodj loadfile="$S/$A.odj" client=sssd root="$E2"
rm -rf "$E2/etc/sssd"
printf '[libdefaults]\n default_realm = X.TEST\n[realms]\n X.TEST = {\n  kdc = k\n' \
	>"$E2/etc/krb5.conf"
bad "a krb5.conf with an unbalanced '{'" 4 "krb5.conf: a '\\{' without its '\\}'" "$E2" \
	odj requestodj loadfile="$S/$A.odj" client=sssd root="$E2"
rm -f "$E2/etc/krb5.conf"
bad "keytab= outside the root" 3 "outside the image root" "$E2" \
	odj requestodj loadfile="$S/$A.odj" client=sssd root="$E2" \
	keytab="$S/outside.keytab"
check "keytab= outside the root: not written" '[ ! -e "$S/outside.keytab" ]'
bad "keytab= through .. out of the root" 3 "outside the image root" "$E2" \
	odj requestodj loadfile="$S/$A.odj" client=sssd root="$E2" \
	keytab="$E2/etc/../../outside.keytab"
cp "$E/etc/samba/smb.conf" "$S/outside-smb.conf"
bad "-s smb.conf outside the root" 3 "outside the image root" "$E" \
	odj requestodj loadfile="$S/$C.odj" root="$E" --update-config \
	-s "$S/outside-smb.conf"
check "-s outside the root: that smb.conf unchanged" \
	'cmp -s "$S/outside-smb.conf" "$E/etc/samba/smb.conf"'
bad "client=winbind on an image without smb.conf" 4 "has no .*smb.conf" "$E2" \
	odj requestodj loadfile="$S/$C.odj" root="$E2"
timing "bad input"

# --- 6, 7: recover on a clean image; this machine untouched
testit_grep "odj recover root=DIR (clean image)" "^no interrupted join$" \
	odj recover root="$E"
# status 1: neither a daemon nor the sandbox of ROOT runs
all_stopped() {
	local r rc
	for r in $ROOTS; do
		rc=0
		"$SSSD" status "$r" >/dev/null 2>&1 || rc=$?
		[ $rc = 1 ] || return 1
	done
}
check "no sssd, winbindd or sandbox left" all_stopped
check "this machine's /etc, /var/lib/sss, Samba state untouched" \
	'host_state | diff "$S/host.before" -'
timing "end"

exit $failed
