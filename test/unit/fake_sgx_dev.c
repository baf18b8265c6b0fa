/* SPDX-License-Identifier: Apache-2.0 */
/* A fake /dev/sgx_enclave for test_sgx_hw.c (#included there): it plays the
 * Linux SGX driver and the CPU behind struct eimg_sgx_hw_ops.
 *
 * - ECREATE/EADD/EEXTEND: validates like the driver (sgx_validate_secs,
 *   sgx_validate_secinfo, offset/length checks) and computes MRENCLAVE from
 *   the ADD_PAGES calls it receives, building the records itself (it does
 *   not use the library's measurement code).
 * - EINIT: refuses (EPERM, as the driver maps EINIT failures) a SIGSTRUCT
 *   whose header constants, RSA signature, enclavehash or attributes under
 *   the mask do not match; EINVAL for a vendor other than 0 / 0x8086.
 * - mmap: refuses permissions beyond a page's EADD permissions (TCS: RW) with
 *   EACCES, PROT_EXEC with EPERM when /dev is "noexec".
 * - ADD_PAGES: can be made to return EINTR with count 0, or success with a
 *   partial count, as the driver does when a signal is pending.
 * - the vDSO: fake_enter() checks the TCS like EENTER and either "runs" an
 *   echo enclave (EEXIT through the user handler) or reports an exception. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "eimg/enclave_abi.h"
#include "eimg/hash.h"
#include "eimg/sigstruct.h"
#include "run/sgx_hw_int.h"

#define FAKE_FD 4242
#define FAKE_MAX_MAPS 128

enum { FAKE_ECHO = 0, FAKE_FAULT = 1, FAKE_RUNTIME = 2 };

struct fake_sgx {
	/* the platform */
	bool device, perm_denied, noexec, cpu_sgx, cpu_flc, kernel_sgx, kernel_sgx_lc, no_vdso;
	uint64_t epc_bytes, xfrm_allowed;
	uint64_t sys_epc[2];       /* /sys node0, node1 sgx_total_bytes (0 = no file) */
	uint32_t misc_allowed;
	/* fault injection */
	unsigned eintr_calls;      /* the next N ADD_PAGES calls fail with EINTR, count 0 */
	unsigned partial_period;   /* stop with a partial count after every N pages (0 = never) */
	uint64_t epc_pages_free;   /* ENOMEM once this many pages were added (0 = unlimited) */
	int enter_mode;
	/* the enclave */
	bool fd_open, created, initialized;
	uint64_t base, size, attributes, xfrm;
	uint32_t ssa, misc;
	eimg_hash *h;
	uint8_t mrenclave[32], mrsigner[32];
	uint16_t *pages;           /* per page: 0 not added, else 0x8000 | SECINFO flags */
	uint64_t npages_added, nmeasured;
	unsigned add_calls, eintr_returned, partial_returned, since_partial;
	struct { uintptr_t addr; size_t len; int prot; } maps[FAKE_MAX_MAPS];
	size_t nmaps;
	unsigned enters;
	uint64_t last_tcs;
	/* FAKE_RUNTIME: a message pending across the log ocall */
	const uint8_t *msg_in;
	size_t msg_len;
	uint8_t *msg_out;
	size_t msg_cap;
	bool pending;
	int init_errno;            /* errno of the last refused INIT, 0 if none */
	/* FAKE_RUNTIME with switchless: serves EIMG_ECALL_SWITCHLESS (inline
	 * messages, reversed; no log ocall, as a release enclave) */
	bool switchless;
	uint8_t *swl_ring;         /* the ring pair of the call in progress */
	uint32_t swl_tail, swl_head;
	unsigned msg_enters, swl_messages, swl_idles, swl_bells;
};

static struct fake_sgx *fake_cur; /* the vDSO function has no context argument */

static void fake_default(struct fake_sgx *f)
{
	memset(f, 0, sizeof(*f));
	f->device = f->cpu_sgx = f->cpu_flc = f->kernel_sgx = f->kernel_sgx_lc = true;
	f->epc_bytes = 64ull << 20;
	f->xfrm_allowed = 0x3 | 0x4 | 0x60000; /* x87 SSE AVX AMX */
	f->misc_allowed = 0x1;
	fake_cur = f;
}

static void fake_release(struct fake_sgx *f)
{
	eimg_hash_free(f->h);
	f->h = NULL;
	free(f->pages);
	f->pages = NULL;
}

/* ---- the CPU's description of itself ---- */
static void fake_cpuid(void *ctx, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	struct fake_sgx *f = ctx;
	out[0] = out[1] = out[2] = out[3] = 0;
	switch (leaf) {
	case 0:
		out[0] = 0x12;
		break;
	case 7:
		if (sub == 0) {
			out[1] = f->cpu_sgx ? 1u << 2 : 0;
			out[2] = f->cpu_flc ? 1u << 30 : 0;
		}
		break;
	case 0xd: /* XSAVE components: AVX 256 @ 576, AMX TILECFG 64 @ 2752, TILEDATA 8192 @ 2816 */
		if (sub == 2) { out[0] = 256; out[1] = 576; }
		if (sub == 17) { out[0] = 64; out[1] = 2752; }
		if (sub == 18) { out[0] = 8192; out[1] = 2816; }
		break;
	case 0x12:
		if (!f->cpu_sgx)
			break;
		if (sub == 0) {
			out[0] = 1;               /* SGX1 */
			out[1] = f->misc_allowed;
			out[3] = 0x2f00;          /* 2^47 max enclave size in 64-bit mode */
		} else if (sub == 1) {
			out[0] = 0x4f6;
			out[2] = (uint32_t)f->xfrm_allowed;
			out[3] = (uint32_t)(f->xfrm_allowed >> 32);
		} else if (sub == 2 && f->epc_bytes) {
			out[0] = 0x80000000u | 1; /* type 1: an EPC section */
			out[1] = 0;
			out[2] = ((uint32_t)f->epc_bytes & 0xfffff000u) | 1;
			out[3] = (uint32_t)(f->epc_bytes >> 32) & 0xfffff;
		}
		break;
	default:
		break;
	}
}

static ssize_t fake_read_text(void *ctx, const char *path, char *buf, size_t size)
{
	struct fake_sgx *f = ctx;
	for (int node = 0; node < 2; node++) {
		char p[96];
		snprintf(p, sizeof(p), "/sys/devices/system/node/node%d/x86/sgx_total_bytes", node);
		if (strcmp(path, p) == 0 && f->sys_epc[node])
			return snprintf(buf, size, "%llu\n", (unsigned long long)f->sys_epc[node]);
	}
	if (strcmp(path, "/proc/cpuinfo") != 0) {
		errno = ENOENT;
		return -1;
	}
	int n = snprintf(buf, size, "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu vme de pse%s%s avx2\n"
			 "bugs\t\t: spectre_v1\n\nprocessor\t: 1\nflags\t\t: fpu sgx sgx_lc\n",
			 f->kernel_sgx ? " sgx" : "", f->kernel_sgx_lc ? " sgx_lc" : "");
	return n;
}

/* ---- the device node and the file system ---- */
static int fake_stat(void *ctx, const char *path, struct stat *st)
{
	struct fake_sgx *f = ctx;
	if (strcmp(path, EIMG_SGX_DEVICE) != 0 || !f->device) {
		errno = ENOENT;
		return -1;
	}
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0660;
	st->st_gid = 0;
	return 0;
}

static int fake_statvfs(void *ctx, const char *path, struct statvfs *st)
{
	struct fake_sgx *f = ctx;
	(void)path;
	memset(st, 0, sizeof(*st));
	st->f_flag = ST_NOSUID | (f->noexec ? ST_NOEXEC : 0);
	return 0;
}

static int fake_open(void *ctx, const char *path, int flags)
{
	struct fake_sgx *f = ctx;
	(void)flags;
	if (strcmp(path, EIMG_SGX_DEVICE) != 0 || !f->device) {
		errno = ENOENT;
		return -1;
	}
	if (f->perm_denied) {
		errno = EACCES;
		return -1;
	}
	if (f->fd_open) {
		errno = EBUSY; /* one enclave per test */
		return -1;
	}
	f->fd_open = true;
	return FAKE_FD;
}

static int fake_close(void *ctx, int fd)
{
	struct fake_sgx *f = ctx;
	if (fd != FAKE_FD || !f->fd_open) {
		errno = EBADF;
		return -1;
	}
	f->fd_open = false;
	return 0;
}

/* ---- the measurement, computed here as the CPU does ---- */
static void fake_record(struct fake_sgx *f, const char tag[8], uint64_t a, uint64_t b, bool b_is_u32_first)
{
	uint8_t rec[64];
	memset(rec, 0, sizeof(rec));
	memcpy(rec, tag, 8);
	if (b_is_u32_first) { /* ECREATE: SSAFRAMESIZE u32, SIZE u64 */
		for (int i = 0; i < 4; i++)
			rec[8 + i] = (uint8_t)(a >> (8 * i));
		for (int i = 0; i < 8; i++)
			rec[12 + i] = (uint8_t)(b >> (8 * i));
	} else { /* EADD: offset, SECINFO flags; EEXTEND: offset */
		for (int i = 0; i < 8; i++) {
			rec[8 + i] = (uint8_t)(a >> (8 * i));
			rec[16 + i] = (uint8_t)(b >> (8 * i));
		}
	}
	eimg_hash_update(f->h, rec, sizeof(rec));
}

static int fake_err(int e)
{
	errno = e;
	return -1;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint32_t fake_ssa_needed(uint64_t xfrm, uint32_t misc)
{
	/* the fake CPU's own table (see fake_cpuid leaf 0xd) */
	uint64_t need = 4096;
	static const struct { unsigned bit; uint64_t end; } comp[] = { { 2, 576 + 256 }, { 17, 2752 + 64 }, { 18, 2816 + 8192 } };
	for (size_t i = 0; i < 3; i++)
		if (xfrm & (1ull << comp[i].bit)) {
			uint64_t s = comp[i].end + 184 + ((misc & 1) ? 16 : 0);
			if (s > need)
				need = s;
		}
	return (uint32_t)((need + 4095) / 4096);
}

static int fake_create(struct fake_sgx *f, const struct eimg_sgx_create *c)
{
	const uint8_t *secs = (const uint8_t *)(uintptr_t)c->src;
	if (f->created)
		return fake_err(EINVAL);
	uint64_t size = rd64(secs), base = rd64(secs + 8), attr = rd64(secs + 48), xfrm = rd64(secs + 56);
	uint32_t ssa = (uint32_t)rd64(secs + 16), misc = (uint32_t)(rd64(secs + 16) >> 32);
	if (size < 8192 || (size & (size - 1)) || size > (1ull << 30) || (base & (size - 1)))
		return fake_err(EINVAL);
	if (!(attr & 0x4) || (attr & 0x1) || (attr & ~0x4f7ull))
		return fake_err(EINVAL);
	if ((xfrm & 3) != 3 || (xfrm & ~f->xfrm_allowed) || (misc & ~f->misc_allowed))
		return fake_err(EINVAL);
	if (ssa == 0 || ssa < fake_ssa_needed(xfrm, misc))
		return fake_err(EINVAL);
	f->h = eimg_hash_new(EIMG_SHA256);
	f->pages = calloc(size / 4096, sizeof(*f->pages));
	if (!f->h || !f->pages)
		return fake_err(ENOMEM);
	f->size = size;
	f->base = base;
	f->attributes = attr;
	f->xfrm = xfrm;
	f->ssa = ssa;
	f->misc = misc;
	fake_record(f, "ECREATE\0", ssa, size, true);
	f->created = true;
	return 0;
}

static int fake_add_pages(struct fake_sgx *f, struct eimg_sgx_add_pages *a)
{
	f->add_calls++;
	a->count = 0;
	if (!f->created || f->initialized)
		return fake_err(EINVAL);
	if (a->src % 4096 || a->offset % 4096 || a->length % 4096 || a->length == 0 ||
	    a->offset + a->length < a->offset || a->offset + a->length > f->size)
		return fake_err(EINVAL);
	const uint8_t *si = (const uint8_t *)(uintptr_t)a->secinfo;
	uint64_t flags = rd64(si), perm = flags & 7, type = flags & 0xff00;
	if (type != 0x200 && type != 0x100)
		return fake_err(EINVAL);
	if ((perm & 2) && !(perm & 1))
		return fake_err(EINVAL);           /* W without R */
	if (type == 0x100 && perm)
		return fake_err(EINVAL);           /* TCS pages carry no permissions */
	if (flags & ~0xff07ull)
		return fake_err(EINVAL);
	for (int i = 8; i < 64; i++)
		if (si[i])
			return fake_err(EINVAL);
	if (a->flags & ~EIMG_SGX_PAGE_MEASURE)
		return fake_err(EINVAL);
	if (f->eintr_calls) {
		f->eintr_calls--;
		f->eintr_returned++;
		return fake_err(EINTR);            /* -ERESTARTSYS with nothing added */
	}
	uint64_t c;
	for (c = 0; c < a->length; c += 4096) {
		if (f->partial_period && c > 0 && f->since_partial >= f->partial_period) {
			f->since_partial = 0;
			f->partial_returned++;
			break;                     /* signal pending: return what was added */
		}
		uint64_t off = a->offset + c;
		if (f->pages[off / 4096]) {
			a->count = c;
			return fake_err(EBUSY);
		}
		if ((f->epc_pages_free && f->npages_added >= f->epc_pages_free) ||
		    ((f->npages_added + 2) * 4096 > f->epc_bytes && f->epc_bytes)) {
			a->count = c;
			return fake_err(ENOMEM);
		}
		const uint8_t *src = (const uint8_t *)(uintptr_t)(a->src + c);
		fake_record(f, "EADD\0\0\0\0", off, flags, false);
		if (a->flags & EIMG_SGX_PAGE_MEASURE) {
			for (uint64_t k = 0; k < 4096; k += 256) {
				fake_record(f, "EEXTEND\0", off + k, 0, false);
				eimg_hash_update(f->h, src + k, 256);
			}
			f->nmeasured++;
		}
		f->pages[off / 4096] = (uint16_t)(0x8000 | flags);
		f->npages_added++;
		f->since_partial++;
	}
	a->count = c;
	return 0;
}

static int fake_init(struct fake_sgx *f, const struct eimg_sgx_init *in)
{
	static const uint8_t header[12] = { 6, 0, 0, 0, 0xe1, 0, 0, 0, 0, 0, 1, 0 };
	static const uint8_t header2[16] = { 1, 1, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 1, 0, 0, 0 };
	const uint8_t *ss = (const uint8_t *)(uintptr_t)in->sigstruct;
	uint32_t vendor = (uint32_t)rd64(ss + 16);
	f->init_errno = 0;
	if (!f->created || f->initialized)
		return fake_err(f->init_errno = EINVAL);
	if (vendor != 0 && vendor != 0x8086)
		return fake_err(f->init_errno = EINVAL);
	uint8_t md[32];
	eimg_hash_final(f->h, md);
	memcpy(f->mrenclave, md, 32);
	bool ok = memcmp(ss, header, 12) == 0 && memcmp(ss + 24, header2, 16) == 0;
	ok = ok && eimg_sigstruct_verify(ss, "fake EINIT", NULL) == EIMG_OK;
	ok = ok && memcmp(ss + 960, f->mrenclave, 32) == 0;
	uint64_t sattr = rd64(ss + 928), sxfrm = rd64(ss + 936), mattr = rd64(ss + 944), mxfrm = rd64(ss + 952);
	uint32_t smisc = (uint32_t)rd64(ss + 900), mmisc = (uint32_t)(rd64(ss + 900) >> 32);
	ok = ok && (f->attributes & mattr) == (sattr & mattr) && (f->xfrm & mxfrm) == (sxfrm & mxfrm) &&
	     (f->misc & mmisc) == (smisc & mmisc);
	if (!ok)
		return fake_err(f->init_errno = EPERM);
	eimg_sha256(ss + 128, 384, f->mrsigner);
	f->initialized = true;
	return 0;
}

static int fake_ioctl(void *ctx, int fd, unsigned long req, void *arg)
{
	struct fake_sgx *f = ctx;
	if (fd != FAKE_FD || !f->fd_open)
		return fake_err(EBADF);
	if (req == EIMG_SGX_IOC_CREATE)
		return fake_create(f, arg);
	if (req == EIMG_SGX_IOC_ADD_PAGES)
		return fake_add_pages(f, arg);
	if (req == EIMG_SGX_IOC_INIT)
		return fake_init(f, arg);
	return fake_err(ENOTTY);
}

static void *fake_mmap(void *ctx, void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	struct fake_sgx *f = ctx;
	if (fd < 0)
		return mmap(addr, len, prot, flags, fd, off);
	if (fd != FAKE_FD || !f->fd_open || !f->created) {
		errno = EBADF;
		return MAP_FAILED;
	}
	uintptr_t a = (uintptr_t)addr;
	if (!(flags & MAP_SHARED) || a % 4096 || len % 4096 || a < f->base || a + len > f->base + f->size) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	if ((prot & PROT_EXEC) && f->noexec) {
		errno = EPERM;
		return MAP_FAILED;
	}
	for (uintptr_t p = a; p < a + len; p += 4096) {
		uint16_t pg = f->pages[(p - f->base) / 4096];
		if (!pg)
			continue;
		int max = (pg & 0x7f00) == 0x100 ? (PROT_READ | PROT_WRITE)
						 : ((pg & 1) ? PROT_READ : 0) | ((pg & 2) ? PROT_WRITE : 0) |
						   ((pg & 4) ? PROT_EXEC : 0);
		if (prot & ~max) {
			errno = EACCES;
			return MAP_FAILED;
		}
	}
	void *r = mmap(addr, len, prot, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r != MAP_FAILED && f->nmaps < FAKE_MAX_MAPS) {
		f->maps[f->nmaps].addr = a;
		f->maps[f->nmaps].len = len;
		f->maps[f->nmaps].prot = prot;
		f->nmaps++;
	}
	return r;
}

static int fake_munmap(void *ctx, void *addr, size_t len)
{
	(void)ctx;
	return munmap(addr, len);
}

/* ---- switchless calls as the runtime serves them (enclave_abi.h) ---- */
static uint32_t fake_ld(const uint8_t *p) { return __atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE); }
static void fake_st(uint8_t *p, uint32_t v) { __atomic_store_n((uint32_t *)p, v, __ATOMIC_RELEASE); }

/* Runs until the next exit: an ocall (IDLE, BELL) or the return. */
static void fake_swl(struct fake_sgx *f, long *ordi, long *orsi, long *ordx)
{
	uint8_t *req = f->swl_ring, *rep = req + EIMG_SWL_RING_SIZE;
	*ordi = 1;   /* return, unless an ocall below */
	*ordx = 0;
	for (unsigned spin = 0;;) {
		uint32_t used = fake_ld(req + EIMG_SWL_HEAD) - f->swl_tail;
		if (used > EIMG_SWL_SLOTS) {
			*orsi = EIMG_ECALL_EBADBUF;
			return;
		}
		if (!used) {
			if (spin++ < 20000)
				continue;
			fake_st(req + EIMG_SWL_SLEEPING, 1);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (fake_ld(req + EIMG_SWL_HEAD) != f->swl_tail)
				continue;
			f->swl_idles++;
			*ordi = 2;
			*orsi = EIMG_OCALL_IDLE;
			return;
		}
		uint8_t *in = req + EIMG_SWL_SLOT0 + (f->swl_tail % EIMG_SWL_SLOTS) * EIMG_SWL_SLOT;
		uint32_t len = fake_ld(in), tag = fake_ld(in + 4);
		if (tag == EIMG_SWL_STOP || tag != EIMG_SWL_INLINE || len > EIMG_SWL_SLOT_MAX) {
			fake_st(req + EIMG_SWL_TAIL, ++f->swl_tail);
			*orsi = tag == EIMG_SWL_STOP ? EIMG_ECALL_OK : EIMG_ECALL_EBADBUF;
			return;
		}
		uint8_t *out = rep + EIMG_SWL_SLOT0 + (f->swl_head % EIMG_SWL_SLOTS) * EIMG_SWL_SLOT;
		for (uint32_t i = 0; i < len; i++)
			out[8 + i] = in[8 + len - 1 - i];
		fake_st(out, len);
		fake_st(out + 4, EIMG_ECALL_OK);
		fake_st(req + EIMG_SWL_TAIL, ++f->swl_tail);
		fake_st(rep + EIMG_SWL_HEAD, ++f->swl_head);
		f->swl_messages++;
		spin = 0;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_exchange_n((uint32_t *)(rep + EIMG_SWL_SLEEPING), 0, __ATOMIC_ACQ_REL)) {
			f->swl_bells++;
			*ordi = 2;
			*orsi = EIMG_OCALL_BELL;
			return;
		}
	}
}

/* ---- the vDSO ---- */
static int fake_enter(unsigned long rdi, unsigned long rsi, unsigned long rdx, unsigned int function,
		      unsigned long r8, unsigned long r9, struct eimg_sgx_run *run)
{
	struct fake_sgx *f = fake_cur;
	if (function != EIMG_ENCLU_EENTER && function != EIMG_ENCLU_ERESUME)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(run->reserved); i++)
		if (run->reserved[i])
			return -EINVAL;
	eimg_sgx_user_handler handler = (eimg_sgx_user_handler)(uintptr_t)run->user_handler;
	uint64_t tcs = run->tcs;
	bool tcs_ok = f->initialized && tcs % 4096 == 0 && tcs >= f->base && tcs < f->base + f->size &&
		      (f->pages[(tcs - f->base) / 4096] & 0x7f00) == 0x100;
	long ordi = 0, orsi = 0, ordx = 0;
	if (!tcs_ok) {
		run->function = function;
		run->exception_vector = 13; /* #GP: EENTER on something that is not a TCS */
		run->exception_error_code = 0;
		run->exception_addr = 0;
	} else if (f->enter_mode == FAKE_FAULT) {
		f->enters++;
		f->last_tcs = tcs;
		run->function = EIMG_ENCLU_ERESUME; /* AEX: the vDSO's AEP is an ERESUME */
		run->exception_vector = 14;
		run->exception_error_code = 0x8007;
		run->exception_addr = f->base + 0x1000;
	} else if (f->enter_mode == FAKE_RUNTIME && f->switchless && (rdi == EIMG_ECALL_SWITCHLESS || f->swl_ring)) {
		f->enters++;
		f->last_tcs = tcs;
		run->function = EIMG_ENCLU_EEXIT;
		if (rdi == EIMG_ECALL_SWITCHLESS) {
			f->swl_ring = (uint8_t *)rsi;
			f->swl_tail = fake_ld(f->swl_ring + EIMG_SWL_TAIL);
			f->swl_head = fake_ld(f->swl_ring + EIMG_SWL_RING_SIZE + EIMG_SWL_HEAD);
		} else {
			fake_st(f->swl_ring + EIMG_SWL_SLEEPING, 0);
		}
		if (rdi == EIMG_ECALL_RESUME && rsi != 0) {   /* the host ended an IDLE */
			ordi = 1;
			orsi = EIMG_ECALL_OK;
		} else {
			fake_swl(f, &ordi, &orsi, &ordx);
		}
		if (ordi == 1)
			f->swl_ring = NULL;
	} else if (f->enter_mode == FAKE_RUNTIME) {
		/* the runtime's ABI (enclave_abi.h): MESSAGE -> a log ocall -> RESUME -> reply reversed */
		f->enters++;
		f->last_tcs = tcs;
		run->function = EIMG_ENCLU_EEXIT;
		if (rdi == 1)
			f->msg_enters++;
		if (rdi == 1 && !f->pending) {
			f->msg_in = (const uint8_t *)rsi;
			f->msg_len = rdx;
			f->msg_out = (uint8_t *)r8;
			f->msg_cap = r9;
			f->pending = true;
			int n = snprintf((char *)f->msg_out, f->msg_cap, "got %zu bytes", f->msg_len);
			ordi = 2; /* EIMG_EEXIT_OCALL */
			orsi = 1; /* EIMG_OCALL_LOG */
			ordx = n;
		} else if (rdi == 2 && f->pending) {
			f->pending = false;
			ordi = 1;
			if (f->msg_len > f->msg_cap) {
				orsi = 3; /* ETOOBIG */
				ordx = (long)f->msg_len;
			} else {
				for (size_t i = 0; i < f->msg_len; i++)
					f->msg_out[i] = f->msg_in[f->msg_len - 1 - i];
				orsi = 0;
				ordx = (long)f->msg_len;
			}
		} else {
			ordi = 1;
			orsi = 5; /* EBADOP */
		}
	} else {
		f->enters++;
		f->last_tcs = tcs;
		run->function = EIMG_ENCLU_EEXIT;
		ordi = 1;                                   /* EIMG_EEXIT_RETURN */
		orsi = (long)rdi;                           /* echo the operation */
		ordx = (long)(rsi + 2 * rdx + 3 * r8 + 5 * r9);
	}
	if (!handler)
		return 0;
	int hr = handler(ordi, orsi, ordx, 0, (long)r8, (long)r9, run);
	return hr > 0 ? -EINVAL : hr;
}

static eimg_vdso_enter_fn fake_vdso_enter(void *ctx)
{
	struct fake_sgx *f = ctx;
	return f->no_vdso ? NULL : fake_enter;
}

static struct eimg_sgx_hw_ops fake_ops(struct fake_sgx *f)
{
	struct eimg_sgx_hw_ops o = {
		.ctx = f, .open = fake_open, .close = fake_close, .ioctl = fake_ioctl, .mmap = fake_mmap,
		.munmap = fake_munmap, .stat = fake_stat, .statvfs = fake_statvfs, .cpuid = fake_cpuid,
		.read_text = fake_read_text, .vdso_enter = fake_vdso_enter,
	};
	return o;
}
