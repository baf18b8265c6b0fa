#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks examples/k8s/*.yaml, the Pods of README's "From CI to a fleet": each is one
Pod whose entrypoint is enclave-run pulling an image pinned by digest, with the signed
statement and a constraint checked before anything starts; the device-plugin resource
of its target is requested; every option it passes is one enclave-run --help lists; the
constraint parses (enclave-measure --constraint on a missing file exits 1, not 2).
Exit 0 pass, 1 fail, 77 skipped (PyYAML missing)."""
import glob
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("EIMG_BIN") or os.path.join(TOP, "build", "bin")
try:
    import yaml
except ImportError as e:  # pragma: no cover
    print("test_k8s_examples: skipped: %s" % e)
    sys.exit(77)

RESOURCE = {"sgx": "sgx.intel.com/epc", "nitro": "aws.ec2.nitro/nitro_enclaves"}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL", msg)


def check(path, help_text):
    name = os.path.basename(path)
    doc = yaml.safe_load(open(path))
    if doc.get("kind") != "Pod" or doc.get("apiVersion") != "v1":
        return fail("%s: not a v1 Pod" % name)
    c = doc["spec"]["containers"][0]
    cmd = c.get("command") or []
    if not cmd or cmd[0] != "enclave-run":
        return fail("%s: the entrypoint is not enclave-run" % name)
    for opt in [a for a in cmd[1:] if a.startswith("--")]:
        if not re.search(r"%s([^a-z0-9-]|$)" % re.escape(opt), help_text, re.M):
            fail("%s: %s is not an enclave-run option" % (name, opt))
    ref = cmd[-1]
    if not re.fullmatch(r"oci://[a-z0-9.:-]+/[a-z0-9._/-]+@sha256:[0-9a-f]{64}", ref):
        fail("%s: the image is not pulled by digest: %s" % (name, ref))
    for opt in ("--statement-key", "--constraint"):
        if opt not in cmd:
            fail("%s: no %s" % (name, opt))
    if "--constraint" in cmd:
        constraint = cmd[cmd.index("--constraint") + 1]
        r = subprocess.run([os.path.join(BIN, "enclave-measure"), "--constraint", constraint, "/nonexistent.eimg"],
                           capture_output=True, text=True)
        if r.returncode != 1:
            fail("%s: the constraint does not parse (exit %d): %s" % (name, r.returncode, r.stderr.strip()))
    target = "nitro" if "nitro" in name else "sgx"
    limits = c.get("resources", {}).get("limits", {})
    if RESOURCE[target] not in limits:
        fail("%s: no %s resource" % (name, RESOURCE[target]))
    print("ok  ", name)


def main():
    paths = sorted(glob.glob(os.path.join(TOP, "examples", "k8s", "*.yaml")))
    if len(paths) < 2:
        fail("expected an SGX and a Nitro Pod in examples/k8s")
    help_text = subprocess.run([os.path.join(BIN, "enclave-run"), "--help"], capture_output=True, text=True).stdout
    for p in paths:
        check(p, help_text)
    if failures:
        sys.exit(1)


main()
