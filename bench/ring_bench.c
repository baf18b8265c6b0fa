/* SPDX-License-Identifier: Apache-2.0 */
/* bench/run-ring's program: enclave-run's message path between the runner
 * and its worker: the shared-memory rings (run/ring.c) and the worker loop
 * the sandboxed child runs (eimg_sim_worker, sim_child.c: pop, dispatch
 * into the enclave, push the reply, the channel as doorbell), in a forked
 * peer, one ring pair, empty messages.
 *   ring_bench noop N              the worker's engine echoes without
 *                                  entering an enclave (the limit)
 *   ring_bench enclave N IMAGE     the worker hands each message to the
 *                                  enclave of IMAGE (simulation loader, TCS
 *                                  0), as enclave-run's child does
 * Each runs one at a time (N round trips) and then with 64 in flight, and
 * prints "seq_per_second=... pipe_per_second=... cpu_us_seq=... cpu_us_pipe=..."
 * (the CPU time of both processes per message: what the path costs,
 * whatever else the machine runs). */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eimg/enclave_abi.h"
#include "eimg/image.h"
#include "eimg/measure.h"
#include "eimg/sim.h"
#include "run/ring_int.h"
#include "run/sim_int.h"

#define SPINS 500

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_seconds(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* The limit: an engine that answers without entering an enclave. */
static int noop_call(void *e, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
		     eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res, eimg_error *err)
{
	(void)e, (void)tcs, (void)log, (void)log_ctx, (void)err, (void)out_cap;
	if (in_len)
		memcpy(out, in, in_len);
	res->status = EIMG_ECALL_OK;
	res->detail = in_len;
	return EIMG_OK;
}
static uint64_t noop_base(const void *e) { (void)e; return 0; }
static void noop_unload(void *e) { (void)e; }
static const struct eimg_run_engine noop_engine = { noop_call, noop_base, noop_unload, NULL };

/* The runner's doorbell: bells and frames on the socket wake it. */
static int sleep_fd(void *ctx)
{
	uint8_t b[4096];
	return read(*(int *)ctx, b, sizeof b) > 0 ? 0 : -1;
}

static int push_req(struct eimg_ring_pair *p, int fd)
{
	int rc = eimg_ring_push(&p->req, NULL, 0, RT_INLINE);
	if (rc == 1) {
		uint8_t bell[CH_HDR];
		eimg_ch_header(bell, 0, CH_BELL, 0, 0);
		rc = write(fd, bell, sizeof bell) == (ssize_t)sizeof bell ? 0 : -4;
	}
	return rc;
}

static int take_reply(struct eimg_ring_pair *p, int fd)
{
	uint8_t buf[EIMG_RING_MAX];
	uint32_t len, tag;
	for (;;) {
		int r = eimg_ring_pop(&p->rep, buf, sizeof buf, &len, &tag);
		if (r == 1)
			return tag == EIMG_ECALL_OK ? 0 : -1;
		if (r < 0 || eimg_ring_wait(&p->rep, SPINS, sleep_fd, &fd))
			return -1;
	}
}

static double run(struct eimg_ring_pair *p, int fd, long n, unsigned window)
{
	long sent = 0, got = 0;
	double t0 = now();
	while (got < n) {
		while (sent < n && sent - got < window && push_req(p, fd) == 0)
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
	uint8_t out[EIMG_RING_MAX];
	struct eimg_sim_result res;
	if (eimg_image_read_file(path, &img, &err) || eimg_sgx_image_open(img, path, &s, &err) ||
	    eimg_sim_load(s->layout, s->m.mrenclave, &e, &err) ||
	    /* the first message runs enclave_init, which logs: not measured */
	    eimg_sim_call(e, 0, NULL, 0, out, sizeof out, NULL, NULL, &res, &err)) {
		fprintf(stderr, "ring_bench: %s: %s\n", path, err.msg);
		exit(1);
	}
	return e;   /* the image and layout stay alive with the enclave */
}

/* One run with a fresh worker: messages per second, and the CPU time of
 * both processes per message (the worker's counted once it is reaped). */
static int bench(const struct eimg_run_engine *eng, void *e, long n, unsigned window, double *rate, double *cpu_us)
{
	struct eimg_ring_pair *p = eimg_ring_map(1);
	int sv[2];
	if (!p || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return -1;
	/* as enclave-run's child: the thread stays in the enclave (switchless) */
	struct sim_worker_args w = { .engine = eng, .enclave = e, .tcs = 0, .fd = sv[1], .ring = p,
				     .max_message = EIMG_RING_MAX, .switchless = true };
	if (eimg_sim_worker_alloc(&w) != 0)
		return -1;
	double c0 = cpu_seconds(RUSAGE_SELF) + cpu_seconds(RUSAGE_CHILDREN);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(eimg_sim_worker(&w));
	}
	close(sv[1]);
	*rate = run(p, sv[0], n, window);
	close(sv[0]);   /* the worker ends at EOF */
	int st;
	waitpid(pid, &st, 0);
	*cpu_us = (cpu_seconds(RUSAGE_SELF) + cpu_seconds(RUSAGE_CHILDREN) - c0) * 1e6 / (double)n;
	eimg_sim_worker_free(&w);
	eimg_ring_unmap(p, 1);
	/* Every reply has arrived when the socket is closed; a worker caught
	 * writing a doorbell at that moment exits CHILD_EXIT_PROTOCOL, which
	 * enclave-run does not count as a fault either (runner_free). */
	bool done_ok = *rate >= 0 && WIFEXITED(st) && (WEXITSTATUS(st) == 0 || WEXITSTATUS(st) == CHILD_EXIT_PROTOCOL);
	if (!done_ok) {
		fprintf(stderr, "ring_bench: window %u: %s, the worker %s %d\n", window, *rate < 0 ? "the run failed" : "ran",
			WIFEXITED(st) ? "exited with" : "was killed by signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[1], "enclave") == 0 && argc < 4)) {
		fprintf(stderr, "usage: ring_bench noop N | ring_bench enclave N IMAGE\n");
		return 2;
	}
	long n = atol(argv[2]);
	eimg_sim_enclave *e = strcmp(argv[1], "enclave") == 0 ? load(argv[3]) : NULL;
	const struct eimg_run_engine *eng = e ? &eimg_sim_engine : &noop_engine;
	double seq, pipe, cpu_seq, cpu_pipe;
	if (bench(eng, e, n, 1, &seq, &cpu_seq) || bench(eng, e, n, 64, &pipe, &cpu_pipe)) {
		fprintf(stderr, "ring_bench: the worker failed\n");
		return 1;
	}
	printf("seq_per_second=%.0f pipe_per_second=%.0f cpu_us_seq=%.3f cpu_us_pipe=%.3f\n", seq, pipe, cpu_seq,
	       cpu_pipe);
	return 0;
}
