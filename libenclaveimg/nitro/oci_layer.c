/* SPDX-License-Identifier: Apache-2.0 */
/* One container-image layer (tar, tar+gzip or tar+zstd) applied to the
 * merged tree, streamed through libarchive: a first reader undoes the
 * compression (the stored bytes are hashed for the descriptor's digest),
 * a second reads the tar from it (the tar bytes are hashed for the diff ID
 * and counted against the decompression limits).  Nothing here holds more
 * than a 64 KiB block of a layer.
 *
 * Refused, naming the layer and the entry: paths with "..", whiteouts of
 * such paths, symbolic links whose relative target climbs above the root,
 * hard links to anything but a regular file seen before, device nodes,
 * FIFOs and sockets, files above EIMG_OCI_MAX_FILE, and layers that expand
 * beyond EIMG_OCI_MAX_RATIO times their stored size plus EIMG_OCI_RATIO_SLACK.
 *
 * A layer that is not compressed, whose blob can be read in place (a file,
 * not a pipe), leaves its files' data where it is: the tree records the
 * offset of each file's data in the blob (the tar reader's position when it
 * hands over the entry: it has consumed exactly the entry's headers).  The
 * rest of such a layer is then read straight from the blob file with the
 * data skipped (headers only), and its digests are checked by the tree on
 * a thread of its own (eimg_oci_tree_check_later) while the build goes on:
 * eimg_oci_tree_write fails if they do not match, before any output is
 * made. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "eimg/hash.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "nitro/oci_int.h"

#define BLOCK 65536

struct lctx {
	const struct eimg_oci_layer_in *in;
	struct archive *outer, *inner;
	eimg_hash *stored_h, *tar_h;
	uint64_t stored, tar;
	bool outer_eof;
	bool compressed;           /* else the tar is the blob: one hash serves both digests */
	bool in_place;             /* files' data stays in the blob: source src, from base */
	bool deferred;             /* the digests are checked by the tree, on its thread */
	uint32_t src;
	uint64_t base;
	uint8_t buf[BLOCK];
	eimg_error cb_err;         /* an error met inside a libarchive callback */
	bool cb_failed;
	const char *entry;         /* the entry being read, for messages */
};

static int fail(struct lctx *c, eimg_error *err, const char *fmt, ...) EIMG_PRINTF(3, 4);
static int fail(struct lctx *c, eimg_error *err, const char *fmt, ...)
{
	char msg[400], esc[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->entry)
		return eimg_err(err, EIMG_EINVAL, NULL, "%s: entry '%s': %s", c->in->name,
				eimg_escape(c->entry, strlen(c->entry), esc, sizeof(esc)), msg);
	return eimg_err(err, EIMG_EINVAL, NULL, "%s: %s", c->in->name, msg);
}

static la_ssize_t outer_read(struct archive *a, void *ud, const void **buf)
{
	struct lctx *c = ud;
	size_t n = 0;
	(void)a;
	if (c->in->raw(c->in->raw_ctx, buf, &n, &c->cb_err)) {
		c->cb_failed = true;
		return -1;
	}
	if (n) {
		if (!c->deferred)
			eimg_hash_update(c->stored_h, *buf, n);
		c->stored += n;
		eimg_progress_add(c->in->progress, n);
	}
	return (la_ssize_t)n;
}

/* A layer read in place (deferred): the tar comes straight from the blob
 * file, from where the first reader had got to (the same bytes, which the
 * tree's verifier hashes), and file data is skipped, not read. */
static la_ssize_t place_read(struct lctx *c, const void **buf)
{
	const struct eimg_oci_place *p = c->in->place;
	size_t k = p->size - c->tar < sizeof(c->buf) ? (size_t)(p->size - c->tar) : sizeof(c->buf);
	ssize_t r = 0;
	if (k == 0) {
		c->outer_eof = true;
		return 0;
	}
	do
		r = pread(p->fd, c->buf, k, (off_t)(p->base + c->tar));
	while (r < 0 && errno == EINTR);
	if (r <= 0) {
		fail(c, &c->cb_err, "%s", r < 0 ? strerror(errno) : "the blob changed while it was read");
		c->cb_failed = true;
		return -1;
	}
	c->tar += (uint64_t)r;
	eimg_progress_add(c->in->progress, (uint64_t)r);
	*buf = c->buf;
	return r;
}

static la_int64_t inner_skip(struct archive *a, void *ud, la_int64_t request)
{
	struct lctx *c = ud;
	(void)a;
	if (!c->deferred || request <= 0)
		return 0; /* libarchive reads instead */
	uint64_t k = c->in->place->size - c->tar < (uint64_t)request ? c->in->place->size - c->tar : (uint64_t)request;
	c->tar += k;
	eimg_progress_add(c->in->progress, k);
	return (la_int64_t)k;
}

static la_ssize_t inner_read(struct archive *a, void *ud, const void **buf)
{
	struct lctx *c = ud;
	(void)a;
	if (c->outer_eof)
		return 0;
	if (c->deferred)
		return place_read(c, buf);
	la_ssize_t n = archive_read_data(c->outer, c->buf, sizeof(c->buf));
	if (n < 0) {
		if (!c->cb_failed) {
			fail(c, &c->cb_err, "cannot decompress: %s", archive_error_string(c->outer));
			c->cb_failed = true;
		}
		return -1;
	}
	if (n == 0)
		c->outer_eof = true;
	c->tar += (uint64_t)n;
	if (c->compressed)
		eimg_hash_update(c->tar_h, c->buf, (size_t)n);
	if (c->tar > (uint64_t)EIMG_OCI_MAX_RATIO * c->stored + EIMG_OCI_RATIO_SLACK) {
		fail(c, &c->cb_err, "expands to more than %u times its stored size (decompression limit)",
		     EIMG_OCI_MAX_RATIO);
		c->cb_failed = true;
		return -1;
	}
	*buf = c->buf;
	return n;
}

/* "./a//b/" -> "a/b"; NULL for "", "." (the root) or a path with "..". */
static int canon(const char *in, char *out, size_t size)
{
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *e = p + strcspn(p, "/");
		size_t n = (size_t)(e - p);
		if (n == 0)
			break;
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return -1;
		if (!(n == 1 && p[0] == '.')) {
			if (o + n + 2 > size)
				return -2;
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p = e;
	}
	out[o] = '\0';
	return o ? 0 : 1;
}

/* A relative link target must not climb above the root from the link's folder. */
static bool link_escapes(const char *path, const char *target)
{
	if (target[0] == '/')
		return false;
	int depth = 0;
	for (const char *p = path; *p; p++)
		depth += *p == '/';
	for (const char *p = target; *p;) {
		const char *e = p + strcspn(p, "/");
		size_t n = (size_t)(e - p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (n && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p = *e ? e + 1 : e;
	}
	return false;
}

static int data_rd(void *ctx, void *buf, size_t n, eimg_error *err)
{
	struct lctx *c = ctx;
	uint8_t *b = buf;
	while (n) {
		la_ssize_t r = archive_read_data(c->inner, b, n);
		if (r <= 0) {
			if (c->cb_failed) {
				if (err)
					*err = c->cb_err;
				return c->cb_err.code;
			}
			return fail(c, err, "%s", r == 0 ? "data ends early" : archive_error_string(c->inner));
		}
		b += r;
		n -= (size_t)r;
	}
	return EIMG_OK;
}

static int whiteout(struct lctx *c, eimg_oci_tree *t, const char *path, eimg_error *err)
{
	char dir[EIMG_OCI_MAX_PATH + 1], victim[EIMG_OCI_MAX_PATH + 1];
	const char *base = strrchr(path, '/');
	size_t dlen = base ? (size_t)(base - path) : 0;
	base = base ? base + 1 : path;
	memcpy(dir, path, dlen);
	dir[dlen] = '\0';
	const char *name = base + 4;   /* after ".wh." */
	if (strcmp(name, ".wh..opq") == 0)
		return eimg_oci_tree_opaque(t, dir, c->in->index, err);
	if (strncmp(name, ".wh.", 4) == 0)
		return EIMG_OK;            /* other AUFS bookkeeping (.wh..wh.plnk): nothing to apply */
	if (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return fail(c, err, "whiteout of '%s' names no entry of its folder", name);
	snprintf(victim, sizeof(victim), "%s%s%s", dir, dlen ? "/" : "", name);
	return eimg_oci_tree_whiteout(t, victim, c->in->index, err);
}

static void digests_of(const struct eimg_oci_layer_in *in, struct eimg_oci_digests *d)
{
	snprintf(d->name, sizeof(d->name), "%s", in->name);
	memcpy(d->digest, in->digest, 32);
	memcpy(d->diff_id, in->diff_id, 32);
	d->have_digest = in->have_digest;
	d->have_diff_id = in->have_diff_id;
}

/* A regular file's data left in the blob, when it can be: not sparse, and
 * inside the blob as stored (else libarchive fails on it soon anyway). */
static void place(struct lctx *c, struct archive_entry *e, struct eimg_oci_add *a)
{
	la_int64_t at = archive_filter_bytes(c->inner, 0);
	if (!c->in_place || archive_entry_sparse_count(e) != 0 || a->size == 0 ||
	    at < archive_read_header_position(c->inner) + 512 || (uint64_t)at > c->in->place->size ||
	    a->size > c->in->place->size - (uint64_t)at)
		return;
	a->in_place = true;
	a->src = c->src;
	a->src_off = c->base + (uint64_t)at;
}

/* Whether this layer's files can stay in its blob (registered with the tree). */
static int want_in_place(struct lctx *c, eimg_oci_tree *t, eimg_error *err)
{
	if (c->compressed || !c->in->place)
		return EIMG_OK;
	eimg_error ignored;
	int rc = eimg_oci_tree_source(t, c->in->place, &c->src, &ignored);
	if (rc == EIMG_ENOMEM)
		return eimg_err_nomem(err);
	c->in_place = rc == EIMG_OK; /* else (not a regular file) the spool */
	c->base = c->in->place->base;
	/* The digests over the blob as it is in place, on the tree's thread:
	 * the same bytes, the same size (else checked here, and refused). */
	uint64_t size = c->in->place->size;
	if (!c->in_place || !size || (c->in->raw_size && size != c->in->raw_size))
		return EIMG_OK;
	struct eimg_oci_digests d;
	digests_of(c->in, &d);
	rc = eimg_oci_tree_check_later(t, c->src, c->base, size, &d, &ignored);
	if (rc == EIMG_ENOMEM)
		return eimg_err_nomem(err);
	c->deferred = rc == EIMG_OK;
	return EIMG_OK;
}

static int one_entry(struct lctx *c, eimg_oci_tree *t, struct archive_entry *e, eimg_error *err)
{
	char path[EIMG_OCI_MAX_PATH + 1], target[EIMG_OCI_MAX_PATH + 1];
	const char *raw = archive_entry_pathname(e);
	c->entry = raw ? raw : "(no name)";
	int k = raw ? canon(raw, path, sizeof(path)) : -1;
	if (k < 0)
		return fail(c, err, k == -1 ? "a path with '..' (outside the image's root)" : "path too long (limit %d)",
			    EIMG_OCI_MAX_PATH);
	if (k == 1)
		return archive_read_data_skip(c->inner) == ARCHIVE_OK ? EIMG_OK : fail(c, err, "cannot skip");
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(base, ".wh.", 4) == 0)
		return whiteout(c, t, path, err);
	struct eimg_oci_add a = { .path = path, .mode = (unsigned)archive_entry_perm(e), .layer = c->in->index,
				  .rd = data_rd, .rd_ctx = c };
	const char *hl = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	if (hl) {
		if (canon(hl, target, sizeof(target)) != 0)
			return fail(c, err, "hard link to a path outside the image's root");
		a.type = EIMG_OCI_HARDLINK;
		a.target = target;
	} else if (type == AE_IFDIR) {
		a.type = EIMG_OCI_DIR;
	} else if (type == AE_IFLNK) {
		const char *s = archive_entry_symlink(e);
		if (!s || !*s || strlen(s) > EIMG_OCI_MAX_PATH)
			return fail(c, err, "symbolic link with an empty or too long target");
		if (link_escapes(path, s))
			return fail(c, err, "symbolic link leaves the image's root");
		a.type = EIMG_OCI_SYMLINK;
		a.target = s;
	} else if (type == AE_IFREG) {
		la_int64_t size = archive_entry_size(e);
		if (size < 0 || (uint64_t)size > EIMG_OCI_MAX_FILE)
			return fail(c, err, "file of %lld bytes (limit %llu)", (long long)size,
				    (unsigned long long)EIMG_OCI_MAX_FILE);
		a.type = EIMG_OCI_REG;
		a.size = (uint64_t)size;
		place(c, e, &a);
	} else {
		return fail(c, err, "%s: not allowed in an enclave",
			    type == AE_IFCHR || type == AE_IFBLK ? "device node" : type == AE_IFIFO ? "FIFO" : "special file");
	}
	int rc = eimg_oci_tree_add(t, &a, err);
	if (rc && err && strncmp(err->msg, c->in->name, strlen(c->in->name)) != 0)
		eimg_err_context(err, NULL, "%s: entry '%s'", c->in->name, path);
	return rc;
}

static int open_readers(struct lctx *c, eimg_error *err)
{
	c->outer = archive_read_new();
	c->inner = archive_read_new();
	c->stored_h = eimg_hash_new(256);
	c->tar_h = eimg_hash_new(256);
	if (!c->outer || !c->inner || !c->stored_h || !c->tar_h)
		return eimg_err_nomem(err);
	struct archive_entry *e;
	if (archive_read_support_filter_gzip(c->outer) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(c->outer) != ARCHIVE_OK ||
	    archive_read_support_format_raw(c->outer) != ARCHIVE_OK ||
	    archive_read_support_format_tar(c->inner) != ARCHIVE_OK)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL, "libarchive: %s", archive_error_string(c->outer));
	if (archive_read_open(c->outer, c, NULL, outer_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(c->outer, &e) != ARCHIVE_OK)
		goto bad;
	c->compressed = archive_filter_code(c->outer, 0) != ARCHIVE_FILTER_NONE;
	if (archive_read_set_skip_callback(c->inner, inner_skip) != ARCHIVE_OK ||
	    archive_read_open(c->inner, c, NULL, inner_read, NULL) != ARCHIVE_OK) {
		if (!c->cb_failed)
			return fail(c, err, "not a tar archive: %s", archive_error_string(c->inner));
		goto bad;
	}
	return EIMG_OK;
bad:
	if (c->cb_failed) {
		if (err)
			*err = c->cb_err;
		return c->cb_err.code;
	}
	return fail(c, err, "not a tar archive (plain, gzip or zstd): %s", archive_error_string(c->outer));
}

/* Reads what the readers left: the tar's tail (for the diff ID) and the
 * blob's (for the digest). */
static int drain(struct lctx *c, eimg_error *err)
{
	const void *b;
	la_ssize_t n;
	if (c->deferred)
		return EIMG_OK; /* the tree's verifier reads it all */
	while (!c->outer_eof && (n = inner_read(c->inner, c, &b)) > 0)
		;
	if (c->cb_failed) {
		if (err)
			*err = c->cb_err;
		return c->cb_err.code;
	}
	for (;;) {
		size_t k = 0;
		int rc = c->in->raw(c->in->raw_ctx, &b, &k, err);
		if (rc)
			return rc;
		if (k == 0)
			return EIMG_OK;
		eimg_hash_update(c->stored_h, b, k);
		c->stored += k;
	}
}

int eimg_oci_digests_check(const struct eimg_oci_digests *d, const uint8_t got[32], const uint8_t tar_got[32],
			   eimg_error *err)
{
	char want[65], hex[65];
	if (d->have_digest && memcmp(got, d->digest, 32) != 0)
		return eimg_err(err, EIMG_EVERIFY, NULL, "%s: digest sha256:%s, the manifest says sha256:%s", d->name,
				eimg_hex(got, 32, hex), eimg_hex(d->digest, 32, want));
	if (d->have_diff_id && memcmp(tar_got, d->diff_id, 32) != 0)
		return eimg_err(err, EIMG_EVERIFY, NULL, "%s: uncompressed digest sha256:%s, the config says sha256:%s",
				d->name, eimg_hex(tar_got, 32, hex), eimg_hex(d->diff_id, 32, want));
	return EIMG_OK;
}

static int check_digests(struct lctx *c, eimg_error *err)
{
	uint8_t d[32], td[32];
	struct eimg_oci_digests want;
	c->entry = NULL;
	if (c->deferred)
		return EIMG_OK;
	if (c->in->raw_size && c->stored != c->in->raw_size)
		return eimg_err(err, EIMG_EVERIFY, NULL, "%s: %llu bytes, the manifest says %llu", c->in->name,
				(unsigned long long)c->stored, (unsigned long long)c->in->raw_size);
	eimg_hash_final(c->stored_h, d);
	if (c->compressed)
		eimg_hash_final(c->tar_h, td);
	else
		memcpy(td, d, 32);
	digests_of(c->in, &want);
	return eimg_oci_digests_check(&want, d, td, err);
}

int eimg_oci_layer_apply(eimg_oci_tree *t, const struct eimg_oci_layer_in *in, eimg_error *err)
{
	struct lctx *c = calloc(1, sizeof(*c));
	if (!c)
		return eimg_err_nomem(err);
	c->in = in;
	int rc = open_readers(c, err);
	if (!rc)
		rc = want_in_place(c, t, err);
	while (!rc) {
		struct archive_entry *e;
		c->entry = NULL;
		int r = archive_read_next_header(c->inner, &e);
		if (r == ARCHIVE_EOF)
			break;
		/* Some writers (umoci 0.4) end a layer right after the last
		 * entry's data, without padding or end blocks: every entry was
		 * read whole, so that is the end. */
		if (r == ARCHIVE_FATAL && !c->cb_failed && c->outer_eof &&
		    strncmp(archive_error_string(c->inner), "Truncated input file", 20) == 0)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if (c->cb_failed) {
				if (err)
					*err = c->cb_err;
				rc = c->cb_err.code;
			} else {
				rc = fail(c, err, "%s", archive_error_string(c->inner));
			}
			break;
		}
		rc = one_entry(c, t, e, err);
	}
	if (!rc)
		rc = drain(c, err);
	if (!rc)
		rc = check_digests(c, err);
	archive_read_free(c->inner);
	archive_read_free(c->outer);
	eimg_hash_free(c->stored_h);
	eimg_hash_free(c->tar_h);
	free(c);
	return rc;
}
