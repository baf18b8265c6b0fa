#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Progress of every long Nitro step of the four tools: enclave-build writing
# the application ramdisk (a folder, a .tar application, an OCI image after
# "reading layers"; with --eif the EIF's copy is written in the same pass,
# so no step of its own is drawn, no "copying"); enclave-measure hashing
# an image or a bare EIF and copying the member out (--eif-out);
# enclave-sign's one pass that hashes the EIF and copies it into the output
# (an image or a bare EIF, -o and --in-place, export, attach, verify);
# enclave-run's verification before the hand-off (--dry-run).  One line on
# standard error, redrawn in place ("\r", erase to the end), with the bytes
# of the total and the rate; drawn on a terminal only (script(1) gives one),
# never into a pipe, never with -q, --json or --print.  The totals are
# checked against the files themselves (the EIF's size, the application
# ramdisk's size read from the EIF header), formatted independently.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
command -v script >/dev/null || { echo "skipped: script(1) (util-linux) not installed"; exit 77; }
export SOURCE_DATE_EPOCH=1700000000

tty_run() { # out-file command...: the command with a terminal on stdin/stdout/stderr
	local f=$1; shift
	script -qec "$*" /dev/null </dev/null > "$f" 2>&1
}
# The last state of a step's line: "<step>: <done> of <total> (100%), <rate>/s".
final_line() { tr '\r' '\n' < "$1" | sed 's/\x1b\[K//g' | grep -a "^$2: " | tail -n 1; }
# The size of an EIF's last section (the application ramdisk of an unsigned
# EIF that enclave-build wrote), from its header: the section count at 26,
# the sizes at 284 + 8 i, big-endian.
last_section() { "$PY" -c '
import struct, sys
h = open(sys.argv[1], "rb").read(548)
n = struct.unpack(">H", h[26:28])[0]
print(struct.unpack(">Q", h[284 + 8 * (n - 1):292 + 8 * (n - 1)])[0])' "$1"; }
# drawn FILE STEP TOTAL: the step's line ended at TOTAL of TOTAL, redrawn in place.
drawn() {
	local line
	line=$(final_line "$1" "$2")
	echo "$line" | grep -qE "^$2: $3 of $3 \(100%\), [0-9.]+ ([KMGT]i)?B/s$" ||
		_t_failmsg "$c: no finished '$2' line of $3: '$line' in $(tr '\r' '\n' < "$1" | cat -v | head -5)"
	grep -q $'\r' "$1" || _t_failmsg "$c: the progress line is not redrawn"
	grep -q $'\x1b\[K' "$1" || _t_failmsg "$c: the progress line does not erase what a longer one left"
}

case_begin setup
nitro_inputs . nitro-progress
printf '  entrypoint: ["/bin/hello"]\n' >> enclave.yaml
head -c $((3 << 20)) /dev/urandom > app/data.bin
tar -cf app.tar -C app .
sed 's|app: app$|app: app.tar|' enclave.yaml > enclave-tar.yaml
openssl ecparam -name secp384r1 -genkey -noout -out k.pem 2>/dev/null
openssl req -new -x509 -key k.pem -subj /CN=progress -days 30 -out c.pem 2>/dev/null
expect 0 enclave-build -q -f enclave.yaml -o a.eimg --eif a.eif
expect 0 enclave-sign -q -k k.pem --cert c.pem -o s.eimg a.eimg
expect 0 enclave-sign -q -k k.pem --cert c.pem -o s.eif a.eif
expect 0 enclave-sign export -q --cert c.pem -o tbs.bin a.eif
openssl dgst -sha384 -sign k.pem -out sig.der tbs.bin
[ -s sig.der ] || _t_failmsg "openssl made no signature"
eif=$(human_size "$(stat -c %s a.eif)") seif=$(human_size "$(stat -c %s s.eif)")
rd=$(human_size "$(last_section a.eif)")
[ -n "$eif" ] && [ -n "$seif" ] && [ -n "$rd" ] || _t_failmsg "no sizes: '$eif' '$seif' '$rd'"
S=$_t_root/setup

# Each command, the steps it must draw and their totals (step=total, ...).
cp "$S/a.eimg" "$S/ip.eimg"
cp "$S/a.eif" "$S/ip.eif"
while IFS='|' read -r c steps; do
	[ -n "$c" ] || continue
	name=$(echo "$c" | tr -s ' ./$' '-' | cut -c1-60)
	case_begin "terminal-$name"
	cd "$S" || exit 1
	tty_run "$_t_root/terminal-$name/tty.txt" "$c" || _t_failmsg "$c: exit $?: $(tail -c 300 "$_t_root/terminal-$name/tty.txt")"
	IFS=',' read -r -a want <<< "$steps"
	for w in "${want[@]}"; do
		if [ "${w#!}" != "$w" ]; then # a step that must not be drawn
			grep -aq "${w#!}" "$_t_root/terminal-$name/tty.txt" && _t_failmsg "$c drew '${w#!}'"
			continue
		fi
		drawn "$_t_root/terminal-$name/tty.txt" "${w%%=*}" "${w#*=}"
	done
done <<EOF
enclave-build -f enclave.yaml -o b.eimg|writing ramdisk=$rd
enclave-build -f enclave-tar.yaml -o t.eimg|writing ramdisk=$rd
enclave-build -f enclave.yaml -o b2.eimg --eif b2.eif|writing ramdisk=$rd,!copying
enclave-measure a.eimg|hashing=$eif
enclave-measure a.eif|hashing=$eif
enclave-measure --eif-out x.eif s.eimg|hashing=$seif,copying=$seif
enclave-measure --diff s.eif s.eif|hashing=$seif
enclave-measure --diff a.eimg s.eimg|hashing=$seif
enclave-sign -k k.pem --cert c.pem -o s2.eimg a.eimg|hashing=$eif
enclave-sign -k k.pem --cert c.pem -o s2.eif a.eif|hashing=$eif
enclave-sign -k k.pem --cert c.pem --in-place ip.eimg|hashing=$eif
enclave-sign -k k.pem --cert c.pem --in-place ip.eif|hashing=$eif
enclave-sign export --cert c.pem -o tbs2.bin a.eimg|hashing=$eif
enclave-sign export --cert c.pem -o tbs3.bin a.eif|hashing=$eif
enclave-sign attach --cert c.pem --signature sig.der -o att.eimg a.eimg|hashing=$eif
enclave-sign attach --cert c.pem --signature sig.der -o att.eif a.eif|hashing=$eif
enclave-sign verify s.eimg|hashing=$seif
enclave-sign verify s.eif|hashing=$seif
enclave-run --dry-run s.eimg|hashing=$seif
enclave-run --dry-run s.eif|hashing=$seif
EOF
# What the runs on a terminal wrote is what quiet runs write (the
# signatures, ECDSA, differ each time: they must verify).
case_begin "same-outputs"
expect_same "$S/a.eimg" "$S/b.eimg"
expect_same "$S/a.eif" "$S/b2.eif"
expect 0 enclave-measure -q --eif-out y.eif "$S/s.eimg"
expect_same y.eif "$S/x.eif"
for f in s2.eimg s2.eif ip.eimg ip.eif att.eimg att.eif; do
	expect 0 enclave-sign verify -q "$S/$f"
done
cmp -s "$S/tbs.bin" "$S/tbs2.bin" && cmp -s "$S/tbs.bin" "$S/tbs3.bin" || _t_failmsg "the exported Sig_structures differ"

ex="$EIMG_TOP/${BUILDDIR:-build}/examples/nitro"
if [ -d "$ex/app.oci" ]; then # a container image: its layers, then the ramdisk
	case_begin "terminal-oci"
	cp -R "$ex/app.oci" "$ex/blobs" "$ex/enclave-oci.yaml" .
	c="enclave-build -f enclave-oci.yaml -o o.eimg --eif o.eif"
	tty_run tty.txt "$c" || _t_failmsg "$c: exit $?"
	# reading layers: the layers' stored sizes, from the image's own manifest
	layers=$("$PY" -c '
import json, sys
d = sys.argv[1]
blob = lambda dg: json.load(open(d + "/blobs/" + dg.replace(":", "/")))
m = blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"])
print(sum(l["size"] for l in m["layers"]))' app.oci)
	drawn tty.txt "reading layers" "$(human_size "$layers")"
	drawn tty.txt "writing ramdisk" "$(human_size "$(last_section o.eif)")"
	grep -aq copying tty.txt && _t_failmsg "$c drew 'copying': the EIF's copy is written in the same pass"
fi

# Never with -q, --json or --print, even on a terminal; never into a pipe.
case_begin "not-when-asked-not-to"
cd "$S" || exit 1
cp a.eimg q.eimg
cp a.eif q.eif
steps="writing ramdisk|reading layers|hashing|copying|writing"
while read -r c; do
	[ -n "$c" ] || continue
	tty_run "$_t_root/not-when-asked-not-to/t.txt" "$c" ||
		_t_failmsg "$c: exit $?: $(tail -c 300 "$_t_root/not-when-asked-not-to/t.txt")"
	grep -aqE "$steps" "$_t_root/not-when-asked-not-to/t.txt" &&
		_t_failmsg "$c drew progress: $(head -c 200 "$_t_root/not-when-asked-not-to/t.txt" | cat -v)"
done <<'EOF'
enclave-build -q -f enclave.yaml -o q1.eimg --eif q1.eif
enclave-build --json -f enclave-tar.yaml -o q2.eimg
enclave-build --print pcr0 -f enclave.yaml -o q3.eimg
enclave-measure -q a.eimg
enclave-measure --json a.eif
enclave-measure --print pcr0 a.eimg
enclave-measure -q --eif-out q4.eif s.eimg
enclave-measure --json --diff a.eif a.eif
enclave-measure -q --diff a.eimg a.eimg
enclave-sign -q -k k.pem --cert c.pem -o q5.eimg a.eimg
enclave-sign --json -k k.pem --cert c.pem -o q6.eif a.eif
enclave-sign -q -k k.pem --cert c.pem --in-place q.eimg
enclave-sign -q -k k.pem --cert c.pem --in-place q.eif
enclave-sign export -q --cert c.pem -o q7.bin a.eimg
enclave-sign attach -q --cert c.pem --signature sig.der -o q8.eif a.eif
enclave-sign verify --json s.eimg
enclave-sign verify -q s.eif
enclave-run -q --dry-run s.eimg
enclave-run --print pcr0 s.eif
EOF
for c in "enclave-build -f enclave.yaml -o p1.eimg --eif p1.eif" "enclave-measure s.eimg" \
	"enclave-sign -k k.pem --cert c.pem -o p2.eimg a.eimg" "enclave-sign -k k.pem --cert c.pem -o p3.eif a.eif" \
	"enclave-measure --eif-out p4.eif s.eimg" "enclave-run --dry-run s.eif"; do
	read -r -a argv <<< "$c"
	expect 0 "${argv[@]}"
	echo "$errtxt" | grep -qE "$steps" && _t_failmsg "$c drew progress into a pipe: $errtxt"
done
finish
