#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-mail: usage errors, keys and documents it refuses, a constraint that
# does not hold (exit 3, nothing written), and examples/average end to end
# over Mail: three clients submit sealed numbers through enclave-run, each
# opens its sealed answer, a replayed envelope is refused.  The envelope
# format itself is checked independently by test/py/test_mail_independent.py.
. "$(dirname "$0")/lib.sh"
EX="$EIMG_TOP/${BUILDDIR:-build}/examples/average"
[ -f "$EX/average.elf" ] || { echo "skipped: examples not built (make examples)"; exit 77; }
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }
PY=${PYTHON:-/usr/bin/python3}

case_begin setup
S=$PWD
openssl genrsa -3 -out k.pem 3072 2>/dev/null
(cd "$EX" && enclave-build -q -o "$S/a.eimg") && enclave-sign --in-place -k k.pem a.eimg >/dev/null || _t_failmsg "cannot build average"
for c in c1 c2 c3; do openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out $c.pem 2>/dev/null; done
openssl genrsa -out rsa.pem 2048 2>/dev/null
MRE=$(enclave-measure --json a.eimg | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["mrenclave"])')
C="C:$MRE SEC:INSECURE"
# the enclave runs while the clients write: a fifo keeps its input open
mkfifo in
enclave-run -q --attestation-out att.json a.eimg < in > out 2>err & pid=$!
exec 3> in
for i in $(seq 100); do [ -s att.json ] && break; sleep 0.05; done
[ -s att.json ] || _t_failmsg "no attestation document"

case_begin usage
expect 0 enclave-mail --help
expect_out "^usage: enclave-mail send"
expect 2 enclave-mail
expect_err "send or open"
expect 2 enclave-mail post -a x
expect_err "unknown command 'post'"
expect 2 enclave-mail send -a "$S/att.json" -c "$C" -t average --message x
expect_err "needs --attestation, --constraint, --key and --topic"
expect 2 enclave-mail send -a "$S/att.json" -c "$C" -k "$S/c1.pem" -t "two words" --message x
expect_err "--topic"
expect 2 enclave-mail send -a "$S/att.json" -c "$C" -k "$S/c1.pem" -t average -n 01 --message x
expect_err "--seq: '01'"
expect 2 enclave-mail send -a "$S/att.json" -c "$C" -k "$S/c1.pem" -t average -n -1 --message x
expect 2 enclave-mail open -a "$S/att.json" -c "$C" -k "$S/c1.pem" -t average --message x
expect 2 enclave-mail send -a "$S/att.json" -c "$C" -k "$S/c1.pem" -t average --message x -o "$S/c1.pem"
expect_err "refusing to write the output over the input"

case_begin refused-inputs
expect 1 enclave-mail send -a "$S/att.json" -c "$C" -k "$S/rsa.pem" -t average --message x -o e
expect_err "rsa.pem': not an EC P-256 key"
expect_one_line_err
expect_no_file e
expect 1 enclave-mail send -a "$S/att.json" -c "$C" -k "$S/nonexistent.pem" -t average --message x
expect_err "nonexistent.pem"
head -c 4000 /dev/zero | tr '\0' x > big
expect 0 enclave-mail send -a "$S/att.json" -c "$C" -k "$S/c1.pem" -t average big -o e
head -c 983041 /dev/zero > huge
expect 1 enclave-mail send -a "$S/att.json" -c "$C" -k "$S/c1.pem" -t average huge -o e2
expect_err "above the limit of 983040"
expect_no_file e2

case_begin constraint-must-hold
other=$(printf '%064d' 0)
expect 3 enclave-mail send -a "$S/att.json" -c "C:$other SEC:INSECURE" -k "$S/c1.pem" -t average --message x -o e
expect_no_file e
# an altered document (the bound key replaced) is not genuine
"$PY" - "$S/att.json" doc2.json <<'P'
import base64, json, sys
d = json.load(open(sys.argv[1]))
p = json.loads(base64.b64decode(d["payload"]))
p["isvsvn"] = 9
d["payload"] = base64.b64encode(json.dumps(p, separators=(",", ":")).encode()).decode()
json.dump(d, open(sys.argv[2], "w"))
P
expect 3 enclave-mail send -a doc2.json -c "$C" -k "$S/c1.pem" -t average --message x -o e
expect_no_file e

case_begin average-over-mail
cd "$S"
send() { enclave-mail send -a att.json -c "$C" -k "$1.pem" -t average -n "$2" --message "$3" --frame >&3; }
send c1 0 "submit 10" && send c2 0 "submit 20" && send c3 0 "submit 61" && send c1 1 result || _t_failmsg "send failed"
send c1 1 result   # the same number again: a replay
exec 3>&-
wait $pid; rc=$?
[ $rc = 0 ] || _t_failmsg "enclave-run exit $rc: $(cat err)"
grep -qa "accepted\\|average of" out && _t_failmsg "an answer crossed the host in the clear"
"$PY" - out <<'P'
import struct, sys
d = open(sys.argv[1], "rb").read(); i = n = 0
while i < len(d):
    l, _ = struct.unpack(">II", d[i:i + 8]); open("rep%d" % n, "wb").write(d[i:i + 8 + l]); i += 8 + l; n += 1
P
openr() { enclave-mail open -a att.json -c "$C" -k "$1.pem" -t average -n "$2" --frame "$3"; }
expect 0 openr c1 0 rep0
[ "$out" = "accepted: 1 of 3 in round 1" ] || _t_failmsg "c1: $out"
expect 0 openr c3 0 rep2
[ "$out" = "accepted: 3 of 3 in round 1" ] || _t_failmsg "c3: $out"
expect 0 openr c1 1 rep3
[ "$out" = "round 1: average of 3 inputs is 30.333" ] || _t_failmsg "result: $out"
expect 3 openr c2 0 rep0
expect_err "does not decrypt"
expect 3 openr c1 1 rep0
expect 1 openr c1 1 rep4
expect_err "mail refused: replayed"
expect_one_line_err
expect 0 enclave-mail open -a att.json -c "$C" -k c1.pem -t average -n 1 --frame rep3 -o body
[ "$(cat body)" = "round 1: average of 3 inputs is 30.333" ] || _t_failmsg "-o body: $(cat body)"
finish
