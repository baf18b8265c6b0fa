/* SPDX-License-Identifier: Apache-2.0 */
/* What enclave-push prints (text, and JSON per schemas/push-output.schema.json). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "eimg/manifest.h"
#include "eimg/oci.h"

char *eimg_oci_push_report_text(const struct eimg_oci_push_result *r)
{
	struct eimg_sb b = {0};
	eimg_sb_field(&b, NULL, "reference", "%s", r->reference);
	eimg_sb_field(&b, NULL, "digest", "%s", r->digest);
	eimg_sb_field(&b, NULL, "pinned", "%s", r->pinned);
	eimg_sb_field(&b, NULL, "target", "%s", r->target == EIMG_TARGET_NITRO ? "nitro" : "sgx");
	if (r->statement_digest[0])
		eimg_sb_field(&b, NULL, "statement", "%s (%s)", r->statement_digest,
			      r->referrers_api ? "referrers API" : "fallback tag");
	else
		eimg_sb_field(&b, NULL, "statement", "none (no -k: no signed measurement statement)");
	return eimg_sb_done(&b);
}

char *eimg_oci_push_report_json(const struct eimg_oci_push_result *r)
{
	char *out = NULL;
	json_t *st = r->statement_digest[0] ? json_pack("{s:s, s:s}", "digest", r->statement_digest, "attached_by",
							 r->referrers_api ? "referrers-api" : "fallback-tag")
					    : json_null();
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o}", "reference", r->reference, "digest", r->digest, "pinned",
			      r->pinned, "target", r->target == EIMG_TARGET_NITRO ? "nitro" : "sgx", "statement", st);
	return eimg_json_dump(j, &out, NULL, NULL) == EIMG_OK ? out : NULL;
}
