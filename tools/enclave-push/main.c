/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-push: a verified enclave image -> an OCI registry, with its signed
 * measurement statement as a referrer (enclave-oci(7)). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include <enclaveimg.h>

static const char usage_text[] =
	"usage: enclave-push [options] IMAGE.eimg oci://HOST[:PORT]/REPO:TAG\n"
	"\n"
	"Verifies the image, then pushes it to an OCI registry as an artifact (for Nitro the EIF\n"
	"also as a layer of media type application/vnd.aws.nitro.eif) and prints its digest.\n"
	"With a key, also pushes an in-toto measurement statement signed with it (DSSE) as a\n"
	"referrer of the image.\n"
	"\n"
	"  -k, --key KEY              sign the statement: PEM/DER private key file or a pkcs11: URI\n"
	"      --passphrase-file FILE key passphrase or token PIN: first line of FILE\n"
	"      --passphrase-env VAR   key passphrase or token PIN: environment variable VAR\n"
	"      --pkcs11-module PATH   PKCS#11 module for pkcs11: URIs (e.g. libsofthsm2.so)\n"
	"      --auth-file FILE       registry credentials (default: $REGISTRY_AUTH_FILE,\n"
	"                             then ~/.docker/config.json)\n"
	"      --plain-http           allow plain HTTP to a registry that is not on loopback\n"
	"      --timeout SEC          give up on a request that makes no progress for SEC seconds (default 30)\n"
	"      --json                 print the result as JSON\n"
	"  -q, --quiet                print nothing on success\n"
	"  -h, --help                 show this help and exit\n"
	"  -V, --version              show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 the image does not verify.\n";

enum { OPT_PASS_FILE = 256, OPT_PASS_ENV, OPT_PKCS11_MODULE, OPT_AUTH_FILE, OPT_PLAIN_HTTP, OPT_TIMEOUT, OPT_JSON };

struct opts {
	struct eimg_key_source key;
	struct eimg_oci_options net;
	const char *image, *ref;
	bool json, quiet;
};

static int fail(const eimg_error *err, int status)
{
	char buf[1024];
	fprintf(stderr, "enclave-push: %s\n", eimg_error_format(err, buf, sizeof(buf)));
	return eimg_exit_code(status);
}

static int usage_error(const char *msg, const char *arg)
{
	char esc[256] = "";
	if (arg)
		eimg_escape(arg, strlen(arg), esc, sizeof(esc));
	fprintf(stderr, "enclave-push: %s%s%s\n", msg, arg ? ": " : "", esc);
	return EIMG_EXIT_USAGE;
}

static int print_result(const struct opts *o, const struct eimg_oci_push_result *r)
{
	struct eimg_oci_ref ref;
	char pinned[600];
	eimg_error err;
	if (eimg_oci_ref_parse(o->ref, &ref, &err) != EIMG_OK)
		return fail(&err, err.code);
	eimg_oci_ref_format(&ref, r->digest, pinned, sizeof(pinned));
	const char *via = r->referrers_api ? "referrers API" : "fallback tag";
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "reference", o->ref, "digest", r->digest, "pinned", pinned,
				      "target", r->target == EIMG_TARGET_NITRO ? "nitro" : "sgx");
		if (j)
			json_object_set_new(j, "statement", r->statement_digest[0]
				? json_pack("{s:s, s:s}", "digest", r->statement_digest, "attached_by",
					    r->referrers_api ? "referrers-api" : "fallback-tag")
				: json_null());
		char *s = j ? json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
		json_decref(j);
		if (!s)
			return fprintf(stderr, "enclave-push: out of memory\n"), EIMG_EXIT_ERROR;
		printf("%s\n", s);
		free(s);
	} else {
		printf("pushed: %s\ndigest: %s\npinned: %s\n", o->ref, r->digest, pinned);
		if (r->statement_digest[0])
			printf("statement: %s (%s)\n", r->statement_digest, via);
	}
	return fflush(stdout) == 0 ? EIMG_EXIT_OK : EIMG_EXIT_ERROR;
}

static int run(const struct opts *o)
{
	eimg_error err;
	struct eimg_oci_push_result res;
	struct eimg_oci_push_request req = {.image_path = o->image, .ref = o->ref, .key = o->key.path ? &o->key : NULL,
					    .opts = &o->net};
	eimg_error_clear(&err);
	int rc = eimg_oci_push(&req, &res, &err);
	if (rc)
		return fail(&err, rc);
	return o->quiet ? EIMG_EXIT_OK : print_result(o, &res);
}

static int parse_timeout(const char *s, unsigned *out)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || s[0] == '0' || s[0] == '-' || v > 3600)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"key", required_argument, NULL, 'k'},
		{"passphrase-file", required_argument, NULL, OPT_PASS_FILE},
		{"passphrase-env", required_argument, NULL, OPT_PASS_ENV},
		{"pkcs11-module", required_argument, NULL, OPT_PKCS11_MODULE},
		{"auth-file", required_argument, NULL, OPT_AUTH_FILE},
		{"plain-http", no_argument, NULL, OPT_PLAIN_HTTP},
		{"timeout", required_argument, NULL, OPT_TIMEOUT},
		{"json", no_argument, NULL, OPT_JSON},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct opts o;
	int c;
	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "k:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'k': o.key.path = optarg; break;
		case OPT_PASS_FILE: o.key.passphrase_file = optarg; break;
		case OPT_PASS_ENV: o.key.passphrase_env = optarg; break;
		case OPT_PKCS11_MODULE: o.key.pkcs11_module = optarg; break;
		case OPT_AUTH_FILE: o.net.auth_file = optarg; break;
		case OPT_PLAIN_HTTP: o.net.plain_http = true; break;
		case OPT_TIMEOUT:
			if (parse_timeout(optarg, &o.net.timeout) != 0)
				return usage_error("--timeout: expected seconds from 1 to 3600", optarg);
			break;
		case OPT_JSON: o.json = true; break;
		case 'q': o.quiet = true; break;
		case 'h': fputs(usage_text, stdout); return EIMG_EXIT_OK;
		case 'V': printf("enclave-push %s\n", EIMG_VERSION); return EIMG_EXIT_OK;
		default:
			fprintf(stderr, "usage: enclave-push [options] IMAGE.eimg oci://HOST[:PORT]/REPO:TAG (see --help)\n");
			return EIMG_EXIT_USAGE;
		}
	}
	if (argc - optind != 2)
		return usage_error(argc - optind < 2 ? "expected an image and a reference (oci://HOST/REPO:TAG)"
						     : "unexpected argument", argc - optind > 2 ? argv[optind + 2] : NULL);
	o.image = argv[optind];
	o.ref = argv[optind + 1];
	if (!eimg_oci_is_ref(o.ref))
		return usage_error("the second argument is not a reference oci://HOST[:PORT]/REPO:TAG", o.ref);
	if (o.json && o.quiet)
		return usage_error("--json and --quiet cannot be used together", NULL);
	if (!o.key.path && (o.key.passphrase_file || o.key.passphrase_env || o.key.pkcs11_module))
		return usage_error("the passphrase and PKCS#11 options need -k", NULL);
	return run(&o);
}
