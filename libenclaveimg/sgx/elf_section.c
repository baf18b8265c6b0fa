/* SPDX-License-Identifier: Apache-2.0 */
/* Finding a named section in an ELF file (for the signatures that the Intel
 * SGX SDK and Open Enclave embed in signed enclaves).  libelf reads a private
 * copy; the result points into the caller's buffer after bounds checks. */
#include <stdlib.h>
#include <string.h>

#include <gelf.h>
#include <libelf.h>

#include "eimg/sigstruct.h"
#include "core/internal.h"

#define MAX_SECTIONS 65535

int eimg_elf_section_find(const char *source, const uint8_t *buf, size_t len, const char *name,
			  const uint8_t **data, size_t *size, eimg_error *err)
{
	Elf *e = NULL;
	char *copy = NULL;
	size_t shstrndx, nsec;
	Elf_Scn *scn = NULL;
	int rc;
	const uint8_t *found = NULL;
	size_t found_size = 0;

	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return eimg_err(err, EIMG_EINVAL, source, "not an ELF file (bad magic)");
	if (buf[EI_DATA] != ELFDATA2LSB)
		return eimg_err(err, EIMG_EINVAL, source, "ELF data encoding is %u, expected little-endian",
				(unsigned)buf[EI_DATA]);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return eimg_err(err, EIMG_EINTERNAL, source, "libelf initialisation failed: %s", elf_errmsg(-1));
	copy = malloc(len ? len : 1);
	if (!copy)
		return eimg_err_nomem(err);
	memcpy(copy, buf, len);
	e = elf_memory(copy, len);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		rc = eimg_err(err, EIMG_EINVAL, source, "not a valid ELF file: %s", elf_errmsg(-1));
		goto out;
	}
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
		if (!sname || strcmp(sname, name) != 0)
			continue;
		if (found) {
			rc = eimg_err(err, EIMG_EINVAL, source, "ELF file has more than one %s section", name);
			goto out;
		}
		if (sh.sh_type == SHT_NOBITS || sh.sh_offset > len || sh.sh_size > len - sh.sh_offset) {
			rc = eimg_err(err, EIMG_EINVAL, source, "section %s lies outside the file", name);
			goto out;
		}
		found = buf + sh.sh_offset;
		found_size = (size_t)sh.sh_size;
	}
	*data = found;
	*size = found_size;
	rc = EIMG_OK;
out:
	if (e)
		elf_end(e);
	free(copy);
	return rc;
}
