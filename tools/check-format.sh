#!/usr/bin/env bash
# check-format.sh - fails when a tracked .c or .h file is not formatted as
# .clang-format says, listing each such file; `clang-format -i FILE` fixes
# it. Run by ctest (hygiene_format), so .ci/run checks every change.
# Exit 77 (skipped) without clang-format or outside a git checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
    echo "check-format: $CLANG_FORMAT not found; skipped"
    exit 77
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    echo "check-format: not a git checkout; skipped"
    exit 77
fi
bad=0
while IFS= read -r -d '' f; do
    [ -f "$f" ] || continue # deleted in the work tree, not yet committed
    if ! "$CLANG_FORMAT" --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not formatted: $f"
        bad=1
    fi
done < <(git ls-files -z -- '*.c' '*.h')
if [ "$bad" -ne 0 ]; then
    echo "check-format: run clang-format -i on the files above"
    exit 1
fi
echo "check-format: ok"
