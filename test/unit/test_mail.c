/* SPDX-License-Identifier: Apache-2.0 */
/* Mail envelopes (mail/envelope.c, mail/mail.c): sealing and opening round
 * trips, padding sizes, every header field authenticated, replies checked
 * for sender, kind, topic and number, hostile lengths.  Keys are made at
 * test time.  The independent check is test/py/test_mail_independent.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eimg/mail.h"
#include "crypto/crypto.h"

static eimg_mail_key *alice, *enclave, *mallory;
static uint8_t alice_pt[EIMG_MAIL_POINT], enclave_pt[EIMG_MAIL_POINT];

static int setup(void **state)
{
	eimg_error err;
	(void)state;
	if (eimg_mail_key_generate(&alice, &err) || eimg_mail_key_generate(&enclave, &err) ||
	    eimg_mail_key_generate(&mallory, &err))
		return -1;
	eimg_mail_key_public(alice, alice_pt);
	eimg_mail_key_public(enclave, enclave_pt);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	eimg_mail_key_free(alice);
	eimg_mail_key_free(enclave);
	eimg_mail_key_free(mallory);
	return 0;
}

static uint8_t *seal(const eimg_mail_key *from, const uint8_t *to, uint8_t kind, const char *topic, uint64_t seq,
		     const char *body, size_t pad, size_t *len)
{
	eimg_error err;
	uint8_t *env = NULL;
	assert_int_equal(eimg_mail_seal(from, to, kind, topic, seq, body, strlen(body), pad, &env, len, &err), EIMG_OK);
	return env;
}

static void test_round_trip(void **state)
{
	eimg_error err;
	struct eimg_mail_msg m = { 0 };
	size_t len;
	int why = 0;
	(void)state;
	uint8_t *env = seal(alice, enclave_pt, EIMG_MAIL_TO_ENCLAVE, "average", 41, "submit 12.5", 0, &len);
	assert_int_equal(len, EIMG_MAIL_FIXED + 7 + 256 + EIMG_MAIL_TAG);
	assert_int_equal(eimg_mail_open(enclave, env, len, &m, &why, &err), EIMG_OK);
	assert_string_equal((char *)m.body, "submit 12.5");
	assert_string_equal(m.topic, "average");
	assert_int_equal(m.seq, 41);
	assert_int_equal(m.kind, EIMG_MAIL_TO_ENCLAVE);
	assert_memory_equal(m.sender, alice_pt, EIMG_MAIL_POINT);
	eimg_mail_msg_clear(&m);
	/* not for alice, nor for mallory */
	assert_int_equal(eimg_mail_open(alice, env, len, &m, &why, &err), EIMG_EVERIFY);
	assert_int_equal(why, EIMG_MAIL_EAUTH);
	assert_int_equal(eimg_mail_open(mallory, env, len, &m, &why, &err), EIMG_EVERIFY);
	free(env);
}

static void test_every_byte_authenticated(void **state)
{
	eimg_error err;
	struct eimg_mail_msg m = { 0 };
	size_t len;
	int why;
	(void)state;
	uint8_t *env = seal(alice, enclave_pt, EIMG_MAIL_TO_ENCLAVE, "t", 0, "x", 0, &len);
	for (size_t i = 0; i < len; i++) {
		env[i] ^= 0x01;
		why = 0;
		int rc = eimg_mail_open(enclave, env, len, &m, &why, &err);
		assert_int_not_equal(rc, EIMG_OK);
		assert_int_not_equal(why, EIMG_MAIL_OK);
		env[i] ^= 0x01;
	}
	assert_int_equal(eimg_mail_open(enclave, env, len, &m, &why, &err), EIMG_OK);
	eimg_mail_msg_clear(&m);
	free(env);
}

static void test_padding(void **state)
{
	(void)state;
	assert_int_equal(eimg_mail_padded_len(0, 0), 256);
	assert_int_equal(eimg_mail_padded_len(252, 0), 256);
	assert_int_equal(eimg_mail_padded_len(253, 0), 512);
	assert_int_equal(eimg_mail_padded_len(10, 1000), 1024);
	assert_int_equal(eimg_mail_padded_len(EIMG_MAIL_MAX_BODY, 0), EIMG_MAIL_MAX_PADDED);
	assert_int_equal(eimg_mail_padded_len(EIMG_MAIL_MAX_BODY + 1, 0), 0);
	uint8_t p[256] = { 0, 0, 0, 3, 'a', 'b', 'c' };
	size_t n;
	assert_int_equal(eimg_mail_unpad(p, sizeof p, &n), EIMG_MAIL_OK);
	assert_int_equal(n, 3);
	p[100] = 1;   /* non-zero padding */
	assert_int_equal(eimg_mail_unpad(p, sizeof p, &n), EIMG_MAIL_EPADDING);
	p[100] = 0;
	p[2] = 1;     /* length beyond the padded body */
	assert_int_equal(eimg_mail_unpad(p, sizeof p, &n), EIMG_MAIL_EPADDING);
}

static void test_reply_checks(void **state)
{
	eimg_error err;
	struct eimg_mail_msg m = { 0 };
	size_t len;
	int why;
	(void)state;
	uint8_t *env = seal(enclave, alice_pt, EIMG_MAIL_REPLY, "average", 3, "ok", 0, &len);
	assert_int_equal(eimg_mail_open_reply(alice, enclave_pt, "average", 3, env, len, &m, &why, &err), EIMG_OK);
	assert_string_equal((char *)m.body, "ok");
	eimg_mail_msg_clear(&m);
	assert_int_equal(eimg_mail_open_reply(alice, enclave_pt, "other", 3, env, len, &m, &why, &err), EIMG_EVERIFY);
	assert_int_equal(why, EIMG_MAIL_ETOPIC);
	assert_int_equal(eimg_mail_open_reply(alice, enclave_pt, "average", 4, env, len, &m, &why, &err), EIMG_EVERIFY);
	assert_int_equal(why, EIMG_MAIL_EREPLAY);
	assert_int_equal(eimg_mail_open_reply(alice, alice_pt, "average", 3, env, len, &m, &why, &err), EIMG_EVERIFY);
	assert_int_equal(why, EIMG_MAIL_ESENDER);
	free(env);
	env = seal(enclave, alice_pt, EIMG_MAIL_TO_ENCLAVE, "average", 3, "ok", 0, &len);
	assert_int_equal(eimg_mail_open_reply(alice, enclave_pt, "average", 3, env, len, &m, &why, &err), EIMG_EVERIFY);
	assert_int_equal(why, EIMG_MAIL_EKIND);
	free(env);
}

static void test_hostile(void **state)
{
	eimg_error err;
	struct eimg_mail_header h;
	struct eimg_mail_msg m = { 0 };
	uint8_t *env = NULL;
	size_t len;
	int why;
	(void)state;
	/* limits on the sending side */
	assert_int_equal(eimg_mail_seal(alice, enclave_pt, 1, "has space", 0, "x", 1, 0, &env, &len, &err), EIMG_EINVAL);
	assert_int_equal(eimg_mail_seal(alice, enclave_pt, 1, "", 0, "x", 1, 0, &env, &len, &err), EIMG_EINVAL);
	char big_topic[66];
	memset(big_topic, 'a', 65);
	big_topic[65] = 0;
	assert_int_equal(eimg_mail_seal(alice, enclave_pt, 1, big_topic, 0, "x", 1, 0, &env, &len, &err), EIMG_EINVAL);
	assert_null(env);
	/* every truncation is refused, none reads past the end */
	env = seal(alice, enclave_pt, EIMG_MAIL_TO_ENCLAVE, "t", 0, "hello", 0, &len);
	for (size_t n = 0; n < len; n++) {
		uint8_t *cut = malloc(n ? n : 1);
		memcpy(cut, env, n);
		assert_int_not_equal(eimg_mail_open(enclave, cut, n, &m, &why, &err), EIMG_OK);
		free(cut);
	}
	/* an envelope claiming more than the limit */
	size_t hl = EIMG_MAIL_FIXED + 1, biglen = hl + EIMG_MAIL_MAX_PADDED + EIMG_MAIL_PAD + EIMG_MAIL_TAG;
	uint8_t *big = calloc(1, biglen);
	memcpy(big, env, hl);
	assert_int_equal(eimg_mail_parse(big, biglen, &h), EIMG_MAIL_ETOOBIG);
	/* a sender "point" off the curve */
	memcpy(big, env, len);
	memset(big + 21, 0xff, 64);
	assert_int_equal(eimg_mail_open(enclave, big, len, &m, &why, &err), EIMG_EVERIFY);
	assert_int_equal(why, EIMG_MAIL_EAUTH);
	free(big);
	/* version and reserved bytes */
	env[8] = 2;
	assert_int_equal(eimg_mail_parse(env, len, &h), EIMG_MAIL_EVERSION);
	env[8] = 1;
	env[11] = 1;
	assert_int_equal(eimg_mail_parse(env, len, &h), EIMG_MAIL_EFORMAT);
	free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_every_byte_authenticated),
		cmocka_unit_test(test_padding),
		cmocka_unit_test(test_reply_checks),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests_name("mail", tests, setup, teardown);
}
