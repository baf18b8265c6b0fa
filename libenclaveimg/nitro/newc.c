/* SPDX-License-Identifier: Apache-2.0 */
/* cpio "newc" records written as a stream (the boot-strap ramdisk as
 * linuxkit writes it, and container images' ramdisks): headers are
 * formatted here because the exact bytes matter (inode numbers, device
 * fields, padding), and data comes from a stream, never a whole buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "nitro/oci_int.h"

int eimg_newc_write(struct eimg_newc_out *o, const void *p, size_t n, eimg_error *err)
{
	if (n == 0)
		return EIMG_OK;
	int rc = o->write(o->ctx, p, n, err);
	if (rc)
		return rc;
	o->len += n;
	eimg_progress_add(o->progress, n);
	return EIMG_OK;
}

int eimg_newc_pad(struct eimg_newc_out *o, unsigned mod, eimg_error *err)
{
	static const uint8_t zero[512];
	size_t k = (size_t)((mod - o->len % mod) % mod);
	return eimg_newc_write(o, zero, k, err);
}

int eimg_newc_header(struct eimg_newc_out *o, const struct eimg_newc_hdr *h, eimg_error *err)
{
	char hdr[111];
	size_t nlen = strlen(h->name) + 1;
	if (nlen > 0xffffffffu)
		return eimg_err(err, EIMG_EINVAL, NULL, "cpio: name too long");
	snprintf(hdr, sizeof(hdr), "070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", h->ino, h->mode, h->uid,
		 h->gid, h->nlink, h->mtime, h->size, h->dev_major, h->dev_minor, h->rdev_major, h->rdev_minor,
		 (unsigned)nlen, 0u);
	int rc = eimg_newc_pad(o, 4, err);
	if (!rc)
		rc = eimg_newc_write(o, hdr, 110, err);
	if (!rc)
		rc = eimg_newc_write(o, h->name, nlen, err);
	if (!rc)
		rc = eimg_newc_pad(o, 4, err);
	return rc;
}

int eimg_newc_mem_write(void *ctx, const void *p, size_t n, eimg_error *err)
{
	struct eimg_newc_mem *m = ctx;
	if (m->max && n > m->max - m->len)
		return eimg_err(err, EIMG_EINVAL, NULL, "cpio: above %zu bytes", m->max);
	if (eimg_bytes_reserve(&m->b, &m->cap, m->len, n, 65536))
		return eimg_err_nomem(err);
	memcpy(m->b + m->len, p, n);
	m->len += n;
	return EIMG_OK;
}

int eimg_newc_fd_write(void *ctx, const void *p, size_t n, eimg_error *err)
{
	return eimg_write_all(*(const int *)ctx, p, n, NULL, "writing the ramdisk", err);
}

#define READ_AHEAD (8ull << 20)

void eimg_read_ahead(int fd, uint64_t pos, uint64_t end, uint64_t *hinted)
{
	if (*hinted == pos && pos < end)
		(void)posix_fadvise(fd, (off_t)pos, (off_t)(end - pos), POSIX_FADV_SEQUENTIAL);
	if (*hinted < end && *hinted - pos < READ_AHEAD) {
		uint64_t n = end - *hinted < READ_AHEAD ? end - *hinted : READ_AHEAD;
		(void)posix_fadvise(fd, (off_t)*hinted, (off_t)n, POSIX_FADV_WILLNEED);
		*hinted += n;
	}
}
