/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-measure: recompute an image's measurement from its content, show it, check it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <enclaveimg.h>
#include "eimg/diff.h"
#include "enclave-measure/measure.h"

static const char usage_text[] =
	"usage: enclave-measure [-q | --json | --print FIELD] [--sgxs FILE] [--expect VALUE]... [--expect-file FILE]\n"
	"                       [--constraint TEXT] INPUT\n"
	"       enclave-measure --diff [--json] A B\n"
	"       enclave-measure --pcr8 CERT [--json]\n"
	"       enclave-measure --attestation DOC [--root ROOT.pem] [--at TIME] [--max-age DURATION]\n"
	"                       [--json] [--expect VALUE]... [--expect-file FILE] [--constraint TEXT]\n"
	"\n"
	"Recomputes the measurement of INPUT from its content and prints it. INPUT is an enclave\n"
	"image (.eimg), an SGXS load stream (.sgxs), a Nitro EIF (.eif), or another tool chain's\n"
	"enclave: an Intel SGX SDK enclave (.signed.so; its metadata is shown and MRENCLAVE\n"
	"recomputed) or an Open Enclave one (properties shown); the kind is detected from the content;\n"
	"oci://HOST[:PORT]/REPO:TAG or @sha256:DIGEST pulls it from a registry first (every digest\n"
	"checked; enclave-oci(7)).\n"
	"\n"
	"With --attestation, checks an attestation document as a client would: an\n"
	"enclave-attestation(5) document (from enclave-run --attestation-out) or a Nitro NSM\n"
	"document (COSE_Sign1: CBOR, or its hex or base64 text); verifies it, prints its claims,\n"
	"then checks --expect/--constraint.\n"
	"\n"
	"      --diff            compare two images, EIFs or SGXS streams: exit 0 when the\n"
	"                        measurements are equal, else 3; names every difference\n"
	"  -a, --attestation DOC check the attestation document DOC instead of measuring an input\n"
	"      --root FILE       Nitro documents: the only trusted root certificate (PEM or DER);\n"
	"                        without it the chain is not checked and any check exits 3\n"
	"      --at TIME         check the document as of TIME: RFC 3339 UTC (2023-01-18T13:07:19Z),\n"
	"                        seconds since 1970, 'now' (the default) or 'document' (its own\n"
	"                        signed timestamp)\n"
	"      --max-age DURATION  the document's timestamp must lie within DURATION (300, 90s, 5m,\n"
	"                        2h, 1d) before the time of the check\n"
	"      --json            print the result as JSON (schemas/measure-output.schema.json)\n"
	"  -q, --quiet           print nothing on success (errors and mismatches still on stderr; no\n"
	"                        progress line, which is drawn on a terminal only, never with --json)\n"
	"      --print FIELD     print one bare value of the result (mrenclave, mrsigner, isvsvn, pcr0 .. pcr8,\n"
	"                        size, ...: the names of the --json output)\n"
	"      --sgxs FILE       write the image's or SDK enclave's SGXS load stream to FILE\n"
	"                        (sha256 of it = MRENCLAVE)\n"
	"      --eif-out FILE    Nitro image: also write its EIF (the signed one after enclave-sign)\n"
	"                        to FILE, byte for byte, when the measurement is accepted\n"
	"      --pcr8 CERT       print the PCR8 that signing with certificate CERT gives, as\n"
	"                        nitro-cli's pcr command does for a signing certificate\n"
	"  -e, --expect VALUE    check expected values: 64 hex digits (MRENCLAVE) or tokens\n"
	"                        mrenclave:HEX mrsigner:HEX PCR0:HEX .. PCR8:HEX; repeatable\n"
	"  -E, --expect-file FILE  read expected values from FILE (same syntax, # comments)\n"
	"  -c, --constraint TEXT   check a constraint (enclave-constraints(7)); @FILE reads it from FILE\n"
	"      --verify          signatures are verified by 'enclave-sign verify'\n"
	TOOL_PULL_HELP
	"  -h, --help            show this help and exit\n"
	"  -V, --version         show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 measurement mismatch, altered image, or an\n"
	"attestation that is not genuine or does not match.\n";


static const struct tool_info tool_self = {
	.name = "enclave-measure",
	.synopsis = "[-q | --json | --print FIELD] [--sgxs FILE] [--expect VALUE] INPUT",
};

/* --diff A B: why two builds differ; exit 0 when the measurements are equal. */
static int diff_inputs(const char *a, const char *b)
{
	eimg_error err;
	eimg_diff *d = NULL;
	char *text = NULL;
	eimg_error_clear(&err);
	int rc = eimg_diff_files_progress(a, b, tool_progress(tool_chatty()), &d, &err);
	if (!rc)
		rc = tool_want_json() ? eimg_diff_report_json(d, a, b, &text, &err) : eimg_diff_report_text(d, a, b, &text, &err);
	if (rc) {
		eimg_diff_free(d);
		return tool_fail(&err, rc);
	}
	int ex = tool_emit(text);
	if (!ex && !d->measurement_equal)
		ex = EIMG_EXIT_VERIFY;
	eimg_diff_free(d);
	return ex;
}

/* Returns -1 when the arguments make sense (and sets o->input), else the exit code. */
static int check_arguments(struct opts *o, int argc, char **argv)
{
	if (o->attestation || o->root || o->when_given) {
		if (!o->attestation)
			return tool_usage("%s needs --attestation DOC", o->root ? "--root" : "--at/--max-age");
		if (optind != argc)
			return tool_usage("--attestation checks a document, not an input: got '%s' too", argv[optind]);
		return -1;
	}
	if (optind == argc)
		return tool_usage("no input given (an .eimg image or an .sgxs file)");
	if (argc - optind > 1)
		return tool_usage("one input at a time, got '%s' too", argv[optind + 1]);
	o->input = argv[optind];
	/* --sgxs naming the input: refused by the library (eimg_output_check). */
	return -1;
}

/* --pcr8 CERT: PCR8 from the certificate alone. */
static int pcr8_of(const struct opts *o)
{
	eimg_error err;
	char *text = NULL;
	eimg_error_clear(&err);
	int rc = eimg_nitro_pcr8_report(o->pcr8_cert, o->json, &text, &err);
	return rc ? tool_fail(&err, rc) : tool_emit(text);
}

/* --eif-out FILE, once the image measured and was accepted. */
static int eif_out(const struct opts *o)
{
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_nitro_eif_out_progress(o->input, o->eif_out, tool_progress(tool_chatty()), &err);
	return rc ? tool_fail(&err, rc) : EIMG_EXIT_OK;
}

/* Parses the options into *o: -1 to go on, else the exit code. */
static int parse_options(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "attestation", required_argument, NULL, 'a' },
		{ "root", required_argument, NULL, 'r' },
		{ "at", required_argument, NULL, 't' },
		{ "diff", no_argument, NULL, 'D' },
		{ "max-age", required_argument, NULL, 'm' },
		{ "sgxs", required_argument, NULL, 's' },
		{ "eif-out", required_argument, NULL, 'O' },
		{ "pcr8", required_argument, NULL, '8' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "expect", required_argument, NULL, 'e' },
		{ "expect-file", required_argument, NULL, 'E' },
		{ "constraint", required_argument, NULL, 'c' },
		{ "verify", no_argument, NULL, 'v' },
		TOOL_PULL_LONGOPTS,
		{ "print", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	eimg_error err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "a:e:E:c:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o->json = true; break;
		case 'q': o->quiet = true; break;
		case 'P': o->print = optarg; break;
		case 'D': o->diff = true; break;
		case 'a': o->attestation = optarg; break;
		case 'r': o->root = optarg; break;
		case 't':
		case 'm':
			eimg_error_clear(&err);
			rc = c == 't' ? eimg_check_time_parse(optarg, &o->when, &err)
				      : eimg_duration_parse(optarg, &o->when.max_age, &err);
			if (rc) {
				tool_fail(&err, rc);
				return EIMG_EXIT_USAGE;
			}
			o->when_given = true;
			break;
		case 's': o->sgxs_out = optarg; break;
		case 'O': o->eif_out = optarg; break;
		case '8': o->pcr8_cert = optarg; break;
		case 'e': case 'E': case 'c':
			rc = tool_expect_option(&o->x, c, optarg, "--constraint given twice (put every key into one constraint)");
			if (rc >= 0)
				return rc;
			break;
		case TOOL_OPT_AUTH_FILE: case TOOL_OPT_PLAIN_HTTP: case TOOL_OPT_STATEMENT_KEY:
			(void)tool_pull_option(&o->pull, c, optarg);
			break;
		case 'v': return tool_usage("signatures are verified by 'enclave-sign verify IMAGE'");
		case 'h': fputs(usage_text, stdout); return EIMG_EXIT_OK;
		case 'V': printf("enclave-measure %s\n", EIMG_VERSION); return EIMG_EXIT_OK;
		default: return tool_bad_option();
		}
	}
	return tool_output_mode(o->quiet, o->print, o->json);
}

/* The one job the options ask for: the exit code. */
static int run(struct opts *o, int argc, char **argv)
{
	int rc;
	if (o->pcr8_cert) {
		if (argc != optind || o->diff || o->attestation || o->sgxs_out || o->eif_out || o->x.constraint ||
		    !eimg_expect_empty(&o->x.expect))
			return tool_usage("--pcr8 takes a certificate and no input or other check");
		return pcr8_of(o);
	}
	if (o->eif_out && (o->diff || o->attestation))
		return tool_usage("--eif-out goes with a Nitro image to measure");
	if (o->diff) {
		if (argc - optind != 2 || o->attestation || o->sgxs_out || o->x.constraint || !eimg_expect_empty(&o->x.expect))
			return tool_usage("--diff takes two inputs (A B) and no other check");
		return diff_inputs(argv[optind], argv[optind + 1]);
	}
	rc = check_arguments(o, argc, argv);
	if (rc < 0 && o->eif_out && eimg_same_file(o->eif_out, o->input))
		rc = tool_usage("--eif-out: refusing to write the EIF over the input");
	if (rc < 0 && !o->attestation)
		rc = tool_pull_input(&o->pull, &o->input, false, NULL);
	if (rc < 0)
		rc = o->attestation ? measure_attestation(o) : measure_input(o);
	if (rc == EIMG_EXIT_OK && o->eif_out)
		rc = eif_out(o);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o;
	int rc;

	tool_init(&tool_self, argv);
	memset(&o, 0, sizeof(o));
	eimg_check_time_now(&o.when);
	rc = parse_options(&o, argc, argv);
	if (rc < 0)
		rc = run(&o, argc, argv);
	eimg_constraint_free(o.x.constraint);
	return rc;
}
