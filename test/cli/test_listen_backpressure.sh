#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-run --listen backpressure: clients that send requests and never read
# the replies are not read from once their backlog reaches 256 KiB, so
# enclave-run's memory stays bounded, and a well-behaved client beside them
# keeps being served (flood_client.py).  The 64 x 100 MB figure is in
# bench/listen-backpressure.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }
EX="$EIMG_TOP/${BUILDDIR:-build}/examples/hello"
[ -f "$EX/hello.elf" ] || { echo "skipped: examples not built (make examples)"; exit 77; }

case_begin setup
S=$PWD
openssl genrsa -3 -out k.pem 3072 2>/dev/null
expect 0 enclave-build -q -f "$EX/enclave.yaml" -o hello.eimg
expect 0 enclave-sign --in-place -k k.pem hello.eimg

for addr in unix tcp; do
case_begin "slow_readers_$addr"
if [ $addr = unix ]; then listen="unix:$PWD/s"; else listen=tcp:0; fi
enclave-run -q --listen "$listen" "$S/hello.eimg" 2>err & pid=$!
for i in $(seq 100); do grep -q "listening on" err && break; sleep 0.1; done
where=$(sed -n 's/.*listening on \([^ ]*\).*/\1/p' err | head -1)
[ -n "$where" ] || _t_failmsg "not listening: $(cat err)"
# 8 clients each try to send 100 MiB in 64 KiB requests for 6 s, reading nothing
res=$("$PY" "$EIMG_TOP/test/cli/flood_client.py" "$where" "$pid" 8 100 6) || _t_failmsg "the well-behaved client was not served: $res"
echo "$res" | sed 's/^/  /'
rss=$(echo "$res" | sed -n 's/^peak_rss_kib=//p')
sent=$(echo "$res" | sed -n 's/^sent_mib=//p')
good=$(echo "$res" | sed -n 's/^good_replies=//p')
# (AddressSanitizer's shadow memory and quarantine make the figure meaningless there)
cap=$((64 * 1024)); [ -n "${EIMG_SANITIZE:-}" ] && cap=$((1024 * 1024))
[ "${rss:-999999}" -lt $cap ] || _t_failmsg "peak resident memory ${rss} KiB, above $((cap / 1024)) MiB"
# over a Unix socket the kernel buffers little: what got in was not read (TCP's
# loopback buffers grow to several MiB per connection, outside enclave-run)
if [ $addr = unix ]; then
	awk -v s="${sent:-999}" 'BEGIN { exit !(s < 48) }' || _t_failmsg "the flooders got ${sent} MiB in: they were not stopped"
fi
[ "${good:-0}" -ge 5 ] || _t_failmsg "only ${good} replies for the well-behaved client"
kill -TERM $pid; wait $pid; rc=$?
[ $rc = 0 ] || _t_failmsg "enclave-run exit $rc after SIGTERM: $(cat err)"
done
finish
