#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bash completion (completions/enclaveimg.bash): for every tool, completing "--" offers exactly
# the long options of its --help, subcommands are offered first for enclave-sign, and an
# option that takes a file completes file names.
. "$(dirname "$0")/lib.sh"
comp=$EIMG_TOP/completions/enclaveimg.bash
complete_words() { # tool word... -> COMPREPLY, one per line
	bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_enclaveimg "$1"; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
for bin in "$EIMG_BIN"/enclave-*; do
	tool=$(basename "$bin")
	case_begin "long-options-$tool"
	want=$("$tool" --help | grep -E -- "^ *-|^(usage:)? *$tool " | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u)
	got=$(complete_words "$tool" -- | sort -u)
	[ -n "$got" ] || _t_failmsg "no completion at all"
	[ "$want" = "$got" ] || _t_failmsg "completion differs from --help: $(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | tr '\n' ' ')"
done
case_begin "sign-subcommands"
got=$(complete_words enclave-sign v)
echo "$got" | grep -qx verify || _t_failmsg "enclave-sign v<TAB> does not offer verify: $got"
case_begin "file-argument"
touch key.pem other.txt
got=$(complete_words enclave-sign -k ke)
[ "$got" = key.pem ] || _t_failmsg "enclave-sign -k ke<TAB> gave '$got'"
finish
