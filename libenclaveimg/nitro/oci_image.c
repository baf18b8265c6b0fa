/* SPDX-License-Identifier: Apache-2.0 */
/* Container images as a Nitro application, without a Docker daemon: an OCI
 * image layout (folder or oci-archive) or a docker-archive.  The index picks
 * the platform's manifest, the manifest names the config and the layers;
 * every blob is checked against the digest and size of its descriptor
 * (layers as they stream through oci_layer.c, with their diff IDs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "eimg/hash.h"
#include "eimg/nitro_image.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "nitro/oci_int.h"

#define MT_OCI_INDEX     "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST  "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST   "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define MAX_INDEX_DEPTH  2
#define MAX_DESCRIPTORS  1024

struct layer {
	char *name;                /* blob path in the store */
	uint8_t digest[32], diff_id[32];
	bool have_digest;
	uint64_t size;
};

struct eimg_oci_image {
	struct eimg_oci_store store;
	struct eimg_oci_info info;
	struct layer *layers;
	char want_os[32], want_arch[32], want_variant[32];
};

const struct eimg_oci_info *eimg_oci_info(const eimg_oci_image *img)
{
	return &img->info;
}

static void free_list(char **l, size_t n)
{
	if (!l)
		return;
	for (size_t i = 0; i < n; i++)
		free(l[i]);
	free(l);
}

void eimg_oci_free(eimg_oci_image *img)
{
	if (!img)
		return;
	free(img->store.path);
	free_list(img->info.entrypoint, img->info.nentrypoint);
	free_list(img->info.cmd, img->info.ncmd);
	free_list(img->info.env, img->info.nenv);
	free(img->info.working_dir);
	for (unsigned i = 0; i < img->info.nlayers; i++)
		free(img->layers[i].name);
	free(img->layers);
	free(img);
}

const char *eimg_oci_host_platform(void)
{
	static char buf[64];
	struct utsname u;
	if (uname(&u) < 0)
		return "linux/amd64";
	if (strcmp(u.machine, "x86_64") == 0)
		return "linux/amd64";
	if (strcmp(u.machine, "aarch64") == 0)
		return "linux/arm64";
	snprintf(buf, sizeof(buf), "linux/%s", u.machine);
	return buf;
}

char *const *eimg_oci_nitro_argv(const eimg_oci_image *img, size_t *n)
{
	if (img->info.cmd) {
		*n = img->info.ncmd;
		return img->info.cmd;
	}
	*n = img->info.nentrypoint;
	return img->info.entrypoint;
}

/* "sha256:<64 hex>" -> 32 bytes. */
static int parse_digest(const char *src, const char *d, uint8_t out[32], eimg_error *err)
{
	char esc[100];
	if (!d || strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71 || eimg_unhex(d + 7, out, 32, "digest", NULL))
		return eimg_err(err, EIMG_EINVAL, src, "digest %s: expected sha256:<64 hex digits>",
				d ? eimg_escape(d, strlen(d), esc, sizeof(esc)) : "(missing)");
	for (const char *p = d + 7; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			return eimg_err(err, EIMG_EINVAL, src, "digest %s: hex digits must be lower case",
					eimg_escape(d, strlen(d), esc, sizeof(esc)));
	return EIMG_OK;
}

static json_t *parse_json(const char *src, const char *what, const uint8_t *buf, size_t len, eimg_error *err)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		eimg_err(err, EIMG_EINVAL, src, "%s: not JSON (%s, line %d)", what, je.text, je.line);
		return NULL;
	}
	return j;
}

/* Reads the blob a descriptor names and checks its size and digest. */
static int read_blob(eimg_oci_image *img, json_t *desc, const char *what, json_t **out, char *digest_out,
		     eimg_error *err)
{
	const char *src = img->store.path;
	const char *d = json_string_value(json_object_get(desc, "digest"));
	json_t *size = json_object_get(desc, "size");
	uint8_t want[32], got[32];
	char name[100], hex[65];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = parse_digest(src, d, want, err);
	if (rc)
		return eimg_err_context(err, src, "%s", what);
	if (!json_is_integer(size) || json_integer_value(size) < 0 || json_integer_value(size) > EIMG_OCI_MAX_JSON)
		return eimg_err(err, EIMG_EINVAL, src, "%s: size missing or above %u bytes (limit)", what, EIMG_OCI_MAX_JSON);
	snprintf(name, sizeof(name), "blobs/sha256/%s", d + 7);
	if ((rc = eimg_oci_blob_slurp(&img->store, name, EIMG_OCI_MAX_JSON, &buf, &len, err)))
		return rc;
	eimg_sha256(buf, len, got);
	if (len != (size_t)json_integer_value(size) || memcmp(got, want, 32) != 0) {
		free(buf);
		return eimg_err(err, EIMG_EVERIFY, src, "%s: %zu bytes with digest sha256:%s, the descriptor says %lld bytes, %s",
				what, len, eimg_hex(got, 32, hex), (long long)json_integer_value(size), d);
	}
	*out = parse_json(src, what, buf, len, err);
	free(buf);
	if (!*out)
		return EIMG_EINVAL;
	if (digest_out)
		snprintf(digest_out, 80, "%s", d);
	return EIMG_OK;
}

static bool platform_matches(const eimg_oci_image *img, const char *os, const char *arch, const char *variant)
{
	return os && arch && strcmp(os, img->want_os) == 0 && strcmp(arch, img->want_arch) == 0 &&
	       (!img->want_variant[0] || (variant && strcmp(variant, img->want_variant) == 0));
}

struct picks {
	json_t *cands;             /* descriptors of manifests for the platform */
	struct eimg_sb seen;       /* other platforms, for the message */
};

static int collect(eimg_oci_image *img, json_t *index, int depth, struct picks *p, eimg_error *err)
{
	const char *src = img->store.path;
	json_t *list = json_object_get(index, "manifests");
	if (!json_is_array(list) || json_array_size(list) > MAX_DESCRIPTORS)
		return eimg_err(err, EIMG_EINVAL, src, "index: \"manifests\" must be an array of at most %d descriptors",
				MAX_DESCRIPTORS);
	size_t i;
	json_t *d;
	json_array_foreach(list, i, d) {
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		json_t *plat = json_object_get(d, "platform");
		if (mt && (strcmp(mt, MT_OCI_INDEX) == 0 || strcmp(mt, MT_DOCKER_LIST) == 0)) {
			json_t *sub = NULL;
			if (depth >= MAX_INDEX_DEPTH)
				return eimg_err(err, EIMG_EINVAL, src, "index: nested more than %d deep", MAX_INDEX_DEPTH);
			int rc = read_blob(img, d, "nested index", &sub, NULL, err);
			if (!rc)
				rc = collect(img, sub, depth + 1, p, err);
			json_decref(sub);
			if (rc)
				return rc;
			continue;
		}
		if (mt && strcmp(mt, MT_OCI_MANIFEST) != 0 && strcmp(mt, MT_DOCKER_MANIFEST) != 0)
			continue;  /* not an image (e.g. an artifact) */
		if (plat) {
			const char *os = json_string_value(json_object_get(plat, "os"));
			const char *arch = json_string_value(json_object_get(plat, "architecture"));
			const char *var = json_string_value(json_object_get(plat, "variant"));
			if (!platform_matches(img, os, arch, var)) {
				eimg_sb_printf(&p->seen, "%s%s/%s%s%s", p->seen.len ? ", " : "", os ? os : "?",
					       arch ? arch : "?", var ? "/" : "", var ? var : "");
				continue;
			}
		}
		json_array_append(p->cands, d);
	}
	return EIMG_OK;
}

static int pick_manifest(eimg_oci_image *img, json_t *index, json_t **manifest, eimg_error *err)
{
	const char *src = img->store.path;
	struct picks p = { json_array(), { 0 } };
	int rc = p.cands ? collect(img, index, 0, &p, err) : eimg_err_nomem(err);
	char *seen = eimg_sb_done(&p.seen);
	if (!rc && json_array_size(p.cands) == 0)
		rc = eimg_err(err, EIMG_EINVAL, src, "no image for %s/%s%s%s in the index%s%s%s", img->want_os,
			      img->want_arch, img->want_variant[0] ? "/" : "", img->want_variant,
			      seen ? " (it has: " : "", seen ? seen : "", seen ? ")" : "");
	else if (!rc && json_array_size(p.cands) > 1)
		rc = eimg_err(err, EIMG_EINVAL, src, "%zu images for %s/%s in the index: keep one in the layout",
			      json_array_size(p.cands), img->want_os, img->want_arch);
	if (!rc)
		rc = read_blob(img, json_array_get(p.cands, 0), "image manifest", manifest, img->info.manifest_digest, err);
	free(seen);
	json_decref(p.cands);
	return rc;
}

/* A JSON array of strings (or null/absent: *out stays NULL). */
static int str_list(const char *src, json_t *v, const char *what, bool no_newline, char ***out, size_t *n,
		    eimg_error *err)
{
	if (!v || json_is_null(v))
		return EIMG_OK;
	if (!json_is_array(v) || json_array_size(v) > EIMG_OCI_MAX_ARGS)
		return eimg_err(err, EIMG_EINVAL, src, "config: %s: expected an array of at most %d strings", what,
				EIMG_OCI_MAX_ARGS);
	char **l = calloc(json_array_size(v) + 1, sizeof(char *));
	if (!l)
		return eimg_err_nomem(err);
	size_t i;
	json_t *s;
	json_array_foreach(v, i, s) {
		const char *t = json_string_value(s);
		size_t len = json_string_length(s);
		if (!t || len != strlen(t) || len > EIMG_OCI_MAX_ARG || (no_newline && strchr(t, '\n'))) {
			free_list(l, i);
			return eimg_err(err, EIMG_EINVAL, src, "config: %s[%zu]: expected a string of at most %u bytes%s",
					what, i, EIMG_OCI_MAX_ARG, no_newline ? " without NUL or newline" : " without NUL");
		}
		if (!(l[i] = strdup(t))) {
			free_list(l, i);
			return eimg_err_nomem(err);
		}
	}
	*out = l;
	*n = json_array_size(v);
	return EIMG_OK;
}

static void copy_str(char *dst, size_t size, json_t *v)
{
	const char *s = json_string_value(v);
	eimg_escape(s ? s : "", s ? strlen(s) : 0, dst, size);
}

static int parse_config(eimg_oci_image *img, json_t *cfg, json_t **diff_ids, eimg_error *err)
{
	const char *src = img->store.path;
	struct eimg_oci_info *in = &img->info;
	copy_str(in->os, sizeof(in->os), json_object_get(cfg, "os"));
	copy_str(in->architecture, sizeof(in->architecture), json_object_get(cfg, "architecture"));
	copy_str(in->variant, sizeof(in->variant), json_object_get(cfg, "variant"));
	if (!platform_matches(img, in->os, in->architecture, in->variant))
		return eimg_err(err, EIMG_EINVAL, src, "the image is for %s/%s%s%s, not %s/%s%s%s", in->os,
				in->architecture, in->variant[0] ? "/" : "", in->variant, img->want_os, img->want_arch,
				img->want_variant[0] ? "/" : "", img->want_variant);
	json_t *c = json_object_get(cfg, "config");
	int rc = str_list(src, json_object_get(c, "Entrypoint"), "Entrypoint", true, &in->entrypoint, &in->nentrypoint, err);
	if (!rc)
		rc = str_list(src, json_object_get(c, "Cmd"), "Cmd", true, &in->cmd, &in->ncmd, err);
	if (!rc)
		rc = str_list(src, json_object_get(c, "Env"), "Env", true, &in->env, &in->nenv, err);
	if (rc)
		return rc;
	const char *wd = json_string_value(json_object_get(c, "WorkingDir"));
	if (wd && *wd && !(in->working_dir = strdup(wd)))
		return eimg_err_nomem(err);
	json_t *rootfs = json_object_get(cfg, "rootfs");
	*diff_ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(*diff_ids) || json_array_size(*diff_ids) > EIMG_OCI_MAX_LAYERS)
		return eimg_err(err, EIMG_EINVAL, src, "config: rootfs.diff_ids: expected an array of at most %d digests",
				EIMG_OCI_MAX_LAYERS);
	in->nlayers = (unsigned)json_array_size(*diff_ids);
	img->layers = calloc(in->nlayers + 1, sizeof(struct layer));
	if (!img->layers)
		return eimg_err_nomem(err);
	for (unsigned i = 0; i < in->nlayers; i++)
		if ((rc = parse_digest(src, json_string_value(json_array_get(*diff_ids, i)), img->layers[i].diff_id, err)))
			return eimg_err_context(err, src, "config: rootfs.diff_ids[%u]", i);
	return EIMG_OK;
}

static bool layer_type_ok(const char *mt)
{
	static const char *const ok[] = {
		"application/vnd.oci.image.layer.v1.tar",
		"application/vnd.oci.image.layer.v1.tar+gzip",
		"application/vnd.oci.image.layer.v1.tar+zstd",
		"application/vnd.oci.image.layer.nondistributable.v1.tar",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
		"application/vnd.docker.image.rootfs.diff.tar.gzip",
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	};
	for (size_t i = 0; mt && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(mt, ok[i]) == 0)
			return true;
	return false;
}

static int parse_manifest(eimg_oci_image *img, json_t *man, eimg_error *err)
{
	const char *src = img->store.path;
	json_t *cfg = NULL, *diff_ids = NULL;
	int rc = read_blob(img, json_object_get(man, "config"), "image config", &cfg, img->info.config_digest, err);
	if (!rc)
		rc = parse_config(img, cfg, &diff_ids, err);
	json_t *layers = json_object_get(man, "layers");
	if (!rc && (!json_is_array(layers) || json_array_size(layers) != img->info.nlayers))
		rc = eimg_err(err, EIMG_EINVAL, src, "image manifest: %zu layers, the config lists %u",
			      json_array_size(layers), img->info.nlayers);
	for (unsigned i = 0; !rc && i < img->info.nlayers; i++) {
		json_t *d = json_array_get(layers, i);
		struct layer *l = &img->layers[i];
		const char *mt = json_string_value(json_object_get(d, "mediaType"));
		json_t *size = json_object_get(d, "size");
		char esc[120];
		if (!layer_type_ok(mt)) {
			rc = eimg_err(err, EIMG_EUNSUPPORTED, src, "layer %u: media type %s is not supported", i + 1,
				      mt ? eimg_escape(mt, strlen(mt), esc, sizeof(esc)) : "(missing)");
			break;
		}
		if (!json_is_integer(size) || json_integer_value(size) < 0) {
			rc = eimg_err(err, EIMG_EINVAL, src, "layer %u: size missing", i + 1);
			break;
		}
		const char *dg = json_string_value(json_object_get(d, "digest"));
		if ((rc = parse_digest(src, dg, l->digest, err)))
			break;
		l->have_digest = true;
		l->size = (uint64_t)json_integer_value(size);
		img->info.stored_size += l->size;
		char name[100];
		snprintf(name, sizeof(name), "blobs/sha256/%s", dg + 7);
		if (!(l->name = strdup(name)))
			rc = eimg_err_nomem(err);
	}
	json_decref(cfg);
	return rc;
}

/* A member name from manifest.json: relative, no "..", printable. */
static bool member_ok(const char *s)
{
	if (!s || !*s || s[0] == '/' || strlen(s) > 512)
		return false;
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (p[0] == '.' && p[1] == '.' && (p == s || p[-1] == '/')))
			return false;
	return true;
}

static int parse_docker_archive(eimg_oci_image *img, eimg_error *err)
{
	const char *src = img->store.path;
	uint8_t *buf = NULL, d[32];
	size_t len = 0;
	json_t *top = NULL, *cfg = NULL, *diff_ids = NULL;
	char hex[65];
	int rc = eimg_oci_blob_slurp(&img->store, "manifest.json", EIMG_OCI_MAX_JSON, &buf, &len, err);
	if (!rc && !(top = parse_json(src, "manifest.json", buf, len, err)))
		rc = EIMG_EINVAL;
	free(buf);
	buf = NULL;
	if (!rc && (!json_is_array(top) || json_array_size(top) != 1))
		rc = eimg_err(err, EIMG_EINVAL, src, "manifest.json: expected exactly one image, found %zu",
			      json_is_array(top) ? json_array_size(top) : 0);
	json_t *ent = json_array_get(top, 0);
	const char *cname = json_string_value(json_object_get(ent, "Config"));
	if (!rc && !member_ok(cname))
		rc = eimg_err(err, EIMG_EINVAL, src, "manifest.json: Config: expected a member name");
	if (!rc)
		rc = eimg_oci_blob_slurp(&img->store, cname, EIMG_OCI_MAX_JSON, &buf, &len, err);
	if (!rc) {
		eimg_sha256(buf, len, d);
		snprintf(img->info.config_digest, sizeof(img->info.config_digest), "sha256:%s", eimg_hex(d, 32, hex));
		/* Named after its digest ("<hex>.json", "blobs/sha256/<hex>"): the name must hold. */
		const char *base = strrchr(cname, '/') ? strrchr(cname, '/') + 1 : cname;
		if (strspn(base, "0123456789abcdef") == 64 && strncmp(base, hex, 64) != 0)
			rc = eimg_err(err, EIMG_EVERIFY, src, "'%s': its digest is sha256:%s", cname, hex);
	}
	if (!rc && !(cfg = parse_json(src, "image config", buf, len, err)))
		rc = EIMG_EINVAL;
	if (!rc)
		rc = parse_config(img, cfg, &diff_ids, err);
	json_t *layers = json_object_get(ent, "Layers");
	if (!rc && (!json_is_array(layers) || json_array_size(layers) != img->info.nlayers))
		rc = eimg_err(err, EIMG_EINVAL, src, "manifest.json: %zu layers, the config lists %u",
			      json_array_size(layers), img->info.nlayers);
	for (unsigned i = 0; !rc && i < img->info.nlayers; i++) {
		const char *ln = json_string_value(json_array_get(layers, i));
		if (!member_ok(ln))
			rc = eimg_err(err, EIMG_EINVAL, src, "manifest.json: Layers[%u]: expected a member name", i);
		else if (!(img->layers[i].name = strdup(ln)))
			rc = eimg_err_nomem(err);
	}
	free(buf);
	json_decref(cfg);
	json_decref(top);
	return rc;
}

static int parse_layout(eimg_oci_image *img, eimg_error *err)
{
	const char *src = img->store.path;
	uint8_t *buf = NULL;
	size_t len = 0;
	json_t *j = NULL, *man = NULL;
	int rc = eimg_oci_blob_slurp(&img->store, "oci-layout", 4096, &buf, &len, err);
	if (!rc && !(j = parse_json(src, "oci-layout", buf, len, err)))
		rc = EIMG_EINVAL;
	if (!rc && !json_is_string(json_object_get(j, "imageLayoutVersion")))
		rc = eimg_err(err, EIMG_EINVAL, src, "oci-layout: no imageLayoutVersion");
	free(buf);
	json_decref(j);
	j = NULL;
	buf = NULL;
	if (!rc)
		rc = eimg_oci_blob_slurp(&img->store, "index.json", EIMG_OCI_MAX_JSON, &buf, &len, err);
	if (!rc && !(j = parse_json(src, "index.json", buf, len, err)))
		rc = EIMG_EINVAL;
	if (!rc)
		rc = pick_manifest(img, j, &man, err);
	if (!rc)
		rc = parse_manifest(img, man, err);
	free(buf);
	json_decref(j);
	json_decref(man);
	return rc;
}

static int set_platform(eimg_oci_image *img, const char *platform, eimg_error *err)
{
	char esc[100];
	const char *p = platform ? platform : eimg_oci_host_platform();
	const char *s1 = strchr(p, '/');
	const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
	size_t n1 = s1 ? (size_t)(s1 - p) : 0;
	size_t n2 = s1 ? (s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1)) : 0;
	if (!s1 || n1 == 0 || n1 >= sizeof(img->want_os) || n2 == 0 || n2 >= sizeof(img->want_arch) ||
	    (s2 && (strlen(s2 + 1) == 0 || strlen(s2 + 1) >= sizeof(img->want_variant) || strchr(s2 + 1, '/'))))
		return eimg_err(err, EIMG_EINVAL, NULL, "platform %s: expected os/arch[/variant], e.g. linux/amd64",
				eimg_escape(p, strlen(p), esc, sizeof(esc)));
	memcpy(img->want_os, p, n1);
	memcpy(img->want_arch, s1 + 1, n2);
	if (s2)
		strcpy(img->want_variant, s2 + 1);
	return EIMG_OK;
}

int eimg_oci_open(const char *path, const char *platform, eimg_oci_image **out, eimg_error *err)
{
	struct stat st;
	eimg_oci_image *img = calloc(1, sizeof(*img));
	if (!img)
		return eimg_err_nomem(err);
	int rc = set_platform(img, platform, err);
	if (rc)
		goto out;
	if (stat(path, &st) < 0) {
		rc = eimg_err_sys(err, path, "cannot open the container image");
		goto out;
	}
	img->store.is_dir = S_ISDIR(st.st_mode);
	if (!(img->store.path = strdup(path))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (img->store.is_dir || eimg_oci_blob_exists(&img->store, "index.json")) {
		img->info.format = img->store.is_dir ? EIMG_OCI_LAYOUT : EIMG_OCI_ARCHIVE;
		rc = parse_layout(img, err);
	} else if (eimg_oci_blob_exists(&img->store, "manifest.json")) {
		img->info.format = EIMG_DOCKER_ARCHIVE;
		rc = parse_docker_archive(img, err);
	} else {
		rc = eimg_err(err, EIMG_EINVAL, path,
			      "not a container image: expected an OCI layout folder, an OCI archive or a docker-archive tar");
	}
out:
	if (rc) {
		eimg_oci_free(img);
		return rc;
	}
	*out = img;
	return EIMG_OK;
}

/* ---------------------------------------------------------------- ramdisk */

struct memrd {
	const uint8_t *p;
	size_t left;
};

static int mem_rd(void *ctx, void *buf, size_t n, eimg_error *err)
{
	struct memrd *m = ctx;
	if (n > m->left)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "ramdisk: short read");
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return EIMG_OK;
}

static int apply_layer(eimg_oci_image *img, eimg_oci_tree *t, unsigned i, struct eimg_progress *pr, eimg_error *err)
{
	struct layer *l = &img->layers[i];
	char name[96], hex[65];
	eimg_hex(l->have_digest ? l->digest : l->diff_id, 32, hex);
	snprintf(name, sizeof(name), "layer %u (sha256:%.12s)", i + 1, hex);
	eimg_oci_blob *b = NULL;
	int rc = eimg_oci_blob_open(&img->store, l->name, &b, err);
	if (rc)
		return rc;
	struct eimg_oci_layer_in in = { .name = name, .index = i, .raw = eimg_oci_blob_read, .raw_ctx = b,
					.raw_size = l->have_digest ? l->size : 0, .have_digest = l->have_digest,
					.have_diff_id = true, .progress = pr };
	memcpy(in.digest, l->digest, 32);
	memcpy(in.diff_id, l->diff_id, 32);
	struct eimg_oci_place where;
	if (eimg_oci_blob_place(b, &where))
		in.place = &where;
	rc = eimg_oci_layer_apply(t, &in, err);
	eimg_oci_blob_close(b);
	return rc;
}

/* A file enclave-build places in the image's tree (the manifest, the
 * supervisor): its path must be free. */
static int add_reserved(eimg_oci_image *img, eimg_oci_tree *t, const char *p, unsigned mode, const uint8_t *data,
			size_t len, const char *what, eimg_error *err)
{
	if (!p)
		return EIMG_OK;
	if (strncmp(p, "rootfs/", 7) != 0)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "ramdisk: the %s must go under rootfs/", what);
	if (eimg_oci_tree_has(t, p + 7))
		return eimg_err(err, EIMG_EINVAL, img->store.path, "the image contains /%s, a path reserved for the %s",
				p + 7, what);
	struct memrd m = { data, len };
	struct eimg_oci_add a = { .path = p + 7, .type = EIMG_OCI_REG, .mode = mode, .size = len,
				  .layer = img->info.nlayers, .rd = mem_rd, .rd_ctx = &m };
	int rc = eimg_oci_tree_add(t, &a, err);
	return rc ? eimg_err_context(err, img->store.path, "the %s's place in the image", what) : EIMG_OK;
}

int eimg_oci_write_ramdisk(eimg_oci_image *img, const struct eimg_oci_ramdisk_opts *o, int fd, eimg_error *err)
{
	return eimg_oci_write_ramdisk_to(img, o, NULL, eimg_newc_fd_write, &fd, err);
}

int eimg_oci_write_ramdisk_to(eimg_oci_image *img, const struct eimg_oci_ramdisk_opts *o, eimg_ready_fn ready,
			      eimg_write_fn wr, void *ctx, eimg_error *err)
{
	static const char *const mkdirs[] = { "dev", "proc", "run", "sys", "tmp", "var", NULL };
	eimg_oci_tree *t = eimg_oci_tree_new();
	int rc = EIMG_OK;
	if (!t)
		return eimg_err_sys(err, NULL, "cannot make a temporary file for the image's files");
	eimg_progress_begin(o->progress, "reading layers", img->info.stored_size);
	for (unsigned i = 0; i < img->info.nlayers && !rc; i++)
		rc = apply_layer(img, t, i, o->progress, err);
	eimg_progress_end(o->progress);
	if (rc && err && !err->file[0])
		snprintf(err->file, sizeof(err->file), "%s", img->store.path);
	if (!rc)
		rc = add_reserved(img, t, o->manifest_path, 0644, o->manifest, o->manifest_len, "manifest", err);
	if (!rc)
		rc = add_reserved(img, t, o->supervisor_path, 0755, o->supervisor, o->supervisor_len, "supervisor", err);
	if (!rc) {
		struct eimg_oci_extra extra[2] = { { "cmd", o->cmd, o->cmd_len }, { "env", o->env, o->env_len } };
		struct eimg_newc_out out = { wr, ctx, 0, o->progress };
		/* Bounds: the data, and per entry at most a header, a name and padding. */
		uint64_t lo = eimg_oci_tree_bytes(t) + o->cmd_len + o->env_len;
		uint64_t hi = lo + ((uint64_t)eimg_oci_tree_count(t) + 16) * (128 + 8 + 2 * 4096);
		if (ready && (rc = ready(ctx, lo, hi, err)))
			goto out;
		eimg_progress_begin(o->progress, "writing ramdisk", eimg_oci_tree_bytes(t));
		rc = eimg_oci_tree_write(t, "rootfs", mkdirs, extra, 2, o->mtime, &out, err);
		eimg_progress_end(o->progress);
		if (rc && err && !err->file[0]) /* a layer's digest, checked meanwhile; a blob that changed */
			snprintf(err->file, sizeof(err->file), "%s", img->store.path);
	}
out:
	eimg_oci_tree_free(t);
	return rc;
}
