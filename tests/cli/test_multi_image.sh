#!/usr/bin/env bash
# test_multi_image.sh - a docker-save tarball with two images reports both;
# a multi-platform index reports every platform, and --platform picks one,
# whether index.json lists the manifests or points at a nested index.
. "$(dirname "$0")/lib.sh"
gen_fixtures

note "two images in one docker-save tarball"
scan_json two --no-db "$FX/two.docker.tar"
r="$WORKDIR/two.json"
cj eval "$r" 'sorted(i["ref"] for i in I) == ["fixture/base:1", "fixture/other:2"]' ||
    fail "two.docker.tar: want fixture/base:1 and fixture/other:2"
b=$(python3 -c 'import json,sys; print([i["ref"] for i in json.load(open(sys.argv[1]))["images"]].index("fixture/base:1"))' "$r")
check_base_findings "$r" "$b"
cj has "$r" ref=fixture/other:2 path=srv/other/suid kind=setuid layer=1 \
    visible=true || fail "other: srv/other/suid"
cj has "$r" ref=fixture/other:2 path=usr/bin/su kind=setuid layer=0 \
    visible=true || fail "other: shared L0 findings belong to it too"
cj none "$r" ref=fixture/other:2 'path~^app/' ||
    fail "other: findings of base's layers leaked into it"
cj none "$r" ref=fixture/base:1 'path~^srv/' ||
    fail "base: findings of other's layer leaked into it"

for layout in multi.oci multi-flat.oci; do
    note "multi-platform $layout"
    scan_json "all-$layout" --no-db "$FX/$layout"
    r="$WORKDIR/all-$layout.json"
    cj eval "$r" 'sorted(i["platform"] for i in I) == ["linux/amd64", "linux/arm64"]' ||
        fail "$layout: want both platforms without --platform"
    cj has "$r" path=opt/amd64/tool kind=setuid layer=1 ||
        fail "$layout: amd64 finding"
    cj has "$r" path=opt/arm64/tool kind=setgid layer=1 ||
        fail "$layout: arm64 finding"
    cj eval "$r" 'all(I[f["image"]]["platform"] == "linux/amd64" for f in F if f["path"] == "opt/amd64/tool")' ||
        fail "$layout: amd64 finding attributed to the wrong image"

    scan_json "arm-$layout" --no-db --platform linux/arm64 "$FX/$layout"
    r="$WORKDIR/arm-$layout.json"
    cj eval "$r" 'len(I) == 1 and I[0]["platform"] == "linux/arm64"' ||
        fail "$layout: --platform linux/arm64 must select one image"
    cj has "$r" path=opt/arm64/tool kind=setgid layer=1 visible=true \
        gid=5 || fail "$layout --platform arm64: arm64 finding"
    cj none "$r" 'path~amd64' || fail "$layout: amd64 content in arm64 scan"
    cj has "$r" path=usr/bin/su kind=setuid layer=0 ||
        fail "$layout: shared base layer not scanned"

    scan_json "amd-$layout" --no-db --platform linux/amd64 "$FX/$layout"
    r="$WORKDIR/amd-$layout.json"
    cj eval "$r" 'len(I) == 1 and I[0]["platform"] == "linux/amd64"' ||
        fail "$layout: --platform linux/amd64 must select one image"
    cj has "$r" path=opt/amd64/tool kind=setuid || fail "$layout: amd64"
    cj none "$r" 'path~arm64' || fail "$layout: arm64 content in amd64 scan"
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
