/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave manifest, phase one: the libyaml events are turned into a small
 * node tree with positions, refusing anchors, aliases, tags, directives,
 * several documents and anything above the documented limits; then the
 * generic tree checks and the typed value readers (numbers, sizes, booleans,
 * text, paths) that the schema in manifest.c uses.  Only this file includes
 * yaml.h.  Format: man/enclave-manifest.5. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "eimg/manifest.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "core/manifest_int.h"

#define PATH_VALUE_MAX    4095        /* a path value */

/* ---------------------------------------------------------------- tree */

void eimg_mf_node_free(struct node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		eimg_mf_node_free(n->kids[i]);
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



/* Human description of a node for "got ..." in messages. */
const char *eimg_mf_describe(const struct node *n, char *buf, size_t size)
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
int eimg_mf_nerr(struct ctx *c, const struct node *n, const char *path, const char *fmt, ...)
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

/* Phase 1's state: the open collections, the root, the document. */
struct builder {
	struct node *stack[EIMG_MANIFEST_MAX_DEPTH + 1];
	size_t depth;
	struct node *root;
	bool in_doc, had_doc;
};

/* Anchors, aliases and tags are refused. */
static int check_event(struct ctx *c, const yaml_event_t *ev, unsigned line, unsigned col)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	default:
		break;
	}
	if (ev->type == YAML_ALIAS_EVENT || anchor)
		return perr(c, line, col, "anchors and aliases are not allowed");
	if (tag)
		return perr(c, line, col, "tags are not allowed");
	return EIMG_OK;
}

/* A new node for a scalar, sequence or mapping event. */
static int new_node(struct ctx *c, const yaml_event_t *ev, unsigned line, unsigned col, struct node **out)
{
	struct node *n = calloc(1, sizeof(*n));
	if (!n)
		return eimg_err_nomem(c->err);
	n->line = line;
	n->col = col;
	if (ev->type == YAML_SCALAR_EVENT) {
		n->kind = N_SCALAR;
		n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		n->len = ev->data.scalar.length;
		n->str = malloc(n->len + 1);
		if (!n->str) {
			free(n);
			return eimg_err_nomem(c->err);
		}
		memcpy(n->str, ev->data.scalar.value, n->len);
		n->str[n->len] = '\0';
	} else {
		n->kind = ev->type == YAML_SEQUENCE_START_EVENT ? N_SEQ : N_MAP;
	}
	*out = n;
	return EIMG_OK;
}

/* A scalar, or the start of a sequence or mapping: into the open collection
 * (or the root), opened in turn when it is a collection. */
static int add_node(struct ctx *c, struct builder *b, const yaml_event_t *ev, unsigned line, unsigned col)
{
	struct node *n = NULL;
	int rc;
	if (!b->in_doc)
		return eimg_err(c->err, EIMG_EINTERNAL, c->source, "node outside a document");
	if (ev->type != YAML_SCALAR_EVENT && b->depth >= EIMG_MANIFEST_MAX_DEPTH)
		return perr(c, line, col, "nesting deeper than %d levels (limit)", EIMG_MANIFEST_MAX_DEPTH);
	if ((rc = new_node(c, ev, line, col, &n)))
		return rc;
	if (b->depth == 0) {
		if (b->root) {
			eimg_mf_node_free(n);
			return eimg_err(c->err, EIMG_EINTERNAL, c->source, "two root nodes");
		}
		b->root = n;
	} else if (node_add(b->stack[b->depth - 1], n) < 0) {
		eimg_mf_node_free(n);
		return eimg_err_nomem(c->err);
	}
	if (n->kind != N_SCALAR)
		b->stack[b->depth++] = n;
	return EIMG_OK;
}

/* One event into the tree; *done at the end of the stream. */
static int take_event(struct ctx *c, struct builder *b, const yaml_event_t *ev, unsigned line, unsigned col,
		      bool *done)
{
	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		*done = true;
		return EIMG_OK;
	case YAML_DOCUMENT_START_EVENT:
		if (b->had_doc)
			return perr(c, line, col, "multiple documents are not allowed");
		if (ev->data.document_start.version_directive ||
		    ev->data.document_start.tag_directives.start != ev->data.document_start.tag_directives.end)
			return perr(c, line, col, "directives are not allowed");
		b->in_doc = b->had_doc = true;
		return EIMG_OK;
	case YAML_DOCUMENT_END_EVENT:
		b->in_doc = false;
		return EIMG_OK;
	case YAML_SCALAR_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return add_node(c, b, ev, line, col);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		if (b->depth == 0)
			return eimg_err(c->err, EIMG_EINTERNAL, c->source, "unbalanced YAML events");
		b->depth--;
		return EIMG_OK;
	default: /* stream start */
		return EIMG_OK;
	}
}

/* The whole document: a non-empty mapping. */
static int check_root(struct ctx *c, const struct node *root)
{
	if (!root || (root->kind == N_SCALAR && root->plain && root->len == 0))
		return eimg_err(c->err, EIMG_EINVAL, c->source, "empty document");
	if (root->kind != N_MAP) {
		char d[128];
		return eimg_mf_nerr(c, root, NULL, "expected a mapping at the top level, got %s",
			  eimg_mf_describe(root, d, sizeof(d)));
	}
	return EIMG_OK;
}

/* Phase 1: events -> tree.  Refuses anchors, aliases, tags, directives,
 * empty input, several documents and input above the limits. */
int eimg_mf_build_tree(struct ctx *c, const char *buf, size_t len, struct node **out)
{
	yaml_parser_t p;
	yaml_event_t ev;
	struct builder b;
	size_t events = 0;
	bool have_ev = false, done = false;
	unsigned line, col;
	int rc = EIMG_OK;

	memset(&b, 0, sizeof(b));
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
		if ((rc = check_event(c, &ev, line, col)) || (rc = take_event(c, &b, &ev, line, col, &done)))
			goto out;
		yaml_event_delete(&ev);
		have_ev = false;
	}
	if ((rc = check_root(c, b.root)))
		goto out;
	*out = b.root;
	b.root = NULL;
out:
	if (have_ev)
		yaml_event_delete(&ev);
	yaml_parser_delete(&p);
	eimg_mf_node_free(b.root);
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

void eimg_mf_path_key(char *out, size_t size, const char *parent, const char *key, size_t keylen)
{
	char esc[96];
	eimg_escape(key, keylen, esc, sizeof(esc));
	path_cat(out, size, parent, parent && *parent ? "." : "", esc);
}

void eimg_mf_path_index(char *out, size_t size, const char *parent, size_t i)
{
	char idx[32];
	snprintf(idx, sizeof(idx), "[%zu]", i);
	path_cat(out, size, parent, "", idx);
}

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

int eimg_mf_check_tree(struct ctx *c, const struct node *n, const char *path)
{
	char sub[PATHSZ];
	int rc;
	if (n->kind == N_SCALAR) {
		if (memchr(n->str, '\0', n->len))
			return eimg_mf_nerr(c, n, path, "NUL characters are not allowed");
		return EIMG_OK;
	}
	if (n->kind == N_SEQ) {
		for (size_t i = 0; i < n->n; i++) {
			eimg_mf_path_index(sub, sizeof(sub), path, i);
			if ((rc = eimg_mf_check_tree(c, n->kids[i], sub)))
				return rc;
		}
		return EIMG_OK;
	}
	size_t pairs = n->n / 2;
	for (size_t i = 0; i < pairs; i++) {
		const struct node *k = n->kids[2 * i];
		if (k->kind != N_SCALAR) {
			char d[128];
			return eimg_mf_nerr(c, k, path, "mapping keys must be scalars, got %s", eimg_mf_describe(k, d, sizeof(d)));
		}
		if (memchr(k->str, '\0', k->len))
			return eimg_mf_nerr(c, k, path, "NUL characters are not allowed in keys");
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
			eimg_mf_path_key(sub, sizeof(sub), path, k->str, k->len);
			return eimg_mf_nerr(c, k, sub, "duplicate key");
		}
	}
	for (size_t i = 0; i < pairs; i++) {
		const struct node *k = n->kids[2 * i];
		eimg_mf_path_key(sub, sizeof(sub), path, k->str, k->len);
		if ((rc = eimg_mf_check_tree(c, n->kids[2 * i + 1], sub)))
			return rc;
	}
	return EIMG_OK;
}

/* Looks up the keys of map n: every key must be one of names[] (else
 * "unknown key"); vals[i]/keys[i] receive the value/key node or NULL. */
int eimg_mf_map_keys(struct ctx *c, const struct node *n, const char *path, const char *const *names,
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
			eimg_mf_path_key(sub, sizeof(sub), path, k->str, k->len);
			return eimg_mf_nerr(c, k, sub, "unknown key");
		}
		keys[j] = k;
		vals[j] = n->kids[i + 1];
	}
	return EIMG_OK;
}

int eimg_mf_missing(struct ctx *c, const struct node *map, const char *parent, const char *key)
{
	char sub[PATHSZ];
	eimg_mf_path_key(sub, sizeof(sub), parent, key, strlen(key));
	return eimg_mf_nerr(c, map, sub, "required key is missing");
}

/* ------------------------------------------------------------- scalars */

static bool is_hex(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* Decimal without leading zeros, or 0x hex; no sign, no spaces. */
bool eimg_mf_parse_u64(const char *s, uint64_t *out)
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

int eimg_mf_want_scalar(struct ctx *c, const struct node *n, const char *path, const char *what)
{
	char d[128];
	if (n->kind != N_SCALAR)
		return eimg_mf_nerr(c, n, path, "expected %s, got %s", what, eimg_mf_describe(n, d, sizeof(d)));
	return EIMG_OK;
}

int eimg_mf_get_uint(struct ctx *c, const struct node *n, const char *path, uint64_t min, uint64_t max,
		    bool hex_string_ok, uint64_t *out)
{
	char d[128];
	uint64_t v;
	int rc = eimg_mf_want_scalar(c, n, path, "an integer");
	if (rc)
		return rc;
	bool ok;
	if (n->plain)
		ok = eimg_mf_parse_u64(n->str, &v);
	else
		ok = hex_string_ok && n->str[0] == '0' && n->str[1] == 'x' && eimg_mf_parse_u64(n->str, &v);
	if (!ok && !n->plain && eimg_mf_parse_u64(n->str, &v))
		return eimg_mf_nerr(c, n, path, "expected an integer, got the string %s (write it without quotes)",
			    eimg_mf_describe(n, d, sizeof(d)));
	if (!ok)
		return eimg_mf_nerr(c, n, path, "expected an integer, got %s", eimg_mf_describe(n, d, sizeof(d)));
	if (v < min || v > max) {
		if (max > 0xffffffffu)
			return eimg_mf_nerr(c, n, path, "%s is out of range (0x%" PRIx64 "..0x%" PRIx64 ")",
				    eimg_mf_describe(n, d, sizeof(d)), min, max);
		return eimg_mf_nerr(c, n, path, "%s is out of range (%" PRIu64 "..%" PRIu64 ")",
			    eimg_mf_describe(n, d, sizeof(d)), min, max);
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

int eimg_mf_get_size(struct ctx *c, const struct node *n, const char *path, uint64_t min, uint64_t max,
		    uint64_t align, uint64_t *out)
{
	char d[128], a[32], b[32];
	uint64_t v;
	int rc = eimg_mf_want_scalar(c, n, path, "a size like 64M");
	if (rc)
		return rc;
	/* eimg_parse_size reads "010" as octal: refuse leading zeros here. */
	if (!n->plain || (n->str[0] == '0' && n->str[1] >= '0' && n->str[1] <= '9') ||
	    eimg_parse_size(n->str, &v) != EIMG_OK)
		return eimg_mf_nerr(c, n, path, "expected a size like 64M, got %s", eimg_mf_describe(n, d, sizeof(d)));
	if (v % align) {
		size_text(align, a, sizeof(a));
		return eimg_mf_nerr(c, n, path, "%s is not a multiple of %s", eimg_mf_describe(n, d, sizeof(d)), a);
	}
	if (v < min || v > max) {
		size_text(min, a, sizeof(a));
		size_text(max, b, sizeof(b));
		return eimg_mf_nerr(c, n, path, "%s is out of range (%s..%s)", eimg_mf_describe(n, d, sizeof(d)), a, b);
	}
	*out = v;
	return EIMG_OK;
}

int eimg_mf_get_bool(struct ctx *c, const struct node *n, const char *path, bool *out)
{
	char d[128];
	int rc = eimg_mf_want_scalar(c, n, path, "true or false");
	if (rc)
		return rc;
	if (n->plain && strcmp(n->str, "true") == 0)
		*out = true;
	else if (n->plain && strcmp(n->str, "false") == 0)
		*out = false;
	else
		return eimg_mf_nerr(c, n, path, "expected true or false, got %s", eimg_mf_describe(n, d, sizeof(d)));
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

int eimg_mf_get_text(struct ctx *c, const struct node *n, const char *path, size_t minlen, size_t maxlen,
		    char **out)
{
	int rc = eimg_mf_want_scalar(c, n, path, "a string");
	if (rc)
		return rc;
	if (n->len < minlen)
		return eimg_mf_nerr(c, n, path, "expected a non-empty string");
	if (n->len > maxlen)
		return eimg_mf_nerr(c, n, path, "longer than %zu bytes (limit)", maxlen);
	const char *bad = bad_text(n->str, n->len);
	if (bad)
		return eimg_mf_nerr(c, n, path, "%s", bad);
	char *s = strdup(n->str);
	if (!s)
		return eimg_err_nomem(c->err);
	*out = s;
	return EIMG_OK;
}

/* [A-Za-z0-9._-] */
bool eimg_mf_name_chars(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

bool eimg_mf_valid_entry_name(const char *s, size_t len)
{
	return len >= 1 && len <= EIMG_MANIFEST_MAX_NAME && eimg_mf_name_chars(s, len) &&
	       strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

/* -------------------------------------------------------------- paths */

/* A path value.  Source mode: resolved against base_dir and checked with
 * open(2)+fstat(2) (kind: 'f' regular file, 'a' folder or .tar file); *out
 * gets the resolved path.  Image mode: *out stays NULL. */
int eimg_mf_get_path(struct ctx *c, const struct node *n, const char *path, int kind, char **out)
{
	char d[128];
	int rc = eimg_mf_want_scalar(c, n, path, "a path");
	if (rc)
		return rc;
	if (n->len == 0)
		return eimg_mf_nerr(c, n, path, "expected a non-empty path");
	if (n->len > PATH_VALUE_MAX)
		return eimg_mf_nerr(c, n, path, "path longer than %d bytes (limit)", PATH_VALUE_MAX);
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
		rc = eimg_mf_nerr(c, n, path, "cannot open '%s': %s", esc, strerror(e));
		if (c->err) {
			c->err->code = e == ENOMEM ? EIMG_ENOMEM : EIMG_EIO;
			c->err->sys_errno = e;
		}
		return e == ENOMEM ? EIMG_ENOMEM : EIMG_EIO;
	}
	close(fd);
	if (kind == 'f' && !S_ISREG(st.st_mode))
		rc = eimg_mf_nerr(c, n, path, "%s is not a regular file", eimg_mf_describe(n, d, sizeof(d)));
	else if (kind == 'd' && !S_ISDIR(st.st_mode))
		rc = eimg_mf_nerr(c, n, path, "%s is not a folder", eimg_mf_describe(n, d, sizeof(d)));
	else if (kind == 'i' && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		rc = eimg_mf_nerr(c, n, path, "%s is neither a folder nor a file", eimg_mf_describe(n, d, sizeof(d)));
	else if (kind == 'a' && !S_ISDIR(st.st_mode) &&
		 !(S_ISREG(st.st_mode) && n->len > 4 && strcmp(n->str + n->len - 4, ".tar") == 0))
		rc = eimg_mf_nerr(c, n, path, "%s is neither a folder nor a .tar file", eimg_mf_describe(n, d, sizeof(d)));
	if (rc) {
		free(full);
		return rc;
	}
	*out = full;
	return EIMG_OK;
}
