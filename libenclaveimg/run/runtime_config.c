/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime configuration's settings for the runner (eimg/runtime_config.h). */
#include <stdio.h>

#include <jansson.h>

#include "eimg/runtime_config.h"
#include "core/internal.h"

static int listen_of(json_t *rt, const char *source, char *buf, size_t size, eimg_error *err)
{
	json_t *l = json_object_get(rt, "listen"), *in = json_object_get(rt, "ingress");
	if (l && in)
		return eimg_err(err, EIMG_EINVAL, source, "runtime: give either listen or ingress, not both");
	if (l) {
		if (!json_is_string(l) || !*json_string_value(l))
			return eimg_err(err, EIMG_EINVAL, source,
					"runtime.listen: expected an address like \"unix:PATH\" or \"tcp:PORT\"");
		snprintf(buf, size, "%s", json_string_value(l));
	} else if (in) {
		json_t *p = json_is_array(in) && json_array_size(in) == 1 ? json_array_get(in, 0) : NULL;
		if (!p || !json_is_integer(p) || json_integer_value(p) < 0 || json_integer_value(p) > 65535)
			return eimg_err(err, EIMG_EINVAL, source, "runtime.ingress: expected one port, like [8080]");
		snprintf(buf, size, "tcp:127.0.0.1:%lld", (long long)json_integer_value(p));
	}
	return EIMG_OK;
}

int eimg_runtime_listen(const eimg_image *img, const char *source, char *buf, size_t size, eimg_error *err)
{
	int rc = EIMG_OK;
	if (size)
		buf[0] = '\0';
	/* The image reader has checked that runtime.json is a JSON object. */
	size_t rtlen;
	const char *rttext = eimg_image_runtime(img, &rtlen);
	if (!rttext)
		return EIMG_OK;
	json_t *rt = json_loadb(rttext, rtlen, JSON_REJECT_DUPLICATES, NULL);
	if (rt)
		rc = listen_of(rt, source, buf, size, err);
	json_decref(rt);
	return rc;
}
