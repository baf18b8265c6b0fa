/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the enclave image archive (image.c, enclave-image(5)).
 *
 * Hostile archives are built byte by byte with a small ustar/pax writer below
 * (independent of libarchive), so every rejection rule is exercised with the
 * exact malformation it names.
 *
 * Extra modes for test/py/test_image_format.py:
 *   test_image --write-samples DIR   writes DIR/sample-sgx.eimg, DIR/sample-nitro.eimg
 *   test_image --read FILE           reads FILE; prints "ok" and the members, or the error (exit 1)
 *   test_image --flip-sweep [--strict] IMAGE   the byte-flip sweep (flip_sweep.c)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "eimg/expect.h"
#include "eimg/image.h"
#include "eimg/measure.h"
#include "eimg/nitro.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"


/* Fault injection for the atomic writer: write(2) to files (fd > 2) fails with
 * ENOSPC once write_budget bytes are used up; -1 disables.
 * LINK-WRAP: -Wl,--wrap=write
 */
static long long write_budget = -1;
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	if (write_budget >= 0 && fd > 2) {
		if ((long long)n > write_budget) {
			errno = ENOSPC;
			return -1;
		}
		write_budget -= (long long)n;
	}
	return __real_write(fd, buf, n);
}

#include "image_fixture.c"
#include "flip_sweep.c"

/* ------------------------------------------------------------------ */
/* Round trips                                                         */

static void test_roundtrip_sgx(void **state)
{
	(void)state;
	eimg_image *img = sample_sgx(), *back;
	uint8_t *buf;
	size_t len;
	write_ok(img, SAMPLE_MTIME, &buf, &len);
	/* 10 members (one with a pax header): headers + padded data + 1024-byte end marker */
	size_t want = 0;
	size_t ml, rl, meas;
	eimg_image_manifest(img, &ml);
	eimg_image_runtime(img, &rl);
	eimg_image_measurement(img, &meas);
	size_t sizes[] = { 16, ml, rl, 3000, 6, 512, 0, 2, 256, 91, meas, 1808 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		want += 512 + (sizes[i] + 511) / 512 * 512;
	want += 2 * 512 /* pax header + its data for files/ddd... and files/eee... */ * 2 + 1024;
	assert_int_equal(len, want);
	assert_memory_equal(buf, "EIMAGE\0", 7);
	back = expect_accept(buf, len);
	assert_images_equal(img, back);
	/* reading back and writing again gives the same bytes */
	uint8_t *buf2;
	size_t len2;
	write_ok(back, SAMPLE_MTIME, &buf2, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(buf, buf2, len);
	free(buf2);
	eimg_image_free(back);
	eimg_image_free(img);
	free(buf);
}

static void test_roundtrip_nitro(void **state)
{
	(void)state;
	eimg_image *img = sample_nitro(), *back;
	uint8_t *buf;
	size_t len;
	write_ok(img, 0, &buf, &len);
	back = expect_accept(buf, len);
	assert_images_equal(img, back);
	assert_null(eimg_image_elf(back));
	assert_null(eimg_image_sigstruct(back));
	assert_int_equal(eimg_image_nfiles(back), 0);
	assert_int_equal(eimg_image_nkeys(back), 0);
	assert_int_equal(eimg_image_mtime(back), 0);
	eimg_image_free(back);
	eimg_image_free(img);
	free(buf);
}

/* The ustar header fields our writer promises (enclave-image(5)). */
static void test_header_fields(void **state)
{
	(void)state;
	eimg_image *img = sample_sgx();
	uint8_t *buf;
	size_t len, off = 0, n = 0, npax = 0;
	char mt[13];
	write_ok(img, SAMPLE_MTIME, &buf, &len);
	snprintf(mt, sizeof(mt), "%011llo ", SAMPLE_MTIME);
	while (off + 512 <= len && buf[off]) {
		const uint8_t *h = buf + off;
		assert_memory_equal(h + 100, "000644 \0", 8);
		assert_memory_equal(h + 108, "000000 \0", 8);
		assert_memory_equal(h + 116, "000000 \0", 8);
		assert_memory_equal(h + 136, mt, 12);
		assert_true(h[156] == '0' || h[156] == 'x');
		for (int i = 157; i < 257; i++)
			assert_int_equal(h[i], 0); /* linkname */
		assert_memory_equal(h + 257, "ustar\0" "00", 8);
		for (int i = 265; i < 329; i++)
			assert_int_equal(h[i], 0); /* uname, gname */
		assert_memory_equal(h + 329, "000000 \0" "000000 \0", 16);
		unsigned sum = 0;
		for (int i = 0; i < 512; i++)
			sum += (i >= 148 && i < 156) ? ' ' : h[i];
		char ck[9];
		snprintf(ck, sizeof(ck), "%06o", sum);
		assert_memory_equal(h + 148, ck, 6);
		assert_memory_equal(h + 154, "\0 ", 2);
		unsigned long long size = strtoull((const char *)h + 124, NULL, 8);
		if (h[156] == 'x') {
			npax++;
			/* the only record: path */
			assert_non_null(memmem(h + 512, size, " path=files/", 12));
			assert_int_equal(((const char *)h + 512)[size - 1], '\n');
		}
		off += 512 + (size + 511) / 512 * 512;
		n++;
	}
	assert_int_equal(n, 12 + 2);
	assert_int_equal(npax, 2);
	assert_int_equal(off + 1024, len);
	for (size_t i = off; i < len; i++)
		assert_int_equal(buf[i], 0);
	free(buf);
	eimg_image_free(img);
}

/* ------------------------------------------------------------------ */
/* Determinism                                                         */

static void test_determinism(void **state)
{
	(void)state;
	char dir[] = "/tmp/eimg-test-image-XXXXXX", p1[256], p2[256], old_cwd[PATH_MAX];
	eimg_image *img = sample_sgx();
	eimg_error err;
	uint8_t *ref, *a, *b;
	size_t lref, la, lb;
	struct stat st;
	const char *tz = getenv("TZ");
	char *oldtz = tz ? strdup(tz) : NULL;

	assert_non_null(mkdtemp(dir));
	assert_non_null(getcwd(old_cwd, sizeof(old_cwd)));
	snprintf(p1, sizeof(p1), "%s/one.eimg", dir);
	snprintf(p2, sizeof(p2), "two.eimg");
	write_ok(img, SAMPLE_MTIME, &ref, &lref);

	mode_t old = umask(022);
	setenv("TZ", "UTC", 1);
	tzset();
	setlocale(LC_ALL, "C");
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(eimg_image_write_file(img, SAMPLE_MTIME, p1, &err), EIMG_OK);

	umask(077);
	setenv("TZ", "Pacific/Chatham", 1);
	tzset();
	setlocale(LC_ALL, "C.UTF-8");
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(eimg_image_write_file(img, SAMPLE_MTIME, p2, &err), EIMG_OK);
	umask(old);
	setlocale(LC_ALL, "C");
	if (oldtz)
		setenv("TZ", oldtz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(oldtz);

	a = slurp(p1, &la);
	b = slurp("two.eimg", &lb);
	assert_int_equal(stat("two.eimg", &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(la, lref);
	assert_int_equal(lb, lref);
	assert_memory_equal(a, ref, lref);
	assert_memory_equal(b, ref, lref);
	/* the mtime really is recorded: another mtime gives other bytes */
	uint8_t *c;
	size_t lc;
	write_ok(img, SAMPLE_MTIME + 1, &c, &lc);
	assert_int_equal(lc, lref);
	assert_memory_not_equal(c, ref, lref);
	free(c);
	/* the latest storable mtime still needs no pax header; one more second is refused */
	write_ok(img, EIMG_IMAGE_MAX_MTIME, &c, &lc);
	assert_int_equal(lc, lref);
	free(c);
	assert_int_equal(eimg_image_write_buffer(img, EIMG_IMAGE_MAX_MTIME + 1, &c, &lc, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "mtime"));

	unlink("two.eimg");
	assert_int_equal(chdir(old_cwd), 0);
	unlink(p1);
	rmdir(dir);
	free(a);
	free(b);
	free(ref);
	eimg_image_free(img);
}

/* Feeds buf to eimg_image_read_file("-") through a pipe, in small writes. */
static int read_via_pipe(const uint8_t *buf, size_t len, eimg_image **out, eimg_error *err)
{
	int pfd[2], saved = dup(0), status;
	assert_true(saved >= 0);
	assert_int_equal(pipe(pfd), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(pfd[0]);
		for (size_t o = 0; o < len;) {
			ssize_t w = write(pfd[1], buf + o, len - o > 777 ? 777 : len - o);
			if (w <= 0)
				_exit(1);
			o += (size_t)w;
		}
		_exit(0);
	}
	close(pfd[1]);
	assert_int_equal(dup2(pfd[0], 0), 0);
	close(pfd[0]);
	int rc = eimg_image_read_file("-", out, err);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	kill(pid, SIGKILL); /* the reader may stop early */
	waitpid(pid, &status, 0);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Files: read_file, atomic write_file                                */

static void test_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/eimg-test-image-XXXXXX", path[300], bad[300];
	eimg_image *img = sample_sgx(), *back = NULL;
	eimg_error err;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.eimg", dir);
	assert_int_equal(eimg_image_write_file(img, 0, path, &err), EIMG_OK);
	assert_int_equal(eimg_image_read_file(path, &back, &err), EIMG_OK);
	assert_images_equal(img, back);
	eimg_image_free(back);
	back = NULL;

	/* reading from standard input (a regular file here) */
	int saved = dup(0), fd = open(path, O_RDONLY);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	assert_int_equal(eimg_image_read_file("-", &back, &err), EIMG_OK);
	assert_images_equal(img, back);
	eimg_image_free(back);
	back = NULL;

	/* standard input as a pipe (not seekable, no size) */
	size_t plen;
	uint8_t *pdata = slurp(path, &plen);
	assert_int_equal(read_via_pipe(pdata, plen, &back, &err), EIMG_OK);
	assert_images_equal(img, back);
	eimg_image_free(back);
	back = NULL;
	/* a hostile stream declaring a 1 GiB member but ending early */
	struct tarb t = { 0 };
	tb_std(&t, HEAD);
	tb_header(&t, "files/big", '0', 1ull << 30, NULL);
	tb_raw(&t, pdata, 3000);
	assert_int_equal(read_via_pipe(t.p, t.len, &back, &err), EIMG_EINVAL);
	assert_null(back);
	assert_string_equal(err.file, "-");
	if (!strstr(err.msg, "member 'files/big': truncated"))
		fail_msg("%s", err.msg);
	/* the same from memory is refused before allocating */
	expect_reject(t.p, t.len, "member 'files/big': truncated archive: 1073741824 bytes declared, at most");
	free(t.p);
	free(pdata);
	assert_int_equal(dup2(saved, 0), 0);
	close(saved);

	/* a file above the archive limit is refused from its size (a sparse file) */
	char huge[300];
	snprintf(huge, sizeof(huge), "%s/huge.eimg", dir);
	fd = open(huge, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)EIMG_IMAGE_MAX_ARCHIVE + 1), 0);
	close(fd);
	assert_int_equal(eimg_image_read_file(huge, &back, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "above the limit"));
	unlink(huge);

	/* trailing garbage is caught by the file reader too */
	snprintf(bad, sizeof(bad), "%s/bad.eimg", dir);
	size_t l;
	uint8_t *d = slurp(path, &l);
	d = realloc(d, l + 512);
	assert_non_null(d);
	memset(d + l, 0, 512);
	d[l + 3] = 'x';
	assert_int_equal(eimg_write_file_atomic(bad, d, l + 512, &err), EIMG_OK);
	assert_int_equal(eimg_image_read_file(bad, &back, &err), EIMG_EINVAL);
	assert_string_equal(err.file, bad);
	assert_non_null(strstr(err.msg, "data after the end of the archive"));
	/* and truncation (the fixture is rewritten: forget it was read) */
	eimg_inputs_reset();
	assert_int_equal(eimg_write_file_atomic(bad, d, l - 700, &err), EIMG_OK);
	assert_int_equal(eimg_image_read_file(bad, &back, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	free(d);

	/* missing file, directory */
	assert_int_equal(eimg_image_read_file("/nonexistent/x.eimg", &back, &err), EIMG_EIO);
	assert_non_null(strstr(err.msg, "cannot open"));
	assert_int_equal(eimg_image_read_file(dir, &back, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "directory"));
	assert_null(back);

	/* atomic write: an invalid image or an unwritable target leaves nothing behind,
	 * and never clobbers an existing file */
	set_text(img, 1, "[]");
	size_t before;
	uint8_t *orig = slurp(path, &before);
	assert_int_equal(eimg_image_write_file(img, 0, path, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "runtime.json"));
	assert_string_equal(err.file, path);
	size_t after;
	uint8_t *now = slurp(path, &after);
	assert_int_equal(before, after);
	assert_memory_equal(orig, now, before);
	free(orig);
	free(now);
	char nodir[400];
	snprintf(nodir, sizeof(nodir), "%s/missing/y.eimg", dir);
	set_text(img, 1, "{}");
	assert_int_equal(eimg_image_write_file(img, 0, nodir, &err), EIMG_EIO);
	/* a full disk in the middle of writing: an error, the old file intact */
	orig = slurp(path, &before);
	static const long long budgets[] = { 0, 10240, 12000 };
	for (size_t i = 0; i < sizeof(budgets) / sizeof(budgets[0]); i++) {
		write_budget = budgets[i];
		int rc = eimg_image_write_file(img, 1, path, &err);
		write_budget = -1;
		assert_int_equal(rc, EIMG_EIO);
		assert_int_equal(err.sys_errno, ENOSPC);
		assert_string_equal(err.file, path);
		now = slurp(path, &after);
		assert_int_equal(before, after);
		assert_memory_equal(orig, now, before);
		free(now);
	}
	free(orig);
	/* only x.eimg and bad.eimg remain: no temporary files */
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 2", dir);
	assert_int_equal(system(cmd), 0);
	unlink(bad);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	eimg_image_free(img);
}

/* ------------------------------------------------------------------ */
/* Writer validation                                                   */

static void expect_write_error(eimg_image *img, int code, const char *want)
{
	eimg_error err;
	uint8_t *buf = NULL;
	size_t len = 0;
	eimg_error_clear(&err);
	int rc = eimg_image_write_buffer(img, 0, &buf, &len, &err);
	if (rc == EIMG_OK)
		fail_msg("written, expected \"%s\"", want);
	assert_int_equal(rc, code);
	assert_null(buf);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

/* An image with the given files (names; each one byte of data). */
static eimg_image *with_files(const char *const *names, size_t n)
{
	eimg_image *img = sample_nitro();
	eimg_error err;
	eimg_image_set_eif(img, NULL);
	eimg_image_set_elf(img, blob_of(pattern(10, 1, 0), 10));
	for (size_t i = 0; i < n; i++)
		assert_int_equal(eimg_image_add_file(img, names[i], blob_of(pattern(1, 1, 0), 1), &err), EIMG_OK);
	return img;
}

static void test_writer_validation(void **state)
{
	(void)state;
	eimg_image *img = sample_sgx();
	eimg_error err;

	assert_int_equal(eimg_image_set_manifest(img, NULL, 0, &err), EIMG_OK);
	expect_write_error(img, EIMG_EUSAGE, "missing member 'manifest.json'");
	set_text(img, 0, "{}");
	assert_int_equal(eimg_image_set_measurement(img, NULL, 0, &err), EIMG_OK);
	expect_write_error(img, EIMG_EUSAGE, "missing member 'measurement.json'");
	set_text(img, 2, "{}");

	eimg_image_set_elf(img, NULL);
	expect_write_error(img, EIMG_EUSAGE, "missing member 'enclave.elf' or 'enclave.eif'");
	eimg_image_set_eif(img, blob_of(pattern(10, 1, 0), 10));
	expect_write_error(img, EIMG_EUSAGE, "only an SGX image");
	eimg_image_set_elf(img, blob_of(pattern(10, 1, 0), 10));
	expect_write_error(img, EIMG_EUSAGE, "both 'enclave.elf' and 'enclave.eif'");
	eimg_image_set_eif(img, NULL);

	uint8_t ss[1809] = { 0 };
	assert_int_equal(eimg_image_set_sigstruct(img, ss, 1807, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "expected 1808"));
	assert_int_equal(eimg_image_set_sigstruct(img, ss, 1809, &err), EIMG_EINVAL);

	assert_int_equal(eimg_image_set_manifest(img, "{\"a\0", 4, &err), EIMG_OK);
	expect_write_error(img, EIMG_EINVAL, "member 'manifest.json': contains a NUL byte at byte offset 3");
	set_text(img, 0, "{\"a\xc0");
	expect_write_error(img, EIMG_EINVAL, "member 'manifest.json': not valid UTF-8 at byte offset 3");
	set_text(img, 0, "{}");
	set_text(img, 1, "{\xed\xa0\x80}"); /* a surrogate */
	expect_write_error(img, EIMG_EINVAL, "member 'runtime.json': not valid UTF-8");
	set_text(img, 1, "{}");
	eimg_image_free(img);

	static const struct { const char *names[2]; const char *want; } bad[] = {
		{ { "a b", NULL }, "member 'files/a b': invalid name" },
		{ { "..", NULL }, "invalid name" },
		{ { "x/y", NULL }, "invalid name" },
		{ { "", NULL }, "invalid name" },
		{ { "zzz", "aaa" }, "not sorted" },
		{ { "aaa", "aaa" }, "duplicate member" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		img = with_files(bad[i].names, bad[i].names[1] ? 2 : 1);
		expect_write_error(img, EIMG_EINVAL, bad[i].want);
		eimg_image_free(img);
	}
	char *n256 = repeat('a', 256);
	const char *one[] = { n256 };
	img = with_files(one, 1);
	expect_write_error(img, EIMG_EINVAL, "invalid name");
	eimg_image_free(img);
	free(n256);

	/* member count */
	char (*lnames)[8] = calloc(EIMG_IMAGE_MAX_MEMBERS, 8);
	const char **lp = calloc(EIMG_IMAGE_MAX_MEMBERS, sizeof(*lp));
	assert_true(lnames && lp);
	for (size_t i = 0; i < EIMG_IMAGE_MAX_MEMBERS; i++) {
		snprintf(lnames[i], 8, "%05zu", i);
		lp[i] = lnames[i];
	}
	img = with_files(lp, EIMG_IMAGE_MAX_MEMBERS - 4);
	expect_write_error(img, EIMG_EINVAL, "above the limit of 2100");
	eimg_image_free(img);
	img = with_files(lp, EIMG_IMAGE_MAX_MEMBERS - 5); /* + 5 required = the limit */
	uint8_t *buf;
	size_t len;
	write_ok(img, 0, &buf, &len);
	eimg_image *back = expect_accept(buf, len);
	assert_int_equal(eimg_image_nfiles(back), EIMG_IMAGE_MAX_MEMBERS - 5);
	assert_int_equal(eimg_image_count(back), EIMG_IMAGE_MAX_MEMBERS);
	eimg_image_free(back);
	eimg_image_free(img);
	free(buf);
	free(lp);
	free(lnames);

	expect_write_error(NULL, EIMG_EUSAGE, "no image");
	eimg_image_free(NULL);
	eimg_blob_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Modes for the independent Python check                              */

static int write_samples(const char *dir)
{
	char p[4096];
	eimg_error err;
	eimg_image *s = sample_sgx(), *n = sample_nitro();
	int rc;
	snprintf(p, sizeof(p), "%s/sample-sgx.eimg", dir);
	rc = eimg_image_write_file(s, SAMPLE_MTIME, p, &err);
	if (!rc) {
		snprintf(p, sizeof(p), "%s/sample-nitro.eimg", dir);
		rc = eimg_image_write_file(n, 0, p, &err);
	}
	if (rc)
		fprintf(stderr, "test_image: %s\n", err.msg);
	eimg_image_free(s);
	eimg_image_free(n);
	return rc ? 1 : 0;
}

static int read_one(const char *path)
{
	eimg_error err;
	eimg_image *img;
	char line[1024];
	struct eimg_image_entry e;
	if (eimg_image_read_file(path, &img, &err)) {
		printf("error: %s\n", eimg_error_format(&err, line, sizeof(line)));
		return 1;
	}
	printf("ok\n");
	for (size_t i = 3; i < eimg_image_count(img); i++)
		if (eimg_image_entry_at(img, i, &e) == EIMG_OK && strcmp(e.path, "measurement.json") != 0)
			printf("%s %llu\n", e.path, (unsigned long long)e.size);
	eimg_image_free(img);
	return 0;
}

/* err may be NULL (error.h): opening an image whose manifest.json does not
 * parse, and bad expected values, fail without touching *err. */
static void test_null_err(void **state)
{
	(void)state;
	eimg_image *img = eimg_image_new();
	eimg_sgx_image *s = NULL;
	struct eimg_expect e;
	assert_non_null(img);
	eimg_image_set_elf(img, blob_of((uint8_t *)strdup("\177ELF"), 4));
	set_text(img, 0, "{\"version\": [\n");
	assert_int_not_equal(eimg_sgx_image_open(img, "x.eimg", &s, NULL), EIMG_OK);
	assert_null(s);
	eimg_image_free(img);
	memset(&e, 0, sizeof(e));
	assert_int_equal(eimg_expect_parse(&e, "mrenclave:zz", "--expect", NULL), EIMG_EINVAL);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--write-samples") == 0)
		return write_samples(argv[2]);
	if (argc == 3 && strcmp(argv[1], "--read") == 0)
		return read_one(argv[2]);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "--flip-sweep") == 0)
		return flip_sweep(argv[argc - 1], argc == 4 && strcmp(argv[2], "--strict") == 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_sgx),
		cmocka_unit_test(test_roundtrip_nitro),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_writer_validation),
		cmocka_unit_test(test_null_err),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
