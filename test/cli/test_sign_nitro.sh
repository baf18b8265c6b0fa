#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-sign for Nitro images and plain EIFs: one-step signing with an EC key and its
# certificate, PCR8, --force, the detached flow with openssl, verification, bad input.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}

mknitro() { # folder
	mkdir -p "$1/app/bin"
	head -c 100000 /dev/zero | tr '\0' 'K' > "$1/bzImage"
	printf '#!/bin/sh\necho init\n' > "$1/init"
	printf '#!/bin/sh\necho hello\n' > "$1/app/bin/hello"; chmod 755 "$1/app/bin/hello"
	cat > "$1/enclave.yaml" <<'Y'
version: 1
name: signed-nitro
target: nitro
nitro:
  kernel: bzImage
  cmdline: "console=ttyS0"
  init: init
  app: app
  entrypoint: ["/bin/hello"]
Y
	enclave-build -q -f "$1/enclave.yaml" -o n.eimg --eif n.eif
}
mkcert() { # curve name-prefix
	openssl ecparam -name "$1" -genkey -noout -out "$2.key" 2>/dev/null
	openssl req -x509 -new -key "$2.key" -subj "/CN=enclave release $1" -days 30 -out "$2.pem" 2>/dev/null
}
pcr() { enclave-measure --json "$1" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["measurements"][sys.argv[1].lower()])' "$2"; }
pcr8_of() { # independent: PCR8 = SHA384(48 zero bytes || SHA384(DER of the certificate))
	openssl x509 -in "$1" -outform DER | "$PY" -c 'import hashlib,sys; d=sys.stdin.buffer.read(); print(hashlib.sha384(bytes(48)+hashlib.sha384(d).digest()).hexdigest())'
}

case_begin sign-image-p384
mknitro p; mkcert secp384r1 rel
p0=$(pcr n.eimg PCR0); p2=$(pcr n.eimg PCR2)
expect 0 enclave-sign --in-place -k rel.key --cert rel.pem n.eimg
expect_out "wrote n.eimg"
expect 0 enclave-sign verify n.eimg
expect_out "signature valid"
[ "$(pcr n.eimg PCR0)" = "$p0" ] && [ "$(pcr n.eimg PCR2)" = "$p2" ] || _t_failmsg "signing changed PCR0/PCR2"
[ "$(pcr n.eimg PCR8)" = "$(pcr8_of rel.pem)" ] || _t_failmsg "PCR8 is not the extend of SHA-384 of the certificate"
expect 0 enclave-measure --expect "PCR8:$(pcr8_of rel.pem)" n.eimg
enclave-measure --json n.eimg > signed.json
"$PY" - "$EIMG_TOP/schemas/measure-output.schema.json" signed.json <<'P' || _t_failmsg "signed Nitro --json does not match its schema"
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(0)
d = json.load(open(sys.argv[2]))
jsonschema.validate(d, json.load(open(sys.argv[1])))
assert d["is_signed"] and d["signature_check"] and d["signature_algorithm"] == "ES384", d
assert d["nitro_cli"]["IsSigned"] and d["nitro_cli"]["SignatureCheck"], d
assert d["nitro_cli"]["Measurements"]["PCR8"] == d["measurements"]["pcr8"], d
P
expect 0 enclave-sign verify --constraint "PCR0:$p0 PCR8:$(pcr8_of rel.pem)" n.eimg
expect 3 enclave-sign verify --constraint "PCR8:$(printf '%096d' 0)" n.eimg
expect_err "PCR8"
expect 1 enclave-sign --in-place -k rel.key --cert rel.pem n.eimg
expect_err "already signed"
expect 0 enclave-sign --in-place -k rel.key --cert rel.pem --force n.eimg

case_begin sign-eif-curves
for curve in prime256v1 secp384r1 secp521r1; do
	mknitro p; mkcert $curve k
	expect 0 enclave-sign -k k.key --cert k.pem -o s.eif n.eif
	expect 0 enclave-sign verify s.eif
	[ "$(pcr s.eif PCR1)" = "$(pcr n.eif PCR1)" ] || _t_failmsg "$curve: signing changed PCR1"
	[ "$(pcr s.eif PCR8)" = "$(pcr8_of k.pem)" ] || _t_failmsg "$curve: PCR8 wrong"
	[ "$(stat -c %s s.eif)" -gt "$(stat -c %s n.eif)" ] || _t_failmsg "$curve: no signature section added"
done

case_begin detached-openssl
mknitro p; mkcert secp384r1 rel
expect 0 enclave-sign export --cert rel.pem -o tbs.bin n.eif
[ -s tbs.bin ] || _t_failmsg "nothing exported"
openssl dgst -sha384 -sign rel.key -out sig.der tbs.bin
expect 0 enclave-sign attach -s sig.der --cert rel.pem -o s.eif n.eif
expect 0 enclave-sign verify s.eif
# The same flow through a Nitro image.
expect 0 enclave-sign export --cert rel.pem -o tbs2.bin n.eimg
cmp -s tbs.bin tbs2.bin || _t_failmsg "image and EIF export different Sig_structures"
expect 0 enclave-sign attach --in-place -s sig.der --cert rel.pem n.eimg
expect 0 enclave-sign verify n.eimg
# A signature over other bytes is refused and nothing is written.
printf 'other bytes' > other.bin; openssl dgst -sha384 -sign rel.key -out bad.der other.bin
expect 3 enclave-sign attach -s bad.der --cert rel.pem -o bad.eif n.eif
expect_one_line_err
expect_no_file bad.eif

case_begin bad-keys-and-certs
mknitro p; mkcert secp384r1 rel; mkcert prime256v1 other
openssl genrsa -out rsa.key 2048 2>/dev/null
expect 1 enclave-sign -k rsa.key --cert rel.pem -o x.eif n.eif
expect_one_line_err
expect_no_file x.eif
expect 1 enclave-sign -k other.key --cert rel.pem -o x.eif n.eif
expect_one_line_err
expect_err "does not belong to the certificate"
expect_no_file x.eif
expect 1 enclave-sign -k rel.key --cert missing.pem -o x.eif n.eif
expect_err "missing.pem"
openssl ec -in rel.key -aes256 -passout pass:s3cret -out enc.key 2>/dev/null
expect 1 enclave-sign -k enc.key --cert rel.pem -o x.eif n.eif </dev/null
expect_err "passphrase"
expect 0 env PW=s3cret enclave-sign -k enc.key --passphrase-env PW --cert rel.pem -o x.eif n.eif
expect 0 enclave-sign verify x.eif

case_begin certificate-not-valid-now
mknitro p
openssl ecparam -name secp384r1 -genkey -noout -out old.key 2>/dev/null
# A certificate that is valid only from tomorrow: signing now is refused, in one and two steps.
"$PY" - old.key old.pem <<'P'
import sys, datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
key = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not yet")])
now = datetime.datetime.utcnow()
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now + datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA384()))
open(sys.argv[2], "wb").write(cert.public_bytes(serialization.Encoding.PEM))
P
expect 1 enclave-sign -k old.key --cert old.pem -o x.eif n.eif
expect_one_line_err
expect_err "not valid now"
expect_no_file x.eif
expect 0 enclave-sign export --cert old.pem -o tbs.bin n.eif
openssl dgst -sha384 -sign old.key -out sig.der tbs.bin
expect 1 enclave-sign attach -s sig.der --cert old.pem -o x.eif n.eif
expect_err "not valid now"
expect_no_file x.eif

case_begin eif-one-read-one-write
# Signing a bare EIF reads it once and writes it once (issue 13): the audit that
# recomputes PCR0/1/2 and the CRC copies the bytes it hashed into the output.
mknitro p; mkcert secp384r1 rel
openssl enc -aes-128-ctr -pass pass:t -nosalt -pbkdf2 -in /dev/zero 2>/dev/null | head -c 8388608 > p/app/bin/data
enclave-build -q -f p/enclave.yaml -o n.eimg --eif n.eif
size=$(stat -c %s n.eif)
io() { # cmd...: "rchar wchar status" of the command's process, read once it has exited
	"$PY" - "$@" <<'P'
import os, sys
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
    os.execvp(sys.argv[1], sys.argv[1:])
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
io = dict(l.split(": ") for l in open("/proc/%d/io" % pid).read().splitlines())
_, st, _ = os.wait4(pid, 0)
print(io["rchar"], io["wchar"], os.waitstatus_to_exitcode(st))
P
}
within() { # label bytes want: bytes in [want, want + 512 KiB]
	[ "$2" -ge "$3" ] && [ "$2" -le $(( $3 + 524288 )) ] || _t_failmsg "$1: $2 bytes, expected $3 plus at most 512 KiB"
}
set -- $(io enclave-sign -q -k rel.key --cert rel.pem -o s.eif n.eif)
[ "$3" = 0 ] || _t_failmsg "sign -o failed"
within "sign -o: read" "$1" "$size"; within "sign -o: written" "$2" "$size"
expect 0 enclave-sign verify s.eif
[ "$(pcr s.eif PCR0)" = "$(pcr n.eif PCR0)" ] || _t_failmsg "one-pass signing changed PCR0"
cmp -s -i 548:548 -n $((size - 548)) n.eif s.eif || _t_failmsg "the signed EIF's body is not the input's"
set -- $(io enclave-sign -q --force -k rel.key --cert rel.pem -o s2.eif s.eif)
within "re-sign: read" "$1" "$(stat -c %s s.eif)"; within "re-sign: written" "$2" "$size"
set -- $(io enclave-sign export -q --cert rel.pem -o tbs.bin n.eif)
within "export: read" "$1" "$size"
openssl dgst -sha384 -sign rel.key -out sig.der tbs.bin
set -- $(io enclave-sign attach -q -s sig.der --cert rel.pem -o a.eif n.eif)
within "attach: read" "$1" "$size"; within "attach: written" "$2" "$size"
cp n.eif i.eif
set -- $(io enclave-sign attach -q -s sig.der --cert rel.pem --in-place i.eif)
within "attach --in-place: read" "$1" "$size"
expect_same a.eif i.eif
# Standard output cannot be written out of order: the EIF is read twice there, same bytes.
enclave-sign attach -q -s sig.der --cert rel.pem -o - n.eif > o.eif || _t_failmsg "attach -o - failed"
expect_same a.eif o.eif
ls -A | grep -q '^\.' && _t_failmsg "a temporary file was left: $(ls -A | grep '^\.')"

case_begin verify-unsigned-and-usage
mknitro p; mkcert secp384r1 rel
expect 3 enclave-sign verify n.eif
expect_err "not signed"
expect 3 enclave-sign verify n.eimg
expect 2 enclave-sign export --cert rel.pem n.eif
expect 2 enclave-sign -k rel.key --cert rel.pem --isvsvn 3 n.eif
expect 2 enclave-sign export --digest --cert rel.pem -o t.bin n.eif
expect 2 enclave-sign -k rel.key n.eif
expect_err "Nitro image or EIF: sign it with an EC key and --cert CERT"
finish
