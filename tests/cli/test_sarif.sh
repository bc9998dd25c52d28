#!/usr/bin/env bash
# test_sarif.sh - --format sarif writes a SARIF 2.1.0 log that the OASIS
# schema accepts and that GitHub code scanning can take: one run, one result
# per finding of the JSON report (same fingerprints), rules with
# security-severity and help, paths as percent-encoded URIs under IMAGEROOT,
# config findings under "image-config", failed targets as notifications,
# and never a secret in full.
. "$(dirname "$0")/lib.sh"

SCHEMA="$SRCDIR/tests/schemas/sarif-schema-2.1.0.json"
[ -f "$SCHEMA" ] || fail "missing $SCHEMA"
# Without jsonschema only the validation against the OASIS schema is
# skipped; every other check still runs.
if python3 -c 'import jsonschema' 2>/dev/null; then
    HAVE_JSONSCHEMA=1
else
    HAVE_JSONSCHEMA=0
    skip_part "python3 jsonschema module not installed (Debian: python3-jsonschema): SARIF logs not validated against the 2.1.0 schema"
fi

# validate FILE CONTEXT: the OASIS schema must accept FILE; checked by
# sarif_checks, with every other log, in one python3.
VALIDATE=()
validate() {
    VALIDATE+=("$1" "$2")
}

# sarif_check SARIF JSON CONTEXT: the SARIF log must say what the JSON
# report of the same scan says, in the shape GitHub code scanning reads;
# checked by sarif_checks.
SARIF_CHECK=()
sarif_check() {
    SARIF_CHECK+=("$1" "$2" "$3")
}

# sarif_checks: what validate and sarif_check were asked, in one python3;
# every failure is reported, then the test fails.
sarif_checks() {
    python3 -W ignore::DeprecationWarning - "$SCHEMA" "$HAVE_JSONSCHEMA" \
        "$((${#VALIDATE[@]} / 2))" "${VALIDATE[@]}" "${SARIF_CHECK[@]}" <<'PY' ||
import json, re, sys
from urllib.parse import unquote_to_bytes

schema_path, have_js, n = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
validate = sys.argv[4:4 + 2 * n]
checks = sys.argv[4 + 2 * n:]
failed = 0
if have_js:
    import jsonschema
    schema = json.load(open(schema_path, "rb"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    for path, ctx in zip(validate[::2], validate[1::2]):
        errs = list(cls(schema).iter_errors(json.load(open(path, "rb"))))
        for e in errs[:5]:
            sys.stderr.write("%s: %s\n" % (path, e.message[:300]))
        if errs:
            failed += 1
            sys.stderr.write("validate [%s]: SARIF does not validate against "
                             "the 2.1.0 schema\n" % ctx)


class Bad(Exception):
    pass


def die(msg):
    raise Bad(msg)


def check(sarif_path, json_path):
    s = json.load(open(sarif_path, "rb"))
    r = json.load(open(json_path, "rb"))

    LEVEL = {"critical": "error", "high": "error", "medium": "warning",
             "low": "note", "info": "note"}
    SEC = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0",
           "info": "1.0"}
    # RFC 3986 relative reference built only from unreserved chars, '/' and
    # percent-escapes: what uri_encode promises.
    URI_RE = re.compile(r"^(?:[A-Za-z0-9._~/-]|%[0-9A-F]{2})+$")
    RULE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

    if s.get("version") != "2.1.0":
        die("version is not 2.1.0")
    if len(s["runs"]) != 1:
        die("want exactly one run")
    run = s["runs"][0]
    drv = run["tool"]["driver"]
    if drv["name"] != "stowaway" or drv["version"] != r["tool"]["version"] or \
            drv["semanticVersion"] != r["tool"]["version"]:
        die("tool.driver name/version")
    if "informationUri" in drv:
        die("informationUri present")
    if "IMAGEROOT" not in run.get("originalUriBaseIds", {}):
        die("IMAGEROOT not declared in originalUriBaseIds")

    rules = drv["rules"]
    ids = [x["id"] for x in rules]
    if ids != sorted(set(ids)):
        die("rules not unique and sorted: %r" % ids)
    F = r["findings"]
    if set(ids) != {f["rule"] for f in F}:
        die("rules %r do not match the findings' rules" % ids)
    for ru in rules:
        p = ru["properties"]
        if not RULE_ID_RE.match(ru["id"]):
            die("rule id %r" % ru["id"])
        for k in ("name", "shortDescription", "fullDescription", "help"):
            if not ru.get(k) or (k != "name" and not ru[k]["text"].strip()):
                die("rule %s lacks %s" % (ru["id"], k))
        if "\n" in ru["help"]["text"]:
            die("rule %s help is not one line" % ru["id"])
        if "security" not in p["tags"] or len(p["tags"]) > 20 or \
                len(set(p["tags"])) != len(p["tags"]):
            die("rule %s tags %r" % (ru["id"], p["tags"]))
        worst = max((f for f in F if f["rule"] == ru["id"]),
                    key=lambda f: list(SEC).index(f["severity"]) * -1)
        if p["security-severity"] != SEC[worst["severity"]]:
            die("rule %s security-severity %r, want %r" %
                (ru["id"], p["security-severity"], SEC[worst["severity"]]))
        if ru["defaultConfiguration"]["level"] != LEVEL[worst["severity"]]:
            die("rule %s default level" % ru["id"])

    res = run["results"]
    if len(res) != len(F) or len(res) > 25000:
        die("%d results for %d findings" % (len(res), len(F)))
    # A layer shared by two images gives each the same fingerprint.
    by_fp = {(f["image"], f["fingerprint"]): f for f in F}
    seen = set()
    for x in res:
        fp = x["partialFingerprints"]["stowaway/v1"]
        p = x["properties"]
        f = by_fp.get((p["image_index"], fp))
        if f is None or (p["image_index"], fp) in seen:
            die("result fingerprint %r unknown or repeated" % fp)
        seen.add((p["image_index"], fp))
        if x["ruleId"] != f["rule"] or ids[x["ruleIndex"]] != f["rule"]:
            die("%s: ruleId/ruleIndex" % fp)
        if x["level"] != LEVEL[f["severity"]]:
            die("%s: level %s for %s" % (fp, x["level"], f["severity"]))
        img = r["images"][f["image"]]
        for k in ("layer_digest", "visible", "removed_in_layer", "kind",
                  "excerpt", "layer", "severity", "path"):
            if p[k] != f[k]:
                die("%s: properties.%s %r, want %r" % (fp, k, p[k], f[k]))
        if p["image"] != img["ref"] or p["image_index"] != f["image"]:
            die("%s: image ref" % fp)
        msg = x["message"]["text"]
        if f["path"] != "<config>" and f["path"] not in msg:
            die("%s: message does not name the path: %r" % (fp, msg))
        hidden = "deleted in layer %s but recoverable" % f["removed_in_layer"]
        if (hidden in msg) == f["visible"]:
            die("%s: message and visibility disagree: %r" % (fp, msg))
        loc = x["locations"][0]["physicalLocation"]
        art = loc["artifactLocation"]
        if f["layer"] is None:
            if art != {"uri": "image-config"} or not p["in_image_config"] or \
                    p["created_by"] is not None:
                die("%s: config finding location %r" % (fp, art))
        else:
            cb = img["layers"][f["layer"]]["created_by"]
            if cb is not None and (p["created_by"] is None or
                                   len(p["created_by"]) > 200 or
                                   p["created_by"].rstrip("\u2026") not in cb):
                die("%s: created_by %r vs %r" % (fp, p["created_by"], cb))
            if art.get("uriBaseId") != "IMAGEROOT" or p["in_image_config"]:
                die("%s: uriBaseId" % fp)
            if not URI_RE.match(art["uri"]):
                die("%s: uri %r is not a clean relative reference" %
                    (fp, art["uri"]))
            if "\ufffd" not in f["path"] and \
                    unquote_to_bytes(art["uri"]) != f["path"].encode():
                die("%s: uri %r does not decode to path %r" %
                    (fp, art["uri"], f["path"]))
        if f["line"] and f["layer"] is not None:
            if loc["region"] != {"startLine": f["line"]}:
                die("%s: region %r, want line %d" % (fp, loc.get("region"),
                                                     f["line"]))
        elif "region" in loc:
            die("%s: region without a line" % fp)

    inv = run["invocations"][0]
    notes = inv["toolExecutionNotifications"]
    if inv["executionSuccessful"] != (not r["errors"]):
        die("executionSuccessful vs %d errors" % len(r["errors"]))
    if len([n for n in notes if n["level"] == "error"]) != len(r["errors"]):
        die("notifications %r vs errors %r" % (notes, r["errors"]))
    for n, e in zip(notes, r["errors"]):
        if n["properties"]["target"] != e["target"] or \
                e["message"] not in n["message"]["text"]:
            die("notification %r for error %r" % (n, e))
    if run["properties"]["findings_total"] != len(F) or \
            run["properties"]["findings_omitted"] != 0:
        die("run properties")


for k in range(0, len(checks), 3):
    try:
        check(checks[k], checks[k + 1])
    except Bad as e:
        failed += 1
        sys.stderr.write("sarif_check [%s]: %s\n" % (checks[k + 2], e))
sys.exit(1 if failed else 0)
PY
        fail "SARIF logs (see above)"
}

# scan_both NAME ARGS...: the same scan as NAME.json and NAME.sarif (with
# the same exit status, which it leaves in RC), then validates the SARIF.
scan_both() {
    local name=$1
    shift
    run "$WORKDIR/$name.json" "$WORKDIR/$name.json.err" scan --format json "$@"
    local rc_json=$RC
    run "$WORKDIR/$name.sarif" "$WORKDIR/$name.err" scan --format sarif "$@"
    [ "$RC" -eq "$rc_json" ] ||
        fail "$name: exit $RC with sarif, $rc_json with json"
    validate "$WORKDIR/$name.sarif" "$name"
    sarif_check "$WORKDIR/$name.sarif" "$WORKDIR/$name.json" "$name"
    check_no_plaintext "$WORKDIR/$name.sarif"
}

note "the committed demo image"
scan_both demo --no-db "$SRCDIR/fixtures/demo/demo.docker.tar"
expect_rc 1 "demo"
cj eval "$WORKDIR/demo.json" 'any(not f["visible"] for f in F)' ||
    fail "demo: expected a deleted finding"
python3 - "$WORKDIR/demo.sarif" <<'PY' || fail "demo: specifics"
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
res = {x["properties"]["path"]: x for x in run["results"]}
key = res["app/id_rsa"]
assert key["level"] == "error", key["level"]
assert key["message"]["text"].endswith(
    "deleted in layer 2 but recoverable"), key["message"]
assert key["locations"][0]["physicalLocation"]["artifactLocation"] == \
    {"uri": "app/id_rsa", "uriBaseId": "IMAGEROOT"}
assert key["properties"]["created_by"] == "COPY . /app"
assert key["properties"]["removed_in_layer"] == 2
su = res["usr/bin/su"]
assert su["ruleId"] == "setuid-file"
rule = run["tool"]["driver"]["rules"][su["ruleIndex"]]
assert "chmod a-s" in rule["help"]["text"], rule
assert rule["shortDescription"]["text"] != "setuid-file", rule
PY
grep -q -F 'Yp7lIMrnzLZElZbXx73/cKO6+Ww4A/4hvC24uJuo' "$WORKDIR/demo.sarif" &&
    fail "demo: AWS secret in the SARIF log"

note "generated images: several images, layers, config findings"
gen_fixtures
scan_both base --no-db "$FX/base.docker.tar" "$FX/two.docker.tar"
cj eval "$WORKDIR/base.json" 'len(I) >= 2 and len(F) >= 10' ||
    fail "base + two: want several images and findings"

note "a secret in the image config: uri image-config"
python3 - "$SRCDIR/fixtures/keys/id_rsa.pem" "$WORKDIR/cfg.docker.tar" <<'PY'
import hashlib, json, sys
from tarlib import tar_bytes
key = open(sys.argv[1]).read()

layer = tar_bytes([("etc/motd", b"hello\n")])
diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
config = json.dumps({
    "architecture": "amd64", "os": "linux",
    "config": {"Env": ["PATH=/usr/bin", "DEPLOY_KEY=" + key]},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
    "history": [{"created_by": "COPY motd /etc/motd"}],
}).encode()
cfg_name = hashlib.sha256(config).hexdigest() + ".json"
manifest = json.dumps([{"Config": cfg_name, "RepoTags": ["fixture/cfg:1"],
                        "Layers": ["l0/layer.tar"]}]).encode()
open(sys.argv[2], "wb").write(tar_bytes([
    ("manifest.json", manifest), (cfg_name, config),
    ("l0/layer.tar", layer)]))
PY
scan_both cfg --no-db "$WORKDIR/cfg.docker.tar"
cj has "$WORKDIR/cfg.json" layer=null path='<config>' ||
    fail "cfg: no finding in the config Env"
python3 - "$WORKDIR/cfg.sarif" <<'PY' || fail "cfg: config result"
import json, sys
res = json.load(open(sys.argv[1]))["runs"][0]["results"]
c = [x for x in res if x["properties"]["in_image_config"]]
assert c, res
for x in c:
    assert x["locations"][0]["physicalLocation"] == \
        {"artifactLocation": {"uri": "image-config"}}, x["locations"]
    assert "image config (Env DEPLOY_KEY) of fixture/cfg:1" in \
        x["message"]["text"], x["message"]
PY

note "odd file names become percent-encoded URIs"
python3 - "$SRCDIR/fixtures/keys/id_rsa.pem" "$WORKDIR/odd.tar" <<'PY'
import io, sys, tarfile
key = open(sys.argv[1], "rb").read()
names = ["app/dir with space/id #1?.pem", "app/100%.pem",
         "app/\u043a\u043b\u044e\u0447.pem", "app/a:b.pem",
         "app/\udcff\udcfe.pem"]
with tarfile.open(sys.argv[2], "w", format=tarfile.GNU_FORMAT,
                  encoding="utf-8", errors="surrogateescape") as t:
    for n in names:
        ti = tarfile.TarInfo(n)
        ti.size, ti.mtime, ti.mode = len(key), 1700000000, 0o600
        t.addfile(ti, io.BytesIO(key))
    ti = tarfile.TarInfo("usr/bin/s u")
    ti.mode, ti.mtime = 0o4755, 1700000000
    t.addfile(ti, io.BytesIO(b""))
PY
scan_both odd --no-db "$WORKDIR/odd.tar"
python3 - "$WORKDIR/odd.sarif" <<'PY' || fail "odd names: URIs"
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
uris = {x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for x in run["results"]}
want = {"app/dir%20with%20space/id%20%231%3F.pem", "app/100%25.pem",
        "app/%D0%BA%D0%BB%D1%8E%D1%87.pem", "app/a%3Ab.pem",
        "usr/bin/s%20u"}
assert want <= uris, sorted(uris)
PY

note "a failed target: the log is still written, with the error"
scan_both partial --no-db "$SRCDIR/fixtures/demo/demo.docker.tar" \
    "$FX/bad/empty.tar"
expect_rc 2 "demo + empty.tar"
python3 - "$WORKDIR/partial.sarif" <<'PY' || fail "partial: notification"
import json, sys
inv = json.load(open(sys.argv[1]))["runs"][0]["invocations"][0]
assert inv["executionSuccessful"] is False
n = inv["toolExecutionNotifications"]
assert len(n) == 1 and n[0]["level"] == "error", n
assert "empty.tar" in n[0]["message"]["text"], n
PY
run "$WORKDIR/none.sarif" "$WORKDIR/none.err" scan --no-db --format sarif \
    "$FX/bad/empty.tar"
expect_rc 2 "empty.tar alone"
validate "$WORKDIR/none.sarif" "empty.tar alone"

note "-o FILE and a clean image"
run "$WORKDIR/o.out" "$WORKDIR/o.err" scan --no-db --format sarif \
    -o "$WORKDIR/clean.sarif" "$FX/clean.tar"
expect_rc 0 "clean.tar"
[ -s "$WORKDIR/o.out" ] && fail "-o: the log also went to standard output"
validate "$WORKDIR/clean.sarif" "clean.tar"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0];
assert r["results"] == [] and r["tool"]["driver"]["rules"] == []' \
    "$WORKDIR/clean.sarif" || fail "clean.tar: want no results and no rules"
sarif_checks
echo "PASS $TEST_NAME"
