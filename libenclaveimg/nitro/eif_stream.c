/* SPDX-License-Identifier: Apache-2.0 */
/* An EIF written as a stream into a file: the header and the sections held
 * in memory first, then the last section (the application ramdisk) as its
 * writer produces it, in 1 MiB pieces; its size, the section table and the
 * CRC are put in place at the end (pwrite).  The CRC and the PCR data
 * hashes are computed on the way, so nothing is read back: PCR0 of each
 * streamed piece on a helper thread while this thread hashes it for PCR1
 * or PCR2, computes its CRC and writes it.  Memory: two pieces. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eimg/hash.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"

#define PIECE (1u << 20)

/* The PCR0 helper: one piece at a time. */
static void *pcr0_worker(void *arg)
{
	struct eimg_eif_stream *s = arg;
	pthread_mutex_lock(&s->m);
	for (;;) {
		while (!s->job && !s->stop)
			pthread_cond_wait(&s->cv, &s->m);
		if (!s->job)
			break;
		const uint8_t *p = s->job;
		size_t n = s->job_len;
		pthread_mutex_unlock(&s->m);
		int r = eimg_hash_update(s->h[0], p, n);
		pthread_mutex_lock(&s->m);
		s->hash_failed |= r != 0;
		s->job = NULL;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->m);
	return NULL;
}

/* Waits until the helper is idle. */
static void wait_idle(struct eimg_eif_stream *s)
{
	if (!s->threaded)
		return;
	pthread_mutex_lock(&s->m);
	while (s->job)
		pthread_cond_wait(&s->cv, &s->m);
	pthread_mutex_unlock(&s->m);
}

static int put_raw(struct eimg_eif_stream *s, const void *p, size_t n, eimg_error *err)
{
	const uint8_t *b = p;
	while (n > 0) {
		ssize_t w = write(s->fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return eimg_err_sys(err, s->name, "cannot write");
		b += w;
		n -= (size_t)w;
	}
	return EIMG_OK;
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
	if (!(s->buf[0] = malloc(PIECE)) || !(s->buf[1] = malloc(PIECE)))
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
	if (pthread_mutex_init(&s->m, NULL) == 0 && pthread_cond_init(&s->cv, NULL) == 0 &&
	    pthread_create(&s->th, NULL, pcr0_worker, s) == 0)
		s->threaded = true; /* else PCR0 on this thread */
	return EIMG_OK;
}

/* Hashes, checks and writes the filled piece; hands its PCR0 to the helper. */
static int flush(struct eimg_eif_stream *s, eimg_error *err)
{
	const uint8_t *p = s->buf[s->cur];
	size_t n = s->used;
	if (n == 0)
		return EIMG_OK;
	if (s->tail + n > EIMG_EIF_MAX_FILE - s->fixed_len - EIMG_EIF_HEADER_SIZE - EIMG_EIF_SECTION_HEADER_SIZE)
		return eimg_err(err, EIMG_EINVAL, s->name, "EIF: above the limit of %llu bytes",
				(unsigned long long)EIMG_EIF_MAX_FILE);
	wait_idle(s);
	if (s->threaded) {
		pthread_mutex_lock(&s->m);
		s->job = p;
		s->job_len = n;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->m);
	} else if (eimg_hash_update(s->h[0], p, n)) {
		return eimg_err(err, EIMG_EINTERNAL, s->name, "hashing failed");
	}
	if (eimg_hash_update(s->h[s->tail_pcr], p, n))
		return eimg_err(err, EIMG_EINTERNAL, s->name, "hashing failed");
	s->crc_tail = eimg_crc32(s->crc_tail, p, n);
	s->tail += n;
	s->used = 0;
	s->cur ^= 1; /* the helper keeps this piece; the other one is free */
	return put_raw(s, p, n, err);
}

int eimg_eif_stream_write(void *ctx, const void *p, size_t n, eimg_error *err)
{
	struct eimg_eif_stream *s = ctx;
	const uint8_t *b = p;
	while (n > 0) {
		size_t k = PIECE - s->used < n ? PIECE - s->used : n;
		memcpy(s->buf[s->cur] + s->used, b, k);
		s->used += k;
		b += k;
		n -= k;
		if (s->used == PIECE) {
			int rc = flush(s, err);
			if (rc)
				return rc;
		}
	}
	return EIMG_OK;
}

static void stop_worker(struct eimg_eif_stream *s)
{
	if (!s->threaded)
		return;
	pthread_mutex_lock(&s->m);
	while (s->job)
		pthread_cond_wait(&s->cv, &s->m);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->m);
	pthread_join(s->th, NULL);
	pthread_mutex_destroy(&s->m);
	pthread_cond_destroy(&s->cv);
	s->threaded = false;
}

static int pwrite_all(struct eimg_eif_stream *s, const uint8_t *p, size_t n, uint64_t off, eimg_error *err)
{
	while (n > 0) {
		ssize_t w = pwrite(s->fd, p, n, (off_t)(s->start + off));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return eimg_err_sys(err, s->name, "cannot write");
		p += w;
		n -= (size_t)w;
		off += (uint64_t)w;
	}
	return EIMG_OK;
}

int eimg_eif_stream_end(struct eimg_eif_stream *s, uint64_t *len, struct eimg_nitro_digest *dg, eimg_error *err)
{
	uint64_t offs[EIMG_EIF_MAX_SECTIONS], pos = EIMG_EIF_HEADER_SIZE;
	uint8_t h[EIMG_EIF_HEADER_SIZE], sh[EIMG_EIF_SECTION_HEADER_SIZE], d[48];
	if (!s->buf[0])
		return eimg_err(err, EIMG_EINTERNAL, s->name, "EIF stream: never started");
	int rc = flush(s, err);
	stop_worker(s);
	if (rc)
		return rc;
	if (s->hash_failed)
		return eimg_err(err, EIMG_EINTERNAL, s->name, "hashing failed");
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
	stop_worker(s);
	for (int i = 0; i < 3; i++)
		eimg_hash_free(s->h[i]);
	free(s->buf[0]);
	free(s->buf[1]);
	memset(s, 0, sizeof(*s));
}
