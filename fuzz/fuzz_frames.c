/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the client frame parser of enclave-run (run/frames.c).
 * The first input byte picks the mode (bit 0: lines) and how the rest is
 * split into reads (bits 1..7: chunk size), so partial headers and payloads
 * are exercised as they arrive from a socket. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eimg_frame_parser p;
	if (size < 1)
		return 0;
	bool lines = data[0] & 1;
	size_t chunk = (data[0] >> 1) + 1;
	const size_t max = 4096;
	data++;
	size--;
	eimg_frame_parser_init(&p, max, lines);
	size_t off = 0;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t pos = 0;
		while (pos < n) {
			uint8_t *msg = NULL;
			size_t len = 0, used = 0;
			int r = eimg_frame_feed(&p, data + off + pos, n - pos, &used, &msg, &len);
			if (used > n - pos)
				abort();
			pos += used;
			if (r == 1) {
				if (len > max)
					abort();
				if (len)
					memset(msg, 0, len);   /* touch every byte: ASan checks the size */
				free(msg);
			} else if (r < 0) {
				if (r == -1 && !p.why[0])
					abort();
				goto done;
			} else if (used == 0) {
				abort();   /* no progress without a frame */
			}
		}
		off += n;
	}
	{
		uint8_t *msg = NULL;
		size_t len = 0;
		if (eimg_frame_finish(&p, &msg, &len) == 1) {
			if (len > max)
				abort();
			free(msg);
		}
	}
done:
	eimg_frame_parser_free(&p);
	return 0;
}
