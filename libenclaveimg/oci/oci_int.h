/* SPDX-License-Identifier: Apache-2.0 */
/* Private: the registry client (http.c, the only file that includes libcurl),
 * credentials and challenges (auth.c), manifests (manifest.c), the statement
 * (statement.c); its OpenSSL side is in crypto/crypto.h (crypto_dsse.c). */
#ifndef EIMG_OCI_INT_H
#define EIMG_OCI_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/oci.h"

#define OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define OCI_INDEX_TYPE    "application/vnd.oci.image.index.v1+json"
#define OCI_EMPTY_TYPE    "application/vnd.oci.empty.v1+json"
#define OCI_EMPTY_DIGEST  "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


/* ---- ref.c ---- */
bool oci_host_is_loopback(const char *host);
/* "sha256:" + 64 lower-case hex. */
bool oci_digest_valid(const char *d);
/* "sha256:<hex>" of a finished hash. */
void oci_digest_format(const uint8_t sha[32], char out[EIMG_OCI_DIGEST_MAX]);

/* ---- manifest.c ---- */
struct oci_desc {
	char media_type[256];
	char artifact_type[256];
	char digest[EIMG_OCI_DIGEST_MAX];
	uint64_t size;
	const char *title;         /* writer only: org.opencontainers.image.title, or NULL */
};
struct oci_manifest {
	char media_type[256];      /* as declared ("" if absent) */
	char artifact_type[256];
	bool is_index;
	struct oci_desc config;
	struct oci_desc subject;
	bool has_subject;
	struct oci_desc *descs;    /* layers, or an index's manifests */
	size_t ndescs;
};
/* Parses an image manifest or an index (referrers response, fallback tag)
 * of at most EIMG_OCI_MAX_MANIFEST bytes.  Descriptors must have a
 * media type, a sha256 digest and a size. */
int eimg_oci_manifest_parse(const char *source, const uint8_t *buf, size_t len, struct oci_manifest **out,
			    eimg_error *err);
void eimg_oci_manifest_free(struct oci_manifest *m);
/* Builds an artifact manifest: compact JSON, keys sorted (deterministic).
 * subject and annotation may be NULL. */
int oci_manifest_build(const char *artifact_type, const struct oci_desc *layers, size_t n,
		       const struct oci_desc *subject, const char *annot_key, const char *annot_val,
		       char **out, size_t *len, eimg_error *err);
/* Adds (or keeps) desc in an index (NULL/empty: a new one); compact JSON. */
int oci_index_add(const uint8_t *old, size_t oldlen, const struct oci_desc *desc, char **out, size_t *len,
		  eimg_error *err);
/* The "errors" of a registry error body, as "CODE: message" (printable). */
void oci_error_body(const uint8_t *body, size_t len, char *out, size_t size);

/* ---- auth.c ---- */
struct oci_challenge {
	char scheme[16];          /* "Bearer" or "Basic" */
	char realm[1024];
	char service[256];
	char scope[512];
};
int oci_challenge_parse(const char *header, struct oci_challenge *out);
/* user:password for host[:port] from the credentials file, or *out NULL when
 * none is known.  free with eimg_free_secret(*out, strlen(*out)). */
int oci_auth_lookup(const char *auth_file, const char *hostport, char **out, eimg_error *err);
/* The token of a token-service response ("token" or "access_token"). */
int oci_token_parse(const uint8_t *body, size_t len, char **token);

/* ---- http.c ---- */
struct oci_client;
int oci_client_new(const struct eimg_oci_ref *ref, const struct eimg_oci_options *o, struct oci_client **out,
		   eimg_error *err);
void oci_client_free(struct oci_client *c);
/* The reference the client talks about, for messages: "oci://host/repo". */
const char *oci_client_name(const struct oci_client *c);

struct oci_req {
	const char *method;          /* GET, HEAD, PUT, POST */
	const char *path;            /* "/v2/..." or an absolute URL on the same registry */
	const char *accept;          /* or NULL */
	const char *content_type;    /* or NULL */
	const uint8_t *body;         /* request body in memory, or */
	int body_fd;                 /* streamed from this descriptor (-1: none) */
	uint64_t body_len;
	size_t max;                  /* largest response body kept in memory */
	int sink_fd;                 /* response body to this file instead (-1: none) */
	uint64_t sink_max;
	const char *step;            /* a blob's transfer: its progress step (the client's progress), or NULL */
};
struct oci_resp {
	long status;
	uint8_t *body;               /* NUL-terminated, len bytes (memory responses) */
	size_t len;
	char content_type[256];
	char digest[EIMG_OCI_DIGEST_MAX];  /* Docker-Content-Digest, "" if absent */
	char location[2048];
	bool oci_subject;            /* OCI-Subject header present */
	uint8_t sha256[32];          /* of a sink response */
	uint64_t received;
};
/* One request with authentication (one challenge answered), retries with
 * backoff for transport errors, 429 and 5xx, and bounded bodies.  Returns
 * EIMG_OK with any HTTP status in rs->status; EIMG_EIO for a transport
 * failure after the retries (one line naming the registry and the cause). */
int oci_request(struct oci_client *c, const struct oci_req *rq, struct oci_resp *rs, eimg_error *err);
void oci_resp_clear(struct oci_resp *rs);
/* One line for an unexpected status: "oci://h/r: what: HTTP 404 not found (CODE: message)". */
int oci_status_error(const struct oci_client *c, const struct oci_resp *rs, const char *what, eimg_error *err);

/* ---- pull.c ---- */
/* GETs a manifest (by tag or digest) of media type want, and computes its
 * digest: EIMG_EVERIFY when it is not the one asked for or the one the
 * registry names; EIMG_EINVAL for another media type. */
int oci_get_manifest(struct oci_client *c, const char *repo, const char *what, const char *want,
		     struct oci_resp *rs, char digest[EIMG_OCI_DIGEST_MAX], eimg_error *err);
/* GETs a blob into fd (or memory with fd -1) and checks its size and digest. */
int oci_get_blob(struct oci_client *c, const char *repo, const struct oci_desc *d, int fd, uint64_t max,
		 struct oci_resp *rs, eimg_error *err);

/* ---- statement.c ---- */
struct eimg_key_source;
/* The predicate of an image or EIF file, recomputed from content (the image
 * verified, and its signature when present).  *target: enum eimg_target. */
struct json_t;
struct eimg_image;
/* enum eimg_input_kind of a file, from its first bytes (UNKNOWN if unreadable). */
int oci_file_kind(const char *path);
int oci_predicate_of_file(const char *path, struct json_t **out, int *target, eimg_error *err);
int oci_predicate_of_image(const struct eimg_image *img, const char *path, struct json_t **out, int *target,
			   eimg_error *err);
/* The signed DSSE envelope of the statement for subject digest (name = repo). */
int oci_statement_sign(const char *name, const char *digest, struct json_t *predicate,
		       const struct eimg_key_source *key, char **env, size_t *envlen, eimg_error *err);
/* Verifies an envelope: signature with pubkey_path, subject = digest,
 * predicate = the given one.  EIMG_EVERIFY naming what differs. */
int oci_statement_verify(const char *source, const uint8_t *env, size_t len, const char *pubkey_path,
			 const char *digest, const struct json_t *predicate, eimg_error *err);

#endif
