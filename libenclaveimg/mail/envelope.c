/* SPDX-License-Identifier: Apache-2.0 */
/* The Mail envelope's layout (eimg/mail_envelope.h, enclave-mail(5)): one
 * parser and writer, compiled into the host library and into the enclave
 * runtime.  Freestanding on purpose: no C library calls, no allocation, no
 * cryptography; input is untrusted and every length is checked before use. */
#include "eimg/mail_envelope.h"

static void copy(uint8_t *d, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		d[i] = s[i];
}

static uint64_t get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int eimg_mail_topic_ok(const uint8_t *topic, size_t len)
{
	if (len == 0 || len > EIMG_MAIL_TOPIC_MAX)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (topic[i] < 0x21 || topic[i] > 0x7e)
			return 0;
	return 1;
}

int eimg_mail_parse(const uint8_t *env, size_t len, struct eimg_mail_header *h)
{
	static const uint8_t magic[8] = EIMG_MAIL_MAGIC;
	if (len < 9)
		return EIMG_MAIL_ETRUNCATED;
	for (int i = 0; i < 8; i++)
		if (env[i] != magic[i])
			return EIMG_MAIL_EMAGIC;
	if (env[8] != EIMG_MAIL_VERSION)
		return EIMG_MAIL_EVERSION;
	if (len < EIMG_MAIL_FIXED)
		return EIMG_MAIL_ETRUNCATED;
	uint8_t kind = env[9], tlen = env[10];
	if ((kind != EIMG_MAIL_TO_ENCLAVE && kind != EIMG_MAIL_REPLY) || env[11] != 0)
		return EIMG_MAIL_EFORMAT;
	if (env[20] != 4 || env[85] != 4)   /* uncompressed points only */
		return EIMG_MAIL_EFORMAT;
	if (tlen == 0 || tlen > EIMG_MAIL_TOPIC_MAX)
		return EIMG_MAIL_EFORMAT;
	size_t hl = EIMG_MAIL_FIXED + (size_t)tlen;
	if (len < hl + EIMG_MAIL_TAG)
		return EIMG_MAIL_ETRUNCATED;
	if (!eimg_mail_topic_ok(env + EIMG_MAIL_FIXED, tlen))
		return EIMG_MAIL_EFORMAT;
	size_t ct = len - hl - EIMG_MAIL_TAG;
	if (ct > EIMG_MAIL_MAX_PADDED)
		return EIMG_MAIL_ETOOBIG;
	if (ct == 0 || ct % EIMG_MAIL_PAD != 0)   /* a cut envelope lands here */
		return EIMG_MAIL_ETRUNCATED;
	h->kind = kind;
	h->topic_len = tlen;
	h->seq = get_be64(env + 12);
	h->sender = env + 20;
	h->ephemeral = env + 85;
	h->topic = env + EIMG_MAIL_FIXED;
	h->header_len = hl;
	h->ct = env + hl;
	h->ct_len = ct;
	h->tag = env + hl + ct;
	return EIMG_MAIL_OK;
}

size_t eimg_mail_padded_len(size_t len, size_t pad_min)
{
	if (len > EIMG_MAIL_MAX_BODY)
		return 0;
	size_t p = (4 + len + EIMG_MAIL_PAD - 1) / EIMG_MAIL_PAD * EIMG_MAIL_PAD;
	if (pad_min > EIMG_MAIL_MAX_PADDED)
		pad_min = EIMG_MAIL_MAX_PADDED;
	if (pad_min > p)
		p = (pad_min + EIMG_MAIL_PAD - 1) / EIMG_MAIL_PAD * EIMG_MAIL_PAD;
	return p;
}

void eimg_mail_write_header(uint8_t *out, uint8_t kind, uint64_t seq, const uint8_t sender[EIMG_MAIL_POINT],
			    const uint8_t ephemeral[EIMG_MAIL_POINT], const uint8_t *topic, uint8_t topic_len)
{
	static const uint8_t magic[8] = EIMG_MAIL_MAGIC;
	copy(out, magic, 8);
	out[8] = EIMG_MAIL_VERSION;
	out[9] = kind;
	out[10] = topic_len;
	out[11] = 0;
	for (int i = 0; i < 8; i++)
		out[12 + i] = (uint8_t)(seq >> (56 - 8 * i));
	copy(out + 20, sender, EIMG_MAIL_POINT);
	copy(out + 85, ephemeral, EIMG_MAIL_POINT);
	copy(out + EIMG_MAIL_FIXED, topic, topic_len);
}

void eimg_mail_pad(uint8_t *out, size_t padded, const uint8_t *body, size_t len)
{
	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(len >> (24 - 8 * i));
	copy(out + 4, body, len);
	for (size_t i = 4 + len; i < padded; i++)
		out[i] = 0;
}

int eimg_mail_unpad(const uint8_t *padded, size_t plen, size_t *len)
{
	if (plen < 4)
		return EIMG_MAIL_EPADDING;
	size_t l = (size_t)padded[0] << 24 | (size_t)padded[1] << 16 | (size_t)padded[2] << 8 | padded[3];
	if (l > EIMG_MAIL_MAX_BODY || l > plen - 4)
		return EIMG_MAIL_EPADDING;
	uint8_t acc = 0;
	for (size_t i = 4 + l; i < plen; i++)
		acc |= padded[i];
	if (acc)
		return EIMG_MAIL_EPADDING;
	*len = l;
	return EIMG_MAIL_OK;
}

size_t eimg_mail_kdf_info(uint8_t out[EIMG_MAIL_KDF_INFO_MAX], const uint8_t recipient[EIMG_MAIL_POINT],
			  const uint8_t *header, size_t header_len)
{
	if (header_len > EIMG_MAIL_FIXED + EIMG_MAIL_TOPIC_MAX)
		header_len = EIMG_MAIL_FIXED + EIMG_MAIL_TOPIC_MAX;
	copy(out, recipient, EIMG_MAIL_POINT);
	copy(out + EIMG_MAIL_POINT, header, header_len);
	return EIMG_MAIL_POINT + header_len;
}

const char *eimg_mail_status_text(int status)
{
	switch (status) {
	case EIMG_MAIL_OK: return "ok";
	case EIMG_MAIL_ETRUNCATED: return "truncated envelope";
	case EIMG_MAIL_EMAGIC: return "not a Mail envelope";
	case EIMG_MAIL_EVERSION: return "unsupported envelope version";
	case EIMG_MAIL_EFORMAT: return "malformed envelope header";
	case EIMG_MAIL_ETOOBIG: return "envelope larger than the Mail limit";
	case EIMG_MAIL_EAUTH: return "does not decrypt: another recipient, altered or forged";
	case EIMG_MAIL_EPADDING: return "inconsistent length or padding";
	case EIMG_MAIL_EREPLAY: return "replayed: sequence number already used";
	case EIMG_MAIL_EORDER: return "out of order: sequence number skips ahead";
	case EIMG_MAIL_ETOPIC: return "topic not accepted";
	case EIMG_MAIL_EKIND: return "wrong kind of envelope (request or reply)";
	case EIMG_MAIL_ESENDER: return "from an unexpected sender";
	case EIMG_MAIL_ENOMEM: return "out of memory";
	case EIMG_MAIL_ECRYPTO: return "cryptographic operation failed";
	case EIMG_MAIL_ESTREAMS: return "too many sender streams";
	default: return "unknown Mail status";
	}
}
