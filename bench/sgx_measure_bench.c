/* SPDX-License-Identifier: Apache-2.0 */
/* Benchmark: MRENCLAVE of a large, mostly-heap SGX enclave.
 * usage: sgx_measure_bench HEAP_MIB [SGXS_PATH]
 * Constructs a layout (small ELF, HEAP_MIB of heap, 4 threads) without
 * materialising the enclave, measures it, and prints one line:
 *   pages=N data_bytes=N seconds=S mib_per_s=M cpu_seconds=S cpu_mib_per_s=M
 *   peak_rss_kib=K records_only_seconds=S mrenclave=HEX
 * (seconds: wall clock; cpu_seconds: CPU time of the process)
 * With SGXS_PATH the SGXS stream is also written there (and timed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "eimg/layout.h"
#include "eimg/sgxs.h"
#include "eimg/util.h"

static int null_sink(void *ctx, const uint8_t *buf, size_t len, eimg_error *err)
{
	(void)err;
	*(uint64_t *)ctx += len + buf[len - 1];
	return 0;
}

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time of this process: the basis openssl speed uses by default, so the
 * ratio is meaningful on a machine shared with other work. */
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: sgx_measure_bench HEAP_MIB [SGXS_PATH]\n");
		return 2;
	}
	uint64_t heap_mib = strtoull(argv[1], NULL, 10);
	static uint8_t code[3 * 4096];
	for (size_t i = 0; i < sizeof(code); i++)
		code[i] = (uint8_t)(i * 7 + 1);
	eimg_elf elf;
	memset(&elf, 0, sizeof(elf));
	elf.entry = 0x1000;
	elf.data = code;
	elf.size = sizeof(code);
	elf.seg[0] = (struct eimg_elf_segment){ .vaddr = 0, .memsz = 0x1000, .filesz = 0x1000, .flags = EIMG_SEG_R };
	elf.seg[1] = (struct eimg_elf_segment){ .vaddr = 0x1000, .memsz = 0x1000, .file_off = 0x1000, .filesz = 0x1000,
						.flags = EIMG_SEG_R | EIMG_SEG_X };
	elf.seg[2] = (struct eimg_elf_segment){ .vaddr = 0x2000, .memsz = 0x10000, .file_off = 0x2000, .filesz = 0x1000,
						.flags = EIMG_SEG_R | EIMG_SEG_W };
	elf.nseg = 3;
	elf.image_end = 0x12000;
	eimg_manifest m;
	memset(&m, 0, sizeof(m));
	m.target = EIMG_TARGET_SGX;
	m.mode = EIMG_MODE_HARDWARE;
	m.source = "bench";
	m.sgx.heap_size = heap_mib << 20;
	m.sgx.stack_size = 256 << 10;
	m.sgx.threads = 4;
	m.sgx.ssa_frames = 2;
	m.sgx.ssa_frame_size = 1;
	struct eimg_layout_input in = { .manifest = &m, .manifest_json = "{}\n", .manifest_len = 3, .elf = &elf };
	eimg_layout *l;
	eimg_error err;
	char buf[600], hex[65];
	if (eimg_layout_sgx(&in, &l, &err)) {
		fprintf(stderr, "sgx_measure_bench: %s\n", eimg_error_format(&err, buf, sizeof(buf)));
		return 1;
	}
	uint8_t md[32];
	double t0 = now(), c0 = cpu();
	if (eimg_sgx_mrenclave(l, md, &err)) {
		fprintf(stderr, "sgx_measure_bench: %s\n", eimg_error_format(&err, buf, sizeof(buf)));
		return 1;
	}
	double t = now() - t0, c = cpu() - c0;
	double data = (double)l->npages * 4096.0;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	/* The cost of producing the records alone (no hashing). */
	uint64_t sum = 0;
	double t1 = now();
	if (eimg_sgx_stream(l, null_sink, &sum, &err))
		return 1;
	t1 = now() - t1;
	printf("pages=%llu data_bytes=%.0f seconds=%.3f mib_per_s=%.1f cpu_seconds=%.3f cpu_mib_per_s=%.1f "
	       "peak_rss_kib=%ld records_only_seconds=%.3f mrenclave=%s\n",
	       (unsigned long long)l->npages, data, t, data / t / 1048576.0, c, data / c / 1048576.0, ru.ru_maxrss, t1,
	       eimg_hex(md, 32, hex));
	if (argc > 2) {
		t0 = now();
		if (eimg_sgxs_write_file(l, argv[2], &err)) {
			fprintf(stderr, "sgx_measure_bench: %s\n", eimg_error_format(&err, buf, sizeof(buf)));
			return 1;
		}
		t = now() - t0;
		getrusage(RUSAGE_SELF, &ru);
		printf("sgxs_seconds=%.3f sgxs_mib_per_s=%.1f peak_rss_kib=%ld\n", t, data / t / 1048576.0, ru.ru_maxrss);
	}
	eimg_layout_free(l);
	return 0;
}
