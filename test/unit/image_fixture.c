/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by test_image.c and test_image_reader.c (included): the sample
 * images (test/py/test_image_format.py knows the same contents), checks, and
 * a small tar writer for hostile archives written from enclave-image(5)
 * alone (independent of the library's encoder). */
#pragma GCC diagnostic ignored "-Wunused-function"

#define SAMPLE_MTIME 1700000000ull

static uint8_t *pattern(size_t n, unsigned mul, unsigned add)
{
	uint8_t *p = malloc(n ? n : 1);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * mul + add) & 0xff);
	return p;
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static eimg_blob *blob_of(uint8_t *data, size_t n)
{
	eimg_blob *b = eimg_blob_take_buffer(data, n);
	assert_non_null(b);
	return b;
}

static void set_text(eimg_image *img, int which, const char *s)
{
	eimg_error err;
	int rc = which == 0 ? eimg_image_set_manifest(img, s, strlen(s), &err)
		 : which == 1 ? eimg_image_set_runtime(img, s, strlen(s), &err)
			      : eimg_image_set_measurement(img, s, strlen(s), &err);
	assert_int_equal(rc, EIMG_OK);
}

static void add_file(eimg_image *img, const char *name, uint8_t *data, size_t n)
{
	eimg_error err;
	assert_int_equal(eimg_image_add_file(img, name, blob_of(data, n), &err), EIMG_OK);
}

/* Names 94/95/101/255 long exercise the ustar name field, the prefix split
 * and the pax path record. */
static eimg_image *sample_sgx(void)
{
	eimg_image *img = eimg_image_new();
	eimg_error err;
	char *n;
	assert_non_null(img);
	set_text(img, 0, "{\"name\":\"sample\",\"target\":\"sgx\"}\n");
	set_text(img, 1, "{\"env\":{\"A\":\"1\"}}\n");
	eimg_image_set_elf(img, blob_of(pattern(3000, 7, 0), 3000));
	add_file(img, "a.txt", (uint8_t *)strdup("hello\n"), 6);
	add_file(img, n = repeat('b', 94), pattern(512, 0, 'x'), 512);
	free(n);
	add_file(img, n = repeat('c', 95), pattern(0, 0, 0), 0);
	free(n);
	add_file(img, n = repeat('d', 101), (uint8_t *)strdup("d\n"), 2);
	free(n);
	add_file(img, n = repeat('e', 255), pattern(256, 1, 0), 256);
	free(n);
	assert_int_equal(eimg_image_add_key(img, "k1.pem", blob_of(pattern(91, 3, 1), 91), &err), EIMG_OK);
	set_text(img, 2, "{\"mrenclave\":\"00\"}\n");
	uint8_t *ss = pattern(1808, 13, 5);
	assert_int_equal(eimg_image_set_sigstruct(img, ss, 1808, &err), EIMG_OK);
	free(ss);
	return img;
}

static eimg_image *sample_nitro(void)
{
	eimg_image *img = eimg_image_new();
	assert_non_null(img);
	set_text(img, 0, "{\"name\":\"n\",\"target\":\"nitro\"}\n");
	eimg_image_set_eif(img, blob_of(pattern(1000, 5, 3), 1000));
	set_text(img, 2, "{\"pcr0\":\"ab\"}\n");
	return img; /* no runtime.json: written as "{}\n" */
}

static void assert_blobs_equal(const eimg_blob *a, const eimg_blob *b)
{
	eimg_error err;
	const uint8_t *pa, *pb;
	assert_int_equal(a != NULL, b != NULL);
	if (!a)
		return;
	assert_int_equal(eimg_blob_size(a), eimg_blob_size(b));
	assert_int_equal(eimg_blob_map(a, &pa, "a", &err), EIMG_OK);
	assert_int_equal(eimg_blob_map(b, &pb, "b", &err), EIMG_OK);
	if (eimg_blob_size(a))
		assert_memory_equal(pa, pb, (size_t)eimg_blob_size(a));
}

static void assert_text_equal(const char *a, size_t la, const char *b, size_t lb)
{
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	assert_int_equal(b[lb], '\0'); /* JSON members come back NUL-terminated */
}

static void assert_images_equal(const eimg_image *a, const eimg_image *b)
{
	size_t la, lb;
	const char *ta, *tb;
	ta = eimg_image_manifest(a, &la), tb = eimg_image_manifest(b, &lb);
	assert_text_equal(ta, la, tb, lb);
	ta = eimg_image_runtime(a, &la), tb = eimg_image_runtime(b, &lb);
	if (ta)
		assert_text_equal(ta, la, tb, lb);
	else
		assert_string_equal(tb, "{}\n");
	ta = eimg_image_measurement(a, &la), tb = eimg_image_measurement(b, &lb);
	assert_text_equal(ta, la, tb, lb);
	assert_blobs_equal(eimg_image_elf(a), eimg_image_elf(b));
	assert_blobs_equal(eimg_image_eif(a), eimg_image_eif(b));
	assert_int_equal(eimg_image_nfiles(a), eimg_image_nfiles(b));
	for (size_t i = 0; i < eimg_image_nfiles(a); i++) {
		const eimg_blob *ba, *bb;
		assert_string_equal(eimg_image_file(a, i, &ba), eimg_image_file(b, i, &bb));
		assert_blobs_equal(ba, bb);
	}
	assert_int_equal(eimg_image_nkeys(a), eimg_image_nkeys(b));
	for (size_t i = 0; i < eimg_image_nkeys(a); i++) {
		const eimg_blob *ba, *bb;
		assert_string_equal(eimg_image_key(a, i, &ba), eimg_image_key(b, i, &bb));
		assert_blobs_equal(ba, bb);
	}
	assert_int_equal(eimg_image_sigstruct(a) != NULL, eimg_image_sigstruct(b) != NULL);
	if (eimg_image_sigstruct(a))
		assert_memory_equal(eimg_image_sigstruct(a), eimg_image_sigstruct(b), 1808);
}

static void write_ok(const eimg_image *img, uint64_t mtime, uint8_t **buf, size_t *len)
{
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_image_write_buffer(img, mtime, buf, len, &err);
	if (rc)
		fail_msg("write failed: %s", err.msg);
}

/* Reads buf, expecting failure with a message containing want. */
static void expect_reject(const uint8_t *buf, size_t len, const char *want)
{
	eimg_error err;
	eimg_image *img = NULL;
	eimg_error_clear(&err);
	int rc = eimg_image_read_buffer("bad.eimg", buf, len, &img, &err);
	if (rc == EIMG_OK) {
		eimg_image_free(img);
		fail_msg("accepted, expected rejection with \"%s\"", want);
	}
	assert_null(img);
	assert_int_equal(rc, EIMG_EINVAL);
	assert_string_equal(err.file, "bad.eimg");
	assert_null(strchr(err.msg, '\n'));
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
}

static eimg_image *expect_accept(const uint8_t *buf, size_t len)
{
	eimg_error err;
	eimg_image *img = NULL;
	eimg_error_clear(&err);
	int rc = eimg_image_read_buffer("good.eimg", buf, len, &img, &err);
	if (rc)
		fail_msg("rejected: %s", err.msg);
	assert_non_null(img);
	return img;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *p;
	eimg_error err;
	if (eimg_read_file(path, 1 << 26, &p, len, &err))
		fail_msg("%s", err.msg);
	eimg_inputs_reset(); /* the test's own reads are not inputs of what it tests */
	return p;
}

/* ---- a tar writer from the man page, for hostile archives ---- */

struct tarb {
	uint8_t *p;
	size_t len;
};

static void tb_raw(struct tarb *t, const void *d, size_t n)
{
	t->p = realloc(t->p, t->len + n + 1);
	assert_non_null(t->p);
	if (n)
		memcpy(t->p + t->len, d, n);
	t->len += n;
}

static void tb_pad(struct tarb *t)
{
	static const uint8_t z[512];
	if (t->len % 512)
		tb_raw(t, z, 512 - t->len % 512);
}

static void tb_checksum(uint8_t *h)
{
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += h[i];
	char ck[8];
	snprintf(ck, sizeof(ck), "%06o", sum);
	memcpy(h + 148, ck, 6);
	h[154] = 0;
	h[155] = ' ';
}

/* One header as enclave-image(5) describes it (mtime 0); a name over 100
 * bytes is split at its first '/' (files/ or keys/), as the format does. */
static void tb_header(struct tarb *t, const char *name, char type, unsigned long long size, const char *link)
{
	uint8_t h[512];
	memset(h, 0, sizeof(h));
	size_t nl = strlen(name);
	if (nl <= 100) {
		memcpy(h, name, nl);
	} else {
		const char *sl = strchr(name, '/');
		assert_non_null(sl);
		memcpy(h + 345, name, (size_t)(sl - name));
		size_t rest = nl - (size_t)(sl - name) - 1;
		memcpy(h, sl + 1, rest > 100 ? 98 : rest);
	}
	memcpy(h + 100, "000644 \0" "000000 \0" "000000 ", 24);
	char num[16];
	snprintf(num, sizeof(num), "%011llo ", size);
	memcpy(h + 124, num, 12);
	memcpy(h + 136, "00000000000 ", 12);
	h[156] = (uint8_t)type;
	if (link)
		memcpy(h + 157, link, strlen(link));
	memcpy(h + 257, "ustar\0" "00", 8);
	memcpy(h + 329, "000000 \0" "000000 ", 16);
	tb_checksum(h);
	tb_raw(t, h, 512);
}

static void tb_file(struct tarb *t, const char *name, const void *data, size_t n)
{
	tb_header(t, name, '0', n, NULL);
	tb_raw(t, data, n);
	tb_pad(t);
}

static void tb_str(struct tarb *t, const char *name, const char *s)
{
	tb_file(t, name, s, strlen(s));
}

/* A pax extended header with the given records ("key=value" each), named
 * as the format names the one before member (PaxHeader/...). */
static void tb_pax_for(struct tarb *t, const char *member, const char *const *recs)
{
	char body[4096], pname[300];
	size_t bl = 0;
	for (size_t i = 0; recs[i]; i++) {
		size_t rl = strlen(recs[i]) + 3; /* " " "\n" + at least one digit */
		size_t total = rl;
		for (;;) { /* the length counts its own digits */
			char digits[24];
			size_t d = (size_t)snprintf(digits, sizeof(digits), "%zu", total);
			if (rl - 1 + d == total)
				break;
			total = rl - 1 + d;
		}
		bl += (size_t)snprintf(body + bl, sizeof(body) - bl, "%zu %s\n", total, recs[i]);
	}
	const char *sl = strlen(member) > 100 ? strchr(member, '/') : NULL;
	const char *nm = sl ? sl + 1 : member;
	snprintf(pname, sizeof(pname), "%.*sPaxHeader/%.87s", sl ? (int)(sl - member + 1) : 0, member, nm);
	tb_header(t, pname, 'x', bl, NULL);
	tb_raw(t, body, bl);
	tb_pad(t);
}

static void tb_pax(struct tarb *t, const char *const *recs)
{
	tb_pax_for(t, "x", recs);
}

static void tb_end(struct tarb *t)
{
	static const uint8_t z[1024];
	tb_raw(t, z, 1024);
}

static const char sig1808[1808];

enum { P_MAGIC = 1, P_MANIFEST = 2, P_RUNTIME = 4, P_ELF = 8, P_MEAS = 16 };
#define HEAD (P_MAGIC | P_MANIFEST | P_RUNTIME | P_ELF)

static void tb_std(struct tarb *t, unsigned parts)
{
	if (parts & P_MAGIC)
		tb_str(t, "EIMAGE", EIMG_IMAGE_MAGIC);
	if (parts & P_MANIFEST)
		tb_str(t, "manifest.json", "{}\n");
	if (parts & P_RUNTIME)
		tb_str(t, "runtime.json", "{}\n");
	if (parts & P_ELF)
		tb_str(t, "enclave.elf", "\177ELF");
}

static void run_reject(struct tarb *t, const char *want)
{
	expect_reject(t->p, t->len, want);
	free(t->p);
	t->p = NULL;
	t->len = 0;
}
