/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave's attestation key: a program publishes its public key from
 * enclave_init (enclave_set_attestation_key), the host asks for it once with
 * EIMG_ECALL_INIT (eimg_sim_init) and binds it into the attestation document.
 * Uses test/enclaves/attkey (built here with make) and examples/hello (no
 * key; skipped when not built). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/attest.h"
#include "eimg/image.h"
#include "eimg/measure.h"
#include "eimg/sim.h"
#include "eimg/enclave_abi.h"
#include "core/internal.h"

static char bd[256];

struct loaded {
	eimg_image *img;
	eimg_sgx_image *s;
	eimg_sim_enclave *e;
};

/* Builds and loads the enclave whose manifest is path; false if absent. */
static bool load(const char *path, struct loaded *L)
{
	eimg_error err;
	struct eimg_build_result br;
	memset(L, 0, sizeof(*L));
	if (access(path, R_OK) != 0)
		return false;
	struct eimg_build_options bo = { .manifest_path = path, .mtime = 0 };
	if (eimg_build(&bo, &L->img, &br, &err) || eimg_sgx_image_open(L->img, path, &L->s, &err) ||
	    eimg_sim_load(L->s->layout, L->s->m.mrenclave, &L->e, &err))
		fail_msg("%s: %s", path, err.msg);
	return true;
}

static void unload(struct loaded *L)
{
	eimg_sim_unload(L->e);
	eimg_sgx_image_free(L->s);
	eimg_image_free(L->img);
}

struct logs {
	int n;
	char last[256];
};

static void on_log(void *ctx, const char *text, size_t len)
{
	struct logs *l = ctx;
	l->n++;
	snprintf(l->last, sizeof(l->last), "%.*s", (int)len, text);
}

static int group_setup(void **state)
{
	char cmd[1024];
	(void)state;
	const char *b = getenv("BUILDDIR");
	char cwd[512];
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(bd, sizeof(bd), "%s/%s", cwd, b ? b : "build");
	snprintf(cmd, sizeof(cmd),
		 "make -s -C test/enclaves/attkey BUILDDIR='%s/test/enclaves/attkey' RT_BUILD='%s/runtime' >/dev/null", bd,
		 bd);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_published_key(void **state)
{
	(void)state;
	char path[512];
	struct loaded L;
	uint8_t *want = NULL, key[256], out[128];
	size_t want_len = 0, key_len = 99;
	struct eimg_sim_result res;
	struct logs logs = { 0, "" };
	eimg_error err;

	snprintf(path, sizeof(path), "%s/test/enclaves/attkey/enclave.yaml", bd);
	assert_true(load(path, &L));
	snprintf(path, sizeof(path), "%s/test/enclaves/attkey/test-key.der", bd);
	assert_int_equal(eimg_read_file(path, 4096, &want, &want_len, &err), EIMG_OK);

	/* the key, exactly the bytes the program published; enclave_init ran
	 * in this first INIT and could log */
	assert_int_equal(eimg_sim_init(L.e, key, sizeof(key), &key_len, on_log, &logs, &res, &err), EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_OK);
	assert_int_equal(key_len, want_len);
	assert_memory_equal(key, want, want_len);
	assert_int_equal(logs.n, 1);
	assert_string_equal(logs.last, "attkey: published a 91-byte test key");
	/* a buffer too small: ETOOBIG with the length, nothing copied; init does not run again */
	assert_int_equal(eimg_sim_init(L.e, key, 10, &key_len, on_log, &logs, &res, &err), EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_ETOOBIG);
	assert_int_equal(res.detail, want_len);
	assert_int_equal(key_len, 0);
	assert_int_equal(logs.n, 1);
	/* once only, and only from enclave_init */
	assert_int_equal(eimg_sim_call(L.e, 0, (const uint8_t *)"x", 1, out, sizeof(out), on_log, &logs, &res, &err),
			 EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_OK);
	assert_memory_equal(out, "first=0 second=-1 later=-1", res.detail);
	assert_int_equal(res.detail, strlen("first=0 second=-1 later=-1"));
	/* still the same key after messages */
	assert_int_equal(eimg_sim_init(L.e, key, sizeof(key), &key_len, NULL, NULL, &res, &err), EIMG_OK);
	assert_int_equal(key_len, want_len);

	/* the document binds it: the checker returns the same key */
	struct eimg_identity id;
	struct eimg_attest_result ar;
	char doc_path[600];
	uint8_t *doc = NULL;
	size_t doc_len = 0;
	memset(&id, 0, sizeof(id));
	id.has_sgx = true;
	id.mode = EIMG_ID_SIMULATION;
	memcpy(id.mrenclave, L.s->m.mrenclave, 32);
	snprintf(doc_path, sizeof(doc_path), "%s/test/enclaves/attkey/att.json", bd);
	assert_int_equal(eimg_attest_write_simulation(doc_path, &id, key, key_len, 1795407042u, &err), EIMG_OK);
	assert_int_equal(eimg_read_file(doc_path, EIMG_ATTEST_MAX_DOC, &doc, &doc_len, &err), EIMG_OK);
	struct eimg_check_time at = { .at = EIMG_AT_TIME, .time = 1795407042u };
	assert_int_equal(eimg_attestation_check("att.json", (const char *)doc, doc_len, NULL, &at, NULL, &ar,
						NULL, 0, NULL, &err),
			 EIMG_OK);
	assert_int_equal(ar.public_key_len, want_len);
	assert_memory_equal(ar.public_key, want, want_len);
	eimg_attest_result_clear(&ar);
	unlink(doc_path);
	free(doc);
	free(want);
	unload(&L);
}

static void test_no_key(void **state)
{
	(void)state;
	char path[512];
	struct loaded L;
	uint8_t key[64], out[128];
	size_t key_len = 99;
	struct eimg_sim_result res;
	struct logs logs = { 0, "" };
	eimg_error err;

	snprintf(path, sizeof(path), "%s/examples/hello/enclave.yaml", bd);
	if (!load(path, &L)) {
		print_message("skipped: %s not built (make examples)\n", path);
		skip();
	}
	assert_int_equal(eimg_sim_init(L.e, key, sizeof(key), &key_len, on_log, &logs, &res, &err), EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_OK);
	assert_int_equal(key_len, 0);
	assert_int_equal(logs.n, 1); /* hello's enclave_init logged from INIT */
	assert_int_equal(eimg_sim_call(L.e, 0, (const uint8_t *)"k", 1, out, sizeof(out), on_log, &logs, &res, &err),
			 EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_OK);
	assert_memory_equal(out, "Hello from inside the enclave, k!", res.detail);
	assert_int_equal(logs.n, 1); /* enclave_init did not run again */
	unload(&L);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_key),
		cmocka_unit_test(test_no_key),
	};
	return cmocka_run_group_tests(tests, group_setup, NULL);
}
