/* SPDX-License-Identifier: Apache-2.0 */
/* Progress reports for long steps (eimg/progress.h). */
#include <stdio.h>
#include <time.h>

#include "eimg/progress.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void eimg_progress_begin(struct eimg_progress *p, const char *step, uint64_t total)
{
	if (!p || !p->fn)
		return;
	if (p->step)
		eimg_progress_end(p);
	p->step = step;
	p->done = 0;
	p->total = total;
	p->last_ms = now_ms();
	p->fn(p->ctx, step, 0, total, false);
}

void eimg_progress_add(struct eimg_progress *p, uint64_t n)
{
	if (!p || !p->fn || !p->step)
		return;
	p->done += n;
	uint64_t t = now_ms();
	if (t - p->last_ms >= EIMG_PROGRESS_INTERVAL_MS) {
		p->last_ms = t;
		p->fn(p->ctx, p->step, p->done, p->total, false);
	}
}

void eimg_progress_end(struct eimg_progress *p)
{
	if (!p || !p->fn || !p->step)
		return;
	p->fn(p->ctx, p->step, p->done, p->total, true);
	p->step = NULL;
}

static void human(char *buf, size_t size, double v)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned u = 0;
	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%.0f %s", v, unit[u]);
	else
		snprintf(buf, size, "%.1f %s", v, unit[u]);
}

const char *eimg_progress_format(char *buf, size_t size, const char *step, uint64_t done, uint64_t total,
				 uint64_t elapsed_ms)
{
	char d[32], t[32], r[32];
	human(d, sizeof(d), (double)done);
	human(r, sizeof(r), elapsed_ms ? (double)done * 1000.0 / (double)elapsed_ms : 0.0);
	if (total) {
		human(t, sizeof(t), (double)total);
		unsigned pct = (unsigned)(done >= total ? 100 : done * 100 / total);
		snprintf(buf, size, "%s: %s of %s (%u%%), %s/s", step, d, t, pct, r);
	} else {
		snprintf(buf, size, "%s: %s, %s/s", step, d, r);
	}
	return buf;
}
