/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the channel between the runner (run/runner.c) and the workers that
 * enter the enclave (sim_child.c), one stream socket and one ring pair
 * (run/ring_int.h, shared memory) per TCS.
 *
 * Messages and replies travel through the rings: a request slot holds the
 * message (tag RT_INLINE) or says that it follows on the socket as a CH_REQ
 * frame (RT_SOCKET: larger than a slot); a reply slot's tag is the
 * EIMG_ECALL_* status, its payload the reply (OK) or the 8-byte detail, or
 * the tag RT_SOCKET says the reply follows on the socket as a CH_REPLY frame
 * (larger than a slot, a status beyond 16 bits, or a message that logged:
 * its log lines come first).  The socket carries everything else (log
 * lines, READY, faults) and serves as the doorbell: a side that sleeps
 * blocks reading it (the runner in poll), and a producer that finds the
 * consumer asleep sends a CH_BELL frame.  No system call per message while
 * both sides are busy; the sandbox keeps its read/write-on-the-channels
 * filter.
 *
 * Frame: 24-byte header, little-endian: u32 payload length, u32 type,
 * u64 a, u64 b; then the payload.  Everything a worker sends is treated as
 * untrusted by the runner (in the simulation the enclave shares the
 * worker's process and could write to the channel itself). */
#ifndef EIMG_SIM_INT_H
#define EIMG_SIM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/sim.h"
#include "eimg/enclave_abi.h"

#define CH_HDR 24

enum ch_type {
	CH_REQ = 1,       /* runner -> worker: a message (payload) */
	CH_REPLY = 2,     /* a = EIMG_ECALL_* status, b = detail; payload = reply when OK */
	CH_LOG = 3,       /* payload = one log line */
	CH_READY = 4,     /* loaded, measured, sandboxed (channel 0 only); a = base;
			     b = 1: EIMG_ECALL_INIT ran, payload = the attestation key */
	CH_LOADERR = 5,   /* a = eimg status; payload = message */
	CH_FAULT = 6,     /* a = signal; payload = struct ch_fault (8 u64) */
	CH_VIOLATION = 7, /* a = SIGSYS; payload = struct ch_fault */
	CH_HOSTERR = 8,   /* payload = message (the worker's own failure) */
	CH_EXCEPTION = 9, /* payload = message: the CPU reported an exception inside the
			     enclave (hardware backend) */
	CH_BELL = 11,     /* both directions, no payload: the ring has work (doorbell) */
	CH_PROGRESS = 12, /* channel 0, before READY, no payload, only when asked: the
			     loading step (run/load_progress.c); a = bytes done, b = step
			     (enum eimg_load_step) | finished << 32 */
	CH_OCALL = 10     /* service channel only (enclave-run --state), both directions:
			     worker -> runner: a = ocall, b = answer capacity, payload = request;
			     runner -> worker: a = result, payload = the answer (result bytes) */
};

/* The loading step's parts, as the workers report them (CH_PROGRESS) and
 * the runner draws them under its own names and its own total (the
 * layout's bytes): a worker can only move a clamped number forward. */
enum eimg_load_step {
	EIMG_LOAD_PLACING = 0,    /* pages placed (simulation) or added (ADD_PAGES) */
	EIMG_LOAD_MEASURING = 1,  /* the placed pages measured again (simulation) */
	EIMG_LOAD_STEPS
};
#define EIMG_LOAD_STEP_PLACING "loading"   /* the step name the loaders report */
#define EIMG_LOAD_FINISHED ((uint64_t)1 << 32)

/* CH_PROGRESS's b for a loader's report (step: EIMG_LOAD_STEP_PLACING or
 * the measurement's "measuring"). */
uint64_t eimg_load_step_word(const char *step, bool finished);

/* eimg_sim_load() reporting into p (NULL: nowhere): EIMG_LOAD_STEP_PLACING,
 * then "measuring" (eimg_sgx_mrenclave_progress); totals the layout's bytes. */
struct eimg_progress;
int eimg_sim_load_progress(const eimg_layout *l, const uint8_t expected[32], struct eimg_progress *p,
			   eimg_sim_enclave **out, eimg_error *err);

/* Ring slot tags besides the reply statuses (see above). */
#define RT_INLINE EIMG_SWL_INLINE
#define RT_SOCKET EIMG_SWL_OUTOFBAND
#define RT_STATUS_MAX 0xffffu   /* reply statuses above this go on the socket */

/* Payload of CH_FAULT / CH_VIOLATION: 8 little-endian u64. */
enum { CHF_CODE, CHF_ADDR, CHF_IP, CHF_BASE, CHF_SIZE, CHF_SYSCALL, CHF_ARCH, CHF_TCS, CHF_N };

/* Child exit statuses. */
enum {
	CHILD_EXIT_OK = 0,
	CHILD_EXIT_FAULT = 10,
	CHILD_EXIT_VIOLATION = 11,
	CHILD_EXIT_LOADERR = 12,
	CHILD_EXIT_PROTOCOL = 13,
	CHILD_EXIT_HOSTERR = 14
};

/* The host side of a switchless call's ocalls (EIMG_OCALL_IDLE .. REPLY,
 * enclave_abi.h): returns the result to resume with. */
struct eimg_swl_host {
	uint64_t (*fn)(void *ctx, uint64_t op, uint8_t *out, uint64_t len, size_t cap);
	void *ctx;
};

/* A backend's operations on a loaded enclave, as the workers use them:
 * run one message on a TCS (the contract of eimg_sim_call), the enclave's
 * base address, unload.  An EIMG_EIO status with sys_errno EFAULT from call
 * means an exception inside the enclave (reported as a fault). */
struct eimg_run_engine {
	int (*call)(void *enclave, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
		    eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res, eimg_error *err);
	uint64_t (*base)(const void *enclave);
	void (*unload)(void *enclave);
	/* EIMG_ECALL_SWITCHLESS on a TCS (NULL: the backend has none): serves
	 * the ring pair until the host ends it (the contract of
	 * eimg_sim_switchless). */
	int (*serve)(void *enclave, uint32_t tcs, void *ring, size_t ring_size, uint8_t *out, size_t out_cap,
		     eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl, struct eimg_sim_result *res,
		     eimg_error *err);
};
extern const struct eimg_run_engine eimg_sim_engine;     /* eimg_sim_* (run/runner.c) */
extern const struct eimg_run_engine eimg_sgx_hw_engine;  /* eimg_sgx_hw_* (run/runner.c) */

/* eimg_run() with the hardware loader's system seam (sgx_hw_int.h), so that
 * tests drive the hardware backend through a fake device. */
struct eimg_sgx_hw_ops;
int eimg_run_hw_ops(const eimg_layout *l, const uint8_t mrenclave[32], const struct eimg_run_options *o,
		    const struct eimg_sgx_hw_ops *hw, struct eimg_run_result *res, eimg_error *err);

struct sim_worker_args {
	const struct eimg_run_engine *engine;
	void *enclave;
	uint32_t tcs;
	int fd;               /* this worker's channel end (socket frames, doorbell) */
	struct eimg_ring_pair *ring;   /* this worker's rings */
	size_t max_message;
	uint8_t *in, *out;    /* preallocated: max_message each; out has CH_HDR in front
				 and 16 more bytes (switchless: status and detail) */
	int sandboxed;        /* child process: exit the process on EOF/errors */
	uint8_t *rbuf;        /* preallocated: CH_IOBUF (channel input) */
	size_t rlen, roff;
	bool closed;          /* the runner closed the channel */
	bool switchless;      /* serve with the thread inside the enclave (engine->serve) */
};

#define CH_IOBUF 65536

/* Allocates in/out/rbuf for a worker (before any sandbox); frees them. */
int eimg_sim_worker_alloc(struct sim_worker_args *w);
void eimg_sim_worker_free(struct sim_worker_args *w);

/* Child process: loads, sandboxes, serves; never returns. */
/* progress: report the loading step on channel 0 (CH_PROGRESS, at most
 * every EIMG_PROGRESS_INTERVAL_MS, before the sandbox).  attest_init: after sandboxing, run EIMG_ECALL_INIT and send the enclave's
 * attestation key as the CH_READY payload (b = 1).  services: fds holds n
 * more descriptors after the n channels, one service channel per TCS for
 * the host-service ocalls (CH_OCALL; the sandbox allows read and write on
 * them as on the channels). */
struct eimg_ring_pair;
__attribute__((noreturn)) void eimg_sim_child_main(const eimg_layout *l, const uint8_t mrenclave[32], const int *fds,
						   struct eimg_ring_pair *rings, uint32_t n, size_t max_message, bool progress,
						   bool attest_init, bool services);
/* Serves one channel until EOF (mock mode: a thread).  Returns 0 on EOF. */
int eimg_sim_worker(struct sim_worker_args *w);

void eimg_ch_header(uint8_t *p, uint32_t len, uint32_t type, uint64_t a, uint64_t b);

/* Whole reads and writes on a descriptor (EINTR retried): write 0 or -1;
 * read 1 = got len bytes, 0 = clean EOF before any byte, -1 = error or short. */
int eimg_fd_write_all(int fd, const uint8_t *p, size_t len);
int eimg_fd_read_all(int fd, uint8_t *p, size_t len);

/* One ocall of either loader: a log line to log, a host service to fn
 * (none: EIMG_OCALL_ENOSTATE); the request is out[0..len), the answer goes
 * to out[0..cap).  0 with *result for RESUME, -1 for an unknown ocall. */
int eimg_ocall_dispatch(eimg_ocall_fn fn, void *ctx, uint32_t tcs, uint64_t op, uint8_t *out, uint64_t len,
			size_t cap, eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl, uint64_t *result);

/* EIMG_ECALL_SWITCHLESS through the simulation loader: the thread serves
 * the ring pair inside the enclave; its switchless ocalls go to swl.
 * res: OK when the host ended it, EBADBUF for a broken ring, EBADOP for a
 * runtime without switchless calls, or the status the enclave stopped with. */
int eimg_sim_switchless(eimg_sim_enclave *e, uint32_t tcs, void *ring, size_t ring_size, uint8_t *out, size_t out_cap,
			eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl, struct eimg_sim_result *res,
			eimg_error *err);

#endif
