/* SPDX-License-Identifier: Apache-2.0 */
/* The relay's API (net/relay.c): refused addresses and arguments, a port
 * already taken, the stop descriptor, and one forward and one proxy
 * connection in-process over Unix sockets (data both ways, a half-close, a
 * 403 with its log line).  The end-to-end cases are test/cli/test_supervisor.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <enclaveimg.h>

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/eimg-relay-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_bad_arguments(void **state)
{
	(void)state;
	eimg_net_relay *r = NULL;
	eimg_error err;
	char a[128];
	assert_int_equal(eimg_net_relay_new(NULL, &r, &err), EIMG_OK);
	assert_int_equal(eimg_net_relay_forward(r, "tcp:localhost:1", "tcp:127.0.0.1:2", &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "transport address 'tcp:localhost:1'"));
	assert_int_equal(eimg_net_relay_forward(r, "tcp:127.0.0.1:0", "nowhere", &err), EIMG_EINVAL);
	assert_int_equal(eimg_net_relay_forward(r, "tcp:127.0.0.1:0", NULL, &err), EIMG_EUSAGE);
	assert_int_equal(eimg_net_relay_proxy(r, "tcp:127.0.0.1:0", NULL, NULL, &err), EIMG_EUSAGE);
	assert_int_equal(eimg_net_relay_proxy(NULL, "tcp:127.0.0.1:0", NULL, NULL, &err), EIMG_EUSAGE);
	/* a socket path that is taken by a regular file */
	snprintf(a, sizeof(a), "%s/file", dir);
	FILE *f = fopen(a, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(a, sizeof(a), "unix:%s/file", dir);
	assert_int_equal(eimg_net_relay_forward(r, a, "tcp:127.0.0.1:1", &err), EIMG_EIO);
	assert_non_null(strstr(err.msg, "cannot listen"));
	eimg_net_relay_free(r);
	eimg_net_relay_free(NULL);
	assert_int_equal(eimg_net_relay_new(NULL, NULL, &err), EIMG_EUSAGE);
}

static void test_stop(void **state)
{
	(void)state;
	eimg_net_relay *r = NULL;
	eimg_error err;
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(eimg_net_relay_new(NULL, &r, &err), EIMG_OK);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(eimg_net_relay_run(r, p[0], &err), EIMG_OK);   /* returns at once */
	assert_int_equal(eimg_net_relay_run(r, p[0], &err), EIMG_OK);   /* left unread: again */
	eimg_net_relay_free(r);
	close(p[0]);
	close(p[1]);
}

static int unix_connect(const char *path)
{
	struct sockaddr_un un;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&un, sizeof(un)), 0);
	return fd;
}

static void log_to(void *ctx, const char *line)
{
	FILE *f = ctx;
	fprintf(f, "%s\n", line);
	fflush(f);
}

/* A relay in a child: forward unix:in -> unix:echo, proxy unix:proxy (allow nothing). */
static pid_t start_child(const char *logpath, int *stop)
{
	int p[2];
	pid_t pid;
	assert_int_equal(pipe(p), 0);
	char in[128], echo[128], proxy[128];
	snprintf(in, sizeof(in), "unix:%s/in", dir);
	snprintf(echo, sizeof(echo), "unix:%s/echo", dir);
	snprintf(proxy, sizeof(proxy), "unix:%s/proxy", dir);
	eimg_net_relay *r = NULL;
	eimg_net_policy *pol = NULL;
	eimg_error err;
	assert_int_equal(eimg_net_policy_new(NULL, 0, NULL, 0, &pol, &err), EIMG_OK);
	assert_int_equal(eimg_net_relay_new(NULL, &r, &err), EIMG_OK);
	assert_int_equal(eimg_net_relay_forward(r, in, echo, &err), EIMG_OK);
	assert_int_equal(eimg_net_relay_proxy(r, proxy, pol, NULL, &err), EIMG_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		FILE *f = fopen(logpath, "w");
		close(p[1]);
		eimg_net_relay_set_log(r, log_to, f);
		alarm(20);
		_exit(eimg_net_relay_run(r, p[0], &err) ? 1 : 0);
	}
	close(p[0]);
	eimg_net_relay_free(r);   /* the parent's copies of the listeners */
	eimg_net_policy_free(pol);
	*stop = p[1];
	return pid;
}

static void test_forward_and_proxy(void **state)
{
	(void)state;
	char path[128], logpath[128], buf[256];
	int stop, st;
	snprintf(path, sizeof(path), "%s/echo", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	/* the "application": a Unix listener this test answers by hand */
	struct sockaddr_un un;
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", path);
	assert_int_equal(bind(ls, (struct sockaddr *)&un, sizeof(un)), 0);
	assert_int_equal(listen(ls, 4), 0);
	pid_t pid = start_child(logpath, &stop);

	snprintf(path, sizeof(path), "%s/in", dir);
	int c = unix_connect(path);
	int a = accept(ls, NULL, NULL);
	assert_true(a >= 0);
	assert_int_equal(write(c, "ping", 4), 4);
	assert_int_equal(read(a, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(shutdown(c, SHUT_WR), 0);          /* half-close reaches the far side */
	assert_int_equal(read(a, buf, sizeof(buf)), 0);
	assert_int_equal(write(a, "pong", 4), 4);           /* and the other way still flows */
	assert_int_equal(read(c, buf, sizeof(buf)), 4);
	assert_memory_equal(buf, "pong", 4);
	close(a);
	assert_int_equal(read(c, buf, sizeof(buf)), 0);
	close(c);

	snprintf(path, sizeof(path), "%s/proxy", dir);
	c = unix_connect(path);
	static const char req[] = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
	assert_int_equal(write(c, req, sizeof(req) - 1), (ssize_t)sizeof(req) - 1);
	ssize_t n = read(c, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "HTTP/1.1 403 Forbidden\r\n"));
	assert_non_null(strstr(buf, "no allow rule matches"));
	close(c);

	assert_int_equal(write(stop, "x", 1), 1);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	FILE *f = fopen(logpath, "r");
	assert_non_null(f);
	size_t got = fread(buf, 1, sizeof(buf) - 1, f);
	buf[got] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "egress denied example.com:443: no allow rule matches"));
	close(stop);
	close(ls);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_forward_and_proxy),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
