/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-run: verify an enclave image, then run it: an SGX image in the
 * simulation sandbox (or in this process, --mock) or on SGX hardware
 * (/dev/sgx_enclave), serving messages; a Nitro image or EIF through
 * nitro-cli (start, watch, terminate on SIGTERM/SIGINT). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include <enclaveimg.h>
#include "eimg/attest.h"
#include "eimg/nitro_run.h"
#include "eimg/sgx_hw.h"
#include "eimg/sim.h"
#include "common/pull.h"
#include "common/tool.h"

static const char usage_text[] =
	"usage: enclave-run [--backend simulation|hardware] [--mock [--symbols ELF]] [--debug] [--listen ADDR | --stdio]\n"
	"                   [--lines] [--max-message SIZE] [-q] [--expect VALUE]... [--expect-file FILE]\n"
	"                   [--constraint TEXT] [--attestation-out FILE] [--state DIR] IMAGE.eimg\n"
	"       enclave-run --preflight [IMAGE.eimg]\n"
	"       enclave-run [--dry-run] [--debug] [--cpus N] [--memory MIB] [--enclave-cid CID]\n"
	"                   [--require-signature] [--nitro-cli PATH] [--watch-interval SECONDS]\n"
	"                   [--expect VALUE]... [--constraint TEXT] NITRO.eimg|FILE.eif\n"
	"\n"
	"Verifies an enclave image, then runs it; nothing runs unless every check passes.\n"
	"SGX: the image parses, its measurement recomputes, its SIGSTRUCT is valid and signs the\n"
	"recomputed MRENCLAVE, --expect and --constraint hold; then it is loaded in a sandboxed child\n"
	"process (simulation) or through /dev/sgx_enclave (hardware) and handed messages:\n"
	"length-prefixed frames on standard input, replies on standard output, or clients of a\n"
	"listening socket.  Nitro: the EIF's PCRs are recomputed, its CRC and signature checked,\n"
	"--expect and --constraint hold; then it is started with nitro-cli run-enclave and watched.\n"
	"The image may be oci://HOST[:PORT]/REPO:TAG or @sha256:DIGEST: pulled from a registry\n"
	"first, every digest checked (enclave-oci(7)).\n"
	"\n"
	"  -b, --backend NAME      simulation or hardware (default: the image's mode)\n"
	"      --mock              run the enclave inside this process, without the sandbox (for gdb)\n"
	"      --symbols ELF       --mock: the ELF the image was built from, for gdb's symbols (checked:\n"
	"                          it must load exactly the image's enclave.elf)\n"
	"      --debug             hardware: launch with the DEBUG attribute (the signature must allow\n"
	"                          it); Nitro: debug mode, and attach the enclave's console\n"
	"      --preflight         check that this machine can run SGX enclaves on hardware, report,\n"
	"                          and exit (0 ready, 1 not); with an image also its EPC need\n"
	"  -l, --listen ADDR       serve clients on unix:PATH or tcp:[127.0.0.1:]PORT (loopback only);\n"
	"                          default: the image's runtime listen/ingress setting, else stdin/stdout\n"
	"      --stdio             use stdin/stdout even if the image names a listening address\n"
	"      --lines             one message per line instead of binary frames (for humans)\n"
	"  -m, --max-message SIZE  largest message and reply (default 1M, at most 64M)\n"
	"  -e, --expect VALUE      expected values: 64 hex digits (MRENCLAVE) or mrenclave:HEX\n"
	"                          mrsigner:HEX PCR0:HEX .. PCR8:HEX; repeatable\n"
	"  -E, --expect-file FILE  read expected values from FILE\n"
	"  -c, --constraint TEXT   an enclave constraint (enclave-constraints(7)); @FILE reads FILE\n"
	"      --attestation-out FILE  write the enclave's attestation document (enclave-attestation(5))\n"
	"      --state DIR         keep the enclave's sealed state in DIR (created 0700): its key-value\n"
	"                          store, and in simulation the INSECURE secret its sealing keys come from\n"
	"      --dry-run           Nitro: verify, print the nitro-cli commands it would run, exit\n"
	"      --cpus N            Nitro: CPU count (default: the manifest's, or the EIF header's)\n"
	"      --memory MIB        Nitro: memory in MiB (default: the manifest's, or the EIF header's)\n"
	"      --enclave-cid CID   Nitro: the enclave's vsock CID (default: chosen by nitro-cli)\n"
	"      --require-signature Nitro: refuse an unsigned EIF\n"
	"      --nitro-cli PATH    Nitro: the nitro-cli program (default: nitro-cli from PATH)\n"
	"      --watch-interval SECONDS  Nitro: how often to ask nitro-cli whether the enclave runs (2)\n"
	TOOL_PULL_HELP
	"  -q, --quiet             do not print the enclave's log lines or the verification summary\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show the version and exit\n"
	"\n"
	"Exit status: 0 clean exit, 1 error, 2 usage, 3 verification failed (nothing ran),\n"
	"4 enclave fault, 5 sandbox violation.\n";

struct opts {
	const char *image;
	struct eimg_run_options run;
	struct tool_expectations x;  /* --expect, --constraint */
	const char *attestation_out; /* --attestation-out */
	struct eimg_identity attest_id; /* what the document states */
	struct eimg_identity state_id;  /* --state: what sealing keys are bound to */
	bool attest_failed;          /* the document could not be written */
	bool quiet;
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

static const struct tool_info tool_self = {
	.name = "enclave-run",
	.synopsis = "[options] IMAGE.eimg",
};

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

/* Prints why the image may not run (each reason of the admission), in the
 * order the checks ran; returns how many checks failed. */
static int print_reasons(const struct opts *o, const struct eimg_admit_result *res)
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

static int verify_failed(const struct opts *o, int failures)
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
		rc = verify_failed(o, print_reasons(o, res));
		goto fail;
	}
	/* The symbols shown to gdb belong to exactly these loaded bytes. */
	if (o->symbols && (rc = eimg_elf_same_load(o->symbols, &s->elf, s->manifest->sgx.allow_write_exec, &err))) {
		tool_print_error(&err);
		rc = verify_failed(o, 1);
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

/* SIGTERM/SIGINT end the run cleanly through a signalfd; SIGPIPE is an
 * error on the write instead.  Returns the signalfd or -1. */
static int stop_signals(void)
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

/* --preflight: what the hardware backend needs, checked and reported. */
static int preflight(const struct opts *o, const eimg_sgx_image *s)
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

static void on_nitro_event(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "enclave-run: %s\n", text);
}

/* A Nitro image (img != NULL) or a plain EIF: verify, then hand it to nitro-cli. */
static int run_nitro(struct opts *o, eimg_image *img)
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
	if (!o->dry_run && (o->nitro.stop_fd = stop_signals()) < 0) {
		eimg_image_free(img);
		return EIMG_EXIT_ERROR;
	}
	o->nitro.on_event = on_nitro_event;
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
		return verify_failed(o, 1);
	}
	const eimg_nitro_report *rep = eimg_nitro_launch_report(l);
	eimg_nitro_report_identity(rep, &id);
	id.debug = o->debug;
	struct eimg_admit_policy p = { .expect = &o->x.expect, .constraint = o->x.constraint, .now = (uint64_t)time(NULL) };
	struct eimg_admit_result *ar = malloc(sizeof *ar);
	rc = ar ? eimg_admit_identity(&id, o->image, &p, ar, &err) : EIMG_ENOMEM;
	if (rc == EIMG_EVERIFY)
		ex = verify_failed(o, print_reasons(o, ar));
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

enum { O_BACKEND = 'b', O_MOCK = 256, O_LINES, O_STDIO, O_ATTEST, O_STATE, O_DEBUG, O_PREFLIGHT, O_DRYRUN,
       O_CPUS, O_MEMORY, O_CID, O_REQSIG, O_NITROCLI, O_WATCH, O_SYMBOLS };

/* The Nitro-only options.  Returns -1 when taken, else the exit code. */
static int nitro_option(struct opts *o, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case O_DRYRUN: o->dry_run = true; o->nitro_only = "--dry-run"; break;
	case O_CPUS:
		if (!tool_parse_u64(arg, 0, 1, EIMG_NITRO_MAX_CPUS, &v))
			return tool_usage("--cpus: expected a CPU count from 1 to 4096, got \"%s\"", arg);
		o->nitro.cpus = (uint32_t)v;
		o->nitro_only = "--cpus";
		break;
	case O_MEMORY:
		if (!tool_parse_u64(arg, 0, 64, EIMG_NITRO_MAX_MEMORY_MIB, &v))
			return tool_usage("--memory: expected MiB from 64 to 16777216, got \"%s\"", arg);
		o->nitro.memory_mib = v;
		o->nitro_only = "--memory";
		break;
	case O_CID:
		if (!tool_parse_u64(arg, 0, 4, UINT32_MAX - 1, &v))
			return tool_usage("--enclave-cid: expected a CID from 4 to 4294967294, got \"%s\"", arg);
		o->nitro.has_cid = true;
		o->nitro.cid = v;
		o->nitro_only = "--enclave-cid";
		break;
	case O_REQSIG: o->nitro.require_signature = true; o->nitro_only = "--require-signature"; break;
	case O_NITROCLI:
		if (!*arg)
			return tool_usage("--nitro-cli: empty path");
		o->nitro.nitro_cli = arg;
		o->nitro_only = "--nitro-cli";
		break;
	default: { /* O_WATCH */
		char *end;
		errno = 0;
		double d = strtod(arg, &end);
		if (errno || *end || end == arg || !(d >= 0.01 && d <= 3600))
			return tool_usage("--watch-interval: expected seconds from 0.01 to 3600, got \"%s\"", arg);
		o->nitro.watch_ms = (unsigned)(d * 1000 + 0.5);
		o->nitro_only = "--watch-interval";
		break;
	}
	}
	return -1;
}

/* The SGX-only options and the shared ones.  Returns -1 when taken, else the exit code. */
static int sgx_option(struct opts *o, int c, const char *arg)
{
	uint64_t v;
	switch (c) {
	case O_BACKEND:
		if (strcmp(arg, "simulation") == 0)
			o->backend = EIMG_RUN_SIMULATION;
		else if (strcmp(arg, "hardware") == 0)
			o->backend = EIMG_RUN_HARDWARE;
		else
			return tool_usage("--backend: expected simulation or hardware, got \"%s\"", arg);
		o->sgx_only = "--backend";
		break;
	case O_MOCK: o->mock = true; o->sgx_only = "--mock"; break;
	case O_SYMBOLS: o->symbols = arg; o->sgx_only = "--symbols"; break;
	case O_DEBUG: o->debug = true; o->nitro.debug = true; break;
	case O_PREFLIGHT: o->preflight = true; break;
	case 'l': o->run.listen = arg; o->sgx_only = "--listen"; break;
	case O_LINES: o->run.lines = true; o->sgx_only = "--lines"; break;
	case O_STDIO: o->stdio = true; o->sgx_only = "--stdio"; break;
	case 'm':
		if (eimg_parse_size(arg, &v) != 0 || v == 0 || v > EIMG_RUN_MAX_MESSAGE)
			return tool_usage("--max-message: expected a size from 1 to 64M, got \"%s\"", arg);
		o->run.max_message = (size_t)v;
		o->sgx_only = "--max-message";
		break;
	case O_ATTEST: o->attestation_out = arg; break;
	case O_STATE: o->run.state_dir = arg; o->sgx_only = "--state"; break;
	case 'q': o->quiet = true; break;
	default: return tool_bad_option();
	}
	return -1;
}

/* Returns -1 when the options make sense, else the exit code. */
static int parse_options(struct opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, O_BACKEND },
		{ "mock", no_argument, NULL, O_MOCK },
		{ "symbols", required_argument, NULL, O_SYMBOLS },
		{ "debug", no_argument, NULL, O_DEBUG },
		{ "preflight", no_argument, NULL, O_PREFLIGHT },
		{ "listen", required_argument, NULL, 'l' },
		{ "lines", no_argument, NULL, O_LINES },
		{ "stdio", no_argument, NULL, O_STDIO },
		{ "max-message", required_argument, NULL, 'm' },
		{ "expect", required_argument, NULL, 'e' },
		{ "expect-file", required_argument, NULL, 'E' },
		{ "constraint", required_argument, NULL, 'c' },
		{ "attestation-out", required_argument, NULL, O_ATTEST },
		{ "state", required_argument, NULL, O_STATE },
		{ "dry-run", no_argument, NULL, O_DRYRUN },
		{ "cpus", required_argument, NULL, O_CPUS },
		{ "memory", required_argument, NULL, O_MEMORY },
		{ "enclave-cid", required_argument, NULL, O_CID },
		{ "require-signature", no_argument, NULL, O_REQSIG },
		{ "nitro-cli", required_argument, NULL, O_NITROCLI },
		{ "watch-interval", required_argument, NULL, O_WATCH },
		TOOL_PULL_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	int c, ex;

	while ((c = getopt_long(argc, argv, "b:l:m:e:E:c:qhV", longopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(usage_text, stdout);
			return EIMG_EXIT_OK;
		}
		if (c == 'V') {
			printf("enclave-run %s\n", EIMG_VERSION);
			return EIMG_EXIT_OK;
		}
		if (c == 'e' || c == 'E' || c == 'c')
			ex = tool_expect_option(&o->x, c, optarg, "--constraint given twice");
		else if (c >= O_DRYRUN && c <= O_WATCH)
			ex = nitro_option(o, c, optarg);
		else if (c == TOOL_OPT_AUTH_FILE || c == TOOL_OPT_PLAIN_HTTP || c == TOOL_OPT_STATEMENT_KEY)
			ex = tool_pull_option(&o->pull, c, optarg);
		else
			ex = sgx_option(o, c, optarg);
		if (ex >= 0)
			return ex;
	}
	if (argc - optind > 1)
		return tool_usage("one image only, got also '%s'", argv[optind + 1]);
	if (o->symbols && !o->mock)
		return tool_usage("--symbols is for --mock (gdb in this process)");
	if (o->mock && o->backend == EIMG_RUN_HARDWARE)
		return tool_usage("--mock runs the simulation in this process: it excludes --backend hardware");
	if (o->preflight) {
		if (o->backend == EIMG_RUN_SIMULATION || o->mock)
			return tool_usage("--preflight checks the hardware backend: it excludes --backend simulation and --mock");
		if (o->nitro_only || o->debug || o->dry_run)
			return tool_usage("--preflight takes no run options (it only checks this machine)");
		o->backend = EIMG_RUN_HARDWARE;
		if (optind == argc)
			return preflight(o, NULL);
	}
	if (optind == argc)
		return tool_usage("missing the image to run");
	o->image = argv[optind];
	if (o->stdio && o->run.listen)
		return tool_usage("--stdio and --listen exclude each other");
	return -1;
}

/* The verified SGX image s (of img), loaded and served until it ends. */
static int run_sgx(struct opts *o, const eimg_image *img, const eimg_sgx_image *s, const uint8_t mrenclave[32])
{
	eimg_error err;
	int ex;

	if (o->preflight)
		return preflight(o, s);
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
	o->run.stop_fd = stop_signals();
	if (o->run.stop_fd < 0)
		return EIMG_EXIT_ERROR;
	if (!o->quiet)
		o->run.log = on_log;
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

/* A plain EIF or an image: to nitro-cli, or verified and run as SGX. */
static int run_image(struct opts *o)
{
	eimg_error err;
	eimg_image *img = NULL;
	eimg_sgx_image *s = NULL;
	uint8_t mrenclave[32];
	int kind = 0, ex;

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
	ex = verify(o, img, &s, mrenclave); /* takes img */
	if (ex)
		return ex;
	ex = run_sgx(o, img, s, mrenclave);
	if (o->run.stop_fd >= 0)
		close(o->run.stop_fd);
	eimg_sgx_image_free(s);
	eimg_image_free(img);
	return ex;
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
	int ex = parse_options(&o, argc, argv);
	if (ex < 0)
		ex = tool_pull_input(&o.pull, &o.image, o.quiet, "nothing was run");
	if (ex < 0)
		ex = run_image(&o);
	eimg_constraint_free(o.x.constraint);
	return ex;
}
