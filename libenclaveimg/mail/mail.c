/* SPDX-License-Identifier: Apache-2.0 */
/* Mail envelopes on the host: sealing to an enclave's attested key and
 * opening its replies (eimg/mail.h).  The layout is envelope.c (shared with
 * the enclave runtime); the cryptography is crypto/crypto_mail.c. */
#include <stdlib.h>
#include <string.h>

#include "eimg/attest.h"
#include "eimg/checktime.h"
#include "eimg/constraint.h"
#include "eimg/mail.h"
#include "core/internal.h"
#include "crypto/crypto.h"

static int refuse(eimg_error *err, int *why, int status)
{
	if (why)
		*why = status;
	int code = EIMG_EINVAL;
	switch (status) {
	case EIMG_MAIL_EAUTH: case EIMG_MAIL_EREPLAY: case EIMG_MAIL_EORDER:
	case EIMG_MAIL_ETOPIC: case EIMG_MAIL_EKIND: case EIMG_MAIL_ESENDER:
		code = EIMG_EVERIFY;
		break;
	default:
		break;
	}
	if (status == EIMG_MAIL_ENOMEM)
		return eimg_err_nomem(err);
	return eimg_err(err, code, NULL, "envelope: %s", eimg_mail_status_text(status));
}

/* key || iv for an envelope with header h, from the two ECDH results. */
static int derive(const eimg_mail_key *a, const uint8_t *pa, const eimg_mail_key *b, const uint8_t *pb,
		  const uint8_t recipient[EIMG_MAIL_POINT], const uint8_t *header, size_t hl, uint8_t kiv[44],
		  eimg_error *err)
{
	uint8_t ikm[64], info[EIMG_MAIL_KDF_INFO_MAX];
	int rc = eimg_mail_ecdh(a, pa, ikm, err);
	if (!rc)
		rc = eimg_mail_ecdh(b, pb, ikm + 32, err);
	if (!rc)
		rc = eimg_mail_hkdf(ikm, info, eimg_mail_kdf_info(info, recipient, header, hl), kiv, err);
	explicit_bzero(ikm, sizeof ikm);
	return rc;
}

int eimg_mail_seal(const eimg_mail_key *from, const uint8_t to[EIMG_MAIL_POINT], uint8_t kind, const char *topic,
		   uint64_t seq, const void *body, size_t len, size_t pad_min, uint8_t **env, size_t *env_len,
		   eimg_error *err)
{
	size_t tl = topic ? strlen(topic) : 0, padded = eimg_mail_padded_len(len, pad_min);
	uint8_t kiv[44], eph_pub[EIMG_MAIL_POINT], *out = NULL, *pt = NULL;
	eimg_mail_key *eph = NULL;
	int rc;

	if (!eimg_mail_topic_ok((const uint8_t *)topic, tl))
		return eimg_err(err, EIMG_EINVAL, NULL, "a topic is 1 to %d printable ASCII characters without spaces",
				EIMG_MAIL_TOPIC_MAX);
	if (kind != EIMG_MAIL_TO_ENCLAVE && kind != EIMG_MAIL_REPLY)
		return eimg_err(err, EIMG_EUSAGE, NULL, "unknown envelope kind %u", kind);
	if (!padded)
		return eimg_err(err, EIMG_EINVAL, NULL, "message of %zu bytes exceeds the Mail limit of %u bytes", len,
				EIMG_MAIL_MAX_BODY);
	size_t hl = EIMG_MAIL_FIXED + tl, total = hl + padded + EIMG_MAIL_TAG;
	if ((rc = eimg_mail_key_generate(&eph, err)))
		return rc;
	eimg_mail_key_public(eph, eph_pub);
	out = malloc(total);
	pt = malloc(padded);
	if (!out || !pt) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	uint8_t sender[EIMG_MAIL_POINT];
	eimg_mail_key_public(from, sender);
	eimg_mail_write_header(out, kind, seq, sender, eph_pub, (const uint8_t *)topic, (uint8_t)tl);
	eimg_mail_pad(pt, padded, body, len);
	if ((rc = derive(eph, to, from, to, to, out, hl, kiv, err)))
		goto out;
	if ((rc = eimg_mail_gcm_encrypt(kiv, out, hl, pt, padded, out + hl, out + hl + padded, err)))
		goto out;
	*env = out;
	*env_len = total;
	out = NULL;
out:
	explicit_bzero(kiv, sizeof kiv);
	eimg_free_secret(pt, padded);
	free(out);
	eimg_mail_key_free(eph);
	return rc;
}

int eimg_mail_open(const eimg_mail_key *me, const uint8_t *env, size_t len, struct eimg_mail_msg *out, int *why,
		   eimg_error *err)
{
	struct eimg_mail_header h;
	uint8_t kiv[44], self[EIMG_MAIL_POINT], *pt = NULL;
	size_t blen = 0;
	int st, rc;

	if ((st = eimg_mail_parse(env, len, &h)) != EIMG_MAIL_OK)
		return refuse(err, why, st);
	eimg_mail_key_public(me, self);
	if (!(pt = malloc(h.ct_len + 1)))
		return eimg_err_nomem(err);
	rc = derive(me, h.ephemeral, me, h.sender, self, env, h.header_len, kiv, err);
	if (rc == EIMG_EINVAL) {   /* a point off the curve: nobody made this for us */
		rc = refuse(err, why, EIMG_MAIL_EAUTH);
		goto out;
	}
	if (!rc && (rc = eimg_mail_gcm_decrypt(kiv, env, h.header_len, h.ct, h.ct_len, h.tag, pt, err)) == EIMG_EVERIFY)
		rc = refuse(err, why, EIMG_MAIL_EAUTH);
	if (rc)
		goto out;
	if ((st = eimg_mail_unpad(pt, h.ct_len, &blen)) != EIMG_MAIL_OK) {
		rc = refuse(err, why, st);
		goto out;
	}
	memmove(pt, pt + 4, blen);
	memset(pt + blen, 0, h.ct_len + 1 - blen);
	out->kind = h.kind;
	out->seq = h.seq;
	memcpy(out->topic, h.topic, h.topic_len);
	out->topic[h.topic_len] = 0;
	memcpy(out->sender, h.sender, EIMG_MAIL_POINT);
	out->body = pt;
	out->body_len = blen;
	pt = NULL;
out:
	explicit_bzero(kiv, sizeof kiv);
	eimg_free_secret(pt, h.ct_len + 1);
	return rc;
}

int eimg_mail_open_reply(const eimg_mail_key *me, const uint8_t enclave[EIMG_MAIL_POINT], const char *topic,
			 uint64_t seq, const uint8_t *env, size_t len, struct eimg_mail_msg *out, int *why,
			 eimg_error *err)
{
	struct eimg_mail_msg m = { 0 };
	int st = EIMG_MAIL_OK;
	int rc = eimg_mail_open(me, env, len, &m, why, err);
	if (rc)
		return rc;
	if (memcmp(m.sender, enclave, EIMG_MAIL_POINT) != 0)
		st = EIMG_MAIL_ESENDER;
	else if (m.kind != EIMG_MAIL_REPLY)
		st = EIMG_MAIL_EKIND;
	else if (strcmp(m.topic, topic) != 0)
		st = EIMG_MAIL_ETOPIC;
	else if (m.seq != seq)
		st = m.seq < seq ? EIMG_MAIL_EREPLAY : EIMG_MAIL_EORDER;
	if (st != EIMG_MAIL_OK) {
		eimg_mail_msg_clear(&m);
		return refuse(err, why, st);
	}
	*out = m;
	return EIMG_OK;
}

void eimg_mail_msg_clear(struct eimg_mail_msg *m)
{
	if (!m)
		return;
	eimg_free_secret(m->body, m->body_len + 1);
	m->body = NULL;
	m->body_len = 0;
}

int eimg_mail_enclave_key(const char *path, const char *constraint, uint64_t now, uint8_t point[EIMG_MAIL_POINT],
			  eimg_error *err)
{
	eimg_constraint *c = NULL;
	uint8_t *doc = NULL;
	size_t len = 0;
	struct eimg_attest_result res = { 0 };
	int rc = eimg_constraint_parse_arg(constraint, &c, err);
	if (rc)
		return rc;
	if ((rc = eimg_read_file(path, EIMG_ATTEST_MAX_DOC, &doc, &len, err)))
		goto out;
	struct eimg_check_time when = { EIMG_AT_TIME, now, 0 };
	if ((rc = eimg_attestation_check(path, (const char *)doc, len, c, &when, NULL, &res, NULL, 0, NULL, err)))
		goto out;
	if (res.public_key_len == 0) {
		rc = eimg_err(err, EIMG_EINVAL, path, "the enclave bound no public key into its document: it takes no Mail");
		goto out;
	}
	if ((rc = eimg_mail_point_from_spki(res.public_key, res.public_key_len, point, err)))
		eimg_err_context(err, path, "public_key");
out:
	eimg_attest_result_clear(&res);
	eimg_constraint_free(c);
	free(doc);
	return rc;
}
