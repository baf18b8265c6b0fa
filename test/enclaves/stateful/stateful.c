/* SPDX-License-Identifier: Apache-2.0 */
/* test/enclaves/stateful: the sealed-state runtime API on request, one text
 * command per message (test/cli/test_state.sh):
 *   open enclave|signer    enclave_kv_open with that policy
 *   put KEY VALUE          enclave_kv_put
 *   get KEY                the value, or "none"
 *   del KEY                enclave_kv_delete
 *   commit                 enclave_kv_commit
 *   seal enclave|signer TEXT   the sealed blob, hex
 *   unseal HEX             the text, or the error
 *   insecure               enclave_seal_insecure()
 * Every reply is "ok ...", or "error: <enclave_state_error text>". */
#include <enclave.h>

static int status(int rc, const char *what)
{
	if (rc)
		return enclave_replyf("error: %s: %s", what, enclave_state_error(rc));
	return enclave_replyf("ok");
}

static int policy_of(const char *p, size_t n)
{
	if (n == 7 && memcmp(p, "enclave", 7) == 0)
		return ENCLAVE_SEAL_MRENCLAVE;
	if (n == 6 && memcmp(p, "signer", 6) == 0)
		return ENCLAVE_SEAL_MRSIGNER;
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int seal_cmd(const char *a, size_t n)
{
	const char *sp = memchr(a, ' ', n);
	uint8_t *blob;
	size_t len;
	if (!sp)
		return enclave_replyf("error: seal enclave|signer TEXT");
	int rc = enclave_seal(policy_of(a, (size_t)(sp - a)), sp + 1, n - (size_t)(sp + 1 - a), &blob, &len);
	if (rc)
		return status(rc, "seal");
	enclave_replyf("ok ");
	for (size_t i = 0; i < len; i++)
		enclave_replyf("%02x", blob[i]);
	free(blob);
	return 0;
}

static int unseal_cmd(const char *a, size_t n)
{
	uint8_t *blob = malloc(n / 2 + 1), *data;
	size_t len;
	if (!blob || n % 2)
		return enclave_replyf("error: unseal HEX");
	for (size_t i = 0; i < n / 2; i++) {
		int h = hexval(a[2 * i]), l = hexval(a[2 * i + 1]);
		if (h < 0 || l < 0)
			return enclave_replyf("error: unseal HEX");
		blob[i] = (uint8_t)(h << 4 | l);
	}
	int rc = enclave_unseal(blob, n / 2, &data, &len);
	free(blob);
	if (rc)
		return status(rc, "unseal");
	enclave_replyf("ok ");
	enclave_reply(data, len);
	free(data);
	return 0;
}

static int kv_cmd(const char *m, size_t len)
{
	char key[256];
	const char *sp = memchr(m + 4, ' ', len - 4);
	size_t kl = sp ? (size_t)(sp - m - 4) : len - 4;
	if (kl >= sizeof key)
		return enclave_replyf("error: key too long");
	memcpy(key, m + 4, kl);
	key[kl] = 0;
	if (memcmp(m, "put ", 4) == 0)
		return sp ? status(enclave_kv_put(key, sp + 1, len - (size_t)(sp + 1 - m)), "put")
			  : enclave_replyf("error: put KEY VALUE");
	if (memcmp(m, "del ", 4) == 0)
		return status(enclave_kv_delete(key), "del");
	size_t vl;
	const char *v = enclave_kv_get(key, &vl);
	if (!v)
		return enclave_replyf("ok none");
	enclave_replyf("ok ");
	return enclave_reply(v, vl);
}

int enclave_on_message(const uint8_t *msg, size_t len)
{
	const char *m = (const char *)msg;
	if (len > 5 && memcmp(m, "open ", 5) == 0)
		return status(enclave_kv_open(policy_of(m + 5, len - 5)), "open");
	if (len > 4 && (memcmp(m, "put ", 4) == 0 || memcmp(m, "get ", 4) == 0 || memcmp(m, "del ", 4) == 0))
		return kv_cmd(m, len);
	if (len == 6 && memcmp(m, "commit", 6) == 0)
		return status(enclave_kv_commit(), "commit");
	if (len > 5 && memcmp(m, "seal ", 5) == 0)
		return seal_cmd(m + 5, len - 5);
	if (len > 7 && memcmp(m, "unseal ", 7) == 0)
		return unseal_cmd(m + 7, len - 7);
	if (len == 8 && memcmp(m, "insecure", 8) == 0)
		return enclave_replyf("ok %d", enclave_seal_insecure());
	return enclave_replyf("error: unknown command");
}
