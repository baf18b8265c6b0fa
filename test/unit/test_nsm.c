/* SPDX-License-Identifier: Apache-2.0 */
/* Nitro NSM attestation documents (eimg/nsm.h) through the library API:
 * documents and a CA chain made independently by test/cli/nsm_doc.py
 * (Python's cryptography, CBOR by hand), then the values parsed, the
 * identity (debug, security, PCRs, time), the chain at chosen times (not yet
 * valid, valid, expired), the future-timestamp rule and the limits.
 * Skips when /usr/bin/python3 lacks the cryptography package. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/nsm.h"
#include "core/internal.h"

static char dir[] = "/tmp/test_nsm_XXXXXX";
static bool have_docs;

static int group_setup(void **state)
{
	char cmd[256];
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import cryptography' 2>/dev/null") != 0)
		return 0;
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 test/cli/nsm_doc.py %s", dir);
	have_docs = system(cmd) == 0;
	return have_docs ? 0 : -1;
}

static int group_teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static bool no_docs(void)
{
	if (!have_docs)
		print_message("skipped: /usr/bin/python3 with the cryptography package not available\n");
	return !have_docs;
}

static char *path(const char *name)
{
	static char p[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* Checks document name with root (NULL: none) at now; returns the status. */
static int check(const char *name, const char *root, uint64_t now, struct eimg_nsm_doc **d, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_int_equal(eimg_read_file(path(name), 1 << 20, &buf, &len, err), EIMG_OK);
	*d = NULL;
	struct eimg_check_time when = { .at = EIMG_AT_TIME, .time = now };
	int rc = eimg_nsm_attest_check(name, buf, len, root ? path(root) : NULL, &when, d, err);
	free(buf);
	if (rc)
		assert_null(*d);
	return rc;
}

static uint64_t doc_time(const char *name)
{
	struct eimg_nsm_doc *d;
	eimg_error err;
	assert_int_equal(check(name, NULL, UINT32_MAX, &d, &err), EIMG_OK);
	uint64_t t = d->timestamp_ms / 1000;
	eimg_nsm_doc_free(d);
	return t;
}

static void test_values(void **state)
{
	(void)state;
	if (no_docs())
		return;
	struct eimg_nsm_doc *d;
	struct eimg_identity id;
	eimg_error err;
	uint64_t now = doc_time("good.cose");
	if (check("good.cose", "root.pem", now, &d, &err))
		fail_msg("%s", err.msg);
	assert_true(d->chain_checked);
	assert_string_equal(d->module_id, "i-0123456789abcdef0-enc0123456789abcd");
	assert_int_equal(d->pcr_mask, 0x11f); /* PCR0..4, PCR8 */
	for (unsigned i = 0; i < 9; i++)
		if (d->pcr_mask & (1u << i))
			for (unsigned j = 0; j < 48; j++)
				assert_int_equal(d->pcr[i][j], 0x10 + i);
	assert_null(d->public_key);
	assert_null(d->user_data);
	assert_null(d->nonce);
	assert_int_equal(d->ncabundle, 2);
	assert_non_null(strstr(d->cert_subject, "CN=i-0123-enc0123"));
	assert_non_null(strstr(d->root_subject, "CN=test nitro root"));
	eimg_nsm_identity(d, &id);
	assert_int_equal(id.mode, EIMG_ID_HARDWARE);
	assert_false(id.debug);
	assert_false(id.has_sgx);
	assert_int_equal(id.security, EIMG_SEC_SECURE);
	assert_int_equal(id.timestamp, now);
	assert_int_equal(id.pcr_mask, 0x11f);
	assert_int_equal(id.pcr[8][0], 0x18);
	eimg_nsm_doc_free(d);
	eimg_nsm_doc_free(NULL);

	/* without a root: parsed and signature-checked, but not trusted */
	assert_int_equal(check("good.cose", NULL, now, &d, &err), EIMG_OK);
	assert_false(d->chain_checked);
	eimg_nsm_identity(d, &id);
	assert_int_equal(id.security, EIMG_SEC_INSECURE);
	eimg_nsm_doc_free(d);

	/* tag 18, user data and nonce */
	assert_int_equal(check("good-tagged.cose", "root.pem", now, &d, &err), EIMG_OK);
	assert_int_equal(d->user_data_len, 5);
	assert_memory_equal(d->user_data, "hello", 5);
	assert_int_equal(d->nonce_len, 3);
	eimg_nsm_doc_free(d);

	/* debug mode: PCR0 all zeros */
	assert_int_equal(check("debug.cose", "root.pem", now, &d, &err), EIMG_OK);
	eimg_nsm_identity(d, &id);
	assert_true(id.debug);
	assert_int_equal(id.security, EIMG_SEC_INSECURE);
	eimg_nsm_doc_free(d);
}

static void test_times(void **state)
{
	(void)state;
	if (no_docs())
		return;
	struct eimg_nsm_doc *d;
	eimg_error err;
	uint64_t t = doc_time("good.cose");
	/* the leaf is valid from t-1h to t+2h */
	assert_int_equal(check("good.cose", "root.pem", t + 3600, &d, &err), EIMG_OK);
	eimg_nsm_doc_free(d);
	assert_int_equal(check("good.cose", "root.pem", t + 3 * 3600, &d, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "expired"));
	/* before the timestamp: up to 300 s of clock skew */
	assert_int_equal(check("good.cose", "root.pem", t - 300, &d, &err), EIMG_OK);
	eimg_nsm_doc_free(d);
	assert_int_equal(check("good.cose", NULL, t - 302, &d, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "in the future"));
	/* the certificates are not yet valid two hours earlier (and the time is in the future) */
	assert_int_equal(check("good.cose", "root.pem", t - 2 * 3600, &d, &err), EIMG_EVERIFY);
	/* an expired leaf is fine without a root (nothing is trusted), refused with one */
	uint64_t te = doc_time("expired.cose");
	assert_int_equal(check("expired.cose", NULL, te + 2 * 86400, &d, &err), EIMG_OK);
	eimg_nsm_doc_free(d);
	assert_int_equal(check("expired.cose", "root.pem", te + 2 * 86400, &d, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "expired"));
}

static void test_refusals(void **state)
{
	(void)state;
	if (no_docs())
		return;
	struct eimg_nsm_doc *d;
	eimg_error err;
	uint64_t now = doc_time("good.cose");
	assert_int_equal(check("good.cose", "other-root.pem", now, &d, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "does not verify to the root"));
	assert_int_equal(check("badsig.cose", NULL, now, &d, &err), EIMG_EVERIFY);
	assert_int_equal(check("badpayload.cose", "root.pem", now, &d, &err), EIMG_EVERIFY);
	assert_int_equal(check("wrongkey.cose", "root.pem", now, &d, &err), EIMG_EVERIFY);
	assert_int_equal(check("es256.cose", "root.pem", now, &d, &err), EIMG_EINVAL);
	/* a root file that is not a certificate */
	assert_int_equal(check("good.cose", "pcrs.txt", now, &d, &err), EIMG_EINVAL);
	assert_int_equal(check("good.cose", "no-such-root.pem", now, &d, &err), EIMG_EIO);
	/* every hostile document is malformed, never accepted or crashing */
	static const char *const hostile[] = {
		"truncated", "trailing", "garbage", "empty-array", "huge-length", "indefinite-payload",
		"payload-not-map", "payload-deep", "payload-unknown-key", "payload-missing-pcrs", "payload-bad-pcr",
		"payload-float", "payload-sha256", "payload-cert-junk", "payload-cert-null", "payload-pcr-index-32",
		"payload-pcrs-empty", "payload-cabundle-17", "payload-cabundle-empty", "payload-user-data-big",
		"payload-module-empty", "payload-timestamp-zero", "payload-bool", "payload-tag",
		"payload-duplicate-key", "payload-trailing", "protected-es512", "protected-extra", "short-signature",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char name[64];
		snprintf(name, sizeof(name), "hostile-%s.cose", hostile[i]);
		int rc = check(name, "root.pem", now, &d, &err);
		if (rc != EIMG_EINVAL)
			fail_msg("%s: expected EINVAL, got %d: %s", name, rc, err.msg);
		assert_string_equal(err.file, name);
	}
	/* sizes and usage */
	static const uint8_t one[1] = { 0x84 };
	assert_int_equal(eimg_nsm_attest_check("x", one, 0, NULL, NULL, &d, &err), EIMG_EINVAL);
	assert_int_equal(eimg_nsm_attest_check("x", one, EIMG_NSM_MAX_DOC + 1, NULL, NULL, &d, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "above the limit"));
	assert_int_equal(eimg_nsm_attest_check("x", NULL, 1, NULL, NULL, &d, &err), EIMG_EUSAGE);
}

static void test_reports(void **state)
{
	(void)state;
	if (no_docs())
		return;
	struct eimg_nsm_doc *d;
	eimg_error err;
	char *text = NULL;
	uint64_t now = doc_time("good-tagged.cose");
	assert_int_equal(check("good-tagged.cose", "root.pem", now, &d, &err), EIMG_OK);
	assert_int_equal(eimg_nsm_report_text(d, "doc", &text, &err), EIMG_OK);
	assert_non_null(strstr(text, "\nchain_verified:         verified to the given root\n"));
	assert_non_null(strstr(text, "\n  pcr8:                 181818"));
	assert_non_null(strstr(text, "\nuser_data:              68656c6c6f\n"));
	assert_non_null(strstr(text, "\npublic_key:             none\n"));
	free(text);
	assert_int_equal(eimg_nsm_report_json(d, "doc", &text, &err), EIMG_OK);
	assert_non_null(strstr(text, "\"chain_verified\": true"));
	assert_non_null(strstr(text, "\"nonce\": \"010203\""));
	assert_non_null(strstr(text, "\"public_key\": null"));
	free(text);
	eimg_nsm_doc_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_reports),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
