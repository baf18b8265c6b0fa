/* SPDX-License-Identifier: Apache-2.0 */
/* examples/average: a private average, over Mail.
 *
 * Inputs arrive only as Mail (enclave-mail(1), enclave-mail(5)) sealed to the
 * enclave's own key, on the topic "average", so no host ever sees one; the
 * answers go back sealed to each sender.  Bodies (text):
 *   submit <number>   a decimal number, up to 3 fraction digits
 *                     ("submit -12.5"); reply "accepted: k of N in round R"
 *   result            the average of the last COMPLETE round, or
 *                     "no complete round yet (k of N)"
 * A refused envelope (not for this key, altered, replayed, reordered, wrong
 * topic) gets a plain "error: mail refused: <why>" reply and changes nothing.
 * Plain (unencrypted) messages:
 *   prove <text>      "signature <hex>": ECDSA P-256/SHA-256 over <text> with
 *                     the enclave's own key, whose public half is in its
 *                     attestation document: a client that checks both knows
 *                     it talks to the attested enclave
 *   anything else     "error: ...": a number sent in the clear is refused
 *
 * Inputs are grouped in rounds of N (round_size in the measured file
 * average.conf, at least 2).  A round's average is computed once, when its
 * N-th input arrives, and never changes: a late input cannot be recovered by
 * comparing two averages (it goes into the next round).  Single inputs are
 * never revealed, logged or kept after their round closes.  (A client that
 * submits N-1 of the N inputs itself can of course solve for the last one:
 * deciding who may submit is the job of an authenticated protocol on top.) */
#include <enclave.h>

#define MAX_ROUND 1000

static long long round_size;
static long long *inputs;       /* milli-units of the open round */
static long long count;         /* inputs in the open round */
static long long rounds_done;
static long long last_sum;      /* of the last complete round, milli-units */
static int have_result;
static uint8_t secret_key[32];  /* made inside the enclave; never leaves it */
static uint8_t public_key[ENCLAVE_P256_SPKI_LEN];

int enclave_init(void)
{
	size_t len;
	const char *conf = enclave_file("average.conf", &len);
	if (!conf)
		return 1;
	/* lines: "# comment" or "round_size N" */
	for (const char *p = conf, *end = conf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;
		if ((size_t)(eol - p) > 11 && memcmp(p, "round_size ", 11) == 0)
			round_size = enclave_strtoll(p + 11, 0);
		p = eol + 1;
	}
	if (round_size < 2 || round_size > MAX_ROUND)
		return 1;
	inputs = calloc((size_t)round_size, sizeof *inputs);
	if (!inputs)
		return 1;
	/* The enclave's own key pair: the public half goes into its attestation
	 * document, so a client checks it talks to this enclave, then seals its
	 * numbers to that key (Mail). */
	if (enclave_keygen_p256(secret_key, public_key) || enclave_set_attestation_key(public_key, sizeof public_key))
		return 1;
	return 0;
}

/* "12", "-3.5", "0.125" -> milli-units; -1 on bad syntax or overflow. */
static int parse_milli(const uint8_t *s, size_t len, long long *out)
{
	size_t i = 0;
	int neg = 0, digits = 0, frac = -1;
	long long v = 0;
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < len; i++) {
		if (s[i] == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || frac == 3)
			return -1;
		if (v > 999999999999LL)   /* |x| < 10^12 keeps sums of 1000 far from overflow */
			return -1;
		v = v * 10 + (s[i] - '0');
		digits++;
		if (frac >= 0)
			frac++;
	}
	if (!digits)
		return -1;
	for (int f = frac < 0 ? 0 : frac; f < 3; f++)
		v *= 10;
	*out = neg ? -v : v;
	return 0;
}

/* The answer to one mail, formatted into a buffer and sealed to its sender. */
static char answer[256];

static int say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(answer, sizeof answer, fmt, ap);
	va_end(ap);
	return 0;
}

static void say_milli(const char *prefix, long long sum, long long n)
{
	/* sum/n rounded to 3 decimals, half away from zero */
	int neg = sum < 0;
	unsigned long long a = neg ? 0ull - (unsigned long long)sum : (unsigned long long)sum;
	unsigned long long q = (a + (unsigned long long)n / 2) / (unsigned long long)n;
	say("%s%s%llu.%03llu", prefix, neg && q ? "-" : "", q / 1000, q % 1000);
}

/* One opened mail's body: a submission or a question; the answer in `answer`. */
static void handle(const uint8_t *m, size_t len)
{
	if (len >= 7 && memcmp(m, "submit ", 7) == 0) {
		long long v;
		if (parse_milli(m + 7, len - 7, &v) != 0) {
			say("error: expected 'submit <number>' with at most 3 decimals");
			return;
		}
		inputs[count++] = v;
		long long k = count, r = rounds_done + 1;
		if (count == round_size) {
			long long sum = 0;
			for (long long i = 0; i < count; i++)
				sum += inputs[i];
			explicit_bzero(inputs, (size_t)round_size * sizeof *inputs);
			last_sum = sum;
			have_result = 1;
			rounds_done++;
			count = 0;
		}
		explicit_bzero(&v, sizeof v);
		say("accepted: %lld of %lld in round %lld", k, round_size, r);
		return;
	}
	if (len == 6 && memcmp(m, "result", 6) == 0) {
		if (!have_result) {
			say("no complete round yet (%lld of %lld)", count, round_size);
			return;
		}
		char prefix[64];
		snprintf(prefix, sizeof prefix, "round %lld: average of %lld inputs is ", rounds_done, round_size);
		say_milli(prefix, last_sum, round_size);
		return;
	}
	say("error: unknown request; send 'submit <number>' or 'result'");
}

int enclave_on_message(const uint8_t *m, size_t len)
{
	if (enclave_is_mail(m, len)) {
		struct enclave_mail mail;
		int rc = enclave_mail_open(secret_key, public_key, m, len, "average", &mail);
		if (rc != 0)
			return enclave_replyf("error: mail refused: %s", enclave_mail_error(rc));
		handle(mail.body, mail.len);
		enclave_mail_free(&mail);
		rc = enclave_mail_reply(secret_key, public_key, &mail, answer, strlen(answer), 0);
		explicit_bzero(answer, sizeof answer);
		return rc == 0 ? 0 : enclave_replyf("error: cannot seal the reply: %s", enclave_mail_error(rc));
	}
	if (len >= 6 && memcmp(m, "prove ", 6) == 0) {
		uint8_t sig[ENCLAVE_P256_SIG_MAX];
		size_t n = sizeof sig;
		if (enclave_sign_p256(secret_key, m + 6, len - 6, sig, &n))
			return enclave_replyf("error: cannot sign");
		if (enclave_replyf("signature "))
			return 1;
		for (size_t i = 0; i < n; i++)
			if (enclave_replyf("%02x", sig[i]))
				return 1;
		return 0;
	}
	return enclave_replyf("error: inputs are accepted only as Mail to the enclave's attested key (enclave-mail(1)); "
			      "in the clear only 'prove <text>'");
}
