#!/usr/bin/env bash
# test_own_corpus.sh - precision and recall on stowaway's own labelled
# corpus (tests/corpus/): every labelled file is packed into a tar layer and
# scanned by the real binary. Fails when a labelled secret is missed beyond
# the recall threshold, when any finding fires on a file or example labelled
# negative for that rule (precision 1.0), or when a rule has no true and no
# false positive in the corpus. The report is tests/accuracy.md's second
# part (bench/accuracy/own_corpus.py -o ... rewrites it).
. "$(dirname "$0")/lib.sh"

command -v cc >/dev/null || skip "no C compiler for the corpus binary"
python3 "$SRCDIR/bench/accuracy/own_corpus.py" --stowaway "$STOWAWAY" \
    --min-precision 1.0 --min-recall 1.0 --max-false-positives 0 \
    -o "$WORKDIR/own.md" >"$WORKDIR/out.txt" 2>"$WORKDIR/err.txt" || {
    cat "$WORKDIR/err.txt" >&2
    sed -n '/^## Missed/,$p' "$WORKDIR/own.md" | head -40 >&2
    fail "own corpus below the thresholds"
}
grep -q '^| false positives | \*\*0\*\*' "$WORKDIR/own.md" ||
    fail "report lacks the false-positive line"
grep -q 'rules without a true and a false positive in the corpus | 0 of' \
    "$WORKDIR/own.md" || fail "report lacks the coverage line"
# The checks must bite: a corpus whose labels are wrong fails.
mkdir -p "$WORKDIR/bad"
cp -r "$SRCDIR/tests/corpus/files" "$WORKDIR/bad/files"
cp "$SRCDIR/tests/corpus/derived.jsonl" "$WORKDIR/bad/"
sed 's#"expect": \["google-api-key"\]#"expect": []#' \
    "$SRCDIR/tests/corpus/labels.jsonl" >"$WORKDIR/bad/labels.jsonl"
if python3 "$SRCDIR/bench/accuracy/own_corpus.py" --stowaway "$STOWAWAY" \
    --corpus "$WORKDIR/bad" >"$WORKDIR/bad.md" 2>"$WORKDIR/bad.err"; then
    fail "a finding on a file labelled negative did not fail the corpus"
fi
grep -q 'google-api-key on `firebase-bundle' "$WORKDIR/bad.md" ||
    fail "the false positive is not named"
note "$(grep '^| precision' "$WORKDIR/own.md")"
note "$(grep '^| recall' "$WORKDIR/own.md")"
