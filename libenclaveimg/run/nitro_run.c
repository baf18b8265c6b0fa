/* SPDX-License-Identifier: Apache-2.0 */
/* Nitro hand-off: verify an EIF, then start, watch and stop it through
 * nitro-cli.  API and behaviour: eimg/nitro_run.h, enclave-run(1).  Quoting
 * the commands and reading nitro-cli's JSON answers are in nitro_cli.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eimg/manifest.h"
#include "eimg/measure.h"
#include "eimg/nitro_run.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "run/nitro_net_int.h"
#include "run/sealed.h"

extern char **environ;

struct eimg_nitro_launch {
	struct eimg_nitro_run_options o;
	char *source;             /* as given, for messages */
	struct eimg_sealed eif;   /* the verified bytes, sealed; closed once run-enclave returned */
	eimg_nitro_report *rep;
	eimg_nitro_net *net;      /* the host side of the network policy; NULL: none */
	uint32_t cpus;
	uint64_t memory_mib;
};

/* ------------------------------------------------------------ opening */

static int resolve(eimg_nitro_launch *l, uint32_t dflt_cpus, uint64_t dflt_mib, const char *what, eimg_error *err)
{
	l->cpus = l->o.cpus ? l->o.cpus : dflt_cpus;
	l->memory_mib = l->o.memory_mib ? l->o.memory_mib : dflt_mib;
	if (l->cpus == 0 || l->cpus > EIMG_NITRO_MAX_CPUS)
		return eimg_err(err, EIMG_EUSAGE, l->source, "%s gives no usable CPU count: give --cpus N (1 to %d)", what,
				EIMG_NITRO_MAX_CPUS);
	if (l->memory_mib < 64 || l->memory_mib > EIMG_NITRO_MAX_MEMORY_MIB)
		return eimg_err(err, EIMG_EUSAGE, l->source, "%s gives no usable memory size: give --memory MiB (64 to %llu)",
				what, (unsigned long long)EIMG_NITRO_MAX_MEMORY_MIB);
	if (l->o.has_cid && (l->o.cid < 4 || l->o.cid > UINT32_MAX - 1))
		return eimg_err(err, EIMG_EUSAGE, NULL, "--enclave-cid: expected 4 to %u, got %llu", UINT32_MAX - 1,
				(unsigned long long)l->o.cid);
	return EIMG_OK;
}

/* The checks every input gets after its audit. */
static int judge(eimg_nitro_launch *l, eimg_error *err)
{
	int rc = eimg_nitro_report_verdict(l->rep, err);
	if (rc)
		return rc;
	if (l->o.require_signature && !l->rep->is_signed)
		return eimg_err(err, EIMG_EVERIFY, l->source,
				"the EIF is not signed (--require-signature): sign it with 'enclave-sign -k KEY --cert CERT'");
	/* the manifest inside the verified ramdisk says whether there is a policy to serve */
	if ((rc = eimg_nitro_net_open(l->rep->manifest, l->rep->manifest_len, l->o.ingress_bind, &l->net, err)))
		eimg_err_context(err, l->source, "network policy");
	return rc;
}

static eimg_nitro_launch *launch_new(const char *source, const struct eimg_nitro_run_options *o)
{
	eimg_nitro_launch *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->o = *o;
	if (!l->o.nitro_cli)
		l->o.nitro_cli = EIMG_NITRO_CLI_DEFAULT;
	if (!l->o.watch_ms)
		l->o.watch_ms = EIMG_NITRO_WATCH_DEFAULT;
	l->eif.fd = -1;
	if (!(l->source = strdup(source))) {
		free(l);
		return NULL;
	}
	return l;
}

int eimg_nitro_launch_open_eif(const char *path, const struct eimg_nitro_run_options *o, eimg_nitro_launch **out,
			       eimg_error *err)
{
	eimg_nitro_launch *l = launch_new(path, o);
	int rc;
	if (!l)
		return eimg_err_nomem(err);
	/* Verify a private sealed copy, and hand that same copy to nitro-cli:
	 * the file at path may change once it has been read. */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = eimg_err_sys(err, path, "cannot open");
		goto fail;
	}
	eimg_input_note_fd(fd, path);
	rc = eimg_sealed_from_fd(fd, path, EIMG_EIF_MAX_FILE, &l->eif, err);
	close(fd);
	struct eimg_nitro_audit_opts ao = { .progress = l->o.progress };
	if (rc || (rc = eimg_nitro_audit_buffer(path, l->eif.map, l->eif.len, &ao, &l->rep, err)) ||
	    (rc = judge(l, err)))
		goto fail;
	/* The header's defaults (nitro-cli's builder writes 1 GiB and 2 CPUs,
	 * enclave-build the manifest's values). */
	uint64_t mem = l->rep->layout.default_mem, cpus = l->rep->layout.default_cpus;
	uint64_t mib = mem / (1ull << 20) + (mem % (1ull << 20) != 0);
	if ((rc = resolve(l, cpus <= EIMG_NITRO_MAX_CPUS ? (uint32_t)cpus : 0, mib, "the EIF header", err)))
		goto fail;
	*out = l;
	return EIMG_OK;
fail:
	eimg_nitro_launch_free(l);
	return rc;
}

int eimg_nitro_launch_open_image(const eimg_image *img, const char *source, const struct eimg_nitro_run_options *o,
				 eimg_nitro_launch **out, eimg_error *err)
{
	eimg_nitro_launch *l = launch_new(source, o);
	eimg_manifest *m = NULL;
	struct eimg_nitro_audit_opts ao = { .progress = o->progress };
	int rc;
	if (!l)
		return eimg_err_nomem(err);
	/* recomputes every PCR, compares with measurement.json and with the
	 * manifest copy inside the ramdisk */
	if ((rc = eimg_nitro_image_open_opts(img, source, &ao, &l->rep, err)) || (rc = judge(l, err)))
		goto fail;
	size_t mlen;
	const char *mtext = eimg_image_manifest(img, &mlen);
	rc = eimg_manifest_parse_buffer("manifest.json", mtext, mlen, NULL, &m, err);
	if (rc) {
		eimg_err_context(err, source, "manifest.json");
		goto fail;
	}
	/* The image's EIF, copied into a sealed private file; the copy is what
	 * runs, so it is measured again and must give what was verified. */
	const uint8_t *ep;
	eimg_nitro_report *again = NULL;
	if ((rc = eimg_blob_map(eimg_image_eif(img), &ep, source, err)) ||
	    (rc = eimg_sealed_from_buffer(ep, (size_t)eimg_blob_size(eimg_image_eif(img)), source, &l->eif, err)) ||
	    (rc = eimg_nitro_audit_buffer(source, l->eif.map, l->eif.len, &ao, &again, err)))
		goto fail;
	bool same = memcmp(again->pcr0, l->rep->pcr0, 48) == 0 && memcmp(again->pcr1, l->rep->pcr1, 48) == 0 &&
		    memcmp(again->pcr2, l->rep->pcr2, 48) == 0 && memcmp(again->pcr8, l->rep->pcr8, 48) == 0 &&
		    again->crc_computed == l->rep->crc_computed;
	eimg_nitro_report_free(again);
	if (!same) {
		rc = eimg_err(err, EIMG_EVERIFY, source, "the image's EIF changed while it was being verified");
		goto fail;
	}
	if ((rc = resolve(l, m->nitro.cpus, m->nitro.memory_mib, "the manifest", err)))
		goto fail;
	eimg_manifest_free(m);
	*out = l;
	return EIMG_OK;
fail:
	eimg_manifest_free(m);
	eimg_nitro_launch_free(l);
	return rc;
}

const eimg_nitro_report *eimg_nitro_launch_report(const eimg_nitro_launch *l) { return l->rep; }
uint32_t eimg_nitro_launch_cpus(const eimg_nitro_launch *l) { return l->cpus; }
uint64_t eimg_nitro_launch_memory_mib(const eimg_nitro_launch *l) { return l->memory_mib; }

void eimg_nitro_launch_free(eimg_nitro_launch *l)
{
	if (!l)
		return;
	eimg_sealed_close(&l->eif);
	eimg_nitro_report_free(l->rep);
	eimg_nitro_net_free(l->net);
	free(l->source);
	free(l);
}

/* ------------------------------------------------------------ commands */

#define MAX_ARGS 16

struct cmd {
	const char *argv[MAX_ARGS + 1];
	char num[4][32];
	int argc;
};

static void cmd_add(struct cmd *c, const char *a)
{
	if (c->argc < MAX_ARGS)
		c->argv[c->argc++] = a;
	c->argv[c->argc] = NULL;
}

static void run_enclave_cmd(const eimg_nitro_launch *l, const char *eif_path, struct cmd *c)
{
	memset(c, 0, sizeof(*c));
	cmd_add(c, l->o.nitro_cli);
	cmd_add(c, "run-enclave");
	cmd_add(c, "--eif-path");
	cmd_add(c, eif_path);
	snprintf(c->num[0], sizeof c->num[0], "%" PRIu32, l->cpus);
	snprintf(c->num[1], sizeof c->num[1], "%" PRIu64, l->memory_mib);
	cmd_add(c, "--cpu-count");
	cmd_add(c, c->num[0]);
	cmd_add(c, "--memory");
	cmd_add(c, c->num[1]);
	if (l->o.has_cid) {
		snprintf(c->num[2], sizeof c->num[2], "%" PRIu64, l->o.cid);
		cmd_add(c, "--enclave-cid");
		cmd_add(c, c->num[2]);
	}
	if (l->o.debug)
		cmd_add(c, "--debug-mode");
}

static void id_cmd(const eimg_nitro_launch *l, const char *verb, const char *id, struct cmd *c)
{
	memset(c, 0, sizeof(*c));
	cmd_add(c, l->o.nitro_cli);
	cmd_add(c, verb);
	cmd_add(c, "--enclave-id");
	cmd_add(c, id);
}

static int append_cmd(struct eimg_sb *b, const struct cmd *c, eimg_error *err)
{
	for (int i = 0; i < c->argc; i++) {
		char q[2 * PATH_MAX + 8];
		if (eimg_shell_quote(c->argv[i], q, sizeof q) != 0)
			return eimg_err(err, EIMG_EINVAL, NULL, "argument too long: %.40s...", c->argv[i]);
		eimg_sb_printf(b, "%s%c", q, i + 1 < c->argc ? ' ' : '\n');
	}
	return EIMG_OK;
}

int eimg_nitro_launch_commands(const eimg_nitro_launch *l, char **text, eimg_error *err)
{
	char path[PATH_MAX];
	struct cmd c;
	struct eimg_sb b = { 0 };
	int rc;
	snprintf(path, sizeof path, "%s", EIMG_NITRO_EIF_PLACEHOLDER);
	run_enclave_cmd(l, path, &c);
	rc = append_cmd(&b, &c, err);
	if (rc == EIMG_OK && l->o.debug) {
		id_cmd(l, "console", EIMG_NITRO_ID_PLACEHOLDER, &c);
		rc = append_cmd(&b, &c, err);
	}
	if (rc == EIMG_OK)
		rc = eimg_nitro_net_describe(l->net, EIMG_NITRO_CID_PLACEHOLDER, &b);
	char *t = eimg_sb_done(&b);
	if (rc == EIMG_OK && !t)
		rc = eimg_err_nomem(err);
	if (rc) {
		free(t);
		return rc;
	}
	*text = t;
	return EIMG_OK;
}

/* ------------------------------------------------------------ processes */

struct captured {
	char *out, *errt;
	size_t out_len, err_len;
	int status;
	bool interrupted;         /* stopped because stop_fd became readable */
	bool timed_out;           /* killed after the time limit */
};

/* How long one describe-enclaves may take before it counts as a failure. */
#define DESCRIBE_TIMEOUT_MS 60000

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void captured_free(struct captured *c)
{
	free(c->out);
	free(c->errt);
	memset(c, 0, sizeof(*c));
}

static int spawn_error(const eimg_nitro_launch *l, int e, eimg_error *err)
{
	if (e == ENOENT && !strchr(l->o.nitro_cli, '/'))
		return eimg_err(err, EIMG_EIO, l->o.nitro_cli,
				"not found in PATH: install the AWS Nitro Enclaves CLI (aws-nitro-enclaves-cli) or give --nitro-cli PATH");
	errno = e;
	return eimg_err_sys(err, l->o.nitro_cli, "cannot run");
}

/* Starts argv with stdin /dev/null, stdout/stderr to out_fd/err_fd, default
 * signal dispositions and an empty mask. */
static int spawn(const eimg_nitro_launch *l, const struct cmd *c, int out_fd, int err_fd, pid_t *pid, eimg_error *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int e;

	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGQUIT);
	sigaddset(&dfl, SIGCHLD);
	if (posix_spawn_file_actions_init(&fa) != 0)
		return eimg_err_nomem(err);
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return eimg_err_nomem(err);
	}
	e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!e && out_fd != 1)
		e = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!e && err_fd != 2)
		e = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	/* The sealed EIF stays open in the child (dup2 onto itself clears
	 * close-on-exec), so that /proc/self/fd/N names it there. */
	if (!e && l->eif.fd >= 0)
		e = posix_spawn_file_actions_adddup2(&fa, l->eif.fd, l->eif.fd);
	if (!e)
		e = posix_spawnattr_setsigmask(&at, &none);
	if (!e)
		e = posix_spawnattr_setsigdefault(&at, &dfl);
	if (!e)
		e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (!e) {
		fflush(NULL);
		char *const *argv = (char *const *)(uintptr_t)c->argv;
		e = strchr(c->argv[0], '/') ? posix_spawn(pid, c->argv[0], &fa, &at, argv, environ)
					    : posix_spawnp(pid, c->argv[0], &fa, &at, argv, environ);
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	return e ? spawn_error(l, e, err) : EIMG_OK;
}

static int wait_child(pid_t pid)
{
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return st;
}

/* Appends what fd has to *buf (keeping at most EIMG_NITRO_MAX_OUTPUT bytes);
 * 1 at EOF or error. */
static int drain(int fd, char **buf, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(fd, tmp, sizeof tmp);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return 1;
	size_t keep = *len < EIMG_NITRO_MAX_OUTPUT ? EIMG_NITRO_MAX_OUTPUT - *len : 0;
	if (keep > (size_t)n)
		keep = (size_t)n;
	if (keep) {
		char *p = realloc(*buf, *len + keep + 1);
		if (!p)
			return 0;   /* drop the bytes, keep reading */
		*buf = p;
		memcpy(*buf + *len, tmp, keep);
		*len += keep;
		(*buf)[*len] = '\0';
	}
	return 0;
}

/* Runs a command to its end, collecting its output.  With watch (the
 * describe-enclaves poll) the command is killed when stop_fd becomes
 * readable (interrupted) or after DESCRIBE_TIMEOUT_MS (timed_out). */
static int run_capture(const eimg_nitro_launch *l, const struct cmd *c, bool watch, struct captured *cap,
		       eimg_error *err)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	pid_t pid;
	int rc;
	memset(cap, 0, sizeof(*cap));
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		rc = eimg_err_sys(err, NULL, "pipe");
		goto out;
	}
	if ((rc = spawn(l, c, po[1], pe[1], &pid, err)))
		goto out;
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	bool oe = false, ee = false, killed = false;
	int64_t deadline = now_ms() + DESCRIBE_TIMEOUT_MS;
	while (!oe || !ee) {
		struct pollfd p[3] = { { oe ? -1 : po[0], POLLIN, 0 }, { ee ? -1 : pe[0], POLLIN, 0 },
				       { watch && !killed ? l->o.stop_fd : -1, POLLIN, 0 } };
		int64_t left = deadline - now_ms();
		int pr = poll(p, 3, watch && !killed ? (int)(left > 0 ? left : 0) : -1);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (watch && !killed && (pr == 0 || p[2].revents)) {
			/* the stop request itself stays readable for the caller */
			if (pr == 0)
				cap->timed_out = true;
			else
				cap->interrupted = true;
			kill(pid, SIGKILL);
			killed = true;
			continue;
		}
		if (p[0].revents && drain(po[0], &cap->out, &cap->out_len))
			oe = true;
		if (p[1].revents && drain(pe[0], &cap->errt, &cap->err_len))
			ee = true;
	}
	cap->status = wait_child(pid);
	if (cap->status < 0)
		rc = eimg_err_sys(err, l->o.nitro_cli, "waitpid");
out:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (rc)
		captured_free(cap);
	return rc;
}

/* One line of nitro-cli's output: its own error line "[ Exx ] ..." (error
 * output first, then standard output); failing that the last non-empty
 * line of its error output, then of its standard output. */
static bool find_line(const char *s, size_t len, bool want_code, const char **line, size_t *n)
{
	bool found = false;
	for (const char *p = s, *end = s ? s + len : NULL; p && p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end, *q = p;
		while (q < e && (*q == ' ' || *q == '\t' || *q == '\r'))
			q++;
		size_t k = (size_t)(e - q);
		while (k && (q[k - 1] == ' ' || q[k - 1] == '\r' || q[k - 1] == '\t'))
			k--;
		if (k && (!want_code || (k >= 3 && q[0] == '[' && q[1] == ' ' && q[2] == 'E'))) {
			*line = q;
			*n = k;
			found = true;
			if (want_code)
				return true;
		}
		p = nl ? nl + 1 : end;
	}
	return found;
}

static void error_line(const struct captured *c, char *out, size_t cap)
{
	const char *line;
	size_t n;
	if (find_line(c->errt, c->err_len, true, &line, &n) || find_line(c->out, c->out_len, true, &line, &n) ||
	    find_line(c->errt, c->err_len, false, &line, &n) || find_line(c->out, c->out_len, false, &line, &n))
		eimg_escape(line, n, out, cap);
	else
		snprintf(out, cap, "no output");
}

static void status_text(int st, char *out, size_t cap)
{
	if (WIFEXITED(st))
		snprintf(out, cap, "exit status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, cap, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
	else
		snprintf(out, cap, "status %d", st);
}

static bool succeeded(const struct captured *c)
{
	return WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0;
}

static int cli_failed(const eimg_nitro_launch *l, const char *verb, const struct captured *c, eimg_error *err)
{
	char line[400], st[96];
	error_line(c, line, sizeof line);
	status_text(c->status, st, sizeof st);
	return eimg_err(err, EIMG_EIO, l->o.nitro_cli, "%s failed (%s): %s", verb, st, line);
}

/* ------------------------------------------------------------ running */

static void event(const eimg_nitro_launch *l, const char *fmt, ...) EIMG_PRINTF(2, 3);
static void event(const eimg_nitro_launch *l, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (!l->o.on_event)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	l->o.on_event(l->o.event_ctx, buf);
}

static bool stop_requested(const eimg_nitro_launch *l, int timeout_ms)
{
	if (l->o.stop_fd < 0) {
		if (timeout_ms > 0) {
			struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
			while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
				;
		}
		return false;
	}
	struct pollfd p = { l->o.stop_fd, POLLIN, 0 };
	int r;
	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	return r > 0;
}

/* 1 running, 0 gone or not RUNNING (state filled), -1 describe failed (err). */
static int describe(const eimg_nitro_launch *l, const char *id, char *state, size_t scap, eimg_error *err)
{
	struct cmd c;
	struct captured cap;
	memset(&c, 0, sizeof c);
	cmd_add(&c, l->o.nitro_cli);
	cmd_add(&c, "describe-enclaves");
	if (run_capture(l, &c, true, &cap, err))
		return -1;
	if (cap.interrupted) {   /* the caller sees the stop request next */
		captured_free(&cap);
		return 1;
	}
	if (cap.timed_out) {
		eimg_err(err, EIMG_EIO, l->o.nitro_cli, "describe-enclaves did not answer within %d seconds",
			 DESCRIBE_TIMEOUT_MS / 1000);
		captured_free(&cap);
		return -1;
	}
	if (!succeeded(&cap)) {
		cli_failed(l, "describe-enclaves", &cap, err);
		captured_free(&cap);
		return -1;
	}
	int r = eimg_nitro_parse_describe(cap.out, cap.out_len, id, state, scap, err);
	if (r < 0 && err) {
		err->code = EIMG_EIO;
		snprintf(err->file, sizeof err->file, "%s", l->o.nitro_cli);
	}
	captured_free(&cap);
	return r;
}

static int terminate(const eimg_nitro_launch *l, const char *id, eimg_error *err)
{
	struct cmd c;
	struct captured cap;
	id_cmd(l, "terminate-enclave", id, &c);
	int rc = run_capture(l, &c, false, &cap, err);
	if (rc == EIMG_OK && !succeeded(&cap))
		rc = cli_failed(l, "terminate-enclave", &cap, err);
	captured_free(&cap);
	return rc;
}

static void stop_console(pid_t *console)
{
	if (*console <= 0)
		return;
	kill(*console, SIGTERM);
	wait_child(*console);
	*console = 0;
}

/* A step after the enclave started failed (cerr): terminate it, and say
 * whether that worked. */
static void abandon(const eimg_nitro_launch *l, const struct eimg_nitro_run_result *res, const char *what,
		    eimg_error *cerr, eimg_error *err)
{
	eimg_error e2;
	int trc = terminate(l, res->enclave_id, &e2);
	eimg_err_context(cerr, NULL, "%s (the enclave %s)", what, trc ? "could not be terminated" : "was terminated");
	if (err)
		*err = *cerr;
}

int eimg_nitro_launch_run(eimg_nitro_launch *l, struct eimg_nitro_run_result *res, eimg_error *err)
{
	struct cmd c;
	struct captured cap;
	pid_t console = 0;
	int rc;

	memset(res, 0, sizeof(*res));
	if (stop_requested(l, 0)) {   /* asked to stop before anything started */
		event(l, "stopped before the enclave was started");
		res->end = EIMG_NITRO_TERMINATED;
		return EIMG_OK;
	}
	if (l->eif.fd < 0)
		return eimg_err(err, EIMG_EUSAGE, l->source, "the launch has run already");
	char eif_path[64];
	snprintf(eif_path, sizeof eif_path, "/proc/self/fd/%d", l->eif.fd);
	run_enclave_cmd(l, eif_path, &c);
	rc = run_capture(l, &c, false, &cap, err);
	eimg_sealed_close(&l->eif);   /* the enclave is loaded (or not): the copy is not needed any more */
	if (rc)
		return rc;
	if (!succeeded(&cap)) {
		rc = cli_failed(l, "run-enclave", &cap, err);
		captured_free(&cap);
		return rc;
	}
	if ((rc = eimg_nitro_parse_run_answer(cap.out, cap.out_len, res, err))) {
		if (err) {
			err->code = rc = EIMG_EIO;
			snprintf(err->file, sizeof err->file, "%s", l->o.nitro_cli);
		}
		goto out;
	}
	event(l, "started enclave %s: CID %" PRIu64 ", %" PRIu32 " CPUs, %" PRIu64 " MiB%s", res->enclave_id, res->cid,
	      res->cpus, res->memory_mib, l->o.debug ? ", debug mode (attestations carry zero PCRs)" : "");

	if (l->o.debug) {
		struct cmd cc;
		id_cmd(l, "console", res->enclave_id, &cc);
		eimg_error cerr;
		if ((rc = spawn(l, &cc, 1, 2, &console, &cerr))) {
			abandon(l, res, "console", &cerr, err);
			goto out;
		}
	}
	if (l->net) {
		eimg_error nerr;
		if ((rc = eimg_nitro_net_start(l->net, res->cid, l->o.on_event, l->o.event_ctx, &nerr))) {
			stop_console(&console);
			abandon(l, res, "network", &nerr, err);
			goto out;
		}
	}

	unsigned failures = 0;
	bool first = true;
	for (;;) {
		if (stop_requested(l, first ? 0 : (int)l->o.watch_ms)) {
			event(l, "terminating enclave %s", res->enclave_id);
			stop_console(&console);
			if ((rc = terminate(l, res->enclave_id, err)))
				goto out;
			res->end = EIMG_NITRO_TERMINATED;
			break;
		}
		first = false;
		if (console > 0) {   /* the console ends with the enclave: reap it */
			int st;
			if (waitpid(console, &st, WNOHANG) == console)
				console = 0;
		}
		eimg_error derr;
		int d = describe(l, res->enclave_id, res->state, sizeof res->state, &derr);
		if (d < 0) {
			if (++failures < EIMG_NITRO_DESCRIBE_TRIES)
				continue;
			stop_console(&console);
			eimg_error e2;
			int trc = terminate(l, res->enclave_id, &e2);
			eimg_err_context(&derr, NULL, "watching enclave %s (%u failures in a row; the enclave %s)",
					 res->enclave_id, failures, trc ? "could not be terminated" : "was terminated");
			if (err)
				*err = derr;
			rc = derr.code ? derr.code : EIMG_EIO;
			goto out;
		}
		failures = 0;
		if (d == 0) {
			if (res->state[0])
				event(l, "enclave %s ended (state %s)", res->enclave_id, res->state);
			else
				event(l, "enclave %s ended", res->enclave_id);
			res->end = EIMG_NITRO_ENDED;
			break;
		}
	}
	rc = EIMG_OK;
out:
	eimg_nitro_net_stop(l->net);
	stop_console(&console);
	captured_free(&cap);
	return rc;
}
