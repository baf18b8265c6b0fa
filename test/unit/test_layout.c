/* SPDX-License-Identifier: Apache-2.0 */
/* SGX layout version 1: offsets, page contents (TCS, thread data, info blob)
 * and limits, checked against values worked out by hand from layout.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eimg/layout.h"
#include "eimg/sgxs.h"
#include "core/internal.h"

static uint8_t elf_bytes[0x4000];
static uint8_t big[9000];
static eimg_elf elf;
static eimg_manifest man;
static struct eimg_member files[2], keys[1];
static struct eimg_layout_input in;
static const char manifest_json[] = "{\"x\":1}\n"; /* 8 bytes */

static void setup_input(void)
{
	for (size_t i = 0; i < sizeof(elf_bytes); i++)
		elf_bytes[i] = (uint8_t)(i * 13 + 1);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i ^ (i >> 8));
	memset(&elf, 0, sizeof(elf));
	elf.entry = 0x1010;
	elf.data = elf_bytes;
	elf.size = sizeof(elf_bytes);
	elf.seg[0] = (struct eimg_elf_segment){ .vaddr = 0, .memsz = 0x1000, .data_off = 0, .file_off = 0, .filesz = 0x200, .flags = EIMG_SEG_R };
	elf.seg[1] = (struct eimg_elf_segment){ .vaddr = 0x1000, .memsz = 0x1000, .data_off = 0, .file_off = 0x1000, .filesz = 0x800, .flags = EIMG_SEG_R | EIMG_SEG_X };
	elf.seg[2] = (struct eimg_elf_segment){ .vaddr = 0x3000, .memsz = 0x2000, .data_off = 0x10, .file_off = 0x2010, .filesz = 0x20, .flags = EIMG_SEG_R | EIMG_SEG_W };
	elf.nseg = 3;
	elf.image_end = 0x5000;

	memset(&man, 0, sizeof(man));
	man.version = 1;
	man.target = EIMG_TARGET_SGX;
	man.mode = EIMG_MODE_HARDWARE;
	man.source = "enclave.yaml";
	man.sgx.heap_size = 0x10000;
	man.sgx.stack_size = 0x4000;
	man.sgx.threads = 3;
	man.sgx.ssa_frames = 2;
	man.sgx.ssa_frame_size = 1;

	files[0] = (struct eimg_member){ .name = "a.txt", .data = (uint8_t *)"hello", .size = 5 };
	files[1] = (struct eimg_member){ .name = "b.bin", .data = big, .size = sizeof(big) };
	keys[0] = (struct eimg_member){ .name = "k1", .data = (uint8_t *)"KEY", .size = 3 };

	in = (struct eimg_layout_input){ .manifest = &man, .manifest_json = manifest_json,
		.manifest_len = strlen(manifest_json), .elf = &elf, .files = files, .nfiles = 2, .keys = keys, .nkeys = 1 };
}

/* Reads the content of the enclave page at offset off (all zero if the page is not added). */
static bool page_at(const eimg_layout *l, uint64_t off, uint8_t out[4096])
{
	for (size_t i = 0; i < l->nregions; i++) {
		const struct eimg_region *r = &l->regions[i];
		if (off >= r->offset && off < r->offset + r->size) {
			eimg_region_page(r, (off - r->offset) / 4096, out);
			return true;
		}
	}
	memset(out, 0, 4096);
	return false;
}

static uint64_t u64(const uint8_t *p) { return eimg_get_le64(p); }
static uint32_t u32(const uint8_t *p) { return eimg_get_le32(p); }

static void test_offsets(void **state)
{
	(void)state;
	setup_input();
	eimg_layout *l = NULL;
	eimg_error err;
	int rc = eimg_layout_sgx(&in, &l, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_int_equal(l->size, 0x40000);
	assert_int_equal(l->ssa_frame_size, 1);
	assert_int_equal(l->ssa_frames, 2);
	assert_int_equal(l->threads, 3);
	assert_int_equal(l->entry, 0x1010);
	assert_int_equal(l->info_offset, 0x5000);
	assert_int_equal(l->heap_offset, 0x9000);
	assert_int_equal(l->heap_size, 0x10000);
	assert_int_equal(l->mode, EIMG_MODE_HARDWARE);
	assert_int_equal(l->tcs_offsets[0], 0x1e000);
	assert_int_equal(l->tcs_offsets[1], 0x27000);
	assert_int_equal(l->tcs_offsets[2], 0x30000);
	assert_int_equal(l->npages, 47);

	static const struct { uint64_t off, size, secinfo; int kind; uint32_t thread; } want[] = {
		{ 0x0, 0x1000, 0x201, EIMG_REGION_ELF, 0 },
		{ 0x1000, 0x1000, 0x205, EIMG_REGION_ELF, 0 },
		{ 0x3000, 0x2000, 0x203, EIMG_REGION_ELF, 0 },
		{ 0x5000, 0x3000, 0x201, EIMG_REGION_INFO, 0 },
		{ 0x9000, 0x10000, 0x203, EIMG_REGION_HEAP, 0 },
		{ 0x1a000, 0x4000, 0x203, EIMG_REGION_STACK, 0 },
		{ 0x1e000, 0x1000, 0x100, EIMG_REGION_TCS, 0 },
		{ 0x1f000, 0x1000, 0x203, EIMG_REGION_TLS, 0 },
		{ 0x20000, 0x2000, 0x203, EIMG_REGION_SSA, 0 },
		{ 0x23000, 0x4000, 0x203, EIMG_REGION_STACK, 1 },
		{ 0x27000, 0x1000, 0x100, EIMG_REGION_TCS, 1 },
		{ 0x28000, 0x1000, 0x203, EIMG_REGION_TLS, 1 },
		{ 0x29000, 0x2000, 0x203, EIMG_REGION_SSA, 1 },
		{ 0x2c000, 0x4000, 0x203, EIMG_REGION_STACK, 2 },
		{ 0x30000, 0x1000, 0x100, EIMG_REGION_TCS, 2 },
		{ 0x31000, 0x1000, 0x203, EIMG_REGION_TLS, 2 },
		{ 0x32000, 0x2000, 0x203, EIMG_REGION_SSA, 2 },
	};
	assert_int_equal(l->nregions, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < l->nregions; i++) {
		const struct eimg_region *r = &l->regions[i];
		assert_int_equal(r->offset, want[i].off);
		assert_int_equal(r->size, want[i].size);
		assert_int_equal(r->secinfo, want[i].secinfo);
		assert_int_equal(r->kind, want[i].kind);
		assert_true(r->measured);
		if (want[i].kind >= EIMG_REGION_STACK)
			assert_int_equal(r->thread, want[i].thread);
	}

	uint8_t pg[4096], z[4096];
	memset(z, 0, sizeof(z));
	/* ELF pages: file bytes at their place, zero elsewhere; the gap is not added. */
	assert_true(page_at(l, 0x0, pg));
	assert_memory_equal(pg, elf_bytes, 0x200);
	assert_memory_equal(pg + 0x200, z, 0x1000 - 0x200);
	assert_true(page_at(l, 0x1000, pg));
	assert_memory_equal(pg, elf_bytes + 0x1000, 0x800);
	assert_false(page_at(l, 0x2000, pg));
	assert_true(page_at(l, 0x3000, pg));
	assert_memory_equal(pg, z, 0x10);
	assert_memory_equal(pg + 0x10, elf_bytes + 0x2010, 0x20);
	assert_memory_equal(pg + 0x30, z, 0x1000 - 0x30);
	assert_true(page_at(l, 0x4000, pg));
	assert_memory_equal(pg, z, 4096);
	/* Guard pages are not added. */
	assert_false(page_at(l, 0x8000, pg));
	assert_false(page_at(l, 0x19000, pg));
	assert_false(page_at(l, 0x22000, pg));
	assert_false(page_at(l, 0x2b000, pg));
	assert_false(page_at(l, 0x34000, pg));
	assert_true(page_at(l, 0x18000, pg));
	assert_memory_equal(pg, z, 4096);

	/* TCS of thread 1. */
	assert_true(page_at(l, 0x27000, pg));
	assert_int_equal(u64(pg + 0), 0);
	assert_int_equal(u64(pg + 8), 0);
	assert_int_equal(u64(pg + 16), 0x29000);  /* OSSA */
	assert_int_equal(u32(pg + 24), 0);        /* CSSA */
	assert_int_equal(u32(pg + 28), 2);        /* NSSA */
	assert_int_equal(u64(pg + 32), 0x1010);   /* OENTRY */
	assert_int_equal(u64(pg + 40), 0);        /* AEP */
	assert_int_equal(u64(pg + 48), 0x28000);  /* OFSBASE */
	assert_int_equal(u64(pg + 56), 0x28000);  /* OGSBASE */
	assert_int_equal(u32(pg + 64), 0xfff);
	assert_int_equal(u32(pg + 68), 0xfff);
	assert_memory_equal(pg + 72, z, 4096 - 72);

	/* Thread data of thread 2. */
	assert_true(page_at(l, 0x31000, pg));
	static const uint64_t td[] = { 0x31000, 0x30000, 0x2c000, 0x30000, 0x32000, 0x9000, 0x10000,
				       0x5000, 2, 3, 0x40000 };
	for (size_t i = 0; i < 11; i++)
		assert_int_equal(u64(pg + 8 * i), td[i]);
	assert_memory_equal(pg + 88, z, 4096 - 88);

	/* The info blob, worked out by hand. */
	uint8_t blob[3 * 4096];
	for (int i = 0; i < 3; i++)
		assert_true(page_at(l, 0x5000 + 4096 * (uint64_t)i, blob + 4096 * i));
	assert_memory_equal(blob, "EIMGINFO", 8);
	assert_int_equal(u32(blob + 8), 1);
	assert_int_equal(u32(blob + 12), 1);
	assert_int_equal(u64(blob + 16), 9224);
	assert_int_equal(u64(blob + 24), 160);
	assert_int_equal(u64(blob + 32), 8);
	assert_int_equal(u32(blob + 40), 2);
	assert_int_equal(u32(blob + 44), 1);
	assert_int_equal(u64(blob + 48), 64);
	assert_int_equal(u64(blob + 56), 0);
	static const uint64_t ent[3][4] = { { 176, 5, 184, 5 }, { 192, 5, 200, 9000 }, { 9208, 2, 9216, 3 } };
	for (int e = 0; e < 3; e++)
		for (int k = 0; k < 4; k++)
			assert_int_equal(u64(blob + 64 + 32 * e + 8 * k), ent[e][k]);
	assert_memory_equal(blob + 160, manifest_json, 8);
	assert_memory_equal(blob + 168, z, 8);
	assert_memory_equal(blob + 176, "a.txt\0\0\0hello\0\0\0b.bin\0\0\0", 24);
	assert_memory_equal(blob + 200, big, 9000);
	assert_memory_equal(blob + 9200, z, 8);
	assert_memory_equal(blob + 9208, "k1\0\0\0\0\0\0KEY\0\0\0\0\0", 16);
	assert_memory_equal(blob + 9224, z, sizeof(blob) - 9224);
	eimg_layout_free(l);
}

static void test_mode_and_content_change_mrenclave(void **state)
{
	(void)state;
	setup_input();
	eimg_layout *l;
	uint8_t a[32], b[32];
	assert_int_equal(eimg_layout_sgx(&in, &l, NULL), EIMG_OK);
	assert_int_equal(eimg_sgx_mrenclave(l, a, NULL), EIMG_OK);
	eimg_layout_free(l);
	man.mode = EIMG_MODE_SIMULATION;
	assert_int_equal(eimg_layout_sgx(&in, &l, NULL), EIMG_OK);
	uint8_t pg[4096];
	eimg_region_page(&l->regions[3], 0, pg);
	assert_int_equal(u32(pg + 12), 2);
	assert_int_equal(eimg_sgx_mrenclave(l, b, NULL), EIMG_OK);
	assert_memory_not_equal(a, b, 32);
	eimg_layout_free(l);
	man.mode = EIMG_MODE_HARDWARE;
	big[8999] ^= 1;
	assert_int_equal(eimg_layout_sgx(&in, &l, NULL), EIMG_OK);
	assert_int_equal(eimg_sgx_mrenclave(l, b, NULL), EIMG_OK);
	assert_memory_not_equal(a, b, 32);
	eimg_layout_free(l);
	big[8999] ^= 1;
	assert_int_equal(eimg_layout_sgx(&in, &l, NULL), EIMG_OK);
	assert_int_equal(eimg_sgx_mrenclave(l, b, NULL), EIMG_OK);
	assert_memory_equal(a, b, 32);
	eimg_layout_free(l);
}

static void test_size_rule(void **state)
{
	(void)state;
	setup_input();
	eimg_layout *l;
	man.sgx.heap_size = 0x1c000; /* the last region ends exactly at 0x40000 */
	assert_int_equal(eimg_layout_sgx(&in, &l, NULL), EIMG_OK);
	assert_int_equal(l->size, 0x40000);
	eimg_layout_free(l);
	man.sgx.heap_size = 0x1d000;
	assert_int_equal(eimg_layout_sgx(&in, &l, NULL), EIMG_OK);
	assert_int_equal(l->size, 0x80000);
	eimg_layout_free(l);
	/* No heap, no files: the heap region is absent, the guard stays. */
	man.sgx.heap_size = 0;
	man.sgx.threads = 1;
	in.nfiles = in.nkeys = 0;
	assert_int_equal(eimg_layout_sgx(&in, &l, NULL), EIMG_OK);
	assert_int_equal(l->info_offset, 0x5000);
	assert_int_equal(l->heap_offset, 0x7000);
	assert_int_equal(l->nregions, 3 + 1 + 4);
	assert_int_equal(l->regions[4].kind, EIMG_REGION_STACK);
	assert_int_equal(l->regions[4].offset, 0x8000);
	assert_int_equal(l->tcs_offsets[0], 0xc000);
	assert_int_equal(l->size, 0x10000);
	eimg_layout_free(l);
}

static void expect_fail(int code, const char *needle)
{
	eimg_layout *l = (eimg_layout *)0x1;
	eimg_error err;
	memset(&err, 0, sizeof(err));
	int rc = eimg_layout_sgx(&in, &l, &err);
	if (rc != code)
		fail_msg("expected %d, got %d (%s) [case %s]", code, rc, err.msg, needle);
	if (!strstr(err.msg, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
	assert_ptr_equal(l, (eimg_layout *)0x1); /* out untouched */
}

static void test_errors(void **state)
{
	(void)state;
	setup_input(); man.sgx.threads = 0; expect_fail(EIMG_EINVAL, "sgx.threads: expected 1 to 1024, got 0");
	setup_input(); man.sgx.threads = 1025; expect_fail(EIMG_EINVAL, "sgx.threads");
	setup_input(); man.sgx.ssa_frames = 0; expect_fail(EIMG_EINVAL, "sgx.ssa_frames");
	setup_input(); man.sgx.ssa_frame_size = 0; expect_fail(EIMG_EINVAL, "sgx.ssa_frame_size");
	setup_input(); man.sgx.stack_size = 0; expect_fail(EIMG_EINVAL, "sgx.stack_size");
	setup_input(); man.sgx.stack_size = 100; expect_fail(EIMG_EINVAL, "sgx.stack_size");
	setup_input(); man.sgx.heap_size = 4097; expect_fail(EIMG_EINVAL, "sgx.heap_size");
	setup_input(); man.target = EIMG_TARGET_NITRO; expect_fail(EIMG_EINVAL, "target: sgx");
	setup_input(); man.mode = 0; expect_fail(EIMG_EINVAL, "mode");
	setup_input(); man.sgx.heap_size = 64ull << 30; expect_fail(EIMG_EINVAL, "exceeds the size limit of 64 GiB");
	setup_input(); man.sgx.heap_size = 0xfffffffffffff000ull; expect_fail(EIMG_EINVAL, "exceeds the size limit");
	setup_input(); man.sgx.threads = 1024; man.sgx.stack_size = 1ull << 30; expect_fail(EIMG_EINVAL, "exceeds");
	setup_input(); man.sgx.ssa_frames = 0xffffffffu; man.sgx.ssa_frame_size = 0xffffffffu; expect_fail(EIMG_EINVAL, "exceeds");
	/* Just below the limit is accepted: 32 GiB heap gives a 64 GiB enclave (not materialised). */
	setup_input();
	man.sgx.heap_size = 32ull << 30;
	eimg_layout *l;
	assert_int_equal(eimg_layout_sgx(&in, &l, NULL), EIMG_OK);
	assert_int_equal(l->size, 64ull << 30);
	eimg_layout_free(l);
	setup_input();
	files[0].name = "z";
	expect_fail(EIMG_EINTERNAL, "not sorted");
	setup_input();
	files[1].name = "a.txt";
	expect_fail(EIMG_EINTERNAL, "not sorted");
	eimg_layout_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_mode_and_content_change_mrenclave),
		cmocka_unit_test(test_size_rule),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
