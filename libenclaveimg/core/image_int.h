/* SPDX-License-Identifier: Apache-2.0 */
/* Private to the image archive: the image object, blobs and the canonical
 * tar encoding shared by the reader (image_read.c) and the writer
 * (image_write.c).  Not installed. */
#ifndef EIMG_IMAGE_INT_H
#define EIMG_IMAGE_INT_H

#include <stdbool.h>
#include "eimg/image.h"

#define EIMG_TAR_BLOCK 512u
#define EIMG_SIGSTRUCT_BYTES 1808u
#define EIMG_MAGIC_LEN (sizeof(EIMG_IMAGE_MAGIC) - 1)
#define EIMG_ESC 192                /* escape buffer for member names in messages */

/* An open file shared by the blobs cut from it. */
struct eimg_file {
	int fd;
	unsigned refs;
	struct eimg_outfile *out;    /* the output this file will become (enclave-build), or NULL */
	struct eimg_outfile *copy;   /* a copy of the EIF in it, put in place after the output (enclave-build --eif), or NULL */
};
struct eimg_file *eimg_file_new(int fd);   /* takes fd (closed when the last ref goes) */
void eimg_file_unref(struct eimg_file *f);
/* A blob of the byte range [off, off + size) of f (takes a new reference). */
eimg_blob *eimg_blob_from_range(struct eimg_file *f, uint64_t off, uint64_t size);
/* The pending output (eimg_outfile) that b's file is, when that output is
 * path: the image writer then writes around b in place (core/image_write.c). */
struct eimg_outfile *eimg_blob_outfile(const eimg_blob *b, const char *path);
/* Puts in place the copy of b's bytes written beside it (struct eimg_file's
 * copy), if any: after the image that holds b is written. */
int eimg_blob_commit_copy(const eimg_blob *b, eimg_error *err);
/* Where the data of enclave.eif starts in the image (the members before it
 * and its headers), for an EIF of eif_size bytes. */
int eimg_image_eif_offset(const eimg_image *img, uint64_t mtime, uint64_t eif_size, uint64_t *off, eimg_error *err);

struct image_list {
	struct eimg_member *v;       /* name, data (mapped on demand), size */
	eimg_blob **blob;
	size_t n, cap;
};

struct eimg_image {
	char *manifest, *runtime, *measurement;
	size_t manifest_len, runtime_len, measurement_len;
	eimg_blob *elf, *eif;
	struct image_list files, keys;
	uint8_t *sigstruct;
	uint64_t mtime;
	struct eimg_progress *progress; /* eimg_image_set_progress: opening it measures with progress */
};

/* Member kinds, in archive order; ELF and EIF share a rank. */
enum eimg_kind {
	K_MAGIC, K_MANIFEST, K_RUNTIME, K_ELF, K_EIF, K_FILE, K_KEY, K_MEASUREMENT, K_SIGSTRUCT,
	K_COUNT
};
extern const int eimg_kind_rank[K_COUNT];
extern const char *const eimg_kind_name[K_COUNT];

/* files/<name> and keys/<name>: 1..255 of [A-Za-z0-9._-], not "." or "..". */
bool eimg_image_valid_name(const char *s, size_t len);
/* A JSON member's rules (UTF-8 without NUL, size, runtime.json an object). */
int eimg_image_check_json(const char *file, const char *member, const uint8_t *p, size_t len,
			  eimg_error *err);
/* Appends to a list (taking b, also on failure); no order check. */
int eimg_image_list_add(struct image_list *l, const char *name, eimg_blob *b, eimg_error *err);
/* The writer's rules, also used by the reader at the end. */
int eimg_image_validate(const eimg_image *img, uint64_t mtime, const char *file, eimg_error *err);

/* ---- the canonical tar encoding (enclave-image(5)) ---- */

/* The header blocks that precede a member's data: 512 bytes (one ustar
 * header) or 1536 (pax header, its one block of records, ustar header).
 * path at most 8 + EIMG_IMAGE_MAX_PATH bytes. */
size_t eimg_tar_headers(const char *path, uint64_t size, uint64_t mtime, uint8_t out[3 * EIMG_TAR_BLOCK]);
/* The name of the ustar header field at byte offset off (0..511). */
const char *eimg_tar_field(unsigned off);

#endif
