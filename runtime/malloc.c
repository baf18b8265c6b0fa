/* SPDX-License-Identifier: Apache-2.0 */
/* The heap allocator over the measured heap region: first fit over an
 * address-ordered free list, blocks split on allocation and merged with both
 * neighbours on free; one spin lock (enclaves are small and mostly
 * single-threaded).  16-byte alignment.  A corrupted header or a double free
 * aborts the enclave instead of continuing with a damaged heap. */
#include "enclave.h"
#include "rt_int.h"

#define HDR      16u
#define ALIGN    16u
#define MIN_BLK  32u
#define M_USED   0x55534544u   /* "USED" */
#define M_FREE   0x46524545u   /* "FREE" */

struct blk {
	uint64_t size;    /* whole block including this header */
	uint32_t magic;
	uint32_t check;   /* ~size low bits: catches overwritten headers */
	struct blk *next; /* free blocks only (first payload word) */
};

static struct blk *free_list;
static uint8_t *heap_lo, *heap_hi;
static enclave_lock_t heap_lock = ENCLAVE_LOCK_INIT;

void eimg_rt_heap_init(void *base, size_t size)
{
	uint8_t *lo = (uint8_t *)(((uint64_t)base + ALIGN - 1) & ~(uint64_t)(ALIGN - 1));
	size_t avail = size > (size_t)(lo - (uint8_t *)base) ? size - (size_t)(lo - (uint8_t *)base) : 0;
	avail &= ~(size_t)(ALIGN - 1);
	heap_lo = lo;
	heap_hi = lo + avail;
	free_list = 0;
	if (avail >= MIN_BLK) {
		struct blk *b = (struct blk *)lo;
		b->size = avail;
		b->magic = M_FREE;
		b->check = ~(uint32_t)avail;
		b->next = 0;
		free_list = b;
	}
}

static void mark(struct blk *b, uint64_t size, uint32_t magic)
{
	b->size = size;
	b->magic = magic;
	b->check = ~(uint32_t)size;
}

static int sane(const struct blk *b)
{
	return (uint8_t *)b >= heap_lo && (uint8_t *)b < heap_hi && ((uint64_t)b & (ALIGN - 1)) == 0 &&
	       b->size >= MIN_BLK && b->size <= (uint64_t)(heap_hi - (uint8_t *)b) &&
	       b->check == ~(uint32_t)b->size;
}

void *malloc(size_t n)
{
	if (n > (size_t)(heap_hi - heap_lo))
		return 0;
	uint64_t need = ((uint64_t)n + HDR + ALIGN - 1) & ~(uint64_t)(ALIGN - 1);
	if (need < MIN_BLK)
		need = MIN_BLK;
	void *res = 0;
	enclave_lock(&heap_lock);
	for (struct blk **pp = &free_list, *b; (b = *pp) != 0; pp = &b->next) {
		if (!sane(b) || b->magic != M_FREE) {
			enclave_unlock(&heap_lock);
			enclave_abort("heap corrupted (free list)");
		}
		if (b->size < need)
			continue;
		if (b->size - need >= MIN_BLK) {
			/* keep the front on the list, hand out the tail */
			mark(b, b->size - need, M_FREE);
			struct blk *a = (struct blk *)((uint8_t *)b + b->size);
			mark(a, need, M_USED);
			res = (uint8_t *)a + HDR;
		} else {
			*pp = b->next;
			mark(b, b->size, M_USED);
			res = (uint8_t *)b + HDR;
		}
		break;
	}
	enclave_unlock(&heap_lock);
	return res;
}

void free(void *p)
{
	if (!p)
		return;
	struct blk *b = (struct blk *)((uint8_t *)p - HDR);
	enclave_lock(&heap_lock);
	if (!sane(b) || b->magic != M_USED) {
		enclave_unlock(&heap_lock);
		enclave_abort(b->magic == M_FREE ? "free: double free" : "free: not a heap pointer");
	}
	struct blk *prev = 0, *cur = free_list;
	while (cur && cur < b) {
		prev = cur;
		cur = cur->next;
	}
	mark(b, b->size, M_FREE);
	b->next = cur;
	if (cur && (uint8_t *)b + b->size == (uint8_t *)cur) {   /* merge with the next */
		mark(b, b->size + cur->size, M_FREE);
		b->next = cur->next;
	}
	if (prev && (uint8_t *)prev + prev->size == (uint8_t *)b) { /* merge into the previous */
		mark(prev, prev->size + b->size, M_FREE);
		prev->next = b->next;
	} else if (prev) {
		prev->next = b;
	} else {
		free_list = b;
	}
	enclave_unlock(&heap_lock);
}

void *calloc(size_t n, size_t size)
{
	size_t t;
	if (__builtin_mul_overflow(n, size, &t))
		return 0;
	void *p = malloc(t);
	if (p)
		memset(p, 0, t);
	return p;
}

void *realloc(void *p, size_t n)
{
	if (!p)
		return malloc(n);
	struct blk *b = (struct blk *)((uint8_t *)p - HDR);
	if (!sane(b) || b->magic != M_USED)
		enclave_abort("realloc: not a heap pointer");
	size_t have = (size_t)b->size - HDR;
	if (n <= have)
		return p;
	void *q = malloc(n);
	if (!q)
		return 0;
	memcpy(q, p, have);
	free(p);
	return q;
}
