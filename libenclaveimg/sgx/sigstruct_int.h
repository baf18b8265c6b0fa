/* SPDX-License-Identifier: Apache-2.0 */
/* Private: a SIGSTRUCT's fields as a jansson object, for the library's own
 * JSON documents (the image report).  Not installed. */
#ifndef EIMG_SIGSTRUCT_INT_H
#define EIMG_SIGSTRUCT_INT_H

#include <jansson.h>
#include "eimg/sigstruct.h"

/* A new object (NULL when out of memory). */
json_t *eimg_sigstruct_json(const struct eimg_sigstruct *s);

#endif
