#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# man/libenclaveimg.3 documents the whole public API: every eimg_* function a public
# header declares (the list the shared library's version script is made from) has its
# .It Fn line, no line names a function that no header declares, every header has its
# section, and the page's example compiles and prints the MRENCLAVE enclave-measure does.
. "$(dirname "$0")/lib.sh"
PAGE="$EIMG_TOP/man/libenclaveimg.3"
HDRS=$(ls "$EIMG_TOP"/libenclaveimg/include/eimg/*.h)

case_begin every-function-documented
# shellcheck disable=SC2086
# The version script's pattern, on declarations only (not on comment lines).
grep -hvE '^[[:space:]]*(/\*|\*)' $HDRS | sed -n 's/.*\<\(eimg_[a-z0-9_]*\) *(.*/\1/p' | sort -u > declared
sed -n 's/^\.It Fn \(eimg_[a-z0-9_]*\).*/\1/p' "$PAGE" | sort -u > documented
[ "$(wc -l < declared)" -gt 100 ] || _t_failmsg "found only $(wc -l < declared) declared functions"
missing=$(comm -23 declared documented)
[ -z "$missing" ] || _t_failmsg "declared but not in libenclaveimg.3: $(echo $missing)"
stale=$(comm -13 declared documented)
[ -z "$stale" ] || _t_failmsg "in libenclaveimg.3 but declared by no header: $(echo $stale)"

case_begin every-header-has-a-section
for h in $HDRS; do
	grep -q "^\.Ss In eimg/$(basename "$h")$" "$PAGE" || _t_failmsg "no section for eimg/$(basename "$h")"
done

case_begin example-compiles
BUILD="$EIMG_TOP/${BUILDDIR:-build}"
[ -f "$BUILD/libenclaveimg.a" ] && [ -f "$BUILD/examples/hello/enclave.yaml" ] || { echo "skipped: not built"; exit 77; }
sed -n '/^\.Bd -literal/,/^\.Ed/p' "$PAGE" | sed '1d;$d; s/\\e/\\/g' > ex.c
grep -q "int main" ex.c || _t_failmsg "no example program in the page"
# shellcheck disable=SC2046
expect 0 cc -I"$EIMG_TOP/libenclaveimg/include" ex.c "$BUILD/libenclaveimg.a" \
	$(pkg-config --libs libcrypto libelf libarchive yaml-0.1 jansson libcbor libseccomp zlib) -lpthread -o ex
SOURCE_DATE_EPOCH=0 enclave-build -q -f "$BUILD/examples/hello/enclave.yaml" -o hello.eimg
expect 0 ./ex hello.eimg
[ "$out" = "$(enclave-measure --print mrenclave hello.eimg)" ] || _t_failmsg "the example printed '$out'"
expect 1 ./ex nothere.eimg

finish
