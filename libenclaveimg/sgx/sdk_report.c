/* SPDX-License-Identifier: Apache-2.0 */
/* Intel SGX SDK enclaves: the `sgx_sign dump` view of the metadata (text and
 * JSON): header fields, what the layout table amounts to, the table itself
 * and the SIGSTRUCT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eimg/sdk_enclave.h"
#include "eimg/util.h"
#include "sgx/sdk_int.h"
#include "sgx/sigstruct_int.h"
#include "core/internal.h"

const char *eimg_sdk_layout_name(uint16_t id)
{
	static const char *const names[] = {
		"", "HEAP_MIN", "HEAP_INIT", "HEAP_MAX", "TCS", "TD", "SSA", "STACK_MAX", "STACK_MIN", "THREAD_GROUP",
		"GUARD", "HEAP_DYN_MIN", "HEAP_DYN_INIT", "HEAP_DYN_MAX", "TCS_DYN", "TD_DYN", "SSA_DYN",
		"STACK_DYN_MAX", "STACK_DYN_MIN", "THREAD_GROUP_DYN", "RSRV_MIN", "RSRV_INIT", "RSRV_MAX", "USER_REGION"
	};
	unsigned i = id & ~EIMG_SDK_GROUP_FLAG;
	return i > 0 && i < sizeof(names) / sizeof(names[0]) ? names[i] : "unknown";
}

static void header_text(struct eimg_sb *b, const eimg_sdk_enclave *e, const struct eimg_sdk_metadata *m)
{
	const struct eimg_sdk_summary *s = &m->sum;
	eimg_sb_printf(b, "metadata version: %u.%u\n", (unsigned)(m->version >> 32), (unsigned)m->version);
	for (size_t i = 1; i < e->nmeta; i++)
		eimg_sb_printf(b, "compatible metadata: %u.%u\n", (unsigned)(e->meta[i].version >> 32),
			       (unsigned)e->meta[i].version);
	eimg_sb_printf(b, "enclave size: 0x%llx\n", (unsigned long long)m->enclave_size);
	if (m->elrange_size)
		eimg_sb_printf(b, "elrange: start 0x%llx size 0x%llx image 0x%llx\n", (unsigned long long)m->elrange_start,
			       (unsigned long long)m->elrange_size, (unsigned long long)m->elrange_image);
	eimg_sb_printf(b, "tcs policy: %s (%u)\n", m->tcs_policy ? "unbind" : "bind", m->tcs_policy);
	eimg_sb_printf(b, "tcs: %u added at load (%u removed after init), %u dynamic, %u max, min pool %u\n",
		       s->tcs_static, s->tcs_removed, s->tcs_dynamic, s->tcs_max, m->tcs_min_pool);
	eimg_sb_printf(b, "ssa: frame size %u page%s, %u frames per thread\n", m->ssa_frame_size,
		       m->ssa_frame_size == 1 ? "" : "s", s->nssa);
	eimg_sb_printf(b, "stack: min 0x%llx max 0x%llx per thread\n", (unsigned long long)s->stack_min,
		       (unsigned long long)s->stack_max);
	eimg_sb_printf(b, "heap: min 0x%llx init 0x%llx max 0x%llx\n", (unsigned long long)s->heap_min,
		       (unsigned long long)s->heap_init, (unsigned long long)s->heap_max);
	if (s->reserved_max || s->user_region)
		eimg_sb_printf(b, "reserved memory: min 0x%llx init 0x%llx max 0x%llx, user region 0x%llx\n",
			       (unsigned long long)s->reserved_min, (unsigned long long)s->reserved_init,
			       (unsigned long long)s->reserved_max, (unsigned long long)s->user_region);
	eimg_sb_printf(b, "max save buffer size: %u\n", m->max_save_buffer_size);
	eimg_sb_printf(b, "desired misc select: 0x%08x\n", m->desired_misc_select);
	eimg_sb_printf(b, "metadata attributes: flags 0x%llx xfrm 0x%llx\n", (unsigned long long)m->attr_flags,
		       (unsigned long long)m->attr_xfrm);
	eimg_sb_printf(b, "entry: 0x%llx\n", (unsigned long long)e->entry);
	eimg_sb_printf(b, "patches: %zu\n", m->npatch);
}

static void layout_text(struct eimg_sb *b, const struct eimg_sdk_metadata *m)
{
	eimg_sb_printf(b, "layout:\n");
	for (size_t i = 0; i < m->nlayout; i++) {
		const struct eimg_sdk_layout *r = &m->layout[i];
		if (r->group)
			eimg_sb_printf(b, "  %2zu %-16s entries %u, load times %u, step 0x%llx\n", i,
				       eimg_sdk_layout_name(r->id), r->entry_count, r->load_times,
				       (unsigned long long)r->load_step);
		else
			eimg_sb_printf(b, "  %2zu %-16s pages %6u attributes 0x%02x flags 0x%03llx rva 0x%llx\n", i,
				       eimg_sdk_layout_name(r->id), r->page_count, r->attributes,
				       (unsigned long long)r->si_flags, (unsigned long long)r->rva);
	}
}

int eimg_sdk_text(const eimg_sdk_enclave *e, const uint8_t *mrenclave, char **out, eimg_error *err)
{
	struct eimg_sb b = { 0 };
	const struct eimg_sdk_metadata *m = &e->meta[0];
	char h[65], *ss = NULL;
	eimg_sb_printf(&b, "format: Intel SGX SDK enclave (.note.sgxmeta)\n");
	if (mrenclave)
		eimg_sb_printf(&b, "mrenclave: %s (recomputed from the ELF and the metadata)\n", eimg_hex(mrenclave, 32, h));
	header_text(&b, e, m);
	layout_text(&b, m);
	if (!e->is_signed) {
		eimg_sb_printf(&b, "sigstruct: none (all zero: not signed)\n");
	} else {
		int rc = eimg_sigstruct_text(&m->sigstruct, "  ", &ss, err);
		if (rc) {
			free(eimg_sb_done(&b));
			return rc;
		}
		eimg_sb_printf(&b, "sigstruct:\n%s", ss);
		free(ss);
	}
	char *s = eimg_sb_done(&b);
	if (!s)
		return eimg_err_nomem(err);
	*out = s;
	return EIMG_OK;
}

static json_t *layout_json(const struct eimg_sdk_metadata *m)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < m->nlayout; i++) {
		const struct eimg_sdk_layout *r = &m->layout[i];
		json_t *o = r->group ?
			json_pack("{s:s, s:i, s:i, s:I, s:I}", "id", eimg_sdk_layout_name(r->id), "entry_count",
				  r->entry_count, "load_times", (json_int_t)r->load_times, "load_step",
				  (json_int_t)r->load_step, "group", (json_int_t)1) :
			json_pack("{s:s, s:I, s:i, s:I, s:I}", "id", eimg_sdk_layout_name(r->id), "pages",
				  (json_int_t)r->page_count, "attributes", r->attributes, "si_flags",
				  (json_int_t)r->si_flags, "rva", (json_int_t)r->rva);
		if (!o || json_array_append_new(a, o)) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static json_t *sdk_json(const eimg_sdk_enclave *e, const uint8_t *mrenclave)
{
	const struct eimg_sdk_metadata *m = &e->meta[0];
	const struct eimg_sdk_summary *s = &m->sum;
	char h[65], ver[24];
	snprintf(ver, sizeof(ver), "%u.%u", (unsigned)(m->version >> 32), (unsigned)m->version);
	json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o*}",
			      "format", "Intel SGX SDK enclave", "metadata_version", ver, "metadata_copies",
			      (json_int_t)e->nmeta, "enclave_size", (json_int_t)m->enclave_size, "tcs_policy",
			      (json_int_t)m->tcs_policy, "tcs", (json_int_t)s->tcs_static, "tcs_dynamic",
			      (json_int_t)s->tcs_dynamic, "tcs_min_pool", (json_int_t)m->tcs_min_pool, "ssa_frame_size",
			      (json_int_t)m->ssa_frame_size, "ssa_frames", (json_int_t)s->nssa, "stack_min",
			      (json_int_t)s->stack_min, "stack_max", (json_int_t)s->stack_max, "heap_min",
			      (json_int_t)s->heap_min, "heap_init", (json_int_t)s->heap_init, "heap_max",
			      (json_int_t)s->heap_max, "layout", layout_json(m));
	if (!o)
		return NULL;
	if (mrenclave && json_object_set_new(o, "mrenclave", json_string(eimg_hex(mrenclave, 32, h)))) {
		json_decref(o);
		return NULL;
	}
	if (e->is_signed && json_object_set_new(o, "sigstruct", eimg_sigstruct_json(&m->sigstruct))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int eimg_sdk_json_string(const eimg_sdk_enclave *e, const uint8_t *mrenclave, char **out, eimg_error *err)
{
	return eimg_json_dump(sdk_json(e, mrenclave), out, NULL, err);
}
