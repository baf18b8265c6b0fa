#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# enclave-push, and enclave-measure/enclave-run pulling by reference, against a real
# registry started here (registry_lib.sh): push, pull by tag and by digest, the statement
# (referrer) listed and verified by an independent Python check, blobs and manifests
# altered in the registry's storage (exit 3, nothing runs), 404, wrong media types, bad
# references, skopeo's view.  Nitro images: test_registry_nitro.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_lib.sh"
registry_setup

case_begin push-sgx-with-statement
expect 0 enclave-push -k "$S/release.pem" "$S/hello.eimg" "$R/apps/hello:v1"
expect_out "^digest: +sha256:[0-9a-f]{64}$"
expect_out "^reference: +oci://"
expect_out "^target: +sgx$"
expect_out "^statement: +sha256:[0-9a-f]{64} \(fallback tag\)$"
D=$(echo "$out" | sed -n 's/^digest: *//p')
# --print: the bare value, the same as the text and JSON say
expect 0 enclave-push --print pinned "$S/hello.eimg" "$R/apps/hello:print"
[ "$out" = "$R/apps/hello@$D" ] || _t_failmsg "--print pinned: $out (digest $D)"
expect 2 enclave-push -q --print digest "$S/hello.eimg" "$R/apps/hello:print"
expect_err "^enclave-push: -q prints nothing: not with --print"
expect 2 enclave-push --json --print digest "$S/hello.eimg" "$R/apps/hello:print"
# independent check from the specs: digests, the fallback-tag index, DSSE signature, subject
expect 0 $HELP check "http://127.0.0.1:$PORT" apps/hello v1 "$S/hello.eimg" "$S/release.pub"
[ "$(echo "$out" | head -1)" = "$D" ] || _t_failmsg "the Python check sees digest $(echo "$out" | head -1), enclave-push said $D"
pred=$(echo "$out" | tail -1)
[ "$(echo "$pred" | json_field mrenclave)" = "$MRE" ] || _t_failmsg "statement mrenclave differs from enclave-measure's"
[ "$(echo "$pred" | json_field target)" = sgx ] || _t_failmsg "statement target is not sgx"
[ "$(echo "$pred" | json_field isvsvn)" = 1 ] || _t_failmsg "statement isvsvn is not 1: $pred"

case_begin push-json-schema-and-reproducible
expect 0 enclave-push --json "$S/hello.eimg" "$R/apps/hello:again"
echo "$out" > push.json
expect 0 "$PY" -c 'import json,sys,jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' push.json "$EIMG_TOP/schemas/push-output.schema.json"
[ "$(json_field digest < push.json)" = "$D" ] || _t_failmsg "the same image pushed twice has two digests"
[ "$(json_field statement < push.json)" = None ] || _t_failmsg "a statement without -k"

case_begin skopeo-cross-check
if command -v skopeo >/dev/null; then
	skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$PORT/apps/hello:v1" > raw.json || _t_failmsg "skopeo cannot read the manifest"
	[ "sha256:$(sha256sum < raw.json | cut -d' ' -f1)" = "$D" ] || _t_failmsg "skopeo's manifest digest differs"
	grep -q '"artifactType":"application/vnd.enclaveimg.image.v1"' raw.json || _t_failmsg "no artifactType in skopeo's view"
	skopeo inspect --tls-verify=false --raw "docker://127.0.0.1:$PORT/apps/hello:sha256-${D:7}" | grep -q 'application/vnd.in-toto+json' ||
		_t_failmsg "skopeo does not list the statement in the fallback tag"
else
	echo "  (skopeo not installed: cross-check skipped)"
fi

case_begin pull-by-tag-and-digest
export TMPDIR=$PWD/tmp; mkdir -p tmp
expect 0 enclave-measure --json "$R/apps/hello:v1"
[ "$(echo "$out" | json_field mrenclave)" = "$MRE" ] || _t_failmsg "pulled image measures differently"
expect_err "apps/hello:v1 is $R/apps/hello@$D"
expect 0 enclave-measure --expect "$MRE" "$R/apps/hello@$D"
expect 0 enclave-measure "$R/apps/hello:v1@$D"
[ -z "$(ls tmp)" ] || _t_failmsg "the pulled file was left behind: $(ls tmp)"
unset TMPDIR

case_begin statement-verified
expect 0 enclave-measure --statement-key "$S/release.pub" "$R/apps/hello@$D"
expect_err "statement sha256:[0-9a-f]{64} verified"
expect 3 enclave-measure --statement-key "$S/other.pub" "$R/apps/hello:v1"
expect_one_line_err; expect_err "not signed by the key in '.*other.pub'"
expect 0 enclave-push "$S/hello.eimg" "$R/apps/nostatement:v1"
expect 3 enclave-measure --statement-key "$S/release.pub" "$R/apps/nostatement:v1"
expect_one_line_err; expect_err "no measurement statement refers to this image"
expect 2 enclave-measure --statement-key "$S/release.pub" "$S/hello.eimg"

case_begin statement-of-another-image
# an image signed with the same key, its statement copied under the first image's
# fallback tag: the signature is good, the subject is not this image
expect 0 enclave-build -q -f "$B/examples/average/enclave.yaml" -o avg.eimg
expect 0 enclave-sign --in-place -k "$S/release.pem" avg.eimg
expect 0 enclave-push -k "$S/release.pem" avg.eimg "$R/apps/swap:avg"
D2=$(echo "$out" | sed -n 's/^digest: *//p')
expect 0 enclave-push "$S/hello.eimg" "$R/apps/swap:hello"
skopeo_copy_tag() { # repo from-tag to-tag (the index bytes, unchanged)
	"$PY" - "http://127.0.0.1:$PORT" "$1" "$2" "$3" <<'P'
import sys, urllib.request
base, repo, a, b = sys.argv[1:]
t = "application/vnd.oci.image.index.v1+json"
body = urllib.request.urlopen(urllib.request.Request(f"{base}/v2/{repo}/manifests/{a}", headers={"Accept": t})).read()
urllib.request.urlopen(urllib.request.Request(f"{base}/v2/{repo}/manifests/{b}", data=body, method="PUT", headers={"Content-Type": t}))
P
}
expect 0 skopeo_copy_tag apps/swap "sha256-${D2:7}" "sha256-${D:7}"
expect 3 enclave-measure --statement-key "$S/release.pub" "$R/apps/swap:hello"
expect_one_line_err; expect_err "does not refer to $D"

case_begin run-by-digest
expect 0 sh -c "echo world | enclave-run --lines --statement-key '$S/release.pub' --expect $MRE '$R/apps/hello@$D'"
expect_out "Hello from inside the enclave, world"
expect 3 sh -c "echo world | enclave-run --lines --expect $(printf '%064d' 0) '$R/apps/hello@$D'"
[ -z "$out" ] || _t_failmsg "the enclave ran: $out"
expect 3 sh -c "echo world | enclave-run --lines --constraint 'S:$(printf '%064d' 0) PROD:1' '$R/apps/hello:v1'"
[ -z "$out" ] || _t_failmsg "the enclave ran: $out"

case_begin altered-blob-refused
export TMPDIR=$PWD/tmp; mkdir -p tmp
expect 0 enclave-push "$S/hello.eimg" "$R/apps/tamper:v1"
layer=$(sha256sum "$S/hello.eimg" | cut -d' ' -f1)
f=$(blob_file "$S/reg" "sha256:$layer")
[ -f "$f" ] || _t_failmsg "no blob file $f"
cp "$f" blob.orig; flip_byte "$f" 1000
expect 3 enclave-measure "$R/apps/tamper:v1"
expect_one_line_err; expect_err "blob sha256:$layer: the content does not match its digest"
expect 3 sh -c "echo world | enclave-run --lines '$R/apps/tamper@$D'"
[ -z "$out" ] || _t_failmsg "the enclave ran: $out"
expect_err "nothing was run"
[ -z "$(ls tmp)" ] || _t_failmsg "an altered download was left behind: $(ls tmp)"
head -c 5000 blob.orig > "$f"
expect 3 enclave-measure "$R/apps/tamper:v1"
expect_err "5000 bytes received, the manifest says"
cp blob.orig "$f"
# the manifest itself altered in storage: by tag and by digest
mf=$(blob_file "$S/reg" "$D"); cp "$mf" man.orig
sed -i 's/"dev.enclaveimg.target":"sgx"/"dev.enclaveimg.target":"sgy"/' "$mf"
expect 3 enclave-measure "$R/apps/tamper@$D"
expect_one_line_err; expect_err "the registry sent content of digest"
expect 3 enclave-measure "$R/apps/tamper:v1"
expect_one_line_err; expect_err "the registry says $D"
cp man.orig "$mf"
expect 0 enclave-measure "$R/apps/tamper:v1"
[ -z "$(ls tmp)" ] || _t_failmsg "files left behind: $(ls tmp)"
unset TMPDIR

case_begin not-found-and-wrong-type
expect 1 enclave-measure "$R/apps/hello:nosuchtag"
expect_one_line_err; expect_err "manifest 'nosuchtag': HTTP 404 not found \(MANIFEST_UNKNOWN"
expect 1 enclave-measure "$R/apps/nosuchrepo@sha256:$(printf '%064d' 0)"
expect_one_line_err; expect_err "HTTP 404"
echo 'not an enclave' > other.bin
expect 0 $HELP push-raw "http://127.0.0.1:$PORT" apps/other v1 other.bin application/vnd.oci.image.layer.v1.tar application/vnd.example.thing
expect 1 enclave-measure "$R/apps/other:v1"
expect_one_line_err; expect_err "not an enclave image: artifact type 'application/vnd.example.thing'"
expect 0 skopeo_copy_tag apps/hello "sha256-${D:7}" index
expect 1 enclave-measure "$R/apps/hello:index"
expect_one_line_err; expect_err "unknown media type 'application/vnd.oci.image.index.v1\+json'"
expect 1 enclave-run "$R/apps/hello:index"
expect_err "nothing was run"

case_begin bad-references-and-usage
for ref in "oci://" "oci://127.0.0.1:$PORT" "oci://127.0.0.1:99999/a:b" "oci://127.0.0.1:$PORT/UPPER:v1" \
	"oci://127.0.0.1:$PORT/a:-bad" "oci://127.0.0.1:$PORT/a@sha256:abc" "oci://127.0.0.1:$PORT/a//b:v1"; do
	expect 1 enclave-measure "$ref"
	expect_one_line_err
done
expect 2 enclave-push "$S/hello.eimg"
expect 2 enclave-push "$S/hello.eimg" "$S/out.eimg"
expect 2 enclave-push "$S/hello.eimg" "$R/apps/hello@$D"
expect_err "not a digest"
expect 2 enclave-push --timeout 0 "$S/hello.eimg" "$R/apps/hello:v1"
expect 2 enclave-push --passphrase-env X "$S/hello.eimg" "$R/apps/hello:v1"
expect 1 enclave-push "$S/app-unsigned.eif" "$R/apps/eif:v1"
expect_err "is an EIF"
cp "$S/hello.eimg" bad.eimg; flip_byte bad.eimg 3000
expect 1 enclave-push bad.eimg "$R/apps/bad:v1"
expect_one_line_err; expect_err "'bad.eimg': "
expect 1 enclave-measure "$R/apps/bad:v1"

# Progress of blob transfers on a terminal (script(1)); never with -q or into a pipe.
case_begin progress-on-a-terminal
if command -v script >/dev/null; then
	export TMPDIR=$PWD/tmp; mkdir -p tmp
	script -qec "enclave-push $S/hello.eimg $R/apps/tty:v1" /dev/null </dev/null > push.txt 2>&1 || _t_failmsg "push on a terminal: $(tail -c 300 push.txt)"
	tr '\r' '\n' < push.txt | sed 's/\x1b\[K//g' | grep -aqE '^uploading: (.+) of \1 \(100%\), ' ||
		_t_failmsg "no finished uploading line: $(head -c 300 push.txt | cat -v)"
	script -qec "enclave-measure $R/apps/tty:v1" /dev/null </dev/null > pull.txt 2>&1 || _t_failmsg "pull on a terminal: $(tail -c 300 pull.txt)"
	tr '\r' '\n' < pull.txt | sed 's/\x1b\[K//g' | grep -aqE '^downloading: (.+) of \1 \(100%\), ' ||
		_t_failmsg "no finished downloading line: $(head -c 300 pull.txt | cat -v)"
	script -qec "enclave-push -q $S/hello.eimg $R/apps/tty2:v1" /dev/null </dev/null > q.txt 2>&1
	script -qec "enclave-measure -q $R/apps/tty2:v1" /dev/null </dev/null >> q.txt 2>&1
	grep -aqE "uploading|downloading" q.txt && _t_failmsg "progress drawn with -q: $(head -c 300 q.txt | cat -v)"
	expect 0 enclave-push "$S/hello.eimg" "$R/apps/tty3:v1"
	echo "$errtxt" | grep -q "uploading" && _t_failmsg "progress drawn into a pipe"
	unset TMPDIR
else
	echo "  (script(1) not installed: not checked)"
fi

finish
