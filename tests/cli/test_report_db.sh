#!/usr/bin/env bash
# test_report_db.sh - `stowaway report --db FILE` prints stored results
# without rescanning: the latest scan of each image by default, filtered by
# --image (glob) and --rule, in every format; the same findings as the scan
# that stored them; errors for a missing database and bad arguments.
. "$(dirname "$0")/lib.sh"
gen_fixtures
cd "$WORKDIR"
DB="$WORKDIR/r.db"

# An older scan of base:1 without the rsa rule, then a full one: the
# report must show the latest. Then two.docker.tar (base:1 again, other:2)
# and the demo image.
run "$WORKDIR/1.out" "$WORKDIR/1.err" scan --db "$DB" --disable-rule rsa-private-key "$FX/base.docker.tar"
scan_json full --db "$DB" "$FX/base.docker.tar"
scan_json two --db "$DB" "$FX/two.docker.tar"
scan_json demo --db "$DB" "$SRCDIR/fixtures/demo/demo.docker.tar"
SNAP="$WORKDIR/snap"
db_snapshot "$DB" "$SNAP"

note "default: latest scan of every image, same findings as the scans"
run "$WORKDIR/all.json" "$WORKDIR/all.err" report --db "$DB" --format json
expect_rc 0 "report json"
cj_all "$WORKDIR/all.json" <<'EOF'
schema # report: bad JSON shape
eval [i["ref"] for i in I] == ["fixture/base:1", "fixture/other:2", \
    "stowaway/demo:1"] # want each image once, ordered by ref
has ref=fixture/base:1 rule=rsa-private-key path=app/id_rsa \
    # the latest scan of base:1 has the rsa findings
EOF
python3 - "$WORKDIR/all.json" "$WORKDIR/two.json" "$WORKDIR/demo.json" <<'PY' || fail "report differs from the scans"
import json, sys
rep, two, demo = (json.load(open(p)) for p in sys.argv[1:])
def norm(r, ref):
    idx = [i for i, im in enumerate(r["images"]) if im["ref"] == ref][0]
    return sorted(json.dumps({k: v for k, v in f.items() if k != "image"},
                             sort_keys=True)
                  for f in r["findings"] if f["image"] == idx)
for src, ref in ((two, "fixture/base:1"), (two, "fixture/other:2"),
                 (demo, "stowaway/demo:1")):
    assert norm(rep, ref) == norm(src, ref), ref
    a = [i for i in rep["images"] if i["ref"] == ref][0]
    b = [i for i in src["images"] if i["ref"] == ref][0]
    assert [l["digest"] for l in a["layers"]] == [l["digest"] for l in b["layers"]]
    assert [l["created_by"] for l in a["layers"]] == [l["created_by"] for l in b["layers"]]
PY
grep -q -E '^stowaway: 3 images from .*r\.db \(latest scan of each\), findings: ' "$WORKDIR/all.err" ||
    { cat "$WORKDIR/all.err" >&2; fail "report summary line"; }
db_still_has "$DB" "$SNAP" "report must not change the database"
cmp "$SNAP" "$SNAP.after" || fail "report wrote to the database"

note "--image glob and --rule"
run "$WORKDIR/img.json" "$WORKDIR/img.err" report --db "$DB" --format json --image 'fixture/*'
run "$WORKDIR/one.json" "$WORKDIR/one.err" report --db "$DB" --format json --image stowaway/demo:1 --rule aws-access-key-id
cj_all "$WORKDIR/img.json" <<'EOF'
eval [i["ref"] for i in I] == ["fixture/base:1", "fixture/other:2"] \
    # --image fixture/*
report one.json
eval len(I) == 1 and len(F) >= 1 and \
    all(f["rule"] == "aws-access-key-id" for f in F) # --image REF --rule ID
EOF
run "$WORKDIR/no.out" "$WORKDIR/no.err" report --db "$DB" --image 'nothing/*'
expect_rc 2 "--image that matches nothing"
one_line_naming "$WORKDIR/no.err" "r.db" "--image that matches nothing"

note "every format"
run "$WORKDIR/t.out" "$WORKDIR/t.err" report --db "$DB"
expect_rc 0 "report table"
grep -q '^stowaway/demo:1 ' "$WORKDIR/t.out" || fail "table lacks the demo image"
grep -q 'fix: ' "$WORKDIR/t.out" || fail "table lacks remediation lines"
run "$WORKDIR/s.sarif" "$WORKDIR/s.err" report --db "$DB" --format sarif --rule setuid-file
expect_rc 0 "report sarif"
python3 -c 'import json,sys; r = json.load(open(sys.argv[1]))["runs"][0]["results"]
assert r and all(x["ruleId"] == "setuid-file" for x in r)' "$WORKDIR/s.sarif" || fail "sarif"
run "$WORKDIR/h.out" "$WORKDIR/h.err" report --db "$DB" --format html -o "$WORKDIR/r.html"
expect_rc 0 "report html"
grep -q 'stowaway/demo:1' "$WORKDIR/r.html" || fail "html"

note "errors"
run "$WORKDIR/e.out" "$WORKDIR/e.err" report --db "$WORKDIR/missing.db"
expect_rc 2 "missing database"
one_line_naming "$WORKDIR/e.err" missing.db "missing database"
[ -e "$WORKDIR/missing.db" ] && fail "report created a database"
run "$WORKDIR/e.out" "$WORKDIR/e.err" report
expect_rc 2 "report without --db"
run "$WORKDIR/e.out" "$WORKDIR/e.err" report --db "$DB" "$FX/base.docker.tar"
expect_rc 2 "report with a target"
check_no_plaintext "$WORKDIR"/*.json "$WORKDIR"/*.out "$WORKDIR"/r.html
echo "PASS $TEST_NAME"
