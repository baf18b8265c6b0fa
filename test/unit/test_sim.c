/* SPDX-License-Identifier: Apache-2.0 */
/* The simulation loader and the message frame parser: the loader's
 * MRENCLAVE of the placed pages against the spec's known-answer vector A,
 * its page permissions and alignment, the EINIT comparison, a real enclave
 * (examples/hello, when built) called through the runtime; frames split at
 * every byte, limits, malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/image.h"
#include "eimg/measure.h"
#include "eimg/progress.h"
#include "eimg/sim.h"
#include "eimg/util.h"
#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "run/sim_int.h"

/* ---- vector A (../shared/specs/sgx.md): ECREATE(ssaframesize 1, size
 * 0x10000); page 0 SECINFO 0x205 with byte i = i % 256, measured; page
 * 0x1000 TCS, EADD only.  The TCS page is zero, so OENTRY = 0. */
static uint8_t page0[4096];
static struct eimg_region regs[2];
static uint64_t tcs_off[1] = { 0x1000 };
static eimg_layout vec;

static void setup_vector(bool tcs_measured)
{
	for (int i = 0; i < 4096; i++)
		page0[i] = (uint8_t)i;
	memset(regs, 0, sizeof regs);
	regs[0] = (struct eimg_region){ .offset = 0, .size = 4096, .secinfo = 0x205, .measured = true,
					.kind = EIMG_REGION_ELF, .data = page0, .data_off = 0, .data_len = 4096 };
	regs[1] = (struct eimg_region){ .offset = 0x1000, .size = 4096, .secinfo = 0x100, .measured = tcs_measured,
					.kind = EIMG_REGION_TCS };
	memset(&vec, 0, sizeof vec);
	vec.size = 0x10000;
	vec.ssa_frame_size = 1;
	vec.ssa_frames = 1;
	vec.threads = 1;
	vec.tcs_offsets = tcs_off;
	vec.mode = EIMG_MODE_SIMULATION;
	vec.regions = regs;
	vec.nregions = 2;
	vec.npages = 2;
}

static void hexto(const char *hex, uint8_t out[32])
{
	assert_int_equal(eimg_unhex(hex, out, 32, "test", NULL), EIMG_OK);
}

static void test_vector_a_placed(void **state)
{
	(void)state;
	uint8_t want[32];
	eimg_sim_enclave *e = NULL;
	eimg_error err;
	setup_vector(false);
	hexto("dfb678268c380f68c443631b70fbb8058eb372ddcc45b02dec934f4017935093", want);
	assert_int_equal(eimg_sim_load(&vec, want, &e, &err), EIMG_OK);
	assert_memory_equal(eimg_sim_mrenclave(e), want, 32);
	/* naturally aligned base, placed content, permissions */
	uint8_t *b = eimg_sim_base(e);
	assert_int_equal((uintptr_t)b % 0x10000, 0);
	assert_int_equal(b[0], 0);
	assert_int_equal(b[255], 255);
	assert_int_equal(b[4095], 255);
	assert_int_equal(eimg_sim_size(e), 0x10000);
	/* no page is writable through the loader's mapping: the code page is R+X
	 * and the TCS, guard and unused pages inaccessible (checked via mincore
	 * would need residency; ask the kernel through /proc/self/maps) */
	char line[512], want_code[64], want_none[64], want_below[64];
	snprintf(want_code, sizeof want_code, "%lx-%lx r-xp", (unsigned long)(uintptr_t)b,
		 (unsigned long)(uintptr_t)b + 0x1000);
	/* the rest of the enclave and the guard page above it, inaccessible */
	snprintf(want_none, sizeof want_none, "%lx-%lx ---p", (unsigned long)(uintptr_t)b + 0x1000,
		 (unsigned long)(uintptr_t)b + 0x11000);
	/* the guard page below the base */
	snprintf(want_below, sizeof want_below, "%lx-%lx ---p", (unsigned long)(uintptr_t)b - 0x1000,
		 (unsigned long)(uintptr_t)b);
	FILE *f = fopen("/proc/self/maps", "r");
	assert_non_null(f);
	bool code = false, none = false, below = false;
	while (fgets(line, sizeof line, f)) {
		code |= strncmp(line, want_code, strlen(want_code)) == 0;
		none |= strncmp(line, want_none, strlen(want_none)) == 0;
		below |= strncmp(line, want_below, strlen(want_below)) == 0;
	}
	fclose(f);
	assert_true(code);
	assert_true(none);
	assert_true(below);
	eimg_sim_unload(e);
}

/* The loading step's reports (eimg_sim_load_progress): placing, then
 * measuring the placed pages, each of the layout's bytes, as the runner
 * names them (run/load_progress.c). */
struct drawn {
	unsigned n;
	const char *step[8];
	uint64_t done[8], total[8];
	bool finished[8];
};

static void record(void *ctx, const char *step, uint64_t done, uint64_t total, bool finished)
{
	struct drawn *d = ctx;
	if (d->n < 8) {
		d->step[d->n] = step;
		d->done[d->n] = done;
		d->total[d->n] = total;
		d->finished[d->n] = finished;
	}
	d->n++;
}

static void test_vector_a_progress(void **state)
{
	(void)state;
	uint8_t want[32];
	struct drawn d;
	struct eimg_progress p = { .fn = record, .ctx = &d };
	eimg_sim_enclave *e = NULL;
	eimg_error err;
	setup_vector(false);
	memset(&d, 0, sizeof d);
	hexto("dfb678268c380f68c443631b70fbb8058eb372ddcc45b02dec934f4017935093", want);
	assert_int_equal(eimg_sim_load_progress(&vec, want, &p, &e, &err), EIMG_OK);
	assert_int_equal(d.n, 4);
	assert_string_equal(d.step[0], EIMG_LOAD_STEP_PLACING);
	assert_string_equal(d.step[2], "measuring");
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(d.total[i], 2 * 4096);
		assert_int_equal(d.done[i], i % 2 ? 2 * 4096 : 0);
		assert_int_equal(d.finished[i], i % 2 == 1);
	}
	assert_int_equal(eimg_load_step_word(d.step[0], false), EIMG_LOAD_PLACING);
	assert_int_equal(eimg_load_step_word(d.step[2], true), EIMG_LOAD_MEASURING | EIMG_LOAD_FINISHED);
	eimg_sim_unload(e);
}

static void test_vector_a_tcs_measured(void **state)
{
	(void)state;
	uint8_t want[32];
	eimg_sim_enclave *e = NULL;
	setup_vector(true);
	hexto("002750eb3d5f2b7692af3f4f183be94db4002a7c30c37cc5bedc59a9d2c8ec75", want);
	assert_int_equal(eimg_sim_load(&vec, want, &e, NULL), EIMG_OK);
	eimg_sim_unload(e);
}

static void test_einit_mismatch(void **state)
{
	(void)state;
	uint8_t want[32];
	eimg_sim_enclave *e = NULL;
	eimg_error err;
	setup_vector(false);
	/* the other vector's value: the placed pages do not measure to it */
	hexto("002750eb3d5f2b7692af3f4f183be94db4002a7c30c37cc5bedc59a9d2c8ec75", want);
	assert_int_equal(eimg_sim_load(&vec, want, &e, &err), EIMG_EVERIFY);
	assert_null(e);
	assert_non_null(strstr(err.msg, "dfb678268c380f68c443631b70fbb8058eb372ddcc45b02dec934f4017935093"));
	assert_non_null(strstr(err.msg, "002750eb3d5f2b7692af3f4f183be94db4002a7c30c37cc5bedc59a9d2c8ec75"));
	assert_non_null(strstr(err.msg, "EINIT"));
}

static void test_load_limits(void **state)
{
	(void)state;
	uint8_t want[32] = { 0 };
	eimg_sim_enclave *e = NULL;
	eimg_error err;
	setup_vector(false);
	vec.size = 0x18000;   /* not a power of two */
	assert_int_equal(eimg_sim_load(&vec, want, &e, &err), EIMG_EINVAL);
	setup_vector(false);
	vec.threads = EIMG_SIM_MAX_THREADS + 1;
	assert_int_equal(eimg_sim_load(&vec, want, &e, &err), EIMG_EUNSUPPORTED);
	assert_null(e);
}

/* ---- a real enclave: examples/hello from the build (skipped if absent) */

static void test_hello_enclave(void **state)
{
	(void)state;
	const char *bd = getenv("BUILDDIR");
	char path[512];
	snprintf(path, sizeof path, "%s/examples/hello/enclave.yaml", bd ? bd : "build");
	if (access(path, R_OK) != 0) {
		print_message("skipped: %s not built (make examples)\n", path);
		skip();
	}
	struct eimg_build_options bo = { .manifest_path = path, .mtime = 0 };
	struct eimg_build_result br;
	eimg_image *img = NULL;
	eimg_sgx_image *s = NULL;
	eimg_sim_enclave *e = NULL;
	eimg_error err;
	assert_int_equal(eimg_build(&bo, &img, &br, &err), EIMG_OK);
	assert_int_equal(eimg_sgx_image_open(img, path, &s, &err), EIMG_OK);
	assert_int_equal(eimg_sim_load(s->layout, s->m.mrenclave, &e, &err), EIMG_OK);
	assert_memory_equal(eimg_sim_mrenclave(e), br.sgx.mrenclave, 32);

	uint8_t out[256];
	struct eimg_sim_result res;
	assert_int_equal(eimg_sim_call(e, 0, (const uint8_t *)"unit", 4, out, sizeof out, NULL, NULL, &res, &err),
			 EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_OK);
	assert_int_equal(res.detail, strlen("Hello from inside the enclave, unit!"));
	assert_memory_equal(out, "Hello from inside the enclave, unit!", res.detail);
	/* a reply larger than the host's buffer is refused, with the size */
	assert_int_equal(eimg_sim_call(e, 0, (const uint8_t *)"unit", 4, out, 10, NULL, NULL, &res, &err), EIMG_OK);
	assert_int_equal(res.status, EIMG_ECALL_ETOOBIG);
	assert_int_equal(res.detail, 36);
	/* a host buffer inside the enclave is refused by the loader */
	assert_int_equal(eimg_sim_call(e, 0, eimg_sim_base(e), 4, out, sizeof out, NULL, NULL, &res, &err),
			 EIMG_EINTERNAL);
	/* no such TCS */
	assert_int_equal(eimg_sim_call(e, 1, (const uint8_t *)"x", 1, out, sizeof out, NULL, NULL, &res, &err),
			 EIMG_EINVAL);
	eimg_sim_unload(e);
	eimg_sgx_image_free(s);
	eimg_image_free(img);
}

/* ---- frames */

static int feed_all(struct eimg_frame_parser *p, const uint8_t *d, size_t n, size_t step, uint8_t **msgs,
		    size_t *lens, int max)
{
	int got = 0;
	for (size_t off = 0; off < n;) {
		size_t k = n - off < step ? n - off : step, pos = 0;
		while (pos < k) {
			size_t used;
			uint8_t *m;
			size_t l;
			int r = eimg_frame_feed(p, d + off + pos, k - pos, &used, &m, &l);
			pos += used;
			if (r < 0)
				return r;
			if (r == 1) {
				assert_true(got < max);
				msgs[got] = m;
				lens[got++] = l;
			}
		}
		off += k;
	}
	return got;
}

static void test_frames_split_everywhere(void **state)
{
	(void)state;
	static const uint8_t in[] = { 0, 0, 0, 5, 0, 0, 0, 0, 'h', 'e', 'l', 'l', 'o',
				      0, 0, 0, 0, 0, 0, 0, 0,
				      0, 0, 0, 2, 0, 0, 0, 0, 'o', 'k' };
	for (size_t step = 1; step <= sizeof in; step++) {
		struct eimg_frame_parser p;
		uint8_t *m[4];
		size_t l[4];
		eimg_frame_parser_init(&p, 16, false);
		assert_int_equal(feed_all(&p, in, sizeof in, step, m, l, 4), 3);
		assert_int_equal(l[0], 5);
		assert_memory_equal(m[0], "hello", 5);
		assert_int_equal(l[1], 0);
		assert_int_equal(l[2], 2);
		assert_memory_equal(m[2], "ok", 2);
		for (int i = 0; i < 3; i++)
			free(m[i]);
		uint8_t *x;
		size_t xl;
		assert_int_equal(eimg_frame_finish(&p, &x, &xl), 0);
		eimg_frame_parser_free(&p);
	}
}

static void test_frames_malformed(void **state)
{
	(void)state;
	struct eimg_frame_parser p;
	uint8_t *m[2];
	size_t l[2];
	static const uint8_t toolong[] = { 0, 0, 0, 17, 0, 0, 0, 0 };
	eimg_frame_parser_init(&p, 16, false);
	assert_int_equal(feed_all(&p, toolong, sizeof toolong, 8, m, l, 2), -1);
	assert_non_null(strstr(p.why, "frame of 17 bytes exceeds the message limit of 16 bytes"));
	/* stays failed */
	assert_int_equal(feed_all(&p, toolong, 1, 1, m, l, 2), -1);
	eimg_frame_parser_free(&p);

	static const uint8_t code[] = { 0, 0, 0, 1, 0, 0, 0, 7, 'x' };
	eimg_frame_parser_init(&p, 16, false);
	assert_int_equal(feed_all(&p, code, sizeof code, 3, m, l, 2), -1);
	assert_non_null(strstr(p.why, "code 7"));
	eimg_frame_parser_free(&p);

	static const uint8_t cut[] = { 0, 0, 0, 9, 0, 0, 0, 0, 'a', 'b' };
	uint8_t *x;
	size_t xl;
	eimg_frame_parser_init(&p, 16, false);
	assert_int_equal(feed_all(&p, cut, sizeof cut, 4, m, l, 2), 0);
	assert_int_equal(eimg_frame_finish(&p, &x, &xl), -1);
	assert_non_null(strstr(p.why, "2 of 9 payload bytes"));
	eimg_frame_parser_free(&p);

	eimg_frame_parser_init(&p, 16, false);
	assert_int_equal(feed_all(&p, cut, 3, 3, m, l, 2), 0);
	assert_int_equal(eimg_frame_finish(&p, &x, &xl), -1);
	assert_non_null(strstr(p.why, "frame header (3 of 8 bytes)"));
	eimg_frame_parser_free(&p);
}

static void test_lines(void **state)
{
	(void)state;
	struct eimg_frame_parser p;
	uint8_t *m[4], *x;
	size_t l[4], xl;
	const char *in = "one\r\n\ntwo three\nlast";
	eimg_frame_parser_init(&p, 10, true);
	assert_int_equal(feed_all(&p, (const uint8_t *)in, strlen(in), 2, m, l, 4), 3);
	assert_int_equal(l[0], 3);
	assert_memory_equal(m[0], "one", 3);
	assert_int_equal(l[1], 0);
	assert_int_equal(l[2], 9);
	assert_memory_equal(m[2], "two three", 9);
	assert_int_equal(eimg_frame_finish(&p, &x, &xl), 1);
	assert_int_equal(xl, 4);
	assert_memory_equal(x, "last", 4);
	free(x);
	for (int i = 0; i < 3; i++)
		free(m[i]);
	eimg_frame_parser_free(&p);

	eimg_frame_parser_init(&p, 10, true);
	assert_int_equal(feed_all(&p, (const uint8_t *)"0123456789A\n", 12, 5, m, l, 4), -1);
	assert_non_null(strstr(p.why, "line longer than the message limit of 10 bytes"));
	eimg_frame_parser_free(&p);
}

static void test_frame_header(void **state)
{
	(void)state;
	uint8_t h[EIMG_FRAME_HEADER];
	eimg_frame_header(h, 0x01020304, EIMG_FRAME_EMALFORMED);
	static const uint8_t want[] = { 1, 2, 3, 4, 0, 0, 0, 3 };
	assert_memory_equal(h, want, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_a_placed),
		cmocka_unit_test(test_vector_a_tcs_measured),
		cmocka_unit_test(test_vector_a_progress),
		cmocka_unit_test(test_einit_mismatch),
		cmocka_unit_test(test_load_limits),
		cmocka_unit_test(test_hello_enclave),
		cmocka_unit_test(test_frames_split_everywhere),
		cmocka_unit_test(test_frames_malformed),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_frame_header),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
