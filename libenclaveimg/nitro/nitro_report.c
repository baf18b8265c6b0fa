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

static json_t *report_json(const eimg_nitro_report *r)
{
	char h[97];
	json_t *j = json_object(), *m = json_object(), *secs = json_array();
	if (!j || !m || !secs)
		goto fail;
	json_object_set_new(m, "HashAlgorithm", json_string("Sha384 { ... }"));
	json_object_set_new(m, "PCR0", json_string(eimg_hex(r->pcr0, 48, h)));
	json_object_set_new(m, "PCR1", json_string(eimg_hex(r->pcr1, 48, h)));
	json_object_set_new(m, "PCR2", json_string(eimg_hex(r->pcr2, 48, h)));
	if (r->is_signed)
		json_object_set_new(m, "PCR8", json_string(eimg_hex(r->pcr8, 48, h)));
	json_object_set_new(j, "EifVersion", json_integer(r->layout.version));
	json_object_set_new(j, "Measurements", m);
	m = NULL;
	json_object_set_new(j, "IsSigned", json_boolean(r->is_signed));
	if (r->is_signed) {
		json_object_set(j, "SigningCertificate", r->json->cert ? r->json->cert : json_null());
		json_object_set_new(j, "SignatureAlgorithm", json_string(eimg_cose_alg_name(r->cose_alg)));
	}
	json_object_set_new(j, "CheckCRC", json_boolean(r->crc_ok));
	snprintf(h, sizeof(h), "0x%08x", r->crc_computed);
	json_object_set_new(j, "CRC", json_string(h));
	if (r->is_signed) {
		json_object_set_new(j, "SignatureCheck", json_boolean(r->signature_ok));
		if (!r->signature_ok)
			json_object_set_new(j, "SignatureProblem", json_string(r->signature_problem));
	}
	json_object_set_new(j, "ImageName", json_string(r->image_name));
	json_object_set_new(j, "ImageVersion", json_string(r->image_version));
	json_object_set(j, "Metadata", r->json->metadata ? r->json->metadata : json_null());
	json_object_set_new(j, "Architecture",
			    json_string(r->layout.flags & EIMG_EIF_FLAG_AARCH64 ? "aarch64" : "x86_64"));
	json_object_set_new(j, "DefaultMemory", json_integer((json_int_t)r->layout.default_mem));
	json_object_set_new(j, "DefaultCpus", json_integer((json_int_t)r->layout.default_cpus));
	for (unsigned i = 0; i < r->layout.nsections; i++) {
		const struct eimg_eif_section *s = &r->layout.sections[i];
		json_array_append_new(secs, json_pack("{s:s, s:I, s:I}", "Type", eimg_eif_section_name(s->type), "Offset",
						      (json_int_t)s->offset, "Size", (json_int_t)s->size));
	}
	json_object_set_new(j, "Sections", secs);
	secs = NULL;
	if (r->manifest) {
		json_t *mj = json_loadb(r->manifest, r->manifest_len, JSON_REJECT_DUPLICATES, NULL);
		json_object_set_new(j, "Manifest", mj ? mj : json_string("(not JSON)"));
	}
	if (r->manifest_match >= 0)
		json_object_set_new(j, "ManifestCheck", json_boolean(r->manifest_match == 1));
	if (r->launch_match >= 0)
		json_object_set_new(j, "LaunchCheck", json_boolean(r->launch_match == 1));
	return j;
fail:
	json_decref(j);
	json_decref(m);
	json_decref(secs);
	return NULL;
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

/* The measured policy from the embedded manifest: what auditors look for. */
static void policy_text(struct eimg_sb *s, const char *m, size_t len)
{
	json_t *j = json_loadb(m, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *n = json_object_get(j, "nitro");
	char buf[1024];
	if (json_is_object(n)) {
		join(json_object_get(n, "entrypoint"), buf, sizeof(buf));
		eimg_sb_printf(s, "  Entrypoint: %s\n", buf);
		join(json_object_get(n, "ingress"), buf, sizeof(buf));
		eimg_sb_printf(s, "  Ingress: %s\n", buf[0] ? buf : "(none)");
		join(json_object_get(json_object_get(n, "egress"), "allow"), buf, sizeof(buf));
		eimg_sb_printf(s, "  EgressAllow: %s\n", buf[0] ? buf : "(none)");
		join(json_object_get(json_object_get(n, "egress"), "deny"), buf, sizeof(buf));
		eimg_sb_printf(s, "  EgressDeny: %s\n", buf[0] ? buf : "(none)");
	}
	json_decref(j);
}

int eimg_nitro_report_text(const eimg_nitro_report *r, char **out, eimg_error *err)
{
	struct eimg_sb s = { 0 };
	char h[97];
	const eimg_eif_layout *l = &r->layout;

	eimg_sb_printf(&s, "EifVersion: %u\n", l->version);
	eimg_sb_printf(&s, "Architecture: %s\n", l->flags & EIMG_EIF_FLAG_AARCH64 ? "aarch64" : "x86_64");
	eimg_sb_printf(&s, "DefaultMemory: %llu MiB\nDefaultCpus: %llu\n", (unsigned long long)(l->default_mem >> 20),
	       (unsigned long long)l->default_cpus);
	eimg_sb_printf(&s, "Sections:");
	for (unsigned i = 0; i < l->nsections; i++)
		eimg_sb_printf(&s, "%s %s %llu", i ? "," : "", eimg_eif_section_name(l->sections[i].type),
		       (unsigned long long)l->sections[i].size);
	eimg_sb_printf(&s, "\nHashAlgorithm: Sha384 { ... }\n");
	eimg_sb_printf(&s, "PCR0: %s\n", eimg_hex(r->pcr0, 48, h));
	eimg_sb_printf(&s, "PCR1: %s\n", eimg_hex(r->pcr1, 48, h));
	eimg_sb_printf(&s, "PCR2: %s\n", eimg_hex(r->pcr2, 48, h));
	if (r->is_signed)
		eimg_sb_printf(&s, "PCR8: %s\n", eimg_hex(r->pcr8, 48, h));
	if (r->crc_ok)
		eimg_sb_printf(&s, "CheckCRC: ok (0x%08x)\n", r->crc_computed);
	else
		eimg_sb_printf(&s, "CheckCRC: MISMATCH (header 0x%08x, content 0x%08x)\n", l->crc, r->crc_computed);
	eimg_sb_printf(&s, "IsSigned: %s\n", r->is_signed ? "yes" : "no");
	if (r->is_signed) {
		char nb[40], na[40];
		eimg_nitro_fmt_time(r->cert_not_before, nb, sizeof(nb));
		eimg_nitro_fmt_time(r->cert_not_after, na, sizeof(na));
		eimg_sb_printf(&s, "SigningCertificate: subject \"%s\"\n", r->cert_subject);
		eimg_sb_printf(&s, "  IssuerName: %s\n  Algorithm: %s\n  Key: %s\n  Serial: %s\n  NotBefore: %s\n  NotAfter: %s\n",
		       r->cert_issuer, r->cert_sig_alg, r->cert_key, r->cert_serial, nb, na);
		eimg_sb_printf(&s, "SignatureAlgorithm: %s\n", eimg_cose_alg_name(r->cose_alg));
		if (r->signature_ok)
			eimg_sb_printf(&s, "SignatureCheck: ok\n");
		else
			eimg_sb_printf(&s, "SignatureCheck: FAILED: %s\n", r->signature_problem);
	}
	if (l->metadata >= 0) {
		eimg_sb_printf(&s, "ImageName: %s\nImageVersion: %s\n", r->image_name, r->image_version);
		if (r->json->metadata) {
			json_t *bm = json_object_get(r->json->metadata, "BuildMetadata");
			const char *keys[] = { "BuildTime", "BuildTool", "BuildToolVersion", "OperatingSystem", "KernelVersion" };
			for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
				const char *v = json_string_value(json_object_get(bm, keys[i]));
				char esc[256];
				if (v)
					eimg_sb_printf(&s, "%s: %s\n", keys[i], eimg_escape(v, strlen(v), esc, sizeof(esc)));
			}
		} else {
			eimg_sb_printf(&s, "Metadata: %s\n", r->metadata_problem);
		}
	}
	if (r->manifest)
		eimg_sb_printf(&s, "Manifest: %s (%zu bytes)%s\n", EIMG_NITRO_MANIFEST_PATH, r->manifest_len,
		       r->manifest_match == 1 ? ", equal to manifest.json" : r->manifest_match == 0 ? ", DIFFERS from manifest.json" : "");
	if (r->manifest)
		policy_text(&s, r->manifest, r->manifest_len);
	if (r->launch_match == 1)
		eimg_sb_printf(&s, "LaunchCheck: ok (cmd is the entrypoint, env the manifest's env)\n");
	else if (r->launch_match == 0)
		eimg_sb_printf(&s, "LaunchCheck: FAILED: %s\n", r->launch_problem);
	char *text = eimg_sb_done(&s);
	if (!text)
		return eimg_err_nomem(err);
	*out = text;
	return EIMG_OK;
}
