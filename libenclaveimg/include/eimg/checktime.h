/* SPDX-License-Identifier: Apache-2.0 */
/* As of when a signed document is checked, and how fresh it must be.
 * enclave-measure --at TIME --max-age DURATION; rules in
 * man/enclave-attestation.5 ("Time of the check").
 *
 * A document is checked as of one time T: certificates must be valid at T,
 * constraints such as EXPIRE are evaluated at T, the document's own signed
 * timestamp may lie at most the skew after T, and with a freshness policy at
 * most max_age before T. */
#ifndef EIMG_CHECKTIME_H
#define EIMG_CHECKTIME_H

#include <stdint.h>
#include "eimg/error.h"

#define EIMG_AT_TIME     0  /* as of .time (seconds since 1970, UTC) */
#define EIMG_AT_DOCUMENT 1  /* as of the document's own signed timestamp */

/* Longest --max-age: 100 years. */
#define EIMG_MAX_DURATION (100ull * 366 * 24 * 3600)

struct eimg_check_time {
	int at;            /* EIMG_AT_TIME or EIMG_AT_DOCUMENT */
	uint64_t time;     /* for EIMG_AT_TIME */
	uint64_t max_age;  /* seconds; 0 = no freshness policy */
};

/* As of now (time(2)), no freshness policy: the default. */
void eimg_check_time_now(struct eimg_check_time *t);

/* Parses --at: RFC 3339 in UTC ("2023-01-18T13:07:19Z", fractional seconds
 * allowed and ignored, "+00:00" accepted for Z), seconds since the epoch
 * (decimal), "now", or "document".  Keeps t->max_age.  EIMG_EUSAGE with one
 * line when it is none of these. */
int eimg_check_time_parse(const char *s, struct eimg_check_time *t, eimg_error *err);

/* Parses a duration: decimal seconds with an optional unit s, m, h or d
 * ("90", "90s", "5m", "2h", "1d"); 1 to EIMG_MAX_DURATION seconds. */
int eimg_duration_parse(const char *s, uint64_t *secs, eimg_error *err);

/* The time a document with signed timestamp doc_time (seconds) is checked
 * at, into *at; EIMG_EVERIFY naming both times when doc_time lies more than
 * skew seconds after it, or (with max_age) more than max_age before it. */
int eimg_check_time_apply(const struct eimg_check_time *t, const char *source, uint64_t doc_time, uint64_t skew,
			  uint64_t *at, eimg_error *err);

/* "YYYY-MM-DDTHH:MM:SSZ" (UTC) into out; "?" for a time gmtime cannot show. */
const char *eimg_time_iso(int64_t t, char out[32]);

#endif
