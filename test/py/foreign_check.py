# SPDX-License-Identifier: Apache-2.0
"""What test_sdk_enclave.py and test_oe_enclave.py share: running the built
tools, recording checks, the JSON schema check of enclave-measure's output and
a SIGSTRUCT made by enclave-sign over a given MRENCLAVE (with a key made at
test time)."""
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.environ.get("EIMG_TOP") or os.path.dirname(os.path.dirname(HERE))
BIN = os.environ.get("EIMG_BIN") or os.path.join(TOP, "build", "bin")

failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def run(*args):
    p = subprocess.run([os.path.join(BIN, args[0])] + list(args[1:]), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def tools_built():
    return os.access(os.path.join(BIN, "enclave-measure"), os.X_OK)


def measure_json(path):
    """(the --json result as a dict, or None; the error line)"""
    rc, out, err = run("enclave-measure", "--json", path)
    return (json.loads(out), "") if rc == 0 else (None, err.strip())


def schema_check(path):
    try:
        import jsonschema
    except ImportError:
        print("skip schema check: python3-jsonschema not installed")
        return
    rc, out, _ = run("enclave-measure", "--json", path)
    schema = json.load(open(os.path.join(TOP, "schemas", "measure-output.schema.json")))
    try:
        jsonschema.validate(json.loads(out), schema)
        check(rc == 0, "enclave-measure --json matches schemas/measure-output.schema.json (%s)" % os.path.basename(path))
    except (jsonschema.ValidationError, ValueError) as e:
        check(False, "enclave-measure --json matches its schema: %s" % e)


def sign(d, mr, *fields):
    """A SIGSTRUCT over MRENCLAVE mr (hex) with a key made in folder d."""
    key = os.path.join(d, "key.pem")
    if not os.path.exists(key):
        subprocess.run(["openssl", "genrsa", "-3", "-out", key, "3072"], check=True, capture_output=True)
    ss = os.path.join(d, "ss.bin")
    rc, _, err = run("enclave-sign", "-k", key, "--mrenclave", mr, *fields, "-o", ss)
    check(rc == 0, "enclave-sign --mrenclave %s" % err.strip())
    return open(ss, "rb").read()


def main(prefix, parts):
    """Runs each part with a fresh temporary folder; 77 when the tools are not
    built, 1 when a check failed, else 0."""
    import shutil
    import tempfile
    if not tools_built():
        print("skipped: tools not built in %s" % BIN)
        return 77
    d = tempfile.mkdtemp(prefix=prefix)
    try:
        for part in parts:
            part(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    return 0
