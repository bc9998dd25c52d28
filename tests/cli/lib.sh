# lib.sh - shared helpers for the CLI tests, sourced by tests/cli/test_*.sh.
# ctest provides STOWAWAY (the binary), SRCDIR (repo root) and WORKDIR (a
# scratch directory owned by one test). Exit 77 means "skipped": the whole
# test (skip) or a part of it (skip_part; the checks after it still run).
set -euo pipefail

: "${STOWAWAY:?set STOWAWAY to the stowaway binary}"
: "${SRCDIR:?set SRCDIR to the repository root}"
: "${WORKDIR:?set WORKDIR to a scratch directory}"

# A sanitizer report must not pass for "findings found" (exit 1).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=99"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=98:print_stacktrace=1"
# The tests' python3 snippets import their shared helpers (tarlib.py).
export PYTHONPATH="$SRCDIR/tests/cli${PYTHONPATH:+:$PYTHONPATH}"
# Never let a test read or write a database outside its scratch directory.
export HOME="$WORKDIR/home"
export XDG_CACHE_HOME="$WORKDIR/home/.cache"
export XDG_DATA_HOME="$WORKDIR/home/.local/share"

# cj COMMAND REPORT ...: one assertion on a JSON report (see check_json.py);
# cj_all (below) checks many in one python3 process.
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

# skip_part REASON: a part of the test cannot run here (a tool is missing);
# says so and returns, so the checks that do not need it still run. The
# test then exits 77 (skipped) if everything else passed, naming the parts.
STW_SKIPPED=()
skip_part() {
    echo "SKIP part [$TEST_NAME]: $*"
    STW_SKIPPED+=("$*")
}

# at_exit COMMAND: run COMMAND (eval'd) when the test exits. Tests use this,
# never their own `trap ... EXIT`, which would replace lib.sh's: that one
# also runs the report shape checks scan_json deferred, and turns skipped
# parts into exit 77.
STW_AT_EXIT=()
at_exit() {
    STW_AT_EXIT+=("$1")
}
stw_on_exit() {
    local rc=$? c
    set +e
    for c in "${STW_AT_EXIT[@]}"; do
        eval "$c"
    done
    if [ "$rc" -eq 0 ] || [ "$rc" -eq 77 ]; then
        cj_flush || rc=1
    fi
    if [ "$rc" -eq 0 ] && [ "${#STW_SKIPPED[@]}" -gt 0 ]; then
        c=$(printf '%s; ' "${STW_SKIPPED[@]}")
        echo "SKIP [$TEST_NAME]: every other check passed; skipped parts: ${c%; }"
        rc=77
    fi
    exit "$rc"
}
trap stw_on_exit EXIT
if grep -q -E '^[^#]*\btrap\b.*\bEXIT\b' "$0"; then
    fail "$0 sets its own EXIT trap: use at_exit (see lib.sh)"
fi

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
    case " ${STW_PENDING[*]} " in
    *" $WORKDIR/$name.json "*) cj_flush ;;
    esac
    run "$WORKDIR/$name.json" "$WORKDIR/$name.err" scan --format json "$@"
    if [ "$RC" -ne 0 ] && [ "$RC" -ne 1 ]; then
        cat "$WORKDIR/$name.err" >&2
        fail "stowaway scan $* exited $RC, want 0 or 1"
    fi
    STW_PENDING+=("$WORKDIR/$name.json")
}

# Reports whose shape scan_json has not checked yet: the next cj_all, a
# scan_json about to overwrite one, or the end of the test checks them, in
# a python3 process that runs anyway.
STW_PENDING=()
cj_flush() {
    [ "${#STW_PENDING[@]}" -gt 0 ] || return 0
    local p=("${STW_PENDING[@]}")
    STW_PENDING=()
    python3 "$SRCDIR/tests/cli/check_json.py" schemas "${p[@]}" ||
        fail "bad report shape (see above)"
}

# cj_all REPORT [COND...] <<'EOF' ... EOF: every assertion of the table on
# stdin, one a line, checked in one python3 process (check_json.py table:
# "has COND...", "none COND...", "count N COND...", "eval EXPR", "schema",
# "print EXPR" (a value for the test: V=$(cj_all R <<'EOF' ...)),
# "layers EXP FORMAT [IMAGE]", "norm OUT [FLAGS]", "report PATH"; words
# split as the shell does; " # MESSAGE" says what a failure means). CONDs
# on the command line are added to every has/none/count line. Every
# failing line is reported, with the findings involved; then the test
# fails.
cj_all() {
    local r=$1 p=() x
    shift
    for x in "${STW_PENDING[@]}"; do
        p+=("--schema=$x")
    done
    STW_PENDING=()
    python3 "$SRCDIR/tests/cli/check_json.py" table "$r" "${p[@]}" "$@" ||
        fail "assertions on $r failed (see above)"
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
    local a=$1 b=$2 ctx=$3 f
    shift 3
    f=""
    [ "$#" -eq 0 ] || f=$(printf ' %q' "$@")
    cj_all "$a" <<EOF
norm $(printf %q "$a.norm")$f
report $(printf %q "$b")
norm $(printf %q "$b.norm")$f
EOF
    norm_diff "$a.norm" "$b.norm" "$ctx"
}

# norm_diff A.norm B.norm CONTEXT: the rest of same_findings, for norm
# files written by a cj_all table ("norm OUT"): A holds findings, and B
# the same ones.
norm_diff() {
    [ -s "$1" ] || fail "$3: no findings at all in $1"
    diff -u "$1" "$2" >&2 || fail "$3: findings differ"
}

# check_base_findings REPORT [IMAGE]: findings every full scan of the base
# image must contain (see fixtures/README.md). IMAGE is the image's index
# (default 0) or a condition naming it (ref=fixture/base:1).
check_base_findings() {
    cj_all "$1" < <(base_findings_table "${2:-0}")
}

# base_findings_table [IMAGE]: check_base_findings' assertions as cj_all
# table lines, to check them along with others in one process. Ends with
# a "with" line that drops the image condition again.
base_findings_table() {
    local img=${1:-0}
    case $img in *=*) ;; *) img="image=$img" ;; esac
    local k keys=""
    for k in ec.pem openssh pkcs8.pem enc.pem dsa.pem pgp.asc putty.ppk; do
        keys+="has path=app/keys/$k kind=private-key layer=1 visible=true"
        keys+=" # private key app/keys/$k"$'\n'
    done
    cat <<EOF
with $img
# L0 metadata
has path=usr/bin/su kind=setuid rule=setuid-file layer=0 visible=true uid=0 \\
    # setuid usr/bin/su
eval any(f["path"] == "usr/bin/su" and f["kind"] == "setuid" \\
    and f["mode"] & 0o7777 == 0o4755 for f in F) # usr/bin/su mode is not 04755
has path=usr/bin/wall kind=setgid rule=setgid-file layer=0 visible=true gid=5 \\
    # setgid usr/bin/wall
has path=var/bad kind=world-writable rule=world-writable-dir severity=info \\
    layer=0 visible=true # world-writable dir var/bad
has path=opt/ww.txt kind=world-writable rule=world-writable-file layer=0 \\
    visible=true # world-writable file opt/ww.txt
none path=tmp # sticky /tmp must not be flagged
none path=usr/share/doc/base/README # quoted PEM header in prose must not fire
none path=usr/bin/true # plain 0755 file flagged
none path=etc/hostname # etc/hostname flagged
# L1 keys; app/id_rsa is deleted by a whiteout in L2
has path=app/id_rsa kind=private-key layer=1 visible=false removed_in_layer=2 \\
    # app/id_rsa whiteout
none path=app/id_rsa visible=true # app/id_rsa reported visible
# ... app/keep/key.pem is overwritten in L2 with a harmless file
has path=app/keep/key.pem kind=private-key layer=1 visible=false \\
    removed_in_layer=2 # overwritten key.pem
none path=app/keep/key.pem layer=2 # harmless replacement of key.pem flagged
# ... app/data/ is made opaque in L2, hiding the setuid app/data/x
has path=app/data/x kind=setuid layer=1 visible=false removed_in_layer=2 \\
    # opaque dir hides app/data/x
$keys
# A key that straddles the 1 MiB boundary of a 3 MiB file
has path=app/big.bin kind=private-key layer=1 visible=true \\
    'offset>=1047876' 'offset<=1047940' # key across 1 MiB boundary
none layer=2 'kind~^(private-key|secret)\$' \\
    # whiteouts/replacements in L2 produced key findings
# whiteout markers are not files
none 'path~\.wh\.' # whiteout marker reported as path
# Config Env carries a GitHub token: a config finding, layer null
has layer=null path='<config>' # config Env token
with
EOF
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

# db_snapshot DB OUT [--integrity]: every row of every table, as JSON lines
# "table\trow", without INTEGER PRIMARY KEY columns (rowids may be
# reassigned). --integrity: print what PRAGMA integrity_check says first.
db_snapshot() {
    python3 - "$@" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
if "--integrity" in sys.argv[3:]:
    print(db.execute("PRAGMA integrity_check").fetchone()[0])
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
    local missing integrity
    integrity=$(db_snapshot "$db" "$snap.after" --integrity)
    missing=$(comm -23 "$snap" "$snap.after" | head -5)
    [ -z "$missing" ] || fail "$ctx: earlier rows lost or changed: $missing"
    [ "$integrity" = ok ] ||
        fail "$ctx: database integrity_check failed: $integrity"
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
