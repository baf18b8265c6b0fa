/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-sign: sign SGX enclaves (images, SGXS files, MRENCLAVE values) and
 * Nitro enclaves (images, EIFs), two-step signing for HSMs, verification and
 * display of signatures. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <time.h>
#include <unistd.h>

#include <enclaveimg.h>
#include <eimg/constraint.h>
#include <eimg/sigstruct.h>
#include "common/prompt.h"
#include "common/tool.h"

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
	OPT_MRSIGNER, OPT_JSON, OPT_ISVPRODID, OPT_ISVSVN, OPT_DEBUG, OPT_XFRM, OPT_MISC, OPT_KSS,
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

enum cmd { CMD_SIGN, CMD_EXPORT, CMD_ATTACH, CMD_VERIFY, CMD_SHOW, CMD_KEY };

struct state {
	int cmd;
	const char *input;
	struct eimg_key_source key;
	const char *output;
	bool force;
	const char *date_arg;
	const char *sgxs;
	bool have_mrenclave;
	uint8_t mrenclave[32];
	bool digest;
	const char *signature;
	const char *pubkey;
	const char *cert;
	bool have_mrsigner;
	uint8_t mrsigner[32];
	const char *constraint;
	bool json, quiet, in_place;
	const char *print;
	bool have_fields;          /* any field option given */
	struct eimg_sign_fields fields;
	bool debug, kss, have_family, have_extprod, have_attr, have_attrmask;
	bool have_xfrm, have_misc;
	uint64_t xfrm, xfrm_mask, attr_flags, attr_xfrm, mask_flags, mask_xfrm;
	uint32_t misc, misc_mask;
	uint16_t isvprodid, isvsvn;
	uint8_t family[16], extprod[16];
};

static const struct tool_info tool_self = {
	.name = "enclave-sign",
	.synopsis = "[sign|export|attach|verify|show|key] [OPTIONS] INPUT",
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

static int parse_args(int argc, char **argv, struct state *st)
{
	int c;
	uint64_t v, w;
	bool hb;
	eimg_error err;

	optind = 1;
	if (argc > 1) {
		static const char *names[] = {"sign", "export", "attach", "verify", "show", "key"};
		for (int i = 0; i < 6; i++) {
			if (strcmp(argv[1], names[i]) == 0) {
				st->cmd = i;
				optind = 2;
			}
		}
	}
	while ((c = getopt_long(argc, argv, "k:o:fs:p:c:qihV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'k': st->key.path = optarg; break;
		case OPT_PASS_FILE: st->key.passphrase_file = optarg; break;
		case OPT_PASS_ENV: st->key.passphrase_env = optarg; break;
		case OPT_PKCS11_MODULE: st->key.pkcs11_module = optarg; break;
		case 'o': st->output = optarg; break;
		case 'f': st->force = true; break;
		case OPT_DATE: st->date_arg = optarg; break;
		case OPT_SGXS: st->sgxs = optarg; break;
		case OPT_MRENCLAVE:
			if (eimg_unhex(optarg, st->mrenclave, 32, "--mrenclave", &err))
				return tool_fail(&err, EIMG_EUSAGE);
			st->have_mrenclave = true;
			break;
		case OPT_DIGEST: st->digest = true; break;
		case 's': st->signature = optarg; break;
		case 'p': st->pubkey = optarg; break;
		case OPT_CERT: st->cert = optarg; break;
		case OPT_MRSIGNER:
			if (eimg_unhex(optarg, st->mrsigner, 32, "--mrsigner", &err))
				return tool_fail(&err, EIMG_EUSAGE);
			st->have_mrsigner = true;
			break;
		case 'c': st->constraint = optarg; break;
		case OPT_JSON: st->json = true; break;
		case 'q': st->quiet = true; break;
		case 'i': st->in_place = true; break;
		case OPT_PRINT: st->print = optarg; break;
		case OPT_ISVPRODID:
		case OPT_ISVSVN:
			if (!tool_parse_u64(optarg, TOOL_NUM_HEX, 0, 0xffff, &v))
				return tool_usage(c == OPT_ISVPRODID ? "--isvprodid: expected 0..65535, got \"%s\""
						   : "--isvsvn: expected 0..65535, got \"%s\"", optarg);
			if (c == OPT_ISVPRODID)
				st->isvprodid = (uint16_t)v;
			else
				st->isvsvn = (uint16_t)v;
			st->have_fields = true;
			break;
		case OPT_DEBUG: st->debug = st->have_fields = true; break;
		case OPT_KSS: st->kss = st->have_fields = true; break;
		case OPT_XFRM:
			if (!parse_pair(optarg, &v, &w, &hb))
				return tool_usage("--xfrm: expected VALUE[:MASK], got \"%s\"", optarg);
			st->xfrm = v;
			if (hb)
				st->xfrm_mask = w;
			st->have_xfrm = st->have_fields = true;
			break;
		case OPT_MISC:
			if (!parse_pair(optarg, &v, &w, &hb) || v > 0xffffffffu || (hb && w > 0xffffffffu))
				return tool_usage("--misc: expected SELECT[:MASK] (32-bit values), got \"%s\"", optarg);
			st->misc = (uint32_t)v;
			if (hb)
				st->misc_mask = (uint32_t)w;
			st->have_misc = st->have_fields = true;
			break;
		case OPT_FAMILY:
			if (eimg_unhex(optarg, st->family, 16, "--isvfamilyid", &err))
				return tool_fail(&err, EIMG_EUSAGE);
			st->have_family = st->have_fields = true;
			break;
		case OPT_EXTPROD:
			if (eimg_unhex(optarg, st->extprod, 16, "--isvextprodid", &err))
				return tool_fail(&err, EIMG_EUSAGE);
			st->have_extprod = st->have_fields = true;
			break;
		case OPT_ATTR:
		case OPT_ATTRMASK:
			if (!parse_pair(optarg, &v, &w, &hb) || !hb)
				return tool_usage("--attributes/--attributes-mask: expected FLAGS:XFRM, got \"%s\"", optarg);
			if (c == OPT_ATTR) {
				st->attr_flags = v;
				st->attr_xfrm = w;
				st->have_attr = true;
			} else {
				st->mask_flags = v;
				st->mask_xfrm = w;
				st->have_attrmask = true;
			}
			st->have_fields = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(EIMG_EXIT_OK);
		case 'V':
			printf("enclave-sign %s\n", EIMG_VERSION);
			exit(EIMG_EXIT_OK);
		default: return tool_bad_option();
		}
	}
	if (optind < argc)
		st->input = argv[optind++];
	if (optind < argc)
		return tool_usage("unexpected argument \"%s\"", argv[optind]);
	return -1;
}

/* The fields for --sgxs/--mrenclave from the options. */
static int build_fields(struct state *st, uint32_t date)
{
	struct eimg_manifest_sgx m;
	memset(&m, 0, sizeof(m));
	m.xfrm = 0x3;
	m.xfrm_mask = 0xffffffffffffff1bull;
	m.misc_mask = 0xffffffffu;
	if (st->have_xfrm) {
		m.xfrm = st->xfrm;
		if (st->xfrm_mask)
			m.xfrm_mask = st->xfrm_mask;
	}
	if (st->have_misc) {
		m.misc_select = st->misc;
		if (st->misc_mask)
			m.misc_mask = st->misc_mask;
	}
	m.product_id = st->isvprodid;
	m.security_version = st->isvsvn;
	m.debug = st->debug;
	if ((st->have_family || st->have_extprod) && !st->kss)
		return tool_usage("%s needs --kss", st->have_family ? "--isvfamilyid" : "--isvextprodid");
	m.kss = st->kss;
	memcpy(m.isv_family_id, st->family, 16);
	memcpy(m.isv_ext_product_id, st->extprod, 16);
	eimg_sign_fields_from_manifest(&m, date, &st->fields);
	if (st->have_attr) {
		st->fields.attr_flags = st->attr_flags;
		st->fields.attr_xfrm = st->attr_xfrm;
	}
	if (st->have_attrmask) {
		st->fields.mask_flags = st->mask_flags;
		st->fields.mask_xfrm = st->mask_xfrm;
	}
	return -1;
}

static int get_date(const struct state *st, uint32_t *date, eimg_error *err)
{
	uint64_t t;
	int rc;
	if (st->date_arg)
		return eimg_bcd_date_parse(st->date_arg, date, err);
	rc = eimg_source_date_epoch(1, &t, err);
	if (rc)
		return rc;
	return eimg_bcd_date_from_epoch(t, date, err);
}

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

/* Signing an image or EIF writes to -o, or replaces it with --in-place:
 * never silently (sgx_sign, gramine-sgx-sign and sgxs-sign take an output). */
static int output_or_in_place(const struct state *st)
{
	if (st->output && st->in_place)
		return tool_usage("give -o FILE or --in-place, not both");
	if (!st->output && !st->in_place)
		return tool_usage("no output given: -o FILE, or --in-place to replace '%s'", st->input);
	return -1;
}

/* enclave-sign key: the MRSIGNER a key gives, or the PCR8 a certificate
 * gives, without signing. */
static int do_key(struct state *st)
{
	uint8_t value[48];
	eimg_error err;
	char *text = NULL;
	int rc;

	eimg_error_clear(&err);
	if (st->input || st->output || st->in_place || st->sgxs || st->have_mrenclave || st->have_fields || st->signature ||
	    st->pubkey || st->have_mrsigner || st->constraint || st->digest || st->force || st->date_arg)
		return tool_usage("key takes only -k KEY or --cert CERT, the passphrase options, --json, -q and --print");
	if (!st->key.path == !st->cert)
		return tool_usage("key needs -k KEY (its MRSIGNER) or --cert CERT (its PCR8)");
	st->key.prompt = tool_prompt_tty;
	rc = st->cert ? eimg_nitro_pcr8_of_cert(st->cert, value, &err) : eimg_key_mrsigner(&st->key, value, &err);
	if (!rc)
		rc = eimg_signer_report(st->cert ? NULL : value, value, tool_want_json(), &text, &err);
	if (rc)
		return tool_fail(&err, rc);
	return tool_emit(text);
}

/* After signing: the file written and PCR8, the value a deployment expects
 * (as `nitro-cli pcr --signing-certificate` gives it). */
static int print_pcr8(const struct state *st)
{
	uint8_t pcr8[48];
	char hex[97];
	eimg_error err;
	const char *out = st->output ? st->output : st->input;
	eimg_error_clear(&err);
	int rc = eimg_nitro_pcr8_of_cert(st->cert, pcr8, &err);
	if (rc)
		return tool_fail(&err, rc);
	eimg_hex(pcr8, 48, hex);
	if (!tool_want_json()) {
		if (st->print && strcasecmp(st->print, "pcr8") == 0)
			printf("%s\n", hex);
		else if (tool_chatty())
			printf("wrote %s\nPCR8: %s\n", out, hex);
		return fflush(stdout) == 0 ? EIMG_EXIT_OK : EIMG_EXIT_ERROR;
	}
	json_t *o = json_pack("{s:s, s:s}", "output", out, "PCR8", hex);
	char *text = o ? json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
	json_decref(o);
	if (!text)
		return tool_message(EIMG_EXIT_ERROR, "out of memory");
	printf("%s\n", text);
	free(text);
	return fflush(stdout) == 0 ? EIMG_EXIT_OK : EIMG_EXIT_ERROR;
}

static int do_sign_nitro(struct state *st)
{
	struct eimg_nitro_sign_request r;
	eimg_error err;
	int rc;

	eimg_error_clear(&err);
	if (!st->input)
		return tool_usage("no input given: a Nitro image or an EIF");
	if (st->sgxs || st->have_mrenclave || st->have_fields || st->date_arg || st->pubkey || st->have_mrsigner ||
	    st->constraint)
		return tool_usage("Nitro signing (--cert) takes -k, -o, --force, -s and the passphrase options only");
	if (st->cmd == CMD_SIGN && !st->key.path)
		return tool_usage("no key given (-k KEY)");
	if (st->cmd != CMD_SIGN && st->key.path)
		return tool_usage("-k is for one-step signing, not export/attach");
	if (st->cmd == CMD_ATTACH && !st->signature)
		return tool_usage("attach needs --signature FILE");
	if (st->cmd == CMD_EXPORT && !st->output)
		return tool_usage("export needs -o FILE");
	if (st->digest)
		return tool_usage("--digest is for SGX; Nitro signatures are made over the exported bytes");
	if (st->cmd != CMD_EXPORT && (rc = output_or_in_place(st)) >= 0)
		return rc;
	st->key.prompt = tool_prompt_tty;
	memset(&r, 0, sizeof(r));
	r.op = st->cmd == CMD_SIGN ? EIMG_SIGN_OP_SIGN : st->cmd == CMD_ATTACH ? EIMG_SIGN_OP_ATTACH : EIMG_SIGN_OP_EXPORT;
	r.input = st->input;
	r.output = st->output;
	r.key = &st->key;
	r.cert_path = st->cert;
	r.signature_path = st->signature;
	r.force = st->force;
	rc = eimg_nitro_sign_run(&r, &err);
	if (rc)
		return tool_fail(&err, rc);
	if (r.op == EIMG_SIGN_OP_EXPORT || (st->output && strcmp(st->output, "-") == 0))
		return EIMG_EXIT_OK;
	return print_pcr8(st);
}

/* Nitro: the audit report, and a valid signature required. */
static int do_verify_nitro(struct state *st)
{
	eimg_nitro_report *rep = NULL;
	eimg_constraint *c = NULL;
	struct eimg_identity id;
	eimg_error err;
	char *text = NULL;
	int rc;

	eimg_error_clear(&err);
	if (st->sgxs || st->have_mrenclave || st->have_mrsigner)
		return tool_usage("--sgxs, --mrenclave and --mrsigner are for SGX; check PCRs with --constraint");
	if (st->constraint) {
		rc = eimg_constraint_parse_arg(st->constraint, &c, &err);
		if (rc)
			return tool_fail(&err, rc == EIMG_EINVAL ? EIMG_EUSAGE : rc);
	}
	rc = eimg_nitro_verify_file(st->input, &rep, &err);
	if (rc == EIMG_OK && c) {
		eimg_nitro_report_identity(rep, &id);
		rc = eimg_constraint_check(c, &id, (uint64_t)time(NULL), NULL, 0, NULL, &err);
		if (rc)
			eimg_err_context(&err, st->input, "constraint not met");
	}
	eimg_constraint_free(c);
	if (rc) {
		eimg_nitro_report_free(rep);
		return tool_fail(&err, rc);
	}
	if (st->cmd == CMD_VERIFY)
		tool_say("'%s': Nitro EIF: signature valid", st->input);
	rc = tool_want_json() ? eimg_nitro_report_json(rep, &text, &err) : eimg_nitro_report_text(rep, &text, &err);
	eimg_nitro_report_free(rep);
	if (rc)
		return tool_fail(&err, rc);
	return tool_emit(text);
}

static int do_sign(struct state *st)
{
	struct eimg_sign_request r;
	struct eimg_sigstruct s;
	eimg_error err;
	uint32_t date;
	int rc;

	eimg_error_clear(&err);
	memset(&r, 0, sizeof(r));
	if (st->input && (st->sgxs || st->have_mrenclave))
		return tool_usage("give an image, or --sgxs FILE, or --mrenclave HEX, not several");
	if (!st->input && !st->sgxs && !st->have_mrenclave)
		return tool_usage("no enclave given: an image, --sgxs FILE or --mrenclave HEX");
	if (st->input && st->have_fields)
		return tool_usage("an image's signature fields come from its manifest: field options "
				   "(--isvprodid, --isvsvn, --debug, ...) only apply with --sgxs or --mrenclave");
	if (st->cmd == CMD_EXPORT && !st->output)
		return tool_usage("export needs -o FILE");
	if (!st->input && !st->output)
		return tool_usage("a standalone SIGSTRUCT needs -o FILE");
	if (!st->input && st->in_place)
		return tool_usage("--in-place is for an image; a standalone SIGSTRUCT needs -o FILE");
	if (st->input && st->cmd != CMD_EXPORT && (rc = output_or_in_place(st)) >= 0)
		return rc;
	if (st->cmd == CMD_SIGN && !st->key.path)
		return tool_usage("no key given (-k KEY)");
	if (st->cmd != CMD_SIGN && st->key.path)
		return tool_usage("-k is for one-step signing, not export/attach");
	if (st->cmd == CMD_ATTACH && (!st->signature || !st->pubkey))
		return tool_usage("attach needs --signature FILE and --public-key FILE");
	if (st->cmd != CMD_ATTACH && (st->signature || st->pubkey))
		return tool_usage("--signature/--public-key are for attach");
	if (st->cmd != CMD_EXPORT && st->digest)
		return tool_usage("--digest is for export");
	if (st->have_mrsigner || st->constraint)
		return tool_usage("--mrsigner/--constraint are for verify");
	rc = get_date(st, &date, &err);
	if (rc)
		return tool_fail(&err, rc == EIMG_EINVAL ? EIMG_EUSAGE : rc);
	if (!st->input) {
		rc = build_fields(st, date);
		if (rc >= 0)
			return rc;
		r.fields = &st->fields;
	}
	st->key.prompt = tool_prompt_tty;
	r.op = st->cmd == CMD_SIGN ? EIMG_SIGN_OP_SIGN
	       : st->cmd == CMD_ATTACH ? EIMG_SIGN_OP_ATTACH
	       : st->digest ? EIMG_SIGN_OP_EXPORT_DIGEST : EIMG_SIGN_OP_EXPORT;
	r.image_path = st->input;
	r.sgxs_path = st->sgxs;
	r.mrenclave = st->have_mrenclave ? st->mrenclave : NULL;
	r.date = date;
	r.output = st->output;
	r.force = st->force;
	r.key = &st->key;
	r.signature_path = st->signature;
	r.pubkey_path = st->pubkey;
	rc = eimg_sign_run(&r, &s, &err);
	if (rc)
		return tool_fail(&err, rc);
	if (r.op == EIMG_SIGN_OP_EXPORT || r.op == EIMG_SIGN_OP_EXPORT_DIGEST)
		return EIMG_EXIT_OK;
	if (st->output && strcmp(st->output, "-") == 0)
		return EIMG_EXIT_OK;   /* stdout holds the output */
	rc = print_fields(&s, "output", st->output ? st->output : st->input, NULL, NULL);
	if (rc == EIMG_EXIT_OK)
		tool_say("wrote %s", st->output ? st->output : st->input);
	return rc;
}

static int do_verify(struct state *st)
{
	struct eimg_verify_request r;
	struct eimg_verify_result res;
	eimg_constraint *c = NULL;
	eimg_error err;
	int rc;

	eimg_error_clear(&err);
	if (!st->input)
		return tool_usage("no input given");
	if (st->key.path || st->output || st->force || st->date_arg || st->have_fields || st->signature || st->pubkey ||
	    st->digest)
		return tool_usage("verify takes only --sgxs, --mrenclave, --mrsigner, --constraint and --json");
	if (st->cmd == CMD_SHOW && (st->sgxs || st->have_mrenclave || st->have_mrsigner || st->constraint))
		return tool_usage("show takes only --json (checks belong to verify)");
	if (st->cmd == CMD_SHOW) {
		uint8_t ss[EIMG_SIGSTRUCT_SIZE];
		struct eimg_sigstruct s;
		int fmt = 0;
		char status[600];
		rc = eimg_sigstruct_read_file(st->input, ss, &fmt, NULL, &err);
		if (rc == EIMG_OK)
			rc = eimg_sigstruct_decode(st->input, ss, sizeof(ss), &s, &err);
		if (rc)
			return tool_fail(&err, rc);
		/* Show the SIGSTRUCT's own validity (not the enclave match: that is verify's job). */
		rc = eimg_sigstruct_verify(ss, st->input, &err);
		if (rc)
			snprintf(status, sizeof(status), "INVALID: %s", err.msg);
		else
			snprintf(status, sizeof(status), "valid (MRENCLAVE not checked: use 'enclave-sign verify')");
		tool_say("%-24s%s", "format:", eimg_sigstruct_format_name(fmt));
		tool_say("%-24s%s", "signature:", status);
		return print_fields(&s, "format", eimg_sigstruct_format_name(fmt), "signature", status);
	}
	if (st->sgxs && st->have_mrenclave)
		return tool_usage("give --sgxs or --mrenclave, not both");
	if (st->constraint) {
		rc = eimg_constraint_parse_arg(st->constraint, &c, &err);
		if (rc)
			return tool_fail(&err, rc == EIMG_EINVAL ? EIMG_EUSAGE : rc);
	}
	memset(&r, 0, sizeof(r));
	r.input = st->input;
	r.sgxs_path = st->sgxs;
	r.mrenclave = st->have_mrenclave ? st->mrenclave : NULL;
	r.mrsigner = st->have_mrsigner ? st->mrsigner : NULL;
	r.constraint = c;
	rc = eimg_sign_verify_file(&r, &res, &err);
	eimg_constraint_free(c);
	if (rc)
		return tool_fail(&err, rc);
	char what[600];
	eimg_verify_summary(&res, what, sizeof(what));
	tool_say("'%s': %s: %s", st->input, eimg_sigstruct_format_name(res.format), what);
	return print_fields(&res.s, "format", eimg_sigstruct_format_name(res.format), "verified", what);
}

int main(int argc, char **argv)
{
	struct state st;
	int rc;
	tool_init(&tool_self, argv);
	memset(&st, 0, sizeof(st));
	st.cmd = CMD_SIGN;
	rc = parse_args(argc, argv, &st);
	if (rc >= 0)
		return rc;
	rc = tool_output_mode(st.quiet, st.print, st.json);
	if (rc >= 0)
		return rc;
	if (st.cmd == CMD_KEY)
		return do_key(&st);
	/* An output never replaces an input (a key, certificate, signature, the
	 * image): the library refuses it (eimg_output_check) before writing. */
	if (st.cmd == CMD_VERIFY || st.cmd == CMD_SHOW) {
		if (st.input && eimg_is_nitro_input(st.input))
			return do_verify_nitro(&st);
		return do_verify(&st);
	}
	if (st.cert)
		return do_sign_nitro(&st);
	if (st.input && eimg_is_nitro_input(st.input))
		return tool_usage("'%s' is a Nitro image or EIF: sign it with an EC key and --cert CERT", st.input);
	return do_sign(&st);
}
