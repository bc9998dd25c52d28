#!/usr/bin/env bash
# test_real_images.sh - images written by real tools, not by our generator:
# umoci builds a 3-layer OCI image (its whiteout for an `rm`, its "." root
# entries, an empty_layer history entry from `umoci config`), skopeo converts
# it to docker-archive (layer.tar symlinks), oci-archive and zstd layers.
# Every form gives the same findings. Skipped without umoci and skopeo.
# `cat F |` on purpose: standard input must be a pipe, not a seekable file.
# shellcheck disable=SC2002
. "$(dirname "$0")/lib.sh"
command -v umoci >/dev/null && command -v skopeo >/dev/null ||
    skip "umoci and skopeo are needed"

KEYS="$SRCDIR/fixtures/keys"
R="$WORKDIR/real"
mkdir -p "$R"
cd "$R"
ROOTLESS=()
[ "$(id -u)" -eq 0 ] || ROOTLESS=(--rootless)
q() { "$@" >>"$R/tools.log" 2>&1 || { cat "$R/tools.log" >&2; fail "$*"; }; }

q umoci init --layout img
q umoci new --image img:v1
# layer 0: a tiny root filesystem with a setuid binary and a sticky /tmp
q umoci unpack "${ROOTLESS[@]}" --image img:v1 b0
mkdir -p b0/rootfs/etc b0/rootfs/usr/bin b0/rootfs/tmp
echo 'root:x:0:0:root:/root:/bin/sh' >b0/rootfs/etc/passwd
printf '\177ELF fixture\n' >b0/rootfs/usr/bin/su
chmod 4755 b0/rootfs/usr/bin/su
chmod 1777 b0/rootfs/tmp
q umoci repack --image img:v1 --history.created_by 'ADD rootfs /' b0
# layer 1: two private keys
q umoci unpack "${ROOTLESS[@]}" --image img:v1 b1
mkdir -p b1/rootfs/app
cp "$KEYS/id_rsa.pem" b1/rootfs/app/id_rsa
cp "$KEYS/ec.pem" b1/rootfs/app/keep.pem
q umoci repack --image img:v1 --history.created_by 'COPY keys /app/' b1
# layer 2: `rm` one of them; umoci writes the whiteout
q umoci unpack "${ROOTLESS[@]}" --image img:v1 b2
rm b2/rootfs/app/id_rsa
q umoci repack --image img:v1 --history.created_by 'RUN rm /app/id_rsa' b2
q umoci config --image img:v1 \
    --config.env "GITHUB_TOKEN=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"
q skopeo copy oci:img:v1 docker-archive:real.docker.tar:fixture/real:v1
q skopeo copy oci:img:v1 oci-archive:real.oci.tar:v1
q skopeo copy --dest-compress-format zstd oci:img:v1 oci:zimg:v1
cd "$WORKDIR"

for t in img real.docker.tar real.oci.tar zimg; do
    note "real image: $t" >&2
    scan_json "$t" --no-db "$R/$t"
    check_no_plaintext "$WORKDIR/$t.json"
    printf 'report %s.json\nnorm %s.norm\n' "$t" "$t"
    cat <<'EOF'
eval len(I) == 1 and len(I[0]["layers"]) == 3 # want one image of 3 layers
eval [l["created_by"] for l in I[0]["layers"]] == \
    ["ADD rootfs /", "COPY keys /app/", "RUN rm /app/id_rsa"] \
    # history not matched to layers (empty_layer entries skipped)
has path=usr/bin/su kind=setuid rule=setuid-file layer=0 visible=true \
    # setuid usr/bin/su
none path=tmp # sticky tmp flagged
none 'path~^(\.|\./.*|/.*)$' # unnormalised path
has path=app/id_rsa kind=private-key layer=1 visible=false \
    removed_in_layer=2 # app/id_rsa deleted by rm
has path=app/keep.pem kind=private-key layer=1 visible=true # app/keep.pem
none 'path~\.wh\.' # whiteout marker reported
has layer=null path='<config>' # config Env token
EOF
done >"$WORKDIR/real.table"
cat >>"$WORKDIR/real.table" <<'EOF'
# skopeo writes the RepoTag fully qualified: docker.io/fixture/real:v1
report real.docker.tar.json
eval I[0]["ref"].endswith("fixture/real:v1") # docker-archive ref
report zimg.json
eval all(l["media_type"].endswith("+zstd") for l in I[0]["layers"]) \
    # zstd media types
EOF
cj_all "$WORKDIR/img.json" <"$WORKDIR/real.table"
for t in real.docker.tar real.oci.tar zimg; do
    norm_diff "$WORKDIR/img.norm" "$WORKDIR/$t.norm" "oci vs $t"
done

note "real docker-archive from stdin"
set +e
cat "$R/real.docker.tar" | "$STOWAWAY" scan --no-db --format json - \
    >"$WORKDIR/pipe.json" 2>"$WORKDIR/pipe.err"
RC=$?
set -e
[ "$RC" -le 1 ] || { cat "$WORKDIR/pipe.err" >&2; fail "stdin: exit $RC"; }
same_findings "$WORKDIR/real.docker.tar.json" "$WORKDIR/pipe.json" \
    "file vs stdin" --fingerprints
echo "PASS $TEST_NAME"
