/* SPDX-License-Identifier: Apache-2.0 */
/* Private interfaces of the container-image and boot-blob modules:
 * the newc record writer (newc.c), the merged file tree of an image's
 * layers (oci_tree.c), the layer reader (oci_layer.c).  Not installed. */
#ifndef EIMG_OCI_INT_H
#define EIMG_OCI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include "eimg/error.h"
#include "eimg/nitro_image.h"
#include "eimg/progress.h"

/* ---- newc.c: cpio "newc" records, written as a stream ---- */
struct eimg_newc_out {
	int (*write)(void *ctx, const void *p, size_t n, eimg_error *err);
	void *ctx;
	uint64_t len;                    /* bytes written so far */
	struct eimg_progress *progress;  /* may be NULL */
};
struct eimg_newc_hdr {
	uint32_t ino, mode, uid, gid, nlink, mtime, size;
	uint32_t dev_major, dev_minor, rdev_major, rdev_minor;
	const char *name;
};
/* Zero padding to a multiple of 4, the 110-byte header, the name and its
 * NUL, padding to 4 again: the data (hdr->size bytes) follows. */
int eimg_newc_header(struct eimg_newc_out *o, const struct eimg_newc_hdr *h, eimg_error *err);
int eimg_newc_write(struct eimg_newc_out *o, const void *p, size_t n, eimg_error *err);
/* Zero bytes up to a multiple of mod. */
int eimg_newc_pad(struct eimg_newc_out *o, unsigned mod, eimg_error *err);
/* Sinks: a growing buffer, a file descriptor. */
struct eimg_newc_mem {
	uint8_t *b;
	size_t len, cap, max;
};
int eimg_newc_mem_write(void *ctx, const void *p, size_t n, eimg_error *err);
int eimg_newc_fd_write(void *ctx, const void *p, size_t n, eimg_error *err); /* ctx: int * */
/* Called before each read of a file read sequentially from pos up to end:
 * asks the kernel to read the next 8 MiB early (posix_fadvise), so that a
 * file that is not in the page cache does not stall the hashers behind the
 * reader.  *hinted: how far it was asked so far (pos at the start). */
void eimg_read_ahead(int fd, uint64_t pos, uint64_t end, uint64_t *hinted);

/* ---- oci_tree.c: the merged tree of an image's layers ---- */
typedef struct eimg_oci_tree eimg_oci_tree;
struct eimg_oci_digests;
enum eimg_oci_node_type { EIMG_OCI_DIR = 1, EIMG_OCI_REG, EIMG_OCI_SYMLINK, EIMG_OCI_HARDLINK };
/* File data goes to an unlinked temporary spool file, or stays where it is
 * (a source: an uncompressed layer's blob) and is read from there. */
eimg_oci_tree *eimg_oci_tree_new(void);
void eimg_oci_tree_free(eimg_oci_tree *t);
/* Registers a file whose bytes the tree may read later (*id): the tree
 * keeps its own descriptor and the file's identity as it was before any
 * byte of it was read (device, inode, size, mtime, ctime), and refuses to
 * read it if any has changed by then.  EIMG_EUNSUPPORTED: not a regular file. */
struct eimg_oci_place;
int eimg_oci_tree_source(eimg_oci_tree *t, const struct eimg_oci_place *p, uint32_t *id, eimg_error *err);
/* One entry of layer number layer (0-based), path canonical and relative.
 * REG: data (size bytes) is at src_off of source src when in_place, else
 * read through rd into the spool.  SYMLINK: target.  HARDLINK: target is
 * the path of an existing regular file. */
typedef int (*eimg_oci_data_fn)(void *ctx, void *buf, size_t n, eimg_error *err);
struct eimg_oci_add {
	const char *path;
	int type;                  /* enum eimg_oci_node_type */
	unsigned mode;             /* permission bits, 07777 */
	uint64_t size;
	const char *target;
	unsigned layer;
	eimg_oci_data_fn rd;
	void *rd_ctx;
	bool in_place;
	uint32_t src;
	uint64_t src_off;
};
int eimg_oci_tree_add(eimg_oci_tree *t, const struct eimg_oci_add *a, eimg_error *err);
/* Whiteouts: removes path (and what is under it) as left by lower layers;
 * opaque: removes what lower layers left under the folder path. */
int eimg_oci_tree_whiteout(eimg_oci_tree *t, const char *path, unsigned layer, eimg_error *err);
int eimg_oci_tree_opaque(eimg_oci_tree *t, const char *path, unsigned layer, eimg_error *err);
bool eimg_oci_tree_has(const eimg_oci_tree *t, const char *path);
/* The digests of source src (the whole blob: size bytes from base), checked
 * on a thread of the tree's while the rest goes on; eimg_oci_tree_write
 * waits for it before it returns and fails if a digest does not match.
 * EIMG_EUNSUPPORTED: no thread (the caller checks the digests itself). */
int eimg_oci_tree_check_later(eimg_oci_tree *t, uint32_t src, uint64_t base, uint64_t size,
			      const struct eimg_oci_digests *d, eimg_error *err);
uint64_t eimg_oci_tree_bytes(const eimg_oci_tree *t);   /* file data (spooled or in place) */
uint64_t eimg_oci_tree_spooled(const eimg_oci_tree *t); /* of which copied to the spool */
uint32_t eimg_oci_tree_count(const eimg_oci_tree *t);   /* nodes (an upper bound of the entries) */
/* Extra entries of the ramdisk outside the tree (cmd, env, manifest). */
struct eimg_oci_extra {
	const char *path;          /* full ramdisk path, e.g. "cmd" */
	const uint8_t *data;
	size_t size;
};
/* Writes the ramdisk: the tree under prefix ("rootfs"), folders added for
 * extra files, everything sorted bytewise by path, inode numbers 1, 2, ...,
 * uid = gid = 0, mtime for all; hard links share an inode number, the first
 * carries the data.  Adds the folders in mkdirs (under prefix) when absent. */
int eimg_oci_tree_write(eimg_oci_tree *t, const char *prefix, const char *const *mkdirs,
			const struct eimg_oci_extra *extra, size_t nextra, uint64_t mtime,
			struct eimg_newc_out *o, eimg_error *err);

/* ---- oci_layer.c: one layer (tar, tar+gzip, tar+zstd) applied to a tree ---- */
typedef int (*eimg_oci_raw_fn)(void *ctx, const void **buf, size_t *n, eimg_error *err); /* *n = 0: end */
/* Where the bytes of the raw stream can also be read in place: size bytes
 * from base of fd (a blob file, or a member of an uncompressed archive);
 * st: the file's fstat when it was opened, before any byte of it was read. */
struct eimg_oci_place {
	int fd;
	uint64_t base, size;
	struct stat st;
};
/* A layer's digests, compared with what was computed (got: sha256 of the
 * blob; of the tar when compressed, tar_got): the error names the layer. */
struct eimg_oci_digests {
	char name[96];
	uint8_t digest[32], diff_id[32];
	bool have_digest, have_diff_id;
};
int eimg_oci_digests_check(const struct eimg_oci_digests *d, const uint8_t got[32], const uint8_t tar_got[32],
			   eimg_error *err);
struct eimg_oci_layer_in {
	const char *name;          /* for messages, e.g. "layer 2 (sha256:ab12...)" */
	unsigned index;
	eimg_oci_raw_fn raw;       /* the blob as stored (compressed or not) */
	void *raw_ctx;
	uint64_t raw_size;         /* 0 when not known */
	uint8_t digest[32];        /* sha256 of the blob as stored, when have_digest */
	bool have_digest;
	uint8_t diff_id[32];       /* sha256 of the uncompressed tar, when have_diff_id */
	bool have_diff_id;
	struct eimg_progress *progress;
	const struct eimg_oci_place *place; /* may be NULL; used when the layer is not compressed */
};
int eimg_oci_layer_apply(eimg_oci_tree *t, const struct eimg_oci_layer_in *in, eimg_error *err);

/* ---- nitro_app.c: the application from a container image ---- */
struct eimg_manifest;
/* "a\nb\n" from {"a", "b"}; an item with a newline is refused. */
int eimg_nitro_lines(char *const *l, size_t n, const char *what, char **out, size_t *len, eimg_error *err);
/* The ramdisk's cmd: the supervisor's argv when the image holds it, else the entrypoint. */
int eimg_nitro_cmd(const struct eimg_manifest *m, char **out, size_t *len, eimg_error *err);
/* Ingress or egress declared, or nitro.supervisor given: the supervisor goes in. */
struct eimg_manifest_nitro;
bool eimg_nitro_wants_supervisor(const struct eimg_manifest_nitro *n);
/* Reads a supervisor binary (an ELF, at most EIMG_NITRO_MAX_SUPERVISOR bytes), its SHA-384 in hex. */
int eimg_nitro_supervisor_read(const char *path, uint8_t **out, size_t *len, char hex[97], eimg_error *err);
/* The resolved supervisor's bytes, checked against the recorded SHA-384
 * (*out NULL when the image has none). */
int eimg_nitro_supervisor_bytes(const struct eimg_manifest *m, uint8_t **out, size_t *len, eimg_error *err);
/* Writes the application ramdisk of m's image to a temporary file and maps
 * it (read-only): *map, *len; eimg_nitro_app_unmap() when done. */
/* The ramdisk is streamed to wr; ready (may be NULL), with the same ctx, is
 * called once before its first byte with bounds of its size. */
typedef int (*eimg_ready_fn)(void *ctx, uint64_t lo, uint64_t hi, eimg_error *err);
typedef int (*eimg_write_fn)(void *ctx, const void *p, size_t n, eimg_error *err);
int eimg_nitro_app_image(const struct eimg_manifest *m, const char *canon, size_t clen, uint64_t epoch,
			 struct eimg_progress *progress, eimg_ready_fn ready, eimg_write_fn wr, void *ctx, eimg_error *err);
/* eimg_oci_write_ramdisk, the ramdisk streamed to a writer. */
int eimg_oci_write_ramdisk_to(eimg_oci_image *img, const struct eimg_oci_ramdisk_opts *o, eimg_ready_fn ready,
			      eimg_write_fn wr, void *ctx, eimg_error *err);

/* ---- oci_blob.c: the files of an image, in a folder or inside a tar ---- */
struct eimg_oci_store {
	char *path;                /* the folder or the archive */
	bool is_dir;
};
typedef struct eimg_oci_blob eimg_oci_blob;
/* name: a canonical relative path ("blobs/sha256/<hex>", "manifest.json"). */
int eimg_oci_blob_open(const struct eimg_oci_store *s, const char *name, eimg_oci_blob **out, eimg_error *err);
int eimg_oci_blob_read(void *blob, const void **buf, size_t *n, eimg_error *err); /* an eimg_oci_raw_fn */
/* Whether the blob's bytes can be read in place (a file of the folder, or a
 * member of an archive that is not compressed) and where. */
bool eimg_oci_blob_place(const eimg_oci_blob *b, struct eimg_oci_place *out);
void eimg_oci_blob_close(eimg_oci_blob *b);
/* Reads a whole small file (at most max bytes) of the store. */
int eimg_oci_blob_slurp(const struct eimg_oci_store *s, const char *name, size_t max, uint8_t **out, size_t *len,
			eimg_error *err);
/* Whether the store has name (false on any error). */
bool eimg_oci_blob_exists(const struct eimg_oci_store *s, const char *name);

#endif
