#!/usr/bin/env python3
"""seeds.py - starting corpora for the parser fuzzers (tests/fuzz), made
from what the repository already holds: the rule files of signatures/ cut
into a few rules each, the ignore-file and baseline shapes of the CLI
tests, the references, challenges and docker configs of the unit tests
plus the challenges Docker Hub, GHCR, Quay, GCR and ECR really send, and
the JSON documents of the demo image (docker save, and the same image as
an OCI layout when skopeo is installed) rewritten into fuzz_docs' input
format. Usage: seeds.py OUTDIR (one subdirectory per harness)."""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
HEX64 = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"


def put(outdir, harness, name, data):
    d = os.path.join(outdir, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def rules(out):
    sig = os.path.join(SRC, "signatures")
    for fn in sorted(os.listdir(sig)):
        if not fn.endswith(".yaml"):
            continue
        text = open(os.path.join(sig, fn)).read()
        head, sep, body = text.partition("\nrules:\n")
        if not sep:  # trivy-ids.yaml, known-test-keys.yaml: small enough
            put(out, "rules", fn, text[:12000])
            continue
        parts = re.split(r"(?m)^(?=  - id: )", body)
        parts = [p for p in parts if p.strip()]
        for i in range(0, len(parts), 3):
            put(out, "rules", "%s-%d" % (fn, i),
                "version: 1\nrules:\n" + "".join(parts[i:i + 3]))
    # Trivy's secret config shape, with the keys stowaway reads.
    put(out, "rules", "trivy.yaml", """\
enable-builtin-rules: [aws-access-key-id, github-pat]
disable-rules: [slack-web-hook]
disable-allow-rules: [markdown]
skip-patterns: ['**/*.md', 'vendor/*']
exclude-block:
  description: tests
  regexes: ['(?s)BEGIN TEST.*?END TEST']
rules:
  - id: my-token
    category: custom
    title: My token
    severity: HIGH
    keywords: [mytok_]
    regex: 'mytok_(?P<secret>[a-z0-9]{20})'
    secret-group-name: secret
    allow-rules:
      - id: fixtures
        path: '^fixtures/'
allow-rules:
  - id: examples
    description: example values
    regex: 'EXAMPLE'
""")


def suppress(out):
    put(out, "suppress", "ignore", b"\0" + b"""\
# accepted risks
rule=world-writable-dir reason=scratch dir, see SEC-12
path=app/keys/* expires=2999-12-31 reason=test keys, revoked
fingerprint=3f1c0a9b8e7d6c5b4a39281706f5e4d3c2b1a0f9e8d7c6b5a4938271605f4e3d image=app:*
path="root/.ssh/" rule=private-key-rsa reason="a \\"quoted\\" reason"
rule=generic-password expires=2001-02-03 reason=until the base is fixed
path=usr/bin/* image=docker.io/*
""")
    bl = {"stowaway_baseline": 1, "findings": [
        {"fingerprint": "3f1c0a9b8e7d6c5b4a39281706f5e4d3"
                        "c2b1a0f9e8d7c6b5a4938271605f4e3d",
         "key": "0123456789abcdef0123456789abcdef",
         "rule": "aws-access-key-id", "path": "app/.env",
         "layer": "sha256:" + "0" * 64},
        {"key": "fedcba9876543210fedcba9876543210", "rule": "setuid",
         "path": "usr/bin/sudo"}]}
    put(out, "suppress", "baseline", b"\1" + json.dumps(bl, indent=2).encode())


def refs(out):
    for i, r in enumerate([
            "127.0.0.1:5000/team/app:1.2", "localhost/app",
            "ghcr.io/org/deep/name", "[::1]:5000/app:v1",
            "127.0.0.1:5000/app@sha256:" + HEX64,
            "docker://127.0.0.1:5000/app:1@sha256:" + HEX64,
            "oci://reg.example:443/a/b:c", "docker://alpine", "alpine:3.19",
            "bitnami/redis", "docker.io/ubuntu",
            "index.docker.io/library/busybox:1", "localhost:5000",
            "registry-1.docker.io/a_b.c-d/e__f:T.1-x",
            "quay.io/prometheus/node-exporter:v1.8.0",
            "public.ecr.aws/docker/library/nginx:stable-alpine"]):
        put(out, "ref", "ref%02d" % i, r)


def challenges(out):
    for i, c in enumerate([
            'Bearer realm="https://auth.docker.io/token",'
            'service="registry.docker.io",'
            'scope="repository:library/alpine:pull"',
            'Bearer realm="https://ghcr.io/token",service="ghcr.io",'
            'scope="repository:user/image:pull"',
            'Bearer realm="https://quay.io/v2/auth",service="quay.io"',
            'Bearer realm="https://gcr.io/v2/token",service="gcr.io",'
            'scope="repository:google-containers/pause:pull"',
            'Basic realm="https://123456789012.dkr.ecr.us-east-1.amazonaws.com/"'
            ',service="ecr.amazonaws.com"',
            'Bearer realm="https://auth.docker.io/token",'
            'service="registry.docker.io",'
            'scope="repository:samalba/my-app:pull,push",'
            'error="insufficient_scope"',
            'Digest realm="x", nonce="y", Bearer realm="https://r/t", '
            'service=s', 'Negotiate, Basic realm="stowaway-test"',
            'Bearer realm="https://h/t\\"x\\\\y"',
            '</v2/_catalog?last=b&n=100>; rel="next"',
            '<https://ghcr.io/v2/x/tags/list?last=1.2&n=100>; rel="next"',
            '</v2/x/tags/list?n=2>; rel="prev", '
            '</v2/x/tags/list?n=2&last=b>; rel="first next"',
            '<https://r.example/v2/_catalog?n=1&last=a>; rel=next; '
            'title="page 2"']):
        put(out, "challenge", "hdr%02d" % i, c)


def creds(out):
    cfg = os.path.join(SRC, "tests", "corpus", "files", "dockercfg", "root",
                       ".docker", "config.json")
    docs = [open(cfg, "rb").read()] if os.path.exists(cfg) else []
    docs += [json.dumps(d).encode() for d in [
        {"auths": {"https://REG.example/v2/": {"auth": "Ym9iOnB3"}}},
        {"auths": {"https://index.docker.io/v1/":
                   {"username": "hub", "password": "tok"}}},
        {"credsStore": "desktop", "credHelpers": {"ghcr.io": "ecr-login"},
         "auths": {"ghcr.io": {"auth": "dTpw"}}},
        {"auths": {"localhost:5000": {"auth": "YQBiOmM="}},
         "credHelpers": {"[::1]:5000": "pass"}},
        {"auths": {"quay.io": {"auth": "dXNlcjpwYXNz", "email": "x@y"}},
         "HttpHeaders": {"User-Agent": "Docker-Client/19.03"}}]]
    for i, d in enumerate(docs):
        put(out, "creds", "config%02d" % i, bytes([i & 7]) + d)
    put(out, "creds", "helper", b"\x08" + json.dumps(
        {"ServerURL": "https://index.docker.io/v1/", "Username": "u",
         "Secret": "s3cr3t"}).encode())


def link_docs(root, blobs):
    """fuzz_docs input: root, then blobs; every blob digest the documents
    name becomes @N (N: the blob's 1-based position)."""
    num = {}
    for i, (hexd, _) in enumerate(blobs):
        num[hexd] = "@%x" % (i + 1)

    def sub(b):
        for hexd, tag in num.items():
            b = b.replace(hexd.encode(), tag.encode())
        return b
    return b"\n%%\n".join([sub(root)] + [sub(b) for _, b in blobs])


def docs(out):
    demo = os.path.join(SRC, "fixtures", "demo", "demo.docker.tar")
    with tarfile.open(demo) as t:
        man = t.extractfile("manifest.json").read()
        cfgname = json.loads(man)[0]["Config"]
        cfg = t.extractfile(cfgname).read()
    chex = cfgname[:64]
    # Docker save: the config is a blob named <hex>.json.
    put(out, "docs", "docker-save", b"\0" + link_docs(man, [(chex, cfg)]))
    put(out, "docs", "docker-save-amd64",
        b"\2" + link_docs(man, [(chex, cfg)]))
    if not shutil.which("skopeo"):
        print("seeds.py: no skopeo, no OCI seeds", file=sys.stderr)
        return
    with tempfile.TemporaryDirectory() as tmp:
        lay = os.path.join(tmp, "oci")
        subprocess.run(["skopeo", "copy", "-q", "docker-archive:" + demo,
                        "oci:" + lay + ":demo:1"], check=True)
        idx = open(os.path.join(lay, "index.json"), "rb").read()
        blobdir = os.path.join(lay, "blobs", "sha256")
        blobs = []
        for h in sorted(os.listdir(blobdir)):
            b = open(os.path.join(blobdir, h), "rb").read()
            if len(b) < 65536 and b.lstrip().startswith(b"{"):
                blobs.append((h, b))
        # The manifest first, then the config: links point forward only.
        blobs.sort(key=lambda hb: b'"layers"' not in hb[1])
        put(out, "docs", "oci", b"\1" + link_docs(idx, blobs))
        put(out, "docs", "oci-amd64", b"\3" + link_docs(idx, blobs))
        # An image index in front: index.json -> index -> manifest -> config.
        mhex = blobs[0][0]
        inner = json.dumps({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + mhex, "size": len(blobs[0][1]),
                "platform": {"architecture": "amd64", "os": "linux"}}, {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": "sha256:" + mhex, "size": len(blobs[0][1]),
                "platform": {"architecture": "arm64", "os": "linux",
                             "variant": "v8"}}]}).encode()
        ihex = hashlib.sha256(inner).hexdigest()
        outer = json.dumps({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": "sha256:" + ihex, "size": len(inner),
            "annotations": {"org.opencontainers.image.ref.name": "demo:2"}
        }]}).encode()
        put(out, "docs", "oci-nested",
            b"\3" + link_docs(outer, [(ihex, inner)] + blobs))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: seeds.py OUTDIR")
    for f in (rules, suppress, refs, challenges, creds, docs):
        f(sys.argv[1])


if __name__ == "__main__":
    main()
