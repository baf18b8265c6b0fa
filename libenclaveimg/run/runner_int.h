/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the runner (run/runner.c and the files it is made of): the
 * runner's state, its clients, the enclave channels and the requests that
 * travel between them. */
#ifndef EIMG_RUNNER_INT_H
#define EIMG_RUNNER_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
#include <sys/types.h>
#include <time.h>

#include "eimg/sgx_hw.h"
#include "eimg/sim.h"
#include "run/sim_int.h"
#include "run/state_int.h"

#define RBUF 65536
#define STDIO_WCHUNK 4096   /* at most PIPE_BUF per write on a blocking stdout */

struct buf {
	uint8_t *p;
	size_t off, len, cap;   /* data is p[off, len) */
};
static inline size_t buf_avail(const struct buf *b) { return b->len - b->off; }
static inline void buf_free(struct buf *b) { free(b->p); memset(b, 0, sizeof *b); }

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

struct eimg_ring_pair;

struct chan {
	int fd;                   /* socket: frames besides messages, the doorbell */
	struct eimg_ring_pair *ring;   /* messages and replies (run/ring_int.h) */
	bool await;               /* a reply slot said: the reply follows on the socket */
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
	struct eimg_ring_pair *rings;  /* nch pairs, shared with the workers */
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
	struct eimg_run_services svc;  /* enclave-run --state */
	uint64_t load_total;      /* the loading step's total: the layout's bytes */
	int load_step;            /* enum eimg_load_step drawn last, -1 none yet */
	bool load_done;           /* and it finished */
};

/* ---- run/channels.c ---- */
int eimg_rn_buf_reserve(struct buf *b, size_t more);
int eimg_rn_buf_put(struct buf *b, const void *p, size_t len);
void eimg_rn_req_free(struct req *r);
double eimg_rn_now_s(void);
void eimg_rn_set_nonblock(int fd);
void eimg_rn_describe_fault(struct runner *R, uint32_t type, uint64_t sig, const uint8_t *p, size_t len);
void eimg_rn_fail_all(struct runner *R, const char *why);
void eimg_rn_enclave_died(struct runner *R, const char *fallback);
void eimg_rn_dispatch(struct runner *R);
void eimg_rn_chan_read(struct runner *R, struct chan *c);
void eimg_rn_chan_write(struct runner *R, struct chan *c);
void eimg_rn_complete_req(struct runner *R, struct chan *c, uint64_t status, uint64_t detail, const uint8_t *p,
			  size_t len);
/* The worker broke the protocol: record it, kill the child, fail everything. */
void eimg_rn_protocol_violation(struct runner *R, const char *what);

/* ---- run/chan_ring.c: the rings of the channels ---- */
/* Hands a request to the channel's worker (its ring; larger than a slot:
 * a marker and a CH_REQ frame).  0, or -1 when the enclave died. */
int eimg_rn_ring_send(struct runner *R, struct chan *c, struct req *r);
/* Completes the replies waiting in the channel's ring, in order, up to one
 * that follows on the socket (c->await). */
void eimg_rn_ring_drain(struct runner *R, struct chan *c);
/* Before poll: spins briefly while replies are due, then announces that
 * the runner sleeps.  true: a reply is there already (poll must not block).
 * After poll: eimg_rn_rings_disarm. */
bool eimg_rn_rings_arm(struct runner *R);
void eimg_rn_rings_disarm(struct runner *R);

/* ---- run/clients.c ---- */
struct client *eimg_rn_client_new(struct runner *R, int in_fd, int out_fd, bool is_stdio);
void eimg_rn_client_flush_replies(struct runner *R, struct client *c);
void eimg_rn_client_close(struct runner *R, unsigned idx);
void eimg_rn_client_read(struct runner *R, struct client *c);
void eimg_rn_client_write(struct client *c);
/* Bytes of a client's unanswered requests, waiting replies and unsent
 * output (backpressure: EIMG_RUN_CLIENT_BACKLOG). */
size_t eimg_rn_client_backlog(const struct client *c);

/* ---- run/listen.c ---- */
int eimg_rn_open_listener(struct runner *R, const char *spec, char *where, size_t wsize, eimg_error *err);
void eimg_rn_accept_client(struct runner *R);

/* ---- run/load_progress.c: the loading step drawn (o->progress) ---- */
void eimg_rn_load_progress_init(struct runner *R, const eimg_layout *l);
/* A report: b of a CH_PROGRESS frame (eimg_load_step_word) and the bytes
 * done (clamped to the total).  -1 for one that may not come (then the
 * caller stops the worker as a protocol violation). */
int eimg_rn_load_progress(struct runner *R, uint64_t word, uint64_t done);
/* Finishes a step still drawn (READY, a load error, the end of the run). */
void eimg_rn_load_progress_end(struct runner *R);
/* For an in-process loader: p set up to report into the runner, or NULL
 * when no progress is wanted. */
struct eimg_progress *eimg_rn_load_reporter(struct runner *R, struct eimg_progress *p);

/* ---- run/backends.c ---- */
int eimg_rn_start_workers(struct runner *R, const eimg_layout *l, const uint8_t mrenclave[32], eimg_error *err);
void eimg_rn_reap_child(struct runner *R, bool force);

#endif
