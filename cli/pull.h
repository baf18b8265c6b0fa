/* SPDX-License-Identifier: Apache-2.0 */
/* Inputs by reference, shared by enclave-measure and enclave-run (and the
 * registry options of enclave-push): oci://HOST[:PORT]/REPO:TAG or
 * @sha256:DIGEST is pulled into a private file that stands for the input and
 * is removed when the tool exits (enclave-oci(7)). */
#ifndef EIMG_TOOL_PULL_H
#define EIMG_TOOL_PULL_H

#include <stdbool.h>
#include <getopt.h>

#include <enclaveimg.h>

enum { TOOL_OPT_AUTH_FILE = 0x2000, TOOL_OPT_PLAIN_HTTP, TOOL_OPT_STATEMENT_KEY };

/* getopt_long entries and --help lines; the man pages say the same. */
#define TOOL_REGISTRY_LONGOPTS \
	{ "auth-file", required_argument, NULL, TOOL_OPT_AUTH_FILE }, \
	{ "plain-http", no_argument, NULL, TOOL_OPT_PLAIN_HTTP }
#define TOOL_PULL_LONGOPTS TOOL_REGISTRY_LONGOPTS, \
	{ "statement-key", required_argument, NULL, TOOL_OPT_STATEMENT_KEY }
#define TOOL_REGISTRY_HELP \
	"      --auth-file FILE  registry credentials (default: $REGISTRY_AUTH_FILE, then\n" \
	"                        ~/.docker/config.json)\n" \
	"      --plain-http      allow plain HTTP to a registry that is not on loopback\n"
#define TOOL_PULL_HELP TOOL_REGISTRY_HELP \
	"      --statement-key FILE  with oci://...: require a measurement statement signed by\n" \
	"                        this public key that matches the pulled image (enclave-oci(7))\n"

struct tool_pull {
	struct eimg_oci_options net;
	const char *statement_key;
};

/* Takes one of the options above: -1 when taken, else 2 (not one of them). */
int tool_pull_option(struct tool_pull *p, int opt, const char *arg);

/* When *input is a reference: pulls it (every digest checked, the statement
 * verified with --statement-key), says on standard error which digest the
 * reference resolved to (unless quiet), and points *input at the private
 * file.  Returns -1 to go on, else the exit code (the message printed, with
 * "; <after_failure>" appended when not NULL). */
int tool_pull_input(const struct tool_pull *p, const char **input, bool quiet, const char *after_failure);

#endif
