/* SPDX-License-Identifier: Apache-2.0 */
/* The loading step's progress (eimg_run_options.progress).  The loaders
 * report through an eimg_progress whose steps map to enum eimg_load_step:
 * the simulation child sends them as CH_PROGRESS frames on channel 0 (it
 * cannot draw: it closed every other descriptor), the in-process loaders
 * (mock, hardware) hand them over directly.  Either way the runner draws
 * only its own step names with its own total (the layout's bytes), each
 * step once and in order, and a count that only grows and never exceeds
 * the total: a worker sending bogus frames can at most move a clamped
 * number, or it is stopped as a protocol violation. */
#include <string.h>

#include "eimg/progress.h"
#include "run/runner_int.h"

static const char *const step_names[EIMG_LOAD_STEPS] = {
	[EIMG_LOAD_PLACING] = "loading",
	[EIMG_LOAD_MEASURING] = "measuring loaded pages",
};

uint64_t eimg_load_step_word(const char *step, bool finished)
{
	uint64_t id = strcmp(step, EIMG_LOAD_STEP_PLACING) == 0 ? EIMG_LOAD_PLACING : EIMG_LOAD_MEASURING;
	return id | (finished ? EIMG_LOAD_FINISHED : 0);
}

void eimg_rn_load_progress_init(struct runner *R, const eimg_layout *l)
{
	R->load_total = 0;
	for (size_t i = 0; i < l->nregions; i++)
		R->load_total += l->regions[i].size;
	R->load_step = -1;
	R->load_done = false;
}

int eimg_rn_load_progress(struct runner *R, uint64_t word, uint64_t done)
{
	struct eimg_progress *p = R->o->progress;
	uint64_t step = word & ~EIMG_LOAD_FINISHED;
	bool finished = (word & EIMG_LOAD_FINISHED) != 0;
	/* not asked for, after READY, an unknown step, a step again */
	if (!p || R->ready || step >= EIMG_LOAD_STEPS || (int)step < R->load_step ||
	    ((int)step == R->load_step && R->load_done))
		return -1;
	if ((int)step > R->load_step) {
		eimg_progress_begin(p, step_names[step], R->load_total);  /* ends the one before */
		R->load_step = (int)step;
		R->load_done = false;
	}
	if (done > R->load_total)
		done = R->load_total;
	if (done > p->done)
		eimg_progress_add(p, done - p->done);
	if (finished)
		eimg_progress_end(p);
	R->load_done = finished;
	return 0;
}

void eimg_rn_load_progress_end(struct runner *R)
{
	if (R->load_step >= 0 && !R->load_done)
		eimg_progress_end(R->o->progress);
	R->load_done = true;
}

/* The in-process loaders' reports (ctx: the runner). */
static void in_process(void *ctx, const char *step, uint64_t done, uint64_t total, bool finished)
{
	(void)total;
	(void)eimg_rn_load_progress(ctx, eimg_load_step_word(step, finished), done);
}

struct eimg_progress *eimg_rn_load_reporter(struct runner *R, struct eimg_progress *p)
{
	if (!R->o->progress)
		return NULL;
	memset(p, 0, sizeof *p);
	p->fn = in_process;
	p->ctx = R;
	return p;
}
