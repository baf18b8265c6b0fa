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
#include "eimg/diff.h"
#include "eimg/nsm.h"
#include "core/internal.h"

static const char usage_text[] =
	"usage: enclave-measure [--json] [--sgxs FILE] [--expect VALUE]... [--expect-file FILE]\n"
	"                       [--constraint TEXT] INPUT\n"
	"       enclave-measure --diff [--json] A B\n"
	"       enclave-measure --attestation DOC [--root ROOT.pem] [--at TIME] [--max-age DURATION]\n"
	"                       [--json] [--expect VALUE]... [--expect-file FILE] [--constraint TEXT]\n"
	"\n"
	"Recomputes the measurement of INPUT from its content and prints it. INPUT is an enclave\n"
	"image (.eimg), an SGXS load stream (.sgxs) or a Nitro EIF (.eif); the kind is detected\n"
	"from the content.\n"
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
	"      --sgxs FILE       write the image's SGXS load stream to FILE (sha256 of it = MRENCLAVE)\n"
	"  -e, --expect VALUE    check expected values: 64 hex digits (MRENCLAVE) or tokens\n"
	"                        mrenclave:HEX mrsigner:HEX PCR0:HEX .. PCR8:HEX; repeatable\n"
	"  -E, --expect-file FILE  read expected values from FILE (same syntax, # comments)\n"
	"  -c, --constraint TEXT   check a constraint (enclave-constraints(7)); @FILE reads it from FILE\n"
	"      --verify          signatures are verified by 'enclave-sign verify'\n"
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
	bool diff;
	const char *sgxs_out;
	bool json;
	struct eimg_expect expect;
	eimg_constraint *constraint;
};

static int fail(const eimg_error *err, int status)
{
	char buf[1100];
	fprintf(stderr, "enclave-measure: %s\n", eimg_error_format(err, buf, sizeof(buf)));
	return eimg_exit_code(status);
}

static int read_head(const char *path, uint8_t *head, size_t size, size_t *got, eimg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err->file, sizeof(err->file), "%s", path);
		snprintf(err->msg, sizeof(err->msg), "cannot open: %s", strerror(errno));
		err->code = EIMG_EIO;
		return EIMG_EIO;
	}
	ssize_t n = read(fd, head, size);
	int e = errno;
	close(fd);
	if (n < 0) {
		snprintf(err->file, sizeof(err->file), "%s", path);
		snprintf(err->msg, sizeof(err->msg), "cannot read: %s", strerror(e));
		err->code = EIMG_EIO;
		return EIMG_EIO;
	}
	*got = (size_t)n;
	return EIMG_OK;
}

static int emit(char *text)
{
	if (!text) {
		fprintf(stderr, "enclave-measure: out of memory\n");
		return EIMG_EXIT_ERROR;
	}
	fputs(text, stdout);
	free(text);
	return EIMG_EXIT_OK;
}

/* --expect and --constraint against what was recomputed. */
/* now: the time of the check (constraints such as EXPIRE). */
static int check_identity(const struct opts *o, const struct eimg_identity *id, const char *source, uint64_t now)
{
	eimg_error err;
	int rc;

	eimg_error_clear(&err);
	if (o->attestation && o->constraint) {
		/* A client's check: name every failing key. */
		struct eimg_constraint_failure f[16];
		size_t nf = 0;
		int failed = 0;
		if (!eimg_expect_empty(&o->expect) && (rc = eimg_expect_check(&o->expect, id, &err))) {
			snprintf(err.file, sizeof(err.file), "%s", source);
			failed = fail(&err, rc);
			eimg_error_clear(&err);
		}
		rc = eimg_constraint_check(o->constraint, id, now, f, 16, &nf, &err);
		if (rc == EIMG_EVERIFY && nf > 0) {
			for (size_t i = 0; i < nf && i < 16; i++)
				fprintf(stderr, "enclave-measure: '%s': constraint %s: expected %s, actual %s\n", source,
					f[i].key, f[i].expected, f[i].actual);
			return EIMG_EXIT_VERIFY;
		}
		if (rc) {
			eimg_err_context(&err, source, "constraint not met");
			return fail(&err, rc);
		}
		return failed;
	}
	if (!eimg_expect_empty(&o->expect)) {
		rc = eimg_expect_check(&o->expect, id, &err);
		if (rc) {
			snprintf(err.file, sizeof(err.file), "%s", source);
			return fail(&err, rc);
		}
	}
	if (o->constraint) {
		rc = eimg_constraint_check(o->constraint, id, now, NULL, 0, NULL, &err);
		if (rc) {
			eimg_err_context(&err, source, "constraint not met");
			return fail(&err, rc);
		}
	}
	return EIMG_EXIT_OK;
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
		fprintf(stderr, "enclave-measure: --root: '%s' is an enclave-attestation document, not a Nitro one\n",
			o->attestation);
		return EIMG_EXIT_USAGE;
	}
	/* Verify first (signature or quote, binding, consistency), show the
	 * claims, then judge them: the claims are printed also on a mismatch. */
	rc = eimg_attestation_check(o->attestation, doc, len, NULL, &o->when, NULL, &res, NULL, 0, NULL, &err);
	if (rc)
		return fail(&err, rc);
	rc = o->json ? eimg_attest_report_json(&res, o->attestation, &text, &err)
		     : eimg_attest_report_text(&res, o->attestation, &text, &err);
	if (rc) {
		eimg_attest_result_clear(&res);
		return fail(&err, rc);
	}
	ex = emit(text);
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
		return fail(&err, rc);
	rc = o->json ? eimg_nsm_report_json(d, o->attestation, &text, &err)
		     : eimg_nsm_report_text(d, o->attestation, &text, &err);
	if (rc) {
		eimg_nsm_doc_free(d);
		return fail(&err, rc);
	}
	ex = emit(text);
	if (!ex && (o->constraint || !eimg_expect_empty(&o->expect))) {
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

static int check_attestation(const struct opts *o)
{
	eimg_error err;
	uint8_t *doc = NULL;
	size_t len = 0;
	int ex;

	eimg_error_clear(&err);
	if (o->sgxs_out) {
		fprintf(stderr, "enclave-measure: --sgxs: not with --attestation\n");
		return EIMG_EXIT_USAGE;
	}
	uint8_t *raw = NULL;
	size_t rawlen = 0;
	int kind = 0;
	/* Text forms (hex, base64) are larger than the document they hold. */
	int rc = eimg_read_file(o->attestation, 2 * EIMG_ATTEST_MAX_DOC, &raw, &rawlen, &err);
	if (!rc)
		rc = eimg_attest_doc_decode(o->attestation, raw, rawlen, &doc, &len, &kind, &err);
	free(raw);
	if (rc)
		return fail(&err, rc);
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
		fprintf(stderr, "enclave-measure: --sgxs: the input '%s' is already an SGXS stream\n", o->input);
		return EIMG_EXIT_USAGE;
	}
	int rc = eimg_sgxs_read_file(o->input, &info, &err);
	if (rc)
		return fail(&err, rc);
	/* An SGXS stream says nothing about the mode: judge it as hardware. */
	eimg_identity_sgx(info.mrenclave, NULL, EIMG_ID_HARDWARE, false, &id);
	int ex = emit(o->json ? eimg_report_sgxs_json(&info, o->input) : eimg_report_sgxs_text(&info, o->input));
	if (ex)
		return ex;
	return check_identity(o, &id, o->input, (uint64_t)time(NULL));
}

/* A Nitro EIF, plain or from an image: print the audit, then judge it. */
static int nitro_finish(const struct opts *o, eimg_nitro_report *rep)
{
	eimg_error err;
	struct eimg_identity id;
	char *text = NULL;
	int rc, ex;

	eimg_error_clear(&err);
	rc = o->json ? eimg_nitro_report_json(rep, &text, &err) : eimg_nitro_report_text(rep, &text, &err);
	if (rc)
		return fail(&err, rc);
	ex = emit(text);
	if (ex)
		return ex;
	rc = eimg_nitro_report_verdict(rep, &err);
	if (rc)
		return fail(&err, rc);
	eimg_nitro_report_identity(rep, &id);
	return check_identity(o, &id, o->input, (uint64_t)time(NULL));
}

/* --diff A B: why two builds differ; exit 0 when the measurements are equal. */
static int diff_inputs(const struct opts *o, const char *a, const char *b)
{
	eimg_error err;
	eimg_diff *d = NULL;
	char *text = NULL;
	eimg_error_clear(&err);
	int rc = eimg_diff_files(a, b, &d, &err);
	if (!rc)
		rc = o->json ? eimg_diff_report_json(d, a, b, &text, &err) : eimg_diff_report_text(d, a, b, &text, &err);
	if (rc) {
		eimg_diff_free(d);
		return fail(&err, rc);
	}
	int ex = emit(text);
	if (!ex && !d->measurement_equal)
		ex = EIMG_EXIT_VERIFY;
	eimg_diff_free(d);
	return ex;
}

static int measure_eif(const struct opts *o)
{
	eimg_error err;
	eimg_nitro_report *rep = NULL;

	eimg_error_clear(&err);
	if (o->sgxs_out) {
		fprintf(stderr, "enclave-measure: --sgxs: '%s' is a Nitro EIF, not an SGX enclave\n", o->input);
		return EIMG_EXIT_USAGE;
	}
	int rc = eimg_nitro_audit_file(o->input, NULL, &rep, &err);
	if (rc)
		return fail(&err, rc);
	int ex = nitro_finish(o, rep);
	eimg_nitro_report_free(rep);
	return ex;
}

static int measure_image(const struct opts *o)
{
	eimg_error err;
	eimg_image *img = NULL;
	eimg_sgx_image *s = NULL;
	struct eimg_identity id;
	struct eimg_sigstruct ss;
	bool signed_ = false;
	int rc, ex;

	eimg_error_clear(&err);
	rc = eimg_image_read_file(o->input, &img, &err);
	if (rc)
		return fail(&err, rc);
	if (img->eif) {
		eimg_nitro_report *rep = NULL;
		if (o->sgxs_out) {
			eimg_image_free(img);
			fprintf(stderr, "enclave-measure: --sgxs: '%s' is a Nitro image, not an SGX enclave\n", o->input);
			return EIMG_EXIT_USAGE;
		}
		rc = eimg_nitro_image_open(img, o->input, &rep, &err);
		eimg_image_free(img);
		if (rc)
			return fail(&err, rc);
		ex = nitro_finish(o, rep);
		eimg_nitro_report_free(rep);
		return ex;
	}
	rc = eimg_sgx_image_open(img, o->input, &s, &err);
	if (rc) {
		ex = fail(&err, rc);
		goto out;
	}
	if (o->sgxs_out) {
		rc = eimg_sgxs_write_file(s->layout, o->sgxs_out, &err);
		if (rc) {
			ex = fail(&err, rc);
			goto out;
		}
	}
	/* With --sgxs -, standard output holds the stream alone (its SHA-256 is MRENCLAVE). */
	if (!o->sgxs_out || strcmp(o->sgxs_out, "-") != 0) {
		ex = emit(o->json ? eimg_report_sgx_json(s, o->input) : eimg_report_sgx_text(s, o->input));
		if (ex)
			goto out;
	}
	if (img->sigstruct) {
		/* The signature's MRSIGNER, ISVPRODID and ISVSVN only count once it
		 * verifies and signs this very enclave (a copied or forged
		 * SIGSTRUCT must not satisfy mrsigner:, S: or PROD:). */
		if (!eimg_expect_empty(&o->expect) || o->constraint)
			rc = eimg_sign_verify_opened(s, o->input, &ss, &err);
		else
			rc = eimg_sigstruct_decode(o->input, img->sigstruct, img->sigstruct_size, &ss, &err);
		if (rc) {
			ex = fail(&err, rc);
			goto out;
		}
		signed_ = true;
	}
	/* Not launched: a signature that permits only debug launches can only run as debug. */
	eimg_identity_sgx(s->m.mrenclave, signed_ ? &ss : NULL, s->m.mode,
			  signed_ && !eimg_sigstruct_production_allowed(&ss), &id);
	ex = check_identity(o, &id, o->input, (uint64_t)time(NULL));
out:
	eimg_sgx_image_free(s);
	eimg_image_free(img);
	return ex;
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
		{ "expect", required_argument, NULL, 'e' },
		{ "expect-file", required_argument, NULL, 'E' },
		{ "constraint", required_argument, NULL, 'c' },
		{ "verify", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	eimg_error err;
	int c, rc;

	memset(&o, 0, sizeof(o));
	eimg_error_clear(&err);
	eimg_check_time_now(&o.when);
	while ((c = getopt_long(argc, argv, "a:e:E:c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': o.json = true; break;
		case 'a': o.attestation = optarg; break;
		case 'r': o.root = optarg; break;
		case 'D': o.diff = true; break;
		case 't':
		case 'm':
			rc = c == 't' ? eimg_check_time_parse(optarg, &o.when, &err)
				      : eimg_duration_parse(optarg, &o.when.max_age, &err);
			if (rc) {
				fail(&err, rc);
				return EIMG_EXIT_USAGE;
			}
			o.when_given = true;
			break;
		case 's': o.sgxs_out = optarg; break;
		case 'e':
			rc = eimg_expect_parse(&o.expect, optarg, "--expect", &err);
			if (rc) {
				fail(&err, rc);
				return EIMG_EXIT_USAGE;
			}
			break;
		case 'E':
			rc = eimg_expect_parse_file(&o.expect, optarg, &err);
			if (rc)
				return fail(&err, rc);
			break;
		case 'c':
			if (o.constraint) {
				fprintf(stderr, "enclave-measure: --constraint given twice (put every key into one constraint)\n");
				return EIMG_EXIT_USAGE;
			}
			rc = eimg_constraint_parse_arg(optarg, &o.constraint, &err);
			if (rc) {
				fail(&err, rc);
				/* A constraint that does not parse is a usage error, from the
				 * command line or a file alike; an unreadable file is an error. */
				return rc == EIMG_EINVAL ? EIMG_EXIT_USAGE : eimg_exit_code(rc);
			}
			break;
		case 'v':
			fprintf(stderr, "enclave-measure: signatures are verified by 'enclave-sign verify IMAGE'\n");
			return EIMG_EXIT_USAGE;
		case 'h': fputs(usage_text, stdout); return EIMG_EXIT_OK;
		case 'V': printf("enclave-measure %s\n", EIMG_VERSION); return EIMG_EXIT_OK;
		default:
			fprintf(stderr, "usage: enclave-measure [--json] [--sgxs FILE] [--expect VALUE] INPUT (see --help)\n");
			return EIMG_EXIT_USAGE;
		}
	}
	if (o.diff) {
		if (argc - optind != 2 || o.attestation || o.sgxs_out || o.constraint || !eimg_expect_empty(&o.expect)) {
			fprintf(stderr, "enclave-measure: --diff takes two inputs (A B) and no other check\n");
			rc = EIMG_EXIT_USAGE;
		} else {
			rc = diff_inputs(&o, argv[optind], argv[optind + 1]);
		}
		eimg_constraint_free(o.constraint);
		return rc;
	}
	if (o.attestation || o.root || o.when_given) {
		if (!o.attestation) {
			fprintf(stderr, "enclave-measure: %s needs --attestation DOC\n", o.root ? "--root" : "--at/--max-age");
			rc = EIMG_EXIT_USAGE;
		} else if (optind != argc) {
			fprintf(stderr, "enclave-measure: --attestation checks a document, not an input: got '%s' too\n",
				argv[optind]);
			rc = EIMG_EXIT_USAGE;
		} else {
			rc = check_attestation(&o);
		}
		eimg_constraint_free(o.constraint);
		return rc;
	}
	if (optind == argc) {
		fprintf(stderr, "enclave-measure: no input given (an .eimg image or an .sgxs file)\n");
		return EIMG_EXIT_USAGE;
	}
	if (argc - optind > 1) {
		fprintf(stderr, "enclave-measure: one input at a time, got '%s' too\n", argv[optind + 1]);
		return EIMG_EXIT_USAGE;
	}
	o.input = argv[optind];
	if (o.sgxs_out && eimg_same_file(o.sgxs_out, o.input)) {
		fprintf(stderr, "enclave-measure: --sgxs: refusing to write the stream over the input\n");
		return EIMG_EXIT_USAGE;
	}

	uint8_t head[512];
	size_t got = 0;
	rc = read_head(o.input, head, sizeof(head), &got, &err);
	if (rc)
		return fail(&err, rc);
	switch (eimg_detect_input(head, got)) {
	case EIMG_INPUT_IMAGE: rc = measure_image(&o); break;
	case EIMG_INPUT_SGXS: rc = measure_sgxs(&o); break;
	case EIMG_INPUT_EIF: rc = measure_eif(&o); break;
	case EIMG_INPUT_SIGSTRUCT:
		/* Through eimg_error_format: one line whatever the file name holds. */
		eimg_err(&err, EIMG_EINVAL, o.input, "a SIGSTRUCT: show and verify it with 'enclave-sign verify'");
		rc = fail(&err, EIMG_EINVAL);
		break;
	default:
		eimg_err(&err, EIMG_EINVAL, o.input, "not an enclave image (.eimg), SGXS stream or EIF");
		rc = fail(&err, EIMG_EINVAL);
		break;
	}
	eimg_constraint_free(o.constraint);
	return rc;
}
