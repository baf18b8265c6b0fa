/* SPDX-License-Identifier: Apache-2.0 */
/* One relayed connection, as a state machine driven by the relay's poll loop
 * (net/relay.c): the CONNECT request and the policy, the upstream connect,
 * the answer of the proxy upstream, then bytes both ways with half-closes.
 * Every state has a deadline; buffers are fixed per connection.  libc only. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/internal.h"
#include "net/relay_int.h"

#define LINGER_MS 1000u   /* a last answer's write, then reading what the client still sends */
#define RESOLVE_MAX 8     /* addresses of a resolved name that are tried for the policy */

/* ------------------------------------------------------------ buffers */

/* recv into b: bytes read, 0 at the end, -1 error, -2 nothing now. */
static long fill(int fd, struct nbuf *b)
{
	ssize_t n;
	if (b->len >= b->cap)
		return -2;
	do
		n = recv(fd, b->d + b->len, b->cap - b->len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? -2 : -1;
	b->len += (size_t)n;
	return n;
}

/* send from b: bytes sent (>= 0), -1 error. */
static long drain(int fd, struct nbuf *b)
{
	ssize_t n;
	if (!b->len)
		return 0;
	do
		n = send(fd, b->d, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	memmove(b->d, b->d + n, b->len - (size_t)n);
	b->len -= (size_t)n;
	return n;
}

static void close_up(struct conn *c)
{
	if (c->ufd >= 0)
		close(c->ufd);
	c->ufd = -1;
}

/* A last answer to the client, then close: C_CLOSING. */
static bool respond(eimg_net_relay *r, struct conn *c, int code, const char *reason, uint64_t now)
{
	(void)r;
	close_up(c);
	c->up.len = 0;
	c->down.len = eimg_net_response_write(c->down.d, c->down.cap, code, reason);
	c->state = C_CLOSING;
	c->deadline = now + LINGER_MS;
	return true;
}

/* ------------------------------------------------------ connecting */

static bool start_upstream(eimg_net_relay *r, struct conn *c, const struct net_addr *a, const char *what,
			   uint64_t now)
{
	bool done = false;
	if (eimg_net_connect_start(a, &c->ufd, &done) < 0) {
		char why[200];
		snprintf(why, sizeof(why), "cannot connect to %s: %s", what, strerror(errno));
		eimg_net_logf(r, "%s: %s", c->l->text, why);
		return c->l->kind == L_PROXY ? respond(r, c, 502, why, now) : false;
	}
	c->state = C_CONNECTING;
	c->deadline = now + r->lim.connect_timeout_ms;
	return true;
}

/* Host side: the name's addresses, each re-checked against the deny rules. */
static bool connect_direct(eimg_net_relay *r, struct conn *c, const struct net_connect *req, uint64_t now)
{
	char addrs[RESOLVE_MAX][64], text[96], why[EIMG_NET_WHY_MAX + 64];
	const char *rwhy = NULL;
	struct eimg_net_verdict v;
	struct net_addr a;
	int n = 1;
	if (req->host.kind == NET_HOST_NAME)
		n = eimg_net_resolve(req->host.name, addrs, RESOLVE_MAX, &rwhy);
	else
		snprintf(addrs[0], sizeof(addrs[0]), "%s", req->host.name);
	if (n < 0) {
		snprintf(why, sizeof(why), "cannot resolve %s: %s", req->host.name, rwhy);
		eimg_net_logf(r, "egress %s: %s", c->dest, why);
		return respond(r, c, 502, why, now);
	}
	for (int i = 0; i < n; i++) {
		if (!eimg_net_policy_check_resolved(c->l->pol, addrs[i], req->port, &v)) {
			snprintf(why, sizeof(why), "%s resolves to %s: %s", req->host.name, addrs[i], v.why);
			eimg_net_logf(r, "egress denied %s: %s", c->dest, why);
			return respond(r, c, 403, why, now);
		}
	}
	snprintf(text, sizeof(text), strchr(addrs[0], ':') ? "tcp:[%s]:%u" : "tcp:%s:%u", addrs[0], (unsigned)req->port);
	if (eimg_net_addr_parse(text, &a, NULL))
		return respond(r, c, 502, "unusable address", now);
	return start_upstream(r, c, &a, c->dest, now);
}

/* The in-enclave side: the canonical request, then what the client sent after its own. */
static bool connect_via(eimg_net_relay *r, struct conn *c, const struct net_connect *req, uint64_t now)
{
	char head[NET_HOST_MAX * 2 + 64];
	size_t n = eimg_net_connect_write(head, sizeof(head), req);
	if (!n || n + c->up.len > c->up.cap)
		return respond(r, c, 400, "request too long", now);
	memmove(c->up.d + n, c->up.d, c->up.len);
	memcpy(c->up.d, head, n);
	c->up.len += n;
	return start_upstream(r, c, &c->l->to, c->l->to_text, now);
}

static bool head_read(eimg_net_relay *r, struct conn *c, uint64_t now)
{
	struct net_connect req;
	struct eimg_net_verdict v;
	const char *reason = NULL;
	int status = 0;
	long got = fill(c->cfd, &c->up), n;
	if (got == -2)
		return true;
	if (got <= 0)
		return false;  /* the client left before its request was complete */
	n = eimg_net_connect_parse(c->up.d, c->up.len, &r->lim, &req, &status, &reason);
	if (n == 0)
		return true;
	if (n < 0) {
		eimg_net_logf(r, "egress refused on %s: %d %s", c->l->text, status, reason);
		return respond(r, c, status, reason, now);
	}
	memmove(c->up.d, c->up.d + n, c->up.len - (size_t)n);
	c->up.len -= (size_t)n;
	eimg_net_connect_text(&req, c->dest, sizeof(c->dest));
	if (!eimg_net_policy_check(c->l->pol, req.host.name, req.port, &v)) {
		eimg_net_logf(r, "egress denied %s: %s", c->dest, v.why);
		return respond(r, c, 403, v.why, now);
	}
	eimg_net_logf(r, "egress allowed %s: %s", c->dest, v.why);
	return c->l->has_to ? connect_via(r, c, &req, now) : connect_direct(r, c, &req, now);
}

static void to_relay(eimg_net_relay *r, struct conn *c, uint64_t now)
{
	c->state = C_RELAY;
	c->deadline = now + r->lim.idle_timeout_ms;
}

static bool connected(eimg_net_relay *r, struct conn *c, uint64_t now)
{
	int e = 0;
	socklen_t el = sizeof(e);
	if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
		e = errno;
	if (e) {
		char why[200];
		snprintf(why, sizeof(why), "cannot connect to %s: %s", c->l->kind == L_PROXY && !c->l->has_to ? c->dest :
			 c->l->to_text, strerror(e));
		eimg_net_logf(r, "%s: %s", c->l->text, why);
		return c->l->kind == L_PROXY ? respond(r, c, 502, why, now) : false;
	}
	if (c->l->kind == L_PROXY && c->l->has_to) {
		/* the proxy upstream has its own connect timeout: it answers 504 first */
		c->state = C_UPHEAD;
		c->deadline = now + 2 * (uint64_t)r->lim.connect_timeout_ms;
		return true;
	}
	if (c->l->kind == L_PROXY)
		c->down.len = eimg_net_response_write(c->down.d, c->down.cap, 200, NULL);
	to_relay(r, c, now);
	return true;
}

/* In-enclave: the host's answer to the forwarded CONNECT. */
static bool up_head(eimg_net_relay *r, struct conn *c, short urev, uint64_t now)
{
	int code = 0;
	long got, n;
	char why[96];
	if ((urev & POLLOUT) && drain(c->ufd, &c->up) < 0)
		return respond(r, c, 502, "the host egress service is gone", now);
	if (!(urev & (POLLIN | POLLHUP | POLLERR)))
		return true;
	got = fill(c->ufd, &c->down);
	if (got == -2)
		return true;
	if (got <= 0)
		return respond(r, c, 502, "the host egress service closed the connection", now);
	n = eimg_net_response_parse(c->down.d, c->down.len, r->lim.header_max, &code);
	if (n == 0)
		return true;
	if (n < 0)
		return respond(r, c, 502, "malformed answer from the host egress service", now);
	if (code == 200) {
		to_relay(r, c, now);  /* the answer and anything after it go to the client as they are */
		return true;
	}
	snprintf(why, sizeof(why), "refused by the host egress service (HTTP %d)", code);
	eimg_net_logf(r, "egress %s: %s", c->dest, why);
	return respond(r, c, code == 403 ? 403 : 502, why, now);
}

/* ---------------------------------------------------------- relaying */

static bool relay(eimg_net_relay *r, struct conn *c, short crev, short urev, uint64_t now)
{
	bool progress = false;
	long n;
	if ((crev & (POLLIN | POLLHUP | POLLERR)) && !c->c_eof && (n = fill(c->cfd, &c->up)) != -2) {
		if (n < 0)
			return false;
		c->c_eof = n == 0;
		progress = true;
	}
	if ((urev & (POLLIN | POLLHUP | POLLERR)) && !c->u_eof && (n = fill(c->ufd, &c->down)) != -2) {
		if (n < 0)
			return false;
		c->u_eof = n == 0;
		progress = true;
	}
	/* a socket error, or a side that can neither send nor receive any more */
	if (((crev | urev) & POLLERR) || ((crev & POLLHUP) && c->c_eof && !c->up.len) ||
	    ((urev & POLLHUP) && c->u_eof && !c->down.len))
		return false;
	if ((n = drain(c->ufd, &c->up)) < 0)
		return false;
	progress |= n > 0;
	if ((n = drain(c->cfd, &c->down)) < 0)
		return false;
	progress |= n > 0;
	if (c->c_eof && !c->up.len && !c->u_shut) {
		shutdown(c->ufd, SHUT_WR);
		c->u_shut = true;
	}
	if (c->u_eof && !c->down.len && !c->c_shut) {
		shutdown(c->cfd, SHUT_WR);
		c->c_shut = true;
	}
	if (c->c_shut && c->u_shut)
		return false;
	if (progress)
		c->deadline = now + r->lim.idle_timeout_ms;
	return true;
}

static bool timeout(eimg_net_relay *r, struct conn *c, uint64_t now)
{
	char why[96];
	switch (c->state) {
	case C_HEAD:
		snprintf(why, sizeof(why), "no complete request within %u ms", r->lim.header_timeout_ms);
		eimg_net_logf(r, "egress refused on %s: 408 %s", c->l->text, why);
		return respond(r, c, 408, why, now);
	case C_CONNECTING:
	case C_UPHEAD:
		snprintf(why, sizeof(why), "no connection within %u ms", r->lim.connect_timeout_ms);
		eimg_net_logf(r, "%s %s: %s", c->l->text, c->dest[0] ? c->dest : c->l->to_text, why);
		return c->l->kind == L_PROXY ? respond(r, c, 504, why, now) : false;
	case C_RELAY:
		eimg_net_logf(r, "%s %s: idle for %u ms, closed", c->l->text, c->dest, r->lim.idle_timeout_ms);
		return false;
	default:
		return false;
	}
}

/* ------------------------------------------------------------- public */

int eimg_net_conn_accepted(eimg_net_relay *r, struct listener *l, int cfd)
{
	struct conn *c = calloc(1, sizeof(*c));
	size_t cap = r->lim.buf_size;
	uint64_t now = eimg_net_now_ms();
	if (!c)
		return -1;
	c->cfd = cfd;
	c->ufd = -1;
	c->pi = -1;
	c->l = l;
	c->up.cap = c->down.cap = cap;
	c->up.d = malloc(cap);
	c->down.d = malloc(cap);
	if (!c->up.d || !c->down.d) {
		free(c->up.d);
		free(c->down.d);
		free(c);
		return -1;
	}
	c->next = r->conns;
	r->conns = c;
	l->nconns++;
	if (l->kind == L_PROXY) {
		c->state = C_HEAD;
		c->deadline = now + r->lim.header_timeout_ms;
	} else if (!start_upstream(r, c, &l->to, l->to_text, now)) {
		c->state = C_DRAIN;  /* closed on the next step */
		c->deadline = now;
	}
	return 0;
}

void eimg_net_conn_events(const struct conn *c, short *cev, short *uev)
{
	*cev = *uev = 0;
	switch (c->state) {
	case C_HEAD:
	case C_DRAIN:
		*cev = POLLIN;
		break;
	case C_CONNECTING:
		*uev = POLLOUT;
		break;
	case C_UPHEAD:
		*uev = (short)(POLLIN | (c->up.len ? POLLOUT : 0));
		break;
	case C_RELAY:
		*cev = (short)((!c->c_eof && c->up.len < c->up.cap ? POLLIN : 0) | (c->down.len ? POLLOUT : 0));
		*uev = (short)((!c->u_eof && c->down.len < c->down.cap ? POLLIN : 0) | (c->up.len ? POLLOUT : 0));
		break;
	case C_CLOSING:
		*cev = POLLOUT;
		break;
	default:
		break;
	}
}

bool eimg_net_conn_step(eimg_net_relay *r, struct conn *c, short crev, short urev, uint64_t now)
{
	char scratch[512];
	if (c->deadline && now >= c->deadline)
		return timeout(r, c, now);
	if (c->state != C_RELAY && c->state != C_HEAD && c->state != C_DRAIN && (crev & (POLLERR | POLLHUP)))
		return false;  /* the client is gone */
	switch (c->state) {
	case C_HEAD:
		return crev ? head_read(r, c, now) : true;
	case C_CONNECTING:
		return urev ? connected(r, c, now) : true;
	case C_UPHEAD:
		return urev ? up_head(r, c, urev, now) : true;
	case C_RELAY:
		return relay(r, c, crev, urev, now);
	case C_CLOSING:
		if ((crev & POLLOUT) && drain(c->cfd, &c->down) < 0)
			return false;
		if (!c->down.len) {
			shutdown(c->cfd, SHUT_WR);
			c->state = C_DRAIN;
		}
		return true;
	case C_DRAIN: {
		ssize_t n;
		if (!crev)
			return true;
		n = recv(c->cfd, scratch, sizeof(scratch), MSG_DONTWAIT);
		return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
	}
	default:
		return false;
	}
}

void eimg_net_conn_close(eimg_net_relay *r, struct conn *c)
{
	(void)r;
	if (c->cfd >= 0)
		close(c->cfd);
	close_up(c);
	if (c->l->nconns)
		c->l->nconns--;
	free(c->up.d);
	free(c->down.d);
	free(c);
}
