#!/usr/bin/env bash
# test_prune_race.sh - `db prune` never races a scan: a loop of scans and a
# loop of `db prune --older-than 0s` (which removes every finished scan at
# once) run together as separate processes on one database file, and every
# scan still stores its image whole - the layers it committed or reused are
# not pruned before its image refers to them, and its own scan row is not
# removed while it runs - and reports exactly what a scan without a
# database finds.
. "$(dirname "$0")/lib.sh"
gen_fixtures
cd "$WORKDIR"
DB="$WORKDIR/race.db"
IMAGES=("$FX/base.docker.tar" "$FX/shared.docker.tar" "$FX/base.oci.tar"
    "$SRCDIR/fixtures/demo/demo.docker.tar")
ROUNDS=${PRUNE_RACE_ROUNDS:-12}

for i in "${!IMAGES[@]}"; do
    scan_json "ref$i" --no-db --exit-zero "${IMAGES[$i]}"
done

note "scans and prunes together"
rm -f "$WORKDIR/stop"
(
    n=0
    while [ ! -e "$WORKDIR/stop" ]; do
        set +e
        "$STOWAWAY" db prune --db "$DB" --older-than 0s \
            >"$WORKDIR/prune.out" 2>"$WORKDIR/prune.err"
        rc=$?
        set -e
        # The first prunes may find no file yet.
        if [ "$rc" -ne 0 ] && [ -e "$DB" ] &&
            ! grep -q 'no such database' "$WORKDIR/prune.err"; then
            cat "$WORKDIR/prune.err" >&2
            echo "prune exit $rc" >"$WORKDIR/prune.failed"
        fi
        n=$((n + 1))
    done
    echo "$n" >"$WORKDIR/prunes"
) &
PRUNER=$!
at_exit 'touch "$WORKDIR/stop"; wait "$PRUNER" 2>/dev/null || true'

for r in $(seq 1 "$ROUNDS"); do
    i=$((r % ${#IMAGES[@]}))
    run "$WORKDIR/s$r.json" "$WORKDIR/s$r.err" scan --db "$DB" --format json \
        --exit-zero "${IMAGES[$i]}"
    [ "$RC" -eq 0 ] || { cat "$WORKDIR/s$r.err" >&2; fail "round $r: scan exit $RC"; }
done
touch "$WORKDIR/stop"
wait "$PRUNER"
# Each round found what the scan without a database did (same_findings,
# every report normalised in one python3).
for i in "${!IMAGES[@]}"; do
    printf 'report ref%s.json\nnorm ref%s.norm\n' "$i" "$i"
done >"$WORKDIR/rounds.table"
for r in $(seq 1 "$ROUNDS"); do
    printf 'report s%s.json\nnorm s%s.norm\n' "$r" "$r"
done >>"$WORKDIR/rounds.table"
cj_all "$WORKDIR/ref0.json" <"$WORKDIR/rounds.table"
for r in $(seq 1 "$ROUNDS"); do
    i=$((r % ${#IMAGES[@]}))
    norm_diff "$WORKDIR/ref$i.norm" "$WORKDIR/s$r.norm" "round $r (${IMAGES[$i]##*/})"
done
[ ! -e "$WORKDIR/prune.failed" ] || fail "a prune failed: $(cat "$WORKDIR/prune.failed")"
note "$ROUNDS scans alongside $(cat "$WORKDIR/prunes") prunes"
[ "$(cat "$WORKDIR/prunes")" -ge 2 ] || fail "premise: prunes ran during the scans"

note "what survives is sound"
python3 - "$DB" <<'PY' || fail "database unsound after the race"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
assert c.execute("PRAGMA foreign_key_check").fetchall() == []
PY
run "$WORKDIR/p.out" "$WORKDIR/p.err" db prune --db "$DB" --older-than 0s
expect_rc 0 "final prune"
grep -q -x "pruned [0-9]* scans\?, [0-9]* images\?, [0-9]* layers\?, [0-9]* findings\?" \
    "$WORKDIR/p.out" || fail "final prune output"
python3 - "$DB" <<'PY' || fail "a final prune with no scan running left rows"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for t in ("scans", "images", "layers", "findings"):
    n = c.execute("SELECT COUNT(*) FROM " + t).fetchone()[0]
    assert n == 0, (t, n)
PY
echo "PASS $TEST_NAME"
