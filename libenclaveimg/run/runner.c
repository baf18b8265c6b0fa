/* SPDX-License-Identifier: Apache-2.0 */
/* The runner (enclave-run): one poll loop that reads client messages (stdin
 * or a listening socket), hands them to the enclave's workers (a sandboxed
 * child process in simulation, threads of this process in mock mode and on
 * SGX hardware), writes the replies back in request order, relays enclave
 * log lines, and supervises the child.  The backends differ only in how
 * the enclave is loaded and in their struct eimg_run_engine (sim_int.h). */
#include <errno.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eimg/sgx_hw.h"
#include "eimg/sigstruct.h"
#include "eimg/sim.h"
#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "run/sgx_hw_int.h"
#include "run/sim_int.h"

#define RBUF 65536
#define STDIO_WCHUNK 4096   /* at most PIPE_BUF per write on a blocking stdout */

struct buf {
	uint8_t *p;
	size_t off, len, cap;   /* data is p[off, len) */
};

static int buf_reserve(struct buf *b, size_t more)
{
	if (b->off && b->off == b->len)
		b->off = b->len = 0;
	if (b->cap - b->len >= more)
		return 0;
	if (b->off) {   /* compact */
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->cap - b->len >= more)
			return 0;
	}
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < more) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	uint8_t *n = realloc(b->p, cap);
	if (!n)
		return -1;
	b->p = n;
	b->cap = cap;
	return 0;
}

static int buf_put(struct buf *b, const void *p, size_t len)
{
	if (buf_reserve(b, len))
		return -1;
	if (len)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}

static size_t buf_avail(const struct buf *b) { return b->len - b->off; }
static void buf_free(struct buf *b) { free(b->p); memset(b, 0, sizeof *b); }

struct client;

struct req {
	struct client *c;         /* NULL once the client went away */
	struct req *cnext;        /* client's FIFO, in request order */
	struct req *qnext;        /* global queue or a channel's in-flight FIFO */
	uint8_t *msg;
	size_t len;
	bool done;
	uint32_t code;            /* EIMG_FRAME_* */
	uint8_t *reply;
	size_t reply_len;
};

struct client {
	int in_fd, out_fd;
	bool is_stdio, eof, closing, dead;
	bool out_nonblock;        /* writes never block: try them right away */
	int write_errno;          /* why writing to the client failed, 0 if it did not */
	int out_saved_flags;      /* stdout's flags to restore, or -1 */
	struct eimg_frame_parser parser;
	struct buf out;
	struct req *head, *tail;  /* requests not yet answered to the client */
	unsigned pending;
};

struct chan {
	int fd;
	struct buf in, out;
	struct req *head, *tail;  /* in flight, in order */
	unsigned inflight;
	bool eof;
};

struct runner {
	const struct eimg_run_options *o;
	size_t max;
	uint32_t nch;
	struct chan *ch;
	pid_t child;
	pthread_t *threads;       /* in-process backends (mock, hardware) */
	uint32_t nthreads;        /* started */
	bool abandon;             /* in-process: a thread is stuck in the enclave */
	struct sim_worker_args *wargs;
	const struct eimg_run_engine *engine; /* in-process backends */
	void *enclave;            /* in-process backends: the loaded enclave */
	uint8_t *attest_key;      /* mock: the key EIMG_ECALL_INIT returned, until on_attest_key */
	size_t attest_key_len;
	const struct eimg_sgx_hw_ops *hw;
	bool ready, stopping, dead;
	struct timespec stop_at;
	struct client *clients[EIMG_RUN_MAX_CLIENTS + 1];
	unsigned nclients;
	int listen_fd;
	bool accept_paused;      /* out of descriptors: listen again after a short pause */
	unsigned max_clients;    /* EIMG_RUN_MAX_CLIENTS, fewer when RLIMIT_NOFILE is low */
	char *unix_path;
	struct req *qhead, *qtail;
	unsigned window;
	struct eimg_run_result *res;
	int input_status;         /* stdin framing error: EIMG_EINVAL */
	char input_err[EIMG_ERROR_MSG_MAX];
	int load_status;
	char load_err[EIMG_ERROR_MSG_MAX];
	bool got_report;
};

/* ------------------------------------------------------------- helpers */

static void req_free(struct req *r)
{
	if (!r)
		return;
	if (r->msg) {
		explicit_bzero(r->msg, r->len);
		free(r->msg);
	}
	if (r->reply) {
		explicit_bzero(r->reply, r->reply_len);
		free(r->reply);
	}
	free(r);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void describe_fault(struct runner *R, uint32_t type, uint64_t sig, const uint8_t *p, size_t len)
{
	uint64_t v[CHF_N] = { 0 };
	for (int i = 0; i < CHF_N && (size_t)(8 * i + 8) <= len; i++)
		v[i] = eimg_get_le64(p + 8 * i);
	uint64_t base = v[CHF_BASE], size = v[CHF_SIZE];
	char where[96], addr[96];
	if (v[CHF_IP] - base < size)
		snprintf(where, sizeof where, "enclave offset %#llx", (unsigned long long)(v[CHF_IP] - base));
	else
		snprintf(where, sizeof where, "host address %#llx (outside the enclave)", (unsigned long long)v[CHF_IP]);
	if (type == CH_VIOLATION) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)v[CHF_SYSCALL]);
		R->res->outcome = EIMG_RUN_VIOLATION;
		snprintf(R->res->what, sizeof R->res->what,
			 "sandbox violation: the enclave made system call %s (%llu) at %s on TCS %llu; the sandbox stopped it",
			 name ? name : "?", (unsigned long long)v[CHF_SYSCALL], where, (unsigned long long)v[CHF_TCS]);
		free(name);
		return;
	}
	if (v[CHF_ADDR] - base < size)
		snprintf(addr, sizeof addr, "enclave offset %#llx", (unsigned long long)(v[CHF_ADDR] - base));
	else
		snprintf(addr, sizeof addr, "%#llx, outside the enclave", (unsigned long long)v[CHF_ADDR]);
	const char *what = sig == SIGSEGV ? (v[CHF_CODE] == SEGV_ACCERR ? "memory access not permitted by the page permissions" : "memory access to an unmapped page")
			   : sig == SIGBUS ? "bus error" : sig == SIGILL ? "illegal instruction"
			   : sig == SIGFPE ? "arithmetic exception" : sig == SIGTRAP ? "trap" : "signal";
	R->res->outcome = EIMG_RUN_FAULT;
	if (sig == SIGSEGV || sig == SIGBUS)
		snprintf(R->res->what, sizeof R->res->what, "enclave fault: %s (%s) at address %s, by code at %s on TCS %llu",
			 what, strsignal((int)sig), addr, where, (unsigned long long)v[CHF_TCS]);
	else
		snprintf(R->res->what, sizeof R->res->what, "enclave fault: %s (%s) at %s on TCS %llu", what,
			 strsignal((int)sig), where, (unsigned long long)v[CHF_TCS]);
}

/* Marks every request of a queue failed with why; returns with the queue empty. */
static void fail_queue(struct req **head, const char *why)
{
	while (*head) {
		struct req *r = *head;
		*head = r->qnext;
		r->qnext = NULL;
		r->done = true;
		r->code = EIMG_FRAME_ESTOPPED;
		r->reply = (uint8_t *)strdup(why);
		r->reply_len = r->reply ? strlen(why) : 0;
		if (!r->c)
			req_free(r);
	}
}

/* The enclave is gone: mark every pending request failed. */
static void fail_all(struct runner *R, const char *why)
{
	for (uint32_t i = 0; i < R->nch; i++) {
		struct chan *c = &R->ch[i];
		fail_queue(&c->head, why);
		c->tail = NULL;
		c->inflight = 0;
	}
	fail_queue(&R->qhead, why);
	R->qtail = NULL;
}

static void enclave_died(struct runner *R, const char *fallback)
{
	if (R->dead)
		return;
	R->dead = true;
	R->stopping = true;
	if (!R->res->what[0]) {
		size_t n = strlen(fallback);
		if (n >= sizeof R->res->what)
			n = sizeof R->res->what - 1;
		R->res->outcome = EIMG_RUN_FAULT;
		memcpy(R->res->what, fallback, n);
		R->res->what[n] = '\0';
	}
	fail_all(R, R->res->what);
}

/* ------------------------------------------------------------- clients */

static struct client *client_new(struct runner *R, int in_fd, int out_fd, bool is_stdio)
{
	struct client *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->is_stdio = is_stdio;
	c->out_saved_flags = -1;
	c->out_nonblock = !is_stdio;
	if (is_stdio) {
		/* A pipe or socket on stdout is made non-blocking for the run (and
		 * restored): replies then go out without waiting for poll.  A
		 * terminal or file is left alone. */
		struct stat st;
		int fl = fcntl(out_fd, F_GETFL);
		if (fl >= 0 && fstat(out_fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) &&
		    fcntl(out_fd, F_SETFL, fl | O_NONBLOCK) == 0) {
			c->out_saved_flags = fl;
			c->out_nonblock = true;
		}
	}
	eimg_frame_parser_init(&c->parser, R->max, R->o->lines);
	R->clients[R->nclients++] = c;
	return c;
}

/* Appends the reply of r to the client's output. */
static int client_emit(struct runner *R, struct client *c, struct req *r)
{
	if (R->o->lines) {
		if (r->code == EIMG_FRAME_OK) {
			if (buf_put(&c->out, r->reply, r->reply_len) || buf_put(&c->out, "\n", 1))
				return -1;
		} else if (buf_put(&c->out, "error: ", 7) || buf_put(&c->out, r->reply, r->reply_len) ||
			   buf_put(&c->out, "\n", 1)) {
			return -1;
		}
		return 0;
	}
	uint8_t h[EIMG_FRAME_HEADER];
	eimg_frame_header(h, (uint32_t)r->reply_len, r->code);
	return buf_put(&c->out, h, sizeof h) || buf_put(&c->out, r->reply, r->reply_len) ? -1 : 0;
}

/* Moves answered requests at the head of the client's FIFO to its output. */
static void client_flush_replies(struct runner *R, struct client *c)
{
	while (c->head && c->head->done) {
		struct req *r = c->head;
		c->head = r->cnext;
		if (!c->head)
			c->tail = NULL;
		c->pending--;
		if (client_emit(R, c, r) != 0)
			c->dead = true;
		req_free(r);
	}
}

static void client_close(struct runner *R, unsigned idx)
{
	struct client *c = R->clients[idx];
	if (c->is_stdio && c->write_errno && !R->input_status) {
		R->input_status = EIMG_EIO;
		snprintf(R->input_err, sizeof R->input_err, "standard output: %s (replies were lost)",
			 strerror(c->write_errno));
	}
	for (struct req *r = c->head, *n; r; r = n) {
		n = r->cnext;
		if (r->done)
			req_free(r);
		else
			r->c = NULL;   /* the channel frees it when it completes */
	}
	eimg_frame_parser_free(&c->parser);
	buf_free(&c->out);
	if (c->out_saved_flags >= 0)
		fcntl(c->out_fd, F_SETFL, c->out_saved_flags);
	if (!c->is_stdio)
		close(c->in_fd);
	free(c);
	R->clients[idx] = R->clients[--R->nclients];
	R->clients[R->nclients] = NULL;
}

/* A reply the runner itself gives (malformed frame): queued behind the
 * client's earlier requests so that replies stay in order. */
static void client_error_reply(struct client *c, uint32_t code, const char *text)
{
	struct req *r = calloc(1, sizeof *r);
	if (!r || !(r->reply = (uint8_t *)strdup(text))) {
		free(r);
		c->dead = true;
		return;
	}
	r->c = c;
	r->done = true;
	r->code = code;
	r->reply_len = strlen(text);
	if (c->tail)
		c->tail->cnext = r;
	else
		c->head = r;
	c->tail = r;
	c->pending++;
}

static int enqueue(struct runner *R, struct client *c, uint8_t *msg, size_t len)
{
	struct req *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->c = c;
	r->msg = msg;
	r->len = len;
	if (c->tail)
		c->tail->cnext = r;
	else
		c->head = r;
	c->tail = r;
	c->pending++;
	if (R->qtail)
		R->qtail->qnext = r;
	else
		R->qhead = r;
	R->qtail = r;
	return 0;
}

static void client_input_error(struct runner *R, struct client *c)
{
	char msg[200];
	snprintf(msg, sizeof msg, "malformed request: %s", c->parser.why);
	client_error_reply(c, EIMG_FRAME_EMALFORMED, msg);
	c->eof = true;
	c->closing = true;
	if (c->is_stdio && !R->input_status) {
		R->input_status = EIMG_EINVAL;
		snprintf(R->input_err, sizeof R->input_err, "standard input: %s", c->parser.why);
	}
}

static void client_read(struct runner *R, struct client *c)
{
	uint8_t tmp[RBUF];
	ssize_t n = read(c->in_fd, tmp, sizeof tmp);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		c->eof = true;
		c->dead = !c->is_stdio;
		return;
	}
	size_t off = 0;
	if (n == 0) {
		uint8_t *msg;
		size_t len;
		int r = eimg_frame_finish(&c->parser, &msg, &len);
		if (r == 1 && enqueue(R, c, msg, len) != 0)
			free(msg);
		if (r < 0)
			client_input_error(R, c);
		c->eof = true;
		return;
	}
	while (off < (size_t)n) {
		uint8_t *msg;
		size_t len, used;
		int r = eimg_frame_feed(&c->parser, tmp + off, (size_t)n - off, &used, &msg, &len);
		off += used;
		if (r == 1) {
			if (enqueue(R, c, msg, len) != 0) {
				free(msg);
				c->dead = true;
				return;
			}
		} else if (r == -1) {
			client_input_error(R, c);
			return;
		} else if (r == -2) {
			c->dead = true;
			return;
		}
		/* frames beyond the read-ahead limit stay in the parser's view
		 * only if fed; keep feeding: the limit applies to new reads */
	}
}

static void client_write(struct client *c)
{
	size_t n = buf_avail(&c->out);
	if (!c->out_nonblock && n > STDIO_WCHUNK)
		n = STDIO_WCHUNK;
	ssize_t w = c->is_stdio ? write(c->out_fd, c->out.p + c->out.off, n)
				: send(c->out_fd, c->out.p + c->out.off, n, MSG_NOSIGNAL);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			c->write_errno = errno;
			c->dead = true;
		}
		return;
	}
	c->out.off += (size_t)w;
	if (c->out.off == c->out.len)
		c->out.off = c->out.len = 0;
}

/* ------------------------------------------------------------ channels */

static void dispatch(struct runner *R)
{
	while (R->ready && !R->dead && R->qhead) {
		struct req *r = R->qhead;
		if (!r->c) {   /* its client left before it was sent */
			R->qhead = r->qnext;
			if (!R->qhead)
				R->qtail = NULL;
			req_free(r);
			continue;
		}
		struct chan *best = NULL;
		for (uint32_t i = 0; i < R->nch; i++)
			if (R->ch[i].inflight < R->window && (!best || R->ch[i].inflight < best->inflight))
				best = &R->ch[i];
		if (!best)
			return;
		R->qhead = r->qnext;
		if (!R->qhead)
			R->qtail = NULL;
		r->qnext = NULL;
		uint8_t h[CH_HDR];
		eimg_ch_header(h, (uint32_t)r->len, CH_REQ, 0, 0);
		if (buf_put(&best->out, h, sizeof h) || buf_put(&best->out, r->msg, r->len)) {
			enclave_died(R, "out of memory in the runner");
			req_free(r);
			return;
		}
		explicit_bzero(r->msg, r->len);
		free(r->msg);
		r->msg = NULL;
		if (best->tail)
			best->tail->qnext = r;
		else
			best->head = r;
		best->tail = r;
		best->inflight++;
	}
}

static void protocol_violation(struct runner *R, const char *what)
{
	if (!R->res->what[0]) {
		R->res->outcome = EIMG_RUN_VIOLATION;
		snprintf(R->res->what, sizeof R->res->what, "the enclave process broke the channel protocol: %s", what);
	}
	if (R->child > 0)
		kill(R->child, SIGKILL);
	enclave_died(R, R->res->what);
}

static void complete_req(struct runner *R, struct chan *c, uint64_t status, uint64_t detail, const uint8_t *p,
			 size_t len)
{
	struct req *r = c->head;
	c->head = r->qnext;
	if (!c->head)
		c->tail = NULL;
	c->inflight--;
	r->qnext = NULL;
	r->done = true;
	R->res->messages++;
	if (status == EIMG_ECALL_OK) {
		r->code = EIMG_FRAME_OK;
		r->reply = malloc(len ? len : 1);
		if (r->reply)
			memcpy(r->reply, p, len);
		r->reply_len = r->reply ? len : 0;
	} else {
		char text[300];
		if (status == EIMG_ECALL_EAPP) {
			r->code = EIMG_FRAME_EAPP;
			snprintf(text, sizeof text, "the enclave's handler returned error %lld", (long long)(int32_t)detail);
		} else if (status == EIMG_ECALL_ETOOBIG) {
			r->code = EIMG_FRAME_EENCLAVE;
			snprintf(text, sizeof text, "the reply of %llu bytes exceeds the message limit of %zu bytes",
				 (unsigned long long)detail, R->max);
		} else if (status == EIMG_ECALL_EMODE) {
			r->code = EIMG_FRAME_ESTOPPED;
			snprintf(text, sizeof text,
				 "the enclave ELF was linked with the enclave runtime for another mode than the image's (%s); "
				 "relink it with the runtime of the image's mode (make MODE=...), then run enclave-build and enclave-sign again",
				 detail == 1 ? "hardware" : detail == 2 ? "simulation" : "unknown");
		} else {
			r->code = status == EIMG_ECALL_EABORT || status == EIMG_ECALL_EINFO ? EIMG_FRAME_ESTOPPED
											     : EIMG_FRAME_EENCLAVE;
			snprintf(text, sizeof text, "%s", eimg_sim_status_text(status));
		}
		r->reply = (uint8_t *)strdup(text);
		r->reply_len = r->reply ? strlen(text) : 0;
		if (r->code == EIMG_FRAME_ESTOPPED && !R->res->what[0]) {
			R->res->outcome = EIMG_RUN_FAULT;
			snprintf(R->res->what, sizeof R->res->what, "%s", text);
		}
	}
	if (!r->c)
		req_free(r);
	else if (r->code == EIMG_FRAME_ESTOPPED) {
		/* the enclave refuses everything from now on */
		if (R->child > 0)
			kill(R->child, SIGKILL);
		enclave_died(R, R->res->what);
	}
}

/* Processes complete frames in the channel's input buffer. */
static void chan_frames(struct runner *R, struct chan *c)
{
	while (buf_avail(&c->in) >= CH_HDR) {
		const uint8_t *h = c->in.p + c->in.off;
		uint32_t len = eimg_get_le32(h), type = eimg_get_le32(h + 4);
		uint64_t a = eimg_get_le64(h + 8), b = eimg_get_le64(h + 16);
		/* replies and the attestation key fit in max; error texts in 1 KiB */
		if (len > (R->max > 1024 ? R->max : 1024) + 64) {
			protocol_violation(R, "oversized frame");
			return;
		}
		if (buf_avail(&c->in) < CH_HDR + (size_t)len)
			return;
		const uint8_t *p = h + CH_HDR;
		switch (type) {
		case CH_REPLY:
			if (!c->head || (a == EIMG_ECALL_OK && b != len) || (a != EIMG_ECALL_OK && len != 0) || len > R->max) {
				protocol_violation(R, "unexpected reply");
				return;
			}
			complete_req(R, c, a, b, p, len);
			break;
		case CH_LOG:
			if (R->o->log)
				R->o->log(R->o->log_ctx, (const char *)p, len);
			break;
		case CH_READY:
			if (R->ready || c != &R->ch[0]) {
				protocol_violation(R, "unexpected READY");
				return;
			}
			if ((b != 0) != (R->o->on_attest_key != NULL) || (b == 0 && len != 0) || len > R->max) {
				protocol_violation(R, "unexpected READY");
				return;
			}
			R->ready = true;
			if (R->o->on_attest_key)
				R->o->on_attest_key(R->o->ready_ctx, p, len);
			if (R->o->on_ready)
				R->o->on_ready(R->o->ready_ctx, a);
			break;
		case CH_LOADERR:
			if (R->ready) {
				protocol_violation(R, "unexpected load error");
				return;
			}
			R->load_status = a >= 1 && a <= EIMG_EINTERNAL ? (int)a : EIMG_EINTERNAL;
			snprintf(R->load_err, sizeof R->load_err, "%.*s", (int)(len < 400 ? len : 400), (const char *)p);
			break;
		case CH_FAULT:
		case CH_VIOLATION:
			if (!R->got_report) {
				R->got_report = true;
				describe_fault(R, type, a, p, len);
			}
			break;
		case CH_EXCEPTION:
			if (!R->res->what[0]) {
				R->res->outcome = EIMG_RUN_FAULT;
				snprintf(R->res->what, sizeof R->res->what, "enclave fault: %.*s", (int)(len < 400 ? len : 400),
					 (const char *)p);
			}
			break;
		case CH_HOSTERR:
			if (!R->res->what[0]) {
				R->res->outcome = EIMG_RUN_FAULT;
				snprintf(R->res->what, sizeof R->res->what, "the enclave left in an unexpected way: %.*s",
					 (int)(len < 300 ? len : 300), (const char *)p);
			}
			break;
		default:
			protocol_violation(R, "unknown frame type");
			return;
		}
		c->in.off += CH_HDR + len;
	}
}

static void chan_read(struct runner *R, struct chan *c)
{
	if (buf_reserve(&c->in, RBUF)) {
		protocol_violation(R, "out of memory");
		return;
	}
	ssize_t n = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		n = 0;
	}
	if (n == 0) {
		c->eof = true;
		return;
	}
	c->in.len += (size_t)n;
	chan_frames(R, c);
}

static void chan_write(struct runner *R, struct chan *c)
{
	ssize_t w = send(c->fd, c->out.p + c->out.off, buf_avail(&c->out), MSG_NOSIGNAL);
	if (w < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->eof = true;
		return;
	}
	(void)R;
	c->out.off += (size_t)w;
	if (c->out.off == c->out.len)
		c->out.off = c->out.len = 0;
}

/* --------------------------------------------------------- listening */

static int parse_port(const char *s, uint16_t *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int open_listener(struct runner *R, const char *spec, char *where, size_t wsize, eimg_error *err)
{
	int fd = -1;
	if (strncmp(spec, "unix:", 5) == 0) {
		const char *path = spec + 5;
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (!*path || strlen(path) >= sizeof sa.sun_path)
			return eimg_err(err, EIMG_EUSAGE, NULL, "--listen %s: the socket path is empty or longer than %zu bytes",
					spec, sizeof sa.sun_path - 1);
		memcpy(sa.sun_path, path, strlen(path) + 1);
		struct stat st;
		if (lstat(path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode))
				return eimg_err(err, EIMG_EINVAL, path, "exists and is not a socket");
			int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			int alive = probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
			if (probe >= 0)
				close(probe);
			if (alive)
				return eimg_err(err, EIMG_EINVAL, path, "another process is listening on this socket");
			unlink(path);   /* stale socket of an earlier run */
		}
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
			int rc = eimg_err_sys(err, path, "cannot listen");
			if (fd >= 0)
				close(fd);
			return rc;
		}
		if (!(R->unix_path = strdup(path))) {
			close(fd);
			unlink(path);
			return eimg_err_nomem(err);
		}
		snprintf(where, wsize, "unix:%s", path);
	} else {
		const char *p = spec;
		uint16_t port;
		if (strncmp(p, "tcp:", 4) == 0)
			p += 4;
		if (strncmp(p, "127.0.0.1:", 10) == 0)
			p += 10;
		else if (strncmp(p, "localhost:", 10) == 0)
			p += 10;
		if (parse_port(p, &port) != 0)
			return eimg_err(err, EIMG_EUSAGE, NULL,
					"--listen %s: expected unix:PATH, tcp:PORT or tcp:127.0.0.1:PORT (loopback only)", spec);
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		int one = 1;
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
			char what[64];
			snprintf(what, sizeof what, "127.0.0.1:%u", port);
			int rc = eimg_err_sys(err, what, "cannot listen");
			if (fd >= 0)
				close(fd);
			return rc;
		}
		socklen_t sl = sizeof sa;
		getsockname(fd, (struct sockaddr *)&sa, &sl);
		snprintf(where, wsize, "tcp:127.0.0.1:%u", ntohs(sa.sin_port));
	}
	set_nonblock(fd);
	R->listen_fd = fd;
	return EIMG_OK;
}

static void accept_client(struct runner *R)
{
	int fd = accept4(R->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		/* The pending connection stays queued, so the socket stays readable:
		 * without a pause the loop would spin until a descriptor frees up. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			R->accept_paused = true;
		return;
	}
	if (R->nclients >= R->max_clients || !client_new(R, fd, fd, false))
		close(fd);
}

/* ------------------------------------------------------------ workers */

/* ------------------------------------------------------------ engines */

static int sim_engine_call(void *e, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
			   eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res, eimg_error *err)
{
	return eimg_sim_call(e, tcs, in, in_len, out, out_cap, log, log_ctx, res, err);
}
static uint64_t sim_engine_base(const void *e) { return (uint64_t)(uintptr_t)eimg_sim_base(e); }
static void sim_engine_unload(void *e) { eimg_sim_unload(e); }

const struct eimg_run_engine eimg_sim_engine = { sim_engine_call, sim_engine_base, sim_engine_unload };

static int hw_engine_call(void *e, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
			  eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res, eimg_error *err)
{
	return eimg_sgx_hw_call(e, tcs, in, in_len, out, out_cap, log, log_ctx, res, err);
}
static uint64_t hw_engine_base(const void *e) { return eimg_sgx_hw_base(e); }
static void hw_engine_unload(void *e) { eimg_sgx_hw_unload(e); }

const struct eimg_run_engine eimg_sgx_hw_engine = { hw_engine_call, hw_engine_base, hw_engine_unload };

/* ------------------------------------------------------------ workers */

static void *worker_thread(void *arg)
{
	struct sim_worker_args *w = arg;
	if (eimg_sim_worker(w) != 0)
		shutdown(w->fd, SHUT_RDWR);   /* the runner sees the channel end: the enclave stopped */
	return NULL;
}

/* Loads the enclave in this process (mock, hardware). */
static int load_in_process(struct runner *R, const eimg_layout *l, const uint8_t mrenclave[32], eimg_error *err)
{
	if (R->o->backend == EIMG_RUN_MOCK) {
		eimg_sim_enclave *e = NULL;
		int rc = eimg_sim_load(l, mrenclave, &e, err);
		if (rc == EIMG_OK) {
			R->engine = &eimg_sim_engine;
			R->enclave = e;
		}
		return rc;
	}
	/* hardware: EINIT compares the CPU's measurement with the SIGSTRUCT,
	 * which must be the one the caller verified */
	if (!R->o->sigstruct)
		return eimg_err(err, EIMG_EUSAGE, NULL, "the hardware backend needs the image's SIGSTRUCT");
	if (memcmp(R->o->sigstruct + EIMG_SS_ENCLAVEHASH, mrenclave, 32) != 0)
		return eimg_err(err, EIMG_EVERIFY, NULL, "the SIGSTRUCT is not the one for the expected MRENCLAVE");
	eimg_sgx_hw_enclave *e = NULL;
	int rc = eimg_sgx_hw_load_ops(R->hw, l, R->o->sigstruct, R->o->debug_launch, &e, err);
	if (rc == EIMG_OK) {
		R->engine = &eimg_sgx_hw_engine;
		R->enclave = e;
	}
	return rc;
}

/* Mock: EIMG_ECALL_INIT in this process; the key is kept for on_attest_key. */
static int attest_init_in_process(struct runner *R, eimg_error *err)
{
	struct eimg_sim_result res;
	size_t klen = 0;
	uint8_t *k = malloc(R->max);
	if (!k)
		return eimg_err_nomem(err);
	int rc = eimg_sim_init(R->enclave, k, R->max, &klen, R->o->log, R->o->log_ctx, &res, err);
	if (rc == EIMG_OK && res.status != EIMG_ECALL_OK)
		rc = eimg_err(err, EIMG_EINVAL, NULL, "the enclave's start-up call (enclave_init, attestation key) failed: %s%s",
			      eimg_sim_status_text(res.status),
			      res.status == EIMG_ECALL_ETOOBIG ? " (the key exceeds --max-message)" : "");
	if (rc) {
		free(k);
		return rc;
	}
	R->attest_key = k;
	R->attest_key_len = klen;
	return EIMG_OK;
}

static int start_workers(struct runner *R, const eimg_layout *l, const uint8_t mrenclave[32], eimg_error *err)
{
	int (*pairs)[2] = calloc(R->nch, sizeof *pairs);
	int *child_fds = calloc(R->nch, sizeof *child_fds);
	int rc = EIMG_OK;
	if (!pairs || !child_fds) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	for (uint32_t i = 0; i < R->nch; i++)
		pairs[i][0] = pairs[i][1] = -1;
	for (uint32_t i = 0; i < R->nch; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pairs[i]) != 0) {
			rc = errno == EMFILE || errno == ENFILE
				     ? eimg_err(err, EIMG_EIO, NULL, "too many open files for %u enclave threads (raise ulimit -n)",
						R->nch)
				     : eimg_err_sys(err, NULL, "socketpair");
			goto out;
		}
		int sz = 1 << 20;
		setsockopt(pairs[i][0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		setsockopt(pairs[i][0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		R->ch[i].fd = pairs[i][0];
		child_fds[i] = pairs[i][1];
	}
	if (R->o->backend != EIMG_RUN_SIMULATION) {
		if ((rc = load_in_process(R, l, mrenclave, err)))
			goto out;
		if (R->o->on_attest_key && (rc = attest_init_in_process(R, err)))
			goto out;
		R->threads = calloc(R->nch, sizeof *R->threads);
		R->wargs = calloc(R->nch, sizeof *R->wargs);
		if (!R->threads || !R->wargs) {
			rc = eimg_err_nomem(err);
			goto out;
		}
		for (uint32_t i = 0; i < R->nch; i++) {
			struct sim_worker_args *w = &R->wargs[i];
			*w = (struct sim_worker_args){ .engine = R->engine, .enclave = R->enclave, .tcs = i, .fd = child_fds[i],
						       .max_message = R->max };
			if (eimg_sim_worker_alloc(w) != 0) {
				rc = eimg_err_nomem(err);
				goto out;
			}
		}
		for (uint32_t i = 0; i < R->nch; i++) {
			if (pthread_create(&R->threads[i], NULL, worker_thread, &R->wargs[i]) != 0) {
				/* threads already started get EOF when the channels close */
				rc = eimg_err(err, EIMG_ENOMEM, NULL, "cannot create enclave threads");
				goto out;
			}
			child_fds[i] = -1;   /* the worker's now (closed after the join) */
			R->nthreads = i + 1;
		}
		R->ready = true;
		if (R->o->on_attest_key) {
			R->o->on_attest_key(R->o->ready_ctx, R->attest_key, R->attest_key_len);
			eimg_free_secret(R->attest_key, R->attest_key_len);
			R->attest_key = NULL;
		}
		if (R->o->on_ready)
			R->o->on_ready(R->o->ready_ctx, R->engine->base(R->enclave));
	} else {
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			rc = eimg_err_sys(err, NULL, "fork");
			goto out;
		}
		if (pid == 0)
			eimg_sim_child_main(l, mrenclave, child_fds, R->nch, R->max, R->o->on_attest_key != NULL);
		R->child = pid;
	}
out:
	if (child_fds)
		for (uint32_t i = 0; i < R->nch; i++)
			if (child_fds[i] >= 0)
				close(child_fds[i]);
	free(pairs);
	free(child_fds);
	for (uint32_t i = 0; i < R->nch; i++)
		if (R->ch[i].fd >= 0)
			set_nonblock(R->ch[i].fd);
	return rc;
}

/* Reaps the child; fills the outcome from its status when no report came. */
static void reap_child(struct runner *R, bool force)
{
	if (R->child <= 0)
		return;
	int st = 0;
	pid_t p = 0;
	for (int i = 0; i < 200 && (p = waitpid(R->child, &st, WNOHANG)) == 0; i++) {
		if (force && i == 0)
			kill(R->child, SIGKILL);
		struct timespec ts = { 0, 10 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (p == 0) {
		kill(R->child, SIGKILL);
		p = waitpid(R->child, &st, 0);
	}
	R->child = 0;
	if (p <= 0 || R->res->what[0] || R->load_status)
		return;
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS) {
		R->res->outcome = EIMG_RUN_VIOLATION;
		snprintf(R->res->what, sizeof R->res->what,
			 "sandbox violation: the sandbox killed the enclave process (SIGSYS: a system call of a foreign ABI)");
	} else if (WIFSIGNALED(st) && WTERMSIG(st) != SIGKILL) {
		R->res->outcome = EIMG_RUN_FAULT;
		snprintf(R->res->what, sizeof R->res->what, "enclave fault: the enclave process died from %s",
			 strsignal(WTERMSIG(st)));
	} else if (WIFEXITED(st) && WEXITSTATUS(st) != 0 && !R->stopping) {
		R->res->outcome = EIMG_RUN_FAULT;
		snprintf(R->res->what, sizeof R->res->what, "enclave fault: the enclave process exited with status %d",
			 WEXITSTATUS(st));
	}
}

/* --------------------------------------------------------------- loop */

static bool all_idle(struct runner *R)
{
	if (R->qhead)
		return false;
	for (uint32_t i = 0; i < R->nch; i++)
		if (R->ch[i].inflight)
			return false;
	return true;
}

static bool outputs_flushed(struct runner *R)
{
	for (unsigned i = 0; i < R->nclients; i++)
		if (buf_avail(&R->clients[i]->out) && !R->clients[i]->dead)
			return false;
	return true;
}

int eimg_run(const eimg_layout *l, const uint8_t mrenclave[32], const struct eimg_run_options *o,
	     struct eimg_run_result *res, eimg_error *err)
{
	return eimg_run_hw_ops(l, mrenclave, o, eimg_sgx_hw_sys_ops(), res, err);
}

int eimg_run_hw_ops(const eimg_layout *l, const uint8_t mrenclave[32], const struct eimg_run_options *o,
		    const struct eimg_sgx_hw_ops *hw, struct eimg_run_result *res, eimg_error *err)
{
	struct runner R;
	struct pollfd *pfd = NULL;
	int rc = EIMG_OK;
	char where[160];

	memset(&R, 0, sizeof R);
	memset(res, 0, sizeof *res);
	R.o = o;
	R.res = res;
	R.hw = hw;
	if (o->backend != EIMG_RUN_SIMULATION && o->backend != EIMG_RUN_MOCK && o->backend != EIMG_RUN_HARDWARE)
		return eimg_err(err, EIMG_EUSAGE, NULL, "unknown backend %d", o->backend);
	if (o->on_attest_key && o->backend == EIMG_RUN_HARDWARE)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL,
				"the attestation key of a hardware enclave belongs in its quote (DCAP), not here");
	R.listen_fd = -1;
	R.max = o->max_message ? o->max_message : EIMG_RUN_DEFAULT_MESSAGE;
	if (R.max > EIMG_RUN_MAX_MESSAGE)
		return eimg_err(err, EIMG_EUSAGE, NULL, "the message limit is at most %u bytes", EIMG_RUN_MAX_MESSAGE);
	if (l->threads < 1 || l->threads > EIMG_SIM_MAX_THREADS)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL, "enclave-run runs 1 to %d threads (TCSs); the image has %u",
				EIMG_SIM_MAX_THREADS, l->threads);
	R.nch = l->threads;
	R.window = R.nch == 1 ? EIMG_RUN_MAX_PENDING : 1;
	R.ch = calloc(R.nch, sizeof *R.ch);
	pfd = calloc(R.nch + EIMG_RUN_MAX_CLIENTS * 2 + 4, sizeof *pfd);
	/* poll(2) refuses more entries than RLIMIT_NOFILE (EINVAL), and each
	 * client takes two: never accept more clients than the limit allows. */
	R.max_clients = EIMG_RUN_MAX_CLIENTS;
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
		uint64_t room = nofile.rlim_cur > (uint64_t)R.nch + 4 ? (nofile.rlim_cur - R.nch - 4) / 2 : 0;
		if (room < R.max_clients)
			R.max_clients = (unsigned)room;
	}
	if (!R.ch || !pfd) {
		free(R.ch);
		free(pfd);
		return eimg_err_nomem(err);
	}
	for (uint32_t i = 0; i < R.nch; i++)
		R.ch[i].fd = -1;

	if (o->listen) {
		if ((rc = open_listener(&R, o->listen, where, sizeof where, err)))
			goto out;
	} else if (!client_new(&R, o->in_fd, o->out_fd, true)) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if ((rc = start_workers(&R, l, mrenclave, err)))
		goto out;
	if (o->listen && o->on_listen)
		o->on_listen(o->listen_ctx, where);

	unsigned grace = o->shutdown_grace ? o->shutdown_grace : 5;
	double stop_deadline = 0;
	for (;;) {
		dispatch(&R);
		for (uint32_t i = 0; i < R.nch; i++)
			if (buf_avail(&R.ch[i].out) && !R.ch[i].eof)
				chan_write(&R, &R.ch[i]);   /* non-blocking: no need to wait for poll */
		for (unsigned i = 0; i < R.nclients; i++) {
			client_flush_replies(&R, R.clients[i]);
			if (R.clients[i]->out_nonblock && buf_avail(&R.clients[i]->out) && !R.clients[i]->dead)
				client_write(R.clients[i]);
		}
		/* drop finished or broken clients */
		for (unsigned i = 0; i < R.nclients;) {
			struct client *c = R.clients[i];
			bool done = c->dead || (c->eof && !c->head && !buf_avail(&c->out));
			if (done && (!c->is_stdio || c->dead || c->eof)) {
				client_close(&R, i);
				continue;
			}
			i++;
		}
		if (R.load_status)
			break;
		bool input_over = !o->listen && R.nclients == 0;
		if (R.dead && outputs_flushed(&R))
			break;
		if ((input_over || R.stopping) && all_idle(&R) && outputs_flushed(&R))
			break;
		if (R.stopping && stop_deadline == 0)
			stop_deadline = now_s() + grace;
		if (stop_deadline && now_s() > stop_deadline) {
			if (!R.dead && !all_idle(&R)) {
				if (R.child > 0)
					kill(R.child, SIGKILL);
				R.abandon = R.threads != NULL;
				R.res->outcome = EIMG_RUN_CLEAN;
				fail_all(&R, "the enclave was stopped while handling this message (shutdown)");
				for (unsigned i = 0; i < R.nclients; i++)
					client_flush_replies(&R, R.clients[i]);
			}
			/* one last attempt to flush, then leave */
			for (unsigned i = 0; i < R.nclients; i++)
				if (buf_avail(&R.clients[i]->out))
					client_write(R.clients[i]);
			break;
		}

		nfds_t n = 0;
		int stop_idx = -1, listen_idx = -1;
		if (o->stop_fd >= 0) {
			stop_idx = (int)n;
			pfd[n++] = (struct pollfd){ o->stop_fd, POLLIN, 0 };
		}
		if (R.listen_fd >= 0 && !R.stopping && R.nclients < R.max_clients && R.ready && !R.accept_paused) {
			listen_idx = (int)n;
			pfd[n++] = (struct pollfd){ R.listen_fd, POLLIN, 0 };
		}
		nfds_t ch0 = n;
		for (uint32_t i = 0; i < R.nch; i++) {
			short ev = R.ch[i].eof ? 0 : POLLIN;
			if (buf_avail(&R.ch[i].out) && !R.ch[i].eof)
				ev |= POLLOUT;
			pfd[n++] = (struct pollfd){ R.ch[i].eof ? -1 : R.ch[i].fd, ev, 0 };
		}
		nfds_t cl0 = n;
		for (unsigned i = 0; i < R.nclients; i++) {
			struct client *c = R.clients[i];
			bool want_in = !c->eof && !R.stopping && R.ready && c->pending < EIMG_RUN_MAX_PENDING;
			pfd[n++] = (struct pollfd){ want_in ? c->in_fd : -1, POLLIN, 0 };
			pfd[n++] = (struct pollfd){ buf_avail(&c->out) ? c->out_fd : -1, POLLOUT, 0 };
		}
		int timeout = stop_deadline || R.accept_paused ? 100 : -1;
		R.accept_paused = false;   /* listen again on the next round */
		int pr = poll(pfd, n, timeout);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			rc = eimg_err_sys(err, NULL, "poll");
			goto out;
		}
		if (stop_idx >= 0 && (pfd[stop_idx].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (R.stopping && !R.dead) {   /* asked twice: stop now */
				stop_deadline = now_s() - 1;
			}
			R.stopping = true;
			/* consume a signalfd record, if that is what it is */
			uint8_t sink[128];
			(void)!read(o->stop_fd, sink, sizeof sink);
			/* requests not yet handed to the enclave are refused */
			while (R.qhead) {
				struct req *r = R.qhead;
				R.qhead = r->qnext;
				r->qnext = NULL;
				r->done = true;
				r->code = EIMG_FRAME_ESTOPPED;
				r->reply = (uint8_t *)strdup("enclave-run is shutting down");
				r->reply_len = r->reply ? strlen((char *)r->reply) : 0;
				if (!r->c)
					req_free(r);
			}
			R.qtail = NULL;
		}
		for (uint32_t i = 0; i < R.nch; i++) {
			struct pollfd *p = &pfd[ch0 + i];
			if (p->revents & POLLOUT)
				chan_write(&R, &R.ch[i]);
			if (p->revents & (POLLIN | POLLHUP | POLLERR))
				chan_read(&R, &R.ch[i]);
			if (R.ch[i].eof && !R.dead) {
				/* the worker side is gone: the enclave process died */
				reap_child(&R, false);
				if (R.load_status)
					break;
				enclave_died(&R, "enclave fault: the enclave stopped unexpectedly");
			}
		}
		if (R.load_status)
			break;
		for (unsigned i = 0; i < R.nclients; i++) {
			struct client *c = R.clients[i];
			struct pollfd *pi = &pfd[cl0 + 2 * i], *po = &pfd[cl0 + 2 * i + 1];
			if (po->revents & (POLLOUT | POLLERR | POLLHUP)) {
				if (po->revents & POLLOUT)
					client_write(c);
				else
					c->dead = true;
			}
			if (pi->revents & (POLLIN | POLLHUP | POLLERR))
				client_read(&R, c);
		}
		if (listen_idx >= 0 && (pfd[listen_idx].revents & POLLIN))
			accept_client(&R);
	}

	if (R.load_status) {
		rc = eimg_err(err, R.load_status, NULL, "%s", R.load_err);
		goto out;
	}
	if (R.input_status && !res->what[0])
		rc = eimg_err(err, R.input_status, NULL, "%s", R.input_err);
out:
	/* closing the channels ends the workers (EOF) */
	for (uint32_t i = 0; R.ch && i < R.nch; i++)
		if (R.ch[i].fd >= 0) {
			close(R.ch[i].fd);
			R.ch[i].fd = -1;
		}
	if (R.child > 0)
		reap_child(&R, R.dead);
	if (R.threads && !R.abandon) {
		for (uint32_t i = 0; i < R.nthreads; i++)
			pthread_join(R.threads[i], NULL);
	}
	if (R.wargs && !R.abandon) {
		for (uint32_t i = 0; i < R.nch; i++) {
			if (i < R.nthreads)
				close(R.wargs[i].fd);
			eimg_sim_worker_free(&R.wargs[i]);
		}
	}
	if (!R.abandon) {
		/* a mock thread stuck in the enclave keeps its memory until exit */
		free(R.threads);
		free(R.wargs);
		if (R.enclave)
			R.engine->unload(R.enclave);
	}
	eimg_free_secret(R.attest_key, R.attest_key_len);
	while (R.nclients)
		client_close(&R, 0);
	while (R.qhead) {
		struct req *r = R.qhead;
		R.qhead = r->qnext;
		req_free(r);
	}
	for (uint32_t i = 0; R.ch && i < R.nch; i++) {
		for (struct req *r = R.ch[i].head, *nx; r; r = nx) {
			nx = r->qnext;
			req_free(r);
		}
		buf_free(&R.ch[i].in);
		buf_free(&R.ch[i].out);
	}
	if (R.listen_fd >= 0)
		close(R.listen_fd);
	if (R.unix_path) {
		unlink(R.unix_path);
		free(R.unix_path);
	}
	free(R.ch);
	free(pfd);
	return rc;
}
