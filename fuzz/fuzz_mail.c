/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: Mail envelopes (mail/envelope.c, mail/mail.c): the layout
 * parser shared with the enclave runtime, the padding check, and opening
 * with a fixed recipient key (points off the curve, bad tags). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/mail.h"
#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static eimg_mail_key *me;
	struct eimg_mail_header h;
	struct eimg_mail_msg m = { 0 };
	eimg_error err;
	size_t len;
	int why = 0;

	if (!me && eimg_mail_key_generate(&me, &err) != EIMG_OK)
		abort();
	if (eimg_mail_parse(data, size, &h) == EIMG_MAIL_OK &&
	    (h.header_len + h.ct_len + EIMG_MAIL_TAG != size || h.ct_len % EIMG_MAIL_PAD))
		abort();
	(void)eimg_mail_unpad(data, size, &len);
	if (eimg_mail_open(me, data, size, &m, &why, &err) == EIMG_OK)
		eimg_mail_msg_clear(&m);
	return 0;
}
