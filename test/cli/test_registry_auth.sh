#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Registry authentication (registry_lib.sh): Basic (htpasswd) with credentials from
# --auth-file, $REGISTRY_AUTH_FILE or ~/.docker/config.json, wrong or missing ones (one
# line, HTTP 401), and Bearer tokens from a token service (a small Python one issuing
# ES256 JWTs that the registry trusts) with the credentials given to it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_lib.sh"
registry_setup

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
