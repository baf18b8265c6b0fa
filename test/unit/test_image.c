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
#include "eimg/util.h"
#include "core/internal.h"

#define SAMPLE_MTIME 1700000000ull

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

/* ------------------------------------------------------------------ */
/* Sample images (test/py/test_image_format.py knows the same contents) */

static uint8_t *pattern(size_t n, unsigned mul, unsigned add)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * mul + add) & 0xff);
	return p;
}

static char *dupstr(const char *s, size_t *len)
{
	char *d = strdup(s);
	assert_non_null(d);
	if (len)
		*len = strlen(s);
	return d;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void set_member(struct eimg_member *m, char *name, uint8_t *data, size_t size)
{
	m->name = name;
	m->data = data;
	m->size = size;
}

/* Names 94/95/101/255 long exercise the ustar name field, the prefix split
 * and the pax path record. */
static eimg_image *sample_sgx(void)
{
	eimg_image *img = eimg_image_new();
	assert_non_null(img);
	img->manifest_json = dupstr("{\"name\":\"sample\",\"target\":\"sgx\"}\n", &img->manifest_len);
	img->runtime_json = dupstr("{\"env\":{\"A\":\"1\"}}\n", &img->runtime_len);
	img->elf = pattern(3000, 7, 0);
	img->elf_size = 3000;
	img->nfiles = 5;
	img->files = calloc(5, sizeof(struct eimg_member));
	assert_non_null(img->files);
	set_member(&img->files[0], strdup("a.txt"), (uint8_t *)dupstr("hello\n", NULL), 6);
	set_member(&img->files[1], repeat('b', 94), pattern(512, 0, 'x'), 512);
	set_member(&img->files[2], repeat('c', 95), pattern(0, 0, 0), 0);
	set_member(&img->files[3], repeat('d', 101), (uint8_t *)dupstr("d\n", NULL), 2);
	set_member(&img->files[4], repeat('e', 255), pattern(256, 1, 0), 256);
	img->nkeys = 1;
	img->keys = calloc(1, sizeof(struct eimg_member));
	assert_non_null(img->keys);
	set_member(&img->keys[0], strdup("k1.pem"), pattern(91, 3, 1), 91);
	img->measurement_json = dupstr("{\"mrenclave\":\"00\"}\n", &img->measurement_len);
	img->sigstruct = pattern(1808, 13, 5);
	img->sigstruct_size = 1808;
	return img;
}

static eimg_image *sample_nitro(void)
{
	eimg_image *img = eimg_image_new();
	assert_non_null(img);
	img->manifest_json = dupstr("{\"name\":\"n\",\"target\":\"nitro\"}\n", &img->manifest_len);
	img->eif = pattern(1000, 5, 3);
	img->eif_size = 1000;
	img->measurement_json = dupstr("{\"pcr0\":\"ab\"}\n", &img->measurement_len);
	return img; /* runtime_json NULL: written as "{}\n" */
}

static void assert_members_equal(const struct eimg_member *a, size_t na, const struct eimg_member *b,
				 size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++) {
		assert_string_equal(a[i].name, b[i].name);
		assert_int_equal(a[i].size, b[i].size);
		if (a[i].size)
			assert_memory_equal(a[i].data, b[i].data, a[i].size);
	}
}

static void assert_images_equal(const eimg_image *a, const eimg_image *b)
{
	assert_int_equal(a->manifest_len, b->manifest_len);
	assert_memory_equal(a->manifest_json, b->manifest_json, a->manifest_len);
	if (a->runtime_json) {
		assert_int_equal(a->runtime_len, b->runtime_len);
		assert_memory_equal(a->runtime_json, b->runtime_json, a->runtime_len);
	} else {
		assert_string_equal(b->runtime_json, "{}\n");
	}
	assert_int_equal(a->elf != NULL, b->elf != NULL);
	assert_int_equal(a->eif != NULL, b->eif != NULL);
	if (a->elf) {
		assert_int_equal(a->elf_size, b->elf_size);
		assert_memory_equal(a->elf, b->elf, a->elf_size);
	}
	if (a->eif) {
		assert_int_equal(a->eif_size, b->eif_size);
		assert_memory_equal(a->eif, b->eif, a->eif_size);
	}
	assert_members_equal(a->files, a->nfiles, b->files, b->nfiles);
	assert_members_equal(a->keys, a->nkeys, b->keys, b->nkeys);
	assert_int_equal(a->measurement_len, b->measurement_len);
	assert_memory_equal(a->measurement_json, b->measurement_json, a->measurement_len);
	assert_int_equal(a->sigstruct != NULL, b->sigstruct != NULL);
	if (a->sigstruct) {
		assert_int_equal(a->sigstruct_size, b->sigstruct_size);
		assert_memory_equal(a->sigstruct, b->sigstruct, a->sigstruct_size);
	}
	/* JSON members come back NUL-terminated */
	assert_int_equal(b->manifest_json[b->manifest_len], '\0');
	assert_int_equal(b->runtime_json[b->runtime_len], '\0');
	assert_int_equal(b->measurement_json[b->measurement_len], '\0');
}

static void write_ok(const eimg_image *img, uint64_t mtime, uint8_t **buf, size_t *len)
{
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_image_write_buffer(img, mtime, buf, len, &err);
	if (rc)
		fail_msg("write failed: %s", err.msg);
}

/* Reads buf, expecting failure with a message containing want. */
static void expect_reject(const uint8_t *buf, size_t len, const char *want)
{
	eimg_error err;
	eimg_image *img = NULL;
	eimg_error_clear(&err);
	int rc = eimg_image_read_buffer("bad.eimg", buf, len, &img, &err);
	if (rc == EIMG_OK) {
		eimg_image_free(img);
		fail_msg("accepted, expected rejection with \"%s\"", want);
	}
	assert_null(img);
	assert_int_equal(rc, EIMG_EINVAL);
	assert_string_equal(err.file, "bad.eimg");
	assert_null(strchr(err.msg, '\n'));
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

static eimg_image *expect_accept(const uint8_t *buf, size_t len)
{
	eimg_error err;
	eimg_image *img = NULL;
	eimg_error_clear(&err);
	int rc = eimg_image_read_buffer("good.eimg", buf, len, &img, &err);
	if (rc)
		fail_msg("rejected: %s", err.msg);
	assert_non_null(img);
	return img;
}

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
	size_t sizes[] = { 16, img->manifest_len, img->runtime_len, 3000, 6, 512, 0, 2, 256, 91,
			   img->measurement_len, 1808 };
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
	assert_null(back->elf);
	assert_null(back->sigstruct);
	assert_int_equal(back->nfiles, 0);
	assert_int_equal(back->nkeys, 0);
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

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *p;
	eimg_error err;
	if (eimg_read_file(path, 1 << 26, &p, len, &err))
		fail_msg("%s", err.msg);
	eimg_inputs_reset(); /* the test's own reads are not inputs of what it tests */
	return p;
}

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

/* ------------------------------------------------------------------ */
/* A small independent tar writer for hostile archives                 */

struct tarb {
	uint8_t *p;
	size_t len;
};

static void tb_raw(struct tarb *t, const void *d, size_t n)
{
	t->p = realloc(t->p, t->len + n + 1);
	assert_non_null(t->p);
	if (n)
		memcpy(t->p + t->len, d, n);
	t->len += n;
}

static void tb_pad(struct tarb *t)
{
	static const uint8_t z[512];
	if (t->len % 512)
		tb_raw(t, z, 512 - t->len % 512);
}

/* One POSIX ustar header; size is what the header declares. */
static void tb_header(struct tarb *t, const char *name, char type, unsigned long long size, const char *link)
{
	uint8_t h[512];
	memset(h, 0, sizeof(h));
	size_t nl = strlen(name);
	if (nl <= 100) {
		memcpy(h, name, nl);
	} else { /* split at the last '/' that keeps the name part within 100 bytes */
		const char *sl = strchr(name + nl - 101, '/');
		assert_non_null(sl);
		assert_true(sl - name <= 155);
		memcpy(h + 345, name, (size_t)(sl - name));
		memcpy(h, sl + 1, nl - (size_t)(sl - name) - 1);
	}
	snprintf((char *)h + 100, 8, "%07o", 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	char sz[13];
	snprintf(sz, sizeof(sz), "%011llo", size);
	memcpy(h + 124, sz, 11);
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = (uint8_t)type;
	if (link)
		memcpy(h + 157, link, strlen(link));
	memcpy(h + 257, "ustar\0" "00", 8);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	tb_raw(t, h, 512);
}

static void tb_file(struct tarb *t, const char *name, const void *data, size_t n)
{
	tb_header(t, name, '0', n, NULL);
	tb_raw(t, data, n);
	tb_pad(t);
}

static void tb_str(struct tarb *t, const char *name, const char *s)
{
	tb_file(t, name, s, strlen(s));
}

/* A pax extended header with the given records ("key=value" each). */
static void tb_pax(struct tarb *t, const char *const *recs)
{
	char body[4096];
	size_t bl = 0;
	for (size_t i = 0; recs[i]; i++) {
		size_t rl = strlen(recs[i]) + 3; /* " " "\n" + at least one digit */
		size_t total = rl;
		for (;;) { /* the length counts its own digits */
			char digits[24];
			size_t d = (size_t)snprintf(digits, sizeof(digits), "%zu", total);
			if (rl - 1 + d == total)
				break;
			total = rl - 1 + d;
		}
		bl += (size_t)snprintf(body + bl, sizeof(body) - bl, "%zu %s\n", total, recs[i]);
	}
	tb_header(t, "PaxHeader/x", 'x', bl, NULL);
	tb_raw(t, body, bl);
	tb_pad(t);
}

static void tb_end(struct tarb *t)
{
	static const uint8_t z[1024];
	tb_raw(t, z, 1024);
}

static const char sig1808[1808];

enum { P_MAGIC = 1, P_MANIFEST = 2, P_RUNTIME = 4, P_ELF = 8, P_MEAS = 16 };
#define HEAD (P_MAGIC | P_MANIFEST | P_RUNTIME | P_ELF)

static void tb_std(struct tarb *t, unsigned parts)
{
	if (parts & P_MAGIC)
		tb_str(t, "EIMAGE", EIMG_IMAGE_MAGIC);
	if (parts & P_MANIFEST)
		tb_str(t, "manifest.json", "{}\n");
	if (parts & P_RUNTIME)
		tb_str(t, "runtime.json", "{}\n");
	if (parts & P_ELF)
		tb_str(t, "enclave.elf", "\177ELF");
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
	tb_header(&t, "files/big", '0', EIMG_IMAGE_MAX_MEMBER, NULL);
	tb_raw(&t, pdata, 3000);
	assert_int_equal(read_via_pipe(t.p, t.len, &back, &err), EIMG_EINVAL);
	assert_null(back);
	assert_string_equal(err.file, "-");
	assert_non_null(strstr(err.msg, "member 'files/big': truncated"));
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
	free(img->sigstruct);
	img->sigstruct = pattern(100, 1, 1);
	img->sigstruct_size = 100;
	size_t before;
	uint8_t *orig = slurp(path, &before);
	assert_int_equal(eimg_image_write_file(img, 0, path, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "sigstruct.bin"));
	assert_string_equal(err.file, path);
	size_t after;
	uint8_t *now = slurp(path, &after);
	assert_int_equal(before, after);
	assert_memory_equal(orig, now, before);
	free(orig);
	free(now);
	char nodir[400];
	snprintf(nodir, sizeof(nodir), "%s/missing/y.eimg", dir);
	free(img->sigstruct);
	img->sigstruct = NULL;
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

static void test_writer_validation(void **state)
{
	(void)state;
	eimg_image *img = sample_sgx();
	char *s;
	uint8_t *p;

	s = img->manifest_json;
	img->manifest_json = NULL;
	expect_write_error(img, EIMG_EUSAGE, "missing member 'manifest.json'");
	img->manifest_json = s;

	s = img->measurement_json;
	img->measurement_json = NULL;
	expect_write_error(img, EIMG_EUSAGE, "missing member 'measurement.json'");
	img->measurement_json = s;

	p = img->elf;
	img->elf = NULL;
	expect_write_error(img, EIMG_EUSAGE, "missing member 'enclave.elf' or 'enclave.eif'");
	img->eif = p;
	img->eif_size = img->elf_size;
	expect_write_error(img, EIMG_EUSAGE, "only an SGX image");
	img->elf = pattern(10, 1, 0);
	expect_write_error(img, EIMG_EUSAGE, "both 'enclave.elf' and 'enclave.eif'");
	free(img->eif);
	img->eif = NULL;
	img->elf_size = 10;

	img->sigstruct_size = 1807;
	expect_write_error(img, EIMG_EINVAL, "expected 1808");
	img->sigstruct_size = 1808;

	img->manifest_json[3] = '\0';
	expect_write_error(img, EIMG_EINVAL, "member 'manifest.json': contains a NUL byte at byte offset 3");
	img->manifest_json[3] = '\xc0';
	expect_write_error(img, EIMG_EINVAL, "member 'manifest.json': not valid UTF-8 at byte offset 3");
	img->manifest_json[3] = 'a';
	img->runtime_json[1] = '\xed'; /* would start a surrogate */
	expect_write_error(img, EIMG_EINVAL, "member 'runtime.json': not valid UTF-8");
	img->runtime_json[1] = '"';

	char *n = img->files[0].name;
	img->files[0].name = strdup("a b");
	expect_write_error(img, EIMG_EINVAL, "member 'files/a b': invalid name");
	free(img->files[0].name);
	img->files[0].name = strdup("..");
	expect_write_error(img, EIMG_EINVAL, "invalid name");
	free(img->files[0].name);
	img->files[0].name = strdup("x/y");
	expect_write_error(img, EIMG_EINVAL, "invalid name");
	free(img->files[0].name);
	img->files[0].name = repeat('a', 256);
	expect_write_error(img, EIMG_EINVAL, "invalid name");
	free(img->files[0].name);
	img->files[0].name = strdup("");
	expect_write_error(img, EIMG_EINVAL, "invalid name");
	free(img->files[0].name);
	img->files[0].name = strdup("zzz");
	expect_write_error(img, EIMG_EINVAL, "not sorted");
	free(img->files[0].name);
	img->files[0].name = strdup(img->files[1].name);
	expect_write_error(img, EIMG_EINVAL, "duplicate member");
	free(img->files[0].name);
	img->files[0].name = n;

	/* sizes are checked without touching the data: a 1 GiB reservation never faulted in */
	void *big = mmap(NULL, (size_t)EIMG_IMAGE_MAX_MEMBER + 1, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(big != MAP_FAILED);
	struct eimg_member *of = img->files;
	size_t onf = img->nfiles;
	struct eimg_member many[5];
	char names[5][2] = { "a", "b", "c", "d", "e" };
	for (int i = 0; i < 5; i++)
		set_member(&many[i], names[i], big, (size_t)EIMG_IMAGE_MAX_MEMBER);
	img->files = many;
	img->nfiles = 5;
	expect_write_error(img, EIMG_EINVAL, "above the limit of 4294967296");
	many[0].size = (size_t)EIMG_IMAGE_MAX_MEMBER + 1;
	expect_write_error(img, EIMG_EINVAL, "member 'files/a': 1073741825 bytes, above the limit");
	img->files = of;
	img->nfiles = onf;
	munmap(big, (size_t)EIMG_IMAGE_MAX_MEMBER + 1);

	/* member count */
	struct eimg_member *lots = calloc(EIMG_IMAGE_MAX_MEMBERS, sizeof(*lots));
	char (*lnames)[8] = calloc(EIMG_IMAGE_MAX_MEMBERS, 8);
	assert_true(lots && lnames);
	for (size_t i = 0; i < EIMG_IMAGE_MAX_MEMBERS; i++) {
		snprintf(lnames[i], 8, "%05zu", i);
		set_member(&lots[i], lnames[i], NULL, 0);
	}
	img->files = lots;
	img->nfiles = EIMG_IMAGE_MAX_MEMBERS;
	expect_write_error(img, EIMG_EINVAL, "above the limit of 2100");
	img->nfiles = EIMG_IMAGE_MAX_MEMBERS - 7; /* + 5 required + 1 key + sigstruct = the limit */
	uint8_t *buf;
	size_t len;
	write_ok(img, 0, &buf, &len);
	eimg_image *back = expect_accept(buf, len);
	assert_int_equal(back->nfiles, EIMG_IMAGE_MAX_MEMBERS - 7);
	eimg_image_free(back);
	free(buf);
	img->files = of;
	img->nfiles = onf;
	free(lots);
	free(lnames);

	expect_write_error(NULL, EIMG_EUSAGE, "no image");
	eimg_image_free(img);
	eimg_image_free(NULL);
}

static void run_reject(struct tarb *t, const char *want)
{
	expect_reject(t->p, t->len, want);
	free(t->p);
	t->p = NULL;
	t->len = 0;
}

static void test_builder_positive_control(void **state)
{
	(void)state;
	struct tarb t = { 0 };
	tb_std(&t, HEAD);
	tb_str(&t, "files/a", "A");
	tb_str(&t, "files/b", "B");
	tb_str(&t, "keys/k", "K");
	tb_str(&t, "measurement.json", "{}\n");
	tb_file(&t, "sigstruct.bin", sig1808, sizeof(sig1808));
	tb_end(&t);
	eimg_image *img = expect_accept(t.p, t.len);
	assert_int_equal(img->nfiles, 2);
	assert_string_equal(img->files[1].name, "b");
	assert_int_equal(img->files[1].data[0], 'B');
	assert_int_equal(img->nkeys, 1);
	assert_int_equal(img->sigstruct_size, 1808);
	eimg_image_free(img);
	/* a long name through a pax path record (as other writers produce it) */
	free(t.p);
	t.p = NULL;
	t.len = 0;
	tb_std(&t, HEAD);
	char rec[300];
	snprintf(rec, sizeof(rec), "path=files/%s", "q23456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345");
	const char *recs[] = { rec, NULL };
	tb_pax(&t, recs);
	tb_str(&t, "files/truncated-name", "Q");
	tb_str(&t, "measurement.json", "{}\n");
	tb_end(&t);
	img = expect_accept(t.p, t.len);
	assert_int_equal(img->nfiles, 1);
	assert_int_equal(strlen(img->files[0].name), 105);
	eimg_image_free(img);
	free(t.p);
}

static void test_reject_structure(void **state)
{
	(void)state;
	struct tarb t = { 0 };
	char big[300];

	/* first member / marker */
	tb_std(&t, P_MANIFEST | P_RUNTIME | P_ELF);
	tb_str(&t, "measurement.json", "{}\n");
	tb_end(&t);
	run_reject(&t, "not an enclave image: first member is 'manifest.json', expected 'EIMAGE'");
	tb_str(&t, "EIMAGE", "enclave-image 2\n");
	tb_std(&t, P_MANIFEST | P_RUNTIME | P_ELF);
	tb_str(&t, "measurement.json", "{}\n");
	tb_end(&t);
	run_reject(&t, "member 'EIMAGE': format marker \"enclave-image 2\\x0a\", expected");
	tb_str(&t, "EIMAGE", "enclave-image 1");
	tb_end(&t);
	run_reject(&t, "member 'EIMAGE': format marker");
	tb_header(&t, "EIMAGE", '0', 65, NULL);
	tb_end(&t);
	run_reject(&t, "member 'EIMAGE': 65 bytes, above the limit of 64");

	/* paths */
	tb_std(&t, HEAD);
	tb_str(&t, "/etc/passwd", "x");
	tb_end(&t);
	run_reject(&t, "member '/etc/passwd': absolute path");
	tb_std(&t, HEAD);
	tb_str(&t, "files/../x", "x");
	tb_end(&t);
	run_reject(&t, "member 'files/../x': path contains '..'");
	tb_std(&t, HEAD);
	tb_str(&t, "..", "x");
	tb_end(&t);
	run_reject(&t, "member '..': path contains '..'");
	tb_std(&t, HEAD);
	tb_str(&t, "files/./x", "x");
	tb_end(&t);
	run_reject(&t, "member 'files/./x': path contains a '.' component");
	tb_str(&t, "./EIMAGE", EIMG_IMAGE_MAGIC);
	tb_end(&t);
	run_reject(&t, "member './EIMAGE': path contains a '.' component");
	tb_std(&t, HEAD);
	tb_str(&t, "files//x", "x");
	tb_end(&t);
	run_reject(&t, "member 'files//x': empty path component");
	tb_std(&t, HEAD);
	tb_str(&t, "files/x/", "");
	tb_end(&t);
	run_reject(&t, "member 'files/x/': is a directory");
	tb_std(&t, HEAD);
	tb_str(&t, "files/\033[2Jevil", "x");
	tb_end(&t);
	run_reject(&t, "member 'files/\\x1b[2Jevil': invalid name");
	/* a pax path record overrides the (harmless) ustar name */
	tb_std(&t, HEAD);
	const char *dotdot[] = { "path=files/../../etc/shadow", NULL };
	tb_pax(&t, dotdot);
	tb_str(&t, "files/ok", "x");
	tb_end(&t);
	run_reject(&t, "member 'files/../../etc/shadow': path contains '..'");
	/* empty name: a header whose name field is empty */
	tb_std(&t, HEAD);
	tb_str(&t, "", "x");
	tb_end(&t);
	run_reject(&t, "empty name");

	/* entry types */
	static const struct { char type; const char *link; const char *want; } types[] = {
		{ '1', "EIMAGE", "member 'files/t': is a hard link" },
		{ '2', "/etc/passwd", "member 'files/t': is a symbolic link" },
		{ '3', NULL, "member 'files/t': is a character device" },
		{ '4', NULL, "member 'files/t': is a block device" },
		{ '5', NULL, "member 'files/t': is a directory" },
		{ '6', NULL, "member 'files/t': is a FIFO" },
	};
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		tb_std(&t, HEAD);
		tb_header(&t, "files/t", types[i].type, 0, types[i].link);
		tb_str(&t, "measurement.json", "{}\n");
		tb_end(&t);
		run_reject(&t, types[i].want);
	}
	const char *xattr[] = { "SCHILY.xattr.user.evil=1", NULL };
	tb_std(&t, HEAD);
	tb_pax(&t, xattr);
	tb_str(&t, "files/t", "x");
	tb_end(&t);
	run_reject(&t, "member 'files/t': extended attributes are not allowed");

	/* duplicates, unknown, order */
	tb_std(&t, HEAD);
	tb_str(&t, "manifest.json", "{}\n");
	tb_end(&t);
	run_reject(&t, "member 'manifest.json': duplicate member");
	tb_std(&t, HEAD);
	tb_str(&t, "files/a", "1");
	tb_str(&t, "files/a", "2");
	tb_end(&t);
	run_reject(&t, "member 'files/a': duplicate member");
	tb_std(&t, HEAD);
	tb_str(&t, "files/a", "1");
	tb_str(&t, "files/b", "2");
	tb_str(&t, "files/a", "3");
	tb_end(&t);
	run_reject(&t, "member 'files/a': duplicate member");
	tb_std(&t, HEAD);
	tb_str(&t, "EIMAGE", EIMG_IMAGE_MAGIC);
	tb_end(&t);
	run_reject(&t, "member 'EIMAGE': duplicate member");
	tb_std(&t, HEAD);
	tb_str(&t, "extra.txt", "x");
	tb_end(&t);
	run_reject(&t, "member 'extra.txt': unknown member");
	tb_std(&t, HEAD);
	tb_str(&t, "files", "x");
	tb_end(&t);
	run_reject(&t, "member 'files': unknown member");
	tb_std(&t, HEAD);
	tb_str(&t, "files/sub/x", "x");
	tb_end(&t);
	run_reject(&t, "member 'files/sub/x': invalid name");
	tb_std(&t, HEAD);
	tb_str(&t, "keys/..", "x");
	tb_end(&t);
	run_reject(&t, "member 'keys/..': path contains '..'");
	snprintf(big, sizeof(big), "files/%0256d", 0);
	tb_std(&t, HEAD);
	const char *longrec[] = { NULL, NULL };
	char rec[320];
	snprintf(rec, sizeof(rec), "path=%s", big);
	longrec[0] = rec;
	tb_pax(&t, longrec);
	tb_str(&t, "files/x", "x");
	tb_end(&t);
	run_reject(&t, "invalid name");

	tb_std(&t, P_MAGIC);
	tb_str(&t, "runtime.json", "{}\n");
	tb_str(&t, "manifest.json", "{}\n");
	tb_end(&t);
	run_reject(&t, "member 'manifest.json': out of order, must come before 'runtime.json'");
	tb_std(&t, HEAD);
	tb_str(&t, "files/b", "1");
	tb_str(&t, "files/a", "2");
	tb_end(&t);
	run_reject(&t, "member 'files/a': out of order, must come before 'files/b'");
	tb_std(&t, HEAD);
	tb_str(&t, "files/B", "1");
	tb_str(&t, "files/a", "2");
	tb_str(&t, "files/_", "2"); /* bytewise: 'B' < '_' < 'a' */
	tb_end(&t);
	run_reject(&t, "member 'files/_': out of order, must come before 'files/a'");
	tb_std(&t, HEAD);
	tb_str(&t, "keys/k", "1");
	tb_str(&t, "files/a", "2");
	tb_end(&t);
	run_reject(&t, "member 'files/a': out of order, must come before 'keys/k'");
	tb_std(&t, HEAD);
	tb_str(&t, "measurement.json", "{}\n");
	tb_str(&t, "files/a", "2");
	tb_end(&t);
	run_reject(&t, "member 'files/a': out of order, must come before 'measurement.json'");
	tb_std(&t, P_MAGIC | P_MANIFEST | P_RUNTIME);
	tb_str(&t, "measurement.json", "{}\n");
	tb_str(&t, "enclave.elf", "x");
	tb_end(&t);
	run_reject(&t, "member 'enclave.elf': out of order, must come before 'measurement.json'");
	tb_std(&t, HEAD);
	tb_file(&t, "sigstruct.bin", sig1808, sizeof(sig1808));
	tb_str(&t, "measurement.json", "{}\n");
	tb_end(&t);
	run_reject(&t, "member 'measurement.json': out of order, must come before 'sigstruct.bin'");

	/* missing / exclusive */
	tb_std(&t, P_MAGIC | P_MANIFEST | P_ELF);
	tb_str(&t, "measurement.json", "{}\n");
	tb_end(&t);
	run_reject(&t, "missing member 'runtime.json'");
	tb_std(&t, P_MAGIC | P_RUNTIME | P_ELF);
	tb_end(&t);
	run_reject(&t, "missing member 'manifest.json'");
	tb_std(&t, P_MAGIC | P_MANIFEST | P_RUNTIME | P_ELF);
	tb_end(&t);
	run_reject(&t, "missing member 'measurement.json'");
	tb_std(&t, P_MAGIC);
	tb_end(&t);
	run_reject(&t, "missing member 'manifest.json'");
	tb_std(&t, P_MAGIC | P_MANIFEST | P_RUNTIME);
	tb_str(&t, "measurement.json", "{}\n");
	tb_end(&t);
	run_reject(&t, "missing member 'enclave.elf' or 'enclave.eif'");
	tb_std(&t, HEAD);
	tb_str(&t, "enclave.eif", "x");
	tb_end(&t);
	run_reject(&t, "member 'enclave.eif': the image already holds 'enclave.elf'; exactly one");
	tb_std(&t, P_MAGIC | P_MANIFEST | P_RUNTIME);
	tb_str(&t, "enclave.eif", "x");
	tb_str(&t, "enclave.elf", "x");
	tb_end(&t);
	run_reject(&t, "member 'enclave.elf': the image already holds 'enclave.eif'");
	tb_std(&t, P_MAGIC | P_MANIFEST | P_RUNTIME);
	tb_str(&t, "enclave.eif", "x");
	tb_str(&t, "measurement.json", "{}\n");
	tb_file(&t, "sigstruct.bin", sig1808, sizeof(sig1808));
	tb_end(&t);
	run_reject(&t, "member 'sigstruct.bin': only an SGX image");
	tb_std(&t, HEAD);
	tb_str(&t, "measurement.json", "{}\n");
	tb_file(&t, "sigstruct.bin", sig1808, 1807);
	tb_end(&t);
	run_reject(&t, "member 'sigstruct.bin': 1807 bytes, expected 1808");
	tb_std(&t, HEAD);
	tb_str(&t, "measurement.json", "{}\n");
	tb_header(&t, "sigstruct.bin", '0', 1809, NULL);
	tb_end(&t);
	run_reject(&t, "member 'sigstruct.bin': 1809 bytes, expected 1808");
	/* an empty archive */
	tb_end(&t);
	run_reject(&t, "not an enclave image: the archive is empty");
	expect_reject((const uint8_t *)"", 0, "empty input");
	expect_reject((const uint8_t *)"hello world", 11, "not an enclave image");
}

static void test_reject_content(void **state)
{
	(void)state;
	struct tarb t = { 0 };
	/* sizes: declared sizes are refused before any allocation or read (no data follows) */
	tb_std(&t, HEAD);
	tb_header(&t, "files/huge", '0', EIMG_IMAGE_MAX_MEMBER + 1, NULL);
	tb_end(&t);
	run_reject(&t, "member 'files/huge': 1073741825 bytes, above the limit of 1073741824");
	tb_std(&t, P_MAGIC);
	tb_header(&t, "manifest.json", '0', EIMG_IMAGE_MAX_JSON + 1, NULL);
	tb_end(&t);
	run_reject(&t, "member 'manifest.json': 1048577 bytes, above the limit of 1048576");
	const char *hugesize[] = { "size=99999999999999999", NULL };
	tb_std(&t, HEAD);
	tb_pax(&t, hugesize);
	tb_header(&t, "files/z", '0', 0, NULL);
	tb_end(&t);
	run_reject(&t, "above the limit");
	/* JSON */
	tb_std(&t, P_MAGIC);
	tb_file(&t, "manifest.json", "{\"a\":\"\0\"}", 9);
	tb_end(&t);
	run_reject(&t, "member 'manifest.json': contains a NUL byte at byte offset 6");
	tb_std(&t, P_MAGIC | P_MANIFEST);
	tb_str(&t, "runtime.json", "{\"a\":\"\xc3\x28\"}");
	tb_end(&t);
	run_reject(&t, "member 'runtime.json': not valid UTF-8 at byte offset 6");
	tb_std(&t, HEAD);
	tb_str(&t, "measurement.json", "\xe0\x80\xaf"); /* overlong '/' */
	tb_end(&t);
	run_reject(&t, "member 'measurement.json': not valid UTF-8 at byte offset 0");
	tb_std(&t, HEAD);
	tb_str(&t, "measurement.json", "\xf4\x90\x80\x80"); /* above U+10FFFF */
	tb_end(&t);
	run_reject(&t, "not valid UTF-8");
}

static void test_member_count_limit(void **state)
{
	(void)state;
	struct tarb t = { 0 };
	char name[32];
	tb_std(&t, HEAD);
	for (int i = 0; i < EIMG_IMAGE_MAX_MEMBERS - 3; i++) {
		snprintf(name, sizeof(name), "files/%05d", i);
		tb_str(&t, name, "");
	}
	tb_end(&t);
	run_reject(&t, "member 'files/02096': more than 2100 members");
}

/* ------------------------------------------------------------------ */
/* Truncation, trailing data, compression                              */

static void test_truncation(void **state)
{
	(void)state;
	eimg_image *img = sample_sgx();
	uint8_t *buf;
	size_t len;
	write_ok(img, SAMPLE_MTIME, &buf, &len);
	size_t tried = 0;
	for (size_t off = 0; off < len; off += 512) {
		static const size_t deltas[] = { 0, 1, 100, 257, 511 };
		for (size_t d = 0; d < sizeof(deltas) / sizeof(deltas[0]); d++) {
			size_t cut = off + deltas[d];
			if (cut >= len)
				continue;
			uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan catches overreads */
			assert_non_null(copy);
			memcpy(copy, buf, cut);
			eimg_error err;
			eimg_image *out = NULL;
			int rc = eimg_image_read_buffer("cut.eimg", copy, cut, &out, &err);
			if (rc == EIMG_OK)
				fail_msg("truncated to %zu of %zu bytes but accepted", cut, len);
			assert_null(out);
			assert_int_equal(rc, EIMG_EINVAL);
			free(copy);
			tried++;
		}
	}
	assert_true(tried > 100);
	/* cut exactly at the end marker, and inside it */
	expect_reject(buf, len - 1024, "truncated archive: the end-of-archive marker");
	expect_reject(buf, len - 512, "truncated archive: the end-of-archive marker");
	expect_reject(buf, len - 1024 - 512, "member 'sigstruct.bin': truncated");
	expect_reject(buf, len - 1024 - 5 * 512, "truncated archive: the end-of-archive marker");
	expect_reject(buf, len - 1024 - 5 * 512 + 100, "truncated or damaged archive after member 'measurement.json'");
	expect_reject(buf, 700, "truncated");
	free(buf);
	eimg_image_free(img);
}

static void test_trailing(void **state)
{
	(void)state;
	eimg_image *img = sample_nitro(), *back;
	uint8_t *buf, *b2;
	size_t len, l2;
	write_ok(img, 0, &buf, &len);
	size_t padded = (len + 10239) / 10240 * 10240;
	uint8_t *big = calloc(1, 2 * padded + 2 * len);
	assert_non_null(big);
	memcpy(big, buf, len);
	/* zero padding up to the record boundary is accepted (as other tar writers pad) */
	back = expect_accept(big, padded);
	eimg_image_free(back);
	back = expect_accept(big, len + 512);
	eimg_image_free(back);
	expect_reject(big, padded + 512, "bytes of trailing data after the end-of-archive marker");
	expect_reject(big, len + 100, "not a multiple of 512");
	big[len + 5] = 'x';
	expect_reject(big, len + 512, "data after the end of the archive (offset");
	big[len + 5] = 0;
	big[len - 3] = 1; /* inside the end marker */
	expect_reject(big, len, "data after the end of the archive");
	big[len - 3] = 0;
	/* a second archive appended */
	write_ok(img, 0, &b2, &l2);
	memcpy(big + len, b2, l2);
	expect_reject(big, len + l2, "trailing garbage or a second archive");
	/* ... also after record padding */
	memset(big + len, 0, padded - len);
	memcpy(big + padded, b2, l2);
	expect_reject(big, padded + l2, "data after the end of the archive");
	free(b2);
	free(big);
	free(buf);
	eimg_image_free(img);
}

static void test_compressed(void **state)
{
	(void)state;
	eimg_image *img = sample_nitro();
	uint8_t *buf;
	size_t len;
	write_ok(img, 0, &buf, &len);
	/* a real gzip stream of a valid image */
	uLongf zl = compressBound(len) + 64;
	uint8_t *gz = malloc(zl);
	z_stream zs;
	memset(&zs, 0, sizeof(zs));
	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = buf;
	zs.avail_in = (uInt)len;
	zs.next_out = gz;
	zs.avail_out = (uInt)zl;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	size_t gl = zs.total_out;
	deflateEnd(&zs);
	expect_reject(gz, gl, "compressed archive (gzip): an enclave image is an uncompressed tar archive");
	/* through the file reader as well */
	char path[] = "/tmp/eimg-test-gz-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, gz, gl), (ssize_t)gl);
	close(fd);
	eimg_error err;
	eimg_image *out = NULL;
	assert_int_equal(eimg_image_read_file(path, &out, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "compressed archive (gzip)"));
	assert_string_equal(err.file, path);
	unlink(path);
	free(gz);
	static const struct { const char *magic; size_t n; const char *name; } mags[] = {
		{ "\xfd" "7zXZ\0\0\0\0\0\0", 12, "xz" },
		{ "\x28\xb5\x2f\xfd\0\0\0\0\0\0", 10, "zstd" },
		{ "BZh91AY&SY\0\0", 12, "bzip2" },
	};
	for (size_t i = 0; i < sizeof(mags) / sizeof(mags[0]); i++) {
		uint8_t blob[2048];
		memset(blob, 0x5a, sizeof(blob));
		memcpy(blob, mags[i].magic, mags[i].n);
		char want[64];
		snprintf(want, sizeof(want), "compressed archive (%s)", mags[i].name);
		expect_reject(blob, sizeof(blob), want);
	}
	free(buf);
	eimg_image_free(img);
}

static void test_json_ok(void **state)
{
	(void)state;
	struct tarb t = { 0 };
	tb_std(&t, HEAD);
	tb_str(&t, "measurement.json", "{\"x\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}\n");
	tb_end(&t);
	eimg_image *img = expect_accept(t.p, t.len);
	assert_string_equal(img->measurement_json, "{\"x\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}\n");
	eimg_image_free(img);
	free(t.p);
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
	if (eimg_image_read_file(path, &img, &err)) {
		printf("error: %s\n", eimg_error_format(&err, line, sizeof(line)));
		return 1;
	}
	printf("ok\n");
	printf("%s %zu\n", img->elf ? "enclave.elf" : "enclave.eif", img->elf ? img->elf_size : img->eif_size);
	for (size_t i = 0; i < img->nfiles; i++)
		printf("files/%s %zu\n", img->files[i].name, img->files[i].size);
	for (size_t i = 0; i < img->nkeys; i++)
		printf("keys/%s %zu\n", img->keys[i].name, img->keys[i].size);
	if (img->sigstruct)
		printf("sigstruct.bin %zu\n", img->sigstruct_size);
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
	img->elf = malloc(4);
	assert_non_null(img->elf);
	memcpy(img->elf, "\177ELF", 4);
	img->elf_size = 4;
	img->manifest_json = strdup("{\"version\": [\n");
	assert_non_null(img->manifest_json);
	img->manifest_len = strlen(img->manifest_json);
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
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_sgx),
		cmocka_unit_test(test_roundtrip_nitro),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_files),
		cmocka_unit_test(test_writer_validation),
		cmocka_unit_test(test_builder_positive_control),
		cmocka_unit_test(test_reject_structure),
		cmocka_unit_test(test_reject_content),
		cmocka_unit_test(test_json_ok),
		cmocka_unit_test(test_member_count_limit),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_null_err),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
