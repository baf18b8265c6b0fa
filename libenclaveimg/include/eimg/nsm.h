/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Nitro attestation documents: what a Nitro enclave's NSM (Nitro
 * Security Module) returns, checked as a client would.  Format, rules and
 * limits: man/enclave-attestation.5, section "Nitro documents".
 *
 * A document is a COSE_Sign1 (untagged or tag 18) signed ES384 whose
 * payload is a CBOR map:
 *   module_id   text        the enclave's id
 *   digest      "SHA384"
 *   timestamp   uint        milliseconds since 1970 (UTC)
 *   pcrs        {uint: bstr}  PCR index 0..31 -> 48-byte value
 *   certificate bstr        DER X.509: the key that signed the document
 *   cabundle    [bstr]      DER X.509 intermediates, root first (as the NSM
 *                           writes it); the leaf is issued by the last one
 *   public_key, user_data, nonce  bstr or null (optional)
 *
 * The check: strict CBOR (definite lengths, no floats, no tags but 18 on
 * the outside, depth/item/size limits, no duplicate or unknown keys), the
 * COSE signature with the embedded certificate's P-384 key, and, when a
 * root is given, the certificate chain through cabundle up to that root
 * alone (OpenSSL X509_verify_cert, as of the time of the check).  Without a root the chain
 * is NOT checked: chain_checked stays false and callers must not trust the
 * document's values. */
#ifndef EIMG_NSM_H
#define EIMG_NSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/checktime.h"
#include "eimg/constraint.h"
#include "eimg/error.h"

#define EIMG_NSM_MAX_DOC       (64u << 10)  /* whole COSE_Sign1 */
#define EIMG_NSM_MAX_CERT      (8u << 10)   /* each certificate (DER) */
#define EIMG_NSM_MAX_CABUNDLE  16           /* certificates in cabundle */
#define EIMG_NSM_NPCR          32           /* PCR indexes 0..31 */
#define EIMG_NSM_MAX_FIELD     1024         /* public_key, user_data, nonce */
#define EIMG_NSM_MAX_MODULE_ID 256
#define EIMG_NSM_MAX_SKEW      300          /* seconds the timestamp may lie in the future */

struct eimg_nsm_doc {
	char module_id[EIMG_NSM_MAX_MODULE_ID + 1]; /* escaped for printing */
	uint64_t timestamp_ms;
	uint32_t pcr_mask;                     /* bit i: pcrs has index i */
	uint8_t pcr[EIMG_NSM_NPCR][48];
	uint8_t *certificate;                  /* DER */
	size_t certificate_len;
	size_t ncabundle;
	uint8_t *cabundle[EIMG_NSM_MAX_CABUNDLE];
	size_t cabundle_len[EIMG_NSM_MAX_CABUNDLE];
	uint8_t *public_key, *user_data, *nonce; /* NULL when absent or null */
	size_t public_key_len, user_data_len, nonce_len;
	/* The signing certificate, for display. */
	char cert_subject[256], cert_issuer[256];
	int64_t cert_not_before, cert_not_after;
	/* true only when a root was given and the chain verified to it. */
	bool chain_checked;
	/* The time the document was checked as of (seconds; eimg/checktime.h). */
	uint64_t checked_at;
	char root_subject[256];
};

/* Parses and verifies a document.  root_path: the trusted root certificate
 * (PEM or DER file, exactly one certificate), or NULL to skip the chain.
 * when: as of when (eimg/checktime.h: a time, or the document's own signed
 * timestamp, and an optional freshness policy); NULL = now.
 * EIMG_OK: *out filled (free with eimg_nsm_doc_free).  EIMG_EINVAL:
 * malformed (one line naming the problem).  EIMG_EVERIFY: the signature
 * does not verify, the chain does not lead to the root, a certificate is
 * expired or not yet valid at the time of the check (the message names the
 * certificate, its validity and the time used), or the timestamp lies in
 * the future or (max_age) too far in the past.
 * EIMG_EIO: the root cannot be read. */
int eimg_nsm_attest_check(const char *source, const uint8_t *buf, size_t len, const char *root_path,
			  const struct eimg_check_time *when,
			  struct eimg_nsm_doc **out, eimg_error *err);
void eimg_nsm_doc_free(struct eimg_nsm_doc *d);

/* The identity a constraint is checked against: hardware, PCR0..PCR8 as
 * present, timestamp in seconds.  A debug-mode enclave (PCR0 all zeros, as
 * the NSM reports debug enclaves) is debug and INSECURE; otherwise SECURE
 * when the chain was checked (Nitro reports no platform TCB level), else
 * INSECURE. */
void eimg_nsm_identity(const struct eimg_nsm_doc *d, struct eimg_identity *id);

/* The document's claims for people (text) and programs (JSON, sorted keys). */
int eimg_nsm_report_text(const struct eimg_nsm_doc *d, const char *source, char **out, eimg_error *err);
int eimg_nsm_report_json(const struct eimg_nsm_doc *d, const char *source, char **out, eimg_error *err);

#endif
