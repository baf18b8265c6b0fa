/* SPDX-License-Identifier: Apache-2.0 */
/* The shared-memory message ring (run/ring_int.h).  Ordering: a producer
 * fills a slot, then publishes head with release; a consumer reads head
 * with acquire, copies the slot out, then publishes tail with release.  The
 * doorbell uses full fences on both sides (a consumer sets sleeping, then
 * re-checks head; a producer publishes head, then checks sleeping), so a
 * wake-up is never lost; the producer that rings clears the flag, so a
 * burst pushed while the consumer wakes up rings once. */
#include <string.h>
#include <sys/mman.h>

#include "run/ring_int.h"

struct eimg_ring_pair *eimg_ring_map(uint32_t n)
{
	void *p = mmap(NULL, (size_t)n * sizeof(struct eimg_ring_pair), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void eimg_ring_unmap(struct eimg_ring_pair *p, uint32_t n)
{
	if (p)
		munmap(p, (size_t)n * sizeof *p);
}

uint32_t eimg_ring_space(const struct eimg_ring *r)
{
	uint32_t used = __atomic_load_n(&r->head, __ATOMIC_RELAXED) - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	return used >= EIMG_RING_SLOTS ? 0 : EIMG_RING_SLOTS - used;
}

int eimg_ring_push(struct eimg_ring *r, const void *msg, uint32_t len, uint32_t tag)
{
	if (len > EIMG_RING_MAX)
		return -2;
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	uint32_t used = head - __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (used > EIMG_RING_SLOTS)
		return -3;
	if (used == EIMG_RING_SLOTS)
		return -1;
	uint8_t *s = r->slot[head % EIMG_RING_SLOTS];
	memcpy(s, &len, 4);
	memcpy(s + 4, &tag, 4);
	if (len)
		memcpy(s + 8, msg, len);
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* one bell per sleep: the first producer after the announcement takes
	 * the flag; the consumer wakes and drains everything pushed since */
	return __atomic_load_n(&r->sleeping, __ATOMIC_RELAXED) != 0 && __atomic_exchange_n(&r->sleeping, 0, __ATOMIC_ACQ_REL) != 0;
}

int eimg_ring_pop(struct eimg_ring *r, void *buf, uint32_t cap, uint32_t *len, uint32_t *tag)
{
	uint32_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	uint32_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	if (head == tail)
		return 0;
	if (head - tail > EIMG_RING_SLOTS)
		return -1;
	const uint8_t *s = r->slot[tail % EIMG_RING_SLOTS];
	uint32_t l, t;
	memcpy(&l, s, 4);     /* read once: the peer may change it meanwhile */
	memcpy(&t, s + 4, 4);
	if (l > EIMG_RING_MAX || l > cap)
		return -1;
	if (l)
		memcpy(buf, s + 8, l);
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
	*len = l;
	*tag = t;
	return 1;
}

int eimg_ring_ready(const struct eimg_ring *r)
{
	return __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) != __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
}

int eimg_ring_arm(struct eimg_ring *r)
{
	__atomic_store_n(&r->sleeping, 1, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!eimg_ring_ready(r))
		return 0;
	__atomic_store_n(&r->sleeping, 0, __ATOMIC_RELAXED);
	return 1;
}

void eimg_ring_disarm(struct eimg_ring *r)
{
	__atomic_store_n(&r->sleeping, 0, __ATOMIC_RELAXED);
}

int eimg_ring_wait(struct eimg_ring *r, unsigned spins, int (*sleep)(void *ctx), void *ctx)
{
	for (unsigned i = 0; i < spins; i++) {
		if (eimg_ring_ready(r))
			return 0;
		__builtin_ia32_pause();
	}
	while (!eimg_ring_ready(r)) {
		if (eimg_ring_arm(r))
			return 0;
		int rc = sleep(ctx);
		eimg_ring_disarm(r);
		if (rc)
			return -1;
	}
	return 0;
}
