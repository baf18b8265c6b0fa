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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso_time_known),
		cmocka_unit_test(test_iso_time_unrepresentable),
		cmocka_unit_test(test_sb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
