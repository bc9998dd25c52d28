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
    note "stdin: $f"
    scan_json "file-$f" --no-db "$FX/$f"
    set +e
    cat "$FX/$f" | "$STOWAWAY" scan --no-db --format json - \
        >"$WORKDIR/pipe-$f.json" 2>"$WORKDIR/pipe-$f.err"
    RC=$?
    set -e
    [ "$RC" -le 1 ] || { cat "$WORKDIR/pipe-$f.err" >&2; fail "stdin $f: exit $RC"; }
    grep -q -e Sanitizer -e 'runtime error:' "$WORKDIR/pipe-$f.err" &&
        fail "stdin $f: sanitizer report"
    cj schema "$WORKDIR/pipe-$f.json" || fail "stdin $f: report shape"
    same_findings "$WORKDIR/file-$f.json" "$WORKDIR/pipe-$f.json" \
        "file vs stdin $f" --fingerprints
    cj eval "$WORKDIR/pipe-$f.json" "[l['digest'] for i in I for l in i['layers']] == \
$(python3 -c 'import json,sys; print([l["digest"] for i in json.load(open(sys.argv[1]))["images"] for l in i["layers"]])' "$WORKDIR/file-$f.json")" ||
        fail "stdin $f: layer digests differ from the file scan"
done
check_base_findings "$WORKDIR/pipe-base-stream.docker.tar.json"

note "stdin with --db, then the file: layers are cached"
set +e
cat "$FX/base-stream.docker.tar" | "$STOWAWAY" scan --db "$WORKDIR/s.db" \
    --format json - >"$WORKDIR/p1.json" 2>"$WORKDIR/p1.err"
RC=$?
set -e
[ "$RC" -le 1 ] || fail "stdin into --db: exit $RC"
scan_json p2 --db "$WORKDIR/s.db" "$FX/base-stream.docker.tar"
cj eval "$WORKDIR/p2.json" 'all(l["cached"] for l in I[0]["layers"])' ||
    fail "layers scanned from stdin were not stored"

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
