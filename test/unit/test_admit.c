/* SPDX-License-Identifier: Apache-2.0 */
/* Admission (core/admit.c): each reason, with its code and fields, from
 * identities made here and from examples/hello built and signed at test time
 * with a key made at test time (the image cases skip when the example is not
 * built: make examples).  A debug-only signature cannot verify for an image
 * (the manifest never sets DEBUG in the attributes): the verified one is made
 * debug-only through a wrapper to reach that reason.
 * LINK-WRAP: -Wl,--wrap=eimg_sign_verify_opened
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <enclaveimg.h>

static bool force_debug_only;

int __real_eimg_sign_verify_opened(const struct eimg_sgx_image *si, const char *source, struct eimg_sigstruct *out,
				   eimg_error *err);
int __wrap_eimg_sign_verify_opened(const struct eimg_sgx_image *si, const char *source, struct eimg_sigstruct *out,
				   eimg_error *err);
int __wrap_eimg_sign_verify_opened(const struct eimg_sgx_image *si, const char *source, struct eimg_sigstruct *out,
				   eimg_error *err)
{
	int rc = __real_eimg_sign_verify_opened(si, source, out, err);
	if (rc == EIMG_OK && force_debug_only) {
		out->attr_flags |= EIMG_ATTR_DEBUG;
		out->mask_flags |= EIMG_ATTR_DEBUG;
	}
	return rc;
}

static const uint8_t mr_a[32] = { 0xaa, 1, 2, 3 };
static char hexbuf[65];

static const char *hex32(const uint8_t *p)
{
	return eimg_hex(p, 32, hexbuf);
}

static struct eimg_identity sim_identity(void)
{
	struct eimg_identity id;
	eimg_identity_sgx(mr_a, NULL, EIMG_ID_SIMULATION, false, &id);
	return id;
}

static eimg_constraint *constraint(const char *text)
{
	eimg_constraint *c = NULL;
	eimg_error err;
	if (eimg_constraint_parse_arg(text, &c, &err) != EIMG_OK)
		fail_msg("constraint %s: %s", text, err.msg);
	return c;
}

static void test_identity_admitted(void **state)
{
	(void)state;
	struct eimg_identity id = sim_identity();
	struct eimg_expect x;
	struct eimg_admit_result res;
	eimg_error err;
	char text[80];
	memset(&x, 0, sizeof x);
	snprintf(text, sizeof text, "mrenclave:%s", hex32(mr_a));
	assert_int_equal(eimg_expect_parse(&x, text, "t", &err), EIMG_OK);
	snprintf(text, sizeof text, "C:%s SEC:INSECURE", hex32(mr_a));
	eimg_constraint *c = constraint(text);
	struct eimg_admit_policy p = { .expect = &x, .constraint = c, .now = 1 };
	assert_int_equal(eimg_admit_identity(&id, "img", &p, &res, &err), EIMG_OK);
	assert_int_equal(res.nreasons, 0);
	assert_int_equal(res.failed_checks, 0);
	assert_memory_equal(res.id.mrenclave, mr_a, 32);
	/* nothing to check: admitted */
	struct eimg_admit_policy none = { .now = 1 };
	assert_int_equal(eimg_admit_identity(&id, "img", &none, &res, &err), EIMG_OK);
	eimg_constraint_free(c);
}

static void test_identity_expect(void **state)
{
	(void)state;
	struct eimg_identity id = sim_identity();
	struct eimg_expect x;
	struct eimg_admit_result res;
	eimg_error err;
	memset(&x, 0, sizeof x);
	assert_int_equal(eimg_expect_parse(&x, "mrenclave:" "bb00000000000000000000000000000000000000000000000000000000000000",
					   "t", &err), EIMG_OK);
	struct eimg_admit_policy p = { .expect = &x, .now = 1 };
	assert_int_equal(eimg_admit_identity(&id, "the-image", &p, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.nreasons, 1);
	assert_int_equal(res.failed_checks, 1);
	assert_int_equal(res.reasons[0].code, EIMG_ADMIT_EXPECT);
	assert_int_equal(res.reasons[0].status, EIMG_EVERIFY);
	assert_string_equal(res.reasons[0].err.file, "the-image");
	assert_ptr_equal(eimg_admit_find(&res, EIMG_ADMIT_EXPECT), &res.reasons[0]);
	assert_null(eimg_admit_find(&res, EIMG_ADMIT_CONSTRAINT));
}

static void test_identity_constraint_keys(void **state)
{
	(void)state;
	struct eimg_identity id = sim_identity();
	struct eimg_expect x;
	struct eimg_admit_result res;
	eimg_error err;
	char text[200];
	/* two keys fail: two reasons, one failed check, after the expectation */
	snprintf(text, sizeof text, "C:%s SEC:SECURE", "cc00000000000000000000000000000000000000000000000000000000000000");
	eimg_constraint *c = constraint(text);
	memset(&x, 0, sizeof x);
	assert_int_equal(eimg_expect_parse(&x, "mrsigner:" "dd00000000000000000000000000000000000000000000000000000000000000",
					   "t", &err), EIMG_OK);
	struct eimg_admit_policy p = { .expect = &x, .constraint = c, .now = 1 };
	assert_int_equal(eimg_admit_identity(&id, "img", &p, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.failed_checks, 2);
	assert_int_equal(res.nreasons, 3);
	assert_int_equal(res.reasons[0].code, EIMG_ADMIT_EXPECT);
	assert_int_equal(res.reasons[1].code, EIMG_ADMIT_CONSTRAINT);
	assert_int_equal(res.reasons[2].code, EIMG_ADMIT_CONSTRAINT);
	assert_string_equal(res.reasons[1].failure.key, "C");
	assert_non_null(strstr(res.reasons[1].failure.expected, "cc00"));
	assert_string_equal(res.reasons[1].failure.actual, hex32(mr_a));
	assert_string_equal(res.reasons[2].failure.key, "SEC");
	eimg_constraint_free(c);
}

static void test_identity_constraint_error(void **state)
{
	(void)state;
	struct eimg_identity id = sim_identity();
	struct eimg_admit_result res;
	eimg_error err;
	eimg_constraint *c = constraint("C:aa01020300000000000000000000000000000000000000000000000000000000 SEC:INSECURE");
	id.mode = 99; /* not a mode the checker knows */
	struct eimg_admit_policy p = { .constraint = c, .now = 1 };
	assert_int_equal(eimg_admit_identity(&id, "img", &p, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.nreasons, 1);
	assert_int_equal(res.reasons[0].code, EIMG_ADMIT_CONSTRAINT_ERROR);
	assert_int_equal(res.reasons[0].status, EIMG_EINVAL);
	assert_int_equal(eimg_admit_identity(NULL, "img", &p, &res, &err), EIMG_EUSAGE);
	eimg_constraint_free(c);
}

/* ---- images: examples/hello, unsigned, signed, debug-signed ---- */

static char dir[256], key[300];

static int group_setup(void **state)
{
	char cmd[1200];
	(void)state;
	const char *bd = getenv("BUILDDIR");
	char src[512];
	snprintf(src, sizeof src, "%s/examples/hello", bd ? bd : "build");
	snprintf(dir, sizeof dir, "/tmp/eimg-admit-%ld", (long)getpid());
	snprintf(key, sizeof key, "%s/key.pem", dir);
	if (access(src, R_OK) != 0) {
		dir[0] = '\0';
		return 0;
	}
	/* the example twice: as built, and with debug: true */
	snprintf(cmd, sizeof cmd,
		 "mkdir -p %s/p %s/d && cp %s/hello.elf %s/greeting.txt %s/enclave.yaml %s/p/ && cp %s/hello.elf "
		 "%s/greeting.txt %s/d/ && sed 's/^  threads: 1$/  threads: 1\\n  debug: true/' %s/enclave.yaml > %s/d/enclave.yaml && "
		 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:3 -out %s 2>/dev/null",
		 dir, dir, src, src, src, dir, src, src, dir, src, dir, key);
	return system(cmd) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[400];
	(void)state;
	if (dir[0]) {
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		if (system(cmd) != 0)
			return -1;
	}
	return 0;
}

struct opened {
	eimg_image *img;
	eimg_sgx_image *s;
};

/* Builds the example in sub ("p" or "d"), signed with the test key or not. */
static void open_example(const char *sub, bool sign, struct opened *o)
{
	char yaml[400], out[400];
	eimg_error err;
	struct eimg_build_result br;
	memset(o, 0, sizeof *o);
	if (!dir[0])
		skip();
	snprintf(yaml, sizeof yaml, "%s/%s/enclave.yaml", dir, sub);
	snprintf(out, sizeof out, "%s/%s/hello.eimg", dir, sub);
	struct eimg_build_options bo = { .manifest_path = yaml, .mtime = 0 };
	eimg_inputs_reset(); /* each case rebuilds the image an earlier case read */
	if (eimg_build(&bo, &o->img, &br, &err) || eimg_image_write_file(o->img, 0, out, &err))
		fail_msg("build %s: %s", yaml, err.msg);
	if (sign) {
		struct eimg_key_source k = { .path = key };
		struct eimg_sign_request r = { .op = EIMG_SIGN_OP_SIGN, .image_path = out, .date = 0x20260101,
					       .key = &k, .force = true };
		eimg_image_free(o->img);
		o->img = NULL;
		if (eimg_sign_run(&r, NULL, &err) || eimg_image_read_file(out, &o->img, &err))
			fail_msg("sign %s: %s", out, err.msg);
	}
	if (eimg_sgx_image_open(o->img, out, &o->s, &err))
		fail_msg("open %s: %s", out, err.msg);
}

static void close_example(struct opened *o)
{
	eimg_sgx_image_free(o->s);
	eimg_image_free(o->img);
}

static void test_sgx_unsigned(void **state)
{
	(void)state;
	struct opened o;
	struct eimg_admit_result res;
	eimg_error err;
	open_example("p", false, &o);
	struct eimg_admit_policy run = { .target = EIMG_ADMIT_SIMULATION, .require_signature = true, .now = 1 };
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &run, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.nreasons, 1);
	assert_int_equal(res.reasons[0].code, EIMG_ADMIT_UNSIGNED);
	assert_false(res.is_signed);
	assert_true(res.id.no_sigstruct);
	/* measuring an unsigned image without expectations: nothing wrong */
	struct eimg_admit_policy measure = { .target = EIMG_ADMIT_AS_BUILT, .now = 1 };
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &measure, &res, &err), EIMG_OK);
	assert_int_equal(res.id.mode, EIMG_ID_SIMULATION);
	close_example(&o);
}

static void test_sgx_signed_and_mode(void **state)
{
	(void)state;
	struct opened o;
	struct eimg_admit_result res;
	eimg_error err;
	open_example("p", true, &o);
	struct eimg_admit_policy sim = { .target = EIMG_ADMIT_SIMULATION, .require_signature = true, .now = 1 };
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &sim, &res, &err), EIMG_OK);
	assert_true(res.is_signed);
	assert_memory_equal(res.sigstruct.enclavehash, o.s->m.mrenclave, 32);
	assert_int_equal(res.sigstruct.isvprodid, 1);
	/* the same image under mock: admitted, the identity says mock */
	struct eimg_admit_policy mock = sim;
	mock.target = EIMG_ADMIT_MOCK;
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &mock, &res, &err), EIMG_OK);
	assert_int_equal(res.id.mode, EIMG_ID_MOCK);
	/* a simulation image on hardware: the mode, with the image's mode; a
	 * debug launch of a production-only signature too */
	struct eimg_admit_policy hw = { .target = EIMG_ADMIT_HARDWARE, .debug = true, .require_signature = true, .now = 1 };
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &hw, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.nreasons, 2);
	assert_int_equal(res.failed_checks, 2);
	assert_int_equal(res.reasons[0].code, EIMG_ADMIT_MODE);
	assert_int_equal(res.reasons[0].mode, EIMG_MODE_SIMULATION);
	assert_int_equal(res.reasons[1].code, EIMG_ADMIT_DEBUG_DENIED);
	hw.debug = false;
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &hw, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.nreasons, 1);
	assert_int_equal(res.reasons[0].code, EIMG_ADMIT_MODE);
	close_example(&o);
}

static void test_sgx_debug_only(void **state)
{
	(void)state;
	struct opened o;
	struct eimg_admit_result res;
	eimg_error err;
	/* debug: true signs for both launches: neither is refused */
	open_example("d", true, &o);
	struct eimg_admit_policy hw = { .target = EIMG_ADMIT_HARDWARE, .require_signature = true, .now = 1 };
	for (int debug = 0; debug < 2; debug++) {
		hw.debug = debug;
		assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &hw, &res, &err), EIMG_EVERIFY);
		assert_int_equal(res.nreasons, 1);
		assert_int_equal(res.reasons[0].code, EIMG_ADMIT_MODE);
	}
	/* a debug-only signature: a production launch is refused */
	force_debug_only = true;
	hw.debug = false;
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &hw, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.nreasons, 2);
	assert_int_equal(res.reasons[1].code, EIMG_ADMIT_PRODUCTION_DENIED);
	hw.debug = true;
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &hw, &res, &err), EIMG_EVERIFY);
	assert_null(eimg_admit_find(&res, EIMG_ADMIT_PRODUCTION_DENIED));
	/* measured, not launched: a debug-only signature means a debug identity
	 * (verified, so there must be something to check) */
	struct eimg_expect x;
	memset(&x, 0, sizeof x);
	char text[80];
	snprintf(text, sizeof text, "mrenclave:%s", hex32(o.s->m.mrenclave));
	assert_int_equal(eimg_expect_parse(&x, text, "t", &err), EIMG_OK);
	struct eimg_admit_policy measure = { .target = EIMG_ADMIT_AS_BUILT, .expect = &x, .now = 1 };
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &measure, &res, &err), EIMG_OK);
	assert_true(res.id.debug);
	force_debug_only = false;
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &measure, &res, &err), EIMG_OK);
	assert_false(res.id.debug);
	close_example(&o);
}

static void test_sgx_bad_signature(void **state)
{
	(void)state;
	struct opened o;
	struct eimg_admit_result res;
	eimg_error err;
	open_example("p", true, &o);
	/* the image's signature slot, altered in place (a test of the verdict, not of the API) */
	uint8_t *ss = (uint8_t *)(uintptr_t)eimg_image_sigstruct(o.img);
	struct eimg_admit_policy sim = { .target = EIMG_ADMIT_SIMULATION, .require_signature = true, .now = 1 };
	/* a flipped signature byte: the signature, not "unsigned" */
	ss[0x1a0] ^= 1;
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &sim, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.nreasons, 1);
	assert_int_equal(res.reasons[0].code, EIMG_ADMIT_SIGNATURE);
	assert_int_equal(res.reasons[0].status, EIMG_EVERIFY);
	assert_false(res.is_signed);
	/* an expectation on MRSIGNER then fails too: the signer is unknown */
	struct eimg_expect x;
	memset(&x, 0, sizeof x);
	assert_int_equal(eimg_expect_parse(&x, "mrsigner:" "dd00000000000000000000000000000000000000000000000000000000000000",
					   "t", &err), EIMG_OK);
	sim.expect = &x;
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &sim, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.failed_checks, 2);
	assert_int_equal(res.reasons[1].code, EIMG_ADMIT_EXPECT);
	/* an all-zero modulus: unsigned */
	ss[0x1a0] ^= 1;
	memset(ss + 128, 0, 384);
	sim.expect = NULL;
	assert_int_equal(eimg_admit_sgx(o.s, "hello.eimg", &sim, &res, &err), EIMG_EVERIFY);
	assert_int_equal(res.reasons[0].code, EIMG_ADMIT_UNSIGNED);
	close_example(&o);
}

int main(void)
{
	const struct CMUnitTest id_tests[] = {
		cmocka_unit_test(test_identity_admitted),
		cmocka_unit_test(test_identity_expect),
		cmocka_unit_test(test_identity_constraint_keys),
		cmocka_unit_test(test_identity_constraint_error),
	};
	const struct CMUnitTest sgx_tests[] = {
		cmocka_unit_test(test_sgx_unsigned),
		cmocka_unit_test(test_sgx_signed_and_mode),
		cmocka_unit_test(test_sgx_debug_only),
		cmocka_unit_test(test_sgx_bad_signature),
	};
	int rc = cmocka_run_group_tests_name("admit identity", id_tests, NULL, NULL);
	return rc | cmocka_run_group_tests_name("admit sgx", sgx_tests, group_setup, group_teardown);
}
