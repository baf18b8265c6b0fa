#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-run's message path through the shared-memory rings: messages and
# replies of every size (in a slot, just over a slot, larger than the
# channel buffer) and messages that log come back complete and in order, on
# one thread and on two; and the rings are really the path: traced with
# strace, the sandboxed child writes nothing on its channel but 24-byte
# doorbells, far fewer than one per message.
. "$(dirname "$0")/lib.sh"
B="$EIMG_TOP/${BUILDDIR:-build}"
PY=${PYTHON:-/usr/bin/python3}
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }
[ -x "$EIMG_BIN/enclave-run" ] || { echo "enclave-run not built"; exit 1; }

case_begin setup
S=$PWD
openssl genrsa -3 -out key.pem 3072 2>/dev/null || exit 1
make -s -C "$EIMG_TOP/test/enclaves/probe" BUILDDIR="$B/test/enclaves/probe" RT_BUILD="$B/runtime" >/dev/null || exit 1
build_signed() { # NAME SRCDIR
	(cd "$2" && enclave-build -q -o "$S/$1.eimg") && enclave-sign --in-place -k "$S/key.pem" "$S/$1.eimg" >/dev/null
}
expect 0 build_signed probe "$B/test/enclaves/probe"
mkdir -p probe2 && cp "$B/test/enclaves/probe/probe.elf" probe2/ &&
	sed 's/threads: 1/threads: 2/' "$B/test/enclaves/probe/enclave.yaml" > probe2/enclave.yaml
expect 0 build_signed probe2 "$S/probe2"
# requests and the replies the probe must give (its protocol: "echo T"
# replies T, "log T" logs T and replies "logged"); sizes around a slot
# (504 bytes) and beyond the channel buffer (64 KiB)
"$PY" - "$S" <<'PYEOF' || exit 1
import sys
d = sys.argv[1]
sizes = [0, 1, 497, 498, 499, 503, 504, 505, 600, 5000, 70000]
with open(d + "/in", "w") as i, open(d + "/want", "w") as w:
    for n in range(400):
        if n % 9 == 4:
            i.write("log line %d\n" % n); w.write("logged\n")
        else:
            t = ("%d:" % n + "abcdefghij" * 7001)[: sizes[n % len(sizes)]]
            i.write("echo " + t + "\n"); w.write(t + "\n")
PYEOF

for img in probe probe2; do
	case_begin "sizes_in_order_$img"
	expect 0 sh -c 'enclave-run --lines "$0" < "$1" > got 2> log' "$S/$img.eimg" "$S/in"
	expect_same got "$S/want"
	[ "$(grep -c 'line [0-9]' log)" = "$(grep -c '^log' "$S/in")" ] || _t_failmsg "log lines missing: $(head -3 log)"
done

case_begin ring_is_the_path
command -v strace >/dev/null || { echo "skipped: strace not installed"; exit 77; }
N=4000
yes 'echo x' | head -n $N > many
expect 0 sh -c 'strace -f -ff -o tr -e trace=read,write enclave-run -q --lines "$0" < many > got' "$S/probe.eimg"
[ "$(grep -c '^x$' got)" = $N ] || _t_failmsg "expected $N replies, got $(grep -c '^x$' got)"
# the runner is the process that wrote the replies to its standard output
parent=$(grep -l '^write(1, ' tr.* | head -n 1)
[ -n "$parent" ] || _t_failmsg "no trace of the runner"
child_writes=0 child_calls=0
for f in tr.*; do
	[ "$f" = "$parent" ] && continue
	# every write of the child is 24 bytes: the bells (and CH_READY, no key)
	w=$(grep -E '^write\(' "$f" | grep -vE '= 24$' | grep -c .)
	child_writes=$((child_writes + w))
	child_calls=$((child_calls + $(grep -cE '^(read|write)\(' "$f")))
done
[ "$child_writes" = 0 ] || _t_failmsg "the child wrote $child_writes frames that are not bells: replies did not go through the ring"
[ "$child_calls" -lt $((N / 4)) ] || _t_failmsg "the child made $child_calls reads and writes for $N messages"
echo "  child reads and writes for $N messages: $child_calls"
finish
