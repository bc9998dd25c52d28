#!/usr/bin/env bash
# test_overlay.sh - whiteouts, opaque directories and overwrites decide
# visibility, per image: a layer shared by two images can hold a finding that
# is hidden in one and visible in the other.
. "$(dirname "$0")/lib.sh"
gen_fixtures

scan_json base --no-db "$FX/base.oci"
r="$WORKDIR/base.json"
check_base_findings "$r"
# exactly one report per hidden file, attributed to the layer that added it
cj count "$r" 1 path=app/id_rsa kind=private-key ||
    fail "app/id_rsa reported more or less than once"
cj count "$r" 1 path=app/keep/key.pem kind=private-key ||
    fail "app/keep/key.pem reported more or less than once"
cj count "$r" 1 path=app/data/x kind=setuid ||
    fail "app/data/x reported more or less than once"
cj eval "$r" 'all(f["visible"] for f in F if f["layer"] == 0)' ||
    fail "nothing in L0 is deleted, yet a L0 finding is hidden"

note "layers shared by two images in one tarball"
scan_json shared --no-db "$FX/shared.docker.tar"
r="$WORKDIR/shared.json"
cj eval "$r" 'sorted(i["ref"] for i in I) == ["fixture/base:1", "fixture/partial:3"]' ||
    fail "shared.docker.tar: want both images"
cj eval "$r" 'I[0]["layers"][1]["digest"] == I[1]["layers"][1]["digest"]' ||
    fail "shared.docker.tar: L1 should be the same blob in both images"
cj has "$r" ref=fixture/base:1 path=app/id_rsa layer=1 visible=false \
    removed_in_layer=2 || fail "base: app/id_rsa must be hidden"
cj has "$r" ref=fixture/partial:3 path=app/id_rsa layer=1 visible=true \
    removed_in_layer=null || fail "partial: app/id_rsa must be visible"
cj has "$r" ref=fixture/partial:3 path=app/data/x kind=setuid \
    visible=true || fail "partial: app/data/x must be visible"
cj has "$r" ref=fixture/partial:3 path=app/keep/key.pem visible=true ||
    fail "partial: app/keep/key.pem must be visible"
cj none "$r" ref=fixture/partial:3 visible=false ||
    fail "partial has no deleting layer, yet something is hidden"

note "demo image"
scan_json demo --no-db "$FX/demo/demo.docker.tar"
r="$WORKDIR/demo.json"
cj has "$r" path=app/id_rsa kind=private-key layer=1 visible=false \
    removed_in_layer=2 || fail "demo: app/id_rsa"
cj has "$r" path=app/.env layer=1 visible=true ||
    fail "demo: app/.env (AWS keys)"
cj has "$r" path=usr/bin/su kind=setuid layer=0 visible=true ||
    fail "demo: setuid su"
echo "PASS $TEST_NAME"
