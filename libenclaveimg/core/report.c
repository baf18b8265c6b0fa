/* SPDX-License-Identifier: Apache-2.0 */
/* Text and JSON renderings of build and measurement results. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eimg/report.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "sgx/sigstruct_int.h"

const char *eimg_region_kind_name(int kind)
{
	switch (kind) {
	case EIMG_REGION_ELF: return "elf";
	case EIMG_REGION_INFO: return "info";
	case EIMG_REGION_HEAP: return "heap";
	case EIMG_REGION_STACK: return "stack";
	case EIMG_REGION_TCS: return "tcs";
	case EIMG_REGION_TLS: return "tls";
	case EIMG_REGION_SSA: return "ssa";
	default: return "unknown";
	}
}

static void perm_string(uint64_t secinfo, char out[4])
{
	if ((secinfo & 0xff00) == EIMG_SECINFO_TCS) {
		memcpy(out, "tcs", 4);
		return;
	}
	out[0] = secinfo & EIMG_SECINFO_R ? 'r' : '-';
	out[1] = secinfo & EIMG_SECINFO_W ? 'w' : '-';
	out[2] = secinfo & EIMG_SECINFO_X ? 'x' : '-';
	out[3] = '\0';
}

static int sb_give(struct eimg_sb *b, char **out, eimg_error *err)
{
	char *s = eimg_sb_done(b);
	if (!s)
		return eimg_err_nomem(err);
	*out = s;
	return EIMG_OK;
}

/* A file name as a JSON string: as it is when it is UTF-8, else escaped
 * (bytes outside printable ASCII as \xNN), so that JSON output never fails
 * on a legal Linux file name. */
static json_t *name_json(const char *name)
{
	json_t *j = json_string(name);
	if (j)
		return j;
	size_t n = strlen(name), size = 4 * n + 8;
	char *esc = malloc(size);
	if (!esc)
		return NULL;
	j = json_string(eimg_escape(name, n, esc, size));
	free(esc);
	return j;
}

/* The signature part of an SGX image's report. */
static void sgx_signature_text(struct eimg_sb *b, const eimg_sgx_image *s)
{
	struct eimg_sigstruct ss;
	char *t = NULL;

	const uint8_t *sig = eimg_image_sigstruct(s->image);
	if (!sig) {
		eimg_sb_field(b, NULL, "signature", "none (unsigned: see enclave-sign(1))");
		return;
	}
	if (eimg_sigstruct_decode("sigstruct.bin", sig, EIMG_SIGSTRUCT_SIZE, &ss, NULL) != 0)
		return;
	eimg_sb_field(b, NULL, "signature", "SIGSTRUCT (verify it with 'enclave-sign verify')");
	eimg_sb_field(b, "  ", "signs_this_mrenclave", "%s",
		      memcmp(ss.enclavehash, s->m.mrenclave, 32) == 0 ? "yes" : "NO: it signs another enclave");
	if (eimg_sigstruct_text(&ss, "  ", &t, NULL) == 0)
		eimg_sb_printf(b, "%s", t);
	else
		b->failed = true;
	free(t);
}

int eimg_report_sgx_text(const eimg_sgx_image *s, const char *source, char **out, eimg_error *err)
{
	struct eimg_sb b = { 0 };
	char hex[65];
	const struct eimg_sgx_measurement *m = &s->m;
	eimg_sb_field(&b, NULL, "image", "%s", source);
	eimg_sb_field(&b, NULL, "name", "%s", s->manifest->name);
	eimg_sb_field(&b, NULL, "target", "sgx");
	eimg_sb_field(&b, NULL, "mode", "%s", eimg_mode_name(m->mode));
	eimg_sb_field(&b, NULL, "mrenclave", "%s", eimg_hex(m->mrenclave, 32, hex));
	eimg_sb_field(&b, NULL, "enclave_size", "0x%llx (%llu KiB)", (unsigned long long)m->enclave_size,
		      (unsigned long long)(m->enclave_size >> 10));
	eimg_sb_field(&b, NULL, "threads", "%u", m->threads);
	eimg_sb_field(&b, NULL, "ssa_frames", "%u", m->ssa_frames);
	eimg_sb_field(&b, NULL, "ssa_frame_size", "%u page(s)", m->ssa_frame_size);
	eimg_sb_field(&b, NULL, "heap_size", "0x%llx", (unsigned long long)m->heap_size);
	eimg_sb_field(&b, NULL, "stack_size", "0x%llx per thread", (unsigned long long)m->stack_size);
	eimg_sb_field(&b, NULL, "entry", "0x%llx", (unsigned long long)m->entry);
	eimg_sb_field(&b, NULL, "pages", "%llu added, all measured", (unsigned long long)m->npages);
	eimg_sb_printf(&b, "layout:\n");
	for (size_t i = 0; i < s->layout->nregions; i++) {
		const struct eimg_region *r = &s->layout->regions[i];
		char perm[4];
		perm_string(r->secinfo, perm);
		eimg_sb_printf(&b, "  0x%012llx  %6llu page(s)  %-3s  %s", (unsigned long long)r->offset,
			  (unsigned long long)(r->size / EIMG_PAGE), perm, eimg_region_kind_name(r->kind));
		if (r->kind >= EIMG_REGION_STACK)
			eimg_sb_printf(&b, " (thread %u)", r->thread);
		eimg_sb_printf(&b, "\n");
	}
	sgx_signature_text(&b, s);
	return sb_give(&b, out, err);
}

static json_t *sgx_json(const eimg_sgx_image *s, const char *source)
{
	char hex[65];
	const struct eimg_sgx_measurement *m = &s->m;
	json_t *layout = json_array();
	if (!layout)
		return NULL;
	for (size_t i = 0; i < s->layout->nregions; i++) {
		const struct eimg_region *r = &s->layout->regions[i];
		char perm[4];
		perm_string(r->secinfo, perm);
		json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:I, s:b}", "offset", (json_int_t)r->offset,
				      "pages", (json_int_t)(r->size / EIMG_PAGE), "kind", eimg_region_kind_name(r->kind),
				      "permissions", perm, "secinfo", (json_int_t)r->secinfo, "measured", r->measured);
		if (!o || (r->kind >= EIMG_REGION_STACK && json_object_set_new(o, "thread", json_integer(r->thread))) ||
		    json_array_append_new(layout, o)) {
			json_decref(layout);
			return NULL;
		}
	}
	return json_pack("{s:o, s:s, s:s, s:s, s:s, s:I, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:i, s:o}",
			 "image", name_json(source), "name", s->manifest->name, "target", "sgx", "mode", eimg_mode_name(m->mode),
			 "mrenclave", eimg_hex(m->mrenclave, 32, hex), "enclave_size", (json_int_t)m->enclave_size,
			 "threads", (int)m->threads, "ssa_frames", (int)m->ssa_frames, "ssa_frame_size",
			 (int)m->ssa_frame_size, "heap_size", (json_int_t)m->heap_size, "stack_size",
			 (json_int_t)m->stack_size, "entry", (json_int_t)m->entry, "pages", (json_int_t)m->npages,
			 "layout_version", EIMG_LAYOUT_VERSION, "layout", layout);
}

int eimg_report_sgx_json(const eimg_sgx_image *s, const char *source, char **out, eimg_error *err)
{
	json_t *o = sgx_json(s, source);
	struct eimg_sigstruct ss;
	if (!o)
		return eimg_err_nomem(err);
	json_t *sig = json_null();
	const uint8_t *ssb = eimg_image_sigstruct(s->image);
	if (ssb && eimg_sigstruct_decode("sigstruct.bin", ssb, EIMG_SIGSTRUCT_SIZE, &ss, NULL) == 0) {
		sig = eimg_sigstruct_json(&ss);
		if (sig && json_object_set_new(sig, "signs_this_mrenclave",
					       json_boolean(memcmp(ss.enclavehash, s->m.mrenclave, 32) == 0))) {
			json_decref(sig);
			sig = NULL;
		}
	}
	if (!sig || json_object_set_new(o, "signature", sig)) {
		json_decref(o);
		return eimg_err_nomem(err);
	}
	return eimg_json_dump(o, out, NULL, err);
}

int eimg_report_sgxs_text(const struct eimg_sgxs_info *info, const char *source, char **out, eimg_error *err)
{
	struct eimg_sb b = { 0 };
	char hex[65];
	eimg_sb_field(&b, NULL, "sgxs", "%s", source);
	eimg_sb_field(&b, NULL, "target", "sgx");
	eimg_sb_field(&b, NULL, "mrenclave", "%s", eimg_hex(info->mrenclave, 32, hex));
	eimg_sb_field(&b, NULL, "enclave_size", "0x%llx", (unsigned long long)info->size);
	eimg_sb_field(&b, NULL, "ssa_frame_size", "%u page(s)", info->ssa_frame_size);
	eimg_sb_field(&b, NULL, "pages", "%llu added", (unsigned long long)info->neadd);
	eimg_sb_field(&b, NULL, "tcs_pages", "%llu", (unsigned long long)info->ntcs);
	eimg_sb_field(&b, NULL, "extends", "%llu", (unsigned long long)info->nextend);
	return sb_give(&b, out, err);
}

int eimg_report_sgxs_json(const struct eimg_sgxs_info *info, const char *source, char **out, eimg_error *err)
{
	char hex[65];
	return eimg_json_dump(json_pack("{s:o, s:s, s:s, s:I, s:i, s:I, s:I, s:I}", "sgxs", name_json(source), "target", "sgx",
				   "mrenclave", eimg_hex(info->mrenclave, 32, hex), "enclave_size",
				   (json_int_t)info->size, "ssa_frame_size", (int)info->ssa_frame_size, "pages",
				   (json_int_t)info->neadd, "tcs_pages", (json_int_t)info->ntcs, "extends",
				   (json_int_t)info->nextend), out, NULL, err);
}

int eimg_report_build_text(const struct eimg_build_result *r, const char *output, char **out, eimg_error *err)
{
	struct eimg_sb b = { 0 };
	char hex[97];
	if (r->target == EIMG_TARGET_SGX) {
		eimg_sb_field(&b, NULL, "mrenclave", "%s", eimg_hex(r->sgx.mrenclave, 32, hex));
	} else {
		static const char *const pcr[] = { "pcr0", "pcr1", "pcr2" };
		for (int i = 0; i < 3; i++)
			eimg_sb_field(&b, NULL, pcr[i], "%s", eimg_hex(r->pcr[i], 48, hex));
	}
	eimg_sb_field(&b, NULL, "image", "%s", output);
	return sb_give(&b, out, err);
}

int eimg_report_build_json(const struct eimg_build_result *r, const char *output, char **out, eimg_error *err)
{
	char hex[97];
	if (r->target == EIMG_TARGET_SGX)
		return eimg_json_dump(json_pack("{s:o, s:s, s:s, s:s, s:I, s:i}", "image", name_json(output), "target", "sgx", "mode",
					   eimg_mode_name(r->sgx.mode), "mrenclave", eimg_hex(r->sgx.mrenclave, 32, hex),
					   "enclave_size", (json_int_t)r->sgx.enclave_size, "threads", (int)r->sgx.threads), out, NULL, err);
	/* Nitro: the PCRs, and nitro-cli build-enclave's answer for the same EIF. */
	json_t *m = eimg_json_pcrs((const uint8_t (*)[48])r->pcr, 0x7u, false);
	json_t *cli = eimg_json_pcrs((const uint8_t (*)[48])r->pcr, 0x7u, true);
	return eimg_json_dump(json_pack("{s:o, s:s, s:o, s:{s:o}}", "image", name_json(output), "target", "nitro",
					"measurements", m, "nitro_cli", "Measurements", cli), out, NULL, err);
}
