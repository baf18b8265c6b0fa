/* SPDX-License-Identifier: Apache-2.0 */
/* Intel SGX SDK enclaves: a small enclave written here from Intel's formats
 * (metadata.h, metadata_sec.S), then hostile variations of it: every check
 * Intel's loader makes, the documented limits, the note offset, truncation.
 * The measurement itself is cross-checked against an independent Python
 * implementation in test/py/test_sdk_enclave.py and against Intel-signed
 * enclaves (local check, see the report). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eimg/sdk_enclave.h"
#include "eimg/sgxs.h"
#include "eimg/util.h"
#include "core/internal.h"

#define SEG_SIZE  0x1800u
#define NOTE_OFF  0x1800u
#define DATA0     (1872u + 16u)        /* version 2.4: two directories */
#define N_ROWS    5u
#define BLOB_SIZE (DATA0 + 72u + 32u + 32u * N_ROWS)
#define DESC_SIZE 0x1000u
#define STR_OFF   (NOTE_OFF + 25u + DESC_SIZE)
#define SH_OFF    (STR_OFF + 32u + 7u)
#define FILE_SIZE (SH_OFF + 3u * 64u)

struct fx {
	uint8_t b[FILE_SIZE];
	uint8_t *blob;
};

static void row(uint8_t *p, uint16_t id, uint16_t attr, uint32_t pages, uint64_t rva, uint32_t csize, uint32_t coff,
		uint64_t flags)
{
	eimg_le16(p, id);
	eimg_le16(p + 2, attr);
	eimg_le32(p + 4, pages);
	eimg_le64(p + 8, rva);
	eimg_le32(p + 16, csize);
	eimg_le32(p + 20, coff);
	eimg_le64(p + 24, flags);
}

static void elf_headers(uint8_t *b)
{
	memcpy(b, "\177ELF\2\1\1", 7);
	eimg_le16(b + 16, 3);
	eimg_le16(b + 18, 62);
	eimg_le32(b + 20, 1);
	eimg_le64(b + 24, 0x1000);
	eimg_le64(b + 32, 64);                     /* phoff */
	eimg_le64(b + 40, SH_OFF);
	eimg_le16(b + 52, 64);
	eimg_le16(b + 54, 56);
	eimg_le16(b + 56, 1);
	eimg_le16(b + 58, 64);
	eimg_le16(b + 60, 3);
	eimg_le16(b + 62, 2);
	uint8_t *ph = b + 64;                      /* PT_LOAD R+X at 0 */
	eimg_le32(ph, 1);
	eimg_le32(ph + 4, 5);
	eimg_le64(ph + 32, SEG_SIZE);
	eimg_le64(ph + 40, SEG_SIZE);
	eimg_le64(ph + 48, 0x1000);
	for (unsigned i = 200; i < SEG_SIZE; i++)
		b[i] = (uint8_t)(i * 7);
	uint8_t *sh = b + SH_OFF + 64;             /* .note.sgxmeta, .shstrtab */
	eimg_le32(sh, 1);
	eimg_le32(sh + 4, 7);
	eimg_le64(sh + 24, NOTE_OFF);
	eimg_le64(sh + 32, 25 + DESC_SIZE);
	eimg_le64(sh + 48, 1);
	sh += 64;
	eimg_le32(sh, 15);
	eimg_le32(sh + 4, 3);
	eimg_le64(sh + 24, STR_OFF);
	eimg_le64(sh + 32, 25);
	memcpy(b + STR_OFF, "\0.note.sgxmeta\0.shstrtab\0", 25);
}

/* Version 2.4; heap 1 page, guard, TCS, SSA 2 frames, guard; enclave 64 KiB. */
static void build(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	elf_headers(f->b);
	uint8_t *n = f->b + NOTE_OFF;
	eimg_le32(n, 13);
	eimg_le32(n + 4, DESC_SIZE);
	eimg_le32(n + 8, 1);
	memcpy(n + 12, "sgx_metadata", 13);
	uint8_t *m = f->blob = n + 25;
	eimg_le64(m, EIMG_SGX_METADATA_MAGIC);
	eimg_le64(m + 8, (uint64_t)2 << 32 | 4);
	eimg_le32(m + 16, BLOB_SIZE);
	eimg_le32(m + 20, 1);
	eimg_le32(m + 24, 1);
	eimg_le64(m + 40, 0x10000);
	eimg_le32(m + 1872, DATA0 + 72);            /* patch table: one entry */
	eimg_le32(m + 1876, 32);
	eimg_le32(m + 1880, DATA0 + 72 + 32);       /* layout */
	eimg_le32(m + 1884, 32 * N_ROWS);
	uint8_t *tcs = m + DATA0;                   /* TCS template: OSSA, NSSA, OENTRY, FS/GS */
	eimg_le64(tcs + 16, 0x1000);
	eimg_le32(tcs + 28, 2);
	eimg_le64(tcs + 32, 0x1000);
	uint8_t *patch = m + DATA0 + 72;
	eimg_le64(patch, 0x400);
	eimg_le32(patch + 8, DATA0 + 24);
	eimg_le32(patch + 12, 8);
	uint8_t *r = m + DATA0 + 72 + 32;
	row(r, EIMG_SDK_HEAP_MIN, 3, 1, 0x2000, 0, 0, 0x203);
	row(r + 32, EIMG_SDK_GUARD, 0, 1, 0x3000, 0, 0, 0);
	row(r + 64, EIMG_SDK_TCS, 3, 1, 0x4000, 72, DATA0, 0x100);
	row(r + 96, EIMG_SDK_SSA, 3, 2, 0x5000, 0, 0, 0x203);
	row(r + 128, EIMG_SDK_GUARD, 0, 1, 0x7000, 0, 0, 0);
}

static int open_fx(struct fx *f, eimg_sdk_enclave **e, eimg_error *err)
{
	return eimg_sdk_open("fx.so", f->b, sizeof(f->b), e, err);
}

static void expect_bad(struct fx *f, const char *msg)
{
	eimg_sdk_enclave *e = NULL;
	eimg_error err;
	int rc = open_fx(f, &e, &err);
	if (rc == EIMG_OK) {
		eimg_sdk_free(e);
		fail_msg("accepted an enclave that should fail with \"%s\"", msg);
	}
	assert_int_equal(rc, EIMG_EINVAL);
	if (!strstr(err.msg, msg))
		fail_msg("message \"%s\" does not contain \"%s\"", err.msg, msg);
	assert_null(strchr(err.msg, '\n'));
}

static int count_sink(void *ctx, const uint8_t *buf, size_t len, eimg_error *err)
{
	(void)err;
	struct { uint8_t *p; size_t n, cap; } *s = ctx;
	if (s->n + len > s->cap)
		return EIMG_EINTERNAL;
	memcpy(s->p + s->n, buf, len);
	s->n += len;
	return EIMG_OK;
}

static void test_valid(void **state)
{
	(void)state;
	struct fx *f = malloc(sizeof(*f));
	eimg_sdk_enclave *e = NULL;
	eimg_error err;
	uint8_t mr[32];
	struct eimg_sgxs_info info;
	struct { uint8_t *p; size_t n, cap; } s = { malloc(1 << 20), 0, 1 << 20 };
	build(f);
	assert_int_equal(open_fx(f, &e, &err), EIMG_OK);
	assert_int_equal(e->nmeta, 1);
	assert_false(e->is_signed);
	assert_int_equal(e->meta[0].sum.tcs_static, 1);
	assert_int_equal(e->meta[0].sum.nssa, 2);
	assert_int_equal(e->meta[0].sum.heap_min, 0x1000);
	assert_int_equal(e->meta[0].npatch, 1);
	assert_int_equal(eimg_sdk_mrenclave(e, 0, mr, &err), EIMG_OK);
	/* The stream is a valid SGXS whose hash is that MRENCLAVE: 2 segment
	 * pages, heap, TCS, 2 SSA pages; guards not added. */
	assert_int_equal(eimg_sdk_stream(e, 0, count_sink, &s, &err), EIMG_OK);
	assert_int_equal(eimg_sgxs_read_buffer("s", s.p, s.n, &info, &err), EIMG_OK);
	assert_memory_equal(info.mrenclave, mr, 32);
	assert_int_equal(info.neadd, 6);
	assert_int_equal(info.nextend, 6 * 16);
	assert_int_equal(info.ntcs, 1);
	assert_int_equal(info.size, 0x10000);
	/* The patch is applied to a copy, the file is left alone, and it counts. */
	assert_int_equal(f->b[0x400], 0);
	uint8_t mr2[32];
	f->blob[DATA0 + 24] ^= 1;
	eimg_sdk_free(e);
	assert_int_equal(open_fx(f, &e, &err), EIMG_OK);
	assert_int_equal(eimg_sdk_mrenclave(e, 0, mr2, &err), EIMG_OK);
	assert_memory_not_equal(mr, mr2, 32);
	/* Text and JSON render. */
	char *t = NULL;
	assert_int_equal(eimg_sdk_text(e, mr, &t, &err), EIMG_OK);
	assert_non_null(strstr(t, "tcs policy: unbind"));
	assert_non_null(strstr(t, "ssa: frame size 1 page, 2 frames"));
	assert_non_null(strstr(t, "sigstruct: none"));
	free(t);
	eimg_sdk_free(e);
	free(s.p);
	free(f);
}

/* DT_TEXTREL: pages a relocation writes to are added writable (Intel's
 * get_reloc_bitmap), including the next page when the 8-byte target crosses
 * into it; R_X86_64_NONE entries do not count. */
static void test_text_relocations(void **state)
{
	(void)state;
	struct fx *f = malloc(sizeof(*f));
	eimg_sdk_enclave *e = NULL;
	eimg_error err;
	struct { uint8_t *p; size_t n, cap; } s = { malloc(1 << 20), 0, 1 << 20 };
	build(f);
	eimg_le16(f->b + 56, 2);
	uint8_t *ph = f->b + 64 + 56;              /* PT_DYNAMIC at 0x600 */
	eimg_le32(ph, 2);
	eimg_le32(ph + 4, 6);
	eimg_le64(ph + 8, 0x600);
	eimg_le64(ph + 16, 0x600);
	eimg_le64(ph + 32, 64);
	eimg_le64(ph + 40, 64);
	uint8_t *dyn = f->b + 0x600;
	memset(dyn, 0, 64);
	eimg_le64(dyn, 22);                         /* DT_TEXTREL */
	eimg_le64(dyn + 16, 7);                     /* DT_RELA */
	eimg_le64(dyn + 24, 0x700);
	eimg_le64(dyn + 32, 8);                     /* DT_RELASZ */
	eimg_le64(dyn + 40, 48);
	uint8_t *rela = f->b + 0x700;
	memset(rela, 0, 48);
	eimg_le64(rela, 0x0ffc);                    /* crosses from page 0 into page 1 */
	eimg_le64(rela + 8, 8);                     /* R_X86_64_RELATIVE */
	eimg_le64(rela + 24, 0x1200);               /* R_X86_64_NONE: ignored */
	assert_int_equal(open_fx(f, &e, &err), EIMG_OK);
	assert_true(e->textrel);
	assert_int_equal(eimg_sdk_stream(e, 0, count_sink, &s, &err), EIMG_OK);
	assert_int_equal(eimg_get_le64(s.p + 64 + 16), 0x207);
	assert_int_equal(eimg_get_le64(s.p + 64 + 5184 + 16), 0x207);
	eimg_sdk_free(e);
	eimg_le64(rela, 0x0800);                    /* page 0 only */
	s.n = 0;
	assert_int_equal(open_fx(f, &e, &err), EIMG_OK);
	assert_int_equal(eimg_sdk_stream(e, 0, count_sink, &s, &err), EIMG_OK);
	assert_int_equal(eimg_get_le64(s.p + 64 + 16), 0x207);
	assert_int_equal(eimg_get_le64(s.p + 64 + 5184 + 16), 0x205);
	eimg_sdk_free(e);
	eimg_le64(dyn + 24, 0x7000);                /* the table outside the loaded file */
	assert_int_equal(open_fx(f, &e, &err), EIMG_OK);
	assert_int_equal(eimg_sdk_stream(e, 0, count_sink, &s, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "relocation table"));
	eimg_sdk_free(e);
	free(s.p);
	free(f);
}

static void test_note_offset(void **state)
{
	(void)state;
	struct fx *f = malloc(sizeof(*f));
	build(f);
	/* A reader that pads the 13-byte name to 16 looks at 28: the metadata is not there. */
	memmove(f->blob + 3, f->blob, DESC_SIZE - 3);
	memset(f->blob, 0, 3);
	expect_bad(f, "found at offset 28");
	/* An enclave.so the sign tool has not filled. */
	memset(f->blob, 0, DESC_SIZE);
	expect_bad(f, "all zeros");
	build(f);
	eimg_le32(f->b + NOTE_OFF, 16);
	expect_bad(f, "not named");
	build(f);
	eimg_le32(f->b + NOTE_OFF + 4, DESC_SIZE + 1);
	expect_bad(f, "runs past the section");
	free(f);
}

static void test_header_checks(void **state)
{
	(void)state;
	struct fx *f = malloc(sizeof(*f));
	static const struct { size_t off; uint64_t v; int width; const char *msg; } cases[] = {
		{ 8, (uint64_t)4 << 32, 8, "version 4.0" },
		{ 8, (uint64_t)12 << 32, 8, "version 12.0" },
		{ 16, 100, 4, "size 100" },
		{ 16, DESC_SIZE + 1, 4, "size" },
		{ 20, 2, 4, "TCS policy 2" },
		{ 24, 0, 4, "SSA frame size 0" },
		{ 24, 5, 4, "SSA frame size 5" },
		{ 40, 0x18000, 8, "not a power of two" },
		{ 40, 0x1000, 8, "not a power of two" },
		{ 40, 1ull << 40, 8, "not a power of two" },
		{ 1872, BLOB_SIZE, 4, "directory lies outside" },
		{ 1884, 33, 4, "whole number" },
		{ 64, 1, 4, "" },                      /* a SIGSTRUCT byte: accepted below */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(f);
		if (cases[i].width == 8)
			eimg_le64(f->blob + cases[i].off, cases[i].v);
		else
			eimg_le32(f->blob + cases[i].off, (uint32_t)cases[i].v);
		if (!cases[i].msg[0]) {
			eimg_sdk_enclave *e = NULL;
			eimg_error err;
			assert_int_equal(open_fx(f, &e, &err), EIMG_OK);
			assert_true(e->is_signed);
			eimg_sdk_free(e);
			continue;
		}
		expect_bad(f, cases[i].msg);
	}
	free(f);
}

static void test_layout_checks(void **state)
{
	(void)state;
	struct fx *f = malloc(sizeof(*f));
	uint8_t *r;
#define ROWS (f->blob + DATA0 + 72 + 32)
	build(f);
	r = ROWS;
	eimg_le64(r + 32 * 3 + 8, 0x4000);           /* SSA over the TCS */
	expect_bad(f, "overlap");
	build(f);
	eimg_le64(ROWS + 8, 0x2800);                 /* misaligned */
	expect_bad(f, "misaligned");
	build(f);
	eimg_le32(ROWS + 4, 0x100000);               /* past the enclave */
	expect_bad(f, "outside the enclave");
	build(f);
	eimg_le32(ROWS + 64 + 20, BLOB_SIZE);        /* TCS content outside the blob */
	expect_bad(f, "content outside");
	build(f);
	eimg_le32(ROWS + 4, 0);                      /* content larger than its pages */
	eimg_le32(ROWS + 16, 72);
	eimg_le32(ROWS + 20, DATA0);
	expect_bad(f, "larger than its pages");
	build(f);
	eimg_le64(ROWS + 24, 0x10203);               /* SECINFO bits the hardware refuses */
	expect_bad(f, "SECINFO flags");
	/* Groups: repeating more rows than precede, nesting, stepping past the end, too many. */
	build(f);
	r = ROWS + 32 * 4;
	eimg_le16(r, EIMG_SDK_THREAD_GROUP);
	eimg_le16(r + 2, 5);
	expect_bad(f, "only 4 come before it");
	eimg_le16(r + 2, 1);
	eimg_le16(ROWS + 32 * 3, EIMG_SDK_THREAD_GROUP);
	expect_bad(f, "group inside a group");
	build(f);
	r = ROWS + 32 * 4;
	eimg_le16(r, EIMG_SDK_THREAD_GROUP);
	eimg_le16(r + 2, 1);
	eimg_le32(r + 4, 100);
	eimg_le64(r + 8, 0x1000);
	expect_bad(f, "steps past the enclave");
	eimg_le32(r + 4, 0xffffffff);
	eimg_le64(r + 8, 0);
	expect_bad(f, "more than 1048576 layout entries");
	/* Patches: source outside the metadata, destination outside the enclave or the file. */
	build(f);
	eimg_le32(f->blob + DATA0 + 72 + 8, BLOB_SIZE);
	expect_bad(f, "source lies outside");
	build(f);
	eimg_le64(f->blob + DATA0 + 72, 0x10000);
	expect_bad(f, "destination lies outside");
	free(f);
#undef ROWS
}

static void test_elf_checks(void **state)
{
	(void)state;
	struct fx *f = malloc(sizeof(*f));
	build(f);
	eimg_le16(f->b + 18, 3);                      /* i386 */
	expect_bad(f, "x86-64");
	build(f);
	eimg_le16(f->b + 56, 5000);
	expect_bad(f, "program headers");
	build(f);
	eimg_le64(f->b + 64 + 32, FILE_SIZE + 1);     /* segment past the file */
	eimg_le64(f->b + 64 + 40, FILE_SIZE + 1);
	expect_bad(f, "outside the file");
	build(f);
	eimg_le32(f->b + 64 + 4, 0);                  /* no R/W/X */
	expect_bad(f, "no R/W/X");
	build(f);
	eimg_le64(f->b + 64 + 48, 0x10);              /* not page-aligned */
	expect_bad(f, "page-aligned");
	/* Every truncation fails cleanly. */
	build(f);
	for (size_t n = 0; n < sizeof(f->b); n += 97) {
		eimg_sdk_enclave *e = NULL;
		eimg_error err;
		if (eimg_sdk_open("t", f->b, n, &e, &err) == EIMG_OK)
			fail_msg("a file truncated to %zu bytes was accepted", n);
	}
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_text_relocations),
		cmocka_unit_test(test_note_offset),
		cmocka_unit_test(test_header_checks),
		cmocka_unit_test(test_layout_checks),
		cmocka_unit_test(test_elf_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
