/* SPDX-License-Identifier: Apache-2.0 */
/* X.509 signing certificates for Nitro EIFs (OpenSSL): parsing, DER/PEM,
 * names, validity, ECDSA verification with the certificate's key. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "eimg/hash.h"
#include "core/internal.h"
#include "crypto/crypto.h"
#include "crypto/ossl_int.h"

#define MAX_CERT_FILE (64u << 10)

struct eimg_x509 {
	X509 *x;
};

static const char BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char END[] = "-----END CERTIFICATE-----";

static bool is_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const uint8_t *find(const uint8_t *h, size_t hl, const char *n)
{
	size_t nl = strlen(n);
	for (size_t i = 0; i + nl <= hl; i++)
		if (memcmp(h + i, n, nl) == 0)
			return h + i;
	return NULL;
}

int eimg_x509_parse_pem(const char *source, const uint8_t *pem, size_t len, eimg_x509 **out, eimg_error *err)
{
	size_t a = 0, b = len;
	while (a < b && is_space(pem[a]))
		a++;
	while (b > a && is_space(pem[b - 1]))
		b--;
	size_t bl = strlen(BEGIN), el = strlen(END);
	if (b - a < bl + el || memcmp(pem + a, BEGIN, bl) != 0 || memcmp(pem + b - el, END, el) != 0 ||
	    find(pem + a + 1, b - a - 1, BEGIN) || find(pem + a, b - a - el, END) || len > (size_t)INT32_MAX)
		return eimg_err(err, EIMG_EINVAL, source, "expected exactly one PEM certificate");
	BIO *bio = BIO_new_mem_buf(pem + a, (int)(b - a));
	if (!bio)
		return eimg_err_nomem(err);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (!x)
		return eimg_err(err, EIMG_EINVAL, source, "not a valid PEM X.509 certificate");
	eimg_x509 *r = malloc(sizeof(*r));
	if (!r) {
		X509_free(x);
		return eimg_err_nomem(err);
	}
	r->x = x;
	*out = r;
	return EIMG_OK;
}

int eimg_x509_load_file(const char *path, eimg_x509 **out, eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc = eimg_read_file(path, MAX_CERT_FILE, &buf, &len, err);
	if (rc)
		return rc;
	size_t a = 0;
	while (a < len && is_space(buf[a]))
		a++;
	if (len - a >= 5 && memcmp(buf + a, "-----", 5) == 0) {
		rc = eimg_x509_parse_pem(path, buf, len, out, err);
	} else {
		const unsigned char *p = buf;
		X509 *x = d2i_X509(NULL, &p, (long)len);
		ERR_clear_error();
		if (!x || p != buf + len) {
			X509_free(x);
			rc = eimg_err(err, EIMG_EINVAL, path, "not a PEM or DER X.509 certificate");
		} else if (!(*out = malloc(sizeof(**out)))) {
			X509_free(x);
			rc = eimg_err_nomem(err);
		} else {
			(*out)->x = x;
		}
	}
	free(buf);
	return rc;
}

void eimg_x509_free(eimg_x509 *x)
{
	if (!x)
		return;
	X509_free(x->x);
	free(x);
}

int eimg_x509_der(const eimg_x509 *x, uint8_t **der, size_t *len, eimg_error *err)
{
	unsigned char *b = NULL;
	int n = i2d_X509(x->x, &b);
	if (n <= 0)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "cannot encode the certificate");
	return eimg_ossl_take(b, n, der, len, err);
}

int eimg_x509_pem(const eimg_x509 *x, uint8_t **pem, size_t *len, eimg_error *err)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	int rc = EIMG_OK;
	if (!bio)
		return eimg_err_nomem(err);
	if (PEM_write_bio_X509(bio, x->x) != 1) {
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "cannot encode the certificate");
		goto out;
	}
	long n = BIO_get_mem_data(bio, &p);
	uint8_t *c = malloc((size_t)n + 1);
	if (!c) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	memcpy(c, p, (size_t)n);
	c[n] = '\0';
	*pem = c;
	*len = (size_t)n;
out:
	BIO_free(bio);
	return rc;
}

int eimg_x509_pubkey_der(const eimg_x509 *x, uint8_t **der, size_t *len, eimg_error *err)
{
	unsigned char *b = NULL;
	EVP_PKEY *pk = X509_get0_pubkey(x->x);
	int n = pk ? i2d_PUBKEY(pk, &b) : -1;
	ERR_clear_error();
	if (n <= 0)
		return eimg_err(err, EIMG_EINVAL, NULL, "certificate: unreadable public key");
	return eimg_ossl_take(b, n, der, len, err);
}

static void name_line(const X509_NAME *n, char *out, size_t size)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p = NULL;
	out[0] = '\0';
	if (!bio)
		return;
	if (X509_NAME_print_ex(bio, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		long k = BIO_get_mem_data(bio, &p);
		eimg_escape(p, (size_t)k, out, size);
	}
	BIO_free(bio);
}

static int asn1_time(const ASN1_TIME *t, int64_t *out)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

int eimg_x509_info(const eimg_x509 *x, struct eimg_x509_info *out, eimg_error *err)
{
	struct eimg_x509_info r;
	memset(&r, 0, sizeof(r));
	name_line(X509_get_issuer_name(x->x), r.issuer, sizeof(r.issuer));
	name_line(X509_get_subject_name(x->x), r.subject, sizeof(r.subject));
	int nid = X509_get_signature_nid(x->x);
	const char *ln = nid != NID_undef ? OBJ_nid2ln(nid) : NULL;
	snprintf(r.sig_alg, sizeof(r.sig_alg), "%s", ln ? ln : "unknown");
	EVP_PKEY *pk = X509_get0_pubkey(x->x);
	if (!pk) {
		ERR_clear_error();
		return eimg_err(err, EIMG_EINVAL, NULL, "certificate: unreadable public key");
	}
	if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC) {
		char g[64] = "";
		size_t gl = 0;
		EVP_PKEY_get_group_name(pk, g, sizeof(g), &gl);
		int bits = strcmp(g, "prime256v1") == 0 ? 256 : strcmp(g, "secp384r1") == 0 ? 384
						       : strcmp(g, "secp521r1") == 0 ? 521 : 0;
		r.key_bits = bits;
		if (bits)
			snprintf(r.key_alg, sizeof(r.key_alg), "EC P-%d", bits);
		else
			snprintf(r.key_alg, sizeof(r.key_alg), "EC %.20s", g);
	} else {
		int id = EVP_PKEY_get_base_id(pk);
		const char *sn = id == EVP_PKEY_RSA ? "RSA" : OBJ_nid2sn(id);
		snprintf(r.key_alg, sizeof(r.key_alg), "%.16s %d", sn ? sn : "unknown", EVP_PKEY_get_bits(pk));
	}
	if (asn1_time(X509_get0_notBefore(x->x), &r.not_before) || asn1_time(X509_get0_notAfter(x->x), &r.not_after)) {
		ERR_clear_error();
		return eimg_err(err, EIMG_EINVAL, NULL, "certificate: unreadable validity period");
	}
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x->x), NULL);
	char *hx = bn ? BN_bn2hex(bn) : NULL;
	snprintf(r.serial, sizeof(r.serial), "%s", hx ? hx : "?");
	OPENSSL_free(hx);
	BN_free(bn);
	ERR_clear_error();
	*out = r;
	return EIMG_OK;
}

void *eimg_x509_name_json(const eimg_x509 *x, bool issuer)
{
	const X509_NAME *n = issuer ? X509_get_issuer_name(x->x) : X509_get_subject_name(x->x);
	json_t *o = json_object();
	if (!o)
		return NULL;
	for (int i = 0; i < X509_NAME_entry_count(n); i++) {
		const X509_NAME_ENTRY *e = X509_NAME_get_entry(n, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		char key[80], val[512];
		unsigned char *u = NULL;
		if (nid != NID_undef && OBJ_nid2ln(nid))
			snprintf(key, sizeof(key), "%s", OBJ_nid2ln(nid));
		else
			OBJ_obj2txt(key, sizeof(key), X509_NAME_ENTRY_get_object(e), 1);
		int ul = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(e));
		if (ul < 0) {
			ERR_clear_error();
			continue;
		}
		eimg_escape((const char *)u, (size_t)ul, val, sizeof(val));
		OPENSSL_free(u);
		const char *old = json_string_value(json_object_get(o, key));
		if (old) {
			char both[1100];
			snprintf(both, sizeof(both), "%s, %s", old, val);
			json_object_set_new(o, key, json_string(both));
		} else {
			json_object_set_new(o, key, json_string(val));
		}
	}
	return o;
}

static const EVP_MD *md_of(int hash)
{
	return hash == EIMG_SHA256 ? EVP_sha256() : hash == EIMG_SHA384 ? EVP_sha384() : hash == EIMG_SHA512 ? EVP_sha512() : NULL;
}

int eimg_x509_verify_rs(const eimg_x509 *x, int hash, const uint8_t *msg, size_t msglen,
			const uint8_t *rs, size_t rslen, eimg_error *err)
{
	EVP_PKEY *pk = X509_get0_pubkey(x->x);

	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC || !md_of(hash) || rslen == 0 || rslen % 2 ||
	    rslen != 2 * (size_t)((EVP_PKEY_get_bits(pk) + 7) / 8)) {
		ERR_clear_error();
		return eimg_err(err, EIMG_EVERIFY, NULL, "the certificate's key cannot check this signature");
	}
	return eimg_ossl_verify_rs(pk, md_of(hash), NULL, msg, msglen, rs, rslen,
				   "the signature does not verify with the certificate's key", err);
}
