/* SPDX-License-Identifier: Apache-2.0 */
/* The egress policy (net/policy.c): a table of destinations against one
 * policy (names, wildcards and apex, case, trailing dot, IPv4/IPv6 literals,
 * CIDRs, ports, deny wins), the deciding rule, bad patterns, and the host
 * side's re-check of resolved addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <enclaveimg.h>

static char *allow[] = {
	"api.example.com:443",   /* 1 */
	"*.cdn.example.net",     /* 2 */
	"10.0.0.0/8:5432",       /* 3 */
	"192.0.2.7",             /* 4 */
	"[2001:db8::/32]:443",   /* 5 */
	"fd00::1",               /* 6 */
	"Files.Example.ORG.",    /* 7 */
};
static char *deny[] = {
	"*.evil.cdn.example.net", /* 1 */
	"10.9.0.0/16",            /* 2 */
	"api.example.com:8443",   /* 3 */
	"2001:db8:dead::/48",     /* 4 */
};

struct row {
	const char *host;
	uint16_t port;
	int allowed;
	int list;
	size_t index;
};

static const struct row rows[] = {
	{ "api.example.com", 443, 1, EIMG_NET_RULE_ALLOW, 0 },
	{ "API.Example.COM.", 443, 1, EIMG_NET_RULE_ALLOW, 0 },       /* case, trailing dot */
	{ "api.example.com", 80, 0, EIMG_NET_RULE_NONE, 0 },          /* port of the rule */
	{ "api.example.com", 8443, 0, EIMG_NET_RULE_DENY, 2 },
	{ "example.com", 443, 0, EIMG_NET_RULE_NONE, 0 },
	{ "x.api.example.com", 443, 0, EIMG_NET_RULE_NONE, 0 },       /* exact is exact */
	{ "a.cdn.example.net", 1, 1, EIMG_NET_RULE_ALLOW, 1 },        /* wildcard, any port */
	{ "a.b.cdn.example.net", 65535, 1, EIMG_NET_RULE_ALLOW, 1 },  /* several labels */
	{ "cdn.example.net", 443, 0, EIMG_NET_RULE_NONE, 0 },         /* not the apex */
	{ "xcdn.example.net", 443, 0, EIMG_NET_RULE_NONE, 0 },        /* label boundary */
	{ "x.evil.cdn.example.net", 443, 0, EIMG_NET_RULE_DENY, 0 },  /* deny wins */
	{ "10.1.2.3", 5432, 1, EIMG_NET_RULE_ALLOW, 2 },
	{ "10.1.2.3", 5433, 0, EIMG_NET_RULE_NONE, 0 },
	{ "10.9.2.3", 5432, 0, EIMG_NET_RULE_DENY, 1 },               /* deny CIDR wins */
	{ "11.0.0.1", 5432, 0, EIMG_NET_RULE_NONE, 0 },
	{ "::ffff:10.9.0.1", 5432, 0, EIMG_NET_RULE_DENY, 1 },        /* mapped IPv4 is IPv4 */
	{ "::ffff:10.1.0.1", 5432, 1, EIMG_NET_RULE_ALLOW, 2 },
	{ "192.0.2.7", 22, 1, EIMG_NET_RULE_ALLOW, 3 },
	{ "192.0.2.8", 22, 0, EIMG_NET_RULE_NONE, 0 },
	{ "2001:db8::1", 443, 1, EIMG_NET_RULE_ALLOW, 4 },
	{ "2001:DB8:0:0::1", 443, 1, EIMG_NET_RULE_ALLOW, 4 },
	{ "2001:db8::1", 80, 0, EIMG_NET_RULE_NONE, 0 },
	{ "2001:db8:dead::1", 443, 0, EIMG_NET_RULE_DENY, 3 },
	{ "fd00::1", 9, 1, EIMG_NET_RULE_ALLOW, 5 },
	{ "fd00::2", 9, 0, EIMG_NET_RULE_NONE, 0 },
	{ "files.example.org", 443, 1, EIMG_NET_RULE_ALLOW, 6 },
	/* names are never addresses and addresses never names */
	{ "192.0.2.7.nip.io", 22, 0, EIMG_NET_RULE_NONE, 0 },
	/* numbers that a resolver would read as addresses are no names */
	{ "2130706433", 443, 0, EIMG_NET_RULE_INVALID, 0 },
	{ "10.1.2", 5432, 0, EIMG_NET_RULE_INVALID, 0 },
	{ "0x0a.1.2.3", 5432, 0, EIMG_NET_RULE_INVALID, 0 },
	{ "a.0x7f", 443, 0, EIMG_NET_RULE_INVALID, 0 },
	{ "010.1.2.3", 5432, 0, EIMG_NET_RULE_INVALID, 0 },
	{ "", 443, 0, EIMG_NET_RULE_INVALID, 0 },
	{ "a..b", 443, 0, EIMG_NET_RULE_INVALID, 0 },
	{ "a b", 443, 0, EIMG_NET_RULE_INVALID, 0 },
	{ "fe80::1%eth0", 443, 0, EIMG_NET_RULE_INVALID, 0 },
	{ "api.example.com", 0, 0, EIMG_NET_RULE_INVALID, 0 },
};

static void test_table(void **state)
{
	(void)state;
	eimg_net_policy *p = NULL;
	eimg_error err;
	assert_int_equal(eimg_net_policy_new(allow, 7, deny, 4, &p, &err), EIMG_OK);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct eimg_net_verdict v;
		int got = eimg_net_policy_check(p, rows[i].host, rows[i].port, &v);
		if (got != rows[i].allowed || v.list != rows[i].list || v.index != rows[i].index)
			fail_msg("%s:%u: got %d list %d index %zu (%s)", rows[i].host, rows[i].port, got, v.list,
				 v.index, v.why);
		assert_int_equal(v.allowed, got);
	}
	eimg_net_policy_free(p);
}

static void test_why(void **state)
{
	(void)state;
	eimg_net_policy *p = NULL;
	eimg_error err;
	struct eimg_net_verdict v;
	assert_int_equal(eimg_net_policy_new(allow, 7, deny, 4, &p, &err), EIMG_OK);
	assert_int_equal(eimg_net_policy_check(p, "x.evil.cdn.example.net", 443, &v), 0);
	assert_string_equal(v.why, "deny rule 1 (*.evil.cdn.example.net)");
	assert_int_equal(eimg_net_policy_check(p, "a.cdn.example.net", 443, &v), 1);
	assert_string_equal(v.why, "allow rule 2 (*.cdn.example.net)");
	assert_int_equal(eimg_net_policy_check(p, "nowhere.test", 443, &v), 0);
	assert_string_equal(v.why, "no allow rule matches");
	assert_int_equal(eimg_net_policy_check(p, "2130706433", 443, NULL), 0);
	eimg_net_policy_free(p);
}

static void test_any_and_empty(void **state)
{
	(void)state;
	char *any[] = { "*" }, *any443[] = { "*:443" }, *none[] = { "10.0.0.0/8" };
	eimg_net_policy *p = NULL;
	eimg_error err;
	assert_int_equal(eimg_net_policy_new(NULL, 0, NULL, 0, &p, &err), EIMG_OK);
	assert_int_equal(eimg_net_policy_check(p, "example.com", 443, NULL), 0);   /* no allow list: nothing */
	eimg_net_policy_free(p);
	assert_int_equal(eimg_net_policy_new(any, 1, none, 1, &p, &err), EIMG_OK);
	assert_int_equal(eimg_net_policy_check(p, "example.com", 1, NULL), 1);
	assert_int_equal(eimg_net_policy_check(p, "192.0.2.1", 1, NULL), 1);
	assert_int_equal(eimg_net_policy_check(p, "::1", 1, NULL), 1);
	assert_int_equal(eimg_net_policy_check(p, "10.0.0.1", 1, NULL), 0);
	eimg_net_policy_free(p);
	assert_int_equal(eimg_net_policy_new(any443, 1, NULL, 0, &p, &err), EIMG_OK);
	assert_int_equal(eimg_net_policy_check(p, "example.com", 443, NULL), 1);
	assert_int_equal(eimg_net_policy_check(p, "example.com", 80, NULL), 0);
	eimg_net_policy_free(p);
}

static void test_resolved(void **state)
{
	(void)state;
	char *a[] = { "*.example.com" };
	char *d[] = { "*.example.com:25", "127.0.0.0/8", "[::1]:443", "169.254.169.254" };
	eimg_net_policy *p = NULL;
	eimg_error err;
	struct eimg_net_verdict v;
	assert_int_equal(eimg_net_policy_new(a, 1, d, 4, &p, &err), EIMG_OK);
	assert_int_equal(eimg_net_policy_check_resolved(p, "93.184.216.34", 443, &v), 1);
	assert_int_equal(eimg_net_policy_check_resolved(p, "127.0.0.1", 443, &v), 0);
	assert_string_equal(v.why, "deny rule 2 (127.0.0.0/8)");
	assert_int_equal(eimg_net_policy_check_resolved(p, "::ffff:127.0.0.1", 443, &v), 0);
	assert_int_equal(eimg_net_policy_check_resolved(p, "::1", 443, &v), 0);
	assert_int_equal(eimg_net_policy_check_resolved(p, "::1", 80, &v), 1);
	assert_int_equal(eimg_net_policy_check_resolved(p, "169.254.169.254", 80, &v), 0);
	assert_int_equal(eimg_net_policy_check_resolved(p, "example.com", 80, &v), 0);   /* not an address */
	eimg_net_policy_free(p);
}

static void test_bad_patterns(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "*.", "a.*.com", "ex*ample.com", "**", "*.*.com", "example.com:0", "example.com:65536",
		"example.com:", "example.com:08", "10.0.0.1/33", "10.0.0.1/8", "10.0.0.0/", "10.0.0.0/x",
		"[::1", "[::1]x", "[::1]:", "[example.com]:443", "[10.0.0.1]:80", "fd00::/129", "fd00::1/8",
		"a..b", "-.com/8", "2130706433", "1.2.3", "a b", "exa$mple.com", "example.com:443:1",
		"*.10.0.0.0/8", "*:0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *one[] = { (char *)bad[i] };
		eimg_net_policy *p = NULL;
		eimg_error err;
		eimg_error_clear(&err);
		if (eimg_net_policy_new(one, 1, NULL, 0, &p, &err) != EIMG_EINVAL)
			fail_msg("pattern '%s' accepted", bad[i]);
		assert_null(p);
		assert_non_null(strstr(err.msg, "egress.allow[0]"));
		eimg_error_clear(&err);
		assert_int_equal(eimg_net_policy_new(NULL, 0, one, 1, &p, &err), EIMG_EINVAL);
		assert_non_null(strstr(err.msg, "egress.deny[0]"));
	}
	eimg_net_policy_free(NULL);
}

/* enclave-build refuses, at build time, a pattern the supervisor would refuse at boot. */
static void test_manifest_patterns(void **state)
{
	(void)state;
	static const char head[] = "version: 1\nname: web\ntarget: nitro\nnitro:\n  kernel: bzImage\n"
				   "  cmdline: c\n  init: init\n  app: app.tar\n  entrypoint: [/app]\n";
	char text[512];
	eimg_manifest *m = NULL;
	eimg_error err;
	snprintf(text, sizeof(text), "%s  egress: {allow: ['*.example.com:443', '10.0.0.0/8'], deny: ['fd00::/8']}\n", head);
	assert_int_equal(eimg_manifest_parse_buffer("enclave.yaml", text, strlen(text), NULL, &m, &err), EIMG_OK);
	eimg_manifest_free(m);
	m = NULL;
	snprintf(text, sizeof(text), "%s  egress: {allow: [example.com, 'a.*.com']}\n", head);
	assert_int_equal(eimg_manifest_parse_buffer("enclave.yaml", text, strlen(text), NULL, &m, &err), EIMG_EINVAL);
	assert_null(m);
	assert_non_null(strstr(err.msg, "nitro.egress.allow[1]"));
	assert_non_null(strstr(err.msg, "* only as the whole host or as its first label"));
	snprintf(text, sizeof(text), "%s  egress: {deny: ['10.0.0.1/8']}\n", head);
	assert_int_equal(eimg_manifest_parse_buffer("enclave.yaml", text, strlen(text), NULL, &m, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "bits set beyond the prefix length"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_why),
		cmocka_unit_test(test_any_and_empty),
		cmocka_unit_test(test_resolved),
		cmocka_unit_test(test_bad_patterns),
		cmocka_unit_test(test_manifest_patterns),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
