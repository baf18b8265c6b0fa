/* SPDX-License-Identifier: Apache-2.0 */
/* The skeleton every tool shares: errors, usage mistakes, numbers, the
 * expectation options, printing a result (tool.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/tool.h"

static const struct tool_info *tool;
static struct {
	bool quiet, json;
	const char *print;
} out_mode;

void tool_init(const struct tool_info *info, char **argv)
{
	tool = info;
	if (argv && argv[0])
		argv[0] = (char *)info->name;
}

void tool_print_error(const eimg_error *err)
{
	char buf[1200];
	fprintf(stderr, "%s: %s\n", tool->name, eimg_error_format(err, buf, sizeof buf));
}

int tool_fail(const eimg_error *err, int status)
{
	tool_print_error(err);
	return eimg_exit_code(status);
}

int tool_fail_file(int status, const char *file, const char *fmt, ...)
{
	eimg_error err;
	va_list ap;
	eimg_error_clear(&err);
	err.code = status;
	snprintf(err.file, sizeof err.file, "%s", file);
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof err.msg, fmt, ap);
	va_end(ap);
	return tool_fail(&err, status);
}

int tool_usage(const char *fmt, ...)
{
	char msg[1024], esc[1100];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* Arguments come from the command line: printed escaped, on one line. */
	fprintf(stderr, "%s: %s (see '%s --help')\n", tool->name, eimg_escape(msg, strlen(msg), esc, sizeof esc),
		tool->name);
	return EIMG_EXIT_USAGE;
}

int tool_bad_option(void)
{
	fprintf(stderr, "usage: %s %s (see '%s --help')\n", tool->name, tool->synopsis, tool->name);
	return EIMG_EXIT_USAGE;
}

int tool_message(int status, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", tool->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

int tool_output_mode(bool quiet, const char *print, bool json)
{
	if (quiet && (print || json))
		return tool_usage("-q prints nothing: not with %s", print ? "--print" : "--json");
	if (print && json)
		return tool_usage("--print prints one bare value: not with --json");
	out_mode.quiet = quiet;
	out_mode.print = print;
	out_mode.json = json;
	return -1;
}

bool tool_want_json(void)
{
	return out_mode.json || out_mode.print;
}

bool tool_chatty(void)
{
	return !out_mode.quiet && !out_mode.json && !out_mode.print;
}

void tool_say(const char *fmt, ...)
{
	va_list ap;
	if (!tool_chatty())
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

int tool_emit(char *text)
{
	eimg_error err;
	char *value = NULL;
	int rc;

	if (!text)
		return tool_message(EIMG_EXIT_ERROR, "out of memory");
	if (out_mode.print) {
		eimg_error_clear(&err);
		rc = eimg_json_field(text, out_mode.print, &value, &err);
		free(text);
		if (rc)
			return tool_fail(&err, rc);
		puts(value);
		free(value);
		return EIMG_EXIT_OK;
	}
	if (!out_mode.quiet) {
		fputs(text, stdout);
		if (!*text || text[strlen(text) - 1] != '\n')
			putchar('\n');
	}
	free(text);
	return EIMG_EXIT_OK;
}

bool tool_parse_u64(const char *s, unsigned flags, uint64_t lo, uint64_t hi, uint64_t *out)
{
	int base = 10;
	char *end;
	if (!s || *s < '0' || *s > '9')
		return false;
	if (s[0] == '0' && s[1]) {
		if (!(flags & TOOL_NUM_HEX) || (s[1] != 'x' && s[1] != 'X'))
			return false;
		s += 2;
		base = 16;
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
			return false;
	}
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

int tool_detect_file(const char *path, int *kind, eimg_error *err)
{
	eimg_error_clear(err);
	return eimg_detect_file(path, kind, err); /* the library's one detection */
}

int tool_expect_option(struct tool_expectations *x, int opt, const char *arg, const char *twice)
{
	eimg_error err;
	int rc;

	eimg_error_clear(&err);
	switch (opt) {
	case 'e':
		if (eimg_expect_parse(&x->expect, arg, "--expect", &err) == EIMG_OK)
			return -1;
		tool_print_error(&err);
		return EIMG_EXIT_USAGE;
	case 'E':
		rc = eimg_expect_parse_file(&x->expect, arg, &err);
		return rc ? tool_fail(&err, rc) : -1;
	default:
		if (x->constraint)
			return tool_usage("%s", twice);
		return tool_constraint_arg(arg, &x->constraint);
	}
}

int tool_constraint_arg(const char *arg, eimg_constraint **c)
{
	eimg_error err;
	int rc;

	eimg_error_clear(&err);
	rc = eimg_constraint_parse_arg(arg, c, &err);
	if (rc == EIMG_OK)
		return -1;
	tool_print_error(&err);
	/* A constraint that does not parse is a usage error, from the
	 * command line or a file alike; an unreadable file is an error. */
	return rc == EIMG_EINVAL ? EIMG_EXIT_USAGE : eimg_exit_code(rc);
}
