/* SPDX-License-Identifier: Apache-2.0 */
/* The streamed Nitro build: the EIF written as its ramdisk is produced, its
 * CRC and PCRs computed on the way (checked against a separate audit of the
 * written bytes), the ramdisk's size known before its first byte (checked
 * against the bytes written), host files changed between the walk and the
 * write refused, the image written around an EIF streamed into its own
 * temporary file (the same bytes as an image written by copying), the
 * EIF's copy written with it and put in place with it (both or neither), an EIF
 * whose header changes while it is signed in one pass refused, a .tar
 * application read back from the archive (or its spool) when written. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "eimg/eif.h"
#include "eimg/image.h"
#include "eimg/measure.h"
#include "eimg/nitro.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"
#include "nitro/oci_int.h"
#include "crypto/crypto.h"

static char tmp[256];
static char *entry[] = { "/bin/app", NULL };
static const char canon[] = "{\n  \"name\": \"demo\"\n}\n";

static char *path(const char *rel)
{
	static char buf[8][512];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmp, rel);
	return buf[k];
}

static void wfile(const char *rel, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path(rel), "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	chmod(path(rel), mode);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/eimg-nstream-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	uint8_t kernel[3000];
	for (size_t i = 0; i < sizeof(kernel); i++)
		kernel[i] = (uint8_t)(i * 5 + 1);
	wfile("bzImage", kernel, sizeof(kernel), 0644);
	wfile("init", "\x7f" "ELF init", 9, 0755);
	mkdir(path("app"), 0755);
	mkdir(path("app/bin"), 0755);
	mkdir(path("app/a/b/c"), 0755); /* parents added by the walk */
	mkdir(path("app/a"), 0755);
	mkdir(path("app/a/b"), 0755);
	mkdir(path("app/a/b/c"), 0755);
	wfile("app/bin/app", "#!/bin/sh\n", 10, 0755);
	wfile("app/a/b/c/odd", "12345", 5, 0644);
	/* more than one 1 MiB piece, not a multiple of 4 */
	size_t big = (3u << 20) + 7;
	uint8_t *b = malloc(big);
	assert_non_null(b);
	for (size_t i = 0; i < big; i++)
		b[i] = (uint8_t)(i * 2654435761u >> 13);
	wfile("app/bin/big", b, big, 0644);
	free(b);
	assert_int_equal(symlink("bin/app", path("app/run")), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

static void manifest(eimg_manifest *m)
{
	static char k[512], in[512], app[512];
	memset(m, 0, sizeof(*m));
	m->version = 1;
	m->name = "demo";
	m->target = EIMG_TARGET_NITRO;
	m->mode = EIMG_MODE_HARDWARE;
	m->source = "enclave.yaml";
	snprintf(k, sizeof(k), "%s/bzImage", tmp);
	snprintf(in, sizeof(in), "%s/init", tmp);
	snprintf(app, sizeof(app), "%s/app", tmp);
	m->nitro.kernel = k;
	m->nitro.cmdline = "console=ttyS0";
	m->nitro.init = in;
	m->nitro.app = app;
	m->nitro.entrypoint = entry;
	m->nitro.entrypoint_len = 1;
	m->nitro.memory_mib = 256;
	m->nitro.cpus = 2;
}

/* enclave.yaml of the demo application (the files setup made). */
static void demo_yaml(void)
{
	char yaml[1024];
	snprintf(yaml, sizeof(yaml),
		 "version: 1\nname: demo\ntarget: nitro\nnitro:\n  kernel: %s\n  init: %s\n  cmdline: \"console=ttyS0\"\n"
		 "  app: %s\n  entrypoint: [\"/bin/app\"]\n", path("bzImage"), path("init"), path("app"));
	wfile("enclave.yaml", yaml, strlen(yaml), 0644);
}

/* Two files hold the same bytes. */
static void same_bytes(const char *a, const char *b)
{
	eimg_error err;
	uint8_t *x = NULL, *y = NULL;
	size_t xl = 0, yl = 0;
	assert_int_equal(eimg_read_file(a, 64u << 20, &x, &xl, &err), 0);
	assert_int_equal(eimg_read_file(b, 64u << 20, &y, &yl, &err), 0);
	assert_int_equal(xl, yl);
	assert_memory_equal(x, y, xl);
	free(x);
	free(y);
}

/* The PCRs computed while writing equal an audit of the written file; the
 * EIF starts at the descriptor's offset. */
static void test_stream_pcrs(void **state)
{
	(void)state;
	eimg_manifest m;
	eimg_error err;
	uint8_t pcr[144];
	uint64_t len = 0;
	manifest(&m);
	int fd = open(path("out.bin"), O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "pad", 3), 3);
	struct eimg_nitro_build_opts bo = { .epoch = 7 };
	if (eimg_nitro_build_fd(&m, canon, strlen(canon), &bo, fd, &len, pcr, &err))
		fail_msg("build: %s", err.msg);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, len + 3);
	eimg_nitro_report *r = NULL;
	struct eimg_nitro_audit_opts ao = { .manifest_json = canon, .manifest_len = strlen(canon) };
	assert_int_equal(eimg_nitro_audit_range("EIF", fd, 3, len, &ao, &r, &err), 0);
	assert_true(r->crc_ok);
	assert_int_equal(r->manifest_match, 1);
	assert_memory_equal(pcr, r->pcr0, 48);
	assert_memory_equal(pcr + 48, r->pcr1, 48);
	assert_memory_equal(pcr + 96, r->pcr2, 48);
	eimg_nitro_report_free(r);
	/* The buffer form (written to a scratch file and read back) gives the same EIF. */
	uint8_t *eif = NULL, *disk = malloc(len);
	size_t elen = 0;
	assert_int_equal(eimg_nitro_build(&m, canon, strlen(canon), &bo, &eif, &elen, NULL, &err), 0);
	assert_int_equal(elen, len);
	assert_int_equal(pread(fd, disk, len, 3), (ssize_t)len);
	assert_memory_equal(eif, disk, len);
	free(eif);
	free(disk);
	close(fd);
}

static int count(void *ctx, const void *p, size_t n, eimg_error *err)
{
	(void)p;
	(void)err;
	*(uint64_t *)ctx += n;
	return EIMG_OK;
}

/* eimg_cpio_size is the size eimg_cpio_write_to writes: folders, files,
 * links, names of every length modulo 4, data of every length modulo 4. */
static void test_cpio_size(void **state)
{
	(void)state;
	eimg_error err;
	eimg_cpio *c = eimg_cpio_new();
	assert_non_null(c);
	assert_int_equal(eimg_cpio_add_tree(c, "rootfs", path("app"), &err), 0);
	for (unsigned i = 0; i < 9; i++) {
		char name[32], data[16];
		snprintf(name, sizeof(name), "x/%.*s", (int)(i + 1), "abcdefghij");
		memset(data, 'd', sizeof(data));
		assert_int_equal(eimg_cpio_add_file(c, name, 0644, (const uint8_t *)data, i, &err), 0);
	}
	assert_int_equal(eimg_cpio_add_symlink(c, "x/l", "abc", 1, &err), 0);
	uint64_t want = 0, got = 0;
	assert_int_equal(eimg_cpio_size(c, &want, &err), 0);
	assert_int_equal(eimg_cpio_write_to(c, 1, count, &got, &err), 0);
	assert_int_equal(got, want);
	eimg_cpio_free(c);
}

/* A host file that changes between the walk and the write is refused. */
static int grow_then_count(void *ctx, const void *p, size_t n, eimg_error *err)
{
	static bool grown;
	if (!grown) {
		grown = true;
		FILE *f = fopen(path("app/a/b/c/odd"), "ab");
		assert_non_null(f);
		fputs("more", f);
		fclose(f);
	}
	return count(ctx, p, n, err);
}

static void test_changed_file(void **state)
{
	(void)state;
	eimg_error err;
	eimg_cpio *c = eimg_cpio_new();
	uint64_t got = 0;
	assert_int_equal(eimg_cpio_add_tree(c, "rootfs", path("app"), &err), 0);
	assert_int_equal(eimg_cpio_write_to(c, 1, grow_then_count, &got, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "changed while the ramdisk was being written"));
	eimg_cpio_free(c);
	wfile("app/a/b/c/odd", "12345", 5, 0644);
}

/* enclave-build's path: the EIF streamed into the output's own temporary
 * file gives the image that writing by copying gives, and no temporary file
 * is left behind either way. */
static void test_image_in_place(void **state)
{
	(void)state;
	eimg_error err;
	demo_yaml();
	struct eimg_build_options o = { .manifest_path = path("enclave.yaml"), .mtime = 11, .output = path("a.eimg") };
	struct eimg_build_result ra, rb;
	eimg_image *a = NULL, *b = NULL;
	if (eimg_build(&o, &a, &ra, &err))
		fail_msg("build: %s", err.msg);
	assert_int_equal(eimg_image_write_file(a, 11, path("a.eimg"), &err), 0);
	/* In place: the EIF's file is the output itself, not a copy. */
	int fd;
	uint64_t at;
	struct stat s1, s2;
	assert_int_equal(eimg_blob_fd(eimg_image_eif(a), &fd, &at), 0);
	assert_int_equal(fstat(fd, &s1), 0);
	assert_int_equal(stat(path("a.eimg"), &s2), 0);
	assert_true(s1.st_ino == s2.st_ino && s1.st_dev == s2.st_dev);
	o.output = NULL;
	assert_int_equal(eimg_build(&o, &b, &rb, &err), 0);
	assert_int_equal(eimg_image_write_file(b, 11, path("b.eimg"), &err), 0);
	assert_memory_equal(ra.pcr, rb.pcr, sizeof(ra.pcr));
	same_bytes(path("a.eimg"), path("b.eimg"));
	eimg_image_free(a);
	eimg_image_free(b);
	/* Built for an output that is never written: its temporary file goes. */
	o.output = path("c.eimg");
	assert_int_equal(eimg_build(&o, &a, &ra, &err), 0);
	eimg_image_free(a);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q '^\\.eimg-'", tmp);
	assert_int_not_equal(system(cmd), 0);
	assert_int_equal(access(path("c.eimg"), F_OK), -1);
}

/* The EIF's copy (eimg_build_options.eif_output, enclave-build --eif):
 * written in the same pass, the same bytes as the image's member, put in
 * place only with the image; an image never written leaves neither, and a
 * copy that cannot be put in place takes the image away again. */
static void test_eif_copy(void **state)
{
	(void)state;
	eimg_error err;
	char cmd[700];
	demo_yaml();
	/* (path() reuses its buffers: the options keep copies) */
	char man[512], out[512], copy[512];
	snprintf(man, sizeof(man), "%s", path("enclave.yaml"));
	snprintf(out, sizeof(out), "%s", path("e.eimg"));
	snprintf(copy, sizeof(copy), "%s", path("e.eif"));
	struct eimg_build_options o = { .manifest_path = man, .mtime = 11, .output = out, .eif_output = copy };
	struct eimg_build_result r;
	eimg_image *a = NULL;
	if (eimg_build(&o, &a, &r, &err))
		fail_msg("build: %s", err.msg);
	assert_int_equal(access(path("e.eif"), F_OK), -1); /* not before the image */
	assert_int_equal(eimg_image_write_file(a, 11, path("e.eimg"), &err), 0);
	eimg_image_free(a);
	assert_int_equal(eimg_nitro_eif_out(path("e.eimg"), path("x.eif"), &err), 0);
	same_bytes(path("x.eif"), path("e.eif"));
	struct stat st;
	assert_int_equal(stat(path("e.eif"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* Never written: neither output, no temporary file. */
	snprintf(out, sizeof(out), "%s", path("f.eimg"));
	snprintf(copy, sizeof(copy), "%s", path("f.eif"));
	if (eimg_build(&o, &a, &r, &err))
		fail_msg("build: %s", err.msg);
	eimg_image_free(a);
	assert_int_equal(access(path("f.eimg"), F_OK), -1);
	assert_int_equal(access(path("f.eif"), F_OK), -1);
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q '^\\.eimg-'", tmp);
	assert_int_not_equal(system(cmd), 0);
	/* The copy cannot be put in place (its temporary file is gone): the
	 * image written just before goes again. */
	mkdir(path("d"), 0755);
	snprintf(out, sizeof(out), "%s", path("g.eimg"));
	snprintf(copy, sizeof(copy), "%s", path("d/g.eif"));
	assert_int_equal(eimg_build(&o, &a, &r, &err), 0);
	snprintf(cmd, sizeof(cmd), "rm -f '%s'/.eimg-*", path("d"));
	assert_int_equal(system(cmd), 0);
	assert_int_not_equal(eimg_image_write_file(a, 11, path("g.eimg"), &err), 0);
	if (!strstr(err.file, "g.eif"))
		fail_msg("the error is about \"%s\", not the copy", err.file);
	eimg_image_free(a);
	assert_int_equal(access(path("g.eimg"), F_OK), -1);
	assert_int_equal(access(path("d/g.eif"), F_OK), -1);
	/* "-" is no file name for it. */
	o.eif_output = "-";
	assert_int_equal(eimg_build(&o, &a, &r, &err), EIMG_EUSAGE);
}

/* Signing a file in one pass: a header changed between the audit and the
 * writing of the new header (here by the signer, called in between) is
 * refused, and nothing is left behind; unchanged, the same input signs. */
struct touch_signer {
	eimg_key *key;
	bool touch;
};

static int touching_signer(void *ctx, int hash, const uint8_t *msg, size_t len, uint8_t *sig, size_t *sig_len,
			   eimg_error *err)
{
	struct touch_signer *t = ctx;
	if (t->touch) {
		int fd = open(path("t.eif"), O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "\x01", 1, 30), 1); /* a section offset's high byte */
		close(fd);
	}
	return eimg_key_sign(t->key, hash, msg, len, sig, sig_len, err);
}

static void test_sign_changed_header(void **state)
{
	(void)state;
	eimg_manifest m;
	eimg_error err;
	uint8_t *eif = NULL;
	size_t elen = 0;
	manifest(&m);
	struct eimg_nitro_build_opts bo = { .epoch = 7 };
	assert_int_equal(eimg_nitro_build(&m, canon, strlen(canon), &bo, &eif, &elen, NULL, &err), 0);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cd '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
		 "-keyout s.key -out s.crt -days 2 -subj /CN=s >/dev/null 2>&1", tmp);
	assert_int_equal(system(cmd), 0);
	struct eimg_key_source src = { .path = path("s.key") };
	struct touch_signer ts = { NULL, true };
	assert_int_equal(eimg_key_load_private(&src, &ts.key, &err), 0);
	wfile("t.eif", eif, elen, 0644);
	assert_int_equal(eimg_nitro_sign_with_file(path("t.eif"), path("t2.eif"), path("s.crt"), touching_signer, &ts, &err),
			 EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "changed while being signed"));
	assert_int_equal(access(path("t2.eif"), F_OK), -1);
	snprintf(cmd, sizeof(cmd), "ls -A '%s' | grep -q '^\\.eimg-'", tmp);
	assert_int_not_equal(system(cmd), 0);
	ts.touch = false;
	wfile("t.eif", eif, elen, 0644);
	assert_int_equal(eimg_nitro_sign_with_file(path("t.eif"), path("t2.eif"), path("s.crt"), touching_signer, &ts, &err),
			 0);
	eimg_nitro_report *r = NULL;
	assert_int_equal(eimg_nitro_audit_file(path("t2.eif"), NULL, &r, &err), 0);
	assert_true(r->crc_ok && r->signature_ok);
	eimg_nitro_report_free(r);
	eimg_key_free(ts.key);
	free(eif);
}

/* A .tar application's data is read from the archive when the ramdisk is
 * written: the same bytes as the folder; an archive changed between the
 * scan and the write (in place: same inode) is refused; one cut short in a
 * member's data is refused at the scan. */
static void tar_of_app(const char *name, const char *flags)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cd '%s' && tar %s -C app -cf %s ./run ./bin ./a && touch -d @1000000000 %s", tmp,
		 flags, name, name);
	assert_int_equal(system(cmd), 0);
}

static void cpio_of(const char *what, bool tar, uint8_t **out, size_t *len, int want)
{
	eimg_error err;
	eimg_cpio *c = eimg_cpio_new();
	assert_non_null(c);
	int rc = tar ? eimg_cpio_add_tar(c, "rootfs", path(what), &err) : eimg_cpio_add_tree(c, "rootfs", path(what), &err);
	if (rc)
		fail_msg("%s: %s", what, err.msg);
	if (tar && want) { /* a byte of the archive rewritten in place, after the scan */
		int fd = open(path(what), O_WRONLY);
		assert_true(fd >= 0);
		assert_int_equal(pwrite(fd, "Z", 1, 1024 + 3), 1);
		close(fd);
	}
	assert_int_equal(eimg_cpio_write(c, 9, out, len, &err), want);
	if (want)
		assert_non_null(strstr(err.msg, "changed while the ramdisk was being written"));
	eimg_cpio_free(c);
}

static void test_tar_streamed(void **state)
{
	(void)state;
	uint8_t *a = NULL, *b = NULL, *z = NULL;
	size_t al = 0, bl = 0, zl = 0;
	cpio_of("app", false, &a, &al, 0);
	tar_of_app("app.tar", "--format=pax");
	cpio_of("app.tar", true, &b, &bl, 0);
	assert_int_equal(al, bl);
	assert_memory_equal(a, b, al);
	free(b);
	/* gzip-compressed (spooled), the same bytes */
	tar_of_app("gz.tar", "-z");
	cpio_of("gz.tar", true, &z, &zl, 0);
	assert_int_equal(al, zl);
	assert_memory_equal(a, z, al);
	free(z);
	free(a);
	/* changed between the scan and the write */
	cpio_of("app.tar", true, &b, &bl, EIMG_EINVAL);
	/* cut inside the big file's data */
	tar_of_app("cut.tar", "--format=ustar");
	struct stat st;
	assert_int_equal(stat(path("cut.tar"), &st), 0);
	assert_int_equal(truncate(path("cut.tar"), 1u << 20), 0);
	eimg_error err;
	eimg_cpio *c = eimg_cpio_new();
	assert_int_equal(eimg_cpio_add_tar(c, "rootfs", path("cut.tar"), &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "truncated") ? err.msg : strstr(err.msg, "bad tar archive"));
	eimg_cpio_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_pcrs),
		cmocka_unit_test(test_cpio_size),
		cmocka_unit_test(test_changed_file),
		cmocka_unit_test(test_image_in_place),
		cmocka_unit_test(test_eif_copy),
		cmocka_unit_test(test_sign_changed_header),
		cmocka_unit_test(test_tar_streamed),
	};
	return cmocka_run_group_tests_name("nitro_stream", tests, setup, teardown);
}
