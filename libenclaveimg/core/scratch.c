/* SPDX-License-Identifier: Apache-2.0 */
/* Scratch files and byte-range copies for streamed outputs: an unlinked
 * temporary file in a given folder (the output's, so that nothing large
 * lands in /tmp and a copy stays on one file system), and a copy of a byte
 * range of one file into an output, in the kernel where it can
 * (copy_file_range(2)), else through one fixed buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eimg/progress.h"
#include "core/internal.h"

#define COPY_PIECE (1u << 20)

int eimg_scratch_fd(const char *dir, const char *what, eimg_error *err)
{
	if (!dir || !*dir) {
		dir = getenv("TMPDIR");
		dir = dir && *dir ? dir : "/tmp";
	}
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0) {
		char tmpl[4096];
		snprintf(tmpl, sizeof(tmpl), "%s/.eimg-scratch-XXXXXX", dir);
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
	}
	if (fd < 0)
		eimg_err_sys(err, dir, "cannot make a temporary file for %s", what);
	return fd;
}

/* Through a buffer: pread from in, write to out. */
static int copy_plain(int in, uint64_t off, int out, uint64_t len, const char *src, const char *dst,
		      eimg_error *err)
{
	uint8_t *buf = malloc(COPY_PIECE);
	int rc = buf ? EIMG_OK : eimg_err_nomem(err);
	while (rc == EIMG_OK && len > 0) {
		size_t want = len > COPY_PIECE ? COPY_PIECE : (size_t)len;
		ssize_t r = pread(in, buf, want, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = eimg_err_sys(err, src, "cannot read");
			break;
		}
		if (r == 0) {
			rc = eimg_err(err, EIMG_EINVAL, src, "truncated: the file shrank while being copied");
			break;
		}
		for (ssize_t w = 0; w < r;) {
			ssize_t k = write(out, buf + w, (size_t)(r - w));
			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				rc = eimg_err_sys(err, dst, "cannot write");
				break;
			}
			w += k;
		}
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	free(buf);
	return rc;
}

int eimg_copy_range(int in, uint64_t off, int out, uint64_t len, const char *src, const char *dst, eimg_error *err)
{
	while (len > 0) {
		loff_t o = (loff_t)off;
		size_t want = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t k = copy_file_range(in, &o, out, NULL, want, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP ||
			      errno == EBADF || errno == ETXTBSY))
			return copy_plain(in, off, out, len, src, dst, err); /* a pipe, another file system */
		if (k < 0)
			return eimg_err_sys(err, dst, "cannot copy from '%s'", src);
		if (k == 0)
			return eimg_err(err, EIMG_EINVAL, src, "truncated: the file shrank while being copied");
		off += (uint64_t)k;
		len -= (uint64_t)k;
	}
	return EIMG_OK;
}

int eimg_copy_range_progress(int in, uint64_t off, int out, uint64_t len, struct eimg_progress *p, const char *src,
			     const char *dst, eimg_error *err)
{
	int rc = EIMG_OK;
	for (uint64_t at = 0; rc == EIMG_OK && at < len; at += EIMG_COPY_PIECE) {
		uint64_t n = len - at < EIMG_COPY_PIECE ? len - at : EIMG_COPY_PIECE;
		if ((rc = eimg_copy_range(in, off + at, out, n, src, dst, err)) == EIMG_OK)
			eimg_progress_add(p, n);
	}
	return rc;
}
