/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648, standard alphabet, padded) over OpenSSL's EVP_EncodeBlock
 * and EVP_DecodeBlock.  Decoding is strict: the input must be exactly what
 * the encoder writes for the decoded bytes (no stray characters, canonical
 * padding), optionally with white space between characters. */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/internal.h"

char *eimg_base64_encode(const uint8_t *in, size_t len)
{
	if (len > (size_t)INT32_MAX / 4 * 3 - 3)
		return NULL;
	char *out = malloc(4 * ((len + 2) / 3) + 1);
	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, in, (int)len);
	return out;
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int eimg_base64_decode(const char *in, size_t len, bool allow_space, size_t max, uint8_t **out, size_t *outlen)
{
	char *s = NULL, *again = NULL;
	uint8_t *buf = NULL;
	size_t n = 0, pad = 0;
	int rc = -1;

	if (len > (size_t)INT32_MAX || !(s = malloc(len + 1)))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (allow_space && is_space(in[i]))
			continue;
		s[n++] = in[i];
	}
	s[n] = '\0';
	if (n % 4 != 0 || n / 4 * 3 > max + 2 || strlen(s) != n)
		goto out;
	while (n > 0 && pad < 2 && s[n - 1 - pad] == '=')
		pad++;
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") != n - pad)
		goto out;
	if (!(buf = malloc(n / 4 * 3 + 1)))
		goto out;
	int d = EVP_DecodeBlock(buf, (const unsigned char *)s, (int)n);
	if (d < 0 || (size_t)d < pad || (size_t)d - pad > max)
		goto out;
	size_t got = (size_t)d - pad;
	/* Canonical: what the encoder writes for these bytes, to the letter. */
	if (!(again = eimg_base64_encode(buf, got)) || strcmp(again, s) != 0)
		goto out;
	*out = buf;
	*outlen = got;
	buf = NULL;
	rc = 0;
out:
	free(s);
	free(again);
	free(buf);
	return rc;
}
