/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the constraint language (eimg/constraint.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/constraint.h"
#include "eimg/util.h"

#define H1 "2797b9581b9377d41a8ffc45990335048e79c976a6bbb4e7692ecad699a55317"
#define H2 "f96839b2159ecf8ea80cd3c1eb6be7160b05bc0d701b115b64b7e0725d15adee"
#define H3 "bb53e85cb86e7f1e2b7d97620e25d8d0a250c8fdbfe9b7cddf940bd08b646c88"
#define P48A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
#define P48B "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"

static void unhex(const char *h, uint8_t *out, size_t n)
{
	assert_int_equal(eimg_unhex(h, out, n, "test", NULL), EIMG_OK);
}

/* A hardware, non-debug, attested SECURE SGX enclave with MRENCLAVE H1,
 * MRSIGNER H3, product 10, svn 3. */
static struct eimg_identity sgx_id(void)
{
	struct eimg_identity id;
	memset(&id, 0, sizeof(id));
	id.has_sgx = true;
	unhex(H1, id.mrenclave, 32);
	unhex(H3, id.mrsigner, 32);
	id.isvprodid = 10;
	id.isvsvn = 3;
	id.mode = EIMG_ID_HARDWARE;
	id.security = EIMG_SEC_SECURE;
	id.timestamp = 1711886400;
	return id;
}

static eimg_constraint *parse_ok(const char *text)
{
	eimg_constraint *c = NULL;
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_constraint_parse(text, &c, &err);
	if (rc != EIMG_OK)
		fail_msg("parse of \"%s\" failed: %s", text, err.msg);
	assert_non_null(c);
	return c;
}

/* Parse fails with EINVAL, message contains each of the given fragments. */
static void parse_fails(const char *text, const char *frag1, const char *frag2)
{
	eimg_constraint *c = NULL;
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_constraint_parse(text, &c, &err);
	if (rc != EIMG_EINVAL)
		fail_msg("parse of \"%s\": expected EINVAL, got %d (%s)", text, rc, err.msg);
	assert_null(c);
	if (frag1 && !strstr(err.msg, frag1))
		fail_msg("parse of \"%s\": message \"%s\" lacks \"%s\"", text, err.msg, frag1);
	if (frag2 && !strstr(err.msg, frag2))
		fail_msg("parse of \"%s\": message \"%s\" lacks \"%s\"", text, err.msg, frag2);
}

static int check(const char *text, const struct eimg_identity *id, uint64_t now,
		 struct eimg_constraint_failure *f, size_t maxf, size_t *nf, eimg_error *err)
{
	eimg_constraint *c = parse_ok(text);
	eimg_error_clear(err);
	int rc = eimg_constraint_check(c, id, now, f, maxf, nf, err);
	eimg_constraint_free(c);
	return rc;
}

static void expect_match(const char *text, const struct eimg_identity *id, uint64_t now)
{
	eimg_error err;
	size_t nf = 99;
	int rc = check(text, id, now, NULL, 0, &nf, &err);
	if (rc != EIMG_OK)
		fail_msg("\"%s\" should match: %s", text, err.msg);
	assert_int_equal(nf, 0);
}

/* Mismatch with exactly one failure on key. */
static struct eimg_constraint_failure expect_fail1(const char *text, const struct eimg_identity *id,
						    uint64_t now, const char *key)
{
	struct eimg_constraint_failure f[4];
	eimg_error err;
	size_t nf = 0;
	memset(f, 0, sizeof(f));
	int rc = check(text, id, now, f, 4, &nf, &err);
	if (rc != EIMG_EVERIFY)
		fail_msg("\"%s\" should not match (rc %d)", text, rc);
	if (nf != 1)
		fail_msg("\"%s\": expected 1 failure, got %zu: %s", text, nf, err.msg);
	assert_string_equal(f[0].key, key);
	assert_non_null(strstr(err.msg, key));
	return f[0];
}

static void test_parse_all_keys(void **state)
{
	(void)state;
	eimg_constraint *c = parse_ok("  C:" H1 "   C:" H2 " S:" H3 " PROD:10 REVOKE:1 SEC:SECURE EXPIRE:P6M2W5D "
				      "DEBUG:NO PCR0:" P48A " PCR8:" P48B "  ");
	char *s = NULL;
	assert_int_equal(eimg_constraint_format(c, &s, NULL), EIMG_OK);
	assert_string_equal(s, "C:" H1 " C:" H2 " S:" H3 " PROD:10 REVOKE:1 PCR0:" P48A " PCR8:" P48B
			    " SEC:SECURE DEBUG:NO EXPIRE:P6M2W5D");
	/* the canonical form parses to the same constraint */
	eimg_constraint *c2 = parse_ok(s);
	char *s2 = NULL;
	assert_int_equal(eimg_constraint_format(c2, &s2, NULL), EIMG_OK);
	assert_string_equal(s, s2);
	free(s);
	free(s2);
	eimg_constraint_free(c);
	eimg_constraint_free(c2);

	/* upper-case hex accepted, output lower-case; default SEC is STALE; tabs separate */
	c = parse_ok("C:2797B9581B9377D41A8FFC45990335048E79C976A6BBB4E7692ECAD699A55317\tC:" H1);
	assert_int_equal(eimg_constraint_format(c, &s, NULL), EIMG_OK);
	assert_string_equal(s, "C:" H1 " SEC:STALE"); /* C is a set: the duplicate collapses */
	free(s);
	eimg_constraint_free(c);

	/* PCR-only constraints are valid */
	c = parse_ok("PCR3:" P48A);
	assert_int_equal(eimg_constraint_format(c, &s, NULL), EIMG_OK);
	assert_string_equal(s, "PCR3:" P48A " SEC:STALE");
	free(s);
	eimg_constraint_free(c);

	/* period letters in either case (as java.time.Period reads them), P0D */
	c = parse_ok("C:" H1 " EXPIRE:p1y2d");
	assert_int_equal(eimg_constraint_format(c, &s, NULL), EIMG_OK);
	assert_string_equal(s, "C:" H1 " SEC:STALE EXPIRE:P1Y2D");
	free(s);
	eimg_constraint_free(c);
	c = parse_ok("C:" H1 " EXPIRE:P0Y SEC:INSECURE DEBUG:YES");
	assert_int_equal(eimg_constraint_format(c, &s, NULL), EIMG_OK);
	assert_string_equal(s, "C:" H1 " SEC:INSECURE DEBUG:YES EXPIRE:P0D");
	free(s);
	eimg_constraint_free(c);
	eimg_constraint_free(NULL);
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_fails("", "empty", NULL);
	parse_fails("   \t ", "empty", NULL);
	parse_fails("FOO:1 C:" H1, "unknown key \"FOO\"", "token \"FOO:1\"");
	parse_fails("c:" H1, "unknown key \"c\"", NULL); /* keys are case-sensitive */
	parse_fails("C" H1, "no ':'", "column 1");
	parse_fails("C:" H1 " C:ab:cd", "exactly one ':'", "column 68");
	parse_fails("C:" H1 ":", "exactly one ':'", NULL);
	parse_fails(":" H1, "unknown key \"\"", NULL);
	parse_fails("C:zz97b9581b9377d41a8ffc45990335048e79c976a6bbb4e7692ecad699a55317", "hex", "character 1");
	parse_fails("C:2797b9581b9377d41a8ffc45990335048e79c976a6bbb4e7692ecad699a5531", "64 hex digits", "got 63");
	parse_fails("C:0x2797b9581b9377d41a8ffc45990335048e79c976a6bbb4e7692ecad699a553", "hex", NULL);
	parse_fails("C:", "64 hex digits", "got 0");
	parse_fails("PCR0:" H1, "96 hex digits", "got 64");
	parse_fails("PCR9:" P48A, "unknown key \"PCR9\"", NULL);
	parse_fails("PCR10:" P48A, "unknown key", NULL);
	/* repeated keys */
	parse_fails("S:" H3 " PROD:1 PROD:1", "PROD may be given only once", "column 6");
	parse_fails("C:" H1 " REVOKE:1 REVOKE:2", "REVOKE may be given only once", NULL);
	parse_fails("C:" H1 " SEC:STALE SEC:STALE", "SEC may be given only once", NULL);
	parse_fails("C:" H1 " EXPIRE:P1D EXPIRE:P2D", "EXPIRE may be given only once", NULL);
	parse_fails("C:" H1 " DEBUG:NO DEBUG:NO", "DEBUG may be given only once", NULL);
	parse_fails("PCR4:" P48A " PCR4:" P48A, "PCR4 may be given only once", NULL);
	/* S and PROD go together; at least one of C, S, PCRn */
	parse_fails("S:" H3, "S: needs PROD:", "token \"S:" H3 "\"");
	parse_fails("C:" H1 " PROD:1", "PROD: needs at least one S:", "token \"PROD:1\"");
	parse_fails("SEC:STALE REVOKE:2", "at least one C:", NULL);
	parse_fails("DEBUG:NO", "at least one C:", NULL);
	/* values */
	parse_fails("S:" H3 " PROD:65536", "above the maximum of 65535", NULL);
	parse_fails("S:" H3 " PROD:-1", "decimal number", NULL);
	parse_fails("S:" H3 " PROD:+1", "decimal number", NULL);
	parse_fails("S:" H3 " PROD:", "got nothing", NULL);
	parse_fails("S:" H3 " PROD:99999999999999999999999", "above the maximum", NULL);
	parse_fails("C:" H1 " REVOKE:65535", "above the maximum of 65534", NULL);
	parse_fails("C:" H1 " SEC:secure", "SEC:INSECURE, SEC:STALE or SEC:SECURE", NULL);
	parse_fails("C:" H1 " SEC:", "SEC:INSECURE", NULL);
	parse_fails("C:" H1 " DEBUG:no", "DEBUG:NO or DEBUG:YES", NULL);
	parse_fails("C:" H1 " DEBUG:YES", "needs SEC:INSECURE", NULL);
	parse_fails("C:" H1 " DEBUG:YES SEC:STALE", "needs SEC:INSECURE", NULL);
	/* periods */
	parse_fails("C:" H1 " EXPIRE:", "ISO-8601 period", NULL);
	parse_fails("C:" H1 " EXPIRE:6M", "ISO-8601 period", NULL);
	parse_fails("C:" H1 " EXPIRE:P", "no parts", NULL);
	parse_fails("C:" H1 " EXPIRE:P6", "ISO-8601 period", NULL);
	parse_fails("C:" H1 " EXPIRE:PM", "ISO-8601 period", NULL);
	parse_fails("C:" H1 " EXPIRE:P1D1Y", "order", NULL);
	parse_fails("C:" H1 " EXPIRE:P1M1M", "order", NULL);
	parse_fails("C:" H1 " EXPIRE:P-1D", "sign", NULL);
	parse_fails("C:" H1 " EXPIRE:PT1H", "not a time", NULL);
	parse_fails("C:" H1 " EXPIRE:P1X", "unknown unit", NULL);
	parse_fails("C:" H1 " EXPIRE:P100001D", "maximum of 100000", NULL);
	/* untrusted bytes are escaped in the message */
	parse_fails("C:" H1 " X\x01\x1b[31m:1", "token \"X\\x01\\x1b[31m:1\"", NULL);
	parse_fails("C:" H1 " \xff:1", "\\xff", NULL);
	/* NULL text is a usage error */
	eimg_constraint *c = NULL;
	assert_int_equal(eimg_constraint_parse(NULL, &c, NULL), EIMG_EUSAGE);
	assert_null(c);
}

static void test_limits(void **state)
{
	(void)state;
	/* more than EIMG_CONSTRAINT_MAX_HASHES distinct C values */
	size_t n = EIMG_CONSTRAINT_MAX_HASHES + 1;
	char *text = malloc(n * 67 + 1);
	assert_non_null(text);
	size_t o = 0;
	for (size_t i = 0; i < n; i++)
		o += (size_t)sprintf(text + o, "C:%064zx ", i);
	eimg_constraint *c = NULL;
	eimg_error err;
	assert_int_equal(eimg_constraint_parse(text, &c, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "more than 512"));
	/* exactly the limit is fine */
	text[(n - 1) * 67] = '\0';
	assert_int_equal(eimg_constraint_parse(text, &c, &err), EIMG_OK);
	eimg_constraint_free(c);
	free(text);
	/* text above 64 KiB */
	text = malloc(EIMG_CONSTRAINT_MAX_TEXT + 2);
	assert_non_null(text);
	memset(text, ' ', EIMG_CONSTRAINT_MAX_TEXT + 1);
	memcpy(text, "C:" H1, 66);
	text[EIMG_CONSTRAINT_MAX_TEXT + 1] = '\0';
	c = NULL;
	assert_int_equal(eimg_constraint_parse(text, &c, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "limit of 65536"));
	assert_null(c);
	free(text);
}

static void test_file_form(void **state)
{
	(void)state;
	const char *good = "# trusted release enclaves\n"
			   "S:" H3 "   # release key\n"
			   "PROD:10\n\r\n"
			   "REVOKE:2#comment right after\n"
			   "SEC:SECURE\n";
	eimg_constraint *c = NULL;
	eimg_error err;
	assert_int_equal(eimg_constraint_parse_buffer("policy.txt", good, strlen(good), &c, &err), EIMG_OK);
	char *s = NULL;
	assert_int_equal(eimg_constraint_format(c, &s, NULL), EIMG_OK);
	assert_string_equal(s, "S:" H3 " PROD:10 REVOKE:2 SEC:SECURE");
	free(s);
	eimg_constraint_free(c);

	/* errors carry file:line:col */
	const char *bad = "# x\nS:" H3 "\n  PROD:10 BOGUS:1\n";
	c = NULL;
	assert_int_equal(eimg_constraint_parse_buffer("policy.txt", bad, strlen(bad), &c, &err), EIMG_EINVAL);
	assert_null(c);
	assert_string_equal(err.file, "policy.txt");
	assert_int_equal(err.line, 3);
	assert_int_equal(err.column, 11);
	assert_non_null(strstr(err.msg, "unknown key \"BOGUS\""));
	char line[700];
	eimg_error_format(&err, line, sizeof(line));
	assert_non_null(strstr(line, "policy.txt:3:11: token \"BOGUS:1\""));

	/* a NUL byte is refused */
	const char nul[] = "C:" H1 "\0 C:" H2;
	assert_int_equal(eimg_constraint_parse_buffer("p", nul, sizeof(nul) - 1, &c, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "NUL"));
	/* comments only: nothing given */
	assert_int_equal(eimg_constraint_parse_buffer("p", "# nothing\n", 10, &c, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "empty"));
	/* '#' is not a comment in the string form */
	parse_fails("C:" H1 " #x", "no ':'", NULL);

	/* through a real file and the @file argument form */
	char path[] = "/tmp/eimg-constraint-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, good, strlen(good)), (ssize_t)strlen(good));
	close(fd);
	char arg[64];
	snprintf(arg, sizeof(arg), "@%s", path);
	assert_int_equal(eimg_constraint_parse_arg(arg, &c, &err), EIMG_OK);
	eimg_constraint_free(c);
	assert_int_equal(eimg_constraint_parse_file(path, &c, &err), EIMG_OK);
	eimg_constraint_free(c);
	unlink(path);
	assert_int_equal(eimg_constraint_parse_arg(arg, &c, &err), EIMG_EIO);
	assert_string_equal(err.file, path);
	assert_int_equal(eimg_constraint_parse_arg("@", &c, &err), EIMG_EUSAGE);
	assert_int_equal(eimg_constraint_parse_arg("C:" H1, &c, &err), EIMG_OK);
	eimg_constraint_free(c);
}

static void test_check_code_and_signer(void **state)
{
	(void)state;
	struct eimg_identity id = sgx_id();
	uint64_t now = id.timestamp + 10;
	expect_match("C:" H1, &id, now);
	expect_match("C:" H2 " C:" H1, &id, now);
	expect_match("S:" H3 " PROD:10", &id, now);
	expect_match("C:" H2 " S:" H3 " PROD:10", &id, now); /* C OR S */
	expect_match("C:" H1 " S:" H2 " PROD:10", &id, now);

	struct eimg_constraint_failure f = expect_fail1("C:" H2, &id, now, "C");
	assert_string_equal(f.expected, H2);
	assert_string_equal(f.actual, H1);
	f = expect_fail1("C:" H2 " C:" H3, &id, now, "C");
	assert_string_equal(f.expected, H2 " or " H3);
	f = expect_fail1("S:" H2 " PROD:10", &id, now, "S");
	assert_string_equal(f.expected, H2);
	assert_string_equal(f.actual, H3);
	f = expect_fail1("C:" H2 " S:" H1 " PROD:10", &id, now, "C/S");
	assert_string_equal(f.expected, "C:" H2 " or S:" H1);
	assert_string_equal(f.actual, "C:" H1 " S:" H3);
	f = expect_fail1("S:" H3 " PROD:11", &id, now, "PROD");
	assert_string_equal(f.expected, "11");
	assert_string_equal(f.actual, "10");

	/* long lists are truncated with "..." and stay NUL-terminated */
	f = expect_fail1("C:" H2 " C:" H3 " C:" H2 " C:0000000000000000000000000000000000000000000000000000000000000000 "
			 "C:1111111111111111111111111111111111111111111111111111111111111111", &id, now, "C");
	assert_int_equal(strlen(f.expected), EIMG_CONSTRAINT_EXPECTED_MAX - 1);
	assert_string_equal(f.expected + EIMG_CONSTRAINT_EXPECTED_MAX - 4, "...");

	/* C against an identity without SGX values (Nitro) */
	struct eimg_identity nitro;
	memset(&nitro, 0, sizeof(nitro));
	nitro.mode = EIMG_ID_HARDWARE;
	nitro.security = EIMG_SEC_SECURE;
	f = expect_fail1("C:" H1, &nitro, now, "C");
	assert_string_equal(f.actual, "no SGX identity");

	/* an unsigned SGX image: C can hold, S/PROD/REVOKE cannot (even if
	 * mrsigner happens to hold the bytes asked for) */
	struct eimg_identity uns = sgx_id();
	uns.no_sigstruct = true;
	expect_match("C:" H1, &uns, now);
	/* C satisfies "C OR S", but PROD must still hold, and cannot */
	f = expect_fail1("C:" H1 " S:" H3 " PROD:10", &uns, now, "PROD");
	assert_string_equal(f.actual, "unsigned (no SIGSTRUCT)");
	struct eimg_constraint_failure fs[4];
	size_t nf = 0;
	eimg_error err;
	assert_int_equal(check("S:" H3 " PROD:10 REVOKE:0", &uns, now, fs, 4, &nf, &err), EIMG_EVERIFY);
	assert_int_equal(nf, 3);
	assert_string_equal(fs[0].key, "S");
	assert_string_equal(fs[0].actual, "unsigned (no SIGSTRUCT)");
	assert_string_equal(fs[1].key, "PROD");
	assert_string_equal(fs[1].actual, "unsigned (no SIGSTRUCT)");
	assert_string_equal(fs[2].key, "REVOKE");
	assert_int_equal(check("C:" H2 " S:" H3 " PROD:10", &uns, now, fs, 4, &nf, &err), EIMG_EVERIFY);
	assert_int_equal(nf, 2);
	assert_string_equal(fs[0].key, "C/S");
	assert_string_equal(fs[0].actual, "C:" H1 " S:unsigned (no SIGSTRUCT)");
}

static void test_check_revoke(void **state)
{
	(void)state;
	struct eimg_identity id = sgx_id();
	uint64_t now = id.timestamp;
	/* Conclave: revocation level = ISVSVN - 1 */
	id.isvsvn = 2;
	expect_match("C:" H1 " REVOKE:1", &id, now);
	id.isvsvn = 1;
	struct eimg_constraint_failure f = expect_fail1("C:" H1 " REVOKE:1", &id, now, "REVOKE");
	assert_string_equal(f.expected, "revocation level >= 1 (ISVSVN >= 2)");
	assert_string_equal(f.actual, "0 (ISVSVN 1)");
	expect_match("C:" H1 " REVOKE:0", &id, now);
	id.isvsvn = 0;
	f = expect_fail1("C:" H1 " REVOKE:0", &id, now, "REVOKE");
	assert_string_equal(f.actual, "-1 (ISVSVN 0)");
	id.isvsvn = 65535;
	expect_match("C:" H1 " REVOKE:65534", &id, now);
}

static void test_check_security(void **state)
{
	(void)state;
	struct eimg_identity id = sgx_id(), sim = sgx_id(), dbg = sgx_id(), mock = sgx_id(), stale = sgx_id();
	uint64_t now = id.timestamp;
	sim.mode = EIMG_ID_SIMULATION;   /* claims SECURE: forced INSECURE */
	mock.mode = EIMG_ID_MOCK;
	dbg.debug = true;
	stale.security = EIMG_SEC_STALE;
	assert_int_equal(eimg_identity_security(&sim), EIMG_SEC_INSECURE);
	assert_int_equal(eimg_identity_security(&dbg), EIMG_SEC_INSECURE);
	assert_int_equal(eimg_identity_security(&stale), EIMG_SEC_STALE);

	/* default SEC:STALE: hardware STALE and SECURE match; debug/sim/mock do not */
	expect_match("C:" H1, &id, now);
	expect_match("C:" H1, &stale, now);
	struct eimg_constraint_failure f = expect_fail1("C:" H1, &sim, now, "SEC");
	assert_string_equal(f.expected, "STALE or SECURE");
	assert_string_equal(f.actual, "INSECURE (simulation)");
	f = expect_fail1("C:" H1, &dbg, now, "SEC");
	assert_string_equal(f.actual, "INSECURE (debug)");
	f = expect_fail1("C:" H1, &mock, now, "SEC");
	assert_string_equal(f.actual, "INSECURE (mock)");
	/* SEC:SECURE */
	expect_match("C:" H1 " SEC:SECURE", &id, now);
	f = expect_fail1("C:" H1 " SEC:SECURE", &stale, now, "SEC");
	assert_string_equal(f.expected, "SECURE");
	assert_string_equal(f.actual, "STALE");
	/* SEC:INSECURE accepts ONLY insecure enclaves */
	expect_match("C:" H1 " SEC:INSECURE", &sim, now);
	expect_match("C:" H1 " SEC:INSECURE", &dbg, now);
	expect_match("C:" H1 " SEC:INSECURE", &mock, now);
	f = expect_fail1("C:" H1 " SEC:INSECURE", &id, now, "SEC");
	assert_non_null(strstr(f.expected, "INSECURE only"));
	assert_string_equal(f.actual, "SECURE");
	expect_fail1("C:" H1 " SEC:INSECURE", &stale, now, "SEC");

	/* DEBUG:NO refuses a debug enclave whatever SEC says */
	expect_match("C:" H1 " SEC:INSECURE DEBUG:NO", &sim, now);
	f = expect_fail1("C:" H1 " SEC:INSECURE DEBUG:NO", &dbg, now, "DEBUG");
	assert_string_equal(f.actual, "debug");
	expect_match("C:" H1 " DEBUG:NO", &id, now);
	/* DEBUG:YES accepts only a debug enclave */
	expect_match("C:" H1 " SEC:INSECURE DEBUG:YES", &dbg, now);
	f = expect_fail1("C:" H1 " SEC:INSECURE DEBUG:YES", &sim, now, "DEBUG");
	assert_string_equal(f.actual, "not debug");

	/* invalid identities are refused, not matched */
	struct eimg_identity bad = sgx_id();
	eimg_constraint *c = parse_ok("C:" H1);
	eimg_error err;
	bad.security = 7;
	assert_int_equal(eimg_constraint_check(c, &bad, now, NULL, 0, NULL, &err), EIMG_EINVAL);
	bad = sgx_id();
	bad.mode = 0;
	assert_int_equal(eimg_constraint_check(c, &bad, now, NULL, 0, NULL, &err), EIMG_EINVAL);
	assert_int_equal(eimg_constraint_check(c, NULL, now, NULL, 0, NULL, &err), EIMG_EUSAGE);
	eimg_constraint_free(c);
}

/* EXPIRE: the attestation must be strictly newer than now minus the period
 * (months first with the day clamped, then weeks and days; time kept).
 * Expected instants from Python's datetime. */
static void expire_case(const char *period, uint64_t now, uint64_t threshold, const char *when)
{
	char text[200];
	struct eimg_identity id = sgx_id();
	snprintf(text, sizeof(text), "C:" H1 " EXPIRE:%s", period);
	id.timestamp = threshold + 1;
	expect_match(text, &id, now);
	id.timestamp = threshold;
	struct eimg_constraint_failure f = expect_fail1(text, &id, now, "EXPIRE");
	assert_non_null(strstr(f.expected, when));
	assert_non_null(strstr(f.actual, when));
	id.timestamp = threshold - 86400;
	expect_fail1(text, &id, now, "EXPIRE");
}

static void test_check_expire(void **state)
{
	(void)state;
	const uint64_t mar31 = 1711886400; /* 2024-03-31T12:00:00Z */
	expire_case("P1M", mar31, 1709208000, "2024-02-29T12:00:00Z");     /* leap-year clamp */
	expire_case("P6M", mar31, 1696075200, "2023-09-30T12:00:00Z");     /* 31 -> 30 */
	expire_case("P2W3D", mar31, 1710417600, "2024-03-14T12:00:00Z");
	expire_case("P6M2W3D", mar31, 1694606400, "2023-09-13T12:00:00Z");
	expire_case("P1Y", 1709188215, 1677565815, "2023-02-28T06:30:15Z"); /* from 2024-02-29 */
	expire_case("P12M", 1709188215, 1677565815, "2023-02-28T06:30:15Z");
	expire_case("P0D", mar31, mar31, "2024-03-31T12:00:00Z");

	/* no attestation: EXPIRE cannot hold */
	struct eimg_identity id = sgx_id();
	id.timestamp = 0;
	struct eimg_constraint_failure f = expect_fail1("C:" H1 " EXPIRE:P1D", &id, mar31, "EXPIRE");
	assert_string_equal(f.actual, "no attestation");
	/* a period reaching before 1970 accepts every attestation */
	id.timestamp = 1;
	expect_match("C:" H1 " EXPIRE:P100Y", &id, 1000);
	/* no EXPIRE: age does not matter */
	expect_match("C:" H1, &id, mar31);
}

/* The EXPIRE instant for many (now, period) pairs against an independent
 * implementation in Python (datetime + calendar.monthrange). */
static void test_expire_python(void **state)
{
	(void)state;
	if (access("/usr/bin/python3", X_OK) != 0) {
		print_message("skipped: /usr/bin/python3 not available\n");
		skip();
	}
	enum { N = 400 };
	static uint64_t nows[N];
	static unsigned per[N][4];
	char path[] = "/tmp/eimg-expire-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	for (int i = 0; i < N; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17; /* xorshift: fixed sequence */
		nows[i] = x % 4000000000ull;
		per[i][0] = (unsigned)(x >> 32) % 31;
		per[i][1] = (unsigned)(x >> 40) % 40;
		per[i][2] = (unsigned)(x >> 48) % 11;
		per[i][3] = (unsigned)(x >> 52) % 400;
		if (i % 4 == 0) /* month ends: the clamping cases */
			nows[i] = 1709208000ull + (uint64_t)(i % 31) * 86400 * 30 + 86399;
		fprintf(f, "%llu %u %u %u %u\n", (unsigned long long)nows[i], per[i][0], per[i][1], per[i][2], per[i][3]);
	}
	fclose(f);
	static const char script[] =
		"import sys, calendar, datetime\n"
		"for line in open(sys.argv[1]):\n"
		"    now, y, m, w, d = map(int, line.split())\n"
		"    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=now)\n"
		"    ny, nm = divmod(t.year * 12 + t.month - 1 - (y * 12 + m), 12)\n"
		"    day = min(t.day, calendar.monthrange(ny, nm + 1)[1])\n"
		"    r = t.replace(year=ny, month=nm + 1, day=day) - datetime.timedelta(days=7 * w + d)\n"
		"    print('%04d-%02d-%02dT%02d:%02d:%02dZ' % (r.year, r.month, r.day, r.hour, r.minute, r.second))\n";
	char cmd[2048];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 - '%s' <<'EOF'\n%sEOF\n", path, script);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	struct eimg_identity id = sgx_id();
	id.timestamp = 0;
	char line[128];
	int n = 0;
	while (n < N && fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\n")] = 0;
		char text[200], period[64] = "P";
		size_t o = 1;
		const char u[4] = { 'Y', 'M', 'W', 'D' };
		for (int k = 0; k < 4; k++)
			o += (size_t)snprintf(period + o, sizeof(period) - o, "%u%c", per[n][k], u[k]);
		snprintf(text, sizeof(text), "C:" H1 " EXPIRE:%s", period);
		struct eimg_constraint_failure fl = expect_fail1(text, &id, nows[n], "EXPIRE");
		if (!strstr(fl.expected, line))
			fail_msg("now %llu %s: C says \"%s\", Python %s", (unsigned long long)nows[n], period,
				 fl.expected, line);
		n++;
	}
	int st = pclose(p);
	unlink(path);
	assert_int_equal(st, 0);
	assert_int_equal(n, N);
}

static void test_check_pcr(void **state)
{
	(void)state;
	struct eimg_identity id;
	memset(&id, 0, sizeof(id));
	id.mode = EIMG_ID_HARDWARE;
	id.security = EIMG_SEC_SECURE;
	id.pcr_mask = (1u << 0) | (1u << 1) | (1u << 8);
	unhex(P48A, id.pcr[0], 48);
	unhex(P48B, id.pcr[1], 48);
	unhex(P48A, id.pcr[8], 48);
	expect_match("PCR0:" P48A, &id, 1);
	expect_match("PCR0:" P48A " PCR1:" P48B " PCR8:" P48A, &id, 1);
	struct eimg_constraint_failure f = expect_fail1("PCR0:" P48A " PCR1:" P48A, &id, 1, "PCR1");
	assert_string_equal(f.expected, P48A);
	assert_string_equal(f.actual, P48B);
	f = expect_fail1("PCR0:" P48A " PCR2:" P48A, &id, 1, "PCR2");
	assert_string_equal(f.actual, "no PCR2");
	/* PCRs alongside C: both must hold */
	f = expect_fail1("C:" H1 " PCR0:" P48A, &id, 1, "C");
	/* debug-mode Nitro enclave is INSECURE */
	id.debug = true;
	expect_fail1("PCR0:" P48A, &id, 1, "SEC");
	expect_match("PCR0:" P48A " SEC:INSECURE", &id, 1);
}

static void test_failure_list(void **state)
{
	(void)state;
	struct eimg_identity id = sgx_id();
	id.mode = EIMG_ID_SIMULATION;
	id.isvsvn = 0;
	id.timestamp = 0;
	const char *text = "C:" H2 " REVOKE:3 SEC:SECURE EXPIRE:P1D PCR0:" P48A;
	struct eimg_constraint_failure f[8];
	eimg_error err;
	size_t nf = 0;
	memset(f, 0, sizeof(f));
	assert_int_equal(check(text, &id, 1711886400, f, 8, &nf, &err), EIMG_EVERIFY);
	assert_int_equal(nf, 5);
	assert_string_equal(f[0].key, "C");
	assert_string_equal(f[1].key, "REVOKE");
	assert_string_equal(f[2].key, "SEC");
	assert_string_equal(f[3].key, "EXPIRE");
	assert_string_equal(f[4].key, "PCR0");
	assert_int_equal(err.code, EIMG_EVERIFY);
	assert_null(strchr(err.msg, '\n'));
	assert_non_null(strstr(err.msg, "C: expected " H2 ", got " H1));
	assert_non_null(strstr(err.msg, "; REVOKE: expected"));
	/* the summary is truncated to one message, not overflowed */
	assert_true(strlen(err.msg) < EIMG_ERROR_MSG_MAX);
	/* fewer slots than failures: count still complete */
	memset(f, 0, sizeof(f));
	assert_int_equal(check(text, &id, 1711886400, f, 2, &nf, &err), EIMG_EVERIFY);
	assert_int_equal(nf, 5);
	assert_string_equal(f[1].key, "REVOKE");
	assert_string_equal(f[2].key, "");
	/* no slots at all */
	assert_int_equal(check(text, &id, 1711886400, NULL, 0, NULL, &err), EIMG_EVERIFY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_all_keys),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_file_form),
		cmocka_unit_test(test_check_code_and_signer),
		cmocka_unit_test(test_check_revoke),
		cmocka_unit_test(test_check_security),
		cmocka_unit_test(test_check_expire),
		cmocka_unit_test(test_expire_python),
		cmocka_unit_test(test_check_pcr),
		cmocka_unit_test(test_failure_list),
	};
	return cmocka_run_group_tests_name("constraint", tests, NULL, NULL);
}
