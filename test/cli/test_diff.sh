#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-measure --diff A B, the reproducibility checker: exit 0 when the measurements are
# equal, 3 when they differ, and every difference named (manifest field, member, ELF segment
# and page range, SGXS record, EIF section, ramdisk file with mode/size/hash).
. "$(dirname "$0")/lib.sh"
EX="$EIMG_TOP/${BUILDDIR:-build}/examples"
[ -f "$EX/hello/enclave.yaml" ] || { echo "skipped: examples not built (make examples)"; exit 77; }
export SOURCE_DATE_EPOCH=0
build() { (cd "$1" && enclave-build -q -f enclave.yaml -o "../$2" ${3:+--eif "../$3"}); }

case_begin "same-inputs-equal"
cp -r "$EX/hello" h1; cp -r "$EX/hello" h2
build h1 a.eimg; build h2 b.eimg
expect 0 enclave-measure --diff a.eimg b.eimg
expect_out "^measurement_equal: +yes$"
expect_out "^differences_total: +0 \(no difference\)$"

case_begin "manifest-field-and-measured-file"
cp -r "$EX/hello" h1; cp -r "$EX/hello" h2
sed -i 's/^  heap_size:.*/  heap_size: 512K/' h2/enclave.yaml
echo more >> h2/greeting.txt
build h1 a.eimg; build h2 b.eimg
expect 3 enclave-measure --diff a.eimg b.eimg
expect_out "^measurement_equal: +no$"
expect_out "^- manifest: sgx.heap_size: 262144 vs 524288$"
expect_out "^- member files/greeting.txt: [0-9]+ bytes, sha256 [0-9a-f]{16}\.\.\. vs [0-9]+ bytes"
expect_out "^- layout: heap size: 0x40000 vs 0x80000$"

case_begin "elf-segment-page-range"
cp -r "$EX/hello" h1; cp -r "$EX/hello" h2
# flip one byte of the first loaded byte of the executable segment's second page, if it has one,
# else of its first page; the diff must name that segment and exactly that page
read -r seg page off < <("${PYTHON:-python3}" - h2/hello.elf <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
phoff, = struct.unpack_from('<Q', d, 32); phentsize, phnum = struct.unpack_from('<HH', d, 54)
loads = []
for i in range(phnum):
    t, fl, off, va, pa, fs, ms, al = struct.unpack_from('<IIQQQQQQ', d, phoff + i * phentsize)
    if t == 1: loads.append((fl, off, va, fs))
for n, (fl, off, va, fs) in enumerate(loads):
    if fl & 1 and fs > 0:
        at = off + (4096 - va % 4096 if fs > 4096 - va % 4096 else fs // 2)
        vaddr = va + (at - off)
        d[at] ^= 0xff
        open(sys.argv[1], 'wb').write(d)
        print(n, hex(vaddr & ~0xfff), at)
        break
PY
)
[ -n "${seg:-}" ] || _t_failmsg "no executable segment found in the example ELF"
build h1 a.eimg; build h2 b.eimg
expect 3 enclave-measure --diff a.eimg b.eimg
expect_out "^- member enclave.elf: "
expect_out "^- pages: ${page}-0x[0-9a-f]+ \(ELF segment $seg \(r.x\)\): 1 of [0-9]+ pages differ$"

case_begin "sgxs-streams"
cp -r "$EX/hello" h1; cp -r "$EX/hello" h2
echo more >> h2/greeting.txt
build h1 a.eimg; build h2 b.eimg
enclave-measure -q --sgxs a.sgxs a.eimg 2>/dev/null || enclave-measure --sgxs a.sgxs a.eimg >/dev/null
enclave-measure -q --sgxs b.sgxs b.eimg 2>/dev/null || enclave-measure --sgxs b.sgxs b.eimg >/dev/null
expect 3 enclave-measure --diff a.sgxs b.sgxs
expect_out "^- pages: 0x[0-9a-f]+-0x[0-9a-f]+: 1 pages differ$"
expect 0 enclave-measure --diff a.sgxs a.sgxs
cp "$EX/hello/enclave.yaml" h2/; sed -i 's/^  heap_size:.*/  heap_size: 512K/' h2/enclave.yaml
build h2 c.eimg; enclave-measure --sgxs c.sgxs c.eimg >/dev/null
expect 3 enclave-measure --diff a.sgxs c.sgxs
expect_out "record 0: ECREATE size 0x80000, SSA frame size 1 vs ECREATE size 0x100000"

case_begin "unmeasured-only-exit-0"
cp -r "$EX/hello" h1; cp -r "$EX/hello" h2
printf 'runtime:\n  greeting_language: fr\n' >> h2/enclave.yaml
build h1 a.eimg; build h2 b.eimg
expect 0 enclave-measure --diff a.eimg b.eimg
expect_out "^measurement_equal: +yes$"
expect_out "^~ runtime.json \(unmeasured\): greeting_language: \(absent\) vs \"fr\"$"

case_begin "nitro-eif-and-ramdisk-files"
cp -r "$EX/nitro" n1; cp -r "$EX/nitro" n2
echo new > n2/app/share/hello/new.txt
chmod 0755 n2/app/share/hello/greeting.txt
sed -i 's/console=ttyS0/console=ttyS1/' n2/enclave.yaml
build n1 a.eimg a.eif; build n2 b.eimg b.eif
expect 3 enclave-measure --diff a.eif b.eif
expect_out "^pcr0: +[0-9a-f]{96} vs [0-9a-f]{96}$"
expect_out "^- EIF section 1 \(cmdline\): \".*console=ttyS0.*\" vs \".*console=ttyS1.*\"$"
expect_out "^- EIF section [0-9]+ \(ramdisk\): rootfs/share/hello/greeting.txt: mode 100644 vs 100755$"
expect_out "^- EIF section [0-9]+ \(ramdisk\): rootfs/share/hello/new.txt: only in the second \(mode 100644, 4 bytes\)$"
expect 3 enclave-measure --diff a.eimg b.eimg
expect_out "^- manifest: nitro.cmdline: "
expect 0 enclave-measure --diff a.eif a.eif
expect_out "^pcr2: +[0-9a-f]{96} \(equal\)$"

case_begin "json-output"
cp -r "$EX/hello" h1; cp -r "$EX/hello" h2
echo more >> h2/greeting.txt
build h1 a.eimg; build h2 b.eimg
expect 3 enclave-measure --diff --json a.eimg b.eimg
echo "$out" > d.json
"${PYTHON:-python3}" - d.json "$EIMG_TOP/schemas/diff-output.schema.json" <<'PY' || _t_failmsg "JSON output wrong"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["measurement_equal"] is False
assert d["measurement_a"]["mrenclave"] != d["measurement_b"]["mrenclave"]
assert any(x["where"] == "member files/greeting.txt" and x["measured"] for x in d["differences"]), d
assert d["differences_total"] == len(d["differences"])
try:
    import jsonschema
    jsonschema.validate(d, json.load(open(sys.argv[2])))
except ImportError:
    pass
PY

case_begin "refused"
cp -r "$EX/hello" h1; build h1 a.eimg
enclave-measure --sgxs a.sgxs a.eimg >/dev/null
expect 1 enclave-measure --diff a.eimg a.sgxs
expect_err "'a.eimg' is an enclave image, 'a.sgxs' an SGXS stream: compare like with like"
expect_one_line_err
expect 1 enclave-measure --diff a.eimg missing.eimg
expect_err "missing.eimg"
expect 2 enclave-measure --diff a.eimg
expect_err "two inputs"
expect 2 enclave-measure --diff --expect 00 a.eimg a.eimg
finish
