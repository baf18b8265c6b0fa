/* SPDX-License-Identifier: Apache-2.0 */
/* SIGSTRUCT byte layout, BCD dates, rendering, and finding the SIGSTRUCT in
 * the files other SGX tool chains produce.  No cryptography here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "eimg/hash.h"
#include "eimg/sdk_enclave.h"
#include "eimg/sigstruct.h"
#include "eimg/util.h"
#include "core/internal.h"
#include "sgx/sigstruct_int.h"

static const uint8_t header1[12] = {0x06, 0, 0, 0, 0xe1, 0, 0, 0, 0, 0, 0x01, 0};
static const uint8_t header2[16] = {0x01, 0x01, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 0x01, 0, 0, 0};

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int eimg_sigstruct_decode(const char *source, const uint8_t *b, size_t len, struct eimg_sigstruct *out,
			  eimg_error *err)
{
	struct eimg_sigstruct s;
	if (len != EIMG_SIGSTRUCT_SIZE)
		return eimg_err(err, EIMG_EINVAL, source, "a SIGSTRUCT is 1808 bytes, got %zu%s", len,
				len < EIMG_SIGSTRUCT_SIZE ? " (truncated)" : "");
	memset(&s, 0, sizeof(s));
	if (memcmp(b + EIMG_SS_HEADER, header1, sizeof(header1)) != 0) {
		s.header_bad = true;
		snprintf(s.header_what, sizeof(s.header_what), "header");
	} else if (memcmp(b + EIMG_SS_HEADER2, header2, sizeof(header2)) != 0) {
		s.header_bad = true;
		snprintf(s.header_what, sizeof(s.header_what), "header2");
	}
	s.type = eimg_get_le32(b + EIMG_SS_TYPE);
	s.vendor = eimg_get_le32(b + EIMG_SS_VENDOR);
	s.date = eimg_get_le32(b + EIMG_SS_DATE);
	s.swdefined = eimg_get_le32(b + EIMG_SS_SWDEFINED);
	memcpy(s.modulus, b + EIMG_SS_MODULUS, EIMG_RSA_BYTES);
	s.exponent = eimg_get_le32(b + EIMG_SS_EXPONENT);
	memcpy(s.signature, b + EIMG_SS_SIGNATURE, EIMG_RSA_BYTES);
	s.miscselect = eimg_get_le32(b + EIMG_SS_MISCSELECT);
	s.miscmask = eimg_get_le32(b + EIMG_SS_MISCMASK);
	s.cet_attributes = b[EIMG_SS_CET_ATTR];
	s.cet_attributes_mask = b[EIMG_SS_CET_MASK];
	memcpy(s.isvfamilyid, b + EIMG_SS_ISVFAMILYID, 16);
	s.attr_flags = eimg_get_le64(b + EIMG_SS_ATTRIBUTES);
	s.attr_xfrm = eimg_get_le64(b + EIMG_SS_ATTRIBUTES + 8);
	s.mask_flags = eimg_get_le64(b + EIMG_SS_ATTRMASK);
	s.mask_xfrm = eimg_get_le64(b + EIMG_SS_ATTRMASK + 8);
	memcpy(s.enclavehash, b + EIMG_SS_ENCLAVEHASH, 32);
	memcpy(s.isvextprodid, b + EIMG_SS_ISVEXTPRODID, 16);
	s.isvprodid = eimg_get_le16(b + EIMG_SS_ISVPRODID);
	s.isvsvn = eimg_get_le16(b + EIMG_SS_ISVSVN);
	memcpy(s.q1, b + EIMG_SS_Q1, EIMG_RSA_BYTES);
	memcpy(s.q2, b + EIMG_SS_Q2, EIMG_RSA_BYTES);
	static const struct {
		size_t off, len;
		const char *name;
	} reserved[] = {
		{EIMG_SS_RESERVED1, EIMG_SS_MODULUS - EIMG_SS_RESERVED1, "reserved (44..127)"},
		{EIMG_SS_RESERVED2, EIMG_SS_ISVFAMILYID - EIMG_SS_RESERVED2, "reserved (910..911)"},
		{EIMG_SS_RESERVED3, EIMG_SS_ISVEXTPRODID - EIMG_SS_RESERVED3, "reserved (992..1007)"},
		{EIMG_SS_RESERVED4, EIMG_SS_Q1 - EIMG_SS_RESERVED4, "reserved (1028..1039)"},
	};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		if (!all_zero(b + reserved[i].off, reserved[i].len)) {
			s.reserved_nonzero = true;
			snprintf(s.reserved_what, sizeof(s.reserved_what), "%s", reserved[i].name);
			break;
		}
	}
	*out = s;
	return EIMG_OK;
}

void eimg_sigstruct_encode(const struct eimg_sigstruct *s, uint8_t b[EIMG_SIGSTRUCT_SIZE])
{
	memset(b, 0, EIMG_SIGSTRUCT_SIZE);
	memcpy(b + EIMG_SS_HEADER, header1, sizeof(header1));
	eimg_le32(b + EIMG_SS_TYPE, s->type);
	eimg_le32(b + EIMG_SS_VENDOR, s->vendor);
	eimg_le32(b + EIMG_SS_DATE, s->date);
	memcpy(b + EIMG_SS_HEADER2, header2, sizeof(header2));
	eimg_le32(b + EIMG_SS_SWDEFINED, s->swdefined);
	memcpy(b + EIMG_SS_MODULUS, s->modulus, EIMG_RSA_BYTES);
	eimg_le32(b + EIMG_SS_EXPONENT, s->exponent);
	memcpy(b + EIMG_SS_SIGNATURE, s->signature, EIMG_RSA_BYTES);
	eimg_le32(b + EIMG_SS_MISCSELECT, s->miscselect);
	eimg_le32(b + EIMG_SS_MISCMASK, s->miscmask);
	b[EIMG_SS_CET_ATTR] = s->cet_attributes;
	b[EIMG_SS_CET_MASK] = s->cet_attributes_mask;
	memcpy(b + EIMG_SS_ISVFAMILYID, s->isvfamilyid, 16);
	eimg_le64(b + EIMG_SS_ATTRIBUTES, s->attr_flags);
	eimg_le64(b + EIMG_SS_ATTRIBUTES + 8, s->attr_xfrm);
	eimg_le64(b + EIMG_SS_ATTRMASK, s->mask_flags);
	eimg_le64(b + EIMG_SS_ATTRMASK + 8, s->mask_xfrm);
	memcpy(b + EIMG_SS_ENCLAVEHASH, s->enclavehash, 32);
	memcpy(b + EIMG_SS_ISVEXTPRODID, s->isvextprodid, 16);
	eimg_le16(b + EIMG_SS_ISVPRODID, s->isvprodid);
	eimg_le16(b + EIMG_SS_ISVSVN, s->isvsvn);
	memcpy(b + EIMG_SS_Q1, s->q1, EIMG_RSA_BYTES);
	memcpy(b + EIMG_SS_Q2, s->q2, EIMG_RSA_BYTES);
}

int eimg_sigstruct_check_layout(const struct eimg_sigstruct *s, const char *source, eimg_error *err)
{
	if (s->header_bad)
		return eimg_err(err, EIMG_EVERIFY, source, "SIGSTRUCT %s constants are wrong (not a SIGSTRUCT, or corrupted)",
				s->header_what);
	if (s->reserved_nonzero)
		return eimg_err(err, EIMG_EVERIFY, source, "SIGSTRUCT %s is not zero (corrupted)", s->reserved_what);
	if (s->vendor != 0 && s->vendor != 0x8086)
		return eimg_err(err, EIMG_EVERIFY, source,
				"SIGSTRUCT vendor is 0x%x, must be 0 or 0x8086 (the kernel's enclave init refuses it)", s->vendor);
	if (s->exponent != EIMG_RSA_EXPONENT)
		return eimg_err(err, EIMG_EVERIFY, source, "SIGSTRUCT exponent is %u, must be 3", s->exponent);
	if (all_zero(s->modulus, EIMG_RSA_BYTES))
		return eimg_err(err, EIMG_EVERIFY, source, "SIGSTRUCT modulus is zero (not signed)");
	if (!(s->modulus[EIMG_RSA_BYTES - 1] & 0x80))
		return eimg_err(err, EIMG_EVERIFY, source, "SIGSTRUCT modulus is not 3072 bits (top bit clear)");
	if (!(s->modulus[0] & 1))
		return eimg_err(err, EIMG_EVERIFY, source, "SIGSTRUCT modulus is even (corrupted)");
	return EIMG_OK;
}

void eimg_sigstruct_signed_bytes(const uint8_t raw[EIMG_SIGSTRUCT_SIZE], uint8_t out[EIMG_SIGSTRUCT_SIGNED])
{
	memcpy(out, raw, 128);
	memcpy(out + 128, raw + EIMG_SS_MISCSELECT, 128);
}

void eimg_sigstruct_from_signed_bytes(const uint8_t in[EIMG_SIGSTRUCT_SIGNED], uint8_t out[EIMG_SIGSTRUCT_SIZE])
{
	memset(out, 0, EIMG_SIGSTRUCT_SIZE);
	memcpy(out, in, 128);
	memcpy(out + EIMG_SS_MISCSELECT, in + 128, 128);
}

void eimg_sigstruct_mrsigner(const struct eimg_sigstruct *s, uint8_t out[32])
{
	eimg_sha256(s->modulus, EIMG_RSA_BYTES, out);
}

bool eimg_sigstruct_debug_allowed(const struct eimg_sigstruct *s)
{
	return !(s->mask_flags & EIMG_ATTR_DEBUG) || (s->attr_flags & EIMG_ATTR_DEBUG);
}

bool eimg_sigstruct_production_allowed(const struct eimg_sigstruct *s)
{
	return !(s->mask_flags & EIMG_ATTR_DEBUG) || !(s->attr_flags & EIMG_ATTR_DEBUG);
}

/* ---- BCD dates ---- */

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && leap(y) ? 29 : d[m - 1];
}

static bool date_ok(unsigned y, unsigned m, unsigned d)
{
	return y >= 1 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

static uint32_t to_bcd(unsigned y, unsigned m, unsigned d)
{
	uint32_t v = 0;
	unsigned digits[8] = {y / 1000, y / 100 % 10, y / 10 % 10, y % 10, m / 10, m % 10, d / 10, d % 10};
	for (int i = 0; i < 8; i++)
		v = v << 4 | digits[i];
	return v;
}

static bool from_bcd(uint32_t bcd, unsigned *y, unsigned *m, unsigned *d)
{
	unsigned dg[8];
	for (int i = 0; i < 8; i++) {
		dg[i] = (bcd >> (28 - 4 * i)) & 0xf;
		if (dg[i] > 9)
			return false;
	}
	*y = dg[0] * 1000 + dg[1] * 100 + dg[2] * 10 + dg[3];
	*m = dg[4] * 10 + dg[5];
	*d = dg[6] * 10 + dg[7];
	return date_ok(*y, *m, *d);
}

bool eimg_bcd_date_valid(uint32_t bcd)
{
	unsigned y, m, d;
	return from_bcd(bcd, &y, &m, &d);
}

int eimg_bcd_date_from_epoch(uint64_t epoch, uint32_t *out, eimg_error *err)
{
	/* Civil date from days since 1970-01-01 (proleptic Gregorian), no libc
	 * time zone involved. */
	if (epoch > 253402300799ull)
		return eimg_err(err, EIMG_EINVAL, NULL, "date: %llu seconds is after the year 9999",
				(unsigned long long)epoch);
	int64_t z = (int64_t)(epoch / 86400) + 719468;
	int64_t era = z / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	if (m <= 2)
		y++;
	*out = to_bcd((unsigned)y, (unsigned)m, (unsigned)d);
	return EIMG_OK;
}

int eimg_bcd_date_parse(const char *s, uint32_t *out, eimg_error *err)
{
	unsigned v[3] = {0, 0, 0};
	static const int width[3] = {4, 2, 2};
	const char *p = s;
	for (int f = 0; f < 3; f++) {
		for (int i = 0; i < width[f]; i++, p++) {
			if (*p < '0' || *p > '9')
				goto bad;
			v[f] = v[f] * 10 + (unsigned)(*p - '0');
		}
		if (f < 2 && *p++ != '-')
			goto bad;
	}
	if (*p != '\0')
		goto bad;
	if (!date_ok(v[0], v[1], v[2]))
		return eimg_err(err, EIMG_EINVAL, NULL, "date: \"%.40s\" is not a calendar date", s);
	*out = to_bcd(v[0], v[1], v[2]);
	return EIMG_OK;
bad:;
	char esc[64];
	return eimg_err(err, EIMG_EINVAL, NULL, "date: expected YYYY-MM-DD, got \"%s\"",
			eimg_escape(s, strlen(s), esc, sizeof(esc)));
}

const char *eimg_bcd_date_format(uint32_t bcd, char *buf, size_t size)
{
	unsigned y, m, d;
	if (from_bcd(bcd, &y, &m, &d))
		snprintf(buf, size, "%04u-%02u-%02u", y, m, d);
	else
		snprintf(buf, size, "0x%08x", bcd);
	return buf;
}

/* Gramine's gramine-sgx-sign writes the date in binary: u16 year
 * (little-endian), u8 month, u8 day.  BCD is tried first (Intel, Fortanix,
 * Open Enclave, this project), then binary; else the raw value. */
const char *eimg_sigstruct_date_format(uint32_t date, char *buf, size_t size, int *encoding)
{
	unsigned y = date & 0xffff, m = (date >> 16) & 0xff, d = date >> 24;
	int enc;
	if (eimg_bcd_date_valid(date)) {
		eimg_bcd_date_format(date, buf, size);
		enc = EIMG_DATE_BCD;
	} else if (date_ok(y, m, d)) {
		snprintf(buf, size, "%04u-%02u-%02u", y, m, d);
		enc = EIMG_DATE_BINARY;
	} else {
		snprintf(buf, size, "0x%08x", date);
		enc = EIMG_DATE_RAW;
	}
	if (encoding)
		*encoding = enc;
	return buf;
}

static const char *date_note(int enc)
{
	switch (enc) {
	case EIMG_DATE_BINARY: return " (binary year, month, day, as Gramine writes it; not BCD)";
	case EIMG_DATE_RAW: return " (neither a BCD nor a binary date: shown raw)";
	default: return "";
	}
}

/* ---- rendering ---- */

int eimg_sigstruct_text(const struct eimg_sigstruct *s, const char *indent, char **out, eimg_error *err)
{
	char hex[65], date[16];
	int enc;
	uint8_t signer[32];
	struct eimg_sb b = { 0 };
	bool kss = !all_zero(s->isvfamilyid, 16) || !all_zero(s->isvextprodid, 16) || (s->attr_flags & EIMG_ATTR_KSS);

	/* The --json names (schemas/sign-output.schema.json), aligned. */
	eimg_sigstruct_mrsigner(s, signer);
	eimg_sb_field(&b, indent, "mrsigner", "%s", eimg_hex(signer, 32, hex));
	eimg_sb_field(&b, indent, "mrenclave", "%s", eimg_hex(s->enclavehash, 32, hex));
	eimg_sb_field(&b, indent, "isvprodid", "%u", s->isvprodid);
	eimg_sb_field(&b, indent, "isvsvn", "%u", s->isvsvn);
	eimg_sb_field(&b, indent, "debug_allowed", "%s", eimg_sigstruct_debug_allowed(s) ? "true" : "false");
	eimg_sb_field(&b, indent, "production_allowed", "%s", eimg_sigstruct_production_allowed(s) ? "true" : "false");
	eimg_sb_field(&b, indent, "attributes", "flags 0x%llx xfrm 0x%llx", (unsigned long long)s->attr_flags,
		      (unsigned long long)s->attr_xfrm);
	eimg_sb_field(&b, indent, "attributes_mask", "flags 0x%016llx xfrm 0x%016llx",
		      (unsigned long long)s->mask_flags, (unsigned long long)s->mask_xfrm);
	eimg_sb_field(&b, indent, "miscselect", "0x%08x", s->miscselect);
	eimg_sb_field(&b, indent, "miscmask", "0x%08x", s->miscmask);
	if (kss) {
		eimg_sb_field(&b, indent, "isvfamilyid", "%s", eimg_hex(s->isvfamilyid, 16, hex));
		eimg_sb_field(&b, indent, "isvextprodid", "%s", eimg_hex(s->isvextprodid, 16, hex));
	}
	if (s->cet_attributes || s->cet_attributes_mask) {
		eimg_sb_field(&b, indent, "cet_attributes", "0x%02x", s->cet_attributes);
		eimg_sb_field(&b, indent, "cet_attributes_mask", "0x%02x", s->cet_attributes_mask);
	}
	eimg_sigstruct_date_format(s->date, date, sizeof(date), &enc);
	eimg_sb_field(&b, indent, "date", "%s%s", date, date_note(enc));
	eimg_sb_field(&b, indent, "vendor", "0x%x%s", s->vendor, s->vendor == 0x8086 ? " (Intel)" : "");
	if (s->type || s->swdefined) {
		eimg_sb_field(&b, indent, "type", "0x%08x", s->type);
		eimg_sb_field(&b, indent, "swdefined", "0x%08x", s->swdefined);
	}
	char *buf = eimg_sb_done(&b);
	if (!buf)
		return eimg_err_nomem(err);
	*out = buf;
	return EIMG_OK;
}

static int set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char h[2 * 32 + 1];
	return json_object_set_new(o, key, json_string(eimg_hex(p, n, h)));
}

static int set_u64hex(json_t *o, const char *key, uint64_t v)
{
	char h[24];
	snprintf(h, sizeof(h), "0x%016llx", (unsigned long long)v);
	return json_object_set_new(o, key, json_string(h));
}

static int set_u32hex(json_t *o, const char *key, uint32_t v)
{
	char h[16];
	snprintf(h, sizeof(h), "0x%08x", v);
	return json_object_set_new(o, key, json_string(h));
}

json_t *eimg_sigstruct_json(const struct eimg_sigstruct *s)
{
	json_t *o = json_object(), *a = json_object(), *m = json_object();
	uint8_t signer[32];
	char date[16];
	int bad = 0;
	if (!o || !a || !m) {
		json_decref(o);
		json_decref(a);
		json_decref(m);
		return NULL;
	}
	eimg_sigstruct_mrsigner(s, signer);
	bad |= set_hex(o, "mrsigner", signer, 32);
	bad |= set_hex(o, "mrenclave", s->enclavehash, 32);
	bad |= json_object_set_new(o, "isvprodid", json_integer(s->isvprodid));
	bad |= json_object_set_new(o, "isvsvn", json_integer(s->isvsvn));
	bad |= json_object_set_new(o, "debug_allowed", json_boolean(eimg_sigstruct_debug_allowed(s)));
	bad |= json_object_set_new(o, "production_allowed", json_boolean(eimg_sigstruct_production_allowed(s)));
	bad |= set_u64hex(a, "flags", s->attr_flags);
	bad |= set_u64hex(a, "xfrm", s->attr_xfrm);
	bad |= json_object_set_new(o, "attributes", a);
	bad |= set_u64hex(m, "flags", s->mask_flags);
	bad |= set_u64hex(m, "xfrm", s->mask_xfrm);
	bad |= json_object_set_new(o, "attributes_mask", m);
	bad |= set_u32hex(o, "miscselect", s->miscselect);
	bad |= set_u32hex(o, "miscmask", s->miscmask);
	bad |= set_hex(o, "isvfamilyid", s->isvfamilyid, 16);
	bad |= set_hex(o, "isvextprodid", s->isvextprodid, 16);
	bad |= json_object_set_new(o, "cet_attributes", json_integer(s->cet_attributes));
	bad |= json_object_set_new(o, "cet_attributes_mask", json_integer(s->cet_attributes_mask));
	int enc;
	static const char *const enc_name[] = { "bcd", "binary", "raw" };
	bad |= json_object_set_new(o, "date", json_string(eimg_sigstruct_date_format(s->date, date, sizeof(date), &enc)));
	bad |= json_object_set_new(o, "date_encoding", json_string(enc_name[enc]));
	bad |= json_object_set_new(o, "vendor", json_integer(s->vendor));
	bad |= set_u32hex(o, "type", s->type);
	bad |= set_u32hex(o, "swdefined", s->swdefined);
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int eimg_sigstruct_json_string(const struct eimg_sigstruct *s, char **out, eimg_error *err)
{
	json_t *o = eimg_sigstruct_json(s);
	char *str;
	if (!o)
		return eimg_err_nomem(err);
	str = json_dumps(o, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(o);
	if (!str)
		return eimg_err_nomem(err);
	*out = str;
	return EIMG_OK;
}

int eimg_sigstruct_json_indented(const struct eimg_sigstruct *s, const char *k1, const char *v1, const char *k2,
				 const char *v2, char **out, eimg_error *err)
{
	json_t *o = eimg_sigstruct_json(s);
	char *text = NULL;
	if (!o || (k1 && json_object_set_new(o, k1, json_string(v1)) != 0) ||
	    (k2 && json_object_set_new(o, k2, json_string(v2)) != 0) ||
	    !(text = json_dumps(o, JSON_SORT_KEYS | JSON_INDENT(2)))) {
		json_decref(o);
		return eimg_err_nomem(err);
	}
	json_decref(o);
	*out = text;
	return EIMG_OK;
}

/* ---- foreign formats ---- */

const char *eimg_sigstruct_format_name(int fmt)
{
	switch (fmt) {
	case EIMG_SIGFMT_RAW: return "SIGSTRUCT";
	case EIMG_SIGFMT_INTEL_SDK: return "Intel SGX SDK signed enclave (.note.sgxmeta)";
	case EIMG_SIGFMT_OPENENCLAVE: return "Open Enclave signed enclave (.oeinfo)";
	case EIMG_SIGFMT_IMAGE: return "enclave image";
	default: return "unknown";
	}
}

int eimg_sigstruct_extract(const char *source, const uint8_t *buf, size_t len, uint8_t out[EIMG_SIGSTRUCT_SIZE],
			   int *format, eimg_error *err)
{
	const uint8_t *sec = NULL, *ss = NULL;
	size_t secsize = 0;
	int fmt, rc;

	if (len >= 4 && memcmp(buf, "\177ELF", 4) == 0) {
		rc = eimg_elf_section_find(source, buf, len, ".note.sgxmeta", &sec, &secsize, err);
		if (rc)
			return rc;
		if (sec) {
			const uint8_t *desc = NULL;
			size_t dlen = 0;
			rc = eimg_sdk_metadata_find(source, buf, len, &desc, &dlen, err);
			if (rc)
				return rc;
			if (dlen < EIMG_SGX_METADATA_SIGSTRUCT_OFF + EIMG_SIGSTRUCT_SIZE)
				return eimg_err(err, EIMG_EINVAL, source,
						"sgx_metadata note is %zu bytes, too short to hold a SIGSTRUCT at byte 64", dlen);
			ss = desc + EIMG_SGX_METADATA_SIGSTRUCT_OFF;
			fmt = EIMG_SIGFMT_INTEL_SDK;
		} else {
			rc = eimg_elf_section_find(source, buf, len, ".oeinfo", &sec, &secsize, err);
			if (rc)
				return rc;
			if (!sec)
				return eimg_err(err, EIMG_EINVAL, source,
						"ELF file without a signature: no .note.sgxmeta (Intel SDK) nor .oeinfo (Open Enclave) section");
			if (secsize < EIMG_OEINFO_SIGSTRUCT_OFF + EIMG_SIGSTRUCT_SIZE)
				return eimg_err(err, EIMG_EINVAL, source,
						".oeinfo is %zu bytes, too short to hold a SIGSTRUCT at byte 144", secsize);
			ss = sec + EIMG_OEINFO_SIGSTRUCT_OFF;
			fmt = EIMG_SIGFMT_OPENENCLAVE;
		}
	} else if (len == EIMG_SIGSTRUCT_SIZE) {
		ss = buf;
		fmt = EIMG_SIGFMT_RAW;
	} else {
		return eimg_err(err, EIMG_EINVAL, source,
				"not a SIGSTRUCT (1808 bytes) nor a signed ELF enclave: %zu bytes%s", len,
				len < EIMG_SIGSTRUCT_SIZE ? " (truncated?)" : "");
	}
	if (all_zero(ss, EIMG_SIGSTRUCT_SIZE))
		return eimg_err(err, EIMG_EINVAL, source, "not signed: the %s holds an all-zero SIGSTRUCT",
				eimg_sigstruct_format_name(fmt));
	memcpy(out, ss, EIMG_SIGSTRUCT_SIZE);
	if (format)
		*format = fmt;
	return EIMG_OK;
}
