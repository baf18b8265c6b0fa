/* SPDX-License-Identifier: Apache-2.0 */
/* The passphrase or PIN prompt shared by the tools that load signing keys. */
#ifndef EIMG_TOOL_PROMPT_H
#define EIMG_TOOL_PROMPT_H

#include <stddef.h>

/* Reads a passphrase or PIN from the terminal without echo (an
 * eimg_passphrase_fn): the length, or -1 when standard input is not a
 * terminal.  ctx is unused. */
int tool_prompt_tty(void *ctx, const char *what, char *buf, size_t size);

#endif
