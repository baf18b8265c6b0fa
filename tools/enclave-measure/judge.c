/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-measure: the admission's verdict on a measurement or an
 * attestation's claims, printed (measure.h). */
#include <stdlib.h>

#include "enclave-measure/measure.h"

/* now: the time of the check (constraints such as EXPIRE). */
struct eimg_admit_policy measure_policy(const struct opts *o, uint64_t now)
{
	struct eimg_admit_policy p = { .target = EIMG_ADMIT_AS_BUILT, .expect = &o->x.expect,
				       .constraint = o->x.constraint, .now = now };
	return p;
}

/* The admission's reasons, printed.  A client checking an attestation
 * against a constraint is told every failing check and key; otherwise the
 * first failure is the answer. */
int measure_report(const struct opts *o, const struct eimg_admit_result *res, const char *source)
{
	bool all = o->attestation && o->x.constraint;
	int ex = EIMG_EXIT_OK;

	for (size_t i = 0; i < res->nreasons; i++) {
		const struct eimg_admit_reason *r = &res->reasons[i];
		eimg_error e = r->err;
		switch (r->code) {
		case EIMG_ADMIT_EXPECT:
			ex = tool_fail(&e, r->status);
			if (all)
				continue;
			return ex;
		case EIMG_ADMIT_CONSTRAINT:
			if (all) {
				tool_message(0, "'%s': constraint %s: expected %s, actual %s", source, r->failure.key,
					     r->failure.expected, r->failure.actual);
				ex = EIMG_EXIT_VERIFY;
				continue;
			}
			/* the constraint not met, in one line */
			/* fall through */
		case EIMG_ADMIT_CONSTRAINT_ERROR:
			eimg_err_context(&e, source, "constraint not met");
			return tool_fail(&e, r->status);
		default: /* the signature, as measured */
			return tool_fail(&e, r->status);
		}
	}
	return ex;
}

/* --expect and --constraint against what was recomputed. */
int measure_check_identity(const struct opts *o, const struct eimg_identity *id, const char *source, uint64_t now)
{
	struct eimg_admit_policy p = measure_policy(o, now);
	struct eimg_admit_result *res = malloc(sizeof *res);
	eimg_error err;
	int rc, ex;

	if (!res)
		return tool_message(EIMG_EXIT_ERROR, "out of memory");
	eimg_error_clear(&err);
	rc = eimg_admit_identity(id, source, &p, res, &err);
	ex = rc && rc != EIMG_EVERIFY ? tool_fail(&err, rc) : measure_report(o, res, source);
	free(res);
	return ex;
}
