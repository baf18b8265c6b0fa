/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Nitro attestation documents (eimg/nsm.h): strict parsing with
 * libcbor, the COSE signature and the certificate chain (crypto_chain.c),
 * the identity a constraint checks, and reports.
 *
 * The payload is first run through libcbor's streaming decoder with strict
 * limits (definite lengths only, nesting depth, item count, declared counts
 * no larger than the bytes left, no floats, no tags, no simple values but
 * null, no trailing bytes); only input that passes is loaded as a tree, so
 * hostile input never makes libcbor allocate more than a small multiple of
 * its size.  The outer COSE_Sign1 goes through cose.c, which does the same. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cbor.h>

#include "eimg/hash.h"
#include "eimg/nsm.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "core/cbor_int.h"
#include "nitro/nitro_int.h"
#include "crypto/crypto.h"

#define MAX_DEPTH 4
#define MAX_ITEMS 4096

/* The NSM writes null for absent optional fields. */
static const struct eimg_cbor_limits payload_limits = { MAX_DEPTH, MAX_ITEMS, true };

/* ---- the payload map ---- */

static int get_bstr(const char *source, const char *what, const cbor_item_t *it, size_t max, bool nullable,
		    uint8_t **out, size_t *len, eimg_error *err)
{
	if (nullable && cbor_is_null(it))
		return EIMG_OK;
	if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
		return eimg_err(err, EIMG_EINVAL, source, "payload: %s: expected a byte string%s", what,
				nullable ? " or null" : "");
	size_t n = cbor_bytestring_length(it);
	if (n > max)
		return eimg_err(err, EIMG_EINVAL, source, "payload: %s: %zu bytes, above the limit of %zu", what, n, max);
	return eimg_cbor_bstr_dup(it, out, len, err);
}

static int get_pcrs(const char *source, const cbor_item_t *it, struct eimg_nsm_doc *d, eimg_error *err)
{
	if (!cbor_isa_map(it) || !cbor_map_is_definite(it))
		return eimg_err(err, EIMG_EINVAL, source, "payload: pcrs: expected a map");
	size_t n = cbor_map_size(it);
	struct cbor_pair *p = cbor_map_handle(it);
	if (n == 0 || n > EIMG_NSM_NPCR)
		return eimg_err(err, EIMG_EINVAL, source, "payload: pcrs: expected 1 to %d entries, got %zu", EIMG_NSM_NPCR,
				n);
	for (size_t i = 0; i < n; i++) {
		if (!cbor_isa_uint(p[i].key) || cbor_get_int(p[i].key) >= EIMG_NSM_NPCR)
			return eimg_err(err, EIMG_EINVAL, source, "payload: pcrs: expected indexes 0 to %d", EIMG_NSM_NPCR - 1);
		unsigned idx = (unsigned)cbor_get_int(p[i].key);
		if (d->pcr_mask & (1u << idx))
			return eimg_err(err, EIMG_EINVAL, source, "payload: pcrs: index %u appears twice", idx);
		if (!cbor_isa_bytestring(p[i].value) || !cbor_bytestring_is_definite(p[i].value) ||
		    cbor_bytestring_length(p[i].value) != 48)
			return eimg_err(err, EIMG_EINVAL, source, "payload: pcrs: PCR%u: expected 48 bytes (SHA-384)", idx);
		memcpy(d->pcr[idx], cbor_bytestring_handle(p[i].value), 48);
		d->pcr_mask |= 1u << idx;
	}
	return EIMG_OK;
}

static int get_cabundle(const char *source, const cbor_item_t *it, struct eimg_nsm_doc *d, eimg_error *err)
{
	if (!cbor_isa_array(it) || !cbor_array_is_definite(it))
		return eimg_err(err, EIMG_EINVAL, source, "payload: cabundle: expected an array of certificates");
	size_t n = cbor_array_size(it);
	if (n == 0 || n > EIMG_NSM_MAX_CABUNDLE)
		return eimg_err(err, EIMG_EINVAL, source, "payload: cabundle: expected 1 to %d certificates, got %zu",
				EIMG_NSM_MAX_CABUNDLE, n);
	cbor_item_t **h = cbor_array_handle(it);
	for (size_t i = 0; i < n; i++) {
		char what[32];
		snprintf(what, sizeof(what), "cabundle[%zu]", i);
		int rc = get_bstr(source, what, h[i], EIMG_NSM_MAX_CERT, false, &d->cabundle[i], &d->cabundle_len[i], err);
		if (rc)
			return rc;
		d->ncabundle = i + 1;
		if (d->cabundle_len[i] == 0)
			return eimg_err(err, EIMG_EINVAL, source, "payload: %s: empty", what);
	}
	return EIMG_OK;
}

enum { K_MODULE, K_DIGEST, K_TIME, K_PCRS, K_CERT, K_CAB, K_PUB, K_USER, K_NONCE, K_N };
static const char *const keys[K_N] = { "module_id", "digest",    "timestamp",  "pcrs",  "certificate",
					"cabundle",  "public_key", "user_data", "nonce" };

static int parse_payload(const char *source, const uint8_t *buf, size_t len, struct eimg_nsm_doc *d, eimg_error *err)
{
	cbor_item_t *root = NULL;
	bool seen[K_N] = { false };
	int rc = eimg_cbor_load_strict(source, "payload", buf, len, &payload_limits, &root, err);
	if (rc)
		return rc;
	if (!cbor_isa_map(root) || !cbor_map_is_definite(root)) {
		rc = eimg_err(err, EIMG_EINVAL, source, "payload: expected a map");
		goto out;
	}
	struct cbor_pair *p = cbor_map_handle(root);
	for (size_t i = 0; i < cbor_map_size(root); i++) {
		int k = 0;
		while (k < K_N && !eimg_cbor_text_is(p[i].key, keys[k]))
			k++;
		if (k == K_N) {
			char esc[64] = "(not a text key)";
			if (cbor_isa_string(p[i].key) && cbor_string_is_definite(p[i].key))
				eimg_escape((const char *)cbor_string_handle(p[i].key), cbor_string_length(p[i].key), esc,
					    sizeof(esc));
			rc = eimg_err(err, EIMG_EINVAL, source, "payload: unknown key \"%s\"", esc);
			goto out;
		}
		if (seen[k]) {
			rc = eimg_err(err, EIMG_EINVAL, source, "payload: key \"%s\" appears twice", keys[k]);
			goto out;
		}
		seen[k] = true;
		const cbor_item_t *v = p[i].value;
		switch (k) {
		case K_MODULE:
			if (!cbor_isa_string(v) || !cbor_string_is_definite(v) || cbor_string_length(v) == 0 ||
			    cbor_string_length(v) > EIMG_NSM_MAX_MODULE_ID) {
				rc = eimg_err(err, EIMG_EINVAL, source, "payload: module_id: expected text of 1 to %d bytes",
					      EIMG_NSM_MAX_MODULE_ID);
				goto out;
			}
			eimg_escape((const char *)cbor_string_handle(v), cbor_string_length(v), d->module_id,
				    sizeof(d->module_id));
			break;
		case K_DIGEST:
			if (!eimg_cbor_text_is(v, "SHA384")) {
				rc = eimg_err(err, EIMG_EINVAL, source, "payload: digest: expected \"SHA384\"");
				goto out;
			}
			break;
		case K_TIME:
			if (!cbor_isa_uint(v) || cbor_get_int(v) == 0 || cbor_get_int(v) > 253402300799999ull) {
				rc = eimg_err(err, EIMG_EINVAL, source,
					      "payload: timestamp: expected milliseconds since 1970 (before the year 10000)");
				goto out;
			}
			d->timestamp_ms = cbor_get_int(v);
			break;
		case K_PCRS: rc = get_pcrs(source, v, d, err); break;
		case K_CERT:
			rc = get_bstr(source, "certificate", v, EIMG_NSM_MAX_CERT, false, &d->certificate,
				      &d->certificate_len, err);
			break;
		case K_CAB: rc = get_cabundle(source, v, d, err); break;
		case K_PUB:
			rc = get_bstr(source, "public_key", v, EIMG_NSM_MAX_FIELD, true, &d->public_key, &d->public_key_len,
				      err);
			break;
		case K_USER:
			rc = get_bstr(source, "user_data", v, EIMG_NSM_MAX_FIELD, true, &d->user_data, &d->user_data_len, err);
			break;
		case K_NONCE:
			rc = get_bstr(source, "nonce", v, EIMG_NSM_MAX_FIELD, true, &d->nonce, &d->nonce_len, err);
			break;
		default: break;
		}
		if (rc)
			goto out;
	}
	for (int k = 0; k <= K_CAB; k++)
		if (!seen[k]) {
			rc = eimg_err(err, EIMG_EINVAL, source, "payload: missing \"%s\"", keys[k]);
			goto out;
		}
	rc = EIMG_OK;
out:
	if (root)
		cbor_decref(&root);
	return rc;
}

void eimg_nsm_doc_free(struct eimg_nsm_doc *d)
{
	if (!d)
		return;
	free(d->certificate);
	for (size_t i = 0; i < d->ncabundle; i++)
		free(d->cabundle[i]);
	free(d->public_key);
	free(d->user_data);
	free(d->nonce);
	free(d);
}

int eimg_nsm_attest_check(const char *source, const uint8_t *buf, size_t len, const char *root_path,
			  const struct eimg_check_time *when, struct eimg_nsm_doc **out, eimg_error *err)
{
	struct eimg_check_time deflt;
	uint64_t now;
	struct eimg_cose_sign1 cs;
	struct eimg_nsm_doc *d = NULL;
	struct eimg_cert_info ci;
	uint8_t *tbs = NULL, *root = NULL;
	size_t tbslen = 0, rootlen = 0;
	eimg_x509 *rx = NULL;
	int rc;

	memset(&cs, 0, sizeof(cs));
	if (!source)
		source = "attestation";
	if (!buf || !out)
		return eimg_err(err, EIMG_EUSAGE, source, "no document given");
	if (len == 0)
		return eimg_err(err, EIMG_EINVAL, source, "empty document");
	if (len > EIMG_NSM_MAX_DOC)
		return eimg_err(err, EIMG_EINVAL, source, "document of %zu bytes, above the limit of %u", len,
				EIMG_NSM_MAX_DOC);
	if ((rc = eimg_cose_sign1_decode(source, buf, len, &cs, err)))
		return rc;
	if (cs.alg != EIMG_COSE_ES384) {
		rc = eimg_err(err, EIMG_EINVAL, source, "COSE_Sign1: signed %s; Nitro documents are signed ES384",
			      eimg_cose_alg_name(cs.alg));
		goto out;
	}
	if (!(d = calloc(1, sizeof(*d)))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if ((rc = parse_payload(source, cs.payload, cs.payload_len, d, err)))
		goto out;
	if ((rc = eimg_chain_cert_info(source, "certificate", d->certificate, d->certificate_len, &ci, err)))
		goto out;
	snprintf(d->cert_subject, sizeof(d->cert_subject), "%s", ci.subject);
	snprintf(d->cert_issuer, sizeof(d->cert_issuer), "%s", ci.issuer);
	d->cert_not_before = ci.not_before;
	d->cert_not_after = ci.not_after;
	if ((rc = eimg_cose_tbs(cs.protected_hdr, cs.protected_len, cs.payload, cs.payload_len, &tbs, &tbslen, err)) ||
	    (rc = eimg_chain_verify_es384(source, d->certificate, d->certificate_len, tbs, tbslen, cs.sig, cs.sig_len,
					  err)))
		goto out;
	if (!when) {
		eimg_check_time_now(&deflt);
		when = &deflt;
	}
	if ((rc = eimg_check_time_apply(when, source, d->timestamp_ms / 1000, EIMG_NSM_MAX_SKEW, &now, err)))
		goto out;
	if (root_path) {
		if ((rc = eimg_x509_load_file(root_path, &rx, err)) || (rc = eimg_x509_der(rx, &root, &rootlen, err)))
			goto out;
		if ((rc = eimg_chain_verify(source, d->certificate, d->certificate_len, d->cabundle, d->cabundle_len,
					    d->ncabundle, root, rootlen, now, d->root_subject, sizeof(d->root_subject),
					    err)))
			goto out;
		d->chain_checked = true;
	}
	d->checked_at = now;
	*out = d;
	d = NULL;
	rc = EIMG_OK;
out:
	eimg_cose_sign1_clear(&cs);
	eimg_nsm_doc_free(d);
	eimg_x509_free(rx);
	free(tbs);
	free(root);
	return rc;
}

void eimg_nsm_identity(const struct eimg_nsm_doc *d, struct eimg_identity *id)
{
	static const uint8_t zero[48];
	memset(id, 0, sizeof(*id));
	id->mode = EIMG_ID_HARDWARE;
	id->debug = (d->pcr_mask & 1) && memcmp(d->pcr[0], zero, 48) == 0;
	id->security = d->chain_checked && !id->debug ? EIMG_SEC_SECURE : EIMG_SEC_INSECURE;
	id->timestamp = d->timestamp_ms / 1000;
	for (unsigned i = 0; i < EIMG_CONSTRAINT_NPCR; i++)
		if (d->pcr_mask & (1u << i)) {
			id->pcr_mask |= (uint16_t)(1u << i);
			memcpy(id->pcr[i], d->pcr[i], 48);
		}
}

/* ---- reports ---- */

static char *hex_alloc(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	if (s)
		eimg_hex(p, n, s);
	return s;
}

static const char *chain_text(const struct eimg_nsm_doc *d)
{
	return d->chain_checked ? "verified to the given root"
				: "NOT checked (no --root): the document is unverified; its signature only shows "
				  "it was not altered since its own certificate signed it";
}

/* The optional byte fields, under their JSON names. */
struct opt_field {
	const char *name;
	const uint8_t *p;
	size_t n;
};

static void opt_fields(const struct eimg_nsm_doc *d, struct opt_field f[3])
{
	f[0] = (struct opt_field){ "public_key", d->public_key, d->public_key_len };
	f[1] = (struct opt_field){ "user_data", d->user_data, d->user_data_len };
	f[2] = (struct opt_field){ "nonce", d->nonce, d->nonce_len };
}

int eimg_nsm_report_text(const struct eimg_nsm_doc *d, const char *source, char **out, eimg_error *err)
{
	struct eimg_identity id;
	struct opt_field opt[3];
	char t[32], h[97];
	struct eimg_sb b = { 0 };
	eimg_nsm_identity(d, &id);
	eimg_sb_field(&b, NULL, "attestation", "%s", source ? source : "attestation");
	eimg_sb_field(&b, NULL, "format", "nitro");
	eimg_sb_field(&b, NULL, "module_id", "%s", d->module_id);
	eimg_sb_field(&b, NULL, "time", "%s", eimg_time_iso((int64_t)(d->timestamp_ms / 1000), t));
	eimg_sb_field(&b, NULL, "timestamp_ms", "%" PRIu64, d->timestamp_ms);
	eimg_sb_field(&b, NULL, "signature_verified", "yes (ES384, with the document's certificate)");
	eimg_sb_printf(&b, "certificate:\n");
	eimg_sb_field(&b, "  ", "subject", "%s", d->cert_subject);
	eimg_sb_field(&b, "  ", "issuer", "%s", d->cert_issuer);
	eimg_sb_field(&b, "  ", "not_before", "%s", eimg_time_iso(d->cert_not_before, t));
	eimg_sb_field(&b, "  ", "not_after", "%s", eimg_time_iso(d->cert_not_after, t));
	eimg_sb_field(&b, NULL, "chain_verified", "%s", chain_text(d));
	if (d->chain_checked)
		eimg_sb_field(&b, NULL, "root", "%s", d->root_subject);
	eimg_sb_field(&b, NULL, "checked_at", "%s", eimg_time_iso((int64_t)d->checked_at, t));
	eimg_sb_field(&b, NULL, "debug", "%s", id.debug ? "yes (PCR0 is all zeros: debug mode)" : "no");
	eimg_sb_field(&b, NULL, "security", "%s", eimg_security_name(eimg_identity_security(&id)));
	eimg_sb_printf(&b, "pcrs:\n");
	for (unsigned i = 0; i < EIMG_NSM_NPCR; i++)
		if (d->pcr_mask & (1u << i)) {
			char label[16];
			snprintf(label, sizeof(label), "pcr%u", i);
			eimg_sb_field(&b, "  ", label, "%s", eimg_hex(d->pcr[i], 48, h));
		}
	opt_fields(d, opt);
	/* Not eimg_sb_field: these values can be longer than its line. */
	for (int i = 0; i < 3; i++) {
		char *x = opt[i].p ? hex_alloc(opt[i].p, opt[i].n) : NULL;
		if (opt[i].p && !x)
			b.failed = true;
		else
			eimg_sb_printf(&b, "%s:%*s%s\n", opt[i].name, EIMG_SB_FIELD_COL - (int)strlen(opt[i].name) - 1, "",
				       x ? x : "none");
		free(x);
	}
	char *s = eimg_sb_done(&b);
	if (!s)
		return eimg_err_nomem(err);
	*out = s;
	return EIMG_OK;
}

int eimg_nsm_report_json(const struct eimg_nsm_doc *d, const char *source, char **out, eimg_error *err)
{
	struct eimg_identity id;
	struct opt_field opt[3];
	char t[32], h[97];
	json_t *o = json_object(), *pcrs = json_object(), *cert = json_object();
	int bad = !o || !pcrs || !cert;
	eimg_nsm_identity(d, &id);
	if (o) {
		bad |= json_object_set_new(o, "pcrs", pcrs ? pcrs : json_null()) ||
		       json_object_set_new(o, "certificate", cert ? cert : json_null());
	} else {
		json_decref(pcrs);
		json_decref(cert);
	}
	if (bad) {
		json_decref(o);
		return eimg_err_nomem(err);
	}
	bad |= json_object_set_new(o, "attestation", json_string(source ? source : "attestation")) ||
	       json_object_set_new(o, "format", json_string("nitro")) ||
	       json_object_set_new(o, "module_id", json_string(d->module_id)) ||
	       json_object_set_new(o, "timestamp_ms", json_integer((json_int_t)d->timestamp_ms)) ||
	       json_object_set_new(o, "time", json_string(eimg_time_iso((int64_t)(d->timestamp_ms / 1000), t))) ||
	       json_object_set_new(o, "signature_verified", json_true()) ||
	       json_object_set_new(o, "chain_verified", json_boolean(d->chain_checked)) ||
	       json_object_set_new(o, "checked_at", json_string(eimg_time_iso((int64_t)d->checked_at, t))) ||
	       json_object_set_new(o, "root", d->chain_checked ? json_string(d->root_subject) : json_null()) ||
	       json_object_set_new(o, "debug", json_boolean(id.debug)) ||
	       json_object_set_new(o, "security", json_string(eimg_security_name(eimg_identity_security(&id)))) ||
	       json_object_set_new(cert, "subject", json_string(d->cert_subject)) ||
	       json_object_set_new(cert, "issuer", json_string(d->cert_issuer)) ||
	       json_object_set_new(cert, "not_before", json_string(eimg_time_iso(d->cert_not_before, t))) ||
	       json_object_set_new(cert, "not_after", json_string(eimg_time_iso(d->cert_not_after, t)));
	for (unsigned i = 0; i < EIMG_NSM_NPCR && !bad; i++)
		if (d->pcr_mask & (1u << i)) {
			char k[8];
			snprintf(k, sizeof(k), "pcr%u", i);
			bad |= json_object_set_new(pcrs, k, json_string(eimg_hex(d->pcr[i], 48, h)));
		}
	opt_fields(d, opt);
	for (int i = 0; i < 3 && !bad; i++) {
		char *x = opt[i].p ? hex_alloc(opt[i].p, opt[i].n) : NULL;
		bad |= (opt[i].p && !x) || json_object_set_new(o, opt[i].name, x ? json_string(x) : json_null());
		free(x);
	}
	if (bad) {
		json_decref(o);
		return eimg_err_nomem(err);
	}
	return eimg_json_dump(o, out, NULL, err);
}
