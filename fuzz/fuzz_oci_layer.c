/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the container-image layer reader (decompression, tar, paths,
 * whiteouts, links, limits) applied to a tree, twice (the second layer over
 * the first), then the ramdisk writer.  Differential: the second layer is
 * applied once from memory (its files' data copied to the spool) and once
 * readable in place from a memfd (an uncompressed layer's files then read
 * from the offsets the reader found, headers parsed straight from the file,
 * data skipped): both must succeed or fail alike and give the same ramdisk,
 * byte for byte. */
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

/* Applies the input twice and writes the ramdisk into *out (len -1 if any
 * step failed); the second layer in place when where is given. */
static void build(const uint8_t *data, size_t size, const struct eimg_oci_place *where, struct eimg_newc_mem *out)
{
	eimg_error err;
	eimg_oci_tree *t = eimg_oci_tree_new();
	memset(out, 0, sizeof(*out));
	out->max = 64u << 20;
	if (!t)
		abort();
	int rc = EIMG_OK;
	for (unsigned layer = 0; layer < 2 && rc == EIMG_OK; layer++) {
		struct src s = { data, size };
		struct eimg_oci_layer_in in = { .name = "layer", .index = layer, .raw = rd, .raw_ctx = &s, .raw_size = size };
		if (layer == 1) /* the upper one: its files are those that stay */
			in.place = where;
		rc = eimg_oci_layer_apply(t, &in, &err);
	}
	if (rc == EIMG_OK) {
		static const char *const mk[] = { "dev", "tmp", NULL };
		struct eimg_oci_extra ex[1] = { { "cmd", (const uint8_t *)"x\n", 2 } };
		struct eimg_newc_out o = { eimg_newc_mem_write, out, 0, NULL };
		rc = eimg_oci_tree_write(t, "rootfs", mk, ex, 1, 0, &o, &err);
	}
	if (rc) {
		free(out->b);
		memset(out, 0, sizeof(*out));
		out->len = (size_t)-1;
	}
	eimg_oci_tree_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eimg_oci_place where = { memfd_create("layer", MFD_CLOEXEC), 0, size, { 0 } };
	if (where.fd < 0)
		return 0;
	if (write(where.fd, data, size) != (ssize_t)size || fstat(where.fd, &where.st) < 0) {
		close(where.fd);
		return 0;
	}
	struct eimg_newc_mem spooled, in_place;
	build(data, size, NULL, &spooled);
	build(data, size, &where, &in_place);
	close(where.fd);
	/* The ramdisk may be too large for the sink (64 MiB): both alike. */
	if (spooled.len != in_place.len || (spooled.b && memcmp(spooled.b, in_place.b, spooled.len) != 0))
		abort();
	free(spooled.b);
	free(in_place.b);
	return 0;
}
