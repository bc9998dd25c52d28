#!/usr/bin/env bash
# check-banned.sh - fails when library, CLI, fuzz or install-test code calls
# a libc function we do not use, printing each call with its line:
#   sprintf vsprintf strcpy strcat strncpy strncat gets   unbounded or
#                                                          truncating copies
#   strtok strerror gmtime localtime asctime ctime         hidden static
#                                                          state: not
#                                                          thread-safe
#   atoi atol atoll                                        no error report
#   tmpnam mktemp                                          racy file names
# Use the bounded or _r forms (snprintf, strtok_r, stw_strerror, gmtime_r,
# strtol...). Library code (scanner/ but scanner/cli/) also allocates only
# through scanner/util/alloc.h, so the allocation torture test
# (tests/test_torture.c) sees every allocation:
#   malloc calloc realloc strdup strndup reallocarray      use stw_malloc...
#   pthread_create                                         use
#                                                          stw_thread_create
#                                                          (refusable too)
# A justified use stays when its line carries the marker
#   /* banned-ok: WHY */
# The unit tests (tests/*.c) are not checked: they run on our own fixed
# inputs. Run by ctest (hygiene_banned).
set -euo pipefail
cd "$(dirname "$0")/.."
banned='sprintf|vsprintf|strcpy|strcat|strncpy|strncat|gets|strtok|strerror'
banned+='|gmtime|localtime|asctime|ctime|atoi|atol|atoll|tmpnam|mktemp'
files=()
while IFS= read -r -d '' f; do
    [ -f "$f" ] && files+=("$f")
done < <(git ls-files -z -- 'include/*.h' 'scanner/*.c' 'scanner/*.h' \
             'tests/fuzz/*.c' 'tests/install/*.c' 2>/dev/null ||
         find include scanner tests/fuzz tests/install \
             \( -name '*.c' -o -name '*.h' \) -print0)
# A call: the name as a whole word (not stw_strerror, snprintf, strtok_r)
# followed by "(".
hits=$(grep -nHE "(^|[^A-Za-z0-9_])($banned)[[:space:]]*\\(" "${files[@]}" |
       grep -v 'banned-ok:' || true)
alloc='malloc|calloc|realloc|strdup|strndup|reallocarray|pthread_create'
lib=()
for f in "${files[@]}"; do
    case "$f" in scanner/cli/*) ;; scanner/*) lib+=("$f") ;; esac
done
more=$(grep -nHE "(^|[^A-Za-z0-9_])($alloc)[[:space:]]*\\(" "${lib[@]}" |
       grep -v 'banned-ok:' || true)
hits+=${hits:+${more:+$'\n'}}$more
if [ -n "$hits" ]; then
    echo "$hits"
    echo "check-banned: banned functions called (see tools/check-banned.sh)"
    exit 1
fi
echo "check-banned: ok (${#files[@]} files)"
