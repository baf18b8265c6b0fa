/* SPDX-License-Identifier: Apache-2.0 */
/* The enclave runtime's core: first-entry initialisation (self-relocation,
 * info blob checks, heap), message dispatch, replies, logging, access to the
 * measured manifest, files and user keys. */
#include "enclave.h"
#include "rt_int.h"

/* ---------------------------------------------------------------- state */

enum { RT_UNINIT = 0, RT_INITIALISING, RT_READY, RT_DEAD };
static volatile int rt_state;
static uint64_t rt_status_failed;          /* status returned once dead */
static uint8_t *rt_base;                   /* enclave base address */
static uint64_t rt_size;                   /* enclave size */
static const uint8_t *rt_info;             /* info blob */
static uint64_t rt_info_len;
static unsigned rt_nthreads;
static int rt_log_on;
static uint8_t *rt_tds[RT_MAX_THREADS];    /* thread data pages seen so far */
int eimg_rt_jump_exit;                     /* entry.S: leave by a jump (see there) */

/* Weak: a program without enclave_init() is fine; without
 * enclave_on_message() every message fails with ENOHANDLER. */
extern int enclave_init(void) __attribute__((weak));
extern int enclave_on_message(const uint8_t *msg, size_t len) __attribute__((weak));

static struct rt_thread *rt_thread_of(uint8_t *td) { return (struct rt_thread *)(td + EIMG_TD_RT); }

/* ----------------------------------------------------- self-relocation */

#define DT_NULL     0
#define DT_RELA     7
#define DT_RELASZ   8
#define DT_RELAENT  9
#define DT_REL      17
#define DT_RELSZ    18
#define DT_TEXTREL  22
#define DT_RELRSZ   35
#define DT_RELR     36
#define R_X86_64_NONE     0
#define R_X86_64_RELATIVE 8

struct dyn { int64_t tag; uint64_t val; };
struct rela { uint64_t off, info; int64_t addend; };

/* Defined by the linker in every static-pie; hidden, so it is addressed
 * RIP-relative and needs no relocation itself. */
extern const struct dyn _DYNAMIC[] __attribute__((visibility("hidden")));

/* Applies the R_X86_64_RELATIVE (and RELR) relocations of the static-pie
 * ELF.  Runs before anything uses an absolute address.  Returns 0, or -1 for
 * a relocation this runtime cannot apply. */
static int relocate(uint8_t *base)
{
	uint64_t rela = 0, relasz = 0, relaent = sizeof(struct rela), relr = 0, relrsz = 0;
	for (const struct dyn *d = _DYNAMIC; d->tag != DT_NULL; d++) {
		switch (d->tag) {
		case DT_RELA: rela = d->val; break;
		case DT_RELASZ: relasz = d->val; break;
		case DT_RELAENT: relaent = d->val; break;
		case DT_RELR: relr = d->val; break;
		case DT_RELRSZ: relrsz = d->val; break;
		case DT_REL: case DT_RELSZ: case DT_TEXTREL: return -1;
		default: break;
		}
	}
	if (relaent != sizeof(struct rela))
		return -1;
	for (uint64_t i = 0; i < relasz / sizeof(struct rela); i++) {
		const struct rela *r = (const struct rela *)(base + rela) + i;
		uint32_t type = (uint32_t)r->info;
		if (type == R_X86_64_NONE)
			continue;
		if (type != R_X86_64_RELATIVE || r->off > rt_size - 8)
			return -1;
		*(uint64_t *)(base + r->off) = (uint64_t)base + (uint64_t)r->addend;
	}
	/* RELR: an address entry, then bitmaps of the following 63 words. */
	uint64_t *where = 0;
	for (uint64_t i = 0; i < relrsz / 8; i++) {
		uint64_t e = ((const uint64_t *)(base + relr))[i];
		if ((e & 1) == 0) {
			if (e > rt_size - 8)
				return -1;
			where = (uint64_t *)(base + e);
			*where++ += (uint64_t)base;
		} else {
			if (!where)
				return -1;
			for (uint64_t *p = where; (e >>= 1) != 0; p++)
				if (e & 1)
					*p += (uint64_t)base;
			where += 63;
		}
	}
	return 0;
}

/* ---------------------------------------------------------- info blob */

static uint32_t ld32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32; }

static int range_ok(uint64_t off, uint64_t len, uint64_t total)
{
	return off <= total && len <= total - off;
}

/* Checks the blob's structure once (it is measured, so this guards against
 * runtime/toolchain mismatch, not against the host). */
static int info_check(const uint8_t *b, uint64_t avail)
{
	if (avail < 64 || memcmp(b, "EIMGINFO", 8) != 0 || ld32(b + 8) != 1)
		return -1;
	uint64_t len = ld64(b + 16);
	if (len > avail || len < 64)
		return -1;
	uint64_t nent = (uint64_t)ld32(b + 40) + ld32(b + 44), tab = ld64(b + 48);
	if (!range_ok(ld64(b + 24), ld64(b + 32) + 1, len) || nent > (len / 32) || !range_ok(tab, nent * 32, len))
		return -1;
	for (uint64_t i = 0; i < nent; i++) {
		const uint8_t *e = b + tab + 32 * i;
		if (!range_ok(ld64(e), ld64(e + 8) + 1, len) || !range_ok(ld64(e + 16), ld64(e + 24) + 1, len))
			return -1;
	}
	return 0;
}

const char *enclave_manifest(size_t *len)
{
	if (!rt_info)
		return 0;
	if (len)
		*len = (size_t)ld64(rt_info + 32);
	return (const char *)rt_info + ld64(rt_info + 24);
}

static size_t nfiles(void) { return rt_info ? ld32(rt_info + 40) : 0; }
static size_t nkeys(void) { return rt_info ? ld32(rt_info + 44) : 0; }
static const uint8_t *entry_at(size_t i) { return rt_info + ld64(rt_info + 48) + 32 * i; }

static const void *lookup(size_t first, size_t n, const char *name, size_t *len)
{
	size_t nl = strlen(name), lo = 0, hi = n;
	while (lo < hi) {   /* entries are sorted bytewise by name */
		size_t mid = lo + (hi - lo) / 2;
		const uint8_t *e = entry_at(first + mid);
		uint64_t el = ld64(e + 8);
		int c = memcmp(rt_info + ld64(e), name, el < nl ? el : nl);
		if (c == 0)
			c = el < nl ? -1 : el > nl ? 1 : 0;
		if (c == 0) {
			if (len)
				*len = (size_t)ld64(e + 24);
			return rt_info + ld64(e + 16);
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

const void *enclave_file(const char *name, size_t *len) { return name ? lookup(0, nfiles(), name, len) : 0; }
size_t enclave_file_count(void) { return nfiles(); }
const char *enclave_file_name(size_t i) { return i < nfiles() ? (const char *)rt_info + ld64(entry_at(i)) : 0; }
const void *enclave_user_key(const char *name, size_t *len) { return name ? lookup(nfiles(), nkeys(), name, len) : 0; }
size_t enclave_user_key_count(void) { return nkeys(); }
const char *enclave_user_key_name(size_t i) { return i < nkeys() ? (const char *)rt_info + ld64(entry_at(nfiles() + i)) : 0; }
int enclave_mode(void) { return rt_info ? (int)ld32(rt_info + 12) : 0; }
unsigned enclave_threads(void) { return rt_nthreads; }
uint64_t enclave_size(void) { return rt_size; }

int enclave_is_within(const void *p, size_t len)
{
	uint64_t a = (uint64_t)p, b = (uint64_t)rt_base;
	return a >= b && a - b <= rt_size && len <= rt_size - (a - b);
}

/* 1 when [p, p+len) does not touch the enclave and does not wrap. */
static int outside(uint64_t p, uint64_t len)
{
	uint64_t b = (uint64_t)rt_base, e = b + rt_size;
	if (len == 0)
		return 1;
	if (p + len < p)
		return 0;
	return p + len <= b || p >= e;
}

/* ------------------------------------------------- tiny JSON lookup */

/* The canonical manifest is JSON; logging in hardware mode depends on
 * sgx.debug.  This walks the top-level object for "sgx" and that object for
 * "debug" (values are skipped structurally, strings honour escapes). */
static const char *js_ws(const char *p, const char *e) { while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++; return p; }
static const char *js_string_end(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return 0;
}
static const char *js_skip(const char *p, const char *e, int depth)
{
	p = js_ws(p, e);
	if (p >= e || depth > 32)
		return 0;
	if (*p == '"')
		return js_string_end(p, e);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		p = js_ws(p + 1, e);
		if (p < e && *p == close)
			return p + 1;
		for (;;) {
			if (close == '}') {
				p = js_ws(p, e);
				if (p >= e || *p != '"' || !(p = js_string_end(p, e)))
					return 0;
				p = js_ws(p, e);
				if (p >= e || *p++ != ':')
					return 0;
			}
			if (!(p = js_skip(p, e, depth + 1)))
				return 0;
			p = js_ws(p, e);
			if (p < e && *p == ',') { p++; continue; }
			if (p < e && *p == close)
				return p + 1;
			return 0;
		}
	}
	while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n')
		p++;
	return p;
}
/* Value of key in the object at p, or NULL. */
static const char *js_get(const char *p, const char *e, const char *key)
{
	size_t kl = strlen(key);
	p = js_ws(p, e);
	if (p >= e || *p != '{')
		return 0;
	p = js_ws(p + 1, e);
	while (p < e && *p == '"') {
		const char *ks = p + 1, *ke = js_string_end(p, e);
		if (!ke)
			return 0;
		p = js_ws(ke, e);
		if (p >= e || *p++ != ':')
			return 0;
		p = js_ws(p, e);
		if ((size_t)(ke - 1 - ks) == kl && memcmp(ks, key, kl) == 0)
			return p;
		if (!(p = js_skip(p, e, 1)))
			return 0;
		p = js_ws(p, e);
		if (p < e && *p == ',')
			p = js_ws(p + 1, e);
	}
	return 0;
}

static int manifest_debug(void)
{
	size_t len;
	const char *m = enclave_manifest(&len), *e = m + len, *v;
	if (!m || !(v = js_get(m, e, "sgx")) || !(v = js_get(v, e, "debug")))
		return 0;
	return e - v >= 4 && memcmp(v, "true", 4) == 0;
}

/* -------------------------------------------------------------- init */

static void td_register(uint8_t *td)
{
	uint64_t i = rt_ld64(td + EIMG_TD_INDEX);
	if (i < RT_MAX_THREADS && i < rt_nthreads)
		rt_tds[i] = td;
}

/* One-time set-up, on the first entry of any thread. */
static struct rt_ret rt_init(uint8_t *td)
{
	struct rt_ret r = { EIMG_ECALL_OK, 0 };
	uint8_t *base = td - rt_ld64(td + EIMG_TD_SELF);
	uint64_t size = rt_ld64(td + EIMG_TD_ENCLAVE_SIZE);
	uint64_t info = rt_ld64(td + EIMG_TD_INFO);
	uint64_t threads = rt_ld64(td + EIMG_TD_THREADS);
	uint64_t heap = rt_ld64(td + EIMG_TD_HEAP), heap_size = rt_ld64(td + EIMG_TD_HEAP_SIZE);

	rt_base = base;
	rt_size = size;
	if (threads == 0 || threads > RT_MAX_THREADS || info >= size || !range_ok(heap, heap_size, size)) {
		r.status = EIMG_ECALL_EINFO;
		return r;
	}
	if (relocate(base) != 0) {
		r.status = EIMG_ECALL_EINFO;
		return r;
	}
	if (info_check(base + info, size - info) != 0) {
		r.status = EIMG_ECALL_EINFO;
		return r;
	}
	rt_info = base + info;
	rt_info_len = ld64(rt_info + 16);
	rt_nthreads = (unsigned)threads;
	eimg_rt_jump_exit = EIMG_RT_HW && ld32(rt_info + 12) == EIMG_ABI_MODE_SIMULATION;
	if (ld32(rt_info + 12) != EIMG_RT_MODE) {
		r.status = EIMG_ECALL_EMODE;
		r.detail = ld32(rt_info + 12);
		return r;
	}
	rt_log_on = EIMG_RT_MODE == EIMG_ABI_MODE_SIMULATION || manifest_debug();
	eimg_rt_heap_init(base + heap, (size_t)heap_size);
	return r;
}

/* ------------------------------------------------------------ threads */

static uint8_t *td_current(void)
{
	uint64_t sp = (uint64_t)__builtin_frame_address(0);
	for (unsigned i = 0; i < rt_nthreads; i++) {
		uint8_t *td = rt_tds[i];
		if (!td)
			continue;
		uint64_t lo = (uint64_t)rt_base + rt_ld64(td + EIMG_TD_STACK_BASE);
		uint64_t hi = (uint64_t)rt_base + rt_ld64(td + EIMG_TD_STACK_TOP);
		if (sp >= lo && sp < hi)
			return td;
	}
	return 0;
}

unsigned enclave_thread_index(void)
{
	uint8_t *td = td_current();
	return td ? (unsigned)rt_ld64(td + EIMG_TD_INDEX) : 0;
}

void enclave_lock(enclave_lock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause();
}

void enclave_unlock(enclave_lock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------- replies */

int enclave_reply(const void *data, size_t len)
{
	uint8_t *td = td_current();
	if (!td)
		return -1;
	struct rt_thread *t = rt_thread_of(td);
	if (!t->in_message)
		return -1;
	if (len > t->reply_cap - t->reply_len) {
		size_t cap = t->reply_cap ? t->reply_cap : 256;
		while (cap - t->reply_len < len) {
			if (cap > ((size_t)-1) / 2)
				return -1;
			cap *= 2;
		}
		uint8_t *n = realloc(t->reply, cap);
		if (!n)
			return -1;
		t->reply = n;
		t->reply_cap = cap;
	}
	if (len)
		memcpy(t->reply + t->reply_len, data, len);
	t->reply_len += len;
	return 0;
}

int enclave_replyf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof buf)
		return enclave_reply(buf, (size_t)n);
	/* longer than the stack buffer: format into the heap */
	char *big = malloc((size_t)n + 1);
	if (!big)
		return -1;
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int rc = enclave_reply(big, (size_t)n);
	free(big);
	return rc;
}

/* ------------------------------------------------------------- logging */

int enclave_log_enabled(void) { return rt_log_on; }

void enclave_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	uint8_t *td;
	if (!rt_log_on || !(td = td_current()))
		return;   /* release enclave: the text never leaves */
	struct rt_thread *t = rt_thread_of(td);
	if (!t->in_message || !t->host_out)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
	if (len > t->host_out_cap)
		len = t->host_out_cap;
	memcpy(t->host_out, buf, len);
	t->logged = 1;
	eimg_rt_ocall(td, EIMG_OCALL_LOG, len);
}

/* ------------------------------------------------------- host services */

int eimg_rt_host_call(uint64_t op, const void *req, size_t len, void *ans, size_t ans_cap, size_t *ans_len,
		      uint64_t *result)
{
	uint8_t *td = td_current();
	if (!td)
		return -1;
	struct rt_thread *t = rt_thread_of(td);
	if (!t->in_message || !t->host_out || len > t->host_out_cap)
		return -1;
	if (len)
		memcpy(t->host_out, req, len);
	uint64_t r = eimg_rt_ocall(td, op, len);
	*result = r;
	*ans_len = 0;
	if (r >= EIMG_OCALL_EFIRST)
		return 0;   /* the host's error code */
	/* The answer is host memory: copy it into the enclave; the caller
	 * authenticates what it means. */
	if (r > ans_cap || r > t->host_out_cap)
		return -2;
	if (r)
		memcpy(ans, t->host_out, (size_t)r);
	*ans_len = (size_t)r;
	return 0;
}

int eimg_rt_hardware(void)
{
	return EIMG_RT_HW && !eimg_rt_jump_exit;
}

/* --------------------------------------------------------------- abort */

void enclave_abort(const char *why)
{
	uint8_t *td = td_current();
	if (why && rt_log_on && td)
		enclave_log("enclave_abort: %s", why);
	rt_status_failed = EIMG_ECALL_EABORT;
	__atomic_store_n(&rt_state, RT_DEAD, __ATOMIC_RELEASE);
	if (!td) {
		for (;;)
			__builtin_trap();
	}
	/* Leave with the thread's saved host context; the enclave stack is
	 * abandoned. */
	eimg_rt_abort_exit(td, EIMG_ECALL_EABORT);
}

/* -------------------------------------------------------------- dispatch */

static void wipe_free(void *p, size_t n)
{
	if (p) {
		explicit_bzero(p, n);
		free(p);
	}
}

/* The public key the program published from enclave_init (a copy in
 * enclave memory); handed to the host by EIMG_ECALL_INIT. */
static uint8_t *rt_att_key;
static size_t rt_att_key_len;
static volatile int rt_in_init;

int enclave_set_attestation_key(const void *key, size_t len)
{
	if (!rt_in_init || rt_att_key || !key || len == 0 || len > ENCLAVE_ATTESTATION_KEY_MAX ||
	    !enclave_is_within(key, len))
		return -1;
	uint8_t *k = malloc(len);
	if (!k)
		return -1;
	memcpy(k, key, len);
	rt_att_key_len = len;
	rt_att_key = k;
	return 0;
}

/* Runs enclave_init once (the first MESSAGE or INIT runs it; others wait).
 * Returns 0, or -1 with r->status set when the enclave is dead. */
static int run_init(struct rt_thread *t, struct rt_ret *r)
{
	static volatile int init_done;
	static enclave_lock_t init_lock = ENCLAVE_LOCK_INIT;
	if (init_done)
		return 0;
	/* like enclave_lock, but gives up when enclave_init aborted the
	 * enclave while holding the lock */
	while (__atomic_exchange_n(&init_lock.locked, 1, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&rt_state, __ATOMIC_ACQUIRE) == RT_DEAD) {
			r->status = rt_status_failed;
			return -1;
		}
		__builtin_ia32_pause();
	}
	int rc = 0;
	if (!init_done) {
		t->in_message = 1;
		rt_in_init = 1;
		if (enclave_init)
			rc = enclave_init();
		rt_in_init = 0;
		t->in_message = 0;
		init_done = 1;
	}
	enclave_unlock(&init_lock);
	if (rc != 0)
		enclave_abort("enclave_init failed");
	return 0;
}

/* The host's output buffer for this call; no reply yet. */
static void host_begin(struct rt_thread *t, uint64_t out, uint64_t out_cap)
{
	t->host_out = (uint8_t *)out;
	t->host_out_cap = (size_t)out_cap;
	t->reply = 0;
	t->reply_len = t->reply_cap = 0;
}

/* EIMG_ECALL_INIT: runs enclave_init, then hands out the published key
 * (RDX = its length, 0 when none) through the output buffer. */
static struct rt_ret op_init(uint8_t *td, uint64_t a1, uint64_t a2, uint64_t out, uint64_t out_cap)
{
	struct rt_ret r = { EIMG_ECALL_OK, 0 };
	struct rt_thread *t = rt_thread_of(td);
	if (a1 || a2 || !outside(out, out_cap)) {
		r.status = EIMG_ECALL_EBADBUF;
		return r;
	}
	host_begin(t, out, out_cap);
	if (run_init(t, &r) == 0) {
		if (rt_att_key_len > out_cap) {
			r.status = EIMG_ECALL_ETOOBIG;
			r.detail = rt_att_key_len;
		} else {
			if (rt_att_key_len)
				memcpy((void *)out, rt_att_key, rt_att_key_len);
			r.detail = rt_att_key_len;
		}
	}
	eimg_rt_reply_done(t);   /* a reply made by enclave_init goes nowhere */
	t->host_out = 0;
	return r;
}

/* EIMG_ECALL_SWITCHLESS (switchless.c), after enclave_init. */
static struct rt_ret op_switchless(uint8_t *td, uint64_t ring, uint64_t size, uint64_t out, uint64_t out_cap)
{
	struct rt_ret r = { EIMG_ECALL_EBADBUF, 0 };
	struct rt_thread *t = rt_thread_of(td);
	if (!outside(out, out_cap) || out_cap < 16)
		return r;
	host_begin(t, out, out_cap);
	if (run_init(t, &r) == 0) {
		eimg_rt_reply_done(t);
		r = eimg_rt_switchless(td, t, ring, size);
	}
	t->host_out = 0;
	return r;
}

struct rt_ret eimg_rt_ecall(uint8_t *td, uint64_t op, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
	struct rt_ret r = { EIMG_ECALL_OK, 0 };
	int st = __atomic_load_n(&rt_state, __ATOMIC_ACQUIRE);

	if (st != RT_READY) {
		if (st == RT_UNINIT && __atomic_compare_exchange_n(&rt_state, &st, RT_INITIALISING, 0,
								   __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			r = rt_init(td);
			if (r.status != EIMG_ECALL_OK) {
				rt_status_failed = r.status;
				__atomic_store_n(&rt_state, RT_DEAD, __ATOMIC_RELEASE);
				return r;
			}
			__atomic_store_n(&rt_state, RT_READY, __ATOMIC_RELEASE);
			st = RT_READY;
		}
		while ((st = __atomic_load_n(&rt_state, __ATOMIC_ACQUIRE)) == RT_INITIALISING)
			__builtin_ia32_pause();
		if (st != RT_READY) {
			r.status = rt_status_failed;
			return r;
		}
	}
	td_register(td);

	if (op == EIMG_ECALL_INIT)
		return op_init(td, a1, a2, a3, a4);
	if (op == EIMG_ECALL_SWITCHLESS)
		return op_switchless(td, a1, a2, a3, a4);
	if (op != EIMG_ECALL_MESSAGE) {
		r.status = EIMG_ECALL_EBADOP;
		return r;
	}
	uint64_t in = a1, in_len = a2, out = a3, out_cap = a4;
	if (!outside(in, in_len) || !outside(out, out_cap)) {
		r.status = EIMG_ECALL_EBADBUF;
		return r;
	}
	struct rt_thread *t = rt_thread_of(td);
	host_begin(t, out, out_cap);

	/* enclave_init runs inside the first message (unless the host sent
	 * EIMG_ECALL_INIT first), so it may log. */
	if (run_init(t, &r) != 0)
		return r;

	/* Copy the message into enclave memory before anyone looks at it. */
	uint8_t *msg = malloc(in_len ? (size_t)in_len : 1);
	if (!msg) {
		r.status = EIMG_ECALL_ENOMEM;
		return r;
	}
	if (in_len)
		memcpy(msg, (const void *)in, (size_t)in_len);
	eimg_rt_handle(t, msg, (size_t)in_len, out_cap, &r);
	if (r.status == EIMG_ECALL_OK && t->reply_len)
		memcpy((void *)out, t->reply, t->reply_len);
	eimg_rt_reply_done(t);
	t->host_out = 0;
	return r;
}

void eimg_rt_handle(struct rt_thread *t, uint8_t *msg, size_t len, uint64_t reply_max, struct rt_ret *r)
{
	r->status = EIMG_ECALL_OK;
	r->detail = 0;
	t->logged = 0;
	if (!enclave_on_message) {
		wipe_free(msg, len);
		r->status = EIMG_ECALL_ENOHANDLER;
		return;
	}
	t->in_message = 1;
	int rc = enclave_on_message(msg, len);
	t->in_message = 0;
	wipe_free(msg, len);

	if (rc != 0) {
		r->status = EIMG_ECALL_EAPP;
		r->detail = (uint32_t)rc;
	} else if (t->reply_len > reply_max) {
		r->status = EIMG_ECALL_ETOOBIG;
		r->detail = t->reply_len;
	} else {
		r->detail = t->reply_len;
	}
}

void eimg_rt_reply_done(struct rt_thread *t)
{
	wipe_free(t->reply, t->reply_cap);
	t->reply = 0;
	t->reply_len = t->reply_cap = 0;
}

int eimg_rt_outside(uint64_t p, uint64_t len)
{
	return outside(p, len);
}
