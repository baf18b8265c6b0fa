/* SPDX-License-Identifier: Apache-2.0 */
/* examples/files: reads measured files from the enclave's in-memory file
 * system (the info blob: every file listed in enclave.yaml, measured).
 *
 * Messages:
 *   list          one line per file: "<name> <bytes>"
 *   cat NAME      the file's content
 *   wc NAME       "<lines> <words> <bytes> NAME"
 *   get KEY       the value of "KEY = value" in settings.ini */
#include <enclave.h>

static int starts(const uint8_t *m, size_t len, const char *w)
{
	size_t n = strlen(w);
	return len >= n && memcmp(m, w, n) == 0;
}

/* The file named by the rest of the message, or NULL. */
static const char *file_arg(const uint8_t *m, size_t len, size_t skip, char *name, size_t nsize, size_t *flen)
{
	size_t n = len - skip;
	if (n == 0 || n >= nsize || memchr(m + skip, 0, n))
		return 0;
	memcpy(name, m + skip, n);
	name[n] = 0;
	return enclave_file(name, flen);
}

int enclave_on_message(const uint8_t *m, size_t len)
{
	char name[256];
	size_t flen;
	const char *d;

	if (len == 4 && memcmp(m, "list", 4) == 0) {
		for (size_t i = 0; i < enclave_file_count(); i++) {
			const char *fn = enclave_file_name(i);
			enclave_file(fn, &flen);
			enclave_replyf("%s%s %zu", i ? "\n" : "", fn, flen);
		}
		return 0;
	}
	if (starts(m, len, "cat ")) {
		if (!(d = file_arg(m, len, 4, name, sizeof name, &flen)))
			return enclave_replyf("error: no such measured file");
		return enclave_reply(d, flen);
	}
	if (starts(m, len, "wc ")) {
		if (!(d = file_arg(m, len, 3, name, sizeof name, &flen)))
			return enclave_replyf("error: no such measured file");
		size_t lines = 0, words = 0;
		int in_word = 0;
		for (size_t i = 0; i < flen; i++) {
			char c = d[i];
			lines += c == '\n';
			int space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
			words += !space && !in_word;
			in_word = !space;
		}
		return enclave_replyf("%zu %zu %zu %s", lines, words, flen, name);
	}
	if (starts(m, len, "get ")) {
		const char *ini = enclave_file("settings.ini", &flen);
		size_t kl = len - 4;
		if (!ini)
			return 1;
		for (const char *p = ini, *end = ini + flen; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end;
			if ((size_t)(eol - p) > kl + 3 && memcmp(p, m + 4, kl) == 0 && memcmp(p + kl, " = ", 3) == 0)
				return enclave_reply(p + kl + 3, (size_t)(eol - p - kl - 3));
			p = eol + 1;
		}
		return enclave_replyf("error: no such setting");
	}
	return enclave_replyf("error: send 'list', 'cat NAME', 'wc NAME' or 'get KEY'");
}
