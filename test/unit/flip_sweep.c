/* SPDX-License-Identifier: Apache-2.0 */
/* The byte-flip sweep of test/cli/test_byte_flip.sh, in process (included by
 * test_image.c: "test_image --flip-sweep IMAGE").  Every byte of a signed
 * image is flipped in turn; each variant must be refused by the reader or
 * fail verification (SGX: the signature checked against the recomputed
 * MRENCLAVE; Nitro: PCRs, CRC, COSE signature), except bytes inside members
 * that enclave-measure lists as unmeasured.  Bytes of enclave.elf outside its
 * loaded segments are counted apart ("pending": made canonical by the
 * integrity work); --strict counts them as failures. */

struct range {
	char name[270];
	size_t off, size;
};

/* Member data ranges, decoded independently of the library (enclave-image(5)). */
static size_t member_ranges(const uint8_t *b, size_t len, struct range *r, size_t max)
{
	size_t n = 0, off = 0;
	char path[270] = "";
	unsigned long long paxsize = 0;
	while (off + 512 <= len && b[off] && n < max) {
		unsigned long long size = strtoull((const char *)b + off + 124, NULL, 8);
		size_t data = off + 512;
		if (b[off + 156] == 'x') {
			const char *p = memmem(b + data, size, " path=", 6), *s = memmem(b + data, size, " size=", 6);
			if (p)
				snprintf(path, sizeof(path), "%.*s", (int)strcspn(p + 6, "\n"), p + 6);
			paxsize = s ? strtoull(s + 6, NULL, 10) : 0;
			off = data + (size + 511) / 512 * 512;
			continue;
		}
		if (!path[0])
			snprintf(path, sizeof(path), "%s%s%.100s", b[off + 345] ? (const char *)b + off + 345 : "",
				 b[off + 345] ? "/" : "", (const char *)b + off);
		if (paxsize)
			size = paxsize;
		snprintf(r[n].name, sizeof(r[n].name), "%s", path);
		r[n].off = data;
		r[n++].size = size;
		path[0] = '\0';
		paxsize = 0;
		off = data + (size + 511) / 512 * 512;
	}
	return n;
}

/* Is i (an offset inside enclave.elf) outside every PT_LOAD's file bytes? */
static bool elf_unloaded(const uint8_t *e, size_t size, size_t i)
{
	if (size < 64)
		return false;
	uint64_t phoff;
	uint16_t phnum;
	memcpy(&phoff, e + 32, 8);
	memcpy(&phnum, e + 56, 2);
	if (i < 64 || (i >= phoff && i < phoff + 56ull * phnum))
		return false; /* the ELF and program headers */
	for (uint16_t k = 0; k < phnum && phoff + 56ull * (k + 1) <= size; k++) {
		const uint8_t *ph = e + phoff + 56ull * k;
		uint32_t type;
		uint64_t off, filesz;
		memcpy(&type, ph, 4);
		memcpy(&off, ph + 8, 8);
		memcpy(&filesz, ph + 32, 8);
		if (type == 1 && i >= off && i < off + filesz)
			return false;
	}
	return true;
}

static int verify_variant(const uint8_t *buf, size_t len)
{
	eimg_image *img = NULL;
	eimg_nitro_report *rep = NULL;
	int rc = eimg_image_read_buffer("v.eimg", buf, len, &img, NULL);
	if (rc)
		return 1; /* refused by the reader */
	if (eimg_image_eif(img)) {
		rc = eimg_nitro_image_open(img, "v.eimg", &rep, NULL);
		if (rc == EIMG_OK)
			rc = eimg_nitro_report_verdict(rep, NULL);
		if (rc == EIMG_OK && !rep->is_signed)
			rc = EIMG_EVERIFY;
		eimg_nitro_report_free(rep);
	} else {
		rc = eimg_sign_verify_image(img, "v.eimg", NULL, NULL);
	}
	eimg_image_free(img);
	return rc ? 3 : 0;
}

static int flip_sweep(const char *path, bool strict)
{
	size_t len;
	uint8_t *orig = slurp(path, &len), *v = malloc(len);
	struct range r[64];
	size_t nr = member_ranges(orig, len, r, 64), counts[4] = { 0 }, bad = 0, pending = 0, unmeasured = 0;
	if (!v || verify_variant(orig, len) != 0) {
		fprintf(stderr, "%s: the unflipped image does not verify\n", path);
		return 1;
	}
	for (size_t i = 0; i < len; i++) {
		memcpy(v, orig, len);
		v[i] ^= 0xff;
		int res = verify_variant(v, len);
		counts[res]++;
		if (res)
			continue;
		const struct range *m = NULL;
		for (size_t k = 0; k < nr; k++)
			if (i >= r[k].off && i < r[k].off + r[k].size)
				m = &r[k];
		if (m && strcmp(m->name, "runtime.json") == 0) {
			unmeasured++;
		} else if (m && strcmp(m->name, "enclave.elf") == 0 && elf_unloaded(orig + m->off, m->size, i - m->off)) {
			pending++;
		} else {
			if (bad++ < 20)
				printf("byte %zu (%s%s+%zu) flipped: still accepted and verified\n", i, m ? "member " : "outside members",
				       m ? m->name : "", m ? i - m->off : 0);
		}
	}
	printf("%s: %zu bytes: %zu refused (exit 1), %zu failed verification (exit 3), %zu inside unmeasured members, "
	       "%zu in enclave.elf outside loaded segments (pending), %zu unexpected\n",
	       path, len, counts[1], counts[3], unmeasured, pending, bad);
	free(orig);
	free(v);
	return bad || (strict && pending) ? 1 : 0;
}
