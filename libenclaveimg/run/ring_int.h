/* SPDX-License-Identifier: Apache-2.0 */
/* Private: a shared-memory message ring (run/ring.c) for the path between
 * the runner and the process or thread that enters the enclave: one
 * single-producer single-consumer ring per direction, in memory both sides
 * map (MAP_SHARED before the fork; untrusted memory outside the enclave for
 * the hardware backend, as switchless calls use).  Under load no system
 * call is made per message: a side that finds its ring empty spins for a
 * while, then announces that it sleeps and blocks reading a doorbell
 * descriptor (the channel it already has), and a producer writes one byte
 * to that descriptor only when the consumer announced it sleeps.
 *
 * The peer is untrusted (in the simulation the enclave shares its process):
 * indices and lengths read from shared memory are checked before use and
 * read once; a ring whose indices make no sense is reported as corrupt. */
#ifndef EIMG_RING_INT_H
#define EIMG_RING_INT_H

#include <stdint.h>
#include <stddef.h>

#define EIMG_RING_SLOTS 128        /* a power of two */
#define EIMG_RING_SLOT  512        /* bytes per slot, its 8-byte header included */
#define EIMG_RING_MAX   (EIMG_RING_SLOT - 8)   /* largest message in one slot */

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

/* Maps n zeroed pairs shared with children forked later; NULL on failure. */
struct eimg_ring_pair *eimg_ring_map(uint32_t n);
void eimg_ring_unmap(struct eimg_ring_pair *p, uint32_t n);

/* Producer: copies len bytes (<= EIMG_RING_MAX) and a tag into the next
 * slot.  0, -1 when the ring is full, -2 when len is too big.  Then rings
 * the doorbell (one byte to fd) if the consumer sleeps; fd < 0: never. */
int eimg_ring_push(struct eimg_ring *r, const void *msg, uint32_t len, uint32_t tag, int fd);

/* Consumer: takes the next message into buf (cap bytes).  1 with *len and
 * *tag, 0 when empty, -1 when the producer broke the ring (indices or a
 * length out of range). */
int eimg_ring_pop(struct eimg_ring *r, void *buf, uint32_t cap, uint32_t *len, uint32_t *tag);

/* Consumer: waits until the ring is not empty: spins up to `spins` checks,
 * then sleeps on the doorbell fd.  0, or -1 when fd failed or closed. */
int eimg_ring_wait(struct eimg_ring *r, unsigned spins, int fd);

/* Producer: free slots right now. */
uint32_t eimg_ring_space(const struct eimg_ring *r);

#endif
