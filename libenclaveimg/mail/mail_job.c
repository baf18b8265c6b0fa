/* SPDX-License-Identifier: Apache-2.0 */
/* enclave-mail(1)'s two commands as library calls: check the attestation,
 * load the client's key, read the input (a file, standard input, or an
 * enclave-run frame), seal or open.  The tool only parses options and writes
 * the result. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/mail.h"
#include "eimg/sim.h"
#include "core/internal.h"

static int read_input(const struct eimg_mail_job *j, size_t max, uint8_t **buf, size_t *len, eimg_error *err)
{
	const char *path = !j->input || strcmp(j->input, "-") == 0 ? "/dev/stdin" : j->input;
	if (j->message) {
		*len = strlen(j->message);
		*buf = (uint8_t *)strdup(j->message);
		return *buf ? EIMG_OK : eimg_err_nomem(err);
	}
	return eimg_read_file(path, max, buf, len, err);
}

/* Opens the attested key and the client's key: the common start of both jobs. */
static int prepare(const struct eimg_mail_job *j, uint8_t enclave[EIMG_MAIL_POINT], eimg_mail_key **key,
		   eimg_error *err)
{
	int rc = eimg_mail_enclave_key(j->attestation, j->constraint, j->now, enclave, err);
	return rc ? rc : eimg_mail_key_load(j->key, key, err);
}

int eimg_mail_send_job(const struct eimg_mail_job *j, uint8_t **out, size_t *out_len, eimg_error *err)
{
	uint8_t enclave[EIMG_MAIL_POINT], *in = NULL, *env = NULL;
	size_t in_len = 0, env_len = 0;
	eimg_mail_key *key = NULL;
	int rc = prepare(j, enclave, &key, err);
	if (!rc)
		rc = read_input(j, EIMG_MAIL_MAX_BODY, &in, &in_len, err);
	if (!rc)
		rc = eimg_mail_seal(key, enclave, EIMG_MAIL_TO_ENCLAVE, j->topic, j->seq, in, in_len, j->pad_min, &env,
				    &env_len, err);
	if (!rc && j->frame) {
		uint8_t *f = malloc(env_len + EIMG_FRAME_HEADER);
		if (!f) {
			rc = eimg_err_nomem(err);
		} else {
			eimg_frame_header(f, (uint32_t)env_len, 0);
			memcpy(f + EIMG_FRAME_HEADER, env, env_len);
			free(env);
			env = f;
			env_len += EIMG_FRAME_HEADER;
		}
	}
	if (!rc) {
		*out = env;
		*out_len = env_len;
		env = NULL;
	}
	eimg_free_secret(in, in_len);
	free(env);
	eimg_mail_key_free(key);
	return rc;
}

/* The envelope inside one enclave-run reply frame, or the enclave's error. */
static int unframe(const char *src, const uint8_t *in, size_t len, const uint8_t **env, size_t *env_len,
		   eimg_error *err)
{
	char text[256];
	if (len < EIMG_FRAME_HEADER)
		return eimg_err(err, EIMG_EINVAL, src, "%zu bytes: shorter than a frame header", len);
	uint32_t n = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	uint32_t code = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
	if (n != len - EIMG_FRAME_HEADER)
		return eimg_err(err, EIMG_EINVAL, src, "the frame says %" PRIu32 " bytes, %zu follow", n,
				len - EIMG_FRAME_HEADER);
	*env = in + EIMG_FRAME_HEADER;
	*env_len = n;
	if (code != EIMG_FRAME_OK || (n >= 6 && memcmp(*env, "error:", 6) == 0))
		return eimg_err(err, EIMG_EINVAL, src, "the enclave answered with an error (frame code %" PRIu32 "): %s",
				code, eimg_escape((const char *)*env, n, text, sizeof text));
	return EIMG_OK;
}

int eimg_mail_open_job(const struct eimg_mail_job *j, uint8_t **out, size_t *out_len, eimg_error *err)
{
	const char *src = !j->input || strcmp(j->input, "-") == 0 ? "<stdin>" : j->input;
	uint8_t enclave[EIMG_MAIL_POINT], *in = NULL;
	size_t in_len = 0;
	const uint8_t *env;
	size_t env_len;
	struct eimg_mail_msg m = { 0 };
	eimg_mail_key *key = NULL;
	int rc = prepare(j, enclave, &key, err);
	if (!rc && j->message)
		rc = eimg_err(err, EIMG_EUSAGE, NULL, "open reads an envelope, not a message");
	if (!rc)
		rc = read_input(j, EIMG_MAIL_MAX_ENVELOPE + EIMG_FRAME_HEADER, &in, &in_len, err);
	env = in;
	env_len = in_len;
	if (!rc && j->frame)
		rc = unframe(src, in, in_len, &env, &env_len, err);
	if (!rc && (rc = eimg_mail_open_reply(key, enclave, j->topic, j->seq, env, env_len, &m, NULL, err)))
		eimg_err_context(err, src, "reply");
	if (!rc) {
		*out = m.body;
		*out_len = m.body_len;
		m.body = NULL;
	}
	free(in);
	eimg_mail_key_free(key);
	return rc;
}

void eimg_mail_free_body(uint8_t *body, size_t len)
{
	eimg_free_secret(body, body ? len + 1 : 0);
}
