/* SPDX-License-Identifier: Apache-2.0 */
/* Signature section and COSE_Sign1 encoding (exact bytes), decoding of
 * hostile CBOR (deep nesting, huge lengths, indefinite items, tags, trailing
 * bytes), DER <-> r||s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/internal.h"
#include "nitro/nitro_int.h"

static void test_protected_and_payload_bytes(void **state)
{
	(void)state;
	uint8_t *p;
	size_t n;
	static const uint8_t es384[] = { 0xa1, 0x01, 0x38, 0x22 }, es256[] = { 0xa1, 0x01, 0x26 }, es512[] = { 0xa1, 0x01, 0x38, 0x23 };
	assert_int_equal(eimg_cose_protected_encode(EIMG_COSE_ES384, &p, &n, NULL), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(p, es384, 4);
	free(p);
	assert_int_equal(eimg_cose_protected_encode(EIMG_COSE_ES256, &p, &n, NULL), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(p, es256, 3);
	free(p);
	assert_int_equal(eimg_cose_protected_encode(EIMG_COSE_ES512, &p, &n, NULL), 0);
	assert_memory_equal(p, es512, 4);
	free(p);

	uint8_t pcr[48];
	for (int i = 0; i < 48; i++)
		pcr[i] = (uint8_t)(i * 11);
	assert_int_equal(eimg_nitro_payload_encode(pcr, &p, &n, NULL), 0);
	/* a2 6e "register_index" 00 6e "register_value" 98 30 <48 uints> */
	assert_int_equal(p[0], 0xa2);
	assert_int_equal(p[1], 0x6e);
	assert_memory_equal(p + 2, "register_index", 14);
	assert_int_equal(p[16], 0x00);
	assert_int_equal(p[17], 0x6e);
	assert_memory_equal(p + 18, "register_value", 14);
	assert_int_equal(p[32], 0x98);
	assert_int_equal(p[33], 48);
	assert_int_equal(p[34], 0x00);      /* 0 */
	assert_int_equal(p[35], 0x0b);      /* 11 */
	assert_int_equal(p[36], 0x16);      /* 22 */
	assert_int_equal(p[37], 0x18);      /* 33: two bytes */
	assert_int_equal(p[38], 33);
	unsigned idx = 9;
	uint8_t back[48];
	assert_int_equal(eimg_nitro_payload_decode("t", p, n, &idx, back, NULL), 0);
	assert_int_equal(idx, 0);
	assert_memory_equal(back, pcr, 48);
	free(p);
}

static void test_sigsec_roundtrip(void **state)
{
	(void)state;
	uint8_t cert[300], cose[40], *sec, *c2, *s2;
	size_t n, cl, sl;
	for (int i = 0; i < 300; i++)
		cert[i] = (uint8_t)i;
	for (int i = 0; i < 40; i++)
		cose[i] = (uint8_t)(255 - i);
	assert_int_equal(eimg_nitro_sigsec_encode(cert, 300, cose, 40, &sec, &n, NULL), 0);
	/* 81 a2 73 "signing_certificate" 99 01 2c ... */
	assert_int_equal(sec[0], 0x81);
	assert_int_equal(sec[1], 0xa2);
	assert_int_equal(sec[2], 0x73);
	assert_memory_equal(sec + 3, "signing_certificate", 19);
	assert_int_equal(sec[22], 0x99);
	assert_int_equal(sec[23], 0x01);
	assert_int_equal(sec[24], 0x2c);
	assert_int_equal(eimg_nitro_sigsec_decode("t", sec, n, &c2, &cl, &s2, &sl, NULL), 0);
	assert_int_equal(cl, 300);
	assert_int_equal(sl, 40);
	assert_memory_equal(c2, cert, 300);
	assert_memory_equal(s2, cose, 40);
	free(c2);
	free(s2);
	/* Truncated anywhere: an error, never a crash. */
	eimg_error err;
	for (size_t k = 0; k < n; k++)
		assert_int_equal(eimg_nitro_sigsec_decode("t", sec, k, &c2, &cl, &s2, &sl, &err), EIMG_EINVAL);
	free(sec);
}

static void test_sign1_roundtrip(void **state)
{
	(void)state;
	struct eimg_cose_sign1 s, d;
	uint8_t *buf, pl[] = { 1, 2, 3 };
	size_t n;
	memset(&s, 0, sizeof(s));
	assert_int_equal(eimg_cose_protected_encode(EIMG_COSE_ES256, &s.protected_hdr, &s.protected_len, NULL), 0);
	s.alg = EIMG_COSE_ES256;
	s.payload = pl;
	s.payload_len = 3;
	s.sig_len = 64;
	memset(s.sig, 0x5a, 64);
	assert_int_equal(eimg_cose_sign1_encode(&s, &buf, &n, NULL), 0);
	/* 84 43 a10126 a0 43 010203 58 40 ... : untagged */
	static const uint8_t head[] = { 0x84, 0x43, 0xa1, 0x01, 0x26, 0xa0, 0x43, 1, 2, 3, 0x58, 0x40 };
	assert_memory_equal(buf, head, sizeof(head));
	assert_int_equal(eimg_cose_sign1_decode("t", buf, n, &d, NULL), 0);
	assert_int_equal(d.alg, EIMG_COSE_ES256);
	assert_int_equal(d.sig_len, 64);
	eimg_cose_sign1_clear(&d);
	/* Tag 18 in front is accepted. */
	uint8_t *t = malloc(n + 1);
	t[0] = 0xd2;
	memcpy(t + 1, buf, n);
	eimg_error e2;
	if (eimg_cose_sign1_decode("t", t, n + 1, &d, &e2))
		fail_msg("%s", e2.msg);
	eimg_cose_sign1_clear(&d);
	/* A signature of the wrong length for the algorithm. */
	buf[11] = 0x3f;
	assert_int_equal(eimg_cose_sign1_decode("t", buf, n - 1, &d, NULL), EIMG_EINVAL);
	free(t);
	free(buf);
	free(s.protected_hdr);
	/* Sig_structure bytes. */
	static const uint8_t prot[] = { 0xa1, 0x01, 0x38, 0x22 };
	assert_int_equal(eimg_cose_tbs(prot, 4, pl, 3, &buf, &n, NULL), 0);
	static const uint8_t tbs[] = { 0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1', 0x44, 0xa1, 0x01,
				       0x38, 0x22, 0x40, 0x43, 1, 2, 3 };
	assert_int_equal(n, sizeof(tbs));
	assert_memory_equal(buf, tbs, n);
	free(buf);
}

static void hostile(const uint8_t *b, size_t n, const char *want)
{
	uint8_t *c, *s;
	size_t cl, sl;
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_nitro_sigsec_decode("sig", b, n, &c, &cl, &s, &sl, &err);
	if (rc != EIMG_EINVAL)
		fail_msg("expected EINVAL (%s), got %d", want, rc);
	if (!strstr(err.msg, want))
		fail_msg("expected \"%s\" in \"%s\"", want, err.msg);
}

static void test_hostile_cbor(void **state)
{
	(void)state;
	/* Deep nesting: 10000 nested one-element arrays. */
	size_t n = 10001;
	uint8_t *deep = malloc(n);
	memset(deep, 0x81, n - 1);
	deep[n - 1] = 0;
	hostile(deep, n, "nested too deeply");
	free(deep);
	/* Huge declared lengths with no data behind them. */
	static const uint8_t huge_arr[] = { 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	hostile(huge_arr, sizeof(huge_arr), "CBOR");
	static const uint8_t big_arr[] = { 0x9a, 0x10, 0x00, 0x00, 0x00, 0x00 };
	hostile(big_arr, sizeof(big_arr), "exceeds the data");
	static const uint8_t huge_map[] = { 0xbb, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	hostile(huge_map, sizeof(huge_map), "CBOR");
	static const uint8_t huge_bstr[] = { 0x81, 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	hostile(huge_bstr, sizeof(huge_bstr), "truncated");
	/* Indefinite lengths, tags, floats, simple values, trailing bytes. */
	static const uint8_t indef[] = { 0x9f, 0x00, 0xff };
	hostile(indef, sizeof(indef), "indefinite");
	static const uint8_t tag[] = { 0xc1, 0x00 };
	hostile(tag, sizeof(tag), "unexpected tag");
	static const uint8_t flt[] = { 0x81, 0xf9, 0x3c, 0x00 };
	hostile(flt, sizeof(flt), "floating-point");
	static const uint8_t nul[] = { 0x81, 0xf6 };
	hostile(nul, sizeof(nul), "simple value");
	static const uint8_t trail[] = { 0x80, 0x00 };
	hostile(trail, sizeof(trail), "after the CBOR item");
	static const uint8_t empty[] = { 0 };
	hostile(empty, 0, "empty");
	/* Well-formed, wrong shape. */
	static const uint8_t notarr[] = { 0xa0 };
	hostile(notarr, 1, "an array of one map");
	/* Byte strings instead of the reference's arrays of integers. */
	static const uint8_t asbstr[] = { 0x81, 0xa2, 0x73, 's', 'i', 'g', 'n', 'i', 'n', 'g', '_', 'c', 'e', 'r', 't', 'i',
					  'f', 'i', 'c', 'a', 't', 'e', 0x41, 0x00, 0x69, 's', 'i', 'g', 'n', 'a', 't', 'u',
					  'r', 'e', 0x80 };
	hostile(asbstr, sizeof(asbstr), "expected an array of byte values");
	/* An element above 255. */
	uint8_t big[sizeof(asbstr) + 3];
	memcpy(big, asbstr, sizeof(asbstr));
	big[22] = 0x81;
	big[23] = 0x19;
	big[24] = 0x01;
	big[25] = 0x00;
	memcpy(big + 26, asbstr + 24, sizeof(asbstr) - 24);
	hostile(big, sizeof(asbstr) + 2, "not a byte value");
	/* Duplicate key. */
	uint8_t dup[64];
	size_t dl = 0;
	dup[dl++] = 0x81;
	dup[dl++] = 0xa2;
	for (int i = 0; i < 2; i++) {
		dup[dl++] = 0x73;
		memcpy(dup + dl, "signing_certificate", 19);
		dl += 19;
		dup[dl++] = 0x80;
	}
	hostile(dup, dl, "expected the keys");
}

static void test_der_rs(void **state)
{
	(void)state;
	/* SEQUENCE { INTEGER 0x00ff (positive, needs its 0), INTEGER 0x01 } */
	static const uint8_t der[] = { 0x30, 0x07, 0x02, 0x02, 0x00, 0xff, 0x02, 0x01, 0x01 };
	uint8_t rs[64];
	assert_int_equal(eimg_ec_der_to_rs(der, sizeof(der), 32, rs, NULL), 0);
	for (int i = 0; i < 31; i++)
		assert_int_equal(rs[i], 0);
	assert_int_equal(rs[31], 0xff);
	assert_int_equal(rs[63], 0x01);
	/* Non-minimal DER (an extra leading zero), trailing bytes, garbage: refused. */
	static const uint8_t nonmin[] = { 0x30, 0x08, 0x02, 0x03, 0x00, 0x00, 0xff, 0x02, 0x01, 0x01 };
	assert_int_equal(eimg_ec_der_to_rs(nonmin, sizeof(nonmin), 32, rs, NULL), EIMG_EINVAL);
	static const uint8_t trail[] = { 0x30, 0x07, 0x02, 0x02, 0x00, 0xff, 0x02, 0x01, 0x01, 0x00 };
	assert_int_equal(eimg_ec_der_to_rs(trail, sizeof(trail), 32, rs, NULL), EIMG_EINVAL);
	assert_int_equal(eimg_ec_der_to_rs((const uint8_t *)"hello", 5, 32, rs, NULL), EIMG_EINVAL);
	/* A value too large for the field. */
	uint8_t big[4 + 35 + 3] = { 0x30, 4 + 33 - 2 + 3 + 2, 0x02, 33 };
	big[1] = 2 + 33 + 3;
	big[4] = 0x7f;
	memset(big + 5, 0x11, 32);
	big[37] = 0x02;
	big[38] = 0x01;
	big[39] = 0x01;
	assert_int_equal(eimg_ec_der_to_rs(big, 40, 32, rs, NULL), EIMG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protected_and_payload_bytes),
		cmocka_unit_test(test_sigsec_roundtrip),
		cmocka_unit_test(test_sign1_roundtrip),
		cmocka_unit_test(test_hostile_cbor),
		cmocka_unit_test(test_der_rs),
	};
	return cmocka_run_group_tests_name("cose", tests, NULL, NULL);
}
