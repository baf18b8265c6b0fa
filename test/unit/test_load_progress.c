/* SPDX-License-Identifier: Apache-2.0 */
/* The loading step's progress (run/load_progress.c): the simulation child's
 * CH_PROGRESS frames, as the runner reads them from a channel, against a
 * worker that sends what it likes.  Good reports draw the runner's own step
 * names with the layout's total; a count beyond the total is drawn as the
 * total, a count going back is not drawn; a flood is drawn at most every
 * EIMG_PROGRESS_INTERVAL_MS; a frame with a payload, on another channel,
 * after READY, for a step that does not exist, a step again or a step
 * nobody asked for ends the run as a protocol violation.  (The loaders'
 * own reports: test_sim.c for the simulation, test_run_hw.c for ADD_PAGES.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/progress.h"
#include "eimg/sim.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "run/ring_int.h"
#include "run/sim_int.h"
#include "run/runner_int.h"

/* ---- what was drawn ---- */
#define MAXCALLS 64
struct drawn {
	unsigned n;
	const char *step[MAXCALLS];
	uint64_t done[MAXCALLS], total[MAXCALLS];
	bool finished[MAXCALLS];
};

static void record(void *ctx, const char *step, uint64_t done, uint64_t total, bool finished)
{
	struct drawn *d = ctx;
	if (d->n < MAXCALLS) {
		d->step[d->n] = step;
		d->done[d->n] = done;
		d->total[d->n] = total;
		d->finished[d->n] = finished;
	}
	d->n++;
}

/* ---- a runner with two channels, fed through socket pairs ---- */
struct fix {
	struct runner R;
	struct eimg_run_options o;
	struct eimg_run_result res;
	struct chan ch[2];
	int peer[2];               /* the worker's ends */
	struct eimg_progress p;
	struct drawn d;
	struct eimg_region regs[2];
	eimg_layout l;
};

static void setup(struct fix *f, bool wanted)
{
	memset(f, 0, sizeof *f);
	f->regs[0].size = 3 * 4096;
	f->regs[1].size = 5 * 4096;
	f->l.regions = f->regs;
	f->l.nregions = 2;
	f->p.fn = record;
	f->p.ctx = &f->d;
	f->o.backend = EIMG_RUN_SIMULATION;
	f->o.progress = wanted ? &f->p : NULL;
	f->R.o = &f->o;
	f->R.res = &f->res;
	f->R.max = 1024;
	f->R.nch = 2;
	f->R.ch = f->ch;
	for (int i = 0; i < 2; i++) {
		int sv[2];
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
		f->ch[i].fd = sv[0];
		f->peer[i] = sv[1];
	}
	eimg_rn_load_progress_init(&f->R, &f->l);
	assert_int_equal(f->R.load_total, 8 * 4096);
}

static void teardown(struct fix *f)
{
	for (int i = 0; i < 2; i++) {
		close(f->ch[i].fd);
		close(f->peer[i]);
		buf_free(&f->ch[i].in);
		buf_free(&f->ch[i].out);
	}
}

/* A frame from worker i, with len bytes of payload, read by the runner. */
static void send_frame(struct fix *f, int i, uint32_t type, uint64_t a, uint64_t b, uint32_t len)
{
	uint8_t fr[CH_HDR + 16];
	memset(fr, 'x', sizeof fr);
	eimg_ch_header(fr, len, type, a, b);
	assert_int_equal(write(f->peer[i], fr, CH_HDR + len), (ssize_t)(CH_HDR + len));
	eimg_rn_chan_read(&f->R, &f->ch[i]);
}

static void progress(struct fix *f, uint64_t step, bool finished, uint64_t done)
{
	send_frame(f, 0, CH_PROGRESS, done, step | (finished ? EIMG_LOAD_FINISHED : 0), 0);
}

static void expect_violation(struct fix *f)
{
	assert_true(f->R.dead);
	assert_int_equal(f->res.outcome, EIMG_RUN_VIOLATION);
	assert_non_null(strstr(f->res.what, "unexpected progress"));
}

static void test_steps_drawn_with_runner_names_and_total(void **state)
{
	struct fix f;
	(void)state;
	setup(&f, true);
	progress(&f, EIMG_LOAD_PLACING, false, 0);
	progress(&f, EIMG_LOAD_PLACING, true, 8 * 4096);
	progress(&f, EIMG_LOAD_MEASURING, false, 0);
	progress(&f, EIMG_LOAD_MEASURING, true, 8 * 4096);
	assert_false(f.R.dead);
	assert_int_equal(f.d.n, 4);
	assert_string_equal(f.d.step[0], "loading");
	assert_string_equal(f.d.step[2], "measuring loaded pages");
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(f.d.total[i], 8 * 4096);
		assert_int_equal(f.d.finished[i], i % 2 == 1);
		assert_int_equal(f.d.done[i], i % 2 ? 8 * 4096 : 0);
	}
	/* READY then finishes nothing more */
	send_frame(&f, 0, CH_READY, 0, 0, 0);
	assert_false(f.R.dead);
	assert_true(f.R.ready);
	assert_int_equal(f.d.n, 4);
	teardown(&f);
}

static void test_counts_clamped(void **state)
{
	struct fix f;
	(void)state;
	setup(&f, true);
	/* the measuring step without the placing one: allowed (steps only go forward) */
	progress(&f, EIMG_LOAD_MEASURING, false, UINT64_MAX);
	progress(&f, EIMG_LOAD_MEASURING, false, 5);          /* back: not drawn */
	progress(&f, EIMG_LOAD_MEASURING, true, 7);
	assert_false(f.R.dead);
	assert_int_equal(f.d.n, 2);
	assert_string_equal(f.d.step[0], "measuring loaded pages");
	assert_int_equal(f.d.done[0], 0);                     /* the step begins at 0 */
	assert_true(f.d.finished[1]);
	assert_int_equal(f.d.done[1], 8 * 4096);              /* the total, not 2^64-1 */
	assert_int_equal(f.d.total[1], 8 * 4096);
	teardown(&f);
}

static void test_flood_rate_limited(void **state)
{
	struct fix f;
	(void)state;
	struct timespec t0, t1;
	setup(&f, true);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t i = 0; i < 5000; i++)
		progress(&f, EIMG_LOAD_PLACING, false, i);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_false(f.R.dead);
	/* the begin, then at most one redraw per interval (however slow this
	 * machine or valgrind makes the 5000 frames) */
	uint64_t ms = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000 + (uint64_t)(t1.tv_nsec / 1000000) -
		      (uint64_t)(t0.tv_nsec / 1000000);
	if (f.d.n < 1 || f.d.n > 2 + ms / EIMG_PROGRESS_INTERVAL_MS)
		fail_msg("%u draws for 5000 reports in %llu ms", f.d.n, (unsigned long long)ms);
	unsigned before_end = f.d.n;
	/* a run that ends before the step did: its line is finished */
	eimg_rn_load_progress_end(&f.R);
	assert_true(f.d.finished[f.d.n - 1]);
	assert_int_equal(f.d.done[f.d.n - 1], 4999);
	eimg_rn_load_progress_end(&f.R);                      /* once */
	assert_int_equal(f.d.n, before_end + 1);
	teardown(&f);
}

static void test_bogus_frames_are_violations(void **state)
{
	struct fix f;
	(void)state;
	setup(&f, true);   /* a step that does not exist */
	progress(&f, EIMG_LOAD_STEPS, false, 1);
	expect_violation(&f);
	assert_int_equal(f.d.n, 0);
	teardown(&f);

	setup(&f, true);   /* bits beyond the step and the finished flag */
	progress(&f, (uint64_t)1 << 40, false, 1);
	expect_violation(&f);
	teardown(&f);

	setup(&f, true);   /* a payload */
	send_frame(&f, 0, CH_PROGRESS, 1, EIMG_LOAD_PLACING, 8);
	expect_violation(&f);
	teardown(&f);

	setup(&f, true);   /* another channel than 0 */
	send_frame(&f, 1, CH_PROGRESS, 1, EIMG_LOAD_PLACING, 0);
	expect_violation(&f);
	teardown(&f);

	setup(&f, true);   /* a step again after it finished */
	progress(&f, EIMG_LOAD_PLACING, true, 1);
	progress(&f, EIMG_LOAD_PLACING, false, 2);
	expect_violation(&f);
	assert_int_equal(f.d.n, 2);
	teardown(&f);

	setup(&f, true);   /* back to an earlier step */
	progress(&f, EIMG_LOAD_MEASURING, false, 1);
	progress(&f, EIMG_LOAD_PLACING, false, 2);
	expect_violation(&f);
	teardown(&f);

	setup(&f, true);   /* after READY: the enclave runs (it shares the child) */
	send_frame(&f, 0, CH_READY, 0, 0, 0);
	progress(&f, EIMG_LOAD_PLACING, false, 1);
	expect_violation(&f);
	assert_int_equal(f.d.n, 0);
	teardown(&f);

	setup(&f, false);  /* nobody asked for progress */
	progress(&f, EIMG_LOAD_PLACING, false, 1);
	expect_violation(&f);
	assert_int_equal(f.d.n, 0);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps_drawn_with_runner_names_and_total),
		cmocka_unit_test(test_counts_clamped),
		cmocka_unit_test(test_flood_rate_limited),
		cmocka_unit_test(test_bogus_frames_are_violations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
