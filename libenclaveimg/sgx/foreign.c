/* SPDX-License-Identifier: Apache-2.0 */
/* Other tool chains' enclaves as whole files: measuring one (what
 * enclave-measure shows), tying its signature to its content (MRENCLAVE
 * recomputed from the file by sdk_layout.c, compared with the SIGSTRUCT),
 * and the one-line account of what a verification checked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/identity.h"
#include "eimg/oe_enclave.h"
#include "eimg/sdk_enclave.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"

static int sdk_verify(const char *path, const uint8_t *buf, size_t len, const uint8_t ss[EIMG_SIGSTRUCT_SIZE],
		      struct eimg_verify_result *v, eimg_error *err)
{
	eimg_sdk_enclave *e = NULL;
	uint8_t mr[32];
	char h1[65], h2[65];
	int rc = eimg_sdk_open(path, buf, len, &e, err);
	if (rc)
		return rc;
	if (e->meta[0].extend_shared_object) {
		snprintf(v->how, sizeof(v->how), "no (the enclave embeds a FIPS provider whose pages this reader does not measure)");
		goto out;
	}
	for (size_t i = 0; i < e->nmeta; i++) {
		if (i && memcmp(e->meta[i].sigstruct_raw, ss, EIMG_SIGSTRUCT_SIZE) != 0) {
			rc = eimg_err(err, EIMG_EVERIFY, path, "SDK metadata %zu (version %u.%u) carries a different SIGSTRUCT than the first",
				      i, (unsigned)(e->meta[i].version >> 32), (unsigned)e->meta[i].version);
			goto out;
		}
		if ((rc = eimg_sdk_mrenclave(e, i, mr, err)))
			goto out;
		if (memcmp(mr, ss + EIMG_SS_ENCLAVEHASH, 32) != 0) {
			rc = eimg_err(err, EIMG_EVERIFY, path,
				      "the signature is for MRENCLAVE %s, the enclave's content measures %s (recomputed from the ELF and SDK metadata %zu, version %u.%u)",
				      eimg_hex(ss + EIMG_SS_ENCLAVEHASH, 32, h1), eimg_hex(mr, 32, h2), i,
				      (unsigned)(e->meta[i].version >> 32), (unsigned)e->meta[i].version);
			goto out;
		}
	}
	v->content_recomputed = true;
	snprintf(v->how, sizeof(v->how), "yes (from the ELF and its Intel SGX SDK metadata, %zu cop%s)", e->nmeta,
		 e->nmeta == 1 ? "y" : "ies agreeing");
out:
	eimg_sdk_free(e);
	return rc;
}

/* Open Enclave: MRENCLAVE recomputed as oesign measures (oe_layout.c).  An
 * enclave this reader cannot lay out is reported as "no (why)", so that
 * --sgxs or --mrenclave can still be checked. */
static int oe_verify(const char *path, const uint8_t *buf, size_t len, const uint8_t ss[EIMG_SIGSTRUCT_SIZE],
		     struct eimg_verify_result *v, eimg_error *err)
{
	uint8_t mr[32];
	char h1[65], h2[65];
	int rc = eimg_oe_mrenclave(path, buf, len, mr, err);
	if (rc == EIMG_EINVAL) {
		snprintf(v->how, sizeof(v->how), "no (%s)", err->msg);
		eimg_error_clear(err);
		return EIMG_OK;
	}
	if (rc)
		return rc;
	if (memcmp(mr, ss + EIMG_SS_ENCLAVEHASH, 32) != 0)
		return eimg_err(err, EIMG_EVERIFY, path,
				"the signature is for MRENCLAVE %s, the enclave's content measures %s (recomputed from the ELF and its .oeinfo as oesign does)",
				eimg_hex(ss + EIMG_SS_ENCLAVEHASH, 32, h1), eimg_hex(mr, 32, h2));
	v->content_recomputed = true;
	snprintf(v->how, sizeof(v->how), "yes (from the ELF and its Open Enclave .oeinfo properties)");
	return EIMG_OK;
}

int eimg_foreign_verify(const char *path, const uint8_t ss[EIMG_SIGSTRUCT_SIZE], struct eimg_verify_result *v,
			eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = eimg_read_file(path, EIMG_SIGSTRUCT_MAX_INPUT, &buf, &len, err);
	if (rc)
		return rc;
	if (v->format == EIMG_SIGFMT_INTEL_SDK)
		rc = sdk_verify(path, buf, len, ss, v, err);
	else if (v->format == EIMG_SIGFMT_OPENENCLAVE)
		rc = oe_verify(path, buf, len, ss, v, err);
	free(buf);
	return rc;
}

int eimg_foreign_show_text(const char *path, int fmt, char **out, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct eimg_oe_properties p;
	char *t = NULL;
	*out = NULL;
	if (fmt != EIMG_SIGFMT_OPENENCLAVE)
		return EIMG_OK;
	int rc = eimg_read_file(path, EIMG_SIGSTRUCT_MAX_INPUT, &buf, &len, err);
	if (!rc && !(rc = eimg_oe_read(path, buf, len, &p, err)) && !(rc = eimg_oe_text(&p, "  ", &t, err)) &&
	    asprintf(out, "properties (.oeinfo):\n%s", t) < 0) {
		*out = NULL;
		rc = eimg_err_nomem(err);
	}
	free(t);
	free(buf);
	return rc;
}

const char *eimg_verify_summary(const struct eimg_verify_result *v, char *buf, size_t size)
{
	char h[65];
	snprintf(buf, size, "signature valid over MRENCLAVE %s; content recomputed: %s", eimg_hex(v->s.enclavehash, 32, h),
		 v->how[0] ? v->how : "no");
	return buf;
}

static int measure_sdk(const char *path, const uint8_t *buf, size_t len, const struct eimg_foreign_measure_opts *o,
		       char **out, struct eimg_identity *id, eimg_error *err)
{
	eimg_sdk_enclave *e = NULL;
	uint8_t mr[32];
	int rc = eimg_sdk_open(path, buf, len, &e, err);
	if (rc)
		return rc;
	if ((rc = eimg_sdk_mrenclave(e, 0, mr, err)))
		goto out;
	if (o->sgxs_out && (rc = eimg_sdk_write_sgxs(e, o->sgxs_out, err)))
		goto out;
	if (o->json)
		rc = eimg_sdk_json_string(e, mr, out, err);
	else
		rc = eimg_sdk_text(e, mr, out, err);
	if (rc)
		goto out;
	/* Judged by the launch the signature permits (as enclave-sign verify does). */
	const struct eimg_sigstruct *ss = e->is_signed ? &e->meta[0].sigstruct : NULL;
	eimg_identity_sgx(mr, ss, EIMG_ID_HARDWARE, ss && !eimg_sigstruct_production_allowed(ss), id);
out:
	eimg_sdk_free(e);
	return rc;
}

static int oe_report(const struct eimg_oe_properties *p, const struct eimg_oe_layout *l, const uint8_t *mr,
		     char **out, eimg_error *err)
{
	char *t = NULL, *lt = NULL, h[65];
	int rc = eimg_oe_text(p, NULL, &t, err);
	if (!rc && (rc = eimg_oe_layout_text(l, NULL, &lt, err)) == EIMG_OK) {
		struct eimg_sb b = { 0 };
		eimg_sb_printf(&b, "format: Open Enclave enclave (.oeinfo)\nmrenclave: %s\n%s%s", eimg_hex(mr, 32, h), t, lt);
		if (!(*out = eimg_sb_done(&b)))
			rc = eimg_err_nomem(err);
	}
	free(t);
	free(lt);
	return rc;
}

static int measure_oe(const char *path, const uint8_t *buf, size_t len, const struct eimg_foreign_measure_opts *o,
		      char **out, struct eimg_identity *id, eimg_error *err)
{
	struct eimg_oe_properties p;
	struct eimg_oe_layout l;
	struct eimg_sigstruct ss;
	uint8_t mr[32];
	int rc;
	if ((rc = eimg_oe_plan(path, buf, len, &p, &l, err)) || (rc = eimg_oe_mrenclave(path, buf, len, mr, err)))
		return rc;
	if (o->sgxs_out && (rc = eimg_oe_write_sgxs(path, buf, len, o->sgxs_out, err)))
		return rc;
	if (p.is_signed && (rc = eimg_sigstruct_decode(path, buf + p.oeinfo_offset + EIMG_OEINFO_SIGSTRUCT_OFF,
							EIMG_SIGSTRUCT_SIZE, &ss, err)))
		return rc;
	if ((rc = o->json ? eimg_oe_json_string(&p, &l, mr, out, err) : oe_report(&p, &l, mr, out, err)))
		return rc;
	eimg_identity_sgx(mr, p.is_signed ? &ss : NULL, EIMG_ID_HARDWARE,
			  p.is_signed && !eimg_sigstruct_production_allowed(&ss), id);
	return EIMG_OK;
}

int eimg_foreign_measure(const char *path, const struct eimg_foreign_measure_opts *o, char **out,
			 struct eimg_identity *id, bool *have_id, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const uint8_t *sec = NULL;
	size_t n = 0;
	*have_id = false;
	int rc = eimg_read_file(path, EIMG_SIGSTRUCT_MAX_INPUT, &buf, &len, err);
	if (rc)
		return rc;
	if (eimg_sdk_is_sdk_elf(buf, len)) {
		rc = measure_sdk(path, buf, len, o, out, id, err);
		*have_id = rc == EIMG_OK;
	} else if ((rc = eimg_elf_section_find(path, buf, len, ".oeinfo", &sec, &n, err)) == EIMG_OK) {
		rc = sec ? measure_oe(path, buf, len, o, out, id, err) :
			   eimg_err(err, EIMG_EINVAL, path,
				    "an ELF file without .note.sgxmeta (Intel SGX SDK) or .oeinfo (Open Enclave): "
				    "build an image from it with enclave-build");
		*have_id = sec && rc == EIMG_OK;
	}
	free(buf);
	return rc;
}
