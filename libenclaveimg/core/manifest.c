/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave manifest: YAML parsing (libyaml event API), validation, the
 * canonical measured JSON form (jansson).  Format: man/enclave-manifest.5.
 *
 * Two phases: (1) the libyaml events are turned into a small node tree with
 * positions, refusing anchors, aliases, tags, directives, several documents
 * and anything above the documented limits; (2) the tree is checked against
 * the schema and copied into an eimg_manifest.  Only this file includes yaml.h. */
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
#include <yaml.h>

#include "eimg/manifest.h"
#include "eimg/util.h"
#include "core/internal.h"

/* Limits besides those in manifest.h (all documented in enclave-manifest(5)). */
#define NAME_MAX_LEN      64          /* manifest name */
#define CMDLINE_MAX       2047        /* kernel command line bytes */
#define ARG_MAX_LEN       4096        /* one entrypoint argument */
#define ENTRYPOINT_MAX    256         /* entrypoint arguments */
#define PORTS_MAX         1024        /* ingress ports */
#define EGRESS_MAX        1024        /* entries of egress.allow / egress.deny */
#define EGRESS_LEN_MAX    253         /* one egress pattern */
#define MEMORY_MAX        (4ull << 40) /* nitro memory: 4 TiB */
#define PATH_VALUE_MAX    4095        /* a path value */

/* ---------------------------------------------------------------- tree */

enum { N_SCALAR = 1, N_SEQ, N_MAP };

struct node {
	int kind;
	unsigned line, col;      /* 1-based */
	bool plain;              /* scalar written without quotes */
	char *str;               /* scalar value, NUL-terminated (no NUL inside, checked) */
	size_t len;
	struct node **kids;      /* seq: items; map: key, value, key, value, ... */
	size_t n, cap;
};

static void node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->str);
	free(n);
}

static int node_add(struct node *parent, struct node *kid)
{
	if (parent->n == parent->cap) {
		size_t ncap = parent->cap ? parent->cap * 2 : 8;
		struct node **k = realloc(parent->kids, ncap * sizeof(*k));
		if (!k)
			return -1;
		parent->kids = k;
		parent->cap = ncap;
	}
	parent->kids[parent->n++] = kid;
	return 0;
}

struct ctx {
	const char *source;      /* name for error messages */
	const char *base_dir;    /* NULL: image mode, paths neither resolved nor checked */
	eimg_error *err;
	eimg_manifest *m;
};

/* Human description of a node for "got ..." in messages. */
static const char *describe(const struct node *n, char *buf, size_t size)
{
	char esc[96];
	if (n->kind == N_SEQ)
		return "a sequence";
	if (n->kind == N_MAP)
		return "a mapping";
	eimg_escape(n->str, n->len, esc, sizeof(esc));
	snprintf(buf, size, "\"%s\"", esc);
	return buf;
}

static int verr(struct ctx *c, int code, unsigned line, unsigned col, const char *path,
		 const char *fmt, va_list ap)
{
	char msg[EIMG_ERROR_MSG_MAX];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (path && *path)
		return eimg_err_at(c->err, code, c->source, line, col, "%s: %s", path, msg);
	return eimg_err_at(c->err, code, c->source, line, col, "%s", msg);
}

/* An error about node n (its position), under key path `path`. */
static int nerr(struct ctx *c, const struct node *n, const char *path, const char *fmt, ...)
	EIMG_PRINTF(4, 5);
static int nerr(struct ctx *c, const struct node *n, const char *path, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = verr(c, EIMG_EINVAL, n ? n->line : 0, n ? n->col : 0, path, fmt, ap);
	va_end(ap);
	return rc;
}

static int perr(struct ctx *c, unsigned line, unsigned col, const char *fmt, ...) EIMG_PRINTF(4, 5);
static int perr(struct ctx *c, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = verr(c, EIMG_EINVAL, line, col, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

static void mark_pos(const yaml_mark_t *mk, unsigned *line, unsigned *col)
{
	*line = mk->line + 1 > UINT_MAX ? UINT_MAX : (unsigned)(mk->line + 1);
	*col = mk->column + 1 > UINT_MAX ? UINT_MAX : (unsigned)(mk->column + 1);
}

static int yaml_error(struct ctx *c, const yaml_parser_t *p)
{
	unsigned line, col;
	const char *what = p->problem ? p->problem : "unknown problem";
	if (p->error == YAML_MEMORY_ERROR)
		return eimg_err_nomem(c->err);
	if (p->error == YAML_READER_ERROR) {
		if (p->problem_value != -1)
			return eimg_err(c->err, EIMG_EINVAL, c->source,
					"invalid text: %s (#%X at byte %zu)", what,
					(unsigned)p->problem_value, p->problem_offset);
		return eimg_err(c->err, EIMG_EINVAL, c->source, "invalid text: %s (at byte %zu)",
				what, p->problem_offset);
	}
	mark_pos(&p->problem_mark, &line, &col);
	if (p->context) {
		unsigned cl, cc;
		mark_pos(&p->context_mark, &cl, &cc);
		return perr(c, line, col, "YAML syntax error: %s %s (from %u:%u)", what, p->context, cl, cc);
	}
	return perr(c, line, col, "YAML syntax error: %s", what);
}

/* Phase 1: events -> tree.  Refuses anchors, aliases, tags, directives,
 * empty input, several documents and input above the limits. */
static int build_tree(struct ctx *c, const char *buf, size_t len, struct node **out)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct node *stack[EIMG_MANIFEST_MAX_DEPTH + 1];
	size_t depth = 0, events = 0;
	struct node *root = NULL;
	bool have_ev = false, done = false, in_doc = false, had_doc = false;
	unsigned line, col;
	int rc = EIMG_OK;

	if (!yaml_parser_initialize(&p))
		return eimg_err_nomem(c->err);
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);

	while (!done) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_error(c, &p);
			goto out;
		}
		have_ev = true;
		mark_pos(&ev.start_mark, &line, &col);
		if (++events > EIMG_MANIFEST_MAX_NODES) {
			rc = perr(c, line, col, "more than %u YAML events (limit)",
				  (unsigned)EIMG_MANIFEST_MAX_NODES);
			goto out;
		}
		const yaml_char_t *anchor = NULL, *tag = NULL;
		switch (ev.type) {
		case YAML_SCALAR_EVENT:
			anchor = ev.data.scalar.anchor;
			tag = ev.data.scalar.tag;
			break;
		case YAML_SEQUENCE_START_EVENT:
			anchor = ev.data.sequence_start.anchor;
			tag = ev.data.sequence_start.tag;
			break;
		case YAML_MAPPING_START_EVENT:
			anchor = ev.data.mapping_start.anchor;
			tag = ev.data.mapping_start.tag;
			break;
		default:
			break;
		}
		if (ev.type == YAML_ALIAS_EVENT || anchor) {
			rc = perr(c, line, col, "anchors and aliases are not allowed");
			goto out;
		}
		if (tag) {
			rc = perr(c, line, col, "tags are not allowed");
			goto out;
		}

		struct node *n = NULL;
		switch (ev.type) {
		case YAML_STREAM_START_EVENT:
			break;
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (had_doc) {
				rc = perr(c, line, col, "multiple documents are not allowed");
				goto out;
			}
			if (ev.data.document_start.version_directive ||
			    ev.data.document_start.tag_directives.start != ev.data.document_start.tag_directives.end) {
				rc = perr(c, line, col, "directives are not allowed");
				goto out;
			}
			in_doc = had_doc = true;
			break;
		case YAML_DOCUMENT_END_EVENT:
			in_doc = false;
			break;
		case YAML_SCALAR_EVENT:
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (!in_doc) {
				rc = eimg_err(c->err, EIMG_EINTERNAL, c->source, "node outside a document");
				goto out;
			}
			if (ev.type != YAML_SCALAR_EVENT && depth >= EIMG_MANIFEST_MAX_DEPTH) {
				rc = perr(c, line, col, "nesting deeper than %d levels (limit)",
					  EIMG_MANIFEST_MAX_DEPTH);
				goto out;
			}
			n = calloc(1, sizeof(*n));
			if (!n) {
				rc = eimg_err_nomem(c->err);
				goto out;
			}
			n->line = line;
			n->col = col;
			if (ev.type == YAML_SCALAR_EVENT) {
				n->kind = N_SCALAR;
				n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
				n->len = ev.data.scalar.length;
				n->str = malloc(n->len + 1);
				if (!n->str) {
					free(n);
					rc = eimg_err_nomem(c->err);
					goto out;
				}
				memcpy(n->str, ev.data.scalar.value, n->len);
				n->str[n->len] = '\0';
			} else {
				n->kind = ev.type == YAML_SEQUENCE_START_EVENT ? N_SEQ : N_MAP;
			}
			if (depth == 0) {
				if (root) {
					node_free(n);
					rc = eimg_err(c->err, EIMG_EINTERNAL, c->source, "two root nodes");
					goto out;
				}
				root = n;
			} else if (node_add(stack[depth - 1], n) < 0) {
				node_free(n);
				rc = eimg_err_nomem(c->err);
				goto out;
			}
			if (n->kind != N_SCALAR)
				stack[depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (depth == 0) {
				rc = eimg_err(c->err, EIMG_EINTERNAL, c->source, "unbalanced YAML events");
				goto out;
			}
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
		have_ev = false;
	}
	if (!root || (root->kind == N_SCALAR && root->plain && root->len == 0)) {
		rc = eimg_err(c->err, EIMG_EINVAL, c->source, "empty document");
		goto out;
	}
	if (root->kind != N_MAP) {
		char d[128];
		rc = nerr(c, root, NULL, "expected a mapping at the top level, got %s",
			  describe(root, d, sizeof(d)));
		goto out;
	}
	*out = root;
	root = NULL;
out:
	if (have_ev)
		yaml_event_delete(&ev);
	yaml_parser_delete(&p);
	node_free(root);
	return rc;
}

/* ------------------------------------------------------------ key paths */

/* Key paths are for messages only: silently truncated to fit. */
static void path_cat(char *out, size_t size, const char *a, const char *sep, const char *b)
{
	size_t o = 0;
	const char *parts[3] = { a, sep, b };
	for (int i = 0; i < 3; i++)
		for (const char *p = parts[i]; p && *p && o + 1 < size; p++)
			out[o++] = *p;
	if (size)
		out[o < size ? o : size - 1] = '\0';
}

static void path_key(char *out, size_t size, const char *parent, const char *key, size_t keylen)
{
	char esc[96];
	eimg_escape(key, keylen, esc, sizeof(esc));
	path_cat(out, size, parent, parent && *parent ? "." : "", esc);
}

static void path_index(char *out, size_t size, const char *parent, size_t i)
{
	char idx[32];
	snprintf(idx, sizeof(idx), "[%zu]", i);
	path_cat(out, size, parent, "", idx);
}

#define PATHSZ 256

/* Generic checks over the whole tree: mapping keys are scalars and unique,
 * no NUL characters in scalars.  Recursion depth is bounded by the nesting limit. */
struct keyref {
	const struct node *key;
	size_t index;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	size_t n = x->key->len < y->key->len ? x->key->len : y->key->len;
	int r = memcmp(x->key->str, y->key->str, n);
	if (r)
		return r;
	if (x->key->len != y->key->len)
		return x->key->len < y->key->len ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int check_tree(struct ctx *c, const struct node *n, const char *path)
{
	char sub[PATHSZ];
	int rc;
	if (n->kind == N_SCALAR) {
		if (memchr(n->str, '\0', n->len))
			return nerr(c, n, path, "NUL characters are not allowed");
		return EIMG_OK;
	}
	if (n->kind == N_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			path_index(sub, sizeof(sub), path, i);
			if ((rc = check_tree(c, n->kids[i], sub)))
				return rc;
		}
		return EIMG_OK;
	}
	size_t pairs = n->n / 2;
	for (size_t i = 0; i < pairs; i++) {
		const struct node *k = n->kids[2 * i];
		if (k->kind != N_SCALAR) {
			char d[128];
			return nerr(c, k, path, "mapping keys must be scalars, got %s", describe(k, d, sizeof(d)));
		}
		if (memchr(k->str, '\0', k->len))
			return nerr(c, k, path, "NUL characters are not allowed in keys");
	}
	if (pairs > 1) {
		struct keyref *refs = malloc(pairs * sizeof(*refs));
		if (!refs)
			return eimg_err_nomem(c->err);
		for (size_t i = 0; i < pairs; i++) {
			refs[i].key = n->kids[2 * i];
			refs[i].index = i;
		}
		qsort(refs, pairs, sizeof(*refs), keyref_cmp);
		size_t dup = SIZE_MAX;
		for (size_t i = 1; i < pairs; i++) {
			if (refs[i].key->len == refs[i - 1].key->len &&
			    memcmp(refs[i].key->str, refs[i - 1].key->str, refs[i].key->len) == 0 &&
			    refs[i].index < dup)
				dup = refs[i].index;
		}
		free(refs);
		if (dup != SIZE_MAX) {
			const struct node *k = n->kids[2 * dup];
			path_key(sub, sizeof(sub), path, k->str, k->len);
			return nerr(c, k, sub, "duplicate key");
		}
	}
	for (size_t i = 0; i < pairs; i++) {
		const struct node *k = n->kids[2 * i];
		path_key(sub, sizeof(sub), path, k->str, k->len);
		if ((rc = check_tree(c, n->kids[2 * i + 1], sub)))
			return rc;
	}
	return EIMG_OK;
}

/* Looks up the keys of map n: every key must be one of names[] (else
 * "unknown key"); vals[i]/keys[i] receive the value/key node or NULL. */
static int map_keys(struct ctx *c, const struct node *n, const char *path, const char *const *names,
		    size_t count, const struct node **keys, const struct node **vals)
{
	char sub[PATHSZ];
	for (size_t i = 0; i < count; i++)
		keys[i] = vals[i] = NULL;
	for (size_t i = 0; i + 1 < n->n; i += 2) {
		const struct node *k = n->kids[i];
		size_t j;
		for (j = 0; j < count; j++)
			if (strlen(names[j]) == k->len && memcmp(names[j], k->str, k->len) == 0)
				break;
		if (j == count) {
			path_key(sub, sizeof(sub), path, k->str, k->len);
			return nerr(c, k, sub, "unknown key");
		}
		keys[j] = k;
		vals[j] = n->kids[i + 1];
	}
	return EIMG_OK;
}

static int missing(struct ctx *c, const struct node *map, const char *parent, const char *key)
{
	char sub[PATHSZ];
	path_key(sub, sizeof(sub), parent, key, strlen(key));
	return nerr(c, map, sub, "required key is missing");
}

/* ------------------------------------------------------------- scalars */

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* Decimal without leading zeros, or 0x hex; no sign, no spaces. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return false;
		for (; *s; s++) {
			if (!is_hex(*s) || v > (UINT64_MAX >> 4))
				return false;
			v = (v << 4) | (uint64_t)(*s <= '9' ? *s - '0' : (*s | 0x20) - 'a' + 10);
		}
		*out = v;
		return true;
	}
	if (!*s || (s[0] == '0' && s[1]))
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (eimg_mul_overflow(v, 10, &v) || eimg_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return false;
	}
	*out = v;
	return true;
}

static int want_scalar(struct ctx *c, const struct node *n, const char *path, const char *what)
{
	char d[128];
	if (n->kind != N_SCALAR)
		return nerr(c, n, path, "expected %s, got %s", what, describe(n, d, sizeof(d)));
	return EIMG_OK;
}

static int get_uint(struct ctx *c, const struct node *n, const char *path, uint64_t min, uint64_t max,
		    bool hex_string_ok, uint64_t *out)
{
	char d[128];
	uint64_t v;
	int rc = want_scalar(c, n, path, "an integer");
	if (rc)
		return rc;
	bool ok;
	if (n->plain)
		ok = parse_u64(n->str, &v);
	else
		ok = hex_string_ok && n->str[0] == '0' && n->str[1] == 'x' && parse_u64(n->str, &v);
	if (!ok && !n->plain && parse_u64(n->str, &v))
		return nerr(c, n, path, "expected an integer, got the string %s (write it without quotes)",
			    describe(n, d, sizeof(d)));
	if (!ok)
		return nerr(c, n, path, "expected an integer, got %s", describe(n, d, sizeof(d)));
	if (v < min || v > max) {
		if (max > 0xffffffffu)
			return nerr(c, n, path, "%s is out of range (0x%" PRIx64 "..0x%" PRIx64 ")",
				    describe(n, d, sizeof(d)), min, max);
		return nerr(c, n, path, "%s is out of range (%" PRIu64 "..%" PRIu64 ")",
			    describe(n, d, sizeof(d)), min, max);
	}
	*out = v;
	return EIMG_OK;
}

static void size_text(uint64_t v, char *buf, size_t size)
{
	if (v && v % (1ull << 30) == 0)
		snprintf(buf, size, "%" PRIu64 "G", v >> 30);
	else if (v && v % (1ull << 20) == 0)
		snprintf(buf, size, "%" PRIu64 "M", v >> 20);
	else if (v && v % (1ull << 10) == 0)
		snprintf(buf, size, "%" PRIu64 "K", v >> 10);
	else
		snprintf(buf, size, "%" PRIu64, v);
}

static int get_size(struct ctx *c, const struct node *n, const char *path, uint64_t min, uint64_t max,
		    uint64_t align, uint64_t *out)
{
	char d[128], a[32], b[32];
	uint64_t v;
	int rc = want_scalar(c, n, path, "a size like 64M");
	if (rc)
		return rc;
	/* eimg_parse_size reads "010" as octal: refuse leading zeros here. */
	if (!n->plain || (n->str[0] == '0' && n->str[1] >= '0' && n->str[1] <= '9') ||
	    eimg_parse_size(n->str, &v) != EIMG_OK)
		return nerr(c, n, path, "expected a size like 64M, got %s", describe(n, d, sizeof(d)));
	if (v % align) {
		size_text(align, a, sizeof(a));
		return nerr(c, n, path, "%s is not a multiple of %s", describe(n, d, sizeof(d)), a);
	}
	if (v < min || v > max) {
		size_text(min, a, sizeof(a));
		size_text(max, b, sizeof(b));
		return nerr(c, n, path, "%s is out of range (%s..%s)", describe(n, d, sizeof(d)), a, b);
	}
	*out = v;
	return EIMG_OK;
}

static int get_bool(struct ctx *c, const struct node *n, const char *path, bool *out)
{
	char d[128];
	int rc = want_scalar(c, n, path, "true or false");
	if (rc)
		return rc;
	if (n->plain && strcmp(n->str, "true") == 0)
		*out = true;
	else if (n->plain && strcmp(n->str, "false") == 0)
		*out = false;
	else
		return nerr(c, n, path, "expected true or false, got %s", describe(n, d, sizeof(d)));
	return EIMG_OK;
}

/* Measured free-text strings (cmdline, entrypoint) must survive the trip
 * through the canonical JSON and back: no control characters (C0, DEL,
 * C1), no U+2028/U+2029 (YAML line breaks), no U+FEFF, U+FFFE, U+FFFF. */
static const char *bad_text(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return "control characters are not allowed";
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
			return "control characters are not allowed";
		if (u[i] == 0xe2 && i + 2 < len && u[i + 1] == 0x80 && (u[i + 2] == 0xa8 || u[i + 2] == 0xa9))
			return "line or paragraph separators are not allowed";
		if (u[i] == 0xef && i + 2 < len && u[i + 1] == 0xbb && u[i + 2] == 0xbf)
			return "byte order marks are not allowed";
		/* libyaml refuses these unescaped, so the canonical form could not hold them. */
		if (u[i] == 0xef && i + 2 < len && u[i + 1] == 0xbf && (u[i + 2] == 0xbe || u[i + 2] == 0xbf))
			return "the noncharacters U+FFFE and U+FFFF are not allowed";
	}
	return NULL;
}

static int get_text(struct ctx *c, const struct node *n, const char *path, size_t minlen, size_t maxlen,
		    char **out)
{
	int rc = want_scalar(c, n, path, "a string");
	if (rc)
		return rc;
	if (n->len < minlen)
		return nerr(c, n, path, "expected a non-empty string");
	if (n->len > maxlen)
		return nerr(c, n, path, "longer than %zu bytes (limit)", maxlen);
	const char *bad = bad_text(n->str, n->len);
	if (bad)
		return nerr(c, n, path, "%s", bad);
	char *s = strdup(n->str);
	if (!s)
		return eimg_err_nomem(c->err);
	*out = s;
	return EIMG_OK;
}

/* [A-Za-z0-9._-] */
static bool name_chars(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static bool valid_entry_name(const char *s, size_t len)
{
	return len >= 1 && len <= EIMG_MANIFEST_MAX_NAME && name_chars(s, len) &&
	       strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* -------------------------------------------------------------- paths */

/* A path value.  Source mode: resolved against base_dir and checked with
 * open(2)+fstat(2) (kind: 'f' regular file, 'a' folder or .tar file); *out
 * gets the resolved path.  Image mode: *out stays NULL. */
static int get_path(struct ctx *c, const struct node *n, const char *path, int kind, char **out)
{
	char d[128];
	int rc = want_scalar(c, n, path, "a path");
	if (rc)
		return rc;
	if (n->len == 0)
		return nerr(c, n, path, "expected a non-empty path");
	if (n->len > PATH_VALUE_MAX)
		return nerr(c, n, path, "path longer than %d bytes (limit)", PATH_VALUE_MAX);
	if (!c->base_dir) {
		*out = NULL;
		return EIMG_OK;
	}
	char *full;
	if (n->str[0] == '/' || !*c->base_dir || strcmp(c->base_dir, ".") == 0) {
		full = strdup(n->str);
	} else {
		size_t bl = strlen(c->base_dir);
		bool slash = c->base_dir[bl - 1] == '/';
		full = malloc(bl + 1 + n->len + 1);
		if (full)
			sprintf(full, "%s%s%s", c->base_dir, slash ? "" : "/", n->str);
	}
	if (!full)
		return eimg_err_nomem(c->err);
	int fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		free(full);
		char esc[128];
		eimg_escape(n->str, n->len, esc, sizeof(esc));
		rc = nerr(c, n, path, "cannot open '%s': %s", esc, strerror(e));
		if (c->err) {
			c->err->code = e == ENOMEM ? EIMG_ENOMEM : EIMG_EIO;
			c->err->sys_errno = e;
		}
		return e == ENOMEM ? EIMG_ENOMEM : EIMG_EIO;
	}
	close(fd);
	if (kind == 'f' && !S_ISREG(st.st_mode))
		rc = nerr(c, n, path, "%s is not a regular file", describe(n, d, sizeof(d)));
	else if (kind == 'a' && !S_ISDIR(st.st_mode) &&
		 !(S_ISREG(st.st_mode) && n->len > 4 && strcmp(n->str + n->len - 4, ".tar") == 0))
		rc = nerr(c, n, path, "%s is neither a folder nor a .tar file", describe(n, d, sizeof(d)));
	if (rc) {
		free(full);
		return rc;
	}
	*out = full;
	return EIMG_OK;
}

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
		return nerr(c, seq, key, "expected a sequence, got %s", describe(seq, d, sizeof(d)));
	if (seq->n > max)
		return nerr(c, seq, key, "more than %zu entries (limit)", max);
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
		path_index(base, sizeof(base), key, i);
		if (item->kind != N_MAP) {
			rc = nerr(c, item, base, "expected a mapping with path and name, got %s",
				  describe(item, d, sizeof(d)));
			goto out;
		}
		if ((rc = map_keys(c, item, base, names, 2, keys, vals)))
			goto out;
		n++;
		path_key(sub, sizeof(sub), base, "path", 4);
		path_key(sub2, sizeof(sub2), base, "name", 4);
		/* In image mode (base_dir NULL) entries carry only a name. */
		if (!vals[0] && (c->base_dir || !vals[1])) {
			rc = missing(c, item, base, c->base_dir ? "path" : "name");
			goto out;
		}
		if (vals[0]) {
			if ((rc = get_path(c, vals[0], sub, 'f', &e[i].path)))
				goto out;
			e[i].pos.line = vals[0]->line;
			e[i].pos.column = vals[0]->col;
		}
		if (vals[1]) {
			const struct node *v = vals[1];
			if ((rc = want_scalar(c, v, sub2, "a name")))
				goto out;
			if (!valid_entry_name(v->str, v->len)) {
				rc = nerr(c, v, sub2,
					  "expected 1 to %d characters of A-Z a-z 0-9 . _ - (not \".\" or \"..\"), got %s",
					  EIMG_MANIFEST_MAX_NAME, describe(v, d, sizeof(d)));
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
			if (!valid_entry_name(b, strlen(b))) {
				char esc[96];
				eimg_escape(b, strlen(b), esc, sizeof(esc));
				rc = nerr(c, v, sub, "the file name \"%s\" is not a valid name; set %s.name", esc, base);
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
			rc = nerr(c, where[dup], sub, "duplicate name \"%s\" (also %s[%zu])", esc, key, first);
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
		return nerr(c, map, "sgx", "expected a mapping, got %s", describe(map, d, sizeof(d)));
	if ((rc = map_keys(c, map, "sgx", names, NKEYS, keys, vals)))
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
		return missing(c, map, "sgx", "enclave");
	if ((rc = get_path(c, vals[ENCLAVE], "sgx.enclave", 'f', &s->enclave)))
		return rc;
	s->enclave_pos.line = vals[ENCLAVE]->line;
	s->enclave_pos.column = vals[ENCLAVE]->col;
	if (vals[HEAP] && (rc = get_size(c, vals[HEAP], "sgx.heap_size", 4096, 32ull << 30, 4096, &s->heap_size)))
		return rc;
	if (vals[STACK] && (rc = get_size(c, vals[STACK], "sgx.stack_size", 4096, 1ull << 30, 4096, &s->stack_size)))
		return rc;
	if (vals[THREADS]) {
		if ((rc = get_uint(c, vals[THREADS], "sgx.threads", 1, EIMG_MAX_THREADS, false, &v)))
			return rc;
		s->threads = (uint32_t)v;
	}
	if (vals[NSSA]) {
		if ((rc = get_uint(c, vals[NSSA], "sgx.ssa_frames", 1, 16, false, &v)))
			return rc;
		s->ssa_frames = (uint32_t)v;
	}
	if (vals[SSASIZE]) {
		if ((rc = get_uint(c, vals[SSASIZE], "sgx.ssa_frame_size", 1, 16, false, &v)))
			return rc;
		s->ssa_frame_size = (uint32_t)v;
	}
	if (vals[PRODID]) {
		if ((rc = get_uint(c, vals[PRODID], "sgx.product_id", 0, 65535, false, &v)))
			return rc;
		s->product_id = (uint16_t)v;
	}
	if (vals[SVN]) {
		if ((rc = get_uint(c, vals[SVN], "sgx.security_version", 0, 65535, false, &v)))
			return rc;
		s->security_version = (uint16_t)v;
	}
	if (vals[DEBUG] && (rc = get_bool(c, vals[DEBUG], "sgx.debug", &s->debug)))
		return rc;
	if (vals[WX] && (rc = get_bool(c, vals[WX], "sgx.allow_write_exec", &s->allow_write_exec)))
		return rc;
	if (vals[XFRM]) {
		if ((rc = get_uint(c, vals[XFRM], "sgx.xfrm", 0, UINT64_MAX, true, &s->xfrm)))
			return rc;
		if ((s->xfrm & 3) != 3)
			return nerr(c, vals[XFRM], "sgx.xfrm",
				    "bits 0 and 1 (x87 and SSE) must be set, got %s", describe(vals[XFRM], d, sizeof(d)));
	}
	if (vals[XFRMMASK] && (rc = get_uint(c, vals[XFRMMASK], "sgx.xfrm_mask", 0, UINT64_MAX, true, &s->xfrm_mask)))
		return rc;
	if (vals[MISC]) {
		if ((rc = get_uint(c, vals[MISC], "sgx.misc_select", 0, 0xffffffffu, true, &v)))
			return rc;
		s->misc_select = (uint32_t)v;
	}
	if (vals[MISCMASK]) {
		if ((rc = get_uint(c, vals[MISCMASK], "sgx.misc_mask", 0, 0xffffffffu, true, &v)))
			return rc;
		s->misc_mask = (uint32_t)v;
	}
	if (vals[KSS] && (rc = get_bool(c, vals[KSS], "sgx.kss", &s->kss)))
		return rc;
	for (int i = FAMILY; i <= EXTPROD; i++) {
		if (!vals[i])
			continue;
		snprintf(sub, sizeof(sub), "sgx.%s", names[i]);
		if (!s->kss)
			return nerr(c, keys[i], sub, "only allowed with kss: true");
		if ((rc = want_scalar(c, vals[i], sub, "32 hex digits")))
			return rc;
		uint8_t *dst = i == FAMILY ? s->isv_family_id : s->isv_ext_product_id;
		if (vals[i]->len != 32 || eimg_unhex(vals[i]->str, dst, 16, sub, NULL) != EIMG_OK)
			return nerr(c, vals[i], sub, "expected 32 hex digits, got %s", describe(vals[i], d, sizeof(d)));
	}

	/* Lower bound of the enclave size without the ELF: heap, and per thread
	 * a guard page, the stack, TCS, TLS and SSA pages (enclave-measurement(7)). */
	uint64_t per, total;
	per = s->stack_size + (uint64_t)(3 + s->ssa_frames * s->ssa_frame_size) * EIMG_PAGE;
	if (eimg_mul_overflow(per, s->threads, &total) || eimg_add_overflow(total, s->heap_size, &total) ||
	    total > EIMG_MAX_ENCLAVE_SIZE)
		return nerr(c, map, "sgx", "heap, stacks and thread pages need more than the %llu GiB limit",
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
		return nerr(c, seq, path, "expected a sequence, got %s", describe(seq, d, sizeof(d)));
	if (seq->n > max)
		return nerr(c, seq, path, "more than %zu entries (limit)", max);
	list = calloc(seq->n + 1, sizeof(*list));
	if (!list)
		return eimg_err_nomem(c->err);
	for (size_t i = 0; i < seq->n; i++) {
		const struct node *v = seq->kids[i];
		path_index(sub, sizeof(sub), path, i);
		if (egress) {
			static const char extra[] = ".*:/_-";
			if ((rc = want_scalar(c, v, sub, "a host name or address")))
				goto fail;
			bool ok = v->len >= 1 && v->len <= EGRESS_LEN_MAX;
			for (size_t j = 0; ok && j < v->len; j++) {
				char ch = v->str[j];
				ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				     (ch >= '0' && ch <= '9') || strchr(extra, ch);
			}
			if (!ok) {
				rc = nerr(c, v, sub,
					  "expected a host name pattern or address of 1 to %d characters of A-Z a-z 0-9 . * : / _ -, got %s",
					  EGRESS_LEN_MAX, describe(v, d, sizeof(d)));
				goto fail;
			}
			list[i] = strdup(v->str);
			if (!list[i]) {
				rc = eimg_err_nomem(c->err);
				goto fail;
			}
		} else if ((rc = get_text(c, v, sub, i == 0 ? minlen : 0, maxlen, &list[i]))) {
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

static int parse_nitro(struct ctx *c, const struct node *map)
{
	static const char *const names[] = {
		"kernel", "kernel_config", "cmdline", "init", "app", "entrypoint", "memory", "cpus",
		"ingress", "egress"
	};
	enum { KERNEL, KCONFIG, CMDLINE, INIT, APP, ENTRY, MEMORY, CPUS, INGRESS, EGRESS, NKEYS };
	const struct node *keys[NKEYS], *vals[NKEYS];
	struct eimg_manifest_nitro *nt = &c->m->nitro;
	char d[128], sub[PATHSZ];
	uint64_t v;
	int rc;

	if (map->kind != N_MAP)
		return nerr(c, map, "nitro", "expected a mapping, got %s", describe(map, d, sizeof(d)));
	if ((rc = map_keys(c, map, "nitro", names, NKEYS, keys, vals)))
		return rc;
	nt->memory_mib = 512;
	nt->cpus = 2;

	if (!vals[KERNEL])
		return missing(c, map, "nitro", "kernel");
	if ((rc = get_path(c, vals[KERNEL], "nitro.kernel", 'f', &nt->kernel)))
		return rc;
	nt->kernel_pos.line = vals[KERNEL]->line;
	nt->kernel_pos.column = vals[KERNEL]->col;
	if (vals[KCONFIG]) {
		if ((rc = get_path(c, vals[KCONFIG], "nitro.kernel_config", 'f', &nt->kernel_config)))
			return rc;
		nt->has_kernel_config = true;
	}
	if (!vals[CMDLINE])
		return missing(c, map, "nitro", "cmdline");
	if ((rc = get_text(c, vals[CMDLINE], "nitro.cmdline", 1, CMDLINE_MAX, &nt->cmdline)))
		return rc;
	if (!vals[INIT])
		return missing(c, map, "nitro", "init");
	if ((rc = get_path(c, vals[INIT], "nitro.init", 'f', &nt->init)))
		return rc;
	nt->init_pos.line = vals[INIT]->line;
	nt->init_pos.column = vals[INIT]->col;
	if (!vals[APP])
		return missing(c, map, "nitro", "app");
	if ((rc = get_path(c, vals[APP], "nitro.app", 'a', &nt->app)))
		return rc;
	nt->app_pos.line = vals[APP]->line;
	nt->app_pos.column = vals[APP]->col;
	if (!vals[ENTRY])
		return missing(c, map, "nitro", "entrypoint");
	if ((rc = get_str_list(c, vals[ENTRY], "nitro.entrypoint", ENTRYPOINT_MAX, 1, ARG_MAX_LEN, false,
			       &nt->entrypoint, &nt->entrypoint_len)))
		return rc;
	if (nt->entrypoint_len == 0)
		return nerr(c, vals[ENTRY], "nitro.entrypoint", "expected a non-empty sequence");
	if (vals[MEMORY]) {
		if ((rc = get_size(c, vals[MEMORY], "nitro.memory", 64ull << 20, MEMORY_MAX, 1ull << 20, &v)))
			return rc;
		nt->memory_mib = v >> 20;
	}
	if (vals[CPUS]) {
		if ((rc = get_uint(c, vals[CPUS], "nitro.cpus", 1, 64, false, &v)))
			return rc;
		nt->cpus = (uint32_t)v;
	}
	if (vals[INGRESS]) {
		const struct node *seq = vals[INGRESS];
		if (seq->kind != N_SEQ)
			return nerr(c, seq, "nitro.ingress", "expected a sequence, got %s", describe(seq, d, sizeof(d)));
		if (seq->n > PORTS_MAX)
			return nerr(c, seq, "nitro.ingress", "more than %d entries (limit)", PORTS_MAX);
		if (seq->n) {
			nt->ingress = calloc(seq->n, sizeof(*nt->ingress));
			if (!nt->ingress)
				return eimg_err_nomem(c->err);
		}
		for (size_t i = 0; i < seq->n; i++) {
			path_index(sub, sizeof(sub), "nitro.ingress", i);
			if ((rc = get_uint(c, seq->kids[i], sub, 1, 65535, false, &v)))
				return rc;
			for (size_t j = 0; j < i; j++)
				if (nt->ingress[j] == v)
					return nerr(c, seq->kids[i], sub, "duplicate port %" PRIu64 " (also nitro.ingress[%zu])", v, j);
			nt->ingress[i] = (uint16_t)v;
			nt->ningress = i + 1;
		}
	}
	if (vals[EGRESS]) {
		static const char *const enames[] = { "allow", "deny" };
		const struct node *ek[2], *ev[2];
		const struct node *e = vals[EGRESS];
		if (e->kind != N_MAP)
			return nerr(c, e, "nitro.egress", "expected a mapping, got %s", describe(e, d, sizeof(d)));
		if ((rc = map_keys(c, e, "nitro.egress", enames, 2, ek, ev)))
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
	if (!parse_u64(s, &v))
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
			return nerr(c, n, path, "not valid UTF-8");
	} else if (n->kind == N_SEQ) {
		j = json_array();
		if (!j)
			return eimg_err_nomem(c->err);
		for (size_t i = 0; i < n->n; i++) {
			json_t *kid;
			path_index(sub, sizeof(sub), path, i);
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
			path_key(sub, sizeof(sub), path, k->str, k->len);
			if ((rc = to_json(c, n->kids[i + 1], sub, &kid)))
				goto fail;
			if (json_object_set_new(j, k->str, kid) < 0) {
				rc = nerr(c, k, sub, "key is not valid UTF-8");
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
		return nerr(c, n, "runtime", "expected a mapping, got %s", describe(n, d, sizeof(d)));
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

	if ((rc = map_keys(c, root, "", names, NKEYS, keys, vals)))
		return rc;
	if (!vals[VERSION])
		return missing(c, root, "", "version");
	if ((rc = get_uint(c, vals[VERSION], "version", 0, UINT64_MAX, false, &v)))
		return rc;
	if (v != 1)
		return nerr(c, vals[VERSION], "version", "unsupported version %" PRIu64 " (only 1 is accepted)", v);
	m->version = 1;

	if (!vals[NAME])
		return missing(c, root, "", "name");
	const struct node *nm = vals[NAME];
	if ((rc = want_scalar(c, nm, "name", "a name")))
		return rc;
	if (nm->len < 1 || nm->len > NAME_MAX_LEN || !name_chars(nm->str, nm->len) || nm->str[0] == '.')
		return nerr(c, nm, "name",
			    "expected 1 to %d characters of A-Z a-z 0-9 . _ - not starting with \".\", got %s",
			    NAME_MAX_LEN, describe(nm, d, sizeof(d)));
	if (!(m->name = strdup(nm->str)))
		return eimg_err_nomem(c->err);

	if (!vals[TARGET])
		return missing(c, root, "", "target");
	const struct node *t = vals[TARGET];
	if ((rc = want_scalar(c, t, "target", "sgx or nitro")))
		return rc;
	if (strcmp(t->str, "sgx") == 0)
		m->target = EIMG_TARGET_SGX;
	else if (strcmp(t->str, "nitro") == 0)
		m->target = EIMG_TARGET_NITRO;
	else
		return nerr(c, t, "target", "expected sgx or nitro, got %s", describe(t, d, sizeof(d)));

	m->mode = EIMG_MODE_HARDWARE;
	if (vals[MODE]) {
		const struct node *md = vals[MODE];
		if ((rc = want_scalar(c, md, "mode", "hardware or simulation")))
			return rc;
		if (strcmp(md->str, "hardware") == 0)
			m->mode = EIMG_MODE_HARDWARE;
		else if (strcmp(md->str, "simulation") == 0)
			m->mode = EIMG_MODE_SIMULATION;
		else
			return nerr(c, md, "mode", "expected hardware or simulation, got %s", describe(md, d, sizeof(d)));
		if (m->target == EIMG_TARGET_NITRO && m->mode != EIMG_MODE_HARDWARE)
			return nerr(c, md, "mode", "only hardware is available with target nitro");
	}

	if (m->target == EIMG_TARGET_SGX) {
		if (keys[NITRO])
			return nerr(c, keys[NITRO], "nitro", "not allowed with target sgx");
		if (!vals[SGX])
			return missing(c, root, "", "sgx");
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
				return nerr(c, keys[i], names[i], "not allowed with target nitro");
		if (!vals[NITRO])
			return missing(c, root, "", "nitro");
		if ((rc = parse_nitro(c, vals[NITRO])))
			return rc;
	}
	if (vals[RUNTIME] && (rc = parse_runtime(c, vals[RUNTIME])))
		return rc;
	return EIMG_OK;
}

/* ---------------------------------------------------------------- API */

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
	for (size_t i = 0; i < m->nitro.entrypoint_len; i++)
		free(m->nitro.entrypoint[i]);
	free(m->nitro.entrypoint);
	free(m->nitro.ingress);
	for (size_t i = 0; i < m->nitro.negress_allow; i++)
		free(m->nitro.egress_allow[i]);
	free(m->nitro.egress_allow);
	for (size_t i = 0; i < m->nitro.negress_deny; i++)
		free(m->nitro.egress_deny[i]);
	free(m->nitro.egress_deny);
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
	if ((rc = build_tree(&c, buf ? buf : "", len, &root)))
		goto out;
	if ((rc = check_tree(&c, root, "")))
		goto out;
	if ((rc = parse_top(&c, root)))
		goto out;
	*out = c.m;
	c.m = NULL;
out:
	node_free(root);
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

/* ---------------------------------------------------------- canonical */

static int jset(json_t *obj, const char *key, json_t *val)
{
	if (!val)
		return -1;
	return json_object_set_new(obj, key, val);
}

static json_t *jhex(uint64_t v)
{
	char buf[24];
	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	return json_string(buf);
}

static json_t *jstrings(char **list, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		if (json_array_append_new(a, json_string(list[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *jentries(const struct eimg_manifest_entry *e, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++) {
		json_t *o = json_object();
		if (!o || jset(o, "name", json_string(e[i].name)) < 0 || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static int canonical(const eimg_manifest *m, bool measured, char **out, size_t *len, eimg_error *err)
{
	json_t *root = NULL, *sec = NULL;
	char *s = NULL, hex[33];
	int bad = 0;

	if (!m || (m->target != EIMG_TARGET_SGX && m->target != EIMG_TARGET_NITRO) ||
	    (m->mode != EIMG_MODE_HARDWARE && m->mode != EIMG_MODE_SIMULATION) || !m->name)
		return eimg_err(err, EIMG_EUSAGE, NULL, "canonical manifest: incomplete manifest");
	root = json_object();
	sec = json_object();
	if (!root || !sec)
		goto nomem;
	bad |= jset(root, "version", json_integer(m->version));
	bad |= jset(root, "name", json_string(m->name));
	bad |= jset(root, "target", json_string(eimg_target_name(m->target)));
	bad |= jset(root, "mode", json_string(eimg_mode_name(m->mode)));
	if (m->target == EIMG_TARGET_SGX) {
		const struct eimg_manifest_sgx *x = &m->sgx;
		bad |= jset(sec, "enclave", json_string("enclave.elf"));
		bad |= jset(sec, "heap_size", json_integer((json_int_t)x->heap_size));
		bad |= jset(sec, "stack_size", json_integer((json_int_t)x->stack_size));
		bad |= jset(sec, "threads", json_integer(x->threads));
		bad |= jset(sec, "ssa_frames", json_integer(x->ssa_frames));
		bad |= jset(sec, "ssa_frame_size", json_integer(x->ssa_frame_size));
		bad |= jset(sec, "allow_write_exec", json_boolean(x->allow_write_exec));
		if (!measured) {
			/* Signing parameters: they go into the SIGSTRUCT, not into MRENCLAVE. */
			bad |= jset(sec, "product_id", json_integer(x->product_id));
			bad |= jset(sec, "security_version", json_integer(x->security_version));
			bad |= jset(sec, "debug", json_boolean(x->debug));
			bad |= jset(sec, "xfrm", jhex(x->xfrm));
			bad |= jset(sec, "xfrm_mask", jhex(x->xfrm_mask));
			bad |= jset(sec, "misc_select", jhex(x->misc_select));
			bad |= jset(sec, "misc_mask", jhex(x->misc_mask));
			bad |= jset(sec, "kss", json_boolean(x->kss));
		}
		if (x->kss && !measured) {
			bad |= jset(sec, "isv_family_id", json_string(eimg_hex(x->isv_family_id, 16, hex)));
			bad |= jset(sec, "isv_ext_product_id", json_string(eimg_hex(x->isv_ext_product_id, 16, hex)));
		}
		bad |= jset(root, "files", jentries(m->files, m->nfiles));
		bad |= jset(root, "user_keys", jentries(m->keys, m->nkeys));
		bad |= json_object_set(root, "sgx", sec);
	} else {
		const struct eimg_manifest_nitro *x = &m->nitro;
		json_t *eg = json_object();
		if (!eg)
			goto nomem;
		if (!x->cmdline || !x->entrypoint) {
			json_decref(eg);
			json_decref(root);
			json_decref(sec);
			return eimg_err(err, EIMG_EUSAGE, NULL, "canonical manifest: incomplete nitro section");
		}
		bad |= jset(sec, "kernel", json_string("kernel"));
		if (x->has_kernel_config)
			bad |= jset(sec, "kernel_config", json_string("kernel_config"));
		bad |= jset(sec, "cmdline", json_string(x->cmdline));
		bad |= jset(sec, "init", json_string("init"));
		bad |= jset(sec, "app", json_string("app"));
		bad |= jset(sec, "entrypoint", jstrings(x->entrypoint, x->entrypoint_len));
		bad |= jset(sec, "memory", json_integer((json_int_t)(x->memory_mib << 20)));
		bad |= jset(sec, "cpus", json_integer(x->cpus));
		json_t *ports = json_array();
		for (size_t i = 0; ports && i < x->ningress; i++)
			bad |= json_array_append_new(ports, json_integer(x->ingress[i]));
		bad |= jset(sec, "ingress", ports);
		bad |= jset(eg, "allow", jstrings(x->egress_allow, x->negress_allow));
		bad |= jset(eg, "deny", jstrings(x->egress_deny, x->negress_deny));
		bad |= jset(sec, "egress", eg);
		bad |= json_object_set(root, "nitro", sec);
	}
	if (bad)
		goto nomem;
	s = json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2));
	if (!s)
		goto nomem;
	size_t n = strlen(s);
	char *r = realloc(s, n + 2);
	if (!r)
		goto nomem;
	s = NULL;
	r[n] = '\n';
	r[n + 1] = '\0';
	json_decref(root);
	json_decref(sec);
	*out = r;
	if (len)
		*len = n + 1;
	return EIMG_OK;
nomem:
	/* json_string() also fails on invalid UTF-8, which a parsed manifest cannot hold. */
	free(s);
	json_decref(root);
	json_decref(sec);
	return eimg_err(err, EIMG_ENOMEM, NULL, "canonical manifest: out of memory or invalid text");
}

int eimg_manifest_canonical(const eimg_manifest *m, char **out, size_t *len, eimg_error *err)
{
	return canonical(m, false, out, len, err);
}

int eimg_manifest_measured(const eimg_manifest *m, char **out, size_t *len, eimg_error *err)
{
	if (m && m->target != EIMG_TARGET_SGX)
		return eimg_err(err, EIMG_EUSAGE, NULL, "measured manifest: only for the sgx target");
	return canonical(m, true, out, len, err);
}

const char *eimg_mode_name(int mode)
{
	switch (mode) {
	case EIMG_MODE_HARDWARE:
		return "hardware";
	case EIMG_MODE_SIMULATION:
		return "simulation";
	default:
		return "unknown";
	}
}

const char *eimg_target_name(int target)
{
	switch (target) {
	case EIMG_TARGET_SGX:
		return "sgx";
	case EIMG_TARGET_NITRO:
		return "nitro";
	default:
		return "unknown";
	}
}
