/* SPDX-License-Identifier: Apache-2.0 */
/* Signing keys (any type, for SGX and Nitro signing) and RSA-3072 (e = 3) for
 * SGX SIGSTRUCTs: keys (PEM/DER, encrypted PEM with a passphrase callback,
 * pkcs11: URIs through OpenSSL's ENGINE API), their checks, PKCS#1 v1.5
 * SHA-256 signing.  Verification, q1/q2 and detached signature formats are
 * in crypto_rsa_verify.c.
 *
 * The ENGINE API is deprecated in OpenSSL 3.0 but is the only way the
 * installed PKCS#11 glue (libengine-pkcs11-openssl) is reachable, so
 * deprecation warnings are silenced in this file only. */
#define OPENSSL_SUPPRESS_DEPRECATED 1

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/ui.h>
#include <openssl/x509.h>

#include "eimg/hash.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/ossl_int.h"

#define HOWTO_KEY "make one with 'openssl genrsa -3 -out key.pem 3072'"

struct eimg_key {
	EVP_PKEY *pkey;
	ENGINE *engine;        /* functional reference, or NULL */
	char source[EIMG_ERROR_FILE_MAX];
};

void eimg_key_free(eimg_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);   /* RSA private parts are cleared by OpenSSL (BN_clear_free) */
	if (k->engine) {
		ENGINE_finish(k->engine);
		ENGINE_free(k->engine);
	}
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* ---- passphrases ---- */

struct pass_ctx {
	const struct eimg_key_source *src;
	const char *what;    /* "passphrase" or "PIN" */
	int asked;           /* OpenSSL asked for one */
	int got;             /* and one was given */
	int rc;              /* an error while getting it */
	eimg_error *err;
};

/* The passphrase from the file or environment variable, into buf. */
static int get_passphrase(struct pass_ctx *pc, char *buf, size_t size)
{
	const struct eimg_key_source *src = pc->src;
	if (size == 0)
		return -1;
	if (src->passphrase) {
		size_t n = strlen(src->passphrase);
		if (n >= size) {
			pc->rc = eimg_err(pc->err, EIMG_EINVAL, NULL, "the %s is too long", pc->what);
			return -1;
		}
		memcpy(buf, src->passphrase, n + 1);
		return (int)n;
	}
	if (src->passphrase_file) {
		uint8_t *data = NULL;
		size_t len = 0;
		int rc = eimg_read_file(src->passphrase_file, EIMG_MAX_PASSPHRASE, &data, &len, pc->err);
		if (rc) {
			pc->rc = rc;
			return -1;
		}
		size_t n = 0;
		while (n < len && data[n] != '\n' && data[n] != '\r')
			n++;
		if (n >= size) {
			eimg_free_secret(data, len + 1);
			pc->rc = eimg_err(pc->err, EIMG_EINVAL, src->passphrase_file, "%s is too long", pc->what);
			return -1;
		}
		memcpy(buf, data, n);
		buf[n] = '\0';
		eimg_free_secret(data, len + 1);
		return (int)n;
	}
	if (src->passphrase_env) {
		const char *v = getenv(src->passphrase_env);
		if (!v) {
			pc->rc = eimg_err(pc->err, EIMG_EINVAL, NULL, "environment variable %s (the key's %s) is not set",
					  src->passphrase_env, pc->what);
			return -1;
		}
		size_t n = strlen(v);
		if (n >= size) {
			pc->rc = eimg_err(pc->err, EIMG_EINVAL, NULL, "environment variable %s: %s is too long",
					  src->passphrase_env, pc->what);
			return -1;
		}
		memcpy(buf, v, n + 1);
		return (int)n;
	}
	if (src->prompt) {
		int n = src->prompt(src->prompt_ctx, pc->what, buf, size);
		if (n < 0 || (size_t)n >= size)
			return -1;
		buf[n] = '\0';
		return n;
	}
	return -1;
}

static int pem_cb(char *buf, int size, int rwflag, void *u)
{
	struct pass_ctx *pc = u;
	(void)rwflag;
	if (!pc || size <= 0)
		return -1;
	pc->asked = 1;
	int n = get_passphrase(pc, buf, (size_t)size);
	if (n >= 0)
		pc->got = 1;
	return n < 0 ? -1 : n;
}

/* ---- key checks ---- */

static int get_ne(const EVP_PKEY *pkey, BIGNUM **n, BIGNUM **e)
{
	*n = *e = NULL;
	if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, e) == 1)
		return 1;
	BN_free(*n);
	BN_free(*e);
	*n = *e = NULL;
	ERR_clear_error();
	/* Legacy (engine) keys. */
	const RSA *rsa = EVP_PKEY_get0_RSA(pkey);
	if (!rsa)
		return 0;
	const BIGNUM *rn = NULL, *re = NULL;
	RSA_get0_key(rsa, &rn, &re, NULL);
	if (!rn || !re)
		return 0;
	*n = BN_dup(rn);
	*e = BN_dup(re);
	if (!*n || !*e) {
		BN_free(*n);
		BN_free(*e);
		*n = *e = NULL;
		return 0;
	}
	return 1;
}

static int check_sgx_key(EVP_PKEY *pkey, const char *source, eimg_error *err)
{
	int id = EVP_PKEY_get_base_id(pkey);
	BIGNUM *n = NULL, *e = NULL;
	int rc = EIMG_OK;
	if (id != EVP_PKEY_RSA) {
		const char *name = id == EVP_PKEY_RSA_PSS ? "RSA-PSS" : OBJ_nid2sn(id);
		return eimg_err(err, EIMG_EINVAL, source,
				"is not an RSA key (type %s); SGX signing needs RSA with 3072 bits and public exponent 3: " HOWTO_KEY,
				name && id != NID_undef ? name : "non-RSA");
	}
	if (!get_ne(pkey, &n, &e))
		return eimg_ossl_err(err, EIMG_EINVAL, source, "cannot read the RSA public key");
	if (BN_num_bits(n) != EIMG_RSA_BITS) {
		rc = eimg_err(err, EIMG_EINVAL, source,
			      "is an RSA-%d key; SGX signing needs 3072 bits with public exponent 3: " HOWTO_KEY,
			      BN_num_bits(n));
		goto out;
	}
	if (!BN_is_word(e, EIMG_RSA_EXPONENT)) {
		char *dec = BN_bn2dec(e);
		rc = eimg_err(err, EIMG_EINVAL, source,
			      "the RSA public exponent is %.40s; SGX signing needs exponent 3: " HOWTO_KEY,
			      dec ? dec : "not 3");
		OPENSSL_free(dec);
		goto out;
	}
out:
	BN_free(n);
	BN_free(e);
	return rc;
}

/* ---- loading ---- */

static void redact_uri(const char *uri, char *out, size_t size)
{
	/* Never show a PIN given in the URI. */
	snprintf(out, size, "%s", uri);
	char *p = out;
	while ((p = strstr(p, "pin-value=")) != NULL) {
		p += strlen("pin-value=");
		char *end = p + strcspn(p, ";&?");
		size_t rest = strlen(end);
		if ((size_t)(p - out) + 3 + rest + 1 > size)
			break;
		memmove(p + 3, end, rest + 1);
		memcpy(p, "***", 3);
		p += 3;
	}
}

static int load_engine_key(const struct eimg_key_source *src, eimg_key *k, eimg_error *err)
{
	struct pass_ctx pc = {.src = src, .what = "PIN", .err = err};
	char reason[256];
	char pin[EIMG_MAX_PASSPHRASE + 1];
	UI_METHOD *ui = NULL;
	ENGINE *e;
	int rc;

	redact_uri(src->path, k->source, sizeof(k->source));
	if (src->pkcs11_module && access(src->pkcs11_module, R_OK) != 0)
		return eimg_err_sys(err, src->pkcs11_module, "cannot use the PKCS#11 module");
	e = ENGINE_by_id("pkcs11");
	if (!e) {
		ERR_clear_error();
		return eimg_err(err, EIMG_EUNSUPPORTED, k->source,
				"pkcs11: keys need OpenSSL's pkcs11 engine: install the Debian package libengine-pkcs11-openssl");
	}
	/* libp11 prints its own diagnostics (URIs included, which may hold a
	 * PIN) unless told to be quiet; our one-line error says what failed. */
	(void)ENGINE_ctrl_cmd_string(e, "QUIET", NULL, 1);
	ERR_clear_error();
	if (src->pkcs11_module && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", src->pkcs11_module, 0)) {
		ENGINE_free(e);
		return eimg_ossl_err(err, EIMG_EINVAL, src->pkcs11_module, "cannot use this PKCS#11 module");
	}
	if (!ENGINE_init(e)) {
		ENGINE_free(e);
		return eimg_err(err, EIMG_EINVAL, src->pkcs11_module ? src->pkcs11_module : k->source,
				"cannot initialise the PKCS#11 module: %s", eimg_ossl_reason(reason, sizeof(reason)));
	}
	k->engine = e;
	if (src->passphrase || src->passphrase_file || src->passphrase_env) {
		if (get_passphrase(&pc, pin, sizeof(pin)) < 0) {
			OPENSSL_cleanse(pin, sizeof(pin));
			return pc.rc ? pc.rc : eimg_err(err, EIMG_EINVAL, k->source, "cannot get the PIN");
		}
		int ok = ENGINE_ctrl_cmd_string(e, "PIN", pin, 0);
		OPENSSL_cleanse(pin, sizeof(pin));
		if (!ok)
			return eimg_ossl_err(err, EIMG_EINVAL, k->source, "the pkcs11 engine does not take a PIN");
	}
	ui = UI_UTIL_wrap_read_pem_callback(pem_cb, 0);
	if (!ui)
		return eimg_err_nomem(err);
	k->pkey = ENGINE_load_private_key(e, src->path, ui, &pc);
	UI_destroy_method(ui);
	if (!k->pkey) {
		if (pc.rc)
			return pc.rc;
		rc = eimg_err(err, EIMG_EINVAL, k->source, "cannot load the private key from the PKCS#11 token%s: %s",
			      pc.asked && !pc.got
			      ? " (a PIN is needed: --passphrase-file, --passphrase-env or pin-value= in the URI)" : "",
			      eimg_ossl_reason(reason, sizeof(reason)));
		return rc;
	}
	return EIMG_OK;
}

static EVP_PKEY *parse_private(const uint8_t *buf, size_t len, struct pass_ctx *pc)
{
	EVP_PKEY *pkey = NULL;
	if (len > (size_t)INT32_MAX)
		return NULL;
	BIO *bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio)
		return NULL;
	if (memmem(buf, len, "-----BEGIN", 10)) {
		pkey = PEM_read_bio_PrivateKey(bio, NULL, pem_cb, pc);
	} else {
		pkey = d2i_PrivateKey_bio(bio, NULL);
		if (!pkey) {
			/* Encrypted PKCS#8 DER. */
			(void)BIO_reset(bio);
			pkey = d2i_PKCS8PrivateKey_bio(bio, NULL, pem_cb, pc);
		}
	}
	BIO_free(bio);
	return pkey;
}

/* Any private key from a key source, not yet checked for SGX. */
int eimg_key_load_private(const struct eimg_key_source *src, eimg_key **out, eimg_error *err)
{
	eimg_key *k = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;
	char reason[256];

	if (!src || !src->path)
		return eimg_err(err, EIMG_EUSAGE, NULL, "no signing key given");
	k = calloc(1, sizeof(*k));
	if (!k)
		return eimg_err_nomem(err);
	if (strncmp(src->path, "pkcs11:", 7) == 0) {
		rc = load_engine_key(src, k, err);
		if (rc)
			goto out;
	} else {
		struct pass_ctx pc = {.src = src, .what = "passphrase", .err = err};
		snprintf(k->source, sizeof(k->source), "%s", src->path);
		rc = eimg_read_file(src->path, EIMG_MAX_KEY_INPUT, &buf, &len, err);
		if (rc)
			goto out;
		k->pkey = parse_private(buf, len, &pc);
		if (!k->pkey) {
			if (pc.rc) {
				rc = pc.rc;
			} else if (pc.asked && !pc.got) {
				ERR_clear_error();
				rc = eimg_err(err, EIMG_EINVAL, src->path,
					      "the key is encrypted and no passphrase was given "
					      "(--passphrase-file FILE, --passphrase-env VAR, or run on a terminal)");
			} else if (pc.asked) {
				ERR_clear_error();
				rc = eimg_err(err, EIMG_EINVAL, src->path, "cannot decrypt the key: wrong passphrase?");
			} else if (memmem(buf, len, "PUBLIC KEY-----", 15) || memmem(buf, len, "CERTIFICATE-----", 16)) {
				ERR_clear_error();
				rc = eimg_err(err, EIMG_EINVAL, src->path,
					      "is a public key or certificate; signing needs the private key");
			} else {
				rc = eimg_err(err, EIMG_EINVAL, src->path, "not a private key in PEM or DER form (%s)",
					      eimg_ossl_reason(reason, sizeof(reason)));
			}
			goto out;
		}
	}
	*out = k;
	k = NULL;
out:
	if (buf)
		eimg_free_secret(buf, len + 1);
	eimg_key_free(k);
	return rc;
}

int eimg_rsa_load_private(const struct eimg_key_source *src, eimg_key **out, eimg_error *err)
{
	eimg_key *k = NULL;
	int rc = eimg_key_load_private(src, &k, err);
	if (rc)
		return rc;
	rc = check_sgx_key(k->pkey, k->source, err);
	if (rc) {
		eimg_key_free(k);
		return rc;
	}
	*out = k;
	return EIMG_OK;
}

int eimg_key_sign(eimg_key *k, int hash_bits, const uint8_t *msg, size_t len, uint8_t *sig, size_t *siglen,
		  eimg_error *err)
{
	const EVP_MD *md = hash_bits == 256 ? EVP_sha256() : hash_bits == 384 ? EVP_sha384()
			   : hash_bits == 512 ? EVP_sha512() : NULL;
	EVP_MD_CTX *mctx;
	size_t need = 0;
	int rc;

	if (!md)
		return eimg_err(err, EIMG_EINTERNAL, k->source, "unsupported hash SHA-%d", hash_bits);
	mctx = EVP_MD_CTX_new();
	if (!mctx)
		return eimg_err_nomem(err);
	if (EVP_DigestSignInit(mctx, NULL, md, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(mctx, NULL, &need, msg, len) != 1) {
		rc = eimg_ossl_err(err, EIMG_EINVAL, k->source, "this key cannot sign");
		goto out;
	}
	if (need > *siglen) {
		rc = eimg_err(err, EIMG_EINTERNAL, k->source, "signature buffer too small");
		goto out;
	}
	if (EVP_DigestSign(mctx, sig, siglen, msg, len) != 1) {
		rc = eimg_ossl_err(err, EIMG_EINVAL, k->source, "signing failed");
		goto out;
	}
	rc = EIMG_OK;
out:
	EVP_MD_CTX_free(mctx);
	return rc;
}

static EVP_PKEY *parse_public(const uint8_t *buf, size_t len)
{
	EVP_PKEY *pkey = NULL;
	BIO *bio;
	if (len > (size_t)INT32_MAX)
		return NULL;
	bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio)
		return NULL;
	if (memmem(buf, len, "-----BEGIN", 10)) {
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		if (!pkey) {
			(void)BIO_reset(bio);
			RSA *rsa = PEM_read_bio_RSAPublicKey(bio, NULL, NULL, NULL);
			if (rsa) {
				pkey = EVP_PKEY_new();
				if (!pkey || !EVP_PKEY_assign_RSA(pkey, rsa)) {
					EVP_PKEY_free(pkey);
					RSA_free(rsa);
					pkey = NULL;
				}
			}
		}
		if (!pkey) {
			(void)BIO_reset(bio);
			X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			if (x) {
				pkey = X509_get_pubkey(x);
				X509_free(x);
			}
		}
	} else {
		const unsigned char *p = buf;
		pkey = d2i_PUBKEY(NULL, &p, (long)len);
		if (!pkey) {
			p = buf;
			RSA *rsa = d2i_RSAPublicKey(NULL, &p, (long)len);
			if (rsa) {
				pkey = EVP_PKEY_new();
				if (!pkey || !EVP_PKEY_assign_RSA(pkey, rsa)) {
					EVP_PKEY_free(pkey);
					RSA_free(rsa);
					pkey = NULL;
				}
			}
		}
		if (!pkey) {
			p = buf;
			X509 *x = d2i_X509(NULL, &p, (long)len);
			if (x) {
				pkey = X509_get_pubkey(x);
				X509_free(x);
			}
		}
	}
	BIO_free(bio);
	return pkey;
}

static int no_pass_cb(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag;
	if (u)
		*(int *)u = 1;
	return -1;
}

int eimg_rsa_load_public(const char *path, eimg_key **out, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	eimg_key *k = NULL;
	int rc, encrypted = 0;

	k = calloc(1, sizeof(*k));
	if (!k)
		return eimg_err_nomem(err);
	snprintf(k->source, sizeof(k->source), "%s", path);
	rc = eimg_read_file(path, EIMG_MAX_KEY_INPUT, &buf, &len, err);
	if (rc)
		goto out;
	k->pkey = parse_public(buf, len);
	if (!k->pkey) {
		/* A private key file also gives the public key. */
		BIO *bio = BIO_new_mem_buf(buf, (int)len);
		if (bio) {
			if (memmem(buf, len, "-----BEGIN", 10))
				k->pkey = PEM_read_bio_PrivateKey(bio, NULL, no_pass_cb, &encrypted);
			else
				k->pkey = d2i_PrivateKey_bio(bio, NULL);
			BIO_free(bio);
		}
	}
	ERR_clear_error();
	if (!k->pkey) {
		rc = eimg_err(err, EIMG_EINVAL, path, encrypted
			      ? "is an encrypted private key; give the public key ('openssl pkey -pubout')"
			      : "not a public key (PEM or DER, SubjectPublicKeyInfo or PKCS#1) nor a certificate");
		goto out;
	}
	rc = check_sgx_key(k->pkey, path, err);
	if (rc)
		goto out;
	*out = k;
	k = NULL;
out:
	if (buf)
		eimg_free_secret(buf, len + 1);
	eimg_key_free(k);
	return rc;
}

int eimg_rsa_modulus_le(const eimg_key *k, uint8_t out[EIMG_RSA_BYTES], eimg_error *err)
{
	BIGNUM *n = NULL, *e = NULL;
	int rc = EIMG_OK;
	if (!get_ne(k->pkey, &n, &e))
		return eimg_ossl_err(err, EIMG_EINVAL, k->source, "cannot read the RSA modulus");
	if (BN_bn2lebinpad(n, out, EIMG_RSA_BYTES) != EIMG_RSA_BYTES)
		rc = eimg_err(err, EIMG_EINTERNAL, k->source, "modulus does not fit 384 bytes");
	BN_free(n);
	BN_free(e);
	return rc;
}

int eimg_rsa_sign(eimg_key *k, const uint8_t *msg, size_t len, uint8_t sig_be[EIMG_RSA_BYTES], eimg_error *err)
{
	EVP_MD_CTX *mctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t sig[EIMG_RSA_BYTES * 2];
	size_t siglen = sizeof(sig);
	int rc;

	if (!mctx)
		return eimg_err_nomem(err);
	if (EVP_DigestSignInit(mctx, &pctx, EVP_sha256(), NULL, k->pkey) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_DigestSign(mctx, sig, &siglen, msg, len) != 1) {
		rc = eimg_ossl_err(err, EIMG_EINVAL, k->source, "signing failed");
		goto out;
	}
	if (siglen != EIMG_RSA_BYTES) {
		rc = eimg_err(err, EIMG_EINVAL, k->source, "the signature is %zu bytes, expected 384", siglen);
		goto out;
	}
	memcpy(sig_be, sig, EIMG_RSA_BYTES);
	rc = EIMG_OK;
out:
	EVP_MD_CTX_free(mctx);
	return rc;
}
