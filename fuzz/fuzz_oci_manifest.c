/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: what a registry sends us: manifests and indexes (the
 * referrers list, the fallback tag), WWW-Authenticate challenges, token
 * answers and error bodies.  Invariants: nothing crashes; a parsed manifest
 * has at most EIMG_OCI_MAX_DESCRIPTORS descriptors, each with a valid sha256
 * digest; adding a descriptor to a parsed index keeps it parseable. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "oci/oci_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_manifest *m = NULL;
	struct oci_challenge ch;
	char *text = malloc(size + 1), *tok = NULL, line[300];
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)oci_challenge_parse(text, &ch);
	if (oci_token_parse(data, size, &tok) == 0)
		free(tok);
	oci_error_body(data, size, line, sizeof(line));
	if (eimg_oci_manifest_parse("fuzz", data, size, &m, NULL) == EIMG_OK) {
		if (m->ndescs > EIMG_OCI_MAX_DESCRIPTORS)
			abort();
		for (size_t i = 0; i < m->ndescs; i++)
			if (!oci_digest_valid(m->descs[i].digest))
				abort();
		if (m->is_index) {
			struct oci_desc d;
			struct oci_manifest *m2 = NULL;
			char *out = NULL;
			size_t len = 0;
			memset(&d, 0, sizeof(d));
			strcpy(d.media_type, OCI_MANIFEST_TYPE);
			strcpy(d.digest, OCI_EMPTY_DIGEST);
			if (oci_index_add(data, size, &d, &out, &len, NULL) == EIMG_OK) {
				if (eimg_oci_manifest_parse("fuzz2", (uint8_t *)out, len, &m2, NULL) != EIMG_OK &&
				    m->ndescs < EIMG_OCI_MAX_DESCRIPTORS)
					abort();
				eimg_oci_manifest_free(m2);
				free(out);
			}
		}
		eimg_oci_manifest_free(m);
	}
	free(text);
	return 0;
}
