#!/usr/bin/env bash
# test_cache.sh - layers are stored by blob digest: a second scan into the
# same database reuses them (cached: true) with identical findings, another
# format holding the same blobs reuses them too, --no-db never caches, and
# two processes writing one database both land.
. "$(dirname "$0")/lib.sh"
gen_fixtures
DB="$WORKDIR/cache.db"

scan_json first --db "$DB" "$FX/base.docker.tar"
[ -s "$DB" ] || fail "--db $DB was not written"
scan_json second --db "$DB" "$FX/base.docker.tar"
cj_all "$WORKDIR/first.json" <<'EOF'
eval not any(l["cached"] for l in I[0]["layers"]) \
    # first scan into an empty database reports cached layers
report second.json
eval len(I[0]["layers"]) == 3 and all(l["cached"] for l in I[0]["layers"]) \
    # second scan did not reuse the stored layers
eval [l["created_by"] for l in I[0]["layers"]] == \
    [l["created_by"] for l in __import__("json").load(open( \
    __import__("os").path.join(__import__("os").path.dirname(REPORT), \
    "first.json")))["images"][0]["layers"]] \
    # history lost on a cached scan
EOF
same_findings "$WORKDIR/first.json" "$WORKDIR/second.json" \
    "first vs cached scan" --fingerprints
check_base_findings "$WORKDIR/second.json"

note "same blobs in another container format are cached"
scan_json ocistyle --db "$DB" "$FX/base-oci.docker.tar"
cj_all "$WORKDIR/ocistyle.json" <<'EOF'
eval all(l["cached"] for l in I[0]["layers"]) \
    # base-oci.docker.tar holds the same blobs but was rescanned
EOF
same_findings "$WORKDIR/first.json" "$WORKDIR/ocistyle.json" \
    "legacy vs docker-oci from cache" --fingerprints

note "visibility comes from the image, even from cached layers"
scan_json shared --db "$DB" "$FX/shared.docker.tar"

note "--no-db never reports cached layers"
scan_json nodb --no-db "$FX/base.docker.tar"
cj_all "$WORKDIR/shared.json" <<'EOF'
has ref=fixture/partial:3 path=app/id_rsa visible=true \
    # cached L1 in partial image: app/id_rsa visible
has ref=fixture/base:1 path=app/id_rsa visible=false removed_in_layer=2 \
    # cached base: app/id_rsa hidden
report nodb.json
eval not any(l["cached"] for l in I[0]["layers"]) # --no-db reported cached layers
EOF

note "two processes write one database"
DB2="$WORKDIR/concurrent.db"
set +e
"$STOWAWAY" scan --db "$DB2" --format json "$FX/base.oci" \
    >"$WORKDIR/c1.json" 2>"$WORKDIR/c1.err" &
p1=$!
"$STOWAWAY" scan --db "$DB2" --format json "$FX/two.docker.tar" \
    >"$WORKDIR/c2.json" 2>"$WORKDIR/c2.err" &
p2=$!
wait "$p1"; r1=$?
wait "$p2"; r2=$?
set -e
[ "$r1" -le 1 ] && [ "$r2" -le 1 ] ||
    { cat "$WORKDIR/c1.err" "$WORKDIR/c2.err" >&2; fail "concurrent scans: exit $r1 $r2"; }
scan_json c1again --db "$DB2" "$FX/base.oci"
scan_json c2again --db "$DB2" "$FX/two.docker.tar"
cj_all "$WORKDIR/c1again.json" <<'EOF'
eval all(l["cached"] for l in I[0]["layers"]) # concurrent scan 1 did not land
report c2again.json
eval len(I) == 2 and all(l["cached"] for i in I for l in i["layers"]) \
    # concurrent scan 2 did not land
EOF
check_no_plaintext "$DB" "$DB2"
echo "PASS $TEST_NAME"
