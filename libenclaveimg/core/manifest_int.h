/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the manifest module: the positioned node tree read from YAML
 * (manifest_yaml.c) and the typed value readers the schema (manifest.c) uses. */
#ifndef EIMG_MANIFEST_INT_H
#define EIMG_MANIFEST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eimg/manifest.h"
#include "core/internal.h"

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

struct ctx {
	const char *source;      /* name for error messages */
	const char *base_dir;    /* NULL: image mode, paths neither resolved nor checked */
	eimg_error *err;
	eimg_manifest *m;
};

#define PATHSZ 256

int eimg_mf_build_tree(struct ctx *c, const char *buf, size_t len, struct node **out);
int eimg_mf_check_tree(struct ctx *c, const struct node *n, const char *path);
const char *eimg_mf_describe(const struct node *n, char *buf, size_t size);
int eimg_mf_get_bool(struct ctx *c, const struct node *n, const char *path, bool *out);
int eimg_mf_get_path(struct ctx *c, const struct node *n, const char *path, int kind, char **out);
int eimg_mf_get_size(struct ctx *c, const struct node *n, const char *path, uint64_t min, uint64_t max,
		    uint64_t align, uint64_t *out);
int eimg_mf_get_text(struct ctx *c, const struct node *n, const char *path, size_t minlen, size_t maxlen,
		    char **out);
int eimg_mf_get_uint(struct ctx *c, const struct node *n, const char *path, uint64_t min, uint64_t max,
		    bool hex_string_ok, uint64_t *out);
int eimg_mf_map_keys(struct ctx *c, const struct node *n, const char *path, const char *const *names,
		    size_t count, const struct node **keys, const struct node **vals);
int eimg_mf_missing(struct ctx *c, const struct node *map, const char *parent, const char *key);
bool eimg_mf_name_chars(const char *s, size_t len);
/* The nitro section (manifest_nitro.c). */
int eimg_mf_parse_nitro(struct ctx *c, const struct node *map);
int eimg_mf_nerr(struct ctx *c, const struct node *n, const char *path, const char *fmt, ...) EIMG_PRINTF(4, 5);
void eimg_mf_node_free(struct node *n);
bool eimg_mf_parse_u64(const char *s, uint64_t *out);
void eimg_mf_path_index(char *out, size_t size, const char *parent, size_t i);
void eimg_mf_path_key(char *out, size_t size, const char *parent, const char *key, size_t keylen);
bool eimg_mf_valid_entry_name(const char *s, size_t len);
int eimg_mf_want_scalar(struct ctx *c, const struct node *n, const char *path, const char *what);

#endif
