/* SPDX-License-Identifier: Apache-2.0 */
/* The handful of C library functions freestanding enclave code needs.
 * Compiled with -fno-builtin -fno-tree-loop-distribute-patterns so that the
 * compiler does not turn these loops back into calls to themselves. */
#include "enclave.h"

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;
	while (n >= 8 && (((uintptr_t)dp | (uintptr_t)sp) & 7) == 0) {
		*(uint64_t *)(void *)dp = *(const uint64_t *)(const void *)sp;
		dp += 8, sp += 8, n -= 8;
	}
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	uint8_t *dp = d;
	const uint8_t *sp = s;
	if (dp == sp || n == 0)
		return d;
	if (dp < sp || dp >= sp + n)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

void *memset(void *d, int c, size_t n)
{
	uint8_t *dp = d;
	uint64_t w = (uint8_t)c * 0x0101010101010101ull;
	while (n && ((uintptr_t)dp & 7)) {
		*dp++ = (uint8_t)c;
		n--;
	}
	while (n >= 8) {
		*(uint64_t *)(void *)dp = w;
		dp += 8, n -= 8;
	}
	while (n--)
		*dp++ = (uint8_t)c;
	return d;
}

void explicit_bzero(void *p, size_t n)
{
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const uint8_t *p = s;
	for (size_t i = 0; i < n; i++)
		if (p[i] == (uint8_t)c)
			return (void *)(p + i);
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return 0;
	}
}

char *strrchr(const char *s, int c)
{
	const char *r = 0;
	for (;; s++) {
		if (*s == (char)c)
			r = s;
		if (!*s)
			return (char *)r;
	}
}

long long enclave_strtoll(const char *s, const char **end)
{
	unsigned long long v = 0;
	int neg = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	while (*s >= '0' && *s <= '9') {
		unsigned d = (unsigned)(*s++ - '0');
		if (v > (0x7fffffffffffffffull - d) / 10)
			v = 0x8000000000000000ull;   /* saturate */
		else
			v = v * 10 + d;
	}
	if (end)
		*end = s;
	if (v >= 0x8000000000000000ull)
		return neg ? (-0x7fffffffffffffffll - 1) : 0x7fffffffffffffffll;
	return neg ? -(long long)v : (long long)v;
}

/* ------------------------------------------------------------ printf */

struct out {
	char *buf;
	size_t size, n;
};

static void put(struct out *o, char c)
{
	if (o->n + 1 < o->size)
		o->buf[o->n] = c;
	o->n++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

enum { F_MINUS = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8 };

static void fmt_num(struct out *o, unsigned long long v, int neg, unsigned base, int upper,
		    int flags, int width, int prec)
{
	char tmp[24];
	int n = 0;
	const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	if (v == 0 && prec != 0)
		tmp[n++] = '0';
	while (v) {
		tmp[n++] = dig[v % base];
		v /= base;
	}
	char sign = neg ? '-' : (flags & F_PLUS) ? '+' : (flags & F_SPACE) ? ' ' : 0;
	int zeros = prec > n ? prec - n : 0;
	int len = n + zeros + (sign != 0);
	if (!(flags & F_MINUS) && !((flags & F_ZERO) && prec < 0))
		pad(o, ' ', width - len);
	if (sign)
		put(o, sign);
	if (!(flags & F_MINUS) && (flags & F_ZERO) && prec < 0)
		pad(o, '0', width - len);
	pad(o, '0', zeros);
	while (n)
		put(o, tmp[--n]);
	if (flags & F_MINUS)
		pad(o, ' ', width - len);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		int flags = 0, width = 0, prec = -1, lng = 0;
		for (p++;; p++) {
			if (*p == '-') flags |= F_MINUS;
			else if (*p == '0') flags |= F_ZERO;
			else if (*p == '+') flags |= F_PLUS;
			else if (*p == ' ') flags |= F_SPACE;
			else break;
		}
		if (*p == '*') {
			width = va_arg(ap, int);
			if (width < 0)
				flags |= F_MINUS, width = -width;
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				width = width * 10 + (*p++ - '0');
		}
		if (*p == '.') {
			p++;
			prec = 0;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			} else {
				while (*p >= '0' && *p <= '9')
					prec = prec * 10 + (*p++ - '0');
			}
		}
		for (;; p++) {
			if (*p == 'l') lng++;
			else if (*p == 'z' || *p == 'j' || *p == 't') lng = 2;
			else if (*p == 'h') { /* promoted to int anyway */ }
			else break;
		}
		switch (*p) {
		case 'd': case 'i': {
			long long v = lng >= 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
			unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
			fmt_num(&o, u, v < 0, 10, 0, flags, width, prec);
			break;
		}
		case 'u': case 'x': case 'X': case 'o': {
			unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long) : lng == 1 ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
			unsigned base = *p == 'u' ? 10 : *p == 'o' ? 8 : 16;
			fmt_num(&o, v, 0, base, *p == 'X', flags & ~(F_PLUS | F_SPACE), width, prec);
			break;
		}
		case 'p': {
			put(&o, '0');
			put(&o, 'x');
			fmt_num(&o, (uintptr_t)va_arg(ap, void *), 0, 16, 0, 0, 0, -1);
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);
			if (!(flags & F_MINUS))
				pad(&o, ' ', width - 1);
			put(&o, c);
			if (flags & F_MINUS)
				pad(&o, ' ', width - 1);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = (int)(prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s));
			if (!(flags & F_MINUS))
				pad(&o, ' ', width - n);
			for (int i = 0; i < n; i++)
				put(&o, s[i]);
			if (flags & F_MINUS)
				pad(&o, ' ', width - n);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			p--;   /* lone '%' at the end */
			break;
		default:   /* unknown conversion: print it verbatim */
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.n < size ? o.n : size - 1] = '\0';
	return o.n > 0x7fffffff ? -1 : (int)o.n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
