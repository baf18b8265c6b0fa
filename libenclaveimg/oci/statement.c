/* SPDX-License-Identifier: Apache-2.0 */
/* The measurement statement: an in-toto v1 Statement whose subject is the
 * artifact manifest's digest and whose predicate is the measurement
 * recomputed from the image, signed as a DSSE envelope (enclave-oci(7)). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "eimg/identity.h"
#include "eimg/measure.h"
#include "eimg/nitro.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "oci/oci_int.h"

#define STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define SIG_MAX 2048

static json_t *hexstr(const uint8_t *p, size_t n)
{
	char h[2 * 64 + 1];
	return json_string(eimg_hex(p, n, h));
}

static json_t *nitro_predicate(const eimg_nitro_report *rep)
{
	struct eimg_identity id;
	eimg_nitro_report_identity(rep, &id);
	json_t *p = json_pack("{s:s}", "target", "nitro");
	for (unsigned i = 0; p && i < EIMG_CONSTRAINT_NPCR; i++) {
		char key[8];
		snprintf(key, sizeof(key), "pcr%u", i);
		if (id.pcr_mask & (1u << i))
			json_object_set_new(p, key, hexstr(id.pcr[i], 48));
	}
	return p;
}

static int nitro_of_report(eimg_nitro_report *rep, json_t **out, eimg_error *err)
{
	int rc = eimg_nitro_report_verdict(rep, err);
	if (rc == EIMG_OK && !(*out = nitro_predicate(rep)))
		rc = eimg_err_nomem(err);
	eimg_nitro_report_free(rep);
	return rc;
}

static int sgx_predicate(const eimg_image *img, const char *path, json_t **out, eimg_error *err)
{
	eimg_sgx_image *s = NULL;
	struct eimg_sigstruct ss;
	struct eimg_identity id;
	int rc = eimg_sgx_image_open(img, path, &s, err);
	if (rc)
		return rc;
	if (eimg_image_sigstruct(img) && (rc = eimg_sign_verify_opened(s, path, &ss, err)) != EIMG_OK)
		goto out;
	eimg_identity_sgx(s->m.mrenclave, eimg_image_sigstruct(img) ? &ss : NULL, s->m.mode, false, &id);
	bool debug = eimg_image_sigstruct(img) ? eimg_sigstruct_debug_allowed(&ss) : s->manifest->sgx.debug;
	json_t *p = json_pack("{s:s, s:s, s:b, s:o, s:b}", "target", "sgx", "mode",
			      s->m.mode == EIMG_MODE_HARDWARE ? "hardware" : "simulation", "debug", debug, "mrenclave",
			      hexstr(id.mrenclave, 32), "signed", eimg_image_sigstruct(img) != NULL);
	if (p && eimg_image_sigstruct(img)) {
		json_object_set_new(p, "mrsigner", hexstr(id.mrsigner, 32));
		json_object_set_new(p, "isvprodid", json_integer(id.isvprodid));
		json_object_set_new(p, "isvsvn", json_integer(id.isvsvn));
	}
	rc = p ? EIMG_OK : eimg_err_nomem(err);
	*out = p;
out:
	eimg_sgx_image_free(s);
	return rc;
}

int oci_file_kind(const char *path)
{
	uint8_t head[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return EIMG_INPUT_UNKNOWN;
	ssize_t n = read(fd, head, sizeof(head));
	close(fd);
	return n > 0 ? eimg_detect_input(head, (size_t)n) : EIMG_INPUT_UNKNOWN;
}

int oci_predicate_of_file(const char *path, json_t **out, int *target, eimg_error *err)
{
	eimg_image *img = NULL;
	eimg_nitro_report *rep = NULL;
	int rc;
	if (oci_file_kind(path) == EIMG_INPUT_EIF) {
		*target = EIMG_TARGET_NITRO;
		rc = eimg_nitro_audit_file(path, NULL, &rep, err);
		return rc ? rc : nitro_of_report(rep, out, err);
	}
	rc = eimg_image_read_file(path, &img, err);
	if (rc == EIMG_OK)
		rc = oci_predicate_of_image(img, path, out, target, err);
	eimg_image_free(img);
	return rc;
}

int oci_predicate_of_image(const eimg_image *img, const char *path, json_t **out, int *target, eimg_error *err)
{
	eimg_nitro_report *rep = NULL;
	int rc;
	if (!eimg_image_eif(img)) {
		*target = EIMG_TARGET_SGX;
		return sgx_predicate(img, path, out, err);
	}
	*target = EIMG_TARGET_NITRO;
	rc = eimg_nitro_image_open(img, path, &rep, err);
	return rc ? rc : nitro_of_report(rep, out, err);
}

/* DSSE v1 pre-authentication encoding. */
static char *pae(const char *type, const char *body, size_t len, size_t *outlen)
{
	char *s = NULL;
	size_t tl = strlen(type);
	int n = asprintf(&s, "DSSEv1 %zu %s %zu ", tl, type, len);
	if (n < 0)
		return NULL;
	char *r = realloc(s, (size_t)n + len + 1);
	if (!r) {
		free(s);
		return NULL;
	}
	memcpy(r + n, body, len);
	r[(size_t)n + len] = '\0';
	*outlen = (size_t)n + len;
	return r;
}

static int envelope(const char *payload, size_t plen, const uint8_t *sig, size_t siglen, char **env, size_t *envlen,
		    eimg_error *err)
{
	char *p64 = eimg_base64_encode((const uint8_t *)payload, plen), *s64 = eimg_base64_encode(sig, siglen);
	json_t *o = p64 && s64 ? json_pack("{s:s, s:s, s:[{s:s, s:s}]}", "payloadType", EIMG_OCI_STATEMENT_TYPE,
					   "payload", p64, "signatures", "keyid", "", "sig", s64)
			       : NULL;
	free(p64);
	free(s64);
	return eimg_json_dump(o, env, envlen, err);
}

int oci_statement_sign(const char *name, const char *digest, json_t *predicate, const struct eimg_key_source *key,
		       char **env, size_t *envlen, eimg_error *err)
{
	char *payload = NULL, *msg = NULL;
	size_t plen = 0, mlen = 0, siglen = SIG_MAX;
	uint8_t sig[SIG_MAX];
	eimg_key *k = NULL;
	json_t *st = json_pack("{s:s, s:[{s:s, s:{s:s}}], s:s, s:O}", "_type", STATEMENT_TYPE, "subject", "name", name,
			       "digest", "sha256", digest + 7, "predicateType", EIMG_OCI_PREDICATE_TYPE, "predicate",
			       predicate);
	int rc = eimg_json_dump(st, &payload, &plen, err);
	if (rc)
		return rc;
	if (!(msg = pae(EIMG_OCI_STATEMENT_TYPE, payload, plen, &mlen))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if ((rc = eimg_key_load_private(key, &k, err)) != EIMG_OK ||
	    (rc = eimg_key_sign(k, 256, (const uint8_t *)msg, mlen, sig, &siglen, err)) != EIMG_OK)
		goto out;
	rc = envelope(payload, plen, sig, siglen, env, envlen, err);
out:
	eimg_key_free(k);
	free(msg);
	free(payload);
	return rc;
}

/* The statement inside a verified envelope: subject and predicate checked. */
static int check_statement(const char *source, const uint8_t *payload, size_t len, const char *digest,
			   const json_t *want, eimg_error *err)
{
	json_t *st = json_loadb((const char *)payload, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *subj = json_object_get(st, "subject"), *pred = json_object_get(st, "predicate");
	const char *type = json_string_value(json_object_get(st, "_type"));
	const char *ptype = json_string_value(json_object_get(st, "predicateType"));
	int rc = EIMG_OK;
	bool found = false;
	if (!type || strcmp(type, STATEMENT_TYPE) != 0 || !ptype || strcmp(ptype, EIMG_OCI_PREDICATE_TYPE) != 0 ||
	    !json_is_array(subj) || !json_is_object(pred)) {
		rc = eimg_err(err, EIMG_EVERIFY, source, "not an in-toto v1 measurement statement");
		goto out;
	}
	for (size_t i = 0; i < json_array_size(subj); i++) {
		const char *d = json_string_value(json_object_get(json_object_get(json_array_get(subj, i), "digest"),
								  "sha256"));
		found |= d && strcmp(d, digest + 7) == 0;
	}
	if (!found) {
		rc = eimg_err(err, EIMG_EVERIFY, source, "the statement's subject is not %s", digest);
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)want, key, v) {
		if (!json_equal(v, json_object_get(pred, key))) {
			rc = eimg_err(err, EIMG_EVERIFY, source, "the statement's %s differs from the pulled image's", key);
			goto out;
		}
	}
	json_object_foreach(pred, key, v) {
		if (!json_object_get(want, key)) {
			char k[64];
			rc = eimg_err(err, EIMG_EVERIFY, source, "the statement has %s, which the pulled image has not",
				      eimg_escape(key, strlen(key), k, sizeof(k)));
			goto out;
		}
	}
out:
	json_decref(st);
	return rc;
}

static int verify_sigs(const char *source, json_t *sigs, const char *msg, size_t mlen, const char *pubkey,
		       eimg_error *err)
{
	int rc = eimg_err(err, EIMG_EVERIFY, source, "the envelope has no signature");
	for (size_t i = 0; i < json_array_size(sigs) && i < 16; i++) {
		const char *s64 = json_string_value(json_object_get(json_array_get(sigs, i), "sig"));
		uint8_t *sig = NULL;
		size_t slen = 0;
		if (!s64 || eimg_base64_decode(s64, strlen(s64), false, SIG_MAX, &sig, &slen) != 0) {
			rc = eimg_err(err, EIMG_EVERIFY, source, "a signature is not base64");
			continue;
		}
		rc = eimg_pubkey_verify_file(pubkey, (const uint8_t *)msg, mlen, sig, slen, err);
		free(sig);
		if (rc == EIMG_EVERIFY) {
			char k[200];
			rc = eimg_err(err, EIMG_EVERIFY, source, "not signed by the key in '%s'",
				      eimg_escape(pubkey, strlen(pubkey), k, sizeof(k)));
		}
		if (rc != EIMG_EVERIFY)
			return rc;
	}
	return rc;
}

int oci_statement_verify(const char *source, const uint8_t *env, size_t len, const char *pubkey_path,
			 const char *digest, const json_t *predicate, eimg_error *err)
{
	json_t *o = json_loadb((const char *)env, len, JSON_REJECT_DUPLICATES, NULL);
	const char *type = json_string_value(json_object_get(o, "payloadType"));
	const char *p64 = json_string_value(json_object_get(o, "payload"));
	uint8_t *payload = NULL;
	size_t plen = 0, mlen = 0;
	char *msg = NULL;
	int rc;
	if (!type || strcmp(type, EIMG_OCI_STATEMENT_TYPE) != 0 || !p64 ||
	    eimg_base64_decode(p64, strlen(p64), false, EIMG_OCI_MAX_ENVELOPE, &payload, &plen) != 0) {
		rc = eimg_err(err, EIMG_EVERIFY, source, "not a DSSE envelope of an in-toto statement");
		goto out;
	}
	if (!(msg = pae(type, (const char *)payload, plen, &mlen))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	rc = verify_sigs(source, json_object_get(o, "signatures"), msg, mlen, pubkey_path, err);
	if (rc == EIMG_OK)
		rc = check_statement(source, payload, plen, digest, predicate, err);
out:
	free(msg);
	free(payload);
	json_decref(o);
	return rc;
}
