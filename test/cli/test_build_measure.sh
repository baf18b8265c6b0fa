#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-build and enclave-measure from the command line: exact exit codes and messages,
# determinism, tamper detection, --expect, --sgxs, known-answer SGXS vectors.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}

# A tiny freestanding enclave ELF, made at test time.
mkelf() { # out.elf
	cat > enclave.c <<'C'
static volatile unsigned long counter = 7;
unsigned long data_table[512] = { 1, 2, 3 };
void enclave_entry(void) { for (;;) { counter++; __asm__ volatile("pause"); } }
C
	gcc -O1 -nostdlib -static-pie -fPIE -ffreestanding -fno-stack-protector -Wl,-z,max-page-size=4096 \
		-Wl,-z,separate-code -Wl,-z,noexecstack -Wl,-e,enclave_entry -o "$1" enclave.c
}
mkproject() { # folder: manifest + elf + a file + a key
	mkdir -p "$1/data" "$1/keys"
	(cd "$1" && mkelf app.elf)
	printf 'hello, enclave\n' > "$1/data/greeting.txt"
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
  threads: 2
  product_id: 7
  security_version: 3
files:
  - path: data/greeting.txt
user_keys:
  - path: keys/alice.pem
    name: alice
runtime:
  greeting_language: en
Y
}
schema_check() { # schema json-file
	"$PY" - "$EIMG_TOP/schemas/$1" "$2" <<'P'
import json, sys
try:
    import jsonschema
except ImportError:
    print("jsonschema missing: skipping schema validation"); sys.exit(0)
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
P
}
mrenclave_of() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["mrenclave"])' "$1"; }

case_begin help
expect 0 enclave-build --help
expect_out "usage: enclave-build"
expect 0 enclave-measure --help
expect_out "usage: enclave-measure"
expect 0 enclave-build --version
expect_out "^enclave-build [0-9]"

case_begin usage-errors
expect 2 enclave-build --bogus
expect 2 enclave-build extra-arg
expect_err "unexpected argument 'extra-arg'"
expect 2 enclave-measure
expect_err "no input given"
expect 2 enclave-measure a b
expect 2 enclave-measure --expect nothex x.eimg
expect_err "expected 64 hex digits"
expect 2 enclave-measure --verify x.eimg
expect_err "enclave-sign verify"

case_begin missing-manifest
expect 1 enclave-build -f nope.yaml -o out.eimg
expect_one_line_err
expect_err "^enclave-build: .*nope.yaml"
expect_no_file out.eimg

case_begin bad-manifest-value
mkproject p
sed -i 's/heap_size: 128K/heap_size: lots/' p/enclave.yaml
expect 1 enclave-build -f p/enclave.yaml -o out.eimg
expect_one_line_err
expect_err "^enclave-build: p/enclave.yaml:[0-9]+:[0-9]+: .*heap_size"
expect_no_file out.eimg
[ -z "$(ls -A . | grep -v '^p$')" ] || _t_failmsg "left files behind: $(ls -A)"

case_begin missing-elf
mkproject p
rm p/app.elf
expect 1 enclave-build -f p/enclave.yaml -o out.eimg
expect_err "app.elf"
expect_no_file out.eimg

case_begin not-an-elf
mkproject p
echo "not an elf" > p/app.elf
expect 1 enclave-build -f p/enclave.yaml -o out.eimg
expect_one_line_err
expect_err "app.elf"
expect_no_file out.eimg

case_begin private-key-refused
mkproject p
openssl genpkey -algorithm ed25519 -out p/keys/alice.pem 2>/dev/null
expect 1 enclave-build -f p/enclave.yaml -o out.eimg
expect_err "private key"
expect_no_file out.eimg

case_begin build-and-measure
mkproject p
expect 0 enclave-build -f p/enclave.yaml -o demo.eimg --json
echo "$out" > build.json
schema_check build-output.schema.json build.json || _t_failmsg "build --json does not match its schema"
mr=$(mrenclave_of build.json)
expect 0 enclave-measure --json demo.eimg
echo "$out" > measure.json
schema_check measure-output.schema.json measure.json || _t_failmsg "measure --json does not match its schema"
[ "$(mrenclave_of measure.json)" = "$mr" ] || _t_failmsg "measure and build disagree"
expect 0 enclave-measure demo.eimg
expect_out "^mrenclave: +$mr"
expect_out "^threads: +2$"
expect_out "tcs +tcs \(thread 1\)"
expect 0 enclave-build -f p/enclave.yaml
expect_out "^mrenclave: +$mr"
[ -f demo.eimg ] || _t_failmsg "default output NAME.eimg not written"

case_begin expect-values
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o demo.eimg
mr=$(enclave-measure --json demo.eimg | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["mrenclave"])')
expect 0 enclave-measure --expect "$mr" demo.eimg
expect 0 enclave-measure --expect "mrenclave:$(echo "$mr" | tr a-f A-F)" demo.eimg
bad=$(printf '%064d' 0)
expect 3 enclave-measure --expect "$bad" demo.eimg
expect_err "MRENCLAVE differs: expected $bad, actual $mr"
printf '# pinned by CI\nmrenclave:%s\n' "$mr" > expected.txt
expect 0 enclave-measure --expect-file expected.txt demo.eimg
expect 3 enclave-measure --expect "mrsigner:$bad" demo.eimg
expect_err "MRSIGNER differs"

case_begin constraints
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o demo.eimg
mr=$(enclave-measure --json demo.eimg | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["mrenclave"])')
expect 0 enclave-measure --constraint "C:$mr SEC:INSECURE" demo.eimg
# A simulation enclave is INSECURE: the default minimum (STALE) refuses it.
expect 3 enclave-measure --constraint "C:$mr" demo.eimg
expect_one_line_err
expect_err "SEC"
expect 3 enclave-measure --constraint "C:$(printf '%064d' 1) SEC:INSECURE" demo.eimg
expect_err "C"
printf '# our policy\nC:%s\nSEC:INSECURE\n' "$mr" > policy.txt
expect 0 enclave-measure --constraint @policy.txt demo.eimg
expect 2 enclave-measure --constraint "C:$mr BOGUS:1" demo.eimg
expect_err "BOGUS"
expect 1 enclave-measure --constraint @missing.txt demo.eimg
expect_err "missing.txt"

case_begin sgxs-stream
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o demo.eimg
expect 0 enclave-measure --sgxs demo.sgxs demo.eimg
mr=$(echo "$out" | awk '/^mrenclave/ {print $2}')
[ "$(sha256sum demo.sgxs | cut -d' ' -f1)" = "$mr" ] || _t_failmsg "sha256 of the SGXS stream is not MRENCLAVE"
expect 0 enclave-measure demo.sgxs
expect_out "^mrenclave: +$mr"
expect 2 enclave-measure --sgxs again.sgxs demo.sgxs
# --sgxs - : standard output holds the stream alone, so its SHA-256 is MRENCLAVE.
enclave-measure --sgxs - demo.eimg > stdout.sgxs 2>stdout.err || _t_failmsg "--sgxs - failed: $(cat stdout.err)"
cmp -s stdout.sgxs demo.sgxs || _t_failmsg "--sgxs - wrote more or other bytes than the SGXS stream"
[ "$(sha256sum < stdout.sgxs | cut -d' ' -f1)" = "$mr" ] || _t_failmsg "sha256 of --sgxs - output is not MRENCLAVE"

case_begin json-non-utf8-path
# A file name that is not UTF-8 still gives JSON (the name escaped), not a
# silent exit 0 without output (build) or "out of memory" (measure).
mkproject p
nm=$(printf 'img-\377.eimg')
expect 0 enclave-build --json -f p/enclave.yaml -o "$nm"
echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["image"] == "img-\\xff.eimg", d' 2>/dev/null \
	|| _t_failmsg "enclave-build --json: no JSON or wrong image name: $out"
expect 0 enclave-measure --json "$nm"
echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["image"] == "img-\\xff.eimg", d' 2>/dev/null \
	|| _t_failmsg "enclave-measure --json: no JSON or wrong image name: $errtxt"
expect 0 enclave-measure --sgxs "demo.sgxs" "$nm"
cp demo.sgxs "$(printf 's-\377.sgxs')"
expect 0 enclave-measure --json "$(printf 's-\377.sgxs')"
echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["sgxs"] == "s-\\xff.sgxs", d' 2>/dev/null \
	|| _t_failmsg "enclave-measure --json on SGXS: no JSON or wrong name: $errtxt"

case_begin error-one-line-control-chars
# A file name with a newline (legal on Linux) still gives a one-line error,
# the control character escaped.
mkproject p
expect 1 enclave-measure "$(printf 'no\nsuch.eimg')"
expect_one_line_err
expect_err 'no\\x0asuch.eimg'
expect 1 enclave-build -q -f "$(printf 'p/en\rclave.yaml')"
expect_one_line_err
expect_err 'en\\x0dclave.yaml'
expect 0 enclave-build -q -f p/enclave.yaml -o demo.eimg
expect 1 enclave-sign --in-place -k "$(printf 'k\n.pem')" demo.eimg
expect_one_line_err
expect_err 'k\\x0a.pem'
head -c 600 /dev/zero | tr '\0' 'j' > "$(printf 'junk\n.bin')"
expect 1 enclave-measure "$(printf 'junk\n.bin')"
expect_one_line_err
expect_err 'junk\\x0a.bin'

case_begin determinism
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg
cp -r p q
touch -d '2001-02-03 04:05:06' q/app.elf q/data/greeting.txt q/enclave.yaml
mkdir -p elsewhere/deeper
(cd elsewhere/deeper && umask 077 && TZ=Asia/Kolkata LC_ALL=C.UTF-8 enclave-build -q -f ../../q/enclave.yaml -o ../../b.eimg)
expect_same a.eimg b.eimg
[ "$(stat -c %a b.eimg)" = 644 ] || _t_failmsg "output mode depends on umask: $(stat -c %a b.eimg)"
SOURCE_DATE_EPOCH=1700000000 enclave-build -q -f p/enclave.yaml -o c.eimg
cmp -s a.eimg c.eimg && _t_failmsg "SOURCE_DATE_EPOCH does not reach the archive"
SOURCE_DATE_EPOCH=1700000000 enclave-build -q -f q/enclave.yaml -o d.eimg
expect_same c.eimg d.eimg
[ "$(enclave-measure a.eimg | grep ^mrenclave)" = "$(enclave-measure c.eimg | grep ^mrenclave)" ] || _t_failmsg "timestamp changed MRENCLAVE"
expect 1 env SOURCE_DATE_EPOCH=yesterday enclave-build -q -f p/enclave.yaml -o e.eimg
expect_err "SOURCE_DATE_EPOCH"
expect_no_file e.eimg

case_begin measured-content-changes-mrenclave
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o a.eimg
printf 'hello, enclave!\n' > p/data/greeting.txt
expect 0 enclave-build -q -f p/enclave.yaml -o b.eimg
[ "$(enclave-measure a.eimg | grep ^mrenclave)" != "$(enclave-measure b.eimg | grep ^mrenclave)" ] || _t_failmsg "a measured file does not change MRENCLAVE"
sed -i 's/greeting_language: en/greeting_language: fr/' p/enclave.yaml
expect 0 enclave-build -q -f p/enclave.yaml -o c.eimg
[ "$(enclave-measure b.eimg | grep ^mrenclave)" = "$(enclave-measure c.eimg | grep ^mrenclave)" ] || _t_failmsg "the runtime section changed MRENCLAVE"
# Signing parameters belong to the SIGSTRUCT: as on hardware, they leave MRENCLAVE alone.
sed -i 's/security_version: 3/security_version: 4\n  debug: true/; s/product_id: 7/product_id: 8/' p/enclave.yaml
expect 0 enclave-build -q -f p/enclave.yaml -o d.eimg
[ "$(enclave-measure c.eimg | grep ^mrenclave)" = "$(enclave-measure d.eimg | grep ^mrenclave)" ] || _t_failmsg "signing parameters changed MRENCLAVE"
tar -xOf d.eimg manifest.json | grep -q '"security_version": 4' || _t_failmsg "manifest.json lost the signing parameters"

# Flip one byte inside a member's data (the tar stays well-formed): measure must refuse.
tamper() { # image member offset-in-member
	"$PY" - "$@" <<'P'
import sys, tarfile
path, member, off = sys.argv[1], sys.argv[2], int(sys.argv[3])
with tarfile.open(path) as t:
    m = t.getmember(member)
    pos = m.offset_data + (off % m.size)
with open(path, "r+b") as f:
    f.seek(pos); b = f.read(1); f.seek(pos)
    f.write(bytes([b[0] ^ 0x01]) if b not in (b"0",) else b"1")
P
}
for member in enclave.elf files/greeting.txt manifest.json measurement.json keys/alice; do
	case_begin "tamper-$(echo $member | tr / _)"
	mkproject p
	expect 0 enclave-build -q -f p/enclave.yaml -o t.eimg
	case $member in
	measurement.json) off=$(grep -abo '"mrenclave": "' <(tar -xOf t.eimg measurement.json) | cut -d: -f1); off=$((off + 20));;
	manifest.json) off=$(grep -abo '"threads": 2' <(tar -xOf t.eimg manifest.json) | cut -d: -f1); off=$((off + 11));;
	*) off=100;;
	esac
	tamper t.eimg "$member" "$off"
	enclave-measure t.eimg >/dev/null 2>err.txt; rc=$?
	[ $rc = 3 ] || [ $rc = 1 ] || _t_failmsg "tampered $member: exit $rc"
	[ $rc = 0 ] && _t_failmsg "tampered $member accepted"
	[ "$(wc -l < err.txt)" = 1 ] || _t_failmsg "tampered $member: not one line: $(cat err.txt)"
done

case_begin outputs-never-replace-inputs
mkproject p
expect 2 enclave-build -f p/enclave.yaml -o p/enclave.yaml
expect_err "is also an input of this command: an output never replaces an input"
grep -q "^name: demo" p/enclave.yaml || _t_failmsg "the manifest was overwritten"
expect 0 enclave-build -q -f p/enclave.yaml -o d.eimg
cp d.eimg keep.eimg
expect 2 enclave-measure --sgxs d.eimg d.eimg
expect_err "is also an input of this command: an output never replaces an input"
expect_same d.eimg keep.eimg

case_begin garbage-input
head -c 4096 /dev/urandom > junk.bin
expect 1 enclave-measure junk.bin
expect_err "not an enclave image"
expect 1 enclave-measure does-not-exist.eimg
expect_err "does-not-exist.eimg"
mkdir adir
expect 1 enclave-measure adir
expect_one_line_err
expect_err "'adir': .*([Dd]irectory)"

case_begin output-folder-missing
mkproject p
expect 1 enclave-build -q -f p/enclave.yaml -o no/such/dir/x.eimg
expect_one_line_err
expect_err "no/such/dir/x.eimg"

case_begin measure-signer-from-unverified-signature
# The signature's MRSIGNER/ISVPRODID only count when the signature verifies and
# signs this image: a SIGSTRUCT copied from another (trusted) image, or one with a
# broken signature, must not satisfy --expect mrsigner: or S:/PROD: constraints.
mkproject p
expect 0 enclave-build -q -f p/enclave.yaml -o good.eimg
sed 's/^name: demo/name: evil/' p/enclave.yaml > p/evil.yaml
expect 0 enclave-build -q -f p/evil.yaml -o evil.eimg
openssl genrsa -3 -out key.pem 3072 2>/dev/null
expect 0 enclave-sign --in-place -k key.pem good.eimg
mrs=$(enclave-sign verify --json good.eimg | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["mrsigner"])')
expect 0 enclave-measure --expect "mrsigner:$mrs" good.eimg
expect 0 enclave-measure --constraint "S:$mrs PROD:7 SEC:INSECURE" good.eimg
"$PY" - good.eimg evil.eimg swapped.eimg forged.eimg <<'PYEOF'
import sys
# Canonical archives (enclave-image(5)): the sigstruct.bin member (header + 1808 bytes
# padded to 2048) is the last one before the 1024-byte end marker; both images have
# the same mtime, so the member's bytes move as they are.
good, evil, swapped, forged = (open(p, "rb").read() if i < 2 else p for i, p in enumerate(sys.argv[1:5]))
member = good[-1024 - 2560:-1024]
assert member[:13] == b"sigstruct.bin"
open(swapped, "wb").write(evil[:-1024] + member + b"\0" * 1024)
bad = bytearray(good)
sig = len(good) - 1024 - 2048
bad[sig + 516:sig + 900] = b"\x01" * 384
open(forged, "wb").write(bytes(bad))
PYEOF
expect 3 enclave-measure --expect "mrsigner:$mrs" swapped.eimg
expect_one_line_err
expect_err "swapped.eimg"
expect 3 enclave-measure --constraint "S:$mrs PROD:7 SEC:INSECURE" swapped.eimg
expect_one_line_err
expect 3 enclave-measure --expect "mrsigner:$mrs" forged.eimg
expect_one_line_err
expect_err "forged.eimg"
# Without a check the measurement is still shown (the report says the signature is not for it).
expect 0 enclave-measure swapped.eimg
expect_out "signs_this_mrenclave: +NO"

case_begin sgxs-vectors
if [ -d "$EIMG_VECTORS" ]; then
	expect 0 enclave-measure "$EIMG_VECTORS/test_enclave.sgxs"
	expect_out "^mrenclave: +784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc"
	expect_out "^enclave_size: +0x40000"
	expect 0 enclave-measure --json "$EIMG_VECTORS/report.sgxs"
	echo "$out" > r.json
	schema_check measure-output.schema.json r.json || _t_failmsg "sgxs --json does not match its schema"
	expect_out '"mrenclave": "a06a560b26f5e397b2d7872fac66fe4b43bf4f507296ee048f110be6fb1a2290"'
	head -c 1000 "$EIMG_VECTORS/test_enclave.sgxs" > cut.sgxs
	expect 1 enclave-measure cut.sgxs
	expect_one_line_err
else
	echo "  (vectors not found at $EIMG_VECTORS: known-answer cases skipped)"
fi
finish
