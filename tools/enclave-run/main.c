/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-run: verify an enclave image, then run it: an SGX image in the
 * simulation sandbox (or in this process, --mock) or on SGX hardware
 * (/dev/sgx_enclave), serving messages; a Nitro image or EIF through
 * nitro-cli (start, watch, terminate on SIGTERM/SIGINT).  The options are in
 * options.c, the SGX run in sgx.c, the Nitro one in nitro.c. */
#include <string.h>

#include "enclave-run/run.h"

static const struct tool_info tool_self = {
	.name = "enclave-run",
	.synopsis = "[options] IMAGE.eimg",
};

/* A plain EIF or an image: to nitro-cli, or verified and run as SGX. */
static int run_image(struct opts *o)
{
	eimg_error err;
	eimg_image *img = NULL;
	int kind = 0;

	/* Which target: a plain EIF, or an image holding an EIF, goes to nitro-cli. */
	int drc = tool_detect_file(o->image, &kind, &err);
	if (drc == EIMG_OK && kind == EIMG_INPUT_UNKNOWN)
		drc = eimg_input_unknown(o->image, &err);
	bool plain_eif = drc == EIMG_OK && kind == EIMG_INPUT_EIF;
	if (!plain_eif) {
		int rc = drc ? drc : eimg_image_read_file(o->image, &img, &err);
		if (rc) {
			tool_print_error(&err);
			return rc == EIMG_EIO || rc == EIMG_ENOMEM ? EIMG_EXIT_ERROR : EIMG_EXIT_VERIFY;
		}
	}
	if (plain_eif || eimg_image_eif(img)) {
		if (!o->preflight)
			return run_nitro(o, img);
		eimg_image_free(img);
		return tool_usage("--preflight checks SGX hardware; '%s' is a Nitro image", o->image);
	}
	if (!eimg_image_elf(img)) {
		eimg_image_free(img);
		return tool_message(EIMG_EXIT_VERIFY, "'%s': neither an SGX nor a Nitro image (no enclave.elf or "
				    "enclave.eif)", o->image);
	}
	if (o->nitro_only) {
		eimg_image_free(img);
		return tool_usage("%s applies to Nitro images only", o->nitro_only);
	}
	return run_sgx_image(o, img);
}

int main(int argc, char **argv)
{
	struct opts o;

	tool_init(&tool_self, argv);
	memset(&o, 0, sizeof o);
	o.run.backend = EIMG_RUN_SIMULATION;
	o.run.in_fd = 0;
	o.run.out_fd = 1;
	o.run.stop_fd = -1;
	o.nitro.stop_fd = -1;
	int ex = run_parse_options(&o, argc, argv);
	if (ex < 0)
		ex = tool_pull_input(&o.pull, &o.image, o.quiet, "nothing was run");
	if (ex < 0)
		ex = run_image(&o);
	eimg_constraint_free(o.x.constraint);
	return ex;
}
