/* SPDX-License-Identifier: Apache-2.0 */
/* The Mail envelope (version 1): the layout both sides compile, the client
 * library (libenclaveimg/mail) and the enclave runtime (runtime/mail.c).
 * Freestanding: this header needs only <stddef.h> and <stdint.h>.  The
 * normative text is man/enclave-mail.5.
 *
 * An envelope (integers big-endian):
 *
 *   offset  size  field
 *        0     8  magic "EIMGMAIL"
 *        8     1  version, 1
 *        9     1  kind: 1 = client to enclave, 2 = enclave's reply to a client
 *       10     1  topic length T, 1..EIMG_MAIL_TOPIC_MAX
 *       11     1  reserved, 0
 *       12     8  sequence number
 *       20    65  the sender's static P-256 public key (04 || X || Y)
 *       85    65  an ephemeral P-256 public key, fresh for this envelope
 *      150     T  topic: bytes 0x21..0x7e
 *    150+T     P  AES-256-GCM ciphertext of the padded body
 *  150+T+P    16  GCM tag
 *
 * The header is bytes 0 .. 150+T: visible to the host, authenticated (GCM
 * additional data).  The padded body is a 4-byte body length L, the body,
 * then zero bytes up to P, a multiple of EIMG_MAIL_PAD (at least
 * 4 + L rounded up; a sender may ask for more to hide lengths further).
 *
 * Keys: dh1 = ECDH(ephemeral, recipient), dh2 = ECDH(sender static,
 * recipient) (X coordinates, 32 bytes each);
 *   key(32) || iv(12) = HKDF-SHA256(salt = "enclaveimg mail v1",
 *                                   ikm = dh1 || dh2,
 *                                   info = recipient key (65) || header).
 * Only the holder of the sender's static private key can make an envelope
 * that opens with that sender key (dh2), and only the recipient can open it.
 */
#ifndef EIMG_MAIL_ENVELOPE_H
#define EIMG_MAIL_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define EIMG_MAIL_MAGIC       "EIMGMAIL"
#define EIMG_MAIL_VERSION     1
#define EIMG_MAIL_TO_ENCLAVE  1
#define EIMG_MAIL_REPLY       2
#define EIMG_MAIL_POINT       65          /* uncompressed P-256 point */
#define EIMG_MAIL_FIXED       150         /* header bytes before the topic */
#define EIMG_MAIL_TOPIC_MAX   64
#define EIMG_MAIL_TAG         16
#define EIMG_MAIL_PAD         256         /* padding granularity */
#define EIMG_MAIL_MAX_BODY    983040u     /* 960 KiB: an envelope fits enclave-run's default 1 MiB message */
#define EIMG_MAIL_MAX_PADDED  983296u     /* 4 + EIMG_MAIL_MAX_BODY rounded up to EIMG_MAIL_PAD */
#define EIMG_MAIL_MAX_ENVELOPE (EIMG_MAIL_FIXED + EIMG_MAIL_TOPIC_MAX + EIMG_MAIL_MAX_PADDED + EIMG_MAIL_TAG)
#define EIMG_MAIL_SALT        "enclaveimg mail v1"
#define EIMG_MAIL_KDF_INFO_MAX (EIMG_MAIL_POINT + EIMG_MAIL_FIXED + EIMG_MAIL_TOPIC_MAX)

/* Why an envelope is refused (negative; 0 is success). */
enum eimg_mail_status {
	EIMG_MAIL_OK = 0,
	EIMG_MAIL_ETRUNCATED = -1,  /* shorter than its header, topic and tag */
	EIMG_MAIL_EMAGIC = -2,      /* not a Mail envelope */
	EIMG_MAIL_EVERSION = -3,    /* a version this side does not speak */
	EIMG_MAIL_EFORMAT = -4,     /* bad kind, reserved byte, topic, point or padding size */
	EIMG_MAIL_ETOOBIG = -5,     /* body beyond EIMG_MAIL_MAX_BODY */
	EIMG_MAIL_EAUTH = -6,       /* does not decrypt: another recipient, altered, or forged */
	EIMG_MAIL_EPADDING = -7,    /* decrypted, but the length or padding is inconsistent */
	EIMG_MAIL_EREPLAY = -8,     /* sequence number already used (replay) */
	EIMG_MAIL_EORDER = -9,      /* sequence number skips ahead (reordered or lost) */
	EIMG_MAIL_ETOPIC = -10,     /* a topic the receiver does not accept */
	EIMG_MAIL_EKIND = -11,      /* a request where a reply was expected, or the reverse */
	EIMG_MAIL_ESENDER = -12,    /* from another sender than expected */
	EIMG_MAIL_ENOMEM = -13,     /* out of memory */
	EIMG_MAIL_ECRYPTO = -14,    /* a cryptographic operation failed (no randomness, bad key) */
	EIMG_MAIL_ESTREAMS = -15    /* too many (sender, topic) streams to track */
};

/* An envelope's header, pointing into the envelope. */
struct eimg_mail_header {
	uint8_t kind;
	uint8_t topic_len;
	uint64_t seq;
	const uint8_t *sender;     /* EIMG_MAIL_POINT bytes */
	const uint8_t *ephemeral;  /* EIMG_MAIL_POINT bytes */
	const uint8_t *topic;      /* topic_len bytes, not NUL-terminated */
	size_t header_len;         /* EIMG_MAIL_FIXED + topic_len: the additional data */
	const uint8_t *ct;         /* ciphertext, ct_len bytes, then the tag */
	size_t ct_len;
	const uint8_t *tag;
};

/* Checks the structure (not the cryptography) of an envelope of len bytes
 * and fills h.  Returns EIMG_MAIL_OK or a negative status. */
int eimg_mail_parse(const uint8_t *env, size_t len, struct eimg_mail_header *h);

/* 1 when topic (len bytes) is a valid topic: 1..EIMG_MAIL_TOPIC_MAX bytes
 * in 0x21..0x7e. */
int eimg_mail_topic_ok(const uint8_t *topic, size_t len);

/* The padded length P for a body of len bytes and a minimum pad_min, or 0
 * when len exceeds EIMG_MAIL_MAX_BODY (pad_min is capped at
 * EIMG_MAIL_MAX_PADDED). */
size_t eimg_mail_padded_len(size_t len, size_t pad_min);

/* Writes the header (EIMG_MAIL_FIXED + topic_len bytes) into out. */
void eimg_mail_write_header(uint8_t *out, uint8_t kind, uint64_t seq, const uint8_t sender[EIMG_MAIL_POINT],
			    const uint8_t ephemeral[EIMG_MAIL_POINT], const uint8_t *topic, uint8_t topic_len);

/* Writes the padded body (P bytes: length, body, zeros) into out. */
void eimg_mail_pad(uint8_t *out, size_t padded, const uint8_t *body, size_t len);

/* Checks a decrypted padded body of P bytes; on success *len is the body
 * length (the body starts at padded + 4).  EIMG_MAIL_OK or EPADDING. */
int eimg_mail_unpad(const uint8_t *padded, size_t plen, size_t *len);

/* The HKDF info: recipient key, then the header.  Returns its length. */
size_t eimg_mail_kdf_info(uint8_t out[EIMG_MAIL_KDF_INFO_MAX], const uint8_t recipient[EIMG_MAIL_POINT],
			  const uint8_t *header, size_t header_len);

/* Text for a status ("replayed: sequence number already used", ...). */
const char *eimg_mail_status_text(int status);

#endif
