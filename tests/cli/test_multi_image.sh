#!/usr/bin/env bash
# test_multi_image.sh - a docker-save tarball with two images reports both;
# a multi-platform index reports every platform, and --platform picks one,
# whether index.json lists the manifests or points at a nested index.
. "$(dirname "$0")/lib.sh"
gen_fixtures

note "two images in one docker-save tarball"
scan_json two --no-db "$FX/two.docker.tar"
r="$WORKDIR/two.json"
check_base_findings "$r" ref=fixture/base:1
cj_all "$r" <<'EOF'
eval sorted(i["ref"] for i in I) == ["fixture/base:1", "fixture/other:2"] \
    # two.docker.tar: want fixture/base:1 and fixture/other:2
has ref=fixture/other:2 path=srv/other/suid kind=setuid layer=1 visible=true \
    # other: srv/other/suid
has ref=fixture/other:2 path=usr/bin/su kind=setuid layer=0 visible=true \
    # other: shared L0 findings belong to it too
none ref=fixture/other:2 'path~^app/' \
    # other: findings of base's layers leaked into it
none ref=fixture/base:1 'path~^srv/' \
    # base: findings of other's layer leaked into it
EOF

for layout in multi.oci multi-flat.oci; do
    note "multi-platform $layout"
    scan_json "all-$layout" --no-db "$FX/$layout"
    cj_all "$WORKDIR/all-$layout.json" <<'EOF'
eval sorted(i["platform"] for i in I) == ["linux/amd64", "linux/arm64"] \
    # want both platforms without --platform
has path=opt/amd64/tool kind=setuid layer=1 # amd64 finding
has path=opt/arm64/tool kind=setgid layer=1 # arm64 finding
eval all(I[f["image"]]["platform"] == "linux/amd64" for f in F \
    if f["path"] == "opt/amd64/tool") \
    # amd64 finding attributed to the wrong image
EOF

    scan_json "arm-$layout" --no-db --platform linux/arm64 "$FX/$layout"
    cj_all "$WORKDIR/arm-$layout.json" <<'EOF'
eval len(I) == 1 and I[0]["platform"] == "linux/arm64" \
    # --platform linux/arm64 must select one image
has path=opt/arm64/tool kind=setgid layer=1 visible=true gid=5 \
    # --platform arm64: arm64 finding
none 'path~amd64' # amd64 content in arm64 scan
has path=usr/bin/su kind=setuid layer=0 # shared base layer not scanned
EOF

    scan_json "amd-$layout" --no-db --platform linux/amd64 "$FX/$layout"
    cj_all "$WORKDIR/amd-$layout.json" <<'EOF'
eval len(I) == 1 and I[0]["platform"] == "linux/amd64" \
    # --platform linux/amd64 must select one image
has path=opt/amd64/tool kind=setuid # amd64
none 'path~arm64' # arm64 content in amd64 scan
EOF
done
same_findings "$WORKDIR/arm-multi.oci.json" "$WORKDIR/arm-multi-flat.oci.json" \
    "nested vs flat index" --fingerprints

note "--platform that matches nothing is an input error"
run "$WORKDIR/none.out" "$WORKDIR/none.err" scan --no-db --format json \
    --platform linux/s390x "$FX/multi.oci"
expect_rc 2 "--platform linux/s390x"
[ "$(grep -c '' "$WORKDIR/none.err")" -eq 1 ] ||
    fail "--platform mismatch: want one stderr line"
echo "PASS $TEST_NAME"
