/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the runner's reply ring (run/chan_ring.c, run/ring.c): the
 * worker on the other side shares the pages and may write anything into
 * them.  The first byte is the number of requests in flight (0..64), then
 * come the reply ring's head and tail (little-endian u32) and the bytes of
 * its slots; the runner drains it, and must end with replies completed in
 * order or a protocol violation, never a read or write outside the ring. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/enclave_abi.h"
#include "run/ring_int.h"
#include "run/sim_int.h"
#include "run/runner_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct eimg_ring_pair *p;
	if (!p && !(p = eimg_ring_map(1)))
		abort();
	if (size < 9)
		return 0;
	struct eimg_run_options o = { .backend = EIMG_RUN_MOCK };
	struct eimg_run_result res;
	struct runner R;
	struct chan ch;
	memset(&R, 0, sizeof R);
	memset(&ch, 0, sizeof ch);
	memset(&res, 0, sizeof res);
	memset(p, 0, sizeof *p);
	R.o = &o;
	R.res = &res;
	R.max = 1024;
	R.nch = 1;
	R.ch = &ch;
	R.rings = p;
	ch.fd = -1;
	ch.ring = p;
	unsigned n = data[0] % (EIMG_RUN_MAX_PENDING + 1);
	for (unsigned i = 0; i < n; i++) {
		struct req *r = calloc(1, sizeof *r);
		if (!r)
			abort();
		if (ch.tail)
			ch.tail->qnext = r;
		else
			ch.head = r;
		ch.tail = r;
		ch.inflight++;
	}
	memcpy(&p->rep.head, data + 1, 4);
	memcpy(&p->rep.tail, data + 5, 4);
	size_t rest = size - 9 < sizeof p->rep.slot ? size - 9 : sizeof p->rep.slot;
	memcpy(p->rep.slot, data + 9, rest);
	eimg_rn_ring_drain(&R, &ch);
	if (ch.await) {   /* as a CH_REPLY frame would: complete it, drain on */
		ch.await = false;
		if (ch.head)
			eimg_rn_complete_req(&R, &ch, EIMG_ECALL_OK, 0, NULL, 0);
		eimg_rn_ring_drain(&R, &ch);
	}
	for (struct req *r = ch.head, *nx; r; r = nx) {
		nx = r->qnext;
		eimg_rn_req_free(r);
	}
	return 0;
}
