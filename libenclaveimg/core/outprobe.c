/* SPDX-License-Identifier: Apache-2.0 */
/* Whether an output can be written, asked before a long-running job whose
 * result goes there (eimg/util.h). */
#include "eimg/util.h"
#include "core/internal.h"

int eimg_output_probe(const char *path, eimg_error *err)
{
	struct eimg_outfile of;
	int rc = eimg_outfile_open(&of, path, err);
	if (rc == EIMG_OK)
		eimg_outfile_abort(&of);
	return rc;
}
