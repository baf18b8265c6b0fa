/* SPDX-License-Identifier: Apache-2.0 */
/* File I/O with limits, atomic output, hex, sizes, SOURCE_DATE_EPOCH. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "eimg/util.h"
#include "core/internal.h"

int eimg_open_input(const char *path, bool dash_stdin, const char *expected, int *fd, struct stat *st,
		    eimg_error *err)
{
	bool is_stdin = dash_stdin && strcmp(path, "-") == 0;
	int f = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	if (f < 0)
		return eimg_err_sys(err, path, "cannot open");
	if (!is_stdin)
		eimg_input_note_fd(f, path);
	if (fstat(f, st) < 0)
		rc = eimg_err_sys(err, path, "cannot stat");
	else if (S_ISDIR(st->st_mode))
		rc = eimg_err(err, EIMG_EINVAL, path, "is a directory, expected %s", expected);
	else {
		*fd = f;
		return EIMG_OK;
	}
	if (!is_stdin)
		close(f);
	return rc;
}

long eimg_read_some(int fd, void *buf, size_t n, const char *path, eimg_error *err)
{
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r >= 0)
			return (long)r;
		if (errno != EINTR)
			return eimg_err_sys(err, path, "cannot read");
	}
}

int eimg_pread_full(int fd, void *buf, size_t n, uint64_t off, const char *path, const char *shrank, eimg_error *err)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return eimg_err_sys(err, path, "cannot read");
		if (r == 0)
			return eimg_err(err, EIMG_EINVAL, path, "%s", shrank);
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return EIMG_OK;
}

int eimg_write_all(int fd, const void *buf, size_t n, const char *path, const char *what, eimg_error *err)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return eimg_err_sys(err, path, "%s", what);
		p += k;
		n -= (size_t)k;
	}
	return EIMG_OK;
}

int eimg_pwrite_all(int fd, const void *buf, size_t n, uint64_t off, const char *path, const char *what,
		    eimg_error *err)
{
	const uint8_t *p = buf;
	while (n > 0) {
		ssize_t k = pwrite(fd, p, n, (off_t)off);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return eimg_err_sys(err, path, "%s", what ? what : "cannot write");
		p += k;
		n -= (size_t)k;
		off += (uint64_t)k;
	}
	return EIMG_OK;
}

int eimg_read_file(const char *path, size_t max, uint8_t **out, size_t *len, eimg_error *err)
{
	int fd = -1, rc;
	uint8_t *buf = NULL;
	size_t cap = 0, n = 0;
	struct stat st;

	if ((rc = eimg_open_input(path, false, "a file", &fd, &st, err)))
		return rc;
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > max) {
		rc = eimg_err(err, EIMG_EINVAL, path, "file is %llu bytes, above the limit of %zu",
			      (unsigned long long)st.st_size, max);
		goto out;
	}
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
	buf = malloc(cap);
	if (!buf) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	for (;;) {
		if (n + 1 >= cap) {
			size_t ncap = cap * 2;
			if (ncap > max + 2)
				ncap = max + 2;
			if (n + 1 >= ncap) {
				rc = eimg_err(err, EIMG_EINVAL, path, "file is above the limit of %zu bytes", max);
				goto out;
			}
			uint8_t *nb = realloc(buf, ncap);
			if (!nb) {
				rc = eimg_err_nomem(err);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		long r = eimg_read_some(fd, buf + n, cap - 1 - n, path, err);
		if (r < 0) {
			rc = (int)r;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = eimg_err(err, EIMG_EINVAL, path, "file is above the limit of %zu bytes", max);
			goto out;
		}
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
	rc = EIMG_OK;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The temporary file was renamed or removed: no longer the signal
 * handler's to remove (signals blocked since before, unblocked here). */
static void tmp_gone(struct eimg_outfile *o, const sigset_t *old)
{
	eimg_tmp_unregister(o->slot);
	o->slot = -1;
	eimg_tmp_unblock(old);
}

static void drop_names(struct eimg_outfile *o)
{
	free(o->tmp);
	free(o->path);
	o->tmp = o->path = NULL;
}

int eimg_outfile_open(struct eimg_outfile *o, const char *path, eimg_error *err)
{
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	o->slot = -1;
	if (strcmp(path, "-") == 0) {
		o->is_stdout = true;
		o->fd = STDOUT_FILENO;
		return EIMG_OK;
	}
	o->path = strdup(path);
	size_t n = strlen(path) + 16;
	o->tmp = malloc(n);
	if (!o->path || !o->tmp) {
		drop_names(o);
		return eimg_err_nomem(err);
	}
	/* Same folder as the target so that rename(2) is atomic. */
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
	snprintf(o->tmp, n, "%.*s.eimg-XXXXXX", (int)dirlen, path);
	int rc = eimg_output_check(path, err);
	if (rc == EIMG_OK) {
		sigset_t old;
		eimg_tmp_block(&old); /* the file and its registration come together */
		o->fd = mkostemp(o->tmp, O_CLOEXEC);
		if (o->fd >= 0)
			o->slot = eimg_tmp_register(o->tmp);
		else
			rc = eimg_err_sys(err, path, "cannot create output");
		eimg_tmp_unblock(&old);
	}
	if (rc)
		drop_names(o);
	return rc;
}

int eimg_outfile_new(const char *path, struct eimg_outfile **out, eimg_error *err)
{
	*out = NULL;
	struct eimg_outfile *o = calloc(1, sizeof(*o));
	if (!o)
		return eimg_err_nomem(err);
	int rc = eimg_outfile_open(o, path, err);
	if (rc) {
		free(o);
		return rc;
	}
	*out = o;
	return EIMG_OK;
}

void eimg_outfile_free(struct eimg_outfile *o)
{
	eimg_outfile_abort(o);
	free(o);
}

int eimg_outfile_write(struct eimg_outfile *o, const void *buf, size_t len, eimg_error *err)
{
	return eimg_write_all(o->fd, buf, len, o->is_stdout ? "-" : o->path, "cannot write", err);
}

int eimg_outfile_commit(struct eimg_outfile *o, eimg_error *err)
{
	int rc = EIMG_OK;
	if (o->is_stdout) {
		o->fd = -1;
		return EIMG_OK;
	}
	if (o->fd < 0)
		return eimg_err(err, EIMG_EINTERNAL, o->path, "output already closed");
	/* Outputs get 0644 whatever the umask: the same bytes and mode everywhere. */
	if (fchmod(o->fd, 0644) < 0 || fsync(o->fd) < 0) {
		rc = eimg_err_sys(err, o->path, "cannot finish output");
		goto fail;
	}
	if (close(o->fd) < 0) {
		o->fd = -1;
		rc = eimg_err_sys(err, o->path, "cannot close output");
		goto fail;
	}
	o->fd = -1;
	/* Again: an input opened since eimg_outfile_open counts too. */
	if ((rc = eimg_output_check(o->path, err)))
		goto fail;
	sigset_t old;
	eimg_tmp_block(&old);
	if (rename(o->tmp, o->path) < 0) {
		eimg_tmp_unblock(&old);
		rc = eimg_err_sys(err, o->path, "cannot rename output into place");
		goto fail;
	}
	tmp_gone(o, &old);
	drop_names(o);
	return EIMG_OK;
fail:
	eimg_outfile_abort(o);
	return rc;
}

void eimg_outfile_abort(struct eimg_outfile *o)
{
	if (!o || o->is_stdout)
		return;
	if (o->fd >= 0)
		close(o->fd);
	o->fd = -1;
	if (o->tmp) {
		sigset_t old;
		eimg_tmp_block(&old);
		unlink(o->tmp);
		tmp_gone(o, &old);
	}
	drop_names(o);
}

int eimg_write_file_atomic(const char *path, const void *buf, size_t len, eimg_error *err)
{
	struct eimg_outfile o;
	int rc = eimg_outfile_open(&o, path, err);
	if (rc)
		return rc;
	rc = eimg_outfile_write(&o, buf, len, err);
	if (rc) {
		eimg_outfile_abort(&o);
		return rc;
	}
	return eimg_outfile_commit(&o, err);
}

void eimg_free_secret(void *p, size_t len)
{
	if (!p)
		return;
	explicit_bzero(p, len);
	free(p);
}

bool eimg_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	if (!a || !b || strcmp(a, "-") == 0 || strcmp(b, "-") == 0)
		return false;
	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return false;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

char *eimg_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
	return out;
}

int eimg_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int eimg_unhex(const char *hex, uint8_t *out, size_t len, const char *what, eimg_error *err)
{
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	size_t n = strlen(hex);
	if (n != 2 * len)
		return eimg_err(err, EIMG_EINVAL, NULL, "%s: expected %zu hex digits, got %zu", what, 2 * len, n);
	for (size_t i = 0; i < len; i++) {
		int hi = eimg_hex_digit(hex[2 * i]), lo = eimg_hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return eimg_err(err, EIMG_EINVAL, NULL, "%s: not a hex digit at position %zu", what,
					2 * i + (hi < 0 ? 0 : 1) + 1);
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return EIMG_OK;
}

int eimg_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return EIMG_EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return EIMG_EINVAL;
	if (*end) {
		switch (*end) {
		case 'K': case 'k': mul = 1ull << 10; break;
		case 'M': case 'm': mul = 1ull << 20; break;
		case 'G': case 'g': mul = 1ull << 30; break;
		case 'T': case 't': mul = 1ull << 40; break;
		default: return EIMG_EINVAL;
		}
		end++;
		if (*end == 'i')
			end++;
		if (*end == 'B')
			end++;
		if (*end)
			return EIMG_EINVAL;
	}
	uint64_t r;
	if (eimg_mul_overflow(v, mul, &r))
		return EIMG_EINVAL;
	*out = r;
	return EIMG_OK;
}

int eimg_source_date_epoch(int fallback_now, uint64_t *out, eimg_error *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	if (s && *s) {
		char *end;
		errno = 0;
		unsigned long long v = strtoull(s, &end, 10);
		if (errno || *end || *s < '0' || *s > '9' || v > 253402300799ull)
			return eimg_err(err, EIMG_EINVAL, NULL,
					"SOURCE_DATE_EPOCH: expected seconds since 1970 as a decimal integer, got \"%.40s\"", s);
		*out = v;
		return EIMG_OK;
	}
	*out = fallback_now ? (uint64_t)time(NULL) : 0;
	return EIMG_OK;
}

/* ---- dates (proleptic Gregorian, UTC) ---- */

void eimg_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

bool eimg_iso_time(int64_t t, char out[EIMG_ISO_TIME_MAX])
{
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t s = t - days * 86400, y;
	unsigned m, d;
	eimg_civil_from_days(days, &y, &m, &d);
	snprintf(out, EIMG_ISO_TIME_MAX, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d, (unsigned)(s / 3600),
		 (unsigned)(s / 60 % 60), (unsigned)(s % 60));
	return y - 1900 >= INT_MIN && y - 1900 <= INT_MAX;
}

/* ---- growing text ---- */

void eimg_sb_printf(struct eimg_sb *b, const char *fmt, ...)
{
	va_list ap;
	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap + (size_t)n + 1) * 2;
		char *ns = realloc(b->s, ncap);
		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

void eimg_sb_field(struct eimg_sb *b, const char *indent, const char *key, const char *fmt, ...)
{
	char value[1024];
	va_list ap;
	int pad = EIMG_SB_FIELD_COL - (int)strlen(indent ? indent : "") - (int)strlen(key) - 1;

	va_start(ap, fmt);
	vsnprintf(value, sizeof value, fmt, ap);
	va_end(ap);
	eimg_sb_printf(b, "%s%s:%*s%s\n", indent ? indent : "", key, pad > 0 ? pad : 1, "", value);
}

char *eimg_sb_done(struct eimg_sb *b)
{
	if (b->failed || !b->s) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

int eimg_bytes_reserve(uint8_t **buf, size_t *cap, size_t len, size_t more, size_t min)
{
	if (more <= *cap - len)
		return 0;
	size_t ncap = *cap ? *cap : min;
	while (ncap - len < more) {
		if (ncap > SIZE_MAX / 2)
			return 1;
		ncap *= 2;
	}
	uint8_t *nb = realloc(*buf, ncap);
	if (!nb)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}
