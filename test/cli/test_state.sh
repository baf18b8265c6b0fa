#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sealed state (enclave-runtime(3), enclave-run --state) with the test
# enclave test/enclaves/stateful: the store survives restarts, only committed
# changes do; an MRENCLAVE-bound blob opens in no other enclave; a
# signer-bound one opens in a later version from the same signer (and
# product) but not in an earlier one, another product or another signer;
# tampering and truncation are detected; killing enclave-run in the middle
# of commits never loses or breaks the last commit.
. "$(dirname "$0")/lib.sh"
B="$EIMG_TOP/${BUILDDIR:-build}"
command -v openssl >/dev/null || { echo "skipped: openssl not installed"; exit 77; }
make -s -C "$EIMG_TOP/test/enclaves/stateful" BUILDDIR="$B/test/enclaves/stateful" RT_BUILD="$B/runtime" >/dev/null ||
	{ echo "cannot build test/enclaves/stateful"; exit 1; }

case_begin setup
S=$PWD
openssl genrsa -3 -out key.pem 3072 2>/dev/null
openssl genrsa -3 -out key2.pem 3072 2>/dev/null
variant() { # NAME KEY SED-EXPRESSION: the stateful enclave with a changed manifest, signed with KEY
	mkdir -p "$1" && cp "$B/test/enclaves/stateful/stateful.elf" "$1/" &&
		sed "$3" "$B/test/enclaves/stateful/enclave.yaml" > "$1/enclave.yaml" &&
		(cd "$1" && enclave-build -q -o "$S/$1.eimg") && enclave-sign --in-place -k "$2" "$S/$1.eimg" >/dev/null
}
expect 0 variant v1 key.pem 's/^name: .*/name: stateful/'
expect 0 variant v1b key.pem 's/heap_size: 4M/heap_size: 5M/'         # another MRENCLAVE, same signer
expect 0 variant v2 key.pem 's/security_version: 1/security_version: 2/; s/heap_size: 4M/heap_size: 6M/' # the next version (new MRENCLAVE)
expect 0 variant prod key.pem 's/product_id: 7/product_id: 8/'          # another product
expect 0 variant other key2.pem 's/^name: .*/name: stateful/'          # another signer
run() { # IMAGE COMMANDS... (one per line); the replies in $out
	local img=$1; shift
	expect 0 enclave-run -q --lines --state "$S/st" "$S/$img.eimg" < <(printf '%s\n' "$@")
}

case_begin persists-across-restarts
run v1 insecure "open signer" "put colour blue" "put shape round" commit "put colour red"
[ "$(echo "$out" | head -1)" = "ok 1" ] || _t_failmsg "simulation sealing must say it is insecure: $out"
run v1 "open signer" "get colour" "get shape"
[ "$out" = "$(printf 'ok\nok blue\nok round')" ] || _t_failmsg "after a restart: $out"
expect 0 enclave-run -q --mock --lines --state "$S/st" "$S/v1.eimg" < <(printf 'open signer\nget colour\n')
[ "$out" = "$(printf 'ok\nok blue')" ] || _t_failmsg "mock mode reads the same state: $out"
[ "$(stat -c %a "$S/st")" = 700 ] || _t_failmsg "state folder mode $(stat -c %a "$S/st")"
[ "$(stat -c %a "$S/st/seal-secret.INSECURE")" = 600 ] || _t_failmsg "secret mode"
grep -qa "blue" "$S/st/state.sealed" && _t_failmsg "the state file holds a value in the clear"
expect 0 enclave-run --lines --state "$S/st" "$S/v1.eimg" < <(echo insecure)
expect_err "INSECURE"

case_begin mrenclave-bound
run v1 "seal enclave only-v1"
blob=$(echo "$out" | sed -n 's/^ok //p')
run v1 "unseal $blob"
[ "$out" = "ok only-v1" ] || _t_failmsg "the same enclave after a restart: $out"
for other in v1b v2; do
	run $other "unseal $blob"
	echo "$out" | grep -q "^error: unseal: sealed data altered, or sealed for another enclave" || _t_failmsg "$other: $out"
done

case_begin mrsigner-bound
run v1 "seal signer from-v1"
blob=$(echo "$out" | sed -n 's/^ok //p')
for same in v1b v2; do
	run $same "unseal $blob"
	[ "$out" = "ok from-v1" ] || _t_failmsg "$same (same signer and product): $out"
done
for stranger in prod other; do
	run $stranger "unseal $blob"
	echo "$out" | grep -q "^error: unseal: sealed data altered" || _t_failmsg "$stranger: $out"
done
run v2 "seal signer from-v2"
blob2=$(echo "$out" | sed -n 's/^ok //p')
run v1 "unseal $blob2"
echo "$out" | grep -q "^error: unseal: no sealing key for that version" || _t_failmsg "v1 opened v2's blob: $out"

case_begin store-upgrade-and-binding
run v1 "open signer" "put k upgraded" commit
run v2 "open signer" "get k"
[ "$out" = "$(printf 'ok\nok upgraded')" ] || _t_failmsg "v2 reads v1's signer-bound store: $out"
run v1 "open enclave" "put k mine" commit
run v1b "open enclave"
echo "$out" | grep -q "^error: open: sealed data altered" || _t_failmsg "v1b opened v1's enclave-bound store: $out"
run v1 "open enclave" "get k"
[ "$out" = "$(printf 'ok\nok mine')" ] || _t_failmsg "v1 after a restart: $out"

case_begin tamper-and-truncate
cp "$S/st/state.sealed" good
for off in 9 40 70 80 $(( $(stat -c %s good) - 1 )); do
	cp good "$S/st/state.sealed"
	# flip every bit of the byte (setting a fixed value is no change when the byte already has it)
	b=$(od -An -tu1 -j "$off" -N1 good | tr -d ' ')
	printf "\\$(printf %03o $(( b ^ 255 )))" | dd of="$S/st/state.sealed" bs=1 seek=$off conv=notrunc 2>/dev/null
	cmp -s good "$S/st/state.sealed" && _t_failmsg "byte $off was not changed"
	run v1 "open enclave"
	echo "$out" | grep -q "^error: open: " || _t_failmsg "byte $off changed: $out"
done
for len in 0 10 91 $(( $(stat -c %s good) - 1 )); do
	head -c $len good > "$S/st/state.sealed"
	run v1 "open enclave"
	case $len in 0) want="^ok$";; *) want="^error: open: (sealed data truncated|sealed data altered|not sealed data)";; esac
	echo "$out" | grep -qE "$want" || _t_failmsg "cut to $len bytes: $out"
done
cp good "$S/st/state.sealed"

case_begin crash-during-commits
run v1 "open signer" "put n 0" commit
for round in 1 2 3; do
	# many commits; enclave-run is killed (SIGKILL) somewhere in the middle
	{ echo "open signer"; for i in $(seq 1 3000); do echo "put n $i"; echo commit; done; } > cmds
	enclave-run -q --lines --state "$S/st" "$S/v1.eimg" < cmds > got 2>/dev/null & pid=$!
	sleep 0.$((RANDOM % 5 + 2))
	kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
	last=$(grep -c '^ok$' got); last=$(( last > 1 ? (last - 1) / 2 : 0 ))  # commits acknowledged on stdout
	run v1 "open signer" "get n"
	n=$(echo "$out" | sed -n '2s/^ok //p')
	echo "  round $round: killed after $last acknowledged commits, the store holds n=$n"
	# the file opens (never a torn commit) and holds at least the last acknowledged commit
	[ "$(echo "$out" | head -1)" = ok ] && [ -n "$n" ] && [ "$n" -ge "$last" ] 2>/dev/null ||
		_t_failmsg "round $round: state '$out' after $last acknowledged commits"
done
ls "$S/st" | grep -v '^state.sealed$\|^seal-secret.INSECURE$' | grep -qv '\.eimg-' && _t_failmsg "unexpected files: $(ls "$S/st")"

case_begin no-state
expect 0 enclave-run -q --lines "$S/v1.eimg" < <(printf 'open signer\nseal signer x\n')
[ "$(echo "$out" | grep -c 'the host keeps no state (enclave-run --state DIR)')" = 2 ] || _t_failmsg "$out"
touch afile
expect 1 enclave-run -q --lines --state afile "$S/v1.eimg" < /dev/null
expect_err "afile': not a folder"
expect_one_line_err
finish
