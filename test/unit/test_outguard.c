/* SPDX-License-Identifier: Apache-2.0 */
/* core/outguard.c: an output never replaces an input (noted by device and
 * inode when read), signing in place is the one allowed replacement, and
 * the registry of live temporary outputs that a signal handler empties. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/util.h"
#include "core/internal.h"

static char dir[] = "/tmp/test_outguard.XXXXXX";

static void path_of(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", dir, name);
}

static void put(const char *name, const char *text)
{
	char p[512];
	path_of(p, sizeof p, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static size_t temp_files(void)
{
	size_t n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	assert_non_null(d);
	while ((de = readdir(d)))
		n += strncmp(de->d_name, ".eimg-", 6) == 0;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_output_is_input(void **state)
{
	(void)state;
	char in[512], other[512], lnk[512], hard[512], fresh[512];
	uint8_t *buf;
	size_t len;
	eimg_error err;
	eimg_inputs_reset();
	put("in.txt", "input\n");
	put("other.txt", "other\n");
	path_of(in, sizeof in, "in.txt");
	path_of(other, sizeof other, "other.txt");
	path_of(lnk, sizeof lnk, "link.txt");
	path_of(hard, sizeof hard, "hard.txt");
	path_of(fresh, sizeof fresh, "fresh.txt");
	assert_int_equal(symlink(in, lnk), 0);
	assert_int_equal(link(in, hard), 0);
	/* Not read yet: not an input. */
	assert_int_equal(eimg_output_check(in, NULL), EIMG_OK);
	assert_int_equal(eimg_read_file(in, 100, &buf, &len, NULL), EIMG_OK);
	free(buf);
	memset(&err, 0, sizeof err);
	assert_int_equal(eimg_output_check(in, &err), EIMG_EUSAGE);
	assert_string_equal(err.file, in);
	assert_non_null(strstr(err.msg, "is also an input of this command: an output never replaces an input"));
	assert_int_equal(eimg_output_check(lnk, &err), EIMG_EUSAGE);
	assert_non_null(strstr(err.msg, "(read as '"));
	assert_int_equal(eimg_output_check(hard, &err), EIMG_EUSAGE);
	assert_int_equal(eimg_output_check(other, &err), EIMG_OK);
	assert_int_equal(eimg_output_check(fresh, &err), EIMG_OK);
	assert_int_equal(eimg_output_check("-", &err), EIMG_OK);
	assert_int_equal(eimg_output_check(NULL, &err), EIMG_OK);
	/* The atomic writer refuses it too, leaves the input and no temporary file. */
	assert_int_equal(eimg_write_file_atomic(in, "x", 1, &err), EIMG_EUSAGE);
	assert_int_equal(eimg_write_file_atomic(lnk, "x", 1, &err), EIMG_EUSAGE);
	assert_int_equal(eimg_read_file(in, 100, &buf, &len, NULL), EIMG_OK);
	assert_string_equal((char *)buf, "input\n");
	free(buf);
	assert_int_equal(temp_files(), 0);
	assert_int_equal(eimg_write_file_atomic(other, "y", 1, &err), EIMG_OK);
	/* The one input a command updates in place. */
	eimg_output_may_replace(in);
	assert_int_equal(eimg_write_file_atomic(in, "signed\n", 7, &err), EIMG_OK);
	eimg_inputs_reset();
	assert_int_equal(eimg_output_check(hard, &err), EIMG_OK);
}

/* An input opened between eimg_outfile_open and the commit counts too. */
static void test_input_after_open(void **state)
{
	(void)state;
	char p[512];
	struct eimg_outfile o;
	eimg_error err;
	uint8_t *buf;
	size_t len;
	eimg_inputs_reset();
	put("late.txt", "late\n");
	path_of(p, sizeof p, "late.txt");
	assert_int_equal(eimg_outfile_open(&o, p, &err), EIMG_OK);
	assert_int_equal(eimg_tmp_live(), 1);
	assert_int_equal(eimg_read_file(p, 100, &buf, &len, NULL), EIMG_OK);
	free(buf);
	assert_int_equal(eimg_outfile_write(&o, "z", 1, &err), EIMG_OK);
	assert_int_equal(eimg_outfile_commit(&o, &err), EIMG_EUSAGE);
	assert_int_equal(eimg_tmp_live(), 0);
	assert_int_equal(temp_files(), 0);
	assert_int_equal(eimg_read_file(p, 100, &buf, &len, NULL), EIMG_OK);
	assert_string_equal((char *)buf, "late\n");
	free(buf);
	eimg_inputs_reset();
}

static void test_tmp_registry(void **state)
{
	(void)state;
	char p[512];
	struct eimg_outfile o[20];
	eimg_error err;
	eimg_inputs_reset();
	path_of(p, sizeof p, "reg.bin");
	assert_int_equal(eimg_tmp_live(), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(eimg_outfile_open(&o[i], p, &err), EIMG_OK);
	assert_int_equal(eimg_tmp_live(), 16); /* the slots; the rest work, unregistered */
	for (int i = 0; i < 19; i++)
		eimg_outfile_abort(&o[i]);
	assert_int_equal(eimg_outfile_commit(&o[19], &err), EIMG_OK);
	assert_int_equal(eimg_tmp_live(), 0);
	assert_int_equal(temp_files(), 0);
	eimg_outfile_abort(&o[19]); /* after commit: a no-op */
	assert_int_equal(access(p, F_OK), 0);
}

/* A child with a live temporary output dies of each signal: the file goes. */
static void test_signal_removes_temp(void **state)
{
	(void)state;
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < 3; i++) {
		char p[512];
		path_of(p, sizeof p, "sig.bin");
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct eimg_outfile o;
			if (eimg_outfile_open(&o, p, NULL) != EIMG_OK || temp_files() != 1)
				_exit(10);
			raise(sigs[i]);
			_exit(11);
		}
		int st;
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st));
		assert_int_equal(WTERMSIG(st), sigs[i]);
		assert_int_equal(temp_files(), 0);
	}
	/* An ignored signal stays ignored: the output is finished. */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char p[512];
		struct eimg_outfile o;
		path_of(p, sizeof p, "ign.bin");
		signal(SIGHUP, SIG_IGN);
		if (eimg_outfile_open(&o, p, NULL) != EIMG_OK)
			_exit(10);
		raise(SIGHUP);
		_exit(eimg_outfile_commit(&o, NULL) == EIMG_OK ? 0 : 12);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_is_input),
		cmocka_unit_test(test_input_after_open),
		cmocka_unit_test(test_tmp_registry),
		cmocka_unit_test(test_signal_removes_temp),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
