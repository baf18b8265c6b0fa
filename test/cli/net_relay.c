/* SPDX-License-Identifier: Apache-2.0 */
/* A test driver over the network engine (eimg/net.h), compiled by
 * test_supervisor.sh: the host side's egress service and ingress forwards,
 * with small limits for the hostile cases.  Log lines to standard error;
 * "ready" on standard output once every listener is bound; stops on SIGTERM.
 *   net_relay [--proxy LISTEN [--via ADDR]] [--forward LISTEN TO]... [--allow P]... [--deny P]...
 *             [--header-timeout MS] [--conns-max N] [--idle-timeout MS] [--connect-timeout MS] */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <eimg/net.h>

#define MAX 64

static int stop_pipe[2];

static void on_term(int s)
{
	(void)s;
	(void)!write(stop_pipe[1], "x", 1);
}

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "net_relay: %s\n", line);
}

int main(int argc, char **argv)
{
	char *allow[MAX], *deny[MAX];
	const char *proxy = NULL, *via = NULL, *fwd[MAX][2];
	size_t na = 0, nd = 0, nf = 0;
	struct eimg_net_limits lim;
	eimg_net_policy *pol = NULL;
	eimg_net_relay *r = NULL;
	eimg_error err;
	char msg[1024];
	int rc;
	memset(&lim, 0, sizeof(lim));
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			goto usage;
		i++;
		if (!strcmp(o, "--proxy")) proxy = v;
		else if (!strcmp(o, "--via")) via = v;
		else if (!strcmp(o, "--allow") && na < MAX) allow[na++] = (char *)v;
		else if (!strcmp(o, "--deny") && nd < MAX) deny[nd++] = (char *)v;
		else if (!strcmp(o, "--header-timeout")) lim.header_timeout_ms = (unsigned)atoi(v);
		else if (!strcmp(o, "--connect-timeout")) lim.connect_timeout_ms = (unsigned)atoi(v);
		else if (!strcmp(o, "--idle-timeout")) lim.idle_timeout_ms = (unsigned)atoi(v);
		else if (!strcmp(o, "--conns-max")) lim.conns_max = (unsigned)atoi(v);
		else if (!strcmp(o, "--forward") && i + 1 < argc && nf < MAX) {
			fwd[nf][0] = v;
			fwd[nf++][1] = argv[++i];
		} else
			goto usage;
	}
	if (pipe(stop_pipe) < 0)
		return 1;
	signal(SIGTERM, on_term);
	signal(SIGPIPE, SIG_IGN);
	if ((rc = eimg_net_policy_new(allow, na, deny, nd, &pol, &err)) || (rc = eimg_net_relay_new(&lim, &r, &err)))
		goto fail;
	eimg_net_relay_set_log(r, log_line, NULL);
	if (proxy && (rc = eimg_net_relay_proxy(r, proxy, pol, via, &err)))
		goto fail;
	for (size_t i = 0; i < nf; i++)
		if ((rc = eimg_net_relay_forward(r, fwd[i][0], fwd[i][1], &err)))
			goto fail;
	printf("ready\n");
	fflush(stdout);
	rc = eimg_net_relay_run(r, stop_pipe[0], &err);
fail:
	if (rc)
		fprintf(stderr, "net_relay: %s\n", eimg_error_format(&err, msg, sizeof(msg)));
	eimg_net_relay_free(r);
	eimg_net_policy_free(pol);
	return rc ? 1 : 0;
usage:
	fprintf(stderr, "usage: net_relay [--proxy L [--via A]] [--forward L T]... [--allow P]... [--deny P]...\n");
	return 2;
}
