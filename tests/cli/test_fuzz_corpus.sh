#!/usr/bin/env bash
# test_fuzz_corpus.sh - the inputs the fuzz targets kept (tests/fuzz: each
# reached code no earlier input had), replayed through the CLI under the
# sanitizers of this build: about 350 whole targets from fuzz_scan (docker save
# and OCI archives bent every way, among them the one that once passed a
# NULL array to qsort()) and about 840 layer blobs from fuzz_layer (gzip, zstd
# and tar cut, corrupted and spliced). Every one must end in a result or in
# one error line naming it: exit 0, 1 or 2, never a sanitizer report, a
# signal or a stray line.
. "$(dirname "$0")/lib.sh"

CORPUS="$WORKDIR/corpus"
mkdir -p "$CORPUS"
python3 - "$SRCDIR/tests/fuzz/corpus.tar.xz" "$CORPUS" <<'PY' ||
import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        if not (m.isfile() or m.isdir()) or m.name.startswith(("/", "..")):
            sys.exit("unexpected member %s" % m.name)
    t.extractall(sys.argv[2])
PY
    fail "cannot unpack the corpus"
mapfile -t inputs < <(find "$CORPUS" -type f | sort)
[ "${#inputs[@]}" -ge 800 ] || fail "premise: corpus has ${#inputs[@]} inputs"

note "all ${#inputs[@]} inputs in one scan, -j2"
# Not run(): its failure message would list all the inputs.
set +e
"$STOWAWAY" scan --no-db -q -j2 --format json "${inputs[@]}" \
    >"$WORKDIR/all.json" 2>"$WORKDIR/all.err"
RC=$?
set -e
if grep -q -e 'AddressSanitizer' -e 'LeakSanitizer' -e 'runtime error:' \
    "$WORKDIR/all.err"; then
    grep -B2 -A20 -m1 -e 'Sanitizer' -e 'runtime error:' "$WORKDIR/all.err" >&2
    fail "sanitizer report scanning the corpus (exit $RC)"
fi
case $RC in 0 | 1 | 2) ;; *) fail "exit $RC scanning the corpus" ;; esac
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' \
    "$WORKDIR/all.json" || fail "the report is not JSON"
# Every stderr line is one error naming an input of the corpus.
stray=$(grep -v -E "^stowaway: $CORPUS/(scan|layer)/[^:]+: [^ ]" \
    "$WORKDIR/all.err" | head -3 || true)
[ -z "$stray" ] || fail "stderr lines that name no input: $stray"
errors=$(wc -l <"$WORKDIR/all.err")
[ "$errors" -lt "${#inputs[@]}" ] ||
    fail "every input failed: the corpus no longer reaches the scanner"
note "$errors inputs refused, $((${#inputs[@]} - errors)) scanned"

note "into a database, one at a time for the first 40 (a store survives)"
DB="$WORKDIR/fuzz.db"
for f in "${inputs[@]:0:40}"; do
    run "$WORKDIR/one.out" "$WORKDIR/one.err" scan --db "$DB" -q "$f"
    case $RC in 0 | 1) ;;
    2) one_line_naming "$WORKDIR/one.err" "$f" "$(basename "$f")" ;;
    *) fail "$(basename "$f"): exit $RC" ;;
    esac
done
run "$WORKDIR/stats.out" "$WORKDIR/stats.err" db stats --db "$DB"
expect_rc 0 "db stats after the corpus"
