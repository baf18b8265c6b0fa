/* SPDX-License-Identifier: Apache-2.0 */
/* Reading an image: a strict reader of the canonical encoding.
 *
 * Format and limits: man/enclave-image.5.  The reader decodes from each
 * header only what determines the canonical encoding (the member path and
 * size, and the image's mtime from the first member), checks the member's
 * place in the image, derives the header blocks the writer would produce for
 * that member (eimg_tar_headers) and compares them byte for byte: anything
 * else is refused with one line naming the member, the offset and the field.
 * Padding must be zero and the archive must end with exactly the two-block
 * end-of-archive marker.
 *
 * From a regular file, only headers, padding and the small members are read:
 * the large members (enclave.elf, enclave.eif, files/) become blobs of the
 * file (which stays open).  From a pipe they are copied into one unlinked
 * temporary file.  No member is ever extracted under its own name. */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/image_int.h"
#include "core/internal.h"

#define B EIMG_TAR_BLOCK
#define MAX_MAGIC_MEMBER 64u     /* declared size limit of the EIMAGE member */
#define COPY_CHUNK 65536u
#define MAX_PATH_BYTES (8 + EIMG_IMAGE_MAX_PATH)
#define END_OF_ARCHIVE (-1)      /* read_header/read_member: the first zero block */

/* The input: a buffer, a regular file (pread) or a pipe (read). */
struct in {
	const char *name;
	const uint8_t *mem;
	bool is_mem;
	struct eimg_file *file;    /* regular file */
	int fd;                    /* pipe, or -1 */
	bool known;                /* length known in advance */
	uint64_t len;
	uint64_t pos;              /* offset of the next byte */
	struct eimg_file *spool;   /* pipe: unlinked temporary file for large members */
	uint64_t spool_len;
};

/* Up to n bytes at pos (fewer only at the end of the input). */
static int in_read(struct in *s, void *buf, size_t n, size_t *got, eimg_error *err)
{
	size_t k = 0;
	if (s->is_mem) {
		k = s->len - s->pos < n ? (size_t)(s->len - s->pos) : n;
		memcpy(buf, s->mem + s->pos, k);
	}
	while (!s->is_mem && k < n) {
		ssize_t r = s->file ? pread(s->file->fd, (uint8_t *)buf + k, n - k, (off_t)(s->pos + k))
				    : read(s->fd, (uint8_t *)buf + k, n - k);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return eimg_err_sys(err, s->name, "cannot read");
		if (r == 0)
			break;
		k += (size_t)r;
	}
	if (s->pos + k > EIMG_IMAGE_MAX_ARCHIVE)
		return eimg_err(err, EIMG_EINVAL, s->name, "archive is above the limit of %llu bytes",
				(unsigned long long)EIMG_IMAGE_MAX_ARCHIVE);
	s->pos += k;
	*got = k;
	return EIMG_OK;
}

static int open_spool(struct in *s, eimg_error *err)
{
	char what[300];
	snprintf(what, sizeof(what), "the image read from '%s'", s->name);
	int fd = eimg_scratch_fd(NULL, what, err);
	if (fd < 0)
		return EIMG_EIO;
	if (!(s->spool = eimg_file_new(fd)))
		return eimg_err_nomem(err);
	return EIMG_OK;
}

/* Copies size bytes of a pipe into the spool. */
static int spool_copy(struct in *s, uint64_t size, const char *esc, eimg_error *err)
{
	uint8_t *buf = malloc(COPY_CHUNK);
	int rc = buf ? EIMG_OK : eimg_err_nomem(err);
	char what[EIMG_ESC + 64];
	snprintf(what, sizeof(what), "cannot write the temporary copy of member '%s'", esc);
	for (uint64_t done = 0; rc == EIMG_OK && done < size;) {
		size_t want = size - done > COPY_CHUNK ? COPY_CHUNK : (size_t)(size - done), got;
		if ((rc = in_read(s, buf, want, &got, err)))
			break;
		if (got < want) {
			rc = eimg_err(err, EIMG_EINVAL, s->name, "member '%s': truncated archive: %llu of %llu bytes present",
				      esc, (unsigned long long)(done + got), (unsigned long long)size);
			break;
		}
		if ((rc = eimg_pwrite_all(s->spool->fd, buf, got, s->spool_len + done, s->name, what, err)))
			break;
		done += got;
	}
	free(buf);
	return rc;
}

/* size bytes of member data at pos as a blob, without copying a file range. */
static int in_take(struct in *s, uint64_t size, const char *esc, eimg_blob **out, eimg_error *err)
{
	eimg_blob *b = NULL;
	int rc;
	if (s->is_mem) {
		b = eimg_blob_from_buffer(s->mem + s->pos, (size_t)size);
		s->pos += size;
	} else if (s->file) {
		b = eimg_blob_from_range(s->file, s->pos, size);
		s->pos += size;
	} else {
		if (!s->spool && (rc = open_spool(s, err)))
			return rc;
		if ((rc = spool_copy(s, size, esc, err)))
			return rc;
		b = eimg_blob_from_range(s->spool, s->spool_len, size);
		s->spool_len += size;
	}
	if (!b)
		return eimg_err_nomem(err);
	*out = b;
	return EIMG_OK;
}

struct reader {
	struct in in;
	const char *src;
	eimg_image *img;
	bool seen[K_COUNT];
	int last_rank;
	char prev[MAX_PATH_BYTES + 1]; /* previous member path (valid, printable) */
	size_t nmembers;
	uint64_t total;
	uint64_t mtime;
};

/* One decoded member header. */
struct header {
	uint64_t at;                   /* offset of its first header block */
	uint8_t raw[3 * B];            /* the header blocks as read */
	size_t rawlen;                 /* 512, or 1536 with a pax header */
	char path[MAX_PATH_BYTES + 1];
	size_t pathlen;
	uint64_t size;
	char esc[EIMG_ESC];            /* path escaped, for messages */
};

static const char *compression_name(const uint8_t *h, size_t n)
{
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return "gzip";
	if (n >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0)
		return "xz";
	if (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0)
		return "zstd";
	if (n >= 3 && memcmp(h, "BZh", 3) == 0)
		return "bzip2";
	if (n >= 4 && memcmp(h, "\x04\x22\x4d\x18", 4) == 0)
		return "lz4";
	if (n >= 2 && h[0] == 0x1f && (h[1] == 0x9d || h[1] == 0xa0))
		return "compress";
	if (n >= 3 && h[0] == 0x5d && h[1] == 0x00 && h[2] == 0x00)
		return "lzma";
	return NULL;
}

static const char *typeflag_name(uint8_t t)
{
	switch (t) {
	case '1': return "a hard link";
	case '2': return "a symbolic link";
	case '3': return "a character device";
	case '4': return "a block device";
	case '5': return "a directory";
	case '6': return "a FIFO";
	case '7': return "a contiguous file";
	case 'g': return "a pax global header";
	case 'X': return "a Solaris extended header";
	case 'L': return "a GNU long name";
	case 'K': return "a GNU long link name";
	case 'V': return "a GNU volume header";
	case 'M': return "a GNU multi-volume continuation";
	case 'S': return "a GNU sparse file";
	case 'D': return "a GNU directory dump";
	case 'N': return "a GNU old long name";
	case 'A': case 'E': case 'I': return "a Solaris or star extension";
	case '\0': return "an old-style regular file";
	default: return "an unknown entry type";
	}
}

/* 11 octal digits and a space (the size and mtime fields); a NUL instead of
 * the space, as other writers end them, decodes too (the canonical check
 * then names the field). */
static bool octal11(const uint8_t *p, uint64_t *v)
{
	uint64_t x = 0;
	for (int i = 0; i < 11; i++) {
		if (p[i] < '0' || p[i] > '7')
			return false;
		x = (x << 3) | (uint64_t)(p[i] - '0');
	}
	*v = x;
	return p[11] == ' ' || p[11] == '\0';
}

static int block(struct reader *r, uint8_t *buf, const char *what, eimg_error *err)
{
	size_t got;
	int rc = in_read(&r->in, buf, B, &got, err);
	if (rc)
		return rc;
	if (got == B)
		return EIMG_OK;
	char pesc[EIMG_ESC];
	if (got == 0 && r->nmembers == 0 && r->in.pos == 0)
		return eimg_err(err, EIMG_EINVAL, r->src, "not an enclave image: empty input");
	if (r->nmembers == 0)
		return eimg_err(err, EIMG_EINVAL, r->src, "not an enclave image: %llu bytes, shorter than one tar header",
				(unsigned long long)r->in.pos);
	return eimg_err(err, EIMG_EINVAL, r->src, "truncated archive after member '%s': %s at offset %llu is incomplete",
			eimg_escape(r->prev, strlen(r->prev), pesc, sizeof(pesc)), what,
			(unsigned long long)(r->in.pos - got));
}

static int typeflag_check(struct reader *r, const uint8_t *h, uint64_t at, bool pax_ok, eimg_error *err)
{
	uint8_t t = h[156];
	if (t == '0' || (t == 'x' && pax_ok))
		return EIMG_OK;
	char nesc[EIMG_ESC], tesc[16];
	eimg_escape((const char *)h, strnlen((const char *)h, 100), nesc, sizeof(nesc));
	eimg_escape((const char *)&t, 1, tesc, sizeof(tesc));
	return eimg_err(err, EIMG_EINVAL, r->src,
			"member #%zu '%s': header at offset %llu: field 'typeflag' is '%s' (%s): only regular files and pax extended headers are allowed",
			r->nmembers + 1, nesc, (unsigned long long)at, tesc, typeflag_name(t));
}

/* One pax record at d[*off]: "<len> key=value\n". */
static int pax_record(struct reader *r, const uint8_t *d, size_t len, size_t *off, struct header *h, int *have,
		      eimg_error *err)
{
	size_t o = *off, n = 0, k = o;
	while (k < len && d[k] >= '0' && d[k] <= '9' && n < 100000)
		n = n * 10 + (size_t)(d[k++] - '0');
	if (k == o || k >= len || d[k] != ' ' || n < 5 || n > len - o || d[o + n - 1] != '\n' || d[o] == '0')
		return eimg_err(err, EIMG_EINVAL, r->src, "member #%zu: pax header at offset %llu: malformed record at byte %zu",
				r->nmembers + 1, (unsigned long long)h->at, o);
	const uint8_t *key = d + k + 1, *end = d + o + n - 1;
	const uint8_t *eq = memchr(key, '=', (size_t)(end - key));
	if (!eq)
		return eimg_err(err, EIMG_EINVAL, r->src, "member #%zu: pax header at offset %llu: malformed record at byte %zu",
				r->nmembers + 1, (unsigned long long)h->at, o);
	size_t klen = (size_t)(eq - key), vlen = (size_t)(end - eq - 1);
	const uint8_t *val = eq + 1;
	int which = klen == 4 && memcmp(key, "path", 4) == 0 ? 1 : klen == 4 && memcmp(key, "size", 4) == 0 ? 2 : 0;
	if (which == 0 || (*have & which)) {
		char kesc[64];
		eimg_escape((const char *)key, klen, kesc, sizeof(kesc));
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member #%zu: pax header at offset %llu: record '%s' is not allowed (only one 'path' and one 'size')",
				r->nmembers + 1, (unsigned long long)h->at, kesc);
	}
	*have |= which;
	if (which == 1) {
		if (vlen == 0 || vlen > MAX_PATH_BYTES)
			return eimg_err(err, EIMG_EINVAL, r->src, "member #%zu: pax header at offset %llu: 'path' of %zu bytes",
					r->nmembers + 1, (unsigned long long)h->at, vlen);
		memcpy(h->path, val, vlen);
		h->path[vlen] = '\0';
		h->pathlen = vlen;
	} else {
		uint64_t v = 0;
		for (size_t i = 0; i < vlen; i++) {
			if (val[i] < '0' || val[i] > '9' || vlen > 19)
				return eimg_err(err, EIMG_EINVAL, r->src, "member #%zu: pax header at offset %llu: bad 'size' record",
						r->nmembers + 1, (unsigned long long)h->at);
			v = v * 10 + (uint64_t)(val[i] - '0');
		}
		h->size = v;
	}
	*off = o + n;
	return EIMG_OK;
}

/* The pax header block at h->raw: its records into h; reads the member header after it. */
static int read_pax(struct reader *r, struct header *h, int *have, eimg_error *err)
{
	uint64_t plen;
	int rc;
	if (!octal11(h->raw + 124, &plen) || plen > B)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member #%zu: pax header at offset %llu: field 'size': records must fit one block",
				r->nmembers + 1, (unsigned long long)h->at);
	if ((rc = block(r, h->raw + B, "a pax header", err)))
		return rc;
	for (size_t off = 0; off < plen;)
		if ((rc = pax_record(r, h->raw + B, (size_t)plen, &off, h, have, err)))
			return rc;
	if ((rc = block(r, h->raw + 2 * B, "a member header", err)) ||
	    (rc = typeflag_check(r, h->raw + 2 * B, h->at + 2 * B, false, err)))
		return rc;
	h->rawlen = 3 * B;
	return EIMG_OK;
}

/* Reads the next header (1 or 3 blocks) and decodes path and size.
 * Returns END_OF_ARCHIVE at the first block of the end-of-archive marker. */
static int read_header(struct reader *r, struct header *h, eimg_error *err)
{
	static const uint8_t zero[B];
	int rc, have = 0;
	memset(h, 0, offsetof(struct header, raw));
	h->at = r->in.pos;
	h->rawlen = B;
	if ((rc = block(r, h->raw, "a member header", err)))
		return rc;
	if (memcmp(h->raw, zero, B) == 0)
		return END_OF_ARCHIVE;
	if (r->nmembers == 0) {
		const char *comp = compression_name(h->raw, B);
		if (comp)
			return eimg_err(err, EIMG_EINVAL, r->src,
					"compressed archive (%s): an enclave image is an uncompressed tar archive", comp);
		if (memcmp(h->raw + 257, "ustar", 5) != 0) /* POSIX or GNU: the field check says which */
			return eimg_err(err, EIMG_EINVAL, r->src, "not an enclave image (no ustar header at offset 0)");
	}
	if ((rc = typeflag_check(r, h->raw, h->at, true, err)))
		return rc;
	if (h->raw[156] == 'x' && (rc = read_pax(r, h, &have, err)))
		return rc;
	const uint8_t *u = h->raw + h->rawlen - B;
	if (!(have & 1)) {
		size_t plen = strnlen((const char *)u + 345, 155), nlen = strnlen((const char *)u, 100);
		h->pathlen = (size_t)snprintf(h->path, sizeof(h->path), "%.*s%s%.*s", (int)plen, u + 345,
					      plen ? "/" : "", (int)nlen, u);
	}
	if (!(have & 2) && !octal11(u + 124, &h->size)) {
		eimg_escape(h->path, h->pathlen, h->esc, sizeof(h->esc));
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': header at offset %llu: field 'size' is not 11 octal digits and a space",
				h->esc, (unsigned long long)(h->at + h->rawlen - B));
	}
	eimg_escape(h->path, h->pathlen, h->esc, sizeof(h->esc));
	return EIMG_OK;
}

/* Syntax of any member path, before we know what it is. */
static int check_path_syntax(struct reader *r, const struct header *h, eimg_error *err)
{
	const char *path = h->path, *esc = h->esc;
	size_t len = h->pathlen;
	if (len == 0)
		return eimg_err(err, EIMG_EINVAL, r->src, "member #%zu: empty name", r->nmembers + 1);
	if (strlen(path) != len)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': name contains a NUL byte", esc);
	if (path[0] == '/')
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': absolute path", esc);
	if (path[len - 1] == '/')
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': trailing slash", esc);
	for (size_t i = 0; i < len;) {
		size_t j = i;
		while (j < len && path[j] != '/')
			j++;
		size_t n = j - i;
		if (n == 0)
			return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': empty path component", esc);
		if (n == 2 && path[i] == '.' && path[i + 1] == '.')
			return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': path contains '..'", esc);
		if (n == 1 && path[i] == '.')
			return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': path contains a '.' component", esc);
		i = j + 1;
	}
	return EIMG_OK;
}

/* Which member this is; *sub points at the name after files/ or keys/. */
static int classify(struct reader *r, const struct header *h, const char **sub, eimg_error *err)
{
	static const enum eimg_kind fixed[] = { K_MAGIC, K_MANIFEST, K_RUNTIME, K_ELF, K_EIF, K_MEASUREMENT,
						K_SIGSTRUCT };
	*sub = NULL;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(h->path, eimg_kind_name[fixed[i]]) == 0)
			return (int)fixed[i];
	for (int k = K_FILE; k <= K_KEY; k++) {
		size_t pl = strlen(eimg_kind_name[k]);
		if (h->pathlen > pl && memcmp(h->path, eimg_kind_name[k], pl) == 0) {
			if (!eimg_image_valid_name(h->path + pl, h->pathlen - pl))
				return -eimg_err(err, EIMG_EINVAL, r->src,
						 "member '%s': invalid name: expected %s followed by 1 to %d of A-Z a-z 0-9 . _ -, not '.' or '..'",
						 h->esc, eimg_kind_name[k], EIMG_IMAGE_MAX_PATH);
			*sub = h->path + pl;
			return k;
		}
	}
	if (r->nmembers == 0)
		return -eimg_err(err, EIMG_EINVAL, r->src,
				 "not an enclave image: first member is '%s', expected 'EIMAGE'", h->esc);
	return -eimg_err(err, EIMG_EINVAL, r->src, "member '%s': unknown member", h->esc);
}

static uint64_t kind_limit(int k)
{
	switch (k) {
	case K_MAGIC: return MAX_MAGIC_MEMBER;
	case K_MANIFEST: case K_RUNTIME: case K_MEASUREMENT: return EIMG_IMAGE_MAX_JSON;
	case K_KEY: return EIMG_IMAGE_MAX_KEY;
	default: return EIMG_IMAGE_MAX_MEMBER;
	}
}

/* Order, duplicates, exclusivity and declared size, all before reading data. */
static int check_place(struct reader *r, int k, const char *sub, const struct header *h, eimg_error *err)
{
	char pesc[EIMG_ESC];
	const char *esc = h->esc;
	if (r->nmembers == 0 && k != K_MAGIC)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"not an enclave image: first member is '%s', expected 'EIMAGE'", esc);
	if ((k != K_FILE && k != K_KEY && r->seen[k]) ||
	    ((k == K_FILE || k == K_KEY) && r->last_rank == eimg_kind_rank[k] &&
	     strcmp(sub, r->prev + strlen(eimg_kind_name[k])) == 0))
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': duplicate member", esc);
	if ((k == K_ELF && r->seen[K_EIF]) || (k == K_EIF && r->seen[K_ELF]))
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member '%s': the image already holds '%s'; exactly one of 'enclave.elf' and 'enclave.eif' is allowed",
				esc, eimg_kind_name[k == K_ELF ? K_EIF : K_ELF]);
	if (eimg_kind_rank[k] < r->last_rank ||
	    (eimg_kind_rank[k] == r->last_rank && (k == K_FILE || k == K_KEY) &&
	     strcmp(sub, r->prev + strlen(eimg_kind_name[k])) < 0))
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': out of order, must come before '%s'",
				esc, eimg_escape(r->prev, strlen(r->prev), pesc, sizeof(pesc)));
	if (k == K_SIGSTRUCT && r->seen[K_EIF])
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member 'sigstruct.bin': only an SGX image (enclave.elf) has one; a Nitro image is signed inside its EIF");
	if (r->nmembers >= EIMG_IMAGE_MAX_MEMBERS)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': more than %u members", esc,
				(unsigned)EIMG_IMAGE_MAX_MEMBERS);
	if (k == K_SIGSTRUCT && h->size != EIMG_SIGSTRUCT_BYTES)
		return eimg_err(err, EIMG_EINVAL, r->src, "member 'sigstruct.bin': %llu bytes, expected %u",
				(unsigned long long)h->size, EIMG_SIGSTRUCT_BYTES);
	if (h->size > kind_limit(k))
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': %llu bytes, above the limit of %llu",
				esc, (unsigned long long)h->size, (unsigned long long)kind_limit(k));
	if (r->total + h->size > EIMG_IMAGE_MAX_TOTAL)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member '%s': members total more than the limit of %llu bytes", esc,
				(unsigned long long)EIMG_IMAGE_MAX_TOTAL);
	uint64_t data_at = r->in.pos;
	if (r->in.known && (data_at > r->in.len || h->size > r->in.len - data_at))
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member '%s': truncated archive: %llu bytes declared, at most %llu present", esc,
				(unsigned long long)h->size,
				(unsigned long long)(r->in.len > data_at ? r->in.len - data_at : 0));
	return EIMG_OK;
}

/* The header blocks as read must be those the writer derives from the member. */
static int check_canonical(struct reader *r, const struct header *h, eimg_error *err)
{
	uint8_t want[3 * B];
	if (r->nmembers == 0) {
		const uint8_t *u = h->raw + h->rawlen - B;
		if (!octal11(u + 136, &r->mtime))
			return eimg_err(err, EIMG_EINVAL, r->src,
					"member '%s': header at offset %llu: field 'mtime' is not 11 octal digits and a space",
					h->esc, (unsigned long long)(h->at + h->rawlen - B));
		if (r->mtime > EIMG_IMAGE_MAX_MTIME)
			return eimg_err(err, EIMG_EINVAL, r->src,
					"member '%s': header at offset %llu: field 'mtime' is after 2038-01-19T03:14:06Z, the latest time the format stores",
					h->esc, (unsigned long long)(h->at + h->rawlen - B));
	}
	size_t wl = eimg_tar_headers(h->path, h->size, r->mtime, want);
	if (wl != h->rawlen)
		return eimg_err(err, EIMG_EINVAL, r->src,
				wl > h->rawlen ? "member '%s': header at offset %llu: the canonical encoding of this member has a pax header"
					       : "member '%s': header at offset %llu: a pax header where the canonical encoding has none",
				h->esc, (unsigned long long)h->at);
	/* Fields first, the checksum last: an altered field with a fixed checksum
	 * is reported by the field's name. */
	for (size_t k = 0; k < 2 * wl; k++) {
		size_t i = k % wl;
		bool sum = (i % B) >= 148 && (i % B) < 156 && (wl == B || i / B != 1);
		if ((k < wl) == sum || want[i] == h->raw[i])
			continue;
		unsigned blk = (unsigned)(i / B), off = (unsigned)(i % B);
		const char *what = wl == B || blk == 2 ? "header" : blk == 0 ? "pax header" : "pax records";
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member '%s': %s at offset %llu: field '%s' (byte %u) differs from the canonical encoding",
				h->esc, what, (unsigned long long)(h->at + blk * B), blk == 1 ? "records" : eimg_tar_field(off),
				off);
	}
	return EIMG_OK;
}

static int read_small(struct reader *r, const struct header *h, uint8_t **out, eimg_error *err)
{
	size_t got;
	uint8_t *buf = malloc((size_t)h->size + 1);
	if (!buf)
		return eimg_err_nomem(err);
	int rc = in_read(&r->in, buf, (size_t)h->size, &got, err);
	if (rc == EIMG_OK && got < h->size)
		rc = eimg_err(err, EIMG_EINVAL, r->src, "member '%s': truncated archive: %zu of %llu bytes present",
			      h->esc, got, (unsigned long long)h->size);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[h->size] = '\0';
	*out = buf;
	return EIMG_OK;
}

static int check_padding(struct reader *r, const struct header *h, eimg_error *err)
{
	uint8_t pad[B];
	size_t n = (size_t)((B - h->size % B) % B), got;
	uint64_t at = r->in.pos;
	int rc = in_read(&r->in, pad, n, &got, err);
	if (rc)
		return rc;
	if (got < n)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': truncated archive: padding at offset %llu is incomplete",
				h->esc, (unsigned long long)at);
	for (size_t i = 0; i < n; i++)
		if (pad[i])
			return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': non-zero padding at offset %llu", h->esc,
					(unsigned long long)(at + i));
	return EIMG_OK;
}

static char **text_slot(eimg_image *img, int k, size_t **len)
{
	*len = k == K_MANIFEST ? &img->manifest_len : k == K_RUNTIME ? &img->runtime_len : &img->measurement_len;
	return k == K_MANIFEST ? &img->manifest : k == K_RUNTIME ? &img->runtime : &img->measurement;
}

/* The member's data into the image. */
static int take_data(struct reader *r, int k, const char *sub, const struct header *h, eimg_error *err)
{
	eimg_image *img = r->img;
	uint8_t *data = NULL;
	eimg_blob *b = NULL;
	size_t *lenp;
	int rc;
	if (k == K_ELF || k == K_EIF || k == K_FILE) {
		if ((rc = in_take(&r->in, h->size, h->esc, &b, err)))
			return rc;
		if (k == K_FILE)
			return eimg_image_list_add(&img->files, sub, b, err);
		eimg_image_set_elf(img, k == K_ELF ? b : img->elf);
		eimg_image_set_eif(img, k == K_EIF ? b : img->eif);
		return EIMG_OK;
	}
	if ((rc = read_small(r, h, &data, err)))
		return rc;
	switch (k) {
	case K_MAGIC:
		if (h->size != EIMG_MAGIC_LEN || memcmp(data, EIMG_IMAGE_MAGIC, EIMG_MAGIC_LEN) != 0) {
			char cesc[64];
			eimg_escape((const char *)data, (size_t)h->size, cesc, sizeof(cesc));
			rc = eimg_err(err, EIMG_EINVAL, r->src,
				      "member 'EIMAGE': format marker \"%s\", expected \"enclave-image 1\\n\" (not an enclave image, or an unsupported version)",
				      cesc);
		}
		free(data);
		img->mtime = r->mtime;
		return rc;
	case K_KEY:
		return eimg_image_list_add(&img->keys, sub, eimg_blob_take_buffer(data, (size_t)h->size), err);
	case K_SIGSTRUCT:
		img->sigstruct = data;
		return EIMG_OK;
	default:
		if ((rc = eimg_image_check_json(r->src, eimg_kind_name[k], data, (size_t)h->size, err))) {
			free(data);
			return rc;
		}
		char **slot = text_slot(img, k, &lenp);
		free(*slot);
		*slot = (char *)data;
		*lenp = (size_t)h->size;
		return EIMG_OK;
	}
}

/* One member: all checks, then its data into the image; END_OF_ARCHIVE at the end. */
static int read_member(struct reader *r, eimg_error *err)
{
	struct header h;
	const char *sub;
	int rc, k;
	if ((rc = read_header(r, &h, err)))
		return rc;
	if ((rc = check_path_syntax(r, &h, err)))
		return rc;
	if ((k = classify(r, &h, &sub, err)) < 0)
		return -k;
	if ((rc = check_place(r, k, sub, &h, err)) || (rc = check_canonical(r, &h, err)) ||
	    (rc = take_data(r, k, sub, &h, err)) || (rc = check_padding(r, &h, err)))
		return rc;
	r->seen[k] = true;
	r->last_rank = eimg_kind_rank[k];
	snprintf(r->prev, sizeof(r->prev), "%s", h.path);
	r->nmembers++;
	r->total += h.size;
	return EIMG_OK;
}

/* After the first zero block at eoa: exactly one more, then the end of the input. */
static int check_tail(struct reader *r, uint64_t eoa, eimg_error *err)
{
	static const uint8_t zero[B];
	uint8_t buf[B];
	size_t got;
	int rc = in_read(&r->in, buf, B, &got, err);
	if (rc)
		return rc;
	if (got < B)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"truncated archive: the end-of-archive marker (two zero blocks) at offset %llu is incomplete",
				(unsigned long long)eoa);
	if (memcmp(buf, zero, B) != 0)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"end-of-archive marker at offset %llu: its second block is not zero (a member after a zero block?)",
				(unsigned long long)eoa);
	if ((rc = in_read(&r->in, buf, 1, &got, err)))
		return rc;
	if (got)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"data after the end of the archive (offset %llu): trailing bytes, padding or a second archive",
				(unsigned long long)(eoa + 2 * B));
	static const enum eimg_kind req[] = { K_MAGIC, K_MANIFEST, K_RUNTIME, K_MEASUREMENT };
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!r->seen[req[i]])
			return eimg_err(err, EIMG_EINVAL, r->src, "missing member '%s'", eimg_kind_name[req[i]]);
	if (!r->seen[K_ELF] && !r->seen[K_EIF])
		return eimg_err(err, EIMG_EINVAL, r->src, "missing member 'enclave.elf' or 'enclave.eif'");
	return EIMG_OK;
}

static int read_archive(struct reader *r, eimg_image **out, eimg_error *err)
{
	int rc;
	r->last_rank = -1;
	if (!(r->img = eimg_image_new()))
		return eimg_err_nomem(err);
	for (;;) {
		uint64_t at = r->in.pos;
		rc = read_member(r, err);
		if (rc == END_OF_ARCHIVE) {
			if (r->nmembers == 0) {
				rc = eimg_err(err, EIMG_EINVAL, r->src, "not an enclave image: the archive is empty");
				break;
			}
			if ((rc = check_tail(r, at, err)) == EIMG_OK) {
				*out = r->img;
				r->img = NULL;
			}
			break;
		}
		if (rc)
			break;
	}
	eimg_image_free(r->img);
	eimg_file_unref(r->in.spool);
	return rc;
}

int eimg_image_read_buffer(const char *source, const uint8_t *buf, size_t len, eimg_image **out,
			   eimg_error *err)
{
	struct reader r;
	if (!source)
		source = "<memory>";
	if (!buf && len)
		return eimg_err(err, EIMG_EUSAGE, source, "no buffer");
	if ((uint64_t)len > EIMG_IMAGE_MAX_ARCHIVE)
		return eimg_err(err, EIMG_EINVAL, source, "archive is %zu bytes, above the limit of %llu", len,
				(unsigned long long)EIMG_IMAGE_MAX_ARCHIVE);
	memset(&r, 0, sizeof(r));
	r.src = r.in.name = source;
	r.in.mem = buf ? buf : (const uint8_t *)"";
	r.in.is_mem = r.in.known = true;
	r.in.len = len;
	r.in.fd = -1;
	return read_archive(&r, out, err);
}

int eimg_image_read_file(const char *path, eimg_image **out, eimg_error *err)
{
	struct reader r;
	struct stat st;
	if (!path)
		return eimg_err(err, EIMG_EUSAGE, NULL, "no input path");
	bool is_stdin = strcmp(path, "-") == 0;
	int fd = is_stdin ? fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3) : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return eimg_err_sys(err, path, "cannot open");
	if (!is_stdin)
		eimg_input_note_fd(fd, path); /* an output never replaces it */
	int rc = EIMG_OK;
	if (fstat(fd, &st) < 0)
		rc = eimg_err_sys(err, path, "cannot stat");
	else if (S_ISDIR(st.st_mode))
		rc = eimg_err(err, EIMG_EINVAL, path, "is a directory, expected an enclave image");
	else if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > EIMG_IMAGE_MAX_ARCHIVE)
		rc = eimg_err(err, EIMG_EINVAL, path, "file is %llu bytes, above the limit of %llu",
			      (unsigned long long)st.st_size, (unsigned long long)EIMG_IMAGE_MAX_ARCHIVE);
	else if (S_ISREG(st.st_mode) && st.st_size == 0)
		rc = eimg_err(err, EIMG_EINVAL, path, "not an enclave image: empty file");
	if (rc) {
		close(fd);
		return rc;
	}
	memset(&r, 0, sizeof(r));
	r.src = r.in.name = path;
	r.in.fd = -1;
	if (S_ISREG(st.st_mode)) {
		if (!(r.in.file = eimg_file_new(fd)))
			return eimg_err_nomem(err);
		r.in.known = true;
		r.in.len = (uint64_t)st.st_size;
	} else {
		r.in.fd = fd;
	}
	rc = read_archive(&r, out, err);
	if (r.in.file)
		eimg_file_unref(r.in.file);
	else
		close(fd);
	return rc;
}
