/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzz target: the CBOR/COSE parsers (signature section with the
 * byte-array quirk, COSE_Sign1, payload) and DER ECDSA signatures.
 * The first input byte selects the parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "nitro/nitro_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_error err;
	if (size < 1)
		return 0;
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	switch (data[0] % 4) {
	case 0: {
		uint8_t *c = NULL, *s = NULL;
		size_t cl, sl;
		if (eimg_nitro_sigsec_decode("fuzz", p, n, &c, &cl, &s, &sl, &err) == EIMG_OK) {
			struct eimg_cose_sign1 cs;
			eimg_x509 *x = NULL;
			if (eimg_cose_sign1_decode("fuzz", s, sl, &cs, &err) == EIMG_OK)
				eimg_cose_sign1_clear(&cs);
			if (eimg_x509_parse_pem("fuzz", c, cl, &x, &err) == EIMG_OK)
				eimg_x509_free(x);
			free(c);
			free(s);
		}
		break;
	}
	case 1: {
		struct eimg_cose_sign1 cs;
		if (eimg_cose_sign1_decode("fuzz", p, n, &cs, &err) == EIMG_OK)
			eimg_cose_sign1_clear(&cs);
		break;
	}
	case 2: {
		unsigned idx;
		uint8_t v[48];
		eimg_nitro_payload_decode("fuzz", p, n, &idx, v, &err);
		break;
	}
	default: {
		uint8_t rs[132];
		eimg_ec_der_to_rs(p, n, 66, rs, &err);
		break;
	}
	}
	return 0;
}
