/* SPDX-License-Identifier: Apache-2.0 */
/* Container-image layers applied to the merged tree: whiteouts, opaque
 * folders, links, and every hostile entry the reader must refuse with the
 * layer and the entry named.  Layers are made here with libarchive's writer
 * (tar, gzip, zstd); the ramdisk is read back with a small newc parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "eimg/hash.h"
#include "eimg/util.h"
#include "nitro/oci_int.h"

struct ent {
	const char *path;
	unsigned type;             /* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR; 0: hard link */
	unsigned mode;
	const char *data;          /* file data, or link target */
	int64_t size;              /* -1: strlen(data) */
};

static uint8_t *make_tar(const struct ent *e, size_t n, int filter, size_t *len)
{
	size_t cap = 1 << 22;
	uint8_t *buf = malloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (filter == 1)
		archive_write_add_filter_gzip(a);
	else if (filter == 2)
		archive_write_add_filter_zstd(a);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
	struct archive_entry *ae = archive_entry_new();
	for (size_t i = 0; i < n; i++) {
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_uid(ae, 1000);
		archive_entry_set_mtime(ae, 1234567890, 0);
		if (e[i].type == 0) {
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e[i].data);
		} else {
			archive_entry_set_filetype(ae, e[i].type);
		}
		archive_entry_set_perm(ae, e[i].mode);
		if (e[i].type == AE_IFLNK)
			archive_entry_set_symlink(ae, e[i].data);
		size_t dl = e[i].type == AE_IFREG && e[i].data ? strlen(e[i].data) : 0;
		archive_entry_set_size(ae, e[i].size >= 0 ? e[i].size : (int64_t)dl);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (dl)
			archive_write_data(a, e[i].data, dl);
	}
	archive_entry_free(ae);
	archive_write_close(a);
	archive_write_free(a);
	return buf;
}

struct src {
	const uint8_t *p;
	size_t n;
};

static int rd(void *ctx, const void **buf, size_t *n, eimg_error *err)
{
	struct src *s = ctx;
	(void)err;
	*buf = s->p;
	*n = s->n;
	s->p += s->n;
	s->n = 0;
	return EIMG_OK;
}

static int apply(eimg_oci_tree *t, unsigned layer, const struct ent *e, size_t n, int filter, eimg_error *err)
{
	size_t len = 0;
	uint8_t *tar = make_tar(e, n, filter, &len);
	struct src s = { tar, len };
	struct eimg_oci_layer_in in = { .name = "layer 7", .index = layer, .raw = rd, .raw_ctx = &s };
	eimg_sha256(tar, len, in.digest);
	in.have_digest = true;
	int rc = eimg_oci_layer_apply(t, &in, err);
	free(tar);
	return rc;
}

/* The ramdisk as "mode name size [data]" lines. */
static char *listing(eimg_oci_tree *t)
{
	struct eimg_newc_mem m = { 0 };
	struct eimg_newc_out o = { eimg_newc_mem_write, &m, 0, NULL };
	eimg_error err;
	assert_int_equal(eimg_oci_tree_write(t, "rootfs", NULL, NULL, 0, 7, &o, &err), EIMG_OK);
	char *out = calloc(1, 1 << 16);
	size_t off = 0, ol = 0;
	while (off + 110 <= m.len) {
		unsigned f[13];
		char tmp[9] = { 0 };
		for (int i = 0; i < 13; i++) {
			memcpy(tmp, m.b + off + 6 + 8 * i, 8);
			f[i] = (unsigned)strtoul(tmp, NULL, 16);
		}
		const char *name = (const char *)m.b + off + 110;
		size_t p = (off + 110 + f[11] + 3) & ~(size_t)3;
		if (strcmp(name, "TRAILER!!!") == 0)
			break;
		assert_int_equal(f[5], 7); /* mtime normalised */
		assert_int_equal(f[2], 0); /* uid */
		ol += (size_t)snprintf(out + ol, (1 << 16) - ol, "%o %s %u %.*s\n", f[1], name, f[4], (int)f[6],
				       (const char *)m.b + p);
		off = (p + f[6] + 3) & ~(size_t)3;
	}
	free(m.b);
	return out;
}

static void test_whiteouts(void **state)
{
	(void)state;
	eimg_error err;
	eimg_oci_tree *t = eimg_oci_tree_new();
	const struct ent l1[] = {
		{ "etc", AE_IFDIR, 0755, NULL, -1 },    { "etc/a", AE_IFREG, 0644, "A", -1 },
		{ "etc/b", AE_IFREG, 0600, "B", -1 },   { "opq/old", AE_IFREG, 0644, "o", -1 },
		{ "opq/d/x", AE_IFREG, 0644, "x", -1 }, { "bin/sh", AE_IFREG, 04755, "sh", -1 },
		{ "bin/ash", 0, 0, "bin/sh", -1 },      { "lib", AE_IFLNK, 0777, "usr/lib", -1 },
	};
	const struct ent l2[] = {
		{ "etc/.wh.a", AE_IFREG, 0644, NULL, -1 }, { "opq/.wh..wh..opq", AE_IFREG, 0644, NULL, -1 },
		{ "opq/new", AE_IFREG, 0644, "n", -1 },    { "./opq/d/y", AE_IFREG, 0644, "y", -1 },
		{ "bin/sh", AE_IFREG, 0755, "new", -1 },
	};
	assert_int_equal(apply(t, 0, l1, 8, 0, &err), EIMG_OK);
	assert_int_equal(apply(t, 1, l2, 5, 1, &err), EIMG_OK);
	char *l = listing(t);
	assert_non_null(strstr(l, "rootfs/etc/b 1 B"));
	assert_null(strstr(l, "rootfs/etc/a"));
	assert_null(strstr(l, "opq/old"));
	assert_null(strstr(l, "opq/d/x"));
	assert_non_null(strstr(l, "100644 rootfs/opq/d/y 1 y"));
	assert_non_null(strstr(l, "100755 rootfs/bin/sh 1 new"));
	assert_non_null(strstr(l, "104755 rootfs/bin/ash 1 sh")); /* the old content, mode kept */
	assert_non_null(strstr(l, "120777 rootfs/lib 1 usr/lib"));
	free(l);
	eimg_oci_tree_free(t);
}

static void test_hard_link_group(void **state)
{
	(void)state;
	eimg_error err;
	eimg_oci_tree *t = eimg_oci_tree_new();
	const struct ent l1[] = { { "a", AE_IFREG, 0644, "data", -1 }, { "b", 0, 0, "a", -1 }, { "c", 0, 0, "b", -1 } };
	assert_int_equal(apply(t, 0, l1, 3, 2, &err), EIMG_OK);
	char *l = listing(t);
	/* One inode, three names, the data with the first. */
	assert_non_null(strstr(l, "100644 rootfs/a 3 data\n100644 rootfs/b 3 \n100644 rootfs/c 3 \n"));
	free(l);
	eimg_oci_tree_free(t);
}

static void refused(const struct ent *e, size_t n, const char *msg)
{
	eimg_error err;
	eimg_oci_tree *t = eimg_oci_tree_new();
	assert_int_equal(apply(t, 0, e, n, 0, &err), EIMG_EINVAL);
	if (!strstr(err.msg, msg) || !strstr(err.msg, "layer 7"))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, msg);
	eimg_oci_tree_free(t);
}

static void test_hostile(void **state)
{
	(void)state;
	const struct ent dotdot[] = { { "a/../../etc/passwd", AE_IFREG, 0644, "x", -1 } };
	refused(dotdot, 1, "entry 'a/../../etc/passwd': a path with '..'");
	const struct ent esc[] = { { "a/l", AE_IFLNK, 0777, "../../x", -1 } };
	refused(esc, 1, "symbolic link leaves the image's root");
	const struct ent dev[] = { { "dev/mem", AE_IFCHR, 0600, NULL, -1 } };
	refused(dev, 1, "device node");
	const struct ent wh[] = { { "a/.wh...", AE_IFREG, 0644, NULL, -1 } };
	refused(wh, 1, "whiteout");
	const struct ent hl[] = { { "a", 0, 0, "../etc/shadow", -1 } };
	refused(hl, 1, "hard link to a path outside");
	const struct ent hl2[] = { { "d", AE_IFDIR, 0755, NULL, -1 }, { "a", 0, 0, "d", -1 } };
	refused(hl2, 2, "not a regular file");
	const struct ent way[] = { { "l", AE_IFLNK, 0777, "/etc", -1 }, { "l/x", AE_IFREG, 0644, "x", -1 } };
	refused(way, 2, "on the way is not a folder");
}

static void test_bomb_and_digest(void **state)
{
	(void)state;
	eimg_error err;
	/* 100 MiB of one letter compress to almost nothing: above 256 x + 64 MiB. */
	size_t big = 100u << 20;
	char *zeros = calloc(1, big + 1);
	memset(zeros, 'a', big);
	const struct ent e[] = { { "z", AE_IFREG, 0644, zeros, -1 } };
	eimg_oci_tree *t = eimg_oci_tree_new();
	assert_int_equal(apply(t, 0, e, 1, 2, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "decompression limit"));
	eimg_oci_tree_free(t);
	free(zeros);
	/* A digest that does not match. */
	const struct ent f[] = { { "a", AE_IFREG, 0644, "x", -1 } };
	size_t len;
	uint8_t *tar = make_tar(f, 1, 0, &len);
	struct src s = { tar, len };
	struct eimg_oci_layer_in in = { .name = "layer 3", .index = 0, .raw = rd, .raw_ctx = &s, .have_digest = true };
	t = eimg_oci_tree_new();
	assert_int_equal(eimg_oci_layer_apply(t, &in, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "layer 3: digest sha256:"));
	eimg_oci_tree_free(t);
	free(tar);
	/* Not a tar at all. */
	struct src g = { (const uint8_t *)"hello, world", 12 };
	struct eimg_oci_layer_in in2 = { .name = "layer 4", .index = 0, .raw = rd, .raw_ctx = &g };
	t = eimg_oci_tree_new();
	assert_int_equal(eimg_oci_layer_apply(t, &in2, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "layer 4"));
	eimg_oci_tree_free(t);
}

/* ---- file data read in place from an uncompressed layer's blob ---- */

static char dir[64];

static void put_file(const char *name, const uint8_t *b, size_t n)
{
	char p[128];
	eimg_error err;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(eimg_write_file_atomic(p, b, n, &err), EIMG_OK);
}

/* An archive holding a long-named member first (pax headers before ours),
 * then the layer as "layer.tar"; filter 1: gzip. */
static void put_store(const char *name, const uint8_t *layer, size_t n, int filter)
{
	size_t cap = n + (1 << 20), len = 0;
	uint8_t *buf = malloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	if (filter)
		archive_write_add_filter_gzip(a);
	assert_int_equal(archive_write_open_memory(a, buf, cap, &len), ARCHIVE_OK);
	struct archive_entry *e = archive_entry_new();
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	const char *names[] = { longname, "./layer.tar" };
	for (int i = 0; i < 2; i++) {
		archive_entry_clear(e);
		archive_entry_set_pathname(e, names[i]);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, i ? (la_int64_t)n : 3);
		assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
		archive_write_data(a, i ? (const void *)layer : "abc", i ? n : 3);
	}
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	put_file(name, buf, len);
	free(buf);
}

/* Applies the layer (as stored in the folder or an archive) through the
 * blob reader, in place where the blob allows it. */
static int bad_digest;
static int apply_blob(eimg_oci_tree *t, unsigned layer, const char *store, bool is_dir, const char *name,
		      const uint8_t *tar, size_t len, eimg_error *err)
{
	char sp[128];
	snprintf(sp, sizeof(sp), "%s/%s", dir, store);
	struct eimg_oci_store st = { sp, is_dir };
	eimg_oci_blob *b = NULL;
	assert_int_equal(eimg_oci_blob_open(&st, name, &b, err), EIMG_OK);
	struct eimg_oci_layer_in in = { .name = "layer 1", .index = layer, .raw = eimg_oci_blob_read, .raw_ctx = b,
					.raw_size = len, .have_digest = true };
	eimg_sha256(tar, len, in.digest);
	if (bad_digest) { /* 1: the manifest's digest is wrong; 2: only a diff ID, wrong */
		in.digest[5] ^= 1;
		memcpy(in.diff_id, in.digest, 32);
		in.have_diff_id = bad_digest == 2;
		in.have_digest = bad_digest == 1;
		in.raw_size = bad_digest == 1 ? len : 0;
	}
	struct eimg_oci_place where;
	if (eimg_oci_blob_place(b, &where))
		in.place = &where;
	int rc = eimg_oci_layer_apply(t, &in, err);
	eimg_oci_blob_close(b);
	return rc;
}

static const struct ent *in_place_layer(char *big, size_t *n)
{
	static char longpath[220], mid[514];
	static struct ent e[8];
	memset(longpath, 'p', sizeof(longpath) - 1);
	memcpy(longpath + 100, "/f", 2);   /* a folder and a file name beyond ustar's 100 bytes */
	memset(mid, 'm', sizeof(mid) - 1);
	const struct ent l[] = {
		{ longpath, AE_IFREG, 0644, "long", -1 }, { "empty", AE_IFREG, 0644, "", -1 },
		{ "one", AE_IFREG, 0600, "1", -1 },        { "mid", AE_IFREG, 0644, mid, -1 },
		{ "big", AE_IFREG, 0755, big, -1 },        { "link", 0, 0, "big", -1 },
		{ "d/x", AE_IFREG, 0644, "x", -1 },        { "s", AE_IFLNK, 0777, "big", -1 },
	};
	memcpy(e, l, sizeof(l));
	*n = 8;
	return e;
}

/* The ramdisk as written, or the write's status. */
static int write_ramdisk(eimg_oci_tree *t, struct eimg_newc_mem *m, eimg_error *err)
{
	struct eimg_newc_out o = { eimg_newc_mem_write, m, 0, NULL };
	memset(m, 0, sizeof(*m));
	return eimg_oci_tree_write(t, "rootfs", NULL, NULL, 0, 7, &o, err);
}

/* Uncompressed layers, in a folder or an uncompressed archive, are not
 * copied to the spool and give the ramdisk the spool gives, byte for byte;
 * compressed ones (the layer or the archive) still go through the spool. */
static void test_in_place(void **state)
{
	(void)state;
	eimg_error err;
	size_t bn = (3u << 20) + 5, n, len[2];
	char *big = malloc(bn + 1);
	for (size_t i = 0; i < bn; i++)
		big[i] = (char)('a' + (i * 7 + i / 4099) % 26);
	big[bn] = '\0';
	const struct ent *e = in_place_layer(big, &n);
	const struct ent l2[] = { { "d/.wh.x", AE_IFREG, 0644, NULL, -1 }, { "one", AE_IFREG, 0644, "2", -1 } };
	struct eimg_newc_mem want, got;
	eimg_oci_tree *t = eimg_oci_tree_new();
	assert_int_equal(apply(t, 0, e, n, 0, &err), EIMG_OK);
	assert_int_equal(apply(t, 1, l2, 2, 0, &err), EIMG_OK);
	assert_int_equal(write_ramdisk(t, &want, &err), EIMG_OK);
	eimg_oci_tree_free(t);
	for (int filter = 0; filter < 2; filter++) {
		uint8_t *tar[2] = { make_tar(e, n, filter, &len[0]), make_tar(l2, 2, filter, &len[1]) };
		for (int k = 0; k < 3; k++) {
			t = eimg_oci_tree_new();
			for (unsigned l = 0; l < 2; l++) {
				char blob[32], store[32];
				snprintf(blob, sizeof(blob), "layer%u.tar", l);
				snprintf(store, sizeof(store), k == 2 ? "store%u.tar.gz" : "store%u.tar", l);
				put_file(blob, tar[l], len[l]);
				put_store(store, tar[l], len[l], k == 2);
				if (apply_blob(t, l, k ? store : ".", k == 0, k ? "layer.tar" : blob, tar[l], len[l], &err))
					fail_msg("layer %u from %s: %s", l, k ? store : blob, err.msg);
			}
			assert_int_equal(eimg_oci_tree_spooled(t) == 0, !filter && k < 2);
			if (write_ramdisk(t, &got, &err))
				fail_msg("store %d, filter %d: %s", k, filter, err.msg);
			assert_int_equal(got.len, want.len);
			assert_memory_equal(got.b, want.b, want.len);
			free(got.b);
			eimg_oci_tree_free(t);
		}
		free(tar[0]);
		free(tar[1]);
	}
	free(want.b);
	free(big);
}

/* A layer of one file, as the folder's "layer.tar". */
static uint8_t *small_layer(size_t *len)
{
	const struct ent f[] = { { "a", AE_IFREG, 0644, "payload", -1 } };
	uint8_t *tar = make_tar(f, 1, 0, len);
	put_file("layer.tar", tar, *len);
	return tar;
}

/* A blob written to after its digest was checked is not read. */
static void test_in_place_changed(void **state)
{
	(void)state;
	eimg_error err;
	size_t len;
	uint8_t *tar = small_layer(&len);
	eimg_oci_tree *t = eimg_oci_tree_new();
	assert_int_equal(apply_blob(t, 0, ".", true, "layer.tar", tar, len, &err), EIMG_OK);
	assert_int_equal(eimg_oci_tree_spooled(t), 0);
	/* The same bytes written again: the content is the same, the file was still written to. */
	char p[128];
	snprintf(p, sizeof(p), "%s/layer.tar", dir);
	int fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	assert_int_equal(pwrite(fd, tar, len, 0), (ssize_t)len);
	close(fd);
	struct eimg_newc_mem m;
	assert_int_equal(write_ramdisk(t, &m, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "changed while the ramdisk was being written"));
	free(m.b);
	eimg_oci_tree_free(t);
	free(tar);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/eimg-ocitree-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A layer read in place has its digests checked while the ramdisk is
 * written: a wrong one fails the write, naming the layer. */
static void test_in_place_digest(void **state)
{
	(void)state;
	eimg_error err;
	size_t len;
	uint8_t *tar = small_layer(&len);
	put_store("store.tar", tar, len, 0);
	const char *msg[] = { "layer 1: digest sha256:", "layer 1: uncompressed digest sha256:" };
	for (int k = 0; k < 4; k++) {
		eimg_oci_tree *t = eimg_oci_tree_new();
		bad_digest = 1 + k % 2;
		assert_int_equal(apply_blob(t, 0, k < 2 ? "." : "store.tar", k < 2, "layer.tar", tar, len, &err), EIMG_OK);
		bad_digest = 0;
		struct eimg_newc_mem m;
		assert_int_equal(write_ramdisk(t, &m, &err), EIMG_EVERIFY);
		if (!strstr(err.msg, msg[k % 2]))
			fail_msg("\"%s\" lacks \"%s\"", err.msg, msg[k % 2]);
		free(m.b);
		eimg_oci_tree_free(t);
	}
	/* Never written: freeing the tree stops the check. */
	eimg_oci_tree *t = eimg_oci_tree_new();
	assert_int_equal(apply_blob(t, 0, ".", true, "layer.tar", tar, len, &err), EIMG_OK);
	eimg_oci_tree_free(t);
	free(tar);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whiteouts),
		cmocka_unit_test(test_hard_link_group),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_bomb_and_digest),
		cmocka_unit_test(test_in_place),
		cmocka_unit_test(test_in_place_digest),
		cmocka_unit_test(test_in_place_changed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
