/* SPDX-License-Identifier: Apache-2.0 */
/* The boot blobs AWS publishes for nitro-cli, and the boot-strap ramdisk
 * exactly as nitro-cli makes it, so that PCR1 equals what real enclaves of
 * the same nitro-cli release report.
 *
 * nitro-cli (enclave_build, get_bootstrap_ramfs) writes a linuxkit YAML with
 * three entries: folder "dev" 0755, file "init" 0755, file "nsm.ko" 0755,
 * and runs `linuxkit build -format kernel+initrd` on it.  linuxkit turns the
 * entries into a tar stream (no time set: 0; uid and gid 0) and the tar into
 * newc cpio with github.com/surma/gocpio, without the gzip layer in AWS's
 * build: inode numbers start at 721 and count every record (the trailer
 * too), the device field is 3:1, nlink 2 for folders and 1 otherwise, the
 * header and the data are each zero-padded to 4 bytes, and the archive ends
 * with "TRAILER!!!" and zero padding to a multiple of 512 bytes. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "eimg/nitro.h"
#include "eimg/nitro_image.h"
#include "core/internal.h"
#include "nitro/oci_int.h"

#define GOCPIO_FIRST_INODE 721u

static int gocpio_entry(struct eimg_newc_out *o, uint32_t *ino, const char *name, uint32_t mode, const uint8_t *data,
			size_t len, eimg_error *err)
{
	if (len > 0xffffffffu)
		return eimg_err(err, EIMG_EINVAL, NULL, "boot-strap ramdisk: '%s' too large", name);
	struct eimg_newc_hdr h = { .ino = (*ino)++, .mode = mode, .nlink = (mode & 0170000) == 040000 ? 2 : 1,
				   .size = (uint32_t)len, .dev_major = 3, .dev_minor = 1, .name = name };
	int rc = eimg_newc_header(o, &h, err);
	return rc ? rc : eimg_newc_write(o, data, len, err);
}

int eimg_nitro_bootstrap_ramdisk(const char *init, const char *nsm, uint8_t **out, size_t *len, eimg_error *err)
{
	uint8_t *ib = NULL, *nb = NULL;
	size_t ilen = 0, nlen = 0;
	struct eimg_newc_mem m = { NULL, 0, 0, 0 };
	struct eimg_newc_out o = { eimg_newc_mem_write, &m, 0, NULL };
	uint32_t ino = GOCPIO_FIRST_INODE;
	int rc = eimg_read_file(init, EIMG_NITRO_MAX_INIT, &ib, &ilen, err);
	if (!rc)
		rc = eimg_read_file(nsm, EIMG_NITRO_MAX_NSM, &nb, &nlen, err);
	if (!rc)
		rc = gocpio_entry(&o, &ino, "dev", 040755, NULL, 0, err);
	if (!rc)
		rc = gocpio_entry(&o, &ino, "init", 0100755, ib, ilen, err);
	if (!rc)
		rc = gocpio_entry(&o, &ino, "nsm.ko", 0100755, nb, nlen, err);
	if (!rc)
		rc = gocpio_entry(&o, &ino, "TRAILER!!!", 0, NULL, 0, err);
	if (!rc)
		rc = eimg_newc_pad(&o, 4, err);
	if (!rc)
		rc = eimg_newc_pad(&o, 512, err);
	free(ib);
	free(nb);
	if (rc) {
		free(m.b);
		return rc;
	}
	*out = m.b;
	*len = m.len;
	return EIMG_OK;
}

char *eimg_nitro_trim_cmdline(const char *text, size_t len)
{
	while (len && isspace((unsigned char)text[0])) {
		text++;
		len--;
	}
	while (len && isspace((unsigned char)text[len - 1]))
		len--;
	return strndup(text, len);
}

int eimg_nitro_kernel_info(const char *config, char *os, size_t os_size, char *version, size_t version_size,
			   eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	snprintf(os, os_size, "Unknown");
	snprintf(version, version_size, "Unknown");
	int rc = eimg_read_file(config, EIMG_NITRO_MAX_CONFIG, &buf, &len, err);
	if (rc)
		return rc;
	const char *p = (const char *)buf;
	for (int line = 0; line < 2 && p; line++)
		if ((p = strchr(p, '\n')))
			p++;
	if (!p) {
		free(buf);
		return eimg_err(err, EIMG_EINVAL, config, "kernel config: fewer than three lines");
	}
	size_t n = strcspn(p, "\n");
	/* Words split at ' ', '/' and '-' (empty words count, as in Rust's split). */
	unsigned word = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && !strchr(" /-", p[i]))
			continue;
		if (word == 1)
			eimg_escape(p + start, i - start, os, os_size);
		else if (word == 3)
			eimg_escape(p + start, i - start, version, version_size);
		word++;
		start = i + 1;
	}
	free(buf);
	return EIMG_OK;
}

void eimg_nitro_blobs_clear(struct eimg_nitro_blobs *b)
{
	if (!b)
		return;
	free(b->kernel);
	free(b->kernel_config);
	free(b->init);
	free(b->nsm);
	free(b->cmdline);
	memset(b, 0, sizeof(*b));
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int need_file(const char *dir, const char *name, char **out, eimg_error *err)
{
	struct stat st;
	*out = join(dir, name);
	if (!*out)
		return eimg_err_nomem(err);
	if (stat(*out, &st) < 0)
		return eimg_err_sys(err, *out, "nitro.blobs: missing %s", name);
	if (!S_ISREG(st.st_mode))
		return eimg_err(err, EIMG_EINVAL, *out, "nitro.blobs: %s is not a regular file", name);
	return EIMG_OK;
}

int eimg_nitro_blobs_open(const char *dir, struct eimg_nitro_blobs *out, eimg_error *err)
{
	struct eimg_nitro_blobs b = { 0 };
	struct stat st;
	char *cl = NULL;
	uint8_t *text = NULL;
	size_t tlen = 0;
	int rc;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return eimg_err(err, EIMG_EINVAL, dir, "nitro.blobs: not a folder");
	cl = join(dir, "Image");
	if (!cl)
		return eimg_err_nomem(err);
	b.aarch64 = stat(cl, &st) == 0;
	free(cl);
	cl = NULL;
	const char *k = b.aarch64 ? "Image" : "bzImage";
	char kc[32];
	snprintf(kc, sizeof(kc), "%s.config", k);
	if ((rc = need_file(dir, k, &b.kernel, err)) || (rc = need_file(dir, kc, &b.kernel_config, err)) ||
	    (rc = need_file(dir, "init", &b.init, err)) || (rc = need_file(dir, "nsm.ko", &b.nsm, err)) ||
	    (rc = need_file(dir, "cmdline", &cl, err)))
		goto out;
	rc = eimg_read_file(cl, EIMG_EIF_MAX_CMDLINE, &text, &tlen, err);
	if (rc)
		goto out;
	b.cmdline = eimg_nitro_trim_cmdline((const char *)text, tlen);
	if (!b.cmdline) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	*out = b;
	memset(&b, 0, sizeof(b));
out:
	free(cl);
	free(text);
	eimg_nitro_blobs_clear(&b);
	return rc;
}
