/*
 * The DC-side subcommands as the client binary sees them.
 *
 * Talking to a DC takes Samba's LDAP, Kerberos (Heimdal) and SMB client
 * libraries: some 120 shared objects, and loading them is most of a
 * short run.  A machine joining offline needs none of them, so `odj`
 * links only the local code and hands the DC-side subcommands (provision,
 * composeodj: anything that needs credentials or a DC) to `odj-dc`,
 * which is the same command line built with everything.
 */

#include "odj_cli.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef ODJ_LIBEXECDIR
#define ODJ_LIBEXECDIR "/usr/local/libexec/samba-odj"
#endif

#define ODJ_DC_PROGRAM "odj-dc"

/* Beside our own executable (a build tree), else where it is installed */
static const char *dc_program(TALLOC_CTX *mem_ctx)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *beside = NULL;

	if (n > 0) {
		self[n] = '\0';
		beside = talloc_asprintf(mem_ctx, "%s/" ODJ_DC_PROGRAM,
					 dirname(self));
		if (beside != NULL && access(beside, X_OK) == 0) {
			return beside;
		}
	}
	return ODJ_LIBEXECDIR "/" ODJ_DC_PROGRAM;
}

int odj_cli_exec_dc(struct odj_cli *cli)
{
	const char *path = dc_program(cli->mem_ctx);

	if (path == NULL) {
		return ODJ_EXIT_INTERNAL;
	}
	fflush(stdout);
	execv(path, discard_const_p(char *, cli->full_argv));
	odj_cli_error(cli, "cannot run %s: %s (it does the DC side of odj: "
		      "install the samba-odj-dc package, or run 'waf "
		      "install' of samba-odj)", path, strerror(errno));
	return ODJ_EXIT_INTERNAL;
}
