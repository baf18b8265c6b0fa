/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the container-image layer reader (decompression, tar, paths,
 * whiteouts, links, limits) applied to a tree, twice (the second layer over
 * the first; the first also readable in place from a memfd, so that an
 * uncompressed layer's files are read from the offsets the reader found),
 * then the ramdisk writer. */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nitro/oci_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct src {
	const uint8_t *p;
	size_t n;
	bool done;
};

static int rd(void *ctx, const void **buf, size_t *n, eimg_error *err)
{
	struct src *s = ctx;
	(void)err;
	/* Small pieces, to go through the readers' refills. */
	size_t k = s->n < 4096 ? s->n : 4096;
	*buf = s->p;
	*n = k;
	s->p += k;
	s->n -= k;
	return EIMG_OK;
}

static int sink(void *ctx, const void *p, size_t n, eimg_error *err)
{
	(void)ctx;
	(void)p;
	(void)n;
	(void)err;
	return EIMG_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_error err;
	eimg_oci_tree *t = eimg_oci_tree_new();
	if (!t)
		return 0;
	int rc = EIMG_OK;
	struct eimg_oci_place where = { memfd_create("layer", MFD_CLOEXEC), 0, { 0 } };
	if (where.fd >= 0 && (write(where.fd, data, size) != (ssize_t)size || fstat(where.fd, &where.st) < 0)) {
		close(where.fd);
		where.fd = -1;
	}
	for (unsigned layer = 0; layer < 2 && rc == EIMG_OK; layer++) {
		struct src s = { data, size, false };
		struct eimg_oci_layer_in in = { .name = "layer", .index = layer, .raw = rd, .raw_ctx = &s, .raw_size = size };
		if (layer == 0 && where.fd >= 0)
			in.place = &where;
		rc = eimg_oci_layer_apply(t, &in, &err);
	}
	if (where.fd >= 0)
		close(where.fd);
	if (rc == EIMG_OK) {
		static const char *const mk[] = { "dev", "tmp", NULL };
		struct eimg_oci_extra ex[1] = { { "cmd", (const uint8_t *)"x\n", 2 } };
		struct eimg_newc_out o = { sink, NULL, 0, NULL };
		eimg_oci_tree_write(t, "rootfs", mk, ex, 1, 0, &o, &err);
	}
	eimg_oci_tree_free(t);
	return 0;
}
