/* SPDX-License-Identifier: Apache-2.0 */
/* The SGX enclave page layout: one description of the pages with three
 * consumers (the measurement, the simulation loader, the hardware loader).
 *
 * Layout version 1 (the public contract; man/enclave-measurement.7 is the
 * normative text).  Offsets are from the enclave base, all page-aligned;
 * every page that is added is measured (EADD + 16 x EEXTEND):
 *
 *   [elf]    the ELF's PT_LOAD segments at their p_vaddr (pages between
 *            segments are not added); REG page with the segment's R/W/X;
 *            contents = file bytes, zero elsewhere.
 *   [info]   at the ELF image end: REG R; the enclave info blob (below).
 *   guard    one page, not added.
 *   [heap]   REG R|W, heap_size bytes of zero pages.
 *   per thread t = 0 .. threads-1:
 *     guard  one page, not added.
 *     [stack] REG R|W, stack_size bytes of zero pages.  Stack top = TCS offset.
 *     [tcs]  TCS page (SECINFO 0x100): OSSA = ssa offset, NSSA = ssa_frames,
 *            OENTRY = ELF e_entry, OFSBASE = OGSBASE = tls offset,
 *            FSLIMIT = GSLIMIT = 0xfff, everything else zero.
 *     [tls]  REG R|W, one page: the thread data (below).
 *     [ssa]  REG R|W, ssa_frames * ssa_frame_size zero pages.
 *   SIZE = the smallest power of two >= the end of the last region
 *   (at least 2 pages), ECREATE SSAFRAMESIZE = ssa_frame_size.
 *   Requirements: 1 <= threads <= EIMG_MAX_THREADS, ssa_frames >= 1,
 *   ssa_frame_size >= 1, stack_size >= 4096, SIZE <= EIMG_MAX_ENCLAVE_SIZE.
 *   heap_size 0: no heap region (heap offset and the guard page stay).
 *
 * Thread data page (little-endian u64 fields, offsets from the enclave base):
 *   0 self (tls offset)   8 stack_top     16 stack_base    24 tcs
 *  32 ssa                40 heap          48 heap_size     56 info
 *  64 thread index       72 threads       80 enclave size  88.. zero
 *
 * Info blob (at the info region, zero-padded to a page; little-endian;
 * offsets relative to the blob start):
 *   0  magic "EIMGINFO"   8 u32 version (1)   12 u32 mode (1 hardware, 2 simulation)
 *  16  u64 blob length (the offset after the last item's padding; not
 *      padded to a page)
 *  24  u64 manifest offset   32 u64 manifest length (canonical manifest.json)
 *  40  u32 file count        44 u32 key count
 *  48  u64 entry table offset (= 64)   56 u64 zero
 *  64  entries: files then keys, 32 bytes each:
 *      u64 name offset, u64 name length, u64 data offset, u64 data length
 *  then manifest bytes, then for each file then each key: name bytes, data
 *  bytes; each item followed by one zero byte and zero padding to 8 bytes.
 */
#ifndef EIMG_LAYOUT_H
#define EIMG_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/elf.h"
#include "eimg/image.h"
#include "eimg/manifest.h"

#define EIMG_LAYOUT_VERSION 1

#define EIMG_SECINFO_R   0x1ull
#define EIMG_SECINFO_W   0x2ull
#define EIMG_SECINFO_X   0x4ull
#define EIMG_SECINFO_TCS 0x100ull
#define EIMG_SECINFO_REG 0x200ull

enum eimg_region_kind {
	EIMG_REGION_ELF = 1,
	EIMG_REGION_INFO,
	EIMG_REGION_HEAP,
	EIMG_REGION_STACK,
	EIMG_REGION_TCS,
	EIMG_REGION_TLS,
	EIMG_REGION_SSA
};

/* A run of pages with one SECINFO.  Content: zero, except data[0..data_len)
 * placed at byte data_off of the region. */
struct eimg_region {
	uint64_t offset;       /* from the enclave base, page-aligned */
	uint64_t size;         /* bytes, multiple of 4096 */
	uint64_t secinfo;      /* SECINFO flags for EADD */
	bool measured;         /* EEXTENDed (always true in layout version 1) */
	int kind;              /* enum eimg_region_kind */
	uint32_t thread;       /* for per-thread regions */
	const uint8_t *data;   /* borrowed (ELF bytes) or owned by the layout */
	uint64_t data_off;
	uint64_t data_len;
};

typedef struct eimg_layout {
	uint64_t size;           /* enclave size (power of two) */
	uint32_t ssa_frame_size; /* pages */
	uint32_t ssa_frames;
	uint32_t threads;
	uint64_t entry;          /* OENTRY */
	uint64_t heap_offset, heap_size;
	uint64_t info_offset;
	uint64_t *tcs_offsets;   /* threads entries */
	int mode;                /* enum eimg_mode */
	struct eimg_region *regions; /* sorted by offset, non-overlapping */
	size_t nregions;
	uint64_t npages;         /* pages added */
	void *owned;             /* private: buffers owned by the layout */
} eimg_layout;

struct eimg_layout_input {
	const eimg_manifest *manifest;   /* sgx parameters and mode */
	const char *manifest_json;       /* the canonical manifest placed in the info blob */
	size_t manifest_len;
	const eimg_elf *elf;             /* borrowed: must outlive the layout */
	const struct eimg_member *files; /* sorted by name */
	size_t nfiles;
	const struct eimg_member *keys;  /* sorted by name */
	size_t nkeys;
};

/* Computes the layout.  Fails (EIMG_EINVAL, naming the reason) when the
 * result would exceed EIMG_MAX_ENCLAVE_SIZE or violates the rules above. */
int eimg_layout_sgx(const struct eimg_layout_input *in, eimg_layout **out, eimg_error *err);

/* Fills out[4096] with the content of page i (0-based) of region r. */
void eimg_region_page(const struct eimg_region *r, uint64_t i, uint8_t *out);

void eimg_layout_free(eimg_layout *l);

#endif
