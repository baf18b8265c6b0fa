/* SPDX-License-Identifier: Apache-2.0 */
/* An EIF written as a stream into a file: the header and the sections held
 * in memory first, then the last section (the application ramdisk) as its
 * writer produces it; its size, the section table and the CRC are put in
 * place at the end (pwrite).  The CRC and the PCR data hashes are computed
 * on the way, so nothing is read back.
 *
 * A pipeline over a ring of EIMG_EIF_RING pieces of 1 MiB: this thread (the
 * producer: the ramdisk writer's callbacks, which read the files) fills a
 * piece, hands it over and writes it to the file; two workers hash every
 * piece in order, each at its own pace: worker 0 for PCR0, worker 1 for
 * PCR1 or PCR2 and the CRC (the producer already reads, copies and writes
 * every byte).  A piece is filled again only when both workers are done
 * with it: memory stays at EIMG_EIF_RING MiB.  The file's write-back is
 * started behind the stream (sync_file_range), and when the file is one
 * that stays (it has a name: the output, not an unlinked scratch file) a
 * flusher thread makes what was written durable every FLUSH_STEP
 * (fdatasync), so that the output's final fsync, which would otherwise wait
 * for the whole EIF to reach the disk (about 0.4 s per GiB here), finds
 * little left to do.  A worker that cannot have its own thread runs on this
 * one, in order, when each piece is handed over (the results are the
 * same).  On any failure the workers stop at the next piece and _free joins
 * them. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eimg/hash.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"

#define PIECE (1u << 20)
#define SYNC_STEP (8ull << 20)   /* start the write-back of every 8 MiB written */
#define FLUSH_STEP (64ull << 20) /* and make every 64 MiB durable */

/* Worker k's part of one piece. */
static int piece_work(struct eimg_eif_stream *s, unsigned k, const uint8_t *p, size_t n)
{
	if (k == 0)
		return eimg_hash_update(s->h[0], p, n);
	s->crc_tail = eimg_crc32(s->crc_tail, p, n);
	return eimg_hash_update(s->h[s->tail_pcr], p, n);
}

static void *worker(void *arg)
{
	const struct eimg_eif_worker *w = arg;
	struct eimg_eif_stream *s = w->s;
	pthread_mutex_lock(&s->m);
	for (;;) {
		while (s->done[w->k] == s->filled && !s->stop)
			pthread_cond_wait(&s->work, &s->m);
		if (s->done[w->k] == s->filled || s->abort || s->failed)
			break;
		unsigned slot = (unsigned)(s->done[w->k] % EIMG_EIF_RING);
		pthread_mutex_unlock(&s->m);
		int r = piece_work(s, w->k, s->ring[slot], s->len[slot]);
		pthread_mutex_lock(&s->m);
		s->failed |= r != 0;
		s->done[w->k]++;
		pthread_cond_broadcast(&s->room);
	}
	pthread_mutex_unlock(&s->m);
	return NULL;
}

/* The flusher: fdatasync whenever asked, off the producer's path. */
static void *flusher(void *arg)
{
	struct eimg_eif_stream *s = arg;
	pthread_mutex_lock(&s->m);
	for (;;) {
		while (s->flushed == s->flush_want && !s->stop)
			pthread_cond_wait(&s->work, &s->m);
		if (s->flushed == s->flush_want || s->abort || s->flush_errno)
			break;
		uint64_t want = s->flush_want;
		pthread_mutex_unlock(&s->m);
		int e = fdatasync(s->fd) == 0 ? 0 : errno;
		pthread_mutex_lock(&s->m);
		s->flushed = want;
		/* An unsupported call is no failure; a write error reported here
		 * would not be reported again to the output's final fsync. */
		if (e && e != EINVAL && e != EROFS)
			s->flush_errno = e;
	}
	pthread_mutex_unlock(&s->m);
	return NULL;
}

/* A file with a name stays: worth making durable on the way. */
static bool kept_file(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 0;
}

static void start_workers(struct eimg_eif_stream *s)
{
	if (pthread_mutex_init(&s->m, NULL) != 0)
		return;
	if (pthread_cond_init(&s->work, NULL) != 0) {
		pthread_mutex_destroy(&s->m);
		return;
	}
	if (pthread_cond_init(&s->room, NULL) != 0) {
		pthread_cond_destroy(&s->work);
		pthread_mutex_destroy(&s->m);
		return;
	}
	s->locks = true;
	for (unsigned k = 0; k < 2; k++) {
		s->wk[k] = (struct eimg_eif_worker){ s, k };
		if (pthread_create(&s->th[k], NULL, worker, &s->wk[k]) != 0)
			break;
		s->threads = k + 1;
	}
	if (s->threads == 2 && kept_file(s->fd) && pthread_create(&s->fth, NULL, flusher, s) == 0)
		s->flusher = true;
}

/* Stops the workers: after the pieces handed over (drain), or at once. */
static void stop_workers(struct eimg_eif_stream *s, bool drain)
{
	if (!s->locks)
		return;
	pthread_mutex_lock(&s->m);
	s->stop = true;
	s->abort |= !drain;
	pthread_cond_broadcast(&s->work);
	pthread_mutex_unlock(&s->m);
	for (unsigned k = 0; k < s->threads; k++)
		pthread_join(s->th[k], NULL);
	if (s->flusher)
		pthread_join(s->fth, NULL);
	s->flusher = false;
	pthread_cond_destroy(&s->room);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->m);
	s->threads = 0;
	s->locks = false;
}

static int put_raw(struct eimg_eif_stream *s, const void *p, size_t n, eimg_error *err)
{
	return eimg_write_all(s->fd, p, n, s->name, "cannot write", err);
}

/* A section of the fixed part: header and data, CRC and hashes updated. */
static int put_fixed(struct eimg_eif_stream *s, const struct eimg_eif_part *p, int pcrb, eimg_error *err)
{
	uint8_t sh[EIMG_EIF_SECTION_HEADER_SIZE];
	eimg_be16(sh, p->type);
	eimg_be16(sh + 2, 0);
	eimg_be64(sh + 4, p->size);
	s->crc_fixed = eimg_crc32(s->crc_fixed, sh, sizeof(sh));
	s->crc_fixed = eimg_crc32(s->crc_fixed, p->data, p->size);
	s->fixed_len += sizeof(sh) + p->size;
	if (pcrb && (eimg_hash_update(s->h[0], p->data, p->size) || eimg_hash_update(s->h[pcrb], p->data, p->size)))
		return eimg_err(err, EIMG_EINTERNAL, s->name, "hashing failed");
	int rc = put_raw(s, sh, sizeof(sh), err);
	return rc ? rc : put_raw(s, p->data, p->size, err);
}

static int pcr_of(uint16_t type, unsigned *ram)
{
	if (type == EIMG_EIF_KERNEL || type == EIMG_EIF_CMDLINE)
		return 1;
	if (type == EIMG_EIF_RAMDISK)
		return (*ram)++ == 0 ? 1 : 2;
	return 0;
}

int eimg_eif_stream_begin(struct eimg_eif_stream *s, const char *name, int fd, const struct eimg_eif_write_opts *o,
			  const struct eimg_eif_part *parts, size_t nparts, eimg_error *err)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->name = name;
	int rc = eimg_eif_check_order(parts, nparts, err);
	if (rc)
		return rc;
	if (o->flags & ~EIMG_EIF_FLAG_AARCH64)
		return eimg_err(err, EIMG_EUSAGE, NULL, "EIF: unknown header flags 0x%04x", o->flags);
	if (parts[nparts - 1].type != EIMG_EIF_RAMDISK)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "EIF stream: the last section must be a ramdisk");
	off_t start = lseek(fd, 0, SEEK_CUR);
	if (start < 0)
		return eimg_err_sys(err, name, "cannot write an EIF here");
	s->start = (uint64_t)start;
	s->opts = *o;
	s->n = (unsigned)nparts;
	for (size_t i = 0; i < nparts; i++)
		s->sizes[i] = parts[i].size;
	for (int i = 0; i < 3; i++)
		if (!(s->h[i] = eimg_hash_new(EIMG_SHA384)))
			return eimg_err_nomem(err);
	for (int i = 0; i < EIMG_EIF_RING; i++)
		if (!(s->ring[i] = malloc(PIECE)))
			return eimg_err_nomem(err);
	uint8_t zero[EIMG_EIF_HEADER_SIZE] = { 0 };
	unsigned ram = 0;
	if ((rc = put_raw(s, zero, sizeof(zero), err)))
		return rc;
	for (size_t i = 0; i + 1 < nparts && !rc; i++)
		rc = put_fixed(s, &parts[i], pcr_of(parts[i].type, &ram), err);
	s->tail_pcr = pcr_of(EIMG_EIF_RAMDISK, &ram);
	if (!rc) /* the streamed section's header: its size comes at the end */
		rc = put_raw(s, zero, EIMG_EIF_SECTION_HEADER_SIZE, err);
	if (rc)
		return rc;
	start_workers(s);
	return EIMG_OK;
}

/* Waits until the piece to fill next is free (both workers are done with
 * what it held). */
static int take_slot(struct eimg_eif_stream *s, eimg_error *err)
{
	bool failed = false;
	if (s->threads) {
		pthread_mutex_lock(&s->m);
		while (!s->failed && (s->filled - s->done[0] >= EIMG_EIF_RING || s->filled - s->done[1] >= EIMG_EIF_RING))
			pthread_cond_wait(&s->room, &s->m);
		failed = s->failed;
		pthread_mutex_unlock(&s->m);
	}
	if (failed)
		return eimg_err(err, EIMG_EINTERNAL, s->name, "hashing failed");
	s->have_slot = true;
	return EIMG_OK;
}

/* Starts the write-back of what was streamed so far, and asks the flusher
 * to make it durable, in steps. */
static void start_writeback(struct eimg_eif_stream *s)
{
	if (s->tail - s->synced < SYNC_STEP)
		return;
#ifdef SYNC_FILE_RANGE_WRITE
	uint64_t at = s->start + EIMG_EIF_HEADER_SIZE + s->fixed_len + EIMG_EIF_SECTION_HEADER_SIZE;
	(void)sync_file_range(s->fd, (off_t)(at + s->synced), (off_t)(s->tail - s->synced), SYNC_FILE_RANGE_WRITE);
#endif
	s->synced = s->tail;
	if (s->flusher && s->tail - s->flush_want >= FLUSH_STEP) {
		pthread_mutex_lock(&s->m);
		if (s->flushed == s->flush_want) { /* else it is still at work: next time */
			s->flush_want = s->tail;
			pthread_cond_broadcast(&s->work);
		}
		pthread_mutex_unlock(&s->m);
	}
}

/* Hands the filled piece to the workers (those without a thread run now),
 * then writes it. */
static int flush(struct eimg_eif_stream *s, eimg_error *err)
{
	unsigned slot = (unsigned)(s->filled % EIMG_EIF_RING);
	const uint8_t *p = s->ring[slot];
	size_t n = s->used;
	if (n == 0)
		return EIMG_OK;
	if (s->tail + n > EIMG_EIF_MAX_FILE - s->fixed_len - EIMG_EIF_HEADER_SIZE - EIMG_EIF_SECTION_HEADER_SIZE)
		return eimg_err(err, EIMG_EINVAL, s->name, "EIF: above the limit of %llu bytes",
				(unsigned long long)EIMG_EIF_MAX_FILE);
	for (unsigned k = s->threads; k < 2; k++)
		if (piece_work(s, k, p, n))
			return eimg_err(err, EIMG_EINTERNAL, s->name, "hashing failed");
	s->len[slot] = n;
	if (s->threads) {
		pthread_mutex_lock(&s->m);
		s->filled++;
		for (unsigned k = s->threads; k < 2; k++)
			s->done[k] = s->filled;
		pthread_cond_broadcast(&s->work);
		pthread_mutex_unlock(&s->m);
	} else {
		s->filled++;
		s->done[0] = s->done[1] = s->filled;
	}
	s->tail += n;
	s->used = 0;
	s->have_slot = false;
	int rc = put_raw(s, p, n, err);
	if (!rc)
		start_writeback(s);
	return rc;
}

int eimg_eif_stream_write(void *ctx, const void *p, size_t n, eimg_error *err)
{
	struct eimg_eif_stream *s = ctx;
	const uint8_t *b = p;
	while (n > 0) {
		int rc = s->have_slot ? EIMG_OK : take_slot(s, err);
		if (rc)
			return rc;
		size_t k = PIECE - s->used < n ? PIECE - s->used : n;
		memcpy(s->ring[s->filled % EIMG_EIF_RING] + s->used, b, k);
		s->used += k;
		b += k;
		n -= k;
		if (s->used == PIECE && (rc = flush(s, err)))
			return rc;
	}
	return EIMG_OK;
}

static int pwrite_all(struct eimg_eif_stream *s, const uint8_t *p, size_t n, uint64_t off, eimg_error *err)
{
	return eimg_pwrite_all(s->fd, p, n, s->start + off, s->name, err);
}

int eimg_eif_stream_end(struct eimg_eif_stream *s, uint64_t *len, struct eimg_nitro_digest *dg, eimg_error *err)
{
	uint64_t offs[EIMG_EIF_MAX_SECTIONS], pos = EIMG_EIF_HEADER_SIZE;
	uint8_t h[EIMG_EIF_HEADER_SIZE], sh[EIMG_EIF_SECTION_HEADER_SIZE], d[48];
	if (!s->ring[EIMG_EIF_RING - 1])
		return eimg_err(err, EIMG_EINTERNAL, s->name, "EIF stream: never started");
	int rc = flush(s, err);   /* the last piece, partly filled */
	stop_workers(s, rc == EIMG_OK);
	if (rc)
		return rc;
	if (s->failed)
		return eimg_err(err, EIMG_EINTERNAL, s->name, "hashing failed");
	if (s->flush_errno) {
		errno = s->flush_errno;
		return eimg_err_sys(err, s->name, "cannot write");
	}
	s->sizes[s->n - 1] = s->tail;
	for (unsigned i = 0; i < s->n; i++) {
		offs[i] = pos;
		pos += EIMG_EIF_SECTION_HEADER_SIZE + s->sizes[i];
	}
	eimg_eif_put_header(h, s->opts.flags, s->opts.default_mem, s->opts.default_cpus, s->n, offs, s->sizes);
	eimg_be16(sh, EIMG_EIF_RAMDISK);
	eimg_be16(sh + 2, 0);
	eimg_be64(sh + 4, s->tail);
	/* CRC: header bytes 0..543, the fixed sections, the last header, the data. */
	uint32_t c = eimg_crc32(0, h, EIMG_EIF_CRC_OFFSET);
	c = eimg_crc32_combine(c, s->crc_fixed, s->fixed_len);
	c = eimg_crc32_combine(c, eimg_crc32(0, sh, sizeof(sh)), sizeof(sh));
	c = eimg_crc32_combine(c, s->crc_tail, s->tail);
	eimg_be32(h + EIMG_EIF_CRC_OFFSET, c);
	if ((rc = pwrite_all(s, h, sizeof(h), 0, err)) ||
	    (rc = pwrite_all(s, sh, sizeof(sh), offs[s->n - 1], err)))
		return rc;
	memset(dg, 0, sizeof(*dg));
	for (int i = 0; i < 3; i++) {
		if (eimg_hash_final(s->h[i], d))
			return eimg_err(err, EIMG_EINTERNAL, s->name, "hashing failed");
		eimg_nitro_extend(d, i == 0 ? dg->pcr0 : i == 1 ? dg->pcr1 : dg->pcr2);
	}
	dg->crc = c;
	*len = pos;
	return EIMG_OK;
}

void eimg_eif_stream_free(struct eimg_eif_stream *s)
{
	stop_workers(s, false);
	for (int i = 0; i < 3; i++)
		eimg_hash_free(s->h[i]);
	for (int i = 0; i < EIMG_EIF_RING; i++)
		free(s->ring[i]);
	memset(s, 0, sizeof(*s));
}
