/* SPDX-License-Identifier: Apache-2.0 */
/* nitro-cli's language, for the Nitro hand-off (nitro_run.c): shell quoting
 * of the commands it shows (eimg_shell_quote) and reading the JSON answers
 * of run-enclave and describe-enclaves (eimg_nitro_parse_run_answer,
 * eimg_nitro_parse_describe; bounded by EIMG_NITRO_MAX_OUTPUT, fuzzed by
 * fuzz/fuzz_nitro_cli.c). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include "eimg/nitro_run.h"
#include "eimg/util.h"
#include "core/internal.h"

int eimg_shell_quote(const char *arg, char *out, size_t cap)
{
	size_t n = 0;
	bool plain = *arg != '\0';
	for (const char *p = arg; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      strchr("_@%+=:,./-", *p)))
			plain = false;
#define PUT(c) do { if (n + 1 >= cap) return -1; out[n++] = (c); } while (0)
	if (plain) {
		for (const char *p = arg; *p; p++)
			PUT(*p);
	} else {
		PUT('\'');
		for (const char *p = arg; *p; p++) {
			if (*p == '\'') {
				PUT('\'');
				PUT('\\');
				PUT('\'');
				PUT('\'');
			} else {
				PUT(*p);
			}
		}
		PUT('\'');
	}
#undef PUT
	out[n] = '\0';
	return 0;
}

/* ------------------------------------------------------------ answers */

/* The JSON value in a nitro-cli answer: from the first line that starts
 * with '{' or '[' (nitro-cli prints progress lines before it). */
static json_t *answer_json(const char *out, size_t len, char open)
{
	const char *end = out ? out + len : NULL;
	for (const char *p = out; p && p < end;) {
		if (*p == open)
			return json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES, NULL);
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static bool valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(((struct eimg_nitro_run_result *)0)->enclave_id) || s[0] == '-')
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || strchr("-_.:", *s)))
			return false;
	return true;
}

static uint64_t json_u64(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return json_is_integer(v) && json_integer_value(v) >= 0 ? (uint64_t)json_integer_value(v) : 0;
}

int eimg_nitro_parse_run_answer(const char *out, size_t len, struct eimg_nitro_run_result *res, eimg_error *err)
{
	json_t *ans = len <= EIMG_NITRO_MAX_OUTPUT ? answer_json(out, len, '{') : NULL;
	json_t *jid = json_object_get(ans, "EnclaveID");
	int rc = EIMG_OK;
	if (!json_is_string(jid) || !valid_id(json_string_value(jid))) {
		rc = eimg_err(err, EIMG_EINVAL, NULL,
			      "run-enclave succeeded but its answer has no valid EnclaveID: check 'nitro-cli describe-enclaves' "
			      "and terminate the enclave it started");
	} else {
		memset(res, 0, sizeof(*res));
		snprintf(res->enclave_id, sizeof res->enclave_id, "%s", json_string_value(jid));
		res->cid = json_u64(ans, "EnclaveCID");
		uint64_t cpus = json_u64(ans, "NumberOfCPUs");
		res->cpus = cpus <= UINT32_MAX ? (uint32_t)cpus : 0;
		res->memory_mib = json_u64(ans, "MemoryMiB");
	}
	json_decref(ans);
	return rc;
}

int eimg_nitro_parse_describe(const char *out, size_t len, const char *id, char *state, size_t scap, eimg_error *err)
{
	json_t *arr = len <= EIMG_NITRO_MAX_OUTPUT ? answer_json(out, len, '[') : NULL;
	int r = -1;
	if (!json_is_array(arr)) {
		eimg_err(err, EIMG_EINVAL, NULL, "describe-enclaves: the answer is not a JSON array");
	} else {
		size_t i;
		json_t *e;
		r = 0;
		if (scap)
			state[0] = '\0';
		json_array_foreach(arr, i, e) {
			json_t *jid = json_object_get(e, "EnclaveID"), *js = json_object_get(e, "State");
			if (!json_is_string(jid) || strcmp(json_string_value(jid), id) != 0)
				continue;
			const char *st = json_is_string(js) ? json_string_value(js) : "";
			if (scap)
				eimg_escape(st, strlen(st), state, scap);
			r = strcmp(st, "RUNNING") == 0 ? 1 : 0;
			break;
		}
	}
	json_decref(arr);
	return r;
}
