/* SPDX-License-Identifier: Apache-2.0 */
/* Progress of long library steps (eimg/progress.h) drawn on standard error:
 * one line, redrawn in place, with the bytes done and the rate; only on a
 * terminal, and only when the tool asks (not with -q or --json). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cli/tool.h"

static struct eimg_progress progress;
static uint64_t step_start_ms;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void draw(void *ctx, const char *step, uint64_t done, uint64_t total, bool finished)
{
	char line[200];
	(void)ctx;
	if (done == 0 && !finished)
		step_start_ms = now_ms();
	eimg_progress_format(line, sizeof(line), step, done, total, now_ms() - step_start_ms);
	/* "\r" back to the start, the line, then erase what a longer line left. */
	fprintf(stderr, "\r%s\033[K%s", line, finished ? "\n" : "");
	fflush(stderr);
}

struct eimg_progress *tool_progress(bool wanted)
{
	if (!wanted || !isatty(STDERR_FILENO))
		return NULL;
	progress.fn = draw;
	return &progress;
}
