/* SPDX-License-Identifier: Apache-2.0 */
/* --print FIELD: one bare value out of a tool's JSON result, so that the
 * names a script uses are the names of the JSON output (and its schema). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "eimg/report.h"
#include "core/internal.h"

#define FIELD_MAX_DEPTH 8

/* Short names scripts use for longer JSON names. */
static const char *const aliases[][2] = {
	{ "size", "enclave_size" },
	{ "svn", "isvsvn" },
	{ "prodid", "isvprodid" },
};

/* Does key name field: equal, case-insensitively (pcr0 finds nitro-cli's
 * PCR0); with alias, through the table above. */
static int key_matches(const char *key, const char *field, int alias)
{
	if (!alias)
		return strcasecmp(key, field) == 0;
	for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
		if (strcasecmp(field, aliases[i][0]) == 0 && strcasecmp(key, aliases[i][1]) == 0)
			return 1;
	return 0;
}

/* Collects up to two distinct matches below o (objects and arrays). */
static void find(json_t *o, const char *field, int alias, int depth, json_t **found, int *n)
{
	const char *key;
	json_t *v;
	size_t i;

	if (depth > FIELD_MAX_DEPTH)
		return;
	if (json_is_array(o)) {
		json_array_foreach(o, i, v)
			find(v, field, alias, depth + 1, found, n);
		return;
	}
	if (!json_is_object(o))
		return;
	json_object_foreach(o, key, v) {
		if (key_matches(key, field, alias) && !json_is_object(v) && !json_is_array(v)) {
			if (*n == 0) {
				found[0] = v;
				*n = 1;
			} else if (!json_equal(found[0], v)) {
				found[1] = v;
				*n = 2;
			}
		}
	}
	json_object_foreach(o, key, v) {
		find(v, field, alias, depth + 1, found, n);
	}
}

static char *scalar_text(json_t *v)
{
	char *s = NULL;
	if (json_is_string(v))
		s = strdup(json_string_value(v));
	else if (json_is_integer(v) && asprintf(&s, "%lld", (long long)json_integer_value(v)) < 0)
		s = NULL;
	else if (json_is_boolean(v))
		s = strdup(json_is_true(v) ? "true" : "false");
	else if (json_is_null(v))
		s = strdup("null");
	else if (json_is_real(v) && asprintf(&s, "%.17g", json_real_value(v)) < 0)
		s = NULL;
	return s;
}

int eimg_json_field(const char *json, const char *field, char **value, eimg_error *err)
{
	json_error_t je;
	json_t *root = json_loads(json, 0, &je), *found[2] = { NULL, NULL };
	int n = 0, rc = EIMG_OK;

	if (!root)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "the result is not JSON: %s", je.text);
	/* A short alias names its long field first (size: enclave_size, not
	 * a member's size). */
	find(root, field, 1, 0, found, &n);
	if (n == 0)
		find(root, field, 0, 0, found, &n);
	if (n == 0)
		rc = eimg_err(err, EIMG_EINVAL, NULL, "--print: no field '%s' in this result (see the --json output)",
			      field);
	else if (n > 1)
		rc = eimg_err(err, EIMG_EINVAL, NULL, "--print: '%s' names several values in this result", field);
	else if (!(*value = scalar_text(found[0])))
		rc = eimg_err_nomem(err);
	json_decref(root);
	return rc;
}
