/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-build: manifest + enclave ELF -> deterministic enclave image (.eimg). */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <enclaveimg.h>
#include "cli/tool.h"

static const char usage_text[] =
	"usage: enclave-build [-f manifest] [-o image.eimg] [--eif FILE] [--json]\n"
	"\n"
	"Validates the manifest, lays out and measures the enclave, and writes the image atomically.\n"
	"\n"
	"  -f, --manifest FILE   the manifest (default: enclave.yaml)\n"
	"  -o, --output FILE     the image to write (default: NAME.eimg, NAME from the manifest; - for stdout)\n"
	"      --eif FILE        Nitro target: also write the EIF as a plain file for nitro-cli\n"
	"      --json            print the result as JSON\n"
	"  -q, --quiet           print nothing on success\n"
	"      --print FIELD     print one bare value of the result (mrenclave, pcr0, ...; the --json names)\n"
	"  -h, --help            show this help and exit\n"
	"  -V, --version         show the version and exit\n"
	"\n"
	"SOURCE_DATE_EPOCH, if set, is the timestamp recorded in the image (default 0).\n"
	"Exit status: 0 ok, 1 error, 2 usage.\n";

struct opts {
	const char *manifest;
	const char *output;
	const char *eif;
	bool json, quiet;
	const char *print;
};

static const struct tool_info tool_self = {
	.name = "enclave-build",
	.synopsis = "[-f manifest] [-o image.eimg] [-q | --json | --print FIELD]",
};

/* Whether path is one of the manifest's inputs (the container image, the
 * application, the kernel, ...): an output is never written over an input. */
static bool is_input(const char *manifest, const char *path)
{
	eimg_manifest *m = NULL;
	bool hit = false;
	if (!path || eimg_manifest_parse_file(manifest, &m, NULL) != EIMG_OK)
		return false;
	const char *in[] = { m->sgx.enclave, m->nitro.image, m->nitro.app, m->nitro.kernel, m->nitro.kernel_config,
			     m->nitro.init, m->nitro.nsm };
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]) && !hit; i++)
		hit = in[i] && eimg_same_file(in[i], path);
	eimg_manifest_free(m);
	return hit;
}

static int run(const struct opts *o)
{
	eimg_error err;
	eimg_image *img = NULL;
	struct eimg_build_result res;
	struct eimg_build_options bo = { .manifest_path = o->manifest, .progress = tool_progress(tool_chatty()) };
	char *out_path = NULL, *text = NULL;
	int rc;

	bo.output = o->output; /* the EIF goes straight into it */
	bo.eif_output = o->eif; /* and into this copy, in the same pass */
	eimg_error_clear(&err);
	rc = eimg_source_date_epoch(0, &bo.mtime, &err);
	if (rc == EIMG_OK)
		rc = eimg_build(&bo, &img, &res, &err);
	if (rc)
		return tool_fail(&err, rc);
	if (o->output) {
		out_path = strdup(o->output);
	} else {
		eimg_manifest *m = NULL;
		/* The default name comes from the (already validated) manifest. */
		size_t mlen;
		const char *mtext = eimg_image_manifest(img, &mlen);
		if (eimg_manifest_parse_buffer("manifest.json", mtext, mlen, NULL, &m, &err) == 0 &&
		    asprintf(&out_path, "%s.eimg", m->name) < 0)
			out_path = NULL;
		eimg_manifest_free(m);
	}
	if (!out_path) {
		eimg_image_free(img);
		return tool_message(EIMG_EXIT_ERROR, "out of memory");
	}
	if (o->eif && !eimg_image_eif(img)) {
		eimg_image_free(img);
		free(out_path);
		return tool_usage("--eif: '%s' is not a Nitro manifest (target: nitro)", o->manifest);
	}
	/* Neither output may replace an input (the manifest, ELF, files, keys,
	 * kernel, init, application tree): both checked before either is written. */
	if ((rc = eimg_output_check(out_path, &err)) || (o->eif && (rc = eimg_output_check(o->eif, &err)))) {
		eimg_image_free(img);
		free(out_path);
		return tool_fail(&err, rc);
	}
	if (is_input(o->manifest, out_path) || is_input(o->manifest, o->eif)) {
		eimg_image_free(img);
		free(out_path);
		return tool_usage("refusing to write the output over one of the manifest's inputs");
	}
	/* With --eif, the EIF's copy was written with the image and goes in
	 * place after it: both outputs or neither. */
	rc = eimg_image_write_file(img, bo.mtime, out_path, &err);
	eimg_image_free(img);
	if (rc) {
		free(out_path);
		return tool_fail(&err, rc);
	}
	if (!o->quiet && strcmp(out_path, "-") != 0) {
		rc = tool_want_json() ? eimg_report_build_json(&res, out_path, &text, &err)
				      : eimg_report_build_text(&res, out_path, &text, &err);
		if (rc) {
			/* The image is written; say so instead of exiting 0 silently. */
			tool_message(EIMG_EXIT_ERROR, "wrote '%s' but cannot render the result: out of memory", out_path);
			free(out_path);
			return EIMG_EXIT_ERROR;
		}
		rc = tool_emit(text);
		if (rc) {
			free(out_path);
			return rc;
		}
	}
	free(out_path);
	return fflush(stdout) == 0 ? EIMG_EXIT_OK : EIMG_EXIT_ERROR;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "manifest", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ "eif", required_argument, NULL, 'e' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "print", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .manifest = "enclave.yaml" };
	int c;

	tool_init(&tool_self, argv);
	while ((c = getopt_long(argc, argv, "f:o:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f': o.manifest = optarg; break;
		case 'o': o.output = optarg; break;
		case 'j': o.json = true; break;
		case 'e': o.eif = optarg; break;
		case 'q': o.quiet = true; break;
		case 'P': o.print = optarg; break;
		case 'h': fputs(usage_text, stdout); return EIMG_EXIT_OK;
		case 'V': printf("enclave-build %s\n", EIMG_VERSION); return EIMG_EXIT_OK;
		default: return tool_bad_option();
		}
	}
	if (optind != argc) {
		return tool_usage("unexpected argument '%s' (the manifest is given with -f)", argv[optind]);
	}
	if (o.eif && o.output && strcmp(o.eif, o.output) == 0) {
		return tool_usage("--eif and -o name the same file");
	}
	if (o.eif && strcmp(o.eif, "-") == 0) {
		return tool_usage("--eif needs a file name");
	}
	c = tool_output_mode(o.quiet, o.print, o.json);
	return c >= 0 ? c : run(&o);
}
