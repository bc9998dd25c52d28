#!/usr/bin/env bash
# test_accuracy.sh - the precision/recall measurement against Gitleaks' rule
# samples runs in the test suite: every sample is scanned as a file of one
# layer by the real binary; the test fails when recall on the literal true
# positives drops below 99 % or a negative fires its corresponding rule.
# Skipped when the corpus (../shared/corpus next to the repository, or
# $STW_GITLEAKS_CORPUS) is not there.
. "$(dirname "$0")/lib.sh"

# The rule set itself: at least 150 rules, every one with passing examples.
run "$WORKDIR/list.txt" "$WORKDIR/list.err" rules list
[ "$RC" -eq 0 ] || fail "rules list exited $RC"
n=$(tail -n 1 "$WORKDIR/list.txt" | awk '{print $1}')
[ "$n" -ge 150 ] || fail "only $n rules"
grep -q '^github-pat  *high  *secret ' "$WORKDIR/list.txt" ||
    fail "rules list lacks github-pat with severity and kind"
run "$WORKDIR/test.txt" "$WORKDIR/test.err" rules test
[ "$RC" -eq 0 ] || { cat "$WORKDIR/test.txt" >&2; fail "rules test exited $RC"; }
grep -q ' 0 failures$' "$WORKDIR/test.txt" || fail "rules test summary"
# A user rule file whose example does not hold fails `rules test FILE`.
cat >"$WORKDIR/bad.yaml" <<'YAML'
rules:
  - id: acme-token
    severity: high
    keywords: ['acme_']
    regex: 'acme_[a-z]{8}'
    examples:
      tp: ['acme_ABCDEFGH']
      fp: ['none here']
YAML
run "$WORKDIR/bad.txt" "$WORKDIR/bad.err" rules test "$WORKDIR/bad.yaml"
[ "$RC" -eq 1 ] || fail "rules test of a failing file exited $RC"
grep -q 'FAIL acme-token: tp example 1' "$WORKDIR/bad.txt" || fail "no FAIL line"

CORPUS="${STW_GITLEAKS_CORPUS:-$SRCDIR/../shared/corpus/gitleaks-samples.jsonl}"
[ -r "$CORPUS" ] || skip "no Gitleaks corpus at $CORPUS"
python3 "$SRCDIR/bench/accuracy/gitleaks_corpus.py" --stowaway "$STOWAWAY" \
    --corpus "$CORPUS" --min-recall 0.99 --max-false-alarms 0 \
    -o "$WORKDIR/accuracy.md" >"$WORKDIR/out.txt" 2>"$WORKDIR/err.txt" || {
    cat "$WORKDIR/err.txt" >&2
    sed -n '1,20p' "$WORKDIR/accuracy.md" >&2
    fail "accuracy below the thresholds"
}
grep -q 'negatives on which the corresponding rule fired | \*\*0\*\*' \
    "$WORKDIR/accuracy.md" || fail "report lacks the false-alarm line"
note "$(grep "literal true positives of Gitleaks' rule tests" "$WORKDIR/accuracy.md")"
