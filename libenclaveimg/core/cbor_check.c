/* SPDX-License-Identifier: Apache-2.0 */
/* Strict loading of untrusted CBOR: libcbor's streaming decoder walks the
 * input first, with limits on depth and item count, declared lengths checked
 * against the bytes that remain, no indefinite lengths, floats, booleans or
 * undefined, no tags (callers strip a leading COSE tag 18 themselves: libcbor
 * 0.8 cannot decode it), no trailing bytes; only then is the tree loaded.  Shared by the EIF signature section
 * and COSE parser (cose.c) and the NSM attestation parser (nsm_attest.c). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "core/cbor_int.h"
#include "core/internal.h"

#define MAX_DEPTH_CAP 16

struct vctx {
	const struct eimg_cbor_limits *lim;
	size_t remaining;          /* bytes left after the current item's head */
	size_t stack[MAX_DEPTH_CAP + 1];
	unsigned depth;
	size_t items;
	int top_items;             /* top-level items seen */
	const char *bad;           /* first problem */
};

static void set_bad(void *c, const char *why)
{
	struct vctx *v = c;
	if (!v->bad)
		v->bad = why;
}

static void item(struct vctx *v)
{
	if (v->bad)
		return;
	if (++v->items > v->lim->max_items) {
		v->bad = "too many items";
		return;
	}
	if (v->depth == 0)
		v->top_items++;
	else
		v->stack[v->depth - 1]--;
}

static void close_done(struct vctx *v)
{
	while (v->depth > 0 && v->stack[v->depth - 1] == 0)
		v->depth--;
}

static void scalar(struct vctx *v)
{
	item(v);
	close_done(v);
}

static void open_coll(struct vctx *v, size_t n, size_t per)
{
	item(v);
	if (v->bad)
		return;
	if (n > v->remaining / per) {
		v->bad = "a declared length exceeds the data";
		return;
	}
	if (n == 0) {
		close_done(v);
		return;
	}
	if (v->depth >= v->lim->max_depth) {
		v->bad = "nested too deeply";
		return;
	}
	v->stack[v->depth++] = n * per;
}

static void cb_u8(void *c, uint8_t x) { (void)x; scalar(c); }
static void cb_u16(void *c, uint16_t x) { (void)x; scalar(c); }
static void cb_u32(void *c, uint32_t x) { (void)x; scalar(c); }
static void cb_u64(void *c, uint64_t x) { (void)x; scalar(c); }
static void cb_str(void *c, cbor_data d, size_t n) { (void)d; (void)n; scalar(c); }
static void cb_array(void *c, size_t n) { open_coll(c, n, 1); }
static void cb_map(void *c, size_t n) { open_coll(c, n, 2); }
static void cb_indef(void *c) { set_bad(c, "indefinite lengths are not accepted"); }
static void cb_simple(void *c) { set_bad(c, "unexpected simple value"); }
static void cb_bool(void *c, bool b) { (void)b; cb_simple(c); }
static void cb_float(void *c, float f) { (void)f; set_bad(c, "floating-point values are not accepted"); }
static void cb_double(void *c, double f) { (void)f; cb_float(c, 0); }

static void cb_null(void *c)
{
	struct vctx *v = c;
	if (v->lim->allow_null)
		scalar(v);
	else
		cb_simple(c);
}

static void cb_tag(void *c, uint64_t t) { (void)t; set_bad(c, "unexpected tag"); }

static int precheck(const char *source, const char *what, const uint8_t *buf, size_t len,
		    const struct eimg_cbor_limits *lim, eimg_error *err)
{
	struct cbor_callbacks cb = cbor_empty_callbacks;
	struct vctx v;
	size_t off = 0;

	if (lim->max_depth > MAX_DEPTH_CAP)
		return eimg_err(err, EIMG_EINTERNAL, source, "%s: CBOR depth limit above %d", what, MAX_DEPTH_CAP);
	memset(&v, 0, sizeof(v));
	v.lim = lim;
	cb.uint8 = cb_u8; cb.uint16 = cb_u16; cb.uint32 = cb_u32; cb.uint64 = cb_u64;
	cb.negint8 = cb_u8; cb.negint16 = cb_u16; cb.negint32 = cb_u32; cb.negint64 = cb_u64;
	cb.byte_string = cb_str; cb.string = cb_str;
	cb.byte_string_start = cb_indef; cb.string_start = cb_indef;
	cb.indef_array_start = cb_indef; cb.indef_map_start = cb_indef; cb.indef_break = cb_indef;
	cb.array_start = cb_array; cb.map_start = cb_map; cb.tag = cb_tag;
	cb.float2 = cb_float; cb.float4 = cb_float; cb.float8 = cb_double;
	cb.undefined = cb_simple; cb.null = cb_null; cb.boolean = cb_bool;

	if (len == 0)
		return eimg_err(err, EIMG_EINVAL, source, "%s: empty CBOR", what);
	while (off < len) {
		if (v.top_items > 0 && v.depth == 0)
			return eimg_err(err, EIMG_EINVAL, source, "%s: %zu bytes after the CBOR item", what, len - off);
		v.remaining = len - off;
		struct cbor_decoder_result r = cbor_stream_decode(buf + off, len - off, &cb, &v);
		if (r.status != CBOR_DECODER_FINISHED || r.read == 0)
			return eimg_err(err, EIMG_EINVAL, source, "%s: %s CBOR at offset %zu", what,
					r.status == CBOR_DECODER_NEDATA ? "truncated" : "malformed", off);
		off += r.read;
		v.remaining = len - off;
		if (v.bad)
			return eimg_err(err, EIMG_EINVAL, source, "%s: CBOR at offset %zu: %s", what, off, v.bad);
	}
	if (v.depth != 0 || v.top_items != 1)
		return eimg_err(err, EIMG_EINVAL, source, "%s: truncated CBOR", what);
	return EIMG_OK;
}

int eimg_cbor_load_strict(const char *source, const char *what, const uint8_t *buf, size_t len,
			  const struct eimg_cbor_limits *lim, cbor_item_t **out, eimg_error *err)
{
	struct cbor_load_result res;
	int rc = precheck(source, what, buf, len, lim, err);
	if (rc)
		return rc;
	cbor_item_t *it = cbor_load(buf, len, &res);
	if (!it || res.error.code != CBOR_ERR_NONE || res.read != len) {
		if (it)
			cbor_decref(&it);
		return res.error.code == CBOR_ERR_MEMERROR ? eimg_err_nomem(err)
							   : eimg_err(err, EIMG_EINVAL, source, "%s: malformed CBOR", what);
	}
	*out = it;
	return EIMG_OK;
}

bool eimg_cbor_text_is(const cbor_item_t *it, const char *s)
{
	size_t n = strlen(s);
	return cbor_isa_string(it) && cbor_string_is_definite(it) && cbor_string_length(it) == n &&
	       memcmp(cbor_string_handle(it), s, n) == 0;
}

int eimg_cbor_bstr_dup(const cbor_item_t *it, uint8_t **out, size_t *len, eimg_error *err)
{
	size_t n = cbor_bytestring_length(it);
	uint8_t *b = malloc(n ? n : 1);
	if (!b)
		return eimg_err_nomem(err);
	if (n)
		memcpy(b, cbor_bytestring_handle(it), n);
	*out = b;
	*len = n;
	return EIMG_OK;
}
