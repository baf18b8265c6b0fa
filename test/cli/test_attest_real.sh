#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Genuine AWS Nitro attestation documents (../shared/vectors/real/nitro-nsm), checked as of a
# time: --at document, --at TIME, --max-age, raw CBOR / base64 / hex text (issue 12).
. "$(dirname "$0")/lib.sh"
R=$EIMG_VECTORS/real/nitro-nsm
[ -d "$R" ] || { echo "skipped: genuine Nitro documents not found at $R"; exit 77; }
ROOT=$R/aws-nitro-enclaves-root-g1.pem
ND=$R/evervault-nondebug-20230118.cbor
PCR0=d265a83faa7b4fa0d73b82b6d06253e894445922937d0ee5a74fe4891da9817611a71e71b98e5329232902de3cf419af
PCR1=bcdf05fefccaa8e55bf2c8d6dee9e79bbff31e34bf28a99aa19e6b29c37ee80b214a414b7607236edf26fcb78654e63f
PCR2=e4f634d24ad83b7f6e49fe283bafdb220f6252fb4a278a858e19d15b7cd0f263b9168ed0bacefb4444266df9f9a77f24
PCR8=97c5395a83c0d6a04d53ff962663c714c178c24500bf97f78456ed3721d922cf3f940614da4bb90107c439bc4a1443ca

# The root is AWS's published one (its SHA-256 fingerprint), or nothing here means anything.
case_begin "root-is-aws"
fp=$(openssl x509 -in "$ROOT" -outform DER | sha256sum | cut -d' ' -f1)
[ "$fp" = 641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b ] || _t_failmsg "root fingerprint $fp"

for doc in evervault-nondebug-20230118.cbor evervault-debug-20230118.cbor valid-attestation-doc-base64; do
	case_begin "at-document-$doc"
	expect 0 enclave-measure --attestation "$R/$doc" --root "$ROOT" --at document
	expect_out "^chain_verified: +verified to the given root"
	expect_out "^root: "
	case_begin "at-now-expired-$doc"
	expect 3 enclave-measure --attestation "$R/$doc" --root "$ROOT"
	expect_err "certificate has expired"
	expect_err "valid from [0-9-]+T[0-9:]+Z to [0-9-]+T[0-9:]+Z; checked as of"
	expect_err "--at document"
	expect_one_line_err
	case_begin "at-now-word-$doc"
	expect 3 enclave-measure --attestation "$R/$doc" --root "$ROOT" --at now
	expect_err "certificate has expired"
done

case_begin "published-pcrs-through-constraint"
expect 0 enclave-measure --attestation "$ND" --root "$ROOT" --at document \
	--constraint "PCR0:$PCR0 PCR1:$PCR1 PCR2:$PCR2 PCR8:$PCR8"
case_begin "published-pcrs-through-expect"
expect 0 enclave-measure --attestation "$ND" --root "$ROOT" --at document --expect "PCR0:$PCR0 PCR8:$PCR8"
case_begin "wrong-pcr-mismatch"
bad=$(echo "$PCR0" | sed 's/^d/e/')
expect 3 enclave-measure --attestation "$ND" --root "$ROOT" --at document --constraint "PCR0:$bad"
expect_err "PCR0"

case_begin "bad-signature"
expect 3 enclave-measure --attestation "$R/aws_nitro_document_bad_sig.cbor" --root "$ROOT" --at document
expect_err "signature does not verify"
expect_one_line_err

# --at with an explicit time: inside the leaf's three hours, and after it.
case_begin "at-rfc3339-inside"
expect 0 enclave-measure --attestation "$ND" --root "$ROOT" --at 2023-01-18T13:30:00Z
case_begin "at-epoch-inside"
expect 0 enclave-measure --attestation "$ND" --root "$ROOT" --at 1674048600
case_begin "at-rfc3339-fraction-offset"
expect 0 enclave-measure --attestation "$ND" --root "$ROOT" --at 2023-01-18T13:30:00.5+00:00
case_begin "at-after-leaf"
expect 3 enclave-measure --attestation "$ND" --root "$ROOT" --at 2023-01-18T20:00:00Z
expect_err "certificate has expired \(certificate at depth 0"
case_begin "at-before-document"
expect 3 enclave-measure --attestation "$ND" --root "$ROOT" --at 2023-01-18T12:00:00Z
expect_err "lies in the future"

# Freshness: the document (13:07:19) within --max-age of the time of the check.
case_begin "max-age-fresh"
expect 0 enclave-measure --attestation "$ND" --root "$ROOT" --at 2023-01-18T13:10:00Z --max-age 5m
case_begin "max-age-stale"
expect 3 enclave-measure --attestation "$ND" --root "$ROOT" --at 2023-01-18T13:30:00Z --max-age 5m
expect_err "too old: signed at 2023-01-18T13:07:19Z"
case_begin "max-age-at-document"
expect 0 enclave-measure --attestation "$ND" --root "$ROOT" --at document --max-age 1s

# Text forms: hex and base64 of the same document verify the same; junk is one clear line.
case_begin "hex-text"
od -An -v -tx1 "$ND" | tr -d ' \n' > doc.hex
expect 0 enclave-measure --attestation doc.hex --root "$ROOT" --at document --constraint "PCR0:$PCR0"
case_begin "base64-text"
base64 "$ND" > doc.b64
expect 0 enclave-measure --attestation doc.b64 --root "$ROOT" --at document --constraint "PCR0:$PCR0"
case_begin "not-a-document"
printf 'hello, world\n' > junk.txt
expect 1 enclave-measure --attestation junk.txt --root "$ROOT"
expect_err "not an attestation document"
expect_one_line_err
case_begin "base64-of-not-cose"
printf 'hello, world' | base64 > notcose.b64
expect 1 enclave-measure --attestation notcose.b64 --root "$ROOT"
expect_err "does not decode to a COSE_Sign1"

case_begin "json-checked-at-schema"
expect 0 enclave-measure --attestation "$ND" --root "$ROOT" --at document --json
echo "$out" > out.json
grep -q '"checked_at": "2023-01-18T13:07:19Z"' out.json || _t_failmsg "checked_at is not the document's time"
if "${PYTHON:-python3}" -c 'import jsonschema' 2>/dev/null; then
	"${PYTHON:-python3}" -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[2])), json.load(open(sys.argv[1])))' \
		"$EIMG_TOP/schemas/attestation-output.schema.json" out.json || _t_failmsg "output does not match the schema"
fi

# Usage errors.
case_begin "at-bad-syntax"
expect 2 enclave-measure --attestation "$ND" --at yesterday
expect_err "--at: expected RFC 3339"
case_begin "at-impossible-date"
expect 2 enclave-measure --attestation "$ND" --at 2023-02-30T00:00:00Z
case_begin "max-age-bad"
expect 2 enclave-measure --attestation "$ND" --max-age 5x
expect_err "--max-age"
case_begin "at-without-attestation"
expect 2 enclave-measure --at document some.eimg
expect_err "needs --attestation"
finish
