/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave manifest (enclave.yaml): parsing, validation, canonical form.
 * Format: man/enclave-manifest.5, schemas/manifest.schema.json.
 * Only manifest_yaml.c includes libyaml. */
#ifndef EIMG_MANIFEST_H
#define EIMG_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"

/* Documented limits (enclave-manifest(5)). */
#define EIMG_MANIFEST_MAX_BYTES   (1u << 20)   /* manifest file size */
#define EIMG_MANIFEST_MAX_DEPTH   16           /* YAML nesting depth */
#define EIMG_MANIFEST_MAX_NODES   100000       /* YAML events */
#define EIMG_MANIFEST_MAX_FILES   1024         /* files: entries */
#define EIMG_MANIFEST_MAX_KEYS    1024         /* user_keys: entries */
#define EIMG_MANIFEST_MAX_NAME    255          /* name / file name length */
#define EIMG_MAX_THREADS          1024
#define EIMG_MAX_ENCLAVE_SIZE     (64ull << 30) /* 64 GiB */

enum eimg_target { EIMG_TARGET_SGX = 1, EIMG_TARGET_NITRO = 2 };
enum eimg_mode { EIMG_MODE_HARDWARE = 1, EIMG_MODE_SIMULATION = 2 };

/* Where a manifest value came from, for error messages. */
struct eimg_pos {
	unsigned line, column;
};

/* A measured file or user key.  In a parsed source manifest, path is the
 * resolved host path (relative paths resolved against the manifest's
 * folder); in a manifest parsed with base_dir == NULL (read from an image),
 * path is NULL and the content comes from the image member.  name is the
 * in-enclave name.  pos: the path value (or the name when there is no path). */
struct eimg_manifest_entry {
	char *name;
	char *path;
	struct eimg_pos pos;
};

struct eimg_manifest_sgx {
	char *enclave;             /* ELF path (resolved), NULL when parsed with base_dir == NULL */
	struct eimg_pos enclave_pos;
	uint64_t heap_size;        /* bytes, multiple of 4096 */
	uint64_t stack_size;       /* bytes per thread, multiple of 4096 */
	uint32_t threads;          /* TCS count, default 1 */
	uint32_t ssa_frames;       /* NSSA, default 2 */
	uint32_t ssa_frame_size;   /* pages per SSA frame, default 1 */
	uint16_t product_id;       /* ISVPRODID */
	uint16_t security_version; /* ISVSVN */
	bool debug;                /* debug launch allowed (default false) */
	bool allow_write_exec;     /* accept W+X ELF segments (default false) */
	uint64_t xfrm;             /* default 0x3 */
	uint64_t xfrm_mask;        /* default 0xffffffffffffff1b */
	uint32_t misc_select;      /* default 0 */
	uint32_t misc_mask;        /* default 0xffffffff */
	bool kss;                  /* Key Separation and Sharing fields present */
	uint8_t isv_family_id[16];
	uint8_t isv_ext_product_id[16];
};

struct eimg_nitro_port {
	uint16_t port;
};

/* Host paths (kernel, kernel_config, init, app) are resolved and checked in a
 * source manifest and NULL in a manifest parsed with base_dir == NULL. */
struct eimg_manifest_nitro {
	char *kernel;              /* kernel image path */
	char *kernel_config;       /* optional, for KernelVersion metadata; may be NULL */
	bool has_kernel_config;    /* kernel_config given (also in an image manifest) */
	char *cmdline;             /* kernel command line */
	char *init;                /* boot-strap init ramdisk (cpio) path or init binary */
	char *app;                 /* application folder or .tar archive */
	char **entrypoint;         /* argv of the process to start, NULL-terminated */
	size_t entrypoint_len;
	uint64_t memory_mib;       /* default memory, MiB (default 512, >= 64) */
	uint32_t cpus;             /* default CPU count */
	uint16_t *ingress;         /* listening ports */
	size_t ningress;
	char **egress_allow;       /* hostnames/CIDRs */
	size_t negress_allow;
	char **egress_deny;
	size_t negress_deny;
	struct eimg_pos kernel_pos, init_pos, app_pos;
	/* Container image and nitro-cli blobs (eimg/nitro_image.h, enclave-nitro(7)): */
	char *blobs;               /* blobs folder: kernel, kernel_config, cmdline, init (+ nsm.ko) from it */
	char *nsm;                 /* nsm.ko (nitro.nsm, or from blobs): the boot-strap ramdisk is nitro-cli's */
	bool has_nsm;              /* nsm given (also in an image manifest) */
	char *image;               /* container image, instead of app */
	char *platform;            /* "os/arch[/variant]"; NULL: the host's */
	char *image_digest;        /* "sha256:..." of the image manifest (recorded; a pin in a source manifest) */
	char *image_config;        /* "sha256:..." of the image config (recorded) */
	char **env;                /* "NAME=value" lines of the env file; NULL-terminated */
	size_t env_len;
	bool has_env;              /* env given (an empty list is not an absent one) */
	char *working_dir;         /* the image's WorkingDir, recorded (nitro-cli's init starts in /) */
	/* The in-enclave supervisor (enclave-nitro(7)): placed when ingress or
	 * egress is declared (or supervisor is given); eimg_nitro_resolve()
	 * finds it and records its SHA-384. */
	char *supervisor;          /* host path (source manifest), NULL until resolved or when parsed with base_dir == NULL */
	bool has_supervisor;       /* the image holds the supervisor */
	char *supervisor_sha384;   /* 96 lower-case hex digits (recorded; a pin in a source manifest) */
};

typedef struct eimg_manifest {
	unsigned version;          /* format version, 1 */
	char *name;
	int target;                /* enum eimg_target */
	int mode;                  /* enum eimg_mode */
	struct eimg_manifest_sgx sgx;
	struct eimg_manifest_nitro nitro;
	struct eimg_manifest_entry *files;   /* sorted by name, unique */
	size_t nfiles;
	struct eimg_manifest_entry *keys;    /* user public keys, sorted by name, unique */
	size_t nkeys;
	char *runtime_json;        /* unmeasured runtime section as canonical JSON ("{}" if none) */
	char *source;              /* file name used in error messages */
} eimg_manifest;

/* Parses and validates a manifest file (YAML).  Checks that referenced files exist. */
int eimg_manifest_parse_file(const char *path, eimg_manifest **out, eimg_error *err);

/* Parses a manifest from memory.  name is used in error messages; base_dir
 * resolves relative paths (NULL: paths are not resolved nor checked, as for
 * a manifest read from an image). */
int eimg_manifest_parse_buffer(const char *name, const char *buf, size_t len,
			       const char *base_dir, eimg_manifest **out, eimg_error *err);

/* The canonical measured manifest: JSON, keys sorted, 2-space indented,
 * trailing newline, no host paths (files and keys by name only), no runtime
 * section.  Parsing it back with base_dir == NULL gives the same manifest. */
int eimg_manifest_canonical(const eimg_manifest *m, char **out, size_t *len, eimg_error *err);

/* SGX: the manifest bytes placed (and so measured) in the enclave: the
 * canonical form without the signing parameters (product_id,
 * security_version, debug, xfrm, xfrm_mask, misc_select, misc_mask, kss and
 * the KSS ids), which belong to the SIGSTRUCT.  So, as on hardware, the same
 * enclave has the same MRENCLAVE whatever its signature allows. */
int eimg_manifest_measured(const eimg_manifest *m, char **out, size_t *len, eimg_error *err);

void eimg_manifest_free(eimg_manifest *m);

const char *eimg_mode_name(int mode);     /* "hardware" / "simulation" */
const char *eimg_target_name(int target); /* "sgx" / "nitro" */

#endif
