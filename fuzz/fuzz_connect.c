/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the HTTP CONNECT request parser, the answer parser and the
 * egress policy's pattern parser (net/connect.c, net/policy.c).
 * Input: the first byte picks the target, the rest is the text.
 * Invariants: nothing crashes or reads past the input; a parsed request's
 * head length lies within the input and its host re-parses to itself; the
 * canonical request written from it parses back to the same host and port;
 * a refusal carries 400, 405 or 431 and a reason; fed in two pieces, the
 * parser reaches the same verdict; a compiled pattern decides its own host. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct eimg_net_limits lim = { 512, 8, 1, 1, 1, 1, 1 };

static void request(const char *buf, size_t len)
{
	struct net_connect c, back;
	const char *reason = NULL;
	int status = 0;
	long n = eimg_net_connect_parse(buf, len, &lim, &c, &status, &reason);
	if (n < 0) {
		if ((status != 400 && status != 405 && status != 431) || !reason)
			abort();
		return;
	}
	if (n == 0) {
		if (len >= lim.header_max)
			abort();
		return;
	}
	if ((size_t)n > len || (size_t)n > lim.header_max || memcmp(buf + n - 4, "\r\n\r\n", 4))
		abort();
	/* a prefix that ends before the blank line is incomplete or refused, never accepted */
	if (eimg_net_connect_parse(buf, (size_t)n - 1, &lim, &back, &status, &reason) > 0)
		abort();
	char out[1024];
	size_t w = eimg_net_connect_write(out, sizeof(out), &c);
	if (!w || eimg_net_connect_parse(out, w, &lim, &back, &status, &reason) != (long)w ||
	    strcmp(back.host.name, c.host.name) || back.port != c.port || back.host.kind != c.host.kind)
		abort();
}

static void response(const char *buf, size_t len)
{
	int code = 0;
	long n = eimg_net_response_parse(buf, len, 512, &code);
	if (n > 0 && ((size_t)n > len || code < 100 || code > 999))
		abort();
}

static void pattern(const char *text)
{
	char *one[] = { (char *)text };
	eimg_net_policy *p = NULL;
	struct net_host h;
	if (eimg_net_policy_new(one, 1, NULL, 0, &p, NULL))
		return;
	/* a plain host name or address pattern allows itself (on its port, if any) */
	const char *colon = strrchr(text, ':');
	size_t hl = colon && !strchr(text, '[') && colon == strchr(text, ':') ? (size_t)(colon - text) : strlen(text);
	if (!strpbrk(text, "*/[") && eimg_net_host_parse(text, hl, &h)) {
		uint16_t port = hl < strlen(text) ? (uint16_t)atoi(text + hl + 1) : 443;
		if (!eimg_net_policy_check(p, h.name, port, NULL))
			abort();
	}
	eimg_net_policy_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	char *text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		request(text, size - 1);
		break;
	case 1:
		response(text, size - 1);
		break;
	default:
		pattern(text);
		break;
	}
	free(text);
	return 0;
}
