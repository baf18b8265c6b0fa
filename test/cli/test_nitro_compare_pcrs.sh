#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/nitro-compare-pcrs, the operators' check against nitro-cli, run here
# with stand-ins on PATH (nitro_cli_standin.py: `nitro-cli build-enclave`,
# `nitro-cli describe-eif` in nitro-cli's JSON shape, and `docker save`),
# which compute the EIF and its PCRs independently (test/py/eif_ref.py, the
# boot-strap ramdisk from enclave-nitro(7)).  Equal PCR1 and agreeing
# describe-eif output: exit 0; a different PCR1 (another command line) or a
# describe-eif that disagrees with enclave-measure's nitro_cli alias: exit 3;
# no nitro-cli: exit 1.  Also that the alias the script reads
# (`.nitro_cli.Measurements` of enclave-measure --json) is there.
. "$(dirname "$0")/lib.sh"
PY=${PYTHON:-/usr/bin/python3}
SCRIPT=$EIMG_TOP/scripts/nitro-compare-pcrs
"$PY" -c 'import cryptography' 2>/dev/null || { echo "skipped: python3-cryptography not installed"; exit 77; }

case_begin setup
mkdir -p bin
for t in nitro-cli docker; do
	printf '#!/bin/sh\nexec "%s" "%s" %s "$@"\n' "$PY" "$EIMG_TOP/test/cli/nitro_cli_standin.py" "$t" > "bin/$t"
	chmod 755 "bin/$t"
done
"$EIMG_TOP/examples/nitro/make-placeholders.sh" "$PWD/blobs" || _t_failmsg "make-placeholders.sh failed"
cat > spec.json <<'J'
{"layers": [[["dir", "bin", "0755"], ["file", "bin/app", "0755", "#!/bin/sh\necho hello\n"]]],
 "config": {"Cmd": ["/bin/app"]}, "compression": "gzip"}
J
# NITRO_CLI_BLOBS not set: the script must hand its BLOBS_DIR to nitro-cli
# (else the stand-in, like nitro-cli, reads /usr/share/nitro_enclaves/blobs)
unset NITRO_CLI_BLOBS
export STANDIN_IMAGE_SPEC=$PWD/spec.json
S=$PWD
run_script() { # expected exit, then the environment changes
	local want=$1; shift
	out=$(env PATH="$S/bin:$PATH" "$@" bash "$SCRIPT" app:latest "$S/blobs" 2>"$_t_root/.stderr"); rc=$?
	errtxt=$(cat "$_t_root/.stderr")
	[ "$rc" = "$want" ] || _t_failmsg "exit $rc, expected $want: $(echo "$out" | tail -5) $(echo "$errtxt" | tail -3)"
}

case_begin equal-pcrs
run_script 0
expect_out "^PCR1: equal$"
expect_out "^PCR0: different, as expected"
expect_out "^nitro-cli.eif: enclave-measure's nitro_cli.Measurements equal nitro-cli describe-eif's$"
expect_out "^ours1.eif: enclave-measure's nitro_cli.Measurements equal"
expect_out "^PASS"
# the PCR1 printed is the independent one: the stand-in's EIF described by eif_ref.py
p1=$(echo "$out" | sed -n 's/^PCR1 nitro-cli  *//p')
[ ${#p1} = 96 ] || _t_failmsg "no PCR1 printed: $out"
[ "$(echo "$out" | sed -n 's/^PCR1 enclave-build  *//p')" = "$p1" ] || _t_failmsg "PCR1 lines differ: $out"

case_begin different-pcr1
run_script 3 STANDIN_CMDLINE_EXTRA=" quiet"
expect_out "^PCR1: DIFFERENT"
expect_out "^FAIL"

case_begin alias-disagrees
run_script 3 STANDIN_LIE_PCR2=1
expect_out "^ours1.eif: enclave-measure's nitro_cli.Measurements DIFFER"
expect_out "^FAIL"

case_begin no-nitro-cli
mkdir -p nobin; ln -sf "$S/bin/docker" nobin/docker
out=$(env PATH="$PWD/nobin:/usr/bin:/bin" EIMG_BIN="$EIMG_BIN" bash "$SCRIPT" app:latest "$S/blobs" 2>&1); rc=$?
[ "$rc" = 1 ] || _t_failmsg "exit $rc without nitro-cli: $out"
echo "$out" | grep -q "nitro-cli is not installed" || _t_failmsg "no message: $out"

case_begin alias-in-measure-json
# what the script reads: enclave-measure --json's nitro_cli.Measurements,
# with describe-eif's key names, for an EIF and an image
mkdir -p n && cp -r "$S/blobs" n/ && cat > n/enclave.yaml <<'Y'
version: 1
name: alias
target: nitro
nitro:
  blobs: blobs
  app: app
  entrypoint: ["/bin/app"]
Y
mkdir -p n/app/bin && printf '#!/bin/sh\n' > n/app/bin/app && chmod 755 n/app/bin/app
expect 0 enclave-build -q -f n/enclave.yaml -o a.eimg --eif a.eif
for f in a.eif a.eimg; do
	expect 0 enclave-measure --json "$f"
	echo "$out" | "$PY" -c 'import json, sys
d = json.load(sys.stdin)
m = d["nitro_cli"]["Measurements"]
assert m["HashAlgorithm"] == "Sha384 { ... }", m
for p in ("PCR0", "PCR1", "PCR2"):
    assert m[p] == d["measurements"][p.lower()], p' || _t_failmsg "$f: no nitro_cli.Measurements alias: $(echo "$out" | head -c 300)"
done
finish
