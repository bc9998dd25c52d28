# lib.sh - shared helpers for the CLI tests, sourced by tests/cli/test_*.sh.
# ctest provides STOWAWAY (the binary), SRCDIR (repo root) and WORKDIR (a
# scratch directory owned by one test). Exit 77 means "skipped".
set -euo pipefail

: "${STOWAWAY:?set STOWAWAY to the stowaway binary}"
: "${SRCDIR:?set SRCDIR to the repository root}"
: "${WORKDIR:?set WORKDIR to a scratch directory}"

# A sanitizer report must not pass for "findings found" (exit 1).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=98:print_stacktrace=1"
# Never let a test read or write a database outside its scratch directory.
export HOME="$WORKDIR/home"
export XDG_CACHE_HOME="$WORKDIR/home/.cache"
export XDG_DATA_HOME="$WORKDIR/home/.local/share"

# cj COMMAND REPORT ...: assertions on a JSON report (see check_json.py).
cj() {
    python3 "$SRCDIR/tests/cli/check_json.py" "$@"
}
FX="$WORKDIR/fx"
TEST_NAME="$(basename "$0" .sh)"

rm -rf "$WORKDIR"
mkdir -p "$WORKDIR" "$HOME"

fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    exit 1
}

note() {
    echo "-- $*"
}

skip() {
    echo "SKIP [$TEST_NAME]: $*"
    exit 77
}

# Generates every fixture into $FX (about 0.5 s, 50 MB).
gen_fixtures() {
    python3 "$SRCDIR/fixtures/make-fixtures.py" "$FX" ||
        fail "fixture generator failed"
}

# run OUT ERR ARGS... : runs stowaway ARGS with stdout to OUT and stderr to
# ERR; sets RC. Never aborts the script.
run() {
    local out=$1 err=$2
    shift 2
    set +e
    "$STOWAWAY" "$@" >"$out" 2>"$err"
    RC=$?
    set -e
    if [ "$RC" -ge 90 ] || grep -q -e 'AddressSanitizer' \
        -e 'LeakSanitizer' -e 'runtime error:' "$err"; then
        cat "$err" >&2
        fail "sanitizer report or crash (exit $RC) running: stowaway $*"
    fi
}

# scan_json NAME ARGS... : scans with --format json into $WORKDIR/NAME.json
# (stderr in NAME.err), requires exit 0 or 1 and a well-formed report.
scan_json() {
    local name=$1
    shift
    run "$WORKDIR/$name.json" "$WORKDIR/$name.err" scan --format json "$@"
    if [ "$RC" -ne 0 ] && [ "$RC" -ne 1 ]; then
        cat "$WORKDIR/$name.err" >&2
        fail "stowaway scan $* exited $RC, want 0 or 1"
    fi
    cj schema "$WORKDIR/$name.json" || fail "bad report shape for: $*"
}

# expect_rc WANT CONTEXT
expect_rc() {
    [ "$RC" -eq "$1" ] || {
        cat "$WORKDIR"/*.err 2>/dev/null | tail -5 >&2 || true
        fail "$2: exit $RC, want $1"
    }
}

# same_findings A.json B.json CONTEXT [norm flags]: the format-independent
# part of two reports is identical.
same_findings() {
    local a=$1 b=$2 ctx=$3
    shift 3
    cj norm "$a" "$@" >"$a.norm"
    cj norm "$b" "$@" >"$b.norm"
    [ -s "$a.norm" ] || fail "$ctx: no findings at all in $a"
    diff -u "$a.norm" "$b.norm" >&2 || fail "$ctx: findings differ"
}

# Findings every full scan of the base image must contain (see
# fixtures/README.md). Image index defaults to 0.
check_base_findings() {
    local r=$1 img=${2:-0}
    local c="image=$img"
    # L0 metadata
    cj has "$r" "$c" path=usr/bin/su kind=setuid rule=setuid-file layer=0 \
        visible=true uid=0 || fail "setuid usr/bin/su"
    cj eval "$r" 'any(f["path"] == "usr/bin/su" and f["kind"] == "setuid"
        and f["mode"] & 0o7777 == 0o4755 for f in F)' ||
        fail "usr/bin/su mode is not 04755"
    cj has "$r" "$c" path=usr/bin/wall kind=setgid rule=setgid-file layer=0 \
        visible=true gid=5 || fail "setgid usr/bin/wall"
    cj has "$r" "$c" path=var/bad kind=world-writable \
        rule=world-writable-dir severity=info layer=0 visible=true ||
        fail "world-writable dir var/bad"
    cj has "$r" "$c" path=opt/ww.txt kind=world-writable \
        rule=world-writable-file layer=0 visible=true ||
        fail "world-writable file opt/ww.txt"
    cj none "$r" "$c" path=tmp || fail "sticky /tmp must not be flagged"
    cj none "$r" "$c" path=usr/share/doc/base/README ||
        fail "quoted PEM header in prose must not fire"
    cj none "$r" "$c" path=usr/bin/true || fail "plain 0755 file flagged"
    cj none "$r" "$c" path=etc/hostname || fail "etc/hostname flagged"
    # L1 keys; app/id_rsa is deleted by a whiteout in L2
    cj has "$r" "$c" path=app/id_rsa kind=private-key layer=1 visible=false \
        removed_in_layer=2 || fail "app/id_rsa whiteout"
    cj none "$r" "$c" path=app/id_rsa visible=true ||
        fail "app/id_rsa reported visible"
    # ... app/keep/key.pem is overwritten in L2 with a harmless file
    cj has "$r" "$c" path=app/keep/key.pem kind=private-key layer=1 \
        visible=false removed_in_layer=2 || fail "overwritten key.pem"
    cj none "$r" "$c" path=app/keep/key.pem layer=2 ||
        fail "harmless replacement of key.pem flagged"
    # ... app/data/ is made opaque in L2, hiding the setuid app/data/x
    cj has "$r" "$c" path=app/data/x kind=setuid layer=1 visible=false \
        removed_in_layer=2 || fail "opaque dir hides app/data/x"
    local k
    for k in ec.pem openssh pkcs8.pem enc.pem dsa.pem pgp.asc putty.ppk; do
        cj has "$r" "$c" path=app/keys/$k kind=private-key layer=1 \
            visible=true || fail "private key app/keys/$k"
    done
    # A key that straddles the 1 MiB boundary of a 3 MiB file
    cj has "$r" "$c" path=app/big.bin kind=private-key layer=1 visible=true \
        'offset>=1047876' 'offset<=1047940' || fail "key across 1 MiB boundary"
    cj none "$r" "$c" layer=2 'kind~^(private-key|secret)$' ||
        fail "whiteouts/replacements in L2 produced key findings"
    # whiteout markers are not files
    cj none "$r" "$c" 'path~\.wh\.' || fail "whiteout marker reported as path"
    # Config Env carries a GitHub token: a config finding, layer null
    cj has "$r" "$c" layer=null path='<config>' || fail "config Env token"
}

# Secrets must never appear in full in a report or database.
check_no_plaintext() {
    local f
    for f in "$@"; do
        [ -e "$f" ] || continue
        if grep -a -q -F -e "$(sed -n 2p "$SRCDIR/fixtures/keys/id_rsa.pem")" \
            -e "$(sed -n 3p "$SRCDIR/fixtures/keys/big_rsa.pem")" \
            -e "$(sed -n 2p "$SRCDIR/fixtures/keys/ec.pem")" \
            -e "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" "$f"; then
            fail "a secret appears in full in $f"
        fi
    done
}

# db_snapshot DB OUT: every row of every table, as JSON lines "table\trow",
# without INTEGER PRIMARY KEY columns (rowids may be reassigned).
db_snapshot() {
    python3 - "$1" "$2" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
out = []
for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table' "
                       "AND name NOT LIKE 'sqlite_%' ORDER BY name"):
    cols = db.execute('PRAGMA table_info("%s")' % t).fetchall()
    keep = [c[1] for c in cols
            if not (c[5] == 1 and c[2].upper() == "INTEGER")]
    if not keep:
        continue
    q = 'SELECT %s FROM "%s"' % (",".join('"%s"' % c for c in keep), t)
    for row in db.execute(q):
        row = [r.hex() if isinstance(r, bytes) else r for r in row]
        out.append(t + "\t" + json.dumps(row))
with open(sys.argv[2], "w") as f:
    f.write("".join(sorted(x + "\n" for x in out)))
PY
}

# db_still_has DB SNAPSHOT CONTEXT: every row of SNAPSHOT is still in DB
# (new rows, such as the failed scan and its error, are allowed), the
# database is sound, and no image row was added.
db_still_has() {
    local db=$1 snap=$2 ctx=$3
    db_snapshot "$db" "$snap.after"
    local missing
    missing=$(comm -23 "$snap" "$snap.after" | head -5)
    [ -z "$missing" ] || fail "$ctx: earlier rows lost or changed: $missing"
    [ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$db")" = ok ] ||
        fail "$ctx: database integrity_check failed"
    local t
    for t in $(cut -f1 "$snap" | sort -u | grep -x -E 'images?'); do
        [ "$(grep -c "^$t	" "$snap")" -eq "$(grep -c "^$t	" "$snap.after")" ] ||
            fail "$ctx: a failed scan added rows to table $t"
    done
}

# one_line_naming ERR TARGET CONTEXT: stderr is exactly one line and names
# the target (its file name, at least).
one_line_naming() {
    local err=$1 target=$2 ctx=$3
    local n
    n=$(grep -c '' "$err" || true)
    [ "$n" -eq 1 ] || { cat "$err" >&2; fail "$ctx: $n stderr lines, want 1"; }
    grep -q -F -- "$(basename -- "$target")" "$err" ||
        { cat "$err" >&2; fail "$ctx: stderr does not name $target"; }
}
