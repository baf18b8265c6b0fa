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

static char *dump_json(json_t *o)
{
	char *s = NULL;
	return eimg_json_dump(o, &s, NULL, NULL) == EIMG_OK ? s : NULL;
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

char *eimg_report_sgx_text(const eimg_sgx_image *s, const char *source)
{
	struct eimg_sb b = { 0 };
	char hex[65];
	const struct eimg_sgx_measurement *m = &s->m;
	eimg_sb_printf(&b, "image          %s\n", source);
	eimg_sb_printf(&b, "name           %s\n", s->manifest->name);
	eimg_sb_printf(&b, "target         sgx\n");
	eimg_sb_printf(&b, "mode           %s\n", eimg_mode_name(m->mode));
	eimg_sb_printf(&b, "mrenclave      %s\n", eimg_hex(m->mrenclave, 32, hex));
	eimg_sb_printf(&b, "enclave size   0x%llx (%llu KiB)\n", (unsigned long long)m->enclave_size,
		  (unsigned long long)(m->enclave_size >> 10));
	eimg_sb_printf(&b, "threads        %u\n", m->threads);
	eimg_sb_printf(&b, "ssa frames     %u x %u page(s)\n", m->ssa_frames, m->ssa_frame_size);
	eimg_sb_printf(&b, "heap           0x%llx bytes\n", (unsigned long long)m->heap_size);
	eimg_sb_printf(&b, "stack          0x%llx bytes per thread\n", (unsigned long long)m->stack_size);
	eimg_sb_printf(&b, "entry          0x%llx\n", (unsigned long long)m->entry);
	eimg_sb_printf(&b, "pages          %llu added, all measured\n", (unsigned long long)m->npages);
	eimg_sb_printf(&b, "layout\n");
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
	struct eimg_sigstruct ss;
	const uint8_t *sig = eimg_image_sigstruct(s->image);
	if (!sig) {
		eimg_sb_printf(&b, "signature      none (unsigned: see enclave-sign(1))\n");
	} else if (eimg_sigstruct_decode("sigstruct.bin", sig, EIMG_SIGSTRUCT_SIZE, &ss, NULL) == 0) {
		char *t = NULL;
		eimg_sb_printf(&b, "signature      SIGSTRUCT (verify it with 'enclave-sign verify')\n");
		eimg_sb_printf(&b, "  signs this mrenclave: %s\n",
			  memcmp(ss.enclavehash, s->m.mrenclave, 32) == 0 ? "yes" : "NO: it signs another enclave");
		if (eimg_sigstruct_text(&ss, "  ", &t, NULL) == 0)
			eimg_sb_printf(&b, "%s", t);
		else
			b.failed = true;
		free(t);
	}
	return eimg_sb_done(&b);
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

char *eimg_report_sgx_json(const eimg_sgx_image *s, const char *source)
{
	json_t *o = sgx_json(s, source);
	struct eimg_sigstruct ss;
	if (!o)
		return NULL;
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
		return NULL;
	}
	return dump_json(o);
}

char *eimg_report_sgxs_text(const struct eimg_sgxs_info *info, const char *source)
{
	struct eimg_sb b = { 0 };
	char hex[65];
	eimg_sb_printf(&b, "sgxs           %s\n", source);
	eimg_sb_printf(&b, "mrenclave      %s\n", eimg_hex(info->mrenclave, 32, hex));
	eimg_sb_printf(&b, "enclave size   0x%llx\n", (unsigned long long)info->size);
	eimg_sb_printf(&b, "ssa frame size %u page(s)\n", info->ssa_frame_size);
	eimg_sb_printf(&b, "pages          %llu added (%llu tcs), %llu extends\n", (unsigned long long)info->neadd,
		  (unsigned long long)info->ntcs, (unsigned long long)info->nextend);
	return eimg_sb_done(&b);
}

char *eimg_report_sgxs_json(const struct eimg_sgxs_info *info, const char *source)
{
	char hex[65];
	return dump_json(json_pack("{s:o, s:s, s:s, s:I, s:i, s:I, s:I, s:I}", "sgxs", name_json(source), "target", "sgx",
				   "mrenclave", eimg_hex(info->mrenclave, 32, hex), "enclave_size",
				   (json_int_t)info->size, "ssa_frame_size", (int)info->ssa_frame_size, "pages",
				   (json_int_t)info->neadd, "tcs_pages", (json_int_t)info->ntcs, "extends",
				   (json_int_t)info->nextend));
}

char *eimg_report_build_text(const struct eimg_build_result *r, const char *output)
{
	struct eimg_sb b = { 0 };
	char hex[97];
	if (r->target == EIMG_TARGET_SGX) {
		eimg_sb_printf(&b, "mrenclave %s\n", eimg_hex(r->sgx.mrenclave, 32, hex));
	} else {
		for (int i = 0; i < 3; i++)
			eimg_sb_printf(&b, "PCR%d %s\n", i, eimg_hex(r->pcr[i], 48, hex));
	}
	eimg_sb_printf(&b, "wrote %s\n", output);
	return eimg_sb_done(&b);
}

char *eimg_report_build_json(const struct eimg_build_result *r, const char *output)
{
	char hex[97];
	if (r->target == EIMG_TARGET_SGX)
		return dump_json(json_pack("{s:o, s:s, s:s, s:s, s:I, s:i}", "image", name_json(output), "target", "sgx", "mode",
					   eimg_mode_name(r->sgx.mode), "mrenclave", eimg_hex(r->sgx.mrenclave, 32, hex),
					   "enclave_size", (json_int_t)r->sgx.enclave_size, "threads", (int)r->sgx.threads));
	char p[3][97];
	for (int i = 0; i < 3; i++)
		eimg_hex(r->pcr[i], 48, p[i]);
	return dump_json(json_pack("{s:o, s:s, s:{s:s, s:s, s:s, s:s}}", "image", name_json(output), "target", "nitro",
				   "Measurements", "HashAlgorithm", "Sha384 { ... }", "PCR0", p[0], "PCR1", p[1], "PCR2", p[2]));
}
