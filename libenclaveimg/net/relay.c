/* SPDX-License-Identifier: Apache-2.0 */
/* The relay: listeners (byte forwarders and CONNECT proxies) and their
 * connections in one poll loop; limits in enclave-nitro(7), "Limits".
 * Connections themselves are net/conn.c.  libc only. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "net/relay_int.h"

#define ACCEPT_BURST 16      /* connections accepted per listener per round */
#define EMFILE_PAUSE_MS 100  /* listeners rest when out of descriptors */
#define TICK_MS 1000         /* longest poll wait */

uint64_t eimg_net_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void eimg_net_logf(eimg_net_relay *r, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	if (!r->log)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	r->log(r->log_ctx, line);
}

#define DEF(field, value) (lim && lim->field ? lim->field : (value))

int eimg_net_relay_new(const struct eimg_net_limits *lim, eimg_net_relay **out, eimg_error *err)
{
	eimg_net_relay *r;
	if (!out)
		return eimg_err(err, EIMG_EUSAGE, NULL, "relay: no output");
	r = calloc(1, sizeof(*r));
	if (!r)
		return eimg_err_nomem(err);
	r->lim.header_max = DEF(header_max, EIMG_NET_HEADER_MAX);
	r->lim.header_count_max = DEF(header_count_max, EIMG_NET_HEADER_COUNT_MAX);
	r->lim.header_timeout_ms = DEF(header_timeout_ms, EIMG_NET_HEADER_TIMEOUT_MS);
	r->lim.connect_timeout_ms = DEF(connect_timeout_ms, EIMG_NET_CONNECT_TIMEOUT_MS);
	r->lim.idle_timeout_ms = DEF(idle_timeout_ms, EIMG_NET_IDLE_TIMEOUT_MS);
	r->lim.conns_max = DEF(conns_max, EIMG_NET_CONNS_MAX);
	r->lim.buf_size = DEF(buf_size, EIMG_NET_BUF_SIZE);
	/* a request head and the answer to it always fit one buffer */
	if (r->lim.buf_size < r->lim.header_max + 1024)
		r->lim.buf_size = r->lim.header_max + 1024;
	*out = r;
	return EIMG_OK;
}

void eimg_net_relay_set_log(eimg_net_relay *r, eimg_net_log_fn fn, void *ctx)
{
	if (r) {
		r->log = fn;
		r->log_ctx = ctx;
	}
}

static int add_listener(eimg_net_relay *r, int kind, const char *listen_addr, const char *to_addr,
			const eimg_net_policy *pol, eimg_error *err)
{
	struct net_addr la;
	struct listener *l;
	int rc;
	if (!r)
		return eimg_err(err, EIMG_EUSAGE, NULL, "relay: none given");
	if (kind == L_PROXY && !pol)
		return eimg_err(err, EIMG_EUSAGE, NULL, "%s: a proxy needs a policy", listen_addr);
	if ((rc = eimg_net_addr_parse(listen_addr, &la, err)))
		return rc;
	l = calloc(1, sizeof(*l));
	if (!l)
		return eimg_err_nomem(err);
	l->kind = kind;
	l->pol = pol;
	snprintf(l->text, sizeof(l->text), "%s", listen_addr);
	if (to_addr) {
		if ((rc = eimg_net_addr_parse(to_addr, &l->to, err))) {
			free(l);
			return rc;
		}
		l->has_to = true;
		snprintf(l->to_text, sizeof(l->to_text), "%s", to_addr);
	}
	if ((rc = eimg_net_listen(&la, listen_addr, &l->fd, err))) {
		free(l);
		return rc;
	}
	l->next = r->listeners;
	r->listeners = l;
	return EIMG_OK;
}

int eimg_net_relay_forward(eimg_net_relay *r, const char *listen_addr, const char *to_addr, eimg_error *err)
{
	if (!to_addr)
		return eimg_err(err, EIMG_EUSAGE, NULL, "%s: forward to where?", listen_addr ? listen_addr : "relay");
	return add_listener(r, L_FORWARD, listen_addr, to_addr, NULL, err);
}

int eimg_net_relay_proxy(eimg_net_relay *r, const char *listen_addr, const eimg_net_policy *pol,
			 const char *via_addr, eimg_error *err)
{
	return add_listener(r, L_PROXY, listen_addr, via_addr, pol, err);
}

/* Over the limit: accepted and closed at once, a proxy's client told 503. */
static void refuse(eimg_net_relay *r, struct listener *l, int fd, uint64_t now)
{
	if (l->kind == L_PROXY) {
		char resp[256];
		size_t n = eimg_net_response_write(resp, sizeof(resp), 503, "too many connections");
		(void)!send(fd, resp, n, MSG_DONTWAIT | MSG_NOSIGNAL);
		shutdown(fd, SHUT_WR);
	}
	close(fd);
	r->refused++;
	if (now - r->last_refusal_log >= 1000) {
		eimg_net_logf(r, "%s: %u connection(s) refused: %u connections (limit)", l->text, r->refused,
			      r->lim.conns_max);
		r->refused = 0;
		r->last_refusal_log = now;
	}
}

static int accept_some(eimg_net_relay *r, struct listener *l, uint64_t now, eimg_error *err)
{
	for (int i = 0; i < ACCEPT_BURST; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				eimg_net_logf(r, "%s: cannot accept: %s", l->text, strerror(errno));
				r->accept_pause_until = now + EMFILE_PAUSE_MS;
				return EIMG_OK;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ECONNABORTED ||
			    errno == EPROTO || errno == EPERM)
				return EIMG_OK;
			return eimg_err_sys(err, NULL, "%s: cannot accept", l->text);
		}
		if (l->nconns >= r->lim.conns_max) {
			refuse(r, l, fd, now);
		} else if (eimg_net_conn_accepted(r, l, fd) < 0) {
			eimg_net_logf(r, "%s: out of memory, connection closed", l->text);
			close(fd);
		}
	}
	return EIMG_OK;
}

struct pollset {
	struct pollfd *p;
	size_t n, cap;
};

static int ps_add(struct pollset *ps, int fd, short ev)
{
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		struct pollfd *p = realloc(ps->p, cap * sizeof(*p));
		if (!p)
			return -1;
		ps->p = p;
		ps->cap = cap;
	}
	ps->p[ps->n].fd = fd;
	ps->p[ps->n].events = ev;
	ps->p[ps->n].revents = 0;
	return (int)ps->n++;
}

/* This round's poll set: stop_fd, listeners, then each connection's two sides.
 * Returns the wait in ms, or -1 when out of memory. */
static int build(eimg_net_relay *r, struct pollset *ps, int stop_fd, uint64_t now)
{
	uint64_t wait = TICK_MS;
	bool paused = now < r->accept_pause_until;
	ps->n = 0;
	if (ps_add(ps, stop_fd, POLLIN) < 0)
		return -1;
	for (struct listener *l = r->listeners; l; l = l->next)
		if (ps_add(ps, paused ? -1 : l->fd, POLLIN) < 0)
			return -1;
	for (struct conn *c = r->conns; c; c = c->next) {
		short cev, uev;
		eimg_net_conn_events(c, &cev, &uev);
		c->pi = ps_add(ps, c->cfd, cev);
		if (c->pi < 0 || ps_add(ps, c->ufd, uev) < 0)
			return -1;
		uint64_t left = c->deadline > now ? c->deadline - now : 0;
		if (c->deadline && left < wait)
			wait = left;
	}
	if (paused && r->accept_pause_until - now < wait)
		wait = r->accept_pause_until - now;
	return (int)wait;
}

static void step_all(eimg_net_relay *r, struct pollset *ps, uint64_t now)
{
	for (struct conn **pc = &r->conns; *pc;) {
		struct conn *c = *pc;
		short crev = 0, urev = 0;
		if (c->pi >= 0) {
			crev = ps->p[c->pi].revents;
			urev = ps->p[c->pi + 1].revents;
		}
		if (c->pi < 0 || eimg_net_conn_step(r, c, crev, urev, now)) {
			pc = &c->next;
		} else {
			*pc = c->next;
			eimg_net_conn_close(r, c);
		}
	}
}

int eimg_net_relay_run(eimg_net_relay *r, int stop_fd, eimg_error *err)
{
	struct pollset ps = { NULL, 0, 0 };
	int rc = EIMG_OK;
	if (!r)
		return eimg_err(err, EIMG_EUSAGE, NULL, "relay: none given");
	for (;;) {
		uint64_t now = eimg_net_now_ms();
		int wait = build(r, &ps, stop_fd, now), n;
		size_t i = 1;
		if (wait < 0) {
			rc = eimg_err_nomem(err);
			break;
		}
		n = poll(ps.p, ps.n, wait);
		if (n < 0 && errno != EINTR) {
			rc = eimg_err_sys(err, NULL, "relay: poll failed");
			break;
		}
		if (n > 0 && stop_fd >= 0 && (ps.p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			break;
		now = eimg_net_now_ms();
		step_all(r, &ps, now);
		for (struct listener *l = r->listeners; l; l = l->next, i++)
			if (n > 0 && (ps.p[i].revents & POLLIN) && (rc = accept_some(r, l, now, err)))
				goto out;
		for (struct conn *c = r->conns; c; c = c->next)
			c->pi = -1;
	}
out:
	free(ps.p);
	return rc;
}

void eimg_net_relay_free(eimg_net_relay *r)
{
	if (!r)
		return;
	while (r->conns) {
		struct conn *c = r->conns;
		r->conns = c->next;
		eimg_net_conn_close(r, c);
	}
	while (r->listeners) {
		struct listener *l = r->listeners;
		r->listeners = l->next;
		close(l->fd);
		free(l);
	}
	free(r);
}
