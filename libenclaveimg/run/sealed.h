/* SPDX-License-Identifier: Apache-2.0 */
/* A private, sealed, in-memory copy of a file or buffer: a memfd with
 * F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL, mapped read-only.
 * Once made, nobody (this process included) can change its bytes, so what
 * was verified in map is what another program reads through
 * /proc/self/fd/<fd>. */
#ifndef EIMG_RUN_SEALED_H
#define EIMG_RUN_SEALED_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

struct eimg_sealed {
	int fd;              /* close-on-exec; -1 when none */
	const uint8_t *map;  /* len bytes, read-only; NULL when len is 0 */
	size_t len;
};

/* From a descriptor read to its end (at most max bytes, else EIMG_EINVAL),
 * or from a buffer.  source names the input in messages. */
int eimg_sealed_from_fd(int in, const char *source, uint64_t max, struct eimg_sealed *out, eimg_error *err);
int eimg_sealed_from_buffer(const uint8_t *buf, size_t len, const char *source, struct eimg_sealed *out,
			    eimg_error *err);
/* Unmaps and closes; safe on a zeroed struct with fd -1, and twice. */
void eimg_sealed_close(struct eimg_sealed *s);

#endif
