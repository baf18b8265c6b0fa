/* SPDX-License-Identifier: Apache-2.0 */
/* Sealed in-memory copies (run/sealed.h): the Nitro hand-off gives nitro-cli
 * exactly the bytes it verified, never the user's path a second time. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "run/sealed.h"
#include "core/internal.h"

#define CHUNK (1u << 20)

static int write_all(int fd, const uint8_t *p, size_t n, const char *source, eimg_error *err)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return eimg_err_sys(err, source, "cannot copy into a private sealed copy");
		p += w;
		n -= (size_t)w;
	}
	return EIMG_OK;
}

static int create(const char *source, struct eimg_sealed *s, eimg_error *err)
{
	s->fd = memfd_create("enclave.eif", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	s->map = NULL;
	s->len = 0;
	return s->fd < 0 ? eimg_err_sys(err, source, "cannot create a private sealed copy (memfd_create)") : EIMG_OK;
}

/* Seals what was written and maps it read-only. */
static int seal(const char *source, struct eimg_sealed *s, size_t len, eimg_error *err)
{
	if (fcntl(s->fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		return eimg_err_sys(err, source, "cannot seal the private copy");
	s->len = len;
	if (len == 0)
		return EIMG_OK;
	void *m = mmap(NULL, len, PROT_READ, MAP_SHARED, s->fd, 0);
	if (m == MAP_FAILED)
		return eimg_err_sys(err, source, "cannot map the private copy");
	s->map = m;
	return EIMG_OK;
}

int eimg_sealed_from_fd(int in, const char *source, uint64_t max, struct eimg_sealed *out, eimg_error *err)
{
	struct eimg_sealed s;
	uint8_t *buf = malloc(CHUNK);
	uint64_t total = 0;
	int rc = buf ? create(source, &s, err) : eimg_err_nomem(err);
	if (rc) {
		free(buf);
		return rc;
	}
	for (;;) {
		ssize_t r = read(in, buf, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = eimg_err_sys(err, source, "cannot read");
			break;
		}
		if (r == 0)
			break;
		total += (uint64_t)r;
		if (total > max || total > SIZE_MAX) {
			rc = eimg_err(err, EIMG_EINVAL, source, "file is above the limit of %llu bytes",
				      (unsigned long long)max);
			break;
		}
		if ((rc = write_all(s.fd, buf, (size_t)r, source, err)))
			break;
	}
	free(buf);
	if (rc == EIMG_OK)
		rc = seal(source, &s, (size_t)total, err);
	if (rc) {
		eimg_sealed_close(&s);
		return rc;
	}
	*out = s;
	return EIMG_OK;
}

int eimg_sealed_from_buffer(const uint8_t *buf, size_t len, const char *source, struct eimg_sealed *out,
			    eimg_error *err)
{
	struct eimg_sealed s;
	int rc = create(source, &s, err);
	if (rc == EIMG_OK)
		rc = write_all(s.fd, buf, len, source, err);
	if (rc == EIMG_OK)
		rc = seal(source, &s, len, err);
	/* The copy is what was verified: compare it, not the process's word. */
	if (rc == EIMG_OK && len && memcmp(s.map, buf, len) != 0)
		rc = eimg_err(err, EIMG_EINTERNAL, source, "the private sealed copy differs from the verified bytes");
	if (rc) {
		eimg_sealed_close(&s);
		return rc;
	}
	*out = s;
	return EIMG_OK;
}

void eimg_sealed_close(struct eimg_sealed *s)
{
	if (s->map)
		munmap((void *)(uintptr_t)s->map, s->len);
	if (s->fd >= 0)
		close(s->fd);
	s->map = NULL;
	s->len = 0;
	s->fd = -1;
}
