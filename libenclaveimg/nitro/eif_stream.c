/* SPDX-License-Identifier: Apache-2.0 */
/* An EIF written as a stream into a file: the header and the sections held
 * in memory first, then the last section (the application ramdisk) as its
 * writer produces it; its size, the section table and the CRC are put in
 * place at the end (pwrite).  The CRC and the PCR data hashes are computed
 * on the way, so nothing is read back.
 *
 * A pipeline over a ring of EIMG_EIF_RING pieces of at most 1 MiB
 * (EIMG_EIF_RING_MAX when the EIF is written around the page cache, see
 * below), cut at the file's 1 MiB boundaries: this thread (the producer: the ramdisk
 * writer's callbacks, which read the files) fills a piece and hands it over;
 * three consumers take every piece in order, each at its own pace: worker 0
 * hashes it for PCR0, worker 1 for PCR1 or PCR2 and the CRC, and the writer
 * writes it to the file at its offset.  A piece is filled again only when
 * all three are done with it: memory stays at the ring's size.  A
 * consumer that cannot have its own thread runs on this one, in order, when
 * each piece is handed over (the results are the same).  On any failure the
 * consumers stop at the next piece, _free joins them, and the first
 * failure is the stream's.
 *
 * Where the bytes go.  A large EIF that stays (EIMG_EIF_STREAM_DIRECT, a
 * file with a name) is written around the page cache (O_DIRECT, through a
 * second descriptor of the same file): its whole pieces are aligned, and
 * a build of many GiB neither copies them into the cache nor fills the
 * machine's memory with them (on a host whose free memory goes back to
 * the hypervisor, every page of cache is a page to get again: writing
 * 4 GiB through the cache cost 5 s of copying here).  The first and the
 * last piece, and every piece when the file system refuses O_DIRECT, go
 * through the cache; that case starts the write-back behind the stream
 * (sync_file_range), and a flusher thread makes what was written durable
 * every FLUSH_STEP (fdatasync), so that the output's final fsync, which
 * would otherwise wait for the whole EIF to reach the disk, finds little
 * left to do.
 *
 * A copy (enclave-build --eif): the same bytes also go to a second file,
 * from its current offset, by the same writer and in the same way; the
 * pieces' offsets there differ from the first file's by the EIF's offset
 * in it (a multiple of 512 in an image): its bytes are gathered into
 * aligned blocks (a bounce buffer of BOUNCE) to be written around the
 * cache. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eimg/hash.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"

#define PIECE (1u << 20)
#define ALIGN 4096u              /* O_DIRECT: offsets, lengths and buffers */
#define SYNC_STEP (8ull << 20)   /* start the write-back of every 8 MiB written */
#define FLUSH_STEP (64ull << 20) /* and make every 64 MiB durable */

enum { PCR0_WORK, TAIL_WORK, WRITE_WORK };

/* Starts the write-back of what was written to d so far, and asks the
 * flusher to make it durable, in steps (the writer's). */
static void start_writeback(struct eimg_eif_stream *s, struct eimg_eif_dest *d)
{
	if (d->written - d->synced < SYNC_STEP)
		return;
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(d->fd, (off_t)(d->start + s->data_rel + d->synced), (off_t)(d->written - d->synced),
			      SYNC_FILE_RANGE_WRITE);
#endif
	d->synced = d->written;
	if (d != &s->dst[0])
		return;
	if (s->flusher && d->written - s->flush_want >= FLUSH_STEP) {
		pthread_mutex_lock(&s->m);
		if (s->flushed == s->flush_want) { /* else it is still at work: next time */
			s->flush_want = d->written;
			pthread_cond_broadcast(&s->work);
		}
		pthread_mutex_unlock(&s->m);
	}
}

/* A destination whose offsets are not aligned as the pieces are (a copy:
 * its EIF starts at another offset modulo the alignment) writes around
 * the cache through a bounce buffer: the bytes are gathered there and
 * written in aligned blocks; what does not fill a block waits for the next
 * pieces, and the last of it goes through the cache at the end. */
#define BOUNCE (8u << 20)

/* The outcome of a write of want bytes around the cache that returned k:
 * all of them written (d->dfd still open); refused (EINVAL), cut short or
 * interrupted, after which d is written through the cache (d->dfd closed,
 * -1; the caller writes these bytes again there); or another error, the
 * stream's. */
static int direct_result(struct eimg_eif_dest *d, ssize_t k, size_t want, eimg_error *err)
{
	if (k == (ssize_t)want)
		return EIMG_OK;
	if (k < 0 && errno != EINVAL && errno != EINTR)
		return eimg_err_sys(err, d->name, "cannot write");
	close(d->dfd);
	d->dfd = -1;
	return EIMG_OK;
}

/* Writes the bounce buffer's aligned blocks (all of it with last, through
 * the cache: the stream's end, or O_DIRECT refused). */
static int bounce_out(struct eimg_eif_stream *s, struct eimg_eif_dest *d, bool last, eimg_error *err)
{
	size_t w = d->blen / d->align * d->align;
	if (!last && d->dfd >= 0 && w > 0) {
		int rc = direct_result(d, pwrite(d->dfd, d->bounce, w, (off_t)d->bat), w, err);
		if (rc)
			return rc;
		if (d->dfd < 0) {
			last = true;
		} else {
			s->direct += w;
			d->bat += w;
			d->blen -= w;
			memmove(d->bounce, d->bounce + w, d->blen);
		}
	}
	if (last && d->blen > 0) {
		int rc = eimg_pwrite_all(d->fd, d->bounce, d->blen, d->bat, d->name, NULL, err);
		if (rc)
			return rc;
		d->bat += d->blen;
		d->blen = 0;
	}
	d->written = d->bat + d->blen - d->start - s->data_rel;
	start_writeback(s, d);
	return EIMG_OK;
}

static int bounce_write(struct eimg_eif_stream *s, struct eimg_eif_dest *d, uint64_t seq, unsigned count,
			eimg_error *err)
{
	for (unsigned i = 0; i < count; i++) {
		unsigned slot = (unsigned)((seq + i) % s->nring);
		const uint8_t *p = s->ring[slot];
		size_t n = s->len[slot];
		uint64_t at = d->start + s->at[slot];
		if (at < d->bat) { /* before the first aligned block: through the cache */
			size_t h = d->bat - at < n ? (size_t)(d->bat - at) : n;
			int rc = eimg_pwrite_all(d->fd, p, h, at, d->name, NULL, err);
			if (rc)
				return rc;
			p += h;
			n -= h;
		}
		while (n > 0) {
			size_t k = BOUNCE - d->blen < n ? BOUNCE - d->blen : n;
			memcpy(d->bounce + d->blen, p, k);
			d->blen += k;
			p += k;
			n -= k;
			int rc = d->blen == BOUNCE ? bounce_out(s, d, d->dfd < 0, err) : EIMG_OK;
			if (rc)
				return rc;
		}
	}
	return bounce_out(s, d, d->dfd < 0, err);
}

/* Pieces seq .. seq+count-1 (consecutive in the file) written to d at
 * their offsets: the runs of aligned ones around the cache in one call
 * when the file allows it, else through the cache.  A file system that
 * refuses an O_DIRECT write (EINVAL) gets the rest through the cache. */
static int dest_write(struct eimg_eif_stream *s, struct eimg_eif_dest *d, uint64_t seq, unsigned count,
		      eimg_error *err)
{
	struct iovec iov[EIMG_EIF_RING_MAX];
	while (count > 0) {
		unsigned slot = (unsigned)(seq % s->nring), m = 0;
		uint64_t at = d->start + s->at[slot]; /* s->at: from the EIF's start */
		size_t total = 0;
		/* The longest run of aligned pieces from here. */
		while (d->dfd >= 0 && m < count) {
			unsigned sl = (unsigned)((seq + m) % s->nring);
			if ((d->start + s->at[sl]) % d->align || s->len[sl] % d->align)
				break;
			iov[m] = (struct iovec){ s->ring[sl], s->len[sl] };
			total += s->len[sl];
			m++;
		}
		if (m > 0) {
			int rc = direct_result(d, pwritev(d->dfd, iov, (int)m, (off_t)at), total, err);
			if (rc)
				return rc;
			if (d->dfd >= 0) {
				s->direct += total;
				d->written = at + total - d->start - s->data_rel;
				start_writeback(s, d);
				seq += m;
				count -= m;
				continue;
			} /* else this run again, through the cache */
		}
		int rc = eimg_pwrite_all(d->fd, s->ring[slot], s->len[slot], at, d->name, NULL, err);
		if (rc)
			return rc;
		d->written = at + s->len[slot] - d->start - s->data_rel;
		start_writeback(s, d);
		seq++;
		count--;
	}
	return EIMG_OK;
}

static int pieces_write(struct eimg_eif_stream *s, uint64_t seq, unsigned count, eimg_error *err)
{
	int rc = EIMG_OK;
	for (unsigned i = 0; i < s->ndst && rc == EIMG_OK; i++)
		rc = s->dst[i].bounce ? bounce_write(s, &s->dst[i], seq, count, err)
				      : dest_write(s, &s->dst[i], seq, count, err);
	return rc;
}

/* Consumer k's part of pieces seq .. seq+count-1. */
static int pieces_work(struct eimg_eif_stream *s, unsigned k, uint64_t seq, unsigned count, eimg_error *err)
{
	if (k == WRITE_WORK)
		return pieces_write(s, seq, count, err);
	for (unsigned i = 0; i < count; i++) {
		unsigned slot = (unsigned)((seq + i) % s->nring);
		const uint8_t *p = s->ring[slot];
		size_t n = s->len[slot];
		if (k == TAIL_WORK)
			s->crc_tail = eimg_crc32(s->crc_tail, p, n);
		if (eimg_hash_update(s->h[k == PCR0_WORK ? 0 : s->tail_pcr], p, n))
			return eimg_err(err, EIMG_EINTERNAL, s->dst[0].name, "hashing failed");
	}
	return EIMG_OK;
}

/* The stream's first failure (under s->m, or with no thread left). */
static void note_failure(struct eimg_eif_stream *s, int rc, const eimg_error *e)
{
	if (!s->failed) {
		s->failed = true;
		s->frc = rc;
		s->ferr = *e;
	}
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
		/* A piece; for the writer, every piece handed over so far, in
		 * one call (a hasher frees each piece as soon as it can). */
		uint64_t seq = s->done[w->k];
		unsigned count = w->k == WRITE_WORK ? (unsigned)(s->filled - seq) : 1;
		pthread_mutex_unlock(&s->m);
		eimg_error e;
		int r = pieces_work(s, w->k, seq, count, &e);
		pthread_mutex_lock(&s->m);
		if (r)
			note_failure(s, r, &e);
		s->done[w->k] += count;
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
		/* Not at stop: the writer may still ask, for what it drains. */
		while (s->flushed == s->flush_want && !s->joined && !s->abort)
			pthread_cond_wait(&s->work, &s->m);
		if (s->flushed == s->flush_want || s->abort || s->flush_errno)
			break;
		uint64_t want = s->flush_want;
		pthread_mutex_unlock(&s->m);
		int e = 0;
		for (unsigned i = 0; i < s->ndst && !e; i++)
			e = fdatasync(s->dst[i].fd) == 0 ? 0 : errno;
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

/* A second descriptor of d's file that writes around the page cache; or
 * -1 (no /proc, or a file system without O_DIRECT, such as tmpfs).  Its
 * writes are aligned to 4096 bytes, the file system's block, not only to
 * the device's sector: a write that covers part of a block is much slower
 * (about ten times here, on ext4), and one that a file system refuses
 * falls back to the cache. */
static void open_direct(struct eimg_eif_dest *d)
{
	d->dfd = -1;
	d->align = ALIGN;
#ifdef O_DIRECT
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", d->fd);
	d->dfd = open(path, O_WRONLY | O_DIRECT | O_CLOEXEC);
#endif
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
	/* Writing through the cache is a copy: this thread does it, between
	 * pieces; writing around it waits for the disk: a thread of its own. */
	unsigned want = s->dst[0].dfd >= 0 || s->dst[1].dfd >= 0 ? EIMG_EIF_WORKERS : WRITE_WORK;
	for (unsigned k = 0; k < want; k++) {
		s->wk[k] = (struct eimg_eif_worker){ s, k };
		if (pthread_create(&s->th[k], NULL, worker, &s->wk[k]) != 0)
			break;
		s->threads = k + 1;
	}
	if (s->threads == want && kept_file(s->dst[0].fd) &&
	    pthread_create(&s->fth, NULL, flusher, s) == 0)
		s->flusher = true;
}

/* Stops the consumers: after the pieces handed over (drain), or at once. */
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
	if (s->flusher) {
		pthread_mutex_lock(&s->m);
		s->joined = true;
		pthread_cond_broadcast(&s->work);
		pthread_mutex_unlock(&s->m);
		pthread_join(s->fth, NULL);
	}
	s->flusher = false;
	pthread_cond_destroy(&s->room);
	pthread_cond_destroy(&s->work);
	pthread_mutex_destroy(&s->m);
	s->threads = 0;
	s->locks = false;
}

static int put_raw(struct eimg_eif_stream *s, const void *p, size_t n, eimg_error *err)
{
	int rc = EIMG_OK;
	for (unsigned i = 0; i < s->ndst && rc == EIMG_OK; i++)
		rc = eimg_write_all(s->dst[i].fd, p, n, s->dst[i].name, "cannot write", err);
	return rc;
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
		return eimg_err(err, EIMG_EINTERNAL, s->dst[0].name, "hashing failed");
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

int eimg_eif_stream_begin(struct eimg_eif_stream *s, const char *name, int fd, const char *copy_name, int copy_fd,
			  const struct eimg_eif_write_opts *o, const struct eimg_eif_part *parts, size_t nparts,
			  unsigned flags, eimg_error *err)
{
	memset(s, 0, sizeof(*s));
	s->dst[0] = (struct eimg_eif_dest){ .fd = fd, .dfd = -1, .name = name };
	s->dst[1] = (struct eimg_eif_dest){ .fd = copy_fd, .dfd = -1, .name = copy_name };
	s->ndst = copy_fd >= 0 ? 2 : 1;
	int rc = eimg_eif_check_order(parts, nparts, err);
	if (rc)
		return rc;
	if (o->flags & ~EIMG_EIF_FLAG_AARCH64)
		return eimg_err(err, EIMG_EUSAGE, NULL, "EIF: unknown header flags 0x%04x", o->flags);
	if (flags & ~EIMG_EIF_STREAM_DIRECT)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "EIF stream: unknown flags 0x%x", flags);
	if (parts[nparts - 1].type != EIMG_EIF_RAMDISK)
		return eimg_err(err, EIMG_EINTERNAL, NULL, "EIF stream: the last section must be a ramdisk");
	for (unsigned i = 0; i < s->ndst; i++) {
		off_t start = lseek(s->dst[i].fd, 0, SEEK_CUR);
		if (start < 0)
			return eimg_err_sys(err, s->dst[i].name, "cannot write an EIF here");
		s->dst[i].start = (uint64_t)start;
	}
	s->opts = *o;
	s->n = (unsigned)nparts;
	for (size_t i = 0; i < nparts; i++)
		s->sizes[i] = parts[i].size;
	for (int i = 0; i < 3; i++)
		if (!(s->h[i] = eimg_hash_new(EIMG_SHA384)))
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
	s->data_rel = EIMG_EIF_HEADER_SIZE + s->fixed_len + EIMG_EIF_SECTION_HEADER_SIZE;
	bool direct = false;
	for (unsigned i = 0; i < s->ndst; i++) {
		struct eimg_eif_dest *d = &s->dst[i];
		if ((flags & EIMG_EIF_STREAM_DIRECT) && kept_file(d->fd))
			open_direct(d);
		direct |= d->dfd >= 0;
		/* The pieces are cut at the first file's 1 MiB boundaries. */
		if (d->dfd >= 0 && d->start % d->align != s->dst[0].start % d->align) {
			if (posix_memalign((void **)&d->bounce, ALIGN, BOUNCE) != 0) {
				d->bounce = NULL;
				return eimg_err_nomem(err);
			}
			uint64_t first = d->start + s->data_rel;
			d->bat = (first + d->align - 1) / d->align * d->align;
		}
	}
	/* Around the cache, the writer waits for the disk: more pieces in
	 * flight, so that the hashers do not wait for it. */
	s->nring = direct ? EIMG_EIF_RING_MAX : EIMG_EIF_RING;
	for (unsigned i = 0; i < s->nring; i++)
		if (posix_memalign((void **)&s->ring[i], ALIGN, PIECE) != 0) {
			s->ring[i] = NULL;
			return eimg_err_nomem(err);
		}
	start_workers(s);
	return EIMG_OK;
}

/* Waits until the piece to fill next is free (every consumer is done with
 * what it held). */
static int take_slot(struct eimg_eif_stream *s, eimg_error *err)
{
	bool failed = false;
	int rc = EIMG_OK;
	if (s->threads) {
		pthread_mutex_lock(&s->m);
		for (;;) {
			bool busy = false;
			for (unsigned k = 0; k < s->threads; k++)
				busy |= s->filled - s->done[k] >= s->nring;
			if (s->failed || !busy)
				break;
			pthread_cond_wait(&s->room, &s->m);
		}
		if ((failed = s->failed)) {
			rc = s->frc;
			if (err)
				*err = s->ferr;
		}
		pthread_mutex_unlock(&s->m);
	}
	if (failed)
		return rc;
	s->have_slot = true;
	return EIMG_OK;
}

/* The room left in the piece being filled: up to the next 1 MiB boundary
 * of the file, so that every whole piece is aligned for O_DIRECT. */
static size_t piece_room(const struct eimg_eif_stream *s)
{
	return PIECE - (size_t)((s->dst[0].start + s->data_rel + s->tail + s->used) % PIECE);
}

/* Hands the filled piece to the consumers (those without a thread run now). */
static int flush(struct eimg_eif_stream *s, eimg_error *err)
{
	unsigned slot = (unsigned)(s->filled % s->nring);
	size_t n = s->used;
	if (n == 0)
		return EIMG_OK;
	if (s->tail + n > EIMG_EIF_MAX_FILE - s->fixed_len - EIMG_EIF_HEADER_SIZE - EIMG_EIF_SECTION_HEADER_SIZE)
		return eimg_err(err, EIMG_EINVAL, s->dst[0].name, "EIF: above the limit of %llu bytes",
				(unsigned long long)EIMG_EIF_MAX_FILE);
	s->len[slot] = n;
	s->at[slot] = s->data_rel + s->tail;
	for (unsigned k = s->threads; k < EIMG_EIF_WORKERS; k++) {
		int rc = pieces_work(s, k, s->filled, 1, err);
		if (rc)
			return rc;
	}
	if (s->threads) {
		pthread_mutex_lock(&s->m);
		s->filled++;
		for (unsigned k = s->threads; k < EIMG_EIF_WORKERS; k++)
			s->done[k] = s->filled;
		pthread_cond_broadcast(&s->work);
		pthread_mutex_unlock(&s->m);
	} else {
		s->filled++;
		for (unsigned k = 0; k < EIMG_EIF_WORKERS; k++)
			s->done[k] = s->filled;
	}
	s->tail += n;
	s->used = 0;
	s->have_slot = false;
	return EIMG_OK;
}

int eimg_eif_stream_write(void *ctx, const void *p, size_t n, eimg_error *err)
{
	struct eimg_eif_stream *s = ctx;
	const uint8_t *b = p;
	while (n > 0) {
		int rc = s->have_slot ? EIMG_OK : take_slot(s, err);
		if (rc)
			return rc;
		size_t room = piece_room(s);
		size_t k = room < n ? room : n;
		memcpy(s->ring[s->filled % s->nring] + s->used, b, k);
		s->used += k;
		b += k;
		n -= k;
		if (k == room && (rc = flush(s, err)))
			return rc;
	}
	return EIMG_OK;
}

/* n bytes at offset off of the EIF, in every file. */
static int pwrite_all(struct eimg_eif_stream *s, const uint8_t *p, size_t n, uint64_t off, eimg_error *err)
{
	int rc = EIMG_OK;
	for (unsigned i = 0; i < s->ndst && rc == EIMG_OK; i++)
		rc = eimg_pwrite_all(s->dst[i].fd, p, n, s->dst[i].start + off, s->dst[i].name, NULL, err);
	return rc;
}

int eimg_eif_stream_end(struct eimg_eif_stream *s, uint64_t *len, struct eimg_nitro_digest *dg, eimg_error *err)
{
	uint64_t offs[EIMG_EIF_MAX_SECTIONS], pos = EIMG_EIF_HEADER_SIZE;
	uint8_t h[EIMG_EIF_HEADER_SIZE], sh[EIMG_EIF_SECTION_HEADER_SIZE], d[48];
	if (!s->nring || !s->ring[s->nring - 1])
		return eimg_err(err, EIMG_EINTERNAL, s->dst[0].name, "EIF stream: never started");
	int rc = flush(s, err);   /* the last piece, partly filled */
	stop_workers(s, rc == EIMG_OK);
	if (rc)
		return rc;
	if (s->failed) {
		if (err)
			*err = s->ferr;
		return s->frc;
	}
	if (s->flush_errno) {
		errno = s->flush_errno;
		return eimg_err_sys(err, s->dst[0].name, "cannot write");
	}
	for (unsigned i = 0; i < s->ndst; i++)
		if (s->dst[i].bounce && (rc = bounce_out(s, &s->dst[i], true, err)))
			return rc;
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
	/* The pieces were written at their offsets: the file's offset goes
	 * after the EIF, as a plain write would have left it. */
	for (unsigned i = 0; i < s->ndst; i++)
		if (lseek(s->dst[i].fd, (off_t)(s->dst[i].start + pos), SEEK_SET) < 0)
			return eimg_err_sys(err, s->dst[i].name, "cannot write");
	memset(dg, 0, sizeof(*dg));
	for (int i = 0; i < 3; i++) {
		if (eimg_hash_final(s->h[i], d))
			return eimg_err(err, EIMG_EINTERNAL, s->dst[0].name, "hashing failed");
		eimg_nitro_extend(d, i == 0 ? dg->pcr0 : i == 1 ? dg->pcr1 : dg->pcr2);
	}
	dg->crc = c;
	*len = pos;
	return EIMG_OK;
}

void eimg_eif_stream_free(struct eimg_eif_stream *s)
{
	stop_workers(s, false);
	for (unsigned i = 0; i < 2; i++) {
		if (s->dst[i].dfd >= 0)
			close(s->dst[i].dfd);
		free(s->dst[i].bounce);
	}
	for (int i = 0; i < 3; i++)
		eimg_hash_free(s->h[i]);
	for (unsigned i = 0; i < EIMG_EIF_RING_MAX; i++)
		free(s->ring[i]);
	memset(s, 0, sizeof(*s));
	s->dst[0].dfd = s->dst[1].dfd = -1;
}
