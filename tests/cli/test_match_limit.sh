#!/usr/bin/env bash
# test_match_limit.sh - a custom rule whose regex backtracks
# catastrophically (the test rule of tests/test_matcher.c) on crafted text,
# end to end: in a layer file, hostile text followed by a real token - the
# token is found, and the offset where PCRE2's match limit was hit is a
# note naming the file and rule in the JSON report's errors (and on the
# terminal); in the image config's Env, the same note names the variable;
# and `stowaway rules test` fails a rule whose own example hits the limit.
. "$(dirname "$0")/lib.sh"

cp "$SRCDIR/tests/cli/backtrack-rule.yaml" "$WORKDIR/bt.yaml"
# A docker save archive: one layer with srv/app.env, a config whose Env
# holds hostile text too.
python3 - "$WORKDIR/bt.docker.tar" <<'PY'
import hashlib, json, sys
from tarlib import tar_bytes

RUN = "a" * 60
TOKEN = "stwbt_9wLLh7UkAIpRVOys4wlnWl2UMmbEa611X0Xj"


layer = tar_bytes([("srv/app.env",
                    ("x tok=" + RUN + "\nT=" + TOKEN + "\n").encode())])
diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/bin", "HOSTILE=x tok=" + RUN]},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created_by": "COPY app.env /srv/"}],
}).encode()
cfg_name = hashlib.sha256(config).hexdigest() + ".json"
lid = hashlib.sha256(layer).hexdigest()
manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["bt:1"],
                        "Layers": [lid + "/layer.tar"]}]).encode()
with open(sys.argv[1], "wb") as f:
    f.write(tar_bytes([(cfg_name, config), (lid + "/layer.tar", layer),
                       ("manifest.json", manifest)]))
PY

note "hostile text before a real token in a layer file, and in Env"
scan_json bt --no-db --rules "$WORKDIR/bt.yaml" "$WORKDIR/bt.docker.tar"
expect_rc 1 "a high finding"
cj has "$WORKDIR/bt.json" rule=test-backtrack path=srv/app.env line=2 ||
    fail "the token after the hostile text was not found"
cj eval "$WORKDIR/bt.json" 'any("srv/app.env" in e["message"] and
    "test-backtrack" in e["message"] and "match limit" in e["message"]
    for e in r["errors"])' || fail "no error naming the file and the rule"
cj eval "$WORKDIR/bt.json" 'any("config of bt:1" in e["message"] and
    "Env HOSTILE" in e["message"] and "test-backtrack" in e["message"] and
    "match limit" in e["message"] for e in r["errors"])' ||
    fail "no error naming the config's Env variable and the rule"
# Nothing else is wrong with the image: these notes are all the errors.
cj eval "$WORKDIR/bt.json" 'len(r["errors"]) == 2' ||
    fail "want exactly the two notes in errors"
grep -q 'warning: .*srv/app.env: rule .test-backtrack.' "$WORKDIR/bt.err" ||
    fail "the note is not on the terminal"
grep -q 'warning: .*Env HOSTILE: rule .test-backtrack.' "$WORKDIR/bt.err" ||
    fail "the config note is not on the terminal"

note "without the hostile text: no errors"
cat >"$WORKDIR/plain.yaml" <<'YAML'
rules:
  - id: test-backtrack
    title: backtracking test rule
    category: vcs
    severity: high
    keywords: ['stwbt_']
    regex: 'stwbt_[A-Za-z0-9]{36}'
YAML
scan_json plain --no-db --rules "$WORKDIR/plain.yaml" "$WORKDIR/bt.docker.tar"
cj has "$WORKDIR/plain.json" rule=test-backtrack path=srv/app.env line=2 ||
    fail "premise: the token is found by a plain rule"
cj eval "$WORKDIR/plain.json" 'r["errors"] == []' ||
    fail "a regex that never hits the limit gave errors"

note "rules test: an example that hits the limit fails, by name"
{
    cat "$WORKDIR/bt.yaml"
    cat <<YAML
    examples:
      tp:
        - "T=stwbt_9wLLh7UkAIpRVOys4wlnWl2UMmbEa611X0Xj"
      fp:
        - "x tok=$(printf 'a%.0s' $(seq 60))"
YAML
} >"$WORKDIR/bt-examples.yaml"
run "$WORKDIR/rt.out" "$WORKDIR/rt.err" rules test "$WORKDIR/bt-examples.yaml"
expect_rc 1 "rules test with a hostile example"
grep -q "FAIL test-backtrack: fp example 1: .*rule 'test-backtrack': the regex hit its match limit" \
    "$WORKDIR/rt.out" || { cat "$WORKDIR/rt.out" >&2; fail "rules test does not name the example at the limit"; }
grep -q '1 failures' "$WORKDIR/rt.out" || fail "want exactly one failure"

echo "PASS [$TEST_NAME]"
