/* SPDX-License-Identifier: Apache-2.0 */
/* The parsers of nitro-cli's answers and the shell quoting of --dry-run
 * (nitro_run.c): nitro-cli's real output shapes, and hostile answers (no
 * JSON, wrong types, duplicate keys, bad enclave ids, huge numbers, an
 * answer over the size limit), and the sealed copy handed to nitro-cli
 * (run/sealed.c): its bytes, and that nothing can change them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "eimg/nitro_run.h"
#include "core/internal.h"
#include "run/nitro_net_int.h"
#include "run/sealed.h"

#define ID "i-05f6ed443aEXAMPLE-enc173dfe3eEXAMPLE"

static int parse_run(const char *text, struct eimg_nitro_run_result *r, eimg_error *err)
{
	return eimg_nitro_parse_run_answer(text, strlen(text), r, err);
}

static void test_run_answer(void **state)
{
	(void)state;
	struct eimg_nitro_run_result r;
	eimg_error err;
	/* as nitro-cli prints it: progress lines, then the JSON object */
	const char *good = "Start allocating memory...\n"
			   "Started enclave with enclave-cid: 16, memory: 1600 MiB, cpu-ids: [1, 3]\n"
			   "{\n  \"EnclaveName\": \"app\",\n  \"EnclaveID\": \"" ID "\",\n  \"ProcessID\": 7077,\n"
			   "  \"EnclaveCID\": 16,\n  \"NumberOfCPUs\": 2,\n  \"CPUIDs\": [1, 3],\n  \"MemoryMiB\": 1600\n}\n";
	assert_int_equal(parse_run(good, &r, &err), EIMG_OK);
	assert_string_equal(r.enclave_id, ID);
	assert_int_equal(r.cid, 16);
	assert_int_equal(r.cpus, 2);
	assert_int_equal(r.memory_mib, 1600);
	/* optional numbers absent or of the wrong type: 0 */
	assert_int_equal(parse_run("{\"EnclaveID\": \"" ID "\", \"EnclaveCID\": \"16\", \"MemoryMiB\": -5}", &r, &err),
			 EIMG_OK);
	assert_int_equal(r.cid, 0);
	assert_int_equal(r.memory_mib, 0);
	assert_int_equal(parse_run("{\"EnclaveID\": \"" ID "\", \"NumberOfCPUs\": 99999999999}", &r, &err), EIMG_OK);
	assert_int_equal(r.cpus, 0);

	static const char *const bad[] = {
		"",
		"Start allocating memory...\n",
		"[ E26 ] Insufficient memory requested.\n",
		"{\"EnclaveID\": 42}",
		"{\"EnclaveID\": \"\"}",
		"{\"EnclaveID\": \"-rf\"}",                          /* would read as an option */
		"{\"EnclaveID\": \"a b\"}",
		"{\"EnclaveID\": \"i-1;reboot\"}",
		"{\"EnclaveID\": \"i-1\\u0000x\"}",
		"{\"EnclaveID\": \"i-1\", \"EnclaveID\": \"i-2\"}",  /* duplicate key */
		"{\"EnclaveID\": \"" ID "\"",                        /* truncated */
		"[{\"EnclaveID\": \"" ID "\"}]",                     /* not the run-enclave shape */
		"x{\"EnclaveID\": \"" ID "\"}",                      /* JSON must start a line */
		"{\"EnclaveID\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", /* 128 */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&err, 0, sizeof err);
		if (parse_run(bad[i], &r, &err) != EIMG_EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err.msg, "no valid EnclaveID"));
	}
	/* 127 characters is the longest id */
	char buf[256];
	snprintf(buf, sizeof buf, "{\"EnclaveID\": \"%0127d\"}", 7);
	assert_int_equal(parse_run(buf, &r, &err), EIMG_OK);
	assert_int_equal(strlen(r.enclave_id), 127);
	/* an answer over the output limit is refused whatever it holds */
	size_t big = EIMG_NITRO_MAX_OUTPUT + 2;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	memcpy(huge, "{\"EnclaveID\": \"" ID "\"}", strlen("{\"EnclaveID\": \"" ID "\"}"));
	assert_int_equal(eimg_nitro_parse_run_answer(huge, big, &r, &err), EIMG_EINVAL);
	free(huge);
	/* no terminating NUL needed: the length rules */
	const char *cut = "{\"EnclaveID\": \"" ID "\"}GARBAGE";
	assert_int_equal(eimg_nitro_parse_run_answer(cut, strlen(cut) - 7, &r, &err), EIMG_OK);
}

static void test_describe(void **state)
{
	(void)state;
	char st[32];
	eimg_error err;
	const char *running = "[\n  {\n    \"EnclaveName\": \"app\",\n    \"EnclaveID\": \"" ID "\",\n"
			      "    \"ProcessID\": 12345,\n    \"EnclaveCID\": 10,\n    \"NumberOfCPUs\": 2,\n"
			      "    \"CPUIDs\": [1, 3],\n    \"MemoryMiB\": 1600,\n    \"State\": \"RUNNING\",\n"
			      "    \"Flags\": \"NONE\"\n  }\n]\n";
	assert_int_equal(eimg_nitro_parse_describe(running, strlen(running), ID, st, sizeof st, &err), 1);
	assert_string_equal(st, "RUNNING");
	/* another enclave listed, ours gone */
	assert_int_equal(eimg_nitro_parse_describe(running, strlen(running), "i-other-enc1", st, sizeof st, &err), 0);
	assert_string_equal(st, "");
	assert_int_equal(eimg_nitro_parse_describe("[]\n", 3, ID, st, sizeof st, &err), 0);
	const char *term = "[{\"EnclaveID\": \"" ID "\", \"State\": \"TERMINATING\"}]";
	assert_int_equal(eimg_nitro_parse_describe(term, strlen(term), ID, st, sizeof st, &err), 0);
	assert_string_equal(st, "TERMINATING");
	/* a State that is not a string, or hostile text: not running, escaped */
	const char *odd = "[{\"EnclaveID\": \"" ID "\", \"State\": 1}]";
	assert_int_equal(eimg_nitro_parse_describe(odd, strlen(odd), ID, st, sizeof st, &err), 0);
	const char *esc = "[{\"EnclaveID\": \"" ID "\", \"State\": \"RUN\\u001b[2J\\nNING\"}]";
	assert_int_equal(eimg_nitro_parse_describe(esc, strlen(esc), ID, st, sizeof st, &err), 0);
	assert_null(strchr(st, '\033'));
	assert_null(strchr(st, '\n'));
	/* entries that are not objects are skipped */
	const char *mixed = "[1, \"x\", null, {\"EnclaveID\": \"" ID "\", \"State\": \"RUNNING\"}]";
	assert_int_equal(eimg_nitro_parse_describe(mixed, strlen(mixed), ID, st, sizeof st, &err), 1);
	static const char *const bad[] = {
		"", "{}", "null", "[", "[{\"EnclaveID\": \"a\", \"EnclaveID\": \"b\"}]", "Describing...\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (eimg_nitro_parse_describe(bad[i], strlen(bad[i]), ID, st, sizeof st, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
	assert_non_null(strstr(err.msg, "not a JSON array"));
}

static void test_shell_quote(void **state)
{
	(void)state;
	char q[64];
	assert_int_equal(eimg_shell_quote("/usr/bin/nitro-cli", q, sizeof q), 0);
	assert_string_equal(q, "/usr/bin/nitro-cli");
	assert_int_equal(eimg_shell_quote("--enclave-cid=16,a@b%c+d", q, sizeof q), 0);
	assert_string_equal(q, "--enclave-cid=16,a@b%c+d");
	assert_int_equal(eimg_shell_quote("", q, sizeof q), 0);
	assert_string_equal(q, "''");
	assert_int_equal(eimg_shell_quote("a b", q, sizeof q), 0);
	assert_string_equal(q, "'a b'");
	assert_int_equal(eimg_shell_quote("it's $HOME", q, sizeof q), 0);
	assert_string_equal(q, "'it'\\''s $HOME'");
	assert_int_equal(eimg_shell_quote("<EnclaveID>", q, sizeof q), 0);
	assert_string_equal(q, "'<EnclaveID>'");
	/* too small: refused, never truncated */
	assert_int_equal(eimg_shell_quote("abcdef", q, 6), -1);
	assert_int_equal(eimg_shell_quote("abcdef", q, 7), 0);
	assert_int_equal(eimg_shell_quote("a b", q, 5), -1);
	assert_int_equal(eimg_shell_quote("a b", q, 6), 0);
}

static void check_sealed(const struct eimg_sealed *s, const uint8_t *want, size_t len)
{
	char path[64];
	assert_int_equal(s->len, len);
	assert_memory_equal(s->map, want, len);
	int seals = fcntl(s->fd, F_GET_SEALS);
	assert_int_equal(seals, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	assert_true(fcntl(s->fd, F_GETFD) & FD_CLOEXEC);
	/* Not by this descriptor, not by a new one opened through /proc. */
	assert_true(pwrite(s->fd, "x", 1, 0) < 0 && errno == EPERM);
	assert_true(ftruncate(s->fd, 1) < 0 && errno == EPERM);
	assert_true(ftruncate(s->fd, (off_t)len + 4096) < 0 && errno == EPERM);
	snprintf(path, sizeof path, "/proc/self/fd/%d", s->fd);
	int w = open(path, O_WRONLY);
	if (w >= 0) {
		assert_true(write(w, "x", 1) < 0 && errno == EPERM);
		close(w);
	}
	int r = open(path, O_RDONLY);
	assert_true(r >= 0);
	uint8_t back[8192];
	assert_int_equal(read(r, back, sizeof back), (ssize_t)len);
	assert_memory_equal(back, want, len);
	close(r);
}

static void test_sealed_copy(void **state)
{
	(void)state;
	uint8_t data[5000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 31 + 7);
	struct eimg_sealed s;
	eimg_error err;
	assert_int_equal(eimg_sealed_from_buffer(data, sizeof data, "buf", &s, &err), EIMG_OK);
	check_sealed(&s, data, sizeof data);
	eimg_sealed_close(&s);
	eimg_sealed_close(&s); /* twice: harmless */
	assert_int_equal(s.fd, -1);

	/* From a descriptor; above the limit it is refused. */
	char tmpl[] = "/tmp/test_sealed.XXXXXX";
	int fd = mkstemp(tmpl);
	assert_true(fd >= 0);
	unlink(tmpl);
	assert_int_equal(write(fd, data, sizeof data), (ssize_t)sizeof data);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(eimg_sealed_from_fd(fd, "file", sizeof data, &s, &err), EIMG_OK);
	check_sealed(&s, data, sizeof data);
	/* The source changes afterwards: the copy does not. */
	assert_int_equal(pwrite(fd, "CHANGED", 7, 0), 7);
	assert_memory_equal(s.map, data, sizeof data);
	eimg_sealed_close(&s);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(eimg_sealed_from_fd(fd, "file", sizeof data - 1, &s, &err), EIMG_EINVAL);
	assert_string_equal(err.file, "file");
	assert_non_null(strstr(err.msg, "above the limit"));
	close(fd);
	/* Empty. */
	assert_int_equal(eimg_sealed_from_buffer(data, 0, "empty", &s, &err), EIMG_OK);
	assert_int_equal(s.len, 0);
	assert_null(s.map);
	eimg_sealed_close(&s);
}

/* The network policy's host side (run/nitro_net.c): only a manifest that
 * records the supervisor asks for it; the bridges a dry run lists; the bind
 * address and the testing aid's prefix are checked. */
static void test_net_plan(void **state)
{
	(void)state;
	static const char head[] = "{\"version\": 1, \"name\": \"n\", \"target\": \"nitro\", \"mode\": \"hardware\", "
				   "\"nitro\": {\"kernel\": \"kernel\", \"cmdline\": \"x\", \"init\": \"init\", "
				   "\"app\": \"app\", \"entrypoint\": [\"a\"], \"ingress\": [8000, 9000], "
				   "\"egress\": {\"allow\": [\"*.example.com:443\"], \"deny\": [\"10.0.0.0/8\"]}";
	char with[1024], without[1024];
	snprintf(without, sizeof without, "%s}}", head);
	snprintf(with, sizeof with, "%s, \"supervisor\": \"supervisor\", \"supervisor_sha384\": \"%0*d\"}}", head, 96, 0);
	eimg_nitro_net *n = (eimg_nitro_net *)0x1;
	eimg_error err;
	unsetenv(EIMG_NITRO_NET_ENV);
	assert_int_equal(eimg_nitro_net_open(NULL, 0, NULL, &n, &err), EIMG_OK);
	assert_null(n);
	n = (eimg_nitro_net *)0x1;
	assert_int_equal(eimg_nitro_net_open(without, strlen(without), NULL, &n, &err), EIMG_OK);
	assert_null(n);   /* a policy but no supervisor inside: nothing listens on vsock */

	assert_int_equal(eimg_nitro_net_open(with, strlen(with), NULL, &n, &err), EIMG_OK);
	assert_non_null(n);
	struct eimg_sb b = { 0 };
	eimg_nitro_net_describe(n, "<CID>", &b);
	char *t = eimg_sb_done(&b);
	assert_string_equal(t, "# ingress: tcp:127.0.0.1:8000 -> vsock:<CID>:8000\n"
			       "# ingress: tcp:127.0.0.1:9000 -> vsock:<CID>:9000\n"
			       "# egress: vsock:any:17002 -> the destinations the policy allows (1 allow, 1 deny rules)\n");
	free(t);
	eimg_nitro_net_free(n);

	setenv(EIMG_NITRO_NET_ENV, "unix:/run/t/v", 1);
	assert_int_equal(eimg_nitro_net_open(with, strlen(with), "fd00::1", &n, &err), EIMG_OK);
	memset(&b, 0, sizeof b);
	eimg_nitro_net_describe(n, "16", &b);
	t = eimg_sb_done(&b);
	assert_non_null(strstr(t, "# ingress: tcp:[fd00::1]:9000 -> unix:/run/t/v:9000\n"));
	assert_non_null(strstr(t, "# egress: unix:/run/t/v:17002 -> "));
	free(t);
	eimg_nitro_net_free(n);

	n = (eimg_nitro_net *)0x1;
	assert_int_equal(eimg_nitro_net_open(with, strlen(with), "example.com", &n, &err), EIMG_EUSAGE);
	assert_null(n);
	setenv(EIMG_NITRO_NET_ENV, "vsock:3", 1);
	assert_int_equal(eimg_nitro_net_open(with, strlen(with), NULL, &n, &err), EIMG_EUSAGE);
	unsetenv(EIMG_NITRO_NET_ENV);
	eimg_nitro_net_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_answer),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_shell_quote),
		cmocka_unit_test(test_sealed_copy),
		cmocka_unit_test(test_net_plan),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
