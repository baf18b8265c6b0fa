#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Documentation is part of the feature: every option in a tool's --help appears in
# its man page (and the reverse for long options), and every man page is lint-clean.
. "$(dirname "$0")/lib.sh"
command -v mandoc >/dev/null || { echo "skipped: mandoc not installed (apt-get install mandoc)"; exit 77; }

for bin in "$EIMG_BIN"/enclave-*; do
	tool=$(basename "$bin")
	case_begin "help-matches-man-$tool"
	page="$EIMG_TOP/man/$tool.1"
	[ -f "$page" ] || { _t_failmsg "no man page man/$tool.1"; continue; }
	expect 0 "$bin" --help
	[ -n "$out" ] || _t_failmsg "--help printed nothing on stdout"
	# Long options in --help must be documented: mdoc writes --foo as "Fl -foo".
	for opt in $(echo "$out" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u); do
		grep -qE -- "Fl -${opt#--}( |$)|Fl -${opt#--}[^a-z0-9-]" "$page" || _t_failmsg "$opt is in --help but not in man/$tool.1"
	done
	# Long options in the man page must be in --help.
	for opt in $(grep -oE -- 'Fl -[a-z][a-z0-9-]+' "$page" | sed 's/^Fl //' | sort -u); do
		echo "$out" | grep -qE -- "$opt([^a-z0-9-]|$)" || _t_failmsg "$opt is in man/$tool.1 but not in --help"
	done
	expect 2 "$bin" --no-such-option
	expect_err "usage"
done

for page in "$EIMG_TOP"/man/*.[1-9]; do
	case_begin "mandoc-lint-$(basename "$page")"
	expect 0 mandoc -Tlint -W warning "$page"
	[ -z "$out$errtxt" ] || _t_failmsg "mandoc: $out $errtxt"
	grep -q '^\.Sh EXIT STATUS' "$page" || case "$page" in *.1) _t_failmsg "no EXIT STATUS section";; esac
done
# The architecture description matches the tree: every folder it names exists, every library
# folder is described, and the Makefile builds exactly those folders.
case_begin "architecture-matches-tree"
arch="$EIMG_TOP/ARCHITECTURE.md"
for d in $(grep -oE '`(libenclaveimg/[a-z_/]+|tools|cli|runtime|examples|schemas|man|test|fuzz|bench|scripts)`' "$arch" | tr -d '`' | sort -u); do
	[ -d "$EIMG_TOP/$d" ] || _t_failmsg "ARCHITECTURE.md names $d, which does not exist"
done
# Every folder under tools/ is a tool (the shared skeleton lives in cli/).
for d in "$EIMG_TOP"/tools/*/; do
	t=$(basename "$d")
	[ -f "$d/main.c" ] && [ -f "$EIMG_TOP/man/$t.1" ] || _t_failmsg "tools/$t is not a tool (no main.c or no man/$t.1)"
done
for d in "$EIMG_TOP"/libenclaveimg/*/; do
	d=$(basename "$d")
	grep -q "\`libenclaveimg/$d\`" "$arch" || _t_failmsg "libenclaveimg/$d is not described in ARCHITECTURE.md"
	[ "$d" = include ] && continue
	grep -qE "^LIB_DIRS .*\b$d\b" "$EIMG_TOP/Makefile" || _t_failmsg "libenclaveimg/$d is not in the Makefile's LIB_DIRS"
	grep -qE "^  $d/ " "$EIMG_TOP/README.md" || _t_failmsg "libenclaveimg/$d is not in the README's layout section"
done
ls "$EIMG_TOP"/libenclaveimg/*.c "$EIMG_TOP"/libenclaveimg/*.h >/dev/null 2>&1 && _t_failmsg "source files at the top of libenclaveimg/ (each belongs in a stage folder)"

# A licence, and an SPDX line at the top of every source, script, man page and schema.
case_begin "spdx-everywhere"
[ -f "$EIMG_TOP/LICENSE" ] || _t_failmsg "no LICENSE file"
if git -C "$EIMG_TOP" rev-parse >/dev/null 2>&1; then
	for f in $(git -C "$EIMG_TOP" ls-files '*.c' '*.h' '*.S' '*.sh' '*.py' 'man/*' 'schemas/*.json' 'scripts/*' 'bench/*' 'Makefile' '*/Makefile' '*.mk'); do
		head -n 5 "$EIMG_TOP/$f" | grep -q 'SPDX-License-Identifier: Apache-2.0' || _t_failmsg "$f has no SPDX-License-Identifier line"
	done
fi
finish
