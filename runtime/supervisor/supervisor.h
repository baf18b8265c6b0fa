/* SPDX-License-Identifier: Apache-2.0 */
/* eimg-supervisor: the in-enclave supervisor of Nitro images (enclave-nitro(7)).
 * A static program: it compiles libenclaveimg/net and core/error.c directly
 * and links jansson statically. */
#ifndef EIMG_SUPERVISOR_H
#define EIMG_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "eimg/error.h"

#define SUP_MANIFEST_MAX (1u << 20)  /* bytes of the manifest */
#define SUP_ENV_MAX 4096             /* environment entries */
#define SUP_ARGV_MAX 4096            /* entrypoint arguments */

/* What the supervisor takes from the canonical manifest. */
struct sup_manifest {
	char **argv;       /* nitro.entrypoint, NULL-terminated */
	char **env;        /* nitro.env + the proxy variables, NULL-terminated */
	char *working_dir; /* nitro.working_dir or NULL */
	uint16_t *ingress;
	size_t ningress;
	char **allow, **deny;
	size_t nallow, ndeny;
};

/* Reads and checks the manifest at path (a Nitro manifest with an entrypoint);
 * proxy_url ("http://127.0.0.1:10000") goes into HTTP_PROXY and friends. */
int sup_manifest_read(const char *path, const char *proxy_url, struct sup_manifest *m, eimg_error *err);
void sup_manifest_free(struct sup_manifest *m);

/* Starts the application: fork, chdir, exec with m->env.  *pid on success. */
int sup_spawn(const struct sup_manifest *m, pid_t *pid, eimg_error *err);

#endif
