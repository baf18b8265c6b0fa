/* SPDX-License-Identifier: Apache-2.0 */
/* Switchless calls (EIMG_ECALL_SWITCHLESS, enclave_abi.h): a thread stays
 * inside the enclave and serves a request ring in host memory, so that a
 * message costs no enclave entry and exit (HotCalls; Intel's switchless
 * mode).  It leaves only for ocalls: log lines, host services, a message or
 * reply too large for a slot, the doorbell of a sleeping host, and to wait
 * when there is nothing to do.
 *
 * The ring is host memory and the host is hostile: the indices this side
 * owns (the request ring's tail, the reply ring's head) are kept here and
 * only written out; every value read from the ring (the host's head and
 * tail, a slot's length and tag) is read once, checked, then used; a
 * message is copied into enclave memory before the handler sees it.  A
 * ring that makes no sense ends the call with EIMG_ECALL_EBADBUF. */
#include <stdint.h>
#include <stddef.h>

#include "enclave.h"
#include "rt_int.h"

#define SWL_SPINS 500   /* empty checks (PAUSE) before the IDLE ocall */

struct swl {
	uint8_t *td;
	struct rt_thread *t;
	uint8_t *req, *rep;        /* the rings (host memory) */
	uint32_t req_tail, rep_head;   /* ours: never read back from the host */
};

static uint32_t host_ld(const uint8_t *p) { return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE); }
static void host_st(uint8_t *p, uint32_t v) { __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE); }
static uint8_t *slot(uint8_t *ring, uint32_t i) { return ring + EIMG_SWL_SLOT0 + (size_t)(i % EIMG_SWL_SLOTS) * EIMG_SWL_SLOT; }

/* Waits for a request: spins, then announces it sleeps and leaves (IDLE).
 * 1 = something to read, 0 = the host ended the call, -1 = broken ring. */
static int wait_request(struct swl *s)
{
	for (unsigned i = 0;; i++) {
		uint32_t used = host_ld(s->req + EIMG_SWL_HEAD) - s->req_tail;
		if (used > EIMG_SWL_SLOTS)
			return -1;
		if (used)
			return 1;
		if (i < SWL_SPINS) {
			__builtin_ia32_pause();
			continue;
		}
		host_st(s->req + EIMG_SWL_SLEEPING, 1);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (host_ld(s->req + EIMG_SWL_HEAD) != s->req_tail) {
			host_st(s->req + EIMG_SWL_SLEEPING, 0);
			continue;
		}
		uint64_t rc = eimg_rt_ocall(s->td, EIMG_OCALL_IDLE, 0);
		host_st(s->req + EIMG_SWL_SLEEPING, 0);
		if (rc != 0)
			return 0;
		i = 0;
	}
}

/* Takes the next request into enclave memory (*msg, malloc'd).  1 ok,
 * 0 STOP, -1 broken ring or out of band refused, -2 out of memory. */
static int take_request(struct swl *s, uint8_t **msg, size_t *len)
{
	const uint8_t *sl = slot(s->req, s->req_tail);
	uint32_t l = host_ld(sl), tag = host_ld(sl + 4);   /* read once */
	const uint8_t *src = sl + 8;
	if (tag == EIMG_SWL_STOP)
		return 0;
	if (tag == EIMG_SWL_OUTOFBAND) {
		uint64_t n = eimg_rt_ocall(s->td, EIMG_OCALL_FETCH, 0);
		if (l != 0 || n > s->t->host_out_cap)
			return -1;
		l = (uint32_t)n;
		src = s->t->host_out;
	} else if (tag != EIMG_SWL_INLINE || l > EIMG_SWL_SLOT_MAX) {
		return -1;
	}
	uint8_t *m = malloc(l ? l : 1);
	if (!m)
		return -2;
	if (l)
		memcpy(m, src, l);
	*msg = m;
	*len = l;
	return 1;
}

/* Puts a reply in the next reply slot; -1 when the host broke the ring. */
static int push_reply(struct swl *s, const void *p, uint32_t len, uint32_t tag)
{
	for (;;) {
		uint32_t used = s->rep_head - host_ld(s->rep + EIMG_SWL_TAIL);
		if (used > EIMG_SWL_SLOTS)
			return -1;
		if (used < EIMG_SWL_SLOTS)
			break;
		__builtin_ia32_pause();   /* full: the host never lets it be, but wait */
	}
	uint8_t *sl = slot(s->rep, s->rep_head);
	host_st(sl, len);
	host_st(sl + 4, tag);
	if (len)
		memcpy(sl + 8, p, len);
	host_st(s->rep + EIMG_SWL_HEAD, ++s->rep_head);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* one bell per sleep: taking the flag (host memory: only a hint) */
	if (tag != EIMG_SWL_OUTOFBAND && host_ld(s->rep + EIMG_SWL_SLEEPING) &&
	    __atomic_exchange_n((uint32_t *)(s->rep + EIMG_SWL_SLEEPING), 0, __ATOMIC_ACQ_REL))
		eimg_rt_ocall(s->td, EIMG_OCALL_BELL, 0);
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The reply of one message: in its slot, or out of band (REPLY ocall). */
static int send_reply(struct swl *s, const struct rt_ret *r)
{
	struct rt_thread *t = s->t;
	uint8_t d[16];
	if (!t->logged && r->status <= 0xffff && (r->status != EIMG_ECALL_OK || t->reply_len <= EIMG_SWL_SLOT_MAX)) {
		if (r->status == EIMG_ECALL_OK)
			return push_reply(s, t->reply, (uint32_t)t->reply_len, EIMG_ECALL_OK);
		put64(d, r->detail);
		return push_reply(s, d, 8, (uint32_t)r->status);
	}
	if (push_reply(s, 0, 0, EIMG_SWL_OUTOFBAND))
		return -1;
	size_t n = r->status == EIMG_ECALL_OK ? t->reply_len : 0;
	put64(d, r->status);
	put64(d + 8, r->detail);
	memcpy(t->host_out, d, 16);
	if (n)
		memcpy(t->host_out + 16, t->reply, n);
	eimg_rt_ocall(s->td, EIMG_OCALL_REPLY, 16 + n);
	return 0;
}

struct rt_ret eimg_rt_switchless(uint8_t *td, struct rt_thread *t, uint64_t ring, uint64_t size)
{
	struct rt_ret r = { EIMG_ECALL_EBADBUF, 0 };
	if (size != EIMG_SWL_PAIR_SIZE || ring % 64 || !eimg_rt_outside(ring, size))
		return r;
	struct swl s = { td, t, (uint8_t *)ring, (uint8_t *)ring + EIMG_SWL_RING_SIZE, 0, 0 };
	/* start where the host's indices stand; from here on they are ours */
	s.req_tail = host_ld(s.req + EIMG_SWL_TAIL);
	s.rep_head = host_ld(s.rep + EIMG_SWL_HEAD);
	for (;;) {
		int w = wait_request(&s);
		if (w <= 0) {
			r.status = w == 0 ? EIMG_ECALL_OK : EIMG_ECALL_EBADBUF;
			return r;
		}
		uint8_t *msg = 0;
		size_t len = 0;
		int tr = take_request(&s, &msg, &len);
		host_st(s.req + EIMG_SWL_TAIL, ++s.req_tail);   /* the slot is copied */
		struct rt_ret mr = { EIMG_ECALL_ENOMEM, 0 };
		if (tr == 0) {
			r.status = EIMG_ECALL_OK;
			return r;
		}
		if (tr == -1)
			return r;
		if (tr == 1)
			eimg_rt_handle(t, msg, len, t->host_out_cap - 16, &mr);
		int sr = send_reply(&s, &mr);
		eimg_rt_reply_done(t);
		if (sr)
			return r;
	}
}
