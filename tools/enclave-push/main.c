/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-push: a verified enclave image -> an OCI registry, with its signed
 * measurement statement as a referrer (enclave-oci(7)). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <enclaveimg.h>
#include "cli/prompt.h"
#include "cli/pull.h"
#include "cli/tool.h"

static const char usage_text[] =
	"usage: enclave-push [options] IMAGE.eimg oci://HOST[:PORT]/REPO:TAG\n"
	"\n"
	"Verifies the image, then pushes it to an OCI registry as an artifact (for Nitro the EIF\n"
	"also as a layer of media type application/vnd.aws.nitro.eif) and prints its digest.\n"
	"With a key, also pushes an in-toto measurement statement signed with it (DSSE) as a\n"
	"referrer of the image.\n"
	"\n"
	"  -k, --key KEY         sign the statement: PEM/DER private key file or a pkcs11: URI\n"
	"      --passphrase-file FILE  key passphrase or token PIN: first line of FILE\n"
	"      --passphrase-env VAR    key passphrase or token PIN: environment variable VAR\n"
	"      --pkcs11-module PATH    PKCS#11 module for pkcs11: URIs (e.g. libsofthsm2.so)\n"
	TOOL_REGISTRY_HELP
	"      --timeout SEC     give up on a request that makes no progress for SEC seconds (default 30)\n"
	"      --json            print the result as JSON (schemas/push-output.schema.json)\n"
	"      --print FIELD     print one bare value of it (digest, pinned, reference, ...: the JSON names)\n"
	"  -q, --quiet           print nothing on success\n"
	"  -h, --help            show this help and exit\n"
	"  -V, --version         show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 the image does not verify.\n";

enum { OPT_PASS_FILE = 256, OPT_PASS_ENV, OPT_PKCS11_MODULE, OPT_TIMEOUT, OPT_JSON, OPT_PRINT };

struct opts {
	struct eimg_key_source key;
	struct tool_pull reg;        /* --auth-file, --plain-http */
	const char *image, *ref, *print;
	bool json, quiet;
};

static const struct tool_info tool_self = {
	.name = "enclave-push",
	.synopsis = "[options] IMAGE.eimg oci://HOST[:PORT]/REPO:TAG",
};

static int push(const struct opts *o)
{
	eimg_error err;
	struct eimg_oci_push_result res;
	struct eimg_oci_options net = o->reg.net;
	net.progress = tool_progress(tool_chatty()); /* "uploading" */
	struct eimg_oci_push_request req = {.image_path = o->image, .ref = o->ref, .key = o->key.path ? &o->key : NULL,
					    .opts = &net};
	eimg_error_clear(&err);
	int rc = eimg_oci_push(&req, &res, &err);
	if (rc)
		return tool_fail(&err, rc);
	return tool_emit(tool_want_json() ? eimg_oci_push_report_json(&res) : eimg_oci_push_report_text(&res));
}

/* Returns -1 when the option was taken, else the exit code. */
static int option(struct opts *o, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case 'k': o->key.path = arg; break;
	case OPT_PASS_FILE: o->key.passphrase_file = arg; break;
	case OPT_PASS_ENV: o->key.passphrase_env = arg; break;
	case OPT_PKCS11_MODULE: o->key.pkcs11_module = arg; break;
	case TOOL_OPT_AUTH_FILE: case TOOL_OPT_PLAIN_HTTP: return tool_pull_option(&o->reg, c, arg);
	case OPT_TIMEOUT:
		if (!tool_parse_u64(arg, 0, 1, 3600, &v))
			return tool_usage("--timeout: expected seconds from 1 to 3600, got \"%s\"", arg);
		o->reg.net.timeout = (unsigned)v;
		break;
	case OPT_JSON: o->json = true; break;
	case OPT_PRINT: o->print = arg; break;
	case 'q': o->quiet = true; break;
	case 'h': fputs(usage_text, stdout); return EIMG_EXIT_OK;
	case 'V': printf("enclave-push %s\n", EIMG_VERSION); return EIMG_EXIT_OK;
	default: return tool_bad_option();
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "passphrase-file", required_argument, NULL, OPT_PASS_FILE },
		{ "passphrase-env", required_argument, NULL, OPT_PASS_ENV },
		{ "pkcs11-module", required_argument, NULL, OPT_PKCS11_MODULE },
		TOOL_REGISTRY_LONGOPTS,
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "print", required_argument, NULL, OPT_PRINT },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	int c, ex;

	tool_init(&tool_self, argv);
	memset(&o, 0, sizeof(o));
	o.key.prompt = tool_prompt_tty;
	while ((c = getopt_long(argc, argv, "k:qhV", longopts, NULL)) != -1)
		if ((ex = option(&o, c, optarg)) >= 0)
			return ex;
	if (argc - optind < 2)
		return tool_usage("expected an image and a reference (oci://HOST[:PORT]/REPO:TAG)");
	if (argc - optind > 2)
		return tool_usage("unexpected argument '%s'", argv[optind + 2]);
	o.image = argv[optind];
	o.ref = argv[optind + 1];
	if (!eimg_oci_is_ref(o.ref))
		return tool_usage("the second argument is not a reference oci://HOST[:PORT]/REPO:TAG: '%s'", o.ref);
	if ((ex = tool_output_mode(o.quiet, o.print, o.json)) >= 0)
		return ex;
	if (!o.key.path && (o.key.passphrase_file || o.key.passphrase_env || o.key.pkcs11_module))
		return tool_usage("the passphrase and PKCS#11 options need -k");
	return push(&o);
}
