#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-run's Nitro hand-off against a stand-in nitro-cli (a bash script
# created here) that records its arguments and plays back nitro-cli's JSON
# answers and failures: verification before anything is called (tampered
# EIF, wrong --expect PCRs, --constraint, --require-signature: exit 3 and no
# call at all), --dry-run output, run-enclave / describe-enclaves / console /
# terminate-enclave arguments exactly, nitro-cli failures as one line, the
# temporary EIF of an image written and removed, SIGTERM.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }
ID=i-0123456789abcdef0-enc0123456789abcdef

mknitro() { # folder
	mkdir -p "$1/app/bin" "$1/app/etc"
	head -c 200000 /dev/zero | tr '\0' 'K' > "$1/bzImage"        # placeholder kernel
	printf '#!/bin/sh\necho init\n' > "$1/init"; chmod 755 "$1/init"
	printf '#!/bin/sh\necho hello\n' > "$1/app/bin/hello"; chmod 755 "$1/app/bin/hello"
	printf "greeting=hello\n" > "$1/app/etc/hello.conf"
	cat > "$1/enclave.yaml" <<'Y'
version: 1
name: nitro-run
target: nitro
nitro:
  kernel: bzImage
  cmdline: "reboot=k panic=30 pci=off nomodules console=ttyS0"
  init: init
  app: app
  entrypoint: ["/bin/hello"]
  memory: 768M
  cpus: 4
Y
}

# The stand-in: every call appends its arguments to $dir/calls (console to
# $dir/console.calls: it runs beside enclave-run's own calls); answers come
# from files in $dir (run.fail + run.code: fail like nitro-cli; describe.N for
# the Nth describe-enclaves, else describe.last; describe.fail: fail).
mkcli() { # dir
	mkdir -p "$1"
	cat > "$1/nitro-cli" <<'SH'
#!/usr/bin/env bash
d=$(dirname "$0")
if [ "$1" = console ]; then
	echo "$*" >> "$d/console.calls"
	echo "console: hello from the enclave"
	: > "$d/console.done"
	exec sleep 30
fi
echo "$*" | sed -E 's#^(run-enclave --eif-path /proc/self/fd/)[0-9]+ #\1N #' >> "$d/calls"
case "$1" in
run-enclave)
	while [ $# -gt 0 ]; do [ "$1" = --eif-path ] && { echo "$2" > "$d/eif_path"; cp "$2" "$d/seen.eif"; }; shift; done
	echo "Start allocating memory..."
	if [ -f "$d/run.fail" ]; then cat "$d/run.fail" >&2; exit "$(cat "$d/run.code")"; fi
	echo "Started enclave with enclave-cid: 16, memory: 768 MiB, cpu-ids: [1, 3, 5, 7]"
	cat <<J
{
  "EnclaveName": "nitro-run",
  "EnclaveID": "i-0123456789abcdef0-enc0123456789abcdef",
  "ProcessID": 4242,
  "EnclaveCID": 16,
  "NumberOfCPUs": 4,
  "CPUIDs": [1, 3, 5, 7],
  "MemoryMiB": 768
}
J
	;;
describe-enclaves)
	if [ -f "$d/describe.hang" ]; then echo $$ > "$d/hang.pid"; exec sleep 30; fi
	if [ -f "$d/describe.fail" ]; then echo "[ E99 ] Describe failed: stand-in error" >&2; exit 3; fi
	# in debug runs, answer only once the console has started (no timing in the test)
	if [ -f "$d/describe.wait_console" ]; then for i in $(seq 200); do [ -f "$d/console.done" ] && break; sleep 0.05; done; fi
	n=$(( $(cat "$d/count" 2>/dev/null || echo 0) + 1 )); echo $n > "$d/count"
	if [ -f "$d/describe.$n" ]; then cat "$d/describe.$n"; else cat "$d/describe.last"; fi
	;;
terminate-enclave)
	echo '{ "EnclaveID": "i-0123456789abcdef0-enc0123456789abcdef", "Terminated": true }'
	;;
*) echo "stand-in: unexpected $1" >&2; exit 2 ;;
esac
SH
	chmod 755 "$1/nitro-cli"
	cat > "$1/describe.running" <<J
[
  {
    "EnclaveName": "nitro-run",
    "EnclaveID": "$ID",
    "ProcessID": 4242,
    "EnclaveCID": 16,
    "NumberOfCPUs": 4,
    "CPUIDs": [1, 3, 5, 7],
    "MemoryMiB": 768,
    "State": "RUNNING",
    "Flags": "NONE"
  }
]
J
	echo "[]" > "$1/describe.empty"
}

case_begin setup
S=$PWD
mknitro p
expect 0 enclave-build -q -f p/enclave.yaml -o n.eimg --eif n.eif
expect 0 enclave-measure --json n.eif
pcr0=$(echo "$out" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["measurements"]["pcr0"])')
pcr1=$(echo "$out" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["measurements"]["pcr1"])')
[ ${#pcr0} = 96 ] || _t_failmsg "no PCR0"
zero=$(printf '0%.0s' $(seq 96))
openssl ecparam -name secp384r1 -genkey -noout -out rel.key 2>/dev/null
openssl req -x509 -new -key rel.key -subj "/CN=release" -days 30 -out rel.pem 2>/dev/null
cp n.eif signed.eif
expect 0 enclave-sign --in-place -k rel.key --cert rel.pem signed.eif
# an EIF whose header has no defaults (CRC recomputed: still a sound EIF)
"$PY" - n.eif nodefaults.eif <<'P'
import sys, zlib
d = bytearray(open(sys.argv[1], 'rb').read())
d[8:24] = bytes(16)
crc = zlib.crc32(d[548:], zlib.crc32(bytes(d[:544])))
d[544:548] = crc.to_bytes(4, 'big')
open(sys.argv[2], 'wb').write(d)
P
expect 0 enclave-measure nodefaults.eif

# ---- verification comes first: nothing is called when it fails
case_begin tampered_eif_refused
mkcli c
cp "$S/n.eif" t.eif
"$PY" -c 'import sys; d=bytearray(open("t.eif","rb").read()); d[len(d)//2]^=1; open("t.eif","wb").write(d)'
expect 3 enclave-run --nitro-cli "$PWD/c/nitro-cli" t.eif
expect_err "^enclave-run: 't.eif': .*CRC"
expect_err "^enclave-run: 't.eif': verification failed \\(1 check\\); nothing was run$"
expect_no_file c/calls
case_begin wrong_expect_refused
mkcli c
expect 2 enclave-run --nitro-cli "$PWD/c/nitro-cli" --expect "PCR1:$zero PCR1:$pcr1" "$S/n.eimg"
expect_err "PCR1 is expected more than once"
expect 2 enclave-run --nitro-cli "$PWD/c/nitro-cli" --expect "PCR0:xyz" "$S/n.eimg"
expect 3 enclave-run --nitro-cli "$PWD/c/nitro-cli" --expect "PCR0:$zero PCR2:$zero" -q "$S/n.eimg"
expect_err "PCR0 differs: expected $zero, actual $pcr0"
expect_err "PCR2 differs: expected $zero, actual [0-9a-f]{96}"
echo "$errtxt" | grep -q "PCR1 differs" && _t_failmsg "PCR1 was not expected but reported"
expect_err "verification failed \\(1 check\\); nothing was run"
expect 3 enclave-run --nitro-cli "$PWD/c/nitro-cli" --constraint "PCR1:$zero" "$S/n.eif"
expect_err "^enclave-run: '.*n.eif': constraint PCR1: expected $zero, actual $pcr1$"
expect 3 enclave-run --nitro-cli "$PWD/c/nitro-cli" --expect "PCR8:$zero" "$S/n.eif"
expect_err "PCR8"
expect_no_file c/calls
case_begin require_signature
mkcli c
expect 3 enclave-run --nitro-cli "$PWD/c/nitro-cli" --require-signature "$S/n.eif"
expect_err "^enclave-run: '.*n.eif': the EIF is not signed \\(--require-signature\\)"
expect_no_file c/calls
expect 0 enclave-run --dry-run -q --nitro-cli "$PWD/c/nitro-cli" --require-signature "$S/signed.eif"
[ "$out" = "$PWD/c/nitro-cli run-enclave --eif-path /proc/self/fd/N --cpu-count 4 --memory 768" ] || _t_failmsg "dry run: $out"
expect_no_file c/calls
case_begin sgx_options_refused
expect 2 enclave-run --lines "$S/n.eif"
expect_err "is a Nitro EIF: --lines applies to SGX images only"
expect 2 enclave-run --backend hardware "$S/n.eimg"
expect_err "is a Nitro image: --backend applies to SGX images only"
expect 2 enclave-run --preflight "$S/n.eimg"

# ---- --dry-run prints exactly the commands
case_begin dry_run
mkcli c
NC="$PWD/c/nitro-cli"
expect 0 enclave-run --dry-run -q --nitro-cli "$NC" "$S/n.eif"
[ "$out" = "$NC run-enclave --eif-path /proc/self/fd/N --cpu-count 4 --memory 768" ] || _t_failmsg "plain EIF: $out"
[ -z "$errtxt" ] || _t_failmsg "stderr: $errtxt"
expect 0 env TMPDIR="$PWD/tmp" enclave-run --dry-run -q --nitro-cli "$NC" --cpus 2 --memory 1024 --enclave-cid 17 --debug "$S/n.eimg"
want="$NC run-enclave --eif-path /proc/self/fd/N --cpu-count 2 --memory 1024 --enclave-cid 17 --debug-mode
$NC console --enclave-id '<EnclaveID>'"
[ "$out" = "$want" ] || _t_failmsg "image: $out"
mkdir -p "with space" && cp c/nitro-cli "with space/"
expect 0 enclave-run --dry-run --nitro-cli "$PWD/with space/nitro-cli" "$S/n.eif"
[ "$out" = "'$PWD/with space/nitro-cli' run-enclave --eif-path /proc/self/fd/N --cpu-count 4 --memory 768" ] || _t_failmsg "quoting: $out"
expect_err "^enclave-run: verified '.*n.eif': PCR0 $pcr0, PCR1 $pcr1, PCR2 [0-9a-f]{96}, unsigned$"
expect_no_file c/calls
expect_no_file tmp
case_begin header_defaults
mkcli c
expect 2 enclave-run --dry-run --nitro-cli "$PWD/c/nitro-cli" "$S/nodefaults.eif"
expect_err "^enclave-run: '.*nodefaults.eif': the EIF header gives no usable CPU count: give --cpus N \\(1 to 4096\\)$"
expect 2 enclave-run --dry-run --cpus 2 --nitro-cli "$PWD/c/nitro-cli" "$S/nodefaults.eif"
expect_err "the EIF header gives no usable memory size: give --memory MiB"
expect 0 enclave-run --dry-run -q --cpus 2 --memory 512 --nitro-cli "$PWD/c/nitro-cli" "$S/nodefaults.eif"
[ "$out" = "$PWD/c/nitro-cli run-enclave --eif-path /proc/self/fd/N --cpu-count 2 --memory 512" ] || _t_failmsg "$out"
expect 2 enclave-run --dry-run --cpus 0 "$S/n.eif"
expect 2 enclave-run --dry-run --memory 63 "$S/n.eif"
expect 2 enclave-run --dry-run --enclave-cid 3 "$S/n.eif"
expect 2 enclave-run --watch-interval 0 "$S/n.eif"

# ---- running: an image's EIF goes through a temporary file, removed afterwards
case_begin run_image_until_it_ends
mkcli c
cp c/describe.running c/describe.1; cp c/describe.empty c/describe.last
mkdir tmp
expect 0 env TMPDIR="$PWD/tmp" enclave-run --watch-interval 0.01 --nitro-cli "$PWD/c/nitro-cli" "$S/n.eimg"
p=$(cat c/eif_path)
echo "$p" | grep -qE "^/proc/self/fd/[0-9]+$" || _t_failmsg "eif path: $p"
want="run-enclave --eif-path /proc/self/fd/N --cpu-count 4 --memory 768
describe-enclaves
describe-enclaves"
[ "$(cat c/calls)" = "$want" ] || _t_failmsg "calls: $(cat c/calls)"
cmp -s c/seen.eif "$S/n.eif" || _t_failmsg "nitro-cli was not given the image's EIF"
[ -z "$(ls -A tmp)" ] || _t_failmsg "temporary files left: $(ls -A tmp)"
expect_err "^enclave-run: started enclave $ID: CID 16, 4 CPUs, 768 MiB$"
expect_err "^enclave-run: enclave $ID ended$"
[ -z "$out" ] || _t_failmsg "stdout: $out"
case_begin run_eif_state_not_running
mkcli c
cp c/describe.running c/describe.1
sed 's/"RUNNING"/"TERMINATING"/' c/describe.running > c/describe.last
expect 0 enclave-run -q --watch-interval 0.01 --enclave-cid 16 --nitro-cli "$PWD/c/nitro-cli" "$S/n.eif"
want="run-enclave --eif-path /proc/self/fd/N --cpu-count 4 --memory 768 --enclave-cid 16
describe-enclaves
describe-enclaves"
[ "$(cat c/calls)" = "$want" ] || _t_failmsg "calls: $(cat c/calls)"
expect_err "^enclave-run: enclave $ID ended \\(state TERMINATING\\)$"
case_begin run_debug_console
mkcli c
cp c/describe.running c/describe.1; cp c/describe.empty c/describe.last; : > c/describe.wait_console
expect 0 enclave-run -q --debug --watch-interval 0.01 --nitro-cli "$PWD/c/nitro-cli" "$S/n.eif"
want="run-enclave --eif-path /proc/self/fd/N --cpu-count 4 --memory 768 --debug-mode
describe-enclaves
describe-enclaves"
[ "$(cat c/calls)" = "$want" ] || _t_failmsg "calls: $(cat c/calls)"
[ "$(cat c/console.calls)" = "console --enclave-id $ID" ] || _t_failmsg "console: $(cat c/console.calls 2>&1)"
[ "$out" = "console: hello from the enclave" ] || _t_failmsg "console output: $out"
expect_err "debug mode \\(attestations carry zero PCRs\\)"
pgrep -f "$PWD/c/nitro-cli" >/dev/null && _t_failmsg "the console was left running"

# ---- nitro-cli failing
case_begin run_enclave_fails
mkcli c
cat > c/run.fail <<'E'
[ E26 ] Insufficient memory requested. User provided `memory` is 768 MB, but based on the EIF file size, the minimum memory should be 1024 MB

For more details, please visit https://docs.aws.amazon.com/enclaves/latest/user/cli-errors.html#E26

If you open a support ticket, please provide the error log found at "/var/log/nitro_enclaves/err2026-11-23T05:00:00.log"
E
echo 26 > c/run.code
mkdir tmp
expect 1 env TMPDIR="$PWD/tmp" enclave-run -q --nitro-cli "$PWD/c/nitro-cli" "$S/n.eimg"
[ "$errtxt" = "enclave-run: '$PWD/c/nitro-cli': run-enclave failed (exit status 26): [ E26 ] Insufficient memory requested. User provided \`memory\` is 768 MB, but based on the EIF file size, the minimum memory should be 1024 MB" ] ||
	_t_failmsg "message: $errtxt"
[ "$(wc -l < c/calls)" = 1 ] || _t_failmsg "calls after a failed start: $(cat c/calls)"
[ -z "$(ls -A tmp)" ] || _t_failmsg "temporary files left: $(ls -A tmp)"
case_begin nitro_cli_missing
expect 1 env PATH="$EIMG_BIN:/usr/bin:/bin" enclave-run -q --nitro-cli no-such-nitro-cli-here "$S/n.eif"
[ "$errtxt" = "enclave-run: 'no-such-nitro-cli-here': not found in PATH: install the AWS Nitro Enclaves CLI (aws-nitro-enclaves-cli) or give --nitro-cli PATH" ] ||
	_t_failmsg "message: $errtxt"
case_begin describe_fails_terminates
mkcli c
: > c/describe.fail
expect 1 enclave-run -q --watch-interval 0.01 --nitro-cli "$PWD/c/nitro-cli" "$S/n.eif"
want="run-enclave --eif-path /proc/self/fd/N --cpu-count 4 --memory 768
describe-enclaves
describe-enclaves
describe-enclaves
terminate-enclave --enclave-id $ID"
[ "$(cat c/calls)" = "$want" ] || _t_failmsg "calls: $(cat c/calls)"
expect_err "^enclave-run: '$PWD/c/nitro-cli': watching enclave $ID \\(3 failures in a row; the enclave was terminated\\): describe-enclaves failed \\(exit status 3\\): \\[ E99 \\] Describe failed: stand-in error$"

# ---- nitro-cli gets exactly the verified bytes: the file is swapped while enclave-run runs
case_begin swap_loop_verified_bytes
mknitro p2
printf '#!/bin/sh\necho other\n' > p2/app/bin/hello
expect 0 enclave-build -q -f p2/enclave.yaml -o o.eimg --eif other.eif
cmp -s other.eif "$S/n.eif" && _t_failmsg "the two EIFs are the same"
mkcli c
cp c/describe.empty c/describe.last
cp "$S/n.eif" x.eif
( while :; do cp "$S/n.eif" a.tmp; mv a.tmp x.eif; cp other.eif b.tmp; mv b.tmp x.eif; done ) &
swapper=$!
ran=0 refused=0
for i in $(seq 24); do
	rm -f c/seen.eif c/calls
	enclave-run -q --watch-interval 0.01 --expect "PCR0:$pcr0" --nitro-cli "$PWD/c/nitro-cli" x.eif >/dev/null 2>err.txt; rc=$?
	case $rc in
	0) ran=$((ran+1)); cmp -s c/seen.eif "$S/n.eif" || _t_failmsg "run $i: nitro-cli was given bytes other than the verified ones" ;;
	3) refused=$((refused+1)); [ -e c/calls ] && _t_failmsg "run $i: refused, yet nitro-cli was called" ;;
	*) _t_failmsg "run $i: exit $rc: $(cat err.txt)" ;;
	esac
done
kill $swapper; wait $swapper 2>/dev/null
[ $ran -gt 0 ] || _t_failmsg "no run verified the expected EIF ($refused refused)"
echo "  swap loop: $ran runs, $refused refused"

# ---- SIGTERM: terminate-enclave, then exit 0
case_begin sigterm_terminates
mkcli c
cp c/describe.running c/describe.last
enclave-run -q --watch-interval 0.02 --nitro-cli "$PWD/c/nitro-cli" "$S/n.eif" >o 2>e &
pid=$!
for i in $(seq 500); do grep -q describe-enclaves c/calls 2>/dev/null && break; sleep 0.02; done
kill -TERM $pid
wait $pid; rc=$?
[ $rc = 0 ] || _t_failmsg "exit $rc: $(cat e)"
[ "$(head -1 c/calls)" = "run-enclave --eif-path /proc/self/fd/N --cpu-count 4 --memory 768" ] || _t_failmsg "first call: $(head -1 c/calls)"
[ "$(tail -1 c/calls)" = "terminate-enclave --enclave-id $ID" ] || _t_failmsg "last call: $(tail -1 c/calls)"
[ "$(sed '1d;$d' c/calls | sort -u)" = "describe-enclaves" ] || _t_failmsg "calls: $(cat c/calls)"
grep -q "^enclave-run: terminating enclave $ID$" e || _t_failmsg "stderr: $(cat e)"
# a describe-enclaves that hangs does not keep the signal from terminating the enclave
case_begin sigterm_during_hung_describe
mkcli c
: > c/describe.hang
enclave-run -q --nitro-cli "$PWD/c/nitro-cli" "$S/n.eif" >o 2>e &
pid=$!
for i in $(seq 500); do grep -q describe-enclaves c/calls 2>/dev/null && break; sleep 0.02; done
kill -TERM $pid
wait $pid; rc=$?
[ $rc = 0 ] || _t_failmsg "exit $rc: $(cat e)"
want="run-enclave --eif-path /proc/self/fd/N --cpu-count 4 --memory 768
describe-enclaves
terminate-enclave --enclave-id $ID"
[ "$(cat c/calls)" = "$want" ] || _t_failmsg "calls: $(cat c/calls)"
kill -0 "$(cat c/hang.pid)" 2>/dev/null && _t_failmsg "the hung describe-enclaves was left running"
finish
