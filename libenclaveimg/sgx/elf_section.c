/* SPDX-License-Identifier: Apache-2.0 */
/* Finding a named section in an ELF file (for the signatures that the Intel
 * SGX SDK and Open Enclave embed in signed enclaves).  libelf reads a private
 * copy; the result points into the caller's buffer after bounds checks. */
#include <stdlib.h>
#include <string.h>

#include <gelf.h>
#include <libelf.h>

#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "sgx/elf_section.h"

#define MAX_SECTIONS 65535

void eimg_elf_phdr_get(const uint8_t *file, uint64_t phoff, size_t i, struct eimg_elf_phdr *out)
{
	const uint8_t *q = file + phoff + i * 56;
	out->type = eimg_get_le32(q);
	out->flags = eimg_get_le32(q + 4);
	out->offset = eimg_get_le64(q + 8);
	out->vaddr = eimg_get_le64(q + 16);
	out->filesz = eimg_get_le64(q + 32);
	out->memsz = eimg_get_le64(q + 40);
	out->align = eimg_get_le64(q + 48);
}

static int open_elf(const char *source, const uint8_t *buf, size_t len, Elf **e, char **copy, eimg_error *err)
{
	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return eimg_err(err, EIMG_EINVAL, source, "not an ELF file (bad magic)");
	if (buf[EI_DATA] != ELFDATA2LSB)
		return eimg_err(err, EIMG_EINVAL, source, "ELF data encoding is %u, expected little-endian",
				(unsigned)buf[EI_DATA]);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return eimg_err(err, EIMG_EINTERNAL, source, "libelf initialisation failed: %s", elf_errmsg(-1));
	*copy = malloc(len ? len : 1);
	if (!*copy)
		return eimg_err_nomem(err);
	memcpy(*copy, buf, len);
	*e = elf_memory(*copy, len);
	if (!*e || elf_kind(*e) != ELF_K_ELF)
		return eimg_err(err, EIMG_EINVAL, source, "not a valid ELF file: %s", elf_errmsg(-1));
	return EIMG_OK;
}

static int record(const char *source, size_t len, const char *name, const GElf_Shdr *sh, struct eimg_elf_shdr *o,
		  eimg_error *err)
{
	if (o->found)
		return eimg_err(err, EIMG_EINVAL, source, "ELF file has more than one %s section", name);
	if (sh->sh_type != SHT_NOBITS && (sh->sh_offset > len || sh->sh_size > len - sh->sh_offset))
		return eimg_err(err, EIMG_EINVAL, source, "section %s lies outside the file", name);
	o->found = true;
	o->type = sh->sh_type;
	o->addr = sh->sh_addr;
	o->offset = sh->sh_offset;
	o->size = sh->sh_size;
	o->align = sh->sh_addralign;
	o->entsize = sh->sh_entsize;
	return EIMG_OK;
}

int eimg_elf_sections(const char *source, const uint8_t *buf, size_t len, const char *const *names, size_t n,
		      struct eimg_elf_shdr *out, eimg_error *err)
{
	Elf *e = NULL;
	char *copy = NULL;
	size_t shstrndx, nsec;
	Elf_Scn *scn = NULL;
	int rc;

	memset(out, 0, n * sizeof(*out));
	if ((rc = open_elf(source, buf, len, &e, &copy, err)))
		goto out;
	if (elf_getshdrnum(e, &nsec) != 0 || elf_getshdrstrndx(e, &shstrndx) != 0) {
		rc = eimg_err(err, EIMG_EINVAL, source, "not a valid ELF file: bad section headers: %s", elf_errmsg(-1));
		goto out;
	}
	if (nsec > MAX_SECTIONS) {
		rc = eimg_err(err, EIMG_EINVAL, source, "ELF file has %zu sections, above the limit of %d", nsec,
			      MAX_SECTIONS);
		goto out;
	}
	while ((scn = elf_nextscn(e, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh)) {
			rc = eimg_err(err, EIMG_EINVAL, source, "not a valid ELF file: bad section header: %s",
				      elf_errmsg(-1));
			goto out;
		}
		const char *sname = elf_strptr(e, shstrndx, sh.sh_name);
		for (size_t i = 0; sname && i < n; i++)
			if (strcmp(sname, names[i]) == 0 && (rc = record(source, len, names[i], &sh, &out[i], err)))
				goto out;
	}
	rc = EIMG_OK;
out:
	if (e)
		elf_end(e);
	free(copy);
	return rc;
}

int eimg_elf_section_find(const char *source, const uint8_t *buf, size_t len, const char *name,
			  const uint8_t **data, size_t *size, eimg_error *err)
{
	struct eimg_elf_shdr sh;
	int rc = eimg_elf_sections(source, buf, len, &name, 1, &sh, err);
	if (rc)
		return rc;
	if (sh.found && sh.type == SHT_NOBITS)
		return eimg_err(err, EIMG_EINVAL, source, "section %s lies outside the file", name);
	*data = sh.found ? buf + sh.offset : NULL;
	*size = sh.found ? (size_t)sh.size : 0;
	return EIMG_OK;
}
