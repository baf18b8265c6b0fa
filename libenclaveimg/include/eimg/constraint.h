/* SPDX-License-Identifier: Apache-2.0 */
/* Deciding whether to trust an enclave: the constraint language.
 * Normative text: man/enclave-constraints.7.
 *
 * A constraint is one short string of space-separated KEY:VALUE tokens, as
 * in R3's Conclave, extended with PCR0:..PCR8: (Nitro) and DEBUG:
 *
 *   C:<64 hex>        an accepted MRENCLAVE (may repeat)
 *   S:<64 hex>        an accepted MRSIGNER (may repeat; needs PROD)
 *   PROD:<0..65535>   ISVPRODID must equal this (needs S)
 *   REVOKE:<0..65534> revocation level (ISVSVN - 1) must be >= this
 *   SEC:INSECURE|STALE|SECURE   minimum security level (default STALE);
 *                     SEC:INSECURE accepts ONLY insecure enclaves
 *   EXPIRE:<period>   ISO-8601 period PnYnMnWnD: the attestation must be
 *                     newer than now minus the period
 *   DEBUG:NO|YES      NO: a debug enclave never matches, whatever SEC says;
 *                     YES: only a debug enclave matches (needs SEC:INSECURE).
 *                     Absent: no extra rule (SEC decides; debug is INSECURE)
 *   PCR0:..PCR8:<96 hex>  Nitro PCR values, all given must match
 *
 * Every key except C and S at most once; at least one of C, S, PCRn.
 * Match = (any C OR any S, when some are given) AND every other key holds.
 * Debug, simulation and mock enclaves are always INSECURE. */
#ifndef EIMG_CONSTRAINT_H
#define EIMG_CONSTRAINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

/* Documented limits (enclave-constraints(7)). */
#define EIMG_CONSTRAINT_MAX_TEXT   65536   /* bytes of constraint text or file */
#define EIMG_CONSTRAINT_MAX_HASHES 512     /* C: plus S: values */
#define EIMG_CONSTRAINT_MAX_PERIOD 100000  /* each number in an EXPIRE period */
#define EIMG_CONSTRAINT_NPCR       9       /* PCR0 .. PCR8 */

typedef struct eimg_constraint eimg_constraint;

enum eimg_security {
	EIMG_SEC_INSECURE = 0, /* simulation, mock, debug launch */
	EIMG_SEC_STALE = 1,    /* hardware, platform behind on updates (or not attested) */
	EIMG_SEC_SECURE = 2    /* hardware, attested platform up to date */
};

/* How the enclave runs (values 1 and 2 equal enum eimg_mode). */
enum eimg_id_mode {
	EIMG_ID_HARDWARE = 1,
	EIMG_ID_SIMULATION = 2,
	EIMG_ID_MOCK = 3
};

/* What is known about one enclave.  Fill it from an attestation, or from a
 * launch (the image's MRENCLAVE, its SIGSTRUCT's MRSIGNER/ISVPRODID/ISVSVN,
 * the operator's debug choice; timestamp 0).  Without an attestation a
 * hardware enclave launched without DEBUG is at least STALE, never known
 * SECURE: pass EIMG_SEC_STALE. */
struct eimg_identity {
	bool has_sgx;              /* mrenclave..isvsvn are meaningful */
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	uint16_t isvsvn;
	bool debug;                /* DEBUG attribute set / Nitro debug mode */
	int mode;                  /* enum eimg_id_mode */
	int security;              /* enum eimg_security, as attested; forced to
				      INSECURE by the check when debug or not hardware */
	uint64_t timestamp;        /* attestation time (Unix seconds), 0 = no attestation */
	uint16_t pcr_mask;         /* bit i: pcr[i] is present */
	uint8_t pcr[EIMG_CONSTRAINT_NPCR][48];
	bool no_sigstruct;         /* SGX, unsigned: mrsigner, isvprodid, isvsvn are unknown
				      (S, PROD and REVOKE then never hold) */
};

#define EIMG_CONSTRAINT_EXPECTED_MAX 256
#define EIMG_CONSTRAINT_ACTUAL_MAX   160

/* One key that did not hold.  key is "C", "S", "C/S", "PROD", "REVOKE",
 * "SEC", "DEBUG", "EXPIRE" or "PCRn"; texts are printable ASCII. */
struct eimg_constraint_failure {
	char key[8];
	char expected[EIMG_CONSTRAINT_EXPECTED_MAX];
	char actual[EIMG_CONSTRAINT_ACTUAL_MAX];
};

/* Parses a constraint string.  Tokens are separated by spaces, tabs or
 * newlines.  Errors (EIMG_EINVAL) name the offending token, escaped. */
int eimg_constraint_parse(const char *text, eimg_constraint **out, eimg_error *err);

/* Parses the file form: the same tokens over any number of lines, '#'
 * starts a comment to the end of the line.  source names the input in
 * errors (file:line:col). */
int eimg_constraint_parse_buffer(const char *source, const char *buf, size_t len,
				 eimg_constraint **out, eimg_error *err);
int eimg_constraint_parse_file(const char *path, eimg_constraint **out, eimg_error *err);

/* For a command-line value: "@path" reads the file form from path,
 * anything else is the constraint string itself. */
int eimg_constraint_parse_arg(const char *arg, eimg_constraint **out, eimg_error *err);

/* Checks an identity at time now (Unix seconds, UTC).  Returns EIMG_OK on a
 * match, EIMG_EVERIFY on a mismatch with err->msg summarising every failing
 * key on one line, EIMG_EINVAL for an invalid identity.  The first maxfails
 * failures are stored in fails (may be NULL when maxfails is 0); *nfails
 * (may be NULL) receives the number of failures found, also on EVERIFY. */
int eimg_constraint_check(const eimg_constraint *c, const struct eimg_identity *id, uint64_t now,
			  struct eimg_constraint_failure *fails, size_t maxfails, size_t *nfails,
			  eimg_error *err);

/* The canonical string of a constraint (keys in a fixed order, lower-case
 * hex, SEC always given); parsing it gives the same constraint.  free() it. */
int eimg_constraint_format(const eimg_constraint *c, char **out, eimg_error *err);

/* The effective security level of an identity: INSECURE when debug or not
 * hardware, else its security field. */
int eimg_identity_security(const struct eimg_identity *id);

const char *eimg_security_name(int sec); /* "INSECURE", "STALE", "SECURE", or "?" */

void eimg_constraint_free(eimg_constraint *c);

#endif
