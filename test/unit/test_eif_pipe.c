/* SPDX-License-Identifier: Apache-2.0 */
/* The EIF stream's pipeline (nitro/eif_stream.c): the bytes, CRC and PCRs
 * of an EIF streamed through the ring equal those of the in-memory writer
 * and of a separate PCR pass over its bytes, for ramdisks of 0 bytes up to
 * several turns of the ring, written in pieces of every size; the same with
 * no worker thread and with one (threads that cannot be made); a write
 * error, a hashing failure in a worker and a failed flush stop the stream
 * with the error and leave no thread behind (run under valgrind or
 * `make sanitize` for leaks).
 * LINK-WRAP: -Wl,--wrap=pthread_create -Wl,--wrap=write -Wl,--wrap=eimg_hash_update -Wl,--wrap=fdatasync
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "eimg/eif.h"
#include "eimg/hash.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"

/* ---- fault injection ---- */
static int creates_left = -1;        /* pthread_create calls that succeed; -1: all */
static long long write_budget = -1;  /* bytes write() accepts before ENOSPC; -1: all */
static int hash_fail_after = -1;     /* eimg_hash_update calls (on worker threads) that succeed */
static int flush_fail;               /* fdatasync fails with EIO */
static int flushes;
static pthread_t main_thread;

int __real_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg);
int __wrap_pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*fn)(void *), void *arg)
{
	if (creates_left == 0)
		return EAGAIN;
	if (creates_left > 0)
		creates_left--;
	return __real_pthread_create(t, a, fn, arg);
}

ssize_t __real_write(int fd, const void *p, size_t n);
ssize_t __wrap_write(int fd, const void *p, size_t n);
ssize_t __wrap_write(int fd, const void *p, size_t n)
{
	if (write_budget >= 0) {
		if ((long long)n > write_budget) {
			errno = ENOSPC;
			return -1;
		}
		write_budget -= (long long)n;
	}
	return __real_write(fd, p, n);
}

int __real_eimg_hash_update(eimg_hash *h, const void *p, size_t n);
int __wrap_eimg_hash_update(eimg_hash *h, const void *p, size_t n);
int __wrap_eimg_hash_update(eimg_hash *h, const void *p, size_t n)
{
	if (__atomic_load_n(&hash_fail_after, __ATOMIC_SEQ_CST) >= 0 && !pthread_equal(pthread_self(), main_thread)) {
		if (__atomic_fetch_sub(&hash_fail_after, 1, __ATOMIC_SEQ_CST) <= 0)
			return -1;
	}
	return __real_eimg_hash_update(h, p, n);
}

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_fdatasync(int fd)
{
	__atomic_fetch_add(&flushes, 1, __ATOMIC_SEQ_CST);
	if (flush_fail) {
		errno = EIO;
		return -1;
	}
	return __real_fdatasync(fd);
}

static void reset(void)
{
	creates_left = -1;
	write_budget = -1;
	hash_fail_after = -1;
	flush_fail = 0;
	flushes = 0;
}

/* ---- the EIF ---- */
static const uint8_t kernel[] = "kernel bytes";
static const char cmdline[] = "console=ttyS0";
static const uint8_t meta[] = "{}";
static const uint8_t boot[] = "070701 boot-strap ramdisk";
static const struct eimg_eif_write_opts wo = { 0, 512ull << 20, 2 };

static void parts(struct eimg_eif_part p[5], const uint8_t *ram, size_t n)
{
	p[0] = (struct eimg_eif_part){ EIMG_EIF_KERNEL, kernel, sizeof(kernel) };
	p[1] = (struct eimg_eif_part){ EIMG_EIF_CMDLINE, (const uint8_t *)cmdline, strlen(cmdline) };
	p[2] = (struct eimg_eif_part){ EIMG_EIF_METADATA, meta, sizeof(meta) - 1 };
	p[3] = (struct eimg_eif_part){ EIMG_EIF_RAMDISK, boot, sizeof(boot) };
	p[4] = (struct eimg_eif_part){ EIMG_EIF_RAMDISK, ram, n };
}

static uint8_t *pattern(size_t n, unsigned seed)
{
	uint8_t *b = malloc(n ? n : 1);
	assert_non_null(b);
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		b[i] = (uint8_t)(x >> 23);
	}
	return b;
}

static int scratch(char *name, size_t size, bool named)
{
	snprintf(name, size, "/tmp/eimg-pipe-XXXXXX");
	int fd = mkstemp(name);
	assert_true(fd >= 0);
	if (!named)
		unlink(name);
	return fd;
}

/* Streams ram (n bytes) in writes of step bytes (0: growing sizes) into fd;
 * returns the status of the stream's calls. */
static int stream(int fd, const uint8_t *ram, size_t n, size_t step, uint64_t *len, struct eimg_nitro_digest *dg,
		  eimg_error *err)
{
	struct eimg_eif_stream s;
	struct eimg_eif_part p[5];
	parts(p, NULL, 0);
	memset(&s, 0, sizeof(s));
	int rc = eimg_eif_stream_begin(&s, "EIF", fd, &wo, p, 5, err);
	for (size_t off = 0, k = 1; !rc && off < n; k++) {
		size_t w = step ? step : (k * 7919) % 3000000 + 1;
		if (w > n - off)
			w = n - off;
		rc = eimg_eif_stream_write(&s, ram + off, w, err);
		off += w;
	}
	if (!rc)
		rc = eimg_eif_stream_end(&s, len, dg, err);
	eimg_eif_stream_free(&s);
	return rc;
}

/* The streamed file equals the in-memory writer's EIF; the PCRs and CRC
 * given equal a separate pass over it. */
static void check_one(size_t n, size_t step)
{
	char name[64];
	eimg_error err;
	uint8_t *ram = pattern(n, (unsigned)n), *want = NULL;
	size_t wlen = 0;
	struct eimg_eif_part p[5];
	parts(p, ram, n);
	assert_int_equal(eimg_eif_write_buffer(&wo, p, 5, &want, &wlen, &err), 0);
	int fd = scratch(name, sizeof(name), false);
	uint64_t len = 0;
	struct eimg_nitro_digest dg, ref;
	if (stream(fd, ram, n, step, &len, &dg, &err))
		fail_msg("stream of %zu bytes: %s", n, err.msg);
	assert_int_equal(len, wlen);
	uint8_t *got = malloc(wlen);
	assert_int_equal(pread(fd, got, wlen, 0), (ssize_t)wlen);
	assert_memory_equal(got, want, wlen);
	eimg_eif_layout l;
	assert_int_equal(eimg_eif_read_layout_buffer("EIF", want, wlen, &l, &err), 0);
	assert_int_equal(eimg_nitro_pcr_buffer("EIF", want, &l, 1, &ref, &err), 0);
	assert_memory_equal(dg.pcr0, ref.pcr0, 48);
	assert_memory_equal(dg.pcr1, ref.pcr1, 48);
	assert_memory_equal(dg.pcr2, ref.pcr2, 48);
	assert_int_equal(dg.crc, eimg_eif_crc(want, wlen));
	close(fd);
	free(got);
	free(want);
	free(ram);
}

#define MIB (1u << 20)
static const size_t sizes[] = { 0, 1, MIB - 1, MIB, MIB + 1, 3 * MIB + 7, (EIMG_EIF_RING + 3) * MIB + 5 };

static void test_same_bytes(void **state)
{
	(void)state;
	reset();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		check_one(sizes[i], 0);
		check_one(sizes[i], 4096);
	}
	check_one(2 * EIMG_EIF_RING * MIB + 1, MIB); /* whole pieces, the ring twice round */
}

/* No thread, or one: the work runs on the caller's thread, same results. */
static void test_fallback(void **state)
{
	(void)state;
	for (int c = 0; c < 2; c++) {
		reset();
		creates_left = c;
		check_one(3 * MIB + 7, 0);
		check_one((EIMG_EIF_RING + 3) * MIB + 5, 65536);
	}
	reset();
}

/* Streams n bytes into a scratch file: the stream must fail with code and
 * a message holding msg (and leave no thread: the test would hang in _free
 * otherwise; valgrind or ASan report a leak). */
static void expect_failure(const uint8_t *ram, size_t n, int code, const char *msg)
{
	char name[64];
	eimg_error err;
	uint64_t len;
	struct eimg_nitro_digest dg;
	int fd = scratch(name, sizeof(name), false);
	assert_int_equal(stream(fd, ram, n, 0, &len, &dg, &err), code);
	if (!strstr(err.msg, msg))
		fail_msg("\"%s\" lacks \"%s\"", err.msg, msg);
	close(fd);
}

/* A write that fails half way. */
static void test_write_error(void **state)
{
	(void)state;
	size_t n = (EIMG_EIF_RING + 5) * MIB;
	uint8_t *ram = pattern(n, 3);
	for (long long budget = 4096; budget < (long long)n; budget += 5 * MIB + 1) {
		reset();
		write_budget = budget;
		expect_failure(ram, n, EIMG_EIO, "cannot write");
	}
	reset();
	free(ram);
}

/* A worker's hashing fails: the stream stops with that error. */
static void test_hash_error(void **state)
{
	(void)state;
	size_t n = (2 * EIMG_EIF_RING + 1) * MIB;
	uint8_t *ram = pattern(n, 5);
	for (int after = 0; after < 12; after += 5) {
		reset();
		main_thread = pthread_self();
		__atomic_store_n(&hash_fail_after, after, __ATOMIC_SEQ_CST);
		expect_failure(ram, n, EIMG_EINTERNAL, "hashing failed");
	}
	reset();
	free(ram);
}

/* A named file is flushed on the way; a flush that fails fails the stream
 * (its error would not reach the output's final fsync); a scratch file is
 * never flushed. */
static void test_flush(void **state)
{
	(void)state;
	char name[64];
	eimg_error err;
	size_t n = 72u * MIB;
	uint8_t *ram = pattern(n, 9);
	uint64_t len;
	struct eimg_nitro_digest dg;
	for (int named = 0; named < 2; named++) {
		reset();
		int fd = scratch(name, sizeof(name), named);
		assert_int_equal(stream(fd, ram, n, MIB, &len, &dg, &err), 0);
		assert_int_equal(flushes > 0, named);
		close(fd);
		if (named)
			unlink(name);
	}
	reset();
	flush_fail = 1;
	int fd = scratch(name, sizeof(name), true);
	assert_int_equal(stream(fd, ram, n, MIB, &len, &dg, &err), EIMG_EIO);
	assert_non_null(strstr(err.msg, "cannot write"));
	close(fd);
	unlink(name);
	reset();
	free(ram);
}

int main(void)
{
	main_thread = pthread_self();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_bytes),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_write_error),
		cmocka_unit_test(test_hash_error),
		cmocka_unit_test(test_flush),
	};
	return cmocka_run_group_tests_name("eif_pipe", tests, NULL, NULL);
}
