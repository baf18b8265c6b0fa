/* SPDX-License-Identifier: Apache-2.0 */
/* Nitro target: build an EIF from a manifest (kernel, bootstrap and
 * application ramdisks, metadata). */
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
#include "nitro/oci_int.h"
#include "crypto/crypto.h"

/* OperatingSystem and KernelVersion from a kernel .config, as nitro-cli
 * derives them (eimg_nitro_kernel_info); "Linux" and "unknown" without one. */
static int kernel_info(const char *config, char *os, size_t os_size, char *kver, size_t kver_size, eimg_error *err)
{
	snprintf(os, os_size, "Linux");
	snprintf(kver, kver_size, "unknown");
	return config ? eimg_nitro_kernel_info(config, os, os_size, kver, kver_size, err) : EIMG_OK;
}

static int make_metadata(const eimg_manifest *m, const struct eimg_nitro_build_opts *o, const char *os,
			 const char *kver, char **out, size_t *len, eimg_error *err)
{
	char when[EIMG_ISO_TIME_MAX];
	if (o->epoch > (uint64_t)INT64_MAX || !eimg_iso_time((int64_t)o->epoch, when))
		return eimg_err(err, EIMG_EINVAL, NULL, "build time %llu cannot be represented",
				(unsigned long long)o->epoch);
	const char *name = o->image_name ? o->image_name : (m->name ? m->name : "enclave");
	/* As nitro-cli: a container image's version defaults to its ID (the
	 * config digest), and DockerInfo describes the image. */
	const char *cfg = m->nitro.image_config;
	const char *version = o->image_version ? o->image_version : cfg ? cfg + 7 : "1.0";
	json_t *docker = cfg ? json_pack("{s:s, s:s, s:s?}", "Id", cfg, "Platform", m->nitro.platform ? m->nitro.platform : "",
					 "ManifestDigest", m->nitro.image_digest)
			     : json_object();
	json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:o, s:{}}", "ImageName", name, "ImageVersion",
			      version, "BuildMetadata", "BuildTime", when, "BuildTool", "enclave-build",
			      "BuildToolVersion", EIMG_VERSION, "OperatingSystem", os, "KernelVersion", kver,
			      "DockerInfo", docker, "CustomMetadata");
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

/* The boot-strap ramdisk: nitro-cli's when there is an nsm.ko; the given
 * one when init is already a newc cpio archive, else init (0755) and the
 * folders the reference builder creates. */
static int make_bootstrap(const char *init, const char *nsm, uint64_t epoch, uint8_t **out, size_t *len,
			  eimg_error *err)
{
	if (nsm)
		return eimg_nitro_bootstrap_ramdisk(init, nsm, out, len, err);
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

/* A build in progress: the EIF stream (first: it is the writers' context),
 * its sections, and where it goes. */
struct bctx {
	struct eimg_eif_stream s;
	struct eimg_eif_part parts[5];
	struct eimg_eif_write_opts wo;
	int fd;
	const struct eimg_nitro_build_opts *opts;
};

/* An EIF whose application ramdisk is at least a tenth of the machine's
 * memory is written around the page cache (EIMG_EIF_STREAM_DIRECT) when it
 * goes to a file that stays.  A tenth is the kernel's default
 * dirty_background_ratio: beyond it the kernel writes back and throttles a
 * writer anyway, and such an EIF would push much of what the machine
 * caches out of memory (on this machine, writing 4 GiB through the cache
 * made the build 1.5 times slower, 8 GiB twice).  Smaller ones go through
 * the cache, which is faster while memory is plenty (1 GiB: 1.56 s through
 * it, 1.75 s around it). */
static bool write_direct(uint64_t ramdisk)
{
	long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
	return pages > 0 && page > 0 && ramdisk >= (uint64_t)pages / 10 * (uint64_t)page;
}

/* Called by the ramdisk writers once the ramdisk's size is known within
 * [lo, hi], before its first byte: places and starts the EIF. */
static int app_ready(void *ctx, uint64_t lo, uint64_t hi, eimg_error *err)
{
	struct bctx *b = ctx;
	uint64_t fixed = EIMG_EIF_HEADER_SIZE;
	for (int i = 0; i < 5; i++)
		fixed += EIMG_EIF_SECTION_HEADER_SIZE + b->parts[i].size;
	int fd = b->fd;
	if (fd < 0 && (!b->opts->place || (fd = b->opts->place(b->opts->place_ctx, fixed + lo, fixed + hi, err)) < 0))
		return b->opts->place ? EIMG_EIO : eimg_err(err, EIMG_EUSAGE, NULL, "EIF: no output");
	const struct eimg_nitro_build_opts *o = b->opts;
	return eimg_eif_stream_begin(&b->s, "EIF", fd, o->copy ? o->copy_name : NULL, o->copy ? o->copy_fd : -1, &b->wo,
				     b->parts, 5, write_direct(lo) ? EIMG_EIF_STREAM_DIRECT : 0, err);
}

/* The application ramdisk's bytes into the EIF, counted as "writing ramdisk". */
static int app_write(void *ctx, const void *p, size_t n, eimg_error *err)
{
	struct bctx *b = ctx;
	int rc = eimg_eif_stream_write(&b->s, p, n, err);
	if (rc == EIMG_OK)
		eimg_progress_add(b->opts->progress, n);
	return rc;
}

/* The in-enclave supervisor, when the manifest has one (enclave-nitro(7)). */
static int add_supervisor(eimg_cpio *c, const eimg_manifest *m, eimg_error *err)
{
	uint8_t *sup = NULL;
	size_t len = 0;
	int rc = eimg_nitro_supervisor_bytes(m, &sup, &len, err);
	if (rc || !sup)
		return rc;
	if (eimg_cpio_has(c, EIMG_NITRO_SUPERVISOR_PATH))
		rc = eimg_err(err, EIMG_EINVAL, m->nitro.app, "the application contains %s, a path reserved for the supervisor",
			      EIMG_NITRO_SUPERVISOR_PATH + 7);
	else
		rc = eimg_cpio_add_file(c, EIMG_NITRO_SUPERVISOR_PATH, 0755, sup, len, err);
	free(sup);
	return rc;
}

/* The application ramdisk from a folder or a tar archive, streamed into the EIF. */
static int make_app(const eimg_manifest *m, const char *canon, size_t clen, uint64_t epoch, struct bctx *b,
		    eimg_error *err)
{
	const struct eimg_manifest_nitro *n = &m->nitro;
	eimg_cpio *c = eimg_cpio_new();
	char *cmd = NULL, *env = NULL;
	size_t cmdlen = 0, envlen = 0;
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
	if (!rc)
		rc = add_supervisor(c, m, err);
	if (!rc && (!n->entrypoint || n->entrypoint_len == 0))
		rc = eimg_err(err, EIMG_EINVAL, m->source, "nitro.entrypoint: missing");
	if (!rc && (rc = eimg_nitro_cmd(m, &cmd, &cmdlen, err)))
		eimg_err_context(err, m->source, "manifest");
	if (!rc && (rc = eimg_nitro_lines(n->env, n->env_len, "nitro.env", &env, &envlen, err)))
		eimg_err_context(err, m->source, "manifest");
	if (!rc)
		rc = eimg_cpio_add_file(c, "cmd", 0644, (const uint8_t *)cmd, cmdlen, err);
	if (!rc)
		rc = eimg_cpio_add_file(c, "env", 0644, (const uint8_t *)env, envlen, err);
	uint64_t size = 0;
	if (!rc && !(rc = eimg_cpio_size(c, &size, err)) && !(rc = app_ready(b, size, size, err))) {
		eimg_progress_begin(b->opts->progress, "writing ramdisk", size);
		rc = eimg_cpio_write_to(c, epoch, app_write, b, err);
		eimg_progress_end(b->opts->progress);
	}
out:
	free(cmd);
	free(env);
	eimg_cpio_free(c);
	return rc;
}

/* The fixed inputs: kernel, boot-strap ramdisk, metadata. */
struct fixed {
	uint8_t *kernel, *rd0;
	size_t klen, rd0len, mlen;
	char *meta;
};

static int load_fixed(const eimg_manifest *m, const struct eimg_nitro_build_opts *opts, struct fixed *f,
		      eimg_error *err)
{
	const struct eimg_manifest_nitro *n = &m->nitro;
	char kver[64], os[32];
	if (m->target != EIMG_TARGET_NITRO)
		return eimg_err(err, EIMG_EUSAGE, m->source, "not a nitro manifest");
	if (!n->kernel || !n->init || !n->cmdline)
		return eimg_err(err, EIMG_EINVAL, m->source, "nitro: kernel, init and cmdline are required");
	if (strlen(n->cmdline) > EIMG_EIF_MAX_CMDLINE)
		return eimg_err(err, EIMG_EINVAL, m->source, "nitro.cmdline: above %u bytes", EIMG_EIF_MAX_CMDLINE);
	int rc = kernel_info(n->kernel_config, os, sizeof(os), kver, sizeof(kver), err);
	if (rc || (rc = eimg_read_file(n->kernel, EIMG_NITRO_MAX_KERNEL, &f->kernel, &f->klen, err)))
		return rc;
	if (f->klen == 0)
		return eimg_err(err, EIMG_EINVAL, n->kernel, "empty kernel image");
	if ((rc = make_bootstrap(n->init, n->nsm, opts->epoch, &f->rd0, &f->rd0len, err)))
		return rc;
	return make_metadata(m, opts, os, kver, &f->meta, &f->mlen, err);
}

int eimg_nitro_build_fd(const eimg_manifest *m, const char *canonical, size_t canonical_len,
			const struct eimg_nitro_build_opts *opts, int fd, uint64_t *eif_len, uint8_t pcr012[144],
			eimg_error *err)
{
	const struct eimg_manifest_nitro *n = &m->nitro;
	struct eimg_nitro_build_opts dflt = { .epoch = 0 };
	struct fixed f = { 0 };
	struct bctx b;
	struct eimg_nitro_digest dg;
	uint64_t mem, len = 0;
	int rc;

	memset(&b, 0, sizeof(b));
	b.fd = fd;
	b.opts = opts ? opts : &dflt;
	if ((rc = load_fixed(m, b.opts, &f, err)))
		goto out;
	if (eimg_mul_overflow(n->memory_mib, 1ull << 20, &mem)) {
		rc = eimg_err(err, EIMG_EINVAL, m->source, "nitro.memory: too large");
		goto out;
	}
	/* An arm64 Linux Image carries "ARM\x64" at offset 0x38. */
	b.wo.flags = (f.klen >= 0x3c && memcmp(f.kernel + 0x38, "ARM\x64", 4) == 0) ? EIMG_EIF_FLAG_AARCH64 : 0;
	b.wo.default_mem = mem;
	b.wo.default_cpus = n->cpus;
	b.parts[0] = (struct eimg_eif_part){ EIMG_EIF_KERNEL, f.kernel, f.klen };
	b.parts[1] = (struct eimg_eif_part){ EIMG_EIF_CMDLINE, (const uint8_t *)n->cmdline, strlen(n->cmdline) };
	b.parts[2] = (struct eimg_eif_part){ EIMG_EIF_METADATA, (const uint8_t *)f.meta, f.mlen };
	b.parts[3] = (struct eimg_eif_part){ EIMG_EIF_RAMDISK, f.rd0, f.rd0len };
	b.parts[4] = (struct eimg_eif_part){ EIMG_EIF_RAMDISK, NULL, 0 }; /* the application, streamed */
	if (n->image)
		rc = eimg_nitro_app_image(m, canonical, canonical_len, b.opts->epoch, b.opts->progress, app_ready,
					  eimg_eif_stream_write, &b, err);
	else
		rc = make_app(m, canonical, canonical_len, b.opts->epoch, &b, err);
	if (!rc && !(rc = eimg_eif_stream_end(&b.s, &len, &dg, err))) {
		*eif_len = len;
		memcpy(pcr012, dg.pcr0, 48);
		memcpy(pcr012 + 48, dg.pcr1, 48);
		memcpy(pcr012 + 96, dg.pcr2, 48);
	}
out:
	eimg_eif_stream_free(&b.s);
	free(f.kernel);
	free(f.rd0);
	free(f.meta);
	return rc;
}

/* Reads back the EIF a build wrote into a scratch file. */
static int slurp(int fd, uint64_t len, uint8_t **out, eimg_error *err)
{
	if (len > SIZE_MAX)
		return eimg_err(err, EIMG_EINVAL, "EIF", "too large for memory: use eimg_nitro_build_fd");
	uint8_t *b = malloc(len ? (size_t)len : 1);
	if (!b)
		return eimg_err_nomem(err);
	for (size_t got = 0; got < (size_t)len;) {
		ssize_t r = pread(fd, b + got, (size_t)len - got, (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			free(b);
			return r < 0 ? eimg_err_sys(err, "EIF", "cannot read back") : eimg_err(err, EIMG_EIO, "EIF", "truncated");
		}
		got += (size_t)r;
	}
	*out = b;
	return EIMG_OK;
}

int eimg_nitro_build(const eimg_manifest *m, const char *canonical, size_t canonical_len,
		     const struct eimg_nitro_build_opts *opts, uint8_t **eif, size_t *eif_len,
		     eimg_nitro_report **rep, eimg_error *err)
{
	uint8_t pcr[144], *out = NULL;
	uint64_t len = 0;
	eimg_nitro_report *r = NULL;
	int fd = eimg_scratch_fd(NULL, "the EIF", err);
	if (fd < 0)
		return EIMG_EIO;
	int rc = eimg_nitro_build_fd(m, canonical, canonical_len, opts, fd, &len, pcr, err);
	if (!rc)
		rc = slurp(fd, len, &out, err);
	close(fd);
	if (!rc && rep) {
		struct eimg_nitro_audit_opts ao = { .manifest_json = canonical, .manifest_len = canonical_len };
		rc = eimg_nitro_audit_buffer("EIF", out, (size_t)len, &ao, &r, err);
	}
	if (rc) {
		free(out);
		return rc;
	}
	*eif = out;
	*eif_len = (size_t)len;
	if (rep)
		*rep = r;
	return EIMG_OK;
}
