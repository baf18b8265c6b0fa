/* SPDX-License-Identifier: Apache-2.0 */
/* EIF container: layout checks on hostile input, CRC, writing, signature
 * section replacement.  Each bad input gives one error, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "eimg/eif.h"
#include "eimg/nitro.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"

static uint8_t *eif;
static size_t eif_len;

static int setup(void **state)
{
	(void)state;
	static const uint8_t k[] = "KERNEL-IMAGE", c[] = "console=ttyS0", m[] = "{}", r0[] = "ramdisk-zero", r1[] = "ramdisk-one";
	struct eimg_eif_part parts[] = { { EIMG_EIF_KERNEL, k, 12 }, { EIMG_EIF_CMDLINE, c, 13 }, { EIMG_EIF_METADATA, m, 2 },
					 { EIMG_EIF_RAMDISK, r0, 12 }, { EIMG_EIF_RAMDISK, r1, 11 } };
	struct eimg_eif_write_opts wo = { 0, 1ull << 30, 2 };
	return eimg_eif_write_buffer(&wo, parts, 5, &eif, &eif_len, NULL);
}

static int teardown(void **state)
{
	(void)state;
	free(eif);
	return 0;
}

static uint8_t *copy(void)
{
	uint8_t *b = malloc(eif_len);
	memcpy(b, eif, eif_len);
	return b;
}

/* Expects the layout check to fail with EINVAL and a message containing want. */
static void bad(const uint8_t *b, size_t len, const char *want)
{
	eimg_eif_layout l;
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_eif_read_layout_buffer("x.eif", b, len, &l, &err);
	if (rc != EIMG_EINVAL)
		fail_msg("expected EINVAL for \"%s\", got %d", want, rc);
	if (!strstr(err.msg, want))
		fail_msg("expected \"%s\" in \"%s\"", want, err.msg);
	assert_string_equal(err.file, "x.eif");
	assert_null(strchr(err.msg, '\n'));
}

static void test_layout_written(void **state)
{
	(void)state;
	eimg_eif_layout l;
	assert_int_equal(eimg_eif_read_layout_buffer("x.eif", eif, eif_len, &l, NULL), 0);
	assert_int_equal(l.version, 4);
	assert_int_equal(l.nsections, 5);
	assert_int_equal(l.kernel, 0);
	assert_int_equal(l.cmdline, 1);
	assert_int_equal(l.metadata, 2);
	assert_int_equal(l.signature, -1);
	assert_int_equal(l.nramdisks, 2);
	assert_int_equal(l.sections[0].offset, 548);
	assert_int_equal(l.sections[1].offset, 548 + 12 + 12);
	assert_int_equal(l.default_mem, 1ull << 30);
	assert_memory_equal(eif, ".eif", 4);
	/* CRC-32 as zlib computes it over header bytes 0..543 and everything after 548. */
	uLong c = crc32(0, eif, 544);
	c = crc32(c, eif + 548, (uInt)(eif_len - 548));
	assert_int_equal(eimg_get_be32(eif + 544), (uint32_t)c);
	assert_int_equal(eimg_eif_crc(eif, eif_len), (uint32_t)c);
	/* The cmdline is stored without a trailing NUL. */
	assert_int_equal(eimg_get_be64(eif + 284 + 8), 13);
}

static void test_truncated(void **state)
{
	(void)state;
	bad(eif, 0, "truncated");
	bad(eif, 547, "truncated");
	bad(eif, eif_len - 1, "past the end of the file");
	bad(eif, 560, "run past the end of the file");
	bad(eif, 555, "outside the file");
}

static void test_magic_version_flags(void **state)
{
	(void)state;
	uint8_t *b = copy();
	b[1] = 'E';
	bad(b, eif_len, "bad magic");
	free(b);
	b = copy();
	eimg_be16(b + 4, 5);
	bad(b, eif_len, "unsupported EIF version 5");
	eimg_be16(b + 4, 1);
	bad(b, eif_len, "unsupported EIF version 1");
	eimg_be16(b + 4, 3);
	bad(b, eif_len, "metadata section in a version 3 EIF");
	free(b);
	b = copy();
	eimg_be16(b + 6, 2);
	bad(b, eif_len, "unknown header flags");
	free(b);
}

static void test_section_counts(void **state)
{
	(void)state;
	uint8_t *b = copy();
	eimg_be16(b + 26, 33);
	bad(b, eif_len, "declares 33 sections");
	eimg_be16(b + 26, 0);
	bad(b, eif_len, "declares 0 sections");
	eimg_be16(b + 26, 4);
	bad(b, eif_len, "section table entry 4 is not zero");
	free(b);
	b = copy();
	eimg_be16(b + 26, 65535);
	bad(b, eif_len, "declares 65535 sections");
	free(b);
}

static void test_offsets_sizes(void **state)
{
	(void)state;
	uint8_t *b = copy();
	/* Offset far outside the file, and near UINT64_MAX (overflow). */
	eimg_be64(b + 28 + 8 * 3, 1ull << 40);
	bad(b, eif_len, "outside the file");
	eimg_be64(b + 28 + 8 * 3, UINT64_MAX - 4);
	bad(b, eif_len, "outside the file");
	free(b);
	b = copy();
	eimg_be64(b + 284 + 8 * 4, UINT64_MAX);
	bad(b, eif_len, "run past the end");
	free(b);
	/* Overlap: section 1 starts inside section 0. */
	b = copy();
	eimg_be64(b + 28 + 8 * 1, 548 + 4);
	bad(b, eif_len, "overlaps the previous section");
	eimg_be64(b + 28, 500);
	bad(b, eif_len, "overlaps the header");
	free(b);
	/* A gap between sections. */
	b = copy();
	eimg_be64(b + 284, 11); /* kernel one byte shorter in the table */
	bad(b, eif_len, "unaccounted bytes");
	free(b);
	/* Section header size differs from the table. */
	b = copy();
	eimg_be64(b + 548 + 4, 11);
	bad(b, eif_len, "its header says 11 bytes");
	free(b);
	/* Trailing bytes. */
	b = malloc(eif_len + 3);
	memcpy(b, eif, eif_len);
	bad(b, eif_len + 3, "3 unaccounted bytes after the last section");
	free(b);
}

static void test_types_and_order(void **state)
{
	(void)state;
	eimg_eif_layout l;
	uint8_t *b = copy();
	size_t s0 = 548, s1 = 548 + 24, s3 = 0;
	assert_int_equal(eimg_eif_read_layout_buffer("x", eif, eif_len, &l, NULL), 0);
	s3 = l.sections[3].offset;
	eimg_be16(b + s0, 9);
	bad(b, eif_len, "invalid section type 9");
	eimg_be16(b + s0, 0);
	bad(b, eif_len, "invalid section type 0");
	eimg_be16(b + s0, EIMG_EIF_RAMDISK);
	bad(b, eif_len, "expected the kernel first");
	free(b);
	b = copy();
	eimg_be16(b + s1, EIMG_EIF_RAMDISK);
	bad(b, eif_len, "expected the cmdline first");
	eimg_be16(b + s1, EIMG_EIF_KERNEL);
	bad(b, eif_len, "expected it first");
	free(b);
	b = copy();
	eimg_be16(b + s3, EIMG_EIF_METADATA);
	bad(b, eif_len, "a second metadata section");
	free(b);
	/* Without any ramdisk: rewrite both as metadata/signature. */
	b = copy();
	eimg_be16(b + s3, EIMG_EIF_SIGNATURE);
	eimg_be16(b + l.sections[4].offset, EIMG_EIF_SIGNATURE);
	bad(b, eif_len, "a second signature section");
	free(b);
	/* Only kernel+cmdline+metadata: no ramdisk. */
	static const uint8_t k[] = "K", c[] = "C";
	struct eimg_eif_part p3[] = { { EIMG_EIF_KERNEL, k, 1 }, { EIMG_EIF_CMDLINE, c, 1 }, { EIMG_EIF_RAMDISK, k, 1 } };
	struct eimg_eif_write_opts wo = { 0, 0, 0 };
	uint8_t *e;
	size_t el;
	assert_int_equal(eimg_eif_write_buffer(&wo, p3, 3, &e, &el, NULL), 0);
	eimg_be16(e + el - 13, EIMG_EIF_METADATA);
	bad(e, el, "no ramdisk section");
	free(e);
	/* The writer refuses orders the reference never writes. */
	struct eimg_eif_part wrong[] = { { EIMG_EIF_CMDLINE, c, 1 }, { EIMG_EIF_KERNEL, k, 1 }, { EIMG_EIF_RAMDISK, k, 1 } };
	assert_int_equal(eimg_eif_write_buffer(&wo, wrong, 3, &e, &el, NULL), EIMG_EINVAL);
	struct eimg_eif_part noram[] = { { EIMG_EIF_KERNEL, k, 1 }, { EIMG_EIF_CMDLINE, c, 1 } };
	assert_int_equal(eimg_eif_write_buffer(&wo, noram, 2, &e, &el, NULL), EIMG_EINVAL);
	struct eimg_eif_part many[33];
	many[0] = p3[0];
	many[1] = p3[1];
	for (int i = 2; i < 33; i++)
		many[i] = p3[2];
	assert_int_equal(eimg_eif_write_buffer(&wo, many, 33, &e, &el, NULL), EIMG_EINVAL);
	assert_int_equal(eimg_eif_write_buffer(&wo, many, 32, &e, &el, NULL), 0);
	assert_int_equal(eimg_eif_read_layout_buffer("x", e, el, &l, NULL), 0);
	assert_int_equal(l.nramdisks, 30);
	free(e);
}

static void test_crc_mismatch_reported(void **state)
{
	(void)state;
	uint8_t *b = copy();
	eimg_nitro_report *r;
	eimg_error err;
	b[eif_len - 1] ^= 0x80;
	assert_int_equal(eimg_nitro_audit_buffer("x.eif", b, eif_len, NULL, &r, NULL), 0);
	assert_false(r->crc_ok);
	assert_int_equal(eimg_nitro_report_verdict(r, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "CRC mismatch"));
	eimg_nitro_report_free(r);
	/* The CRC field itself is not covered: a wrong value there is a mismatch too. */
	memcpy(b, eif, eif_len);
	b[545] ^= 1;
	assert_int_equal(eimg_nitro_audit_buffer("x.eif", b, eif_len, NULL, &r, NULL), 0);
	assert_false(r->crc_ok);
	eimg_nitro_report_free(r);
	free(b);
}

static void test_set_signature(void **state)
{
	(void)state;
	uint8_t *s, *s2, *u;
	size_t sl, s2l, ul;
	eimg_eif_layout l;
	static const uint8_t sig[] = "SIGNATURE-BYTES";
	assert_int_equal(eimg_eif_set_signature("x", eif, eif_len, sig, 15, &s, &sl, NULL), 0);
	assert_int_equal(sl, eif_len + 12 + 15);
	assert_memory_equal(s + 548, eif + 548, eif_len - 548);
	assert_int_equal(eimg_eif_read_layout_buffer("x", s, sl, &l, NULL), 0);
	assert_int_equal(l.signature, 5);
	assert_int_equal(eimg_get_be32(s + 544), eimg_eif_crc(s, sl));
	/* Replacing keeps the same layout; removing gives back the original bytes. */
	assert_int_equal(eimg_eif_set_signature("x", s, sl, sig, 10, &s2, &s2l, NULL), 0);
	assert_int_equal(s2l, eif_len + 12 + 10);
	assert_int_equal(eimg_eif_set_signature("x", s2, s2l, NULL, 0, &u, &ul, NULL), 0);
	assert_int_equal(ul, eif_len);
	assert_memory_equal(u, eif, eif_len);
	free(s);
	free(s2);
	free(u);
}

/* The fast CRC equals zlib's for every small length and alignment, chained
 * from any start value, and on a large buffer. */
static void test_crc32_matches_zlib(void **state)
{
	(void)state;
	size_t big = (1u << 20) + 77;
	uint8_t *b = malloc(big);
	uint32_t x = 12345;
	for (size_t i = 0; i < big; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 16);
	}
	for (size_t off = 0; off < 16; off++)
		for (size_t n = 0; n < 400; n++) {
			uint32_t start = (uint32_t)(n * 2654435761u);
			uint32_t want = (uint32_t)crc32(start, b + off, (uInt)n);
			if (eimg_crc32(start, b + off, n) != want)
				fail_msg("crc mismatch at offset %zu length %zu", off, n);
		}
	assert_int_equal(eimg_crc32(0, b, big), (uint32_t)crc32(0, b, (uInt)big));
	assert_int_equal(eimg_crc32(0xdeadbeef, b + 3, big - 3), (uint32_t)crc32(0xdeadbeef, b + 3, (uInt)(big - 3)));
	assert_int_equal(eimg_crc32_zlib(7, b, big), (uint32_t)crc32(7, b, (uInt)big));
	/* Known answer: CRC-32 of "123456789" is cbf43926. */
	assert_int_equal(eimg_crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
	memset(b, 0, 64);
	memcpy(b, "123456789", 9);
	assert_int_equal(eimg_crc32(0, b, 64), (uint32_t)crc32(0, b, 64));
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_written),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_magic_version_flags),
		cmocka_unit_test(test_section_counts),
		cmocka_unit_test(test_offsets_sizes),
		cmocka_unit_test(test_types_and_order),
		cmocka_unit_test(test_crc_mismatch_reported),
		cmocka_unit_test(test_set_signature),
		cmocka_unit_test(test_crc32_matches_zlib),
	};
	return cmocka_run_group_tests_name("eif", tests, setup, teardown);
}
