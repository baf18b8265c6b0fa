/* SPDX-License-Identifier: Apache-2.0 */
/* Internals of the network engine (net/): the CONNECT parser and writer, the
 * destination host syntax and transport addresses.  libc only: the Nitro
 * supervisor compiles these files into a static program. */
#ifndef EIMG_NET_INT_H
#define EIMG_NET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "eimg/net.h"

#define NET_HOST_MAX 253   /* a host name, or an address's text */

/* ---------------------------------------------------- host names (policy.c) */

enum net_host_kind { NET_HOST_NAME = 1, NET_HOST_V4, NET_HOST_V6 };

struct net_host {
	int kind;                      /* enum net_host_kind */
	char name[NET_HOST_MAX + 1];   /* NAME: lower case, no trailing dot; else the address text */
	uint8_t addr[16];              /* V4: 4 bytes (an IPv4-mapped IPv6 address becomes V4), V6: 16 */
};

/* Parses a destination host (a name, or an IPv4/IPv6 literal without
 * brackets) of len bytes.  false when it is neither: empty labels, labels over
 * 63 bytes, characters outside A-Za-z0-9-_, a numeric last label ("2130706433",
 * "1.2.3", "0x7f"), more than NET_HOST_MAX bytes. */
bool eimg_net_host_parse(const char *s, size_t len, struct net_host *out);

/* Why one egress pattern is refused (static text), or NULL when it is a
 * valid pattern: the manifest checks each entry with it. */
const char *eimg_net_pattern_error(const char *pattern);

/* ----------------------------------------------------- CONNECT (connect.c) */

struct net_connect {
	struct net_host host;
	uint16_t port;
};

/* Parses an HTTP CONNECT request head in buf[0..len).  Returns the head's
 * length (through the blank line) when complete, 0 when more bytes are needed
 * (len below lim->header_max and no blank line yet), or -1 with *status (400,
 * 405, 431) and *reason (static text) when it is refused: only
 * "CONNECT host:port HTTP/1.x" (authority form, IPv6 in brackets), CRLF line
 * ends, at most lim->header_count_max header lines of "Name: value" with no
 * control characters, lim->header_max bytes in all.  lim must be complete
 * (no zero fields). */
long eimg_net_connect_parse(const char *buf, size_t len, const struct eimg_net_limits *lim,
			    struct net_connect *out, int *status, const char **reason);

/* Parses the answer to a CONNECT ("HTTP/1.x NNN reason" + headers + blank
 * line) the same way: head length, 0 for more, -1 when malformed; *code the
 * status. */
long eimg_net_response_parse(const char *buf, size_t len, size_t max, int *code);

/* Writes "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n\r\n" (IPv6 in
 * brackets); returns its length, 0 when size is too small. */
size_t eimg_net_connect_write(char *buf, size_t size, const struct net_connect *c);

/* Writes "HTTP/1.1 CODE TEXT\r\n" + (for codes other than 200) a
 * "Content-Length" header and the reason as a one-line body; returns its
 * length, 0 when size is too small. */
size_t eimg_net_response_write(char *buf, size_t size, int code, const char *reason);

/* "host:port" of c, IPv6 in brackets, into buf. */
const char *eimg_net_connect_text(const struct net_connect *c, char *buf, size_t size);

/* --------------------------------------------------- transport (addr.c) */

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

/* Parses "vsock:CID:PORT" ("any" CID), "tcp:IP:PORT", "unix:/path". */
int eimg_net_addr_parse(const char *text, struct net_addr *out, eimg_error *err);
/* A listening socket, non-blocking, close-on-exec (unix: an old socket file is
 * replaced). */
int eimg_net_listen(const struct net_addr *a, const char *text, int *fd, eimg_error *err);
/* A non-blocking connect started: *fd, *done true when already connected.
 * Returns 0, or -1 with errno. */
int eimg_net_connect_start(const struct net_addr *a, int *fd, bool *done);
/* The same for a resolved destination (host side). */
int eimg_net_connect_sa(const struct sockaddr *sa, socklen_t len, int *fd, bool *done);

/* ---------------------------------------------------- names (resolve.c) */

/* Resolves a host name for a TCP connection (host side): up to max numeric
 * addresses as text into out[], returns their count, or -1 with *why (static
 * text).  Programs built with EIMG_NET_NO_RESOLVE (the static supervisor,
 * which never resolves) always fail. */
int eimg_net_resolve(const char *name, char out[][64], int max, const char **why);

#endif
