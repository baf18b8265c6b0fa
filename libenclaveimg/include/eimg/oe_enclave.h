/* SPDX-License-Identifier: Apache-2.0 */
/* Open Enclave (and EGo) enclaves: the properties oesign writes into the ELF
 * section .oeinfo (oe_sgx_enclave_properties_t, 1960 bytes, little-endian):
 *    0 u32 size (of the properties), 4 u32 enclave type (2 = SGX),
 *    8 u64 heap pages, 16 u64 stack pages, 24 u64 TCS count,
 *   32 u16 product id, 34 u16 security version, 36 u32 flags (bit 0
 *      capture #PF/#GP, bit 1 zero-base enclave), 40 family id[16],
 *   56 extended product id[16], 72 u64 attributes, 80 u64 xfrm,
 *   88 u64 start address, 96 image info (six u64: oeinfo rva and size,
 *      relocation rva and size, heap rva, enclave size; filled by the loader),
 *  144 SIGSTRUCT (1808 bytes; all zero until signed), 1952 u64 end marker.
 * MRENCLAVE is recomputed as oesign and Open Enclave's host loader measure
 * the enclave (host/sgx/create.c and loadelf.c of OE 0.17 to 0.19, whose
 * layout is the same): ECREATE (SSA frame size 1, the enclave size rounded up
 * to a power of two, or the ELRANGE of a zero-base enclave), the PT_LOAD
 * segments page by page from the loaded image (image info, _enclave_rva,
 * _reloc_rva, _reloc_size, the TLS symbols and _td_from_tcs_offset patched
 * in, the SIGSTRUCT zeroed), the relocations (.rela.dyn then .rela.plt,
 * TPOFF64 addends from .dynsym) as read-only pages, the heap (added, not
 * measured), then per thread: guard, stack (0xCC), guard, TCS, two SSA
 * pages, guard, TLS pages, one thread-data page.  man/enclave-measurement.7
 * states it.  Refused with one line: a dependent module (DT_NEEDED, which OE
 * 0.17+ loads from the enclave's folder), relocation types OE refuses,
 * segments OE refuses, an image above EIMG_OE_MAX_IMAGE or an enclave above
 * EIMG_SGXS_MAX_SIZE.  Pages an application adds through OE's "extra enclave
 * data" hook (EGo's payload) are not in the file and not reproduced.  */
#ifndef EIMG_OE_ENCLAVE_H
#define EIMG_OE_ENCLAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/sgxs.h"

#define EIMG_OEINFO_SIZE 1960u         /* sizeof(oe_sgx_enclave_properties_t) */
#define EIMG_OE_MAX_TCS  1024u         /* OE_SGX_MAX_TCS */
#define EIMG_OE_MAX_IMAGE (256ull << 20) /* the loaded image (segments' span), held in memory */

struct eimg_oe_properties {
	uint32_t size, enclave_type;
	uint64_t heap_pages, stack_pages, num_tcs;
	uint16_t product_id, security_version;
	uint32_t flags;
	uint8_t family_id[16], extended_product_id[16];
	uint64_t attributes, xfrm, start_address;
	uint64_t image_info[6];
	bool is_signed;
	uint64_t oeinfo_offset;      /* of the section in the file */
};

/* Reads .oeinfo from an ELF file: EIMG_EINVAL when absent, too short, of
 * another enclave type, or with more TCS than Open Enclave allows. */
int eimg_oe_read(const char *source, const uint8_t *buf, size_t len, struct eimg_oe_properties *out, eimg_error *err);

struct eimg_oe_layout;

/* "name: value" lines, each after indent (may be NULL); *out malloc'ed.
 * JSON: schemas/measure-output.schema.json, "openenclave", with the layout
 * and the recomputed MRENCLAVE when l and mrenclave are given (may be NULL). */
int eimg_oe_text(const struct eimg_oe_properties *p, const char *indent, char **out, eimg_error *err);
int eimg_oe_json_string(const struct eimg_oe_properties *p, const struct eimg_oe_layout *l, const uint8_t *mrenclave,
			char **out, eimg_error *err);

/* The enclave as OE's loader lays it out (offsets from the enclave base). */
struct eimg_oe_layout {
	uint64_t image_size;        /* the segments' span, page-rounded */
	uint64_t reloc_size;        /* relocation pages, bytes */
	uint64_t tls_pages;         /* per thread */
	uint64_t heap_rva;
	uint64_t loaded_size;       /* every page the loader adds or skips */
	uint64_t enclave_size;      /* loaded_size rounded up to a power of two */
	uint64_t ecreate_size;      /* SECS.SIZE: enclave_size, or the ELRANGE */
	uint64_t base_offset;       /* 0, or a zero-base enclave's start address */
	uint64_t entry;             /* ELF e_entry */
	uint64_t oeinfo_rva;
};

/* Reads the ELF and its .oeinfo as OE's loader does and plans the layout
 * (EIMG_EINVAL naming what OE would refuse or this reader does not do). */
int eimg_oe_plan(const char *source, const uint8_t *buf, size_t len, struct eimg_oe_properties *props,
		 struct eimg_oe_layout *out, eimg_error *err);

/* The load stream oesign measures; sha256(stream) = MRENCLAVE. */
int eimg_oe_stream(const char *source, const uint8_t *buf, size_t len, eimg_sink_fn sink, void *ctx,
		   eimg_error *err);
int eimg_oe_mrenclave(const char *source, const uint8_t *buf, size_t len, uint8_t out[32], eimg_error *err);
int eimg_oe_write_sgxs(const char *source, const uint8_t *buf, size_t len, const char *path, eimg_error *err);

/* The layout as "name: value" lines, each after indent (may be NULL). */
int eimg_oe_layout_text(const struct eimg_oe_layout *l, const char *indent, char **out, eimg_error *err);

#endif
