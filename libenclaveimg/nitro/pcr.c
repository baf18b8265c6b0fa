/* SPDX-License-Identifier: Apache-2.0 */
/* One streaming pass over an EIF: CRC-32 and PCR0/PCR1/PCR2.
 *
 * The file is read once, in chunks cut at section boundaries.  Each chunk
 * goes to two hashing threads at once: thread A extends PCR0 (kernel,
 * cmdline, every ramdisk), thread B extends PCR1 (kernel, cmdline, first
 * ramdisk) or PCR2 (later ramdisks).  The CRC of each chunk is computed by
 * one of the two threads, alternately, and the reading thread joins the
 * chunk CRCs in file order with crc32_combine().  Memory use is a fixed ring
 * of chunk buffers, whatever the size of the file. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "eimg/hash.h"
#include "core/internal.h"
#include "eimg/progress.h"
#include "nitro/nitro_int.h"

#define CHUNK (1u << 20)
#define NSLOTS 8
#define THREAD_MIN (4u << 20) /* below this, one thread does everything */

struct chunk {
	uint8_t *buf;        /* owned buffer (file input) */
	const uint8_t *p;
	size_t len;
	uint8_t pcr0;        /* part of PCR0 */
	uint8_t pcrb;        /* 0, 1 (PCR1) or 2 (PCR2) */
	uint8_t crc_by;      /* thread that computes the CRC */
	uint8_t body;        /* after the header, before a signature section */
	uint32_t crc;
};

/* A region of the file with one role. */
struct region {
	uint64_t off, len;
	uint8_t pcr0, pcrb, body;
};

struct pass {
	const char *name;
	const uint8_t *mem;  /* memory input, or NULL */
	int fd;
	uint64_t base;       /* file offset of the EIF (an image member) */
	struct region reg[2 + 2 * EIMG_EIF_MAX_SECTIONS];
	unsigned nreg, cur;
	uint64_t pos;        /* offset inside the current region */
	eimg_hash *h[3];     /* PCR0, PCR1, PCR2 data hashes */
	struct chunk slot[NSLOTS];
	uint64_t produced, done[2], combined;
	int finished, failed;
	uint32_t crc;
	uint32_t body_crc;   /* CRC of the bytes from 548 up to the signature section */
	uint64_t body_len;
	struct eimg_progress *progress; /* "hashing": bytes read, or NULL */
	int copy_fd;         /* > 0: the body is also written there, at copy_at + its offset */
	uint64_t copy_at;
	pthread_mutex_t m;
	pthread_cond_t more, freed;
};

static void build_regions(struct pass *ps, const eimg_eif_layout *l)
{
	unsigned n = 0, ram = 0;
	int before_sig = 1;
	ps->reg[n++] = (struct region){ 0, EIMG_EIF_CRC_OFFSET, 0, 0, 0 };
	for (unsigned i = 0; i < l->nsections; i++) {
		const struct eimg_eif_section *s = &l->sections[i];
		if (s->type == EIMG_EIF_SIGNATURE)
			before_sig = 0;
		ps->reg[n++] = (struct region){ s->offset, EIMG_EIF_SECTION_HEADER_SIZE, 0, 0, (uint8_t)before_sig };
		struct region r = { s->offset + EIMG_EIF_SECTION_HEADER_SIZE, s->size, 0, 0, (uint8_t)before_sig };
		switch (s->type) {
		case EIMG_EIF_KERNEL:
		case EIMG_EIF_CMDLINE:
			r.pcr0 = 1;
			r.pcrb = 1;
			break;
		case EIMG_EIF_RAMDISK:
			r.pcr0 = 1;
			r.pcrb = ram++ == 0 ? 1 : 2;
			break;
		default:
			break;
		}
		ps->reg[n++] = r;
	}
	ps->nreg = n;
}

/* Fills c with the next chunk; returns 0 at the end, 1 with a chunk, <0 on error. */
static int next_chunk(struct pass *ps, struct chunk *c, uint64_t seq, eimg_error *err)
{
	while (ps->cur < ps->nreg && ps->pos >= ps->reg[ps->cur].len) {
		ps->cur++;
		ps->pos = 0;
	}
	if (ps->cur >= ps->nreg)
		return 0;
	const struct region *r = &ps->reg[ps->cur];
	uint64_t left = r->len - ps->pos;
	size_t n = left > CHUNK ? CHUNK : (size_t)left;
	uint64_t off = r->off + ps->pos;
	if (ps->mem) {
		c->p = ps->mem + off;
	} else {
		size_t got = 0;
		while (got < n) {
			ssize_t k = pread(ps->fd, c->buf + got, n - got, (off_t)(ps->base + off + got));
			if (k < 0) {
				if (errno == EINTR)
					continue;
				eimg_err_sys(err, ps->name, "cannot read");
				return -1;
			}
			if (k == 0) {
				eimg_err(err, EIMG_EINVAL, ps->name, "truncated: file shrank while being measured");
				return -1;
			}
			got += (size_t)k;
		}
		c->p = c->buf;
		/* Signing: the very bytes hashed are the bytes written. */
		if (ps->copy_fd > 0 && r->body &&
		    eimg_pwrite_all(ps->copy_fd, c->buf, n, ps->copy_at + off, ps->name, "cannot write the copy", err))
			return -1;
	}
	c->len = n;
	eimg_progress_add(ps->progress, n);
	c->pcr0 = r->pcr0;
	c->pcrb = r->pcrb;
	c->body = r->body;
	c->crc_by = (uint8_t)(seq & 1);
	c->crc = 0;
	ps->pos += n;
	return 1;
}

/* The work of thread t (0: PCR0, 1: PCR1/PCR2) on one chunk. */
static int work(struct pass *ps, struct chunk *c, int t)
{
	int rc = EIMG_OK;
	if (t == 0 && c->pcr0)
		rc = eimg_hash_update(ps->h[0], c->p, c->len);
	if (t == 1 && c->pcrb)
		rc = eimg_hash_update(ps->h[c->pcrb], c->p, c->len);
	if (c->crc_by == t)
		c->crc = eimg_crc32(0, c->p, c->len);
	return rc;
}

static void combine(struct pass *ps, const struct chunk *c)
{
	ps->crc = (uint32_t)crc32_combine(ps->crc, c->crc, (z_off_t)c->len);
	if (c->body) {
		ps->body_crc = (uint32_t)crc32_combine(ps->body_crc, c->crc, (z_off_t)c->len);
		ps->body_len += c->len;
	}
}

struct worker_arg {
	struct pass *ps;
	int t;
};

static void *worker(void *arg)
{
	struct pass *ps = ((struct worker_arg *)arg)->ps;
	int t = ((struct worker_arg *)arg)->t;
	uint64_t next = 0;
	for (;;) {
		pthread_mutex_lock(&ps->m);
		while (next >= ps->produced && !ps->finished)
			pthread_cond_wait(&ps->more, &ps->m);
		if (next >= ps->produced) {
			pthread_mutex_unlock(&ps->m);
			break;
		}
		struct chunk *c = &ps->slot[next % NSLOTS];
		pthread_mutex_unlock(&ps->m);
		int rc = work(ps, c, t);
		pthread_mutex_lock(&ps->m);
		if (rc)
			ps->failed = 1;
		ps->done[t] = ++next;
		pthread_cond_signal(&ps->freed);
		pthread_mutex_unlock(&ps->m);
	}
	return NULL;
}

static uint64_t min_done(const struct pass *ps)
{
	return ps->done[0] < ps->done[1] ? ps->done[0] : ps->done[1];
}

static int run_threaded(struct pass *ps, eimg_error *err)
{
	pthread_t th[2];
	struct worker_arg wa[2] = { { ps, 0 }, { ps, 1 } };
	int started = 0, rc = EIMG_OK;

	for (; started < 2; started++) {
		if (pthread_create(&th[started], NULL, worker, &wa[started]) != 0) {
			rc = eimg_err(err, EIMG_EIO, ps->name, "cannot start a hashing thread");
			break;
		}
	}
	for (uint64_t seq = 0; rc == EIMG_OK; seq++) {
		struct chunk *c = &ps->slot[seq % NSLOTS];
		pthread_mutex_lock(&ps->m);
		while (seq - min_done(ps) >= NSLOTS)
			pthread_cond_wait(&ps->freed, &ps->m);
		/* Every chunk before seq - NSLOTS + 1 is finished: join their CRCs in order. */
		while (ps->combined < min_done(ps)) {
			combine(ps, &ps->slot[ps->combined % NSLOTS]);
			ps->combined++;
		}
		pthread_mutex_unlock(&ps->m);
		int k = next_chunk(ps, c, seq, err);
		if (k < 0)
			rc = err ? err->code : EIMG_EIO;
		if (k <= 0)
			break;
		pthread_mutex_lock(&ps->m);
		ps->produced = seq + 1;
		pthread_cond_broadcast(&ps->more);
		pthread_mutex_unlock(&ps->m);
	}
	pthread_mutex_lock(&ps->m);
	ps->finished = 1;
	pthread_cond_broadcast(&ps->more);
	pthread_mutex_unlock(&ps->m);
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (rc == EIMG_OK && started == 2) {
		while (ps->combined < ps->produced) {
			combine(ps, &ps->slot[ps->combined % NSLOTS]);
			ps->combined++;
		}
		if (ps->failed)
			rc = eimg_err(err, EIMG_EINTERNAL, ps->name, "hashing failed");
	}
	return rc;
}

static int run_single(struct pass *ps, eimg_error *err)
{
	for (uint64_t seq = 0;; seq++) {
		struct chunk *c = &ps->slot[0];
		int k = next_chunk(ps, c, seq, err);
		if (k < 0)
			return err ? err->code : EIMG_EIO;
		if (k == 0)
			return EIMG_OK;
		if (work(ps, c, 0) || work(ps, c, 1))
			return eimg_err(err, EIMG_EINTERNAL, ps->name, "hashing failed");
		combine(ps, c);
	}
}

void eimg_nitro_extend(const uint8_t digest[48], uint8_t pcr[48])
{
	uint8_t b[96];
	memset(b, 0, 48);
	memcpy(b + 48, digest, 48);
	eimg_sha384(b, sizeof(b), pcr);
}

static int measure(struct pass *ps, const eimg_eif_layout *l, int threads, struct eimg_nitro_digest *out,
		   eimg_error *err)
{
	int rc = EIMG_OK;
	int slots = 0, sync = 0;

	build_regions(ps, l);
	uint64_t total = 0;   /* the bytes read: every region */
	for (unsigned i = 0; i < ps->nreg; i++)
		total += ps->reg[i].len;
	eimg_progress_begin(ps->progress, "hashing", total);
	for (int i = 0; i < 3; i++) {
		ps->h[i] = eimg_hash_new(EIMG_SHA384);
		if (!ps->h[i]) {
			rc = eimg_err_nomem(err);
			goto out;
		}
	}
	if (threads == 0)
		threads = l->file_size >= THREAD_MIN ? 2 : 1;
	slots = threads == 2 ? NSLOTS : 1;
	if (!ps->mem) {
		for (int i = 0; i < slots; i++) {
			ps->slot[i].buf = malloc(CHUNK);
			if (!ps->slot[i].buf) {
				rc = eimg_err_nomem(err);
				goto out;
			}
		}
	}
	if (threads == 2) {
		pthread_mutex_init(&ps->m, NULL);
		pthread_cond_init(&ps->more, NULL);
		pthread_cond_init(&ps->freed, NULL);
		sync = 1;
		rc = run_threaded(ps, err);
	} else {
		rc = run_single(ps, err);
	}
	if (rc)
		goto out;
	uint8_t d[48];
	struct eimg_nitro_digest r;
	memset(&r, 0, sizeof(r));
	for (int i = 0; i < 3; i++) {
		if (eimg_hash_final(ps->h[i], d)) {
			rc = eimg_err(err, EIMG_EINTERNAL, ps->name, "hashing failed");
			goto out;
		}
		eimg_nitro_extend(d, i == 0 ? r.pcr0 : i == 1 ? r.pcr1 : r.pcr2);
	}
	r.crc = ps->crc;
	r.body_crc = ps->body_crc;
	r.body_len = ps->body_len;
	*out = r;
out:
	if (sync) {
		pthread_mutex_destroy(&ps->m);
		pthread_cond_destroy(&ps->more);
		pthread_cond_destroy(&ps->freed);
	}
	for (int i = 0; i < NSLOTS; i++)
		free(ps->slot[i].buf);
	for (int i = 0; i < 3; i++)
		eimg_hash_free(ps->h[i]);
	eimg_progress_end(ps->progress);
	return rc;
}

int eimg_nitro_pcr_buffer(const char *source, const uint8_t *buf, const eimg_eif_layout *l, int threads,
			  struct eimg_nitro_digest *out, eimg_error *err)
{
	return eimg_nitro_pcr_buffer_progress(source, buf, l, threads, NULL, out, err);
}

int eimg_nitro_pcr_buffer_progress(const char *source, const uint8_t *buf, const eimg_eif_layout *l, int threads,
				   struct eimg_progress *progress, struct eimg_nitro_digest *out, eimg_error *err)
{
	struct pass ps;
	memset(&ps, 0, sizeof(ps));
	ps.name = source ? source : "EIF";
	ps.mem = buf;
	ps.fd = -1;
	ps.progress = progress;
	return measure(&ps, l, threads, out, err);
}

int eimg_nitro_pcr_fd(const char *source, int fd, const eimg_eif_layout *l, int threads,
		      struct eimg_nitro_digest *out, eimg_error *err)
{
	return eimg_nitro_pcr_fd_progress(source, fd, l, threads, NULL, 0, 0, out, err);
}

int eimg_nitro_pcr_fd_progress(const char *source, int fd, const eimg_eif_layout *l, int threads,
			       struct eimg_progress *progress, int copy_fd, uint64_t copy_at, struct eimg_nitro_digest *out,
			       eimg_error *err)
{
	struct pass ps;
	memset(&ps, 0, sizeof(ps));
	ps.copy_fd = copy_fd;
	ps.copy_at = copy_at;
	ps.name = source ? source : "EIF";
	ps.fd = fd;
	ps.base = l->base;
	ps.progress = progress;
	return measure(&ps, l, threads, out, err);
}
