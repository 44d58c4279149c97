# The throwaway DC for a blackbox script that says "# needs: dc", sourced
# after common.sh and odj_scratch: env.sh's variables (ODJ_REALM,
# ODJ_DC_NAME, ...), ENVD (testsuite/env), ADMIN (user%password of the
# domain's Administrator), DOMDN, and kinit_pw.

if [ -z "${ODJ_DC_PREFIX:-}" ]; then
	_fail "${0##*/}: ODJ_DC_PREFIX not set (run through testsuite/run)"
	exit $failed
fi
ENVD=$ODJ_TOP/testsuite/env
. "$ENVD/env.sh" "$ODJ_DC_PREFIX" || exit 1

ADMIN="$ODJ_ADMIN_USER%$ODJ_ADMIN_PASS"
DOMDN="DC=odj,DC=test"

# kinit_pw NAME PASSWORD: a TGT for NAME$ with PASSWORD, in a ccache of
# its own under the scratch directory
kinit_pw() {
	local cc=FILE:$ODJ_SCRATCH/kinit.$RANDOM

	printf '%s\n' "$2" | KRB5CCNAME=$cc kinit "${1^^}\$@$ODJ_REALM" \
		>/dev/null 2>&1
}
