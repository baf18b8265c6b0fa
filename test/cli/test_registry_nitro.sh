#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Nitro images through a registry (registry_lib.sh): the EIF inside the image pushed as a
# layer of media type application/vnd.aws.nitro.eif (checked byte for byte), pulled by
# digest with the signed statement (PCRs) verified, enclave-run --dry-run from a
# reference, and an EIF pushed alone as `oras push` does, pulled and measured.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_lib.sh"
registry_setup

case_begin nitro-image-and-eif-layer
expect 0 enclave-push -k "$S/nitro.key" "$S/app.eimg" "$R/apps/nitro:v1"
DN=$(echo "$out" | sed -n 's/^digest: *//p')
"$PY" -c 'import tarfile,sys; open("inner.eif","wb").write(tarfile.open(sys.argv[1]).extractfile("enclave.eif").read())' "$S/app.eimg"
"$PY" - "http://127.0.0.1:$PORT" "$(sha256sum inner.eif | cut -d' ' -f1)" <<'P' || _t_failmsg "no EIF layer with the image's EIF"
import json, sys, urllib.request
base, want = sys.argv[1:]
t = "application/vnd.oci.image.manifest.v1+json"
m = json.load(urllib.request.urlopen(urllib.request.Request(base + "/v2/apps/nitro/manifests/v1", headers={"Accept": t})))
eif = [l for l in m["layers"] if l["mediaType"] == "application/vnd.aws.nitro.eif"]
assert eif and eif[0]["digest"] == "sha256:" + want, m
assert eif[0]["annotations"]["org.opencontainers.image.title"] == "app.eif"
P
P0=$(enclave-measure --json "$S/app.eimg" | json_field measurements.pcr0)
expect 0 enclave-measure --statement-key "$S/nitro.pub" --expect "PCR0:$P0" "$R/apps/nitro@$DN"
expect 0 enclave-run --dry-run --statement-key "$S/nitro.pub" --expect "PCR0:$P0" "$R/apps/nitro:v1"
expect_out "^nitro-cli run-enclave"
# an EIF pushed alone, as `oras push app.eif:application/vnd.aws.nitro.eif` does
expect 0 $HELP push-raw "http://127.0.0.1:$PORT" apps/eifonly v1 inner.eif application/vnd.aws.nitro.eif application/vnd.aws.nitro.eif
expect 0 enclave-measure --expect "PCR0:$P0" "$R/apps/eifonly:v1"
expect_out "^eif_version: "

finish
