/* SPDX-License-Identifier: Apache-2.0 */
/* The relay's state, shared by its loop (net/relay.c) and its connections'
 * state machine (net/conn.c).  libc only. */
#ifndef EIMG_NET_RELAY_INT_H
#define EIMG_NET_RELAY_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "net/net_int.h"

enum listener_kind { L_FORWARD = 1, L_PROXY };

struct listener {
	struct listener *next;
	int fd;
	int kind;                      /* enum listener_kind */
	char text[128];                /* the listening address, for log lines */
	bool has_to;                   /* forward: to; proxy: via */
	struct net_addr to;
	char to_text[128];
	const eimg_net_policy *pol;
	unsigned nconns;
};

/* Connection states. */
enum conn_state {
	C_HEAD = 1,     /* proxy: reading the client's CONNECT request */
	C_CONNECTING,   /* the upstream connect is under way */
	C_UPHEAD,       /* proxy via another: waiting for its answer */
	C_RELAY,        /* bytes both ways */
	C_CLOSING,      /* writing a last answer to the client, then C_DRAIN */
	C_DRAIN         /* reading and dropping what the client still sends, briefly */
};

struct nbuf {
	char *d;
	size_t len;     /* bytes in d[0..len) */
	size_t cap;
};

struct conn {
	struct conn *next;
	struct listener *l;
	int cfd, ufd;                  /* client, upstream (-1: none) */
	int state;                     /* enum conn_state */
	int pi;                        /* index of cfd in this round's poll set, -1 none */
	struct nbuf up, down;          /* client -> upstream, upstream -> client */
	bool c_eof, u_eof;             /* end of data read from each side */
	bool c_shut, u_shut;           /* write side shut down after the other's end */
	uint64_t deadline;             /* monotonic ms; 0: none */
	char dest[NET_HOST_MAX + 16];  /* "host:port" of a CONNECT, for log lines */
};

struct eimg_net_relay {
	struct eimg_net_limits lim;
	struct listener *listeners;
	struct conn *conns;
	eimg_net_log_fn log;
	void *log_ctx;
	uint64_t accept_pause_until;   /* after EMFILE: listeners rest briefly */
	uint64_t last_refusal_log;
	unsigned refused;
};

uint64_t eimg_net_now_ms(void);
void eimg_net_logf(eimg_net_relay *r, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

/* net/conn.c: a new connection from an accepted client fd. */
int eimg_net_conn_accepted(eimg_net_relay *r, struct listener *l, int cfd);
/* The poll events each side wants; -1 fd when none. */
void eimg_net_conn_events(const struct conn *c, short *cev, short *uev);
/* Handles what poll reported; false when the connection is finished. */
bool eimg_net_conn_step(eimg_net_relay *r, struct conn *c, short crev, short urev, uint64_t now);
void eimg_net_conn_close(eimg_net_relay *r, struct conn *c);

#endif
