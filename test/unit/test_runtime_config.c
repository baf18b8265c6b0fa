/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime configuration's listening address (run/runtime_config.c):
 * listen, ingress, neither, both, and malformed values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <enclaveimg.h>

static int listen_of(const char *json, char *buf, size_t size, eimg_error *err)
{
	eimg_image *img = eimg_image_new();
	assert_non_null(img);
	if (json)
		assert_int_equal(eimg_image_set_runtime(img, json, strlen(json), err), EIMG_OK);
	int rc = eimg_runtime_listen(img, "x.eimg", buf, size, err);
	eimg_image_free(img);
	return rc;
}

static void test_listen(void **state)
{
	(void)state;
	char buf[64];
	eimg_error err;
	assert_int_equal(listen_of("{\"listen\": \"unix:/run/a.sock\"}", buf, sizeof buf, &err), EIMG_OK);
	assert_string_equal(buf, "unix:/run/a.sock");
	assert_int_equal(listen_of("{\"ingress\": [8080]}", buf, sizeof buf, &err), EIMG_OK);
	assert_string_equal(buf, "tcp:127.0.0.1:8080");
	assert_int_equal(listen_of("{\"other\": 1}", buf, sizeof buf, &err), EIMG_OK);
	assert_string_equal(buf, "");
	assert_int_equal(listen_of(NULL, buf, sizeof buf, &err), EIMG_OK);
	assert_string_equal(buf, "");
}

static void test_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"{\"listen\": \"unix:a\", \"ingress\": [1]}", "{\"listen\": \"\"}", "{\"listen\": 5}",
		"{\"ingress\": [65536]}", "{\"ingress\": [-1]}", "{\"ingress\": [1, 2]}", "{\"ingress\": 80}",
		"{\"ingress\": [\"80\"]}",
	};
	char buf[64];
	eimg_error err;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		eimg_error_clear(&err);
		assert_int_equal(listen_of(bad[i], buf, sizeof buf, &err), EIMG_EINVAL);
		assert_string_equal(err.file, "x.eimg");
		assert_non_null(strstr(err.msg, "runtime"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
