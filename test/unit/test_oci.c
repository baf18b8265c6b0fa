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
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "eimg/hash.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whiteouts),
		cmocka_unit_test(test_hard_link_group),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_bomb_and_digest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
