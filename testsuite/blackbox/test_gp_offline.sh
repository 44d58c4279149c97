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
. "$(dirname "$0")/dc_env.sh"
. "$(dirname "$0")/gp_env.sh"
APPLY=$ODJ_TOP/source/gp/odj-gp-apply
LISTED=("GPC$RUN")
trap gp_cleanup EXIT

gp_sandbox || exit $failed
cp /etc/motd "$S/motd.orig" 2>/dev/null || : >"$S/motd.orig"
ls -A /etc/sudoers.d >"$S/sudoers.orig"
ls -A /etc/cron.daily >"$S/cron.orig"

MOTD="ODJ offline policy $RUN"
RULE="odjgp$RUN ALL=(ALL) NOPASSWD: /usr/bin/true"
gp_pol "$S/good.pol" "$RULE" "$MOTD" daily firewalld windows ||
	{ _fail "Registry.pol"; exit $failed; }
gp_pol "$S/bad.pol" "odjgp$RUN ALL=(ALL NOPASSWD /usr/bin/true" "$MOTD bad" \
	daily firewalld windows

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
