/* SPDX-License-Identifier: Apache-2.0 */
/* The EIF stream's pipeline (nitro/eif_stream.c): the bytes, CRC and PCRs
 * of an EIF streamed through the ring equal those of the in-memory writer
 * and of a separate PCR pass over its bytes, for ramdisks of 0 bytes up to
 * several turns of the ring, written in pieces of every size; the same with
 * no worker thread and with one (threads that cannot be made); a write
 * error, a hashing failure in a worker and a failed flush stop the stream
 * with the error and leave no thread behind (run under valgrind or
 * `make sanitize` for leaks).  Written around the page cache
 * (EIMG_EIF_STREAM_DIRECT, a named file on a file system with O_DIRECT):
 * the same bytes, with the whole pieces written that way; a refused
 * O_DIRECT write goes through the cache instead, and a failing one fails
 * the stream.  A copy of the EIF in a second file (enclave-build --eif):
 * the same bytes there, and its write errors fail the stream.
 * LINK-WRAP: -Wl,--wrap=pthread_create -Wl,--wrap=write -Wl,--wrap=pwrite -Wl,--wrap=pwritev -Wl,--wrap=eimg_hash_update -Wl,--wrap=fdatasync
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
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
static int direct_refused;           /* O_DIRECT writes that fail with EINVAL */
static int flushes;
static int slow_direct;              /* O_DIRECT writes take 20 ms: the writer lags behind */
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

/* The budget, shared by every kind of write. */
static bool over_budget(size_t n)
{
	if (write_budget < 0)
		return false;
	if ((long long)n > write_budget) {
		errno = ENOSPC;
		return true;
	}
	write_budget -= (long long)n;
	return false;
}

ssize_t __real_write(int fd, const void *p, size_t n);
ssize_t __wrap_write(int fd, const void *p, size_t n);
ssize_t __wrap_write(int fd, const void *p, size_t n)
{
	return over_budget(n) ? -1 : __real_write(fd, p, n);
}

ssize_t __real_pwrite(int fd, const void *p, size_t n, off_t off);
ssize_t __wrap_pwrite(int fd, const void *p, size_t n, off_t off);
static bool refuse_direct(int fd)
{
	if ((fcntl(fd, F_GETFL) & O_DIRECT) && __atomic_load_n(&direct_refused, __ATOMIC_SEQ_CST) > 0) {
		__atomic_fetch_sub(&direct_refused, 1, __ATOMIC_SEQ_CST);
		errno = EINVAL;
		return true;
	}
	return false;
}

ssize_t __wrap_pwrite(int fd, const void *p, size_t n, off_t off)
{
	if (refuse_direct(fd))
		return -1;
	return over_budget(n) ? -1 : __real_pwrite(fd, p, n, off);
}

ssize_t __real_pwritev(int fd, const struct iovec *v, int n, off_t off);
ssize_t __wrap_pwritev(int fd, const struct iovec *v, int n, off_t off);
ssize_t __wrap_pwritev(int fd, const struct iovec *v, int n, off_t off)
{
	size_t total = 0;
	for (int i = 0; i < n; i++)
		total += v[i].iov_len;
	if (refuse_direct(fd))
		return -1;
	if (slow_direct && (fcntl(fd, F_GETFL) & O_DIRECT))
		usleep(20000);
	return over_budget(total) ? -1 : __real_pwritev(fd, v, n, off);
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
	direct_refused = 0;
	slow_direct = 0;
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

/* A file in /tmp, or with in_here in the build folder ($BUILDDIR, as make
 * check sets it, else the current one: a file system on disk, as /tmp may
 * be a tmpfs, which has no O_DIRECT; never the source tree, where a file
 * left by a failed assertion could be committed); unlinked unless named. */
static int scratch_in(char *name, size_t size, bool named, bool in_here)
{
	const char *dir = getenv("BUILDDIR");
	if (!in_here)
		dir = "/tmp";
	else if (!dir || !*dir)
		dir = ".";
	int k = snprintf(name, size, "%s/eimg-pipe-XXXXXX", dir);
	assert_true(k > 0 && (size_t)k < size);
	int fd = mkstemp(name);
	assert_true(fd >= 0);
	if (!named)
		unlink(name);
	return fd;
}

static int scratch(char *name, size_t size, bool named)
{
	return scratch_in(name, size, named, false);
}

/* Streams ram (n bytes) in writes of step bytes (0: growing sizes) into fd;
 * returns the status of the stream's calls. */
static uint64_t direct_bytes;        /* the last stream's, written around the cache */
static unsigned stream_flags;        /* given to eimg_eif_stream_begin */
static int copy_to = -1;             /* the copy's file, or -1 */
#define BOUNCE_MAX (8u << 20)            /* what a copy's bounce buffer may hold back */

static int stream(int fd, const uint8_t *ram, size_t n, size_t step, uint64_t *len, struct eimg_nitro_digest *dg,
		  eimg_error *err)
{
	struct eimg_eif_stream s;
	struct eimg_eif_part p[5];
	parts(p, NULL, 0);
	memset(&s, 0, sizeof(s));
	int rc = eimg_eif_stream_begin(&s, "EIF", fd, "copy", copy_to, &wo, p, 5, stream_flags, err);
	for (size_t off = 0, k = 1; !rc && off < n; k++) {
		size_t w = step ? step : (k * 7919) % 3000000 + 1;
		if (w > n - off)
			w = n - off;
		rc = eimg_eif_stream_write(&s, ram + off, w, err);
		off += w;
	}
	if (!rc)
		rc = eimg_eif_stream_end(&s, len, dg, err);
	direct_bytes = s.direct;
	if (!rc) /* the file's offset is left after the EIF */
		assert_int_equal(lseek(fd, 0, SEEK_CUR) - s.dst[0].start, (off_t)*len);
	eimg_eif_stream_free(&s);
	return rc;
}

/* The streamed file equals the in-memory writer's EIF; the PCRs and CRC
 * given equal a separate pass over it. */
static void check_one_in(size_t n, size_t step, bool here)
{
	char name[PATH_MAX];
	eimg_error err;
	uint8_t *ram = pattern(n, (unsigned)n), *want = NULL;
	size_t wlen = 0;
	struct eimg_eif_part p[5];
	parts(p, ram, n);
	assert_int_equal(eimg_eif_write_buffer(&wo, p, 5, &want, &wlen, &err), 0);
	int fd = scratch_in(name, sizeof(name), here, here);
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
	if (here)
		unlink(name);
	free(got);
	free(want);
	free(ram);
}

static void check_one(size_t n, size_t step)
{
	check_one_in(n, step, false);
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
	char name[PATH_MAX];
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
	char name[PATH_MAX];
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

/* Whether this folder's file system takes O_DIRECT writes. */
static bool direct_here(void)
{
	char name[PATH_MAX];
	int fd = scratch_in(name, sizeof(name), true, true);
	int d = open(name, O_WRONLY | O_DIRECT | O_CLOEXEC);
	close(fd);
	unlink(name);
	if (d < 0)
		return false;
	close(d);
	return true;
}

/* Around the page cache: the same bytes, and every whole piece (all but
 * the first and the last) written that way, where the file system allows
 * it; never for an unlinked scratch file. */
static void test_direct(void **state)
{
	(void)state;
	bool can = direct_here();
	if (!can)
		print_message("O_DIRECT is not supported in this folder: only the same bytes are checked\n");
	reset();
	stream_flags = EIMG_EIF_STREAM_DIRECT;
	static const size_t dsizes[] = { 0, 1, MIB - 1, MIB + 1, (EIMG_EIF_RING_MAX + 3) * MIB + 5 };
	for (size_t i = 0; i < sizeof(dsizes) / sizeof(dsizes[0]); i++) {
		for (size_t step = 0; step <= 4096; step += 4096) {
			check_one_in(dsizes[i], step, true);
			/* The pieces between the first and the last 1 MiB boundaries. */
			uint64_t data_at = EIMG_EIF_HEADER_SIZE + 5 * EIMG_EIF_SECTION_HEADER_SIZE + sizeof(kernel) +
					   strlen(cmdline) + sizeof(meta) - 1 + sizeof(boot);
			uint64_t first = (data_at + MIB - 1) / MIB * MIB, last = (data_at + dsizes[i]) / MIB * MIB;
			uint64_t whole = last > first ? last - first : 0;
			if (can)
				assert_int_equal(direct_bytes, whole);
			else
				assert_int_equal(direct_bytes, 0);
		}
	}
	check_one((EIMG_EIF_RING_MAX + 3) * MIB + 5, 0); /* a scratch file: through the cache */
	assert_int_equal(direct_bytes, 0);
	/* Refused (EINVAL): the rest through the cache, the same bytes. */
	reset();
	direct_refused = 1;
	check_one_in((EIMG_EIF_RING_MAX + 3) * MIB + 5, 0, true);
	assert_int_equal(direct_bytes, 0);
	stream_flags = 0;
	reset();
}

/* A write around the cache that fails (the disk is full) fails the stream;
 * the flusher runs too (a failed flush fails it as well). */
static void test_direct_errors(void **state)
{
	(void)state;
	char name[PATH_MAX];
	eimg_error err;
	uint64_t len;
	struct eimg_nitro_digest dg;
	size_t n = 72u * MIB;
	uint8_t *ram = pattern(n, 11);
	stream_flags = EIMG_EIF_STREAM_DIRECT;
	for (long long budget = 4096; budget < (long long)n; budget += 9 * MIB + 1) {
		reset();
		write_budget = budget;
		int fd = scratch_in(name, sizeof(name), true, true);
		assert_int_equal(stream(fd, ram, n, 0, &len, &dg, &err), EIMG_EIO);
		if (!strstr(err.msg, "cannot write") || !strstr(err.msg, "No space"))
			fail_msg("\"%s\" lacks \"cannot write\" and the cause", err.msg);
		close(fd);
		unlink(name);
	}
	reset();
	int fd = scratch_in(name, sizeof(name), true, true);
	assert_int_equal(stream(fd, ram, n, MIB, &len, &dg, &err), 0);
	assert_true(flushes > 0);
	close(fd);
	unlink(name);
	/* The flush asked for while the writer drains, after the last piece
	 * is handed over (a slow disk), fails the stream as well. */
	for (int slow = 0; slow < 2; slow++) {
		reset();
		slow_direct = slow;
		flush_fail = 1;
		fd = scratch_in(name, sizeof(name), true, true);
		assert_int_equal(stream(fd, ram, n, MIB, &len, &dg, &err), EIMG_EIO);
		assert_non_null(strstr(err.msg, "cannot write"));
		close(fd);
		unlink(name);
	}
	stream_flags = 0;
	reset();
	free(ram);
}

/* A copy: the same EIF also in a second file, from its offset 0, while the
 * first file holds it at an offset that is a multiple of 512 but not of
 * 4096 (as in an image); both hold the reference bytes, around the cache
 * where the file system allows (the copy's pieces at its own alignment). */
static void test_copy(void **state)
{
	(void)state;
	char name[PATH_MAX], cname[PATH_MAX];
	eimg_error err;
	static const size_t csizes[] = { 0, MIB + 1, (EIMG_EIF_RING_MAX + 3) * MIB + 5 };
	/* flags, then refused: O_DIRECT writes refused (the first file's, then the copy's) */
	for (unsigned run = 0; run < 4; run++) {
		unsigned flags = run ? EIMG_EIF_STREAM_DIRECT : 0;
		for (size_t i = 0; i < sizeof(csizes) / sizeof(csizes[0]); i++) {
			size_t n = csizes[i];
			reset();
			direct_refused = run > 1 ? (int)run - 1 : 0;
			uint8_t *ram = pattern(n, 13), *want = NULL;
			size_t wlen = 0;
			struct eimg_eif_part p[5];
			parts(p, ram, n);
			assert_int_equal(eimg_eif_write_buffer(&wo, p, 5, &want, &wlen, &err), 0);
			int fd = scratch_in(name, sizeof(name), true, true);
			copy_to = scratch_in(cname, sizeof(cname), true, true);
			static const uint8_t lead[1536] = { 'x' };
			assert_int_equal(write(fd, lead, sizeof(lead)), (ssize_t)sizeof(lead));
			stream_flags = flags;
			uint64_t len = 0;
			struct eimg_nitro_digest dg;
			if (stream(fd, ram, n, 65536, &len, &dg, &err))
				fail_msg("stream with a copy: %s", err.msg);
			assert_int_equal(len, wlen);
			assert_int_equal(lseek(copy_to, 0, SEEK_CUR), (off_t)wlen);
			uint8_t *got = malloc(wlen + sizeof(lead));
			assert_int_equal(pread(fd, got, wlen + sizeof(lead), 0), (ssize_t)(wlen + sizeof(lead)));
			assert_memory_equal(got, lead, sizeof(lead));
			assert_memory_equal(got + sizeof(lead), want, wlen);
			assert_int_equal(pread(copy_to, got, wlen + 1, 0), (ssize_t)wlen);
			assert_memory_equal(got, want, wlen);
			if (run == 1 && n > 4 * MIB && direct_here())
				assert_true(direct_bytes > 2 * (n - 4 * MIB) - BOUNCE_MAX);
			close(fd);
			close(copy_to);
			unlink(name);
			unlink(cname);
			free(got);
			free(want);
			free(ram);
		}
	}
	/* The copy cannot be written: the stream fails. */
	size_t n = 9u * MIB;
	uint8_t *ram = pattern(n, 17);
	for (long long budget = 0; budget < 3 * (long long)n; budget += 5 * MIB + 3) {
		reset();
		write_budget = budget;
		stream_flags = EIMG_EIF_STREAM_DIRECT;
		int fd = scratch_in(name, sizeof(name), true, true);
		copy_to = scratch_in(cname, sizeof(cname), true, true);
		uint64_t len;
		struct eimg_nitro_digest dg;
		int rc = stream(fd, ram, n, 0, &len, &dg, &err);
		if (budget < 2 * (long long)n) {
			assert_int_equal(rc, EIMG_EIO);
			assert_non_null(strstr(err.msg, "cannot write"));
		}
		close(fd);
		close(copy_to);
		unlink(name);
		unlink(cname);
	}
	copy_to = -1;
	stream_flags = 0;
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
		cmocka_unit_test(test_direct),
		cmocka_unit_test(test_direct_errors),
		cmocka_unit_test(test_copy),
	};
	return cmocka_run_group_tests_name("eif_pipe", tests, NULL, NULL);
}
