/* SPDX-License-Identifier: Apache-2.0 */
/* Enclaves built with the Intel SGX SDK (enclave.so, enclave.signed.so):
 * the metadata Intel's sign tool writes, and MRENCLAVE recomputed from the
 * ELF and that metadata as the sign tool measures it.
 *
 * Where the metadata is: the ELF section .note.sgxmeta holds one note,
 * name "sgx_metadata\0" (namesz 13), type 1.  The descriptor starts right
 * after the name, at note offset 12 + 13 = 25, NOT padded to 4 (Intel's
 * metadata_sec.S aligns nothing there).  It holds one or more metadata
 * blobs, each starting with the magic 0x86A80294635D0E4C and chained by
 * their own size field; the first is the primary one, the others are
 * "compatible" copies for older loaders (same SIGSTRUCT).
 *
 * Blob header (little-endian): 0 magic, 8 version (major << 32 | minor),
 * 16 u32 size, 20 tcs_policy, 24 ssa_frame_size (pages), 28
 * max_save_buffer_size, 32 desired_misc_select, 36 tcs_min_pool, 40 u64
 * enclave_size, 48 attributes (flags, xfrm), 64 SIGSTRUCT (1808 bytes),
 * 1872 directories {u32 offset, u32 size}: patch, layout, and from version
 * 3.2 (or 1.5 with extensions) elrange and extend.  Metadata versions read:
 * major 1, 2, 3 and the ELRANGE variants 11 and 13 (man/enclave-measurement.7).
 *
 * Limits: at most EIMG_SDK_MAX_BLOBS blobs; a blob at most 0x6000 bytes;
 * enclave size a power of two up to EIMG_SGXS_MAX_SIZE; at most
 * EIMG_SDK_MAX_PLACED layout entries once thread groups are expanded;
 * the ELF at most EIMG_SIGSTRUCT_MAX_INPUT bytes, 4096 program headers. */
#ifndef EIMG_SDK_ENCLAVE_H
#define EIMG_SDK_ENCLAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/sgxs.h"
#include "eimg/sigstruct.h"

#define EIMG_SDK_NOTE_DESC_OFF   25          /* 12-byte note header + "sgx_metadata\0" */
#define EIMG_SDK_MAX_BLOB        0x6000u     /* METADATA_SIZE of SDK 2.14 and later */
#define EIMG_SDK_MAX_BLOBS       8
#define EIMG_SDK_MAX_PLACED      (1u << 20)
#define EIMG_SDK_MAX_PHDRS       4096

/* Layout entry ids (metadata.h). */
enum {
	EIMG_SDK_HEAP_MIN = 1, EIMG_SDK_HEAP_INIT, EIMG_SDK_HEAP_MAX, EIMG_SDK_TCS, EIMG_SDK_TD, EIMG_SDK_SSA,
	EIMG_SDK_STACK_MAX, EIMG_SDK_STACK_MIN, EIMG_SDK_THREAD_GROUP = 0x1009, EIMG_SDK_GUARD = 10,
	EIMG_SDK_HEAP_DYN_MIN, EIMG_SDK_HEAP_DYN_INIT, EIMG_SDK_HEAP_DYN_MAX, EIMG_SDK_TCS_DYN, EIMG_SDK_TD_DYN,
	EIMG_SDK_SSA_DYN, EIMG_SDK_STACK_DYN_MAX, EIMG_SDK_STACK_DYN_MIN, EIMG_SDK_THREAD_GROUP_DYN = 0x1013,
	EIMG_SDK_RSRV_MIN = 20, EIMG_SDK_RSRV_INIT, EIMG_SDK_RSRV_MAX, EIMG_SDK_USER_REGION
};
#define EIMG_SDK_GROUP_FLAG 0x1000u

/* Page attributes of a layout entry. */
#define EIMG_SDK_ATTR_EADD        0x01u
#define EIMG_SDK_ATTR_EEXTEND     0x02u
#define EIMG_SDK_ATTR_EREMOVE     0x04u
#define EIMG_SDK_ATTR_POST_ADD    0x08u
#define EIMG_SDK_ATTR_POST_REMOVE 0x10u
#define EIMG_SDK_ATTR_DYN_THREAD  0x20u
#define EIMG_SDK_ATTR_GROW_DOWN   0x40u

/* One row of the layout table: an entry, or (group) a repeat of the
 * entry_count rows before it, load_times times, each step load_step further. */
struct eimg_sdk_layout {
	uint16_t id;
	bool group;
	uint16_t attributes;        /* entry */
	uint32_t page_count;
	uint64_t rva;
	uint32_t content_size, content_offset;
	uint64_t si_flags;
	uint16_t entry_count;       /* group */
	uint32_t load_times;
	uint64_t load_step;
};

struct eimg_sdk_patch {
	uint64_t dst;               /* file offset */
	uint32_t src, size;         /* src: offset in the blob */
};

/* What a layout table amounts to (the figures `sgx_sign dump` shows). */
struct eimg_sdk_summary {
	uint32_t tcs_static;        /* TCS pages added at load */
	uint32_t tcs_removed;       /* of those, removed after initialisation (EREMOVE) */
	uint32_t tcs_dynamic;       /* TCS added later (EDMM) */
	uint32_t tcs_max;           /* both */
	uint64_t heap_min, heap_init, heap_max;   /* bytes */
	uint64_t stack_min, stack_max;            /* bytes, per thread */
	uint64_t reserved_min, reserved_init, reserved_max;
	uint64_t user_region;
	uint32_t ssa_pages;         /* per thread */
	uint32_t nssa;              /* ssa_pages / ssa_frame_size */
};

struct eimg_sdk_metadata {
	const uint8_t *blob;        /* into the caller's buffer */
	uint64_t version;
	uint32_t size, tcs_policy, ssa_frame_size, max_save_buffer_size, desired_misc_select, tcs_min_pool;
	uint64_t enclave_size;
	uint64_t attr_flags, attr_xfrm;
	struct eimg_sigstruct sigstruct;
	const uint8_t *sigstruct_raw;           /* 1808 bytes */
	unsigned ndirs;
	uint32_t dir_offset[4], dir_size[4];
	struct eimg_sdk_layout *layout;
	size_t nlayout;
	struct eimg_sdk_patch *patch;
	size_t npatch;
	uint64_t elrange_image, elrange_start, elrange_size;   /* elrange_size 0: none */
	bool extend_shared_object;  /* an embedded FIPS provider (not measured here) */
	struct eimg_sdk_summary sum;
};

/* An SDK enclave.  Borrows the file buffer given to eimg_sdk_open(). */
typedef struct eimg_sdk_enclave {
	const char *source;
	const uint8_t *file;
	size_t file_len;
	uint64_t desc_offset;       /* file offset of the metadata (note + 25) */
	uint64_t desc_size;
	struct eimg_sdk_metadata meta[EIMG_SDK_MAX_BLOBS];
	size_t nmeta;
	bool is_signed;             /* the SIGSTRUCT is not all zero */
	uint64_t entry;             /* ELF e_entry */
	uint16_t phnum;
	bool textrel;               /* DT_TEXTREL: relocated pages get W */
} eimg_sdk_enclave;

/* Finds and parses the metadata of an ELF file (EIMG_EINVAL naming what is
 * missing or malformed; "no .note.sgxmeta section" when it is not an SDK
 * enclave).  Checks what Intel's loader checks (version, TCS policy, SSA
 * frame size 1..4, power-of-two size, directories inside the blob, layout
 * rows page-aligned, inside the enclave and not overlapping, patches inside
 * the blob and the file). */
int eimg_sdk_open(const char *source, const uint8_t *buf, size_t len, eimg_sdk_enclave **out, eimg_error *err);
void eimg_sdk_free(eimg_sdk_enclave *e);

/* The metadata bytes (the note's descriptor at offset 25, starting with the
 * magic): *desc points into buf.  EIMG_EINVAL naming the problem: no
 * section, wrong note name, a size past the section, all zeros (an enclave.so
 * not yet through sgx_sign), or no magic at 25 (and whether it sits at 28,
 * where a reader padding the name to 4 would look). */
int eimg_sdk_metadata_find(const char *source, const uint8_t *buf, size_t len, const uint8_t **desc, size_t *dlen,
			   eimg_error *err);

/* Whether buf is an ELF with a .note.sgxmeta section (no other check). */
bool eimg_sdk_is_sdk_elf(const uint8_t *buf, size_t len);

/* The load stream of metadata blob `which` (0 = primary), as the sign tool
 * measures it: ECREATE (SSA frame size, enclave or ELRANGE size), every
 * PT_LOAD segment page by page (partial pages zero-filled, relocated pages of
 * read-only segments made writable), then the layout table in order (TCS from
 * its template with OSSA/OFSBASE/OGSBASE moved by the page's offset, filled
 * pages, guard pages and dynamic ranges skipped), after applying the patch
 * table to a copy of the file.  sha256(stream) = MRENCLAVE. */
int eimg_sdk_stream(const eimg_sdk_enclave *e, size_t which, eimg_sink_fn sink, void *ctx, eimg_error *err);
int eimg_sdk_mrenclave(const eimg_sdk_enclave *e, size_t which, uint8_t out[32], eimg_error *err);
int eimg_sdk_write_sgxs(const eimg_sdk_enclave *e, const char *path, eimg_error *err);

/* The `sgx_sign dump` view as text ("name: value" lines and the layout
 * table) or JSON (schemas/measure-output.schema.json, "sdk"); mrenclave (may
 * be NULL) is the recomputed value. */
int eimg_sdk_text(const eimg_sdk_enclave *e, const uint8_t *mrenclave, char **out, eimg_error *err);
int eimg_sdk_json_string(const eimg_sdk_enclave *e, const uint8_t *mrenclave, char **out, eimg_error *err);
const char *eimg_sdk_layout_name(uint16_t id);

#endif
