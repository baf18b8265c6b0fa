/* SPDX-License-Identifier: Apache-2.0 */
/* The one error convention of libenclaveimg.
 *
 * Every fallible library function returns an int status (EIMG_OK == 0 on
 * success) and, on failure, fills the caller's eimg_error.  The library never
 * prints and never exits.  Out-parameters are written only on success. */
#ifndef EIMG_ERROR_H
#define EIMG_ERROR_H

#include <stddef.h>

enum eimg_status {
	EIMG_OK = 0,
	EIMG_EINVAL = 1,      /* bad input: malformed file, bad value, limit exceeded */
	EIMG_EIO = 2,         /* a system call failed (errno in sys_errno) */
	EIMG_ENOMEM = 3,      /* out of memory */
	EIMG_EVERIFY = 4,     /* verification or measurement mismatch, bad signature */
	EIMG_EUNSUPPORTED = 5,/* valid, but not supported by this build/host */
	EIMG_EUSAGE = 6,      /* the caller asked for something contradictory */
	EIMG_EINTERNAL = 7    /* a bug in this library */
};

/* Fixed exit codes shared by every tool (documented in every man page);
 * 4 and 5 only come from enclave-run (enclave-run(1)). */
enum eimg_exit {
	EIMG_EXIT_OK = 0,
	EIMG_EXIT_ERROR = 1,
	EIMG_EXIT_USAGE = 2,
	EIMG_EXIT_VERIFY = 3,
	EIMG_EXIT_FAULT = 4,       /* the enclave faulted or stopped unexpectedly */
	EIMG_EXIT_VIOLATION = 5    /* the sandbox stopped the enclave */
};

#define EIMG_ERROR_MSG_MAX 512
#define EIMG_ERROR_FILE_MAX 256

typedef struct eimg_error {
	int code;                        /* enum eimg_status */
	int sys_errno;                   /* errno for EIMG_EIO, else 0 */
	char file[EIMG_ERROR_FILE_MAX];  /* the file the error is about, or "" */
	unsigned line, column;           /* 1-based position in file, 0 if none */
	char msg[EIMG_ERROR_MSG_MAX];    /* one line, no trailing newline */
} eimg_error;

void eimg_error_clear(eimg_error *err);

/* Formats the error as one line: "file:line:col: msg" when a position is
 * known, "'file': msg" when only the file is, else "msg"; control characters
 * (a newline in a file name) appear as \xNN.  Returns buf. */
const char *eimg_error_format(const eimg_error *err, char *buf, size_t size);

/* Adds context in front of an error already in err: msg becomes
 * "<prefix>: <old msg>"; with file != NULL the file is replaced (and any
 * position cleared: put it into the prefix if it matters).  Returns err->code. */
int eimg_err_context(eimg_error *err, const char *file, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* Escapes untrusted text for an error message (non-printable -> \xNN),
 * truncating to fit.  Returns out. */
const char *eimg_escape(const char *in, size_t len, char *out, size_t outsize);

/* Maps a status to the tools' exit code (EVERIFY -> 3, EUSAGE -> 2, others -> 1). */
int eimg_exit_code(int status);

#endif
