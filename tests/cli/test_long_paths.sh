#!/usr/bin/env bash
# test_long_paths.sh - no silent skips: a PAX tar may name an entry with a
# path of any length. A private key and a setuid binary under paths of
# 5000 bytes (over PATH_MAX) are found with their whole paths, through the
# content thread (-j1) and inline (-j2), also inside a zip; an entry whose
# path is over the 64 KiB bound is an error line naming the bound, and the
# scan still ends in a report.
. "$(dirname "$0")/lib.sh"

python3 - "$WORKDIR" "$SRCDIR/fixtures/keys/id_rsa.pem" <<'PY'
import io, sys, tarfile, zipfile
out, keyfile = sys.argv[1], sys.argv[2]
key = open(keyfile, "rb").read()
deep = "app/" + "/".join(["d" * 200] * 24) + "/id_rsa"
zbuf = io.BytesIO()
with zipfile.ZipFile(zbuf, "w") as z:
    z.writestr("/".join(["z" * 250] * 20) + "/server.key", key)
with tarfile.open(out + "/long.tar", "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data, mode=0o644):
        i = tarfile.TarInfo(name)
        i.size, i.mode = len(data), mode
        t.addfile(i, io.BytesIO(data))
    add(deep, key)
    add("usr/bin/" + "s" * 5000, b"\x7fELF", 0o4755)
    add("opt/keys.zip", zbuf.getvalue())
    add("x/" + "y" * 70000, b"never read")
    add("etc/after.pem", key)
with open(out + "/deep.len", "w") as f:
    f.write(str(len(deep)))
PY
for j in 1 2; do
    scan_json long$j --no-db -j$j "$WORKDIR/long.tar"
    cj_all "$WORKDIR/long$j.json" <<EOF
eval any(f["kind"] == "private-key" and f["path"].startswith("app/ddd") \\
    and len(f["path"]) == $(cat "$WORKDIR/deep.len") for f in F) \\
    # -j$j: the key under a 5000-byte path is not reported whole
eval any(f["kind"] == "setuid" and len(f["path"]) == 5008 for f in F) \\
    # -j$j: the setuid binary under a long path
eval any(f["kind"] == "private-key" and \\
    f["path"].startswith("opt/keys.zip!/zzz") for f in F) \\
    # -j$j: the key under a long path inside a zip
has path=etc/after.pem kind=private-key # -j$j: the entry after
eval sum("path of 70002 bytes was skipped" in e["message"] \\
    for e in r["errors"]) == 1 # -j$j: the over-long entry is not one error line
EOF
    grep -q "70002 bytes was skipped" "$WORKDIR/long$j.err" ||
        fail "-j$j: no warning on the terminal"
done
echo "long paths: ok"
