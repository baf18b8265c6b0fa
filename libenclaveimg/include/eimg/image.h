/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave image archive (.eimg): a canonical, restricted pax tar.
 * Format: man/enclave-image.5.
 *
 * Members, in this fixed order (each optional member either present once or absent):
 *   EIMAGE                 format marker: the bytes "enclave-image 1\n"
 *   manifest.json          canonical measured manifest (eimg_manifest_canonical)
 *   runtime.json           unmeasured runtime configuration (canonical JSON)
 *   enclave.elf            SGX target: the enclave ELF
 *   enclave.eif            Nitro target: the EIF (its signature section included)
 *   files/<name>           SGX: measured files, bytewise sorted by name
 *   keys/<name>            SGX: measured user public keys, bytewise sorted by name
 *   measurement.json       informative record of the build's measurement
 *   sigstruct.bin          SGX signature slot (1808 bytes), absent if unsigned
 *
 * eimg_image is an opaque handle.  The small members (the JSON ones and
 * sigstruct.bin) are held in memory; the members that can be large
 * (enclave.elf, enclave.eif, files/, keys/) are eimg_blob handles, backed by
 * memory or by a byte range of a file (the archive being read, or the source
 * file of a build), and read through eimg_blob_pread/eimg_blob_map without
 * ever being copied whole into the heap. */
#ifndef EIMG_IMAGE_H
#define EIMG_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_IMAGE_MAGIC "enclave-image 1\n"

/* Documented limits (enclave-image(5)). */
#define EIMG_IMAGE_MAX_MEMBERS    2100             /* all members */
#define EIMG_IMAGE_MAX_MEMBER     (64ull << 30)    /* any one member: 64 GiB */
#define EIMG_IMAGE_MAX_TOTAL      (64ull << 30)    /* all member data: 64 GiB */
#define EIMG_IMAGE_MAX_PATH       255              /* <name> after files/ or keys/ */
#define EIMG_IMAGE_MAX_JSON       (1u << 20)       /* manifest/runtime/measurement json */
#define EIMG_IMAGE_MAX_KEY        (64u << 10)      /* one keys/ member (a DER public key) */
/* The whole archive: member data plus headers, padding and the end marker. */
#define EIMG_IMAGE_MAX_ARCHIVE    (EIMG_IMAGE_MAX_TOTAL + (16ull << 20))
/* Latest member mtime the format stores (2038-01-19T03:14:06Z). */
#define EIMG_IMAGE_MAX_MTIME      2147483646ull
/* Members of at least this size carry their size in a pax "size" record. */
#define EIMG_IMAGE_PAX_SIZE       (8ull << 30)

/* A view of one member's bytes in memory (SGX layout input). */
struct eimg_member {
	char *name;        /* for files/ and keys/: the part after the prefix */
	uint8_t *data;
	size_t size;
};

/* ---- blobs: a member's bytes, in memory or a byte range of a file ---- */

typedef struct eimg_blob eimg_blob;

/* A copy of len bytes. */
eimg_blob *eimg_blob_from_buffer(const void *data, size_t len);
/* Takes ownership of data (malloc'd; freed with the blob, also on failure). */
eimg_blob *eimg_blob_take_buffer(void *data, size_t len);
/* A regular file, whole, of at most max bytes; the file stays open (read
 * through its descriptor, so a later rename over path changes nothing). */
int eimg_blob_open_file(const char *path, uint64_t max, eimg_blob **out, eimg_error *err);
void eimg_blob_free(eimg_blob *b);

uint64_t eimg_blob_size(const eimg_blob *b);
/* Exactly n bytes at off (off + n <= size).  source names the data in errors. */
int eimg_blob_pread(const eimg_blob *b, uint64_t off, void *buf, size_t n, const char *source, eimg_error *err);
/* All bytes at one address, valid until the blob is freed: the memory, or a
 * read-only shared mapping of the file range (page cache, not heap).  For
 * bounded members that need random access (an SGX ELF, measured files). */
int eimg_blob_map(const eimg_blob *b, const uint8_t **p, const char *source, eimg_error *err);
/* The file behind a file-backed blob and the offset of its first byte:
 * returns 0, or -1 for a memory blob.  For streaming readers (pread). */
int eimg_blob_fd(const eimg_blob *b, int *fd, uint64_t *off);
/* Writes the bytes to path atomically ("-": standard output), streamed. */
int eimg_blob_write_file(const eimg_blob *b, const char *path, eimg_error *err);
/* The same, reporting "copying" to p (eimg/progress.h; may be NULL). */
struct eimg_progress;
int eimg_blob_write_file_progress(const eimg_blob *b, const char *path, struct eimg_progress *p, eimg_error *err);

/* ---- the image ---- */

typedef struct eimg_image eimg_image;

/* Reads and strictly validates an archive (never extracts to disk): the
 * archive must be byte for byte what eimg_image_write_* produces from its
 * members (enclave-image(5)).  source names the input in error messages.
 * From a regular file only headers and the small members are read; the large
 * members stay in the file (read later through their blobs; the file is kept
 * open).  From a pipe ("-" reads standard input) the large members are copied
 * to an unlinked temporary file.  Memory use is bounded by the small members'
 * limits whatever the archive size. */
int eimg_image_read_file(const char *path, eimg_image **out, eimg_error *err);
int eimg_image_read_buffer(const char *source, const uint8_t *buf, size_t len,
			   eimg_image **out, eimg_error *err);

/* Writes the archive canonically; mtime from the caller (SOURCE_DATE_EPOCH or 0,
 * at most EIMG_IMAGE_MAX_MTIME).  The image is validated first with the reader's
 * rules (required members, names, sorted and unique files/keys, sizes, JSON
 * UTF-8 without NUL); a missing runtime.json is written as "{}\n".  Member
 * data is streamed from the blobs.  eimg_image_write_file is atomic (temp +
 * rename, nothing left on error); "-" writes to stdout. */
int eimg_image_write_buffer(const eimg_image *img, uint64_t mtime, uint8_t **out, size_t *len,
			    eimg_error *err);
int eimg_image_write_file(const eimg_image *img, uint64_t mtime, const char *path, eimg_error *err);

/* A fresh empty image; eimg_image_free(NULL) is a no-op. */
eimg_image *eimg_image_new(void);
void eimg_image_free(eimg_image *img);
/* Where the long steps of work on this image report (eimg/progress.h):
 * eimg_sgx_image_open() recomputing MRENCLAVE ("measuring").  p may be NULL
 * (the default: no reports); it must outlive the image's use. */
struct eimg_progress;
void eimg_image_set_progress(eimg_image *img, struct eimg_progress *p);
struct eimg_progress *eimg_image_progress(const eimg_image *img);

/* Small members: NUL-terminated text (NULL when absent); len may be NULL. */
const char *eimg_image_manifest(const eimg_image *img, size_t *len);
const char *eimg_image_runtime(const eimg_image *img, size_t *len);
const char *eimg_image_measurement(const eimg_image *img, size_t *len);
/* The 1808-byte SIGSTRUCT, or NULL if unsigned. */
const uint8_t *eimg_image_sigstruct(const eimg_image *img);
/* The read image's own timestamp (its EIMAGE member's mtime); 0 for a new one. */
uint64_t eimg_image_mtime(const eimg_image *img);
/* enclave.elf / enclave.eif, or NULL. */
const eimg_blob *eimg_image_elf(const eimg_image *img);
const eimg_blob *eimg_image_eif(const eimg_image *img);
/* files/ and keys/ members, sorted by name. */
size_t eimg_image_nfiles(const eimg_image *img);
size_t eimg_image_nkeys(const eimg_image *img);
const char *eimg_image_file(const eimg_image *img, size_t i, const eimg_blob **blob);
const char *eimg_image_key(const eimg_image *img, size_t i, const eimg_blob **blob);
/* files/ or keys/ as an array of memory views (eimg_blob_map of each),
 * valid until the image is freed. */
int eimg_image_files_view(const eimg_image *img, const struct eimg_member **out, size_t *n, eimg_error *err);
int eimg_image_keys_view(const eimg_image *img, const struct eimg_member **out, size_t *n, eimg_error *err);

/* Setters copy text and sigstruct (NULL removes the member) and take
 * ownership of blobs (also on failure). */
int eimg_image_set_manifest(eimg_image *img, const char *json, size_t len, eimg_error *err);
int eimg_image_set_runtime(eimg_image *img, const char *json, size_t len, eimg_error *err);
int eimg_image_set_measurement(eimg_image *img, const char *json, size_t len, eimg_error *err);
int eimg_image_set_sigstruct(eimg_image *img, const uint8_t *ss, size_t len, eimg_error *err);
void eimg_image_set_elf(eimg_image *img, eimg_blob *b);
void eimg_image_set_eif(eimg_image *img, eimg_blob *b);
/* Appends files/<name> or keys/<name>; names must come in ascending order. */
int eimg_image_add_file(eimg_image *img, const char *name, eimg_blob *b, eimg_error *err);
int eimg_image_add_key(eimg_image *img, const char *name, eimg_blob *b, eimg_error *err);

/* ---- coverage: what each member is, for enclave-measure ---- */

enum eimg_member_role {
	EIMG_ROLE_MARKER,       /* EIMAGE: must be exactly the marker */
	EIMG_ROLE_MEASURED,     /* part of MRENCLAVE or PCR0/1/2 */
	EIMG_ROLE_UNMEASURED,   /* declared unmeasured by the format (runtime.json) */
	EIMG_ROLE_RECORD,       /* measurement.json: must equal the recomputed record */
	EIMG_ROLE_SIGNATURE     /* sigstruct.bin: checked by signature verification */
};
struct eimg_image_entry {
	char path[8 + EIMG_IMAGE_MAX_PATH + 1];
	uint64_t size;
	int role;               /* enum eimg_member_role */
};
/* Number of members (in archive order), and each one. */
size_t eimg_image_count(const eimg_image *img);
int eimg_image_entry_at(const eimg_image *img, size_t i, struct eimg_image_entry *out);
const char *eimg_member_role_name(int role); /* "marker", "measured", "unmeasured", "record", "signature" */
/* The members as enclave-measure shows them: a text block (free it; NULL
 * when out of memory), or added as "members" to a JSON report object
 * (*report replaced; keys sorted, two-space indent). */
char *eimg_image_coverage_text(const eimg_image *img);
int eimg_image_coverage_json(const eimg_image *img, char **report, eimg_error *err);
/* The same after a report (text or JSON): *report replaced by the report
 * and the members (appended as text, or added as "members"). */
int eimg_image_coverage_add(const eimg_image *img, bool json, char **report, eimg_error *err);

#endif
