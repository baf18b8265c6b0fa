#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packaging: `dpkg-buildpackage -us -uc -b` builds the tools, the shared library
# (soname libenclaveimg.so.0) and the -dev package (headers, static library, .pc in the
# multiarch folder), lintian reports no error and no warning, and the packages hold what
# they should.  Built from a copy of the tracked tree in a temporary folder.
. "$(dirname "$0")/lib.sh"
for c in dpkg-buildpackage dh lintian; do
	command -v "$c" >/dev/null || { echo "skipped: $c not installed (apt-get install dpkg-dev debhelper lintian)"; exit 77; }
done
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

case_begin "dpkg-buildpackage"
mkdir src
(cd "$EIMG_TOP" && { git ls-files -co --exclude-standard 2>/dev/null || find . -path ./build -prune -o -type f -print; }) |
	grep -v '^build' | (cd "$EIMG_TOP" && cpio -pdm --quiet "$OLDPWD/src")
[ -f src/debian/control ] || _t_failmsg "the copy has no debian/control"
(cd src && nice dpkg-buildpackage -us -uc -b >../build.log 2>&1) || { _t_failmsg "dpkg-buildpackage failed"; tail -n 30 build.log; }
for p in enclaveimg libenclaveimg0 libenclaveimg-dev; do
	[ -f ${p}_0.1.0_amd64.deb ] || _t_failmsg "no package $p"
done
pkgdir=$PWD

case_begin "lintian-clean"
cd "$pkgdir"
lintian --tag-display-limit 0 enclaveimg_0.1.0_amd64.changes >lintian.txt 2>&1
grep -E '^[EW]: ' lintian.txt && _t_failmsg "lintian reports errors or warnings"

case_begin "package-contents"
cd "$pkgdir"
for p in enclaveimg libenclaveimg0 libenclaveimg-dev; do dpkg -c ${p}_0.1.0_amd64.deb > $p.list; done
grep -q "usr/lib/$multiarch/libenclaveimg.so.0.1.0" libenclaveimg0.list || _t_failmsg "no shared library in libenclaveimg0"
grep -q "usr/lib/$multiarch/libenclaveimg.so.0 -> " libenclaveimg0.list || _t_failmsg "no soname link"
grep -q "usr/lib/$multiarch/pkgconfig/enclaveimg.pc" libenclaveimg-dev.list || _t_failmsg ".pc not in the multiarch folder"
grep -q "usr/include/eimg/image.h" libenclaveimg-dev.list || _t_failmsg "no headers in -dev"
grep -q "usr/lib/$multiarch/libenclaveimg.a" libenclaveimg-dev.list || _t_failmsg "no static library in -dev"
for t in enclave-build enclave-sign enclave-measure enclave-run; do
	grep -q "usr/bin/$t\$" enclaveimg.list || _t_failmsg "no $t in enclaveimg"
	grep -q "usr/share/bash-completion/completions/$t\$" enclaveimg.list || _t_failmsg "no completion for $t"
	grep -q "usr/share/man/man1/$t.1" enclaveimg.list || _t_failmsg "no man page for $t"
done
dpkg-deb -x libenclaveimg0_0.1.0_amd64.deb root
so=root/usr/lib/$multiarch/libenclaveimg.so.0.1.0
objdump -p "$so" | grep -q 'SONAME *libenclaveimg.so.0$' || _t_failmsg "soname is not libenclaveimg.so.0"
# only the public API is exported: every exported eimg_ symbol is declared in a public header
nm -D --defined-only "$so" | awk '$2 == "T" {print $3}' | sed 's/@.*//' | sort -u > exported
[ -s exported ] || _t_failmsg "the shared library exports nothing"
grep -v '^eimg_' exported | head -3 | while read -r s; do _t_failmsg "exports a non-API symbol: $s"; done
while read -r s; do grep -rqw "$s" "$EIMG_TOP"/libenclaveimg/include || _t_failmsg "exports $s, which no public header declares"; done < exported
finish
