/* SPDX-License-Identifier: Apache-2.0 */
/* Nitro target: sign an EIF in place (COSE_Sign1 signature section, PCR8),
 * directly with a key or in the detached flow (export the to-be-signed
 * structure, attach a signature made elsewhere). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eimg/expect.h"
#include "eimg/hash.h"
#include "eimg/constraint.h"
#include "eimg/nitro.h"
#include "eimg/progress.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"
#include "crypto/crypto.h"

static int load_cert(const char *path, eimg_x509 **x, struct eimg_x509_info *xi, int *alg, eimg_error *err)
{
	int rc = eimg_x509_load_file(path, x, err);
	if (rc)
		return rc;
	rc = eimg_x509_info(*x, xi, err);
	if (rc)
		goto fail;
	*alg = eimg_cose_alg_for_bits(xi->key_bits);
	if (!*alg) {
		rc = eimg_err(err, EIMG_EINVAL, path, "the certificate's key is %s; Nitro signing needs EC P-256, P-384 or P-521",
			      xi->key_alg);
		goto fail;
	}
	return EIMG_OK;
fail:
	eimg_x509_free(*x);
	*x = NULL;
	return rc;
}

/* What signing needs from the EIF: its audit (layout, PCR0, CRC). */
struct target {
	const char *source;
	const uint8_t *mem;          /* memory input, or NULL */
	size_t len;
	int fd;                      /* file input */
	uint64_t base;               /* offset of the EIF in that file (an image member), len its size */
	eimg_nitro_report *r;
	struct eimg_nitro_digest dg;
	int copy_fd;                 /* > 0: the audit copies the body there (signing in one pass) */
	eimg_nitro_check_fn check;   /* judges the audit first; NULL: its CRC only */
	void *check_ctx;
	struct eimg_progress *progress; /* the audit's "hashing", a second pass's "writing"; may be NULL */
};

static int open_target(struct target *t, eimg_error *err)
{
	/* Certificate times matter only to a check (an old signature judged now). */
	struct eimg_nitro_audit_opts ao = { .now = t->check ? 0 : 1, .copy_fd = t->copy_fd, .progress = t->progress };
	int rc = eimg_nitro_audit_any(t->source, t->mem, t->len, t->fd, t->base, &ao, &t->r, &t->dg, err);
	if (rc)
		return rc;
	if (t->check && (rc = t->check(t->check_ctx, t->r, err)))
		return rc;
	if (!t->r->crc_ok)
		return eimg_nitro_report_verdict(t->r, err);
	const eimg_eif_layout *l = &t->r->layout;
	if (l->signature >= 0 && (unsigned)l->signature != l->nsections - 1)
		return eimg_err(err, EIMG_EINVAL, t->source, "the signature section is not the last section");
	if (l->signature < 0 && l->nsections >= EIMG_EIF_MAX_SECTIONS)
		return eimg_err(err, EIMG_EINVAL, t->source, "no room for a signature section (%u sections)", l->nsections);
	return EIMG_OK;
}

/* The payload, protected header and Sig_structure for PCR0 and an algorithm. */
static int tbs_for(const eimg_nitro_report *r, int alg, uint8_t **prot, size_t *plen, uint8_t **payload,
		   size_t *paylen, uint8_t **tbs, size_t *tbslen, eimg_error *err)
{
	int rc = eimg_nitro_payload_encode(r->pcr0, payload, paylen, err);
	if (!rc)
		rc = eimg_cose_protected_encode(alg, prot, plen, err);
	if (!rc)
		rc = eimg_cose_tbs(*prot, *plen, *payload, *paylen, tbs, tbslen, err);
	return rc;
}

/* The signature section's bytes. */
static int section_for(const eimg_x509 *x, int alg, uint8_t *prot, size_t plen, uint8_t *payload, size_t paylen,
		       const uint8_t *rs, size_t rslen, uint8_t **sec, size_t *seclen, eimg_error *err)
{
	struct eimg_cose_sign1 s;
	uint8_t *cose = NULL, *pem = NULL;
	size_t coselen = 0, pemlen = 0;
	int rc;
	memset(&s, 0, sizeof(s));
	s.alg = alg;
	s.protected_hdr = prot;
	s.protected_len = plen;
	s.payload = payload;
	s.payload_len = paylen;
	if (rslen > sizeof(s.sig))
		return eimg_err(err, EIMG_EINTERNAL, NULL, "signature too long");
	memcpy(s.sig, rs, rslen);
	s.sig_len = rslen;
	rc = eimg_cose_sign1_encode(&s, &cose, &coselen, err);
	if (!rc)
		rc = eimg_x509_pem(x, &pem, &pemlen, err);
	if (!rc)
		rc = eimg_nitro_sigsec_encode(pem, pemlen, cose, coselen, sec, seclen, err);
	free(cose);
	free(pem);
	return rc;
}

/* The header of the EIF at offset at of fd (layout l) once signed with sec,
 * with its CRC (body_crc: of the bytes from 548 up to the old signature
 * section), and the new section's 12-byte header. */
static int signed_header(const char *source, int fd, uint64_t at, const eimg_eif_layout *l, uint32_t body_crc,
			 const uint8_t *sec, size_t seclen, uint8_t hdr[EIMG_EIF_HEADER_SIZE],
			 uint8_t sh[EIMG_EIF_SECTION_HEADER_SIZE], eimg_error *err)
{
	unsigned keep = l->signature >= 0 ? l->nsections - 1 : l->nsections;
	uint64_t base = l->signature >= 0 ? l->sections[l->signature].offset : l->file_size;
	if (pread(fd, hdr, EIMG_EIF_HEADER_SIZE, (off_t)at) != (ssize_t)EIMG_EIF_HEADER_SIZE)
		return eimg_err_sys(err, source, "cannot read");
	eimg_be16(hdr + 26, (uint16_t)(keep + 1));
	if (eimg_get_be16(hdr + 4) < 3)
		eimg_be16(hdr + 4, 3);
	eimg_be64(hdr + 28 + 8 * keep, base);
	eimg_be64(hdr + 284 + 8 * keep, seclen);
	for (unsigned i = keep + 1; i < EIMG_EIF_MAX_SECTIONS; i++) {
		eimg_be64(hdr + 28 + 8 * i, 0);
		eimg_be64(hdr + 284 + 8 * i, 0);
	}
	eimg_be16(sh, EIMG_EIF_SIGNATURE);
	eimg_be16(sh + 2, 0);
	eimg_be64(sh + 4, seclen);
	uint32_t crc = eimg_crc32(0, hdr, EIMG_EIF_CRC_OFFSET);
	crc = eimg_crc32_combine(crc, body_crc, base - EIMG_EIF_HEADER_SIZE);
	crc = eimg_crc32(crc, sh, EIMG_EIF_SECTION_HEADER_SIZE);
	crc = eimg_crc32(crc, sec, seclen);
	eimg_be32(hdr + EIMG_EIF_CRC_OFFSET, crc);
	return EIMG_OK;
}

/* The header re-read for the new one is the header the audit hashed: its
 * CRC with the body's (and an old signature section's) gives the audit's. */
static int same_header(const char *src, int fd, uint64_t base, const eimg_nitro_report *rep, eimg_error *err)
{
	uint8_t h[EIMG_EIF_CRC_OFFSET];
	uint64_t from = EIMG_EIF_HEADER_SIZE + rep->body_len, tail = rep->layout.file_size - from;
	uint8_t *t = tail <= EIMG_EIF_SECTION_HEADER_SIZE + EIMG_EIF_MAX_SIGNATURE ? malloc(tail + 1) : NULL;
	int rc = t ? EIMG_OK : eimg_err(err, EIMG_EINVAL, src, "signature section too large");
	if (!rc && (pread(fd, h, sizeof(h), (off_t)base) != (ssize_t)sizeof(h) ||
		    pread(fd, t, (size_t)tail, (off_t)(base + from)) != (ssize_t)tail))
		rc = eimg_err_sys(err, src, "cannot read");
	if (!rc) {
		uint32_t c = eimg_crc32_combine(eimg_crc32(0, h, sizeof(h)), rep->body_crc, rep->body_len);
		if (eimg_crc32(c, t, (size_t)tail) != rep->crc_computed)
			rc = eimg_err(err, EIMG_EINVAL, src, "file changed while being signed");
	}
	free(t);
	return rc;
}

int eimg_nitro_put_signed(const char *source, int fd, uint64_t base, const eimg_nitro_report *rep, const uint8_t *sec,
			  size_t seclen, int out_fd, uint64_t at, const char *dst, eimg_error *err)
{
	uint8_t hdr[EIMG_EIF_HEADER_SIZE], sh[EIMG_EIF_SECTION_HEADER_SIZE];
	uint64_t body_end = EIMG_EIF_HEADER_SIZE + rep->body_len;
	int rc = same_header(source, fd, base, rep, err);
	if (!rc)
		rc = signed_header(source, fd, base, &rep->layout, rep->body_crc, sec, seclen, hdr, sh, err);
	if (!rc)
		rc = eimg_pwrite_all(out_fd, hdr, sizeof(hdr), at, dst, NULL, err);
	if (!rc)
		rc = eimg_pwrite_all(out_fd, sh, sizeof(sh), at + body_end, dst, NULL, err);
	if (!rc)
		rc = eimg_pwrite_all(out_fd, sec, seclen, at + body_end + sizeof(sh), dst, NULL, err);
	return rc;
}

/* Writes the signed EIF: in memory, or streamed from the input file to out
 * (header with the new CRC, the unchanged bytes, the new section).  The
 * copied bytes are checked against the CRC of the audit: a file changed in
 * between is refused. */
static int write_signed(struct target *t, const uint8_t *sec, size_t seclen, const char *out_path, uint8_t **out,
			size_t *out_len, eimg_error *err)
{
	if (t->mem)
		return eimg_eif_set_signature(t->source, t->mem, t->len, sec, seclen, out, out_len, err);

	const eimg_eif_layout *l = &t->r->layout;
	uint64_t base = l->signature >= 0 ? l->sections[l->signature].offset : l->file_size;
	uint8_t hdr[EIMG_EIF_HEADER_SIZE], sh[EIMG_EIF_SECTION_HEADER_SIZE];
	struct eimg_outfile o;
	uint8_t *buf = NULL;
	int rc;

	if (t->dg.body_len != base - EIMG_EIF_HEADER_SIZE)
		return eimg_err(err, EIMG_EINTERNAL, t->source, "signing: inconsistent body length");
	if ((rc = signed_header(t->source, t->fd, t->base, l, t->dg.body_crc, sec, seclen, hdr, sh, err)))
		return rc;

	rc = eimg_outfile_open(&o, out_path, err);
	if (rc)
		return rc;
	buf = malloc(1u << 20);
	if (!buf) {
		rc = eimg_err_nomem(err);
		goto fail;
	}
	rc = eimg_outfile_write(&o, hdr, sizeof(hdr), err);
	eimg_progress_begin(t->progress, "writing", base - EIMG_EIF_HEADER_SIZE);
	uint32_t check = 0;
	for (uint64_t off = EIMG_EIF_HEADER_SIZE; rc == EIMG_OK && off < base;) {
		size_t n = base - off > (1u << 20) ? (1u << 20) : (size_t)(base - off);
		ssize_t k = pread(t->fd, buf, n, (off_t)(t->base + off));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = k < 0 ? eimg_err_sys(err, t->source, "cannot read")
				   : eimg_err(err, EIMG_EINVAL, t->source, "file shrank while being signed");
			break;
		}
		check = eimg_crc32(check, buf, (size_t)k);
		rc = eimg_outfile_write(&o, buf, (size_t)k, err);
		eimg_progress_add(t->progress, (uint64_t)k);
		off += (uint64_t)k;
	}
	eimg_progress_end(t->progress);
	if (rc == EIMG_OK && check != t->dg.body_crc)
		rc = eimg_err(err, EIMG_EINVAL, t->source, "file changed while being signed");
	if (rc == EIMG_OK)
		rc = eimg_outfile_write(&o, sh, sizeof(sh), err);
	if (rc == EIMG_OK)
		rc = eimg_outfile_write(&o, sec, seclen, err);
	if (rc)
		goto fail;
	free(buf);
	return eimg_outfile_commit(&o, err);
fail:
	free(buf);
	eimg_outfile_abort(&o);
	return rc;
}

int eimg_nitro_tbs_of_report(const eimg_nitro_report *r, const char *cert_path, uint8_t **tbs, size_t *tbs_len,
			     eimg_error *err)
{
	eimg_x509 *x = NULL;
	struct eimg_x509_info xi;
	uint8_t *prot = NULL, *payload = NULL;
	size_t plen = 0, paylen = 0;
	int alg = 0;
	int rc = load_cert(cert_path, &x, &xi, &alg, err);
	eimg_x509_free(x);
	if (!rc)
		rc = tbs_for(r, alg, &prot, &plen, &payload, &paylen, tbs, tbs_len, err);
	free(prot);
	free(payload);
	return rc;
}

static int do_export(struct target *t, const char *cert_path, uint8_t **tbs, size_t *tbs_len, eimg_error *err)
{
	eimg_x509 *x = NULL;
	struct eimg_x509_info xi;
	int alg = 0;
	/* The certificate first: a wrong one is refused before the EIF is read. */
	int rc = load_cert(cert_path, &x, &xi, &alg, err);
	eimg_x509_free(x);
	if (!rc)
		rc = open_target(t, err);
	return rc ? rc : eimg_nitro_tbs_of_report(t->r, cert_path, tbs, tbs_len, err);
}

/* The certificate, checked to be valid at "at" (0: now): as one-step
 * signing with a key file, never make a signature that a careful verifier
 * refuses today. */
static int cert_for(const char *cert_path, int64_t at, eimg_x509 **x, int *alg, eimg_error *err)
{
	struct eimg_x509_info xi;
	int rc = load_cert(cert_path, x, &xi, alg, err);
	if (rc)
		return rc;
	int64_t now = at ? at : (int64_t)time(NULL);
	if (now < xi.not_before || now > xi.not_after) {
		char nb[40], na[40];
		eimg_nitro_fmt_time(xi.not_before, nb, sizeof(nb));
		eimg_nitro_fmt_time(xi.not_after, na, sizeof(na));
		eimg_x509_free(*x);
		*x = NULL;
		return eimg_err(err, EIMG_EINVAL, cert_path, "the certificate is not valid now (valid from %s to %s)", nb, na);
	}
	return EIMG_OK;
}

/* The signature section over the report's PCR0: signed by fn, or sig (made
 * elsewhere), checked against the certificate either way. */
static int sign_section(const eimg_x509 *x, int alg, const char *cert_path, const eimg_nitro_report *r,
			const uint8_t *sig, size_t sig_len, eimg_nitro_signer_fn fn, void *ctx, uint8_t **sec,
			size_t *seclen, eimg_error *err)
{
	uint8_t *prot = NULL, *payload = NULL, *tbs = NULL, rs[132], made[512];
	size_t plen = 0, paylen = 0, tbslen = 0, fb = eimg_cose_alg_fbytes(alg);
	int rc = tbs_for(r, alg, &prot, &plen, &payload, &paylen, &tbs, &tbslen, err);
	if (rc)
		goto out;
	if (fn) {
		size_t n = sizeof(made);
		rc = fn(ctx, eimg_cose_alg_hash(alg), tbs, tbslen, made, &n, err);
		if (rc)
			goto out;
		if (n > sizeof(made)) {
			rc = eimg_err(err, EIMG_EINTERNAL, NULL, "signer: signature longer than its buffer");
			goto out;
		}
		sig = made;
		sig_len = n;
	}
	if (sig_len == 2 * fb && sig[0] != 0x30) {
		memcpy(rs, sig, sig_len);
	} else {
		rc = eimg_ec_der_to_rs(sig, sig_len, fb, rs, err);
		if (rc) {
			eimg_err_context(err, NULL, "signature: expected a DER ECDSA signature or %zu raw bytes (r||s)", 2 * fb);
			goto out;
		}
	}
	rc = eimg_x509_verify_rs(x, eimg_cose_alg_hash(alg), tbs, tbslen, rs, 2 * fb, err);
	if (rc) {
		if (rc == EIMG_EVERIFY)
			rc = eimg_err(err, EIMG_EVERIFY, cert_path,
				      "the signature does not verify with this certificate's key for this EIF's PCR0");
		goto out;
	}
	rc = section_for(x, alg, prot, plen, payload, paylen, rs, 2 * fb, sec, seclen, err);
out:
	explicit_bzero(made, sizeof(made));
	free(prot);
	free(payload);
	free(tbs);
	return rc;
}

int eimg_nitro_section_for(const eimg_nitro_report *r, const char *cert_path, const uint8_t *sig, size_t sig_len,
			   eimg_nitro_signer_fn fn, void *ctx, uint8_t **sec, size_t *seclen, eimg_error *err)
{
	eimg_x509 *x = NULL;
	int alg = 0;
	int rc = cert_for(cert_path, 0, &x, &alg, err);
	if (!rc)
		rc = sign_section(x, alg, cert_path, r, sig, sig_len, fn, ctx, sec, seclen, err);
	eimg_x509_free(x);
	return rc;
}

/* A file input signed in one read and one write: the audit copies the body,
 * the very bytes it hashes, into the output's temporary file as it reads
 * them; the header and the signature section are put in place at the end. */
static int attach_one_pass(struct target *t, const eimg_x509 *x, int alg, const char *cert_path, const uint8_t *sig,
			   size_t sig_len, eimg_nitro_signer_fn fn, void *ctx, const char *out_path, eimg_error *err)
{
	struct eimg_outfile o;
	uint8_t *sec = NULL;
	size_t seclen = 0;
	int rc = eimg_outfile_open(&o, out_path, err);
	if (rc)
		return rc;
	t->copy_fd = o.fd;
	rc = open_target(t, err);
	if (!rc)
		rc = sign_section(x, alg, cert_path, t->r, sig, sig_len, fn, ctx, &sec, &seclen, err);
	if (!rc)
		rc = eimg_nitro_put_signed(t->source, t->fd, t->base, t->r, sec, seclen, o.fd, 0, out_path, err);
	free(sec);
	if (!rc)
		return eimg_outfile_commit(&o, err);
	eimg_outfile_abort(&o);
	return rc;
}

static int do_attach(struct target *t, const char *cert_path, const uint8_t *sig, size_t sig_len,
		     eimg_nitro_signer_fn fn, void *ctx, int64_t at, const char *out_path, uint8_t **out,
		     size_t *out_len, eimg_error *err)
{
	eimg_x509 *x = NULL;
	uint8_t *sec = NULL;
	size_t seclen = 0;
	int alg = 0;
	int rc = cert_for(cert_path, at, &x, &alg, err);
	/* Standard output cannot be written out of order: read twice there. */
	if (!rc && !t->mem && strcmp(out_path, "-") != 0) {
		rc = attach_one_pass(t, x, alg, cert_path, sig, sig_len, fn, ctx, out_path, err);
		eimg_x509_free(x);
		return rc;
	}
	if (!rc)
		rc = open_target(t, err);
	if (!rc)
		rc = sign_section(x, alg, cert_path, t->r, sig, sig_len, fn, ctx, &sec, &seclen, err);
	if (!rc)
		rc = write_signed(t, sec, seclen, out_path, out, out_len, err);
	eimg_x509_free(x);
	free(sec);
	return rc;
}

static void target_mem(struct target *t, const char *source, const uint8_t *eif, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->source = source ? source : "EIF";
	t->mem = eif ? eif : (const uint8_t *)"";
	t->len = eif ? len : 0;
	t->fd = -1;
}

static int target_file(struct target *t, const char *path, eimg_error *err)
{
	memset(t, 0, sizeof(*t));
	t->source = path;
	t->fd = open(path, O_RDONLY | O_CLOEXEC);
	eimg_input_note_fd(t->fd, path);
	return t->fd < 0 ? eimg_err_sys(err, path, "cannot open") : EIMG_OK;
}

static int target_range(struct target *t, const char *source, int fd, uint64_t base, uint64_t size, eimg_error *err)
{
	memset(t, 0, sizeof(*t));
	t->source = source ? source : "EIF";
	t->base = base;
	t->len = (size_t)size;
	t->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (t->fd < 0)
		return eimg_err_sys(err, t->source, "cannot duplicate the descriptor");
	return size ? EIMG_OK : eimg_err(err, EIMG_EINVAL, t->source, "truncated: an empty EIF");
}

static void target_close(struct target *t)
{
	eimg_nitro_report_free(t->r);
	if (t->fd >= 0)
		close(t->fd);
}


int eimg_nitro_export_tbs(const char *source, const uint8_t *eif, size_t len, const char *cert_path,
			  uint8_t **tbs, size_t *tbs_len, eimg_error *err)
{
	struct target t;
	target_mem(&t, source, eif, len);
	int rc = do_export(&t, cert_path, tbs, tbs_len, err);
	target_close(&t);
	return rc;
}

int eimg_nitro_attach(const char *source, const uint8_t *eif, size_t len, const char *cert_path,
		      const uint8_t *sig, size_t sig_len, uint8_t **out, size_t *out_len, eimg_error *err)
{
	struct target t;
	target_mem(&t, source, eif, len);
	int rc = do_attach(&t, cert_path, sig, sig_len, NULL, NULL, 0, NULL, out, out_len, err);
	target_close(&t);
	return rc;
}

int eimg_nitro_file_op(const struct eimg_nitro_file_op *op, eimg_error *err)
{
	struct target t;
	uint8_t *tbs = NULL;
	size_t tl = 0;
	if (!op->export_tbs)
		eimg_output_may_replace(op->in); /* out may be in itself: signing in place */
	int rc = target_file(&t, op->in, err);
	t.check = op->check;
	t.check_ctx = op->check_ctx;
	t.progress = op->progress;
	if (!rc && op->export_tbs) {
		if (!(rc = do_export(&t, op->cert_path, &tbs, &tl, err)))
			rc = eimg_write_file_atomic(op->out, tbs, tl, err);
	} else if (!rc) {
		rc = do_attach(&t, op->cert_path, op->sig, op->sig_len, op->fn, op->fn_ctx, 0, op->out, NULL, NULL, err);
	}
	free(tbs);
	target_close(&t);
	return rc;
}

int eimg_nitro_export_tbs_file(const char *in, const char *cert_path, const char *out, eimg_error *err)
{
	struct eimg_nitro_file_op op = { .in = in, .out = out, .cert_path = cert_path, .export_tbs = true };
	return eimg_nitro_file_op(&op, err);
}

int eimg_nitro_attach_file(const char *in, const char *cert_path, const char *sig_path, const char *out,
			   eimg_error *err)
{
	struct eimg_nitro_file_op op = { .in = in, .out = out, .cert_path = cert_path };
	uint8_t *sig = NULL;
	int rc = eimg_read_file(sig_path, 4096, &sig, &op.sig_len, err);
	if (rc)
		return rc;
	op.sig = sig;
	rc = eimg_nitro_file_op(&op, err);
	free(sig);
	return rc;
}

int eimg_nitro_sign_with(const char *source, const uint8_t *eif, size_t len, const char *cert_path,
			 eimg_nitro_signer_fn fn, void *ctx, uint8_t **out, size_t *out_len, eimg_error *err)
{
	struct target t;
	if (!fn)
		return eimg_err(err, EIMG_EUSAGE, NULL, "no signer given");
	target_mem(&t, source, eif, len);
	int rc = do_attach(&t, cert_path, NULL, 0, fn, ctx, 0, NULL, out, out_len, err);
	target_close(&t);
	return rc;
}

int eimg_nitro_sign_with_file(const char *in, const char *out, const char *cert_path, eimg_nitro_signer_fn fn,
			      void *ctx, eimg_error *err)
{
	struct eimg_nitro_file_op op = { .in = in, .out = out, .cert_path = cert_path, .fn = fn, .fn_ctx = ctx };
	if (!fn)
		return eimg_err(err, EIMG_EUSAGE, NULL, "no signer given");
	return eimg_nitro_file_op(&op, err);
}

int eimg_nitro_sign_range(const char *source, int fd, uint64_t base, uint64_t size, const char *cert_path,
			  eimg_nitro_signer_fn fn, void *ctx, const uint8_t *sig, size_t sig_len, const char *out,
			  eimg_error *err)
{
	return eimg_nitro_sign_range_progress(source, fd, base, size, cert_path, fn, ctx, sig, sig_len, out, NULL, err);
}

int eimg_nitro_sign_range_progress(const char *source, int fd, uint64_t base, uint64_t size, const char *cert_path,
				   eimg_nitro_signer_fn fn, void *ctx, const uint8_t *sig, size_t sig_len,
				   const char *out, struct eimg_progress *p, eimg_error *err)
{
	struct target t;
	int rc = target_range(&t, source, fd, base, size, err);
	t.progress = p;
	if (!rc)
		rc = do_attach(&t, cert_path, sig, sig_len, fn, ctx, 0, out, NULL, NULL, err);
	target_close(&t);
	return rc;
}

int eimg_nitro_export_tbs_range(const char *source, int fd, uint64_t base, uint64_t size, const char *cert_path,
				uint8_t **tbs, size_t *tbs_len, eimg_error *err)
{
	struct target t;
	int rc = target_range(&t, source, fd, base, size, err);
	if (!rc)
		rc = do_export(&t, cert_path, tbs, tbs_len, err);
	target_close(&t);
	return rc;
}

int eimg_nitro_pcr8_of_cert(const char *cert_path, uint8_t pcr8[48], eimg_error *err)
{
	eimg_x509 *x = NULL;
	uint8_t *der = NULL, d[48];
	size_t dl = 0;
	int rc = eimg_x509_load_file(cert_path, &x, err);
	if (!rc)
		rc = eimg_x509_der(x, &der, &dl, err);
	if (!rc) {
		eimg_sha384(der, dl, d);
		eimg_nitro_extend(d, pcr8);
	}
	free(der);
	eimg_x509_free(x);
	return rc;
}

/* One-step signing with a key file: the shared key loader (encrypted keys,
 * pkcs11: URIs) and the signer path above, which verifies the result. */
static int key_signer(void *ctx, int hash, const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t *sig_len,
		      eimg_error *err)
{
	return eimg_key_sign(ctx, hash, msg, msg_len, sig, sig_len, err);
}

static int sign_with_key(struct target *t, const struct eimg_nitro_sign_opts *o, const char *out_path,
			 uint8_t **out, size_t *out_len, eimg_error *err)
{
	struct eimg_key_source src;
	eimg_key *k = NULL;
	int rc;

	if (!o || !o->key_path || !o->cert_path)
		return eimg_err(err, EIMG_EUSAGE, NULL, "signing needs a key and a certificate");
	memset(&src, 0, sizeof(src));
	src.path = o->key_path;
	src.passphrase = o->passphrase;
	rc = eimg_key_load_private(&src, &k, err);
	if (rc)
		return rc;
	rc = do_attach(t, o->cert_path, NULL, 0, key_signer, k, o->now, out_path, out, out_len, err);
	eimg_key_free(k);
	if (rc == EIMG_EVERIFY)
		rc = eimg_err(err, EIMG_EINVAL, o->key_path, "the key does not belong to the certificate '%s'", o->cert_path);
	return rc;
}

int eimg_nitro_sign(const char *source, const uint8_t *eif, size_t len, const struct eimg_nitro_sign_opts *o,
		    uint8_t **out, size_t *out_len, eimg_error *err)
{
	struct target t;
	target_mem(&t, source, eif, len);
	int rc = sign_with_key(&t, o, NULL, out, out_len, err);
	target_close(&t);
	return rc;
}

int eimg_nitro_sign_file(const char *in, const char *out, const struct eimg_nitro_sign_opts *o, eimg_error *err)
{
	struct target t;
	int rc = target_file(&t, in, err);
	if (!rc)
		rc = sign_with_key(&t, o, out, NULL, NULL, err);
	target_close(&t);
	return rc;
}
