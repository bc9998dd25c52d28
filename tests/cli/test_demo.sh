#!/usr/bin/env bash
# test_demo.sh - the fixture generator is deterministic, the committed demo
# image is exactly what it generates, and the README's first command works
# on it.
. "$(dirname "$0")/lib.sh"
gen_fixtures
python3 "$SRCDIR/fixtures/make-fixtures.py" "$WORKDIR/fx2" ||
    fail "second generator run failed"
(cd "$FX" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$WORKDIR/s1"
(cd "$WORKDIR/fx2" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$WORKDIR/s2"
diff -u "$WORKDIR/s1" "$WORKDIR/s2" >&2 || fail "generator is not deterministic"
rm -rf "$WORKDIR/fx2"
cmp "$FX/demo/demo.docker.tar" "$SRCDIR/fixtures/demo/demo.docker.tar" ||
    fail "fixtures/demo/demo.docker.tar differs from what the generator writes"

# The first command of the README, run from the repository root.
set +e
(cd "$SRCDIR" && "$STOWAWAY" scan --no-db fixtures/demo/demo.docker.tar) \
    >"$WORKDIR/demo.txt" 2>"$WORKDIR/demo.err"
RC=$?
set -e
expect_rc 1 "scan fixtures/demo/demo.docker.tar"
grep -q 'app/id_rsa' "$WORKDIR/demo.txt" || fail "demo table lacks app/id_rsa"
check_no_plaintext "$WORKDIR/demo.txt" "$WORKDIR/demo.err"
grep -q -F 'Yp7lIMrnzLZElZbXx73/cKO6+Ww4A/4hvC24uJuo' "$WORKDIR/demo.txt" &&
    fail "demo: AWS secret printed in full"
grep -q -F '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' "$WORKDIR/demo.txt" &&
    fail "demo: GitHub token printed in full"
echo "PASS $TEST_NAME"
