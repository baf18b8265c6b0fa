/* SPDX-License-Identifier: Apache-2.0 */
/* The simulation backend's child process: loads the enclave, closes every
 * file descriptor but its channels, installs the seccomp sandbox and serves
 * messages, one worker thread per TCS.
 *
 * The sandbox is built with libseccomp rather than hand-written BPF: the
 * filter compiler knows the architecture checks (x32, i386 through int 0x80),
 * argument comparisons and syscall numbering, which a hand-written filter
 * gets subtly wrong.  Allowed: read and write on this child's channel
 * descriptors, exit and exit_group.  Anything else raises SIGSYS; the
 * handler reports the system call and where it came from on the channel and
 * exits.  Faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) are reported the
 * same way.  Handlers run on their own signal stack, so an enclave with a
 * broken stack pointer is still reported. */
#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "eimg/error.h"
#include "eimg/enclave_abi.h"
#include "eimg/progress.h"
#include "core/internal.h"
#include "run/ring_int.h"
#include "run/sim_int.h"

/* Leaves the child process.  Not _exit(), and deliberately not declared
 * noreturn: sanitizer runtimes intercept _exit and instrument calls of
 * noreturn functions (__asan_handle_no_return queries sigaltstack), and the
 * sandbox forbids those system calls. */
static void child_exit(int code)
{
	for (;;)
		syscall(SYS_exit_group, code);
}

void eimg_ch_header(uint8_t *p, uint32_t len, uint32_t type, uint64_t a, uint64_t b)
{
	eimg_le32(p, len);
	eimg_le32(p + 4, type);
	eimg_le64(p + 8, a);
	eimg_le64(p + 16, b);
}

int eimg_fd_write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int eimg_fd_read_all(int fd, uint8_t *p, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

static void send_msg(int fd, uint32_t type, uint64_t a, const char *msg)
{
	uint8_t hdr[CH_HDR];
	size_t len = strlen(msg);
	eimg_ch_header(hdr, (uint32_t)len, type, a, 0);
	if (eimg_fd_write_all(fd, hdr, CH_HDR) == 0)
		eimg_fd_write_all(fd, (const uint8_t *)msg, len);
}

/* ---------------------------------------------------------------- worker */

int eimg_sim_worker_alloc(struct sim_worker_args *w)
{
	size_t m = w->max_message ? w->max_message : 1;
	w->in = malloc(m);
	w->out = malloc(CH_HDR + 16 + m);
	w->rbuf = malloc(CH_IOBUF);
	w->rlen = w->roff = 0;
	w->closed = false;
	if (!w->in || !w->out || !w->rbuf) {
		eimg_sim_worker_free(w);
		return -1;
	}
	/* touch everything now: in the sandbox no page may need a new mapping */
	memset(w->in, 0, m);
	memset(w->out, 0, CH_HDR + 16 + m);
	memset(w->rbuf, 0, CH_IOBUF);
	return 0;
}

void eimg_sim_worker_free(struct sim_worker_args *w)
{
	free(w->in);
	free(w->out);
	free(w->rbuf);
	w->in = w->out = w->rbuf = NULL;
}

/* Drops doorbell frames at the front of the channel input. */
static void skip_bells(struct sim_worker_args *w)
{
	while (w->rlen - w->roff >= CH_HDR && eimg_get_le32(w->rbuf + w->roff + 4) == CH_BELL &&
	       eimg_get_le32(w->rbuf + w->roff) == 0)
		w->roff += CH_HDR;
	if (w->roff == w->rlen)
		w->roff = w->rlen = 0;
}

/* One read of the channel into rbuf.  1 ok, 0 EOF, -1 error or rbuf full
 * (64 KiB that are neither bells nor a request frame: a broken runner). */
static int read_more(struct sim_worker_args *w)
{
	if (w->roff) {
		memmove(w->rbuf, w->rbuf + w->roff, w->rlen - w->roff);
		w->rlen -= w->roff;
		w->roff = 0;
	}
	if (w->rlen == CH_IOBUF)
		return -1;
	for (;;) {
		ssize_t r = read(w->fd, w->rbuf + w->rlen, CH_IOBUF - w->rlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			w->closed = r == 0;
			return r == 0 ? 0 : -1;
		}
		w->rlen += (size_t)r;
		return 1;
	}
}

/* The doorbell (eimg_ring_wait): blocks until the runner writes anything. */
static int sleep_chan(void *ctx)
{
	struct sim_worker_args *w = ctx;
	if (read_more(w) != 1)
		return -1;
	skip_bells(w);
	return 0;
}

/* Ensures n bytes are buffered (n <= CH_IOBUF).  0 ok, -1 EOF or error. */
static int fill(struct sim_worker_args *w, size_t n)
{
	while (w->rlen - w->roff < n)
		if (read_more(w) != 1)
			return -1;
	return 0;
}

/* A request larger than a slot: its CH_REQ frame on the channel. */
static int read_sock_req(struct sim_worker_args *w, const uint8_t **msg, uint32_t *len)
{
	if (fill(w, CH_HDR))
		return -1;
	skip_bells(w);
	if (fill(w, CH_HDR))
		return -1;
	const uint8_t *hdr = w->rbuf + w->roff;
	uint32_t l = eimg_get_le32(hdr), type = eimg_get_le32(hdr + 4);
	if (type != CH_REQ || l > w->max_message)
		return -1;
	w->roff += CH_HDR;
	if (l <= CH_IOBUF) {
		if (fill(w, l))
			return -1;
		*msg = w->rbuf + w->roff;
		w->roff += l;
	} else {
		/* what is buffered, then the rest directly */
		size_t have = w->rlen - w->roff;
		memcpy(w->in, w->rbuf + w->roff, have);
		w->roff = w->rlen = 0;
		if (eimg_fd_read_all(w->fd, w->in + have, l - have) != 1)
			return -1;
		*msg = w->in;
	}
	*len = l;
	return 0;
}

struct log_ctx {
	struct sim_worker_args *w;
	int failed, logged;
};

static void worker_log(void *ctx, const char *text, size_t len)
{
	struct log_ctx *lc = ctx;
	/* the text sits right after the CH_HDR bytes reserved in front of out */
	uint8_t *f = (uint8_t *)text - CH_HDR;
	if ((const uint8_t *)text != lc->w->out + CH_HDR) {
		lc->failed = 1;
		return;
	}
	eimg_ch_header(f, (uint32_t)len, CH_LOG, 0, 0);
	lc->logged = 1;
	if (eimg_fd_write_all(lc->w->fd, f, CH_HDR + len) != 0)
		lc->failed = 1;
}

/* The reply: in its slot, or a marker and a CH_REPLY frame (sim_int.h). */
static int send_reply(struct sim_worker_args *w, const struct eimg_sim_result *res, bool logged)
{
	uint32_t rlen = res->status == EIMG_ECALL_OK ? (uint32_t)res->detail : 0;
	uint8_t detail[8];
	int pr;
	if (!logged && res->status <= RT_STATUS_MAX && rlen <= EIMG_RING_MAX) {
		eimg_le64(detail, res->detail);
		pr = res->status == EIMG_ECALL_OK ? eimg_ring_push(&w->ring->rep, w->out + CH_HDR, rlen, 0)
						  : eimg_ring_push(&w->ring->rep, detail, 8, (uint32_t)res->status);
		if (pr == 1) {   /* the runner sleeps: ring */
			uint8_t bell[CH_HDR];
			eimg_ch_header(bell, 0, CH_BELL, 0, 0);
			pr = eimg_fd_write_all(w->fd, bell, CH_HDR);
		}
	} else {
		/* the frame itself wakes the runner: no bell */
		pr = eimg_ring_push(&w->ring->rep, NULL, 0, RT_SOCKET);
		eimg_ch_header(w->out, rlen, CH_REPLY, res->status, res->detail);
		if (pr >= 0)
			pr = eimg_fd_write_all(w->fd, w->out, CH_HDR + rlen);
	}
	/* the reply may hold a client's secrets: do not keep it around */
	if (rlen)
		memset(w->out + CH_HDR, 0, rlen);
	/* full: the runner never has more in flight than a ring holds */
	return pr < 0 ? -1 : 0;
}

/* Runs one message in the enclave and sends the reply. */
static int serve(struct sim_worker_args *w, const uint8_t *msg, uint32_t len)
{
	struct eimg_sim_result res;
	struct log_ctx lc = { w, 0, 0 };
	eimg_error err;
	int crc = w->engine->call(w->enclave, w->tcs, msg, len, w->out + CH_HDR, w->max_message, worker_log, &lc,
				  &res, &err);
	if (crc != EIMG_OK) {
		send_msg(w->fd, crc == EIMG_EIO && err.sys_errno == EFAULT ? CH_EXCEPTION : CH_HOSTERR, 0, err.msg);
		return CHILD_EXIT_HOSTERR;
	}
	if (lc.failed || send_reply(w, &res, lc.logged) != 0)
		return CHILD_EXIT_PROTOCOL;
	return 0;
}

/* ---------------------------------------------------------- switchless */

/* The host side of the switchless ocalls (enclave_abi.h). */
static uint64_t swl_ocall(void *ctx, uint64_t op, uint8_t *out, uint64_t len, size_t cap)
{
	struct sim_worker_args *w = ctx;
	uint8_t h[CH_HDR];
	const uint8_t *msg;
	uint32_t mlen;
	if (op == EIMG_OCALL_IDLE)
		return sleep_chan(w) == 0 ? 0 : EIMG_OCALL_EIO;
	if (op == EIMG_OCALL_BELL) {
		eimg_ch_header(h, 0, CH_BELL, 0, 0);
		return eimg_fd_write_all(w->fd, h, CH_HDR) == 0 ? 0 : EIMG_OCALL_EIO;
	}
	if (op == EIMG_OCALL_FETCH) {
		if (read_sock_req(w, &msg, &mlen) || mlen > cap)
			return EIMG_OCALL_EIO;
		memcpy(out, msg, mlen);
		return mlen;
	}
	if (op != EIMG_OCALL_REPLY || len < 16 || len > cap)
		return EIMG_OCALL_EIO;
	uint32_t rlen = (uint32_t)(len - 16);
	eimg_ch_header(h, rlen, CH_REPLY, eimg_get_le64(out), eimg_get_le64(out + 8));
	int rc = eimg_fd_write_all(w->fd, h, CH_HDR) || (rlen && eimg_fd_write_all(w->fd, out + 16, rlen));
	if (rlen)   /* a client's secrets */
		memset(out + 16, 0, rlen);
	return rc ? EIMG_OCALL_EIO : 0;
}

/* Serves the channel with this thread inside the enclave (switchless
 * calls): no enclave entry per message.  1 when the runtime has none or the
 * enclave stopped (then each message is entered on its own, and gets the
 * status the enclave stopped with); else the worker's exit code. */
static int serve_switchless(struct sim_worker_args *w)
{
	struct eimg_ring_pair *p = w->ring;
	uint32_t tail0 = __atomic_load_n(&p->req.tail, __ATOMIC_ACQUIRE);
	uint32_t head0 = __atomic_load_n(&p->rep.head, __ATOMIC_ACQUIRE);
	struct eimg_swl_host swl = { swl_ocall, w };
	struct log_ctx lc = { w, 0, 0 };
	struct eimg_sim_result res;
	eimg_error err;
	int rc = w->engine->serve(w->enclave, w->tcs, p, sizeof *p, w->out + CH_HDR, w->max_message + 16, worker_log,
				  &lc, &swl, &res, &err);
	if (rc != EIMG_OK) {
		send_msg(w->fd, rc == EIMG_EIO && err.sys_errno == EFAULT ? CH_EXCEPTION : CH_HOSTERR, 0, err.msg);
		return CHILD_EXIT_HOSTERR;
	}
	if (lc.failed)
		return CHILD_EXIT_PROTOCOL;
	uint32_t taken = __atomic_load_n(&p->req.tail, __ATOMIC_ACQUIRE) - tail0;
	uint32_t answered = __atomic_load_n(&p->rep.head, __ATOMIC_ACQUIRE) - head0;
	if (res.status == EIMG_ECALL_OK)
		return w->closed && w->rlen == w->roff ? 0 : CHILD_EXIT_PROTOCOL;
	if (res.status == EIMG_ECALL_EBADBUF) {
		send_msg(w->fd, CH_HOSTERR, 0, "the enclave found its switchless ring broken");
		return CHILD_EXIT_HOSTERR;
	}
	if (taken != answered) {
		/* the enclave stopped inside a message: it gets the status */
		uint8_t d[8];
		eimg_le64(d, res.detail);
		int pr = eimg_ring_push(&p->rep, d, 8, (uint32_t)res.status);
		if (pr < 0 || taken != answered + 1)
			return CHILD_EXIT_PROTOCOL;
		if (pr == 1) {
			uint8_t bell[CH_HDR];
			eimg_ch_header(bell, 0, CH_BELL, 0, 0);
			if (eimg_fd_write_all(w->fd, bell, CH_HDR))
				return CHILD_EXIT_PROTOCOL;
		}
	}
	return 1;
}

#define WORKER_SPINS 500   /* empty checks (PAUSE) before sleeping on the channel: ~60 us here */

int eimg_sim_worker(struct sim_worker_args *w)
{
	struct eimg_ring *rq = &w->ring->req;
	uint32_t cap = w->max_message < EIMG_RING_MAX ? (uint32_t)w->max_message : EIMG_RING_MAX;
	if (w->switchless && w->engine->serve) {
		int sr = serve_switchless(w);
		if (sr != 1)
			return sr;
	}
	for (;;) {
		uint32_t len, tag;
		int r = eimg_ring_pop(rq, w->in, cap, &len, &tag);
		if (r < 0)
			return CHILD_EXIT_PROTOCOL;
		if (r == 0) {
			if (eimg_ring_wait(rq, WORKER_SPINS, sleep_chan, w) == 0)
				continue;
			return w->closed && w->rlen == w->roff ? 0 : CHILD_EXIT_PROTOCOL;
		}
		const uint8_t *msg = w->in;
		if (tag == RT_SOCKET) {
			if (read_sock_req(w, &msg, &len))
				return CHILD_EXIT_PROTOCOL;
		} else if (tag != RT_INLINE) {
			return CHILD_EXIT_PROTOCOL;
		}
		int rc = serve(w, msg, len);
		if (rc)
			return rc;
	}
}

/* ------------------------------------------------------------- sandbox */

static uint8_t *g_base;
static uint64_t g_size;
static int g_fd0 = -1;
static __thread int t_fd = -1;
static __thread uint32_t t_tcs;

static void fault_handler(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	uint8_t f[CH_HDR + 8 * CHF_N];
	uint64_t v[CHF_N] = { 0 };
	v[CHF_CODE] = (uint64_t)si->si_code;
	v[CHF_IP] = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
	v[CHF_BASE] = (uint64_t)(uintptr_t)g_base;
	v[CHF_SIZE] = g_size;
	v[CHF_TCS] = t_tcs;
	if (sig == SIGSYS) {
		v[CHF_ADDR] = (uint64_t)(uintptr_t)si->si_call_addr;
		v[CHF_SYSCALL] = (uint64_t)(uint32_t)si->si_syscall;
		v[CHF_ARCH] = si->si_arch;
	} else {
		v[CHF_ADDR] = (uint64_t)(uintptr_t)si->si_addr;
	}
	eimg_ch_header(f, 8 * CHF_N, sig == SIGSYS ? CH_VIOLATION : CH_FAULT, (uint64_t)sig, 0);
	for (int i = 0; i < CHF_N; i++)
		eimg_le64(f + CH_HDR + 8 * i, v[i]);
	int fd = t_fd >= 0 ? t_fd : g_fd0;
	/* replies to earlier messages are in the ring already */
	(void)!write(fd, f, sizeof f);
	child_exit(sig == SIGSYS ? CHILD_EXIT_VIOLATION : CHILD_EXIT_FAULT);
}

static int alt_stack(void)
{
	size_t sz = 64 * 1024;
	void *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	stack_t ss = { .ss_sp = p, .ss_size = sz, .ss_flags = 0 };
	return sigaltstack(&ss, NULL);
}

static int install_handlers(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = fault_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], &sa, NULL) != 0)
			return -1;
	return 0;
}

static int install_seccomp(const int *fds, uint32_t n, eimg_error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	int rc = 0;
	if (!ctx)
		return eimg_err(err, EIMG_ENOMEM, NULL, "seccomp_init failed");
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(read), 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fds[i]));
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(write), 1,
					      SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fds[i]));
	}
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit), 0);
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(exit_group), 0);
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer builds only (make sanitize): its runtime queries the
	 * signal stack (sigaltstack with a NULL new stack) on its own; a query
	 * changes nothing.  Release builds never allow it. */
	if (rc == 0)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sigaltstack), 1, SCMP_A0(SCMP_CMP_EQ, 0));
#endif
	/* a foreign syscall ABI (int 0x80, x32) kills the whole process */
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
	if (rc == 0)
		rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc != 0)
		return eimg_err(err, EIMG_EIO, NULL, "installing the seccomp sandbox failed: %s", strerror(-rc));
	return EIMG_OK;
}

/* Closes every descriptor except the channels. */
static int close_others(const int *fds, uint32_t n)
{
	unsigned lo = 0;
	int *s = malloc(n * sizeof *s);
	if (!s)
		return -1;
	memcpy(s, fds, n * sizeof *s);
	for (uint32_t i = 1; i < n; i++)     /* insertion sort: n is small */
		for (uint32_t j = i; j > 0 && s[j - 1] > s[j]; j--) {
			int t = s[j];
			s[j] = s[j - 1];
			s[j - 1] = t;
		}
	for (uint32_t i = 0; i < n; i++) {
		if ((unsigned)s[i] > lo && close_range(lo, (unsigned)s[i] - 1, 0) != 0) {
			free(s);
			return -1;
		}
		lo = (unsigned)s[i] + 1;
	}
	free(s);
	return close_range(lo, ~0u, 0);
}

/* Host services (enclave-run --state): the request goes to the parent over
 * the TCS's service channel, the answer comes back on it (run/state.c,
 * eimg_state_serve).  Strictly one request, one answer per channel. */
static const int *g_svc_fds;

static uint64_t child_ocall(void *ctx, uint32_t tcs, uint64_t op, uint8_t *buf, size_t len, size_t cap)
{
	uint8_t hdr[CH_HDR];
	(void)ctx;
	int fd = g_svc_fds[tcs];
	eimg_ch_header(hdr, (uint32_t)len, CH_OCALL, op, cap);
	if (eimg_fd_write_all(fd, hdr, CH_HDR) != 0 || (len && eimg_fd_write_all(fd, buf, len) != 0) ||
	    eimg_fd_read_all(fd, hdr, CH_HDR) != 1)
		return EIMG_OCALL_EIO;
	uint32_t alen = eimg_get_le32(hdr);
	uint64_t result = eimg_get_le64(hdr + 8);
	if (eimg_get_le32(hdr + 4) != CH_OCALL || alen > cap || (result < EIMG_OCALL_EFIRST && result != alen))
		return EIMG_OCALL_EIO;
	if (alen && eimg_fd_read_all(fd, buf, alen) != 1)
		return EIMG_OCALL_EIO;
	return result;
}

/* The loading step's reports (eimg_progress, already at most every
 * EIMG_PROGRESS_INTERVAL_MS) as CH_PROGRESS frames on channel 0; the
 * runner draws them (run/load_progress.c).  ctx: the descriptor. */
static void child_progress(void *ctx, const char *step, uint64_t done, uint64_t total, bool finished)
{
	uint8_t f[CH_HDR];
	(void)total;   /* the runner knows it */
	eimg_ch_header(f, 0, CH_PROGRESS, done, eimg_load_step_word(step, finished));
	(void)eimg_fd_write_all(*(const int *)ctx, f, CH_HDR);
}

struct child_thread {
	pthread_t th;
	struct sim_worker_args w;
	volatile int ready;
};

static void *child_thread_main(void *arg)
{
	struct child_thread *ct = arg;
	t_fd = ct->w.fd;
	t_tcs = ct->w.tcs;
	if (alt_stack() != 0)
		child_exit(CHILD_EXIT_HOSTERR);
	__atomic_store_n(&ct->ready, 1, __ATOMIC_RELEASE);
	int rc = eimg_sim_worker(&ct->w);
	child_exit(rc);
	return NULL;
}

void eimg_sim_child_main(const eimg_layout *l, const uint8_t mrenclave[32], const int *fds,
			 struct eimg_ring_pair *rings, uint32_t n,
			 size_t max_message, bool progress, bool attest_init, bool services)
{
	struct eimg_progress lp = { .fn = child_progress, .ctx = (void *)&fds[0] };
	eimg_error err;
	eimg_sim_enclave *e = NULL;
	struct child_thread *ct = NULL;
	uint32_t nfds = services ? 2 * n : n;   /* service channels follow the message channels */
	int rc;

	g_fd0 = fds[0];
	t_fd = fds[0];
	signal(SIGPIPE, SIG_IGN);
	if (close_others(fds, nfds) != 0) {
		send_msg(fds[0], CH_LOADERR, EIMG_EIO, "closing file descriptors failed");
		child_exit(CHILD_EXIT_LOADERR);
	}
	rc = eimg_sim_load_progress(l, mrenclave, progress ? &lp : NULL, &e, &err);
	if (rc != EIMG_OK) {
		send_msg(fds[0], CH_LOADERR, (uint64_t)rc, err.msg);
		child_exit(CHILD_EXIT_LOADERR);
	}
	g_base = eimg_sim_base(e);
	g_size = eimg_sim_size(e);
	if (services) {
		g_svc_fds = fds + n;
		eimg_sim_set_ocall(e, child_ocall, NULL);
	}
	if (!(ct = calloc(n, sizeof *ct))) {
		send_msg(fds[0], CH_LOADERR, EIMG_ENOMEM, "out of memory");
		child_exit(CHILD_EXIT_LOADERR);
	}
	/* All buffers before the sandbox: afterwards not even malloc may ask
	 * the kernel for memory. */
	for (uint32_t i = 0; i < n; i++) {
		ct[i].w = (struct sim_worker_args){ .engine = &eimg_sim_engine, .enclave = e, .tcs = i, .fd = fds[i], .ring = &rings[i],
						    .max_message = max_message, .switchless = true,
						    .sandboxed = 1 };
		if (eimg_sim_worker_alloc(&ct[i].w) != 0) {
			send_msg(fds[0], CH_LOADERR, EIMG_ENOMEM, "out of memory for message buffers");
			child_exit(CHILD_EXIT_LOADERR);
		}
	}
	if (install_handlers() != 0 || alt_stack() != 0) {
		send_msg(fds[0], CH_LOADERR, EIMG_EIO, "installing signal handlers failed");
		child_exit(CHILD_EXIT_LOADERR);
	}
	for (uint32_t i = 1; i < n; i++) {
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 256 * 1024);
		if (pthread_create(&ct[i].th, &at, child_thread_main, &ct[i]) != 0) {
			send_msg(fds[0], CH_LOADERR, EIMG_ENOMEM, "cannot create worker threads");
			child_exit(CHILD_EXIT_LOADERR);
		}
		pthread_attr_destroy(&at);
	}
	for (uint32_t i = 1; i < n; i++)
		while (!__atomic_load_n(&ct[i].ready, __ATOMIC_ACQUIRE))
			sched_yield();
	rc = install_seccomp(fds, nfds, &err);
	if (rc != EIMG_OK) {
		send_msg(fds[0], CH_LOADERR, (uint64_t)rc, err.msg);
		child_exit(CHILD_EXIT_LOADERR);
	}
	/* From here on: only read/write on the channels, and exit. */
	ct[0].w.fd = fds[0];
	size_t klen = 0;
	if (attest_init) {
		/* enclave_init runs now, sandboxed like a message; its key comes
		 * back in the worker's output buffer, behind the frame header */
		struct eimg_sim_result res;
		struct log_ctx lc = { &ct[0].w, 0, 0 };
		rc = eimg_sim_init(e, ct[0].w.out + CH_HDR, max_message, &klen, worker_log, &lc, &res, &err);
		if (rc != EIMG_OK) {
			send_msg(fds[0], err.sys_errno == EFAULT ? CH_EXCEPTION : CH_HOSTERR, 0, err.msg);
			child_exit(CHILD_EXIT_HOSTERR);
		}
		if (lc.failed)
			child_exit(CHILD_EXIT_PROTOCOL);
		if (res.status != EIMG_ECALL_OK) {
			char m[200];
			snprintf(m, sizeof m, "the enclave's start-up call (enclave_init, attestation key) failed: %s%s",
				 eimg_sim_status_text(res.status),
				 res.status == EIMG_ECALL_ETOOBIG ? " (the key exceeds --max-message)" : "");
			send_msg(fds[0], CH_LOADERR, EIMG_EINVAL, m);
			child_exit(CHILD_EXIT_LOADERR);
		}
	}
	eimg_ch_header(ct[0].w.out, (uint32_t)klen, CH_READY, (uint64_t)(uintptr_t)g_base, attest_init ? 1 : 0);
	if (eimg_fd_write_all(fds[0], ct[0].w.out, CH_HDR + klen) != 0)
		child_exit(CHILD_EXIT_PROTOCOL);
	if (klen)
		memset(ct[0].w.out + CH_HDR, 0, klen);
	child_exit(eimg_sim_worker(&ct[0].w));
	__builtin_unreachable();
}
