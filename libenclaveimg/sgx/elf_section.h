/* SPDX-License-Identifier: Apache-2.0 */
/* Private: section headers of an ELF file by name (elf_section.c), for
 * readers of other tool chains' enclaves that need more than the bytes. */
#ifndef EIMG_SGX_ELF_SECTION_H
#define EIMG_SGX_ELF_SECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

struct eimg_elf_shdr {
	bool found;
	uint32_t type;
	uint64_t addr, offset, size, align, entsize;
};

struct eimg_elf_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, filesz, memsz, align;
};

/* Program header i (56 bytes, little-endian) of a file whose program header
 * table at phoff the caller has checked to lie inside it. */
void eimg_elf_phdr_get(const uint8_t *file, uint64_t phoff, size_t i, struct eimg_elf_phdr *out);

/* Fills out[i] for names[i] (found false when absent) in one pass.
 * EIMG_EINVAL when buf is not a valid ELF, a name appears twice, or a
 * section with file contents (not SHT_NOBITS) lies outside the file. */
int eimg_elf_sections(const char *source, const uint8_t *buf, size_t len, const char *const *names, size_t n,
		      struct eimg_elf_shdr *out, eimg_error *err);

#endif
