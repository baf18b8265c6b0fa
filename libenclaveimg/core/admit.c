/* SPDX-License-Identifier: Apache-2.0 */
/* Admission: may this image run here, under these expectations and
 * constraints?  The decision enclave-run and enclave-measure share, as a
 * list of coded reasons (eimg/admit.h). */
#include <stdio.h>
#include <string.h>

#include "eimg/admit.h"
#include "eimg/layout.h"
#include "core/internal.h"

static struct eimg_admit_reason *add_reason(struct eimg_admit_result *res, int code, int status)
{
	struct eimg_admit_reason *r;
	if (res->nreasons >= EIMG_ADMIT_MAX_REASONS)
		return NULL; /* cannot happen: at most MAX_FAILURES keys and one of each other code */
	r = &res->reasons[res->nreasons++];
	memset(r, 0, sizeof *r);
	r->code = code;
	r->status = status;
	return r;
}

/* A failed check whose description is in e. */
static void add_error(struct eimg_admit_result *res, int code, int status, const eimg_error *e)
{
	struct eimg_admit_reason *r = add_reason(res, code, status);
	if (r)
		r->err = *e;
	res->failed_checks++;
}

static bool has_expectations(const struct eimg_admit_policy *p)
{
	return (p->expect && !eimg_expect_empty(p->expect)) || p->constraint;
}

static int check_constraint(const struct eimg_identity *id, const struct eimg_admit_policy *p,
			    struct eimg_admit_result *res, eimg_error *err)
{
	struct eimg_constraint_failure f[EIMG_ADMIT_MAX_FAILURES];
	eimg_error e;
	size_t nf = 0;

	eimg_error_clear(&e);
	int rc = eimg_constraint_check(p->constraint, id, p->now, f, EIMG_ADMIT_MAX_FAILURES, &nf, &e);
	if (rc == EIMG_ENOMEM)
		return eimg_err_nomem(err);
	if (rc == EIMG_EVERIFY && nf > 0) {
		for (size_t i = 0; i < nf && i < EIMG_ADMIT_MAX_FAILURES; i++) {
			struct eimg_admit_reason *r = add_reason(res, EIMG_ADMIT_CONSTRAINT, rc);
			if (r) {
				r->failure = f[i];
				r->err = e;
			}
		}
		res->failed_checks++;
	} else if (rc) {
		add_error(res, EIMG_ADMIT_CONSTRAINT_ERROR, rc, &e);
	}
	return EIMG_OK;
}

static int check_identity(const struct eimg_identity *id, const char *source, const struct eimg_admit_policy *p,
			  struct eimg_admit_result *res, eimg_error *err)
{
	eimg_error e;

	res->id = *id;
	eimg_error_clear(&e);
	if (p->expect && !eimg_expect_empty(p->expect)) {
		int rc = eimg_expect_check(p->expect, id, &e);
		if (rc == EIMG_ENOMEM)
			return eimg_err_nomem(err);
		if (rc) {
			snprintf(e.file, sizeof e.file, "%s", source ? source : "");
			add_error(res, EIMG_ADMIT_EXPECT, rc, &e);
		}
	}
	if (p->constraint) {
		int rc = check_constraint(id, p, res, err);
		if (rc)
			return rc;
	}
	return res->nreasons ? EIMG_EVERIFY : EIMG_OK;
}

int eimg_admit_identity(const struct eimg_identity *id, const char *source, const struct eimg_admit_policy *p,
			struct eimg_admit_result *res, eimg_error *err)
{
	if (!id || !p || !res)
		return eimg_err(err, EIMG_EUSAGE, NULL, "admission: missing argument");
	memset(res, 0, sizeof *res);
	return check_identity(id, source, p, res, err);
}

/* The target against the image's build mode. */
static void check_mode(const eimg_sgx_image *s, const struct eimg_admit_policy *p, struct eimg_admit_result *res)
{
	int mode = s->manifest->mode;
	bool ok = p->target == EIMG_ADMIT_AS_BUILT ||
		  (p->target == EIMG_ADMIT_HARDWARE ? mode == EIMG_MODE_HARDWARE : mode == EIMG_MODE_SIMULATION);
	if (!ok) {
		struct eimg_admit_reason *r = add_reason(res, EIMG_ADMIT_MODE, EIMG_EVERIFY);
		if (r)
			r->mode = mode;
		res->failed_checks++;
	}
}

static bool zero_modulus(const eimg_sgx_image *s, const char *source)
{
	struct eimg_sigstruct ss;
	eimg_error e;
	const eimg_image *img = s->image;
	if (eimg_sigstruct_decode(source, eimg_image_sigstruct(img), EIMG_SIGSTRUCT_SIZE, &ss, &e))
		return false;
	for (size_t i = 0; i < sizeof ss.modulus; i++)
		if (ss.modulus[i])
			return false;
	return true;
}

/* The signature: verified when required or when anything is to be checked,
 * else only decoded (measuring shows it). */
static int check_signature(const eimg_sgx_image *s, const char *source, const struct eimg_admit_policy *p,
			   struct eimg_admit_result *res, eimg_error *err)
{
	const eimg_image *img = s->image;
	eimg_error e;
	int rc;

	eimg_error_clear(&e);
	if (!eimg_image_sigstruct(img) && !p->require_signature)
		return EIMG_OK;
	if (p->require_signature || has_expectations(p))
		rc = eimg_sign_verify_opened(s, source, &res->sigstruct, &e);
	else
		rc = eimg_sigstruct_decode(source, eimg_image_sigstruct(img), EIMG_SIGSTRUCT_SIZE, &res->sigstruct, &e);
	if (rc == EIMG_ENOMEM) {
		*err = e;
		return rc;
	}
	if (rc == EIMG_OK)
		res->is_signed = true;
	else
		add_error(res, !eimg_image_sigstruct(img) || zero_modulus(s, source) ? EIMG_ADMIT_UNSIGNED : EIMG_ADMIT_SIGNATURE,
			  rc, &e);
	return EIMG_OK;
}

/* What EINIT would refuse, said before anything is loaded. */
static void check_launch(const struct eimg_admit_policy *p, struct eimg_admit_result *res)
{
	if (!res->is_signed || p->target != EIMG_ADMIT_HARDWARE)
		return;
	if (p->debug && !eimg_sigstruct_debug_allowed(&res->sigstruct)) {
		add_reason(res, EIMG_ADMIT_DEBUG_DENIED, EIMG_EVERIFY);
		res->failed_checks++;
	} else if (!p->debug && !eimg_sigstruct_production_allowed(&res->sigstruct)) {
		add_reason(res, EIMG_ADMIT_PRODUCTION_DENIED, EIMG_EVERIFY);
		res->failed_checks++;
	}
}

int eimg_admit_sgx(const eimg_sgx_image *s, const char *source, const struct eimg_admit_policy *p,
		   struct eimg_admit_result *res, eimg_error *err)
{
	struct eimg_identity id;
	int kind;
	bool debug;

	if (!s || !p || !res)
		return eimg_err(err, EIMG_EUSAGE, NULL, "admission: missing argument");
	memset(res, 0, sizeof *res);
	check_mode(s, p, res);
	int rc = check_signature(s, source, p, res, err);
	if (rc)
		return rc;
	check_launch(p, res);
	switch (p->target) {
	case EIMG_ADMIT_AS_BUILT:
		/* Not launched: a signature that permits only debug launches can only run as debug. */
		kind = s->m.mode;
		debug = res->is_signed && !eimg_sigstruct_production_allowed(&res->sigstruct);
		break;
	case EIMG_ADMIT_MOCK: kind = EIMG_ID_MOCK; debug = p->debug; break;
	case EIMG_ADMIT_HARDWARE: kind = EIMG_ID_HARDWARE; debug = p->debug; break;
	default: kind = EIMG_ID_SIMULATION; debug = p->debug; break;
	}
	eimg_identity_sgx(s->m.mrenclave, res->is_signed ? &res->sigstruct : NULL, kind, debug, &id);
	return check_identity(&id, source, p, res, err);
}

const struct eimg_admit_reason *eimg_admit_find(const struct eimg_admit_result *res, int code)
{
	for (size_t i = 0; res && i < res->nreasons; i++)
		if (res->reasons[i].code == code)
			return &res->reasons[i];
	return NULL;
}

uint64_t eimg_admit_epc_need(const eimg_sgx_image *s)
{
	return s ? (s->layout->npages + 1) * (uint64_t)EIMG_PAGE : 0;
}
