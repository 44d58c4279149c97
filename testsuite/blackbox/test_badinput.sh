#!/bin/bash
# Malformed and hostile input: every case of testsuite/data/bad-input.tsv
# must fail (exit != 0, the exit code of the table) with exactly the
# table's message, and leave secrets.tdb, the keytab and the DC as they
# were (cmp of both files; the DC's count of computer objects).
#
# needs: dc
#
#   test_badinput.sh              run the table, and check that
#                                 docs/bad-input.md is what --markdown
#                                 writes (fails if the doc is stale)
#   test_badinput.sh --markdown   rewrite docs/bad-input.md from the
#                                 messages odj prints now
#   test_badinput.sh --update     write the exit codes and messages odj
#                                 gives now into the table (review the
#                                 diff before committing it)

. "$(dirname "$0")/common.sh"
odj_scratch

mode=test
case ${1:-} in
--markdown) mode=markdown ;;
--update) mode=update ;;
esac

. "$(dirname "$0")/dc_env.sh"

TABLE=$ODJ_TOP/testsuite/data/bad-input.tsv
DOC=$ODJ_TOP/docs/bad-input.md
S=$ODJ_SCRATCH
ACONF=$ODJ_ADMIN_SMBCONF
DOM=$ODJ_DNS_DOMAIN
DC=$ODJ_DC_NAME
DATA=$ODJ_DATA
TAG=$(printf '%05d' $(($$ % 100000)))
J=BJ$TAG		# the joined client's account
K=BK$TAG		# another account, same client name
ACCOUNTS=""

cleanup() {
	local name
	for name in $ACCOUNTS; do
		samba-tool computer delete "$name" -H "ldap://$DC" \
			--configfile="$ACONF" -U "$ADMIN" >/dev/null 2>&1
	done
	rm -rf "$ODJ_SCRATCH"
}
trap cleanup EXIT

# How many computers the DC has; a failed search (a loaded machine) is
# asked again, not counted as zero
computers() {
	local out i

	for i in 1 2 3; do
		if out=$(ldbsearch -H "ldap://$DC" -U "$ADMIN" \
			--configfile="$ACONF" "(objectClass=computer)" dn \
			2>/dev/null); then
			printf '%s\n' "$out" | grep -c '^dn: '
			return 0
		fi
		sleep 1
	done
	echo "ldbsearch failed"
}

make_inputs() {
	mkdir -p "$S/dir" "$S/out"
	: >"$S/empty"
	printf 'this is not a provisioning blob!\n' >"$S/garbage.odj"
	head -c 700 "$DATA/windows-2019-provision.ndr" | base64 >"$S/trunc.odj"
	truncate -s 17M "$S/huge.odj"
	printf '\377\376A' >"$S/odd16.odj"
	printf 'AAAAAAAAAAAAAAAAAAAAAAAA\n' >"$S/random.odj"
	{ head -c 100 "$DATA/samba-4.17-provision.odj"; printf '\0\0\0';
	  tail -c +104 "$DATA/samba-4.17-provision.odj"; } >"$S/nul.odj"
	cp "$DATA/windows-2019-provision.odj" "$S/exists.odj"
	printf 'ok1\n"broken,\n' >"$S/quote.csv"
	printf 'ws1,,,,,,too-many\n' >"$S/cols.csv"
	printf 'name,colour\nws1,blue\n' >"$S/hdr.csv"
	printf '# only a comment\n\n' >"$S/blank.csv"
	printf 'ws1\nws\0002\n' >"$S/nul.csv"
	head -c 64 "$DATA/windows-2019-provision.ndr" >"$S/bin.csv"
	printf 'bi%s-b1\n' "$TAG" >"$S/ok.csv"
	printf 'ws"1,\n' >"$S/midquote.csv"
}

# --- a joined client: secrets.tdb and keytab to watch
provision() {
	"$ODJ" provision domain="$DOM" dcname="$DC" -s "$ACONF" -U "$ADMIN" \
		"$@" >/dev/null 2>&1
}
if [ $mode = test ] || [ $mode = update ] || [ $mode = markdown ]; then
	provision machine_name="$J" savefile="$S/join.odj" ||
		{ _fail "badinput: provision $J"; exit $failed; }
	ACCOUNTS="$ACCOUNTS $J"
	provision machine_name="$K" savefile="$S/k.odj" ||
		{ _fail "badinput: provision $K"; exit $failed; }
	ACCOUNTS="$ACCOUNTS $K"
	# the other account under the client's name: JOIN_PROVIDER2 would
	# be the way; a different account is enough to be refused
	cp "$S/k.odj" "$S/other.odj"
	CONF=$("$ENVD/client.sh" new "$S/client" "$J" 2>/dev/null) ||
		{ _fail "badinput: client.sh new"; exit $failed; }
	"$ODJ" requestodj loadfile="$S/join.odj" -s "$CONF" >/dev/null 2>&1 ||
		{ _fail "badinput: join the client"; exit $failed; }
fi
PRIV=$S/client/private
make_inputs
cp -p "$PRIV/secrets.tdb" "$S/secrets.before"
cp -p "$PRIV/krb5.keytab" "$S/keytab.before"
cp -p "$CONF" "$S/smb.conf.before"
dc_before=$(computers)

normalize() {
	sed -e "s|$S|<S>|g" -e "s|$DATA|<DATA>|g" -e "s|$TAG|<TAG>|g" \
		-e "s|$ODJ_DC_PREFIX|<DC>|g" | sed ':a;N;$!ba;s/\n/\\n/g'
}

# the table, run
results=$S/results.tsv
: >"$results"
n=0
while IFS=$'\t' read -r name want cmd msg; do
	case $name in '#'* | '') continue ;; esac
	n=$((n + 1))
	rm -rf "$S/out" && mkdir "$S/out"
	out=$(cd "$S" && eval "$cmd" 2>&1 </dev/null)
	rc=$?
	got=$(printf '%s' "$out" | normalize)
	printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$cmd" "$got" >>"$results"
	[ $mode = test ] || continue
	why=""
	[ "$rc" != 0 ] || why="exit 0;"
	[ "$rc" = "$want" ] || why="$why exit $rc, not $want;"
	[ "$got" = "$msg" ] || why="$why message: $got
    wanted:  $msg;"
	cmp -s "$PRIV/secrets.tdb" "$S/secrets.before" ||
		why="$why secrets.tdb changed;"
	cmp -s "$PRIV/krb5.keytab" "$S/keytab.before" ||
		why="$why keytab changed;"
	cmp -s "$CONF" "$S/smb.conf.before" || why="$why smb.conf changed;"
	if ls -a "$PRIV" "$S/out" | grep -q '\.odj'; then
		why="$why files left"
	fi
	case $cmd in
	*provision*)
		[ "$(computers)" = "$dc_before" ] ||
			why="$why the DC's computers changed;"
		;;
	esac
	if [ -z "$why" ]; then
		_pass "bad input: $name (exit $rc)"
	else
		_fail "bad input: $name" "$why"
	fi
done <"$TABLE"

markdown() {
	cat <<-'EOF'
	# Bad input

	What odj says to malformed and hostile input, and its exit code
	(2 usage, 3 bad input file, 4 local files, 5 credentials, 6 the
	directory said no or is unreachable; see odj(8)).  Every case leaves
	secrets.tdb, the keytab, smb.conf and the DC as they were.

	Generated by `testsuite/blackbox/test_badinput.sh --markdown` from
	`testsuite/data/bad-input.tsv` and what odj prints; the test fails
	when this file is stale.  In the commands `$S` is a scratch directory
	of prepared inputs (see `make_inputs` in the test), `$CONF` a joined
	client's smb.conf, `$ACONF` the admin smb.conf; in the messages the
	scratch directory shows as `<S>` and a per-run suffix as `<TAG>`.

	| # | case | command | exit | message |
	|---|---|---|---|---|
	EOF
	awk -F'\t' '{
		for (i = 3; i <= 4; i++) {
			gsub(/\|/, "\\|", $i)
			gsub(/`/, "\\`", $i)
		}
		gsub(/&/, "\\&amp;", $4)
		gsub(/</, "\\&lt;", $4)
		gsub(/>/, "\\&gt;", $4)
		gsub(/\\n/, "<br>", $4)
		printf "| %d | %s | `%s` | %s | %s |\n", NR, $1, $3, $2, $4
	}' "$1"
}

case $mode in
markdown)
	markdown "$results" >"$DOC"
	echo "wrote $DOC ($n cases)"
	;;
update)
	{ grep '^#' "$TABLE"; cat "$results"; } >"$S/table.new"
	cp "$S/table.new" "$TABLE"
	echo "updated $TABLE ($n cases)"
	;;
test)
	check "bad input: at least 30 cases" "[ $n -ge 30 ]"
	check "bad input: the DC has as many computers as before" \
		"[ \"\$(computers)\" = $dc_before ]"
	markdown "$results" >"$S/doc.md"
	if cmp -s "$S/doc.md" "$DOC"; then
		_pass "bad input: docs/bad-input.md is up to date"
	else
		_fail "bad input: docs/bad-input.md is stale (run test_badinput.sh --markdown)" \
			"$(diff "$DOC" "$S/doc.md" 2>&1 | head -20)"
	fi
	;;
esac
exit $failed
