#!/usr/bin/env bash
# test_ignore.sh - .stowawayignore and --ignore-file: entries by rule, path
# glob, fingerprint and image scope leave the report and gating; an expired
# entry warns in one stderr line and suppresses nothing; the summary counts
# what was suppressed; the database keeps every finding; a broken file is a
# usage error naming file and line.
. "$(dirname "$0")/lib.sh"
gen_fixtures
IMG="$FX/two.docker.tar"
cd "$WORKDIR"

scan_json all --no-db "$IMG"
ALL="$WORKDIR/all.json"
FACTS=$(cj_all "$ALL" <<'EOF'
print len(F)
print next(f["fingerprint"] for f in F \
    if f["path"] == "usr/bin/su" and I[f["image"]]["ref"] == "fixture/base:1")
EOF
)
{ read -r N_ALL && read -r FP_SU_BASE; } <<<"$FACTS"

note "rule, path glob, fingerprint scoped to an image"
cat >.stowawayignore <<IGN
# accepted risks
rule=world-writable-dir reason=scratch dir, see SEC-12
path=app/keys/* expires=2999-12-31 reason=test keys, revoked
fingerprint=$FP_SU_BASE image=fixture/base:*
IGN
scan_json ign --no-db "$IMG"
R="$WORKDIR/ign.json"
WANT_SUP=$(cj_all "$R" <<EOF
none rule=world-writable-dir # rule= entry did not suppress
none 'path~^app/keys/' # path glob did not suppress
has path=app/id_rsa # path glob suppressed too much
none ref=fixture/base:1 path=usr/bin/su \\
    # fingerprint entry did not suppress in fixture/base:1
has ref=fixture/other:2 path=usr/bin/su \\
    # image= scope: other:2's usr/bin/su must stay
print $N_ALL - len(F)
EOF
)
[ "$WANT_SUP" -gt 9 ] || fail "expected at least 10 suppressed, got $WANT_SUP"
run "$WORKDIR/t.out" "$WORKDIR/t.err" scan --no-db "$IMG"
grep -q -E "; $WANT_SUP suppressed \($WANT_SUP by ignore file\)\$" "$WORKDIR/t.err" ||
    { cat "$WORKDIR/t.err" >&2; fail "summary does not count suppressed"; }
grep -q 'app/keys/' "$WORKDIR/t.out" && fail "table shows a suppressed path"
[ "$(grep -c '' "$WORKDIR/t.err")" -eq 1 ] || fail "want only the summary on stderr"

note "--no-ignore-file and --ignore-file FILE"
scan_json noign --no-db --no-ignore-file "$IMG"
mv .stowawayignore custom.ignore
scan_json custom --no-db --ignore-file custom.ignore "$IMG"
cj_all "$WORKDIR/noign.json" <<EOF
eval len(F) == $N_ALL # --no-ignore-file still suppressed
report ign.json
norm ign.norm
report custom.json
norm custom.norm
EOF
cmp "$WORKDIR/ign.norm" "$WORKDIR/custom.norm" ||
    fail "--ignore-file gives another result than ./.stowawayignore"

note "gating ignores suppressed findings"
# info-only.tar has exactly one finding, world-writable-dir (info).
run "$WORKDIR/g.out" "$WORKDIR/g.err" scan --no-db --fail-on info "$FX/info-only.tar"
expect_rc 1 "info-only without ignore"
printf 'rule=world-writable-dir\n' >gate.ignore
run "$WORKDIR/g.out" "$WORKDIR/g.err" scan --no-db --fail-on info \
    --ignore-file gate.ignore "$FX/info-only.tar"
expect_rc 0 "info-only with its only finding ignored"
grep -q '^no findings in 1 image' "$WORKDIR/g.out" || fail "table should say no findings"

note "expired entries warn once each and no longer suppress"
cat >expired.ignore <<'IGN'
rule=world-writable-dir expires=2001-02-03 reason=until the base is fixed
rule=setgid-file expires=2002-01-01
rule=nothing-matches expires=2999-01-01
IGN
run "$WORKDIR/x.json" "$WORKDIR/x.err" scan --no-db --format json \
    --ignore-file expired.ignore "$IMG"
expect_rc 1 "expired"
[ "$(grep -c 'warning: ' "$WORKDIR/x.err")" -eq 2 ] ||
    { cat "$WORKDIR/x.err" >&2; fail "want 2 warning lines"; }
grep -q -x 'stowaway: warning: expired.ignore:1: ignore entry expired on 2001-02-03 (reason: until the base is fixed); it no longer suppresses' \
    "$WORKDIR/x.err" || { cat "$WORKDIR/x.err" >&2; fail "warning line text"; }
grep -q 'expired.ignore:2: ignore entry expired on 2002-01-01; it' "$WORKDIR/x.err" ||
    fail "second warning"
cj_all "$WORKDIR/x.json" <<'EOF'
has rule=world-writable-dir # expired entry still suppresses
has rule=setgid-file # expired entry still suppresses (2)
EOF

note "the database keeps suppressed findings"
DB="$WORKDIR/s.db"
run "$WORKDIR/d.out" "$WORKDIR/d.err" scan --db "$DB" --ignore-file custom.ignore "$IMG"
expect_rc 1 "scan into db"
N_DB=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(
  "SELECT COUNT(*) FROM image_findings").fetchone()[0])' "$DB")
[ "$N_DB" -eq "$N_ALL" ] || fail "database has $N_DB image findings, want all $N_ALL"

note "bad ignore files are usage errors before any scan"
printf 'rule=x\ncolour=red\n' >bad.ignore
run "$WORKDIR/b.out" "$WORKDIR/b.err" scan --db "$WORKDIR/b.db" --ignore-file bad.ignore "$IMG"
expect_rc 2 "bad ignore file"
one_line_naming "$WORKDIR/b.err" "bad.ignore:2" "bad ignore file"
[ -e "$WORKDIR/b.db" ] && fail "a bad ignore file must stop before the scan"
run "$WORKDIR/b.out" "$WORKDIR/b.err" scan --no-db --ignore-file missing.ignore "$IMG"
expect_rc 2 "missing ignore file"
one_line_naming "$WORKDIR/b.err" missing.ignore "missing ignore file"
run "$WORKDIR/b.out" "$WORKDIR/b.err" scan --no-db --ignore-file x --no-ignore-file "$IMG"
expect_rc 2 "--ignore-file with --no-ignore-file"
check_no_plaintext "$WORKDIR"/*.out "$WORKDIR"/*.err "$WORKDIR"/*.json
echo "PASS $TEST_NAME"
