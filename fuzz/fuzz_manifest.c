/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the manifest parser in image mode (base_dir NULL: no file
 * system access).  Anything that parses must canonicalize, the canonical
 * form must parse again, and canonicalizing that must give the same bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/manifest.h"

static void die(const char *what, const eimg_error *err, const char *text)
{
	char buf[1024];
	fprintf(stderr, "fuzz_manifest: %s: %s\n", what, eimg_error_format(err, buf, sizeof(buf)));
	if (text)
		fprintf(stderr, "%s", text);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_manifest *m = NULL, *m2 = NULL;
	eimg_error err;
	char *c1 = NULL, *c2 = NULL;
	size_t n1 = 0, n2 = 0;

	eimg_error_clear(&err);
	if (eimg_manifest_parse_buffer("fuzz.yaml", (const char *)data, size, NULL, &m, &err) != 0) {
		if (err.code == 0 || err.msg[0] == '\0')
			die("failure without a message", &err, NULL);
		return 0;
	}
	if (eimg_manifest_canonical(m, &c1, &n1, &err) != 0)
		die("canonical failed on a parsed manifest", &err, NULL);
	if (n1 == 0 || c1[n1 - 1] != '\n' || strlen(c1) != n1)
		die("canonical is not one NUL-free text ending in a newline", &err, c1);
	if (eimg_manifest_parse_buffer("canonical.json", c1, n1, NULL, &m2, &err) != 0)
		die("the canonical form does not parse", &err, c1);
	if (eimg_manifest_canonical(m2, &c2, &n2, &err) != 0)
		die("canonical of the re-parsed manifest failed", &err, c1);
	if (n1 != n2 || memcmp(c1, c2, n1) != 0)
		die("canonical form is not stable", &err, c1);
	if (strcmp(m2->runtime_json, "{}") != 0)
		die("the canonical form carries a runtime section", &err, c1);
	free(c1);
	free(c2);
	eimg_manifest_free(m);
	eimg_manifest_free(m2);
	return 0;
}
