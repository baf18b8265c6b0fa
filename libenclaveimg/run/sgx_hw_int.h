/* SPDX-License-Identifier: Apache-2.0 */
/* Private part of the SGX hardware loader: the driver's ABI as this loader
 * carries it (the SECS/SECINFO layouts are not in the kernel's uapi), and
 * the seam through which tests replace the device and the CPU. */
#ifndef EIMG_SGX_HW_INT_H
#define EIMG_SGX_HW_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include "eimg/sgx_hw.h"

/* ---- the Linux driver's uapi (arch/x86/include/uapi/asm/sgx.h) ---- */
#define EIMG_SGX_MAGIC 0xA4
struct eimg_sgx_create { uint64_t src; };
struct eimg_sgx_add_pages { uint64_t src, offset, length, secinfo, flags, count; };
struct eimg_sgx_init { uint64_t sigstruct; };
#define EIMG_SGX_IOC_CREATE    _IOW(EIMG_SGX_MAGIC, 0x00, struct eimg_sgx_create)
#define EIMG_SGX_IOC_ADD_PAGES _IOWR(EIMG_SGX_MAGIC, 0x01, struct eimg_sgx_add_pages)
#define EIMG_SGX_IOC_INIT      _IOW(EIMG_SGX_MAGIC, 0x02, struct eimg_sgx_init)
#define EIMG_SGX_PAGE_MEASURE  0x1ull

/* struct sgx_enclave_run, the vDSO's context (256 bytes). */
struct eimg_sgx_run {
	uint64_t tcs;
	uint32_t function;
	uint16_t exception_vector;
	uint16_t exception_error_code;
	uint64_t exception_addr;
	uint64_t user_handler;
	uint64_t user_data;
	uint8_t reserved[216];
};
typedef int (*eimg_sgx_user_handler)(long rdi, long rsi, long rdx, long rsp, long r8, long r9,
				     struct eimg_sgx_run *run);
typedef int (*eimg_vdso_enter_fn)(unsigned long rdi, unsigned long rsi, unsigned long rdx,
				  unsigned int function, unsigned long r8, unsigned long r9,
				  struct eimg_sgx_run *run);
#define EIMG_ENCLU_EENTER  2
#define EIMG_ENCLU_ERESUME 3
#define EIMG_ENCLU_EEXIT   4

/* ---- SECS (4096 bytes; SDM vol. 3D 34.7) byte offsets ---- */
#define EIMG_SECS_SIZE        0    /* u64 */
#define EIMG_SECS_BASE        8    /* u64 */
#define EIMG_SECS_SSAFRAME    16   /* u32, pages */
#define EIMG_SECS_MISCSELECT  20   /* u32 */
#define EIMG_SECS_ATTRIBUTES  48   /* u64 flags */
#define EIMG_SECS_XFRM        56   /* u64 */
#define EIMG_SECS_MRENCLAVE   64
#define EIMG_SECS_MRSIGNER    128
#define EIMG_SECS_CONFIGID    192
#define EIMG_SECS_ISVPRODID   256
#define EIMG_SECS_ISVSVN      258
#define EIMG_SECS_CONFIGSVN   260

/* SECINFO: 64 bytes, flags u64 then 56 reserved zero bytes, 64-byte aligned. */
#define EIMG_SECINFO_BYTES 64

/* Attribute bits the Linux driver accepts in SECS (others are reserved). */
#define EIMG_SGX_ATTR_KNOWN 0x4f7ull /* INIT DEBUG MODE64BIT PROVISIONKEY EINITTOKENKEY CET KSS AEXNOTIFY */

/* ---- the seam: every system interaction of the loader ----
 * Functions follow the system calls' conventions (-1 / MAP_FAILED and errno). */
struct eimg_sgx_hw_ops {
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags);
	int (*close)(void *ctx, int fd);
	int (*ioctl)(void *ctx, int fd, unsigned long req, void *arg);
	void *(*mmap)(void *ctx, void *addr, size_t len, int prot, int flags, int fd, off_t off);
	int (*munmap)(void *ctx, void *addr, size_t len);
	int (*stat)(void *ctx, const char *path, struct stat *st);
	int (*statvfs)(void *ctx, const char *path, struct statvfs *st);
	void (*cpuid)(void *ctx, uint32_t leaf, uint32_t subleaf, uint32_t out[4]); /* eax ebx ecx edx */
	/* Reads up to size-1 bytes of a text file (NUL-terminated); length or -1. */
	ssize_t (*read_text)(void *ctx, const char *path, char *buf, size_t size);
	/* The vDSO's __vdso_sgx_enter_enclave, or NULL when the kernel has none. */
	eimg_vdso_enter_fn (*vdso_enter)(void *ctx);
};

/* The real system. */
const struct eimg_sgx_hw_ops *eimg_sgx_hw_sys_ops(void);

int eimg_sgx_hw_preflight_ops(const struct eimg_sgx_hw_ops *ops, uint64_t epc_bytes,
			      struct eimg_sgx_hw_platform *info, eimg_error *err);
int eimg_sgx_hw_load_ops(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l,
			 const uint8_t sigstruct[1808], bool debug_launch, eimg_sgx_hw_enclave **out,
			 eimg_error *err);
/* The same, reporting the pages added (ADD_PAGES) into p as the loading
 * step EIMG_LOAD_STEP_PLACING (run/sim_int.h); p may be NULL. */
struct eimg_progress;
int eimg_sgx_hw_load_progress(const struct eimg_sgx_hw_ops *ops, const eimg_layout *l,
			      const uint8_t sigstruct[1808], bool debug_launch, struct eimg_progress *p,
			      eimg_sgx_hw_enclave **out, eimg_error *err);

/* EIMG_ECALL_SWITCHLESS on hardware (the contract of eimg_sim_switchless,
 * run/sim_int.h): the ring is untrusted host memory the enclave's thread
 * polls; no EENTER/EEXIT per message. */
struct eimg_swl_host;
int eimg_sgx_hw_switchless(eimg_sgx_hw_enclave *e, uint32_t tcs, void *ring, size_t ring_size, uint8_t *out,
			   size_t out_cap, eimg_sim_log_fn log, void *log_ctx, const struct eimg_swl_host *swl,
			   struct eimg_sim_result *res, eimg_error *err);

/* The SSA frame size in pages the CPU needs for xfrm and miscselect (XSAVE
 * area from CPUID leaf 0xD, 184-byte GPR area, 16-byte EXINFO when
 * miscselect bit 0); 0 when cpuid reports nothing usable. */
uint32_t eimg_sgx_ssa_pages_needed(const struct eimg_sgx_hw_ops *ops, uint64_t xfrm, uint32_t miscselect);

/* Looks a symbol up in a loaded vDSO image (its ELF header in memory):
 * PT_DYNAMIC, DT_SYMTAB/DT_STRTAB and DT_HASH or DT_GNU_HASH.  NULL when
 * absent or when the image does not look like a vDSO. */
void *eimg_vdso_sym(const void *vdso, const char *name);

#endif
