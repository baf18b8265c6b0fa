/* SPDX-License-Identifier: Apache-2.0 */
/* Open Enclave enclaves: the .oeinfo properties (eimg/oe_enclave.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eimg/oe_enclave.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"

#define OE_TYPE_SGX 2u

int eimg_oe_read(const char *source, const uint8_t *buf, size_t len, struct eimg_oe_properties *out, eimg_error *err)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	struct eimg_oe_properties o;
	int rc = eimg_elf_section_find(source, buf, len, ".oeinfo", &p, &n, err);
	if (rc)
		return rc;
	if (!p)
		return eimg_err(err, EIMG_EINVAL, source, "not an Open Enclave enclave: no .oeinfo section");
	if (n < EIMG_OEINFO_SIZE)
		return eimg_err(err, EIMG_EINVAL, source, ".oeinfo is %zu bytes, too short for the %u-byte SGX properties", n,
				EIMG_OEINFO_SIZE);
	memset(&o, 0, sizeof(o));
	o.oeinfo_offset = (uint64_t)(p - buf);
	o.size = eimg_get_le32(p);
	o.enclave_type = eimg_get_le32(p + 4);
	o.heap_pages = eimg_get_le64(p + 8);
	o.stack_pages = eimg_get_le64(p + 16);
	o.num_tcs = eimg_get_le64(p + 24);
	o.product_id = eimg_get_le16(p + 32);
	o.security_version = eimg_get_le16(p + 34);
	o.flags = eimg_get_le32(p + 36);
	memcpy(o.family_id, p + 40, 16);
	memcpy(o.extended_product_id, p + 56, 16);
	o.attributes = eimg_get_le64(p + 72);
	o.xfrm = eimg_get_le64(p + 80);
	o.start_address = eimg_get_le64(p + 88);
	for (int i = 0; i < 6; i++)
		o.image_info[i] = eimg_get_le64(p + 96 + 8 * i);
	for (size_t i = 0; i < EIMG_SIGSTRUCT_SIZE; i++)
		o.is_signed |= p[EIMG_OEINFO_SIGSTRUCT_OFF + i] != 0;
	if (o.enclave_type != OE_TYPE_SGX)
		return eimg_err(err, EIMG_EINVAL, source, ".oeinfo: enclave type %u is not SGX (2)", o.enclave_type);
	if (o.num_tcs < 1 || o.num_tcs > EIMG_OE_MAX_TCS)
		return eimg_err(err, EIMG_EINVAL, source, ".oeinfo: %llu TCS, Open Enclave allows 1 to %u",
				(unsigned long long)o.num_tcs, EIMG_OE_MAX_TCS);
	*out = o;
	return EIMG_OK;
}

int eimg_oe_text(const struct eimg_oe_properties *p, const char *indent, char **out, eimg_error *err)
{
	struct eimg_sb b = { 0 };
	const char *in = indent ? indent : "";
	char h1[33], h2[33];
	eimg_sb_printf(&b, "%sproduct id: %u\n%ssecurity version: %u\n", in, p->product_id, in, p->security_version);
	eimg_sb_printf(&b, "%sattributes: 0x%llx (debug %s)\n%sxfrm: 0x%llx\n", in, (unsigned long long)p->attributes,
		       p->attributes & EIMG_ATTR_DEBUG ? "allowed" : "not allowed", in, (unsigned long long)p->xfrm);
	eimg_sb_printf(&b, "%sheap: %llu pages\n%sstack: %llu pages per thread\n%stcs: %llu\n", in,
		       (unsigned long long)p->heap_pages, in, (unsigned long long)p->stack_pages, in,
		       (unsigned long long)p->num_tcs);
	eimg_sb_printf(&b, "%sflags: 0x%x%s%s\n", in, p->flags, p->flags & 1 ? " (capture #PF/#GP)" : "",
		       p->flags & 2 ? " (zero-base enclave)" : "");
	if (p->flags & 2)
		eimg_sb_printf(&b, "%sstart address: 0x%llx\n", in, (unsigned long long)p->start_address);
	eimg_sb_printf(&b, "%sfamily id: %s\n%sextended product id: %s\n", in, eimg_hex(p->family_id, 16, h1), in,
		       eimg_hex(p->extended_product_id, 16, h2));
	eimg_sb_printf(&b, "%ssigned: %s\n", in, p->is_signed ? "yes" : "no");
	char *s = eimg_sb_done(&b);
	if (!s)
		return eimg_err_nomem(err);
	*out = s;
	return EIMG_OK;
}

int eimg_oe_layout_text(const struct eimg_oe_layout *l, const char *indent, char **out, eimg_error *err)
{
	struct eimg_sb b = { 0 };
	const char *in = indent ? indent : "";
	eimg_sb_printf(&b, "%simage: %#llx bytes, relocations %#llx bytes, heap at %#llx\n", in,
		       (unsigned long long)l->image_size, (unsigned long long)l->reloc_size, (unsigned long long)l->heap_rva);
	eimg_sb_printf(&b, "%stls: %llu pages per thread\n%senclave size: %#llx (%#llx loaded)\n", in,
		       (unsigned long long)l->tls_pages, in, (unsigned long long)l->enclave_size,
		       (unsigned long long)l->loaded_size);
	if (l->base_offset)
		eimg_sb_printf(&b, "%selrange: %#llx (image at %#llx)\n", in, (unsigned long long)l->ecreate_size,
			       (unsigned long long)l->base_offset);
	char *s = eimg_sb_done(&b);
	if (!s)
		return eimg_err_nomem(err);
	*out = s;
	return EIMG_OK;
}

static int add_layout(json_t *j, const struct eimg_oe_layout *l, const uint8_t *mr)
{
	char h[65];
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "image_size", (json_int_t)l->image_size,
			      "reloc_size", (json_int_t)l->reloc_size, "heap_rva", (json_int_t)l->heap_rva, "tls_pages",
			      (json_int_t)l->tls_pages, "loaded_size", (json_int_t)l->loaded_size, "enclave_size",
			      (json_int_t)l->enclave_size, "start_address", (json_int_t)l->base_offset);
	return json_object_set_new(j, "layout", o) ||
	       (mr && json_object_set_new(j, "mrenclave", json_string(eimg_hex(mr, 32, h))));
}

int eimg_oe_json_string(const struct eimg_oe_properties *p, const struct eimg_oe_layout *l, const uint8_t *mrenclave,
			char **out, eimg_error *err)
{
	char h1[33], h2[33];
	json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:s, s:b}", "product_id", (json_int_t)p->product_id,
			 "security_version", (json_int_t)p->security_version, "attributes", (json_int_t)p->attributes,
			 "xfrm", (json_int_t)p->xfrm, "heap_pages", (json_int_t)p->heap_pages, "stack_pages",
			 (json_int_t)p->stack_pages, "num_tcs", (json_int_t)p->num_tcs, "flags", (json_int_t)p->flags,
			 "family_id", eimg_hex(p->family_id, 16, h1), "extended_product_id",
			 eimg_hex(p->extended_product_id, 16, h2), "signed", p->is_signed);
	if (j && (json_object_set_new(j, "format", json_string("Open Enclave enclave")) ||
		  json_object_set_new(j, "mrenclave_recomputed", json_boolean(l && mrenclave)) ||
		  (l && add_layout(j, l, mrenclave)))) {
		json_decref(j);
		j = NULL;
	}
	return eimg_json_dump(j, out, NULL, err);
}
