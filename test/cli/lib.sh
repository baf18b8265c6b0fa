# SPDX-License-Identifier: Apache-2.0
# Helpers for command-line tests.  Source it; each case runs in a fresh temp folder.
#   case_begin NAME            start a case (cd into a fresh folder)
#   expect EXIT CMD...         run CMD, check its exit code; stdout in $out, stderr in $errtxt
#   expect_err REGEX           stderr matches (grep -E)
#   expect_out REGEX           stdout matches
#   expect_no_file PATH        PATH does not exist
#   finish                     prints the tally, exits 1 on any failure
set -u
: "${EIMG_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${EIMG_BIN:=$EIMG_TOP/build/bin}"
: "${EIMG_VECTORS:=$EIMG_TOP/../shared/vectors}"
export PATH="$EIMG_BIN:$PATH"
_t_pass=0 _t_fail=0 _t_case="" _t_root=$(mktemp -d) _t_case_failed=0
trap 'rm -rf "$_t_root"' EXIT
out="" errtxt="" rc=0
# The in-enclave supervisor enclave-build places in Nitro images that declare
# ingress or egress (enclave-nitro(7)): the build tree's, else a stand-in ELF
# (the tests that run it look for the real one and skip without it).
if [ -z "${EIMG_SUPERVISOR:-}" ]; then
	if [ -x "$EIMG_BIN/../libexec/eimg-supervisor" ]; then EIMG_SUPERVISOR=$EIMG_BIN/../libexec/eimg-supervisor
	else EIMG_SUPERVISOR=$_t_root/eimg-supervisor-standin; cp /bin/true "$EIMG_SUPERVISOR"; fi
	export EIMG_SUPERVISOR
fi
_t_failmsg() { echo "  FAIL [$_t_case] $*"; _t_case_failed=1; }
case_end() { [ -n "$_t_case" ] || return 0; if [ $_t_case_failed -eq 0 ]; then _t_pass=$((_t_pass+1)); echo "ok   $_t_case"; else _t_fail=$((_t_fail+1)); echo "FAIL $_t_case"; fi; _t_case=""; }
case_begin() { case_end; _t_case=$1; _t_case_failed=0; mkdir -p "$_t_root/$1"; cd "$_t_root/$1" || exit 1; }
expect() {
	local want=$1; shift
	out=$("$@" 2>"$_t_root/.stderr"); rc=$?; errtxt=$(cat "$_t_root/.stderr")
	if [ "$rc" != "$want" ]; then _t_failmsg "exit $rc, expected $want: $*"; echo "$errtxt" | head -5 | sed 's/^/      stderr: /'; fi
	return 0
}
expect_err() { echo "$errtxt" | grep -qE -- "$1" || { _t_failmsg "stderr does not match /$1/: $(echo "$errtxt" | head -3)"; }; }
expect_out() { echo "$out" | grep -qE -- "$1" || { _t_failmsg "stdout does not match /$1/: $(echo "$out" | head -3)"; }; }
expect_one_line_err() { [ "$(echo "$errtxt" | grep -c .)" = 1 ] || _t_failmsg "expected exactly one line on stderr, got: $errtxt"; }
expect_no_file() { [ ! -e "$1" ] || _t_failmsg "$1 exists but should not"; }
expect_same() { cmp -s "$1" "$2" || _t_failmsg "$1 and $2 differ"; }
need_vectors() { [ -d "$EIMG_VECTORS" ] || { echo "skipped: ../shared/vectors not found at $EIMG_VECTORS"; exit 77; }; }
# nitro_inputs DIR NAME: placeholder Nitro inputs (a kernel of 'K's that does not boot, an init
# script, an application with /bin/hello) and the head of DIR/enclave.yaml up to "app: app".
nitro_inputs() {
	mkdir -p "$1/app/bin"
	head -c 200000 /dev/zero | tr '\0' 'K' > "$1/bzImage"
	printf '#!/bin/sh\necho init\n' > "$1/init"
	printf '#!/bin/sh\necho hello\n' > "$1/app/bin/hello"; chmod 755 "$1/app/bin/hello"
	printf 'version: 1\nname: %s\ntarget: nitro\nnitro:\n  kernel: bzImage\n  cmdline: "console=ttyS0"\n  init: init\n  app: app\n' \
		"$2" > "$1/enclave.yaml"
}
# human_size BYTES: as progress lines print a size ("1.5 MiB", "512 B"), formatted
# independently of the library's eimg_progress_format.
human_size() { "${PYTHON:-/usr/bin/python3}" -c '
import sys
v, u = float(sys.argv[1]), 0
units = ["B", "KiB", "MiB", "GiB", "TiB"]
while v >= 1024 and u < 4:
    v /= 1024; u += 1
print(("%.0f %s" if u == 0 else "%.1f %s") % (v, units[u]))' "$1"; }
finish() { case_end; echo "$_t_pass passed, $_t_fail failed"; [ $_t_fail -eq 0 ]; }
