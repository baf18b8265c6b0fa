/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-run's command line (run.h): --help, the SGX and Nitro options, and
 * which go together. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enclave-run/run.h"

static const char usage_text[] =
	"usage: enclave-run [--backend simulation|hardware] [--mock [--symbols ELF]] [--debug] [--listen ADDR | --stdio]\n"
	"                   [--lines] [--max-message SIZE] [-q | --print FIELD] [--expect VALUE]... [--expect-file FILE]\n"
	"                   [--constraint TEXT] [--attestation-out FILE] [--state DIR] IMAGE.eimg\n"
	"       enclave-run --preflight [IMAGE.eimg]\n"
	"       enclave-run [--dry-run] [--debug] [--cpus N] [--memory MIB] [--enclave-cid CID]\n"
	"                   [--require-signature] [--nitro-cli PATH] [--watch-interval SECONDS]\n"
	"                   [--ingress-bind ADDR]\n"
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
	"      --ingress-bind ADDR Nitro: the host address the image's ingress ports listen on\n"
	"                          (default 127.0.0.1; 0.0.0.0 or :: publishes them)\n"
	TOOL_PULL_HELP
	"  -q, --quiet             do not print the enclave's log lines or the verification summary\n"
	"      --print FIELD       verify the image exactly as a run would, print one bare value of it\n"
	"                          (mrenclave, mrsigner, isvsvn, pcr0 .. pcr8, ...: the JSON names\n"
	"                          of enclave-measure) and exit without running it\n"
	"  -h, --help              show this help and exit\n"
	"  -V, --version           show the version and exit\n"
	"\n"
	"Exit status: 0 clean exit, 1 error, 2 usage, 3 verification failed (nothing ran),\n"
	"4 enclave fault, 5 sandbox violation.\n";

enum { O_BACKEND = 'b', O_MOCK = 256, O_LINES, O_STDIO, O_ATTEST, O_STATE, O_DEBUG, O_PREFLIGHT, O_DRYRUN,
       O_CPUS, O_MEMORY, O_CID, O_REQSIG, O_NITROCLI, O_INGRESS, O_WATCH, O_SYMBOLS, O_PRINT };

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
	case O_INGRESS: o->nitro.ingress_bind = arg; o->nitro_only = "--ingress-bind"; break;
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
	case O_PRINT: o->print = arg; break;
	default: return tool_bad_option();
	}
	return -1;
}

/* Returns -1 when the options make sense, else the exit code. */
int run_parse_options(struct opts *o, int argc, char **argv)
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
		{ "ingress-bind", required_argument, NULL, O_INGRESS },
		TOOL_PULL_LONGOPTS,
		{ "quiet", no_argument, NULL, 'q' },
		{ "print", required_argument, NULL, O_PRINT },
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
	if ((ex = tool_output_mode(o->quiet, o->print, false)) >= 0)
		return ex;
	if (o->print && (o->preflight || o->attestation_out))
		return tool_usage("--print verifies and prints, nothing runs: not with %s",
				  o->preflight ? "--preflight" : "--attestation-out");
	o->quiet = o->quiet || o->print; /* only the value on stdout, no summary */
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
			return run_preflight(o, NULL);
	}
	if (optind == argc)
		return tool_usage("missing the image to run");
	o->image = argv[optind];
	if (o->stdio && o->run.listen)
		return tool_usage("--stdio and --listen exclude each other");
	return -1;
}
