#!/usr/bin/env bash
# test_storage.sh - a registry's filesystem storage scanned without the
# server (`stowaway batch storage DIR`): every repository:tag becomes an
# image, nested repository names survive, --repo/--tag filter, each distinct
# layer is stored once, and the findings equal those of scanning the OCI
# layout that was pushed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/registry_lib.sh"
reg_require
gen_fixtures

reg_start store
reg_push "$FX/base.oci" 1 "$REG_ADDR/acme/team/base:1"
reg_push "$FX/base.oci" 1 "$REG_ADDR/acme/team/base:latest"
reg_push "$FX/multi.oci" 1 "$REG_ADDR/other/multi:1" --all
reg_cleanup # the storage is read with the server stopped
STORE="$REG_STORAGE"

run "$WORKDIR/all.json" "$WORKDIR/err" batch storage --db "$WORKDIR/s.db" \
    --format json "$STORE"
[ "$RC" = 1 ] || fail "batch storage: exit $RC: $(cat "$WORKDIR/err")"
python3 - "$WORKDIR/all.json" <<'PY' || fail "storage report"
import json, sys
r = json.load(open(sys.argv[1]))
refs = sorted((i["ref"], i["platform"]) for i in r["images"])
assert refs == [("acme/team/base:1", "linux/amd64"),
                ("acme/team/base:latest", "linux/amd64"),
                ("other/multi:1", "linux/amd64"),
                ("other/multi:1", "linux/arm64")], refs
assert not r["errors"], r["errors"]
# The same findings for both tags of base, the deleted key still reported.
by = {}
for f in r["findings"]:
    ref = r["images"][f["image"]]["ref"]
    by.setdefault(ref, set()).add((f["layer"], f["path"], f["rule"], f["visible"]))
assert by["acme/team/base:1"] == by["acme/team/base:latest"]
assert (1, "app/id_rsa", "rsa-private-key", False) in by["acme/team/base:1"]
PY

# Shared layers are stored once: base's layers plus multi's distinct ones.
n=$(sqlite3 "$WORKDIR/s.db" "select count(*) from layers")
d=$(find "$STORE/docker/registry/v2/blobs" -name data | wc -l)
[ "$n" -lt "$d" ] || fail "layers stored $n times for $d blobs"

# The same image scanned as the OCI layout gives the same findings.
run "$WORKDIR/oci.json" "$WORKDIR/err" scan --no-db --format json "$FX/base.oci"
python3 - "$WORKDIR/all.json" "$WORKDIR/oci.json" <<'PY' || fail "storage differs from OCI layout"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
key = lambda r, ref: sorted((-1 if f["layer"] is None else f["layer"],
                             f["path"], f["rule"], f["fingerprint"])
                            for f in r["findings"]
                            if r["images"][f["image"]]["ref"] == ref)
assert key(a, "acme/team/base:1") == key(b, b["images"][0]["ref"])
PY

# Filters: one repository, one tag.
run "$WORKDIR/f.json" "$WORKDIR/err" batch storage --no-db --format json \
    --repo 'acme/*' --tag latest "$STORE"
python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert [i["ref"] for i in r["images"]] == ["acme/team/base:latest"], r["images"]
' "$WORKDIR/f.json" || fail "--repo/--tag filter"

# A tag whose link names a blob that is gone: one clear error, exit 2.
link=$(find "$STORE" -path '*other/multi/_manifests/tags/1/current/link')
echo "sha256:$(printf '0%.0s' $(seq 64))" >"$link"
run "$WORKDIR/bad.json" "$WORKDIR/err" batch storage --no-db --format json "$STORE"
[ "$RC" = 2 ] || fail "dangling tag: exit $RC"
[ "$(wc -l <"$WORKDIR/err")" = 1 ] || fail "dangling tag: not one line: $(cat "$WORKDIR/err")"
grep -q "$STORE" "$WORKDIR/err" || fail "error does not name the storage"
echo "PASS [$TEST_NAME]"
