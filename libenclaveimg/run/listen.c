/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's listening socket (--listen): TCP port or Unix socket,
 * accepting clients. */
#include <errno.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eimg/sgx_hw.h"
#include "eimg/sigstruct.h"
#include "eimg/sim.h"
#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "run/sgx_hw_int.h"
#include "run/sim_int.h"
#include "run/runner_int.h"

/* --------------------------------------------------------- listening */

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

int eimg_rn_open_listener(struct runner *R, const char *spec, char *where, size_t wsize, eimg_error *err)
{
	int fd = -1;
	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (!*path || strlen(path) >= sizeof sa.sun_path)
			return eimg_err(err, EIMG_EUSAGE, NULL, "--listen %s: the socket path is empty or longer than %zu bytes",
					spec, sizeof sa.sun_path - 1);
		memcpy(sa.sun_path, path, strlen(path) + 1);
		struct stat st;
		if (lstat(path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode))
				return eimg_err(err, EIMG_EINVAL, path, "exists and is not a socket");
			int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			int alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
			if (probe >= 0)
				close(probe);
			if (alive)
				return eimg_err(err, EIMG_EINVAL, path, "another process is listening on this socket");
			unlink(path);   /* stale socket of an earlier run */
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
			int rc = eimg_err_sys(err, path, "cannot listen");
			if (fd >= 0)
				close(fd);
			return rc;
		}
		if (!(R->unix_path = strdup(path))) {
			close(fd);
			unlink(path);
			return eimg_err_nomem(err);
		}
		snprintf(where, wsize, "unix:%s", path);
	} else {
		const char *p = spec;
		uint16_t port;
		if (strncmp(p, "tcp:", 4) == 0)
			p += 4;
		if (strncmp(p, "127.0.0.1:", 10) == 0)
			p += 10;
		else if (strncmp(p, "localhost:", 10) == 0)
			p += 10;
		if (parse_port(p, &port) != 0)
			return eimg_err(err, EIMG_EUSAGE, NULL,
					"--listen %s: expected unix:PATH, tcp:PORT or tcp:127.0.0.1:PORT (loopback only)", spec);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int one = 1;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
			char what[64];
			snprintf(what, sizeof what, "127.0.0.1:%u", port);
			int rc = eimg_err_sys(err, what, "cannot listen");
			if (fd >= 0)
				close(fd);
			return rc;
		}
		socklen_t sl = sizeof sa;
		getsockname(fd, (struct sockaddr *)&sa, &sl);
		snprintf(where, wsize, "tcp:127.0.0.1:%u", ntohs(sa.sin_port));
	}
	eimg_rn_set_nonblock(fd);
	R->listen_fd = fd;
	return EIMG_OK;
}

void eimg_rn_accept_client(struct runner *R)
{
	int fd = accept4(R->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* The pending connection stays queued, so the socket stays readable:
		 * without a pause the loop would spin until a descriptor frees up. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			R->accept_paused = true;
		return;
	}
	if (R->nclients >= R->max_clients || !eimg_rn_client_new(R, fd, fd, false))
		close(fd);
}
