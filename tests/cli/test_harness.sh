#!/usr/bin/env bash
# test_harness.sh - the CLI tests' own machinery can fail: every kind of
# check_json.py assertion fails the test when it does not hold, and lib.sh
# turns skipped parts into exit 77 only when everything else passed. A
# helper that always passed would let every test that uses it pass too.
. "$(dirname "$0")/lib.sh"

DEMO="$SRCDIR/fixtures/demo/demo.docker.tar"
scan_json demo --no-db "$DEMO"
R="$WORKDIR/demo.json"
echo '{"schema": 2}' >"$WORKDIR/bad.json"
echo '{"formats": {"x": {"layers": [], "config_digest": "y"}}}' \
    >"$WORKDIR/exp.json"

# holds TABLE: a table that holds passes (so a failing one below fails for
# what it asserts, not for its form).
holds() {
    python3 "$SRCDIR/tests/cli/check_json.py" table "$R" <<<"$1" \
        >/dev/null 2>"$WORKDIR/cj.err" ||
        { cat "$WORKDIR/cj.err" >&2; fail "table should hold: $1"; }
}
# fails TABLE: a table that does not hold exits 1.
fails() {
    local rc=0
    python3 "$SRCDIR/tests/cli/check_json.py" table "$R" <<<"$1" \
        >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 1 ] || fail "table should fail (exit 1, got $rc): $1"
}

note "check_json.py: every assertion kind can fail"
holds 'schema
has path=usr/bin/su kind=setuid
none path=usr/bin/true
count 1 path=usr/bin/su
eval len(F) == 5
print len(F)
norm demo.norm'
fails 'has path=usr/bin/nothing'
fails 'has path=usr/bin/su kind=setgid'
fails 'none path=usr/bin/su'
fails 'none pth=nothing' # a misspelt key would match nothing, forever
fails 'count 2 path=usr/bin/su'
fails 'count'
fails 'eval len(F) == 0'
fails 'eval F[99]'
fails 'print F[99]'
fails 'layers exp.json x'
fails 'norm'
fails 'frobnicate path=x'
fails 'with layer=9
has path=usr/bin/su'
fails 'with bogus
has path=usr/bin/su'
fails 'report bad.json
schema'
fails 'report missing.json
has path=usr/bin/su'
fails 'has path=usr/bin/su \
    kind=setgid'
fails 'has path=usr/bin/su # the good line does not hide the bad one
has path=usr/bin/nothing'
fails '# a table of comments checks nothing'
python3 "$SRCDIR/tests/cli/check_json.py" schemas "$R" "$WORKDIR/bad.json" \
    >/dev/null 2>&1 && fail "schemas passed a report of the wrong shape"

note "lib.sh: exit codes of a test"
# child NAME WANT BODY: a test script sourcing lib.sh runs BODY; its exit
# code must be WANT.
child() {
    local name=$1 want=$2 rc=0
    printf '. "%s/tests/cli/lib.sh"\n%s\n' "$SRCDIR" "$3" \
        >"$WORKDIR/$name.sh"
    WORKDIR="$WORKDIR/$name.d" bash "$WORKDIR/$name.sh" \
        >"$WORKDIR/$name.out" 2>&1 || rc=$?
    [ "$rc" -eq "$want" ] ||
        { cat "$WORKDIR/$name.out" >&2; fail "$name: exit $rc, want $want"; }
}
child pass 0 'true'
child fail 1 'fail "boom"'
child skip 77 'skip "no tool"'
child part 77 'skip_part "no tool"'
child part_then_fail 1 'skip_part "no tool"; fail "boom"'
child part_then_error 1 'skip_part "no tool"; false'
child part_then_bad_report 1 "skip_part 'no tool'
cp '$WORKDIR/bad.json' \"\$WORKDIR/r.json\"; STW_PENDING+=(\"\$WORKDIR/r.json\")"
child part_then_failed_table 1 "skip_part 'no tool'
cj_all '$R' <<<'has path=usr/bin/nothing'"
child own_trap 1 'tr''ap true EXIT' # spelt apart: lib.sh greps this file too
child at_exit 0 'at_exit "note ran"'
grep -q '^-- ran$' "$WORKDIR/at_exit.out" ||
    fail "at_exit: the command did not run"
