/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave manifest's nitro section (man/enclave-manifest.5): boot inputs,
 * the application (a folder, an archive or a container image), memory, CPUs,
 * ingress ports and egress patterns; checked and copied into the manifest's
 * eimg_manifest_nitro. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/manifest.h"
#include "core/internal.h"
#include "core/manifest_int.h"
#include "net/net_int.h"

/* Limits besides those in manifest.h (all documented in enclave-manifest(5)). */
#define CMDLINE_MAX       2047        /* kernel command line bytes */
#define ARG_MAX_LEN       4096        /* one entrypoint argument */
#define ENTRYPOINT_MAX    256         /* entrypoint arguments */
#define PORTS_MAX         1024        /* ingress ports */
#define EGRESS_MAX        1024        /* entries of egress.allow / egress.deny */
#define EGRESS_LEN_MAX    253         /* one egress pattern */
#define MEMORY_MAX        (4ull << 40) /* nitro memory: 4 TiB */

/* One egress pattern: a host name pattern or an address. */
static int egress_item(struct ctx *c, const struct node *v, const char *sub, char **out)
{
	static const char extra[] = ".*:/_-";
	char d[128];
	int rc;
	if ((rc = eimg_mf_want_scalar(c, v, sub, "a host name or address")))
		return rc;
	bool ok = v->len >= 1 && v->len <= EGRESS_LEN_MAX;
	for (size_t j = 0; ok && j < v->len; j++) {
		char ch = v->str[j];
		ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		     (ch >= '0' && ch <= '9') || strchr(extra, ch);
	}
	if (!ok)
		return eimg_mf_nerr(c, v, sub,
			  "expected a host name pattern or address of 1 to %d characters of A-Z a-z 0-9 . * : / _ -, got %s",
			  EGRESS_LEN_MAX, eimg_mf_describe(v, d, sizeof(d)));
	const char *why = eimg_net_pattern_error(v->str);
	if (why) /* the rules of enclave-nitro(7), NETWORK POLICY: caught here, not at boot */
		return eimg_mf_nerr(c, v, sub, "%s: %s", eimg_mf_describe(v, d, sizeof(d)), why);
	*out = strdup(v->str);
	return *out ? EIMG_OK : eimg_err_nomem(c->err);
}

static int get_str_list(struct ctx *c, const struct node *seq, const char *path, size_t max,
			size_t minlen, size_t maxlen, bool egress, char ***out, size_t *nout)
{
	char d[128], sub[PATHSZ];
	char **list;
	int rc;
	if (seq->kind != N_SEQ)
		return eimg_mf_nerr(c, seq, path, "expected a sequence, got %s", eimg_mf_describe(seq, d, sizeof(d)));
	if (seq->n > max)
		return eimg_mf_nerr(c, seq, path, "more than %zu entries (limit)", max);
	list = calloc(seq->n + 1, sizeof(*list));
	if (!list)
		return eimg_err_nomem(c->err);
	for (size_t i = 0; i < seq->n; i++) {
		const struct node *v = seq->kids[i];
		eimg_mf_path_index(sub, sizeof(sub), path, i);
		if (egress) {
			if ((rc = egress_item(c, v, sub, &list[i])))
				goto fail;
		} else if ((rc = eimg_mf_get_text(c, v, sub, i == 0 ? minlen : 0, maxlen, &list[i]))) {
			goto fail;
		}
	}
	*out = list;
	*nout = seq->n;
	return EIMG_OK;
fail:
	for (size_t i = 0; i < seq->n; i++)
		free(list[i]);
	free(list);
	return rc;
}

/* nitro.env: "NAME=value" items, no newline (the env file has one per line). */
static int get_env(struct ctx *c, const struct node *seq, struct eimg_manifest_nitro *nt)
{
	int rc = get_str_list(c, seq, "nitro.env", ENTRYPOINT_MAX, 0, ARG_MAX_LEN, false, &nt->env, &nt->env_len);
	for (size_t i = 0; !rc && i < nt->env_len; i++)
		if (!strchr(nt->env[i], '=') || nt->env[i][0] == '=' || strchr(nt->env[i], '\n'))
			rc = eimg_mf_nerr(c, seq->kids[i], "nitro.env", "item %zu: expected NAME=value on one line", i);
	nt->has_env = !rc;
	return rc;
}

/* "sha256:" and 64 lower-case hex digits. */
static int get_digest(struct ctx *c, const struct node *n, const char *path, char **out)
{
	int rc = eimg_mf_get_text(c, n, path, 71, 71, out);
	if (rc)
		return rc;
	if (strncmp(*out, "sha256:", 7) != 0 || strspn(*out + 7, "0123456789abcdef") != 64)
		return eimg_mf_nerr(c, n, path, "expected sha256: and 64 lower-case hex digits");
	return EIMG_OK;
}

/* The application: a folder or archive (app), or a container image (image,
 * platform, image_digest, image_config), with its argv, env and working_dir. */
static int parse_nitro_app(struct ctx *c, const struct node *map, const struct node *const *v)
{
	enum { APP, ENTRY, IMAGE, PLATFORM, DIGEST, CONFIG, ENV, WDIR };
	struct eimg_manifest_nitro *nt = &c->m->nitro;
	int rc;
	if (!!v[APP] == !!v[IMAGE])
		return eimg_mf_nerr(c, map, "nitro", "expected exactly one of app (a folder or .tar) and image (a container image)");
	if (v[APP]) {
		for (int k = PLATFORM; k <= WDIR; k++)
			if (v[k] && k != ENV)
				return eimg_mf_nerr(c, v[k], "nitro", "platform, image_digest, image_config and working_dir go with image, not app");
		if ((rc = eimg_mf_get_path(c, v[APP], "nitro.app", 'a', &nt->app)))
			return rc;
		nt->app_pos.line = v[APP]->line;
		nt->app_pos.column = v[APP]->col;
	} else {
		if ((rc = eimg_mf_get_path(c, v[IMAGE], "nitro.image", 'i', &nt->image)))
			return rc;
		nt->app_pos.line = v[IMAGE]->line;
		nt->app_pos.column = v[IMAGE]->col;
		if (v[PLATFORM] && (rc = eimg_mf_get_text(c, v[PLATFORM], "nitro.platform", 3, 96, &nt->platform)))
			return rc;
		if (v[DIGEST] && (rc = get_digest(c, v[DIGEST], "nitro.image_digest", &nt->image_digest)))
			return rc;
		if (v[CONFIG] && c->base_dir)
			return eimg_mf_nerr(c, v[CONFIG], "nitro.image_config", "recorded by enclave-build from the image, not set");
		if (v[CONFIG] && (rc = get_digest(c, v[CONFIG], "nitro.image_config", &nt->image_config)))
			return rc;
		if (v[WDIR] && (rc = eimg_mf_get_text(c, v[WDIR], "nitro.working_dir", 1, 4095, &nt->working_dir)))
			return rc;
	}
	if (v[ENV] && (rc = get_env(c, v[ENV], nt)))
		return rc;
	if (!v[ENTRY]) {
		if (v[APP])
			return eimg_mf_missing(c, map, "nitro", "entrypoint");
		return EIMG_OK;  /* from the image */
	}
	if ((rc = get_str_list(c, v[ENTRY], "nitro.entrypoint", ENTRYPOINT_MAX, 1, ARG_MAX_LEN, false,
			       &nt->entrypoint, &nt->entrypoint_len)))
		return rc;
	if (nt->entrypoint_len == 0)
		return eimg_mf_nerr(c, v[ENTRY], "nitro.entrypoint", "expected a non-empty sequence");
	return EIMG_OK;
}

/* The supervisor: a host path and an optional SHA-384 pin in a source
 * manifest; in a canonical one both keys, the path a placeholder. */
static int parse_nitro_supervisor(struct ctx *c, const struct node *const *v)
{
	struct eimg_manifest_nitro *nt = &c->m->nitro;
	int rc;
	if (v[0] && (rc = eimg_mf_get_path(c, v[0], "nitro.supervisor", 'f', &nt->supervisor)))
		return rc;
	if (v[1]) {
		if ((rc = eimg_mf_get_text(c, v[1], "nitro.supervisor_sha384", 0, 96, &nt->supervisor_sha384)))
			return rc;
		if (strlen(nt->supervisor_sha384) != 96 || strspn(nt->supervisor_sha384, "0123456789abcdef") != 96)
			return eimg_mf_nerr(c, v[1], "nitro.supervisor_sha384", "expected 96 lower-case hex digits");
	}
	if (!c->base_dir && !!v[0] != !!v[1])
		return eimg_mf_nerr(c, v[0] ? v[0] : v[1], "nitro", "supervisor and supervisor_sha384 go together");
	nt->has_supervisor = !c->base_dir && v[0];
	return EIMG_OK;
}

/* Boot inputs: kernel, kernel_config, cmdline, init, nsm, or a nitro-cli blobs folder. */
static int parse_nitro_boot(struct ctx *c, const struct node *map, const struct node *const *v)
{
	enum { KERNEL, KCONFIG, CMDLINE, INIT, NSM, BLOBS };
	struct eimg_manifest_nitro *nt = &c->m->nitro;
	int rc;
	if (v[BLOBS]) {
		for (int k = KERNEL; k <= NSM; k++)
			if (v[k] && k != CMDLINE)
				return eimg_mf_nerr(c, v[k], "nitro", "kernel, kernel_config, init and nsm come from blobs when it is given");
		if ((rc = eimg_mf_get_path(c, v[BLOBS], "nitro.blobs", 'd', &nt->blobs)))
			return rc;
		nt->kernel_pos.line = nt->init_pos.line = v[BLOBS]->line;
		nt->kernel_pos.column = nt->init_pos.column = v[BLOBS]->col;
	} else {
		if (!v[KERNEL])
			return eimg_mf_missing(c, map, "nitro", "kernel");
		if (!v[INIT])
			return eimg_mf_missing(c, map, "nitro", "init");
		if (!v[CMDLINE])
			return eimg_mf_missing(c, map, "nitro", "cmdline");
		if ((rc = eimg_mf_get_path(c, v[KERNEL], "nitro.kernel", 'f', &nt->kernel)) ||
		    (rc = eimg_mf_get_path(c, v[INIT], "nitro.init", 'f', &nt->init)))
			return rc;
		nt->kernel_pos.line = v[KERNEL]->line;
		nt->kernel_pos.column = v[KERNEL]->col;
		nt->init_pos.line = v[INIT]->line;
		nt->init_pos.column = v[INIT]->col;
		if (v[KCONFIG]) {
			if ((rc = eimg_mf_get_path(c, v[KCONFIG], "nitro.kernel_config", 'f', &nt->kernel_config)))
				return rc;
			nt->has_kernel_config = true;
		}
		if (v[NSM] && (rc = eimg_mf_get_path(c, v[NSM], "nitro.nsm", 'f', &nt->nsm)))
			return rc;
		nt->has_nsm = v[NSM] != NULL;
	}
	if (v[CMDLINE] && (rc = eimg_mf_get_text(c, v[CMDLINE], "nitro.cmdline", 1, CMDLINE_MAX, &nt->cmdline)))
		return rc;
	return EIMG_OK;
}

/* nitro.ingress: distinct ports. */
static int get_ingress(struct ctx *c, const struct node *seq, struct eimg_manifest_nitro *nt)
{
	char d[128], sub[PATHSZ];
	uint64_t v;
	int rc;
	if (seq->kind != N_SEQ)
		return eimg_mf_nerr(c, seq, "nitro.ingress", "expected a sequence, got %s", eimg_mf_describe(seq, d, sizeof(d)));
	if (seq->n > PORTS_MAX)
		return eimg_mf_nerr(c, seq, "nitro.ingress", "more than %d entries (limit)", PORTS_MAX);
	if (seq->n) {
		nt->ingress = calloc(seq->n, sizeof(*nt->ingress));
		if (!nt->ingress)
			return eimg_err_nomem(c->err);
	}
	for (size_t i = 0; i < seq->n; i++) {
		eimg_mf_path_index(sub, sizeof(sub), "nitro.ingress", i);
		if ((rc = eimg_mf_get_uint(c, seq->kids[i], sub, 1, 65535, false, &v)))
			return rc;
		for (size_t j = 0; j < i; j++)
			if (nt->ingress[j] == v)
				return eimg_mf_nerr(c, seq->kids[i], sub, "duplicate port %" PRIu64 " (also nitro.ingress[%zu])", v, j);
		nt->ingress[i] = (uint16_t)v;
		nt->ningress = i + 1;
	}
	return EIMG_OK;
}

/* nitro.egress: allow and deny lists of patterns. */
static int get_egress(struct ctx *c, const struct node *e, struct eimg_manifest_nitro *nt)
{
	static const char *const enames[] = { "allow", "deny" };
	const struct node *ek[2], *ev[2];
	char d[128];
	int rc;
	if (e->kind != N_MAP)
		return eimg_mf_nerr(c, e, "nitro.egress", "expected a mapping, got %s", eimg_mf_describe(e, d, sizeof(d)));
	if ((rc = eimg_mf_map_keys(c, e, "nitro.egress", enames, 2, ek, ev)))
		return rc;
	if (ev[0] && (rc = get_str_list(c, ev[0], "nitro.egress.allow", EGRESS_MAX, 1, EGRESS_LEN_MAX, true,
					&nt->egress_allow, &nt->negress_allow)))
		return rc;
	if (ev[1] && (rc = get_str_list(c, ev[1], "nitro.egress.deny", EGRESS_MAX, 1, EGRESS_LEN_MAX, true,
					&nt->egress_deny, &nt->negress_deny)))
		return rc;
	return EIMG_OK;
}

int eimg_mf_parse_nitro(struct ctx *c, const struct node *map)
{
	static const char *const names[] = {
		"kernel", "kernel_config", "cmdline", "init", "nsm", "blobs",
		"app", "entrypoint", "image", "platform", "image_digest", "image_config", "env", "working_dir",
		"memory", "cpus", "ingress", "egress", "supervisor", "supervisor_sha384"
	};
	enum { KERNEL, APP = 6, MEMORY = 14, CPUS, INGRESS, EGRESS, SUPERVISOR, NKEYS = SUPERVISOR + 2 };
	const struct node *keys[NKEYS], *vals[NKEYS];
	struct eimg_manifest_nitro *nt = &c->m->nitro;
	char d[128];
	uint64_t v;
	int rc;

	if (map->kind != N_MAP)
		return eimg_mf_nerr(c, map, "nitro", "expected a mapping, got %s", eimg_mf_describe(map, d, sizeof(d)));
	if ((rc = eimg_mf_map_keys(c, map, "nitro", names, NKEYS, keys, vals)))
		return rc;
	nt->memory_mib = 512;
	nt->cpus = 2;
	if ((rc = parse_nitro_boot(c, map, vals + KERNEL)) || (rc = parse_nitro_app(c, map, vals + APP)) ||
	    (rc = parse_nitro_supervisor(c, vals + SUPERVISOR)))
		return rc;
	if (vals[MEMORY]) {
		if ((rc = eimg_mf_get_size(c, vals[MEMORY], "nitro.memory", 64ull << 20, MEMORY_MAX, 1ull << 20, &v)))
			return rc;
		nt->memory_mib = v >> 20;
	}
	if (vals[CPUS]) {
		if ((rc = eimg_mf_get_uint(c, vals[CPUS], "nitro.cpus", 1, 64, false, &v)))
			return rc;
		nt->cpus = (uint32_t)v;
	}
	if (vals[INGRESS] && (rc = get_ingress(c, vals[INGRESS], nt)))
		return rc;
	if (vals[EGRESS] && (rc = get_egress(c, vals[EGRESS], nt)))
		return rc;
	return EIMG_OK;
}
