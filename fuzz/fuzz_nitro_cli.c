/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the parsers of nitro-cli's answers (nitro_run.c): the
 * run-enclave answer and the describe-enclaves list, and the shell quoting
 * of --dry-run.  The first byte chooses the parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/nitro_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_error err;
	if (size < 1)
		return 0;
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	if (data[0] & 1) {
		struct eimg_nitro_run_result r;
		if (eimg_nitro_parse_run_answer(text, len, &r, &err) == EIMG_OK &&
		    (r.enclave_id[0] == '\0' || r.enclave_id[0] == '-' || strlen(r.enclave_id) >= sizeof r.enclave_id))
			abort();   /* an id the parser must have refused */
	} else {
		char st[32];
		eimg_nitro_parse_describe(text, len, "i-0123456789abcdef0-enc0123456789abcdef", st, sizeof st, &err);
	}
	/* quoting: NUL-terminated copy, bounded output */
	char *arg = malloc(len + 1), q[512];
	if (arg) {
		memcpy(arg, text, len);
		arg[len] = '\0';
		eimg_shell_quote(arg, q, sizeof q);
		free(arg);
	}
	return 0;
}
