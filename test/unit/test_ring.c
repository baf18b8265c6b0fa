/* SPDX-License-Identifier: Apache-2.0 */
/* The shared-memory message ring (run/ring.c): order and contents, full and
 * empty, the doorbell across processes (no lost wake-up), and a hostile
 * producer (indices or lengths out of range) reported, never followed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "run/ring_int.h"

static void test_order_full_empty(void **state)
{
	struct eimg_ring_pair *p = eimg_ring_map(1);
	uint8_t buf[EIMG_RING_MAX], big[EIMG_RING_MAX + 1] = { 0 };
	uint32_t len, tag;
	(void)state;
	assert_non_null(p);
	assert_int_equal(eimg_ring_pop(&p->req, buf, sizeof buf, &len, &tag), 0);
	assert_int_equal(eimg_ring_push(&p->req, big, sizeof big, 1), -2);
	for (uint32_t i = 0; i < EIMG_RING_SLOTS; i++) {
		char m[16];
		snprintf(m, sizeof m, "m%u", i);
		assert_int_equal(eimg_ring_push(&p->req, m, (uint32_t)strlen(m), i), 0);
	}
	assert_int_equal(eimg_ring_space(&p->req), 0);
	assert_int_equal(eimg_ring_push(&p->req, "x", 1, 0), -1);
	for (uint32_t i = 0; i < EIMG_RING_SLOTS; i++) {
		char m[16];
		snprintf(m, sizeof m, "m%u", i);
		assert_int_equal(eimg_ring_pop(&p->req, buf, sizeof buf, &len, &tag), 1);
		assert_int_equal(tag, i);
		assert_int_equal(len, strlen(m));
		assert_memory_equal(buf, m, len);
	}
	assert_int_equal(eimg_ring_pop(&p->req, buf, sizeof buf, &len, &tag), 0);
	/* a message larger than the caller's buffer is refused, not cut */
	assert_int_equal(eimg_ring_push(&p->req, big, 100, 7), 0);
	assert_int_equal(eimg_ring_pop(&p->req, buf, 50, &len, &tag), -1);
	eimg_ring_unmap(p, 1);
}

static void test_hostile_producer(void **state)
{
	struct eimg_ring_pair *p = eimg_ring_map(1);
	uint8_t buf[EIMG_RING_MAX];
	uint32_t len, tag, bad = EIMG_RING_MAX + 1;
	(void)state;
	/* head far ahead of tail */
	p->req.head = p->req.tail + EIMG_RING_SLOTS + 1;
	assert_int_equal(eimg_ring_pop(&p->req, buf, sizeof buf, &len, &tag), -1);
	/* head behind tail (wraps to a huge distance) */
	p->req.head = 5;
	p->req.tail = 9;
	assert_int_equal(eimg_ring_pop(&p->req, buf, sizeof buf, &len, &tag), -1);
	/* a slot claiming more than a slot holds */
	p->req.head = 1;
	p->req.tail = 0;
	memcpy(p->req.slot[0], &bad, 4);
	assert_int_equal(eimg_ring_pop(&p->req, buf, sizeof buf, &len, &tag), -1);
	assert_int_equal(p->req.tail, 0);   /* nothing consumed */
	/* a consumer whose tail runs ahead of head: the producer refuses */
	p->rep.head = 3;
	p->rep.tail = 7;
	assert_int_equal(eimg_ring_push(&p->rep, "x", 1, 1), -3);
	assert_int_equal(p->rep.head, 3);
	eimg_ring_unmap(p, 1);
}

/* The doorbell of these tests: one byte on a socket. */
static int sleep_fd(void *ctx)
{
	uint8_t b[64];
	return read(*(int *)ctx, b, sizeof b) > 0 ? 0 : -1;
}

static int push_bell(struct eimg_ring *r, const void *m, uint32_t len, uint32_t tag, int fd)
{
	int rc = eimg_ring_push(r, m, len, tag);
	if (rc == 1)
		rc = write(fd, "", 1) == 1 ? 0 : -4;
	return rc;
}

static void test_doorbell_across_processes(void **state)
{
	struct eimg_ring_pair *p = eimg_ring_map(1);
	int sv[2];
	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	if (pid == 0) {   /* echo peer: spins briefly, then sleeps on the bell */
		uint8_t buf[EIMG_RING_MAX];
		uint32_t len, tag;
		for (;;) {
			int r = eimg_ring_pop(&p->req, buf, sizeof buf, &len, &tag);
			if (r < 0)
				_exit(3);
			if (r == 0) {
				if (eimg_ring_wait(&p->req, 10, sleep_fd, &sv[1]))
					_exit(0);
				continue;
			}
			if (tag == 0)
				_exit(0);
			while (push_bell(&p->rep, buf, len, tag, sv[1]) == -1)
				;
		}
	}
	/* some round trips with pauses, so that the peer really sleeps */
	for (uint32_t i = 1; i <= 2000; i++) {
		uint8_t buf[EIMG_RING_MAX];
		uint32_t len, tag;
		assert_int_equal(push_bell(&p->req, &i, sizeof i, i, sv[0]), 0);
		int r;
		while ((r = eimg_ring_pop(&p->rep, buf, sizeof buf, &len, &tag)) == 0)
			assert_int_equal(eimg_ring_wait(&p->rep, i % 2 ? 0 : 1000, sleep_fd, &sv[0]), 0);
		assert_int_equal(r, 1);
		assert_int_equal(tag, i);
		assert_memory_equal(buf, &i, sizeof i);
		if (i % 500 == 0)
			usleep(20000);
	}
	assert_int_equal(push_bell(&p->req, NULL, 0, 0, sv[0]), 0);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	close(sv[0]);
	close(sv[1]);
	eimg_ring_unmap(p, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_full_empty),
		cmocka_unit_test(test_hostile_producer),
		cmocka_unit_test(test_doorbell_across_processes),
	};
	return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
