#!/usr/bin/env bash
# test_rules_cache.sh - the compiled rules cache of `stowaway scan`, which
# report, -V and rules share: the first run stores an entry beside the
# default database, the second uses it (-v says which), and the findings
# are those of --no-rules-cache; a truncated, altered, symlinked or
# directory entry and an unusable cache directory change nothing but the
# time (same findings, exit 0 on a clean image); a changed rule file gets
# an entry of its own.
. "$(dirname "$0")/lib.sh"
DEMO="$SRCDIR/fixtures/demo/demo.docker.tar"
RULES_DIR="$XDG_CACHE_HOME/stowaway/rules"

# A one-layer image with nothing to find: exit 0 is the clean answer.
python3 - "$WORKDIR/clean.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b"hello, nothing to see here\n"
    ti = tarfile.TarInfo("srv/hello.txt")
    ti.size, ti.mtime, ti.mode = len(data), 1700000000, 0o644
    t.addfile(ti, io.BytesIO(data))
PY
# A custom rule that fires on the clean image's neighbour only.
cat >"$WORKDIR/custom.yaml" <<'YAML'
rules:
  - id: custom-token
    title: custom token
    severity: high
    keywords: ['cust_']
    regex: 'cust_[0-9a-f]{16}'
YAML

entries() { find "$RULES_DIR" -maxdepth 1 -name '*.hsdb' 2>/dev/null | wc -l; }

# scan_both NAME ARGS...: a JSON scan with the cache (stderr of -v in
# NAME.err) and one without; the findings must match. RC is the cached one's.
scan_both() {
    local name=$1
    shift
    run "$WORKDIR/$name.json" "$WORKDIR/$name.err" scan -v --no-db \
        --format json "$@"
    local rc=$RC
    run "$WORKDIR/$name.nc.json" "$WORKDIR/$name.nc.err" scan --no-db \
        --no-rules-cache --format json "$@"
    [ "$RC" -eq "$rc" ] || fail "$name: exit $rc with the cache, $RC without"
    cj norm "$WORKDIR/$name.json" --fingerprints >"$WORKDIR/$name.norm"
    cj norm "$WORKDIR/$name.nc.json" --fingerprints >"$WORKDIR/$name.nc.norm"
    diff -u "$WORKDIR/$name.nc.norm" "$WORKDIR/$name.norm" >&2 ||
        fail "$name: findings differ with the rules cache"
    RC=$rc
}

note "first run stores, second loads, findings as without a cache"
scan_both first "$DEMO"
expect_rc 1 "demo image"
grep -q 'compiled, and stored in the cache' "$WORKDIR/first.err" ||
    fail "first run: -v does not say the rules were stored"
[ "$(entries)" -eq 1 ] || fail "first run: want one entry in $RULES_DIR"
[ "$(stat -c %a "$RULES_DIR")" = 700 ] || fail "rules dir not mode 0700"
ENTRY=$(find "$RULES_DIR" -name '*.hsdb')
[ "$(stat -c %a "$ENTRY")" = 600 ] || fail "entry not mode 0600"
[ -s "$WORKDIR/first.norm" ] || fail "no findings on the demo image"
scan_both second "$DEMO"
grep -q 'compiled prefilter loaded from the cache' "$WORKDIR/second.err" ||
    fail "second run: -v does not say the rules came from the cache"
cmp -s "$WORKDIR/first.norm" "$WORKDIR/second.norm" ||
    fail "second run: findings differ from the first"
run "$WORKDIR/q.out" "$WORKDIR/q.err" scan --no-db "$DEMO"
grep -q 'the cache\|rules cache' "$WORKDIR/q.err" && fail "the cache line shows without -v"

note "two scans at once on an empty cache: both right, one whole entry"
rm -rf "$RULES_DIR"
set +e
"$STOWAWAY" scan --no-db --format json "$DEMO" >"$WORKDIR/p1.json" \
    2>"$WORKDIR/p1.err" &
p1=$!
"$STOWAWAY" scan --no-db --format json "$DEMO" >"$WORKDIR/p2.json" \
    2>"$WORKDIR/p2.err" &
p2=$!
wait "$p1"; r1=$?
wait "$p2"; r2=$?
set -e
[ "$r1" -eq 1 ] && [ "$r2" -eq 1 ] ||
    { cat "$WORKDIR/p1.err" "$WORKDIR/p2.err" >&2; fail "concurrent scans: exit $r1 $r2"; }
for p in p1 p2; do
    cj norm "$WORKDIR/$p.json" --fingerprints >"$WORKDIR/$p.norm"
    cmp -s "$WORKDIR/first.norm" "$WORKDIR/$p.norm" ||
        fail "concurrent scan $p: findings differ"
done
[ "$(entries)" -eq 1 ] || fail "concurrent scans: want one entry"
[ -z "$(find "$RULES_DIR" -name '.tmp-*')" ] ||
    fail "concurrent scans left temporary files"
scan_both after_race "$DEMO"
grep -q 'loaded from the cache' "$WORKDIR/after_race.err" ||
    fail "the entry two scans wrote at once is not usable"

note "--no-rules-cache neither reads nor writes"
rm -rf "$RULES_DIR"
run "$WORKDIR/off.out" "$WORKDIR/off.err" scan -v --no-db --no-rules-cache \
    "$WORKDIR/clean.tar"
expect_rc 0 "clean image, cache off"
grep -q 'rules cache off' "$WORKDIR/off.err" || fail "-v: cache off not said"
[ ! -e "$RULES_DIR" ] || fail "--no-rules-cache created $RULES_DIR"

# What spoils an entry ($ENTRY), one function each.
truncated() { truncate -s 1000 "$ENTRY"; }
flipped() { # one payload byte near the end
    local size
    size=$(stat -c %s "$ENTRY")
    printf '\x5a' | dd of="$ENTRY" bs=1 seek=$((size - 7)) conv=notrunc \
        status=none
}
# The header's key (what an entry of other rules, another stowaway or
# vectorscan version or another CPU carries) and format version.
wrong_key() {
    printf '\x00\x00\x00\x00' | dd of="$ENTRY" bs=1 seek=16 conv=notrunc \
        status=none
}
wrong_format() {
    printf '\x63' | dd of="$ENTRY" bs=1 seek=8 conv=notrunc status=none
}
symlinked() {
    mv "$ENTRY" "$WORKDIR/elsewhere.hsdb"
    ln -s "$WORKDIR/elsewhere.hsdb" "$ENTRY"
}
directory() { [ -d "$ENTRY" ] || { rm -f "$ENTRY" && mkdir "$ENTRY"; }; }

# spoil FUNCTION: makes sure there is an entry for the built-in rules,
# then spoils it.
spoil() {
    if [ ! -d "$ENTRY" ]; then
        run "$WORKDIR/prep.out" "$WORKDIR/prep.err" scan --no-db \
            "$WORKDIR/clean.tar"
        ENTRY=$(find "$RULES_DIR" -name '*.hsdb' | head -1)
        [ -f "$ENTRY" ] || fail "no entry to spoil"
    fi
    "$1"
}

for how in truncated flipped wrong_key wrong_format symlinked directory; do
    note "an entry $how: same findings, clean exits 0"
    spoil "$how"
    scan_both "$how" "$DEMO"
    expect_rc 1 "$how: demo image"
    cmp -s "$WORKDIR/first.norm" "$WORKDIR/$how.norm" ||
        fail "$how: findings differ from an undamaged cache"
    grep -q "cache - .*$(basename "$ENTRY")" "$WORKDIR/$how.err" ||
        fail "$how: -v does not name the entry it could not use"
    spoil "$how"
    scan_both "$how-clean" "$WORKDIR/clean.tar"
    expect_rc 0 "$how: clean image"
done
[ -d "$ENTRY" ] || fail "a directory in the entry's place was removed"
[ -f "$WORKDIR/elsewhere.hsdb" ] || fail "a symlink's target was removed"
rm -rf "$RULES_DIR"

note "a cache directory that cannot be made: no cache, same result"
touch "$WORKDIR/plainfile"
XDG_CACHE_HOME="$WORKDIR/plainfile/cache" scan_both nodir "$DEMO"
expect_rc 1 "demo image, no cache directory"
cmp -s "$WORKDIR/first.norm" "$WORKDIR/nodir.norm" ||
    fail "no cache directory: findings differ"
mkdir -p "$XDG_CACHE_HOME/stowaway"
touch "$RULES_DIR" # rules/ is a file
scan_both rulesfile "$WORKDIR/clean.tar"
expect_rc 0 "clean image, rules/ a file"
grep -q 'not stored in the cache' "$WORKDIR/rulesfile.err" ||
    fail "rules/ a file: -v does not say the cache failed"
rm -f "$RULES_DIR"

note "no HOME and no XDG_CACHE_HOME: no default database, no rules cache"
(
    unset HOME XDG_CACHE_HOME
    run "$WORKDIR/nohome.out" "$WORKDIR/nohome.err" scan "$WORKDIR/clean.tar"
    expect_rc 2 "no cache directory, default database"
    one_line_naming "$WORKDIR/nohome.err" "no cache directory" "no HOME"
    grep -q -- '--no-db' "$WORKDIR/nohome.err" ||
        fail "no HOME: the error does not point to --db or --no-db"
    run "$WORKDIR/nohome2.out" "$WORKDIR/nohome2.err" scan -v --no-db \
        "$WORKDIR/clean.tar"
    expect_rc 0 "no cache directory, --no-db"
    grep -q 'rules cache off' "$WORKDIR/nohome2.err" ||
        fail "no HOME: -v does not say the rules cache is off"
)

note "report, -V and rules list/test compile through the same cache"
run "$WORKDIR/r.out" "$WORKDIR/r.err" scan --db "$WORKDIR/r.db" \
    "$WORKDIR/clean.tar"
expect_rc 0 "clean image into r.db"
i=0
for cmd in "-V" "rules list" "rules test" "report --db $WORKDIR/r.db"; do
    i=$((i + 1))
    rm -rf "$RULES_DIR"
    # shellcheck disable=SC2086 # cmd is words
    run "$WORKDIR/cmd.out" "$WORKDIR/cmd.err" $cmd
    expect_rc 0 "$cmd"
    [ "$(entries)" -eq 1 ] || fail "$cmd: the built-in rules were not cached"
    scan_both "shared$i" "$WORKDIR/clean.tar"
    grep -q 'loaded from the cache' "$WORKDIR/shared$i.err" ||
        fail "$cmd: a scan does not load the entry it stored"
done

note "a changed rule file gets an entry of its own"
printf 'nothing\ncust_8f3a91c2d7e4b605\n' >"$WORKDIR/tok.txt"
python3 - "$WORKDIR/custom.tar" "$WORKDIR/tok.txt" <<'PY'
import sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    ti = t.gettarinfo(sys.argv[2], "srv/tok.txt")
    ti.mtime, ti.uid, ti.gid = 1700000000, 0, 0
    with open(sys.argv[2], "rb") as f:
        t.addfile(ti, f)
PY
scan_both custom1 --rules "$WORKDIR/custom.yaml" "$WORKDIR/custom.tar"
expect_rc 1 "custom rule"
cj has "$WORKDIR/custom1.json" rule=custom-token path=srv/tok.txt ||
    fail "custom rule did not fire"
n1=$(entries)
sed -i 's/{16}/{15}/' "$WORKDIR/custom.yaml"
scan_both custom2 --rules "$WORKDIR/custom.yaml" "$WORKDIR/custom.tar"
grep -q 'stored in the cache' "$WORKDIR/custom2.err" ||
    fail "changed rule file: not compiled afresh"
[ "$(entries)" -eq $((n1 + 1)) ] || fail "changed rule file: no new entry"
scan_both custom3 --rules "$WORKDIR/custom.yaml" "$WORKDIR/custom.tar"
grep -q 'loaded from the cache' "$WORKDIR/custom3.err" ||
    fail "changed rule file: its entry is not used the next time"

echo "PASS [$TEST_NAME]"
