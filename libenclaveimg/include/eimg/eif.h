/* SPDX-License-Identifier: Apache-2.0 */
/* The AWS Nitro Enclaves image file (EIF): layout, strict parsing, writing.
 * Format as built and accepted: man/enclave-nitro.7.
 *
 * An EIF is a 548-byte big-endian header followed by sections, each a
 * 12-byte header (type u16, flags u16, size u64) and its data.  The reader
 * here accepts exactly what a careful verifier should: versions 2..4,
 * sections contiguous from offset 548 in table order up to the end of the
 * file (no gaps, no overlap, no trailing bytes), kernel first, command line
 * second, at least one ramdisk, at most one metadata and one signature
 * section, at most 32 sections.  Nothing here reads a whole large file:
 * eimg_eif_read_layout_fd() reads only the header and the section headers. */
#ifndef EIMG_EIF_H
#define EIMG_EIF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_EIF_MAGIC               ".eif"
#define EIMG_EIF_VERSION             4
#define EIMG_EIF_MIN_VERSION         2      /* v2 added the CRC */
#define EIMG_EIF_HEADER_SIZE         548
#define EIMG_EIF_CRC_OFFSET          544    /* the CRC covers header bytes 0..543 */
#define EIMG_EIF_SECTION_HEADER_SIZE 12
#define EIMG_EIF_MAX_SECTIONS        32
#define EIMG_EIF_FLAG_AARCH64        1u

/* Documented limits (enclave-nitro(7)). */
#define EIMG_EIF_MAX_FILE      (64ull << 30)  /* whole EIF: 64 GiB */
#define EIMG_EIF_MAX_CMDLINE   (64u << 10)    /* command line section */
#define EIMG_EIF_MAX_METADATA  (1u << 20)     /* metadata JSON section */
#define EIMG_EIF_MAX_SIGNATURE (256u << 10)   /* signature section */

enum eimg_eif_section_type {
	EIMG_EIF_INVALID = 0,
	EIMG_EIF_KERNEL = 1,
	EIMG_EIF_CMDLINE = 2,
	EIMG_EIF_RAMDISK = 3,
	EIMG_EIF_SIGNATURE = 4,
	EIMG_EIF_METADATA = 5
};

struct eimg_eif_section {
	uint16_t type;     /* enum eimg_eif_section_type */
	uint16_t flags;
	uint64_t offset;   /* file offset of the section's 12-byte header */
	uint64_t size;     /* data size (the data starts at offset + 12) */
};

/* The checked layout of one EIF. */
typedef struct eimg_eif_layout {
	uint16_t version;
	uint16_t flags;          /* bit 0: aarch64 */
	uint64_t default_mem;
	uint64_t default_cpus;
	uint32_t crc;            /* as recorded in the header (not checked here) */
	uint64_t file_size;
	uint64_t base;           /* file offset of the EIF's first byte (0; an EIF inside an image: its member's offset) */
	unsigned nsections;
	struct eimg_eif_section sections[EIMG_EIF_MAX_SECTIONS];
	int kernel, cmdline, metadata, signature; /* section index, -1 if absent */
	unsigned nramdisks;
} eimg_eif_layout;

/* One section to write. */
struct eimg_eif_part {
	uint16_t type;
	const uint8_t *data;
	size_t size;
};

struct eimg_eif_write_opts {
	uint16_t flags;          /* EIMG_EIF_FLAG_AARCH64 or 0 */
	uint64_t default_mem;    /* bytes */
	uint64_t default_cpus;
};

const char *eimg_eif_section_name(unsigned type); /* "kernel", "cmdline", ... or "invalid" */

/* Parses and checks the layout of an EIF held in memory (header, section
 * table, section headers).  The CRC is not checked here (see eimg_eif_crc). */
int eimg_eif_read_layout_buffer(const char *source, const uint8_t *buf, size_t len,
				eimg_eif_layout *out, eimg_error *err);
/* The same from an open file, reading only the headers (pread). */
int eimg_eif_read_layout_fd(const char *source, int fd, eimg_eif_layout *out, eimg_error *err);
/* The same for an EIF of size bytes at offset base of an open file (a member
 * of an image); the layout's offsets stay relative to the EIF, l.base = base. */
int eimg_eif_read_layout_range(const char *source, int fd, uint64_t base, uint64_t size, eimg_eif_layout *out,
			       eimg_error *err);

/* The EIF CRC-32 of a file in memory (header bytes 0..543, then everything
 * after the header).  len must be >= EIMG_EIF_HEADER_SIZE. */
uint32_t eimg_eif_crc(const uint8_t *buf, size_t len);

/* Writes an EIF (version 4) with the given sections in the given order.
 * The order must be the reference one: kernel, cmdline, [metadata],
 * ramdisk..., [signature].  *out: malloc'd, free() it. */
int eimg_eif_write_buffer(const struct eimg_eif_write_opts *opts, const struct eimg_eif_part *parts,
			  size_t nparts, uint8_t **out, size_t *len, eimg_error *err);

/* Returns a copy of an EIF in memory whose signature section is replaced
 * (or appended at the end, or removed when sig is NULL), with the header and
 * CRC updated; every other byte is unchanged.  The input must have a valid
 * layout (it is checked again here) and its signature section, if any, last. */
int eimg_eif_set_signature(const char *source, const uint8_t *eif, size_t len, const uint8_t *sig,
			   size_t siglen, uint8_t **out, size_t *outlen, eimg_error *err);

#endif
