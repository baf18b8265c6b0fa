#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Attestation documents for clients: enclave-run --attestation-out writes one,
# enclave-measure --attestation checks it (signature, binding, SEC/EXPIRE/C/S
# constraint keys named on failure); documents made independently in Python
# (old timestamps, forged claims); Nitro NSM documents made in Python with
# their own CA chain (valid, wrong PCR, bad signature, other root, expired
# certificate, debug, hostile CBOR).
. "$(dirname "$0")/lib.sh"
B="$EIMG_TOP/${BUILDDIR:-build}"
PY=${PYTHON:-/usr/bin/python3}
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }
$PY -c 'import cryptography' 2>/dev/null || { echo "skipped: $PY has no cryptography package"; exit 77; }
[ -x "$EIMG_BIN/enclave-run" ] && [ -f "$B/examples/hello/hello.elf" ] || { echo "tools or examples not built"; exit 1; }

# Validates a JSON file against schemas/attestation-output.schema.json (skips without jsonschema).
schema_check() {
	"$PY" - "$EIMG_TOP/schemas/attestation-output.schema.json" "$1" <<'P'
import json, sys
try:
    import jsonschema
except ImportError:
    sys.exit(0)
jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))
P
}

# ---- set-up: a signed hello image
case_begin setup
S=$PWD
openssl genrsa -3 -out key.pem 3072 2>/dev/null || exit 1
(cd "$B/examples/hello" && enclave-build -q -o "$S/hello.eimg") && enclave-sign --in-place -k key.pem hello.eimg >/dev/null ||
	_t_failmsg "cannot build hello.eimg"
MRE=$(enclave-measure --json hello.eimg | sed -n 's/.*"mrenclave": *"\([0-9a-f]*\)".*/\1/p' | head -1)
MRS=$(enclave-sign verify --json hello.eimg 2>/dev/null | sed -n 's/.*"mrsigner": *"\([0-9a-f]*\)".*/\1/p' | head -1)
[ ${#MRE} = 64 ] && [ ${#MRS} = 64 ] || _t_failmsg "cannot read MRENCLAVE/MRSIGNER"
OTHER=2797b9581b9377d41a8ffc45990335048e79c976a6bbb4e7692ecad699a55317

# ---- enclave-run writes the document, enclave-measure accepts it
case_begin run-writes-document
echo world > in.txt
expect 0 enclave-run --lines --attestation-out att.json "$S/hello.eimg" < in.txt
expect_out "Hello from inside the enclave, world"
expect_err "attestation document written to 'att.json'"
[ -f att.json ] || _t_failmsg "no att.json"
[ "$(stat -c %a att.json)" = 644 ] || _t_failmsg "att.json mode $(stat -c %a att.json)"
ls -a | grep -q '\.tmp' && _t_failmsg "temporary file left behind"
expect 0 enclave-measure --attestation att.json
expect_out "^signer: +simulation"
expect_out "^mode: +simulation"
expect_out "^security: +INSECURE"
expect_out "^mrenclave: +$MRE"
expect_out "^mrsigner: +$MRS"
expect_out "^public_key: +none \(the enclave published no key"
expect 0 enclave-measure --attestation att.json --constraint "C:$MRE SEC:INSECURE EXPIRE:P1D"
expect 0 enclave-measure --attestation att.json --constraint "S:$MRS PROD:1 SEC:INSECURE"
expect 0 enclave-measure --attestation att.json --expect "mrenclave:$MRE mrsigner:$MRS"
expect 0 enclave-measure --attestation att.json --json
echo "$out" | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["mode"]=="simulation" and d["security"]=="INSECURE" and d["public_key"]["present"] is False, d' ||
	_t_failmsg "--json output"
echo "$out" > out.json && schema_check out.json || _t_failmsg "--json does not match attestation-output.schema.json"
cp att.json "$S/att.json"

case_begin run-mock-document
echo world > in.txt
expect 0 enclave-run --mock --lines -q --attestation-out att.json "$S/hello.eimg" < in.txt
expect 0 enclave-measure --attestation att.json
expect_out "^mode: +mock"

# ---- an enclave that publishes its public key (test/enclaves/attkey: a fixed TEST key)
case_begin run-enclave-key
make -s -C "$EIMG_TOP/test/enclaves/attkey" BUILDDIR="$B/test/enclaves/attkey" RT_BUILD="$B/runtime" >/dev/null ||
	_t_failmsg "cannot build test/enclaves/attkey"
(cd "$B/test/enclaves/attkey" && enclave-build -q -o "$S/attkey.eimg") && enclave-sign --in-place -k "$S/key.pem" "$S/attkey.eimg" >/dev/null ||
	_t_failmsg "cannot build attkey.eimg"
KEYFP=$(sha256sum "$B/test/enclaves/attkey/test-key.der" | cut -c1-64)
echo x > in.txt
for mode in "" --mock; do
	rm -f att.json
	expect 0 enclave-run $mode --lines --attestation-out att.json "$S/attkey.eimg" < in.txt
	expect_out "first=0 second=-1 later=-1"
	expect_err "enclave: attkey: published a 91-byte test key"
	expect_err "attestation document written to 'att.json' \(simulation: INSECURE; binds the enclave's public key\)"
	expect 0 enclave-measure --attestation att.json --constraint "S:$MRS PROD:3 REVOKE:1 SEC:INSECURE"
	expect_out "^public_key: +EC 256, SHA-256 $KEYFP"
	expect 0 enclave-measure --attestation att.json --json
	echo "$out" | $PY -c 'import json,sys,base64,hashlib; d=json.load(sys.stdin); k=d["public_key"]; assert k["present"] and hashlib.sha256(base64.b64decode(k["der"])).hexdigest()==sys.argv[1]' "$KEYFP" ||
		_t_failmsg "--json public_key is not the published key"
done
# a key larger than the message limit: the enclave does not start
expect 1 enclave-run -q --max-message 10 --attestation-out big.json "$S/attkey.eimg" < in.txt
expect_err "exceeds --max-message"
expect_no_file big.json
# the enclave publishes something that is not a public key: no document, the run stops, exit 1
mkdir -p junk && cp "$B/test/enclaves/attkey/attkey.elf" "$B/test/enclaves/attkey/enclave.yaml" junk/ &&
	printf 'not a key' > junk/test-key.der
(cd junk && enclave-build -q -o "$S/junk.eimg") && enclave-sign --in-place -k "$S/key.pem" "$S/junk.eimg" >/dev/null
expect 1 enclave-run --lines --attestation-out junk.json "$S/junk.eimg" < in.txt
expect_err "no attestation document: stopping the enclave"
expect_no_file junk.json
expect 2 enclave-run --attestation-out - "$S/attkey.eimg" < in.txt
expect_err "standard output carries the replies"

# ---- constraint failures are named, exit 3
case_begin constraint-sec-default
expect 3 enclave-measure --attestation "$S/att.json" --constraint "C:$MRE"
expect_err "constraint SEC: expected STALE or SECURE, actual INSECURE"
expect_out "^mrenclave: +$MRE"   # the claims are printed before the verdict

case_begin constraint-wrong-code
expect 3 enclave-measure --attestation "$S/att.json" --constraint "C:$OTHER SEC:INSECURE"
expect_err "constraint C: expected $OTHER"
expect 3 enclave-measure --attestation "$S/att.json" --constraint "C:$OTHER SEC:SECURE PROD:1 S:$OTHER"
expect_err "constraint C/S: "
expect_err "constraint SEC: "
expect 3 enclave-measure --attestation "$S/att.json" --expect "$OTHER"
expect_err "differs"
expect 2 enclave-measure --attestation "$S/att.json" --constraint "C:zz"

# ---- documents made independently: an old one (EXPIRE) and forgeries
case_begin independent-documents
cat > mkdoc.py <<'EOF'
import base64, hashlib, json, sys, time
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
mre, mrs, age, mode, sec, tamper = sys.argv[1:7]
enc_key = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
rd = hashlib.sha256(enc_key).hexdigest() + "00" * 32
if len(sys.argv) > 7:
    open(sys.argv[7], "w").write(hashlib.sha256(enc_key).hexdigest())
if tamper == "binding":
    rd = "11" * 64
payload = ('{"version":1,"mode":"%s","debug":false,"security":"%s","mrenclave":"%s","mrsigner":"%s",'
           '"isvprodid":1,"isvsvn":1,"timestamp":%d,"public_key":"%s","report_data":"%s"}'
           % (mode, sec, mre, mrs, int(time.time()) - int(age), base64.b64encode(enc_key).decode(), rd)).encode()
k = ec.generate_private_key(ec.SECP256R1())
sig = k.sign(payload, ec.ECDSA(hashes.SHA256()))
if tamper == "payload":
    payload = payload.replace(b'"isvsvn":1', b'"isvsvn":9')
print(json.dumps({"format": "enclave-attestation 1", "signer": "simulation", "notice": "test",
                  "payload": base64.b64encode(payload).decode(),
                  "key": base64.b64encode(k.public_key().public_bytes(serialization.Encoding.DER,
                         serialization.PublicFormat.SubjectPublicKeyInfo)).decode(),
                  "signature": base64.b64encode(sig).decode()}, indent=2))
EOF
$PY mkdoc.py "$MRE" "$MRS" $((10 * 86400)) simulation INSECURE none old.fp > old.json
expect 0 enclave-measure --attestation old.json --constraint "C:$MRE SEC:INSECURE EXPIRE:P2W"
expect_out "^public_key: +EC 256, SHA-256 $(cat old.fp)"
expect 3 enclave-measure --attestation old.json --constraint "C:$MRE SEC:INSECURE EXPIRE:P1W"
expect_err "constraint EXPIRE: "
$PY mkdoc.py "$MRE" "$MRS" 0 hardware INSECURE none > hw.json
expect 3 enclave-measure --attestation hw.json
expect_err "claims a hardware enclave"
expect_one_line_err
$PY mkdoc.py "$MRE" "$MRS" 0 simulation SECURE none > secure.json
expect 3 enclave-measure --attestation secure.json --constraint "C:$MRE SEC:SECURE"
expect_err "only INSECURE is possible"
$PY mkdoc.py "$MRE" "$MRS" 0 simulation INSECURE payload > tampered.json
expect 3 enclave-measure --attestation tampered.json
expect_err "does not verify"
$PY mkdoc.py "$MRE" "$MRS" 0 simulation INSECURE binding > unbound.json
expect 3 enclave-measure --attestation unbound.json
expect_err "does not bind the public key"
$PY mkdoc.py "$MRE" "$MRS" -100000 simulation INSECURE none > future.json
expect 3 enclave-measure --attestation future.json
expect_err "lies in the future"
$PY mkdoc.py "$MRE" "$MRS" 0 simulation INSECURE none > k.json
expect 0 enclave-measure --attestation k.json --json
echo "$out" > out.json && schema_check out.json || _t_failmsg "--json with a key does not match the schema"
# a DCAP document needs a quote verifier this tool does not have: error, not a verdict
"$PY" -c 'import json,sys; d=json.load(open("k.json")); d["signer"]="dcap"; [d.pop(k) for k in ("notice","key","signature")]; d["quote"]="AAAA"; print(json.dumps(d))' < /dev/null > dcap.json
expect 1 enclave-measure --attestation dcap.json --constraint "C:$MRE"
expect_err "DCAP quote verifier"
printf '{"format": "enclave-attestation 1", "signer":' > cut.json
expect 1 enclave-measure --attestation cut.json
expect_one_line_err
expect_err "cut.json"

# ---- enclave-run: nothing is written when verification fails or the path is bad
case_begin run-no-document-on-failure
expect 3 enclave-run --constraint "C:$OTHER SEC:INSECURE" --attestation-out att.json "$S/hello.eimg" </dev/null
expect_no_file att.json
expect 1 enclave-run -q --attestation-out no/such/dir/att.json "$S/hello.eimg" </dev/null
expect_err "no/such/dir/att.json"
expect_no_file no

# ---- usage
case_begin usage
expect 2 enclave-measure --root "$S/att.json"
expect 2 enclave-measure --attestation "$S/att.json" "$S/hello.eimg"
expect 2 enclave-measure --attestation "$S/att.json" --root "$S/att.json"
expect 1 enclave-measure --attestation no-such-file.json
expect_err "no-such-file.json"

# ---- Nitro NSM documents
case_begin nitro-setup
N=$PWD
$PY "$EIMG_TOP/test/cli/nsm_doc.py" "$N" || _t_failmsg "nsm_doc.py failed"
P0=$(sed -n 's/^PCR0=//p' pcrs.txt); P1=$(sed -n 's/^PCR1=//p' pcrs.txt); P2=$(sed -n 's/^PCR2=//p' pcrs.txt)
P8=$(sed -n 's/^PCR8=//p' pcrs.txt)
[ ${#P0} = 96 ] || _t_failmsg "no PCR0"

case_begin nitro-valid
expect 0 enclave-measure --attestation "$N/good.cose" --root "$N/root.pem" --constraint "PCR0:$P0 PCR1:$P1 PCR2:$P2 PCR8:$P8"
expect_out "^chain_verified: +verified to the given root"
expect_out "^  pcr0: +$P0"
expect_out "^security: +SECURE"
expect 0 enclave-measure --attestation "$N/good.cose" --root "$N/root.pem" --expect "PCR0:$P0 PCR2:$P2"
expect 0 enclave-measure --attestation "$N/good-tagged.cose" --root "$N/root.pem" --json
echo "$out" | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["chain_verified"] is True and d["user_data"]=="68656c6c6f" and d["nonce"]=="010203" and d["public_key"] is None and d["pcrs"]["pcr0"]==sys.argv[1], d' "$P0" ||
	_t_failmsg "--json output of a Nitro document"
echo "$out" > out.json && schema_check out.json || _t_failmsg "Nitro --json does not match attestation-output.schema.json"
expect 0 enclave-measure --attestation "$N/good.cose" --json
echo "$out" > out2.json && schema_check out2.json || _t_failmsg "Nitro --json (no root) does not match the schema"
openssl x509 -in "$N/root.pem" -outform DER -out root.der
expect 0 enclave-measure --attestation "$N/good.cose" --root root.der --constraint "PCR0:$P0"

case_begin nitro-wrong-pcr
expect 3 enclave-measure --attestation "$N/good.cose" --root "$N/root.pem" --constraint "PCR0:$P0 PCR2:$P1"
expect_err "constraint PCR2: expected $P1, actual $P2"
expect 3 enclave-measure --attestation "$N/good.cose" --root "$N/root.pem" --constraint "PCR5:$P0"
expect_err "constraint PCR5: "

case_begin nitro-no-root
expect 0 enclave-measure --attestation "$N/good.cose"
expect_out "^chain_verified: +NOT checked"
expect_out "^security: +INSECURE"
expect 3 enclave-measure --attestation "$N/good.cose" --constraint "PCR0:$P0"
expect_err "NOT checked \(no --root\)"
expect 3 enclave-measure --attestation "$N/good.cose" --expect "PCR0:$P0"

case_begin nitro-forged
expect 3 enclave-measure --attestation "$N/badsig.cose" --root "$N/root.pem"
expect_err "signature does not verify"
expect_one_line_err
expect 3 enclave-measure --attestation "$N/badpayload.cose" --root "$N/root.pem"
expect_err "signature does not verify"
expect 3 enclave-measure --attestation "$N/wrongkey.cose"
expect_err "signature does not verify"
expect 3 enclave-measure --attestation "$N/good.cose" --root "$N/other-root.pem" --constraint "PCR0:$P0"
expect_err "certificate chain does not verify to the root"
expect_one_line_err
expect 3 enclave-measure --attestation "$N/expired.cose" --root "$N/root.pem"
expect_err "certificate has expired"
expect 1 enclave-measure --attestation "$N/es256.cose" --root "$N/root.pem"
expect_err "signed ES256; Nitro documents are signed ES384"
expect 1 enclave-measure --attestation "$N/good.cose" --root "$N/pcrs.txt"
expect_err "pcrs.txt"

case_begin nitro-debug
expect 3 enclave-measure --attestation "$N/debug.cose" --root "$N/root.pem" --constraint "PCR8:$P8"
expect_err "constraint SEC: expected STALE or SECURE, actual INSECURE"
expect 0 enclave-measure --attestation "$N/debug.cose" --root "$N/root.pem" --constraint "PCR8:$P8 SEC:INSECURE"
expect_out "^debug: +yes"

case_begin nitro-hostile
for f in "$N"/hostile-*.cose; do
	expect 1 enclave-measure --attestation "$f" --root "$N/root.pem"
	expect_one_line_err
	expect_err "$(basename "$f")"
done
head -c 70000 /dev/zero | tr '\0' '\204' > big.cose
expect 1 enclave-measure --attestation big.cose
expect_err "above the limit"
: > empty.cose
expect 1 enclave-measure --attestation empty.cose
expect_one_line_err

finish
