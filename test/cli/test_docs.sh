#!/usr/bin/env bash
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
finish
