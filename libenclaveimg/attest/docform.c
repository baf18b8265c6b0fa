/* SPDX-License-Identifier: Apache-2.0 */
/* The forms an attestation document arrives in (eimg_attest_doc_decode):
 * an enclave-attestation(5) JSON document, a Nitro COSE_Sign1 as raw CBOR,
 * or that CBOR as hex or base64 text (as services often store it). */
#include <stdlib.h>
#include <string.h>

#include "eimg/attest.h"
#include "core/internal.h"

static int is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A COSE_Sign1 starts with an array of four (0x84) or tag 18 (0xd2). */
static int cose_start(const uint8_t *p, size_t n)
{
	return n > 0 && (p[0] == 0x84 || p[0] == 0xd2);
}

static int copy_out(const uint8_t *p, size_t n, uint8_t **out, size_t *outlen, eimg_error *err)
{
	uint8_t *c = malloc(n ? n : 1);
	if (!c)
		return eimg_err_nomem(err);
	memcpy(c, p, n);
	*out = c;
	*outlen = n;
	return EIMG_OK;
}

/* Hex text (white space between digit pairs allowed) into a fresh buffer. */
static int from_hex(const uint8_t *p, size_t n, uint8_t **out, size_t *outlen)
{
	uint8_t *buf = malloc(n / 2 + 1);
	size_t o = 0;
	int hi = -1;
	if (!buf)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (is_space(p[i]) && hi < 0)
			continue;
		int v = eimg_hex_digit((char)p[i]);
		if (v < 0)
			goto bad;
		if (hi < 0) {
			hi = v;
		} else {
			buf[o++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	if (hi >= 0 || o == 0)
		goto bad;
	*out = buf;
	*outlen = o;
	return 0;
bad:
	free(buf);
	return -1;
}

int eimg_attest_doc_decode(const char *source, const uint8_t *buf, size_t len, uint8_t **out, size_t *outlen,
			   int *kind, eimg_error *err)
{
	size_t i = 0, end = len;
	uint8_t *dec = NULL;
	size_t declen = 0;

	if (!source)
		source = "attestation";
	if (!buf || !out || !outlen || !kind)
		return eimg_err(err, EIMG_EUSAGE, source, "no document given");
	while (i < end && is_space(buf[i]))
		i++;
	while (end > i && is_space(buf[end - 1]))
		end--;
	if (i == end)
		return eimg_err(err, EIMG_EINVAL, source, "empty document");
	if (buf[i] == '{') {
		*kind = EIMG_ATTEST_DOC_JSON;
		return copy_out(buf, len, out, outlen, err);
	}
	if (cose_start(buf, len)) {
		*kind = EIMG_ATTEST_DOC_COSE;
		return copy_out(buf, len, out, outlen, err);
	}
	/* Text: hex first (hex digits are also base64 characters), then base64. */
	if (from_hex(buf + i, end - i, &dec, &declen) == 0 && cose_start(dec, declen)) {
		*kind = EIMG_ATTEST_DOC_COSE;
		*out = dec;
		*outlen = declen;
		return EIMG_OK;
	}
	free(dec);
	dec = NULL;
	if (eimg_base64_decode((const char *)buf + i, end - i, true, EIMG_ATTEST_MAX_DOC, &dec, &declen) == 0) {
		if (cose_start(dec, declen)) {
			*kind = EIMG_ATTEST_DOC_COSE;
			*out = dec;
			*outlen = declen;
			return EIMG_OK;
		}
		unsigned first = declen ? dec[0] : 0;
		free(dec);
		return eimg_err(err, EIMG_EINVAL, source,
				"base64 text that does not decode to a COSE_Sign1 (first byte 0x%02x, expected 0x84 or 0xd2)",
				first);
	}
	return eimg_err(err, EIMG_EINVAL, source,
			"not an attestation document: expected enclave-attestation(5) JSON, or a COSE_Sign1 as CBOR, hex "
			"or base64 text (first byte 0x%02x)",
			buf[i]);
}

int eimg_attest_doc_read_file(const char *path, uint8_t **out, size_t *outlen, int *kind, eimg_error *err)
{
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	/* Text forms (hex, base64) are larger than the document they hold. */
	int rc = eimg_read_file(path, 2 * EIMG_ATTEST_MAX_DOC, &raw, &rawlen, err);
	if (!rc)
		rc = eimg_attest_doc_decode(path, raw, rawlen, out, outlen, kind, err);
	free(raw);
	return rc;
}
