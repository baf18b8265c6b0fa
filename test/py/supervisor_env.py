# SPDX-License-Identifier: Apache-2.0
"""The in-enclave supervisor that enclave-build places in Nitro images that
declare ingress or egress (man/enclave-nitro.7): sets EIMG_SUPERVISOR, when
unset, to the build tree's libexec/eimg-supervisor, else to a stand-in ELF (a copy of
/bin/true: tests that only build and measure treat its bytes as opaque)."""
import atexit
import os
import shutil
import tempfile


def ensure(bindir):
    """Returns the path EIMG_SUPERVISOR names (set here when it was not)."""
    if os.environ.get("EIMG_SUPERVISOR"):
        return os.environ["EIMG_SUPERVISOR"]
    path = os.path.join(os.path.dirname(bindir), "libexec", "eimg-supervisor")
    if not os.access(path, os.X_OK):
        tmp = tempfile.mkdtemp(prefix="eimg-supervisor-")
        atexit.register(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "eimg-supervisor-standin")
        shutil.copy("/bin/true", path)
    os.environ["EIMG_SUPERVISOR"] = path
    return path
