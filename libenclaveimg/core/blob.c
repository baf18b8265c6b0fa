/* SPDX-License-Identifier: Apache-2.0 */
/* Blobs: the bytes of one image member, in memory or a byte range of an open
 * file.  Large members stay in their file and are read in pieces (pread) or
 * mapped read-only; nothing here copies a file range into the heap. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/image_int.h"
#include "eimg/progress.h"
#include "core/internal.h"

struct eimg_blob {
	uint8_t *mem;              /* memory blob (owned), or NULL */
	struct eimg_file *f;       /* file blob */
	uint64_t off, size;
	void *map;                 /* eimg_blob_map of a file blob */
	size_t maplen, mapdelta;
};

struct eimg_file *eimg_file_new(int fd)
{
	struct eimg_file *f = malloc(sizeof(*f));
	if (!f) {
		close(fd);
		return NULL;
	}
	f->fd = fd;
	f->refs = 1;
	f->out = NULL;
	f->copy = NULL;
	return f;
}

void eimg_file_unref(struct eimg_file *f)
{
	if (!f || --f->refs > 0)
		return;
	eimg_outfile_free(f->out); /* not committed: the temporary files go */
	eimg_outfile_free(f->copy);
	close(f->fd);
	free(f);
}

eimg_blob *eimg_blob_take_buffer(void *data, size_t len)
{
	eimg_blob *b = calloc(1, sizeof(*b));
	if (!b) {
		free(data);
		return NULL;
	}
	b->mem = data;
	b->size = len;
	return b;
}

eimg_blob *eimg_blob_from_buffer(const void *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return NULL;
	if (len)
		memcpy(copy, data, len);
	return eimg_blob_take_buffer(copy, len);
}

eimg_blob *eimg_blob_from_range(struct eimg_file *f, uint64_t off, uint64_t size)
{
	eimg_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	f->refs++;
	b->f = f;
	b->off = off;
	b->size = size;
	return b;
}

int eimg_blob_open_file(const char *path, uint64_t max, eimg_blob **out, eimg_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return eimg_err_sys(err, path, "cannot open");
	eimg_input_note_fd(fd, path); /* an output never replaces it */
	if (fstat(fd, &st) < 0) {
		int rc = eimg_err_sys(err, path, "cannot stat");
		close(fd);
		return rc;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return eimg_err(err, EIMG_EINVAL, path, "is a directory, expected a file");
	}
	if (!S_ISREG(st.st_mode)) { /* a pipe: read it, bounded */
		uint8_t *buf = NULL;
		size_t len = 0;
		close(fd);
		int rc = eimg_read_file(path, max > SIZE_MAX - 2 ? SIZE_MAX - 2 : (size_t)max, &buf, &len, err);
		if (rc)
			return rc;
		if (!(*out = eimg_blob_take_buffer(buf, len)))
			return eimg_err_nomem(err);
		return EIMG_OK;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return eimg_err(err, EIMG_EINVAL, path, "file is %llu bytes, above the limit of %llu",
				(unsigned long long)st.st_size, (unsigned long long)max);
	}
	struct eimg_file *f = eimg_file_new(fd);
	eimg_blob *b = f ? eimg_blob_from_range(f, 0, (uint64_t)st.st_size) : NULL;
	eimg_file_unref(f);
	if (!b)
		return eimg_err_nomem(err);
	*out = b;
	return EIMG_OK;
}

void eimg_blob_free(eimg_blob *b)
{
	if (!b)
		return;
	if (b->map)
		munmap(b->map, b->maplen);
	eimg_file_unref(b->f);
	free(b->mem);
	free(b);
}

uint64_t eimg_blob_size(const eimg_blob *b)
{
	return b ? b->size : 0;
}

struct eimg_outfile *eimg_blob_outfile(const eimg_blob *b, const char *path)
{
	if (!b || !b->f || !b->f->out || b->f->out->fd < 0 || !b->f->out->path || strcmp(b->f->out->path, path) != 0)
		return NULL;
	return b->f->out;
}

int eimg_blob_commit_copy(const eimg_blob *b, eimg_error *err)
{
	if (!b || !b->f || !b->f->copy)
		return EIMG_OK;
	struct eimg_outfile *c = b->f->copy;
	b->f->copy = NULL;
	int rc = eimg_outfile_commit(c, err);
	eimg_outfile_free(c);
	return rc;
}

int eimg_blob_fd(const eimg_blob *b, int *fd, uint64_t *off)
{
	if (!b || !b->f)
		return -1;
	*fd = b->f->fd;
	*off = b->off;
	return 0;
}

int eimg_blob_pread(const eimg_blob *b, uint64_t off, void *buf, size_t n, const char *source, eimg_error *err)
{
	if (off > b->size || n > b->size - off)
		return eimg_err(err, EIMG_EINTERNAL, source, "read of %zu bytes at %llu past the end of %llu", n,
				(unsigned long long)off, (unsigned long long)b->size);
	if (b->mem) {
		memcpy(buf, b->mem + off, n);
		return EIMG_OK;
	}
	return eimg_pread_full(b->f->fd, buf, n, off + b->off, source, "truncated: the file shrank while being read", err);
}

int eimg_blob_map(const eimg_blob *cb, const uint8_t **p, const char *source, eimg_error *err)
{
	static const uint8_t empty[1];
	eimg_blob *b = (eimg_blob *)cb; /* the mapping is a cache */
	if (b->mem || b->size == 0) {
		*p = b->mem ? b->mem : empty;
		return EIMG_OK;
	}
	if (!b->map) {
		long pg = sysconf(_SC_PAGESIZE);
		size_t delta = (size_t)(b->off % (uint64_t)(pg > 0 ? pg : 4096));
		if (b->size > SIZE_MAX - delta)
			return eimg_err(err, EIMG_EINVAL, source, "too large to map");
		void *m = mmap(NULL, (size_t)b->size + delta, PROT_READ, MAP_SHARED, b->f->fd,
			       (off_t)(b->off - delta));
		if (m == MAP_FAILED)
			return eimg_err_sys(err, source, "cannot map");
		b->map = m;
		b->maplen = (size_t)b->size + delta;
		b->mapdelta = delta;
	}
	*p = (const uint8_t *)b->map + b->mapdelta;
	return EIMG_OK;
}

int eimg_blob_write_file(const eimg_blob *b, const char *path, eimg_error *err)
{
	return eimg_blob_write_file_progress(b, path, NULL, err);
}

int eimg_blob_write_file_progress(const eimg_blob *b, const char *path, struct eimg_progress *p, eimg_error *err)
{
	struct eimg_outfile o;
	int rc = eimg_outfile_open(&o, path, err);
	if (rc)
		return rc;
	eimg_progress_begin(p, "copying", b->size);
	if (b->f && b->size) /* in the kernel where it can */
		rc = eimg_copy_range_progress(b->f->fd, b->off, o.fd, b->size, p, path, path, err);
	else if (b->size && (rc = eimg_outfile_write(&o, b->mem, (size_t)b->size, err)) == EIMG_OK)
		eimg_progress_add(p, b->size);
	eimg_progress_end(p);
	if (rc) {
		eimg_outfile_abort(&o);
		return rc;
	}
	return eimg_outfile_commit(&o, err);
}
