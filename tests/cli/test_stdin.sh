#!/usr/bin/env bash
# test_stdin.sh - `cat x | stowaway scan -` (a pipe, not seekable) gives the
# same findings, fingerprints included, as scanning the file, whatever the
# order of manifest and layers; a bad stream is a one-line error.
# `cat F |` on purpose: standard input must be a pipe, not a seekable file.
# shellcheck disable=SC2002
. "$(dirname "$0")/lib.sh"
gen_fixtures

for f in base-stream.docker.tar base.docker.tar base-oci.docker.tar \
    base.oci.tar layer1.tar.gz layer1.tar.zst layer1.tar; do
    note "stdin: $f" >&2
    scan_json "file-$f" --no-db "$FX/$f"
    set +e
    cat "$FX/$f" | "$STOWAWAY" scan --no-db --format json - \
        >"$WORKDIR/pipe-$f.json" 2>"$WORKDIR/pipe-$f.err"
    RC=$?
    set -e
    [ "$RC" -le 1 ] || { cat "$WORKDIR/pipe-$f.err" >&2; fail "stdin $f: exit $RC"; }
    grep -q -e Sanitizer -e 'runtime error:' "$WORKDIR/pipe-$f.err" &&
        fail "stdin $f: sanitizer report"
    # Checked below, for every file at once: the report's shape, the same
    # findings as the file scan (same_findings), the same layer digests.
    cat <<EOF
report pipe-$f.json
schema # stdin $f: report shape
norm pipe-$f.norm --fingerprints
eval [l['digest'] for i in I for l in i['layers']] == \\
    [l['digest'] for i in __import__('json').load(open(REPORT.replace( \\
    '/pipe-$f.json', '/file-$f.json')))['images'] for l in i['layers']] \\
    # stdin $f: layer digests differ from the file scan
report file-$f.json
norm file-$f.norm --fingerprints
EOF
done >"$WORKDIR/stdin.table"
base_findings_table >"$WORKDIR/base.table"

note "stdin with --db, then the file: layers are cached"
set +e
cat "$FX/base-stream.docker.tar" | "$STOWAWAY" scan --db "$WORKDIR/s.db" \
    --format json - >"$WORKDIR/p1.json" 2>"$WORKDIR/p1.err"
RC=$?
set -e
[ "$RC" -le 1 ] || fail "stdin into --db: exit $RC"
scan_json p2 --db "$WORKDIR/s.db" "$FX/base-stream.docker.tar"
cj_all "$WORKDIR/p2.json" < <(cat "$WORKDIR/stdin.table"
    echo "report pipe-base-stream.docker.tar.json"
    cat "$WORKDIR/base.table"
    echo "report p2.json"
    echo 'eval all(l["cached"] for l in I[0]["layers"]) # layers scanned from stdin were not stored')
for f in base-stream.docker.tar base.docker.tar base-oci.docker.tar \
    base.oci.tar layer1.tar.gz layer1.tar.zst layer1.tar; do
    norm_diff "$WORKDIR/file-$f.norm" "$WORKDIR/pipe-$f.norm" "file vs stdin $f"
done

for b in truncated.docker.tar empty.tar not-archive.txt truncated.tar.gz \
    missing-layer.docker.tar bad-json.docker.tar truncated.tar.zst; do
    note "bad stdin: $b"
    set +e
    cat "$FX/bad/$b" | "$STOWAWAY" scan --no-db --format json - \
        >"$WORKDIR/bad.json" 2>"$WORKDIR/bad.err"
    RC=$?
    set -e
    expect_rc 2 "stdin $b"
    n=$(grep -c '' "$WORKDIR/bad.err" || true)
    [ "$n" -eq 1 ] || { cat "$WORKDIR/bad.err" >&2; fail "stdin $b: $n stderr lines"; }
done
echo "PASS $TEST_NAME"
