# SPDX-License-Identifier: Apache-2.0
# Bash completion for enclave-build, enclave-sign, enclave-measure, enclave-run (and any other
# enclave-* tool of this project).  The options and subcommands come from the tool's own --help,
# so completion never drifts from the tool.  Installed once per tool name in
# /usr/share/bash-completion/completions/ (bash-completion loads it on first use).

# Long options, short options and subcommands of tool $1, cached per tool for the shell's life.
_enclaveimg_words()
{
	local tool=$1 var
	var="_enclaveimg_cache_${tool//-/_}"
	if [[ -z ${!var-} ]]; then
		local help
		help=$(LC_ALL=C "$tool" --help 2>/dev/null) || return
		local opts subs
		# options from the option table (lines that start with -x or --xx) and the usage lines
		opts=$(printf '%s\n' "$help" | grep -E -- "^ *-|^(usage:)? *$tool " |
			grep -oE -- '(^|[ ,/\[(|])--?[a-zA-Z][a-zA-Z0-9-]*' | grep -oE -- '--?[a-zA-Z][a-zA-Z0-9-]*' | sort -u)
		subs=$(printf '%s\n' "$help" | sed -nE "s/^(usage:)? *$tool \\[?([a-z][a-z-]*)\\]? .*/\\2/p" | sort -u)
		printf -v "$var" '%s\n%s' "$opts" "$subs"
	fi
	printf '%s\n' "${!var}"
}

# Options that take a file name, a directory or another value (from --help: "--opt FILE").
_enclaveimg_argkind()
{
	local tool=$1 opt=$2 line
	line=$(LC_ALL=C "$tool" --help 2>/dev/null | grep -E -- "(^|[ ,])$opt[ =]" | head -n 1)
	case $line in
	*"$opt DIR"*) echo dir ;;
	*"$opt FILE"* | *"$opt DOC"* | *"$opt KEY"* | *"$opt CERT"* | *"$opt SIG"* | *"$opt PUBKEY"* | *"$opt PATH"* | *"$opt ROOT"*) echo file ;;
	*"$opt "[A-Z]*) echo value ;;
	*) echo none ;;
	esac
}

_enclaveimg()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -s || return
	else
		cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	fi
	local tool=${1##*/}
	if [[ $prev == -* ]]; then
		case $(_enclaveimg_argkind "$tool" "$prev") in
		dir) COMPREPLY=($(compgen -d -- "$cur")); return ;;
		file) COMPREPLY=($(compgen -f -- "$cur")); return ;;
		value) return ;;
		esac
	fi
	local all opts subs
	all=$(_enclaveimg_words "$tool")
	if [[ $cur == -* ]]; then
		opts=$(printf '%s\n' "$all" | grep -E '^-')
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		return
	fi
	subs=$(printf '%s\n' "$all" | grep -vE '^-')
	if [[ ${COMP_CWORD:-$cword} -eq 1 && -n $subs ]]; then
		COMPREPLY=($(compgen -W "$subs" -- "$cur") $(compgen -f -- "$cur"))
		return
	fi
	COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _enclaveimg enclave-build enclave-sign enclave-measure enclave-run enclave-push enclave-mail
