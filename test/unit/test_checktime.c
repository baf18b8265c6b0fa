/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the time of a check (--at, --max-age: eimg/checktime.h) and
 * the forms an attestation document arrives in (eimg_attest_doc_decode). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "eimg/attest.h"
#include "eimg/checktime.h"

static uint64_t at_of(const char *s)
{
	struct eimg_check_time t = { 0 };
	eimg_error err;
	if (eimg_check_time_parse(s, &t, &err) != EIMG_OK)
		fail_msg("%s: %s", s, err.msg);
	assert_int_equal(t.at, EIMG_AT_TIME);
	return t.time;
}

static void test_at_forms(void **state)
{
	(void)state;
	/* Known answers: date -u -d 2023-01-18T13:07:19Z +%s = 1674047239 */
	assert_int_equal(at_of("2023-01-18T13:07:19Z"), 1674047239u);
	assert_int_equal(at_of("2023-01-18t13:07:19z"), 1674047239u);
	assert_int_equal(at_of("2023-01-18T13:07:19.280Z"), 1674047239u);
	assert_int_equal(at_of("2023-01-18T13:07:19+00:00"), 1674047239u);
	assert_int_equal(at_of("1970-01-01T00:00:00Z"), 0u);
	assert_int_equal(at_of("2024-02-29T00:00:00Z"), 1709164800u);
	assert_int_equal(at_of("1674047239"), 1674047239u);
	assert_int_equal(at_of("0"), 0u);
	uint64_t before = (uint64_t)time(NULL);
	uint64_t now = at_of("now");
	assert_true(now >= before && now <= before + 5);
	struct eimg_check_time t = { .max_age = 77 };
	eimg_error err;
	assert_int_equal(eimg_check_time_parse("document", &t, &err), EIMG_OK);
	assert_int_equal(t.at, EIMG_AT_DOCUMENT);
	assert_int_equal(t.max_age, 77); /* kept */
}

static void test_at_refused(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "yesterday", "2023-01-18", "2023-01-18T13:07:19", "2023-01-18 13:07:19Z",
					   "2023-01-18T13:07:19+01:00", "2023-02-30T00:00:00Z", "2023-13-01T00:00:00Z",
					   "2023-01-18T24:00:00Z", "1969-12-31T23:59:59Z", "-1", "+5", "012", "1e9",
					   "2023-01-18T13:07:19.Z", "99999999999999999999", "Document" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct eimg_check_time t = { .at = EIMG_AT_TIME, .time = 42 };
		eimg_error err;
		if (eimg_check_time_parse(bad[i], &t, &err) != EIMG_EUSAGE)
			fail_msg("accepted --at \"%s\"", bad[i]);
		assert_non_null(strstr(err.msg, "--at: expected RFC 3339"));
		assert_int_equal(t.time, 42); /* unchanged on failure */
	}
}

static void test_durations(void **state)
{
	(void)state;
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "1", 1 }, { "300", 300 }, { "90s", 90 }, { "5m", 300 }, { "2h", 7200 }, { "1d", 86400 },
		{ "36600d", 36600ull * 86400 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 0;
		eimg_error err;
		assert_int_equal(eimg_duration_parse(ok[i].s, &v, &err), EIMG_OK);
		assert_int_equal(v, ok[i].v);
	}
	static const char *const bad[] = { "", "0", "0s", "5x", "m", "-5m", "05m", "1.5h", "36601d", "5 m", "5M" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 9;
		eimg_error err;
		if (eimg_duration_parse(bad[i], &v, &err) != EIMG_EUSAGE)
			fail_msg("accepted --max-age \"%s\"", bad[i]);
		assert_int_equal(v, 9);
		assert_non_null(strstr(err.msg, "--max-age"));
	}
}

static void test_apply(void **state)
{
	(void)state;
	eimg_error err;
	uint64_t at = 0;
	struct eimg_check_time t = { .at = EIMG_AT_TIME, .time = 1000 };
	/* inside the skew: fine; beyond it: in the future */
	assert_int_equal(eimg_check_time_apply(&t, "d", 1300, 300, &at, &err), EIMG_OK);
	assert_int_equal(at, 1000);
	at = 7;
	assert_int_equal(eimg_check_time_apply(&t, "d", 1301, 300, &at, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "lies in the future"));
	assert_int_equal(at, 7);
	/* no freshness policy: any age; with one: at most max_age */
	assert_int_equal(eimg_check_time_apply(&t, "d", 1, 300, &at, &err), EIMG_OK);
	t.max_age = 100;
	assert_int_equal(eimg_check_time_apply(&t, "d", 900, 300, &at, &err), EIMG_OK);
	assert_int_equal(eimg_check_time_apply(&t, "d", 899, 300, &at, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "too old"));
	assert_non_null(strstr(err.msg, "101 s before"));
	/* as of the document's own time: always fresh, never in the future */
	t.at = EIMG_AT_DOCUMENT;
	assert_int_equal(eimg_check_time_apply(&t, "d", 5, 0, &at, &err), EIMG_OK);
	assert_int_equal(at, 5);
}

static int decode(const char *text, size_t len, uint8_t **out, size_t *outlen, int *kind, eimg_error *err)
{
	return eimg_attest_doc_decode("doc", (const uint8_t *)text, len, out, outlen, kind, err);
}

static void test_doc_forms(void **state)
{
	(void)state;
	uint8_t *out = NULL;
	size_t n = 0;
	int kind = 0;
	eimg_error err;
	/* raw CBOR: an untagged COSE_Sign1 (array of 4) and a tagged one, passed as is */
	const char raw[] = "\x84\x40\xa0\x40\x40";
	assert_int_equal(decode(raw, 5, &out, &n, &kind, &err), EIMG_OK);
	assert_int_equal(kind, EIMG_ATTEST_DOC_COSE);
	assert_int_equal(n, 5);
	assert_memory_equal(out, raw, 5);
	free(out);
	assert_int_equal(decode("\xd2\x84\x40\xa0\x40\x40", 6, &out, &n, &kind, &err), EIMG_OK);
	assert_int_equal(n, 6);
	free(out);
	/* hex and base64 text of the same bytes (white space and line breaks allowed) */
	assert_int_equal(decode(" 84 40a0\n4040\n", 14, &out, &n, &kind, &err), EIMG_OK);
	assert_int_equal(kind, EIMG_ATTEST_DOC_COSE);
	assert_int_equal(n, 5);
	assert_memory_equal(out, raw, 5);
	free(out);
	assert_int_equal(decode("hECgQEA=\n", 9, &out, &n, &kind, &err), EIMG_OK); /* base64 of raw */
	assert_int_equal(n, 5);
	assert_memory_equal(out, raw, 5);
	free(out);
	/* JSON (enclave-attestation(5)) is passed as is */
	assert_int_equal(decode("  {\"format\":1}", 14, &out, &n, &kind, &err), EIMG_OK);
	assert_int_equal(kind, EIMG_ATTEST_DOC_JSON);
	assert_int_equal(n, 14);
	free(out);
}

static void test_doc_refused(void **state)
{
	(void)state;
	uint8_t *out = (uint8_t *)"x";
	size_t n = 0;
	int kind = 0;
	eimg_error err;
	assert_int_equal(decode("   \n", 4, &out, &n, &kind, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "empty document"));
	assert_int_equal(decode("hello world", 11, &out, &n, &kind, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "not an attestation document"));
	assert_int_equal(decode("aGVsbG8=", 8, &out, &n, &kind, &err), EIMG_EINVAL); /* base64 of "hello" */
	assert_non_null(strstr(err.msg, "does not decode to a COSE_Sign1"));
	assert_int_equal(decode("hECgQEA", 7, &out, &n, &kind, &err), EIMG_EINVAL);   /* unpadded */
	assert_int_equal(decode("hECgQEB=", 8, &out, &n, &kind, &err), EIMG_EINVAL);  /* non-canonical bits */
	assert_int_equal(decode("84 4", 4, &out, &n, &kind, &err), EIMG_EINVAL);      /* odd hex */
	assert_int_equal(decode(NULL, 3, &out, &n, &kind, &err), EIMG_EUSAGE);
	assert_string_equal((const char *)out, "x"); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_at_forms),   cmocka_unit_test(test_at_refused), cmocka_unit_test(test_durations),
		cmocka_unit_test(test_apply),      cmocka_unit_test(test_doc_forms),  cmocka_unit_test(test_doc_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
