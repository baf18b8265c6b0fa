#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Nitro from a container image, end to end through the tools: examples/nitro's
# OCI image (made by umoci) builds reproducibly; the same image as an OCI
# archive and a docker-archive (skopeo) gives the same PCR1 and application
# files; enclave-sign prints PCR8, equal to enclave-measure --pcr8 and to an
# independent computation; --eif-out writes the member byte for byte; progress
# is drawn on a terminal only (not with -q or --json, not into a pipe).
. "$(dirname "$0")/lib.sh"
command -v umoci >/dev/null || { echo "skipped: umoci not installed (apt-get install umoci)"; exit 77; }
command -v skopeo >/dev/null || { echo "skipped: skopeo not installed (apt-get install skopeo)"; exit 77; }
ex="$EIMG_TOP/${BUILDDIR:-build}/examples/nitro"
[ -d "$ex/app.oci" ] || { echo "skipped: $ex/app.oci not made (make examples)"; exit 77; }
export SOURCE_DATE_EPOCH=1700000000
py=${PYTHON:-python3}

setup() { cp -R "$ex/app.oci" "$ex/blobs" "$ex/enclave-oci.yaml" .; }
pcr() { sed -n "s/^$1: *//p" <<<"$out"; } # pcr pcr1: a line of the text report

case_begin "example-oci-reproducible"
setup
expect 0 enclave-build -f enclave-oci.yaml -o a.eimg --eif a.eif
a1=$(pcr pcr1) a2=$(pcr pcr2)
expect 0 enclave-build -f enclave-oci.yaml -o b.eimg --eif b.eif
expect_same a.eimg b.eimg
expect_same a.eif b.eif
[ -n "$a1" ] && [ "$a2" = "$(pcr pcr2)" ] || _t_failmsg "PCRs not printed or not reproducible"
expect 0 enclave-measure a.eimg
expect_out "^launch_check: +ok"
expect_out "^  entrypoint: +/bin/hello"

case_begin "skopeo-formats"
setup
skopeo copy -q oci:app.oci:latest oci-archive:app.tar >/dev/null 2>&1 || _t_failmsg "skopeo oci-archive"
skopeo copy -q oci:app.oci:latest docker-archive:app.docker.tar:hello:latest >/dev/null 2>&1 || _t_failmsg "skopeo docker-archive"
for f in app.oci app.tar app.docker.tar; do
	sed "s|image: app.oci|image: $f|" enclave-oci.yaml > "m-$f.yaml"
	expect 0 enclave-build -f "m-$f.yaml" -o "$f.eimg" --eif "$f.eif"
	echo "$(pcr pcr1)" > "$f.pcr1"
done
cmp -s app.oci.pcr1 app.tar.pcr1 && cmp -s app.oci.pcr1 app.docker.tar.pcr1 || _t_failmsg "PCR1 differs between formats"
# The application files are the same; only the manifest (which records the digest) differs.
EIMG_TOP="$EIMG_TOP" "$py" - app.oci.eif app.tar.eif app.docker.tar.eif <<'PY' || _t_failmsg "application ramdisks differ beyond the manifest"
import sys, struct, os
sys.path.insert(0, os.path.join(os.environ["EIMG_TOP"], "test", "py"))
import cpio_read
def files(p):
    d = open(p, "rb").read()
    n = struct.unpack_from(">H", d, 26)[0]
    rds = []
    for i in range(n):
        off = struct.unpack_from(">Q", d, 28 + 8 * i)[0]
        t, _, size = struct.unpack_from(">HHQ", d, off)
        if t == 3:
            rds.append(d[off + 12:off + 12 + size])
    return {k: (v["mode"], v["data"]) for k, v in cpio_read.tree(rds[1]).items() if not k.endswith("manifest.json")}
a = [files(p) for p in sys.argv[1:]]
for k in sorted(set(a[0]) | set(a[1]) | set(a[2])):
    if not a[0].get(k) == a[1].get(k) == a[2].get(k):
        print("differs:", k, [x.get(k, (0, b""))[0] for x in a])
sys.exit(0 if a[0] == a[1] == a[2] and "rootfs/bin/hello" in a[0] else 1)
PY

case_begin "pcr8-sign-measure-independent"
setup
expect 0 enclave-build -q -f enclave-oci.yaml -o app.eimg
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout k.pem -out c.pem -days 30 \
	-subj /CN=release 2>/dev/null
expect 0 enclave-sign --in-place -k k.pem --cert c.pem app.eimg
p8=$(sed -n 's/^pcr8: \{1,\}\([0-9a-f]\{96\}\)$/\1/p' <<<"$out")
[ -n "$p8" ] || _t_failmsg "enclave-sign printed no PCR8: $out"
want=$(openssl x509 -in c.pem -outform DER | "$py" -c 'import hashlib,sys; print(hashlib.sha384(b"\0"*48 + hashlib.sha384(sys.stdin.buffer.read()).digest()).hexdigest())')
[ "$p8" = "$want" ] || _t_failmsg "PCR8 $p8, independently $want"
expect 0 enclave-measure --pcr8 c.pem
expect_out "$want"
expect 0 enclave-measure --pcr8 c.pem --json
echo "$out" | "$py" -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["pcr8"] == d["nitro_cli"]["PCR8"] == sys.argv[1] else 1)' "$want" ||
	_t_failmsg "--pcr8 --json: $out"
expect 0 enclave-measure --expect "PCR8:$want" app.eimg
expect 1 enclave-measure --pcr8 nothere.pem
expect_one_line_err
# Signing again with --json prints it too.
expect 0 enclave-sign --in-place -k k.pem --cert c.pem --force --json app.eimg
echo "$out" | "$py" -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["pcr8"] == sys.argv[1] else 1)' "$want" ||
	_t_failmsg "enclave-sign --json has no pcr8: $out"

case_begin "eif-out"
setup
expect 0 enclave-build -q -f enclave-oci.yaml -o app.eimg
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -out c.pem -days 30 \
	-subj /CN=release 2>/dev/null
expect 0 enclave-sign --in-place -k k.pem --cert c.pem app.eimg
expect 0 enclave-measure --eif-out signed.eif app.eimg
tar -xOf app.eimg enclave.eif > member.eif
expect_same signed.eif member.eif
expect 0 enclave-measure signed.eif
expect_out "^is_signed: +yes"
expect 2 enclave-measure --eif-out app.eimg app.eimg
expect 1 enclave-measure --eif-out x.eif signed.eif
expect_no_file x.eif

case_begin "manifest-refusals"
setup
for bad in "  app: app.oci" "  kernel: blobs/bzImage" "  image_config: sha256:$(printf '%064d' 0)" "  image_digest: sha256:XYZ"; do
	{ cat enclave-oci.yaml; echo "$bad"; } > bad.yaml
	expect 1 enclave-build -f bad.yaml -o bad.eimg
	expect_one_line_err
	expect_err "bad.yaml:[0-9]+:[0-9]+: nitro"
	expect_no_file bad.eimg
done
sed 's|image: app.oci|image: nothere.oci|' enclave-oci.yaml > bad.yaml
expect 1 enclave-build -f bad.yaml -o bad.eimg
expect_err "nitro.image"
sed 's|image: app.oci|image: app.tar|' enclave-oci.yaml > tar.yaml
skopeo copy -q oci:app.oci:latest oci-archive:app.tar >/dev/null 2>&1
cp app.tar app.tar.orig
expect 2 enclave-build -f tar.yaml -o app.tar
expect_err "inputs"
expect 2 enclave-build -f tar.yaml -o x.eimg --eif app.tar
expect_same app.tar app.tar.orig
mkdir junk && sed 's|image: app.oci|image: junk|' enclave-oci.yaml > bad.yaml
expect 1 enclave-build -f bad.yaml -o bad.eimg
expect_one_line_err

case_begin "progress-on-a-terminal-only"
setup
# script(1) gives the tool a terminal; the drawn line ends with a carriage return.
script -qec "enclave-build -f enclave-oci.yaml -o t.eimg" /dev/null > tty.txt 2>&1
grep -q "reading layers" tty.txt && grep -q "writing ramdisk" tty.txt || _t_failmsg "no progress on a terminal: $(head -c 300 tty.txt)"
grep -q $'\r' tty.txt || _t_failmsg "the progress line is not redrawn"
script -qec "enclave-build -q -f enclave-oci.yaml -o q.eimg" /dev/null > q.txt 2>&1
[ ! -s q.txt ] || _t_failmsg "-q still printed: $(cat q.txt)"
script -qec "enclave-build --json -f enclave-oci.yaml -o j.eimg" /dev/null > j.txt 2>&1
grep -q "reading layers" j.txt && _t_failmsg "--json drew progress"
expect 0 enclave-build -f enclave-oci.yaml -o p.eimg
echo "$errtxt" | grep -q "reading layers" && _t_failmsg "progress drawn into a pipe"
finish
