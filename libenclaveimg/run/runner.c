/* SPDX-License-Identifier: Apache-2.0 */
/* The runner (enclave-run): one poll loop that reads client messages (stdin
 * or a listening socket), hands them to the enclave's workers (a sandboxed
 * child process in simulation, threads of this process in mock mode and on
 * SGX hardware), writes the replies back in request order, relays enclave
 * log lines, and supervises the child.  The backends differ only in how
 * the enclave is loaded and in their struct eimg_run_engine (sim_int.h).
 * This file is the loop; clients.c, channels.c, listen.c and backends.c
 * hold the parts it drives (runner_int.h). */
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

/* Checks the options and allocates the channels and the poll set. */
static int runner_init(struct runner *R, const eimg_layout *l, const struct eimg_run_options *o,
		       const struct eimg_sgx_hw_ops *hw, struct eimg_run_result *res, struct pollfd **pfd, eimg_error *err)
{
	memset(R, 0, sizeof *R);
	memset(res, 0, sizeof *res);
	R->o = o;
	R->res = res;
	R->hw = hw;
	if (o->backend != EIMG_RUN_SIMULATION && o->backend != EIMG_RUN_MOCK && o->backend != EIMG_RUN_HARDWARE)
		return eimg_err(err, EIMG_EUSAGE, NULL, "unknown backend %d", o->backend);
	if (o->on_attest_key && o->backend == EIMG_RUN_HARDWARE)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL,
				"the attestation key of a hardware enclave belongs in its quote (DCAP), not here");
	R->listen_fd = -1;
	R->max = o->max_message ? o->max_message : EIMG_RUN_DEFAULT_MESSAGE;
	if (R->max > EIMG_RUN_MAX_MESSAGE)
		return eimg_err(err, EIMG_EUSAGE, NULL, "the message limit is at most %u bytes", EIMG_RUN_MAX_MESSAGE);
	if (l->threads < 1 || l->threads > EIMG_SIM_MAX_THREADS)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL, "enclave-run runs 1 to %d threads (TCSs); the image has %u",
				EIMG_SIM_MAX_THREADS, l->threads);
	R->nch = l->threads;
	eimg_rn_load_progress_init(R, l);
	R->window = R->nch == 1 ? EIMG_RUN_MAX_PENDING : 1;
	R->ch = calloc(R->nch, sizeof *R->ch);
	*pfd = calloc(R->nch + EIMG_RUN_MAX_CLIENTS * 2 + 4, sizeof **pfd);
	/* poll(2) refuses more entries than RLIMIT_NOFILE (EINVAL), and each
	 * client takes two: never accept more clients than the limit allows. */
	R->max_clients = EIMG_RUN_MAX_CLIENTS;
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY) {
		uint64_t room = nofile.rlim_cur > (uint64_t)R->nch + 4 ? (nofile.rlim_cur - R->nch - 4) / 2 : 0;
		if (room < R->max_clients)
			R->max_clients = (unsigned)room;
	}
	if (!R->ch || !*pfd) {
		free(R->ch);
		R->ch = NULL;
		free(*pfd);
		*pfd = NULL;
		return eimg_err_nomem(err);
	}
	for (uint32_t i = 0; i < R->nch; i++)
		R->ch[i].fd = -1;
	return EIMG_OK;
}

/* Work that needs no poll: hand requests out, write what can be written,
 * drop finished or broken clients. */
static void runner_step(struct runner *R)
{
	eimg_rn_dispatch(R);
	for (uint32_t i = 0; i < R->nch; i++)
		if (buf_avail(&R->ch[i].out) && !R->ch[i].eof)
			eimg_rn_chan_write(R, &R->ch[i]);   /* non-blocking: no need to wait for poll */
	for (unsigned i = 0; i < R->nclients; i++) {
		eimg_rn_client_flush_replies(R, R->clients[i]);
		if (R->clients[i]->out_nonblock && buf_avail(&R->clients[i]->out) && !R->clients[i]->dead)
			eimg_rn_client_write(R->clients[i]);
	}
	for (unsigned i = 0; i < R->nclients;) {
		struct client *c = R->clients[i];
		bool done = c->dead || (c->eof && !c->head && !buf_avail(&c->out));
		if (done && (!c->is_stdio || c->dead || c->eof)) {
			eimg_rn_client_close(R, i);
			continue;
		}
		i++;
	}
}

/* The shutdown grace ran out: fail what the enclave still holds, flush once. */
static void runner_give_up(struct runner *R)
{
	if (!R->dead && !all_idle(R)) {
		if (R->child > 0)
			kill(R->child, SIGKILL);
		R->abandon = R->threads != NULL;
		R->res->outcome = EIMG_RUN_CLEAN;
		eimg_rn_fail_all(R, "the enclave was stopped while handling this message (shutdown)");
		for (unsigned i = 0; i < R->nclients; i++)
			eimg_rn_client_flush_replies(R, R->clients[i]);
	}
	/* one last attempt to flush, then leave */
	for (unsigned i = 0; i < R->nclients; i++)
		if (buf_avail(&R->clients[i]->out))
			eimg_rn_client_write(R->clients[i]);
}

/* Indices of the poll set's parts. */
struct pollidx {
	int stop, listen;
	nfds_t ch0, cl0, n;
};

static void poll_set(struct runner *R, struct pollfd *pfd, struct pollidx *x)
{
	nfds_t n = 0;
	x->stop = x->listen = -1;
	if (R->o->stop_fd >= 0) {
		x->stop = (int)n;
		pfd[n++] = (struct pollfd){ R->o->stop_fd, POLLIN, 0 };
	}
	if (R->listen_fd >= 0 && !R->stopping && R->nclients < R->max_clients && R->ready && !R->accept_paused) {
		x->listen = (int)n;
		pfd[n++] = (struct pollfd){ R->listen_fd, POLLIN, 0 };
	}
	x->ch0 = n;
	for (uint32_t i = 0; i < R->nch; i++) {
		short ev = R->ch[i].eof ? 0 : POLLIN;
		if (buf_avail(&R->ch[i].out) && !R->ch[i].eof)
			ev |= POLLOUT;
		pfd[n++] = (struct pollfd){ R->ch[i].eof ? -1 : R->ch[i].fd, ev, 0 };
	}
	x->cl0 = n;
	for (unsigned i = 0; i < R->nclients; i++) {
		struct client *c = R->clients[i];
		/* Backpressure: a client that does not read its replies is not read either. */
		bool want_in = !c->eof && !R->stopping && R->ready && c->pending < EIMG_RUN_MAX_PENDING &&
			       eimg_rn_client_backlog(c) < EIMG_RUN_CLIENT_BACKLOG;
		pfd[n++] = (struct pollfd){ want_in ? c->in_fd : -1, POLLIN, 0 };
		pfd[n++] = (struct pollfd){ buf_avail(&c->out) ? c->out_fd : -1, POLLOUT, 0 };
	}
	x->n = n;
}

/* The stop descriptor fired: stop taking requests, refuse the queued ones;
 * asked twice, stop now. */
static void stop_requested(struct runner *R, double *stop_deadline)
{
	if (R->stopping && !R->dead)   /* asked twice: stop now */
		*stop_deadline = eimg_rn_now_s() - 1;
	R->stopping = true;
	/* consume a signalfd record, if that is what it is */
	uint8_t sink[128];
	(void)!read(R->o->stop_fd, sink, sizeof sink);
	/* requests not yet handed to the enclave are refused */
	while (R->qhead) {
		struct req *r = R->qhead;
		R->qhead = r->qnext;
		r->qnext = NULL;
		r->done = true;
		r->code = EIMG_FRAME_ESTOPPED;
		r->reply = (uint8_t *)strdup("enclave-run is shutting down");
		r->reply_len = r->reply ? strlen((char *)r->reply) : 0;
		if (!r->c)
			eimg_rn_req_free(r);
	}
	R->qtail = NULL;
}

/* Acts on what poll reported. */
static void poll_handle(struct runner *R, struct pollfd *pfd, const struct pollidx *x, double *stop_deadline)
{
	if (x->stop >= 0 && (pfd[x->stop].revents & (POLLIN | POLLHUP | POLLERR)))
		stop_requested(R, stop_deadline);
	for (uint32_t i = 0; i < R->nch; i++) {
		struct pollfd *p = &pfd[x->ch0 + i];
		if (p->revents & POLLOUT)
			eimg_rn_chan_write(R, &R->ch[i]);
		if (p->revents & (POLLIN | POLLHUP | POLLERR))
			eimg_rn_chan_read(R, &R->ch[i]);
		if (R->ch[i].eof && !R->dead) {
			/* the worker side is gone: the enclave process died */
			eimg_rn_reap_child(R, false);
			if (R->load_status)
				return;
			eimg_rn_enclave_died(R, "enclave fault: the enclave stopped unexpectedly");
		}
	}
	if (R->load_status)
		return;
	for (uint32_t i = 0; i < R->nch; i++)
		eimg_rn_ring_drain(R, &R->ch[i]);
	for (unsigned i = 0; i < R->nclients; i++) {
		struct client *c = R->clients[i];
		struct pollfd *pi = &pfd[x->cl0 + 2 * i], *po = &pfd[x->cl0 + 2 * i + 1];
		if (po->revents & (POLLOUT | POLLERR | POLLHUP)) {
			if (po->revents & POLLOUT)
				eimg_rn_client_write(c);
			else
				c->dead = true;
		}
		if (pi->revents & (POLLIN | POLLHUP | POLLERR))
			eimg_rn_client_read(R, c);
	}
	if (x->listen >= 0 && (pfd[x->listen].revents & POLLIN))
		eimg_rn_accept_client(R);
}

/* The poll loop, until the input ends, a stop was asked and the enclave is
 * idle, or the enclave died and everything was said. */
static int runner_loop(struct runner *R, struct pollfd *pfd, eimg_error *err)
{
	unsigned grace = R->o->shutdown_grace ? R->o->shutdown_grace : 5;
	double stop_deadline = 0;
	for (;;) {
		runner_step(R);
		if (R->load_status)
			break;
		/* the input ended: once the enclave is ready (a load in progress
		 * finishes, and its start-up call runs, as with any input) */
		bool input_over = !R->o->listen && R->nclients == 0 && R->ready;
		if (R->dead && outputs_flushed(R))
			break;
		if ((input_over || R->stopping) && all_idle(R) && outputs_flushed(R))
			break;
		if (R->stopping && stop_deadline == 0)
			stop_deadline = eimg_rn_now_s() + grace;
		if (stop_deadline && eimg_rn_now_s() > stop_deadline) {
			runner_give_up(R);
			break;
		}
		struct pollidx x;
		poll_set(R, pfd, &x);
		int timeout = stop_deadline || R->accept_paused ? 100 : -1;
		R->accept_paused = false;   /* listen again on the next round */
		if (eimg_rn_rings_arm(R))
			timeout = 0;        /* replies waiting: look at the clients, do not sleep */
		int pr = poll(pfd, x.n, timeout);
		eimg_rn_rings_disarm(R);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return eimg_err_sys(err, NULL, "poll");
		}
		poll_handle(R, pfd, &x, &stop_deadline);
		if (R->load_status)
			break;
	}
	if (R->load_status)
		return eimg_err(err, R->load_status, NULL, "%s", R->load_err);
	if (R->input_status && !R->res->what[0])
		return eimg_err(err, R->input_status, NULL, "%s", R->input_err);
	return EIMG_OK;
}

/* Ends the workers (closing the channels), reaps the child, frees everything
 * except what a thread stuck in the enclave still uses. */
static void runner_free(struct runner *R)
{
	eimg_rn_load_progress_end(R);   /* a load that failed: its line ends before the error */
	/* The run is over: a worker that finds its channel closed in the middle
	 * of a write (a log line of a message nobody waits for) exits with an
	 * error, which is no fault of the enclave. */
	R->stopping = true;
	for (uint32_t i = 0; R->ch && i < R->nch; i++)
		if (R->ch[i].fd >= 0) {
			close(R->ch[i].fd);
			R->ch[i].fd = -1;
		}
	if (R->child > 0)
		eimg_rn_reap_child(R, R->dead);
	if (R->threads && !R->abandon) {
		for (uint32_t i = 0; i < R->nthreads; i++)
			pthread_join(R->threads[i], NULL);
	}
	if (!R->abandon)
		eimg_services_stop(&R->svc);
	if (R->wargs && !R->abandon) {
		for (uint32_t i = 0; i < R->nch; i++) {
			if (i < R->nthreads)
				close(R->wargs[i].fd);
			eimg_sim_worker_free(&R->wargs[i]);
		}
	}
	if (!R->abandon) {
		/* a mock thread stuck in the enclave keeps its memory until exit */
		free(R->threads);
		free(R->wargs);
		if (R->enclave)
			R->engine->unload(R->enclave);
		eimg_ring_unmap(R->rings, R->nch);   /* the child's copy went with it */
	}
	eimg_free_secret(R->attest_key, R->attest_key_len);
	while (R->nclients)
		eimg_rn_client_close(R, 0);
	while (R->qhead) {
		struct req *r = R->qhead;
		R->qhead = r->qnext;
		eimg_rn_req_free(r);
	}
	for (uint32_t i = 0; R->ch && i < R->nch; i++) {
		for (struct req *r = R->ch[i].head, *nx; r; r = nx) {
			nx = r->qnext;
			eimg_rn_req_free(r);
		}
		buf_free(&R->ch[i].in);
		buf_free(&R->ch[i].out);
	}
	if (R->listen_fd >= 0)
		close(R->listen_fd);
	if (R->unix_path) {
		unlink(R->unix_path);
		free(R->unix_path);
	}
	free(R->ch);
}

int eimg_run_hw_ops(const eimg_layout *l, const uint8_t mrenclave[32], const struct eimg_run_options *o,
		    const struct eimg_sgx_hw_ops *hw, struct eimg_run_result *res, eimg_error *err)
{
	struct runner R;
	struct pollfd *pfd = NULL;
	char where[160];
	int rc = runner_init(&R, l, o, hw, res, &pfd, err);
	if (rc)
		return rc;
	if (o->listen) {
		if ((rc = eimg_rn_open_listener(&R, o->listen, where, sizeof where, err)))
			goto out;
	} else if (!eimg_rn_client_new(&R, o->in_fd, o->out_fd, true)) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if ((rc = eimg_rn_start_workers(&R, l, mrenclave, err)))
		goto out;
	if (o->listen && o->on_listen)
		o->on_listen(o->listen_ctx, where);
	rc = runner_loop(&R, pfd, err);
out:
	runner_free(&R);
	free(pfd);
	return rc;
}
