/* SPDX-License-Identifier: Apache-2.0 */
/* libenclaveimg: build, sign, measure and run enclave images.  The umbrella header. */
#ifndef ENCLAVEIMG_H
#define ENCLAVEIMG_H

#include "eimg/error.h"
#include "eimg/util.h"
#include "eimg/hash.h"
#include "eimg/manifest.h"
#include "eimg/image.h"
#include "eimg/elf.h"
#include "eimg/layout.h"
#include "eimg/sgxs.h"
#include "eimg/keys.h"
#include "eimg/measure.h"
#include "eimg/expect.h"
#include "eimg/report.h"
#include "eimg/constraint.h"
#include "eimg/sigstruct.h"
#include "eimg/sdk_enclave.h"
#include "eimg/oe_enclave.h"
#include "eimg/identity.h"
#include "eimg/admit.h"
#include "eimg/runtime_config.h"
#include "eimg/eif.h"
#include "eimg/progress.h"
#include "eimg/nitro.h"
#include "eimg/nitro_image.h"
#include "eimg/nitro_run.h"
#include "eimg/nsm.h"
#include "eimg/net.h"
#include "eimg/attest.h"
#include "eimg/sim.h"
#include "eimg/sgx_hw.h"
#include "eimg/mail.h"
#include "eimg/oci.h"

#endif
