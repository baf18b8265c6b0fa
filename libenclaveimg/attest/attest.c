/* SPDX-License-Identifier: Apache-2.0 */
/* Attestation documents: creation (simulation, DCAP through a seam) and the
 * client's check.  Format: eimg/attest.h and man/enclave-attestation.5. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "eimg/attest.h"
#include "eimg/hash.h"
#include "eimg/keys.h"
#include "eimg/util.h"
#include "core/internal.h"

#define SIM_NOTICE                                                                                       \
	"simulation attestation: signed by a throwaway key made for this document; it proves only that " \
	"the document was not altered, nothing about where or how the enclave runs"

/* ---- shared pieces ---- */

static const char *mode_word(int mode)
{
	switch (mode) {
	case EIMG_ID_HARDWARE: return "hardware";
	case EIMG_ID_SIMULATION: return "simulation";
	case EIMG_ID_MOCK: return "mock";
	default: return NULL;
	}
}

static void bind_report_data(const uint8_t *pubkey, size_t len, uint8_t rd[64])
{
	memset(rd, 0, 64);
	eimg_sha256(pubkey, len, rd);
}

/* The payload bytes, members in the documented order. */
static int build_payload(const struct eimg_attest_claims *c, int security, const uint8_t *pk, size_t pklen,
			 const uint8_t rd[64], char **out, size_t *outlen, eimg_error *err)
{
	char mre[65], mrs[65], rdh[129];
	char *pk64 = eimg_base64_encode(pk, pklen);
	if (!pk64)
		return eimg_err_nomem(err);
	size_t cap = strlen(pk64) + 512;
	char *p = malloc(cap);
	if (!p) {
		free(pk64);
		return eimg_err_nomem(err);
	}
	int n = snprintf(p, cap,
			 "{\"version\":1,\"mode\":\"%s\",\"debug\":%s,\"security\":\"%s\",\"mrenclave\":\"%s\","
			 "\"mrsigner\":\"%s\",\"isvprodid\":%u,\"isvsvn\":%u,\"timestamp\":%" PRIu64 ","
			 "\"public_key\":\"%s\",\"report_data\":\"%s\"}",
			 mode_word(c->mode), c->debug ? "true" : "false", eimg_security_name(security),
			 eimg_hex(c->mrenclave, 32, mre), eimg_hex(c->mrsigner, 32, mrs), c->isvprodid, c->isvsvn,
			 c->timestamp, pk64, eimg_hex(rd, 64, rdh));
	free(pk64);
	if (n < 0 || (size_t)n >= cap) {
		free(p);
		return eimg_err(err, EIMG_EINTERNAL, NULL, "attestation payload does not fit");
	}
	*out = p;
	*outlen = (size_t)n;
	return EIMG_OK;
}

static int finish_doc(json_t *o, char **doc, size_t *doc_len, eimg_error *err)
{
	char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s)
		return eimg_err_nomem(err);
	size_t n = strlen(s);
	char *d = malloc(n + 2);
	if (!d) {
		free(s);
		return eimg_err_nomem(err);
	}
	memcpy(d, s, n);
	d[n] = '\n';
	d[n + 1] = '\0';
	free(s);
	*doc = d;
	*doc_len = n + 1;
	return EIMG_OK;
}

/* The enclave's public key as DER; none (len 0) gives an empty key. */
static int enclave_key(const uint8_t *pubkey, size_t len, uint8_t **der, size_t *derlen, eimg_error *err)
{
	if (len == 0) {
		*der = malloc(1);
		*derlen = 0;
		return *der ? EIMG_OK : eimg_err_nomem(err);
	}
	return eimg_pubkey_to_der("public key", pubkey, len, der, derlen, err);
}

static int check_claims(const struct eimg_attest_claims *c, eimg_error *err)
{
	if (!c || !mode_word(c->mode))
		return eimg_err(err, EIMG_EUSAGE, NULL, "attestation: missing claims or unknown mode");
	return EIMG_OK;
}

/* ---- creating ---- */

int eimg_attest_create_simulation(const struct eimg_attest_claims *claims, const uint8_t *pubkey, size_t pubkey_len,
				  char **doc, size_t *doc_len, eimg_error *err)
{
	uint8_t *pk = NULL, *spki = NULL, *sig = NULL, rd[64];
	size_t pklen = 0, spkilen = 0, siglen = 0, plen = 0;
	char *payload = NULL, *p64 = NULL, *k64 = NULL, *s64 = NULL;
	eimg_attest_key *key = NULL;
	json_t *o = NULL;
	int rc;

	if ((rc = check_claims(claims, err)))
		return rc;
	if (claims->mode == EIMG_ID_HARDWARE)
		return eimg_err(err, EIMG_EUSAGE, NULL,
				"a simulation-signed attestation cannot speak for a hardware enclave: use a DCAP quote");
	if ((!pubkey && pubkey_len) || !doc || !doc_len)
		return eimg_err(err, EIMG_EUSAGE, NULL, "attestation: missing argument");
	if ((rc = enclave_key(pubkey, pubkey_len, &pk, &pklen, err)))
		return rc;
	bind_report_data(pk, pklen, rd);
	if ((rc = build_payload(claims, EIMG_SEC_INSECURE, pk, pklen, rd, &payload, &plen, err)))
		goto out;
	if ((rc = eimg_attest_key_generate(&key, err)) || (rc = eimg_attest_key_spki(key, &spki, &spkilen, err)) ||
	    (rc = eimg_attest_key_sign(key, (const uint8_t *)payload, plen, &sig, &siglen, err)))
		goto out;
	p64 = eimg_base64_encode((const uint8_t *)payload, plen);
	k64 = eimg_base64_encode(spki, spkilen);
	s64 = eimg_base64_encode(sig, siglen);
	o = json_object();
	if (!p64 || !k64 || !s64 || !o || json_object_set_new(o, "format", json_string(EIMG_ATTEST_FORMAT)) ||
	    json_object_set_new(o, "signer", json_string("simulation")) ||
	    json_object_set_new(o, "notice", json_string(SIM_NOTICE)) ||
	    json_object_set_new(o, "payload", json_string(p64)) || json_object_set_new(o, "key", json_string(k64)) ||
	    json_object_set_new(o, "signature", json_string(s64))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	rc = finish_doc(o, doc, doc_len, err);
out:
	json_decref(o);
	eimg_attest_key_free(key);
	free(pk);
	free(spki);
	free(sig);
	free(payload);
	free(p64);
	free(k64);
	free(s64);
	return rc;
}

int eimg_attest_create_dcap(const struct eimg_quote_ops *q, const struct eimg_attest_claims *claims,
			    const uint8_t *pubkey, size_t pubkey_len, char **doc, size_t *doc_len, eimg_error *err)
{
	uint8_t *pk = NULL, *quote = NULL, rd[64];
	size_t pklen = 0, qlen = 0, plen = 0;
	char *payload = NULL, *p64 = NULL, *q64 = NULL;
	json_t *o = NULL;
	int rc;

	if ((rc = check_claims(claims, err)))
		return rc;
	if (claims->mode != EIMG_ID_HARDWARE)
		return eimg_err(err, EIMG_EUSAGE, NULL, "a DCAP quote attests hardware enclaves only");
	if (!q || !q->get_quote)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL, "no DCAP quote provider is configured");
	if ((!pubkey && pubkey_len) || !doc || !doc_len)
		return eimg_err(err, EIMG_EUSAGE, NULL, "attestation: missing argument");
	if ((rc = enclave_key(pubkey, pubkey_len, &pk, &pklen, err)))
		return rc;
	bind_report_data(pk, pklen, rd);
	if ((rc = q->get_quote(q->ctx, rd, &quote, &qlen, err)))
		goto out;
	if (qlen == 0 || qlen > EIMG_ATTEST_MAX_QUOTE) {
		rc = eimg_err(err, EIMG_EINVAL, NULL, "the quote provider returned %zu bytes (limit %u)", qlen,
			      EIMG_ATTEST_MAX_QUOTE);
		goto out;
	}
	/* The payload states the lower bound known without the verifier. */
	if ((rc = build_payload(claims, claims->debug ? EIMG_SEC_INSECURE : EIMG_SEC_STALE, pk, pklen, rd, &payload,
				&plen, err)))
		goto out;
	p64 = eimg_base64_encode((const uint8_t *)payload, plen);
	q64 = eimg_base64_encode(quote, qlen);
	o = json_object();
	if (!p64 || !q64 || !o || json_object_set_new(o, "format", json_string(EIMG_ATTEST_FORMAT)) ||
	    json_object_set_new(o, "signer", json_string("dcap")) ||
	    json_object_set_new(o, "payload", json_string(p64)) || json_object_set_new(o, "quote", json_string(q64))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	rc = finish_doc(o, doc, doc_len, err);
out:
	json_decref(o);
	free(pk);
	free(quote);
	free(payload);
	free(p64);
	free(q64);
	return rc;
}

/* ---- checking ---- */

struct payload {
	int mode;
	bool debug;
	int security;
	uint8_t mrenclave[32], mrsigner[32], report_data[64];
	uint16_t isvprodid, isvsvn;
	uint64_t timestamp;
	uint8_t *public_key;
	size_t public_key_len;
};

static int bad(eimg_error *err, const char *source, const char *fmt, const char *what)
{
	return eimg_err(err, EIMG_EINVAL, source, fmt, what);
}

static int get_hex(json_t *o, const char *key, uint8_t *out, size_t n, const char *source, eimg_error *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v) || json_string_length(v) != 2 * n ||
	    eimg_unhex(json_string_value(v), out, n, key, NULL) != EIMG_OK ||
	    strncmp(json_string_value(v), "0x", 2) == 0)
		return eimg_err(err, EIMG_EINVAL, source, "payload: %s: expected %zu hex digits", key, 2 * n);
	return EIMG_OK;
}

static int get_uint(json_t *o, const char *key, uint64_t max, uint64_t *out, const char *source, eimg_error *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v) || json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max)
		return eimg_err(err, EIMG_EINVAL, source, "payload: %s: expected an integer 0..%" PRIu64, key, max);
	*out = (uint64_t)json_integer_value(v);
	return EIMG_OK;
}

static int parse_payload(const char *source, const uint8_t *bytes, size_t len, struct payload *p, eimg_error *err)
{
	static const char *const keys[] = { "version", "mode", "debug", "security", "mrenclave", "mrsigner",
					    "isvprodid", "isvsvn", "timestamp", "public_key", "report_data" };
	json_error_t je;
	json_t *o = json_loadb((const char *)bytes, len, JSON_REJECT_DUPLICATES, &je);
	uint64_t x;
	int rc;
	memset(p, 0, sizeof(*p));
	if (!json_is_object(o)) {
		rc = eimg_err(err, EIMG_EINVAL, source, "payload is not a JSON object");
		goto out;
	}
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		bool known = false;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			known = known || strcmp(k, keys[i]) == 0;
		if (!known) {
			char esc[64];
			eimg_escape(k, strlen(k), esc, sizeof(esc));
			rc = bad(err, source, "payload: unknown member \"%s\"", esc);
			goto out;
		}
	}
	if ((rc = get_uint(o, "version", 1, &x, source, err)))
		goto out;
	if (x != 1) {
		rc = eimg_err(err, EIMG_EINVAL, source, "payload: version: expected 1");
		goto out;
	}
	const char *mode = json_string_value(json_object_get(o, "mode"));
	p->mode = !mode ? 0 : strcmp(mode, "hardware") == 0 ? EIMG_ID_HARDWARE
		: strcmp(mode, "simulation") == 0 ? EIMG_ID_SIMULATION : strcmp(mode, "mock") == 0 ? EIMG_ID_MOCK : 0;
	if (!p->mode) {
		rc = eimg_err(err, EIMG_EINVAL, source, "payload: mode: expected hardware, simulation or mock");
		goto out;
	}
	json_t *dbg = json_object_get(o, "debug");
	if (!json_is_boolean(dbg)) {
		rc = eimg_err(err, EIMG_EINVAL, source, "payload: debug: expected true or false");
		goto out;
	}
	p->debug = json_is_true(dbg);
	const char *sec = json_string_value(json_object_get(o, "security"));
	p->security = !sec ? -1 : strcmp(sec, "INSECURE") == 0 ? EIMG_SEC_INSECURE
		: strcmp(sec, "STALE") == 0 ? EIMG_SEC_STALE : strcmp(sec, "SECURE") == 0 ? EIMG_SEC_SECURE : -1;
	if (p->security < 0) {
		rc = eimg_err(err, EIMG_EINVAL, source, "payload: security: expected INSECURE, STALE or SECURE");
		goto out;
	}
	if ((rc = get_hex(o, "mrenclave", p->mrenclave, 32, source, err)) ||
	    (rc = get_hex(o, "mrsigner", p->mrsigner, 32, source, err)) ||
	    (rc = get_hex(o, "report_data", p->report_data, 64, source, err)))
		goto out;
	if ((rc = get_uint(o, "isvprodid", 65535, &x, source, err)))
		goto out;
	p->isvprodid = (uint16_t)x;
	if ((rc = get_uint(o, "isvsvn", 65535, &x, source, err)))
		goto out;
	p->isvsvn = (uint16_t)x;
	if ((rc = get_uint(o, "timestamp", 253402300799ull, &p->timestamp, source, err)))
		goto out;
	json_t *pk = json_object_get(o, "public_key");
	if (!json_is_string(pk) ||
	    eimg_base64_decode(json_string_value(pk), json_string_length(pk), false, EIMG_ATTEST_MAX_PUBKEY, &p->public_key,
		       &p->public_key_len) != 0) {
		rc = eimg_err(err, EIMG_EINVAL, source, "payload: public_key: expected base64 of a DER public key");
		goto out;
	}
	if (p->public_key_len > 0) { /* "" = the enclave published no key */
		uint8_t *norm = NULL;
		size_t nlen = 0;
		bool same = eimg_pubkey_to_der(source, p->public_key, p->public_key_len, &norm, &nlen, NULL) == EIMG_OK &&
			    nlen == p->public_key_len && memcmp(norm, p->public_key, nlen) == 0;
		free(norm);
		if (!same) {
			rc = eimg_err(err, EIMG_EINVAL, source,
				      "payload: public_key: not a DER SubjectPublicKeyInfo public key");
			goto out;
		}
	}
	rc = EIMG_OK;
out:
	json_decref(o);
	if (rc) {
		free(p->public_key);
		p->public_key = NULL;
	}
	return rc;
}

static int doc_b64(json_t *o, const char *key, size_t max, uint8_t **out, size_t *len, const char *source,
		   eimg_error *err)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return eimg_err(err, EIMG_EINVAL, source, "%s: missing (expected a base64 string)", key);
	if (eimg_base64_decode(json_string_value(v), json_string_length(v), false, max, out, len) != 0 || *len == 0)
		return eimg_err(err, EIMG_EINVAL, source, "%s: not base64, or above the limit of %zu bytes", key, max);
	return EIMG_OK;
}

static int verify_binding(const struct payload *p, const uint8_t rd[64], const char *source, eimg_error *err)
{
	uint8_t want[64];
	bind_report_data(p->public_key, p->public_key_len, want);
	if (memcmp(want, rd, 64) != 0)
		return eimg_err(err, EIMG_EVERIFY, source,
				"the report data does not bind the public key (expected SHA-256 of public_key, then zeros)");
	return EIMG_OK;
}

/* The document's envelope: a JSON object of the known format, its signer, and
 * no member that signer does not use.  *o is set even on failure (decref it). */
static int load_envelope(const char *source, const char *doc, size_t len, json_t **o, int *signer, eimg_error *err)
{
	json_error_t je;
	*o = json_loadb(doc, len, JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(*o))
		return *o ? eimg_err(err, EIMG_EINVAL, source, "expected a JSON object")
			  : eimg_err_at(err, EIMG_EINVAL, source, (unsigned)je.line, (unsigned)je.column,
					"not JSON: %.200s", je.text);
	const char *fmt = json_string_value(json_object_get(*o, "format"));
	if (!fmt || strcmp(fmt, EIMG_ATTEST_FORMAT) != 0)
		return eimg_err(err, EIMG_EINVAL, source, "format: expected \"%s\"", EIMG_ATTEST_FORMAT);
	const char *sg = json_string_value(json_object_get(*o, "signer"));
	*signer = !sg ? 0 : strcmp(sg, "simulation") == 0 ? EIMG_ATTEST_SIMULATION
		  : strcmp(sg, "dcap") == 0 ? EIMG_ATTEST_DCAP : 0;
	if (!*signer)
		return eimg_err(err, EIMG_EINVAL, source, "signer: expected \"simulation\" or \"dcap\"");
	const char *k;
	json_t *v;
	json_object_foreach(*o, k, v) {
		bool ok = strcmp(k, "format") == 0 || strcmp(k, "signer") == 0 || strcmp(k, "payload") == 0 ||
			  (*signer == EIMG_ATTEST_SIMULATION &&
			   (strcmp(k, "notice") == 0 || strcmp(k, "key") == 0 || strcmp(k, "signature") == 0)) ||
			  (*signer == EIMG_ATTEST_DCAP && strcmp(k, "quote") == 0);
		if (!ok) {
			char esc[64];
			eimg_escape(k, strlen(k), esc, sizeof(esc));
			return bad(err, source, "unexpected member \"%s\"", esc);
		}
	}
	return EIMG_OK;
}

/* A simulation-signed document: its key signs the payload, which claims
 * nothing a simulation can give; the identity is the payload's. */
static int check_simulation(json_t *o, const char *source, const uint8_t *payload, size_t plen,
			    const struct payload *p, struct eimg_identity *id, eimg_error *err)
{
	uint8_t *key = NULL, *sig = NULL;
	size_t klen = 0, slen = 0;
	int rc;

	if ((rc = doc_b64(o, "key", 4096, &key, &klen, source, err)) ||
	    (rc = doc_b64(o, "signature", 1024, &sig, &slen, source, err)))
		goto out;
	if ((rc = eimg_attest_verify_p256(key, klen, payload, plen, sig, slen, err))) {
		if (err && rc == EIMG_EVERIFY) {
			char m[EIMG_ERROR_MSG_MAX];
			snprintf(m, sizeof(m), "%s", err->msg);
			eimg_err(err, EIMG_EVERIFY, source, "simulation document: %s", m);
		}
		goto out;
	}
	if (p->mode == EIMG_ID_HARDWARE) {
		rc = eimg_err(err, EIMG_EVERIFY, source, "a simulation-signed document claims a hardware enclave: refused");
		goto out;
	}
	if (p->security != EIMG_SEC_INSECURE) {
		rc = eimg_err(err, EIMG_EVERIFY, source,
			      "a simulation-signed document claims security %s: only INSECURE is possible",
			      eimg_security_name(p->security));
		goto out;
	}
	if ((rc = verify_binding(p, p->report_data, source, err)))
		goto out;
	id->has_sgx = true;
	memcpy(id->mrenclave, p->mrenclave, 32);
	memcpy(id->mrsigner, p->mrsigner, 32);
	id->isvprodid = p->isvprodid;
	id->isvsvn = p->isvsvn;
	id->debug = p->debug;
	id->mode = p->mode;
	id->security = EIMG_SEC_INSECURE;
	id->timestamp = p->timestamp;
out:
	free(key);
	free(sig);
	return rc;
}

/* A DCAP document: the configured verifier checks the quote, the payload
 * agrees with it; the identity is the quote's. */
static int check_dcap(json_t *o, const char *source, const struct eimg_quote_ops *q, const struct eimg_check_time *when,
		      const struct payload *p, struct eimg_identity *id, eimg_error *err)
{
	struct eimg_quote_info qi;
	uint8_t *quote = NULL;
	size_t qlen = 0;
	int rc;

	if (!q || !q->verify_quote)
		return eimg_err(err, EIMG_EUNSUPPORTED, source,
				"the document carries a DCAP quote; checking it needs a DCAP quote verifier, "
				"and none is configured");
	if ((rc = doc_b64(o, "quote", EIMG_ATTEST_MAX_QUOTE, &quote, &qlen, source, err)))
		goto out;
	memset(&qi, 0, sizeof(qi));
	/* The quote's collateral is checked as of the time of the check (with
	 * --at document: the payload's time, the only one known yet). */
	uint64_t now = when->at == EIMG_AT_DOCUMENT ? p->timestamp : when->time;
	if ((rc = q->verify_quote(q->ctx, quote, qlen, now, &qi, err)))
		goto out;
	if (qi.security < EIMG_SEC_INSECURE || qi.security > EIMG_SEC_SECURE) {
		rc = eimg_err(err, EIMG_EINTERNAL, source, "the quote verifier returned an unknown security level");
		goto out;
	}
	const char *what = p->mode != EIMG_ID_HARDWARE ? "mode"
			   : memcmp(p->mrenclave, qi.mrenclave, 32) ? "mrenclave"
			   : memcmp(p->mrsigner, qi.mrsigner, 32) ? "mrsigner"
			   : p->isvprodid != qi.isvprodid ? "isvprodid"
			   : p->isvsvn != qi.isvsvn ? "isvsvn"
			   : p->debug != qi.debug ? "debug"
			   : memcmp(p->report_data, qi.report_data, 64) ? "report_data" : NULL;
	if (what) {
		rc = eimg_err(err, EIMG_EVERIFY, source, "the payload's %s disagrees with the quote", what);
		goto out;
	}
	if ((rc = verify_binding(p, qi.report_data, source, err)))
		goto out;
	id->has_sgx = true;
	memcpy(id->mrenclave, qi.mrenclave, 32);
	memcpy(id->mrsigner, qi.mrsigner, 32);
	id->isvprodid = qi.isvprodid;
	id->isvsvn = qi.isvsvn;
	id->debug = qi.debug;
	id->mode = EIMG_ID_HARDWARE;
	id->security = qi.security;
	id->timestamp = qi.timestamp; /* the payload's own time is not covered by the quote */
out:
	free(quote);
	return rc;
}

int eimg_attestation_check(const char *source, const char *doc, size_t len, const eimg_constraint *c,
			   const struct eimg_check_time *when, const struct eimg_quote_ops *q, struct eimg_attest_result *out,
			   struct eimg_constraint_failure *fails, size_t maxfails, size_t *nfails, eimg_error *err)
{
	json_t *o = NULL;
	struct payload p;
	struct eimg_identity id;
	uint8_t *payload = NULL;
	size_t plen = 0;
	int signer = 0, rc;
	struct eimg_check_time deflt;
	uint64_t now;

	if (!when) {
		eimg_check_time_now(&deflt);
		when = &deflt;
	}
	memset(&p, 0, sizeof(p));
	memset(&id, 0, sizeof(id));
	if (nfails)
		*nfails = 0;
	if (!source)
		source = "attestation";
	if (!doc)
		return eimg_err(err, EIMG_EUSAGE, source, "no document given");
	if (len > EIMG_ATTEST_MAX_DOC)
		return eimg_err(err, EIMG_EINVAL, source, "document is above the limit of %u bytes", EIMG_ATTEST_MAX_DOC);
	if ((rc = load_envelope(source, doc, len, &o, &signer, err)) ||
	    (rc = doc_b64(o, "payload", 65536, &payload, &plen, source, err)) ||
	    (rc = parse_payload(source, payload, plen, &p, err)))
		goto out;
	rc = signer == EIMG_ATTEST_SIMULATION ? check_simulation(o, source, payload, plen, &p, &id, err)
					      : check_dcap(o, source, q, when, &p, &id, err);
	if (rc || (rc = eimg_check_time_apply(when, source, id.timestamp, EIMG_ATTEST_MAX_SKEW, &now, err)))
		goto out;
	if (c) {
		size_t nf = 0;
		rc = eimg_constraint_check(c, &id, now, fails, maxfails, &nf, err);
		if (nfails)
			*nfails = nf;
		if (rc) {
			if (err && err->file[0] == '\0')
				snprintf(err->file, sizeof(err->file), "%s", source);
			goto out;
		}
	}
	if (out) {
		memset(out, 0, sizeof(*out));
		out->signer = signer;
		out->id = id;
		out->public_key = p.public_key;
		out->public_key_len = p.public_key_len;
		out->checked_at = now;
		p.public_key = NULL;
	}
	rc = EIMG_OK;
out:
	json_decref(o);
	free(payload);
	free(p.public_key);
	return rc;
}

void eimg_attest_result_clear(struct eimg_attest_result *r)
{
	if (!r)
		return;
	free(r->public_key);
	memset(r, 0, sizeof(*r));
}

/* ---- showing what a document established ---- */

static const char *iso_time(uint64_t t, char buf[EIMG_ISO_TIME_MAX])
{
	return eimg_time_iso(t > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)t, buf);
}

static void key_summary(const struct eimg_attest_result *r, char *desc, size_t dsize, char fp[65])
{
	uint8_t h[32];
	fp[0] = '\0';
	if (r->public_key_len == 0) {
		snprintf(desc, dsize, "none (the enclave published no key; the document binds an empty key)");
		return;
	}
	if (eimg_pubkey_describe(r->public_key, r->public_key_len, desc, dsize) != 0)
		snprintf(desc, dsize, "DER public key");
	eimg_sha256(r->public_key, r->public_key_len, h);
	eimg_hex(h, 32, fp);
}

int eimg_attest_report_text(const struct eimg_attest_result *r, const char *source, char **out, eimg_error *err)
{
	char hex[65], fp[65], desc[128], when[32];
	const struct eimg_identity *id = &r->id;
	struct eimg_sb b = { 0 };

	key_summary(r, desc, sizeof(desc), fp);
	eimg_sb_field(&b, NULL, "attestation", "%s", source ? source : "attestation");
	eimg_sb_field(&b, NULL, "format", "%s", EIMG_ATTEST_FORMAT);
	eimg_sb_field(&b, NULL, "signer", "%s",
		      r->signer == EIMG_ATTEST_DCAP ? "dcap (quote verified by the configured DCAP verifier)"
						    : "simulation (throwaway key: proves only that the document was not altered)");
	eimg_sb_field(&b, NULL, "mode", "%s", mode_word(id->mode) ? mode_word(id->mode) : "?");
	eimg_sb_field(&b, NULL, "debug", "%s", id->debug ? "yes" : "no");
	eimg_sb_field(&b, NULL, "security", "%s", eimg_security_name(eimg_identity_security(id)));
	eimg_sb_field(&b, NULL, "mrenclave", "%s", eimg_hex(id->mrenclave, 32, hex));
	eimg_sb_field(&b, NULL, "mrsigner", "%s", eimg_hex(id->mrsigner, 32, hex));
	eimg_sb_field(&b, NULL, "isvprodid", "%u", id->isvprodid);
	eimg_sb_field(&b, NULL, "isvsvn", "%u", id->isvsvn);
	eimg_sb_field(&b, NULL, "time", "%s", iso_time(id->timestamp, when));
	eimg_sb_field(&b, NULL, "timestamp", "%" PRIu64, id->timestamp);
	eimg_sb_field(&b, NULL, "public_key", "%s%s%s", desc, fp[0] ? ", SHA-256 " : "", fp);
	if (r->signer == EIMG_ATTEST_SIMULATION)
		eimg_sb_field(&b, NULL, "notice", "%s", SIM_NOTICE);
	if (!(*out = eimg_sb_done(&b)))
		return eimg_err_nomem(err);
	return EIMG_OK;
}

int eimg_attest_report_json(const struct eimg_attest_result *r, const char *source, char **out, eimg_error *err)
{
	char mre[65], mrs[65], fp[65], desc[128], when[32];
	const struct eimg_identity *id = &r->id;
	char *k64 = eimg_base64_encode(r->public_key ? r->public_key : (const uint8_t *)"", r->public_key_len);
	json_t *o = json_object(), *pk = json_object();
	if (!k64 || !o || !pk) {
		free(k64);
		json_decref(o);
		json_decref(pk);
		return eimg_err_nomem(err);
	}
	/* o owns pk from here on (also when adding fails). */
	key_summary(r, desc, sizeof(desc), fp);
	int bad_ = json_object_set_new(o, "public_key", pk) ||
		   json_object_set_new(o, "attestation", json_string(source ? source : "attestation")) ||
		   json_object_set_new(o, "format", json_string(EIMG_ATTEST_FORMAT)) ||
		   json_object_set_new(o, "signer", json_string(r->signer == EIMG_ATTEST_DCAP ? "dcap" : "simulation")) ||
		   json_object_set_new(o, "mode", json_string(mode_word(id->mode) ? mode_word(id->mode) : "?")) ||
		   json_object_set_new(o, "debug", json_boolean(id->debug)) ||
		   json_object_set_new(o, "security", json_string(eimg_security_name(eimg_identity_security(id)))) ||
		   json_object_set_new(o, "mrenclave", json_string(eimg_hex(id->mrenclave, 32, mre))) ||
		   json_object_set_new(o, "mrsigner", json_string(eimg_hex(id->mrsigner, 32, mrs))) ||
		   json_object_set_new(o, "isvprodid", json_integer(id->isvprodid)) ||
		   json_object_set_new(o, "isvsvn", json_integer(id->isvsvn)) ||
		   json_object_set_new(o, "timestamp", json_integer((json_int_t)id->timestamp)) ||
		   json_object_set_new(o, "time", json_string(iso_time(id->timestamp, when))) ||
		   (r->signer == EIMG_ATTEST_SIMULATION && json_object_set_new(o, "notice", json_string(SIM_NOTICE))) ||
		   json_object_set_new(pk, "present", json_boolean(r->public_key_len > 0)) ||
		   json_object_set_new(pk, "description", json_string(desc)) ||
		   json_object_set_new(pk, "der", json_string(k64)) ||
		   (fp[0] && json_object_set_new(pk, "sha256", json_string(fp)));
	free(k64);
	if (bad_) {
		json_decref(o);
		return eimg_err_nomem(err);
	}
	return eimg_json_dump(o, out, NULL, err);
}

int eimg_attest_write_simulation(const char *path, const struct eimg_identity *id, const uint8_t *pubkey,
				 size_t pubkey_len, uint64_t now, eimg_error *err)
{
	struct eimg_attest_claims c;
	char *doc = NULL;
	size_t len = 0;
	int rc;

	if (!path || !id || !id->has_sgx)
		return eimg_err(err, EIMG_EUSAGE, path, "attestation: no SGX identity to attest");
	memset(&c, 0, sizeof(c));
	c.mode = id->mode;
	c.debug = id->debug;
	memcpy(c.mrenclave, id->mrenclave, 32);
	memcpy(c.mrsigner, id->mrsigner, 32);
	c.isvprodid = id->isvprodid;
	c.isvsvn = id->isvsvn;
	c.timestamp = now;
	if ((rc = eimg_attest_create_simulation(&c, pubkey, pubkey_len, &doc, &len, err)))
		return rc;
	rc = eimg_write_file_atomic(path, doc, len, err);
	free(doc);
	return rc;
}
