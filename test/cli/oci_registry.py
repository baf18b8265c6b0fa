#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Registry helpers for test_registry.sh, written from the OCI specs
independently of the C library (standard library + `cryptography`):

  oci_registry.py port                         a free TCP port on 127.0.0.1
  oci_registry.py wait URL                     until URL answers (any status), at most 20 s
  oci_registry.py token-server PORT CERT KEY USER:PASS SERVICE
                                               a Docker token service (JWT ES256 with x5c),
                                               Basic credentials required
  oci_registry.py push-raw BASE REPO TAG FILE LAYER_TYPE ARTIFACT_TYPE
                                               one blob + an OCI manifest (as `oras push` does)
  oci_registry.py mini-registry PORT           an in-memory registry with the referrers API of
                                               distribution-spec 1.1 (OCI-Subject, GET referrers);
                                               paths under /forbidden/ answer 403
  oci_registry.py check BASE REPO TAG FILE PUBKEY
                                               the artifact and its statement, checked from the
                                               specs: manifest digest, layer digest = sha256(FILE),
                                               the fallback-tag index, the DSSE signature (PAE),
                                               the in-toto subject; prints digest and predicate
"""
import base64, hashlib, http.server, json, socket, sys, time, urllib.error, urllib.request

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"


def req(method, url, data=None, headers=None):
    r = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(r, timeout=20) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def push_blob(base, repo, data):
    d = digest(data)
    st, h, _ = req("POST", f"{base}/v2/{repo}/blobs/uploads/")
    assert st == 202, st
    loc = h["Location"]
    loc = loc if loc.startswith("http") else base + loc
    st, _, _ = req("PUT", loc + ("&" if "?" in loc else "?") + "digest=" + d, data,
                   {"Content-Type": "application/octet-stream"})
    assert st == 201, st
    return d


def push_raw(base, repo, tag, path, layer_type, artifact_type):
    data = open(path, "rb").read()
    cfg = push_blob(base, repo, b"{}")
    man = {"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": artifact_type,
           "config": {"mediaType": EMPTY, "digest": cfg, "size": 2},
           "layers": [{"mediaType": layer_type, "digest": push_blob(base, repo, data), "size": len(data)}]}
    body = json.dumps(man).encode()
    st, _, _ = req("PUT", f"{base}/v2/{repo}/manifests/{tag}", body, {"Content-Type": MANIFEST})
    assert st == 201, st
    print(digest(body))


def get_manifest(base, repo, ref, mtype):
    st, h, body = req("GET", f"{base}/v2/{repo}/manifests/{ref}", headers={"Accept": mtype})
    assert st == 200, (ref, st)
    return body


def check(base, repo, tag, path, pubkey):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    body = get_manifest(base, repo, tag, MANIFEST)
    man, mdig = json.loads(body), digest(body)
    assert man["artifactType"] == "application/vnd.enclaveimg.image.v1", man
    layer = man["layers"][0]
    assert layer["mediaType"] == "application/vnd.enclaveimg.image.v1.tar"
    assert layer["digest"] == digest(open(path, "rb").read()), "layer digest is not sha256 of the image"
    idx = json.loads(get_manifest(base, repo, "sha256-" + mdig[7:], INDEX))
    refs = [d for d in idx["manifests"] if d.get("artifactType") == "application/vnd.in-toto+json"]
    assert refs, "no statement in the fallback tag"
    rbody = get_manifest(base, repo, refs[0]["digest"], MANIFEST)
    assert digest(rbody) == refs[0]["digest"]
    rman = json.loads(rbody)
    assert rman["subject"]["digest"] == mdig, "the referrer's subject is not the image"
    env_d = rman["layers"][0]["digest"]
    st, _, env = req("GET", f"{base}/v2/{repo}/blobs/{env_d}")
    assert st == 200 and digest(env) == env_d
    env = json.loads(env)
    payload = base64.b64decode(env["payload"])
    ptype = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype, len(payload), payload)
    key = serialization.load_pem_public_key(open(pubkey, "rb").read())
    sig = base64.b64decode(env["signatures"][0]["sig"])
    if isinstance(key, rsa.RSAPublicKey):
        key.verify(sig, pae, padding.PKCS1v15(), hashes.SHA256())
    else:
        key.verify(sig, pae, ec.ECDSA(hashes.SHA256()))
    st = json.loads(payload)
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    assert st["predicateType"] == "https://enclaveimg.dev/measurement/v1"
    assert st["subject"][0]["digest"]["sha256"] == mdig[7:]
    print(mdig)
    print(json.dumps(st["predicate"], sort_keys=True))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def token_server(port, cert_path, key_path, userpass, service):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    cert = x509.load_pem_x509_certificate(open(cert_path, "rb").read())
    key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    x5c = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    want = "Basic " + base64.b64encode(userpass.encode()).decode()

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            from urllib.parse import urlparse, parse_qs
            if self.headers.get("Authorization") != want:
                self.send_response(401)
                self.end_headers()
                return
            q = parse_qs(urlparse(self.path).query)
            access = []
            for sc in q.get("scope", []):
                typ, name, actions = sc.split(":")
                access.append({"type": typ, "name": name, "actions": actions.split(",")})
            now = int(time.time())
            claims = {"iss": "test-issuer", "sub": userpass.split(":")[0], "aud": service, "exp": now + 600,
                      "nbf": now - 10, "iat": now, "jti": str(now), "access": access}
            head = {"typ": "JWT", "alg": "ES256", "x5c": [x5c]}
            signing = (b64url(json.dumps(head).encode()) + "." + b64url(json.dumps(claims).encode())).encode()
            r, s = decode_dss_signature(key.sign(signing, ec.ECDSA(hashes.SHA256())))
            tok = signing.decode() + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
            body = json.dumps({"token": tok}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http.server.HTTPServer(("127.0.0.1", int(port)), H).serve_forever()


def mini_registry(port):
    import re, uuid
    blobs, manifests, referrers, uploads = {}, {}, {}, {}
    route = re.compile(r"^/v2/(.+)/(blobs|manifests|referrers)/([^?]+)(\?.*)?$")

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def answer(self, status, body=b"", headers=None):
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def route(self):
            if "/forbidden/" in self.path:
                self.answer(403, b'{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}')
                return None
            if self.path == "/v2/":
                self.answer(200, b"{}")
                return None
            m = route.match(self.path)
            if not m:
                self.answer(404)
            return m

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            m = self.route()
            if not m:
                return
            repo, kind, ref, _ = m.groups()
            if kind == "blobs" and (repo, ref) in blobs:
                self.answer(200, blobs[repo, ref])
            elif kind == "manifests" and (repo, ref) in manifests:
                body = manifests[repo, ref]
                self.answer(200, body, {"Content-Type": json.loads(body)["mediaType"], "Docker-Content-Digest": digest(body)})
            elif kind == "referrers":
                idx = {"schemaVersion": 2, "mediaType": INDEX, "manifests": referrers.get((repo, ref), [])}
                self.answer(200, json.dumps(idx).encode(), {"Content-Type": INDEX})
            else:
                self.answer(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}')

        def do_POST(self):
            if "/forbidden/" in self.path:
                return self.route()
            m = re.match(r"^/v2/(.+)/blobs/uploads/$", self.path)
            if not m:
                return self.answer(404)
            u = str(uuid.uuid4())
            uploads[u] = m.group(1)
            self.answer(202, b"", {"Location": "/v2/%s/blobs/uploads/%s" % (m.group(1), u)})

        def do_PUT(self):
            from urllib.parse import urlparse, parse_qs
            if "/forbidden/" in self.path:
                return self.route()
            data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            u = urlparse(self.path)
            m = re.match(r"^/v2/(.+)/blobs/uploads/(.+)$", u.path)
            if m:
                d = parse_qs(u.query)["digest"][0]
                if digest(data) != d:
                    return self.answer(400, b'{"errors":[{"code":"DIGEST_INVALID","message":"digest"}]}')
                blobs[m.group(1), d] = data
                return self.answer(201, b"", {"Docker-Content-Digest": d})
            m = route.match(self.path)
            if not m or m.group(2) != "manifests":
                return self.answer(404)
            repo, _, ref, _ = m.groups()
            d = digest(data)
            manifests[repo, ref] = manifests[repo, d] = data
            man, headers = json.loads(data), {"Docker-Content-Digest": d}
            if "subject" in man:
                referrers.setdefault((repo, man["subject"]["digest"]), []).append(
                    {"mediaType": man["mediaType"], "digest": d, "size": len(data), "artifactType": man.get("artifactType", "")})
                headers["OCI-Subject"] = man["subject"]["digest"]
            self.answer(201, b"", headers)

    http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), H).serve_forever()


def main():
    cmd = sys.argv[1]
    if cmd == "port":
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        print(s.getsockname()[1])
        s.close()
    elif cmd == "wait":
        for _ in range(200):
            try:
                urllib.request.urlopen(sys.argv[2], timeout=1)
                return
            except urllib.error.HTTPError:
                return
            except Exception:
                time.sleep(0.1)
        sys.exit("nothing answers at " + sys.argv[2])
    elif cmd == "token-server":
        token_server(*sys.argv[2:7])
    elif cmd == "mini-registry":
        mini_registry(sys.argv[2])
    elif cmd == "push-raw":
        push_raw(*sys.argv[2:8])
    elif cmd == "check":
        check(*sys.argv[2:7])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
