/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the shared helpers of core/util.c: the one ISO 8601 time
 * formatter (known answers computed with Python's datetime) and the growing
 * text builder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/internal.h"

static void test_iso_time_known(void **state)
{
	(void)state;
	static const struct { int64_t t; const char *iso; } v[] = {
		{ 0, "1970-01-01T00:00:00Z" },
		{ -1, "1969-12-31T23:59:59Z" },
		{ 951782400, "2000-02-29T00:00:00Z" },        /* a leap day */
		{ 1733400000, "2024-12-05T12:00:00Z" },
		{ 253402300799, "9999-12-31T23:59:59Z" },
		{ 253402300800, "10000-01-01T00:00:00Z" },
		{ -62135596800, "0001-01-01T00:00:00Z" },     /* padded to four digits */
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char out[EIMG_ISO_TIME_MAX];
		assert_true(eimg_iso_time(v[i].t, out));
		assert_string_equal(out, v[i].iso);
	}
}

static void test_iso_time_unrepresentable(void **state)
{
	(void)state;
	char out[EIMG_ISO_TIME_MAX];
	/* years beyond a struct tm: reported, the text still fits */
	assert_false(eimg_iso_time(INT64_MAX, out));
	assert_true(strlen(out) < EIMG_ISO_TIME_MAX);
	assert_false(eimg_iso_time(INT64_MIN + 1, out));
	assert_true(strlen(out) < EIMG_ISO_TIME_MAX);
}

static void test_sb(void **state)
{
	(void)state;
	struct eimg_sb b = { 0 };
	for (int i = 0; i < 1000; i++)
		eimg_sb_printf(&b, "%d,", i % 10);
	char *s = eimg_sb_done(&b);
	assert_non_null(s);
	assert_int_equal(strlen(s), 2000);
	assert_memory_equal(s, "0,1,2,", 6);
	free(s);
	struct eimg_sb empty = { 0 };
	assert_null(eimg_sb_done(&empty));
}

/* One field style: "key:" then the value at column EIMG_SB_FIELD_COL. */
static void test_sb_field(void **state)
{
	(void)state;
	struct eimg_sb b = { 0 };
	eimg_sb_field(&b, NULL, "pcr0", "%s", "ab");
	eimg_sb_field(&b, "  ", "not_before", "%d", 7);
	char *s = eimg_sb_done(&b);
	assert_non_null(s);
	assert_string_equal(s, "pcr0:                   ab\n  not_before:           7\n");
	assert_int_equal(strchr(s, 'a') - s, EIMG_SB_FIELD_COL);
	free(s);
}

/* snake_case and nitro-cli's PascalCase, both ways; a key too long to
 * rename whole stays as it is; not an object: NULL. */
static void test_json_renamed(void **state)
{
	(void)state;
	char longkey[200];
	memset(longkey, 'A', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	json_t *o = json_pack("{s:i, s:i, s:{s:i}, s:i}", "BuildToolVersion", 1, "PCR0", 2, "DockerInfo", "Id", 3,
			      longkey, 4);
	json_t *snake = eimg_json_renamed(o, true);
	assert_non_null(snake);
	assert_int_equal(json_integer_value(json_object_get(snake, "build_tool_version")), 1);
	assert_int_equal(json_integer_value(json_object_get(snake, "p_c_r0")), 2);
	assert_non_null(json_object_get(json_object_get(snake, "docker_info"), "Id")); /* shallow */
	assert_int_equal(json_integer_value(json_object_get(snake, longkey)), 4);
	json_t *back = eimg_json_renamed(snake, false);
	assert_non_null(back);
	assert_int_equal(json_integer_value(json_object_get(back, "BuildToolVersion")), 1);
	assert_non_null(json_object_get(back, "DockerInfo"));
	json_t *cert = json_pack("{s:s}", "not_before", "x");
	json_t *pc = eimg_json_renamed(cert, false);
	assert_string_equal(json_string_value(json_object_get(pc, "NotBefore")), "x");
	assert_null(eimg_json_renamed(json_object_get(o, "PCR0"), true));
	json_decref(pc);
	json_decref(cert);
	json_decref(back);
	json_decref(snake);
	json_decref(o);
}

/* The PCRs in both namings, only the registers in the mask. */
static void test_json_pcrs(void **state)
{
	(void)state;
	uint8_t pcr[9][48];
	memset(pcr, 0, sizeof pcr);
	pcr[8][0] = 0xab;
	json_t *m = eimg_json_pcrs((const uint8_t (*)[48])pcr, 0x107, false);
	json_t *c = eimg_json_pcrs((const uint8_t (*)[48])pcr, 0x7, true);
	assert_int_equal(json_object_size(m), 5);
	assert_string_equal(json_string_value(json_object_get(m, "hash_algorithm")), "sha384");
	assert_memory_equal(json_string_value(json_object_get(m, "pcr8")), "ab00", 4);
	assert_null(json_object_get(m, "pcr3"));
	assert_int_equal(json_object_size(c), 4);
	assert_string_equal(json_string_value(json_object_get(c, "HashAlgorithm")), "Sha384 { ... }");
	assert_int_equal(strlen(json_string_value(json_object_get(c, "PCR2"))), 96);
	assert_null(json_object_get(c, "PCR8"));
	json_decref(m);
	json_decref(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso_time_known),
		cmocka_unit_test(test_iso_time_unrepresentable),
		cmocka_unit_test(test_sb),
		cmocka_unit_test(test_sb_field),
		cmocka_unit_test(test_json_renamed),
		cmocka_unit_test(test_json_pcrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
