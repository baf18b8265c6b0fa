/* SPDX-License-Identifier: Apache-2.0 */
/* As of when a document is checked (eimg/checktime.h): --at and --max-age. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eimg/checktime.h"
#include "core/internal.h"

void eimg_check_time_now(struct eimg_check_time *t)
{
	t->at = EIMG_AT_TIME;
	t->time = (uint64_t)time(NULL);
	t->max_age = 0;
}

const char *eimg_time_iso(int64_t t, char out[32])
{
	if (!eimg_iso_time(t, out))
		snprintf(out, 32, "?");
	return out;
}

/* n decimal digits at *p into *v; advances *p. */
static bool digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		*v = *v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return true;
}

static bool expect_char(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static bool parse_rfc3339(const char *s, uint64_t *out)
{
	const char *p = s;
	int y, mo, d, h, mi, sec;
	if (!digits(&p, 4, &y) || !expect_char(&p, '-') || !digits(&p, 2, &mo) || !expect_char(&p, '-') ||
	    !digits(&p, 2, &d) || (*p != 'T' && *p != 't'))
		return false;
	p++;
	if (!digits(&p, 2, &h) || !expect_char(&p, ':') || !digits(&p, 2, &mi) || !expect_char(&p, ':') ||
	    !digits(&p, 2, &sec))
		return false;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "z") != 0 && strcmp(p, "+00:00") != 0)
		return false;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
			 .tm_sec = sec == 60 ? 59 : sec };
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1) /* 2023-02-30 normalises: refuse */
		return false;
	*out = (uint64_t)t;
	return true;
}

/* Decimal without sign or leading zeros, at most max. */
static bool parse_decimal(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

int eimg_check_time_parse(const char *s, struct eimg_check_time *t, eimg_error *err)
{
	uint64_t v;
	if (!s || !t)
		return eimg_err(err, EIMG_EUSAGE, NULL, "--at: no time given");
	if (strcmp(s, "document") == 0) {
		t->at = EIMG_AT_DOCUMENT;
		return EIMG_OK;
	}
	if (strcmp(s, "now") == 0) {
		t->at = EIMG_AT_TIME;
		t->time = (uint64_t)time(NULL);
		return EIMG_OK;
	}
	if (parse_decimal(s, strlen(s), (uint64_t)INT64_MAX / 1000, &v) || parse_rfc3339(s, &v)) {
		t->at = EIMG_AT_TIME;
		t->time = v;
		return EIMG_OK;
	}
	char esc[96];
	eimg_escape(s, strlen(s), esc, sizeof(esc));
	return eimg_err(err, EIMG_EUSAGE, NULL,
			"--at: expected RFC 3339 UTC (2023-01-18T13:07:19Z), seconds since 1970, 'now' or 'document', got \"%s\"",
			esc);
}

int eimg_duration_parse(const char *s, uint64_t *secs, eimg_error *err)
{
	size_t n = s ? strlen(s) : 0;
	uint64_t unit = 1, v;
	if (n > 0) {
		switch (s[n - 1]) {
		case 's': unit = 1; n--; break;
		case 'm': unit = 60; n--; break;
		case 'h': unit = 3600; n--; break;
		case 'd': unit = 86400; n--; break;
		default: break;
		}
	}
	if (!s || !parse_decimal(s, n, EIMG_MAX_DURATION, &v) || v == 0 || v > EIMG_MAX_DURATION / unit) {
		char esc[96];
		eimg_escape(s ? s : "", s ? strlen(s) : 0, esc, sizeof(esc));
		return eimg_err(err, EIMG_EUSAGE, NULL,
				"--max-age: expected a duration like 300, 90s, 5m, 2h or 1d (at most 100 years), got \"%s\"",
				esc);
	}
	*secs = v * unit;
	return EIMG_OK;
}

int eimg_check_time_apply(const struct eimg_check_time *t, const char *source, uint64_t doc_time, uint64_t skew,
			  uint64_t *at, eimg_error *err)
{
	char a[32], b[32];
	uint64_t when = t->at == EIMG_AT_DOCUMENT ? doc_time : t->time;
	if (doc_time > when && doc_time - when > skew)
		return eimg_err(err, EIMG_EVERIFY, source,
				"the attestation time %s lies in the future: %" PRIu64 " s after the time of the check %s",
				eimg_time_iso((int64_t)doc_time, a), doc_time - when, eimg_time_iso((int64_t)when, b));
	if (t->max_age && when > doc_time && when - doc_time > t->max_age)
		return eimg_err(err, EIMG_EVERIFY, source,
				"the document is too old: signed at %s, %" PRIu64 " s before the time of the check %s (--max-age %" PRIu64 " s)",
				eimg_time_iso((int64_t)doc_time, a), when - doc_time, eimg_time_iso((int64_t)when, b),
				t->max_age);
	*at = when;
	return EIMG_OK;
}
