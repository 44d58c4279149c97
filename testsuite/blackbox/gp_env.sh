# Sourced by test_gp_offline.sh and test_gp_requestodj.sh (after
# common.sh and dc_env.sh, inside their private mount namespace, S set):
# the sandbox Samba's Group Policy extensions write into, a GPO's
# Registry.pol, samba-gpupdate as the client machine runs it, and the
# clean-up of what the script made.  The callers append to NAMES
# (accounts), CLIENTS (client prefixes), GPOS (GPOs) and LISTED (names
# in the DC prefix's client list).

PY=/usr/bin/python3
CONF=$ODJ_ADMIN_SMBCONF
RUN=$$
H=(-H "ldap://$ODJ_DC_NAME" -U "$ADMIN" --configfile="$CONF")
. "$(dirname "$0")/extensions_env.sh"
read -r -a IPS <<<"${ODJ_GP_CLIENT_IPS:-}"

NAMES=()
CLIENTS=()
LISTED=()

gp_cleanup() {
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
		for x in "${NAMES[@]}" "${LISTED[@]}"; do
			sed -i "/ ${x^^}\$/d" "$ODJ_DC_PREFIX/env/clients.list"
		done
	) 9>>"$ODJ_DC_PREFIX/env/.lock"
	umount /usr /etc 2>/dev/null
	[ -n "${ODJ_GP_KEEP:-}" ] && echo "kept $S" >&2 && return
	rm -rf "$S"
}

# gp_sandbox: /etc and /usr as overlays on scratch directories (the
# extensions write /etc/sudoers.d, /etc/motd, /etc/cron.daily,
# /etc/firefox, /usr/lib64/firefox ...), /etc/resolv.conf naming only the
# throwaway DC (Samba's DC discovery reads it; no wrapper redirects it)
gp_sandbox() {
	local d

	for d in etc usr; do
		mkdir -p "$S/sandbox/$d" "$S/sandbox/$d.work"
		mount -t overlay odj-gp-test -o "lowerdir=/$d,upperdir=$S/sandbox/$d,workdir=$S/sandbox/$d.work" "/$d" ||
			{ _fail "overlay over /$d"; return 1; }
	done
	rm -f /etc/resolv.conf
	printf 'nameserver %s\n' "$ODJ_DC_IP" >/etc/resolv.conf
	HOST_GPO_TDB=$(stat -c %Y.%s /var/cache/samba/gpo.tdb 2>&1)
	# The DC's smbd serves SYSVOL as the connecting account's unix id:
	# a machine account cannot list it unless it can traverse the
	# prefix (mktemp -d makes it 0700; docs/odj-gp-apply.md)
	chmod go+x "$ODJ_DC_PREFIX"
}

# gp_pol FILE SUDO-RULE MOTD [daily] [firewalld] [windows]: a
# Registry.pol as an admin makes it for Samba's extensions: a sudo rule,
# a motd, an smb.conf setting (log level 2), and if asked a daily
# script, a firewalld zone (not applied offline), a Windows-only value
gp_pol() {
	$PY - "$@" <<-'EOF'
	import sys
	from samba.dcerpc import preg, misc
	from samba.ndr import ndr_pack
	U = 'Software\\Policies\\Samba\\Unix Settings'
	more = {
	    'daily': (U + '\\Daily Scripts', 'script1', misc.REG_SZ,
	              'echo odj-daily'),
	    'firewalld': (U + '\\Firewalld\\Zones', 'zone1', misc.REG_SZ,
	                  'odjzone'),
	    'windows': ('Software\\Policies\\Microsoft\\Windows\\OdjTest',
	                'x', misc.REG_DWORD, 1),
	}
	vals = [
	    (U + '\\Sudo Rights', 'rule1', misc.REG_SZ, sys.argv[2]),
	    (U + '\\Messages', 'motd', misc.REG_SZ, sys.argv[3] + '\n'),
	    ('Software\\Policies\\Samba\\smb_conf', 'log level',
	     misc.REG_SZ, '2'),
	] + [more[w] for w in sys.argv[4:]]
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

# gpupdate CLIENT-PREFIX ARGS...: samba-gpupdate as the client machine
# runs it (machine account from secrets.tdb, Kerberos through the
# prefix's krb5.conf); its words in $S/gpupdate.out.  No
# NSS_WRAPPER_HOSTNAME: the smb.conf extension rewrites smb.conf without
# the parameters equal to their defaults, netbios name included when it
# is the host name's.
gpupdate() {
	local cp=$1
	shift
	KRB5CCNAME=FILE:$cp/krb5cc /usr/sbin/samba-gpupdate \
		-s "$cp/etc/smb.conf" "$@" >"$S/gpupdate.out" 2>&1
}

# gp_files: how many sudoers files Samba's extension wrote
gp_files() {
	ls -A /etc/sudoers.d | grep -c '^gp_'
}

# jq-less JSON queries: jget FILE PYTHON-EXPRESSION-ON-r
jget() {
	$PY -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
