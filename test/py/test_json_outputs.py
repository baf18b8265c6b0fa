#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Every JSON the tools print, validated against its schema (draft 2020-12):
enclave-build, enclave-measure (SGX image, signed image, SGXS, EIF, Nitro
image, --diff, --attestation, --pcr8), enclave-sign (sign, verify, show, key,
Nitro signing), the
attestation document enclave-run writes and the canonical manifest inside an
image.  Every schema is itself valid and has its $id under
https://enclaveimg.dev/schemas/.  Every key the tools choose is snake_case
(nitro-cli's names only inside "nitro_cli").  Exit 0 pass, 1 fail, 77 skipped."""
import glob
import json
import os
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(TOP, os.environ.get("BUILDDIR", "build"))
BIN = os.environ.get("EIMG_BIN") or os.path.join(BUILD, "bin")
sys.path.insert(0, HERE)
import supervisor_env  # noqa: E402
supervisor_env.ensure(BIN)
SCHEMAS = os.path.join(TOP, "schemas")

try:
    import jsonschema
except ImportError as e:  # pragma: no cover
    print("skipped: %s" % e)
    sys.exit(77)

HELLO = os.path.join(BUILD, "examples", "hello", "enclave.yaml")
NITRO = os.path.join(BUILD, "examples", "nitro", "enclave.yaml")
if not (os.path.exists(HELLO) and os.path.exists(NITRO) and os.access(os.path.join(BIN, "enclave-run"), os.X_OK)):
    print("skipped: tools or examples not built (make all examples)")
    sys.exit(77)

failures = []
checked = {}


def schema(name):
    with open(os.path.join(SCHEMAS, name)) as f:
        return json.load(f)


def tool(*args, ok=(0,), stdin=None):
    env = dict(os.environ, SOURCE_DATE_EPOCH="0")
    p = subprocess.run([os.path.join(BIN, args[0]), *args[1:]], capture_output=True, env=env, input=stdin)
    if p.returncode not in ok:
        raise SystemExit("%s failed (%d): %s" % (" ".join(args), p.returncode, p.stderr.decode()))
    return p.stdout.decode()


# One naming convention: every key the tools choose is snake_case.  Not
# chosen by them: nitro-cli's names under "nitro_cli" (kept for comparing with
# nitro-cli), what a file holds (an image's manifest, an EIF's docker_info and
# custom_metadata) and X.509 attribute names of a certificate's names.
VERBATIM = {"nitro_cli", "manifest", "docker_info", "custom_metadata", "issuer_name", "subject_name"}
SNAKE = __import__("re").compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def snake_keys(name, doc, path=""):
    if isinstance(doc, list):
        for i, v in enumerate(doc):
            snake_keys(name, v, "%s[%d]" % (path, i))
    elif isinstance(doc, dict):
        for k, v in doc.items():
            if not SNAKE.match(k):
                failures.append("%s: key %r at %s is not snake_case" % (name, k, path or "top"))
            if k not in VERBATIM:
                snake_keys(name, v, path + "." + k)


def check(name, text, schema_name, expect_fail=False):
    try:
        doc = json.loads(text)
    except ValueError as e:
        failures.append("%s: not JSON: %s" % (name, e))
        return
    if not expect_fail and not name.startswith("manifest.json"):
        snake_keys(name, doc)
    try:
        jsonschema.validate(doc, schema(schema_name), cls=jsonschema.Draft202012Validator)
        if expect_fail:
            failures.append("%s: %s accepts what it must reject" % (name, schema_name))
    except jsonschema.ValidationError as e:
        if not expect_fail:
            failures.append("%s: does not follow %s: %s at %s" % (name, schema_name, e.message, list(e.path)))
    checked[schema_name] = checked.get(schema_name, 0) + 1


def check_schemas():
    for path in sorted(glob.glob(os.path.join(SCHEMAS, "*.schema.json"))):
        s = schema(os.path.basename(path))
        try:
            jsonschema.Draft202012Validator.check_schema(s)
        except jsonschema.SchemaError as e:
            failures.append("%s: not a valid schema: %s" % (path, e.message))
        if s.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            failures.append("%s: not draft 2020-12" % path)
        want = "https://enclaveimg.dev/schemas/" + os.path.basename(path)
        if s.get("$id") != want:
            failures.append("%s: $id is %r, want %r" % (path, s.get("$id"), want))


def sgx_outputs(d):
    img, signed, sgxs = (os.path.join(d, n) for n in ("hello.eimg", "signed.eimg", "hello.sgxs"))
    key, pub = os.path.join(d, "key.pem"), os.path.join(d, "key.pub")
    subprocess.run(["openssl", "genrsa", "-3", "-out", key, "3072"], check=True, capture_output=True)
    subprocess.run(["openssl", "rsa", "-in", key, "-pubout", "-out", pub], check=True, capture_output=True)
    check("enclave-build --json (sgx)", tool("enclave-build", "-f", HELLO, "-o", img, "--json"), "build-output.schema.json")
    check("enclave-measure --json IMAGE", tool("enclave-measure", "--json", "--sgxs", sgxs, img), "measure-output.schema.json")
    check("enclave-measure --json SGXS", tool("enclave-measure", "--json", sgxs), "measure-output.schema.json")
    check("enclave-sign --json", tool("enclave-sign", "--json", "-k", key, "-o", signed, img), "sign-output.schema.json")
    check("enclave-sign verify --json", tool("enclave-sign", "verify", "--json", signed), "sign-output.schema.json")
    check("enclave-sign show --json", tool("enclave-sign", "show", "--json", signed), "sign-output.schema.json")
    check("enclave-sign key --json", tool("enclave-sign", "key", "--json", "-k", pub), "key-output.schema.json")
    check("enclave-measure --json SIGNED", tool("enclave-measure", "--json", signed), "measure-output.schema.json")
    check("enclave-measure --diff --json", tool("enclave-measure", "--diff", "--json", img, signed),
          "diff-output.schema.json")
    with tarfile.open(img) as t:
        manifest = t.extractfile("manifest.json").read().decode()
    check("manifest.json in an SGX image", manifest, "canonical-manifest.schema.json")
    att = os.path.join(d, "att.json")
    tool("enclave-run", "-q", "--lines", "--attestation-out", att, signed, stdin=b"world\n")
    with open(att) as f:
        doc = f.read()
    check("enclave-run --attestation-out", doc, "attestation-document.schema.json")
    payload = __import__("base64").b64decode(json.loads(doc)["payload"])
    check("attestation payload", json.dumps({"payload": json.loads(payload)}), "attestation-document.schema.json",
          expect_fail=True)
    validate_payload(json.loads(payload))
    check("enclave-measure --attestation --json", tool("enclave-measure", "--attestation", att, "--json"),
          "attestation-output.schema.json")


def validate_payload(payload):
    s = schema("attestation-document.schema.json")
    sub = dict(s["$defs"]["payload"], **{"$defs": s["$defs"]})
    try:
        jsonschema.validate(payload, sub, cls=jsonschema.Draft202012Validator)
    except jsonschema.ValidationError as e:
        failures.append("attestation payload: %s at %s" % (e.message, list(e.path)))


def nitro_outputs(d):
    img, eif = os.path.join(d, "app.eimg"), os.path.join(d, "app.eif")
    check("enclave-build --json (nitro)", tool("enclave-build", "-f", NITRO, "-o", img, "--eif", eif, "--json"),
          "build-output.schema.json")
    check("enclave-measure --json EIF", tool("enclave-measure", "--json", eif), "measure-output.schema.json")
    check("enclave-measure --json NITRO IMAGE", tool("enclave-measure", "--json", img), "measure-output.schema.json")
    k, c = os.path.join(d, "n.key"), os.path.join(d, "n.pem")
    subprocess.run(["openssl", "ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", k], check=True)
    subprocess.run(["openssl", "req", "-x509", "-new", "-key", k, "-subj", "/CN=r", "-days", "2", "-out", c],
                   check=True, capture_output=True)
    check("enclave-sign key --json --cert", tool("enclave-sign", "key", "--json", "--cert", c), "key-output.schema.json")
    signed = os.path.join(d, "app.signed.eimg")
    check("enclave-sign --json (nitro)", tool("enclave-sign", "--json", "-k", k, "--cert", c, "-o", signed, img),
          "sign-output.schema.json")
    check("enclave-measure --json SIGNED NITRO", tool("enclave-measure", "--json", signed), "measure-output.schema.json")
    check("enclave-sign verify --json (nitro)", tool("enclave-sign", "verify", "--json", signed),
          "measure-output.schema.json")
    check("enclave-measure --pcr8 --json", tool("enclave-measure", "--pcr8", c, "--json"), "pcr8-output.schema.json")
    with tarfile.open(img) as t:
        manifest = t.extractfile("manifest.json").read().decode()
    check("manifest.json in a Nitro image", manifest, "canonical-manifest.schema.json")


def negative():
    # The schemas can fail: a wrong hex length, an unknown member.
    check("bad key output", '{"mrsigner": "00"}', "key-output.schema.json", expect_fail=True)
    check("bad sign output", '{"mrsigner": "x"}', "sign-output.schema.json", expect_fail=True)
    # nitro-cli's names are an alias inside "nitro_cli", not the output's own names.
    check("nitro-cli names at the top", '{"target": "nitro", "Measurements": {"PCR0": "%s"}}' % ("0" * 96),
          "build-output.schema.json", expect_fail=True)
    check("bad pcr8 output", '{"PCR8": "%s"}' % ("0" * 96), "pcr8-output.schema.json", expect_fail=True)
    bad = []
    snake_keys("probe", {"ok_name": 1, "nitro_cli": {"PCR0": 1}, "BadName": {"x": 1}})
    bad, failures[:] = failures[-1:], failures[:-1]
    if bad != ["probe: key 'BadName' at top is not snake_case"]:
        failures.append("the snake_case check does not catch a PascalCase key: %s" % bad)
    check("bad attestation document", '{"format": "enclave-attestation 1", "signer": "dcap", "payload": "",'
          ' "quote": "", "key": ""}', "attestation-document.schema.json", expect_fail=True)


def main():
    check_schemas()
    with tempfile.TemporaryDirectory() as d:
        sgx_outputs(d)
        nitro_outputs(d)
    negative()
    for f in failures:
        print("FAIL", f)
    print("checked: " + ", ".join("%s x%d" % kv for kv in sorted(checked.items())))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
