#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Makes the placeholder kernel, kernel config and init that enclave.yaml names,
# in the folder given (default: blobs/ next to this script).  They are NOT a
# bootable kernel or a working init: they let the example build, measure and
# sign anywhere with stable bytes.  For a real enclave copy the blobs AWS
# publishes for nitro-cli instead (see README.md).
set -eu
out=${1:-$(dirname "$0")/blobs}
mkdir -p "$out"
# 64 KiB of a fixed pattern stands in for bzImage.
i=0; : > "$out/bzImage"
while [ $i -lt 1024 ]; do
	printf 'placeholder kernel image for examples/nitro, not bootable, block %08d\n' $i >> "$out/bzImage"
	i=$((i + 1))
done
printf '#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86 6.1.0 Kernel Configuration\n#\n' > "$out/bzImage.config"
printf '#!/bin/sh\n# placeholder init for examples/nitro: the real one is the init blob from nitro-cli\nexit 1\n' > "$out/init"
chmod 0755 "$out/init"
# The rest of a nitro-cli blobs folder, for enclave-oci.yaml's `blobs: blobs`.
printf 'placeholder nsm.ko for examples/nitro, not a kernel module\n' > "$out/nsm.ko"
printf 'reboot=k panic=30 pci=off nomodules console=ttyS0 random.trust_cpu=on\n' > "$out/cmdline"
