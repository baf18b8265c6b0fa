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
 * MRENCLAVE is not recomputed for these enclaves: Open Enclave's loader links
 * the image, patches symbols and appends its relocations before measuring
 * (host/sgx/loadelf.c), which this library does not reproduce; verification
 * says so ("content recomputed: no"). */
#ifndef EIMG_OE_ENCLAVE_H
#define EIMG_OE_ENCLAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_OEINFO_SIZE 1960u         /* sizeof(oe_sgx_enclave_properties_t) */
#define EIMG_OE_MAX_TCS  1024u         /* OE_SGX_MAX_TCS */

struct eimg_oe_properties {
	uint32_t size, enclave_type;
	uint64_t heap_pages, stack_pages, num_tcs;
	uint16_t product_id, security_version;
	uint32_t flags;
	uint8_t family_id[16], extended_product_id[16];
	uint64_t attributes, xfrm, start_address;
	uint64_t image_info[6];
	bool is_signed;
};

/* Reads .oeinfo from an ELF file: EIMG_EINVAL when absent, too short, of
 * another enclave type, or with more TCS than Open Enclave allows. */
int eimg_oe_read(const char *source, const uint8_t *buf, size_t len, struct eimg_oe_properties *out, eimg_error *err);

/* "name: value" lines, each after indent (may be NULL); *out malloc'ed.
 * JSON: schemas/measure-output.schema.json, "openenclave". */
int eimg_oe_text(const struct eimg_oe_properties *p, const char *indent, char **out, eimg_error *err);
int eimg_oe_json_string(const struct eimg_oe_properties *p, char **out, eimg_error *err);

#endif
