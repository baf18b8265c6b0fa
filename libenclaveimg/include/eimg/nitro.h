/* SPDX-License-Identifier: Apache-2.0 */
/* AWS Nitro Enclaves target: building EIFs from a manifest, measuring and
 * auditing any EIF (PCR0/1/2/8, CRC, signature), signing (with a key, or
 * detached: export the bytes to sign, attach a signature made elsewhere).
 * Concepts and formats: man/enclave-nitro.7.
 *
 * Typical calls from the tools:
 *
 *   enclave-build (target nitro):
 *     eimg_manifest_canonical(m, &canon, &clen, &err);
 *     struct eimg_nitro_build_opts bo = { .epoch = sde };
 *     eimg_nitro_build(m, canon, clen, &bo, &eif, &eif_len, &rep, &err);
 *     eimg_image_set_eif(img, eimg_blob_take_buffer(eif, eif_len)); (or write it as a plain .eif)
 *     eimg_nitro_report_text(rep, &txt, &err) / eimg_nitro_report_json(rep, &js, &err);
 *
 *   enclave-measure x.eif / x.eimg:
 *     eimg_nitro_audit_file(path, NULL, &rep, &err);                 (plain .eif, streamed)
 *     eimg_nitro_image_open(img, src, &rep, &err);   (.eimg member, read in place; the
 *         manifest.json member is checked against the copy inside the ramdisk)
 *     print eimg_nitro_report_text/json; then eimg_nitro_report_verdict(rep, &err)
 *     (EINVAL: CRC mismatch, EVERIFY: bad signature); --expect: eimg_nitro_report_identity()
 *     + eimg_expect_check().
 *
 *   enclave-sign:
 *     eimg_nitro_sign(src, eif, len, &so, &out, &out_len, &err);
 *     eimg_nitro_export_tbs(src, eif, len, cert_path, &tbs, &tbs_len, &err);
 *     eimg_nitro_attach(src, eif, len, cert_path, sig, sig_len, &out, &out_len, &err);
 *     (..._file variants read and write plain .eif files atomically). */
#ifndef EIMG_NITRO_H
#define EIMG_NITRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/eif.h"
#include "eimg/error.h"
#include "eimg/manifest.h"
#include "eimg/progress.h"

/* Where the canonical manifest lives inside the application ramdisk. */
#define EIMG_NITRO_MANIFEST_PATH "rootfs/etc/enclave/manifest.json"

/* The in-enclave supervisor (enclave-nitro(7)): placed in the application
 * ramdisk when the manifest declares ingress or egress (or nitro.supervisor);
 * then the ramdisk's cmd starts it, and it starts the entrypoint. */
#define EIMG_NITRO_SUPERVISOR_PATH "rootfs/enclaveimg/eimg-supervisor"
#define EIMG_NITRO_MAX_SUPERVISOR  (64u << 20)   /* the supervisor binary */

/* Documented limits (enclave-nitro(7)). */
#define EIMG_NITRO_MAX_KERNEL   (256ull << 20)  /* kernel image file */
#define EIMG_NITRO_MAX_INIT     (1ull << 30)    /* init binary or boot-strap ramdisk */
#define EIMG_NITRO_MAX_CONFIG   (4u << 20)      /* kernel .config */
#define EIMG_NITRO_MAX_CERT     (64u << 10)     /* signing certificate file */

struct eimg_nitro_build_opts {
	uint64_t epoch;              /* SOURCE_DATE_EPOCH (ramdisk mtimes, BuildTime) */
	const char *image_name;      /* metadata ImageName; NULL: the manifest's name */
	const char *image_version;   /* metadata ImageVersion; NULL: "1.0" */
	struct eimg_progress *progress; /* reading a container image's layers, writing its ramdisk; may be NULL */
	/* eimg_nitro_build_fd with fd -1: where the EIF goes, asked once before
	 * its first byte is written, with bounds [lo, hi] of its size: a
	 * regular file positioned at the EIF's first byte, or -1 (err set). */
	int (*place)(void *ctx, uint64_t lo, uint64_t hi, eimg_error *err);
	void *place_ctx;
	/* copy: the EIF is also written, as it is streamed, to copy_fd from its
	 * current offset (a regular file; copy_name for messages). */
	bool copy;
	int copy_fd;
	const char *copy_name;
};

struct eimg_nitro_audit_opts {
	int64_t now;                 /* time for the certificate's validity; 0: current time */
	int threads;                 /* 0 automatic, 1, 2 */
	const char *manifest_json;   /* optional: must equal the copy inside the ramdisk */
	size_t manifest_len;
	struct eimg_progress *progress; /* "hashing" progress; may be NULL (an image's: eimg_image_set_progress) */
	/* File forms, for signing in one pass: the bytes after the header and
	 * before any signature section are also written, as they are read and
	 * hashed, to copy_fd at copy_at + their offset in the EIF.  0: none. */
	int copy_fd;
	uint64_t copy_at;
};

/* What was found in one EIF.  Every value is recomputed from content. */
typedef struct eimg_nitro_report {
	char source[256];
	eimg_eif_layout layout;
	uint8_t pcr0[48], pcr1[48], pcr2[48], pcr8[48];
	uint32_t crc_computed;
	uint32_t body_crc;           /* CRC-32 of the bytes after the header, before any signature section */
	uint64_t body_len;
	bool crc_ok;
	bool is_signed;
	/* When signed: */
	bool signature_ok;           /* all of: COSE valid, payload = PCR0, key fits, cert in validity */
	char signature_problem[384]; /* the first problem found, "" when signature_ok */
	int cose_alg;                /* -7, -35, -36 */
	char cert_issuer[512], cert_subject[512], cert_sig_alg[64], cert_key[32], cert_serial[130];
	int64_t cert_not_before, cert_not_after;
	struct eimg_nitro_json *json; /* private (nitro_int.h): the certificate's names, the metadata */
	int64_t now;
	/* Metadata section (not measured): */
	char metadata_problem[128];
	char image_name[256], image_version[256]; /* printable ASCII (escaped) */
	/* Manifest inside the application ramdisk (memory input only): */
	char *manifest;              /* NUL-terminated copy, NULL if none found */
	size_t manifest_len;
	int manifest_match;          /* -1 not checked, 0 differs, 1 equal */
	/* With a manifest: the ramdisk's cmd (what init starts) equals the
	 * manifest's entrypoint and its env the manifest's env, as enclave-build writes them. */
	int launch_match;            /* -1 not checked (no manifest), 0 differs, 1 equal */
	char launch_problem[160];
	bool supervised;             /* the manifest records the in-enclave supervisor: cmd starts it (enclave-nitro(7)) */
} eimg_nitro_report;

/* Resolves what nitro.blobs and nitro.image determine into the manifest
 * (kernel, kernel_config, cmdline, init and nsm from the blobs folder; the
 * image's manifest and config digests, platform, and, unless the manifest
 * sets them, entrypoint (Cmd, else Entrypoint, as nitro-cli), env and
 * working_dir).  Call it before eimg_manifest_canonical().  EIMG_EVERIFY when
 * the image is not the one nitro.image_digest pins. */
int eimg_nitro_resolve(eimg_manifest *m, eimg_error *err);

/* Builds an EIF from a parsed Nitro manifest and its canonical bytes (which
 * go into the application ramdisk at EIMG_NITRO_MANIFEST_PATH).  *eif is
 * malloc'd; *rep (may be NULL) is the audit of the result. */
int eimg_nitro_build(const eimg_manifest *m, const char *canonical, size_t canonical_len,
		     const struct eimg_nitro_build_opts *opts, uint8_t **eif, size_t *eif_len,
		     eimg_nitro_report **rep, eimg_error *err);
/* The same, streamed: the EIF is written into fd (a regular file, from its
 * current offset; -1: opts->place says where) as its inputs are read,
 * hashed on the way; no input is
 * held whole in memory.  *eif_len is its size, pcr012 its PCR0, PCR1 and
 * PCR2 (3 x 48 bytes).  On failure fd holds a partial EIF: discard it. */
int eimg_nitro_build_fd(const eimg_manifest *m, const char *canonical, size_t canonical_len,
			const struct eimg_nitro_build_opts *opts, int fd, uint64_t *eif_len, uint8_t pcr012[144],
			eimg_error *err);

/* Audits an EIF: layout (EINVAL when malformed), CRC, PCRs, signature and
 * certificate, metadata.  A CRC mismatch or a bad signature does not fail
 * the call: see the report and eimg_nitro_report_verdict().  The file form
 * streams the file (memory use does not grow with the file).  opts may be NULL. */
int eimg_nitro_audit_file(const char *path, const struct eimg_nitro_audit_opts *opts,
			  eimg_nitro_report **out, eimg_error *err);
int eimg_nitro_audit_buffer(const char *source, const uint8_t *eif, size_t len,
			    const struct eimg_nitro_audit_opts *opts, eimg_nitro_report **out, eimg_error *err);
/* Streams an EIF of size bytes at offset base of an open file (the
 * enclave.eif member of an image, read in place). */
int eimg_nitro_audit_range(const char *source, int fd, uint64_t base, uint64_t size,
			   const struct eimg_nitro_audit_opts *opts, eimg_nitro_report **out, eimg_error *err);

/* EIMG_OK for a sound image; EIMG_EINVAL on a CRC mismatch; EIMG_EVERIFY on a
 * signature that does not verify or a manifest copy that differs. */
int eimg_nitro_report_verdict(const eimg_nitro_report *r, eimg_error *err);


/* The identity of the EIF for --expect and constraints (eimg/constraint.h):
 * PCR0, 1, 2 (and 8 when signed), hardware mode, STALE (no attestation). */
struct eimg_identity;
void eimg_nitro_report_identity(const eimg_nitro_report *r, struct eimg_identity *id);

/* Human-readable report (lines "Name: value"), and JSON with nitro-cli's
 * names: EifVersion, Measurements {HashAlgorithm, PCR0, PCR1, PCR2[, PCR8]},
 * IsSigned, SigningCertificate, CheckCRC, SignatureCheck, ImageName,
 * ImageVersion, Metadata, plus Sections, Architecture, Crc.  free() the text. */
int eimg_nitro_report_text(const eimg_nitro_report *r, char **out, eimg_error *err);
int eimg_nitro_report_json(const eimg_nitro_report *r, char **out, eimg_error *err); /* indented, '\n' */
void eimg_nitro_report_free(eimg_nitro_report *r);

/* PCR8 that signing with this certificate (PEM or DER file) gives, as
 * `nitro-cli pcr --signing-certificate` prints it: for --expect values. */
int eimg_nitro_pcr8_of_cert(const char *cert_path, uint8_t pcr8[48], eimg_error *err);

/* Writes the member enclave.eif of a Nitro image (.eimg) to out_path,
 * atomically and byte for byte: after enclave-sign, the signed EIF to hand
 * to nitro-cli.  out_path may not be the image itself ("-": stdout). */
int eimg_nitro_eif_out(const char *image_path, const char *out_path, eimg_error *err);
/* The same, reporting "copying" to p (eimg/progress.h; may be NULL). */
int eimg_nitro_eif_out_progress(const char *image_path, const char *out_path, struct eimg_progress *p,
				eimg_error *err);

/* ---- Signing ---- */
struct eimg_nitro_sign_opts {
	const char *key_path;        /* PEM EC private key: P-256, P-384 or P-521 */
	const char *cert_path;       /* its X.509 certificate (PEM or DER) */
	const char *passphrase;      /* for an encrypted key, or NULL */
	int64_t now;                 /* refuse a certificate not valid now; 0: current time */
};

/* Returns a signed copy of the EIF: the signature section (replaced or
 * appended) and the CRC change, no other byte does.  The EIF is audited
 * first (EINVAL if malformed or its CRC is wrong). */
int eimg_nitro_sign(const char *source, const uint8_t *eif, size_t len, const struct eimg_nitro_sign_opts *o,
		    uint8_t **out, size_t *out_len, eimg_error *err);

/* Detached signing, step 1: the COSE Sig_structure bytes that the holder of
 * the certificate's key must sign (ECDSA with SHA-256/384/512 for P-256/384/521),
 * e.g. `openssl dgst -sha384 -sign key.pem -out sig.der tbs.bin`. */
int eimg_nitro_export_tbs(const char *source, const uint8_t *eif, size_t len, const char *cert_path,
			  uint8_t **tbs, size_t *tbs_len, eimg_error *err);

/* Step 2: verifies sig (DER ECDSA-Sig-Value, or raw r||s) against the
 * certificate and the EIF's PCR0, then attaches it.  EIMG_EVERIFY if the
 * signature does not verify. */
int eimg_nitro_attach(const char *source, const uint8_t *eif, size_t len, const char *cert_path,
		      const uint8_t *sig, size_t sig_len, uint8_t **out, size_t *out_len, eimg_error *err);

/* Signing through a caller's signer (an HSM, a KMS, a pkcs11 engine key):
 * fn signs msg (the Sig_structure) with ECDSA and the given hash (256, 384,
 * 512 for P-256/384/521) and writes a DER ECDSA-Sig-Value or raw r||s into
 * sig, *sig_len being its capacity on entry (512) and the length on return.
 * The result is verified against the certificate before it is attached. */
typedef int (*eimg_nitro_signer_fn)(void *ctx, int hash, const uint8_t *msg, size_t msg_len, uint8_t *sig,
				    size_t *sig_len, eimg_error *err);
int eimg_nitro_sign_with(const char *source, const uint8_t *eif, size_t len, const char *cert_path,
			 eimg_nitro_signer_fn fn, void *ctx, uint8_t **out, size_t *out_len, eimg_error *err);

/* File forms for plain .eif files, streamed (memory use does not grow with
 * the file): one read and one write, the pass that audits the input copying
 * the bytes it hashes into out, the new header and signature section put in
 * place at the end; a header changed in between is refused.  out is written
 * atomically (it may equal in; "-" is stdout, where the input is audited,
 * then copied and checked against the audited CRC). */
int eimg_nitro_sign_file(const char *in, const char *out, const struct eimg_nitro_sign_opts *o, eimg_error *err);
int eimg_nitro_export_tbs_file(const char *in, const char *cert_path, const char *out, eimg_error *err);
int eimg_nitro_attach_file(const char *in, const char *cert_path, const char *sig_path, const char *out,
			   eimg_error *err);
int eimg_nitro_sign_with_file(const char *in, const char *out, const char *cert_path, eimg_nitro_signer_fn fn,
			      void *ctx, eimg_error *err);
/* The same for an EIF of size bytes at offset base of an open file (the
 * enclave.eif member of an image, read in place): sign with fn, or attach
 * sig when fn is NULL, writing the signed EIF to out; or export the bytes
 * to sign. */
int eimg_nitro_sign_range(const char *source, int fd, uint64_t base, uint64_t size, const char *cert_path,
			  eimg_nitro_signer_fn fn, void *ctx, const uint8_t *sig, size_t sig_len, const char *out,
			  eimg_error *err);
int eimg_nitro_export_tbs_range(const char *source, int fd, uint64_t base, uint64_t size, const char *cert_path,
				uint8_t **tbs, size_t *tbs_len, eimg_error *err);

/* ---- enclave-sign for Nitro (nitro/nitro_sign.c) ---- */
struct eimg_key_source;
struct eimg_nitro_sign_request {
	int op;                              /* EIMG_SIGN_OP_SIGN, _EXPORT or _ATTACH (eimg/sigstruct.h) */
	const char *input;                   /* a Nitro image (.eimg) or a plain EIF */
	const char *output;                  /* NULL: in place (sign, attach); export needs one */
	const struct eimg_key_source *key;   /* sign: any EC key the loader takes (file, encrypted, pkcs11:) */
	const char *cert_path;               /* the signing certificate (PEM or DER) */
	const char *signature_path;          /* attach: DER ECDSA-Sig-Value or raw r||s */
	bool force;                          /* replace an existing signature */
	struct eimg_progress *progress;      /* the pass that hashes and copies the EIF ("hashing"), an
						image's "writing"; may be NULL */
};

/* Signs, exports or attaches.  The input is audited first: a malformed EIF,
 * a CRC mismatch, an image whose recorded PCRs differ from the recomputed
 * ones, or (without force) an already signed EIF is refused.  Outputs are
 * written atomically. */
int eimg_nitro_sign_run(const struct eimg_nitro_sign_request *r, eimg_error *err);

/* Audits a Nitro image or EIF and requires a valid signature: EIMG_EVERIFY
 * for an unsigned EIF or one whose signature does not verify, or (with a
 * constraint, else NULL) for PCRs the constraint does not accept. */
struct eimg_constraint;
int eimg_nitro_verify_file(const char *path, const struct eimg_constraint *c, eimg_nitro_report **out,
			   eimg_error *err);
/* The same, reporting "hashing" to p (may be NULL). */
int eimg_nitro_verify_file_progress(const char *path, const struct eimg_constraint *c, struct eimg_progress *p,
				    eimg_nitro_report **out, eimg_error *err);
/* What enclave-sign prints after signing with a certificate: the PCR8 the
 * certificate gives (the value a deployment expects, as `nitro-cli pcr
 * --signing-certificate` gives it) and "wrote OUTPUT", as text ("pcr8:" in
 * the aligned field style) or as a JSON object {"pcr8", "output"}. */
int eimg_nitro_signed_report(const char *cert_path, const char *output, bool json, char **out, eimg_error *err);
/* enclave-measure --pcr8: "pcr8: HEX" that signing with the certificate
 * gives, or the JSON object {"pcr8", "nitro_cli": {"PCR8"}} (the second as
 * nitro-cli pcr prints it). */
int eimg_nitro_pcr8_report(const char *cert_path, bool json, char **out, eimg_error *err);

/* Whether path is a plain EIF or a Nitro image (false for anything else,
 * unreadable input included: the caller's own reading reports that). */
bool eimg_is_nitro_input(const char *path);

#endif
