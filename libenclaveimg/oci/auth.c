/* SPDX-License-Identifier: Apache-2.0 */
/* Registry credentials (the docker/podman credentials file), WWW-Authenticate
 * challenges and token-service answers. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "core/internal.h"
#include "oci/oci_int.h"

/* One auth-param value, quoted or a token; returns the end, or NULL. */
static const char *param_value(const char *p, char *out, size_t size)
{
	size_t n = 0;
	if (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			if (n + 1 >= size)
				return NULL;
			out[n++] = *p;
		}
		if (*p != '"')
			return NULL;
		p++;
	} else {
		while (*p && *p != ',' && !isspace((unsigned char)*p)) {
			if (n + 1 >= size)
				return NULL;
			out[n++] = *p++;
		}
	}
	out[n] = '\0';
	return p;
}

int oci_challenge_parse(const char *h, struct oci_challenge *out)
{
	struct oci_challenge c;
	memset(&c, 0, sizeof(c));
	while (isspace((unsigned char)*h))
		h++;
	size_t n = strcspn(h, " \t");
	if (n == 0 || n >= sizeof(c.scheme))
		return -1;
	memcpy(c.scheme, h, n);
	h += n;
	while (*h) {
		char name[32], val[1024];
		while (isspace((unsigned char)*h) || *h == ',')
			h++;
		if (!*h)
			break;
		n = strcspn(h, "= \t,");
		if (n == 0 || n >= sizeof(name) || h[n] != '=')
			return -1;
		memcpy(name, h, n);
		name[n] = '\0';
		h = param_value(h + n + 1, val, sizeof(val));
		if (!h)
			return -1;
		if (strcasecmp(name, "realm") == 0)
			snprintf(c.realm, sizeof(c.realm), "%s", val);
		else if (strcasecmp(name, "service") == 0)
			snprintf(c.service, sizeof(c.service), "%s", val);
		else if (strcasecmp(name, "scope") == 0)
			snprintf(c.scope, sizeof(c.scope), "%s", val);
	}
	*out = c;
	return 0;
}

static const char *auth_file_path(const char *given, char *buf, size_t size)
{
	const char *e;
	if (given)
		return given;
	if ((e = getenv("REGISTRY_AUTH_FILE")) && *e)
		return e;
	if ((e = getenv("DOCKER_CONFIG")) && *e) {
		snprintf(buf, size, "%s/config.json", e);
		return buf;
	}
	if ((e = getenv("HOME")) && *e) {
		snprintf(buf, size, "%s/.docker/config.json", e);
		return buf;
	}
	return NULL;
}

/* The "auths" entry for hostport: the key as is, or as a URL. */
static json_t *find_entry(json_t *auths, const char *hostport)
{
	const char *key;
	json_t *v;
	json_object_foreach(auths, key, v) {
		const char *k = key;
		if (strncmp(k, "https://", 8) == 0)
			k += 8;
		else if (strncmp(k, "http://", 7) == 0)
			k += 7;
		size_t n = strcspn(k, "/");
		if (n == strlen(hostport) && strncmp(k, hostport, n) == 0)
			return v;
	}
	return NULL;
}

static int entry_credentials(json_t *e, const char *path, char **out, eimg_error *err)
{
	const char *auth = json_string_value(json_object_get(e, "auth"));
	const char *user = json_string_value(json_object_get(e, "username"));
	const char *pass = json_string_value(json_object_get(e, "password"));
	uint8_t *dec = NULL;
	size_t len = 0;
	if (auth && *auth) {
		if (eimg_base64_decode(auth, strlen(auth), false, 4096, &dec, &len) != 0 || !memchr(dec, ':', len) ||
		    memchr(dec, '\0', len)) {
			if (dec)
				eimg_free_secret(dec, len);
			return eimg_err(err, EIMG_EINVAL, path, "an \"auth\" entry is not base64 of user:password");
		}
		dec[len] = '\0';
		*out = (char *)dec;
		return EIMG_OK;
	}
	if (user && pass) {
		size_t n = strlen(user) + strlen(pass) + 2;
		char *s = malloc(n);
		if (!s)
			return eimg_err_nomem(err);
		snprintf(s, n, "%s:%s", user, pass);
		*out = s;
	}
	return EIMG_OK;
}

int oci_auth_lookup(const char *auth_file, const char *hostport, char **out, eimg_error *err)
{
	char buf[4096];
	const char *path = auth_file_path(auth_file, buf, sizeof(buf));
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;
	*out = NULL;
	if (!path)
		return EIMG_OK;
	if (!auth_file && access(path, F_OK) != 0)
		return EIMG_OK; /* no credentials file: anonymous */
	rc = eimg_read_file(path, EIMG_OCI_MAX_AUTH_FILE, &data, &len, err);
	if (rc)
		return rc;
	json_t *root = json_loadb((const char *)data, len, 0, NULL);
	eimg_free_secret(data, len + 1);
	if (!json_is_object(root)) {
		json_decref(root);
		return eimg_err(err, EIMG_EINVAL, path, "not a credentials file (a JSON object with \"auths\")");
	}
	json_t *e = find_entry(json_object_get(root, "auths"), hostport);
	rc = e ? entry_credentials(e, path, out, err) : EIMG_OK;
	json_decref(root); /* the strings inside are not wiped: jansson owns them */
	return rc;
}

int oci_token_parse(const uint8_t *body, size_t len, char **token)
{
	json_t *root = json_loadb((const char *)body, len, 0, NULL);
	const char *t = json_string_value(json_object_get(root, "token"));
	if (!t || !*t)
		t = json_string_value(json_object_get(root, "access_token"));
	int rc = -1;
	if (t && *t && strlen(t) < 16384 && !strpbrk(t, "\r\n")) {
		*token = strdup(t);
		rc = *token ? 0 : -1;
	}
	json_decref(root);
	return rc;
}
