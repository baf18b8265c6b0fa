/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: a .tar application (nitro.app naming a tar file, plain or
 * gzip-compressed): the scan that records each member's data offset (or
 * spools it), then the ramdisk writer reading the data back. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/internal.h"
#include "nitro/nitro_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	eimg_error err;
	snprintf(path, sizeof(path), "/tmp/fuzz-app-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return 0;
	int ok = eimg_pwrite_all(fd, data, size, 0, path, NULL, &err) == EIMG_OK;
	close(fd);
	eimg_cpio *c = ok ? eimg_cpio_new() : NULL;
	uint8_t *out = NULL;
	size_t len = 0;
	/* In memory: the spool is bounded by the decompression limit. */
	if (c && eimg_cpio_add_tar(c, "rootfs", path, &err) == EIMG_OK &&
	    eimg_cpio_write(c, 0, &out, &len, &err) == EIMG_OK)
		free(out);
	eimg_cpio_free(c);
	unlink(path);
	return 0;
}
