/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-sign's command line (options.h): --help, the options, and which
 * options each command takes. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/tool.h"
#include "enclave-sign/options.h"

static const char usage_text[] =
	"usage: enclave-sign [sign] -k KEY (-o OUT.eimg | --in-place) [--force] [--date YYYY-MM-DD] IMAGE.eimg\n"
	"       enclave-sign [sign] -k KEY (--sgxs FILE | --mrenclave HEX) -o OUT.sig [FIELDS]\n"
	"       enclave-sign export [--digest] -o OUT (IMAGE.eimg | --sgxs FILE | --mrenclave HEX) [FIELDS]\n"
	"       enclave-sign attach -s SIG -p PUBKEY [-o OUT] (IMAGE.eimg | --sgxs FILE | --mrenclave HEX) [FIELDS]\n"
	"       enclave-sign verify [--sgxs FILE | --mrenclave HEX] [--mrsigner HEX] [--constraint C] [--json] INPUT\n"
	"       enclave-sign show [--json] INPUT\n"
	"       enclave-sign key (-k KEY | --cert CERT) [--json | --print mrsigner|pcr8]\n"
	"       enclave-sign [sign] -k EC-KEY --cert CERT (-o OUT | --in-place) [--force] NITRO.eimg|FILE.eif\n"
	"       enclave-sign export --cert CERT -o OUT NITRO.eimg|FILE.eif\n"
	"       enclave-sign attach -s SIG --cert CERT [-o OUT] NITRO.eimg|FILE.eif\n"
	"\n"
	"Signs SGX enclaves with RSA-3072 (exponent 3): adds a SIGSTRUCT to an enclave image, or writes\n"
	"a standalone 1808-byte SIGSTRUCT for an SGXS file or an MRENCLAVE value. export/attach split\n"
	"signing in two steps for HSMs and offline keys. verify and show read images, bare SIGSTRUCTs\n"
	"(Gramine .sig, sgxs-sign), Intel SDK .signed.so and Open Enclave signed enclaves.\n"
	"With --cert, signs Nitro images and EIFs with an EC key (P-256/384/521) and its certificate\n"
	"(COSE_Sign1 over PCR0, as nitro-cli does); export/attach give the detached flow.\n"
	"key prints the MRSIGNER a key gives (private or public key file, certificate, pkcs11: URI)\n"
	"or the PCR8 a certificate gives, without signing anything.\n"
	"\n"
	"  -k, --key KEY              private key: PEM/DER file (may be encrypted) or a pkcs11: URI\n"
	"      --passphrase-file FILE key passphrase or token PIN: first line of FILE\n"
	"      --passphrase-env VAR   key passphrase or token PIN: environment variable VAR\n"
	"      --pkcs11-module PATH   PKCS#11 module for pkcs11: URIs (e.g. libsofthsm2.so)\n"
	"  -o, --output FILE          output file ('-' = stdout)\n"
	"  -i, --in-place             sign an image or EIF in place (instead of -o)\n"
	"  -f, --force                replace an image's existing signature\n"
	"      --date YYYY-MM-DD      signature date (default: SOURCE_DATE_EPOCH, else today, UTC)\n"
	"      --sgxs FILE            the enclave as an SGXS load stream (MRENCLAVE = its SHA-256)\n"
	"      --mrenclave HEX        the enclave as its MRENCLAVE (64 hex digits)\n"
	"      --digest               export: the 32-byte SHA-256 instead of the 256 signed bytes\n"
	"  -s, --signature FILE       attach: detached signature (384 bytes big-endian, DER or base64)\n"
	"  -p, --public-key FILE      attach: the signer's public key (PEM/DER, or certificate)\n"
	"      --cert FILE            Nitro: the signing certificate (PEM or DER) of the EC key\n"
	"      --mrsigner HEX         verify: expected MRSIGNER\n"
	"  -c, --constraint C         verify: an enclave constraint, or @FILE (enclave-constraints(7))\n"
	"      --json                 print the fields as JSON (schemas/sign-output.schema.json)\n"
	"  -q, --quiet                print nothing on success (errors still on stderr)\n"
	"      --print FIELD          print one bare value (mrsigner, mrenclave, isvprodid, isvsvn, pcr8, ...)\n"
	"  -h, --help                 show this help and exit\n"
	"  -V, --version              show the version and exit\n"
	"\n"
	"FIELDS (only with --sgxs/--mrenclave; an image takes them from its manifest):\n"
	"      --isvprodid N          ISVPRODID (default 0)\n"
	"      --isvsvn N             ISVSVN (default 0)\n"
	"      --debug                allow debug launch (DEBUG left out of the mask);\n"
	"                             default: production-only signature\n"
	"      --xfrm VALUE[:MASK]    XFRM and its mask (default 0x3:0xffffffffffffff1b)\n"
	"      --misc SELECT[:MASK]   MISCSELECT and its mask (default 0x0:0xffffffff)\n"
	"      --kss                  set the KSS attribute; with --isvfamilyid/--isvextprodid HEX (32 digits)\n"
	"      --attributes FLAGS:XFRM         raw attributes (overrides the above)\n"
	"      --attributes-mask FLAGS:XFRM    raw attribute mask (overrides the above)\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 verification failure.\n";

enum {
	OPT_PASS_FILE = 256, OPT_PASS_ENV, OPT_PKCS11_MODULE, OPT_DATE, OPT_SGXS, OPT_MRENCLAVE, OPT_DIGEST,
	OPT_MRSIGNER, OPT_JSON,
	/* the signature fields, from OPT_ISVPRODID to OPT_ATTRMASK (field_option) */
	OPT_ISVPRODID, OPT_ISVSVN, OPT_DEBUG, OPT_XFRM, OPT_MISC, OPT_KSS,
	OPT_FAMILY, OPT_EXTPROD, OPT_ATTR, OPT_ATTRMASK, OPT_CERT, OPT_PRINT
};

static const struct option long_opts[] = {
	{"key", required_argument, NULL, 'k'},
	{"passphrase-file", required_argument, NULL, OPT_PASS_FILE},
	{"passphrase-env", required_argument, NULL, OPT_PASS_ENV},
	{"pkcs11-module", required_argument, NULL, OPT_PKCS11_MODULE},
	{"output", required_argument, NULL, 'o'},
	{"force", no_argument, NULL, 'f'},
	{"date", required_argument, NULL, OPT_DATE},
	{"sgxs", required_argument, NULL, OPT_SGXS},
	{"mrenclave", required_argument, NULL, OPT_MRENCLAVE},
	{"digest", no_argument, NULL, OPT_DIGEST},
	{"signature", required_argument, NULL, 's'},
	{"public-key", required_argument, NULL, 'p'},
	{"cert", required_argument, NULL, OPT_CERT},
	{"mrsigner", required_argument, NULL, OPT_MRSIGNER},
	{"constraint", required_argument, NULL, 'c'},
	{"json", no_argument, NULL, OPT_JSON},
	{"quiet", no_argument, NULL, 'q'},
	{"print", required_argument, NULL, OPT_PRINT},
	{"in-place", no_argument, NULL, 'i'},
	{"isvprodid", required_argument, NULL, OPT_ISVPRODID},
	{"isvsvn", required_argument, NULL, OPT_ISVSVN},
	{"debug", no_argument, NULL, OPT_DEBUG},
	{"xfrm", required_argument, NULL, OPT_XFRM},
	{"misc", required_argument, NULL, OPT_MISC},
	{"kss", no_argument, NULL, OPT_KSS},
	{"isvfamilyid", required_argument, NULL, OPT_FAMILY},
	{"isvextprodid", required_argument, NULL, OPT_EXTPROD},
	{"attributes", required_argument, NULL, OPT_ATTR},
	{"attributes-mask", required_argument, NULL, OPT_ATTRMASK},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{NULL, 0, NULL, 0}
};
/* "A" or "A:B" */
static bool parse_pair(const char *s, uint64_t *a, uint64_t *b, bool *have_b)
{
	char tmp[128];
	if (strlen(s) >= sizeof(tmp))
		return false;
	snprintf(tmp, sizeof(tmp), "%s", s);
	char *colon = strchr(tmp, ':');
	*have_b = colon != NULL;
	if (colon) {
		*colon = '\0';
		if (!tool_parse_u64(colon + 1, TOOL_NUM_HEX, 0, UINT64_MAX, b))
			return false;
	}
	return tool_parse_u64(tmp, TOOL_NUM_HEX, 0, UINT64_MAX, a);
}

/* A 32-byte value in hex: -1, or the exit code of the usage error. */
static int hex_option(const char *arg, uint8_t *out, size_t len, const char *name, bool *have)
{
	eimg_error err;
	if (eimg_unhex(arg, out, len, name, &err))
		return tool_fail(&err, EIMG_EUSAGE);
	*have = true;
	return -1;
}

/* --attributes FLAGS:XFRM and --attributes-mask FLAGS:XFRM. */
static int attr_option(int c, const char *arg, struct eimg_sign_field_options *f)
{
	uint64_t v, w;
	bool hb;
	if (!parse_pair(arg, &v, &w, &hb) || !hb)
		return tool_usage("--attributes/--attributes-mask: expected FLAGS:XFRM, got \"%s\"", arg);
	if (c == OPT_ATTR) {
		f->attr_flags = v;
		f->attr_xfrm = w;
		f->have_attr = true;
	} else {
		f->mask_flags = v;
		f->mask_xfrm = w;
		f->have_attrmask = true;
	}
	return -1;
}

/* The signature field options (FIELDS in --help): -1 when taken, else the
 * exit code of the usage error. */
static int field_option(int c, const char *arg, struct sign_args *a)
{
	struct eimg_sign_field_options *f = &a->fields;
	uint64_t v, w;
	bool hb;

	a->have_fields = true;
	switch (c) {
	case OPT_ISVPRODID:
	case OPT_ISVSVN:
		if (!tool_parse_u64(arg, TOOL_NUM_HEX, 0, 0xffff, &v))
			return tool_usage(c == OPT_ISVPRODID ? "--isvprodid: expected 0..65535, got \"%s\""
					   : "--isvsvn: expected 0..65535, got \"%s\"", arg);
		if (c == OPT_ISVPRODID)
			f->isvprodid = (uint16_t)v;
		else
			f->isvsvn = (uint16_t)v;
		return -1;
	case OPT_DEBUG: f->debug = true; return -1;
	case OPT_KSS: f->kss = true; return -1;
	case OPT_XFRM:
		if (!parse_pair(arg, &v, &w, &hb))
			return tool_usage("--xfrm: expected VALUE[:MASK], got \"%s\"", arg);
		f->xfrm = v;
		if (hb)
			f->xfrm_mask = w;
		f->have_xfrm = true;
		return -1;
	case OPT_MISC:
		if (!parse_pair(arg, &v, &w, &hb) || v > 0xffffffffu || (hb && w > 0xffffffffu))
			return tool_usage("--misc: expected SELECT[:MASK] (32-bit values), got \"%s\"", arg);
		f->misc = (uint32_t)v;
		if (hb)
			f->misc_mask = (uint32_t)w;
		f->have_misc = true;
		return -1;
	case OPT_FAMILY: return hex_option(arg, f->family, 16, "--isvfamilyid", &a->have_family);
	case OPT_EXTPROD: return hex_option(arg, f->extprod, 16, "--isvextprodid", &a->have_extprod);
	default: return attr_option(c, arg, f);
	}
}

/* Every other option: -1 when taken, else the exit code. */
static int other_option(int c, const char *arg, struct sign_args *a)
{
	switch (c) {
	case 'k': a->key.path = arg; break;
	case OPT_PASS_FILE: a->key.passphrase_file = arg; break;
	case OPT_PASS_ENV: a->key.passphrase_env = arg; break;
	case OPT_PKCS11_MODULE: a->key.pkcs11_module = arg; break;
	case 'o': a->output = arg; break;
	case 'f': a->force = true; break;
	case OPT_DATE: a->date_arg = arg; break;
	case OPT_SGXS: a->sgxs = arg; break;
	case OPT_MRENCLAVE: return hex_option(arg, a->mrenclave, 32, "--mrenclave", &a->have_mrenclave);
	case OPT_DIGEST: a->digest = true; break;
	case 's': a->signature = arg; break;
	case 'p': a->pubkey = arg; break;
	case OPT_CERT: a->cert = arg; break;
	case OPT_MRSIGNER: return hex_option(arg, a->mrsigner, 32, "--mrsigner", &a->have_mrsigner);
	case 'c': a->constraint = arg; break;
	case OPT_JSON: a->json = true; break;
	case 'q': a->quiet = true; break;
	case 'i': a->in_place = true; break;
	case OPT_PRINT: a->print = arg; break;
	case 'h':
		fputs(usage_text, stdout);
		exit(EIMG_EXIT_OK);
	case 'V':
		printf("enclave-sign %s\n", EIMG_VERSION);
		exit(EIMG_EXIT_OK);
	default: return tool_bad_option();
	}
	return -1;
}

int sign_parse_args(int argc, char **argv, struct sign_args *a)
{
	static const char *names[] = {"sign", "export", "attach", "verify", "show", "key"};
	int c, rc;

	optind = 1;
	for (int i = 0; argc > 1 && i < 6; i++) {
		if (strcmp(argv[1], names[i]) == 0) {
			a->cmd = i;
			optind = 2;
		}
	}
	while ((c = getopt_long(argc, argv, "k:o:fs:p:c:qihV", long_opts, NULL)) != -1) {
		rc = c >= OPT_ISVPRODID && c <= OPT_ATTRMASK ? field_option(c, optarg, a) : other_option(c, optarg, a);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc)
		a->input = argv[optind++];
	if (optind < argc)
		return tool_usage("unexpected argument \"%s\"", argv[optind]);
	return -1;
}

/* Signing an image or EIF writes to -o, or replaces it with --in-place:
 * never silently (sgx_sign, gramine-sgx-sign and sgxs-sign take an output). */
static int output_or_in_place(const struct sign_args *a)
{
	if (a->output && a->in_place)
		return tool_usage("give -o FILE or --in-place, not both");
	if (!a->output && !a->in_place)
		return tool_usage("no output given: -o FILE, or --in-place to replace '%s'", a->input);
	return -1;
}

int sign_check_key(const struct sign_args *a)
{
	if (a->input || a->output || a->in_place || a->sgxs || a->have_mrenclave || a->have_fields || a->signature ||
	    a->pubkey || a->have_mrsigner || a->constraint || a->digest || a->force || a->date_arg)
		return tool_usage("key takes only -k KEY or --cert CERT, the passphrase options, --json, -q and --print");
	if (!a->key.path == !a->cert)
		return tool_usage("key needs -k KEY (its MRSIGNER) or --cert CERT (its PCR8)");
	return -1;
}

/* -k for sign only. */
static int key_for_sign(const struct sign_args *a)
{
	if (a->cmd == CMD_SIGN && !a->key.path)
		return tool_usage("no key given (-k KEY)");
	if (a->cmd != CMD_SIGN && a->key.path)
		return tool_usage("-k is for one-step signing, not export/attach");
	return -1;
}

int sign_check_nitro(const struct sign_args *a)
{
	int rc;
	if (!a->input)
		return tool_usage("no input given: a Nitro image or an EIF");
	if (a->sgxs || a->have_mrenclave || a->have_fields || a->date_arg || a->pubkey || a->have_mrsigner ||
	    a->constraint)
		return tool_usage("Nitro signing (--cert) takes -k, -o, --force, -s and the passphrase options only");
	if ((rc = key_for_sign(a)) >= 0)
		return rc;
	if (a->cmd == CMD_ATTACH && !a->signature)
		return tool_usage("attach needs --signature FILE");
	if (a->cmd == CMD_EXPORT && !a->output)
		return tool_usage("export needs -o FILE");
	if (a->digest)
		return tool_usage("--digest is for SGX; Nitro signatures are made over the exported bytes");
	if (a->cmd != CMD_EXPORT)
		return output_or_in_place(a);
	return -1;
}

/* Which enclave: an image, --sgxs or --mrenclave, and where the result goes. */
static int check_enclave(const struct sign_args *a)
{
	if (a->input && (a->sgxs || a->have_mrenclave))
		return tool_usage("give an image, or --sgxs FILE, or --mrenclave HEX, not several");
	if (!a->input && !a->sgxs && !a->have_mrenclave)
		return tool_usage("no enclave given: an image, --sgxs FILE or --mrenclave HEX");
	if (a->input && a->have_fields)
		return tool_usage("an image's signature fields come from its manifest: field options "
				   "(--isvprodid, --isvsvn, --debug, ...) only apply with --sgxs or --mrenclave");
	if (a->cmd == CMD_EXPORT && !a->output)
		return tool_usage("export needs -o FILE");
	if (!a->input && !a->output)
		return tool_usage("a standalone SIGSTRUCT needs -o FILE");
	if (!a->input && a->in_place)
		return tool_usage("--in-place is for an image; a standalone SIGSTRUCT needs -o FILE");
	if (a->input && a->cmd != CMD_EXPORT)
		return output_or_in_place(a);
	return -1;
}

int sign_check_sgx(const struct sign_args *a)
{
	int rc;
	if ((rc = check_enclave(a)) >= 0 || (rc = key_for_sign(a)) >= 0)
		return rc;
	if (a->cmd == CMD_ATTACH && (!a->signature || !a->pubkey))
		return tool_usage("attach needs --signature FILE and --public-key FILE");
	if (a->cmd != CMD_ATTACH && (a->signature || a->pubkey))
		return tool_usage("--signature/--public-key are for attach");
	if (a->cmd != CMD_EXPORT && a->digest)
		return tool_usage("--digest is for export");
	if (a->have_mrsigner || a->constraint)
		return tool_usage("--mrsigner/--constraint are for verify");
	return -1;
}

int sign_check_kss(const struct sign_args *a)
{
	if ((a->have_family || a->have_extprod) && !a->fields.kss)
		return tool_usage("%s needs --kss", a->have_family ? "--isvfamilyid" : "--isvextprodid");
	return -1;
}

int sign_check_verify(const struct sign_args *a)
{
	if (!a->input)
		return tool_usage("no input given");
	if (a->key.path || a->output || a->force || a->date_arg || a->have_fields || a->signature || a->pubkey ||
	    a->digest)
		return tool_usage("verify takes only --sgxs, --mrenclave, --mrsigner, --constraint and --json");
	if (a->cmd == CMD_SHOW && (a->sgxs || a->have_mrenclave || a->have_mrsigner || a->constraint))
		return tool_usage("show takes only --json (checks belong to verify)");
	if (a->sgxs && a->have_mrenclave)
		return tool_usage("give --sgxs or --mrenclave, not both");
	return -1;
}
