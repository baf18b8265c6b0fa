/* SPDX-License-Identifier: Apache-2.0 */
/* Outputs never replace inputs, and temporary outputs never outlive a signal.
 *
 * Inputs: every file the library opens to read (manifest, ELF, measured
 * files, keys, certificates, kernel, init, files of an application tree, the
 * image itself) is noted by device and inode.  An output (eimg_outfile_open,
 * eimg_output_check) that resolves to a noted input is refused with
 * EIMG_EUSAGE before anything is written.
 *
 * Temporary outputs: each live temporary file is registered; on SIGINT,
 * SIGTERM or SIGHUP (when the program left the signal at its default action)
 * an async-signal-safe handler unlinks them and re-raises the signal. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eimg/util.h"
#include "core/internal.h"

/* ---- inputs ---- */

struct input {
	dev_t dev;
	ino_t ino;
	char *path; /* as opened, for the message; NULL when it could not be kept */
};

static pthread_mutex_t inputs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct input *inputs;
static size_t ninputs, inputs_cap;

static void note_stat(const struct stat *st, const char *path)
{
	if (!S_ISREG(st->st_mode))
		return;
	pthread_mutex_lock(&inputs_lock);
	for (size_t i = 0; i < ninputs; i++)
		if (inputs[i].dev == st->st_dev && inputs[i].ino == st->st_ino)
			goto out;
	if (ninputs == inputs_cap) {
		size_t ncap = inputs_cap ? inputs_cap * 2 : 16;
		struct input *n = realloc(inputs, ncap * sizeof(*n));
		if (!n)
			goto out; /* not noted: the check of this one input is lost, nothing else */
		inputs = n;
		inputs_cap = ncap;
	}
	inputs[ninputs].dev = st->st_dev;
	inputs[ninputs].ino = st->st_ino;
	inputs[ninputs].path = path ? strdup(path) : NULL;
	ninputs++;
out:
	pthread_mutex_unlock(&inputs_lock);
}

void eimg_input_note_fd(int fd, const char *path)
{
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0)
		note_stat(&st, path);
}

void eimg_input_note_path(const char *path)
{
	struct stat st;
	if (path && strcmp(path, "-") != 0 && stat(path, &st) == 0)
		note_stat(&st, path);
}

/* The one input a command updates in place (signing an image without -o). */
static bool inplace_set;
static dev_t inplace_dev;
static ino_t inplace_ino;

void eimg_output_may_replace(const char *path)
{
	struct stat st;
	if (!path || stat(path, &st) != 0)
		return;
	pthread_mutex_lock(&inputs_lock);
	inplace_set = true;
	inplace_dev = st.st_dev;
	inplace_ino = st.st_ino;
	pthread_mutex_unlock(&inputs_lock);
}

void eimg_inputs_reset(void)
{
	pthread_mutex_lock(&inputs_lock);
	for (size_t i = 0; i < ninputs; i++)
		free(inputs[i].path);
	free(inputs);
	inputs = NULL;
	ninputs = inputs_cap = 0;
	inplace_set = false;
	pthread_mutex_unlock(&inputs_lock);
}

int eimg_output_check(const char *path, eimg_error *err)
{
	struct stat st;
	char in[512];
	bool hit = false;
	/* A name that does not exist yet cannot be an input. */
	if (!path || strcmp(path, "-") == 0 || stat(path, &st) != 0)
		return EIMG_OK;
	pthread_mutex_lock(&inputs_lock);
	bool inplace = inplace_set && inplace_dev == st.st_dev && inplace_ino == st.st_ino;
	for (size_t i = 0; i < ninputs && !hit && !inplace; i++)
		if (inputs[i].dev == st.st_dev && inputs[i].ino == st.st_ino) {
			hit = true;
			const char *p = inputs[i].path ? inputs[i].path : "?";
			eimg_escape(p, strlen(p), in, sizeof(in));
		}
	pthread_mutex_unlock(&inputs_lock);
	if (!hit)
		return EIMG_OK;
	char out[512];
	eimg_escape(path, strlen(path), out, sizeof(out));
	if (strcmp(out, in) == 0)
		return eimg_err(err, EIMG_EUSAGE, path,
				"is also an input of this command: an output never replaces an input; nothing was written");
	return eimg_err(err, EIMG_EUSAGE, path,
			"is also an input of this command (read as '%s'): an output never replaces an input; nothing was written",
			in);
}

/* ---- temporary outputs and signals ---- */

#define MAX_LIVE 16

static char live_path[MAX_LIVE][PATH_MAX];
static volatile sig_atomic_t live_used[MAX_LIVE];
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	int saved = errno;
	for (int i = 0; i < MAX_LIVE; i++)
		if (live_used[i])
			unlink(live_path[i]);
	/* SA_RESETHAND restored the default action; the signal is blocked
	 * while this runs, so it is delivered (and ends the process) on return. */
	raise(sig);
	errno = saved;
}

static void install_handlers(void)
{
	for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++) {
		struct sigaction old, sa;
		/* Only where the program kept the default: a program that handles
		 * or ignores the signal (enclave-run's signalfd) keeps doing so. */
		if (sigaction(cleanup_signals[i], NULL, &old) != 0 || old.sa_handler != SIG_DFL ||
		    (old.sa_flags & SA_SIGINFO))
			continue;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESETHAND;
		sigemptyset(&sa.sa_mask);
		sigaction(cleanup_signals[i], &sa, NULL);
	}
}

void eimg_tmp_block(sigset_t *old)
{
	sigset_t s;
	sigemptyset(&s);
	for (size_t i = 0; i < sizeof(cleanup_signals) / sizeof(cleanup_signals[0]); i++)
		sigaddset(&s, cleanup_signals[i]);
	pthread_sigmask(SIG_BLOCK, &s, old);
}

void eimg_tmp_unblock(const sigset_t *old)
{
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int eimg_tmp_register(const char *path)
{
	pthread_once(&handlers_once, install_handlers);
	int slot = -1;
	if (strlen(path) >= PATH_MAX)
		return -1;
	pthread_mutex_lock(&live_lock);
	for (int i = 0; i < MAX_LIVE && slot < 0; i++)
		if (!live_used[i]) {
			memcpy(live_path[i], path, strlen(path) + 1);
			live_used[i] = 1; /* set last: the handler never sees half a path */
			slot = i;
		}
	pthread_mutex_unlock(&live_lock);
	return slot; /* -1: more live outputs than slots; this one is not removed on a signal */
}

void eimg_tmp_unregister(int slot)
{
	if (slot < 0 || slot >= MAX_LIVE)
		return;
	pthread_mutex_lock(&live_lock);
	live_used[slot] = 0;
	pthread_mutex_unlock(&live_lock);
}

size_t eimg_tmp_live(void)
{
	size_t n = 0;
	for (int i = 0; i < MAX_LIVE; i++)
		n += live_used[i] != 0;
	return n;
}

