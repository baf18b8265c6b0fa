/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave runtime: what a program running inside an enclave links
 * against (runtime/libenclave-<mode>.a).  Freestanding: no system calls, no
 * C library; this header declares the small set of C functions the runtime
 * provides.  man/enclave-runtime.3 documents every function here.
 *
 * A program defines one handler:
 *
 *     int enclave_on_message(const uint8_t *msg, size_t len);
 *
 * The host hands in one message (a byte buffer, copied into enclave memory
 * before the handler runs); the handler builds its reply with
 * enclave_reply() and returns 0 (the reply is copied out to the host) or a
 * non-zero value (no reply is sent; the host reports the value).  An
 * optional enclave_init() runs once, before the first message.
 *
 * Threads: an enclave with sgx.threads > 1 may run that many handlers at
 * once, each on its own TCS and stack; protect shared state with
 * enclave_lock_t.  Single-threaded enclaves get one message at a time. */
#ifndef ENCLAVE_H
#define ENCLAVE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ENCLAVE_MODE_HARDWARE   1
#define ENCLAVE_MODE_SIMULATION 2

/* ---- provided by the enclave program ---- */
int enclave_on_message(const uint8_t *msg, size_t len);
int enclave_init(void); /* optional; non-zero aborts the enclave */

/* ---- messages ---- */
/* Appends len bytes to the reply of the message being handled.  Returns 0,
 * or -1 when the heap is exhausted or no message is being handled. */
int enclave_reply(const void *data, size_t len);
/* Appends formatted text (snprintf syntax) to the reply. */
int enclave_replyf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- attestation ---- */
#define ENCLAVE_ATTESTATION_KEY_MAX 16384
/* Publishes the enclave's public key (DER SubjectPublicKeyInfo, at most
 * ENCLAVE_ATTESTATION_KEY_MAX bytes, in enclave memory) for its attestation
 * document: the host binds it into the document (enclave-attestation(5)).
 * Only from enclave_init, and once; returns 0, or -1 otherwise.  The
 * runtime has no cryptography: make the key pair inside the enclave with a
 * crypto library, keep the private key inside, publish only the public key. */
int enclave_set_attestation_key(const void *key, size_t len);

/* ---- key pairs made inside the enclave (link with libbearssl.a) ---- */
#define ENCLAVE_P256_SPKI_LEN 91
/* Makes a P-256 key pair from the CPU's RDRAND through BearSSL's HMAC-DRBG
 * and key generation: the 32-byte private scalar goes into sk (keep it in
 * enclave memory), the public key as DER SubjectPublicKeyInfo into spki
 * (ready for enclave_set_attestation_key).  Returns 0, or -1 when the CPU
 * gives no randomness.  An enclave that calls it links
 * /usr/lib/x86_64-linux-gnu/libbearssl.a (Debian's libbearssl-dev). */
int enclave_keygen_p256(uint8_t sk[32], uint8_t spki[ENCLAVE_P256_SPKI_LEN]);
#define ENCLAVE_P256_SIG_MAX 72
/* ECDSA P-256 with SHA-256 over msg (deterministic, RFC 6979) with a key
 * from enclave_keygen_p256: a DER ECDSA-Sig-Value into sig, *siglen its
 * capacity in and length out.  Returns 0, or -1. */
int enclave_sign_p256(const uint8_t sk[32], const void *msg, size_t len, uint8_t *sig, size_t *siglen);

/* ---- Mail: encrypted messages from clients (link with libbearssl.a) ----
 * A client seals a message to the key of enclave_keygen_p256 that the
 * enclave published for its attestation document (enclave-mail(1)); the
 * host only carries envelopes (enclave-mail(5)).  sk and spki are the
 * outputs of enclave_keygen_p256.  Statuses are 0 or negative
 * (enclave_mail_error() gives the text): truncated, wrong version, not for
 * this key or altered, replayed or reordered sequence number, wrong topic,
 * too big. */
#define ENCLAVE_MAIL_TOPIC_MAX   64
#define ENCLAVE_MAIL_MAX_BODY    983040      /* 960 KiB */
#define ENCLAVE_MAIL_MAX_STREAMS 4096        /* (sender, topic) pairs remembered */
struct enclave_mail {
	uint8_t sender[65];       /* the sender's P-256 public key (04 || X || Y): who wrote it */
	char topic[ENCLAVE_MAIL_TOPIC_MAX + 1];
	uint64_t seq;             /* the sender's sequence number on this topic */
	uint8_t *body;            /* in enclave memory; enclave_mail_free wipes it */
	size_t len, cap;
};
/* 1 when msg starts like a Mail envelope. */
int enclave_is_mail(const uint8_t *msg, size_t len);
/* Opens an envelope addressed to this enclave's key: checks the structure,
 * the topic (when topic is not NULL), decrypts and authenticates, then
 * accepts the sequence number only if it is the next one of this sender on
 * this topic (0, 1, 2, ...).  0: m is filled (free with enclave_mail_free). */
int enclave_mail_open(const uint8_t sk[32], const uint8_t spki[ENCLAVE_P256_SPKI_LEN], const uint8_t *env,
		      size_t len, const char *topic, struct enclave_mail *m);
/* Seals body (at most ENCLAVE_MAIL_MAX_BODY bytes, padded to at least
 * pad_min) to the sender of `to`, as the reply to it (same topic and
 * sequence number), and appends the envelope to the reply (enclave_reply). */
int enclave_mail_reply(const uint8_t sk[32], const uint8_t spki[ENCLAVE_P256_SPKI_LEN], const struct enclave_mail *to,
		       const void *body, size_t len, size_t pad_min);
void enclave_mail_free(struct enclave_mail *m);
const char *enclave_mail_error(int status);

/* ---- sealed state: data kept across restarts (link with libbearssl.a) ----
 * Sealed with a key bound to this enclave: ENCLAVE_SEAL_MRENCLAVE (only this
 * exact enclave) or ENCLAVE_SEAL_MRSIGNER (any enclave of the same signer and
 * product id, of this or a later version).  On SGX hardware the key is the
 * CPU's (EGETKEY); in simulation and mock mode the host derives it from a
 * host secret in its state folder: INSECURE (enclave_seal_insecure() says 1).
 * Keys come from the host or CPU only while a message or enclave_init is
 * handled.  Statuses are 0 or ENCLAVE_STATE_E* (enclave_state_error()).
 * Limit: rollback: the host can give back an older sealed file; nothing
 * here detects it (use a counter the clients check, or accept it). */
#define ENCLAVE_SEAL_MRENCLAVE 1
#define ENCLAVE_SEAL_MRSIGNER  2
#define ENCLAVE_SEAL_MAX       (64u << 20)   /* bytes sealed at once */
#define ENCLAVE_STATE_MAX      983040        /* serialised key-value store, 960 KiB */
#define ENCLAVE_KV_KEY_MAX     255
enum {
	ENCLAVE_STATE_EINVAL = -1,     /* bad policy, size or key; store not opened */
	ENCLAVE_STATE_ENOSTATE = -2,   /* the host keeps no state (enclave-run --state DIR) */
	ENCLAVE_STATE_ECONTEXT = -3,   /* not inside a message or enclave_init */
	ENCLAVE_STATE_EHOST = -4,      /* the host (or CPU) failed */
	ENCLAVE_STATE_EDENIED = -5,    /* no key for that version (a blob from a later ISVSVN) */
	ENCLAVE_STATE_ENOMEM = -6,
	ENCLAVE_STATE_ETRUNCATED = -7, /* sealed data cut short */
	ENCLAVE_STATE_EFORMAT = -8,    /* not sealed data / not a store */
	ENCLAVE_STATE_EAUTH = -9,      /* altered, or sealed for another enclave */
	ENCLAVE_STATE_ETOOBIG = -10    /* beyond ENCLAVE_STATE_MAX or the host's message limit */
};
/* Seals len bytes; *blob (malloc'ed, len + 92 bytes) may be given to anyone. */
int enclave_seal(int policy, const void *data, size_t len, uint8_t **blob, size_t *blob_len);
/* Opens a blob sealed by this enclave (or, MRSIGNER policy, by an earlier
 * version of it); *data is malloc'ed. */
int enclave_unseal(const uint8_t *blob, size_t len, uint8_t **data, size_t *data_len);
int enclave_seal_insecure(void);
const char *enclave_state_error(int status);
/* The key-value store in the host's state file.  Open it (once, or again
 * to drop uncommitted changes) with the policy future commits use; a
 * missing file is an empty store.  put/delete change enclave memory only;
 * commit seals the whole store and has the host replace the file
 * atomically.  get returns the value (valid until the next put, delete or
 * open of that key) or NULL. */
int enclave_kv_open(int policy);
const void *enclave_kv_get(const char *key, size_t *len);
int enclave_kv_put(const char *key, const void *val, size_t len);
int enclave_kv_delete(const char *key);
int enclave_kv_commit(void);

/* ---- logging: reaches the host in simulation and debug enclaves only ---- */
void enclave_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int enclave_log_enabled(void);

/* ---- measured content (read-only, part of MRENCLAVE) ---- */
/* The canonical manifest.json the image was built from (NUL-terminated). */
const char *enclave_manifest(size_t *len);
/* A measured file by its in-enclave name, or NULL.  The data is followed by
 * one zero byte (not counted in *len), so text files are C strings. */
const void *enclave_file(const char *name, size_t *len);
size_t enclave_file_count(void);
const char *enclave_file_name(size_t i);      /* sorted by name; NULL past the end */
/* A measured user key (public key PEM) by name, or NULL. */
const void *enclave_user_key(const char *name, size_t *len);
size_t enclave_user_key_count(void);
const char *enclave_user_key_name(size_t i);

/* ---- about this enclave ---- */
int enclave_mode(void);                 /* ENCLAVE_MODE_* recorded in the image */
unsigned enclave_thread_index(void);    /* 0 .. enclave_threads()-1 */
unsigned enclave_threads(void);
uint64_t enclave_size(void);            /* bytes of enclave address space */
/* 1 when [p, p+len) lies entirely inside the enclave, else 0. */
int enclave_is_within(const void *p, size_t len);

/* Stops the enclave for good: this and every later message fail. */
__attribute__((noreturn)) void enclave_abort(const char *why);

/* ---- spin lock for multi-threaded enclaves ---- */
typedef struct { volatile int locked; } enclave_lock_t;
#define ENCLAVE_LOCK_INIT { 0 }
void enclave_lock(enclave_lock_t *l);
void enclave_unlock(enclave_lock_t *l);

/* ---- heap (the measured heap region), thread-safe ---- */
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);

/* ---- the C library subset ---- */
void *memcpy(void *restrict d, const void *restrict s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
/* printf-style formatting: %d %i %u %x %X %o %c %s %p %% with flags '-' '0'
 * '+' ' ', width, precision ('*' too) and length modifiers hh h l ll z j t. */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Wipes memory in a way the compiler does not remove. */
void explicit_bzero(void *p, size_t n);
/* Parses a decimal integer with optional sign; *end (if not NULL) points after it. */
long long enclave_strtoll(const char *s, const char **end);

#ifdef __cplusplus
}
#endif
#endif
