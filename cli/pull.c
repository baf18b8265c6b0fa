/* SPDX-License-Identifier: Apache-2.0 */
/* Inputs by reference (pull.h): the registry options and the pull. */
#include <stdlib.h>
#include <string.h>

#include "cli/pull.h"
#include "cli/tool.h"

static struct eimg_oci_pulled pulled; /* removed at exit */

static void remove_pulled(void)
{
	eimg_oci_pulled_remove(&pulled);
}

int tool_pull_option(struct tool_pull *p, int opt, const char *arg)
{
	switch (opt) {
	case TOOL_OPT_AUTH_FILE: p->net.auth_file = arg; return -1;
	case TOOL_OPT_PLAIN_HTTP: p->net.plain_http = true; return -1;
	case TOOL_OPT_STATEMENT_KEY: p->statement_key = arg; return -1;
	default: return tool_bad_option();
	}
}

int tool_pull_input(const struct tool_pull *p, const char **input, bool quiet, const char *after_failure)
{
	struct eimg_oci_verified v;
	eimg_error err;
	char ref[600], line[1100];

	if (!eimg_oci_is_ref(*input))
		return p->statement_key ? tool_usage("--statement-key checks an image pulled by reference (oci://...)") : -1;
	eimg_error_clear(&err);
	struct eimg_oci_options net = p->net;
	net.progress = tool_progress(!quiet && tool_chatty()); /* "downloading" */
	int rc = eimg_oci_fetch(*input, &net, p->statement_key, &pulled, &v, &err);
	if (rc)
		return tool_message(eimg_exit_code(rc), "%s%s%s", eimg_error_format(&err, line, sizeof(line)),
				    after_failure ? "; " : "", after_failure ? after_failure : "");
	atexit(remove_pulled);
	if (!quiet) {
		tool_message(0, "%s is %s", eimg_escape(*input, strlen(*input), ref, sizeof(ref)), pulled.resolved);
		if (p->statement_key)
			tool_message(0, "statement %s verified", v.statement_digest);
	}
	*input = pulled.path;
	return -1;
}
