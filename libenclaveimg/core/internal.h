/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers shared by the library's modules.  Not installed. */
#ifndef EIMG_INTERNAL_H
#define EIMG_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

#define EIMG_PAGE 4096u

#if defined(__GNUC__)
#define EIMG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EIMG_PRINTF(a, b)
#endif

/* Fill err (if not NULL) and return code.  file may be NULL. */
int eimg_err(eimg_error *err, int code, const char *file, const char *fmt, ...) EIMG_PRINTF(4, 5);
/* Same with a position in the file. */
int eimg_err_at(eimg_error *err, int code, const char *file, unsigned line, unsigned col,
		const char *fmt, ...) EIMG_PRINTF(6, 7);
/* EIMG_EIO with errno captured and strerror appended: "<msg>: <strerror>". */
int eimg_err_sys(eimg_error *err, const char *file, const char *fmt, ...) EIMG_PRINTF(3, 4);
int eimg_err_nomem(eimg_error *err);


/* Base64, RFC 4648 standard alphabet, padded (crypto/crypto_base64.c).
 * encode: malloc'ed NUL-terminated text, NULL when out of memory.
 * decode: strict (the encoder's output to the letter), white space between
 * characters skipped when allow_space; at most max bytes; 0 or -1. */
char *eimg_base64_encode(const uint8_t *in, size_t len);
int eimg_base64_decode(const char *in, size_t len, bool allow_space, size_t max, uint8_t **out, size_t *outlen);

/* eimg_read_file() is public (eimg/util.h). */
#include "eimg/util.h"

/* Opens path for reading ("-" is standard input when dash_stdin), notes it as
 * an input (eimg_input_note_fd), fstat()s it into *st and refuses a folder
 * ("is a directory, expected <expected>").  On failure nothing stays open. */
struct stat;
int eimg_open_input(const char *path, bool dash_stdin, const char *expected, int *fd, struct stat *st,
		    eimg_error *err);
/* One read(2) of at most n bytes, retried on EINTR: bytes read, 0 at the
 * end, or a negative error code (err says "cannot read", naming path). */
long eimg_read_some(int fd, void *buf, size_t n, const char *path, eimg_error *err);
/* pwrite(2) of all n bytes at off, retried on EINTR (err: "cannot write", naming path). */
/* Exactly n bytes at off, or EIMG_EINVAL with the message shrank when the
 * file ends first (it was checked to be long enough: it shrank). */
int eimg_pread_full(int fd, void *buf, size_t n, uint64_t off, const char *path, const char *shrank, eimg_error *err);
/* All n bytes (at off), or the error "what" (for path) from errno;
 * eimg_pwrite_all's what NULL: "cannot write". */
int eimg_write_all(int fd, const void *buf, size_t n, const char *path, const char *what, eimg_error *err);
int eimg_pwrite_all(int fd, const void *buf, size_t n, uint64_t off, const char *path, const char *what,
		    eimg_error *err);

/* core/scratch.c: an unlinked temporary file in dir (NULL: $TMPDIR or /tmp),
 * for what (named in the error); -1 on failure.  eimg_copy_range copies len
 * bytes at off of in to out's current position (copy_file_range(2), else
 * read and write); the names are for messages. */
int eimg_scratch_fd(const char *dir, const char *what, eimg_error *err);
int eimg_copy_range(int in, uint64_t off, int out, uint64_t len, const char *src, const char *dst, eimg_error *err);
/* The same in pieces of EIMG_COPY_PIECE bytes, each added to p (may be NULL)
 * when copied, so that a progress line moves during a long copy. */
#define EIMG_COPY_PIECE ((uint64_t)16 << 20)
struct eimg_progress;
int eimg_copy_range_progress(int in, uint64_t off, int out, uint64_t len, struct eimg_progress *p, const char *src,
			     const char *dst, eimg_error *err);

/* Atomic output: writes to a temporary file in the same folder, renames
 * over path on commit.  "-" means standard output (not atomic, no rename). */
struct eimg_outfile {
	char *path;
	char *tmp;
	int fd;
	int slot;        /* in the registry of live temporary files (core/outguard.c), -1 none */
	bool is_stdout;
};
int eimg_outfile_open(struct eimg_outfile *o, const char *path, eimg_error *err);
int eimg_outfile_write(struct eimg_outfile *o, const void *buf, size_t len, eimg_error *err);
int eimg_outfile_commit(struct eimg_outfile *o, eimg_error *err);
void eimg_outfile_abort(struct eimg_outfile *o); /* removes the temp file; safe after commit */
/* An output of its own, opened on path (*out NULL on failure); and its end:
 * aborted (nothing, once committed) and freed (NULL is fine). */
int eimg_outfile_new(const char *path, struct eimg_outfile **out, eimg_error *err);
void eimg_outfile_free(struct eimg_outfile *o);

/* Days since 1970-01-01 to a proleptic Gregorian date (UTC). */
void eimg_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/* The one ISO 8601 formatter: "YYYY-MM-DDTHH:MM:SSZ" (UTC, the year padded to
 * four digits) into out.  Returns false, out still filled, when the year
 * does not fit a struct tm (where gmtime(3) fails): callers choose the
 * fallback they show. */
#define EIMG_ISO_TIME_MAX 32
bool eimg_iso_time(int64_t t, char out[EIMG_ISO_TIME_MAX]);

/* Inputs and outputs (core/outguard.c).  Every file opened for reading is
 * noted (device, inode); eimg_output_check (util.h) and eimg_outfile_open
 * refuse an output that is a noted input.  eimg_output_may_replace: the one
 * input the command deliberately updates in place (signing an image or EIF
 * without -o).  eimg_inputs_reset (util.h): forget all. */
void eimg_input_note_fd(int fd, const char *path);
void eimg_input_note_path(const char *path);
void eimg_output_may_replace(const char *path);
/* Live temporary outputs, unlinked by a SIGINT/SIGTERM/SIGHUP handler that
 * is installed (on first use) where the program left the default action.
 * Register and unregister with those signals blocked (eimg_tmp_block), so
 * that the file and its registration come and go together. */
#include <signal.h>
void eimg_tmp_block(sigset_t *old);
void eimg_tmp_unblock(const sigset_t *old);
int eimg_tmp_register(const char *path);   /* slot, or -1 */
void eimg_tmp_unregister(int slot);
size_t eimg_tmp_live(void);                /* registered now (tests) */

/* Text built piece by piece (reports): appends never fail loudly; a failed
 * allocation sets failed, and eimg_sb_done() then frees and returns NULL.
 * Start from a zeroed struct. */
struct eimg_sb {
	char *s;
	size_t len, cap;
	bool failed;
};
void eimg_sb_printf(struct eimg_sb *b, const char *fmt, ...) EIMG_PRINTF(2, 3);
char *eimg_sb_done(struct eimg_sb *b); /* the text (free it), or NULL */
/* One "key: value" line of a text report after indent (may be NULL), the
 * value at column EIMG_SB_FIELD_COL whatever the indent; key is the --json
 * name. */
#define EIMG_SB_FIELD_COL 24
void eimg_sb_field(struct eimg_sb *b, const char *indent, const char *key, const char *fmt, ...) EIMG_PRINTF(4, 5);

/* Serialises a jansson value (taking the reference, also on failure) with
 * sorted keys, two-space indent and a trailing newline.  len may be NULL. */
struct json_t;
int eimg_json_dump(struct json_t *o, char **out, size_t *len, eimg_error *err);
/* One naming convention for every --json: snake_case.  Where users compare
 * with nitro-cli, its names stay available in a "nitro_cli" member:
 * eimg_json_renamed copies an object's members (shallow) with each key
 * renamed to snake_case ("BuildTime" -> "build_time") or to nitro-cli's
 * PascalCase ("not_before" -> "NotBefore"); NULL when out of memory or o is
 * not an object.  eimg_json_pcrs: {"hash_algorithm": "sha384", "pcr0": ...}
 * for the registers in mask, or with nitro_cli nitro-cli's
 * {"HashAlgorithm": "Sha384 { ... }", "PCR0": ...}. */
struct json_t *eimg_json_renamed(const struct json_t *o, bool to_snake);
struct json_t *eimg_json_pcrs(const uint8_t (*pcr)[48], unsigned mask, bool nitro_cli);

/* The value of one hex digit (either case), or -1. */
int eimg_hex_digit(char c);

/* Wipes then frees (for key material). */
void eimg_free_secret(void *p, size_t len);
/* Room for more bytes after the len used in the byte buffer *buf of *cap
 * (the first allocation min bytes, then doubling).  0; 1 when the size
 * would overflow; -1 when out of memory (*buf and *cap unchanged then). */
int eimg_bytes_reserve(uint8_t **buf, size_t *cap, size_t len, size_t more, size_t min);

/* Little/big endian stores and loads. */
static inline void eimg_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void eimg_le32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline void eimg_le64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static inline uint16_t eimg_get_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t eimg_get_le32(const uint8_t *p) { uint32_t v = 0; for (int i = 3; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static inline uint64_t eimg_get_le64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static inline void eimg_be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void eimg_be32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (24 - 8 * i)); }
static inline void eimg_be64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i)); }
static inline uint16_t eimg_get_be16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t eimg_get_be32(const uint8_t *p) { uint32_t v = 0; for (int i = 0; i < 4; i++) v = (v << 8) | p[i]; return v; }
static inline uint64_t eimg_get_be64(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v = (v << 8) | p[i]; return v; }

/* Overflow-checked arithmetic. */
static inline bool eimg_add_overflow(uint64_t a, uint64_t b, uint64_t *r) { return __builtin_add_overflow(a, b, r); }
static inline bool eimg_mul_overflow(uint64_t a, uint64_t b, uint64_t *r) { return __builtin_mul_overflow(a, b, r); }

#endif
