#!/bin/bash
# A blob's Group Policy applied offline by Samba's own machine extensions
# (source/gp/odj-gp-apply on python3-samba's samba.gp), recorded in
# gpo.tdb so that the real samba-gpupdate, once the DC is reachable, sees
# it as applied (no duplicate), removes it when the GPO is unlinked, and
# unapplies it with --unapply; a sudo rule visudo refuses is reported and
# nothing is written (essential) or it is skipped (not essential); the
# writes are staged (overlay in a mount namespace) and committed, also
# into an image root.
#
# Nothing touches the machine's own /etc: the whole script runs in a
# private mount namespace whose /etc and /usr are overlays on scratch
# directories (Samba's extensions write /etc/sudoers.d, /etc/motd,
# /etc/cron.daily, /etc/firefox, /etc/chromium, /usr/lib64/firefox), and
# whose /etc/resolv.conf names only the throwaway DC (Samba's DC
# discovery reads /etc/resolv.conf; no wrapper redirects it).
#
# ODJ_GP_CLIENT_IPS (optional): loopback addresses for the clients.
#
# needs: dc
# sanitizer: skip

if [ -z "${ODJ_GP_SANDBOX:-}" ]; then
	exec unshare -m --propagation private env ODJ_GP_SANDBOX=1 \
		bash "$0" "$@"
fi

. "$(dirname "$0")/common.sh"
S=$(mktemp -d "${TMPDIR:-/tmp}/odj-gp.XXXXXX")
chmod 755 "$S"

if [ -z "${ODJ_DC_PREFIX:-}" ]; then
	_fail "gp offline: ODJ_DC_PREFIX not set (run through testsuite/run)"
	exit $failed
fi
ENVD=$ODJ_TOP/testsuite/env
. "$ENVD/env.sh" "$ODJ_DC_PREFIX" || exit 1

APPLY=$ODJ_TOP/source/gp/odj-gp-apply
PY=/usr/bin/python3
ADMIN="$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
CONF=$ODJ_ADMIN_SMBCONF
DOMDN="DC=odj,DC=test"
RUN=$$
H=(-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF")
. "$(dirname "$0")/extensions_env.sh"
read -r -a IPS <<<"${ODJ_GP_CLIENT_IPS:-}"

NAMES=()
CLIENTS=()

cleanup() {
	local x
	for x in "${CLIENTS[@]}"; do
		"$ENVD/client.sh" stop "$x" >/dev/null 2>&1
	done
	for x in "${NAMES[@]}"; do
		samba-tool computer delete "$x" "${H[@]}" >/dev/null 2>&1 ||
			echo "could not delete the account $x" >&2
	done
	for x in "${GPOS[@]}"; do
		samba-tool gpo dellink "$DOMDN" "$x" "${H[@]}" >/dev/null 2>&1
		samba-tool gpo del "$x" "${H[@]}" >/dev/null 2>&1 ||
			echo "could not delete the GPO $x" >&2
	done
	# the DC prefix's client list (nss_wrapper and resolv_wrapper hosts)
	(
		flock 9
		for x in "${NAMES[@]}" "GPC$RUN"; do
			sed -i "/ ${x^^}\$/d" "$ODJ_DC_PREFIX/env/clients.list"
		done
	) 9>>"$ODJ_DC_PREFIX/env/.lock"
	umount /usr /etc 2>/dev/null
	[ -n "${ODJ_GP_KEEP:-}" ] && echo "kept $S" >&2 && return
	rm -rf "$S"
}
trap cleanup EXIT

# --- the sandbox: /etc and /usr as overlays, resolv.conf to the DC only
for d in etc usr; do
	mkdir -p "$S/sandbox/$d" "$S/sandbox/$d.work"
	mount -t overlay odj-gp-test -o "lowerdir=/$d,upperdir=$S/sandbox/$d,workdir=$S/sandbox/$d.work" "/$d" ||
		{ _fail "overlay over /$d"; exit $failed; }
done
rm -f /etc/resolv.conf
printf 'nameserver %s\n' "$ODJ_DC_IP" >/etc/resolv.conf
cp /etc/motd "$S/motd.orig" 2>/dev/null || : >"$S/motd.orig"
ls -A /etc/sudoers.d >"$S/sudoers.orig"
ls -A /etc/cron.daily >"$S/cron.orig"
HOST_GPO_TDB=$(stat -c %Y.%s /var/cache/samba/gpo.tdb 2>&1)

# The DC's smbd serves SYSVOL as the connecting account's unix id: a
# machine account cannot list it unless it can traverse the prefix
# (mktemp -d makes it 0700).
chmod go+x "$ODJ_DC_PREFIX"

# pol FILE SUDO-RULE: a Registry.pol as an admin would make it for
# Samba's extensions: a sudo rule, a motd, an smb.conf setting, a daily
# script, a firewalld zone (not offline) and a Windows-only value
pol() {
	$PY - "$@" <<-'EOF'
	import sys
	from samba.dcerpc import preg, misc
	from samba.ndr import ndr_pack
	U = 'Software\\Policies\\Samba\\Unix Settings'
	vals = [
	    (U + '\\Sudo Rights', 'rule1', misc.REG_SZ, sys.argv[2]),
	    (U + '\\Messages', 'motd', misc.REG_SZ, sys.argv[3] + '\n'),
	    ('Software\\Policies\\Samba\\smb_conf', 'log level',
	     misc.REG_SZ, '2'),
	    (U + '\\Daily Scripts', 'script1', misc.REG_SZ, 'echo odj-daily'),
	    (U + '\\Firewalld\\Zones', 'zone1', misc.REG_SZ, 'odjzone'),
	    ('Software\\Policies\\Microsoft\\Windows\\OdjTest', 'x',
	     misc.REG_DWORD, 1),
	]
	f = preg.file()
	f.header.signature = 'PReg'
	f.header.version = 1
	es = []
	for k, v, t, d in vals:
	    e = preg.entry()
	    e.keyname, e.valuename, e.type, e.data = k, v, t, d
	    es.append(e)
	f.num_entries = len(es)
	f.entries = es
	open(sys.argv[1], 'wb').write(ndr_pack(f))
	EOF
}

# jq-less JSON queries: jget FILE PYTHON-EXPRESSION-ON-r
jget() {
	$PY -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

MOTD="ODJ offline policy $RUN"
RULE="odjgp$RUN ALL=(ALL) NOPASSWD: /usr/bin/true"
pol "$S/good.pol" "$RULE" "$MOTD" || { _fail "Registry.pol"; exit $failed; }
pol "$S/bad.pol" "odjgp$RUN ALL=(ALL NOPASSWD /usr/bin/true" "$MOTD bad"

GPO_NAME="ODJ GP offline $RUN"
gpo_create GUID "$GPO_NAME"
check "samba-tool gpo create" '[ -n "$GUID" ]'
testit "Registry.pol into SYSVOL" gpo_put "$GUID" "$S/good.pol"
testit "GPO linked to the domain" \
	samba-tool gpo setlink "$DOMDN" "$GUID" "${H[@]}"

new_client() {
	"$ENVD/client.sh" new "$S/clients/$1" "$2" $3 >/dev/null 2>&1
}

# policy_json BLOB FILE: the blob's POLICY part as odj dump --json shows
# it (what requestodj policyfile= writes)
policy_json() {
	odj dump --json "$1" | $PY -c '
import json, sys
def find(x):
    if isinstance(x, dict):
        if x.get("type") == "POLICY_PROVIDER":
            return x["content"]
        x = list(x.values())
    for y in x if isinstance(x, list) else []:
        r = find(y)
        if r is not None:
            return r
json.dump(find(json.load(sys.stdin)), open(sys.argv[1], "w"))' "$2"
}

# join_client NAME: provision NAME with the GPO, join client NAME from
# the blob, leaving its policy alone (nopolicy: this script drives
# odj-gp-apply itself; test_gp_requestodj.sh has requestodj apply it);
# the POLICY part as odj's JSON in $S/NAME.policy.json
join_client() {
	local n=$1 ip=${IPS[${#CLIENTS[@]}]:-}
	NAMES+=("$n")
	CLIENTS+=("$S/clients/$n")
	testit "client.sh new ($n)" new_client "$n" "$n" $ip
	testit "provision and requestodj ($n)" \
		odj provision domain="$ODJ_DNS_DOMAIN" dcname="$ODJ_DC_NAME" \
		machine_name="$n" policynames="$GPO_NAME" \
		savefile="$S/$n.odj" -s "$CONF" -U "$ADMIN"
	testit "requestodj ($n)" odj requestodj loadfile="$S/$n.odj" \
		nopolicy -s "$S/clients/$n/etc/smb.conf"
	testit "the POLICY part as JSON ($n)" policy_json "$S/$n.odj" \
		"$S/$n.policy.json"
}

# samba-gpupdate as the client machine would run it (machine account
# from secrets.tdb; Kerberos through the prefix's krb5.conf).  No
# NSS_WRAPPER_HOSTNAME: the smb.conf extension rewrites smb.conf without
# the parameters equal to their defaults, netbios name included when it
# is the host name's.
gpupdate() {
	local cp=$1
	shift
	KRB5CCNAME=FILE:$cp/krb5cc /usr/sbin/samba-gpupdate \
		-s "$cp/etc/smb.conf" "$@" >"$S/gpupdate.out" 2>&1
}

gp_files() {
	ls -A /etc/sudoers.d | grep -c '^gp_'
}

A=$(printf 'gpa%s' "$RUN" | cut -c1-15)
join_client "$A"
CA=$S/clients/$A
CCA=$CA/etc/smb.conf

# --- check: nothing written
testit_exit "check mode accepts the GPO" 0 '"refused": false' \
	"$APPLY" check -s "$CCA" -i "$S/$A.policy.json" --report -
check "check mode wrote nothing" \
	'[ ! -e "$CA/cache/gpo.tdb" ] && [ ! -e "$CA/cache/gpo_cache" ]'

# --- apply, staged; nothing visible before the commit
STAGE=$S/stage-a
testit "apply into a stage" "$APPLY" apply -s "$CCA" \
	-i "$S/$A.policy.json" --stage "$STAGE" --report "$S/a.json"
check "report: settings applied, firewalld deferred, Windows value ignored" \
	'[ "$(jget "$S/a.json" "r[\"gpos\"][0][\"counts\"] == dict(applied=4, deferred=1, ignored=1)")" = True ]'
check "report: the GPO's GUID and the cached Registry.pol" \
	'[ "$(jget "$S/a.json" "r[\"gpos\"][0][\"guid\"]")" = "$GUID" ] &&
	 [ "$(jget "$S/a.json" "r[\"gpos\"][0][\"cache_file\"]")" = "$CA/cache/gpo_cache/ODJ.TEST/POLICIES/$GUID/MACHINE/REGISTRY.POL" ]'
check "nothing outside the stage before the commit" \
	'[ "$(gp_files)" = 0 ] && cmp -s /etc/motd "$S/motd.orig" &&
	 [ ! -e "$CA/cache/gpo.tdb" ] && ! grep -q "log level" "$CCA"'
check "the stage holds the sudoers file, motd, gpo.tdb, the cache" \
	'ls "$STAGE"/tree/etc/sudoers.d/gp_* >/dev/null &&
	 [ -f "$STAGE/tree/etc/motd" ] &&
	 [ -f "$STAGE/tree$CA/cache/gpo.tdb" ] &&
	 [ -f "$STAGE/tree$CA/cache/gpo_cache/ODJ.TEST/POLICIES/$GUID/MACHINE/REGISTRY.POL" ]'
testit "commit the stage" "$APPLY" commit --stage "$STAGE"

SUDO_A=$(ls /etc/sudoers.d/gp_* 2>/dev/null)
check "one sudoers file with the rule" \
	'[ "$(gp_files)" = 1 ] && grep -qxF "$RULE" "$SUDO_A"'
testit "visudo -c -f accepts it" visudo -c -f "$SUDO_A"
check "motd holds the text" '[ "$(cat /etc/motd)" = "$MOTD" ]'
check "smb.conf has the setting" 'grep -q "log level = 2" "$CCA"'
check "one daily script" \
	'[ "$(ls -A /etc/cron.daily | grep -c "^gp_")" = 1 ]'
check "the cached Registry.pol is the GPO's, byte for byte" \
	'cmp -s "$S/good.pol" "$CA/cache/gpo_cache/ODJ.TEST/POLICIES/$GUID/MACHINE/REGISTRY.POL"'
check "gpo.tdb: the machine's log names the GPO and the sudoers file" \
	'tdbdump -k "${A^^}\$" "$CA/cache/gpo.tdb" | grep -qF "$GUID" &&
	 tdbdump -k "${A^^}\$" "$CA/cache/gpo.tdb" | grep -qF "$SUDO_A"'
check "gpo.tdb: smb.conf's old log level recorded (0)" \
	'tdbdump -k "${A^^}\$" "$CA/cache/gpo.tdb" | grep -qF "<attribute name=\\22log level\\22>0</attribute>"'
testit_grep "offline rsop lists the GPO's settings" "NOPASSWD: /usr/bin/true" \
	"$APPLY" rsop -s "$CCA" -i "$S/$A.policy.json"

# --- the DC reachable: samba-gpupdate sees it all as applied
testit "samba-gpupdate --rsop" gpupdate "$CA" --rsop
check "samba-gpupdate --rsop lists the GPO and the rule" \
	'grep -qxF "GPO: $GPO_NAME" "$S/gpupdate.out" &&
	 grep -qF "$RULE" "$S/gpupdate.out"'
testit "samba-gpupdate" gpupdate "$CA"
check "after samba-gpupdate: still one sudoers file, the same" \
	'[ "$(gp_files)" = 1 ] && [ "$(ls /etc/sudoers.d/gp_*)" = "$SUDO_A" ]'
testit "samba-gpupdate --force" gpupdate "$CA" --force
check "after --force: still one sudoers file, one daily script, motd" \
	'[ "$(gp_files)" = 1 ] && [ "$(ls /etc/sudoers.d/gp_*)" = "$SUDO_A" ] &&
	 [ "$(ls -A /etc/cron.daily | grep -c "^gp_")" = 1 ] &&
	 [ "$(cat /etc/motd)" = "$MOTD" ]'
check "gpo.tdb: samba-gpupdate recorded the GPO's version" \
	'tdbdump -k "$GUID" "$CA/cache/gpo.tdb" >/dev/null'

# --- the GPO unlinked: samba-gpupdate removes what the offline apply wrote
testit "GPO unlinked" samba-tool gpo dellink "$DOMDN" "$GUID" "${H[@]}"
testit "samba-gpupdate after the unlink" gpupdate "$CA"
check "sudoers file and daily script removed, motd restored" \
	'[ "$(gp_files)" = 0 ] && [ ! -e "$SUDO_A" ] &&
	 [ "$(ls -A /etc/cron.daily | grep -c "^gp_")" = 0 ] &&
	 cmp -s /etc/motd "$S/motd.orig"'
check "smb.conf setting removed" '! grep -q "log level = 2" "$CCA"'
testit "GPO linked again" \
	samba-tool gpo setlink "$DOMDN" "$GUID" "${H[@]}"

# --- another machine: applied directly (no stage), then --unapply
B=$(printf 'gpb%s' "$RUN" | cut -c1-15)
join_client "$B"
CB=$S/clients/$B
testit "apply without a stage" "$APPLY" apply -s "$CB/etc/smb.conf" \
	-i "$S/$B.policy.json" --report "$S/b.json"
check "applied: one sudoers file, motd" \
	'[ "$(gp_files)" = 1 ] && [ "$(cat /etc/motd)" = "$MOTD" ]'
testit "samba-gpupdate --unapply" gpupdate "$CB" --unapply
check "--unapply removed the sudoers file and restored motd" \
	'[ "$(gp_files)" = 0 ] && cmp -s /etc/motd "$S/motd.orig" &&
	 [ "$(ls -A /etc/cron.daily | grep -c "^gp_")" = 0 ]'

# --- a sudo rule visudo rejects (no DC needed: a client never joined)
CLIENTS+=("$S/clients/c")
testit "client.sh new (never joined)" new_client c "GPC$RUN" \
	${IPS[${#CLIENTS[@]}-1]:-}
CC=$S/clients/c/etc/smb.conf
cat >"$S/bad.json" <<-EOF
{"gpos": [{"guid": "$GUID", "display_name": "bad",
  "file_sys_path": "\\\\\\\\odj.test\\\\sysvol\\\\odj.test\\\\Policies\\\\$GUID",
  "registry_pol": "$S/bad.pol", "essential": true}]}
EOF
sed 's/"essential": true/"essential": false/' "$S/bad.json" >"$S/bad-ne.json"
testit_exit "check: essential bad rule refused" 3 \
	'"refused": true.*|visudo -c rejects the rule' \
	"$APPLY" check -s "$CC" -i "$S/bad.json"
testit_exit "apply: essential bad rule refused" 3 'visudo -c rejects' \
	"$APPLY" apply -s "$CC" -i "$S/bad.json" --stage "$S/stage-bad" \
	--report -
check "refused: nothing written, nothing staged" \
	'[ "$(gp_files)" = 0 ] && cmp -s /etc/motd "$S/motd.orig" &&
	 [ ! -e "$S/clients/c/cache/gpo.tdb" ] &&
	 [ -z "$(find "$S/stage-bad/tree" -type f)" ]'
# --- an image root: every path inside it, recorded as the image sees them
IMG=$S/image
mkdir -p "$IMG/etc/samba" "$IMG/etc/sudoers.d" "$IMG/var/cache/samba" \
	"$IMG/etc/cron.daily" \
	"$IMG/var/lib/samba"
cp /etc/passwd /etc/group "$IMG/etc/"
printf 'image motd\n' >"$IMG/etc/motd"
cat >"$IMG/etc/samba/smb.conf" <<-EOF
[global]
	netbios name = IMG$RUN
	workgroup = ODJ
	realm = ODJ.TEST
	security = ads
EOF
testit "apply into an image root" "$APPLY" apply -s /etc/samba/smb.conf \
	-i "$S/$A.policy.json" --stage "$S/stage-img" --root "$IMG" \
	--machine "IMG$RUN\$" --report "$S/img.json"
testit "commit into the image root" "$APPLY" commit \
	--stage "$S/stage-img" --root "$IMG"
check "image: sudoers file, motd and smb.conf inside the image" \
	'ls "$IMG"/etc/sudoers.d/gp_* >/dev/null &&
	 [ "$(cat "$IMG/etc/motd")" = "$MOTD" ] &&
	 grep -q "log level = 2" "$IMG/etc/samba/smb.conf"'
check "image: gpo.tdb records the image's paths and motd" \
	'f=$(basename "$IMG"/etc/sudoers.d/gp_*);
	 tdbdump -k "IMG$RUN\$" "$IMG/var/cache/samba/gpo.tdb" | grep -qF "/etc/sudoers.d/$f" &&
	 tdbdump -k "IMG$RUN\$" "$IMG/var/cache/samba/gpo.tdb" | grep -qF "image motd"'
check "image: nothing outside it" \
	'[ "$(gp_files)" = 0 ] && cmp -s /etc/motd "$S/motd.orig" &&
	 [ "$(stat -c %Y.%s /var/cache/samba/gpo.tdb 2>&1)" = "$HOST_GPO_TDB" ]'


testit "apply: non-essential bad rule skipped" "$APPLY" apply -s "$CC" \
	-i "$S/bad-ne.json" --report "$S/ne.json"
check "non-essential: rule reported skipped, the rest applied" \
	'[ "$(jget "$S/ne.json" "r[\"gpos\"][0][\"settings\"][0][\"status\"]")" = skipped ] &&
	 [ "$(gp_files)" = 0 ] && [ "$(cat /etc/motd)" = "$MOTD bad" ]'

# --- bad input
echo '{"gpos": []}' >"$S/empty.json"
testit_exit "no GPO in the input" 3 'no GPO' \
	"$APPLY" check -s "$CC" -i "$S/empty.json"
testit_exit "a GPO list that is not JSON" 3 'cannot read' \
	"$APPLY" check -s "$CC" -i "$S/good.pol"
testit_exit "--root without --stage" 2 'needs --stage' \
	"$APPLY" apply -s "$CC" -i "$S/bad.json" --root "$IMG"

check "the sandbox's own sudoers.d is as before" \
	'ls -A /etc/sudoers.d | cmp -s - "$S/sudoers.orig"'

exit $failed
