/* SPDX-License-Identifier: Apache-2.0 */
/* Open Enclave enclaves: a small ET_DYN enclave written here from Open
 * Enclave's formats (oe_sgx_enclave_properties_t in .oeinfo, the dynamic
 * symbols its loader patches), its load stream read back record by record,
 * then hostile variations: every prefix of the file, the properties OE
 * refuses, the image and symbol checks.  The MRENCLAVE itself is checked
 * against an independent Python implementation and Open Enclave's own loader
 * in test/py/test_oe_enclave.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eimg/oe_enclave.h"
#include "eimg/sgxs.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"

#define SEG_SIZE  0x2000u
#define OEINFO    0x1000u            /* rva = file offset */
#define SLOTS     0x1800u
#define DYNSYM    0x2000u
#define NSYM      4u
#define DYNSTR    (DYNSYM + 24u * NSYM)
#define SHSTR     (DYNSTR + 48u)
#define SHOFF     (SHSTR + 48u)
#define NSEC      5u
#define FILE_SIZE (SHOFF + 64u * NSEC)

static const char dynstr[] = "\0_enclave_rva\0_reloc_rva\0_reloc_size";
static const char shstr[] = "\0.oeinfo\0.dynsym\0.dynstr\0.shstrtab";

struct fx {
	uint8_t b[FILE_SIZE];
};

static void shdr(uint8_t *p, uint32_t name, uint32_t type, uint64_t addr, uint64_t off, uint64_t size, uint64_t ent)
{
	eimg_le32(p, name);
	eimg_le32(p + 4, type);
	eimg_le64(p + 16, addr);
	eimg_le64(p + 24, off);
	eimg_le64(p + 32, size);
	eimg_le64(p + 48, 8);
	eimg_le64(p + 56, ent);
}

/* heap 3 pages, stack 2 pages, 2 TCS, debug allowed. */
static void build(struct fx *f)
{
	uint8_t *b = f->b;
	memset(b, 0, sizeof(f->b));
	memcpy(b, "\x7f" "ELF\x02\x01\x01", 7);
	eimg_le16(b + 16, 3);               /* ET_DYN */
	eimg_le16(b + 18, 62);
	eimg_le32(b + 20, 1);
	eimg_le64(b + 24, 0x100);           /* entry */
	eimg_le64(b + 32, 64);
	eimg_le64(b + 40, SHOFF);
	eimg_le16(b + 52, 64);
	eimg_le16(b + 54, 56);
	eimg_le16(b + 56, 1);
	eimg_le16(b + 58, 64);
	eimg_le16(b + 60, NSEC);
	eimg_le16(b + 62, NSEC - 1);
	uint8_t *ph = b + 64;               /* one PT_LOAD, R+W+X, 0..SEG_SIZE */
	eimg_le32(ph, 1);
	eimg_le32(ph + 4, 7);
	eimg_le64(ph + 32, SEG_SIZE);
	eimg_le64(ph + 40, SEG_SIZE);
	eimg_le64(ph + 48, 0x1000);
	for (unsigned i = 0x200; i < 0x1000; i++)
		b[i] = (uint8_t)(i * 5 + 1);
	uint8_t *o = b + OEINFO;
	eimg_le32(o, EIMG_OEINFO_SIZE);
	eimg_le32(o + 4, 2);
	eimg_le64(o + 8, 3);
	eimg_le64(o + 16, 2);
	eimg_le64(o + 24, 2);
	eimg_le64(o + 72, 0x6);
	eimg_le64(o + 1952, 0xececececececececull);
	for (unsigned i = 1; i < NSYM; i++) {   /* names at 1, 14, 25 */
		static const uint32_t name[] = { 0, 1, 14, 25 };
		uint8_t *s = b + DYNSYM + 24 * i;
		eimg_le32(s, name[i]);
		s[4] = 0x11;
		eimg_le16(s + 6, 1);
		eimg_le64(s + 8, SLOTS + 8 * i);
	}
	memcpy(b + DYNSTR, dynstr, sizeof(dynstr));
	memcpy(b + SHSTR, shstr, sizeof(shstr));
	uint8_t *sh = b + SHOFF;
	shdr(sh + 64, 1, 1, OEINFO, OEINFO, EIMG_OEINFO_SIZE, 0);
	shdr(sh + 128, 9, 11, 0, DYNSYM, 24 * NSYM, 24);
	shdr(sh + 192, 17, 3, 0, DYNSTR, sizeof(dynstr), 0);
	shdr(sh + 256, 25, 3, 0, SHSTR, sizeof(shstr), 0);
}

struct mem {
	uint8_t *p;
	size_t n;
};

static int to_mem(void *ctx, const uint8_t *buf, size_t len, eimg_error *err)
{
	struct mem *m = ctx;
	(void)err;
	m->p = realloc(m->p, m->n + len);
	assert_non_null(m->p);
	memcpy(m->p + m->n, buf, len);
	m->n += len;
	return EIMG_OK;
}

static void test_valid(void **state)
{
	(void)state;
	struct fx f;
	struct eimg_oe_properties p;
	struct eimg_oe_layout l;
	struct eimg_sgxs_info info;
	struct mem m = { NULL, 0 };
	uint8_t mr[32], mr2[32];
	eimg_error err;
	build(&f);
	assert_int_equal(eimg_oe_plan("t", f.b, sizeof(f.b), &p, &l, &err), EIMG_OK);
	assert_int_equal(l.image_size, SEG_SIZE);
	assert_int_equal(l.reloc_size, 0);
	assert_int_equal(l.heap_rva, SEG_SIZE);
	assert_int_equal(l.tls_pages, 0);
	/* image 2 + heap 3 + 2 threads x (guard, 2 stack, guard, TCS, 2 SSA, guard, TD) */
	assert_int_equal(l.loaded_size, (2 + 3 + 2 * 9) * 4096ull);
	assert_int_equal(l.enclave_size, 32 * 4096ull);
	assert_int_equal(eimg_oe_stream("t", f.b, sizeof(f.b), to_mem, &m, &err), EIMG_OK);
	assert_int_equal(eimg_sgxs_read_buffer("t", m.p, m.n, &info, &err), EIMG_OK);
	assert_int_equal(info.size, 32 * 4096ull);
	assert_int_equal(info.ssa_frame_size, 1);
	assert_int_equal(info.neadd, 2 + 3 + 2 * 6);
	assert_int_equal(info.nextend, 16 * (2 + 2 * 6));     /* the heap is not measured */
	assert_int_equal(info.ntcs, 2);
	assert_int_equal(eimg_oe_mrenclave("t", f.b, sizeof(f.b), mr, &err), EIMG_OK);
	assert_memory_equal(mr, info.mrenclave, 32);
	/* The SIGSTRUCT and image info are overwritten before measuring. */
	memset(f.b + OEINFO + 96, 0x5a, 48 + EIMG_SIGSTRUCT_SIZE);
	assert_int_equal(eimg_oe_mrenclave("t", f.b, sizeof(f.b), mr2, &err), EIMG_OK);
	assert_memory_equal(mr, mr2, 32);
	/* A code byte is measured; a patched symbol's slot is overwritten. */
	f.b[SLOTS + 8] ^= 1;
	assert_int_equal(eimg_oe_mrenclave("t", f.b, sizeof(f.b), mr2, &err), EIMG_OK);
	assert_memory_equal(mr, mr2, 32);
	f.b[0x300] ^= 1;
	assert_int_equal(eimg_oe_mrenclave("t", f.b, sizeof(f.b), mr2, &err), EIMG_OK);
	assert_memory_not_equal(mr, mr2, 32);
	free(m.p);
}

static void test_zero_base(void **state)
{
	(void)state;
	struct fx f;
	struct eimg_oe_properties p;
	struct eimg_oe_layout l;
	struct eimg_sgxs_info info;
	struct mem m = { NULL, 0 };
	eimg_error err;
	build(&f);
	eimg_le32(f.b + OEINFO + 36, 2);
	eimg_le64(f.b + OEINFO + 88, 0x30000);
	assert_int_equal(eimg_oe_plan("t", f.b, sizeof(f.b), &p, &l, &err), EIMG_OK);
	assert_int_equal(l.base_offset, 0x30000);
	assert_int_equal(l.enclave_size, 32 * 4096ull);
	assert_int_equal(l.ecreate_size, 0x80000);   /* pow2(23 pages + 0x30000) */
	assert_int_equal(eimg_oe_stream("t", f.b, sizeof(f.b), to_mem, &m, &err), EIMG_OK);
	assert_int_equal(eimg_sgxs_read_buffer("t", m.p, m.n, &info, &err), EIMG_OK);
	assert_int_equal(info.size, l.ecreate_size);
	free(m.p);
	eimg_le64(f.b + OEINFO + 88, 0x30001);
	assert_int_equal(eimg_oe_plan("t", f.b, sizeof(f.b), &p, &l, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "start address"));
}

static void expect_refused(struct fx *f, const char *word)
{
	struct eimg_oe_properties p;
	struct eimg_oe_layout l;
	eimg_error err;
	eimg_error_clear(&err);
	assert_int_equal(eimg_oe_plan("t", f->b, sizeof(f->b), &p, &l, &err), EIMG_EINVAL);
	if (!strstr(err.msg, word))
		fail_msg("expected '%s' in: %s", word, err.msg);
	assert_null(strchr(err.msg, '\n'));
}

static void test_hostile(void **state)
{
	(void)state;
	struct fx f;
	build(&f);
	eimg_le64(f.b + OEINFO + 72, 0x2);                 /* no MODE64BIT */
	expect_refused(&f, "MODE64BIT");
	build(&f);
	f.b[OEINFO + 40] = 1;                              /* family id without KSS */
	expect_refused(&f, "KSS");
	build(&f);
	eimg_le64(f.b + OEINFO + 8, 1ull << 40);           /* heap */
	expect_refused(&f, "limit");
	build(&f);
	eimg_le64(f.b + OEINFO + 24, 1024);
	eimg_le64(f.b + OEINFO + 16, 1u << 14);            /* 1024 x 64 MiB stacks */
	expect_refused(&f, "GiB");
	build(&f);
	eimg_le16(f.b + 16, 2);
	expect_refused(&f, "PIE");
	build(&f);
	eimg_le64(f.b + 24, 0);
	expect_refused(&f, "entry point");
	build(&f);
	eimg_le64(f.b + 64 + 16, 0x1000);                  /* lowest segment not at 0 */
	expect_refused(&f, "address 0");
	build(&f);
	eimg_le32(f.b + 64 + 4, 0);
	expect_refused(&f, "permission");
	build(&f);
	eimg_le64(f.b + 64 + 32, SEG_SIZE + 1);            /* filesz above memsz */
	expect_refused(&f, "memory size");
	build(&f);
	eimg_le64(f.b + 64 + 40, 1ull << 40);              /* a 1 TiB image */
	eimg_le64(f.b + 64 + 32, SEG_SIZE);
	expect_refused(&f, "limit");
	build(&f);
	eimg_le64(f.b + SHOFF + 64 + 16, SEG_SIZE - 8);    /* .oeinfo past the image */
	expect_refused(&f, "inside the loaded image");
	build(&f);
	f.b[DYNSTR + 14] = 'X';                            /* no _reloc_rva */
	expect_refused(&f, "_reloc_rva");
	build(&f);
	eimg_le64(f.b + DYNSYM + 24 + 8, SEG_SIZE - 4);    /* _enclave_rva's slot crosses the end */
	expect_refused(&f, "outside the image");
	build(&f);
	eimg_le32(f.b + DYNSYM + 24, 4000);                /* a name past .dynstr */
	expect_refused(&f, "past .dynstr");
	build(&f);
	eimg_le32(f.b + SHOFF + 128 + 4, 2);               /* .dynsym not SHT_DYNSYM */
	expect_refused(&f, ".dynsym");
}

/* Every prefix of the file is refused with one line, nothing crashes. */
static void test_truncated(void **state)
{
	(void)state;
	struct fx f;
	struct eimg_oe_properties p;
	struct eimg_oe_layout l;
	eimg_error err;
	build(&f);
	for (size_t n = 0; n < sizeof(f.b); n += (n < 256 ? 1 : 61)) {
		uint8_t *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, f.b, n);
		assert_int_equal(eimg_oe_plan("t", copy, n, &p, &l, &err), EIMG_EINVAL);
		assert_null(strchr(err.msg, '\n'));
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_zero_base),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
