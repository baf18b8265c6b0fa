/* SPDX-License-Identifier: Apache-2.0 */
/* Admission: may this image run here, under these expectations and
 * constraints?  One decision for enclave-run (before anything is loaded) and
 * enclave-measure (judging an image, a stream, an EIF or an attestation).
 * The answer is a list of reasons, each a code with its fields: a caller
 * decides on codes and fields, never on message text (the eimg_error in a
 * reason is for display only). */
#ifndef EIMG_ADMIT_H
#define EIMG_ADMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eimg/constraint.h"
#include "eimg/error.h"
#include "eimg/expect.h"
#include "eimg/identity.h"
#include "eimg/measure.h"
#include "eimg/sigstruct.h"

enum eimg_admit_code {
	EIMG_ADMIT_MODE = 1,          /* the target runs only images built for another mode (mode, target) */
	EIMG_ADMIT_UNSIGNED,          /* the image has no signature (or an all-zero one) */
	EIMG_ADMIT_SIGNATURE,         /* the signature is invalid or signs another enclave (status, err) */
	EIMG_ADMIT_DEBUG_DENIED,      /* a debug launch, and the signature is production-only */
	EIMG_ADMIT_PRODUCTION_DENIED, /* a production launch, and the signature allows only debug */
	EIMG_ADMIT_EXPECT,            /* expected values differ (status, err lists every difference) */
	EIMG_ADMIT_CONSTRAINT,        /* one constraint key does not hold (failure) */
	EIMG_ADMIT_CONSTRAINT_ERROR   /* the constraint fails without a key to name (status, err) */
};

/* Where the image is to run.  EIMG_ADMIT_AS_BUILT: nowhere yet (measuring):
 * the identity is the image's build mode, and a debug-only signature means a
 * debug launch. */
enum eimg_admit_target {
	EIMG_ADMIT_AS_BUILT = 0,
	EIMG_ADMIT_SIMULATION,
	EIMG_ADMIT_MOCK,
	EIMG_ADMIT_HARDWARE
};

struct eimg_admit_policy {
	int target;                        /* enum eimg_admit_target */
	bool debug;                        /* a debug launch */
	bool require_signature;            /* an SGX image must carry a valid signature */
	const struct eimg_expect *expect;  /* NULL or empty: none */
	const eimg_constraint *constraint; /* NULL: none */
	uint64_t now;                      /* seconds since the epoch, for constraint dates */
};

struct eimg_admit_reason {
	int code;                               /* enum eimg_admit_code */
	int status;                             /* the library status behind it (EIMG_E*) */
	int mode;                               /* EIMG_ADMIT_MODE: the image's build mode */
	struct eimg_constraint_failure failure; /* EIMG_ADMIT_CONSTRAINT */
	eimg_error err;                         /* SIGNATURE, UNSIGNED, EXPECT, CONSTRAINT_ERROR: for display */
};

#define EIMG_ADMIT_MAX_FAILURES 16 /* constraint keys named, at most */
#define EIMG_ADMIT_MAX_REASONS (EIMG_ADMIT_MAX_FAILURES + 8)

struct eimg_admit_result {
	struct eimg_identity id;          /* the identity judged */
	bool is_signed;                   /* SGX: sigstruct holds the image's (verified when it mattered) signature */
	struct eimg_sigstruct sigstruct;
	unsigned failed_checks;           /* checks that failed (a constraint counts once, however many keys) */
	size_t nreasons;
	struct eimg_admit_reason reasons[EIMG_ADMIT_MAX_REASONS];
};

/* The expectations and the constraint of p against an identity (the one
 * identity check).  source names the input in the reasons' errors.  Returns
 * EIMG_OK when admitted, EIMG_EVERIFY with res->reasons when not, another
 * status (err filled) when the check itself could not be made. */
int eimg_admit_identity(const struct eimg_identity *id, const char *source, const struct eimg_admit_policy *p,
			struct eimg_admit_result *res, eimg_error *err);

/* An opened SGX image: its build mode against the target, its signature
 * (verified against the recomputed measurement when required or when there is
 * anything to check, else only decoded), what a hardware launch would refuse,
 * then eimg_admit_identity on the identity it would run with.  Same returns;
 * res->reasons lists every failure in that order. */
int eimg_admit_sgx(const eimg_sgx_image *s, const char *source, const struct eimg_admit_policy *p,
		   struct eimg_admit_result *res, eimg_error *err);

/* The first reason with code, or NULL. */
const struct eimg_admit_reason *eimg_admit_find(const struct eimg_admit_result *res, int code);

/* EPC bytes a hardware launch of the image needs (its pages and the SECS). */
uint64_t eimg_admit_epc_need(const eimg_sgx_image *s);

#endif
