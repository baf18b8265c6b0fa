#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-sign with a real PKCS#11 token: SoftHSM2, set up by this test in a
# temporary folder (its own SOFTHSM2_CONF and token directory).
#  - two-step: enclave-sign export -> pkcs11-tool --sign -> enclave-sign attach,
#    for both the 256 signed bytes (SHA256-RSA-PKCS) and the 32-byte digest
#    (RSA-PKCS over DigestInfo || digest, as pre-hashed HSM/KMS signing does);
#  - one step with a pkcs11: URI through OpenSSL's pkcs11 engine when installed.
# Every result must equal one-step signing with the same key from a file.
# Nitro: an EC P-384 key in the token signs an EIF (two steps with pkcs11-tool,
# one step with a pkcs11: URI); the result verifies.
. "$(dirname "$0")/lib.sh"
unset SOURCE_DATE_EPOCH

MOD=""
for m in /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib64/softhsm/libsofthsm2.so; do
	[ -r "$m" ] && { MOD=$m; break; }
done
if [ -z "$MOD" ] || ! command -v softhsm2-util >/dev/null || ! command -v pkcs11-tool >/dev/null; then
	echo "skipped: SoftHSM2 or pkcs11-tool missing (apt-get install softhsm2 opensc)"
	exit 77
fi
# Under AddressSanitizer: libp11 allocates its RSA/EC methods when OpenSSL
# binds the engine (inside ENGINE_by_id) and frees them only in its own
# teardown at exit, which LeakSanitizer reports; those two sites only.
printf 'leak:ENGINE_by_id\nleak:ENGINE_remove\n' > "$_t_root/lsan.supp"
export LSAN_OPTIONS="suppressions=$_t_root/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export ASAN_OPTIONS="fast_unwind_on_malloc=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
have_engine=0
openssl engine pkcs11 -t >/dev/null 2>&1 && have_engine=1

MRE=c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d
COMMON="--mrenclave $MRE --date 2026-11-23 --isvprodid 2 --isvsvn 5"

# A fresh token holding an imported RSA-3072 e=3 key (id 01, label sgx) and an
# in-token RSA-3072 key with exponent 65537 (id 02, label wrongexp).
hsm_setup() {
	mkdir -p tokens
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$PWD" > softhsm2.conf
	export SOFTHSM2_CONF=$PWD/softhsm2.conf
	softhsm2-util --init-token --free --label eimg-test --pin 1234 --so-pin 5678 >/dev/null || return 1
	openssl genrsa -3 -out key.pem 3072 2>/dev/null || return 1
	openssl pkcs8 -topk8 -nocrypt -in key.pem -out key8.pem || return 1
	softhsm2-util --import key8.pem --token eimg-test --label sgx --id 01 --pin 1234 >/dev/null || return 1
	pkcs11-tool --module "$MOD" --token-label eimg-test --login --pin 1234 --keypairgen \
		--key-type rsa:3072 --id 02 --label wrongexp >/dev/null 2>&1 || return 1
	pkcs11-tool --module "$MOD" --token-label eimg-test --read-object --type pubkey --id 01 -o pub.der >/dev/null 2>&1 || return 1
	printf '1234\n' > pin.txt
	enclave-sign -k key.pem $COMMON -o onestep.sig >/dev/null
}

case_begin softhsm-two-step-gendata
hsm_setup || _t_failmsg "SoftHSM2 setup failed"
expect 0 enclave-sign export $COMMON -o data.bin
pkcs11-tool --module "$MOD" --token-label eimg-test --login --pin 1234 --sign --id 01 -m SHA256-RSA-PKCS \
	-i data.bin -o token.sig >/dev/null 2>&1 || _t_failmsg "pkcs11-tool --sign failed"
expect 0 enclave-sign attach -s token.sig -p pub.der $COMMON -o twostep.sig
expect_same twostep.sig onestep.sig
expect 0 enclave-sign verify --mrenclave $MRE twostep.sig

case_begin softhsm-two-step-digest
hsm_setup || _t_failmsg "SoftHSM2 setup failed"
expect 0 enclave-sign export --digest $COMMON -o digest.bin
# Pre-hashed signing: the token pads DigestInfo(SHA-256) || digest (CKM_RSA_PKCS).
{ printf '\x30\x31\x30\x0d\x06\x09\x60\x86\x48\x01\x65\x03\x04\x02\x01\x05\x00\x04\x20'; cat digest.bin; } > tbs.bin
pkcs11-tool --module "$MOD" --token-label eimg-test --login --pin 1234 --sign --id 01 -m RSA-PKCS \
	-i tbs.bin -o token.sig >/dev/null 2>&1 || _t_failmsg "pkcs11-tool --sign failed"
expect 0 enclave-sign attach -s token.sig -p pub.der $COMMON -o twostep.sig
expect_same twostep.sig onestep.sig
# The bare digest signed without DigestInfo is refused with the reason.
pkcs11-tool --module "$MOD" --token-label eimg-test --login --pin 1234 --sign --id 01 -m RSA-PKCS \
	-i digest.bin -o bare.sig >/dev/null 2>&1 || _t_failmsg "pkcs11-tool --sign failed"
expect 3 enclave-sign attach -s bare.sig -p pub.der $COMMON -o x.sig
expect_one_line_err
expect_err "DigestInfo"
expect_no_file x.sig

if [ $have_engine = 1 ]; then
	case_begin softhsm-pkcs11-uri
	hsm_setup || _t_failmsg "SoftHSM2 setup failed"
	URI="pkcs11:token=eimg-test;object=sgx;type=private"
	expect 0 enclave-sign -k "$URI" --pkcs11-module "$MOD" --passphrase-file pin.txt $COMMON -o uri1.sig
	expect_same uri1.sig onestep.sig
	EIMG_TEST_PIN=1234 expect 0 enclave-sign -k "$URI" --pkcs11-module "$MOD" --passphrase-env EIMG_TEST_PIN $COMMON -o uri2.sig
	expect_same uri2.sig onestep.sig
	expect 0 enclave-sign -k "$URI;pin-value=1234" --pkcs11-module "$MOD" $COMMON -o uri3.sig
	expect_same uri3.sig onestep.sig
	expect 0 enclave-sign verify --mrenclave $MRE uri1.sig

	case_begin softhsm-pkcs11-uri-errors
	hsm_setup || _t_failmsg "SoftHSM2 setup failed"
	URI="pkcs11:token=eimg-test;object=sgx;type=private"
	expect 1 enclave-sign -k "$URI" --pkcs11-module "$MOD" $COMMON -o x.sig </dev/null
	expect_one_line_err
	expect_err "PIN"
	printf '9999\n' > badpin.txt
	expect 1 enclave-sign -k "$URI" --pkcs11-module "$MOD" --passphrase-file badpin.txt $COMMON -o x.sig
	expect_one_line_err
	expect 1 enclave-sign -k "pkcs11:token=eimg-test;object=nothere;type=private;pin-value=1234" --pkcs11-module "$MOD" $COMMON -o x.sig
	expect_one_line_err
	echo "$errtxt" | grep -q 1234 && _t_failmsg "the PIN appears in the error message"
	expect_err "pin-value=\*\*\*"
	# The in-token key has exponent 65537: refused before anything is written.
	expect 1 enclave-sign -k "pkcs11:token=eimg-test;object=wrongexp;type=private" --pkcs11-module "$MOD" \
		--passphrase-file pin.txt $COMMON -o x.sig
	expect_one_line_err
	expect_err "exponent is 65537"
	expect 1 enclave-sign -k "$URI" --pkcs11-module ./no-such-module.so --passphrase-file pin.txt $COMMON -o x.sig
	expect_err "no-such-module.so"
	expect_no_file x.sig
else
	echo "skipped part: OpenSSL pkcs11 engine not installed (apt-get install libengine-pkcs11-openssl)"
fi

# ---- Nitro: an EC P-384 key in the token signs an EIF, in two steps and in one ----
nitro_setup() {
	hsm_setup || return 1
	openssl ecparam -name secp384r1 -genkey -noout -out ec.pem 2>/dev/null || return 1
	openssl pkcs8 -topk8 -nocrypt -in ec.pem -out ec8.pem || return 1
	softhsm2-util --import ec8.pem --token eimg-test --label nitro --id 03 --pin 1234 >/dev/null || return 1
	openssl req -x509 -new -key ec.pem -subj /CN=nitro-hsm -days 30 -out nitro.pem 2>/dev/null || return 1
	rm -f ec.pem ec8.pem   # from here on the key lives only in the token
	mkdir -p app/bin
	head -c 50000 /dev/zero | tr '\0' 'K' > bzImage
	printf '#!/bin/sh\n' > init; printf '#!/bin/sh\necho hi\n' > app/bin/hi; chmod 755 app/bin/hi
	printf 'version: 1\nname: hsm-nitro\ntarget: nitro\nnitro:\n  kernel: bzImage\n  cmdline: "console=ttyS0"\n  init: init\n  app: app\n  entrypoint: ["/bin/hi"]\n' > enclave.yaml
	enclave-build -q -f enclave.yaml -o n.eimg --eif n.eif
}

case_begin softhsm-nitro-two-step
nitro_setup || _t_failmsg "SoftHSM2/Nitro setup failed"
expect 0 enclave-sign export --cert nitro.pem -o tbs.bin n.eif
# SoftHSM2 signs pre-hashed data only (CKM_ECDSA): hash the Sig_structure with
# SHA-384 here, as with a cloud KMS; pkcs11-tool's ECDSA signature is raw r||s.
openssl dgst -sha384 -binary -out tbs.sha384 tbs.bin
pkcs11-tool --module "$MOD" --token-label eimg-test --login --pin 1234 --sign --id 03 -m ECDSA \
	-i tbs.sha384 -o token.sig >/dev/null 2>&1 || _t_failmsg "pkcs11-tool --sign (ECDSA) failed"
[ "$(stat -c %s token.sig)" = 96 ] || _t_failmsg "expected a 96-byte r||s signature from the token"
expect 0 enclave-sign attach -s token.sig --cert nitro.pem -o signed.eif n.eif
expect 0 enclave-sign verify signed.eif
# The same signature does not fit another EIF: refused, nothing written.
expect 0 enclave-build -q -f enclave.yaml -o m.eimg --eif m.eif   # same inputs: same EIF
expect_same n.eif m.eif
printf 'X' >> app/bin/hi
expect 0 enclave-build -q -f enclave.yaml -o o.eimg --eif other.eif
expect 3 enclave-sign attach -s token.sig --cert nitro.pem -o x.eif other.eif
expect_no_file x.eif

if [ $have_engine = 1 ]; then
	case_begin softhsm-nitro-pkcs11-uri
	nitro_setup || _t_failmsg "SoftHSM2/Nitro setup failed"
	expect 0 enclave-sign -k "pkcs11:token=eimg-test;object=nitro;type=private" --pkcs11-module "$MOD" \
		--passphrase-file pin.txt --cert nitro.pem -o signed.eif n.eif
	expect 0 enclave-sign verify signed.eif
	expect 0 enclave-sign --in-place -k "pkcs11:token=eimg-test;object=nitro;type=private;pin-value=1234" --pkcs11-module "$MOD" \
		--cert nitro.pem n.eimg
	expect 0 enclave-sign verify n.eimg
	# The RSA key of the token does not belong to the certificate.
	expect 1 enclave-sign -k "pkcs11:token=eimg-test;object=sgx;type=private" --pkcs11-module "$MOD" \
		--passphrase-file pin.txt --cert nitro.pem -o x.eif n.eif
	expect_one_line_err
	expect_no_file x.eif
fi

finish
