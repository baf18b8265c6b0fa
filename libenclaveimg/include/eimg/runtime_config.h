/* SPDX-License-Identifier: Apache-2.0 */
/* What the image's runtime configuration (runtime.json, the manifest's
 * unmeasured `runtime:` section) says about running it. */
#ifndef EIMG_RUNTIME_CONFIG_H
#define EIMG_RUNTIME_CONFIG_H

#include <stddef.h>

#include "eimg/error.h"
#include "eimg/image.h"

/* The listening address: "listen": "unix:PATH" | "tcp:PORT" ..., or
 * "ingress": [PORT] (loopback: "tcp:127.0.0.1:PORT"), into buf; "" when it
 * names none.  EIMG_EINVAL for both keys, or either one malformed; source
 * names the image in the error. */
int eimg_runtime_listen(const eimg_image *img, const char *source, char *buf, size_t size, eimg_error *err);

#endif
