#!/usr/bin/env bash
# test_selfscan.sh - stowaway must pass its own scan of itself: a layer
# that resembles the Dockerfile's runtime stage (what `cmake --install`
# puts under /usr/local, a non-root user's home and passwd entry) scanned
# with the default gate. The image itself cannot be built here (no registry
# access for debian:12-slim), so the layer is made from this build.
. "$(dirname "$0")/lib.sh"
cd "$WORKDIR"
BUILD_DIR=$(dirname "$STOWAWAY")
ROOT="$WORKDIR/rootfs"
cmake --install "$BUILD_DIR" --prefix "$ROOT/usr/local" >"$WORKDIR/install.log" 2>&1 ||
    { cat "$WORKDIR/install.log" >&2; fail "cmake --install failed"; }
[ -x "$ROOT/usr/local/bin/stowaway" ] || fail "no installed binary"
mkdir -p "$ROOT/etc" "$ROOT/home/stowaway/.cache"
printf 'root:x:0:0:root:/root:/bin/bash\nstowaway:x:10001:10001::/home/stowaway:/usr/sbin/nologin\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\nstowaway:x:10001:\n' >"$ROOT/etc/group"
tar --numeric-owner --owner=0 --group=0 -C "$ROOT" -cf "$WORKDIR/runtime.tar" etc usr home
run "$WORKDIR/self.json" "$WORKDIR/self.err" scan --no-db --format json "$WORKDIR/runtime.tar"
cj_all "$WORKDIR/self.json" <<'EOF'
schema # bad report
none 'severity~^(high|critical)$' \
    # stowaway's own runtime layer has findings at or above high
EOF
expect_rc 0 "scan of stowaway's own runtime layer"
echo "PASS $TEST_NAME"
