/* SPDX-License-Identifier: Apache-2.0 */
/* The simulation loader: places an SGX layout's pages in this process the
 * way ECREATE/EADD/EEXTEND would, measures what it placed, enforces the
 * SIGSTRUCT's MRENCLAVE like EINIT, and enters at TCS.OENTRY with the
 * registers EENTER sets (enclave_abi.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "eimg/progress.h"
#include "eimg/sgxs.h"
#include "eimg/sim.h"
#include "eimg/util.h"
#include "eimg/enclave_abi.h"
#include "core/internal.h"
#include "run/sim_int.h"

#define PAGE ((uint64_t)EIMG_PAGE)

struct eimg_sim_enclave {
	const eimg_layout *layout;
	uint8_t *base;
	uint64_t size;
	uint8_t *map;          /* the whole reservation, for munmap */
	size_t map_len;
	uint64_t *tcs;         /* absolute TCS addresses */
	uint64_t *oentry;      /* absolute entry addresses, read from each placed TCS */
	uint32_t threads;
	uint8_t mrenclave[32];
	eimg_ocall_fn ocall;   /* host services (sealing, state); NULL: none */
	void *ocall_ctx;
};

/* Registers in and out of the enclave: RDI, RSI, RDX, R8, R9 going in;
 * RDI, RSI, RDX coming back. */
struct sim_regs {
	uint64_t rdi, rsi, rdx, r8, r9;
};

void eimg_sim_eenter(uint64_t tcs, uint64_t entry, struct sim_regs *io);

/* eimg_sim_eenter(tcs, entry, io): the simulated EENTER.  Saves the host's
 * callee-saved registers, sets RBX = TCS, RCX = the return address, RAX =
 * CSSA (0) and the argument registers, and jumps to the entry.  The enclave
 * comes back to label 1 with the host RSP/RBP restored (EEXIT). */
__asm__(
	".pushsection .text\n"
	".globl eimg_sim_eenter\n"
	".type eimg_sim_eenter, @function\n"
	"eimg_sim_eenter:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	pushq %rdx\n"
	"	movq %rdi, %rbx\n"
	"	movq %rsi, %r11\n"
	"	movq %rdx, %r12\n"
	"	movq 0(%r12), %rdi\n"
	"	movq 8(%r12), %rsi\n"
	"	movq 24(%r12), %r8\n"
	"	movq 32(%r12), %r9\n"
	"	movq 16(%r12), %rdx\n"
	"	leaq 1f(%rip), %rcx\n"
	"	xorl %eax, %eax\n"
	"	jmp *%r11\n"
	"1:\n"
	"	popq %r12\n"
	"	movq %rdi, 0(%r12)\n"
	"	movq %rsi, 8(%r12)\n"
	"	movq %rdx, 16(%r12)\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size eimg_sim_eenter, . - eimg_sim_eenter\n"
	".popsection\n");

static int prot_of(uint64_t secinfo)
{
	if (secinfo & EIMG_SECINFO_TCS)
		return PROT_NONE;   /* TCS pages are not accessible to software */
	int p = PROT_NONE;
	if (secinfo & EIMG_SECINFO_R)
		p |= PROT_READ;
	if (secinfo & EIMG_SECINFO_W)
		p |= PROT_WRITE;
	if (secinfo & EIMG_SECINFO_X)
		p |= PROT_EXEC;
	return p;
}

/* True when page i of r has any non-zero data (the rest of a region is zero,
 * and a fresh anonymous mapping already is). */
static bool page_has_data(const struct eimg_region *r, uint64_t i)
{
	uint64_t lo = i * PAGE, hi = lo + PAGE;
	return r->data && r->data_len && r->data_off < hi && r->data_off + r->data_len > lo;
}

/* Measures the placed bytes: the same record stream (sgxs.c) over a copy of
 * the layout whose regions read their content from the placed memory. */
static int measure_placed(const eimg_layout *l, uint8_t *base, struct eimg_progress *p, uint8_t out[32],
			  eimg_error *err)
{
	struct eimg_region *rs = calloc(l->nregions ? l->nregions : 1, sizeof *rs);
	if (!rs)
		return eimg_err_nomem(err);
	for (size_t i = 0; i < l->nregions; i++) {
		rs[i] = l->regions[i];
		rs[i].data = base + l->regions[i].offset;
		rs[i].data_off = 0;
		rs[i].data_len = l->regions[i].size;
	}
	eimg_layout shadow = *l;
	shadow.regions = rs;
	shadow.owned = NULL;
	int rc = eimg_sgx_mrenclave_progress(&shadow, p, out, err);
	free(rs);
	return rc;
}

int eimg_sim_load(const eimg_layout *l, const uint8_t expected[32], eimg_sim_enclave **out, eimg_error *err)
{
	return eimg_sim_load_progress(l, expected, NULL, out, err);
}

/* Places every region's pages, readable and writable while the loader
 * works; the bytes go to p as EIMG_LOAD_STEP_PLACING. */
static int place(const eimg_layout *l, uint8_t *base, struct eimg_progress *p, eimg_error *err)
{
	uint64_t total = 0;
	for (size_t i = 0; i < l->nregions; i++)
		total += l->regions[i].size;
	eimg_progress_begin(p, EIMG_LOAD_STEP_PLACING, total);
	for (size_t i = 0; i < l->nregions; i++) {
		const struct eimg_region *r = &l->regions[i];
		uint8_t *dst = base + r->offset;
		if (mprotect(dst, (size_t)r->size, PROT_READ | PROT_WRITE) != 0)
			return errno == ENOMEM ? eimg_err(err, EIMG_ENOMEM, NULL, "out of memory placing the enclave pages")
					       : eimg_err_sys(err, NULL, "mprotect");
		for (uint64_t pg = 0; pg < r->size / PAGE; pg++) {
			if (page_has_data(r, pg))
				eimg_region_page(r, pg, dst + pg * PAGE);
			eimg_progress_add(p, PAGE);
		}
	}
	eimg_progress_end(p);
	return EIMG_OK;
}

int eimg_sim_load_progress(const eimg_layout *l, const uint8_t expected[32], struct eimg_progress *p,
			   eimg_sim_enclave **out, eimg_error *err)
{
	eimg_sim_enclave *e = NULL;
	int rc;

	if (!l || l->size < 2 * PAGE || (l->size & (l->size - 1)) || l->size > EIMG_MAX_ENCLAVE_SIZE)
		return eimg_err(err, EIMG_EINVAL, NULL, "enclave size is not a power of two up to 64 GiB");
	if (l->threads < 1 || l->threads > EIMG_SIM_MAX_THREADS)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL,
				"the simulation runs at most %d threads (TCSs); the image has %u",
				EIMG_SIM_MAX_THREADS, l->threads);
	if (!(e = calloc(1, sizeof *e)) || !(e->tcs = calloc(l->threads, sizeof *e->tcs)) ||
	    !(e->oentry = calloc(l->threads, sizeof *e->oentry))) {
		rc = eimg_err_nomem(err);
		goto out;
	}
	e->layout = l;
	e->size = l->size;
	e->threads = l->threads;

	/* Reserve twice the size, keep the size-aligned part (like ECREATE's
	 * naturally aligned base) with one inaccessible guard page on each side,
	 * so that an access just outside the enclave always faults whatever
	 * else the process maps; give the rest back. */
	size_t guard = EIMG_PAGE;
	size_t len = (size_t)l->size * 2 + 2 * guard;
	void *m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		rc = errno == ENOMEM ? eimg_err(err, EIMG_ENOMEM, NULL,
						"cannot reserve %llu MiB of address space for the enclave",
						(unsigned long long)(l->size >> 20))
				     : eimg_err_sys(err, NULL, "mmap of the enclave range");
		goto out;
	}
	uintptr_t a = (uintptr_t)m;
	uintptr_t b = (a + guard + (uintptr_t)l->size - 1) & ~((uintptr_t)l->size - 1);
	uintptr_t keep_lo = b - guard, keep_hi = b + (uintptr_t)l->size + guard;
	if (keep_lo > a)
		munmap(m, keep_lo - a);
	if (a + len > keep_hi)
		munmap((void *)keep_hi, a + len - keep_hi);
	e->map = (uint8_t *)keep_lo;
	e->map_len = keep_hi - keep_lo;
	e->base = (uint8_t *)b;

	if ((rc = place(l, e->base, p, err)) || (rc = measure_placed(l, e->base, p, e->mrenclave, err)))
		goto out;
	if (memcmp(e->mrenclave, expected, 32) != 0) {
		char want[65], got[65];
		rc = eimg_err(err, EIMG_EVERIFY, NULL,
			      "EINIT refused: the placed pages measure to MRENCLAVE %s, the SIGSTRUCT expects %s",
			      eimg_hex(e->mrenclave, 32, got), eimg_hex(expected, 32, want));
		goto out;
	}
	for (uint32_t t = 0; t < l->threads; t++) {
		uint64_t off = l->tcs_offsets[t];
		if (off > l->size - PAGE) {
			rc = eimg_err(err, EIMG_EINVAL, NULL, "TCS %u lies outside the enclave", t);
			goto out;
		}
		/* what the CPU does: OENTRY comes from the (measured) TCS page */
		uint64_t oentry = eimg_get_le64(e->base + off + 32);
		if (oentry >= l->size) {
			rc = eimg_err(err, EIMG_EINVAL, NULL, "TCS %u: OENTRY %#llx lies outside the enclave", t,
				      (unsigned long long)oentry);
			goto out;
		}
		e->tcs[t] = (uint64_t)(uintptr_t)(e->base + off);
		e->oentry[t] = (uint64_t)(uintptr_t)(e->base + oentry);
	}
	/* Final page permissions from SECINFO. */
	for (size_t i = 0; i < l->nregions; i++) {
		const struct eimg_region *r = &l->regions[i];
		if (mprotect(e->base + r->offset, (size_t)r->size, prot_of(r->secinfo)) != 0) {
			rc = eimg_err_sys(err, NULL, "mprotect");
			goto out;
		}
	}
	*out = e;
	e = NULL;
	rc = EIMG_OK;
out:
	eimg_sim_unload(e);
	return rc;
}

void eimg_sim_unload(eimg_sim_enclave *e)
{
	if (!e)
		return;
	if (e->map)
		munmap(e->map, e->map_len);
	free(e->tcs);
	free(e->oentry);
	free(e);
}

uint8_t *eimg_sim_base(const eimg_sim_enclave *e) { return e->base; }
uint64_t eimg_sim_size(const eimg_sim_enclave *e) { return e->size; }
uint32_t eimg_sim_threads(const eimg_sim_enclave *e) { return e->threads; }
const uint8_t *eimg_sim_mrenclave(const eimg_sim_enclave *e) { return e->mrenclave; }

/* Host buffers are outside the enclave by construction (malloc'ed by the
 * host), but check: the runtime would refuse them anyway. */
static bool overlaps(const eimg_sim_enclave *e, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)e->base;
	return len && a < b + e->size && a + len > b;
}

static int sim_ecall(eimg_sim_enclave *e, uint32_t tcs, uint64_t op, const uint8_t *in, size_t in_len,
		     uint8_t *out, size_t out_cap, eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl,
		     struct eimg_sim_result *res, eimg_error *err)
{
	if (tcs >= e->threads)
		return eimg_err(err, EIMG_EINVAL, NULL, "no TCS %u (the enclave has %u)", tcs, e->threads);
	if (overlaps(e, in, in_len) || overlaps(e, out, out_cap))
		return eimg_err(err, EIMG_EINTERNAL, NULL, "host buffer inside the enclave");
	struct sim_regs r = { op, (uint64_t)(uintptr_t)in, in_len, (uint64_t)(uintptr_t)out, out_cap };
	for (;;) {
		eimg_sim_eenter(e->tcs[tcs], e->oentry[tcs], &r);
		if (r.rdi == EIMG_EEXIT_RETURN) {
			res->status = r.rsi;
			res->detail = r.rdx;
			if (r.rsi == EIMG_ECALL_OK && r.rdx > out_cap)
				return eimg_err(err, EIMG_EINVAL, NULL,
						"the enclave claims a reply of %llu bytes in a %zu-byte buffer",
						(unsigned long long)r.rdx, out_cap);
			return EIMG_OK;
		}
		if (r.rdi != EIMG_EEXIT_OCALL)
			return eimg_err(err, EIMG_EINVAL, NULL, "the enclave left with unknown exit kind %llu",
					(unsigned long long)r.rdi);
		uint64_t result = 0;
		if (eimg_ocall_dispatch(e->ocall, e->ocall_ctx, tcs, r.rsi, out, r.rdx, out_cap, log, log_ctx, swl, &result))
			return eimg_err(err, EIMG_EINVAL, NULL, "the enclave made unknown ocall %llu",
					(unsigned long long)r.rsi);
		r = (struct sim_regs){ EIMG_ECALL_RESUME, result, 0, 0, 0 };
	}
}

int eimg_ocall_dispatch(eimg_ocall_fn fn, void *ctx, uint32_t tcs, uint64_t op, uint8_t *out, uint64_t len,
			size_t cap, eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl, uint64_t *result)
{
	*result = 0;
	if (swl && op >= EIMG_OCALL_IDLE && op <= EIMG_OCALL_REPLY) {
		*result = swl->fn(swl->ctx, op, out, len, cap);
		return 0;
	}
	if (op == EIMG_OCALL_LOG) {
		if (log)
			log(log_ctx, (const char *)out, len < cap ? (size_t)len : cap);
		return 0;
	}
	if (op < EIMG_OCALL_SEAL_KEY || op > EIMG_OCALL_STATE_WRITE)
		return -1;
	*result = len > cap ? EIMG_OCALL_EBADREQ : fn ? fn(ctx, tcs, op, out, (size_t)len, cap) : EIMG_OCALL_ENOSTATE;
	return 0;
}

void eimg_sim_set_ocall(eimg_sim_enclave *e, eimg_ocall_fn fn, void *ctx)
{
	e->ocall = fn;
	e->ocall_ctx = ctx;
}

int eimg_sim_call(eimg_sim_enclave *e, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out,
		  size_t out_cap, eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res,
		  eimg_error *err)
{
	return sim_ecall(e, tcs, EIMG_ECALL_MESSAGE, in, in_len, out, out_cap, log, log_ctx, NULL, res, err);
}

int eimg_sim_switchless(eimg_sim_enclave *e, uint32_t tcs, void *ring, size_t ring_size, uint8_t *out, size_t out_cap,
			eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl, struct eimg_sim_result *res,
			eimg_error *err)
{
	return sim_ecall(e, tcs, EIMG_ECALL_SWITCHLESS, ring, ring_size, out, out_cap, log, log_ctx, swl, res, err);
}

int eimg_sim_init(eimg_sim_enclave *e, uint8_t *key, size_t key_cap, size_t *key_len, eimg_sim_log_fn log,
		  void *log_ctx, struct eimg_sim_result *res, eimg_error *err)
{
	int rc = sim_ecall(e, 0, EIMG_ECALL_INIT, NULL, 0, key, key_cap, log, log_ctx, NULL, res, err);
	*key_len = 0;
	if (rc)
		return rc;
	if (res->status == EIMG_ECALL_EBADOP) { /* a runtime without INIT: no key */
		res->status = EIMG_ECALL_OK;
		res->detail = 0;
	}
	if (res->status == EIMG_ECALL_OK)
		*key_len = (size_t)res->detail;
	return EIMG_OK;
}

const char *eimg_sim_status_text(uint64_t status)
{
	switch (status) {
	case EIMG_ECALL_OK: return "ok";
	case EIMG_ECALL_EAPP: return "the enclave's handler returned an error";
	case EIMG_ECALL_ENOMEM: return "the enclave heap is exhausted (raise sgx.heap_size)";
	case EIMG_ECALL_ETOOBIG: return "the reply exceeds the message size limit";
	case EIMG_ECALL_EBADBUF: return "the host buffer overlaps the enclave";
	case EIMG_ECALL_EBADOP: return "the enclave refused the call (bad operation or pending ocall)";
	case EIMG_ECALL_EMODE: return "the enclave was built for another mode";
	case EIMG_ECALL_EINFO: return "the enclave's info blob or thread data is malformed (runtime and toolchain disagree)";
	case EIMG_ECALL_ECSSA: return "the enclave was entered with CSSA != 0";
	case EIMG_ECALL_EABORT: return "the enclave aborted";
	case EIMG_ECALL_ENOHANDLER: return "the enclave program defines no enclave_on_message";
	default: return "unknown enclave status";
	}
}
