#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-sign from the command line: known-answer vectors, images, standalone
# SIGSTRUCTs, two-step signing with openssl as the "HSM", verification failures,
# foreign formats (fixtures built here with objcopy), bad keys and inputs.
# Keys are generated at test time; vector keys are read from ../shared/vectors.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
V=$EIMG_VECTORS
unset SOURCE_DATE_EPOCH
have_vectors() { [ -d "$V" ]; }

# A tiny freestanding enclave ELF and a manifest (debug: $1, kss: $2).
mkproject() { # debug kss
	cat > enclave.c <<'C'
static volatile unsigned long counter = 7;
void enclave_entry(void) { for (;;) { counter++; __asm__ volatile("pause"); } }
C
	gcc -O1 -nostdlib -static-pie -fPIE -ffreestanding -fno-stack-protector -Wl,-z,max-page-size=4096 \
		-Wl,-z,separate-code -Wl,-z,noexecstack -Wl,-e,enclave_entry -o app.elf enclave.c
	{
		printf 'version: 1\nname: demo\ntarget: sgx\nmode: simulation\nsgx:\n  enclave: app.elf\n'
		printf '  heap_size: 64K\n  stack_size: 16K\n  product_id: 7\n  security_version: 3\n'
		printf '  debug: %s\n' "${1:-false}"
		if [ "${2:-}" = kss ]; then
			printf '  kss: true\n  isv_family_id: "00112233445566778899aabbccddeeff"\n'
			printf '  isv_ext_product_id: "ffeeddccbbaa99887766554433221100"\n'
		fi
	} > enclave.yaml
	enclave-build -q -f enclave.yaml -o app.eimg >/dev/null 2>build.err || { _t_failmsg "enclave-build failed: $(cat build.err)"; return 1; }
}
key3072() { openssl genrsa -3 -out "${1:-key.pem}" 3072 2>/dev/null; }
sigfield() { # file offset size -> hex (as stored)
	od -An -tx1 -v -j "$2" -N "$3" "$1" | tr -d ' \n'
}
sigmember() { tar -xOf "$1" sigstruct.bin; }
tamper() { # image member offset-in-member
	"$PY" - "$@" <<'P'
import sys, tarfile
path, member, off = sys.argv[1], sys.argv[2], int(sys.argv[3])
with tarfile.open(path) as t:
    m = t.getmember(member)
    pos = m.offset_data + (off % m.size)
with open(path, "r+b") as f:
    f.seek(pos); b = f.read(1); f.seek(pos)
    f.write(bytes([b[0] ^ 0x01]))
P
}
MRE_SIG1=c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d

case_begin help
expect 0 enclave-sign --help
expect_out "^usage: enclave-sign"
expect_out "export"
expect 0 enclave-sign --version
expect_out "^enclave-sign [0-9]"

case_begin usage-errors
expect 2 enclave-sign --bogus
expect_err "usage"
expect 2 enclave-sign -k k.pem
expect_err "no enclave given"
expect_one_line_err
expect 2 enclave-sign -k k.pem --mrenclave $MRE_SIG1
expect_err "needs -o FILE"
expect 2 enclave-sign -k k.pem --mrenclave 1234 -o x.sig
expect_err "64 hex digits"
expect 2 enclave-sign -k k.pem --isvsvn 70000 --mrenclave $MRE_SIG1 -o x.sig
expect_err "isvsvn"
# A leading zero is not octal (010 would silently sign ISVSVN 8): refused, as in the manifest.
expect 2 enclave-sign -k k.pem --isvsvn 010 --mrenclave $MRE_SIG1 -o x.sig
expect_err "isvsvn"
expect 2 enclave-sign -k k.pem --isvprodid 010 --mrenclave $MRE_SIG1 -o x.sig
expect_err "isvprodid"
expect 2 enclave-sign -k k.pem --isvsvn 1 x.eimg
expect_err "come from its manifest"
expect 2 enclave-sign -k k.pem --sgxs a.sgxs --mrenclave $MRE_SIG1 -o x.sig
expect 2 enclave-sign -k k.pem --date 2026-02-30 --mrenclave $MRE_SIG1 -o x.sig
expect_err "not a calendar date"
expect 2 enclave-sign --isvfamilyid 00112233445566778899aabbccddeeff -k k.pem --mrenclave $MRE_SIG1 -o x.sig
expect_err "needs --kss"
expect 2 enclave-sign verify
expect_err "no input"
expect 2 enclave-sign verify -k k.pem x.sig
expect 2 enclave-sign export --mrenclave $MRE_SIG1
expect_err "export needs -o"
expect 2 enclave-sign attach --mrenclave $MRE_SIG1 -o x.sig
expect_err "attach needs"
expect 2 enclave-sign verify a b
expect_err "unexpected argument"
expect_no_file x.sig

# ---- known answers ----

case_begin vector-sig1-byte-for-byte
have_vectors || { echo "skipped: vectors absent at $V"; }
if have_vectors; then
	expect 0 enclave-sign -k "$V/sig1.key.pem" --mrenclave $MRE_SIG1 --date 2016-01-09 --debug -o sig1.sig
	expect_same sig1.sig "$V/sig1.sigstruct.bin"
	expect_out "mrsigner: +83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e"
	# Same through SOURCE_DATE_EPOCH (2016-01-09 12:00 UTC).
	SOURCE_DATE_EPOCH=1452340800 expect 0 enclave-sign -k "$V/sig1.key.pem" --mrenclave $MRE_SIG1 --debug -o sig1b.sig
	expect_same sig1b.sig "$V/sig1.sigstruct.bin"
	# Without --debug the mask keeps DEBUG: different bytes.
	expect 0 enclave-sign -k "$V/sig1.key.pem" --mrenclave $MRE_SIG1 --date 2016-01-09 -o prod.sig
	cmp -s prod.sig "$V/sig1.sigstruct.bin" && _t_failmsg "production-only signature equals the debug one"
	[ "$(sigfield prod.sig 944 8)" = ffffffffffffffff ] || _t_failmsg "production mask: $(sigfield prod.sig 944 8)"
fi

case_begin vector-intel-key
if have_vectors; then
	expect 0 enclave-sign -k "$V/intel_test_key.pem" --mrenclave dfb678268c380f68c443631b70fbb8058eb372ddcc45b02dec934f4017935093 \
		--date 2025-01-01 --isvprodid 1 --isvsvn 2 --attributes 0x6:0x3 \
		--attributes-mask 0xffffffffffffffff:0xfffffffffff9ff1b -o intel.sig
	[ "$(sha256sum < intel.sig | cut -d' ' -f1)" = 535b7847a474380002acf55952173f973a3cc890426c65ad57060d680370e465 ] ||
		_t_failmsg "sha256 of the Intel-key SIGSTRUCT differs"
	expect_out "mrsigner: +9664d90755bd901069d4725cdd428038473d726f1cec0edf0d78e18a596b1d4e"
	expect_out "debug_allowed: +true"; expect_out "production_allowed: +false"
fi

case_begin vector-test-enclave-verify
if have_vectors; then
	expect 0 enclave-sign verify --sgxs "$V/test_enclave.sgxs" \
		--mrsigner fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542 "$V/test_enclave.sig"
	expect_out "signature valid over MRENCLAVE 784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc; content recomputed: yes \(the SGXS load stream"
	expect_out "isvprodid: +65535"
	expect_out "date: +2016-12-14"
	expect 3 enclave-sign verify --sgxs "$V/report.sgxs" "$V/test_enclave.sig"
	expect_one_line_err
	expect_err "a06a560b26f5e397b2d7872fac66fe4b43bf4f507296ee048f110be6fb1a2290"
	expect 3 enclave-sign verify --mrsigner 83d719e77deaca1470f6baf62a4d774303c899db69020f9c70ee1dfc08c7ce9e "$V/test_enclave.sig"
	expect_err "MRSIGNER is fb4bab3d"
	# Without an enclave the SIGSTRUCT alone is checked, and the output says so.
	expect 0 enclave-sign verify "$V/test_enclave.sig"
	expect_out "content recomputed: no \(a bare SIGSTRUCT carries no enclave content"
	expect 0 enclave-sign verify --mrenclave 784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc "$V/test_enclave.sig"
	expect_out "content recomputed: no \(a bare SIGSTRUCT carries no enclave content; MRENCLAVE equals the --mrenclave value given\)"
	# Standalone from the SGXS with the vector's fields gives a valid signature for it.
	key3072
	expect 0 enclave-sign -k key.pem --sgxs "$V/test_enclave.sgxs" --isvprodid 65535 --debug -o mine.sig
	expect 0 enclave-sign verify --sgxs "$V/test_enclave.sgxs" mine.sig
	[ "$(sigfield mine.sig 960 32)" = 784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc ] || _t_failmsg "MRENCLAVE field"
fi

case_begin show-json
if have_vectors; then
	expect 0 enclave-sign show --json "$V/test_enclave.sig"
	echo "$out" > show.json
	"$PY" - show.json <<'P' || _t_failmsg "show --json content"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["mrsigner"] == "fb4bab3d6036ac1d730fa83d7366df1dd2dfeac194ef335d6854d8a6c6475542", d
assert d["mrenclave"] == "784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc"
assert d["isvprodid"] == 65535 and d["isvsvn"] == 0
assert d["debug_allowed"] is True and d["production_allowed"] is True
assert d["attributes_mask"]["flags"] == "0xfffffffffffffffd"
assert d["date"] == "2016-12-14" and d["format"] == "SIGSTRUCT"
P
fi

# ---- images ----

case_begin image-sign-verify
mkproject false && key3072 && {
	cp app.eimg orig.eimg
	expect 0 enclave-sign -k key.pem -o signed.eimg app.eimg
	expect_out "debug_allowed: +false"; expect_out "production_allowed: +true"
	expect_out "isvprodid: +7"
	expect_out "isvsvn: +3"
	expect_same app.eimg orig.eimg        # -o leaves the input alone
	expect 0 enclave-sign verify signed.eimg
	expect_out "enclave image: signature valid over MRENCLAVE [0-9a-f]{64}; content recomputed: yes \(from the image's ELF, files and manifest\)$"
	[ "$(sigmember signed.eimg | wc -c)" = 1808 ] || _t_failmsg "sigstruct.bin is not 1808 bytes"
	[ "$(sigmember signed.eimg | sigfield /dev/stdin 944 8)" = ffffffffffffffff ] || _t_failmsg "debug: false must give a production-only mask"
	[ "$(sigmember signed.eimg | sigfield /dev/stdin 928 8)" = 0400000000000000 ] || _t_failmsg "attributes flags"
	# In place.
	expect 0 enclave-sign --in-place -k key.pem app.eimg
	expect 0 enclave-sign verify app.eimg
	# The measurement tool still accepts the signed image (same MRENCLAVE).
	expect 0 enclave-measure app.eimg
}

case_begin output-errors
mkproject false && key3072 && {
	expect 1 enclave-sign -k key.pem -o no/such/dir/out.eimg app.eimg
	expect_one_line_err
	expect_err "no/such/dir/out.eimg"
	expect 1 enclave-sign -k key.pem --mrenclave $MRE_SIG1 -o no/such/dir/x.sig
	expect_one_line_err
	expect 1 enclave-sign export --mrenclave $MRE_SIG1 -o no/such/dir/x.bin
	expect 1 enclave-sign --in-place -k key.pem nothere.eimg
	expect_err "nothere.eimg"
	printf 'not an image' > junk.eimg
	expect 1 enclave-sign --in-place -k key.pem junk.eimg
	expect_one_line_err
	ls -a | grep -q '^\.eimg-' && _t_failmsg "temporary file left behind"
	true
}

case_begin image-debug-allowed
mkproject true && key3072 && {
	expect 0 enclave-sign --in-place -k key.pem app.eimg
	expect_out "debug_allowed: +true"; expect_out "production_allowed: +true"
	[ "$(sigmember app.eimg | sigfield /dev/stdin 944 8)" = fdffffffffffffff ] || _t_failmsg "debug: true must leave DEBUG out of the mask"
}

case_begin image-kss
mkproject false kss && key3072 && {
	expect 0 enclave-sign --in-place -k key.pem app.eimg
	[ "$(sigmember app.eimg | sigfield /dev/stdin 928 8)" = 8400000000000000 ] || _t_failmsg "KSS flag"
	[ "$(sigmember app.eimg | sigfield /dev/stdin 912 16)" = 00112233445566778899aabbccddeeff ] || _t_failmsg "isvfamilyid"
	[ "$(sigmember app.eimg | sigfield /dev/stdin 1008 16)" = ffeeddccbbaa99887766554433221100 ] || _t_failmsg "isvextprodid"
	expect 0 enclave-sign verify app.eimg
}

case_begin image-reproducible
mkproject false && key3072 && {
	export SOURCE_DATE_EPOCH=1795392000
	expect 0 enclave-sign -k key.pem -o a.eimg app.eimg
	sleep 1
	expect 0 enclave-sign -k key.pem -o b.eimg app.eimg
	expect_same a.eimg b.eimg
	[ "$(sigmember a.eimg | sigfield /dev/stdin 20 4)" = 23112620 ] || _t_failmsg "date is not BCD 0x20261123"
	expect 0 enclave-sign -k key.pem --date 2026-11-23 -o c.eimg app.eimg
	expect_same a.eimg c.eimg
	unset SOURCE_DATE_EPOCH
}

case_begin image-signed-twice
mkproject false && key3072 && key3072 other.pem && {
	expect 0 enclave-sign --in-place -k key.pem app.eimg
	cp app.eimg before.eimg
	expect 1 enclave-sign --in-place -k other.pem app.eimg
	expect_one_line_err
	expect_err "already signed: use --force"
	expect_same app.eimg before.eimg
	expect 0 enclave-sign --in-place --force -k other.pem app.eimg
	expect 0 enclave-sign verify app.eimg
	cmp -s app.eimg before.eimg && _t_failmsg "--force did not replace the signature"
}

case_begin image-unsigned-verify
mkproject false && {
	expect 3 enclave-sign verify app.eimg
	expect_one_line_err
	expect_err "not signed"
	expect 1 enclave-sign show app.eimg
	expect_err "not signed"
}

case_begin image-tampered-measurement
mkproject false && key3072 && {
	off=$(grep -abo '"mrenclave": "' <(tar -xOf app.eimg measurement.json) | cut -d: -f1)
	tamper app.eimg measurement.json $((off + 20))
	cp app.eimg before.eimg
	expect 3 enclave-sign --in-place -k key.pem app.eimg
	expect_one_line_err
	expect_err "refusing to sign"
	expect_same app.eimg before.eimg
	ls .eimg-* >/dev/null 2>&1 && _t_failmsg "temporary file left behind"
}

case_begin image-tampered-after-signing
mkproject false && key3072 && {
	expect 0 enclave-sign --in-place -k key.pem app.eimg
	cp app.eimg s.eimg
	tamper s.eimg sigstruct.bin 1100        # q1
	expect 3 enclave-sign verify s.eimg
	expect_one_line_err
	cp app.eimg s.eimg
	tamper s.eimg sigstruct.bin 1026         # isvsvn, signed
	expect 3 enclave-sign verify s.eimg
	expect_err "does not verify"
	cp app.eimg s.eimg
	tamper s.eimg enclave.elf 4296           # a loaded byte (the canonical ELF's first segment is at 4096)
	expect 3 enclave-sign verify s.eimg
	cp app.eimg s.eimg
	tamper s.eimg enclave.elf 200            # a program header: not the canonical form
	expect 1 enclave-sign verify s.eimg
	expect_err "enclave.elf: not a canonical enclave ELF: byte at offset 200 \\(program header"
}

case_begin image-manifest-fields-changed
# Signing parameters are not measured: the signature binds them, and verify
# compares them with the image's manifest.
mkproject false && key3072 && {
	expect 0 enclave-sign --in-place -k key.pem app.eimg
	off=$(grep -abo '"security_version": 3' <(tar -xOf app.eimg manifest.json) | cut -d: -f1)
	tamper app.eimg manifest.json $((off + 20))
	expect 0 enclave-measure app.eimg
	expect 3 enclave-sign verify app.eimg
	expect_one_line_err
	expect_err "isvsvn is 3, the image's manifest gives 2"
}

case_begin image-constraint
mkproject false && key3072 && {
	expect 0 enclave-sign --in-place -k key.pem app.eimg
	mrs=$(enclave-sign show --json app.eimg | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["mrsigner"])')
	# The image is a simulation build: INSECURE, so only SEC:INSECURE accepts it.
	expect 0 enclave-sign verify --constraint "S:$mrs PROD:7 SEC:INSECURE" app.eimg
	expect 3 enclave-sign verify --constraint "S:$mrs PROD:7" app.eimg
	expect_err "SEC: expected STALE or SECURE, got INSECURE"
	expect 0 enclave-sign verify --mrsigner "$mrs" app.eimg
	expect 3 enclave-sign verify --constraint "S:$mrs PROD:8 SEC:INSECURE" app.eimg
	expect_one_line_err
	expect_err "PROD"
	expect 2 enclave-sign verify --constraint "BOGUS:1" app.eimg
}

# ---- two-step ----

case_begin two-step-standalone
key3072 && openssl rsa -in key.pem -pubout -out pub.pem 2>/dev/null
common="--mrenclave $MRE_SIG1 --date 2026-01-01 --isvprodid 5 --isvsvn 9"
expect 0 enclave-sign -k key.pem $common -o one.sig
expect 0 enclave-sign export $common -o data.bin
expect 0 enclave-sign export --digest $common -o digest.bin
[ "$(wc -c < data.bin)" = 256 ] || _t_failmsg "gendata is not 256 bytes"
[ "$(wc -c < digest.bin)" = 32 ] || _t_failmsg "digest is not 32 bytes"
[ "$(sha256sum < data.bin | cut -d' ' -f1)" = "$(od -An -tx1 -v digest.bin | tr -d ' \n')" ] || _t_failmsg "digest != sha256(data)"
# The signed bytes are [0,128) || [900,1028) of the final SIGSTRUCT.
{ head -c 128 one.sig; tail -c +901 one.sig | head -c 128; } | cmp -s - data.bin || _t_failmsg "exported bytes differ from the SIGSTRUCT's"
openssl dgst -sha256 -sign key.pem -out s_dgst.bin data.bin
openssl pkeyutl -sign -inkey key.pem -pkeyopt digest:sha256 -in digest.bin -out s_pkeyutl.bin
expect 0 enclave-sign attach -s s_dgst.bin -p pub.pem $common -o two.sig
expect_same one.sig two.sig
expect 0 enclave-sign attach -s s_pkeyutl.bin -p pub.pem $common -o three.sig
expect_same one.sig three.sig
base64 < s_dgst.bin > s.b64
expect 0 enclave-sign attach -s s.b64 -p pub.pem $common -o four.sig
expect_same one.sig four.sig
# PKCS#1 and DER public keys.
openssl rsa -in key.pem -RSAPublicKey_out -out pub1.pem 2>/dev/null
openssl rsa -in key.pem -pubout -outform DER -out pub.der 2>/dev/null
expect 0 enclave-sign attach -s s_dgst.bin -p pub1.pem $common -o six.sig
expect_same one.sig six.sig
expect 0 enclave-sign attach -s s_dgst.bin -p pub.der $common -o seven.sig
expect_same one.sig seven.sig
expect 0 enclave-sign verify --json --mrenclave $MRE_SIG1 seven.sig
echo "$out" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); assert d["verified"].startswith("signature valid over MRENCLAVE c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d; content recomputed: no (") and d["isvsvn"]==9 and d["format"]=="SIGSTRUCT", d' ||
	_t_failmsg "verify --json"
# Certificate as the public key.
openssl req -new -x509 -key key.pem -subj /CN=signer -days 1 -out cert.pem 2>/dev/null
expect 0 enclave-sign attach -s s_dgst.bin -p cert.pem $common -o five.sig
expect_same one.sig five.sig

case_begin two-step-bad-signatures
key3072 && key3072 other.pem && openssl rsa -in key.pem -pubout -out pub.pem 2>/dev/null
common="--mrenclave $MRE_SIG1 --date 2026-01-01"
expect 0 enclave-sign export $common -o data.bin
expect 0 enclave-sign export --digest $common -o digest.bin
openssl dgst -sha256 -sign key.pem -out good.bin data.bin
# Signed for another date: other bytes.
expect 3 enclave-sign attach -s good.bin -p pub.pem --mrenclave $MRE_SIG1 --date 2026-01-02 -o x.sig
expect_one_line_err
expect_err "other bytes"
# The bare digest signed without DigestInfo.
openssl pkeyutl -sign -inkey key.pem -in digest.bin -out bare.bin
expect 3 enclave-sign attach -s bare.bin -p pub.pem $common -o x.sig
expect_err "DigestInfo"
# Another key.
openssl dgst -sha256 -sign other.pem -out otherkey.bin data.bin
expect 3 enclave-sign attach -s otherkey.bin -p pub.pem $common -o x.sig
# Not a signature at all.
expect 1 enclave-sign attach -s data.bin -p pub.pem $common -o x.sig
expect_err "not an RSA-3072 signature"
head -c 383 good.bin > short.bin
expect 1 enclave-sign attach -s short.bin -p pub.pem $common -o x.sig
# The public key is not an SGX key.
openssl genrsa -out k65537.pem 3072 2>/dev/null
expect 1 enclave-sign attach -s good.bin -p k65537.pem $common -o x.sig
expect_err "exponent"
expect_no_file x.sig

case_begin two-step-image
mkproject false && key3072 && openssl rsa -in key.pem -pubout -out pub.pem 2>/dev/null && {
	export SOURCE_DATE_EPOCH=1795392000
	expect 0 enclave-sign -k key.pem -o one.eimg app.eimg
	expect 0 enclave-sign export -o data.bin app.eimg
	openssl dgst -sha256 -sign key.pem -out sig.bin data.bin
	expect 0 enclave-sign attach -s sig.bin -p pub.pem -o two.eimg app.eimg
	expect_same one.eimg two.eimg
	expect 0 enclave-sign verify two.eimg
	unset SOURCE_DATE_EPOCH
}

# ---- keys ----

case_begin bad-keys
openssl genrsa -out k65537.pem 3072 2>/dev/null
openssl genrsa -3 -out k2048.pem 2048 2>/dev/null
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out ec.pem 2>/dev/null
key3072 && openssl rsa -in key.pem -pubout -out pub.pem 2>/dev/null
for k in k65537.pem:exponent k2048.pem:RSA-2048 ec.pem:"not an RSA key" pub.pem:"public key" nokey.pem:"cannot open"; do
	expect 1 enclave-sign -k "${k%%:*}" --mrenclave $MRE_SIG1 -o x.sig
	expect_one_line_err
	expect_err "${k#*:}"
	case ${k%%:*} in nokey.pem|pub.pem) ;; *) expect_err "openssl genrsa -3";; esac
done
echo "garbage" > junk.pem
expect 1 enclave-sign -k junk.pem --mrenclave $MRE_SIG1 -o x.sig
expect_err "not a private key"
expect_no_file x.sig

case_begin encrypted-key
openssl genrsa -3 -aes256 -passout pass:s3cret -out enc.pem 3072 2>/dev/null
printf 's3cret\n' > pass.txt
printf 'wrong\n' > wrong.txt
expect 1 enclave-sign -k enc.pem --mrenclave $MRE_SIG1 -o x.sig </dev/null
expect_one_line_err
expect_err "encrypted and no passphrase"
expect 1 enclave-sign -k enc.pem --passphrase-file wrong.txt --mrenclave $MRE_SIG1 -o x.sig
expect_err "wrong passphrase"
expect 1 enclave-sign -k enc.pem --passphrase-env EIMG_NO_SUCH_VAR --mrenclave $MRE_SIG1 -o x.sig
expect_err "EIMG_NO_SUCH_VAR"
expect_no_file x.sig
expect 0 enclave-sign -k enc.pem --passphrase-file pass.txt --mrenclave $MRE_SIG1 --date 2026-01-01 -o a.sig
EIMG_TEST_PASS=s3cret expect 0 enclave-sign -k enc.pem --passphrase-env EIMG_TEST_PASS --mrenclave $MRE_SIG1 --date 2026-01-01 -o b.sig
expect_same a.sig b.sig
# Same key decrypted: same signature.
openssl rsa -in enc.pem -passin pass:s3cret -out plain.pem 2>/dev/null
expect 0 enclave-sign -k plain.pem --mrenclave $MRE_SIG1 --date 2026-01-01 -o c.sig
expect_same a.sig c.sig
# The passphrase never shows in the output.
grep -q s3cret a.sig && _t_failmsg "passphrase in the output"
true

case_begin encrypted-key-prompt
# The passphrase typed on a terminal (a pseudo-terminal here): not echoed.
openssl genrsa -3 -aes256 -passout pass:s3cret -out enc.pem 3072 2>/dev/null
printf 's3cret\n' > pass.txt
expect 0 enclave-sign -k enc.pem --passphrase-file pass.txt --mrenclave $MRE_SIG1 --date 2026-01-01 -o a.sig
"$PY" - "$EIMG_BIN/enclave-sign" -k enc.pem --mrenclave $MRE_SIG1 --date 2026-01-01 -o b.sig <<'P' || _t_failmsg "terminal prompt"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
seen = b""
while b"passphrase: " not in seen:
    d = os.read(fd, 1024)
    if not d:
        sys.exit("no prompt: %r" % seen)
    seen += d
os.write(fd, b"s3cret\n")
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    seen += d
_, st = os.waitpid(pid, 0)
assert os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0, (st, seen)
assert b"s3cret" not in seen, "passphrase echoed"
P
expect_same a.sig b.sig

case_begin key-never-in-output
mkproject false && key3072 && {
	expect 0 enclave-sign -k key.pem -o s.eimg app.eimg
	expect 0 enclave-sign -k key.pem --mrenclave $MRE_SIG1 -o s.sig
	"$PY" - key.pem s.eimg s.sig <<'P' || _t_failmsg "private key material found in an output"
import sys
from cryptography.hazmat.primitives import serialization
k = serialization.load_pem_private_key(open(sys.argv[1], "rb").read(), None)
nums = k.private_numbers()
secrets = []
for v in (nums.d, nums.p, nums.q, nums.dmp1, nums.dmq1, nums.iqmp):
    b = v.to_bytes((v.bit_length() + 7) // 8, "big")
    secrets += [b[:32], b[::-1][:32]]
pem = open(sys.argv[1], "rb").read()
for f in sys.argv[2:]:
    data = open(f, "rb").read()
    assert pem[40:100] not in data, f
    for s in secrets:
        assert s not in data, f
P
}

# ---- SIGSTRUCT files: corrupted, truncated ----

case_begin corrupted-sigstruct
if have_vectors; then
	head -c 1000 "$V/test_enclave.sig" > trunc.sig
	expect 1 enclave-sign verify trunc.sig
	expect_one_line_err
	expect_err "1808 bytes"
	for spec in 0:header 512:exponent 530:"does not verify" 1050:q1 1500:q2 1024:"does not verify"; do
		cp "$V/test_enclave.sig" c.sig && chmod u+w c.sig
		printf '\x09' | dd of=c.sig bs=1 seek=${spec%%:*} conv=notrunc 2>/dev/null
		expect 3 enclave-sign verify c.sig
		expect_one_line_err
		expect_err "${spec#*:}"
	done
	: > empty.sig
	expect 1 enclave-sign verify empty.sig
	expect 1 enclave-sign verify nonexistent.sig
	expect_err "cannot open"
	expect 1 enclave-sign verify "$V/test_enclave.sgxs"
	expect_err "SGXS"
fi

# ---- signatures made by other tools ----

case_begin foreign-formats
if have_vectors && command -v objcopy >/dev/null; then
	printf 'int x = 1;\n' > t.c && gcc -c -o t.o t.c
	# Intel SDK .signed.so: .note.sgxmeta holding a note "sgx_metadata" whose descriptor
	# starts right after the 13-byte name (note offset 25) with the metadata (magic
	# 0x86A80294635D0E4C, SIGSTRUCT at byte 64).  Here the vector's signature, which is
	# for another enclave, sits in an SDK enclave written by test/py/sdk_ref.py.
	"$PY" - "$V/test_enclave.sig" "$EIMG_TOP/test/py" <<'P'
import struct, sys
sys.path.insert(0, sys.argv[2])
import sdk_ref
ss = open(sys.argv[1], "rb").read()
buf = sdk_ref.build_enclave()
open("enclave.signed.so", "wb").write(sdk_ref.with_sigstruct(buf, ss))
open("content.mr", "w").write(sdk_ref.mrenclave(buf))
oe = b"\x33" * 144 + ss + b"\x44" * 100
oe = struct.pack("<II", 1960, 2) + struct.pack("<QQQ", 1, 1, 1) + oe[32:]
open("oeinfo.bin", "wb").write(oe)
open("oeinfo0.bin", "wb").write(oe[:144] + b"\0" * 1808 + b"\x44" * 100)
P
	objcopy --add-section .oeinfo=oeinfo.bin t.o oe.elf
	objcopy --add-section .oeinfo=oeinfo0.bin t.o oe-unsigned.elf
	expect 3 enclave-sign verify enclave.signed.so
	expect_one_line_err
	expect_err "the signature is for MRENCLAVE 784acfd7d5096a8f0fbd3265760bff21b120f62407a9a9e5ba31aa3c8ed198fc, the enclave's content measures $(cat content.mr)"
	expect 0 enclave-sign show enclave.signed.so
	expect_out "Intel SGX SDK"
	expect_out "mrsigner: +fb4bab3d"
	expect 0 enclave-sign verify --sgxs "$V/test_enclave.sgxs" oe.elf
	expect_out "Open Enclave"
	expect_out "content recomputed: no \(Open Enclave enclave: .oeinfo: attributes"
	expect_out "MRENCLAVE equals that of the SGXS stream given\)"
	expect 3 enclave-sign verify --sgxs "$V/report.sgxs" oe.elf
	expect 0 enclave-sign show oe.elf
	expect_out "isvprodid: +65535"
	expect 1 enclave-sign verify oe-unsigned.elf
	expect_err "not signed"
	expect 1 enclave-sign verify t.o
	expect_err "no .note.sgxmeta"
	# A note whose descriptor size runs past the section.
	"$PY" -c 'import struct; open("bad.bin","wb").write(struct.pack("<III",13,100000,1)+b"sgx_metadata\0\0\0\0")'
	objcopy --add-section .note.sgxmeta=bad.bin t.o bad.so
	expect 1 enclave-sign verify bad.so
	expect_one_line_err
	expect_err "past the section"
else
	echo "skipped part: vectors or objcopy absent"
fi

case_begin output-never-replaces-key
openssl genrsa -3 -out k.pem 3072 2>/dev/null
cp k.pem k.keep
expect 2 enclave-sign -k k.pem --mrenclave c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d -o k.pem
expect_err "is also an input of this command"
expect_same k.pem k.keep
case_begin signing-keeps-the-image-timestamp
mkproject false && key3072 && {
	SOURCE_DATE_EPOCH=1700000000 enclave-build -q -f enclave.yaml -o t.eimg
	(unset SOURCE_DATE_EPOCH; enclave-sign -k key.pem --date 2026-11-23 -o s.eimg t.eimg >/dev/null) || _t_failmsg "signing failed"
	"$PY" - t.eimg s.eimg <<'P' || _t_failmsg "signing changed the image's timestamp or its other members"
import sys, tarfile
a, b = (tarfile.open(f) for f in sys.argv[1:3])
ma = {m.name: (m.mtime, a.extractfile(m).read()) for m in a.getmembers()}
mb = {m.name: (m.mtime, b.extractfile(m).read()) for m in b.getmembers()}
assert set(mb) - set(ma) == {"sigstruct.bin"}, set(mb) ^ set(ma)
assert all(mb[n] == ma[n] for n in ma), "a member changed"
assert {t for t, _ in mb.values()} == {1700000000}, "timestamps changed"
P
}
case_begin usage-errors-stay-one-line
expect 2 enclave-sign --isvsvn "$(printf '1\n2')" --mrenclave c50673624a6cb17c1c6c2a4e6906f47a170c4629b8723781d1017ef376f1a75d -o x.sig
expect_one_line_err
expect_err 'got "1\\x0a2"'
finish
