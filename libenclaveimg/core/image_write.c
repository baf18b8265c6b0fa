/* SPDX-License-Identifier: Apache-2.0 */
/* Writing an image: the canonical encoding of enclave-image(5), member data
 * streamed from the blobs in 1 MiB pieces, atomically to a file or into a
 * buffer.  The headers come from eimg_tar_headers(), the same function the
 * reader checks them against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "eimg/progress.h"
#include "core/image_int.h"
#include "core/internal.h"

#define PIECE (1u << 20)

static const char default_runtime[] = "{}\n";

/* Where the archive bytes go: a growing buffer or an output file. */
struct sink {
	uint8_t *buf;
	size_t len, cap;
	struct eimg_outfile *out;
	const char *file;
	uint8_t *piece;            /* PIECE bytes for file-backed member data */
	struct eimg_progress *p;   /* "writing": the large members' bytes (file output only) */
};

static int put(struct sink *s, const void *p, size_t n, eimg_error *err)
{
	if (s->out)
		return eimg_outfile_write(s->out, p, n, err);
	int r = eimg_bytes_reserve(&s->buf, &s->cap, s->len, n, 65536);
	if (r > 0)
		return eimg_err(err, EIMG_EINVAL, s->file, "archive too large for memory");
	if (r < 0)
		return eimg_err_nomem(err);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return EIMG_OK;
}

static int put_padding(struct sink *s, uint64_t size, eimg_error *err)
{
	static const uint8_t zero[EIMG_TAR_BLOCK];
	size_t pad = (size_t)((EIMG_TAR_BLOCK - size % EIMG_TAR_BLOCK) % EIMG_TAR_BLOCK);
	return pad ? put(s, zero, pad, err) : EIMG_OK;
}

static int put_member(struct sink *s, const char *path, const void *data, uint64_t size, uint64_t mtime,
		      eimg_error *err)
{
	uint8_t h[3 * EIMG_TAR_BLOCK];
	size_t hl = eimg_tar_headers(path, size, mtime, h);
	int rc = put(s, h, hl, err);
	if (rc == EIMG_OK && size)
		rc = put(s, data, (size_t)size, err);
	return rc ? rc : put_padding(s, size, err);
}

static int put_blob(struct sink *s, const char *path, const eimg_blob *b, uint64_t mtime, eimg_error *err)
{
	uint8_t h[3 * EIMG_TAR_BLOCK];
	uint64_t size = eimg_blob_size(b);
	size_t hl = eimg_tar_headers(path, size, mtime, h);
	int rc = put(s, h, hl, err);
	int fd;
	uint64_t at;
	/* A member in a file goes to a file output in the kernel, in pieces
	 * so that the writing line moves during a long copy. */
	if (rc == EIMG_OK && s->out && size && eimg_blob_fd(b, &fd, &at) == 0) {
		rc = eimg_copy_range_progress(fd, at, s->out->fd, size, s->p, path, s->file, err);
		return rc ? rc : put_padding(s, size, err);
	}
	for (uint64_t off = 0; rc == EIMG_OK && off < size;) {
		size_t n = size - off > PIECE ? PIECE : (size_t)(size - off);
		if (!s->piece && !(s->piece = malloc(PIECE)))
			return eimg_err_nomem(err);
		if ((rc = eimg_blob_pread(b, off, s->piece, n, path, err)) == EIMG_OK)
			rc = put(s, s->piece, n, err);
		eimg_progress_add(s->p, n);
		off += n;
	}
	return rc ? rc : put_padding(s, size, err);
}

static int put_list(struct sink *s, const char *prefix, const struct image_list *l, uint64_t mtime,
		    eimg_error *err)
{
	char path[8 + EIMG_IMAGE_MAX_PATH + 1];
	for (size_t i = 0; i < l->n; i++) {
		snprintf(path, sizeof(path), "%s%s", prefix, l->v[i].name);
		int rc = put_blob(s, path, l->blob[i], mtime, err);
		if (rc)
			return rc;
	}
	return EIMG_OK;
}

/* The members before the enclave. */
static int put_prefix(const eimg_image *img, uint64_t mtime, struct sink *s, eimg_error *err)
{
	const char *rt = img->runtime ? img->runtime : default_runtime;
	size_t rtlen = img->runtime ? img->runtime_len : strlen(default_runtime);
	int rc;
	if ((rc = put_member(s, "EIMAGE", EIMG_IMAGE_MAGIC, EIMG_MAGIC_LEN, mtime, err)) ||
	    (rc = put_member(s, "manifest.json", img->manifest, img->manifest_len, mtime, err)))
		return rc;
	return put_member(s, "runtime.json", rt, rtlen, mtime, err);
}

/* The members after the enclave, and the end of the archive. */
static int put_suffix(const eimg_image *img, uint64_t mtime, struct sink *s, eimg_error *err)
{
	static const uint8_t eoa[2 * EIMG_TAR_BLOCK];
	int rc;
	if ((rc = put_list(s, "files/", &img->files, mtime, err)) ||
	    (rc = put_list(s, "keys/", &img->keys, mtime, err)) ||
	    (rc = put_member(s, "measurement.json", img->measurement, img->measurement_len, mtime, err)))
		return rc;
	if (img->sigstruct &&
	    (rc = put_member(s, "sigstruct.bin", img->sigstruct, EIMG_SIGSTRUCT_BYTES, mtime, err)))
		return rc;
	return put(s, eoa, sizeof(eoa), err);
}

static int write_archive(const eimg_image *img, uint64_t mtime, struct sink *s, eimg_error *err)
{
	int rc = put_prefix(img, mtime, s, err);
	if (rc == EIMG_OK)
		rc = put_blob(s, img->elf ? "enclave.elf" : "enclave.eif", img->elf ? img->elf : img->eif, mtime, err);
	return rc ? rc : put_suffix(img, mtime, s, err);
}

int eimg_image_eif_offset(const eimg_image *img, uint64_t mtime, uint64_t eif_size, uint64_t *off, eimg_error *err)
{
	struct sink s;
	uint8_t h[3 * EIMG_TAR_BLOCK];
	memset(&s, 0, sizeof(s));
	int rc = put_prefix(img, mtime, &s, err);
	free(s.buf);
	if (rc == EIMG_OK)
		*off = s.len + eimg_tar_headers("enclave.eif", eif_size, mtime, h);
	return rc;
}

/* The EIF was streamed into the temporary file of this very output, at the
 * offset of its member (enclave-build): the members around it are written
 * in place and that file becomes the output; the EIF is not copied. */
static int write_around(const eimg_image *img, uint64_t mtime, struct eimg_outfile *o, eimg_error *err)
{
	struct sink pre, s;
	uint64_t size = eimg_blob_size(img->eif), at = 0;
	uint8_t h[3 * EIMG_TAR_BLOCK];
	int fd;
	memset(&pre, 0, sizeof(pre));
	memset(&s, 0, sizeof(s));
	eimg_blob_fd(img->eif, &fd, &at);
	int rc = put_prefix(img, mtime, &pre, err);
	if (rc == EIMG_OK) {
		size_t hl = eimg_tar_headers("enclave.eif", size, mtime, h);
		rc = pre.len + hl == at ? put(&pre, h, hl, err)
					: eimg_err(err, EIMG_EINTERNAL, o->path, "the streamed EIF is not where its member goes");
	}
	if (rc == EIMG_OK)
		rc = eimg_pwrite_all(o->fd, pre.buf, pre.len, 0, o->path, NULL, err);
	if (rc == EIMG_OK && lseek(o->fd, (off_t)(at + size), SEEK_SET) < 0)
		rc = eimg_err_sys(err, o->path, "cannot write");
	s.out = o;
	s.file = o->path;
	if (rc == EIMG_OK && (rc = put_padding(&s, size, err)) == EIMG_OK)
		rc = put_suffix(img, mtime, &s, err);
	off_t end = rc == EIMG_OK ? lseek(o->fd, 0, SEEK_CUR) : -1;
	if (rc == EIMG_OK && (end < 0 || ftruncate(o->fd, end) < 0))
		rc = eimg_err_sys(err, o->path, "cannot write");
	free(pre.buf);
	free(s.piece);
	return rc;
}

int eimg_image_write_buffer(const eimg_image *img, uint64_t mtime, uint8_t **out, size_t *len,
			    eimg_error *err)
{
	struct sink s;
	memset(&s, 0, sizeof(s));
	int rc = eimg_image_validate(img, mtime, NULL, err);
	if (rc == EIMG_OK)
		rc = write_archive(img, mtime, &s, err);
	free(s.piece);
	if (rc) {
		free(s.buf);
		return rc;
	}
	*out = s.buf;
	*len = s.len;
	return EIMG_OK;
}

/* The bytes put_blob copies: the enclave and the files/ and keys/ members. */
static uint64_t blob_bytes(const eimg_image *img)
{
	uint64_t n = eimg_blob_size(img->elf ? img->elf : img->eif);
	for (size_t i = 0; i < img->files.n; i++)
		n += eimg_blob_size(img->files.blob[i]);
	for (size_t i = 0; i < img->keys.n; i++)
		n += eimg_blob_size(img->keys.blob[i]);
	return n;
}

/* The copy of the EIF made with it (enclave-build --eif) goes in place
 * after the image: both outputs or neither, so a copy that cannot be put
 * in place takes the image away again. */
static int commit_copy(const eimg_image *img, const char *path, bool is_stdout, eimg_error *err)
{
	int rc = eimg_blob_commit_copy(img->eif, err);
	if (rc && !is_stdout)
		unlink(path);
	return rc;
}

int eimg_image_write_file(const eimg_image *img, uint64_t mtime, const char *path, eimg_error *err)
{
	struct eimg_outfile o;
	struct sink s;
	int rc;
	if (!path)
		return eimg_err(err, EIMG_EUSAGE, NULL, "no output path");
	/* Validate first so that a bad image never even creates a temporary file. */
	if ((rc = eimg_image_validate(img, mtime, path, err)))
		return rc;
	struct eimg_outfile *own = img->eif ? eimg_blob_outfile(img->eif, path) : NULL;
	if (own) {
		if ((rc = write_around(img, mtime, own, err)) == EIMG_OK && (rc = eimg_outfile_commit(own, err)) == EIMG_OK)
			rc = commit_copy(img, path, false, err);
		return rc; /* on failure the temporary file goes with the blob */
	}
	if ((rc = eimg_outfile_open(&o, path, err)))
		return rc;
	memset(&s, 0, sizeof(s));
	s.out = &o;
	s.file = path;
	s.p = img->progress;
	eimg_progress_begin(s.p, "writing", blob_bytes(img));
	rc = write_archive(img, mtime, &s, err);
	eimg_progress_end(s.p);
	free(s.piece);
	if (rc) {
		eimg_outfile_abort(&o);
		return rc;
	}
	bool is_stdout = o.is_stdout;
	rc = eimg_outfile_commit(&o, err);
	return rc ? rc : commit_copy(img, path, is_stdout, err);
}
