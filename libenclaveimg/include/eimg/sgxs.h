/* SPDX-License-Identifier: Apache-2.0 */
/* MRENCLAVE and the SGXS load stream.
 *
 * The record stream (ECREATE, then per page EADD and 16 EEXTEND with their
 * data) is produced once, in large batches, and fed to a sink: SHA-256 for
 * MRENCLAVE, a file for --sgxs.  sha256(SGXS file) == MRENCLAVE. */
#ifndef EIMG_SGXS_H
#define EIMG_SGXS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/layout.h"

#define EIMG_SGXS_MAX_SIZE (64ull << 30)  /* ECREATE SIZE limit when reading SGXS */

typedef int (*eimg_sink_fn)(void *ctx, const uint8_t *buf, size_t len, eimg_error *err);

/* Streams the measured record stream of the layout to sink. */
int eimg_sgx_stream(const eimg_layout *l, eimg_sink_fn sink, void *ctx, eimg_error *err);

/* MRENCLAVE of the layout. */
int eimg_sgx_mrenclave(const eimg_layout *l, uint8_t out[32], eimg_error *err);
/* The same, reporting the pages measured as the step "measuring" (bytes of
 * the enclave; eimg/progress.h); p may be NULL. */
struct eimg_progress;
int eimg_sgx_mrenclave_progress(const eimg_layout *l, struct eimg_progress *p, uint8_t out[32], eimg_error *err);

/* Writes the SGXS file atomically ("-" = stdout). */
int eimg_sgxs_write_file(const eimg_layout *l, const char *path, eimg_error *err);

/* Any producer of a record stream (a layout, another tool chain's enclave):
 * MRENCLAVE of its stream, or the stream written atomically to a file. */
typedef int (*eimg_stream_fn)(const void *src, eimg_sink_fn sink, void *ctx, eimg_error *err);
int eimg_stream_mrenclave(eimg_stream_fn fn, const void *src, uint8_t out[32], eimg_error *err);
int eimg_stream_write_file(eimg_stream_fn fn, const void *src, const char *path, eimg_error *err);

/* The record writer behind every stream: ECREATE (size a power of two from
 * 8 KiB to EIMG_SGXS_MAX_SIZE, SSA frame size >= 1), then one EADD per page
 * in the order given, with 16 EEXTEND of its content when extend is set
 * (page: 4096 bytes, NULL = zeros).  The caller sees to it that no page is
 * added twice; the writer checks alignment and bounds.  Records go to sink in
 * batches of about 1 MiB. */
typedef struct eimg_sgxs_writer eimg_sgxs_writer;
int eimg_sgxs_writer_new(uint64_t size, uint32_t ssa_frame_size, eimg_sink_fn sink, void *ctx,
			 eimg_sgxs_writer **out, eimg_error *err);
int eimg_sgxs_writer_page(eimg_sgxs_writer *w, uint64_t off, uint64_t secinfo, const uint8_t *page, bool extend,
			  eimg_error *err);
uint64_t eimg_sgxs_writer_pages(const eimg_sgxs_writer *w);   /* pages added so far */
int eimg_sgxs_writer_finish(eimg_sgxs_writer *w, eimg_error *err);  /* flushes */
void eimg_sgxs_writer_free(eimg_sgxs_writer *w);

/* What reading an SGXS stream found.  The reader validates the stream as it
 * hashes it (one ECREATE first, record tags, EADD offsets page-aligned,
 * below SIZE, increasing, EEXTEND offsets inside the last EADDed page, in order). */
struct eimg_sgxs_info {
	uint64_t size;
	uint32_t ssa_frame_size;
	uint64_t neadd;
	uint64_t nextend;
	uint64_t ntcs;          /* EADDs with page type TCS */
	uint8_t mrenclave[32];
};

/* Reads path ("-" = standard input) in 1 MiB chunks: any size up to what
 * EIMG_SGXS_MAX_SIZE implies, in constant memory. */
int eimg_sgxs_read_file(const char *path, struct eimg_sgxs_info *out, eimg_error *err);
int eimg_sgxs_read_buffer(const char *source, const uint8_t *buf, size_t len,
			  struct eimg_sgxs_info *out, eimg_error *err);

#endif
