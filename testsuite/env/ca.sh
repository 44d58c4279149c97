#!/bin/bash
# A test "AD CS enterprise CA" for the throwaway domain of PREFIX: the CA
# host's machine account CA1$ on the DC, the CA's objects in AD, and the
# MS-ICPR endpoint (icpr_server.py, with its own endpoint mapper on port
# 135) on its own loopback address.
#
#   ca.sh start PREFIX     set up once (PREFIX/ca), start, wait
#   ca.sh stop PREFIX      stop the endpoint, by pid
#   ca.sh status PREFIX    exit 0 if it runs
#   ca.sh destroy PREFIX   stop, remove CA1$ and the CA's AD objects
#
# ODJ_CA_IP (default 127.0.0.9) and ODJ_CA_PORT (default 49700, the
# ICertPassage port the endpoint mapper hands out) are read when PREFIX/ca
# is first set up.  The DC of PREFIX must be running.
#
# In AD (configuration NC, CN=Public Key Services,CN=Services):
#   CN=ODJ Test CA,CN=Enrollment Services   pKIEnrollmentService on
#       ca1.odj.test offering Machine and OdjPendingMachine
#   CN=ODJ Test CA,CN=Certification Authorities   its certificate
#   CN=Machine, CN=OdjPendingMachine, CN=OdjNotOffered,
#   CN=Certificate Templates   AD CS's stock "Machine" template (made
#       only if missing), the same with CT_FLAG_PEND_ALL_REQUESTS (every
#       request taken under submission), and one no CA offers
set -eu

ODJ_PROG=ca.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CA_NAME="ODJ Test CA"
CA_HOST=CA1

usage() {
	printf 'usage: %s start|stop|status|destroy PREFIX\n' "$0" >&2
	exit 2
}

ca_env() {
	local prefix=$1
	[ -d "$prefix/env" ] || odj_die "$prefix is no DC prefix"
	# shellcheck disable=SC1091
	. "$ODJ_ENV_DIR/env.sh" "$prefix" || odj_die "env.sh failed"
	CA=$ODJ_DC_PREFIX/ca
	CA_PIDFILE=$CA/run/icpr_server.pid
	CA_LOG=$CA/log/icpr_server.log
	CA_FQDN=${CA_HOST,,}.$ODJ_DNS_DOMAIN
	CONFIG_DN="CN=Configuration,DC=${ODJ_DNS_DOMAIN//./,DC=}"
	PKS="CN=Public Key Services,CN=Services,$CONFIG_DN"
	ES_DN="CN=$CA_NAME,CN=Enrollment Services,$PKS"
	CERTAUTH_DN="CN=$CA_NAME,CN=Certification Authorities,$PKS"
	TEMPLATES="CN=Certificate Templates,$PKS"
	H=(-H "ldap://$ODJ_DC_NAME" -U "$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
		--configfile="$ODJ_ADMIN_SMBCONF")
}

ldap_exists() {
	ldbsearch "${H[@]}" -s base -b "$1" dn 2>/dev/null | grep -q '^dn: '
}

b64der() {
	openssl x509 -in "$1" -outform DER | base64 -w0
}

make_ca_cert() {
	cat >"$CA/ca.tmpl" <<-EOF
	organization = "samba-odj test"
	cn = "$CA_NAME"
	ca
	cert_signing_key
	crl_signing_key
	expiration_days = 3650
	EOF
	certtool --generate-privkey --key-type=rsa --bits=2048 \
		--outfile "$CA/ca-key.pem" >"$CA/log/certtool.log" 2>&1 &&
		certtool --generate-self-signed --load-privkey "$CA/ca-key.pem" \
			--template "$CA/ca.tmpl" --outfile "$CA/ca.pem" \
			>>"$CA/log/certtool.log" 2>&1 ||
		odj_die "certtool failed: $(tail -n 5 "$CA/log/certtool.log")"
	chmod 600 "$CA/ca-key.pem"
}

# The CA host's computer account, with the names and SPN a Windows member
# has: the endpoint accepts Kerberos tickets for HOST/ca1.odj.test.
make_host_account() {
	local pw
	pw="Ca1-$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
	samba-tool computer delete "$CA_HOST" "${H[@]}" >/dev/null 2>&1 || true
	samba-tool computer create "$CA_HOST" "${H[@]}" >/dev/null
	samba-tool user setpassword "$CA_HOST\$" --newpassword="$pw" \
		"${H[@]}" >/dev/null
	ldbmodify "${H[@]}" >/dev/null <<-EOF
	dn: CN=$CA_HOST,CN=Computers,DC=${ODJ_DNS_DOMAIN//./,DC=}
	changetype: modify
	replace: dNSHostName
	dNSHostName: $CA_FQDN
	-
	replace: servicePrincipalName
	servicePrincipalName: HOST/$CA_FQDN
	servicePrincipalName: HOST/$CA_HOST
	EOF
	(umask 077 && printf '%s\n' "$pw" >"$CA/machine.pw")
}

# pKICertificateTemplate NAME ENROLLMENT_FLAG: AD CS's version 1
# "Machine" (its values from a Windows Server 2019 forest) under NAME
template_ldif() {
	cat <<-EOF
	dn: CN=$1,$TEMPLATES
	objectClass: top
	objectClass: pKICertificateTemplate
	cn: $1
	displayName: $1
	flags: 66113
	revision: 5
	pKIDefaultKeySpec: 1
	pKIKeyUsage:: oAA=
	pKIMaxIssuingDepth: 0
	pKICriticalExtensions: 2.5.29.15
	pKIExpirationPeriod:: AEA5hy7h/v8=
	pKIOverlapPeriod:: AICmCv/e//8=
	pKIExtendedKeyUsage: 1.3.6.1.5.5.7.3.2
	pKIExtendedKeyUsage: 1.3.6.1.5.5.7.3.1
	pKIDefaultCSPs: 2,Microsoft Base Cryptographic Provider v1.0
	pKIDefaultCSPs: 1,Microsoft RSA SChannel Cryptographic Provider
	msPKI-RA-Signature: 0
	msPKI-Enrollment-Flag: $2
	msPKI-Private-Key-Flag: 0
	msPKI-Certificate-Name-Flag: 402653184
	msPKI-Minimal-Key-Size: 2048
	msPKI-Template-Schema-Version: 1
	msPKI-Template-Minor-Revision: 0
	msPKI-Cert-Template-OID: 1.3.6.1.4.1.311.21.8.1.1.1.1.1.1.14
	EOF
}

publish() {
	local t
	: >"$CA/created.list"
	for t in "Machine 0" "OdjPendingMachine 2" "OdjNotOffered 0"; do
		set -- $t
		if ! ldap_exists "CN=$1,$TEMPLATES"; then
			template_ldif "$1" "$2" | ldbadd "${H[@]}" >/dev/null
			printf 'CN=%s,%s\n' "$1" "$TEMPLATES" >>"$CA/created.list"
		fi
	done
	ldbdel "${H[@]}" "$ES_DN" >/dev/null 2>&1 || true
	ldbdel "${H[@]}" "$CERTAUTH_DN" >/dev/null 2>&1 || true
	ldbadd "${H[@]}" >/dev/null <<-EOF
	dn: $CERTAUTH_DN
	objectClass: top
	objectClass: certificationAuthority
	cn: $CA_NAME
	cACertificate:: $(b64der "$CA/ca.pem")
	authorityRevocationList:: AA==
	certificateRevocationList:: AA==

	dn: $ES_DN
	objectClass: top
	objectClass: pKIEnrollmentService
	cn: $CA_NAME
	dNSHostName: $CA_FQDN
	certificateTemplates: Machine
	certificateTemplates: OdjPendingMachine
	cACertificate:: $(b64der "$CA/ca.pem")
	EOF
	printf '%s\n%s\n' "$CERTAUTH_DN" "$ES_DN" >>"$CA/created.list"
}

setup() {
	local ip port
	[ -e "$CA/.setup" ] && return 0
	ip=${ODJ_CA_IP:-127.0.0.9}
	port=${ODJ_CA_PORT:-49700}
	case $ip in 127.*.*.*) ;; *) odj_die "ODJ_CA_IP=$ip is not in 127.0.0.0/8" ;; esac
	[ "$ip" != "$ODJ_DC_IP" ] || odj_die "ODJ_CA_IP is the DC's address"
	mkdir -p "$CA/log" "$CA/run" "$CA/state" "$CA/capture"
	"$ODJ_ENV_DIR/client.sh" new "$CA" "$CA_HOST" "$ip" >/dev/null
	printf '%s\n' "$ip" >"$CA/ip"
	printf '%s\n' "$port" >"$CA/port"
	make_ca_cert
	make_host_account
	publish
	: >"$CA/.setup"
	odj_say "CA '$CA_NAME' on $CA_FQDN ($ip) set up in $CA"
}

ca_pid() {
	local pid
	pid=$(odj_read_pidfile "$CA_PIDFILE") || return 1
	odj_alive "$pid" || return 1
	odj_get_cmdline "$pid" || return 1
	case $ODJ_CMDLINE in *icpr_server.py*"$CA"*) ;; *) return 1 ;; esac
	printf '%s\n' "$pid"
}

cmd_start() {
	local ip port pid
	[ -s "$ODJ_DC_PREFIX/dc/run/samba.pid" ] || odj_die "the DC of $ODJ_DC_PREFIX is not running"
	setup
	if ca_pid >/dev/null; then
		return 0
	fi
	read -r ip <"$CA/ip"
	read -r port <"$CA/port"
	rm -f "$CA_PIDFILE"
	setsid /usr/bin/python3 "$ODJ_ENV_DIR/icpr_server.py" \
		--configfile "$CA/etc/smb.conf" --listen "$ip" --port "$port" \
		--host "$CA_FQDN" --account "$CA_HOST\$" \
		--password-file "$CA/machine.pw" --dc "$ODJ_DC_NAME" \
		--ca-name "$CA_NAME" --ca-cert "$CA/ca.pem" \
		--ca-key "$CA/ca-key.pem" --state "$CA/state" \
		--capture "$CA/capture" --override "$CA/override.json" \
		--pidfile "$CA_PIDFILE" </dev/null >>"$CA_LOG" 2>&1 &
	pid=$!
	if ! ca_wait "$ip" "$port" "$pid"; then
		tail -n 20 "$CA_LOG" >&2
		kill "$pid" 2>/dev/null || true
		odj_die "the CA endpoint did not start (log: $CA_LOG)"
	fi
	odj_say "CA endpoint on $ip (epmapper 135, ICertPassage $port), pid $pid"
}

# IP PORT PID: both ports listen, or the endpoint died (no point waiting)
ca_wait() {
	local deadline=$((SECONDS + ${ODJ_DC_TIMEOUT:-60}))
	while [ "$SECONDS" -lt "$deadline" ]; do
		odj_alive "$3" || return 1
		if [ -s "$CA_PIDFILE" ] && odj_tcp_listening "$1" 135 &&
			odj_tcp_listening "$1" "$2"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

cmd_stop() {
	local pid
	pid=$(ca_pid) || return 0
	odj_stop_pids 10 "$pid"
}

cmd_destroy() {
	local dn
	cmd_stop
	if [ -s "$CA/created.list" ]; then
		tac "$CA/created.list" | while read -r dn; do
			ldbdel "${H[@]}" "$dn" >/dev/null 2>&1 || true
		done
	fi
	samba-tool computer delete "$CA_HOST" "${H[@]}" >/dev/null 2>&1 || true
	rm -rf -- "$CA"
}

[ $# = 2 ] || usage
ca_env "$2"
case $1 in
start) cmd_start ;;
stop) cmd_stop ;;
status) ca_pid >/dev/null ;;
destroy) cmd_destroy ;;
*) usage ;;
esac
