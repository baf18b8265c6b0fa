/* SPDX-License-Identifier: Apache-2.0 */
/* Transport addresses: "vsock:CID:PORT" (production), "tcp:IP:PORT" and
 * "unix:/path" (the host's network side, tests), and non-blocking sockets
 * on them.  Numeric only: no name is ever resolved here.  libc only. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/internal.h"
#include "net/net_int.h"

#define LISTEN_BACKLOG 128

static bool number(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	if (!*s || *s < '0' || *s > '9' || (s[0] == '0' && s[1]))
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (*end || errno || v > max)
		return false;
	*out = v;
	return true;
}

static int bad(const char *text, const char *why, eimg_error *err)
{
	char esc[160];
	eimg_escape(text, strlen(text), esc, sizeof(esc));
	return eimg_err(err, EIMG_EINVAL, NULL, "transport address '%s': %s", esc, why);
}

static int parse_tcp(const char *text, const char *rest, struct net_addr *out, eimg_error *err)
{
	char host[64];
	const char *colon;
	unsigned long port;
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (!close || close[1] != ':' || (size_t)(close - rest - 1) >= sizeof(host))
			return bad(text, "expected tcp:[IPv6]:PORT", err);
		memcpy(host, rest + 1, (size_t)(close - rest - 1));
		host[close - rest - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(rest, ':');
		if (!colon || (size_t)(colon - rest) >= sizeof(host))
			return bad(text, "expected tcp:IP:PORT", err);
		memcpy(host, rest, (size_t)(colon - rest));
		host[colon - rest] = '\0';
	}
	if (!number(colon + 1, 65535, &port))
		return bad(text, "expected a port number 0 to 65535", err);
	memset(out, 0, sizeof(*out));
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
	if (rest[0] != '[' && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		out->len = sizeof(*s4);
	} else if (rest[0] == '[' && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		out->len = sizeof(*s6);
	} else {
		return bad(text, "expected a numeric IPv4 address or a bracketed IPv6 address", err);
	}
	out->family = out->ss.ss_family;
	return EIMG_OK;
}

static int parse_vsock(const char *text, const char *rest, struct net_addr *out, eimg_error *err)
{
	char cid[16];
	const char *colon = strchr(rest, ':');
	unsigned long c = VMADDR_CID_ANY, port;
	if (!colon || (size_t)(colon - rest) >= sizeof(cid))
		return bad(text, "expected vsock:CID:PORT", err);
	memcpy(cid, rest, (size_t)(colon - rest));
	cid[colon - rest] = '\0';
	if (strcmp(cid, "any") && !number(cid, 0xfffffffful, &c))
		return bad(text, "expected a CID number or \"any\"", err);
	if (!number(colon + 1, 0xfffffffful, &port))
		return bad(text, "expected a port number", err);
	memset(out, 0, sizeof(*out));
	struct sockaddr_vm *vm = (struct sockaddr_vm *)&out->ss;
	vm->svm_family = AF_VSOCK;
	vm->svm_cid = (unsigned)c;
	vm->svm_port = (unsigned)port;
	out->len = sizeof(*vm);
	out->family = AF_VSOCK;
	return EIMG_OK;
}

int eimg_net_addr_parse(const char *text, struct net_addr *out, eimg_error *err)
{
	if (!text)
		return eimg_err(err, EIMG_EUSAGE, NULL, "transport address: none given");
	if (!strncmp(text, "tcp:", 4))
		return parse_tcp(text, text + 4, out, err);
	if (!strncmp(text, "vsock:", 6))
		return parse_vsock(text, text + 6, out, err);
	if (!strncmp(text, "unix:", 5)) {
		struct sockaddr_un *un = (struct sockaddr_un *)&out->ss;
		size_t n = strlen(text + 5);
		if (n == 0 || n >= sizeof(un->sun_path))
			return bad(text, "expected unix:PATH of 1 to 107 bytes", err);
		memset(out, 0, sizeof(*out));
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, text + 5, n);
		out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		out->family = AF_UNIX;
		return EIMG_OK;
	}
	return bad(text, "expected vsock:CID:PORT, tcp:IP:PORT or unix:PATH", err);
}

static int new_socket(int family)
{
	return socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

int eimg_net_listen(const struct net_addr *a, const char *text, int *fd, eimg_error *err)
{
	int s = new_socket(a->family), one = 1;
	if (s < 0)
		return eimg_err_sys(err, NULL, "%s: cannot make a socket", text);
	if (a->family == AF_INET || a->family == AF_INET6)
		(void)setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->family == AF_UNIX) {
		const char *path = ((const struct sockaddr_un *)&a->ss)->sun_path;
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			(void)unlink(path);
	}
	if (bind(s, (const struct sockaddr *)&a->ss, a->len) < 0 || listen(s, LISTEN_BACKLOG) < 0) {
		int rc = eimg_err_sys(err, NULL, "%s: cannot listen", text);
		close(s);
		return rc;
	}
	*fd = s;
	return EIMG_OK;
}

int eimg_net_connect_sa(const struct sockaddr *sa, socklen_t len, int *fd, bool *done)
{
	int s = new_socket(sa->sa_family);
	if (s < 0)
		return -1;
	if (connect(s, sa, len) == 0) {
		*done = true;
	} else if (errno == EINPROGRESS || errno == EAGAIN) {
		*done = false;
	} else {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	*fd = s;
	return 0;
}

int eimg_net_connect_start(const struct net_addr *a, int *fd, bool *done)
{
	return eimg_net_connect_sa((const struct sockaddr *)&a->ss, a->len, fd, done);
}
