/* SPDX-License-Identifier: Apache-2.0 */
/* The real system behind struct eimg_sgx_hw_ops (eimg_sgx_hw_sys_ops): the
 * device, mmap, stat, CPUID, /proc text, and the vDSO's
 * __vdso_sgx_enter_enclave found by a symbol lookup in the vDSO image
 * (eimg_vdso_sym).  The loader that uses them is sgx_hw.c. */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "core/internal.h"
#include "run/sgx_hw_int.h"

/* ---------------------------------------------------------------------------
 * The real system
 * ------------------------------------------------------------------------- */

static int sys_open(void *ctx, const char *path, int flags)
{
	(void)ctx;
	return open(path, flags);
}

static int sys_close(void *ctx, int fd)
{
	(void)ctx;
	return close(fd);
}

static int sys_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	(void)ctx;
	return ioctl(fd, req, arg);
}

static void *sys_mmap(void *ctx, void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	(void)ctx;
	return mmap(addr, len, prot, flags, fd, off);
}

static int sys_munmap(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	return munmap(addr, len);
}

static int sys_stat(void *ctx, const char *path, struct stat *st)
{
	(void)ctx;
	return stat(path, st);
}

static int sys_statvfs(void *ctx, const char *path, struct statvfs *st)
{
	(void)ctx;
	return statvfs(path, st);
}

static void sys_cpuid(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)ctx;
#if defined(__x86_64__) || defined(__i386__)
	unsigned a = 0, b = 0, c = 0, d = 0;
	if (leaf != 0) {
		unsigned max = __get_cpuid_max(0, NULL);
		if (leaf > max) {
			out[0] = out[1] = out[2] = out[3] = 0;
			return;
		}
	}
	__cpuid_count(leaf, subleaf, a, b, c, d);
	out[0] = a;
	out[1] = b;
	out[2] = c;
	out[3] = d;
#else
	(void)leaf;
	(void)subleaf;
	out[0] = out[1] = out[2] = out[3] = 0;
#endif
}

static ssize_t sys_read_text(void *ctx, const char *path, char *buf, size_t size)
{
	(void)ctx;
	if (size == 0)
		return -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	while (n + 1 < size) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

static eimg_vdso_enter_fn sys_vdso_enter(void *ctx)
{
	(void)ctx;
	const void *vdso = (const void *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
	if (!vdso)
		return NULL;
	void *sym = eimg_vdso_sym(vdso, "__vdso_sgx_enter_enclave");
	eimg_vdso_enter_fn fn;
	memcpy(&fn, &sym, sizeof(fn)); /* object to function pointer */
	return sym ? fn : NULL;
}

static const struct eimg_sgx_hw_ops sys_ops = {
	.ctx = NULL,
	.open = sys_open,
	.close = sys_close,
	.ioctl = sys_ioctl,
	.mmap = sys_mmap,
	.munmap = sys_munmap,
	.stat = sys_stat,
	.statvfs = sys_statvfs,
	.cpuid = sys_cpuid,
	.read_text = sys_read_text,
	.vdso_enter = sys_vdso_enter,
};

const struct eimg_sgx_hw_ops *eimg_sgx_hw_sys_ops(void)
{
	return &sys_ops;
}

/* ---------------------------------------------------------------------------
 * vDSO symbol lookup
 * ------------------------------------------------------------------------- */

void *eimg_vdso_sym(const void *vdso, const char *name)
{
	const Elf64_Ehdr *eh = vdso;
	if (!eh || !name || memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 64 ||
	    eh->e_phoff > (1u << 20))
		return NULL;
	const uint8_t *img = vdso;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff);
	uintptr_t load = 0;
	bool have_load = false;
	const Elf64_Dyn *dyn = NULL;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && !have_load) {
			load = (uintptr_t)img + ph[i].p_offset - ph[i].p_vaddr;
			have_load = true;
		} else if (ph[i].p_type == PT_DYNAMIC) {
			dyn = (const Elf64_Dyn *)(img + ph[i].p_offset);
		}
	}
	if (!have_load || !dyn)
		return NULL;
	const Elf64_Sym *symtab = NULL;
	const char *strtab = NULL;
	const uint32_t *hash = NULL, *gnu = NULL;
	uint64_t strsz = 0;
	for (unsigned i = 0; i < 256 && dyn[i].d_tag != DT_NULL; i++) {
		uintptr_t p = load + dyn[i].d_un.d_ptr;
		switch (dyn[i].d_tag) {
		case DT_SYMTAB: symtab = (const Elf64_Sym *)p; break;
		case DT_STRTAB: strtab = (const char *)p; break;
		case DT_STRSZ: strsz = dyn[i].d_un.d_val; break;
		case DT_HASH: hash = (const uint32_t *)p; break;
		case DT_GNU_HASH: gnu = (const uint32_t *)p; break;
		default: break;
		}
	}
	if (!symtab || !strtab || !strsz || (!hash && !gnu))
		return NULL;
	uint32_t nsym = 0;
	if (hash) {
		nsym = hash[1]; /* nchain = number of symbols */
	} else {
		uint32_t nbuckets = gnu[0], symoffset = gnu[1], bloom = gnu[2];
		if (nbuckets == 0 || nbuckets > 65536 || bloom > 65536)
			return NULL;
		const uint32_t *buckets = gnu + 4 + 2 * bloom; /* 64-bit bloom words */
		const uint32_t *chains = buckets + nbuckets;
		uint32_t last = 0;
		for (uint32_t b = 0; b < nbuckets; b++)
			if (buckets[b] > last)
				last = buckets[b];
		if (last < symoffset) {
			nsym = symoffset;
		} else {
			uint32_t steps = 0;
			while (!(chains[last - symoffset] & 1) && steps++ < 65536)
				last++;
			nsym = last + 1;
		}
	}
	if (nsym > 65536)
		return NULL;
	size_t nlen = strlen(name);
	for (uint32_t i = 0; i < nsym; i++) {
		const Elf64_Sym *s = &symtab[i];
		if (s->st_name >= strsz || s->st_shndx == SHN_UNDEF || ELF64_ST_TYPE(s->st_info) != STT_FUNC)
			continue;
		if (strsz - s->st_name > nlen && memcmp(strtab + s->st_name, name, nlen + 1) == 0)
			return (void *)(load + s->st_value);
	}
	return NULL;
}
