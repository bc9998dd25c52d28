#!/usr/bin/env bash
# test_db.sh - `stowaway db stats` counts what the database holds;
# `stowaway db prune --older-than AGE` removes old scans with their images,
# the layers only they used and those layers' findings, keeps everything a
# newer scan uses, and leaves a sound database that `report` still reads.
. "$(dirname "$0")/lib.sh"
gen_fixtures
cd "$WORKDIR"
DB="$WORKDIR/d.db"
sql() { python3 -c 'import sqlite3,sys; c = sqlite3.connect(sys.argv[1]); r = c.execute(sys.argv[2]).fetchall(); c.commit(); print("\n".join("|".join(map(str, x)) for x in r))' "$DB" "$1"; }
# sqls VAR QUERY...: every QUERY in one python3 process, in order (then a
# commit); VAR[i] is what QUERY i gives, rows joined by " / ", columns by
# "|".
sqls() {
    local var=$1 out
    shift
    out=$(python3 -c 'import sqlite3,sys
c = sqlite3.connect(sys.argv[1])
for q in sys.argv[2:]:
    r = c.execute(q).fetchall()
    print(" / ".join("|".join(map(str, x)) for x in r))
c.commit()
print("end")' "$DB" "$@") || fail "sqls: $*"
    mapfile -t "$var" < <(printf %s "${out%end}")
}

run "$WORKDIR/1.out" "$WORKDIR/1.err" scan --db "$DB" "$FX/two.docker.tar"
run "$WORKDIR/2.out" "$WORKDIR/2.err" scan --db "$DB" "$SRCDIR/fixtures/demo/demo.docker.tar"
run "$WORKDIR/3.out" "$WORKDIR/3.err" scan --db "$DB" "$FX/base.docker.tar"

note "stats"
run "$WORKDIR/s.out" "$WORKDIR/s.err" db stats --db "$DB"
expect_rc 0 "db stats"
cat "$WORKDIR/s.out"
grep -q -x "scans:     3 (.* to .*)" "$WORKDIR/s.out" || fail "stats: scans"
grep -q -x "images:    4 (3 distinct refs)" "$WORKDIR/s.out" || fail "stats: images"
# The findings line as stats should print it, from the database itself.
n() { echo "CAST(TOTAL(severity = '$1') AS INTEGER) || ' $1'"; }
SEVQ="SELECT 'findings:  ' || COUNT(*) || ' (' || $(n critical) || ', ' ||
    $(n high) || ', ' || $(n medium) || ', ' || $(n low) || ', ' ||
    $(n info) || ')' FROM findings"
sqls Q 'SELECT COUNT(*) FROM layers' "$SEVQ" \
    'SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size())'
grep -q -x "layers:    ${Q[0]}" "$WORKDIR/s.out" || fail "stats: layers"
SEV=${Q[1]}
grep -q -x -F "$SEV" "$WORKDIR/s.out" || fail "stats: findings by severity (want: $SEV)"
SIZE=${Q[2]}
grep -q "^size:      $SIZE bytes" "$WORKDIR/s.out" || fail "stats: size $SIZE"

note "prune: only the demo scan is old"
sqls Q "UPDATE scans SET started_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-40 days') WHERE id = (SELECT scan_id FROM images WHERE ref = 'stowaway/demo:1')" \
    "SELECT changes()" \
    "SELECT COUNT(*) FROM image_layers il JOIN images i ON i.id = il.image_id WHERE i.ref = 'stowaway/demo:1' AND il.layer_digest NOT IN (SELECT layer_digest FROM image_layers il2 JOIN images i2 ON i2.id = il2.image_id WHERE i2.ref != 'stowaway/demo:1')" \
    'SELECT COUNT(*) FROM layers'
[ "${Q[1]}" -eq 1 ] || fail "premise: one demo scan made old (${Q[1]})"
DEMO_LAYERS=${Q[2]}
[ "$DEMO_LAYERS" -ge 2 ] || fail "premise: demo has layers of its own ($DEMO_LAYERS)"
LAYERS_BEFORE=${Q[3]}
run "$WORKDIR/p.out" "$WORKDIR/p.err" db prune --db "$DB" --older-than 30d
expect_rc 0 "prune 30d"
grep -q -x "pruned 1 scan, 1 image, $DEMO_LAYERS layers, [1-9][0-9]* findings" "$WORKDIR/p.out" ||
    { cat "$WORKDIR/p.out" >&2; fail "prune counts"; }
sqls Q "SELECT COUNT(*) FROM images WHERE ref = 'stowaway/demo:1'" \
    'SELECT COUNT(*) FROM layers' \
    'SELECT COUNT(*) FROM findings WHERE blob_digest NOT IN (SELECT digest FROM layers) AND blob_digest NOT IN (SELECT config_digest FROM images)' \
    'SELECT COUNT(*) FROM image_findings x LEFT JOIN findings f ON f.id = x.finding_id WHERE f.id IS NULL' \
    'PRAGMA integrity_check' 'PRAGMA foreign_key_check'
[ "${Q[0]}" -eq 0 ] || fail "demo image kept"
[ "${Q[1]}" -eq $((LAYERS_BEFORE - DEMO_LAYERS)) ] || fail "layer count after prune"
[ "${Q[2]}" -eq 0 ] || fail "findings of pruned blobs kept"
[ "${Q[3]}" -eq 0 ] || fail "dangling image_findings"
[ "${Q[4]}" = ok ] || fail "integrity_check"
[ "${#Q[@]}" -eq 6 ] && [ -z "${Q[5]}" ] || fail "foreign_key_check"
run "$WORKDIR/r.json" "$WORKDIR/r.err" report --db "$DB" --format json
expect_rc 0 "report after prune"
cj_all "$WORKDIR/r.json" <<'EOF'
eval [i["ref"] for i in I] == ["fixture/base:1", "fixture/other:2"] \
    # report after prune: the remaining images
has ref=fixture/base:1 path=app/id_rsa # base:1 findings kept
EOF

note "prune 30d again removes nothing; a scan reuses the cache"
run "$WORKDIR/p2.out" "$WORKDIR/p2.err" db prune --db "$DB" --older-than 30d
grep -q -x "pruned 0 scans, 0 images, 0 layers, 0 findings" "$WORKDIR/p2.out" || fail "second prune"
run "$WORKDIR/c.out" "$WORKDIR/c.err" scan --db "$DB" "$FX/base.docker.tar"
grep -q '(0 scanned, 3 cached)' "$WORKDIR/c.err" || fail "cache lost by prune"

note "prune everything, with --vacuum"
run "$WORKDIR/p3.out" "$WORKDIR/p3.err" db prune --db "$DB" --older-than 0s --vacuum
expect_rc 0 "prune 0s"
[ "$(sql 'SELECT (SELECT COUNT(*) FROM scans) + (SELECT COUNT(*) FROM layers) + (SELECT COUNT(*) FROM findings)')" -eq 0 ] ||
    fail "prune 0s left rows"
run "$WORKDIR/s2.out" "$WORKDIR/s2.err" db stats --db "$DB"
grep -q -x "scans:     0" "$WORKDIR/s2.out" || fail "stats after full prune"

note "usage errors"
for args in "prune --db $DB" "prune --db $DB --older-than 30x" "prune --db $DB --older-than -1d" \
    "stats --db $DB --older-than 1d" "frobnicate" "stats --db $WORKDIR/missing.db"; do
    # shellcheck disable=SC2086
    run "$WORKDIR/u.out" "$WORKDIR/u.err" db $args
    expect_rc 2 "db $args"
done
[ -e "$WORKDIR/missing.db" ] && fail "db stats created a database"
echo "PASS $TEST_NAME"
