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
	int logged;               /* the message being handled sent a log line */
};

struct rt_ret eimg_rt_ecall(uint8_t *td, uint64_t op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4);
uint64_t eimg_rt_ocall(uint8_t *td, uint64_t op, uint64_t len);

/* Runs enclave_on_message on msg (enclave memory; wiped and freed here).
 * The reply stays in t->reply (t->reply_len bytes) until
 * eimg_rt_reply_done; r: OK with detail = its length, EAPP, ETOOBIG (longer
 * than reply_max), ENOHANDLER. */
void eimg_rt_handle(struct rt_thread *t, uint8_t *msg, size_t len, uint64_t reply_max, struct rt_ret *r);
void eimg_rt_reply_done(struct rt_thread *t);
/* 1 when [p, p+len) lies entirely outside the enclave and does not wrap. */
int eimg_rt_outside(uint64_t p, uint64_t len);
/* EIMG_ECALL_SWITCHLESS (switchless.c): serves the ring pair at host
 * address ring (size bytes); t->host_out is the output buffer. */
struct rt_ret eimg_rt_switchless(uint8_t *td, struct rt_thread *t, uint64_t ring, uint64_t size);

__attribute__((noreturn)) void eimg_rt_abort_exit(uint8_t *td, uint64_t status);
extern int eimg_rt_jump_exit;
void eimg_rt_heap_init(void *base, size_t size);

/* Fills buf from the CPU's RDRAND (rand.c); 0, or -1 when it gives nothing. */
int eimg_rt_random(void *buf, size_t len);

/* An ocall to a host service (enclave_abi.h): copies the request (len
 * bytes) to the host output buffer, leaves with op; *result is the host's
 * answer length (the answer is copied into ans, *ans_len) or an
 * EIMG_OCALL_E* code (*ans_len = 0).  Only while a message or enclave_init
 * is handled.  0, -1 (no message, request too big), or -2 (the answer is
 * larger than ans_cap). */
int eimg_rt_host_call(uint64_t op, const void *req, size_t len, void *ans, size_t ans_cap, size_t *ans_len,
		      uint64_t *result);
/* AES-GCM in place (aead.c, BearSSL): key of 16 or 32 bytes, 12-byte iv;
 * encrypt writes tag; decrypt returns 1 when tag matches, else 0. */
int eimg_rt_gcm(const uint8_t *key, size_t key_len, const uint8_t iv[12], int encrypt, const uint8_t *aad,
		size_t aad_len, uint8_t *data, size_t len, uint8_t tag[16]);
/* 1 when running on SGX hardware (EGETKEY and EREPORT work). */
int eimg_rt_hardware(void);

static inline uint64_t rt_ld64(const uint8_t *p) { return *(const volatile uint64_t *)p; }

#endif
