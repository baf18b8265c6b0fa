#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The in-enclave supervisor (eimg-supervisor) and the network engine end to end, inside a
# network namespace this test makes (unshare -rn): Python servers on 127.0.0.2 (allowed),
# 127.0.0.3 (denied by the manifest) and 127.0.0.4 (allowed by the manifest, denied by the
# host side); the host side's egress service is the engine itself (test/cli/net_relay.c);
# the application is test/cli/net_peer.py.  Then the hostile cases against the engine with
# small limits: malformed requests, over-long heads, a slow client, a flood.
. "$(dirname "$0")/lib.sh"
BUILD="$EIMG_TOP/${BUILDDIR:-build}"
SUP="$BUILD/libexec/eimg-supervisor"
PEER="$EIMG_TOP/test/cli/net_peer.py"
PY=${PYTHON:-python3}

if [ -z "${EIMG_IN_NETNS:-}" ]; then
	[ -x "$SUP" ] || { echo "skipped: $SUP not built (make)"; exit 77; }
	[ -f "$BUILD/libenclaveimg.a" ] || { echo "skipped: the library is not built"; exit 77; }
	command -v ip >/dev/null || { echo "skipped: ip (iproute2) not installed"; exit 77; }
	unshare -rn true 2>/dev/null || { echo "skipped: cannot make a network namespace (unshare -rn)"; exit 77; }
	EIMG_IN_NETNS=1 exec timeout 240 unshare -rn bash "$0" "$@"
fi
ip link set lo up || { echo "cannot bring lo up"; exit 1; }

# The driver over the engine, compiled from the static library (libc parts only).
san=""; [ -n "${EIMG_SANITIZE:-}" ] && san="-fsanitize=address,undefined"   # the sanitizer build's library is instrumented
# shellcheck disable=SC2086
cc $san -I"$EIMG_TOP/libenclaveimg/include" "$EIMG_TOP/test/cli/net_relay.c" "$BUILD/libenclaveimg.a" \
	-o "$_t_root/net_relay" || { echo "cannot build net_relay"; exit 1; }
RELAY="$_t_root/net_relay"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$_t_root"; }
trap cleanup EXIT
# start_relay LOG ARGS...: in the background, once it says "ready"
start_relay() {
	local log=$1; shift
	"$RELAY" "$@" >"$log.out" 2>"$log" & pids+=($!)
	for i in $(seq 100); do [ -s "$log.out" ] && break; sleep 0.1; done
	[ "$(cat "$log.out")" = ready ] || { echo "net_relay did not start: $(cat "$log")"; exit 1; }
}
# start_server IP PORT LOG: a Python echo server, once it listens
start_server() {
	"$PY" "$PEER" server "$@" & pids+=($!)
	for i in $(seq 100); do [ -e "$3.ready" ] && break; sleep 0.1; done
	[ -e "$3.ready" ] || { echo "the server on $1:$2 did not start"; exit 1; }
}
for ip in 127.0.0.2 127.0.0.3 127.0.0.4; do
	start_server $ip 7000 "$_t_root/server-$ip.log"
done

case_begin supervisor-end-to-end
cat > manifest.json <<'JSON'
{"name": "net", "target": "nitro", "mode": "hardware", "version": 1,
 "nitro": {"entrypoint": ["python3", "APP", "app", "RESULTS"],
           "env": ["GREETING=hi", "HTTPS_PROXY=http://attacker:1"], "working_dir": "/tmp",
           "ingress": [8080],
           "egress": {"allow": ["127.0.0.2:7000", "127.0.0.4", "*.test"], "deny": ["127.0.0.3"]}}}
JSON
sed -i "s|APP|$PEER|; s|RESULTS|$PWD/results|" manifest.json
# the host side: the same policy minus 127.0.0.4 (defence in depth)
start_relay host.log --proxy "unix:$PWD/egress.sock" --allow 127.0.0.2:7000 --allow '*.test' --deny 127.0.0.3
timeout 60 "$SUP" --manifest manifest.json --egress-via "unix:$PWD/egress.sock" --ingress-from tcp:127.0.0.5 \
	--log - 2>sup.log & sup=$!
for i in $(seq 150); do [ -s results ] && break; sleep 0.1; done
[ -s results ] || _t_failmsg "the application wrote no results: $(cat sup.log)"
expect 0 timeout 20 "$PY" "$PEER" ingress 127.0.0.5 8080
[ "$out" = "ingress got: hello enclave" ] || _t_failmsg "ingress answer: '$out'"
wait $sup; st=$?
[ $st = 7 ] || _t_failmsg "the supervisor exited $st, not the application's 7"
r=$(cat results)
grep -qx "env GREETING=hi" <<<"$r" || _t_failmsg "measured environment: $r"
grep -qx "env HTTPS_PROXY=http://127.0.0.1:10000" <<<"$r" || _t_failmsg "HTTPS_PROXY: $r"
grep -qx "env http_proxy=http://127.0.0.1:10000" <<<"$r" || _t_failmsg "http_proxy: $r"
grep -qx "env NO_PROXY=localhost,127.0.0.1" <<<"$r" || _t_failmsg "NO_PROXY: $r"
grep -qx "cwd /tmp" <<<"$r" || _t_failmsg "working folder: $r"
grep -qx "connect 127.0.0.2:7000 200 | hello from 127.0.0.2 | PING THROUGH THE TUNNEL" <<<"$r" ||
	_t_failmsg "allowed destination: $r"
grep -q "^connect 127.0.0.3:7000 403 " <<<"$r" || _t_failmsg "denied destination: $r"
grep -q "^connect 127.0.0.4:7000 403 " <<<"$r" || _t_failmsg "host-side denial: $r"
grep -q "^connect nowhere.test:443 502 " <<<"$r" || _t_failmsg "unresolvable allowed name: $r"
grep -qx "ingress hello enclave" <<<"$r" || _t_failmsg "ingress at the application: $r"
grep -q "egress denied 127.0.0.3:7000: deny rule 1 (127.0.0.3)" sup.log || _t_failmsg "no log line for the denial: $(cat sup.log)"
grep -q "egress allowed 127.0.0.2:7000: allow rule 1 (127.0.0.2:7000)" sup.log || _t_failmsg "no log line for the allowed one"
grep -q "egress denied 127.0.0.4:7000: no allow rule matches" host.log || _t_failmsg "host side: $(cat host.log)"
grep -q "exited with status 7" sup.log || _t_failmsg "no exit line: $(cat sup.log)"
[ ! -e "$_t_root/server-127.0.0.3.log" ] || _t_failmsg "the denied server was reached"
[ ! -e "$_t_root/server-127.0.0.4.log" ] || _t_failmsg "the host-denied server was reached"

case_begin supervisor-bad-input
expect 2 "$SUP" --bogus
expect 2 "$SUP" --proxy-listen unix:/x
expect 1 "$SUP" --manifest nothere.json --log none
expect_err "eimg-supervisor: 'nothere.json': cannot open"
expect_one_line_err
echo '{"nitro": {"entrypoint": []}}' > empty.json
expect 1 "$SUP" --manifest empty.json --log none
expect_err "nitro.entrypoint: no program to start"
echo '{"nitro": {"entrypoint": ["true"], "egress": {"allow": ["a.*.com"]}}}' > badpat.json
expect 1 "$SUP" --manifest badpat.json --log none
expect_err "egress.allow\[0\]: 'a.\*.com'"
echo '{"nitro": {"entrypoint": ["/nonexistent/app"]}}' > noapp.json
expect 1 "$SUP" --manifest noapp.json --log none --proxy-listen tcp:127.0.0.1:10001 --egress-via unix:/nonexistent
expect_err "cannot start '/nonexistent/app'"
head -c 1100000 /dev/zero > big.json
expect 1 "$SUP" --manifest big.json --log none
expect_err "larger than 1048576 bytes"
expect 0 "$SUP" --help
expect_out "--ingress-from"

case_begin supervisor-signals
# SIGTERM goes on to the application; the supervisor exits with its status (128+15)
echo '{"nitro": {"entrypoint": ["sleep", "30"]}}' > sleep.json
"$SUP" --manifest sleep.json --log - --proxy-listen tcp:127.0.0.1:10002 --egress-via unix:/nonexistent 2>sig.log & sup=$!
for i in $(seq 50); do grep -qs started sig.log && break; sleep 0.1; done
kill -TERM $sup
SECONDS=0; wait $sup; st=$?
[ $st = 143 ] || _t_failmsg "exit $st after SIGTERM, expected 143: $(cat sig.log)"
[ $SECONDS -lt 5 ] || _t_failmsg "took $SECONDS s to stop"
grep -q "sleep exited with status 143" sig.log || _t_failmsg "no exit line: $(cat sig.log)"
# in a fresh network namespace (as in an enclave at boot) lo is down: the supervisor brings it up
expect 0 unshare -n sh -c '"$0" --manifest "$1" --log - --egress-via unix:/nonexistent 2>lo.log & s=$!
	for i in $(seq 50); do grep -qs started lo.log && break; sleep 0.1; done; ip -o link show lo; kill $s; wait $s; exit 0' \
	"$SUP" "$PWD/sleep.json"
expect_out "<LOOPBACK,UP,"
grep -q "lo is up" lo.log || _t_failmsg "no log line for lo: $(cat lo.log)"

# Hostile clients against the engine with small limits (the same code as in the enclave).
case_begin hostile-requests
start_relay h.log --proxy tcp:127.0.0.1:11000 --allow 127.0.0.2:7000 --header-timeout 1500 --conns-max 8
P=127.0.0.1:11000
hex() { printf '%b' "$1" | od -An -tx1 | tr -d ' \n'; }
expect 0 timeout 60 "$PY" "$PEER" batch <<BATCH
ok connect $P 127.0.0.2:7000
denied connect $P 127.0.0.3:7000
get raw $P $(hex 'GET http://x/ HTTP/1.1\r\n\r\n')
noport raw $P $(hex 'CONNECT 127.0.0.2 HTTP/1.1\r\n\r\n')
tls raw $P 160301020001
big raw $P @9000
slow raw $P slow
flood flood $P 30 127.0.0.2:7000
BATCH
# each check: a line of the batch's output, exactly as the proxy must answer
check() { grep -qE -- "$1" <<<"$out" || _t_failmsg "no line /$1/ in: $out"; }
check "^ok hello from 127.0.0.2 \| PING THROUGH THE TUNNEL$"
check "^denied 403$"
check "^denied no allow rule matches$"
check "^get HTTP/1.1 405 "
check "^noport HTTP/1.1 400 "
check "^tls HTTP/1.1 400 "
check "^big HTTP/1.1 431 "
# a slow client gets 408 after the header deadline (1.5 s here), not after its last byte
check "^slow HTTP/1.1 408 Request Timeout \((1\.[5-9]|2\.[0-9]) s\)$"
# a flood: 30 connections against a limit of 8; the excess is told 503, and afterwards the proxy works
check "^flood refused 2[2-9] afterwards 200$"
grep -q "408 no complete request within 1500 ms" h.log || _t_failmsg "no log line for the slow client"
grep -q "connection(s) refused: 8 connections (limit)" h.log || _t_failmsg "no log line for the flood"
[ ! -e "$_t_root/server-127.0.0.3.log" ] || _t_failmsg "the denied server was reached"

case_begin forward-and-via
# ingress as on the host: tcp -> unix (the "vsock") -> the enclave's forward -> the application
start_server 127.0.0.6 7100 "$PWD/s6.log"
start_relay f.log --forward tcp:127.0.0.7:7100 "unix:$PWD/in.sock" --forward "unix:$PWD/in.sock" tcp:127.0.0.6:7100
start_relay v.log --proxy tcp:127.0.0.1:11001 --via tcp:127.0.0.1:11000 --allow '127.0.0.0/8:7000' --deny '[::1]'
start_relay d.log --forward tcp:127.0.0.8:7200 tcp:127.0.0.9:1
expect 0 timeout 60 "$PY" "$PEER" batch <<BATCH
fwd ingress 127.0.0.7 7100
via connect 127.0.0.1:11001 127.0.0.2:7000
v6 connect 127.0.0.1:11001 [::1]:7000
down probe 127.0.0.8 7200
BATCH
check "^fwd hello from 127.0.0.6$"
# an enclave-side proxy in front of a host-side one; an IPv6 literal refused by a bare IPv6 rule
check "^via hello from 127.0.0.2 \| PING THROUGH THE TUNNEL$"
check "^v6 403$"
check "^v6 deny rule 1 \(\[::1\]\)$"
# a forward whose target is down: the connection closes at once, the relay carries on
check "^down 0$"
grep -q "cannot connect to tcp:127.0.0.9:1" d.log || _t_failmsg "no log line: $(cat d.log)"

finish
