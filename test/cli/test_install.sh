#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# make install with DESTDIR/PREFIX puts the tools, the library, its headers, the
# pkg-config file, the enclave runtime and the man pages in place, and a program
# built against the installed library with pkg-config measures an image the same
# way enclave-measure does.
. "$(dirname "$0")/lib.sh"
BD=${BUILDDIR:-build}

case_begin install-and-link
stage=$PWD/stage
expect 0 make -s -C "$EIMG_TOP" BUILDDIR="$BD" install DESTDIR="$stage" PREFIX=/usr
for f in bin/enclave-build bin/enclave-sign bin/enclave-measure bin/enclave-run lib/libenclaveimg.a \
	lib/pkgconfig/enclaveimg.pc include/enclaveimg.h include/eimg/measure.h include/enclave/enclave.h \
	lib/enclave/libenclave-simulation.a lib/enclave/libenclave-hardware.a share/man/man1/enclave-build.1 \
	share/man/man5/enclave-image.5 share/man/man7/enclave-measurement.7 share/man/man3/enclave-runtime.3 \
	lib/libenclaveimg.so lib/libenclaveimg.so.0 lib/libenclaveimg.so.0.1.0 \
	share/bash-completion/completions/enclave-build share/bash-completion/completions/enclave-run; do
	[ -e "$stage/usr/$f" ] || _t_failmsg "not installed: /usr/$f"
done
cat > consumer.c <<'C'
#include <enclaveimg.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	eimg_error err;
	eimg_image *img = NULL;
	struct eimg_sgx_measurement m;
	char hex[65], buf[700];
	if (argc < 2 || eimg_image_read_file(argv[1], &img, &err) || eimg_measure_image(img, &m, &err)) {
		fprintf(stderr, "%s\n", eimg_error_format(&err, buf, sizeof buf));
		return 1;
	}
	printf("%s\n", eimg_hex(m.mrenclave, 32, hex));
	eimg_image_free(img);
	return 0;
}
C
export PKG_CONFIG_PATH="$stage/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
san=""; [ -n "${EIMG_SANITIZE:-}" ] && san="-fsanitize=address,undefined"   # the sanitizer build installs an instrumented library
# Linked against the shared library (pkg-config's default), and statically (--static).
expect 0 cc -std=c11 -Wall -Werror $san -o consumer consumer.c $(pkg-config --cflags --libs enclaveimg)
readelf -d consumer | grep -q 'NEEDED.*libenclaveimg.so.0' || _t_failmsg "the consumer does not use the shared library"
# our static library with the (shared) libraries its .pc lists as private requirements
expect 0 cc -std=c11 -Wall -Werror $san -o consumer-static consumer.c $(pkg-config --cflags enclaveimg) \
	"$stage/usr/lib/libenclaveimg.a" $(pkg-config --libs $(pkg-config --print-requires-private enclaveimg)) -lpthread
readelf -d consumer-static | grep -q 'NEEDED.*libenclaveimg' && _t_failmsg "the static consumer needs the shared library"
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
export LD_LIBRARY_PATH="$stage/usr/lib"
ex="$EIMG_TOP/$BD/examples/hello"
if [ -f "$ex/enclave.yaml" ]; then
	(cd "$ex" && enclave-build -q -o "$OLDPWD/h.eimg")
	expect 0 ./consumer h.eimg
	[ "$out" = "$(enclave-measure --json h.eimg | sed -n 's/.*"mrenclave": "\([0-9a-f]*\)".*/\1/p')" ] ||
		_t_failmsg "the installed library and enclave-measure disagree"
	expect 1 ./consumer /nonexistent.eimg
	expect_err "nonexistent.eimg"
	expect 0 ./consumer-static h.eimg
	[ "$out" = "$(enclave-measure --json h.eimg | sed -n 's/.*"mrenclave": "\([0-9a-f]*\)".*/\1/p')" ] ||
		_t_failmsg "the static library and enclave-measure disagree"
fi

# The shared library exports the public API only (a version script made from the headers).
case_begin shared-library-exports-api-only
so="$EIMG_TOP/$BD/libenclaveimg.so.0.1.0"
objdump -p "$so" | grep -q 'SONAME *libenclaveimg.so.0$' || _t_failmsg "soname is not libenclaveimg.so.0"
nm -D --defined-only "$so" | awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort -u > exported
grep -q '^eimg_image_read_file$' exported || _t_failmsg "eimg_image_read_file is not exported"
grep -q '^eimg_base64_decode$' exported && _t_failmsg "an internal function (eimg_base64_decode) is exported"
while read -r s; do grep -rqw "$s" "$EIMG_TOP"/libenclaveimg/include || _t_failmsg "exports $s, which no public header declares"; done < exported

# A plain `make` (a user's build) does not turn warnings into errors; make check does.
case_begin werror-development-only
expect 0 env -u WERROR -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$EIMG_TOP" -n BUILDDIR="$PWD/b" "$PWD/b/libenclaveimg/core/error.o"
echo "$out" | grep -q -- '-Werror' && _t_failmsg "a plain make uses -Werror"
expect 0 env -u WERROR make -s -C "$EIMG_TOP" -n BUILDDIR="$PWD/b" check
echo "$out" | grep -q 'run-all' || _t_failmsg "make check does not run the suite"
finish
