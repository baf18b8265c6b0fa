/* SPDX-License-Identifier: Apache-2.0 */
/* examples/hello: replies "<greeting>, <message>!" where the greeting is the
 * measured file greeting.txt (first line). */
#include <enclave.h>

static const char *greeting;
static size_t greeting_len;

int enclave_init(void)
{
	size_t len;
	const char *g = enclave_file("greeting.txt", &len);
	if (!g)
		return 1;
	const char *nl = memchr(g, '\n', len);
	greeting = g;
	greeting_len = nl ? (size_t)(nl - g) : len;
	enclave_log("hello enclave ready (%u thread%s)", enclave_threads(), enclave_threads() == 1 ? "" : "s");
	return 0;
}

int enclave_on_message(const uint8_t *msg, size_t len)
{
	if (enclave_reply(greeting, greeting_len) || enclave_reply(", ", 2) ||
	    enclave_reply(msg, len) || enclave_reply("!", 1))
		return 1;
	return 0;
}
