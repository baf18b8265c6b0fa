/* EC private keys (P-256/384/521) and ECDSA for Nitro EIF signing (OpenSSL). */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "eimg/hash.h"
#include "internal.h"
#include "nitro_int.h"

#define MAX_KEY_FILE (64u << 10)

struct eimg_ec_key {
	EVP_PKEY *pk;
	int bits;
};

struct pass {
	const char *p;
};

/* Never prompts: without a passphrase an encrypted key fails. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
	const struct pass *ps = u;
	(void)rwflag;
	if (!ps || !ps->p)
		return -1;
	size_t n = strlen(ps->p);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, ps->p, n);
	return (int)n;
}

static int curve_bits(EVP_PKEY *pk)
{
	char g[64] = "";
	size_t gl = 0;
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || EVP_PKEY_get_group_name(pk, g, sizeof(g), &gl) != 1)
		return 0;
	return strcmp(g, "prime256v1") == 0 ? 256 : strcmp(g, "secp384r1") == 0 ? 384 : strcmp(g, "secp521r1") == 0 ? 521 : 0;
}

int eimg_ec_key_load(const char *path, const char *passphrase, eimg_ec_key **out, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	struct pass ps = { passphrase };
	int rc = eimg_read_file(path, MAX_KEY_FILE, &buf, &len, err);
	if (rc)
		return rc;
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	EVP_PKEY *pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &ps) : NULL;
	BIO_free(bio);
	eimg_free_secret(buf, len);
	ERR_clear_error();
	if (!pk)
		return eimg_err(err, EIMG_EINVAL, path, "not a PEM private key%s",
				passphrase ? " (or wrong passphrase)" : " (an encrypted key needs its passphrase)");
	int bits = curve_bits(pk);
	if (!bits) {
		EVP_PKEY_free(pk);
		return eimg_err(err, EIMG_EINVAL, path, "Nitro signing needs an EC key on P-256, P-384 or P-521");
	}
	eimg_ec_key *k = malloc(sizeof(*k));
	if (!k) {
		EVP_PKEY_free(pk);
		return eimg_err_nomem(err);
	}
	k->pk = pk;
	k->bits = bits;
	*out = k;
	return EIMG_OK;
}

void eimg_ec_key_free(eimg_ec_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pk); /* OpenSSL clears private key material on free */
	free(k);
}

int eimg_ec_key_bits(const eimg_ec_key *k)
{
	return k->bits;
}

bool eimg_ec_key_matches(const eimg_ec_key *k, const eimg_x509 *x)
{
	uint8_t *cd = NULL;
	size_t cl = 0;
	unsigned char *kd = NULL;
	bool ok = false;
	int n = i2d_PUBKEY(k->pk, &kd);
	if (n > 0 && eimg_x509_pubkey_der(x, &cd, &cl, NULL) == EIMG_OK)
		ok = cl == (size_t)n && memcmp(cd, kd, cl) == 0;
	OPENSSL_free(kd);
	free(cd);
	ERR_clear_error();
	return ok;
}

static const EVP_MD *md_of(int hash)
{
	return hash == EIMG_SHA256 ? EVP_sha256() : hash == EIMG_SHA384 ? EVP_sha384() : hash == EIMG_SHA512 ? EVP_sha512() : NULL;
}

static int sig_to_rs(const ECDSA_SIG *sig, size_t fb, uint8_t *rs, eimg_error *err)
{
	const BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG_get0(sig, &r, &s);
	if (!r || !s || BN_is_negative(r) || BN_is_negative(s) || (size_t)BN_num_bytes(r) > fb ||
	    (size_t)BN_num_bytes(s) > fb || BN_bn2binpad(r, rs, (int)fb) < 0 || BN_bn2binpad(s, rs + fb, (int)fb) < 0)
		return eimg_err(err, EIMG_EINVAL, NULL, "ECDSA signature values do not fit a %zu-byte field", fb);
	return EIMG_OK;
}

int eimg_ec_sign_rs(const eimg_ec_key *k, int hash, const uint8_t *msg, size_t msglen,
		    uint8_t *rs, size_t *rslen, eimg_error *err)
{
	size_t fb = (size_t)(k->bits + 7) / 8, dl = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	int rc;
	if (!ctx)
		return eimg_err_nomem(err);
	if (*rslen < 2 * fb || !md_of(hash)) {
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "signature buffer");
		goto out;
	}
	if (EVP_DigestSignInit(ctx, NULL, md_of(hash), NULL, k->pk) != 1 ||
	    EVP_DigestSign(ctx, NULL, &dl, msg, msglen) != 1 || !(der = OPENSSL_malloc(dl)) ||
	    EVP_DigestSign(ctx, der, &dl, msg, msglen) != 1) {
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "ECDSA signing failed");
		goto out;
	}
	rc = eimg_ec_der_to_rs(der, dl, fb, rs, err);
	if (!rc)
		*rslen = 2 * fb;
out:
	ERR_clear_error();
	OPENSSL_free(der);
	EVP_MD_CTX_free(ctx);
	return rc;
}

int eimg_ec_der_to_rs(const uint8_t *der, size_t len, size_t fb, uint8_t *rs, eimg_error *err)
{
	const unsigned char *p = der;
	unsigned char *re = NULL;
	int rc;
	if (len == 0 || len > 1024)
		return eimg_err(err, EIMG_EINVAL, NULL, "not a DER ECDSA signature (%zu bytes)", len);
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	if (!sig || p != der + len) {
		rc = eimg_err(err, EIMG_EINVAL, NULL, "not a DER ECDSA signature");
		goto out;
	}
	/* Strict DER: re-encoding must give the same bytes. */
	int n = i2d_ECDSA_SIG(sig, &re);
	if (n <= 0 || (size_t)n != len || memcmp(re, der, len) != 0) {
		rc = eimg_err(err, EIMG_EINVAL, NULL, "ECDSA signature is not in strict DER");
		goto out;
	}
	rc = sig_to_rs(sig, fb, rs, err);
out:
	ERR_clear_error();
	OPENSSL_free(re);
	ECDSA_SIG_free(sig);
	return rc;
}
