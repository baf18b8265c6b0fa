/* SPDX-License-Identifier: Apache-2.0 */
/* The runner's hardware backend (run/runner.c, EIMG_RUN_HARDWARE) driven through
 * the fake /dev/sgx_enclave of fake_sgx_dev.c: the same message loop as the
 * simulation, with eimg_sgx_hw_load (the fake CPU measures the pages and
 * refuses EINIT unless the SIGSTRUCT signs them) and eimg_sgx_hw_call (the
 * fake runs the runtime's message ABI: a log ocall, then the message
 * reversed).  A good image initialises and answers; a tampered one is
 * refused before any message; an exception in the enclave ends the run as a
 * fault; a debug launch needs a signature that allows it; loading reports
 * its progress (ADD_PAGES). */
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

#include "eimg/layout.h"
#include "eimg/sgx_hw.h"
#include "eimg/sgxs.h"
#include "eimg/sigstruct.h"
#include "eimg/sim.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "run/sgx_hw_int.h"
#include "run/sim_int.h"

#include "fake_sgx_dev.c"
#include "hw_fixture.c"

/* ---- one run of the message loop over files ---- */
struct run {
	char logs[512];
	uint64_t base;
	char out[4096];
	struct eimg_run_result res;
	eimg_error err;
};

static void on_log(void *ctx, const char *text, size_t len)
{
	struct run *r = ctx;
	size_t n = strlen(r->logs);
	snprintf(r->logs + n, sizeof(r->logs) - n, "%.*s|", (int)len, text);
}

static void on_ready(void *ctx, uint64_t base)
{
	((struct run *)ctx)->base = base;
}

static struct eimg_progress *g_progress;   /* eimg_run_options.progress of run_lines */

static int run_lines(const eimg_layout *l, const uint8_t ss[EIMG_SIGSTRUCT_SIZE], bool debug, const char *input,
		     struct run *r)
{
	char in_path[64], out_path[64];
	snprintf(in_path, sizeof in_path, "/tmp/eimg-runhw-in-%ld", (long)getpid());
	snprintf(out_path, sizeof out_path, "/tmp/eimg-runhw-out-%ld", (long)getpid());
	FILE *f = fopen(in_path, "w");
	assert_non_null(f);
	fputs(input, f);
	fclose(f);
	int in = open(in_path, O_RDONLY), out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(in >= 0 && out >= 0);
	memset(r, 0, sizeof(*r));
	struct eimg_run_options o = {
		.backend = EIMG_RUN_HARDWARE, .lines = true, .in_fd = in, .out_fd = out, .stop_fd = -1,
		.log = on_log, .log_ctx = r, .on_ready = on_ready, .ready_ctx = r,
		.sigstruct = ss, .debug_launch = debug, .progress = g_progress,
	};
	int rc = eimg_run_hw_ops(l, ss + EIMG_SS_ENCLAVEHASH, &o, &ops, &r->res, &r->err);
	close(in);
	close(out);
	f = fopen(out_path, "r");
	assert_non_null(f);
	size_t n = fread(r->out, 1, sizeof(r->out) - 1, f);
	r->out[n] = '\0';
	fclose(f);
	unlink(in_path);
	unlink(out_path);
	return rc;
}

/* A one-thread image signed for production, and a fresh fake that runs it. */
static eimg_layout *runnable_layout(uint8_t mr[32], uint8_t ss[EIMG_SIGSTRUCT_SIZE])
{
	eimg_layout *l = signed_layout(0x10000, 1, mr, ss); /* the fake runs one message at a time */
	fresh_fake(FAKE_RUNTIME);
	return l;
}

static void test_good_image_answers(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_layout *l = runnable_layout(mr, ss);
	struct run r;
	int rc = run_lines(l, ss, false, "hello\nworld!\n", &r);
	if (rc)
		fail_msg("run: %s", r.err.msg);
	/* the fake CPU initialised the enclave it measured itself */
	assert_true(fk.initialized);
	assert_memory_equal(fk.mrenclave, mr, 32);
	assert_int_equal(fk.attributes, 0x4);   /* production launch: no DEBUG */
	assert_int_equal(r.base, fk.base);
	/* both messages answered in order through eimg_sgx_hw_call, with the log ocall relayed */
	assert_string_equal(r.out, "olleh\n!dlrow\n");
	assert_string_equal(r.logs, "got 5 bytes|got 6 bytes|");
	assert_int_equal(r.res.outcome, EIMG_RUN_CLEAN);
	assert_int_equal(r.res.messages, 2);
	/* SWITCHLESS refused (this runtime has none), then MESSAGE + RESUME per message */
	assert_int_equal(fk.enters, 5);
	assert_int_equal(fk.msg_enters, 2);
	assert_false(fk.fd_open);               /* unloaded: the device is closed */
	eimg_layout_free(l);
	fake_release(&fk);
}

/* Switchless calls: the enclave's thread polls the ring in untrusted memory;
 * many messages, not one EENTER for any of them. */
static void test_switchless_answers(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_layout *l = runnable_layout(mr, ss);
	fk.switchless = true;
	char in[3000], want[3000];
	size_t ni = 0, nw = 0;
	for (int i = 0; i < 300; i++) {
		char m[16];
		int n = snprintf(m, sizeof m, "m%03d", i);
		ni += (size_t)snprintf(in + ni, sizeof in - ni, "%s\n", m);
		for (int k = n - 1; k >= 0; k--)
			want[nw++] = m[k];
		want[nw++] = '\n';
	}
	want[nw] = '\0';
	struct run r;
	int rc = run_lines(l, ss, false, in, &r);
	if (rc)
		fail_msg("run: %s", r.err.msg);
	assert_string_equal(r.out, want);
	assert_int_equal(r.res.outcome, EIMG_RUN_CLEAN);
	assert_int_equal(r.res.messages, 300);
	assert_int_equal(fk.swl_messages, 300);
	print_message("switchless: 300 messages, %u enters (%u idle, %u bells)\n", fk.enters, fk.swl_idles, fk.swl_bells);
	assert_int_equal(fk.msg_enters, 0);     /* no EENTER per message */
	/* one SWITCHLESS entry, then a RESUME per IDLE or BELL ocall only */
	assert_int_equal(fk.enters, 1 + fk.swl_idles + fk.swl_bells);
	assert_true(fk.enters < 60);   /* 300 messages */
	assert_false(fk.fd_open);
	eimg_layout_free(l);
	fake_release(&fk);
}

static void test_tampered_image_refused(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_layout *l = signed_layout(0x10000, 1, mr, ss); /* the fake runs one message at a time */
	eimg_layout_free(l);
	/* one byte of code changed after signing: the CPU's EINIT refuses */
	elf_bytes[0x1500] ^= 0x20;
	l = make_layout();
	fresh_fake(FAKE_RUNTIME);
	struct run r;
	assert_int_equal(run_lines(l, ss, false, "hello\n", &r), EIMG_EVERIFY);
	assert_non_null(strstr(r.err.msg, "refused the SIGSTRUCT"));
	assert_non_null(strstr(r.err.msg, "but the enclave measures"));
	assert_false(fk.initialized);
	assert_int_equal(fk.enters, 0);         /* nothing ran */
	assert_string_equal(r.out, "");
	assert_false(fk.fd_open);
	eimg_layout_free(l);

	/* a SIGSTRUCT that is not the one for the expected MRENCLAVE: refused before the device */
	setup_input(0x10000, 1);   /* the fake runs one message at a time */
	l = make_layout();
	uint8_t other[32];
	memset(other, 0x5a, sizeof other);
	fresh_fake(FAKE_RUNTIME);
	memset(&r, 0, sizeof r);
	struct eimg_run_options o = { .backend = EIMG_RUN_HARDWARE, .lines = true, .in_fd = 0, .out_fd = 1,
				      .stop_fd = -1, .sigstruct = ss };
	assert_int_equal(eimg_run_hw_ops(l, other, &o, &ops, &r.res, &r.err), EIMG_EVERIFY);
	assert_false(fk.created);
	/* no SIGSTRUCT at all */
	o.sigstruct = NULL;
	assert_int_equal(eimg_run_hw_ops(l, other, &o, &ops, &r.res, &r.err), EIMG_EUSAGE);
	eimg_layout_free(l);
	fake_release(&fk);
}

static void test_exception_is_a_fault(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_layout *l = signed_layout(0x10000, 1, mr, ss); /* the fake runs one message at a time */
	fresh_fake(FAKE_FAULT);
	struct run r;
	assert_int_equal(run_lines(l, ss, false, "boom\nnever\n", &r), EIMG_OK);
	assert_int_equal(r.res.outcome, EIMG_RUN_FAULT);
	if (strncmp(r.res.what, "enclave fault: enclave thread 0 stopped by #PF (page fault) inside the enclave", 78) != 0)
		fail_msg("what: %s", r.res.what);
	/* the message in flight is answered as stopped; nothing else ran */
	assert_non_null(strstr(r.out, "error: enclave fault: enclave thread 0 stopped by #PF"));
	assert_int_equal(fk.enters, 1);
	assert_false(fk.fd_open);
	eimg_layout_free(l);
	fake_release(&fk);
}

static void test_debug_launch(void **state)
{
	(void)state;
	need_key();
	setup_input(0x10000, 1);   /* the fake runs one message at a time */
	eimg_layout *l = make_layout();
	uint8_t mr[32], prod[EIMG_SIGSTRUCT_SIZE], both[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	assert_int_equal(eimg_sgx_mrenclave(l, mr, &err), EIMG_OK);
	sign(mr, false, 0x3, prod);
	sign(mr, true, 0x3, both);
	struct run r;
	/* production-only signature: no debug launch, the device is not touched */
	fresh_fake(FAKE_RUNTIME);
	assert_int_equal(run_lines(l, prod, true, "x\n", &r), EIMG_EUSAGE);
	assert_non_null(strstr(r.err.msg, "does not allow a debug launch"));
	assert_false(fk.created);
	assert_string_equal(r.out, "");
	/* a signature that allows both: DEBUG in the SECS, and it answers */
	fresh_fake(FAKE_RUNTIME);
	assert_int_equal(run_lines(l, both, true, "abc\n", &r), EIMG_OK);
	assert_int_equal(fk.attributes, 0x6);
	assert_string_equal(r.out, "cba\n");
	eimg_layout_free(l);
	fake_release(&fk);
}

/* The loading step on hardware: ADD_PAGES reported as "loading", the
 * layout's bytes, in batches, finished before the first message. */
struct drawn {
	unsigned n, finished;
	uint64_t done, total;
	char steps[128];
};

static void record(void *ctx, const char *step, uint64_t done, uint64_t total, bool finished)
{
	struct drawn *d = ctx;
	size_t n = strlen(d->steps);
	if (done == 0 && !finished)
		snprintf(d->steps + n, sizeof(d->steps) - n, "%s|", step);
	d->n++;
	d->finished += finished;
	d->done = done;
	d->total = total;
}

static void test_loading_progress(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_layout *l = runnable_layout(mr, ss);
	struct drawn d;
	struct eimg_progress p = { .fn = record, .ctx = &d };
	uint64_t total = 0;
	for (size_t i = 0; i < l->nregions; i++)
		total += l->regions[i].size;
	memset(&d, 0, sizeof d);
	g_progress = &p;
	struct run r;
	int rc = run_lines(l, ss, false, "hi\n", &r);
	g_progress = NULL;
	if (rc)
		fail_msg("run: %s", r.err.msg);
	assert_string_equal(r.out, "ih\n");
	assert_string_equal(d.steps, "loading|");   /* the CPU measures: no second step */
	assert_int_equal(d.finished, 1);
	assert_int_equal(d.done, total);
	assert_int_equal(d.total, total);
	assert_int_equal(fk.npages_added * 4096, total);
	eimg_layout_free(l);
	fake_release(&fk);
}

/* Platform problems come back from the preflight inside the loader, with
 * their messages, before anything is created. */
static void test_platform_refusals(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_layout *l = signed_layout(0x10000, 1, mr, ss); /* the fake runs one message at a time */
	struct run r;
	fresh_fake(FAKE_RUNTIME);
	fk.device = false;
	assert_int_equal(run_lines(l, ss, false, "x\n", &r), EIMG_EUNSUPPORTED);
	assert_non_null(strstr(r.err.msg, "no such device"));
	fresh_fake(FAKE_RUNTIME);
	fk.noexec = true;
	assert_int_equal(run_lines(l, ss, false, "x\n", &r), EIMG_EUNSUPPORTED);
	assert_non_null(strstr(r.err.msg, "/dev is mounted noexec"));
	fresh_fake(FAKE_RUNTIME);
	fk.perm_denied = true;
	assert_int_equal(run_lines(l, ss, false, "x\n", &r), EIMG_EIO);
	assert_non_null(strstr(r.err.msg, "permission denied"));
	assert_int_equal(fk.enters, 0);
	eimg_layout_free(l);
	fake_release(&fk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_image_answers),
		cmocka_unit_test(test_switchless_answers),
		cmocka_unit_test(test_tampered_image_refused),
		cmocka_unit_test(test_exception_is_a_fault),
		cmocka_unit_test(test_debug_launch),
		cmocka_unit_test(test_platform_refusals),
		cmocka_unit_test(test_loading_progress),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
