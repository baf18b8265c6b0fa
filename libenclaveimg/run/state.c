/* SPDX-License-Identifier: Apache-2.0 */
/* The host services behind the enclave's sealing and state ocalls
 * (run/state_int.h): simulated sealing keys, reading the state file, and
 * replacing it atomically.  Requests come from the enclave: untrusted,
 * every length checked. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "crypto/crypto.h"
#include "run/sim_int.h"
#include "run/state_int.h"

struct eimg_state {
	char *dir, *file;
	uint8_t secret[EIMG_SEAL_SECRET];
	struct eimg_identity id;
	pthread_mutex_t lock;
};

/* Reads the secret, or makes it (O_EXCL: two runs never race to two secrets). */
static int load_secret(const char *dir, uint8_t secret[EIMG_SEAL_SECRET], eimg_error *err)
{
	char path[4096];
	uint8_t *buf = NULL;
	size_t len = 0;
	snprintf(path, sizeof path, "%s/%s", dir, EIMG_STATE_SECRET);
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		int rc = eimg_random_bytes(secret, EIMG_SEAL_SECRET, err);
		if (rc == EIMG_OK && (write(fd, secret, EIMG_SEAL_SECRET) != EIMG_SEAL_SECRET || fsync(fd) != 0))
			rc = eimg_err_sys(err, path, "cannot write the simulation sealing secret");
		close(fd);
		if (rc)
			unlink(path);
		return rc;
	}
	if (errno != EEXIST)
		return eimg_err_sys(err, path, "cannot create the simulation sealing secret");
	int rc = eimg_read_file(path, 64, &buf, &len, err);
	if (rc)
		return rc;
	if (len != EIMG_SEAL_SECRET)
		rc = eimg_err(err, EIMG_EINVAL, path, "a sealing secret is %d bytes, this is %zu", EIMG_SEAL_SECRET, len);
	else
		memcpy(secret, buf, EIMG_SEAL_SECRET);
	eimg_free_secret(buf, len + 1);
	return rc;
}

int eimg_state_open(const char *dir, const struct eimg_identity *id, struct eimg_state **out, eimg_error *err)
{
	struct stat st;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return eimg_err_sys(err, dir, "cannot create the state folder");
	if (stat(dir, &st) != 0)
		return eimg_err_sys(err, dir, "cannot use the state folder");
	if (!S_ISDIR(st.st_mode))
		return eimg_err(err, EIMG_EINVAL, dir, "not a folder (--state names a folder)");
	struct eimg_state *s = calloc(1, sizeof *s);
	if (!s || asprintf(&s->file, "%s/%s", dir, EIMG_STATE_FILE) < 0 || !(s->dir = strdup(dir))) {
		if (s)
			free(s->file);
		free(s);
		return eimg_err_nomem(err);
	}
	int rc = load_secret(dir, s->secret, err);
	if (rc) {
		eimg_state_close(s);
		return rc;
	}
	s->id = *id;
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return EIMG_OK;
}

void eimg_state_close(struct eimg_state *s)
{
	if (!s)
		return;
	explicit_bzero(s->secret, sizeof s->secret);
	free(s->dir);
	free(s->file);
	free(s);
}

static uint64_t seal_key(struct eimg_state *s, uint8_t *buf, size_t len, size_t cap)
{
	uint8_t key[16];
	eimg_error err;
	if (len != 40 || cap < 18)
		return EIMG_OCALL_EBADREQ;
	int policy = eimg_get_le16(buf);
	uint16_t svn = eimg_get_le16(buf + 2);
	if (policy != EIMG_SEAL_MRENCLAVE && policy != EIMG_SEAL_MRSIGNER)
		return EIMG_OCALL_EBADREQ;
	if (svn == 0xffff)
		svn = s->id.isvsvn;
	if (svn > s->id.isvsvn)   /* as EGETKEY: no keys of later versions */
		return EIMG_OCALL_EDENIED;
	if (eimg_seal_sim_key(s->secret, policy, &s->id, svn, buf + 8, key, &err))
		return EIMG_OCALL_EIO;
	memcpy(buf, key, 16);
	eimg_le16(buf + 16, svn);
	explicit_bzero(key, sizeof key);
	return 18;
}

static uint64_t state_read(struct eimg_state *s, uint8_t *buf, size_t cap)
{
	struct stat st;
	int fd = open(s->file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? EIMG_OCALL_ENOENT : EIMG_OCALL_EIO;
	uint64_t r = EIMG_OCALL_EIO;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uint64_t)st.st_size > cap) {
			r = EIMG_OCALL_ETOOBIG;
		} else {
			size_t got = 0;
			ssize_t n;
			while (got < (size_t)st.st_size && (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
				got += (size_t)n;
			if (got == (size_t)st.st_size)
				r = got;
		}
	}
	close(fd);
	return r;
}

/* Replaces the state file: the new bytes are on disk (fsync) before the
 * rename, and the rename is on disk (fsync of the folder) before the
 * enclave hears "committed".  A crash at any point leaves the old file or
 * the new one, never a mix. */
static uint64_t state_write(struct eimg_state *s, const uint8_t *buf, size_t len)
{
	struct eimg_outfile o;
	eimg_error err;
	if (eimg_outfile_open(&o, s->file, &err))
		return EIMG_OCALL_EIO;
	if (eimg_outfile_write(&o, buf, len, &err) || eimg_outfile_commit(&o, &err)) {
		eimg_outfile_abort(&o);
		return EIMG_OCALL_EIO;
	}
	int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ok = dfd >= 0 && fsync(dfd) == 0;
	if (dfd >= 0)
		close(dfd);
	return ok ? 0 : EIMG_OCALL_EIO;
}

uint64_t eimg_state_ocall(struct eimg_state *s, uint64_t op, uint8_t *buf, size_t len, size_t cap)
{
	uint64_t r;
	if (!s)
		return EIMG_OCALL_ENOSTATE;
	if (len > cap)
		return EIMG_OCALL_EBADREQ;
	pthread_mutex_lock(&s->lock);
	switch (op) {
	case EIMG_OCALL_SEAL_KEY: r = seal_key(s, buf, len, cap); break;
	case EIMG_OCALL_STATE_READ: r = len ? EIMG_OCALL_EBADREQ : state_read(s, buf, cap); break;
	case EIMG_OCALL_STATE_WRITE: r = state_write(s, buf, len); break;
	default: r = EIMG_OCALL_EBADREQ; break;
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

uint64_t eimg_state_ocall_fn(void *ctx, uint32_t tcs, uint64_t op, uint8_t *buf, size_t len, size_t cap)
{
	(void)tcs;
	return eimg_state_ocall(ctx, op, buf, len, cap);
}

void *eimg_state_serve(void *arg)
{
	struct eimg_state_server *sv = arg;
	uint8_t hdr[CH_HDR];
	uint8_t *buf = malloc(sv->max ? sv->max : 1);
	while (buf && eimg_fd_read_all(sv->fd, hdr, CH_HDR) == 1) {
		/* the worker runs the enclave's code: nothing it says is trusted */
		uint32_t len = eimg_get_le32(hdr);
		uint64_t op = eimg_get_le64(hdr + 8), cap = eimg_get_le64(hdr + 16);
		if (eimg_get_le32(hdr + 4) != CH_OCALL || len > sv->max || (len && eimg_fd_read_all(sv->fd, buf, len) != 1))
			break;
		uint64_t r = eimg_state_ocall(sv->s, op, buf, len, cap < sv->max ? (size_t)cap : sv->max);
		uint32_t alen = r < EIMG_OCALL_EFIRST ? (uint32_t)r : 0;
		eimg_ch_header(hdr, alen, CH_OCALL, r, 0);
		if (eimg_fd_write_all(sv->fd, hdr, CH_HDR) != 0 || (alen && eimg_fd_write_all(sv->fd, buf, alen) != 0))
			break;
		if (alen)
			explicit_bzero(buf, alen);
	}
	free(buf);
	return NULL;
}
