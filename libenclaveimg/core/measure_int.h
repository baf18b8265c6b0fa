/* SPDX-License-Identifier: Apache-2.0 */
/* Private to building (build.c) and measuring (measure.c). */
#ifndef EIMG_MEASURE_INT_H
#define EIMG_MEASURE_INT_H

#include "eimg/layout.h"
#include "eimg/manifest.h"
#include "eimg/measure.h"

/* The SGX measurement record's fields from the manifest and its layout. */
void eimg_fill_measurement(const eimg_manifest *man, const eimg_layout *l, struct eimg_sgx_measurement *m);
/* The image's files/ and keys/ as the layout reads them (mapped views). */
int eimg_layout_members(const eimg_image *img, struct eimg_layout_input *in, eimg_error *err);

#endif
