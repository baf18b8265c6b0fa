/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the container-image metadata readers (index with nested
 * indexes and platforms, image manifest, config with Entrypoint/Cmd/Env and
 * diff IDs).  The input is up to three parts separated by "\n---\n": the
 * index, the manifest, the config.  Written as an OCI layout in a temporary
 * folder; "@M@" and "@C@" in the index and the manifest stand for the
 * manifest's and the config's digest (so the parsers behind the digest
 * checks are reached). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eimg/hash.h"
#include "eimg/nitro_image.h"
#include "eimg/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void put(const char *name, const char *p, size_t n)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(p, 1, n, f);
	fclose(f);
}

/* s with "@X@" replaced by "sha256:<hex>" (71 bytes) and "@XS@" by the size. */
static char *subst(const char *s, size_t n, const char *key, const char *dg, size_t blob_len, size_t *out_len)
{
	char *o = malloc(n * 30 + 128), size_key[8];
	size_t k = 0, kl = strlen(key);
	snprintf(size_key, sizeof(size_key), "%.*sS@", (int)(kl - 1), key);
	for (size_t i = 0; i < n;) {
		if (i + kl + 1 <= n && memcmp(s + i, size_key, kl + 1) == 0) {
			k += (size_t)sprintf(o + k, "%zu", blob_len);
			i += kl + 1;
		} else if (i + kl <= n && memcmp(s + i, key, kl) == 0) {
			memcpy(o + k, dg, 71);
			k += 71;
			i += kl;
		} else {
			o[k++] = s[i++];
		}
	}
	*out_len = k;
	return o;
}

static void blob(const char *p, size_t n, char dg[72])
{
	uint8_t d[32];
	char hex[65], name[128];
	eimg_sha256(p, n, d);
	eimg_hex(d, 32, hex);
	snprintf(dg, 72, "sha256:%s", hex);
	snprintf(name, sizeof(name), "blobs/sha256/%s", hex);
	put(name, p, n);
}

static void cleanup(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		return;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		atexit(cleanup);
		char path[128];
		snprintf(dir, sizeof(dir), "/tmp/fuzz-oci-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		snprintf(path, sizeof(path), "mkdir -p %s/blobs/sha256", dir);
		if (system(path) != 0)
			abort();
		put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	}
	const char *p = (const char *)data, *end = p + size, *part[3] = { p, "", "" };
	size_t len[3] = { size, 0, 0 };
	for (int i = 1; i < 3; i++) {
		const char *s = memmem(part[i - 1], len[i - 1], "\n---\n", 5);
		if (!s)
			break;
		len[i - 1] = (size_t)(s - part[i - 1]);
		part[i] = s + 5;
		len[i] = (size_t)(end - part[i]);
	}
	char cdg[72], mdg[72];
	size_t ml, il;
	blob(part[2], len[2], cdg);
	char *man = subst(part[1], len[1], "@C@", cdg, len[2], &ml);
	blob(man, ml, mdg);
	char *idx = subst(part[0], len[0], "@M@", mdg, ml, &il);
	put("index.json", idx, il);
	eimg_oci_image *img = NULL;
	eimg_error err;
	if (eimg_oci_open(dir, "linux/amd64", &img, &err) == EIMG_OK) {
		size_t n;
		eimg_oci_nitro_argv(img, &n);
		eimg_oci_free(img);
	}
	free(man);
	free(idx);
	return 0;
}
