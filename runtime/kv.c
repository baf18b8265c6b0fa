/* SPDX-License-Identifier: Apache-2.0 */
/* A small key-value store kept across restarts (enclave-runtime(3)): held in
 * enclave memory, committed as ONE sealed blob that the host writes to its
 * state file atomically (enclave-run --state DIR, EIMG_OCALL_STATE_WRITE),
 * loaded back with EIMG_OCALL_STATE_READ.  A commit replaces the whole
 * file: after a crash the file holds the last commit, never half of one.
 * Limit (documented): the serialised store is at most ENCLAVE_STATE_MAX
 * bytes, a key 1..255 bytes.  Rollback: the host can hand back an older
 * file; sealing does not detect that (enclave-runtime(3), LIMITS).
 *
 * Serialised form (sealed, little-endian): "EIMGKV01", u32 count, then per
 * entry in key order: u16 key length, key, u32 value length, value. */
#include "enclave.h"
#include "rt_int.h"

struct entry {
	char *key;
	uint8_t *val;
	size_t klen, vlen;
};

static struct entry *ents;
static size_t nents, cap_ents, total;   /* total: serialised size */
static int kv_policy;                    /* 0: not opened */
static enclave_lock_t kv_lock = ENCLAVE_LOCK_INIT;

static uint32_t ld32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static void st32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }

static void drop(struct entry *e)
{
	explicit_bzero(e->val, e->vlen);
	free(e->val);
	free(e->key);
}

static void clear_all(void)
{
	for (size_t i = 0; i < nents; i++)
		drop(&ents[i]);
	nents = 0;
	total = 12;
}

/* Index of key, or where it would go (*found = 0). */
static size_t find(const char *key, size_t kl, int *found)
{
	size_t lo = 0, hi = nents;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		size_t ml = ents[mid].klen;
		int c = memcmp(ents[mid].key, key, ml < kl ? ml : kl);
		if (c == 0)
			c = ml < kl ? -1 : ml > kl ? 1 : 0;
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

static int insert(const char *key, size_t kl, const uint8_t *val, size_t vl)
{
	int found;
	size_t i = find(key, kl, &found);
	size_t after = found ? total - ents[i].vlen + vl : total + 6 + kl + vl;
	if (after > ENCLAVE_STATE_MAX)
		return ENCLAVE_STATE_ETOOBIG;
	uint8_t *v = malloc(vl ? vl : 1);
	if (!v)
		return ENCLAVE_STATE_ENOMEM;
	if (vl)
		memcpy(v, val, vl);
	if (found) {
		explicit_bzero(ents[i].val, ents[i].vlen);
		free(ents[i].val);
		total = total - ents[i].vlen + vl;
		ents[i].val = v;
		ents[i].vlen = vl;
		return 0;
	}
	char *k = malloc(kl + 1);
	if (!k) {
		free(v);
		return ENCLAVE_STATE_ENOMEM;
	}
	if (nents == cap_ents) {
		size_t nc = cap_ents ? cap_ents * 2 : 16;
		struct entry *n = realloc(ents, nc * sizeof *n);
		if (!n) {
			free(k);
			free(v);
			return ENCLAVE_STATE_ENOMEM;
		}
		ents = n;
		cap_ents = nc;
	}
	memcpy(k, key, kl);
	k[kl] = 0;
	memmove(&ents[i + 1], &ents[i], (nents - i) * sizeof *ents);
	ents[i] = (struct entry){ k, v, kl, vl };
	nents++;
	total += 6 + kl + vl;
	return 0;
}

/* Parses a serialised store (authenticated, still checked). */
static int load(const uint8_t *p, size_t len)
{
	if (len < 12 || memcmp(p, "EIMGKV01", 8) != 0)
		return ENCLAVE_STATE_EFORMAT;
	uint32_t n = ld32(p + 8);
	size_t off = 12;
	for (uint32_t i = 0; i < n; i++) {
		if (len - off < 2)
			return ENCLAVE_STATE_EFORMAT;
		size_t kl = (size_t)p[off] | (size_t)p[off + 1] << 8;
		off += 2;
		if (kl == 0 || kl > ENCLAVE_KV_KEY_MAX || len - off < kl + 4)
			return ENCLAVE_STATE_EFORMAT;
		const char *k = (const char *)p + off;
		off += kl;
		size_t vl = ld32(p + off);
		off += 4;
		if (len - off < vl)
			return ENCLAVE_STATE_EFORMAT;
		int rc = insert(k, kl, p + off, vl);
		if (rc)
			return rc;
		off += vl;
	}
	return off == len ? 0 : ENCLAVE_STATE_EFORMAT;
}

static int read_state(uint8_t *buf, size_t cap, size_t *len)
{
	uint64_t r = 0;
	int rc = eimg_rt_host_call(EIMG_OCALL_STATE_READ, 0, 0, buf, cap, len, &r);
	if (rc == -1)
		return ENCLAVE_STATE_ECONTEXT;
	if (rc == -2 || r == EIMG_OCALL_ETOOBIG)
		return ENCLAVE_STATE_ETOOBIG;
	if (r == EIMG_OCALL_ENOSTATE)
		return ENCLAVE_STATE_ENOSTATE;
	if (r == EIMG_OCALL_ENOENT) {
		*len = 0;
		return 0;
	}
	return r >= EIMG_OCALL_EFIRST ? ENCLAVE_STATE_EHOST : 0;
}

int enclave_kv_open(int policy)
{
	size_t cap = ENCLAVE_STATE_MAX + 128, len = 0, dlen = 0;
	uint8_t *buf, *data = 0;
	int rc;
	if (policy != ENCLAVE_SEAL_MRENCLAVE && policy != ENCLAVE_SEAL_MRSIGNER)
		return ENCLAVE_STATE_EINVAL;
	if (!(buf = malloc(cap)))
		return ENCLAVE_STATE_ENOMEM;
	enclave_lock(&kv_lock);
	clear_all();
	kv_policy = 0;
	if ((rc = read_state(buf, cap, &len)) == 0 && len) {
		rc = enclave_unseal(buf, len, &data, &dlen);
		if (rc == 0)
			rc = load(data, dlen);
		if (rc)
			clear_all();
	}
	if (rc == 0)
		kv_policy = policy;
	enclave_unlock(&kv_lock);
	if (data) {
		explicit_bzero(data, dlen);
		free(data);
	}
	free(buf);
	return rc;
}

const void *enclave_kv_get(const char *key, size_t *len)
{
	int found = 0;
	const void *v = 0;
	enclave_lock(&kv_lock);
	size_t i = kv_policy && key ? find(key, strlen(key), &found) : 0;
	if (found) {
		v = ents[i].val;
		if (len)
			*len = ents[i].vlen;
	}
	enclave_unlock(&kv_lock);
	return v;
}

int enclave_kv_put(const char *key, const void *val, size_t len)
{
	size_t kl = key ? strlen(key) : 0;
	if (kl == 0 || kl > ENCLAVE_KV_KEY_MAX || len > ENCLAVE_STATE_MAX || (len && !val))
		return ENCLAVE_STATE_EINVAL;
	enclave_lock(&kv_lock);
	int rc = kv_policy ? insert(key, kl, val, len) : ENCLAVE_STATE_EINVAL;
	enclave_unlock(&kv_lock);
	return rc;
}

int enclave_kv_delete(const char *key)
{
	int found = 0;
	enclave_lock(&kv_lock);
	size_t i = kv_policy && key ? find(key, strlen(key), &found) : 0;
	if (found) {
		total -= 6 + ents[i].klen + ents[i].vlen;
		drop(&ents[i]);
		memmove(&ents[i], &ents[i + 1], (nents - i - 1) * sizeof *ents);
		nents--;
	}
	enclave_unlock(&kv_lock);
	return found ? 0 : ENCLAVE_STATE_EINVAL;
}

int enclave_kv_commit(void)
{
	uint8_t *ser, *blob = 0;
	size_t blen = 0, off = 12;
	uint64_t r = 0;
	size_t n = 0;
	int rc;
	enclave_lock(&kv_lock);
	if (!kv_policy) {
		enclave_unlock(&kv_lock);
		return ENCLAVE_STATE_EINVAL;
	}
	if (!(ser = malloc(total))) {
		enclave_unlock(&kv_lock);
		return ENCLAVE_STATE_ENOMEM;
	}
	memcpy(ser, "EIMGKV01", 8);
	st32(ser + 8, (uint32_t)nents);
	for (size_t i = 0; i < nents; i++) {
		ser[off] = (uint8_t)ents[i].klen;
		ser[off + 1] = (uint8_t)(ents[i].klen >> 8);
		memcpy(ser + off + 2, ents[i].key, ents[i].klen);
		off += 2 + ents[i].klen;
		st32(ser + off, (uint32_t)ents[i].vlen);
		memcpy(ser + off + 4, ents[i].val, ents[i].vlen);
		off += 4 + ents[i].vlen;
	}
	rc = enclave_seal(kv_policy, ser, off, &blob, &blen);
	enclave_unlock(&kv_lock);
	explicit_bzero(ser, off);
	free(ser);
	if (rc)
		return rc;
	int hc = eimg_rt_host_call(EIMG_OCALL_STATE_WRITE, blob, blen, 0, 0, &n, &r);
	free(blob);
	if (hc == -1)
		return blen > ENCLAVE_STATE_MAX + 128 ? ENCLAVE_STATE_ETOOBIG : ENCLAVE_STATE_ECONTEXT;
	if (r == EIMG_OCALL_ENOSTATE)
		return ENCLAVE_STATE_ENOSTATE;
	return hc == 0 && r == 0 ? 0 : ENCLAVE_STATE_EHOST;
}
