# Client-side environment for the throwaway ODJ.TEST domain.
#
#   . testsuite/env/env.sh PREFIX
#
# Writes (idempotently) krb5.conf, nss_wrapper and resolv_wrapper files under
# PREFIX/env and exports what a client tool needs to reach the DC of PREFIX
# without any change to /etc. Must be sourced; never exits the caller's shell.

_odj_env_say() { printf 'env.sh: %s\n' "$*" >&2; }

_odj_env_put() {
	local dest=$1
	cat >"$dest.tmp.$$" && mv -f "$dest.tmp.$$" "$dest"
}

# Sets _odj_ip. The DC address is a property of the prefix: ODJ_DC_IP is
# read only when the prefix is created.
_odj_env_dc_ip() {
	local dir=$1 stored=
	if [ -s "$dir/dc-ip" ]; then
		read -r stored <"$dir/dc-ip"
	fi
	if [ -n "$stored" ]; then
		if [ -n "${ODJ_DC_IP:-}" ] && [ "$ODJ_DC_IP" != "$stored" ]; then
			_odj_env_say "note: prefix was created with DC IP $stored; ignoring ODJ_DC_IP=$ODJ_DC_IP"
		fi
		_odj_ip=$stored
		return 0
	fi
	stored=${ODJ_DC_IP:-127.0.0.10}
	case $stored in
	127.*.*.*) ;;
	*)
		_odj_env_say "error: ODJ_DC_IP=$stored is not in 127.0.0.0/8"
		return 1
		;;
	esac
	printf '%s\n' "$stored" | _odj_env_put "$dir/dc-ip"
	_odj_ip=$stored
}

_odj_env_fresh() {
	local dir=$1 f
	for f in hosts dns-hosts dns-hosts-sites dns-hosts-dcs resolv.conf \
		resolv-dcs.conf krb5.conf passwd group; do
		[ -s "$dir/$f" ] || return 1
	done
	! [ "$dir/clients.list" -nt "$dir/hosts" ] &&
		! [ "$dir/dc-ip" -nt "$dir/hosts" ] &&
		! [ "$dir/dcs.list" -nt "$dir/hosts" ] &&
		! [ "$dir/dsa-guids" -nt "$dir/hosts" ]
}

# The other DCs (dc.sh add-dc, add-rodc) and the address where no DC answers
# are listed in dcs.list ("IP HOST", HOST one of dc2 rodc1 nodc) once dc.sh
# has given them an address. Sets _odj_dc2_ip, _odj_rodc_ip, _odj_nodc_ip.
_odj_env_read_dcs() {
	local dir=$1 dip dhost
	_odj_dc2_ip='' _odj_rodc_ip='' _odj_nodc_ip=''
	[ -s "$dir/dcs.list" ] || return 0
	while read -r dip dhost; do
		case $dhost in
		dc2) _odj_dc2_ip=$dip ;;
		rodc1) _odj_rodc_ip=$dip ;;
		nodc) _odj_nodc_ip=$dip ;;
		esac
	done <"$dir/dcs.list"
}

# krb5.conf naming one KDC only: the DCs' own, and for tests that must talk
# to exactly that DC (an RODC alone).
_odj_env_krb5_conf() {
	local kdc=$1 realm=$2 dns=$3
	cat <<-EOF
	[libdefaults]
	    default_realm = $realm
	    dns_lookup_kdc = false
	    dns_lookup_realm = false
	    rdns = false
	    dns_canonicalize_hostname = false
	    forwardable = true

	[realms]
	    $realm = {
	        kdc = $kdc
	        admin_server = $kdc
	        kpasswd_server = $kdc
	        default_domain = $dns
	    }

	[domain_realm]
	    .$dns = $realm
	    $dns = $realm
	EOF
}

# Sets dip (of the caller) to the address of dc2, rodc1 or nodc, if any.
_odj_env_dc_host_ip() {
	case $1 in
	dc2) dip=$_odj_dc2_ip ;;
	rodc1) dip=$_odj_rodc_ip ;;
	nodc) dip=$_odj_nodc_ip ;;
	esac
	[ -n "$dip" ]
}

# Trap 4: nss_wrapper rejects a hosts file with any comment line, so the files
# are generated from clients.list ("IP NETBIOSNAME" lines) with no comments.
_odj_env_write_files() {
	local dir=$1 ip=$2 dns=odj.test realm=ODJ.TEST dc=dc1 cip cname lc srv
	local me uid gid dip dhost dsite
	local site=Default-First-Site-Name

	touch "$dir/clients.list"
	_odj_env_read_dcs "$dir"

	{
		printf '127.0.0.1 localhost\n'
		printf '%s %s.%s %s %s\n' "$ip" "$dc" "$dns" "$dc" "$dns"
		for dhost in dc2 rodc1 nodc; do
			_odj_env_dc_host_ip "$dhost" || continue
			printf '%s %s.%s %s\n' "$dip" "$dhost" "$dns" "$dhost"
		done
		while read -r cip cname; do
			[ -n "$cname" ] || continue
			lc=${cname,,}
			printf '%s %s.%s %s\n' "$cip" "$lc" "$dns" "$lc"
		done <"$dir/clients.list"
	} | _odj_env_put "$dir/hosts"

	{
		printf 'A %s.%s %s\n' "$dc" "$dns" "$ip"
		printf 'A %s %s\n' "$dns" "$ip"
		for srv in "_ldap._tcp.$dns 389" "_ldap._tcp.dc._msdcs.$dns 389" \
			"_ldap._tcp.pdc._msdcs.$dns 389" "_ldap._tcp.gc._msdcs.$dns 3268" \
			"_gc._tcp.$dns 3268" "_ldap._tcp.$site._sites.$dns 389" \
			"_ldap._tcp.$site._sites.dc._msdcs.$dns 389" \
			"_ldap._tcp.$site._sites.gc._msdcs.$dns 3268" \
			"_gc._tcp.$site._sites.$dns 3268" \
			"_kerberos._tcp.$dns 88" "_kerberos._udp.$dns 88" \
			"_kerberos._tcp.dc._msdcs.$dns 88" \
			"_kerberos._tcp.$site._sites.$dns 88" \
			"_kerberos._tcp.$site._sites.dc._msdcs.$dns 88" \
			"_kpasswd._tcp.$dns 464" "_kpasswd._udp.$dns 464"; do
			set -- $srv
			printf 'SRV %s %s.%s %s\n' "$1" "$dc" "$dns" "$2"
		done
		while read -r cip cname; do
			[ -n "$cname" ] || continue
			lc=${cname,,}
			printf 'A %s.%s %s\n' "$lc" "$dns" "$cip"
		done <"$dir/clients.list"
		# Addresses only: no SRV answer changes for existing tests.
		for dhost in dc2 rodc1 nodc; do
			_odj_env_dc_host_ip "$dhost" || continue
			printf 'A %s.%s %s\n' "$dhost" "$dns" "$dip"
		done
	} | _odj_env_put "$dir/dns-hosts"

	# Opt-in (odj_env_dns sites): the site-specific records each added DC
	# registers for its site. resolv_wrapper answers a name with the
	# first matching line only, so one record per name here; several
	# records with priorities and weights need odj_env_dns dc.
	{
		cat "$dir/dns-hosts"
		for dhost in dc2 rodc1; do
			_odj_env_dc_host_ip "$dhost" || continue
			case $dhost in dc2) dsite=Site2 ;; rodc1) dsite=Branch ;; esac
			for srv in "_ldap._tcp.$dsite._sites.$dns 389" \
				"_ldap._tcp.$dsite._sites.dc._msdcs.$dns 389" \
				"_kerberos._tcp.$dsite._sites.$dns 88" \
				"_kerberos._tcp.$dsite._sites.dc._msdcs.$dns 88"; do
				set -- $srv
				printf 'SRV %s %s.%s %s\n' "$1" "$dhost" "$dns" "$2"
			done
		done
	} | _odj_env_put "$dir/dns-hosts-sites"

	# What the DCs' own samba processes resolve with (dc.sh): replication
	# finds its partner by the CNAME <NTDS Settings objectGUID>._msdcs,
	# listed in dsa-guids ("GUID HOST") once there are several DCs.
	{
		cat "$dir/dns-hosts"
		if [ -s "$dir/dsa-guids" ]; then
			while read -r cip cname; do
				[ -n "$cname" ] || continue
				printf 'CNAME %s._msdcs.%s %s.%s\n' "$cip" "$dns" \
					"$cname" "$dns"
			done <"$dir/dsa-guids"
		fi
	} | _odj_env_put "$dir/dns-hosts-dcs"

	printf 'nameserver %s\n' "$ip" | _odj_env_put "$dir/resolv.conf"

	# Opt-in (odj_env_dns dc): the domain's own DNS, on every DC.
	{
		printf 'nameserver %s\n' "$ip"
		for dhost in dc2 rodc1; do
			_odj_env_dc_host_ip "$dhost" || continue
			printf 'nameserver %s\n' "$dip"
		done
	} | _odj_env_put "$dir/resolv-dcs.conf"

	_odj_env_krb5_conf "$ip" "$realm" "$dns" | _odj_env_put "$dir/krb5.conf"
	for dhost in dc2 rodc1; do
		_odj_env_dc_host_ip "$dhost" || continue
		_odj_env_krb5_conf "$dip" "$realm" "$dns" |
			_odj_env_put "$dir/krb5.$dhost.conf"
	done

	uid=$(id -u)
	gid=$(id -g)
	{
		printf 'root:x:0:0:root:/root:/bin/sh\n'
		printf 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n'
		if [ "$uid" != 0 ]; then
			me=$(id -un)
			printf '%s:x:%s:%s:%s:%s:/bin/sh\n' "$me" "$uid" "$gid" "$me" "${HOME:-/}"
		fi
	} | _odj_env_put "$dir/passwd"
	{
		printf 'root:x:0:\n'
		printf 'users:x:100:\n'
		printf 'nogroup:x:65534:nobody\n'
		if [ "$gid" != 0 ] && [ "$gid" != 100 ] && [ "$gid" != 65534 ]; then
			printf '%s:x:%s:\n' "$(id -gn)" "$gid"
		fi
	} | _odj_env_put "$dir/group"
}

# Sets _odj_preload: LD_PRELOAD plus both wrappers, each once.
_odj_env_preload() {
	local lib d path
	_odj_preload=${LD_PRELOAD:-}
	for lib in libnss_wrapper.so libresolv_wrapper.so; do
		path=
		for d in /usr/lib/x86_64-linux-gnu /usr/lib/*-linux-gnu /usr/lib64 /usr/lib; do
			if [ -e "$d/$lib" ]; then
				path=$d/$lib
				break
			fi
		done
		if [ -z "$path" ]; then
			_odj_env_say "error: $lib not found (packages libnss-wrapper, libresolv-wrapper)"
			return 1
		fi
		case ":$_odj_preload:" in *":$path:"*) continue ;; esac
		_odj_preload=${_odj_preload:+$_odj_preload:}$path
	done
}

_odj_env_main() {
	local prefix=${1:-${ODJ_DC_PREFIX:-}} dir ip _odj_ip _odj_preload
	local _odj_dc2_ip _odj_rodc_ip _odj_nodc_ip
	if [ -z "$prefix" ]; then
		_odj_env_say "usage: . env.sh PREFIX"
		return 2
	fi
	[ -d "$prefix/env" ] || mkdir -p -- "$prefix/env" || return 1
	prefix=$(cd -- "$prefix" && pwd -P) || return 1
	dir=$prefix/env
	_odj_env_dc_ip "$dir" || return 1
	ip=$_odj_ip
	if ! _odj_env_fresh "$dir"; then
		if [ -n "${_ODJ_ENV_LOCK_HELD:-}" ]; then
			_odj_env_write_files "$dir" "$ip" || return 1
		else
			(
				exec 9>>"$dir/.lock"
				flock 9
				_odj_env_write_files "$dir" "$ip"
			) || return 1
		fi
	fi
	_odj_env_preload || return 1
	_odj_env_read_dcs "$dir"

	export ODJ_DC_PREFIX=$prefix
	export ODJ_DC_NAME=dc1.odj.test
	export ODJ_DC_NETBIOS=DC1
	export ODJ_DC_IP=$ip
	export ODJ_REALM=ODJ.TEST
	export ODJ_DNS_DOMAIN=odj.test
	export ODJ_DOMAIN=ODJ
	export ODJ_ADMIN_USER=Administrator
	export ODJ_ADMIN_PASS=Odj-Admin-Pass1
	export ODJ_DC_SMBCONF=$prefix/dc/etc/smb.conf
	export ODJ_ADMIN_SMBCONF=$prefix/admin/etc/smb.conf
	export ODJ_DC_SITE=Default-First-Site-Name

	# The other DCs (dc.sh add-dc, add-rodc); the addresses are empty until
	# dc.sh has given them one.
	export ODJ_DC2_NAME=dc2.odj.test
	export ODJ_DC2_NETBIOS=DC2
	export ODJ_DC2_IP=$_odj_dc2_ip
	export ODJ_DC2_SITE=Site2
	export ODJ_DC2_SMBCONF=$prefix/dc2/etc/smb.conf
	export ODJ_DC2_KRB5_CONFIG=$dir/krb5.dc2.conf
	export ODJ_RODC_NAME=rodc1.odj.test
	export ODJ_RODC_NETBIOS=RODC1
	export ODJ_RODC_IP=$_odj_rodc_ip
	export ODJ_RODC_SITE=Branch
	export ODJ_RODC_SMBCONF=$prefix/rodc1/etc/smb.conf
	export ODJ_RODC_KRB5_CONFIG=$dir/krb5.rodc1.conf
	export ODJ_NODC_NAME=nodc.odj.test
	export ODJ_NODC_IP=$_odj_nodc_ip

	export KRB5_CONFIG=$dir/krb5.conf
	# Trap 9: keep tickets and keytabs out of /tmp and /etc.
	export KRB5CCNAME=FILE:$dir/krb5cc
	export KRB5_KTNAME=FILE:$dir/krb5.keytab
	export KRB5_CLIENT_KTNAME=FILE:$dir/krb5.client.keytab
	export NSS_WRAPPER_HOSTS=$dir/hosts
	# nss_wrapper's table of host names is 100 entries by default; every
	# client a test makes stays in clients.list (three names each), and
	# a full table fails every lookup ("Hash table is full")
	export NSS_WRAPPER_MAX_HOSTENTS=100000
	# Trap 6: libwbclient honours SELFTEST_WINBINDD_SOCKET_DIR only while
	# nss_wrapper is active, i.e. with both PASSWD and GROUP set. The default
	# points nowhere so that no tool reaches a system or DC winbindd by chance;
	# client.sh run CLIENTPREFIX ... points it at that client's winbindd.
	export NSS_WRAPPER_PASSWD=$dir/passwd
	export NSS_WRAPPER_GROUP=$dir/group
	export SELFTEST_WINBINDD_SOCKET_DIR=$dir/no-winbindd
	export RESOLV_WRAPPER_HOSTS=$dir/dns-hosts
	unset RESOLV_WRAPPER_CONF
	# samba_dnsupdate and other python tools read RESOLV_CONF, not the wrappers.
	export RESOLV_CONF=$dir/resolv.conf
	# Trap 5: ldb's RTLD_DEEPBIND would bypass the preloaded wrappers.
	export LDB_MODULES_DISABLE_DEEPBIND=1
	export LD_PRELOAD=$_odj_preload
	return 0
}

# odj_env_dns MODE: which DNS answers res_query() & co. give (through
# resolv_wrapper) in this shell and its children:
#   hosts  the default: PREFIX/env/dns-hosts, dc1's records only
#   sites  dns-hosts-sites: also the site-specific records of dc2 (Site2)
#          and rodc1 (Branch), one record per name
#   dc     the domain's own DNS on the DCs (resolv-dcs.conf): every record
#          the DCs registered, several per name with priorities and
#          weights, and what a test adds with `dc.sh dns`
# Sourcing env.sh again goes back to hosts.
odj_env_dns() {
	local dir=${ODJ_DC_PREFIX:?source env.sh first}/env
	case ${1:-} in
	hosts | sites)
		unset RESOLV_WRAPPER_CONF
		export RESOLV_WRAPPER_HOSTS=$dir/dns-hosts
		[ "$1" = hosts ] || RESOLV_WRAPPER_HOSTS=$dir/dns-hosts-sites
		;;
	dc)
		unset RESOLV_WRAPPER_HOSTS
		export RESOLV_WRAPPER_CONF=$dir/resolv-dcs.conf
		;;
	*)
		printf 'usage: odj_env_dns hosts|sites|dc\n' >&2
		return 2
		;;
	esac
}

if ! (return 0 2>/dev/null); then
	_odj_env_say "must be sourced: . ${BASH_SOURCE[0]:-env.sh} PREFIX"
	exit 2
fi

_odj_env_main "$@"
_odj_env_rc=$?
unset -f _odj_env_say _odj_env_put _odj_env_dc_ip _odj_env_fresh \
	_odj_env_write_files _odj_env_preload _odj_env_main _odj_env_read_dcs \
	_odj_env_krb5_conf _odj_env_dc_host_ip
return $_odj_env_rc
