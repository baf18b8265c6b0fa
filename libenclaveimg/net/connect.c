/* SPDX-License-Identifier: Apache-2.0 */
/* HTTP CONNECT (RFC 9110 9.3.6) as the proxies speak it: the request head an
 * application or the in-enclave proxy sends, the answer, and their writers.
 * Strict and bounded: enclave-nitro(7), "Limits".  libc only. */
#include <stdio.h>
#include <string.h>

#include "net/net_int.h"

static const char *find_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++)
		if (buf[i] == '\r' && !memcmp(buf + i, "\r\n\r\n", 4))
			return buf + i;
	return NULL;
}

static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i + 1 < len; i++)
		n += buf[i] == '\r' && buf[i + 1] == '\n';
	return n;
}

static long refuse(int *status, const char **reason, int code, const char *why)
{
	*status = code;
	*reason = why;
	return -1;
}

static bool tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* One header line "Name: value" of n bytes (no CRLF). */
static bool header_ok(const char *l, size_t n)
{
	size_t i = 0;
	while (i < n && tchar(l[i]))
		i++;
	if (i == 0 || i >= n || l[i] != ':')
		return false;
	for (i++; i < n; i++) {
		unsigned char c = (unsigned char)l[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

/* "host:port" or "[v6]:port" of n bytes. */
static bool authority(const char *a, size_t n, struct net_connect *out)
{
	const char *host = a, *port;
	size_t hl;
	unsigned v = 0;
	if (n > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', n);
		if (!close || close + 1 >= a + n || close[1] != ':')
			return false;
		host = a + 1;
		hl = (size_t)(close - a - 1);
		port = close + 2;
		if (!memchr(host, ':', hl))
			return false;
	} else {
		port = memchr(a, ':', n);
		if (!port)
			return false;
		hl = (size_t)(port - a);
		if (memchr(port + 1, ':', (size_t)(a + n - port - 1)))
			return false;
		port++;
	}
	size_t pl = (size_t)(a + n - port);
	if (pl == 0 || pl > 5 || port[0] == '0')
		return false;
	for (size_t i = 0; i < pl; i++) {
		if (port[i] < '0' || port[i] > '9')
			return false;
		v = v * 10 + (unsigned)(port[i] - '0');
	}
	if (v == 0 || v > 65535)
		return false;
	if (!eimg_net_host_parse(host, hl, &out->host))
		return false;
	if ((a[0] == '[') != (out->host.kind == NET_HOST_V6))
		return false;  /* an IPv6 address always in brackets, nothing else */
	out->port = (uint16_t)v;
	return true;
}

static long request_line(const char *l, size_t n, struct net_connect *out, int *status, const char **reason)
{
	const char *sp1 = memchr(l, ' ', n), *sp2;
	if (!sp1)
		return refuse(status, reason, 400, "malformed request line");
	if ((size_t)(sp1 - l) != 7 || memcmp(l, "CONNECT", 7))
		return refuse(status, reason, 405, "only CONNECT is supported");
	sp2 = memchr(sp1 + 1, ' ', (size_t)(l + n - sp1 - 1));
	if (!sp2 || (size_t)(l + n - sp2 - 1) != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) && memcmp(sp2 + 1, "HTTP/1.0", 8)))
		return refuse(status, reason, 400, "malformed request line");
	if (!authority(sp1 + 1, (size_t)(sp2 - sp1 - 1), out))
		return refuse(status, reason, 400, "expected host:port (IPv6 in brackets)");
	return 0;
}

/* Every CR followed by LF, every LF after a CR, no NUL, in buf[0..n). */
static bool crlf_only(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\0' || (buf[i] == '\r' && (i + 1 >= n || buf[i + 1] != '\n')) ||
		    (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')))
			return false;
	}
	return true;
}

long eimg_net_connect_parse(const char *buf, size_t len, const struct eimg_net_limits *lim,
			    struct net_connect *out, int *status, const char **reason)
{
	size_t max = lim->header_max, scan = len < max ? len : max, nh = 0;
	const char *end = find_end(buf, scan), *l, *eol;
	struct net_connect c;
	size_t k = len < 8 ? len : 8, t = 0;

	if (memcmp(buf, "CONNECT ", k)) {
		while (t < k && tchar(buf[t]))
			t++;
		/* another method ("GET "), or no request line at all */
		if (t > 0 && (t == 8 || (t < k && buf[t] == ' ')))
			return refuse(status, reason, 405, "only CONNECT is supported");
		if (t < k)
			return refuse(status, reason, 400, "malformed request line");
	}
	if (count_lines(buf, end ? (size_t)(end - buf) : scan) > lim->header_count_max + 1)
		return refuse(status, reason, 431, "too many header lines");
	if (!end)
		return len >= max ? refuse(status, reason, 431, "request head too long") : 0;
	if (!crlf_only(buf, (size_t)(end - buf) + 4))
		return refuse(status, reason, 400, "malformed line ends (CRLF only)");
	memset(&c, 0, sizeof(c));
	eol = memchr(buf, '\r', (size_t)(end - buf) + 1);
	if (request_line(buf, (size_t)(eol - buf), &c, status, reason) < 0)
		return -1;
	for (l = eol + 2; l < end + 2; l = eol + 2) {
		eol = memchr(l, '\r', (size_t)(end + 2 - l));
		if (eol == l)
			break;
		if (++nh > lim->header_count_max || !header_ok(l, (size_t)(eol - l)))
			return refuse(status, reason, nh > lim->header_count_max ? 431 : 400,
				      nh > lim->header_count_max ? "too many header lines" : "malformed header line");
	}
	*out = c;
	return (long)(end - buf) + 4;
}

long eimg_net_response_parse(const char *buf, size_t len, size_t max, int *code)
{
	size_t scan = len < max ? len : max;
	const char *end = find_end(buf, scan);
	int v = 0;
	if (len >= 9 && memcmp(buf, "HTTP/1.", 7))
		return -1;
	if (!end)
		return len >= max ? -1 : 0;
	if (!crlf_only(buf, (size_t)(end - buf) + 4) || end - buf < 12 || (buf[7] != '0' && buf[7] != '1') ||
	    buf[8] != ' ' || (end - buf > 12 && buf[12] != ' ' && buf[12] != '\r'))
		return -1;
	for (int i = 9; i < 12; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return -1;
		v = v * 10 + (buf[i] - '0');
	}
	if (v < 100)
		return -1;
	*code = v;
	return (long)(end - buf) + 4;
}

const char *eimg_net_connect_text(const struct net_connect *c, char *buf, size_t size)
{
	snprintf(buf, size, c->host.kind == NET_HOST_V6 ? "[%s]:%u" : "%s:%u", c->host.name, (unsigned)c->port);
	return buf;
}

size_t eimg_net_connect_write(char *buf, size_t size, const struct net_connect *c)
{
	char hp[NET_HOST_MAX + 16];
	int n;
	eimg_net_connect_text(c, hp, sizeof(hp));
	n = snprintf(buf, size, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hp, hp);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

static const char *status_text(int code)
{
	switch (code) {
	case 200: return "Connection established";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Error";
	}
}

size_t eimg_net_response_write(char *buf, size_t size, int code, const char *reason)
{
	int n;
	if (code == 200)
		n = snprintf(buf, size, "HTTP/1.1 200 %s\r\n\r\n", status_text(code));
	else
		n = snprintf(buf, size, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			     "Connection: close\r\n\r\n%s\n", code, status_text(code), strlen(reason ? reason : "") + 1,
			     reason ? reason : "");
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}
