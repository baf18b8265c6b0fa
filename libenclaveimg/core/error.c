/* SPDX-License-Identifier: Apache-2.0 */
/* The error object: filling, formatting, mapping to exit codes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/internal.h"

void eimg_error_clear(eimg_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

static void set_file(eimg_error *err, const char *file)
{
	if (file)
		snprintf(err->file, sizeof(err->file), "%s", file);
	else
		err->file[0] = '\0';
}

int eimg_err(eimg_error *err, int code, const char *file, const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	err->code = code;
	err->sys_errno = 0;
	err->line = err->column = 0;
	set_file(err, file);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int eimg_err_at(eimg_error *err, int code, const char *file, unsigned line, unsigned col,
		const char *fmt, ...)
{
	if (!err)
		return code;
	va_list ap;
	err->code = code;
	err->sys_errno = 0;
	err->line = line;
	err->column = col;
	set_file(err, file);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

int eimg_err_sys(eimg_error *err, const char *file, const char *fmt, ...)
{
	int saved = errno;
	if (!err)
		return EIMG_EIO;
	va_list ap;
	char what[EIMG_ERROR_MSG_MAX - 64];
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	err->code = saved == ENOMEM ? EIMG_ENOMEM : EIMG_EIO;
	err->sys_errno = saved;
	err->line = err->column = 0;
	set_file(err, file);
	snprintf(err->msg, sizeof(err->msg), "%s: %.60s", what, strerror(saved));
	errno = saved;
	return err->code;
}

int eimg_err_nomem(eimg_error *err)
{
	return eimg_err(err, EIMG_ENOMEM, NULL, "out of memory");
}

const char *eimg_error_format(const eimg_error *err, char *buf, size_t size)
{
	char tmp[sizeof(err->file) + EIMG_ERROR_MSG_MAX + 64];
	if (!buf || size == 0)
		return buf;
	if (!err) {
		snprintf(tmp, sizeof(tmp), "unknown error");
	} else if (err->file[0] && err->line) {
		snprintf(tmp, sizeof(tmp), "%s:%u:%u: %s", err->file, err->line, err->column, err->msg);
	} else if (err->file[0]) {
		snprintf(tmp, sizeof(tmp), "'%s': %s", err->file, err->msg);
	} else {
		snprintf(tmp, sizeof(tmp), "%s", err->msg[0] ? err->msg : "unknown error");
	}
	/* One line whatever the file name holds: control characters as \xNN. */
	size_t o = 0;
	for (const char *p = tmp; *p; p++) {
		unsigned char c = (unsigned char)*p;
		char e[5];
		size_t n = 1;
		if (c < 0x20 || c == 0x7f)
			n = (size_t)snprintf(e, sizeof(e), "\\x%02x", c);
		else
			e[0] = (char)c;
		if (o + n >= size)
			break;
		memcpy(buf + o, e, n);
		o += n;
	}
	buf[o] = '\0';
	return buf;
}

int eimg_exit_code(int status)
{
	switch (status) {
	case EIMG_OK:
		return EIMG_EXIT_OK;
	case EIMG_EVERIFY:
		return EIMG_EXIT_VERIFY;
	case EIMG_EUSAGE:
		return EIMG_EXIT_USAGE;
	default:
		return EIMG_EXIT_ERROR;
	}
}

const char *eimg_escape(const char *in, size_t len, char *out, size_t outsize)
{
	size_t o = 0;
	if (outsize == 0)
		return out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		char tmp[8];
		int n;
		if (c >= 0x20 && c < 0x7f && c != '\\')
			n = snprintf(tmp, sizeof(tmp), "%c", c);
		else if (c == '\\')
			n = snprintf(tmp, sizeof(tmp), "\\\\");
		else
			n = snprintf(tmp, sizeof(tmp), "\\x%02x", c);
		if (o + (size_t)n + 4 >= outsize) {
			if (o + 4 <= outsize) {
				memcpy(out + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(out + o, tmp, (size_t)n);
		o += (size_t)n;
	}
	out[o < outsize ? o : outsize - 1] = '\0';
	return out;
}

int eimg_err_context(eimg_error *err, const char *file, const char *fmt, ...)
{
	if (!err)
		return EIMG_EINTERNAL;
	char prefix[EIMG_ERROR_MSG_MAX];
	char old[EIMG_ERROR_MSG_MAX];
	size_t pl, ol;
	va_list ap;

	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	pl = strlen(prefix);
	ol = strlen(old);
	if (pl + 2 + ol >= sizeof(err->msg))
		ol = sizeof(err->msg) - 1 - (pl + 2 < sizeof(err->msg) ? pl + 2 : sizeof(err->msg) - 1);
	if (pl > sizeof(err->msg) - 3)
		pl = sizeof(err->msg) - 3;
	memcpy(err->msg, prefix, pl);
	memcpy(err->msg + pl, ": ", 2);
	memcpy(err->msg + pl + 2, old, ol);
	err->msg[pl + 2 + ol] = '\0';
	if (file) {
		set_file(err, file);
		err->line = err->column = 0;
	}
	return err->code;
}
