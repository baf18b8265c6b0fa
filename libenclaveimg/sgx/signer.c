/* SPDX-License-Identifier: Apache-2.0 */
/* A signer's identity without signing (enclave-sign key): MRSIGNER of an RSA key (a private or
 * public key file, a certificate, or a pkcs11: URI). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "eimg/hash.h"
#include "eimg/sigstruct.h"
#include "core/internal.h"
#include "crypto/crypto.h"
#include "sgx/sigstruct_int.h"

/* The modulus of a public key (public: a public key, a certificate or an
 * unencrypted private key) or of a private key (possibly encrypted, or a
 * pkcs11: URI). */
static int key_modulus(const struct eimg_key_source *key, bool public, uint8_t mod[EIMG_RSA_BYTES], eimg_error *err)
{
	eimg_key *k = NULL;
	int rc = public ? eimg_rsa_load_public(key->path, &k, err) : eimg_rsa_load_private(key, &k, err);
	if (rc)
		return rc;
	rc = eimg_rsa_modulus_le(k, mod, err);
	eimg_key_free(k);
	return rc;
}

int eimg_sgx_public_modulus(const char *path, uint8_t mod[EIMG_RSA_BYTES], eimg_error *err)
{
	struct eimg_key_source key = { .path = path };
	return key_modulus(&key, true, mod, err);
}

int eimg_key_mrsigner(const struct eimg_key_source *key, uint8_t mrsigner[32], eimg_error *err)
{
	uint8_t mod[EIMG_RSA_BYTES];
	int rc;

	if (!key || !key->path)
		return eimg_err(err, EIMG_EUSAGE, NULL, "no key given");
	if (strncmp(key->path, "pkcs11:", 7) == 0) {
		rc = key_modulus(key, false, mod, err);
	} else {
		/* A public key, a certificate or an unencrypted private key; an
		 * encrypted one is opened with its passphrase. */
		rc = key_modulus(key, true, mod, err);
		if (rc == EIMG_EINVAL)
			rc = key_modulus(key, false, mod, err);
	}
	if (rc)
		return rc;
	/* MRSIGNER = SHA-256 of the modulus as the SIGSTRUCT stores it. */
	eimg_sha256(mod, sizeof mod, mrsigner);
	return EIMG_OK;
}

int eimg_signer_report(const uint8_t *mrsigner, const uint8_t *pcr8, bool json, char **out, eimg_error *err)
{
	char hex[97];
	json_t *o;

	if (!json) {
		char *s = NULL;
		int n = mrsigner ? asprintf(&s, "mrsigner: %s\n", eimg_hex(mrsigner, 32, hex))
				 : asprintf(&s, "pcr8: %s\n", eimg_hex(pcr8, 48, hex));
		if (n < 0)
			return eimg_err_nomem(err);
		*out = s;
		return EIMG_OK;
	}
	o = json_object();
	if (o && json_object_set_new(o, mrsigner ? "mrsigner" : "pcr8",
				     json_string(mrsigner ? eimg_hex(mrsigner, 32, hex) : eimg_hex(pcr8, 48, hex))) != 0) {
		json_decref(o);
		o = NULL;
	}
	return eimg_json_dump(o, out, NULL, err);
}
