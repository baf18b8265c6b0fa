/* SPDX-License-Identifier: Apache-2.0 */
/* Intel SGX SDK enclaves: finding the metadata in .note.sgxmeta, reading
 * every blob (any metadata version since 2016), the checks Intel's loader
 * makes, and what the layout table amounts to.  Byte layout:
 * eimg/sdk_enclave.h and man/enclave-measurement.7. */
#include <stdlib.h>
#include <string.h>

#include "eimg/sdk_enclave.h"
#include "sgx/sdk_int.h"
#include "core/internal.h"

#define HDR_SIZE   1872u      /* up to the directories */
#define ROW_SIZE   32u
#define PATCH_SIZE 32u
#define EXT_SIZE   16u
#define ELRANGE_SIZE 24u
#define EXT_SHARED_OBJECT 0x1002u

static const char note_name[] = "sgx_metadata";

bool eimg_sdk_is_sdk_elf(const uint8_t *buf, size_t len)
{
	const uint8_t *sec = NULL;
	size_t n = 0;
	if (len < 4 || memcmp(buf, "\177ELF", 4) != 0)
		return false;
	return eimg_elf_section_find(NULL, buf, len, ".note.sgxmeta", &sec, &n, NULL) == EIMG_OK && sec;
}

static unsigned major_of(uint64_t v)
{
	return (unsigned)(v >> 32);
}

static unsigned minor_of(uint64_t v)
{
	return (unsigned)(v & 0xffffffffu);
}

/* Directories present: patch and layout always; elrange and extend where
 * the version has them (Intel's is_extend_entry_supported, ELRANGE majors). */
static unsigned dirs_of(uint64_t v)
{
	unsigned maj = major_of(v) % 10, min = minor_of(v);
	if (major_of(v) > 10)
		return 4;
	if (maj == 2 || (maj == 1 && min < 5) || (maj == 3 && min < 2))
		return 2;
	return 4;
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* The metadata starts right after the 13-byte name: note offset 25. */
int eimg_sdk_metadata_find(const char *source, const uint8_t *buf, size_t len, const uint8_t **desc, size_t *dlen,
			   eimg_error *err)
{
	const uint8_t *sec = NULL;
	size_t n = 0;
	int rc = eimg_elf_section_find(source, buf, len, ".note.sgxmeta", &sec, &n, err);
	if (rc)
		return rc;
	if (!sec)
		return eimg_err(err, EIMG_EINVAL, source, "not an Intel SGX SDK enclave: no .note.sgxmeta section");
	if (n < EIMG_SDK_NOTE_DESC_OFF)
		return eimg_err(err, EIMG_EINVAL, source, ".note.sgxmeta: %zu bytes, too short for the sgx_metadata note", n);
	uint32_t namesz = eimg_get_le32(sec), descsz = eimg_get_le32(sec + 4);
	if (namesz != sizeof(note_name) || memcmp(sec + 12, note_name, sizeof(note_name)) != 0)
		return eimg_err(err, EIMG_EINVAL, source, ".note.sgxmeta: the note is not named \"sgx_metadata\"");
	if (descsz > n - EIMG_SDK_NOTE_DESC_OFF)
		return eimg_err(err, EIMG_EINVAL, source,
				".note.sgxmeta: the metadata (%u bytes at note offset 25) runs past the section (%zu bytes)",
				descsz, n);
	const uint8_t *d = sec + EIMG_SDK_NOTE_DESC_OFF;
	if (descsz >= 8 && eimg_get_le64(d) == EIMG_SGX_METADATA_MAGIC) {
		*desc = d;
		*dlen = descsz;
		return EIMG_OK;
	}
	if (zero(d, descsz))
		return eimg_err(err, EIMG_EINVAL, source,
				".note.sgxmeta: the metadata is all zeros: an enclave.so that sgx_sign has not processed "
				"(its layout comes from the sign tool's configuration; sign it, or measure the .signed.so)");
	bool padded = n >= 28 + 8 && eimg_get_le64(sec + 28) == EIMG_SGX_METADATA_MAGIC;
	return eimg_err(err, EIMG_EINVAL, source,
			".note.sgxmeta: no metadata magic at note offset 25 (right after the 13-byte name, where "
			"Intel's sign tool puts it)%s",
			padded ? "; found at offset 28 (name padded to 4): not as Intel's tools write it" : "");
}

static int find_desc(eimg_sdk_enclave *e, eimg_error *err)
{
	const uint8_t *d = NULL;
	size_t n = 0;
	int rc = eimg_sdk_metadata_find(e->source, e->file, e->file_len, &d, &n, err);
	if (rc)
		return rc;
	e->desc_offset = (uint64_t)(d - e->file);
	e->desc_size = n;
	return EIMG_OK;
}

static void read_row(const uint8_t *p, struct eimg_sdk_layout *r)
{
	memset(r, 0, sizeof(*r));
	r->id = eimg_get_le16(p);
	r->group = (r->id & EIMG_SDK_GROUP_FLAG) != 0;
	if (r->group) {
		r->entry_count = eimg_get_le16(p + 2);
		r->load_times = eimg_get_le32(p + 4);
		r->load_step = eimg_get_le64(p + 8);
		return;
	}
	r->attributes = eimg_get_le16(p + 2);
	r->page_count = eimg_get_le32(p + 4);
	r->rva = eimg_get_le64(p + 8);
	r->content_size = eimg_get_le32(p + 16);
	r->content_offset = eimg_get_le32(p + 20);
	r->si_flags = eimg_get_le64(p + 24);
}

static bool in_blob(const struct eimg_sdk_metadata *m, uint32_t off, uint32_t size)
{
	return (off == 0 && size == 0) || (off < m->size && size <= m->size - off);
}

static int blob_err(eimg_error *err, const char *source, size_t i, const char *what)
{
	return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: %s", i, what);
}

static int read_tables(struct eimg_sdk_metadata *m, const char *source, size_t idx, eimg_error *err)
{
	const uint8_t *b = m->blob;
	uint32_t lsz = m->dir_size[EIMG_SDK_DIR_LAYOUT], psz = m->dir_size[EIMG_SDK_DIR_PATCH];
	if (lsz % ROW_SIZE || psz % PATCH_SIZE)
		return blob_err(err, source, idx, "the layout or patch table size is not a whole number of entries");
	m->nlayout = lsz / ROW_SIZE;
	m->npatch = psz / PATCH_SIZE;
	m->layout = calloc(m->nlayout ? m->nlayout : 1, sizeof(*m->layout));
	m->patch = calloc(m->npatch ? m->npatch : 1, sizeof(*m->patch));
	if (!m->layout || !m->patch)
		return eimg_err_nomem(err);
	for (size_t i = 0; i < m->nlayout; i++)
		read_row(b + m->dir_offset[EIMG_SDK_DIR_LAYOUT] + i * ROW_SIZE, &m->layout[i]);
	for (size_t i = 0; i < m->npatch; i++) {
		const uint8_t *p = b + m->dir_offset[EIMG_SDK_DIR_PATCH] + i * PATCH_SIZE;
		m->patch[i].dst = eimg_get_le64(p);
		m->patch[i].src = eimg_get_le32(p + 8);
		m->patch[i].size = eimg_get_le32(p + 12);
		if (!in_blob(m, m->patch[i].src, m->patch[i].size))
			return blob_err(err, source, idx, "a patch entry's source lies outside the metadata");
	}
	if (m->ndirs > EIMG_SDK_DIR_ELRANGE && major_of(m->version) > 10) {
		if (m->dir_size[EIMG_SDK_DIR_ELRANGE] != ELRANGE_SIZE || m->dir_offset[EIMG_SDK_DIR_ELRANGE] == 0)
			return blob_err(err, source, idx, "ELRANGE metadata without a valid ELRANGE entry");
		const uint8_t *p = b + m->dir_offset[EIMG_SDK_DIR_ELRANGE];
		m->elrange_image = eimg_get_le64(p);
		m->elrange_start = eimg_get_le64(p + 8);
		m->elrange_size = eimg_get_le64(p + 16);
	}
	if (m->ndirs > EIMG_SDK_DIR_EXTEND && m->dir_offset[EIMG_SDK_DIR_EXTEND] && m->dir_size[EIMG_SDK_DIR_EXTEND]) {
		for (uint32_t o = 0; o + EXT_SIZE <= m->dir_size[EIMG_SDK_DIR_EXTEND]; o += EXT_SIZE) {
			const uint8_t *p = b + m->dir_offset[EIMG_SDK_DIR_EXTEND] + o;
			if (eimg_get_le32(p) == EXT_SHARED_OBJECT && eimg_get_le32(p + 4) && eimg_get_le32(p + 8))
				m->extend_shared_object = true;
		}
	}
	return EIMG_OK;
}

static int read_blob(const uint8_t *b, size_t avail, struct eimg_sdk_metadata *m, const char *source, size_t idx,
		     eimg_error *err)
{
	memset(m, 0, sizeof(*m));
	m->blob = b;
	m->version = eimg_get_le64(b + 8);
	m->size = eimg_get_le32(b + 16);
	m->tcs_policy = eimg_get_le32(b + 20);
	m->ssa_frame_size = eimg_get_le32(b + 24);
	m->max_save_buffer_size = eimg_get_le32(b + 28);
	m->desired_misc_select = eimg_get_le32(b + 32);
	m->tcs_min_pool = eimg_get_le32(b + 36);
	m->enclave_size = eimg_get_le64(b + 40);
	m->attr_flags = eimg_get_le64(b + 48);
	m->attr_xfrm = eimg_get_le64(b + 56);
	m->sigstruct_raw = b + EIMG_SGX_METADATA_SIGSTRUCT_OFF;
	m->ndirs = dirs_of(m->version);
	unsigned maj = major_of(m->version) % 10;
	if (maj < 1 || maj > 3 || (major_of(m->version) > 3 && major_of(m->version) != 11 && major_of(m->version) != 13))
		return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: version %u.%u is not one this reader knows (1.x, 2.x, 3.x, 11.x, 13.x)",
				idx, major_of(m->version), minor_of(m->version));
	if (m->size < HDR_SIZE + 8 * m->ndirs || m->size > avail || m->size > EIMG_SDK_MAX_BLOB)
		return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: size %u is not between %u and %zu bytes", idx,
				m->size, HDR_SIZE + 8 * m->ndirs, avail < EIMG_SDK_MAX_BLOB ? avail : (size_t)EIMG_SDK_MAX_BLOB);
	for (unsigned i = 0; i < m->ndirs; i++) {
		m->dir_offset[i] = eimg_get_le32(b + HDR_SIZE + 8 * i);
		m->dir_size[i] = eimg_get_le32(b + HDR_SIZE + 8 * i + 4);
		if (!in_blob(m, m->dir_offset[i], m->dir_size[i]))
			return blob_err(err, source, idx, "a directory lies outside the metadata");
	}
	int rc = eimg_sigstruct_decode(source, m->sigstruct_raw, EIMG_SIGSTRUCT_SIZE, &m->sigstruct, err);
	return rc ? rc : read_tables(m, source, idx, err);
}

static int check_blob(const struct eimg_sdk_metadata *m, const char *source, size_t idx, eimg_error *err)
{
	if (m->tcs_policy > 1)
		return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: TCS policy %u is neither 0 (bind) nor 1 (unbind)", idx,
				m->tcs_policy);
	if (m->ssa_frame_size < 1 || m->ssa_frame_size > 4)
		return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: SSA frame size %u pages is not 1 to 4", idx,
				m->ssa_frame_size);
	if (m->enclave_size < 2 * EIMG_PAGE || (m->enclave_size & (m->enclave_size - 1)) ||
	    m->enclave_size > EIMG_SGXS_MAX_SIZE)
		return eimg_err(err, EIMG_EINVAL, source, "SDK metadata %zu: enclave size %#llx is not a power of two from 8 KiB to 64 GiB",
				idx, (unsigned long long)m->enclave_size);
	if (m->elrange_size) {
		uint64_t end = m->elrange_start + m->elrange_size;
		if ((m->elrange_size & (m->elrange_size - 1)) || m->elrange_size > EIMG_SGXS_MAX_SIZE ||
		    m->elrange_start % m->elrange_size || m->elrange_image % EIMG_PAGE || m->elrange_image < m->elrange_start ||
		    end < m->elrange_start || m->elrange_image >= end || m->enclave_size > end - m->elrange_image)
			return blob_err(err, source, idx, "the ELRANGE entry is not a power-of-two range holding the enclave");
	}
	for (size_t i = 0; i < m->npatch; i++)
		if (m->patch[i].dst >= m->enclave_size || m->patch[i].size > m->enclave_size - m->patch[i].dst)
			return blob_err(err, source, idx, "a patch entry's destination lies outside the enclave");
	return eimg_sdk_check_layout(m, source, idx, err);
}

static int read_all(eimg_sdk_enclave *e, eimg_error *err)
{
	const uint8_t *d = e->file + e->desc_offset;
	size_t off = 0;
	while (off + HDR_SIZE + 16 <= e->desc_size && eimg_get_le64(d + off) == EIMG_SGX_METADATA_MAGIC) {
		if (e->nmeta == EIMG_SDK_MAX_BLOBS)
			return eimg_err(err, EIMG_EINVAL, e->source, "SDK metadata: more than %d blobs", EIMG_SDK_MAX_BLOBS);
		struct eimg_sdk_metadata *m = &e->meta[e->nmeta];
		int rc = read_blob(d + off, e->desc_size - off, m, e->source, e->nmeta, err);
		e->nmeta++;
		if (!rc)
			rc = check_blob(m, e->source, e->nmeta - 1, err);
		if (rc)
			return rc;
		eimg_sdk_summarise(m);
		off += m->size;
	}
	if (e->nmeta == 0)
		return eimg_err(err, EIMG_EINVAL, e->source, "SDK metadata: %llu bytes, too short for a metadata header",
				(unsigned long long)e->desc_size);
	e->is_signed = !zero(e->meta[0].sigstruct_raw, EIMG_SIGSTRUCT_SIZE);
	return EIMG_OK;
}

int eimg_sdk_open(const char *source, const uint8_t *buf, size_t len, eimg_sdk_enclave **out, eimg_error *err)
{
	eimg_sdk_enclave *e = calloc(1, sizeof(*e));
	if (!e)
		return eimg_err_nomem(err);
	e->source = source ? source : "enclave";
	e->file = buf;
	e->file_len = len;
	int rc = find_desc(e, err);
	if (!rc)
		rc = read_all(e, err);
	if (!rc)
		rc = eimg_sdk_read_elf(e, err);
	if (rc) {
		eimg_sdk_free(e);
		return rc;
	}
	*out = e;
	return EIMG_OK;
}

void eimg_sdk_free(eimg_sdk_enclave *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nmeta; i++) {
		free(e->meta[i].layout);
		free(e->meta[i].patch);
	}
	free(e);
}
