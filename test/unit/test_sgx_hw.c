/* SPDX-License-Identifier: Apache-2.0 */
/* The SGX hardware loader (sgx_hw.c) against a fake /dev/sgx_enclave that
 * plays the driver and the CPU (fake_sgx_dev.c): the fake computes MRENCLAVE
 * from the pages it is given and refuses EINIT unless the SIGSTRUCT verifies
 * and matches, so a good image initialises and a tampered one does not.
 * Also: every preflight message, the vDSO symbol parser on the real vDSO,
 * and the runtime's hardware exit path (objdump finds ENCLU). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <elf.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "eimg/layout.h"
#include "eimg/sgx_hw.h"
#include "eimg/sgxs.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "run/sgx_hw_int.h"

#include "fake_sgx_dev.c"
#include "hw_fixture.c"

#if defined(__has_include)
#if __has_include(<asm/sgx.h>)
#include <asm/sgx.h>
#define HAVE_ASM_SGX 1
#endif
#endif

/* ---- the fake itself: known answer vector A (specs/sgx.md) ---- */
static void test_fake_vector_a(void **state)
{
	(void)state;
	static const char *want[2] = { "dfb678268c380f68c443631b70fbb8058eb372ddcc45b02dec934f4017935093",
				       "002750eb3d5f2b7692af3f4f183be94db4002a7c30c37cc5bedc59a9d2c8ec75" };
	for (int measure_tcs = 0; measure_tcs < 2; measure_tcs++) {
		fresh_fake(FAKE_ECHO);
		uint8_t *secs = aligned_alloc(4096, 4096), *page = aligned_alloc(4096, 4096);
		_Alignas(64) uint8_t si[64];
		assert_non_null(secs);
		assert_non_null(page);
		memset(secs, 0, 4096);
		eimg_le64(secs + EIMG_SECS_SIZE, 0x10000);
		eimg_le64(secs + EIMG_SECS_BASE, 0x7f0000000000);
		eimg_le32(secs + EIMG_SECS_SSAFRAME, 1);
		eimg_le64(secs + EIMG_SECS_ATTRIBUTES, 0x4);
		eimg_le64(secs + EIMG_SECS_XFRM, 0x3);
		int fd = fake_open(&fk, EIMG_SGX_DEVICE, 0);
		struct eimg_sgx_create c = { .src = (uintptr_t)secs };
		assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_CREATE, &c), 0);
		for (int i = 0; i < 4096; i++)
			page[i] = (uint8_t)(i % 256);
		memset(si, 0, sizeof(si));
		si[0] = 0x05;
		si[1] = 0x02;
		struct eimg_sgx_add_pages a = { .src = (uintptr_t)page, .offset = 0, .length = 4096,
						.secinfo = (uintptr_t)si, .flags = EIMG_SGX_PAGE_MEASURE };
		assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), 0);
		assert_int_equal(a.count, 4096);
		memset(page, 0, 4096);
		si[0] = 0;
		si[1] = 0x01;
		a = (struct eimg_sgx_add_pages){ .src = (uintptr_t)page, .offset = 0x1000, .length = 4096,
						 .secinfo = (uintptr_t)si, .flags = measure_tcs ? EIMG_SGX_PAGE_MEASURE : 0 };
		assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), 0);
		uint8_t md[32];
		char hex[65];
		eimg_hash_final(fk.h, md);
		assert_string_equal(eimg_hex(md, 32, hex), want[measure_tcs]);
		fake_close(&fk, fd);
		free(secs);
		free(page);
	}
	fake_release(&fk);
}

/* ---- the fake refuses what the driver refuses ---- */
static void test_fake_refusals(void **state)
{
	(void)state;
	fresh_fake(FAKE_ECHO);
	uint8_t *secs = aligned_alloc(4096, 4096), *page = aligned_alloc(4096, 8192);
	_Alignas(64) uint8_t si[64];
	assert_non_null(secs);
	assert_non_null(page);
	memset(secs, 0, 4096);
	memset(page, 0, 8192);
	eimg_le64(secs + EIMG_SECS_SIZE, 0x10000);
	eimg_le64(secs + EIMG_SECS_BASE, 0x7f0000000000);
	eimg_le32(secs + EIMG_SECS_SSAFRAME, 1);
	eimg_le64(secs + EIMG_SECS_ATTRIBUTES, 0x4);
	eimg_le64(secs + EIMG_SECS_XFRM, 0x3);
	int fd = fake_open(&fk, EIMG_SGX_DEVICE, 0);
	memset(si, 0, sizeof(si));
	eimg_le64(si, 0x203);
	struct eimg_sgx_add_pages a = { .src = (uintptr_t)page, .offset = 0, .length = 4096, .secinfo = (uintptr_t)si };
	errno = 0;
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), -1); /* before ECREATE */
	assert_int_equal(errno, EINVAL);
	eimg_le64(secs + EIMG_SECS_BASE, 0x7f0000001000); /* base not aligned to size */
	struct eimg_sgx_create c = { .src = (uintptr_t)secs };
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_CREATE, &c), -1);
	eimg_le64(secs + EIMG_SECS_BASE, 0x7f0000000000);
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_CREATE, &c), 0);
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_CREATE, &c), -1); /* twice */

	static const uint64_t bad_secinfo[] = { 0x107 /* TCS with RWX */, 0x101, 0x202 /* W without R */,
						0x300 /* unknown type */, 0x000 /* SECS type */, 0x10203 };
	for (size_t i = 0; i < sizeof(bad_secinfo) / sizeof(bad_secinfo[0]); i++) {
		eimg_le64(si, bad_secinfo[i]);
		errno = 0;
		assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), -1);
		assert_int_equal(errno, EINVAL);
	}
	eimg_le64(si, 0x203);
	si[40] = 1; /* reserved byte */
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), -1);
	si[40] = 0;
	a.src = (uintptr_t)page + 8; /* unaligned source */
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), -1);
	a.src = (uintptr_t)page;
	a.offset = 0x10000; /* beyond SIZE */
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), -1);
	a.offset = 0;
	a.flags = 2; /* unknown flag */
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), -1);
	a.flags = 0;
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), 0);
	errno = 0;
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_ADD_PAGES, &a), -1); /* same page again */
	assert_int_equal(errno, EBUSY);
	/* EINIT with garbage: EPERM; with a foreign vendor: EINVAL */
	uint8_t ss[EIMG_SIGSTRUCT_SIZE];
	memset(ss, 0, sizeof(ss));
	struct eimg_sgx_init in = { .sigstruct = (uintptr_t)ss };
	assert_int_equal(fake_ioctl(&fk, fd, EIMG_SGX_IOC_INIT, &in), -1);
	assert_int_equal(errno, EPERM);
	fake_close(&fk, fd);
	free(secs);
	free(page);
	fake_release(&fk);
}

static void check_pages_match_layout(const eimg_layout *l)
{
	uint64_t total = 0;
	for (size_t i = 0; i < l->nregions; i++) {
		const struct eimg_region *r = &l->regions[i];
		for (uint64_t p = 0; p < r->size / 4096; p++) {
			uint16_t pg = fk.pages[(r->offset / 4096) + p];
			if (pg != (0x8000 | r->secinfo))
				fail_msg("page 0x%llx: fake has 0x%x, layout 0x%llx", (unsigned long long)(r->offset + p * 4096),
					 pg, (unsigned long long)r->secinfo);
			total++;
		}
	}
	assert_int_equal(fk.npages_added, total);
	assert_int_equal(fk.npages_added, l->npages);
}

/* ---- a good image initialises, maps, enters ---- */
static void test_load_good(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	eimg_layout *l = signed_layout(0x40000, 2, mr, ss); /* 64 pages: more than one ADD_PAGES batch */

	fresh_fake(FAKE_ECHO);
	fk.eintr_calls = 2;      /* the first two ADD_PAGES calls are interrupted before any page */
	fk.partial_period = 5;   /* then every 5 pages a partial count */
	eimg_sgx_hw_enclave *e = NULL;
	int rc = eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err);
	if (rc)
		fail_msg("load: %s", err.msg);
	assert_non_null(e);
	assert_true(fk.initialized);
	/* the fake CPU's own MRENCLAVE equals the library's measurement */
	assert_memory_equal(fk.mrenclave, mr, 32);
	assert_int_equal(fk.eintr_returned, 2);
	assert_true(fk.partial_returned > 5);
	check_pages_match_layout(l);
	assert_int_equal(fk.nmeasured, l->npages);
	/* SECS as asked */
	assert_int_equal(fk.size, l->size);
	assert_int_equal(fk.base, eimg_sgx_hw_base(e));
	assert_int_equal(fk.base % l->size, 0);
	assert_int_equal(fk.attributes, 0x4); /* MODE64BIT, no DEBUG */
	assert_int_equal(fk.xfrm, 0x3);
	assert_int_equal(fk.ssa, 1);
	/* one mapping per region with its permissions (TCS read-write) */
	assert_int_equal(fk.nmaps, l->nregions);
	for (size_t i = 0; i < l->nregions; i++) {
		const struct eimg_region *r = &l->regions[i];
		int want = r->kind == EIMG_REGION_TCS ? (PROT_READ | PROT_WRITE)
			   : ((r->secinfo & 1) ? PROT_READ : 0) | ((r->secinfo & 2) ? PROT_WRITE : 0) |
			     ((r->secinfo & 4) ? PROT_EXEC : 0);
		assert_int_equal(fk.maps[i].addr, fk.base + r->offset);
		assert_int_equal(fk.maps[i].len, r->size);
		assert_int_equal(fk.maps[i].prot, want);
	}
	assert_int_equal(fk.maps[1].prot, PROT_READ | PROT_EXEC);

	/* entering thread 1: its TCS, the registers both ways */
	struct eimg_sgx_hw_call call = { .rdi = 1, .rsi = 100, .rdx = 10, .r8 = 1000, .r9 = 7 };
	struct eimg_sgx_hw_exit x;
	rc = eimg_sgx_hw_enter(e, 1, &call, &x, &err);
	if (rc)
		fail_msg("enter: %s", err.msg);
	assert_false(x.exception);
	assert_int_equal(fk.last_tcs, fk.base + l->tcs_offsets[1]);
	assert_int_equal(x.rdi, 1);
	assert_int_equal(x.rsi, 1);
	assert_int_equal(x.rdx, 100 + 2 * 10 + 3 * 1000 + 5 * 7);
	assert_int_equal(eimg_sgx_hw_enter(e, 2, &call, &x, &err), EIMG_EUSAGE); /* no thread 2 */

	eimg_sgx_hw_unload(e);
	assert_false(fk.fd_open);
	eimg_sgx_hw_unload(NULL);
	eimg_layout_free(l);
	fake_release(&fk);
}

static void test_enter_exception(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	eimg_layout *l = signed_layout(0x40000, 2, mr, ss); /* 64 pages: more than one ADD_PAGES batch */
	fresh_fake(FAKE_ECHO);
	eimg_sgx_hw_enclave *e = NULL;
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_OK);
	fk.enter_mode = FAKE_FAULT;
	struct eimg_sgx_hw_call call = { .rdi = 1 };
	struct eimg_sgx_hw_exit x;
	assert_int_equal(eimg_sgx_hw_enter(e, 0, &call, &x, &err), EIMG_EIO);
	assert_true(x.exception);
	assert_int_equal(x.vector, 14);
	assert_int_equal(x.leaf, EIMG_ENCLU_ERESUME);
	assert_int_equal(x.addr, fk.base + 0x1000);
	assert_non_null(strstr(err.msg, "#PF (page fault) inside the enclave"));
	assert_non_null(strstr(err.msg, "SGX access-control violation"));
	assert_non_null(strstr(err.msg, "enclave offset 0x1000"));
	/* EENTER on a non-TCS page faults on EENTER itself */
	fk.enter_mode = FAKE_ECHO;
	uint64_t saved = l->tcs_offsets[0];
	eimg_sgx_hw_unload(e);
	l->tcs_offsets[0] = 0x1000; /* a code page */
	fresh_fake(FAKE_ECHO);
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_OK);
	assert_int_equal(eimg_sgx_hw_enter(e, 0, &call, &x, &err), EIMG_EIO);
	assert_int_equal(x.vector, 13);
	assert_non_null(strstr(err.msg, "#GP (general protection) on EENTER"));
	l->tcs_offsets[0] = saved;
	eimg_sgx_hw_unload(e);
	eimg_layout_free(l);
	fake_release(&fk);
}

static void collect_log(void *ctx, const char *text, size_t len)
{
	snprintf(ctx, 64, "%.*s", (int)len, text);
}

/* eimg_sgx_hw_call: the message ABI with a log ocall, as eimg_sim_call */
static void test_call(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	eimg_layout *l = signed_layout(0x40000, 2, mr, ss); /* 64 pages: more than one ADD_PAGES batch */
	fresh_fake(FAKE_ECHO);
	eimg_sgx_hw_enclave *e = NULL;
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_OK);
	fk.enter_mode = FAKE_RUNTIME;
	uint8_t out[64];
	char logged[64] = "";
	struct eimg_sim_result res;
	int rc = eimg_sgx_hw_call(e, 1, (const uint8_t *)"hello", 5, out, sizeof(out), collect_log, logged, &res, &err);
	if (rc)
		fail_msg("%s", err.msg);
	assert_string_equal(logged, "got 5 bytes");
	assert_int_equal(res.status, 0);
	assert_int_equal(res.detail, 5);
	assert_memory_equal(out, "olleh", 5);
	assert_int_equal(fk.enters, 2); /* MESSAGE, then RESUME after the ocall */
	/* reply too large for the buffer: the enclave's verdict, not a host error */
	rc = eimg_sgx_hw_call(e, 0, (const uint8_t *)"hello world", 11, out, 8, NULL, NULL, &res, &err);
	assert_int_equal(rc, EIMG_OK);
	assert_int_equal(res.status, 3);
	assert_int_equal(res.detail, 11);
	/* host buffers inside the enclave are refused before entering */
	unsigned before = fk.enters;
	assert_int_equal(eimg_sgx_hw_call(e, 0, (const uint8_t *)(uintptr_t)(fk.base + 0x100), 4, out, sizeof(out),
					  NULL, NULL, &res, &err), EIMG_EINTERNAL);
	assert_int_equal(eimg_sgx_hw_call(e, 2, out, 1, out, sizeof(out), NULL, NULL, &res, &err), EIMG_EINVAL);
	assert_int_equal(fk.enters, before);
	/* an exception inside the enclave ends the call with the exception's message */
	fk.enter_mode = FAKE_FAULT;
	assert_int_equal(eimg_sgx_hw_call(e, 0, out, 1, out, sizeof(out), NULL, NULL, &res, &err), EIMG_EIO);
	assert_non_null(strstr(err.msg, "#PF"));
	eimg_sgx_hw_unload(e);
	eimg_layout_free(l);
	fake_release(&fk);
}

static void test_debug_launch(void **state)
{
	(void)state;
	need_key();
	setup_input(0x40000, 2);   /* 64 pages: more than one ADD_PAGES batch */
	eimg_layout *l = make_layout();
	uint8_t mr[32], ss_both[EIMG_SIGSTRUCT_SIZE], ss_prod[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	eimg_sgx_hw_enclave *e = NULL;
	assert_int_equal(eimg_sgx_mrenclave(l, mr, &err), EIMG_OK);
	sign(mr, true, 0x3, ss_both);
	sign(mr, false, 0x3, ss_prod);

	/* a signature for both modes launches in debug: DEBUG in the SECS */
	fresh_fake(FAKE_ECHO);
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss_both, true, &e, &err), EIMG_OK);
	assert_int_equal(fk.attributes, 0x6);
	eimg_sgx_hw_unload(e);
	fresh_fake(FAKE_ECHO);
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss_both, false, &e, &err), EIMG_OK);
	assert_int_equal(fk.attributes, 0x4);
	eimg_sgx_hw_unload(e);
	/* a production-only signature refuses a debug launch before touching the device */
	fresh_fake(FAKE_ECHO);
	e = NULL;
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss_prod, true, &e, &err), EIMG_EUSAGE);
	assert_null(e);
	assert_non_null(strstr(err.msg, "does not allow a debug launch"));
	assert_int_equal(fk.add_calls, 0);
	assert_false(fk.created);
	/* and if the loader did set DEBUG anyway, the fake CPU would refuse EINIT:
	 * check the fake by signing DEBUG-in-mask and launching with DEBUG set via a
	 * debug-only signature (DEBUG in mask and set) in production */
	struct eimg_sigstruct s;
	assert_int_equal(eimg_sigstruct_decode("x", ss_prod, sizeof(ss_prod), &s, NULL), EIMG_OK);
	s.attr_flags |= EIMG_ATTR_DEBUG; /* debug-only */
	uint8_t ss_dbg[EIMG_SIGSTRUCT_SIZE];
	eimg_sigstruct_encode(&s, ss_dbg);
	fresh_fake(FAKE_ECHO);
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss_dbg, false, &e, &err), EIMG_EUSAGE);
	assert_non_null(strstr(err.msg, "allows only debug launches"));
	eimg_layout_free(l);
	fake_release(&fk);
}

/* ---- tampered images and signatures do not initialise ---- */
static void expect_refused(const eimg_layout *l, const uint8_t *ss, const char *frag, int want_errno)
{
	eimg_error err;
	eimg_sgx_hw_enclave *e = NULL;
	fresh_fake(FAKE_ECHO);
	int rc = eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err);
	assert_int_equal(rc, want_errno == EPERM ? EIMG_EVERIFY : EIMG_EIO);
	assert_null(e);
	assert_false(fk.initialized);
	assert_int_equal(fk.init_errno, want_errno);
	assert_false(fk.fd_open); /* cleaned up */
	if (!strstr(err.msg, frag))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, frag);
}

static void test_tampered(void **state)
{
	(void)state;
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE], bad[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	eimg_layout *l = signed_layout(0x40000, 2, mr, ss); /* 64 pages: more than one ADD_PAGES batch */
	eimg_layout_free(l);

	/* one byte of code changed after signing */
	elf_bytes[0x1234] ^= 1;
	l = make_layout();
	expect_refused(l, ss, "but the enclave measures", EPERM);
	elf_bytes[0x1234] ^= 1;
	eimg_layout_free(l);
	l = make_layout();

	/* a page's permissions changed (SECINFO is measured) */
	l->regions[1].secinfo = 0x207; /* code segment made writable */
	expect_refused(l, ss, "but the enclave measures", EPERM);
	l->regions[1].secinfo = 0x205;

	/* the signature: a flipped signature byte, a re-labelled ISVSVN */
	memcpy(bad, ss, sizeof(bad));
	bad[EIMG_SS_SIGNATURE + 17] ^= 0x40;
	expect_refused(l, bad, "refused the SIGSTRUCT", EPERM);
	memcpy(bad, ss, sizeof(bad));
	bad[EIMG_SS_ISVSVN] = 9;
	expect_refused(l, bad, "refused the SIGSTRUCT", EPERM);
	/* a vendor the driver does not accept */
	memcpy(bad, ss, sizeof(bad));
	bad[EIMG_SS_VENDOR] = 1;
	expect_refused(l, bad, "EINIT failed", EINVAL);

	/* and the untampered pair still loads */
	fresh_fake(FAKE_ECHO);
	eimg_sgx_hw_enclave *e = NULL;
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_OK);
	eimg_sgx_hw_unload(e);
	eimg_layout_free(l);
	fake_release(&fk);
}

static void test_bad_layout_for_driver(void **state)
{
	(void)state;
	need_key();
	setup_input(0x40000, 2);   /* 64 pages: more than one ADD_PAGES batch */
	eimg_layout *l = make_layout();
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	eimg_sgx_hw_enclave *e = NULL;
	memset(mr, 0x5a, sizeof(mr));
	sign(mr, false, 0x3, ss); /* content does not matter: refused before EINIT */
	/* a TCS page with permissions: the driver refuses ADD_PAGES */
	size_t t = 0;
	while (l->regions[t].kind != EIMG_REGION_TCS)
		t++;
	l->regions[t].secinfo = 0x103;
	fresh_fake(FAKE_ECHO);
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_EIO);
	assert_int_equal(err.sys_errno, EINVAL);
	assert_non_null(strstr(err.msg, "refused the TCS pages"));
	assert_non_null(strstr(err.msg, "SECINFO 0x103"));
	assert_false(fk.fd_open);
	l->regions[t].secinfo = 0x100;
	/* the EPC runs out while adding (other enclaves use it): the page is named */
	fresh_fake(FAKE_ECHO);
	fk.epc_pages_free = 10;
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_ENOMEM);
	assert_int_equal(err.sys_errno, ENOMEM);
	char want[64];
	uint64_t off = 0;
	for (size_t i = 0, n = 0; i < l->nregions; i++) /* the 11th page added */
		for (uint64_t p = 0; p < l->regions[i].size / 4096; p++, n++)
			if (n == 10)
				off = l->regions[i].offset + p * 4096;
	snprintf(want, sizeof(want), "page at offset 0x%llx", (unsigned long long)off);
	assert_non_null(strstr(err.msg, "out of EPC"));
	if (!strstr(err.msg, want))
		fail_msg("\"%s\" lacks \"%s\"", err.msg, want);
	assert_false(fk.fd_open);
	/* a simulation image is not loaded on hardware */
	l->mode = EIMG_MODE_SIMULATION;
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_EUSAGE);
	assert_non_null(strstr(err.msg, "built for simulation"));
	l->mode = EIMG_MODE_HARDWARE;
	/* no vDSO entry point */
	fresh_fake(FAKE_ECHO);
	fk.no_vdso = true;
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "__vdso_sgx_enter_enclave"));
	eimg_layout_free(l);
	fake_release(&fk);
}

static void test_ssa_and_xfrm(void **state)
{
	(void)state;
	need_key();
	setup_input(0x40000, 2);   /* 64 pages: more than one ADD_PAGES batch */
	eimg_layout *l = make_layout();
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_error err;
	eimg_sgx_hw_enclave *e = NULL;
	assert_int_equal(eimg_sgx_mrenclave(l, mr, &err), EIMG_OK);
	/* AMX tile data needs 3 pages of SSA frame on the fake CPU */
	sign(mr, false, 0x60003, ss);
	fresh_fake(FAKE_ECHO);
	assert_int_equal(eimg_sgx_ssa_pages_needed(&ops, 0x60003, 0), 3);
	assert_int_equal(eimg_sgx_ssa_pages_needed(&ops, 0x7, 0), 1);
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_EINVAL);
	assert_non_null(strstr(err.msg, "SSA frame of 1 page(s) is too small"));
	assert_non_null(strstr(err.msg, "needs 3"));
	assert_false(fk.created);
	/* with a 3-page frame it loads and the fake CPU agrees */
	man.sgx.ssa_frame_size = 3;
	eimg_layout *l3 = make_layout();
	assert_int_equal(eimg_sgx_mrenclave(l3, mr, &err), EIMG_OK);
	sign(mr, false, 0x60003, ss);
	fresh_fake(FAKE_ECHO);
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l3, ss, false, &e, &err), EIMG_OK);
	assert_int_equal(fk.ssa, 3);
	assert_int_equal(fk.xfrm, 0x60003);
	eimg_sgx_hw_unload(e);
	/* XFRM the platform does not offer (AVX-512 here) */
	sign(mr, false, 0xe7, ss);
	fresh_fake(FAKE_ECHO);
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l3, ss, false, &e, &err), EIMG_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "XFRM 0xe7"));
	eimg_layout_free(l3);
	eimg_layout_free(l);
	fake_release(&fk);
}

/* ---- preflight: each failure gives its message ---- */
static void expect_preflight(int want, const char *frag1, const char *frag2)
{
	eimg_error err;
	struct eimg_sgx_hw_platform p;
	eimg_error_clear(&err);
	int rc = eimg_sgx_hw_preflight_ops(&ops, 1 << 20, &p, &err);
	if (rc != want)
		fail_msg("preflight: expected %d, got %d (%s)", want, rc, err.msg);
	if (frag1 && !strstr(err.msg, frag1))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, frag1);
	if (frag2 && !strstr(err.msg, frag2))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, frag2);
	if (want != EIMG_OK)
		assert_string_equal(err.file, EIMG_SGX_DEVICE);
}

static void test_preflight(void **state)
{
	(void)state;
	eimg_error err;
	struct eimg_sgx_hw_platform p;
	fresh_fake(FAKE_ECHO);
	assert_int_equal(eimg_sgx_hw_preflight_ops(&ops, 1 << 20, &p, &err), EIMG_OK);
	assert_true(p.cpu_sgx1 && p.cpu_flc && p.kernel_sgx && p.kernel_sgx_lc && p.device);
	assert_false(p.cpu_sgx2);
	assert_int_equal(p.epc_bytes, 64ull << 20);
	assert_int_equal(p.xfrm_allowed, 0x60007);
	assert_int_equal(p.misc_allowed, 1);
	assert_false(fk.fd_open);

	fresh_fake(FAKE_ECHO);
	fk.device = fk.cpu_sgx = fk.cpu_flc = fk.kernel_sgx = fk.kernel_sgx_lc = false;
	expect_preflight(EIMG_EUNSUPPORTED, "no such device", "does not report SGX");
	fresh_fake(FAKE_ECHO);
	fk.device = fk.cpu_flc = fk.kernel_sgx_lc = false;
	expect_preflight(EIMG_EUNSUPPORTED, "no Flexible Launch Control", "CPUID leaf 7 ECX bit 30");
	fresh_fake(FAKE_ECHO);
	fk.cpu_flc = false; /* a device but a non-FLC CPU: same explanation */
	expect_preflight(EIMG_EUNSUPPORTED, "no Flexible Launch Control", NULL);
	fresh_fake(FAKE_ECHO);
	fk.device = fk.kernel_sgx = fk.kernel_sgx_lc = false;
	expect_preflight(EIMG_EUNSUPPORTED, "kernel did not enable it", "5.11");
	fresh_fake(FAKE_ECHO);
	fk.device = fk.kernel_sgx_lc = false;
	expect_preflight(EIMG_EUNSUPPORTED, "locked launch control", "sgx_lc");
	fresh_fake(FAKE_ECHO);
	fk.device = false;
	expect_preflight(EIMG_EUNSUPPORTED, "device node is missing", "--device /dev/sgx_enclave");
	fresh_fake(FAKE_ECHO);
	fk.device = fk.cpu_sgx = fk.cpu_flc = false; /* a hypervisor hiding CPUID: the kernel knows better */
	expect_preflight(EIMG_EUNSUPPORTED, "device node is missing", NULL);
	fresh_fake(FAKE_ECHO);
	fk.perm_denied = true;
	expect_preflight(EIMG_EIO, "permission denied", "usermod -aG");
	fresh_fake(FAKE_ECHO);
	fk.noexec = true;
	expect_preflight(EIMG_EUNSUPPORTED, "noexec", "remount");
	fresh_fake(FAKE_ECHO);
	fk.epc_bytes = 512 << 10;
	expect_preflight(EIMG_EUNSUPPORTED, "needs 1024 KiB of EPC", "has 512 KiB");
	/* unknown EPC size: not a reason to refuse */
	fresh_fake(FAKE_ECHO);
	fk.epc_bytes = 0;
	expect_preflight(EIMG_OK, NULL, NULL);
	/* CPUID hidden by a hypervisor: the kernel's per-node totals in /sys */
	fresh_fake(FAKE_ECHO);
	fk.epc_bytes = 0;
	fk.sys_epc[0] = 256 << 10;
	fk.sys_epc[1] = 512 << 10;
	expect_preflight(EIMG_EUNSUPPORTED, "needs 1024 KiB of EPC", "has 768 KiB");
	fk.sys_epc[1] = 1 << 20;
	expect_preflight(EIMG_OK, NULL, NULL);
	assert_int_equal(eimg_sgx_hw_preflight_ops(&ops, 0, &p, &err), EIMG_OK);
	assert_int_equal(p.epc_bytes, (256 << 10) + (1 << 20));

	/* noexec found at mmap time too, when the loader gets that far */
	uint8_t mr[32], ss[EIMG_SIGSTRUCT_SIZE];
	eimg_sgx_hw_enclave *e = NULL;
	eimg_layout *l = signed_layout(0x40000, 2, mr, ss); /* 64 pages: more than one ADD_PAGES batch */
	fresh_fake(FAKE_ECHO);
	fk.noexec = true;
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "noexec"));
	assert_false(fk.created); /* refused by the preflight, before ECREATE */
	/* the EPC needed is the enclave's pages plus the SECS */
	fresh_fake(FAKE_ECHO);
	fk.epc_bytes = l->npages * 4096;
	assert_int_equal(eimg_sgx_hw_load_ops(&ops, l, ss, false, &e, &err), EIMG_EUNSUPPORTED);
	assert_non_null(strstr(err.msg, "KiB of EPC"));
	eimg_layout_free(l);
	fake_release(&fk);
}

/* ---- the real system ---- */
static void test_real_preflight(void **state)
{
	(void)state;
	eimg_error err;
	struct eimg_sgx_hw_platform p;
	int rc = eimg_sgx_hw_preflight(0, &p, &err);
	if (access(EIMG_SGX_DEVICE, F_OK) != 0) {
		assert_int_equal(rc, EIMG_EUNSUPPORTED);
		assert_non_null(strstr(err.msg, "no such device"));
		assert_false(p.device);
	} else {
		print_message("this machine has %s: preflight says %s\n", EIMG_SGX_DEVICE, rc ? err.msg : "ok");
		assert_true(p.device);
	}
}

static void test_vdso_parser(void **state)
{
	(void)state;
	const void *vdso = (const void *)(uintptr_t)getauxval(AT_SYSINFO_EHDR);
	if (!vdso) {
		print_message("skipped: no vDSO in this process\n");
		skip();
	}
	/* a symbol every x86-64 vDSO has: call it and compare with the libc's answer */
	void *sym = eimg_vdso_sym(vdso, "__vdso_clock_gettime");
	assert_non_null(sym);
	int (*gettime)(clockid_t, struct timespec *);
	memcpy(&gettime, &sym, sizeof(gettime));
	struct timespec a, b, c;
	clock_gettime(CLOCK_REALTIME, &a);
	assert_int_equal(gettime(CLOCK_REALTIME, &b), 0);
	clock_gettime(CLOCK_REALTIME, &c);
	assert_true(b.tv_sec >= a.tv_sec && b.tv_sec <= c.tv_sec);
	assert_non_null(eimg_vdso_sym(vdso, "__vdso_getcpu"));
	assert_null(eimg_vdso_sym(vdso, "__vdso_no_such_symbol"));
	assert_null(eimg_vdso_sym(vdso, "__vdso_clock_gettim")); /* prefix is not a match */
	assert_null(eimg_vdso_sym(NULL, "__vdso_clock_gettime"));
	static const uint8_t junk[64] = { 0x7f, 'E', 'L', 'F', 1 };
	assert_null(eimg_vdso_sym(junk, "__vdso_clock_gettime"));
	print_message("vDSO __vdso_sgx_enter_enclave: %s\n",
		      eimg_vdso_sym(vdso, "__vdso_sgx_enter_enclave") ? "present" : "absent");
}

/* A synthetic vDSO image linked at vaddr 0x1000000 (so the load bias
 * matters), with either DT_HASH or DT_GNU_HASH. */
static void build_vdso(uint8_t *img, bool gnu)
{
	const uint64_t va = 0x1000000;
	memset(img, 0, 4096);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_phoff = 64;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	Elf64_Phdr *ph = (Elf64_Phdr *)(img + 64);
	ph[0].p_type = PT_LOAD;
	ph[0].p_offset = 0;
	ph[0].p_vaddr = va;
	ph[1].p_type = PT_DYNAMIC;
	ph[1].p_offset = 0x200;
	ph[1].p_vaddr = va + 0x200;
	static const char str[] = "\0__vdso_a\0__vdso_b\0__vdso_obj\0__vdso_undef\0";
	Elf64_Dyn *d = (Elf64_Dyn *)(img + 0x200);
	d[0].d_tag = DT_SYMTAB; d[0].d_un.d_ptr = va + 0x300;
	d[1].d_tag = DT_STRTAB; d[1].d_un.d_ptr = va + 0x400;
	d[2].d_tag = DT_STRSZ; d[2].d_un.d_val = sizeof(str);
	d[3].d_tag = gnu ? DT_GNU_HASH : DT_HASH; d[3].d_un.d_ptr = va + 0x500;
	d[4].d_tag = DT_NULL;
	Elf64_Sym *sym = (Elf64_Sym *)(img + 0x300);
	static const struct { uint32_t name; unsigned type; uint16_t shndx; uint64_t value; } syms[5] = {
		{ 0, 0, 0, 0 }, { 1, STT_FUNC, 7, 0x800 }, { 10, STT_FUNC, 7, 0x900 },
		{ 19, STT_OBJECT, 7, 0xa00 }, { 30, STT_FUNC, SHN_UNDEF, 0 } };
	for (int i = 0; i < 5; i++) {
		sym[i].st_name = syms[i].name;
		sym[i].st_info = ELF64_ST_INFO(STB_GLOBAL, syms[i].type);
		sym[i].st_shndx = syms[i].shndx;
		sym[i].st_value = va + syms[i].value;
	}
	memcpy(img + 0x400, str, sizeof(str));
	uint32_t *h = (uint32_t *)(img + 0x500);
	if (!gnu) {
		h[0] = 1;  /* nbucket */
		h[1] = 5;  /* nchain = symbols */
	} else {
		h[0] = 1;  /* nbuckets */
		h[1] = 1;  /* symoffset */
		h[2] = 1;  /* bloom words (64-bit) */
		h[3] = 0;
		memset(h + 4, 0xff, 8);
		h[6] = 1;  /* bucket 0 -> symbol 1 */
		h[7] = 0x10; h[8] = 0x20; h[9] = 0x30; h[10] = 0x41; /* chain of symbols 1..4, last ends */
	}
}

static void test_vdso_synthetic(void **state)
{
	(void)state;
	_Alignas(16) static uint8_t img[4096];
	for (int gnu = 0; gnu < 2; gnu++) {
		build_vdso(img, gnu);
		assert_ptr_equal(eimg_vdso_sym(img, "__vdso_a"), img + 0x800);
		assert_ptr_equal(eimg_vdso_sym(img, "__vdso_b"), img + 0x900);
		assert_null(eimg_vdso_sym(img, "__vdso_obj"));    /* not a function */
		assert_null(eimg_vdso_sym(img, "__vdso_undef"));  /* undefined */
		assert_null(eimg_vdso_sym(img, "__vdso_c"));
		/* a string table size that cuts a name off */
		((Elf64_Dyn *)(img + 0x200))[2].d_un.d_val = 12;
		assert_null(eimg_vdso_sym(img, "__vdso_b"));
		build_vdso(img, gnu);
		/* no hash table: no symbol count, nothing found */
		((Elf64_Dyn *)(img + 0x200))[3].d_tag = DT_DEBUG;
		assert_null(eimg_vdso_sym(img, "__vdso_a"));
		build_vdso(img, gnu);
		/* no PT_DYNAMIC */
		((Elf64_Phdr *)(img + 64))[1].p_type = PT_NOTE;
		assert_null(eimg_vdso_sym(img, "__vdso_a"));
	}
	/* GNU hash: the count ends at the chain's end bit */
	build_vdso(img, true);
	((Elf64_Sym *)(img + 0x300))[4].st_shndx = 7; /* define symbol 4 */
	assert_ptr_equal(eimg_vdso_sym(img, "__vdso_undef"), img);
	uint32_t *h = (uint32_t *)(img + 0x500);
	h[9] = 0x31; /* symbol 3 ends the chain: symbol 4 does not exist */
	assert_null(eimg_vdso_sym(img, "__vdso_undef"));
	assert_ptr_equal(eimg_vdso_sym(img, "__vdso_b"), img + 0x900);
}

static void test_uapi_numbers(void **state)
{
	(void)state;
	assert_int_equal(sizeof(struct eimg_sgx_run), 256);
	assert_int_equal(offsetof(struct eimg_sgx_run, user_data), 32);
	assert_int_equal(EIMG_SGX_IOC_CREATE, 0x4008a400);
	assert_int_equal(EIMG_SGX_IOC_ADD_PAGES, 0xc030a401);
	assert_int_equal(EIMG_SGX_IOC_INIT, 0x4008a402);
#ifdef HAVE_ASM_SGX
	assert_int_equal(EIMG_SGX_IOC_CREATE, SGX_IOC_ENCLAVE_CREATE);
	assert_int_equal(EIMG_SGX_IOC_ADD_PAGES, SGX_IOC_ENCLAVE_ADD_PAGES);
	assert_int_equal(EIMG_SGX_IOC_INIT, SGX_IOC_ENCLAVE_INIT);
	assert_int_equal(sizeof(struct eimg_sgx_run), sizeof(struct sgx_enclave_run));
	assert_int_equal(offsetof(struct eimg_sgx_run, exception_addr), offsetof(struct sgx_enclave_run, exception_addr));
	assert_int_equal(offsetof(struct eimg_sgx_run, user_handler), offsetof(struct sgx_enclave_run, user_handler));
#endif
}

/* The runtime's hardware build leaves with ENCLU (EEXIT); the simulation
 * build must not contain it. */
static int objdump_has_enclu(const char *obj)
{
	char cmd[600], line[512];
	snprintf(cmd, sizeof(cmd), "objdump -d '%s' 2>/dev/null", obj);
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	int found = 0, lines = 0;
	while (fgets(line, sizeof(line), p)) {
		lines++;
		if (strstr(line, "enclu"))
			found = 1;
	}
	int st = pclose(p);
	if (st != 0 || lines == 0)
		return -1;
	return found;
}

static void test_runtime_enclu(void **state)
{
	(void)state;
	const char *bd = getenv("BUILDDIR");
	char hw[512], sim[512];
	snprintf(hw, sizeof(hw), "%s/runtime/hardware/entry.o", bd ? bd : "build");
	snprintf(sim, sizeof(sim), "%s/runtime/simulation/entry.o", bd ? bd : "build");
	if (access(hw, R_OK) != 0 || access(sim, R_OK) != 0) {
		print_message("skipped: %s not built (make examples builds the runtime)\n", hw);
		skip();
	}
	int h = objdump_has_enclu(hw), s = objdump_has_enclu(sim);
	if (h < 0 || s < 0) {
		print_message("skipped: objdump not usable\n");
		skip();
	}
	assert_int_equal(h, 1);
	assert_int_equal(s, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uapi_numbers),
		cmocka_unit_test(test_fake_vector_a),
		cmocka_unit_test(test_fake_refusals),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_enter_exception),
		cmocka_unit_test(test_call),
		cmocka_unit_test(test_debug_launch),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_bad_layout_for_driver),
		cmocka_unit_test(test_ssa_and_xfrm),
		cmocka_unit_test(test_preflight),
		cmocka_unit_test(test_real_preflight),
		cmocka_unit_test(test_vdso_parser),
		cmocka_unit_test(test_vdso_synthetic),
		cmocka_unit_test(test_runtime_enclu),
	};
	return cmocka_run_group_tests_name("sgx_hw", tests, group_setup, group_teardown);
}
