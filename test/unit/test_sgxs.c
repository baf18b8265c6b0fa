/* SPDX-License-Identifier: Apache-2.0 */
/* MRENCLAVE and SGXS: known answers (vector A of specs/sgx.md, public SGXS
 * files), a naive reference stream against the batched one, SGXS round trip,
 * hostile SGXS streams, a failing write leaving nothing behind. */
/* write(2) is wrapped for fault injection:
 * LINK-WRAP: -Wl,--wrap=write
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <cmocka.h>

#include "eimg/hash.h"
#include "eimg/sgxs.h"
#include "eimg/util.h"
#include "core/internal.h"

/* write(2) fault injection: fail_write_after >= 0 makes the write after
 * that many successful ones fail with ENOSPC. */
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
static int fail_write_after = -1;
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (fail_write_after == 0) {
		errno = ENOSPC;
		return -1;
	}
	if (fail_write_after > 0)
		fail_write_after--;
	return __real_write(fd, buf, n);
}

static const char *vectors(void)
{
	const char *v = getenv("EIMG_VECTORS");
	return v && *v ? v : "../shared/vectors";
}

static void hexeq(const uint8_t md[32], const char *want)
{
	char hex[65];
	assert_string_equal(eimg_hex(md, 32, hex), want);
}

/* Vector A: page 0 (0x205, byte i = i % 256, measured), page 0x1000 (TCS, measured or not). */
static void vector_a(bool tcs_measured, uint8_t md[32])
{
	static uint8_t page[4096];
	for (int i = 0; i < 4096; i++)
		page[i] = (uint8_t)i;
	struct eimg_region r[2] = {
		{ .offset = 0, .size = 4096, .secinfo = 0x205, .measured = true, .kind = EIMG_REGION_ELF,
		  .data = page, .data_len = 4096 },
		{ .offset = 0x1000, .size = 4096, .secinfo = 0x100, .measured = tcs_measured, .kind = EIMG_REGION_TCS },
	};
	eimg_layout l = { .size = 0x10000, .ssa_frame_size = 1, .regions = r, .nregions = 2, .npages = 2 };
	eimg_error err;
	assert_int_equal(eimg_sgx_mrenclave(&l, md, &err), EIMG_OK);
}

static void test_vector_a(void **state)
{
	(void)state;
	uint8_t md[32];
	vector_a(false, md);
	hexeq(md, "dfb678268c380f68c443631b70fbb8058eb372ddcc45b02dec934f4017935093");
	vector_a(true, md);
	hexeq(md, "002750eb3d5f2b7692af3f4f183be94db4002a7c30c37cc5bedc59a9d2c8ec75");
}

static void test_ecreate_only(void **state)
{
	(void)state;
	uint8_t md[32];
	eimg_layout l = { .size = 0x10000, .ssa_frame_size = 1 };
	assert_int_equal(eimg_sgx_mrenclave(&l, md, NULL), EIMG_OK);
	hexeq(md, "03c79954895fe98c9bd1b86ebe8b7b1748b65bfc30085dd387cb4351e7de51e2");
}

/* Reference: the record stream built the obvious way, one record at a time. */
static void reference(const eimg_layout *l, uint8_t md[32])
{
	eimg_hash *h = eimg_hash_new(EIMG_SHA256);
	uint8_t rec[64], page[4096];
	assert_non_null(h);
	memset(rec, 0, 64);
	memcpy(rec, "ECREATE", 8);
	eimg_le32(rec + 8, l->ssa_frame_size);
	eimg_le64(rec + 12, l->size);
	eimg_hash_update(h, rec, 64);
	for (size_t i = 0; i < l->nregions; i++) {
		const struct eimg_region *r = &l->regions[i];
		for (uint64_t p = 0; p < r->size / 4096; p++) {
			uint64_t off = r->offset + p * 4096;
			memset(rec, 0, 64);
			memcpy(rec, "EADD", 4);
			eimg_le64(rec + 8, off);
			eimg_le64(rec + 16, r->secinfo);
			eimg_hash_update(h, rec, 64);
			if (!r->measured)
				continue;
			eimg_region_page(r, p, page);
			for (int c = 0; c < 16; c++) {
				memset(rec, 0, 64);
				memcpy(rec, "EEXTEND", 7);
				eimg_le64(rec + 8, off + (uint64_t)c * 256);
				eimg_hash_update(h, rec, 64);
				eimg_hash_update(h, page + c * 256, 256);
			}
		}
	}
	eimg_hash_final(h, md);
	eimg_hash_free(h);
}

/* A layout that exercises batch boundaries, the zero-page slots being
 * reused, unmeasured pages shifting the record alignment, and data that
 * starts and ends inside pages. */
static uint8_t *data_buf;
static struct eimg_region mixed_regions[8];
static eimg_layout mixed_layout(void)
{
	size_t dlen = 3 * 4096 + 1000;
	data_buf = malloc(dlen);
	for (size_t i = 0; i < dlen; i++)
		data_buf[i] = (uint8_t)(i * 7 + 3);
	struct eimg_region *r = mixed_regions;
	r[0] = (struct eimg_region){ .offset = 0, .size = 5 * 4096, .secinfo = 0x205, .measured = true,
		.data = data_buf, .data_off = 100, .data_len = dlen };
	r[1] = (struct eimg_region){ .offset = 6 * 4096, .size = 700 * 4096, .secinfo = 0x203, .measured = true };
	r[2] = (struct eimg_region){ .offset = 706 * 4096, .size = 3 * 4096, .secinfo = 0x201, .measured = false };
	r[3] = (struct eimg_region){ .offset = 709 * 4096, .size = 500 * 4096, .secinfo = 0x203, .measured = true };
	r[4] = (struct eimg_region){ .offset = 1209 * 4096, .size = 4096, .secinfo = 0x100, .measured = true,
		.data = data_buf, .data_len = 72 };
	r[5] = (struct eimg_region){ .offset = 1210 * 4096, .size = 300 * 4096, .secinfo = 0x203, .measured = true,
		.data = data_buf, .data_off = 250 * 4096 + 17, .data_len = 5000 };
	eimg_layout l = { .size = 0x800000, .ssa_frame_size = 2, .regions = r, .nregions = 6 };
	return l;
}

static void test_batched_equals_reference(void **state)
{
	(void)state;
	eimg_layout l = mixed_layout();
	uint8_t a[32], b[32];
	assert_int_equal(eimg_sgx_mrenclave(&l, a, NULL), EIMG_OK);
	reference(&l, b);
	assert_memory_equal(a, b, 32);
	/* Changing one data byte changes MRENCLAVE (the data is really hashed). */
	data_buf[3] ^= 1;
	data_buf[4000] ^= 1;
	assert_int_equal(eimg_sgx_mrenclave(&l, a, NULL), EIMG_OK);
	assert_memory_not_equal(a, b, 32);
	reference(&l, b);
	assert_memory_equal(a, b, 32);
	/* And the SECINFO of one zero page deep inside a batch. */
	mixed_regions[3].secinfo = 0x207;
	assert_int_equal(eimg_sgx_mrenclave(&l, a, NULL), EIMG_OK);
	assert_memory_not_equal(a, b, 32);
	reference(&l, b);
	assert_memory_equal(a, b, 32);
	free(data_buf);
}

static void test_bad_layout(void **state)
{
	(void)state;
	uint8_t md[32];
	eimg_error err;
	struct eimg_region r[2] = {
		{ .offset = 0x1000, .size = 0x2000, .secinfo = 0x203, .measured = true },
		{ .offset = 0x2000, .size = 0x1000, .secinfo = 0x203, .measured = true },
	};
	eimg_layout l = { .size = 0x10000, .ssa_frame_size = 1, .regions = r, .nregions = 2 };
	assert_int_equal(eimg_sgx_mrenclave(&l, md, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "region 1"));
	l.nregions = 1;
	l.size = 0x3000;
	assert_int_equal(eimg_sgx_mrenclave(&l, md, &err), EIMG_EINVAL);
	l.size = 0x2000;
	assert_int_equal(eimg_sgx_mrenclave(&l, md, &err), EIMG_EINVAL); /* region ends at 0x3000 */
	l.size = 0x4000;
	assert_int_equal(eimg_sgx_mrenclave(&l, md, &err), EIMG_OK);
}

static void check_vector(const char *name, const char *want, uint64_t size, uint64_t neadd, uint64_t nextend,
			 uint64_t ntcs)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", vectors(), name);
	if (access(path, R_OK) != 0) {
		fprintf(stderr, "skipped: %s not found (set EIMG_VECTORS to the shared vectors folder)\n", path);
		skip();
	}
	struct eimg_sgxs_info info;
	eimg_error err;
	int rc = eimg_sgxs_read_file(path, &info, &err);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	assert_int_equal(rc, EIMG_OK);
	hexeq(info.mrenclave, want);
	assert_int_equal(info.size, size);
	assert_int_equal(info.ssa_frame_size, 1);
	assert_int_equal(info.neadd, neadd);
	assert_int_equal(info.nextend, nextend);
	assert_int_equal(info.ntcs, ntcs);

	/* Same from standard input ("-"). */
	int saved = dup(0), fd = open(path, O_RDONLY);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	struct eimg_sgxs_info info0;
	rc = eimg_sgxs_read_file("-", &info0, &err);
	dup2(saved, 0);
	close(saved);
	assert_int_equal(rc, EIMG_OK);
	assert_memory_equal(&info, &info0, sizeof(info));

	/* Same through the buffer reader, and sha256(file) == MRENCLAVE. */
	uint8_t *buf;
	size_t len;
	assert_int_equal(eimg_read_file(path, 1 << 24, &buf, &len, NULL), EIMG_OK);
	struct eimg_sgxs_info info2;
	assert_int_equal(eimg_sgxs_read_buffer(name, buf, len, &info2, NULL), EIMG_OK);
	assert_memory_equal(&info, &info2, sizeof(info));
	uint8_t md[32];
	eimg_sha256(buf, len, md);
	assert_memory_equal(md, info.mrenclave, 32);
	/* A flipped data byte is still a valid stream with another MRENCLAVE. */
	buf[len - 1] ^= 0x80;
	assert_int_equal(eimg_sgxs_read_buffer(name, buf, len, &info2, NULL), EIMG_OK);
	assert_memory_not_equal(info2.mrenclave, info.mrenclave, 32);
	/* Truncated by one byte: refused. */
	assert_int_equal(eimg_sgxs_read_buffer(name, buf, len - 1, &info2, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	free(buf);
}

static void test_vector_test_enclave(void **state)
{
	(void)state;
	check_vector("test_enclave.sgxs", "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc",
		     0x40000, 9, 144, 1);
}

static void test_vector_report(void **state)
{
	(void)state;
	check_vector("report.sgxs", "a06a560b26f5e397b2d7872fac66fe4b43bf4f507296ee048f110be6fb1a2290",
		     0x4000, 3, 48, 1);
}

static void test_round_trip(void **state)
{
	(void)state;
	eimg_layout l = mixed_layout();
	char dir[] = "/tmp/test_sgxs.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/out.sgxs", dir);
	eimg_error err;
	uint8_t md[32];
	assert_int_equal(eimg_sgx_mrenclave(&l, md, NULL), EIMG_OK);
	assert_int_equal(eimg_sgxs_write_file(&l, path, &err), EIMG_OK);
	struct eimg_sgxs_info info;
	assert_int_equal(eimg_sgxs_read_file(path, &info, &err), EIMG_OK);
	assert_memory_equal(info.mrenclave, md, 32);
	assert_int_equal(info.size, l.size);
	assert_int_equal(info.ssa_frame_size, 2);
	assert_int_equal(info.neadd, 5 + 700 + 3 + 500 + 1 + 300);
	assert_int_equal(info.nextend, 16 * (5 + 700 + 500 + 1 + 300));
	assert_int_equal(info.ntcs, 1);
	uint8_t *buf;
	size_t len;
	assert_int_equal(eimg_read_file(path, 1 << 24, &buf, &len, NULL), EIMG_OK);
	assert_int_equal(len, 64 + (5 + 700 + 500 + 1 + 300) * 5184 + 3 * 64);
	uint8_t fmd[32];
	eimg_sha256(buf, len, fmd);
	assert_memory_equal(fmd, md, 32);
	free(buf);

	/* A failing stream leaves no file behind (atomic output). */
	char path2[128];
	snprintf(path2, sizeof(path2), "%s/bad.sgxs", dir);
	l.size = 0x3000;
	assert_int_equal(eimg_sgxs_write_file(&l, path2, &err), EIMG_EINVAL);
	assert_int_not_equal(access(path2, F_OK), 0);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	free(data_buf);
}

/* ---- hostile streams ---- */

static size_t rec(uint8_t *p, const char *tag, uint64_t a, uint64_t b)
{
	memset(p, 0, 64);
	memcpy(p, tag, strlen(tag));
	if (strcmp(tag, "ECREATE") == 0) {
		eimg_le32(p + 8, (uint32_t)a);
		eimg_le64(p + 12, b);
		return 64;
	}
	eimg_le64(p + 8, a);
	eimg_le64(p + 16, b);
	if (strcmp(tag, "EEXTEND") == 0) {
		memset(p + 16, 0, 48);
		memset(p + 64, 0xab, 256);
		return 320;
	}
	return 64;
}

static void expect_bad(const uint8_t *buf, size_t len, const char *needle)
{
	struct eimg_sgxs_info info;
	eimg_error err;
	memset(&err, 0, sizeof(err));
	assert_int_equal(eimg_sgxs_read_buffer("h.sgxs", buf, len, &info, &err), EIMG_EINVAL);
	if (!strstr(err.msg, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, needle);
	assert_string_equal(err.file, "h.sgxs");
}

static void test_hostile(void **state)
{
	(void)state;
	uint8_t b[4096] = { 0 };
	size_t n;
	struct eimg_sgxs_info info;

	expect_bad(b, 0, "empty");
	n = rec(b, "EADD", 0, 0x205);
	expect_bad(b, n, "does not start with an ECREATE");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "ECREATE", 1, 0x10000);
	expect_bad(b, n, "second ECREATE");
	expect_bad(b, rec(b, "ECREATE", 0, 0x10000), "SSA frame size is 0");
	expect_bad(b, rec(b, "ECREATE", 1, 0x3000), "not a power of two");
	expect_bad(b, rec(b, "ECREATE", 1, 0x1000), "not a power of two");
	expect_bad(b, rec(b, "ECREATE", 1, 1ull << 40), "above the limit");
	n = rec(b, "ECREATE", 1, 0x10000);
	b[40] = 1;
	expect_bad(b, n, "reserved");

	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x1800, 0x205);
	expect_bad(b, n, "not page-aligned");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x10000, 0x205);
	expect_bad(b, n, "outside the enclave");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x205);
	n += rec(b + n, "EADD", 0x2000, 0x205);
	expect_bad(b, n, "not above the previous");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x107);
	expect_bad(b, n, "TCS page must not");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x305);
	expect_bad(b, n, "not a regular or TCS");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x202);
	expect_bad(b, n, "writable but not readable");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x10203);
	expect_bad(b, n, "not a regular or TCS");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x203);
	b[n - 1] = 1;
	expect_bad(b, n, "SECINFO reserved");

	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EEXTEND", 0, 0);
	expect_bad(b, n, "before any EADD");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x203);
	n += rec(b + n, "EEXTEND", 0x3000, 0);
	expect_bad(b, n, "not inside the page");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x203);
	n += rec(b + n, "EEXTEND", 0x2100, 0);
	n += rec(b + n, "EEXTEND", 0x2000, 0);
	expect_bad(b, n, "increasing order");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x203);
	n += rec(b + n, "EEXTEND", 0x2010, 0);
	expect_bad(b, n, "multiple of 256");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x203);
	n += rec(b + n, "EEXTEND", 0x2000, 0);
	b[n - 256 - 1] = 9;
	expect_bad(b, n, "EEXTEND reserved");
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x2000, 0x203);
	n += rec(b + n, "EEXTEND", 0x2000, 0);
	expect_bad(b, n - 1, "truncated record at offset 0x80");
	n = rec(b, "ECREATE", 1, 0x10000);
	memcpy(b + n, "EREMOVE\x01", 8);
	memset(b + n + 8, 0, 56);
	expect_bad(b, n + 64, "unknown record tag \"EREMOVE\\x01\"");

	/* A valid partial measurement: some chunks of a page only. */
	n = rec(b, "ECREATE", 1, 0x10000);
	n += rec(b + n, "EADD", 0x0, 0x100);
	n += rec(b + n, "EADD", 0x2000, 0x203);
	n += rec(b + n, "EEXTEND", 0x2100, 0);
	n += rec(b + n, "EEXTEND", 0x2f00, 0);
	assert_int_equal(eimg_sgxs_read_buffer("ok.sgxs", b, n, &info, NULL), EIMG_OK);
	assert_int_equal(info.neadd, 2);
	assert_int_equal(info.nextend, 2);
	assert_int_equal(info.ntcs, 1);
}

static size_t dir_entries(const char *dir)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* A disk that fills up in the middle of the stream: an error naming the
 * file, and neither the output nor a temporary file is left behind. */
static void test_write_failure(void **state)
{
	(void)state;
	eimg_layout l = mixed_layout();
	char dir[] = "/tmp/test_sgxs.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/out.sgxs", dir);
	eimg_error err;
	fail_write_after = 3;
	int rc = eimg_sgxs_write_file(&l, path, &err);
	fail_write_after = -1;
	assert_int_equal(rc, EIMG_EIO);
	assert_string_equal(err.file, path);
	assert_non_null(strstr(err.msg, "No space left on device"));
	assert_int_equal(dir_entries(dir), 0);
	assert_int_equal(rmdir(dir), 0);
	free(data_buf);
}

/* A damaged record beyond the first read chunk of a file: the reader names
 * its exact offset. */
static void test_damage_after_first_chunk(void **state)
{
	(void)state;
	eimg_layout l = mixed_layout();
	char dir[] = "/tmp/test_sgxs.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/out.sgxs", dir);
	assert_int_equal(eimg_sgxs_write_file(&l, path, NULL), EIMG_OK);
	free(data_buf);
	uint8_t *buf;
	size_t len;
	assert_int_equal(eimg_read_file(path, 1 << 24, &buf, &len, NULL), EIMG_OK);
	/* Page 400 of the 700-page zero region (the 406th page): offset of its EADD. */
	size_t at = 64 + 405 * 5184;
	assert_true(at > (1u << 20));
	assert_memory_equal(buf + at, "EADD\0\0\0\0", 8);
	buf[at + 8] ^= 0x10; /* offset no longer page-aligned */
	eimg_inputs_reset(); /* the fixture is rewritten: forget it was read */
	assert_int_equal(eimg_write_file_atomic(path, buf, len, NULL), EIMG_OK);
	struct eimg_sgxs_info info;
	eimg_error err;
	assert_int_equal(eimg_sgxs_read_file(path, &info, &err), EIMG_EINVAL);
	char want[128];
	snprintf(want, sizeof(want), "record at offset %#zx: EADD page offset", at);
	if (!strstr(err.msg, want))
		fail_msg("\"%s\" lacks \"%s\"", err.msg, want);
	free(buf);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

static void test_read_file_errors(void **state)
{
	(void)state;
	struct eimg_sgxs_info info;
	eimg_error err;
	assert_int_equal(eimg_sgxs_read_file("/nonexistent/x.sgxs", &info, &err), EIMG_EIO);
	assert_string_equal(err.file, "/nonexistent/x.sgxs");
	assert_int_equal(eimg_sgxs_read_file("/tmp", &info, &err), EIMG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_a),
		cmocka_unit_test(test_ecreate_only),
		cmocka_unit_test(test_batched_equals_reference),
		cmocka_unit_test(test_bad_layout),
		cmocka_unit_test(test_vector_test_enclave),
		cmocka_unit_test(test_vector_report),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_write_failure),
		cmocka_unit_test(test_damage_after_first_chunk),
		cmocka_unit_test(test_read_file_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
