/* SPDX-License-Identifier: Apache-2.0 */
/* The host side of a Nitro image's network policy (run/nitro_net.c), used
 * by the nitro-cli hand-off (run/nitro_run.c).  Not installed. */
#ifndef EIMG_NITRO_NET_INT_H
#define EIMG_NITRO_NET_INT_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

/* Testing aid (enclave-run(1), ENVIRONMENT): when set to unix:PATH or
 * tcp:IP, the enclave's vsock port P is PREFIX:P instead (ingress targets
 * and the egress service), so that the suite runs without vsock. */
#define EIMG_NITRO_NET_ENV "EIMG_NITRO_VSOCK"
#define EIMG_NITRO_NET_PREFIX_MAX 200

typedef struct eimg_nitro_net eimg_nitro_net;
struct eimg_sb;

/* From the canonical manifest inside the verified EIF: *out stays NULL when
 * there is none or it records no supervisor (no host side then).  bind:
 * --ingress-bind (NULL: EIMG_NITRO_INGRESS_BIND_DEFAULT). */
int eimg_nitro_net_open(const char *manifest, size_t len, const char *bind, eimg_nitro_net **out, eimg_error *err);
/* Comment lines ("# ingress: ...", "# egress: ...") for a dry run; cid NULL:
 * not known yet. */
int eimg_nitro_net_describe(const eimg_nitro_net *n, const char *cid, struct eimg_sb *b);
/* Binds every listener, then runs the relay in a thread; log receives its
 * lines ("network: ...") from that thread.  NULL n: nothing to do. */
int eimg_nitro_net_start(eimg_nitro_net *n, uint64_t cid, void (*log)(void *, const char *), void *ctx,
			 eimg_error *err);
/* Stops the relay (closing every connection) and waits for its thread. */
void eimg_nitro_net_stop(eimg_nitro_net *n);
void eimg_nitro_net_free(eimg_nitro_net *n);

#endif
