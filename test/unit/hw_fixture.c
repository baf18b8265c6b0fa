/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by test_sgx_hw.c and test_run_hw.c (included after fake_sgx_dev.c):
 * a small enclave built from the layout code's own input, a test signing key
 * made at test time, and a fresh fake device per test. */

/* ---- a small enclave: the layout code's own input, as in test_layout.c ---- */
static uint8_t elf_bytes[0x4000];
static eimg_elf elf;
static eimg_manifest man;
static struct eimg_layout_input lin;
static const char manifest_json[] = "{\"x\":1}\n";
static char keypath[64] = "";
static bool have_key;

/* heap and threads vary by test file: more than one ADD_PAGES batch, one or
 * several TCSs. */
static void setup_input(uint64_t heap, uint32_t threads)
{
	for (size_t i = 0; i < sizeof(elf_bytes); i++)
		elf_bytes[i] = (uint8_t)(i * 7 + 3);
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
	man.sgx.heap_size = heap;
	man.sgx.stack_size = 0x4000;
	man.sgx.threads = threads;
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

/* Signs mrenclave with the test key. debug: DEBUG out of the mask (both
 * launch modes); else production-only. */
static void sign(const uint8_t mr[32], bool debug, uint64_t xfrm, uint8_t ss[EIMG_SIGSTRUCT_SIZE])
{
	struct eimg_sign_fields f;
	eimg_error err;
	eimg_sign_fields_default(0x20261123, &f);
	f.isvprodid = 7;
	f.isvsvn = 3;
	f.attr_xfrm = xfrm;
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
	snprintf(keypath, sizeof(keypath), "/tmp/eimg-hw-key-%ld.pem", (long)getpid());
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

static struct fake_sgx fk;
static struct eimg_sgx_hw_ops ops;

/* The enclave of setup_input(heap, threads), measured into mr and signed
 * for production into ss. */
static eimg_layout *signed_layout(uint64_t heap, uint32_t threads, uint8_t mr[32], uint8_t ss[EIMG_SIGSTRUCT_SIZE])
{
	eimg_error err;
	need_key();
	setup_input(heap, threads);
	eimg_layout *l = make_layout();
	assert_int_equal(eimg_sgx_mrenclave(l, mr, &err), EIMG_OK);
	sign(mr, false, 0x3, ss);
	return l;
}

static void fresh_fake(int mode)
{
	fake_release(&fk);
	fake_default(&fk);
	fk.enter_mode = mode;
	ops = fake_ops(&fk);
}
