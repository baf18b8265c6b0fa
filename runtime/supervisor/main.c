/* SPDX-License-Identifier: Apache-2.0 */
/* eimg-supervisor: runs inside a Nitro enclave as the image's command
 * (enclave-nitro(7)).  It reads the canonical manifest from the ramdisk,
 * starts the entrypoint with the measured environment and HTTP(S)_PROXY,
 * forwards each ingress port from vsock to the application on loopback,
 * runs the egress proxy that applies the manifest's policy and sends allowed
 * connections to the host over vsock, reaps every child, and exits with the
 * application's status.  Log lines go to /dev/console, which only an enclave
 * started in debug mode shows (nitro-cli console). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "eimg/net.h"
#include "supervisor.h"

#define PROG "eimg-supervisor"

struct sup {
	const char *manifest, *egress_via, *ingress_from, *proxy_listen, *log_path;
	int log_fd;
	pid_t app;
	int app_status;
};

static int sig_pipe[2] = { -1, -1 };

static void on_signal(int s)
{
	unsigned char b = (unsigned char)s;
	int saved = errno;
	(void)!write(sig_pipe[1], &b, 1);
	errno = saved;
}

static void log_line(void *ctx, const char *line)
{
	const struct sup *s = ctx;
	char buf[640];
	int n;
	if (s->log_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), PROG ": %s\n", line);
	if (n > 0)
		(void)!write(s->log_fd, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

static void logf_(struct sup *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct sup *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_line(s, line);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [options]\n"
		   "Runs a Nitro image's application inside the enclave under the manifest's network policy.\n"
		   "  --manifest PATH        the canonical manifest (default /etc/enclave/manifest.json)\n"
		   "  --egress-via ADDR      the host's egress service (default vsock:3:17002)\n"
		   "  --ingress-from PREFIX  where ingress port P is listened on: PREFIX:P (default vsock:any)\n"
		   "  --proxy-listen ADDR    the egress proxy for the application (default tcp:127.0.0.1:10000)\n"
		   "  --log PATH             log lines to PATH, - for standard error, none for nowhere\n"
		   "                         (default /dev/console: shown only for enclaves in debug mode)\n"
		   "  --help                 this text\n"
		   "  --version              the version\n"
		   "Transport addresses: vsock:CID:PORT, tcp:IP:PORT, unix:PATH.\n");
}

static int options(int argc, char **argv, struct sup *s)
{
	static const struct option opts[] = {
		{ "manifest", required_argument, NULL, 'm' },     { "egress-via", required_argument, NULL, 'e' },
		{ "ingress-from", required_argument, NULL, 'i' }, { "proxy-listen", required_argument, NULL, 'p' },
		{ "log", required_argument, NULL, 'l' },          { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },            { NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'm': s->manifest = optarg; break;
		case 'e': s->egress_via = optarg; break;
		case 'i': s->ingress_from = optarg; break;
		case 'p': s->proxy_listen = optarg; break;
		case 'l': s->log_path = optarg; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf(PROG " " EIMG_VERSION "\n"); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (strncmp(s->proxy_listen, "tcp:", 4)) {
		fprintf(stderr, PROG ": --proxy-listen: expected tcp:IP:PORT (it becomes HTTP_PROXY)\n");
		return 2;
	}
	return 0;
}

static void open_log(struct sup *s)
{
	if (!strcmp(s->log_path, "none"))
		s->log_fd = -1;
	else if (!strcmp(s->log_path, "-"))
		s->log_fd = STDERR_FILENO;
	else
		s->log_fd = open(s->log_path, O_WRONLY | O_APPEND | O_NOCTTY | O_CLOEXEC);
}

/* The proxy and the ingress forwards, listening before the application starts. */
static int listeners(struct sup *s, const struct sup_manifest *m, eimg_net_relay *r, const eimg_net_policy *pol,
		     eimg_error *err)
{
	int rc = eimg_net_relay_proxy(r, s->proxy_listen, pol, s->egress_via, err);
	for (size_t i = 0; !rc && i < m->ningress; i++) {
		char from[160], to[64];
		snprintf(from, sizeof(from), "%s:%u", s->ingress_from, (unsigned)m->ingress[i]);
		snprintf(to, sizeof(to), "tcp:127.0.0.1:%u", (unsigned)m->ingress[i]);
		rc = eimg_net_relay_forward(r, from, to, err);
		if (!rc)
			logf_(s, "ingress %s -> %s", from, to);
	}
	if (!rc)
		logf_(s, "egress proxy on %s via %s: %zu allow, %zu deny rules", s->proxy_listen, s->egress_via,
		      m->nallow, m->ndeny);
	return rc;
}

/* The enclave's loopback interface is down at boot (nitro-cli's init leaves it
 * so); the proxy and the application's ports live on it. */
static void loopback_up(struct sup *s)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		logf_(s, "cannot read the flags of lo: %s", strerror(errno));
	} else if (!(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			logf_(s, "cannot bring lo up: %s", strerror(errno));
		else
			logf_(s, "lo is up");
	}
	if (fd >= 0)
		close(fd);
}

static int signals(void)
{
	struct sigaction sa;
	static const int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -1;
	(void)signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* Signals since the last call: stops forwarded to the application, children
 * reaped.  true when the application has exited. */
static bool handle_signals(struct sup *s)
{
	unsigned char b[64];
	ssize_t n;
	int st;
	pid_t p;
	while ((n = read(sig_pipe[0], b, sizeof(b))) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (b[i] != SIGCHLD && s->app > 0)
				kill(s->app, b[i]);
	while ((p = waitpid(-1, &st, WNOHANG)) > 0) {
		if (p == s->app) {
			s->app_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
			s->app = 0;
		}
	}
	return s->app == 0;
}

static int run(struct sup *s, eimg_error *err)
{
	struct sup_manifest m;
	eimg_net_policy *pol = NULL;
	eimg_net_relay *r = NULL;
	char url[160];
	int rc;
	snprintf(url, sizeof(url), "http://%s", s->proxy_listen + 4);
	if ((rc = sup_manifest_read(s->manifest, url, &m, err)))
		return rc;
	loopback_up(s);
	if ((rc = eimg_net_policy_new(m.allow, m.nallow, m.deny, m.ndeny, &pol, err)) ||
	    (rc = eimg_net_relay_new(NULL, &r, err)))
		goto out;
	eimg_net_relay_set_log(r, log_line, s);
	if ((rc = listeners(s, &m, r, pol, err)) || (rc = sup_spawn(&m, &s->app, err)))
		goto out;
	logf_(s, "started %s (pid %d)", m.argv[0], (int)s->app);
	while (!(rc = eimg_net_relay_run(r, sig_pipe[0], err)))
		if (handle_signals(s))
			break;
	if (!rc)
		logf_(s, "%s exited with status %d", m.argv[0], s->app_status);
out:
	if (rc && s->app > 0) {
		kill(s->app, SIGTERM);
		waitpid(s->app, NULL, 0);
	}
	eimg_net_relay_free(r);
	eimg_net_policy_free(pol);
	sup_manifest_free(&m);
	return rc;
}

int main(int argc, char **argv)
{
	struct sup s = { "/etc/enclave/manifest.json", "vsock:3:17002", "vsock:any", "tcp:127.0.0.1:10000",
			 "/dev/console", -1, 0, 0 };
	eimg_error err;
	char msg[EIMG_ERROR_MSG_MAX + EIMG_ERROR_FILE_MAX + 64];
	int rc;
	eimg_error_clear(&err);
	if ((rc = options(argc, argv, &s)))
		return rc;
	open_log(&s);
	if (signals() < 0) {
		perror(PROG ": cannot set up signals");
		return 1;
	}
	if ((rc = run(&s, &err))) {
		eimg_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, PROG ": %s\n", msg);
		if (s.log_fd != STDERR_FILENO)
			logf_(&s, "%s", msg);
		return 1;
	}
	return s.app_status;
}
