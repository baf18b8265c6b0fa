/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave image archive (.eimg): a deterministic, restricted pax tar.
 *
 * Format and limits: man/enclave-image.5.  This is the only library file that
 * includes libarchive (apart from the Nitro cpio writer).
 *
 * Writing: every entry is built here from scratch (never from stat(2)):
 * regular file, mode 0644, uid = gid = 0, no user/group names, mtime from the
 * caller with zero nanoseconds, no atime/ctime/birthtime, xattrs, ACLs or
 * flags.  libarchive's "pax restricted" writer then emits plain ustar headers,
 * plus a pax extended header with a single "path" record for member paths
 * that do not fit the ustar name/prefix split.  The archive ends with the
 * two-block end-of-archive marker and is not padded further.
 *
 * Reading: only the tar format and no decompression filter; members are read
 * into bounded buffers, never extracted.  Every rule of enclave-image(5) is
 * checked and the first violation reported as one line naming the member.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "eimg/image.h"
#include "core/internal.h"

#define BLOCK 512u
#define RECORD 10240u            /* tar record (blocking factor 20) */
#define MAGIC_LEN (sizeof(EIMG_IMAGE_MAGIC) - 1)
#define SIGSTRUCT_SIZE 1808u
#define MAX_MAGIC_MEMBER 64u     /* declared size limit of the EIMAGE member */
#define ESC 192                  /* escape buffer for member names in messages */
#define READ_CHUNK 65536u

/* Member kinds, in archive order; ELF and EIF share a rank. */
enum kind {
	K_MAGIC, K_MANIFEST, K_RUNTIME, K_ELF, K_EIF, K_FILE, K_KEY, K_MEASUREMENT, K_SIGSTRUCT,
	K_COUNT
};
static const int kind_rank[K_COUNT] = { 0, 1, 2, 3, 3, 4, 5, 6, 7 };
static const char *const kind_name[K_COUNT] = {
	"EIMAGE", "manifest.json", "runtime.json", "enclave.elf", "enclave.eif",
	"files/", "keys/", "measurement.json", "sigstruct.bin"
};

/* ------------------------------------------------------------------ */
/* Shared validation                                                   */

/* files/<name> and keys/<name>: 1..255 of [A-Za-z0-9._-], not "." or "..". */
static bool valid_member_name(const char *s, size_t len)
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

static int check_json(const char *file, const char *member, const uint8_t *p, size_t len,
		      eimg_error *err)
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

/* ------------------------------------------------------------------ */
/* Image object                                                        */

eimg_image *eimg_image_new(void)
{
	return calloc(1, sizeof(eimg_image));
}

static void free_members(struct eimg_member *m, size_t n)
{
	if (!m)
		return;
	for (size_t i = 0; i < n; i++) {
		free(m[i].name);
		free(m[i].data);
	}
	free(m);
}

void eimg_image_free(eimg_image *img)
{
	if (!img)
		return;
	free(img->manifest_json);
	free(img->runtime_json);
	free(img->elf);
	free(img->eif);
	free_members(img->files, img->nfiles);
	free_members(img->keys, img->nkeys);
	free(img->measurement_json);
	free(img->sigstruct);
	free(img);
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */

static const char default_runtime[] = "{}\n";

/* The same rules the reader enforces, so that nothing written is rejected. */
static int validate_members(const char *file, const char *prefix, const struct eimg_member *m,
			    size_t n, uint64_t *total, eimg_error *err)
{
	char esc[ESC];
	if (n > 0 && !m)
		return eimg_err(err, EIMG_EUSAGE, file, "image: %zu '%s' members but no array", n, prefix);
	for (size_t i = 0; i < n; i++) {
		const char *name = m[i].name;
		if (!name)
			return eimg_err(err, EIMG_EUSAGE, file, "image: member '%s' #%zu has no name", prefix, i);
		size_t len = strlen(name);
		eimg_escape(name, len, esc, sizeof(esc));
		if (!valid_member_name(name, len))
			return eimg_err(err, EIMG_EINVAL, file,
					"member '%s%s': invalid name: expected 1 to %d of A-Z a-z 0-9 . _ -, not '.' or '..'",
					prefix, esc, EIMG_IMAGE_MAX_PATH);
		if (i > 0 && strcmp(m[i - 1].name, name) >= 0)
			return eimg_err(err, EIMG_EINVAL, file, "member '%s%s': %s", prefix, esc,
					strcmp(m[i - 1].name, name) == 0 ? "duplicate member"
									 : "members not sorted by name");
		if (m[i].size > 0 && !m[i].data)
			return eimg_err(err, EIMG_EUSAGE, file, "member '%s%s': no data", prefix, esc);
		if ((uint64_t)m[i].size > EIMG_IMAGE_MAX_MEMBER)
			return eimg_err(err, EIMG_EINVAL, file, "member '%s%s': %zu bytes, above the limit of %llu",
					prefix, esc, m[i].size, (unsigned long long)EIMG_IMAGE_MAX_MEMBER);
		*total += m[i].size;
	}
	return EIMG_OK;
}

static int validate_image(const eimg_image *img, uint64_t mtime, const char *file, eimg_error *err)
{
	int rc;
	uint64_t total = 0;
	if (!img)
		return eimg_err(err, EIMG_EUSAGE, file, "no image to write");
	if (mtime > EIMG_IMAGE_MAX_MTIME)
		return eimg_err(err, EIMG_EINVAL, file,
				"mtime %llu is after 2038-01-19T03:14:06Z, the latest time the image format stores",
				(unsigned long long)mtime);
	if (!img->manifest_json)
		return eimg_err(err, EIMG_EUSAGE, file, "image: missing member 'manifest.json'");
	if (!img->measurement_json)
		return eimg_err(err, EIMG_EUSAGE, file, "image: missing member 'measurement.json'");
	if ((rc = check_json(file, "manifest.json", (const uint8_t *)img->manifest_json, img->manifest_len, err)))
		return rc;
	if (img->runtime_json &&
	    (rc = check_json(file, "runtime.json", (const uint8_t *)img->runtime_json, img->runtime_len, err)))
		return rc;
	if ((rc = check_json(file, "measurement.json", (const uint8_t *)img->measurement_json,
			     img->measurement_len, err)))
		return rc;
	if (img->elf && img->eif)
		return eimg_err(err, EIMG_EUSAGE, file,
				"image: holds both 'enclave.elf' and 'enclave.eif', exactly one is allowed");
	if (!img->elf && !img->eif)
		return eimg_err(err, EIMG_EUSAGE, file, "image: missing member 'enclave.elf' or 'enclave.eif'");
	size_t esize = img->elf ? img->elf_size : img->eif_size;
	if ((uint64_t)esize > EIMG_IMAGE_MAX_MEMBER)
		return eimg_err(err, EIMG_EINVAL, file, "member '%s': %zu bytes, above the limit of %llu",
				img->elf ? "enclave.elf" : "enclave.eif", esize,
				(unsigned long long)EIMG_IMAGE_MAX_MEMBER);
	total = esize;
	if (img->sigstruct) {
		if (img->eif)
			return eimg_err(err, EIMG_EUSAGE, file,
					"member 'sigstruct.bin': only an SGX image (enclave.elf) has one");
		if (img->sigstruct_size != SIGSTRUCT_SIZE)
			return eimg_err(err, EIMG_EINVAL, file, "member 'sigstruct.bin': %zu bytes, expected %u",
					img->sigstruct_size, SIGSTRUCT_SIZE);
	}
	if ((rc = validate_members(file, "files/", img->files, img->nfiles, &total, err)) ||
	    (rc = validate_members(file, "keys/", img->keys, img->nkeys, &total, err)))
		return rc;
	uint64_t nmem = 5 + (uint64_t)img->nfiles + img->nkeys + (img->sigstruct ? 1 : 0);
	if (nmem > EIMG_IMAGE_MAX_MEMBERS)
		return eimg_err(err, EIMG_EINVAL, file, "image: %llu members, above the limit of %u",
				(unsigned long long)nmem, (unsigned)EIMG_IMAGE_MAX_MEMBERS);
	if (total > EIMG_IMAGE_MAX_TOTAL)
		return eimg_err(err, EIMG_EINVAL, file, "image: members total %llu bytes, above the limit of %llu",
				(unsigned long long)total, (unsigned long long)EIMG_IMAGE_MAX_TOTAL);
	return EIMG_OK;
}

/* Where the archive bytes go. */
struct sink {
	/* memory */
	uint8_t *buf;
	size_t len, cap;
	/* file */
	struct eimg_outfile *out;
	/* first failure of the callback */
	int rc;
	eimg_error cb_err;
};

/* A failure is recorded and the bytes dropped, but libarchive is told they
 * were written: a failing write callback puts libarchive 3.6 into its fatal
 * state, in which archive_write_free() leaks the output buffer.  The caller
 * checks s->rc after every member. */
static la_ssize_t sink_write(struct archive *a, void *cd, const void *p, size_t n)
{
	struct sink *s = cd;
	(void)a;
	if (s->rc)
		return (la_ssize_t)n;
	if (s->out) {
		s->rc = eimg_outfile_write(s->out, p, n, &s->cb_err);
		return (la_ssize_t)n;
	}
	if (n > s->cap - s->len) {
		size_t ncap = s->cap ? s->cap : 65536;
		while (ncap - s->len < n) {
			if (ncap > SIZE_MAX / 2) {
				ncap = 0;
				break;
			}
			ncap *= 2;
		}
		uint8_t *nb = ncap ? realloc(s->buf, ncap) : NULL;
		if (!nb) {
			s->rc = eimg_err_nomem(&s->cb_err);
			return (la_ssize_t)n;
		}
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return (la_ssize_t)n;
}

static int write_fail(struct archive *a, struct sink *s, const char *file, const char *member,
		      eimg_error *err)
{
	if (s->rc) {
		if (err)
			*err = s->cb_err;
		return s->rc;
	}
	const char *m = archive_error_string(a);
	return eimg_err(err, EIMG_EINTERNAL, file, "member '%s': cannot write archive: %s", member,
			m ? m : "unknown libarchive error");
}

static int put_member(struct archive *a, struct archive_entry *e, struct sink *s, const char *file,
		      const char *path, const void *data, size_t size, uint64_t mtime, eimg_error *err)
{
	archive_entry_clear(e);
	archive_entry_copy_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		return write_fail(a, s, file, path, err);
	const uint8_t *p = data;
	while (size > 0) {
		size_t n = size > (1u << 20) ? (1u << 20) : size;
		la_ssize_t w = archive_write_data(a, p, n);
		if (w <= 0)
			return write_fail(a, s, file, path, err);
		p += w;
		size -= (size_t)w;
	}
	if (archive_write_finish_entry(a) != ARCHIVE_OK || s->rc)
		return write_fail(a, s, file, path, err);
	return EIMG_OK;
}

static int put_list(struct archive *a, struct archive_entry *e, struct sink *s, const char *file,
		    const char *prefix, const struct eimg_member *m, size_t n, uint64_t mtime,
		    eimg_error *err)
{
	char path[8 + EIMG_IMAGE_MAX_PATH];
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s%s", prefix, m[i].name);
		int rc = put_member(a, e, s, file, path, m[i].data, m[i].size, mtime, err);
		if (rc)
			return rc;
	}
	return EIMG_OK;
}

/* Validates, then writes the whole archive through s.  file names the output in errors. */
static int write_archive(const eimg_image *img, uint64_t mtime, struct sink *s, const char *file,
			 eimg_error *err)
{
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	int rc = validate_image(img, mtime, file, err);
	if (rc)
		return rc;
	a = archive_write_new();
	e = archive_entry_new();
	if (!a || !e) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, (int)RECORD) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open(a, s, NULL, sink_write, NULL) != ARCHIVE_OK) {
		rc = write_fail(a, s, file, "EIMAGE", err);
		goto out;
	}
	const char *rt = img->runtime_json ? img->runtime_json : default_runtime;
	size_t rtlen = img->runtime_json ? img->runtime_len : strlen(default_runtime);
	if ((rc = put_member(a, e, s, file, "EIMAGE", EIMG_IMAGE_MAGIC, MAGIC_LEN, mtime, err)) ||
	    (rc = put_member(a, e, s, file, "manifest.json", img->manifest_json, img->manifest_len, mtime, err)) ||
	    (rc = put_member(a, e, s, file, "runtime.json", rt, rtlen, mtime, err)))
		goto out;
	if (img->elf)
		rc = put_member(a, e, s, file, "enclave.elf", img->elf, img->elf_size, mtime, err);
	else
		rc = put_member(a, e, s, file, "enclave.eif", img->eif, img->eif_size, mtime, err);
	if (rc ||
	    (rc = put_list(a, e, s, file, "files/", img->files, img->nfiles, mtime, err)) ||
	    (rc = put_list(a, e, s, file, "keys/", img->keys, img->nkeys, mtime, err)) ||
	    (rc = put_member(a, e, s, file, "measurement.json", img->measurement_json,
			     img->measurement_len, mtime, err)))
		goto out;
	if (img->sigstruct &&
	    (rc = put_member(a, e, s, file, "sigstruct.bin", img->sigstruct, img->sigstruct_size, mtime, err)))
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK || s->rc) {
		rc = write_fail(a, s, file, "end-of-archive marker", err);
		goto out;
	}
	rc = EIMG_OK;
out:
	archive_entry_free(e);
	if (a)
		archive_write_free(a);
	return rc;
}

int eimg_image_write_buffer(const eimg_image *img, uint64_t mtime, uint8_t **out, size_t *len,
			    eimg_error *err)
{
	struct sink s;
	memset(&s, 0, sizeof(s));
	int rc = write_archive(img, mtime, &s, NULL, err);
	if (rc) {
		free(s.buf);
		return rc;
	}
	if (!s.buf) { /* cannot happen: an archive is never empty */
		return eimg_err(err, EIMG_EINTERNAL, NULL, "archive writer produced no output");
	}
	*out = s.buf;
	*len = s.len;
	return EIMG_OK;
}

int eimg_image_write_file(const eimg_image *img, uint64_t mtime, const char *path, eimg_error *err)
{
	struct eimg_outfile o;
	struct sink s;
	int rc;
	if (!path)
		return eimg_err(err, EIMG_EUSAGE, NULL, "no output path");
	/* Validate first so that a bad image never even creates a temporary file. */
	if ((rc = validate_image(img, mtime, path, err)))
		return rc;
	if ((rc = eimg_outfile_open(&o, path, err)))
		return rc;
	memset(&s, 0, sizeof(s));
	s.out = &o;
	rc = write_archive(img, mtime, &s, path, err);
	if (rc) {
		eimg_outfile_abort(&o);
		return rc;
	}
	return eimg_outfile_commit(&o, err);
}

/* ------------------------------------------------------------------ */
/* Reader                                                              */

/* Input bookkeeping shared by the memory and the file reader: how many bytes
 * were delivered to libarchive and where the last non-zero byte was, so that
 * the tail after the end-of-archive marker can be checked without keeping it. */
struct source {
	const char *name;          /* for messages */
	int fd;                    /* file reader; -1 for memory */
	uint8_t *chunk;
	uint64_t delivered;        /* bytes handed to libarchive (or the whole buffer) */
	uint64_t nonzero_end;      /* offset just past the last non-zero byte seen */
	uint8_t head[8];           /* first bytes, to recognise compressed input */
	size_t headlen;
	bool len_known;            /* the input length is known in advance: */
	uint64_t known_len;        /* buffer length or regular file size */
	int rc;                    /* failure inside the read callback */
	eimg_error cb_err;
};

static void source_account(struct source *src, const uint8_t *p, size_t n)
{
	if (src->headlen < sizeof(src->head)) {
		size_t k = sizeof(src->head) - src->headlen;
		if (k > n)
			k = n;
		memcpy(src->head + src->headlen, p, k);
		src->headlen += k;
	}
	for (size_t i = n; i > 0; i--) {
		if (p[i - 1]) {
			src->nonzero_end = src->delivered + i;
			break;
		}
	}
	src->delivered += n;
}

/* Reads the next chunk of the file; bounded by EIMG_IMAGE_MAX_ARCHIVE. */
static la_ssize_t source_read_fd(struct source *src, const uint8_t **out)
{
	for (;;) {
		ssize_t r = read(src->fd, src->chunk, READ_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			src->rc = eimg_err_sys(&src->cb_err, src->name, "cannot read");
			return -1;
		}
		if (src->delivered + (uint64_t)r > EIMG_IMAGE_MAX_ARCHIVE) {
			src->rc = eimg_err(&src->cb_err, EIMG_EINVAL, src->name,
					   "archive is above the limit of %llu bytes",
					   (unsigned long long)EIMG_IMAGE_MAX_ARCHIVE);
			return -1;
		}
		source_account(src, src->chunk, (size_t)r);
		*out = src->chunk;
		return r;
	}
}

static la_ssize_t read_cb(struct archive *a, void *cd, const void **buf)
{
	struct source *src = cd;
	const uint8_t *p = NULL;
	la_ssize_t r = source_read_fd(src, &p);
	if (r < 0)
		archive_set_error(a, EIO, "%s", src->cb_err.msg);
	*buf = p;
	return r;
}

struct reader {
	const char *src;          /* source name for messages */
	const struct source *in;
	eimg_image *img;
	bool seen[K_COUNT];
	int last_rank;
	char prev[8 + EIMG_IMAGE_MAX_PATH]; /* previous member path (valid, printable) */
	size_t nmembers;
	size_t cap_files, cap_keys;
	uint64_t total;
};

static const char *compression_name(const uint8_t *h, size_t n)
{
	if (n >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return "gzip";
	if (n >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0)
		return "xz";
	if (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0)
		return "zstd";
	if (n >= 3 && memcmp(h, "BZh", 3) == 0)
		return "bzip2";
	if (n >= 4 && memcmp(h, "\x04\x22\x4d\x18", 4) == 0)
		return "lz4";
	if (n >= 2 && h[0] == 0x1f && (h[1] == 0x9d || h[1] == 0xa0))
		return "compress";
	if (n >= 3 && h[0] == 0x5d && h[1] == 0x00 && h[2] == 0x00)
		return "lzma";
	return NULL;
}

/* Syntax of any member path, before we know what it is. */
static int check_path_syntax(struct reader *r, const char *path, size_t len, char *esc, eimg_error *err)
{
	if (len == 0)
		return eimg_err(err, EIMG_EINVAL, r->src, "member #%zu: empty name", r->nmembers + 1);
	if (path[0] == '/')
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': absolute path", esc);
	/* Components; a trailing slash is reported after the type check. */
	size_t end = len;
	while (end > 0 && path[end - 1] == '/')
		end--;
	size_t i = 0;
	while (i < end) {
		size_t j = i;
		while (j < end && path[j] != '/')
			j++;
		size_t n = j - i;
		if (n == 0)
			return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': empty path component", esc);
		if (n == 2 && path[i] == '.' && path[i + 1] == '.')
			return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': path contains '..'", esc);
		if (n == 1 && path[i] == '.')
			return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': path contains a '.' component", esc);
		i = j + 1;
	}
	return EIMG_OK;
}

static int check_type(struct reader *r, struct archive_entry *e, const char *esc, eimg_error *err)
{
	const char *what = NULL;
	if (archive_entry_hardlink(e))
		what = "a hard link";
	else if (archive_entry_symlink(e))
		what = "a symbolic link";
	else {
		switch (archive_entry_filetype(e)) {
		case AE_IFREG: break;
		case AE_IFDIR: what = "a directory"; break;
		case AE_IFLNK: what = "a symbolic link"; break;
		case AE_IFCHR: what = "a character device"; break;
		case AE_IFBLK: what = "a block device"; break;
		case AE_IFIFO: what = "a FIFO"; break;
		case AE_IFSOCK: what = "a socket"; break;
		default: what = "not a regular file"; break;
		}
	}
	if (what)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': is %s, only regular files are allowed",
				esc, what);
	if (archive_entry_sparse_count(e) > 0)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': sparse entries are not allowed", esc);
	if (archive_entry_xattr_count(e) > 0)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': extended attributes are not allowed", esc);
	if (archive_entry_acl_count(e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS | ARCHIVE_ENTRY_ACL_TYPE_DEFAULT |
				       ARCHIVE_ENTRY_ACL_TYPE_NFS4) > 0)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': ACLs are not allowed", esc);
	const char *ff = archive_entry_fflags_text(e);
	if (ff && *ff)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': file flags are not allowed", esc);
	return EIMG_OK;
}

/* Which member this is; *sub points at the name after files/ or keys/. */
static int classify(struct reader *r, const char *path, size_t len, const char *esc, const char **sub,
		    eimg_error *err)
{
	static const enum kind fixed[] = { K_MAGIC, K_MANIFEST, K_RUNTIME, K_ELF, K_EIF, K_MEASUREMENT,
					   K_SIGSTRUCT };
	*sub = NULL;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (strcmp(path, kind_name[fixed[i]]) == 0)
			return (int)fixed[i];
	for (int k = K_FILE; k <= K_KEY; k++) {
		size_t pl = strlen(kind_name[k]);
		if (len > pl && memcmp(path, kind_name[k], pl) == 0) {
			if (!valid_member_name(path + pl, len - pl))
				return -eimg_err(err, EIMG_EINVAL, r->src,
						 "member '%s': invalid name: expected %s followed by 1 to %d of A-Z a-z 0-9 . _ -, not '.' or '..'",
						 esc, kind_name[k], EIMG_IMAGE_MAX_PATH);
			*sub = path + pl;
			return k;
		}
	}
	if (r->nmembers == 0)
		return -eimg_err(err, EIMG_EINVAL, r->src,
				 "not an enclave image: first member is '%s', expected 'EIMAGE'", esc);
	return -eimg_err(err, EIMG_EINVAL, r->src, "member '%s': unknown member", esc);
}

static int cmp_member(const void *key, const void *elem)
{
	return strcmp(key, ((const struct eimg_member *)elem)->name);
}

/* Order, duplicates, exclusivity and declared size, all before reading data. */
static int check_place(struct reader *r, int k, const char *sub, const char *esc, int64_t size,
		       eimg_error *err)
{
	char pesc[ESC];
	eimg_image *img = r->img;
	if (r->nmembers == 0 && k != K_MAGIC)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"not an enclave image: first member is '%s', expected 'EIMAGE'", esc);
	if (k == K_FILE || k == K_KEY) {
		struct eimg_member *arr = k == K_FILE ? img->files : img->keys;
		size_t n = k == K_FILE ? img->nfiles : img->nkeys;
		if (n > 0 && bsearch(sub, arr, n, sizeof(*arr), cmp_member))
			return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': duplicate member", esc);
	} else if (r->seen[k]) {
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': duplicate member", esc);
	}
	if ((k == K_ELF && r->seen[K_EIF]) || (k == K_EIF && r->seen[K_ELF]))
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member '%s': the image already holds '%s'; exactly one of 'enclave.elf' and 'enclave.eif' is allowed",
				esc, kind_name[k == K_ELF ? K_EIF : K_ELF]);
	if (kind_rank[k] < r->last_rank ||
	    (kind_rank[k] == r->last_rank && (k == K_FILE || k == K_KEY) &&
	     strcmp(sub, r->prev + strlen(kind_name[k])) < 0))
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': out of order, must come before '%s'",
				esc, eimg_escape(r->prev, strlen(r->prev), pesc, sizeof(pesc)));
	if (k == K_SIGSTRUCT && r->seen[K_EIF])
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member 'sigstruct.bin': only an SGX image (enclave.elf) has one; a Nitro image is signed inside its EIF");
	if (r->nmembers >= EIMG_IMAGE_MAX_MEMBERS)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': more than %u members", esc,
				(unsigned)EIMG_IMAGE_MAX_MEMBERS);
	/* Declared size, before any allocation. */
	uint64_t limit;
	switch (k) {
	case K_MAGIC: limit = MAX_MAGIC_MEMBER; break;
	case K_MANIFEST: case K_RUNTIME: case K_MEASUREMENT: limit = EIMG_IMAGE_MAX_JSON; break;
	default: limit = EIMG_IMAGE_MAX_MEMBER; break;
	}
	if (size < 0)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': no valid size", esc);
	if (k == K_SIGSTRUCT && size != SIGSTRUCT_SIZE)
		return eimg_err(err, EIMG_EINVAL, r->src, "member 'sigstruct.bin': %lld bytes, expected %u",
				(long long)size, SIGSTRUCT_SIZE);
	if ((uint64_t)size > limit)
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': %lld bytes, above the limit of %llu",
				esc, (long long)size, (unsigned long long)limit);
	if (r->total + (uint64_t)size > EIMG_IMAGE_MAX_TOTAL)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"member '%s': members total more than the limit of %llu bytes", esc,
				(unsigned long long)EIMG_IMAGE_MAX_TOTAL);
	return EIMG_OK;
}

/* Reads the member's data.  When the input length is known, a declared size
 * beyond the end of the input is refused before allocating; otherwise the
 * buffer grows with the data actually present, so a short hostile stream
 * cannot make the reader allocate the declared size up front. */
static int read_data(struct reader *r, struct archive *a, const char *esc, size_t size, uint8_t **out,
		     eimg_error *err)
{
	uint8_t *buf = NULL;
	size_t got = 0, cap;
	int rc;
	if (r->in->len_known) {
		uint64_t data_at = (uint64_t)archive_read_header_position(a) + BLOCK;
		uint64_t left = r->in->known_len > data_at ? r->in->known_len - data_at : 0;
		if ((uint64_t)size > left)
			return eimg_err(err, EIMG_EINVAL, r->src,
					"member '%s': truncated archive: %zu bytes declared, at most %llu present",
					esc, size, (unsigned long long)left);
		cap = size;
	} else {
		cap = size < READ_CHUNK ? size : READ_CHUNK;
	}
	buf = malloc(cap + 1);
	if (!buf)
		return eimg_err_nomem(err);
	while (got < size) {
		if (got == cap) {
			size_t ncap = cap > size / 2 ? size : cap * 2;
			uint8_t *nb = realloc(buf, ncap + 1);
			if (!nb) {
				rc = eimg_err_nomem(err);
				goto fail;
			}
			buf = nb;
			cap = ncap;
		}
		la_ssize_t n = archive_read_data(a, buf + got, cap - got);
		if (n < 0) {
			const char *m = archive_error_string(a);
			char mesc[ESC];
			if (!m)
				m = "read error";
			rc = eimg_err(err, EIMG_EINVAL, r->src, "member '%s': truncated or damaged archive: %s",
				      esc, eimg_escape(m, strlen(m), mesc, sizeof(mesc)));
			goto fail;
		}
		if (n == 0) {
			rc = eimg_err(err, EIMG_EINVAL, r->src,
				      "member '%s': truncated archive: %zu of %zu bytes present", esc, got, size);
			goto fail;
		}
		got += (size_t)n;
	}
	buf[size] = '\0';
	*out = buf;
	return EIMG_OK;
fail:
	free(buf);
	return rc;
}

static int append_member(struct eimg_member **arr, size_t *n, size_t *cap, const char *name,
			 uint8_t *data, size_t size, eimg_error *err)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		struct eimg_member *na = realloc(*arr, ncap * sizeof(**arr));
		if (!na)
			return eimg_err_nomem(err);
		*arr = na;
		*cap = ncap;
	}
	char *nm = strdup(name);
	if (!nm)
		return eimg_err_nomem(err);
	(*arr)[*n].name = nm;
	(*arr)[*n].data = data;
	(*arr)[*n].size = size;
	(*n)++;
	return EIMG_OK;
}

/* One member: all checks, then its data into the image. */
static int read_member(struct reader *r, struct archive *a, struct archive_entry *e, eimg_error *err)
{
	char esc[ESC];
	const char *path = archive_entry_pathname(e);
	if (!path)
		return eimg_err(err, EIMG_EINVAL, r->src, "member #%zu: name cannot be decoded", r->nmembers + 1);
	size_t len = strlen(path);
	eimg_escape(path, len, esc, sizeof(esc));
	int rc, k;
	const char *sub;
	if ((rc = check_path_syntax(r, path, len, esc, err)) || (rc = check_type(r, e, esc, err)))
		return rc;
	if (path[len - 1] == '/')
		return eimg_err(err, EIMG_EINVAL, r->src, "member '%s': trailing slash", esc);
	if ((k = classify(r, path, len, esc, &sub, err)) < 0)
		return -k;
	int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
	if ((rc = check_place(r, k, sub, esc, size, err)))
		return rc;
	uint8_t *data = NULL;
	if ((rc = read_data(r, a, esc, (size_t)size, &data, err)))
		return rc;
	eimg_image *img = r->img;
	size_t sz = (size_t)size;
	switch (k) {
	case K_MAGIC:
		if (sz != MAGIC_LEN || memcmp(data, EIMG_IMAGE_MAGIC, MAGIC_LEN) != 0) {
			char cesc[64];
			eimg_escape((const char *)data, sz, cesc, sizeof(cesc));
			free(data);
			return eimg_err(err, EIMG_EINVAL, r->src,
					"member 'EIMAGE': format marker \"%s\", expected \"enclave-image 1\\n\" (not an enclave image, or an unsupported version)",
					cesc);
		}
		free(data);
		/* The image's own timestamp, kept when a tool rewrites the image
		 * (signing adds a member and changes nothing else). */
		if (archive_entry_mtime_is_set(e) && archive_entry_mtime(e) >= 0 &&
		    (uint64_t)archive_entry_mtime(e) <= EIMG_IMAGE_MAX_MTIME)
			img->mtime = (uint64_t)archive_entry_mtime(e);
		break;
	case K_MANIFEST:
	case K_RUNTIME:
	case K_MEASUREMENT:
		if ((rc = check_json(r->src, kind_name[k], data, sz, err))) {
			free(data);
			return rc;
		}
		if (k == K_MANIFEST) {
			img->manifest_json = (char *)data;
			img->manifest_len = sz;
		} else if (k == K_RUNTIME) {
			img->runtime_json = (char *)data;
			img->runtime_len = sz;
		} else {
			img->measurement_json = (char *)data;
			img->measurement_len = sz;
		}
		break;
	case K_ELF:
		img->elf = data;
		img->elf_size = sz;
		break;
	case K_EIF:
		img->eif = data;
		img->eif_size = sz;
		break;
	case K_SIGSTRUCT:
		img->sigstruct = data;
		img->sigstruct_size = sz;
		break;
	case K_FILE:
	case K_KEY:
		rc = k == K_FILE ? append_member(&img->files, &img->nfiles, &r->cap_files, sub, data, sz, err)
				 : append_member(&img->keys, &img->nkeys, &r->cap_keys, sub, data, sz, err);
		if (rc) {
			free(data);
			return rc;
		}
		break;
	default:
		free(data);
		return eimg_err(err, EIMG_EINTERNAL, r->src, "member '%s': unhandled kind", esc);
	}
	r->seen[k] = true;
	r->last_rank = kind_rank[k];
	snprintf(r->prev, sizeof(r->prev), "%s", path);
	r->nmembers++;
	r->total += sz;
	return EIMG_OK;
}

/* After libarchive's end of archive at eoa: the two-block marker, then only
 * zero bytes, up to the next multiple of RECORD bytes at most. */
static int check_tail(struct reader *r, uint64_t eoa, uint64_t total, uint64_t nonzero_end,
		      eimg_error *err)
{
	if (nonzero_end > eoa)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"data after the end of the archive (offset %llu): trailing garbage or a second archive",
				(unsigned long long)eoa);
	if (total < eoa + 2 * BLOCK)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"truncated archive: the end-of-archive marker (two zero blocks) at offset %llu is incomplete",
				(unsigned long long)eoa);
	if (total % BLOCK)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"archive length %llu is not a multiple of %u bytes (trailing data)",
				(unsigned long long)total, BLOCK);
	uint64_t end = eoa + 2 * BLOCK;
	uint64_t padded = (end + RECORD - 1) / RECORD * RECORD;
	if (total > padded)
		return eimg_err(err, EIMG_EINVAL, r->src,
				"%llu bytes of trailing data after the end-of-archive marker at offset %llu (more than the zero padding to a %u-byte record)",
				(unsigned long long)(total - end), (unsigned long long)eoa, RECORD);
	return EIMG_OK;
}

static int check_complete(struct reader *r, eimg_error *err)
{
	static const enum kind req[] = { K_MAGIC, K_MANIFEST, K_RUNTIME, K_MEASUREMENT };
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++)
		if (!r->seen[req[i]])
			return eimg_err(err, EIMG_EINVAL, r->src, "missing member '%s'", kind_name[req[i]]);
	if (!r->seen[K_ELF] && !r->seen[K_EIF])
		return eimg_err(err, EIMG_EINVAL, r->src, "missing member 'enclave.elf' or 'enclave.eif'");
	return EIMG_OK;
}

/* The reading loop; src describes the input for the tail check. */
static int read_archive(const char *name, struct archive *a, struct source *src, eimg_image **out,
			eimg_error *err)
{
	struct reader r;
	struct archive_entry *e;
	int rc;
	memset(&r, 0, sizeof(r));
	r.src = name;
	r.in = src;
	r.last_rank = -1;
	r.img = eimg_image_new();
	if (!r.img)
		return eimg_err_nomem(err);
	for (;;) {
		int ar = archive_read_next_header(a, &e);
		if (ar == ARCHIVE_EOF)
			break;
		if (ar != ARCHIVE_OK) {
			if (src->rc) {
				if (err)
					*err = src->cb_err;
				rc = src->rc;
				goto out;
			}
			const char *comp = compression_name(src->head, src->headlen);
			if (r.nmembers == 0 && comp) {
				rc = eimg_err(err, EIMG_EINVAL, name,
					      "compressed archive (%s): an enclave image is an uncompressed tar archive",
					      comp);
				goto out;
			}
			const char *m = archive_error_string(a);
			char mesc[ESC], pesc[ESC];
			if (!m)
				m = "unknown error";
			eimg_escape(m, strlen(m), mesc, sizeof(mesc));
			if (r.nmembers == 0)
				rc = eimg_err(err, EIMG_EINVAL, name, "not an enclave image (no valid tar header): %s",
					      mesc);
			else
				rc = eimg_err(err, EIMG_EINVAL, name,
					      "truncated or damaged archive after member '%s': %s",
					      eimg_escape(r.prev, strlen(r.prev), pesc, sizeof(pesc)), mesc);
			goto out;
		}
		if ((rc = read_member(&r, a, e, err))) {
			if (src->rc) { /* a read failure surfaced as a libarchive error */
				if (err)
					*err = src->cb_err;
				rc = src->rc;
			}
			goto out;
		}
	}
	if (r.nmembers == 0) {
		rc = eimg_err(err, EIMG_EINVAL, name, "not an enclave image: the archive is empty");
		goto out;
	}
	uint64_t eoa = (uint64_t)archive_read_header_position(a);
	/* The file reader drains what libarchive left unread (bounded). */
	if (src->fd >= 0) {
		const uint8_t *p;
		la_ssize_t n;
		uint64_t bound = (eoa + 2 * BLOCK + RECORD - 1) / RECORD * RECORD + BLOCK;
		while (src->delivered <= bound && (n = source_read_fd(src, &p)) > 0)
			;
		if (src->rc) {
			if (err)
				*err = src->cb_err;
			rc = src->rc;
			goto out;
		}
	}
	if ((rc = check_tail(&r, eoa, src->delivered, src->nonzero_end, err)) ||
	    (rc = check_complete(&r, err)))
		goto out;
	*out = r.img;
	r.img = NULL;
	rc = EIMG_OK;
out:
	eimg_image_free(r.img);
	return rc;
}

static struct archive *new_reader(eimg_error *err)
{
	struct archive *a = archive_read_new();
	if (!a) {
		eimg_err_nomem(err);
		return NULL;
	}
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_support_filter_none(a) != ARCHIVE_OK) {
		eimg_err(err, EIMG_EINTERNAL, NULL, "cannot set up the archive reader: %s",
			 archive_error_string(a) ? archive_error_string(a) : "unknown error");
		archive_read_free(a);
		return NULL;
	}
	return a;
}

int eimg_image_read_buffer(const char *source, const uint8_t *buf, size_t len, eimg_image **out,
			   eimg_error *err)
{
	struct archive *a;
	struct source src;
	int rc;
	if (!source)
		source = "<memory>";
	if (!buf && len)
		return eimg_err(err, EIMG_EUSAGE, source, "no buffer");
	if ((uint64_t)len > EIMG_IMAGE_MAX_ARCHIVE)
		return eimg_err(err, EIMG_EINVAL, source, "archive is %zu bytes, above the limit of %llu", len,
				(unsigned long long)EIMG_IMAGE_MAX_ARCHIVE);
	memset(&src, 0, sizeof(src));
	src.name = source;
	src.fd = -1;
	src.len_known = true;
	src.known_len = len;
	source_account(&src, buf ? buf : (const uint8_t *)"", len);
	if (len == 0)
		return eimg_err(err, EIMG_EINVAL, source, "not an enclave image: empty input");
	if (!(a = new_reader(err)))
		return err ? err->code : EIMG_ENOMEM;
	if (archive_read_open_memory(a, buf, len) != ARCHIVE_OK) {
		const char *comp = compression_name(buf, len);
		const char *m = archive_error_string(a);
		char mesc[ESC];
		if (comp)
			rc = eimg_err(err, EIMG_EINVAL, source,
				      "compressed archive (%s): an enclave image is an uncompressed tar archive", comp);
		else
			rc = eimg_err(err, EIMG_EINVAL, source, "not an enclave image (no valid tar header): %s",
				      eimg_escape(m ? m : "unknown error", strlen(m ? m : "unknown error"), mesc,
						  sizeof(mesc)));
		goto out;
	}
	rc = read_archive(source, a, &src, out, err);
out:
	archive_read_free(a);
	return rc;
}

int eimg_image_read_file(const char *path, eimg_image **out, eimg_error *err)
{
	struct archive *a = NULL;
	struct source src;
	struct stat st;
	int rc;
	bool is_stdin;
	if (!path)
		return eimg_err(err, EIMG_EUSAGE, NULL, "no input path");
	memset(&src, 0, sizeof(src));
	is_stdin = strcmp(path, "-") == 0;
	src.name = path;
	src.fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (src.fd < 0)
		return eimg_err_sys(err, path, "cannot open");
	if (!is_stdin)
		eimg_input_note_fd(src.fd, path); /* an output never replaces it */
	if (fstat(src.fd, &st) < 0) {
		rc = eimg_err_sys(err, path, "cannot stat");
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = eimg_err(err, EIMG_EINVAL, path, "is a directory, expected an enclave image");
		goto out;
	}
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > EIMG_IMAGE_MAX_ARCHIVE) {
		rc = eimg_err(err, EIMG_EINVAL, path, "file is %llu bytes, above the limit of %llu",
			      (unsigned long long)st.st_size, (unsigned long long)EIMG_IMAGE_MAX_ARCHIVE);
		goto out;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0) {
		rc = eimg_err(err, EIMG_EINVAL, path, "not an enclave image: empty file");
		goto out;
	}
	if (S_ISREG(st.st_mode)) {
		src.len_known = true;
		src.known_len = (uint64_t)st.st_size;
	}
	src.chunk = malloc(READ_CHUNK);
	if (!src.chunk) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (!(a = new_reader(err))) {
		rc = err ? err->code : EIMG_ENOMEM;
		goto out;
	}
	/* No skip callback: every byte passes through read_cb and is accounted for. */
	if (archive_read_open(a, &src, NULL, read_cb, NULL) != ARCHIVE_OK) {
		if (src.rc) {
			if (err)
				*err = src.cb_err;
			rc = src.rc;
			goto out;
		}
		const char *comp = compression_name(src.head, src.headlen);
		const char *m = archive_error_string(a);
		char mesc[ESC];
		if (comp)
			rc = eimg_err(err, EIMG_EINVAL, path,
				      "compressed archive (%s): an enclave image is an uncompressed tar archive", comp);
		else if (src.delivered == 0)
			rc = eimg_err(err, EIMG_EINVAL, path, "not an enclave image: empty input");
		else
			rc = eimg_err(err, EIMG_EINVAL, path, "not an enclave image (no valid tar header): %s",
				      eimg_escape(m ? m : "unknown error", strlen(m ? m : "unknown error"), mesc,
						  sizeof(mesc)));
		goto out;
	}
	rc = read_archive(path, a, &src, out, err);
out:
	if (a)
		archive_read_free(a);
	free(src.chunk);
	if (src.fd >= 0 && !is_stdin)
		close(src.fd);
	return rc;
}
