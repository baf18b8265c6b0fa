/* SPDX-License-Identifier: Apache-2.0 */
/* Enclave ELF checks: real ELFs linked by gcc at test time, and hand-made
 * hostile headers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elf.h>
#include <cmocka.h>

#include "eimg/elf.h"
#include "core/internal.h"

static char tmpdir[] = "/tmp/test_elf.XXXXXX";
static bool have_gcc;

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	have_gcc = system("gcc --version >/dev/null 2>&1") == 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Compiles src with gcc and the given flags; returns the ELF bytes (or skips
 * the test when gcc is missing). */
static uint8_t *compile(const char *name, const char *src, const char *flags, size_t *len)
{
	char path[512], cmd[2048];
	if (!have_gcc) {
		fprintf(stderr, "skipped: gcc not available to link test ELFs\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/%s.c", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(src, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd '%s' && gcc %s -o %s.elf %s.c 2>&1", tmpdir, flags, name, name);
	if (system(cmd) != 0)
		fail_msg("gcc failed: %s", cmd);
	snprintf(path, sizeof(path), "%s/%s.elf", tmpdir, name);
	uint8_t *buf;
	assert_int_equal(eimg_read_file(path, 1 << 26, &buf, len, NULL), EIMG_OK);
	return buf;
}

#define ENCLAVE_FLAGS "-nostdlib -static-pie -fPIE -O1 -Wl,-z,max-page-size=4096 -Wl,-z,separate-code"

static const char *enclave_src =
	"static volatile int counter = 5;\n"
	"static volatile int bss[5000];\n"
	"const char msg[] = \"hello\";\n"
	"void _start(void) { counter++; bss[3] = counter + msg[0]; for (;;) __asm__ volatile(\"ud2\"); }\n";

static Elf64_Phdr *phdrs(uint8_t *buf)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	return (Elf64_Phdr *)(buf + eh->e_phoff);
}

static void test_gcc_enclave(void **state)
{
	(void)state;
	size_t len;
	uint8_t *buf = compile("good", enclave_src, ENCLAVE_FLAGS, &len);
	uint8_t *copy = malloc(len);
	memcpy(copy, buf, len);
	eimg_elf e;
	eimg_error err;
	int rc = eimg_elf_parse("good.elf", buf, len, false, &e, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_memory_equal(buf, copy, len); /* the caller's bytes are untouched */
	assert_ptr_equal(e.data, buf);
	assert_int_equal(e.size, len);

	/* Compare with the program headers read directly. */
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	Elf64_Phdr *ph = phdrs(buf);
	assert_int_equal(e.entry, eh->e_entry);
	size_t k = 0;
	uint64_t end = 0;
	bool sawx = false, saww = false;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		assert_true(k < e.nseg);
		const struct eimg_elf_segment *s = &e.seg[k++];
		assert_int_equal(s->vaddr, ph[i].p_vaddr & ~0xfffull);
		assert_int_equal(s->data_off, ph[i].p_vaddr & 0xfff);
		assert_int_equal(s->memsz, ((ph[i].p_vaddr + ph[i].p_memsz + 0xfff) & ~0xfffull) - s->vaddr);
		assert_int_equal(s->file_off, ph[i].p_offset);
		assert_int_equal(s->filesz, ph[i].p_filesz);
		unsigned fl = ((ph[i].p_flags & PF_R) ? EIMG_SEG_R : 0) | ((ph[i].p_flags & PF_W) ? EIMG_SEG_W : 0) |
			      ((ph[i].p_flags & PF_X) ? EIMG_SEG_X : 0);
		assert_int_equal(s->flags, fl);
		sawx |= (fl & EIMG_SEG_X) != 0;
		saww |= (fl & EIMG_SEG_W) != 0;
		end = s->vaddr + s->memsz;
	}
	assert_int_equal(k, e.nseg);
	assert_true(k >= 2);
	assert_true(sawx && saww);
	assert_int_equal(e.image_end, end);
	assert_int_equal(e.image_end % 4096, 0);
	/* bss of 20000 bytes: the last segment's memory is larger than its file part. */
	assert_true(e.seg[e.nseg - 1].memsz > e.seg[e.nseg - 1].filesz + 16384);

	/* Make the code segment writable: refused unless allowed. */
	int xi = -1;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X))
			xi = i;
	assert_true(xi >= 0);
	ph[xi].p_flags |= PF_W;
	assert_int_equal(eimg_elf_parse("good.elf", buf, len, false, &e, &err), EIMG_EINVAL);
	char want[200];
	snprintf(want, sizeof(want),
		 "segment %d is writable and executable; set sgx.allow_write_exec: true in the manifest to accept it", xi);
	assert_string_equal(err.msg, want);
	assert_string_equal(err.file, "good.elf");
	assert_int_equal(eimg_elf_parse("good.elf", buf, len, true, &e, &err), EIMG_OK);
	ph[xi].p_flags &= ~(Elf64_Word)PF_W;

	/* Entry point moved into a non-executable segment. */
	uint64_t entry = eh->e_entry;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && !(ph[i].p_flags & PF_X)) {
			eh->e_entry = ph[i].p_vaddr;
			break;
		}
	assert_int_equal(eimg_elf_parse("good.elf", buf, len, false, &e, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "is not inside an executable segment"));
	eh->e_entry = entry;

	/* DT_TEXTREL / DF_TEXTREL in the dynamic segment. */
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_DYNAMIC)
			continue;
		Elf64_Dyn *d = (Elf64_Dyn *)(buf + ph[i].p_offset);
		Elf64_Sxword tag = d[0].d_tag;
		d[0].d_tag = DT_TEXTREL;
		assert_int_equal(eimg_elf_parse("good.elf", buf, len, false, &e, &err), EIMG_EINVAL);
		assert_non_null(strstr(err.msg, "DT_TEXTREL"));
		d[0].d_tag = DT_FLAGS;
		Elf64_Xword val = d[0].d_un.d_val;
		d[0].d_un.d_val = DF_TEXTREL;
		assert_int_equal(eimg_elf_parse("good.elf", buf, len, false, &e, &err), EIMG_EINVAL);
		d[0].d_un.d_val = DF_BIND_NOW;
		assert_int_equal(eimg_elf_parse("good.elf", buf, len, false, &e, &err), EIMG_OK);
		d[0].d_tag = tag;
		d[0].d_un.d_val = val;
	}
	assert_int_equal(eimg_elf_parse("good.elf", buf, len, false, &e, &err), EIMG_OK);
	free(copy);
	free(buf);
}

static void test_gcc_not_pie(void **state)
{
	(void)state;
	size_t len;
	uint8_t *buf = compile("nopie", enclave_src, "-nostdlib -static -no-pie -fno-pie -Wl,-z,max-page-size=4096", &len);
	eimg_elf e;
	eimg_error err;
	assert_int_equal(eimg_elf_parse("nopie.elf", buf, len, false, &e, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "ET_EXEC"));
	assert_non_null(strstr(err.msg, "-static-pie"));
	free(buf);
}

static void test_gcc_tls(void **state)
{
	(void)state;
	size_t len;
	uint8_t *buf = compile("tls",
			       "__thread int t = 3;\n"
			       "void _start(void) { t++; for (;;) __asm__ volatile(\"ud2\"); }\n",
			       ENCLAVE_FLAGS, &len);
	eimg_elf e;
	eimg_error err;
	assert_int_equal(eimg_elf_parse("tls.elf", buf, len, false, &e, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "thread-local storage is not supported"));
	free(buf);
}

static void test_gcc_dynamic(void **state)
{
	(void)state;
	size_t len;
	uint8_t *buf = compile("dyn", "int main(void) { return 0; }\n", "-fPIE -pie", &len);
	eimg_elf e;
	eimg_error err;
	assert_int_equal(eimg_elf_parse("dyn.elf", buf, len, false, &e, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "PT_INTERP"));
	free(buf);
}

/* ---- hand-made ELFs ---- */

#define MAXPH 70
struct mk {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[MAXPH];
	int n;
	size_t filesize;
};

static void mk_init(struct mk *m)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->eh.e_ident, ELFMAG, SELFMAG);
	m->eh.e_ident[EI_CLASS] = ELFCLASS64;
	m->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	m->eh.e_ident[EI_VERSION] = EV_CURRENT;
	m->eh.e_type = ET_DYN;
	m->eh.e_machine = EM_X86_64;
	m->eh.e_version = EV_CURRENT;
	m->eh.e_entry = 0x1000;
	m->eh.e_phoff = sizeof(Elf64_Ehdr);
	m->eh.e_ehsize = sizeof(Elf64_Ehdr);
	m->eh.e_phentsize = sizeof(Elf64_Phdr);
	m->filesize = 0x3000;
}

static void mk_ph(struct mk *m, uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr, uint64_t filesz,
		  uint64_t memsz)
{
	Elf64_Phdr *p = &m->ph[m->n++];
	p->p_type = type;
	p->p_flags = flags;
	p->p_offset = off;
	p->p_vaddr = p->p_paddr = vaddr;
	p->p_filesz = filesz;
	p->p_memsz = memsz;
	p->p_align = 0x1000;
}

/* A valid two-segment enclave: R at 0, RX at 0x1000, RW at 0x2000. */
static void mk_good(struct mk *m)
{
	mk_init(m);
	mk_ph(m, PT_LOAD, PF_R, 0, 0, 0x200, 0x200);
	mk_ph(m, PT_LOAD, PF_R | PF_X, 0x1000, 0x1000, 0x100, 0x100);
	mk_ph(m, PT_LOAD, PF_R | PF_W, 0x2010, 0x2010, 0x10, 0x5000);
	mk_ph(m, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
}

static uint8_t *mk_bytes(struct mk *m, size_t *len)
{
	m->eh.e_phnum = (Elf64_Half)m->n;
	size_t need = sizeof(Elf64_Ehdr) + (size_t)m->n * sizeof(Elf64_Phdr);
	size_t n = m->filesize > need ? m->filesize : need;
	uint8_t *b = calloc(1, n);
	memcpy(b, &m->eh, sizeof(m->eh));
	memcpy(b + sizeof(Elf64_Ehdr), m->ph, (size_t)m->n * sizeof(Elf64_Phdr));
	*len = n;
	return b;
}

static void expect(struct mk *m, bool allow_wx, int code, const char *needle)
{
	size_t len;
	uint8_t *b = mk_bytes(m, &len);
	eimg_elf e;
	eimg_error err;
	memset(&err, 0, sizeof(err));
	int rc = eimg_elf_parse("x.elf", b, len, allow_wx, &e, &err);
	if (rc != code)
		fail_msg("expected status %d, got %d (%s) [case: %s]", code, rc, err.msg, needle ? needle : "-");
	if (needle && !strstr(err.msg, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
	if (code)
		assert_string_equal(err.file, "x.elf");
	free(b);
}

static void test_handmade_good(void **state)
{
	(void)state;
	struct mk m;
	mk_good(&m);
	size_t len;
	uint8_t *b = mk_bytes(&m, &len);
	eimg_elf e;
	assert_int_equal(eimg_elf_parse("x.elf", b, len, false, &e, NULL), EIMG_OK);
	assert_int_equal(e.nseg, 3);
	assert_int_equal(e.image_end, 0x8000);
	assert_int_equal(e.seg[2].vaddr, 0x2000);
	assert_int_equal(e.seg[2].data_off, 0x10);
	assert_int_equal(e.seg[2].memsz, 0x6000);
	assert_int_equal(e.seg[2].file_off, 0x2010);
	assert_int_equal(e.seg[2].filesz, 0x10);
	assert_int_equal(e.seg[1].flags, EIMG_SEG_R | EIMG_SEG_X);
	free(b);
}

static void test_handmade_bad(void **state)
{
	(void)state;
	struct mk m;
	size_t len;

	mk_good(&m); m.eh.e_ident[0] = 0x7e; expect(&m, false, EIMG_EINVAL, "bad magic");
	mk_good(&m); m.eh.e_ident[EI_CLASS] = ELFCLASS32; expect(&m, false, EIMG_EINVAL, "expected 64-bit");
	mk_good(&m); m.eh.e_ident[EI_DATA] = ELFDATA2MSB; expect(&m, false, EIMG_EINVAL, "little-endian");
	mk_good(&m); m.eh.e_ident[EI_VERSION] = 2; expect(&m, false, EIMG_EINVAL, "ELF version");
	mk_good(&m); m.eh.e_machine = EM_386; expect(&m, false, EIMG_EINVAL, "expected x86-64");
	mk_good(&m); m.eh.e_machine = EM_AARCH64; expect(&m, false, EIMG_EINVAL, "machine is 183");
	mk_good(&m); m.eh.e_type = ET_EXEC; expect(&m, false, EIMG_EINVAL, "ET_EXEC");
	mk_good(&m); m.eh.e_type = ET_REL; expect(&m, false, EIMG_EINVAL, "ET_DYN");
	mk_good(&m); m.eh.e_type = ET_CORE; expect(&m, false, EIMG_EINVAL, "ET_DYN");
	mk_init(&m); expect(&m, false, EIMG_EINVAL, "no program headers");
	mk_init(&m); mk_ph(&m, PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	expect(&m, false, EIMG_EINVAL, "no loadable");
	/* Program header table beyond the file. */
	mk_good(&m); m.eh.e_phoff = 0x10000; expect(&m, false, EIMG_EINVAL, "not a valid ELF file:");
	mk_good(&m); m.eh.e_phoff = UINT64_MAX - 8; expect(&m, false, EIMG_EINVAL, "not a valid ELF file");
	mk_good(&m); m.eh.e_phentsize = 40; expect(&m, false, EIMG_EINVAL, "program header entry size is 40, expected 56");

	/* Segments. */
	mk_good(&m); m.ph[1].p_flags = PF_R | PF_W | PF_X;
	expect(&m, false, EIMG_EINVAL, "segment 1 is writable and executable; set sgx.allow_write_exec: true");
	expect(&m, true, EIMG_OK, NULL);
	mk_good(&m); m.ph[2].p_flags = PF_W; expect(&m, false, EIMG_EINVAL, "segment 2 is writable but not readable");
	mk_good(&m); m.ph[2].p_offset = 0x2020; expect(&m, false, EIMG_EINVAL, "differ modulo the page size");
	mk_good(&m); m.ph[2].p_filesz = 0x6000; expect(&m, false, EIMG_EINVAL, "more file bytes");
	mk_good(&m); m.ph[2].p_filesz = 0x1000; m.ph[2].p_memsz = 0x1000;
	expect(&m, false, EIMG_EINVAL, "segment 2: file range 0x2010+0x1000 lies outside the file");
	mk_good(&m); m.ph[2].p_offset = 0xfffffffffffff010ull; m.ph[2].p_vaddr = 0x2010;
	expect(&m, false, EIMG_EINVAL, "segment 2: file range 0xfffffffffffff010+0x10 lies outside the file (12288 bytes)");
	mk_good(&m); m.ph[2].p_offset = 0xfffffffffffff010ull; m.ph[2].p_vaddr = 0xfffffffffffff010ull;
	expect(&m, false, EIMG_EINVAL, "outside the file");
	mk_good(&m); m.ph[2].p_memsz = 1ull << 30; expect(&m, false, EIMG_EINVAL, "ELF image limit of 1024 MiB");
	mk_good(&m); m.ph[2].p_memsz = UINT64_MAX; expect(&m, false, EIMG_EINVAL, "image limit");
	mk_good(&m); m.ph[2].p_vaddr = 0xfffffffffffff010ull;
	expect(&m, false, EIMG_EINVAL, "image limit");
	mk_good(&m); m.ph[2].p_memsz = 0; m.ph[2].p_filesz = 0; expect(&m, false, EIMG_EINVAL, "segment 2 is empty");
	/* Shares a page / overlaps / unsorted. */
	mk_good(&m); m.ph[2].p_vaddr = m.ph[2].p_offset = 0x1810;
	expect(&m, false, EIMG_EINVAL, "segment 2 (at 0x1810) overlaps or shares a page");
	mk_good(&m); m.ph[2].p_vaddr = m.ph[2].p_offset = 0x1010;
	expect(&m, false, EIMG_EINVAL, "shares a page");
	mk_good(&m); m.ph[1].p_memsz = 0x1001; expect(&m, false, EIMG_EINVAL, "shares a page");
	mk_good(&m); m.ph[1].p_memsz = 0x1000; m.ph[1].p_filesz = 0x1000; expect(&m, false, EIMG_OK, NULL);
	mk_good(&m); m.ph[0].p_vaddr = 0x3000; m.ph[0].p_offset = 0;
	expect(&m, false, EIMG_EINVAL, "segment 1 is not sorted");
	mk_good(&m); m.ph[0].p_vaddr = m.ph[0].p_offset = 0x1000;
	expect(&m, false, EIMG_EINVAL, "segment 1 (at 0x1000) overlaps");
	mk_good(&m); m.ph[0].p_vaddr = 0x123; m.ph[0].p_offset = 0;
	expect(&m, false, EIMG_EINVAL, "segment 0: address 0x123 and file offset 0 differ modulo the page size");
	/* Entry point. */
	mk_good(&m); m.eh.e_entry = 0x100; expect(&m, false, EIMG_EINVAL, "entry point 0x100 is not inside an executable segment");
	mk_good(&m); m.eh.e_entry = 0x1100; expect(&m, false, EIMG_EINVAL, "entry point 0x1100");
	mk_good(&m); m.eh.e_entry = 0x10ff; expect(&m, false, EIMG_OK, NULL);
	mk_good(&m); m.eh.e_entry = 0x90000; expect(&m, false, EIMG_EINVAL, "entry point");
	/* Forbidden segment types. */
	mk_good(&m); mk_ph(&m, PT_TLS, PF_R, 0x2010, 0x2010, 0x10, 0x10);
	expect(&m, false, EIMG_EINVAL, "thread-local storage is not supported");
	mk_good(&m); mk_ph(&m, PT_INTERP, PF_R, 0x100, 0x100, 0x10, 0x10);
	expect(&m, false, EIMG_EINVAL, "PT_INTERP");
	mk_good(&m); mk_ph(&m, PT_DYNAMIC, PF_R | PF_W, 0x2f00, 0x2f00, 0x1000, 0x1000);
	expect(&m, false, EIMG_EINVAL, "dynamic segment (program header 4) lies outside the file");
	/* Too many segments. */
	mk_init(&m);
	for (int i = 0; i < 65; i++)
		mk_ph(&m, PT_LOAD, PF_R | PF_X, (uint64_t)i * 0x1000, (uint64_t)i * 0x1000, 0x10, 0x10);
	m.filesize = 65 * 0x1000;
	expect(&m, false, EIMG_EINVAL, "more than 64 loadable segments");
	m.n = 64;
	expect(&m, false, EIMG_OK, NULL);

	/* Truncations of a valid file: never a crash, always an error. */
	mk_good(&m);
	uint8_t *b = mk_bytes(&m, &len);
	for (size_t cut = 0; cut < 0x2020; cut += (cut < 0x200 ? 1 : 0x10)) {
		eimg_elf e;
		eimg_error err;
		assert_int_equal(eimg_elf_parse("x.elf", b, cut, false, &e, &err), EIMG_EINVAL);
	}
	free(b);
}

/* ---- the canonical form ---- */

static void same_model(const eimg_elf *a, const eimg_elf *b)
{
	assert_int_equal(a->entry, b->entry);
	assert_int_equal(a->nseg, b->nseg);
	assert_int_equal(a->image_end, b->image_end);
	for (size_t i = 0; i < a->nseg; i++) {
		assert_int_equal(a->seg[i].vaddr, b->seg[i].vaddr);
		assert_int_equal(a->seg[i].memsz, b->seg[i].memsz);
		assert_int_equal(a->seg[i].data_off, b->seg[i].data_off);
		/* b (canonical) keeps a's file bytes but the zeros at their end */
		assert_true(b->seg[i].filesz <= a->seg[i].filesz);
		assert_int_equal(a->seg[i].flags, b->seg[i].flags);
		assert_memory_equal(a->data + a->seg[i].file_off, b->data + b->seg[i].file_off, b->seg[i].filesz);
		for (uint64_t k = b->seg[i].filesz; k < a->seg[i].filesz; k++)
			assert_int_equal(a->data[a->seg[i].file_off + k], 0);
	}
}

/* gcc's ELF (sections, symbols, a page 0 with headers): the canonical form
 * loads the same bytes, has no section headers, is a fixed point, and the
 * original is refused naming the first field that differs. */
static void test_canonical_gcc(void **state)
{
	(void)state;
	size_t len, clen, c2len;
	uint8_t *buf = compile("canon", enclave_src, ENCLAVE_FLAGS " -g", &len);
	eimg_elf e, c, c2;
	eimg_error err;
	uint8_t *cb, *cb2;
	assert_int_equal(eimg_elf_parse("canon.elf", buf, len, false, &e, NULL), EIMG_OK);
	assert_int_equal(eimg_elf_canonical(&e, &cb, &clen, NULL), EIMG_OK);
	assert_int_equal(eimg_elf_parse("canonical", cb, clen, false, &c, NULL), EIMG_OK);
	same_model(&e, &c);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)cb;
	assert_int_equal(eh->e_shoff, 0);
	assert_int_equal(eh->e_shnum, 0);
	assert_int_equal(eh->e_phnum, e.nseg);
	/* The symbol names (symbol table, debugging information) are gone. */
	assert_non_null(memmem(buf, len, "counter", 7));
	assert_null(memmem(cb, clen, "counter", 7));
	assert_int_equal(eimg_elf_check_canonical("canonical", &c, NULL), EIMG_OK);
	assert_int_equal(eimg_elf_canonical(&c, &cb2, &c2len, NULL), EIMG_OK);
	assert_int_equal(c2len, clen);
	assert_memory_equal(cb2, cb, clen);
	assert_int_equal(eimg_elf_parse("canonical", cb2, c2len, false, &c2, NULL), EIMG_OK);
	memset(&err, 0, sizeof(err));
	assert_int_equal(eimg_elf_check_canonical("canon.elf", &e, &err), EIMG_EINVAL);
	assert_string_equal(err.file, "canon.elf");
	assert_non_null(strstr(err.msg, "not a canonical enclave ELF: byte at offset "));
	assert_non_null(strstr(err.msg, "(ELF header field "));
	free(cb);
	free(cb2);
	free(buf);
}

/* Known answer for the hand-made ELF, computed by hand from the rule:
 * headers 64 + 3 * 56 = 232 bytes; segment 0 (address 0) at 0x1000,
 * 0x200 bytes; segment 1 (address 0x1000) at 0x2000, 0x100 bytes;
 * segment 2 (address 0x2010) at 0x3010, 0x10 bytes; 0x3020 in all. */
static void test_canonical_known_answer(void **state)
{
	(void)state;
	struct mk m;
	size_t len, clen;
	mk_good(&m);
	uint8_t *b = mk_bytes(&m, &len);
	for (size_t i = 0x200; i < len; i++)
		b[i] = (uint8_t)((i * 7) | 1); /* segment bytes and padding alike; never 0, so nothing is trimmed */
	eimg_elf e;
	uint8_t *c;
	assert_int_equal(eimg_elf_parse("x.elf", b, len, false, &e, NULL), EIMG_OK);
	assert_int_equal(eimg_elf_canonical(&e, &c, &clen, NULL), EIMG_OK);
	assert_int_equal(clen, 0x3020);
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(c + 64);
	static const uint64_t off[3] = { 0x1000, 0x2000, 0x3010 }, memsz[3] = { 0x1000, 0x1000, 0x5ff0 };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ph[i].p_type, PT_LOAD);
		assert_int_equal(ph[i].p_offset, off[i]);
		assert_int_equal(ph[i].p_vaddr, m.ph[i].p_vaddr);
		assert_int_equal(ph[i].p_paddr, m.ph[i].p_vaddr);
		/* the file bytes less the zeros at their end (segment 0 ends in the
		 * header page's zero padding) */
		uint64_t fs = m.ph[i].p_filesz;
		while (fs > 0 && b[m.ph[i].p_offset + fs - 1] == 0)
			fs--;
		assert_int_equal(ph[i].p_filesz, fs);
		assert_int_equal(ph[i].p_memsz, memsz[i]);
		assert_int_equal(ph[i].p_align, 0x1000);
		assert_int_equal(ph[i].p_flags, m.ph[i].p_flags);
		assert_memory_equal(c + off[i], b + m.ph[i].p_offset, m.ph[i].p_filesz);
	}
	for (size_t i = 64 + 3 * 56; i < 0x1000; i++)
		assert_int_equal(c[i], 0);
	for (size_t i = 0x1200; i < 0x2000; i++)
		assert_int_equal(c[i], 0);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)c;
	assert_int_equal(eh->e_entry, m.eh.e_entry);
	assert_int_equal(eh->e_phoff, 64);
	assert_int_equal(eh->e_flags, 0);
	assert_int_equal(eh->e_shentsize, 0);
	free(c);
	free(b);
}

/* Whether two parsed ELFs load the same enclave (what MRENCLAVE covers). */
static bool loads_same(const eimg_elf *a, const eimg_elf *b)
{
	if (a->entry != b->entry || a->nseg != b->nseg)
		return false;
	for (size_t i = 0; i < a->nseg; i++) {
		const struct eimg_elf_segment *x = &a->seg[i], *y = &b->seg[i];
		if (x->vaddr != y->vaddr || x->memsz != y->memsz || x->data_off != y->data_off ||
		    x->filesz != y->filesz || x->flags != y->flags ||
		    memcmp(a->data + x->file_off, b->data + y->file_off, x->filesz) != 0)
			return false;
	}
	return true;
}

/* Every byte of a canonical ELF is accounted for: changed, it makes the ELF
 * invalid, or not canonical, or it changes what is loaded (measured). */
static void test_canonical_every_byte(void **state)
{
	(void)state;
	struct mk m;
	size_t len, clen;
	mk_good(&m);
	m.eh.e_entry = 0x1010;
	uint8_t *b = mk_bytes(&m, &len), *c;
	for (size_t i = 0x200; i < len; i++)
		b[i] = (uint8_t)((i * 13 + 5) | 1); /* never 0: nothing is trimmed from the segments' ends */
	eimg_elf e;
	assert_int_equal(eimg_elf_parse("x.elf", b, len, false, &e, NULL), EIMG_OK);
	assert_int_equal(eimg_elf_canonical(&e, &c, &clen, NULL), EIMG_OK);
	size_t loaded = 0;
	for (size_t i = 0; i < clen; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			eimg_elf f;
			c[i] ^= (uint8_t)(1u << bit);
			bool accepted = eimg_elf_parse("x.elf", c, clen, true, &f, NULL) == EIMG_OK &&
					eimg_elf_check_canonical("x.elf", &f, NULL) == EIMG_OK;
			c[i] ^= (uint8_t)(1u << bit);
			if (!accepted)
				continue;
			c[i] ^= (uint8_t)(1u << bit); /* f points into c: compare with the change in place */
			bool same = loads_same(&e, &f);
			c[i] ^= (uint8_t)(1u << bit);
			if (same)
				fail_msg("byte %zu (bit %d) changed without notice", i, bit);
			loaded++;
		}
	}
	/* every loaded byte of the canonical form (two flips each), but a
	 * segment's last byte flipped to 0 (refused: not canonical) */
	eimg_elf cc;
	assert_int_equal(eimg_elf_parse("c.elf", c, clen, true, &cc, NULL), EIMG_OK);
	size_t file_bytes = 0;
	for (size_t k = 0; k < cc.nseg; k++)
		file_bytes += cc.seg[k].filesz;
	assert_true(file_bytes > 0x100);
	assert_true(loaded >= 2 * file_bytes - cc.nseg);
	/* Appended bytes are refused, and so are bytes cut off. */
	uint8_t *longer = calloc(1, clen + 1);
	memcpy(longer, c, clen);
	eimg_elf f;
	eimg_error err;
	assert_int_equal(eimg_elf_parse("x.elf", longer, clen + 1, false, &f, NULL), EIMG_OK);
	assert_int_equal(eimg_elf_check_canonical("x.elf", &f, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "after the last loaded segment"));
	free(longer);
	free(c);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcc_enclave),
		cmocka_unit_test(test_gcc_not_pie),
		cmocka_unit_test(test_gcc_tls),
		cmocka_unit_test(test_gcc_dynamic),
		cmocka_unit_test(test_handmade_good),
		cmocka_unit_test(test_handmade_bad),
		cmocka_unit_test(test_canonical_gcc),
		cmocka_unit_test(test_canonical_known_answer),
		cmocka_unit_test(test_canonical_every_byte),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
