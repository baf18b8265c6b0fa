/* SPDX-License-Identifier: Apache-2.0 */
/* The skeleton every tool shares (as tpm2-tools' tpm2_tool.c): one way to
 * report an error or a usage mistake, one number parser, the --expect /
 * --expect-file / --constraint options, and printing a rendered result.
 * A tool calls tool_init() first; every message then starts with its name. */
#ifndef EIMG_TOOL_H
#define EIMG_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <enclaveimg.h>

#if defined(__GNUC__)
#define TOOL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TOOL_PRINTF(a, b)
#endif

struct tool_info {
	const char *name;     /* "enclave-run": the prefix of every message */
	const char *synopsis; /* "[options] IMAGE.eimg": the short usage after the name */
};

/* Every message then starts with the tool's name, never the invocation path
 * (argv[0] becomes the name, so getopt's own messages follow too). */
void tool_init(const struct tool_info *info, char **argv);

/* Prints "NAME: <the error, formatted on one line>"; returns the exit code
 * of status (eimg_exit_code). */
int tool_fail(const eimg_error *err, int status);
/* The same, for a caller that goes on (several failures in one run). */
void tool_print_error(const eimg_error *err);
/* A failure about a file: "NAME: 'file': <message>" through
 * eimg_error_format (the file name escaped); returns the exit code of status. */
int tool_fail_file(int status, const char *file, const char *fmt, ...) TOOL_PRINTF(3, 4);
/* A usage mistake, on one line: "NAME: <message, escaped> (see 'NAME --help')";
 * returns 2. */
int tool_usage(const char *fmt, ...) TOOL_PRINTF(1, 2);
/* An unknown option (getopt said so already): "usage: NAME SYNOPSIS (see
 * 'NAME --help')"; returns 2. */
int tool_bad_option(void);
/* "NAME: <message>" on standard error, returns status. */
int tool_message(int status, const char *fmt, ...) TOOL_PRINTF(2, 3);

/* Prints text (a rendered result) to standard output and frees it; NULL
 * means the renderer ran out of memory.  Returns an exit code.  With -q
 * nothing is printed (else text, ending in a newline whether or not it has
 * one); with --print FIELD, text is the JSON result and only
 * that field's bare value is printed (eimg_json_field). */
int tool_emit(char *text);

/* Progress of long steps (reading layers, writing a ramdisk, hashing) for
 * the library to report into: drawn on standard error as one redrawn line,
 * or NULL (nothing drawn) when not wanted (-q, --json) or standard error is
 * not a terminal. */
struct eimg_progress *tool_progress(bool wanted);
/* The output modes every tool shares: -q, --print FIELD, --json.  Returns -1
 * when they fit together, else the exit code of a usage error. */
int tool_output_mode(bool quiet, const char *print, bool json);
/* Render JSON (for --json, or as the source of --print)? */
bool tool_want_json(void);
/* Is a human reading (neither -q, --print nor --json)? */
bool tool_chatty(void);
/* One line for a human ("wrote FILE"), left out unless tool_chatty(). */
void tool_say(const char *fmt, ...) TOOL_PRINTF(1, 2);

/* The one number parser for options: decimal without leading zeros (010 is
 * not octal 8 nor ten), or with TOOL_NUM_HEX also 0x hexadecimal; no sign,
 * no blanks; within [lo, hi].  Returns true and sets *out on success. */
#define TOOL_NUM_HEX 1u
bool tool_parse_u64(const char *s, unsigned flags, uint64_t lo, uint64_t hi, uint64_t *out);

/* The kind of the file at path (enum eimg_input_kind, from its first
 * bytes).  EIMG_EIO (err filled) when it cannot be opened or read. */
int tool_detect_file(const char *path, int *kind, eimg_error *err);

/* --expect VALUE, --expect-file FILE and --constraint TEXT|@FILE, shared by
 * enclave-measure and enclave-run: opt is the getopt character ('e', 'E' or
 * 'c').  Returns -1 when the option was taken, else the exit code to stop
 * with (the message is printed).  twice: the message for a second
 * --constraint. */
struct tool_expectations {
	struct eimg_expect expect;
	eimg_constraint *constraint;
};
int tool_expect_option(struct tool_expectations *x, int opt, const char *arg, const char *twice);
/* --constraint TEXT|@FILE into *c: -1 when it parses, else the exit code
 * (the message printed): 2 for a constraint that does not parse, 1 for an
 * unreadable file. */
int tool_constraint_arg(const char *arg, eimg_constraint **c);

#endif
