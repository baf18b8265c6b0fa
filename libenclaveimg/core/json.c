/* SPDX-License-Identifier: Apache-2.0 */
/* The one way this library serialises JSON: keys sorted, two-space indent,
 * trailing newline (what measurement.json, manifest.json and --json print). */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
