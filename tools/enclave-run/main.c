/* enclave-run: verify an SGX enclave image, then run it in the simulation
 * sandbox (or in this process, --mock) and serve messages. */
#include <errno.h>
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
#include <jansson.h>
#include "eimg/attest.h"
#include "eimg/sim.h"
#include "internal.h"

/* Exit statuses beyond the shared 0..3 (enclave-run(1)). */
#define EXIT_FAULT     4
#define EXIT_VIOLATION 5

static const char usage_text[] =
	"usage: enclave-run [--mock] [--listen ADDR | --stdio] [--lines] [--max-message SIZE] [-q]\n"
	"                   [--expect VALUE]... [--expect-file FILE] [--constraint TEXT] IMAGE.eimg\n"
	"\n"
	"Verifies an SGX enclave image (it parses, its measurement recomputes, its SIGSTRUCT is valid\n"
	"and signs the recomputed MRENCLAVE, --expect and --constraint hold), then loads it in a\n"
	"sandboxed child process and hands it messages: length-prefixed frames on standard input,\n"
	"replies on standard output, or clients of a listening socket.  Nothing runs unless every\n"
	"check passes.\n"
	"\n"
	"      --mock              run the enclave inside this process, without the sandbox (for gdb)\n"
	"  -l, --listen ADDR       serve clients on unix:PATH or tcp:[127.0.0.1:]PORT (loopback only);\n"
	"                          default: the image's runtime listen/ingress setting, else stdin/stdout\n"
	"      --stdio             use stdin/stdout even if the image names a listening address\n"
	"      --lines             one message per line instead of binary frames (for humans)\n"
	"  -m, --max-message SIZE  largest message and reply (default 1M, at most 64M)\n"
	"  -e, --expect VALUE      expected values: 64 hex digits (MRENCLAVE) or mrenclave:HEX\n"
	"                          mrsigner:HEX; repeatable\n"
	"  -E, --expect-file FILE  read expected values from FILE\n"
	"  -c, --constraint TEXT   an enclave constraint (enclave-constraints(7)); @FILE reads FILE\n"
	"      --attestation-out FILE  write the enclave's attestation document (enclave-attestation(5))\n"
	"  -q, --quiet             do not print the enclave's log lines or the verification summary\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show the version and exit\n"
	"\n"
	"Exit status: 0 clean exit, 1 error, 2 usage, 3 verification failed (nothing ran),\n"
	"4 enclave fault, 5 sandbox violation.\n";

struct opts {
	const char *image;
	struct eimg_run_options run;
	struct eimg_expect expect;
	eimg_constraint *constraint;
	const char *attestation_out; /* --attestation-out */
	bool quiet;
	bool stdio;               /* --stdio: ignore the image's listen/ingress */
	char listen_buf[512];
};

static void print_err(const eimg_error *err)
{
	char buf[1100];
	fprintf(stderr, "enclave-run: %s\n", eimg_error_format(err, buf, sizeof buf));
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "enclave-run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: enclave-run [options] IMAGE.eimg\nTry 'enclave-run --help' for more information.\n");
	return EIMG_EXIT_USAGE;
}

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
		fprintf(stderr, "enclave-run: mock: enclave loaded at %#llx; in gdb: add-symbol-file ENCLAVE.elf -o %#llx\n",
			(unsigned long long)base, (unsigned long long)base);
}

/* The listening address from the image's runtime configuration (the
 * manifest's unmeasured `runtime:` section) when the command line gives
 * none: "listen": "unix:PATH" | "tcp:PORT" ..., or "ingress": [PORT]
 * (loopback).  Returns 0 or an exit status. */
static int runtime_listen(struct opts *o, json_t *rt)
{
	json_t *l = json_object_get(rt, "listen"), *in = json_object_get(rt, "ingress");
	if (o->stdio || o->run.listen)
		return 0;
	if (l && in) {
		fprintf(stderr, "enclave-run: '%s': runtime: give either listen or ingress, not both\n", o->image);
		return EIMG_EXIT_ERROR;
	}
	if (l) {
		if (!json_is_string(l) || !*json_string_value(l)) {
			fprintf(stderr, "enclave-run: '%s': runtime.listen: expected an address like \"unix:PATH\" or \"tcp:PORT\"\n",
				o->image);
			return EIMG_EXIT_ERROR;
		}
		snprintf(o->listen_buf, sizeof o->listen_buf, "%s", json_string_value(l));
	} else if (in) {
		json_t *p = json_is_array(in) && json_array_size(in) == 1 ? json_array_get(in, 0) : NULL;
		if (!p || !json_is_integer(p) || json_integer_value(p) < 0 || json_integer_value(p) > 65535) {
			fprintf(stderr, "enclave-run: '%s': runtime.ingress: expected one port, like [8080]\n", o->image);
			return EIMG_EXIT_ERROR;
		}
		snprintf(o->listen_buf, sizeof o->listen_buf, "tcp:127.0.0.1:%lld", (long long)json_integer_value(p));
	} else {
		return 0;
	}
	o->run.listen = o->listen_buf;
	return 0;
}

/* Every check before anything runs.  Prints each failure; returns the exit
 * status (0 when the image may run).  Content problems are verification
 * failures (3); only an unreadable file or no memory is an error (1). */
static int verify(struct opts *o, eimg_image **img_out, eimg_sgx_image **s_out, uint8_t mrenclave[32])
{
	eimg_error err;
	eimg_image *img = NULL;
	eimg_sgx_image *s = NULL;
	struct eimg_sigstruct ss;
	struct eimg_identity id;
	int failures = 0, rc;
	bool signed_ok = false;

	rc = eimg_image_read_file(o->image, &img, &err);
	if (rc) {
		print_err(&err);
		return rc == EIMG_EIO || rc == EIMG_ENOMEM ? EIMG_EXIT_ERROR : EIMG_EXIT_VERIFY;
	}
	/* runtime.json is not measured (operator settings), but it must at
	 * least be what it claims to be: a JSON object. */
	if (img->runtime_json) {
		json_error_t je;
		json_t *rt = json_loadb(img->runtime_json, img->runtime_len, JSON_REJECT_DUPLICATES, &je);
		bool ok = rt && json_is_object(rt);
		if (ok && (rc = runtime_listen(o, rt)) != 0) {
			json_decref(rt);
			eimg_image_free(img);
			return rc;
		}
		json_decref(rt);
		if (!ok) {
			fprintf(stderr, "enclave-run: '%s': member 'runtime.json' is not a JSON object\n", o->image);
			eimg_image_free(img);
			return EIMG_EXIT_VERIFY;
		}
	}
	if (!img->elf) {
		fprintf(stderr, "enclave-run: '%s': not an SGX image (enclave-run runs SGX images; a Nitro EIF runs with nitro-cli)\n",
			o->image);
		eimg_image_free(img);
		return EIMG_EXIT_VERIFY;
	}
	rc = eimg_sgx_image_open(img, o->image, &s, &err);
	if (rc) {
		print_err(&err);
		eimg_image_free(img);
		return rc == EIMG_ENOMEM ? EIMG_EXIT_ERROR : EIMG_EXIT_VERIFY;
	}
	if (s->manifest->mode != EIMG_MODE_SIMULATION) {
		fprintf(stderr, "enclave-run: '%s': mode: the image was built for %s mode, this host runs simulation%s; "
			"to run it here set 'mode: simulation' in enclave.yaml, link the ELF with the simulation runtime "
			"(make MODE=simulation), then run enclave-build and enclave-sign again\n",
			o->image, eimg_mode_name(s->manifest->mode),
			o->run.backend == EIMG_RUN_MOCK ? " (mock)" : "");
		failures++;
	}
	rc = eimg_sign_verify_image(img, o->image, &ss, &err);
	if (rc == EIMG_ENOMEM) {
		print_err(&err);
		goto fail;
	}
	if (rc) {
		print_err(&err);
		if (strstr(err.msg, "not signed"))
			fprintf(stderr, "enclave-run: '%s': sign it first: enclave-sign -k KEY %s\n", o->image, o->image);
		failures++;
	} else {
		signed_ok = true;
	}
	eimg_identity_sgx(s->m.mrenclave, signed_ok ? &ss : NULL,
			  o->run.backend == EIMG_RUN_MOCK ? EIMG_ID_MOCK : EIMG_ID_SIMULATION, false, &id);
	if (!eimg_expect_empty(&o->expect)) {
		rc = eimg_expect_check(&o->expect, &id, &err);
		if (rc) {
			snprintf(err.file, sizeof err.file, "%s", o->image);
			print_err(&err);
			failures++;
		}
	}
	if (o->constraint) {
		struct eimg_constraint_failure f[16];
		size_t nf = 0;
		rc = eimg_constraint_check(o->constraint, &id, (uint64_t)time(NULL), f, 16, &nf, &err);
		if (rc == EIMG_EVERIFY) {
			for (size_t i = 0; i < nf && i < 16; i++)
				fprintf(stderr, "enclave-run: '%s': constraint %s: expected %s, actual %s\n", o->image, f[i].key,
					f[i].expected, f[i].actual);
			if (nf == 0)
				print_err(&err);
			failures++;
		} else if (rc) {
			print_err(&err);
			failures++;
		}
	}
	if (failures) {
		fprintf(stderr, "enclave-run: '%s': verification failed (%d check%s); nothing was run\n", o->image,
			failures, failures == 1 ? "" : "s");
		eimg_sgx_image_free(s);
		eimg_image_free(img);
		return EIMG_EXIT_VERIFY;
	}
	if (!o->quiet) {
		char h1[65], h2[65];
		fprintf(stderr, "enclave-run: verified '%s': MRENCLAVE %s, MRSIGNER %s, %s\n", o->image,
			eimg_hex(s->m.mrenclave, 32, h1), eimg_hex(id.mrsigner, 32, h2),
			o->run.backend == EIMG_RUN_MOCK ? "mock (no sandbox)" : "simulation");
	}
	/* The loader compares what it placed with the SIGSTRUCT, as EINIT does. */
	memcpy(mrenclave, ss.enclavehash, 32);
	*img_out = img;
	*s_out = s;
	return EIMG_EXIT_OK;
fail:
	eimg_sgx_image_free(s);
	eimg_image_free(img);
	return EIMG_EXIT_ERROR;
}

/* --attestation-out: a simulation/mock document for the verified image
 * (the loader refuses to enter unless what it placed measures to the same
 * MRENCLAVE).  The runtime has no way yet for the enclave to publish a
 * public key, so the document binds none and says so. */
static int write_attestation(const struct opts *o, const eimg_image *img, const uint8_t mrenclave[32])
{
	eimg_error err;
	struct eimg_sigstruct ss;
	struct eimg_identity id;
	int rc = eimg_sigstruct_decode(o->image, img->sigstruct, img->sigstruct_size, &ss, &err);
	if (!rc) {
		eimg_identity_sgx(mrenclave, &ss, o->run.backend == EIMG_RUN_MOCK ? EIMG_ID_MOCK : EIMG_ID_SIMULATION,
				  false, &id);
		rc = eimg_attest_write_simulation(o->attestation_out, &id, NULL, 0, (uint64_t)time(NULL), &err);
	}
	if (rc) {
		print_err(&err);
		return eimg_exit_code(rc);
	}
	if (!o->quiet)
		fprintf(stderr, "enclave-run: attestation document written to '%s' (simulation: INSECURE; no enclave key)\n",
			o->attestation_out);
	return EIMG_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mock", no_argument, NULL, 'M' },
		{ "listen", required_argument, NULL, 'l' },
		{ "lines", no_argument, NULL, 'L' },
		{ "stdio", no_argument, NULL, 'S' },
		{ "max-message", required_argument, NULL, 'm' },
		{ "expect", required_argument, NULL, 'e' },
		{ "expect-file", required_argument, NULL, 'E' },
		{ "constraint", required_argument, NULL, 'c' },
		{ "attestation-out", required_argument, NULL, 'A' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o;
	eimg_error err;
	int c, ex;
	uint64_t v;

	memset(&o, 0, sizeof o);
	o.run.backend = EIMG_RUN_SIMULATION;
	o.run.in_fd = 0;
	o.run.out_fd = 1;
	o.run.stop_fd = -1;
	while ((c = getopt_long(argc, argv, "l:m:e:E:c:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'M': o.run.backend = EIMG_RUN_MOCK; break;
		case 'l': o.run.listen = optarg; break;
		case 'L': o.run.lines = true; break;
		case 'S': o.stdio = true; break;
		case 'm':
			if (eimg_parse_size(optarg, &v) != 0 || v == 0 || v > EIMG_RUN_MAX_MESSAGE)
				return usage_error("--max-message: expected a size from 1 to 64M, got \"%s\"", optarg);
			o.run.max_message = (size_t)v;
			break;
		case 'e':
			if (eimg_expect_parse(&o.expect, optarg, "--expect", &err)) {
				print_err(&err);
				return EIMG_EXIT_USAGE;
			}
			break;
		case 'E':
			if ((ex = eimg_expect_parse_file(&o.expect, optarg, &err))) {
				print_err(&err);
				return eimg_exit_code(ex);
			}
			break;
		case 'c':
			if (o.constraint)
				return usage_error("--constraint given twice%s", "");
			if ((ex = eimg_constraint_parse_arg(optarg, &o.constraint, &err))) {
				print_err(&err);
				return ex == EIMG_EINVAL ? EIMG_EXIT_USAGE : eimg_exit_code(ex);
			}
			break;
		case 'A': o.attestation_out = optarg; break;
		case 'q': o.quiet = true; break;
		case 'h': fputs(usage_text, stdout); return EIMG_EXIT_OK;
		case 'V': printf("enclave-run %s\n", EIMG_VERSION); return EIMG_EXIT_OK;
		default:
			fputs("usage: enclave-run [options] IMAGE.eimg\nTry 'enclave-run --help' for more information.\n", stderr);
			return EIMG_EXIT_USAGE;
		}
	}
	if (optind == argc)
		return usage_error("missing the image to run%s", "");
	if (argc - optind > 1)
		return usage_error("one image only, got also '%s'", argv[optind + 1]);
	o.image = argv[optind];
	if (o.stdio && o.run.listen)
		return usage_error("--stdio and --listen exclude each other%s", "");

	eimg_image *img = NULL;
	eimg_sgx_image *s = NULL;
	uint8_t mrenclave[32];
	ex = verify(&o, &img, &s, mrenclave);
	eimg_constraint_free(o.constraint);
	if (ex)
		return ex;
	if (o.attestation_out && (ex = write_attestation(&o, img, mrenclave)) != 0)
		goto out;

	/* SIGTERM/SIGINT end the run cleanly through a signalfd; SIGPIPE is
	 * an error on the write instead. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	o.run.stop_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (o.run.stop_fd < 0) {
		fprintf(stderr, "enclave-run: signalfd: %s\n", strerror(errno));
		ex = EIMG_EXIT_ERROR;
		goto out;
	}
	if (!o.quiet)
		o.run.log = on_log;
	o.run.on_listen = on_listen;
	o.run.on_ready = on_ready;
	o.run.ready_ctx = &o;

	struct eimg_run_result res;
	int rc = eimg_run(s->layout, mrenclave, &o.run, &res, &err);
	if (rc) {
		print_err(&err);
		ex = eimg_exit_code(rc);
	} else if (res.outcome == EIMG_RUN_FAULT) {
		fprintf(stderr, "enclave-run: %s\n", res.what);
		ex = EXIT_FAULT;
	} else if (res.outcome == EIMG_RUN_VIOLATION) {
		fprintf(stderr, "enclave-run: %s\n", res.what);
		ex = EXIT_VIOLATION;
	} else {
		ex = EIMG_EXIT_OK;
	}
out:
	if (o.run.stop_fd >= 0)
		close(o.run.stop_fd);
	eimg_sgx_image_free(s);
	eimg_image_free(img);
	return ex;
}
