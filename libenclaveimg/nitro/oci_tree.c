/* SPDX-License-Identifier: Apache-2.0 */
/* The merged file tree of a container image's layers.
 *
 * Only metadata lives in memory (a node per path).  File data of a layer
 * that is not compressed stays where it is: the node records the blob (a
 * source) and the offset of the data in it, and the ramdisk writer reads it
 * from there.  The blob's digests are computed over that file (by the
 * verifier below, while the ramdisk is written), so the tree keeps the
 * blob's descriptor open and, before reading a file from it, checks that it
 * is still the same file, unchanged: device, inode, size, mtime and ctime
 * as when it was opened, before any byte of it was read (hashing the blob
 * again would cost another pass over it; ctime cannot be set back by a
 * writer, so a file written to in between is refused, not trusted).  Other file
 * data (compressed layers, files enclave-build adds) goes to an unlinked
 * temporary spool file as the layers stream past, and is read back from
 * there.  Whiteouts remove nodes; a path written again gets a new node (a
 * hard link made earlier keeps the old content, as on a real file system). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eimg/hash.h"
#include "core/internal.h"
#include "nitro/oci_int.h"

#define NONE UINT32_MAX
#define TOMB (UINT32_MAX - 1)

struct node {
	char *path;
	char *target;              /* symlink target */
	uint32_t parent, first_child, next_sibling;
	uint32_t link_to;          /* hard link: the REG node it shares data with */
	uint8_t type;
	bool live;
	unsigned mode;
	unsigned layer, touched;   /* added in; last layer that added something below */
	uint32_t src;              /* data: 0 the spool, else source src - 1 */
	uint64_t off, size;        /* data: where in the spool or the source */
};

struct source {
	int fd;
	struct stat st;            /* as registered */
};

/* Digests checked on the verifier thread, in order. */
struct check {
	struct source s;           /* a copy: t->src may move meanwhile */
	uint64_t base, size;
	struct eimg_oci_digests d;
};
struct verifier {
	struct check *q;           /* EIMG_OCI_MAX_LAYERS + 1 */
	uint32_t n, next;          /* queued; the next one to check */
	bool closed, abort;
	int rc;                    /* the first failure, its message in err */
	eimg_error err;
	uint8_t *buf;
	pthread_t th;
	pthread_mutex_t m;
	pthread_cond_t cv;
};

struct eimg_oci_tree {
	struct node *n;
	uint32_t count, cap;
	uint32_t *slot;            /* hash: node index, NONE empty, TOMB deleted */
	uint32_t nslots, used;
	uint32_t root_first;       /* first top-level node */
	int spool;
	uint64_t spool_len, bytes;
	struct source *src;
	uint32_t nsrc;
	struct verifier *v;
};

eimg_oci_tree *eimg_oci_tree_new(void)
{
	eimg_oci_tree *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->spool = -1;
	t->root_first = NONE;
	t->nslots = 1024;
	t->slot = malloc(t->nslots * sizeof(uint32_t));
	if (!t->slot) {
		free(t);
		return NULL;
	}
	memset(t->slot, 0xff, t->nslots * sizeof(uint32_t));
	eimg_error ignored; /* the caller names the failure */
	t->spool = eimg_scratch_fd(NULL, "the image's files", &ignored);
	if (t->spool < 0) {
		eimg_oci_tree_free(t);
		return NULL;
	}
	return t;
}

#define COPY_BUF (1u << 20)

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

/* ---------------------------------------------------------------- digests
 * An uncompressed layer read in place is parsed without being hashed; its
 * digests are computed here, on a thread that reads the blob (the same
 * file: the source's identity is checked before and after) while the
 * layers are read and the ramdisk is written.  eimg_oci_tree_write waits
 * for it and fails if a digest does not match: the caller's output is then
 * never made (an atomic output), as when the check came first. */

static int hash_source(struct verifier *v, const struct check *c, uint8_t d[32], eimg_error *err)
{
	const struct source *s = &c->s;
	struct stat st;
	eimg_hash *h = eimg_hash_new(256);
	uint64_t off = c->base, end = c->base + c->size, hinted = off;
	int rc = h ? EIMG_OK : eimg_err_nomem(err);
	while (!rc && off < end && !__atomic_load_n(&v->abort, __ATOMIC_RELAXED)) {
		size_t k = end - off > COPY_BUF ? COPY_BUF : (size_t)(end - off);
		eimg_read_ahead(s->fd, off, end, &hinted);
		ssize_t r = pread(s->fd, v->buf, k, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = eimg_err_sys(err, NULL, "%s", c->d.name);
		else if (r == 0)
			rc = eimg_err(err, EIMG_EINVAL, NULL, "%s: the blob changed while it was being read", c->d.name);
		else if (eimg_hash_update(h, v->buf, (size_t)r))
			rc = eimg_err(err, EIMG_EINTERNAL, NULL, "%s: hashing failed", c->d.name);
		off += r > 0 ? (uint64_t)r : 0;
	}
	if (!rc && (fstat(s->fd, &st) < 0 || !same_file(&st, &s->st)))
		rc = eimg_err(err, EIMG_EINVAL, NULL, "%s: the blob changed while it was being read", c->d.name);
	if (!rc && eimg_hash_final(h, d))
		rc = eimg_err(err, EIMG_EINTERNAL, NULL, "%s: hashing failed", c->d.name);
	eimg_hash_free(h);
	return rc;
}

static void *verify(void *arg)
{
	struct verifier *v = arg;
	pthread_mutex_lock(&v->m);
	for (;;) {
		while (v->next == v->n && !v->closed && !v->abort)
			pthread_cond_wait(&v->cv, &v->m);
		if (v->abort || v->rc || v->next == v->n)
			break;
		struct check c = v->q[v->next];
		pthread_mutex_unlock(&v->m);
		eimg_error e;
		uint8_t d[32];
		int rc = hash_source(v, &c, d, &e);
		if (!rc)
			rc = eimg_oci_digests_check(&c.d, d, d, &e);
		pthread_mutex_lock(&v->m);
		if (rc && !v->abort) {
			v->rc = rc;
			v->err = e;
		}
		v->next++;
	}
	pthread_mutex_unlock(&v->m);
	return NULL;
}

int eimg_oci_tree_check_later(eimg_oci_tree *t, uint32_t src, uint64_t base, uint64_t size,
			      const struct eimg_oci_digests *d, eimg_error *err)
{
	struct verifier *v = t->v;
	if (!v) {
		if (!(v = calloc(1, sizeof(*v))) || !(v->q = calloc(EIMG_OCI_MAX_LAYERS + 1, sizeof(*v->q))) ||
		    !(v->buf = malloc(COPY_BUF))) {
			if (v)
				free(v->q);
			free(v);
			return eimg_err_nomem(err);
		}
		t->v = v;
		if (pthread_mutex_init(&v->m, NULL) || pthread_cond_init(&v->cv, NULL) ||
		    pthread_create(&v->th, NULL, verify, v)) {
			v->closed = true; /* (none of them is left to destroy on Linux) */
			return eimg_err(err, EIMG_EUNSUPPORTED, NULL, "no thread to check digests");
		}
	}
	if (v->closed || src >= t->nsrc || v->n > EIMG_OCI_MAX_LAYERS)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL, "no thread to check digests");
	pthread_mutex_lock(&v->m);
	v->q[v->n++] = (struct check){ t->src[src], base, size, *d };
	pthread_cond_signal(&v->cv);
	pthread_mutex_unlock(&v->m);
	return EIMG_OK;
}

/* Waits for the verifier (after the checks queued, or stops it at once):
 * its status. */
static int verifier_end(eimg_oci_tree *t, bool abort, eimg_error *err)
{
	struct verifier *v = t->v;
	int rc = EIMG_OK;
	if (!v)
		return EIMG_OK;
	if (!v->closed) {
		pthread_mutex_lock(&v->m);
		v->closed = true;
		__atomic_store_n(&v->abort, abort, __ATOMIC_RELAXED); /* also read unlocked while hashing */
		pthread_cond_signal(&v->cv);
		pthread_mutex_unlock(&v->m);
		pthread_join(v->th, NULL);
		pthread_cond_destroy(&v->cv);
		pthread_mutex_destroy(&v->m);
		if ((rc = v->rc) && err)
			*err = v->err;
	}
	free(v->q);
	free(v->buf);
	free(v);
	t->v = NULL;
	return rc;
}

void eimg_oci_tree_free(eimg_oci_tree *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->count; i++) {
		free(t->n[i].path);
		free(t->n[i].target);
	}
	free(t->n);
	free(t->slot);
	if (t->spool >= 0)
		close(t->spool);
	verifier_end(t, true, NULL);
	for (uint32_t i = 0; i < t->nsrc; i++)
		close(t->src[i].fd);
	free(t->src);
	free(t);
}

int eimg_oci_tree_source(eimg_oci_tree *t, const struct eimg_oci_place *p, uint32_t *id, eimg_error *err)
{
	struct source x = { -1, p->st };
	if (t->nsrc >= EIMG_OCI_MAX_LAYERS + 1)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "more than %u sources of file data", EIMG_OCI_MAX_LAYERS + 1);
	if (!S_ISREG(x.st.st_mode))
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL, "a layer's blob is not a regular file");
	struct source *ns = realloc(t->src, (t->nsrc + 1) * sizeof(*ns));
	if (!ns)
		return eimg_err_nomem(err);
	t->src = ns;
	if ((x.fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 3)) < 0)
		return eimg_err_sys(err, NULL, "a layer's blob");
	t->src[t->nsrc] = x;
	*id = t->nsrc++;
	return EIMG_OK;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

/* The slot of path (live), or of where it would go. */
static uint32_t find_slot(const eimg_oci_tree *t, const char *path, bool *found)
{
	uint32_t mask = t->nslots - 1, i = hash(path) & mask, free_slot = NONE;
	for (;;) {
		uint32_t v = t->slot[i];
		if (v == NONE) {
			*found = false;
			return free_slot != NONE ? free_slot : i;
		}
		if (v == TOMB) {
			if (free_slot == NONE)
				free_slot = i;
		} else if (strcmp(t->n[v].path, path) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & mask;
	}
}

static uint32_t lookup(const eimg_oci_tree *t, const char *path)
{
	bool found;
	uint32_t s = find_slot(t, path, &found);
	return found ? t->slot[s] : NONE;
}

static int rehash(eimg_oci_tree *t, eimg_error *err)
{
	uint32_t n = t->nslots * 2;
	uint32_t *ns = malloc(n * sizeof(uint32_t));
	if (!ns)
		return eimg_err_nomem(err);
	memset(ns, 0xff, n * sizeof(uint32_t));
	free(t->slot);
	t->slot = ns;
	t->nslots = n;
	t->used = 0;
	for (uint32_t i = 0; i < t->count; i++) {
		if (!t->n[i].live)
			continue;
		bool found;
		ns[find_slot(t, t->n[i].path, &found)] = i;
		t->used++;
	}
	return EIMG_OK;
}

bool eimg_oci_tree_has(const eimg_oci_tree *t, const char *path)
{
	return lookup(t, path) != NONE;
}

uint32_t eimg_oci_tree_count(const eimg_oci_tree *t)
{
	return t->count;
}

uint64_t eimg_oci_tree_bytes(const eimg_oci_tree *t)
{
	return t->bytes;
}

uint64_t eimg_oci_tree_spooled(const eimg_oci_tree *t)
{
	return t->spool_len;
}

/* Removes node i and everything under it; with keep_newer, only what layers
 * below `layer` left (folders holding newer entries stay). */
static void remove_node(eimg_oci_tree *t, uint32_t i, unsigned layer, bool keep_newer)
{
	struct node *x = &t->n[i];
	if (!x->live)
		return;
	if (x->type == EIMG_OCI_DIR)
		for (uint32_t c = x->first_child; c != NONE; c = t->n[c].next_sibling)
			remove_node(t, c, layer, keep_newer);
	x = &t->n[i];
	if (keep_newer && (x->layer >= layer || x->touched >= layer))
		return;
	bool found;
	uint32_t s = find_slot(t, x->path, &found);
	if (found)
		t->slot[s] = TOMB;
	x->live = false;
}

static const char *esc_path(const char *p, char *buf, size_t size)
{
	return eimg_escape(p, strlen(p), buf, size);
}

static int new_node(eimg_oci_tree *t, const char *path, uint32_t parent, eimg_error *err)
{
	if (t->count >= EIMG_OCI_MAX_ENTRIES)
		return eimg_err(err, EIMG_EINVAL, NULL, "more than %u entries in the image's layers (limit)",
				EIMG_OCI_MAX_ENTRIES);
	if ((t->used + 1) * 4 >= t->nslots * 3 && rehash(t, err))
		return EIMG_ENOMEM;
	if (t->count == t->cap) {
		uint32_t nc = t->cap ? t->cap * 2 : 1024;
		struct node *nn = realloc(t->n, nc * sizeof(*nn));
		if (!nn)
			return eimg_err_nomem(err);
		t->n = nn;
		t->cap = nc;
	}
	struct node *x = &t->n[t->count];
	memset(x, 0, sizeof(*x));
	x->path = strdup(path);
	if (!x->path)
		return eimg_err_nomem(err);
	x->parent = parent;
	x->first_child = NONE;
	x->link_to = NONE;
	x->live = true;
	uint32_t *head = parent == NONE ? &t->root_first : &t->n[parent].first_child;
	x->next_sibling = *head;
	*head = t->count;
	bool found;
	t->slot[find_slot(t, path, &found)] = t->count;
	t->used++;
	t->count++;
	return EIMG_OK;
}

/* The folder that holds path, created (0755) with its parents when missing;
 * NONE for a top-level path.  A non-folder on the way is refused. */
static int parent_of(eimg_oci_tree *t, const char *path, unsigned layer, uint32_t *out, eimg_error *err)
{
	char buf[EIMG_OCI_MAX_PATH + 1], esc[160];
	const char *s = strrchr(path, '/');
	if (!s) {
		*out = NONE;
		return EIMG_OK;
	}
	size_t n = (size_t)(s - path);
	memcpy(buf, path, n);
	buf[n] = '\0';
	uint32_t p = lookup(t, buf);
	if (p == NONE) {
		uint32_t pp;
		int rc = parent_of(t, buf, layer, &pp, err);
		if (rc)
			return rc;
		if ((rc = new_node(t, buf, pp, err)))
			return rc;
		p = t->count - 1;
		t->n[p].type = EIMG_OCI_DIR;
		t->n[p].mode = 0755;
		t->n[p].layer = layer;
	} else if (t->n[p].type != EIMG_OCI_DIR) {
		return eimg_err(err, EIMG_EINVAL, NULL, "'%s' on the way is not a folder", esc_path(buf, esc, sizeof(esc)));
	}
	for (uint32_t q = p; q != NONE; q = t->n[q].parent)
		if (t->n[q].touched < layer)
			t->n[q].touched = layer;
	*out = p;
	return EIMG_OK;
}

static int spool_data(eimg_oci_tree *t, struct node *x, const struct eimg_oci_add *a, eimg_error *err)
{
	uint8_t buf[65536];
	uint64_t left = a->size;
	if (t->bytes + a->size > EIMG_OCI_MAX_TOTAL)
		return eimg_err(err, EIMG_EINVAL, NULL, "the image's files hold more than %llu bytes (limit)",
				(unsigned long long)EIMG_OCI_MAX_TOTAL);
	x->size = a->size;
	if (a->in_place) {
		if (a->src >= t->nsrc || a->src_off > (uint64_t)t->src[a->src].st.st_size ||
		    a->size > (uint64_t)t->src[a->src].st.st_size - a->src_off)
			return eimg_err(err, EIMG_EINTERNAL, NULL, "file data outside its layer's blob");
		x->src = a->src + 1;
		x->off = a->src_off;
		t->bytes += a->size;
		return EIMG_OK;
	}
	x->off = t->spool_len;
	while (left) {
		size_t k = left > sizeof(buf) ? sizeof(buf) : (size_t)left;
		int rc = a->rd(a->rd_ctx, buf, k, err);
		if (rc)
			return rc;
		if ((rc = eimg_pwrite_all(t->spool, buf, k, t->spool_len, NULL, "writing the image's files to a temporary file",
					  err)))
			return rc;
		t->spool_len += k;
		left -= k;
	}
	t->bytes += a->size;
	return EIMG_OK;
}

static int add_link(eimg_oci_tree *t, struct node *x, const struct eimg_oci_add *a, eimg_error *err)
{
	char esc[160];
	uint32_t to = lookup(t, a->target);
	if (to != NONE && t->n[to].type == EIMG_OCI_HARDLINK)
		to = t->n[to].link_to;
	if (to == NONE || t->n[to].type != EIMG_OCI_REG)
		return eimg_err(err, EIMG_EINVAL, NULL, "hard link to '%s', which is not a regular file here",
				esc_path(a->target, esc, sizeof(esc)));
	x->link_to = to;
	return EIMG_OK;
}

int eimg_oci_tree_add(eimg_oci_tree *t, const struct eimg_oci_add *a, eimg_error *err)
{
	uint32_t i = lookup(t, a->path), parent;
	if (i != NONE && a->type == EIMG_OCI_DIR && t->n[i].type == EIMG_OCI_DIR) {
		t->n[i].mode = a->mode & 07777;
		t->n[i].layer = a->layer;
		return parent_of(t, a->path, a->layer, &parent, err);
	}
	if (i != NONE)
		remove_node(t, i, 0, false);
	int rc = parent_of(t, a->path, a->layer, &parent, err);
	if (!rc)
		rc = new_node(t, a->path, parent, err);
	if (rc)
		return rc;
	struct node *x = &t->n[t->count - 1];
	x->type = (uint8_t)a->type;
	x->mode = a->mode & 07777;
	x->layer = x->touched = a->layer;
	switch (a->type) {
	case EIMG_OCI_REG:
		return spool_data(t, x, a, err);
	case EIMG_OCI_SYMLINK:
		x->mode = 0777;
		x->target = strdup(a->target);
		return x->target ? EIMG_OK : eimg_err_nomem(err);
	case EIMG_OCI_HARDLINK:
		return add_link(t, x, a, err);
	default:
		return EIMG_OK;
	}
}

int eimg_oci_tree_whiteout(eimg_oci_tree *t, const char *path, unsigned layer, eimg_error *err)
{
	(void)err;
	uint32_t i = lookup(t, path);
	if (i != NONE)
		remove_node(t, i, layer, true);
	return EIMG_OK;
}

int eimg_oci_tree_opaque(eimg_oci_tree *t, const char *path, unsigned layer, eimg_error *err)
{
	uint32_t i = lookup(t, path);
	if (i == NONE) {
		/* The folder itself stays (as an empty folder made by this layer). */
		struct eimg_oci_add a = { .path = path, .type = EIMG_OCI_DIR, .mode = 0755, .layer = layer };
		return eimg_oci_tree_add(t, &a, err);
	}
	if (t->n[i].type != EIMG_OCI_DIR)
		return EIMG_OK;
	for (uint32_t c = t->n[i].first_child; c != NONE; c = t->n[c].next_sibling)
		remove_node(t, c, layer, true);
	return EIMG_OK;
}

/* ---------------------------------------------------------------- writing */

static int cmp_path(const void *a, const void *b, void *ctx)
{
	const struct node *n = ctx;
	return strcmp(n[*(const uint32_t *)a].path, n[*(const uint32_t *)b].path);
}

/* A regular file's data, from the spool or in place from its blob. */
static int copy_data(eimg_oci_tree *t, const struct node *f, uint8_t *buf, struct eimg_newc_out *o, eimg_error *err)
{
	int fd = t->spool;
	uint64_t off = f->off, size = f->size, end = f->off + f->size, hinted = off;
	if (f->src) {
		struct stat st;
		const struct source *s = &t->src[f->src - 1];
		if (fstat(s->fd, &st) < 0 || !same_file(&st, &s->st))
			return eimg_err(err, EIMG_EINVAL, NULL, "a layer's blob changed while the ramdisk was being written");
		fd = s->fd;
	}
	while (size) {
		size_t k = size > COPY_BUF ? COPY_BUF : (size_t)size;
		if (f->src)
			eimg_read_ahead(fd, off, end, &hinted);
		int rc = eimg_pread_full(fd, buf, k, off, NULL, "a layer's blob changed while the ramdisk was being written", err);
		if (rc == EIMG_OK)
			rc = eimg_newc_write(o, buf, k, err);
		if (rc)
			return rc;
		off += k;
		size -= k;
	}
	return EIMG_OK;
}

struct wstate {
	uint32_t *nlink, *ino; /* per REG node: live names, inode number given */
	uint8_t *buf;          /* COPY_BUF bytes */
	uint32_t next_ino;
	uint32_t mtime;
	const char *prefix;
};

static int write_node(eimg_oci_tree *t, uint32_t i, struct wstate *w, struct eimg_newc_out *o, eimg_error *err)
{
	const struct node *x = &t->n[i];
	char name[EIMG_OCI_MAX_PATH + 64];
	struct eimg_newc_hdr h = { .mtime = w->mtime, .nlink = 1, .name = name };
	snprintf(name, sizeof(name), "%s/%s", w->prefix, x->path);
	const struct node *f = x->type == EIMG_OCI_HARDLINK ? &t->n[x->link_to] : x;
	uint32_t fid = x->type == EIMG_OCI_HARDLINK ? x->link_to : i;
	bool data = true;
	switch (x->type) {
	case EIMG_OCI_DIR:
		h.mode = 040000 | x->mode;
		h.nlink = 2;
		h.ino = w->next_ino++;
		return eimg_newc_header(o, &h, err);
	case EIMG_OCI_SYMLINK:
		h.mode = 0120000 | 0777;
		h.ino = w->next_ino++;
		h.size = (uint32_t)strlen(x->target);
		int rc = eimg_newc_header(o, &h, err);
		return rc ? rc : eimg_newc_write(o, x->target, h.size, err);
	default:
		h.mode = 0100000 | f->mode;
		h.nlink = w->nlink[fid];
		if (w->ino[fid]) {
			h.ino = w->ino[fid];
			data = false;   /* a later name of a file already written: a hard link */
		} else {
			h.ino = w->ino[fid] = w->next_ino++;
		}
		h.size = data ? (uint32_t)f->size : 0;
		rc = eimg_newc_header(o, &h, err);
		return rc || !data ? rc : copy_data(t, f, w->buf, o, err);
	}
}

static int write_extra(const struct eimg_oci_extra *e, struct wstate *w, struct eimg_newc_out *o, eimg_error *err)
{
	struct eimg_newc_hdr h = { .ino = w->next_ino++, .mode = 0100644, .nlink = 1, .mtime = w->mtime,
				   .size = (uint32_t)e->size, .name = e->path };
	int rc = eimg_newc_header(o, &h, err);
	return rc ? rc : eimg_newc_write(o, e->data, e->size, err);
}

static int write_all(eimg_oci_tree *t, const uint32_t *idx, uint32_t n, struct wstate *w,
		     const struct eimg_oci_extra *extra, size_t nextra, struct eimg_newc_out *o, eimg_error *err)
{
	int rc = EIMG_OK;
	for (size_t k = 0; k < nextra && !rc; k++) {
		if (strcmp(extra[k].path, w->prefix) >= 0 || (k && strcmp(extra[k - 1].path, extra[k].path) >= 0))
			return eimg_err(err, EIMG_EINTERNAL, NULL, "ramdisk: extra files out of order");
		rc = write_extra(&extra[k], w, o, err);
	}
	struct eimg_newc_hdr root = { .ino = w->next_ino++, .mode = 040755, .nlink = 2, .mtime = w->mtime,
				      .name = w->prefix };
	if (!rc)
		rc = eimg_newc_header(o, &root, err);
	for (uint32_t k = 0; k < n && !rc; k++)
		rc = write_node(t, idx[k], w, o, err);
	struct eimg_newc_hdr tr = { .nlink = 1, .name = "TRAILER!!!" };
	if (!rc)
		rc = eimg_newc_header(o, &tr, err);
	if (!rc)
		rc = eimg_newc_pad(o, 4, err);
	return rc;
}

int eimg_oci_tree_write(eimg_oci_tree *t, const char *prefix, const char *const *mkdirs,
			const struct eimg_oci_extra *extra, size_t nextra, uint64_t mtime,
			struct eimg_newc_out *o, eimg_error *err)
{
	struct wstate w = { NULL, NULL, NULL, 1, (uint32_t)mtime, prefix };
	uint32_t *idx = NULL, n = 0;
	int rc = EIMG_OK;
	if (mtime > 0xffffffffu)
		return eimg_err(err, EIMG_EINVAL, NULL, "ramdisk: time %llu does not fit the cpio format",
				(unsigned long long)mtime);
	for (size_t k = 0; mkdirs && mkdirs[k] && !rc; k++)
		if (!eimg_oci_tree_has(t, mkdirs[k])) {
			struct eimg_oci_add a = { .path = mkdirs[k], .type = EIMG_OCI_DIR, .mode = 0755, .layer = NONE };
			rc = eimg_oci_tree_add(t, &a, err);
		}
	if (rc)
		return rc;
	idx = malloc((t->count + 1) * sizeof(uint32_t));
	w.nlink = calloc(t->count + 1, sizeof(uint32_t));
	w.ino = calloc(t->count + 1, sizeof(uint32_t));
	w.buf = malloc(COPY_BUF);
	if (!idx || !w.nlink || !w.ino || !w.buf) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	for (uint32_t i = 0; i < t->count; i++) {
		if (!t->n[i].live)
			continue;
		idx[n++] = i;
		if (t->n[i].type == EIMG_OCI_REG)
			w.nlink[i]++;
		else if (t->n[i].type == EIMG_OCI_HARDLINK)
			w.nlink[t->n[i].link_to]++;
	}
	qsort_r(idx, n, sizeof(uint32_t), cmp_path, t->n);
	rc = write_all(t, idx, n, &w, extra, nextra, o, err);
out:
	if (rc)
		verifier_end(t, true, NULL);
	else
		rc = verifier_end(t, false, err);
	free(idx);
	free(w.nlink);
	free(w.ino);
	free(w.buf);
	return rc;
}
