/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's backends: the engines (simulation, SGX hardware), loading
 * the enclave in this process or in a sandboxed child, the worker threads,
 * and reaping the child. */
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
#include "run/ring_int.h"
#include "run/sim_int.h"
#include "run/runner_int.h"

/* ------------------------------------------------------------ workers */

/* ------------------------------------------------------------ engines */

static int sim_engine_call(void *e, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
			   eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res, eimg_error *err)
{
	return eimg_sim_call(e, tcs, in, in_len, out, out_cap, log, log_ctx, res, err);
}
static uint64_t sim_engine_base(const void *e) { return (uint64_t)(uintptr_t)eimg_sim_base(e); }
static void sim_engine_unload(void *e) { eimg_sim_unload(e); }

static int sim_engine_serve(void *e, uint32_t tcs, void *ring, size_t ring_size, uint8_t *out, size_t out_cap,
			    eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl,
			    struct eimg_sim_result *res, eimg_error *err)
{
	return eimg_sim_switchless(e, tcs, ring, ring_size, out, out_cap, log, log_ctx, swl, res, err);
}

const struct eimg_run_engine eimg_sim_engine = { sim_engine_call, sim_engine_base, sim_engine_unload,
						 sim_engine_serve };

static int hw_engine_call(void *e, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
			  eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res, eimg_error *err)
{
	return eimg_sgx_hw_call(e, tcs, in, in_len, out, out_cap, log, log_ctx, res, err);
}
static uint64_t hw_engine_base(const void *e) { return eimg_sgx_hw_base(e); }
static void hw_engine_unload(void *e) { eimg_sgx_hw_unload(e); }

static int hw_engine_serve(void *e, uint32_t tcs, void *ring, size_t ring_size, uint8_t *out, size_t out_cap,
			   eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl,
			   struct eimg_sim_result *res, eimg_error *err)
{
	return eimg_sgx_hw_switchless(e, tcs, ring, ring_size, out, out_cap, log, log_ctx, swl, res, err);
}

const struct eimg_run_engine eimg_sgx_hw_engine = { hw_engine_call, hw_engine_base, hw_engine_unload,
						    hw_engine_serve };

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
	struct eimg_progress lp;
	struct eimg_progress *p = eimg_rn_load_reporter(R, &lp);
	if (R->o->backend == EIMG_RUN_MOCK) {
		eimg_sim_enclave *e = NULL;
		int rc = eimg_sim_load_progress(l, mrenclave, p, &e, err);
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
	int rc = eimg_sgx_hw_load_progress(R->hw, l, R->o->sigstruct, R->o->debug_launch, p, &e, err);
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

/* Hardware and --mock: the enclave in this process, one thread per TCS
 * serving its channel and ring; the channel ends the threads now own are
 * marked -1 in child_fds. */
static int start_in_process(struct runner *R, const eimg_layout *l, const uint8_t mrenclave[32], int *child_fds,
			    eimg_error *err)
{
	int rc;
	if ((rc = load_in_process(R, l, mrenclave, err)))
		return rc;
	eimg_services_attach(&R->svc, R->o->backend == EIMG_RUN_HARDWARE, R->enclave);
	if (R->o->on_attest_key && (rc = attest_init_in_process(R, err)))
		return rc;
	R->threads = calloc(R->nch, sizeof *R->threads);
	R->wargs = calloc(R->nch, sizeof *R->wargs);
	if (!R->threads || !R->wargs) {
		return eimg_err_nomem(err);
	}
	for (uint32_t i = 0; i < R->nch; i++) {
		struct sim_worker_args *w = &R->wargs[i];
		*w = (struct sim_worker_args){ .engine = R->engine, .enclave = R->enclave, .tcs = i, .fd = child_fds[i],
					       .ring = &R->rings[i], .max_message = R->max,
					       /* mock: one call per message, for a debugger */
					       .switchless = R->o->backend == EIMG_RUN_HARDWARE };
		if (eimg_sim_worker_alloc(w) != 0) {
			return eimg_err_nomem(err);
		}
	}
	for (uint32_t i = 0; i < R->nch; i++) {
		if (pthread_create(&R->threads[i], NULL, worker_thread, &R->wargs[i]) != 0) {
			/* threads already started get EOF when the channels close */
			return eimg_err(err, EIMG_ENOMEM, NULL, "cannot create enclave threads");
		}
		child_fds[i] = -1;   /* the worker's now (closed after the join) */
		R->nthreads = i + 1;
	}
	eimg_rn_load_progress_end(R);
	R->ready = true;
	if (R->o->on_attest_key) {
		R->o->on_attest_key(R->o->ready_ctx, R->attest_key, R->attest_key_len);
		eimg_free_secret(R->attest_key, R->attest_key_len);
		R->attest_key = NULL;
	}
	if (R->o->on_ready)
		R->o->on_ready(R->o->ready_ctx, R->engine->base(R->enclave));
	return EIMG_OK;
}

int eimg_rn_start_workers(struct runner *R, const eimg_layout *l, const uint8_t mrenclave[32], eimg_error *err)
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
	/* the rings: shared before the fork (and before the sandbox) */
	if (!(R->rings = eimg_ring_map(R->nch))) {
		rc = eimg_err_sys(err, NULL, "mmap (message rings)");
		goto out;
	}
	for (uint32_t i = 0; i < R->nch; i++)
		R->ch[i].ring = &R->rings[i];
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
	if (R->o->state_dir && (rc = eimg_services_start(&R->svc, R->o->state_dir, R->o->state_id, R->nch, R->max,
							      R->o->backend == EIMG_RUN_SIMULATION, err)))
		goto out;
	if (R->o->backend != EIMG_RUN_SIMULATION) {
		rc = start_in_process(R, l, mrenclave, child_fds, err);
	} else {
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0) {
			rc = eimg_err_sys(err, NULL, "fork");
			goto out;
		}
		if (pid == 0) {
			/* the service channels follow the message channels */
			int *fds = R->svc.n ? realloc(child_fds, 2 * R->nch * sizeof *fds) : child_fds;
			if (fds && R->svc.n)
				memcpy(fds + R->nch, R->svc.child_fds, R->nch * sizeof *fds);
			eimg_sim_child_main(l, mrenclave, fds ? fds : child_fds, R->rings, R->nch, R->max,
					    R->o->progress != NULL, R->o->on_attest_key != NULL, fds && R->svc.n);
		}
		R->child = pid;
		eimg_services_forked(&R->svc);
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
			eimg_rn_set_nonblock(R->ch[i].fd);
	return rc;
}

/* Reaps the child; fills the outcome from its status when no report came. */
void eimg_rn_reap_child(struct runner *R, bool force)
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
