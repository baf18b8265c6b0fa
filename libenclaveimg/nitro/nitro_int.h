/* SPDX-License-Identifier: Apache-2.0 */
/* Private interfaces of the Nitro modules: streaming PCRs (nitro/pcr.c),
 * deterministic cpio ramdisks (cpio.c), the signature section and COSE
 * (cose.c); the EC and X.509 functions they use are in crypto/crypto.h.
 * Not installed. */
#ifndef EIMG_NITRO_INT_H
#define EIMG_NITRO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <time.h>
#include <jansson.h>
#include "eimg/eif.h"
#include "eimg/error.h"
#include "eimg/hash.h"
#include "eimg/nitro.h"
#include "crypto/crypto.h"

/* The jansson half of an eimg_nitro_report (kept out of the public header);
 * allocated with the report, freed by eimg_nitro_report_free(). */
struct eimg_nitro_json {
	json_t *cert;                /* {"issuer_name":{..},"subject_name":{..},...} */
	json_t *metadata;            /* the section as parsed (nitro-cli's names), NULL if absent or not JSON */
};

/* ---- crc32.c: zlib's CRC-32, with PCLMULQDQ when available ---- */
uint32_t eimg_crc32(uint32_t crc, const uint8_t *p, size_t n);
uint32_t eimg_crc32_zlib(uint32_t crc, const uint8_t *p, size_t n); /* always zlib (tests) */
/* CRC of A||B from crc(A), crc(B) and the length of B. */
uint32_t eimg_crc32_combine(uint32_t a, uint32_t b, uint64_t len_b);

/* ---- nitro/pcr.c ---- */
struct eimg_nitro_digest {
	uint8_t pcr0[48], pcr1[48], pcr2[48];
	uint32_t crc;       /* CRC-32 computed over the file */
	uint32_t body_crc;  /* CRC-32 (from 0) of the bytes from offset 548 up to
			       the signature section (or the end): lets a signer
			       stream a re-signed file with its new CRC */
	uint64_t body_len;
};
/* PCR = SHA384(48 zero bytes || digest). */
void eimg_nitro_extend(const uint8_t digest[48], uint8_t pcr[48]);
/* One pass over an EIF whose layout was checked.  threads: 0 automatic
 * (two hashing threads for files of 4 MiB and more), 1, or 2. */
struct eimg_progress;
int eimg_nitro_pcr_buffer(const char *source, const uint8_t *buf, const eimg_eif_layout *l, int threads,
			  struct eimg_nitro_digest *out, eimg_error *err);
int eimg_nitro_pcr_buffer_progress(const char *source, const uint8_t *buf, const eimg_eif_layout *l, int threads,
				   struct eimg_progress *progress, struct eimg_nitro_digest *out, eimg_error *err);
int eimg_nitro_pcr_fd(const char *source, int fd, const eimg_eif_layout *l, int threads,
		      struct eimg_nitro_digest *out, eimg_error *err);
/* The same, reporting "hashing" progress (may be NULL, as for the buffer
 * form); copy_fd > 0: the body (see body_crc) is also written to copy_fd at
 * copy_at + its offset. */
int eimg_nitro_pcr_fd_progress(const char *source, int fd, const eimg_eif_layout *l, int threads,
			       struct eimg_progress *progress, int copy_fd, uint64_t copy_at, struct eimg_nitro_digest *out,
			       eimg_error *err);

/* ---- eif.c, eif_stream.c: writing ---- */
/* The reference order: kernel, cmdline, [metadata], ramdisk+, [signature]. */
int eimg_eif_check_order(const struct eimg_eif_part *p, size_t n, eimg_error *err);
void eimg_eif_put_header(uint8_t *h, uint16_t flags, uint64_t mem, uint64_t cpus, unsigned n,
			 const uint64_t *offs, const uint64_t *sizes);
/* An EIF written into fd from its current offset: parts as for
 * eimg_eif_write_buffer, the last one a ramdisk whose data (and size) come
 * through eimg_eif_stream_write (an eimg_newc_out writer: ctx is the
 * stream).  _end fixes the header in place, leaves fd's offset after the
 * EIF and gives the EIF's size, its CRC and PCR0/1/2, computed as the
 * bytes went by.  _free always.
 * The streamed bytes go through a ring of EIMG_EIF_RING pieces: this thread
 * fills a piece; three consumers (PCR0; PCR1 or PCR2 and the CRC; the
 * writer) take every piece in order, each at its own pace (eif_stream.c).
 * EIMG_EIF_STREAM_DIRECT: the EIF is large and fd a file that stays: its
 * pieces are written around the page cache where the file allows.
 * copy_fd (-1: none): the same EIF also written there, from its offset. */
#define EIMG_EIF_RING 8
#define EIMG_EIF_RING_MAX 32
#define EIMG_EIF_WORKERS 3
#define EIMG_EIF_STREAM_DIRECT 1u
struct eimg_eif_stream;
struct eimg_eif_worker {
	struct eimg_eif_stream *s;
	unsigned k;                       /* 0: PCR0; 1: PCR1 or PCR2, and the CRC; 2: the writer */
};
struct eimg_eif_dest {                /* a file the EIF goes to */
	int fd;
	int dfd;                          /* the same file, O_DIRECT; -1 none (the writer's) */
	unsigned align;                   /* O_DIRECT's alignment of offsets and lengths there */
	const char *name;                 /* for messages */
	uint64_t start;                   /* file offset of the EIF */
	uint64_t written, synced;         /* the writer's: streamed bytes written / whose write-back was started */
	uint8_t *bounce;                  /* aligned blocks gathered, when the pieces are not aligned here */
	size_t blen;                      /* bytes in it */
	uint64_t bat;                     /* the file offset of its first byte */
};
struct eimg_eif_stream {
	struct eimg_eif_dest dst[2];      /* the file; a copy */
	unsigned ndst;
	uint64_t data_rel;                /* offset of the streamed section's data in the EIF */
	struct eimg_eif_write_opts opts;
	unsigned n;
	uint64_t sizes[EIMG_EIF_MAX_SECTIONS];
	uint64_t fixed_len, tail;         /* bytes after the header before / in the streamed section */
	uint32_t crc_fixed, crc_tail;
	int tail_pcr;                     /* 1 or 2 */
	eimg_hash *h[3];                  /* PCR0, PCR1, PCR2 data */
	unsigned nring;                   /* pieces in the ring: EIMG_EIF_RING, or _MAX around the cache */
	uint8_t *ring[EIMG_EIF_RING_MAX];
	size_t len[EIMG_EIF_RING_MAX];    /* bytes of each handed-over piece */
	uint64_t at[EIMG_EIF_RING_MAX];   /* and its offset in the EIF */
	size_t used;                      /* bytes in the piece being filled */
	bool have_slot;                   /* that piece is free to fill */
	uint64_t filled;                  /* pieces handed to the consumers */
	uint64_t done[EIMG_EIF_WORKERS];  /* pieces each consumer has finished */
	uint64_t direct;                  /* the writer's: bytes written around the cache */
	uint64_t flush_want, flushed;     /* bytes the flusher is asked to make durable / has */
	int flush_errno;                  /* its failure (reported by _end) */
	bool flusher;                     /* a kept file, written through the cache: a flusher thread runs (fdatasync) */
	unsigned threads;                 /* consumers on their own thread (k < threads); the others run here */
	bool locks, stop, abort, failed;  /* locks: m, work and room exist */
	bool joined;                      /* the workers have ended: the flusher's cue to end */
	int frc;                          /* failed: the first failure */
	eimg_error ferr;
	struct eimg_eif_worker wk[EIMG_EIF_WORKERS];
	pthread_t th[EIMG_EIF_WORKERS], fth;
	pthread_mutex_t m;
	pthread_cond_t work, room;        /* a piece to take; a piece freed */
};
int eimg_eif_stream_begin(struct eimg_eif_stream *s, const char *name, int fd, const char *copy_name, int copy_fd,
			  const struct eimg_eif_write_opts *o, const struct eimg_eif_part *parts, size_t nparts,
			  unsigned flags, eimg_error *err);
int eimg_eif_stream_write(void *ctx, const void *p, size_t n, eimg_error *err);
int eimg_eif_stream_end(struct eimg_eif_stream *s, uint64_t *len, struct eimg_nitro_digest *dg, eimg_error *err);
void eimg_eif_stream_free(struct eimg_eif_stream *s);

/* ---- cpio.c: deterministic newc ramdisks ---- */
#define EIMG_CPIO_MAX_ENTRIES 200000
#define EIMG_CPIO_MAX_PATH    4096
#define EIMG_CPIO_MAX_TOTAL   (64ull << 30)    /* all file data of one ramdisk */
#define EIMG_CPIO_MAX_FILE    0xffffffffull    /* newc size field */

typedef struct eimg_cpio eimg_cpio;
eimg_cpio *eimg_cpio_new(void);
void eimg_cpio_free(eimg_cpio *c);
/* Paths are relative, '/'-separated, canonical (no "", ".", ".." parts).
 * Missing parent folders are added (0755).  Adding a folder twice is fine;
 * anything else twice is an error. */
int eimg_cpio_add_dir(eimg_cpio *c, const char *path, eimg_error *err);
/* mode: 0644 or 0755.  The data is copied. */
int eimg_cpio_add_file(eimg_cpio *c, const char *path, unsigned mode, const uint8_t *data, size_t size,
		       eimg_error *err);
/* base: how many leading components of path form the tree the link must not leave. */
int eimg_cpio_add_symlink(eimg_cpio *c, const char *path, const char *target, unsigned base, eimg_error *err);
/* Adds the content of a host folder (or a tar archive) under prefix. */
int eimg_cpio_add_tree(eimg_cpio *c, const char *prefix, const char *dir, eimg_error *err);
/* A tar archive (cpio_tar.c): the members' data is read back when the
 * ramdisk is written, from the archive (uncompressed: each member's data at
 * its offset; the archive must then fstat as it did) or from a temporary
 * spool of the data (gzip-compressed, or a sparse member). */
int eimg_cpio_add_tar(eimg_cpio *c, const char *prefix, const char *tar, eimg_error *err);
/* An open file that file data is read back from, owned by c from now on (fd
 * included, closed with c; NULL on failure); with check, it must fstat as it
 * does now (device, inode, size, mtime, ctime) whenever it is read back. */
typedef struct eimg_cpio_src eimg_cpio_src;
eimg_cpio_src *eimg_cpio_src_add(eimg_cpio *c, int fd, const char *name, bool check, eimg_error *err);
/* A file (mode 0644 or 0755) whose size bytes are at off of src. */
int eimg_cpio_add_range(eimg_cpio *c, const char *path, unsigned mode, eimg_cpio_src *src, uint64_t off,
			uint64_t size, eimg_error *err);
/* The number of '/'-separated components of a path. */
unsigned eimg_cpio_components(const char *p);
bool eimg_cpio_has(const eimg_cpio *c, const char *path);
/* Writes the newc archive: entries sorted bytewise by path, inode numbers
 * 1, 2, ... in that order, uid = gid = 0, mtime, nlink 2 for folders and 1
 * otherwise, device numbers 0. */
int eimg_cpio_write(eimg_cpio *c, uint64_t mtime, uint8_t **out, size_t *len, eimg_error *err);
/* The size eimg_cpio_write will give (bytes). */
int eimg_cpio_size(eimg_cpio *c, uint64_t *size, eimg_error *err);
/* The same, streamed to a writer (an eimg_newc_out writer); files of a host
 * folder are read now, in 1 MiB pieces, and must be the files the folder
 * held when they were added, of the same size. */
int eimg_cpio_write_to(eimg_cpio *c, uint64_t mtime, int (*wr)(void *ctx, const void *p, size_t n, eimg_error *err),
		       void *ctx, eimg_error *err);
/* Looks up a regular file in a newc archive (own strict parser, no
 * libarchive): *data points into buf.  EIMG_EINVAL if absent or malformed. */
int eimg_cpio_find(const char *source, const uint8_t *buf, size_t len, const char *path,
		   const uint8_t **data, size_t *size, eimg_error *err);
/* The same through a reader (0 on success, -1 with errno on failure): the
 * data of path starts at *data_off in the archive.  Reads only headers, names
 * and the padding after a trailer, never file data; archives concatenated
 * after the trailer are read on, as the kernel does.  EIMG_EINVAL also when
 * the kernel's unpacker could leave other content at path (a second entry
 * for it in any spelling, a hard link, a non-folder on the way, ".."). */
typedef int (*eimg_cpio_read_fn)(void *ctx, uint64_t off, void *buf, size_t n);
int eimg_cpio_locate(const char *source, eimg_cpio_read_fn rd, void *ctx, uint64_t len, const char *path,
		     uint64_t *data_off, uint64_t *size, eimg_error *err);
/* Every entry of a newc archive (and of archives concatenated after its
 * trailer, as the kernel unpacks them), trailers left out, in order; the
 * same strict header checks as eimg_cpio_locate.  visit's non-zero status
 * stops the walk and is returned. */
struct eimg_cpio_entry {
	const char *name;       /* as stored (NUL-terminated) */
	uint32_t mode, nlink;
	uint64_t size;          /* data bytes */
	uint64_t offset;        /* of the entry's header */
	uint64_t data_off;      /* of its data */
};
typedef int (*eimg_cpio_visit_fn)(void *ctx, const struct eimg_cpio_entry *e, eimg_error *err);
int eimg_cpio_walk(const char *source, eimg_cpio_read_fn rd, void *ctx, uint64_t len, eimg_cpio_visit_fn visit,
		   void *vctx, eimg_error *err);
/* For an archive unpacked before the one that holds path: EIMG_EINVAL when
 * it could send a later entry for path elsewhere (a non-folder, e.g. a
 * symbolic link, at a folder on the way; ".."). */
int eimg_cpio_check_way(const char *source, eimg_cpio_read_fn rd, void *ctx, uint64_t len, const char *path,
			eimg_error *err);

/* ---- cose.c ---- */
#define EIMG_COSE_MAX_DEPTH 8
#define EIMG_COSE_MAX_ITEMS 300000
enum eimg_cose_alg { EIMG_COSE_ES256 = -7, EIMG_COSE_ES384 = -35, EIMG_COSE_ES512 = -36 };
struct eimg_cose_sign1 {
	int alg;                  /* enum eimg_cose_alg */
	uint8_t *protected_hdr;   /* the protected header bytes */
	size_t protected_len;
	uint8_t *payload;
	size_t payload_len;
	uint8_t sig[132];         /* r||s */
	size_t sig_len;
};
void eimg_cose_sign1_clear(struct eimg_cose_sign1 *s);
/* Field size (bytes) and hash of an algorithm, 0 if unknown. */
size_t eimg_cose_alg_fbytes(int alg);
int eimg_cose_alg_hash(int alg);
const char *eimg_cose_alg_name(int alg);
int eimg_cose_alg_for_bits(int bits);
/* The signature section: [ {"signing_certificate": [u8...], "signature": [u8...]} ]. */
int eimg_nitro_sigsec_encode(const uint8_t *cert_pem, size_t cert_len, const uint8_t *cose, size_t cose_len,
			     uint8_t **out, size_t *len, eimg_error *err);
int eimg_nitro_sigsec_decode(const char *source, const uint8_t *buf, size_t len, uint8_t **cert_pem,
			     size_t *cert_len, uint8_t **cose, size_t *cose_len, eimg_error *err);
/* Payload {"register_index": 0, "register_value": [48 u8]}. */
int eimg_nitro_payload_encode(const uint8_t pcr0[48], uint8_t **out, size_t *len, eimg_error *err);
int eimg_nitro_payload_decode(const char *source, const uint8_t *buf, size_t len, unsigned *index,
			      uint8_t value[48], eimg_error *err);
/* Protected header {1: alg}. */
int eimg_cose_protected_encode(int alg, uint8_t **out, size_t *len, eimg_error *err);
/* Sig_structure ["Signature1", protected, h'', payload]. */
int eimg_cose_tbs(const uint8_t *prot, size_t prot_len, const uint8_t *payload, size_t payload_len,
		  uint8_t **out, size_t *len, eimg_error *err);
/* Untagged COSE_Sign1 [protected, {}, payload, signature]. */
int eimg_cose_sign1_encode(const struct eimg_cose_sign1 *s, uint8_t **out, size_t *len, eimg_error *err);
/* Accepts untagged or tag 18; the protected header must be exactly {1: alg}. */
int eimg_cose_sign1_decode(const char *source, const uint8_t *buf, size_t len, struct eimg_cose_sign1 *out,
			   eimg_error *err);

/* ---- nitro_audit.c: shared with the renderer and EIF signing ---- */
/* Audits an EIF in memory (mem) or in a file (fd >= 0 when mem is NULL:
 * the whole file when len is 0, else len bytes at offset base, an image
 * member read in place); dg_out (may be NULL) receives the PCRs and CRCs
 * computed on the way. */
int eimg_nitro_audit_any(const char *source, const uint8_t *mem, size_t len, int fd, uint64_t base,
			 const struct eimg_nitro_audit_opts *o, eimg_nitro_report **out, struct eimg_nitro_digest *dg_out,
			 eimg_error *err);
/* ---- eif_sign.c: for signing an image member in one pass ---- */
/* The signature section over r's PCR0 (signed by fn, or sig made elsewhere),
 * checked against the certificate, which must be valid now. */
int eimg_nitro_section_for(const eimg_nitro_report *r, const char *cert_path, const uint8_t *sig, size_t sig_len,
			   eimg_nitro_signer_fn fn, void *ctx, uint8_t **sec, size_t *seclen, eimg_error *err);
/* After an audit that copied the body of the EIF at offset base of fd into
 * out_fd at offset at (eimg_nitro_audit_opts.copy_fd): checks that the
 * header is still the one the audit hashed, then writes the signed header
 * and the signature section sec (dst names out_fd in a message). */
int eimg_nitro_put_signed(const char *source, int fd, uint64_t base, const eimg_nitro_report *rep, const uint8_t *sec,
			  size_t seclen, int out_fd, uint64_t at, const char *dst, eimg_error *err);
/* One job on a whole EIF file, in one read (and one write when signing):
 * its audit is judged by check first (NULL: its CRC only), then the
 * Sig_structure is exported to out (export_tbs), or the EIF is signed with
 * fn or given the signature sig made elsewhere, into out ("-": standard
 * output, then read twice; out may be in). */
typedef int (*eimg_nitro_check_fn)(void *ctx, const eimg_nitro_report *r, eimg_error *err);
struct eimg_nitro_file_op {
	const char *in, *out, *cert_path;
	bool export_tbs;
	const uint8_t *sig;
	size_t sig_len;
	eimg_nitro_signer_fn fn;
	void *fn_ctx;
	eimg_nitro_check_fn check;
	void *check_ctx;
	struct eimg_progress *progress; /* "hashing" (the pass that also copies), "writing"; may be NULL */
};
int eimg_nitro_file_op(const struct eimg_nitro_file_op *op, eimg_error *err);
/* eimg_nitro_sign_range reporting to p (may be NULL). */
int eimg_nitro_sign_range_progress(const char *source, int fd, uint64_t base, uint64_t size, const char *cert_path,
				   eimg_nitro_signer_fn fn, void *ctx, const uint8_t *sig, size_t sig_len,
				   const char *out, struct eimg_progress *p, eimg_error *err);
/* The Sig_structure to sign for an audited EIF (its PCR0) and a certificate:
 * the export step without reading the EIF again. */
int eimg_nitro_tbs_of_report(const eimg_nitro_report *r, const char *cert_path, uint8_t **tbs, size_t *tbs_len,
			     eimg_error *err);
/* UTC "YYYY-MM-DDTHH:MM:SSZ", or "@<seconds>" when it cannot be represented. */
void eimg_nitro_fmt_time(int64_t t, char *out, size_t size);

#endif
