#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Outputs never replace inputs, in every tool and mode (exit 2, the input's
# bytes unchanged, no temporary file left): the manifest, the enclave ELF, a
# measured file, a user key, the Nitro kernel, init and a file of the
# application tree, the image being signed, exported or run, names reached
# through a symbolic link.  And a temporary output never outlives SIGINT,
# SIGTERM or SIGHUP during a large build.  Projects: the built examples.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }
EX="$EIMG_TOP/${BUILDDIR:-build}/examples"
[ -f "$EX/hello/hello.elf" ] && [ -d "$EX/nitro/blobs" ] || { echo "skipped: examples not built (make examples)"; exit 77; }

# The examples as projects: hello (ELF, a measured file) plus a user key; nitro
# (kernel, its configuration, init, an application tree).
mkproject() { # folder [size in MiB of the measured file]
	cp -r "$EX/hello" "$1"
	if [ "${2:-0}" -gt 0 ]; then head -c "${2}M" /dev/urandom > "$1/greeting.txt"; fi
	openssl genpkey -algorithm ed25519 2>/dev/null | openssl pkey -pubout -out "$1/alice.pem" 2>/dev/null
	printf 'user_keys:\n  - path: alice.pem\n    name: alice\n' >> "$1/enclave.yaml"
}
mknitro() { cp -r "$EX/nitro" "$1"; }
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
refused p/hello.elf enclave-build -f p/enclave.yaml -o p/hello.elf
refused p/greeting.txt enclave-build -f p/enclave.yaml -o p/greeting.txt
refused p/alice.pem enclave-build -f p/enclave.yaml -o p/alice.pem
ln -s p/hello.elf link.elf
refused p/hello.elf enclave-build -f p/enclave.yaml -o link.elf
expect_err "^enclave-build: 'link.elf': is also an input of this command \\(read as 'p/hello.elf'\\)"
ln p/greeting.txt hard.txt
refused p/greeting.txt enclave-build -f p/enclave.yaml -o hard.txt
expect 0 enclave-build -q -f p/enclave.yaml -o ok.eimg

case_begin build_nitro_inputs
mknitro n
refused n/blobs/init enclave-build -q -f n/enclave.yaml -o n.eimg --eif n/blobs/init
expect_no_file n.eimg
refused n/blobs/bzImage enclave-build -q -f n/enclave.yaml -o n/blobs/bzImage --eif n.eif
expect_no_file n.eif
refused n/blobs/bzImage.config enclave-build -q -f n/enclave.yaml -o n.eimg --eif n/blobs/bzImage.config
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
expect 0 enclave-sign --in-place -k k.pem a.eimg
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
expect 0 enclave-sign --in-place -k ec.key --cert ec.pem n.eif

case_begin run_attestation_out
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg
openssl genrsa -3 -out k.pem 3072 2>/dev/null
expect 0 enclave-sign --in-place -k k.pem a.eimg
refused a.eimg enclave-run -q --attestation-out a.eimg a.eimg
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
