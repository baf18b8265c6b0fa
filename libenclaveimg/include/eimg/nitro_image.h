/* SPDX-License-Identifier: Apache-2.0 */
/* What goes into a Nitro EIF besides the manifest: the application as a
 * container image (an OCI image layout folder, an OCI archive, or a
 * docker-archive tar; no Docker daemon), and the boot blobs AWS publishes
 * for nitro-cli (kernel, its config, command line, init, nsm.ko) with the
 * boot-strap ramdisk laid out byte for byte as nitro-cli lays it out.
 * Formats, limits and choices: man/enclave-nitro.7.
 *
 *   eimg_oci_image *img;
 *   eimg_oci_open("app.oci.tar", "linux/amd64", &img, &err);   (NULL: the host's platform)
 *   const struct eimg_oci_info *i = eimg_oci_info(img);        (digests, Entrypoint, Cmd, Env, ...)
 *   struct eimg_oci_ramdisk_opts o = { .mtime = sde, .cmd = ..., .env = ... };
 *   eimg_oci_write_ramdisk(img, &o, fd, &err);                   (layers streamed, digests checked)
 *   eimg_oci_free(img); */
#ifndef EIMG_NITRO_IMAGE_H
#define EIMG_NITRO_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/progress.h"

/* ---- Container images ---- */

/* Documented limits (enclave-nitro(7)). */
#define EIMG_OCI_MAX_JSON      (4u << 20)        /* index, manifest, config, manifest.json */
#define EIMG_OCI_MAX_LAYERS    256
#define EIMG_OCI_MAX_ENTRIES   1000000u          /* entries over all layers */
#define EIMG_OCI_MAX_PATH      4096              /* one path, or a link target */
#define EIMG_OCI_MAX_FILE      0xffffffffull     /* one file (the cpio size field) */
#define EIMG_OCI_MAX_TOTAL     (64ull << 30)     /* file data of all layers, uncompressed */
#define EIMG_OCI_MAX_RATIO     256u              /* a layer expands to at most RATIO x its  */
#define EIMG_OCI_RATIO_SLACK   (64ull << 20)     /*   stored size + SLACK (decompression bombs) */
#define EIMG_OCI_MAX_ARGS      4096              /* Entrypoint, Cmd, Env items each */
#define EIMG_OCI_MAX_ARG       (128u << 10)      /* one item */

enum eimg_oci_format { EIMG_OCI_LAYOUT = 1, EIMG_OCI_ARCHIVE, EIMG_DOCKER_ARCHIVE };

struct eimg_oci_info {
	int format;                   /* enum eimg_oci_format */
	char manifest_digest[80];     /* "sha256:<hex>" of the image manifest; "" for a docker-archive */
	char config_digest[80];       /* "sha256:<hex>" of the config (Docker's image ID) */
	char os[32], architecture[32], variant[32];
	char **entrypoint, **cmd, **env;   /* NULL-terminated; NULL when absent from the config */
	size_t nentrypoint, ncmd, nenv;
	char *working_dir;            /* NULL when absent */
	unsigned nlayers;
	uint64_t stored_size;         /* sum of the layers' stored (compressed) sizes */
};

typedef struct eimg_oci_image eimg_oci_image;

/* Opens an image: a folder (OCI layout: oci-layout + index.json), or a tar
 * archive holding an OCI layout (skopeo/podman/buildah oci-archive) or a
 * docker-archive (manifest.json, `docker save`).  platform: "os/arch" or
 * "os/arch/variant" (e.g. "linux/arm64"), NULL for the host's; an index with
 * several platforms is searched for it, a single image must match it.  The
 * index, manifest and config are checked against their digests here; the
 * layers when they are read. */
int eimg_oci_open(const char *path, const char *platform, eimg_oci_image **out, eimg_error *err);
const struct eimg_oci_info *eimg_oci_info(const eimg_oci_image *img);
void eimg_oci_free(eimg_oci_image *img);
/* The host's platform, "linux/amd64" or "linux/arm64" ("linux/<uname -m>" otherwise). */
const char *eimg_oci_host_platform(void);

/* The argv nitro-cli starts: the config's Cmd when present, else its
 * Entrypoint (nitro-cli does not join them as Docker does).  NULL if neither. */
char *const *eimg_oci_nitro_argv(const eimg_oci_image *img, size_t *n);

struct eimg_oci_ramdisk_opts {
	uint64_t mtime;               /* every entry's time (SOURCE_DATE_EPOCH) */
	const uint8_t *cmd, *env;     /* the "cmd" and "env" files (one item per line) */
	size_t cmd_len, env_len;
	const char *manifest_path;    /* inside the ramdisk, e.g. "rootfs/etc/enclave/manifest.json"; NULL: none */
	const uint8_t *manifest;
	size_t manifest_len;
	struct eimg_progress *progress; /* may be NULL */
	const char *supervisor_path;  /* inside the ramdisk (under "rootfs/"), mode 0755; NULL: none */
	const uint8_t *supervisor;
	size_t supervisor_len;
};

/* Applies the layers in order (OCI whiteouts, hard and symbolic links, modes
 * kept, owners 0 and times normalised) and writes the application ramdisk
 * to fd: "cmd", "env", then the tree under "rootfs/" with the mount points
 * dev, proc, run, sys, tmp and var added when absent.  Streams: memory holds
 * the tree's metadata; file data of compressed layers goes through a
 * temporary file, that of uncompressed layers is read in place from their
 * blobs, whose digests are checked while the ramdisk is written: on any
 * error (EIMG_EVERIFY for a digest) what was written to fd must be thrown
 * away.  Hostile layers are refused with the layer and the entry named. */
int eimg_oci_write_ramdisk(eimg_oci_image *img, const struct eimg_oci_ramdisk_opts *o, int fd, eimg_error *err);

/* ---- Boot blobs (aws/aws-nitro-enclaves-cli blobs/x86_64 or blobs/aarch64) ---- */

#define EIMG_NITRO_MAX_NSM (16u << 20)        /* nsm.ko */

struct eimg_nitro_blobs {
	char *kernel;                 /* DIR/bzImage (x86_64) or DIR/Image (aarch64) */
	char *kernel_config;          /* DIR/bzImage.config or DIR/Image.config */
	char *init, *nsm;             /* DIR/init, DIR/nsm.ko */
	char *cmdline;                /* DIR/cmdline's text, trimmed as nitro-cli trims it */
	bool aarch64;
};
/* Finds and checks the blobs in dir (every file must be there). */
int eimg_nitro_blobs_open(const char *dir, struct eimg_nitro_blobs *out, eimg_error *err);
void eimg_nitro_blobs_clear(struct eimg_nitro_blobs *b);

/* The boot-strap ramdisk nitro-cli builds (through its linuxkit): folder
 * "dev" (0755), "init" and "nsm.ko" (0755), in that order, as linuxkit's cpio
 * writer lays them out (inode numbers from 721, device 3:1, times 0, uid and
 * gid 0, 4-byte alignment, trailer, zero padding to 512 bytes). */
int eimg_nitro_bootstrap_ramdisk(const char *init, const char *nsm, uint8_t **out, size_t *len, eimg_error *err);

/* nitro-cli's metadata fields from a kernel config: the third line
 * ("# Linux/x86_64 4.14.256-209.484.amzn2.x86_64 Kernel Configuration")
 * split at ' ', '/' and '-': OperatingSystem "Linux", KernelVersion "4.14.256";
 * "Unknown" where a word is missing. */
int eimg_nitro_kernel_info(const char *config, char *os, size_t os_size, char *version, size_t version_size,
			   eimg_error *err);

/* nitro-cli's command line: the file's text without leading and trailing white space. */
char *eimg_nitro_trim_cmdline(const char *text, size_t len);

#endif
