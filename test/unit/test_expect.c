/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for expected values (--expect, --expect-file): parsing, every
 * error, and the mismatch report naming expected and actual values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "eimg/constraint.h"
#include "eimg/expect.h"
#include "eimg/util.h"

static void hex64(char *buf, char c)
{
	memset(buf, c, 64);
	buf[64] = '\0';
}

static void test_parse_forms(void **state)
{
	(void)state;
	struct eimg_expect e;
	eimg_error err;
	char a[65], b[65], text[512];
	hex64(a, 'a');
	hex64(b, 'B');
	memset(&e, 0, sizeof(e));
	assert_true(eimg_expect_empty(&e));
	/* a bare 64-digit value is MRENCLAVE; names are case-sensitive, hex is not */
	assert_int_equal(eimg_expect_parse(&e, a, "--expect", &err), EIMG_OK);
	assert_true(e.has_mrenclave);
	assert_int_equal(e.mrenclave[0], 0xaa);
	char pcr[97];
	memset(pcr, 'c', 96);
	pcr[96] = '\0';
	snprintf(text, sizeof(text), "# pinned by CI\n  mrsigner:0x%s\tPCR8:%s # trailing\n", b, pcr);
	assert_int_equal(eimg_expect_parse(&e, text, "f", &err), EIMG_OK);
	assert_true(e.has_mrsigner);
	assert_int_equal(e.mrsigner[31], 0xbb);
	assert_int_equal(e.pcr_mask, 1u << 8);
	assert_int_equal(e.pcr[8][47], 0xcc);
	assert_false(eimg_expect_empty(&e));
}

static void test_parse_errors(void **state)
{
	(void)state;
	struct eimg_expect e, before;
	eimg_error err;
	char a[65], t[300];
	hex64(a, '1');
	static const struct { const char *fmt; const char *msg; } cases[] = {
		{ "", "no expected value" },
		{ "# only a comment\n", "no expected value" },
		{ "abc", "expected 64 hex digits" },
		{ "MRENCLAVE:%s", "unknown expected value" },
		{ "PCR9:%s", "unknown expected value" },
		{ "mrsigner:%s mrsigner:%s", "more than once" },
		{ "%s mrenclave:%s", "more than once" },
		{ "mrenclave:%.63s", "expected 64 hex digits" },
		{ "PCR0:%s", "expected 96 hex digits" },
		{ "mrenclave:%.62szz", "not a hex digit" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		memset(e.mrsigner, 0x55, 32);
		before = e;
		snprintf(t, sizeof(t), cases[i].fmt, a, a);
		eimg_error_clear(&err);
		assert_int_equal(eimg_expect_parse(&e, t, "src", &err), EIMG_EINVAL);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("case %zu: '%s' gave '%s'", i, t, err.msg);
		/* a failed parse changes nothing */
		assert_memory_equal(&e, &before, sizeof(e));
	}
	/* a token that is too long is refused without overflowing */
	char *big = malloc(5000);
	memset(big, 'f', 4999);
	big[4999] = '\0';
	memset(&e, 0, sizeof(e));
	assert_int_equal(eimg_expect_parse(&e, big, "src", &err), EIMG_EINVAL);
	free(big);
	big = malloc(EIMG_EXPECT_MAX_TEXT + 2);
	memset(big, ' ', EIMG_EXPECT_MAX_TEXT + 1);
	big[EIMG_EXPECT_MAX_TEXT + 1] = '\0';
	assert_int_equal(eimg_expect_parse(&e, big, "src", &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "above"));
	free(big);
}

static void test_check_reports_every_difference(void **state)
{
	(void)state;
	struct eimg_expect e;
	struct eimg_identity id;
	eimg_error err;
	char a[65], pcr[97], text[400];
	hex64(a, '0');
	memset(pcr, '0', 96);
	pcr[96] = '\0';
	memset(&e, 0, sizeof(e));
	snprintf(text, sizeof(text), "mrenclave:%s mrsigner:%s PCR2:%s", a, a, pcr);
	assert_int_equal(eimg_expect_parse(&e, text, "t", &err), EIMG_OK);
	memset(&id, 0, sizeof(id));
	id.has_sgx = true;
	id.pcr_mask = 1u << 2;
	assert_int_equal(eimg_expect_check(&e, &id, &err), EIMG_OK);
	/* unsigned: MRSIGNER is not available, and that is a mismatch */
	id.no_sigstruct = true;
	assert_int_equal(eimg_expect_check(&e, &id, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "MRSIGNER differs: expected 0000"));
	assert_non_null(strstr(err.msg, "actual (none"));
	assert_null(strstr(err.msg, "MRENCLAVE"));
	/* every differing value is named, with both values */
	id.no_sigstruct = false;
	id.mrenclave[0] = 0x12;
	id.pcr[2][47] = 0x34;
	assert_int_equal(eimg_expect_check(&e, &id, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "MRENCLAVE differs: expected 00000000"));
	assert_non_null(strstr(err.msg, "actual 1200"));
	assert_non_null(strstr(err.msg, "PCR2 differs"));
	assert_non_null(strstr(err.msg, "34"));
	assert_null(strstr(err.msg, "MRSIGNER"));
	/* a PCR that the input does not have */
	id.pcr_mask = 0;
	id.pcr[2][47] = 0;
	id.mrenclave[0] = 0;
	assert_int_equal(eimg_expect_check(&e, &id, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "PCR2 differs"));
}

static void test_parse_file(void **state)
{
	(void)state;
	struct eimg_expect e;
	eimg_error err;
	char path[] = "/tmp/eimg-expect-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	char a[65];
	hex64(a, 'd');
	assert_true(write(fd, "# header\n", 9) == 9);
	assert_true(write(fd, a, 64) == 64);
	close(fd);
	memset(&e, 0, sizeof(e));
	assert_int_equal(eimg_expect_parse_file(&e, path, &err), EIMG_OK);
	assert_int_equal(e.mrenclave[5], 0xdd);
	/* a NUL byte: not a text file */
	fd = open(path, O_WRONLY | O_APPEND);
	assert_true(write(fd, "\0", 1) == 1);
	close(fd);
	memset(&e, 0, sizeof(e));
	assert_int_equal(eimg_expect_parse_file(&e, path, &err), EIMG_EINVAL);
	assert_string_equal(err.file, path);
	unlink(path);
	assert_int_not_equal(eimg_expect_parse_file(&e, path, &err), EIMG_OK);
	assert_string_equal(err.file, path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_check_reports_every_difference),
		cmocka_unit_test(test_parse_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
