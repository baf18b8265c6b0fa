/* SPDX-License-Identifier: Apache-2.0 */
/* Client message frames (sim.h): length-prefixed binary frames, or lines.
 * Input is untrusted: every length is checked against the limit before
 * anything is allocated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/sim.h"
#include "core/internal.h"

void eimg_frame_parser_init(struct eimg_frame_parser *p, size_t max, bool lines)
{
	memset(p, 0, sizeof *p);
	p->max = max;
	p->lines = lines;
}

void eimg_frame_parser_free(struct eimg_frame_parser *p)
{
	if (!p)
		return;
	free(p->buf);
	p->buf = NULL;
	p->have = p->need = 0;
}

void eimg_frame_header(uint8_t out[EIMG_FRAME_HEADER], uint32_t len, uint32_t code)
{
	eimg_be32(out, len);
	eimg_be32(out + 4, code);
}

static int fail(struct eimg_frame_parser *p, const char *fmt, unsigned long long a, unsigned long long b)
{
	p->failed = true;
	snprintf(p->why, sizeof p->why, fmt, a, b);
	return -1;
}

/* Hands the collected payload to the caller and resets for the next frame. */
static int complete(struct eimg_frame_parser *p, uint8_t **msg, size_t *msg_len)
{
	if (!p->buf && !(p->buf = malloc(1)))
		return -2;
	*msg = p->buf;
	*msg_len = p->have;
	p->buf = NULL;
	p->have = p->need = 0;
	p->hdr_have = 0;
	p->in_payload = false;
	return 1;
}

static int feed_lines(struct eimg_frame_parser *p, const uint8_t *data, size_t len, size_t *used,
		      uint8_t **msg, size_t *msg_len)
{
	const uint8_t *nl = memchr(data, '\n', len);
	size_t take = nl ? (size_t)(nl - data) : len;
	if (take > p->max - p->have)
		return fail(p, "line longer than the message limit of %llu bytes%.0llu", (unsigned long long)p->max, 0);
	if (take) {
		if (p->have + take > p->need) {
			size_t cap = p->need ? p->need : 256;
			while (cap < p->have + take)
				cap = cap > p->max / 2 ? p->max : cap * 2;
			uint8_t *n = realloc(p->buf, cap ? cap : 1);
			if (!n)
				return -2;
			p->buf = n;
			p->need = cap;
		}
		memcpy(p->buf + p->have, data, take);
		p->have += take;
	}
	*used = take + (nl ? 1 : 0);
	if (!nl)
		return 0;
	if (p->have && p->buf[p->have - 1] == '\r')
		p->have--;   /* tolerate CRLF from terminals and nc */
	return complete(p, msg, msg_len);
}

int eimg_frame_feed(struct eimg_frame_parser *p, const uint8_t *data, size_t len, size_t *used,
		    uint8_t **msg, size_t *msg_len)
{
	size_t off = 0;
	*used = 0;
	if (p->failed)
		return -1;
	if (p->lines)
		return feed_lines(p, data, len, used, msg, msg_len);
	while (off < len || (p->in_payload && p->have == p->need)) {
		if (!p->in_payload) {
			size_t n = EIMG_FRAME_HEADER - p->hdr_have;
			if (n > len - off)
				n = len - off;
			memcpy(p->hdr + p->hdr_have, data + off, n);
			p->hdr_have += n;
			off += n;
			if (p->hdr_have < EIMG_FRAME_HEADER)
				break;
			uint32_t flen = eimg_get_be32(p->hdr), code = eimg_get_be32(p->hdr + 4);
			if (code != 0) {
				*used = off;
				return fail(p, "request frame with code %llu (must be 0), length %llu", code, flen);
			}
			if (flen > p->max) {
				*used = off;
				return fail(p, "frame of %llu bytes exceeds the message limit of %llu bytes", flen,
					    (unsigned long long)p->max);
			}
			p->buf = malloc(flen ? flen : 1);
			if (!p->buf) {
				*used = off;
				return -2;
			}
			p->need = flen;
			p->have = 0;
			p->in_payload = true;
		}
		size_t n = p->need - p->have;
		if (n > len - off)
			n = len - off;
		memcpy(p->buf + p->have, data + off, n);
		p->have += n;
		off += n;
		if (p->have == p->need) {
			*used = off;
			return complete(p, msg, msg_len);
		}
	}
	*used = off;
	return 0;
}

int eimg_frame_finish(struct eimg_frame_parser *p, uint8_t **msg, size_t *msg_len)
{
	if (p->failed)
		return -1;
	if (p->lines) {
		if (p->have == 0)
			return 0;
		return complete(p, msg, msg_len);
	}
	if (p->in_payload)
		return fail(p, "input ended inside a frame: %llu of %llu payload bytes", (unsigned long long)p->have,
			    (unsigned long long)p->need);
	if (p->hdr_have)
		return fail(p, "input ended inside a frame header (%llu of 8 bytes)%.0llu", p->hdr_have, 0);
	return 0;
}
