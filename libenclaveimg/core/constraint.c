/* SPDX-License-Identifier: Apache-2.0 */
/* The constraint language: parsing, checking, canonical form.
 * Normative text: man/enclave-constraints.7; summary in eimg/constraint.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/constraint.h"
#include "eimg/util.h"
#include "core/internal.h"

enum debug_rule { DEBUG_ANY = 0, DEBUG_NO = 1, DEBUG_YES = 2 };

struct eimg_constraint {
	uint8_t (*c)[32];
	size_t nc;
	uint8_t (*s)[32];
	size_t ns;
	bool has_prod, has_revoke, has_sec, has_expire;
	uint16_t prod;
	uint16_t revoke;
	int sec;
	uint32_t years, months, weeks, days; /* EXPIRE */
	int debug;                           /* enum debug_rule */
	uint16_t pcr_mask;
	uint8_t pcr[EIMG_CONSTRAINT_NPCR][48];
};

/* Where a token is, for error messages. */
struct tok {
	const char *p;
	size_t len;
	unsigned line, col;
};

struct parser {
	const char *source; /* NULL: a string given directly */
	eimg_error *err;
	/* first token of each single-use key, for "given twice" messages */
	struct tok first_prod, first_revoke, first_sec, first_expire, first_debug, first_s;
	struct tok first_pcr[EIMG_CONSTRAINT_NPCR];
};

static int tok_err(struct parser *ps, const struct tok *t, const char *fmt, ...) EIMG_PRINTF(3, 4);

static int tok_err(struct parser *ps, const struct tok *t, const char *fmt, ...)
{
	char what[300], esc[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	eimg_escape(t->p, t->len, esc, sizeof(esc));
	if (ps->source)
		return eimg_err_at(ps->err, EIMG_EINVAL, ps->source, t->line, t->col, "token \"%s\": %s",
				   esc, what);
	return eimg_err(ps->err, EIMG_EINVAL, NULL, "constraint: token \"%s\" (column %u): %s", esc,
			t->col, what);
}

static int whole_err(struct parser *ps, const char *msg)
{
	if (ps->source)
		return eimg_err(ps->err, EIMG_EINVAL, ps->source, "%s", msg);
	return eimg_err(ps->err, EIMG_EINVAL, NULL, "constraint: %s", msg);
}

static int parse_hex(struct parser *ps, const struct tok *t, const char *v, size_t vlen, uint8_t *out,
		     size_t n, const char *what)
{
	if (vlen != 2 * n)
		return tok_err(ps, t, "expected %s as %zu hex digits, got %zu characters", what, 2 * n, vlen);
	for (size_t i = 0; i < n; i++) {
		int hi = eimg_hex_digit(v[2 * i]), lo = eimg_hex_digit(v[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return tok_err(ps, t, "expected %s as hex digits, character %zu is not one", what,
				       2 * i + (hi < 0 ? 1 : 2));
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return EIMG_OK;
}

/* Decimal digits only (no sign, no spaces), value <= max. */
static int parse_uint(struct parser *ps, const struct tok *t, const char *v, size_t vlen, uint32_t max,
		      uint32_t *out, const char *what)
{
	uint64_t x = 0;
	if (vlen == 0)
		return tok_err(ps, t, "expected %s (0..%" PRIu32 "), got nothing", what, max);
	for (size_t i = 0; i < vlen; i++) {
		if (v[i] < '0' || v[i] > '9')
			return tok_err(ps, t, "expected %s as a decimal number 0..%" PRIu32, what, max);
		x = x * 10 + (uint64_t)(v[i] - '0');
		if (x > max)
			return tok_err(ps, t, "%s is above the maximum of %" PRIu32, what, max);
	}
	*out = (uint32_t)x;
	return EIMG_OK;
}

/* ISO-8601 period as Java's Period.parse reads it, without signs:
 * P[nY][nM][nW][nD], at least one part, letters in either case. */
static int parse_period(struct parser *ps, const struct tok *t, const char *v, size_t vlen,
			eimg_constraint *c)
{
	static const char units[] = "YMWD";
	uint32_t vals[4] = { 0, 0, 0, 0 };
	size_t i = 0;
	int next = 0, parts = 0;
	if (vlen == 0 || (v[0] != 'P' && v[0] != 'p'))
		return tok_err(ps, t, "expected an ISO-8601 period like P6M2W5D (years Y, months M, weeks W, days D)");
	i = 1;
	while (i < vlen) {
		uint64_t x = 0;
		size_t start = i;
		if (v[i] == '-' || v[i] == '+')
			return tok_err(ps, t, "a period must not carry a sign");
		if (v[i] == 'T' || v[i] == 't')
			return tok_err(ps, t, "a period takes years, months, weeks and days only, not a time (T)");
		while (i < vlen && v[i] >= '0' && v[i] <= '9') {
			x = x * 10 + (uint64_t)(v[i] - '0');
			if (x > EIMG_CONSTRAINT_MAX_PERIOD)
				return tok_err(ps, t, "period number is above the maximum of %d",
					       EIMG_CONSTRAINT_MAX_PERIOD);
			i++;
		}
		if (i == start || i == vlen)
			return tok_err(ps, t, "expected an ISO-8601 period like P6M2W5D: each part is a number and one of Y, M, W, D");
		char u = v[i];
		if (u >= 'a' && u <= 'z')
			u = (char)(u - 'a' + 'A');
		const char *pos = memchr(units, u, 4);
		if (!pos)
			return tok_err(ps, t, "expected an ISO-8601 period like P6M2W5D: unknown unit");
		int k = (int)(pos - units);
		if (k < next)
			return tok_err(ps, t, "period parts must appear once each, in the order Y, M, W, D");
		vals[k] = (uint32_t)x;
		next = k + 1;
		parts++;
		i++;
	}
	if (parts == 0)
		return tok_err(ps, t, "expected an ISO-8601 period like P6M2W5D: no parts after P");
	c->years = vals[0];
	c->months = vals[1];
	c->weeks = vals[2];
	c->days = vals[3];
	return EIMG_OK;
}

static bool tok_is(const char *k, size_t klen, const char *name)
{
	return strlen(name) == klen && memcmp(k, name, klen) == 0;
}

static int twice(struct parser *ps, const struct tok *t, const struct tok *first, const char *key)
{
	char esc[64];
	eimg_escape(first->p, first->len, esc, sizeof(esc));
	if (ps->source)
		return tok_err(ps, t, "%s may be given only once (first at line %u column %u)", key,
			       first->line, first->col);
	return tok_err(ps, t, "%s may be given only once (first \"%s\" at column %u)", key, esc, first->col);
}

static int add_hash(struct parser *ps, const struct tok *t, uint8_t (**arr)[32], size_t *n, size_t total,
		    const uint8_t h[32])
{
	for (size_t i = 0; i < *n; i++)
		if (memcmp((*arr)[i], h, 32) == 0)
			return EIMG_OK; /* a set, as in Conclave */
	if (total >= EIMG_CONSTRAINT_MAX_HASHES)
		return tok_err(ps, t, "more than %d C: and S: values", EIMG_CONSTRAINT_MAX_HASHES);
	uint8_t (*na)[32] = realloc(*arr, (*n + 1) * sizeof(**arr));
	if (!na)
		return eimg_err_nomem(ps->err);
	*arr = na;
	memcpy(na[*n], h, 32);
	(*n)++;
	return EIMG_OK;
}

static int parse_token(struct parser *ps, const struct tok *t, eimg_constraint *c)
{
	const char *colon = memchr(t->p, ':', t->len);
	if (!colon)
		return tok_err(ps, t, "expected KEY:VALUE, found no ':'");
	if (memchr(colon + 1, ':', t->len - (size_t)(colon - t->p) - 1))
		return tok_err(ps, t, "expected KEY:VALUE with exactly one ':'");
	const char *k = t->p, *v = colon + 1;
	size_t klen = (size_t)(colon - t->p), vlen = t->len - klen - 1;
	uint8_t h[32];
	uint32_t x;
	int rc;

	if (tok_is(k, klen, "C")) {
		if ((rc = parse_hex(ps, t, v, vlen, h, 32, "a code hash (MRENCLAVE)")))
			return rc;
		return add_hash(ps, t, &c->c, &c->nc, c->nc + c->ns, h);
	}
	if (tok_is(k, klen, "S")) {
		if ((rc = parse_hex(ps, t, v, vlen, h, 32, "a signer (MRSIGNER)")))
			return rc;
		if (c->ns == 0)
			ps->first_s = *t;
		return add_hash(ps, t, &c->s, &c->ns, c->nc + c->ns, h);
	}
	if (tok_is(k, klen, "PROD")) {
		if (c->has_prod)
			return twice(ps, t, &ps->first_prod, "PROD");
		if ((rc = parse_uint(ps, t, v, vlen, 65535, &x, "a product id")))
			return rc;
		c->has_prod = true;
		c->prod = (uint16_t)x;
		ps->first_prod = *t;
		return EIMG_OK;
	}
	if (tok_is(k, klen, "REVOKE")) {
		if (c->has_revoke)
			return twice(ps, t, &ps->first_revoke, "REVOKE");
		/* revocation level = ISVSVN - 1 <= 65534 */
		if ((rc = parse_uint(ps, t, v, vlen, 65534, &x, "a revocation level")))
			return rc;
		c->has_revoke = true;
		c->revoke = (uint16_t)x;
		ps->first_revoke = *t;
		return EIMG_OK;
	}
	if (tok_is(k, klen, "SEC")) {
		if (c->has_sec)
			return twice(ps, t, &ps->first_sec, "SEC");
		if (tok_is(v, vlen, "INSECURE"))
			c->sec = EIMG_SEC_INSECURE;
		else if (tok_is(v, vlen, "STALE"))
			c->sec = EIMG_SEC_STALE;
		else if (tok_is(v, vlen, "SECURE"))
			c->sec = EIMG_SEC_SECURE;
		else
			return tok_err(ps, t, "expected SEC:INSECURE, SEC:STALE or SEC:SECURE");
		c->has_sec = true;
		ps->first_sec = *t;
		return EIMG_OK;
	}
	if (tok_is(k, klen, "EXPIRE")) {
		if (c->has_expire)
			return twice(ps, t, &ps->first_expire, "EXPIRE");
		if ((rc = parse_period(ps, t, v, vlen, c)))
			return rc;
		c->has_expire = true;
		ps->first_expire = *t;
		return EIMG_OK;
	}
	if (tok_is(k, klen, "DEBUG")) {
		if (c->debug != DEBUG_ANY)
			return twice(ps, t, &ps->first_debug, "DEBUG");
		if (tok_is(v, vlen, "NO"))
			c->debug = DEBUG_NO;
		else if (tok_is(v, vlen, "YES"))
			c->debug = DEBUG_YES;
		else
			return tok_err(ps, t, "expected DEBUG:NO or DEBUG:YES");
		ps->first_debug = *t;
		return EIMG_OK;
	}
	if (klen == 4 && memcmp(k, "PCR", 3) == 0 && k[3] >= '0' && k[3] <= '8') {
		int i = k[3] - '0';
		char name[5] = { 'P', 'C', 'R', k[3], 0 };
		if (c->pcr_mask & (1u << i))
			return twice(ps, t, &ps->first_pcr[i], name);
		if ((rc = parse_hex(ps, t, v, vlen, c->pcr[i], 48, "a SHA-384 PCR value")))
			return rc;
		c->pcr_mask = (uint16_t)(c->pcr_mask | (1u << i));
		ps->first_pcr[i] = *t;
		return EIMG_OK;
	}
	char esc[64];
	eimg_escape(k, klen, esc, sizeof(esc));
	return tok_err(ps, t, "unknown key \"%s\" (keys: C S PROD REVOKE SEC EXPIRE DEBUG PCR0..PCR8)", esc);
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

static int parse_text(const char *source, const char *buf, size_t len, bool comments,
		      eimg_constraint **out, eimg_error *err)
{
	struct parser ps;
	eimg_constraint *c = NULL;
	unsigned line = 1, col = 1;
	size_t i = 0, ntok = 0;
	int rc;

	memset(&ps, 0, sizeof(ps));
	ps.source = source;
	ps.err = err;
	if (len > EIMG_CONSTRAINT_MAX_TEXT)
		return whole_err(&ps, "constraint is above the limit of 65536 bytes");
	c = calloc(1, sizeof(*c));
	if (!c)
		return eimg_err_nomem(err);
	c->sec = EIMG_SEC_STALE;

	while (i < len) {
		char ch = buf[i];
		if (ch == '\0') {
			if (source)
				rc = eimg_err_at(err, EIMG_EINVAL, source, line, col, "contains a NUL byte");
			else
				rc = eimg_err(err, EIMG_EINVAL, NULL, "constraint: contains a NUL byte");
			goto out;
		}
		if (ch == '\n') {
			line++;
			col = 1;
			i++;
			continue;
		}
		if (is_space(ch)) {
			i++;
			col++;
			continue;
		}
		if (comments && ch == '#') {
			while (i < len && buf[i] != '\n') {
				if (buf[i] == '\0')
					break; /* reported by the loop above */
				i++;
			}
			continue;
		}
		struct tok t = { buf + i, 0, line, col };
		while (i < len && !is_space(buf[i]) && buf[i] != '\0' && !(comments && buf[i] == '#')) {
			i++;
			col++;
		}
		t.len = (size_t)(buf + i - t.p);
		ntok++;
		if ((rc = parse_token(&ps, &t, c)))
			goto out;
	}
	if (ntok == 0) {
		rc = whole_err(&ps, "constraint is empty: give at least one C:, S: or PCRn: key");
		goto out;
	}
	if (c->nc == 0 && c->ns == 0 && c->pcr_mask == 0) {
		rc = whole_err(&ps, "needs at least one C: (code hash), S: (signer) or PCRn: key");
		goto out;
	}
	if (c->ns > 0 && !c->has_prod) {
		rc = tok_err(&ps, &ps.first_s, "S: needs PROD: (one signing key can sign unrelated products)");
		goto out;
	}
	if (c->has_prod && c->ns == 0) {
		rc = tok_err(&ps, &ps.first_prod, "PROD: needs at least one S: (the product id of which signer?)");
		goto out;
	}
	if (c->debug == DEBUG_YES && c->sec != EIMG_SEC_INSECURE) {
		rc = tok_err(&ps, &ps.first_debug,
			     "DEBUG:YES needs SEC:INSECURE (a debug enclave is always INSECURE)");
		goto out;
	}
	*out = c;
	c = NULL;
	rc = EIMG_OK;
out:
	eimg_constraint_free(c);
	return rc;
}

int eimg_constraint_parse(const char *text, eimg_constraint **out, eimg_error *err)
{
	if (!text || !out)
		return eimg_err(err, EIMG_EUSAGE, NULL, "constraint: no text given");
	size_t len = strnlen(text, EIMG_CONSTRAINT_MAX_TEXT + 1);
	return parse_text(NULL, text, len, false, out, err);
}

int eimg_constraint_parse_buffer(const char *source, const char *buf, size_t len,
				 eimg_constraint **out, eimg_error *err)
{
	if (!out || (!buf && len))
		return eimg_err(err, EIMG_EUSAGE, source, "no constraint given");
	return parse_text(source ? source : "constraint", buf ? buf : "", len, true, out, err);
}

int eimg_constraint_parse_file(const char *path, eimg_constraint **out, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = eimg_read_file(path, EIMG_CONSTRAINT_MAX_TEXT, &buf, &len, err);
	if (rc)
		return rc;
	rc = eimg_constraint_parse_buffer(path, (const char *)buf, len, out, err);
	free(buf);
	return rc;
}

int eimg_constraint_parse_arg(const char *arg, eimg_constraint **out, eimg_error *err)
{
	if (arg && arg[0] == '@') {
		if (!arg[1])
			return eimg_err(err, EIMG_EUSAGE, NULL, "constraint: expected a file name after '@'");
		return eimg_constraint_parse_file(arg + 1, out, err);
	}
	return eimg_constraint_parse(arg, out, err);
}

void eimg_constraint_free(eimg_constraint *c)
{
	if (!c)
		return;
	free(c->c);
	free(c->s);
	free(c);
}

const char *eimg_security_name(int sec)
{
	switch (sec) {
	case EIMG_SEC_INSECURE:
		return "INSECURE";
	case EIMG_SEC_STALE:
		return "STALE";
	case EIMG_SEC_SECURE:
		return "SECURE";
	default:
		return "?";
	}
}

int eimg_identity_security(const struct eimg_identity *id)
{
	if (id->debug || id->mode != EIMG_ID_HARDWARE)
		return EIMG_SEC_INSECURE;
	return id->security;
}

/* ---- dates (proleptic Gregorian, UTC) ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(int64_t y, unsigned m)
{
	static const unsigned dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* now minus the period, as java.time does it: months first (day clamped to
 * the month's last day), then days; the time of day is kept. */
static int64_t expire_threshold(const eimg_constraint *c, uint64_t now)
{
	int64_t days = (int64_t)(now / 86400), secs = (int64_t)(now % 86400);
	int64_t y;
	unsigned m, d;
	eimg_civil_from_days(days, &y, &m, &d);
	int64_t ym = y * 12 + (int64_t)(m - 1) - ((int64_t)c->years * 12 + c->months);
	int64_t ny = ym >= 0 ? ym / 12 : -((-ym + 11) / 12);
	unsigned nm = (unsigned)(ym - ny * 12) + 1;
	if (d > days_in_month(ny, nm))
		d = days_in_month(ny, nm);
	int64_t nd = days_from_civil(ny, nm, d) - ((int64_t)c->weeks * 7 + c->days);
	return nd * 86400 + secs;
}

static void fmt_period(const eimg_constraint *c, char *out, size_t size)
{
	size_t o = 0;
	const uint32_t v[4] = { c->years, c->months, c->weeks, c->days };
	const char u[4] = { 'Y', 'M', 'W', 'D' };
	o += (size_t)snprintf(out, size, "P");
	for (int i = 0; i < 4; i++)
		if (v[i] && o < size)
			o += (size_t)snprintf(out + o, size - o, "%" PRIu32 "%c", v[i], u[i]);
	if (o == 1 && o < size)
		snprintf(out + o, size - o, "0D");
}

/* ---- checking ---- */

/* Appends to a fixed buffer, ending it with "..." when it does not fit. */
struct sbuf {
	char *p;
	size_t size, len;
	bool full;
};

static void sb_init(struct sbuf *b, char *p, size_t size)
{
	b->p = p;
	b->size = size;
	b->len = 0;
	b->full = false;
	p[0] = '\0';
}

static void sb_add(struct sbuf *b, const char *fmt, ...) EIMG_PRINTF(2, 3);

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	if (b->full)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->size) {
		/* keep room for "..." */
		size_t keep = b->size > 4 && b->len + 4 <= b->size ? b->size - 4 : b->len;
		if (keep > b->len) {
			memcpy(b->p + b->len, tmp, keep - b->len);
			b->len = keep;
		}
		if (b->len + 4 <= b->size) {
			memcpy(b->p + b->len, "...", 4);
			b->len += 3;
		} else {
			b->p[b->len] = '\0';
		}
		b->full = true;
		return;
	}
	memcpy(b->p + b->len, tmp, (size_t)n + 1);
	b->len += (size_t)n;
}

struct failures {
	struct eimg_constraint_failure *arr;
	size_t max, n;
	struct sbuf summary;
	char summary_buf[EIMG_ERROR_MSG_MAX];
};

static void add_fail(struct failures *f, const char *key, const char *expected, const char *actual)
{
	if (f->n < f->max) {
		struct eimg_constraint_failure *x = &f->arr[f->n];
		struct sbuf b;
		snprintf(x->key, sizeof(x->key), "%s", key);
		sb_init(&b, x->expected, sizeof(x->expected));
		sb_add(&b, "%s", expected);
		sb_init(&b, x->actual, sizeof(x->actual));
		sb_add(&b, "%s", actual);
	}
	sb_add(&f->summary, "%s%s: expected %s, got %s", f->n ? "; " : "", key, expected, actual);
	f->n++;
}

static void hash_list(struct sbuf *b, const char *prefix, uint8_t (*arr)[32], size_t n)
{
	char hex[65];
	for (size_t i = 0; i < n; i++)
		sb_add(b, "%s%s%s", i ? " or " : "", prefix, eimg_hex(arr[i], 32, hex));
}

static bool in_list(uint8_t (*arr)[32], size_t n, const uint8_t h[32])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(arr[i], h, 32) == 0)
			return true;
	return false;
}

static const char *insecure_reason(const struct eimg_identity *id)
{
	if (id->mode == EIMG_ID_SIMULATION)
		return " (simulation)";
	if (id->mode == EIMG_ID_MOCK)
		return " (mock)";
	if (id->debug)
		return " (debug)";
	return "";
}

/* (any C OR any S) */
static void check_cs(const eimg_constraint *c, const struct eimg_identity *id, struct failures *f)
{
	char exp[EIMG_CONSTRAINT_EXPECTED_MAX], act[EIMG_CONSTRAINT_ACTUAL_MAX], hex[97];
	struct sbuf be, ba;
	bool signer = id->has_sgx && !id->no_sigstruct;
	bool ok = id->has_sgx && (in_list(c->c, c->nc, id->mrenclave) || (signer && in_list(c->s, c->ns, id->mrsigner)));
	if (ok)
		return;
	const char *key = c->nc && c->ns ? "C/S" : c->nc ? "C" : "S";
	bool both = c->nc && c->ns;
	sb_init(&be, exp, sizeof(exp));
	sb_init(&ba, act, sizeof(act));
	hash_list(&be, both ? "C:" : "", c->c, c->nc);
	if (both)
		sb_add(&be, " or ");
	hash_list(&be, both ? "S:" : "", c->s, c->ns);
	if (!id->has_sgx) {
		sb_add(&ba, "no SGX identity");
	} else {
		if (c->nc)
			sb_add(&ba, "%s%s", both ? "C:" : "", eimg_hex(id->mrenclave, 32, hex));
		if (both)
			sb_add(&ba, " ");
		if (c->ns && !signer)
			sb_add(&ba, "%sunsigned (no SIGSTRUCT)", both ? "S:" : "");
		else if (c->ns)
			sb_add(&ba, "%s%s", both ? "S:" : "", eimg_hex(id->mrsigner, 32, hex));
	}
	add_fail(f, key, exp, act);
}

/* PROD and REVOKE: the SIGSTRUCT's ISVPRODID and ISVSVN. */
static void check_fields(const eimg_constraint *c, const struct eimg_identity *id, struct failures *f)
{
	char exp[EIMG_CONSTRAINT_EXPECTED_MAX], act[EIMG_CONSTRAINT_ACTUAL_MAX];
	bool fields = id->has_sgx && !id->no_sigstruct; /* ISVPRODID and ISVSVN known */
	if (c->has_prod && (!fields || id->isvprodid != c->prod)) {
		snprintf(exp, sizeof(exp), "%u", c->prod);
		if (fields)
			snprintf(act, sizeof(act), "%u", id->isvprodid);
		else
			snprintf(act, sizeof(act), "%s", id->has_sgx ? "unsigned (no SIGSTRUCT)" : "no SGX identity");
		add_fail(f, "PROD", exp, act);
	}
	if (c->has_revoke && (!fields || (int)id->isvsvn - 1 < (int)c->revoke)) {
		snprintf(exp, sizeof(exp), "revocation level >= %u (ISVSVN >= %u)", c->revoke, c->revoke + 1u);
		if (fields)
			snprintf(act, sizeof(act), "%d (ISVSVN %u)", (int)id->isvsvn - 1, id->isvsvn);
		else
			snprintf(act, sizeof(act), "%s", id->has_sgx ? "unsigned (no SIGSTRUCT)" : "no SGX identity");
		add_fail(f, "REVOKE", exp, act);
	}
}

static void check_sec(const eimg_constraint *c, const struct eimg_identity *id, struct failures *f)
{
	char exp[EIMG_CONSTRAINT_EXPECTED_MAX], act[EIMG_CONSTRAINT_ACTUAL_MAX];
	int have = eimg_identity_security(id);
	bool ok = c->sec == EIMG_SEC_INSECURE ? have == EIMG_SEC_INSECURE : have >= c->sec;
	if (ok)
		return;
	if (c->sec == EIMG_SEC_INSECURE)
		snprintf(exp, sizeof(exp), "INSECURE only (SEC:INSECURE never accepts a secure enclave)");
	else if (c->sec == EIMG_SEC_STALE)
		snprintf(exp, sizeof(exp), "STALE or SECURE");
	else
		snprintf(exp, sizeof(exp), "SECURE");
	snprintf(act, sizeof(act), "%s%s", eimg_security_name(have), have == EIMG_SEC_INSECURE ? insecure_reason(id) : "");
	add_fail(f, "SEC", exp, act);
}

static void check_expire(const eimg_constraint *c, const struct eimg_identity *id, uint64_t now, struct failures *f)
{
	char exp[EIMG_CONSTRAINT_EXPECTED_MAX], act[EIMG_CONSTRAINT_ACTUAL_MAX];
	int64_t th = expire_threshold(c, now);
	char when[48], per[64];
	eimg_iso_time(th, when);
	fmt_period(c, per, sizeof(per));
	if (id->timestamp == 0) {
		snprintf(exp, sizeof(exp), "an attestation newer than %s (%s)", when, per);
		add_fail(f, "EXPIRE", exp, "no attestation");
	} else if (id->timestamp <= (uint64_t)INT64_MAX && (int64_t)id->timestamp <= th) {
		snprintf(exp, sizeof(exp), "an attestation newer than %s (%s)", when, per);
		eimg_iso_time((int64_t)id->timestamp, when);
		snprintf(act, sizeof(act), "attested at %s", when);
		add_fail(f, "EXPIRE", exp, act);
	}
}

static void check_pcrs(const eimg_constraint *c, const struct eimg_identity *id, struct failures *f)
{
	char exp[EIMG_CONSTRAINT_EXPECTED_MAX], act[EIMG_CONSTRAINT_ACTUAL_MAX];
	for (int i = 0; i < EIMG_CONSTRAINT_NPCR; i++) {
		if (!(c->pcr_mask & (1u << i)))
			continue;
		bool present = id->pcr_mask & (1u << i);
		if (present && memcmp(id->pcr[i], c->pcr[i], 48) == 0)
			continue;
		char key[8];
		snprintf(key, sizeof(key), "PCR%d", i);
		eimg_hex(c->pcr[i], 48, exp);
		if (present)
			eimg_hex(id->pcr[i], 48, act);
		else
			snprintf(act, sizeof(act), "no PCR%d", i);
		add_fail(f, key, exp, act);
	}
}

int eimg_constraint_check(const eimg_constraint *c, const struct eimg_identity *id, uint64_t now,
			  struct eimg_constraint_failure *fails, size_t maxfails, size_t *nfails,
			  eimg_error *err)
{
	struct failures f;

	if (!c || !id || (maxfails && !fails))
		return eimg_err(err, EIMG_EUSAGE, NULL, "constraint check: missing argument");
	if (id->mode != EIMG_ID_HARDWARE && id->mode != EIMG_ID_SIMULATION && id->mode != EIMG_ID_MOCK)
		return eimg_err(err, EIMG_EINVAL, NULL, "constraint check: identity has an unknown mode %d", id->mode);
	if (id->security < EIMG_SEC_INSECURE || id->security > EIMG_SEC_SECURE)
		return eimg_err(err, EIMG_EINVAL, NULL, "constraint check: identity has an unknown security level %d",
				id->security);
	memset(&f, 0, sizeof(f));
	f.arr = fails;
	f.max = maxfails;
	sb_init(&f.summary, f.summary_buf, sizeof(f.summary_buf));
	sb_add(&f.summary, "enclave does not match the constraint: ");

	if (c->nc || c->ns)
		check_cs(c, id, &f);
	check_fields(c, id, &f);
	check_sec(c, id, &f);
	if (c->debug == DEBUG_NO && id->debug)
		add_fail(&f, "DEBUG", "not a debug enclave (DEBUG:NO)", "debug");
	if (c->debug == DEBUG_YES && !id->debug)
		add_fail(&f, "DEBUG", "a debug enclave (DEBUG:YES)", "not debug");
	if (c->has_expire)
		check_expire(c, id, now, &f);
	check_pcrs(c, id, &f);

	if (nfails)
		*nfails = f.n;
	if (f.n == 0)
		return EIMG_OK;
	return eimg_err(err, EIMG_EVERIFY, NULL, "%s", f.summary_buf);
}

int eimg_constraint_format(const eimg_constraint *c, char **out, eimg_error *err)
{
	if (!c || !out)
		return eimg_err(err, EIMG_EUSAGE, NULL, "constraint format: missing argument");
	size_t cap = (c->nc + c->ns) * 67 + EIMG_CONSTRAINT_NPCR * 102 + 256;
	char *s = malloc(cap), hex[97], per[64];
	if (!s)
		return eimg_err_nomem(err);
	size_t o = 0;
#define ADD(...) (o += (size_t)snprintf(s + o, cap - o, __VA_ARGS__))
	for (size_t i = 0; i < c->nc; i++)
		ADD("%sC:%s", o ? " " : "", eimg_hex(c->c[i], 32, hex));
	for (size_t i = 0; i < c->ns; i++)
		ADD("%sS:%s", o ? " " : "", eimg_hex(c->s[i], 32, hex));
	if (c->has_prod)
		ADD(" PROD:%u", c->prod);
	if (c->has_revoke)
		ADD(" REVOKE:%u", c->revoke);
	for (int i = 0; i < EIMG_CONSTRAINT_NPCR; i++)
		if (c->pcr_mask & (1u << i))
			ADD("%sPCR%d:%s", o ? " " : "", i, eimg_hex(c->pcr[i], 48, hex));
	ADD(" SEC:%s", eimg_security_name(c->sec));
	if (c->debug != DEBUG_ANY)
		ADD(" DEBUG:%s", c->debug == DEBUG_NO ? "NO" : "YES");
	if (c->has_expire) {
		fmt_period(c, per, sizeof(per));
		ADD(" EXPIRE:%s", per);
	}
#undef ADD
	if (s[0] == ' ')
		memmove(s, s + 1, strlen(s));
	*out = s;
	return EIMG_OK;
}
