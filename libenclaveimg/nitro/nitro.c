/* SPDX-License-Identifier: Apache-2.0 */
/* Nitro target, high level: build an EIF from a manifest, audit any EIF,
 * render reports, sign (directly or detached). */
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
#include "sgx/sigstruct_int.h"

/* ---------------------------------------------------------------- build */

/* KernelVersion from a kernel .config: "# Linux/x86 6.1.0 Kernel Configuration". */
static void kernel_version(const char *config, char *out, size_t size, eimg_error *err, int *rc)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	snprintf(out, size, "unknown");
	if (!config)
		return;
	*rc = eimg_read_file(config, EIMG_NITRO_MAX_CONFIG, &buf, &len, err);
	if (*rc)
		return;
	const char *p = (const char *)buf;
	while (p && *p) {
		char ver[64];
		if (sscanf(p, "# Linux/%*s %63s Kernel Configuration", ver) == 1) {
			eimg_escape(ver, strlen(ver), out, size);
			break;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	free(buf);
}

static int make_metadata(const eimg_manifest *m, const struct eimg_nitro_build_opts *o, const char *kver,
			 char **out, size_t *len, eimg_error *err)
{
	char when[32];
	time_t t = (time_t)o->epoch;
	struct tm tm;
	if (!gmtime_r(&t, &tm) || strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return eimg_err(err, EIMG_EINVAL, NULL, "build time %llu cannot be represented",
				(unsigned long long)o->epoch);
	const char *name = o->image_name ? o->image_name : (m->name ? m->name : "enclave");
	const char *version = o->image_version ? o->image_version : "1.0";
	json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:{}, s:{}}", "ImageName", name, "ImageVersion",
			      version, "BuildMetadata", "BuildTime", when, "BuildTool", "enclave-build",
			      "BuildToolVersion", EIMG_VERSION, "OperatingSystem", "Linux", "KernelVersion", kver,
			      "DockerInfo", "CustomMetadata");
	if (!j)
		return eimg_err(err, EIMG_EINVAL, NULL, "metadata: image name and version must be UTF-8");
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	if (!s)
		return eimg_err_nomem(err);
	*out = s;
	*len = strlen(s);
	return EIMG_OK;
}

static bool is_tar_path(const char *p)
{
	size_t n = strlen(p);
	return (n > 4 && strcmp(p + n - 4, ".tar") == 0) || (n > 7 && strcmp(p + n - 7, ".tar.gz") == 0) ||
	       (n > 4 && strcmp(p + n - 4, ".tgz") == 0);
}

/* The boot-strap ramdisk: the given one when init is already a newc cpio
 * archive, else init (0755) and the folders the reference builder creates. */
static int make_bootstrap(const char *init, uint64_t epoch, uint8_t **out, size_t *len, eimg_error *err)
{
	static const char *const dirs[] = { "dev", "proc", "run", "sys", "tmp", "var" };
	uint8_t *bin = NULL;
	size_t blen = 0;
	eimg_cpio *c = NULL;
	int rc = eimg_read_file(init, EIMG_NITRO_MAX_INIT, &bin, &blen, err);
	if (rc)
		return rc;
	if (blen >= 6 && memcmp(bin, "070701", 6) == 0) {
		*out = bin;
		*len = blen;
		return EIMG_OK;
	}
	c = eimg_cpio_new();
	if (!c) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !rc; i++)
		rc = eimg_cpio_add_dir(c, dirs[i], err);
	if (!rc)
		rc = eimg_cpio_add_file(c, "init", 0755, bin, blen, err);
	if (!rc)
		rc = eimg_cpio_write(c, epoch, out, len, err);
out:
	if (rc && err)
		eimg_err_context(err, init, "boot-strap ramdisk");
	eimg_cpio_free(c);
	free(bin);
	return rc;
}

static int make_app(const eimg_manifest *m, const char *canon, size_t clen, uint64_t epoch, uint8_t **out,
		    size_t *len, eimg_error *err)
{
	const struct eimg_manifest_nitro *n = &m->nitro;
	eimg_cpio *c = eimg_cpio_new();
	char *cmd = NULL;
	size_t cmdlen = 0;
	int rc;
	struct stat st;

	if (!c)
		return eimg_err_nomem(err);
	if (!n->app) {
		rc = eimg_err(err, EIMG_EINVAL, m->source, "nitro.app: missing");
		goto out;
	}
	if (stat(n->app, &st) < 0) {
		rc = eimg_err_sys(err, n->app, "cannot open application");
		goto out;
	}
	if (S_ISDIR(st.st_mode))
		rc = eimg_cpio_add_tree(c, "rootfs", n->app, err);
	else if (S_ISREG(st.st_mode) && is_tar_path(n->app))
		rc = eimg_cpio_add_tar(c, "rootfs", n->app, err);
	else
		rc = eimg_err(err, EIMG_EINVAL, n->app, "application: expected a folder or a .tar/.tar.gz/.tgz archive");
	if (rc)
		goto out;
	/* Mount points the boot-strap init uses inside the application root,
	 * unless the application has these paths itself. */
	static const char *const mnt[] = { "rootfs/dev", "rootfs/proc", "rootfs/run", "rootfs/sys", "rootfs/tmp" };
	for (size_t i = 0; i < sizeof(mnt) / sizeof(mnt[0]) && !rc; i++)
		if (!eimg_cpio_has(c, mnt[i]))
			rc = eimg_cpio_add_dir(c, mnt[i], err);
	if (rc)
		goto out;
	if (eimg_cpio_has(c, EIMG_NITRO_MANIFEST_PATH)) {
		rc = eimg_err(err, EIMG_EINVAL, n->app, "the application contains %s, a path reserved for the manifest",
			      EIMG_NITRO_MANIFEST_PATH + 7);
		goto out;
	}
	rc = eimg_cpio_add_file(c, EIMG_NITRO_MANIFEST_PATH, 0644, (const uint8_t *)canon, clen, err);
	if (rc)
		goto out;
	if (!n->entrypoint || n->entrypoint_len == 0) {
		rc = eimg_err(err, EIMG_EINVAL, m->source, "nitro.entrypoint: missing");
		goto out;
	}
	for (size_t i = 0; i < n->entrypoint_len; i++) {
		if (strchr(n->entrypoint[i], '\n')) {
			rc = eimg_err(err, EIMG_EINVAL, m->source, "nitro.entrypoint[%zu]: contains a newline", i);
			goto out;
		}
		cmdlen += strlen(n->entrypoint[i]) + 1;
	}
	cmd = malloc(cmdlen + 1);
	if (!cmd) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	cmd[0] = '\0';
	for (size_t i = 0, o = 0; i < n->entrypoint_len; i++) {
		size_t k = strlen(n->entrypoint[i]);
		memcpy(cmd + o, n->entrypoint[i], k);
		cmd[o + k] = '\n';
		o += k + 1;
	}
	rc = eimg_cpio_add_file(c, "cmd", 0644, (const uint8_t *)cmd, cmdlen, err);
	if (!rc)
		rc = eimg_cpio_add_file(c, "env", 0644, (const uint8_t *)"", 0, err);
	if (!rc)
		rc = eimg_cpio_write(c, epoch, out, len, err);
out:
	free(cmd);
	eimg_cpio_free(c);
	return rc;
}

int eimg_nitro_build(const eimg_manifest *m, const char *canonical, size_t canonical_len,
		     const struct eimg_nitro_build_opts *opts, uint8_t **eif, size_t *eif_len,
		     eimg_nitro_report **rep, eimg_error *err)
{
	const struct eimg_manifest_nitro *n = &m->nitro;
	struct eimg_nitro_build_opts dflt = { 0, NULL, NULL };
	uint8_t *kernel = NULL, *rd0 = NULL, *rd1 = NULL, *out = NULL;
	size_t klen = 0, rd0len = 0, rd1len = 0, outlen = 0, mlen = 0;
	char *meta = NULL, kver[64];
	eimg_nitro_report *r = NULL;
	int rc = EIMG_OK;

	if (!opts)
		opts = &dflt;
	if (m->target != EIMG_TARGET_NITRO)
		return eimg_err(err, EIMG_EUSAGE, m->source, "not a nitro manifest");
	if (!n->kernel || !n->init || !n->cmdline)
		return eimg_err(err, EIMG_EINVAL, m->source, "nitro: kernel, init and cmdline are required");
	if (strlen(n->cmdline) > EIMG_EIF_MAX_CMDLINE)
		return eimg_err(err, EIMG_EINVAL, m->source, "nitro.cmdline: above %u bytes", EIMG_EIF_MAX_CMDLINE);
	kernel_version(n->kernel_config, kver, sizeof(kver), err, &rc);
	if (rc)
		return rc;
	rc = eimg_read_file(n->kernel, EIMG_NITRO_MAX_KERNEL, &kernel, &klen, err);
	if (rc)
		goto out;
	if (klen == 0) {
		rc = eimg_err(err, EIMG_EINVAL, n->kernel, "empty kernel image");
		goto out;
	}
	rc = make_bootstrap(n->init, opts->epoch, &rd0, &rd0len, err);
	if (rc)
		goto out;
	rc = make_app(m, canonical, canonical_len, opts->epoch, &rd1, &rd1len, err);
	if (rc)
		goto out;
	rc = make_metadata(m, opts, kver, &meta, &mlen, err);
	if (rc)
		goto out;
	/* An arm64 Linux Image carries "ARM\x64" at offset 0x38. */
	uint16_t flags = (klen >= 0x3c && memcmp(kernel + 0x38, "ARM\x64", 4) == 0) ? EIMG_EIF_FLAG_AARCH64 : 0;
	struct eimg_eif_part parts[5] = {
		{ EIMG_EIF_KERNEL, kernel, klen },
		{ EIMG_EIF_CMDLINE, (const uint8_t *)n->cmdline, strlen(n->cmdline) },
		{ EIMG_EIF_METADATA, (const uint8_t *)meta, mlen },
		{ EIMG_EIF_RAMDISK, rd0, rd0len },
		{ EIMG_EIF_RAMDISK, rd1, rd1len },
	};
	uint64_t mem;
	if (eimg_mul_overflow(n->memory_mib, 1ull << 20, &mem)) {
		rc = eimg_err(err, EIMG_EINVAL, m->source, "nitro.memory: too large");
		goto out;
	}
	struct eimg_eif_write_opts wo = { flags, mem, n->cpus };
	rc = eimg_eif_write_buffer(&wo, parts, 5, &out, &outlen, err);
	if (rc)
		goto out;
	if (rep) {
		struct eimg_nitro_audit_opts ao = { 0, 0, canonical, canonical_len };
		rc = eimg_nitro_audit_buffer("EIF", out, outlen, &ao, &r, err);
		if (rc)
			goto out;
	}
	*eif = out;
	*eif_len = outlen;
	out = NULL;
	if (rep)
		*rep = r;
	r = NULL;
out:
	eimg_nitro_report_free(r);
	free(out);
	free(kernel);
	free(rd0);
	free(rd1);
	free(meta);
	return rc;
}

/* ---------------------------------------------------------------- audit */

void eimg_nitro_report_free(eimg_nitro_report *r)
{
	if (!r)
		return;
	json_decref(r->cert_json);
	json_decref(r->metadata);
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

static void fmt_time(int64_t t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm) || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
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
	fmt_time(xi.not_before, nb, sizeof(nb));
	fmt_time(xi.not_after, na, sizeof(na));
	json_t *iss = eimg_x509_name_json(x, true), *sub = eimg_x509_name_json(x, false);
	r->cert_json = json_pack("{s:o?, s:o?, s:s, s:s, s:s, s:s, s:s}", "IssuerName", iss, "SubjectName", sub,
				 "Algorithm", xi.sig_alg, "KeyAlgorithm", xi.key_alg, "SerialNumber", xi.serial,
				 "NotBefore", nb, "NotAfter", na);
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
		fmt_time(r->now, now, sizeof(now));
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
	r->metadata = j;
	const char *v = json_string_value(json_object_get(j, "ImageName"));
	if (v)
		eimg_escape(v, strlen(v), r->image_name, sizeof(r->image_name));
	v = json_string_value(json_object_get(j, "ImageVersion"));
	if (v)
		eimg_escape(v, strlen(v), r->image_version, sizeof(r->image_version));
}

/* Reads a small section (cmdline, metadata, signature) of a file. */
static int read_section(int fd, const char *name, const struct eimg_eif_section *s, uint8_t **out, eimg_error *err)
{
	size_t n = (size_t)s->size, got = 0;
	uint8_t *b = malloc(n + 1);
	if (!b)
		return eimg_err_nomem(err);
	while (got < n) {
		ssize_t k = pread(fd, b + got, n - got, (off_t)(s->offset + EIMG_EIF_SECTION_HEADER_SIZE + got));
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

/* The manifest's entrypoint must be what init starts: cmd holds it, one
 * argument per line, and env is empty (enclave-build writes nothing else). */
static void check_launch(eimg_nitro_report *r, const char *cmd, size_t cmd_len, const char *env, size_t env_len)
{
	eimg_manifest *m = NULL;
	/* A file there that is not a Nitro manifest is not ours: nothing to compare
	 * (for an image, the comparison with manifest.json catches it). */
	if (eimg_manifest_parse_buffer("manifest.json", r->manifest, r->manifest_len, NULL, &m, NULL) != EIMG_OK ||
	    m->target != EIMG_TARGET_NITRO)
		goto out;
	r->launch_match = 0;
	if (!cmd) {
		snprintf(r->launch_problem, sizeof(r->launch_problem), "the application ramdisk has no single 'cmd' file");
		goto out;
	}
	size_t want = 0;
	for (size_t i = 0; i < m->nitro.entrypoint_len; i++)
		want += strlen(m->nitro.entrypoint[i]) + 1;
	bool same = want == cmd_len;
	for (size_t i = 0, o = 0; same && i < m->nitro.entrypoint_len; i++) {
		size_t k = strlen(m->nitro.entrypoint[i]);
		same = memcmp(cmd + o, m->nitro.entrypoint[i], k) == 0 && cmd[o + k] == '\n';
		o += k + 1;
	}
	if (!same) {
		snprintf(r->launch_problem, sizeof(r->launch_problem),
			 "the ramdisk's 'cmd' (what init starts) is not the manifest's entrypoint");
		goto out;
	}
	if (!env || env_len != 0) {
		snprintf(r->launch_problem, sizeof(r->launch_problem),
			 env ? "the ramdisk's 'env' is not empty (the manifest sets no environment)"
			     : "the application ramdisk has no single 'env' file");
		goto out;
	}
	r->launch_match = 1;
out:
	eimg_manifest_free(m);
}

/* Copies the canonical manifest out of the application ramdisk, if there is
 * one (an EIF from another builder has none: not an error), and checks that
 * the launch files agree with it. */
static int find_manifest(eimg_nitro_report *r, const uint8_t *mem, int fd, const struct eimg_eif_section *s,
			 eimg_error *err)
{
	struct rdctx c = { mem, fd, s->offset + EIMG_EIF_SECTION_HEADER_SIZE };
	char *cmd = NULL, *env = NULL;
	size_t cmd_len = 0, env_len = 0;
	int k = ramdisk_file(r, &c, s, EIMG_NITRO_MANIFEST_PATH, EIMG_MANIFEST_MAX_BYTES, &r->manifest, &r->manifest_len,
			     err);
	if (k <= 0)
		return -k;
	if ((k = ramdisk_file(r, &c, s, "cmd", 1u << 20, &cmd, &cmd_len, err)) < 0 ||
	    (k = ramdisk_file(r, &c, s, "env", 1u << 20, &env, &env_len, err)) < 0) {
		free(cmd);
		return -k;
	}
	check_launch(r, cmd, cmd_len, env, env_len);
	free(cmd);
	free(env);
	return EIMG_OK;
}

static int audit(const char *source, const uint8_t *mem, size_t len, int fd, const struct eimg_nitro_audit_opts *o,
		 eimg_nitro_report **out, struct eimg_nitro_digest *dg_out, eimg_error *err)
{
	struct eimg_nitro_audit_opts dflt = { 0, 0, NULL, 0 };
	eimg_nitro_report *r = calloc(1, sizeof(*r));
	struct eimg_nitro_digest dg;
	uint8_t *sec = NULL;
	int rc;

	if (!r)
		return eimg_err_nomem(err);
	if (!o)
		o = &dflt;
	snprintf(r->source, sizeof(r->source), "%s", source);
	r->manifest_match = -1;
	r->launch_match = -1;
	r->now = o->now ? o->now : (int64_t)time(NULL);
	rc = mem ? eimg_eif_read_layout_buffer(source, mem, len, &r->layout, err)
		 : eimg_eif_read_layout_fd(source, fd, &r->layout, err);
	if (rc)
		goto out;
	rc = mem ? eimg_nitro_pcr_buffer(source, mem, &r->layout, o->threads, &dg, err)
		 : eimg_nitro_pcr_fd(source, fd, &r->layout, o->threads, &dg, err);
	if (rc)
		goto out;
	memcpy(r->pcr0, dg.pcr0, 48);
	memcpy(r->pcr1, dg.pcr1, 48);
	memcpy(r->pcr2, dg.pcr2, 48);
	r->crc_computed = dg.crc;
	r->crc_ok = dg.crc == r->layout.crc;

	const eimg_eif_layout *l = &r->layout;
	if (l->metadata >= 0) {
		const struct eimg_eif_section *s = &l->sections[l->metadata];
		if (mem) {
			check_metadata(r, mem + s->offset + EIMG_EIF_SECTION_HEADER_SIZE, (size_t)s->size);
		} else {
			rc = read_section(fd, source, s, &sec, err);
			if (rc)
				goto out;
			check_metadata(r, sec, (size_t)s->size);
			free(sec);
			sec = NULL;
		}
	}
	if (l->signature >= 0) {
		const struct eimg_eif_section *s = &l->sections[l->signature];
		const uint8_t *p;
		r->is_signed = true;
		if (mem) {
			p = mem + s->offset + EIMG_EIF_SECTION_HEADER_SIZE;
		} else {
			rc = read_section(fd, source, s, &sec, err);
			if (rc)
				goto out;
			p = sec;
		}
		rc = check_signature(r, p, (size_t)s->size, err);
		if (rc)
			goto out;
	}
	/* The manifest inside the application ramdisk (the last one), unless
	 * an earlier ramdisk can redirect its path (the kernel unpacks them
	 * all into one root, in file order). */
	if (l->nramdisks >= 2) {
		const struct eimg_eif_section *s = NULL;
		bool redirected = false;
		for (unsigned i = 0; i < l->nsections; i++) {
			if (l->sections[i].type != EIMG_EIF_RAMDISK)
				continue;
			if (s && !redirected) {
				struct rdctx c = { mem, fd, s->offset + EIMG_EIF_SECTION_HEADER_SIZE };
				eimg_error ignored;
				redirected = eimg_cpio_check_way(r->source, rd_at, &c, s->size, EIMG_NITRO_MANIFEST_PATH,
								 &ignored) != EIMG_OK ||
					     eimg_cpio_check_way(r->source, rd_at, &c, s->size, "cmd", &ignored) != EIMG_OK ||
					     eimg_cpio_check_way(r->source, rd_at, &c, s->size, "env", &ignored) != EIMG_OK;
			}
			s = &l->sections[i];
		}
		if (!redirected)
			rc = find_manifest(r, mem, fd, s, err);
		if (rc)
			goto out;
	}
	if (o->manifest_json)
		r->manifest_match = r->manifest && r->manifest_len == o->manifest_len &&
				    memcmp(r->manifest, o->manifest_json, o->manifest_len) == 0;
	*out = r;
	r = NULL;
	if (dg_out)
		*dg_out = dg;
	rc = EIMG_OK;
out:
	free(sec);
	eimg_nitro_report_free(r);
	return rc;
}

int eimg_nitro_audit_buffer(const char *source, const uint8_t *eif, size_t len,
			    const struct eimg_nitro_audit_opts *opts, eimg_nitro_report **out, eimg_error *err)
{
	return audit(source ? source : "EIF", eif ? eif : (const uint8_t *)"", eif ? len : 0, -1, opts, out, NULL, err);
}

int eimg_nitro_audit_file(const char *path, const struct eimg_nitro_audit_opts *opts,
			  eimg_nitro_report **out, eimg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return eimg_err_sys(err, path, "cannot open");
	int rc = audit(path, NULL, 0, fd, opts, out, NULL, err);
	close(fd);
	return rc;
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

/* ---------------------------------------------------------------- reports */

json_t *eimg_nitro_report_json_t(const eimg_nitro_report *r)
{
	char h[97];
	json_t *j = json_object(), *m = json_object(), *secs = json_array();
	if (!j || !m || !secs)
		goto fail;
	json_object_set_new(m, "HashAlgorithm", json_string("Sha384 { ... }"));
	json_object_set_new(m, "PCR0", json_string(eimg_hex(r->pcr0, 48, h)));
	json_object_set_new(m, "PCR1", json_string(eimg_hex(r->pcr1, 48, h)));
	json_object_set_new(m, "PCR2", json_string(eimg_hex(r->pcr2, 48, h)));
	if (r->is_signed)
		json_object_set_new(m, "PCR8", json_string(eimg_hex(r->pcr8, 48, h)));
	json_object_set_new(j, "EifVersion", json_integer(r->layout.version));
	json_object_set_new(j, "Measurements", m);
	m = NULL;
	json_object_set_new(j, "IsSigned", json_boolean(r->is_signed));
	if (r->is_signed) {
		json_object_set(j, "SigningCertificate", r->cert_json ? r->cert_json : json_null());
		json_object_set_new(j, "SignatureAlgorithm", json_string(eimg_cose_alg_name(r->cose_alg)));
	}
	json_object_set_new(j, "CheckCRC", json_boolean(r->crc_ok));
	snprintf(h, sizeof(h), "0x%08x", r->crc_computed);
	json_object_set_new(j, "CRC", json_string(h));
	if (r->is_signed) {
		json_object_set_new(j, "SignatureCheck", json_boolean(r->signature_ok));
		if (!r->signature_ok)
			json_object_set_new(j, "SignatureProblem", json_string(r->signature_problem));
	}
	json_object_set_new(j, "ImageName", json_string(r->image_name));
	json_object_set_new(j, "ImageVersion", json_string(r->image_version));
	json_object_set(j, "Metadata", r->metadata ? r->metadata : json_null());
	json_object_set_new(j, "Architecture",
			    json_string(r->layout.flags & EIMG_EIF_FLAG_AARCH64 ? "aarch64" : "x86_64"));
	json_object_set_new(j, "DefaultMemory", json_integer((json_int_t)r->layout.default_mem));
	json_object_set_new(j, "DefaultCpus", json_integer((json_int_t)r->layout.default_cpus));
	for (unsigned i = 0; i < r->layout.nsections; i++) {
		const struct eimg_eif_section *s = &r->layout.sections[i];
		json_array_append_new(secs, json_pack("{s:s, s:I, s:I}", "Type", eimg_eif_section_name(s->type), "Offset",
						      (json_int_t)s->offset, "Size", (json_int_t)s->size));
	}
	json_object_set_new(j, "Sections", secs);
	secs = NULL;
	if (r->manifest) {
		json_t *mj = json_loadb(r->manifest, r->manifest_len, JSON_REJECT_DUPLICATES, NULL);
		json_object_set_new(j, "Manifest", mj ? mj : json_string("(not JSON)"));
	}
	if (r->manifest_match >= 0)
		json_object_set_new(j, "ManifestCheck", json_boolean(r->manifest_match == 1));
	if (r->launch_match >= 0)
		json_object_set_new(j, "LaunchCheck", json_boolean(r->launch_match == 1));
	return j;
fail:
	json_decref(j);
	json_decref(m);
	json_decref(secs);
	return NULL;
}

int eimg_nitro_report_json(const eimg_nitro_report *r, char **out, eimg_error *err)
{
	json_t *j = eimg_nitro_report_json_t(r);
	if (!j)
		return eimg_err_nomem(err);
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if (!s)
		return eimg_err_nomem(err);
	size_t n = strlen(s);
	char *t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return eimg_err_nomem(err);
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	*out = t;
	return EIMG_OK;
}

/* "a b c" from a JSON array of strings or integers, escaped. */
static void join(const json_t *a, char *out, size_t size)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < json_array_size(a) && o + 1 < size; i++) {
		const json_t *v = json_array_get(a, i);
		char t[256], e[512];
		if (json_is_string(v))
			snprintf(t, sizeof(t), "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(t, sizeof(t), "%lld", (long long)json_integer_value(v));
		else
			snprintf(t, sizeof(t), "?");
		eimg_escape(t, strlen(t), e, sizeof(e));
		int k = snprintf(out + o, size - o, "%s%s", i ? " " : "", e);
		if (k < 0)
			break;
		o += (size_t)k;
	}
	if (o >= size)
		out[size - 1] = '\0';
}

/* The measured policy from the embedded manifest: what auditors look for. */
static void policy_text(struct eimg_sb *s, const char *m, size_t len)
{
	json_t *j = json_loadb(m, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *n = json_object_get(j, "nitro");
	char buf[1024];
	if (json_is_object(n)) {
		join(json_object_get(n, "entrypoint"), buf, sizeof(buf));
		eimg_sb_printf(s, "  Entrypoint: %s\n", buf);
		join(json_object_get(n, "ingress"), buf, sizeof(buf));
		eimg_sb_printf(s, "  Ingress: %s\n", buf[0] ? buf : "(none)");
		join(json_object_get(json_object_get(n, "egress"), "allow"), buf, sizeof(buf));
		eimg_sb_printf(s, "  EgressAllow: %s\n", buf[0] ? buf : "(none)");
		join(json_object_get(json_object_get(n, "egress"), "deny"), buf, sizeof(buf));
		eimg_sb_printf(s, "  EgressDeny: %s\n", buf[0] ? buf : "(none)");
	}
	json_decref(j);
}

int eimg_nitro_report_text(const eimg_nitro_report *r, char **out, eimg_error *err)
{
	struct eimg_sb s = { 0 };
	char h[97];
	const eimg_eif_layout *l = &r->layout;

	eimg_sb_printf(&s, "EifVersion: %u\n", l->version);
	eimg_sb_printf(&s, "Architecture: %s\n", l->flags & EIMG_EIF_FLAG_AARCH64 ? "aarch64" : "x86_64");
	eimg_sb_printf(&s, "DefaultMemory: %llu MiB\nDefaultCpus: %llu\n", (unsigned long long)(l->default_mem >> 20),
	       (unsigned long long)l->default_cpus);
	eimg_sb_printf(&s, "Sections:");
	for (unsigned i = 0; i < l->nsections; i++)
		eimg_sb_printf(&s, "%s %s %llu", i ? "," : "", eimg_eif_section_name(l->sections[i].type),
		       (unsigned long long)l->sections[i].size);
	eimg_sb_printf(&s, "\nHashAlgorithm: Sha384 { ... }\n");
	eimg_sb_printf(&s, "PCR0: %s\n", eimg_hex(r->pcr0, 48, h));
	eimg_sb_printf(&s, "PCR1: %s\n", eimg_hex(r->pcr1, 48, h));
	eimg_sb_printf(&s, "PCR2: %s\n", eimg_hex(r->pcr2, 48, h));
	if (r->is_signed)
		eimg_sb_printf(&s, "PCR8: %s\n", eimg_hex(r->pcr8, 48, h));
	if (r->crc_ok)
		eimg_sb_printf(&s, "CheckCRC: ok (0x%08x)\n", r->crc_computed);
	else
		eimg_sb_printf(&s, "CheckCRC: MISMATCH (header 0x%08x, content 0x%08x)\n", l->crc, r->crc_computed);
	eimg_sb_printf(&s, "IsSigned: %s\n", r->is_signed ? "yes" : "no");
	if (r->is_signed) {
		char nb[40], na[40];
		fmt_time(r->cert_not_before, nb, sizeof(nb));
		fmt_time(r->cert_not_after, na, sizeof(na));
		eimg_sb_printf(&s, "SigningCertificate: subject \"%s\"\n", r->cert_subject);
		eimg_sb_printf(&s, "  IssuerName: %s\n  Algorithm: %s\n  Key: %s\n  Serial: %s\n  NotBefore: %s\n  NotAfter: %s\n",
		       r->cert_issuer, r->cert_sig_alg, r->cert_key, r->cert_serial, nb, na);
		eimg_sb_printf(&s, "SignatureAlgorithm: %s\n", eimg_cose_alg_name(r->cose_alg));
		if (r->signature_ok)
			eimg_sb_printf(&s, "SignatureCheck: ok\n");
		else
			eimg_sb_printf(&s, "SignatureCheck: FAILED: %s\n", r->signature_problem);
	}
	if (l->metadata >= 0) {
		eimg_sb_printf(&s, "ImageName: %s\nImageVersion: %s\n", r->image_name, r->image_version);
		if (r->metadata) {
			json_t *bm = json_object_get(r->metadata, "BuildMetadata");
			const char *keys[] = { "BuildTime", "BuildTool", "BuildToolVersion", "OperatingSystem", "KernelVersion" };
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
				const char *v = json_string_value(json_object_get(bm, keys[i]));
				char esc[256];
				if (v)
					eimg_sb_printf(&s, "%s: %s\n", keys[i], eimg_escape(v, strlen(v), esc, sizeof(esc)));
			}
		} else {
			eimg_sb_printf(&s, "Metadata: %s\n", r->metadata_problem);
		}
	}
	if (r->manifest)
		eimg_sb_printf(&s, "Manifest: %s (%zu bytes)%s\n", EIMG_NITRO_MANIFEST_PATH, r->manifest_len,
		       r->manifest_match == 1 ? ", equal to manifest.json" : r->manifest_match == 0 ? ", DIFFERS from manifest.json" : "");
	if (r->manifest)
		policy_text(&s, r->manifest, r->manifest_len);
	if (r->launch_match == 1)
		eimg_sb_printf(&s, "LaunchCheck: ok (cmd is the entrypoint, env is empty)\n");
	else if (r->launch_match == 0)
		eimg_sb_printf(&s, "LaunchCheck: FAILED: %s\n", r->launch_problem);
	char *text = eimg_sb_done(&s);
	if (!text)
		return eimg_err_nomem(err);
	*out = text;
	return EIMG_OK;
}

/* ---------------------------------------------------------------- signing */

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
	eimg_nitro_report *r;
	struct eimg_nitro_digest dg;
};

static int open_target(struct target *t, eimg_error *err)
{
	struct eimg_nitro_audit_opts ao = { 1, 0, NULL, 0 }; /* certificate times do not matter here */
	int rc = audit(t->source, t->mem, t->len, t->fd, &ao, &t->r, &t->dg, err);
	if (rc)
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
	unsigned keep = l->signature >= 0 ? l->nsections - 1 : l->nsections;
	uint64_t base = l->signature >= 0 ? l->sections[l->signature].offset : l->file_size;
	uint8_t hdr[EIMG_EIF_HEADER_SIZE], sh[EIMG_EIF_SECTION_HEADER_SIZE];
	struct eimg_outfile o;
	uint8_t *buf = NULL;
	int rc;

	if (t->dg.body_len != base - EIMG_EIF_HEADER_SIZE)
		return eimg_err(err, EIMG_EINTERNAL, t->source, "signing: inconsistent body length");
	if (pread(t->fd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr))
		return eimg_err_sys(err, t->source, "cannot read");
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
	crc = eimg_crc32_combine(crc, t->dg.body_crc, t->dg.body_len);
	crc = eimg_crc32(crc, sh, sizeof(sh));
	crc = eimg_crc32(crc, sec, seclen);
	eimg_be32(hdr + EIMG_EIF_CRC_OFFSET, crc);

	rc = eimg_outfile_open(&o, out_path, err);
	if (rc)
		return rc;
	buf = malloc(1u << 20);
	if (!buf) {
		rc = eimg_err_nomem(err);
		goto fail;
	}
	rc = eimg_outfile_write(&o, hdr, sizeof(hdr), err);
	uint32_t check = 0;
	for (uint64_t off = EIMG_EIF_HEADER_SIZE; rc == EIMG_OK && off < base;) {
		size_t n = base - off > (1u << 20) ? (1u << 20) : (size_t)(base - off);
		ssize_t k = pread(t->fd, buf, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			rc = k < 0 ? eimg_err_sys(err, t->source, "cannot read")
				   : eimg_err(err, EIMG_EINVAL, t->source, "file shrank while being signed");
			break;
		}
		check = eimg_crc32(check, buf, (size_t)k);
		rc = eimg_outfile_write(&o, buf, (size_t)k, err);
		off += (uint64_t)k;
	}
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

static int do_export(struct target *t, const char *cert_path, uint8_t **tbs, size_t *tbs_len, eimg_error *err)
{
	eimg_x509 *x = NULL;
	struct eimg_x509_info xi;
	uint8_t *prot = NULL, *payload = NULL;
	size_t plen = 0, paylen = 0;
	int alg = 0;
	int rc = load_cert(cert_path, &x, &xi, &alg, err);
	if (!rc)
		rc = open_target(t, err);
	if (!rc)
		rc = tbs_for(t->r, alg, &prot, &plen, &payload, &paylen, tbs, tbs_len, err);
	eimg_x509_free(x);
	free(prot);
	free(payload);
	return rc;
}

static int do_attach(struct target *t, const char *cert_path, const uint8_t *sig, size_t sig_len,
		     eimg_nitro_signer_fn fn, void *ctx, int64_t at, const char *out_path, uint8_t **out,
		     size_t *out_len, eimg_error *err)
{
	eimg_x509 *x = NULL;
	struct eimg_x509_info xi;
	uint8_t *prot = NULL, *payload = NULL, *tbs = NULL, *sec = NULL, rs[132], made[512];
	size_t plen = 0, paylen = 0, tbslen = 0, seclen = 0;
	int alg = 0;
	int rc = load_cert(cert_path, &x, &xi, &alg, err);
	if (rc)
		return rc;
	/* As one-step signing with a key file: never make a signature that a
	 * careful verifier refuses today. */
	int64_t now = at ? at : (int64_t)time(NULL);
	if (now < xi.not_before || now > xi.not_after) {
		char nb[40], na[40];
		fmt_time(xi.not_before, nb, sizeof(nb));
		fmt_time(xi.not_after, na, sizeof(na));
		rc = eimg_err(err, EIMG_EINVAL, cert_path, "the certificate is not valid now (valid from %s to %s)", nb, na);
		goto out;
	}
	size_t fb = eimg_cose_alg_fbytes(alg);
	rc = open_target(t, err);
	if (!rc)
		rc = tbs_for(t->r, alg, &prot, &plen, &payload, &paylen, &tbs, &tbslen, err);
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
	rc = section_for(x, alg, prot, plen, payload, paylen, rs, 2 * fb, &sec, &seclen, err);
	if (!rc)
		rc = write_signed(t, sec, seclen, out_path, out, out_len, err);
out:
	explicit_bzero(made, sizeof(made));
	eimg_x509_free(x);
	free(prot);
	free(payload);
	free(tbs);
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
	return t->fd < 0 ? eimg_err_sys(err, path, "cannot open") : EIMG_OK;
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

int eimg_nitro_export_tbs_file(const char *in, const char *cert_path, const char *out, eimg_error *err)
{
	struct target t;
	uint8_t *tbs = NULL;
	size_t tl = 0;
	int rc = target_file(&t, in, err);
	if (!rc)
		rc = do_export(&t, cert_path, &tbs, &tl, err);
	if (!rc)
		rc = eimg_write_file_atomic(out, tbs, tl, err);
	free(tbs);
	target_close(&t);
	return rc;
}

int eimg_nitro_attach_file(const char *in, const char *cert_path, const char *sig_path, const char *out,
			   eimg_error *err)
{
	struct target t;
	uint8_t *sig = NULL;
	size_t sigl = 0;
	int rc = eimg_read_file(sig_path, 4096, &sig, &sigl, err);
	if (rc)
		return rc;
	rc = target_file(&t, in, err);
	if (!rc)
		rc = do_attach(&t, cert_path, sig, sigl, NULL, NULL, 0, out, NULL, NULL, err);
	free(sig);
	target_close(&t);
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
	struct target t;
	if (!fn)
		return eimg_err(err, EIMG_EUSAGE, NULL, "no signer given");
	int rc = target_file(&t, in, err);
	if (!rc)
		rc = do_attach(&t, cert_path, NULL, 0, fn, ctx, 0, out, NULL, NULL, err);
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
