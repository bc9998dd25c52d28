#!/usr/bin/env bash
# test_cache.sh - layers are stored by blob digest: a second scan into the
# same database reuses them (cached: true) with identical findings, another
# format holding the same blobs reuses them too, --no-db never caches, and
# two processes writing one database both land.
. "$(dirname "$0")/lib.sh"
gen_fixtures
DB="$WORKDIR/cache.db"

scan_json first --db "$DB" "$FX/base.docker.tar"
cj eval "$WORKDIR/first.json" 'not any(l["cached"] for l in I[0]["layers"])' ||
    fail "first scan into an empty database reports cached layers"
[ -s "$DB" ] || fail "--db $DB was not written"
scan_json second --db "$DB" "$FX/base.docker.tar"
cj eval "$WORKDIR/second.json" 'len(I[0]["layers"]) == 3 and all(l["cached"] for l in I[0]["layers"])' ||
    fail "second scan did not reuse the stored layers"
same_findings "$WORKDIR/first.json" "$WORKDIR/second.json" \
    "first vs cached scan" --fingerprints
check_base_findings "$WORKDIR/second.json"
cj eval "$WORKDIR/second.json" \
    '[l["created_by"] for l in I[0]["layers"]] == [l["created_by"] for l in __import__("json").load(open("'"$WORKDIR"'/first.json"))["images"][0]["layers"]]' ||
    fail "history lost on a cached scan"

note "same blobs in another container format are cached"
scan_json ocistyle --db "$DB" "$FX/base-oci.docker.tar"
cj eval "$WORKDIR/ocistyle.json" 'all(l["cached"] for l in I[0]["layers"])' ||
    fail "base-oci.docker.tar holds the same blobs but was rescanned"
same_findings "$WORKDIR/first.json" "$WORKDIR/ocistyle.json" \
    "legacy vs docker-oci from cache" --fingerprints

note "visibility comes from the image, even from cached layers"
scan_json shared --db "$DB" "$FX/shared.docker.tar"
cj has "$WORKDIR/shared.json" ref=fixture/partial:3 path=app/id_rsa \
    visible=true || fail "cached L1 in partial image: app/id_rsa visible"
cj has "$WORKDIR/shared.json" ref=fixture/base:1 path=app/id_rsa \
    visible=false removed_in_layer=2 || fail "cached base: app/id_rsa hidden"

note "--no-db never reports cached layers"
scan_json nodb --no-db "$FX/base.docker.tar"
cj eval "$WORKDIR/nodb.json" 'not any(l["cached"] for l in I[0]["layers"])' ||
    fail "--no-db reported cached layers"

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
cj eval "$WORKDIR/c1again.json" 'all(l["cached"] for l in I[0]["layers"])' ||
    fail "concurrent scan 1 did not land"
scan_json c2again --db "$DB2" "$FX/two.docker.tar"
cj eval "$WORKDIR/c2again.json" 'len(I) == 2 and all(l["cached"] for i in I for l in i["layers"])' ||
    fail "concurrent scan 2 did not land"
check_no_plaintext "$DB" "$DB2"
echo "PASS $TEST_NAME"
