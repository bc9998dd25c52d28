#!/usr/bin/env bash
# test_jobs_identical.sh - the report does not depend on how many workers
# scanned: -j1, -j2 and -j4 give byte-identical JSON for every image format,
# including images whose layers are shared and one scanned from stdin.
. "$(dirname "$0")/lib.sh"
gen_fixtures

for t in base.docker.tar base-oci.docker.tar base.oci base-zstd.oci \
    base.oci.tar multi.oci two.docker.tar shared.docker.tar; do
    for j in 1 2 4; do
        run "$WORKDIR/$t.j$j.json" "$WORKDIR/err" scan --no-db -j "$j" \
            --format json "$FX/$t"
        [ "$RC" = 1 ] || fail "$t -j$j: exit $RC, expected 1: $(cat "$WORKDIR/err")"
    done
    cmp -s "$WORKDIR/$t.j1.json" "$WORKDIR/$t.j2.json" ||
        fail "$t: -j1 and -j2 reports differ"
    cmp -s "$WORKDIR/$t.j1.json" "$WORKDIR/$t.j4.json" ||
        fail "$t: -j1 and -j4 reports differ"
    note "$t: identical for -j1, -j2, -j4"
done
echo "PASS [$TEST_NAME]"
