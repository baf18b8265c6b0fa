#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Nitro target through enclave-build and enclave-measure: PCRs, --eif, determinism,
# --expect with PCRs (exit 3 naming each PCR), tamper detection, plain EIF input.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}

mknitro() { # folder
	mkdir -p "$1/app/bin" "$1/app/etc" "$1/app/var/empty"   # an empty folder too
	head -c 200000 /dev/zero | tr '\0' 'K' > "$1/bzImage"        # placeholder kernel (real ones come from AWS)
	printf '#!/bin/sh\necho init\n' > "$1/init"; chmod 755 "$1/init"
	printf '#!/bin/sh\necho hello\n' > "$1/app/bin/hello"; chmod 755 "$1/app/bin/hello"
	printf 'greeting=hello\n' > "$1/app/etc/hello.conf"
	cat > "$1/enclave.yaml" <<'Y'
version: 1
name: nitro-demo
target: nitro
nitro:
  kernel: bzImage
  cmdline: "reboot=k panic=30 pci=off nomodules console=ttyS0"
  init: init
  app: app
  entrypoint: ["/bin/hello"]
  memory: 512M
  cpus: 2
  ingress: [8080]
  egress:
    allow: ["kms.us-east-1.amazonaws.com"]
runtime:
  log: debug
Y
}
json_get() { "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1" "$2"; }

case_begin build-nitro
mknitro p
expect 0 enclave-build -f p/enclave.yaml -o n.eimg --eif n.eif --json
echo "$out" > b.json
pcr0=$(json_get b.json measurements.pcr0); pcr1=$(json_get b.json measurements.pcr1); pcr2=$(json_get b.json measurements.pcr2)
# nitro-cli's names, for comparing with nitro-cli build-enclave: the same values
[ "$(json_get b.json nitro_cli.Measurements.PCR0)" = "$pcr0" ] || _t_failmsg "build --json: nitro_cli.Measurements.PCR0 is not pcr0"
[ ${#pcr0} = 96 ] || _t_failmsg "no PCR0 in --json"
[ -f n.eif ] || _t_failmsg "--eif not written"
[ "$(head -c 4 n.eif)" = ".eif" ] || _t_failmsg "--eif is not an EIF"
expect 0 enclave-measure --json n.eif
echo "$out" > e.json
[ "$(json_get e.json measurements.pcr0)" = "$pcr0" ] || _t_failmsg "plain EIF PCR0 differs from the build's"
[ "$(json_get e.json measurements.pcr2)" = "$pcr2" ] && [ "$(json_get e.json nitro_cli.Measurements.PCR2)" = "$pcr2" ] || _t_failmsg "plain EIF PCR2 differs from the build's"
expect 0 enclave-measure --json n.eimg
echo "$out" > i.json
"$PY" - "$EIMG_TOP/schemas/measure-output.schema.json" e.json i.json <<'P' || _t_failmsg "Nitro --json does not match schemas/measure-output.schema.json"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(0)
schema = json.load(open(sys.argv[1]))
for f in sys.argv[2:]:
    jsonschema.validate(json.load(open(f)), schema)
P
[ "$(json_get i.json measurements.pcr1)" = "$pcr1" ] || _t_failmsg "image PCR1 differs from the build's"
expect 0 enclave-build -f p/enclave.yaml -o n2.eimg
expect_out "^pcr0: +$pcr0"
expect 2 enclave-build -f p/enclave.yaml -o x.eimg --eif -
expect 2 enclave-build -f p/enclave.yaml -o same.out --eif same.out
# Both outputs or neither: the EIF cannot be written, so the image is not left behind.
expect 1 enclave-build -f p/enclave.yaml -o y.eimg --eif no/such/dir/y.eif
expect_one_line_err
expect_no_file y.eimg

case_begin nitro-determinism
mknitro p
expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg --eif a.eif
cp -r p q; touch -d '2003-01-01' q/bzImage q/init q/app/bin/hello q/app q/app/etc/hello.conf
mkdir -p w; (cd w && umask 027 && TZ=America/Lima enclave-build -q -f ../q/enclave.yaml -o ../b.eimg --eif ../b.eif)
expect_same a.eimg b.eimg
expect_same a.eif b.eif
SOURCE_DATE_EPOCH=1800000000 enclave-build -q -f p/enclave.yaml -o c.eimg --eif c.eif
cmp -s a.eif c.eif && _t_failmsg "SOURCE_DATE_EPOCH does not reach the EIF"
# Ramdisk entry times come from SOURCE_DATE_EPOCH too (they are measured): same epoch, same PCRs.
SOURCE_DATE_EPOCH=1800000000 enclave-build -q -f q/enclave.yaml -o d.eimg --eif d.eif
expect_same c.eif d.eif

case_begin nitro-policy-in-pcr2
mknitro p
expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg --eif a.eif
sed -i 's/8080/8443/' p/enclave.yaml
expect 0 enclave-build -q -f p/enclave.yaml -o b.eimg --eif b.eif
p2a=$(enclave-measure --print pcr2 a.eif); p2b=$(enclave-measure --print pcr2 b.eif)
[ "$p2a" != "$p2b" ] || _t_failmsg "the ingress policy is not covered by PCR2"
[ "$(enclave-measure --print pcr1 a.eif)" = "$(enclave-measure --print pcr1 b.eif)" ] || _t_failmsg "policy changed PCR1"
sed -i 's/log: debug/log: info/' p/enclave.yaml
expect 0 enclave-build -q -f p/enclave.yaml -o c.eimg --eif c.eif
[ "$(enclave-measure --print pcr2 b.eif)" = "$(enclave-measure --print pcr2 c.eif)" ] || _t_failmsg "the unmeasured runtime section changed PCR2"

case_begin nitro-expect
mknitro p
expect 0 enclave-build -q -f p/enclave.yaml -o n.eimg --eif n.eif
enclave-measure --json n.eif > m.json
pcr0=$(json_get m.json measurements.pcr0); pcr2=$(json_get m.json measurements.pcr2)
expect 0 enclave-measure --expect "PCR0:$pcr0 PCR2:$pcr2" n.eif
zero=$(printf '%096d' 0)
expect 3 enclave-measure --expect "PCR0:$zero PCR1:$zero PCR2:$pcr2" n.eimg
expect_one_line_err
expect_err "PCR0 differs: expected $zero, actual $pcr0"
expect_err "PCR1 differs"
echo "$errtxt" | grep -q "PCR2 differs" && _t_failmsg "PCR2 matched but was reported"
expect 3 enclave-measure --expect "PCR8:$zero" n.eif
expect_err "PCR8 differs"
expect 0 enclave-measure --constraint "PCR0:$pcr0" n.eif
expect 3 enclave-measure --constraint "PCR0:$zero" n.eif
expect_err "PCR0"

case_begin nitro-tamper
mknitro p
expect 0 enclave-build -q -f p/enclave.yaml -o n.eimg --eif n.eif
cp n.eif t.eif
"$PY" - t.eif <<'P'
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1; open(sys.argv[1], "wb").write(b)
P
expect 1 enclave-measure t.eif
expect_one_line_err
expect_err "CRC"
head -c 700 n.eif > cut.eif
expect 1 enclave-measure cut.eif
expect_one_line_err
"$PY" - n.eimg <<'P'
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    m = t.getmember("measurement.json"); data = t.extractfile(m).read()
    pos = m.offset_data + data.index(b'"pcr2": "') + 12
with open(sys.argv[1], "r+b") as f:
    f.seek(pos); c = f.read(1); f.seek(pos); f.write(b"0" if c != b"0" else b"1")
P
expect 3 enclave-measure n.eimg
expect_err "recorded PCRs"
# The manifest shown for an EIF must be the one the kernel leaves in place: the
# initramfs unpacker lets a later entry of the same path (also spelt "./a" or
# "a//b", or in an archive after the trailer) replace an earlier one, and a
# symbolic link on the way (also from an earlier ramdisk) sends it elsewhere,
# so such ramdisks have no single manifest and none is shown.
case_begin nitro-manifest-shadowed
mknitro p
expect 0 enclave-build -q -f p/enclave.yaml -o n.eimg --eif n.eif
for v in dup alias dot after link link0 single concat0; do
"$PY" - n.eif "$v.eif" "$v" <<'P'
import struct, sys, zlib
b = open(sys.argv[1], "rb").read(); how = sys.argv[3]
n = struct.unpack(">H", b[26:28])[0]
secs = []
for i in range(n):
    off = struct.unpack(">Q", b[28 + 8 * i:36 + 8 * i])[0]
    t, _, size = struct.unpack(">HHQ", b[off:off + 12])
    secs.append([t, b[off + 12:off + 12 + size]])
def ent(name, data, mode=0o100644):
    nb = name.encode() + b"\0"
    h = b"070701" + b"".join(b"%08X" % x for x in (1, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(nb), 0))
    e = h + nb
    e += b"\0" * (-len(e) % 4) + data
    return e + b"\0" * (-len(e) % 4)
good = b'{"decoy":"shown"}'; bad = b'{"real":"runs"}'
m = "rootfs/etc/enclave/manifest.json"
first = ent(m, good)
second = {"dup": ent(m, bad), "alias": ent("rootfs//etc/enclave/manifest.json", bad),
          "dot": ent("./rootfs/etc/enclave/./manifest.json", bad), "single": b"", "after": b"", "concat0": b"",
          "link": ent("x/enclave/manifest.json", bad), "link0": ent("x/enclave/manifest.json", bad)}[how]
if how == "link":
    first = ent("rootfs/etc", b"/x", 0o120777) + first
if how == "link0":  # the symbolic link comes from the boot-strap ramdisk
    r0 = [i for i, s in enumerate(secs) if s[0] == 3][0]
    t = secs[r0][1].index(b"TRAILER!!!") - 110
    secs[r0][1] = secs[r0][1][:t] + ent("rootfs/etc", b"/x", 0o120777) + ent("TRAILER!!!", b"", 0)
if how == "concat0":  # a second, harmless archive after the boot-strap ramdisk's trailer
    r0 = [i for i, s in enumerate(secs) if s[0] == 3][0]
    secs[r0][1] += b"\0" * 8 + ent("extra", b"x") + ent("TRAILER!!!", b"", 0)
rd = first + second + ent("TRAILER!!!", b"", 0)
if how == "after":
    rd += b"\0" * 512 + ent(m, bad) + ent("TRAILER!!!", b"", 0)
last = max(i for i, s in enumerate(secs) if s[0] == 3)
secs[last][1] = rd
offs, body, pos = [], b"", 548
for t, d in secs:
    offs.append(pos); sec = struct.pack(">HHQ", t, 0, len(d)) + d; body += sec; pos += len(sec)
h = bytearray(b[:548])
for i in range(32):
    h[28 + 8 * i:36 + 8 * i] = struct.pack(">Q", offs[i] if i < n else 0)
    h[284 + 8 * i:292 + 8 * i] = struct.pack(">Q", len(secs[i][1]) if i < n else 0)
h[544:548] = struct.pack(">I", zlib.crc32(body, zlib.crc32(bytes(h[:544]))))
open(sys.argv[2], "wb").write(bytes(h) + body)
P
done
for v in single concat0; do
	expect 0 enclave-measure --json "$v.eif"
	echo "$out" | grep -q '"decoy"' || _t_failmsg "$v: the only manifest copy is not shown"
done
for v in dup alias dot after link link0; do
	expect 0 enclave-measure --json "$v.eif"
	echo "$out" | grep -q '"decoy"' && _t_failmsg "$v: shows a manifest that a later ramdisk entry replaces"
done
case_begin nitro-launch-matches-manifest
mknitro p
# without a network policy, cmd is the entrypoint (with one: test_nitro_supervisor.sh)
sed -i '/ingress:/d; /egress:/d; /allow:/d' p/enclave.yaml
expect 0 enclave-build -q -f p/enclave.yaml -o n.eimg --eif n.eif
expect 0 enclave-measure n.eif
expect_out "^launch_check: +ok"
# Same-length change of what init starts ('cmd'), CRC fixed up: the PCRs change
# with it, but the manifest shown would no longer describe what runs.
"$PY" - n.eif evil.eif <<'P'
import sys, zlib, struct
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(b"/bin/hello\n")
assert i > 0 and b[i - 1:i] != b'"', "cmd not found"
b[i:i + 11] = b"/bin/evil!\n"
struct.pack_into(">I", b, 544, zlib.crc32(bytes(b[:544]) + bytes(b[548:])) & 0xffffffff)
open(sys.argv[2], "wb").write(b)
P
expect 3 enclave-measure evil.eif
expect_one_line_err
expect_err "cmd.*not the manifest's entrypoint"
finish
