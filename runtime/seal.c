/* SPDX-License-Identifier: Apache-2.0 */
/* Sealing: data encrypted with a key bound to this enclave's identity
 * (enclave-runtime(3)).  On SGX hardware the key is the CPU's sealing key
 * (EGETKEY, KEYNAME = SEAL_KEY) for the policy MRENCLAVE or MRSIGNER (the
 * latter also binds ISVPRODID); in simulation and mock mode the host derives
 * it from a host secret and the identity (EIMG_OCALL_SEAL_KEY): INSECURE.
 *
 * A blob (little-endian):
 *   0  8  "EIMGSEAL"       32 32 KEYID (random)
 *   8  1  version 1        64 12 AES-GCM nonce (random)
 *   9  1  policy           76  n ciphertext
 *  10  2  ISVSVN of the key    16 tag
 *  12  4  0
 *  16 16  CPUSVN of the key (hardware; zero in simulation)
 * The first 76 bytes are the additional data.  A blob is opened with the key
 * for its recorded ISVSVN: a later version of the enclave (higher ISVSVN)
 * from the same signer gets that key under the MRSIGNER policy; an enclave
 * with another MRENCLAVE never gets an MRENCLAVE-bound key. */
#include "enclave.h"
#include "rt_int.h"

#define SEAL_HDR 76
#define SEAL_OVERHEAD (SEAL_HDR + 16)

static void st16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

/* ---- hardware: EREPORT for the own CPUSVN and ISVSVN, EGETKEY ---- */

static int hw_own_svn(uint8_t cpusvn[16], uint16_t *isvsvn)
{
	static const uint8_t target[512] __attribute__((aligned(512)));   /* zero: a report for anyone */
	uint8_t data[64] __attribute__((aligned(128))) = { 0 };
	uint8_t report[432] __attribute__((aligned(512)));
	uint64_t rax = 0;   /* EREPORT */
	__asm__ volatile("enclu" : "+a"(rax) : "b"(target), "c"(data), "d"(report) : "memory", "cc");
	memcpy(cpusvn, report, 16);
	*isvsvn = ld16(report + 258);
	explicit_bzero(report, sizeof report);
	return 0;
}

static int hw_getkey(int policy, uint16_t isvsvn, const uint8_t cpusvn[16], const uint8_t keyid[32], uint8_t key[16])
{
	uint8_t req[512] __attribute__((aligned(512))) = { 0 };
	uint8_t out[16] __attribute__((aligned(16)));
	st16(req, 4);                    /* KEYNAME: SEAL_KEY */
	st16(req + 2, (uint16_t)policy);
	st16(req + 4, isvsvn);
	memcpy(req + 8, cpusvn, 16);
	/* ATTRIBUTEMASK: INIT, DEBUG, MODE64BIT and the reserved high byte, as
	 * Intel's SDK does by default; MISCMASK 0xf0000000 */
	static const uint8_t amask[8] = { 0x0b, 0, 0, 0, 0, 0, 0, 0xff };
	memcpy(req + 24, amask, 8);
	memcpy(req + 40, keyid, 32);
	req[75] = 0xf0;
	uint64_t rax = 1;   /* EGETKEY */
	__asm__ volatile("enclu" : "+a"(rax) : "b"(req), "c"(out) : "memory", "cc");
	if (rax == 0)
		memcpy(key, out, 16);
	explicit_bzero(out, sizeof out);
	return rax == 0 ? 0 : -1;
}

/* ---- simulation: the host derives the key ---- */

static int sim_getkey(int policy, uint16_t isvsvn, const uint8_t keyid[32], uint8_t key[16], uint16_t *used)
{
	uint8_t req[40] = { 0 }, ans[18];
	size_t n = 0;
	uint64_t r = 0;
	st16(req, (uint16_t)policy);
	st16(req + 2, isvsvn);
	memcpy(req + 8, keyid, 32);
	int rc = eimg_rt_host_call(EIMG_OCALL_SEAL_KEY, req, sizeof req, ans, sizeof ans, &n, &r);
	if (rc == -1)
		return ENCLAVE_STATE_ECONTEXT;
	if (r == EIMG_OCALL_ENOSTATE)
		return ENCLAVE_STATE_ENOSTATE;
	if (r == EIMG_OCALL_EDENIED)
		return ENCLAVE_STATE_EDENIED;
	if (rc || n != sizeof ans)
		return ENCLAVE_STATE_EHOST;
	memcpy(key, ans, 16);
	*used = ld16(ans + 16);
	explicit_bzero(ans, sizeof ans);
	return 0;
}

/* The key for (policy, isvsvn, cpusvn, keyid); isvsvn 0xffff = own (then
 * *used, cpusvn are set to the own values). */
static int get_key(int policy, uint16_t isvsvn, uint8_t cpusvn[16], const uint8_t keyid[32], uint8_t key[16],
		   uint16_t *used)
{
	if (!eimg_rt_hardware())
		return sim_getkey(policy, isvsvn, keyid, key, used);
	if (isvsvn == 0xffff && hw_own_svn(cpusvn, &isvsvn) != 0)
		return ENCLAVE_STATE_EHOST;
	*used = isvsvn;
	return hw_getkey(policy, isvsvn, cpusvn, keyid, key) == 0 ? 0 : ENCLAVE_STATE_EDENIED;
}

int enclave_seal_insecure(void)
{
	return !eimg_rt_hardware();
}

int enclave_seal(int policy, const void *data, size_t len, uint8_t **blob, size_t *blob_len)
{
	uint8_t key[16], cpusvn[16] = { 0 }, keyid[32], *b;
	uint16_t svn = 0;
	int rc;
	if ((policy != ENCLAVE_SEAL_MRENCLAVE && policy != ENCLAVE_SEAL_MRSIGNER) || len > ENCLAVE_SEAL_MAX)
		return ENCLAVE_STATE_EINVAL;
	if (eimg_rt_random(keyid, sizeof keyid))
		return ENCLAVE_STATE_EHOST;
	if ((rc = get_key(policy, 0xffff, cpusvn, keyid, key, &svn)) != 0)
		return rc;
	if (!(b = malloc(len + SEAL_OVERHEAD))) {
		explicit_bzero(key, sizeof key);
		return ENCLAVE_STATE_ENOMEM;
	}
	memcpy(b, "EIMGSEAL", 8);
	b[8] = 1;
	b[9] = (uint8_t)policy;
	st16(b + 10, svn);
	memset(b + 12, 0, 4);
	memcpy(b + 16, cpusvn, 16);
	memcpy(b + 32, keyid, 32);
	if (eimg_rt_random(b + 64, 12)) {
		explicit_bzero(key, sizeof key);
		free(b);
		return ENCLAVE_STATE_EHOST;
	}
	memcpy(b + SEAL_HDR, data, len);
	eimg_rt_gcm(key, 16, b + 64, 1, b, SEAL_HDR, b + SEAL_HDR, len, b + SEAL_HDR + len);
	explicit_bzero(key, sizeof key);
	*blob = b;
	*blob_len = len + SEAL_OVERHEAD;
	return 0;
}

int enclave_unseal(const uint8_t *blob, size_t len, uint8_t **data, size_t *data_len)
{
	uint8_t key[16], cpusvn[16], *d;
	uint16_t svn = 0;
	int rc;
	if (len < SEAL_OVERHEAD || len - SEAL_OVERHEAD > ENCLAVE_SEAL_MAX)
		return ENCLAVE_STATE_ETRUNCATED;
	if (memcmp(blob, "EIMGSEAL", 8) != 0 || blob[8] != 1 ||
	    (blob[9] != ENCLAVE_SEAL_MRENCLAVE && blob[9] != ENCLAVE_SEAL_MRSIGNER))
		return ENCLAVE_STATE_EFORMAT;
	memcpy(cpusvn, blob + 16, 16);
	if ((rc = get_key(blob[9], ld16(blob + 10), cpusvn, blob + 32, key, &svn)) != 0)
		return rc;
	size_t n = len - SEAL_OVERHEAD;
	if (!(d = malloc(n ? n : 1))) {
		explicit_bzero(key, sizeof key);
		return ENCLAVE_STATE_ENOMEM;
	}
	memcpy(d, blob + SEAL_HDR, n);
	int ok = eimg_rt_gcm(key, 16, blob + 64, 0, blob, SEAL_HDR, d, n, (uint8_t *)(uintptr_t)(blob + SEAL_HDR + n));
	explicit_bzero(key, sizeof key);
	if (!ok) {
		explicit_bzero(d, n);
		free(d);
		return ENCLAVE_STATE_EAUTH;
	}
	*data = d;
	*data_len = n;
	return 0;
}

const char *enclave_state_error(int rc)
{
	switch (rc) {
	case 0: return "ok";
	case ENCLAVE_STATE_EINVAL: return "invalid argument (policy, size or key name)";
	case ENCLAVE_STATE_ENOSTATE: return "the host keeps no state (enclave-run --state DIR)";
	case ENCLAVE_STATE_ECONTEXT: return "only while a message or enclave_init is handled";
	case ENCLAVE_STATE_EHOST: return "the host failed or answered nonsense";
	case ENCLAVE_STATE_EDENIED: return "no sealing key for that version";
	case ENCLAVE_STATE_ENOMEM: return "out of memory";
	case ENCLAVE_STATE_ETRUNCATED: return "sealed data truncated";
	case ENCLAVE_STATE_EFORMAT: return "not sealed data of this format";
	case ENCLAVE_STATE_EAUTH: return "sealed data altered, or sealed for another enclave";
	case ENCLAVE_STATE_ETOOBIG: return "state too big";
	default: return "unknown state error";
	}
}
