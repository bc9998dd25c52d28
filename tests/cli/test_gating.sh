#!/usr/bin/env bash
# test_gating.sh - what decides the exit status in CI: --exit-zero,
# --fail-on-hidden (default) and --ignore-hidden; the one-line summary on
# standard error (and its absence with -q or after a failed target); and
# nothing on standard output for a table when no image could be scanned.
. "$(dirname "$0")/lib.sh"
gen_fixtures
DEMO="$SRCDIR/fixtures/demo/demo.docker.tar"

# gate.docker.tar: layer 0 adds a private key and a world-writable file,
# layer 1 deletes the key. So: critical findings that are all hidden, and
# a visible info finding.
IMG="$WORKDIR/gate.docker.tar"
python3 - "$SRCDIR/fixtures/keys/id_rsa.pem" "$IMG" <<'PY'
import hashlib, json, sys
from tarlib import tar_bytes
key = open(sys.argv[1], "rb").read()

layers = [tar_bytes([("srv/deploy_key", key, 0o600),
                     ("opt/ww.txt", b"shared\n", 0o666)]),
          tar_bytes([("srv/.wh.deploy_key", b"", 0o644)])]
diff_ids = ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]
config = json.dumps({
    "architecture": "amd64", "os": "linux", "config": {},
    "rootfs": {"type": "layers", "diff_ids": diff_ids},
    "history": [{"created_by": "COPY . /"},
                {"created_by": "RUN rm /srv/deploy_key"}],
}).encode()
cfg = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": cfg, "RepoTags": ["fixture/gate:1"],
                        "Layers": ["l0/layer.tar", "l1/layer.tar"]}])
open(sys.argv[2], "wb").write(tar_bytes(
    [("manifest.json", manifest.encode(), 0o644), (cfg, config, 0o644),
     ("l0/layer.tar", layers[0], 0o644), ("l1/layer.tar", layers[1], 0o644)]))
PY
scan_json gate --no-db "$IMG"
R="$WORKDIR/gate.json"
cj_all "$R" <<'EOF'
has path=srv/deploy_key severity=critical visible=false removed_in_layer=1 \
    # gate: the deleted critical key
none visible=true 'severity~^(low|medium|high|critical)$' \
    # gate: want no visible finding above info
has path=opt/ww.txt severity=info visible=true # gate: want the visible info finding
EOF

# rc_for ARGS...: RC of a --no-db scan of gate.docker.tar
rc_for() {
    run "$WORKDIR/rc.out" "$WORKDIR/rc.err" scan --no-db "$@" "$IMG"
}

note "hidden findings count by default, not with --ignore-hidden"
rc_for
expect_rc 1 "default"
rc_for --fail-on-hidden
expect_rc 1 "--fail-on-hidden"
rc_for --ignore-hidden
expect_rc 0 "--ignore-hidden (only a visible info finding)"
rc_for --ignore-hidden --fail-on info
expect_rc 1 "--ignore-hidden --fail-on info"
rc_for --ignore-hidden --fail-on-hidden
expect_rc 1 "--ignore-hidden --fail-on-hidden: the last one wins"
rc_for --fail-on-hidden --ignore-hidden
expect_rc 0 "--fail-on-hidden --ignore-hidden: the last one wins"
rc_for --ignore-hidden --format json
expect_rc 0 "--ignore-hidden --format json"
python3 -c 'import json, sys
a, b = (json.load(open(p))["findings"] for p in sys.argv[1:])
assert a == b and any(not f["visible"] for f in b)' "$R" "$WORKDIR/rc.out" ||
    fail "--ignore-hidden must not drop findings from the report"

note "--exit-zero: 0 with findings, 2 still for errors"
for fmt in table json sarif; do
    rc_for --exit-zero --fail-on info --format "$fmt"
    expect_rc 0 "--exit-zero --format $fmt"
done
run "$WORKDIR/rc.out" "$WORKDIR/rc.err" scan --no-db --exit-zero "$IMG" \
    "$FX/bad/empty.tar"
expect_rc 2 "--exit-zero with a bad target"
run "$WORKDIR/rc.out" "$WORKDIR/rc.err" scan --no-db --exit-zero \
    --fail-on nonsense "$IMG"
expect_rc 2 "--exit-zero with a usage error"

note "the summary line on standard error"
# The counts the summary must give, from the JSON report of the same scan.
COUNTS=$(python3 -c 'import json,sys
F = json.load(open(sys.argv[1]))["findings"]
S = ["critical", "high", "medium", "low", "info"]
print(", ".join("%d %s" % (sum(f["severity"] == s for f in F), s) for s in S)
      + "; %d hidden by a later layer" % sum(not f["visible"] for f in F))' "$R")
SUMMARY_RE="^stowaway: 1 image, 2 layers \(2 scanned, 0 cached\), [0-9]+\.[0-9] MB, [0-9]+\.[0-9]{2} s, findings: $COUNTS\$"
for fmt in table json sarif; do
    rc_for --format "$fmt"
    [ "$(grep -c '' "$WORKDIR/rc.err")" -eq 1 ] ||
        { cat "$WORKDIR/rc.err" >&2; fail "$fmt: want one stderr line"; }
    grep -q -E "$SUMMARY_RE" "$WORKDIR/rc.err" ||
        { cat "$WORKDIR/rc.err" >&2; fail "$fmt: summary line"; }
    grep -q 'stowaway: 1 image' "$WORKDIR/rc.out" &&
        fail "$fmt: the summary went to standard output"
    [ "$fmt" = table ] || python3 -c 'import json,sys; json.load(open(sys.argv[1]))' \
        "$WORKDIR/rc.out" || fail "$fmt: standard output is not one document"
done
rc_for --ignore-hidden
grep -q -E 'findings: .*; [1-9][0-9]* hidden by a later layer \(ignored by --ignore-hidden\)$' \
    "$WORKDIR/rc.err" || fail "--ignore-hidden: summary does not say so"
rc_for -q
expect_rc 1 "-q"
[ -s "$WORKDIR/rc.err" ] && { cat "$WORKDIR/rc.err" >&2; fail "-q: stderr"; }

note "summary: bytes read, and cached layers on a second scan"
DB="$WORKDIR/g.db"
run "$WORKDIR/b1.out" "$WORKDIR/b1.err" scan --db "$DB" "$FX/base.docker.tar"
grep -q -E '^stowaway: 1 image, 3 layers \(3 scanned, 0 cached\), [3-9]\.[0-9] MB' \
    "$WORKDIR/b1.err" || { cat "$WORKDIR/b1.err" >&2; fail "base: bytes read (3 MiB file in layer 1)"; }
run "$WORKDIR/b2.out" "$WORKDIR/b2.err" scan --db "$DB" "$FX/base.docker.tar"
grep -q -E '^stowaway: 1 image, 3 layers \(0 scanned, 3 cached\), 0\.0 MB' \
    "$WORKDIR/b2.err" || { cat "$WORKDIR/b2.err" >&2; fail "base again: cached"; }
# Only the table's own summary line (it counts cached layers) may differ.
diff <(grep -v ' cached), ' "$WORKDIR/b1.out") \
    <(grep -v ' cached), ' "$WORKDIR/b2.out") >&2 ||
    fail "the table changed between a fresh and a cached scan"

note "no image scanned: the table prints nothing, JSON and SARIF still do"
run "$WORKDIR/e.out" "$WORKDIR/e.err" scan --no-db "$FX/bad/empty.tar"
expect_rc 2 "empty.tar table"
[ -s "$WORKDIR/e.out" ] && { cat "$WORKDIR/e.out" >&2; fail "table: stdout not empty"; }
one_line_naming "$WORKDIR/e.err" "$FX/bad/empty.tar" "empty.tar table"
run "$WORKDIR/e.json" "$WORKDIR/e.err" scan --no-db --format json \
    "$FX/bad/empty.tar"
expect_rc 2 "empty.tar json"
cj eval "$WORKDIR/e.json" 'len(I) == 0 and len(r["errors"]) == 1' ||
    fail "json: want the document with the error"
run "$WORKDIR/e.sarif" "$WORKDIR/e.err" scan --no-db --format sarif \
    "$FX/bad/empty.tar"
expect_rc 2 "empty.tar sarif"
python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["runs"][0]["invocations"][0];
assert not i["executionSuccessful"] and len(i["toolExecutionNotifications"]) == 1' \
    "$WORKDIR/e.sarif" || fail "sarif: want the log with the error"
# With a good target too, the table still reports it and lists the error.
run "$WORKDIR/p.out" "$WORKDIR/p.err" scan --no-db "$DEMO" "$FX/bad/empty.tar"
expect_rc 2 "demo + empty.tar"
grep -q 'app/id_rsa' "$WORKDIR/p.out" || fail "demo + empty.tar: table lacks demo"
grep -q '^errors:' "$WORKDIR/p.out" || fail "demo + empty.tar: no errors section"
check_no_plaintext "$WORKDIR"/*.out "$WORKDIR"/*.err
echo "PASS $TEST_NAME"
