/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the manifest module: parsing, defaults, validation errors
 * (exact position and key path), limits, hostile input, canonical form. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eimg/manifest.h"

static char tmpdir[256];

/* ------------------------------------------------------------ fixtures */

static void write_text(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void make_dir(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int group_setup(void **state)
{
	(void)state;
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_manifest.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir))
		return -1;
	make_dir("data");
	make_dir("keys");
	make_dir("rootfs");
	make_dir("adir");
	make_dir("sub");
	write_text("app.elf", "not really an ELF");
	write_text("data/greeting.txt", "hello\n");
	write_text("data/other.txt", "other\n");
	write_text("data/bad name.txt", "x\n");
	write_text("keys/alice.pub.pem", "-----BEGIN PUBLIC KEY-----\n");
	write_text("keys/bob.pub.pem", "-----BEGIN PUBLIC KEY-----\n");
	write_text("bzImage", "kernel");
	write_text("bzImage.config", "CONFIG_X=y\n");
	write_text("init", "init");
	write_text("app.tar", "tar");
	write_text("notes.txt", "notes");
	write_text("sub/app.elf", "another ELF");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *join(const char *rel)
{
	static char p[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", tmpdir, rel);
	return p[i];
}

/* Parses text as "enclave.yaml" in tmpdir. */
static int parse(const char *text, eimg_manifest **m, eimg_error *err)
{
	eimg_error_clear(err);
	return eimg_manifest_parse_buffer("enclave.yaml", text, strlen(text), tmpdir, m, err);
}

static eimg_manifest *parse_ok(const char *text)
{
	eimg_manifest *m = NULL;
	eimg_error err;
	char buf[1024];
	int rc = parse(text, &m, &err);
	if (rc) {
		print_error("unexpected error: %s\n", eimg_error_format(&err, buf, sizeof(buf)));
		fail();
	}
	assert_non_null(m);
	return m;
}

/* Asserts that text fails with status code and exactly message want
 * ("enclave.yaml:L:C: key.path: ..."). */
static void expect_error_code(const char *text, int code, const char *want)
{
	eimg_manifest *m = (eimg_manifest *)0x1;
	eimg_error err;
	char buf[1024];
	int rc = parse(text, &m, &err);
	assert_int_equal(rc, code);
	assert_int_equal(err.code, code);
	assert_ptr_equal(m, (eimg_manifest *)0x1); /* out untouched on failure */
	eimg_error_format(&err, buf, sizeof(buf));
	if (strcmp(buf, want) != 0) {
		print_error("want: %s\ngot:  %s\n", want, buf);
		fail();
	}
}

static void expect_error(const char *text, const char *want)
{
	expect_error_code(text, 1 /* EIMG_EINVAL */, want);
}

#define SGX_HEAD "version: 1\nname: hello\ntarget: sgx\n"
#define SGX_MIN SGX_HEAD "sgx:\n  enclave: app.elf\n"
#define NITRO_HEAD "version: 1\nname: web\ntarget: nitro\n"
#define NITRO_MIN NITRO_HEAD \
	"nitro:\n" \
	"  kernel: bzImage\n" \
	"  cmdline: \"reboot=k panic=30 pci=off nomodules console=ttyS0\"\n" \
	"  init: init\n" \
	"  app: rootfs/\n" \
	"  entrypoint: [\"/bin/hello\"]\n"

/* --------------------------------------------------------------- valid */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(eimg_mode_name(EIMG_MODE_HARDWARE), "hardware");
	assert_string_equal(eimg_mode_name(EIMG_MODE_SIMULATION), "simulation");
	assert_string_equal(eimg_target_name(EIMG_TARGET_SGX), "sgx");
	assert_string_equal(eimg_target_name(EIMG_TARGET_NITRO), "nitro");
	assert_string_equal(eimg_mode_name(0), "unknown");
	assert_string_equal(eimg_target_name(99), "unknown");
	eimg_manifest_free(NULL);
}

static void test_sgx_minimal_defaults(void **state)
{
	(void)state;
	eimg_manifest *m = parse_ok(SGX_MIN);
	assert_int_equal(m->version, 1);
	assert_string_equal(m->name, "hello");
	assert_int_equal(m->target, EIMG_TARGET_SGX);
	assert_int_equal(m->mode, EIMG_MODE_HARDWARE);
	assert_string_equal(m->sgx.enclave, join("app.elf"));
	assert_int_equal(m->sgx.enclave_pos.line, 5);
	assert_int_equal(m->sgx.enclave_pos.column, 12);
	assert_int_equal(m->sgx.heap_size, 1 << 20);
	assert_int_equal(m->sgx.stack_size, 64 << 10);
	assert_int_equal(m->sgx.threads, 1);
	assert_int_equal(m->sgx.ssa_frames, 2);
	assert_int_equal(m->sgx.ssa_frame_size, 1);
	assert_int_equal(m->sgx.product_id, 0);
	assert_int_equal(m->sgx.security_version, 0);
	assert_false(m->sgx.debug);
	assert_false(m->sgx.allow_write_exec);
	assert_true(m->sgx.xfrm == 0x3);
	assert_true(m->sgx.xfrm_mask == 0xffffffffffffff1bull);
	assert_int_equal(m->sgx.misc_select, 0);
	assert_true(m->sgx.misc_mask == 0xffffffffu);
	assert_false(m->sgx.kss);
	static const uint8_t zero[16];
	assert_memory_equal(m->sgx.isv_family_id, zero, 16);
	assert_memory_equal(m->sgx.isv_ext_product_id, zero, 16);
	assert_int_equal(m->nfiles, 0);
	assert_null(m->files);
	assert_int_equal(m->nkeys, 0);
	assert_null(m->keys);
	assert_string_equal(m->runtime_json, "{}");
	assert_string_equal(m->source, "enclave.yaml");
	assert_null(m->nitro.kernel);
	assert_null(m->nitro.entrypoint);
	eimg_manifest_free(m);
}

static const char sgx_full[] =
	"# every key\n"
	"version: 1\n"
	"name: Hello_world-2.0\n"
	"target: sgx\n"
	"mode: simulation\n"
	"sgx:\n"
	"  enclave: sub/app.elf\n"
	"  heap_size: 32M\n"
	"  stack_size: 0x20000\n"
	"  threads: 8\n"
	"  ssa_frames: 3\n"
	"  ssa_frame_size: 2\n"
	"  product_id: 65535\n"
	"  security_version: 7\n"
	"  debug: true\n"
	"  allow_write_exec: true\n"
	"  xfrm: 0xe7\n"
	"  xfrm_mask: 18446744073709551615\n"
	"  misc_select: 1\n"
	"  misc_mask: 0xfffffffe\n"
	"  kss: true\n"
	"  isv_family_id: 000102030405060708090A0B0C0D0E0F\n"
	"  isv_ext_product_id: \"ffeeddccbbaa99887766554433221100\"\n"
	"files:\n"
	"  - path: data/other.txt\n"
	"  - path: data/greeting.txt\n"
	"    name: a-greeting.txt\n"
	"  - {path: data/greeting.txt, name: Z}\n"
	"user_keys:\n"
	"  - path: keys/bob.pub.pem\n"
	"    name: bob\n"
	"  - path: keys/alice.pub.pem\n"
	"    name: alice\n"
	"runtime:\n"
	"  log_level: info\n"
	"  answer: 42\n"
	"  neg: -7\n"
	"  hex: 0x10\n"
	"  big: 99999999999999999999\n"
	"  quoted: \"5\"\n"
	"  yes_is_text: yes\n"
	"  on: off\n"
	"  flag: true\n"
	"  qflag: \"false\"\n"
	"  empty:\n"
	"  list: [1, two, {three: 3}]\n"
	"  nested: {a: {b: [x]}}\n";

static void test_sgx_full(void **state)
{
	(void)state;
	eimg_manifest *m = parse_ok(sgx_full);
	assert_string_equal(m->name, "Hello_world-2.0");
	assert_int_equal(m->mode, EIMG_MODE_SIMULATION);
	assert_string_equal(m->sgx.enclave, join("sub/app.elf"));
	assert_int_equal(m->sgx.enclave_pos.line, 7);
	assert_int_equal(m->sgx.heap_size, 32 << 20);
	assert_int_equal(m->sgx.stack_size, 0x20000);
	assert_int_equal(m->sgx.threads, 8);
	assert_int_equal(m->sgx.ssa_frames, 3);
	assert_int_equal(m->sgx.ssa_frame_size, 2);
	assert_int_equal(m->sgx.product_id, 65535);
	assert_int_equal(m->sgx.security_version, 7);
	assert_true(m->sgx.debug);
	assert_true(m->sgx.allow_write_exec);
	assert_true(m->sgx.xfrm == 0xe7);
	assert_true(m->sgx.xfrm_mask == UINT64_MAX);
	assert_int_equal(m->sgx.misc_select, 1);
	assert_true(m->sgx.misc_mask == 0xfffffffeu);
	assert_true(m->sgx.kss);
	static const uint8_t fam[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const uint8_t ext[16] = { 0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88,
					 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00 };
	assert_memory_equal(m->sgx.isv_family_id, fam, 16);
	assert_memory_equal(m->sgx.isv_ext_product_id, ext, 16);
	/* Sorted bytewise by name: "Z" < "a-greeting.txt" < "other.txt". */
	assert_int_equal(m->nfiles, 3);
	assert_string_equal(m->files[0].name, "Z");
	assert_string_equal(m->files[0].path, join("data/greeting.txt"));
	assert_int_equal(m->files[0].pos.line, 28);
	assert_int_equal(m->files[0].pos.column, 12);
	assert_string_equal(m->files[1].name, "a-greeting.txt");
	assert_string_equal(m->files[1].path, join("data/greeting.txt"));
	assert_int_equal(m->files[1].pos.line, 26);
	assert_string_equal(m->files[2].name, "other.txt");
	assert_string_equal(m->files[2].path, join("data/other.txt"));
	assert_int_equal(m->files[2].pos.line, 25);
	assert_int_equal(m->files[2].pos.column, 11);
	assert_int_equal(m->nkeys, 2);
	assert_string_equal(m->keys[0].name, "alice");
	assert_string_equal(m->keys[0].path, join("keys/alice.pub.pem"));
	assert_string_equal(m->keys[1].name, "bob");
	assert_string_equal(m->keys[1].path, join("keys/bob.pub.pem"));
	assert_string_equal(m->runtime_json,
			    "{\"answer\":42,\"big\":\"99999999999999999999\",\"empty\":\"\",\"flag\":true,"
			    "\"hex\":16,\"list\":[1,\"two\",{\"three\":3}],\"log_level\":\"info\","
			    "\"neg\":-7,\"nested\":{\"a\":{\"b\":[\"x\"]}},\"on\":\"off\",\"qflag\":\"false\","
			    "\"quoted\":\"5\",\"yes_is_text\":\"yes\"}");
	eimg_manifest_free(m);
}

static void test_nitro_minimal_defaults(void **state)
{
	(void)state;
	eimg_manifest *m = parse_ok(NITRO_MIN);
	assert_int_equal(m->target, EIMG_TARGET_NITRO);
	assert_int_equal(m->mode, EIMG_MODE_HARDWARE);
	assert_string_equal(m->nitro.kernel, join("bzImage"));
	assert_null(m->nitro.kernel_config);
	assert_false(m->nitro.has_kernel_config);
	assert_string_equal(m->nitro.cmdline, "reboot=k panic=30 pci=off nomodules console=ttyS0");
	assert_string_equal(m->nitro.init, join("init"));
	assert_string_equal(m->nitro.app, join("rootfs/"));
	assert_int_equal(m->nitro.entrypoint_len, 1);
	assert_string_equal(m->nitro.entrypoint[0], "/bin/hello");
	assert_null(m->nitro.entrypoint[1]);
	assert_int_equal(m->nitro.memory_mib, 512);
	assert_int_equal(m->nitro.cpus, 2);
	assert_int_equal(m->nitro.ningress, 0);
	assert_int_equal(m->nitro.negress_allow, 0);
	assert_int_equal(m->nitro.negress_deny, 0);
	assert_int_equal(m->nitro.kernel_pos.line, 5);
	assert_int_equal(m->nitro.kernel_pos.column, 11);
	assert_int_equal(m->nitro.init_pos.line, 7);
	assert_int_equal(m->nitro.app_pos.line, 8);
	assert_null(m->sgx.enclave);
	assert_int_equal(m->nfiles, 0);
	assert_string_equal(m->runtime_json, "{}");
	eimg_manifest_free(m);
}

static const char nitro_full[] =
	"version: 1\n"
	"name: web\n"
	"target: nitro\n"
	"mode: hardware\n"
	"nitro:\n"
	"  kernel: bzImage\n"
	"  kernel_config: bzImage.config\n"
	"  cmdline: 'console=ttyS0 quiet'\n"
	"  init: init\n"
	"  app: app.tar\n"
	"  entrypoint:\n"
	"    - /bin/server\n"
	"    - --port\n"
	"    - \"8080\"\n"
	"    - ''\n"
	"    - caf\xc3\xa9\n"
	"  memory: 1G\n"
	"  cpus: 64\n"
	"  ingress: [8080, 443, 0x50]\n"
	"  egress:\n"
	"    allow: [\"*.amazonaws.com\", 10.0.0.0/8, \"fd00::/8\"]\n"
	"    deny: [169.254.169.254]\n"
	"runtime: {}\n";

static void test_nitro_full(void **state)
{
	(void)state;
	eimg_manifest *m = parse_ok(nitro_full);
	assert_string_equal(m->nitro.kernel, join("bzImage"));
	assert_string_equal(m->nitro.kernel_config, join("bzImage.config"));
	assert_true(m->nitro.has_kernel_config);
	assert_string_equal(m->nitro.cmdline, "console=ttyS0 quiet");
	assert_string_equal(m->nitro.app, join("app.tar"));
	assert_int_equal(m->nitro.entrypoint_len, 5);
	assert_string_equal(m->nitro.entrypoint[0], "/bin/server");
	assert_string_equal(m->nitro.entrypoint[1], "--port");
	assert_string_equal(m->nitro.entrypoint[2], "8080");
	assert_string_equal(m->nitro.entrypoint[3], "");
	assert_string_equal(m->nitro.entrypoint[4], "caf\xc3\xa9");
	assert_null(m->nitro.entrypoint[5]);
	assert_int_equal(m->nitro.memory_mib, 1024);
	assert_int_equal(m->nitro.cpus, 64);
	assert_int_equal(m->nitro.ningress, 3);
	assert_int_equal(m->nitro.ingress[0], 8080);
	assert_int_equal(m->nitro.ingress[1], 443);
	assert_int_equal(m->nitro.ingress[2], 80);
	assert_int_equal(m->nitro.negress_allow, 3);
	assert_string_equal(m->nitro.egress_allow[0], "*.amazonaws.com");
	assert_string_equal(m->nitro.egress_allow[1], "10.0.0.0/8");
	assert_string_equal(m->nitro.egress_allow[2], "fd00::/8");
	assert_int_equal(m->nitro.negress_deny, 1);
	assert_string_equal(m->nitro.egress_deny[0], "169.254.169.254");
	assert_string_equal(m->runtime_json, "{}");
	eimg_manifest_free(m);
}

static void test_sizes(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		uint64_t want;
	} cases[] = {
		{ "4096", 4096 }, { "0x2000", 0x2000 }, { "8K", 8192 }, { "8k", 8192 },
		{ "2M", 2 << 20 }, { "3MiB", 3 << 20 }, { "1G", 1 << 30 }, { "32G", 32ull << 30 },
		{ "4K", 4096 }, { "1048576", 1 << 20 },
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), SGX_MIN "  heap_size: %s\n", cases[i].text);
		eimg_manifest *m = parse_ok(buf);
		assert_true(m->sgx.heap_size == cases[i].want);
		eimg_manifest_free(m);
	}
	eimg_manifest *m = parse_ok(NITRO_MIN "  memory: 64M\n");
	assert_int_equal(m->nitro.memory_mib, 64);
	eimg_manifest_free(m);
	m = parse_ok(NITRO_MIN "  memory: 0x4000000000\n");
	assert_int_equal(m->nitro.memory_mib, 256 * 1024);
	eimg_manifest_free(m);
}

static void test_hex_strings_and_flow_style(void **state)
{
	(void)state;
	/* The masks accept quoted 0x strings (the canonical spelling);
	 * a JSON document is read like YAML. */
	const char *json = "{\"version\": 1, \"name\": \"j\", \"target\": \"sgx\", \"sgx\": "
			   "{\"enclave\": \"app.elf\", \"xfrm\": \"0x7\", \"xfrm_mask\": \"0xFFFFFFFFFFFFFFFF\","
			   " \"misc_select\": \"0x0\", \"misc_mask\": \"0x1\", \"threads\": 2}}";
	eimg_manifest *m = parse_ok(json);
	assert_true(m->sgx.xfrm == 7);
	assert_true(m->sgx.xfrm_mask == UINT64_MAX);
	assert_int_equal(m->sgx.misc_mask, 1);
	assert_int_equal(m->sgx.threads, 2);
	eimg_manifest_free(m);
}

static void test_parse_file_resolves(void **state)
{
	(void)state;
	eimg_manifest *m = NULL;
	eimg_error err;
	char buf[1024];
	write_text("sub/enclave.yaml", SGX_MIN);
	/* Relative to the manifest's folder (sub/), not to the working folder. */
	int rc = eimg_manifest_parse_file(join("sub/enclave.yaml"), &m, &err);
	if (rc)
		print_error("%s\n", eimg_error_format(&err, buf, sizeof(buf)));
	assert_int_equal(rc, 0);
	assert_string_equal(m->sgx.enclave, join("sub/app.elf"));
	assert_string_equal(m->source, join("sub/enclave.yaml"));
	eimg_manifest_free(m);

	/* Errors name the file as given. */
	write_text("sub/bad.yaml", SGX_HEAD "sgx:\n  enclave: data/greeting.txt\n");
	m = (eimg_manifest *)0x1;
	rc = eimg_manifest_parse_file(join("sub/bad.yaml"), &m, &err);
	assert_int_equal(rc, 2 /* EIMG_EIO */);
	assert_int_equal(err.sys_errno, ENOENT);
	assert_ptr_equal(m, (eimg_manifest *)0x1);
	char want[1024];
	snprintf(want, sizeof(want),
		 "%s:5:12: sgx.enclave: cannot open 'data/greeting.txt': No such file or directory",
		 join("sub/bad.yaml"));
	assert_string_equal(eimg_error_format(&err, buf, sizeof(buf)), want);

	/* Absolute paths are kept. */
	char text[1024];
	snprintf(text, sizeof(text), SGX_HEAD "sgx:\n  enclave: %s\n", join("app.elf"));
	write_text("sub/abs.yaml", text);
	rc = eimg_manifest_parse_file(join("sub/abs.yaml"), &m, &err);
	assert_int_equal(rc, 0);
	assert_string_equal(m->sgx.enclave, join("app.elf"));
	eimg_manifest_free(m);

	/* A missing manifest. */
	m = (eimg_manifest *)0x1;
	rc = eimg_manifest_parse_file(join("nonexistent.yaml"), &m, &err);
	assert_int_equal(rc, 2);
	assert_ptr_equal(m, (eimg_manifest *)0x1);
}

static void test_image_mode(void **state)
{
	(void)state;
	/* base_dir NULL: no path resolved or checked; entries may carry only a name. */
	const char *text = SGX_HEAD "sgx: {enclave: enclave.elf}\n"
			   "files: [{name: b}, {name: a}, {path: nowhere/c.txt}]\n"
			   "user_keys: [{name: k}]\n";
	eimg_manifest *m = NULL;
	eimg_error err;
	assert_int_equal(eimg_manifest_parse_buffer("manifest.json", text, strlen(text), NULL, &m, &err), 0);
	assert_null(m->sgx.enclave);
	assert_int_equal(m->nfiles, 3);
	assert_string_equal(m->files[0].name, "a");
	assert_null(m->files[0].path);
	assert_string_equal(m->files[2].name, "c.txt");
	assert_null(m->files[2].path);
	assert_int_equal(m->nkeys, 1);
	eimg_manifest_free(m);

	text = NITRO_HEAD "nitro: {kernel: kernel, kernel_config: kernel_config, cmdline: x, init: init,"
			  " app: app, entrypoint: [a]}\n";
	assert_int_equal(eimg_manifest_parse_buffer("manifest.json", text, strlen(text), NULL, &m, &err), 0);
	assert_null(m->nitro.kernel);
	assert_null(m->nitro.kernel_config);
	assert_true(m->nitro.has_kernel_config);
	assert_null(m->nitro.app);
	eimg_manifest_free(m);

	/* An entry with neither path nor name. */
	text = SGX_HEAD "sgx: {enclave: enclave.elf}\nfiles: [{}]\n";
	assert_int_equal(eimg_manifest_parse_buffer("manifest.json", text, strlen(text), NULL, &m, &err), 1);
	char buf[512];
	assert_string_equal(eimg_error_format(&err, buf, sizeof(buf)),
			    "manifest.json:5:9: files[0].name: required key is missing");
}

/* The supervisor's keys: in an image manifest both go together and round-trip
 * through the canonical form; in a source manifest the pin is checked. */
static void test_nitro_supervisor_keys(void **state)
{
	(void)state;
	static const char hex[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
				  "00112233445566778899aabbccddeeff";
	char text[1024], buf[512];
	eimg_manifest *m = NULL, *m2 = NULL;
	eimg_error err;
	snprintf(text, sizeof text, NITRO_HEAD "nitro: {kernel: kernel, cmdline: x, init: init, app: app,"
		 " entrypoint: [a], ingress: [80], supervisor: supervisor, supervisor_sha384: %s}\n", hex);
	assert_int_equal(eimg_manifest_parse_buffer("manifest.json", text, strlen(text), NULL, &m, &err), 0);
	assert_true(m->nitro.has_supervisor);
	assert_null(m->nitro.supervisor);
	assert_string_equal(m->nitro.supervisor_sha384, hex);
	char *c = NULL;
	size_t n = 0;
	assert_int_equal(eimg_manifest_canonical(m, &c, &n, &err), 0);
	assert_non_null(strstr(c, "\"supervisor\": \"supervisor\""));
	assert_non_null(strstr(c, hex));
	assert_int_equal(eimg_manifest_parse_buffer("manifest.json", c, n, NULL, &m2, &err), 0);
	assert_true(m2->nitro.has_supervisor);
	assert_string_equal(m2->nitro.supervisor_sha384, hex);
	free(c);
	eimg_manifest_free(m);
	eimg_manifest_free(m2);

	snprintf(text, sizeof text, NITRO_HEAD "nitro: {kernel: kernel, cmdline: x, init: init, app: app,"
		 " entrypoint: [a], supervisor_sha384: %s}\n", hex);
	assert_int_equal(eimg_manifest_parse_buffer("manifest.json", text, strlen(text), NULL, &m, &err), 1);
	assert_non_null(strstr(eimg_error_format(&err, buf, sizeof(buf)), "supervisor and supervisor_sha384 go together"));
	expect_error(NITRO_MIN "  supervisor_sha384: abc\n",
		     "enclave.yaml:10:22: nitro.supervisor_sha384: expected 96 lower-case hex digits");
	expect_error_code(NITRO_MIN "  supervisor: nothere\n", 2 /* EIMG_EIO */,
			  "enclave.yaml:10:15: nitro.supervisor: cannot open 'nothere': No such file or directory");
	/* a source manifest: has_supervisor only once resolved (eimg_nitro_resolve) */
	m = parse_ok(NITRO_MIN "  ingress: [80]\n");
	assert_false(m->nitro.has_supervisor);
	assert_null(m->nitro.supervisor_sha384);
	eimg_manifest_free(m);
}

/* ----------------------------------------------------------- canonical */

static char *canonical(const eimg_manifest *m, size_t *len)
{
	char *s = NULL;
	size_t n = 0;
	eimg_error err;
	assert_int_equal(eimg_manifest_canonical(m, &s, &n, &err), 0);
	assert_non_null(s);
	assert_int_equal(strlen(s), n);
	if (len)
		*len = n;
	return s;
}

static void test_canonical_sgx_exact(void **state)
{
	(void)state;
	eimg_manifest *m = parse_ok(SGX_MIN "files:\n  - path: data/greeting.txt\nruntime: {a: 1}\n");
	char *s = canonical(m, NULL);
	assert_string_equal(s,
		"{\n"
		"  \"files\": [\n"
		"    {\n"
		"      \"name\": \"greeting.txt\"\n"
		"    }\n"
		"  ],\n"
		"  \"mode\": \"hardware\",\n"
		"  \"name\": \"hello\",\n"
		"  \"sgx\": {\n"
		"    \"allow_write_exec\": false,\n"
		"    \"debug\": false,\n"
		"    \"enclave\": \"enclave.elf\",\n"
		"    \"heap_size\": 1048576,\n"
		"    \"kss\": false,\n"
		"    \"misc_mask\": \"0xffffffff\",\n"
		"    \"misc_select\": \"0x0\",\n"
		"    \"product_id\": 0,\n"
		"    \"security_version\": 0,\n"
		"    \"ssa_frame_size\": 1,\n"
		"    \"ssa_frames\": 2,\n"
		"    \"stack_size\": 65536,\n"
		"    \"threads\": 1,\n"
		"    \"xfrm\": \"0x3\",\n"
		"    \"xfrm_mask\": \"0xffffffffffffff1b\"\n"
		"  },\n"
		"  \"target\": \"sgx\",\n"
		"  \"user_keys\": [],\n"
		"  \"version\": 1\n"
		"}\n");
	free(s);
	eimg_manifest_free(m);
}

static void test_canonical_nitro_exact(void **state)
{
	(void)state;
	eimg_manifest *m = parse_ok(nitro_full);
	char *s = canonical(m, NULL);
	assert_string_equal(s,
		"{\n"
		"  \"mode\": \"hardware\",\n"
		"  \"name\": \"web\",\n"
		"  \"nitro\": {\n"
		"    \"app\": \"app\",\n"
		"    \"cmdline\": \"console=ttyS0 quiet\",\n"
		"    \"cpus\": 64,\n"
		"    \"egress\": {\n"
		"      \"allow\": [\n"
		"        \"*.amazonaws.com\",\n"
		"        \"10.0.0.0/8\",\n"
		"        \"fd00::/8\"\n"
		"      ],\n"
		"      \"deny\": [\n"
		"        \"169.254.169.254\"\n"
		"      ]\n"
		"    },\n"
		"    \"entrypoint\": [\n"
		"      \"/bin/server\",\n"
		"      \"--port\",\n"
		"      \"8080\",\n"
		"      \"\",\n"
		"      \"caf\xc3\xa9\"\n"
		"    ],\n"
		"    \"ingress\": [\n"
		"      8080,\n"
		"      443,\n"
		"      80\n"
		"    ],\n"
		"    \"init\": \"init\",\n"
		"    \"kernel\": \"kernel\",\n"
		"    \"kernel_config\": \"kernel_config\",\n"
		"    \"memory\": 1073741824\n"
		"  },\n"
		"  \"target\": \"nitro\",\n"
		"  \"version\": 1\n"
		"}\n");
	free(s);
	eimg_manifest_free(m);
}

static void assert_same_manifest(const eimg_manifest *a, const eimg_manifest *b)
{
	assert_int_equal(a->version, b->version);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->target, b->target);
	assert_int_equal(a->mode, b->mode);
	if (a->target == EIMG_TARGET_SGX) {
		const struct eimg_manifest_sgx *x = &a->sgx, *y = &b->sgx;
		assert_true(x->heap_size == y->heap_size && x->stack_size == y->stack_size);
		assert_true(x->threads == y->threads && x->ssa_frames == y->ssa_frames &&
			    x->ssa_frame_size == y->ssa_frame_size);
		assert_true(x->product_id == y->product_id && x->security_version == y->security_version);
		assert_true(x->debug == y->debug && x->allow_write_exec == y->allow_write_exec);
		assert_true(x->xfrm == y->xfrm && x->xfrm_mask == y->xfrm_mask);
		assert_true(x->misc_select == y->misc_select && x->misc_mask == y->misc_mask);
		assert_true(x->kss == y->kss);
		assert_memory_equal(x->isv_family_id, y->isv_family_id, 16);
		assert_memory_equal(x->isv_ext_product_id, y->isv_ext_product_id, 16);
	} else {
		const struct eimg_manifest_nitro *x = &a->nitro, *y = &b->nitro;
		assert_string_equal(x->cmdline, y->cmdline);
		assert_int_equal(x->has_kernel_config, y->has_kernel_config);
		assert_int_equal(x->entrypoint_len, y->entrypoint_len);
		for (size_t i = 0; i < x->entrypoint_len; i++)
			assert_string_equal(x->entrypoint[i], y->entrypoint[i]);
		assert_int_equal(x->memory_mib, y->memory_mib);
		assert_int_equal(x->cpus, y->cpus);
		assert_int_equal(x->ningress, y->ningress);
		for (size_t i = 0; i < x->ningress; i++)
			assert_int_equal(x->ingress[i], y->ingress[i]);
		assert_int_equal(x->negress_allow, y->negress_allow);
		for (size_t i = 0; i < x->negress_allow; i++)
			assert_string_equal(x->egress_allow[i], y->egress_allow[i]);
		assert_int_equal(x->negress_deny, y->negress_deny);
		for (size_t i = 0; i < x->negress_deny; i++)
			assert_string_equal(x->egress_deny[i], y->egress_deny[i]);
	}
	assert_int_equal(a->nfiles, b->nfiles);
	for (size_t i = 0; i < a->nfiles; i++)
		assert_string_equal(a->files[i].name, b->files[i].name);
	assert_int_equal(a->nkeys, b->nkeys);
	for (size_t i = 0; i < a->nkeys; i++)
		assert_string_equal(a->keys[i].name, b->keys[i].name);
}

static const char *const round_trip_cases[] = {
	SGX_MIN,
	sgx_full,
	NITRO_MIN,
	nitro_full,
	SGX_HEAD "mode: simulation\nsgx:\n  enclave: app.elf\n  xfrm: 0xffffffffffffffff\n  xfrm_mask: 0\n"
		 "  misc_select: 0xffffffff\n  misc_mask: 0\n  heap_size: 32G\n  stack_size: 1G\n",
	SGX_HEAD "sgx: {enclave: app.elf, kss: true}\n",
	SGX_HEAD "sgx: {enclave: app.elf, kss: false}\nfiles: []\nuser_keys: []\n",
	SGX_HEAD "sgx: {enclave: app.elf, threads: 1024, ssa_frames: 16, ssa_frame_size: 16, stack_size: 4K}\n",
	SGX_HEAD "sgx: {enclave: app.elf}\nuser_keys: [{path: keys/alice.pub.pem}, {path: keys/bob.pub.pem}]\n",
	NITRO_HEAD "nitro: {kernel: bzImage, cmdline: \"a \\\"quoted\\\" \\\\ back\", init: init, app: app.tar,"
		   " entrypoint: [\"\\u00e9t\\u00e9\", \"\\U0001F600\", \" spaced \"], memory: 4096G, cpus: 1,"
		   " ingress: [], egress: {allow: []}}\n",
	NITRO_HEAD "nitro: {kernel: bzImage, cmdline: '#not a comment: {}[],&*!|>%@`', init: init,"
		   " app: rootfs, entrypoint: ['true', 'null', '~', '0x1', '- x', '{a: b}']}\n",
};

static void test_canonical_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(round_trip_cases) / sizeof(round_trip_cases[0]); i++) {
		eimg_manifest *m = parse_ok(round_trip_cases[i]), *m2 = NULL, *m3 = NULL;
		eimg_error err;
		char buf[1024];
		size_t n, n2;
		char *s = canonical(m, &n);
		/* Nothing host-specific in the measured bytes. */
		assert_null(strstr(s, tmpdir));
		assert_null(strstr(s, "runtime"));
		assert_int_equal(s[n - 1], '\n');
		int rc = eimg_manifest_parse_buffer("manifest.json", s, n, NULL, &m2, &err);
		if (rc)
			print_error("case %zu: %s\n%s", i, eimg_error_format(&err, buf, sizeof(buf)), s);
		assert_int_equal(rc, 0);
		assert_same_manifest(m, m2);
		char *s2 = canonical(m2, &n2);
		assert_int_equal(n, n2);
		assert_memory_equal(s, s2, n);
		/* Parsing the canonical form again is stable. */
		assert_int_equal(eimg_manifest_parse_buffer("manifest.json", s2, n2, NULL, &m3, &err), 0);
		assert_same_manifest(m, m3);
		free(s);
		free(s2);
		eimg_manifest_free(m);
		eimg_manifest_free(m2);
		eimg_manifest_free(m3);
	}
}

static void test_canonical_independent_of_folder_and_order(void **state)
{
	(void)state;
	/* Same content, different key order, layout, folder and entry order. */
	eimg_manifest *a = parse_ok(SGX_MIN "files:\n  - path: data/greeting.txt\n  - path: data/other.txt\n");
	const char *text = "target: sgx\nfiles: [{path: ../data/other.txt}, {path: ../data/greeting.txt}]\n"
			   "sgx: {heap_size: 1M, enclave: app.elf}\nname: hello\nversion: 1\n";
	eimg_manifest *b = NULL;
	eimg_error err;
	assert_int_equal(eimg_manifest_parse_buffer("x.yaml", text, strlen(text), join("sub"), &b, &err), 0);
	size_t na, nb;
	char *sa = canonical(a, &na), *sb = canonical(b, &nb);
	assert_int_equal(na, nb);
	assert_memory_equal(sa, sb, na);
	/* Changing a measured value changes the bytes. */
	eimg_manifest *c = parse_ok(SGX_MIN "  threads: 2\nfiles:\n  - path: data/greeting.txt\n  - path: data/other.txt\n");
	size_t nc;
	char *sc = canonical(c, &nc);
	assert_true(na != nc || memcmp(sa, sc, na) != 0);
	free(sa);
	free(sb);
	free(sc);
	eimg_manifest_free(a);
	eimg_manifest_free(b);
	eimg_manifest_free(c);
}

static void test_canonical_bad_input(void **state)
{
	(void)state;
	eimg_manifest m;
	memset(&m, 0, sizeof(m));
	char *s = (char *)0x1;
	size_t n = 77;
	eimg_error err;
	assert_int_equal(eimg_manifest_canonical(NULL, &s, &n, &err), 6 /* EUSAGE */);
	assert_int_equal(eimg_manifest_canonical(&m, &s, &n, &err), 6);
	assert_ptr_equal(s, (char *)0x1);
	assert_int_equal(n, 77);
}

/* -------------------------------------------------------------- errors */

static void test_errors_types(void **state)
{
	(void)state;
	expect_error(SGX_MIN "  heap_size: lots\n",
		     "enclave.yaml:6:14: sgx.heap_size: expected a size like 64M, got \"lots\"");
	expect_error(SGX_MIN "  threads: lots\n",
		     "enclave.yaml:6:12: sgx.threads: expected an integer, got \"lots\"");
	expect_error(SGX_MIN "  threads: \"4\"\n",
		     "enclave.yaml:6:12: sgx.threads: expected an integer, got the string \"4\" (write it without quotes)");
	expect_error(SGX_MIN "  threads: 010\n",
		     "enclave.yaml:6:12: sgx.threads: expected an integer, got \"010\"");
	expect_error(SGX_MIN "  threads: -1\n",
		     "enclave.yaml:6:12: sgx.threads: expected an integer, got \"-1\"");
	expect_error(SGX_MIN "  threads: 1.5\n",
		     "enclave.yaml:6:12: sgx.threads: expected an integer, got \"1.5\"");
	expect_error(SGX_MIN "  threads: [1]\n",
		     "enclave.yaml:6:12: sgx.threads: expected an integer, got a sequence");
	expect_error(SGX_MIN "  threads: {a: 1}\n",
		     "enclave.yaml:6:12: sgx.threads: expected an integer, got a mapping");
	expect_error(SGX_MIN "  product_id: 0x\n",
		     "enclave.yaml:6:15: sgx.product_id: expected an integer, got \"0x\"");
	/* YAML 1.1 booleans are not booleans here. */
	expect_error(SGX_MIN "  debug: yes\n",
		     "enclave.yaml:6:10: sgx.debug: expected true or false, got \"yes\"");
	expect_error(SGX_MIN "  debug: no\n",
		     "enclave.yaml:6:10: sgx.debug: expected true or false, got \"no\"");
	expect_error(SGX_MIN "  kss: on\n",
		     "enclave.yaml:6:8: sgx.kss: expected true or false, got \"on\"");
	expect_error(SGX_MIN "  debug: True\n",
		     "enclave.yaml:6:10: sgx.debug: expected true or false, got \"True\"");
	expect_error(SGX_MIN "  debug: \"true\"\n",
		     "enclave.yaml:6:10: sgx.debug: expected true or false, got \"true\"");
	expect_error(SGX_MIN "  heap_size: \"1M\"\n",
		     "enclave.yaml:6:14: sgx.heap_size: expected a size like 64M, got \"1M\"");
	expect_error(SGX_MIN "  heap_size: 1X\n",
		     "enclave.yaml:6:14: sgx.heap_size: expected a size like 64M, got \"1X\"");
	expect_error(SGX_MIN "  heap_size: 099\n",
		     "enclave.yaml:6:14: sgx.heap_size: expected a size like 64M, got \"099\"");
	expect_error(SGX_MIN "  heap_size: 99999999999999999999\n",
		     "enclave.yaml:6:14: sgx.heap_size: expected a size like 64M, got \"99999999999999999999\"");
	expect_error(SGX_MIN "  xfrm: \"7\"\n",
		     "enclave.yaml:6:9: sgx.xfrm: expected an integer, got the string \"7\" (write it without quotes)");
	expect_error(SGX_MIN "  xfrm: 0x10000000000000000\n",
		     "enclave.yaml:6:9: sgx.xfrm: expected an integer, got \"0x10000000000000000\"");
	expect_error(SGX_MIN "  isv_family_id: 00\n  kss: true\n",
		     "enclave.yaml:6:18: sgx.isv_family_id: expected 32 hex digits, got \"00\"");
	expect_error(SGX_MIN "  kss: true\n  isv_ext_product_id: 0000000000000000000000000000000g\n",
		     "enclave.yaml:7:23: sgx.isv_ext_product_id: expected 32 hex digits, got \"0000000000000000000000000000000g\"");
	expect_error(SGX_HEAD "sgx: [app.elf]\n",
		     "enclave.yaml:4:6: sgx: expected a mapping, got a sequence");
	expect_error(SGX_MIN "files: data/greeting.txt\n",
		     "enclave.yaml:6:8: files: expected a sequence, got \"data/greeting.txt\"");
	expect_error(SGX_MIN "files:\n  - data/greeting.txt\n",
		     "enclave.yaml:7:5: files[0]: expected a mapping with path and name, got \"data/greeting.txt\"");
	expect_error(SGX_MIN "runtime: [1]\n",
		     "enclave.yaml:6:10: runtime: expected a mapping, got a sequence");
	expect_error(NITRO_MIN "  entrypoint: /bin/sh\n",
		     "enclave.yaml:10:3: nitro.entrypoint: duplicate key");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: init, app: rootfs, entrypoint: /bin/sh}\n",
		     "enclave.yaml:4:75: nitro.entrypoint: expected a sequence, got \"/bin/sh\"");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: init, app: rootfs, entrypoint: [[a]]}\n",
		     "enclave.yaml:4:76: nitro.entrypoint[0]: expected a string, got a sequence");
	expect_error(NITRO_MIN "  egress: [a]\n",
		     "enclave.yaml:10:11: nitro.egress: expected a mapping, got a sequence");
	expect_error(NITRO_MIN "  egress: {allow: [\"a b\"]}\n",
		     "enclave.yaml:10:20: nitro.egress.allow[0]: expected a host name pattern or address of 1 to 253 "
		     "characters of A-Z a-z 0-9 . * : / _ -, got \"a b\"");
	expect_error(NITRO_MIN "  ingress: [http]\n",
		     "enclave.yaml:10:13: nitro.ingress[0]: expected an integer, got \"http\"");
	expect_error(SGX_HEAD "mode: 1\nsgx: {enclave: app.elf}\n",
		     "enclave.yaml:4:7: mode: expected hardware or simulation, got \"1\"");
	expect_error("version: 1\nname: [a]\ntarget: sgx\n",
		     "enclave.yaml:2:7: name: expected a name, got a sequence");
}

static void test_errors_values(void **state)
{
	(void)state;
	expect_error("version: 2\nname: hello\ntarget: sgx\n",
		     "enclave.yaml:1:10: version: unsupported version 2 (only 1 is accepted)");
	expect_error("version: 0\nname: hello\ntarget: sgx\n",
		     "enclave.yaml:1:10: version: unsupported version 0 (only 1 is accepted)");
	expect_error("version: 1\nname: .hidden\ntarget: sgx\n",
		     "enclave.yaml:2:7: name: expected 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with \".\", got \".hidden\"");
	expect_error("version: 1\nname: \"a b\"\ntarget: sgx\n",
		     "enclave.yaml:2:7: name: expected 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with \".\", got \"a b\"");
	expect_error("version: 1\nname: \"\"\ntarget: sgx\n",
		     "enclave.yaml:2:7: name: expected 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with \".\", got \"\"");
	expect_error("version: 1\nname: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\ntarget: sgx\n",
		     "enclave.yaml:2:7: name: expected 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with \".\", "
		     "got \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"");
	expect_error("version: 1\nname: \"caf\\xe9\\n\"\ntarget: sgx\n",
		     "enclave.yaml:2:7: name: expected 1 to 64 characters of A-Z a-z 0-9 . _ - not starting with \".\", "
		     "got \"caf\\xc3\\xa9\\x0a\"");
	expect_error("version: 1\nname: hello\ntarget: SGX\n",
		     "enclave.yaml:3:9: target: expected sgx or nitro, got \"SGX\"");
	expect_error(SGX_HEAD "mode: sim\nsgx: {enclave: app.elf}\n",
		     "enclave.yaml:4:7: mode: expected hardware or simulation, got \"sim\"");
	expect_error(NITRO_HEAD "mode: simulation\n",
		     "enclave.yaml:4:7: mode: only hardware is available with target nitro");
	expect_error(SGX_MIN "  threads: 0\n",
		     "enclave.yaml:6:12: sgx.threads: \"0\" is out of range (1..1024)");
	expect_error(SGX_MIN "  threads: 1025\n",
		     "enclave.yaml:6:12: sgx.threads: \"1025\" is out of range (1..1024)");
	expect_error(SGX_MIN "  ssa_frames: 17\n",
		     "enclave.yaml:6:15: sgx.ssa_frames: \"17\" is out of range (1..16)");
	expect_error(SGX_MIN "  ssa_frame_size: 0\n",
		     "enclave.yaml:6:19: sgx.ssa_frame_size: \"0\" is out of range (1..16)");
	expect_error(SGX_MIN "  product_id: 65536\n",
		     "enclave.yaml:6:15: sgx.product_id: \"65536\" is out of range (0..65535)");
	expect_error(SGX_MIN "  security_version: 0x10000\n",
		     "enclave.yaml:6:21: sgx.security_version: \"0x10000\" is out of range (0..65535)");
	expect_error(SGX_MIN "  misc_mask: 0x100000000\n",
		     "enclave.yaml:6:14: sgx.misc_mask: \"0x100000000\" is out of range (0..4294967295)");
	expect_error(SGX_MIN "  heap_size: 4097\n",
		     "enclave.yaml:6:14: sgx.heap_size: \"4097\" is not a multiple of 4K");
	expect_error(SGX_MIN "  heap_size: 0\n",
		     "enclave.yaml:6:14: sgx.heap_size: \"0\" is out of range (4K..32G)");
	expect_error(SGX_MIN "  heap_size: 33G\n",
		     "enclave.yaml:6:14: sgx.heap_size: \"33G\" is out of range (4K..32G)");
	expect_error(SGX_MIN "  stack_size: 2G\n",
		     "enclave.yaml:6:15: sgx.stack_size: \"2G\" is out of range (4K..1G)");
	expect_error(SGX_MIN "  xfrm: 0x4\n",
		     "enclave.yaml:6:9: sgx.xfrm: bits 0 and 1 (x87 and SSE) must be set, got \"0x4\"");
	expect_error(SGX_MIN "  isv_family_id: 000102030405060708090a0b0c0d0e0f\n",
		     "enclave.yaml:6:3: sgx.isv_family_id: only allowed with kss: true");
	expect_error(SGX_MIN "  kss: false\n  isv_ext_product_id: 000102030405060708090a0b0c0d0e0f\n",
		     "enclave.yaml:7:3: sgx.isv_ext_product_id: only allowed with kss: true");
	expect_error(SGX_MIN "  threads: 1024\n  stack_size: 1G\n",
		     "enclave.yaml:5:3: sgx: heap, stacks and thread pages need more than the 64 GiB limit");
	expect_error(NITRO_MIN "  memory: 63M\n",
		     "enclave.yaml:10:11: nitro.memory: \"63M\" is out of range (64M..4096G)");
	expect_error(NITRO_MIN "  memory: 100000K\n",
		     "enclave.yaml:10:11: nitro.memory: \"100000K\" is not a multiple of 1M");
	expect_error(NITRO_MIN "  memory: 5T\n",
		     "enclave.yaml:10:11: nitro.memory: \"5T\" is out of range (64M..4096G)");
	expect_error(NITRO_MIN "  cpus: 0\n",
		     "enclave.yaml:10:9: nitro.cpus: \"0\" is out of range (1..64)");
	expect_error(NITRO_MIN "  cpus: 65\n",
		     "enclave.yaml:10:9: nitro.cpus: \"65\" is out of range (1..64)");
	expect_error(NITRO_MIN "  ingress: [80, 0]\n",
		     "enclave.yaml:10:17: nitro.ingress[1]: \"0\" is out of range (1..65535)");
	expect_error(NITRO_MIN "  ingress: [65536]\n",
		     "enclave.yaml:10:13: nitro.ingress[0]: \"65536\" is out of range (1..65535)");
	expect_error(NITRO_MIN "  ingress: [80, 443, 80]\n",
		     "enclave.yaml:10:22: nitro.ingress[2]: duplicate port 80 (also nitro.ingress[0])");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: init, app: rootfs, entrypoint: []}\n",
		     "enclave.yaml:4:75: nitro.entrypoint: expected a non-empty sequence");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: init, app: rootfs, entrypoint: [\"\"]}\n",
		     "enclave.yaml:4:76: nitro.entrypoint[0]: expected a non-empty string");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: \"\", init: init, app: rootfs, entrypoint: [a]}\n",
		     "enclave.yaml:4:35: nitro.cmdline: expected a non-empty string");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: \"a\\tb\", init: init, app: rootfs, entrypoint: [a]}\n",
		     "enclave.yaml:4:35: nitro.cmdline: control characters are not allowed");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: init, app: rootfs, entrypoint: [\"a\\x85\"]}\n",
		     "enclave.yaml:4:76: nitro.entrypoint[0]: control characters are not allowed");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: \"a\\u2028\", init: init, app: rootfs, entrypoint: [a]}\n",
		     "enclave.yaml:4:35: nitro.cmdline: line or paragraph separators are not allowed");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: \"\\uFEFF\", init: init, app: rootfs, entrypoint: [a]}\n",
		     "enclave.yaml:4:35: nitro.cmdline: byte order marks are not allowed");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: \"a\\uFFFF\", init: init, app: rootfs, entrypoint: [a]}\n",
		     "enclave.yaml:4:35: nitro.cmdline: the noncharacters U+FFFE and U+FFFF are not allowed");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: init, app: rootfs, entrypoint: [a, \"\\uFFFE\"]}\n",
		     "enclave.yaml:4:79: nitro.entrypoint[1]: the noncharacters U+FFFE and U+FFFF are not allowed");
}

static void test_errors_entries(void **state)
{
	(void)state;
	expect_error(SGX_MIN "files:\n  - path: data/greeting.txt\n  - path: data/other.txt\n  - path: data/other.txt\n",
		     "enclave.yaml:9:11: files[2].name: duplicate name \"other.txt\" (also files[1])");
	expect_error(SGX_MIN "files:\n  - path: data/greeting.txt\n    name: x\n  - path: data/other.txt\n    name: x\n",
		     "enclave.yaml:10:11: files[1].name: duplicate name \"x\" (also files[0])");
	expect_error(SGX_MIN "user_keys:\n  - {path: keys/alice.pub.pem, name: k}\n  - {path: keys/bob.pub.pem, name: k}\n",
		     "enclave.yaml:8:36: user_keys[1].name: duplicate name \"k\" (also user_keys[0])");
	/* Files and keys are separate name spaces. */
	eimg_manifest *m = parse_ok(SGX_MIN "files: [{path: data/greeting.txt, name: same}]\n"
				    "user_keys: [{path: keys/bob.pub.pem, name: same}]\n");
	eimg_manifest_free(m);
	expect_error(SGX_MIN "files:\n  - path: data/greeting.txt\n    name: ..\n",
		     "enclave.yaml:8:11: files[0].name: expected 1 to 255 characters of A-Z a-z 0-9 . _ - "
		     "(not \".\" or \"..\"), got \"..\"");
	expect_error(SGX_MIN "files:\n  - path: data/greeting.txt\n    name: a/b\n",
		     "enclave.yaml:8:11: files[0].name: expected 1 to 255 characters of A-Z a-z 0-9 . _ - "
		     "(not \".\" or \"..\"), got \"a/b\"");
	expect_error(SGX_MIN "files:\n  - path: \"data/bad name.txt\"\n",
		     "enclave.yaml:7:11: files[0].path: the file name \"bad name.txt\" is not a valid name; set files[0].name");
	expect_error(SGX_MIN "files:\n  - name: x\n",
		     "enclave.yaml:7:5: files[0].path: required key is missing");
	expect_error(SGX_MIN "files:\n  - path: data/greeting.txt\n    mode: 0644\n",
		     "enclave.yaml:8:5: files[0].mode: unknown key");
	expect_error(SGX_MIN "files:\n  - path: data/greeting.txt\n    path: data/other.txt\n",
		     "enclave.yaml:8:5: files[0].path: duplicate key");
	expect_error_code(SGX_MIN "files:\n  - path: data/missing.txt\n", 2,
		     "enclave.yaml:7:11: files[0].path: cannot open 'data/missing.txt': No such file or directory");
	expect_error(SGX_MIN "files:\n  - path: data\n",
		     "enclave.yaml:7:11: files[0].path: \"data\" is not a regular file");
	expect_error(SGX_MIN "user_keys:\n  - path: \"\"\n",
		     "enclave.yaml:7:11: user_keys[0].path: expected a non-empty path");
}

static void test_errors_files_exist(void **state)
{
	(void)state;
	expect_error_code(SGX_HEAD "sgx:\n  enclave: nope.elf\n", 2,
			  "enclave.yaml:5:12: sgx.enclave: cannot open 'nope.elf': No such file or directory");
	expect_error(SGX_HEAD "sgx:\n  enclave: adir\n",
		     "enclave.yaml:5:12: sgx.enclave: \"adir\" is not a regular file");
	expect_error_code(NITRO_HEAD "nitro: {kernel: nokernel, cmdline: x, init: init, app: rootfs, entrypoint: [a]}\n", 2,
			  "enclave.yaml:4:17: nitro.kernel: cannot open 'nokernel': No such file or directory");
	expect_error_code(NITRO_HEAD "nitro: {kernel: bzImage, kernel_config: none, cmdline: x, init: init, app: rootfs, entrypoint: [a]}\n", 2,
			  "enclave.yaml:4:41: nitro.kernel_config: cannot open 'none': No such file or directory");
	expect_error_code(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: noinit, app: rootfs, entrypoint: [a]}\n", 2,
			  "enclave.yaml:4:44: nitro.init: cannot open 'noinit': No such file or directory");
	expect_error_code(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: init, app: noapp, entrypoint: [a]}\n", 2,
			  "enclave.yaml:4:55: nitro.app: cannot open 'noapp': No such file or directory");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: init, app: notes.txt, entrypoint: [a]}\n",
		     "enclave.yaml:4:55: nitro.app: \"notes.txt\" is neither a folder nor a .tar file");
	expect_error(NITRO_HEAD "nitro: {kernel: rootfs, cmdline: x, init: init, app: rootfs, entrypoint: [a]}\n",
		     "enclave.yaml:4:17: nitro.kernel: \"rootfs\" is not a regular file");
	/* Untrusted text is escaped in messages. */
	expect_error_code(SGX_HEAD "sgx:\n  enclave: \"no\\x01pe\\u00e9\"\n", 2,
			  "enclave.yaml:5:12: sgx.enclave: cannot open 'no\\x01pe\\xc3\\xa9': No such file or directory");
}

static void test_errors_keys(void **state)
{
	(void)state;
	/* Unknown keys, at the key, named, no suggestion. */
	expect_error(SGX_MIN "  heapsize: 1M\n", "enclave.yaml:6:3: sgx.heapsize: unknown key");
	expect_error("version: 1\nname: hello\ntarget: sgx\nSGX: {}\n", "enclave.yaml:4:1: SGX: unknown key");
	expect_error(NITRO_MIN "  memory_mib: 512\n", "enclave.yaml:10:3: nitro.memory_mib: unknown key");
	expect_error(NITRO_MIN "  egress: {allow: [], block: []}\n",
		     "enclave.yaml:10:23: nitro.egress.block: unknown key");
	expect_error("version: 1\n\"we\\x07ird\": 1\n", "enclave.yaml:2:1: we\\x07ird: unknown key");
	/* Duplicate keys anywhere. */
	expect_error("version: 1\nname: a\nversion: 1\n", "enclave.yaml:3:1: version: duplicate key");
	expect_error("version: 1\nname: a\n\"version\": 1\n", "enclave.yaml:3:1: version: duplicate key");
	expect_error(SGX_MIN "  threads: 1\n  threads: 2\n", "enclave.yaml:7:3: sgx.threads: duplicate key");
	expect_error(SGX_MIN "runtime:\n  a: 1\n  b:\n    - {x: 1, y: 2, x: 3}\n",
		     "enclave.yaml:9:20: runtime.b[0].x: duplicate key");
	/* Missing required keys: position of the parent mapping. */
	expect_error("name: hello\ntarget: sgx\n", "enclave.yaml:1:1: version: required key is missing");
	expect_error("version: 1\ntarget: sgx\n", "enclave.yaml:1:1: name: required key is missing");
	expect_error("version: 1\nname: x\n", "enclave.yaml:1:1: target: required key is missing");
	expect_error(SGX_HEAD, "enclave.yaml:1:1: sgx: required key is missing");
	expect_error(SGX_HEAD "sgx:\n  threads: 2\n", "enclave.yaml:5:3: sgx.enclave: required key is missing");
	expect_error(SGX_HEAD "sgx: {}\n", "enclave.yaml:4:6: sgx.enclave: required key is missing");
	expect_error(NITRO_HEAD, "enclave.yaml:1:1: nitro: required key is missing");
	expect_error(NITRO_HEAD "nitro:\n  kernel: bzImage\n  init: init\n",
		     "enclave.yaml:5:3: nitro.cmdline: required key is missing");
	expect_error(NITRO_HEAD "nitro: {kernel: bzImage, cmdline: x, init: init, app: rootfs}\n",
		     "enclave.yaml:4:8: nitro.entrypoint: required key is missing");
	/* Sections of the other target. */
	expect_error(SGX_MIN "nitro: {}\n", "enclave.yaml:6:1: nitro: not allowed with target sgx");
	expect_error(NITRO_MIN "sgx: {enclave: app.elf}\n", "enclave.yaml:10:1: sgx: not allowed with target nitro");
	expect_error(NITRO_MIN "files: []\n", "enclave.yaml:10:1: files: not allowed with target nitro");
	expect_error(NITRO_MIN "user_keys: []\n", "enclave.yaml:10:1: user_keys: not allowed with target nitro");
	/* A long unknown key is named, truncated. */
	{
		char text[600], want[600], key[301];
		memset(key, 'k', 300);
		key[300] = '\0';
		snprintf(text, sizeof(text), SGX_MIN "runtime: 1\n%s: 1\n", key);
		snprintf(want, sizeof(want), "enclave.yaml:7:1: %.91s...: unknown key", key);
		expect_error(text, want);
	}
	/* err may be NULL. */
	{
		eimg_manifest *m = NULL;
		const char *text = "version: 2\n";
		assert_int_equal(eimg_manifest_parse_buffer("x", text, strlen(text), NULL, &m, NULL), 1);
		assert_null(m);
	}
	/* Mapping keys must be scalars. */
	expect_error("? [a]\n: 1\n", "enclave.yaml:1:3: mapping keys must be scalars, got a sequence");
	expect_error(SGX_MIN "runtime: {? {a: 1} : 2}\n",
		     "enclave.yaml:6:13: runtime: mapping keys must be scalars, got a mapping");
}

static void test_errors_yaml_features(void **state)
{
	(void)state;
	expect_error("a: &x 1\nb: 2\n", "enclave.yaml:1:4: anchors and aliases are not allowed");
	expect_error("a: &x [1]\nb: *x\n", "enclave.yaml:1:4: anchors and aliases are not allowed");
	expect_error("version: 1\nb: *x\n", "enclave.yaml:2:4: anchors and aliases are not allowed");
	expect_error("version: !!int 1\n", "enclave.yaml:1:10: tags are not allowed");
	expect_error("version: !custom 1\n", "enclave.yaml:1:10: tags are not allowed");
	expect_error("--- !!map\nversion: 1\n", "enclave.yaml:1:5: tags are not allowed");
	expect_error("%YAML 1.1\n---\nversion: 1\n", "enclave.yaml:1:1: directives are not allowed");
	expect_error("%TAG !e! tag:example.com,2000:\n---\nversion: 1\n",
		     "enclave.yaml:1:1: directives are not allowed");
	expect_error("version: 1\n---\nversion: 1\n", "enclave.yaml:2:1: multiple documents are not allowed");
	expect_error("version: 1\n...\n---\nversion: 1\n", "enclave.yaml:3:1: multiple documents are not allowed");
	expect_error("", "'enclave.yaml': empty document");
	expect_error("# only a comment\n\n", "'enclave.yaml': empty document");
	expect_error("---\n", "'enclave.yaml': empty document");
	expect_error("---\n...\n", "'enclave.yaml': empty document");
	expect_error("- version\n", "enclave.yaml:1:1: expected a mapping at the top level, got a sequence");
	expect_error("hello\n", "enclave.yaml:1:1: expected a mapping at the top level, got \"hello\"");
	expect_error("version: 1\nname: \"a\\0b\"\n", "enclave.yaml:2:7: name: NUL characters are not allowed");
	expect_error("\"a\\0\": 1\n", "enclave.yaml:1:1: NUL characters are not allowed in keys");
	expect_error(SGX_HEAD "sgx: {enclave: app.elf\n",
		     "enclave.yaml:5:1: YAML syntax error: did not find expected ',' or '}' while parsing a flow mapping (from 4:6)");
	expect_error("version: 1\n  name: x\n",
		     "enclave.yaml:2:7: YAML syntax error: mapping values are not allowed in this context");
	expect_error("version: 1\nname: \"x\xff\"\n",
		     "'enclave.yaml': invalid text: invalid leading UTF-8 octet (#FF at byte 19)");
	/* A control character in the raw text. */
	expect_error("version: 1\x01\n",
		     "'enclave.yaml': invalid text: control characters are not allowed (#1 at byte 10)");
}

/* ------------------------------------------------------ hostile / limits */

static void test_billion_laughs(void **state)
{
	(void)state;
	static const char bomb[] =
		"a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
		"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
		"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
		"d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
		"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
		"f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
		"g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
		"h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
		"i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
	expect_error(bomb, "enclave.yaml:1:4: anchors and aliases are not allowed");
	/* Also inside runtime, after valid content. */
	char buf[2048];
	snprintf(buf, sizeof(buf), SGX_MIN "runtime:\n  x: 1\n%s", "  y: &a [1, 2]\n  z: [*a, *a]\n");
	expect_error(buf, "enclave.yaml:8:6: anchors and aliases are not allowed");
}

static void test_nesting_limit(void **state)
{
	(void)state;
	char buf[4096];
	/* The top-level mapping is level 1, runtime's mapping level 2: 14 more
	 * levels fit, 15 do not. */
	for (int extra = 14; extra <= 15; extra++) {
		size_t o = (size_t)snprintf(buf, sizeof(buf), SGX_MIN "runtime: {x: ");
		for (int i = 0; i < extra; i++)
			buf[o++] = '[';
		buf[o++] = '1';
		for (int i = 0; i < extra; i++)
			buf[o++] = ']';
		strcpy(buf + o, "}\n");
		eimg_manifest *m = NULL;
		eimg_error err;
		int rc = parse(buf, &m, &err);
		if (extra == 14) {
			assert_int_equal(rc, 0);
			assert_non_null(strstr(m->runtime_json, "[[[[[[[[[[[[[[1]]]]]]]]]]]]]]"));
			eimg_manifest_free(m);
		} else {
			char msg[512];
			assert_int_equal(rc, 1);
			assert_string_equal(eimg_error_format(&err, msg, sizeof(msg)),
					    "enclave.yaml:6:28: nesting deeper than 16 levels (limit)");
		}
	}
	/* Very deep input stops at the limit, without recursion in the parser. */
	size_t n = 200000;
	char *deep = malloc(2 * n + 1);
	assert_non_null(deep);
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	expect_error(deep, "enclave.yaml:1:17: nesting deeper than 16 levels (limit)");
	free(deep);
}

static void test_size_and_event_limits(void **state)
{
	(void)state;
	eimg_manifest *m = (eimg_manifest *)0x1;
	eimg_error err;
	char msg[512];
	/* Above the byte limit: refused before parsing. */
	size_t big = EIMG_MANIFEST_MAX_BYTES + 1;
	char *buf = malloc(big + 1);
	assert_non_null(buf);
	memset(buf, '#', big);
	buf[big] = '\0';
	assert_int_equal(eimg_manifest_parse_buffer("enclave.yaml", buf, big, tmpdir, &m, &err), 1);
	assert_string_equal(eimg_error_format(&err, msg, sizeof(msg)),
			    "'enclave.yaml': manifest is 1048577 bytes, above the limit of 1048576");
	assert_ptr_equal(m, (eimg_manifest *)0x1);
	/* And as a file. */
	FILE *f = fopen(join("huge.yaml"), "w");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, big, f), big);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(eimg_manifest_parse_file(join("huge.yaml"), &m, &err), 1);
	assert_non_null(strstr(err.msg, "above the limit"));
	assert_ptr_equal(m, (eimg_manifest *)0x1);
	free(buf);

	/* Too many events in a small file. */
	size_t items = EIMG_MANIFEST_MAX_NODES + 10;
	buf = malloc(64 + 2 * items);
	assert_non_null(buf);
	size_t o = (size_t)sprintf(buf, "runtime: [");
	for (size_t i = 0; i < items; i++) {
		buf[o++] = '0';
		buf[o++] = ',';
	}
	strcpy(buf + o - 1, "]\n");
	assert_true(strlen(buf) < EIMG_MANIFEST_MAX_BYTES);
	assert_int_equal(parse(buf, &m, &err), 1);
	assert_string_equal(eimg_error_format(&err, msg, sizeof(msg)),
			    "enclave.yaml:1:200001: more than 100000 YAML events (limit)");
	free(buf);

	/* Too many files entries (checked before touching the files). */
	size_t nf = EIMG_MANIFEST_MAX_FILES + 1;
	buf = malloc(256 + 12 * nf);
	assert_non_null(buf);
	o = (size_t)sprintf(buf, SGX_MIN "files: [");
	for (size_t i = 0; i < nf; i++)
		o += (size_t)sprintf(buf + o, "{name: x},");
	strcpy(buf + o - 1, "]\n");
	assert_int_equal(parse(buf, &m, &err), 1);
	assert_string_equal(eimg_error_format(&err, msg, sizeof(msg)),
			    "enclave.yaml:6:8: files: more than 1024 entries (limit)");
	free(buf);
}

static void test_many_files_sorted(void **state)
{
	(void)state;
	/* 200 entries, all the same host file, names in reverse order. */
	size_t nf = 200;
	char *buf = malloc(128 + 64 * nf);
	assert_non_null(buf);
	size_t o = (size_t)sprintf(buf, SGX_MIN "files:\n");
	for (size_t i = 0; i < nf; i++)
		o += (size_t)sprintf(buf + o, "  - {path: data/greeting.txt, name: f%03zu}\n", nf - 1 - i);
	eimg_manifest *m = parse_ok(buf);
	assert_int_equal(m->nfiles, nf);
	for (size_t i = 0; i < nf; i++) {
		char want[16];
		snprintf(want, sizeof(want), "f%03zu", i);
		assert_string_equal(m->files[i].name, want);
		assert_int_equal(m->files[i].pos.line, 7 + (nf - 1 - i));
	}
	eimg_manifest_free(m);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_sgx_minimal_defaults),
		cmocka_unit_test(test_sgx_full),
		cmocka_unit_test(test_nitro_minimal_defaults),
		cmocka_unit_test(test_nitro_full),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_hex_strings_and_flow_style),
		cmocka_unit_test(test_parse_file_resolves),
		cmocka_unit_test(test_image_mode),
		cmocka_unit_test(test_nitro_supervisor_keys),
		cmocka_unit_test(test_canonical_sgx_exact),
		cmocka_unit_test(test_canonical_nitro_exact),
		cmocka_unit_test(test_canonical_round_trip),
		cmocka_unit_test(test_canonical_independent_of_folder_and_order),
		cmocka_unit_test(test_canonical_bad_input),
		cmocka_unit_test(test_errors_types),
		cmocka_unit_test(test_errors_values),
		cmocka_unit_test(test_errors_entries),
		cmocka_unit_test(test_errors_files_exist),
		cmocka_unit_test(test_errors_keys),
		cmocka_unit_test(test_errors_yaml_features),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_nesting_limit),
		cmocka_unit_test(test_size_and_event_limits),
		cmocka_unit_test(test_many_files_sorted),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
