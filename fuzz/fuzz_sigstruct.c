/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: everything that reads an untrusted signature.  The input is
 * tried as a SIGSTRUCT file / signed ELF (extract, decode, layout checks,
 * full verification, text and JSON rendering), as a detached signature
 * (raw, DER, base64) and as a --date argument. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/sigstruct.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t ss[EIMG_SIGSTRUCT_SIZE], sig[EIMG_RSA_BYTES];
	struct eimg_sigstruct s;
	eimg_error err;
	int fmt = 0;
	char *text = NULL;

	if (size > (1u << 20))
		return 0;
	if (eimg_sigstruct_extract("fuzz", data, size, ss, &fmt, &err) == EIMG_OK) {
		if (eimg_sigstruct_decode("fuzz", ss, sizeof(ss), &s, &err) == EIMG_OK) {
			(void)eimg_sigstruct_check_layout(&s, "fuzz", &err);
			if (eimg_sigstruct_text(&s, "  ", &text, &err) == EIMG_OK)
				free(text);
			text = NULL;
			if (eimg_sigstruct_json_string(&s, &text, &err) == EIMG_OK)
				free(text);
		}
		(void)eimg_sigstruct_verify(ss, "fuzz", &err);
	}
	(void)eimg_rsa_parse_detached("fuzz", data, size, sig, &err);
	if (size < 64) {
		char str[65];
		uint32_t d;
		memcpy(str, data, size);
		str[size] = '\0';
		(void)eimg_bcd_date_parse(str, &d, &err);
	}
	return 0;
}
