#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Hostile archives (issue 11): a signed SGX image with a g, X, L, K, V, M or S header
# inserted, an unknown pax record, non-zero padding, every header field altered with a
# valid checksum, trailing zero padding, or a g header first.  Each variant is refused by
# every tool that reads images (enclave-measure, enclave-sign verify, enclave-sign -k,
# enclave-run; enclave-build reads no image) with the same message,
# naming the member, the offset and the field; enclave-run starts nothing.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
B="$EIMG_TOP/${BUILDDIR:-build}"
[ -f "$B/examples/hello/hello.elf" ] || { echo "skipped: examples not built (make examples)"; exit 77; }

case_begin setup
S=$PWD
openssl genrsa -3 -out key.pem 3072 2>/dev/null
(cd "$B/examples/hello" && SOURCE_DATE_EPOCH=1700000000 enclave-build -q -o "$S/good.eimg")
expect 0 enclave-sign --in-place -k key.pem good.eimg
expect 0 enclave-sign verify good.eimg
# the variants, written by an independent tar writer from enclave-image(5)
"$PY" - good.eimg "$S" "$EIMG_TOP" <<'P' || _t_failmsg "could not write the variants"
import os, sys
src, out = sys.argv[1], sys.argv[2]
good = open(src, "rb").read()

sys.path.insert(0, os.path.join(sys.argv[3], "test", "py"))
from test_image_format import header as ustar, octal, padded, pax_record as record  # the man page's writer

def fix(h):
    h = bytearray(h)
    h[148:156] = b" " * 8
    h[148:156] = octal(sum(h), 6) + b"\0 "
    return bytes(h)

def header(name, size, typeflag):
    return ustar(name, b"", size, 1700000000, typeflag)

# member header offsets
offs, off = [], 0
while good[off] != 0:
    offs.append(off)
    size = int(good[off + 124:off + 135], 8)
    off += 512 + -(-size // 512) * 512
names = [good[o:o + 100].split(b"\0")[0].decode() for o in offs]
at = {n: o for n, o in zip(names, offs)}

def write(label, data):
    open(os.path.join(out, label + ".eimg"), "wb").write(data)

def insert(label, where, blob):
    write(label, good[:where] + blob + good[where:])

payload = b"27 path=manifest.json\n"
insert("g-first", 0, header(b"pax_global_header", len(payload), b"g") + padded(payload))
insert("g-after-marker", at["manifest.json"], header(b"pax_global_header", len(payload), b"g") + padded(payload))
for t in "XLKVMS":
    data = b"files/greeting.txt\0" if t in "LK" else b"x" * 20
    insert("type-" + t, at["measurement.json"], header(b"././@LongLink", len(data), t.encode()) + padded(data))
rec = record(b"comment", b"27 MB of anything")
insert("pax-comment", at["manifest.json"], header(b"PaxHeader/manifest.json", len(rec), b"x") + padded(rec))
rec = record(b"SCHILY.xattr.user.x", b"1")
insert("pax-schily", at["manifest.json"], header(b"PaxHeader/manifest.json", len(rec), b"x") + padded(rec))
bad = bytearray(good)
bad[at["EIMAGE"] + 512 + 16] = 0x41
write("padding", bytes(bad))
write("record-padding", good + b"\0" * (-len(good) % 10240 or 10240))
fields = {"mode": (100, b"004644 \0"), "uid": (108, b"001750 \0"), "gid": (116, b"001750 \0"),
          "mtime": (136, octal(1700000001, 11) + b" "), "linkname": (157, b"/etc/shadow"),
          "magic": (257, b"ustar "), "version": (263, b" \0"), "uname": (265, b"root"), "gname": (297, b"root"),
          "devmajor": (329, b"000001 \0"), "devminor": (337, b"000001 \0"), "prefix": (345 + 20, b"x"),
          "padding": (500, b"\x01"), "name": (90, b"x")}
h0 = at["manifest.json"]
for f, (o, v) in fields.items():
    bad = bytearray(good)
    bad[h0 + o:h0 + o + len(v)] = v
    bad[h0:h0 + 512] = fix(bad[h0:h0 + 512])
    write("field-" + f, bytes(bad))
print(h0)
P
h0=$("$PY" -c 'import sys; print(open(sys.argv[1],"rb").read().find(b"manifest.json"))' good.eimg)
declare -A want=(
	[g-first]="member #1 'pax_global_header': header at offset 0: field 'typeflag' is 'g' \\(a pax global header\\)"
	[g-after-marker]="member #2 'pax_global_header': header at offset $h0: field 'typeflag' is 'g'"
	[type-X]="field 'typeflag' is 'X' \\(a Solaris extended header\\)"
	[type-L]="field 'typeflag' is 'L' \\(a GNU long name\\)"
	[type-K]="field 'typeflag' is 'K' \\(a GNU long link name\\)"
	[type-V]="field 'typeflag' is 'V' \\(a GNU volume header\\)"
	[type-M]="field 'typeflag' is 'M' \\(a GNU multi-volume continuation\\)"
	[type-S]="field 'typeflag' is 'S' \\(a GNU sparse file\\)"
	[pax-comment]="pax header at offset $h0: record 'comment' is not allowed"
	[pax-schily]="record 'SCHILY.xattr.user.x' is not allowed"
	[padding]="member 'EIMAGE': non-zero padding at offset 528"
	[record-padding]="data after the end of the archive"
)
for f in mode uid gid mtime linkname magic version uname gname devmajor devminor prefix padding name; do
	want[field-$f]="member 'manifest.json': header at offset $h0: field '$f"
done

for v in "${!want[@]}"; do
	case_begin "$v"
	cp "$S/$v.eimg" img.eimg
	cp "$S/key.pem" key.pem
	msgs=()
	for tool in "enclave-measure img.eimg" "enclave-sign verify img.eimg" "enclave-sign --in-place -k key.pem --force img.eimg" \
		    "enclave-run --lines img.eimg"; do
		code=1; case $tool in enclave-run*) code=3;; esac
		expect $code $tool </dev/null
		expect_one_line_err
		expect_err "${want[$v]}"
		msgs+=("$(echo "$errtxt" | sed 's/^enclave-[a-z]*: //')")
		case $tool in enclave-run*) [ -z "$out" ] || _t_failmsg "enclave-run produced output: $out";; esac
	done
	for m in "${msgs[@]}"; do [ "$m" = "${msgs[0]}" ] || _t_failmsg "messages differ: '${msgs[0]}' vs '$m'"; done
	expect_same img.eimg "$S/$v.eimg"
done

case_begin unknown-content
# not an archive at all: one detection routine, one message
head -c 3000 /dev/zero | tr '\0' 'Z' > img.eimg
msgs=()
for tool in "enclave-measure img.eimg" "enclave-sign verify img.eimg" "enclave-run --lines img.eimg"; do
	code=1; case $tool in enclave-run*) code=3;; esac
	expect $code $tool </dev/null
	expect_err "'img.eimg': not an enclave image \(.eimg\), EIF, SGXS stream, SIGSTRUCT or signed ELF"
	msgs+=("$(echo "$errtxt" | sed 's/^enclave-[a-z]*: //')")
done
for m in "${msgs[@]}"; do [ "$m" = "${msgs[0]}" ] || _t_failmsg "messages differ: '${msgs[0]}' vs '$m'"; done

case_begin positive-control
cp "$S/good.eimg" img.eimg
expect 0 enclave-measure img.eimg
expect 0 enclave-sign verify img.eimg
expect 0 enclave-run --lines img.eimg < <(echo world)
[ -n "$out" ] || _t_failmsg "the unaltered image did not run"
finish
