/* SPDX-License-Identifier: Apache-2.0 */
/* Running an SGX enclave on hardware through the Linux in-kernel driver
 * (Linux 5.11+, /dev/sgx_enclave; needs a CPU with Flexible Launch Control).
 *
 * The loader consumes the same eimg_layout as the measurement and the
 * simulation loader: every region is added with SGX_IOC_ENCLAVE_ADD_PAGES,
 * with the SECINFO the measurement used and SGX_PAGE_MEASURE, so the CPU's
 * MRENCLAVE is the one enclave-measure prints.  Then SGX_IOC_ENCLAVE_INIT
 * with the image's SIGSTRUCT, one mmap per region with its permissions, and
 * entry through the vDSO's __vdso_sgx_enter_enclave (the register convention
 * of libenclaveimg/include/eimg/enclave_abi.h).
 *
 * Statuses: EIMG_EUNSUPPORTED when this host cannot run SGX enclaves (the
 * message says why and what to do), EIMG_EIO for a failed system call
 * (including permission denied on the device), EIMG_EVERIFY when the CPU
 * refuses the SIGSTRUCT (the message says which check fails), EIMG_EINVAL
 * for an image the driver cannot load. */
#ifndef EIMG_SGX_HW_H
#define EIMG_SGX_HW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "eimg/error.h"
#include "eimg/layout.h"
#include "eimg/sim.h"

#define EIMG_SGX_DEVICE "/dev/sgx_enclave"

/* What the preflight found out about the platform. */
struct eimg_sgx_hw_platform {
	bool cpu_sgx1;           /* CPUID.(7,0):EBX[2] and CPUID.(0x12,0):EAX[0] */
	bool cpu_sgx2;           /* CPUID.(0x12,0):EAX[1] */
	bool cpu_flc;            /* CPUID.(7,0):ECX[30] SGX_LC */
	bool kernel_sgx;         /* "sgx" flag in /proc/cpuinfo */
	bool kernel_sgx_lc;      /* "sgx_lc" flag in /proc/cpuinfo */
	bool device;             /* /dev/sgx_enclave exists */
	uint64_t epc_bytes;      /* sum of the EPC sections (CPUID 0x12 sub-leaf 2+, else
				    /sys/devices/system/node/nodeN/x86/sgx_total_bytes), 0 = unknown */
	uint32_t misc_allowed;   /* CPUID.(0x12,0):EBX */
	uint64_t xfrm_allowed;   /* CPUID.(0x12,1):EDX:ECX */
};

/* Checks that an enclave needing epc_bytes of EPC (pages added x 4096; 0 to
 * skip that check) can run here: SGX and FLC in the CPU, the driver's
 * device, permission to open it, /dev not mounted noexec, enough EPC.  The
 * first failure is returned with an actionable message.  info (may be NULL)
 * receives what was found, also on failure. */
int eimg_sgx_hw_preflight(uint64_t epc_bytes, struct eimg_sgx_hw_platform *info, eimg_error *err);

typedef struct eimg_sgx_hw_enclave eimg_sgx_hw_enclave;

/* Creates, loads, initialises and maps the enclave.  debug_launch sets the
 * DEBUG attribute; it is refused (EIMG_EUSAGE) when the SIGSTRUCT does not
 * allow a debug launch, and a production launch is refused when the
 * SIGSTRUCT allows only debug launches. */
int eimg_sgx_hw_load(const eimg_layout *l, const uint8_t sigstruct[1808], bool debug_launch,
		     eimg_sgx_hw_enclave **out, eimg_error *err);

/* Where the enclave is mapped. */
uint64_t eimg_sgx_hw_base(const eimg_sgx_hw_enclave *e);
uint64_t eimg_sgx_hw_size(const eimg_sgx_hw_enclave *e);

/* Registers passed to the enclave (RDI, RSI, RDX, R8, R9; enclave_abi.h). */
struct eimg_sgx_hw_call {
	uint64_t rdi, rsi, rdx, r8, r9;
};

/* What came back: RDI, RSI, RDX at EEXIT, or an exception. */
struct eimg_sgx_hw_exit {
	uint64_t rdi, rsi, rdx;
	bool exception;          /* the enclave (or EENTER itself) faulted */
	uint32_t leaf;           /* ENCLU leaf that faulted: 2 EENTER, 3 ERESUME (inside the enclave) */
	uint16_t vector;         /* exception vector (14 = #PF, 13 = #GP, 6 = #UD, ...) */
	uint16_t error_code;
	uint64_t addr;           /* faulting address (#PF) */
};

/* Enters the enclave on thread's TCS (EENTER) and returns at EEXIT (EIMG_OK,
 * out->exception false).  An exception is returned as EIMG_EIO with the
 * vector, error code and address in out and the message.  One host thread
 * per TCS at a time. */
int eimg_sgx_hw_enter(eimg_sgx_hw_enclave *e, uint32_t thread, const struct eimg_sgx_hw_call *in,
		      struct eimg_sgx_hw_exit *out, eimg_error *err);

/* Sets the handler of the enclave's host-service ocalls (eimg/sim.h,
 * eimg_ocall_fn), before calls start. */
void eimg_sgx_hw_set_ocall(eimg_sgx_hw_enclave *e, eimg_ocall_fn fn, void *ctx);

/* One message, as eimg_sim_call() does it in simulation: enters TCS tcs
 * with EIMG_ECALL_MESSAGE (enclave_abi.h), serves the enclave's ocalls (log
 * lines go to log) until it returns, and puts the enclave's verdict in res.
 * in and out must lie outside the enclave.  Fails for host-side problems
 * and for an exception in the enclave (EIMG_EIO, the message says which). */
int eimg_sgx_hw_call(eimg_sgx_hw_enclave *e, uint32_t tcs, const uint8_t *in, size_t in_len, uint8_t *out,
		     size_t out_cap, eimg_sim_log_fn log, void *log_ctx, struct eimg_sim_result *res,
		     eimg_error *err);

/* Unmaps the enclave and closes the device (the kernel frees its EPC). */
void eimg_sgx_hw_unload(eimg_sgx_hw_enclave *e);

#endif
