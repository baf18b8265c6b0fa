/* SPDX-License-Identifier: Apache-2.0 */
/* Enclave entry and exit (the code TCS.OENTRY points to).  See
 * libenclaveimg/include/eimg/enclave_abi.h for the register convention.
 *
 * Built twice: with EIMG_RT_HW=1 the exit is EEXIT (ENCLU leaf 4) for SGX
 * hardware; without it the exit is a jump to the same address, which is what
 * the simulation loader expects.  Everything else is identical. */
#include "eimg/enclave_abi.h"

#define ENCLU .byte 0x0f, 0x01, 0xd7
#define EEXIT_LEAF 4

	.text

/* Clears the registers that must not carry enclave data to the host, loads
 * the host's RSP/RBP and the return address (RBX) from the thread data page
 * in %r11, and leaves.  RDI, RSI, RDX hold the exit values. */
.macro EXIT_TO_HOST
	movq	EIMG_TD_HOST_RET(%r11), %rbx
	movq	EIMG_TD_HOST_RSP(%r11), %rsp
	movq	EIMG_TD_HOST_RBP(%r11), %rbp
	xorl	%ecx, %ecx
	xorl	%r8d, %r8d
	xorl	%r9d, %r9d
	xorl	%r10d, %r10d
	xorl	%r11d, %r11d
	xorl	%r12d, %r12d
	xorl	%r13d, %r13d
	xorl	%r14d, %r14d
	xorl	%r15d, %r15d
	pxor	%xmm0, %xmm0
	pxor	%xmm1, %xmm1
	pxor	%xmm2, %xmm2
	pxor	%xmm3, %xmm3
	pxor	%xmm4, %xmm4
	pxor	%xmm5, %xmm5
	pxor	%xmm6, %xmm6
	pxor	%xmm7, %xmm7
	pxor	%xmm8, %xmm8
	pxor	%xmm9, %xmm9
	pxor	%xmm10, %xmm10
	pxor	%xmm11, %xmm11
	pxor	%xmm12, %xmm12
	pxor	%xmm13, %xmm13
	pxor	%xmm14, %xmm14
	pxor	%xmm15, %xmm15
#if EIMG_RT_HW
	/* A hardware-mode runtime in an image recorded as simulation (a
	 * build mistake) leaves by a jump, so that the simulation can report
	 * the mode mismatch instead of faulting on ENCLU.  On real hardware a
	 * jump out of the enclave faults, which is all such an image deserves. */
	cmpl	$0, eimg_rt_jump_exit(%rip)
	jne	1f
	movl	$EEXIT_LEAF, %eax
	ENCLU
	ud2
1:
	xorl	%eax, %eax
	jmp	*%rbx
#else
	xorl	%eax, %eax
	jmp	*%rbx
#endif
.endm

/* Entry: RBX = TCS, RCX = return address, RAX = CSSA, RDI = op,
 * RSI/RDX/R8/R9 = arguments. */
	.globl	_start
	.globl	eimg_rt_entry
	.type	eimg_rt_entry, @function
_start:
eimg_rt_entry:
	leaq	4096(%rbx), %r11		/* thread data page follows the TCS */
	movq	%rsp, EIMG_TD_HOST_RSP(%r11)
	movq	%rbp, EIMG_TD_HOST_RBP(%r11)
	movq	%rcx, EIMG_TD_HOST_RET(%r11)
	cld
	testq	%rax, %rax
	jnz	.Lbad_cssa
	cmpq	$EIMG_ECALL_RESUME, %rdi
	je	.Lresume
	cmpq	$0, EIMG_TD_ENCL_RSP(%r11)	/* an ocall is pending: only RESUME */
	jne	.Lbad_op
	/* enclave base = thread data address - its own offset */
	movq	%r11, %r10
	subq	EIMG_TD_SELF(%r11), %r10
	movq	EIMG_TD_STACK_TOP(%r11), %rsp
	addq	%r10, %rsp
	xorl	%ebp, %ebp
	ldmxcsr	.Lmxcsr(%rip)
	fldcw	.Lfpucw(%rip)
	/* eimg_rt_ecall(td, op, a1, a2, a3, a4) -> {RAX status, RDX detail} */
	movq	%rdx, %rcx
	movq	%rsi, %rdx
	movq	%rdi, %rsi
	movq	%r11, %rdi
	call	eimg_rt_ecall
	movq	%rax, %rsi
	movq	$EIMG_EEXIT_RETURN, %rdi
	/* the thread data address again: stack top (= TCS) + 4096 */
	leaq	4096(%rsp), %r11
	EXIT_TO_HOST

.Lbad_cssa:
	movq	$EIMG_EEXIT_RETURN, %rdi
	movq	$EIMG_ECALL_ECSSA, %rsi
	xorl	%edx, %edx
	EXIT_TO_HOST

.Lbad_op:
	movq	$EIMG_EEXIT_RETURN, %rdi
	movq	$EIMG_ECALL_EBADOP, %rsi
	xorl	%edx, %edx
	EXIT_TO_HOST

.Lresume:
	movq	EIMG_TD_ENCL_RSP(%r11), %rax
	testq	%rax, %rax
	jz	.Lbad_op
	movq	$0, EIMG_TD_ENCL_RSP(%r11)
	movq	%rax, %rsp
	ldmxcsr	.Lmxcsr(%rip)
	fldcw	.Lfpucw(%rip)
	movq	%rsi, %rax			/* the ocall's result */
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size	eimg_rt_entry, . - eimg_rt_entry

/* uint64_t eimg_rt_ocall(void *td, uint64_t op, uint64_t len):
 * saves the callee-saved registers on the enclave stack, leaves with
 * EIMG_EEXIT_OCALL and returns the host's result when RESUME comes. */
	.globl	eimg_rt_ocall
	.hidden	eimg_rt_ocall
	.type	eimg_rt_ocall, @function
eimg_rt_ocall:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rdi, %r11
	movq	%rsp, EIMG_TD_ENCL_RSP(%r11)
	movq	$EIMG_EEXIT_OCALL, %rdi
	/* RSI = op, RDX = len already */
	EXIT_TO_HOST
	.size	eimg_rt_ocall, . - eimg_rt_ocall

/* void eimg_rt_abort_exit(void *td, uint64_t status): leaves for good. */
	.globl	eimg_rt_abort_exit
	.hidden	eimg_rt_abort_exit
	.type	eimg_rt_abort_exit, @function
eimg_rt_abort_exit:
	movq	%rdi, %r11
	movq	$0, EIMG_TD_ENCL_RSP(%r11)
	movq	$EIMG_EEXIT_RETURN, %rdi
	xorl	%edx, %edx
	EXIT_TO_HOST
	.size	eimg_rt_abort_exit, . - eimg_rt_abort_exit

	.section .rodata
	.balign	4
.Lmxcsr:
	.long	0x1f80
.Lfpucw:
	.short	0x037f

	.section .note.GNU-stack,"",@progbits
