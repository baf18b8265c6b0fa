/* SPDX-License-Identifier: Apache-2.0 */
/* Handing a verified Nitro enclave image to nitro-cli (enclave-run(1),
 * "Nitro hand-off").
 *
 * enclave-run does not talk to the Nitro hypervisor itself: AWS's nitro-cli
 * does that.  This module verifies first (the EIF's PCRs are recomputed by
 * the audit, its CRC checked, its signature verified when it has one, a
 * signature demanded with require_signature), then runs
 *
 *   nitro-cli run-enclave --eif-path F --cpu-count N --memory MiB
 *                         [--enclave-cid C] [--debug-mode]
 *
 * parses nitro-cli's JSON answer (EnclaveID, EnclaveCID, NumberOfCPUs,
 * MemoryMiB), attaches `nitro-cli console --enclave-id ID` in debug mode,
 * and watches the enclave by polling `nitro-cli describe-enclaves` until
 * the enclave is gone or its State is no longer RUNNING.  When stop_fd
 * becomes readable (a signalfd for SIGTERM/SIGINT) it runs
 * `nitro-cli terminate-enclave --enclave-id ID` and returns.
 *
 * When the image's manifest records the in-enclave supervisor (a network
 * policy), the host side runs from run-enclave's answer until the enclave
 * ends: each ingress port P listens on ingress_bind:P and is bridged to the
 * enclave's vsock port P, and the egress service on vsock port 17002
 * re-checks the manifest's policy before it connects (enclave-nitro(7));
 * its log lines go to on_event ("network: ...", from a thread of its own).
 *
 * Programs are started with posix_spawn (no shell), with the default signal
 * dispositions and an empty signal mask, standard input /dev/null.
 *
 * The EIF handed over is exactly the bytes that were verified: a plain .eif
 * is read once into a private memfd sealed against every change
 * (F_SEAL_WRITE, _SHRINK, _GROW, _SEAL), and that copy is verified; the EIF
 * of a .eimg (verified in this process's memory) is copied into one too.
 * nitro-cli gets --eif-path /proc/self/fd/N, the sealed copy inherited as
 * descriptor N, never the user's path; the copy is closed as soon as
 * run-enclave returned.  It takes the EIF's size in memory meanwhile.
 *
 * Typical use (enclave-run):
 *
 *   eimg_nitro_launch_open_eif(path, &o, &l, &err)     (or _open_image)
 *   eimg_nitro_report_identity(eimg_nitro_launch_report(l), &id) + --expect / --constraint
 *   o.dry_run: eimg_nitro_launch_commands(l, &text, &err), print it
 *   else:      eimg_nitro_launch_run(l, &res, &err)
 *   eimg_nitro_launch_free(l) */
#ifndef EIMG_NITRO_RUN_H
#define EIMG_NITRO_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/image.h"
#include "eimg/nitro.h"

#define EIMG_NITRO_CLI_DEFAULT    "nitro-cli"
#define EIMG_NITRO_WATCH_DEFAULT  2000        /* ms between describe-enclaves polls */
#define EIMG_NITRO_MAX_CPUS       4096        /* sanity limit of --cpus / EIF header */
#define EIMG_NITRO_MAX_MEMORY_MIB (1ull << 24) /* 16 TiB: sanity limit of --memory / EIF header */
#define EIMG_NITRO_MAX_OUTPUT     (1u << 20)  /* bytes kept of one nitro-cli answer */
#define EIMG_NITRO_DESCRIBE_TRIES 3           /* describe-enclaves failures in a row tolerated */
/* What a dry run prints in place of values only known at run time. */
#define EIMG_NITRO_EIF_PLACEHOLDER "/proc/self/fd/N"
#define EIMG_NITRO_ID_PLACEHOLDER  "<EnclaveID>"
#define EIMG_NITRO_CID_PLACEHOLDER "<EnclaveCID>"
/* Ingress ports listen on loopback unless told otherwise: publishing an
 * enclave's ports to the network is the operator's explicit choice. */
#define EIMG_NITRO_INGRESS_BIND_DEFAULT "127.0.0.1"

struct eimg_nitro_run_options {
	const char *nitro_cli;   /* a path, or a name looked up in PATH; NULL: "nitro-cli" */
	uint32_t cpus;           /* 0: the manifest's (image) or the EIF header's (plain EIF) */
	uint64_t memory_mib;     /* 0: likewise */
	bool has_cid;
	uint64_t cid;            /* --enclave-cid when has_cid */
	bool debug;              /* --debug-mode, then attach nitro-cli console */
	bool require_signature;  /* an unsigned EIF is refused (EIMG_EVERIFY) */
	unsigned watch_ms;       /* describe-enclaves interval; 0: EIMG_NITRO_WATCH_DEFAULT */
	int stop_fd;             /* readable = terminate the enclave and return; -1: none */
	const char *tmpdir;      /* unused: the EIF goes through a sealed memfd, no file */
	/* The host side of the image's network policy (when its manifest records
	 * the in-enclave supervisor): ingress ports listen on this address;
	 * NULL: EIMG_NITRO_INGRESS_BIND_DEFAULT. */
	const char *ingress_bind;
	/* Progress lines ("started enclave ...", "enclave ... ended"); may be NULL. */
	void (*on_event)(void *ctx, const char *text);
	void *event_ctx;
	/* The verification's "hashing" (eimg/progress.h): the EIF, then the
	 * sealed copy that runs; may be NULL. */
	struct eimg_progress *progress;
};

typedef struct eimg_nitro_launch eimg_nitro_launch;

/* Opens and verifies a plain EIF / a Nitro image already read (source names
 * it in messages).  Statuses: EIMG_EINVAL malformed EIF or CRC mismatch,
 * EIMG_EVERIFY signature invalid (or missing with require_signature),
 * recorded PCRs differ, manifest copy differs; EIMG_EUSAGE when the CPU
 * count or memory is unknown (plain EIF without usable header defaults)
 * or out of range; EIMG_EIO / EIMG_ENOMEM.  The options are copied (the
 * strings must outlive the launch). */
int eimg_nitro_launch_open_eif(const char *path, const struct eimg_nitro_run_options *o, eimg_nitro_launch **out,
			       eimg_error *err);
int eimg_nitro_launch_open_image(const eimg_image *img, const char *source, const struct eimg_nitro_run_options *o,
				 eimg_nitro_launch **out, eimg_error *err);

/* The audit of the EIF (PCRs, signature): for --expect and constraints. */
const eimg_nitro_report *eimg_nitro_launch_report(const eimg_nitro_launch *l);
uint32_t eimg_nitro_launch_cpus(const eimg_nitro_launch *l);
uint64_t eimg_nitro_launch_memory_mib(const eimg_nitro_launch *l);

/* The commands a run executes first, one per line, shell-quoted: run-enclave
 * and, in debug mode, console.  Values known only at run time appear as
 * EIMG_NITRO_EIF_PLACEHOLDER (the sealed copy's descriptor) and
 * EIMG_NITRO_ID_PLACEHOLDER.  free() the text. */
int eimg_nitro_launch_commands(const eimg_nitro_launch *l, char **text, eimg_error *err);

enum eimg_nitro_end {
	EIMG_NITRO_ENDED = 1,      /* describe-enclaves no longer lists it, or State is not RUNNING */
	EIMG_NITRO_TERMINATED = 2  /* stop_fd: terminate-enclave succeeded */
};

struct eimg_nitro_run_result {
	char enclave_id[128];      /* printable ASCII */
	uint64_t cid;
	uint32_t cpus;
	uint64_t memory_mib;
	int end;                   /* enum eimg_nitro_end */
	char state[32];            /* last State seen ("" when the enclave disappeared) */
};

/* Starts the enclave, watches it and returns when it ended or was
 * terminated on request (EIMG_OK, res->end says which).  Failures of
 * nitro-cli are EIMG_EIO with a one-line message naming the command, its
 * exit status and nitro-cli's own error line ("[ Exx ] ...").  If watching
 * fails after the enclave started (EIMG_NITRO_DESCRIBE_TRIES failures in a
 * row; a describe-enclaves that does not answer within 60 s is killed and
 * counts as one), the enclave is terminated before the error is returned
 * (the message says whether that worked).  A describe-enclaves in progress
 * is killed when stop_fd becomes readable.  res->enclave_id
 * is filled as soon as the enclave started, also on a later failure. */
int eimg_nitro_launch_run(eimg_nitro_launch *l, struct eimg_nitro_run_result *res, eimg_error *err);

void eimg_nitro_launch_free(eimg_nitro_launch *l);

/* The parsers of nitro-cli's answers (exposed for tests and fuzzing).  Both
 * take standard output as nitro-cli prints it (progress lines, then JSON
 * from the first line that starts with '{' / '['), at most
 * EIMG_NITRO_MAX_OUTPUT bytes; duplicate keys are refused.
 * run-enclave: EnclaveID (1 to 127 characters of [A-Za-z0-9-_.:], not
 * starting with '-') is required; EnclaveCID, NumberOfCPUs, MemoryMiB are 0
 * when absent or not non-negative integers.  EIMG_EINVAL otherwise.
 * describe-enclaves: 1 when the enclave id is listed with State RUNNING, 0
 * when it is not listed or in another State (state receives it escaped, ""
 * when not listed), -1 (err) when the answer is not a JSON array. */
int eimg_nitro_parse_run_answer(const char *out, size_t len, struct eimg_nitro_run_result *res, eimg_error *err);
int eimg_nitro_parse_describe(const char *out, size_t len, const char *id, char *state, size_t scap, eimg_error *err);

/* Appends arg to a command line, shell-quoted (single quotes unless the
 * argument is made of [A-Za-z0-9_@%+=:,./-] only).  Returns 0, -1 when cap
 * is too small.  Exposed for tests. */
int eimg_shell_quote(const char *arg, char *out, size_t cap);

#endif
