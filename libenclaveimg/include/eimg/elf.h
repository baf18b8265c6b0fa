/* SPDX-License-Identifier: Apache-2.0 */
/* Reading an enclave ELF (static, position-independent, x86-64).
 * Only elf.c includes libelf. */
#ifndef EIMG_ELF_H
#define EIMG_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_ELF_MAX_SEGMENTS 64
#define EIMG_ELF_MAX_IMAGE    (1ull << 30)   /* highest segment end (vaddr + memsz) */

#define EIMG_SEG_R 0x1
#define EIMG_SEG_W 0x2
#define EIMG_SEG_X 0x4

struct eimg_elf_segment {
	uint64_t vaddr;    /* page-aligned start (p_vaddr rounded down) */
	uint64_t memsz;    /* page-aligned length */
	uint64_t data_off; /* offset inside [vaddr, vaddr+memsz) where file data begins (p_vaddr % 4096) */
	uint64_t file_off; /* p_offset: where that data starts in the ELF file */
	uint64_t filesz;   /* p_filesz: bytes of file data; the rest of the range is zero */
	unsigned flags;    /* EIMG_SEG_R/W/X */
};

typedef struct eimg_elf {
	uint64_t entry;          /* e_entry: offset from enclave base */
	uint64_t image_end;      /* page-aligned end of the highest segment */
	struct eimg_elf_segment seg[EIMG_ELF_MAX_SEGMENTS];
	size_t nseg;             /* sorted by vaddr, non-overlapping at page granularity */
	const uint8_t *data;     /* the ELF bytes (borrowed, not owned) */
	size_t size;
} eimg_elf;

/* Parses and checks the ELF in buf (borrowed: must outlive the result; never
 * modified).  source names it in errors.  Rules (enclave-measurement(7)):
 * ELFCLASS64, little-endian, EM_X86_64, ET_DYN; no PT_INTERP, PT_TLS or
 * DT_TEXTREL; 1..EIMG_ELF_MAX_SEGMENTS PT_LOAD segments, non-empty, sorted,
 * no page shared, p_vaddr % 4096 == p_offset % 4096, file range inside the
 * file, end <= EIMG_ELF_MAX_IMAGE; W requires R; W+X refused unless
 * allow_wx; entry point inside an executable segment. */
int eimg_elf_parse(const char *source, const uint8_t *buf, size_t len, bool allow_wx,
		   eimg_elf *out, eimg_error *err);

/* The canonical enclave ELF (enclave-image(5)): only what reaches the
 * enclave.  The ELF header (ELFCLASS64, little-endian, ELFOSABI_NONE,
 * ET_DYN, EM_X86_64, e_entry, e_phoff 64, no section headers, every other
 * field 0 or its fixed size), one PT_LOAD program header per loaded segment
 * (p_flags, p_vaddr = p_paddr, p_filesz, p_memsz to the end of the
 * segment's last page, p_align 4096), then each segment's file bytes at the
 * first offset at or after the end of the previous one (the headers for the
 * first) that is congruent to its address modulo 4096; zero bytes between;
 * the file ends with the last segment's bytes.  No symbols, sections or
 * debugging information.  The measurement of the canonical form equals the
 * original's: the loaded bytes, addresses and permissions are the same.
 * At most EIMG_ELF_MAX_CANONICAL bytes.  free() *out. */
#define EIMG_ELF_MAX_CANONICAL (512ull << 20)
int eimg_elf_canonical(const eimg_elf *e, uint8_t **out, size_t *len, eimg_error *err);

/* EIMG_OK when e's bytes are exactly its canonical form; else EIMG_EINVAL
 * naming the first offset that differs and what lies there (a header field,
 * padding, bytes after the last segment). */
int eimg_elf_check_canonical(const char *source, const eimg_elf *e, eimg_error *err);

/* Whether the ELF file at path (for its symbols: enclave-run --mock
 * --symbols) loads exactly like stored, an image's canonical enclave.elf:
 * its canonical form equals stored's bytes.  EIMG_EVERIFY otherwise, naming
 * the first offset that differs. */
int eimg_elf_same_load(const char *path, const eimg_elf *stored, bool allow_wx, eimg_error *err);

#endif
