#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One voice for every tool's errors: each line a tool writes to standard error
# on a failure starts with its name ("enclave-x: ...") or is the short usage
# ("usage: enclave-x SYNOPSIS (see 'enclave-x --help')"); the hint to --help is
# worded once, "(see 'enclave-x --help')", and given at most once per line;
# usage mistakes exit 2, missing files exit 1 with one line naming the file.
# Checked on the running tools (unknown option, missing argument, no input, a
# missing file, conflicting output modes) and in their sources (every direct
# write to stderr starts with the tool's name; no tool words the hint itself).
. "$(dirname "$0")/lib.sh"

TOOLS="enclave-build enclave-measure enclave-sign enclave-run enclave-push enclave-mail"

# Every line of $errtxt: "TOOL: ..." or the one usage form; the hint only in
# its one wording, at most once a line.
voice() { # tool
	local t=$1 line n
	[ -n "$errtxt" ] || { _t_failmsg "$t printed nothing on stderr"; return; }
	while IFS= read -r line; do
		case "$line" in
		"$t: "*) ;;
		"usage: $t "*" (see '$t --help')") ;;
		*) _t_failmsg "$t: a line that does not start with the tool's name: $line" ;;
		esac
		n=$(grep -o -- "--help" <<<"$line" | wc -l)
		if [ "$n" -gt 1 ]; then _t_failmsg "$t: the --help hint twice: $line"; fi
		if [ "$n" = 1 ] && [ "${line%" (see '$t --help')"}" = "$line" ]; then
			_t_failmsg "$t: the --help hint worded differently: $line"
		fi
	done <<<"$errtxt"
}

for t in $TOOLS; do
	case_begin "unknown-option-$t"
	expect 2 $t --no-such-option
	voice $t
	expect_err "^$t: unrecognized option '--no-such-option'$"
	expect_err "^usage: $t .* \(see '$t --help'\)$"
	[ -z "$out" ] || _t_failmsg "$t printed on stdout: $out"

	case_begin "missing-option-argument-$t"
	case $t in
	enclave-build) opt=-f ;; enclave-push) opt=--timeout ;; enclave-mail) opt=--topic ;;
	enclave-sign) opt=-k ;; *) opt=--expect ;;
	esac
	expect 2 $t $opt
	voice $t
	expect_err "^$t: option (requires an argument|'$opt' requires an argument)"
	expect_err "^usage: $t .* \(see '$t --help'\)$"

	case_begin "help-$t"
	expect 0 $t --help
	[ -z "$errtxt" ] || _t_failmsg "$t --help wrote to stderr: $errtxt"
	expect_out "^usage: $t "
done

# No input at all: a usage mistake naming what is missing (enclave-build reads
# ./enclave.yaml by default, so a missing file instead).
for t in enclave-measure enclave-sign enclave-run enclave-push enclave-mail; do
	case_begin "no-input-$t"
	expect 2 $t
	voice $t
	expect_one_line_err
	expect_err "\(see '$t --help'\)$"
done
case_begin "no-input-enclave-build"
expect 1 enclave-build
voice enclave-build
expect_one_line_err
expect_err "^enclave-build: 'enclave.yaml': cannot open"

# A missing file: exit 1, one line naming it, no usage hint.
case_begin "missing-file"
for c in "enclave-measure nothere.eimg" "enclave-run nothere.eimg" "enclave-sign verify nothere.eimg" \
	"enclave-build -f nothere.yaml -o x.eimg" "enclave-sign key -k nothere.pem"; do
	expect 1 $c
	t=${c%% *}
	voice $t
	expect_one_line_err
	expect_err "^$t: 'nothere\.[a-z]+': "
	echo "$errtxt" | grep -q -- "--help" && _t_failmsg "$c: a missing file is not a usage mistake: $errtxt"
done
expect_no_file x.eimg

# Conflicting output modes: the same usage line from every tool that has them.
case_begin "output-modes"
for t in enclave-build enclave-measure enclave-sign enclave-run; do
	expect 2 $t -q --print mrenclave
	voice $t
	expect_one_line_err
	expect_err "^$t: -q prints nothing: not with --print \(see '$t --help'\)$"
done
expect 2 enclave-push -q --print digest x.eimg oci://registry.example/r:t
voice enclave-push
expect_one_line_err
expect_err "^enclave-push: -q prints nothing: not with --print \(see 'enclave-push --help'\)$"
for t in enclave-build enclave-measure enclave-sign; do
	expect 2 $t --json --print mrenclave
	voice $t
	expect_one_line_err
	expect_err "^$t: --print prints one bare value: not with --json \(see '$t --help'\)$"
done

# The sources: a direct write to stderr in a tool starts with its name, and no
# tool words the --help hint itself (tool_usage adds it).
case_begin "sources"
for t in $TOOLS; do
	[ -f "$EIMG_TOP/tools/$t/main.c" ] || { _t_failmsg "no tools/$t/main.c"; continue; }
	for src in "$EIMG_TOP/tools/$t"/*.c; do
		bad=$(grep -n 'fprintf(stderr, "' "$src" | grep -v "fprintf(stderr, \"$t: ") &&
			_t_failmsg "$src: stderr without the tool's name: $bad"
		bad=$(grep -n 'tool_usage(.*--help' "$src") && _t_failmsg "$src: a usage message words the --help hint itself: $bad"
		bad=$(grep -n 'tool_message(.*(see ' "$src") && _t_failmsg "$src: a message words a hint itself: $bad"
	done
done
# ... and the check itself can fail: a line in another voice is caught.
errtxt="error: something"
_t_case_failed_before=$_t_case_failed
voice enclave-run >/dev/null
[ "$_t_case_failed" = 1 ] || echo "  FAIL [sources] the voice check does not catch a foreign line"
_t_case_failed=$_t_case_failed_before

finish
