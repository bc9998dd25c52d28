"""batch_images.py OUTDIR KEYDIR - an OCI layout with 50 images built on 5
shared base layers, for tests/cli/test_batch_registry.sh.

Image i (0..49) is base (i % 5) plus one small top layer of its own, tagged
as repository base<b>/app, tag v<i>. Base 0 carries a private key that the
top layer of every tenth image deletes (a whiteout: hidden, recoverable);
base 1 a setuid binary; base 2 an EC key. Images 0..24 say they were
created in 2023, 25..49 in 2024. Writes OUTDIR/oci (the layout),
OUTDIR/refs.txt ("<ref name> base<b>/app:v<i>" per line) and
OUTDIR/layers.txt (every distinct layer digest)."""
import gzip, hashlib, io, json, os, sys, tarfile

out, keys = sys.argv[1], sys.argv[2]
oci = os.path.join(out, "oci")
blobs = os.path.join(oci, "blobs", "sha256")
os.makedirs(blobs, exist_ok=True)


def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d


def layer(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for path, data, mode in entries:
            ti = tarfile.TarInfo(path)
            ti.size, ti.mode, ti.mtime = len(data), mode, 1700000000
            t.addfile(ti, io.BytesIO(data))
    tar = buf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as g:
        g.write(tar)
    blob = gz.getvalue()
    return put(blob), "sha256:" + hashlib.sha256(tar).hexdigest(), len(blob)


def key(name):
    with open(os.path.join(keys, name), "rb") as f:
        return f.read()


bases = []
for b in range(5):
    e = [("etc/os-release", b"ID=base%d\n" % b, 0o644),
         ("usr/share/pad.bin", hashlib.sha256(b"pad%d" % b).digest() * 2048,
          0o644)]
    if b == 0:
        e.append(("root/.ssh/id_rsa", key("id_rsa.pem"), 0o600))
    if b == 1:
        e.append(("usr/bin/sutool", b"\x7fELF tool\n", 0o4755))
    if b == 2:
        e.append(("etc/ssl/private/server.key", key("ec.pem"), 0o600))
    bases.append(layer(e))

manifests, refs, layers = [], [], set(b[0] for b in bases)
for i in range(50):
    b = i % 5
    e = [("app/build-%d.txt" % i, b"build %d\n" % i, 0o644)]
    if b == 0 and i % 10 == 0:
        e.append(("root/.ssh/.wh.id_rsa", b"", 0o644))
    top = layer(e)
    layers.add(top[0])
    created = "2023-03-01T10:00:00Z" if i < 25 else "2024-06-01T10:00:00.5+02:00"
    cfg = json.dumps({
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Env": ["PATH=/usr/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [bases[b][1], top[1]]},
        "history": [{"created_by": "ADD base%d.tar /" % b},
                    {"created_by": "COPY build-%d.txt /app/" % i}],
    }, sort_keys=True).encode()
    cd = put(cfg)
    man = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cd, "size": len(cfg)},
        "layers": [{"mediaType":
                    "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": l[0], "size": l[2]} for l in (bases[b], top)],
    }, sort_keys=True).encode()
    md = put(man)
    name = "img%d" % i
    manifests.append({"mediaType":
                      "application/vnd.oci.image.manifest.v1+json",
                      "digest": md, "size": len(man),
                      "annotations": {"org.opencontainers.image.ref.name":
                                      name}})
    refs.append("%s base%d/app:v%d" % (name, b, i))

with open(os.path.join(oci, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": manifests}, f)
with open(os.path.join(oci, "oci-layout"), "w") as f:
    f.write('{"imageLayoutVersion": "1.0.0"}')
with open(os.path.join(out, "refs.txt"), "w") as f:
    f.write("\n".join(refs) + "\n")
with open(os.path.join(out, "layers.txt"), "w") as f:
    f.write("\n".join(sorted(layers)) + "\n")
