/* SPDX-License-Identifier: Apache-2.0 */
/* References: oci://HOST[:PORT]/REPO[:TAG][@sha256:HEX], with the grammar of
 * the OCI distribution spec (repository path components, tags), and digests. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "eimg/util.h"
#include "oci/oci_int.h"

bool eimg_oci_is_ref(const char *s)
{
	return s && strncmp(s, "oci://", 6) == 0;
}

bool oci_digest_valid(const char *d)
{
	if (strncmp(d, "sha256:", 7) != 0 || strlen(d) != 71)
		return false;
	for (const char *p = d + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

void oci_digest_format(const uint8_t sha[32], char out[EIMG_OCI_DIGEST_MAX])
{
	memcpy(out, "sha256:", 7);
	eimg_hex(sha, 32, out + 7);
}

bool oci_host_is_loopback(const char *host)
{
	if (strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
		return true;
	unsigned a, b, c, d;
	char tail;
	return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 && c < 256 && d < 256;
}

/* [a-z0-9]+ joined by '.', '_', '__' or any run of '-'. */
static bool repo_component_valid(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t run = 0;
		while (i < n && (islower((unsigned char)s[i]) || isdigit((unsigned char)s[i])))
			i++, run++;
		if (run == 0)
			return false;
		if (i == n)
			return true;
		size_t sep = i;
		if (s[i] == '.')
			i++;
		else if (s[i] == '_')
			i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
		else
			while (i < n && s[i] == '-')
				i++;
		if (i == sep || i == n)
			return false;
	}
	return false;
}

static bool repo_valid(const char *r)
{
	const char *p = r;
	if (!*r)
		return false;
	for (;;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (!repo_component_valid(p, n))
			return false;
		if (!slash)
			return true;
		p = slash + 1;
	}
}

static bool tag_valid(const char *t)
{
	size_t n = strlen(t);
	if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

static int parse_host(const char *s, size_t n, struct eimg_oci_ref *r, const char *ref, eimg_error *err)
{
	const char *colon = NULL;
	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return eimg_err(err, EIMG_EINVAL, ref, "bad registry host: no ']' after an IPv6 address");
		if ((size_t)(close + 1 - s) < n)
			colon = close + 1;
		if (colon && *colon != ':')
			return eimg_err(err, EIMG_EINVAL, ref, "bad registry host");
	} else {
		colon = memchr(s, ':', n);
	}
	size_t hn = colon ? (size_t)(colon - s) : n;
	if (hn == 0 || hn >= sizeof(r->host))
		return eimg_err(err, EIMG_EINVAL, ref, "no registry host (oci://HOST[:PORT]/REPO[:TAG][@sha256:HEX])");
	for (size_t i = 0; i < hn; i++)
		if (!(isalnum((unsigned char)s[i]) || strchr("-.[]:", s[i])))
			return eimg_err(err, EIMG_EINVAL, ref, "bad character in the registry host");
	memcpy(r->host, s, hn);
	r->host[hn] = '\0';
	if (colon) {
		unsigned long port = 0;
		size_t pn = n - hn - 1;
		if (pn == 0 || pn > 5)
			return eimg_err(err, EIMG_EINVAL, ref, "bad registry port");
		for (size_t i = 0; i < pn; i++) {
			if (!isdigit((unsigned char)colon[1 + i]))
				return eimg_err(err, EIMG_EINVAL, ref, "bad registry port");
			port = port * 10 + (unsigned long)(colon[1 + i] - '0');
		}
		if (port == 0 || port > 65535)
			return eimg_err(err, EIMG_EINVAL, ref, "registry port out of range (1-65535)");
		r->port = (unsigned)port;
	}
	return EIMG_OK;
}

static int parse_path(const char *path, struct eimg_oci_ref *r, const char *ref, eimg_error *err)
{
	char buf[512];
	if (strlen(path) >= sizeof(buf))
		return eimg_err(err, EIMG_EINVAL, ref, "reference too long");
	strcpy(buf, path);
	char *at = strchr(buf, '@');
	if (at) {
		*at = '\0';
		if (!oci_digest_valid(at + 1))
			return eimg_err(err, EIMG_EINVAL, ref, "bad digest: expected sha256: and 64 lower-case hex digits");
		strcpy(r->digest, at + 1);
	}
	char *slash = strrchr(buf, '/'), *colon = strrchr(buf, ':');
	if (colon && (!slash || colon > slash)) {
		*colon = '\0';
		if (!tag_valid(colon + 1))
			return eimg_err(err, EIMG_EINVAL, ref, "bad tag: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'");
		strcpy(r->tag, colon + 1);
	} else if (!at) {
		strcpy(r->tag, "latest");
	}
	if (strlen(buf) >= sizeof(r->repo) || !repo_valid(buf))
		return eimg_err(err, EIMG_EINVAL, ref,
				"bad repository name: lower-case letters and digits, separated by '.', '_', '__', '-' or '/'");
	strcpy(r->repo, buf);
	return EIMG_OK;
}

int eimg_oci_ref_parse(const char *s, struct eimg_oci_ref *out, eimg_error *err)
{
	struct eimg_oci_ref r;
	char shown[300];
	int rc;
	memset(&r, 0, sizeof(r));
	eimg_escape(s, strlen(s), shown, sizeof(shown));
	if (!eimg_oci_is_ref(s))
		return eimg_err(err, EIMG_EINVAL, shown, "not a registry reference (oci://HOST[:PORT]/REPO[:TAG])");
	const char *h = s + 6, *slash = strchr(h, '/');
	if (!slash)
		return eimg_err(err, EIMG_EINVAL, shown, "no repository (oci://HOST[:PORT]/REPO[:TAG][@sha256:HEX])");
	rc = parse_host(h, (size_t)(slash - h), &r, shown, err);
	if (rc == EIMG_OK)
		rc = parse_path(slash + 1, &r, shown, err);
	if (rc == EIMG_OK)
		*out = r;
	return rc;
}

const char *eimg_oci_ref_format(const struct eimg_oci_ref *r, const char *digest, char *buf, size_t size)
{
	char port[8] = "";
	if (r->port)
		snprintf(port, sizeof(port), ":%u", r->port);
	if (digest && *digest)
		snprintf(buf, size, "oci://%s%s/%s@%s", r->host, port, r->repo, digest);
	else if (r->tag[0])
		snprintf(buf, size, "oci://%s%s/%s:%s", r->host, port, r->repo, r->tag);
	else
		snprintf(buf, size, "oci://%s%s/%s", r->host, port, r->repo);
	return buf;
}
