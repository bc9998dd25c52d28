#!/usr/bin/env bash
# test_overlay.sh - whiteouts, opaque directories and overwrites decide
# visibility, per image: a layer shared by two images can hold a finding that
# is hidden in one and visible in the other.
. "$(dirname "$0")/lib.sh"
gen_fixtures

scan_json base --no-db "$FX/base.oci"
r="$WORKDIR/base.json"
check_base_findings "$r"
cj_all "$r" <<'EOF'
# exactly one report per hidden file, attributed to the layer that added it
count 1 path=app/id_rsa kind=private-key # app/id_rsa reported more or less than once
count 1 path=app/keep/key.pem kind=private-key \
    # app/keep/key.pem reported more or less than once
count 1 path=app/data/x kind=setuid # app/data/x reported more or less than once
eval all(f["visible"] for f in F if f["layer"] == 0) \
    # nothing in L0 is deleted, yet a L0 finding is hidden
EOF

note "layers shared by two images in one tarball"
scan_json shared --no-db "$FX/shared.docker.tar"
cj_all "$WORKDIR/shared.json" <<'EOF'
eval sorted(i["ref"] for i in I) == ["fixture/base:1", "fixture/partial:3"] \
    # shared.docker.tar: want both images
eval I[0]["layers"][1]["digest"] == I[1]["layers"][1]["digest"] \
    # shared.docker.tar: L1 should be the same blob in both images
has ref=fixture/base:1 path=app/id_rsa layer=1 visible=false \
    removed_in_layer=2 # base: app/id_rsa must be hidden
has ref=fixture/partial:3 path=app/id_rsa layer=1 visible=true \
    removed_in_layer=null # partial: app/id_rsa must be visible
has ref=fixture/partial:3 path=app/data/x kind=setuid visible=true \
    # partial: app/data/x must be visible
has ref=fixture/partial:3 path=app/keep/key.pem visible=true \
    # partial: app/keep/key.pem must be visible
none ref=fixture/partial:3 visible=false \
    # partial has no deleting layer, yet something is hidden
EOF

note "demo image"
scan_json demo --no-db "$FX/demo/demo.docker.tar"
cj_all "$WORKDIR/demo.json" <<'EOF'
has path=app/id_rsa kind=private-key layer=1 visible=false removed_in_layer=2 \
    # demo: app/id_rsa
has path=app/.env layer=1 visible=true # demo: app/.env (AWS keys)
has path=usr/bin/su kind=setuid layer=0 visible=true # demo: setuid su
EOF
echo "PASS $TEST_NAME"
