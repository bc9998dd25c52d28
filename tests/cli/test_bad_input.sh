#!/usr/bin/env bash
# test_bad_input.sh - every malformed input gives exit 2 and exactly one
# stderr line naming it, and leaves a database holding an earlier good scan
# intact; hostile paths are reported as they claim and never written.
. "$(dirname "$0")/lib.sh"
gen_fixtures
DB="$WORKDIR/scan.db"

scan_json good --db "$DB" "$FX/base.docker.tar"
check_base_findings "$WORKDIR/good.json"
db_snapshot "$DB" "$WORKDIR/good.snap"
[ -s "$WORKDIR/good.snap" ] || fail "the good scan stored nothing in $DB"
grep -q 'fixture/base:1' "$WORKDIR/good.snap" || fail "image ref not stored"

BAD=(
    not-archive.txt
    empty.tar
    truncated.tar.gz
    truncated.tar.zst
    truncated.docker.tar
    no-manifest.docker.tar
    missing-layer.docker.tar
    no-layer-blobs.oci.tar
    bad-json.docker.tar
    bad-digest.oci
    no-index.oci
    garbage-layer.tar.gz
    garbage-layer.oci
    does-not-exist.tar
)
for b in "${BAD[@]}"; do
    note "bad input $b"
    t="$FX/bad/$b"
    for fmt in json table; do
        run "$WORKDIR/bad.out" "$WORKDIR/bad.err" scan --db "$DB" \
            --format "$fmt" "$t"
        expect_rc 2 "$b ($fmt)"
        one_line_naming "$WORKDIR/bad.err" "$t" "$b ($fmt)"
    done
    db_still_has "$DB" "$WORKDIR/good.snap" "$b"
done

note "error in the second target: the first image is still committed"
DB2="$WORKDIR/two-targets.db"
run "$WORKDIR/tt.json" "$WORKDIR/tt.err" scan --db "$DB2" --format json \
    "$FX/base.docker.tar" "$FX/bad/truncated.docker.tar"
expect_rc 2 "good + truncated"
one_line_naming "$WORKDIR/tt.err" "$FX/bad/truncated.docker.tar" \
    "good + truncated"
scan_json again --db "$DB2" "$FX/base.docker.tar"
cj_all "$WORKDIR/again.json" <<'EOF'
eval all(l["cached"] for l in I[0]["layers"]) \
    # image scanned before the failing target was not kept
EOF

note "a blob that fails its digest does not poison the cache"
# (A blob already cached under its digest is not read again, so this needs
# a database that has never seen the genuine L0.)
DB3="$WORKDIR/poison.db"
run "$WORKDIR/bd.json" "$WORKDIR/bd.err" scan --db "$DB3" --format json \
    "$FX/bad/bad-digest.oci"
expect_rc 2 "bad-digest into a fresh database"
scan_json afterbad --db "$DB3" "$FX/base.oci"
cj_all "$WORKDIR/afterbad.json" <<'EOF'
eval not I[0]["layers"][0]["cached"] # the blob that failed its digest was cached
EOF
check_base_findings "$WORKDIR/afterbad.json"

note "usage errors"
run "$WORKDIR/u.out" "$WORKDIR/u.err" scan
expect_rc 2 "scan without a target"
run "$WORKDIR/u.out" "$WORKDIR/u.err" scan --no-such-flag "$FX/clean.tar"
expect_rc 2 "unknown flag"
run "$WORKDIR/u.out" "$WORKDIR/u.err" scan --fail-on severe "$FX/clean.tar"
expect_rc 2 "bad --fail-on"
run "$WORKDIR/u.out" "$WORKDIR/u.err" scan --format xml "$FX/clean.tar"
expect_rc 2 "bad --format"

note "hostile paths: ../../etc/passwd, /usr/bin/abs-suid, symlinked dir"
SANDBOX="$WORKDIR/sandbox/a/b"
mkdir -p "$SANDBOX"
rm -f /tmp/stowaway-traversal-canary
touch "$WORKDIR/stamp"
sleep 1
(cd "$SANDBOX" && "$STOWAWAY" scan --no-db --format json \
    "$FX/bad/traversal.tar" >"$WORKDIR/trav.json" 2>"$WORKDIR/trav.err") &&
    RC=0 || RC=$?
[ "$RC" -le 1 ] || { cat "$WORKDIR/trav.err" >&2; fail "traversal.tar: exit $RC"; }
cj_all "$WORKDIR/trav.json" <<'EOF'
schema # traversal.tar: report shape
has 'path~(^|/)etc/passwd$' kind=setuid \
    # traversal.tar: setuid ../../etc/passwd not reported
has path=usr/bin/abs-suid kind=setuid \
    # traversal.tar: absolute path not reported relative
EOF
[ ! -e "$WORKDIR/sandbox/etc" ] && [ ! -e "$WORKDIR/etc" ] ||
    fail "traversal.tar: something was written outside the cwd"
[ ! -e /tmp/stowaway-traversal-canary ] ||
    fail "traversal.tar: wrote through a symlinked directory"
new=$(find "$WORKDIR/sandbox" "$FX/bad" -newer "$WORKDIR/stamp" | head -3)
[ -z "$new" ] || fail "traversal.tar: scan created files: $new"
echo "PASS $TEST_NAME"
