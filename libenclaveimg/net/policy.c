/* SPDX-License-Identifier: Apache-2.0 */
/* The egress policy: allow and deny patterns, and which one decides a
 * destination (enclave-nitro(7), "Egress policy").  libc only. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "net/net_int.h"

#define RULES_MAX 4096    /* patterns per list */
#define PATTERN_MAX 300   /* bytes of one pattern */

enum kind { R_ANY = 1, R_NAME, R_SUFFIX, R_V4, R_V6 };

struct rule {
	int kind;
	char name[NET_HOST_MAX + 2];  /* R_NAME: the name; R_SUFFIX: ".example.com" */
	uint8_t addr[16];
	unsigned prefix;              /* R_V4/R_V6: prefix length in bits */
	uint16_t port;                /* 0: any port */
	char text[PATTERN_MAX + 1];   /* as written */
};

struct eimg_net_policy {
	struct rule *allow, *deny;
	size_t nallow, ndeny;
};

/* ----------------------------------------------------------- host names */

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* A last label that a resolver could read as a number ("2130706433", "0x7f"). */
static bool numeric_label(const char *l, size_t n)
{
	size_t i = 0, hex = 0;
	if (n >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
		for (i = 2; i < n && strchr("0123456789abcdefABCDEF", l[i]); i++)
			hex++;
		return i == n;
	}
	for (i = 0; i < n && l[i] >= '0' && l[i] <= '9'; i++)
		;
	return i == n;
}

static bool parse_name(const char *s, size_t len, struct net_host *out)
{
	size_t start = 0;
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > NET_HOST_MAX)
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			size_t n = i - start;
			if (n == 0 || n > 63)
				return false;
			if (i == len && numeric_label(s + start, n))
				return false;
			start = i + 1;
		} else if (!name_char(s[i])) {
			return false;
		}
	}
	for (size_t i = 0; i < len; i++)
		out->name[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	out->name[len] = '\0';
	out->kind = NET_HOST_NAME;
	return true;
}

bool eimg_net_host_parse(const char *s, size_t len, struct net_host *out)
{
	char buf[NET_HOST_MAX + 1];
	struct net_host h;
	if (!s || len == 0 || len > NET_HOST_MAX || memchr(s, '\0', len))
		return false;
	memset(&h, 0, sizeof(h));
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (memchr(s, ':', len)) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (inet_pton(AF_INET6, buf, h.addr) != 1)
			return false;
		h.kind = NET_HOST_V6;
		if (!memcmp(h.addr, mapped, 12)) {
			memmove(h.addr, h.addr + 12, 4);
			memset(h.addr + 4, 0, 12);
			h.kind = NET_HOST_V4;
		}
	} else if (inet_pton(AF_INET, buf, h.addr) == 1) {
		h.kind = NET_HOST_V4;
	} else if (!parse_name(s, len, &h)) {
		return false;
	}
	if (h.kind != NET_HOST_NAME)
		inet_ntop(h.kind == NET_HOST_V4 ? AF_INET : AF_INET6, h.addr, h.name, sizeof(h.name));
	*out = h;
	return true;
}

/* ------------------------------------------------------------- patterns */

static bool parse_port(const char *s, size_t n, uint16_t *port)
{
	unsigned v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535 || s[0] == '0')
		return false;
	*port = (uint16_t)v;
	return true;
}

/* "ADDR" or "ADDR/N" of the family that `want` (NET_HOST_V4/V6) names. */
static const char *parse_net(const char *s, size_t n, int want, struct rule *r)
{
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	unsigned bits = want == NET_HOST_V4 ? 32 : 128, prefix = bits;
	struct net_host h;
	if (!eimg_net_host_parse(s, alen, &h) || h.kind == NET_HOST_NAME)
		return "expected an IP address";
	if (h.kind != want)
		return want == NET_HOST_V6 ? "expected an IPv6 address in brackets" : "expected an IPv4 address";
	if (slash) {
		size_t pl = n - alen - 1;
		prefix = 0;
		if (pl == 0 || pl > 3 || (pl > 1 && slash[1] == '0'))
			return "expected a prefix length after /";
		for (size_t i = 1; i <= pl; i++) {
			if (slash[i] < '0' || slash[i] > '9')
				return "expected a prefix length after /";
			prefix = prefix * 10 + (unsigned)(slash[i] - '0');
		}
		if (prefix > bits)
			return "prefix length too long for the address";
	}
	for (unsigned b = prefix; b < bits; b++)
		if (h.addr[b / 8] & (0x80u >> (b % 8)))
			return "address has bits set beyond the prefix length";
	r->kind = want == NET_HOST_V4 ? R_V4 : R_V6;
	memcpy(r->addr, h.addr, 16);
	r->prefix = prefix;
	return NULL;
}

/* The host part of a pattern without brackets. */
static const char *parse_host_part(const char *s, size_t n, struct rule *r)
{
	struct net_host h;
	if (n == 1 && s[0] == '*') {
		r->kind = R_ANY;
		return NULL;
	}
	if (n > 2 && s[0] == '*' && s[1] == '.') {
		if (!eimg_net_host_parse(s + 2, n - 2, &h) || h.kind != NET_HOST_NAME)
			return "expected a host name after *.";
		r->kind = R_SUFFIX;
		snprintf(r->name, sizeof(r->name), ".%s", h.name);
		return NULL;
	}
	if (memchr(s, '*', n))
		return "* only as the whole host or as its first label (*.example.com)";
	if (memchr(s, '/', n))
		return parse_net(s, n, NET_HOST_V4, r);
	if (!eimg_net_host_parse(s, n, &h))
		return "expected a host name, an address or a CIDR";
	if (h.kind != NET_HOST_NAME)
		return parse_net(s, n, h.kind, r);
	r->kind = R_NAME;
	snprintf(r->name, sizeof(r->name), "%s", h.name);
	return NULL;
}

static const char *parse_pattern(const char *p, struct rule *r)
{
	size_t n = strlen(p), colons = 0;
	const char *port = NULL;
	memset(r, 0, sizeof(*r));
	if (n == 0 || n > PATTERN_MAX)
		return "expected 1 to 300 characters";
	for (size_t i = 0; i < n; i++) {
		if (!name_char(p[i]) && !strchr(".*:/[]", p[i]))
			return "unexpected character (A-Z a-z 0-9 . * : / [ ] _ - only)";
		colons += p[i] == ':';
	}
	memcpy(r->text, p, n + 1);
	if (p[0] == '[') {
		const char *close = strchr(p, ']');
		if (!close)
			return "expected ] after the IPv6 address";
		if (close[1] && (close[1] != ':' || !parse_port(close + 2, strlen(close + 2), &r->port)))
			return "expected :PORT (1 to 65535) after ]";
		return parse_net(p + 1, (size_t)(close - p - 1), NET_HOST_V6, r);
	}
	if (colons >= 2)
		return parse_net(p, n, NET_HOST_V6, r);
	if (colons == 1) {
		port = strchr(p, ':');
		if (!parse_port(port + 1, strlen(port + 1), &r->port))
			return "expected :PORT (1 to 65535)";
		n = (size_t)(port - p);
	}
	return parse_host_part(p, n, r);
}

const char *eimg_net_pattern_error(const char *pattern)
{
	struct rule r;
	return pattern ? parse_pattern(pattern, &r) : "missing";
}

static int compile(char *const *pats, size_t n, const char *list, struct rule **out, eimg_error *err)
{
	struct rule *rs;
	if (n > RULES_MAX)
		return eimg_err(err, EIMG_EINVAL, NULL, "egress.%s: more than %d patterns (limit)", list, RULES_MAX);
	if (n && !pats)
		return eimg_err(err, EIMG_EUSAGE, NULL, "egress.%s: no patterns given", list);
	rs = calloc(n ? n : 1, sizeof(*rs));
	if (!rs)
		return eimg_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		const char *why = pats[i] ? parse_pattern(pats[i], &rs[i]) : "missing";
		if (why) {
			char esc[96];
			eimg_escape(pats[i] ? pats[i] : "", pats[i] ? strlen(pats[i]) : 0, esc, sizeof(esc));
			free(rs);
			return eimg_err(err, EIMG_EINVAL, NULL, "egress.%s[%zu]: '%s': %s", list, i, esc, why);
		}
	}
	*out = rs;
	return EIMG_OK;
}

int eimg_net_policy_new(char *const *allow, size_t nallow, char *const *deny, size_t ndeny,
			eimg_net_policy **out, eimg_error *err)
{
	eimg_net_policy *p;
	int rc;
	if (!out)
		return eimg_err(err, EIMG_EUSAGE, NULL, "policy: no output");
	p = calloc(1, sizeof(*p));
	if (!p)
		return eimg_err_nomem(err);
	if ((rc = compile(allow, nallow, "allow", &p->allow, err)) ||
	    (rc = compile(deny, ndeny, "deny", &p->deny, err))) {
		eimg_net_policy_free(p);
		return rc;
	}
	p->nallow = nallow;
	p->ndeny = ndeny;
	*out = p;
	return EIMG_OK;
}

void eimg_net_policy_free(eimg_net_policy *p)
{
	if (!p)
		return;
	free(p->allow);
	free(p->deny);
	free(p);
}

/* -------------------------------------------------------------- matching */

static bool prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full))
		return false;
	return !rest || !((a[full] ^ b[full]) & (0xffu << (8 - rest)));
}

static bool rule_match(const struct rule *r, const struct net_host *h, uint16_t port)
{
	size_t hl, sl;
	if (r->port && r->port != port)
		return false;
	switch (r->kind) {
	case R_ANY:
		return true;
	case R_NAME:
		return h->kind == NET_HOST_NAME && !strcmp(r->name, h->name);
	case R_SUFFIX:
		hl = strlen(h->name);
		sl = strlen(r->name);
		return h->kind == NET_HOST_NAME && hl > sl && !strcmp(h->name + hl - sl, r->name);
	case R_V4:
		return h->kind == NET_HOST_V4 && prefix_match(r->addr, h->addr, r->prefix);
	case R_V6:
		return h->kind == NET_HOST_V6 && prefix_match(r->addr, h->addr, r->prefix);
	default:
		return false;
	}
}

static int decide(struct eimg_net_verdict *v, int allowed, int list, size_t index, const struct rule *r)
{
	if (v) {
		v->allowed = allowed;
		v->list = list;
		v->index = index;
		if (list == EIMG_NET_RULE_ALLOW || list == EIMG_NET_RULE_DENY)
			snprintf(v->why, sizeof(v->why), "%s rule %zu (%s)", list == EIMG_NET_RULE_DENY ? "deny" : "allow",
				 index + 1, r->text);
		else
			snprintf(v->why, sizeof(v->why), "%s",
				 list == EIMG_NET_RULE_NONE ? "no allow rule matches" : "invalid destination");
	}
	return allowed;
}

int eimg_net_policy_check(const eimg_net_policy *p, const char *host, uint16_t port, struct eimg_net_verdict *v)
{
	struct net_host h;
	if (!p || !host || !port || !eimg_net_host_parse(host, strlen(host), &h))
		return decide(v, 0, EIMG_NET_RULE_INVALID, 0, NULL);
	for (size_t i = 0; i < p->ndeny; i++)
		if (rule_match(&p->deny[i], &h, port))
			return decide(v, 0, EIMG_NET_RULE_DENY, i, &p->deny[i]);
	for (size_t i = 0; i < p->nallow; i++)
		if (rule_match(&p->allow[i], &h, port))
			return decide(v, 1, EIMG_NET_RULE_ALLOW, i, &p->allow[i]);
	return decide(v, 0, EIMG_NET_RULE_NONE, 0, NULL);
}

int eimg_net_policy_check_resolved(const eimg_net_policy *p, const char *addr, uint16_t port,
				   struct eimg_net_verdict *v)
{
	struct net_host h;
	if (!p || !addr || !port || !eimg_net_host_parse(addr, strlen(addr), &h) || h.kind == NET_HOST_NAME)
		return decide(v, 0, EIMG_NET_RULE_INVALID, 0, NULL);
	for (size_t i = 0; i < p->ndeny; i++)
		if (p->deny[i].kind != R_NAME && p->deny[i].kind != R_SUFFIX && rule_match(&p->deny[i], &h, port))
			return decide(v, 0, EIMG_NET_RULE_DENY, i, &p->deny[i]);
	if (v) {
		v->allowed = 1;
		v->list = EIMG_NET_RULE_NONE;
		v->index = 0;
		snprintf(v->why, sizeof(v->why), "no deny rule matches the address");
	}
	return 1;
}
