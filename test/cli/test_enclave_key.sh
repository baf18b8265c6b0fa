#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A key pair made inside the enclave (runtime: enclave_keygen_p256, BearSSL):
# examples/average publishes its public key in its attestation document and proves
# possession of the private key by signing a client's nonce.  Checked independently
# with Python's cryptography package.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
EX="$EIMG_TOP/${BUILDDIR:-build}/examples/average"
[ -f "$EX/average.elf" ] || { echo "skipped: examples not built (make examples)"; exit 77; }
"$PY" -c 'import cryptography' 2>/dev/null || { echo "skipped: python3-cryptography missing"; exit 77; }

check_doc() { # att.json nonce signature-hex -> prints the public key (base64) or fails
	"$PY" - "$@" <<'P'
import base64, json, sys, hashlib
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives import hashes, serialization
doc = json.load(open(sys.argv[1]))
claims = json.loads(base64.b64decode(doc["payload"]))
der = base64.b64decode(claims["public_key"])
key = serialization.load_der_public_key(der)
assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1", "not a P-256 key"
# The report data binds the key: SHA-256 of its DER, then zeros (enclave-attestation(5)).
assert claims["report_data"] == hashlib.sha256(der).hexdigest() + "00" * 32, "report data does not bind the key"
key.verify(bytes.fromhex(sys.argv[3]), sys.argv[2].encode(), ec.ECDSA(hashes.SHA256()))
print(claims["public_key"])
P
}

case_begin key-made-inside-and-proved
openssl genrsa -3 -out k.pem 3072 2>/dev/null
(cd "$EX" && enclave-build -q -o "$OLDPWD/a.eimg") && enclave-sign --in-place -k k.pem a.eimg >/dev/null || _t_failmsg "cannot build average"
expect 0 enclave-run -q --lines --attestation-out att1.json a.eimg <<< "prove nonce-one"
sig1=$(echo "$out" | sed -n 's/^signature //p')
expect 0 enclave-run -q --lines --attestation-out att2.json a.eimg <<< "prove nonce-two"
sig2=$(echo "$out" | sed -n 's/^signature //p')
k1=$(check_doc att1.json nonce-one "$sig1") || _t_failmsg "run 1: the signature or the binding does not verify"
k2=$(check_doc att2.json nonce-two "$sig2") || _t_failmsg "run 2: the signature or the binding does not verify"
[ -n "$k1" ] && [ "$k1" != "$k2" ] || _t_failmsg "the key is not fresh per run (made inside the enclave)"
check_doc att1.json nonce-two "$sig2" >/dev/null 2>&1 && _t_failmsg "run 2's signature verified with run 1's key"
mre=$(enclave-measure --json a.eimg | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["mrenclave"])')
expect 0 enclave-measure --attestation att1.json --constraint "C:$mre SEC:INSECURE"
finish
