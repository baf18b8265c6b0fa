/* SPDX-License-Identifier: Apache-2.0 */
/* Mail, the client side: encrypted, authenticated, padded messages to the
 * P-256 key an enclave made inside itself and bound into its attestation
 * document, and the enclave's encrypted replies.  Envelope format:
 * eimg/mail_envelope.h and man/enclave-mail.5; the enclave side is in the
 * runtime (enclave_mail_open, enclave-runtime(3)).
 *
 * Errors: EIMG_EINVAL for a malformed envelope or key, EIMG_EVERIFY when an
 * envelope does not authenticate or is not the one expected (sender, kind,
 * topic, sequence number); *why (may be NULL) then gets the
 * enum eimg_mail_status, so callers decide on codes, not on text. */
#ifndef EIMG_MAIL_H
#define EIMG_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/mail_envelope.h"

typedef struct eimg_mail_key eimg_mail_key;

/* Loads a PEM P-256 private key (the client's own key: the enclave knows a
 * sender by its public half). */
int eimg_mail_key_load(const char *path, eimg_mail_key **out, eimg_error *err);
void eimg_mail_key_public(const eimg_mail_key *k, uint8_t pub[EIMG_MAIL_POINT]);
void eimg_mail_key_free(eimg_mail_key *k);

/* The uncompressed point of a DER SubjectPublicKeyInfo P-256 key (the
 * public_key of an attestation document). */
int eimg_mail_point_from_spki(const uint8_t *der, size_t len, uint8_t pub[EIMG_MAIL_POINT], eimg_error *err);

/* The key to seal to: checks the attestation document at path
 * (enclave-attestation(5)) against the constraint (enclave-constraints(7);
 * "@FILE" reads a file) at time now, and returns the P-256 point of the key
 * the enclave made inside itself and bound into the document.
 * EIMG_EVERIFY: the document is not genuine or the enclave does not match;
 * EIMG_EINVAL: malformed, or no P-256 key bound. */
int eimg_mail_enclave_key(const char *path, const char *constraint, uint64_t now, uint8_t point[EIMG_MAIL_POINT],
			  eimg_error *err);

/* An opened envelope. */
struct eimg_mail_msg {
	uint8_t kind;                           /* EIMG_MAIL_TO_ENCLAVE or EIMG_MAIL_REPLY */
	uint64_t seq;
	char topic[EIMG_MAIL_TOPIC_MAX + 1];
	uint8_t sender[EIMG_MAIL_POINT];
	uint8_t *body;                          /* malloc'ed (body_len + 1 bytes, NUL after) */
	size_t body_len;
};

/* Seals body (len <= EIMG_MAIL_MAX_BODY) from the key `from` to the point
 * `to`, padded to at least pad_min bytes.  *env is malloc'ed. */
int eimg_mail_seal(const eimg_mail_key *from, const uint8_t to[EIMG_MAIL_POINT], uint8_t kind, const char *topic,
		   uint64_t seq, const void *body, size_t len, size_t pad_min, uint8_t **env, size_t *env_len,
		   eimg_error *err);

/* Opens an envelope addressed to `me` (any sender, kind, topic, seq). */
int eimg_mail_open(const eimg_mail_key *me, const uint8_t *env, size_t len, struct eimg_mail_msg *out, int *why,
		   eimg_error *err);

/* Opens the enclave's reply to the request (topic, seq) and checks it is
 * one: a reply, sent by the enclave's key, with that topic and number. */
int eimg_mail_open_reply(const eimg_mail_key *me, const uint8_t enclave[EIMG_MAIL_POINT], const char *topic,
			 uint64_t seq, const uint8_t *env, size_t len, struct eimg_mail_msg *out, int *why,
			 eimg_error *err);

/* Wipes and frees the body; safe on a zeroed or cleared message. */
void eimg_mail_msg_clear(struct eimg_mail_msg *m);

/* What enclave-mail(1) does, one call per command. */
struct eimg_mail_job {
	const char *attestation;   /* the enclave's attestation document */
	const char *constraint;    /* enclave-constraints(7) text, or @FILE */
	const char *key;           /* the client's PEM P-256 private key */
	const char *topic;
	uint64_t seq;
	size_t pad_min;            /* send: pad the body to at least this */
	const char *input;         /* a file; NULL or "-": standard input */
	const char *message;       /* send: the body itself instead of input */
	bool frame;                /* send: wrap the envelope in an enclave-run request frame;
				      open: the input is one enclave-run reply frame */
	uint64_t now;              /* Unix seconds, for the attestation's EXPIRE */
};

/* send: the envelope (or its frame) for the input, sealed to the attested
 * key.  open: the body of the enclave's reply to (topic, seq).  *out is
 * malloc'ed (open: the body, wipe it with eimg_mail_free_body). */
int eimg_mail_send_job(const struct eimg_mail_job *j, uint8_t **out, size_t *out_len, eimg_error *err);
int eimg_mail_open_job(const struct eimg_mail_job *j, uint8_t **out, size_t *out_len, eimg_error *err);
void eimg_mail_free_body(uint8_t *body, size_t len);

#endif
