#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Checks schemas/manifest.schema.json: it is a valid JSON Schema (draft
2020-12), accepts the documented example manifests and rejects manifests
that enclave-manifest(5) calls invalid.  Exit 0 pass, 1 fail, 77 skipped
(PyYAML or jsonschema missing)."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(HERE))

try:
    import yaml
    import jsonschema
except ImportError as e:  # pragma: no cover
    print("test_manifest_schema: skipped: %s" % e)
    sys.exit(77)

failures = []

SGX_FULL = """
version: 1
name: hello
target: sgx
mode: simulation
sgx:
  enclave: app.elf
  heap_size: 1M
  stack_size: 64K
  threads: 1
  ssa_frames: 2
  ssa_frame_size: 1
  product_id: 0
  security_version: 0
  debug: false
  allow_write_exec: false
  xfrm: 0x3
  xfrm_mask: 0xffffffffffffff1b
  misc_select: 0
  misc_mask: 0xffffffff
  kss: true
  isv_family_id: 000102030405060708090a0b0c0d0e0f
files:
  - path: data/greeting.txt
    name: greeting.txt
user_keys:
  - path: keys/alice.pub.pem
    name: alice
runtime:
  log_level: info
"""

NITRO_FULL = """
version: 1
name: web
target: nitro
nitro:
  kernel: bzImage
  kernel_config: bzImage.config
  cmdline: "reboot=k panic=30 pci=off nomodules console=ttyS0"
  init: init
  app: rootfs/
  entrypoint: ["/bin/hello", "--flag"]
  memory: 512M
  cpus: 2
  ingress: [8080]
  egress:
    allow: ["*.amazonaws.com", "10.0.0.0/8"]
    deny: []
"""

SGX_MIN = "version: 1\nname: hello\ntarget: sgx\nsgx: {enclave: app.elf}\n"
NITRO_MIN = ("version: 1\nname: web\ntarget: nitro\nnitro: {kernel: k, cmdline: c, init: i, app: a,"
             " entrypoint: [/bin/x]}\n")

VALID = [SGX_FULL, NITRO_FULL, SGX_MIN, NITRO_MIN,
         "version: 1\nname: a\ntarget: sgx\nsgx: {enclave: e, xfrm: '0x7', misc_mask: 1}\n"]

INVALID = {
    "version 2": SGX_MIN.replace("version: 1", "version: 2"),
    "name starting with a dot": SGX_MIN.replace("name: hello", "name: .x"),
    "name too long": SGX_MIN.replace("name: hello", "name: " + "a" * 65),
    "unknown target": SGX_MIN.replace("target: sgx", "target: tdx"),
    "unknown top key": SGX_MIN + "extra: 1\n",
    "unknown sgx key": "version: 1\nname: a\ntarget: sgx\nsgx: {enclave: e, heapsize: 1M}\n",
    "missing sgx": "version: 1\nname: a\ntarget: sgx\n",
    "missing enclave": "version: 1\nname: a\ntarget: sgx\nsgx: {threads: 1}\n",
    "nitro section with sgx": SGX_MIN + "nitro: {}\n",
    "sgx section with nitro": NITRO_MIN + "sgx: {enclave: e}\n",
    "files with nitro": NITRO_MIN + "files: []\n",
    "simulation with nitro": NITRO_MIN + "mode: simulation\n",
    "threads 0": "version: 1\nname: a\ntarget: sgx\nsgx: {enclave: e, threads: 0}\n",
    "threads 1025": "version: 1\nname: a\ntarget: sgx\nsgx: {enclave: e, threads: 1025}\n",
    "debug as text": "version: 1\nname: a\ntarget: sgx\nsgx: {enclave: e, debug: 'yes'}\n",
    "bad size": "version: 1\nname: a\ntarget: sgx\nsgx: {enclave: e, heap_size: lots}\n",
    "kss fields without kss": "version: 1\nname: a\ntarget: sgx\nsgx: {enclave: e, isv_family_id: "
                              "000102030405060708090a0b0c0d0e0f}\n",
    "short family id": "version: 1\nname: a\ntarget: sgx\nsgx: {enclave: e, kss: true, isv_family_id: '00'}\n",
    "file entry without path": SGX_MIN + "files: [{name: x}]\n",
    "file name ..": SGX_MIN + "files: [{path: p, name: '..'}]\n",
    "file name with slash": SGX_MIN + "files: [{path: p, name: a/b}]\n",
    "empty entrypoint": NITRO_MIN.replace("[/bin/x]", "[]"),
    "empty argv0": NITRO_MIN.replace("[/bin/x]", "['']"),
    "cpus 65": NITRO_MIN.replace("}\n", ", cpus: 65}\n"),
    "port 0": NITRO_MIN.replace("}\n", ", ingress: [0]}\n"),
    "duplicate port": NITRO_MIN.replace("}\n", ", ingress: [80, 80]}\n"),
    "egress with a space": NITRO_MIN.replace("}\n", ", egress: {allow: ['a b']}}\n"),
    "control character in cmdline": NITRO_MIN.replace("cmdline: c", 'cmdline: "a\\tb"'),
    "mask too wide": "version: 1\nname: a\ntarget: sgx\nsgx: {enclave: e, misc_mask: '0x100000000'}\n",
}


def main():
    with open(os.path.join(TOP, "schemas", "manifest.schema.json")) as f:
        schema = json.load(f)
    cls = jsonschema.Draft202012Validator
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as e:
        print("test_manifest_schema: FAIL: not a valid schema: %s" % e.message)
        return 1
    v = cls(schema)
    for i, text in enumerate(VALID):
        doc = yaml.safe_load(text)
        errs = sorted(v.iter_errors(doc), key=str)
        if errs:
            failures.append("valid manifest %d rejected: %s" % (i, errs[0].message))
    for what, text in INVALID.items():
        doc = yaml.safe_load(text)
        if v.is_valid(doc):
            failures.append("invalid manifest accepted: %s" % what)
    # Every key of the schema is documented in enclave-manifest(5) (".It Ic key").
    with open(os.path.join(TOP, "man", "enclave-manifest.5")) as f:
        page = f.read()
    documented = set()
    for line in page.splitlines():
        if line.startswith(".It Ic "):
            for word in line[len(".It Ic "):].replace(",", " ").split():
                if word not in ("Ic", "Pq") and not word.startswith("("):
                    documented.add(word)

    def keys(node):
        if isinstance(node, dict):
            for k, val in node.items():
                if k == "properties":
                    for name in val:
                        yield name
                yield from keys(val)
        elif isinstance(node, list):
            for item in node:
                yield from keys(item)
    for name in sorted(set(keys(schema))):
        if name not in documented:
            failures.append("key %r is not documented in man/enclave-manifest.5" % name)
    for f_ in failures:
        print("test_manifest_schema: FAIL: %s" % f_)
    if failures:
        return 1
    print("test_manifest_schema: ok (%d valid, %d invalid manifests)" % (len(VALID), len(INVALID)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
