#!/usr/bin/env bash
# test_bounded_memory.sh - memory does not grow with file size: a layer
# holding a 2 GiB file (generated on the fly, piped to `scan -`) peaks at the
# same RSS as one holding a 64 MiB file, and a key at the very end of the
# 2 GiB file is still found (scanned in overlapping chunks, never skipped).
. "$(dirname "$0")/lib.sh"

# ASan's quarantine would otherwise hold freed memory and blur the figure.
export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=8:malloc_context_size=4"
KEY="$SRCDIR/fixtures/keys/id_rsa.pem"
[ -s "$KEY" ] || fail "missing $KEY"

small=$(python3 "$SRCDIR/tests/cli/memtest.py" "$STOWAWAY" 64 "$KEY")
big=$(python3 "$SRCDIR/tests/cli/memtest.py" "$STOWAWAY" 2048 "$KEY")
note "64 MiB: $small"
note "2 GiB:  $big"
python3 - "$small" "$big" <<'PY' || fail "memory grew with file size or the key was missed"
import json, sys
small, big = json.loads(sys.argv[1]), json.loads(sys.argv[2])
for r in (small, big):
    assert r["rc"] == 1, r            # the key is a finding at critical
    assert r["key_found"] == 1, r
    assert r["key_offset"] == r["expected_offset"], r
# 32x the data may not cost more than 32 MiB more memory.
assert big["rss_kib"] - small["rss_kib"] < 32 * 1024, (small, big)
PY
echo "PASS [$TEST_NAME]"
