#!/usr/bin/env bash
# test_hash_trust.sh - what is hashed and what is trusted (issue 14): a
# compressed layer's diff_id is not computed by default (diff_id_verified
# false) and --verify-diff-ids catches a lying one; a lying config changes
# no other image's result and is never a cache key; a cached layer of a
# local file is used only while its blob still hashes to its digest, so a
# tampered layout fails after a good scan as it does without a database.
. "$(dirname "$0")/lib.sh"
IMG="$WORKDIR/img"
rm -rf "$IMG"
mkdir -p "$IMG"

# honest.oci and liar.oci share the gzip layer with the key; liar's config
# claims the other layer's diff_id for it. clean.docker.tar and
# hider.docker.tar are legacy docker saves: hider's layer.tar holds the key
# but its config claims the diff_id of clean's layer.
python3 - "$IMG" "$SRCDIR/fixtures/keys/id_rsa.pem" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
from tarlib import tar_bytes as tar
out, keyfile = sys.argv[1], sys.argv[2]
key = open(keyfile, "rb").read()

def gz(b):
    return gzip.compress(b, mtime=0)

def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

secret = tar([("app/id_rsa", key)])
readme = tar([("app/README", b"nothing to see\n")])
other = tar([("srv/notes.txt", b"plain notes\n")])

def oci(name, layers, diff_ids, ref):
    root = os.path.join(out, name)
    blobs = os.path.join(root, "blobs", "sha256")
    os.makedirs(blobs)
    def put(b):
        with open(os.path.join(blobs, hashlib.sha256(b).hexdigest()), "wb") as f:
            f.write(b)
        return sha(b)
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": diff_ids},
                      "history": [{"created_by": "COPY %d" % i}
                                  for i in range(len(layers))]}).encode()
    man = json.dumps({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put(cfg), "size": len(cfg)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": put(l), "size": len(l)} for l in layers]}).encode()
    idx = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": put(man), "size": len(man),
        "annotations": {"org.opencontainers.image.ref.name": ref}}]}
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump(idx, f)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion": "1.0.0"}')

oci("honest.oci", [gz(secret), gz(readme)], [sha(secret), sha(readme)],
    "test/honest:1")
oci("liar.oci", [gz(secret), gz(other)], [sha(readme), sha(other)],
    "test/liar:1")

def docker(name, layer, claim, ref):
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": [claim]}}).encode()
    cname = hashlib.sha256(cfg).hexdigest() + ".json"
    lname = hashlib.sha256(layer).hexdigest() + "/layer.tar"
    with tarfile.open(os.path.join(out, name), "w") as t:
        for n, d in [(lname, layer), (cname, cfg), ("manifest.json", json.dumps(
                [{"Config": cname, "RepoTags": [ref], "Layers": [lname]}]).encode())]:
            ti = tarfile.TarInfo(n)
            ti.size, ti.mtime = len(d), 1700000000
            t.addfile(ti, io.BytesIO(d))

docker("clean.docker.tar", readme, sha(readme), "test/clean:1")
docker("hider.docker.tar", secret, sha(readme), "test/hider:1")
# The secret layer's blob, and a clean gzip layer to put in its place.
with open(os.path.join(out, "secret.digest"), "w") as f:
    f.write(hashlib.sha256(gz(secret)).hexdigest())
with open(os.path.join(out, "swap.gz"), "wb") as f:
    f.write(gz(other))
PY
SECRET=$(cat "$IMG/secret.digest")

note "a gzip layer's diff_id is the config's claim, unverified by default"
scan_json honest --no-db "$IMG/honest.oci"
expect_rc 1 "honest image with a key"
scan_json honestv --no-db --verify-diff-ids "$IMG/honest.oci"
scan_json clean --no-db "$IMG/clean.docker.tar"

note "--verify-diff-ids catches a lying diff_id"
scan_json liar --no-db "$IMG/liar.oci"
cj_all "$WORKDIR/honest.json" <<'EOF'
has path=app/id_rsa kind=private-key layer=0 \
    # honest: the key in layer 0 is not found
eval all(l["diff_id_verified"] is False and l["diff_id"] \
    for l in I[0]["layers"]) \
    # default scan: gzip layers must show their claimed, unverified diff_id
norm honest.fpnorm --fingerprints
report honestv.json
eval all(l["diff_id_verified"] is True for l in I[0]["layers"]) \
    # --verify-diff-ids: the diff_ids must be verified
norm honestv.fpnorm --fingerprints
report clean.json
eval I[0]["layers"][0]["diff_id_verified"] is True \
    # legacy docker save: layer.tar's diff_id is its digest, verified
report liar.json
eval I[0]["layers"][0]["diff_id_verified"] is False \
    # liar: its claim must be unverified
EOF
norm_diff "$WORKDIR/honest.fpnorm" "$WORKDIR/honestv.fpnorm" \
    "default vs --verify-diff-ids"
run "$WORKDIR/liarv.out" "$WORKDIR/liarv.err" scan --no-db --verify-diff-ids "$IMG/liar.oci"
expect_rc 2 "--verify-diff-ids on a lying config"
grep -q "diff_id mismatch" "$WORKDIR/liarv.err" ||
    { cat "$WORKDIR/liarv.err" >&2; fail "--verify-diff-ids: no diff_id mismatch line"; }
# Also when the layer is stored already, unverified: it is read again.
DBV="$WORKDIR/verify.db"
rm -f "$DBV"
scan_json liar1 --db "$DBV" "$IMG/liar.oci"
run "$WORKDIR/liarv2.out" "$WORKDIR/liarv2.err" scan --db "$DBV" --verify-diff-ids "$IMG/liar.oci"
expect_rc 2 "--verify-diff-ids on a lying config, layer stored unverified"
grep -q "diff_id mismatch" "$WORKDIR/liarv2.err" ||
    fail "--verify-diff-ids over a database: no diff_id mismatch line"

note "a lying config changes no other image's result"
DBL="$WORKDIR/liar-first.db"
rm -f "$DBL"
scan_json liarfirst --db "$DBL" "$IMG/liar.oci"
scan_json honest2 --db "$DBL" "$IMG/honest.oci"
cj_all "$WORKDIR/honest2.json" <<'EOF'
eval I[0]["layers"][0]["cached"] # the shared layer was not reused
norm honest2.fpnorm --fingerprints
EOF
norm_diff "$WORKDIR/honest.fpnorm" "$WORKDIR/honest2.fpnorm" \
    "honest alone vs after the liar"
python3 - "$WORKDIR/honest.json" "$WORKDIR/honest2.json" <<'PY' ||
import json, sys
a, b = (json.load(open(p))["images"][0]["layers"] for p in sys.argv[1:])
k = lambda ls: [(l["digest"], l["diff_id"], l["diff_id_verified"]) for l in ls]
sys.exit(k(a) != k(b))
PY
    fail "honest's layers (diff_id, diff_id_verified) changed after the liar"

note "a legacy layer is not found in the cache by a claimed diff_id"
DBH="$WORKDIR/hider.db"
rm -f "$DBH"
scan_json clean2 --db "$DBH" "$IMG/clean.docker.tar"
expect_rc 0 "clean legacy image"
for flags in "" "--trust-cache"; do
    run "$WORKDIR/hider.out" "$WORKDIR/hider.err" scan --db "$DBH" $flags "$IMG/hider.docker.tar"
    expect_rc 2 "legacy image claiming a clean layer's diff_id ($flags)"
    grep -q "diff_id mismatch" "$WORKDIR/hider.err" ||
        { cat "$WORKDIR/hider.err" >&2; fail "hider ($flags): no diff_id mismatch line"; }
done

note "a tampered layout after a good scan fails as without a database"
DBT="$WORKDIR/tamper.db"
rm -f "$DBT"
cp -r "$IMG/honest.oci" "$IMG/tampered.oci"
scan_json good --db "$DBT" "$IMG/tampered.oci"
expect_rc 1 "the layout before tampering"
cp "$IMG/swap.gz" "$IMG/tampered.oci/blobs/sha256/$SECRET"
run "$WORKDIR/nodb.out" "$WORKDIR/nodb.err" scan --no-db "$IMG/tampered.oci"
expect_rc 2 "tampered layout, --no-db"
grep -q "digest mismatch" "$WORKDIR/nodb.err" ||
    { cat "$WORKDIR/nodb.err" >&2; fail "--no-db: no digest mismatch line"; }
for j in 1 2; do
    run "$WORKDIR/db.out" "$WORKDIR/db.err" scan --db "$DBT" -j "$j" "$IMG/tampered.oci"
    expect_rc 2 "tampered layout after a good scan (-j $j)"
    grep "digest mismatch" "$WORKDIR/db.err" >"$WORKDIR/db.line" ||
        { cat "$WORKDIR/db.err" >&2; fail "cached: no digest mismatch line"; }
    grep "digest mismatch" "$WORKDIR/nodb.err" | diff - "$WORKDIR/db.line" >&2 ||
        fail "cached: the error differs from the one without a database"
done
# The bad bytes stored nothing: the original still answers, while intact.
scan_json again --db "$DBT" "$IMG/honest.oci"
cj_all "$WORKDIR/again.json" <<'EOF'
eval all(l["cached"] for l in I[0]["layers"]) \
    # the intact layout is no longer answered from the database
norm again.fpnorm --fingerprints
report good.json
norm good.fpnorm --fingerprints
EOF
norm_diff "$WORKDIR/good.fpnorm" "$WORKDIR/again.fpnorm" "before vs after"
# A blob file named by its digest, and standard input, are checked too.
run "$WORKDIR/blob.out" "$WORKDIR/blob.err" scan --db "$DBT" "$IMG/tampered.oci/blobs/sha256/$SECRET"
expect_rc 2 "tampered blob file after a good scan"
grep -q "digest mismatch" "$WORKDIR/blob.err" || fail "blob file: no digest mismatch line"
(cd "$IMG/tampered.oci" && tar -cf - oci-layout index.json blobs) >"$IMG/tampered.tar"
set +e
"$STOWAWAY" scan --db "$DBT" - <"$IMG/tampered.tar" >"$WORKDIR/stdin.out" 2>"$WORKDIR/stdin.err"
RC=$?
set -e
expect_rc 2 "tampered image on standard input after a good scan"
grep -q "digest mismatch" "$WORKDIR/stdin.err" || fail "stdin: no digest mismatch line"
# --trust-cache believes the stored layer without hashing it.
scan_json trusted --db "$DBT" --trust-cache "$IMG/tampered.oci"
cj_all "$WORKDIR/trusted.json" <<'EOF'
eval all(l["cached"] for l in I[0]["layers"]) \
    # --trust-cache: the stored layers were not reused
EOF

note "--skip-layer and --base-image match a diff_id only once computed"
# liar.oci claims clean's layer diff_id for the layer with the key: naming
# that diff_id must not hide the key. Those options compute the diff_ids,
# so the lie is a mismatch (exit 2), as with --verify-diff-ids.
CLEAN_DIFF=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["images"][0]["layers"][0]["diff_id"])' \
    "$WORKDIR/clean.json")
for opt in "--skip-layer $CLEAN_DIFF" "--base-image $IMG/clean.docker.tar"; do
    # shellcheck disable=SC2086
    run "$WORKDIR/hide.out" "$WORKDIR/hide.err" scan --no-db $opt "$IMG/liar.oci"
    expect_rc 2 "a layer behind a claimed diff_id ($opt)"
    grep -q "diff_id mismatch" "$WORKDIR/hide.err" ||
        { cat "$WORKDIR/hide.err" >&2; fail "$opt: no diff_id mismatch line"; }
done
# An honest gzip image is still matched by diff_id against a docker save.
scan_json based --no-db --base-image "$IMG/clean.docker.tar" "$IMG/honest.oci"
expect_rc 1 "honest image with a key, clean base"
cj_all "$WORKDIR/based.json" <<'EOF'
has path=app/id_rsa layer=0 # the key is not in the base: still reported
eval all(l["diff_id_verified"] is True for l in I[0]["layers"]) \
    # --base-image must compute the target's diff_ids
EOF
echo "ok"
