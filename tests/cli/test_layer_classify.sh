#!/usr/bin/env bash
# test_layer_classify.sh - what a tar is comes from its members, not its
# name, and a layer whose root holds a blobs/ directory or 64-hex names is
# still a layer (only manifest.json, index.json, oci-layout, repositories or
# a legacy <id>/layer.tar make an image archive).
. "$(dirname "$0")/lib.sh"
KEY="$SRCDIR/fixtures/keys/id_rsa.pem"
python3 - "$WORKDIR/layer.tar" "$KEY" <<'PY'
import io, sys, tarfile
out, key = sys.argv[1], open(sys.argv[2], "rb").read()
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    def add(name, data, mode=0o644):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode
        t.addfile(ti, io.BytesIO(data))
    d = tarfile.TarInfo("blobs"); d.type = tarfile.DIRTYPE; d.mode = 0o755
    t.addfile(d)
    add("blobs/sha256/" + "a" * 64, key)
    add("b" * 64 + ".json", b'{"not": "a manifest"}')
    add("etc/passwd", b"root:x:0:0::/root:/bin/sh\n")
PY
run "$WORKDIR/r.json" "$WORKDIR/err" scan --no-db --format json "$WORKDIR/layer.tar"
[ "$RC" = 1 ] || fail "exit $RC: $(cat "$WORKDIR/err")"
cj_all "$WORKDIR/r.json" "path=blobs/sha256/$(printf 'a%.0s' $(seq 64))" <<'EOF'
has kind=private-key layer=0 # the key inside blobs/ was not found as a layer file
EOF
echo "PASS [$TEST_NAME]"
