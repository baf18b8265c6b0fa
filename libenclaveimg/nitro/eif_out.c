/* SPDX-License-Identifier: Apache-2.0 */
/* The EIF a Nitro user deploys, written out of a (signed) Nitro image:
 * the member enclave.eif, byte for byte ("copying" progress). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eimg/image.h"
#include "eimg/nitro.h"
#include "eimg/util.h"
#include "core/internal.h"

int eimg_nitro_eif_out(const char *image_path, const char *out_path, eimg_error *err)
{
	return eimg_nitro_eif_out_progress(image_path, out_path, NULL, err);
}

int eimg_nitro_eif_out_progress(const char *image_path, const char *out_path, struct eimg_progress *p,
				eimg_error *err)
{
	eimg_image *img = NULL;
	if (eimg_same_file(image_path, out_path))
		return eimg_err(err, EIMG_EUSAGE, out_path, "the EIF would replace the image it comes from");
	int rc = eimg_image_read_file(image_path, &img, err);
	if (rc)
		return rc;
	const eimg_blob *eif = eimg_image_eif(img);
	if (!eif || eimg_blob_size(eif) == 0)
		rc = eimg_err(err, EIMG_EINVAL, image_path, "not a Nitro image: it holds no enclave.eif");
	else
		rc = eimg_blob_write_file_progress(eif, out_path, p, err);   /* streamed, atomic */
	eimg_image_free(img);
	return rc;
}
