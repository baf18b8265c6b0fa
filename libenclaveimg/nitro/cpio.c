/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic cpio "newc" ramdisks for Nitro EIFs, written with libarchive.
 *
 * Entries are built here, never copied from stat(2): folders 0755, files 0644
 * or 0755 (when any execute bit is set on the host), symbolic links 0777,
 * uid = gid = 0, one mtime for all, inode numbers 1, 2, ... in bytewise path
 * order, nlink 2 for folders and 1 otherwise, device numbers 0.  Devices,
 * FIFOs, sockets, hard links and symbolic links leaving the tree are refused.
 * File data stays where it is until the archive is written: a host file, or
 * a range of an open file (a tar application, or the spool of a compressed
 * one: cpio_tar.c).  Reading a member back (the strict newc reader) is in
 * cpio_read.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "core/internal.h"
#include "nitro/nitro_int.h"
#include "nitro/oci_int.h"

#define PIECE (1u << 20)

struct centry {
	char *path;
	unsigned type;     /* AE_IFDIR, AE_IFREG, AE_IFLNK */
	unsigned mode;     /* permission bits */
	uint8_t *data;     /* file data or link target (owned), or NULL: */
	char *host;        /* a host file, read when the archive is written */
	dev_t dev;         /* ... which must still be this file */
	ino_t ino;
	uint64_t size;
	eimg_cpio_src *src; /* or size bytes at off of this open file */
	uint64_t off;
};

/* An open file that file data is read back from. */
struct eimg_cpio_src {
	eimg_cpio_src *next;
	int fd;
	char *name;
	bool check;        /* must still fstat as st when read back */
	struct stat st;
};

struct eimg_cpio {
	struct centry *e;
	size_t n, cap;
	uint64_t total;
	eimg_cpio_src *srcs;
	bool prepared;     /* parents added, sorted, checked */
};

eimg_cpio *eimg_cpio_new(void)
{
	return calloc(1, sizeof(eimg_cpio));
}

void eimg_cpio_free(eimg_cpio *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->e[i].path);
		free(c->e[i].data);
		free(c->e[i].host);
	}
	free(c->e);
	while (c->srcs) {
		eimg_cpio_src *s = c->srcs;
		c->srcs = s->next;
		close(s->fd);
		free(s->name);
		free(s);
	}
	free(c);
}

static int check_path(const char *path, eimg_error *err)
{
	char esc[128];
	size_t len = strlen(path);
	if (len == 0 || len > EIMG_CPIO_MAX_PATH)
		return eimg_err(err, EIMG_EINVAL, NULL, "ramdisk path of %zu bytes (expected 1 to %u)", len,
				EIMG_CPIO_MAX_PATH);
	const char *p = path;
	for (;;) {
		const char *s = strchr(p, '/');
		size_t k = s ? (size_t)(s - p) : strlen(p);
		if (k == 0 || (k == 1 && p[0] == '.') || (k == 2 && p[0] == '.' && p[1] == '.'))
			return eimg_err(err, EIMG_EINVAL, NULL, "ramdisk path \"%s\" is not canonical",
					eimg_escape(path, len, esc, sizeof(esc)));
		if (!s)
			break;
		p = s + 1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return eimg_err(err, EIMG_EINVAL, NULL, "ramdisk path \"%s\" has a control character",
					eimg_escape(path, len, esc, sizeof(esc)));
	return EIMG_OK;
}

static int add(eimg_cpio *c, const char *path, unsigned type, unsigned mode, uint8_t *data, uint64_t size,
	       eimg_error *err)
{
	int rc = check_path(path, err);
	if (rc)
		goto fail;
	if (c->n >= EIMG_CPIO_MAX_ENTRIES) {
		rc = eimg_err(err, EIMG_EINVAL, NULL, "ramdisk: more than %u entries", EIMG_CPIO_MAX_ENTRIES);
		goto fail;
	}
	if (size > EIMG_CPIO_MAX_FILE || c->total + size > EIMG_CPIO_MAX_TOTAL) {
		rc = eimg_err(err, EIMG_EINVAL, NULL, "ramdisk: above the limit of %llu bytes of file data",
			      (unsigned long long)EIMG_CPIO_MAX_TOTAL);
		goto fail;
	}
	if (c->n == c->cap) {
		size_t ncap = c->cap ? 2 * c->cap : 64;
		struct centry *ne = realloc(c->e, ncap * sizeof(*ne));
		if (!ne) {
			rc = eimg_err_nomem(err);
			goto fail;
		}
		c->e = ne;
		c->cap = ncap;
	}
	char *p = strdup(path);
	if (!p) {
		rc = eimg_err_nomem(err);
		goto fail;
	}
	c->e[c->n++] = (struct centry){ p, type, mode, data, NULL, 0, 0, size, NULL, 0 };
	c->prepared = false;
	c->total += size;
	return EIMG_OK;
fail:
	free(data);
	return rc;
}

static uint8_t *dup_bytes(const uint8_t *d, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);
	if (p && n)
		memcpy(p, d, n);
	return p;
}

int eimg_cpio_add_dir(eimg_cpio *c, const char *path, eimg_error *err)
{
	return add(c, path, AE_IFDIR, 0755, NULL, 0, err);
}

int eimg_cpio_add_file(eimg_cpio *c, const char *path, unsigned mode, const uint8_t *data, size_t size,
		       eimg_error *err)
{
	if (mode != 0644 && mode != 0755)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "ramdisk: file mode %o", mode);
	uint8_t *d = dup_bytes(data, size);
	if (!d)
		return eimg_err_nomem(err);
	return add(c, path, AE_IFREG, mode, d, size, err);
}

/* A relative link target must stay inside the tree, judged from the link's
 * folder; an absolute one is resolved inside the enclave's root. */
static int check_link(const char *path, const char *target, unsigned base, eimg_error *err)
{
	char e1[128], e2[128];
	size_t tl = strlen(target);
	if (tl == 0 || tl >= EIMG_CPIO_MAX_PATH)
		return eimg_err(err, EIMG_EINVAL, NULL, "symbolic link \"%s\": target of %zu bytes",
				eimg_escape(path, strlen(path), e1, sizeof(e1)), tl);
	if (target[0] == '/')
		return EIMG_OK;
	long depth = -(long)base;
	for (const char *p = path; (p = strchr(p, '/')); p++)
		depth++;
	const char *p = target;
	for (;;) {
		const char *s = strchr(p, '/');
		size_t k = s ? (size_t)(s - p) : strlen(p);
		if (k == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return eimg_err(err, EIMG_EINVAL, NULL,
						"symbolic link \"%s\" -> \"%s\" leaves the application tree",
						eimg_escape(path, strlen(path), e1, sizeof(e1)),
						eimg_escape(target, tl, e2, sizeof(e2)));
		} else if (k > 0 && !(k == 1 && p[0] == '.')) {
			depth++;
		}
		if (!s)
			break;
		p = s + 1;
	}
	return EIMG_OK;
}

int eimg_cpio_add_symlink(eimg_cpio *c, const char *path, const char *target, unsigned base, eimg_error *err)
{
	int rc = check_link(path, target, base, err);
	if (rc)
		return rc;
	uint8_t *d = dup_bytes((const uint8_t *)target, strlen(target) + 1);
	if (!d)
		return eimg_err_nomem(err);
	return add(c, path, AE_IFLNK, 0777, d, strlen(target), err);
}

bool eimg_cpio_has(const eimg_cpio *c, const char *path)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->e[i].path, path) == 0)
			return true;
	return false;
}

/* ---- host folders ---- */

/* A host file, left where it is: its data is read when the archive is
 * written, from the same file (device and inode) of the same size. */
static int add_host(eimg_cpio *c, const char *rel, const char *host, const struct stat *st, eimg_error *err)
{
	if ((uint64_t)st->st_size > EIMG_CPIO_MAX_FILE)
		return eimg_err(err, EIMG_EINVAL, host, "file of %llu bytes, above the ramdisk limit of %llu per file",
				(unsigned long long)st->st_size, (unsigned long long)EIMG_CPIO_MAX_FILE);
	char *h = strdup(host);
	if (!h)
		return eimg_err_nomem(err);
	int rc = add(c, rel, AE_IFREG, (st->st_mode & 0111) ? 0755 : 0644, NULL, (uint64_t)st->st_size, err);
	if (rc) {
		free(h);
		return rc;
	}
	struct centry *e = &c->e[c->n - 1];
	e->host = h;
	e->dev = st->st_dev;
	e->ino = st->st_ino;
	return EIMG_OK;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(eimg_cpio *c, int dfd, const char *host, const char *rel, int depth, unsigned base, eimg_error *err)
{
	DIR *d = NULL;
	char **names = NULL;
	size_t nn = 0, cap = 0;
	int rc = EIMG_OK;
	char *hp = NULL, *rp = NULL;

	if (depth > 256)
		return eimg_err(err, EIMG_EINVAL, host, "folders nested more than 256 deep");
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return eimg_err_sys(err, host, "cannot read folder");
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno) {
				rc = eimg_err_sys(err, host, "cannot read folder");
				goto out;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (nn == cap) {
			size_t ncap = cap ? 2 * cap : 32;
			char **nb = realloc(names, ncap * sizeof(*nb));
			if (!nb) {
				rc = eimg_err_nomem(err);
				goto out;
			}
			names = nb;
			cap = ncap;
		}
		if (!(names[nn] = strdup(de->d_name))) {
			rc = eimg_err_nomem(err);
			goto out;
		}
		nn++;
	}
	if (nn)
		qsort(names, nn, sizeof(*names), cmp_str);
	for (size_t i = 0; i < nn && rc == EIMG_OK; i++) {
		struct stat st;
		free(hp);
		free(rp);
		hp = rp = NULL;
		if (asprintf(&hp, "%s/%s", host, names[i]) < 0 || asprintf(&rp, "%s/%s", rel, names[i]) < 0) {
			hp = rp = NULL;
			rc = eimg_err_nomem(err);
			break;
		}
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = eimg_err_sys(err, hp, "cannot stat");
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = eimg_cpio_add_dir(c, rp, err);
			if (rc)
				break;
			int sub = openat(dirfd(d), names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				rc = eimg_err_sys(err, hp, "cannot open folder");
				break;
			}
			rc = walk(c, sub, hp, rp, depth + 1, base, err);
		} else if (S_ISREG(st.st_mode)) {
			rc = add_host(c, rp, hp, &st, err);
		} else if (S_ISLNK(st.st_mode)) {
			char target[EIMG_CPIO_MAX_PATH + 1];
			ssize_t k = readlinkat(dirfd(d), names[i], target, sizeof(target) - 1);
			if (k < 0) {
				rc = eimg_err_sys(err, hp, "cannot read symbolic link");
				break;
			}
			target[k] = '\0';
			rc = eimg_cpio_add_symlink(c, rp, target, base, err);
		} else {
			rc = eimg_err(err, EIMG_EINVAL, hp, "is a device, FIFO or socket: only files, folders and "
				      "symbolic links can go into an enclave");
		}
		if (rc && err && !err->file[0])
			eimg_err_context(err, hp, "cannot add to the ramdisk");
	}
out:
	free(hp);
	free(rp);
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

unsigned eimg_cpio_components(const char *p)
{
	unsigned n = 1;
	for (; *p; p++)
		n += *p == '/';
	return n;
}

int eimg_cpio_add_tree(eimg_cpio *c, const char *prefix, const char *dir, eimg_error *err)
{
	int rc = eimg_cpio_add_dir(c, prefix, err);
	if (rc)
		return rc;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return eimg_err_sys(err, dir, "cannot open folder");
	return walk(c, fd, dir, prefix, 0, eimg_cpio_components(prefix), err);
}

/* ---- file data in an open file ---- */

eimg_cpio_src *eimg_cpio_src_add(eimg_cpio *c, int fd, const char *name, bool check, eimg_error *err)
{
	eimg_cpio_src *s = calloc(1, sizeof(*s));
	if (!s || !(s->name = strdup(name))) {
		free(s);
		close(fd);
		eimg_err_nomem(err);
		return NULL;
	}
	s->fd = fd;
	s->check = check;
	s->next = c->srcs;
	c->srcs = s;
	if (fstat(fd, &s->st) < 0) {
		eimg_err_sys(err, name, "cannot stat");
		return NULL;
	}
	return s;
}

int eimg_cpio_add_range(eimg_cpio *c, const char *path, unsigned mode, eimg_cpio_src *src, uint64_t off,
			uint64_t size, eimg_error *err)
{
	if (mode != 0644 && mode != 0755)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "ramdisk: file mode %o", mode);
	int rc = add(c, path, AE_IFREG, mode, NULL, size, err);
	if (rc)
		return rc;
	c->e[c->n - 1].src = src;
	c->e[c->n - 1].off = off;
	return EIMG_OK;
}

/* ---- writing ---- */

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct centry *)a)->path, ((const struct centry *)b)->path);
}

/* Missing parents, sorted, duplicates merged (folders) or refused. */
static int prepare(eimg_cpio *c, eimg_error *err)
{
	char esc[160];
	int rc;
	if (c->prepared)
		return EIMG_OK;
	/* Missing parents.  Entries of one folder usually follow each other:
	 * skip the walk up when the parent is the one handled last. */
	size_t n0 = c->n;
	char *last = NULL;
	for (size_t i = 0; i < n0; i++) {
		char *p = strdup(c->e[i].path);
		if (!p) {
			free(last);
			return eimg_err_nomem(err);
		}
		char *s = strrchr(p, '/');
		if (s) {
			*s = '\0';
			if (last && strcmp(last, p) == 0) {
				free(p);
				continue;
			}
			free(last);
			last = strdup(p);
			for (;;) {
				rc = eimg_cpio_add_dir(c, p, err);
				if (rc) {
					free(p);
					free(last);
					return rc;
				}
				if (!(s = strrchr(p, '/')))
					break;
				*s = '\0';
			}
		}
		free(p);
	}
	free(last);
	qsort(c->e, c->n, sizeof(*c->e), cmp_entry);
	size_t w = 0;
	for (size_t i = 0; i < c->n; i++) {
		if (w > 0 && strcmp(c->e[w - 1].path, c->e[i].path) == 0) {
			if (c->e[w - 1].type == AE_IFDIR && c->e[i].type == AE_IFDIR) {
				free(c->e[i].path);
				free(c->e[i].data);
				free(c->e[i].host);
				continue;
			}
			rc = eimg_err(err, EIMG_EINVAL, NULL, "ramdisk: \"%s\" given twice",
				      eimg_escape(c->e[i].path, strlen(c->e[i].path), esc, sizeof(esc)));
			/* Keep the list consistent for eimg_cpio_free(). */
			while (i < c->n)
				c->e[w++] = c->e[i++];
			c->n = w;
			return rc;
		}
		c->e[w++] = c->e[i];
	}
	c->n = w;
	c->prepared = true;
	return EIMG_OK;
}

#define PAD4(x) (((x) + 3) & ~(uint64_t)3)

int eimg_cpio_size(eimg_cpio *c, uint64_t *size, eimg_error *err)
{
	int rc = prepare(c, err);
	if (rc)
		return rc;
	/* newc: 110-byte header and the name with its NUL, padded to 4; the
	 * data padded to 4; the trailer entry "TRAILER!!!". */
	uint64_t n = PAD4(110 + sizeof("TRAILER!!!"));
	for (size_t i = 0; i < c->n; i++)
		n += PAD4(110 + strlen(c->e[i].path) + 1) + (c->e[i].type == AE_IFDIR ? 0 : PAD4(c->e[i].size));
	*size = n;
	return EIMG_OK;
}

/* Where libarchive's output goes; the first error is kept here. */
struct osink {
	int (*write)(void *ctx, const void *p, size_t n, eimg_error *err);
	void *ctx;
	eimg_error err;
	bool failed;
};

static la_ssize_t osink_write(struct archive *a, void *ud, const void *buf, size_t n)
{
	struct osink *o = ud;
	(void)a;
	if (o->write(o->ctx, buf, n, &o->err)) {
		o->failed = true;
		return -1;
	}
	return (la_ssize_t)n;
}

static int la_fail(struct archive *a, struct osink *o, const char *what, eimg_error *err)
{
	if (o->failed) {
		if (err)
			*err = o->err;
		return o->err.code ? o->err.code : EIMG_EIO;
	}
	char esc[160];
	return eimg_err(err, EIMG_EINVAL, NULL, "ramdisk entry \"%s\": %s", eimg_escape(what, strlen(what), esc, sizeof(esc)),
			archive_error_string(a) ? archive_error_string(a) : "cannot write");
}

/* size bytes of file data at off of fd, in pieces. */
static int put_data(struct archive *a, struct osink *o, const struct centry *ce, int fd, uint64_t off,
		    const char *name, uint8_t *buf, eimg_error *err)
{
	for (uint64_t done = 0, hinted = off; done < ce->size;) {
		size_t want = ce->size - done > PIECE ? PIECE : (size_t)(ce->size - done);
		eimg_read_ahead(fd, off + done, off + ce->size, &hinted);
		int rc = eimg_pread_full(fd, buf, want, off + done, name, "file shrank while being read", err);
		if (rc)
			return rc;
		if (archive_write_data(a, buf, want) != (la_ssize_t)want)
			return la_fail(a, o, ce->path, err);
		done += want;
	}
	return EIMG_OK;
}

/* A host file's data: the same file, of the size seen. */
static int put_host(struct archive *a, struct osink *o, const struct centry *ce, uint8_t *buf, eimg_error *err)
{
	struct stat st;
	int fd = open(ce->host, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return eimg_err_sys(err, ce->host, "cannot open");
	eimg_input_note_fd(fd, ce->host);
	int rc = EIMG_OK;
	if (fstat(fd, &st) < 0 || st.st_dev != ce->dev || st.st_ino != ce->ino || (uint64_t)st.st_size != ce->size)
		rc = eimg_err(err, EIMG_EINVAL, ce->host, "changed while the ramdisk was being written");
	if (rc == EIMG_OK)
		rc = put_data(a, o, ce, fd, 0, ce->host, buf, err);
	close(fd);
	return rc;
}

/* Data in an open file, which must be as it was when the entry was added. */
static int put_src(struct archive *a, struct osink *o, const struct centry *ce, uint8_t *buf, eimg_error *err)
{
	const eimg_cpio_src *s = ce->src;
	struct stat st;
	if (s->check && (fstat(s->fd, &st) < 0 || st.st_dev != s->st.st_dev || st.st_ino != s->st.st_ino ||
			 st.st_size != s->st.st_size || st.st_mtim.tv_sec != s->st.st_mtim.tv_sec ||
			 st.st_mtim.tv_nsec != s->st.st_mtim.tv_nsec || st.st_ctim.tv_sec != s->st.st_ctim.tv_sec ||
			 st.st_ctim.tv_nsec != s->st.st_ctim.tv_nsec))
		return eimg_err(err, EIMG_EINVAL, s->name, "changed while the ramdisk was being written");
	return put_data(a, o, ce, s->fd, ce->off, s->name, buf, err);
}

static void set_entry(struct archive_entry *e, const struct centry *ce, la_int64_t ino, uint64_t mtime)
{
	archive_entry_clear(e);
	archive_entry_set_pathname(e, ce->path);
	archive_entry_set_filetype(e, ce->type);
	archive_entry_set_perm(e, ce->mode);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_nlink(e, ce->type == AE_IFDIR ? 2 : 1);
	archive_entry_set_ino(e, ino);
	archive_entry_set_dev(e, 0);
	archive_entry_set_mtime(e, (time_t)mtime, 0);
	if (ce->type == AE_IFLNK)
		archive_entry_set_symlink(e, (const char *)ce->data);
	archive_entry_set_size(e, ce->type == AE_IFDIR ? 0 : (la_int64_t)ce->size);
}

static int put_entry(struct archive *a, struct osink *o, struct archive_entry *e, const struct centry *ce,
		     uint8_t *buf, eimg_error *err)
{
	if (archive_write_header(a, e) != ARCHIVE_OK)
		return la_fail(a, o, ce->path, err);
	if (ce->type != AE_IFREG || ce->size == 0)
		return EIMG_OK;
	if (ce->host)
		return put_host(a, o, ce, buf, err);
	if (ce->src)
		return put_src(a, o, ce, buf, err);
	for (uint64_t off = 0; off < ce->size;) {
		size_t k = ce->size - off > PIECE ? PIECE : (size_t)(ce->size - off);
		la_ssize_t wr = archive_write_data(a, ce->data + off, k);
		if (wr <= 0)
			return la_fail(a, o, ce->path, err);
		off += (uint64_t)wr;
	}
	return EIMG_OK;
}

int eimg_cpio_write_to(eimg_cpio *c, uint64_t mtime, int (*wr)(void *ctx, const void *p, size_t n, eimg_error *err),
		       void *ctx, eimg_error *err)
{
	struct osink o = { wr, ctx, { 0 }, false };
	struct archive *a = NULL;
	struct archive_entry *e = NULL;
	uint8_t *buf = NULL;
	int rc = prepare(c, err);
	if (rc)
		return rc;
	a = archive_write_new();
	e = archive_entry_new();
	buf = malloc(PIECE);
	if (!a || !e || !buf) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK || archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open(a, &o, NULL, osink_write, NULL) != ARCHIVE_OK) {
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "ramdisk: %s", archive_error_string(a));
		goto out;
	}
	for (size_t i = 0; i < c->n && !rc; i++) {
		set_entry(e, &c->e[i], (la_int64_t)(i + 1), mtime);
		rc = put_entry(a, &o, e, &c->e[i], buf, err);
	}
	if (!rc && archive_write_close(a) != ARCHIVE_OK)
		rc = la_fail(a, &o, "TRAILER!!!", err);
out:
	free(buf);
	archive_entry_free(e);
	archive_write_free(a);
	return rc;
}

int eimg_cpio_write(eimg_cpio *c, uint64_t mtime, uint8_t **out, size_t *len, eimg_error *err)
{
	struct eimg_newc_mem m = { NULL, 0, 0, 0 };
	int rc = eimg_cpio_write_to(c, mtime, eimg_newc_mem_write, &m, err);
	if (rc) {
		free(m.b);
		return rc;
	}
	*out = m.b;
	*len = m.len;
	return EIMG_OK;
}
