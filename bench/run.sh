#!/usr/bin/env bash
# run.sh - the throughput benchmark: stowaway -j1/-j2 against igzip, gzip and
# zstd decompression of the same layers, tar -x and secretlint, plus scaling,
# a cached re-scan and peak RSS. Prints a markdown report and writes it to
# bench/RESULTS.md. See bench/README.md.
#
# Usage: bench/run.sh [options] [STOWAWAY]
#   STOWAWAY, --bin PATH  stowaway binary (default: build-rel/stowaway, built
#                         here as a Release build without tests)
#   --images DIR          images of bench/make-image.sh (default ${TMPDIR:-/tmp}/stw-bench;
#                         generated first when missing, which needs root)
#   --runs N              alternated runs per case, median reported (default 5)
#   --huge                generate huge.oci (10 GB layer) if missing and measure it
#   --no-huge             do not measure huge.oci even when it exists
#   --secretlint-runs N   secretlint runs (default 3: it is slow)
#   --no-secretlint       skip secretlint
#   --skip LIST           comma list of blocks to skip: scaling,rescan,tar,huge,profile,off
#   --note TEXT           a line added to the report (e.g. other load on the machine)
#   --wait-idle S         before each round wait up to S s for other load to stop (default 60)
#   --out FILE            report file (default bench/RESULTS.md; '-' for stdout only)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
usage() {
  sed -n '7,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

BIN="" IMAGES=${TMPDIR:-/tmp}/stw-bench RUNS=5 HUGE=auto SL_RUNS=3 SL=1 SKIP="" NOTE="" WAIT=60
OUT=$HERE/RESULTS.md
CACHE=${STW_BENCH_CACHE:-${TMPDIR:-/tmp}/stw-bench-cache}
SECRETLINT_PKGS=(secretlint@13.0.6 @secretlint/secretlint-rule-preset-recommend@13.0.7)
while [ $# -gt 0 ]; do
  case "$1" in
  --bin | --images | --runs | --secretlint-runs | --skip | --note | --out | --wait-idle)
    [ $# -ge 2 ] || usage
    case "$1" in
    --bin) BIN=$2 ;;
    --images) IMAGES=$2 ;;
    --runs) RUNS=$2 ;;
    --secretlint-runs) SL_RUNS=$2 ;;
    --skip) SKIP=$2 ;;
    --note) NOTE=$2 ;;
    --out) OUT=$2 ;;
    --wait-idle) WAIT=$2 ;;
    esac
    shift
    ;;
  --huge) HUGE=1 ;;
  --no-huge) HUGE=0 ;;
  --no-secretlint) SL=0 ;;
  -h | --help) usage ;;
  -*) usage ;;
  *)
    [ -z "$BIN" ] || usage
    BIN=$1
    ;;
  esac
  shift
done

# ---- tools
need=()
for p in igzip:isal gzip:gzip zstd:zstd tar:tar /usr/bin/time:time python3:python3 cmake:cmake; do
  command -v "${p%%:*}" >/dev/null || need+=("${p#*:}")
done
[ "$SL" = 0 ] || command -v npm >/dev/null || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo ">> apt-get install ${need[*]}" >&2
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi

# ---- stowaway: the default is a Release build kept up to date here
if [ -z "$BIN" ]; then
  BIN=$ROOT/build-rel/stowaway
  echo ">> building $BIN (Release, no tests)" >&2
  cmake -S "$ROOT" -B "$ROOT/build-rel" -DCMAKE_BUILD_TYPE=Release -DSTW_TESTS=OFF >/dev/null
  cmake --build "$ROOT/build-rel" -j2 >/dev/null
fi
[ -x "$BIN" ] || {
  echo "run.sh: $BIN is not an executable" >&2
  exit 1
}

# ---- images
gen=()
[ -e "$IMAGES/full.oci/index.json" ] && [ -e "$IMAGES/full.docker.tar" ] &&
  [ -e "$IMAGES/full-zstd.oci/index.json" ] || gen=("$IMAGES")
if [ "$HUGE" = 1 ] && [ ! -e "$IMAGES/huge.oci/index.json" ]; then
  if [ ${#gen[@]} -gt 0 ]; then gen+=(--huge); else gen=("$IMAGES" --huge --huge-only); fi
fi
if [ ${#gen[@]} -gt 0 ]; then
  echo ">> bench/make-image.sh ${gen[*]}" >&2
  "$HERE/make-image.sh" "${gen[@]}"
fi
# the two other images of issue 14's targets: node_modules-heavy, and Java
# with many jars (bench/nested.py's image, built once into $IMAGES/java)
if [ ! -e "$IMAGES/node.oci/index.json" ]; then
  echo ">> bench/make-image.sh $IMAGES --node-only" >&2
  "$HERE/make-image.sh" "$IMAGES" --node-only
fi
if [ ! -e "$IMAGES/java/img/index.json" ]; then
  echo ">> bench/nested.py --build-only --work $IMAGES/java" >&2
  python3 "$HERE/nested.py" --build-only --work "$IMAGES/java"
fi

# ---- secretlint, installed outside the repository
SL_BIN=""
if [ "$SL" = 1 ]; then
  SL_DIR=$CACHE/secretlint
  SL_BIN=$SL_DIR/node_modules/.bin/secretlint
  if [ "$(cat "$SL_DIR/.ok" 2>/dev/null)" != "${SECRETLINT_PKGS[*]}" ]; then
    echo ">> npm install ${SECRETLINT_PKGS[*]} (in $SL_DIR)" >&2
    rm -rf "$SL_DIR"
    mkdir -p "$SL_DIR"
    echo '{"name":"stw-bench-secretlint","version":"1.0.0","private":true}' >"$SL_DIR/package.json"
    (cd "$SL_DIR" && npm install --no-audit --no-fund --loglevel=error "${SECRETLINT_PKGS[@]}") >&2
    echo "${SECRETLINT_PKGS[*]}" >"$SL_DIR/.ok"
  fi
fi

# ---- scratch space for tar -x and databases: tmpfs when it has room
SCRATCH_BASE=${TMPDIR:-/tmp}
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
  [ "$(df -P -k /dev/shm | awk 'NR==2{print int($4/1048576)}')" -ge 8 ]; then
  SCRATCH_BASE=/dev/shm
fi
SCRATCH=$(mktemp -d "$SCRATCH_BASE/stw-bench-run.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT

[ "$HUGE" != 0 ] || SKIP=${SKIP:+$SKIP,}huge
# measure a private copy: a rebuild of the binary during the run (the build
# directory may be shared) must not change or remove what is being measured
cp "$BIN" "$SCRATCH/stowaway"
args=(--bin "$SCRATCH/stowaway" --bin-origin "$BIN" --images "$IMAGES" --runs "$RUNS" --scratch "$SCRATCH" --skip "$SKIP"
  --secretlint "$SL_BIN" --secretlint-runs "$SL_RUNS" --note "$NOTE" --wait-idle "$WAIT"
  --extra "node.oci=$IMAGES/node.oci" --extra "java.oci=$IMAGES/java/img")
[ "$OUT" = - ] || args+=(--out "$OUT")
python3 "$HERE/runbench.py" "${args[@]}"
