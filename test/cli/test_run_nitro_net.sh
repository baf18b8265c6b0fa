#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-run's host side for Nitro images with a network policy, end to end
# inside a network namespace this test makes (unshare -rn): the "enclave" is
# the real eimg-supervisor taken out of the built EIF by a stand-in nitro-cli
# and started with the image's cmd, env and manifest, with TCP on 127.0.0.9 in
# place of vsock (EIMG_NITRO_VSOCK, the testing aid); the application is
# test/cli/net_peer.py; destinations are Python servers on 127.0.0.2 and
# 127.0.0.4 (allowed) and 127.0.0.3 (denied).  Checks: ingress from the host
# (--ingress-bind) reaches the application; allowed egress passes data both
# ways; denied egress gets 403 and a log line; the host side alone refuses a
# denied destination when a client bypasses the in-enclave proxy; the relay
# stops with the enclave and on SIGTERM; --dry-run prints the bridges.
# Every wait is bounded (loops of at most 150 x 0.1 s, timeouts).
. "$(dirname "$0")/lib.sh"
BUILD="$EIMG_TOP/${BUILDDIR:-build}"
SUP="$BUILD/libexec/eimg-supervisor"
PEER="$EIMG_TOP/test/cli/net_peer.py"
PY=${PYTHON:-/usr/bin/python3}

if [ -z "${EIMG_IN_NETNS:-}" ]; then
	[ -x "$SUP" ] || { echo "skipped: $SUP not built (make)"; exit 77; }
	command -v ip >/dev/null || { echo "skipped: ip (iproute2) not installed"; exit 77; }
	unshare -rn true 2>/dev/null || { echo "skipped: cannot make a network namespace (unshare -rn)"; exit 77; }
	EIMG_IN_NETNS=1 exec timeout 240 unshare -rn bash "$0" "$@"
fi
ip link set lo up || { echo "cannot bring lo up"; exit 1; }
export EIMG_SUPERVISOR=$SUP SOURCE_DATE_EPOCH=1700000000
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$_t_root"; }
trap cleanup EXIT
for ip in 127.0.0.2 127.0.0.3 127.0.0.4; do
	"$PY" "$PEER" server $ip 7000 "$_t_root/server-$ip.log" & pids+=($!)
done
for ip in 127.0.0.2 127.0.0.3 127.0.0.4; do
	for i in $(seq 100); do [ -e "$_t_root/server-$ip.log.ready" ] && break; sleep 0.1; done
done
# start_run LOG ARGS...: enclave-run in the background ($run), the testing aid set
start_run() {
	local log=$1; shift
	EIMG_NITRO_VSOCK=tcp:127.0.0.9 enclave-run "$@" 2>"$log" & run=$!
	pids+=($run)
}
# wait_run: bounded wait for enclave-run's end; its status in $st
wait_run() {
	for i in $(seq 300); do kill -0 $run 2>/dev/null || break; sleep 0.1; done
	kill -0 $run 2>/dev/null && { kill -9 $run; _t_failmsg "enclave-run did not stop"; }
	wait $run; st=$?
}
wait_for() { # FILE: bounded wait until it is non-empty
	for i in $(seq 150); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}
listening() { "$PY" -c 'import socket,sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2).close()
except OSError:
    sys.exit(1)' "$1" "$2"; }

mkimage() { # folder results-file
	nitro_inputs "$1" nitro-net
	cat >> "$1/enclave.yaml" <<Y
  entrypoint: ["$PY", "$PEER", "app", "$2"]
  env: ["GREETING=hi"]
  ingress: [8080]
  egress:
    allow: ["127.0.0.2:7000", "127.0.0.4", "*.test"]
    deny: ["127.0.0.3"]
Y
}

# The stand-in nitro-cli: run-enclave unpacks the EIF's application ramdisk
# (the independent cpio reader) and starts what its cmd names, as init would
# inside the enclave's root, once the host's egress service listens (the
# enclave's boot takes longer than that on real hardware), with the test
# transports; describe-enclaves says RUNNING while it runs; terminate-enclave
# stops it.
mkcli() { # dir
	mkdir -p "$1"
	cat > "$1/unpack.py" <<'P'
import os, sys
sys.path.insert(0, os.path.join(os.environ["EIMG_TOP"], "test", "py"))
import cpio_read
rds = cpio_read.eif_ramdisks(open(sys.argv[1], "rb").read())
root = sys.argv[2]
for name, r in sorted(cpio_read.tree(rds[1]).items()):
    p = os.path.join(root, name)
    if r["mode"] & 0o170000 == 0o040000:
        os.makedirs(p, exist_ok=True)
    elif r["mode"] & 0o170000 == 0o100000:
        open(p, "wb").write(r["data"])
        os.chmod(p, r["mode"] & 0o777)
P
	cat > "$1/nitro-cli" <<'SH'
#!/usr/bin/env bash
d=$(dirname "$0")
echo "$*" >> "$d/calls"
case "$1" in
run-enclave)
	while [ $# -gt 0 ]; do [ "$1" = --eif-path ] && eif=$2; shift; done
	rm -rf "$d/root"; mkdir -p "$d/root"; : > "$d/sup.log"
	"${PYTHON:-python3}" "$d/unpack.py" "$eif" "$d/root" || exit 1
	mapfile -t argv < "$d/root/cmd"; mapfile -t envv < "$d/root/env"
	for i in "${!argv[@]}"; do case "${argv[$i]}" in /enclaveimg/*|/etc/*) argv[$i]="$d/root/rootfs${argv[$i]}";; esac; done
	(
		for i in $(seq 150); do
			"${PYTHON:-python3}" -c 'import socket; socket.create_connection(("127.0.0.9", 17002), timeout=1).close()' 2>/dev/null && break
			sleep 0.1
		done
		exec env -i "${envv[@]}" "${argv[@]}" --egress-via tcp:127.0.0.9:17002 --ingress-from tcp:127.0.0.9 --log "$d/sup.log"
	) </dev/null >/dev/null 2>&1 &
	echo $! > "$d/enclave.pid"
	cat <<J
{ "EnclaveName": "nitro-net", "EnclaveID": "i-0123456789abcdef0-enc0123456789abcdef", "ProcessID": 4242,
  "EnclaveCID": 16, "NumberOfCPUs": 2, "CPUIDs": [1, 3], "MemoryMiB": 512 }
J
	;;
describe-enclaves)
	if kill -0 "$(cat "$d/enclave.pid")" 2>/dev/null; then
		echo '[{"EnclaveID": "i-0123456789abcdef0-enc0123456789abcdef", "EnclaveCID": 16, "State": "RUNNING"}]'
	else
		echo '[]'
	fi
	;;
terminate-enclave)
	kill "$(cat "$d/enclave.pid")" 2>/dev/null
	for i in $(seq 50); do kill -0 "$(cat "$d/enclave.pid")" 2>/dev/null || break; sleep 0.1; done
	echo '{ "EnclaveID": "i-0123456789abcdef0-enc0123456789abcdef", "Terminated": true }'
	;;
*) echo "stand-in: unexpected $1" >&2; exit 2 ;;
esac
SH
	chmod 755 "$1/nitro-cli"
}
export EIMG_TOP PYTHON=$PY

case_begin dry-run-prints-bridges
mkimage p "$PWD/results"
expect 0 enclave-build -q -f p/enclave.yaml -o n.eimg --eif n.eif
expect 0 enclave-run -q --dry-run --nitro-cli /nonexistent/nitro-cli n.eimg
expect_out "^# ingress: tcp:127.0.0.1:8080 -> vsock:<EnclaveCID>:8080$"
expect_out "^# egress: vsock:any:17002 -> the destinations the policy allows \(3 allow, 1 deny rules\)$"
expect 0 enclave-run -q --dry-run --ingress-bind ::1 n.eif
expect_out "^# ingress: tcp:\[::1\]:8080 -> vsock:<EnclaveCID>:8080$"
EIMG_NITRO_VSOCK=tcp:127.0.0.9 expect 0 enclave-run -q --dry-run n.eimg
expect_out "^# ingress: tcp:127.0.0.1:8080 -> tcp:127.0.0.9:8080$"
expect_out "^# egress: tcp:127.0.0.9:17002 "
expect 2 enclave-run -q --dry-run --ingress-bind localhost n.eimg
expect_one_line_err
expect_err "--ingress-bind: expected a numeric IPv4 or IPv6 address, got 'localhost'"
EIMG_NITRO_VSOCK=vsock:3 expect 2 enclave-run -q --dry-run n.eimg
expect_err "EIMG_NITRO_VSOCK: expected unix:PATH or tcp:IP"
# without a policy: no supervisor, no bridges
sed -i '/ingress:/,$d' p/enclave.yaml
expect 0 enclave-build -q -f p/enclave.yaml -o plain.eimg
expect 0 enclave-run -q --dry-run plain.eimg
echo "$out" | grep -q "^#" && _t_failmsg "bridges printed for an image without a policy: $out"

case_begin ingress-egress-end-to-end
mkimage p "$PWD/results"
mkcli c
expect 0 enclave-build -q -f p/enclave.yaml -o n.eimg
start_run run.log --nitro-cli "$PWD/c/nitro-cli" --ingress-bind 127.0.0.5 --watch-interval 0.2 n.eimg
wait_for results || _t_failmsg "the application wrote no results: $(cat run.log c/sup.log 2>&1 | tail -5)"
r=$(cat results 2>/dev/null)
grep -qx "env GREETING=hi" <<<"$r" || _t_failmsg "the measured environment: $r"
grep -qx "connect 127.0.0.2:7000 200 | hello from 127.0.0.2 | PING THROUGH THE TUNNEL" <<<"$r" ||
	_t_failmsg "allowed destination: $r"
grep -qx "connect 127.0.0.4:7000 200 | hello from 127.0.0.4 | PING THROUGH THE TUNNEL" <<<"$r" ||
	_t_failmsg "allowed destination (address rule): $r"
grep -q "^connect 127.0.0.3:7000 403 " <<<"$r" || _t_failmsg "denied destination: $r"
grep -q "^connect nowhere.test:443 502 " <<<"$r" || _t_failmsg "an allowed name the host cannot resolve: $r"
grep -q "egress denied 127.0.0.3:7000: deny rule 1 (127.0.0.3)" c/sup.log || _t_failmsg "no supervisor log line for the denial"
# the host side alone: a client that bypasses the in-enclave proxy
expect 0 timeout 20 "$PY" "$PEER" connect 127.0.0.9:17002 127.0.0.3:7000
expect_out "^403$"
expect 0 timeout 20 "$PY" "$PEER" connect 127.0.0.9:17002 127.0.0.6:7000
expect_out "^403$"; expect_out "no allow rule matches"
expect 0 timeout 20 "$PY" "$PEER" connect 127.0.0.9:17002 127.0.0.2:7000
expect_out "hello from 127.0.0.2 \| PING THROUGH THE TUNNEL"
grep -q "^enclave-run: network: egress denied 127.0.0.3:7000: deny rule 1 (127.0.0.3)" run.log ||
	_t_failmsg "no host log line for the denial: $(grep network run.log)"
grep -q "^enclave-run: network: egress denied 127.0.0.6:7000: no allow rule matches" run.log ||
	_t_failmsg "no host log line for 127.0.0.6"
# ingress: host 127.0.0.5:8080 -> "vsock" 127.0.0.9:8080 -> the supervisor -> the application on 127.0.0.1:8080
expect 0 timeout 20 "$PY" "$PEER" ingress 127.0.0.5 8080
[ "$out" = "ingress got: hello enclave" ] || _t_failmsg "ingress answer: '$out'"
# the application exits (7) after its ingress connection: the enclave ends, so does the relay
wait_run
[ $st = 0 ] || _t_failmsg "enclave-run exited $st: $(tail -3 run.log)"
grep -qx "ingress hello enclave" results || _t_failmsg "ingress at the application: $(cat results)"
grep -q "exited with status 7" c/sup.log || _t_failmsg "the supervisor: $(tail -3 c/sup.log)"
grep -q "^enclave-run: enclave i-0123456789abcdef0-enc0123456789abcdef ended" run.log || _t_failmsg "no end line"
listening 127.0.0.5 8080 && _t_failmsg "the ingress bridge still listens after the enclave ended"
listening 127.0.0.9 17002 && _t_failmsg "the egress service still listens after the enclave ended"
[ ! -e "$_t_root/server-127.0.0.3.log" ] || _t_failmsg "the denied server was reached"

case_begin sigterm-stops-relay
mkimage p "$PWD/results"
mkcli c
expect 0 enclave-build -q -f p/enclave.yaml -o n.eimg
start_run run.log --nitro-cli "$PWD/c/nitro-cli" --ingress-bind 127.0.0.5 --watch-interval 0.2 n.eimg
wait_for results || _t_failmsg "the application wrote no results"
listening 127.0.0.5 8080 || _t_failmsg "the ingress bridge does not listen"
kill -TERM $run
wait_run
[ $st = 0 ] || _t_failmsg "enclave-run exited $st after SIGTERM: $(tail -3 run.log)"
grep -q "terminate-enclave --enclave-id i-0123456789abcdef0-enc0123456789abcdef" c/calls || _t_failmsg "not terminated"
listening 127.0.0.5 8080 && _t_failmsg "the ingress bridge still listens after SIGTERM"
listening 127.0.0.9 17002 && _t_failmsg "the egress service still listens after SIGTERM"
kill -0 "$(cat c/enclave.pid)" 2>/dev/null && _t_failmsg "the stand-in enclave still runs"

case_begin port-taken
mkimage p "$PWD/results"
mkcli c
expect 0 enclave-build -q -f p/enclave.yaml -o n.eimg
"$PY" -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.5",8080)); s.listen(1); open("taken","w").close(); time.sleep(30)' & pids+=($!)
wait_for_file() { for i in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }
wait_for_file taken
EIMG_NITRO_VSOCK=tcp:127.0.0.9 expect 1 timeout 60 enclave-run -q --nitro-cli "$PWD/c/nitro-cli" --ingress-bind 127.0.0.5 n.eimg
expect_err "network \(the enclave was terminated\): ingress port 8080: tcp:127.0.0.5:8080: cannot listen"
grep -q "terminate-enclave" c/calls || _t_failmsg "the enclave was not terminated"
finish
