/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the pieces of the Intel SGX SDK reader shared by
 * sdk_metadata.c (the blobs), sdk_layout.c (the ELF, the layout walk and the
 * load stream) and sdk_report.c (the dump). */
#ifndef EIMG_SDK_INT_H
#define EIMG_SDK_INT_H

#include "eimg/sdk_enclave.h"

enum { EIMG_SDK_DIR_PATCH, EIMG_SDK_DIR_LAYOUT, EIMG_SDK_DIR_ELRANGE, EIMG_SDK_DIR_EXTEND };

/* Calls fn for every placed layout entry in Intel's load order: a row on its
 * own (delta 0), or a group's rows again for each repetition (delta = the
 * sum of load steps so far).  Stops at the first non-zero return. */
typedef int (*eimg_sdk_place_fn)(void *ctx, const struct eimg_sdk_layout *row, uint64_t delta);
int eimg_sdk_walk(const struct eimg_sdk_metadata *m, eimg_sdk_place_fn fn, void *ctx);

/* Intel's validate_layout_table, plus the limits of eimg/sdk_enclave.h. */
int eimg_sdk_check_layout(const struct eimg_sdk_metadata *m, const char *source, size_t idx, eimg_error *err);
void eimg_sdk_summarise(struct eimg_sdk_metadata *m);
/* The ELF header and program headers (x86-64, segments as the loader wants). */
int eimg_sdk_read_elf(eimg_sdk_enclave *e, eimg_error *err);

#endif
