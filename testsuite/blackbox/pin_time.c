/*
 * The kill tests' shim (LD_PRELOAD): wall-clock time and GnuTLS's
 * randomness pinned, so that two runs of odj write the same bytes and
 * a killed run's tree can be compared with the old and the new one.
 * Monotonic clocks stay real (timeouts must still work).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#define PINNED 1767225600	/* 2026-01-01 00:00:00 UTC */
time_t time(time_t *t)
{
	if (t != NULL) {
		*t = PINNED;
	}
	return PINNED;
}
int gettimeofday(struct timeval *tv, void *tz)
{
	(void)tz;
	if (tv != NULL) {
		tv->tv_sec = PINNED;
		tv->tv_usec = 0;
	}
	return 0;
}
int clock_gettime(clockid_t c, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);

	if (c == CLOCK_REALTIME || c == CLOCK_REALTIME_COARSE) {
		ts->tv_sec = PINNED;
		ts->tv_nsec = 0;
		return 0;
	}
	if (real == NULL) {
		real = (int (*)(clockid_t, struct timespec *))
			dlsym(RTLD_NEXT, "clock_gettime");
	}
	return real(c, ts);
}
int gnutls_rnd(int level, void *data, size_t len)
{
	(void)level;
	memset(data, 0x5a, len);
	return 0;
}
