/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-measure: recompute an image's measurement from its content, show it, check it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <enclaveimg.h>
#include "eimg/attest.h"
#include "eimg/nsm.h"
#include "eimg/diff.h"
#include "common/pull.h"
#include "common/tool.h"

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

struct opts {
	const char *input;
	const char *attestation;
	const char *root;
	struct eimg_check_time when; /* --at, --max-age */
	bool when_given;
	const char *sgxs_out;
	const char *eif_out;
	const char *pcr8_cert;
	bool json, quiet;
	const char *print;
	bool diff;
	struct tool_expectations x;
	struct tool_pull pull;       /* INPUT oci://... */
};

static const struct tool_info tool_self = {
	.name = "enclave-measure",
	.synopsis = "[-q | --json | --print FIELD] [--sgxs FILE] [--expect VALUE] INPUT",
};

/* now: the time of the check (constraints such as EXPIRE). */
static struct eimg_admit_policy policy(const struct opts *o, uint64_t now)
{
	struct eimg_admit_policy p = { .target = EIMG_ADMIT_AS_BUILT, .expect = &o->x.expect,
				       .constraint = o->x.constraint, .now = now };
	return p;
}

/* The admission's reasons, printed.  A client checking an attestation
 * against a constraint is told every failing check and key; otherwise the
 * first failure is the answer. */
static int report(const struct opts *o, const struct eimg_admit_result *res, const char *source)
{
	bool all = o->attestation && o->x.constraint;
	int ex = EIMG_EXIT_OK;

	for (size_t i = 0; i < res->nreasons; i++) {
		const struct eimg_admit_reason *r = &res->reasons[i];
		eimg_error e = r->err;
		switch (r->code) {
		case EIMG_ADMIT_EXPECT:
			ex = tool_fail(&e, r->status);
			if (all)
				continue;
			return ex;
		case EIMG_ADMIT_CONSTRAINT:
			if (all) {
				tool_message(0, "'%s': constraint %s: expected %s, actual %s", source, r->failure.key,
					     r->failure.expected, r->failure.actual);
				ex = EIMG_EXIT_VERIFY;
				continue;
			}
			/* the constraint not met, in one line */
			/* fall through */
		case EIMG_ADMIT_CONSTRAINT_ERROR:
			eimg_err_context(&e, source, "constraint not met");
			return tool_fail(&e, r->status);
		default: /* the signature, as measured */
			return tool_fail(&e, r->status);
		}
	}
	return ex;
}

/* --expect and --constraint against what was recomputed. */
static int check_identity(const struct opts *o, const struct eimg_identity *id, const char *source, uint64_t now)
{
	struct eimg_admit_policy p = policy(o, now);
	struct eimg_admit_result *res = malloc(sizeof *res);
	eimg_error err;
	int rc, ex;

	if (!res)
		return tool_message(EIMG_EXIT_ERROR, "out of memory");
	eimg_error_clear(&err);
	rc = eimg_admit_identity(id, source, &p, res, &err);
	ex = rc && rc != EIMG_EVERIFY ? tool_fail(&err, rc) : report(o, res, source);
	free(res);
	return ex;
}

/* An enclave-attestation(5) document (JSON). */
static int attestation_json(const struct opts *o, const char *doc, size_t len)
{
	eimg_error err;
	struct eimg_attest_result res;
	char *text = NULL;
	int rc, ex;

	eimg_error_clear(&err);
	if (o->root) {
		return tool_usage("--root: '%s' is an enclave-attestation document, not a Nitro one",
			o->attestation);
	}
	/* Verify first (signature or quote, binding, consistency), show the
	 * claims, then judge them: the claims are printed also on a mismatch. */
	rc = eimg_attestation_check(o->attestation, doc, len, NULL, &o->when, NULL, &res, NULL, 0, NULL, &err);
	if (rc)
		return tool_fail(&err, rc);
	rc = tool_want_json() ? eimg_attest_report_json(&res, o->attestation, &text, &err)
		     : eimg_attest_report_text(&res, o->attestation, &text, &err);
	if (rc) {
		eimg_attest_result_clear(&res);
		return tool_fail(&err, rc);
	}
	ex = tool_emit(text);
	if (!ex)
		ex = check_identity(o, &res.id, o->attestation, res.checked_at);
	eimg_attest_result_clear(&res);
	return ex;
}

/* A Nitro NSM attestation document (COSE_Sign1). */
static int attestation_nsm(const struct opts *o, const uint8_t *doc, size_t len)
{
	eimg_error err;
	struct eimg_nsm_doc *d = NULL;
	struct eimg_identity id;
	char *text = NULL;
	int rc, ex;

	eimg_error_clear(&err);
	rc = eimg_nsm_attest_check(o->attestation, doc, len, o->root, &o->when, &d, &err);
	if (rc)
		return tool_fail(&err, rc);
	rc = tool_want_json() ? eimg_nsm_report_json(d, o->attestation, &text, &err)
		     : eimg_nsm_report_text(d, o->attestation, &text, &err);
	if (rc) {
		eimg_nsm_doc_free(d);
		return tool_fail(&err, rc);
	}
	ex = tool_emit(text);
	if (!ex && (o->x.constraint || !eimg_expect_empty(&o->x.expect))) {
		if (!d->chain_checked) {
			fprintf(stderr, "enclave-measure: '%s': the certificate chain was NOT checked (no --root): "
				"the document is unverified, so no constraint or expected value is accepted\n",
				o->attestation);
			ex = EIMG_EXIT_VERIFY;
		} else {
			eimg_nsm_identity(d, &id);
			ex = check_identity(o, &id, o->attestation, d->checked_at);
		}
	}
	eimg_nsm_doc_free(d);
	return ex;
}

/* --diff A B: why two builds differ; exit 0 when the measurements are equal. */
static int diff_inputs(const char *a, const char *b)
{
	eimg_error err;
	eimg_diff *d = NULL;
	char *text = NULL;
	eimg_error_clear(&err);
	int rc = eimg_diff_files(a, b, &d, &err);
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

static int check_attestation(const struct opts *o)
{
	eimg_error err;
	uint8_t *doc = NULL, *raw = NULL;
	size_t len = 0, rawlen = 0;
	int ex, kind = 0;

	eimg_error_clear(&err);
	if (o->sgxs_out)
		return tool_usage("--sgxs: not with --attestation");
	/* Text forms (hex, base64) are larger than the document they hold. */
	int rc = eimg_read_file(o->attestation, 2 * EIMG_ATTEST_MAX_DOC, &raw, &rawlen, &err);
	if (!rc)
		rc = eimg_attest_doc_decode(o->attestation, raw, rawlen, &doc, &len, &kind, &err);
	free(raw);
	if (rc)
		return tool_fail(&err, rc);
	if (kind == EIMG_ATTEST_DOC_JSON)
		ex = attestation_json(o, (const char *)doc, len);
	else
		ex = attestation_nsm(o, doc, len);
	free(doc);
	return ex;
}

static int measure_sgxs(const struct opts *o)
{
	eimg_error err;
	struct eimg_sgxs_info info;
	struct eimg_identity id;

	eimg_error_clear(&err);
	if (o->sgxs_out) {
		return tool_usage("--sgxs: the input '%s' is already an SGXS stream", o->input);
	}
	int rc = eimg_sgxs_read_file(o->input, &info, &err);
	if (rc)
		return tool_fail(&err, rc);
	/* An SGXS stream says nothing about the mode: judge it as hardware. */
	eimg_identity_sgx(info.mrenclave, NULL, EIMG_ID_HARDWARE, false, &id);
	char *text = NULL;
	rc = tool_want_json() ? eimg_report_sgxs_json(&info, o->input, &text, &err)
			      : eimg_report_sgxs_text(&info, o->input, &text, &err);
	if (rc)
		return tool_fail(&err, rc);
	int ex = tool_emit(text);
	if (ex)
		return ex;
	return check_identity(o, &id, o->input, (uint64_t)time(NULL));
}

/* An image's members with their roles, after the report (text or JSON). */
static int add_coverage(const eimg_image *img, char **text, eimg_error *err)
{
	if (tool_want_json())
		return eimg_image_coverage_json(img, text, err);
	char *cov = eimg_image_coverage_text(img), *all = NULL;
	if (!cov || asprintf(&all, "%s%s", *text, cov) < 0)
		all = NULL;
	free(cov);
	if (!all) {
		eimg_error_clear(err);
		err->code = EIMG_ENOMEM;
		snprintf(err->msg, sizeof err->msg, "out of memory");
		return EIMG_ENOMEM;
	}
	free(*text);
	*text = all;
	return EIMG_OK;
}

/* A Nitro EIF, plain or from an image (img): print the audit, then judge it. */
static int nitro_finish(const struct opts *o, eimg_nitro_report *rep, const eimg_image *img)
{
	eimg_error err;
	struct eimg_identity id;
	char *text = NULL;
	int rc, ex;

	eimg_error_clear(&err);
	rc = tool_want_json() ? eimg_nitro_report_json(rep, &text, &err) : eimg_nitro_report_text(rep, &text, &err);
	if (rc == EIMG_OK && img)
		rc = add_coverage(img, &text, &err);
	if (rc) {
		free(text);
		return tool_fail(&err, rc);
	}
	ex = tool_emit(text);
	if (ex)
		return ex;
	rc = eimg_nitro_report_verdict(rep, &err);
	if (rc)
		return tool_fail(&err, rc);
	eimg_nitro_report_identity(rep, &id);
	return check_identity(o, &id, o->input, (uint64_t)time(NULL));
}

/* An Intel SGX SDK or Open Enclave ELF. */
static int measure_foreign(const struct opts *o)
{
	eimg_error err;
	struct eimg_identity id;
	struct eimg_foreign_measure_opts fo = { .sgxs_out = o->sgxs_out, .json = o->json };
	bool have_id = false;
	char *text = NULL;

	eimg_error_clear(&err);
	int rc = eimg_foreign_measure(o->input, &fo, &text, &id, &have_id, &err);
	if (rc)
		return tool_fail(&err, rc);
	int ex = tool_emit(text);
	if (ex || have_id)
		return ex ? ex : check_identity(o, &id, o->input, (uint64_t)time(NULL));
	if (!eimg_expect_empty(&o->x.expect) || o->x.constraint)
		return tool_fail_file(EIMG_EVERIFY, o->input,
				      "MRENCLAVE was not recomputed: nothing to check --expect/--constraint against");
	return EIMG_EXIT_OK;
}

static int measure_eif(const struct opts *o)
{
	eimg_error err;
	eimg_nitro_report *rep = NULL;

	eimg_error_clear(&err);
	if (o->sgxs_out) {
		return tool_usage("--sgxs: '%s' is a Nitro EIF, not an SGX enclave", o->input);
	}
	struct eimg_nitro_audit_opts ao = { .progress = tool_progress(!o->quiet && !o->json) };
	int rc = eimg_nitro_audit_file(o->input, &ao, &rep, &err);
	if (rc)
		return tool_fail(&err, rc);
	int ex = nitro_finish(o, rep, NULL);
	eimg_nitro_report_free(rep);
	return ex;
}

static int measure_image(const struct opts *o)
{
	eimg_error err;
	eimg_image *img = NULL;
	eimg_sgx_image *s = NULL;
	struct eimg_admit_result *res = NULL;
	int rc, ex;

	eimg_error_clear(&err);
	rc = eimg_image_read_file(o->input, &img, &err);
	if (rc)
		return tool_fail(&err, rc);
	if (eimg_image_eif(img)) {
		eimg_nitro_report *rep = NULL;
		if (o->sgxs_out) {
			eimg_image_free(img);
			return tool_usage("--sgxs: '%s' is a Nitro image, not an SGX enclave", o->input);
		}
		rc = eimg_nitro_image_open(img, o->input, &rep, &err);
		ex = rc ? tool_fail(&err, rc) : nitro_finish(o, rep, img);
		eimg_image_free(img);
		eimg_nitro_report_free(rep);
		return ex;
	}
	rc = eimg_sgx_image_open(img, o->input, &s, &err);
	if (rc) {
		ex = tool_fail(&err, rc);
		goto out;
	}
	if (o->sgxs_out) {
		rc = eimg_sgxs_write_file(s->layout, o->sgxs_out, &err);
		if (rc) {
			ex = tool_fail(&err, rc);
			goto out;
		}
	}
	/* With --sgxs -, standard output holds the stream alone (its SHA-256 is MRENCLAVE). */
	if (!o->sgxs_out || strcmp(o->sgxs_out, "-") != 0) {
		char *text = NULL;
		rc = tool_want_json() ? eimg_report_sgx_json(s, o->input, &text, &err)
				      : eimg_report_sgx_text(s, o->input, &text, &err);
		if (rc == EIMG_OK && (rc = add_coverage(img, &text, &err))) {
			free(text);
			text = NULL;
		}
		ex = rc ? tool_fail(&err, rc) : tool_emit(text);
		if (ex)
			goto out;
	}
	/* The signature's MRSIGNER, ISVPRODID and ISVSVN only count once it
	 * verifies and signs this very enclave (a copied or forged SIGSTRUCT
	 * must not satisfy mrsigner:, S: or PROD:): the admission verifies it
	 * when there is anything to check. */
	struct eimg_admit_policy p = policy(o, (uint64_t)time(NULL));
	if (!(res = malloc(sizeof *res))) {
		ex = tool_message(EIMG_EXIT_ERROR, "out of memory");
		goto out;
	}
	rc = eimg_admit_sgx(s, o->input, &p, res, &err);
	ex = rc && rc != EIMG_EVERIFY ? tool_fail(&err, rc) : report(o, res, o->input);
out:
	free(res);
	eimg_sgx_image_free(s);
	eimg_image_free(img);
	return ex;
}

/* --pcr8 CERT: PCR8 from the certificate alone. */
static int pcr8_of(const struct opts *o)
{
	uint8_t pcr8[48];
	char hex[97], *text = NULL;
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_nitro_pcr8_of_cert(o->pcr8_cert, pcr8, &err);
	if (rc)
		return tool_fail(&err, rc);
	eimg_hex(pcr8, 48, hex);
	if (asprintf(&text, o->json ? "{\n  \"PCR8\": \"%s\"\n}\n" : "PCR8: %s\n", hex) < 0)
		text = NULL;
	return tool_emit(text);
}

/* --eif-out FILE, once the image measured and was accepted. */
static int eif_out(const struct opts *o)
{
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_nitro_eif_out(o->input, o->eif_out, &err);
	return rc ? tool_fail(&err, rc) : EIMG_EXIT_OK;
}

static int measure(const struct opts *o)
{
	eimg_error err;
	int kind = 0, rc = tool_detect_file(o->input, &kind, &err);

	if (rc)
		return tool_fail(&err, rc);
	switch (kind) {
	case EIMG_INPUT_IMAGE: return measure_image(o);
	case EIMG_INPUT_SGXS: return measure_sgxs(o);
	case EIMG_INPUT_EIF: return measure_eif(o);
	case EIMG_INPUT_ELF: return measure_foreign(o);
	case EIMG_INPUT_SIGSTRUCT:
		/* Through eimg_error_format: one line whatever the file name holds. */
		return tool_fail_file(EIMG_EINVAL, o->input, "a SIGSTRUCT: show and verify it with 'enclave-sign verify'");
	default:
		return tool_fail(&err, eimg_input_unknown(o->input, &err));
	}
}

int main(int argc, char **argv)
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
	struct opts o;
	eimg_error err;
	int c, rc;

	tool_init(&tool_self, argv);
	memset(&o, 0, sizeof(o));
	eimg_check_time_now(&o.when);
	while ((c = getopt_long(argc, argv, "a:e:E:c:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'q': o.quiet = true; break;
		case 'P': o.print = optarg; break;
		case 'D': o.diff = true; break;
		case 'a': o.attestation = optarg; break;
		case 'r': o.root = optarg; break;
		case 't':
		case 'm':
			eimg_error_clear(&err);
			rc = c == 't' ? eimg_check_time_parse(optarg, &o.when, &err)
				      : eimg_duration_parse(optarg, &o.when.max_age, &err);
			if (rc) {
				tool_fail(&err, rc);
				return EIMG_EXIT_USAGE;
			}
			o.when_given = true;
			break;
		case 's': o.sgxs_out = optarg; break;
		case 'O': o.eif_out = optarg; break;
		case '8': o.pcr8_cert = optarg; break;
		case 'e': case 'E': case 'c':
			rc = tool_expect_option(&o.x, c, optarg, "--constraint given twice (put every key into one constraint)");
			if (rc >= 0)
				return rc;
			break;
		case TOOL_OPT_AUTH_FILE: case TOOL_OPT_PLAIN_HTTP: case TOOL_OPT_STATEMENT_KEY:
			(void)tool_pull_option(&o.pull, c, optarg);
			break;
		case 'v': return tool_usage("signatures are verified by 'enclave-sign verify IMAGE'");
		case 'h': fputs(usage_text, stdout); return EIMG_EXIT_OK;
		case 'V': printf("enclave-measure %s\n", EIMG_VERSION); return EIMG_EXIT_OK;
		default: return tool_bad_option();
		}
	}
	rc = tool_output_mode(o.quiet, o.print, o.json);
	if (rc >= 0)
		return rc;
	if (o.pcr8_cert) {
		if (argc != optind || o.diff || o.attestation || o.sgxs_out || o.eif_out || o.x.constraint ||
		    !eimg_expect_empty(&o.x.expect))
			rc = tool_usage("--pcr8 takes a certificate and no input or other check");
		else
			rc = pcr8_of(&o);
		eimg_constraint_free(o.x.constraint);
		return rc;
	}
	if (o.eif_out && (o.diff || o.attestation))
		return tool_usage("--eif-out goes with a Nitro image to measure");
	if (o.diff) {
		if (argc - optind != 2 || o.attestation || o.sgxs_out || o.x.constraint || !eimg_expect_empty(&o.x.expect))
			rc = tool_usage("--diff takes two inputs (A B) and no other check");
		else
			rc = diff_inputs(argv[optind], argv[optind + 1]);
		eimg_constraint_free(o.x.constraint);
		return rc;
	}
	rc = check_arguments(&o, argc, argv);
	if (rc < 0 && o.eif_out && eimg_same_file(o.eif_out, o.input))
		rc = tool_usage("--eif-out: refusing to write the EIF over the input");
	if (rc < 0 && !o.attestation)
		rc = tool_pull_input(&o.pull, &o.input, false, NULL);
	if (rc < 0)
		rc = o.attestation ? check_attestation(&o) : measure(&o);
	if (rc == EIMG_EXIT_OK && o.eif_out)
		rc = eif_out(&o);
	eimg_constraint_free(o.x.constraint);
	return rc;
}
