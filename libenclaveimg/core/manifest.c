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

/* Limits besides those in manifest.h (all documented in enclave-manifest(5)). */
#define NAME_MAX_LEN      64          /* manifest name */

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

/* The name of an entry without one: its file's base name. */
static int name_from_path(struct ctx *c, const struct node *v, const char *sub, const char *base, char **out)
{
	const char *slash = strrchr(v->str, '/');
	const char *b = slash ? slash + 1 : v->str;
	if (!eimg_mf_valid_entry_name(b, strlen(b))) {
		char esc[96];
		eimg_escape(b, strlen(b), esc, sizeof(esc));
		return eimg_mf_nerr(c, v, sub, "the file name \"%s\" is not a valid name; set %s.name", esc, base);
	}
	*out = strdup(b);
	return EIMG_OK;
}

/* One {path, name} mapping, item i of key, into *e; *where: the node that
 * gave the name. */
static int get_entry(struct ctx *c, const struct node *item, const char *key, size_t i,
		     struct eimg_manifest_entry *e, const struct node **where)
{
	static const char *const names[] = { "path", "name" };
	char d[128], base[PATHSZ], sub[PATHSZ], sub2[PATHSZ];
	const struct node *keys[2], *vals[2];
	int rc;

	eimg_mf_path_index(base, sizeof(base), key, i);
	if (item->kind != N_MAP)
		return eimg_mf_nerr(c, item, base, "expected a mapping with path and name, got %s",
			  eimg_mf_describe(item, d, sizeof(d)));
	if ((rc = eimg_mf_map_keys(c, item, base, names, 2, keys, vals)))
		return rc;
	eimg_mf_path_key(sub, sizeof(sub), base, "path", 4);
	eimg_mf_path_key(sub2, sizeof(sub2), base, "name", 4);
	/* In image mode (base_dir NULL) entries carry only a name. */
	if (!vals[0] && (c->base_dir || !vals[1]))
		return eimg_mf_missing(c, item, base, c->base_dir ? "path" : "name");
	if (vals[0]) {
		if ((rc = eimg_mf_get_path(c, vals[0], sub, 'f', &e->path)))
			return rc;
		e->pos.line = vals[0]->line;
		e->pos.column = vals[0]->col;
	}
	if (vals[1]) {
		const struct node *v = vals[1];
		if ((rc = eimg_mf_want_scalar(c, v, sub2, "a name")))
			return rc;
		if (!eimg_mf_valid_entry_name(v->str, v->len))
			return eimg_mf_nerr(c, v, sub2,
				  "expected 1 to %d characters of A-Z a-z 0-9 . _ - (not \".\" or \"..\"), got %s",
				  EIMG_MANIFEST_MAX_NAME, eimg_mf_describe(v, d, sizeof(d)));
		e->name = strdup(v->str);
		*where = v;
		if (!vals[0]) {
			e->pos.line = v->line;
			e->pos.column = v->col;
		}
	} else {
		if ((rc = name_from_path(c, vals[0], sub, base, &e->name)))
			return rc;
		*where = vals[0];
	}
	return e->name ? EIMG_OK : eimg_err_nomem(c->err);
}

/* No two of the n entries share a name: the first duplicate (in the order
 * written) is named with the entry it repeats. */
static int check_unique(struct ctx *c, const struct eimg_manifest_entry *e, size_t n, struct nameref *refs,
			const struct node *const *where, const char *key)
{
	char sub[PATHSZ];
	qsort(refs, n, sizeof(*refs), nameref_cmp);
	size_t dup = SIZE_MAX, first = 0;
	for (size_t i = 1; i < n; i++)
		if (strcmp(refs[i].name, refs[i - 1].name) == 0 && refs[i].index < dup) {
			dup = refs[i].index;
			first = refs[i - 1].index;
		}
	if (dup == SIZE_MAX)
		return EIMG_OK;
	char esc[96];
	snprintf(sub, sizeof(sub), "%s[%zu].name", key, dup);
	eimg_escape(e[dup].name, strlen(e[dup].name), esc, sizeof(esc));
	return eimg_mf_nerr(c, where[dup], sub, "duplicate name \"%s\" (also %s[%zu])", esc, key, first);
}

/* files: / user_keys: a sequence of {path, name} mappings. */
static int get_entries(struct ctx *c, const struct node *seq, const char *key, size_t max,
		       struct eimg_manifest_entry **out, size_t *nout)
{
	char d[128];
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
		if ((rc = get_entry(c, seq->kids[i], key, i, &e[i], &where[i])))
			goto out;
		n++;
		refs[i].name = e[i].name;
		refs[i].index = i;
	}
	if (n > 1) {
		if ((rc = check_unique(c, e, n, refs, where, key)))
			goto out;
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

enum { ENCLAVE, HEAP, STACK, THREADS, NSSA, SSASIZE, PRODID, SVN, DEBUG, WX, XFRM, XFRMMASK,
       MISC, MISCMASK, KSS, FAMILY, EXTPROD, SGX_NKEYS };
static const char *const sgx_names[] = {
	"enclave", "heap_size", "stack_size", "threads", "ssa_frames", "ssa_frame_size",
	"product_id", "security_version", "debug", "allow_write_exec", "xfrm", "xfrm_mask",
	"misc_select", "misc_mask", "kss", "isv_family_id", "isv_ext_product_id"
};

static void sgx_defaults(struct eimg_manifest_sgx *s)
{
	s->heap_size = 1ull << 20;
	s->stack_size = 64ull << 10;
	s->threads = 1;
	s->ssa_frames = 2;
	s->ssa_frame_size = 1;
	s->xfrm = 0x3;
	s->xfrm_mask = 0xffffffffffffff1bull;
	s->misc_select = 0;
	s->misc_mask = 0xffffffffu;
}

/* The number vals[i] gives (sgx.<name>, within [min, max]) into *out, a
 * uint16_t (width 2) or a uint32_t (width 4); nothing when absent. */
static int sgx_uint(struct ctx *c, const struct node *const *vals, int i, uint64_t min, uint64_t max, bool hex,
		    void *out, size_t width)
{
	char sub[PATHSZ];
	uint64_t v;
	int rc;
	if (!vals[i])
		return EIMG_OK;
	snprintf(sub, sizeof(sub), "sgx.%s", sgx_names[i]);
	if ((rc = eimg_mf_get_uint(c, vals[i], sub, min, max, hex, &v)))
		return rc;
	if (width == 2)
		*(uint16_t *)out = (uint16_t)v;
	else
		*(uint32_t *)out = (uint32_t)v;
	return EIMG_OK;
}

/* Sizes, counts, identity numbers and flags, in the order of the schema. */
static int sgx_values(struct ctx *c, const struct node *const *vals, struct eimg_manifest_sgx *s)
{
	char d[128];
	int rc;
	if (vals[HEAP] && (rc = eimg_mf_get_size(c, vals[HEAP], "sgx.heap_size", 4096, 32ull << 30, 4096, &s->heap_size)))
		return rc;
	if (vals[STACK] && (rc = eimg_mf_get_size(c, vals[STACK], "sgx.stack_size", 4096, 1ull << 30, 4096, &s->stack_size)))
		return rc;
	if ((rc = sgx_uint(c, vals, THREADS, 1, EIMG_MAX_THREADS, false, &s->threads, 4)) ||
	    (rc = sgx_uint(c, vals, NSSA, 1, 16, false, &s->ssa_frames, 4)) ||
	    (rc = sgx_uint(c, vals, SSASIZE, 1, 16, false, &s->ssa_frame_size, 4)) ||
	    (rc = sgx_uint(c, vals, PRODID, 0, 65535, false, &s->product_id, 2)) ||
	    (rc = sgx_uint(c, vals, SVN, 0, 65535, false, &s->security_version, 2)))
		return rc;
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
	if ((rc = sgx_uint(c, vals, MISC, 0, 0xffffffffu, true, &s->misc_select, 4)) ||
	    (rc = sgx_uint(c, vals, MISCMASK, 0, 0xffffffffu, true, &s->misc_mask, 4)))
		return rc;
	if (vals[KSS] && (rc = eimg_mf_get_bool(c, vals[KSS], "sgx.kss", &s->kss)))
		return rc;
	return EIMG_OK;
}

/* isv_family_id and isv_ext_product_id: 32 hex digits, only with kss. */
static int sgx_kss_ids(struct ctx *c, const struct node *const *keys, const struct node *const *vals,
		       struct eimg_manifest_sgx *s)
{
	char d[128], sub[PATHSZ];
	int rc;
	for (int i = FAMILY; i <= EXTPROD; i++) {
		if (!vals[i])
			continue;
		snprintf(sub, sizeof(sub), "sgx.%s", sgx_names[i]);
		if (!s->kss)
			return eimg_mf_nerr(c, keys[i], sub, "only allowed with kss: true");
		if ((rc = eimg_mf_want_scalar(c, vals[i], sub, "32 hex digits")))
			return rc;
		uint8_t *dst = i == FAMILY ? s->isv_family_id : s->isv_ext_product_id;
		if (vals[i]->len != 32 || eimg_unhex(vals[i]->str, dst, 16, sub, NULL) != EIMG_OK)
			return eimg_mf_nerr(c, vals[i], sub, "expected 32 hex digits, got %s", eimg_mf_describe(vals[i], d, sizeof(d)));
	}
	return EIMG_OK;
}

static int parse_sgx(struct ctx *c, const struct node *map)
{
	const struct node *keys[SGX_NKEYS], *vals[SGX_NKEYS];
	struct eimg_manifest_sgx *s = &c->m->sgx;
	char d[128];
	int rc;

	if (map->kind != N_MAP)
		return eimg_mf_nerr(c, map, "sgx", "expected a mapping, got %s", eimg_mf_describe(map, d, sizeof(d)));
	if ((rc = eimg_mf_map_keys(c, map, "sgx", sgx_names, SGX_NKEYS, keys, vals)))
		return rc;
	sgx_defaults(s);
	if (!vals[ENCLAVE])
		return eimg_mf_missing(c, map, "sgx", "enclave");
	if ((rc = eimg_mf_get_path(c, vals[ENCLAVE], "sgx.enclave", 'f', &s->enclave)))
		return rc;
	s->enclave_pos.line = vals[ENCLAVE]->line;
	s->enclave_pos.column = vals[ENCLAVE]->col;
	if ((rc = sgx_values(c, vals, s)) || (rc = sgx_kss_ids(c, keys, vals, s)))
		return rc;

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
		if ((rc = eimg_mf_parse_nitro(c, vals[NITRO])))
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
	free(m->nitro.supervisor);
	free(m->nitro.supervisor_sha384);
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
