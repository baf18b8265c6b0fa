/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-run's parts: the options (options.c), an SGX image verified and
 * run (sgx.c), a Nitro image or EIF handed to nitro-cli (nitro.c); main.c
 * tells which. */
#ifndef EIMG_RUN_TOOL_H
#define EIMG_RUN_TOOL_H

#include <stdbool.h>
#include <stdint.h>

#include <enclaveimg.h>
#include "eimg/nitro_run.h"
#include "eimg/sim.h"
#include "cli/pull.h"
#include "cli/tool.h"

struct opts {
	const char *image;
	struct eimg_run_options run;
	struct tool_expectations x;  /* --expect, --constraint */
	const char *attestation_out; /* --attestation-out */
	struct eimg_identity attest_id; /* what the document states */
	struct eimg_identity state_id;  /* --state: what sealing keys are bound to */
	bool attest_failed;          /* the document could not be written */
	bool quiet;
	const char *print;        /* --print FIELD: verify, print it, do not run */
	bool stdio;               /* --stdio: ignore the image's listen/ingress */
	int backend;              /* --backend: 0 (the image's mode), EIMG_RUN_SIMULATION or _HARDWARE */
	bool mock, debug, preflight, dry_run;
	const char *symbols;      /* --symbols: the original ELF, for gdb */
	const char *sgx_only;     /* an SGX-only option given (for the Nitro refusal) */
	const char *nitro_only;   /* a Nitro-only option given */
	struct eimg_nitro_run_options nitro;
	char listen_buf[512];
	struct tool_pull pull;    /* an image oci://... */
};

/* Parses the options into *o (--preflight without an image runs here):
 * -1 when they make sense, else the exit code. */
int run_parse_options(struct opts *o, int argc, char **argv);

/* The verified SGX image img: every check (eimg_admit_sgx), then loaded and
 * served until it ends; takes img.  Returns the exit code. */
int run_sgx_image(struct opts *o, eimg_image *img);
/* --preflight: what the hardware backend needs (s: the image's, or NULL),
 * checked and reported. */
int run_preflight(const struct opts *o, const eimg_sgx_image *s);

/* A Nitro image (img != NULL, taken) or a plain EIF: verify, then hand it
 * to nitro-cli. */
int run_nitro(struct opts *o, eimg_image *img);

/* Prints why the image may not run (each reason of the admission), in the
 * order the checks ran; returns how many checks failed. */
int run_print_reasons(const struct opts *o, const struct eimg_admit_result *res);
/* "verification failed (N checks); nothing was run": returns 3. */
int run_verify_failed(const struct opts *o, int failures);
/* SIGTERM/SIGINT end the run cleanly through a signalfd; SIGPIPE is an
 * error on the write instead.  Returns the signalfd or -1. */
int run_stop_signals(void);

#endif
