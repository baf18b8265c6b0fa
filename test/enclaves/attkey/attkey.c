/* SPDX-License-Identifier: Apache-2.0 */
/* test/enclaves/attkey: publishes a public key for its attestation document
 * from enclave_init, and reports what the runtime allowed.
 *
 * TEST ONLY: the key is a fixed public key read from the measured file
 * test-key.der (made at build time).  The runtime has no cryptography; a real enclave makes its
 * key pair inside with a crypto library, keeps the private key inside and
 * publishes only the public key.
 *
 * Every message is answered with "first=A second=B later=C": the results of
 * publishing from enclave_init (0), publishing again there (-1, once only)
 * and publishing from the message handler (-1, only from enclave_init). */
#include <enclave.h>

static int first = 9, second = 9;

int enclave_init(void)
{
	size_t len;
	const void *key = enclave_file("test-key.der", &len);
	if (!key)
		return 1;
	first = enclave_set_attestation_key(key, len);
	second = enclave_set_attestation_key(key, len);
	enclave_log("attkey: published a %u-byte test key", (unsigned)len);
	return 0;
}

int enclave_on_message(const uint8_t *msg, size_t len)
{
	size_t klen;
	const void *key = enclave_file("test-key.der", &klen);
	(void)msg;
	(void)len;
	int later = enclave_set_attestation_key(key, klen);
	return enclave_replyf("first=%d second=%d later=%d", first, second, later) ? 1 : 0;
}
