#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The in-enclave supervisor in Nitro images (enclave-nitro(7)): a manifest with
# ingress or egress gets the supervisor at /enclaveimg/eimg-supervisor and a cmd
# that starts it, checked file by file with the independent cpio reader
# (test/py/cpio_read.py); its SHA-384 recorded in the canonical manifest and
# shown by enclave-measure; a manifest without a policy gives the same bytes as
# before whatever supervisor is around; where enclave-build finds it (manifest
# key over EIMG_SUPERVISOR), pins, bad inputs, reproducibility, tampering,
# --diff, and a container image as the application.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
export SOURCE_DATE_EPOCH=1700000000

# Two distinct stand-in supervisors (ELF files; their bytes are opaque here).
mksup() { cp /bin/true sup1; cp /bin/false sup2; chmod 755 sup1 sup2; }
mknitro() { # folder [policy: yes/no]
	nitro_inputs "$1" nitro-sup
	printf '  entrypoint: ["/bin/hello", "--port", "8000"]\n  env: ["GREETING=hi"]\n' >> "$1/enclave.yaml"
	if [ "${2:-yes}" = yes ]; then
		printf '  ingress: [8000]\n  egress:\n    allow: ["*.example.com:443"]\n    deny: ["169.254.169.254"]\n' >> "$1/enclave.yaml"
	fi
}
# The application ramdisk of an EIF, file by file: "name mode size sha384" lines,
# then the cmd and env files' contents; independent of the library.
ramdisk() { # eif
	EIMG_TOP="$EIMG_TOP" "$PY" - "$1" <<'PY'
import hashlib, os, sys
sys.path.insert(0, os.path.join(os.environ["EIMG_TOP"], "test", "py"))
import cpio_read
rds = cpio_read.eif_ramdisks(open(sys.argv[1], "rb").read())
t = cpio_read.tree(rds[1])
for k in sorted(t):
    print("%s %o %d %s" % (k, t[k]["mode"], t[k]["size"], hashlib.sha384(t[k]["data"]).hexdigest()))
print("CMD " + t["cmd"]["data"].decode().replace("\n", "|"))
print("ENV " + t["env"]["data"].decode().replace("\n", "|"))
open("canon.json", "wb").write(t["rootfs/etc/enclave/manifest.json"]["data"])
PY
}
sha384() { "$PY" -c 'import hashlib,sys; print(hashlib.sha384(open(sys.argv[1],"rb").read()).hexdigest())' "$1"; }
canon_get() { "$PY" -c 'import json,sys; print(json.load(open("canon.json"))["nitro"].get(sys.argv[1], "-"))' "$1"; }

case_begin placed-with-policy
mksup; mknitro p
EIMG_SUPERVISOR=$PWD/sup1 expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg --eif a.eif
ramdisk a.eif > rd.txt || _t_failmsg "cannot read the ramdisk"
h=$(sha384 sup1)
grep -qx "rootfs/enclaveimg/eimg-supervisor 100755 $(stat -c %s sup1) $h" rd.txt ||
	_t_failmsg "the supervisor is not at rootfs/enclaveimg/eimg-supervisor (0755, its bytes): $(grep enclaveimg rd.txt)"
grep -q "^rootfs/enclaveimg 40755 " rd.txt || _t_failmsg "no rootfs/enclaveimg folder"
grep -qx "CMD /enclaveimg/eimg-supervisor|--manifest|/etc/enclave/manifest.json|" rd.txt ||
	_t_failmsg "cmd does not start the supervisor: $(grep ^CMD rd.txt)"
grep -qx "ENV GREETING=hi|" rd.txt || _t_failmsg "env is not the manifest's: $(grep ^ENV rd.txt)"
[ "$(canon_get supervisor_sha384)" = "$h" ] || _t_failmsg "canonical supervisor_sha384 $(canon_get supervisor_sha384), want $h"
[ "$(canon_get supervisor)" = supervisor ] || _t_failmsg "canonical supervisor placeholder: $(canon_get supervisor)"
tar -xOf a.eimg manifest.json | cmp -s - canon.json || _t_failmsg "manifest.json differs from the ramdisk copy"
expect 0 enclave-measure a.eimg
expect_out "^  supervisor: +/enclaveimg/eimg-supervisor \(sha384 $h\)$"
expect_out "^launch_check: +ok \(cmd starts the supervisor, which starts the entrypoint"
expect 0 enclave-measure --json a.eif
echo "$out" | "$PY" -c 'import json,sys; j=json.load(sys.stdin); sys.exit(0 if j["manifest"]["nitro"]["supervisor_sha384"] == sys.argv[1] and j["launch_check"] is True else 1)' "$h" ||
	_t_failmsg "--json: manifest.nitro.supervisor_sha384 / launch_check"

case_begin no-policy-unchanged
mksup; mknitro p no
EIMG_SUPERVISOR=$PWD/sup1 expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg --eif a.eif
EIMG_SUPERVISOR=$PWD/nothere expect 0 enclave-build -q -f p/enclave.yaml -o b.eimg --eif b.eif
expect_same a.eif b.eif
ramdisk a.eif > rd.txt
grep -q enclaveimg rd.txt && _t_failmsg "a supervisor was placed without a policy"
grep -qx "CMD /bin/hello|--port|8000|" rd.txt || _t_failmsg "cmd is not the entrypoint: $(grep ^CMD rd.txt)"
[ "$(canon_get supervisor_sha384)" = - ] || _t_failmsg "canonical manifest records a supervisor without a policy"
grep -q supervisor canon.json && _t_failmsg "canonical manifest mentions a supervisor"
expect 0 enclave-measure a.eif
expect_out "^launch_check: +ok \(cmd is the entrypoint"

case_begin explicit-without-policy
mksup; mknitro p no
printf '  supervisor: ../sup2\n' >> p/enclave.yaml
expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg --eif a.eif
ramdisk a.eif > rd.txt
grep -q "^rootfs/enclaveimg/eimg-supervisor 100755 .* $(sha384 sup2)$" rd.txt || _t_failmsg "nitro.supervisor not placed"

case_begin manifest-key-over-environment-and-pins
mksup; mknitro p
printf '  supervisor: ../sup2\n' >> p/enclave.yaml
EIMG_SUPERVISOR=$PWD/sup1 expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg --eif a.eif
ramdisk a.eif > rd.txt
[ "$(canon_get supervisor_sha384)" = "$(sha384 sup2)" ] || _t_failmsg "nitro.supervisor did not win over EIMG_SUPERVISOR"
printf '  supervisor_sha384: %s\n' "$(sha384 sup2)" >> p/enclave.yaml
expect 0 enclave-build -q -f p/enclave.yaml -o b.eimg --eif b.eif
expect_same a.eif b.eif
sed -i "s/supervisor_sha384: .*/supervisor_sha384: $(sha384 sup1)/" p/enclave.yaml
expect 3 enclave-build -q -f p/enclave.yaml -o c.eimg
expect_one_line_err
expect_err "sup2'.*pins nitro.supervisor_sha384 $(sha384 sup1)"
expect_no_file c.eimg
sed -i "s/supervisor_sha384: .*/supervisor_sha384: ABC/" p/enclave.yaml
expect 1 enclave-build -q -f p/enclave.yaml -o c.eimg
expect_err "nitro.supervisor_sha384: expected 96 lower-case hex digits"

case_begin missing-and-bad-supervisor
mksup; mknitro p
( unset EIMG_SUPERVISOR; expect 1 enclave-build -q -f p/enclave.yaml -o a.eimg
  expect_one_line_err
  expect_err "enclave.yaml': nitro.ingress/egress need the in-enclave supervisor, not found at '.*eimg-supervisor'"
  [ $_t_case_failed = 0 ] ) || _t_case_failed=1
expect_no_file a.eimg
printf 'not a program\n' > notelf
EIMG_SUPERVISOR=$PWD/notelf expect 1 enclave-build -q -f p/enclave.yaml -o a.eimg
expect_one_line_err
expect_err "notelf': the in-enclave supervisor is not an ELF program"
EIMG_SUPERVISOR=$PWD/nothere2 expect 1 enclave-build -q -f p/enclave.yaml -o a.eimg
expect_one_line_err
expect_err "nothere2"
mkdir -p p/app/enclaveimg; cp sup1 p/app/enclaveimg/eimg-supervisor
EIMG_SUPERVISOR=$PWD/sup1 expect 1 enclave-build -q -f p/enclave.yaml -o a.eimg
expect_one_line_err
expect_err "enclaveimg/eimg-supervisor, a path reserved for the supervisor"
expect_no_file a.eimg

case_begin reproducible-whatever-mtime-umask
mksup; mknitro p
EIMG_SUPERVISOR=$PWD/sup1 expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg --eif a.eif
cp sup1 sup1b; chmod 700 sup1b; touch -d @12345 sup1b
( umask 077; EIMG_SUPERVISOR=$PWD/sup1b expect 0 enclave-build -q -f p/enclave.yaml -o b.eimg --eif b.eif; [ $_t_case_failed = 0 ] ) ||
	_t_case_failed=1
expect_same a.eif b.eif
expect_same a.eimg b.eimg

case_begin tampered-supervisor-detected
mksup; mknitro p
# two same-length supervisors: swap the bytes inside the EIF, CRC fixed up
head -c 4096 /bin/true > s1; printf 'X' | dd of=s1 bs=1 seek=4000 conv=notrunc 2>/dev/null
cp s1 s2; printf 'Y' | dd of=s2 bs=1 seek=4000 conv=notrunc 2>/dev/null
EIMG_SUPERVISOR=$PWD/s1 expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg --eif a.eif
"$PY" - a.eif s1 s2 evil.eif <<'P'
import sys, zlib, struct
b = bytearray(open(sys.argv[1], "rb").read())
s1, s2 = open(sys.argv[2], "rb").read(), open(sys.argv[3], "rb").read()
i = b.find(s1)
assert i > 0 and b.find(s1, i + 1) < 0
b[i:i + len(s2)] = s2
struct.pack_into(">I", b, 544, zlib.crc32(bytes(b[:544]) + bytes(b[548:])) & 0xffffffff)
open(sys.argv[4], "wb").write(b)
P
expect 3 enclave-measure evil.eif
expect_one_line_err
expect_err "supervisor is not the one the manifest records"
expect 0 enclave-measure a.eif

case_begin diff-sees-supervisor
mksup; mknitro p
EIMG_SUPERVISOR=$PWD/sup1 expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg --eif a.eif
EIMG_SUPERVISOR=$PWD/sup2 expect 0 enclave-build -q -f p/enclave.yaml -o b.eimg --eif b.eif
expect 3 enclave-measure --diff a.eif b.eif
expect_out "\(ramdisk\): rootfs/enclaveimg/eimg-supervisor: "
expect 3 enclave-measure --diff a.eimg b.eimg
expect_out "manifest: nitro.supervisor_sha384: "
mknitro q no
expect 0 enclave-build -q -f q/enclave.yaml -o c.eimg --eif c.eif
expect 3 enclave-measure --diff c.eif a.eif
expect_out "\(ramdisk\): rootfs/enclaveimg/eimg-supervisor: only in the second"

case_begin container-image
ex="$EIMG_TOP/${BUILDDIR:-build}/examples/nitro"
if [ -d "$ex/app.oci" ]; then
	mksup
	cp -R "$ex/app.oci" "$ex/blobs" "$ex/enclave-oci.yaml" .
	grep -q "ingress:" enclave-oci.yaml || _t_failmsg "examples/nitro/enclave-oci.yaml has no policy any more"
	EIMG_SUPERVISOR=$PWD/sup1 expect 0 enclave-build -q -f enclave-oci.yaml -o a.eimg --eif a.eif
	ramdisk a.eif > rd.txt
	grep -qx "rootfs/enclaveimg/eimg-supervisor 100755 $(stat -c %s sup1) $(sha384 sup1)" rd.txt ||
		_t_failmsg "container image: no supervisor in the ramdisk"
	grep -q "^CMD /enclaveimg/eimg-supervisor|" rd.txt || _t_failmsg "container image: cmd $(grep ^CMD rd.txt)"
	expect 0 enclave-measure a.eimg
	expect_out "^launch_check: +ok \(cmd starts the supervisor"
else
	echo "  (container image case not run: $ex/app.oci not made)"
fi
finish
