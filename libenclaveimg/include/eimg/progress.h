/* SPDX-License-Identifier: Apache-2.0 */
/* Progress of long steps (reading container layers, writing a ramdisk,
 * hashing, copying), shared by the SGX and Nitro paths.  The library never
 * prints: a step reports bytes done through the caller's callback, at most
 * every EIMG_PROGRESS_INTERVAL_MS and once at the end; the tools draw it. */
#ifndef EIMG_PROGRESS_H
#define EIMG_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EIMG_PROGRESS_INTERVAL_MS 100

/* step: a short fixed name ("reading layers", "writing ramdisk", ...);
 * total: 0 when not known in advance; finished: the last call of this step. */
typedef void (*eimg_progress_fn)(void *ctx, const char *step, uint64_t done, uint64_t total, bool finished);

struct eimg_progress {
	eimg_progress_fn fn;         /* NULL: no reports */
	void *ctx;
	/* Kept by the library between calls: */
	const char *step;
	uint64_t done, total;
	uint64_t last_ms;
};

/* Starts a step (any step still running is finished first).  p may be NULL. */
void eimg_progress_begin(struct eimg_progress *p, const char *step, uint64_t total);
/* Adds n bytes done; reports when the interval has passed. */
void eimg_progress_add(struct eimg_progress *p, uint64_t n);
/* Reports the step as finished. */
void eimg_progress_end(struct eimg_progress *p);

/* One line for a terminal: "<step>: 12.3 MiB of 1.2 GiB (1%), 45.6 MiB/s"
 * (without "of ..." when the total is unknown).  elapsed_ms: since the step
 * began.  Returns buf. */
const char *eimg_progress_format(char *buf, size_t size, const char *step, uint64_t done, uint64_t total,
				 uint64_t elapsed_ms);

#endif
