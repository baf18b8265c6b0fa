/* SPDX-License-Identifier: Apache-2.0 */
/* Exact expected values for measurements (--expect). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/constraint.h"
#include "eimg/expect.h"
#include "eimg/util.h"
#include "core/internal.h"

bool eimg_expect_empty(const struct eimg_expect *e)
{
	return !e->has_mrenclave && !e->has_mrsigner && e->pcr_mask == 0;
}

static int set_value(bool *has, uint8_t *dst, size_t n, const char *hex, const char *name, const char *source,
		     eimg_error *err)
{
	if (*has)
		return eimg_err(err, EIMG_EINVAL, source, "%s is expected more than once", name);
	int rc = eimg_unhex(hex, dst, n, name, err);
	if (rc) {
		if (!err)
			return rc;
		err->file[0] = '\0';
		return eimg_err_context(err, source, "bad expected value");
	}
	*has = true;
	return EIMG_OK;
}

static int parse_token(struct eimg_expect *e, const char *tok, const char *source, eimg_error *err)
{
	char esc[100];
	const char *colon = strchr(tok, ':');
	if (!colon) {
		if (strlen(tok) == 64)
			return set_value(&e->has_mrenclave, e->mrenclave, 32, tok, "MRENCLAVE", source, err);
		return eimg_err(err, EIMG_EINVAL, source,
				"'%s': expected 64 hex digits (MRENCLAVE) or NAME:HEX (mrenclave, mrsigner, PCR0..PCR8)",
				eimg_escape(tok, strlen(tok), esc, sizeof(esc)));
	}
	size_t klen = (size_t)(colon - tok);
	const char *val = colon + 1;
	if (klen == 9 && strncmp(tok, "mrenclave", 9) == 0)
		return set_value(&e->has_mrenclave, e->mrenclave, 32, val, "MRENCLAVE", source, err);
	if (klen == 8 && strncmp(tok, "mrsigner", 8) == 0)
		return set_value(&e->has_mrsigner, e->mrsigner, 32, val, "MRSIGNER", source, err);
	if (klen == 4 && strncmp(tok, "PCR", 3) == 0 && tok[3] >= '0' && tok[3] <= '8') {
		int i = tok[3] - '0';
		bool has = e->pcr_mask & (1u << i);
		char name[8];
		snprintf(name, sizeof(name), "PCR%d", i);
		int rc = set_value(&has, e->pcr[i], 48, val, name, source, err);
		if (rc == EIMG_OK)
			e->pcr_mask |= (uint16_t)(1u << i);
		return rc;
	}
	return eimg_err(err, EIMG_EINVAL, source, "'%s': unknown expected value (use mrenclave:, mrsigner: or PCR0: .. PCR8:)",
			eimg_escape(tok, klen, esc, sizeof(esc)));
}

int eimg_expect_parse(struct eimg_expect *e, const char *text, const char *source, eimg_error *err)
{
	size_t n = strlen(text);
	if (n > EIMG_EXPECT_MAX_TEXT)
		return eimg_err(err, EIMG_EINVAL, source, "expected values above %d bytes", EIMG_EXPECT_MAX_TEXT);
	struct eimg_expect tmp = *e;
	const char *p = text;
	char tok[256];
	int count = 0;
	while (*p) {
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == '#') {
			while (*p && *p != '\n')
				p++;
			continue;
		}
		size_t l = 0;
		while (p[l] && !isspace((unsigned char)p[l]) && p[l] != '#')
			l++;
		if (l >= sizeof(tok)) {
			char esc[60];
			return eimg_err(err, EIMG_EINVAL, source, "'%s': token too long", eimg_escape(p, 40, esc, sizeof(esc)));
		}
		memcpy(tok, p, l);
		tok[l] = '\0';
		int rc = parse_token(&tmp, tok, source, err);
		if (rc)
			return rc;
		count++;
		p += l;
	}
	if (count == 0)
		return eimg_err(err, EIMG_EINVAL, source, "no expected value given");
	*e = tmp;
	return EIMG_OK;
}

int eimg_expect_parse_file(struct eimg_expect *e, const char *path, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = eimg_read_file(path, EIMG_EXPECT_MAX_TEXT, &buf, &len, err);
	if (rc)
		return rc;
	if (memchr(buf, '\0', len))
		rc = eimg_err(err, EIMG_EINVAL, path, "not a text file");
	else
		rc = eimg_expect_parse(e, (const char *)buf, path, err);
	free(buf);
	return rc;
}

struct report {
	char msg[EIMG_ERROR_MSG_MAX];
	size_t len;
	int n;
};

static void add_diff(struct report *r, const char *name, const uint8_t *want, const uint8_t *have, size_t n)
{
	char w[2 * 48 + 1], h[2 * 48 + 1];
	eimg_hex(want, n, w);
	if (have)
		eimg_hex(have, n, h);
	int k = snprintf(r->msg + r->len, sizeof(r->msg) - r->len, "%s%s differs: expected %s, actual %s",
			 r->n ? "; " : "", name, w, have ? h : "(none: not available for this input)");
	if (k > 0)
		r->len = r->len + (size_t)k < sizeof(r->msg) ? r->len + (size_t)k : sizeof(r->msg) - 1;
	r->n++;
}

int eimg_expect_check(const struct eimg_expect *e, const struct eimg_identity *a, eimg_error *err)
{
	struct report r;
	bool has_mrsigner = a->has_sgx && !a->no_sigstruct;
	memset(&r, 0, sizeof(r));
	if (e->has_mrenclave && (!a->has_sgx || memcmp(e->mrenclave, a->mrenclave, 32) != 0))
		add_diff(&r, "MRENCLAVE", e->mrenclave, a->has_sgx ? a->mrenclave : NULL, 32);
	if (e->has_mrsigner && (!has_mrsigner || memcmp(e->mrsigner, a->mrsigner, 32) != 0))
		add_diff(&r, "MRSIGNER", e->mrsigner, has_mrsigner ? a->mrsigner : NULL, 32);
	for (int i = 0; i < EIMG_NPCR; i++) {
		if (!(e->pcr_mask & (1u << i)))
			continue;
		bool have = a->pcr_mask & (1u << i);
		if (!have || memcmp(e->pcr[i], a->pcr[i], 48) != 0) {
			char name[8];
			snprintf(name, sizeof(name), "PCR%d", i);
			add_diff(&r, name, e->pcr[i], have ? a->pcr[i] : NULL, 48);
		}
	}
	if (r.n == 0)
		return EIMG_OK;
	return eimg_err(err, EIMG_EVERIFY, NULL, "%s", r.msg);
}
