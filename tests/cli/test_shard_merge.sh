#!/usr/bin/env bash
# test_shard_merge.sh - `scan --shard K/N` and `db merge` over local
# images: three shards run as separate processes store every layer exactly
# once between them, and their merge - in any order, repeated, or done in
# two steps - equals the database of one process scanning everything.
# Also checks deploy/k8s/registry-scan-job.yaml: it parses, is an Indexed
# Job wired to --shard, and its merge step's script, run here, merges.
. "$(dirname "$0")/lib.sh"
command -v sqlite3 >/dev/null 2>&1 || skip "sqlite3 is not installed"
gen_fixtures
sq() { sqlite3 "$1" "$2"; }
norm() { python3 "$SRCDIR/tests/cli/db_norm.py" "$1" >"$2"; }

T=("$FX/multi.oci" "$FX/base.oci" "$FX/two.docker.tar" "$FX/shared.docker.tar"
    "$FX/base.docker.tar" "$FX/base-zstd.oci")
run "$WORKDIR/single.out" "$WORKDIR/single.err" scan -q --exit-zero \
    --db "$WORKDIR/single.db" "${T[@]}"
expect_rc 0 "single-process scan"
norm "$WORKDIR/single.db" "$WORKDIR/single.norm"
[ "$(grep -c '^visibility' "$WORKDIR/single.norm")" -gt 50 ] ||
    fail "too few findings to compare"

R="$WORKDIR/results"
mkdir -p "$R"
pids=""
for k in 1 2 3; do
    "$STOWAWAY" scan -q --shard "$k/3" --db "$R/shard-$k-of-3.db" "${T[@]}" \
        >"$WORKDIR/s$k.out" 2>"$WORKDIR/s$k.err" &
    pids="$pids $!"
done
for p in $pids; do
    wait "$p" || { cat "$WORKDIR"/s*.err >&2; fail "a shard failed"; }
done
grep -l -e AddressSanitizer -e 'runtime error' "$WORKDIR"/s*.err &&
    fail "sanitizer report in a shard"
[ ! -s "$WORKDIR/s1.out" ] || fail "a shard printed a report (it has only part)"

# Each layer was read by exactly one shard.
for k in 1 2 3; do sq "$R/shard-$k-of-3.db" 'SELECT digest FROM layers'; done |
    sort >"$WORKDIR/shard-layers"
sq "$WORKDIR/single.db" 'SELECT digest FROM layers' | sort >"$WORKDIR/all-layers"
diff -u "$WORKDIR/all-layers" "$WORKDIR/shard-layers" >&2 ||
    fail "shards did not split the layers exactly (missing or scanned twice)"
# ... and each image is recorded by one shard only, without visibility.
for k in 1 2 3; do
    [ "$(sq "$R/shard-$k-of-3.db" 'SELECT COUNT(*) FROM images')" -eq 0 ] ||
        fail "shard $k wrote complete images"
done
n=0
for k in 1 2 3; do
    n=$((n + $(sq "$R/shard-$k-of-3.db" 'SELECT COUNT(*) FROM deferred_images')))
done
[ "$n" -eq "$(sq "$WORKDIR/single.db" 'SELECT COUNT(*) FROM images')" ] ||
    fail "shards recorded $n images in all"

# Two steps: two shards first leave images waiting, the third completes.
run "$WORKDIR/m1.out" "$WORKDIR/m1.err" db merge "$WORKDIR/steps.db" \
    "$R/shard-1-of-3.db" "$R/shard-2-of-3.db"
expect_rc 0 "merge of two shards"
[ "$(sq "$WORKDIR/steps.db" 'SELECT COUNT(*) FROM deferred_images')" -gt 0 ] ||
    fail "two of three shards completed every image"
grep -q 'still wait for layers' "$WORKDIR/m1.err" ||
    fail "merge did not say that images wait for a shard"
run "$WORKDIR/m2.out" "$WORKDIR/m2.err" db merge "$WORKDIR/steps.db" \
    "$R/shard-3-of-3.db"
expect_rc 0 "merge of the third shard"
norm "$WORKDIR/steps.db" "$WORKDIR/steps.norm"
diff -u "$WORKDIR/single.norm" "$WORKDIR/steps.norm" >&2 ||
    fail "merged shards differ from the single-process database"

# Any order gives the same; merging again changes nothing at all.
run "$WORKDIR/m3.out" "$WORKDIR/m3.err" db merge "$WORKDIR/rev.db" \
    "$R/shard-3-of-3.db" "$R/shard-2-of-3.db" "$R/shard-1-of-3.db"
expect_rc 0 "merge in reverse order"
norm "$WORKDIR/rev.db" "$WORKDIR/rev.norm"
diff -u "$WORKDIR/single.norm" "$WORKDIR/rev.norm" >&2 ||
    fail "merge order changed the result"
db_snapshot "$WORKDIR/rev.db" "$WORKDIR/rev.snap1"
run "$WORKDIR/m4.out" "$WORKDIR/m4.err" db merge "$WORKDIR/rev.db" \
    "$R/shard-1-of-3.db" "$R/shard-2-of-3.db" "$R/shard-3-of-3.db" \
    "$R/shard-1-of-3.db"
expect_rc 0 "merge again"
db_snapshot "$WORKDIR/rev.db" "$WORKDIR/rev.snap2"
diff -u "$WORKDIR/rev.snap1" "$WORKDIR/rev.snap2" >&2 ||
    fail "merging the same inputs again changed the output"
grep -q '0 new scans, 0 layers, 0 findings; 0 images completed' \
    "$WORKDIR/m4.out" || fail "second merge reported additions"

# A database of an ordinary scan merges to itself; reports read the result.
run "$WORKDIR/m5.out" "$WORKDIR/m5.err" db merge "$WORKDIR/copy.db" \
    "$WORKDIR/single.db"
expect_rc 0 "merge of an unsharded database"
norm "$WORKDIR/copy.db" "$WORKDIR/copy.norm"
diff -u "$WORKDIR/single.norm" "$WORKDIR/copy.norm" >&2 ||
    fail "copy by merge differs"
run "$WORKDIR/a.json" "$WORKDIR/a.err" report --db "$WORKDIR/single.db" \
    --format json
run "$WORKDIR/b.json" "$WORKDIR/b.err" report --db "$WORKDIR/rev.db" \
    --format json
same_findings "$WORKDIR/a.json" "$WORKDIR/b.json" "report of merged shards"

# Usage errors.
run "$WORKDIR/e.out" "$WORKDIR/e.err" db merge "$WORKDIR/rev.db" "$WORKDIR/rev.db"
expect_rc 2 "merging a database into itself"
run "$WORKDIR/e.out" "$WORKDIR/e.err" db merge "$WORKDIR/x.db" "$WORKDIR/nope.db"
expect_rc 2 "merging a missing database"
for bad in 0/3 4/3 1/0 3 a/b 1/70000; do
    run "$WORKDIR/e.out" "$WORKDIR/e.err" scan --shard "$bad" --no-db "${T[0]}"
    expect_rc 2 "--shard $bad"
done

# --- deploy/k8s/registry-scan-job.yaml ------------------------------------
Y="$SRCDIR/deploy/k8s/registry-scan-job.yaml"
python3 - "$Y" "$WORKDIR/k8s" <<'PY' || fail "registry-scan-job.yaml"
import os, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
jobs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Job"}
scan, merge = jobs["stowaway-scan"], jobs["stowaway-merge"]
s = scan["spec"]
assert s["completionMode"] == "Indexed"
n = s["completions"]
assert s["parallelism"] == n
pod = s["template"]["spec"]
c = pod["containers"][0]
env = {e["name"]: e.get("value") for e in c["env"]}
assert env["SHARDS"] == str(n), "SHARDS must equal completions"
assert env["DOCKER_CONFIG"]
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
assert mounts["registry-auth"] == env["DOCKER_CONFIG"]
vols = {v["name"]: v for v in pod["volumes"]}
sec = vols["registry-auth"]["secret"]
assert sec["items"][0] == {"key": ".dockerconfigjson", "path": "config.json"}
assert "persistentVolumeClaim" in vols[c["volumeMounts"][0]["name"]]
assert "JOB_COMPLETION_INDEX" in c["args"][0]
assert "--shard" in c["args"][0]
for d in merge["spec"]["template"]["spec"]["initContainers"] + \
        merge["spec"]["template"]["spec"]["containers"]:
    e = {x["name"]: x.get("value") for x in d["env"]}
    assert e["SHARDS"] == str(n), "merge Job SHARDS must equal completions"
os.makedirs(sys.argv[2], exist_ok=True)
open(os.path.join(sys.argv[2], "shard.sh"), "w").write(c["args"][0])
mc = merge["spec"]["template"]["spec"]
open(os.path.join(sys.argv[2], "wait.sh"), "w").write(
    mc["initContainers"][0]["args"][0])
open(os.path.join(sys.argv[2], "merge.sh"), "w").write(
    mc["containers"][0]["args"][0])
PY
# The shard script, with a stowaway that prints its arguments, per index.
K8=$WORKDIR/k8s
mkdir -p "$K8/bin"
printf '#!/bin/sh\necho "$@"\n' >"$K8/bin/stowaway"
chmod +x "$K8/bin/stowaway"
for i in 0 1 2; do
    sed "s#/results#$K8#g" "$K8/shard.sh" >"$K8/shard-local.sh"
    PATH="$K8/bin:$PATH" JOB_COMPLETION_INDEX=$i SHARDS=3 REGISTRY=reg.example:5000 \
        sh "$K8/shard-local.sh" >"$K8/shard$i.out" || fail "shard script $i"
    grep -q -- "batch registry reg.example:5000 --shard $((i + 1))/3 --db $K8/shard-$((i + 1))-of-3.db" \
        "$K8/shard$i.out" || { cat "$K8/shard$i.out" >&2; fail "shard script $i args"; }
    [ -e "$K8/shard-$((i + 1))-of-3.done" ] || fail "shard script $i: no .done"
done
# The wait and merge scripts, over the shards made above, with the real
# stowaway.
for k in 1 2 3; do touch "$R/shard-$k-of-3.done"; done
printf '#!/bin/sh\nexec "%s" "$@"\n' "$STOWAWAY" >"$K8/bin/stowaway"
sed "s#/results#$R#g" "$K8/wait.sh" >"$K8/wait-local.sh"
SHARDS=3 timeout 20 sh "$K8/wait-local.sh" || fail "wait script did not end"
sed "s#/results#$R#g" "$K8/merge.sh" >"$K8/merge-local.sh"
PATH="$K8/bin:$PATH" SHARDS=3 sh "$K8/merge-local.sh" >"$K8/merge.out" \
    2>"$K8/merge.err" || { cat "$K8/merge.err" >&2; fail "merge script"; }
grep -q 'sha256:' "$K8/merge.out" || fail "merge script printed no layers"
norm "$R/merged.db" "$WORKDIR/k8s.norm"
diff -u "$WORKDIR/single.norm" "$WORKDIR/k8s.norm" >&2 ||
    fail "the Job's merge step gives a different database"
note "ok"
