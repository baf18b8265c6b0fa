/* SPDX-License-Identifier: Apache-2.0 */
/* The host services of one run (enclave-run --state DIR): the state folder,
 * and for the sandboxed simulation child one service channel per TCS with
 * a thread serving it; in-process backends (mock, hardware) call the
 * services directly.  The runner calls these at start, fork and end. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eimg/sgx_hw.h"
#include "core/internal.h"
#include "run/sim_int.h"
#include "run/state_int.h"

int eimg_services_start(struct eimg_run_services *sv, const char *dir, const struct eimg_identity *id, uint32_t n,
			size_t max, bool channels, eimg_error *err)
{
	memset(sv, 0, sizeof *sv);
	int rc = eimg_state_open(dir, id, &sv->state, err);
	if (rc || !channels)
		return rc;
	sv->child_fds = malloc(n * sizeof *sv->child_fds);
	sv->srv = calloc(n, sizeof *sv->srv);
	sv->threads = calloc(n, sizeof *sv->threads);
	if (!sv->child_fds || !sv->srv || !sv->threads)
		return eimg_err_nomem(err);
	for (uint32_t i = 0; i < n; i++) {
		int p[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0)
			return eimg_err_sys(err, NULL, "socketpair for the state service");
		sv->child_fds[i] = p[1];
		sv->srv[i] = (struct eimg_state_server){ sv->state, p[0], max };
		sv->n = i + 1;
		if (pthread_create(&sv->threads[i], NULL, eimg_state_serve, &sv->srv[i]) != 0) {
			close(p[0]);
			sv->srv[i].fd = -1;
			sv->n = i;
			return eimg_err(err, EIMG_ENOMEM, NULL, "cannot create the state service threads");
		}
	}
	return EIMG_OK;
}

void eimg_services_attach(struct eimg_run_services *sv, bool hardware, void *enclave)
{
	if (!sv->state)
		return;
	if (hardware)
		eimg_sgx_hw_set_ocall(enclave, eimg_state_ocall_fn, sv->state);
	else
		eimg_sim_set_ocall(enclave, eimg_state_ocall_fn, sv->state);
}

void eimg_services_forked(struct eimg_run_services *sv)
{
	for (uint32_t i = 0; i < sv->n; i++) {
		close(sv->child_fds[i]);
		sv->child_fds[i] = -1;
	}
}

void eimg_services_stop(struct eimg_run_services *sv)
{
	for (uint32_t i = 0; i < sv->n; i++) {
		if (sv->child_fds[i] >= 0)
			close(sv->child_fds[i]);
		shutdown(sv->srv[i].fd, SHUT_RDWR);   /* the thread sees EOF */
		pthread_join(sv->threads[i], NULL);
		close(sv->srv[i].fd);
	}
	free(sv->child_fds);
	free(sv->srv);
	free(sv->threads);
	eimg_state_close(sv->state);
	memset(sv, 0, sizeof *sv);
}
