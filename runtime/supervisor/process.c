/* SPDX-License-Identifier: Apache-2.0 */
/* Starting the application: a child process in the working folder, with the
 * measured environment only, its signals back to their defaults. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "supervisor.h"

extern char **environ;

/* In the child: never returns.  The error goes through a close-on-exec pipe. */
static void child(const struct sup_manifest *m, int report)
{
	sigset_t none;
	int e;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			(void)signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (m->working_dir && chdir(m->working_dir) < 0) {
		e = errno;
		(void)!write(report, "c", 1);
		(void)!write(report, &e, sizeof(e));
		_exit(127);
	}
	environ = m->env;
	execvp(m->argv[0], m->argv);
	e = errno;
	(void)!write(report, "x", 1);
	(void)!write(report, &e, sizeof(e));
	_exit(127);
}

int sup_spawn(const struct sup_manifest *m, pid_t *pid, eimg_error *err)
{
	int p[2], e = 0;
	char what = 0;
	ssize_t n;
	pid_t c;
	if (pipe2(p, O_CLOEXEC) < 0)
		return eimg_err_sys(err, NULL, "cannot make a pipe");
	c = fork();
	if (c < 0) {
		int rc = eimg_err_sys(err, NULL, "cannot start '%s'", m->argv[0]);
		close(p[0]);
		close(p[1]);
		return rc;
	}
	if (c == 0) {
		close(p[0]);
		child(m, p[1]);
	}
	close(p[1]);
	do
		n = read(p[0], &what, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1 && read(p[0], &e, sizeof(e)) != (ssize_t)sizeof(e))
		e = EIO;
	close(p[0]);
	if (n == 1) {
		errno = e;
		/* the child is reaped by the caller's loop with the others */
		return eimg_err_sys(err, NULL, what == 'c' ? "cannot enter the working folder '%s'" : "cannot start '%s'",
				    what == 'c' ? m->working_dir : m->argv[0]);
	}
	*pid = c;
	return EIMG_OK;
}
