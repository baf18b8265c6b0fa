/* SPDX-License-Identifier: Apache-2.0 */
/* The host <-> enclave calling convention (ABI version 1).
 *
 * Shared by the enclave runtime (runtime/, freestanding: this header needs
 * only <stdint.h>) and the host loaders (sim.c; a hardware loader uses the
 * same registers through the kernel's vDSO).  man/enclave-runtime.3 is the
 * user-facing text.
 *
 * Entering (EENTER, or the simulation's jump to TCS.OENTRY):
 *   RBX = address of the TCS, RCX = address to return to (after EENTER),
 *   RAX = CSSA (must be 0: the runtime does not handle asynchronous exits;
 *   any other value is refused with EIMG_ECALL_ECSSA).
 *   RDI = operation (EIMG_ECALL_*), and for
 *     EIMG_ECALL_MESSAGE: RSI = host input buffer, RDX = its length,
 *                         R8  = host output buffer, R9 = its capacity.
 *     EIMG_ECALL_RESUME:  RSI = result of the ocall being resumed.
 *     EIMG_ECALL_SWITCHLESS: RSI = host address of a ring pair (layout
 *                         below, EIMG_SWL_*), RDX = its size
 *                         (EIMG_SWL_PAIR_SIZE), R8 = host output buffer, R9 =
 *                         its capacity (the largest out-of-band message or
 *                         reply plus 16).  The thread stays in the enclave and
 *                         serves the request ring (switchless calls, as
 *                         HotCalls and Intel's switchless mode): it takes
 *                         each request, runs the handler, puts the reply in
 *                         the reply ring, and leaves only for ocalls (below)
 *                         or to finish: EIMG_ECALL_OK after a request with
 *                         tag EIMG_SWL_STOP or an IDLE ocall answered with an
 *                         error; EIMG_ECALL_EBADBUF when the host broke a
 *                         ring (an index or length out of range: checked
 *                         before use, every value read once).  A runtime
 *                         without it answers EIMG_ECALL_EBADOP.
 *     EIMG_ECALL_INIT:    RSI = RDX = 0, R8 = host output buffer, R9 = its
 *                         capacity.  Optional, sent once by a host before the
 *                         first message: runs the program's enclave_init (else
 *                         the first message runs it) and returns EIMG_ECALL_OK
 *                         with RDX = length of the public key the program
 *                         published with enclave_set_attestation_key(), copied
 *                         to the output buffer (0: none), or EIMG_ECALL_ETOOBIG
 *                         with RDX = that length.  A runtime without it answers
 *                         EIMG_ECALL_EBADOP, which a host takes as "no key".
 *   All host buffers must lie entirely outside the enclave's address range
 *   (checked: EIMG_ECALL_EBADBUF).  The enclave copies the input into enclave
 *   memory before its handler sees it, and copies the reply out only after
 *   the handler returned; the handler never sees host memory.
 *   The runtime switches to the thread's own stack (thread data page field
 *   stack_top), saving the host's RSP, RBP and return address in the thread
 *   data page; it clears the direction flag and loads a known MXCSR and x87
 *   control word (values from the host are never trusted).
 *
 * Leaving (EEXIT = ENCLU with RAX = 4, RBX = the saved return address; the
 * simulation jumps there instead), with RSP and RBP restored to the host's
 * values, every other general-purpose register except these three and
 * XMM0..XMM15 zeroed:
 *   RDI = exit kind (EIMG_EEXIT_*)
 *   EIMG_EEXIT_RETURN: RSI = status (EIMG_ECALL_OK or an error below),
 *                      RDX = reply length copied to the host output buffer
 *                      (EIMG_ECALL_OK), the handler's own non-zero return
 *                      value (EIMG_ECALL_EAPP), the needed capacity
 *                      (EIMG_ECALL_ETOOBIG), or the image's mode (EMODE).
 *   EIMG_EEXIT_OCALL:  RSI = ocall (EIMG_OCALL_*), RDX = number of bytes the
 *                      enclave placed at the start of the host output buffer.
 *                      The host performs the ocall and re-enters the same TCS
 *                      with EIMG_ECALL_RESUME; the enclave continues where it
 *                      left, on its own stack.  A TCS with a pending ocall
 *                      accepts only RESUME (else EIMG_ECALL_EBADOP).
 *
 * Ocalls:
 *   EIMG_OCALL_LOG: the output buffer holds one log line (UTF-8, no newline).
 *                   Sent only when the image's mode allows logging
 *                   (simulation, or hardware with sgx.debug: true); in a
 *                   release enclave the runtime drops log text inside the
 *                   enclave.  The host resumes with result 0.
 *   EIMG_OCALL_SEAL_KEY (simulation and mock only; on hardware the runtime
 *                   uses EGETKEY): the output buffer holds a 40-byte key
 *                   request: u16 policy (EIMG_SEAL_MRENCLAVE or
 *                   EIMG_SEAL_MRSIGNER), u16 ISVSVN (0xffff: the enclave's
 *                   own), u32 0, KEYID (32 bytes); little-endian.  The host
 *                   writes the 16-byte key and the u16 ISVSVN used to the
 *                   output buffer and resumes with 18, or an error below
 *                   (EIMG_OCALL_EDENIED: ISVSVN above the enclave's own).
 *                   The key is HMAC-SHA256 of a host secret over the
 *                   identity: INSECURE, the host knows it.
 *   EIMG_OCALL_STATE_READ: the host copies the state file (enclave-run
 *                   --state) to the output buffer and resumes with its
 *                   length, EIMG_OCALL_ENOENT (no file yet),
 *                   EIMG_OCALL_ENOSTATE (no --state) or EIMG_OCALL_ETOOBIG.
 *   EIMG_OCALL_STATE_WRITE: the output buffer holds RDX bytes; the host
 *                   replaces the state file with them atomically (temporary
 *                   file, fsync, rename, fsync of the folder) and resumes
 *                   with 0 or an error.
 *
 *   Switchless ocalls (only during EIMG_ECALL_SWITCHLESS):
 *   EIMG_OCALL_IDLE: the request ring stayed empty for a while and its
 *                   sleeping word is set: the host resumes (0) once a
 *                   request may be there, or with an error to end the call.
 *   EIMG_OCALL_BELL: a reply went into the reply ring while its sleeping
 *                   word was set: the host wakes its consumer, resumes (0).
 *   EIMG_OCALL_FETCH: the request's slot says the message follows out of
 *                   band: the host copies it to the output buffer and
 *                   resumes with its length (at most the capacity).
 *   EIMG_OCALL_REPLY: the reply's slot says it follows out of band (larger
 *                   than a slot, or the message logged: its log lines come
 *                   first); the output buffer holds u64 status, u64 detail
 *                   and the reply (status OK), RDX = 16 + its length;
 *                   resume 0.
 *
 * Ring pair (switchless; host memory, outside the enclave): a request ring
 * then a reply ring of EIMG_SWL_RING_SIZE bytes each, each a single-producer
 * single-consumer ring: u32 head (producer, free-running) at
 * EIMG_SWL_HEAD, u32 tail (consumer) at EIMG_SWL_TAIL, u32 sleeping (the
 * consumer waits for its doorbell) at EIMG_SWL_SLEEPING, then
 * EIMG_SWL_SLOTS slots of EIMG_SWL_SLOT bytes: u32 length, u32 tag,
 * payload.  Request tags: EIMG_SWL_INLINE (the message is the payload),
 * EIMG_SWL_OUTOFBAND (FETCH it), EIMG_SWL_STOP.  Reply tags: the status,
 * payload = the reply (OK) or the u64 detail; or EIMG_SWL_OUTOFBAND.
 *
 * Thread data page: the first 88 bytes are the measured fields of layout.h.
 * Bytes 256..4095 belong to the runtime (host RSP/RBP/return address, the
 * saved enclave RSP of a pending ocall, per-thread message state); the host
 * never reads them.
 */
#ifndef EIMG_ENCLAVE_ABI_H
#define EIMG_ENCLAVE_ABI_H

#define EIMG_ABI_VERSION 1

/* Operations (RDI on entry). */
#define EIMG_ECALL_MESSAGE 1
#define EIMG_ECALL_RESUME  2
#define EIMG_ECALL_INIT    3
#define EIMG_ECALL_SWITCHLESS 4

/* Exit kinds (RDI on exit). */
#define EIMG_EEXIT_RETURN 1
#define EIMG_EEXIT_OCALL  2

/* Ocalls (RSI with EIMG_EEXIT_OCALL). */
#define EIMG_OCALL_LOG 1
#define EIMG_OCALL_SEAL_KEY    2
#define EIMG_OCALL_STATE_READ  3
#define EIMG_OCALL_STATE_WRITE 4
#define EIMG_OCALL_IDLE        5
#define EIMG_OCALL_BELL        6
#define EIMG_OCALL_FETCH       7
#define EIMG_OCALL_REPLY       8

/* Switchless ring pair (EIMG_ECALL_SWITCHLESS). */
#define EIMG_SWL_SLOTS      128
#define EIMG_SWL_SLOT       512
#define EIMG_SWL_SLOT_MAX   (EIMG_SWL_SLOT - 8)
#define EIMG_SWL_HEAD       0
#define EIMG_SWL_TAIL       64
#define EIMG_SWL_SLEEPING   128
#define EIMG_SWL_SLOT0      192
#define EIMG_SWL_RING_SIZE  (EIMG_SWL_SLOT0 + EIMG_SWL_SLOTS * EIMG_SWL_SLOT)
#define EIMG_SWL_PAIR_SIZE  (2 * EIMG_SWL_RING_SIZE)
#define EIMG_SWL_INLINE     1u
#define EIMG_SWL_STOP       2u
#define EIMG_SWL_OUTOFBAND  0xffffffffu

/* Ocall results at or above EIMG_OCALL_EFIRST are errors. */
#define EIMG_OCALL_EFIRST   0xffffffffffffff00ull
#define EIMG_OCALL_ENOSTATE 0xffffffffffffff01ull  /* no state folder (enclave-run --state) */
#define EIMG_OCALL_ENOENT   0xffffffffffffff02ull  /* no state file yet */
#define EIMG_OCALL_ETOOBIG  0xffffffffffffff03ull  /* does not fit the output buffer */
#define EIMG_OCALL_EIO      0xffffffffffffff04ull  /* the host could not read or write */
#define EIMG_OCALL_EDENIED  0xffffffffffffff05ull  /* refused (a key for a higher ISVSVN) */
#define EIMG_OCALL_EBADREQ  0xffffffffffffff06ull  /* malformed request */

/* Sealing key policies (as KEYREQUEST.KEYPOLICY). */
#define EIMG_SEAL_MRENCLAVE 1
#define EIMG_SEAL_MRSIGNER  2

/* Statuses (RSI with EIMG_EEXIT_RETURN). */
#define EIMG_ECALL_OK      0  /* reply of RDX bytes in the output buffer */
#define EIMG_ECALL_EAPP    1  /* the handler returned non-zero (RDX = that value); no reply */
#define EIMG_ECALL_ENOMEM  2  /* enclave heap exhausted copying the message or the reply */
#define EIMG_ECALL_ETOOBIG 3  /* reply larger than the output capacity (RDX = needed) */
#define EIMG_ECALL_EBADBUF 4  /* a host buffer overlaps the enclave or wraps around */
#define EIMG_ECALL_EBADOP  5  /* unknown operation, RESUME without ocall, or a call while an ocall is pending */
#define EIMG_ECALL_EMODE   6  /* the image's mode is not the runtime's (RDX = image mode) */
#define EIMG_ECALL_EINFO   7  /* the info blob or thread data is malformed */
#define EIMG_ECALL_ECSSA   8  /* entered with CSSA != 0 */
#define EIMG_ECALL_EABORT  9  /* the enclave aborted (enclave_abort); it refuses further calls */
#define EIMG_ECALL_ENOHANDLER 10 /* the program defines no enclave_on_message */

/* Modes as recorded in the info blob (layout.h; = enum eimg_mode). */
#define EIMG_ABI_MODE_HARDWARE   1
#define EIMG_ABI_MODE_SIMULATION 2

/* Measured thread data fields (layout.h), byte offsets. */
#define EIMG_TD_SELF        0
#define EIMG_TD_STACK_TOP   8
#define EIMG_TD_STACK_BASE  16
#define EIMG_TD_TCS         24
#define EIMG_TD_SSA         32
#define EIMG_TD_HEAP        40
#define EIMG_TD_HEAP_SIZE   48
#define EIMG_TD_INFO        56
#define EIMG_TD_INDEX       64
#define EIMG_TD_THREADS     72
#define EIMG_TD_ENCLAVE_SIZE 80

/* Runtime-private part of the thread data page. */
#define EIMG_TD_HOST_RSP    256
#define EIMG_TD_HOST_RBP    264
#define EIMG_TD_HOST_RET    272
#define EIMG_TD_ENCL_RSP    280  /* enclave RSP saved by a pending ocall, 0 if none */
#define EIMG_TD_RT          512  /* start of the runtime's per-thread C state */

#endif
