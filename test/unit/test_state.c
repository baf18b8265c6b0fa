/* SPDX-License-Identifier: Apache-2.0 */
/* The host services of enclave-run --state (run/state.c): the simulated
 * sealing keys follow EGETKEY's rules (MRENCLAVE policy: another enclave
 * gets another key; MRSIGNER policy: the same signer and product id get
 * the same key, never a later version's), the state file round trip, and a
 * crash in the middle of replacing the file loses nothing committed.
 * LINK-WRAP: -Wl,--wrap=rename
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/enclave_abi.h"
#include "run/state_int.h"

int __wrap_rename(const char *a, const char *b);
int __real_rename(const char *a, const char *b);
static int crash_on_rename;

/* The process dies between writing the new file and renaming it. */
int __wrap_rename(const char *a, const char *b)
{
	if (crash_on_rename)
		_exit(9);
	return __real_rename(a, b);
}

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/eimg-state-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static struct eimg_identity ident(uint8_t mre, uint8_t mrs, uint16_t prod, uint16_t svn)
{
	struct eimg_identity id = { 0 };
	memset(id.mrenclave, mre, 32);
	memset(id.mrsigner, mrs, 32);
	id.isvprodid = prod;
	id.isvsvn = svn;
	return id;
}

/* The key for (policy, svn) with keyid 0x42..; returns the ocall result. */
static uint64_t key_of(struct eimg_state *s, int policy, uint16_t svn, uint8_t key[18])
{
	uint8_t buf[64] = { 0 };
	buf[0] = (uint8_t)policy;
	buf[2] = (uint8_t)svn;
	buf[3] = (uint8_t)(svn >> 8);
	memset(buf + 8, 0x42, 32);
	uint64_t r = eimg_state_ocall(s, EIMG_OCALL_SEAL_KEY, buf, 40, sizeof buf);
	memcpy(key, buf, 18);
	return r;
}

static struct eimg_state *open_as(struct eimg_identity id)
{
	struct eimg_state *s = NULL;
	eimg_error err;
	assert_int_equal(eimg_state_open(dir, &id, &s, &err), EIMG_OK);
	return s;
}

static void test_keys(void **state)
{
	uint8_t a[18], b[18];
	struct stat st;
	char path[128];
	(void)state;
	struct eimg_state *v1 = open_as(ident(1, 9, 7, 1)), *other = open_as(ident(2, 9, 7, 1));
	struct eimg_state *v2 = open_as(ident(3, 9, 7, 2)), *prod = open_as(ident(1, 9, 8, 1));
	snprintf(path, sizeof path, "%s/%s", dir, EIMG_STATE_SECRET);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 32);
	/* own version: 0xffff answers with the ISVSVN used */
	assert_int_equal(key_of(v1, EIMG_SEAL_MRENCLAVE, 0xffff, a), 18);
	assert_int_equal(a[16], 1);
	/* MRENCLAVE: another enclave (same signer) gets another key */
	assert_int_equal(key_of(other, EIMG_SEAL_MRENCLAVE, 1, b), 18);
	assert_memory_not_equal(a, b, 16);
	/* MRSIGNER: the same signer and product get the same key ... */
	assert_int_equal(key_of(v1, EIMG_SEAL_MRSIGNER, 1, a), 18);
	assert_int_equal(key_of(other, EIMG_SEAL_MRSIGNER, 1, b), 18);
	assert_memory_equal(a, b, 16);
	/* ... a later version too, for the earlier ISVSVN ... */
	assert_int_equal(key_of(v2, EIMG_SEAL_MRSIGNER, 1, b), 18);
	assert_memory_equal(a, b, 16);
	/* ... but not another product, and never a later version's key */
	assert_int_equal(key_of(prod, EIMG_SEAL_MRSIGNER, 1, b), 18);
	assert_memory_not_equal(a, b, 16);
	assert_int_equal(key_of(v1, EIMG_SEAL_MRSIGNER, 2, b), EIMG_OCALL_EDENIED);
	/* the policy and the ISVSVN are part of the key */
	assert_int_equal(key_of(v1, EIMG_SEAL_MRENCLAVE, 1, b), 18);
	assert_memory_not_equal(a, b, 16);
	assert_int_equal(key_of(v2, EIMG_SEAL_MRSIGNER, 2, b), 18);
	assert_memory_not_equal(a, b, 16);
	/* malformed requests */
	uint8_t bad[40] = { 3 };
	assert_int_equal(eimg_state_ocall(v1, EIMG_OCALL_SEAL_KEY, bad, 40, 40), EIMG_OCALL_EBADREQ);
	assert_int_equal(eimg_state_ocall(v1, EIMG_OCALL_SEAL_KEY, bad, 39, 40), EIMG_OCALL_EBADREQ);
	assert_int_equal(eimg_state_ocall(NULL, EIMG_OCALL_SEAL_KEY, bad, 40, 40), EIMG_OCALL_ENOSTATE);
	eimg_state_close(v1);
	eimg_state_close(other);
	eimg_state_close(v2);
	eimg_state_close(prod);
	/* the secret persists: a restart gets the same keys */
	struct eimg_state *again = open_as(ident(1, 9, 7, 1));
	assert_int_equal(key_of(again, EIMG_SEAL_MRSIGNER, 1, b), 18);
	assert_memory_equal(a, b, 16);
	eimg_state_close(again);
}

static uint64_t put(struct eimg_state *s, const char *text)
{
	uint8_t buf[256];
	memcpy(buf, text, strlen(text));
	return eimg_state_ocall(s, EIMG_OCALL_STATE_WRITE, buf, strlen(text), sizeof buf);
}

static void expect_file(struct eimg_state *s, const char *text)
{
	uint8_t buf[256];
	uint64_t r = eimg_state_ocall(s, EIMG_OCALL_STATE_READ, buf, 0, sizeof buf);
	assert_int_equal(r, strlen(text));
	assert_memory_equal(buf, text, strlen(text));
}

static void test_file(void **state)
{
	uint8_t small[4];
	(void)state;
	struct eimg_state *s = open_as(ident(1, 9, 7, 1));
	char path[128];
	snprintf(path, sizeof path, "%s/%s", dir, EIMG_STATE_FILE);
	unlink(path);
	assert_int_equal(eimg_state_ocall(s, EIMG_OCALL_STATE_READ, small, 0, sizeof small), EIMG_OCALL_ENOENT);
	assert_int_equal(put(s, "first commit"), 0);
	expect_file(s, "first commit");
	assert_int_equal(eimg_state_ocall(s, EIMG_OCALL_STATE_READ, small, 0, sizeof small), EIMG_OCALL_ETOOBIG);
	assert_int_equal(eimg_state_ocall(NULL, EIMG_OCALL_STATE_READ, small, 0, sizeof small), EIMG_OCALL_ENOSTATE);
	assert_int_equal(eimg_state_ocall(s, 99, small, 0, sizeof small), EIMG_OCALL_EBADREQ);

	/* a crash after the new bytes are written, before they replace the file */
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		crash_on_rename = 1;
		put(s, "second commit, never finished");
		_exit(0);
	}
	int ws;
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 9);
	expect_file(s, "first commit");   /* nothing committed is lost */
	assert_int_equal(put(s, "third commit"), 0);
	expect_file(s, "third commit");
	eimg_state_close(s);
}

static void test_not_a_folder(void **state)
{
	struct eimg_state *s = NULL;
	struct eimg_identity id = ident(1, 1, 1, 1);
	eimg_error err;
	char path[128];
	(void)state;
	snprintf(path, sizeof path, "%s/%s", dir, EIMG_STATE_SECRET);
	assert_int_equal(eimg_state_open(path, &id, &s, &err), EIMG_EINVAL);
	assert_null(s);
	assert_non_null(strstr(err.msg, "not a folder"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_file),
		cmocka_unit_test(test_not_a_folder),
	};
	return cmocka_run_group_tests_name("state", tests, setup, teardown);
}
