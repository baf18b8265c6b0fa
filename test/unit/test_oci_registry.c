/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for the registry module without a registry: references,
 * manifests and indexes (hostile ones too), challenges, token answers,
 * credentials files, and the DSSE-signed statement (sign, verify,
 * every way it must be refused). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "core/internal.h"
#include "crypto/crypto.h"
#include "eimg/hash.h"
#include "eimg/oci.h"
#include "eimg/sigstruct.h"
#include "oci/oci_int.h"

static char dir[] = "/tmp/test_oci.XXXXXX";

static const char *path_in(const char *name)
{
	static char buf[4][256];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, name);
	return buf[i];
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_ref_parse(void **state)
{
	(void)state;
	struct eimg_oci_ref r;
	eimg_error err;
	char buf[600];
	const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_int_equal(eimg_oci_ref_parse("oci://127.0.0.1:5000/apps/hello:v1", &r, &err), EIMG_OK);
	assert_string_equal(r.host, "127.0.0.1");
	assert_int_equal(r.port, 5000);
	assert_string_equal(r.repo, "apps/hello");
	assert_string_equal(r.tag, "v1");
	assert_string_equal(r.digest, "");
	assert_string_equal(eimg_oci_ref_format(&r, NULL, buf, sizeof(buf)), "oci://127.0.0.1:5000/apps/hello:v1");
	assert_int_equal(eimg_oci_ref_parse("oci://registry.example.com/a-b/c__d/e.f", &r, &err), EIMG_OK);
	assert_int_equal(r.port, 0);
	assert_string_equal(r.tag, "latest");
	snprintf(buf, sizeof(buf), "oci://[::1]:443/x@%s", d);
	assert_int_equal(eimg_oci_ref_parse(buf, &r, &err), EIMG_OK);
	assert_string_equal(r.host, "[::1]");
	assert_int_equal(r.port, 443);
	assert_string_equal(r.tag, "");
	assert_string_equal(r.digest, d);
	snprintf(buf, sizeof(buf), "oci://h:1/x:t@%s", d);
	assert_int_equal(eimg_oci_ref_parse(buf, &r, &err), EIMG_OK);
	assert_string_equal(r.tag, "t");
	char out[600];
	assert_string_equal(eimg_oci_ref_format(&r, d, out, sizeof(out)), "oci://h:1/x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

	static const char *bad[] = {
		"docker://h/x", "oci://", "oci://h", "oci:///x", "oci://h:/x", "oci://h:0/x", "oci://h:65536/x",
		"oci://h:12a/x", "oci://h/X", "oci://h/x/", "oci://h//x", "oci://h/-x", "oci://h/x-", "oci://h/x..y",
		"oci://h/x___y", "oci://h/x:", "oci://h/x:.t", "oci://h/x@sha256:ABC",
		"oci://h/x@sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"oci://h/x@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
		"oci://h\n/x", "oci://[::1/x", "oci://h/x:t\x01",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eimg_error_clear(&err);
		assert_int_equal(eimg_oci_ref_parse(bad[i], &r, &err), EIMG_EINVAL);
		assert_true(err.msg[0] != '\0');
		assert_null(strchr(err.file, '\n'));
	}
	char longtag[200];
	memset(longtag, 'a', sizeof(longtag));
	memcpy(longtag, "oci://h/x:", 10);
	longtag[10 + 129] = '\0';
	assert_int_equal(eimg_oci_ref_parse(longtag, &r, &err), EIMG_EINVAL);
	longtag[10 + 128] = '\0';
	assert_int_equal(eimg_oci_ref_parse(longtag, &r, &err), EIMG_OK);
}

static void test_loopback_and_digest(void **state)
{
	(void)state;
	assert_true(oci_host_is_loopback("127.0.0.1"));
	assert_true(oci_host_is_loopback("127.255.0.9"));
	assert_true(oci_host_is_loopback("localhost"));
	assert_true(oci_host_is_loopback("[::1]"));
	assert_false(oci_host_is_loopback("128.0.0.1"));
	assert_false(oci_host_is_loopback("127.0.0.1.example.com"));
	assert_false(oci_host_is_loopback("localhost.example.com"));
	assert_false(oci_host_is_loopback("127.0.0.256"));
	assert_true(oci_digest_valid(OCI_EMPTY_DIGEST));
	assert_false(oci_digest_valid("sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8"));
	uint8_t sha[32];
	char d[EIMG_OCI_DIGEST_MAX];
	eimg_sha256("{}", 2, sha);
	oci_digest_format(sha, d);
	assert_string_equal(d, OCI_EMPTY_DIGEST);
}

#define GOOD_LAYER "{\"mediaType\":\"application/vnd.enclaveimg.image.v1.tar\",\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":2}"
#define GOOD_CONFIG "{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":2}"

static int parse(const char *json, struct oci_manifest **m, eimg_error *err)
{
	return eimg_oci_manifest_parse("test", (const uint8_t *)json, strlen(json), m, err);
}

static void test_manifest_parse(void **state)
{
	(void)state;
	struct oci_manifest *m = NULL;
	eimg_error err;
	assert_int_equal(parse("{\"schemaVersion\":2,\"mediaType\":\"" OCI_MANIFEST_TYPE "\",\"artifactType\":\"a/b\","
			       "\"config\":" GOOD_CONFIG ",\"layers\":[" GOOD_LAYER "],\"subject\":" GOOD_CONFIG "}",
			       &m, &err), EIMG_OK);
	assert_false(m->is_index);
	assert_string_equal(m->artifact_type, "a/b");
	assert_int_equal(m->ndescs, 1);
	assert_int_equal(m->descs[0].size, 2);
	assert_true(m->has_subject);
	eimg_oci_manifest_free(m);
	assert_int_equal(parse("{\"schemaVersion\":2,\"manifests\":[]}", &m, &err), EIMG_OK);
	assert_true(m->is_index);
	assert_int_equal(m->ndescs, 0);
	eimg_oci_manifest_free(m);
	eimg_oci_manifest_free(NULL);

	static const char *bad[] = {
		"", "[]", "nul", "{\"schemaVersion\":1,\"config\":" GOOD_CONFIG ",\"layers\":[]}",
		"{\"schemaVersion\":2}", "{\"schemaVersion\":2,\"config\":" GOOD_CONFIG "}",
		"{\"schemaVersion\":2,\"config\":" GOOD_CONFIG ",\"layers\":{}}",
		"{\"schemaVersion\":2,\"config\":" GOOD_CONFIG ",\"layers\":[1]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"sha256:00\",\"size\":2},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":-1},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"x\",\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":\"2\"},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":2},\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a\\u0000b\",\"digest\":\"" OCI_EMPTY_DIGEST "\",\"size\":2},\"layers\":[]}",
		"{\"schemaVersion\":2,\"schemaVersion\":2,\"manifests\":[]}",
		"{\"schemaVersion\":2,\"manifests\":[],\"layers\":[]}",
		"{\"schemaVersion\":2,\"config\":" GOOD_CONFIG ",\"layers\":[],\"subject\":7}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = NULL;
		assert_int_equal(parse(bad[i], &m, &err), EIMG_EINVAL);
		assert_null(m);
	}
	/* Limits: descriptors and bytes. */
	struct eimg_sb b = {0};
	eimg_sb_printf(&b, "{\"schemaVersion\":2,\"config\":%s,\"layers\":[", GOOD_CONFIG);
	for (int i = 0; i <= EIMG_OCI_MAX_DESCRIPTORS; i++)
		eimg_sb_printf(&b, "%s%s", i ? "," : "", GOOD_LAYER);
	eimg_sb_printf(&b, "]}");
	char *s = eimg_sb_done(&b);
	assert_int_equal(parse(s, &m, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "above the limit"));
	free(s);
	uint8_t *big = calloc(1, EIMG_OCI_MAX_MANIFEST + 1);
	assert_int_equal(eimg_oci_manifest_parse("test", big, EIMG_OCI_MAX_MANIFEST + 1, &m, &err), EIMG_EINVAL);
	free(big);
}

static void test_manifest_build_and_index(void **state)
{
	(void)state;
	struct oci_desc l[2];
	struct oci_manifest *m = NULL;
	char *a = NULL, *b = NULL, *idx = NULL, *idx2 = NULL;
	size_t alen, blen, ilen, i2len;
	eimg_error err;
	memset(l, 0, sizeof(l));
	strcpy(l[0].media_type, EIMG_OCI_IMAGE_LAYER);
	strcpy(l[0].digest, OCI_EMPTY_DIGEST);
	l[0].size = 2;
	l[0].title = "x.eimg";
	l[1] = l[0];
	strcpy(l[1].media_type, EIMG_OCI_EIF_LAYER);
	assert_int_equal(oci_manifest_build(EIMG_OCI_ARTIFACT_TYPE, l, 2, NULL, "k", "v", &a, &alen, &err), EIMG_OK);
	assert_int_equal(oci_manifest_build(EIMG_OCI_ARTIFACT_TYPE, l, 2, NULL, "k", "v", &b, &blen, &err), EIMG_OK);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen); /* deterministic */
	assert_int_equal(eimg_oci_manifest_parse("built", (uint8_t *)a, alen, &m, &err), EIMG_OK);
	assert_string_equal(m->artifact_type, EIMG_OCI_ARTIFACT_TYPE);
	assert_string_equal(m->config.digest, OCI_EMPTY_DIGEST);
	assert_int_equal(m->ndescs, 2);
	assert_string_equal(m->descs[1].media_type, EIMG_OCI_EIF_LAYER);
	assert_non_null(strstr(a, "\"org.opencontainers.image.title\":\"x.eimg\""));
	eimg_oci_manifest_free(m);
	strcpy(l[0].artifact_type, EIMG_OCI_STATEMENT_TYPE);
	assert_int_equal(oci_index_add(NULL, 0, &l[0], &idx, &ilen, &err), EIMG_OK);
	assert_int_equal(oci_index_add((uint8_t *)idx, ilen, &l[0], &idx2, &i2len, &err), EIMG_OK);
	assert_int_equal(ilen, i2len); /* already listed: unchanged */
	assert_int_equal(eimg_oci_manifest_parse("index", (uint8_t *)idx2, i2len, &m, &err), EIMG_OK);
	assert_true(m->is_index);
	assert_int_equal(m->ndescs, 1);
	assert_string_equal(m->descs[0].artifact_type, EIMG_OCI_STATEMENT_TYPE);
	eimg_oci_manifest_free(m);
	free(idx2);
	assert_int_equal(oci_index_add((uint8_t *)"[1]", 3, &l[0], &idx2, &i2len, &err), EIMG_EINVAL);
	free(a);
	free(b);
	free(idx);
}

static void test_challenge_token_errors(void **state)
{
	(void)state;
	struct oci_challenge c;
	char *tok = NULL, line[200];
	assert_int_equal(oci_challenge_parse("Bearer realm=\"https://auth.example/token\",service=\"reg\","
					     "scope=\"repository:a/b:pull,push\"", &c), 0);
	assert_string_equal(c.scheme, "Bearer");
	assert_string_equal(c.realm, "https://auth.example/token");
	assert_string_equal(c.service, "reg");
	assert_string_equal(c.scope, "repository:a/b:pull,push");
	assert_int_equal(oci_challenge_parse("Basic realm=x", &c), 0);
	assert_string_equal(c.realm, "x");
	assert_int_equal(oci_challenge_parse("Bearer realm=\"unterminated", &c), -1);
	assert_int_equal(oci_challenge_parse("", &c), -1);
	assert_int_equal(oci_challenge_parse("Bearer =x", &c), -1);
	assert_int_equal(oci_token_parse((uint8_t *)"{\"token\":\"abc\"}", 15, &tok), 0);
	assert_string_equal(tok, "abc");
	free(tok);
	const char *t2 = "{\"access_token\":\"xyz\"}";
	assert_int_equal(oci_token_parse((const uint8_t *)t2, strlen(t2), &tok), 0);
	assert_string_equal(tok, "xyz");
	free(tok);
	const char *t3 = "{\"token\":\"a\\r\\nX-Evil: 1\"}";
	assert_int_equal(oci_token_parse((const uint8_t *)t3, strlen(t3), &tok), -1);
	assert_int_equal(oci_token_parse((const uint8_t *)"{}", 2, &tok), -1);
	const char *e = "{\"errors\":[{\"code\":\"NAME_UNKNOWN\",\"message\":\"repository\\nname not known\"}]}";
	oci_error_body((const uint8_t *)e, strlen(e), line, sizeof(line));
	assert_string_equal(line, "NAME_UNKNOWN: repository\\x0aname not known");
	oci_error_body((const uint8_t *)"<html>", 6, line, sizeof(line));
	assert_string_equal(line, "");
}

static void test_auth_lookup(void **state)
{
	(void)state;
	eimg_error err;
	char *creds = NULL;
	/* "alice:s3cret" */
	write_text(path_in("auth.json"), "{\"auths\":{\"https://reg.example:5000/v1/\":{\"auth\":\"YWxpY2U6czNjcmV0\"},"
					 "\"other.example\":{\"username\":\"bob\",\"password\":\"pw\"}}}");
	assert_int_equal(oci_auth_lookup(path_in("auth.json"), "reg.example:5000", &creds, &err), EIMG_OK);
	assert_string_equal(creds, "alice:s3cret");
	free(creds);
	assert_int_equal(oci_auth_lookup(path_in("auth.json"), "other.example", &creds, &err), EIMG_OK);
	assert_string_equal(creds, "bob:pw");
	free(creds);
	assert_int_equal(oci_auth_lookup(path_in("auth.json"), "reg.example", &creds, &err), EIMG_OK);
	assert_null(creds);
	setenv("REGISTRY_AUTH_FILE", path_in("auth.json"), 1);
	assert_int_equal(oci_auth_lookup(NULL, "other.example", &creds, &err), EIMG_OK);
	assert_string_equal(creds, "bob:pw");
	free(creds);
	write_text(path_in("bad64.json"), "{\"auths\":{\"h\":{\"auth\":\"not base64!\"}}}");
	assert_int_equal(oci_auth_lookup(path_in("bad64.json"), "h", &creds, &err), EIMG_EINVAL);
	write_text(path_in("nocolon.json"), "{\"auths\":{\"h\":{\"auth\":\"YWxpY2U=\"}}}");
	assert_int_equal(oci_auth_lookup(path_in("nocolon.json"), "h", &creds, &err), EIMG_EINVAL);
	write_text(path_in("broken.json"), "{\"auths\":");
	assert_int_equal(oci_auth_lookup(path_in("broken.json"), "h", &creds, &err), EIMG_EINVAL);
	assert_int_equal(oci_auth_lookup(path_in("missing.json"), "h", &creds, &err), EIMG_EIO);
	setenv("REGISTRY_AUTH_FILE", path_in("missing.json"), 1);
	assert_int_equal(oci_auth_lookup(NULL, "h", &creds, &err), EIMG_OK); /* no file: anonymous */
	assert_null(creds);
	unsetenv("REGISTRY_AUTH_FILE");
}

static int keys_ready;

static int setup_keys(void **state)
{
	(void)state;
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && openssl ecparam -name secp384r1 -genkey -noout -out ec.pem 2>/dev/null && "
		 "openssl pkey -in ec.pem -pubout -out ec.pub && "
		 "openssl ecparam -name prime256v1 -genkey -noout -out other.pem 2>/dev/null && "
		 "openssl pkey -in other.pem -pubout -out other.pub && "
		 "openssl genrsa -3 -out rsa.pem 3072 2>/dev/null && openssl pkey -in rsa.pem -pubout -out rsa.pub", dir);
	keys_ready = system(cmd) == 0;
	return 0;
}

static json_t *predicate(void)
{
	return json_pack("{s:s, s:s, s:b, s:s}", "target", "sgx", "mode", "simulation", "debug", 0, "mrenclave",
			 "a9714796952f9438b0e05959082f91bfe4898b6dfb74bab3d69a7f297216ee6a");
}

static void sign_and_verify(const char *key, const char *pub)
{
	struct eimg_key_source ks = {.path = key};
	eimg_error err;
	char *env = NULL;
	size_t len = 0;
	json_t *p = predicate();
	const char *d = OCI_EMPTY_DIGEST;
	assert_int_equal(oci_statement_sign("apps/x", d, p, &ks, &env, &len, &err), EIMG_OK);
	assert_int_equal(oci_statement_verify("s", (uint8_t *)env, len, pub, d, p, &err), EIMG_OK);
	/* another key, another subject */
	assert_int_equal(oci_statement_verify("s", (uint8_t *)env, len, path_in("other.pub"), d, p, &err), EIMG_EVERIFY);
	assert_int_equal(oci_statement_verify("s", (uint8_t *)env, len, pub,
					      "sha256:0000000000000000000000000000000000000000000000000000000000000000", p,
					      &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "subject"));
	/* a predicate value that differs, one missing, one extra */
	json_t *q = predicate();
	json_object_set_new(q, "mrenclave", json_string("00"));
	assert_int_equal(oci_statement_verify("s", (uint8_t *)env, len, pub, d, q, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "mrenclave differs"));
	json_object_set_new(q, "mrenclave", json_string("a9714796952f9438b0e05959082f91bfe4898b6dfb74bab3d69a7f297216ee6a"));
	json_object_set_new(q, "mrsigner", json_string("00"));
	assert_int_equal(oci_statement_verify("s", (uint8_t *)env, len, pub, d, q, &err), EIMG_EVERIFY);
	json_object_del(q, "mrsigner");
	json_object_del(q, "debug");
	assert_int_equal(oci_statement_verify("s", (uint8_t *)env, len, pub, d, q, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "debug"));
	json_decref(q);
	/* the payload altered: re-encoded with another predicate, old signature kept */
	json_t *e = json_loadb(env, len, 0, NULL);
	uint8_t *payload = NULL;
	size_t plen = 0;
	const char *p64 = json_string_value(json_object_get(e, "payload"));
	assert_int_equal(eimg_base64_decode(p64, strlen(p64), false, 1 << 20, &payload, &plen), 0);
	char *hit = strstr((char *)payload, "simulation");
	assert_non_null(hit);
	memcpy(hit, "hardware  ", 10);
	char *np64 = eimg_base64_encode(payload, plen);
	json_object_set_new(e, "payload", json_string(np64));
	char *forged = json_dumps(e, 0);
	assert_int_equal(oci_statement_verify("s", (uint8_t *)forged, strlen(forged), pub, d, p, &err), EIMG_EVERIFY);
	/* not an envelope at all */
	assert_int_equal(oci_statement_verify("s", (const uint8_t *)"{}", 2, pub, d, p, &err), EIMG_EVERIFY);
	assert_int_equal(oci_statement_verify("s", (const uint8_t *)"[", 1, pub, d, p, &err), EIMG_EVERIFY);
	free(forged);
	free(np64);
	free(payload);
	json_decref(e);
	json_decref(p);
	free(env);
}

static void test_statement(void **state)
{
	(void)state;
	if (!keys_ready)
		skip();
	sign_and_verify(path_in("ec.pem"), path_in("ec.pub"));
	sign_and_verify(path_in("rsa.pem"), path_in("rsa.pub"));
	eimg_error err;
	assert_int_equal(eimg_pubkey_verify_file(path_in("auth.json"), (const uint8_t *)"m", 1, (const uint8_t *)"s", 1,
						 &err), EIMG_EINVAL);
}

static int cleanup(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref_parse),
		cmocka_unit_test(test_loopback_and_digest),
		cmocka_unit_test(test_manifest_parse),
		cmocka_unit_test(test_manifest_build_and_index),
		cmocka_unit_test(test_challenge_token_errors),
		cmocka_unit_test(test_auth_lookup),
		cmocka_unit_test(test_statement),
	};
	return cmocka_run_group_tests(tests, setup_keys, cleanup);
}
