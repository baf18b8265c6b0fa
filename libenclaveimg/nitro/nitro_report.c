/* SPDX-License-Identifier: Apache-2.0 */
/* Nitro target: render an audit report as nitro-cli style JSON or as text. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eimg/expect.h"
#include "eimg/hash.h"
#include "eimg/constraint.h"
#include "eimg/nitro.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"
#include "crypto/crypto.h"

/* The registers the report has: PCR0, 1, 2 and, when signed, 8. */
static unsigned pcr_table(const eimg_nitro_report *r, uint8_t pcr[9][48])
{
	memset(pcr, 0, 9 * 48);
	memcpy(pcr[0], r->pcr0, 48);
	memcpy(pcr[1], r->pcr1, 48);
	memcpy(pcr[2], r->pcr2, 48);
	memcpy(pcr[8], r->pcr8, 48);
	return 0x7u | (r->is_signed ? 1u << 8 : 0);
}

/* The metadata section in this project's names: BuildMetadata's members
 * (build_time, build_tool, ...), docker_info and custom_metadata as found. */
static json_t *metadata_json(const json_t *md)
{
	if (!md)
		return json_null();
	json_t *bm = json_object_get(md, "BuildMetadata");
	json_t *o = json_is_object(bm) ? eimg_json_renamed(bm, true) : json_object();
	if (o && json_object_get(md, "DockerInfo"))
		json_object_set(o, "docker_info", json_object_get(md, "DockerInfo"));
	if (o && json_object_get(md, "CustomMetadata"))
		json_object_set(o, "custom_metadata", json_object_get(md, "CustomMetadata"));
	return o;
}

/* nitro-cli's describe-eif object for the same EIF (its names, its shape:
 * the metadata's BuildMetadata and CustomMetadata members flattened into
 * Metadata), so that its users can compare field by field. */
static json_t *nitro_cli_json(const eimg_nitro_report *r, const uint8_t (*pcr)[48], unsigned mask)
{
	json_t *j = json_object(), *md = r->json->metadata;
	if (!j)
		return NULL;
	json_object_set_new(j, "EifVersion", json_integer(r->layout.version));
	json_object_set_new(j, "Measurements", eimg_json_pcrs(pcr, mask, true));
	json_object_set_new(j, "IsSigned", json_boolean(r->is_signed));
	json_object_set_new(j, "CheckCRC", json_boolean(r->crc_ok));
	if (r->is_signed) {
		json_object_set_new(j, "SigningCertificate",
				    r->json->cert ? eimg_json_renamed(r->json->cert, false) : json_null());
		json_object_set_new(j, "SignatureCheck", json_boolean(r->signature_ok));
	}
	if (md) {
		json_t *m = json_object(), *bm = json_object_get(md, "BuildMetadata");
		json_object_set_new(j, "ImageName", json_string(r->image_name));
		json_object_set_new(j, "ImageVersion", json_string(r->image_version));
		if (json_is_object(bm))
			json_object_update(m, bm);
		json_object_set(m, "DockerInfo", json_object_get(md, "DockerInfo") ? json_object_get(md, "DockerInfo")
										: json_null());
		if (json_is_object(json_object_get(md, "CustomMetadata")))
			json_object_update_missing(m, json_object_get(md, "CustomMetadata"));
		json_object_set_new(j, "Metadata", m);
	}
	return j;
}

static json_t *sections_json(const eimg_eif_layout *l)
{
	json_t *secs = json_array();
	for (unsigned i = 0; secs && i < l->nsections; i++) {
		const struct eimg_eif_section *s = &l->sections[i];
		json_array_append_new(secs, json_pack("{s:s, s:I, s:I}", "type", eimg_eif_section_name(s->type), "offset",
						      (json_int_t)s->offset, "size", (json_int_t)s->size));
	}
	return secs;
}

static json_t *report_json(const eimg_nitro_report *r)
{
	uint8_t pcr[9][48];
	char h[16];
	unsigned mask = pcr_table(r, pcr);
	json_t *j = json_object();
	if (!j)
		return NULL;
	json_object_set_new(j, "target", json_string("nitro"));
	json_object_set_new(j, "eif_version", json_integer(r->layout.version));
	json_object_set_new(j, "architecture",
			    json_string(r->layout.flags & EIMG_EIF_FLAG_AARCH64 ? "aarch64" : "x86_64"));
	json_object_set_new(j, "default_memory", json_integer((json_int_t)r->layout.default_mem));
	json_object_set_new(j, "default_cpus", json_integer((json_int_t)r->layout.default_cpus));
	json_object_set_new(j, "sections", sections_json(&r->layout));
	json_object_set_new(j, "measurements", eimg_json_pcrs((const uint8_t (*)[48])pcr, mask, false));
	snprintf(h, sizeof(h), "0x%08x", r->crc_computed);
	json_object_set_new(j, "crc", json_string(h));
	json_object_set_new(j, "check_crc", json_boolean(r->crc_ok));
	json_object_set_new(j, "is_signed", json_boolean(r->is_signed));
	if (r->is_signed) {
		json_object_set(j, "signing_certificate", r->json->cert ? r->json->cert : json_null());
		json_object_set_new(j, "signature_algorithm", json_string(eimg_cose_alg_name(r->cose_alg)));
		json_object_set_new(j, "signature_check", json_boolean(r->signature_ok));
		if (!r->signature_ok)
			json_object_set_new(j, "signature_problem", json_string(r->signature_problem));
	}
	json_object_set_new(j, "image_name", json_string(r->image_name));
	json_object_set_new(j, "image_version", json_string(r->image_version));
	json_object_set_new(j, "metadata", metadata_json(r->json->metadata));
	if (r->layout.metadata >= 0 && !r->json->metadata)
		json_object_set_new(j, "metadata_problem", json_string(r->metadata_problem));
	if (r->manifest) {
		json_t *mj = json_loadb(r->manifest, r->manifest_len, JSON_REJECT_DUPLICATES, NULL);
		json_object_set_new(j, "manifest", mj ? mj : json_string("(not JSON)"));
	}
	if (r->manifest_match >= 0)
		json_object_set_new(j, "manifest_check", json_boolean(r->manifest_match == 1));
	if (r->launch_match >= 0)
		json_object_set_new(j, "launch_check", json_boolean(r->launch_match == 1));
	if (r->launch_match == 0)
		json_object_set_new(j, "launch_problem", json_string(r->launch_problem));
	if (json_object_set_new(j, "nitro_cli", nitro_cli_json(r, (const uint8_t (*)[48])pcr, mask))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

int eimg_nitro_report_json(const eimg_nitro_report *r, char **out, eimg_error *err)
{
	return eimg_json_dump(report_json(r), out, NULL, err);
}

/* "a b c" from a JSON array of strings or integers, escaped. */
static void join(const json_t *a, char *out, size_t size)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < json_array_size(a) && o + 1 < size; i++) {
		const json_t *v = json_array_get(a, i);
		char t[256], e[512];
		if (json_is_string(v))
			snprintf(t, sizeof(t), "%s", json_string_value(v));
		else if (json_is_integer(v))
			snprintf(t, sizeof(t), "%lld", (long long)json_integer_value(v));
		else
			snprintf(t, sizeof(t), "?");
		eimg_escape(t, strlen(t), e, sizeof(e));
		int k = snprintf(out + o, size - o, "%s%s", i ? " " : "", e);
		if (k < 0)
			break;
		o += (size_t)k;
	}
	if (o >= size)
		out[size - 1] = '\0';
}

/* The measured policy from the embedded manifest (manifest.nitro in the
 * JSON): what auditors look for. */
static void policy_text(struct eimg_sb *s, const char *m, size_t len)
{
	json_t *j = json_loadb(m, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *n = json_object_get(j, "nitro"), *eg = json_object_get(n, "egress");
	char buf[1024];
	if (json_is_object(n)) {
		join(json_object_get(n, "entrypoint"), buf, sizeof(buf));
		eimg_sb_field(s, "  ", "entrypoint", "%s", buf);
		join(json_object_get(n, "ingress"), buf, sizeof(buf));
		eimg_sb_field(s, "  ", "ingress", "%s", buf[0] ? buf : "(none)");
		eimg_sb_printf(s, "  egress:\n");
		join(json_object_get(eg, "allow"), buf, sizeof(buf));
		eimg_sb_field(s, "    ", "allow", "%s", buf[0] ? buf : "(none)");
		join(json_object_get(eg, "deny"), buf, sizeof(buf));
		eimg_sb_field(s, "    ", "deny", "%s", buf[0] ? buf : "(none)");
		const char *sup = json_string_value(json_object_get(n, "supervisor_sha384"));
		if (sup)
			eimg_sb_field(s, "  ", "supervisor", "/%s (sha384 %.96s)", EIMG_NITRO_SUPERVISOR_PATH + 7, sup);
	}
	json_decref(j);
}

static void layout_text(struct eimg_sb *s, const eimg_eif_layout *l)
{
	eimg_sb_field(s, NULL, "eif_version", "%u", l->version);
	eimg_sb_field(s, NULL, "architecture", "%s", l->flags & EIMG_EIF_FLAG_AARCH64 ? "aarch64" : "x86_64");
	eimg_sb_field(s, NULL, "default_memory", "%llu MiB", (unsigned long long)(l->default_mem >> 20));
	eimg_sb_field(s, NULL, "default_cpus", "%llu", (unsigned long long)l->default_cpus);
	eimg_sb_printf(s, "sections:\n");
	for (unsigned i = 0; i < l->nsections; i++)
		eimg_sb_printf(s, "  %-10s %10llu bytes at offset %llu\n", eimg_eif_section_name(l->sections[i].type),
			       (unsigned long long)l->sections[i].size, (unsigned long long)l->sections[i].offset);
}

static void signature_text(struct eimg_sb *s, const eimg_nitro_report *r)
{
	char nb[40], na[40];
	eimg_nitro_fmt_time(r->cert_not_before, nb, sizeof(nb));
	eimg_nitro_fmt_time(r->cert_not_after, na, sizeof(na));
	eimg_sb_printf(s, "signing_certificate:\n");
	eimg_sb_field(s, "  ", "subject_name", "%s", r->cert_subject);
	eimg_sb_field(s, "  ", "issuer_name", "%s", r->cert_issuer);
	eimg_sb_field(s, "  ", "algorithm", "%s", r->cert_sig_alg);
	eimg_sb_field(s, "  ", "key_algorithm", "%s", r->cert_key);
	eimg_sb_field(s, "  ", "serial_number", "%s", r->cert_serial);
	eimg_sb_field(s, "  ", "not_before", "%s", nb);
	eimg_sb_field(s, "  ", "not_after", "%s", na);
	eimg_sb_field(s, NULL, "signature_algorithm", "%s", eimg_cose_alg_name(r->cose_alg));
	if (r->signature_ok)
		eimg_sb_field(s, NULL, "signature_check", "ok");
	else
		eimg_sb_field(s, NULL, "signature_check", "FAILED: %s", r->signature_problem);
}

static void metadata_text(struct eimg_sb *s, const eimg_nitro_report *r)
{
	eimg_sb_field(s, NULL, "image_name", "%s", r->image_name);
	eimg_sb_field(s, NULL, "image_version", "%s", r->image_version);
	if (!r->json->metadata) {
		eimg_sb_field(s, NULL, "metadata", "%s", r->metadata_problem);
		return;
	}
	json_t *bm = json_object_get(r->json->metadata, "BuildMetadata");
	static const char *const keys[][2] = { { "BuildTime", "build_time" },
					       { "BuildTool", "build_tool" },
					       { "BuildToolVersion", "build_tool_version" },
					       { "OperatingSystem", "operating_system" },
					       { "KernelVersion", "kernel_version" } };
	eimg_sb_printf(s, "metadata:\n");
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = json_string_value(json_object_get(bm, keys[i][0]));
		char esc[256];
		if (v)
			eimg_sb_field(s, "  ", keys[i][1], "%s", eimg_escape(v, strlen(v), esc, sizeof(esc)));
	}
}

static void manifest_text(struct eimg_sb *s, const eimg_nitro_report *r)
{
	if (r->manifest) {
		eimg_sb_field(s, NULL, "manifest", "%s (%zu bytes)", EIMG_NITRO_MANIFEST_PATH, r->manifest_len);
		policy_text(s, r->manifest, r->manifest_len);
	}
	if (r->manifest_match >= 0)
		eimg_sb_field(s, NULL, "manifest_check", "%s",
			      r->manifest_match == 1 ? "ok (equal to manifest.json)" : "FAILED: DIFFERS from manifest.json");
	if (r->launch_match == 1)
		eimg_sb_field(s, NULL, "launch_check", "ok (%s, env the manifest's env)",
			      r->supervised ? "cmd starts the supervisor, which starts the entrypoint" : "cmd is the entrypoint");
	else if (r->launch_match == 0)
		eimg_sb_field(s, NULL, "launch_check", "FAILED: %s", r->launch_problem);
}

int eimg_nitro_report_text(const eimg_nitro_report *r, char **out, eimg_error *err)
{
	struct eimg_sb s = { 0 };
	char h[97];
	uint8_t pcr[9][48];
	unsigned mask = pcr_table(r, pcr);

	eimg_sb_field(&s, NULL, "target", "nitro");
	layout_text(&s, &r->layout);
	eimg_sb_printf(&s, "measurements:\n");
	eimg_sb_field(&s, "  ", "hash_algorithm", "sha384");
	for (unsigned i = 0; i < 9; i++)
		if (mask & (1u << i)) {
			char name[8];
			snprintf(name, sizeof name, "pcr%u", i);
			eimg_sb_field(&s, "  ", name, "%s", eimg_hex(pcr[i], 48, h));
		}
	eimg_sb_field(&s, NULL, "crc", "0x%08x", r->crc_computed);
	if (r->crc_ok)
		eimg_sb_field(&s, NULL, "check_crc", "ok");
	else
		eimg_sb_field(&s, NULL, "check_crc", "MISMATCH (header 0x%08x, content 0x%08x)", r->layout.crc,
			      r->crc_computed);
	eimg_sb_field(&s, NULL, "is_signed", "%s", r->is_signed ? "yes" : "no");
	if (r->is_signed)
		signature_text(&s, r);
	if (r->layout.metadata >= 0)
		metadata_text(&s, r);
	manifest_text(&s, r);
	char *text = eimg_sb_done(&s);
	if (!text)
		return eimg_err_nomem(err);
	*out = text;
	return EIMG_OK;
}
