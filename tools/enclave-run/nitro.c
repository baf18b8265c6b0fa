/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-run on a Nitro image or EIF (run.h): verified, then started and
 * watched through nitro-cli. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "enclave-run/run.h"

static void on_nitro_event(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "enclave-run: %s\n", text);
}

int run_nitro(struct opts *o, eimg_image *img)
{
	eimg_error err;
	eimg_nitro_launch *l = NULL;
	struct eimg_identity id;
	int rc, ex = EIMG_EXIT_OK;

	if (o->sgx_only || o->attestation_out) {
		fprintf(stderr, "enclave-run: '%s' is a Nitro %s: %s applies to SGX images only\n", o->image,
			img ? "image" : "EIF", o->sgx_only ? o->sgx_only : "--attestation-out");
		eimg_image_free(img);
		return EIMG_EXIT_USAGE;
	}
	if (!o->dry_run && !o->print && (o->nitro.stop_fd = run_stop_signals()) < 0) {
		eimg_image_free(img);
		return EIMG_EXIT_ERROR;
	}
	o->nitro.on_event = on_nitro_event;
	o->nitro.progress = tool_progress(!o->quiet); /* verifying, on a terminal */
	rc = img ? eimg_nitro_launch_open_image(img, o->image, &o->nitro, &l, &err)
		 : eimg_nitro_launch_open_eif(o->image, &o->nitro, &l, &err);
	if (rc) {
		tool_print_error(&err);
		eimg_image_free(img);
		if (o->nitro.stop_fd >= 0)
			close(o->nitro.stop_fd);
		if (rc == EIMG_EUSAGE)
			return EIMG_EXIT_USAGE;
		if (rc == EIMG_EIO || rc == EIMG_ENOMEM)
			return EIMG_EXIT_ERROR;
		return run_verify_failed(o, 1);
	}
	const eimg_nitro_report *rep = eimg_nitro_launch_report(l);
	eimg_nitro_report_identity(rep, &id);
	id.debug = o->debug;
	struct eimg_admit_policy p = { .expect = &o->x.expect, .constraint = o->x.constraint, .now = (uint64_t)time(NULL) };
	struct eimg_admit_result *ar = malloc(sizeof *ar);
	rc = ar ? eimg_admit_identity(&id, o->image, &p, ar, &err) : EIMG_ENOMEM;
	if (rc == EIMG_EVERIFY)
		ex = run_verify_failed(o, run_print_reasons(o, ar));
	else if (rc)
		ex = ar ? tool_fail(&err, rc) : tool_message(EIMG_EXIT_ERROR, "out of memory");
	free(ar);
	if (ex)
		goto out;
	if (!o->quiet) {
		char h0[97], h1[97], h2[97], h8[97];
		fprintf(stderr, "enclave-run: verified '%s': PCR0 %s, PCR1 %s, PCR2 %s, %s%s%s\n", o->image,
			eimg_hex(rep->pcr0, 48, h0), eimg_hex(rep->pcr1, 48, h1), eimg_hex(rep->pcr2, 48, h2),
			rep->is_signed ? "signed, PCR8 " : "unsigned", rep->is_signed ? eimg_hex(rep->pcr8, 48, h8) : "",
			o->debug ? ", debug mode" : "");
	}
	if (o->print) { /* the verified EIF's value, nothing run */
		char *text = NULL;
		rc = eimg_nitro_report_json(rep, &text, &err);
		ex = rc ? tool_fail(&err, rc) : tool_emit(text);
		goto out;
	}
	if (o->dry_run) {
		char *text = NULL;
		if ((rc = eimg_nitro_launch_commands(l, &text, &err))) {
			tool_print_error(&err);
			ex = eimg_exit_code(rc);
			goto out;
		}
		fputs(text, stdout);
		free(text);
		goto out;
	}
	struct eimg_nitro_run_result nres;
	rc = eimg_nitro_launch_run(l, &nres, &err);
	if (rc) {
		tool_print_error(&err);
		ex = eimg_exit_code(rc) == EIMG_EXIT_VERIFY ? EIMG_EXIT_ERROR : eimg_exit_code(rc);
	}
out:
	if (o->nitro.stop_fd >= 0)
		close(o->nitro.stop_fd);
	eimg_nitro_launch_free(l);
	eimg_image_free(img);
	return ex;
}
