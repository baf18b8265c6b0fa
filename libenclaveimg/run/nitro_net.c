/* SPDX-License-Identifier: Apache-2.0 */
/* The host side of a Nitro image's network policy (enclave-nitro(7), "On
 * the host"): once nitro-cli started the enclave, one relay (net/relay.c)
 * bridges each ingress port from the host's network to the enclave's vsock
 * port and serves the enclave's egress on vsock port 17002, re-checking the
 * manifest's policy.  The relay runs in a thread of its own beside the
 * describe-enclaves watch, and stops with the enclave. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eimg/manifest.h"
#include "eimg/net.h"
#include "eimg/nitro_run.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "run/nitro_net_int.h"

struct eimg_nitro_net {
	uint16_t *ingress;
	size_t ningress;
	eimg_net_policy *pol;
	size_t nallow, ndeny;
	char bind[64];              /* "127.0.0.1" or "[::1]" */
	char vsock[EIMG_NITRO_NET_PREFIX_MAX]; /* "" (vsock), or the testing aid's prefix */
	eimg_net_relay *relay;
	pthread_t thread;
	bool running;
	int stop[2];
	int run_rc;
	eimg_error run_err;
	void (*log)(void *ctx, const char *text);
	void *log_ctx;
};

/* The bind address as a transport host: an IPv6 literal in brackets. */
static int set_bind(eimg_nitro_net *n, const char *bind, eimg_error *err)
{
	if (!bind)
		bind = EIMG_NITRO_INGRESS_BIND_DEFAULT;
	size_t len = strlen(bind);
	if (len == 0 || len > 45 || strspn(bind, "0123456789abcdefABCDEF.:") != len)
		return eimg_err(err, EIMG_EUSAGE, NULL, "--ingress-bind: expected a numeric IPv4 or IPv6 address, got '%.64s'",
				bind);
	snprintf(n->bind, sizeof n->bind, strchr(bind, ':') ? "[%s]" : "%s", bind);
	return EIMG_OK;
}

static int set_prefix(eimg_nitro_net *n, eimg_error *err)
{
	const char *p = getenv(EIMG_NITRO_NET_ENV);
	if (!p || !*p)
		return EIMG_OK;
	if (strlen(p) >= sizeof n->vsock || (strncmp(p, "unix:", 5) != 0 && strncmp(p, "tcp:", 4) != 0))
		return eimg_err(err, EIMG_EUSAGE, NULL, "%s: expected unix:PATH or tcp:IP (a testing aid), got '%.64s'",
				EIMG_NITRO_NET_ENV, p);
	snprintf(n->vsock, sizeof n->vsock, "%s", p);
	return EIMG_OK;
}

int eimg_nitro_net_open(const char *manifest, size_t len, const char *bind, eimg_nitro_net **out, eimg_error *err)
{
	eimg_manifest *m = NULL;
	eimg_nitro_net *n = NULL;
	int rc;
	*out = NULL;
	if (!manifest)
		return EIMG_OK;   /* an EIF built elsewhere: no policy known here */
	if ((rc = eimg_manifest_parse_buffer("manifest.json", manifest, len, NULL, &m, err)))
		return rc;
	if (m->target != EIMG_TARGET_NITRO || !m->nitro.has_supervisor)
		goto out;   /* no supervisor inside: nothing listens on vsock for us */
	if (!(n = calloc(1, sizeof(*n)))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	n->stop[0] = n->stop[1] = -1;
	if ((rc = set_bind(n, bind, err)) || (rc = set_prefix(n, err)))
		goto out;
	if (m->nitro.ningress && !(n->ingress = calloc(m->nitro.ningress, sizeof(*n->ingress)))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (m->nitro.ningress)
		memcpy(n->ingress, m->nitro.ingress, m->nitro.ningress * sizeof(*n->ingress));
	n->ningress = m->nitro.ningress;
	n->nallow = m->nitro.negress_allow;
	n->ndeny = m->nitro.negress_deny;
	if ((rc = eimg_net_policy_new(m->nitro.egress_allow, n->nallow, m->nitro.egress_deny, n->ndeny, &n->pol, err))) {
		eimg_err_context(err, "manifest.json", "nitro.egress");
		goto out;
	}
	*out = n;
	n = NULL;
out:
	eimg_nitro_net_free(n);
	eimg_manifest_free(m);
	return rc;
}

/* The enclave's vsock port as the relay's address: vsock:CID:PORT (cid NULL:
 * "any", listening), or PREFIX:PORT with the testing aid. */
static void vsock_addr(const eimg_nitro_net *n, const char *cid, unsigned port, char *out, size_t cap)
{
	if (n->vsock[0])
		snprintf(out, cap, "%s:%u", n->vsock, port);
	else
		snprintf(out, cap, "vsock:%s:%u", cid ? cid : "any", port);
}

int eimg_nitro_net_describe(const eimg_nitro_net *n, const char *cid, struct eimg_sb *b)
{
	char to[EIMG_NITRO_NET_PREFIX_MAX + 32];
	if (!n)
		return EIMG_OK;
	for (size_t i = 0; i < n->ningress; i++) {
		vsock_addr(n, cid, n->ingress[i], to, sizeof to);
		eimg_sb_printf(b, "# ingress: tcp:%s:%u -> %s\n", n->bind, (unsigned)n->ingress[i], to);
	}
	vsock_addr(n, NULL, EIMG_NET_EGRESS_VSOCK_PORT, to, sizeof to);
	eimg_sb_printf(b, "# egress: %s -> the destinations the policy allows (%zu allow, %zu deny rules)\n", to,
		       n->nallow, n->ndeny);
	return EIMG_OK;
}

static void relay_log(void *ctx, const char *line)
{
	eimg_nitro_net *n = ctx;
	char buf[600];
	if (!n->log)
		return;
	snprintf(buf, sizeof buf, "network: %s", line);
	n->log(n->log_ctx, buf);
}

static void *relay_thread(void *arg)
{
	eimg_nitro_net *n = arg;
	n->run_rc = eimg_net_relay_run(n->relay, n->stop[0], &n->run_err);
	if (n->run_rc && n->log) {
		char msg[700], line[760];
		snprintf(line, sizeof line, "network: the relay stopped: %s", eimg_error_format(&n->run_err, msg, sizeof msg));
		n->log(n->log_ctx, line);
	}
	return NULL;
}

/* Every listener, bound before the thread starts (an error names the address). */
static int listeners(eimg_nitro_net *n, uint64_t cid, eimg_error *err)
{
	char from[96], to[EIMG_NITRO_NET_PREFIX_MAX + 32], cidtxt[24];
	int rc = EIMG_OK;
	snprintf(cidtxt, sizeof cidtxt, "%" PRIu64, cid);
	for (size_t i = 0; i < n->ningress && !rc; i++) {
		snprintf(from, sizeof from, "tcp:%s:%u", n->bind, (unsigned)n->ingress[i]);
		vsock_addr(n, cidtxt, n->ingress[i], to, sizeof to);
		if ((rc = eimg_net_relay_forward(n->relay, from, to, err))) {
			eimg_err_context(err, NULL, "ingress port %u", (unsigned)n->ingress[i]);
		} else {
			char line[256];
			snprintf(line, sizeof line, "ingress %s -> %s", from, to);
			relay_log(n, line);
		}
	}
	vsock_addr(n, NULL, EIMG_NET_EGRESS_VSOCK_PORT, to, sizeof to);
	if (!rc && (rc = eimg_net_relay_proxy(n->relay, to, n->pol, NULL, err)))
		eimg_err_context(err, NULL, "the egress service");
	else if (!rc) {
		char line[256];
		snprintf(line, sizeof line, "egress service on %s: %zu allow, %zu deny rules", to, n->nallow, n->ndeny);
		relay_log(n, line);
	}
	return rc;
}

int eimg_nitro_net_start(eimg_nitro_net *n, uint64_t cid, void (*log)(void *, const char *), void *ctx,
			 eimg_error *err)
{
	int rc;
	if (!n)
		return EIMG_OK;
	n->log = log;
	n->log_ctx = ctx;
	if ((rc = eimg_net_relay_new(NULL, &n->relay, err)))
		return rc;
	eimg_net_relay_set_log(n->relay, relay_log, n);
	if ((rc = listeners(n, cid, err)))
		goto fail;
	if (pipe2(n->stop, O_CLOEXEC) != 0) {
		rc = eimg_err_sys(err, NULL, "pipe");
		goto fail;
	}
	if ((errno = pthread_create(&n->thread, NULL, relay_thread, n)) != 0) {
		rc = eimg_err_sys(err, NULL, "cannot start the network relay");
		goto fail;
	}
	n->running = true;
	return EIMG_OK;
fail:
	eimg_net_relay_free(n->relay);
	n->relay = NULL;
	return rc;
}

void eimg_nitro_net_stop(eimg_nitro_net *n)
{
	if (!n)
		return;
	if (n->running) {
		(void)!write(n->stop[1], "x", 1);
		pthread_join(n->thread, NULL);
		n->running = false;
	}
	eimg_net_relay_free(n->relay);
	n->relay = NULL;
	for (int i = 0; i < 2; i++)
		if (n->stop[i] >= 0) {
			close(n->stop[i]);
			n->stop[i] = -1;
		}
}

void eimg_nitro_net_free(eimg_nitro_net *n)
{
	if (!n)
		return;
	eimg_nitro_net_stop(n);
	eimg_net_policy_free(n->pol);
	free(n->ingress);
	free(n);
}
