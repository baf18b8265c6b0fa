#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every command of the README runs as written: the ```sh blocks, except those whose first
# line is "# needs: WHAT" (source tree, hardware, a fresh Debian as root), run in order in one
# shell, in a scratch folder that holds only a link to build/, with build/bin first in PATH.
# Each block must succeed (set -e); no "<hex>"-style placeholder may remain in any block.
. "$(dirname "$0")/lib.sh"
BUILD="$EIMG_TOP/${BUILDDIR:-build}"
[ -f "$BUILD/examples/hello/enclave.yaml" ] || { echo "skipped: examples not built (make examples)"; exit 77; }
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }

# Prints the runnable blocks as one script; each block starts with _readme_block=N.
extract() { # README
	awk '
		/^```sh$/ { inb = 1; n++; first = 1; next }
		/^```/ && inb { inb = 0; if (!skip) print ""; skip = 0; next }
		inb && first { first = 0; if ($0 ~ /^# needs: /) { skip = 1; next } print "_readme_block=" n }
		inb && !skip { print }
	' "$1"
}

# A script that runs the blocks with set -e and names the block that failed.
driver() { # blocks.sh
	echo 'set -eE -o pipefail'
	echo 'trap '\''echo "README block $_readme_block failed (exit $?): $BASH_COMMAND" >&2'\'' ERR'
	cat "$1"
}

case_begin no-placeholders
awk '/^```sh$/ {inb=1; next} /^```/ {inb=0} inb' "$EIMG_TOP/README.md" > blocks.txt
grep -nE '<(hex|HEX|[a-z]+)>' blocks.txt && _t_failmsg "a README block holds a placeholder (above)"
[ -s blocks.txt ] || _t_failmsg "no sh blocks found in README.md"

case_begin blocks-run
T=$PWD
ln -s "$BUILD" build
mkdir tmp
extract "$EIMG_TOP/README.md" > readme.sh
[ "$(grep -c '^_readme_block=' readme.sh)" -ge 3 ] || _t_failmsg "fewer than 3 runnable blocks: $(cat readme.sh)"
driver readme.sh > driver.sh
(cd "$T" && env -u B -u EX TMPDIR="$T/tmp" PATH="$EIMG_BIN:$PATH" bash driver.sh) > run.out 2> run.err
rc=$?
[ $rc = 0 ] || _t_failmsg "the README's commands failed: $(tail -5 run.err)"
grep -q "Hello from inside the enclave, world" run.out && grep -q "nitro-cli run-enclave" run.out || _t_failmsg "the enclave did not answer: $(tail -3 run.out)"
# The tour works in scratch folders: nothing but the link and tmp/ beside the driver.
extra=$(ls -A "$T" | grep -vxE 'build|tmp|blocks.txt|readme.sh|driver.sh|run.out|run.err')
[ -z "$extra" ] || _t_failmsg "the tour wrote outside its scratch folder: $extra"

case_begin a-failing-block-fails
# The runner can fail: a block whose command fails is reported with its number.
printf '_readme_block=7\ntrue\nfalse\ntrue\n' > bad.sh
driver bad.sh > d.sh
expect 1 bash d.sh
expect_err "README block 7 failed"

finish
