/* SPDX-License-Identifier: Apache-2.0 */
/* The image object: members, accessors, the rules shared by the reader and
 * the writer, and the coverage list that enclave-measure shows.
 * Format and limits: man/enclave-image.5. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/image_int.h"
#include "core/internal.h"

const int eimg_kind_rank[K_COUNT] = { 0, 1, 2, 3, 3, 4, 5, 6, 7 };
const char *const eimg_kind_name[K_COUNT] = {
	"EIMAGE", "manifest.json", "runtime.json", "enclave.elf", "enclave.eif",
	"files/", "keys/", "measurement.json", "sigstruct.bin"
};

bool eimg_image_valid_name(const char *s, size_t len)
{
	if (len == 0 || len > EIMG_IMAGE_MAX_PATH)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Strict UTF-8 (no overlong forms, no surrogates, at most U+10FFFF) without NUL.
 * Returns -1 if fine, else the offset of the first bad byte; *nul tells which. */
static long long bad_utf8(const uint8_t *p, size_t len, bool *nul)
{
	size_t i = 0;
	*nul = false;
	while (i < len) {
		uint8_t c = p[i];
		if (c == 0) {
			*nul = true;
			return (long long)i;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		uint32_t min, cp;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1; min = 0x80; cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2; min = 0x800; cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3; min = 0x10000; cp = c & 0x07;
		} else {
			return (long long)i;
		}
		if (len - i <= n)
			return (long long)i;
		for (size_t k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return (long long)i;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return (long long)i;
		i += n + 1;
	}
	return -1;
}

int eimg_image_check_json(const char *file, const char *member, const uint8_t *p, size_t len, eimg_error *err)
{
	bool nul;
	if (len > EIMG_IMAGE_MAX_JSON)
		return eimg_err(err, EIMG_EINVAL, file, "member '%s': %zu bytes, above the limit of %u",
				member, len, (unsigned)EIMG_IMAGE_MAX_JSON);
	long long bad = bad_utf8(p, len, &nul);
	if (bad >= 0)
		return eimg_err(err, EIMG_EINVAL, file, "member '%s': %s at byte offset %lld", member,
				nul ? "contains a NUL byte" : "not valid UTF-8", bad);
	/* runtime.json is not measured, and nothing else checks its content:
	 * it must at least be what the format says, one JSON object. */
	if (strcmp(member, "runtime.json") == 0) {
		json_t *o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, NULL);
		bool object = o && json_is_object(o);
		json_decref(o);
		if (!object)
			return eimg_err(err, EIMG_EINVAL, file, "member 'runtime.json': not a JSON object");
	}
	return EIMG_OK;
}

/* ---- object ---- */

eimg_image *eimg_image_new(void)
{
	return calloc(1, sizeof(eimg_image));
}

static void list_free(struct image_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		eimg_blob_free(l->blob[i]);
	}
	free(l->v);
	free(l->blob);
	memset(l, 0, sizeof(*l));
}

void eimg_image_set_progress(eimg_image *img, struct eimg_progress *p)
{
	if (img)
		img->progress = p;
}

struct eimg_progress *eimg_image_progress(const eimg_image *img)
{
	return img ? img->progress : NULL;
}

void eimg_image_free(eimg_image *img)
{
	if (!img)
		return;
	free(img->manifest);
	free(img->runtime);
	free(img->measurement);
	eimg_blob_free(img->elf);
	eimg_blob_free(img->eif);
	list_free(&img->files);
	list_free(&img->keys);
	free(img->sigstruct);
	free(img);
}

const char *eimg_image_manifest(const eimg_image *img, size_t *len)
{
	if (len)
		*len = img->manifest_len;
	return img->manifest;
}

const char *eimg_image_runtime(const eimg_image *img, size_t *len)
{
	if (len)
		*len = img->runtime_len;
	return img->runtime;
}

const char *eimg_image_measurement(const eimg_image *img, size_t *len)
{
	if (len)
		*len = img->measurement_len;
	return img->measurement;
}

const uint8_t *eimg_image_sigstruct(const eimg_image *img) { return img->sigstruct; }
uint64_t eimg_image_mtime(const eimg_image *img) { return img->mtime; }
const eimg_blob *eimg_image_elf(const eimg_image *img) { return img->elf; }
const eimg_blob *eimg_image_eif(const eimg_image *img) { return img->eif; }
size_t eimg_image_nfiles(const eimg_image *img) { return img->files.n; }
size_t eimg_image_nkeys(const eimg_image *img) { return img->keys.n; }

static const char *list_at(const struct image_list *l, size_t i, const eimg_blob **blob)
{
	if (i >= l->n)
		return NULL;
	if (blob)
		*blob = l->blob[i];
	return l->v[i].name;
}

const char *eimg_image_file(const eimg_image *img, size_t i, const eimg_blob **blob)
{
	return list_at(&img->files, i, blob);
}

const char *eimg_image_key(const eimg_image *img, size_t i, const eimg_blob **blob)
{
	return list_at(&img->keys, i, blob);
}

static int list_view(const struct image_list *cl, const char *prefix, const struct eimg_member **out, size_t *n,
		     eimg_error *err)
{
	struct image_list *l = (struct image_list *)cl; /* the views are a cache */
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].data || l->v[i].size == 0)
			continue;
		const uint8_t *p;
		char what[8 + EIMG_IMAGE_MAX_PATH + 1];
		snprintf(what, sizeof(what), "%s%s", prefix, l->v[i].name);
		int rc = eimg_blob_map(l->blob[i], &p, what, err);
		if (rc)
			return rc;
		l->v[i].data = (uint8_t *)(uintptr_t)p;
	}
	*out = l->v;
	*n = l->n;
	return EIMG_OK;
}

int eimg_image_files_view(const eimg_image *img, const struct eimg_member **out, size_t *n, eimg_error *err)
{
	return list_view(&img->files, "files/", out, n, err);
}

int eimg_image_keys_view(const eimg_image *img, const struct eimg_member **out, size_t *n, eimg_error *err)
{
	return list_view(&img->keys, "keys/", out, n, err);
}

static int set_text(char **dst, size_t *dlen, const char *s, size_t len, eimg_error *err)
{
	char *c = NULL;
	if (s) {
		c = malloc(len + 1);
		if (!c)
			return eimg_err_nomem(err);
		memcpy(c, s, len);
		c[len] = '\0';
	}
	free(*dst);
	*dst = c;
	*dlen = s ? len : 0;
	return EIMG_OK;
}

int eimg_image_set_manifest(eimg_image *img, const char *json, size_t len, eimg_error *err)
{
	return set_text(&img->manifest, &img->manifest_len, json, len, err);
}

int eimg_image_set_runtime(eimg_image *img, const char *json, size_t len, eimg_error *err)
{
	return set_text(&img->runtime, &img->runtime_len, json, len, err);
}

int eimg_image_set_measurement(eimg_image *img, const char *json, size_t len, eimg_error *err)
{
	return set_text(&img->measurement, &img->measurement_len, json, len, err);
}

int eimg_image_set_sigstruct(eimg_image *img, const uint8_t *ss, size_t len, eimg_error *err)
{
	if (ss && len != EIMG_SIGSTRUCT_BYTES)
		return eimg_err(err, EIMG_EINVAL, NULL, "member 'sigstruct.bin': %zu bytes, expected %u", len,
				EIMG_SIGSTRUCT_BYTES);
	uint8_t *c = NULL;
	if (ss) {
		if (!(c = malloc(len)))
			return eimg_err_nomem(err);
		memcpy(c, ss, len);
	}
	free(img->sigstruct);
	img->sigstruct = c;
	return EIMG_OK;
}

void eimg_image_set_elf(eimg_image *img, eimg_blob *b)
{
	eimg_blob_free(img->elf);
	img->elf = b;
}

void eimg_image_set_eif(eimg_image *img, eimg_blob *b)
{
	eimg_blob_free(img->eif);
	img->eif = b;
}

int eimg_image_list_add(struct image_list *l, const char *name, eimg_blob *b, eimg_error *err)
{
	char *nm = NULL;
	if (!b || !name || !(nm = strdup(name)))
		goto nomem;
	if (l->n == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		struct eimg_member *nv = realloc(l->v, ncap * sizeof(*nv));
		if (!nv)
			goto nomem;
		l->v = nv;
		eimg_blob **nb = realloc(l->blob, ncap * sizeof(*nb));
		if (!nb)
			goto nomem;
		l->blob = nb;
		l->cap = ncap;
	}
	l->v[l->n] = (struct eimg_member){ .name = nm, .data = NULL, .size = (size_t)eimg_blob_size(b) };
	l->blob[l->n++] = b;
	return EIMG_OK;
nomem:
	free(nm);
	eimg_blob_free(b);
	return name ? eimg_err_nomem(err) : eimg_err(err, EIMG_EUSAGE, NULL, "image: member without a name");
}

int eimg_image_add_file(eimg_image *img, const char *name, eimg_blob *b, eimg_error *err)
{
	return eimg_image_list_add(&img->files, name, b, err);
}

int eimg_image_add_key(eimg_image *img, const char *name, eimg_blob *b, eimg_error *err)
{
	return eimg_image_list_add(&img->keys, name, b, err);
}

/* ---- the writer's rules ---- */

static int validate_list(const char *file, const char *prefix, const struct image_list *l, uint64_t limit,
			 uint64_t *total, eimg_error *err)
{
	char esc[EIMG_ESC];
	for (size_t i = 0; i < l->n; i++) {
		const char *name = l->v[i].name;
		size_t len = strlen(name);
		uint64_t size = eimg_blob_size(l->blob[i]);
		eimg_escape(name, len, esc, sizeof(esc));
		if (!eimg_image_valid_name(name, len))
			return eimg_err(err, EIMG_EINVAL, file,
					"member '%s%s': invalid name: expected 1 to %d of A-Z a-z 0-9 . _ -, not '.' or '..'",
					prefix, esc, EIMG_IMAGE_MAX_PATH);
		if (i > 0 && strcmp(l->v[i - 1].name, name) >= 0)
			return eimg_err(err, EIMG_EINVAL, file, "member '%s%s': %s", prefix, esc,
					strcmp(l->v[i - 1].name, name) == 0 ? "duplicate member"
									 : "members not sorted by name");
		if (size > limit)
			return eimg_err(err, EIMG_EINVAL, file, "member '%s%s': %llu bytes, above the limit of %llu",
					prefix, esc, (unsigned long long)size, (unsigned long long)limit);
		*total += size;
	}
	return EIMG_OK;
}

static int validate_texts(const eimg_image *img, const char *file, eimg_error *err)
{
	int rc;
	if (!img->manifest)
		return eimg_err(err, EIMG_EUSAGE, file, "image: missing member 'manifest.json'");
	if (!img->measurement)
		return eimg_err(err, EIMG_EUSAGE, file, "image: missing member 'measurement.json'");
	if ((rc = eimg_image_check_json(file, "manifest.json", (const uint8_t *)img->manifest, img->manifest_len, err)))
		return rc;
	if (img->runtime &&
	    (rc = eimg_image_check_json(file, "runtime.json", (const uint8_t *)img->runtime, img->runtime_len, err)))
		return rc;
	return eimg_image_check_json(file, "measurement.json", (const uint8_t *)img->measurement,
				     img->measurement_len, err);
}

int eimg_image_validate(const eimg_image *img, uint64_t mtime, const char *file, eimg_error *err)
{
	int rc;
	if (!img)
		return eimg_err(err, EIMG_EUSAGE, file, "no image to write");
	if (mtime > EIMG_IMAGE_MAX_MTIME)
		return eimg_err(err, EIMG_EINVAL, file,
				"mtime %llu is after 2038-01-19T03:14:06Z, the latest time the image format stores",
				(unsigned long long)mtime);
	if ((rc = validate_texts(img, file, err)))
		return rc;
	if (img->elf && img->eif)
		return eimg_err(err, EIMG_EUSAGE, file,
				"image: holds both 'enclave.elf' and 'enclave.eif', exactly one is allowed");
	if (!img->elf && !img->eif)
		return eimg_err(err, EIMG_EUSAGE, file, "image: missing member 'enclave.elf' or 'enclave.eif'");
	uint64_t total = eimg_blob_size(img->elf ? img->elf : img->eif);
	if (total > EIMG_IMAGE_MAX_MEMBER)
		return eimg_err(err, EIMG_EINVAL, file, "member '%s': %llu bytes, above the limit of %llu",
				img->elf ? "enclave.elf" : "enclave.eif", (unsigned long long)total,
				(unsigned long long)EIMG_IMAGE_MAX_MEMBER);
	if (img->sigstruct && img->eif)
		return eimg_err(err, EIMG_EUSAGE, file,
				"member 'sigstruct.bin': only an SGX image (enclave.elf) has one");
	if ((rc = validate_list(file, "files/", &img->files, EIMG_IMAGE_MAX_MEMBER, &total, err)) ||
	    (rc = validate_list(file, "keys/", &img->keys, EIMG_IMAGE_MAX_KEY, &total, err)))
		return rc;
	uint64_t nmem = 5 + (uint64_t)img->files.n + img->keys.n + (img->sigstruct ? 1 : 0);
	if (nmem > EIMG_IMAGE_MAX_MEMBERS)
		return eimg_err(err, EIMG_EINVAL, file, "image: %llu members, above the limit of %u",
				(unsigned long long)nmem, (unsigned)EIMG_IMAGE_MAX_MEMBERS);
	if (total > EIMG_IMAGE_MAX_TOTAL)
		return eimg_err(err, EIMG_EINVAL, file, "image: members total %llu bytes, above the limit of %llu",
				(unsigned long long)total, (unsigned long long)EIMG_IMAGE_MAX_TOTAL);
	return EIMG_OK;
}

/* ---- coverage ---- */

size_t eimg_image_count(const eimg_image *img)
{
	return 5 + img->files.n + img->keys.n + (img->sigstruct ? 1 : 0);
}

int eimg_image_entry_at(const eimg_image *img, size_t i, struct eimg_image_entry *out)
{
	static const char default_runtime[] = "{}\n";
	size_t nf = img->files.n, nk = img->keys.n;
	memset(out, 0, sizeof(*out));
	const char *name = NULL, *prefix = "";
	uint64_t size = 0;
	int role = EIMG_ROLE_MEASURED;
	if (i == 0) {
		name = "EIMAGE", size = EIMG_MAGIC_LEN, role = EIMG_ROLE_MARKER;
	} else if (i == 1) {
		name = "manifest.json", size = img->manifest_len;
	} else if (i == 2) {
		name = "runtime.json", size = img->runtime ? img->runtime_len : strlen(default_runtime);
		role = EIMG_ROLE_UNMEASURED;
	} else if (i == 3) {
		name = img->elf ? "enclave.elf" : "enclave.eif";
		size = eimg_blob_size(img->elf ? img->elf : img->eif);
	} else if (i < 4 + nf) {
		prefix = "files/", name = img->files.v[i - 4].name, size = img->files.v[i - 4].size;
	} else if (i < 4 + nf + nk) {
		prefix = "keys/", name = img->keys.v[i - 4 - nf].name, size = img->keys.v[i - 4 - nf].size;
	} else if (i == 4 + nf + nk) {
		name = "measurement.json", size = img->measurement_len, role = EIMG_ROLE_RECORD;
	} else if (i == 5 + nf + nk && img->sigstruct) {
		name = "sigstruct.bin", size = EIMG_SIGSTRUCT_BYTES, role = EIMG_ROLE_SIGNATURE;
	} else {
		return EIMG_EINVAL;
	}
	snprintf(out->path, sizeof(out->path), "%s%s", prefix, name);
	out->size = size;
	out->role = role;
	return EIMG_OK;
}

const char *eimg_member_role_name(int role)
{
	switch (role) {
	case EIMG_ROLE_MARKER: return "marker";
	case EIMG_ROLE_MEASURED: return "measured";
	case EIMG_ROLE_UNMEASURED: return "unmeasured";
	case EIMG_ROLE_RECORD: return "record";
	case EIMG_ROLE_SIGNATURE: return "signature";
	default: return "unknown";
	}
}

static const char *role_note(const eimg_image *img, const struct eimg_image_entry *e)
{
	switch (e->role) {
	case EIMG_ROLE_MARKER: return "must be exactly the format marker";
	case EIMG_ROLE_UNMEASURED: return "unmeasured by design: runtime settings, not part of the identity";
	case EIMG_ROLE_RECORD: return "must equal the recomputed measurement";
	case EIMG_ROLE_SIGNATURE: return "SIGSTRUCT: checked by 'enclave-sign verify'";
	default:
		if (img->eif)
			return strcmp(e->path, "manifest.json") == 0
				       ? "PCR0/PCR2: must equal its copy in the application ramdisk"
				       : "PCR0/1/2 (its signature section: PCR8; metadata: CRC)";
		return strcmp(e->path, "manifest.json") == 0 ? "MRENCLAVE (the info pages)" : "MRENCLAVE";
	}
}

char *eimg_image_coverage_text(const eimg_image *img)
{
	struct eimg_sb b;
	struct eimg_image_entry e;
	memset(&b, 0, sizeof(b));
	eimg_sb_field(&b, NULL, "members", "%zu (headers, padding and the end marker are checked to be canonical)",
		      eimg_image_count(img));
	for (size_t i = 0; eimg_image_entry_at(img, i, &e) == EIMG_OK; i++) {
		char esc[EIMG_ESC];
		eimg_sb_printf(&b, "  %-24s %12llu  %-10s  %s\n", eimg_escape(e.path, strlen(e.path), esc, sizeof(esc)),
			       (unsigned long long)e.size, eimg_member_role_name(e.role), role_note(img, &e));
	}
	return eimg_sb_done(&b);
}

int eimg_image_coverage_json(const eimg_image *img, char **report, eimg_error *err)
{
	json_t *o = json_loads(*report, JSON_REJECT_DUPLICATES, NULL), *arr = json_array();
	struct eimg_image_entry e;
	bool bad = !o || !json_is_object(o) || !arr;
	for (size_t i = 0; !bad && eimg_image_entry_at(img, i, &e) == EIMG_OK; i++)
		bad = json_array_append_new(arr, json_pack("{s:s, s:I, s:s}", "path", e.path, "size", (json_int_t)e.size,
							    "role", eimg_member_role_name(e.role))) != 0;
	if (bad || json_object_set_new(o, "members", arr) != 0) {
		if (bad)
			json_decref(arr);
		json_decref(o);
		return eimg_err_nomem(err);
	}
	char *out = NULL;
	int rc = eimg_json_dump(o, &out, NULL, err);
	if (rc == EIMG_OK) {
		free(*report);
		*report = out;
	}
	return rc;
}

int eimg_image_coverage_add(const eimg_image *img, bool json, char **report, eimg_error *err)
{
	if (json)
		return eimg_image_coverage_json(img, report, err);
	char *cov = eimg_image_coverage_text(img), *all = NULL;
	if (!cov || asprintf(&all, "%s%s", *report, cov) < 0)
		all = NULL;
	free(cov);
	if (!all)
		return eimg_err_nomem(err);
	free(*report);
	*report = all;
	return EIMG_OK;
}
