/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the image reader (core/image_read.c, enclave-image(5)): every
 * rejection rule with the exact malformation it names, the canonical
 * encoding byte for byte (every header field, padding, pax records, the end
 * of the archive), and sizes above 8 GiB through sparse files.
 *
 * Hostile archives are built by a small tar writer written from the man page
 * (image_fixture.c), independent of the library's encoder. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "eimg/image.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "core/image_int.h"

#include "image_fixture.c"

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
	assert_int_equal(eimg_image_nfiles(img), 2);
	const eimg_blob *fb;
	const uint8_t *fp;
	eimg_error err;
	assert_string_equal(eimg_image_file(img, 1, &fb), "b");
	assert_int_equal(eimg_blob_map(fb, &fp, "b", &err), EIMG_OK);
	assert_int_equal(fp[0], 'B');
	assert_int_equal(eimg_image_nkeys(img), 1);
	assert_non_null(eimg_image_sigstruct(img));
	eimg_image_free(img);
	/* a long name through a pax path record, as the format encodes it */
	free(t.p);
	t.p = NULL;
	t.len = 0;
	tb_std(&t, HEAD);
	char rec[300], path[300];
	snprintf(path, sizeof(path), "files/%s", "q23456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789012345");
	snprintf(rec, sizeof(rec), "path=%s", path);
	const char *recs[] = { rec, NULL };
	tb_pax_for(&t, path, recs);
	tb_str(&t, path, "Q");
	tb_str(&t, "measurement.json", "{}\n");
	tb_end(&t);
	img = expect_accept(t.p, t.len);
	assert_int_equal(eimg_image_nfiles(img), 1);
	assert_int_equal(strlen(eimg_image_file(img, 0, NULL)), 105);
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
	run_reject(&t, "member 'files/x/': trailing slash");
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
		{ '1', "EIMAGE", "'files/t': header at offset 4096: field 'typeflag' is '1' (a hard link)" },
		{ '2', "/etc/passwd", "field 'typeflag' is '2' (a symbolic link)" },
		{ '3', NULL, "field 'typeflag' is '3' (a character device)" },
		{ '4', NULL, "field 'typeflag' is '4' (a block device)" },
		{ '5', NULL, "field 'typeflag' is '5' (a directory)" },
		{ '6', NULL, "field 'typeflag' is '6' (a FIFO)" },
		{ 'g', NULL, "field 'typeflag' is 'g' (a pax global header)" },
		{ 'X', NULL, "field 'typeflag' is 'X' (a Solaris extended header)" },
		{ 'L', NULL, "field 'typeflag' is 'L' (a GNU long name)" },
		{ 'K', NULL, "field 'typeflag' is 'K' (a GNU long link name)" },
		{ 'V', NULL, "field 'typeflag' is 'V' (a GNU volume header)" },
		{ 'M', NULL, "field 'typeflag' is 'M' (a GNU multi-volume continuation)" },
		{ 'S', NULL, "field 'typeflag' is 'S' (a GNU sparse file)" },
		{ '\0', NULL, "field 'typeflag' is '\\x00' (an old-style regular file)" },
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
	run_reject(&t, "record 'SCHILY.xattr.user.evil' is not allowed");

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
	run_reject(&t, "member 'files/a': out of order, must come before 'files/b'");
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
	const char *over[] = { "size=68719476737", NULL };
	tb_pax_for(&t, "files/huge", over);
	tb_header(&t, "files/huge", '0', 0, NULL);
	tb_end(&t);
	run_reject(&t, "member 'files/huge': 68719476737 bytes, above the limit of 68719476736");
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
	expect_reject(buf, len - 1024, "truncated archive after member 'sigstruct.bin': a member header at offset");
	expect_reject(buf, len - 512, "truncated archive: the end-of-archive marker");
	expect_reject(buf, len - 1024 - 512, "member 'sigstruct.bin': truncated");
	expect_reject(buf, len - 1024 - 5 * 512, "truncated archive after member 'measurement.json'");
	expect_reject(buf, len - 1024 - 5 * 512 + 100, "truncated archive after member 'measurement.json'");
	expect_reject(buf, 700, "truncated");
	free(buf);
	eimg_image_free(img);
}

static void test_trailing(void **state)
{
	(void)state;
	eimg_image *img = sample_nitro();
	uint8_t *buf, *b2;
	size_t len, l2;
	write_ok(img, 0, &buf, &len);
	size_t padded = (len + 10239) / 10240 * 10240;
	uint8_t *big = calloc(1, 2 * padded + 2 * len);
	assert_non_null(big);
	memcpy(big, buf, len);
	/* the writer does not pad: zero padding to a tar record is not canonical */
	expect_reject(big, padded, "data after the end of the archive (offset");
	expect_reject(big, len + 512, "data after the end of the archive");
	expect_reject(big, len + 1, "data after the end of the archive");
	big[len - 3] = 1; /* inside the end marker */
	expect_reject(big, len, "end-of-archive marker at offset");
	big[len - 3] = 0;
	/* a second archive appended */
	write_ok(img, 0, &b2, &l2);
	memcpy(big + len, b2, l2);
	expect_reject(big, len + l2, "trailing bytes, padding or a second archive");
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
	assert_string_equal(eimg_image_measurement(img, NULL), "{\"x\":\"\xe2\x82\xac\xf0\x9f\x98\x80\"}\n");
	eimg_image_free(img);
	free(t.p);
}

/* ------------------------------------------------------------------ */
/* The canonical encoding, byte for byte                               */

/* Offsets of the header blocks of a written archive (member headers and pax headers). */
static size_t header_offsets(const uint8_t *buf, size_t len, size_t *offs, size_t max)
{
	size_t n = 0;
	for (size_t off = 0; off + 512 <= len && buf[off] && n < max;) {
		offs[n++] = off;
		unsigned long long size = strtoull((const char *)buf + off + 124, NULL, 8);
		off += 512 + (size + 511) / 512 * 512;
	}
	return n;
}

/* Every field of every header altered (checksum fixed): refused, naming the field. */
static void test_canonical_fields(void **state)
{
	(void)state;
	static const struct { unsigned off; uint8_t value; const char *field; } alter[] = {
		{ 5, 'Z', "name" },       { 99, 'Z', "name" },       { 100, '1', "mode" },
		{ 103, '4', "mode" },     { 106, 0, "mode" },        { 108, '1', "uid" },
		{ 116, '7', "gid" },      { 137, '1', "mtime" },     { 147, 0, "mtime" },
		{ 155, 0, "chksum" },     { 157, 'l', "linkname" },  { 256, 'l', "linkname" },
		{ 257, 'U', "magic" },    { 263, '0' + 1, "version" }, { 265, 'r', "uname" },
		{ 297, 'r', "gname" },    { 329, '1', "devmajor" },  { 337, '1', "devminor" },
		{ 344, 'x', "devminor" }, { 345, 'p', "prefix" },    { 499, 'p', "prefix" },
		{ 500, 1, "padding (bytes 500-511)" }, { 511, 0xff, "padding (bytes 500-511)" },
	};
	eimg_image *img = sample_sgx();
	uint8_t *buf;
	size_t len, offs[32], tried = 0;
	write_ok(img, SAMPLE_MTIME, &buf, &len);
	size_t nh = header_offsets(buf, len, offs, 32);
	assert_int_equal(nh, 14);
	uint8_t *copy = malloc(len);
	assert_non_null(copy);
	for (size_t h = 0; h < nh; h++) {
		for (size_t i = 0; i < sizeof(alter) / sizeof(alter[0]); i++) {
			memcpy(copy, buf, len);
			uint8_t *hd = copy + offs[h];
			if (hd[alter[i].off] == alter[i].value || (alter[i].off < 100 && alter[i].off < strnlen((char *)hd, 100)))
				continue; /* no change, or another name (content, not encoding) */
			hd[alter[i].off] = alter[i].value;
			if (strcmp(alter[i].field, "chksum") != 0)
				tb_checksum(hd);
			char want[160];
			snprintf(want, sizeof(want), "at offset %zu: field '%s' (byte %u) differs from the canonical encoding",
				 offs[h], alter[i].field, alter[i].off);
			eimg_error err;
			eimg_image *out = NULL;
			if (eimg_image_read_buffer("bad.eimg", copy, len, &out, &err) == EIMG_OK)
				fail_msg("header %zu byte %u altered but accepted", h, alter[i].off);
			if (!strstr(err.msg, want) && !strstr(err.msg, "differs from the canonical") &&
			    !strstr(err.msg, "member") && !strstr(err.msg, "no ustar header at offset 0"))
				fail_msg("header %zu byte %u: \"%s\"", h, alter[i].off, err.msg);
			/* the first member's mtime is the image's: the next member then differs */
			bool first_mtime = h == 0 && (strcmp(alter[i].field, "mtime") == 0 ||
						      strstr(err.msg, "no ustar header at offset 0"));
			bool path = alter[i].off == 345; /* a prefix makes another member name */
			if (!path && !first_mtime && !strstr(err.msg, want))
				fail_msg("header %zu byte %u: \"%s\" lacks \"%s\"", h, alter[i].off, err.msg, want);
			tried++;
		}
	}
	assert_true(tried > 200);
	/* the first member's mtime sets the image's: another mtime in a later member is refused */
	memcpy(copy, buf, len);
	copy[offs[1] + 146] ^= 1;
	tb_checksum(copy + offs[1]);
	expect_reject(copy, len, "member 'manifest.json': header at offset 1024: field 'mtime' (byte 146)");
	/* a later mtime than the format stores */
	memcpy(copy, buf, len);
	memcpy(copy + 136, "77777777777 ", 12);
	tb_checksum(copy);
	expect_reject(copy, len, "field 'mtime' is after 2038-01-19T03:14:06Z");
	free(copy);
	free(buf);
	eimg_image_free(img);
}

static void test_canonical_padding_and_pax(void **state)
{
	(void)state;
	eimg_image *img = sample_sgx();
	uint8_t *buf;
	size_t len;
	write_ok(img, SAMPLE_MTIME, &buf, &len);
	/* non-zero data padding: after EIMAGE's 16 bytes, and the last byte of a pax block */
	buf[512 + 16] = 1;
	expect_reject(buf, len, "member 'EIMAGE': non-zero padding at offset 528");
	buf[512 + 16] = 0;
	buf[1023] = ' ';
	expect_reject(buf, len, "member 'EIMAGE': non-zero padding at offset 1023");
	buf[1023] = 0;
	free(buf);
	eimg_image_free(img);

	struct tarb t = { 0 };
	static const char *const records[][3] = {
		{ "comment=hello", NULL }, { "SCHILY.xattr.user.x=1", NULL }, { "mtime=1.5", NULL },
		{ "uname=root", NULL }, { "path=files/a", "path=files/a" }, { "GNU.sparse.size=10", NULL },
		{ "LIBARCHIVE.creationtime=1", NULL }, { "size=1", "size=1" },
	};
	for (size_t i = 0; i < sizeof(records) / sizeof(records[0]); i++) {
		tb_std(&t, HEAD);
		tb_pax_for(&t, "files/a", records[i]);
		tb_str(&t, "files/a", "1");
		tb_end(&t);
		run_reject(&t, "is not allowed (only one 'path' and one 'size')");
	}
	/* a pax header where the canonical encoding has none (short path, small size) */
	const char *path[] = { "path=files/a", NULL };
	tb_std(&t, HEAD);
	tb_pax_for(&t, "files/a", path);
	tb_str(&t, "files/a", "1");
	tb_end(&t);
	run_reject(&t, "member 'files/a': header at offset 4096: a pax header where the canonical encoding has none");
	/* a short path split into prefix and name (other writers may): not canonical */
	tb_std(&t, HEAD);
	size_t at = t.len;
	tb_str(&t, "abc", "1");
	memcpy(t.p + at + 345, "files", 5);
	tb_checksum(t.p + at);
	tb_end(&t);
	run_reject(&t, "member 'files/abc': header at offset 4096: field 'name' (byte 0) differs");
	/* malformed records */
	static const char *const junk[] = { "5 a=b\n", "9 path=x", "0 path=x\n", "x path=y\n" };
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		tb_std(&t, HEAD);
		tb_header(&t, "PaxHeader/x", 'x', strlen(junk[i]), NULL);
		tb_raw(&t, junk[i], strlen(junk[i]));
		tb_pad(&t);
		tb_str(&t, "files/a", "1");
		tb_end(&t);
		run_reject(&t, "pax header at offset 4096:");
	}
	/* pax records larger than one block */
	tb_std(&t, HEAD);
	tb_header(&t, "PaxHeader/x", 'x', 513, NULL);
	tb_end(&t);
	run_reject(&t, "records must fit one block");
}

/* A g header before everything (GNU tar and Python's tarfile apply it,
 * libarchive ignores it): refused where it stands. */
static void test_global_header_first(void **state)
{
	(void)state;
	struct tarb t = { 0 };
	const char *rec = "22 path=manifest.json\n";
	tb_header(&t, "pax_global_header", 'g', strlen(rec), NULL);
	tb_raw(&t, rec, strlen(rec));
	tb_pad(&t);
	tb_std(&t, HEAD);
	tb_str(&t, "measurement.json", "{}\n");
	tb_end(&t);
	run_reject(&t, "member #1 'pax_global_header': header at offset 0: field 'typeflag' is 'g' (a pax global header)");
	/* the same after the marker */
	tb_std(&t, P_MAGIC);
	tb_header(&t, "pax_global_header", 'g', strlen(rec), NULL);
	tb_raw(&t, rec, strlen(rec));
	tb_pad(&t);
	tb_end(&t);
	run_reject(&t, "member #2 'pax_global_header': header at offset 1024: field 'typeflag' is 'g'");
	/* not a tar archive at all */
	uint8_t junk[1024];
	memset(junk, 'A', sizeof(junk));
	expect_reject(junk, sizeof(junk), "not an enclave image (no ustar header at offset 0)");
}

/* Sizes of 8 GiB and more: a pax "size" record, in a sparse archive read
 * without touching the data. */
static void test_large_member(void **state)
{
	(void)state;
	const uint64_t big = (9ull << 30) + 5;
	char path[] = "/tmp/eimg-test-large-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	struct tarb t = { 0 };
	tb_std(&t, P_MAGIC | P_MANIFEST | P_RUNTIME);
	const char *rec[] = { "size=9663676421", NULL };
	tb_pax_for(&t, "enclave.eif", rec);
	tb_header(&t, "enclave.eif", '0', 0, NULL);
	/* the writer's headers for this member are the same bytes */
	uint8_t want[1536];
	assert_int_equal(eimg_tar_headers("enclave.eif", big, 0, want), 1536);
	assert_memory_equal(t.p + t.len - 1536, want, 1536);
	assert_int_equal(write(fd, t.p, t.len), (ssize_t)t.len);
	uint64_t data_at = t.len, end = data_at + (big + 511) / 512 * 512;
	free(t.p);
	t.p = NULL;
	t.len = 0;
	tb_str(&t, "measurement.json", "{}\n");
	tb_end(&t);
	assert_int_equal(pwrite(fd, t.p, t.len, (off_t)end), (ssize_t)t.len);
	close(fd);
	free(t.p);
	eimg_image *img = NULL;
	eimg_error err;
	if (eimg_image_read_file(path, &img, &err))
		fail_msg("%s", err.msg);
	const eimg_blob *b = eimg_image_eif(img);
	assert_int_equal(eimg_blob_size(b), big);
	int bfd;
	uint64_t boff;
	assert_int_equal(eimg_blob_fd(b, &bfd, &boff), 0);
	assert_int_equal(boff, data_at);
	struct eimg_image_entry e;
	assert_int_equal(eimg_image_entry_at(img, 3, &e), EIMG_OK);
	assert_string_equal(e.path, "enclave.eif");
	assert_int_equal(e.size, big);
	assert_int_equal(e.role, EIMG_ROLE_MEASURED);
	uint8_t tail[5];
	assert_int_equal(eimg_blob_pread(b, big - 5, tail, 5, "eif", &err), EIMG_OK);
	assert_memory_equal(tail, "\0\0\0\0\0", 5);
	eimg_image_free(img);
	/* one byte short: truncated, from the size alone */
	assert_int_equal(truncate(path, (off_t)(end + t.len - 1)), 0);
	assert_int_equal(eimg_image_read_file(path, &img, &err), EIMG_EINVAL);
	unlink(path);
	/* sizes below 8 GiB need no pax header; from 8 GiB on they do */
	assert_int_equal(eimg_tar_headers("enclave.eif", (8ull << 30) - 1, 0, want), 512);
	assert_int_equal(eimg_tar_headers("enclave.eif", 8ull << 30, 0, want), 1536);
	assert_non_null(memmem(want + 512, 512, "19 size=8589934592\n", 19));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builder_positive_control),
		cmocka_unit_test(test_reject_structure),
		cmocka_unit_test(test_reject_content),
		cmocka_unit_test(test_json_ok),
		cmocka_unit_test(test_member_count_limit),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_canonical_fields),
		cmocka_unit_test(test_canonical_padding_and_pax),
		cmocka_unit_test(test_global_header_first),
		cmocka_unit_test(test_large_member),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
