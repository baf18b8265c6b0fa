/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's side of the message rings (run/chan_ring.c) against a worker
 * that writes what it likes into the shared pages: replies come out in
 * order (in a slot, or a marker for the socket); indices out of range, a
 * request ring the worker "filled", lengths beyond the slot or the message
 * limit, unknown tags and replies nobody asked for end the run as a
 * protocol violation, and never make the runner read or write outside the
 * ring (run under make sanitize to see it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "run/ring_int.h"
#include "run/sim_int.h"
#include "run/runner_int.h"

struct fix {
	struct runner R;
	struct eimg_run_options o;
	struct eimg_run_result res;
	struct chan ch;
	struct eimg_ring_pair *p;
};

/* A runner with one channel and n requests in flight (no client: the
 * replies are freed as they complete). */
static void setup(struct fix *f, unsigned n)
{
	memset(f, 0, sizeof *f);
	f->p = eimg_ring_map(1);
	assert_non_null(f->p);
	f->o.backend = EIMG_RUN_MOCK;
	f->R.o = &f->o;
	f->R.res = &f->res;
	f->R.max = 1024;
	f->R.nch = 1;
	f->R.ch = &f->ch;
	f->R.rings = f->p;
	f->ch.fd = -1;
	f->ch.ring = f->p;
	for (unsigned i = 0; i < n; i++) {
		struct req *r = calloc(1, sizeof *r);
		assert_non_null(r);
		if (f->ch.tail)
			f->ch.tail->qnext = r;
		else
			f->ch.head = r;
		f->ch.tail = r;
		f->ch.inflight++;
	}
}

static void teardown(struct fix *f)
{
	for (struct req *r = f->ch.head, *nx; r; r = nx) {
		nx = r->qnext;
		eimg_rn_req_free(r);
	}
	buf_free(&f->ch.in);
	buf_free(&f->ch.out);
	eimg_ring_unmap(f->p, 1);
}

static void expect_violation(struct fix *f, const char *what)
{
	assert_true(f->R.dead);
	assert_int_equal(f->res.outcome, EIMG_RUN_VIOLATION);
	assert_non_null(strstr(f->res.what, what));
	assert_null(f->ch.head);   /* everything in flight failed */
}

static void test_replies_in_order(void **state)
{
	struct fix f;
	uint8_t d[8];
	(void)state;
	setup(&f, 4);
	assert_int_equal(eimg_ring_push(&f.p->rep, "one", 3, EIMG_ECALL_OK), 0);
	eimg_le64(d, 7);
	assert_int_equal(eimg_ring_push(&f.p->rep, d, 8, EIMG_ECALL_EAPP), 0);
	assert_int_equal(eimg_ring_push(&f.p->rep, NULL, 0, RT_SOCKET), 0);
	assert_int_equal(eimg_ring_push(&f.p->rep, "four", 4, EIMG_ECALL_OK), 0);
	eimg_rn_ring_drain(&f.R, &f.ch);
	/* two completed, then the marker: the third waits for the socket */
	assert_false(f.R.dead);
	assert_int_equal(f.res.messages, 2);
	assert_true(f.ch.await);
	assert_int_equal(f.ch.inflight, 2);
	f.ch.await = false;   /* as the CH_REPLY frame does */
	eimg_rn_complete_req(&f.R, &f.ch, EIMG_ECALL_OK, 0, NULL, 0);
	eimg_rn_ring_drain(&f.R, &f.ch);
	assert_int_equal(f.res.messages, 4);
	assert_int_equal(f.ch.inflight, 0);
	assert_false(f.R.dead);
	teardown(&f);
}

static void test_request_slots_and_bells(void **state)
{
	struct fix f;
	struct req r = { 0 };
	uint8_t big[EIMG_RING_MAX + 1], buf[EIMG_RING_MAX];
	uint32_t len, tag;
	(void)state;
	setup(&f, 0);
	memset(big, 'b', sizeof big);
	r.msg = (uint8_t *)"hi";
	r.len = 2;
	assert_int_equal(eimg_rn_ring_send(&f.R, &f.ch, &r), 0);
	assert_int_equal(buf_avail(&f.ch.out), 0);   /* the worker is awake: no bell */
	f.p->req.sleeping = 1;
	assert_int_equal(eimg_rn_ring_send(&f.R, &f.ch, &r), 0);
	assert_int_equal(buf_avail(&f.ch.out), CH_HDR);   /* one bell */
	assert_int_equal(eimg_get_le32(f.ch.out.p + 4), CH_BELL);
	assert_int_equal(eimg_rn_ring_send(&f.R, &f.ch, &r), 0);
	assert_int_equal(buf_avail(&f.ch.out), CH_HDR);   /* not two */
	r.msg = big;
	r.len = sizeof big;
	assert_int_equal(eimg_rn_ring_send(&f.R, &f.ch, &r), 0);
	assert_int_equal(buf_avail(&f.ch.out), 2 * CH_HDR + sizeof big);   /* the frame follows */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(eimg_ring_pop(&f.p->req, buf, sizeof buf, &len, &tag), 1);
		assert_int_equal(tag, RT_INLINE);
		assert_memory_equal(buf, "hi", 2);
	}
	assert_int_equal(eimg_ring_pop(&f.p->req, buf, sizeof buf, &len, &tag), 1);
	assert_int_equal(tag, RT_SOCKET);
	assert_int_equal(len, 0);
	assert_false(f.R.dead);
	teardown(&f);
}

/* The worker moves the request ring's tail past head, or "fills" it. */
static void test_hostile_request_ring(void **state)
{
	struct fix f;
	struct req r = { .msg = (uint8_t *)"x", .len = 1 };
	(void)state;
	setup(&f, 1);
	f.p->req.tail = 1000;
	assert_int_equal(eimg_rn_ring_send(&f.R, &f.ch, &r), -1);
	expect_violation(&f, "broken request ring");
	teardown(&f);
	setup(&f, 1);
	f.p->req.head = EIMG_RING_SLOTS;
	assert_int_equal(eimg_rn_ring_send(&f.R, &f.ch, &r), -1);
	expect_violation(&f, "broken request ring");
	teardown(&f);
}

static void hostile_reply(uint32_t head, uint32_t tail, uint32_t len, uint32_t tag, unsigned inflight,
			  const char *what)
{
	struct fix f;
	setup(&f, inflight);
	f.p->rep.head = head;
	f.p->rep.tail = tail;
	memcpy(f.p->rep.slot[tail % EIMG_RING_SLOTS], &len, 4);
	memcpy(f.p->rep.slot[tail % EIMG_RING_SLOTS] + 4, &tag, 4);
	eimg_rn_ring_drain(&f.R, &f.ch);
	expect_violation(&f, what);
	teardown(&f);
}

static void test_hostile_reply_ring(void **state)
{
	(void)state;
	hostile_reply(EIMG_RING_SLOTS + 1, 0, 0, 0, 1, "broken reply ring");         /* head far ahead */
	hostile_reply(0xfffffff0u, 3, 0, 0, 1, "broken reply ring");                /* head behind tail */
	hostile_reply(3, 0xfffffff0u, 0, 0, 1, "unexpected reply");   /* wraps: 19 replies for 1 request */
	hostile_reply(0x7fffffffu, 0x7ffffffeu, EIMG_RING_MAX + 1, 0, 1, "broken reply ring"); /* slot overrun */
	hostile_reply(0x12345679u, 0x12345678u, 0xffffffffu, 0, 1, "broken reply ring");
	hostile_reply(1, 0, 100, 0, 0, "unexpected reply");   /* nobody asked */
	hostile_reply(1, 0, 4, EIMG_ECALL_EAPP, 1, "malformed reply");             /* detail not 8 bytes */
	hostile_reply(1, 0, 5, RT_SOCKET, 1, "malformed reply");                   /* a marker with a payload */
}

/* A reply larger than --max-message in its slot. */
static void test_reply_over_limit(void **state)
{
	struct fix f;
	uint8_t m[300] = { 0 };
	(void)state;
	setup(&f, 1);
	f.R.max = 200;
	assert_int_equal(eimg_ring_push(&f.p->rep, m, sizeof m, EIMG_ECALL_OK), 0);
	eimg_rn_ring_drain(&f.R, &f.ch);
	expect_violation(&f, "malformed reply");
	teardown(&f);
}

/* Arming: a reply that is already there keeps poll from blocking. */
static void test_arm(void **state)
{
	struct fix f;
	(void)state;
	setup(&f, 1);
	assert_false(eimg_rn_rings_arm(&f.R));
	assert_int_equal(f.p->rep.sleeping, 1);
	eimg_rn_rings_disarm(&f.R);
	assert_int_equal(f.p->rep.sleeping, 0);
	assert_int_equal(eimg_ring_push(&f.p->rep, "r", 1, EIMG_ECALL_OK), 0);
	assert_true(eimg_rn_rings_arm(&f.R));
	assert_int_equal(f.p->rep.sleeping, 0);
	teardown(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replies_in_order),
		cmocka_unit_test(test_request_slots_and_bells),
		cmocka_unit_test(test_hostile_request_ring),
		cmocka_unit_test(test_hostile_reply_ring),
		cmocka_unit_test(test_reply_over_limit),
		cmocka_unit_test(test_arm),
	};
	return cmocka_run_group_tests_name("chan_ring", tests, NULL, NULL);
}
