#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Registry access (registry_lib.sh): registry down, a partial download and 5xx (each one
# line, nothing left behind), Basic authentication (htpasswd) with credentials from
# --auth-file, $REGISTRY_AUTH_FILE or ~/.docker/config.json, and Bearer tokens from a
# token service (a small Python one issuing ES256 JWTs the registry trusts); the referrers
# API and 403 against a small in-memory registry of distribution-spec 1.1 (oci_registry.py).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_lib.sh"
registry_setup

case_begin registry-down
down=$($HELP port)
expect 1 enclave-measure "oci://127.0.0.1:$down/apps/hello:v1"
expect_one_line_err; expect_err "cannot reach the registry at http://127.0.0.1:$down"
expect 1 enclave-push "$S/hello.eimg" "oci://127.0.0.1:$down/apps/hello:v1"
expect_one_line_err; expect_err "cannot reach the registry"

case_begin referrers-api-and-403
mp=$($HELP port)
$HELP mini-registry "$mp" &
pids+=($!)
$HELP wait "http://127.0.0.1:$mp/v2/" || _t_failmsg "the mini registry did not start"
expect 0 enclave-push -k "$S/release.pem" "$S/hello.eimg" "oci://127.0.0.1:$mp/apps/hello:v1"
expect_out "^statement: sha256:[0-9a-f]{64} \(referrers API\)$"
DM=$(echo "$out" | sed -n 's/^digest: //p')
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

case_begin basic-auth
pw=$("$PY" -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))')
echo "alice:$pw" > htpasswd
start_registry "$PWD/breg" "auth:
  htpasswd:
    realm: test
    path: $PWD/htpasswd"
RB=oci://127.0.0.1:$PORT
expect 1 env REGISTRY_AUTH_FILE=/nonexistent/none HOME=$PWD enclave-push "$S/hello.eimg" "$RB/apps/hello:v1"
expect_one_line_err
printf '{"auths":{"127.0.0.1:%s":{"auth":"%s"}}}\n' "$PORT" "$(printf alice:wrong | base64)" > wrong.json
expect 1 enclave-push --auth-file wrong.json "$S/hello.eimg" "$RB/apps/hello:v1"
expect_one_line_err; expect_err "HTTP 401 unauthorized"
mkdir -p home/.docker
printf '{"auths":{"http://127.0.0.1:%s":{"auth":"%s"}}}\n' "$PORT" "$(printf alice:s3cret | base64)" > home/.docker/config.json
expect 0 env -u REGISTRY_AUTH_FILE -u DOCKER_CONFIG HOME=$PWD/home enclave-push -k "$S/release.pem" "$S/hello.eimg" "$RB/apps/hello:v1"
cp home/.docker/config.json auth.json
expect 0 env REGISTRY_AUTH_FILE=$PWD/auth.json HOME=/nonexistent enclave-measure --statement-key "$S/release.pub" "$RB/apps/hello:v1"
expect 1 env REGISTRY_AUTH_FILE=/nonexistent HOME=/nonexistent enclave-measure "$RB/apps/hello:v1"
expect_one_line_err; expect_err "HTTP 401 unauthorized"
echo '{"auths": ' > broken.json
expect 1 enclave-measure --auth-file broken.json "$RB/apps/hello:v1"
expect_one_line_err; expect_err "not a credentials file"

case_begin bearer-token-auth
openssl ecparam -name prime256v1 -genkey -noout -out tok.key 2>/dev/null
openssl req -x509 -new -key tok.key -subj /CN=token-issuer -days 30 -out tok.pem 2>/dev/null
tp=$($HELP port)
$HELP token-server "$tp" tok.pem tok.key bob:hunter2 test-registry &
pids+=($!)
$HELP wait "http://127.0.0.1:$tp/token" || _t_failmsg "the token service did not start"
start_registry "$PWD/treg" "auth:
  token:
    realm: http://127.0.0.1:$tp/token
    service: test-registry
    issuer: test-issuer
    rootcertbundle: $PWD/tok.pem"
RT=oci://127.0.0.1:$PORT
printf '{"auths":{"127.0.0.1:%s":{"username":"bob","password":"hunter2"}}}\n' "$PORT" > auth.json
expect 0 enclave-push --auth-file auth.json -k "$S/release.pem" "$S/hello.eimg" "$RT/team/hello:v1"
expect 0 enclave-measure --auth-file auth.json --statement-key "$S/release.pub" "$RT/team/hello:v1"
expect 1 env REGISTRY_AUTH_FILE=/nonexistent HOME=/nonexistent enclave-measure "$RT/team/hello:v1"
expect_one_line_err; expect_err "token service refused: HTTP 401 \(no credentials"
printf '{"auths":{"127.0.0.1:%s":{"username":"bob","password":"nope"}}}\n' "$PORT" > bad.json
expect 1 enclave-measure --auth-file bad.json "$RT/team/hello:v1"
expect_one_line_err; expect_err "credentials refused"

finish
