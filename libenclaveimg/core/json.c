/* SPDX-License-Identifier: Apache-2.0 */
/* The one way this library serialises JSON: keys sorted, two-space indent,
 * trailing newline (what measurement.json, manifest.json and --json print). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eimg/util.h"
#include "core/internal.h"

int eimg_json_dump(json_t *o, char **out, size_t *len, eimg_error *err)
{
	if (!o)
		return eimg_err_nomem(err);
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2));
	json_decref(o);
	if (!s)
		return eimg_err_nomem(err);
	size_t n = strlen(s);
	char *r = realloc(s, n + 2);
	if (!r) {
		free(s);
		return eimg_err_nomem(err);
	}
	r[n] = '\n';
	r[n + 1] = '\0';
	*out = r;
	if (len)
		*len = n + 1;
	return EIMG_OK;
}

/* ---- one naming convention: snake_case, with nitro-cli's names as an alias ---- */

/* "BuildToolVersion" -> "build_tool_version" (to_snake), or back. */
static void rename_key(const char *k, bool to_snake, char *out, size_t size)
{
	size_t o = 0;
	bool up = true;
	for (; *k && o + 2 < size; k++) {
		char c = *k;
		if (to_snake && c >= 'A' && c <= 'Z') {
			if (o)
				out[o++] = '_';
			out[o++] = (char)(c - 'A' + 'a');
		} else if (!to_snake && c == '_') {
			up = true;
		} else {
			out[o++] = !to_snake && up && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
			up = false;
		}
	}
	out[o] = '\0';
}

json_t *eimg_json_renamed(const json_t *o, bool to_snake)
{
	const char *k;
	json_t *v, *r = json_is_object(o) ? json_object() : NULL;
	char name[128];

	json_object_foreach((json_t *)o, k, v) {
		/* A key too long to rename whole stays as it is (never cut inside
		 * a UTF-8 sequence). */
		bool fits = strlen(k) < sizeof name / 2;
		if (fits)
			rename_key(k, to_snake, name, sizeof name);
		if (!r || json_object_set(r, fits ? name : k, v)) {
			json_decref(r);
			return NULL;
		}
	}
	return r;
}

json_t *eimg_json_pcrs(const uint8_t (*pcr)[48], unsigned mask, bool nitro_cli)
{
	json_t *m = json_object();
	char hex[97], name[8];
	if (!m || json_object_set_new(m, nitro_cli ? "HashAlgorithm" : "hash_algorithm",
				      json_string(nitro_cli ? "Sha384 { ... }" : "sha384")))
		goto fail;
	for (unsigned i = 0; i < 32; i++) {
		if (!(mask & (1u << i)))
			continue;
		snprintf(name, sizeof name, nitro_cli ? "PCR%u" : "pcr%u", i);
		if (json_object_set_new(m, name, json_string(eimg_hex(pcr[i], 48, hex))))
			goto fail;
	}
	return m;
fail:
	json_decref(m);
	return NULL;
}
