#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Outputs never replace inputs, in every tool and mode (exit 2, the input's
# bytes unchanged, no temporary file left): the manifest, the enclave ELF, a
# measured file, a user key, the Nitro kernel, init and a file of the
# application tree, the image being signed, exported or run, names reached
# through a symbolic link.  And a temporary output never outlives SIGINT,
# SIGTERM or SIGHUP during a large build.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
command -v gcc >/dev/null || { echo "skipped: gcc not installed"; exit 77; }
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }

mkproject() { # folder [size of the measured file in MiB]
	mkdir -p "$1/data" "$1/keys"
	printf 'void enclave_entry(void) { for (;;) __asm__ volatile("pause"); }\n' > "$1/e.c"
	gcc -O1 -nostdlib -static-pie -fPIE -ffreestanding -fno-stack-protector -Wl,-z,max-page-size=4096 \
		-Wl,-z,separate-code -Wl,-z,noexecstack -Wl,-e,enclave_entry -o "$1/app.elf" "$1/e.c"
	if [ "${2:-0}" -gt 0 ]; then head -c "${2}M" /dev/urandom > "$1/data/big.bin"; else printf 'hello\n' > "$1/data/big.bin"; fi
	openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout -out "$1/keys/alice.pem" 2>/dev/null
	cat > "$1/enclave.yaml" <<'Y'
version: 1
name: demo
target: sgx
mode: simulation
sgx:
  enclave: app.elf
  heap_size: 128K
  stack_size: 16K
  threads: 1
  product_id: 1
  security_version: 1
files:
  - path: data/big.bin
user_keys:
  - path: keys/alice.pem
    name: alice
Y
}
mknitro() { # folder
	mkdir -p "$1/app/bin"
	head -c 100000 /dev/zero | tr '\0' 'K' > "$1/bzImage"
	printf '#!/bin/sh\necho init\n' > "$1/init"; chmod 755 "$1/init"
	printf '#!/bin/sh\necho hello\n' > "$1/app/bin/hello"; chmod 755 "$1/app/bin/hello"
	cat > "$1/enclave.yaml" <<'Y'
version: 1
name: outputs
target: nitro
nitro:
  kernel: bzImage
  cmdline: "console=ttyS0"
  init: init
  app: app
  entrypoint: ["/bin/hello"]
  memory: 512M
  cpus: 2
Y
}
# refused EXPECTED-INPUT CMD...: exit 2 naming the output, the input unchanged, no temporary file
refused() {
	local victim=$1; shift
	cp "$victim" "$_t_root/.keep"
	expect 2 "$@"
	expect_err "is also an input of this command.*an output never replaces an input; nothing was written"
	expect_one_line_err
	cmp -s "$victim" "$_t_root/.keep" || _t_failmsg "$victim was changed by: $*"
	[ -z "$(find . -name '.eimg-*')" ] || _t_failmsg "temporary file left: $(find . -name '.eimg-*')"
}

case_begin build_sgx_inputs
mkproject p
refused p/enclave.yaml enclave-build -f p/enclave.yaml -o p/enclave.yaml
refused p/app.elf enclave-build -f p/enclave.yaml -o p/app.elf
refused p/data/big.bin enclave-build -f p/enclave.yaml -o p/data/big.bin
refused p/keys/alice.pem enclave-build -f p/enclave.yaml -o p/keys/alice.pem
ln -s p/app.elf link.elf
refused p/app.elf enclave-build -f p/enclave.yaml -o link.elf
expect_err "^enclave-build: 'link.elf': is also an input of this command \\(read as 'p/app.elf'\\)"
ln p/data/big.bin hard.bin
refused p/data/big.bin enclave-build -f p/enclave.yaml -o hard.bin
expect 0 enclave-build -q -f p/enclave.yaml -o ok.eimg

case_begin build_nitro_inputs
mknitro n
refused n/init enclave-build -q -f n/enclave.yaml -o n.eimg --eif n/init
expect_no_file n.eimg
refused n/bzImage enclave-build -q -f n/enclave.yaml -o n/bzImage --eif n.eif
expect_no_file n.eif
refused n/app/bin/hello enclave-build -q -f n/enclave.yaml -o n.eimg --eif n/app/bin/hello
expect_no_file n.eimg
expect 0 enclave-build -q -f n/enclave.yaml -o n.eimg --eif n.eif

case_begin sign_outputs
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg
openssl genrsa -3 -out k.pem 3072 2>/dev/null
refused a.eimg enclave-sign export -o a.eimg a.eimg
refused a.eimg enclave-sign export --digest -o a.eimg a.eimg
ln -s a.eimg l.eimg
refused a.eimg enclave-sign export -o l.eimg a.eimg
# signing updates the image in place: the one replacement that is meant
cp a.eimg b.eimg
expect 0 enclave-sign -k k.pem a.eimg
cmp -s a.eimg b.eimg && _t_failmsg "in-place signing changed nothing"
expect 0 enclave-sign -k k.pem -o b.eimg b.eimg
expect_same a.eimg b.eimg
expect 0 enclave-sign verify a.eimg
mknitro n
expect 0 enclave-build -q -f n/enclave.yaml -o n.eimg --eif n.eif
openssl ecparam -name secp384r1 -genkey -noout -out ec.key
openssl req -x509 -new -key ec.key -subj /CN=t -days 3 -out ec.pem 2>/dev/null
refused n.eif enclave-sign export --cert ec.pem -o n.eif n.eif
refused n.eimg enclave-sign export --cert ec.pem -o n.eimg n.eimg
refused ec.pem enclave-sign -k ec.key --cert ec.pem -o ec.pem n.eif
expect 0 enclave-sign -k ec.key --cert ec.pem n.eif

case_begin run_attestation_out
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg
refused a.eimg enclave-run --attestation-out a.eimg a.eimg
[ -z "$out" ] || _t_failmsg "something ran: $out"

case_begin measure_sgxs_out
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg
cp a.eimg keep.eimg
expect 2 enclave-measure --sgxs a.eimg a.eimg
expect_same a.eimg keep.eimg

# ---- a signal during a large build leaves no temporary file (and no output)
case_begin signal_during_build
mkproject p 96
for sig in INT TERM HUP; do
	"$PY" - "$sig" <<'P' || _t_failmsg "SIG$sig: the helper failed"
import os, signal, subprocess, sys, time
sig = getattr(signal, "SIG" + sys.argv[1])
p = subprocess.Popen(["enclave-build", "-q", "-f", "p/enclave.yaml", "-o", "big.eimg"], stderr=subprocess.PIPE)
seen = False
deadline = time.monotonic() + 50
while p.poll() is None and time.monotonic() < deadline:
    if any(n.startswith(".eimg-") for n in os.listdir(".")):
        seen = True
        p.send_signal(sig)
        break
rc = p.wait()
if not seen:
    print("  the temporary output was never seen (exit %d)" % rc); sys.exit(1)
if rc != -sig:
    print("  exit %d, expected death by signal %d" % (rc, sig)); sys.exit(1)
left = [n for n in os.listdir(".") if n.startswith(".eimg-") or n == "big.eimg"]
if left:
    print("  left behind:", left); sys.exit(1)
P
done
# the signal kept at its default or ignored disposition by the caller stays so: SIGHUP ignored (nohup)
"$PY" - <<'P' || _t_failmsg "ignored SIGHUP: the helper failed"
import os, signal, subprocess, sys
p = subprocess.Popen(["enclave-build", "-q", "-f", "p/enclave.yaml", "-o", "big.eimg"],
                     preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
while p.poll() is None:
    if any(n.startswith(".eimg-") for n in os.listdir(".")):
        p.send_signal(signal.SIGHUP)
        break
if p.wait() != 0 or not os.path.exists("big.eimg"):
    print("  an ignored SIGHUP stopped the build"); sys.exit(1)
P
rm -f big.eimg
finish
