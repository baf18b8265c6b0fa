/* SPDX-License-Identifier: Apache-2.0 */
/* The canonical manifest as the supervisor reads it from the ramdisk: the
 * entrypoint, its environment, the working folder, the ingress ports and the
 * egress lists (enclave-manifest(5)).  Bounded: SUP_MANIFEST_MAX bytes,
 * SUP_ARGV_MAX arguments, SUP_ENV_MAX environment entries. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "supervisor.h"

static const char *const proxy_vars[] = { "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy" };
static const char no_proxy[] = "NO_PROXY=localhost,127.0.0.1";

static int read_all(const char *path, char **out, eimg_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	char *buf;
	if (fd < 0)
		return eimg_err_sys(err, path, "cannot open");
	buf = malloc(SUP_MANIFEST_MAX + 1);
	if (!buf) {
		close(fd);
		return eimg_err_nomem(err);
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, SUP_MANIFEST_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = eimg_err_sys(err, path, "cannot read");
			close(fd);
			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > SUP_MANIFEST_MAX) {
			close(fd);
			free(buf);
			return eimg_err(err, EIMG_EINVAL, path, "larger than %u bytes (limit)", SUP_MANIFEST_MAX);
		}
	}
	close(fd);
	buf[len] = '\0';
	*out = buf;
	return EIMG_OK;
}

/* A JSON array of strings (absent: empty when optional) into a NULL-terminated
 * list with room for `extra` more entries. */
static int strings(json_t *a, const char *path, const char *what, size_t max, size_t extra, char ***out,
		   size_t *n, eimg_error *err)
{
	size_t count = a ? json_array_size(a) : 0;
	char **list;
	if (a && !json_is_array(a))
		return eimg_err(err, EIMG_EINVAL, path, "%s: expected an array of strings", what);
	if (count > max)
		return eimg_err(err, EIMG_EINVAL, path, "%s: more than %zu entries (limit)", what, max);
	list = calloc(count + extra + 1, sizeof(*list));
	if (!list)
		return eimg_err_nomem(err);
	for (size_t i = 0; i < count; i++) {
		json_t *s = json_array_get(a, i);
		if (!json_is_string(s) || strlen(json_string_value(s)) != json_string_length(s) ||
		    !(list[i] = strdup(json_string_value(s)))) {
			for (size_t j = 0; j < i; j++)
				free(list[j]);
			free(list);
			return json_is_string(s) && strlen(json_string_value(s)) == json_string_length(s)
				       ? eimg_err_nomem(err)
				       : eimg_err(err, EIMG_EINVAL, path, "%s[%zu]: expected a string without NUL", what, i);
		}
	}
	*out = list;
	if (n)
		*n = count;
	return EIMG_OK;
}

static int proxy_env(struct sup_manifest *m, size_t nenv, const char *proxy_url, eimg_error *err)
{
	/* the proxy variables replace any the manifest sets */
	size_t o = 0;
	for (size_t i = 0; i < nenv; i++) {
		bool ours = !strncmp(m->env[i], "NO_PROXY=", 9);
		for (size_t k = 0; k < 4; k++) {
			size_t kl = strlen(proxy_vars[k]);
			ours |= !strncmp(m->env[i], proxy_vars[k], kl) && m->env[i][kl] == '=';
		}
		char *e = m->env[i];
		m->env[i] = NULL;
		if (ours)
			free(e);
		else
			m->env[o++] = e;
	}
	for (size_t k = 0; k < 5; k++) {
		char line[128];
		if (k < 4)
			snprintf(line, sizeof(line), "%s=%s", proxy_vars[k], proxy_url);
		else
			snprintf(line, sizeof(line), "%s", no_proxy);
		if (!(m->env[o++] = strdup(line)))
			return eimg_err_nomem(err);
	}
	m->env[o] = NULL;
	return EIMG_OK;
}

static int ports(json_t *a, const char *path, struct sup_manifest *m, eimg_error *err)
{
	size_t n = a ? json_array_size(a) : 0;
	if (a && !json_is_array(a))
		return eimg_err(err, EIMG_EINVAL, path, "nitro.ingress: expected an array of ports");
	if (n > 1024)
		return eimg_err(err, EIMG_EINVAL, path, "nitro.ingress: more than 1024 ports (limit)");
	m->ingress = calloc(n ? n : 1, sizeof(*m->ingress));
	if (!m->ingress)
		return eimg_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		json_t *p = json_array_get(a, i);
		if (!json_is_integer(p) || json_integer_value(p) < 1 || json_integer_value(p) > 65535)
			return eimg_err(err, EIMG_EINVAL, path, "nitro.ingress[%zu]: expected a port 1 to 65535", i);
		m->ingress[i] = (uint16_t)json_integer_value(p);
	}
	m->ningress = n;
	return EIMG_OK;
}

static int fields(json_t *nitro, const char *path, const char *proxy_url, struct sup_manifest *m, eimg_error *err)
{
	json_t *eg = json_object_get(nitro, "egress"), *wd = json_object_get(nitro, "working_dir");
	size_t nenv = 0, nargv = 0;
	int rc;
	if (eg && !json_is_object(eg))
		return eimg_err(err, EIMG_EINVAL, path, "nitro.egress: expected an object");
	if ((rc = strings(json_object_get(nitro, "entrypoint"), path, "nitro.entrypoint", SUP_ARGV_MAX, 0, &m->argv,
			  &nargv, err)) ||
	    (rc = strings(json_object_get(nitro, "env"), path, "nitro.env", SUP_ENV_MAX, 5, &m->env, &nenv, err)) ||
	    (rc = strings(eg ? json_object_get(eg, "allow") : NULL, path, "nitro.egress.allow", 4096, 0, &m->allow,
			  &m->nallow, err)) ||
	    (rc = strings(eg ? json_object_get(eg, "deny") : NULL, path, "nitro.egress.deny", 4096, 0, &m->deny,
			  &m->ndeny, err)) ||
	    (rc = ports(json_object_get(nitro, "ingress"), path, m, err)) ||
	    (rc = proxy_env(m, nenv, proxy_url, err)))
		return rc;
	if (nargv == 0 || !m->argv[0][0])
		return eimg_err(err, EIMG_EINVAL, path, "nitro.entrypoint: no program to start");
	if (wd && (!json_is_string(wd) || !(m->working_dir = strdup(json_string_value(wd)))))
		return json_is_string(wd) ? eimg_err_nomem(err)
					  : eimg_err(err, EIMG_EINVAL, path, "nitro.working_dir: expected a string");
	return EIMG_OK;
}

int sup_manifest_read(const char *path, const char *proxy_url, struct sup_manifest *m, eimg_error *err)
{
	char *text = NULL;
	json_error_t je;
	json_t *root, *nitro;
	int rc;
	memset(m, 0, sizeof(*m));
	if ((rc = read_all(path, &text, err)))
		return rc;
	root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	free(text);
	if (!root)
		return eimg_err_at(err, EIMG_EINVAL, path, (unsigned)je.line, (unsigned)je.column, "%s", je.text);
	nitro = json_object_get(root, "nitro");
	if (!json_is_object(root) || !json_is_object(nitro))
		rc = eimg_err(err, EIMG_EINVAL, path, "not a Nitro manifest (no \"nitro\" object)");
	else
		rc = fields(nitro, path, proxy_url, m, err);
	json_decref(root);
	if (rc)
		sup_manifest_free(m);
	return rc;
}

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

void sup_manifest_free(struct sup_manifest *m)
{
	free_list(m->argv);
	free_list(m->env);
	free_list(m->allow);
	free_list(m->deny);
	free(m->working_dir);
	free(m->ingress);
	memset(m, 0, sizeof(*m));
}
