/* SPDX-License-Identifier: Apache-2.0 */
/* Attestation documents: what a running enclave tells a client about
 * itself, and the check a client makes before trusting it.
 * Format and rules: man/enclave-attestation.5.
 *
 * A document is one JSON object (UTF-8, at most EIMG_ATTEST_MAX_DOC bytes):
 *
 *   {"format": "enclave-attestation 1",
 *    "signer": "simulation" | "dcap",
 *    "notice": "...",                      (simulation: says what it is worth)
 *    "payload": "<base64 of the payload JSON bytes>",
 *    "key": "<base64 DER SPKI, EC P-256>",         (simulation)
 *    "signature": "<base64 DER ECDSA-SHA256 over the payload bytes>",  (simulation)
 *    "quote": "<base64 DCAP quote>"}               (dcap)
 *
 * Payload (the exact bytes are signed; members in this order, no others):
 *   {"version":1, "mode":"hardware"|"simulation"|"mock", "debug":bool,
 *    "security":"INSECURE"|"STALE"|"SECURE",
 *    "mrenclave":"<64 hex>", "mrsigner":"<64 hex>", "isvprodid":n, "isvsvn":n,
 *    "timestamp":<Unix seconds>, "public_key":"<base64 DER SPKI>",
 *    "report_data":"<128 hex>"}
 * report_data = SHA-256(public_key DER) || 32 zero bytes: it binds the
 * enclave's public key to the attested enclave (in a DCAP quote it is the
 * REPORTDATA the enclave itself put into its EREPORT).  An enclave that
 * published no key gets "public_key":"" (report_data = SHA-256 of nothing,
 * then zeros): the document then binds no key, and says so.
 *
 * "simulation": signed by a throwaway P-256 key made for the one document.
 * It shows the document was not altered after it was made, nothing more:
 * the mode is always simulation or mock and the security INSECURE, and the
 * checker refuses a simulation document that claims anything else.
 * "dcap": the values are taken from the quote as a DCAP verifier (a seam,
 * struct eimg_quote_ops) reports them; the payload must agree with them. */
#ifndef EIMG_ATTEST_H
#define EIMG_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/constraint.h"
#include "eimg/checktime.h"
#include "eimg/error.h"

#define EIMG_ATTEST_FORMAT      "enclave-attestation 1"
#define EIMG_ATTEST_MAX_DOC     (1u << 20)   /* whole document */
#define EIMG_ATTEST_MAX_PUBKEY  16384        /* public_key DER */
#define EIMG_ATTEST_MAX_QUOTE   (64u << 10)  /* DCAP quote */
#define EIMG_ATTEST_MAX_SKEW    300          /* seconds a timestamp may lie in the future */

enum eimg_attest_signer { EIMG_ATTEST_SIMULATION = 1, EIMG_ATTEST_DCAP = 2 };

/* What a document states about the enclave. */
struct eimg_attest_claims {
	int mode;                  /* enum eimg_id_mode */
	bool debug;
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint16_t isvprodid, isvsvn;
	uint64_t timestamp;        /* when the document was made */
};

/* What a DCAP verifier found in a quote. */
struct eimg_quote_info {
	uint8_t mrenclave[32], mrsigner[32];
	uint16_t isvprodid, isvsvn;
	bool debug;                /* DEBUG attribute in the quoted report */
	uint8_t report_data[64];
	int security;              /* TCB: up to date SECURE, out of date / needs configuration STALE */
	uint64_t timestamp;        /* time the verifier vouches for (collateral), 0 = none */
};

/* The DCAP seam.  get_quote runs on the enclave's host (it needs the
 * enclave's EREPORT over report_data and the platform's quoting enclave);
 * verify_quote runs on the client (signature chain, TCB status, revocation).
 * Both return EIMG_OK or an error status; verify_quote EIMG_EVERIFY when the
 * quote is not valid. */
struct eimg_quote_ops {
	void *ctx;
	int (*get_quote)(void *ctx, const uint8_t report_data[64], uint8_t **quote, size_t *len, eimg_error *err);
	int (*verify_quote)(void *ctx, const uint8_t *quote, size_t len, uint64_t now, struct eimg_quote_info *out,
			    eimg_error *err);
};

/* A simulation (or mock) document for an enclave whose public key is
 * pubkey (DER SPKI or PEM; NULL/0 when the enclave published none).  claims->mode must be simulation or mock.
 * *doc is malloc'ed JSON ending in a newline. */
int eimg_attest_create_simulation(const struct eimg_attest_claims *claims, const uint8_t *pubkey, size_t pubkey_len,
				  char **doc, size_t *doc_len, eimg_error *err);

/* Makes a simulation document for a launched enclave (id: its mode,
 * DEBUG, MRENCLAVE, MRSIGNER, ISVPRODID, ISVSVN; made at time now) and
 * writes it to path atomically (mode 0644). */
int eimg_attest_write_simulation(const char *path, const struct eimg_identity *id, const uint8_t *pubkey,
				 size_t pubkey_len, uint64_t now, eimg_error *err);

/* A hardware document: the quote comes from q->get_quote over the report
 * data binding pubkey.  claims->mode must be hardware. */
int eimg_attest_create_dcap(const struct eimg_quote_ops *q, const struct eimg_attest_claims *claims,
			    const uint8_t *pubkey, size_t pubkey_len, char **doc, size_t *doc_len, eimg_error *err);

/* What a checked document established. */
struct eimg_attest_result {
	int signer;                    /* enum eimg_attest_signer */
	struct eimg_identity id;       /* what the constraint was checked against */
	uint8_t *public_key;           /* DER SPKI bound by the document; free with _clear */
	size_t public_key_len;         /* 0: the enclave published no key */
	uint64_t checked_at;           /* the time of the check (eimg/checktime.h) */
};

/* Parses and verifies a document (signature or quote, report data binding,
 * consistency), then checks the constraint as of the time of the check
 * (when: --at/--max-age, eimg/checktime.h; NULL = now, no freshness policy).
 * EIMG_OK: out is filled.  EIMG_EVERIFY: the document is not genuine, not
 * consistent, or the enclave does not match (fails/nfails as in
 * eimg_constraint_check).  EIMG_EINVAL: malformed document.
 * EIMG_EUNSUPPORTED: a dcap document and q (or q->verify_quote) is NULL.
 * source names the document in errors. */
int eimg_attestation_check(const char *source, const char *doc, size_t len, const eimg_constraint *c,
			   const struct eimg_check_time *when, const struct eimg_quote_ops *q, struct eimg_attest_result *out,
			   struct eimg_constraint_failure *fails, size_t maxfails, size_t *nfails, eimg_error *err);

void eimg_attest_result_clear(struct eimg_attest_result *r);

/* The forms a document arrives in.  An enclave-attestation(5) JSON document
 * (first non-space character '{'), a Nitro COSE_Sign1 as raw CBOR (tagged or
 * untagged), or that CBOR as hex or base64 text (white space allowed, as
 * services store documents).  *out: a fresh copy of the document itself
 * (decoded from text where it was text), *kind: EIMG_ATTEST_DOC_*.
 * EIMG_EINVAL with one line when it is none of these. */
#define EIMG_ATTEST_DOC_JSON 1
#define EIMG_ATTEST_DOC_COSE 2
int eimg_attest_doc_decode(const char *source, const uint8_t *buf, size_t len, uint8_t **out, size_t *outlen,
			   int *kind, eimg_error *err);
/* The same for the file at path (at most twice EIMG_ATTEST_MAX_DOC bytes:
 * the text forms are larger than the document they hold). */
int eimg_attest_doc_read_file(const char *path, uint8_t **out, size_t *outlen, int *kind, eimg_error *err);

/* The claims of a checked document, for people (text) and programs (JSON,
 * sorted keys); *out is malloc'ed and ends in a newline. */
int eimg_attest_report_text(const struct eimg_attest_result *r, const char *source, char **out, eimg_error *err);
int eimg_attest_report_json(const struct eimg_attest_result *r, const char *source, char **out, eimg_error *err);

#endif
