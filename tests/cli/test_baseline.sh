#!/usr/bin/env bash
# test_baseline.sh - `stowaway baseline` writes every current finding
# without secrets; `scan --baseline` then reports only new findings (also
# after a rebuild changed the layer digests); --skip-layer by blob digest or
# diff_id, and --base-image whose layers and findings are not reported.
. "$(dirname "$0")/lib.sh"
gen_fixtures
cd "$WORKDIR"
BASE="$FX/base.docker.tar"
TWO="$FX/two.docker.tar"
BL="$WORKDIR/baseline.json"

note "baseline of the base image"
run "$WORKDIR/b.out" "$WORKDIR/b.err" baseline --no-db "$BASE" -o "$BL"
expect_rc 0 "baseline"
[ -s "$WORKDIR/b.out" ] && fail "baseline -o: stdout not empty"
grep -q -E '^stowaway: baseline of [0-9]+ findings in 1 image$' "$WORKDIR/b.err" ||
    { cat "$WORKDIR/b.err" >&2; fail "baseline summary line"; }
scan_json base --no-db "$BASE"
# Prints base.json's finding count and layer 0 digest, used below.
BASE_FACTS=$(python3 - "$BL" "$WORKDIR/base.json" <<'PY'
import json, sys
bl, rep = (json.load(open(p)) for p in sys.argv[1:])
assert bl["stowaway_baseline"] == 1, bl.keys()
fps = sorted(f["fingerprint"] for f in bl["findings"])
assert fps == sorted({f["fingerprint"] for f in rep["findings"]}), "fingerprints"
for e in bl["findings"]:
    assert set(e) == {"fingerprint", "key", "rule", "kind", "severity", "path",
                      "image", "layer_digest"}, e
    assert len(e["key"]) == 32
print(len(rep["findings"]), rep["images"][0]["layers"][0]["digest"])
PY
) || fail "baseline content"
read -r N L0 <<<"$BASE_FACTS"
check_no_plaintext "$BL"
grep -q -e 'excerpt' -e 'secret_sha256' -e '(40 chars)' "$BL" &&
    fail "the baseline holds excerpts or secret hashes"

note "scan --baseline: nothing new in the same image"
run "$WORKDIR/s.out" "$WORKDIR/s.err" scan --no-db --baseline "$BL" "$BASE"
expect_rc 0 "same image against its baseline"
grep -q '^no findings in 1 image' "$WORKDIR/s.out" || fail "table should be clean"
grep -q -E "; $N suppressed \($N by baseline\)\$" "$WORKDIR/s.err" ||
    { cat "$WORKDIR/s.err" >&2; fail "summary: $N suppressed by baseline"; }

note "rebuilt layers (gzip OCI layout: other blob digests) still match"
scan_json oci --no-db "$FX/base.oci"
# Prints oci.json's layer 0 diff_id, used below.
D0=$(python3 -c 'import json,sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert not {f["fingerprint"] for f in a["findings"]} & {f["fingerprint"] for f in b["findings"] if f["layer"] is not None}
print(b["images"][0]["layers"][0]["diff_id"])' \
    "$WORKDIR/base.json" "$WORKDIR/oci.json") || fail "premise: OCI layout has other layer digests"
scan_json ocib --no-db --baseline "$BL" "$FX/base.oci"

note "a second image: only what is new is reported"
scan_json two --no-db --baseline "$BL" "$TWO"
cj_all "$WORKDIR/ocib.json" <<'EOF'
eval len(F) == 0 # rebuild key did not match
report two.json
eval len(F) == 1 # want exactly the new finding
has ref=fixture/other:2 path=srv/other/suid kind=setuid \
    # srv/other/suid must be new
EOF

note "a new secret at a baselined path is reported"
python3 - "$BL" "$WORKDIR/bl-nokey.json" <<'PY'
import json, sys
bl = json.load(open(sys.argv[1]))
bl["findings"] = [f for f in bl["findings"] if f["path"] != "app/id_rsa"]
json.dump(bl, open(sys.argv[2], "w"))
PY
scan_json nokey --no-db --baseline "$WORKDIR/bl-nokey.json" "$BASE"
cj_all "$WORKDIR/nokey.json" <<'EOF'
has path=app/id_rsa visible=false # removed entry
eval all(f["path"] == "app/id_rsa" for f in F) # only app/id_rsa should be reported
EOF

note "bad baselines"
echo '{"findings": []}' >"$WORKDIR/notbl.json"
run "$WORKDIR/e.out" "$WORKDIR/e.err" scan --no-db --baseline "$WORKDIR/notbl.json" "$BASE"
expect_rc 2 "not a baseline"
one_line_naming "$WORKDIR/e.err" notbl.json "not a baseline"
run "$WORKDIR/e.out" "$WORKDIR/e.err" baseline --no-db --fail-on low "$BASE"
expect_rc 2 "baseline with a gating option"
run "$WORKDIR/e.out" "$WORKDIR/e.err" baseline --no-db "$BASE" "$FX/bad/empty.tar" -o "$WORKDIR/partial.json"
expect_rc 2 "baseline with a bad target"
[ -s "$WORKDIR/partial.json" ] && fail "a failed baseline must not write a partial file"

note "--skip-layer by blob digest and by diff_id"
scan_json skip --no-db --skip-layer "$L0" "$BASE"
scan_json skipd --no-db --skip-layer "$D0" "$FX/base.oci"
cj_all "$WORKDIR/skip.json" <<'EOF'
none layer=0 # --skip-layer left layer 0 findings
has layer=1 # --skip-layer removed layer 1
has layer=null # --skip-layer removed the config finding
report skipd.json
none layer=0 # --skip-layer by diff_id
EOF
run "$WORKDIR/k.out" "$WORKDIR/k.err" scan --no-db --skip-layer "$L0" "$BASE"
grep -q -E '; [0-9]+ suppressed \([0-9]+ in skipped layers\)$' "$WORKDIR/k.err" ||
    { cat "$WORKDIR/k.err" >&2; fail "summary: skipped layers"; }

note "--base-image: its layers and findings are baseline"
# other:2 is base's layer 0 plus srv/other/suid; base:1 is entirely base.
scan_json based --db "$WORKDIR/b.db" --base-image "$BASE" "$TWO"
cj_all "$WORKDIR/based.json" <<'EOF'
eval len(F) == 1 # --base-image: want one finding
has ref=fixture/other:2 path=srv/other/suid # --base-image: srv/other/suid
eval len(I) == 2 # --base-image must not add the base to the report's images
EOF
N_SCANS=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT COUNT(*) FROM scans").fetchone()[0])' "$WORKDIR/b.db")
[ "$N_SCANS" -eq 2 ] || fail "--base-image: want 2 scans in the database, got $N_SCANS"
run "$WORKDIR/e.out" "$WORKDIR/e.err" scan --no-db --base-image "$FX/bad/empty.tar" "$TWO"
expect_rc 2 "bad --base-image"
echo "PASS $TEST_NAME"
