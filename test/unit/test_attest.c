/* SPDX-License-Identifier: Apache-2.0 */
/* Attestation documents (eimg/attest.h): simulation documents made and
 * checked, every way a document can be forged or malformed, DCAP documents
 * through a fake quote provider/verifier, the constraint on top, and an
 * independent check of a simulation document with Python's cryptography. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "crypto/crypto.h"
#include "eimg/attest.h"
#include "eimg/hash.h"
#include "eimg/util.h"
#include "core/internal.h"

#define H1 "2797b9581b9377d41a8ffc45990335048e79c976a6bbb4e7692ecad699a55317"
#define H3 "bb53e85cb86e7f1e2b7d97620e25d8d0a250c8fdbfe9b7cddf940bd08b646c88"
#define NOW 1795407042ull /* 2026-11-23T04:10:42Z */

static uint8_t *enclave_pk;  /* the enclave's public key (DER SPKI) */
static size_t enclave_pk_len;

static int group_setup(void **state)
{
	(void)state;
	eimg_attest_key *k = NULL;
	if (eimg_attest_key_generate(&k, NULL) || eimg_attest_key_spki(k, &enclave_pk, &enclave_pk_len, NULL))
		return -1;
	eimg_attest_key_free(k);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(enclave_pk);
	return 0;
}

static struct eimg_attest_claims claims(int mode, bool debug)
{
	struct eimg_attest_claims c;
	memset(&c, 0, sizeof(c));
	c.mode = mode;
	c.debug = debug;
	assert_int_equal(eimg_unhex(H1, c.mrenclave, 32, "x", NULL), 0);
	assert_int_equal(eimg_unhex(H3, c.mrsigner, 32, "x", NULL), 0);
	c.isvprodid = 7;
	c.isvsvn = 3;
	c.timestamp = NOW - 60;
	return c;
}

static eimg_constraint *con(const char *text)
{
	eimg_constraint *c = NULL;
	eimg_error err;
	if (eimg_constraint_parse(text, &c, &err))
		fail_msg("constraint: %s", err.msg);
	return c;
}

/* Checks doc against constraint text; returns the status, err filled. */
static int check(const char *doc, const char *ctext, uint64_t now, const struct eimg_quote_ops *q,
		 struct eimg_attest_result *res, eimg_error *err)
{
	eimg_constraint *c = ctext ? con(ctext) : NULL;
	struct eimg_constraint_failure f[4];
	size_t nf = 0;
	eimg_error_clear(err);
	struct eimg_check_time when = { .at = EIMG_AT_TIME, .time = now };
	int rc = eimg_attestation_check("doc.json", doc, doc ? strlen(doc) : 0, c, &when, q, res, f, 4, &nf, err);
	eimg_constraint_free(c);
	return rc;
}

static void expect_rc(const char *doc, const char *ctext, int want, const char *frag)
{
	eimg_error err;
	int rc = check(doc, ctext, NOW, NULL, NULL, &err);
	if (rc != want)
		fail_msg("expected %d, got %d: %s", want, rc, err.msg);
	if (frag && !strstr(err.msg, frag))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, frag);
}

static char *sim_doc(int mode, bool debug)
{
	struct eimg_attest_claims c = claims(mode, debug);
	char *doc = NULL;
	size_t len = 0;
	eimg_error err;
	if (eimg_attest_create_simulation(&c, enclave_pk, enclave_pk_len, &doc, &len, &err))
		fail_msg("create: %s", err.msg);
	assert_int_equal(strlen(doc), len);
	return doc;
}

/* ---- test-local base64 and hand-made documents ---- */
static char *b64(const uint8_t *in, size_t len)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc(4 * ((len + 2) / 3) + 1), *o = out;
	assert_non_null(out);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0) | (i + 2 < len ? in[i + 2] : 0);
		*o++ = t[v >> 18 & 63];
		*o++ = t[v >> 12 & 63];
		*o++ = i + 1 < len ? t[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? t[v & 63] : '=';
	}
	*o = 0;
	return out;
}

/* Signs payload with a fresh key into a simulation document. */
static char *forge_sim(const char *payload)
{
	eimg_attest_key *k = NULL;
	uint8_t *spki = NULL, *sig = NULL;
	size_t sl = 0, gl = 0;
	assert_int_equal(eimg_attest_key_generate(&k, NULL), 0);
	assert_int_equal(eimg_attest_key_spki(k, &spki, &sl, NULL), 0);
	assert_int_equal(eimg_attest_key_sign(k, (const uint8_t *)payload, strlen(payload), &sig, &gl, NULL), 0);
	char *p = b64((const uint8_t *)payload, strlen(payload)), *ks = b64(spki, sl), *ss = b64(sig, gl);
	size_t n = strlen(p) + strlen(ks) + strlen(ss) + 200;
	char *doc = malloc(n);
	assert_non_null(doc);
	snprintf(doc, n, "{\"format\":\"enclave-attestation 1\",\"signer\":\"simulation\",\"payload\":\"%s\",\"key\":\"%s\","
		 "\"signature\":\"%s\"}", p, ks, ss);
	free(p);
	free(ks);
	free(ss);
	free(spki);
	free(sig);
	eimg_attest_key_free(k);
	return doc;
}

/* A payload in the documented layout with the enclave key bound. */
static char *payload_text(const char *mode, const char *sec, const char *mrenclave, uint64_t ts, bool bind,
			  const char *extra)
{
	uint8_t rd[64];
	char rdh[129];
	memset(rd, 0, sizeof(rd));
	eimg_sha256(enclave_pk, enclave_pk_len, rd);
	if (!bind)
		rd[5] ^= 1;
	char *pk = b64(enclave_pk, enclave_pk_len);
	size_t n = strlen(pk) + 600;
	char *s = malloc(n);
	assert_non_null(s);
	snprintf(s, n,
		 "{\"version\":1,\"mode\":\"%s\",\"debug\":false,\"security\":\"%s\",\"mrenclave\":\"%s\","
		 "\"mrsigner\":\"" H3 "\",\"isvprodid\":7,\"isvsvn\":3,\"timestamp\":%llu,\"public_key\":\"%s\","
		 "\"report_data\":\"%s\"%s}",
		 mode, sec, mrenclave, (unsigned long long)ts, pk, eimg_hex(rd, 64, rdh), extra);
	free(pk);
	return s;
}

/* ---- simulation documents ---- */

static void test_simulation_roundtrip(void **state)
{
	(void)state;
	char *doc = sim_doc(EIMG_ID_SIMULATION, false);
	assert_non_null(strstr(doc, "\"signer\": \"simulation\""));
	assert_non_null(strstr(doc, "proves only that the document was not altered"));
	struct eimg_attest_result res;
	eimg_error err;
	int rc = check(doc, "C:" H1 " SEC:INSECURE", NOW, NULL, &res, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_int_equal(res.signer, EIMG_ATTEST_SIMULATION);
	assert_int_equal(res.id.mode, EIMG_ID_SIMULATION);
	assert_int_equal(res.id.security, EIMG_SEC_INSECURE);
	assert_int_equal(res.id.isvprodid, 7);
	assert_int_equal(res.id.isvsvn, 3);
	assert_int_equal(res.id.timestamp, NOW - 60);
	assert_int_equal(res.public_key_len, enclave_pk_len);
	assert_memory_equal(res.public_key, enclave_pk, enclave_pk_len);
	eimg_attest_result_clear(&res);
	eimg_attest_result_clear(NULL);
	/* signer + product: S and PROD checked against the document */
	expect_rc(doc, "S:" H3 " PROD:7 REVOKE:2 SEC:INSECURE DEBUG:NO", EIMG_OK, NULL);
	/* a simulation document never satisfies the default SEC:STALE */
	expect_rc(doc, "C:" H1, EIMG_EVERIFY, "SEC: expected STALE or SECURE, got INSECURE (simulation)");
	expect_rc(doc, "S:" H3 " PROD:8 SEC:INSECURE", EIMG_EVERIFY, "PROD: expected 8, got 7");
	/* without a constraint: only the document is verified */
	expect_rc(doc, NULL, EIMG_OK, NULL);
	/* EXPIRE against the document's time */
	eimg_error e2;
	assert_int_equal(check(doc, "C:" H1 " SEC:INSECURE EXPIRE:P1D", NOW + 86400 - 61, NULL, NULL, &e2), EIMG_OK);
	assert_int_equal(check(doc, "C:" H1 " SEC:INSECURE EXPIRE:P1D", NOW + 86400 - 60, NULL, NULL, &e2), EIMG_EVERIFY);
	assert_non_null(strstr(e2.msg, "EXPIRE"));
	/* from the future (beyond the 5 minutes of clock skew) */
	assert_int_equal(check(doc, "C:" H1 " SEC:INSECURE", NOW - 60 - 301, NULL, NULL, &e2), EIMG_EVERIFY);
	assert_non_null(strstr(e2.msg, "in the future"));
	assert_int_equal(check(doc, "C:" H1 " SEC:INSECURE", NOW - 60 - 300, NULL, NULL, &e2), EIMG_OK);
	free(doc);

	/* mock and debug are INSECURE too */
	doc = sim_doc(EIMG_ID_MOCK, true);
	expect_rc(doc, "C:" H1 " SEC:INSECURE", EIMG_OK, NULL);
	expect_rc(doc, "C:" H1 " SEC:INSECURE DEBUG:NO", EIMG_EVERIFY, "DEBUG");
	free(doc);

	/* creating: a simulation document for a hardware enclave is refused */
	struct eimg_attest_claims c = claims(EIMG_ID_HARDWARE, false);
	char *d = NULL;
	size_t dl;
	assert_int_equal(eimg_attest_create_simulation(&c, enclave_pk, enclave_pk_len, &d, &dl, &err), EIMG_EUSAGE);
	assert_null(d);
	/* a private key is never accepted as the enclave's public key */
	c = claims(EIMG_ID_SIMULATION, false);
	static const char priv[] = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
	assert_int_equal(eimg_attest_create_simulation(&c, (const uint8_t *)priv, sizeof(priv) - 1, &d, &dl, &err),
			 EIMG_EINVAL);
}

/* An enclave that published no key: "public_key":"" and report_data =
 * SHA-256 of nothing; the result says so (length 0); the reports too. */
static void test_no_enclave_key(void **state)
{
	(void)state;
	struct eimg_attest_claims c = claims(EIMG_ID_SIMULATION, false);
	struct eimg_attest_result res;
	char *doc = NULL, *text = NULL;
	size_t len = 0;
	eimg_error err;
	assert_int_equal(eimg_attest_create_simulation(&c, NULL, 0, &doc, &len, &err), EIMG_OK);
	if (check(doc, "C:" H1 " SEC:INSECURE", NOW, NULL, &res, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(res.public_key_len, 0);
	assert_non_null(res.public_key);
	assert_int_equal(eimg_attest_report_text(&res, "doc.json", &text, &err), EIMG_OK);
	assert_non_null(strstr(text, "\npublic_key:             none (the enclave published no key"));
	assert_non_null(strstr(text, "\nmrenclave:              " H1));
	free(text);
	assert_int_equal(eimg_attest_report_json(&res, "doc.json", &text, &err), EIMG_OK);
	assert_non_null(strstr(text, "\"present\": false"));
	free(text);
	eimg_attest_result_clear(&res);
	free(doc);
	/* the empty key must still be bound: SHA-256("") then zeros */
	char *p = payload_text("simulation", "INSECURE", H1, NOW, true, "");
	char *q = strstr(p, "\"public_key\":\"") + strlen("\"public_key\":\"");
	char *end = strchr(q, '"');
	memmove(q, end, strlen(end) + 1); /* public_key "" but report_data of the real key */
	doc = forge_sim(p);
	expect_rc(doc, NULL, EIMG_EVERIFY, "does not bind the public key");
	free(doc);
	free(p);
	/* a key given: reports describe it */
	doc = sim_doc(EIMG_ID_MOCK, false);
	assert_int_equal(check(doc, NULL, NOW, NULL, &res, &err), EIMG_OK);
	assert_int_equal(eimg_attest_report_text(&res, "doc.json", &text, &err), EIMG_OK);
	assert_non_null(strstr(text, "\npublic_key:             EC 256, SHA-256 "));
	assert_non_null(strstr(text, "\nmode:                   mock\n"));
	free(text);
	eimg_attest_result_clear(&res);
	free(doc);
}

/* eimg_attest_write_simulation: the document for a launch identity, written
 * atomically; it checks and carries the identity's values. */
static void test_write_simulation(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_attest_XXXXXX", path[64];
	struct eimg_identity id;
	struct eimg_attest_result res;
	eimg_error err;
	uint8_t *buf = NULL;
	size_t len = 0;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/att.json", dir);
	memset(&id, 0, sizeof(id));
	id.has_sgx = true;
	id.mode = EIMG_ID_SIMULATION;
	assert_int_equal(eimg_unhex(H1, id.mrenclave, 32, "x", NULL), 0);
	assert_int_equal(eimg_unhex(H3, id.mrsigner, 32, "x", NULL), 0);
	id.isvprodid = 5;
	id.isvsvn = 9;
	assert_int_equal(eimg_attest_write_simulation(path, &id, enclave_pk, enclave_pk_len, NOW, &err), EIMG_OK);
	assert_int_equal(eimg_read_file(path, EIMG_ATTEST_MAX_DOC, &buf, &len, &err), EIMG_OK);
	if (check((const char *)buf, "S:" H3 " PROD:5 REVOKE:8 SEC:INSECURE", NOW, NULL, &res, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(res.id.isvsvn, 9);
	assert_int_equal(res.id.timestamp, NOW);
	assert_memory_equal(res.public_key, enclave_pk, enclave_pk_len);
	eimg_attest_result_clear(&res);
	free(buf);
	/* no identity, or a hardware one: refused, nothing written */
	id.has_sgx = false;
	assert_int_equal(eimg_attest_write_simulation(path, &id, NULL, 0, NOW, &err), EIMG_EUSAGE);
	id.has_sgx = true;
	id.mode = EIMG_ID_HARDWARE;
	unlink(path);
	assert_int_equal(eimg_attest_write_simulation(path, &id, NULL, 0, NOW, &err), EIMG_EUSAGE);
	assert_int_equal(access(path, F_OK), -1);
	rmdir(dir);
}

static void test_forgeries(void **state)
{
	(void)state;
	/* a genuine hand-made document passes (the forging helpers are right) */
	char *p = payload_text("simulation", "INSECURE", H1, NOW, true, "");
	char *doc = forge_sim(p);
	expect_rc(doc, "C:" H1 " SEC:INSECURE", EIMG_OK, NULL);
	free(doc);
	free(p);

	/* claims hardware, or a security above INSECURE */
	p = payload_text("hardware", "INSECURE", H1, NOW, true, "");
	doc = forge_sim(p);
	expect_rc(doc, NULL, EIMG_EVERIFY, "claims a hardware enclave");
	free(doc);
	free(p);
	p = payload_text("simulation", "SECURE", H1, NOW, true, "");
	doc = forge_sim(p);
	expect_rc(doc, NULL, EIMG_EVERIFY, "only INSECURE is possible");
	free(doc);
	free(p);
	/* report data that does not bind the key */
	p = payload_text("simulation", "INSECURE", H1, NOW, false, "");
	doc = forge_sim(p);
	expect_rc(doc, NULL, EIMG_EVERIFY, "does not bind the public key");
	free(doc);
	free(p);

	/* a genuine document altered afterwards: payload swapped, signature kept */
	char *good = sim_doc(EIMG_ID_SIMULATION, false);
	char *other = forge_sim(p = payload_text("simulation", "INSECURE", H3, NOW, true, ""));
	free(p);
	{
		/* take "payload" from other, the rest from good */
		const char *gp = strstr(good, "\"payload\": \""), *op = strstr(other, "\"payload\":\"");
		assert_non_null(gp);
		assert_non_null(op);
		gp += 12;
		op += 11;
		const char *ge = strchr(gp, '"'), *oe = strchr(op, '"');
		size_t n = strlen(good) + (size_t)(oe - op) + 1;
		char *mix = malloc(n);
		assert_non_null(mix);
		snprintf(mix, n, "%.*s%.*s%s", (int)(gp - good), good, (int)(oe - op), op, ge);
		expect_rc(mix, NULL, EIMG_EVERIFY, "signature does not verify");
		free(mix);
	}
	/* a signature byte changed */
	char *sig = strstr(good, "\"signature\": \"");
	assert_non_null(sig);
	sig += 20;
	*sig = *sig == 'A' ? 'B' : 'A';
	expect_rc(good, NULL, EIMG_EVERIFY, NULL);
	free(good);
	free(other);
}

static void test_malformed(void **state)
{
	(void)state;
	expect_rc("", NULL, EIMG_EINVAL, "not JSON");
	expect_rc("[1]", NULL, EIMG_EINVAL, "expected a JSON object");
	expect_rc("{\"format\":\"enclave-attestation 2\"}", NULL, EIMG_EINVAL, "format");
	expect_rc("{\"format\":\"enclave-attestation 1\",\"signer\":\"tpm\"}", NULL, EIMG_EINVAL, "signer");
	expect_rc("{\"format\":\"enclave-attestation 1\",\"signer\":\"simulation\",\"x\":1}", NULL, EIMG_EINVAL,
		  "unexpected member \"x\"");
	expect_rc("{\"format\":\"enclave-attestation 1\",\"signer\":\"dcap\",\"key\":\"AA==\"}", NULL, EIMG_EINVAL,
		  "unexpected member \"key\"");
	expect_rc("{\"format\":\"enclave-attestation 1\",\"format\":\"enclave-attestation 1\"}", NULL, EIMG_EINVAL, NULL);
	expect_rc("{\"format\":\"enclave-attestation 1\",\"signer\":\"simulation\"}", NULL, EIMG_EINVAL,
		  "payload: missing");
	expect_rc("{\"format\":\"enclave-attestation 1\",\"signer\":\"simulation\",\"payload\":\"e30\"}", NULL,
		  EIMG_EINVAL, "payload: not base64");
	expect_rc("{\"format\":\"enclave-attestation 1\",\"signer\":\"simulation\",\"payload\":\"e3=0\"}", NULL,
		  EIMG_EINVAL, "payload: not base64");
	/* payloads: each member's type, unknown members (signed or not, refused before the signature) */
	static const struct { const char *mode, *sec, *mre, *extra, *frag; } cases[] = {
		{ "enclave", "INSECURE", H1, "", "mode" },
		{ "simulation", "insecure", H1, "", "security" },
		{ "simulation", "INSECURE", "0x" H1, "", "mrenclave" },
		{ "simulation", "INSECURE", "zz97b9581b9377d41a8ffc45990335048e79c976a6bbb4e7692ecad699a55317", "", "mrenclave" },
		{ "simulation", "INSECURE", H1, ",\"admin\":true", "unknown member \"admin\"" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *p = payload_text(cases[i].mode, cases[i].sec, cases[i].mre, NOW, true, cases[i].extra);
		char *doc = forge_sim(p);
		expect_rc(doc, NULL, EIMG_EINVAL, cases[i].frag);
		free(doc);
		free(p);
	}
	char *p = payload_text("simulation", "INSECURE", H1, NOW, true, "");
	static const char *const bad_values[] = { "\"isvsvn\":-3", "\"isvsvn\":65536", "\"isvsvn\":3.5", "\"isvsvn\":\"3\"" };
	for (size_t i = 0; i < 4; i++) {
		char *at = strstr(p, "\"isvsvn\":3");
		size_t n = strlen(p) + 32;
		char *p2 = malloc(n);
		assert_non_null(p2);
		snprintf(p2, n, "%.*s%s%s", (int)(at - p), p, bad_values[i], at + 10);
		char *d2 = forge_sim(p2);
		expect_rc(d2, NULL, EIMG_EINVAL, "isvsvn");
		free(d2);
		free(p2);
	}
	free(p);
	char *q, *doc;
	/* a public key that is not one */
	p = payload_text("simulation", "INSECURE", H1, NOW, true, "");
	q = strstr(p, "\"public_key\":\"");
	memcpy(q + 14, "AAAA", 4);
	doc = forge_sim(p);
	expect_rc(doc, NULL, EIMG_EINVAL, "public_key");
	free(doc);
	free(p);
	/* oversized document */
	size_t big = EIMG_ATTEST_MAX_DOC + 1;
	char *huge = malloc(big + 1);
	assert_non_null(huge);
	memset(huge, ' ', big);
	huge[big] = 0;
	expect_rc(huge, NULL, EIMG_EINVAL, "above the limit");
	free(huge);
	/* usage */
	eimg_error err;
	assert_int_equal(eimg_attestation_check(NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, NULL, &err), EIMG_EUSAGE);
}

/* ---- DCAP through a fake provider/verifier ----
 * The fake quote: "FQ1" | mrenclave | mrsigner | prodid(2) | svn(2) | debug(1)
 * | report_data(64) | SHA-256 over all that and a verifier secret. */
struct fakeq {
	int security;
	uint64_t timestamp;
	bool debug;
	uint8_t mrenclave[32];
};

static void fq_mac(const uint8_t *q, size_t n, uint8_t out[32])
{
	uint8_t buf[512];
	memcpy(buf, q, n);
	memcpy(buf + n, "verifier-secret", 15);
	eimg_sha256(buf, n + 15, out);
}

#define FQ_BODY (3 + 32 + 32 + 2 + 2 + 1 + 64)

static int fq_get(void *ctx, const uint8_t rd[64], uint8_t **quote, size_t *len, eimg_error *err)
{
	struct fakeq *f = ctx;
	(void)err;
	uint8_t *q = malloc(FQ_BODY + 32);
	assert_non_null(q);
	memcpy(q, "FQ1", 3);
	memcpy(q + 3, f->mrenclave, 32);
	assert_int_equal(eimg_unhex(H3, q + 35, 32, "x", NULL), 0);
	q[67] = 7; q[68] = 0; q[69] = 3; q[70] = 0;
	q[71] = f->debug;
	memcpy(q + 72, rd, 64);
	fq_mac(q, FQ_BODY, q + FQ_BODY);
	*quote = q;
	*len = FQ_BODY + 32;
	return EIMG_OK;
}

static int fq_verify(void *ctx, const uint8_t *q, size_t len, uint64_t now, struct eimg_quote_info *out, eimg_error *err)
{
	struct fakeq *f = ctx;
	uint8_t mac[32];
	(void)now;
	if (len != FQ_BODY + 32 || memcmp(q, "FQ1", 3) != 0)
		return eimg_err(err, EIMG_EVERIFY, NULL, "not a quote");
	fq_mac(q, FQ_BODY, mac);
	if (memcmp(mac, q + FQ_BODY, 32) != 0)
		return eimg_err(err, EIMG_EVERIFY, NULL, "quote signature does not verify");
	memcpy(out->mrenclave, q + 3, 32);
	memcpy(out->mrsigner, q + 35, 32);
	out->isvprodid = (uint16_t)(q[67] | q[68] << 8);
	out->isvsvn = (uint16_t)(q[69] | q[70] << 8);
	out->debug = q[71];
	memcpy(out->report_data, q + 72, 64);
	out->security = f->security;
	out->timestamp = f->timestamp;
	return EIMG_OK;
}

static void test_dcap(void **state)
{
	(void)state;
	struct fakeq f = { .security = EIMG_SEC_SECURE, .timestamp = NOW - 10 };
	assert_int_equal(eimg_unhex(H1, f.mrenclave, 32, "x", NULL), 0);
	struct eimg_quote_ops q = { .ctx = &f, .get_quote = fq_get, .verify_quote = fq_verify };
	struct eimg_attest_claims c = claims(EIMG_ID_HARDWARE, false);
	char *doc = NULL;
	size_t len = 0;
	eimg_error err;
	assert_int_equal(eimg_attest_create_dcap(&q, &c, enclave_pk, enclave_pk_len, &doc, &len, &err), EIMG_OK);
	assert_non_null(strstr(doc, "\"signer\": \"dcap\""));
	struct eimg_attest_result res;
	assert_int_equal(check(doc, "C:" H1 " SEC:SECURE DEBUG:NO EXPIRE:P1D", NOW, &q, &res, &err), EIMG_OK);
	assert_int_equal(res.signer, EIMG_ATTEST_DCAP);
	assert_int_equal(res.id.mode, EIMG_ID_HARDWARE);
	assert_int_equal(res.id.security, EIMG_SEC_SECURE);
	assert_int_equal(res.id.timestamp, NOW - 10); /* the verifier's time, not the payload's */
	assert_memory_equal(res.public_key, enclave_pk, enclave_pk_len);
	eimg_attest_result_clear(&res);
	/* a stale platform */
	f.security = EIMG_SEC_STALE;
	assert_int_equal(check(doc, "C:" H1 " SEC:SECURE", NOW, &q, NULL, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "SEC: expected SECURE, got STALE"));
	assert_int_equal(check(doc, "C:" H1, NOW, &q, NULL, &err), EIMG_OK);
	/* no verifier: cannot be checked, and says so */
	assert_int_equal(check(doc, "C:" H1, NOW, NULL, NULL, &err), EIMG_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "DCAP quote verifier"));
	/* a forged quote */
	char *qs = strstr(doc, "\"quote\": \"");
	assert_non_null(qs);
	qs[12] = qs[12] == 'A' ? 'B' : 'A';
	assert_int_equal(check(doc, "C:" H1, NOW, &q, NULL, &err), EIMG_EVERIFY);
	free(doc);
	/* a debug enclave: the quote says so, the SEC default refuses */
	f.debug = true;
	c = claims(EIMG_ID_HARDWARE, true);
	assert_int_equal(eimg_attest_create_dcap(&q, &c, enclave_pk, enclave_pk_len, &doc, &len, &err), EIMG_OK);
	assert_int_equal(check(doc, "C:" H1, NOW, &q, NULL, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "INSECURE (debug)"));
	free(doc);
	/* the payload lies about the debug attribute: the quote wins, the document is refused */
	c = claims(EIMG_ID_HARDWARE, false);
	assert_int_equal(eimg_attest_create_dcap(&q, &c, enclave_pk, enclave_pk_len, &doc, &len, &err), EIMG_OK);
	assert_int_equal(check(doc, "C:" H1, NOW, &q, NULL, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "payload's debug disagrees with the quote"));
	free(doc);
	/* a DCAP document needs a hardware claim and a provider */
	c = claims(EIMG_ID_SIMULATION, false);
	assert_int_equal(eimg_attest_create_dcap(&q, &c, enclave_pk, enclave_pk_len, &doc, &len, &err), EIMG_EUSAGE);
	c = claims(EIMG_ID_HARDWARE, false);
	assert_int_equal(eimg_attest_create_dcap(NULL, &c, enclave_pk, enclave_pk_len, &doc, &len, &err), EIMG_EUNSUPPORTED);
}

/* An independent reading of a simulation document with Python. */
static void test_python_independent(void **state)
{
	(void)state;
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    system("/usr/bin/python3 -c 'import cryptography' 2>/dev/null") != 0) {
		print_message("skipped: /usr/bin/python3 with the cryptography package not available\n");
		skip();
	}
	char *doc = sim_doc(EIMG_ID_SIMULATION, false);
	char path[] = "/tmp/eimg-attest-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
	close(fd);
	static const char script[] =
		"import sys, json, base64, hashlib\n"
		"from cryptography.hazmat.primitives import hashes, serialization\n"
		"from cryptography.hazmat.primitives.asymmetric import ec\n"
		"d = json.load(open(sys.argv[1]))\n"
		"assert d['format'] == 'enclave-attestation 1' and d['signer'] == 'simulation'\n"
		"payload = base64.b64decode(d['payload'], validate=True)\n"
		"key = serialization.load_der_public_key(base64.b64decode(d['key']))\n"
		"assert isinstance(key.curve, ec.SECP256R1)\n"
		"key.verify(base64.b64decode(d['signature']), payload, ec.ECDSA(hashes.SHA256()))\n"
		"p = json.loads(payload)\n"
		"assert list(p) == ['version','mode','debug','security','mrenclave','mrsigner','isvprodid','isvsvn','timestamp','public_key','report_data']\n"
		"pk = base64.b64decode(p['public_key'])\n"
		"assert p['report_data'] == hashlib.sha256(pk).hexdigest() + '00' * 32\n"
		"assert p['mode'] == 'simulation' and p['security'] == 'INSECURE'\n"
		"print('independent check ok', p['mrenclave'])\n";
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 - '%s' <<'EOF'\n%sEOF\n", path, script);
	FILE *pp = popen(cmd, "r");
	assert_non_null(pp);
	char line[256] = "";
	if (!fgets(line, sizeof(line), pp))
		line[0] = 0;
	int st = pclose(pp);
	unlink(path);
	free(doc);
	assert_int_equal(st, 0);
	assert_string_equal(line, "independent check ok " H1 "\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simulation_roundtrip),
		cmocka_unit_test(test_no_enclave_key),
		cmocka_unit_test(test_write_simulation),
		cmocka_unit_test(test_forgeries),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_dcap),
		cmocka_unit_test(test_python_independent),
	};
	return cmocka_run_group_tests_name("attest", tests, group_setup, group_teardown);
}
