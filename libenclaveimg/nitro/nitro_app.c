/* SPDX-License-Identifier: Apache-2.0 */
/* The Nitro application from a container image, and the boot inputs from a
 * nitro-cli blobs folder: what they determine is resolved into the manifest
 * before its canonical form is made (so the image's digests, the argv and
 * the environment are measured in PCR2), then the application ramdisk is
 * streamed from the image's layers into the EIF. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eimg/hash.h"
#include "eimg/manifest.h"
#include "eimg/nitro.h"
#include "eimg/util.h"
#include "eimg/nitro_image.h"
#include "core/internal.h"
#include "nitro/oci_int.h"

#ifndef EIMG_SUPERVISOR_DEFAULT
#define EIMG_SUPERVISOR_DEFAULT "/usr/local/libexec/enclaveimg/eimg-supervisor"
#endif

/* What init starts when the image holds the supervisor: the supervisor,
 * told where the measured manifest is (enclave-nitro(7)). */
static char *const supervisor_argv[] = { "/" EIMG_NITRO_SUPERVISOR_PATH + 7, "--manifest",
					 "/" EIMG_NITRO_MANIFEST_PATH + 7 };

int eimg_nitro_lines(char *const *l, size_t n, const char *what, char **out, size_t *len, eimg_error *err)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		if (strchr(l[i], '\n'))
			return eimg_err(err, EIMG_EINVAL, NULL, "%s[%zu]: contains a newline", what, i);
		total += strlen(l[i]) + 1;
	}
	char *s = malloc(total + 1);
	if (!s)
		return eimg_err_nomem(err);
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k = strlen(l[i]);
		memcpy(s + o, l[i], k);
		s[o + k] = '\n';
		o += k + 1;
	}
	s[o] = '\0';
	*out = s;
	*len = total;
	return EIMG_OK;
}

static int set_str(char **dst, const char *v, eimg_error *err);

int eimg_nitro_cmd(const eimg_manifest *m, char **out, size_t *len, eimg_error *err)
{
	const struct eimg_manifest_nitro *n = &m->nitro;
	if (n->has_supervisor)
		return eimg_nitro_lines(supervisor_argv, sizeof(supervisor_argv) / sizeof(supervisor_argv[0]),
					"supervisor", out, len, err);
	return eimg_nitro_lines(n->entrypoint, n->entrypoint_len, "nitro.entrypoint", out, len, err);
}

bool eimg_nitro_wants_supervisor(const struct eimg_manifest_nitro *n)
{
	return n->ningress || n->negress_allow || n->negress_deny || n->supervisor || n->has_supervisor;
}

int eimg_nitro_supervisor_read(const char *path, uint8_t **out, size_t *len, char hex[97], eimg_error *err)
{
	uint8_t *bin = NULL, md[48];
	size_t blen = 0;
	int rc = eimg_read_file(path, EIMG_NITRO_MAX_SUPERVISOR, &bin, &blen, err);
	if (rc)
		return eimg_err_context(err, NULL, "the in-enclave supervisor");
	if (blen < 4 || memcmp(bin, "\x7f" "ELF", 4) != 0) {
		free(bin);
		return eimg_err(err, EIMG_EINVAL, path, "the in-enclave supervisor is not an ELF program");
	}
	eimg_sha384(bin, blen, md);
	eimg_hex(md, 48, hex);
	*out = bin;
	*len = blen;
	return EIMG_OK;
}

/* Finds the supervisor (nitro.supervisor, else $EIMG_SUPERVISOR, else the
 * installed one) and records its SHA-384, checked against a pin. */
static int take_supervisor(eimg_manifest *m, eimg_error *err)
{
	struct eimg_manifest_nitro *n = &m->nitro;
	const char *env = getenv("EIMG_SUPERVISOR");
	const char *path = n->supervisor ? n->supervisor : env && *env ? env : EIMG_SUPERVISOR_DEFAULT;
	uint8_t *bin = NULL;
	size_t blen;
	char hex[97];
	if (access(path, F_OK) != 0 && errno == ENOENT && !n->supervisor)
		return eimg_err(err, EIMG_EINVAL, m->source,
				"nitro.ingress/egress need the in-enclave supervisor, not found at '%s': install it, "
				"or give nitro.supervisor or EIMG_SUPERVISOR", path);
	int rc = eimg_nitro_supervisor_read(path, &bin, &blen, hex, err);
	if (rc)
		return rc;
	free(bin);
	if (n->supervisor_sha384 && strcmp(n->supervisor_sha384, hex) != 0)
		return eimg_err(err, EIMG_EVERIFY, path, "the supervisor is sha384 %s, the manifest pins nitro.supervisor_sha384 %s",
				hex, n->supervisor_sha384);
	if ((rc = set_str(&n->supervisor, path, err)) || (rc = set_str(&n->supervisor_sha384, hex, err)))
		return rc;
	n->has_supervisor = true;
	return EIMG_OK;
}

static int copy_list(char *const *src, size_t n, char ***out, size_t *nout, eimg_error *err)
{
	char **l = calloc(n + 1, sizeof(char *));
	if (!l)
		return eimg_err_nomem(err);
	for (size_t i = 0; i < n; i++)
		if (!(l[i] = strdup(src[i]))) {
			for (size_t j = 0; j < i; j++)
				free(l[j]);
			free(l);
			return eimg_err_nomem(err);
		}
	*out = l;
	*nout = n;
	return EIMG_OK;
}

static int take_blobs(struct eimg_manifest_nitro *n, eimg_error *err)
{
	struct eimg_nitro_blobs b;
	int rc = eimg_nitro_blobs_open(n->blobs, &b, err);
	if (rc)
		return rc;
	free(n->kernel);
	free(n->kernel_config);
	free(n->init);
	free(n->nsm);
	n->kernel = b.kernel;
	n->kernel_config = b.kernel_config;
	n->has_kernel_config = true;
	n->init = b.init;
	n->nsm = b.nsm;
	n->has_nsm = true;
	if (!n->cmdline) {
		n->cmdline = b.cmdline;
		b.cmdline = NULL;
	}
	free(b.cmdline);
	return EIMG_OK;
}

static int set_str(char **dst, const char *v, eimg_error *err)
{
	char *s = strdup(v);
	if (!s)
		return eimg_err_nomem(err);
	free(*dst);
	*dst = s;
	return EIMG_OK;
}

/* The image's identity: the manifest digest, or the config's for a
 * docker-archive (which has no manifest). */
static const char *identity(const struct eimg_oci_info *i)
{
	return i->manifest_digest[0] ? i->manifest_digest : i->config_digest;
}

static int take_image(eimg_manifest *m, eimg_error *err)
{
	struct eimg_manifest_nitro *n = &m->nitro;
	eimg_oci_image *img = NULL;
	char plat[100];
	int rc = eimg_oci_open(n->image, n->platform, &img, err);
	if (rc)
		return rc;
	const struct eimg_oci_info *i = eimg_oci_info(img);
	if (n->image_digest && strcmp(n->image_digest, identity(i)) != 0) {
		rc = eimg_err(err, EIMG_EVERIFY, n->image, "the image is %s, the manifest pins nitro.image_digest %s",
			      identity(i), n->image_digest);
		goto out;
	}
	snprintf(plat, sizeof(plat), "%s/%s%s%s", i->os, i->architecture, i->variant[0] ? "/" : "", i->variant);
	if ((rc = set_str(&n->image_digest, identity(i), err)) || (rc = set_str(&n->image_config, i->config_digest, err)) ||
	    (rc = set_str(&n->platform, plat, err)))
		goto out;
	if (!n->entrypoint) {
		size_t k = 0;
		char *const *argv = eimg_oci_nitro_argv(img, &k);
		if (!argv || k == 0) {
			rc = eimg_err(err, EIMG_EINVAL, n->image, "the image has neither Cmd nor Entrypoint: set nitro.entrypoint");
			goto out;
		}
		if ((rc = copy_list(argv, k, &n->entrypoint, &n->entrypoint_len, err)))
			goto out;
	}
	if (!n->has_env) {
		if ((rc = copy_list(i->env, i->env ? i->nenv : 0, &n->env, &n->env_len, err)))
			goto out;
		n->has_env = true;
	}
	if (!n->working_dir && i->working_dir)
		rc = set_str(&n->working_dir, i->working_dir, err);
out:
	eimg_oci_free(img);
	return rc;
}

int eimg_nitro_resolve(eimg_manifest *m, eimg_error *err)
{
	int rc = EIMG_OK;
	if (m->target != EIMG_TARGET_NITRO)
		return EIMG_OK;
	if (m->nitro.blobs)
		rc = take_blobs(&m->nitro, err);
	if (!rc && m->nitro.image)
		rc = take_image(m, err);
	if (!rc && eimg_nitro_wants_supervisor(&m->nitro))
		rc = take_supervisor(m, err);
	return rc;
}

int eimg_nitro_supervisor_bytes(const eimg_manifest *m, uint8_t **out, size_t *len, eimg_error *err)
{
	const struct eimg_manifest_nitro *n = &m->nitro;
	char hex[97];
	*out = NULL;
	*len = 0;
	if (!n->has_supervisor)
		return EIMG_OK;
	if (!n->supervisor || !n->supervisor_sha384)
		return eimg_err(err, EIMG_EUSAGE, m->source, "the supervisor was not resolved (eimg_nitro_resolve)");
	int rc = eimg_nitro_supervisor_read(n->supervisor, out, len, hex, err);
	if (!rc && strcmp(hex, n->supervisor_sha384) != 0) {
		free(*out);
		*out = NULL;
		rc = eimg_err(err, EIMG_EVERIFY, n->supervisor, "the supervisor changed while the image was being built");
	}
	return rc;
}


int eimg_nitro_app_image(const eimg_manifest *m, const char *canon, size_t clen, uint64_t epoch,
			 struct eimg_progress *progress, eimg_ready_fn ready, eimg_write_fn wr, void *ctx, eimg_error *err)
{
	const struct eimg_manifest_nitro *n = &m->nitro;
	eimg_oci_image *img = NULL;
	char *cmd = NULL, *env = NULL;
	uint8_t *sup = NULL;
	size_t cmd_len = 0, env_len = 0, sup_len = 0;
	int rc = eimg_oci_open(n->image, n->platform, &img, err);
	if (!rc && (!n->image_digest || strcmp(identity(eimg_oci_info(img)), n->image_digest) != 0))
		rc = eimg_err(err, EIMG_EVERIFY, n->image, "the image changed while it was being built");
	if (!rc)
		rc = eimg_nitro_supervisor_bytes(m, &sup, &sup_len, err);
	if (!rc)
		rc = eimg_nitro_cmd(m, &cmd, &cmd_len, err);
	if (!rc)
		rc = eimg_nitro_lines(n->env, n->env_len, "nitro.env", &env, &env_len, err);
	if (!rc) {
		struct eimg_oci_ramdisk_opts o = { epoch, (const uint8_t *)cmd, (const uint8_t *)env, cmd_len, env_len,
						   EIMG_NITRO_MANIFEST_PATH, (const uint8_t *)canon, clen, progress,
						   sup ? EIMG_NITRO_SUPERVISOR_PATH : NULL, sup, sup_len };
		rc = eimg_oci_write_ramdisk_to(img, &o, ready, wr, ctx, err);
	}
	free(cmd);
	free(env);
	free(sup);
	eimg_oci_free(img);
	return rc;
}
