/* SPDX-License-Identifier: Apache-2.0 */
/* Switchless calls (EIMG_ECALL_SWITCHLESS; runtime/switchless.c) through
 * the simulation loader with a real enclave (examples/hello, when built):
 * one thread stays in the enclave and answers requests pushed into a ring
 * pair in host memory, in order, in slots or out of band (FETCH, REPLY),
 * rings the host's doorbell only when it sleeps, and leaves on STOP or when
 * the host ends an IDLE.  A hostile host (indices out of range, slot
 * lengths beyond the slot, unknown tags, a reply ring whose tail runs
 * ahead, a wrong size or alignment) ends the call with EIMG_ECALL_EBADBUF;
 * the enclave never follows it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/image.h"
#include "eimg/measure.h"
#include "eimg/sim.h"
#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "run/ring_int.h"
#include "run/sim_int.h"

static eimg_image *g_img;
static eimg_sgx_image *g_sgx;
static eimg_sim_enclave *g_e;

static int setup(void **state)
{
	(void)state;
	const char *bd = getenv("BUILDDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/examples/hello/enclave.yaml", bd ? bd : "build");
	if (access(path, R_OK) != 0)
		return 0;
	struct eimg_build_options bo = { .manifest_path = path, .mtime = 0 };
	struct eimg_build_result br;
	eimg_error err;
	if (eimg_build(&bo, &g_img, &br, &err) || eimg_sgx_image_open(g_img, path, &g_sgx, &err) ||
	    eimg_sim_load(g_sgx->layout, g_sgx->m.mrenclave, &g_e, &err))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	eimg_sim_unload(g_e);
	eimg_sgx_image_free(g_sgx);
	eimg_image_free(g_img);
	return 0;
}

/* The host's side: what the enclave asked for, and one call on TCS 0. */
struct host {
	struct eimg_ring_pair *p;
	uint8_t out[4096 + 16];
	const uint8_t *big;       /* the out-of-band message FETCH hands over */
	size_t big_len;
	volatile int stop;
	int idles, bells, fetches, replies;
	int bad_line;             /* the host thread's first failed check (cmocka's asserts belong to the main thread) */
	uint64_t rep_status, rep_detail;
	uint8_t rep[4096];
	size_t rep_len;
	struct eimg_sim_result res;
	int rc;
	pthread_t th;
};

/* A check on the host thread: remembered, judged by finish() on the main thread. */
#define HOST_CHECK(h, c) ((c) || ((h)->bad_line ? 0 : ((h)->bad_line = __LINE__)))

static uint64_t host_ocall(void *ctx, uint64_t op, uint8_t *out, uint64_t len, size_t cap)
{
	struct host *h = ctx;
	switch (op) {
	case EIMG_OCALL_IDLE:
		h->idles++;
		/* the enclave said it sleeps; a request pushed since then has
		 * cleared the flag, but only after publishing itself */
		HOST_CHECK(h, __atomic_load_n(&h->p->req.sleeping, __ATOMIC_ACQUIRE) == 1 || eimg_ring_ready(&h->p->req));
		while (!h->stop && !eimg_ring_ready(&h->p->req))
			usleep(100);
		return h->stop ? EIMG_OCALL_EIO : 0;
	case EIMG_OCALL_BELL:
		h->bells++;
		return 0;
	case EIMG_OCALL_FETCH:
		h->fetches++;
		if (!HOST_CHECK(h, h->big_len <= cap))
			return EIMG_OCALL_EIO;
		memcpy(out, h->big, h->big_len);
		return h->big_len;
	case EIMG_OCALL_REPLY:
		h->replies++;
		if (!HOST_CHECK(h, len >= 16 && len - 16 <= sizeof h->rep))
			return EIMG_OCALL_EIO;
		h->rep_status = eimg_get_le64(out);
		h->rep_detail = eimg_get_le64(out + 8);
		h->rep_len = len - 16;
		memcpy(h->rep, out + 16, h->rep_len);
		return 0;
	}
	HOST_CHECK(h, !"an unexpected ocall");
	return EIMG_OCALL_EIO;
}

static void *host_thread(void *arg)
{
	struct host *h = arg;
	struct eimg_swl_host swl = { host_ocall, h };
	eimg_error err;
	h->rc = eimg_sim_switchless(g_e, 0, h->p, sizeof *h->p, h->out, sizeof h->out, NULL, NULL, &swl, &h->res, &err);
	return NULL;
}

static void start(struct host *h)
{
	memset(h, 0, sizeof *h);
	h->p = eimg_ring_map(1);
	assert_non_null(h->p);
	assert_int_equal(pthread_create(&h->th, NULL, host_thread, h), 0);
}

static void finish(struct host *h, uint64_t want_status)
{
	pthread_join(h->th, NULL);
	if (h->bad_line)
		fail_msg("the host thread's check at test_switchless.c:%d failed", h->bad_line);
	assert_int_equal(h->rc, EIMG_OK);
	assert_int_equal(h->res.status, want_status);
	eimg_ring_unmap(h->p, 1);
}

static int take(struct host *h, uint8_t *buf, uint32_t *len, uint32_t *tag)
{
	int r;
	for (long k = 0; (r = eimg_ring_pop(&h->p->rep, buf, EIMG_RING_MAX, len, tag)) == 0; k++) {
		if (k > 200000)   /* about 10 s: fail, never hang (e.g. an enclave built before switchless calls) */
			fail_msg("no reply within 10 s (the enclave's call returned status %llu)",
				 (unsigned long long)h->res.status);
		usleep(50);
	}
	return r;
}

static void test_messages_in_order(void **state)
{
	(void)state;
	if (!g_e)
		skip();
	struct host h;
	uint8_t buf[EIMG_RING_MAX], big[1000];
	uint32_t len, tag;
	start(&h);
	for (int i = 0; i < 300; i++) {   /* more than a ring holds, a window of 8 */
		char m[32], want[80];
		snprintf(m, sizeof m, "unit%d", i);
		assert_true(eimg_ring_push(&h.p->req, m, (uint32_t)strlen(m), RT_INLINE) >= 0);
		if (i % 8 == 7 || i == 299)
			for (int j = i - (i % 8); j <= i; j++) {
				assert_int_equal(take(&h, buf, &len, &tag), 1);
				assert_int_equal(tag, EIMG_ECALL_OK);
				snprintf(want, sizeof want, "Hello from inside the enclave, unit%d!", j);
				assert_int_equal(len, strlen(want));
				assert_memory_equal(buf, want, len);
			}
		if (i == 100)   /* let it sleep (IDLE) once: wait for that, up to about 10 s, whatever the load */
			for (long k = 0; k < 200000 && !__atomic_load_n(&h.idles, __ATOMIC_RELAXED); k++)
				usleep(50);
	}
	/* out of band both ways: a message larger than a slot */
	memset(big, 'b', sizeof big);
	h.big = big;
	h.big_len = sizeof big;
	assert_true(eimg_ring_push(&h.p->req, NULL, 0, RT_SOCKET) >= 0);
	assert_int_equal(take(&h, buf, &len, &tag), 1);
	assert_int_equal(tag, RT_SOCKET);
	assert_int_equal(len, 0);
	assert_int_equal(h.fetches, 1);
	assert_int_equal(h.replies, 1);
	assert_int_equal(h.rep_status, EIMG_ECALL_OK);
	assert_int_equal(h.rep_len, strlen("Hello from inside the enclave, !") + sizeof big);
	assert_int_equal(h.rep_detail, h.rep_len);
	assert_memory_equal(h.rep + 31, big, sizeof big);
	/* a sleeping host gets a bell */
	h.p->rep.sleeping = 1;
	assert_true(eimg_ring_push(&h.p->req, "x", 1, RT_INLINE) >= 0);
	assert_int_equal(take(&h, buf, &len, &tag), 1);
	assert_int_equal(h.bells, 1);
	h.p->rep.sleeping = 0;
	assert_true(h.idles >= 1);
	assert_true(eimg_ring_push(&h.p->req, NULL, 0, EIMG_SWL_STOP) >= 0);
	finish(&h, EIMG_ECALL_OK);
}

/* The host ends the call by answering IDLE with an error. */
static void test_idle_ends(void **state)
{
	(void)state;
	if (!g_e)
		skip();
	struct host h;
	start(&h);
	usleep(20000);
	h.stop = 1;
	finish(&h, EIMG_ECALL_OK);
}

/* One hostile ring: what the host does to it before the call starts. */
static void hostile(void (*spoil)(struct eimg_ring_pair *p))
{
	struct host h;
	memset(&h, 0, sizeof h);
	h.p = eimg_ring_map(1);
	assert_non_null(h.p);
	spoil(h.p);
	host_thread(&h);
	assert_int_equal(h.rc, EIMG_OK);
	assert_int_equal(h.res.status, EIMG_ECALL_EBADBUF);
	eimg_ring_unmap(h.p, 1);
}

static void head_far_ahead(struct eimg_ring_pair *p) { p->req.head = EIMG_RING_SLOTS + 1; }
static void head_behind(struct eimg_ring_pair *p) { p->req.tail = 10; p->req.head = 5; }
static void slot_too_long(struct eimg_ring_pair *p)
{
	uint32_t l = EIMG_RING_MAX + 1, t = RT_INLINE;
	memcpy(p->req.slot[0], &l, 4);
	memcpy(p->req.slot[0] + 4, &t, 4);
	p->req.head = 1;
}
static void unknown_tag(struct eimg_ring_pair *p)
{
	uint32_t l = 1, t = 77;
	memcpy(p->req.slot[0], &l, 4);
	memcpy(p->req.slot[0] + 4, &t, 4);
	p->req.head = 1;
}
static void oob_with_length(struct eimg_ring_pair *p)
{
	uint32_t l = 5, t = RT_SOCKET;
	memcpy(p->req.slot[0], &l, 4);
	memcpy(p->req.slot[0] + 4, &t, 4);
	p->req.head = 1;
}
static void reply_tail_ahead(struct eimg_ring_pair *p)
{
	uint32_t l = 1, t = RT_INLINE;
	memcpy(p->req.slot[0], &l, 4);
	memcpy(p->req.slot[0] + 4, &t, 4);
	p->req.head = 1;
	p->rep.tail = 1000;   /* the reply cannot be placed */
}

static void test_hostile_host(void **state)
{
	(void)state;
	if (!g_e)
		skip();
	hostile(head_far_ahead);
	hostile(head_behind);
	hostile(slot_too_long);
	hostile(unknown_tag);
	hostile(oob_with_length);
	hostile(reply_tail_ahead);
	/* a ring of the wrong size or alignment is refused before use */
	struct eimg_ring_pair *p = eimg_ring_map(1);
	struct host h = { .p = p };
	struct eimg_swl_host swl = { host_ocall, &h };
	struct eimg_sim_result res;
	eimg_error err;
	assert_int_equal(eimg_sim_switchless(g_e, 0, p, sizeof *p - 1, h.out, sizeof h.out, NULL, NULL, &swl, &res, &err),
			 EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_EBADBUF);
	assert_int_equal(eimg_sim_switchless(g_e, 0, (uint8_t *)p + 8, sizeof *p, h.out, sizeof h.out, NULL, NULL, &swl,
					     &res, &err),
			 EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_EBADBUF);
	eimg_ring_unmap(p, 1);
	/* the enclave still answers an ordinary message afterwards */
	uint8_t out[256];
	assert_int_equal(eimg_sim_call(g_e, 0, (const uint8_t *)"ok", 2, out, sizeof out, NULL, NULL, &res, &err), EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages_in_order),
		cmocka_unit_test(test_idle_ends),
		cmocka_unit_test(test_hostile_host),
	};
	return cmocka_run_group_tests_name("switchless", tests, setup, teardown);
}
