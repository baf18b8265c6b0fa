/* SPDX-License-Identifier: Apache-2.0 */
/* The canonical tar encoding of one image member (enclave-image(5)), used by
 * the writer to produce headers and by the reader to check them byte for byte.
 *
 * A member is one ustar header: mode 0644, uid = gid = 0, no user or group
 * names, typeflag '0', the member's mtime, its size in 11 octal digits.  The
 * path goes into name (up to 100 bytes) or prefix "files"/"keys" + name.  A
 * longer path, or a size of EIMG_IMAGE_PAX_SIZE or more, is preceded by a pax
 * extended header (typeflag 'x') whose one block holds a "path" record, a
 * "size" record, or both in that order; the member header then holds
 * shortened names and, for a pax size, a size field of zero. */
#include <stdio.h>
#include <string.h>

#include "core/image_int.h"

#define B EIMG_TAR_BLOCK
#define OCTAL_MAX 077777777777ull /* 11 octal digits */

static void octal(uint8_t *p, unsigned digits, uint64_t v)
{
	for (unsigned i = digits; i > 0; i--) {
		p[i - 1] = (uint8_t)('0' + (v & 7));
		v >>= 3;
	}
}

static void ustar(uint8_t *h, const char *name, size_t nlen, const char *prefix, size_t plen, uint64_t size,
		  uint64_t mtime, char type)
{
	memset(h, 0, B);
	memcpy(h, name, nlen);
	memcpy(h + 100, "000644 ", 8);
	memcpy(h + 108, "000000 ", 8);
	memcpy(h + 116, "000000 ", 8);
	octal(h + 124, 11, size);
	h[135] = ' ';
	octal(h + 136, 11, mtime);
	h[147] = ' ';
	h[156] = (uint8_t)type;
	memcpy(h + 257, "ustar\0" "00", 8);
	memcpy(h + 329, "000000 ", 8);
	memcpy(h + 337, "000000 ", 8);
	memcpy(h + 345, prefix, plen);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (unsigned i = 0; i < B; i++)
		sum += h[i];
	octal(h + 148, 6, sum);
	h[154] = 0;
	h[155] = ' ';
}

/* "<len> key=value\n" with len counting the whole record. */
static size_t pax_record(char *out, size_t cap, const char *key, const char *value)
{
	size_t body = 1 + strlen(key) + 1 + strlen(value) + 1, n = body + 1;
	for (;;) {
		int digits = snprintf(NULL, 0, "%zu", n);
		if ((size_t)digits + body == n)
			break;
		n = (size_t)digits + body;
	}
	snprintf(out, cap, "%zu %s=%s\n", n, key, value);
	return n;
}

size_t eimg_tar_headers(const char *path, uint64_t size, uint64_t mtime, uint8_t out[3 * B])
{
	size_t len = strlen(path);
	const char *name = path, *prefix = "";
	size_t nlen = len, plen = 0;
	bool long_path = false;
	if (len > 100) {
		const char *slash = strchr(path, '/');
		prefix = path;
		plen = slash ? (size_t)(slash - path) : 0;
		name = slash ? slash + 1 : path;
		nlen = len - (size_t)(name - path);
		if (nlen > 100) {
			long_path = true;
			nlen = 98;
		}
	}
	bool pax_size = size >= EIMG_IMAGE_PAX_SIZE || size > OCTAL_MAX;
	if (!long_path && !pax_size) {
		ustar(out, name, nlen, prefix, plen, size, mtime, '0');
		return B;
	}
	char rec[B];
	size_t rlen = 0;
	if (long_path)
		rlen += pax_record(rec, sizeof(rec), "path", path);
	if (pax_size) {
		char num[24];
		snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
		rlen += pax_record(rec + rlen, sizeof(rec) - rlen, "size", num);
	}
	char pname[100];
	size_t pn = (size_t)snprintf(pname, sizeof(pname), "PaxHeader/%.*s", (int)(nlen < 87 ? nlen : 87), name);
	ustar(out, pname, pn, prefix, plen, rlen, mtime, 'x');
	memset(out + B, 0, B);
	memcpy(out + B, rec, rlen);
	ustar(out + 2 * B, name, nlen, prefix, plen, pax_size ? 0 : size, mtime, '0');
	return 3 * B;
}

const char *eimg_tar_field(unsigned off)
{
	static const struct { unsigned end; const char *name; } f[] = {
		{ 100, "name" }, { 108, "mode" }, { 116, "uid" }, { 124, "gid" }, { 136, "size" },
		{ 148, "mtime" }, { 156, "chksum" }, { 157, "typeflag" }, { 257, "linkname" },
		{ 263, "magic" }, { 265, "version" }, { 297, "uname" }, { 329, "gname" },
		{ 337, "devmajor" }, { 345, "devminor" }, { 500, "prefix" }, { 512, "padding (bytes 500-511)" },
	};
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (off < f[i].end)
			return f[i].name;
	return "?";
}
