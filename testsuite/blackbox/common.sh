# Blackbox test helpers, in the spirit of Samba's testprogs/blackbox
# (testit, testit_expect_failure, testit_grep).  Sourced by test_*.sh.
#
# Each test prints "PASS: name" or "FAIL: name" (with the command's
# output); results are appended to $ODJ_TEST_RESULTS when the runner sets
# it, and every script ends with "exit $failed".

failed=0
passed=0

ODJ_TOP=${ODJ_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ODJ=${ODJ:-$ODJ_TOP/bin/default/odj}
ODJ_DATA=$ODJ_TOP/testsuite/data
# $VALGRIND may hold a valgrind command line to run odj under
VALGRIND=${VALGRIND:-}

_record() {
	if [ -n "${ODJ_TEST_RESULTS:-}" ]; then
		printf '%s %s\n' "$1" "$2" >>"$ODJ_TEST_RESULTS"
	fi
}

# the runner's second pass (the ASan build) names its results "asan: ..."
ODJ_TEST_PREFIX=${ODJ_TEST_PREFIX:-}

_pass() {
	passed=$((passed + 1))
	printf 'PASS: %s\n' "$ODJ_TEST_PREFIX$1"
	_record PASS "$ODJ_TEST_PREFIX$1"
}

_fail() {
	failed=$((failed + 1))
	printf 'FAIL: %s\n' "$ODJ_TEST_PREFIX$1"
	if [ -n "${2:-}" ]; then
		printf '%s\n' "$2" | sed 's/^/    | /'
	fi
	_record FAIL "$ODJ_TEST_PREFIX$1"
}

# testit NAME CMD...: CMD must succeed
testit() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ $rc = 0 ]; then
		_pass "$name"
	else
		_fail "$name" "exit $rc: $out"
	fi
	return 0
}

# testit_expect_failure NAME CMD...: CMD must fail
testit_expect_failure() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ $rc != 0 ]; then
		_pass "$name"
	else
		_fail "$name" "unexpected success: $out"
	fi
	return 0
}

# testit_grep NAME REGEX CMD...: CMD must succeed and print REGEX
testit_grep() {
	local name=$1 re=$2 out rc
	shift 2
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ $rc = 0 ] && printf '%s\n' "$out" | grep -Eq -- "$re"; then
		_pass "$name"
	else
		_fail "$name" "exit $rc, wanted /$re/: $out"
	fi
	return 0
}

# testit_exit NAME CODE REGEX CMD...: CMD must exit CODE printing REGEX
testit_exit() {
	local name=$1 want=$2 re=$3 out rc
	shift 3
	out=$("$@" 2>&1) && rc=0 || rc=$?
	if [ "$rc" = "$want" ] && printf '%s\n' "$out" | grep -Eq -- "$re"
	then
		_pass "$name"
	else
		_fail "$name" "exit $rc (wanted $want), wanted /$re/: $out"
	fi
	return 0
}

# check NAME COMMAND-STRING: a shell condition that must hold
check() {
	local name=$1
	shift
	if eval "$*"; then
		_pass "$name"
	else
		_fail "$name" "condition failed: $*"
	fi
	return 0
}

odj() {
	$VALGRIND "$ODJ" "$@"
}

# file_mode PATH: octal permission bits
file_mode() {
	stat -c %a "$1"
}

# A scratch directory for this script, removed on exit.
odj_scratch() {
	ODJ_SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/odj-bb.XXXXXX")
	trap 'rm -rf "$ODJ_SCRATCH"' EXIT
}

# sync_dcs: the running DCs replicate each other's changes now (dc.sh
# replicate; nothing to do with dc1 alone).  A client picks its DC from
# DNS: when dc2 runs (kept for a later script), a password change may land
# there while the checks read dc1.
sync_dcs() {
	"$ODJ_TOP/testsuite/env/dc.sh" replicate "$ODJ_DC_PREFIX" >/dev/null
}

# pin_shim OUT.so: build the kill tests' time/randomness shim
# (pin_time.c); the compiler's words in OUT.so.log
pin_shim() {
	cc -shared -fPIC -O2 -o "$1" "$ODJ_TOP/testsuite/blackbox/pin_time.c" \
		-ldl 2>"$1.log"
}
