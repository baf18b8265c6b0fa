#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-run: examples end to end, verification before run (tampered,
# swapped, unsigned, wrong-mode images; --expect; --constraint), the sandbox
# (raw system call), faults, malformed frames, sockets, threads, signals.
. "$(dirname "$0")/lib.sh"
B="$EIMG_TOP/${BUILDDIR:-build}"
CLIENT="${PYTHON:-/usr/bin/python3} $EIMG_TOP/test/cli/run_client.py"
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }
[ -x "$EIMG_BIN/enclave-run" ] || { echo "enclave-run not built"; exit 1; }

# ---- set-up: keys, images of every example and of the probe enclave
case_begin setup
S=$PWD
openssl genrsa -3 -out key.pem 3072 2>/dev/null || exit 1
openssl genrsa -3 -out key2.pem 3072 2>/dev/null || exit 1
make -s -C "$EIMG_TOP/test/enclaves/probe" BUILDDIR="$B/test/enclaves/probe" RT_BUILD="$B/runtime" >/dev/null || exit 1
build_signed() { # NAME SRCDIR [KEY]
	(cd "$2" && enclave-build -q -o "$S/$1.eimg") && enclave-sign --in-place -k "${3:-$S/key.pem}" "$S/$1.eimg" >/dev/null
}
for e in hello average files; do
	expect 0 build_signed $e "$B/examples/$e"
done
expect 0 build_signed probe "$B/test/enclaves/probe"
# a two-thread probe
mkdir -p probe2 && cp "$B/test/enclaves/probe/probe.elf" probe2/ &&
	sed 's/threads: 1/threads: 2/' "$B/test/enclaves/probe/enclave.yaml" > probe2/enclave.yaml
expect 0 build_signed probe2 "$S/probe2"
# hello built for hardware mode (same ELF, manifest says hardware)
mkdir -p hw && cp "$B/examples/hello/hello.elf" "$B/examples/hello/greeting.txt" hw/ &&
	sed 's/^mode: simulation/mode: hardware/' "$B/examples/hello/enclave.yaml" > hw/enclave.yaml
expect 0 build_signed hello-hw "$S/hw"
(cd "$B/examples/hello" && enclave-build -q -o "$S/unsigned.eimg")
MRE=$(enclave-measure --json "$S/hello.eimg" | sed -n 's/.*"mrenclave": *"\([0-9a-f]*\)".*/\1/p' | head -1)
[ ${#MRE} = 64 ] || _t_failmsg "cannot read MRENCLAVE of hello.eimg"
MRS=$(enclave-sign verify --json "$S/hello.eimg" 2>/dev/null | sed -n 's/.*"mrsigner": *"\([0-9a-f]*\)".*/\1/p' | head -1)
[ ${#MRS} = 64 ] || _t_failmsg "cannot read MRSIGNER of hello.eimg"

# frame helpers: frame TEXT -> request frame on stdout
frame() { local n=${#1}; printf "\\x$(printf %02x $((n>>24&255)))\\x$(printf %02x $((n>>16&255)))\\x$(printf %02x $((n>>8&255)))\\x$(printf %02x $((n&255)))\\0\\0\\0\\0%s" "$1"; }

# ---- usage
case_begin help
expect 0 enclave-run --help
expect_out "usage: enclave-run"
expect_out "Exit status: 0 clean exit"
case_begin missing_image_arg
expect 2 enclave-run
expect_err "missing the image"
case_begin bad_option
expect 2 enclave-run --bogus "$S/hello.eimg"
case_begin bad_max_message
expect 2 enclave-run --max-message 0 "$S/hello.eimg"
expect_err "max-message"
case_begin missing_file
expect 1 enclave-run ./nope.eimg </dev/null
expect_err "nope.eimg"
expect_one_line_err

# ---- examples end to end
case_begin hello_lines
printf 'world\nagain\n' > in
expect 0 enclave-run --lines "$S/hello.eimg" < in
[ "$out" = "$(printf 'Hello from inside the enclave, world!\nHello from inside the enclave, again!')" ] || _t_failmsg "replies: $out"
expect_err "enclave: hello enclave ready"
expect_err "verified '.*hello.eimg': MRENCLAVE $MRE"
case_begin hello_frames
{ frame "world"; frame ""; } > in
enclave-run -q "$S/hello.eimg" < in > got; rc=$?
[ $rc = 0 ] || _t_failmsg "exit $rc"
printf '\0\0\0\x25\0\0\0\0Hello from inside the enclave, world!\0\0\0\x20\0\0\0\0Hello from inside the enclave, !' > want
cmp -s got want || _t_failmsg "binary replies differ: $(od -c got | head -3)"
case_begin hello_mock
expect 0 enclave-run --mock --lines "$S/hello.eimg" < <(printf 'gdb\n')
expect_out "^Hello from inside the enclave, gdb!$"
expect_err "mock \\(no sandbox\\)"
case_begin files_example
printf 'list\ncat poem.txt\nwc settings.ini\nget greeting\ncat missing\n' > in
expect 0 enclave-run -q --lines "$S/files.eimg" < in
expect_out "^poem.txt 73$"
expect_out "^settings.ini 54$"
expect_out "^Measured once and sealed in light,$"
expect_out "^3 8 54 settings.ini$"
expect_out "^measured settings$"
expect_out "^error: no such measured file$"
case_begin average_example_refuses_clear_inputs
# examples/average takes numbers only as Mail (test_mail.sh, test/py/test_mail_independent.py)
printf 'submit 1\nresult\n' > in
expect 0 enclave-run -q --lines "$S/average.eimg" < in
[ "$(echo "$out" | grep -c '^error: inputs are accepted only as Mail')" = 2 ] || _t_failmsg "clear inputs: $out"

case_begin average_example_socket_clients
enclave-run -q --listen "unix:$PWD/s" "$S/average.eimg" 2>err & pid=$!
for i in $(seq 50); do [ -S s ] && break; sleep 0.1; done
got=$($CLIENT "unix:$PWD/s" send:a:"submit 10" recv:a send:b:"prove n1" recv:b send:c:"prove n2" recv:c)
echo "$got" | grep -q "0	error: inputs are accepted only as Mail" || _t_failmsg "clear submit: $got"
[ "$(echo "$got" | grep -c "0	signature [0-9a-f]*$")" = 2 ] || _t_failmsg "prove: $got"
kill -TERM $pid; wait $pid; rc=$?
[ $rc = 0 ] || _t_failmsg "SIGTERM exit $rc: $(cat err)"
[ -e s ] && _t_failmsg "socket file left behind"

# ---- verification before run: nothing runs, exit 3
flip() { # IMAGE MEMBER OUT: flip one byte of MEMBER's data (inside a loaded segment for the ELF)
	"${PYTHON:-/usr/bin/python3}" - "$@" <<'PY'
import struct, sys, tarfile
img, member, out = sys.argv[1:]
data = bytearray(open(img, "rb").read())
m = tarfile.open(img).getmember(member)
off = m.size // 2
if member == "enclave.elf":
    elf = data[m.offset_data:m.offset_data + m.size]
    phoff, = struct.unpack_from("<Q", elf, 32); phnum, = struct.unpack_from("<H", elf, 56)
    for i in range(phnum):
        t, fl, po, va, pa, fs = struct.unpack_from("<IIQQQQ", elf, phoff + 56 * i)
        if t == 1 and fl & 1 and fs:
            off = po + fs // 2
            break
data[m.offset_data + off] ^= 0x01
open(out, "wb").write(data)
PY
}
for m in EIMAGE manifest.json runtime.json enclave.elf files/greeting.txt measurement.json sigstruct.bin; do
	case_begin "tampered_$(echo $m | tr / _)"
	flip "$S/hello.eimg" "$m" t.eimg || _t_failmsg "cannot tamper"
	expect 3 enclave-run --lines t.eimg < <(echo hi)
	[ -z "$out" ] || _t_failmsg "something ran: $out"
	echo "$errtxt" | grep -q "enclave: hello enclave ready" && _t_failmsg "enclave code ran"
	echo "$errtxt" | grep -q "nothing was run\|t.eimg" || _t_failmsg "no reason given: $errtxt"
done
case_begin swapped_sigstruct
"${PYTHON:-/usr/bin/python3}" - "$S/hello.eimg" "$S/files.eimg" t.eimg <<'PY'
import sys, tarfile
a, b, out = sys.argv[1:]
da = bytearray(open(a, "rb").read()); db = open(b, "rb").read()
ma = tarfile.open(a).getmember("sigstruct.bin"); mb = tarfile.open(b).getmember("sigstruct.bin")
da[ma.offset_data:ma.offset_data + 1808] = db[mb.offset_data:mb.offset_data + 1808]
open(out, "wb").write(da)
PY
expect 3 enclave-run --lines t.eimg < <(echo hi)
[ -z "$out" ] || _t_failmsg "something ran"
expect_err "nothing was run"
case_begin unsigned_image
expect 3 enclave-run --lines "$S/unsigned.eimg" < <(echo hi)
expect_err "not signed"
expect_err "enclave-sign -k KEY"
[ -z "$out" ] || _t_failmsg "something ran"
case_begin wrong_mode
expect 3 enclave-run --backend simulation --lines "$S/hello-hw.eimg" < <(echo hi)
expect_err "built for hardware mode and the simulation backend runs only images built for simulation"
expect_err "mode: simulation' in enclave.yaml"
expect_err "enclave-build and enclave-sign again"
expect_err "on an SGX machine run it with --backend hardware"
[ -z "$out" ] || _t_failmsg "something ran"
case_begin wrong_mode_mock
expect 3 enclave-run --mock --lines "$S/hello-hw.eimg" < <(echo hi)
expect_err "built for hardware mode and the mock \\(simulation\\) backend runs only"
[ -z "$out" ] || _t_failmsg "something ran"

# ---- the hardware backend (this machine has no SGX: it stops in the preflight)
case_begin hardware_backend_refuses_simulation_image
expect 3 enclave-run --backend hardware --lines "$S/hello.eimg" < <(echo hi)
expect_err "'.*hello.eimg': mode: the image was built for simulation mode and the hardware backend runs only images built for hardware"
expect_err "set 'mode: hardware' in enclave.yaml, link the ELF with the hardware runtime \\(make MODE=hardware\\), then run enclave-build and enclave-sign again; or run it with --backend simulation"
expect_err "verification failed \\(1 check\\); nothing was run"
[ -z "$out" ] || _t_failmsg "something ran"
case_begin hardware_usage
expect 2 enclave-run --backend sgx "$S/hello-hw.eimg"
expect_err "--backend: expected simulation or hardware"
expect 2 enclave-run --backend hardware --mock "$S/hello-hw.eimg"
expect_err "excludes --backend hardware"
expect 2 enclave-run --debug --lines "$S/hello.eimg" < <(echo hi)
expect_err "--debug applies to the hardware backend and to Nitro images"
expect 2 enclave-run --cpus 2 "$S/hello.eimg"
expect_err "--cpus applies to Nitro images only"
expect 2 enclave-run --preflight --backend simulation
expect 2 enclave-run --attestation-out a.json "$S/hello-hw.eimg"
expect_err "on SGX hardware an attestation is a quote"
expect_no_file a.json
# what the preflight finds decides the exact message (enclave-run --preflight prints it)
case_begin hardware_preflight_no_device
if [ -e /dev/sgx_enclave ]; then
	echo "  (this machine has /dev/sgx_enclave: the no-device checks do not apply)"
else
	expect 1 enclave-run --preflight
	expect_out "^device: /dev/sgx_enclave missing$"
	expect_out "^CPU: SGX1 (yes|no), SGX2 (yes|no), Flexible Launch Control (yes|no)$"
	expect_one_line_err
	pf_out=$out pf_err=$errtxt
	if grep -qw sgx /proc/cpuinfo && grep -qw sgx_lc /proc/cpuinfo; then
		why="the kernel has SGX but the device node is missing: in a container pass it through (docker run --device /dev/sgx_enclave), else check that devtmpfs is mounted on /dev"
	elif grep -qw sgx /proc/cpuinfo; then
		why="the firmware locked launch control (no \"sgx_lc\" flag in /proc/cpuinfo): set SGX launch control to unlocked (FLC) in the firmware setup"
		echo "$pf_out" | grep -q "SGX1 yes.*Flexible Launch Control no" && why="the CPU has SGX but no Flexible Launch Control (CPUID leaf 7 ECX bit 30, sgx_lc): the Linux driver runs enclaves only on FLC CPUs; use another machine or the simulation backend"
	elif echo "$pf_out" | grep -q "^CPU: SGX1 no"; then
		why="the CPU does not report SGX (CPUID leaf 7 EBX bit 2 or leaf 0x12 SGX1 clear): this machine has no SGX, or SGX is disabled in the firmware setup; use the simulation backend"
	elif echo "$pf_out" | grep -q "Flexible Launch Control no"; then
		why="the CPU has SGX but no Flexible Launch Control (CPUID leaf 7 ECX bit 30, sgx_lc): the Linux driver runs enclaves only on FLC CPUs; use another machine or the simulation backend"
	else
		why="the CPU has SGX with Flexible Launch Control but the kernel did not enable it (no \"sgx\" flag in /proc/cpuinfo): Linux older than 5.11, a kernel without CONFIG_X86_SGX, or SGX disabled in the firmware setup"
	fi
	want="enclave-run: '/dev/sgx_enclave': no such device: $why"
	[ "$pf_err" = "$want" ] || _t_failmsg "preflight message: $pf_err"
	# an image built for hardware runs on the hardware backend by default: verified, then the preflight stops it
	for args in "" "--backend hardware"; do
		expect 1 enclave-run $args -q --lines "$S/hello-hw.eimg" < <(echo hi)
		[ "$errtxt" = "$want" ] || _t_failmsg "run $args: $errtxt"
		[ -z "$out" ] || _t_failmsg "something ran"
	done
	expect 1 enclave-run --lines "$S/hello-hw.eimg" < <(echo hi)
	expect_err "^enclave-run: verified '.*hello-hw.eimg': MRENCLAVE [0-9a-f]{64}, MRSIGNER [0-9a-f]{64}, hardware$"
	# the preflight of an image: verified first, its EPC need reported
	expect 1 enclave-run --preflight "$S/hello-hw.eimg"
	expect_out "^EPC needed by '.*hello-hw.eimg': [0-9]+ KiB$"
	expect 3 enclave-run --preflight "$S/unsigned.eimg"
fi
# --debug on hardware: only if the signature allows it (checked before the platform)
case_begin hardware_debug_needs_debug_signature
expect 3 enclave-run --debug -q --lines "$S/hello-hw.eimg" < <(echo hi)
expect_err "^enclave-run: '.*hello-hw.eimg': --debug: the signature is production-only \\(DEBUG is in its attribute mask and clear\\): run without --debug, or sign an image built with 'debug: true'$"
expect_err "verification failed \\(1 check\\); nothing was run"
mkdir -p hwd && cp "$B/examples/hello/hello.elf" "$B/examples/hello/greeting.txt" hwd/ &&
	sed 's/^mode: simulation/mode: hardware/; s/^  threads: 1/  threads: 1\n  debug: true/' "$B/examples/hello/enclave.yaml" > hwd/enclave.yaml
expect 0 build_signed hello-hw-debug "$PWD/hwd"
if [ ! -e /dev/sgx_enclave ]; then
	expect 1 enclave-run --debug --lines "$S/hello-hw-debug.eimg" < <(echo hi)
	expect_err "verified .*hardware \\(debug launch\\)$"
	expect_err "^enclave-run: '/dev/sgx_enclave': no such device"
fi
case_begin elf_linked_for_hardware
# the manifest says simulation, the ELF carries the hardware runtime
make -s -C "$EIMG_TOP/test/enclaves/probe" MODE=hardware BUILDDIR="$B/test/enclaves/probe-hw" RT_BUILD="$B/runtime" >/dev/null ||
	_t_failmsg "cannot build the probe with the hardware runtime"
expect 0 build_signed probe-hw "$B/test/enclaves/probe-hw"
expect 4 enclave-run -q --lines "$S/probe-hw.eimg" < <(echo hi)
expect_out "linked with the enclave runtime for another mode"
expect_err "relink it with the runtime of the image's mode"
case_begin expect_mismatch
expect 3 enclave-run --lines --expect 0000000000000000000000000000000000000000000000000000000000000000 "$S/hello.eimg" < <(echo hi)
expect_err "expected 0{64}"
expect_err "$MRE"
[ -z "$out" ] || _t_failmsg "something ran"
case_begin expect_match
expect 0 enclave-run -q --lines --expect "mrenclave:$MRE" --expect "mrsigner:$MRS" "$S/hello.eimg" < <(echo ok)
expect_out "enclave, ok!"
case_begin constraint_match
expect 0 enclave-run -q --lines --constraint "C:$MRE SEC:INSECURE" "$S/hello.eimg" < <(echo ok)
expect_out "enclave, ok!"
case_begin constraint_mismatch
expect 3 enclave-run -q --lines --constraint "S:$(echo "$MRS" | tr 0-9a-f 1-9a-f0) PROD:7 SEC:INSECURE" "$S/hello.eimg" < <(echo ok)
expect_err "constraint (S|C/S): expected"
expect_err "constraint PROD: expected"
[ -z "$out" ] || _t_failmsg "something ran"
case_begin constraint_secure_refuses_simulation
expect 3 enclave-run -q --lines --constraint "C:$MRE" "$S/hello.eimg" < <(echo ok)
expect_err "constraint SEC"

# ---- supervision: the sandbox, faults, aborts
probe() { expect "$1" enclave-run -q --lines "$S/probe.eimg" < <(printf 'echo before\n%s\necho after\n' "$2"); }
case_begin sandbox_raw_syscall
probe 5 syscall
expect_out "^before$"
expect_err "sandbox violation: the enclave made system call getpid \\(39\\) at enclave offset 0x[0-9a-f]+"
echo "$out" | grep -q "getpid returned" && _t_failmsg "the system call returned to the enclave"
echo "$out" | grep -q "^after$" && _t_failmsg "the enclave kept running"
case_begin sandbox_forged_channel_frame
enclave-run -q --listen "unix:$PWD/s" "$S/probe.eimg" 2>err & pid=$!
for i in $(seq 50); do [ -S s ] && break; sleep 0.1; done
child=$(cat /proc/$pid/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -1)
chfd=$(ls /proc/$child/fd 2>/dev/null | head -1)
[ -n "$chfd" ] || _t_failmsg "cannot find the child's channel"
got=$($CLIENT "unix:$PWD/s" send:1:"forge $chfd" recv:1)
wait $pid; rc=$?
[ $rc = 5 ] || _t_failmsg "exit $rc: $(cat err)"
grep -q "broke the channel protocol: unknown frame type" err || _t_failmsg "message: $(cat err)"
echo "$got" | grep -q "^4	" || _t_failmsg "the client was not told: $got"
case_begin fault_outside_region
probe 4 segv
# (the loader keeps a guard page on each side: the access faults whatever else is mapped)
expect_err "enclave fault: memory access .* outside the enclave, by code at enclave offset"
case_begin fault_write_to_code
probe 4 wild
expect_err "enclave fault: memory access not permitted by the page permissions .* at address enclave offset"
case_begin fault_stack_overflow
probe 4 stack
expect_err "enclave fault"
case_begin enclave_abort
probe 4 abort
expect_err "the enclave aborted"
case_begin handler_error_continues
probe 0 fail
expect_out "^error: the enclave's handler returned error 7$"
expect_out "^after$"
case_begin reply_too_big
expect 0 enclave-run -q --lines --max-message 100 "$S/probe.eimg" < <(printf 'big 101\nbig 100\n')
expect_out "^error: the reply of 101 bytes exceeds the message limit of 100 bytes$"
expect_out "^x{100}$"
case_begin heap_reuse
probe 0 heap
expect_out "^allocated [0-9]+ blocks of 1 KiB, realloc ok 1$"
case_begin runtime_printf
probe 0 fmt
expect_out '^\[  -42\|ab  \|beef\|z\|-9000000000\|7\|tru\|\+5\|0\|%\]$'
case_begin runtime_self_relocation
readelf -r "$B/test/enclaves/probe/probe.elf" | grep -q R_X86_64_RELATIVE || _t_failmsg "the probe has no relocations to test"
probe 0 reloc
expect_out "^alpha beta gamma$"
case_begin runtime_log_and_mode
expect 0 enclave-run --lines "$S/probe.eimg" < <(printf 'log secret-free text\nmode\n')
expect_err "enclave-run: enclave: secret-free text"
expect_out "^mode 2 threads 1 log 1$"
case_begin mock_gdb_steps_into_enclave
if ! command -v gdb >/dev/null || [ -n "${EIMG_SANITIZE:-}" ]; then echo "skipped: no gdb (or sanitizer build)"; else
	echo gdbtest > in
	cat > g.gdb <<EOF2
set pagination off
set confirm off
break eimg_sim_call
run --mock --lines -q $S/hello.eimg < in
eval "add-symbol-file $B/examples/hello/hello.elf -o %lu", (unsigned long) eimg_sim_base(e)
break enclave_on_message
continue
info args
continue
EOF2
	expect 0 timeout 120 gdb -q -batch -x g.gdb "$EIMG_BIN/enclave-run"
	expect_out "hit Breakpoint 2, enclave_on_message \\(msg=.*\"gdbtest\""
	expect_out "Hello from inside the enclave, gdbtest!"
fi
case_begin mock_no_sandbox_still_verifies
expect 3 enclave-run --mock --lines "$S/unsigned.eimg" < <(echo hi)

# ---- malformed frames
# binary replies: keep them in bin.out, show them without NUL bytes
run_bin() { local rc; enclave-run "$@" > bin.out; rc=$?; tr -d '\0' < bin.out; return $rc; }
case_begin frame_too_long
printf '\0\x10\0\x01\0\0\0\0' > in
expect 1 run_bin -q "$S/hello.eimg" < in
expect_err "standard input: frame of 1048577 bytes exceeds the message limit of 1048576 bytes"
case_begin frame_bad_code
{ frame ok; printf '\0\0\0\x01\0\0\0\x09x'; } > in
expect 1 run_bin -q "$S/hello.eimg" < in
expect_err "code 9"
echo "$out" | grep -q "enclave, ok!" || _t_failmsg "the good frame before was not answered"
case_begin frame_truncated
{ frame ok; printf '\0\0\0\x09\0\0\0\0abc'; } > in
expect 1 run_bin -q "$S/hello.eimg" < in
expect_err "input ended inside a frame: 3 of 9 payload bytes"
case_begin frame_truncated_header
printf '\0\0\0' > in
expect 1 run_bin -q "$S/hello.eimg" < in
expect_err "inside a frame header"
case_begin line_too_long
head -c 200 /dev/zero | tr '\0' a > in
expect 1 enclave-run -q --lines --max-message 100 "$S/hello.eimg" < in
expect_err "line longer than the message limit of 100 bytes"
case_begin socket_malformed_frame_keeps_serving
enclave-run -q --listen "unix:$PWD/s" "$S/hello.eimg" 2>err & pid=$!
for i in $(seq 50); do [ -S s ] && break; sleep 0.1; done
got=$($CLIENT "unix:$PWD/s" raw:bad:7fffffff00000000 recv:bad eof:bad send:good:fine recv:good)
echo "$got" | grep -q "^3	malformed request: frame of 2147483647 bytes" || _t_failmsg "no error frame: $got"
echo "$got" | grep -q "^0	Hello from inside the enclave, fine!" || _t_failmsg "server stopped serving: $got"
kill -INT $pid; wait $pid; rc=$?
[ $rc = 0 ] || _t_failmsg "SIGINT exit $rc: $(cat err)"

# ---- sockets, threads, signals, processes
case_begin tcp_loopback
enclave-run -q --listen tcp:0 "$S/hello.eimg" 2>err & pid=$!
for i in $(seq 50); do grep -q "listening on" err && break; sleep 0.1; done
addr=$(sed -n 's/.*listening on \(tcp:127.0.0.1:[0-9]*\).*/\1/p' err)
[ -n "$addr" ] || _t_failmsg "no address: $(cat err)"
got=$($CLIENT "$addr" send:1:tcp recv:1)
[ "$got" = "0	Hello from inside the enclave, tcp!" ] || _t_failmsg "reply: $got"
kill -TERM $pid; wait $pid
case_begin threads_run_concurrently
enclave-run -q --listen "unix:$PWD/s" "$S/probe2.eimg" 2>err & pid=$!
for i in $(seq 50); do [ -S s ] && break; sleep 0.1; done
got=$($CLIENT "unix:$PWD/s" send:a:block send:b:release recv:b recv:a)
echo "$got" | grep -q "released from TCS [01]" || _t_failmsg "release: $got"
echo "$got" | grep -q "unblocked on TCS [01]" || _t_failmsg "block: $got"
kill -TERM $pid; wait $pid
case_begin sigterm_no_stray_process
enclave-run -q --listen "unix:$PWD/s" "$S/hello.eimg" 2>err & pid=$!
for i in $(seq 50); do [ -S s ] && break; sleep 0.1; done
child=$(cat /proc/$pid/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -1)
[ -n "$child" ] || _t_failmsg "no sandbox child process found"
kill -TERM $pid; wait $pid; rc=$?
[ $rc = 0 ] || _t_failmsg "exit $rc"
[ -n "$child" ] && kill -0 "$child" 2>/dev/null && _t_failmsg "child $child still exists"
[ -e s ] && _t_failmsg "socket file left behind"
case_begin sandbox_child_fds_closed
enclave-run -q --listen "unix:$PWD/s" "$S/hello.eimg" 2>err 3>/dev/null 7>/dev/null & pid=$!
for i in $(seq 50); do [ -S s ] && break; sleep 0.1; done
child=$(cat /proc/$pid/task/*/children 2>/dev/null | tr -s ' ' '\n' | grep . | head -1)
nfd=$(ls /proc/$child/fd 2>/dev/null | wc -l)
[ "$nfd" = 1 ] || _t_failmsg "the sandbox child has $nfd descriptors open (want 1: its channel): $(ls -l /proc/$child/fd 2>&1)"
grep -q "^Seccomp:[[:space:]]*2" /proc/$child/status || _t_failmsg "no seccomp filter on the child"
kill -TERM $pid; wait $pid
case_begin listen_low_descriptor_limit
# More clients than RLIMIT_NOFILE allows: no poll(2) failure, no busy loop; the
# extra connections wait in the backlog and are served once others leave.
rm -f low.sock
(ulimit -n 16; exec enclave-run -q --lines --listen "unix:$PWD/low.sock" "$S/hello.eimg") 2>low.err &
lowpid=$!
for _ in $(seq 50); do [ -S low.sock ] && break; sleep 0.1; done
"${PYTHON:-/usr/bin/python3}" - "$lowpid" "$PWD/low.sock" <<'P' || _t_failmsg "enclave-run misbehaved under a low descriptor limit: $(cat low.err)"
import os, socket, sys, time
pid, path = int(sys.argv[1]), sys.argv[2]
def cpu():
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
socks = []
for _ in range(40):
    s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(5); socks.append(s)
c0 = cpu(); time.sleep(1.0); used = cpu() - c0
assert used < 0.5, "busy loop: %.2f s of CPU in 1 s" % used
socks[0].sendall(b"one\n")
assert socks[0].recv(100).endswith(b"one!\n")
for s in socks: s.close()
time.sleep(0.3)
s = socket.socket(socket.AF_UNIX); s.connect(path); s.settimeout(5); s.sendall(b"two\n")
assert s.recv(100).endswith(b"two!\n")
P
kill "$lowpid" 2>/dev/null; wait "$lowpid" 2>/dev/null
grep -q "poll" low.err && _t_failmsg "poll failed: $(cat low.err)"

case_begin listen_socket_in_use
enclave-run -q --listen "unix:$PWD/s" "$S/hello.eimg" 2>err & pid=$!
for i in $(seq 50); do [ -S s ] && break; sleep 0.1; done
expect 1 enclave-run -q --listen "unix:$PWD/s" "$S/hello.eimg"
expect_err "another process is listening"
kill -TERM $pid; wait $pid
case_begin runtime_ingress_listens
mkdir -p src && cp "$B/examples/hello/hello.elf" "$B/examples/hello/greeting.txt" src/ &&
	{ cat "$B/examples/hello/enclave.yaml"; printf 'runtime:\n  ingress: [0]\n'; } > src/enclave.yaml
expect 0 build_signed rt "$PWD/src"
mv "$S/rt.eimg" .
enclave-run -q rt.eimg 2>err & pid=$!
for i in $(seq 50); do grep -q "listening on" err && break; sleep 0.1; done
addr=$(sed -n 's/.*listening on \(tcp:127.0.0.1:[0-9]*\).*/\1/p' err)
[ -n "$addr" ] || _t_failmsg "the image's ingress was not used: $(cat err)"
[ -n "$addr" ] && { got=$($CLIENT "$addr" send:1:ingress recv:1); [ "$got" = "0	Hello from inside the enclave, ingress!" ] || _t_failmsg "reply: $got"; }
kill -TERM $pid; wait $pid
expect 0 enclave-run -q --stdio --lines rt.eimg < <(echo here)
expect_out "enclave, here!"
expect 2 enclave-run --stdio --listen tcp:0 rt.eimg
case_begin host_out_of_memory
if [ -n "${EIMG_SANITIZE:-}" ]; then echo "skipped under sanitizers (ulimit -v)"; else
	mkdir -p src && cp "$B/examples/hello/hello.elf" "$B/examples/hello/greeting.txt" src/ &&
		sed 's/heap_size: .*/heap_size: 64M/' "$B/examples/hello/enclave.yaml" > src/enclave.yaml
	expect 0 build_signed big "$PWD/src"
	expect 1 sh -c 'ulimit -v 150000 && exec enclave-run --lines "$0" < /dev/null' "$S/big.eimg"
	expect_err "cannot reserve 128 MiB of address space for the enclave"
	echo "$errtxt" | grep -q "enclave: hello enclave ready" && _t_failmsg "enclave code ran"
fi
case_begin broken_stdout
{ sleep 0.3; echo a; } | enclave-run -q --lines "$S/hello.eimg" 2>err | true
rc=${PIPESTATUS[1]}
[ "$rc" = 1 ] || _t_failmsg "exit $rc with a closed standard output"
grep -q "standard output: Broken pipe (replies were lost)" err || _t_failmsg "message: $(cat err)"
case_begin listen_bad_address
expect 2 enclave-run -q --listen "tcp:10.0.0.1:80" "$S/hello.eimg"
expect_err "loopback only"

finish
