/* SPDX-License-Identifier: Apache-2.0 */
/* Private: a shared-memory message ring (run/ring.c) for the path between
 * the runner and the process or thread that enters the enclave: one
 * single-producer single-consumer ring per direction, in memory both sides
 * map (MAP_SHARED before the fork; untrusted memory outside the enclave for
 * the hardware backend, as switchless calls use).  Under load no system
 * call is made per message: a side that finds its ring empty spins for a
 * while, then announces that it sleeps (eimg_ring_arm) and blocks on its
 * doorbell, and a producer rings the doorbell only when eimg_ring_push says
 * the consumer announced it sleeps.  The doorbell is the caller's: the
 * runner and its workers use the channel descriptor they already have (a
 * CH_BELL frame, run/sim_int.h), so the sandbox needs no new system call.
 *
 * The peer is untrusted (in the simulation the enclave shares its process):
 * indices and lengths read from shared memory are checked before use and
 * read once; a ring whose indices make no sense is reported as corrupt.
 * Whatever the peer writes, every slot index is taken modulo the ring size
 * and every copy is bounded by the slot and the caller's buffer. */
#ifndef EIMG_RING_INT_H
#define EIMG_RING_INT_H

#include <stdint.h>
#include <stddef.h>

#include "eimg/enclave_abi.h"

/* The layout is the switchless ring of the host/enclave ABI. */
#define EIMG_RING_SLOTS EIMG_SWL_SLOTS   /* a power of two */
#define EIMG_RING_SLOT  EIMG_SWL_SLOT    /* bytes per slot, its 8-byte header included */
#define EIMG_RING_MAX   EIMG_SWL_SLOT_MAX   /* largest message in one slot */

struct eimg_ring {
	_Alignas(64) uint32_t head;      /* next slot the producer fills (free-running) */
	_Alignas(64) uint32_t tail;      /* next slot the consumer empties (free-running) */
	_Alignas(64) uint32_t sleeping;  /* the consumer waits on the doorbell */
	_Alignas(64) uint8_t slot[EIMG_RING_SLOTS][EIMG_RING_SLOT];
};

/* A request ring and a reply ring: what one worker shares with the runner. */
struct eimg_ring_pair {
	struct eimg_ring req, rep;
};
_Static_assert(offsetof(struct eimg_ring, tail) == EIMG_SWL_TAIL, "ring layout");
_Static_assert(offsetof(struct eimg_ring, sleeping) == EIMG_SWL_SLEEPING, "ring layout");
_Static_assert(offsetof(struct eimg_ring, slot) == EIMG_SWL_SLOT0, "ring layout");
_Static_assert(sizeof(struct eimg_ring_pair) == EIMG_SWL_PAIR_SIZE, "ring layout");

/* Maps n zeroed pairs shared with children forked later; NULL on failure. */
struct eimg_ring_pair *eimg_ring_map(uint32_t n);
void eimg_ring_unmap(struct eimg_ring_pair *p, uint32_t n);

/* Producer: copies len bytes (<= EIMG_RING_MAX) and a tag into the next
 * slot.  0, or 1 when the consumer sleeps (the caller rings its doorbell;
 * the flag is taken, so one push of a burst rings);
 * -1 when the ring is full, -2 when len is too big, -3 when the consumer
 * broke the ring (its tail ahead of head). */
int eimg_ring_push(struct eimg_ring *r, const void *msg, uint32_t len, uint32_t tag);

/* Consumer: takes the next message into buf (cap bytes).  1 with *len and
 * *tag, 0 when empty, -1 when the producer broke the ring (indices or a
 * length out of range). */
int eimg_ring_pop(struct eimg_ring *r, void *buf, uint32_t cap, uint32_t *len, uint32_t *tag);

/* Consumer: 1 when a message waits (no system call). */
int eimg_ring_ready(const struct eimg_ring *r);

/* Consumer, before it blocks on its doorbell: announces that it sleeps and
 * returns 1 when a message arrived meanwhile (then it must not block; call
 * eimg_ring_disarm).  After waking: eimg_ring_disarm.  A producer that
 * published before the announcement is seen by the check; one after it
 * sees the flag and rings: no wake-up is lost. */
int eimg_ring_arm(struct eimg_ring *r);
void eimg_ring_disarm(struct eimg_ring *r);

/* Consumer: waits until the ring is not empty: spins up to `spins` checks,
 * then arms and calls sleep(ctx), which blocks on the doorbell (0 = woke,
 * -1 = the doorbell failed or closed).  0, or -1 from sleep. */
int eimg_ring_wait(struct eimg_ring *r, unsigned spins, int (*sleep)(void *ctx), void *ctx);

/* Producer: free slots right now. */
uint32_t eimg_ring_space(const struct eimg_ring *r);

#endif
