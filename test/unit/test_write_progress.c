/* SPDX-License-Identifier: Apache-2.0 */
/* The image writer's "writing" progress when a member is copied in the
 * kernel (copy_file_range: enclave-sign -o and --in-place copy the image's
 * file-backed members this way): the copy goes in pieces and the count
 * grows between them, so that the line moves during a long copy instead of
 * jumping from 0 to 100% at the end; the bytes written are the member's.
 * copy_file_range is wrapped to see each piece and the count before it.
 * LINK-WRAP: -Wl,--wrap=copy_file_range
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/image.h"
#include "eimg/progress.h"
#include "core/internal.h"

#include "image_fixture.c"

static struct eimg_progress *g_p;
static unsigned g_calls;
static uint64_t g_done_before[64], g_len[64];

ssize_t __real_copy_file_range(int in, loff_t *off_in, int out, loff_t *off_out, size_t len, unsigned flags);
ssize_t __wrap_copy_file_range(int in, loff_t *off_in, int out, loff_t *off_out, size_t len, unsigned flags);
ssize_t __wrap_copy_file_range(int in, loff_t *off_in, int out, loff_t *off_out, size_t len, unsigned flags)
{
	if (g_calls < 64) {
		g_done_before[g_calls] = g_p ? g_p->done : 0;
		g_len[g_calls] = len;
	}
	g_calls++;
	return __real_copy_file_range(in, off_in, out, off_out, len, flags);
}

static unsigned g_finished;
static uint64_t g_last_done, g_last_total;

static void record(void *ctx, const char *step, uint64_t done, uint64_t total, bool finished)
{
	(void)ctx;
	assert_string_equal(step, "writing");
	g_finished += finished;
	g_last_done = done;
	g_last_total = total;
}

static void test_kernel_copy_in_pieces(void **state)
{
	(void)state;
	char dir[] = "/tmp/eimg-wprog-XXXXXX", src[64], out[64];
	const uint64_t size = 40ull << 20;   /* more than two pieces */
	eimg_error err;
	eimg_blob *b = NULL;
	assert_non_null(mkdtemp(dir));
	snprintf(src, sizeof src, "%s/big.bin", dir);
	snprintf(out, sizeof out, "%s/out.eimg", dir);
	int fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);   /* sparse: fast */
	assert_int_equal(pwrite(fd, "end", 3, (off_t)size - 3), 3);
	close(fd);

	eimg_image *img = sample_sgx();
	assert_int_equal(eimg_blob_open_file(src, size, &b, &err), EIMG_OK);
	if (eimg_image_add_file(img, "z.bin", b, &err) != EIMG_OK)
		fail_msg("add: %s", err.msg);
	struct eimg_progress p = { .fn = record };
	g_p = &p;
	eimg_image_set_progress(img, &p);
	if (eimg_image_write_file(img, SAMPLE_MTIME, out, &err) != EIMG_OK)
		fail_msg("write: %s", err.msg);
	g_p = NULL;

	/* the big member in pieces, the count before each one the bytes copied so far */
	unsigned pieces = 0;
	uint64_t copied = 0;
	for (unsigned i = 0; i < g_calls && i < 64; i++) {
		if (g_done_before[i] < copied)
			fail_msg("copy %u: the count went back (%llu < %llu)", i, (unsigned long long)g_done_before[i],
				 (unsigned long long)copied);
		if (g_len[i] >= (1u << 20)) {
			pieces++;
			copied += g_len[i];
		}
	}
	if (pieces < 3)
		fail_msg("%u copy_file_range calls for a 40 MiB member: one jump of the line", g_calls);
	assert_true(g_done_before[g_calls - 1] > 0);   /* the count moved before the last piece */
	assert_int_equal(g_finished, 1);
	assert_int_equal(g_last_done, g_last_total);
	assert_true(g_last_total >= size);

	/* what was written is the image: the member reads back whole */
	eimg_image *back = NULL;
	assert_int_equal(eimg_image_read_file(out, &back, &err), EIMG_OK);
	const eimg_blob *got = NULL;
	for (size_t i = 0; i < eimg_image_nfiles(back) && !got; i++) {
		const eimg_blob *fb;
		if (strcmp(eimg_image_file(back, i, &fb), "z.bin") == 0)
			got = fb;
	}
	assert_non_null(got);
	assert_blobs_equal(got, b);
	eimg_image_free(back);
	eimg_image_free(img);
	unlink(src);
	unlink(out);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_copy_in_pieces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
