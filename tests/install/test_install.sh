#!/usr/bin/env bash
# test_install.sh - libstowaway as an embedder gets it: `cmake --install`
# into a fresh prefix, then tests/install/embed.c built against that tree
# with nothing but `cc $(pkg-config --cflags --libs stowaway)`, run over
# the demo image; the same program through find_package(stowaway); and the
# shared library exporting the public API only.
# Environment (from tests/CMakeLists.txt): BUILD_DIR, SRCDIR, WORKDIR, CC,
# and EXTRA_CFLAGS (the sanitizer flags when the library was built with
# them: an instrumented library needs its runtime in the program).
set -euo pipefail
: "${BUILD_DIR:?}" "${SRCDIR:?}" "${WORKDIR:?}" "${CC:=cc}"
EXTRA_CFLAGS=${EXTRA_CFLAGS:-}

rm -rf "$WORKDIR"
mkdir -p "$WORKDIR"
prefix=$WORKDIR/prefix
cmake --install "$BUILD_DIR" --prefix "$prefix" >"$WORKDIR/install.log"

pc=$(find "$prefix" -name stowaway.pc)
[ -n "$pc" ] || { echo "no stowaway.pc installed"; exit 1; }
libdir=$(cd "$(dirname "$pc")/.." && pwd)
for h in stowaway.h version.h batch.h db.h; do
    f=include/stowaway/$h
    [ -f "$prefix/$f" ] || { echo "missing $f"; exit 1; }
done
for f in libstowaway.a libstowaway.so cmake/stowaway/stowawayConfig.cmake; do
    [ -e "$libdir/$f" ] || { echo "missing lib/$f"; exit 1; }
done
# No private header may be installed or needed.
extra=$(ls "$prefix/include/stowaway" |
        grep -vxF -e stowaway.h -e version.h -e batch.h -e db.h || true)
if [ -n "$extra" ]; then
    echo "unexpected headers:"; echo "$extra"; exit 1
fi

export PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046,SC2086
"$CC" -std=c11 -Wall -Wextra -Werror $EXTRA_CFLAGS -o "$WORKDIR/embed" \
    "$SRCDIR/tests/install/embed.c" $(pkg-config --cflags --libs stowaway)
LD_LIBRARY_PATH=$libdir "$WORKDIR/embed" "$SRCDIR/fixtures/demo/demo.docker.tar"

# Exported: stw_ names only. Sanitizer builds add their own __asan/__ubsan
# bookkeeping symbols, which are not ours.
bad=$(nm -D --defined-only "$libdir/libstowaway.so" | awk '{print $3}' |
      grep -v -e '^stw_' -e '^__odr_asan' -e '^__asan' -e '^__ubsan' \
              -e '^_init$' -e '^_fini$' || true)
if [ -n "$bad" ]; then
    echo "libstowaway.so exports more than the API:"; echo "$bad" | head -20
    exit 1
fi

# The CMake package: the same program through find_package(stowaway).
cmake -S "$SRCDIR/tests/install/consumer" -B "$WORKDIR/consumer" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$CC" \
    -DCMAKE_C_FLAGS="$EXTRA_CFLAGS" >"$WORKDIR/consumer.log" 2>&1 ||
    { cat "$WORKDIR/consumer.log"; exit 1; }
cmake --build "$WORKDIR/consumer" >>"$WORKDIR/consumer.log" 2>&1 ||
    { cat "$WORKDIR/consumer.log"; exit 1; }
"$WORKDIR/consumer/embed" "$SRCDIR/fixtures/demo/demo.docker.tar"
echo "install: ok"
