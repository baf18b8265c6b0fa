/* SPDX-License-Identifier: Apache-2.0 */
/* The files of a container image, read as streams: from an OCI layout
 * folder, or from inside a tar archive (oci-archive, docker-archive; plain,
 * gzip or zstd), which is read again from its start for each file so that
 * nothing of it is held in memory.  A file of a folder, or a member of an
 * archive that is not compressed, can also be read in place later
 * (eimg_oci_blob_place: the descriptor and the offset of its first byte). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/internal.h"
#include "nitro/oci_int.h"

#define BLOCK 65536

struct eimg_oci_blob {
	int fd;                    /* folder: the file */
	struct archive *a;         /* archive: positioned at the member's data */
	int afd;                   /* archive: the archive file, which a reads */
	struct stat st;            /* of fd or afd, when opened (before any read) */
	uint64_t base, size;       /* archive: offset and size of the member's data in it */
	bool in_place;             /* archive: ... and that offset is meaningful */
	const char *name;
	uint8_t buf[BLOCK];
};

void eimg_oci_blob_close(eimg_oci_blob *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	archive_read_free(b->a);
	if (b->afd >= 0)
		close(b->afd);
	free(b);
}

bool eimg_oci_blob_place(const eimg_oci_blob *b, struct eimg_oci_place *out)
{
	if (b->fd >= 0) {
		*out = (struct eimg_oci_place){ b->fd, 0, (uint64_t)b->st.st_size, b->st };
		return true;
	}
	if (!b->in_place)
		return false;
	*out = (struct eimg_oci_place){ b->afd, b->base, b->size, b->st };
	return true;
}

/* The member's data starts here in the archive file when the archive is
 * not compressed and the member not sparse: the tar reader has consumed
 * exactly the member's headers (pax, GNU long names) when it hands over
 * the entry. */
static void note_place(eimg_oci_blob *b, struct archive_entry *e)
{
	la_int64_t at = archive_filter_bytes(b->a, 0);
	b->in_place = archive_filter_count(b->a) == 1 && archive_filter_code(b->a, 0) == ARCHIVE_FILTER_NONE &&
		      archive_entry_sparse_count(e) == 0 && at >= archive_read_header_position(b->a) + 512;
	b->in_place = b->in_place && archive_entry_size(e) >= 0;
	b->base = b->in_place ? (uint64_t)at : 0;
	b->size = b->in_place ? (uint64_t)archive_entry_size(e) : 0;
}

/* Member names as tar writers spell them: "./x", "x", "/x". */
static bool same_name(const char *member, const char *name)
{
	while (member[0] == '.' && member[1] == '/')
		member += 2;
	while (member[0] == '/')
		member++;
	return strcmp(member, name) == 0;
}

static int open_in_tar(const struct eimg_oci_store *s, const char *name, eimg_oci_blob *b, eimg_error *err)
{
	struct archive_entry *e;
	b->a = archive_read_new();
	if (!b->a)
		return eimg_err_nomem(err);
	archive_read_support_filter_gzip(b->a);
	archive_read_support_filter_zstd(b->a);
	archive_read_support_format_tar(b->a);
	b->afd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (b->afd < 0 || fstat(b->afd, &b->st) < 0)
		return eimg_err_sys(err, s->path, "cannot open");
	if (archive_read_open_fd(b->a, b->afd, BLOCK) != ARCHIVE_OK)
		return eimg_err(err, EIMG_EINVAL, s->path, "not a readable tar archive: %s", archive_error_string(b->a));
	for (;;) {
		int r = archive_read_next_header(b->a, &e);
		if (r == ARCHIVE_EOF)
			return eimg_err(err, EIMG_EINVAL, s->path, "no member '%s' in the archive", name);
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return eimg_err(err, EIMG_EINVAL, s->path, "%s", archive_error_string(b->a));
		const char *p = archive_entry_pathname(e);
		if (p && same_name(p, name)) {
			if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
				return eimg_err(err, EIMG_EINVAL, s->path, "member '%s' is not a regular file", name);
			note_place(b, e);
			return EIMG_OK;
		}
	}
}

int eimg_oci_blob_open(const struct eimg_oci_store *s, const char *name, eimg_oci_blob **out, eimg_error *err)
{
	if (strstr(name, "..") || name[0] == '/')
		return eimg_err(err, EIMG_EINVAL, s->path, "'%s': not a path inside the image", name);
	eimg_oci_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return eimg_err_nomem(err);
	b->fd = b->afd = -1;
	b->name = name;
	int rc = EIMG_OK;
	if (s->is_dir) {
		int dfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0) {
			rc = eimg_err_sys(err, s->path, "cannot open");
		} else {
			b->fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
			if (b->fd < 0)
				rc = eimg_err_sys(err, s->path, "cannot open '%s'", name);
			close(dfd);
			if (!rc && (fstat(b->fd, &b->st) < 0 || !S_ISREG(b->st.st_mode)))
				rc = eimg_err(err, EIMG_EINVAL, s->path, "'%s' is not a regular file", name);
			if (!rc) /* read once from start to end: a larger read-ahead */
				(void)posix_fadvise(b->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		}
	} else {
		rc = open_in_tar(s, name, b, err);
	}
	if (rc) {
		eimg_oci_blob_close(b);
		return rc;
	}
	*out = b;
	return EIMG_OK;
}

int eimg_oci_blob_read(void *blob, const void **buf, size_t *n, eimg_error *err)
{
	eimg_oci_blob *b = blob;
	*buf = b->buf;
	for (;;) {
		ssize_t r = b->fd >= 0 ? read(b->fd, b->buf, BLOCK) : (ssize_t)archive_read_data(b->a, b->buf, BLOCK);
		if (r < 0 && b->fd >= 0 && errno == EINTR)
			continue;
		if (r < 0)
			return b->fd >= 0 ? eimg_err_sys(err, NULL, "reading '%s'", b->name)
					  : eimg_err(err, EIMG_EINVAL, NULL, "reading '%s': %s", b->name,
						     archive_error_string(b->a));
		*n = (size_t)r;
		return EIMG_OK;
	}
}

int eimg_oci_blob_slurp(const struct eimg_oci_store *s, const char *name, size_t max, uint8_t **out, size_t *len,
			eimg_error *err)
{
	eimg_oci_blob *b = NULL;
	uint8_t *data = NULL;
	size_t n = 0;
	int rc = eimg_oci_blob_open(s, name, &b, err);
	while (!rc) {
		const void *p;
		size_t k;
		if ((rc = eimg_oci_blob_read(b, &p, &k, err)) || k == 0)
			break;
		if (k > max - n) {
			rc = eimg_err(err, EIMG_EINVAL, s->path, "'%s': above %zu bytes (limit)", name, max);
			break;
		}
		uint8_t *nd = realloc(data, n + k + 1);
		if (!nd) {
			rc = eimg_err_nomem(err);
			break;
		}
		data = nd;
		memcpy(data + n, p, k);
		n += k;
	}
	eimg_oci_blob_close(b);
	if (rc) {
		free(data);
		return rc;
	}
	if (!data && !(data = calloc(1, 1)))
		return eimg_err_nomem(err);
	data[n] = '\0';
	*out = data;
	*len = n;
	return EIMG_OK;
}

bool eimg_oci_blob_exists(const struct eimg_oci_store *s, const char *name)
{
	eimg_oci_blob *b = NULL;
	if (eimg_oci_blob_open(s, name, &b, NULL) != EIMG_OK)
		return false;
	eimg_oci_blob_close(b);
	return true;
}
