#!/usr/bin/env bash
# test_batch_registry.sh - `stowaway batch registry` against a real
# docker-registry holding 50 images built on 5 shared bases: every distinct
# layer blob is downloaded exactly once (counted in the registry's access
# log), the catalog and tag lists are followed page by page, --since keeps
# the newer half, a run killed with kill -9 continues where it stopped
# with no duplicate rows, and three --shard K/3 workers merged with `db
# merge` give the same database as one process while downloading each
# layer once between them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_lib.sh"
reg_require
command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed"

GEN="$WORKDIR/gen"
python3 "$SRCDIR/tests/cli/batch_images.py" "$GEN" "$SRCDIR/fixtures/keys" ||
    fail "image generator failed"
[ "$(wc -l <"$GEN/layers.txt")" -eq 55 ] || fail "want 55 distinct layers"

reg_start batch
note "pushing 50 images to $REG_ADDR"
# Pushed in parallel (skopeo spends its time waiting on the registry).
export GEN REG_ADDR
xargs -P 4 -L 1 sh -c 'skopeo --insecure-policy copy -q \
    --dest-tls-verify=false "oci:$GEN/oci:$0" "docker://$REG_ADDR/$1" \
    >/dev/null 2>&1 || echo "push $1 failed"' <"$GEN/refs.txt" >"$WORKDIR/push.log"
[ ! -s "$WORKDIR/push.log" ] || { cat "$WORKDIR/push.log" >&2; fail "push"; }

sq() { sqlite3 "$1" "$2"; }
# log_mark: the access log's current length; blob_gets SINCE: the blob
# digests fetched after it, one per request.
log_mark() { wc -l <"$REG_LOG"; }
blob_gets() {
    tail -n +"$(($1 + 1))" "$REG_LOG" |
        grep -o '"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]\{64\}' |
        sed 's/.*blobs\///'
}
# every_layer_once SINCE CONTEXT: each generated layer downloaded exactly
# once since the mark (configs may be fetched more: they are not layers).
every_layer_once() {
    local since=$1 ctx=$2 d n
    blob_gets "$since" | sort | uniq -c >"$WORKDIR/gets.txt"
    while read -r d; do
        n=$(awk -v d="$d" '$2 == d {print $1}' "$WORKDIR/gets.txt")
        [ "${n:-0}" -eq 1 ] || fail "$ctx: layer $d downloaded ${n:-0} times"
    done <"$GEN/layers.txt"
}
REG=(--insecure-registry "$REG_ADDR")

# --- one process: every layer once, pages followed ------------------------
m=$(log_mark)
run "$WORKDIR/full.json" "$WORKDIR/full.err" batch registry "${REG[@]}" \
    --page-size 3 --db "$WORKDIR/full.db" --format json -j 2 "$REG_ADDR"
expect_rc 1 "batch registry over 50 images with keys"
cj_all "$WORKDIR/full.json" <<'EOF'
schema # bad report shape
eval len(I) == 50 # report images
has path=root/.ssh/id_rsa kind=private-key visible=false removed_in_layer=1 \
    # deleted key not reported hidden
has path=root/.ssh/id_rsa visible=true # visible key not reported
EOF
every_layer_once "$m" "single process"
# distribution 2.8 pages the catalog (its tag lists come whole).
tail -n +"$((m + 1))" "$REG_LOG" >"$WORKDIR/full.log"
grep -q 'GET /v2/_catalog?last=' "$WORKDIR/full.log" ||
    fail "catalog pages were not followed (--page-size 3, 5 repositories)"
[ "$(sq "$WORKDIR/full.db" 'SELECT COUNT(*) FROM images')" -eq 50 ] ||
    fail "want 50 images"
[ "$(sq "$WORKDIR/full.db" 'SELECT COUNT(*) FROM layers')" -eq 55 ] ||
    fail "want 55 layers"
check_no_plaintext "$WORKDIR/full.json" "$WORKDIR/full.db"

# --- report --by-layer: the key of base 0 is one fix for 10 images --------
run "$WORKDIR/bl.json" "$WORKDIR/bl.err" report --db "$WORKDIR/full.db" \
    --by-layer --format json
expect_rc 0 "report --by-layer"
python3 - "$WORKDIR/bl.json" <<'PY' || fail "by-layer report"
import json, sys
r = json.load(open(sys.argv[1]))
ls = r["layers"]
assert len(ls) == 3, [l["digest"] for l in ls]   # bases 0, 1 and 2
assert all(l["images_count"] == 10 for l in ls)
k = [l for l in ls if l["max_severity"] == "critical" and l["hidden"]]
assert len(k) == 1, ls
k = k[0]
refs = sorted(i["ref"].split("/", 1)[1] for i in k["images"])
assert refs == sorted("base0/app:v%d" % i for i in range(0, 50, 5)), refs
# Every tenth image deletes the key: hidden there, visible in the others.
hidden = sorted(i["ref"].rsplit(":", 1)[1] for i in k["images"]
                if i["hidden"] and not i["visible"])
assert hidden == sorted("v%d" % i for i in range(0, 50, 10)), hidden
assert k["hidden"] == k["visible"] > 0, k
PY
run "$WORKDIR/bl.txt" "$WORKDIR/bl.err" report --db "$WORKDIR/full.db" \
    --by-layer --min-severity critical
grep -q 'in 10 images; hidden by a later layer in 5 cases' "$WORKDIR/bl.txt" ||
    { cat "$WORKDIR/bl.txt" >&2; fail "by-layer table"; }

# --- --since keeps the 25 images created in 2024 --------------------------
run "$WORKDIR/since.out" "$WORKDIR/since.err" batch registry "${REG[@]}" \
    --since 2024-01-01 --db "$WORKDIR/since.db" -q --exit-zero "$REG_ADDR"
expect_rc 0 "batch registry --since"
[ "$(sq "$WORKDIR/since.db" 'SELECT COUNT(*) FROM images')" -eq 25 ] ||
    fail "--since 2024-01-01: want 25 images"
[ "$(sq "$WORKDIR/since.db" "SELECT COUNT(*) FROM images WHERE ref LIKE '%:v2' OR ref LIKE '%:v24'")" -eq 0 ] ||
    fail "--since kept an image created in 2023"

# --- kill -9 part-way, run again: continues, no duplicates ----------------
R=(batch registry "${REG[@]}" --db "$WORKDIR/resume.db" -q --exit-zero -j 1
    --format json -o "$WORKDIR/resume.json" "$REG_ADDR")
m=$(log_mark)
"$STOWAWAY" "${R[@]}" 2>"$WORKDIR/resume1.err" &
pid=$!
n=0
for _ in $(seq 1 600); do
    n=$(sq "$WORKDIR/resume.db" 'SELECT COUNT(*) FROM images' 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 8 ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
kill -0 "$pid" 2>/dev/null || fail "the run ended before it could be killed ($n images)"
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
n=$(sq "$WORKDIR/resume.db" 'SELECT COUNT(*) FROM images')
note "killed after $n images"
[ "$n" -lt 50 ] || fail "kill -9 came too late ($n images)"
stored=$(sq "$WORKDIR/resume.db" 'SELECT digest FROM layers' | sort)
run "$WORKDIR/resume2.out" "$WORKDIR/resume2.err" "${R[@]}"
expect_rc 0 "resumed run"
[ "$(sq "$WORKDIR/resume.db" 'SELECT COUNT(*) FROM scans')" -eq 1 ] ||
    fail "the second run started a new scan instead of continuing"
[ "$(sq "$WORKDIR/resume.db" 'SELECT COUNT(*), COUNT(DISTINCT ref) FROM images')" = "50|50" ] ||
    fail "images after resume: $(sq "$WORKDIR/resume.db" 'SELECT COUNT(*), COUNT(DISTINCT ref) FROM images')"
[ "$(sq "$WORKDIR/resume.db" 'SELECT COUNT(*), COUNT(DISTINCT digest) FROM layers')" = "55|55" ] ||
    fail "layers after resume"
[ "$(sq "$WORKDIR/resume.db" 'SELECT COUNT(*) FROM (SELECT image_id, finding_id FROM image_findings GROUP BY 1, 2 HAVING COUNT(*) > 1)')" -eq 0 ] ||
    fail "duplicate image findings after resume"
[ -n "$(sq "$WORKDIR/resume.db" 'SELECT finished_at FROM scans')" ] ||
    fail "resumed scan not finished"
# Layers stored before the kill were not downloaded again.
for d in $stored; do
    n=$(blob_gets "$m" | grep -c -x "$d" || true)
    [ "$n" -le 1 ] || fail "layer $d stored before the kill downloaded $n times"
done
python3 "$SRCDIR/tests/cli/db_norm.py" "$WORKDIR/full.db" >"$WORKDIR/full.norm"
python3 "$SRCDIR/tests/cli/db_norm.py" "$WORKDIR/resume.db" >"$WORKDIR/resume.norm"
diff -u "$WORKDIR/full.norm" "$WORKDIR/resume.norm" >&2 ||
    fail "interrupted and resumed run differs from the uninterrupted one"

# --- three shards, merged: equal to one process, each layer read once -----
m=$(log_mark)
pids=""
for k in 1 2 3; do
    "$STOWAWAY" batch registry "${REG[@]}" --shard "$k/3" -q -j 1 \
        --db "$WORKDIR/shard$k.db" "$REG_ADDR" \
        >"$WORKDIR/shard$k.out" 2>"$WORKDIR/shard$k.err" &
    pids="$pids $!"
done
for p in $pids; do
    wait "$p" || { cat "$WORKDIR"/shard*.err >&2; fail "a shard failed"; }
done
every_layer_once "$m" "three shards together"
for k in 1 2 3; do
    n=$(sq "$WORKDIR/shard$k.db" 'SELECT COUNT(*) FROM layers')
    [ "$n" -gt 5 ] || fail "shard $k/3 stored only $n layers: uneven split"
done
run "$WORKDIR/merge.out" "$WORKDIR/merge.err" db merge "$WORKDIR/merged.db" \
    "$WORKDIR/shard1.db" "$WORKDIR/shard2.db" "$WORKDIR/shard3.db"
expect_rc 0 "db merge"
python3 "$SRCDIR/tests/cli/db_norm.py" "$WORKDIR/merged.db" >"$WORKDIR/merged.norm"
diff -u "$WORKDIR/full.norm" "$WORKDIR/merged.norm" >&2 ||
    fail "merged shards differ from the single-process database"
[ "$(sq "$WORKDIR/merged.db" 'SELECT COUNT(*) FROM deferred_images')" -eq 0 ] ||
    fail "images left incomplete after merging every shard"
db_snapshot "$WORKDIR/merged.db" "$WORKDIR/merged.snap1"
run "$WORKDIR/merge2.out" "$WORKDIR/merge2.err" db merge "$WORKDIR/merged.db" \
    "$WORKDIR/shard3.db" "$WORKDIR/shard1.db" "$WORKDIR/shard2.db"
expect_rc 0 "db merge again"
db_snapshot "$WORKDIR/merged.db" "$WORKDIR/merged.snap2"
diff -u "$WORKDIR/merged.snap1" "$WORKDIR/merged.snap2" >&2 ||
    fail "merging the same shards twice changed the output"
note "ok"
