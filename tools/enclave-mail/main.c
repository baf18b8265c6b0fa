/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-mail: seal a message to an attested enclave's own key, and open the
 * enclave's sealed replies (Mail: eimg/mail.h, enclave-mail(5)). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <enclaveimg.h>

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

static int fail(const eimg_error *err, int status)
{
	char buf[1024];
	fprintf(stderr, "enclave-mail: %s\n", eimg_error_format(err, buf, sizeof(buf)));
	return eimg_exit_code(status);
}

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
	return rc ? fail(&err, rc) : EIMG_EXIT_OK;
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "enclave-mail: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return EIMG_EXIT_USAGE;
}

static int check_opts(struct opts *o, int argc, char **argv)
{
	if (!o->attestation || !o->constraint || !o->key || !o->topic)
		return usage_error("%s needs --attestation, --constraint, --key and --topic", o->send ? "send" : "open");
	if (!eimg_mail_topic_ok((const uint8_t *)o->topic, strlen(o->topic)))
		return usage_error("--topic: '%s' is not 1 to 64 printable ASCII characters without spaces", o->topic);
	if (optind < argc)
		o->input = argv[optind++];
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!o->send && (o->message || o->pad_to))
		return usage_error("%s", "--message and --pad-to are for send");
	if (o->message && o->input)
		return usage_error("give --message or a FILE, not both ('%s')", o->input);
	if (o->output && strcmp(o->output, "-") != 0) {
		const char *ins[] = { o->input, o->key, o->attestation };
		for (size_t i = 0; i < 3; i++)
			if (ins[i] && eimg_same_file(o->output, ins[i]))
				return usage_error("refusing to write the output over the input '%s'", ins[i]);
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
	char *end;
	int c;

	if (argc > 1 && (strcmp(argv[1], "send") == 0 || strcmp(argv[1], "open") == 0)) {
		o.send = strcmp(argv[1], "send") == 0;
		argv++;
		argc--;
	} else if (argc > 1 && argv[1][0] != '-') {
		return usage_error("unknown command '%s' (send or open)", argv[1]);
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
			errno = 0;
			o.seq = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' || (optarg[0] == '0' && optarg[1]))
				return usage_error("--seq: '%s' is not a decimal number without leading zeros", optarg);
			break;
		case 'p':
			if (eimg_parse_size(optarg, &o.pad_to) || o.pad_to > EIMG_MAIL_MAX_PADDED)
				return usage_error("--pad-to: '%s' is not a size up to 983296 bytes", optarg);
			break;
		case 'h': fputs(usage_text, stdout); return EIMG_EXIT_OK;
		case 'V': printf("enclave-mail %s\n", EIMG_VERSION); return EIMG_EXIT_OK;
		default:
			fprintf(stderr, "usage: enclave-mail send|open --attestation DOC --constraint TEXT --key FILE --topic TOPIC ... (see --help)\n");
			return EIMG_EXIT_USAGE;
		}
	}
	if (argv[0] == NULL || (argc >= 1 && strcmp(argv[0], "send") != 0 && strcmp(argv[0], "open") != 0))
		return usage_error("%s", "give a command: send or open (see --help)");
	int u = check_opts(&o, argc, argv);
	return u ? u : run(&o);
}
