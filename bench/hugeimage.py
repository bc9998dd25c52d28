#!/usr/bin/env python3
"""Write the huge benchmark image: an OCI layout with one gzip layer holding a
few multi-GiB files, for the peak-RSS check (a scanner must stream large files
in chunks, never hold one whole).

The layer is never on disk uncompressed: the tar stream is generated here and
piped through igzip (gzip -1 if igzip is missing), hashing both sides on the
way for the diff_id and the blob digest. File contents are log-like text drawn
from a fixed-seed pool, so they compress about as well as real data dumps, and
a fake GitHub token is planted across a 1 GiB (hence also 1 MiB, 64 MiB, ...)
boundary of the second file, where a chunked scanner must still find it.

usage: hugeimage.py OUTDIR [--gib N] [--file-gib N] [--token TOKEN]
"""
import argparse
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import tarfile
import time

POOL_SIZE = 32 << 20
CHUNK = 4 << 20
GIB = 1 << 30


def make_pool():
    rnd = random.Random(20240611)
    words = ["GET", "POST", "/api/v1/orders", "/static/app.js", "200", "304", "404",
             "user", "session", "INFO", "WARN", "DEBUG", "checkout", "cart", "latency_ms",
             "region=eu-west-1", "cache=miss", "cache=hit", "retry", "upstream", "tls"]
    out = io.StringIO()
    size = 0
    while size < POOL_SIZE:
        line = "2024-06-%02d %02d:%02d:%02d.%06d %s %s id=%08x t=%d %s\n" % (
            rnd.randint(1, 28), rnd.randint(0, 23), rnd.randint(0, 59), rnd.randint(0, 59),
            rnd.randint(0, 999999), rnd.choice(words), rnd.choice(words),
            rnd.getrandbits(32), rnd.randint(0, 5000),
            " ".join(rnd.choice(words) for _ in range(rnd.randint(1, 6))))
        out.write(line)
        size += len(line)
    data = out.getvalue().encode()[:POOL_SIZE]
    return data + data  # doubled, so any window of POOL_SIZE bytes is one slice


class Sink:
    """Tar byte stream -> sha256 (diff_id) + compressor process."""

    def __init__(self, blob_path):
        comp = shutil.which("igzip")
        cmd = [comp, "-c"] if comp else ["gzip", "-1", "-c"]
        self.blob = open(blob_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=self.blob)
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, b):
        self.sha.update(b)
        self.proc.stdin.write(b)
        self.size += len(b)

    def close(self):
        self.proc.stdin.close()
        if self.proc.wait() != 0:
            raise SystemExit("hugeimage.py: compressor failed")
        self.blob.close()


def header(name, size, is_dir=False):
    ti = tarfile.TarInfo(name)
    ti.size = 0 if is_dir else size
    ti.type = tarfile.DIRTYPE if is_dir else tarfile.REGTYPE
    ti.mode = 0o755 if is_dir else 0o644
    ti.mtime = 1717977600
    ti.uname = ti.gname = "root"
    return ti.tobuf(format=tarfile.GNU_FORMAT)


def file_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(8 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def put_blob(blobs, data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("--gib", type=float, default=10.0)
    ap.add_argument("--file-gib", type=float, default=2.5)
    ap.add_argument("--token", default="")
    a = ap.parse_args()

    blobs = os.path.join(a.outdir, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)
    pool = memoryview(make_pool())
    total = int(a.gib * GIB)
    per_file = int(a.file_gib * GIB) // 512 * 512
    plant = ("\naccess_token=%s\n" % a.token).encode() if a.token else b""
    plant_at = GIB - len(plant) // 2  # straddles the 1 GiB mark of file 1

    tmp = os.path.join(blobs, "layer.tmp")
    sink = Sink(tmp)
    t0 = time.time()
    for d in ("srv/", "srv/data/"):
        sink.write(header(d, 0, is_dir=True))
    done, idx, off = 0, 0, 0
    while done < total:
        size = min(per_file, total - done)
        sink.write(header("srv/data/part-%02d.log" % idx, size))
        pos = 0
        while pos < size:
            n = min(CHUNK, size - pos)
            chunk = pool[off:off + n]
            off = (off + n + 4093) % POOL_SIZE  # drift so files are not copies of each other
            if plant and idx == 1 and pos < plant_at + len(plant) and plant_at < pos + n:
                buf = bytearray(chunk)
                for i, c in enumerate(plant):
                    if pos <= plant_at + i < pos + n:
                        buf[plant_at + i - pos] = c
                chunk = buf
            sink.write(chunk)
            pos += n
        if size % 512:
            sink.write(b"\0" * (512 - size % 512))
        done += size
        idx += 1
    sink.write(b"\0" * 1024)
    sink.close()
    diff_id = "sha256:" + sink.sha.hexdigest()
    digest = file_hash(tmp)
    os.replace(tmp, os.path.join(blobs, digest))
    blob_size = os.path.getsize(os.path.join(blobs, digest))

    config = {
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created_by": "hugeimage.py: %d files of generated logs" % idx}],
    }
    cdata = json.dumps(config, separators=(",", ":")).encode()
    cdig = put_blob(blobs, cdata)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + cdig, "size": len(cdata)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": "sha256:" + digest, "size": blob_size}],
    }
    mdata = json.dumps(manifest, separators=(",", ":")).encode()
    mdig = put_blob(blobs, mdata)
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:" + mdig, "size": len(mdata),
        "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}
    with open(os.path.join(a.outdir, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(a.outdir, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    print("huge.oci: %d files, %.2f GB uncompressed, %.2f GB gzip, %.0fs" % (
        idx, sink.size / 1e9, blob_size / 1e9, time.time() - t0))


if __name__ == "__main__":
    main()
