/* SPDX-License-Identifier: Apache-2.0 */
/* SGX on hardware through the Linux in-kernel driver (/dev/sgx_enclave).
 * Model: ../shared/specs/sgx.md "Linux SGX driver"; API: eimg/sgx_hw.h.
 * Every system interaction goes through struct eimg_sgx_hw_ops so that the
 * tests can put a fake device (playing the CPU) behind it; the real system's
 * ops and the vDSO lookup are in sgx_hw_sys.c. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "eimg/enclave_abi.h"
#include "eimg/progress.h"
#include "eimg/sgxs.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "run/sgx_hw_int.h"
#include "run/sim_int.h"

#define PAGE ((uint64_t)EIMG_PAGE)
#define BATCH_PAGES 64           /* pages per ADD_PAGES call */
#define MAX_STALLED_EINTR 1000   /* EINTRs in a row without progress before giving up */

struct eimg_sgx_hw_enclave {
	const struct eimg_sgx_hw_ops *ops;
	int fd;
	uint64_t base, size;
	uint32_t threads;
	uint64_t *tcs;             /* offsets */
	eimg_vdso_enter_fn enter;
	eimg_ocall_fn ocall;       /* host services (sealing, state); NULL: none */
	void *ocall_ctx;
};

/* ---------------------------------------------------------------------------
 * Preflight
 * ------------------------------------------------------------------------- */

static void probe_cpu(const struct eimg_sgx_hw_ops *ops, struct eimg_sgx_hw_platform *p)
{
	uint32_t r[4] = { 0, 0, 0, 0 };
	ops->cpuid(ops->ctx, 0, 0, r);
	uint32_t max = r[0];
	bool sgx = false;
	if (max >= 7) {
		ops->cpuid(ops->ctx, 7, 0, r);
		sgx = (r[1] >> 2) & 1;
		p->cpu_flc = (r[2] >> 30) & 1;
	}
	if (sgx && max >= 0x12) {
		ops->cpuid(ops->ctx, 0x12, 0, r);
		p->cpu_sgx1 = r[0] & 1;
		p->cpu_sgx2 = (r[0] >> 1) & 1;
		p->misc_allowed = r[1];
		ops->cpuid(ops->ctx, 0x12, 1, r);
		p->xfrm_allowed = (uint64_t)r[2] | ((uint64_t)r[3] << 32);
		for (uint32_t sub = 2; sub < 34; sub++) {
			ops->cpuid(ops->ctx, 0x12, sub, r);
			uint32_t type = r[0] & 0xf;
			if (type == 0)
				break;
			if (type == 1)
				p->epc_bytes += (uint64_t)(r[2] & 0xfffff000u) | ((uint64_t)(r[3] & 0xfffffu) << 32);
		}
	}
}

/* Finds word as a whole space-separated token in the first "flags" line. */
static bool cpuinfo_flag(const char *text, const char *word)
{
	const char *line = strstr(text, "\nflags");
	if (!line && strncmp(text, "flags", 5) == 0)
		line = text;
	else if (line)
		line++;
	if (!line)
		return false;
	const char *colon = strchr(line, ':');
	const char *eol = strchr(line, '\n');
	if (!colon || (eol && colon > eol))
		return false;
	size_t wl = strlen(word);
	const char *p = colon + 1;
	const char *end = eol ? eol : p + strlen(p);
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *q = p;
		while (q < end && *q != ' ' && *q != '\t')
			q++;
		if ((size_t)(q - p) == wl && memcmp(p, word, wl) == 0)
			return true;
		p = q;
	}
	return false;
}

static void probe_cpuinfo(const struct eimg_sgx_hw_ops *ops, struct eimg_sgx_hw_platform *p)
{
	char *buf = malloc(65536);
	if (!buf)
		return;
	if (ops->read_text(ops->ctx, "/proc/cpuinfo", buf, 65536) >= 0) {
		p->kernel_sgx = cpuinfo_flag(buf, "sgx");
		p->kernel_sgx_lc = cpuinfo_flag(buf, "sgx_lc");
	}
	free(buf);
	/* Where CPUID says nothing (a hypervisor may hide leaf 0x12), the
	 * kernel's per-node EPC totals (Linux 6.0+). */
	if (p->epc_bytes == 0) {
		for (unsigned node = 0; node < 64; node++) {
			char path[96], num[32];
			snprintf(path, sizeof(path), "/sys/devices/system/node/node%u/x86/sgx_total_bytes", node);
			if (ops->read_text(ops->ctx, path, num, sizeof(num)) <= 0)
				continue;
			char *end;
			unsigned long long v = strtoull(num, &end, 10);
			if (end != num && (*end == '\n' || *end == '\0'))
				p->epc_bytes += v;
		}
	}
}

#define WHY_NO_FLC "the CPU has SGX but no Flexible Launch Control (CPUID leaf 7 ECX bit 30, sgx_lc): the " \
	"Linux driver runs enclaves only on FLC CPUs; use another machine or the simulation backend"

static int no_device(const struct eimg_sgx_hw_platform *p, eimg_error *err)
{
	const char *why;
	/* The kernel's view (/proc/cpuinfo) first: CPUID may be filtered by a
	 * hypervisor. */
	if (p->kernel_sgx && p->kernel_sgx_lc)
		why = "the kernel has SGX but the device node is missing: in a container pass it through "
		      "(docker run --device /dev/sgx_enclave), else check that devtmpfs is mounted on /dev";
	else if (p->kernel_sgx && p->cpu_sgx1 && !p->cpu_flc)
		why = WHY_NO_FLC;
	else if (p->kernel_sgx)
		why = "the firmware locked launch control (no \"sgx_lc\" flag in /proc/cpuinfo): set SGX launch "
		      "control to unlocked (FLC) in the firmware setup";
	else if (!p->cpu_sgx1)
		why = "the CPU does not report SGX (CPUID leaf 7 EBX bit 2 or leaf 0x12 SGX1 clear): this machine "
		      "has no SGX, or SGX is disabled in the firmware setup; use the simulation backend";
	else if (!p->cpu_flc)
		why = WHY_NO_FLC;
	else
		why = "the CPU has SGX with Flexible Launch Control but the kernel did not enable it (no \"sgx\" flag "
		      "in /proc/cpuinfo): Linux older than 5.11, a kernel without CONFIG_X86_SGX, or SGX disabled "
		      "in the firmware setup";
	return eimg_err(err, EIMG_EUNSUPPORTED, EIMG_SGX_DEVICE, "no such device: %s", why);
}

static int permission_denied(const struct stat *st, int e, eimg_error *err)
{
	char gname[64] = "";
	struct group gr, *res = NULL;
	char buf[1024];
	if (getgrgid_r(st->st_gid, &gr, buf, sizeof(buf), &res) == 0 && res && res->gr_name)
		snprintf(gname, sizeof(gname), "%s", res->gr_name);
	int rc = eimg_err(err, EIMG_EIO, EIMG_SGX_DEVICE,
			  "permission denied: the device is mode %04o, group %s%s%u%s; add your user to that group "
			  "(usermod -aG %s $USER, usually the group \"sgx\") and log in again",
			  (unsigned)(st->st_mode & 07777), gname[0] ? gname : "", gname[0] ? " (gid " : "gid ",
			  (unsigned)st->st_gid, gname[0] ? ")" : "", gname[0] ? gname : "<group>");
	if (err)
		err->sys_errno = e;
	return rc;
}

static int noexec_error(eimg_error *err)
{
	return eimg_err(err, EIMG_EUNSUPPORTED, EIMG_SGX_DEVICE,
			"/dev is mounted noexec, so enclave code cannot be mapped executable: remount it with exec "
			"(mount -o remount,exec /dev), or in a container mount the device without noexec");
}

int eimg_sgx_hw_preflight_ops(const struct eimg_sgx_hw_ops *ops, uint64_t epc_bytes,
			      struct eimg_sgx_hw_platform *info, eimg_error *err)
{
	struct eimg_sgx_hw_platform p;
	struct stat st;
	struct statvfs sv;
	int rc = EIMG_OK;

	memset(&p, 0, sizeof(p));
	probe_cpu(ops, &p);
	probe_cpuinfo(ops, &p);
	if (ops->stat(ops->ctx, EIMG_SGX_DEVICE, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = no_device(&p, err);
		else
			rc = eimg_err_sys(err, EIMG_SGX_DEVICE, "cannot inspect the SGX device");
		goto out;
	}
	p.device = true;
	if (!S_ISCHR(st.st_mode)) {
		rc = eimg_err(err, EIMG_EUNSUPPORTED, EIMG_SGX_DEVICE, "is not a character device");
		goto out;
	}
	int fd = ops->open(ops->ctx, EIMG_SGX_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == EACCES || errno == EPERM)
			rc = permission_denied(&st, errno, err);
		else
			rc = eimg_err_sys(err, EIMG_SGX_DEVICE, "cannot open the SGX device");
		goto out;
	}
	ops->close(ops->ctx, fd);
	if (ops->statvfs(ops->ctx, EIMG_SGX_DEVICE, &sv) == 0 && (sv.f_flag & ST_NOEXEC)) {
		rc = noexec_error(err);
		goto out;
	}
	if (p.cpu_sgx1 && !p.cpu_flc) {
		rc = eimg_err(err, EIMG_EUNSUPPORTED, EIMG_SGX_DEVICE, "%s", WHY_NO_FLC);
		goto out;
	}
	if (epc_bytes && p.epc_bytes && epc_bytes > p.epc_bytes) {
		rc = eimg_err(err, EIMG_EUNSUPPORTED, EIMG_SGX_DEVICE,
			      "the enclave needs %" PRIu64 " KiB of EPC but this platform has %" PRIu64
			      " KiB in all (CPUID leaf 0x12): reduce heap_size, stack_size or threads in the "
			      "manifest, or use a machine with more EPC",
			      epc_bytes >> 10, p.epc_bytes >> 10);
		goto out;
	}
out:
	if (info)
		*info = p;
	return rc;
}

int eimg_sgx_hw_preflight(uint64_t epc_bytes, struct eimg_sgx_hw_platform *info, eimg_error *err)
{
	return eimg_sgx_hw_preflight_ops(eimg_sgx_hw_sys_ops(), epc_bytes, info, err);
}

/* ---------------------------------------------------------------------------
 * Loading
 * ------------------------------------------------------------------------- */

uint32_t eimg_sgx_ssa_pages_needed(const struct eimg_sgx_hw_ops *ops, uint64_t xfrm, uint32_t miscselect)
{
	/* The frame holds the XSAVE area at its start and the 184-byte GPR area
	 * (with EXINFO below it when miscselect bit 0) at its end. */
	uint64_t need = 512 + 64 + 184 + ((miscselect & 1) ? 16 : 0);
	for (unsigned i = 2; i < 64; i++) {
		if (!(xfrm & (1ull << i)))
			continue;
		uint32_t r[4] = { 0, 0, 0, 0 };
		ops->cpuid(ops->ctx, 0xd, i, r);
		if (r[0] == 0)
			return 0; /* the CPU does not describe this component */
		uint64_t end = (uint64_t)r[0] + r[1] + 184 + ((miscselect & 1) ? 16 : 0);
		if (end > need)
			need = end;
	}
	return (uint32_t)((need + PAGE - 1) / PAGE);
}

static const char *region_name(int kind)
{
	switch (kind) {
	case EIMG_REGION_ELF: return "ELF segment";
	case EIMG_REGION_INFO: return "info";
	case EIMG_REGION_HEAP: return "heap";
	case EIMG_REGION_STACK: return "stack";
	case EIMG_REGION_TCS: return "TCS";
	case EIMG_REGION_TLS: return "thread data";
	case EIMG_REGION_SSA: return "SSA";
	default: return "region";
	}
}

static int region_prot(uint64_t secinfo)
{
	if ((secinfo & 0xff00) == EIMG_SECINFO_TCS)
		return PROT_READ | PROT_WRITE; /* what the driver allows for TCS pages */
	int prot = 0;
	if (secinfo & EIMG_SECINFO_R)
		prot |= PROT_READ;
	if (secinfo & EIMG_SECINFO_W)
		prot |= PROT_WRITE;
	if (secinfo & EIMG_SECINFO_X)
		prot |= PROT_EXEC;
	return prot;
}

/* Adds one region in batches, resuming after EINTR or a partial count. */
static int add_region(const struct eimg_sgx_hw_ops *ops, int fd, const struct eimg_region *r, uint8_t *buf,
		      struct eimg_progress *p, eimg_error *err)
{
	_Alignas(64) uint8_t secinfo[EIMG_SECINFO_BYTES];
	memset(secinfo, 0, sizeof(secinfo));
	eimg_le64(secinfo, r->secinfo);
	uint64_t npages = r->size / PAGE;
	for (uint64_t i = 0; i < npages; i += BATCH_PAGES) {
		uint64_t n = npages - i < BATCH_PAGES ? npages - i : BATCH_PAGES;
		for (uint64_t j = 0; j < n; j++)
			eimg_region_page(r, i + j, buf + j * PAGE);
		uint64_t len = n * PAGE, done = 0;
		unsigned stalled = 0;
		while (done < len) {
			struct eimg_sgx_add_pages a = {
				.src = (uint64_t)(uintptr_t)(buf + done),
				.offset = r->offset + i * PAGE + done,
				.length = len - done,
				.secinfo = (uint64_t)(uintptr_t)secinfo,
				.flags = r->measured ? EIMG_SGX_PAGE_MEASURE : 0,
				.count = 0,
			};
			int rc = ops->ioctl(ops->ctx, fd, EIMG_SGX_IOC_ADD_PAGES, &a);
			int e = errno;
			if (a.count > a.length || a.count % PAGE)
				return eimg_err(err, EIMG_EINTERNAL, EIMG_SGX_DEVICE,
						"ADD_PAGES reported %" PRIu64 " bytes added of %" PRIu64, a.count, a.length);
			done += a.count;
			if (rc == 0 && a.count == 0)
				return eimg_err(err, EIMG_EIO, EIMG_SGX_DEVICE, "ADD_PAGES made no progress");
			if (rc < 0) {
				if (e == EINTR || e == EAGAIN) {
					stalled = a.count ? 0 : stalled + 1;
					if (stalled < MAX_STALLED_EINTR)
						continue;
				}
				errno = e;
				if (e == ENOMEM)
					return eimg_err_sys(err, EIMG_SGX_DEVICE,
							    "out of EPC adding the %s page at offset 0x%" PRIx64,
							    region_name(r->kind), a.offset + a.count);
				return eimg_err_sys(err, EIMG_SGX_DEVICE,
						    "the driver refused the %s pages at offset 0x%" PRIx64
						    " (SECINFO 0x%" PRIx64 ")",
						    region_name(r->kind), a.offset + a.count, r->secinfo);
			}
			stalled = 0;
		}
		eimg_progress_add(p, len);
	}
	return EIMG_OK;
}

/* After EINIT refused the SIGSTRUCT: find out why, for the message. */
static int einit_refused(const eimg_layout *l, const uint8_t *ss, const struct eimg_sigstruct *s,
			 uint64_t flags, uint64_t xfrm, uint32_t misc, eimg_error *err)
{
	eimg_error e2;
	uint8_t mr[32];
	char a[65], b[65];
	eimg_error_clear(&e2);
	if (eimg_sigstruct_verify(ss, "SIGSTRUCT", &e2) != EIMG_OK)
		return eimg_err(err, EIMG_EVERIFY, NULL, "the CPU refused the SIGSTRUCT (EINIT): %s", e2.msg);
	if (eimg_sgx_mrenclave(l, mr, &e2) == EIMG_OK && memcmp(mr, s->enclavehash, 32) != 0)
		return eimg_err(err, EIMG_EVERIFY, NULL,
				"the CPU refused the SIGSTRUCT (EINIT): it signs MRENCLAVE %s but the enclave "
				"measures %s (the image or its signature was altered, or they come from different builds)",
				eimg_hex(s->enclavehash, 32, a), eimg_hex(mr, 32, b));
	if ((flags & s->mask_flags) != (s->attr_flags & s->mask_flags))
		return eimg_err(err, EIMG_EVERIFY, NULL,
				"the CPU refused the SIGSTRUCT (EINIT): the launch attributes 0x%" PRIx64
				" differ from the signed 0x%" PRIx64 " under the mask 0x%" PRIx64,
				flags, s->attr_flags, s->mask_flags);
	if ((xfrm & s->mask_xfrm) != (s->attr_xfrm & s->mask_xfrm) ||
	    (misc & s->miscmask) != (s->miscselect & s->miscmask))
		return eimg_err(err, EIMG_EVERIFY, NULL,
				"the CPU refused the SIGSTRUCT (EINIT): XFRM or MISCSELECT differ from the signed values");
	return eimg_err(err, EIMG_EVERIFY, NULL,
			"the CPU refused the SIGSTRUCT (EINIT) although its signature, MRENCLAVE and attributes "
			"check out: the platform's launch policy may refuse this signer");
}

/* What the SECS gets: the signed attributes, DEBUG as asked. */
struct launch {
	struct eimg_sigstruct s;
	uint64_t flags, xfrm;
	uint32_t misc;
};

/* The arguments, the layout and the signature's attributes, checked. */
static int check_launch(const eimg_layout *l, const uint8_t *sigstruct, bool debug_launch, struct launch *la,
			eimg_error *err)
{
	const struct eimg_sigstruct *s = &la->s;
	int rc;

	if (l->size < 2 * PAGE || (l->size & (l->size - 1)) || l->size > EIMG_MAX_ENCLAVE_SIZE || l->threads == 0)
		return eimg_err(err, EIMG_EINVAL, NULL, "SGX load: invalid layout (size 0x%" PRIx64 ")", l->size);
	if (l->mode != EIMG_MODE_HARDWARE)
		return eimg_err(err, EIMG_EUSAGE, NULL,
				"the image was built for %s (manifest mode), not for SGX hardware: rebuild it with "
				"mode: hardware, or run it with the simulation backend", eimg_mode_name(l->mode));
	if ((rc = eimg_sigstruct_decode("SIGSTRUCT", sigstruct, EIMG_SIGSTRUCT_SIZE, &la->s, err)))
		return rc;

	/* SECS attributes: the signed ones, DEBUG as the operator asks and the signature allows. */
	uint64_t flags = s->attr_flags & ~EIMG_ATTR_INIT;
	if (debug_launch && !eimg_sigstruct_debug_allowed(s))
		return eimg_err(err, EIMG_EUSAGE, NULL,
				"the signature does not allow a debug launch (DEBUG is in its attribute mask and "
				"clear): launch without debug, or sign with sgx.debug: true");
	if (!debug_launch && !eimg_sigstruct_production_allowed(s))
		return eimg_err(err, EIMG_EUSAGE, NULL,
				"the signature allows only debug launches (DEBUG is in its attribute mask and set): "
				"ask for a debug launch, or sign for production");
	flags = debug_launch ? (flags | EIMG_ATTR_DEBUG) : (flags & ~EIMG_ATTR_DEBUG);
	if (!(flags & EIMG_ATTR_MODE64BIT))
		return eimg_err(err, EIMG_EINVAL, NULL,
				"the signature's attributes (0x%" PRIx64 ") lack MODE64BIT: it is not for a 64-bit enclave",
				s->attr_flags);
	if (flags & (EIMG_ATTR_PROVISIONKEY | EIMG_ATTR_EINITTOKENKEY))
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL,
				"the signature asks for the provisioning or launch-token key (attributes 0x%" PRIx64
				"): this loader does not grant them", s->attr_flags);
	if (flags & ~EIMG_SGX_ATTR_KNOWN)
		return eimg_err(err, EIMG_EINVAL, NULL, "the signature sets unknown attribute bits 0x%" PRIx64,
				(uint64_t)(flags & ~EIMG_SGX_ATTR_KNOWN));
	la->flags = flags;
	la->xfrm = s->attr_xfrm;
	la->misc = s->miscselect;
	if ((la->xfrm & 3) != 3)
		return eimg_err(err, EIMG_EINVAL, NULL, "the signature's XFRM 0x%" PRIx64 " lacks x87 and SSE (0x3)",
				la->xfrm);
	return EIMG_OK;
}

/* The platform, with actionable messages: EPC, XFRM, MISCSELECT, SSA size. */
static int check_platform(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l, const struct launch *la,
			  eimg_error *err)
{
	struct eimg_sgx_hw_platform plat;
	uint64_t epc_need, xfrm = la->xfrm;
	uint32_t misc = la->misc;
	int rc;

	if (eimg_mul_overflow(l->npages + 1, PAGE, &epc_need))
		return eimg_err(err, EIMG_EINVAL, NULL, "SGX load: invalid layout (page count)");
	if ((rc = eimg_sgx_hw_preflight_ops(ops, epc_need, &plat, err)))
		return rc;
	if (!plat.cpu_sgx1)
		return EIMG_OK;
	if (xfrm & ~plat.xfrm_allowed)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL,
				"the signature's XFRM 0x%" PRIx64 " uses CPU state components this platform "
				"does not offer to enclaves (0x%" PRIx64 ")", xfrm, plat.xfrm_allowed);
	if (misc & ~plat.misc_allowed)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL,
				"the signature's MISCSELECT 0x%" PRIx32 " is not supported here (0x%" PRIx32 ")",
				misc, plat.misc_allowed);
	uint32_t ssa = eimg_sgx_ssa_pages_needed(ops, xfrm, misc);
	if (ssa > l->ssa_frame_size)
		return eimg_err(err, EIMG_EINVAL, NULL,
				"an SSA frame of %" PRIu32 " page(s) is too small for XFRM 0x%" PRIx64
				" on this CPU: it needs %" PRIu32 "; set sgx.ssa_frame_size in the manifest",
				l->ssa_frame_size, xfrm, ssa);
	return EIMG_OK;
}

/* The handle: its TCS offsets, the vDSO entry and the open device. */
static int open_enclave(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l, eimg_sgx_hw_enclave *e,
			eimg_error *err)
{
	e->ops = ops;
	e->fd = -1;
	e->size = l->size;
	e->threads = l->threads;
	e->tcs = calloc(l->threads, sizeof(*e->tcs));
	if (!e->tcs)
		return eimg_err_nomem(err);
	memcpy(e->tcs, l->tcs_offsets, l->threads * sizeof(*e->tcs));
	e->enter = ops->vdso_enter(ops->ctx);
	if (!e->enter)
		return eimg_err(err, EIMG_EUNSUPPORTED, NULL,
				"the kernel's vDSO has no __vdso_sgx_enter_enclave (Linux 5.11 or later is needed)");
	e->fd = ops->open(ops->ctx, EIMG_SGX_DEVICE, O_RDWR | O_CLOEXEC);
	if (e->fd < 0)
		return eimg_err_sys(err, EIMG_SGX_DEVICE, "cannot open the SGX device");
	return EIMG_OK;
}

/* Reserve twice the size, keep the size-aligned middle as e->base. */
static int reserve_range(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l, eimg_sgx_hw_enclave *e,
			 eimg_error *err)
{
	size_t area_len = (size_t)l->size * 2;
	void *area = ops->mmap(ops->ctx, NULL, area_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED)
		return eimg_err_sys(err, NULL, "cannot reserve %" PRIu64 " MiB of address space for the enclave",
				    (l->size * 2) >> 20);
	uintptr_t a0 = (uintptr_t)area;
	e->base = (a0 + l->size - 1) & ~(uintptr_t)(l->size - 1);
	if (e->base > a0)
		ops->munmap(ops->ctx, area, e->base - a0);
	if (a0 + area_len > e->base + l->size)
		ops->munmap(ops->ctx, (void *)(uintptr_t)(e->base + l->size), a0 + area_len - (e->base + l->size));
	return EIMG_OK; /* the enclave range is now e->base .. +size */
}

/* ECREATE with the SECS (secs: one page-aligned page). */
static int ecreate(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l, const eimg_sgx_hw_enclave *e,
		   const struct launch *la, uint8_t *secs, eimg_error *err)
{
	memset(secs, 0, PAGE);
	eimg_le64(secs + EIMG_SECS_SIZE, l->size);
	eimg_le64(secs + EIMG_SECS_BASE, e->base);
	eimg_le32(secs + EIMG_SECS_SSAFRAME, l->ssa_frame_size);
	eimg_le32(secs + EIMG_SECS_MISCSELECT, la->misc);
	eimg_le64(secs + EIMG_SECS_ATTRIBUTES, la->flags);
	eimg_le64(secs + EIMG_SECS_XFRM, la->xfrm);
	struct eimg_sgx_create c = { .src = (uint64_t)(uintptr_t)secs };
	if (ops->ioctl(ops->ctx, e->fd, EIMG_SGX_IOC_CREATE, &c) < 0)
		return eimg_err_sys(err, EIMG_SGX_DEVICE,
				    "ECREATE refused (size 0x%" PRIx64 ", SSA frame %" PRIu32 " page(s), attributes 0x%" PRIx64
				    ", XFRM 0x%" PRIx64 ", MISCSELECT 0x%" PRIx32 ")",
				    l->size, l->ssa_frame_size, la->flags, la->xfrm, la->misc);
	return EIMG_OK;
}

/* EINIT with the SIGSTRUCT (copied into buf, page-aligned). */
static int einit(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l, const eimg_sgx_hw_enclave *e,
		 const struct launch *la, const uint8_t *sigstruct, uint8_t *buf, eimg_error *err)
{
	memcpy(buf, sigstruct, EIMG_SIGSTRUCT_SIZE);
	struct eimg_sgx_init in = { .sigstruct = (uint64_t)(uintptr_t)buf };
	if (ops->ioctl(ops->ctx, e->fd, EIMG_SGX_IOC_INIT, &in) == 0)
		return EIMG_OK;
	int en = errno;
	if (en == EPERM)
		return einit_refused(l, sigstruct, &la->s, la->flags, la->xfrm, la->misc, err);
	errno = en;
	return eimg_err_sys(err, EIMG_SGX_DEVICE, "EINIT failed");
}

/* Map every region with its permissions. */
static int map_regions(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l, const eimg_sgx_hw_enclave *e,
		       eimg_error *err)
{
	for (size_t i = 0; i < l->nregions; i++) {
		const struct eimg_region *r = &l->regions[i];
		int prot = region_prot(r->secinfo);
		void *want = (void *)(uintptr_t)(e->base + r->offset);
		void *got = ops->mmap(ops->ctx, want, r->size, prot, MAP_SHARED | MAP_FIXED, e->fd, 0);
		if (got == MAP_FAILED || got != want) {
			int en = errno;
			struct statvfs sv;
			if ((prot & PROT_EXEC) && (en == EPERM || en == EACCES) &&
			    ops->statvfs(ops->ctx, EIMG_SGX_DEVICE, &sv) == 0 && (sv.f_flag & ST_NOEXEC))
				return noexec_error(err);
			errno = en;
			return eimg_err_sys(err, EIMG_SGX_DEVICE, "cannot map the %s pages at offset 0x%" PRIx64,
					    region_name(r->kind), r->offset);
		}
	}
	return EIMG_OK;
}

/* EADD + EEXTEND: the regions exactly as measured; p: "loading". */
static int add_regions(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l, int fd, uint8_t *buf,
		       struct eimg_progress *p, eimg_error *err)
{
	uint64_t total = 0;
	int rc = EIMG_OK;
	for (size_t i = 0; i < l->nregions; i++)
		total += l->regions[i].size;
	eimg_progress_begin(p, EIMG_LOAD_STEP_PLACING, total);
	for (size_t i = 0; i < l->nregions && rc == EIMG_OK; i++)
		rc = add_region(ops, fd, &l->regions[i], buf, p, err);
	if (rc == EIMG_OK)
		eimg_progress_end(p);
	return rc;
}

int eimg_sgx_hw_load_ops(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l,
			 const uint8_t sigstruct[1808], bool debug_launch, eimg_sgx_hw_enclave **out,
			 eimg_error *err)
{
	return eimg_sgx_hw_load_progress(ops, l, sigstruct, debug_launch, NULL, out, err);
}

int eimg_sgx_hw_load_progress(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l,
			      const uint8_t sigstruct[1808], bool debug_launch, struct eimg_progress *p,
			      eimg_sgx_hw_enclave **out, eimg_error *err)
{
	struct launch la;
	eimg_sgx_hw_enclave *e = NULL;
	uint8_t *secs = NULL, *buf = NULL;
	int rc;

	if (!ops || !l || !sigstruct || !out)
		return eimg_err(err, EIMG_EUSAGE, NULL, "SGX load: missing argument");
	if ((rc = check_launch(l, sigstruct, debug_launch, &la, err)) || (rc = check_platform(ops, l, &la, err)))
		return rc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return eimg_err_nomem(err);
	if ((rc = open_enclave(ops, l, e, err)) || (rc = reserve_range(ops, l, e, err)))
		goto fail;
	if (posix_memalign((void **)&secs, PAGE, PAGE) != 0 || posix_memalign((void **)&buf, PAGE, BATCH_PAGES * PAGE) != 0) {
		rc = eimg_err_nomem(err);
		goto fail;
	}
	if ((rc = ecreate(ops, l, e, &la, secs, err)))
		goto fail;
	if ((rc = add_regions(ops, l, e->fd, buf, p, err)))
		goto fail;
	if ((rc = einit(ops, l, e, &la, sigstruct, buf, err)) || (rc = map_regions(ops, l, e, err)))
		goto fail;
	free(secs);
	free(buf);
	*out = e;
	return EIMG_OK;
fail:
	if (buf)
		explicit_bzero(buf, BATCH_PAGES * PAGE);
	free(secs);
	free(buf);
	eimg_sgx_hw_unload(e);
	return rc;
}

int eimg_sgx_hw_load(const eimg_layout *l, const uint8_t sigstruct[1808], bool debug_launch,
		     eimg_sgx_hw_enclave **out, eimg_error *err)
{
	return eimg_sgx_hw_load_ops(eimg_sgx_hw_sys_ops(), l, sigstruct, debug_launch, out, err);
}

uint64_t eimg_sgx_hw_base(const eimg_sgx_hw_enclave *e)
{
	return e ? e->base : 0;
}

uint64_t eimg_sgx_hw_size(const eimg_sgx_hw_enclave *e)
{
	return e ? e->size : 0;
}

void eimg_sgx_hw_unload(eimg_sgx_hw_enclave *e)
{
	if (!e)
		return;
	if (e->base)
		e->ops->munmap(e->ops->ctx, (void *)(uintptr_t)e->base, e->size);
	if (e->fd >= 0)
		e->ops->close(e->ops->ctx, e->fd);
	free(e->tcs);
	free(e);
}

/* ---------------------------------------------------------------------------
 * Entering
 * ------------------------------------------------------------------------- */

/* Called by the vDSO on every return path with the registers at the exit. */
static int exit_handler(long rdi, long rsi, long rdx, long rsp, long r8, long r9, struct eimg_sgx_run *run)
{
	(void)rsp;
	(void)r8;
	(void)r9;
	struct eimg_sgx_hw_exit *x = (struct eimg_sgx_hw_exit *)(uintptr_t)run->user_data;
	if (run->function == EIMG_ENCLU_EEXIT) {
		x->rdi = (uint64_t)rdi;
		x->rsi = (uint64_t)rsi;
		x->rdx = (uint64_t)rdx;
	}
	return 0;
}

static const char *vector_name(unsigned v)
{
	static const char *const names[] = {
		"#DE (divide error)", "#DB (debug)", "NMI", "#BP (breakpoint)", "#OF (overflow)",
		"#BR (bound range)", "#UD (invalid opcode)", "#NM (device not available)",
		"#DF (double fault)", "coprocessor segment overrun", "#TS (invalid TSS)",
		"#NP (segment not present)", "#SS (stack fault)", "#GP (general protection)",
		"#PF (page fault)", "reserved", "#MF (x87 error)", "#AC (alignment check)",
		"#MC (machine check)", "#XM (SIMD floating point)", "#VE (virtualization)",
		"#CP (control protection)",
	};
	return v < sizeof(names) / sizeof(names[0]) ? names[v] : "exception";
}

int eimg_sgx_hw_enter(eimg_sgx_hw_enclave *e, uint32_t thread, const struct eimg_sgx_hw_call *in,
		      struct eimg_sgx_hw_exit *out, eimg_error *err)
{
	struct eimg_sgx_run run;
	struct eimg_sgx_hw_exit x;
	if (!e || !in || !out)
		return eimg_err(err, EIMG_EUSAGE, NULL, "SGX enter: missing argument");
	if (thread >= e->threads)
		return eimg_err(err, EIMG_EUSAGE, NULL, "SGX enter: thread %" PRIu32 " of %" PRIu32, thread, e->threads);
	memset(&run, 0, sizeof(run));
	memset(&x, 0, sizeof(x));
	run.tcs = e->base + e->tcs[thread];
	run.user_handler = (uint64_t)(uintptr_t)exit_handler;
	run.user_data = (uint64_t)(uintptr_t)&x;
	int rc = e->enter(in->rdi, in->rsi, in->rdx, EIMG_ENCLU_EENTER, in->r8, in->r9, &run);
	if (rc < 0)
		return eimg_err(err, EIMG_EIO, NULL, "the vDSO refused EENTER on thread %" PRIu32 ": %s", thread,
				strerror(-rc));
	if (run.function == EIMG_ENCLU_EEXIT) {
		*out = x;
		return EIMG_OK;
	}
	x.exception = true;
	x.leaf = run.function;
	x.vector = run.exception_vector;
	x.error_code = run.exception_error_code;
	x.addr = run.exception_addr;
	*out = x;
	char where[64] = "";
	if (x.vector == 14 && x.addr >= e->base && x.addr - e->base < e->size)
		snprintf(where, sizeof(where), " (enclave offset 0x%" PRIx64 ")", x.addr - e->base);
	rc = eimg_err(err, EIMG_EIO, NULL,
		      "enclave thread %" PRIu32 " stopped by %s %s, error code 0x%x%s, address 0x%" PRIx64 "%s",
		      thread, vector_name(x.vector), x.leaf == EIMG_ENCLU_EENTER ? "on EENTER" : "inside the enclave",
		      x.error_code, (x.vector == 14 && (x.error_code & 0x8000)) ? " (SGX access-control violation)" : "",
		      x.addr, where);
	if (err)
		err->sys_errno = EFAULT;
	return rc;
}

static bool overlaps(const eimg_sgx_hw_enclave *e, const void *p, size_t len)
{
	uint64_t a = (uint64_t)(uintptr_t)p, end;
	if (len == 0)
		return false;
	if (eimg_add_overflow(a, len, &end))
		return true;
	return a < e->base + e->size && end > e->base;
}

void eimg_sgx_hw_set_ocall(eimg_sgx_hw_enclave *e, eimg_ocall_fn fn, void *ctx)
{
	e->ocall = fn;
	e->ocall_ctx = ctx;
}

/* One ecall (op) with its ocalls until the enclave returns; switchless
 * ocalls go to swl (NULL: refused as unknown). */
static int hw_ecall(eimg_sgx_hw_enclave *e, uint32_t tcs, uint64_t op, const void *in, size_t in_len, uint8_t *out,
		    size_t out_cap, eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl,
		    struct eimg_sim_result *res, eimg_error *err)
{
	if (!e || !res || (in_len && !in) || (out_cap && !out))
		return eimg_err(err, EIMG_EUSAGE, NULL, "SGX call: missing argument");
	if (tcs >= e->threads)
		return eimg_err(err, EIMG_EINVAL, NULL, "no TCS %" PRIu32 " (the enclave has %" PRIu32 ")", tcs, e->threads);
	if (overlaps(e, in, in_len) || overlaps(e, out, out_cap))
		return eimg_err(err, EIMG_EINTERNAL, NULL, "host buffer inside the enclave");
	struct eimg_sgx_hw_call c = { op, (uint64_t)(uintptr_t)in, in_len, (uint64_t)(uintptr_t)out, out_cap };
	for (;;) {
		struct eimg_sgx_hw_exit x;
		int rc = eimg_sgx_hw_enter(e, tcs, &c, &x, err);
		if (rc)
			return rc;
		if (x.rdi == EIMG_EEXIT_RETURN) {
			if (x.rsi == EIMG_ECALL_OK && x.rdx > out_cap)
				return eimg_err(err, EIMG_EINVAL, NULL,
						"the enclave claims a reply of %" PRIu64 " bytes in a %zu-byte buffer", x.rdx,
						out_cap);
			res->status = x.rsi;
			res->detail = x.rdx;
			return EIMG_OK;
		}
		if (x.rdi != EIMG_EEXIT_OCALL)
			return eimg_err(err, EIMG_EINVAL, NULL, "the enclave left with unknown exit kind %" PRIu64, x.rdi);
		uint64_t result = 0;
		if (eimg_ocall_dispatch(e->ocall, e->ocall_ctx, tcs, x.rsi, out, x.rdx, out_cap, log, log_ctx, swl, &result))
			return eimg_err(err, EIMG_EINVAL, NULL, "the enclave made unknown ocall %" PRIu64, x.rsi);
		c = (struct eimg_sgx_hw_call){ EIMG_ECALL_RESUME, result, 0, 0, 0 };
	}
}

int eimg_sgx_hw_call(eimg_sgx_hw_enclave *e, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out,
		     size_t out_cap, eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res,
		     eimg_error *err)
{
	return hw_ecall(e, tcs, EIMG_ECALL_MESSAGE, in, in_len, out, out_cap, log, log_ctx, NULL, res, err);
}

int eimg_sgx_hw_switchless(eimg_sgx_hw_enclave *e, uint32_t tcs, void *ring, size_t ring_size, uint8_t *out,
			   size_t out_cap, eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl,
			   struct eimg_sim_result *res, eimg_error *err)
{
	return hw_ecall(e, tcs, EIMG_ECALL_SWITCHLESS, ring, ring_size, out, out_cap, log, log_ctx, swl, res, err);
}
