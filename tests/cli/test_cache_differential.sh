#!/usr/bin/env bash
# test_cache_differential.sh - a scan into a database that already holds
# other images reports what --no-db reports (tests/cli/cache_cases.py):
# archives met again deeper, under a bound, under a test tree, as a single
# compressed stream under another name, or beside a copy of their path.
. "$(dirname "$0")/lib.sh"
python3 "$SRCDIR/tests/cli/cache_cases.py" "$STOWAWAY" "$WORKDIR/cases" ||
    fail "the database changed what a scan reports (see above)"
note "cache differential: ok"
