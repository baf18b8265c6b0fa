/* SPDX-License-Identifier: Apache-2.0 */
/* What the tools print: one renderer per result, as text and as JSON
 * (schemas/measure-output.schema.json, schemas/build-output.schema.json),
 * so that every tool prints the same thing the same way.
 * Each renderer has the library's one renderer signature,
 * int f(object, source, char **out, eimg_error *err): EIMG_OK and a malloc'd
 * NUL-terminated string in *out, or EIMG_ENOMEM (*out untouched). */
#ifndef EIMG_REPORT_H
#define EIMG_REPORT_H

#include "eimg/measure.h"
#include "eimg/sgxs.h"

int eimg_report_sgx_text(const eimg_sgx_image *s, const char *source, char **out, eimg_error *err);
int eimg_report_sgx_json(const eimg_sgx_image *s, const char *source, char **out, eimg_error *err);
int eimg_report_sgxs_text(const struct eimg_sgxs_info *info, const char *source, char **out, eimg_error *err);
int eimg_report_sgxs_json(const struct eimg_sgxs_info *info, const char *source, char **out, eimg_error *err);
int eimg_report_build_text(const struct eimg_build_result *r, const char *output, char **out, eimg_error *err);
int eimg_report_build_json(const struct eimg_build_result *r, const char *output, char **out, eimg_error *err);

const char *eimg_region_kind_name(int kind);

/* --print FIELD: the one scalar value called field in a JSON result, as bare
 * text (a string as is, a number in decimal, true/false).  field matches a
 * key at any depth, case-insensitively (pcr0 finds Measurements.PCR0), or
 * through a short alias, tried first (size: enclave_size, svn: isvsvn,
 * prodid: isvprodid).  EIMG_EINVAL
 * when no value or several different ones match; *value is malloc'd. */
#include "eimg/error.h"
int eimg_json_field(const char *json, const char *field, char **value, eimg_error *err);

#endif
