/* SPDX-License-Identifier: Apache-2.0 */
/* The Nitro signature section and COSE_Sign1, with libcbor.
 *
 * Encoding uses libcbor's low-level encoders (minimal lengths, as the
 * reference's serde_cbor writes).  Decoding first runs libcbor's streaming
 * decoder over the input with strict limits (nesting depth, item count,
 * definite lengths only, declared counts no larger than the bytes left, no
 * floats or simple values, no tags but COSE's 18 on the outer array, no
 * trailing bytes); only input that passes is loaded as a tree and checked
 * against the expected shape.  Hostile input therefore never makes libcbor
 * allocate more than a small multiple of its size. */
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "eimg/hash.h"
#include "core/internal.h"
#include "core/cbor_int.h"
#include "nitro/nitro_int.h"

/* ---- growable output ---- */
struct out {
	uint8_t *b;
	size_t len, cap;
	int failed;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (o->failed)
		return;
	if (eimg_bytes_reserve(&o->b, &o->cap, o->len, n, 256)) {
		o->failed = 1;
		return;
	}
	if (n)
		memcpy(o->b + o->len, p, n);
	o->len += n;
}

typedef size_t (*enc_fn)(size_t, unsigned char *, size_t);

static void head(struct out *o, enc_fn f, size_t n)
{
	unsigned char t[9];
	size_t k = f(n, t, sizeof(t));
	if (k == 0)
		o->failed = 1;
	put(o, t, k);
}

static size_t enc_uint(size_t v, unsigned char *b, size_t n)
{
	return cbor_encode_uint((uint64_t)v, b, n);
}

static void text(struct out *o, const char *s)
{
	head(o, cbor_encode_string_start, strlen(s));
	put(o, s, strlen(s));
}

static void bstr(struct out *o, const uint8_t *p, size_t n)
{
	head(o, cbor_encode_bytestring_start, n);
	put(o, p, n);
}

/* The reference's quirk: bytes as an array of unsigned integers. */
static void byte_array(struct out *o, const uint8_t *p, size_t n)
{
	head(o, cbor_encode_array_start, n);
	for (size_t i = 0; i < n; i++)
		head(o, enc_uint, p[i]);
}

static int done(struct out *o, uint8_t **out, size_t *len, eimg_error *err)
{
	if (o->failed) {
		free(o->b);
		return eimg_err_nomem(err);
	}
	*out = o->b;
	*len = o->len;
	return EIMG_OK;
}

/* ---- algorithms ---- */

size_t eimg_cose_alg_fbytes(int alg)
{
	return alg == EIMG_COSE_ES256 ? 32 : alg == EIMG_COSE_ES384 ? 48 : alg == EIMG_COSE_ES512 ? 66 : 0;
}

int eimg_cose_alg_hash(int alg)
{
	return alg == EIMG_COSE_ES256 ? EIMG_SHA256 : alg == EIMG_COSE_ES384 ? EIMG_SHA384
					: alg == EIMG_COSE_ES512 ? EIMG_SHA512 : 0;
}

const char *eimg_cose_alg_name(int alg)
{
	return alg == EIMG_COSE_ES256 ? "ES256" : alg == EIMG_COSE_ES384 ? "ES384" : alg == EIMG_COSE_ES512 ? "ES512" : "?";
}

int eimg_cose_alg_for_bits(int bits)
{
	return bits == 256 ? EIMG_COSE_ES256 : bits == 384 ? EIMG_COSE_ES384 : bits == 521 ? EIMG_COSE_ES512 : 0;
}

void eimg_cose_sign1_clear(struct eimg_cose_sign1 *s)
{
	if (!s)
		return;
	free(s->protected_hdr);
	free(s->payload);
	memset(s, 0, sizeof(*s));
}

/* ---- encoders ---- */

int eimg_nitro_sigsec_encode(const uint8_t *cert_pem, size_t cert_len, const uint8_t *cose, size_t cose_len,
			     uint8_t **out, size_t *len, eimg_error *err)
{
	struct out o = { NULL, 0, 0, 0 };
	head(&o, cbor_encode_array_start, 1);
	head(&o, cbor_encode_map_start, 2);
	text(&o, "signing_certificate");
	byte_array(&o, cert_pem, cert_len);
	text(&o, "signature");
	byte_array(&o, cose, cose_len);
	return done(&o, out, len, err);
}

int eimg_nitro_payload_encode(const uint8_t pcr0[48], uint8_t **out, size_t *len, eimg_error *err)
{
	struct out o = { NULL, 0, 0, 0 };
	head(&o, cbor_encode_map_start, 2);
	text(&o, "register_index");
	head(&o, enc_uint, 0);
	text(&o, "register_value");
	byte_array(&o, pcr0, 48);
	return done(&o, out, len, err);
}

int eimg_cose_protected_encode(int alg, uint8_t **out, size_t *len, eimg_error *err)
{
	struct out o = { NULL, 0, 0, 0 };
	unsigned char t[9];
	if (!eimg_cose_alg_fbytes(alg))
		return eimg_err(err, EIMG_EINTERNAL, NULL, "COSE: unknown algorithm %d", alg);
	head(&o, cbor_encode_map_start, 1);
	head(&o, enc_uint, 1);
	put(&o, t, cbor_encode_negint((uint64_t)(-1 - alg), t, sizeof(t)));
	return done(&o, out, len, err);
}

int eimg_cose_tbs(const uint8_t *prot, size_t prot_len, const uint8_t *payload, size_t payload_len,
		  uint8_t **out, size_t *len, eimg_error *err)
{
	struct out o = { NULL, 0, 0, 0 };
	head(&o, cbor_encode_array_start, 4);
	text(&o, "Signature1");
	bstr(&o, prot, prot_len);
	bstr(&o, NULL, 0);
	bstr(&o, payload, payload_len);
	return done(&o, out, len, err);
}

int eimg_cose_sign1_encode(const struct eimg_cose_sign1 *s, uint8_t **out, size_t *len, eimg_error *err)
{
	struct out o = { NULL, 0, 0, 0 };
	head(&o, cbor_encode_array_start, 4);
	bstr(&o, s->protected_hdr, s->protected_len);
	head(&o, cbor_encode_map_start, 0);
	bstr(&o, s->payload, s->payload_len);
	bstr(&o, s->sig, s->sig_len);
	return done(&o, out, len, err);
}

static const struct eimg_cbor_limits cose_limits = { EIMG_COSE_MAX_DEPTH, EIMG_COSE_MAX_ITEMS, false };

static int load(const char *source, const char *what, const uint8_t *buf, size_t len, cbor_item_t **out,
		eimg_error *err)
{
	return eimg_cbor_load_strict(source, what, buf, len, &cose_limits, out, err);
}

/* ---- shape checks on the loaded tree ---- */

/* An array of unsigned integers 0..255 -> bytes. */
static int byte_array_get(const char *source, const char *what, const cbor_item_t *it, uint8_t **out, size_t *len,
			  eimg_error *err)
{
	if (!cbor_isa_array(it) || !cbor_array_is_definite(it))
		return eimg_err(err, EIMG_EINVAL, source, "%s: expected an array of byte values", what);
	size_t n = cbor_array_size(it);
	cbor_item_t **h = cbor_array_handle(it);
	uint8_t *b = malloc(n + 1);
	if (!b)
		return eimg_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		if (!cbor_isa_uint(h[i]) || cbor_get_int(h[i]) > 255) {
			free(b);
			return eimg_err(err, EIMG_EINVAL, source, "%s: element %zu is not a byte value", what, i);
		}
		b[i] = (uint8_t)cbor_get_int(h[i]);
	}
	b[n] = '\0';
	*out = b;
	*len = n;
	return EIMG_OK;
}

static int bstr_get(const char *source, const char *what, const cbor_item_t *it, uint8_t **out, size_t *len,
		    eimg_error *err)
{
	if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
		return eimg_err(err, EIMG_EINVAL, source, "%s: expected a byte string", what);
	return eimg_cbor_bstr_dup(it, out, len, err);
}

int eimg_nitro_sigsec_decode(const char *source, const uint8_t *buf, size_t len, uint8_t **cert_pem,
			     size_t *cert_len, uint8_t **cose, size_t *cose_len, eimg_error *err)
{
	cbor_item_t *root = NULL;
	uint8_t *cert = NULL, *sig = NULL;
	size_t cl = 0, sl = 0;
	const char *what = "signature section";
	int rc = load(source, what, buf, len, &root, err);
	if (rc)
		return rc;
	if (!cbor_isa_array(root) || cbor_array_size(root) != 1 || !cbor_isa_map(cbor_array_handle(root)[0])) {
		rc = eimg_err(err, EIMG_EINVAL, source, "%s: expected an array of one map", what);
		goto out;
	}
	cbor_item_t *m = cbor_array_handle(root)[0];
	if (cbor_map_size(m) != 2) {
		rc = eimg_err(err, EIMG_EINVAL, source, "%s: expected a map of 2 entries, got %zu", what, cbor_map_size(m));
		goto out;
	}
	struct cbor_pair *p = cbor_map_handle(m);
	for (size_t i = 0; i < 2; i++) {
		if (eimg_cbor_text_is(p[i].key, "signing_certificate") && !cert)
			rc = byte_array_get(source, "signature section: signing_certificate", p[i].value, &cert, &cl, err);
		else if (eimg_cbor_text_is(p[i].key, "signature") && !sig)
			rc = byte_array_get(source, "signature section: signature", p[i].value, &sig, &sl, err);
		else
			rc = eimg_err(err, EIMG_EINVAL, source,
				      "%s: expected the keys \"signing_certificate\" and \"signature\"", what);
		if (rc)
			goto out;
	}
	*cert_pem = cert;
	*cert_len = cl;
	*cose = sig;
	*cose_len = sl;
	cert = sig = NULL;
out:
	free(cert);
	free(sig);
	cbor_decref(&root);
	return rc;
}

int eimg_nitro_payload_decode(const char *source, const uint8_t *buf, size_t len, unsigned *index,
			      uint8_t value[48], eimg_error *err)
{
	cbor_item_t *root = NULL;
	uint8_t *v = NULL;
	size_t vl = 0;
	int have_i = 0, have_v = 0;
	const char *what = "COSE payload";
	int rc = load(source, what, buf, len, &root, err);
	if (rc)
		return rc;
	if (!cbor_isa_map(root) || cbor_map_size(root) != 2) {
		rc = eimg_err(err, EIMG_EINVAL, source, "%s: expected a map of 2 entries", what);
		goto out;
	}
	struct cbor_pair *p = cbor_map_handle(root);
	for (size_t i = 0; i < 2; i++) {
		if (eimg_cbor_text_is(p[i].key, "register_index") && !have_i) {
			if (!cbor_isa_uint(p[i].value) || cbor_get_int(p[i].value) > 31) {
				rc = eimg_err(err, EIMG_EINVAL, source, "%s: register_index: expected 0..31", what);
				goto out;
			}
			*index = (unsigned)cbor_get_int(p[i].value);
			have_i = 1;
		} else if (eimg_cbor_text_is(p[i].key, "register_value") && !have_v) {
			rc = byte_array_get(source, "COSE payload: register_value", p[i].value, &v, &vl, err);
			if (rc)
				goto out;
			if (vl != 48) {
				rc = eimg_err(err, EIMG_EINVAL, source, "%s: register_value of %zu bytes, expected 48", what, vl);
				goto out;
			}
			memcpy(value, v, 48);
			have_v = 1;
		} else {
			rc = eimg_err(err, EIMG_EINVAL, source, "%s: expected the keys \"register_index\" and \"register_value\"",
				      what);
			goto out;
		}
	}
	rc = EIMG_OK;
out:
	free(v);
	cbor_decref(&root);
	return rc;
}

static int protected_alg(const char *source, const uint8_t *buf, size_t len, int *alg, eimg_error *err)
{
	cbor_item_t *root = NULL;
	const char *what = "COSE protected header";
	int rc = load(source, what, buf, len, &root, err);
	if (rc)
		return rc;
	rc = eimg_err(err, EIMG_EINVAL, source, "%s: expected {1: ES256, ES384 or ES512}", what);
	if (cbor_isa_map(root) && cbor_map_size(root) == 1) {
		struct cbor_pair *p = cbor_map_handle(root);
		if (cbor_isa_uint(p[0].key) && cbor_get_int(p[0].key) == 1 && cbor_isa_negint(p[0].value) &&
		    cbor_get_int(p[0].value) < 64) {
			int a = -1 - (int)cbor_get_int(p[0].value);
			if (eimg_cose_alg_fbytes(a)) {
				*alg = a;
				rc = EIMG_OK;
			}
		}
	}
	cbor_decref(&root);
	return rc;
}

int eimg_cose_sign1_decode(const char *source, const uint8_t *buf, size_t len, struct eimg_cose_sign1 *out,
			   eimg_error *err)
{
	cbor_item_t *root = NULL, *arr;
	struct eimg_cose_sign1 s;
	uint8_t *sig = NULL;
	size_t sl = 0;
	const char *what = "COSE_Sign1";
	memset(&s, 0, sizeof(s));
	/* COSE's tag 18 (one byte, d2): libcbor 0.8 does not decode tags in
	 * this range, and the reference writes none; skip it here. */
	if (len > 0 && buf[0] == 0xd2) {
		buf++;
		len--;
	}
	int rc = load(source, what, buf, len, &root, err);
	if (rc)
		return rc;
	arr = root;
	if (cbor_isa_tag(root))
		arr = cbor_tag_item(root); /* a new reference */
	if (!cbor_isa_array(arr) || cbor_array_size(arr) != 4) {
		rc = eimg_err(err, EIMG_EINVAL, source, "%s: expected an array of 4 items", what);
		goto out;
	}
	cbor_item_t **h = cbor_array_handle(arr);
	if ((rc = bstr_get(source, "COSE_Sign1: protected header", h[0], &s.protected_hdr, &s.protected_len, err)))
		goto out;
	if ((rc = protected_alg(source, s.protected_hdr, s.protected_len, &s.alg, err)))
		goto out;
	if (!cbor_isa_map(h[1])) {
		rc = eimg_err(err, EIMG_EINVAL, source, "%s: the unprotected header is not a map", what);
		goto out;
	}
	if ((rc = bstr_get(source, "COSE_Sign1: payload", h[2], &s.payload, &s.payload_len, err)))
		goto out;
	if ((rc = bstr_get(source, "COSE_Sign1: signature", h[3], &sig, &sl, err)))
		goto out;
	if (sl != 2 * eimg_cose_alg_fbytes(s.alg)) {
		rc = eimg_err(err, EIMG_EINVAL, source, "%s: signature of %zu bytes, %s needs %zu", what, sl,
			      eimg_cose_alg_name(s.alg), 2 * eimg_cose_alg_fbytes(s.alg));
		goto out;
	}
	memcpy(s.sig, sig, sl);
	s.sig_len = sl;
	*out = s;
	memset(&s, 0, sizeof(s));
	rc = EIMG_OK;
out:
	if (arr != root)
		cbor_decref(&arr);
	free(sig);
	eimg_cose_sign1_clear(&s);
	cbor_decref(&root);
	return rc;
}
