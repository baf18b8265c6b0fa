/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave manifest, phase two: the node tree read by manifest_yaml.c is
 * checked against the schema (sgx, nitro, runtime, top level) and copied into
 * an eimg_manifest.  Format: man/enclave-manifest.5. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "eimg/manifest.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "core/manifest_int.h"
#include "net/net_int.h"

/* Limits besides those in manifest.h (all documented in enclave-manifest(5)). */
#define NAME_MAX_LEN      64          /* manifest name */
#define CMDLINE_MAX       2047        /* kernel command line bytes */
#define ARG_MAX_LEN       4096        /* one entrypoint argument */
#define ENTRYPOINT_MAX    256         /* entrypoint arguments */
#define PORTS_MAX         1024        /* ingress ports */
#define EGRESS_MAX        1024        /* entries of egress.allow / egress.deny */
#define EGRESS_LEN_MAX    253         /* one egress pattern */
#define MEMORY_MAX        (4ull << 40) /* nitro memory: 4 TiB */

/* ------------------------------------------------------------ entries */

static int entry_cmp(const void *a, const void *b)
{
	const struct eimg_manifest_entry *x = a, *y = b;
	return strcmp(x->name, y->name);
}

struct nameref {
	const char *name;
	size_t index;
};

static int nameref_cmp(const void *a, const void *b)
{
	const struct nameref *x = a, *y = b;
	int r = strcmp(x->name, y->name);
	if (r)
		return r;
	return x->index < y->index ? -1 : x->index > y->index;
}

static void free_entries(struct eimg_manifest_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].path);
	}
	free(e);
}

/* files: / user_keys: a sequence of {path, name} mappings. */
static int get_entries(struct ctx *c, const struct node *seq, const char *key, size_t max,
		       struct eimg_manifest_entry **out, size_t *nout)
{
	static const char *const names[] = { "path", "name" };
	char d[128], sub[PATHSZ], sub2[PATHSZ];
	const struct node *keys[2], *vals[2];
	const struct node **where = NULL;
	struct eimg_manifest_entry *e = NULL;
	struct nameref *refs = NULL;
	size_t n = 0;
	int rc;

	if (seq->kind != N_SEQ)
		return eimg_mf_nerr(c, seq, key, "expected a sequence, got %s", eimg_mf_describe(seq, d, sizeof(d)));
	if (seq->n > max)
		return eimg_mf_nerr(c, seq, key, "more than %zu entries (limit)", max);
	if (seq->n) {
		e = calloc(seq->n, sizeof(*e));
		where = calloc(seq->n, sizeof(*where));
		refs = calloc(seq->n, sizeof(*refs));
		if (!e || !where || !refs) {
			rc = eimg_err_nomem(c->err);
			goto out;
		}
	}
	for (size_t i = 0; i < seq->n; i++) {
		const struct node *item = seq->kids[i];
		char base[PATHSZ];
		eimg_mf_path_index(base, sizeof(base), key, i);
		if (item->kind != N_MAP) {
			rc = eimg_mf_nerr(c, item, base, "expected a mapping with path and name, got %s",
				  eimg_mf_describe(item, d, sizeof(d)));
			goto out;
		}
		if ((rc = eimg_mf_map_keys(c, item, base, names, 2, keys, vals)))
			goto out;
		n++;
		eimg_mf_path_key(sub, sizeof(sub), base, "path", 4);
		eimg_mf_path_key(sub2, sizeof(sub2), base, "name", 4);
		/* In image mode (base_dir NULL) entries carry only a name. */
		if (!vals[0] && (c->base_dir || !vals[1])) {
			rc = eimg_mf_missing(c, item, base, c->base_dir ? "path" : "name");
			goto out;
		}
		if (vals[0]) {
			if ((rc = eimg_mf_get_path(c, vals[0], sub, 'f', &e[i].path)))
				goto out;
			e[i].pos.line = vals[0]->line;
			e[i].pos.column = vals[0]->col;
		}
		if (vals[1]) {
			const struct node *v = vals[1];
			if ((rc = eimg_mf_want_scalar(c, v, sub2, "a name")))
				goto out;
			if (!eimg_mf_valid_entry_name(v->str, v->len)) {
				rc = eimg_mf_nerr(c, v, sub2,
					  "expected 1 to %d characters of A-Z a-z 0-9 . _ - (not \".\" or \"..\"), got %s",
					  EIMG_MANIFEST_MAX_NAME, eimg_mf_describe(v, d, sizeof(d)));
				goto out;
			}
			e[i].name = strdup(v->str);
			where[i] = v;
			if (!vals[0]) {
				e[i].pos.line = v->line;
				e[i].pos.column = v->col;
			}
		} else {
			const struct node *v = vals[0];
			const char *slash = strrchr(v->str, '/');
			const char *b = slash ? slash + 1 : v->str;
			if (!eimg_mf_valid_entry_name(b, strlen(b))) {
				char esc[96];
				eimg_escape(b, strlen(b), esc, sizeof(esc));
				rc = eimg_mf_nerr(c, v, sub, "the file name \"%s\" is not a valid name; set %s.name", esc, base);
				goto out;
			}
			e[i].name = strdup(b);
			where[i] = v;
		}
		if (!e[i].name) {
			rc = eimg_err_nomem(c->err);
			goto out;
		}
		refs[i].name = e[i].name;
		refs[i].index = i;
	}
	if (n > 1) {
		qsort(refs, n, sizeof(*refs), nameref_cmp);
		size_t dup = SIZE_MAX, first = 0;
		for (size_t i = 1; i < n; i++)
			if (strcmp(refs[i].name, refs[i - 1].name) == 0 && refs[i].index < dup) {
				dup = refs[i].index;
				first = refs[i - 1].index;
			}
		if (dup != SIZE_MAX) {
			char esc[96];
			snprintf(sub, sizeof(sub), "%s[%zu].name", key, dup);
			eimg_escape(e[dup].name, strlen(e[dup].name), esc, sizeof(esc));
			rc = eimg_mf_nerr(c, where[dup], sub, "duplicate name \"%s\" (also %s[%zu])", esc, key, first);
			goto out;
		}
		qsort(e, n, sizeof(*e), entry_cmp);
	}
	*out = e;
	*nout = n;
	e = NULL;
	rc = EIMG_OK;
out:
	if (e)
		free_entries(e, seq->n);
	free(where);
	free(refs);
	return rc;
}

/* ---------------------------------------------------------------- sgx */

static int parse_sgx(struct ctx *c, const struct node *map)
{
	static const char *const names[] = {
		"enclave", "heap_size", "stack_size", "threads", "ssa_frames", "ssa_frame_size",
		"product_id", "security_version", "debug", "allow_write_exec", "xfrm", "xfrm_mask",
		"misc_select", "misc_mask", "kss", "isv_family_id", "isv_ext_product_id"
	};
	enum { ENCLAVE, HEAP, STACK, THREADS, NSSA, SSASIZE, PRODID, SVN, DEBUG, WX, XFRM, XFRMMASK,
	       MISC, MISCMASK, KSS, FAMILY, EXTPROD, NKEYS };
	const struct node *keys[NKEYS], *vals[NKEYS];
	struct eimg_manifest_sgx *s = &c->m->sgx;
	char d[128], sub[PATHSZ];
	uint64_t v;
	int rc;

	if (map->kind != N_MAP)
		return eimg_mf_nerr(c, map, "sgx", "expected a mapping, got %s", eimg_mf_describe(map, d, sizeof(d)));
	if ((rc = eimg_mf_map_keys(c, map, "sgx", names, NKEYS, keys, vals)))
		return rc;

	s->heap_size = 1ull << 20;
	s->stack_size = 64ull << 10;
	s->threads = 1;
	s->ssa_frames = 2;
	s->ssa_frame_size = 1;
	s->xfrm = 0x3;
	s->xfrm_mask = 0xffffffffffffff1bull;
	s->misc_select = 0;
	s->misc_mask = 0xffffffffu;

	if (!vals[ENCLAVE])
		return eimg_mf_missing(c, map, "sgx", "enclave");
	if ((rc = eimg_mf_get_path(c, vals[ENCLAVE], "sgx.enclave", 'f', &s->enclave)))
		return rc;
	s->enclave_pos.line = vals[ENCLAVE]->line;
	s->enclave_pos.column = vals[ENCLAVE]->col;
	if (vals[HEAP] && (rc = eimg_mf_get_size(c, vals[HEAP], "sgx.heap_size", 4096, 32ull << 30, 4096, &s->heap_size)))
		return rc;
	if (vals[STACK] && (rc = eimg_mf_get_size(c, vals[STACK], "sgx.stack_size", 4096, 1ull << 30, 4096, &s->stack_size)))
		return rc;
	if (vals[THREADS]) {
		if ((rc = eimg_mf_get_uint(c, vals[THREADS], "sgx.threads", 1, EIMG_MAX_THREADS, false, &v)))
			return rc;
		s->threads = (uint32_t)v;
	}
	if (vals[NSSA]) {
		if ((rc = eimg_mf_get_uint(c, vals[NSSA], "sgx.ssa_frames", 1, 16, false, &v)))
			return rc;
		s->ssa_frames = (uint32_t)v;
	}
	if (vals[SSASIZE]) {
		if ((rc = eimg_mf_get_uint(c, vals[SSASIZE], "sgx.ssa_frame_size", 1, 16, false, &v)))
			return rc;
		s->ssa_frame_size = (uint32_t)v;
	}
	if (vals[PRODID]) {
		if ((rc = eimg_mf_get_uint(c, vals[PRODID], "sgx.product_id", 0, 65535, false, &v)))
			return rc;
		s->product_id = (uint16_t)v;
	}
	if (vals[SVN]) {
		if ((rc = eimg_mf_get_uint(c, vals[SVN], "sgx.security_version", 0, 65535, false, &v)))
			return rc;
		s->security_version = (uint16_t)v;
	}
	if (vals[DEBUG] && (rc = eimg_mf_get_bool(c, vals[DEBUG], "sgx.debug", &s->debug)))
		return rc;
	if (vals[WX] && (rc = eimg_mf_get_bool(c, vals[WX], "sgx.allow_write_exec", &s->allow_write_exec)))
		return rc;
	if (vals[XFRM]) {
		if ((rc = eimg_mf_get_uint(c, vals[XFRM], "sgx.xfrm", 0, UINT64_MAX, true, &s->xfrm)))
			return rc;
		if ((s->xfrm & 3) != 3)
			return eimg_mf_nerr(c, vals[XFRM], "sgx.xfrm",
				    "bits 0 and 1 (x87 and SSE) must be set, got %s", eimg_mf_describe(vals[XFRM], d, sizeof(d)));
	}
	if (vals[XFRMMASK] && (rc = eimg_mf_get_uint(c, vals[XFRMMASK], "sgx.xfrm_mask", 0, UINT64_MAX, true, &s->xfrm_mask)))
		return rc;
	if (vals[MISC]) {
		if ((rc = eimg_mf_get_uint(c, vals[MISC], "sgx.misc_select", 0, 0xffffffffu, true, &v)))
			return rc;
		s->misc_select = (uint32_t)v;
	}
	if (vals[MISCMASK]) {
		if ((rc = eimg_mf_get_uint(c, vals[MISCMASK], "sgx.misc_mask", 0, 0xffffffffu, true, &v)))
			return rc;
		s->misc_mask = (uint32_t)v;
	}
	if (vals[KSS] && (rc = eimg_mf_get_bool(c, vals[KSS], "sgx.kss", &s->kss)))
		return rc;
	for (int i = FAMILY; i <= EXTPROD; i++) {
		if (!vals[i])
			continue;
		snprintf(sub, sizeof(sub), "sgx.%s", names[i]);
		if (!s->kss)
			return eimg_mf_nerr(c, keys[i], sub, "only allowed with kss: true");
		if ((rc = eimg_mf_want_scalar(c, vals[i], sub, "32 hex digits")))
			return rc;
		uint8_t *dst = i == FAMILY ? s->isv_family_id : s->isv_ext_product_id;
		if (vals[i]->len != 32 || eimg_unhex(vals[i]->str, dst, 16, sub, NULL) != EIMG_OK)
			return eimg_mf_nerr(c, vals[i], sub, "expected 32 hex digits, got %s", eimg_mf_describe(vals[i], d, sizeof(d)));
	}

	/* Lower bound of the enclave size without the ELF: heap, and per thread
	 * a guard page, the stack, TCS, TLS and SSA pages (enclave-measurement(7)). */
	uint64_t per, total;
	per = s->stack_size + (uint64_t)(3 + s->ssa_frames * s->ssa_frame_size) * EIMG_PAGE;
	if (eimg_mul_overflow(per, s->threads, &total) || eimg_add_overflow(total, s->heap_size, &total) ||
	    total > EIMG_MAX_ENCLAVE_SIZE)
		return eimg_mf_nerr(c, map, "sgx", "heap, stacks and thread pages need more than the %llu GiB limit",
			    (unsigned long long)(EIMG_MAX_ENCLAVE_SIZE >> 30));
	return EIMG_OK;
}

/* -------------------------------------------------------------- nitro */

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
			static const char extra[] = ".*:/_-";
			if ((rc = eimg_mf_want_scalar(c, v, sub, "a host name or address")))
				goto fail;
			bool ok = v->len >= 1 && v->len <= EGRESS_LEN_MAX;
			for (size_t j = 0; ok && j < v->len; j++) {
				char ch = v->str[j];
				ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				     (ch >= '0' && ch <= '9') || strchr(extra, ch);
			}
			if (!ok) {
				rc = eimg_mf_nerr(c, v, sub,
					  "expected a host name pattern or address of 1 to %d characters of A-Z a-z 0-9 . * : / _ -, got %s",
					  EGRESS_LEN_MAX, eimg_mf_describe(v, d, sizeof(d)));
				goto fail;
			}
			const char *why = eimg_net_pattern_error(v->str);
			if (why) {
				/* the rules of enclave-nitro(7), NETWORK POLICY: caught here, not at boot */
				rc = eimg_mf_nerr(c, v, sub, "%s: %s", eimg_mf_describe(v, d, sizeof(d)), why);
				goto fail;
			}
			list[i] = strdup(v->str);
			if (!list[i]) {
				rc = eimg_err_nomem(c->err);
				goto fail;
			}
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

static int parse_nitro(struct ctx *c, const struct node *map)
{
	static const char *const names[] = {
		"kernel", "kernel_config", "cmdline", "init", "nsm", "blobs",
		"app", "entrypoint", "image", "platform", "image_digest", "image_config", "env", "working_dir",
		"memory", "cpus", "ingress", "egress"
	};
	enum { KERNEL, APP = 6, MEMORY = 14, CPUS, INGRESS, EGRESS, NKEYS };
	const struct node *keys[NKEYS], *vals[NKEYS];
	struct eimg_manifest_nitro *nt = &c->m->nitro;
	char d[128], sub[PATHSZ];
	uint64_t v;
	int rc;

	if (map->kind != N_MAP)
		return eimg_mf_nerr(c, map, "nitro", "expected a mapping, got %s", eimg_mf_describe(map, d, sizeof(d)));
	if ((rc = eimg_mf_map_keys(c, map, "nitro", names, NKEYS, keys, vals)))
		return rc;
	nt->memory_mib = 512;
	nt->cpus = 2;
	if ((rc = parse_nitro_boot(c, map, vals + KERNEL)) || (rc = parse_nitro_app(c, map, vals + APP)))
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
	if (vals[INGRESS]) {
		const struct node *seq = vals[INGRESS];
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
	}
	if (vals[EGRESS]) {
		static const char *const enames[] = { "allow", "deny" };
		const struct node *ek[2], *ev[2];
		const struct node *e = vals[EGRESS];
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
	}
	return EIMG_OK;
}

/* ------------------------------------------------------------ runtime */

/* Plain scalar that is an integer fitting json_int_t: -?(0|[1-9][0-9]*) or 0x hex. */
static bool runtime_int(const struct node *n, json_int_t *out)
{
	const char *s = n->str;
	bool neg = false;
	uint64_t v;
	if (*s == '-') {
		neg = true;
		s++;
		if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
			return false;
	}
	if (!eimg_mf_parse_u64(s, &v))
		return false;
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return false;
		*out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(json_int_t)v;
	} else {
		if (v > (uint64_t)INT64_MAX)
			return false;
		*out = (json_int_t)v;
	}
	return true;
}

static int to_json(struct ctx *c, const struct node *n, const char *path, json_t **out)
{
	char sub[PATHSZ];
	json_t *j = NULL;
	int rc;
	if (n->kind == N_SCALAR) {
		json_int_t iv;
		if (n->plain && strcmp(n->str, "true") == 0)
			j = json_true();
		else if (n->plain && strcmp(n->str, "false") == 0)
			j = json_false();
		else if (n->plain && runtime_int(n, &iv))
			j = json_integer(iv);
		else
			j = json_stringn(n->str, n->len);
		if (!j)
			return eimg_mf_nerr(c, n, path, "not valid UTF-8");
	} else if (n->kind == N_SEQ) {
		j = json_array();
		if (!j)
			return eimg_err_nomem(c->err);
		for (size_t i = 0; i < n->n; i++) {
			json_t *kid;
			eimg_mf_path_index(sub, sizeof(sub), path, i);
			if ((rc = to_json(c, n->kids[i], sub, &kid)))
				goto fail;
			if (json_array_append_new(j, kid) < 0) {
				rc = eimg_err_nomem(c->err);
				goto fail;
			}
		}
	} else {
		j = json_object();
		if (!j)
			return eimg_err_nomem(c->err);
		for (size_t i = 0; i + 1 < n->n; i += 2) {
			const struct node *k = n->kids[i];
			json_t *kid;
			eimg_mf_path_key(sub, sizeof(sub), path, k->str, k->len);
			if ((rc = to_json(c, n->kids[i + 1], sub, &kid)))
				goto fail;
			if (json_object_set_new(j, k->str, kid) < 0) {
				rc = eimg_mf_nerr(c, k, sub, "key is not valid UTF-8");
				goto fail;
			}
		}
	}
	*out = j;
	return EIMG_OK;
fail:
	json_decref(j);
	return rc;
}

static int parse_runtime(struct ctx *c, const struct node *n)
{
	char d[128];
	json_t *j = NULL;
	int rc;
	if (n->kind != N_MAP)
		return eimg_mf_nerr(c, n, "runtime", "expected a mapping, got %s", eimg_mf_describe(n, d, sizeof(d)));
	if ((rc = to_json(c, n, "runtime", &j)))
		return rc;
	char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(j);
	if (!s)
		return eimg_err_nomem(c->err);
	free(c->m->runtime_json);
	c->m->runtime_json = s;
	return EIMG_OK;
}

/* ---------------------------------------------------------------- top */

static int parse_top(struct ctx *c, const struct node *root)
{
	static const char *const names[] = {
		"version", "name", "target", "mode", "sgx", "files", "user_keys", "runtime", "nitro"
	};
	enum { VERSION, NAME, TARGET, MODE, SGX, FILES, KEYS, RUNTIME, NITRO, NKEYS };
	const struct node *keys[NKEYS], *vals[NKEYS];
	eimg_manifest *m = c->m;
	char d[128];
	uint64_t v;
	int rc;

	if ((rc = eimg_mf_map_keys(c, root, "", names, NKEYS, keys, vals)))
		return rc;
	if (!vals[VERSION])
		return eimg_mf_missing(c, root, "", "version");
	if ((rc = eimg_mf_get_uint(c, vals[VERSION], "version", 0, UINT64_MAX, false, &v)))
		return rc;
	if (v != 1)
		return eimg_mf_nerr(c, vals[VERSION], "version", "unsupported version %" PRIu64 " (only 1 is accepted)", v);
	m->version = 1;

	if (!vals[NAME])
		return eimg_mf_missing(c, root, "", "name");
	const struct node *nm = vals[NAME];
	if ((rc = eimg_mf_want_scalar(c, nm, "name", "a name")))
		return rc;
	if (nm->len < 1 || nm->len > NAME_MAX_LEN || !eimg_mf_name_chars(nm->str, nm->len) || nm->str[0] == '.')
		return eimg_mf_nerr(c, nm, "name",
			    "expected 1 to %d characters of A-Z a-z 0-9 . _ - not starting with \".\", got %s",
			    NAME_MAX_LEN, eimg_mf_describe(nm, d, sizeof(d)));
	if (!(m->name = strdup(nm->str)))
		return eimg_err_nomem(c->err);

	if (!vals[TARGET])
		return eimg_mf_missing(c, root, "", "target");
	const struct node *t = vals[TARGET];
	if ((rc = eimg_mf_want_scalar(c, t, "target", "sgx or nitro")))
		return rc;
	if (strcmp(t->str, "sgx") == 0)
		m->target = EIMG_TARGET_SGX;
	else if (strcmp(t->str, "nitro") == 0)
		m->target = EIMG_TARGET_NITRO;
	else
		return eimg_mf_nerr(c, t, "target", "expected sgx or nitro, got %s", eimg_mf_describe(t, d, sizeof(d)));

	m->mode = EIMG_MODE_HARDWARE;
	if (vals[MODE]) {
		const struct node *md = vals[MODE];
		if ((rc = eimg_mf_want_scalar(c, md, "mode", "hardware or simulation")))
			return rc;
		if (strcmp(md->str, "hardware") == 0)
			m->mode = EIMG_MODE_HARDWARE;
		else if (strcmp(md->str, "simulation") == 0)
			m->mode = EIMG_MODE_SIMULATION;
		else
			return eimg_mf_nerr(c, md, "mode", "expected hardware or simulation, got %s", eimg_mf_describe(md, d, sizeof(d)));
		if (m->target == EIMG_TARGET_NITRO && m->mode != EIMG_MODE_HARDWARE)
			return eimg_mf_nerr(c, md, "mode", "only hardware is available with target nitro");
	}

	if (m->target == EIMG_TARGET_SGX) {
		if (keys[NITRO])
			return eimg_mf_nerr(c, keys[NITRO], "nitro", "not allowed with target sgx");
		if (!vals[SGX])
			return eimg_mf_missing(c, root, "", "sgx");
		if ((rc = parse_sgx(c, vals[SGX])))
			return rc;
		if (vals[FILES] && (rc = get_entries(c, vals[FILES], "files", EIMG_MANIFEST_MAX_FILES,
						     &m->files, &m->nfiles)))
			return rc;
		if (vals[KEYS] && (rc = get_entries(c, vals[KEYS], "user_keys", EIMG_MANIFEST_MAX_KEYS,
						    &m->keys, &m->nkeys)))
			return rc;
	} else {
		for (int i = SGX; i <= KEYS; i++)
			if (keys[i])
				return eimg_mf_nerr(c, keys[i], names[i], "not allowed with target nitro");
		if (!vals[NITRO])
			return eimg_mf_missing(c, root, "", "nitro");
		if ((rc = parse_nitro(c, vals[NITRO])))
			return rc;
	}
	if (vals[RUNTIME] && (rc = parse_runtime(c, vals[RUNTIME])))
		return rc;
	return EIMG_OK;
}

/* ---------------------------------------------------------------- API */

static void free_strs(char **l, size_t n)
{
	for (size_t i = 0; l && i < n; i++)
		free(l[i]);
	free(l);
}

void eimg_manifest_free(eimg_manifest *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->sgx.enclave);
	free(m->nitro.kernel);
	free(m->nitro.kernel_config);
	free(m->nitro.cmdline);
	free(m->nitro.init);
	free(m->nitro.app);
	free(m->nitro.blobs);
	free(m->nitro.nsm);
	free(m->nitro.image);
	free(m->nitro.platform);
	free(m->nitro.image_digest);
	free(m->nitro.image_config);
	free(m->nitro.working_dir);
	free_strs(m->nitro.env, m->nitro.env_len);
	free_strs(m->nitro.entrypoint, m->nitro.entrypoint_len);
	free(m->nitro.ingress);
	free_strs(m->nitro.egress_allow, m->nitro.negress_allow);
	free_strs(m->nitro.egress_deny, m->nitro.negress_deny);
	free_entries(m->files, m->nfiles);
	free_entries(m->keys, m->nkeys);
	free(m->runtime_json);
	free(m->source);
	free(m);
}

int eimg_manifest_parse_buffer(const char *name, const char *buf, size_t len, const char *base_dir,
			       eimg_manifest **out, eimg_error *err)
{
	struct ctx c = { .source = name ? name : "manifest", .base_dir = base_dir, .err = err };
	struct node *root = NULL;
	int rc;

	if (!buf && len)
		return eimg_err(err, EIMG_EUSAGE, c.source, "no manifest buffer");
	if (len > EIMG_MANIFEST_MAX_BYTES)
		return eimg_err(err, EIMG_EINVAL, c.source, "manifest is %zu bytes, above the limit of %u",
				len, (unsigned)EIMG_MANIFEST_MAX_BYTES);
	c.m = calloc(1, sizeof(*c.m));
	if (!c.m)
		return eimg_err_nomem(err);
	c.m->source = strdup(c.source);
	c.m->runtime_json = strdup("{}");
	if (!c.m->source || !c.m->runtime_json) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if ((rc = eimg_mf_build_tree(&c, buf ? buf : "", len, &root)))
		goto out;
	if ((rc = eimg_mf_check_tree(&c, root, "")))
		goto out;
	if ((rc = parse_top(&c, root)))
		goto out;
	*out = c.m;
	c.m = NULL;
out:
	eimg_mf_node_free(root);
	eimg_manifest_free(c.m);
	return rc;
}

int eimg_manifest_parse_file(const char *path, eimg_manifest **out, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len;
	char *dir = NULL;
	int rc = eimg_read_file(path, EIMG_MANIFEST_MAX_BYTES, &buf, &len, err);
	if (rc)
		return rc;
	const char *slash = strrchr(path, '/');
	if (slash)
		dir = slash == path ? strdup("/") : strndup(path, (size_t)(slash - path));
	else
		dir = strdup(".");
	if (!dir) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	rc = eimg_manifest_parse_buffer(path, (const char *)buf, len, dir, out, err);
out:
	free(dir);
	free(buf);
	return rc;
}
