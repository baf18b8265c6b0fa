/* SPDX-License-Identifier: Apache-2.0 */
/* bench/run-ring's program: the shared-memory message ring (run/ring.c)
 * between this process and a forked peer, one ring pair, empty messages.
 *   ring_bench noop N              the peer echoes each message (the limit)
 *   ring_bench enclave N IMAGE     the peer hands each message to the enclave
 *                                  of IMAGE (simulation loader, TCS 0) and
 *                                  returns its reply, as the runner's worker
 * Each runs one at a time (N round trips) and then with 64 in flight, and
 * prints "seq_per_second=... pipe_per_second=...". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eimg/enclave_abi.h"
#include "eimg/image.h"
#include "eimg/measure.h"
#include "eimg/sim.h"
#include "run/ring_int.h"

#define SPINS 200

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The doorbell here: one byte on the socket. */
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

/* The peer: take a request, answer it, until a request with tag 0. */
static void peer(struct eimg_ring_pair *p, int fd, eimg_sim_enclave *e)
{
	uint8_t in[EIMG_RING_MAX], out[EIMG_RING_MAX];
	for (;;) {
		uint32_t len, tag;
		int r = eimg_ring_pop(&p->req, in, sizeof in, &len, &tag);
		if (r < 0)
			_exit(3);
		if (r == 0) {
			if (eimg_ring_wait(&p->req, SPINS, sleep_fd, &fd))
				_exit(0);
			continue;
		}
		if (tag == 0)
			_exit(0);
		uint32_t olen = len;
		if (e) {
			struct eimg_sim_result res;
			eimg_error err;
			if (eimg_sim_call(e, 0, in, len, out, sizeof out, NULL, NULL, &res, &err) != EIMG_OK ||
			    res.status != EIMG_ECALL_OK)
				_exit(4);
			olen = (uint32_t)res.detail;
		} else if (len) {
			memcpy(out, in, len);
		}
		while (push_bell(&p->rep, out, olen, tag, fd) == -1)
			__builtin_ia32_pause();
	}
}

static int take_reply(struct eimg_ring_pair *p, int fd)
{
	uint8_t buf[EIMG_RING_MAX];
	uint32_t len, tag;
	for (;;) {
		int r = eimg_ring_pop(&p->rep, buf, sizeof buf, &len, &tag);
		if (r == 1)
			return 0;
		if (r < 0 || eimg_ring_wait(&p->rep, SPINS, sleep_fd, &fd))
			return -1;
	}
}

static double run(struct eimg_ring_pair *p, int fd, long n, unsigned window)
{
	long sent = 0, got = 0;
	double t0 = now();
	while (got < n) {
		while (sent < n && sent - got < window && push_bell(&p->req, NULL, 0, 1, fd) == 0)
			sent++;
		if (take_reply(p, fd))
			return -1;
		got++;
	}
	return (double)n / (now() - t0);
}

static eimg_sim_enclave *load(const char *path)
{
	eimg_image *img = NULL;
	eimg_sgx_image *s = NULL;
	eimg_sim_enclave *e = NULL;
	eimg_error err;
	if (eimg_image_read_file(path, &img, &err) || eimg_sgx_image_open(img, path, &s, &err) ||
	    eimg_sim_load(s->layout, s->m.mrenclave, &e, &err)) {
		fprintf(stderr, "ring_bench: %s: %s\n", path, err.msg);
		exit(1);
	}
	return e;   /* the image and layout stay alive with the enclave */
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "enclave") == 0 && argc < 4)) {
		fprintf(stderr, "usage: ring_bench noop N | ring_bench enclave N IMAGE\n");
		return 2;
	}
	long n = atol(argv[2]);
	eimg_sim_enclave *e = strcmp(argv[1], "enclave") == 0 ? load(argv[3]) : NULL;
	struct eimg_ring_pair *p = eimg_ring_map(1);
	int sv[2];
	if (!p || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 1;
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		peer(p, sv[1], e);
	}
	close(sv[1]);
	double seq = run(p, sv[0], n, 1);
	double pipe = run(p, sv[0], n, 64);
	push_bell(&p->req, NULL, 0, 0, sv[0]);
	int st;
	waitpid(pid, &st, 0);
	if (seq < 0 || pipe < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "ring_bench: the peer failed\n");
		return 1;
	}
	printf("seq_per_second=%.0f pipe_per_second=%.0f\n", seq, pipe);
	return 0;
}
