#!/usr/bin/env bash
# make-image.sh - build the benchmark images for bench/run.sh from real files:
# a debootstrap Debian root with extra packages installed in a chroot, two real
# node_modules trees of popular pinned npm packages, and planted fake secrets.
#
# Usage:  bench/make-image.sh [OUTDIR] [--no-scale] [--huge] [--huge-gb N] [--huge-only] [--node-only]
#   OUTDIR      default ${TMPDIR:-/tmp}/stw-bench
#   --no-scale  skip the 1/4, 1/2 and 2x images of the scaling series
#   --huge      also build huge.oci: one layer of ~10 GB of large files (peak RSS check)
#   --huge-gb N size of that layer in GiB (default 10)
#   --huge-only build huge.oci only
#   --node-only build node.oci only (no debootstrap: the npm trees alone)
# Needs:  Debian 12 and root (debootstrap, chroot, setuid files, ownership).
#         Missing tools are installed with apt-get; the npm trees come from the
#         npm registry. The Debian mirror is taken from the host's apt sources.
# Cache:  ${STW_BENCH_CACHE:-${TMPDIR:-/tmp}/stw-bench-cache}: the rootfs, the
#         npm trees and the ssh key are built once; images are rebuilt each run
#         (contents are identical between runs, digests are not).
#
# Output (all tagged v1):
#   full.oci/          OCI layout, gzip layers   (>= 1.4 GB uncompressed, 5 layers)
#   full-zstd.oci/     the same image, zstd layers (skopeo copy)
#   full.docker.tar    the same image as a docker-save tarball (skopeo copy)
#   scale-0.25.oci/ scale-0.5.oci/ scale-2.oci/   the same layers with a hashed
#                      1/4 and 1/2 of their files, or every file twice (gzip)
#   node.oci/          the node_modules-heavy image: L2 and L3 alone (gzip)
#   huge.oci/          (--huge) one gzip layer of a few multi-GB files
#   IMAGES.md          what is in each layer, including the planted secrets
#
# Layers of full.oci:
#   L1 debootstrap --variant=minbase bookworm + apt-get install git python3 curl
#      nodejs ca-certificates openssh-client (no recommends)
#   L2 /opt/buildtools: npm install of build tools (typescript, webpack, eslint, ...)
#   L3 /app: npm install of runtime dependencies (next, react, @mui, aws-sdk,
#      aws-cdk-lib, ...)
#   L4 /app secrets (fake): .env with an AWS key pair, deploy/id_rsa (ssh-keygen
#      RSA, PEM), .git/config with a GitHub token (ghp_, valid CRC32) in the URL
#   L5 whiteout app/deploy/.wh.id_rsa: the key is deleted but still in L4
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() {
  sed -n '6,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

OUT="" SCALE=1 HUGE=0 HUGE_GB=10 HUGE_ONLY=0 NODE_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
  --no-scale) SCALE=0 ;;
  --huge) HUGE=1 ;;
  --huge-only) HUGE=1 HUGE_ONLY=1 ;;
  --node-only) NODE_ONLY=1 SCALE=0 ;;
  --huge-gb)
    [ $# -ge 2 ] || usage
    HUGE=1 HUGE_GB=$2
    shift
    ;;
  -h | --help) usage ;;
  -*) usage ;;
  *)
    [ -z "$OUT" ] || usage
    OUT=$1
    ;;
  esac
  shift
done
OUT=${OUT:-${TMPDIR:-/tmp}/stw-bench}
CACHE=${STW_BENCH_CACHE:-${TMPDIR:-/tmp}/stw-bench-cache}
SUITE=bookworm
APT_PKGS=(git python3 curl nodejs ca-certificates openssh-client)
# Pinned so every machine builds the same tree; split the way a Dockerfile
# would (build tools, then the app's dependencies). Sizes (tar bytes): L1
# ~0.37 GB, L2 ~0.18 GB, L3 ~1.14 GB: like most application images, one fat
# layer on a thinner base, so with two workers the largest layer sets the pace.
NPM_TOOLS=(typescript@6.0.3 @babel/core@7.29.13 webpack@5.112.2 eslint@10.15.0
  @angular/compiler-cli@21.2.26 jest@30.5.2 prettier@3.10.1 vite@8.3.8)
NPM_APP=(next@16.4.6 react@19.3.1 react-dom@19.3.1 @mui/material@9.5.0
  @mui/icons-material@9.5.0 three@0.187.0 monaco-editor@0.57.0 googleapis@178.0.0
  aws-sdk@2.1693.0 aws-cdk-lib@2.276.0 @swc/core@1.16.22 pdfjs-dist@6.5.438
  lodash@4.18.1 rxjs@7.8.2 @angular/core@21.2.26)

[ "$(id -u)" = 0 ] || {
  echo "make-image.sh: must run as root (debootstrap, chroot, file ownership)" >&2
  exit 1
}
mkdir -p "$OUT" "$CACHE"
OUT=$(cd "$OUT" && pwd)
CACHE=$(cd "$CACHE" && pwd)
exec 9>"$CACHE/.lock"
flock 9

T0=$(date +%s)
step() {
  STEP_T=$(date +%s)
  echo ">> $*" >&2
}
done_step() { echo "   $(($(date +%s) - STEP_T))s" >&2; }

# ---- free disk: the layer tarballs are staged in the cache, images go to OUT
need_gb() { # DIR GB
  local avail
  avail=$(df -P -k "$1" | awk 'NR==2{print int($4/1048576)}')
  if [ "$avail" -lt "$2" ]; then
    echo "make-image.sh: $1 has ${avail} GB free, needs about $2 GB" >&2
    exit 1
  fi
}
if [ "$HUGE_ONLY" = 0 ] && [ "$NODE_ONLY" = 0 ]; then
  need_gb "$CACHE" $((SCALE ? 12 : 6))
  need_gb "$OUT" $((SCALE ? 6 : 4))
fi
[ "$HUGE" = 0 ] || need_gb "$OUT" $((HUGE_GB / 2 + 2))

# ---- tools
need=()
for p in skopeo:skopeo umoci:umoci debootstrap:debootstrap jq:jq ssh-keygen:openssh-client \
  igzip:isal zstd:zstd python3:python3 npm:npm; do
  command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  step "apt-get install ${need[*]}"
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
  done_step
fi

# huge.oci is generated text, independent of everything below
build_huge() {
  step "huge.oci (${HUGE_GB} GiB layer)"
  rm -rf "$OUT/huge.oci"
  python3 "$HERE/hugeimage.py" "$OUT/huge.oci" --gib "$HUGE_GB" --token "$(python3 "$HERE/mint.py" ghp 2)"
  done_step
}
if [ "$HUGE_ONLY" = 1 ]; then
  build_huge
  exit 0
fi

mirror() {
  local m
  # shellcheck disable=SC2016 # apt-get expands $(...) itself
  m=$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
    awk -v s=$SUITE '$1==s{print $2; exit}')
  [ -n "$m" ] || m=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$m" ] || m=$(awk '/^deb[ \t]/{sub(/\[[^]]*\]/, ""); print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$m" ] || {
    echo "make-image.sh: no Debian mirror in the apt sources" >&2
    exit 1
  }
  echo "$m"
}

if [ "$NODE_ONLY" = 0 ]; then
# ---- L1 source: debootstrap + packages installed in a chroot (cached)
ROOTFS=$CACHE/rootfs
if [ ! -e "$CACHE/rootfs.ok" ]; then
  if [ ! -e "$CACHE/rootfs.debootstrap.ok" ]; then
    M=$(mirror)
    step "debootstrap --variant=minbase $SUITE ($M)"
    rm -rf "$ROOTFS"
    debootstrap --variant=minbase $SUITE "$ROOTFS" "$M" >"$CACHE/debootstrap.log" 2>&1 || {
      tail -20 "$CACHE/debootstrap.log" >&2
      exit 1
    }
    touch "$CACHE/rootfs.debootstrap.ok"
    done_step
  fi
  step "chroot apt-get install ${APT_PKGS[*]}"
  cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  printf '#!/bin/sh\nexit 101\n' >"$ROOTFS/usr/sbin/policy-rc.d"
  chmod 755 "$ROOTFS/usr/sbin/policy-rc.d"
  mount -t proc proc "$ROOTFS/proc"
  trap 'mountpoint -q "$ROOTFS/proc" && umount "$ROOTFS/proc"' EXIT
  {
    chroot "$ROOTFS" apt-get update -q
    DEBIAN_FRONTEND=noninteractive chroot "$ROOTFS" apt-get install -y -q \
      --no-install-recommends "${APT_PKGS[@]}"
    chroot "$ROOTFS" apt-get clean
  } >"$CACHE/apt.log" 2>&1 || {
    tail -20 "$CACHE/apt.log" >&2
    exit 1
  }
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS/usr/sbin/policy-rc.d"
  umount "$ROOTFS/proc"
  trap - EXIT
  touch "$CACHE/rootfs.ok"
  done_step
fi
fi # NODE_ONLY

# ---- L2/L3 sources: npm trees (cached)
npm_tree() { # NAME PKG...
  local name=$1 dir=$CACHE/$1
  shift
  # the marker holds the package list, so editing the list rebuilds the tree
  [ "$(cat "$dir.ok" 2>/dev/null)" = "$*" ] && return 0
  step "npm install ($name): $*"
  rm -rf "$dir"
  mkdir -p "$dir"
  printf '{"name":"%s","version":"1.0.0","private":true}\n' "$name" >"$dir/package.json"
  (cd "$dir" && npm install --ignore-scripts --no-audit --no-fund --loglevel=error "$@") \
    >"$CACHE/npm-$name.log" 2>&1 || {
    tail -20 "$CACHE/npm-$name.log" >&2
    exit 1
  }
  echo "$*" >"$dir.ok"
  done_step
}
npm_tree buildtools "${NPM_TOOLS[@]}"
npm_tree app "${NPM_APP[@]}"

# node.oci: the node_modules-heavy image of issue 14's targets (L2 and L3 alone)
build_node() {
  local L=$OUT/node.oci t=$CACHE/layer.tar
  step "node.oci (umoci, gzip layers)"
  rm -rf "$L"
  umoci init --layout "$L"
  umoci new --image "$L:v1"
  layer_tar "$t" "$CACHE/buildtools" opt/buildtools 1
  umoci raw add-layer --image "$L:v1" --history.created_by "npm install ${NPM_TOOLS[*]}" "$t"
  layer_tar "$t" "$CACHE/app" app 1
  umoci raw add-layer --image "$L:v1" --history.created_by "npm install ${NPM_APP[*]}" "$t"
  rm -f "$t"
  umoci gc --layout "$L"
  done_step
}

# ---- L4 source: planted fake secrets (values are fixed by mint.py seeds)
[ -s "$CACHE/id_rsa" ] || ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C bench@example.com -f "$CACHE/id_rsa"
AWS_ID=$(python3 "$HERE/mint.py" aws_id 1)
AWS_SECRET=$(python3 "$HERE/mint.py" aws_secret 1)
GHP=$(python3 "$HERE/mint.py" ghp 1)
SECRETS=$CACHE/secrets
rm -rf "$SECRETS"
mkdir -p "$SECRETS/deploy" "$SECRETS/.git/refs/heads"
printf 'AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\nAWS_REGION=eu-west-1\n' \
  "$AWS_ID" "$AWS_SECRET" >"$SECRETS/.env"
install -m 600 "$CACHE/id_rsa" "$SECRETS/deploy/id_rsa"
printf 'ref: refs/heads/main\n' >"$SECRETS/.git/HEAD"
printf '[core]\n\trepositoryformatversion = 0\n\tbare = false\n[remote "origin"]\n\turl = https://ci:%s@github.com/acme/shop.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n' \
  "$GHP" >"$SECRETS/.git/config"
echo 4b825dc642cb6eb9a060e54bf8d69288fbee4904 >"$SECRETS/.git/refs/heads/main"
WHITEOUT=$CACHE/whiteout
rm -rf "$WHITEOUT"
mkdir -p "$WHITEOUT/deploy"
: >"$WHITEOUT/deploy/.wh.id_rsa"

# ---- layer tarballs
# Paths in a layer carry no "./" (as docker writes them); GNU tar's transform
# must not touch symlink targets (flag S), which are relative paths of their own.
ROOT_EXCL=(-path ./dev/\* -o -path ./proc/\* -o -path ./sys/\* -o -path ./run/\*
  -o -path './var/cache/apt/archives/*.deb' -o -path ./etc/resolv.conf -o -path ./etc/hostname)
# layer_tar OUT.tar SRC PREFIX SCALE: PREFIX "" for the root layer, else a
# directory such as app; SCALE < 1 keeps that hashed fraction of the files,
# SCALE 2 appends a second copy of everything under copy1/.
layer_tar() {
  local tarf=$1 src=$2 prefix=$3 scale=$4 copy frac mode=c xf list=$CACHE/list.tmp
  local root=0
  [ -n "$prefix" ] || root=1
  rm -f "$tarf"
  for copy in 0 1; do
    frac=$scale
    if [ "$scale" = 2 ]; then
      frac=1
      [ "$copy" = 0 ] || prefix=copy1${prefix:+/$prefix}
    elif [ "$copy" = 1 ]; then
      break
    fi
    if [ "$root" = 1 ]; then
      (cd "$src" && find . -mindepth 1 \( "${ROOT_EXCL[@]}" \) -prune -o -print0 |
        LC_ALL=C sort -z | python3 "$HERE/subset.py" "$frac") >"$list"
    else
      (cd "$src" && find . -print0 | LC_ALL=C sort -z | python3 "$HERE/subset.py" "$frac") >"$list"
    fi
    xf="s,^\\./,,S"
    [ -z "$prefix" ] || xf="s,^\\.,$prefix,S"
    tar --format=gnu --numeric-owner -C "$src" --no-recursion --null -T "$list" \
      --transform "$xf" -${mode}f "$tarf"
    mode=r
  done
  rm -f "$list"
}

# build_image LAYOUT SCALE: a gzip OCI layout with the five layers
build_image() {
  local L=$1 scale=$2 t=$CACHE/layer.tar
  rm -rf "$L"
  umoci init --layout "$L"
  umoci new --image "$L:v1"
  layer_tar "$t" "$ROOTFS" "" "$scale"
  umoci raw add-layer --image "$L:v1" \
    --history.created_by "debootstrap --variant=minbase $SUITE && apt-get install ${APT_PKGS[*]}" "$t"
  layer_tar "$t" "$CACHE/buildtools" opt/buildtools "$scale"
  umoci raw add-layer --image "$L:v1" --history.created_by "npm install ${NPM_TOOLS[*]}" "$t"
  layer_tar "$t" "$CACHE/app" app "$scale"
  umoci raw add-layer --image "$L:v1" --history.created_by "npm install ${NPM_APP[*]}" "$t"
  # secrets and whiteout are the same in every size
  layer_tar "$t" "$SECRETS" app 1
  umoci raw add-layer --image "$L:v1" --history.created_by "COPY . /app" "$t"
  layer_tar "$t" "$WHITEOUT" app 1
  umoci raw add-layer --image "$L:v1" --history.created_by "rm /app/deploy/id_rsa" "$t"
  rm -f "$t"
  umoci config --image "$L:v1" --config.env APP_ENV=production \
    --config.env 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --config.workingdir /app --config.cmd node --config.cmd server.js
  umoci gc --layout "$L"
}

if [ "$NODE_ONLY" = 1 ]; then
  build_node
  exit 0
fi
step "full.oci (umoci, gzip layers)"
build_image "$OUT/full.oci" 1
done_step
build_node
step "full-zstd.oci and full.docker.tar (skopeo copy)"
rm -rf "$OUT/full-zstd.oci" "$OUT/full.docker.tar"
skopeo copy -q --dest-compress-format zstd "oci:$OUT/full.oci:v1" "oci:$OUT/full-zstd.oci:v1"
skopeo copy -q "oci:$OUT/full.oci:v1" "docker-archive:$OUT/full.docker.tar:localhost/stw-bench:v1"
done_step

[ "$HUGE" = 0 ] || build_huge
if [ "$SCALE" = 1 ]; then
  for s in 0.25 0.5 2; do
    step "scale-$s.oci"
    build_image "$OUT/scale-$s.oci" "$s"
    done_step
  done
fi


# ---- description
layer_rows() { # LAYOUT
  local m
  m=$(jq -r '.manifests[0].digest' "$1/index.json" | cut -d: -f2)
  jq -r '.layers[] | "\(.size)\t\(.mediaType)\t\(.digest)"' "$1/blobs/sha256/$m"
}
{
  echo "# Benchmark images"
  echo
  echo "Built by bench/make-image.sh on $(date -u +%Y-%m-%d). All secrets are fake."
  echo
  echo "Planted (L4, /app): AWS_ACCESS_KEY_ID=${AWS_ID:0:4}... and its secret key in .env;"
  echo "an RSA private key (PEM) in deploy/id_rsa, deleted by a whiteout in L5;"
  echo "a GitHub token ${GHP:0:4}... (valid CRC32) in the remote URL of .git/config."
  [ "$HUGE" = 0 ] || echo "huge.oci: a GitHub token ghp_... straddles the 1 GiB mark of srv/data/part-01.log."
  for img in full.oci full-zstd.oci node.oci scale-0.25.oci scale-0.5.oci scale-2.oci huge.oci; do
    [ -d "$OUT/$img" ] || continue
    echo
    echo "## $img ($(du -sh "$OUT/$img" | cut -f1))"
    echo
    layer_rows "$OUT/$img" | awk -F'\t' '{printf "- %s, %.1f MB compressed\n", $2, $1/1e6}'
  done
  echo
  echo "## full.docker.tar ($(du -sh "$OUT/full.docker.tar" | cut -f1))"
} >"$OUT/IMAGES.md"
echo "made in $OUT in $(($(date +%s) - T0))s; see $OUT/IMAGES.md" >&2
