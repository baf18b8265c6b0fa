/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's side of the enclave channels: growing buffers, handing
 * queued requests to the enclave threads, reading their frames (replies,
 * log lines, faults) and failing requests when the enclave dies. */
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
#include "run/runner_int.h"

int eimg_rn_buf_reserve(struct buf *b, size_t more)
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
	return eimg_bytes_reserve(&b->p, &b->cap, b->len, more, 4096) ? -1 : 0;
}

int eimg_rn_buf_put(struct buf *b, const void *p, size_t len)
{
	if (eimg_rn_buf_reserve(b, len))
		return -1;
	if (len)
		memcpy(b->p + b->len, p, len);
	b->len += len;
	return 0;
}


/* ------------------------------------------------------------- helpers */

void eimg_rn_req_free(struct req *r)
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

double eimg_rn_now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void eimg_rn_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

void eimg_rn_describe_fault(struct runner *R, uint32_t type, uint64_t sig, const uint8_t *p, size_t len)
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
			eimg_rn_req_free(r);
	}
}

/* The enclave is gone: mark every pending request failed. */
void eimg_rn_fail_all(struct runner *R, const char *why)
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

void eimg_rn_enclave_died(struct runner *R, const char *fallback)
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
	eimg_rn_fail_all(R, R->res->what);
}

/* ------------------------------------------------------------ channels */

void eimg_rn_dispatch(struct runner *R)
{
	while (R->ready && !R->dead && R->qhead) {
		struct req *r = R->qhead;
		if (!r->c) {   /* its client left before it was sent */
			R->qhead = r->qnext;
			if (!R->qhead)
				R->qtail = NULL;
			eimg_rn_req_free(r);
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
		if (eimg_rn_ring_send(R, best, r) != 0) {
			eimg_rn_req_free(r);
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

void eimg_rn_protocol_violation(struct runner *R, const char *what)
{
	if (!R->res->what[0]) {
		R->res->outcome = EIMG_RUN_VIOLATION;
		snprintf(R->res->what, sizeof R->res->what, "the enclave process broke the channel protocol: %s", what);
	}
	if (R->child > 0)
		kill(R->child, SIGKILL);
	eimg_rn_enclave_died(R, R->res->what);
}

void eimg_rn_complete_req(struct runner *R, struct chan *c, uint64_t status, uint64_t detail, const uint8_t *p,
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
		if (r->reply && len)
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
		eimg_rn_req_free(r);
	else if (r->code == EIMG_FRAME_ESTOPPED) {
		/* the enclave refuses everything from now on */
		if (R->child > 0)
			kill(R->child, SIGKILL);
		eimg_rn_enclave_died(R, R->res->what);
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
			eimg_rn_protocol_violation(R, "oversized frame");
			return;
		}
		if (buf_avail(&c->in) < CH_HDR + (size_t)len)
			return;
		const uint8_t *p = h + CH_HDR;
		switch (type) {
		case CH_REPLY:
			/* replies in the ring came first, then its marker for this one */
			if (!c->await)
				eimg_rn_ring_drain(R, c);
			if (!c->await || R->dead || !c->head || (a == EIMG_ECALL_OK && b != len) || (a != EIMG_ECALL_OK && len != 0) || len > R->max) {
				eimg_rn_protocol_violation(R, "unexpected reply");
				return;
			}
			c->await = false;
			eimg_rn_complete_req(R, c, a, b, p, len);
			break;
		case CH_BELL:   /* the ring has replies: drained after the frames */
			if (len != 0) {
				eimg_rn_protocol_violation(R, "unexpected bell");
				return;
			}
			break;
		case CH_LOG:
			if (R->o->log)
				R->o->log(R->o->log_ctx, (const char *)p, len);
			break;
		case CH_READY:
			if (R->ready || c != &R->ch[0]) {
				eimg_rn_protocol_violation(R, "unexpected READY");
				return;
			}
			if ((b != 0) != (R->o->on_attest_key != NULL) || (b == 0 && len != 0) || len > R->max) {
				eimg_rn_protocol_violation(R, "unexpected READY");
				return;
			}
			eimg_rn_load_progress_end(R);
			R->ready = true;
			if (R->o->on_attest_key)
				R->o->on_attest_key(R->o->ready_ctx, p, len);
			if (R->o->on_ready)
				R->o->on_ready(R->o->ready_ctx, a);
			break;
		case CH_PROGRESS:   /* only drawn clamped (run/load_progress.c) */
			if (len != 0 || c != &R->ch[0] || eimg_rn_load_progress(R, b, a) != 0) {
				eimg_rn_protocol_violation(R, "unexpected progress");
				return;
			}
			break;
		case CH_LOADERR:
			if (R->ready) {
				eimg_rn_protocol_violation(R, "unexpected load error");
				return;
			}
			R->load_status = a >= 1 && a <= EIMG_EINTERNAL ? (int)a : EIMG_EINTERNAL;
			snprintf(R->load_err, sizeof R->load_err, "%.*s", (int)(len < 400 ? len : 400), (const char *)p);
			break;
		case CH_FAULT:
		case CH_VIOLATION:
			if (!R->got_report) {
				R->got_report = true;
				eimg_rn_describe_fault(R, type, a, p, len);
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
			eimg_rn_protocol_violation(R, "unknown frame type");
			return;
		}
		c->in.off += CH_HDR + len;
	}
}

void eimg_rn_chan_read(struct runner *R, struct chan *c)
{
	if (eimg_rn_buf_reserve(&c->in, RBUF)) {
		eimg_rn_protocol_violation(R, "out of memory");
		return;
	}
	ssize_t n = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		n = 0;
	}
	if (n == 0) {
		eimg_rn_ring_drain(R, c);   /* replies sent before the end count */
		c->eof = true;
		return;
	}
	c->in.len += (size_t)n;
	chan_frames(R, c);
	eimg_rn_ring_drain(R, c);
}

void eimg_rn_chan_write(struct runner *R, struct chan *c)
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
