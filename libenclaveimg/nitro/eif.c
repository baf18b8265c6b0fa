/* SPDX-License-Identifier: Apache-2.0 */
/* The EIF container: strict layout checks, CRC-32 (zlib), writing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eimg/eif.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"

const char *eimg_eif_section_name(unsigned type)
{
	switch (type) {
	case EIMG_EIF_KERNEL: return "kernel";
	case EIMG_EIF_CMDLINE: return "cmdline";
	case EIMG_EIF_RAMDISK: return "ramdisk";
	case EIMG_EIF_SIGNATURE: return "signature";
	case EIMG_EIF_METADATA: return "metadata";
	default: return "invalid";
	}
}

/* Where the bytes come from: memory or a file descriptor. */
struct src {
	const char *name;
	const uint8_t *buf;
	int fd;
	uint64_t size;
	uint64_t base;     /* file offset of byte 0 of the EIF */
};

static int read_at(const struct src *s, uint64_t off, void *out, size_t n, eimg_error *err)
{
	if (off > s->size || n > s->size - off)
		return eimg_err(err, EIMG_EINVAL, s->name, "truncated: %zu bytes at offset %llu are past the end of the file",
				n, (unsigned long long)off);
	if (s->buf) {
		memcpy(out, s->buf + off, n);
		return EIMG_OK;
	}
	uint8_t *p = out;
	while (n > 0) {
		ssize_t r = pread(s->fd, p, n, (off_t)(s->base + off));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return eimg_err_sys(err, s->name, "cannot read");
		}
		if (r == 0)
			return eimg_err(err, EIMG_EINVAL, s->name, "truncated: file shrank while being read");
		p += r;
		off += (uint64_t)r;
		n -= (size_t)r;
	}
	return EIMG_OK;
}

/* The header h: magic, version, flags, defaults, section count, CRC, and
 * the unused table entries zero. */
static int parse_header(const struct src *s, const uint8_t *h, eimg_eif_layout *l, eimg_error *err)
{
	if (memcmp(h, EIMG_EIF_MAGIC, 4) != 0)
		return eimg_err(err, EIMG_EINVAL, s->name, "not an EIF: bad magic %02x %02x %02x %02x (expected \".eif\")",
				h[0], h[1], h[2], h[3]);
	l->version = eimg_get_be16(h + 4);
	if (l->version < EIMG_EIF_MIN_VERSION || l->version > EIMG_EIF_VERSION)
		return eimg_err(err, EIMG_EINVAL, s->name, "unsupported EIF version %u (expected %u to %u)",
				l->version, EIMG_EIF_MIN_VERSION, EIMG_EIF_VERSION);
	l->flags = eimg_get_be16(h + 6);
	if (l->flags & ~EIMG_EIF_FLAG_AARCH64)
		return eimg_err(err, EIMG_EINVAL, s->name, "unknown header flags 0x%04x", l->flags);
	l->default_mem = eimg_get_be64(h + 8);
	l->default_cpus = eimg_get_be64(h + 16);
	unsigned n = eimg_get_be16(h + 26);
	if (n == 0 || n > EIMG_EIF_MAX_SECTIONS)
		return eimg_err(err, EIMG_EINVAL, s->name, "header declares %u sections, expected 1 to %u",
				n, EIMG_EIF_MAX_SECTIONS);
	l->nsections = n;
	l->crc = eimg_get_be32(h + EIMG_EIF_CRC_OFFSET);

	for (unsigned i = n; i < EIMG_EIF_MAX_SECTIONS; i++)
		if (eimg_get_be64(h + 28 + 8 * i) || eimg_get_be64(h + 284 + 8 * i))
			return eimg_err(err, EIMG_EINVAL, s->name,
					"section table entry %u is not zero, but the header declares %u sections", i, n);
	return EIMG_OK;
}

/* The section table alone: every section inside the file, contiguous, in order. */
static int section_table(const struct src *s, const uint8_t *h, eimg_eif_layout *l, eimg_error *err)
{
	uint64_t expect = EIMG_EIF_HEADER_SIZE;
	for (unsigned i = 0; i < l->nsections; i++) {
		uint64_t off = eimg_get_be64(h + 28 + 8 * i);
		uint64_t size = eimg_get_be64(h + 284 + 8 * i);
		uint64_t data, end;
		if (eimg_add_overflow(off, EIMG_EIF_SECTION_HEADER_SIZE, &data) || data > s->size)
			return eimg_err(err, EIMG_EINVAL, s->name,
					"section %u: header at offset %llu is outside the file (%llu bytes)", i,
					(unsigned long long)off, (unsigned long long)s->size);
		if (eimg_add_overflow(data, size, &end) || end > s->size)
			return eimg_err(err, EIMG_EINVAL, s->name,
					"section %u: %llu bytes of data at offset %llu run past the end of the file (%llu bytes)",
					i, (unsigned long long)size, (unsigned long long)data, (unsigned long long)s->size);
		if (off < expect)
			return eimg_err(err, EIMG_EINVAL, s->name,
					i ? "section %u at offset %llu overlaps the previous section (ends at %llu)"
					  : "section %u at offset %llu overlaps the header (ends at %llu)",
					i, (unsigned long long)off, (unsigned long long)expect);
		if (off > expect)
			return eimg_err(err, EIMG_EINVAL, s->name,
					"section %u at offset %llu leaves %llu unaccounted bytes after offset %llu",
					i, (unsigned long long)off, (unsigned long long)(off - expect),
					(unsigned long long)expect);
		l->sections[i].offset = off;
		l->sections[i].size = size;
		expect = end;
	}
	if (expect != s->size)
		return eimg_err(err, EIMG_EINVAL, s->name, "%llu unaccounted bytes after the last section (offset %llu)",
				(unsigned long long)(s->size - expect), (unsigned long long)expect);
	return EIMG_OK;
}

/* Section i's type: where it may stand, how large it may be, how many. */
static int section_type(const struct src *s, eimg_eif_layout *l, unsigned i, eimg_error *err)
{
	const struct eimg_eif_section *sec = &l->sections[i];
	switch (sec->type) {
	case EIMG_EIF_KERNEL:
		if (i != 0)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u is a kernel, expected it first", i);
		if (sec->size == 0)
			return eimg_err(err, EIMG_EINVAL, s->name, "section 0: empty kernel");
		l->kernel = (int)i;
		return EIMG_OK;
	case EIMG_EIF_CMDLINE:
		if (i != 1)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u is a cmdline, expected it second", i);
		if (sec->size > EIMG_EIF_MAX_CMDLINE)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u: cmdline of %llu bytes, above the limit of %u",
					i, (unsigned long long)sec->size, EIMG_EIF_MAX_CMDLINE);
		l->cmdline = (int)i;
		return EIMG_OK;
	case EIMG_EIF_RAMDISK:
		if (i < 2)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u is a ramdisk, expected %s first", i,
					i == 0 ? "the kernel" : "the cmdline");
		l->nramdisks++;
		return EIMG_OK;
	case EIMG_EIF_SIGNATURE:
		if (l->signature >= 0)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u: a second signature section", i);
		if (l->version < 3)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u: signature section in a version %u EIF", i, l->version);
		if (sec->size > EIMG_EIF_MAX_SIGNATURE)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u: signature of %llu bytes, above the limit of %u",
					i, (unsigned long long)sec->size, EIMG_EIF_MAX_SIGNATURE);
		l->signature = (int)i;
		return EIMG_OK;
	case EIMG_EIF_METADATA:
		if (l->metadata >= 0)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u: a second metadata section", i);
		if (l->version < 4)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u: metadata section in a version %u EIF", i, l->version);
		if (sec->size > EIMG_EIF_MAX_METADATA)
			return eimg_err(err, EIMG_EINVAL, s->name, "section %u: metadata of %llu bytes, above the limit of %u",
					i, (unsigned long long)sec->size, EIMG_EIF_MAX_METADATA);
		l->metadata = (int)i;
		return EIMG_OK;
	default:
		return eimg_err(err, EIMG_EINVAL, s->name, "section %u: invalid section type %u", i, sec->type);
	}
}

/* Then each section header: its size as the table says, its type. */
static int section_headers(const struct src *s, eimg_eif_layout *l, eimg_error *err)
{
	uint8_t sh[EIMG_EIF_SECTION_HEADER_SIZE];
	int rc;
	for (unsigned i = 0; i < l->nsections; i++) {
		struct eimg_eif_section *sec = &l->sections[i];
		rc = read_at(s, sec->offset, sh, sizeof(sh), err);
		if (rc)
			return rc;
		sec->type = eimg_get_be16(sh);
		sec->flags = eimg_get_be16(sh + 2);
		uint64_t sz = eimg_get_be64(sh + 4);
		if (sz != sec->size)
			return eimg_err(err, EIMG_EINVAL, s->name,
					"section %u: its header says %llu bytes, the section table %llu", i,
					(unsigned long long)sz, (unsigned long long)sec->size);
		if ((rc = section_type(s, l, i, err)))
			return rc;
	}
	if (l->kernel < 0)
		return eimg_err(err, EIMG_EINVAL, s->name, "no kernel section");
	if (l->cmdline < 0)
		return eimg_err(err, EIMG_EINVAL, s->name, "no cmdline section");
	if (l->nramdisks == 0)
		return eimg_err(err, EIMG_EINVAL, s->name, "no ramdisk section");
	return EIMG_OK;
}

static int read_layout(const struct src *s, eimg_eif_layout *out, eimg_error *err)
{
	uint8_t h[EIMG_EIF_HEADER_SIZE];
	eimg_eif_layout l;
	int rc;

	memset(&l, 0, sizeof(l));
	l.kernel = l.cmdline = l.metadata = l.signature = -1;
	l.file_size = s->size;
	l.base = s->base;
	if (s->size < EIMG_EIF_HEADER_SIZE)
		return eimg_err(err, EIMG_EINVAL, s->name, "truncated: %llu bytes, an EIF header needs %u",
				(unsigned long long)s->size, EIMG_EIF_HEADER_SIZE);
	if (s->size > EIMG_EIF_MAX_FILE)
		return eimg_err(err, EIMG_EINVAL, s->name, "EIF is %llu bytes, above the limit of %llu",
				(unsigned long long)s->size, (unsigned long long)EIMG_EIF_MAX_FILE);
	rc = read_at(s, 0, h, sizeof(h), err);
	if (rc || (rc = parse_header(s, h, &l, err)) || (rc = section_table(s, h, &l, err)) ||
	    (rc = section_headers(s, &l, err)))
		return rc;
	*out = l;
	return EIMG_OK;
}

int eimg_eif_read_layout_buffer(const char *source, const uint8_t *buf, size_t len,
				eimg_eif_layout *out, eimg_error *err)
{
	struct src s = { source ? source : "EIF", buf ? buf : (const uint8_t *)"", -1, buf ? len : 0, 0 };
	return read_layout(&s, out, err);
}

int eimg_eif_read_layout_fd(const char *source, int fd, eimg_eif_layout *out, eimg_error *err)
{
	struct stat st;
	struct src s = { source ? source : "EIF", NULL, fd, 0, 0 };
	if (fstat(fd, &st) < 0)
		return eimg_err_sys(err, s.name, "cannot stat");
	if (!S_ISREG(st.st_mode))
		return eimg_err(err, EIMG_EINVAL, s.name, "not a regular file");
	s.size = (uint64_t)st.st_size;
	return read_layout(&s, out, err);
}

int eimg_eif_read_layout_range(const char *source, int fd, uint64_t base, uint64_t size, eimg_eif_layout *out,
			       eimg_error *err)
{
	struct src s = { source ? source : "EIF", NULL, fd, size, base };
	return read_layout(&s, out, err);
}

uint32_t eimg_eif_crc(const uint8_t *buf, size_t len)
{
	uint32_t c = eimg_crc32(0, buf, EIMG_EIF_CRC_OFFSET);
	return eimg_crc32(c, buf + EIMG_EIF_HEADER_SIZE, len - EIMG_EIF_HEADER_SIZE);
}

/* Checks the reference order: kernel, cmdline, [metadata], ramdisk+, [signature]. */
int eimg_eif_check_order(const struct eimg_eif_part *p, size_t n, eimg_error *err)
{
	size_t i = 0, nram = 0;
	if (n > EIMG_EIF_MAX_SECTIONS)
		return eimg_err(err, EIMG_EINVAL, NULL, "%zu sections, at most %u allowed", n, EIMG_EIF_MAX_SECTIONS);
	if (i < n && p[i].type == EIMG_EIF_KERNEL && p[i].size > 0)
		i++;
	else
		return eimg_err(err, EIMG_EINVAL, NULL, "EIF: the first section must be a non-empty kernel");
	if (i < n && p[i].type == EIMG_EIF_CMDLINE && p[i].size <= EIMG_EIF_MAX_CMDLINE)
		i++;
	else
		return eimg_err(err, EIMG_EINVAL, NULL, "EIF: the second section must be a cmdline of at most %u bytes",
				EIMG_EIF_MAX_CMDLINE);
	if (i < n && p[i].type == EIMG_EIF_METADATA) {
		if (p[i].size > EIMG_EIF_MAX_METADATA)
			return eimg_err(err, EIMG_EINVAL, NULL, "EIF: metadata above %u bytes", EIMG_EIF_MAX_METADATA);
		i++;
	}
	while (i < n && p[i].type == EIMG_EIF_RAMDISK) {
		i++;
		nram++;
	}
	if (nram == 0)
		return eimg_err(err, EIMG_EINVAL, NULL, "EIF: at least one ramdisk is needed after kernel, cmdline and metadata");
	if (i < n && p[i].type == EIMG_EIF_SIGNATURE) {
		if (p[i].size > EIMG_EIF_MAX_SIGNATURE)
			return eimg_err(err, EIMG_EINVAL, NULL, "EIF: signature above %u bytes", EIMG_EIF_MAX_SIGNATURE);
		i++;
	}
	if (i != n)
		return eimg_err(err, EIMG_EINVAL, NULL, "EIF: section %zu (%s) is out of the order kernel, cmdline, "
				"metadata, ramdisks, signature", i, eimg_eif_section_name(p[i].type));
	return EIMG_OK;
}

void eimg_eif_put_header(uint8_t *h, uint16_t flags, uint64_t mem, uint64_t cpus, unsigned n,
		       const uint64_t *offs, const uint64_t *sizes)
{
	memset(h, 0, EIMG_EIF_HEADER_SIZE);
	memcpy(h, EIMG_EIF_MAGIC, 4);
	eimg_be16(h + 4, EIMG_EIF_VERSION);
	eimg_be16(h + 6, flags);
	eimg_be64(h + 8, mem);
	eimg_be64(h + 16, cpus);
	eimg_be16(h + 26, (uint16_t)n);
	for (unsigned i = 0; i < n; i++) {
		eimg_be64(h + 28 + 8 * i, offs[i]);
		eimg_be64(h + 284 + 8 * i, sizes[i]);
	}
}

int eimg_eif_write_buffer(const struct eimg_eif_write_opts *opts, const struct eimg_eif_part *parts,
			  size_t nparts, uint8_t **out, size_t *len, eimg_error *err)
{
	uint64_t offs[EIMG_EIF_MAX_SECTIONS], sizes[EIMG_EIF_MAX_SECTIONS];
	uint64_t total = EIMG_EIF_HEADER_SIZE;
	int rc = eimg_eif_check_order(parts, nparts, err);
	if (rc)
		return rc;
	if (opts->flags & ~EIMG_EIF_FLAG_AARCH64)
		return eimg_err(err, EIMG_EUSAGE, NULL, "EIF: unknown header flags 0x%04x", opts->flags);
	for (size_t i = 0; i < nparts; i++) {
		offs[i] = total;
		sizes[i] = parts[i].size;
		if (eimg_add_overflow(total, EIMG_EIF_SECTION_HEADER_SIZE, &total) ||
		    eimg_add_overflow(total, parts[i].size, &total) || total > EIMG_EIF_MAX_FILE || total > SIZE_MAX)
			return eimg_err(err, EIMG_EINVAL, NULL, "EIF: above the limit of %llu bytes",
					(unsigned long long)EIMG_EIF_MAX_FILE);
	}
	uint8_t *b = malloc((size_t)total);
	if (!b)
		return eimg_err_nomem(err);
	eimg_eif_put_header(b, opts->flags, opts->default_mem, opts->default_cpus, (unsigned)nparts, offs, sizes);
	for (size_t i = 0; i < nparts; i++) {
		uint8_t *sh = b + offs[i];
		eimg_be16(sh, parts[i].type);
		eimg_be16(sh + 2, 0);
		eimg_be64(sh + 4, parts[i].size);
		if (parts[i].size)
			memcpy(sh + EIMG_EIF_SECTION_HEADER_SIZE, parts[i].data, parts[i].size);
	}
	eimg_be32(b + EIMG_EIF_CRC_OFFSET, eimg_eif_crc(b, (size_t)total));
	*out = b;
	*len = (size_t)total;
	return EIMG_OK;
}

int eimg_eif_set_signature(const char *source, const uint8_t *eif, size_t len, const uint8_t *sig,
			   size_t siglen, uint8_t **out, size_t *outlen, eimg_error *err)
{
	eimg_eif_layout l;
	int rc = eimg_eif_read_layout_buffer(source, eif, len, &l, err);
	if (rc)
		return rc;
	if (sig && siglen > EIMG_EIF_MAX_SIGNATURE)
		return eimg_err(err, EIMG_EINVAL, source, "signature section of %zu bytes, above the limit of %u",
				siglen, EIMG_EIF_MAX_SIGNATURE);
	unsigned keep = l.nsections;
	if (l.signature >= 0) {
		if ((unsigned)l.signature != l.nsections - 1)
			return eimg_err(err, EIMG_EINVAL, source, "the signature section is not the last section");
		keep--;
	}
	if (sig && keep >= EIMG_EIF_MAX_SECTIONS)
		return eimg_err(err, EIMG_EINVAL, source, "no room for a signature section (%u sections)", keep);
	uint64_t base = keep < l.nsections ? l.sections[keep].offset : l.file_size;
	uint64_t total = base + (sig ? EIMG_EIF_SECTION_HEADER_SIZE + (uint64_t)siglen : 0);
	if (total > EIMG_EIF_MAX_FILE)
		return eimg_err(err, EIMG_EINVAL, source, "EIF would exceed %llu bytes", (unsigned long long)EIMG_EIF_MAX_FILE);
	uint8_t *b = malloc((size_t)total);
	if (!b)
		return eimg_err_nomem(err);
	memcpy(b, eif, (size_t)base);
	unsigned n = keep;
	if (sig) {
		uint8_t *sh = b + base;
		eimg_be16(sh, EIMG_EIF_SIGNATURE);
		eimg_be16(sh + 2, 0);
		eimg_be64(sh + 4, siglen);
		if (siglen)
			memcpy(sh + EIMG_EIF_SECTION_HEADER_SIZE, sig, siglen);
		eimg_be64(b + 28 + 8 * n, base);
		eimg_be64(b + 284 + 8 * n, siglen);
		n++;
	}
	for (unsigned i = n; i < EIMG_EIF_MAX_SECTIONS; i++) {
		eimg_be64(b + 28 + 8 * i, 0);
		eimg_be64(b + 284 + 8 * i, 0);
	}
	eimg_be16(b + 26, (uint16_t)n);
	/* A version 2 file gains a signature: it becomes version 3 at least. */
	if (sig && l.version < 3)
		eimg_be16(b + 4, 3);
	eimg_be32(b + EIMG_EIF_CRC_OFFSET, eimg_eif_crc(b, (size_t)total));
	*out = b;
	*outlen = (size_t)total;
	return EIMG_OK;
}
