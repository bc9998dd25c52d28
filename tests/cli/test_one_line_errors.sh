#!/usr/bin/env bash
# test_one_line_errors.sh - one failure, one line, and no debris: a full
# database is one error line, not two; a report that cannot be written (no
# space left) names its file and leaves no empty or cut-short report (an
# earlier one stays as it was); `db merge OUT bad.db` leaves no empty OUT.
# The full-disk cases need a tiny tmpfs, mounted in a mount namespace of
# our own as root; elsewhere they are skipped (exit 77) after the rest.
if [ -z "${STW_IN_NS:-}" ] && [ "$(id -u)" -eq 0 ] &&
    unshare -m true 2>/dev/null; then
    STW_IN_NS=1 exec unshare -m bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
gen_fixtures
cd "$WORKDIR"

note "db merge OUT bad.db leaves no OUT"
echo "not a database" >"$WORKDIR/bad.db"
run "$WORKDIR/m.out" "$WORKDIR/m.err" db merge "$WORKDIR/out.db" "$WORKDIR/bad.db"
expect_rc 2 "merge of a bad input"
one_line_naming "$WORKDIR/m.err" bad.db "merge of a bad input"
[ -z "$(ls "$WORKDIR"/out.db* 2>/dev/null)" ] ||
    fail "db merge left $(ls "$WORKDIR"/out.db*) behind"
run "$WORKDIR/s.out" "$WORKDIR/s.err" scan --db "$WORKDIR/good.db" "$FX/base.docker.tar"
run "$WORKDIR/m.out" "$WORKDIR/m.err" db merge "$WORKDIR/out.db" \
    "$WORKDIR/bad.db" "$WORKDIR/good.db"
expect_rc 2 "merge of a bad and a good input"
[ -s "$WORKDIR/out.db" ] || fail "a merge with one good input must keep OUT"

note "a report to a full device names it"
if [ -w /dev/full ]; then
    run "$WORKDIR/f.out" "$WORKDIR/f.err" scan --no-db --format json \
        -o /dev/full "$FX/base.docker.tar"
    expect_rc 2 "-o /dev/full"
    one_line_naming "$WORKDIR/f.err" /dev/full "-o /dev/full"
fi

note "a report that is complete replaces the old one; a failed run keeps it"
echo old >"$WORKDIR/r.json"
run "$WORKDIR/r.out" "$WORKDIR/r.err" scan --no-db --format json \
    -o "$WORKDIR/r.json" "$FX/base.docker.tar" "$WORKDIR/missing.tar"
expect_rc 2 "a missing target"
cj schema "$WORKDIR/r.json" || fail "the report of the targets scanned"
echo old >"$WORKDIR/r.json"
run "$WORKDIR/r.out" "$WORKDIR/r.err" scan --no-db --format json \
    --rules "$WORKDIR/missing-rules.yaml" -o "$WORKDIR/r.json" \
    "$FX/base.docker.tar"
expect_rc 2 "missing rules"
[ "$(cat "$WORKDIR/r.json")" = old ] || fail "a failed run replaced the report"
[ -z "$(ls "$WORKDIR"/r.json.* 2>/dev/null)" ] || fail "temporary report left"

[ -n "${STW_IN_NS:-}" ] || skip "no mount namespace for a full tmpfs"
FULL="$WORKDIR/full"
mkdir -p "$FULL"
mount -t tmpfs -o size=200k tmpfs "$FULL" || skip "cannot mount a tmpfs"

note "a full database: one line"
run "$WORKDIR/d.out" "$WORKDIR/d.err" scan -q --db "$FULL/d.db" "$FX/base.docker.tar"
expect_rc 2 "scan into a full database"
one_line_naming "$WORKDIR/d.err" d.db "scan into a full database"
grep -q "full" "$WORKDIR/d.err" || fail "the error does not say the disk is full"
umount "$FULL"

note "no space for the report: one line naming it, the old report kept"
mount -t tmpfs -o size=64k tmpfs "$FULL" || skip "cannot mount a tmpfs"
echo old >"$FULL/r.json"
head -c 56000 /dev/zero >"$FULL/fill"
for fmt in json sarif html; do
    run "$WORKDIR/o.out" "$WORKDIR/o.err" scan --no-db --format $fmt \
        -o "$FULL/r.json" "$FX/base.docker.tar"
    expect_rc 2 "report ($fmt) on a full disk"
    one_line_naming "$WORKDIR/o.err" "$FULL/r.json" "report ($fmt) on a full disk"
    grep -q -F "$FULL/r.json" "$WORKDIR/o.err" || fail "the error does not name the file"
    [ "$(cat "$FULL/r.json")" = old ] || fail "$fmt: the old report was lost"
    [ "$(ls "$FULL")" = "$(printf 'fill\nr.json')" ] ||
        fail "$fmt: debris left: $(ls "$FULL")"
done
rm "$FULL/r.json"
run "$WORKDIR/o.out" "$WORKDIR/o.err" scan --no-db --format json \
    -o "$FULL/r.json" "$FX/base.docker.tar"
expect_rc 2 "new report on a full disk"
[ ! -e "$FULL/r.json" ] || fail "an empty or cut-short report was left"
umount "$FULL"
echo "PASS $TEST_NAME"
