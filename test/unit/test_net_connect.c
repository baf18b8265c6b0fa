/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP CONNECT parser and writers (net/connect.c): good requests,
 * incomplete ones, malformed ones (method, authority, line ends, headers),
 * the size and header-count limits, answers, and a write/parse round trip;
 * transport address text (net/addr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <enclaveimg.h>
#include "net/net_int.h"

static const struct eimg_net_limits lim = { 8192, 64, 10000, 10000, 600000, 256, 16384 };

static long parse(const char *req, struct net_connect *c, int *status)
{
	const char *reason = NULL;
	*status = 0;
	long n = eimg_net_connect_parse(req, strlen(req), &lim, c, status, &reason);
	if (n < 0)
		assert_non_null(reason);
	return n;
}

static void test_good(void **state)
{
	(void)state;
	struct net_connect c;
	int st;
	const char *r = "CONNECT Example.COM.:443 HTTP/1.1\r\nHost: example.com:443\r\nUser-Agent: x\r\n\r\nDATA";
	assert_int_equal(parse(r, &c, &st), (long)strlen(r) - 4);
	assert_string_equal(c.host.name, "example.com");
	assert_int_equal(c.host.kind, NET_HOST_NAME);
	assert_int_equal(c.port, 443);
	assert_int_equal(parse("CONNECT [2001:db8::1]:8443 HTTP/1.0\r\n\r\n", &c, &st), 39);
	assert_int_equal(c.host.kind, NET_HOST_V6);
	assert_string_equal(c.host.name, "2001:db8::1");
	assert_int_equal(c.port, 8443);
	assert_int_equal(parse("CONNECT 10.0.0.1:1 HTTP/1.1\r\nX:\r\n\r\n", &c, &st), 35);
	assert_int_equal(c.host.kind, NET_HOST_V4);
}

static void test_incomplete(void **state)
{
	(void)state;
	struct net_connect c;
	int st;
	assert_int_equal(parse("", &c, &st), 0);
	assert_int_equal(parse("CONN", &c, &st), 0);
	assert_int_equal(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n", &c, &st), 0);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct { const char *req; int status; } bad[] = {
		{ "GET http://example.com/ HTTP/1.1\r\n\r\n", 405 },
		{ "connect example.com:443 HTTP/1.1\r\n\r\n", 405 },
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400 },
		{ "CONNECT example.com HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT example.com:0 HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT example.com:65536 HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT example.com:+80 HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT example.com:443 HTTP/2.0\r\n\r\n", 400 },
		{ "CONNECT example.com:443 HTTP/1.1 \r\n\r\n", 400 },
		{ "CONNECT  example.com:443 HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT 2001:db8::1:443 HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT [example.com]:443 HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT [10.0.0.1]:443 HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT 2130706433:443 HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT user@example.com:443 HTTP/1.1\r\n\r\n", 400 },
		{ "CONNECT example.com:443 HTTP/1.1\nHost: x\r\n\r\n", 400 },
		{ "CONNECT example.com:443 HTTP/1.1\r\nHost: x\rY\r\n\r\n", 400 },
		{ "CONNECT example.com:443 HTTP/1.1\r\n Host: x\r\n\r\n", 400 },
		{ "CONNECT example.com:443 HTTP/1.1\r\nHost x\r\n\r\n", 400 },
		{ "CONNECT example.com:443 HTTP/1.1\r\nHo st: x\r\n\r\n", 400 },
		{ "CONNECT example.com:443 HTTP/1.1\r\nHost: \x01\r\n\r\n", 400 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct net_connect c;
		int st;
		if (parse(bad[i].req, &c, &st) != -1 || st != bad[i].status)
			fail_msg("request %zu: not refused with %d (got %d)", i, bad[i].status, st);
	}
	/* a NUL inside the head */
	static const char nul[] = "CONNECT a.com:1 HTTP/1.1\r\nX: a\0b\r\n\r\n";
	struct net_connect c;
	int st = 0;
	const char *reason;
	assert_int_equal(eimg_net_connect_parse(nul, sizeof(nul) - 1, &lim, &c, &st, &reason), -1);
	assert_int_equal(st, 400);
}

static void test_limits(void **state)
{
	(void)state;
	static char big[20000];
	struct net_connect c;
	int st;
	const char *reason;
	size_t n = (size_t)snprintf(big, sizeof(big), "CONNECT a.com:1 HTTP/1.1\r\nX: ");
	memset(big + n, 'a', 8200);
	big[n + 8200] = '\0';
	assert_int_equal(parse(big, &c, &st), -1);          /* no end within 8 KiB */
	assert_int_equal(st, 431);
	/* exactly at the limit: complete heads up to header_max bytes pass */
	n = (size_t)snprintf(big, sizeof(big), "CONNECT a.com:1 HTTP/1.1\r\nX: ");
	memset(big + n, 'a', 8192 - n - 4);
	memcpy(big + 8192 - 4, "\r\n\r\n", 5);
	assert_int_equal(eimg_net_connect_parse(big, 8192, &lim, &c, &st, &reason), 8192);
	/* 64 headers pass, 65 do not */
	n = (size_t)snprintf(big, sizeof(big), "CONNECT a.com:1 HTTP/1.1\r\n");
	for (int i = 0; i < 64; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X%d: y\r\n", i);
	snprintf(big + n, sizeof(big) - n, "\r\n");
	assert_true(parse(big, &c, &st) > 0);
	snprintf(big + n, sizeof(big) - n, "Z: y\r\n\r\n");
	assert_int_equal(parse(big, &c, &st), -1);
	assert_int_equal(st, 431);
	/* too many lines refused before the head is complete */
	n = (size_t)snprintf(big, sizeof(big), "CONNECT a.com:1 HTTP/1.1\r\n");
	for (int i = 0; i < 70; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X: y\r\n");
	assert_int_equal(parse(big, &c, &st), -1);
	assert_int_equal(st, 431);
}

static void test_roundtrip(void **state)
{
	(void)state;
	static const char *const hosts[] = { "a.example.com", "10.1.2.3", "2001:db8::7" };
	for (size_t i = 0; i < 3; i++) {
		struct net_connect c = { .port = 8443 }, back;
		char buf[512];
		int st;
		assert_true(eimg_net_host_parse(hosts[i], strlen(hosts[i]), &c.host));
		size_t n = eimg_net_connect_write(buf, sizeof(buf), &c);
		assert_true(n > 0);
		assert_int_equal(parse(buf, &back, &st), (long)n);
		assert_string_equal(back.host.name, c.host.name);
		assert_int_equal(back.port, 8443);
	}
	struct net_connect c = { .port = 1 };
	char small[10];
	assert_true(eimg_net_host_parse("a.com", 5, &c.host));
	assert_int_equal(eimg_net_connect_write(small, sizeof(small), &c), 0);
}

static void test_response(void **state)
{
	(void)state;
	char buf[256];
	int code = 0;
	size_t n = eimg_net_response_write(buf, sizeof(buf), 200, NULL);
	assert_string_equal(buf, "HTTP/1.1 200 Connection established\r\n\r\n");
	assert_int_equal(eimg_net_response_parse(buf, n, 8192, &code), (long)n);
	assert_int_equal(code, 200);
	n = eimg_net_response_write(buf, sizeof(buf), 403, "deny rule 1 (evil.com)");
	assert_non_null(strstr(buf, "HTTP/1.1 403 Forbidden\r\n"));
	assert_non_null(strstr(buf, "\r\n\r\ndeny rule 1 (evil.com)\n"));
	assert_true(eimg_net_response_parse(buf, n, 8192, &code) > 0);
	assert_int_equal(code, 403);
	assert_int_equal(eimg_net_response_parse("HTTP/1.1 200 OK\r\n", 17, 8192, &code), 0);
	assert_int_equal(eimg_net_response_parse("SSH-2.0-OpenSSH\r\n\r\n", 19, 8192, &code), -1);
	assert_int_equal(eimg_net_response_parse("HTTP/1.1 2x0 OK\r\n\r\n", 19, 8192, &code), -1);
	assert_int_equal(eimg_net_response_parse("HTTP/1.1 200 OK\n\n", 17, 8192, &code), 0);
	assert_int_equal(eimg_net_response_parse("HTTP/1.1 200 OK\r\n\r\n", 19, 10, &code), -1);
}

static void test_addr(void **state)
{
	(void)state;
	struct net_addr a;
	eimg_error err;
	assert_int_equal(eimg_net_addr_parse("tcp:127.0.0.1:10000", &a, &err), EIMG_OK);
	assert_int_equal(a.family, AF_INET);
	assert_int_equal(eimg_net_addr_parse("tcp:[::1]:80", &a, &err), EIMG_OK);
	assert_int_equal(a.family, AF_INET6);
	assert_int_equal(eimg_net_addr_parse("vsock:3:17002", &a, &err), EIMG_OK);
	assert_int_equal(a.family, AF_VSOCK);
	assert_int_equal(eimg_net_addr_parse("vsock:any:8080", &a, &err), EIMG_OK);
	assert_int_equal(eimg_net_addr_parse("unix:/tmp/x.sock", &a, &err), EIMG_OK);
	assert_int_equal(a.family, AF_UNIX);
	static const char *const bad[] = { "tcp:localhost:80", "tcp:127.0.0.1", "tcp:127.0.0.1:65536", "tcp:::1:80",
					   "tcp:[::1]80", "vsock:x:1", "vsock:3", "unix:", "udp:1.2.3.4:5", "tcp:1.2.3.4:08" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (eimg_net_addr_parse(bad[i], &a, &err) != EIMG_EINVAL)
			fail_msg("address '%s' accepted", bad[i]);
		assert_non_null(strstr(err.msg, "transport address"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_incomplete),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_addr),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
