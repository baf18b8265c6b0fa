/* SPDX-License-Identifier: Apache-2.0 */
/* test/enclaves/probe: does what the message says, to test the runtime and
 * enclave-run's supervision.
 *   echo TEXT     reply TEXT           log TEXT     log TEXT, reply "logged"
 *   syscall       raw getpid system call (the sandbox must stop it)
 *   segv          read outside the enclave         wild  write to a code page
 *   stack         recurse until the stack guard page
 *   abort         enclave_abort()       fail         handler returns 7
 *   big N         reply N bytes of 'x'  spin         loop forever
 *   heap          allocate until the heap is exhausted, free, reply the count
 *   file NAME     reply the measured file NAME     mode  reply the mode
 *   fmt           reply a formatted line (exercises vsnprintf)
 *   block         wait until another thread sends "release" (needs threads > 1)
 *   release       let "block" return; reply the TCS index
 *   reloc         reply through a table of absolute pointers (needs the
 *                 runtime's self-relocation)
 *   forge FD      raw write(FD) of a bogus channel frame: what a hostile
 *                 enclave could send to the runner through its channel */
#include <enclave.h>

static int starts(const uint8_t *m, size_t len, const char *w)
{
	size_t n = strlen(w);
	return len >= n && memcmp(m, w, n) == 0;
}

static volatile int sink;
/* absolute addresses in data: R_X86_64_RELATIVE relocations in the ELF */
static const char *const words[] = { "alpha", "beta", "gamma" };
static int (*const ops[])(const void *, size_t) = { enclave_reply };
static volatile int released;

/* Deep recursion the compiler cannot turn into a loop. */
static int recurse(volatile int *depth)
{
	volatile char buf[512];
	buf[0] = (char)*depth;
	(*depth)++;
	if (*depth > 0)
		return recurse(depth) + buf[0] + buf[1];
	return 0;
}

int enclave_on_message(const uint8_t *m, size_t len)
{
	if (starts(m, len, "echo "))
		return enclave_reply(m + 5, len - 5);
	if (starts(m, len, "log ")) {
		enclave_log("%.*s", (int)(len - 4), (const char *)m + 4);
		return enclave_reply("logged", 6);
	}
	if (starts(m, len, "syscall")) {
		long r;
		__asm__ volatile("syscall" : "=a"(r) : "a"(39L) : "rcx", "r11", "memory");
		return enclave_replyf("getpid returned %ld", r);
	}
	if (starts(m, len, "segv")) {
		/* the page just below the enclave base is never part of it */
		const volatile uint8_t *p = (const uint8_t *)enclave_manifest(0);
		p -= (uint64_t)p % 4096;
		while (enclave_is_within((const void *)p, 1))
			p -= 4096;
		sink = *p;
		return 0;
	}
	if (starts(m, len, "wild")) {
		volatile uint8_t *code = (volatile uint8_t *)(uintptr_t)&enclave_on_message;
		*code = 0xcc;
		return 0;
	}
	if (starts(m, len, "stack"))
	{
		volatile int depth = 1;
		return recurse(&depth);
	}
	if (starts(m, len, "abort"))
		enclave_abort("asked to");
	if (starts(m, len, "fail"))
		return 7;
	if (starts(m, len, "big ")) {
		long long n = 0;
		for (size_t i = 4; i < len; i++)
			n = n * 10 + (m[i] - '0');
		for (long long i = 0; i < n; i++)
			if (enclave_reply("x", 1))
				return 2;
		return 0;
	}
	if (starts(m, len, "block")) {
		while (!__atomic_load_n(&released, __ATOMIC_ACQUIRE))
			__builtin_ia32_pause();
		return enclave_replyf("unblocked on TCS %u", enclave_thread_index());
	}
	if (starts(m, len, "release")) {
		__atomic_store_n(&released, 1, __ATOMIC_RELEASE);
		return enclave_replyf("released from TCS %u", enclave_thread_index());
	}
	if (starts(m, len, "reloc")) {
		for (int i = 0; i < 3; i++)
			if (ops[0]((const uint8_t *)words[i], strlen(words[i])) || (i < 2 && enclave_reply(" ", 1)))
				return 1;
		return 0;
	}
	if (starts(m, len, "forge ")) {
		long fd = 0, r;
		for (size_t i = 6; i < len && m[i] >= '0' && m[i] <= '9'; i++)
			fd = fd * 10 + (m[i] - '0');
		static const uint8_t bogus[24] = { 0, 0, 0, 0, 99, 0, 0, 0 };
		__asm__ volatile("syscall" : "=a"(r) : "a"(1L), "D"(fd), "S"(bogus), "d"(24L) : "rcx", "r11", "memory");
		return enclave_replyf("write returned %ld", r);
	}
	if (starts(m, len, "spin"))
		for (;;)
			sink++;
	if (starts(m, len, "heap")) {
		void *blocks[4096];
		size_t n = 0;
		while (n < 4096 && (blocks[n] = malloc(1024)))
			n++;
		for (size_t i = 0; i < n; i++)
			free(blocks[n - 1 - i]);
		void *again = malloc(1024);
		free(again);
		return enclave_replyf("allocated %zu blocks of 1 KiB, realloc ok %d", n, again != 0);
	}
	if (starts(m, len, "file ")) {
		char name[256];
		size_t n = len - 5 < sizeof name - 1 ? len - 5 : sizeof name - 1, flen;
		memcpy(name, m + 5, n);
		name[n] = 0;
		const void *d = enclave_file(name, &flen);
		if (!d)
			return 3;
		return enclave_reply(d, flen);
	}
	if (starts(m, len, "mode"))
		return enclave_replyf("mode %d threads %u log %d", enclave_mode(), enclave_threads(), enclave_log_enabled());
	if (starts(m, len, "fmt"))
		return enclave_replyf("[%5d|%-4s|%04x|%c|%lld|%zu|%.3s|%+d|%x|%%]", -42, "ab", 0xbeefu, 'z',
				      -9000000000LL, (size_t)7, "truncated", 5, 0u);
	return enclave_reply(m, len);
}
