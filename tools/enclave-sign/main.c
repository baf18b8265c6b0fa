/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-sign: sign SGX enclaves (images, SGXS files, MRENCLAVE values) and
 * Nitro enclaves (images, EIFs), two-step signing for HSMs, verification and
 * display of signatures.  The options are in options.c; each command here is
 * one library call and its output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <enclaveimg.h>
#include <eimg/constraint.h>
#include <eimg/sigstruct.h>
#include "cli/prompt.h"
#include "cli/tool.h"
#include "enclave-sign/options.h"

static const struct tool_info tool_self = {
	.name = "enclave-sign",
	.synopsis = "[sign|export|attach|verify|show|key] [OPTIONS] INPUT",
};

/* Prints a SIGSTRUCT's fields as text, or as one JSON object with up to two
 * extra string members (NULL keys are skipped). */
static int print_fields(const struct eimg_sigstruct *s, const char *k1, const char *v1, const char *k2,
			const char *v2)
{
	eimg_error err;
	char *text = NULL;
	int rc;

	eimg_error_clear(&err);
	rc = tool_want_json() ? eimg_sigstruct_json_indented(s, k1, v1, k2, v2, &text, &err)
			      : eimg_sigstruct_text(s, NULL, &text, &err);
	if (rc)
		return tool_fail(&err, rc);
	return tool_emit(text);
}

/* enclave-sign key: the MRSIGNER a key gives, or the PCR8 a certificate
 * gives, without signing. */
static int do_key(struct sign_args *a)
{
	uint8_t value[48];
	eimg_error err;
	char *text = NULL;
	int rc;

	eimg_error_clear(&err);
	if ((rc = sign_check_key(a)) >= 0)
		return rc;
	a->key.prompt = tool_prompt_tty;
	rc = a->cert ? eimg_nitro_pcr8_of_cert(a->cert, value, &err) : eimg_key_mrsigner(&a->key, value, &err);
	if (!rc)
		rc = eimg_signer_report(a->cert ? NULL : value, value, tool_want_json(), &text, &err);
	if (rc)
		return tool_fail(&err, rc);
	return tool_emit(text);
}

static int do_sign_nitro(struct sign_args *a)
{
	struct eimg_nitro_sign_request r;
	const char *out = a->output ? a->output : a->input;
	eimg_error err;
	char *text = NULL;
	int rc;

	eimg_error_clear(&err);
	if ((rc = sign_check_nitro(a)) >= 0)
		return rc;
	a->key.prompt = tool_prompt_tty;
	memset(&r, 0, sizeof(r));
	r.op = a->cmd == CMD_SIGN ? EIMG_SIGN_OP_SIGN : a->cmd == CMD_ATTACH ? EIMG_SIGN_OP_ATTACH : EIMG_SIGN_OP_EXPORT;
	r.input = a->input;
	r.output = a->output;
	r.key = &a->key;
	r.cert_path = a->cert;
	r.signature_path = a->signature;
	r.force = a->force;
	r.progress = tool_progress(tool_chatty());
	rc = eimg_nitro_sign_run(&r, &err);
	if (rc)
		return tool_fail(&err, rc);
	if (r.op == EIMG_SIGN_OP_EXPORT || (a->output && strcmp(a->output, "-") == 0))
		return EIMG_EXIT_OK;
	/* The file written and PCR8, the value a deployment expects. */
	rc = eimg_nitro_signed_report(a->cert, out, tool_want_json(), &text, &err);
	return rc ? tool_fail(&err, rc) : tool_emit(text);
}

/* Nitro: the audit report, and a valid signature required. */
static int do_verify_nitro(const struct sign_args *a)
{
	eimg_nitro_report *rep = NULL;
	eimg_constraint *c = NULL;
	eimg_error err;
	char *text = NULL;
	int rc;

	eimg_error_clear(&err);
	if (a->sgxs || a->have_mrenclave || a->have_mrsigner)
		return tool_usage("--sgxs, --mrenclave and --mrsigner are for SGX; check PCRs with --constraint");
	if (a->constraint && (rc = tool_constraint_arg(a->constraint, &c)) >= 0)
		return rc;
	rc = eimg_nitro_verify_file_progress(a->input, c, tool_progress(tool_chatty()), &rep, &err);
	eimg_constraint_free(c);
	if (rc)
		return tool_fail(&err, rc);
	if (a->cmd == CMD_VERIFY)
		tool_say("'%s': Nitro EIF: signature valid", a->input);
	rc = tool_want_json() ? eimg_nitro_report_json(rep, &text, &err) : eimg_nitro_report_text(rep, &text, &err);
	eimg_nitro_report_free(rep);
	if (rc)
		return tool_fail(&err, rc);
	return tool_emit(text);
}

static int do_sign(struct sign_args *a)
{
	struct eimg_sign_request r;
	struct eimg_sign_fields fields;
	struct eimg_sigstruct s;
	eimg_error err;
	uint32_t date;
	int rc;

	eimg_error_clear(&err);
	memset(&r, 0, sizeof(r));
	if ((rc = sign_check_sgx(a)) >= 0)
		return rc;
	rc = eimg_sign_date(a->date_arg, &date, &err);
	if (rc)
		return tool_fail(&err, rc == EIMG_EINVAL ? EIMG_EUSAGE : rc);
	if (!a->input) {
		if ((rc = sign_check_kss(a)) >= 0)
			return rc;
		eimg_sign_fields_from_options(&a->fields, date, &fields);
		r.fields = &fields;
	}
	a->key.prompt = tool_prompt_tty;
	r.op = a->cmd == CMD_SIGN ? EIMG_SIGN_OP_SIGN
	       : a->cmd == CMD_ATTACH ? EIMG_SIGN_OP_ATTACH
	       : a->digest ? EIMG_SIGN_OP_EXPORT_DIGEST : EIMG_SIGN_OP_EXPORT;
	r.image_path = a->input;
	r.sgxs_path = a->sgxs;
	r.mrenclave = a->have_mrenclave ? a->mrenclave : NULL;
	r.date = date;
	r.output = a->output;
	r.force = a->force;
	r.key = &a->key;
	r.progress = tool_progress(tool_chatty());
	r.signature_path = a->signature;
	r.pubkey_path = a->pubkey;
	rc = eimg_sign_run(&r, &s, &err);
	if (rc)
		return tool_fail(&err, rc);
	if (r.op == EIMG_SIGN_OP_EXPORT || r.op == EIMG_SIGN_OP_EXPORT_DIGEST)
		return EIMG_EXIT_OK;
	if (a->output && strcmp(a->output, "-") == 0)
		return EIMG_EXIT_OK;   /* stdout holds the output */
	rc = print_fields(&s, "output", a->output ? a->output : a->input, NULL, NULL);
	if (rc == EIMG_EXIT_OK)
		tool_say("wrote %s", a->output ? a->output : a->input);
	return rc;
}

/* An Open Enclave enclave's .oeinfo properties, after its SIGSTRUCT (text only). */
static int show_properties(const char *input, int fmt)
{
	eimg_error err;
	char *text = NULL;
	eimg_error_clear(&err);
	if (tool_want_json())
		return EIMG_EXIT_OK;
	int rc = eimg_foreign_show_text(input, fmt, &text, &err);
	if (rc)
		return tool_fail(&err, rc);
	if (text) {
		size_t n = strlen(text);
		tool_say("%.*s", (int)(n && text[n - 1] == '\n' ? n - 1 : n), text);
	}
	free(text);
	return EIMG_EXIT_OK;
}

/* enclave-sign show: a signature's fields and its own validity; for an Open
 * Enclave enclave its properties too. */
static int do_show(const struct sign_args *a)
{
	struct eimg_sigstruct s;
	eimg_error err;
	char status[600];
	int fmt, rc;

	eimg_error_clear(&err);
	rc = eimg_sigstruct_show_file(a->input, &s, &fmt, status, sizeof(status), &err);
	if (rc)
		return tool_fail(&err, rc);
	tool_say("%-24s%s", "format:", eimg_sigstruct_format_name(fmt));
	tool_say("%-24s%s", "signature:", status);
	rc = print_fields(&s, "format", eimg_sigstruct_format_name(fmt), "signature", status);
	return rc ? rc : show_properties(a->input, fmt);
}

static int do_verify(const struct sign_args *a)
{
	struct eimg_verify_request r;
	struct eimg_verify_result res;
	eimg_constraint *c = NULL;
	eimg_error err;
	char what[600];
	int rc;

	eimg_error_clear(&err);
	if ((rc = sign_check_verify(a)) >= 0)
		return rc;
	if (a->cmd == CMD_SHOW)
		return do_show(a);
	if (a->constraint && (rc = tool_constraint_arg(a->constraint, &c)) >= 0)
		return rc;
	memset(&r, 0, sizeof(r));
	r.input = a->input;
	r.sgxs_path = a->sgxs;
	r.mrenclave = a->have_mrenclave ? a->mrenclave : NULL;
	r.mrsigner = a->have_mrsigner ? a->mrsigner : NULL;
	r.constraint = c;
	r.progress = tool_progress(tool_chatty());
	rc = eimg_sign_verify_file(&r, &res, &err);
	eimg_constraint_free(c);
	if (rc)
		return tool_fail(&err, rc);
	eimg_verify_summary(&res, what, sizeof(what));
	tool_say("'%s': %s: %s", a->input, eimg_sigstruct_format_name(res.format), what);
	return print_fields(&res.s, "format", eimg_sigstruct_format_name(res.format), "verified", what);
}

int main(int argc, char **argv)
{
	struct sign_args a;
	int rc;
	tool_init(&tool_self, argv);
	memset(&a, 0, sizeof(a));
	a.cmd = CMD_SIGN;
	rc = sign_parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	rc = tool_output_mode(a.quiet, a.print, a.json);
	if (rc >= 0)
		return rc;
	if (a.cmd == CMD_KEY)
		return do_key(&a);
	/* An output never replaces an input (a key, certificate, signature, the
	 * image): the library refuses it (eimg_output_check) before writing. */
	if (a.cmd == CMD_VERIFY || a.cmd == CMD_SHOW) {
		if (a.input && eimg_is_nitro_input(a.input))
			return do_verify_nitro(&a);
		return do_verify(&a);
	}
	if (a.cert)
		return do_sign_nitro(&a);
	if (a.input && eimg_is_nitro_input(a.input))
		return tool_usage("'%s' is a Nitro image or EIF: sign it with an EC key and --cert CERT", a.input);
	return do_sign(&a);
}
