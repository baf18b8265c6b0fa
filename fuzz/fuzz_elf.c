/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target: the enclave ELF checks, the layout + MRENCLAVE of
 * whatever they accept, and its canonical form (accepted, a fixed point,
 * measured the same).  Never crash, never leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/elf.h"
#include "eimg/layout.h"
#include "eimg/sgxs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eimg_elf *e = malloc(sizeof(*e));
	if (!e)
		return 0;
	eimg_error err;
	/* Both policies for W+X segments. */
	if (eimg_elf_parse("fuzz.elf", data, size, false, e, &err) != EIMG_OK &&
	    eimg_elf_parse("fuzz.elf", data, size, true, e, &err) != EIMG_OK) {
		free(e);
		return 0;
	}
	if (e->data != data || e->nseg == 0 || e->nseg > EIMG_ELF_MAX_SEGMENTS || e->image_end > EIMG_ELF_MAX_IMAGE)
		abort();
	for (size_t i = 0; i < e->nseg; i++) {
		const struct eimg_elf_segment *s = &e->seg[i];
		if (s->vaddr % 4096 || s->memsz % 4096 || s->file_off + s->filesz > size ||
		    s->data_off + s->filesz > s->memsz || (i && s->vaddr < e->seg[i - 1].vaddr + e->seg[i - 1].memsz))
			abort();
	}
	/* The canonical form: valid, canonical, a fixed point, same segments. */
	uint8_t *c = NULL;
	size_t clen = 0;
	eimg_elf *ce = malloc(sizeof(*ce));
	eimg_elf_check_canonical("fuzz.elf", e, &err);
	if (!ce || eimg_elf_canonical(e, &c, &clen, &err) != EIMG_OK) {
		free(ce);
		free(e);
		return 0;
	}
	if (eimg_elf_parse("canonical", c, clen, true, ce, &err) != EIMG_OK ||
	    eimg_elf_check_canonical("canonical", ce, &err) != EIMG_OK || ce->nseg != e->nseg || ce->entry != e->entry ||
	    ce->image_end != e->image_end)
		abort();
	/* same loaded bytes: the canonical form keeps a segment's file bytes but
	 * the zeros at their end (they load as the zero fill does) */
	for (size_t i = 0; i < e->nseg; i++) {
		if (ce->seg[i].vaddr != e->seg[i].vaddr || ce->seg[i].memsz != e->seg[i].memsz ||
		    ce->seg[i].flags != e->seg[i].flags || ce->seg[i].filesz > e->seg[i].filesz ||
		    memcmp(c + ce->seg[i].file_off, data + e->seg[i].file_off, ce->seg[i].filesz) != 0)
			abort();
		for (uint64_t k = ce->seg[i].filesz; k < e->seg[i].filesz; k++)
			if (data[e->seg[i].file_off + k] != 0)
				abort();
	}
	free(ce);
	free(c);
	/* Measuring a big image is slow, not interesting: keep runs short. */
	if (e->image_end <= (16u << 20)) {
		eimg_manifest m;
		memset(&m, 0, sizeof(m));
		m.target = EIMG_TARGET_SGX;
		m.mode = EIMG_MODE_HARDWARE;
		m.sgx.heap_size = 0x2000;
		m.sgx.stack_size = 0x1000;
		m.sgx.threads = 2;
		m.sgx.ssa_frames = 1;
		m.sgx.ssa_frame_size = 1;
		struct eimg_layout_input in = { .manifest = &m, .manifest_json = "{}\n", .manifest_len = 3, .elf = e };
		eimg_layout *l = NULL;
		uint8_t md[32];
		if (eimg_layout_sgx(&in, &l, &err) != EIMG_OK || eimg_sgx_mrenclave(l, md, &err) != EIMG_OK)
			abort(); /* an accepted ELF always has a layout */
		eimg_layout_free(l);
	}
	free(e);
	return 0;
}
