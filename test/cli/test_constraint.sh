#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The constraint language end to end (enclave-constraints(7)): through
# enclave-measure (an SGXS, no signature) and enclave-sign verify (a signed
# SIGSTRUCT with its SGXS), exit codes 0 / 2 / 1 / 3 and the per-key message.
. "$(dirname "$0")/lib.sh"
need_vectors
V=$EIMG_VECTORS
MRE=784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc
MRS=fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542
OTHER=0000000000000000000000000000000000000000000000000000000000000001

case_begin measure-code-hash-matches
expect 0 enclave-measure --constraint "C:$MRE" "$V/test_enclave.sgxs"
expect 0 enclave-measure --constraint "C:$OTHER   C:${MRE^^}" "$V/test_enclave.sgxs"

case_begin measure-code-hash-mismatch
expect 3 enclave-measure --constraint "C:$OTHER" "$V/test_enclave.sgxs"
expect_err "C: expected $OTHER, got $MRE"
expect_one_line_err

case_begin measure-no-attestation
# Without an attestation a hardware enclave is STALE at best and EXPIRE cannot hold.
expect 3 enclave-measure --constraint "C:$MRE SEC:SECURE EXPIRE:P30D" "$V/test_enclave.sgxs"
expect_err "SEC: expected SECURE, got STALE"
expect_err "EXPIRE: expected an attestation newer than .*, got no attestation"
expect 0 enclave-measure --constraint "C:$MRE SEC:STALE DEBUG:NO" "$V/test_enclave.sgxs"

case_begin measure-malformed-is-usage
expect 2 enclave-measure --constraint "C:$MRE FOO:1" "$V/test_enclave.sgxs"
expect_err 'token "FOO:1" \(column 68\): unknown key "FOO"'
expect 2 enclave-measure --constraint "S:$MRS" "$V/test_enclave.sgxs"
expect_err "S: needs PROD:"
expect 2 enclave-measure --constraint "SEC:STALE" "$V/test_enclave.sgxs"
expect_err "at least one C:"
expect 2 enclave-measure --constraint "C:$MRE EXPIRE:PT1H" "$V/test_enclave.sgxs"
expect_err "not a time"

case_begin measure-constraint-file
printf '# release build of the test enclave\nC:%s   # code hash\n\nSEC:STALE\n' "$MRE" > policy
expect 0 enclave-measure --constraint @policy "$V/test_enclave.sgxs"
printf 'C:%s\nREVOKE:x\n' "$MRE" > bad
enclave-measure --constraint @bad "$V/test_enclave.sgxs" >/dev/null 2>err; rc=$?
[ $rc -eq 1 ] || [ $rc -eq 2 ] || _t_failmsg "malformed constraint file: exit $rc, expected 1 or 2"
grep -q "bad:2:1: token \"REVOKE:x\"" err || _t_failmsg "no file:line:col in: $(cat err)"
expect 1 enclave-measure --constraint @missing "$V/test_enclave.sgxs"
expect_err "'missing'"

case_begin verify-signer-and-product
# test_enclave.sig: MRSIGNER $MRS, ISVPRODID 65535, ISVSVN 0.
expect 0 enclave-sign verify --sgxs "$V/test_enclave.sgxs" --constraint "S:$MRS PROD:65535" "$V/test_enclave.sig"
expect 3 enclave-sign verify --sgxs "$V/test_enclave.sgxs" --constraint "S:$MRS PROD:1 REVOKE:0" "$V/test_enclave.sig"
expect_err "PROD: expected 1, got 65535"
expect_err "REVOKE: expected revocation level >= 0 \(ISVSVN >= 1\), got -1 \(ISVSVN 0\)"
expect 3 enclave-sign verify --sgxs "$V/test_enclave.sgxs" --constraint "C:$OTHER S:$OTHER PROD:65535" "$V/test_enclave.sig"
expect_err "C/S: expected C:$OTHER or S:$OTHER, got C:$MRE S:$MRS"

finish
