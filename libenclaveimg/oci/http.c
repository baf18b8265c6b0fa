/* SPDX-License-Identifier: Apache-2.0 */
/* The registry client over libcurl (the only file that includes it): one
 * request at a time, bounded response bodies, a body streamed to a file with
 * its SHA-256 computed on the way, Basic and Bearer authentication, retries
 * with exponential backoff. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "core/internal.h"
#include "eimg/hash.h"
#include "eimg/progress.h"
#include "oci/oci_int.h"

struct oci_client {
	CURL *curl;
	char base[600];          /* scheme://host[:port] */
	char hostport[300];
	char name[600];          /* oci://host[:port]/repo */
	char *auth_header;       /* "Authorization: ..." or NULL (a secret) */
	char *creds;             /* user:password or NULL (a secret) */
	bool creds_loaded;
	const char *auth_file;
	unsigned timeout, retries;
	struct eimg_progress *progress;
};

struct xfer {
	const struct oci_req *rq;
	struct oci_resp *rs;
	size_t cap;
	uint64_t sent;
	eimg_hash *h;
	struct eimg_progress *p; /* a blob's transfer, or NULL */
	bool too_big, io_failed;
	char challenge[1200];
};

static void free_secret_str(char **s)
{
	if (*s)
		eimg_free_secret(*s, strlen(*s));
	*s = NULL;
}

int oci_client_new(const struct eimg_oci_ref *ref, const struct eimg_oci_options *o, struct oci_client **out,
		   eimg_error *err)
{
	static bool curl_ready;
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return eimg_err(err, EIMG_EINTERNAL, NULL, "cannot initialise libcurl");
		curl_ready = true;
	}
	struct oci_client *c = calloc(1, sizeof(*c));
	if (!c)
		return eimg_err_nomem(err);
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return eimg_err_nomem(err);
	}
	bool plain = oci_host_is_loopback(ref->host) || (o && o->plain_http);
	if (ref->port)
		snprintf(c->hostport, sizeof(c->hostport), "%s:%u", ref->host, ref->port);
	else
		snprintf(c->hostport, sizeof(c->hostport), "%s", ref->host);
	snprintf(c->base, sizeof(c->base), "%s://%s", plain ? "http" : "https", c->hostport);
	snprintf(c->name, sizeof(c->name), "oci://%s/%s", c->hostport, ref->repo);
	c->auth_file = o ? o->auth_file : NULL;
	c->timeout = o && o->timeout ? o->timeout : 30;
	c->retries = o && o->retries ? o->retries : 3;
	c->progress = o ? o->progress : NULL;
	*out = c;
	return EIMG_OK;
}

void oci_client_free(struct oci_client *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->curl);
	free_secret_str(&c->auth_header);
	free_secret_str(&c->creds);
	free(c);
}

const char *oci_client_name(const struct oci_client *c)
{
	return c->name;
}

void oci_resp_clear(struct oci_resp *rs)
{
	free(rs->body);
	memset(rs, 0, sizeof(*rs));
}

static size_t on_write(char *p, size_t sz, size_t n, void *ud)
{
	struct xfer *x = ud;
	struct oci_resp *rs = x->rs;
	size_t len = sz * n;
	if (x->rq->sink_fd >= 0) {
		if (rs->received + len > x->rq->sink_max) {
			x->too_big = true;
			return 0;
		}
		for (size_t off = 0; off < len;) {
			ssize_t w = write(x->rq->sink_fd, p + off, len - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				x->io_failed = true;
				return 0;
			}
			off += (size_t)w;
		}
		eimg_hash_update(x->h, p, len);
		rs->received += len;
		eimg_progress_add(x->p, len);
		return len;
	}
	if (rs->len + len > x->rq->max) {
		x->too_big = true;
		return 0;
	}
	if (rs->len + len + 1 > x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 4096;
		while (cap < rs->len + len + 1)
			cap *= 2;
		uint8_t *b = realloc(rs->body, cap);
		if (!b)
			return 0;
		rs->body = b;
		x->cap = cap;
	}
	memcpy(rs->body + rs->len, p, len);
	rs->len += len;
	rs->body[rs->len] = '\0';
	eimg_progress_add(x->p, len);
	return len;
}

static void header_value(const char *line, size_t n, size_t namelen, char *out, size_t size)
{
	const char *v = line + namelen;
	size_t vn = n - namelen;
	while (vn && (*v == ' ' || *v == '\t'))
		v++, vn--;
	while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
		vn--;
	if (vn >= size)
		vn = size - 1;
	memcpy(out, v, vn);
	out[vn] = '\0';
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
	struct xfer *x = ud;
	struct oci_resp *rs = x->rs;
	size_t len = sz * n;
	char dig[128];
#define IS(h) (len > sizeof(h) - 1 && strncasecmp(p, h, sizeof(h) - 1) == 0)
	if (IS("HTTP/")) { /* a new response (after a redirect or 100): forget the last one's headers */
		rs->content_type[0] = rs->digest[0] = rs->location[0] = x->challenge[0] = '\0';
		rs->oci_subject = false;
	} else if (IS("Content-Type:")) {
		header_value(p, len, 13, rs->content_type, sizeof(rs->content_type));
	} else if (IS("Docker-Content-Digest:")) {
		header_value(p, len, 22, dig, sizeof(dig));
		if (oci_digest_valid(dig))
			strcpy(rs->digest, dig);
	} else if (IS("Location:")) {
		header_value(p, len, 9, rs->location, sizeof(rs->location));
	} else if (IS("OCI-Subject:")) {
		rs->oci_subject = true;
	} else if (IS("WWW-Authenticate:")) {
		header_value(p, len, 17, x->challenge, sizeof(x->challenge));
	}
#undef IS
	return len;
}

static size_t on_read(char *p, size_t sz, size_t n, void *ud)
{
	struct xfer *x = ud;
	const struct oci_req *rq = x->rq;
	size_t want = sz * n;
	if (x->sent >= rq->body_len)
		return 0;
	if (want > rq->body_len - x->sent)
		want = (size_t)(rq->body_len - x->sent);
	if (rq->body_fd < 0) {
		memcpy(p, rq->body + x->sent, want);
		x->sent += want;
		eimg_progress_add(x->p, want);
		return want;
	}
	ssize_t r = pread(rq->body_fd, p, want, (off_t)x->sent);
	if (r <= 0)
		return CURL_READFUNC_ABORT;
	x->sent += (size_t)r;
	eimg_progress_add(x->p, (uint64_t)r);
	return (size_t)r;
}

static void set_common(struct oci_client *c, struct xfer *x, const char *url)
{
	CURL *h = c->curl;
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, strncmp(c->base, "http:", 5) == 0 ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)c->timeout);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)c->timeout);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "enclaveimg/" EIMG_VERSION);
}

/* One transfer.  Returns the CURLcode. */
static CURLcode perform(struct oci_client *c, struct xfer *x, const char *url, bool send_auth)
{
	const struct oci_req *rq = x->rq;
	struct curl_slist *hl = NULL;
	char line[600];
	set_common(c, x, url);
	hl = curl_slist_append(hl, "Expect:");
	if (rq->accept) {
		snprintf(line, sizeof(line), "Accept: %s", rq->accept);
		hl = curl_slist_append(hl, line);
	}
	if (rq->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", rq->content_type);
		hl = curl_slist_append(hl, line);
	}
	if (send_auth && c->auth_header)
		hl = curl_slist_append(hl, c->auth_header);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hl);
	if (strcmp(rq->method, "HEAD") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "GET") == 0) {
		curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(c->curl, CURLOPT_MAXREDIRS, 5L);
	} else {
		curl_easy_setopt(c->curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, rq->method);
		curl_easy_setopt(c->curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c->curl, CURLOPT_READDATA, x);
		curl_easy_setopt(c->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)rq->body_len);
	}
	CURLcode cc = curl_easy_perform(c->curl);
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->rs->status);
	curl_slist_free_all(hl);
	return cc;
}

/* Base64 of user:password as an Authorization header. */
static int basic_header(const char *creds, char **out)
{
	char *b = eimg_base64_encode((const uint8_t *)creds, strlen(creds));
	if (!b)
		return -1;
	size_t n = strlen(b) + 32;
	*out = malloc(n);
	if (*out)
		snprintf(*out, n, "Authorization: Basic %s", b);
	eimg_free_secret(b, strlen(b));
	return *out ? 0 : -1;
}

static int load_creds(struct oci_client *c, eimg_error *err)
{
	if (c->creds_loaded)
		return EIMG_OK;
	c->creds_loaded = true;
	return oci_auth_lookup(c->auth_file, c->hostport, &c->creds, err);
}

static int fetch_token(struct oci_client *c, const struct oci_challenge *ch, eimg_error *err)
{
	struct oci_req rq = {.method = "GET", .body_fd = -1, .sink_fd = -1, .max = EIMG_OCI_MAX_SMALL};
	struct oci_resp rs;
	struct xfer x = {.rq = &rq, .rs = &rs};
	char *url = NULL, *esc_s = curl_easy_escape(c->curl, ch->service, 0), *esc_p = curl_easy_escape(c->curl, ch->scope, 0);
	char *token = NULL;
	int rc;
	memset(&rs, 0, sizeof(rs));
	if (strncmp(ch->realm, "https://", 8) != 0 && strncmp(ch->realm, "http://", 7) != 0) {
		rc = eimg_err(err, EIMG_EINVAL, c->name, "the registry's token realm is not an http(s) URL");
		goto out;
	}
	if (!esc_s || !esc_p || asprintf(&url, "%s%sservice=%s%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?",
					 esc_s, ch->scope[0] ? "&scope=" : "", esc_p) < 0) {
		url = NULL;
		rc = eimg_err_nomem(err);
		goto out;
	}
	free_secret_str(&c->auth_header);
	if (c->creds && basic_header(c->creds, &c->auth_header) != 0) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	CURLcode cc = perform(c, &x, url, true);
	free_secret_str(&c->auth_header);
	if (cc != CURLE_OK) {
		rc = eimg_err(err, EIMG_EIO, c->name, "token service: %s", curl_easy_strerror(cc));
	} else if (rs.status != 200) {
		rc = eimg_err(err, EIMG_EIO, c->name, "token service refused: HTTP %ld%s", rs.status,
			      c->creds ? " (credentials refused)" : " (no credentials for this registry)");
	} else if (oci_token_parse(rs.body, rs.len, &token) != 0) {
		rc = eimg_err(err, EIMG_EINVAL, c->name, "the token service's answer holds no token");
	} else if (asprintf(&c->auth_header, "Authorization: Bearer %s", token) < 0) {
		c->auth_header = NULL;
		rc = eimg_err_nomem(err);
	} else {
		rc = EIMG_OK;
	}
out:
	free_secret_str(&token);
	if (rs.body)
		eimg_free_secret(rs.body, rs.len);
	curl_free(esc_s);
	curl_free(esc_p);
	free(url);
	return rc;
}

/* Answers a 401 challenge.  1: try again, 0: give up (the 401 stands). */
static int answer_challenge(struct oci_client *c, const char *header, eimg_error *err, int *rc)
{
	struct oci_challenge ch;
	*rc = EIMG_OK;
	if (oci_challenge_parse(header, &ch) != 0)
		return 0;
	if ((*rc = load_creds(c, err)) != EIMG_OK)
		return 0;
	if (strcasecmp(ch.scheme, "Bearer") == 0) {
		*rc = fetch_token(c, &ch, err);
		return *rc == EIMG_OK;
	}
	if (strcasecmp(ch.scheme, "Basic") == 0 && c->creds) {
		free_secret_str(&c->auth_header);
		if (basic_header(c->creds, &c->auth_header) != 0) {
			*rc = eimg_err_nomem(err);
			return 0;
		}
		return 1;
	}
	return 0;
}

static void backoff(unsigned attempt)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 250000000L};
	for (unsigned i = 0; i < attempt && ts.tv_sec < 4; i++) {
		ts.tv_nsec *= 2;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
	}
	nanosleep(&ts, NULL);
}

static int reset_attempt(struct xfer *x, eimg_error *err)
{
	const struct oci_req *rq = x->rq;
	free(x->rs->body);
	memset(x->rs, 0, sizeof(*x->rs));
	x->cap = 0;
	x->sent = 0;
	x->too_big = x->io_failed = false;
	if (x->p) /* each attempt from the start */
		eimg_progress_begin(x->p, rq->step, rq->body_len ? rq->body_len : rq->sink_max ? rq->sink_max - 1 : 0);
	if (rq->sink_fd >= 0) {
		if (ftruncate(rq->sink_fd, 0) != 0 || lseek(rq->sink_fd, 0, SEEK_SET) != 0)
			return eimg_err_sys(err, NULL, "cannot reset the download file");
		eimg_hash_free(x->h);
		x->h = eimg_hash_new(EIMG_SHA256);
		if (!x->h)
			return eimg_err_nomem(err);
	}
	return EIMG_OK;
}

static int transfer_error(struct oci_client *c, struct xfer *x, CURLcode cc, eimg_error *err)
{
	if (x->too_big)
		return eimg_err(err, EIMG_EINVAL, c->name, "%s %s: response above the limit of %llu bytes",
				x->rq->method, x->rq->path,
				(unsigned long long)(x->rq->sink_fd >= 0 ? x->rq->sink_max : x->rq->max));
	if (x->io_failed)
		return eimg_err_sys(err, c->name, "cannot write the download");
	return eimg_err(err, EIMG_EIO, c->name, "cannot reach the registry at %s: %s", c->base, curl_easy_strerror(cc));
}

int oci_request(struct oci_client *c, const struct oci_req *rq, struct oci_resp *rs, eimg_error *err)
{
	struct xfer x = {.rq = rq, .rs = rs, .p = rq->step ? c->progress : NULL};
	char url[2600];
	bool answered = false, same = strncmp(rq->path, "http", 4) != 0 || strncmp(rq->path, c->base, strlen(c->base)) == 0;
	int rc = EIMG_OK;
	if (strncmp(rq->path, "http", 4) == 0)
		snprintf(url, sizeof(url), "%s", rq->path);
	else
		snprintf(url, sizeof(url), "%s%s", c->base, rq->path);
	memset(rs, 0, sizeof(*rs));
	for (unsigned attempt = 0;; attempt++) {
		if ((rc = reset_attempt(&x, err)) != EIMG_OK)
			break;
		CURLcode cc = perform(c, &x, url, same);
		bool transient = cc != CURLE_OK ? !x.too_big && !x.io_failed : rs->status == 429 || rs->status >= 500;
		if (cc == CURLE_OK && rs->status == 401 && !answered && same && x.challenge[0]) {
			char ch[sizeof(x.challenge)];
			strcpy(ch, x.challenge);
			answered = true;
			if (answer_challenge(c, ch, err, &rc))
				continue;
			if (rc)
				break;
		}
		if (transient && attempt < c->retries) {
			backoff(attempt);
			continue;
		}
		if (cc != CURLE_OK)
			rc = transfer_error(c, &x, cc, err);
		break;
	}
	if (rc == EIMG_OK && rq->sink_fd >= 0)
		eimg_hash_final(x.h, rs->sha256);
	eimg_progress_end(x.p); /* a failed transfer's line ends before its error */
	eimg_hash_free(x.h);
	if (rc) {
		free(rs->body);
		memset(rs, 0, sizeof(*rs));
	}
	return rc;
}

int oci_status_error(const struct oci_client *c, const struct oci_resp *rs, const char *what, eimg_error *err)
{
	char detail[300], hint[160] = "";
	const char *text = rs->status == 401 ? "unauthorized" : rs->status == 403 ? "forbidden"
			   : rs->status == 404 ? "not found" : rs->status == 429 ? "too many requests"
			   : rs->status >= 500 ? "registry error" : "unexpected status";
	oci_error_body(rs->body, rs->len, detail, sizeof(detail));
	if (rs->status == 401)
		snprintf(hint, sizeof(hint), "; credentials: $REGISTRY_AUTH_FILE or ~/.docker/config.json");
	return eimg_err(err, rs->status == 404 ? EIMG_EINVAL : EIMG_EIO, c->name, "%s: HTTP %ld %s%s%s%s%s", what,
			rs->status, text, detail[0] ? " (" : "", detail, detail[0] ? ")" : "", hint);
}
