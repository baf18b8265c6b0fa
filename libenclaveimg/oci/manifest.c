/* SPDX-License-Identifier: Apache-2.0 */
/* OCI image manifests and indexes (image-spec 1.1): a strict, bounded reader
 * for what a registry sends, and the deterministic writer for what we push. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/internal.h"
#include "oci/oci_int.h"

static int copy_str(json_t *o, const char *key, char *out, size_t size, bool required, const char *src,
		    eimg_error *err)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		if (required)
			return eimg_err(err, EIMG_EINVAL, src, "descriptor without \"%s\"", key);
		return EIMG_OK;
	}
	if (!json_is_string(v) || json_string_length(v) >= size || json_string_length(v) != strlen(json_string_value(v)))
		return eimg_err(err, EIMG_EINVAL, src, "\"%s\" is not a string of at most %zu bytes", key, size - 1);
	strcpy(out, json_string_value(v));
	return EIMG_OK;
}

static int parse_desc(json_t *o, struct oci_desc *d, const char *src, eimg_error *err)
{
	int rc;
	memset(d, 0, sizeof(*d));
	if (!json_is_object(o))
		return eimg_err(err, EIMG_EINVAL, src, "a descriptor is not an object");
	if ((rc = copy_str(o, "mediaType", d->media_type, sizeof(d->media_type), true, src, err)) ||
	    (rc = copy_str(o, "artifactType", d->artifact_type, sizeof(d->artifact_type), false, src, err)) ||
	    (rc = copy_str(o, "digest", d->digest, sizeof(d->digest), true, src, err)))
		return rc;
	if (!oci_digest_valid(d->digest))
		return eimg_err(err, EIMG_EINVAL, src, "descriptor digest is not sha256: with 64 lower-case hex digits");
	json_t *size = json_object_get(o, "size");
	if (!json_is_integer(size) || json_integer_value(size) < 0)
		return eimg_err(err, EIMG_EINVAL, src, "descriptor without a non-negative integer \"size\"");
	d->size = (uint64_t)json_integer_value(size);
	return EIMG_OK;
}

static int parse_descs(json_t *a, struct oci_manifest *m, const char *src, eimg_error *err)
{
	if (!a)
		return EIMG_OK;
	if (!json_is_array(a))
		return eimg_err(err, EIMG_EINVAL, src, "layers/manifests is not an array");
	size_t n = json_array_size(a);
	if (n > EIMG_OCI_MAX_DESCRIPTORS)
		return eimg_err(err, EIMG_EINVAL, src, "%zu descriptors, above the limit of %u", n,
				EIMG_OCI_MAX_DESCRIPTORS);
	m->descs = calloc(n ? n : 1, sizeof(*m->descs));
	if (!m->descs)
		return eimg_err_nomem(err);
	for (size_t i = 0; i < n; i++) {
		int rc = parse_desc(json_array_get(a, i), &m->descs[i], src, err);
		if (rc)
			return rc;
		m->ndescs = i + 1;
	}
	return EIMG_OK;
}

static int parse_root(json_t *root, struct oci_manifest *m, const char *src, eimg_error *err)
{
	int rc;
	json_t *sv = json_object_get(root, "schemaVersion");
	if (!json_is_integer(sv) || json_integer_value(sv) != 2)
		return eimg_err(err, EIMG_EINVAL, src, "not an OCI manifest: schemaVersion is not 2");
	if ((rc = copy_str(root, "mediaType", m->media_type, sizeof(m->media_type), false, src, err)) ||
	    (rc = copy_str(root, "artifactType", m->artifact_type, sizeof(m->artifact_type), false, src, err)))
		return rc;
	json_t *manifests = json_object_get(root, "manifests"), *layers = json_object_get(root, "layers");
	m->is_index = manifests != NULL || strcmp(m->media_type, OCI_INDEX_TYPE) == 0;
	if (m->is_index) {
		if (layers || json_object_get(root, "config"))
			return eimg_err(err, EIMG_EINVAL, src, "an index with layers or a config");
		return parse_descs(manifests, m, src, err);
	}
	if (!json_object_get(root, "config") || !layers)
		return eimg_err(err, EIMG_EINVAL, src, "not an OCI manifest: no config or no layers");
	if ((rc = parse_desc(json_object_get(root, "config"), &m->config, src, err)))
		return rc;
	json_t *subject = json_object_get(root, "subject");
	if (subject) {
		if ((rc = parse_desc(subject, &m->subject, src, err)))
			return rc;
		m->has_subject = true;
	}
	return parse_descs(layers, m, src, err);
}

int eimg_oci_manifest_parse(const char *source, const uint8_t *buf, size_t len, struct oci_manifest **out,
			    eimg_error *err)
{
	json_error_t je;
	struct oci_manifest *m;
	int rc;
	if (len > EIMG_OCI_MAX_MANIFEST)
		return eimg_err(err, EIMG_EINVAL, source, "manifest of %zu bytes, above the limit of %u", len,
				EIMG_OCI_MAX_MANIFEST);
	json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return eimg_err(err, EIMG_EINVAL, source, "manifest is not JSON: %s", je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return eimg_err(err, EIMG_EINVAL, source, "manifest is not a JSON object");
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		json_decref(root);
		return eimg_err_nomem(err);
	}
	rc = parse_root(root, m, source, err);
	json_decref(root);
	if (rc) {
		eimg_oci_manifest_free(m);
		return rc;
	}
	*out = m;
	return EIMG_OK;
}

void eimg_oci_manifest_free(struct oci_manifest *m)
{
	if (!m)
		return;
	free(m->descs);
	free(m);
}

static json_t *desc_json(const struct oci_desc *d)
{
	json_t *o = json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size",
			      (json_int_t)d->size);
	if (o && d->artifact_type[0])
		json_object_set_new(o, "artifactType", json_string(d->artifact_type));
	if (o && d->title)
		json_object_set_new(o, "annotations", json_pack("{s:s}", "org.opencontainers.image.title", d->title));
	return o;
}

static int dump_compact(json_t *o, char **out, size_t *len, eimg_error *err)
{
	if (!o)
		return eimg_err_nomem(err);
	char *s = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	if (!s)
		return eimg_err_nomem(err);
	*out = s;
	*len = strlen(s);
	return EIMG_OK;
}

int oci_manifest_build(const char *artifact_type, const struct oci_desc *layers, size_t n,
		       const struct oci_desc *subject, const char *annot_key, const char *annot_val,
		       char **out, size_t *len, eimg_error *err)
{
	json_t *arr = json_array();
	json_t *o = json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:i, s:s}}", "schemaVersion", 2, "mediaType",
			      OCI_MANIFEST_TYPE, "artifactType", artifact_type, "config", "mediaType", OCI_EMPTY_TYPE,
			      "digest", OCI_EMPTY_DIGEST, "size", 2, "data", "e30=");
	if (!o || !arr) {
		json_decref(o);
		json_decref(arr);
		return eimg_err_nomem(err);
	}
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, desc_json(&layers[i]));
	json_object_set_new(o, "layers", arr);
	if (subject)
		json_object_set_new(o, "subject", desc_json(subject));
	if (annot_key)
		json_object_set_new(o, "annotations", json_pack("{s:s}", annot_key, annot_val));
	return dump_compact(o, out, len, err);
}

int oci_index_add(const uint8_t *old, size_t oldlen, const struct oci_desc *desc, char **out, size_t *len,
		  eimg_error *err)
{
	json_t *root = NULL, *arr;
	if (old && oldlen) {
		root = json_loadb((const char *)old, oldlen, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(root) || !json_is_array(json_object_get(root, "manifests"))) {
			json_decref(root);
			return eimg_err(err, EIMG_EINVAL, NULL, "the referrers tag holds no OCI index");
		}
	} else {
		root = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", OCI_INDEX_TYPE, "manifests");
		if (!root)
			return eimg_err_nomem(err);
	}
	arr = json_object_get(root, "manifests");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		json_t *d = json_object_get(json_array_get(arr, i), "digest");
		if (json_is_string(d) && strcmp(json_string_value(d), desc->digest) == 0)
			return dump_compact(root, out, len, err);
	}
	if (json_array_size(arr) >= EIMG_OCI_MAX_DESCRIPTORS) {
		json_decref(root);
		return eimg_err(err, EIMG_EINVAL, NULL, "the referrers index is full (%u entries)", EIMG_OCI_MAX_DESCRIPTORS);
	}
	json_array_append_new(arr, desc_json(desc));
	return dump_compact(root, out, len, err);
}

void oci_error_body(const uint8_t *body, size_t len, char *out, size_t size)
{
	out[0] = '\0';
	if (!body || len == 0 || len > EIMG_OCI_MAX_SMALL)
		return;
	json_t *root = json_loadb((const char *)body, len, 0, NULL);
	json_t *e = json_array_get(json_object_get(root, "errors"), 0);
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));
	if (code || msg) {
		char a[64], b[200];
		eimg_escape(code ? code : "", code ? strlen(code) : 0, a, sizeof(a));
		eimg_escape(msg ? msg : "", msg ? strlen(msg) : 0, b, sizeof(b));
		snprintf(out, size, "%s%s%s", a, code && msg ? ": " : "", b);
	}
	json_decref(root);
}
