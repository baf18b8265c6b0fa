#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Registry access (registry_lib.sh): registry down, a partial download and 5xx (each one
# line, nothing left behind); the referrers API and 403 against a small in-memory registry
# of distribution-spec 1.1 (oci_registry.py); the statement signed by a key in a PKCS#11
# token.  Authentication: test_registry_auth.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_lib.sh"
registry_setup

case_begin registry-down
down=$($HELP port)
expect 1 enclave-measure "oci://127.0.0.1:$down/apps/hello:v1"
expect_one_line_err; expect_err "cannot reach the registry at http://127.0.0.1:$down"
expect 1 enclave-push "$S/hello.eimg" "oci://127.0.0.1:$down/apps/hello:v1"
expect_one_line_err; expect_err "cannot reach the registry"

case_begin https-unless-loopback
# a registry not on loopback is spoken to over HTTPS unless --plain-http says otherwise
expect 1 enclave-measure "oci://registry.invalid/apps/hello:v1"
expect_one_line_err; expect_err "cannot reach the registry at https://registry.invalid"
expect 1 enclave-measure --plain-http "oci://registry.invalid:8080/apps/hello:v1"
expect_one_line_err; expect_err "cannot reach the registry at http://registry.invalid:8080"

case_begin referrers-api-and-403
mp=$($HELP port)
$HELP mini-registry "$mp" &
pids+=($!)
$HELP wait "http://127.0.0.1:$mp/v2/" || _t_failmsg "the mini registry did not start"
expect 0 enclave-push -k "$S/release.pem" "$S/hello.eimg" "oci://127.0.0.1:$mp/apps/hello:v1"
expect_out "^statement: +sha256:[0-9a-f]{64} \(referrers API\)$"
DM=$(echo "$out" | sed -n 's/^digest: *//p')
expect 0 enclave-measure --statement-key "$S/release.pub" "oci://127.0.0.1:$mp/apps/hello@$DM"
expect_err "statement sha256:[0-9a-f]{64} verified"
expect 3 enclave-measure --statement-key "$S/other.pub" "oci://127.0.0.1:$mp/apps/hello:v1"
# no fallback tag when the registry indexes the subject itself
expect 1 enclave-measure "oci://127.0.0.1:$mp/apps/hello:sha256-${DM:7}"
expect_err "HTTP 404"
expect 1 enclave-measure "oci://127.0.0.1:$mp/forbidden/hello:v1"
expect_one_line_err; expect_err "HTTP 403 forbidden \(DENIED: requested access to the resource is denied\)"
expect 1 enclave-push "$S/hello.eimg" "oci://127.0.0.1:$mp/forbidden/hello:v1"
expect_one_line_err; expect_err "HTTP 403 forbidden"

case_begin statement-signed-in-a-token
# the release key in a PKCS#11 token (SoftHSM2), signing through a pkcs11: URI
MOD=$(ls /usr/lib/softhsm/libsofthsm2.so /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so 2>/dev/null | head -1)
if [ -n "$MOD" ] && command -v softhsm2-util >/dev/null && openssl engine pkcs11 -t >/dev/null 2>&1; then
	printf 'leak:ENGINE_by_id\nleak:ENGINE_remove\n' > lsan.supp
	mkdir -p tokens
	printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' "$PWD" > softhsm2.conf
	export SOFTHSM2_CONF=$PWD/softhsm2.conf
	softhsm2-util --init-token --free --label eimg-test --pin 1234 --so-pin 5678 >/dev/null &&
		openssl pkcs8 -topk8 -nocrypt -in "$S/release.pem" -out key8.pem &&
		softhsm2-util --import key8.pem --token eimg-test --label rel --id 01 --pin 1234 >/dev/null ||
		_t_failmsg "SoftHSM2 set-up failed"
	printf '1234\n' > pin.txt
	LSAN_OPTIONS="suppressions=$PWD/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" expect 0 enclave-push \
		-k "pkcs11:token=eimg-test;object=rel;type=private" --pkcs11-module "$MOD" --passphrase-file pin.txt \
		"$S/hello.eimg" "oci://127.0.0.1:$mp/apps/hsm:v1"
	expect 0 enclave-measure --statement-key "$S/release.pub" "oci://127.0.0.1:$mp/apps/hsm:v1"
	expect_err "statement sha256:[0-9a-f]{64} verified"
	unset SOFTHSM2_CONF
else
	echo "  (SoftHSM2 or the pkcs11 engine missing: skipped)"
fi

case_begin partial-download-and-5xx
export TMPDIR=$PWD/tmp; mkdir -p tmp
fp=$($HELP port)
"$PY" - "$fp" "$S/hello.eimg" <<'P' &
import hashlib, http.server, json, sys
port, path = int(sys.argv[1]), sys.argv[2]
data = open(path, "rb").read()
d = "sha256:" + hashlib.sha256(data).hexdigest()
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "artifactType": "application/vnd.enclaveimg.image.v1",
    "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
    "layers": [{"mediaType": "application/vnd.enclaveimg.image.v1.tar", "digest": d, "size": len(data)}]}).encode()
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if "/unavailable/" in self.path:
            self.send_response(503); self.send_header("Content-Length", "0"); self.end_headers(); return
        if "/manifests/" in self.path:
            self.send_response(200); self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            self.send_header("Content-Length", str(len(man))); self.end_headers(); self.wfile.write(man); return
        self.send_response(200); self.send_header("Content-Length", str(len(data))); self.end_headers()
        self.wfile.write(data[:len(data) // 2])   # then the connection closes: a partial download
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
P
pids+=($!)
$HELP wait "http://127.0.0.1:$fp/v2/" || _t_failmsg "the fake registry did not start"
expect 1 enclave-measure "oci://127.0.0.1:$fp/apps/partial:v1"
expect_one_line_err; expect_err "cannot reach the registry|partial"
expect 1 enclave-measure "oci://127.0.0.1:$fp/unavailable/x:v1"
expect_one_line_err; expect_err "HTTP 503 registry error"
[ -z "$(ls tmp)" ] || _t_failmsg "a partial download was left behind: $(ls tmp)"
unset TMPDIR

finish
