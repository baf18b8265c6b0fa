/* SPDX-License-Identifier: Apache-2.0 */
/* Mail, the enclave side (enclave-runtime(3), enclave-mail(5)): opening
 * envelopes addressed to the enclave's own P-256 key and sealing replies to
 * their senders.  BearSSL: ECDH on P-256 (br_ec_p256_m31), HKDF-SHA256,
 * AES-256-GCM (aead.c).  The envelope layout is
 * libenclaveimg/mail/envelope.c, the same code the client library uses.
 *
 * Sequence numbers: the runtime remembers, per (sender key, topic), the next
 * number it accepts, for at most ENCLAVE_MAIL_MAX_STREAMS streams; a number
 * below it is a replay, above it a reordering (or a lost message): both are
 * refused, and only an envelope that authenticated moves the stream on. */
#include <bearssl.h>

#include "enclave.h"
#include "rt_int.h"
#include "eimg/mail_envelope.h"

struct stream {
	uint8_t id[32];    /* SHA-256(sender point || topic length || topic) */
	uint64_t next;
};

static struct stream *streams;
static size_t nstreams, streams_cap;
static enclave_lock_t streams_lock = ENCLAVE_LOCK_INIT;

int enclave_is_mail(const uint8_t *msg, size_t len)
{
	return len >= 8 && memcmp(msg, EIMG_MAIL_MAGIC, 8) == 0;
}

const char *enclave_mail_error(int rc)
{
	return eimg_mail_status_text(rc);
}

static void stream_id(const uint8_t *sender, const uint8_t *topic, uint8_t tlen, uint8_t id[32])
{
	br_sha256_context h;
	br_sha256_init(&h);
	br_sha256_update(&h, sender, EIMG_MAIL_POINT);
	br_sha256_update(&h, &tlen, 1);
	br_sha256_update(&h, topic, tlen);
	br_sha256_out(&h, id);
}

/* Accepts seq for the stream id when it is the next one, and moves on. */
static int stream_accept(const uint8_t id[32], uint64_t seq)
{
	int rc = EIMG_MAIL_OK;
	size_t i;
	enclave_lock(&streams_lock);
	for (i = 0; i < nstreams; i++)
		if (memcmp(streams[i].id, id, 32) == 0)
			break;
	if (i == nstreams) {
		if (nstreams == ENCLAVE_MAIL_MAX_STREAMS) {
			rc = EIMG_MAIL_ESTREAMS;
			goto out;
		}
		if (nstreams == streams_cap) {
			size_t cap = streams_cap ? streams_cap * 2 : 16;
			struct stream *n = realloc(streams, cap * sizeof *n);
			if (!n) {
				rc = EIMG_MAIL_ENOMEM;
				goto out;
			}
			streams = n;
			streams_cap = cap;
		}
		memcpy(streams[i].id, id, 32);
		streams[i].next = 0;
		nstreams++;
	}
	if (seq < streams[i].next)
		rc = EIMG_MAIL_EREPLAY;
	else if (seq > streams[i].next)
		rc = EIMG_MAIL_EORDER;
	else
		streams[i].next++;
out:
	enclave_unlock(&streams_lock);
	return rc;
}

/* key || iv = HKDF(dh(a_sk, pa) || dh(b_sk, pb)) for recipient and header. */
static int derive(const uint8_t *a_sk, const uint8_t *pa, const uint8_t *b_sk, const uint8_t *pb,
		  const uint8_t *recipient, const uint8_t *header, size_t hl, uint8_t kiv[44])
{
	uint8_t pt[EIMG_MAIL_POINT], ikm[64], info[EIMG_MAIL_KDF_INFO_MAX];
	br_hkdf_context hc;
	int rc = -1;
	memcpy(pt, pa, EIMG_MAIL_POINT);
	if (br_ec_p256_m31.mul(pt, sizeof pt, a_sk, 32, BR_EC_secp256r1) != 1)
		goto out;
	memcpy(ikm, pt + 1, 32);
	memcpy(pt, pb, EIMG_MAIL_POINT);
	if (br_ec_p256_m31.mul(pt, sizeof pt, b_sk, 32, BR_EC_secp256r1) != 1)
		goto out;
	memcpy(ikm + 32, pt + 1, 32);
	br_hkdf_init(&hc, &br_sha256_vtable, EIMG_MAIL_SALT, sizeof EIMG_MAIL_SALT - 1);
	br_hkdf_inject(&hc, ikm, sizeof ikm);
	br_hkdf_flip(&hc);
	br_hkdf_produce(&hc, info, eimg_mail_kdf_info(info, recipient, header, hl), kiv, 44);
	rc = 0;
out:
	explicit_bzero(pt, sizeof pt);
	explicit_bzero(ikm, sizeof ikm);
	explicit_bzero(&hc, sizeof hc);
	return rc;
}

int enclave_mail_open(const uint8_t sk[32], const uint8_t spki[ENCLAVE_P256_SPKI_LEN], const uint8_t *env,
		      size_t len, const char *topic, struct enclave_mail *m)
{
	struct eimg_mail_header h;
	uint8_t kiv[44], id[32], *pt;
	const uint8_t *self = spki + ENCLAVE_P256_SPKI_LEN - EIMG_MAIL_POINT;
	size_t blen = 0;
	int rc = eimg_mail_parse(env, len, &h);
	if (rc != EIMG_MAIL_OK)
		return rc;
	if (h.kind != EIMG_MAIL_TO_ENCLAVE)
		return EIMG_MAIL_EKIND;
	if (topic && (strlen(topic) != h.topic_len || memcmp(topic, h.topic, h.topic_len) != 0))
		return EIMG_MAIL_ETOPIC;
	if (!(pt = malloc(h.ct_len)))
		return EIMG_MAIL_ENOMEM;
	/* A point off the curve makes mul fail: nobody made this for us. */
	if (derive(sk, h.ephemeral, sk, h.sender, self, env, h.header_len, kiv) != 0) {
		rc = EIMG_MAIL_EAUTH;
		goto out;
	}
	memcpy(pt, h.ct, h.ct_len);
	if (!eimg_rt_gcm(kiv, 32, kiv + 32, 0, env, h.header_len, pt, h.ct_len, (uint8_t *)(uintptr_t)h.tag)) {
		rc = EIMG_MAIL_EAUTH;
		goto out;
	}
	if ((rc = eimg_mail_unpad(pt, h.ct_len, &blen)) != EIMG_MAIL_OK)
		goto out;
	stream_id(h.sender, h.topic, h.topic_len, id);
	if ((rc = stream_accept(id, h.seq)) != EIMG_MAIL_OK)
		goto out;
	memmove(pt, pt + 4, blen);
	memset(pt + blen, 0, h.ct_len - blen);
	memcpy(m->sender, h.sender, EIMG_MAIL_POINT);
	memcpy(m->topic, h.topic, h.topic_len);
	m->topic[h.topic_len] = 0;
	m->seq = h.seq;
	m->body = pt;
	m->len = blen;
	m->cap = h.ct_len;
	pt = 0;
out:
	explicit_bzero(kiv, sizeof kiv);
	if (pt) {
		explicit_bzero(pt, h.ct_len);
		free(pt);
	}
	return rc;
}

int enclave_mail_reply(const uint8_t sk[32], const uint8_t spki[ENCLAVE_P256_SPKI_LEN], const struct enclave_mail *to,
		       const void *body, size_t len, size_t pad_min)
{
	uint8_t esk[32], espki[ENCLAVE_P256_SPKI_LEN], kiv[44], *env;
	const uint8_t *self = spki + ENCLAVE_P256_SPKI_LEN - EIMG_MAIL_POINT;
	size_t tl = strlen(to->topic), padded = eimg_mail_padded_len(len, pad_min);
	int rc = EIMG_MAIL_ECRYPTO;
	if (!padded)
		return EIMG_MAIL_ETOOBIG;
	if (!eimg_mail_topic_ok((const uint8_t *)to->topic, tl))
		return EIMG_MAIL_EFORMAT;
	size_t hl = EIMG_MAIL_FIXED + tl, total = hl + padded + EIMG_MAIL_TAG;
	if (!(env = malloc(total)))
		return EIMG_MAIL_ENOMEM;
	if (enclave_keygen_p256(esk, espki) != 0)
		goto out;
	eimg_mail_write_header(env, EIMG_MAIL_REPLY, to->seq, self, espki + ENCLAVE_P256_SPKI_LEN - EIMG_MAIL_POINT,
			       (const uint8_t *)to->topic, (uint8_t)tl);
	if (derive(esk, to->sender, sk, to->sender, to->sender, env, hl, kiv) != 0)
		goto out;
	eimg_mail_pad(env + hl, padded, body, len);
	eimg_rt_gcm(kiv, 32, kiv + 32, 1, env, hl, env + hl, padded, env + hl + padded);
	rc = enclave_reply(env, total) == 0 ? EIMG_MAIL_OK : EIMG_MAIL_ENOMEM;
out:
	explicit_bzero(esk, sizeof esk);
	explicit_bzero(kiv, sizeof kiv);
	explicit_bzero(env, total);
	free(env);
	return rc;
}

void enclave_mail_free(struct enclave_mail *m)
{
	if (!m || !m->body)
		return;
	explicit_bzero(m->body, m->cap);
	free(m->body);
	m->body = 0;
	m->len = m->cap = 0;
}
