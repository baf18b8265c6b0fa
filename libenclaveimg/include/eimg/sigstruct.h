/* SPDX-License-Identifier: Apache-2.0 */
/* SGX SIGSTRUCT: byte layout, fields, signing, verification, foreign formats.
 *
 * The SIGSTRUCT is 1808 bytes, little-endian (../shared/specs/sgx.md,
 * man/enclave-sign.1).  Signed bytes: [0,128) followed by [900,1028).
 * RSA-3072, public exponent 3, RSASSA-PKCS1-v1_5 with SHA-256; modulus,
 * signature, q1 and q2 stored little-endian.  MRSIGNER = SHA-256 of the 384
 * stored modulus bytes.  Only crypto_rsa.c touches OpenSSL. */
#ifndef EIMG_SIGSTRUCT_H
#define EIMG_SIGSTRUCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/image.h"

#define EIMG_SIGSTRUCT_SIZE    1808
#define EIMG_SIGSTRUCT_SIGNED  256      /* signed bytes (Intel's "gendata") */
#define EIMG_RSA_BYTES         384      /* RSA-3072 */
#define EIMG_RSA_BITS          3072
#define EIMG_RSA_EXPONENT      3

/* Byte offsets. */
#define EIMG_SS_HEADER        0
#define EIMG_SS_TYPE          12
#define EIMG_SS_VENDOR        16
#define EIMG_SS_DATE          20
#define EIMG_SS_HEADER2       24
#define EIMG_SS_SWDEFINED     40
#define EIMG_SS_RESERVED1     44
#define EIMG_SS_MODULUS       128
#define EIMG_SS_EXPONENT      512
#define EIMG_SS_SIGNATURE     516
#define EIMG_SS_MISCSELECT    900
#define EIMG_SS_MISCMASK      904
#define EIMG_SS_CET_ATTR      908
#define EIMG_SS_CET_MASK      909
#define EIMG_SS_RESERVED2     910
#define EIMG_SS_ISVFAMILYID   912
#define EIMG_SS_ATTRIBUTES    928
#define EIMG_SS_ATTRMASK      944
#define EIMG_SS_ENCLAVEHASH   960
#define EIMG_SS_RESERVED3     992
#define EIMG_SS_ISVEXTPRODID  1008
#define EIMG_SS_ISVPRODID     1024
#define EIMG_SS_ISVSVN        1026
#define EIMG_SS_RESERVED4     1028
#define EIMG_SS_Q1            1040
#define EIMG_SS_Q2            1424

/* Attribute flags. */
#define EIMG_ATTR_INIT          0x1ull
#define EIMG_ATTR_DEBUG         0x2ull
#define EIMG_ATTR_MODE64BIT     0x4ull
#define EIMG_ATTR_PROVISIONKEY  0x10ull
#define EIMG_ATTR_EINITTOKENKEY 0x20ull
#define EIMG_ATTR_CET           0x40ull
#define EIMG_ATTR_KSS           0x80ull
#define EIMG_ATTR_AEXNOTIFY     0x400ull

/* Masks enclave-sign uses (documented in enclave-sign(1)). */
#define EIMG_MASK_FLAGS_DEBUG_ALLOWED  0xfffffffffffffffdull  /* DEBUG not in the mask */
#define EIMG_MASK_FLAGS_PRODUCTION     0xffffffffffffffffull  /* DEBUG in the mask, clear */

/* The parsed fields.  Byte arrays hold the bytes exactly as stored. */
struct eimg_sigstruct {
	uint32_t type;
	uint32_t vendor;
	uint32_t date;             /* BCD yyyymmdd (Gramine: binary, see eimg_sigstruct_date_format) */
	uint32_t swdefined;
	uint8_t modulus[EIMG_RSA_BYTES];    /* little-endian */
	uint32_t exponent;
	uint8_t signature[EIMG_RSA_BYTES];  /* little-endian */
	uint32_t miscselect, miscmask;
	uint8_t cet_attributes, cet_attributes_mask;
	uint8_t isvfamilyid[16];
	uint64_t attr_flags, attr_xfrm;
	uint64_t mask_flags, mask_xfrm;
	uint8_t enclavehash[32];            /* MRENCLAVE */
	uint8_t isvextprodid[16];
	uint16_t isvprodid, isvsvn;
	uint8_t q1[EIMG_RSA_BYTES], q2[EIMG_RSA_BYTES];  /* little-endian */
	bool reserved_nonzero;              /* a reserved field is not zero (decode only) */
	char reserved_what[32];             /* which one */
	bool header_bad;                    /* header or header2 constants differ (decode only) */
	char header_what[32];
};

/* ---- pure layout (sigstruct.c) ---- */

/* Decodes 1808 bytes.  Only the length is checked here (EIMG_EINVAL when it
 * is not 1808); header constants and reserved fields are reported in the
 * struct and checked by eimg_sigstruct_check_layout(). */
int eimg_sigstruct_decode(const char *source, const uint8_t *buf, size_t len, struct eimg_sigstruct *out,
			  eimg_error *err);
/* Encodes the fields with the fixed header constants and zero reserved fields. */
void eimg_sigstruct_encode(const struct eimg_sigstruct *s, uint8_t out[EIMG_SIGSTRUCT_SIZE]);
/* Header constants, reserved fields zero, exponent 3, modulus exactly 3072
 * bits: EIMG_EVERIFY naming the first failed check. */
int eimg_sigstruct_check_layout(const struct eimg_sigstruct *s, const char *source, eimg_error *err);
/* The 256 signed bytes: [0,128) || [900,1028). */
void eimg_sigstruct_signed_bytes(const uint8_t raw[EIMG_SIGSTRUCT_SIZE], uint8_t out[EIMG_SIGSTRUCT_SIGNED]);
/* Rebuilds an unsigned SIGSTRUCT (modulus, exponent, signature, q1, q2 zero)
 * from 256 signed bytes. */
void eimg_sigstruct_from_signed_bytes(const uint8_t in[EIMG_SIGSTRUCT_SIGNED], uint8_t out[EIMG_SIGSTRUCT_SIZE]);
/* MRSIGNER = SHA-256 of the stored (little-endian) modulus. */
void eimg_sigstruct_mrsigner(const struct eimg_sigstruct *s, uint8_t out[32]);

/* Launch modes the attributes and mask permit (EINIT compares
 * SECS.attributes & mask with attributes & mask). */
bool eimg_sigstruct_debug_allowed(const struct eimg_sigstruct *s);
bool eimg_sigstruct_production_allowed(const struct eimg_sigstruct *s);

/* BCD dates. */
bool eimg_bcd_date_valid(uint32_t bcd);
/* Seconds since 1970 (UTC) to BCD yyyymmdd; years 1970..9999. */
int eimg_bcd_date_from_epoch(uint64_t epoch, uint32_t *out, eimg_error *err);
/* "YYYY-MM-DD" to BCD; checks the calendar. */
int eimg_bcd_date_parse(const char *s, uint32_t *out, eimg_error *err);
/* "YYYY-MM-DD" into buf (>= 11 bytes), or "0x%08x" when not a valid BCD date. */
const char *eimg_bcd_date_format(uint32_t bcd, char *buf, size_t size);

/* The DATE field as "YYYY-MM-DD": BCD (Intel's format) when it is a valid
 * BCD date, else binary (u16 year little-endian, u8 month, u8 day: Gramine's
 * gramine-sgx-sign), else "0x%08x".  *encoding (may be NULL) tells which. */
enum { EIMG_DATE_BCD = 0, EIMG_DATE_BINARY, EIMG_DATE_RAW };
const char *eimg_sigstruct_date_format(uint32_t date, char *buf, size_t size, int *encoding);

/* Rendering shared by enclave-sign and enclave-measure.
 * Text: "name: value" lines, each preceded by indent (may be NULL), ending in
 * a newline; *out is malloc'ed.  JSON: one object with sorted keys, compact
 * (_string), or indented by two spaces with up to two extra string members
 * (a NULL key is skipped) and no final newline (_indented). */
int eimg_sigstruct_text(const struct eimg_sigstruct *s, const char *indent, char **out, eimg_error *err);
int eimg_sigstruct_json_string(const struct eimg_sigstruct *s, char **out, eimg_error *err);
int eimg_sigstruct_json_indented(const struct eimg_sigstruct *s, const char *k1, const char *v1, const char *k2,
				 const char *v2, char **out, eimg_error *err);

/* ---- signatures other tools produce ---- */

enum eimg_sigstruct_format {
	EIMG_SIGFMT_RAW = 1,       /* bare 1808-byte SIGSTRUCT (Gramine .sig, sgxs-sign, enclave-sign) */
	EIMG_SIGFMT_INTEL_SDK,     /* .signed.so: .note.sgxmeta, note "sgx_metadata", SIGSTRUCT at 64 */
	EIMG_SIGFMT_OPENENCLAVE,   /* Open Enclave / EGo: .oeinfo, SIGSTRUCT at 144 */
	EIMG_SIGFMT_IMAGE          /* an enclave image's sigstruct.bin */
};
const char *eimg_sigstruct_format_name(int fmt);

#define EIMG_SGX_METADATA_MAGIC 0x86A80294635D0E4Cull
#define EIMG_SGX_METADATA_SIGSTRUCT_OFF 64
#define EIMG_OEINFO_SIGSTRUCT_OFF 144
#define EIMG_SIGSTRUCT_MAX_INPUT (512ull << 20)   /* largest ELF read for its signature */

/* Finds the SIGSTRUCT in a bare SIGSTRUCT file or in a signed ELF (Intel SDK
 * or Open Enclave).  EIMG_EINVAL naming what is missing/malformed; an
 * all-zero SIGSTRUCT (an unsigned Open Enclave binary) is "not signed". */
int eimg_sigstruct_extract(const char *source, const uint8_t *buf, size_t len,
			   uint8_t out[EIMG_SIGSTRUCT_SIZE], int *format, eimg_error *err);

/* The bytes of the ELF section called name (elf_section.c, libelf).
 * *data points into buf.  EIMG_EINVAL if buf is not a valid ELF;
 * EIMG_OK with *data NULL when there is no such section. */
int eimg_elf_section_find(const char *source, const uint8_t *buf, size_t len, const char *name,
			  const uint8_t **data, size_t *size, eimg_error *err);

/* ---- keys and signing (sgx/sgx_sign.c over crypto_rsa.c) ---- */

/* Called for a passphrase or PIN when neither a file nor an environment
 * variable gives one.  Writes at most size-1 bytes and a NUL into buf,
 * returns the length or -1 when none can be had. */
typedef int (*eimg_passphrase_fn)(void *ctx, const char *what, char *buf, size_t size);

struct eimg_key_source {
	const char *path;              /* PEM/DER private key file, or a "pkcs11:" URI */
	const char *passphrase;        /* the passphrase (or PIN) itself, or NULL */
	const char *passphrase_file;   /* first line is the passphrase (or PIN), or NULL */
	const char *passphrase_env;    /* name of an environment variable, or NULL */
	eimg_passphrase_fn prompt;     /* or NULL: no prompting */
	void *prompt_ctx;
	const char *pkcs11_module;     /* PKCS#11 module for pkcs11: URIs, NULL = engine default */
};

/* The fields a signature carries besides MRENCLAVE. */
struct eimg_sign_fields {
	uint16_t isvprodid, isvsvn;
	uint64_t attr_flags, attr_xfrm;
	uint64_t mask_flags, mask_xfrm;
	uint32_t miscselect, miscmask;
	uint32_t date;                 /* BCD */
	uint32_t vendor;               /* 0 */
	uint8_t isvfamilyid[16];
	uint8_t isvextprodid[16];
};

struct eimg_manifest_sgx;
/* MRSIGNER that signing with this key gives, without signing: key->path is
 * a private key (PEM/DER, possibly encrypted: the passphrase options and
 * prompt apply), a public key, a certificate, or a pkcs11: URI.  The key must
 * be RSA-3072 with exponent 3 (EIMG_EINVAL otherwise). */
int eimg_key_mrsigner(const struct eimg_key_source *key, uint8_t mrsigner[32], eimg_error *err);
/* What `enclave-sign key` prints: "mrsigner: HEX" (or "pcr8: HEX" when
 * mrsigner is NULL), or the same as a JSON object
 * (schemas/key-output.schema.json); *out is malloc'd. */
int eimg_signer_report(const uint8_t *mrsigner, const uint8_t *pcr8, bool json, char **out, eimg_error *err);

/* Fields from a manifest: flags MODE64BIT (+KSS), DEBUG left out of the mask
 * when debug launch is allowed, in the mask (and clear) when it is not. */
void eimg_sign_fields_from_manifest(const struct eimg_manifest_sgx *m, uint32_t date,
				    struct eimg_sign_fields *out);
/* Defaults for standalone signing: as a manifest with default values. */
void eimg_sign_fields_default(uint32_t date, struct eimg_sign_fields *out);

/* The fields enclave-sign's options give a standalone SIGSTRUCT (--sgxs,
 * --mrenclave): the defaults, then each value given (a mask of 0 keeps the
 * default mask); have_attr/have_attrmask replace the attributes or their
 * mask outright. */
struct eimg_sign_field_options {
	uint16_t isvprodid, isvsvn;
	bool debug, kss;
	bool have_xfrm, have_misc, have_attr, have_attrmask;
	uint64_t xfrm, xfrm_mask, attr_flags, attr_xfrm, mask_flags, mask_xfrm;
	uint32_t misc, misc_mask;
	uint8_t family[16], extprod[16]; /* with kss */
};
void eimg_sign_fields_from_options(const struct eimg_sign_field_options *o, uint32_t date,
				   struct eimg_sign_fields *out);
/* The signature date (BCD): date_arg "YYYY-MM-DD" when not NULL, else
 * SOURCE_DATE_EPOCH, else today (UTC).  EIMG_EINVAL for a bad date. */
int eimg_sign_date(const char *date_arg, uint32_t *date, eimg_error *err);

/* The unsigned SIGSTRUCT for mrenclave and fields. */
void eimg_sigstruct_prepare(const uint8_t mrenclave[32], const struct eimg_sign_fields *f,
			    uint8_t out[EIMG_SIGSTRUCT_SIZE]);

/* Loads and checks a signing key (RSA, 3072 bits, exponent 3) and signs the
 * prepared SIGSTRUCT in place (modulus, exponent, signature, q1, q2), then
 * verifies the result.  The private key is freed (wiped) before return. */
int eimg_sigstruct_sign(uint8_t ss[EIMG_SIGSTRUCT_SIZE], const struct eimg_key_source *key, eimg_error *err);

/* Two-step signing: completes the prepared SIGSTRUCT with a detached
 * signature (384 bytes big-endian raw, or DER / base64, see enclave-sign(1))
 * made by the holder of the public key in pubkey_path.  Verifies first;
 * EIMG_EVERIFY when the signature is not over these bytes. */
int eimg_sigstruct_attach(uint8_t ss[EIMG_SIGSTRUCT_SIZE], const char *sig_path, const char *pubkey_path,
			  eimg_error *err);

/* Full cryptographic and layout verification of a SIGSTRUCT (header,
 * exponent, modulus size, signature, q1/q2).  EIMG_EVERIFY naming the failed
 * check; source names the input. */
int eimg_sigstruct_verify(const uint8_t ss[EIMG_SIGSTRUCT_SIZE], const char *source, eimg_error *err);

/* ---- high-level operations on images (sgx/sgx_sign.c) ---- */

/* Fields of an image's manifest for signing.  Fails with EIMG_EVERIFY when
 * the recorded measurement does not match the recomputed one. */
int eimg_sign_image_fields(const eimg_image *img, const char *source, uint32_t date, uint8_t mrenclave[32],
			   struct eimg_sign_fields *out, eimg_error *err);

/* Verifies an image's signature: the SIGSTRUCT itself, that it signs the
 * recomputed MRENCLAVE and the manifest's fields.  EIMG_EINVAL "not signed"
 * when the image has no signature. */
struct eimg_sgx_image;
/* The same for an image already opened (and so measured) with
 * eimg_sgx_image_open(), without measuring it again. */
int eimg_sign_verify_opened(const struct eimg_sgx_image *si, const char *source, struct eimg_sigstruct *out,
			    eimg_error *err);
int eimg_sign_verify_image(const eimg_image *img, const char *source, struct eimg_sigstruct *out,
			   eimg_error *err);

/* ---- what enclave-sign does (sgx/sgx_sign.c) ---- */

enum eimg_sign_op {
	EIMG_SIGN_OP_SIGN = 1,      /* one-step signing with a key */
	EIMG_SIGN_OP_EXPORT,        /* write the 256 signed bytes (Intel gendata) */
	EIMG_SIGN_OP_EXPORT_DIGEST, /* write their 32-byte SHA-256 (Open Enclave digest) */
	EIMG_SIGN_OP_ATTACH         /* finish with a detached signature + public key */
};

/* One signing request.  The enclave is an image (fields from its manifest),
 * an SGXS file or a given MRENCLAVE (fields from `fields`, defaults when
 * NULL).  For an image the result is the signed image (written to output,
 * or in place when output is NULL); otherwise a standalone 1808-byte
 * SIGSTRUCT written to output.  Outputs are atomic: on any error nothing is
 * written. */
struct eimg_progress;
struct eimg_sign_request {
	int op;                               /* enum eimg_sign_op */
	const char *image_path;               /* exactly one of these three */
	const char *sgxs_path;
	const uint8_t *mrenclave;             /* 32 bytes */
	const struct eimg_sign_fields *fields;/* not with an image; NULL = defaults */
	uint32_t date;                        /* BCD; fields->date is ignored */
	const char *output;
	bool force;                           /* replace an existing image signature */
	const struct eimg_key_source *key;    /* SIGN */
	const char *signature_path;           /* ATTACH */
	const char *pubkey_path;              /* ATTACH */
	struct eimg_progress *progress;       /* an image's MRENCLAVE recomputed ("measuring"); may be NULL */
};

/* Runs the request; *out (may be NULL) receives the new SIGSTRUCT's fields
 * for SIGN and ATTACH. */
int eimg_sign_run(const struct eimg_sign_request *r, struct eimg_sigstruct *out, eimg_error *err);

/* Reads a signature from a file of any supported kind: an enclave image
 * (its sigstruct.bin), a bare SIGSTRUCT, an Intel SDK or Open Enclave signed
 * ELF.  *img (may be NULL) receives the parsed image when the file is one. */
int eimg_sigstruct_read_file(const char *path, uint8_t out[EIMG_SIGSTRUCT_SIZE], int *format, eimg_image **img,
			     eimg_error *err);
/* What `enclave-sign show` prints of such a file: its SIGSTRUCT decoded into
 * *s, its format, and in status (size bytes) the signature's own validity,
 * "valid (...)" or "INVALID: why" (the enclave match is not checked).  Fails
 * only when no SIGSTRUCT can be read. */
int eimg_sigstruct_show_file(const char *path, struct eimg_sigstruct *s, int *format, char *status, size_t size,
			     eimg_error *err);

struct eimg_constraint;
struct eimg_verify_request {
	const char *input;                    /* image, SIGSTRUCT or signed ELF */
	const char *sgxs_path;                /* check MRENCLAVE against this SGXS, or NULL */
	const uint8_t *mrenclave;             /* or against this value (32 bytes), or NULL */
	const uint8_t *mrsigner;              /* expected MRSIGNER (32 bytes), or NULL */
	const struct eimg_constraint *constraint; /* or NULL */
	struct eimg_progress *progress;       /* an image's MRENCLAVE recomputed ("measuring"); may be NULL */
};

struct eimg_verify_result {
	struct eimg_sigstruct s;
	int format;                           /* enum eimg_sigstruct_format */
	bool mrenclave_checked;               /* compared with a recomputed/given MRENCLAVE */
	bool content_recomputed;              /* MRENCLAVE recomputed from enclave content */
	char how[400];                        /* "yes (from ...)" or "no (why)" */
};

/* Verifies everything the request asks.  EIMG_EVERIFY naming the failed
 * check; EIMG_EINVAL for unreadable input or an unsigned image. */
int eimg_sign_verify_file(const struct eimg_verify_request *r, struct eimg_verify_result *res, eimg_error *err);

/* For a SIGSTRUCT found in an Intel SGX SDK or Open Enclave ELF (v->format):
 * recomputes MRENCLAVE from the file's content and compares it with ss
 * (EIMG_EVERIFY naming both values); fills v->content_recomputed and v->how,
 * or leaves content_recomputed false with the reason in v->how when the
 * content cannot be measured (sgx/foreign.c). */
int eimg_foreign_verify(const char *path, const uint8_t ss[EIMG_SIGSTRUCT_SIZE], struct eimg_verify_result *v,
			eimg_error *err);

/* What enclave-sign show adds for a signed ELF of format fmt: for an Open
 * Enclave enclave its .oeinfo properties as indented "name: value" lines
 * under a heading; *out NULL for other formats (sgx/foreign.c). */
int eimg_foreign_show_text(const char *path, int fmt, char **out, eimg_error *err);

/* enclave-measure on another tool chain's ELF (sgx/foreign.c): an Intel SGX
 * SDK enclave is measured (MRENCLAVE recomputed, the `sgx_sign dump` view
 * rendered, the load stream written to sgxs_out when given) and *id filled
 * for expectations and constraints (*have_id); an Open Enclave one the same
 * way (its properties and the loader's layout shown, oe_layout.c).  *out:
 * text or JSON. */
struct eimg_identity;
struct eimg_foreign_measure_opts {
	const char *sgxs_out;                 /* or NULL */
	bool json;
};
int eimg_foreign_measure(const char *path, const struct eimg_foreign_measure_opts *o, char **out,
			 struct eimg_identity *id, bool *have_id, eimg_error *err);

/* What a successful verification checked, on one line: "signature valid
 * over MRENCLAVE X; content recomputed: yes (from ...)" or "...: no (why)". */
const char *eimg_verify_summary(const struct eimg_verify_result *v, char *buf, size_t size);

#endif
