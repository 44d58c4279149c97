/*
 * The progress bar of the commands that work through many machines
 * (provision batch=, rodc-preload), on standard error when it is a
 * terminal:
 *
 *   [#########.....] 120/200  60%  37.2/s  ETA 0:02  1 failed
 */

#include "odj_cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* redraw at most this often */
#define PROGRESS_INTERVAL 0.1
#define BAR_WIDTH 30

void odj_progress_start(struct odj_progress *p)
{
	const char *term = getenv("TERM");

	*p = (struct odj_progress) {
		.tty = isatty(STDERR_FILENO) &&
		       !(term != NULL && strcmp(term, "dumb") == 0),
	};
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

double odj_progress_elapsed(const struct odj_progress *p)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - p->start.tv_sec) +
	       (now.tv_nsec - p->start.tv_nsec) / 1e9;
}

void odj_progress_clear(struct odj_progress *p)
{
	if (p->shown) {
		fputs("\r\033[K", stderr);
		p->shown = false;
		/* draw it again at the next chance */
		p->last_draw = -PROGRESS_INTERVAL;
	}
}

void odj_progress_draw(struct odj_progress *p, size_t done, size_t total,
		       size_t failed)
{
	double t = odj_progress_elapsed(p);
	double rate = t > 0 ? done / t : 0;
	size_t fill = total > 0 ? done * BAR_WIDTH / total : 0;
	unsigned long eta = rate > 0 ? (total - done) / rate + 0.5 : 0;
	char bar[BAR_WIDTH + 1];

	if (!p->tty ||
	    (done < total && t - p->last_draw < PROGRESS_INTERVAL)) {
		return;
	}
	p->last_draw = t;
	memset(bar, '#', fill);
	memset(bar + fill, '.', BAR_WIDTH - fill);
	bar[BAR_WIDTH] = '\0';
	fprintf(stderr, "\r\033[K[%s] %zu/%zu %3zu%% %6.1f/s ETA %lu:%02lu",
		bar, done, total, total > 0 ? done * 100 / total : 100, rate,
		eta / 60, eta % 60);
	if (failed > 0) {
		fprintf(stderr, "  %zu failed", failed);
	}
	fflush(stderr);
	p->shown = true;
}
