/* SPDX-License-Identifier: Apache-2.0 */
/* Private declarations of the enclave runtime. */
#ifndef EIMG_RT_INT_H
#define EIMG_RT_INT_H

#include <stdint.h>
#include <stddef.h>
#include "eimg/enclave_abi.h"

#ifndef EIMG_RT_HW
#error "build with -DEIMG_RT_HW=0 (simulation) or -DEIMG_RT_HW=1 (hardware)"
#endif
#define EIMG_RT_MODE (EIMG_RT_HW ? EIMG_ABI_MODE_HARDWARE : EIMG_ABI_MODE_SIMULATION)

#define RT_MAX_THREADS 1024

struct rt_ret {
	uint64_t status, detail;
};

/* Per-thread state kept in the thread data page at EIMG_TD_RT. */
struct rt_thread {
	uint8_t *reply;
	size_t reply_len, reply_cap;
	uint8_t *host_out;
	size_t host_out_cap;
	int in_message;
};

struct rt_ret eimg_rt_ecall(uint8_t *td, uint64_t op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);
uint64_t eimg_rt_ocall(uint8_t *td, uint64_t op, uint64_t len);

__attribute__((noreturn)) void eimg_rt_abort_exit(uint8_t *td, uint64_t status);
extern int eimg_rt_jump_exit;
void eimg_rt_heap_init(void *base, size_t size);

/* Fills buf from the CPU's RDRAND (rand.c); 0, or -1 when it gives nothing. */
int eimg_rt_random(void *buf, size_t len);

static inline uint64_t rt_ld64(const uint8_t *p) { return *(const volatile uint64_t *)p; }

#endif
