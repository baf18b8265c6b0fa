/* SPDX-License-Identifier: Apache-2.0 */
/* bench/run-roundtrip's client: starts a message server (enclave-run, or a
 * baseline like cat) on pipes and measures round trips of empty messages.
 *   run_roundtrip_bench seq N  -- CMD...   one message at a time: N round trips
 *   run_roundtrip_bench pipe N -- CMD...   N messages in flight, 64 at a time max
 *   run_roundtrip_bench first 1 -- CMD...  seconds from start to the first reply
 * Prints "name=value" fields. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int rd(int fd, uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = read(fd, p, n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int wr(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* One reply frame; returns its code or -1. */
static int reply(int fd)
{
	uint8_t h[8], buf[4096];
	if (rd(fd, h, 8))
		return -1;
	uint32_t len = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
	uint32_t code = (uint32_t)h[4] << 24 | (uint32_t)h[5] << 16 | (uint32_t)h[6] << 8 | h[7];
	while (len) {
		size_t n = len < sizeof buf ? len : sizeof buf;
		if (rd(fd, buf, n))
			return -1;
		len -= (uint32_t)n;
	}
	return (int)code;
}

int main(int argc, char **argv)
{
	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: run_roundtrip_bench seq|pipe|first N -- CMD...\n");
		return 2;
	}
	const char *mode = argv[1];
	long n = atol(argv[2]);
	int to[2], from[2];
	if (pipe(to) || pipe(from))
		return 1;
	double t0 = now();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(to[0], 0);
		dup2(from[1], 1);
		close(to[0]); close(to[1]); close(from[0]); close(from[1]);
		execvp(argv[4], argv + 4);
		_exit(127);
	}
	close(to[0]);
	close(from[1]);
	signal(SIGPIPE, SIG_IGN);
	static const uint8_t empty[8] = { 0 };
	double t1 = now(), first = 0;
	long done = 0;
	if (strcmp(mode, "seq") == 0 || strcmp(mode, "first") == 0) {
		for (; done < n; done++) {
			if (wr(to[1], empty, 8) || reply(from[0]) != 0)
				break;
			if (done == 0)
				first = now() - t0;
		}
	} else {
		/* pipelined: keep up to 64 frames in flight (enclave-run's read-ahead) */
		long sent = 0;
		const long window = 64;
		uint8_t batch[8 * 64];
		memset(batch, 0, sizeof batch);
		while (done < n) {
			long k = n - sent < window - (sent - done) ? n - sent : window - (sent - done);
			if (k > 0) {
				if (wr(to[1], batch, (size_t)(8 * k)))
					break;
				sent += k;
			}
			if (reply(from[0]) != 0)
				break;
			done++;
		}
	}
	double t2 = now();
	close(to[1]);
	int st;
	waitpid(pid, &st, 0);
	if (done != n) {
		fprintf(stderr, "run_roundtrip_bench: only %ld of %ld replies\n", done, n);
		return 1;
	}
	printf("mode=%s n=%ld seconds=%.6f per_second=%.0f first_reply_seconds=%.6f\n", mode, n, t2 - t1,
	       (double)n / (t2 - t1), first);
	return 0;
}
