/* SPDX-License-Identifier: Apache-2.0 */
/* Small public helpers the tools share: hex, sizes, SOURCE_DATE_EPOCH. */
#ifndef EIMG_UTIL_H
#define EIMG_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

/* Lower-case hex of len bytes into out (2*len+1 bytes). Returns out. */
char *eimg_hex(const uint8_t *in, size_t len, char *out);
/* Parses exactly len bytes of hex (case-insensitive, optional "0x" prefix,
 * no other characters).  what names the value in the error message. */
int eimg_unhex(const char *hex, uint8_t *out, size_t len, const char *what, eimg_error *err);

/* Parses a size like "64M", "4096", "1G", "0x1000" (K/M/G/T = powers of 1024). */
int eimg_parse_size(const char *s, uint64_t *out);

/* The build timestamp: SOURCE_DATE_EPOCH if set (must be a decimal integer,
 * else EIMG_EINVAL), else 0 when fallback_now is false, else time(NULL). */
int eimg_source_date_epoch(int fallback_now, uint64_t *out, eimg_error *err);

/* Reads a whole regular file of at most max bytes.  *out is NUL-terminated
 * (one extra byte), free() it. */
int eimg_read_file(const char *path, size_t max, uint8_t **out, size_t *len, eimg_error *err);

/* Whether path can be written atomically (a temporary file beside it is
 * created and removed again); EIMG_OK or the error opening it would give. */
int eimg_output_probe(const char *path, eimg_error *err);

/* Atomically replaces path with buf (temp file in the same folder + rename;
 * mode 0644); "-" writes to standard output. */
int eimg_write_file_atomic(const char *path, const void *buf, size_t len, eimg_error *err);

/* Whether two paths name the same existing file (same device and inode), so
 * that a tool can refuse to write its output over one of its inputs. */
#include <stdbool.h>
bool eimg_same_file(const char *a, const char *b);

/* Outputs never replace inputs: the library notes (device and inode) every
 * file it opens to read; this refuses (EIMG_EUSAGE, exit 2, nothing
 * written) an output path that resolves to one of them.  Atomic outputs
 * check it themselves; a tool calls it early for outputs it writes later
 * (so that nothing runs first).  "-" and names that do not exist pass. */
int eimg_output_check(const char *path, eimg_error *err);
/* The inputs noted so far are kept for the life of the process: a program
 * that runs several commands (a service, a test) and rewrites on purpose a
 * file an earlier command read calls this between commands. */
void eimg_inputs_reset(void);

#endif
