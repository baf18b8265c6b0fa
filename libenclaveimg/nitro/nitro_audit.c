/* SPDX-License-Identifier: Apache-2.0 */
/* Nitro target: audit any EIF (layout, PCRs, signature, metadata, launch
 * command) into an eimg_nitro_report, and the verdict and identity of a report. */
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
#include "eimg/util.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"
#include "nitro/oci_int.h"
#include "crypto/crypto.h"

void eimg_nitro_report_free(eimg_nitro_report *r)
{
	if (!r)
		return;
	json_decref(r->json->cert);
	json_decref(r->json->metadata);
	free(r->manifest);
	free(r);
}

static void problem(eimg_nitro_report *r, const char *fmt, ...) EIMG_PRINTF(2, 3);
static void problem(eimg_nitro_report *r, const char *fmt, ...)
{
	if (r->signature_problem[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->signature_problem, sizeof(r->signature_problem), fmt, ap);
	va_end(ap);
}

void eimg_nitro_fmt_time(int64_t t, char *out, size_t size)
{
	char iso[EIMG_ISO_TIME_MAX];
	if (eimg_iso_time(t, iso))
		snprintf(out, size, "%s", iso);
	else
		snprintf(out, size, "@%lld", (long long)t);
}

/* Checks the signature section against the recomputed PCR0. Malformed
 * encodings are errors (EINVAL); a signature that does not hold is recorded
 * in the report. */
static int check_signature(eimg_nitro_report *r, const uint8_t *sec, size_t len, eimg_error *err)
{
	uint8_t *pem = NULL, *cose = NULL, *der = NULL, *tbs = NULL;
	size_t pemlen = 0, coselen = 0, derlen = 0, tbslen = 0;
	struct eimg_cose_sign1 s;
	eimg_x509 *x = NULL;
	struct eimg_x509_info xi;
	int rc;

	memset(&s, 0, sizeof(s));
	rc = eimg_nitro_sigsec_decode(r->source, sec, len, &pem, &pemlen, &cose, &coselen, err);
	if (rc)
		goto out;
	rc = eimg_x509_parse_pem(r->source, pem, pemlen, &x, err);
	if (rc) {
		eimg_err_context(err, r->source, "signature section: signing_certificate");
		goto out;
	}
	rc = eimg_x509_der(x, &der, &derlen, err);
	if (rc)
		goto out;
	uint8_t d[48];
	eimg_sha384(der, derlen, d);
	eimg_nitro_extend(d, r->pcr8);
	rc = eimg_x509_info(x, &xi, err);
	if (rc)
		goto out;
	memcpy(r->cert_issuer, xi.issuer, sizeof(r->cert_issuer));
	memcpy(r->cert_subject, xi.subject, sizeof(r->cert_subject));
	memcpy(r->cert_sig_alg, xi.sig_alg, sizeof(r->cert_sig_alg));
	memcpy(r->cert_key, xi.key_alg, sizeof(r->cert_key));
	memcpy(r->cert_serial, xi.serial, sizeof(r->cert_serial));
	r->cert_not_before = xi.not_before;
	r->cert_not_after = xi.not_after;
	char nb[40], na[40];
	eimg_nitro_fmt_time(xi.not_before, nb, sizeof(nb));
	eimg_nitro_fmt_time(xi.not_after, na, sizeof(na));
	json_t *iss = eimg_x509_name_json(x, true), *sub = eimg_x509_name_json(x, false);
	r->json->cert = json_pack("{s:o?, s:o?, s:s, s:s, s:s, s:s, s:s}", "issuer_name", iss, "subject_name", sub,
				 "algorithm", xi.sig_alg, "key_algorithm", xi.key_alg, "serial_number", xi.serial,
				 "not_before", nb, "not_after", na);
	rc = eimg_cose_sign1_decode(r->source, cose, coselen, &s, err);
	if (rc) {
		eimg_err_context(err, r->source, "signature section: signature");
		goto out;
	}
	r->cose_alg = s.alg;
	unsigned idx = 0;
	uint8_t value[48];
	rc = eimg_nitro_payload_decode(r->source, s.payload, s.payload_len, &idx, value, err);
	if (rc) {
		eimg_err_context(err, r->source, "signature section: payload");
		goto out;
	}
	r->signature_ok = true;
	if (xi.key_bits == 0 || eimg_cose_alg_for_bits(xi.key_bits) != s.alg) {
		problem(r, "the certificate's key (%s) does not fit the signature algorithm %s", xi.key_alg,
			eimg_cose_alg_name(s.alg));
	} else {
		rc = eimg_cose_tbs(s.protected_hdr, s.protected_len, s.payload, s.payload_len, &tbs, &tbslen, err);
		if (rc)
			goto out;
		eimg_error verr;
		eimg_error_clear(&verr);
		int vr = eimg_x509_verify_rs(x, eimg_cose_alg_hash(s.alg), tbs, tbslen, s.sig, s.sig_len, &verr);
		if (vr == EIMG_EVERIFY)
			problem(r, "the COSE signature does not verify with the certificate's key");
		else if (vr) {
			rc = vr;
			if (err)
				*err = verr;
			goto out;
		}
	}
	if (idx != 0)
		problem(r, "the signed payload is for register %u, expected 0", idx);
	if (memcmp(value, r->pcr0, 48) != 0) {
		char a[97], b[97];
		problem(r, "the signed PCR0 %s differs from the computed PCR0 %s", eimg_hex(value, 48, a),
			eimg_hex(r->pcr0, 48, b));
	}
	if (r->now < xi.not_before || r->now > xi.not_after) {
		char now[40];
		eimg_nitro_fmt_time(r->now, now, sizeof(now));
		problem(r, "the certificate is not valid at %s (valid from %s to %s)", now, nb, na);
	}
	if (r->signature_problem[0])
		r->signature_ok = false;
	rc = EIMG_OK;
out:
	eimg_cose_sign1_clear(&s);
	eimg_x509_free(x);
	free(pem);
	free(cose);
	free(der);
	free(tbs);
	return rc;
}

static void check_metadata(eimg_nitro_report *r, const uint8_t *buf, size_t len)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j || !json_is_object(j)) {
		snprintf(r->metadata_problem, sizeof(r->metadata_problem), "metadata is not a JSON object");
		json_decref(j);
		return;
	}
	r->json->metadata = j;
	const char *v = json_string_value(json_object_get(j, "ImageName"));
	if (v)
		eimg_escape(v, strlen(v), r->image_name, sizeof(r->image_name));
	v = json_string_value(json_object_get(j, "ImageVersion"));
	if (v)
		eimg_escape(v, strlen(v), r->image_version, sizeof(r->image_version));
}

/* Reads a small section (cmdline, metadata, signature) of a file. */
static int read_section(int fd, uint64_t base, const char *name, const struct eimg_eif_section *s, uint8_t **out,
			eimg_error *err)
{
	size_t n = (size_t)s->size, got = 0;
	uint8_t *b = malloc(n + 1);
	if (!b)
		return eimg_err_nomem(err);
	while (got < n) {
		ssize_t k = pread(fd, b + got, n - got, (off_t)(base + s->offset + EIMG_EIF_SECTION_HEADER_SIZE + got));
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			int rc = k < 0 ? eimg_err_sys(err, name, "cannot read") : eimg_err(err, EIMG_EINVAL, name, "truncated");
			free(b);
			return rc;
		}
		got += (size_t)k;
	}
	b[n] = '\0';
	*out = b;
	return EIMG_OK;
}

struct rdctx {
	const uint8_t *mem;
	int fd;
	uint64_t base;
};

static int rd_at(void *ctx, uint64_t off, void *buf, size_t n)
{
	struct rdctx *c = ctx;
	if (c->mem) {
		memcpy(buf, c->mem + c->base + off, n);
		return 0;
	}
	uint8_t *p = buf;
	off += c->base;
	while (n > 0) {
		ssize_t k = pread(c->fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k == 0)
				errno = EIO;
			return -1;
		}
		p += k;
		off += (uint64_t)k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads one file of a ramdisk (at most max bytes) if it is there exactly
 * once; 1 when found, 0 when not, < 0 on a read error. */
static int ramdisk_file(eimg_nitro_report *r, struct rdctx *c, const struct eimg_eif_section *s, const char *path,
			uint64_t max, char **out, size_t *len, eimg_error *err)
{
	uint64_t off = 0, size = 0;
	eimg_error ignored;
	if (eimg_cpio_locate(r->source, rd_at, c, s->size, path, &off, &size, &ignored) != EIMG_OK || size > max)
		return 0;
	char *buf = malloc((size_t)size + 1);
	if (!buf)
		return -eimg_err_nomem(err);
	if (rd_at(c, off, buf, (size_t)size)) {
		free(buf);
		return -eimg_err_sys(err, r->source, "cannot read");
	}
	buf[size] = '\0';
	*out = buf;
	*len = (size_t)size;
	return 1;
}

/* SHA-384 (hex) of a file of a ramdisk that is there exactly once, read in
 * 64 KiB steps; 1 when found, 0 when not, < 0 on a read error. */
static int ramdisk_sha384(eimg_nitro_report *r, struct rdctx *c, const struct eimg_eif_section *s, const char *path,
			  char hex[97], eimg_error *err)
{
	uint64_t off = 0, size = 0;
	uint8_t md[48], *buf = NULL;
	eimg_error ignored;
	if (eimg_cpio_locate(r->source, rd_at, c, s->size, path, &off, &size, &ignored) != EIMG_OK)
		return 0;
	eimg_hash *h = eimg_hash_new(EIMG_SHA384);
	int k = 1;
	if (!h || !(buf = malloc(64u << 10)))
		k = -eimg_err_nomem(err);
	for (uint64_t done = 0; k > 0 && done < size;) {
		size_t n = size - done < (64u << 10) ? (size_t)(size - done) : (64u << 10);
		if (rd_at(c, off + done, buf, n))
			k = -eimg_err_sys(err, r->source, "cannot read");
		else
			eimg_hash_update(h, buf, n);
		done += n;
	}
	if (k > 0) {
		eimg_hash_final(h, md);
		eimg_hex(md, 48, hex);
	}
	free(buf);
	eimg_hash_free(h);
	return k;
}

/* What init starts must be what the manifest says: cmd holds the
 * entrypoint, or the supervisor's argv when the manifest records a
 * supervisor (whose bytes must then be the recorded ones); env holds the
 * manifest's env; one item per line (enclave-build writes nothing else). */
static void check_launch(eimg_nitro_report *r, const char *cmd, size_t cmd_len, const char *env, size_t env_len,
			 const char *sup_hex)
{
	eimg_manifest *m = NULL;
	char *want_cmd = NULL, *want_env = NULL;
	size_t wc = 0, we = 0;
	/* A file there that is not a Nitro manifest is not ours: nothing to compare
	 * (for an image, the comparison with manifest.json catches it). */
	if (eimg_manifest_parse_buffer("manifest.json", r->manifest, r->manifest_len, NULL, &m, NULL) != EIMG_OK ||
	    m->target != EIMG_TARGET_NITRO)
		goto out;
	r->launch_match = 0;
	r->supervised = m->nitro.has_supervisor;
	if (!cmd || !env) {
		snprintf(r->launch_problem, sizeof(r->launch_problem), "the application ramdisk has no single '%s' file",
			 cmd ? "env" : "cmd");
		goto out;
	}
	if (eimg_nitro_cmd(m, &want_cmd, &wc, NULL) ||
	    eimg_nitro_lines(m->nitro.env, m->nitro.env_len, "env", &want_env, &we, NULL)) {
		snprintf(r->launch_problem, sizeof(r->launch_problem), "the manifest's entrypoint or env cannot be written");
		goto out;
	}
	if (wc != cmd_len || memcmp(want_cmd, cmd, wc) != 0)
		snprintf(r->launch_problem, sizeof(r->launch_problem), "the ramdisk's 'cmd' (what init starts) is not %s",
			 m->nitro.has_supervisor ? "the supervisor" : "the manifest's entrypoint");
	else if (we != env_len || memcmp(want_env, env, we) != 0)
		snprintf(r->launch_problem, sizeof(r->launch_problem),
			 "the ramdisk's 'env' is not the manifest's env%s", m->nitro.env_len ? "" : " (empty)");
	else if (m->nitro.has_supervisor && !sup_hex)
		snprintf(r->launch_problem, sizeof(r->launch_problem), "the application ramdisk has no single '/%s'",
			 EIMG_NITRO_SUPERVISOR_PATH + 7);
	else if (m->nitro.has_supervisor && strcmp(sup_hex, m->nitro.supervisor_sha384) != 0)
		snprintf(r->launch_problem, sizeof(r->launch_problem),
			 "the ramdisk's supervisor is not the one the manifest records (sha384 %.16s...)", sup_hex);
	else
		r->launch_match = 1;
out:
	free(want_cmd);
	free(want_env);
	eimg_manifest_free(m);
}

/* Copies the canonical manifest out of the application ramdisk, if there is
 * one (an EIF from another builder has none: not an error), and checks that
 * the launch files agree with it. */
static int find_manifest(eimg_nitro_report *r, const uint8_t *mem, int fd, const struct eimg_eif_section *s,
			 eimg_error *err)
{
	struct rdctx c = { mem, fd, r->layout.base + s->offset + EIMG_EIF_SECTION_HEADER_SIZE };
	char *cmd = NULL, *env = NULL;
	size_t cmd_len = 0, env_len = 0;
	int k = ramdisk_file(r, &c, s, EIMG_NITRO_MANIFEST_PATH, EIMG_MANIFEST_MAX_BYTES, &r->manifest, &r->manifest_len,
			     err);
	if (k <= 0)
		return -k;
	char sup[97];
	int ks = 0;
	if ((k = ramdisk_file(r, &c, s, "cmd", 1u << 20, &cmd, &cmd_len, err)) < 0 ||
	    (k = ramdisk_file(r, &c, s, "env", 1u << 20, &env, &env_len, err)) < 0 ||
	    (k = ks = ramdisk_sha384(r, &c, s, EIMG_NITRO_SUPERVISOR_PATH, sup, err)) < 0) {
		free(cmd);
		free(env);
		return -k;
	}
	check_launch(r, cmd, cmd_len, env, env_len, ks ? sup : NULL);
	free(cmd);
	free(env);
	return EIMG_OK;
}

/* The bytes of section s: in mem, or read from fd into *sec (to free;
 * source names the file in a message). */
static int section_bytes(const eimg_nitro_report *r, const char *source, const uint8_t *mem, int fd,
			 const struct eimg_eif_section *s, uint8_t **sec, const uint8_t **p, eimg_error *err)
{
	if (mem) {
		*p = mem + s->offset + EIMG_EIF_SECTION_HEADER_SIZE;
		return EIMG_OK;
	}
	int rc = read_section(fd, r->layout.base, source, s, sec, err);
	*p = *sec;
	return rc;
}

/* The metadata section (its values compared) and the signature section. */
static int audit_sections(eimg_nitro_report *r, const char *source, const uint8_t *mem, int fd, eimg_error *err)
{
	const eimg_eif_layout *l = &r->layout;
	const uint8_t *p = NULL;
	uint8_t *sec = NULL;
	int rc;
	if (l->metadata >= 0) {
		const struct eimg_eif_section *s = &l->sections[l->metadata];
		if ((rc = section_bytes(r, source, mem, fd, s, &sec, &p, err)))
			return rc;
		check_metadata(r, p, (size_t)s->size);
		free(sec);
		sec = NULL;
	}
	if (l->signature >= 0) {
		const struct eimg_eif_section *s = &l->sections[l->signature];
		r->is_signed = true;
		if ((rc = section_bytes(r, source, mem, fd, s, &sec, &p, err)))
			return rc;
		rc = check_signature(r, p, (size_t)s->size, err);
		free(sec);
		if (rc)
			return rc;
	}
	return EIMG_OK;
}

/* The manifest inside the application ramdisk (the last one), unless an
 * earlier ramdisk can redirect its path (the kernel unpacks them all into
 * one root, in file order). */
static int app_manifest(eimg_nitro_report *r, const uint8_t *mem, int fd, eimg_error *err)
{
	const eimg_eif_layout *l = &r->layout;
	const struct eimg_eif_section *s = NULL;
	bool redirected = false;
	if (l->nramdisks < 2)
		return EIMG_OK;
	for (unsigned i = 0; i < l->nsections; i++) {
		if (l->sections[i].type != EIMG_EIF_RAMDISK)
			continue;
		if (s && !redirected) {
			struct rdctx c = { mem, fd, l->base + s->offset + EIMG_EIF_SECTION_HEADER_SIZE };
			eimg_error ignored;
			redirected = eimg_cpio_check_way(r->source, rd_at, &c, s->size, EIMG_NITRO_MANIFEST_PATH,
							 &ignored) != EIMG_OK ||
				     eimg_cpio_check_way(r->source, rd_at, &c, s->size, "cmd", &ignored) != EIMG_OK ||
				     eimg_cpio_check_way(r->source, rd_at, &c, s->size, "env", &ignored) != EIMG_OK;
		}
		s = &l->sections[i];
	}
	return redirected ? EIMG_OK : find_manifest(r, mem, fd, s, err);
}

int eimg_nitro_audit_any(const char *source, const uint8_t *mem, size_t len, int fd, uint64_t base,
			 const struct eimg_nitro_audit_opts *o, eimg_nitro_report **out, struct eimg_nitro_digest *dg_out,
			 eimg_error *err)
{
	struct eimg_nitro_audit_opts dflt = { .now = 0 };
	struct full {
		eimg_nitro_report r;     /* first: free(r) frees both */
		struct eimg_nitro_json json;
	} *f = calloc(1, sizeof(*f));
	eimg_nitro_report *r = f ? &f->r : NULL;
	struct eimg_nitro_digest dg;
	int rc;

	if (!r)
		return eimg_err_nomem(err);
	r->json = &f->json;
	if (!o)
		o = &dflt;
	snprintf(r->source, sizeof(r->source), "%s", source);
	r->manifest_match = -1;
	r->launch_match = -1;
	r->now = o->now ? o->now : (int64_t)time(NULL);
	rc = mem ? eimg_eif_read_layout_buffer(source, mem, len, &r->layout, err)
		 : len ? eimg_eif_read_layout_range(source, fd, base, len, &r->layout, err)
		       : eimg_eif_read_layout_fd(source, fd, &r->layout, err);
	if (rc)
		goto out;
	rc = mem ? eimg_nitro_pcr_buffer_progress(source, mem, &r->layout, o->threads, o->progress, &dg, err)
		 : eimg_nitro_pcr_fd_progress(source, fd, &r->layout, o->threads, o->progress, o->copy_fd, o->copy_at, &dg,
					      err);
	if (rc)
		goto out;
	memcpy(r->pcr0, dg.pcr0, 48);
	memcpy(r->pcr1, dg.pcr1, 48);
	memcpy(r->pcr2, dg.pcr2, 48);
	r->crc_computed = dg.crc;
	r->body_crc = dg.body_crc;
	r->body_len = dg.body_len;
	r->crc_ok = dg.crc == r->layout.crc;

	if ((rc = audit_sections(r, source, mem, fd, err)) || (rc = app_manifest(r, mem, fd, err)))
		goto out;
	if (o->manifest_json)
		r->manifest_match = r->manifest && r->manifest_len == o->manifest_len &&
				    memcmp(r->manifest, o->manifest_json, o->manifest_len) == 0;
	*out = r;
	r = NULL;
	if (dg_out)
		*dg_out = dg;
	rc = EIMG_OK;
out:
	eimg_nitro_report_free(r);
	return rc;
}

int eimg_nitro_audit_buffer(const char *source, const uint8_t *eif, size_t len,
			    const struct eimg_nitro_audit_opts *opts, eimg_nitro_report **out, eimg_error *err)
{
	return eimg_nitro_audit_any(source ? source : "EIF", eif ? eif : (const uint8_t *)"", eif ? len : 0, -1, 0, opts,
				    out, NULL, err);
}

int eimg_nitro_audit_file(const char *path, const struct eimg_nitro_audit_opts *opts,
			  eimg_nitro_report **out, eimg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return eimg_err_sys(err, path, "cannot open");
	eimg_input_note_fd(fd, path);
	int rc = eimg_nitro_audit_any(path, NULL, 0, fd, 0, opts, out, NULL, err);
	close(fd);
	return rc;
}

int eimg_nitro_audit_range(const char *source, int fd, uint64_t base, uint64_t size,
			   const struct eimg_nitro_audit_opts *opts, eimg_nitro_report **out, eimg_error *err)
{
	if (size == 0)
		return eimg_err(err, EIMG_EINVAL, source, "truncated: 0 bytes, an EIF header needs %u", EIMG_EIF_HEADER_SIZE);
	return eimg_nitro_audit_any(source ? source : "EIF", NULL, (size_t)size, fd, base, opts, out, NULL, err);
}

int eimg_nitro_report_verdict(const eimg_nitro_report *r, eimg_error *err)
{
	if (!r->crc_ok)
		return eimg_err(err, EIMG_EINVAL, r->source, "CRC mismatch: the header says 0x%08x, the content gives 0x%08x",
				r->layout.crc, r->crc_computed);
	if (r->is_signed && !r->signature_ok)
		return eimg_err(err, EIMG_EVERIFY, r->source, "signature check failed: %s", r->signature_problem);
	if (r->manifest_match == 0)
		return eimg_err(err, EIMG_EVERIFY, r->source,
				"the manifest inside the application ramdisk differs from the image's manifest.json");
	if (r->launch_match == 0)
		return eimg_err(err, EIMG_EVERIFY, r->source, "%s", r->launch_problem);
	return EIMG_OK;
}

static const uint8_t *pcr_of(const eimg_nitro_report *r, unsigned i)
{
	switch (i) {
	case 0: return r->pcr0;
	case 1: return r->pcr1;
	case 2: return r->pcr2;
	case 8: return r->is_signed ? r->pcr8 : NULL;
	default: return NULL;
	}
}

void eimg_nitro_report_identity(const eimg_nitro_report *r, struct eimg_identity *id)
{
	memset(id, 0, sizeof(*id));
	id->mode = EIMG_ID_HARDWARE;
	id->security = EIMG_SEC_STALE;
	id->no_sigstruct = true;
	for (unsigned i = 0; i < EIMG_NPCR; i++) {
		const uint8_t *p = pcr_of(r, i);
		if (p) {
			memcpy(id->pcr[i], p, 48);
			id->pcr_mask |= (uint16_t)(1u << i);
		}
	}
}
