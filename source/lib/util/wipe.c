/*
 * Secrets in memory: buffers wiped when freed, and the budget that keeps
 * a hostile NDR stream from making us allocate (and wipe) gigabytes.
 */

#include "util/util.h"

#include <string.h>

static int wipe_destructor(void *ptr)
{
	explicit_bzero(ptr, talloc_get_size(ptr));
	return 0;
}

void odj_wipe_on_free(const void *ptr)
{
	if (ptr == NULL) {
		return;
	}
	talloc_set_destructor(discard_const_p(void, ptr), wipe_destructor);
}

char *odj_secret_strdup(TALLOC_CTX *mem_ctx, const char *s)
{
	char *copy = talloc_strdup(mem_ctx, s);

	odj_wipe_on_free(copy);
	return copy;
}

/*
 * libndr allocates a conformant array from the size on the wire before
 * it checks that the elements are there: a 20-byte stream could make us
 * zero 256 MiB.  No element decodes to more than PULL_EXPANSION times
 * its wire size, so a trial pull runs under that budget first.  (talloc
 * calls memlimits deprecated in favour of cgroups, which cannot bound
 * one parse.)  Nothing may outlive the budget: a chunk moved out of a
 * limited context keeps a pointer to its limit, so the trial's result
 * is only looked at, then wiped and freed with odj_pull_budget_free().
 */
#define PULL_EXPANSION 128
#define PULL_SLACK (256 * 1024)

TALLOC_CTX *odj_pull_budget_new(size_t wire)
{
	/*
	 * Top level, not under the caller's context: that may be a talloc
	 * pool (a tevent_req's state is one), and talloc then never frees
	 * the memlimit it keeps for a pool member.
	 */
	TALLOC_CTX *budget = talloc_new(NULL);

	if (budget == NULL) {
		return NULL;
	}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
	talloc_set_memlimit(budget, wire * PULL_EXPANSION + PULL_SLACK);
#pragma GCC diagnostic pop
	return budget;
}

static void wipe_chunk(const void *ptr, int depth, int max_depth,
		       int is_ref, void *private_data)
{
	if (!is_ref) {
		explicit_bzero(discard_const_p(void, ptr),
			       talloc_get_size(ptr));
	}
}

void odj_pull_budget_free(TALLOC_CTX *budget)
{
	if (budget == NULL) {
		return;
	}
	/* the trial may hold a password: wipe every chunk it allocated */
	talloc_report_depth_cb(budget, 0, -1, wipe_chunk, NULL);
	talloc_free(budget);
}
