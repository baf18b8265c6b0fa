/* SPDX-License-Identifier: Apache-2.0 */
/* The passphrase or PIN prompt of the tools that load signing keys
 * (enclave-sign, enclave-push): eimg_key_source.prompt. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

#include "cli/prompt.h"

/* Reads a passphrase or PIN from the terminal without echo. */
int tool_prompt_tty(void *ctx, const char *what, char *buf, size_t size)
{
	(void)ctx;
	struct termios old, quiet;
	int fd, n = 0;
	if (!isatty(STDIN_FILENO))
		return -1;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (tcgetattr(fd, &old) != 0) {
		close(fd);
		return -1;
	}
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~ECHO;
	/* Echo off (discarding type-ahead) before the prompt appears. */
	tcsetattr(fd, TCSAFLUSH, &quiet);
	dprintf(fd, "Enter the key's %s: ", what);
	while ((size_t)n + 1 < size) {
		char c;
		ssize_t r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n' || c == '\r')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	tcsetattr(fd, TCSAFLUSH, &old);
	dprintf(fd, "\n");
	close(fd);
	return n;
}
