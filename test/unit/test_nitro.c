/* SPDX-License-Identifier: Apache-2.0 */
/* Nitro target: build, audit, sign, detached signing, checked against the
 * independent Python reference test/py/eif_ref.py (hashlib/zlib/cryptography)
 * and the published single-ramdisk PCR2. Keys are generated at test time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "eimg/eif.h"
#include "eimg/constraint.h"
#include "eimg/expect.h"
#include "eimg/hash.h"
#include "eimg/nitro.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "nitro/nitro_int.h"

static char tmp[256], top[512];
static char *entry[] = { "/bin/app", "--serve", NULL };
static const char canon[] = "{\n  \"name\": \"demo\"\n}\n";

static void wfile(const char *rel, const void *data, size_t len, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", tmp, rel);
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	chmod(p, mode);
}

static char *path(const char *rel)
{
	static char buf[8][512];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmp, rel);
	return buf[k];
}

static int run(const char *cmd)
{
	char full[2048];
	snprintf(full, sizeof(full), "cd '%s' && %s >/dev/null 2>&1", tmp, cmd);
	return system(full);
}

static const char *python(void)
{
	const char *p = getenv("PYTHON");
	return p && *p ? p : "/usr/bin/python3";
}

/* Runs eif_ref.py describe and parses its JSON; NULL (test skipped) without python. */
static json_t *py_describe(const char *eif)
{
	char cmd[1024];
	if (access(python(), X_OK) != 0)
		return NULL;
	snprintf(cmd, sizeof(cmd), "%s '%s/test/py/eif_ref.py' describe '%s'", python(), top, eif);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	json_error_t je;
	json_t *j = json_loadf(f, 0, &je);
	assert_int_equal(pclose(f), 0);
	assert_non_null(j);
	return j;
}

static int setup(void **state)
{
	(void)state;
	const char *t = getenv("EIMG_TOP");
	if (t)
		snprintf(top, sizeof(top), "%s", t);
	else
		assert_non_null(getcwd(top, sizeof(top)));
	snprintf(tmp, sizeof(tmp), "/tmp/eimg-nitro-XXXXXX");
	assert_non_null(mkdtemp(tmp));
	uint8_t kernel[5000];
	for (size_t i = 0; i < sizeof(kernel); i++)
		kernel[i] = (uint8_t)(i * 7 + 3);
	wfile("bzImage", kernel, sizeof(kernel), 0644);
	wfile("init", "\x7f" "ELF fake init", 14, 0755);
	wfile("kconfig", "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.1.77 Kernel Configuration\n#\n", 86, 0644);
	mkdir(path("app"), 0700);
	mkdir(path("app/bin"), 0700);
	mkdir(path("app/data"), 0700);
	wfile("app/bin/app", "#!/bin/sh\necho hi\n", 18, 0700);
	wfile("app/data/b.txt", "bbb", 3, 0600);
	wfile("app/data/a.txt", "", 0, 0666);
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
	memset(m, 0, sizeof(*m));
	m->version = 1;
	m->name = "demo";
	m->target = EIMG_TARGET_NITRO;
	m->mode = EIMG_MODE_HARDWARE;
	m->source = "enclave.yaml";
	static char k[512], kc[512], in[512], app[512];
	snprintf(k, sizeof(k), "%s/bzImage", tmp);
	snprintf(kc, sizeof(kc), "%s/kconfig", tmp);
	snprintf(in, sizeof(in), "%s/init", tmp);
	snprintf(app, sizeof(app), "%s/app", tmp);
	m->nitro.kernel = k;
	m->nitro.kernel_config = kc;
	m->nitro.cmdline = "reboot=k panic=30 pci=off nomodules console=ttyS0";
	m->nitro.init = in;
	m->nitro.app = app;
	m->nitro.entrypoint = entry;
	m->nitro.entrypoint_len = 2;
	m->nitro.memory_mib = 512;
	m->nitro.cpus = 2;
}

static void build(const eimg_manifest *m, uint64_t epoch, uint8_t **eif, size_t *len, eimg_nitro_report **rep)
{
	struct eimg_nitro_build_opts bo = { .epoch = epoch };
	eimg_error err;
	eimg_error_clear(&err);
	int rc = eimg_nitro_build(m, canon, strlen(canon), &bo, eif, len, rep, &err);
	if (rc)
		fail_msg("build: %s", err.msg);
}

static void test_build_deterministic(void **state)
{
	(void)state;
	eimg_manifest m;
	uint8_t *a, *b, *c;
	size_t al, bl, cl;
	eimg_nitro_report *ra, *rb, *rc;
	manifest(&m);
	build(&m, 1700000000, &a, &al, &ra);
	build(&m, 1700000000, &b, &bl, &rb);
	assert_int_equal(al, bl);
	assert_memory_equal(a, b, al);
	assert_true(ra->crc_ok);
	assert_int_equal(ra->layout.version, 4);
	assert_int_equal(ra->layout.nsections, 5);
	assert_int_equal(ra->layout.sections[2].type, EIMG_EIF_METADATA);
	assert_int_equal(ra->layout.default_mem, 512ull << 20);
	assert_int_equal(ra->layout.default_cpus, 2);
	assert_int_equal(ra->manifest_match, 1);
	/* The streamed audit of the file finds the embedded manifest too. */
	eimg_nitro_report *rf;
	char *txt, *js;
	assert_int_equal(eimg_write_file_atomic(path("det.eif"), a, al, NULL), 0);
	assert_int_equal(eimg_nitro_audit_file(path("det.eif"), NULL, &rf, NULL), 0);
	assert_non_null(rf->manifest);
	assert_string_equal(rf->manifest, canon);
	assert_int_equal(eimg_nitro_report_json(rf, &js, NULL), 0);
	assert_non_null(strstr(js, "\"manifest\": {"));
	assert_int_equal(eimg_nitro_report_text(rf, &txt, NULL), 0);
	assert_non_null(strstr(txt, "\nmanifest:               rootfs/etc/enclave/manifest.json"));
	free(txt);
	free(js);
	eimg_nitro_report_free(rf);
	assert_string_equal(ra->image_name, "demo");
	const char *kv = json_string_value(json_object_get(json_object_get(ra->json->metadata, "BuildMetadata"), "KernelVersion"));
	assert_string_equal(kv, "6.1.77");
	const char *bt = json_string_value(json_object_get(json_object_get(ra->json->metadata, "BuildMetadata"), "BuildTime"));
	assert_string_equal(bt, "2023-11-14T22:13:20Z");
	/* Another epoch: other bytes (ramdisk mtimes, BuildTime), same kernel+cmdline. */
	build(&m, 1700000001, &c, &cl, &rc);
	assert_true(al != cl || memcmp(a, c, al) != 0);
	assert_memory_not_equal(ra->pcr2, rc->pcr2, 48);
	/* A changed application file changes PCR2 and PCR0, never PCR1. */
	wfile("app/data/b.txt", "bbc", 3, 0600);
	eimg_nitro_report_free(rc);
	free(c);
	build(&m, 1700000000, &c, &cl, &rc);
	assert_memory_equal(ra->pcr1, rc->pcr1, 48);
	assert_memory_not_equal(ra->pcr2, rc->pcr2, 48);
	assert_memory_not_equal(ra->pcr0, rc->pcr0, 48);
	wfile("app/data/b.txt", "bbb", 3, 0600);
	/* The manifest is inside the ramdisk: another canonical manifest, another PCR2. */
	struct eimg_nitro_build_opts bo = { .epoch = 1700000000 };
	eimg_nitro_report *rd;
	uint8_t *d;
	size_t dl;
	assert_int_equal(eimg_nitro_build(&m, "{}\n", 3, &bo, &d, &dl, &rd, NULL), 0);
	assert_memory_not_equal(ra->pcr2, rd->pcr2, 48);
	assert_memory_equal(ra->pcr1, rd->pcr1, 48);
	eimg_nitro_report_free(rd);
	free(d);
	eimg_nitro_report_free(ra);
	eimg_nitro_report_free(rb);
	eimg_nitro_report_free(rc);
	free(a);
	free(b);
	free(c);
}

/* The Python reference builds the same ramdisks and EIF from the spec and
 * must produce the same bytes; it recomputes the same PCRs. */
static void test_python_agrees(void **state)
{
	(void)state;
	eimg_manifest m;
	uint8_t *a;
	size_t al;
	eimg_nitro_report *ra;
	if (access(python(), X_OK) != 0)
		skip();
	manifest(&m);
	build(&m, 1700000000, &a, &al, &ra);
	assert_int_equal(eimg_write_file_atomic(path("c.eif"), a, al, NULL), 0);
	const struct eimg_eif_section *ms = &ra->layout.sections[2];
	wfile("meta.json", a + ms->offset + 12, (size_t)ms->size, 0644);
	wfile("cmdline", m.nitro.cmdline, strlen(m.nitro.cmdline), 0644);
	wfile("canon.json", canon, strlen(canon), 0644);
	wfile("cmd", "/bin/app\n--serve\n", 17, 0644);
	char spec0[1024], spec1[2048];
	snprintf(spec0, sizeof(spec0),
		 "[[\"dev\",\"dir\",493,null],[\"proc\",\"dir\",493,null],[\"run\",\"dir\",493,null],"
		 "[\"sys\",\"dir\",493,null],[\"tmp\",\"dir\",493,null],[\"var\",\"dir\",493,null],"
		 "[\"init\",\"file\",493,\"%s\"]]", path("init"));
	snprintf(spec1, sizeof(spec1),
		 "[[\"cmd\",\"file\",420,\"%s\"],[\"env\",\"file\",420,null],[\"rootfs\",\"dir\",493,null],"
		 "[\"rootfs/bin/app\",\"file\",493,\"%s\"],[\"rootfs/data/a.txt\",\"file\",420,\"%s\"],"
		 "[\"rootfs/data/b.txt\",\"file\",420,\"%s\"],[\"rootfs/run\",\"link\",511,\"bin/app\"],"
		 "[\"rootfs/etc/enclave/manifest.json\",\"file\",420,\"%s\"],[\"rootfs/dev\",\"dir\",493,null],"
		 "[\"rootfs/proc\",\"dir\",493,null],[\"rootfs/sys\",\"dir\",493,null],"
		 "[\"rootfs/tmp\",\"dir\",493,null]]",
		 path("cmd"), path("app/bin/app"), path("app/data/a.txt"), path("app/data/b.txt"), path("canon.json"));
	wfile("spec0.json", spec0, strlen(spec0), 0644);
	wfile("spec1.json", spec1, strlen(spec1), 0644);
	char cmd[2048];
	snprintf(cmd, sizeof(cmd),
		 "%s '%s/test/py/eif_ref.py' cpio rd0 --mtime 1700000000 spec0.json && "
		 "%s '%s/test/py/eif_ref.py' cpio rd1 --mtime 1700000000 spec1.json && "
		 "%s '%s/test/py/eif_ref.py' build p.eif --kernel bzImage --cmdline cmdline --metadata meta.json "
		 "--ramdisk rd0 --ramdisk rd1 --mem %llu --cpus 2",
		 python(), top, python(), top, python(), top, 512ull << 20);
	assert_int_equal(run(cmd), 0);
	uint8_t *p;
	size_t pl;
	assert_int_equal(eimg_read_file(path("p.eif"), 1 << 26, &p, &pl, NULL), 0);
	assert_int_equal(pl, al);
	assert_memory_equal(p, a, al);

	json_t *j = py_describe(path("c.eif"));
	char h[97];
	assert_true(json_is_true(json_object_get(j, "crc_ok")));
	assert_string_equal(json_string_value(json_object_get(j, "PCR0")), eimg_hex(ra->pcr0, 48, h));
	assert_string_equal(json_string_value(json_object_get(j, "PCR1")), eimg_hex(ra->pcr1, 48, h));
	assert_string_equal(json_string_value(json_object_get(j, "PCR2")), eimg_hex(ra->pcr2, 48, h));
	json_decref(j);
	free(p);
	free(a);
	eimg_nitro_report_free(ra);
}

/* Published: with a single ramdisk, PCR2 is the extend of SHA-384 of nothing and PCR0 == PCR1. */
static void test_single_ramdisk_kat(void **state)
{
	(void)state;
	static const uint8_t k[] = "kernel", c[] = "console=ttyS0", r[] = "070701ramdisk";
	struct eimg_eif_part parts[] = { { EIMG_EIF_KERNEL, k, 6 }, { EIMG_EIF_CMDLINE, c, 13 }, { EIMG_EIF_RAMDISK, r, 13 } };
	struct eimg_eif_write_opts wo = { 0, 1ull << 30, 2 };
	uint8_t *eif;
	size_t len;
	eimg_nitro_report *rep;
	char h[97];
	assert_int_equal(eimg_eif_write_buffer(&wo, parts, 3, &eif, &len, NULL), 0);
	assert_int_equal(eimg_nitro_audit_buffer("kat", eif, len, NULL, &rep, NULL), 0);
	assert_string_equal(eimg_hex(rep->pcr2, 48, h),
			    "21b9efbc184807662e966d34f390821309eeac6802309798826296bf3e8bec7c10edb30948c90ba67310f7b964fc500a");
	assert_memory_equal(rep->pcr0, rep->pcr1, 48);
	/* PCR0 from the definition, by hand. */
	uint8_t d[48], p0[48];
	uint8_t all[32];
	memcpy(all, k, 6);
	memcpy(all + 6, c, 13);
	memcpy(all + 19, r, 13);
	eimg_sha384(all, 32, d);
	eimg_nitro_extend(d, p0);
	assert_memory_equal(rep->pcr0, p0, 48);
	eimg_nitro_report_free(rep);
	free(eif);
}

/* File (streamed, two threads) and memory (one thread) give the same report. */
static void test_file_vs_buffer_threads(void **state)
{
	(void)state;
	size_t big = 9u << 20;
	uint8_t *k = malloc(big), *r1 = malloc(big / 2), *eif;
	size_t len;
	for (size_t i = 0; i < big; i++)
		k[i] = (uint8_t)(i ^ (i >> 9));
	for (size_t i = 0; i < big / 2; i++)
		r1[i] = (uint8_t)(i * 31);
	struct eimg_eif_part parts[] = { { EIMG_EIF_KERNEL, k, big }, { EIMG_EIF_CMDLINE, (const uint8_t *)"x", 1 },
					 { EIMG_EIF_METADATA, (const uint8_t *)"{}", 2 }, { EIMG_EIF_RAMDISK, r1, 1000 },
					 { EIMG_EIF_RAMDISK, r1 + 1000, big / 2 - 1000 } };
	struct eimg_eif_write_opts wo = { 0, 1ull << 30, 2 };
	assert_int_equal(eimg_eif_write_buffer(&wo, parts, 5, &eif, &len, NULL), 0);
	assert_int_equal(eimg_write_file_atomic(path("big.eif"), eif, len, NULL), 0);
	struct eimg_nitro_audit_opts o1 = { .threads = 1 }, o2 = { .threads = 2 };
	eimg_nitro_report *a, *b, *c;
	assert_int_equal(eimg_nitro_audit_buffer("big", eif, len, &o1, &a, NULL), 0);
	assert_int_equal(eimg_nitro_audit_file(path("big.eif"), &o2, &b, NULL), 0);
	assert_int_equal(eimg_nitro_audit_file(path("big.eif"), &o1, &c, NULL), 0);
	assert_true(a->crc_ok && b->crc_ok && c->crc_ok);
	assert_int_equal(a->crc_computed, eimg_eif_crc(eif, len));
	assert_memory_equal(a->pcr0, b->pcr0, 48);
	assert_memory_equal(a->pcr1, b->pcr1, 48);
	assert_memory_equal(a->pcr2, b->pcr2, 48);
	assert_memory_equal(c->pcr2, b->pcr2, 48);
	json_t *j = py_describe(path("big.eif"));
	if (j) {
		char h[97];
		assert_string_equal(json_string_value(json_object_get(j, "PCR0")), eimg_hex(b->pcr0, 48, h));
		assert_string_equal(json_string_value(json_object_get(j, "PCR2")), eimg_hex(b->pcr2, 48, h));
		json_decref(j);
	}
	/* A flipped data byte: the CRC check fails, the verdict says so. */
	eif[len - 5] ^= 1;
	eimg_nitro_report *d;
	eimg_error err;
	assert_int_equal(eimg_nitro_audit_buffer("big", eif, len, &o2, &d, NULL), 0);
	assert_false(d->crc_ok);
	assert_int_equal(eimg_nitro_report_verdict(d, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "CRC mismatch"));
	eimg_nitro_report_free(a);
	eimg_nitro_report_free(b);
	eimg_nitro_report_free(c);
	eimg_nitro_report_free(d);
	free(eif);
	free(k);
	free(r1);
}

static void make_key(const char *curve, const char *name, int days)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:%s -nodes -keyout %s.key -out %s.crt "
		 "-days %d -subj '/C=US/O=Test Org/CN=eimg test %s'", curve, name, name, days, name);
	assert_int_equal(run(cmd), 0);
}

static void sign_one(const char *curve, const char *name, int alg)
{
	eimg_manifest m;
	uint8_t *a, *s;
	size_t al, sl;
	eimg_nitro_report *ra, *rs;
	eimg_error err;
	char keyp[600], crtp[600];
	manifest(&m);
	build(&m, 1700000000, &a, &al, &ra);
	make_key(curve, name, 30);
	snprintf(keyp, sizeof(keyp), "%s/%s.key", tmp, name);
	snprintf(crtp, sizeof(crtp), "%s/%s.crt", tmp, name);
	struct eimg_nitro_sign_opts so = { keyp, crtp, NULL, 0 };
	if (eimg_nitro_sign("a.eif", a, al, &so, &s, &sl, &err))
		fail_msg("sign: %s", err.msg);
	assert_int_equal(eimg_nitro_audit_buffer("s.eif", s, sl, NULL, &rs, &err), 0);
	assert_true(rs->is_signed);
	if (!rs->signature_ok)
		fail_msg("signature: %s", rs->signature_problem);
	assert_int_equal(rs->cose_alg, alg);
	assert_int_equal(eimg_nitro_report_verdict(rs, NULL), 0);
	assert_memory_equal(rs->pcr0, ra->pcr0, 48);
	assert_memory_equal(rs->pcr1, ra->pcr1, 48);
	assert_memory_equal(rs->pcr2, ra->pcr2, 48);
	/* Byte-identical apart from the header (count, table, CRC) and the new section. */
	assert_true(sl > al);
	assert_memory_equal(s + 548, a + 548, al - 548);
	assert_memory_equal(s, a, 26);
	/* Independent check with Python's cryptography package. */
	assert_int_equal(eimg_write_file_atomic(path("s.eif"), s, sl, NULL), 0);
	json_t *j = py_describe(path("s.eif"));
	if (j) {
		char h[97];
		assert_true(json_is_true(json_object_get(j, "crc_ok")));
		assert_true(json_is_true(json_object_get(j, "signature_valid")));
		assert_true(json_is_true(json_object_get(j, "payload_matches_pcr0")));
		assert_int_equal(json_integer_value(json_object_get(j, "alg")), alg);
		assert_string_equal(json_string_value(json_object_get(j, "PCR8")), eimg_hex(rs->pcr8, 48, h));
		json_decref(j);
	}
	uint8_t p8[48];
	assert_int_equal(eimg_nitro_pcr8_of_cert(crtp, p8, NULL), 0);
	assert_memory_equal(p8, rs->pcr8, 48);
	/* Re-signing replaces the section: the same size, the same layout. */
	uint8_t *s2;
	size_t s2l;
	assert_int_equal(eimg_nitro_sign("s.eif", s, sl, &so, &s2, &s2l, NULL), 0);
	eimg_nitro_report *r2;
	assert_int_equal(eimg_nitro_audit_buffer("s2.eif", s2, s2l, NULL, &r2, NULL), 0);
	assert_int_equal(r2->layout.nsections, 6);
	assert_true(r2->signature_ok);
	assert_memory_equal(r2->pcr8, rs->pcr8, 48);
	eimg_nitro_report_free(r2);
	free(s2);
	/* PCR expectations: all good, then one wrong value named with both values. */
	char spec[512], h0[97], h8[97];
	snprintf(spec, sizeof(spec), "PCR0:%s PCR8:%s", eimg_hex(rs->pcr0, 48, h0), eimg_hex(rs->pcr8, 48, h8));
	struct eimg_expect ex;
	struct eimg_identity got;
	eimg_nitro_report_identity(rs, &got);
	memset(&ex, 0, sizeof(ex));
	assert_int_equal(eimg_expect_parse(&ex, spec, "test", &err), 0);
	assert_int_equal(eimg_expect_check(&ex, &got, &err), 0);
	spec[5] = spec[5] == '0' ? '1' : '0';
	memset(&ex, 0, sizeof(ex));
	assert_int_equal(eimg_expect_parse(&ex, spec, "test", &err), 0);
	assert_int_equal(eimg_expect_check(&ex, &got, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "PCR0 differs: expected "));
	assert_null(strstr(err.msg, "PCR8"));
	struct eimg_identity v;
	eimg_nitro_report_identity(rs, &v);
	assert_int_equal(v.pcr_mask, 0x107);
	/* The certificate's validity is checked at the given time. */
	struct eimg_nitro_audit_opts late = { .now = rs->cert_not_after + 1 };
	eimg_nitro_report *rl;
	assert_int_equal(eimg_nitro_audit_buffer("s.eif", s, sl, &late, &rl, NULL), 0);
	assert_false(rl->signature_ok);
	assert_int_equal(eimg_nitro_report_verdict(rl, &err), EIMG_EVERIFY);
	assert_non_null(strstr(err.msg, "not valid at"));
	eimg_nitro_report_free(rl);
	/* Text and JSON reports carry the same snake_case names, JSON also
	 * nitro-cli's in "nitro_cli". */
	char *txt, *js;
	assert_int_equal(eimg_nitro_report_text(rs, &txt, NULL), 0);
	char line[160];
	snprintf(line, sizeof line, "\n  pcr8:                 %s\n", h8);
	assert_non_null(strstr(txt, line));
	assert_non_null(strstr(txt, "\nsignature_check:        ok\n"));
	assert_int_equal(eimg_nitro_report_json(rs, &js, NULL), 0);
	json_t *jj = json_loads(js, 0, NULL);
	assert_non_null(jj);
	/* The same facts under each naming: ours, then nitro-cli's alias. */
	static const char *const names[2][7] = {
		{ "measurements", "pcr8", "hash_algorithm", "sha384", "signature_check", "check_crc", "signing_certificate" },
		{ "Measurements", "PCR8", "HashAlgorithm", "Sha384 { ... }", "SignatureCheck", "CheckCRC", "SigningCertificate" },
	};
	for (int k = 0; k < 2; k++) {
		const char *const *n = names[k];
		json_t *o = k ? json_object_get(jj, "nitro_cli") : jj, *ms = json_object_get(o, n[0]);
		assert_string_equal(json_string_value(json_object_get(ms, n[1])), h8);
		assert_string_equal(json_string_value(json_object_get(ms, n[2])), n[3]);
		assert_true(json_is_true(json_object_get(o, n[4])));
		assert_true(json_is_true(json_object_get(o, n[5])));
		assert_non_null(json_object_get(json_object_get(o, n[6]), k ? "IssuerName" : "issuer_name"));
		assert_null(json_object_get(o, names[!k][4]));
	}
	json_decref(jj);
	free(txt);
	free(js);
	eimg_nitro_report_free(ra);
	eimg_nitro_report_free(rs);
	free(a);
	free(s);
}

static void test_sign_p384(void **state) { (void)state; sign_one("P-384", "p384", EIMG_COSE_ES384); }
static void test_sign_p256(void **state) { (void)state; sign_one("P-256", "p256", EIMG_COSE_ES256); }
static void test_sign_p521(void **state) { (void)state; sign_one("P-521", "p521", EIMG_COSE_ES512); }

/* Detached: export the Sig_structure, sign with openssl dgst, attach. */
static void test_detached(void **state)
{
	(void)state;
	eimg_manifest m;
	uint8_t *a, *tbs, *sig, *s;
	size_t al, tl, sigl, sl;
	eimg_nitro_report *ra, *rs;
	eimg_error err;
	manifest(&m);
	build(&m, 1700000000, &a, &al, &ra);
	make_key("P-384", "det", 30);
	make_key("P-384", "other", 30);
	assert_int_equal(eimg_nitro_export_tbs("a.eif", a, al, path("det.crt"), &tbs, &tl, &err), 0);
	/* The Sig_structure: ["Signature1", h'a1013822', h'', payload]. */
	static const uint8_t head[] = { 0x84, 0x6a, 'S', 'i', 'g', 'n', 'a', 't', 'u', 'r', 'e', '1', 0x44, 0xa1, 0x01, 0x38, 0x22, 0x40 };
	assert_memory_equal(tbs, head, sizeof(head));
	wfile("tbs.bin", tbs, tl, 0644);
	assert_int_equal(run("openssl dgst -sha384 -sign det.key -out sig.der tbs.bin"), 0);
	assert_int_equal(eimg_read_file(path("sig.der"), 4096, &sig, &sigl, NULL), 0);
	if (eimg_nitro_attach("a.eif", a, al, path("det.crt"), sig, sigl, &s, &sl, &err))
		fail_msg("attach: %s", err.msg);
	assert_int_equal(eimg_nitro_audit_buffer("s.eif", s, sl, NULL, &rs, NULL), 0);
	assert_true(rs->signature_ok);
	/* The file forms stream the EIF and give the same bytes. */
	assert_int_equal(eimg_write_file_atomic(path("a.eif"), a, al, NULL), 0);
	assert_int_equal(eimg_nitro_export_tbs_file(path("a.eif"), path("det.crt"), path("tbs2.bin"), &err), 0);
	uint8_t *f;
	size_t fl;
	assert_int_equal(eimg_read_file(path("tbs2.bin"), 1 << 20, &f, &fl, NULL), 0);
	assert_int_equal(fl, tl);
	assert_memory_equal(f, tbs, tl);
	free(f);
	if (eimg_nitro_attach_file(path("a.eif"), path("det.crt"), path("sig.der"), path("f.eif"), &err))
		fail_msg("attach_file: %s", err.msg);
	assert_int_equal(eimg_read_file(path("f.eif"), 1 << 26, &f, &fl, NULL), 0);
	assert_int_equal(fl, sl);
	assert_memory_equal(f, s, sl);
	free(f);
	/* In place, over a signed file: the section is replaced, same bytes again. */
	assert_int_equal(eimg_nitro_attach_file(path("f.eif"), path("det.crt"), path("sig.der"), path("f.eif"), &err), 0);
	assert_int_equal(eimg_read_file(path("f.eif"), 1 << 26, &f, &fl, NULL), 0);
	assert_int_equal(fl, sl);
	assert_memory_equal(f, s, sl);
	free(f);
	struct eimg_nitro_sign_opts so = { path("det.key"), path("det.crt"), NULL, 0 };
	char keyp[600], crtp[600];
	snprintf(keyp, sizeof(keyp), "%s", path("det.key"));
	snprintf(crtp, sizeof(crtp), "%s", path("det.crt"));
	so.key_path = keyp;
	so.cert_path = crtp;
	assert_int_equal(eimg_nitro_sign_file(path("a.eif"), path("g.eif"), &so, &err), 0);
	eimg_nitro_report *rg;
	assert_int_equal(eimg_nitro_audit_file(path("g.eif"), NULL, &rg, &err), 0);
	assert_true(rg->crc_ok && rg->signature_ok);
	assert_memory_equal(rg->pcr0, rs->pcr0, 48);
	assert_memory_equal(rg->pcr8, rs->pcr8, 48);
	eimg_nitro_report_free(rg);
	/* A damaged input is refused before anything is written. */
	uint8_t *dmg = malloc(al);
	memcpy(dmg, a, al);
	dmg[al - 1] ^= 1;
	assert_int_equal(eimg_write_file_atomic(path("d.eif"), dmg, al, NULL), 0);
	free(dmg);
	assert_int_equal(eimg_nitro_sign_file(path("d.eif"), path("h.eif"), &so, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "CRC mismatch"));
	assert_int_equal(access(path("h.eif"), F_OK), -1);
	/* The same signature with another certificate: refused, exit code 3. */
	uint8_t *bad;
	size_t badl;
	assert_int_equal(eimg_nitro_attach("a.eif", a, al, path("other.crt"), sig, sigl, &bad, &badl, &err), EIMG_EVERIFY);
	/* A signature over something else: refused. */
	assert_int_equal(run("openssl dgst -sha384 -sign det.key -out sig2.der det.crt"), 0);
	uint8_t *sig2;
	size_t sig2l;
	assert_int_equal(eimg_read_file(path("sig2.der"), 4096, &sig2, &sig2l, NULL), 0);
	assert_int_equal(eimg_nitro_attach("a.eif", a, al, path("det.crt"), sig2, sig2l, &bad, &badl, &err), EIMG_EVERIFY);
	/* Garbage instead of a signature: a clear error. */
	assert_int_equal(eimg_nitro_attach("a.eif", a, al, path("det.crt"), (const uint8_t *)"nonsense", 8, &bad, &badl, &err),
			 EIMG_EINVAL);
	/* Tampering after signing: flip a ramdisk byte and fix the CRC: PCR0 no longer matches the signed one. */
	uint8_t *t = malloc(sl);
	memcpy(t, s, sl);
	const struct eimg_eif_section *rd = &rs->layout.sections[4];
	t[rd->offset + 12 + 20] ^= 0x40;
	eimg_be32(t + 544, eimg_eif_crc(t, sl));
	eimg_nitro_report *rt;
	assert_int_equal(eimg_nitro_audit_buffer("t.eif", t, sl, NULL, &rt, NULL), 0);
	assert_true(rt->crc_ok);
	assert_false(rt->signature_ok);
	assert_non_null(strstr(rt->signature_problem, "differs from the computed PCR0"));
	assert_int_equal(eimg_nitro_report_verdict(rt, &err), EIMG_EVERIFY);
	eimg_nitro_report_free(rt);
	/* Flip a byte of the COSE signature value (last bytes of the section): does not verify. */
	memcpy(t, s, sl);
	t[sl - 1] ^= 1; /* the last byte of s: its uint encoding stays valid */
	eimg_be32(t + 544, eimg_eif_crc(t, sl));
	assert_int_equal(eimg_nitro_audit_buffer("t.eif", t, sl, NULL, &rt, NULL), 0);
	assert_false(rt->signature_ok);
	eimg_nitro_report_free(rt);
	free(t);
	free(sig2);
	eimg_nitro_report_free(ra);
	eimg_nitro_report_free(rs);
	free(a);
	free(tbs);
	free(sig);
	free(s);
}

static void test_bad_inputs(void **state)
{
	(void)state;
	eimg_manifest m;
	uint8_t *a;
	size_t al;
	eimg_error err;
	struct eimg_nitro_build_opts bo = { .epoch = 0 };
	manifest(&m);
	/* A symbolic link out of the tree. */
	assert_int_equal(symlink("../../etc/passwd", path("app/data/evil")), 0);
	assert_int_equal(eimg_nitro_build(&m, canon, strlen(canon), &bo, &a, &al, NULL, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "leaves the application tree"));
	unlink(path("app/data/evil"));
	/* A FIFO. */
	assert_int_equal(mkfifo(path("app/data/fifo"), 0600), 0);
	assert_int_equal(eimg_nitro_build(&m, canon, strlen(canon), &bo, &a, &al, NULL, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "FIFO"));
	unlink(path("app/data/fifo"));
	/* The reserved manifest path. */
	mkdir(path("app/etc"), 0755);
	mkdir(path("app/etc/enclave"), 0755);
	wfile("app/etc/enclave/manifest.json", "{}", 2, 0644);
	assert_int_equal(eimg_nitro_build(&m, canon, strlen(canon), &bo, &a, &al, NULL, &err), EIMG_EINVAL);
	if (!strstr(err.msg, "reserved"))
		fail_msg("%s", err.msg);
	unlink(path("app/etc/enclave/manifest.json"));
	rmdir(path("app/etc/enclave"));
	rmdir(path("app/etc"));
	/* Missing kernel. */
	m.nitro.kernel = path("nope");
	assert_int_equal(eimg_nitro_build(&m, canon, strlen(canon), &bo, &a, &al, NULL, &err), EIMG_EIO);
	/* A tar application gives the same ramdisk as the folder. */
	manifest(&m);
	eimg_nitro_report *r1, *r2;
	uint8_t *b;
	size_t bl;
	assert_int_equal(eimg_nitro_build(&m, canon, strlen(canon), &bo, &a, &al, &r1, &err), 0);
	assert_int_equal(run("tar -C app -cf app.tar ./bin/app data run"), 0);
	m.nitro.app = path("app.tar");
	if (eimg_nitro_build(&m, canon, strlen(canon), &bo, &b, &bl, &r2, &err))
		fail_msg("tar build: %s", err.msg);
	assert_memory_equal(r1->pcr2, r2->pcr2, 48);
	assert_int_equal(al, bl);
	assert_memory_equal(a, b, al);
	eimg_nitro_report_free(r1);
	eimg_nitro_report_free(r2);
	free(a);
	free(b);
	/* A tar with an absolute member. */
	assert_int_equal(run("tar -cPf abs.tar /dev/null 2>/dev/null || true"), 0);
	m.nitro.app = path("abs.tar");
	assert_int_not_equal(eimg_nitro_build(&m, canon, strlen(canon), &bo, &a, &al, NULL, &err), 0);
}

/* A signer callback standing in for an HSM: openssl dgst signs the bytes. */
static int hsm_sign(void *ctx, int hash, const uint8_t *msg, size_t len, uint8_t *sig, size_t *sig_len, eimg_error *err)
{
	const char *mode = ctx;
	char cmd[256];
	uint8_t *b;
	size_t bl;
	if (strcmp(mode, "fail") == 0)
		return eimg_err(err, EIMG_EIO, "hsm", "token not present");
	wfile("hsm.in", msg, len, 0644);
	snprintf(cmd, sizeof(cmd), "openssl dgst -sha%d -sign %s -out hsm.out hsm.in", hash, mode);
	if (run(cmd) != 0)
		return eimg_err(err, EIMG_EIO, "hsm", "openssl failed");
	if (eimg_read_file(path("hsm.out"), 4096, &b, &bl, err))
		return EIMG_EIO;
	if (bl > *sig_len) {
		free(b);
		return eimg_err(err, EIMG_EINVAL, "hsm", "too long");
	}
	memcpy(sig, b, bl);
	*sig_len = bl;
	free(b);
	return EIMG_OK;
}

static void test_sign_with_signer(void **state)
{
	(void)state;
	eimg_manifest m;
	uint8_t *a, *s;
	size_t al, sl;
	eimg_nitro_report *ra, *rs;
	eimg_error err;
	char crt[600];
	manifest(&m);
	build(&m, 1700000000, &a, &al, &ra);
	make_key("P-521", "hsm", 30);
	make_key("P-521", "stranger", 30);
	snprintf(crt, sizeof(crt), "%s", path("hsm.crt"));
	if (eimg_nitro_sign_with("a", a, al, crt, hsm_sign, "hsm.key", &s, &sl, &err))
		fail_msg("sign_with: %s", err.msg);
	assert_int_equal(eimg_nitro_audit_buffer("s", s, sl, NULL, &rs, NULL), 0);
	assert_true(rs->signature_ok);
	assert_int_equal(rs->cose_alg, EIMG_COSE_ES512);
	eimg_nitro_report_free(rs);
	free(s);
	/* The signer used the wrong key: caught before anything is attached. */
	assert_int_equal(eimg_nitro_sign_with("a", a, al, crt, hsm_sign, "stranger.key", &s, &sl, &err), EIMG_EVERIFY);
	assert_int_equal(eimg_nitro_sign_with("a", a, al, crt, hsm_sign, "fail", &s, &sl, &err), EIMG_EIO);
	assert_non_null(strstr(err.msg, "token not present"));
	/* File form. */
	assert_int_equal(eimg_write_file_atomic(path("w.eif"), a, al, NULL), 0);
	assert_int_equal(eimg_nitro_sign_with_file(path("w.eif"), path("w2.eif"), crt, hsm_sign, "hsm.key", &err), 0);
	assert_int_equal(eimg_nitro_audit_file(path("w2.eif"), NULL, &rs, NULL), 0);
	assert_true(rs->signature_ok);
	eimg_nitro_report_free(rs);
	eimg_nitro_report_free(ra);
	free(a);
}

/* Replaces the certificate inside a signed EIF's signature section. */
static void swap_cert(const uint8_t *s, size_t sl, const char *crt, uint8_t **out, size_t *outl)
{
	eimg_eif_layout l;
	uint8_t *pem, *cose, *newpem, *sec;
	size_t pl, cl, npl, secl;
	assert_int_equal(eimg_eif_read_layout_buffer("s", s, sl, &l, NULL), 0);
	const struct eimg_eif_section *sg = &l.sections[l.signature];
	assert_int_equal(eimg_nitro_sigsec_decode("s", s + sg->offset + 12, (size_t)sg->size, &pem, &pl, &cose, &cl, NULL), 0);
	assert_int_equal(eimg_read_file(path(crt), 1 << 16, &newpem, &npl, NULL), 0);
	assert_int_equal(eimg_nitro_sigsec_encode(newpem, npl, cose, cl, &sec, &secl, NULL), 0);
	assert_int_equal(eimg_eif_set_signature("s", s, sl, sec, secl, out, outl, NULL), 0);
	free(pem);
	free(cose);
	free(newpem);
	free(sec);
}

/* Signing refuses what it must; a signature section with a wrong
 * certificate, an unfit key type or broken CBOR is caught by the audit. */
static void test_sign_refusals(void **state)
{
	(void)state;
	eimg_manifest m;
	uint8_t *a, *s, *t;
	size_t al, sl, tl;
	eimg_nitro_report *ra, *rt;
	eimg_error err;
	char k1[600], c1[600], k2[600], c2[600];
	manifest(&m);
	build(&m, 1700000000, &a, &al, &ra);
	make_key("P-384", "r1", 30);
	make_key("P-256", "r2", 30);
	assert_int_equal(run("openssl req -x509 -newkey rsa:2048 -nodes -keyout rsa.key -out rsa.crt -days 30 -subj /CN=rsa"), 0);
	assert_int_equal(run("openssl pkey -in r1.key -aes256 -passout pass:sesame -out r1enc.key"), 0);
	snprintf(k1, sizeof(k1), "%s", path("r1.key"));
	snprintf(c1, sizeof(c1), "%s", path("r1.crt"));
	snprintf(k2, sizeof(k2), "%s", path("r2.key"));
	snprintf(c2, sizeof(c2), "%s", path("r2.crt"));
	struct eimg_nitro_sign_opts so = { k2, c1, NULL, 0 };
	assert_int_equal(eimg_nitro_sign("a", a, al, &so, &s, &sl, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "does not belong"));
	char rk[600], rc_[600], ek[600];
	snprintf(rk, sizeof(rk), "%s", path("rsa.key"));
	snprintf(rc_, sizeof(rc_), "%s", path("rsa.crt"));
	snprintf(ek, sizeof(ek), "%s", path("r1enc.key"));
	so = (struct eimg_nitro_sign_opts){ rk, rc_, NULL, 0 };
	assert_int_equal(eimg_nitro_sign("a", a, al, &so, &s, &sl, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "needs EC P-256, P-384 or P-521"));
	/* At a time after the certificate's end (40 days from now). */
	so = (struct eimg_nitro_sign_opts){ k1, c1, NULL, (int64_t)time(NULL) + 40 * 86400 };
	assert_int_equal(eimg_nitro_sign("a", a, al, &so, &s, &sl, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "not valid now"));
	so = (struct eimg_nitro_sign_opts){ ek, c1, NULL, 0 };
	assert_int_equal(eimg_nitro_sign("a", a, al, &so, &s, &sl, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "passphrase"));
	so = (struct eimg_nitro_sign_opts){ ek, c1, "wrong", 0 };
	assert_int_equal(eimg_nitro_sign("a", a, al, &so, &s, &sl, &err), EIMG_EINVAL);
	so = (struct eimg_nitro_sign_opts){ ek, c1, "sesame", 0 };
	if (eimg_nitro_sign("a", a, al, &so, &s, &sl, &err))
		fail_msg("sign with passphrase: %s", err.msg);

	/* Another EC certificate of the same curve in the section: the COSE signature fails. */
	make_key("P-384", "r3", 30);
	swap_cert(s, sl, "r3.crt", &t, &tl);
	assert_int_equal(eimg_nitro_audit_buffer("t", t, tl, NULL, &rt, NULL), 0);
	assert_false(rt->signature_ok);
	assert_non_null(strstr(rt->signature_problem, "does not verify"));
	assert_int_equal(eimg_nitro_report_verdict(rt, &err), EIMG_EVERIFY);
	eimg_nitro_report_free(rt);
	free(t);
	/* A P-256 or an RSA certificate for an ES384 signature: unfit key. */
	swap_cert(s, sl, "r2.crt", &t, &tl);
	assert_int_equal(eimg_nitro_audit_buffer("t", t, tl, NULL, &rt, NULL), 0);
	assert_non_null(strstr(rt->signature_problem, "does not fit"));
	eimg_nitro_report_free(rt);
	free(t);
	swap_cert(s, sl, "rsa.crt", &t, &tl);
	assert_int_equal(eimg_nitro_audit_buffer("t", t, tl, NULL, &rt, NULL), 0);
	assert_non_null(strstr(rt->signature_problem, "RSA"));
	assert_int_equal(eimg_nitro_report_verdict(rt, &err), EIMG_EVERIFY);
	eimg_nitro_report_free(rt);
	free(t);
	/* A certificate that is not one: an error naming the part. */
	static const char junk[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	wfile("junk.crt", junk, strlen(junk), 0644);
	swap_cert(s, sl, "junk.crt", &t, &tl);
	assert_int_equal(eimg_nitro_audit_buffer("t", t, tl, NULL, &rt, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "signing_certificate"));
	free(t);
	/* Broken CBOR in the signature section. */
	assert_int_equal(eimg_eif_set_signature("s", s, sl, (const uint8_t *)"\x81\xa2\x9f", 3, &t, &tl, NULL), 0);
	assert_int_equal(eimg_nitro_audit_buffer("t", t, tl, NULL, &rt, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "signature section"));
	free(t);
	eimg_nitro_report_free(ra);
	free(a);
	free(s);
}

/* The newc writer: order, inode numbers, parents, duplicates, link checks. */
static void test_cpio(void **state)
{
	(void)state;
	eimg_cpio *c = eimg_cpio_new();
	uint8_t *out;
	size_t len;
	const uint8_t *d;
	size_t dl;
	eimg_error err;
	assert_int_equal(eimg_cpio_add_file(c, "b/z", 0644, (const uint8_t *)"zz", 2, NULL), 0);
	assert_int_equal(eimg_cpio_add_file(c, "a", 0755, (const uint8_t *)"x", 1, NULL), 0);
	assert_int_equal(eimg_cpio_add_symlink(c, "b/l", "../a", 1, &err), EIMG_EINVAL);
	assert_int_equal(eimg_cpio_add_symlink(c, "b/l", "../a", 0, NULL), 0);
	assert_int_equal(eimg_cpio_add_symlink(c, "b/m", "/etc/passwd", 0, NULL), 0);
	assert_int_equal(eimg_cpio_add_symlink(c, "b/n", "./../../x", 0, &err), EIMG_EINVAL);
	assert_int_equal(eimg_cpio_add_dir(c, "b", NULL), 0);
	assert_int_equal(eimg_cpio_add_dir(c, "b/", &err), EIMG_EINVAL);
	assert_int_equal(eimg_cpio_add_dir(c, "b/../c", &err), EIMG_EINVAL);
	assert_int_equal(eimg_cpio_add_dir(c, "/abs", &err), EIMG_EINVAL);
	assert_int_equal(eimg_cpio_write(c, 5, &out, &len, NULL), 0);
	/* a (ino 1), b (2, added once), b/l, b/m, b/z, then the trailer. */
	assert_memory_equal(out, "070701" "00000001" "000081ed", 22);
	assert_int_equal(eimg_cpio_find("t", out, len, "b/z", &d, &dl, NULL), 0);
	assert_int_equal(dl, 2);
	assert_memory_equal(d, "zz", 2);
	assert_int_equal(eimg_cpio_find("t", out, len, "b/q", &d, &dl, &err), EIMG_EINVAL);
	assert_int_equal(eimg_cpio_find("t", out, len - 200, "b/z", &d, &dl, &err), EIMG_EINVAL);
	free(out);
	/* A file and a folder with one name: an error, no crash, no leak. */
	assert_int_equal(eimg_cpio_add_file(c, "b/z/deeper", 0644, (const uint8_t *)"", 0, NULL), 0);
	assert_int_equal(eimg_cpio_write(c, 5, &out, &len, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "given twice"));
	eimg_cpio_free(c);
}

/* eimg_cpio_find: only a path that no other entry can replace (as the
 * kernel's unpacker sees names) is found. */
static size_t newc_entry(uint8_t *o, const char *name, unsigned mode, const char *data, unsigned nlink)
{
	size_t nl = strlen(name) + 1, dl = strlen(data), n = 0;
	n += (size_t)sprintf((char *)o, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", 1u, mode, 0u, 0u,
			     nlink, 0u, (unsigned)dl, 0u, 0u, 0u, 0u, (unsigned)nl, 0u);
	memcpy(o + n, name, nl);
	n += nl;
	while (n % 4)
		o[n++] = 0;
	memcpy(o + n, data, dl);
	n += dl;
	while (n % 4)
		o[n++] = 0;
	return n;
}

static int find_with(const char *a, unsigned ma, const char *b, unsigned mb, unsigned nlink, const char *tail)
{
	uint8_t buf[4096];
	size_t n = 0, dl;
	const uint8_t *d;
	eimg_error err;
	n += newc_entry(buf + n, "r/etc/m.json", 0100644, "A", nlink);
	if (a)
		n += newc_entry(buf + n, a, ma, "B", 1);
	if (b)
		n += newc_entry(buf + n, b, mb, "C", 1);
	n += newc_entry(buf + n, "TRAILER!!!", 0, "", 1);
	memset(buf + n, 0, 64);
	n += 64;
	if (tail) {   /* another archive after the trailer: the kernel unpacks it too */
		n += newc_entry(buf + n, tail, 0100644, "D", 1);
		n += newc_entry(buf + n, "TRAILER!!!", 0, "", 1);
	}
	int rc = eimg_cpio_find("t", buf, n, "r/etc/m.json", &d, &dl, &err);
	if (rc == 0 && (dl != 1 || d[0] != 'A'))
		return -1;
	return rc;
}

static void test_cpio_shadowed(void **state)
{
	(void)state;
	assert_int_equal(find_with(NULL, 0, NULL, 0, 1, NULL), 0);
	assert_int_equal(find_with("r/etc/m.json.bak", 0100644, "r/etc/m.jso", 0100644, 1, NULL), 0);
	assert_int_equal(find_with("r/etc", 040755, "r", 040755, 1, NULL), 0);
	assert_int_equal(find_with(".", 040755, "..x", 0100644, 1, NULL), 0);
	assert_int_equal(find_with("r/etc/m.json", 0100644, NULL, 0, 1, NULL), EIMG_EINVAL);
	assert_int_equal(find_with("/r/etc/m.json", 0100644, NULL, 0, 1, NULL), EIMG_EINVAL);
	assert_int_equal(find_with("r//etc/./m.json/", 0100644, NULL, 0, 1, NULL), EIMG_EINVAL);
	assert_int_equal(find_with("./r/etc/m.json", 0120777, NULL, 0, 1, NULL), EIMG_EINVAL);
	assert_int_equal(find_with("r/etc", 0120777, NULL, 0, 1, NULL), EIMG_EINVAL);
	assert_int_equal(find_with("r", 0100644, NULL, 0, 1, NULL), EIMG_EINVAL);
	assert_int_equal(find_with("r/x/../y", 0100644, NULL, 0, 1, NULL), EIMG_EINVAL);
	assert_int_equal(find_with(NULL, 0, NULL, 0, 2, NULL), EIMG_EINVAL);   /* a hard link */
	assert_int_equal(find_with(NULL, 0, NULL, 0, 1, "r/etc/other"), 0);
	assert_int_equal(find_with(NULL, 0, NULL, 0, 1, "r/etc/m.json"), EIMG_EINVAL);
	assert_int_equal(find_with(NULL, 0, NULL, 0, 1, "./r//etc/m.json"), EIMG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_deterministic),
		cmocka_unit_test(test_python_agrees),
		cmocka_unit_test(test_single_ramdisk_kat),
		cmocka_unit_test(test_file_vs_buffer_threads),
		cmocka_unit_test(test_sign_p384),
		cmocka_unit_test(test_sign_p256),
		cmocka_unit_test(test_sign_p521),
		cmocka_unit_test(test_detached),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_cpio),
		cmocka_unit_test(test_cpio_shadowed),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_sign_with_signer),
	};
	return cmocka_run_group_tests_name("nitro", tests, setup, teardown);
}
