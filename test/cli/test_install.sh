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
	share/man/man5/enclave-image.5 share/man/man7/enclave-measurement.7 share/man/man3/enclave-runtime.3; do
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
expect 0 cc -std=c11 -Wall -Werror $san -o consumer consumer.c $(pkg-config --cflags --libs enclaveimg)
unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
ex="$EIMG_TOP/$BD/examples/hello"
if [ -f "$ex/enclave.yaml" ]; then
	(cd "$ex" && enclave-build -q -o "$OLDPWD/h.eimg")
	expect 0 ./consumer h.eimg
	[ "$out" = "$(enclave-measure --json h.eimg | sed -n 's/.*"mrenclave": "\([0-9a-f]*\)".*/\1/p')" ] ||
		_t_failmsg "the installed library and enclave-measure disagree"
	expect 1 ./consumer /nonexistent.eimg
	expect_err "nonexistent.eimg"
fi
finish
