#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Makes container images for tests, from the OCI image-spec alone (no
Docker, no network): an OCI image layout folder, an OCI archive (the folder
as a tar), or a docker-archive (`docker save`'s manifest.json layout).

A layer is a list of entries (Python tuples):
  ("dir", path, mode)   ("file", path, mode, bytes)   ("symlink", path, target)
  ("hardlink", path, target)   ("whiteout", path)   ("opaque", folder)
  ("chardev", path)     ("raw", tarinfo, bytes)    (anything, for hostile cases)

Command line (for shell tests):  oci_make.py SPEC.json OUT [--format layout|oci-archive|docker-archive]
SPEC.json: {"layers": [[["file","a","0644","text"], ...], ...], "config": {...},
            "platforms": ["linux/amd64", ...], "compression": "gzip|zstd|none"}
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

MT_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_INDEX = "application/vnd.oci.image.index.v1+json"
MT_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = {"none": "application/vnd.oci.image.layer.v1.tar",
            "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
            "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}


def layer_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            kind = e[0]
            if kind == "raw":
                info, data = e[1], e[2]
                t.addfile(info, io.BytesIO(data) if data else None)
                continue
            path = e[1]
            if kind == "whiteout":
                d, b = os.path.split(path)
                path = os.path.join(d, ".wh." + b)
            elif kind == "opaque":
                path = os.path.join(path, ".wh..wh..opq")
            info = tarfile.TarInfo(path)
            info.uid, info.gid, info.mtime = 1000, 1000, 1234567890
            info.uname = info.gname = "builder"
            data = None
            if kind == "dir":
                info.type, info.mode = tarfile.DIRTYPE, int(e[2], 8)
            elif kind == "file":
                data = e[3].encode() if isinstance(e[3], str) else e[3]
                info.mode, info.size = int(e[2], 8), len(data)
            elif kind == "symlink":
                info.type, info.linkname, info.mode = tarfile.SYMTYPE, e[2], 0o777
            elif kind == "hardlink":
                info.type, info.linkname, info.mode = tarfile.LNKTYPE, e[2], 0o644
            elif kind == "chardev":
                info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            elif kind in ("whiteout", "opaque"):
                info.mode = 0o644
            else:
                raise ValueError(kind)
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def compress(data, how):
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c"], input=data, stdout=subprocess.PIPE, check=True).stdout
    return data


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


class Blobs:
    def __init__(self):
        self.blobs = {}

    def put(self, data):
        d = sha(data)
        self.blobs[d] = data
        return d


def image(blobs, layers, config, platform, compression):
    os_, arch = platform.split("/")[:2]
    descs, diff_ids = [], []
    for entries in layers:
        raw = layer_tar(entries)
        stored = compress(raw, compression)
        diff_ids.append(sha(raw))
        descs.append({"mediaType": MT_LAYER[compression], "digest": blobs.put(stored), "size": len(stored)})
    cfg = {"architecture": arch, "os": os_, "config": config,
           "rootfs": {"type": "layers", "diff_ids": diff_ids}}
    cfg_b = json.dumps(cfg, sort_keys=True).encode()
    man = {"schemaVersion": 2, "mediaType": MT_MANIFEST,
           "config": {"mediaType": MT_CONFIG, "digest": blobs.put(cfg_b), "size": len(cfg_b)},
           "layers": descs}
    man_b = json.dumps(man, sort_keys=True).encode()
    return {"mediaType": MT_MANIFEST, "digest": blobs.put(man_b), "size": len(man_b),
            "platform": {"architecture": arch, "os": os_}}, cfg_b, diff_ids


def write_layout(out, blobs, index):
    os.makedirs(os.path.join(out, "blobs", "sha256"), exist_ok=True)
    for d, b in blobs.blobs.items():
        with open(os.path.join(out, "blobs", "sha256", d[7:]), "wb") as f:
            f.write(b)
    with open(os.path.join(out, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f)


def tar_folder(folder, out):
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
        for name in sorted(os.listdir(folder)):
            t.add(os.path.join(folder, name), arcname=name)


def make(spec, out, fmt="layout"):
    """Writes the image; returns {platform: manifest digest}."""
    layers = spec["layers"]
    config = spec.get("config", {"Cmd": ["/bin/app"]})
    platforms = spec.get("platforms", ["linux/amd64"])
    compression = spec.get("compression", "gzip")
    blobs = Blobs()
    if fmt == "docker-archive":
        return docker_archive(out, layers, config, platforms[0])
    descs = [image(blobs, layers, config, p, compression)[0] for p in platforms]
    if len(descs) == 1 and not spec.get("nested_index"):
        index = {"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": descs}
    else:
        sub = json.dumps({"schemaVersion": 2, "mediaType": MT_INDEX, "manifests": descs}, sort_keys=True).encode()
        index = {"schemaVersion": 2, "mediaType": MT_INDEX,
                 "manifests": [{"mediaType": MT_INDEX, "digest": blobs.put(sub), "size": len(sub)}]}
    folder = out if fmt == "layout" else out + ".d"
    write_layout(folder, blobs, index)
    if fmt == "oci-archive":
        tar_folder(folder, out)
    return {p: d["digest"] for p, d in zip(platforms, descs)}


def docker_archive(out, layers, config, platform):
    os_, arch = platform.split("/")[:2]
    members, names, diff_ids = {}, [], []
    for i, entries in enumerate(layers):
        raw = layer_tar(entries)
        diff_ids.append(sha(raw))
        name = "%064x/layer.tar" % (i + 1)
        members[name] = raw
        names.append(name)
    cfg = json.dumps({"architecture": arch, "os": os_, "config": config,
                      "rootfs": {"type": "layers", "diff_ids": diff_ids}}, sort_keys=True).encode()
    cname = hashlib.sha256(cfg).hexdigest() + ".json"
    members[cname] = cfg
    members["manifest.json"] = json.dumps([{"Config": cname, "RepoTags": ["app:latest"], "Layers": names}]).encode()
    with tarfile.open(out, "w") as t:
        for n, b in members.items():
            info = tarfile.TarInfo(n)
            info.size = len(b)
            t.addfile(info, io.BytesIO(b))
    return {platform: ""}


def main():
    spec = json.load(open(sys.argv[1]))
    fmt = "layout"
    if len(sys.argv) > 4 and sys.argv[3] == "--format":
        fmt = sys.argv[4]
    digests = make(spec, sys.argv[2], fmt)
    print(json.dumps(digests))


if __name__ == "__main__":
    main()
