/* SPDX-License-Identifier: Apache-2.0 */
/* Reading cpio "newc" ramdisks back, strictly and without libarchive: walking
 * the members of an EIF ramdisk through a read callback (eimg_cpio_walk),
 * finding one member by its canonical path (eimg_cpio_locate, eimg_cpio_find)
 * and checking the way to it (eimg_cpio_check_way).  The writer is cpio.c. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "nitro/nitro_int.h"

static int hex8(const uint8_t *p, uint32_t *v)
{
	uint32_t r = 0;
	for (int i = 0; i < 8; i++) {
		int c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		r = r << 4 | (uint32_t)d;
	}
	*v = r;
	return 0;
}

/* How a cpio name relates to the canonical path, as the kernel's path lookup
 * sees the name: a leading "/" or "./", repeated "/" and "." components do
 * not count. */
enum { NAME_OTHER, NAME_EQUAL, NAME_PREFIX, NAME_DOTDOT };

static int name_vs(const char *name, const char *path)
{
	const char *n = name, *p = path;
	for (const char *q = name; *q; q += strcspn(q, "/"), q += *q == '/') {
		if (q[0] == '.' && q[1] == '.' && (q[2] == '/' || q[2] == '\0'))
			return NAME_DOTDOT;
	}
	for (;;) {
		while (*n == '/')
			n++;
		size_t k = strcspn(n, "/");
		if (k == 1 && n[0] == '.') {
			n++;
			continue;
		}
		if (k == 0) /* the name ends here */
			return *p == '\0' ? NAME_EQUAL : p != path ? NAME_PREFIX : NAME_OTHER;
		size_t m = strcspn(p, "/");
		if (m == 0 || k != m || memcmp(n, p, k) != 0)
			return NAME_OTHER;
		n += k;
		p += m;
		if (*p == '/')
			p++;
	}
}

int eimg_cpio_walk(const char *source, eimg_cpio_read_fn rd, void *ctx, uint64_t len, eimg_cpio_visit_fn visit,
		   void *vctx, eimg_error *err)
{
	uint64_t off = 0;
	char name[EIMG_CPIO_MAX_PATH + 1];
	bool trailer = false;
	for (unsigned count = 0;; count++) {
		uint8_t h[110];
		uint32_t f[13];
		if (trailer) {
			/* The kernel reads on after a trailer: zero padding, then
			 * maybe another archive whose entries count as well. */
			bool more = false;
			while (off < len && !more) {
				uint8_t buf[4096];
				size_t n = len - off < sizeof(buf) ? (size_t)(len - off) : sizeof(buf), i = 0;
				if (rd(ctx, off, buf, n))
					return eimg_err_sys(err, source, "cannot read");
				while (i < n && buf[i] == 0)
					i++;
				off += i;
				more = i < n;
			}
			if (!more)
				break;
			if (off % 4)
				return eimg_err(err, EIMG_EINVAL, source, "ramdisk: misaligned data after a cpio trailer at offset %llu",
						(unsigned long long)off);
			trailer = false;
		}
		if (count > EIMG_CPIO_MAX_ENTRIES)
			return eimg_err(err, EIMG_EINVAL, source, "ramdisk: more than %u cpio entries", EIMG_CPIO_MAX_ENTRIES);
		if (len - off < 110)
			return eimg_err(err, EIMG_EINVAL, source, "ramdisk: truncated cpio header at offset %llu",
					(unsigned long long)off);
		if (rd(ctx, off, h, sizeof(h)))
			return eimg_err_sys(err, source, "cannot read");
		if (memcmp(h, "070701", 6) != 0)
			return eimg_err(err, EIMG_EINVAL, source, "ramdisk: bad cpio header at offset %llu", (unsigned long long)off);
		for (int i = 0; i < 13; i++)
			if (hex8(h + 6 + 8 * i, &f[i]))
				return eimg_err(err, EIMG_EINVAL, source, "ramdisk: bad cpio header at offset %llu",
						(unsigned long long)off);
		struct eimg_cpio_entry e = { .name = name, .mode = f[1], .nlink = f[4], .size = f[6], .offset = off };
		uint32_t nsize = f[11];
		uint64_t name_off = off + 110;
		if (nsize == 0 || nsize > len - name_off)
			return eimg_err(err, EIMG_EINVAL, source, "ramdisk: bad cpio name at offset %llu", (unsigned long long)off);
		e.data_off = (name_off + nsize + 3) & ~(uint64_t)3;
		if (e.data_off > len || e.size > len - e.data_off)
			return eimg_err(err, EIMG_EINVAL, source, "ramdisk: cpio entry at offset %llu runs past the end",
					(unsigned long long)off);
		if (nsize > sizeof(name) || rd(ctx, name_off, name, nsize))
			return eimg_err(err, EIMG_EINVAL, source, "ramdisk: unreadable cpio name at offset %llu",
					(unsigned long long)off);
		if (name[nsize - 1] != '\0' || memchr(name, '\0', nsize - 1))
			return eimg_err(err, EIMG_EINVAL, source, "ramdisk: bad cpio name at offset %llu",
					(unsigned long long)off);
		off = (e.data_off + e.size + 3) & ~(uint64_t)3;
		if (off > len)
			return eimg_err(err, EIMG_EINVAL, source, "ramdisk: cpio entry runs past the end");
		if (strcmp(name, "TRAILER!!!") == 0) {
			trailer = true;
			continue;
		}
		int rc = visit(vctx, &e, err);
		if (rc)
			return rc;
	}
	return EIMG_OK;
}

/* The kernel's initramfs unpacker lets a later entry replace an earlier one
 * (same path in another spelling, a hard link, a symbolic link on the way,
 * also in another archive after the trailer, which the kernel unpacks too),
 * so the file is only "located" when exactly one entry can give it its
 * content. */
struct scan {
	const char *source, *path;
	bool want_file;
	unsigned found;
	uint64_t found_off, found_size;
};

static int scan_visit(void *ctx, const struct eimg_cpio_entry *e, eimg_error *err)
{
	struct scan *s = ctx;
	switch (name_vs(e->name, s->path)) {
	case NAME_EQUAL:
		if (!s->want_file)
			break;
		if (s->found++ || (e->mode & 0170000) != 0100000 || e->nlink > 1)
			return eimg_err(err, EIMG_EINVAL, s->source,
					"ramdisk: \"%s\" is not one regular file (see the entry at offset %llu)", s->path,
					(unsigned long long)e->offset);
		s->found_off = e->data_off;
		s->found_size = e->size;
		break;
	case NAME_PREFIX:
		if ((e->mode & 0170000) != 0040000)
			return eimg_err(err, EIMG_EINVAL, s->source, "ramdisk: a folder on the way to \"%s\" is not a folder",
					s->path);
		break;
	case NAME_DOTDOT:
		return eimg_err(err, EIMG_EINVAL, s->source, "ramdisk: a cpio name with \"..\" makes \"%s\" ambiguous",
				s->path);
	default:
		break;
	}
	return EIMG_OK;
}

static int scan(const char *source, eimg_cpio_read_fn rd, void *ctx, uint64_t len, const char *path, bool want_file,
		uint64_t *data_off, uint64_t *size, eimg_error *err)
{
	struct scan s = { .source = source, .path = path, .want_file = want_file };
	int rc = eimg_cpio_walk(source, rd, ctx, len, scan_visit, &s, err);
	if (rc || !want_file)
		return rc;
	if (!s.found)
		return eimg_err(err, EIMG_EINVAL, source, "ramdisk: no file \"%s\"", path);
	*data_off = s.found_off;
	*size = s.found_size;
	return EIMG_OK;
}

int eimg_cpio_locate(const char *source, eimg_cpio_read_fn rd, void *ctx, uint64_t len, const char *path,
		     uint64_t *data_off, uint64_t *size, eimg_error *err)
{
	return scan(source, rd, ctx, len, path, true, data_off, size, err);
}

int eimg_cpio_check_way(const char *source, eimg_cpio_read_fn rd, void *ctx, uint64_t len, const char *path,
			eimg_error *err)
{
	uint64_t off = 0, size = 0;
	return scan(source, rd, ctx, len, path, false, &off, &size, err);
}

struct memrd {
	const uint8_t *buf;
};

static int mem_read(void *ctx, uint64_t off, void *out, size_t n)
{
	memcpy(out, ((struct memrd *)ctx)->buf + off, n);
	return 0;
}

int eimg_cpio_find(const char *source, const uint8_t *buf, size_t len, const char *path,
		   const uint8_t **data, size_t *size, eimg_error *err)
{
	struct memrd m = { buf };
	uint64_t off = 0, sz = 0;
	int rc = eimg_cpio_locate(source, mem_read, &m, len, path, &off, &sz, err);
	if (rc)
		return rc;
	*data = buf + off;
	*size = (size_t)sz;
	return EIMG_OK;
}
