/* SPDX-License-Identifier: Apache-2.0 */
/* Network policy and relays for Nitro images (enclave-nitro(7)): the egress
 * allow/deny policy of the manifest, and one poll loop that forwards ingress
 * ports and runs HTTP CONNECT proxies.  The same engine runs inside the
 * enclave (the supervisor, a static program) and on the host (enclave-run);
 * it depends on libc only.
 *
 * Transport addresses are text:
 *   "vsock:CID:PORT"  AF_VSOCK (CID a number, or "any" to listen on any CID)
 *   "tcp:IP:PORT"     TCP; IP is a numeric IPv4 address or a bracketed IPv6
 *                     address ("tcp:[::1]:80"); never a name
 *   "unix:/path"      a Unix stream socket (tests)
 */
#ifndef EIMG_NET_H
#define EIMG_NET_H

#include <stddef.h>
#include <stdint.h>

#include "eimg/error.h"

/* ------------------------------------------------------------- policy */

typedef struct eimg_net_policy eimg_net_policy;

/* Compiles the manifest's egress lists (patterns as enclave-manifest(5)
 * describes them).  EIMG_EINVAL naming the first bad pattern ("deny[2]:
 * ...").  No allow list means nothing is allowed. */
int eimg_net_policy_new(char *const *allow, size_t nallow, char *const *deny, size_t ndeny,
			eimg_net_policy **out, eimg_error *err);
void eimg_net_policy_free(eimg_net_policy *p);

enum eimg_net_rule_list {
	EIMG_NET_RULE_NONE = 0,   /* no rule decided: denied, no allow rule matches */
	EIMG_NET_RULE_ALLOW = 1,
	EIMG_NET_RULE_DENY = 2,
	EIMG_NET_RULE_INVALID = 3 /* the destination is no valid host name or address */
};

#define EIMG_NET_WHY_MAX 320

/* The decision and the rule that made it. */
struct eimg_net_verdict {
	int allowed;              /* 1 allowed, 0 denied */
	int list;                 /* enum eimg_net_rule_list */
	size_t index;             /* 0-based index of the deciding rule in its list */
	char why[EIMG_NET_WHY_MAX]; /* "deny rule 2 (*.evil.com)" (1-based), "allow rule 1
				       (example.com:443)", "no allow rule matches",
				       "invalid destination" */
};

/* Checks a destination: host is a host name (case-insensitive, a trailing
 * dot ignored) or an IPv4/IPv6 literal (IPv6 without brackets); port 1..65535.
 * Deny rules first (any match denies), then allow rules.  Returns 1 when
 * allowed, 0 when denied; v (may be NULL) says why. */
int eimg_net_policy_check(const eimg_net_policy *p, const char *host, uint16_t port,
			  struct eimg_net_verdict *v);

/* The host side's second check after resolving a name: addr (numeric
 * IPv4/IPv6 text) against the deny rules that are addresses or CIDRs (and
 * "*").  Returns 1 when no such rule matches, 0 when one does (v says which). */
int eimg_net_policy_check_resolved(const eimg_net_policy *p, const char *addr, uint16_t port,
				   struct eimg_net_verdict *v);

/* -------------------------------------------------------------- relay */

/* Limits of one relay; 0 in a field means its default (the values below). */
struct eimg_net_limits {
	size_t header_max;          /* request line + headers, bytes (8192) */
	unsigned header_count_max;  /* header lines after the request line (64) */
	unsigned header_timeout_ms; /* whole request head within (10000) */
	unsigned connect_timeout_ms;/* upstream connect within (10000); a proxy upstream's
				       answer within twice that */
	unsigned idle_timeout_ms;   /* a relayed connection with no traffic is closed after (600000) */
	unsigned conns_max;         /* concurrent connections per listener (256); more are
				       accepted and closed (a proxy answers 503 first) */
	size_t buf_size;            /* per direction per connection, bytes (16384) */
};

#define EIMG_NET_HEADER_MAX 8192u
#define EIMG_NET_HEADER_COUNT_MAX 64u
#define EIMG_NET_HEADER_TIMEOUT_MS 10000u
#define EIMG_NET_CONNECT_TIMEOUT_MS 10000u
#define EIMG_NET_IDLE_TIMEOUT_MS 600000u
#define EIMG_NET_CONNS_MAX 256u
#define EIMG_NET_BUF_SIZE 16384u

/* Ports of the Nitro layout (enclave-nitro(7)). */
#define EIMG_NET_PROXY_PORT 10000u     /* the in-enclave proxy: tcp:127.0.0.1:10000 */
#define EIMG_NET_EGRESS_VSOCK_PORT 17002u /* the host's egress service, parent CID 3 */
#define EIMG_NET_PARENT_CID 3u

typedef struct eimg_net_relay eimg_net_relay;

/* One log line (no newline), e.g. "egress denied evil.com:443: deny rule 1
 * (evil.com)"; the library never prints. */
typedef void (*eimg_net_log_fn)(void *ctx, const char *line);

int eimg_net_relay_new(const struct eimg_net_limits *lim, eimg_net_relay **out, eimg_error *err);
void eimg_net_relay_set_log(eimg_net_relay *r, eimg_net_log_fn fn, void *ctx);

/* Listens on listen_addr now (the socket is bound when this returns) and
 * bridges each connection, byte for byte, to a new connection to to_addr. */
int eimg_net_relay_forward(eimg_net_relay *r, const char *listen_addr, const char *to_addr, eimg_error *err);

/* Listens on listen_addr now and runs an HTTP CONNECT proxy there: each
 * request's host:port is checked against pol (kept by reference: it must
 * outlive the relay); denied ones get 403.  via_addr NULL (the host side):
 * the name is resolved, every address re-checked with
 * eimg_net_policy_check_resolved, and the first one connected directly.
 * via_addr given (inside the enclave): the canonical CONNECT request is sent
 * to via_addr and its answer passed back. */
int eimg_net_relay_proxy(eimg_net_relay *r, const char *listen_addr, const eimg_net_policy *pol,
			 const char *via_addr, eimg_error *err);

/* Runs the loop until stop_fd (-1: none) is readable (returns EIMG_OK,
 * leaving stop_fd unread; connections stay and a later call goes on with
 * them) or a listener fails.  Errors of one connection close it and are
 * logged, never returned. */
int eimg_net_relay_run(eimg_net_relay *r, int stop_fd, eimg_error *err);

/* Closes every listener and connection.  NULL is a no-op. */
void eimg_net_relay_free(eimg_net_relay *r);

#endif
