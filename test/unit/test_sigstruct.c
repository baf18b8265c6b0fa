/* SPDX-License-Identifier: Apache-2.0 */
/* SIGSTRUCT: layout, BCD dates, known-answer vectors, signing, two-step
 * signing, verification failures, foreign formats, detached signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "eimg/hash.h"
#include "eimg/manifest.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "crypto/crypto.h"

static const char *vectors(void)
{
	const char *v = getenv("EIMG_VECTORS");
	return v && *v ? v : "../shared/vectors";
}

/* Reads a vector file, or skips the test when the vectors are absent. */
static uint8_t *vec(const char *name, size_t *len)
{
	char path[1024];
	uint8_t *buf = NULL;
	eimg_error err;
	snprintf(path, sizeof(path), "%s/%s", vectors(), name);
	if (access(path, R_OK) != 0) {
		print_message("vectors not found at %s: skipping\n", path);
		skip();
	}
	assert_int_equal(eimg_read_file(path, 1 << 20, &buf, len, &err), EIMG_OK);
	return buf;
}

static char *vec_path(const char *name)
{
	static char path[1024];
	snprintf(path, sizeof(path), "%s/%s", vectors(), name);
	if (access(path, R_OK) != 0) {
		print_message("vectors not found at %s: skipping\n", path);
		skip();
	}
	return path;
}

static void hex_is(const uint8_t *p, size_t n, const char *want)
{
	char h[2 * 64 + 1];
	assert_true(n <= 64);
	assert_string_equal(eimg_hex(p, n, h), want);
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(eimg_unhex(hex, out, n, "test", NULL), EIMG_OK);
}

/* ---- BCD dates ---- */

/* DATE: BCD (Intel), binary (Gramine: u16 year LE, u8 month, u8 day), else raw. */
static void test_date_encodings(void **state)
{
	(void)state;
	char b[32];
	int enc = -1;
	assert_string_equal(eimg_sigstruct_date_format(0x20161116, b, sizeof(b), &enc), "2016-11-16");
	assert_int_equal(enc, EIMG_DATE_BCD);
	/* bytes e6 07 0b 1c, as gramine-sgx-sign wrote them in 2022 */
	assert_string_equal(eimg_sigstruct_date_format(0x1c0b07e6, b, sizeof(b), &enc), "2022-11-28");
	assert_int_equal(enc, EIMG_DATE_BINARY);
	assert_string_equal(eimg_sigstruct_date_format(0x1d0207e8, b, sizeof(b), &enc), "2024-02-29");
	assert_int_equal(enc, EIMG_DATE_BINARY);
	/* 2023-02-29 does not exist in either encoding */
	assert_string_equal(eimg_sigstruct_date_format(0x1d0207e7, b, sizeof(b), &enc), "0x1d0207e7");
	assert_int_equal(enc, EIMG_DATE_RAW);
	assert_string_equal(eimg_sigstruct_date_format(0, b, sizeof(b), &enc), "0x00000000");
	assert_int_equal(enc, EIMG_DATE_RAW);
	struct eimg_sigstruct s;
	char *t = NULL;
	eimg_error err;
	memset(&s, 0, sizeof(s));
	s.date = 0x12345678;
	assert_int_equal(eimg_sigstruct_text(&s, NULL, &t, &err), EIMG_OK);
	assert_non_null(strstr(t, "0x12345678 (neither a BCD nor a binary date: shown raw)"));
	free(t);
}

static void test_bcd(void **state)
{
	(void)state;
	uint32_t d;
	char buf[16];
	eimg_error err;
	assert_int_equal(eimg_bcd_date_from_epoch(0, &d, NULL), EIMG_OK);
	assert_int_equal(d, 0x19700101);
	assert_int_equal(eimg_bcd_date_from_epoch(1452297600, &d, NULL), EIMG_OK);  /* 2016-01-09 00:00 */
	assert_int_equal(d, 0x20160109);
	assert_int_equal(eimg_bcd_date_from_epoch(1452297600 + 86399, &d, NULL), EIMG_OK);
	assert_int_equal(d, 0x20160109);
	assert_int_equal(eimg_bcd_date_from_epoch(951782400, &d, NULL), EIMG_OK);   /* 2000-02-29 */
	assert_int_equal(d, 0x20000229);
	assert_int_equal(eimg_bcd_date_from_epoch(1795392000, &d, NULL), EIMG_OK);  /* 2026-11-23 */
	assert_int_equal(d, 0x20261123);
	assert_int_equal(eimg_bcd_date_from_epoch(253402300799ull, &d, NULL), EIMG_OK);
	assert_int_equal(d, 0x99991231);
	assert_int_equal(eimg_bcd_date_from_epoch(253402300800ull, &d, &err), EIMG_EINVAL);

	assert_int_equal(eimg_bcd_date_parse("2026-11-23", &d, NULL), EIMG_OK);
	assert_int_equal(d, 0x20261123);
	assert_int_equal(eimg_bcd_date_parse("2024-02-29", &d, NULL), EIMG_OK);
	assert_int_equal(d, 0x20240229);
	assert_int_equal(eimg_bcd_date_parse("2023-02-29", &d, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "not a calendar date"));
	assert_int_equal(eimg_bcd_date_parse("1900-02-29", &d, &err), EIMG_EINVAL);
	assert_int_equal(eimg_bcd_date_parse("2026-13-01", &d, &err), EIMG_EINVAL);
	assert_int_equal(eimg_bcd_date_parse("2026-1-01", &d, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "YYYY-MM-DD"));
	assert_int_equal(eimg_bcd_date_parse("2026-11-23x", &d, &err), EIMG_EINVAL);
	assert_int_equal(eimg_bcd_date_parse("", &d, &err), EIMG_EINVAL);

	assert_true(eimg_bcd_date_valid(0x20160109));
	assert_false(eimg_bcd_date_valid(0x2016010a));
	assert_false(eimg_bcd_date_valid(0x20160001));
	assert_false(eimg_bcd_date_valid(20160109));   /* decimal, the known bug */
	assert_string_equal(eimg_bcd_date_format(0x20161214, buf, sizeof(buf)), "2016-12-14");
	assert_string_equal(eimg_bcd_date_format(0x2016121f, buf, sizeof(buf)), "0x2016121f");
}

/* ---- layout ---- */

static void test_layout_roundtrip(void **state)
{
	(void)state;
	size_t len;
	uint8_t *raw = vec("test_enclave.sig", &len), again[EIMG_SIGSTRUCT_SIZE];
	uint8_t sb[EIMG_SIGSTRUCT_SIGNED], back[EIMG_SIGSTRUCT_SIZE];
	struct eimg_sigstruct s;
	assert_int_equal(len, EIMG_SIGSTRUCT_SIZE);
	assert_int_equal(eimg_sigstruct_decode("t", raw, len, &s, NULL), EIMG_OK);
	assert_false(s.header_bad);
	assert_false(s.reserved_nonzero);
	eimg_sigstruct_encode(&s, again);
	assert_memory_equal(raw, again, EIMG_SIGSTRUCT_SIZE);
	/* Fields from ../shared/vectors/README.md. */
	assert_int_equal(s.isvprodid, 65535);
	assert_int_equal(s.isvsvn, 0);
	assert_int_equal(s.date, 0x20161214);
	assert_int_equal(s.attr_flags, 0x4);
	assert_int_equal(s.attr_xfrm, 0x3);
	assert_true(s.mask_flags == 0xfffffffffffffffdull);
	assert_true(s.mask_xfrm == 0xffffffffffffff1bull);
	assert_int_equal(s.exponent, 3);
	hex_is(s.enclavehash, 32, "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc");
	uint8_t mrs[32];
	eimg_sigstruct_mrsigner(&s, mrs);
	hex_is(mrs, 32, "fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542");
	assert_true(eimg_sigstruct_debug_allowed(&s));
	assert_true(eimg_sigstruct_production_allowed(&s));

	/* Signed bytes: [0,128) || [900,1028). */
	eimg_sigstruct_signed_bytes(raw, sb);
	assert_memory_equal(sb, raw, 128);
	assert_memory_equal(sb + 128, raw + 900, 128);
	eimg_sigstruct_from_signed_bytes(sb, back);
	assert_memory_equal(back, raw, 128);
	assert_memory_equal(back + 900, raw + 900, 128);
	for (size_t i = 128; i < 900; i++)
		assert_int_equal(back[i], 0);
	free(raw);
}

static void test_decode_limits(void **state)
{
	(void)state;
	uint8_t buf[EIMG_SIGSTRUCT_SIZE + 1];
	struct eimg_sigstruct s;
	eimg_error err;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(eimg_sigstruct_decode("x.sig", buf, 1807, &s, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "truncated"));
	assert_string_equal(err.file, "x.sig");
	assert_int_equal(eimg_sigstruct_decode("x.sig", buf, 1809, &s, &err), EIMG_EINVAL);
	assert_int_equal(eimg_sigstruct_decode("x.sig", buf, 0, &s, &err), EIMG_EINVAL);
	/* All zero decodes, but the header check fails. */
	assert_int_equal(eimg_sigstruct_decode("x.sig", buf, EIMG_SIGSTRUCT_SIZE, &s, &err), EIMG_OK);
	assert_true(s.header_bad);
	assert_int_equal(eimg_sigstruct_check_layout(&s, "x.sig", &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "header"));
	assert_int_equal(eimg_sigstruct_verify(buf, "x.sig", &err), EIMG_EVERIFY);
}

/* ---- known answers ---- */

static void test_sig1_reproduced(void **state)
{
	(void)state;
	size_t len;
	uint8_t *want = vec("sig1.sigstruct.bin", &len);
	uint8_t ss[EIMG_SIGSTRUCT_SIZE], mre[32], mrs[32];
	struct eimg_sign_fields f;
	struct eimg_key_source key = {.path = vec_path("sig1.key.pem")};
	struct eimg_sigstruct s;
	eimg_error err;

	memset(&f, 0, sizeof(f));
	f.date = 0x20160109;
	f.attr_flags = 0x4;
	f.attr_xfrm = 0x3;
	f.mask_flags = 0xfffffffffffffffdull;
	f.mask_xfrm = 0xffffffffffffff1bull;
	f.miscselect = 0;
	f.miscmask = 0xffffffff;
	unhex("c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d", mre, 32);
	eimg_sigstruct_prepare(mre, &f, ss);
	assert_int_equal(eimg_sigstruct_sign(ss, &key, &err), EIMG_OK);
	assert_memory_equal(ss, want, EIMG_SIGSTRUCT_SIZE);
	assert_int_equal(eimg_sigstruct_decode("sig1", ss, sizeof(ss), &s, NULL), EIMG_OK);
	eimg_sigstruct_mrsigner(&s, mrs);
	hex_is(mrs, 32, "83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e");

	/* The same fields through the debug-allowed defaults of a manifest. */
	struct eimg_manifest_sgx m;
	struct eimg_sign_fields g;
	memset(&m, 0, sizeof(m));
	m.debug = true;
	m.xfrm = 3;
	m.xfrm_mask = 0xffffffffffffff1bull;
	m.misc_mask = 0xffffffff;
	eimg_sign_fields_from_manifest(&m, 0x20160109, &g);
	assert_memory_equal(&f, &g, sizeof(f));
	free(want);
}

static void test_intel_vector(void **state)
{
	(void)state;
	uint8_t ss[EIMG_SIGSTRUCT_SIZE], mre[32], digest[32], mrs[32];
	struct eimg_sign_fields f;
	struct eimg_key_source key = {.path = vec_path("intel_test_key.pem")};
	struct eimg_sigstruct s;
	eimg_error err;

	memset(&f, 0, sizeof(f));
	f.date = 0x20250101;
	f.attr_flags = 0x6;
	f.attr_xfrm = 0x3;
	f.mask_flags = 0xffffffffffffffffull;
	f.mask_xfrm = 0xfffffffffff9ff1bull;
	f.miscmask = 0xffffffff;
	f.isvprodid = 1;
	f.isvsvn = 2;
	unhex("dfb678268c380f68c443631b70fbb8058eb372ddcc45b02dec934f4017935093", mre, 32);
	eimg_sigstruct_prepare(mre, &f, ss);
	assert_int_equal(eimg_sigstruct_sign(ss, &key, &err), EIMG_OK);
	eimg_sha256(ss, sizeof(ss), digest);
	hex_is(digest, 32, "535b7847a474380002acf55952173f973a3cc890426c65ad57060d680370e465");
	assert_int_equal(eimg_sigstruct_decode("intel", ss, sizeof(ss), &s, NULL), EIMG_OK);
	eimg_sigstruct_mrsigner(&s, mrs);
	hex_is(mrs, 32, "9664d90755bd901069d4725cdd428038473d726f1cec0edf0d78e18a596b1d4e");
	/* DEBUG set and in the mask: a debug-only signature. */
	assert_true(eimg_sigstruct_debug_allowed(&s));
	assert_false(eimg_sigstruct_production_allowed(&s));
}

static void test_verify_vectors(void **state)
{
	(void)state;
	size_t len;
	uint8_t *a = vec("test_enclave.sig", &len), *b = vec("sig1.sigstruct.bin", &len);
	eimg_error err;
	assert_int_equal(eimg_sigstruct_verify(a, "test_enclave.sig", &err), EIMG_OK);
	assert_int_equal(eimg_sigstruct_verify(b, "sig1.sigstruct.bin", &err), EIMG_OK);
	free(a);
	free(b);
}

/* Each corruption is caught and named. */
static void test_verify_corruptions(void **state)
{
	(void)state;
	size_t len;
	uint8_t *orig = vec("test_enclave.sig", &len), ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	static const struct {
		size_t off;
		uint8_t xor;
		const char *want;
	} cases[] = {
		{0, 0x01, "header"},
		{26, 0x01, "header2"},
		{50, 0x01, "reserved (44..127)"},
		{995, 0x01, "reserved (992..1007)"},
		{1030, 0x01, "reserved (1028..1039)"},
		{512, 0x06, "exponent is 5"},
		{128 + 383, 0x80, "3072 bits"},
		{128, 0x01, "even"},
		{128 + 100, 0x01, "does not verify"},     /* modulus */
		{516 + 10, 0x01, "does not verify"},      /* signature */
		{20, 0x01, "does not verify"},            /* date, signed */
		{1024, 0x01, "does not verify"},          /* isvprodid, signed */
		{960, 0x80, "does not verify"},           /* MRENCLAVE, signed */
		{1040 + 7, 0x01, "q1"},
		{1424 + 300, 0x01, "q2"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(ss, orig, sizeof(ss));
		ss[cases[i].off] ^= cases[i].xor;
		eimg_error_clear(&err);
		assert_int_equal(eimg_sigstruct_verify(ss, "t.sig", &err), EIMG_EVERIFY);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("offset %zu: message \"%s\" does not name \"%s\"", cases[i].off, err.msg, cases[i].want);
		assert_string_equal(err.file, "t.sig");
	}
	/* Signature >= modulus. */
	memcpy(ss, orig, sizeof(ss));
	memcpy(ss + 516, ss + 128, 384);
	assert_int_equal(eimg_sigstruct_verify(ss, "t.sig", &err), EIMG_EVERIFY);
	free(orig);
}

/* A SIGSTRUCT signed with a vendor other than 0 or 0x8086: the signature is
 * mathematically fine but the kernel's SGX_IOC_ENCLAVE_INIT refuses it, so
 * verification must not call it valid (and signing must not produce it). */
static void test_verify_vendor(void **state)
{
	(void)state;
	static const uint32_t vendors[] = {0, 0x8086, 0x1234, 0x80860000u};
	struct eimg_key_source key = {.path = vec_path("sig1.key.pem")};
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
		uint8_t ss[EIMG_SIGSTRUCT_SIZE], mre[32], msg[EIMG_SIGSTRUCT_SIGNED];
		uint8_t mod[EIMG_RSA_BYTES], sig_be[EIMG_RSA_BYTES], sig_le[EIMG_RSA_BYTES];
		struct eimg_sign_fields f;
		eimg_key *k = NULL;
		eimg_error err;
		bool ok = vendors[i] == 0 || vendors[i] == 0x8086;

		memset(mre, 0x5a, sizeof(mre));
		eimg_sign_fields_default(0x20260101, &f);
		f.vendor = vendors[i];
		eimg_sigstruct_prepare(mre, &f, ss);
		/* Sign by hand (the library's signer checks its result). */
		assert_int_equal(eimg_rsa_load_private(&key, &k, &err), EIMG_OK);
		assert_int_equal(eimg_rsa_modulus_le(k, mod, &err), EIMG_OK);
		eimg_sigstruct_signed_bytes(ss, msg);
		assert_int_equal(eimg_rsa_sign(k, msg, sizeof(msg), sig_be, &err), EIMG_OK);
		eimg_key_free(k);
		for (size_t j = 0; j < EIMG_RSA_BYTES; j++)
			sig_le[j] = sig_be[EIMG_RSA_BYTES - 1 - j];
		memcpy(ss + EIMG_SS_MODULUS, mod, EIMG_RSA_BYTES);
		eimg_le32(ss + EIMG_SS_EXPONENT, 3);
		memcpy(ss + EIMG_SS_SIGNATURE, sig_le, EIMG_RSA_BYTES);
		assert_int_equal(eimg_rsa_q1q2(sig_le, mod, ss + EIMG_SS_Q1, ss + EIMG_SS_Q2, &err), EIMG_OK);
		eimg_error_clear(&err);
		int rc = eimg_sigstruct_verify(ss, "v.sig", &err);
		if (ok) {
			assert_int_equal(rc, EIMG_OK);
			continue;
		}
		assert_int_equal(rc, EIMG_EVERIFY);
		if (!strstr(err.msg, "vendor"))
			fail_msg("vendor 0x%x: message \"%s\" does not name the vendor", vendors[i], err.msg);
		assert_string_equal(err.file, "v.sig");
		/* The one-step signer refuses to produce it. */
		eimg_sigstruct_prepare(mre, &f, ss);
		assert_int_not_equal(eimg_sigstruct_sign(ss, &key, &err), EIMG_OK);
	}
}

/* ---- two-step signing ---- */

static void test_two_step(void **state)
{
	(void)state;
	uint8_t one[EIMG_SIGSTRUCT_SIZE], two[EIMG_SIGSTRUCT_SIZE], msg[EIMG_SIGSTRUCT_SIGNED], mre[32];
	uint8_t sig[EIMG_RSA_BYTES];
	struct eimg_sign_fields f;
	struct eimg_key_source key = {.path = vec_path("sig1.key.pem")};
	eimg_key *k = NULL;
	eimg_error err;
	char dir[] = "/tmp/eimg-test-XXXXXX", sigpath[128];

	assert_non_null(mkdtemp(dir));
	snprintf(sigpath, sizeof(sigpath), "%s/sig.bin", dir);
	eimg_sign_fields_default(0x20261123, &f);
	f.isvprodid = 7;
	f.isvsvn = 3;
	memset(mre, 0xab, 32);
	eimg_sigstruct_prepare(mre, &f, one);
	memcpy(two, one, sizeof(one));
	assert_int_equal(eimg_sigstruct_sign(one, &key, &err), EIMG_OK);

	/* The "HSM": sign the exported bytes with the same key. */
	eimg_sigstruct_signed_bytes(two, msg);
	assert_int_equal(eimg_rsa_load_private(&key, &k, &err), EIMG_OK);
	assert_int_equal(eimg_rsa_sign(k, msg, sizeof(msg), sig, &err), EIMG_OK);
	eimg_key_free(k);
	assert_int_equal(eimg_write_file_atomic(sigpath, sig, sizeof(sig), &err), EIMG_OK);
	/* The public key is taken from the private key file here. */
	assert_int_equal(eimg_sigstruct_attach(two, sigpath, key.path, &err), EIMG_OK);
	assert_memory_equal(one, two, EIMG_SIGSTRUCT_SIZE);

	/* A signature over other bytes (another date) is refused and named. */
	uint8_t other[EIMG_SIGSTRUCT_SIZE], keep[EIMG_SIGSTRUCT_SIZE];
	f.date = 0x20261124;
	eimg_sigstruct_prepare(mre, &f, other);
	memcpy(keep, other, sizeof(other));
	assert_int_equal(eimg_sigstruct_attach(other, sigpath, key.path, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "other bytes"));
	assert_memory_equal(other, keep, sizeof(other));   /* untouched on failure */

	/* A corrupted signature. */
	sig[5] ^= 1;
	eimg_inputs_reset(); /* the fixture is rewritten: forget it was read */
	assert_int_equal(eimg_write_file_atomic(sigpath, sig, sizeof(sig), &err), EIMG_OK);
	memcpy(two, keep, sizeof(two));
	f.date = 0x20261123;
	eimg_sigstruct_prepare(mre, &f, two);
	assert_int_equal(eimg_sigstruct_attach(two, sigpath, key.path, &err), EIMG_EVERIFY);

	/* Wrong public key. */
	sig[5] ^= 1;
	eimg_inputs_reset();
	assert_int_equal(eimg_write_file_atomic(sigpath, sig, sizeof(sig), &err), EIMG_OK);
	assert_int_equal(eimg_sigstruct_attach(two, sigpath, vec_path("intel_test_key.pem"), &err), EIMG_EVERIFY);
	unlink(sigpath);
	rmdir(dir);
}

static void test_detached_formats(void **state)
{
	(void)state;
	uint8_t sig[EIMG_RSA_BYTES], out[EIMG_RSA_BYTES], der[EIMG_RSA_BYTES + 8];
	eimg_error err;
	for (size_t i = 0; i < sizeof(sig); i++)
		sig[i] = (uint8_t)(i * 7 + 1);
	sig[0] = 0x9c;
	/* raw */
	assert_int_equal(eimg_rsa_parse_detached("s", sig, sizeof(sig), out, &err), EIMG_OK);
	assert_memory_equal(out, sig, sizeof(sig));
	/* OCTET STRING */
	der[0] = 0x04; der[1] = 0x82; der[2] = 0x01; der[3] = 0x80;
	memcpy(der + 4, sig, sizeof(sig));
	memset(out, 0, sizeof(out));
	assert_int_equal(eimg_rsa_parse_detached("s", der, 4 + sizeof(sig), out, &err), EIMG_OK);
	assert_memory_equal(out, sig, sizeof(sig));
	/* INTEGER with the sign byte */
	der[0] = 0x02; der[1] = 0x82; der[2] = 0x01; der[3] = 0x81; der[4] = 0;
	memcpy(der + 5, sig, sizeof(sig));
	memset(out, 0, sizeof(out));
	assert_int_equal(eimg_rsa_parse_detached("s", der, 5 + sizeof(sig), out, &err), EIMG_OK);
	assert_memory_equal(out, sig, sizeof(sig));
	/* BIT STRING */
	der[0] = 0x03; der[1] = 0x82; der[2] = 0x01; der[3] = 0x81; der[4] = 0;
	assert_int_equal(eimg_rsa_parse_detached("s", der, 5 + sizeof(sig), out, &err), EIMG_OK);
	assert_memory_equal(out, sig, sizeof(sig));
	/* DER length lying */
	der[3] = 0x82;
	assert_int_equal(eimg_rsa_parse_detached("s", der, 5 + sizeof(sig), out, &err), EIMG_EINVAL);
	/* base64 of the raw bytes, with line breaks */
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char b64[600];
	size_t o = 0;
	for (size_t i = 0; i < sizeof(sig); i += 3) {
		uint32_t v = (uint32_t)sig[i] << 16 | (uint32_t)sig[i + 1] << 8 | sig[i + 2];
		b64[o++] = tbl[v >> 18];
		b64[o++] = tbl[(v >> 12) & 63];
		b64[o++] = tbl[(v >> 6) & 63];
		b64[o++] = tbl[v & 63];
		if (i % 48 == 45)
			b64[o++] = '\n';
	}
	memset(out, 0, sizeof(out));
	assert_int_equal(eimg_rsa_parse_detached("s", (uint8_t *)b64, o, out, &err), EIMG_OK);
	assert_memory_equal(out, sig, sizeof(sig));
	/* wrong sizes */
	assert_int_equal(eimg_rsa_parse_detached("s.bin", sig, 383, out, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "383 bytes"));
	assert_string_equal(err.file, "s.bin");
	assert_int_equal(eimg_rsa_parse_detached("s.bin", sig, 0, out, &err), EIMG_EINVAL);
	assert_int_equal(eimg_rsa_parse_detached("s.bin", (const uint8_t *)"AAAA", 4, out, &err), EIMG_EINVAL);
}

/* ---- foreign formats: minimal ELF64 with one extra section ---- */

static size_t make_elf(uint8_t *buf, size_t cap, const char *secname, const uint8_t *data, size_t dlen, int shtype)
{
	/* ehdr(64) | section data | shstrtab | section headers (null, sec, shstrtab) */
	char shstr[64];
	size_t namelen = strlen(secname);
	size_t shstrlen = 1 + namelen + 1 + 10;
	memset(shstr, 0, sizeof(shstr));
	memcpy(shstr + 1, secname, namelen);
	memcpy(shstr + 1 + namelen + 1, ".shstrtab", 10);
	size_t data_off = 64, str_off = data_off + dlen, sh_off = (str_off + shstrlen + 7) & ~(size_t)7;
	size_t total = sh_off + 3 * 64;
	assert_true(total <= cap);
	memset(buf, 0, total);
	memcpy(buf, "\177ELF", 4);
	buf[4] = 2; buf[5] = 1; buf[6] = 1;
	eimg_le16(buf + 16, 3);        /* ET_DYN */
	eimg_le16(buf + 18, 62);       /* x86-64 */
	eimg_le32(buf + 20, 1);
	eimg_le64(buf + 40, sh_off);
	eimg_le16(buf + 52, 64);
	eimg_le16(buf + 58, 64);
	eimg_le16(buf + 60, 3);
	eimg_le16(buf + 62, 2);
	memcpy(buf + data_off, data, dlen);
	memcpy(buf + str_off, shstr, shstrlen);
	uint8_t *sh = buf + sh_off + 64;
	eimg_le32(sh, 1);
	eimg_le32(sh + 4, (uint32_t)shtype);
	eimg_le64(sh + 24, data_off);
	eimg_le64(sh + 32, dlen);
	eimg_le64(sh + 48, 4);
	sh += 64;
	eimg_le32(sh, (uint32_t)(1 + namelen + 1));
	eimg_le32(sh + 4, 3);          /* SHT_STRTAB */
	eimg_le64(sh + 24, str_off);
	eimg_le64(sh + 32, shstrlen);
	eimg_le64(sh + 48, 1);
	return total;
}

static void test_foreign(void **state)
{
	(void)state;
	size_t len;
	uint8_t *sig = vec("test_enclave.sig", &len), out[EIMG_SIGSTRUCT_SIZE];
	static uint8_t elf[8192], sec[4096];
	int fmt = 0;
	eimg_error err;
	size_t n;

	/* raw */
	assert_int_equal(eimg_sigstruct_extract("a.sig", sig, len, out, &fmt, &err), EIMG_OK);
	assert_int_equal(fmt, EIMG_SIGFMT_RAW);
	assert_memory_equal(out, sig, len);
	assert_int_equal(eimg_sigstruct_extract("a.sig", sig, len - 1, out, &fmt, &err), EIMG_EINVAL);

	/* Open Enclave .oeinfo: SIGSTRUCT at 144 */
	memset(sec, 0x11, 144);
	memcpy(sec + 144, sig, EIMG_SIGSTRUCT_SIZE);
	memset(sec + 144 + EIMG_SIGSTRUCT_SIZE, 0x22, 64);
	n = make_elf(elf, sizeof(elf), ".oeinfo", sec, 144 + EIMG_SIGSTRUCT_SIZE + 64, 1);
	memset(out, 0, sizeof(out));
	assert_int_equal(eimg_sigstruct_extract("oe.elf", elf, n, out, &fmt, &err), EIMG_OK);
	assert_int_equal(fmt, EIMG_SIGFMT_OPENENCLAVE);
	assert_memory_equal(out, sig, EIMG_SIGSTRUCT_SIZE);
	/* unsigned OE binary: zero SIGSTRUCT */
	memset(sec + 144, 0, EIMG_SIGSTRUCT_SIZE);
	n = make_elf(elf, sizeof(elf), ".oeinfo", sec, 144 + EIMG_SIGSTRUCT_SIZE, 1);
	assert_int_equal(eimg_sigstruct_extract("oe.elf", elf, n, out, &fmt, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "not signed"));
	/* too short */
	n = make_elf(elf, sizeof(elf), ".oeinfo", sec, 144 + 100, 1);
	assert_int_equal(eimg_sigstruct_extract("oe.elf", elf, n, out, &fmt, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "too short"));
	/* NOBITS */
	n = make_elf(elf, sizeof(elf), ".oeinfo", sec, 144 + EIMG_SIGSTRUCT_SIZE, 8);
	assert_int_equal(eimg_sigstruct_extract("oe.elf", elf, n, out, &fmt, &err), EIMG_EINVAL);

	/* Intel SDK .note.sgxmeta: one note "sgx_metadata" whose descriptor
	 * starts right after the 13-byte name, at note offset 25 (Intel's
	 * metadata_sec.S pads nothing there), SIGSTRUCT at byte 64 of it. */
	size_t desclen = 64 + EIMG_SIGSTRUCT_SIZE + 40;
	eimg_le32(sec, 13); eimg_le32(sec + 4, (uint32_t)desclen); eimg_le32(sec + 8, 1);
	memcpy(sec + 12, "sgx_metadata", 13);
	uint8_t *desc = sec + 25;
	memset(desc, 0x33, desclen);
	eimg_le64(desc, EIMG_SGX_METADATA_MAGIC);
	memcpy(desc + 64, sig, EIMG_SIGSTRUCT_SIZE);
	size_t seclen = 25 + desclen;
	n = make_elf(elf, sizeof(elf), ".note.sgxmeta", sec, seclen, 7);
	memset(out, 0, sizeof(out));
	assert_int_equal(eimg_sigstruct_extract("enclave.signed.so", elf, n, out, &fmt, &err), EIMG_OK);
	assert_int_equal(fmt, EIMG_SIGFMT_INTEL_SDK);
	assert_memory_equal(out, sig, EIMG_SIGSTRUCT_SIZE);
	/* bad magic */
	desc[0] ^= 1;
	n = make_elf(elf, sizeof(elf), ".note.sgxmeta", sec, seclen, 7);
	assert_int_equal(eimg_sigstruct_extract("e.so", elf, n, out, &fmt, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "magic"));
	desc[0] ^= 1;
	/* the same note with the name padded to 16 (a generic note writer): refused, saying where it is */
	memmove(sec + 28, sec + 25, desclen);
	memset(sec + 25, 0, 3);
	n = make_elf(elf, sizeof(elf), ".note.sgxmeta", sec, seclen + 3, 7);
	assert_int_equal(eimg_sigstruct_extract("e.so", elf, n, out, &fmt, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "offset 28"));
	memmove(sec + 25, sec + 28, desclen);
	/* descriptor size lying */
	eimg_le32(sec + 4, 0x7fffffff);
	n = make_elf(elf, sizeof(elf), ".note.sgxmeta", sec, seclen, 7);
	assert_int_equal(eimg_sigstruct_extract("e.so", elf, n, out, &fmt, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "past the section"));
	/* a note of another name */
	eimg_le32(sec, 4); eimg_le32(sec + 4, 3);
	memcpy(sec + 12, "GNU", 4);
	n = make_elf(elf, sizeof(elf), ".note.sgxmeta", sec, 20, 7);
	assert_int_equal(eimg_sigstruct_extract("e.so", elf, n, out, &fmt, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "sgx_metadata"));
	/* an ELF without either section */
	n = make_elf(elf, sizeof(elf), ".text", sec, 16, 1);
	assert_int_equal(eimg_sigstruct_extract("plain.so", elf, n, out, &fmt, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "no .note.sgxmeta"));
	/* truncated ELF */
	assert_int_equal(eimg_sigstruct_extract("t.so", elf, 40, out, &fmt, &err), EIMG_EINVAL);
	free(sig);
}

/* ---- rendering ---- */

static void test_render(void **state)
{
	(void)state;
	size_t len;
	uint8_t *raw = vec("test_enclave.sig", &len);
	struct eimg_sigstruct s;
	char *text = NULL, *json = NULL;
	assert_int_equal(eimg_sigstruct_decode("t", raw, len, &s, NULL), EIMG_OK);
	assert_int_equal(eimg_sigstruct_text(&s, "  ", &text, NULL), EIMG_OK);
	/* "name: value", the --json names, values aligned at one column */
	assert_non_null(strstr(text, "  mrsigner:             fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542\n"));
	assert_non_null(strstr(text, "  isvprodid:            65535\n"));
	assert_non_null(strstr(text, "  debug_allowed:        true\n"));
	assert_non_null(strstr(text, "  date:                 2016-12-14\n"));
	assert_non_null(strstr(text, "  attributes_mask:      flags 0xfffffffffffffffd xfrm 0xffffffffffffff1b\n"));
	assert_int_equal(eimg_sigstruct_json_string(&s, &json, NULL), EIMG_OK);
	assert_non_null(strstr(json, "\"mrsigner\":\"fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542\""));
	assert_non_null(strstr(json, "\"isvprodid\":65535"));
	assert_non_null(strstr(json, "\"debug_allowed\":true"));
	assert_non_null(strstr(json, "\"date\":\"2016-12-14\""));
	free(text);
	free(json);
	/* production only */
	s.mask_flags = EIMG_MASK_FLAGS_PRODUCTION;
	assert_int_equal(eimg_sigstruct_text(&s, NULL, &text, NULL), EIMG_OK);
	assert_non_null(strstr(text, "debug_allowed:          false\n"));
	assert_non_null(strstr(text, "production_allowed:     true\n"));
	free(text);
	free(raw);
}

static void test_key_errors(void **state)
{
	(void)state;
	struct eimg_key_source key = {.path = "/nonexistent/key.pem"};
	uint8_t ss[EIMG_SIGSTRUCT_SIZE], mre[32] = {0};
	struct eimg_sign_fields f;
	eimg_error err;
	eimg_sign_fields_default(0x20260101, &f);
	eimg_sigstruct_prepare(mre, &f, ss);
	uint8_t keep[EIMG_SIGSTRUCT_SIZE];
	memcpy(keep, ss, sizeof(ss));
	assert_int_equal(eimg_sigstruct_sign(ss, &key, &err), EIMG_EIO);
	assert_string_equal(err.file, "/nonexistent/key.pem");
	/* not a key */
	key.path = vec_path("test_enclave.sig");
	assert_int_equal(eimg_sigstruct_sign(ss, &key, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "not a private key"));
	assert_memory_equal(ss, keep, sizeof(ss));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcd),
		cmocka_unit_test(test_date_encodings),
		cmocka_unit_test(test_layout_roundtrip),
		cmocka_unit_test(test_decode_limits),
		cmocka_unit_test(test_sig1_reproduced),
		cmocka_unit_test(test_intel_vector),
		cmocka_unit_test(test_verify_vectors),
		cmocka_unit_test(test_verify_corruptions),
		cmocka_unit_test(test_verify_vendor),
		cmocka_unit_test(test_two_step),
		cmocka_unit_test(test_detached_formats),
		cmocka_unit_test(test_foreign),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_key_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
