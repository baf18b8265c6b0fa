/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave image archive (.eimg): a deterministic, restricted pax tar.
 * Format: man/enclave-image.5.  Only image.c includes libarchive.
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
 */
#ifndef EIMG_IMAGE_H
#define EIMG_IMAGE_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_IMAGE_MAGIC "enclave-image 1\n"

/* Documented limits (enclave-image(5)). */
#define EIMG_IMAGE_MAX_MEMBERS    2100             /* all members */
#define EIMG_IMAGE_MAX_MEMBER     (1ull << 30)     /* any one member: 1 GiB */
#define EIMG_IMAGE_MAX_TOTAL      (4ull << 30)     /* all member data: 4 GiB */
#define EIMG_IMAGE_MAX_PATH       255              /* <name> after files/ or keys/ */
#define EIMG_IMAGE_MAX_JSON       (1u << 20)       /* manifest/runtime/measurement json */
/* The whole archive: member data plus headers, padding and the end marker. */
#define EIMG_IMAGE_MAX_ARCHIVE    (EIMG_IMAGE_MAX_TOTAL + (16ull << 20))
/* Latest member mtime the writer stores (2038-01-19T03:14:06Z): later times
 * would need pax extended headers.  Readers accept any mtime. */
#define EIMG_IMAGE_MAX_MTIME      2147483646ull

struct eimg_member {
	char *name;        /* for files/ and keys/: the part after the prefix */
	uint8_t *data;
	size_t size;
};

typedef struct eimg_image {
	char *manifest_json;       /* NUL-terminated */
	size_t manifest_len;
	char *runtime_json;        /* NUL-terminated; the writer writes NULL as "{}\n" */
	size_t runtime_len;
	uint8_t *elf;              /* SGX: enclave ELF, or NULL */
	size_t elf_size;
	uint8_t *eif;              /* Nitro: EIF, or NULL */
	size_t eif_size;
	struct eimg_member *files; /* sorted by name */
	size_t nfiles;
	struct eimg_member *keys;  /* sorted by name */
	size_t nkeys;
	char *measurement_json;    /* NUL-terminated; informative, never trusted */
	size_t measurement_len;
	uint8_t *sigstruct;        /* NULL if unsigned */
	size_t sigstruct_size;
	uint64_t mtime;            /* read: the EIMAGE member's mtime (0 if unset or out of range);
				      writers take the mtime as an argument, not from here */
} eimg_image;

/* Reads and strictly validates an archive (never extracts to disk).
 * source names the input in error messages.  eimg_image_read_file streams the
 * file through libarchive ("-" reads standard input); peak memory is the sum of
 * the member sizes plus a 64 KiB read buffer; a declared size is never
 * allocated beyond what the input can hold.  files/keys come back sorted;
 * runtime_json is always set (the member is required). */
int eimg_image_read_file(const char *path, eimg_image **out, eimg_error *err);
int eimg_image_read_buffer(const char *source, const uint8_t *buf, size_t len,
			   eimg_image **out, eimg_error *err);

/* Writes the archive deterministically; mtime from the caller (SOURCE_DATE_EPOCH or 0,
 * at most EIMG_IMAGE_MAX_MTIME).  The image is validated first with the reader's
 * rules (required members, names, sorted and unique files/keys, sizes, JSON
 * UTF-8 without NUL); runtime_json NULL is written as "{}\n".
 * eimg_image_write_file is atomic (temp + rename, nothing left on error);
 * "-" writes to stdout. */
int eimg_image_write_buffer(const eimg_image *img, uint64_t mtime, uint8_t **out, size_t *len,
			    eimg_error *err);
int eimg_image_write_file(const eimg_image *img, uint64_t mtime, const char *path, eimg_error *err);

/* A fresh empty image (all NULL); eimg_image_free frees every owned buffer. */
eimg_image *eimg_image_new(void);
void eimg_image_free(eimg_image *img);

#endif
