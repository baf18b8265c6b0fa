#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Progress of the SGX steps that read and hash a whole enclave (MRENCLAVE
# recomputed: enclave-build, enclave-measure, enclave-sign and its verify,
# enclave-run before it loads) and that write an image (enclave-build,
# enclave-sign: "writing" its enclave, files and keys; also --in-place), and
# enclave-run's loading ("loading" the pages, then "measuring loaded pages":
# the simulation child reports over its channel, the parent draws; --mock
# loads in the process): one line on standard error, redrawn in place
# ("\r", erase to the end), with the bytes measured of the total and the rate;
# drawn on a terminal only (script(1) gives one), never into a pipe, never with
# -q, --json or --print.  The total is checked against the image's own page
# count (enclave-measure --json "pages" x 4096, formatted independently).
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
EX="$EIMG_TOP/${BUILDDIR:-build}/examples/hello/enclave.yaml"
[ -f "$EX" ] || { echo "skipped: examples not built ($EX; make examples)"; exit 77; }
command -v script >/dev/null || { echo "skipped: script(1) (util-linux) not installed"; exit 77; }
export SOURCE_DATE_EPOCH=0

tty_run() { # out-file command...: the command with a terminal on stdin/stdout/stderr
	local f=$1; shift
	script -qec "$*" /dev/null </dev/null > "$f" 2>&1
}
# "<step>: <done> of <total> (100%), <rate>/s", the last state of the line.
final_line() { tr '\r' '\n' < "$1" | sed 's/\x1b\[K//g' | grep "^${2:-measuring}: " | tail -n 1; }

case_begin setup
openssl genrsa -3 -out k.pem 3072 2>/dev/null
expect 0 enclave-build -q -f "$EX" -o hello.eimg
expect 0 enclave-sign -q -k k.pem -o signed.eimg hello.eimg
enclave-measure --json hello.eimg > m.json
pages=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["pages"])' m.json)
# writing: the bytes of the enclave and of the files/ and keys/ members
blobs=$("$PY" -c 'import json,sys; print(sum(m["size"] for m in json.load(open(sys.argv[1]))["members"]
    if m["path"] in ("enclave.elf", "enclave.eif") or m["path"].startswith(("files/", "keys/"))))' m.json)
total=$(human_size $((pages * 4096))) wtotal=$(human_size "$blobs")
[ -n "$pages" ] && [ -n "$total" ] && [ -n "$wtotal" ] || _t_failmsg "no page count: $pages"
S=$_t_root/setup

cp "$S/hello.eimg" "$S/inplace.eimg"
for c in "enclave-build -f $EX -o t.eimg" "enclave-measure $S/hello.eimg" "enclave-sign -k $S/k.pem -o t2.eimg $S/hello.eimg" \
	"enclave-sign -k $S/k.pem --in-place $S/inplace.eimg" \
	"enclave-sign verify $S/signed.eimg" "enclave-run --lines $S/signed.eimg" "enclave-run --mock --lines $S/signed.eimg" \
	"enclave-measure --diff $S/hello.eimg $S/signed.eimg"; do
	name=${c%% /*}; name=${name%% -k*}; name=${name%% -*}; name=${name// /-}
	case $c in *--in-place*) name=$name-in-place ;; *--mock*) name=$name-mock ;; *--diff*) name=$name-diff ;; esac
	case_begin "terminal-${name}"
	tty_run tty.txt "$c"
	line=$(final_line tty.txt)
	echo "$line" | grep -qE "^measuring: $total of $total \(100%\), [0-9.]+ ([KMGT]i)?B/s$" ||
		_t_failmsg "$c: no finished progress line of $total: '$line' in $(head -c 300 tty.txt | cat -v)"
	grep -q $'\r' tty.txt || _t_failmsg "$c: the progress line is not redrawn"
	grep -q $'\x1b\[K' tty.txt || _t_failmsg "$c: the progress line does not erase what a longer one left"
	case $c in # the commands that write an image copy its large members
	enclave-build*|"enclave-sign -k"*)
		line=$(final_line tty.txt writing)
		echo "$line" | grep -qE "^writing: $wtotal of $wtotal \(100%\), [0-9.]+ ([KMGT]i)?B/s$" ||
			_t_failmsg "$c: no finished writing line of $wtotal: '$line'" ;;
	enclave-run*) # loading: every page placed, then measured again, in that order
		for step in loading "measuring loaded pages"; do
			line=$(final_line tty.txt "$step")
			echo "$line" | grep -qE "^$step: $total of $total \(100%\), [0-9.]+ ([KMGT]i)?B/s$" ||
				_t_failmsg "$c: no finished '$step' line of $total: '$line' in $(tr '\r' '\n' < tty.txt | cat -v | head -20)"
		done
		order=$(tr '\r' '\n' < tty.txt | sed 's/\x1b\[K//g' | grep -oE "^(verified|enclave-run: verified|loading|measuring loaded pages)" | uniq | tr '\n' '|')
		[ "$order" = "enclave-run: verified|loading|measuring loaded pages|" ] || _t_failmsg "$c: steps out of order: $order"
		grep -q "enclave fault" tty.txt && _t_failmsg "$c: $(grep "enclave fault" tty.txt)" ;;
	esac
done

# Never with -q, --json or --print, even on a terminal; never into a pipe.
case_begin "not-when-asked-not-to"
for c in "enclave-build -q -f $EX -o q.eimg" "enclave-build --json -f $EX -o j.eimg" \
	"enclave-measure -q $S/hello.eimg" "enclave-measure --json $S/hello.eimg" "enclave-measure --print mrenclave $S/hello.eimg" \
	"enclave-sign -q -k $S/k.pem -o q2.eimg $S/hello.eimg" "enclave-sign verify --json $S/signed.eimg" \
	"enclave-sign -q -k $S/k.pem --in-place $S/inplace.eimg --force" \
	"enclave-run -q --lines $S/signed.eimg" "enclave-run -q --mock --lines $S/signed.eimg" \
	"enclave-run --print mrenclave $S/signed.eimg" "enclave-measure -q --diff $S/hello.eimg $S/signed.eimg"; do
	tty_run t.txt "$c"
	grep -qE "measuring|writing|loading" t.txt && _t_failmsg "$c drew progress: $(head -c 200 t.txt | cat -v)"
done
NX="$EIMG_TOP/${BUILDDIR:-build}/examples/nitro/enclave.yaml"
if [ -f "$NX" ]; then # the Nitro audit's "hashing" follows the same rule
	expect 0 enclave-build -q -f "$NX" -o n.eimg --eif n.eif
	tty_run n.txt "enclave-measure --print pcr0 n.eif"
	grep -q "hashing" n.txt && _t_failmsg "--print drew the Nitro progress: $(head -c 200 n.txt | cat -v)"
	tty_run n2.txt "enclave-measure n.eif"
	grep -q "hashing" n2.txt || _t_failmsg "no Nitro progress on a terminal: $(head -c 200 n2.txt | cat -v)"
fi
expect 0 enclave-measure "$S/hello.eimg"
echo "$errtxt" | grep -q "measuring" && _t_failmsg "progress drawn into a pipe: $errtxt"
expect 0 enclave-sign -k "$S/k.pem" -o p.eimg "$S/hello.eimg"
echo "$errtxt" | grep -q "measuring" && _t_failmsg "enclave-sign drew progress into a pipe: $errtxt"
expect 0 enclave-run --lines "$S/signed.eimg" </dev/null
echo "$errtxt" | grep -qE "loading|measuring" && _t_failmsg "enclave-run drew progress into a pipe: $errtxt"
echo "$errtxt" | grep -q "verified" || _t_failmsg "enclave-run said nothing: $errtxt"
finish
