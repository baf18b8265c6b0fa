#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Output modes shared by the tools: -q prints nothing on success (errors still on
# stderr, same exit status), --print FIELD prints one bare value (the --json name),
# enclave-sign key prints a key's MRSIGNER or a certificate's PCR8 without signing
# (checked against independent computations), signing needs -o or --in-place.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
EX="$EIMG_TOP/${BUILDDIR:-build}/examples/hello/enclave.yaml"
[ -f "$EX" ] || { echo "skipped: examples not built ($EX; make examples)"; exit 77; }
export SOURCE_DATE_EPOCH=0

jfield() { "$PY" -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d=d[k]
print(d)' "$1"; }
mrsigner_of() { # independent: SHA-256 of the modulus, little-endian, 384 bytes
	openssl rsa -in "$1" -noout -modulus 2>/dev/null | sed 's/^Modulus=//' |
		"$PY" -c 'import hashlib,sys; n=bytes.fromhex(sys.stdin.read().strip()); print(hashlib.sha256(n[::-1].rjust(384,b"\0")).hexdigest())'
}

case_begin quiet
expect 0 enclave-build -q -f "$EX" -o hello.eimg
[ -z "$out" ] || _t_failmsg "enclave-build -q printed: $out"
expect 0 enclave-measure -q hello.eimg
[ -z "$out$errtxt" ] || _t_failmsg "enclave-measure -q printed: $out$errtxt"
openssl genrsa -3 -out k.pem 3072 2>/dev/null
expect 0 enclave-sign -q -k k.pem -o s.eimg hello.eimg
[ -z "$out$errtxt" ] || _t_failmsg "enclave-sign -q printed: $out$errtxt"
expect 0 enclave-sign verify -q s.eimg
[ -z "$out" ] || _t_failmsg "enclave-sign verify -q printed: $out"
# Errors and mismatches still speak, with the same exit status.
expect 3 enclave-measure -q --expect 0000000000000000000000000000000000000000000000000000000000000000 hello.eimg
[ -z "$out" ] || _t_failmsg "a mismatch under -q printed on stdout: $out"
expect_err "^enclave-measure: "
expect 1 enclave-measure -q nothere.eimg
expect_err "^enclave-measure: .*nothere.eimg"
expect 2 enclave-measure -q --json hello.eimg
expect 2 enclave-sign -q --print mrsigner verify s.eimg
expect 2 enclave-build --json --print mrenclave -f "$EX" -o x.eimg
expect_no_file x.eimg

case_begin print-matches-json
enclave-build -q -f "$EX" -o hello.eimg
openssl genrsa -3 -out k.pem 3072 2>/dev/null
enclave-sign -q -k k.pem -o s.eimg hello.eimg
expect 0 enclave-build -f "$EX" -o again.eimg --print mrenclave
mre=$out
[ "$mre" = "$(enclave-measure --json hello.eimg | jfield mrenclave)" ] || _t_failmsg "build --print mrenclave: $mre"
echo "$mre" | grep -qxE '[0-9a-f]{64}' || _t_failmsg "not a bare value: $mre"
expect 0 enclave-measure --print mrenclave s.eimg
[ "$out" = "$mre" ] || _t_failmsg "measure --print mrenclave: $out"
expect 0 enclave-measure --print mrsigner s.eimg
[ "$out" = "$(mrsigner_of k.pem)" ] || _t_failmsg "measure --print mrsigner: $out"
expect 0 enclave-measure --print size s.eimg
[ "$out" = "$(enclave-measure --json s.eimg | jfield enclave_size)" ] || _t_failmsg "--print size: $out"
expect 0 enclave-sign verify --print isvsvn s.eimg
[ "$out" = "$(enclave-sign verify --json s.eimg | jfield isvsvn)" ] || _t_failmsg "sign --print isvsvn: $out"
expect 0 enclave-measure --print ISVPRODID s.eimg
[ "$out" = 1 ] || _t_failmsg "--print is case-insensitive: $out"
# enclave-run --print: the verified image's value, and nothing runs (no reply
# on stdout, no enclave log); a failed check prints nothing and exits 3.
expect 0 enclave-run --print mrenclave s.eimg </dev/null
[ "$out" = "$mre" ] || _t_failmsg "run --print mrenclave: $out"
[ -z "$errtxt" ] || _t_failmsg "run --print wrote to stderr: $errtxt"
expect 0 enclave-run --print mrsigner s.eimg </dev/null
[ "$out" = "$(mrsigner_of k.pem)" ] || _t_failmsg "run --print mrsigner: $out"
expect 3 enclave-run --print mrenclave --expect "$(printf '%064d' 0)" s.eimg </dev/null
[ -z "$out" ] || _t_failmsg "run --print printed after a failed check: $out"
expect_err "nothing was run"
expect 3 enclave-run --print mrenclave hello.eimg </dev/null
[ -z "$out" ] || _t_failmsg "run --print of an unsigned image printed: $out"
expect 2 enclave-run --print mrenclave --preflight s.eimg
expect_one_line_err
# The printed value is what --expect takes.
expect 0 enclave-measure -q --expect "mrenclave:$mre mrsigner:$(enclave-measure --print mrsigner s.eimg)" s.eimg
# A field the result does not have: one line, exit 1.
expect 1 enclave-measure --print mrsigner hello.eimg
expect_one_line_err
expect_err "^enclave-measure: --print: no field 'mrsigner'"
expect 1 enclave-measure --print nosuchfield hello.eimg
# Several different values under one name are refused, not guessed.
expect 1 enclave-measure --print kind hello.eimg
expect_err "several values"

case_begin sign-key-mrsigner
openssl genrsa -3 -out k.pem 3072 2>/dev/null
openssl rsa -in k.pem -pubout -out k.pub 2>/dev/null
openssl req -x509 -new -key k.pem -subj /CN=sgx -days 3 -out k.crt 2>/dev/null
openssl genrsa -3 -aes256 -passout pass:secret -out enc.pem 3072 2>/dev/null
want=$(mrsigner_of k.pem)
expect 0 enclave-sign key -k k.pem
[ "$out" = "mrsigner: $want" ] || _t_failmsg "key -k k.pem: $out"
expect 0 enclave-sign key --print mrsigner -k k.pub
[ "$out" = "$want" ] || _t_failmsg "public key: $out"
expect 0 enclave-sign key --print mrsigner -k k.crt
[ "$out" = "$want" ] || _t_failmsg "certificate: $out"
expect 0 enclave-sign key --json -k k.pem
[ "$(echo "$out" | jfield mrsigner)" = "$want" ] || _t_failmsg "key --json: $out"
SECRET=secret expect 0 enclave-sign key --print mrsigner --passphrase-env SECRET -k enc.pem
[ "$out" = "$(openssl rsa -passin pass:secret -in enc.pem 2>/dev/null | mrsigner_of /dev/stdin)" ] || _t_failmsg "encrypted key: $out"
# The same value the signature carries.
enclave-build -q -f "$EX" -o hello.eimg
enclave-sign -q -k k.pem -o s.eimg hello.eimg
expect 0 enclave-sign verify -q --mrsigner "$want" s.eimg
# Wrong keys and usage.
openssl genrsa -out e65537.pem 3072 2>/dev/null
expect 1 enclave-sign key -k e65537.pem
expect_one_line_err
echo junk > junk.pem
expect 1 enclave-sign key -k junk.pem
expect_one_line_err
expect 2 enclave-sign key
expect 2 enclave-sign key -k k.pem --cert k.crt
expect 2 enclave-sign key -k k.pem hello.eimg

case_begin sign-key-pcr8
openssl ecparam -name secp384r1 -genkey -noout -out n.key 2>/dev/null
openssl req -x509 -new -key n.key -subj /CN=release -days 3 -out n.pem 2>/dev/null
want=$(openssl x509 -in n.pem -outform DER | "$PY" -c 'import hashlib,sys; d=sys.stdin.buffer.read(); print(hashlib.sha384(bytes(48)+hashlib.sha384(d).digest()).hexdigest())')
expect 0 enclave-sign key --print pcr8 --cert n.pem
[ "$out" = "$want" ] || _t_failmsg "key --cert: $out, want $want"
expect 0 enclave-sign key --cert n.pem
[ "$out" = "pcr8: $want" ] || _t_failmsg "key --cert text: $out"

case_begin sign-needs-output
enclave-build -q -f "$EX" -o hello.eimg
cp hello.eimg orig.eimg
openssl genrsa -3 -out k.pem 3072 2>/dev/null
expect 2 enclave-sign -k k.pem hello.eimg
expect_one_line_err
expect_err "^enclave-sign: no output given: -o FILE, or --in-place"
expect_same hello.eimg orig.eimg
expect 2 enclave-sign -k k.pem --in-place -o x.eimg hello.eimg
expect_no_file x.eimg
expect 2 enclave-sign -k k.pem --in-place --mrenclave "$(enclave-measure --print mrenclave hello.eimg)"
expect 0 enclave-sign -q -k k.pem --in-place hello.eimg
expect 0 enclave-sign verify -q hello.eimg
cmp -s hello.eimg orig.eimg && _t_failmsg "--in-place left the input unsigned"

case_begin one-style-of-errors
# Every tool, invoked by a path: messages start with its name, and the usage hint is
# worded once, on the same line.
for t in enclave-build enclave-measure enclave-sign enclave-run; do
	expect 2 "$EIMG_BIN/$t" --no-such-option
	expect_err "^$t: unrecognized option '--no-such-option'$"
	expect_err "^usage: $t .* \(see '$t --help'\)$"
	echo "$errtxt" | grep -qF "$EIMG_BIN" && _t_failmsg "$t: the invocation path in: $errtxt"
done
expect 2 "$EIMG_BIN/enclave-measure"
expect_one_line_err
expect_err "^enclave-measure: no input given.* \(see 'enclave-measure --help'\)$"
expect 2 "$EIMG_BIN/enclave-run"
expect_one_line_err
expect_err "^enclave-run: .* \(see 'enclave-run --help'\)$"

case_begin text-is-field-value
# Text output is "field: value" with the --json names, values in one column.
enclave-build -q -f "$EX" -o hello.eimg
openssl genrsa -3 -out k.pem 3072 2>/dev/null
enclave-sign -q -k k.pem -o s.eimg hello.eimg
expect 0 enclave-measure s.eimg
out=$(echo "$out" | sed '/^layout:/q')   # the fields before the layout table
echo "$out" | grep -vE '^  0x' | grep -vE '^ *[a-z_]+:( |$)' && _t_failmsg "lines above are not 'field: value'"
keys=$(echo "$out" | sed -n 's/^\([a-z_]*\): .*/\1/p' | grep -vx layout)
json=$(enclave-measure --json s.eimg)
for k in $keys; do
	echo "$json" | grep -q "^  \"$k\": " || _t_failmsg "text field '$k' is not a --json name"
done
cols=$(echo "$out" | grep -E '^ *[a-z_]+: +[^ ]' | grep -vE '^layout:' | awk '{ print index($0, $2) }' | sort -u)
[ "$(echo "$cols" | wc -l)" = 1 ] || _t_failmsg "values start at columns $(echo $cols)"
expect 0 enclave-build -f "$EX" -o again.eimg
expect_out "^mrenclave: +[0-9a-f]{64}$"
expect_out "^image: +again.eimg$"

finish
