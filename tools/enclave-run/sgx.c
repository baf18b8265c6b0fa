/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-run on an SGX image (run.h): every check, then the simulation
 * sandbox, --mock or /dev/sgx_enclave, serving messages until the enclave
 * ends. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "eimg/attest.h"
#include "eimg/sgx_hw.h"
#include "enclave-run/run.h"

static void on_log(void *ctx, const char *text, size_t len)
{
	char esc[1100];
	(void)ctx;
	fprintf(stderr, "enclave-run: enclave: %s\n", eimg_escape(text, len, esc, sizeof esc));
}

static void on_listen(void *ctx, const char *where)
{
	(void)ctx;
	fprintf(stderr, "enclave-run: listening on %s\n", where);
}

static void on_ready(void *ctx, uint64_t base)
{
	const struct opts *o = ctx;
	if (o->run.backend == EIMG_RUN_MOCK && !o->quiet)
		fprintf(stderr, "enclave-run: mock: enclave loaded at %#llx; in gdb: add-symbol-file %s -o %#llx\n",
			(unsigned long long)base, o->symbols ? o->symbols : "ENCLAVE.elf", (unsigned long long)base);
}

/* The enclave is loaded and published its key (or none): write the
 * document before any client is served.  On failure stop the run (as
 * SIGTERM would) and exit 1. */
static void on_attest_key(void *ctx, const uint8_t *key, size_t len)
{
	struct opts *o = ctx;
	eimg_error err;
	int rc = eimg_attest_write_simulation(o->attestation_out, &o->attest_id, key, len, (uint64_t)time(NULL), &err);
	if (rc) {
		tool_print_error(&err);
		fprintf(stderr, "enclave-run: no attestation document: stopping the enclave\n");
		o->attest_failed = true;
		raise(SIGTERM);
		return;
	}
	if (!o->quiet)
		fprintf(stderr, "enclave-run: attestation document written to '%s' (simulation: INSECURE; %s)\n",
			o->attestation_out, len ? "binds the enclave's public key" : "the enclave published no key");
}

int run_print_reasons(const struct opts *o, const struct eimg_admit_result *res)
{
	for (size_t i = 0; i < res->nreasons; i++) {
		const struct eimg_admit_reason *r = &res->reasons[i];
		switch (r->code) {
		case EIMG_ADMIT_MODE:
			if (o->run.backend == EIMG_RUN_HARDWARE)
				tool_message(0, "'%s': mode: the image was built for %s mode and the hardware backend runs "
					     "only images built for hardware; to run it on SGX hardware set 'mode: hardware' in "
					     "enclave.yaml, link the ELF with the hardware runtime (make MODE=hardware), then run "
					     "enclave-build and enclave-sign again; or run it with --backend simulation",
					     o->image, eimg_mode_name(r->mode));
			else
				tool_message(0, "'%s': mode: the image was built for %s mode and the %s backend runs only "
					     "images built for simulation; to run it here set 'mode: simulation' in enclave.yaml, "
					     "link the ELF with the simulation runtime (make MODE=simulation), then run "
					     "enclave-build and enclave-sign again; on an SGX machine run it with --backend hardware",
					     o->image, eimg_mode_name(r->mode), o->mock ? "mock (simulation)" : "simulation");
			break;
		case EIMG_ADMIT_UNSIGNED:
			tool_print_error(&r->err);
			tool_message(0, "'%s': sign it first: enclave-sign -k KEY %s", o->image, o->image);
			break;
		case EIMG_ADMIT_DEBUG_DENIED:
			tool_message(0, "'%s': --debug: the signature is production-only (DEBUG is in its attribute mask "
				     "and clear): run without --debug, or sign an image built with 'debug: true'", o->image);
			break;
		case EIMG_ADMIT_PRODUCTION_DENIED:
			tool_message(0, "'%s': the signature allows only debug launches (DEBUG is in its attribute mask "
				     "and set): run with --debug, or sign for production", o->image);
			break;
		case EIMG_ADMIT_CONSTRAINT:
			tool_message(0, "'%s': constraint %s: expected %s, actual %s", o->image, r->failure.key,
				     r->failure.expected, r->failure.actual);
			break;
		default: /* SIGNATURE, EXPECT, CONSTRAINT_ERROR */
			tool_print_error(&r->err);
			break;
		}
	}
	return (int)res->failed_checks;
}

int run_verify_failed(const struct opts *o, int failures)
{
	return tool_message(EIMG_EXIT_VERIFY, "'%s': verification failed (%d check%s); nothing was run", o->image,
			    failures, failures == 1 ? "" : "s");
}

/* The backend for an SGX image: --mock, --backend, else the image's mode. */
static void choose_backend(struct opts *o, int mode)
{
	int want = o->mock ? EIMG_RUN_SIMULATION
		   : o->backend ? o->backend : mode == EIMG_MODE_HARDWARE ? EIMG_RUN_HARDWARE : EIMG_RUN_SIMULATION;
	o->run.backend = o->mock ? EIMG_RUN_MOCK : want;
}

static const char *backend_name(const struct opts *o)
{
	switch (o->run.backend) {
	case EIMG_RUN_MOCK: return "mock (no sandbox)";
	case EIMG_RUN_HARDWARE: return o->debug ? "hardware (debug launch)" : "hardware";
	default: return "simulation";
	}
}

/* Every check before an SGX enclave runs (eimg_admit_sgx); takes img.
 * Prints each failure; returns the exit status (0 when the image may run).
 * Content problems are verification failures (3); only an unreadable file
 * or no memory is an error (1). */
static int verify(struct opts *o, eimg_image *img, eimg_sgx_image **s_out, uint8_t mrenclave[32])
{
	eimg_error err;
	eimg_sgx_image *s = NULL;
	struct eimg_admit_result *res = NULL;
	int rc;

	/* The listening address may come from the unmeasured runtime settings. */
	if (!o->stdio && !o->run.listen) {
		rc = eimg_runtime_listen(img, o->image, o->listen_buf, sizeof o->listen_buf, &err);
		if (rc) {
			eimg_image_free(img);
			return tool_fail(&err, rc);
		}
		if (o->listen_buf[0])
			o->run.listen = o->listen_buf;
	}
	eimg_image_set_progress(img, tool_progress(!o->quiet));
	rc = eimg_sgx_image_open(img, o->image, &s, &err);
	if (rc) {
		tool_print_error(&err);
		eimg_image_free(img);
		return rc == EIMG_ENOMEM ? EIMG_EXIT_ERROR : EIMG_EXIT_VERIFY;
	}
	choose_backend(o, s->manifest->mode);
	if (o->debug && o->run.backend != EIMG_RUN_HARDWARE) {
		rc = tool_message(EIMG_EXIT_USAGE, "--debug applies to the hardware backend and to Nitro images (a "
				  "simulation enclave is always debuggable: --mock runs it under gdb)");
		goto fail;
	}
	if (o->attestation_out && o->run.backend == EIMG_RUN_HARDWARE) {
		rc = tool_message(EIMG_EXIT_USAGE, "--attestation-out writes simulation and mock attestation documents; "
				  "on SGX hardware an attestation is a quote from the platform, which enclave-run does "
				  "not produce");
		goto fail;
	}
	struct eimg_admit_policy p = {
		.target = o->run.backend == EIMG_RUN_MOCK ? EIMG_ADMIT_MOCK
			  : o->run.backend == EIMG_RUN_HARDWARE ? EIMG_ADMIT_HARDWARE : EIMG_ADMIT_SIMULATION,
		.debug = o->debug, .require_signature = true,
		.expect = &o->x.expect, .constraint = o->x.constraint, .now = (uint64_t)time(NULL),
	};
	res = malloc(sizeof *res);
	rc = res ? eimg_admit_sgx(s, o->image, &p, res, &err) : EIMG_ENOMEM;
	if (rc && rc != EIMG_EVERIFY) {
		if (res)
			tool_print_error(&err);
		else
			tool_message(0, "out of memory");
		rc = EIMG_EXIT_ERROR;
		goto fail;
	}
	if (rc) {
		rc = run_verify_failed(o, run_print_reasons(o, res));
		goto fail;
	}
	/* The symbols shown to gdb belong to exactly these loaded bytes. */
	if (o->symbols && (rc = eimg_elf_same_load(o->symbols, &s->elf, s->manifest->sgx.allow_write_exec, &err))) {
		tool_print_error(&err);
		rc = run_verify_failed(o, 1);
		goto fail;
	}
	if (!o->quiet) {
		char h1[65], h2[65];
		tool_message(0, "verified '%s': MRENCLAVE %s, MRSIGNER %s, %s", o->image, eimg_hex(s->m.mrenclave, 32, h1),
			     eimg_hex(res->id.mrsigner, 32, h2), backend_name(o));
	}
	if (!o->quiet && o->run.state_dir && o->run.backend != EIMG_RUN_HARDWARE)
		tool_message(0, "--state: sealing keys of a %s run come from the host's secret in '%s': INSECURE",
			     backend_name(o), o->run.state_dir);
	o->state_id = res->id;   /* what sealing keys are bound to (--state) */
	o->run.state_id = &o->state_id;
	/* The loader compares what it placed with the SIGSTRUCT, as EINIT does. */
	memcpy(mrenclave, res->sigstruct.enclavehash, 32);
	free(res);
	*s_out = s;
	return EIMG_EXIT_OK;
fail:
	free(res);
	eimg_sgx_image_free(s);
	eimg_image_free(img);
	return rc;
}

/* --attestation-out: a simulation/mock document for the verified image
 * (the loader refuses to enter unless what it placed measures to the same
 * MRENCLAVE), written once the enclave is loaded and has published its
 * public key (enclave_set_attestation_key from enclave_init; none: the
 * document binds none and says so), before the first message.  Here: the
 * identity it states, and an early check that the file can be written. */
static int prepare_attestation(struct opts *o, const eimg_image *img, const uint8_t mrenclave[32])
{
	eimg_error err;
	struct eimg_sigstruct ss;
	if (strcmp(o->attestation_out, "-") == 0) {
		fprintf(stderr, "enclave-run: --attestation-out: standard output carries the replies; name a file\n");
		return EIMG_EXIT_USAGE;
	}
	int rc = eimg_sigstruct_decode(o->image, eimg_image_sigstruct(img), EIMG_SIGSTRUCT_SIZE, &ss, &err);
	if (!rc)
		rc = eimg_output_probe(o->attestation_out, &err);
	if (rc)
		return tool_fail(&err, rc);
	eimg_identity_sgx(mrenclave, &ss, o->run.backend == EIMG_RUN_MOCK ? EIMG_ID_MOCK : EIMG_ID_SIMULATION, false,
			  &o->attest_id);
	o->run.on_attest_key = on_attest_key;
	return EIMG_EXIT_OK;
}

int run_stop_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		fprintf(stderr, "enclave-run: signalfd: %s\n", strerror(errno));
	return fd;
}

int run_preflight(const struct opts *o, const eimg_sgx_image *s)
{
	struct eimg_sgx_hw_platform p;
	eimg_error err;
	uint64_t need = eimg_admit_epc_need(s);
	int rc = eimg_sgx_hw_preflight(need, &p, &err);
	printf("CPU: SGX1 %s, SGX2 %s, Flexible Launch Control %s\n", p.cpu_sgx1 ? "yes" : "no",
	       p.cpu_sgx2 ? "yes" : "no", p.cpu_flc ? "yes" : "no");
	printf("kernel: sgx %s, sgx_lc %s (flags in /proc/cpuinfo)\n", p.kernel_sgx ? "yes" : "no",
	       p.kernel_sgx_lc ? "yes" : "no");
	printf("device: %s %s\n", EIMG_SGX_DEVICE, p.device ? "present" : "missing");
	if (p.epc_bytes)
		printf("EPC: %llu KiB\n", (unsigned long long)(p.epc_bytes >> 10));
	else
		printf("EPC: unknown\n");
	if (s)
		printf("EPC needed by '%s': %llu KiB\n", o->image, (unsigned long long)(need >> 10));
	if (rc) {
		fflush(stdout);
		tool_print_error(&err);
		return EIMG_EXIT_ERROR;
	}
	printf("ready: this machine can run SGX enclaves on hardware\n");
	return EIMG_EXIT_OK;
}

/* The verified SGX image s (of img), loaded and served until it ends. */
static int run_sgx(struct opts *o, const eimg_image *img, const eimg_sgx_image *s, const uint8_t mrenclave[32])
{
	eimg_error err;
	int ex;

	if (o->preflight)
		return run_preflight(o, s);
	if (o->attestation_out && (ex = prepare_attestation(o, img, mrenclave)) != 0)
		return ex;
	if (o->run.backend == EIMG_RUN_HARDWARE) {
		/* the platform, with actionable messages, before anything is loaded */
		int rc = eimg_sgx_hw_preflight(eimg_admit_epc_need(s), NULL, &err);
		if (rc) {
			tool_print_error(&err);
			return EIMG_EXIT_ERROR;
		}
		o->run.sigstruct = eimg_image_sigstruct(img);
		o->run.debug_launch = o->debug;
	}
	o->run.stop_fd = run_stop_signals();
	if (o->run.stop_fd < 0)
		return EIMG_EXIT_ERROR;
	if (!o->quiet)
		o->run.log = on_log;
	o->run.progress = tool_progress(!o->quiet);   /* loading, on a terminal */
	o->run.on_listen = on_listen;
	o->run.on_ready = on_ready;
	o->run.ready_ctx = o;

	struct eimg_run_result res;
	int rc = eimg_run(s->layout, mrenclave, &o->run, &res, &err);
	if (rc)
		return tool_fail(&err, rc);
	if (res.outcome == EIMG_RUN_FAULT)
		return tool_message(EIMG_EXIT_FAULT, "%s", res.what);
	if (res.outcome == EIMG_RUN_VIOLATION)
		return tool_message(EIMG_EXIT_VIOLATION, "%s", res.what);
	return o->attest_failed ? EIMG_EXIT_ERROR : EIMG_EXIT_OK;
}

/* --print FIELD of a verified SGX image: its enclave-measure --json value. */
static int print_verified(const struct opts *o, const eimg_sgx_image *s)
{
	eimg_error err;
	char *text = NULL;
	int rc = eimg_report_sgx_json(s, o->image, &text, &err);
	return rc ? tool_fail(&err, rc) : tool_emit(text);
}

int run_sgx_image(struct opts *o, eimg_image *img)
{
	eimg_sgx_image *s = NULL;
	uint8_t mrenclave[32];
	int ex = verify(o, img, &s, mrenclave); /* takes img */
	if (ex)
		return ex;
	ex = o->print ? print_verified(o, s) : run_sgx(o, img, s, mrenclave);
	if (o->run.stop_fd >= 0)
		close(o->run.stop_fd);
	eimg_sgx_image_free(s);
	eimg_image_free(img);
	return ex;
}
