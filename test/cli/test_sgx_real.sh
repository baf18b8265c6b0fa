#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Signatures that other SGX tool chains made (../shared/vectors/real: Gramine, Intel, Fortanix),
# verified with the MRSIGNER, MRENCLAVE and date their README lists (issue 12).
. "$(dirname "$0")/lib.sh"
R=$EIMG_VECTORS/real
[ -d "$R/gramine" ] && [ -d "$R/sgx" ] || { echo "skipped: real SGX vectors not found at $R"; exit 77; }
PY=${PYTHON:-/usr/bin/python3}
INTEL_SIGNER=acb77012053e05a63d413b8bbae8fb6c5d73b3f2996d91c43bbbf90959c0f8d4

# name | file | MRENCLAVE | MRSIGNER | date | date note
while IFS='|' read -r name file mre mrs date note; do
	case_begin "show-$name"
	expect 0 enclave-sign show "$R/$file"
	expect_out "^signature: +valid"
	expect_out "^mrenclave: +$mre$"
	expect_out "^mrsigner: +$mrs$"
	expect_out "^date: +$date$note"
	case_begin "verify-$name"
	expect 0 enclave-sign verify --mrsigner "$mrs" --mrenclave "$mre" "$R/$file"
	expect_out "signature valid over MRENCLAVE $mre; content recomputed: no \(a bare SIGSTRUCT"
	case_begin "verify-$name-other-enclave"
	expect 3 enclave-sign verify --mrenclave 0000000000000000000000000000000000000000000000000000000000000000 "$R/$file"
	expect_one_line_err
	expect_err "the signature is for MRENCLAVE $mre"
	case_begin "show-json-$name"
	expect 0 enclave-sign show --json "$R/$file"
	echo "$out" | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
assert (d["mrenclave"], d["mrsigner"], d["date"]) == tuple(sys.argv[1:4]), d' "$mre" "$mrs" "$date" ||
		_t_failmsg "show --json fields"
done <<EOT
gramine-helloworld|gramine/helloworld.sig|3b9403186b9e13f9e8636fba1f6f4fff00a24064f6e570d328efa13cc3bee6b7|fa2f9444ce8a8854d942a200bf1030e8165c1474f96cbba70a6259d130ea96a0|2022-11-28| \(binary year, month, day, as Gramine writes it; not BCD\)
gramine-python|gramine/python.sig|1a5ab604ef2da1f7b48eecc49fb14fd0d9288faefbbe82bd29db620a4cf63061|ef00e76f4042618b328fe5eb142cc8d1edf0064b7d2ac40c099660c2f36133ad|2023-05-15| \(binary
intel-le-prod|sgx/le_prod_css.bin|8050122c5f999a28624b23ddd85b0483caedae3f38a29d192758798e6785d090|$INTEL_SIGNER|2016-11-16|$
fortanix-le|sgx/le.signed.sig|c0acdca38163ef4d4ef3bd51a4b98f4b00fb8d81045e7c6cd4fdeb3beb3b4574|$INTEL_SIGNER|2015-06-16|$
EOT

case_begin "gramine-fields"
expect 0 enclave-sign show "$R/gramine/helloworld.sig"
expect_out "^isvprodid: +0$"
expect_out "^isvsvn: +0$"
expect_out "^attributes: +flags 0x6 xfrm 0x3$"
expect_out "^vendor: +0x0$"

case_begin "intel-le-fields"
expect 0 enclave-sign show "$R/sgx/le_prod_css.bin"
expect_out "^isvprodid: +32$"
expect_out "^isvsvn: +1$"
expect_out "^vendor: +0x8086 \(Intel\)$"

# The Fortanix SGXS is the launch enclave's load stream: its hash is the MRENCLAVE Intel signed,
# so the signature is tied to content.
case_begin "fortanix-sgxs"
expect 0 enclave-measure "$R/sgx/le.signed.sgxs"
expect_out "c0acdca38163ef4d4ef3bd51a4b98f4b00fb8d81045e7c6cd4fdeb3beb3b4574"
[ "$(sha256sum < "$R/sgx/le.signed.sgxs" | cut -d' ' -f1)" = c0acdca38163ef4d4ef3bd51a4b98f4b00fb8d81045e7c6cd4fdeb3beb3b4574 ] ||
	_t_failmsg "sha256 of the SGXS"
expect 0 enclave-sign verify --sgxs "$R/sgx/le.signed.sgxs" --mrsigner "$INTEL_SIGNER" "$R/sgx/le.signed.sig"
expect_out "signature valid over MRENCLAVE c0acdca38163ef4d4ef3bd51a4b98f4b00fb8d81045e7c6cd4fdeb3beb3b4574; content recomputed: yes \(the SGXS load stream"
expect_out "^date: +2015-06-16$"
# Intel's production LE signature is not for that (older) launch enclave.
expect 3 enclave-sign verify --sgxs "$R/sgx/le.signed.sgxs" "$R/sgx/le_prod_css.bin"
expect_one_line_err
expect_err "8050122c5f999a28624b23ddd85b0483caedae3f38a29d192758798e6785d090"
expect_err "c0acdca38163ef4d4ef3bd51a4b98f4b00fb8d81045e7c6cd4fdeb3beb3b4574"

finish
