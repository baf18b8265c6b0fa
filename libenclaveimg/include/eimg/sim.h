/* SPDX-License-Identifier: Apache-2.0 */
/* Running SGX enclaves without SGX hardware: the simulation loader, the
 * sandboxed runner and mock mode (enclave-run(1)).
 *
 * The loader does what ECREATE/EADD/EEXTEND/EINIT do, in ordinary memory:
 * it reserves an address range of the enclave's size aligned to that size,
 * places exactly the layout's pages with their SECINFO permissions (pages
 * not added stay inaccessible), recomputes MRENCLAVE from the bytes it
 * placed and refuses to enter unless it equals the SIGSTRUCT's enclavehash.
 * Entering jumps to TCS.OENTRY with the registers EENTER sets
 * (libenclaveimg/include/eimg/enclave_abi.h).
 *
 * Simulation is a development aid, not a protection of the enclave: the
 * host can read enclave memory.  What it does protect is the host: in the
 * simulation backend the enclave runs in a child process that may only read
 * and write its message channels and exit (seccomp). */
#ifndef EIMG_SIM_H
#define EIMG_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/constraint.h"
#include "eimg/error.h"
#include "eimg/layout.h"
#include "eimg/progress.h"

/* Message size limits (enclave-run(1)). */
#define EIMG_RUN_DEFAULT_MESSAGE (1u << 20)    /* default --max-message: 1 MiB */
#define EIMG_RUN_MAX_MESSAGE     (64u << 20)   /* largest --max-message: 64 MiB */
#define EIMG_RUN_MAX_CLIENTS     64            /* open connections with --listen */
#define EIMG_RUN_MAX_PENDING     64            /* requests read ahead per client */
/* Backpressure: a client is not read from while its backlog (unanswered
 * requests, answered replies waiting in order, reply bytes not yet sent)
 * is at least this many bytes; the other clients are served meanwhile. */
#define EIMG_RUN_CLIENT_BACKLOG  (256u << 10)
#define EIMG_SIM_MAX_THREADS     256           /* TCSs the simulation backend runs */

/* ---- the loader (sim.c) ---- */

typedef struct eimg_sim_enclave eimg_sim_enclave;

/* Places the layout's pages, measures them and compares the result with
 * expected_mrenclave (EIMG_EVERIFY naming both values on mismatch: EINIT
 * would refuse).  The layout must outlive the enclave. */
int eimg_sim_load(const eimg_layout *l, const uint8_t expected_mrenclave[32], eimg_sim_enclave **out,
		  eimg_error *err);
void eimg_sim_unload(eimg_sim_enclave *e);

uint8_t *eimg_sim_base(const eimg_sim_enclave *e);
uint64_t eimg_sim_size(const eimg_sim_enclave *e);
uint32_t eimg_sim_threads(const eimg_sim_enclave *e);
/* MRENCLAVE of the placed pages. */
const uint8_t *eimg_sim_mrenclave(const eimg_sim_enclave *e);

/* Called for each log line the enclave sends (an ocall). */
typedef void (*eimg_sim_log_fn)(void *ctx, const char *text, size_t len);

/* Called for each host-service ocall (enclave_abi.h: EIMG_OCALL_SEAL_KEY,
 * _STATE_READ, _STATE_WRITE) on TCS tcs: the request is buf[0..len) (the
 * call's output buffer), the answer goes to buf[0..cap); returns the result
 * the enclave resumes with (an answer length or EIMG_OCALL_E*).  Without a
 * handler these ocalls answer EIMG_OCALL_ENOSTATE. */
typedef uint64_t (*eimg_ocall_fn)(void *ctx, uint32_t tcs, uint64_t op, uint8_t *buf, size_t len, size_t cap);

/* Sets the handler of host-service ocalls for every TCS (before calls start). */
void eimg_sim_set_ocall(eimg_sim_enclave *e, eimg_ocall_fn fn, void *ctx);

struct eimg_sim_result {
	uint64_t status;   /* EIMG_ECALL_* (enclave_abi.h) */
	uint64_t detail;   /* reply length for EIMG_ECALL_OK, see enclave_abi.h */
};

/* Hands one message to the enclave on TCS tcs (0-based) and runs it to the
 * end, serving its ocalls.  in and out must be host memory.  Fails only for
 * host-side problems (EIMG_EINVAL: bad TCS, the enclave left with an unknown
 * exit or ocall); the enclave's own verdict is in res. */
int eimg_sim_call(eimg_sim_enclave *e, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out,
		  size_t out_cap, eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res,
		  eimg_error *err);

/* The optional EIMG_ECALL_INIT (enclave_abi.h) on TCS 0, before the first
 * message: runs the program's enclave_init and returns the public key it
 * published with enclave_set_attestation_key() for its attestation document
 * (enclave-attestation(5)).  *key_len is the key's length (0: none
 * published, or a runtime without INIT).  Fails only for host-side
 * problems, as eimg_sim_call; the enclave's verdict is in res
 * (EIMG_ECALL_ETOOBIG: the key exceeds key_cap, res->detail its length). */
int eimg_sim_init(eimg_sim_enclave *e, uint8_t *key, size_t key_cap, size_t *key_len, eimg_sim_log_fn log,
		  void *log_ctx, struct eimg_sim_result *res, eimg_error *err);

/* Text for an EIMG_ECALL_* status ("the enclave heap is exhausted", ...). */
const char *eimg_sim_status_text(uint64_t status);

/* ---- the runner (run/runner.c) ---- */

enum eimg_run_backend {
	EIMG_RUN_SIMULATION = 1,  /* child process, seccomp sandbox */
	EIMG_RUN_MOCK = 2,        /* same loader and runtime in this process, no sandbox */
	EIMG_RUN_HARDWARE = 3     /* SGX through /dev/sgx_enclave (eimg/sgx_hw.h), threads in
				     this process; the CPU protects the enclave */
};

enum eimg_run_outcome {
	EIMG_RUN_CLEAN = 0,       /* input ended or shut down on request */
	EIMG_RUN_FAULT = 1,       /* the enclave faulted or aborted */
	EIMG_RUN_VIOLATION = 2    /* the enclave tried a system call (sandbox) */
};

struct eimg_run_options {
	int backend;              /* enum eimg_run_backend */
	const char *listen;       /* NULL: stdin/stdout; "unix:PATH", "tcp:PORT" or "tcp:127.0.0.1:PORT" */
	bool lines;               /* line mode instead of length-prefixed frames */
	size_t max_message;       /* 0: EIMG_RUN_DEFAULT_MESSAGE */
	int in_fd, out_fd;        /* for stdio: normally 0 and 1 */
	int stop_fd;              /* readable (e.g. a signalfd) = shut down; -1 for none */
	unsigned shutdown_grace;  /* seconds to let running messages finish on stop (0: 5) */
	eimg_sim_log_fn log;      /* enclave log lines (NULL: dropped) */
	void *log_ctx;
	/* Called once the listening socket is ready (may be NULL). */
	void (*on_listen)(void *ctx, const char *where);
	void *listen_ctx;
	/* Called after the enclave is loaded and sandboxed, before the first
	 * message (may be NULL), with the enclave's base address (in the child
	 * process for the simulation backend; in this process for mock mode,
	 * where a debugger loads the ELF's symbols at that offset). */
	void (*on_ready)(void *ctx, uint64_t base);
	void *ready_ctx;
	/* The loading step, reported here (NULL: not; eimg/progress.h) as
	 * "loading" (the pages placed, or added with ADD_PAGES on hardware) and,
	 * in simulation and mock mode, "measuring loaded pages" (MRENCLAVE of
	 * the placed pages), each of the layout's bytes.  The simulation child
	 * reports over its channel; the numbers it sends are clamped. */
	struct eimg_progress *progress;
	/* When set (simulation and mock backends): before the first message,
	 * the enclave is asked once for the public key it published for its
	 * attestation document (EIMG_ECALL_INIT, which also runs its
	 * enclave_init), and this is called with it (len 0: none published),
	 * right before on_ready, with ready_ctx.  An enclave_init that fails
	 * then ends the run before any message, as a load error. */
	void (*on_attest_key)(void *ctx, const uint8_t *key, size_t len);
	/* Hardware backend only: the image's SIGSTRUCT (1808 bytes) for EINIT,
	 * and whether to launch with the DEBUG attribute (refused when the
	 * SIGSTRUCT does not allow it). */
	const uint8_t *sigstruct;
	bool debug_launch;
	/* enclave-run --state: a folder for the enclave's sealed state (the
	 * host services of enclave_abi.h: sealing keys in simulation and mock
	 * mode, the state file); NULL: none.  state_id is the enclave's
	 * identity (MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN from the verified
	 * SIGSTRUCT), which simulated sealing keys are bound to. */
	const char *state_dir;
	const struct eimg_identity *state_id;
};

struct eimg_run_result {
	int outcome;              /* enum eimg_run_outcome */
	uint64_t messages;        /* messages the enclave handled */
	char what[EIMG_ERROR_MSG_MAX]; /* fault/violation description, "" when clean */
};

/* Loads the layout (expected_mrenclave from the verified SIGSTRUCT) and
 * serves messages until the input ends, stop_fd becomes readable, or the
 * enclave dies.  Returns EIMG_OK with res->outcome telling how it ended;
 * EIMG_EVERIFY when the placed pages do not measure to expected_mrenclave
 * (nothing ran); other statuses for host problems (socket in use, out of
 * memory, malformed input frames on stdin).
 *
 * One loop serves every backend; a backend is a loader plus a small table
 * of operations on the loaded enclave (run one message on a TCS, unload),
 * driven by one worker per TCS: in a sandboxed child process (simulation)
 * or in threads of this process (mock, hardware).  The hardware backend
 * loads with eimg_sgx_hw_load(l, o->sigstruct, o->debug_launch) (the CPU's
 * EINIT checks the measurement) and calls eimg_sgx_hw_call(); an exception
 * inside the enclave ends the run as EIMG_RUN_FAULT.  Platform problems
 * (no device, no FLC, permissions, ...) come back as the loader's
 * statuses and messages (eimg/sgx_hw.h); nothing ran. */
int eimg_run(const eimg_layout *l, const uint8_t expected_mrenclave[32], const struct eimg_run_options *o,
	     struct eimg_run_result *res, eimg_error *err);

/* ---- frames (run/frames.c) ----
 * Client frames, both directions: a 4-byte big-endian payload length, a
 * 4-byte big-endian code, then the payload.  Requests carry code 0.  Replies
 * carry EIMG_FRAME_OK with the enclave's reply, or an error code with a
 * one-line UTF-8 explanation. */
#define EIMG_FRAME_HEADER 8
enum eimg_frame_code {
	EIMG_FRAME_OK = 0,
	EIMG_FRAME_EAPP = 1,      /* the enclave's handler returned an error */
	EIMG_FRAME_EENCLAVE = 2,  /* the enclave refused the message (heap, size, ...) */
	EIMG_FRAME_EMALFORMED = 3,/* the request frame was malformed; the connection is closed */
	EIMG_FRAME_ESTOPPED = 4   /* the enclave stopped (fault, violation, shutdown) */
};

/* Incremental parser: feed bytes, get complete frames. */
struct eimg_frame_parser {
	size_t max;               /* largest payload accepted */
	bool lines;               /* line mode: one message per '\n'-terminated line */
	uint8_t hdr[EIMG_FRAME_HEADER];
	size_t hdr_have;
	uint8_t *buf;             /* payload being collected */
	size_t need, have;
	bool in_payload;
	bool failed;
	char why[160];            /* set when failed */
};

void eimg_frame_parser_init(struct eimg_frame_parser *p, size_t max, bool lines);
void eimg_frame_parser_free(struct eimg_frame_parser *p);
/* Consumes up to len bytes of data; *used receives how many.  Returns 1
 * with *msg and *msg_len (malloc'ed; the caller frees) when a frame completed,
 * 0 when all bytes were consumed without completing one, -1 on a malformed
 * frame (p->why explains; the parser stays failed), -2 out of memory. */
int eimg_frame_feed(struct eimg_frame_parser *p, const uint8_t *data, size_t len, size_t *used,
		    uint8_t **msg, size_t *msg_len);
/* At end of input: -1 (p->why) when a frame was cut short, else 0.  In
 * line mode a last line without '\n' completes as a message (1). */
int eimg_frame_finish(struct eimg_frame_parser *p, uint8_t **msg, size_t *msg_len);
/* Writes a frame header. */
void eimg_frame_header(uint8_t out[EIMG_FRAME_HEADER], uint32_t len, uint32_t code);

#endif
