/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-mail: seal a message to an attested enclave's own key, and open the
 * enclave's sealed replies (Mail: eimg/mail.h, enclave-mail(5)). */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <enclaveimg.h>
#include "cli/tool.h"

static const char usage_text[] =
	"usage: enclave-mail send --attestation DOC --constraint TEXT --key CLIENT.pem --topic TOPIC\n"
	"                         [--seq N] [--pad-to SIZE] [--frame] [-o FILE] [--message TEXT | FILE]\n"
	"       enclave-mail open --attestation DOC --constraint TEXT --key CLIENT.pem --topic TOPIC\n"
	"                         [--seq N] [--frame] [-o FILE] [ENVELOPE]\n"
	"\n"
	"send: checks the enclave's attestation document against the constraint, then seals the\n"
	"message (FILE, --message, or standard input) to the P-256 key the enclave made inside itself\n"
	"and bound into that document, from the client's own key, as number N of the client's\n"
	"messages on TOPIC.  The envelope (enclave-mail(5)) goes to -o FILE or standard output.\n"
	"open: opens the enclave's sealed reply to message N on TOPIC (ENVELOPE or standard input)\n"
	"and prints the body; the reply must come from the attested key.\n"
	"\n"
	"  -a, --attestation DOC  the enclave's attestation document (written by enclave-run)\n"
	"  -c, --constraint TEXT  what the enclave must be (enclave-constraints(7)); @FILE reads FILE\n"
	"  -k, --key FILE         the client's P-256 private key (PEM): the enclave knows the sender by it\n"
	"  -t, --topic TOPIC      1 to 64 printable ASCII characters without spaces\n"
	"  -n, --seq N            the sender's sequence number on this topic: 0, 1, 2, ... (default 0)\n"
	"      --pad-to SIZE      pad the body to at least SIZE bytes (default: the next multiple of 256)\n"
	"      --message TEXT     send: the message itself instead of a file\n"
	"      --frame            send: write an enclave-run request frame; open: read one reply frame\n"
	"  -o, --output FILE      write the envelope (send) or the body (open) to FILE (default: stdout)\n"
	"  -h, --help             show this help and exit\n"
	"  -V, --version          show the version and exit\n"
	"\n"
	"Exit status: 0 ok, 1 error, 2 usage, 3 the attestation, constraint or envelope did not verify.\n";

struct opts {
	bool send, frame;
	const char *attestation, *constraint, *key, *topic, *output, *message, *input;
	uint64_t seq, pad_to;
};

static const struct tool_info tool_self = {
	.name = "enclave-mail",
	.synopsis = "send|open --attestation DOC --constraint TEXT --key FILE --topic TOPIC ...",
};

static int run(const struct opts *o)
{
	eimg_error err;
	struct eimg_mail_job j = {
		.attestation = o->attestation, .constraint = o->constraint, .key = o->key, .topic = o->topic,
		.seq = o->seq, .pad_min = (size_t)o->pad_to, .input = o->input, .message = o->message,
		.frame = o->frame, .now = (uint64_t)time(NULL),
	};
	uint8_t *out = NULL;
	size_t len = 0;
	int rc;

	eimg_error_clear(&err);
	rc = o->send ? eimg_mail_send_job(&j, &out, &len, &err) : eimg_mail_open_job(&j, &out, &len, &err);
	if (!rc)
		rc = eimg_write_file_atomic(o->output ? o->output : "-", out, len, &err);
	if (o->send)
		free(out);
	else
		eimg_mail_free_body(out, len);
	return rc ? tool_fail(&err, rc) : EIMG_EXIT_OK;
}

static int check_opts(struct opts *o, int argc, char **argv)
{
	if (!o->attestation || !o->constraint || !o->key || !o->topic)
		return tool_usage("%s needs --attestation, --constraint, --key and --topic", o->send ? "send" : "open");
	if (!eimg_mail_topic_ok((const uint8_t *)o->topic, strlen(o->topic)))
		return tool_usage("--topic: '%s' is not 1 to 64 printable ASCII characters without spaces", o->topic);
	if (optind < argc)
		o->input = argv[optind++];
	if (optind < argc)
		return tool_usage("unexpected argument '%s'", argv[optind]);
	if (!o->send && (o->message || o->pad_to))
		return tool_usage("--message and --pad-to are for send");
	if (o->message && o->input)
		return tool_usage("give --message or a FILE, not both ('%s')", o->input);
	if (o->output && strcmp(o->output, "-") != 0) {
		const char *ins[] = { o->input, o->key, o->attestation };
		for (size_t i = 0; i < 3; i++)
			if (ins[i] && eimg_same_file(o->output, ins[i]))
				return tool_usage("refusing to write the output over the input '%s'", ins[i]);
	}
	return EIMG_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "attestation", required_argument, NULL, 'a' }, { "constraint", required_argument, NULL, 'c' },
		{ "key", required_argument, NULL, 'k' },         { "topic", required_argument, NULL, 't' },
		{ "seq", required_argument, NULL, 'n' },         { "pad-to", required_argument, NULL, 'p' },
		{ "message", required_argument, NULL, 'm' },     { "frame", no_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },      { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },           { NULL, 0, NULL, 0 },
	};
	struct opts o = { 0 };
	int c;

	tool_init(&tool_self, argv);
	if (argc > 1 && (strcmp(argv[1], "send") == 0 || strcmp(argv[1], "open") == 0)) {
		o.send = strcmp(argv[1], "send") == 0;
		argv++;
		argc--;
	} else if (argc > 1 && argv[1][0] != '-') {
		return tool_usage("unknown command '%s' (send or open)", argv[1]);
	}
	while ((c = getopt_long(argc, argv, "a:c:k:t:n:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': o.attestation = optarg; break;
		case 'c': o.constraint = optarg; break;
		case 'k': o.key = optarg; break;
		case 't': o.topic = optarg; break;
		case 'm': o.message = optarg; break;
		case 'f': o.frame = true; break;
		case 'o': o.output = optarg; break;
		case 'n':
			if (!tool_parse_u64(optarg, 0, 0, UINT64_MAX, &o.seq))
				return tool_usage("--seq: '%s' is not a decimal number without leading zeros", optarg);
			break;
		case 'p':
			if (eimg_parse_size(optarg, &o.pad_to) || o.pad_to > EIMG_MAIL_MAX_PADDED)
				return tool_usage("--pad-to: '%s' is not a size up to 983296 bytes", optarg);
			break;
		case 'h': fputs(usage_text, stdout); return EIMG_EXIT_OK;
		case 'V': printf("enclave-mail %s\n", EIMG_VERSION); return EIMG_EXIT_OK;
		default: return tool_bad_option();
		}
	}
	if (argv[0] == NULL || (argc >= 1 && strcmp(argv[0], "send") != 0 && strcmp(argv[0], "open") != 0))
		return tool_usage("give a command: send or open");
	int u = check_opts(&o, argc, argv);
	return u ? u : run(&o);
}
