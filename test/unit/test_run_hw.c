/* The runner's hardware backend (sim_run.c, EIMG_RUN_HARDWARE) driven through
 * the fake /dev/sgx_enclave of fake_sgx_dev.c: the same message loop as the
 * simulation, with eimg_sgx_hw_load (the fake CPU measures the pages and
 * refuses EINIT unless the SIGSTRUCT signs them) and eimg_sgx_hw_call (the
 * fake runs the runtime's message ABI: a log ocall, then the message
 * reversed).  A good image initialises and answers; a tampered one is
 * refused before any message; an exception in the enclave ends the run as a
 * fault; a debug launch needs a signature that allows it. */
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
#include "internal.h"
#include "sgx_hw_int.h"
#include "sim_int.h"

#include "fake_sgx_dev.c"

static uint8_t elf_bytes[0x4000];
static eimg_elf elf;
static eimg_manifest man;
static struct eimg_layout_input lin;
static const char manifest_json[] = "{\"x\":1}\n";
static char keypath[64] = "";
static bool have_key;
static struct fake_sgx fk;
static struct eimg_sgx_hw_ops ops;

static void setup_input(void)
{
	for (size_t i = 0; i < sizeof(elf_bytes); i++)
		elf_bytes[i] = (uint8_t)(i * 13 + 5);
	memset(&elf, 0, sizeof(elf));
	elf.entry = 0x1010;
	elf.data = elf_bytes;
	elf.size = sizeof(elf_bytes);
	elf.seg[0] = (struct eimg_elf_segment){ .vaddr = 0, .memsz = 0x1000, .file_off = 0, .filesz = 0x200, .flags = EIMG_SEG_R };
	elf.seg[1] = (struct eimg_elf_segment){ .vaddr = 0x1000, .memsz = 0x2000, .file_off = 0x1000, .filesz = 0x1800, .flags = EIMG_SEG_R | EIMG_SEG_X };
	elf.seg[2] = (struct eimg_elf_segment){ .vaddr = 0x3000, .memsz = 0x2000, .data_off = 0x10, .file_off = 0x3010, .filesz = 0x20, .flags = EIMG_SEG_R | EIMG_SEG_W };
	elf.nseg = 3;
	elf.image_end = 0x5000;
	memset(&man, 0, sizeof(man));
	man.version = 1;
	man.target = EIMG_TARGET_SGX;
	man.mode = EIMG_MODE_HARDWARE;
	man.source = "enclave.yaml";
	man.sgx.heap_size = 0x10000;
	man.sgx.stack_size = 0x4000;
	man.sgx.threads = 1;       /* the fake runs one message at a time */
	man.sgx.ssa_frames = 2;
	man.sgx.ssa_frame_size = 1;
	lin = (struct eimg_layout_input){ .manifest = &man, .manifest_json = manifest_json,
		.manifest_len = strlen(manifest_json), .elf = &elf };
}

static eimg_layout *make_layout(void)
{
	eimg_layout *l = NULL;
	eimg_error err;
	if (eimg_layout_sgx(&lin, &l, &err) != EIMG_OK)
		fail_msg("layout: %s", err.msg);
	return l;
}

static void sign(const uint8_t mr[32], bool debug, uint8_t ss[EIMG_SIGSTRUCT_SIZE])
{
	struct eimg_sign_fields f;
	eimg_error err;
	eimg_sign_fields_default(0x20261123, &f);
	f.attr_xfrm = 0x3;
	if (debug)
		f.mask_flags = EIMG_MASK_FLAGS_DEBUG_ALLOWED;
	eimg_sigstruct_prepare(mr, &f, ss);
	struct eimg_key_source key = { .path = keypath };
	if (eimg_sigstruct_sign(ss, &key, &err) != EIMG_OK)
		fail_msg("sign: %s", err.msg);
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(keypath, sizeof(keypath), "/tmp/eimg-runhw-key-%ld.pem", (long)getpid());
	char cmd[256];
	snprintf(cmd, sizeof(cmd),
		 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:3072 -pkeyopt rsa_keygen_pubexp:3 "
		 "-out %s 2>/dev/null", keypath);
	have_key = system(cmd) == 0;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (keypath[0])
		unlink(keypath);
	return 0;
}

static void need_key(void)
{
	if (!have_key) {
		print_message("skipped: openssl could not generate an RSA-3072 e=3 test key\n");
		skip();
	}
}

static void fresh_fake(int mode)
{
	fake_release(&fk);
	fake_default(&fk);
	fk.enter_mode = mode;
	ops = fake_ops(&fk);
}

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
		.sigstruct = ss, .debug_launch = debug,
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

static void test_good_image_answers(void **state)
{
	(void)state;
	need_key();
	setup_input();
	eimg_layout *l = make_layout();
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	assert_int_equal(eimg_sgx_mrenclave(l, mr, &err), EIMG_OK);
	sign(mr, false, ss);
	fresh_fake(FAKE_RUNTIME);
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
	assert_int_equal(fk.enters, 4);         /* MESSAGE + RESUME per message */
	assert_false(fk.fd_open);               /* unloaded: the device is closed */
	eimg_layout_free(l);
	fake_release(&fk);
}

static void test_tampered_image_refused(void **state)
{
	(void)state;
	need_key();
	setup_input();
	eimg_layout *l = make_layout();
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	assert_int_equal(eimg_sgx_mrenclave(l, mr, &err), EIMG_OK);
	sign(mr, false, ss);
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
	setup_input();
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
	need_key();
	setup_input();
	eimg_layout *l = make_layout();
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	assert_int_equal(eimg_sgx_mrenclave(l, mr, &err), EIMG_OK);
	sign(mr, false, ss);
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
	setup_input();
	eimg_layout *l = make_layout();
	uint8_t mr[32], prod[EIMG_SIGSTRUCT_SIZE], both[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	assert_int_equal(eimg_sgx_mrenclave(l, mr, &err), EIMG_OK);
	sign(mr, false, prod);
	sign(mr, true, both);
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

/* Platform problems come back from the preflight inside the loader, with
 * their messages, before anything is created. */
static void test_platform_refusals(void **state)
{
	(void)state;
	need_key();
	setup_input();
	eimg_layout *l = make_layout();
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	assert_int_equal(eimg_sgx_mrenclave(l, mr, &err), EIMG_OK);
	sign(mr, false, ss);
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
		cmocka_unit_test(test_tampered_image_refused),
		cmocka_unit_test(test_exception_is_a_fault),
		cmocka_unit_test(test_debug_launch),
		cmocka_unit_test(test_platform_refusals),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
