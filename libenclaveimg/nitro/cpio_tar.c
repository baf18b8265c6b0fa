/* SPDX-License-Identifier: Apache-2.0 */
/* A tar archive as a Nitro application (nitro.app: a .tar, .tar.gz or .tgz
 * file), read with libarchive into the entries of a ramdisk whose file data
 * stays out of memory, as a folder's does: the data is read when the ramdisk
 * is written (cpio.c), in ramdisk order (bytewise path order, not the
 * archive's).
 *
 * An uncompressed archive is opened once and kept open: each member's data
 * is read back from its offset in the archive, which must then still fstat
 * as it did when it was scanned (device, inode, size, mtime, ctime).
 *
 * A compressed archive has no offsets to go back to.  Its members' data is
 * copied, while the scan decompresses it, into an unlinked spool file in
 * $TMPDIR and read back from there.  The scan must decompress every byte
 * anyway to find the next header, so this costs one write and one read of
 * the data and never a second decompression; and it works whatever the
 * archive's order, where decompressing again in order would work only when
 * the ramdisk's order is the archive's (it seldom is: tar writes folder
 * order) and would need the spool as a fallback anyway.  Sparse members of
 * an uncompressed archive (their data is not one range) are spooled too. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "eimg/nitro_image.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"

#define SPOOL_PIECE (1u << 20)

struct scan {
	eimg_cpio *c;
	struct archive *a;
	const char *tar;
	uint64_t tar_size;
	eimg_cpio_src *file;    /* the archive itself (uncompressed) */
	eimg_cpio_src *spool;   /* made when first needed */
	int spool_fd;
	uint64_t spool_len;
	uint8_t *buf;
	bool compressed;
	unsigned base;          /* components of the prefix (symbolic links stay below it) */
};

/* "./a//b/" -> "a/b"; NULL for absolute paths, ".." parts or nothing left. */
static char *tar_name(const char *in)
{
	if (!in || in[0] == '/')
		return NULL;
	size_t n = strlen(in);
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	const char *p = in;
	while (*p) {
		const char *s = strchr(p, '/');
		size_t k = s ? (size_t)(s - p) : strlen(p);
		if (k == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			return NULL;
		}
		if (k > 0 && !(k == 1 && p[0] == '.')) {
			if (o != out)
				*o++ = '/';
			memcpy(o, p, k);
			o += k;
		}
		p += k;
		if (*p == '/')
			p++;
	}
	*o = '\0';
	if (o == out) {
		free(out);
		return NULL;
	}
	return out;
}

/* A member's data copied into the spool as it is decompressed. */
static int spool_member(struct scan *t, const char *full, unsigned mode, uint64_t size, const char *esc,
			eimg_error *err)
{
	int rc;
	if (t->spool_len + size > EIMG_CPIO_MAX_TOTAL)
		return eimg_err(err, EIMG_EINVAL, t->tar, "member \"%s\": above the ramdisk limit of %llu bytes of file data",
				esc, (unsigned long long)EIMG_CPIO_MAX_TOTAL);
	/* Decompression bombs (and sparse members of mostly holes): the limit
	 * of a container image's layers, on all that is spooled. */
	if (t->spool_len + size > (uint64_t)EIMG_OCI_MAX_RATIO * t->tar_size + EIMG_OCI_RATIO_SLACK)
		return eimg_err(err, EIMG_EINVAL, t->tar, "member \"%s\": the archive expands to more than %u times its "
				"size (decompression limit)", esc, EIMG_OCI_MAX_RATIO);
	if (!t->spool) {
		t->spool_fd = eimg_scratch_fd(NULL, "the tar archive's files", err);
		if (t->spool_fd < 0)
			return err && err->code ? err->code : EIMG_EIO;
		if (!(t->spool = eimg_cpio_src_add(t->c, t->spool_fd, t->tar, false, err)))
			return err && err->code ? err->code : EIMG_EIO;
	}
	if (!t->buf && !(t->buf = malloc(SPOOL_PIECE)))
		return eimg_err_nomem(err);
	uint64_t at = t->spool_len;
	for (uint64_t done = 0; done < size;) {
		size_t want = size - done > SPOOL_PIECE ? SPOOL_PIECE : (size_t)(size - done);
		la_ssize_t k = archive_read_data(t->a, t->buf, want);
		if (k <= 0)
			return eimg_err(err, EIMG_EINVAL, t->tar, "member \"%s\": truncated data", esc);
		if ((rc = eimg_pwrite_all(t->spool_fd, t->buf, (size_t)k, at + done, "the tar archive's spool file", NULL, err)))
			return rc;
		done += (uint64_t)k;
	}
	t->spool_len += size;
	return eimg_cpio_add_range(t->c, full, mode, t->spool, at, size, err);
}

/* A regular member: its data left in the archive (at the offset where the
 * tar reader stands, right after the member's headers), or spooled. */
static int add_file(struct scan *t, struct archive_entry *e, const char *full, const char *esc, eimg_error *err)
{
	la_int64_t sz = archive_entry_size(e);
	unsigned mode = (archive_entry_perm(e) & 0111) ? 0755 : 0644;
	if (sz < 0 || (uint64_t)sz > EIMG_CPIO_MAX_FILE)
		return eimg_err(err, EIMG_EINVAL, t->tar, "member \"%s\": size %lld above the ramdisk limit of %llu per file",
				esc, (long long)sz, (unsigned long long)EIMG_CPIO_MAX_FILE);
	if (t->compressed || archive_entry_sparse_reset(e) != 0)
		return spool_member(t, full, mode, (uint64_t)sz, esc, err);
	la_int64_t off = archive_filter_bytes(t->a, 0);
	if (off < 0 || (uint64_t)off > t->tar_size || (uint64_t)sz > t->tar_size - (uint64_t)off)
		return eimg_err(err, EIMG_EINVAL, t->tar, "member \"%s\": truncated data", esc);
	return eimg_cpio_add_range(t->c, full, mode, t->file, (uint64_t)off, (uint64_t)sz, err);
}

/* One member under prefix. */
static int add_member(struct scan *t, struct archive_entry *e, const char *prefix, eimg_error *err)
{
	const char *raw = archive_entry_pathname(e);
	char *name = tar_name(raw), *full = NULL;
	char esc[160];
	int rc;
	if (!name) {
		if (raw && (strcmp(raw, ".") == 0 || strcmp(raw, "./") == 0))
			return EIMG_OK;
		return eimg_err(err, EIMG_EINVAL, t->tar, "member \"%s\": absolute path, \"..\" or empty name",
				raw ? eimg_escape(raw, strlen(raw), esc, sizeof(esc)) : "");
	}
	eimg_escape(name, strlen(name), esc, sizeof(esc));
	if (asprintf(&full, "%s/%s", prefix, name) < 0) {
		free(name);
		return eimg_err_nomem(err);
	}
	if (archive_entry_hardlink(e)) {
		rc = eimg_err(err, EIMG_EINVAL, t->tar, "member \"%s\": hard links are not supported", esc);
	} else {
		switch (archive_entry_filetype(e)) {
		case AE_IFDIR:
			rc = eimg_cpio_add_dir(t->c, full, err);
			break;
		case AE_IFLNK: {
			const char *l = archive_entry_symlink(e);
			rc = eimg_cpio_add_symlink(t->c, full, l ? l : "", t->base, err);
			break;
		}
		case AE_IFREG:
			rc = add_file(t, e, full, esc, err);
			break;
		default:
			rc = eimg_err(err, EIMG_EINVAL, t->tar, "member \"%s\": devices, FIFOs and sockets cannot go "
				      "into an enclave", esc);
			break;
		}
	}
	if (rc && err && !err->file[0])
		eimg_err_context(err, t->tar, "member \"%s\"", esc);
	free(name);
	free(full);
	return rc;
}

/* Opens the archive (kept open by c: its data is read from it later). */
static int open_tar(struct scan *t, eimg_error *err)
{
	struct stat st;
	int fd = open(t->tar, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return eimg_err_sys(err, t->tar, "cannot open");
	eimg_input_note_fd(fd, t->tar);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return eimg_err(err, EIMG_EINVAL, t->tar, "not a regular file");
	}
	t->tar_size = (uint64_t)st.st_size;
	if (!(t->file = eimg_cpio_src_add(t->c, fd, t->tar, true, err)))
		return err && err->code ? err->code : EIMG_EIO;
	if (archive_read_open_fd(t->a, fd, 65536) != ARCHIVE_OK)
		return eimg_err(err, EIMG_EINVAL, t->tar, "cannot read as a tar archive: %s",
				archive_error_string(t->a) ? archive_error_string(t->a) : "unknown error");
	t->compressed = archive_filter_code(t->a, 0) != ARCHIVE_FILTER_NONE;
	return EIMG_OK;
}

int eimg_cpio_add_tar(eimg_cpio *c, const char *prefix, const char *tar, eimg_error *err)
{
	struct scan t = { .c = c, .tar = tar, .spool_fd = -1, .base = eimg_cpio_components(prefix) };
	struct archive_entry *e;
	int rc;

	if (!(t.a = archive_read_new()))
		return eimg_err_nomem(err);
	archive_read_support_format_tar(t.a);
	archive_read_support_filter_none(t.a);
	archive_read_support_filter_gzip(t.a);
	if ((rc = eimg_cpio_add_dir(c, prefix, err)) || (rc = open_tar(&t, err)))
		goto out;
	for (;;) {
		int r = archive_read_next_header(t.a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			rc = eimg_err(err, EIMG_EINVAL, tar, "bad tar archive: %s",
				      archive_error_string(t.a) ? archive_error_string(t.a) : "unknown error");
			goto out;
		}
		if ((rc = add_member(&t, e, prefix, err)))
			goto out;
	}
	rc = EIMG_OK;
out:
	free(t.buf);
	archive_read_free(t.a);
	return rc;
}
