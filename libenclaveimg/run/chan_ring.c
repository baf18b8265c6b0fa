/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's side of the message rings (run/ring_int.h, the protocol in
 * run/sim_int.h): requests into a channel's request ring, replies out of
 * its reply ring, and the doorbell around the poll loop's sleep.  The
 * worker side is untrusted: whatever it writes into the shared pages, a
 * broken ring ends the run as a protocol violation, never a crash. */
#include <stdint.h>
#include <string.h>

#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "run/ring_int.h"
#include "run/sim_int.h"
#include "run/runner_int.h"

_Static_assert(EIMG_RUN_MAX_PENDING <= EIMG_RING_SLOTS, "the window must fit in a ring");

/* Empty checks of the reply rings before the runner sleeps in poll. */
#define RUNNER_SPINS 500

int eimg_rn_ring_send(struct runner *R, struct chan *c, struct req *r)
{
	bool inline_msg = r->len <= EIMG_RING_MAX;
	int pr = eimg_ring_push(&c->ring->req, inline_msg ? r->msg : NULL, inline_msg ? (uint32_t)r->len : 0,
				inline_msg ? RT_INLINE : RT_SOCKET);
	if (pr < 0) {   /* the window fits in the ring: only a broken worker fills it */
		eimg_rn_protocol_violation(R, "broken request ring");
		return -1;
	}
	uint8_t h[CH_HDR];
	int rc = 0;
	if (!inline_msg) {
		eimg_ch_header(h, (uint32_t)r->len, CH_REQ, 0, 0);
		rc = eimg_rn_buf_put(&c->out, h, sizeof h) || eimg_rn_buf_put(&c->out, r->msg, r->len);
	} else if (pr == 1 && !buf_avail(&c->out)) {
		/* the worker sleeps; bytes already on their way wake it as well */
		eimg_ch_header(h, 0, CH_BELL, 0, 0);
		rc = eimg_rn_buf_put(&c->out, h, sizeof h);
	}
	if (rc) {
		eimg_rn_enclave_died(R, "out of memory in the runner");
		return -1;
	}
	return 0;
}

void eimg_rn_ring_drain(struct runner *R, struct chan *c)
{
	uint8_t buf[EIMG_RING_MAX];
	while (!c->await && !R->dead && c->ring) {
		uint32_t len, tag;
		int r = eimg_ring_pop(&c->ring->rep, buf, sizeof buf, &len, &tag);
		if (r == 0)
			return;
		if (r < 0 || !c->head) {
			eimg_rn_protocol_violation(R, r < 0 ? "broken reply ring" : "unexpected reply");
			return;
		}
		if (tag == RT_SOCKET) {
			if (len != 0)
				break;
			c->await = true;
			return;
		}
		if (tag == EIMG_ECALL_OK) {
			if (len > R->max)
				break;
			eimg_rn_complete_req(R, c, EIMG_ECALL_OK, len, buf, len);
		} else {
			if (len != 8)
				break;
			eimg_rn_complete_req(R, c, tag, eimg_get_le64(buf), NULL, 0);
		}
		explicit_bzero(buf, len);
	}
	if (!c->await && !R->dead && c->ring)
		eimg_rn_protocol_violation(R, "malformed reply");
}

static bool replies_due(struct runner *R)
{
	for (uint32_t i = 0; i < R->nch; i++)
		if (R->ch[i].inflight && eimg_ring_ready(&R->ch[i].ring->rep))
			return true;
	return false;
}

static bool any_inflight(struct runner *R)
{
	for (uint32_t i = 0; i < R->nch; i++)
		if (R->ch[i].inflight)
			return true;
	return false;
}

bool eimg_rn_rings_arm(struct runner *R)
{
	if (!R->rings || R->dead)
		return false;
	if (any_inflight(R))
		for (unsigned i = 0; i < RUNNER_SPINS; i++) {
			if (replies_due(R))
				return true;
			__builtin_ia32_pause();
		}
	bool ready = false;
	for (uint32_t i = 0; i < R->nch; i++)
		if (!R->ch[i].eof && eimg_ring_arm(&R->ch[i].ring->rep))
			ready = true;
	if (ready)
		eimg_rn_rings_disarm(R);
	return ready;
}

void eimg_rn_rings_disarm(struct runner *R)
{
	for (uint32_t i = 0; R->rings && i < R->nch; i++)
		eimg_ring_disarm(&R->ch[i].ring->rep);
}
